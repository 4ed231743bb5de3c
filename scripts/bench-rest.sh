#!/usr/bin/env bash
# REST benchmark (issue 4): release build, throwaway PostgreSQL, seed-demo --scale 40 (200 doctors, 10,000
# appointments), wrk with 64 connections on loopback against two authenticated endpoints:
#   GET /api/v1/appointments?limit=10   (as a doctor: their 50 appointments, nested patient and doctor)
#   GET /api/v1/doctors?search=derm     (as a patient: listed doctors matching name/specialisation/bio)
# Prints req/s, latency percentiles and the server's RSS. Usage: scripts/bench-rest.sh [duration_seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib/common.sh
DURATION=${1:-20}
command -v wrk >/dev/null || apt_install wrk
ensure_packages

step "Release build"
swift build -c release --product sos-server 2>&1 | tail -1
BIN="$ROOT/.build/release/sos-server"

step "PostgreSQL and demo data"
start_postgres
DATA=$(mktemp -d /tmp/sos-bench.XXXXXX)
CLEANUP+=("rm -rf $DATA")
export DATABASE_URL="$PG_URL" SOS_DATA_DIR="$DATA" SOS_ENV=development JWT_SECRET="bench-secret-0123456789-0123456789-abcdef" LOG_LEVEL=warning
# step: every wrk connection comes from 127.0.0.1: the per-address connection cap is raised for the benchmark
export SOS_MAX_CONNECTIONS_PER_ADDRESS=100000
/usr/bin/time -f "seed-demo: %e s" "$BIN" seed-demo --scale 40

step "Server"
PORT=$(free_port)
SOS_PORT=$PORT SOS_LOGIN_ATTEMPTS_PER_MINUTE=100000 SOS_DB_MAX_CONNECTIONS=${SOS_DB_MAX_CONNECTIONS:-16} "$BIN" serve > "$DATA/server.log" 2>&1 &
PID=$!
CLEANUP+=("kill $PID")
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.1; done
login() {
  curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/auth/email/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
DOCTOR=$(login doctor1@demo.sos 'Demo1234!')
PATIENT=$(login patient1@demo.sos 'Demo1234!')
cat > "$DATA/auth.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
LUA
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$PID/status"; }
echo "idle RSS: $(rss)"
echo "check: $(curl -s "http://127.0.0.1:$PORT/api/v1/appointments?limit=10" -H "Authorization: Bearer $DOCTOR" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["appointments"]), "appointments of", d["pagination"]["total"])')"
echo "check: $(curl -s "http://127.0.0.1:$PORT/api/v1/doctors?search=derm" -H "Authorization: Bearer $PATIENT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["doctors"]), "doctors of", d["pagination"]["total"])')"

bench() {
  local name=$1 token=$2 path=$3
  step "$name ($DURATION s, 64 connections)"
  TOKEN=$token wrk -t2 -c64 -d2s -s "$DATA/auth.lua" "http://127.0.0.1:$PORT$path" > /dev/null  # warm-up
  TOKEN=$token wrk -t2 -c64 -d"${DURATION}s" --latency -s "$DATA/auth.lua" "http://127.0.0.1:$PORT$path"
  echo "server RSS after: $(rss)"
}
bench "GET /api/v1/appointments?limit=10 (doctor)" "$DOCTOR" "/api/v1/appointments?limit=10"
bench "GET /api/v1/doctors?search=derm (patient)" "$PATIENT" "/api/v1/doctors?search=derm"
