#!/usr/bin/env bash
# REST benchmark, side by side with the Node/Express reference (issue 14). One run, one PostgreSQL, the same wrk settings
# (2 threads, 64 connections, ../shared/peers/bench/rest.sh), tokens minted with the servers' shared secret:
#
#   scripts/bench-rest.sh [compare]   # Express (named statements) vs ours on PostgreSQL vs ours on SQLite:
#                                     #   GET /appointments?limit=10 as random patients, GET /doctors?search=…&limit=10
#   scripts/bench-rest.sh growth      # ours with 1,000,000 appointments / 200,000 patients vs the 20,000 set; EXPLAINs
#   scripts/bench-rest.sh storm       # ours: the list endpoints while 50 clients sign in continuously (bcrypt runs)
#
#   DURATION=15 (seconds per measurement, at most 60)   SOS_DB_MAX_CONNECTIONS=10 (the peer's pool is 10)
#
# Data: the peers' seed (200 doctors, 2,000 patients, 20,000 appointments) in database sos_peers, and ours in sos_ours
# of the same server (seed-demo --doctors 200 --patients 2000 --appointments-per-doctor 100). Release build of ours in
# .build-release. Prints one markdown table; the raw JSON lines are kept in $OUT (printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib/common.sh
MODE=${1:-compare}
DURATION=${DURATION:-15}
PEERS=$(cd "$ROOT/../shared/peers" && pwd)
OUT=$(mktemp -d /tmp/sos-bench-rest.XXXXXX)
echo "results in $OUT"

# step: the peers' PostgreSQL has a fixed port; one user of it at a time on this machine
exec 9>/tmp/sos-peers.lock
flock 9
command -v wrk >/dev/null || apt_install wrk
[ -x /tmp/peers/venv/bin/python ] && [ -d /tmp/peers/debroot ] || as_root bash "$PEERS/bench/setup.sh"

# the whole run holds the build lock too: a compiler sharing the 2 cores would distort every figure
exec 8>/tmp/sos-build.lock
flock 8
step "Release build (.build-release)"
swift build -c release --product sos-server --scratch-path "$ROOT/.build-release" 2>&1 | tail -1
BIN="$ROOT/.build-release/release/sos-server"

export JWT_SECRET=${JWT_SECRET:-$(head -c 32 /dev/urandom | base64)}
step "PostgreSQL with the peers' data"
"$PEERS/bench/stop_pg.sh" >/dev/null 2>&1 || true
"$PEERS/bench/start_pg.sh" | tail -2
CLEANUP+=("$PEERS/bench/stop_pg.sh")
PSQL=(/usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p 55432 -U postgres -q -v ON_ERROR_STOP=1)
PG_BASE="postgres://postgres@127.0.0.1:55432"

# Runs our server in the background on $1 (DATABASE_URL, "" for SQLite) with data dir $2; sets OURS_PID and OURS_URL.
start_ours() {
  local port
  port=$(free_port)
  env DATABASE_URL="$1" SOS_DATA_DIR="$2" SOS_PORT="$port" SOS_ENV=development LOG_LEVEL=warning \
    SOS_DB_MAX_CONNECTIONS="${SOS_DB_MAX_CONNECTIONS:-10}" SOS_MAX_CONNECTIONS_PER_ADDRESS=100000 "${OURS_ENV[@]}" \
    "$BIN" serve > "$2/server.log" 2>&1 &
  OURS_PID=$!
  OURS_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do curl -sf "$OURS_URL/ready" >/dev/null && return 0; sleep 0.1; done
  cat "$2/server.log"; echo "our server did not start" >&2; exit 1
}
OURS_ENV=()

# Seeds our schema on $1 (DATABASE_URL or "") in data dir $2 and writes its users file to $3.
seed_ours() {
  mkdir -p "$2"
  env DATABASE_URL="$1" SOS_DATA_DIR="$2" SOS_ENV=development LOG_LEVEL=warning \
    "$BIN" seed-demo --doctors 200 --patients 2000 --appointments-per-doctor 100 | tail -1
  if [ -n "$1" ]; then
    "${PSQL[@]}" -d "${1##*/}" -At -F $'\t' -c "SELECT id, email, role FROM users" > "$3"
  else
    python3 - "$2/sos.sqlite" "$3" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT id, email, role FROM users").fetchall()
open(sys.argv[2], "w").write("".join(f"{i}\t{e}\t{r}\n" for i, e, r in rows))
PY
  fi
}

# One measurement: a 3 s warm-up, then $DURATION s; appends rest.sh's JSON line with a label to $OUT/results.jsonl.
measure() {
  local label=$1 url=$2 pid=$3 users=$4 path=$5
  step "$label: $path ($DURATION s, 64 connections)"
  REST_PATH="$path" TOKEN_AUTH=mint USERS="$users" bash "$PEERS/bench/rest.sh" "$url" 3 "$pid" > /dev/null
  REST_PATH="$path" TOKEN_AUTH=mint USERS="$users" bash "$PEERS/bench/rest.sh" "$url" "$DURATION" "$pid" | tee "$OUT/$label.log" | tail -1 \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); d["label"]=sys.argv[1]; print(json.dumps(d))' "$label" | tee -a "$OUT/results.jsonl"
}

