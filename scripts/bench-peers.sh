#!/usr/bin/env bash
# Side by side with the Express peer (../shared/peers, see its README): both servers on one PostgreSQL 15 (the
# peers' start_pg.sh on 127.0.0.1:55432, durable defaults), with the same JWT secret, the same load tool
# (../shared/peers/bench/ws_load.js) and the same command lines, one after the other in the same run. Our server is
# the release build; its users for ws_load.js are doctors (doctor ↔ doctor chat is allowed; the care-relationship
# rule is not touched). Every result line carries /proc/loadavg at its start.
#   scripts/bench-peers.sh [scenario ...]     scenarios: fanout chat sweep throughput dashboards idle (default: all)
# Holds /tmp/sos-peers.lock for the whole run (the fixed port 55432 is shared with other users of the peers).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib/common.sh
PEERS=$(cd "$ROOT/../shared/peers" && pwd)
SCENARIOS=${*:-fanout chat sweep throughput dashboards idle}
ulimit -n "$(ulimit -Hn)"
SCRATCH=${SCRATCH:-.build}
OUT=${OUT:-$(mktemp -d /tmp/sos-bench-peers.XXXXXX)}
RESULTS="$OUT/results.jsonl"
echo "results in $RESULTS"

step "Release builds (server, load tool)"
swift build -c release --product sos-server --scratch-path "$SCRATCH" 2>&1 | tail -1
swift build -c release --package-path Benchmarks/ws-load 2>&1 | tail -1
BIN="$(cd "$SCRATCH" && pwd)/release/sos-server"
LOAD="$ROOT/Benchmarks/ws-load/.build/release/ws-load"

step "PostgreSQL 15 with the peers' data, and a database of our own next to it"
exec 9>/tmp/sos-peers.lock
flock 9
export PGPORT=55432 DOCTORS=${DOCTORS:-1000} PATIENTS=${PATIENTS:-4000} APPOINTMENTS=${APPOINTMENTS:-50000}
"$PEERS/bench/start_pg.sh" | tail -2
CLEANUP+=("$PEERS/bench/stop_pg.sh")
PSQL=(psql -h 127.0.0.1 -p 55432 -U postgres -qAt)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE sos_hub"
export JWT_SECRET
JWT_SECRET=$(head -c 32 /dev/urandom | base64)
PEER_DB=postgres://postgres@127.0.0.1:55432/sos_peers
OUR_DB=postgres://postgres@127.0.0.1:55432/sos_hub
DATA=$(mktemp -d /tmp/sos-bench-peers-data.XXXXXX)
CLEANUP+=("rm -rf $DATA")
# step: seed-demo --scale 200 = 1,000 doctors, 4,000 patients, 50,000 appointments (the peer gets the same sizes)
DATABASE_URL=$OUR_DB SOS_DATA_DIR=$DATA SOS_ENV=development LOG_LEVEL=warning "$BIN" seed-demo --scale "${SCALE:-200}" | tail -1
"${PSQL[@]}" -d sos_hub -F $'\t' -c "SELECT id, email, role FROM users WHERE role = 'doctor' ORDER BY email" > "$OUT/our-doctors.tsv"
"${PSQL[@]}" -d sos_hub -F ' ' -c "SELECT id, role FROM users WHERE role = 'admin'" > "$OUT/our-admins.txt"
"${PSQL[@]}" -d sos_hub -F ' ' -c "SELECT id, role FROM users WHERE role = 'doctor' ORDER BY email" \
  | awk 'NR % 2 == 1 { a = $1 } NR % 2 == 0 { print a, $1 }' > "$OUT/our-doctor-pairs.txt"
APPOINTMENT=$("${PSQL[@]}" -d sos_hub -c "SELECT id FROM appointments WHERE status <> 'cancelled' LIMIT 1")
awk -F '\t' '$3 == "doctor"' /tmp/peers/users.tsv > "$OUT/peer-doctors.tsv"
echo "ours: $(wc -l < "$OUT/our-doctors.tsv") doctors; peer: $(wc -l < "$OUT/peer-doctors.tsv") doctors"

