#!/usr/bin/env bash
# Runs every test: swift test on SQLite, swift test on a throwaway PostgreSQL, Schemathesis against a
# live server with protocol/openapi.yaml, the Autobahn WebSocket cases (fast subset, kosoku), and the browser
# suite (web-demo in headless Chromium, scripts/test-browser.sh).
# Installs what is missing on a fresh Debian machine (PostgreSQL, openssl, Chromium, Python venv), and stops
# everything it started.
#
#   scripts/test.sh            # everything
#   SKIP_POSTGRES=1 / SKIP_FAULTS=1 / SKIP_SCHEMATHESIS=1 / SKIP_BROWSER=1 scripts/test.sh   (for quick local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib/common.sh

step "Checking system packages"
ensure_packages

step "Building (debug, with tests)"
swift build --build-tests

step "swift test on SQLite"
swift test --skip-build

if [ "${SKIP_POSTGRES:-0}" != "1" ]; then
  step "Starting a throwaway PostgreSQL"
  start_postgres
  step "swift test on PostgreSQL ($PG_URL)"
  # the outage test (a proxy cut in front of PostgreSQL, sub-second bounds) and the two-node test (two live servers,
  # heartbeats, presence grace) depend on timing: they run on their own, not among twenty suites sharing two cores
  TIMED="DatabaseOutageTests|HubClusterTests"
  SOS_TEST_DATABASE_URL="$PG_URL" swift test --skip-build --skip "$TIMED"
  step "Timing-sensitive tests on PostgreSQL, alone: database outage and recovery, two hub nodes"
  SOS_TEST_DATABASE_URL="$PG_URL" swift test --skip-build --filter "$TIMED"
fi

step "Resource attacks against a live server process (memory, half-open requests, slow bodies, handshake floods)"
ensure_venv
"$VENV/bin/python" Tests/e2e/trust/resources.py --server-bin "$ROOT/.build/debug/sos-server"

if [ "${SKIP_FAULTS:-0}" != "1" ]; then
  step "Fault suite, fast subset (scripts/faults.sh --fast): kill -9 on SQLite, a 5 s PostgreSQL outage"
  SERVER_BIN="$ROOT/.build/debug/sos-server" scripts/faults.sh --fast
fi

if [ "${SKIP_SCHEMATHESIS:-0}" != "1" ]; then
  step "Schemathesis against a live server (SQLite)"
  run_schemathesis ""
  step "Autobahn|Testsuite fast subset (kosoku) against the hub's WebSocket configuration"
  SERVER_ENV=(SOS_WS_MAX_MESSAGE_BYTES=16777216)
  start_server ""
  run_autobahn "$(mktemp -d /tmp/sos-autobahn.XXXXXX)/fast" -i '1.*' -i '2.*' -i '3.*' -i '4.*' -i '5.*' -i '6.*' -i '7.*' -i '10.*' -i '12.1.*' -i '13.1.*'
  if [ "${SKIP_POSTGRES:-0}" != "1" ]; then
    step "Schemathesis against a live server (PostgreSQL)"
    run_schemathesis "$PG_URL"
  fi
fi

if [ "${SKIP_BROWSER:-0}" != "1" ]; then
  step "Browser suite: web-demo in headless Chromium (SQLite; chat and booking on PostgreSQL)"
  SERVER_BIN="$ROOT/.build/debug/sos-server" PG_URL="${PG_URL:-}" scripts/test-browser.sh
fi

step "All tests passed"