# The doctors whose name, specialisation or bio match a two-word search (the browser sends '+' for the space).
SEARCH="/api/v1/doctors?search=general+practice&limit=10"

compare() {
  step "Our data on the same PostgreSQL (database sos_ours) and on SQLite"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE sos_ours"
  seed_ours "$PG_BASE/sos_ours" "$OUT/pg" "$OUT/users-pg.tsv"
  seed_ours "" "$OUT/sqlite" "$OUT/users-sqlite.tsv"

  local port pid
  port=$(free_port)
  PG_NAMED_STATEMENTS=1 PORT=$port DATABASE_URL="$PG_BASE/sos_peers" bash "$PEERS/node-express/run.sh" > "$OUT/express.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$port/api/v1/appointments" >/dev/null 2>&1 && break; sleep 0.1; done
  measure express-pg "http://127.0.0.1:$port" "$pid" /tmp/peers/users.tsv "/api/v1/appointments?limit=10"
  kill "$pid"; wait "$pid" 2>/dev/null || true

  start_ours "$PG_BASE/sos_ours" "$OUT/pg"
  measure ours-pg "$OURS_URL" "$OURS_PID" "$OUT/users-pg.tsv" "/api/v1/appointments?limit=10"
  measure ours-pg-doctors "$OURS_URL" "$OURS_PID" "$OUT/users-pg.tsv" "$SEARCH"
  kill "$OURS_PID"; wait "$OURS_PID" 2>/dev/null || true

  start_ours "" "$OUT/sqlite"
  measure ours-sqlite "$OURS_URL" "$OURS_PID" "$OUT/users-sqlite.tsv" "/api/v1/appointments?limit=10"
  measure ours-sqlite-doctors "$OURS_URL" "$OURS_PID" "$OUT/users-sqlite.tsv" "$SEARCH"
  kill "$OURS_PID"; wait "$OURS_PID" 2>/dev/null || true

  # step: the search again without its one-second page cache, to show what the cache buys
  OURS_ENV=(SOS_DOCTOR_SEARCH_CACHE_MS=0)
  start_ours "$PG_BASE/sos_ours" "$OUT/pg"
  measure ours-pg-doctors-uncached "$OURS_URL" "$OURS_PID" "$OUT/users-pg.tsv" "$SEARCH"
  kill "$OURS_PID"; wait "$OURS_PID" 2>/dev/null || true
  start_ours "" "$OUT/sqlite"
  measure ours-sqlite-doctors-uncached "$OURS_URL" "$OURS_PID" "$OUT/users-sqlite.tsv" "$SEARCH"
  kill "$OURS_PID"; wait "$OURS_PID" 2>/dev/null || true
  OURS_ENV=()
}

case "$MODE" in
  compare) compare ;;
  growth) source scripts/lib/bench-growth.sh; growth ;;
  storm) source scripts/lib/bench-storm.sh; storm ;;
  *) echo "usage: scripts/bench-rest.sh [compare|growth|storm]" >&2; exit 2 ;;
esac

step "Results (load average $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$OUT/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = {r["label"]: r for r in rows}
print("| run | req/s | p50 ms | p99 ms | errors | server RSS after |")
print("|---|---|---|---|---|---|")
for r in rows:
    errors = sum(r.get("errors", {}).values())
    rss = r.get("server_rss_kb_after")
    print(f"| {r['label']} | {r['rps']:,.0f} | {float(r['p50_ms']):.1f} | {float(r['p99_ms']):.1f} | {errors} | {rss / 1024:.0f} MB |" if rss else
          f"| {r['label']} | {r['rps']:,.0f} | {float(r['p50_ms']):.1f} | {float(r['p99_ms']):.1f} | {errors} | |")
def ratio(a, b, key):
    return float(by[a][key]) / float(by[b][key])
if "express-pg" in by:
    for ours in ("ours-pg", "ours-sqlite"):
        if ours in by:
            print(f"\n{ours} / express-pg: throughput x{ratio(ours, 'express-pg', 'rps'):.2f}, p99 x{ratio(ours, 'express-pg', 'p99_ms'):.2f}")
for db in ("pg", "sqlite"):
    if f"ours-{db}-doctors" in by and f"ours-{db}" in by:
        print(f"ours-{db} doctors search / appointments: throughput x{ratio(f'ours-{db}-doctors', f'ours-{db}', 'rps'):.2f}, "
              f"p99 x{ratio(f'ours-{db}-doctors', f'ours-{db}', 'p99_ms'):.2f}")
PY