PEER_PORT=3001
OUR_PORT=$(free_port)
start_peer() {
  DATABASE_URL=$PEER_DB PG_NAMED_STATEMENTS=1 PORT=$PEER_PORT "$PEERS/node-express/run.sh" > "$OUT/peer.log" 2>&1 &
  PID=$!
  CLEANUP+=("kill $PID 2>/dev/null")
  for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$PEER_PORT/api/v1/appointments" >/dev/null 2>&1 && break; sleep 0.1; done
  URL="ws://127.0.0.1:$PEER_PORT/api/v1/ws"
  USERS="$OUT/peer-doctors.tsv"
}
start_ours() {
  # step: every load-tool socket comes from 127.0.0.1, so the connection caps are raised (a deployment would not)
  DATABASE_URL=$OUR_DB SOS_DATA_DIR=$DATA SOS_ENV=development LOG_LEVEL=warning SOS_PORT=$OUR_PORT SOS_DB_MAX_CONNECTIONS=16 \
    SOS_MAX_CONNECTIONS=1000000 SOS_MAX_CONNECTIONS_PER_ADDRESS=1000000 SOS_MAX_PENDING_WEBSOCKETS=1000000 \
    "$BIN" serve > "$OUT/ours.log" 2>&1 &
  PID=$!
  CLEANUP+=("kill $PID 2>/dev/null")
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$OUR_PORT/ready" >/dev/null && break; sleep 0.1; done
  URL="ws://127.0.0.1:$OUR_PORT/api/v1/ws"
  USERS="$OUT/our-doctors.tsv"
}
stop_server() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; sleep 1; }
# $1 peer|ours, $2 test name, rest: ws_load.js arguments; appends {"peer","test","loadavg","result"} to $RESULTS
ws_load() {
  local who=$1 test=$2 load result
  shift 2
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  result=$(node "$PEERS/bench/ws_load.js" --url "$URL" --pid "$PID" --users "$USERS" "$@" 2> >(grep -v "^\[ws_load" >&2) | tail -1)
  echo "{\"peer\":\"$who\",\"test\":\"$test\",\"loadavg\":\"$load\",\"result\":$result}" >> "$RESULTS"
  python3 - "$who" "$test" "$load" "$result" <<'PY'
import json, sys
who, test, load, r = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
f = r.get("fanout_complete_ms") or {}
print(f"[{who} {test}] load {load}: open {r['connections_open']}/{r['connections_planned']}, sent {r['sent']}, acked {r['acked']}, "
      f"delivered {r['delivered']}/{r['expected_deliveries']}, deliver p50 {r['deliver_ms'].get('p50')} p99 {r['deliver_ms'].get('p99')} ms, "
      f"ack p99 {r['ack_ms'].get('p99')} ms" + (f", last receiver p50 {f.get('p50')} p99 {f.get('p99')} ms" if f else "") +
      f", RSS/idle conn {r.get('rss_kb_per_idle_conn')} kB, errors {json.dumps(r['errors'])}")
PY
}
both() { # $1 test name, rest: ws_load.js arguments — the peer, then ours, each freshly started
  local test=$1
  shift
  start_peer; ws_load peer "$test" "$@"; stop_server
  start_ours; ws_load ours "$test" "$@"; stop_server
}

for scenario in $SCENARIOS; do
  case $scenario in
    fanout)
      step "Fan-out: one message to 1,000 and to 10,000 connections of one user"
      both fanout-1000 --mode fanout --receivers 1000 --rate 5 --duration 15
      both fanout-10000 --mode fanout --receivers 10000 --rate 5 --duration 15
      ;;
    chat)
      step "Chat: 500 pairs at 3,000 messages/s"
      both chat-3000 --conns 1000 --rate 3000 --duration 15
      ;;
    sweep)
      step "Stored messages: the peer's highest rate with deliver p99 under 100 ms, and ours at those rates and above"
      for rate in ${SWEEP_RATES:-1000 2000 3000 4000 6000}; do both "pairs-$rate" --conns 1000 --rate "$rate" --duration 15; done
      for rate in ${OUR_RATES:-8000 12000 16000}; do start_ours; ws_load ours "pairs-$rate" --conns 1000 --rate "$rate" --duration 15; stop_server; done
      ;;
    throughput)
      step "Ours: stored messages per second, pipelined (acks after commit; our load tool, 500 doctor pairs, 16 in flight each)"
      start_ours
      before=$("${PSQL[@]}" -d sos_hub -c "SELECT count(*) FROM chat_messages")
      load=$(cut -d' ' -f1-3 /proc/loadavg)
      "$LOAD" throughput --url "$URL" --secret "$JWT_SECRET" --pairs "$OUT/our-doctor-pairs.txt" --count 500 --window 16 --duration 20 --threads 1 \
        | sed "s/^/[ours throughput, load $load] /"
      echo "rows in chat_messages: $before -> $("${PSQL[@]}" -d sos_hub -c "SELECT count(*) FROM chat_messages")"
      stop_server
      ;;
    dashboards)
      step "Ours: an appointment update from the REST call to 1,000 and 10,000 dashboards"
      start_ours
      for dashboards in 1000 10000; do
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        "$LOAD" fanout --url "$URL" --secret "$JWT_SECRET" --users "$OUT/our-admins.txt" --appointment "$APPOINTMENT" --count $dashboards \
          --updates 20 --threads 1 --sources 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 | sed "s/^/[ours $dashboards dashboards, load $load] /"
      done
      stop_server
      ;;
    idle)
      step "Idle authenticated sockets: ours with permessage-deflate offered (the peer does not negotiate it)"
      start_ours; ws_load ours idle-deflate-10000 --mode fanout --receivers 10000 --rate 1 --duration 2 --deflate true; stop_server
      ;;
  esac
done
step "Summary"
python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("| test | server | load avg | open | delivered | deliver p50 / p99 ms | last receiver p99 ms | ack p99 ms | RSS kB/idle conn |")
print("|---|---|---|---|---|---|---|---|---|")
for row in rows:
    r = row["result"]; f = r.get("fanout_complete_ms") or {}
    print(f"| {row['test']} | {row['peer']} | {row['loadavg']} | {r['connections_open']} | {r['delivered']}/{r['expected_deliveries']} | "
          f"{r['deliver_ms'].get('p50')} / {r['deliver_ms'].get('p99')} | {f.get('p99', '—')} | {r['ack_ms'].get('p99')} | {r.get('rss_kb_per_idle_conn')} |")
PY
