#!/usr/bin/env bash
# The fault suite (issue 12): each scenario starts what it needs on loopback (server processes, a throwaway
# PostgreSQL), injects the fault, checks the invariant, prints PASS/FAIL lines and a count, and cleans up.
#
#   scripts/faults.sh            # the full suite (a few minutes)
#   scripts/faults.sh --fast     # the subset the test command runs (about a minute)
#
# Scenarios:
#   kill9.py      kill -9 under chat, booking and payment load, restart on the same data (SQLite, PostgreSQL):
#                 every acknowledged message/booking/payment stored, retries with their keys create no duplicates,
#                 no overlapping bookings
#   pg_outage.py  PostgreSQL stopped under load: 503 + Retry-After within the acquire bound, /ready 503, /health
#                 200, the hub answers `unavailable`, recovery without a restart, nothing acknowledged lost; then a
#                 PostgreSQL restart under two nodes: cross-node delivery resumes by itself
#   pg_restarts.py  PostgreSQL restarted again and again (fast and immediate, down 0-3 s) under two nodes:
#                 after each, cross-node delivery resumes both ways
#   node_loss.py  one of two nodes killed: its clients reconnect to the other, get resume_gap, refetch, chat goes on;
#                 presence converges (the one who came back never shown offline, the one who did not within bounds)
#   slow_consumers.py  1,000 dashboards of which every 10th stops reading under a stream of updates: those closed
#                 with 4008, the others get every update with their latency, RSS bounded, descriptors back
#   hostile.py    slowloris on the WebSocket handshake and on the auth frame, a permessage-deflate bomb, oversized
#                 bodies and uploads, and a fuzzer on the hub's frame decoder (mutated frames from the protocol's
#                 examples): only documented answers, no 5xx, no crash, descriptors back where they were
# Outside this script (long, on a release build): the 30-minute soak, Tests/e2e/faults/soak.py (see
# Benchmarks/faults.md), and slow consumers at 10,000 sockets on a release build, scripts/bench-ws.sh 10000 slow.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib/common.sh

FAST=0
[ "${1:-}" = "--fast" ] && FAST=1
BIN=${SERVER_BIN:-$ROOT/.build/debug/sos-server}
[ -x "$BIN" ] || { step "Building the server (debug)"; swift build --product sos-server; }
ensure_venv
PY="$VENV/bin/python"

if [ "$FAST" = 1 ]; then
  step "Faults (fast): kill -9 under load on SQLite"
  "$PY" Tests/e2e/faults/kill9.py --server-bin "$BIN" --seconds 6
  step "Faults (fast): PostgreSQL down for 5 s under load, then restarted under two nodes"
  "$PY" Tests/e2e/faults/pg_outage.py --server-bin "$BIN" --outage 5
  step "Faults (fast): PostgreSQL restarted 3 times under two nodes"
  "$PY" Tests/e2e/faults/pg_restarts.py --server-bin "$BIN" --cycles 3
  step "Faults (fast): one of two nodes killed"
  "$PY" Tests/e2e/faults/node_loss.py --server-bin "$BIN"
  step "Faults (fast): 1,000 dashboards, 100 of which stop reading"
  "$PY" Tests/e2e/faults/slow_consumers.py --server-bin "$BIN" --sockets 1000
  step "Faults (fast): hostile clients and 3,000 fuzzed frames"
  "$PY" Tests/e2e/faults/hostile.py --server-bin "$BIN" --cases 3000 --slowloris 200
  exit 0
fi

for seed in 1 2 3; do
  step "kill -9 under load on SQLite (seed $seed)"
  "$PY" Tests/e2e/faults/kill9.py --server-bin "$BIN" --seconds 12 --seed "$seed"
done
for seed in 1 2; do
  step "kill -9 under load on PostgreSQL (seed $seed)"
  "$PY" Tests/e2e/faults/kill9.py --server-bin "$BIN" --postgres --seconds 12 --seed "$seed"
done
step "PostgreSQL down for 30 s under load, then restarted under two nodes"
"$PY" Tests/e2e/faults/pg_outage.py --server-bin "$BIN" --outage 30
step "PostgreSQL restarted 12 times under two nodes"
"$PY" Tests/e2e/faults/pg_restarts.py --server-bin "$BIN" --cycles 12
step "One of two nodes killed (default heartbeat: a dead node is noticed after 45 s)"
"$PY" Tests/e2e/faults/node_loss.py --server-bin "$BIN" --heartbeat 15
step "Slow consumers: 5,000 dashboards, 500 of which stop reading"
"$PY" Tests/e2e/faults/slow_consumers.py --server-bin "$BIN" --sockets 5000
for seed in 1 2 3; do
  step "Hostile clients and 20,000 fuzzed frames (seed $seed)"
  "$PY" Tests/e2e/faults/hostile.py --server-bin "$BIN" --cases 20000 --slowloris 2000 --seed "$seed"
done
step "All fault scenarios passed"
