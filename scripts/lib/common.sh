# Shared helpers for scripts/*.sh: package installation, a throwaway PostgreSQL, the Python venv,
# and a live server for end-to-end checks. Everything started is stopped by the EXIT trap.

CLEANUP=()
cleanup() {
  local i
  for ((i=${#CLEANUP[@]}-1; i>=0; i--)); do eval "${CLEANUP[$i]}" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = "0" ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = "0" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

# Installs PostgreSQL, openssl and Python's venv module when missing.
ensure_packages() {
  local missing=()
  [ -n "$(pg_bin)" ] || missing+=(postgresql)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# A virtual environment with the Python test tools (requirements pinned in Tests/e2e/requirements.txt).
ensure_venv() {
  VENV="$ROOT/.venv"
  if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
  if ! "$VENV/bin/python" -c 'import schemathesis, selenium, websockets, kosoku' 2>/dev/null; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/Tests/e2e/requirements.txt"
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Starts PostgreSQL in a temporary directory on loopback as an unprivileged user; sets PG_URL.
start_postgres() {
  local bin dir port runner=()
  bin=$(pg_bin)
  dir=$(mktemp -d /tmp/sos-pg.XXXXXX)
  port=$(free_port)
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
    chown postgres "$dir"
    runner=(runuser -u postgres --)
  fi
  "${runner[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
  "${runner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=500 -c shared_buffers=128MB" start >/dev/null
  CLEANUP+=("${runner[*]} $bin/pg_ctl -D $dir/data -m fast -w stop; rm -rf $dir")
  "${runner[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres sos_test
  PG_URL="postgres://postgres@127.0.0.1:$port/sos_test?sslmode=disable"
  export PG_URL
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

# Starts the debug server on a free port with a fresh data directory; sets SERVER_URL and SERVER_DATA.
# $1: DATABASE_URL ("" for SQLite). Extra environment can be passed in SERVER_ENV (array).
start_server() {
  local port data schema=""
  port=$(free_port)
  data=$(mktemp -d /tmp/sos-server.XXXXXX)
  if [ -n "$1" ]; then
    schema="e2e_$(date +%s%N | tail -c 9)"
    psql "${1%%\?*}" -q -c "CREATE SCHEMA $schema" >/dev/null
  fi
  env SOS_PORT="$port" SOS_DATA_DIR="$data" SOS_ENV=development DATABASE_URL="$1" SOS_DB_SCHEMA="$schema" \
    SOS_BCRYPT_COST=4 SOS_LOGIN_ATTEMPTS_PER_MINUTE=100000 SOS_LOGIN_FAILURES_PER_ACCOUNT=100000 \
    SOS_REGISTRATIONS_PER_HOUR=100000 LOG_LEVEL=warning "${SERVER_ENV[@]}" \
    "${SERVER_BIN:-$ROOT/.build/debug/sos-server}" serve > "$data/server.log" 2>&1 &
  local pid=$!
  CLEANUP+=("kill $pid; wait $pid; rm -rf $data")
  SERVER_URL="http://127.0.0.1:$port"
  SERVER_DATA="$data"
  for _ in $(seq 1 100); do
    if curl -sf "$SERVER_URL/ready" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$data/server.log"; echo "server exited" >&2; return 1; }
    sleep 0.2
  done
  cat "$data/server.log"; echo "server did not become ready" >&2; return 1
}

admin_token() {
  curl -sf -X POST "$SERVER_URL/api/v1/auth/email/login" -H 'Content-Type: application/json' \
    -d '{"email":"admin@test.com","password":"Admin123!"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# Runs Schemathesis against a fresh live server; fails on any 5xx or schema violation.
# /api/v1/auth/logout would revoke the shared token; /api/v1/ws is the WebSocket upgrade (HubTests and kosoku test it).
run_schemathesis() {
  SERVER_ENV=(STRIPE_WEBHOOK_SECRET=whsec_schemathesis)
  # step: OAuth configured (no provider is contacted before a callback with a valid state), so /auth/{provider} answers 200
  for provider in GOOGLE FACEBOOK INSTAGRAM; do
    SERVER_ENV+=("${provider}_CLIENT_ID=schemathesis" "${provider}_CLIENT_SECRET=schemathesis" "${provider}_REDIRECT_URI=http://localhost/callback")
  done
  start_server "$1"
  local token
  token=$(admin_token)
  # step: one worker: with two, Hypothesis's lambda-source parsing raced in CPython 3.11's ast module
  # ("AST constructor recursion depth mismatch") and failed a run at random; one worker takes about a minute
  "$VENV/bin/schemathesis" --config-file "$ROOT/Tests/e2e/schemathesis.toml" run "$ROOT/protocol/openapi.yaml" --url "$SERVER_URL" \
    --header "Authorization: Bearer $token" \
    --exclude-path /api/v1/auth/logout --exclude-path /api/v1/ws \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" --seed "${SCHEMATHESIS_SEED:-1}" --no-color \
    --checks all --workers 1 \
    || { echo "--- server log ---"; tail -50 "$SERVER_DATA/server.log"; return 1; }
  if grep -q "Unhandled error" "$SERVER_DATA/server.log"; then
    grep "Unhandled error" "$SERVER_DATA/server.log" | head; echo "the server logged unhandled errors" >&2; return 1
  fi
}

# Runs Autobahn|Testsuite cases with kosoku against the development echo route, which has exactly the hub's
# WebSocket configuration (permessage-deflate settings, UTF-8 validation, frame limits) with the message limit
# raised to 16 MiB, since section 9 echoes messages of up to 16 MiB. Fails on any FAILED or ERROR case.
# $1: report directory; the rest: kosoku -i/-x arguments. Needs a server from start_server (SERVER_URL).
run_autobahn() {
  local out=$1
  shift
  rm -rf "$out"
  (cd "$(dirname "$out")" && "$VENV/bin/kosoku" -m fuzzingclient "${SERVER_URL/http/ws}/api/v1/dev/ws-echo" "$@" -p 2 -o "$out") | tail -3 || true
  python3 - "$out/index.json" <<'PY'
import collections, json, sys
cases = next(iter(json.load(open(sys.argv[1])).values()))
counts = collections.Counter(v["behavior"] for v in cases.values())
bad = sorted(k for k, v in cases.items() if v["behavior"] in ("FAILED", "ERROR") or v.get("behaviorClose") in ("FAILED", "ERROR"))
print(f"Autobahn: {len(cases)} cases: " + ", ".join(f"{n} {b}" for b, n in sorted(counts.items())))
if bad:
    print("FAILED cases: " + " ".join(bad))
    sys.exit(1)
PY
}
