#!/usr/bin/env bash
# Browser tests of the web client (web-demo/): Selenium + headless Chromium against live servers started by the
# suite itself (Tests/e2e/browser/run.py), on SQLite, then the chat + booking path on PostgreSQL.
# Installs Chromium, its driver and the Python venv when missing (fresh Debian machine).
#
#   scripts/test-browser.sh                    # SQLite suite + PostgreSQL subset (starts a throwaway PostgreSQL)
#   SKIP_POSTGRES=1 scripts/test-browser.sh    # SQLite only;  PG_URL=postgres://… uses that server instead
#   SERVER_BIN=/path/to/sos-server             # default .build/debug/sos-server
#   BROWSER_OUT=/tmp/shots                     # screenshot folder (default: a new /tmp/sos-browser-* folder)
#   BROWSER_ONLY=chat,video_call               # a subset of the scenarios
#
# When it can (root, util-linux unshare), the suite runs in its own network namespace with only a loopback
# interface, so the WebRTC call between the two browsers can only ever use 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib/common.sh

SERVER_BIN=${SERVER_BIN:-$ROOT/.build/debug/sos-server}

if [ "${SOS_BROWSER_INNER:-0}" != "1" ]; then
  step "Checking Chromium, chromedriver and Python"
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  if [ "${SKIP_POSTGRES:-0}" != "1" ] && [ -z "${PG_URL:-}" ] && [ -z "$(pg_bin)" ]; then missing+=(postgresql); fi
  if [ ${#missing[@]} -gt 0 ]; then echo "installing: ${missing[*]}"; apt_install "${missing[@]}"; fi
  ensure_venv
  if ! "$VENV/bin/python" -c 'import selenium' 2>/dev/null; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/Tests/e2e/requirements.txt"
  fi
  [ -x "$SERVER_BIN" ] || { echo "no server binary at $SERVER_BIN (build it, or set SERVER_BIN)" >&2; exit 1; }
  # step: a private network namespace (loopback only) when possible; PG_URL from outside would not be reachable there
  if [ "$(id -u)" = "0" ] && [ -z "${PG_URL:-}" ] && command -v unshare >/dev/null && command -v ip >/dev/null && unshare -n true 2>/dev/null; then
    step "Running the browser suite in a loopback-only network namespace"
    exec env SOS_BROWSER_INNER=1 SERVER_BIN="$SERVER_BIN" unshare -n -- bash "$0" "$@"
  fi
  export SOS_BROWSER_INNER=1
fi

if command -v ip >/dev/null; then ip link set lo up 2>/dev/null || true; fi
VENV="$ROOT/.venv"
args=(--server-bin "$SERVER_BIN")
[ -n "${BROWSER_OUT:-}" ] && args+=(--out "$BROWSER_OUT")
[ -n "${BROWSER_ONLY:-}" ] && args+=(--only "$BROWSER_ONLY")
if [ "${SKIP_POSTGRES:-0}" != "1" ]; then
  if [ -z "${PG_URL:-}" ]; then
    step "Starting a throwaway PostgreSQL"
    start_postgres
  fi
  PSQL="$(pg_bin)/psql"
  command -v psql >/dev/null && PSQL=psql
  args+=(--database-url "$PG_URL" --psql "$PSQL")
fi
step "Browser suite (Selenium, headless Chromium)"
"$VENV/bin/python" "$ROOT/Tests/e2e/browser/run.py" "${args[@]}"
