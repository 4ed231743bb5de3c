#!/usr/bin/env bash
# WebSocket protocol conformance: the Autobahn|Testsuite cases (PyPI `kosoku`) against /api/v1/dev/ws-echo,
# a development-only echo route with the hub's WebSocket configuration.
#   scripts/autobahn.sh fast   sections 1-7 and 10, plus 12.1 and 13.1 (compression); part of scripts/test.sh
#   scripts/autobahn.sh full   sections 1-7, 9, 10, 12 and 13 on a release build; rewrites the table in
#                              protocol/autobahn-results.md from the run's reports
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib/common.sh
MODE=${1:-fast}
ensure_packages
ensure_venv
SERVER_ENV=(SOS_WS_MAX_MESSAGE_BYTES=16777216)
REPORTS=$(mktemp -d /tmp/sos-autobahn.XXXXXX)
CLEANUP+=("rm -rf $REPORTS")
if [ "$MODE" = full ]; then
  step "Release build"
  SCRATCH=${SCRATCH:-.build}  # step: e.g. SCRATCH=.build-release keeps release builds apart from the debug folder
  swift build -c release --product sos-server --scratch-path "$SCRATCH" 2>&1 | tail -1
  SERVER_BIN="$(cd "$SCRATCH" && pwd)/release/sos-server" start_server ""
  step "Autobahn sections 1-7, 9, 10, 12, 13"
  run_autobahn "$REPORTS/full" -i '1.*' -i '2.*' -i '3.*' -i '4.*' -i '5.*' -i '6.*' -i '7.*' -i '9.*' -i '10.*' -i '12.*' -i '13.*'
  python3 scripts/lib/autobahn_summary.py "$REPORTS/full/index.json" > protocol/autobahn-results.md
  echo "wrote protocol/autobahn-results.md"
else
  [ -x "$ROOT/.build/debug/sos-server" ] || swift build --product sos-server
  start_server ""
  step "Autobahn fast subset"
  run_autobahn "$REPORTS/fast" -i '1.*' -i '2.*' -i '3.*' -i '4.*' -i '5.*' -i '6.*' -i '7.*' -i '10.*' -i '12.1.*' -i '13.1.*'
fi
