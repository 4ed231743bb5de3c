#!/usr/bin/env bash
# Runs every test: swift test on SQLite, swift test on a throwaway PostgreSQL, Schemathesis against a
# live server with protocol/openapi.yaml, and the Autobahn WebSocket cases (fast subset, kosoku).
# Installs what is missing on a fresh Debian machine (PostgreSQL, openssl, Python venv), and stops everything it started.
#
#   scripts/test.sh            # everything
#   SKIP_POSTGRES=1 scripts/test.sh   SKIP_SCHEMATHESIS=1 scripts/test.sh   (for quick local runs)
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
  SOS_TEST_DATABASE_URL="$PG_URL" swift test --skip-build
fi

if [ "${SKIP_SCHEMATHESIS:-0}" != "1" ]; then
  step "Schemathesis against a live server (SQLite)"
  ensure_venv
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

step "All tests passed"
