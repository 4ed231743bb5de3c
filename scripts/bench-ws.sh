#!/usr/bin/env bash
# WebSocket hub benchmark (issue 6): release build, throwaway PostgreSQL, seed-demo, then the load tool in
# Benchmarks/ws-load against the hub on loopback:
#   1. idle sockets: server RSS per authenticated socket with permessage-deflate negotiated
#   2. chat between patient/doctor pairs at 500 and 3,000 messages/s: send → deliver and send → ack (stored)
#   3. stored-message throughput: pipelined chat.send, acks after commit
#   4. an appointment update fanned out to 1,000 and 10,000 admin dashboards
#   5. slow consumers: 10,000 dashboards of which every 10th stops reading under a stream of updates: each slow one
#      closed with 4008, the others' latency before, during and after, server RSS and descriptors
#   6. cluster: several server processes on one PostgreSQL (as many as the per-process open-file limit needs for
#      CLUSTER_SOCKETS, default 100,000), the load tool in one process per server; every socket authenticated; one
#      appointment update from node 1 to every dashboard on every node; a chat from node 1 to node 2
# Usage: scripts/bench-ws.sh [max_sockets (default 100000, or what the open-file limit allows)] [scenario ...]
#        scenarios: connections chat throughput fanout slow cluster
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib/common.sh
ensure_packages
# step: as many sockets as the file limit allows (each process needs one descriptor per socket)
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
LIMIT=$(ulimit -n)
MAX=${1:-$(( LIMIT - 1000 < 100000 ? LIMIT - 1000 : 100000 ))}
shift || true
SCENARIOS=${*:-connections chat throughput fanout slow cluster}
echo "open-file limit $LIMIT (hard $(ulimit -Hn)): up to $MAX sockets"
sysctl -qw net.ipv4.ip_local_port_range="1024 65000" 2>/dev/null || true

step "Release builds (server, load tool)"
# step: SCRATCH keeps release builds apart from the debug build folder (e.g. SCRATCH=.build-release)
SCRATCH=${SCRATCH:-.build}
swift build -c release --product sos-server --scratch-path "$SCRATCH" 2>&1 | tail -1
swift build -c release --package-path Benchmarks/ws-load 2>&1 | tail -1
BIN="$(cd "$SCRATCH" && pwd)/release/sos-server"
LOAD="$ROOT/Benchmarks/ws-load/.build/release/ws-load"

step "PostgreSQL and demo data"
start_postgres
DATA=$(mktemp -d /tmp/sos-bench-ws.XXXXXX)
CLEANUP+=("rm -rf $DATA")
SECRET="bench-secret-0123456789-0123456789-abcdef"
export DATABASE_URL="$PG_URL" SOS_DATA_DIR="$DATA" SOS_ENV=development JWT_SECRET="$SECRET" LOG_LEVEL=warning
# step: the load tool opens tens of thousands of sockets from 127.0.0.1; the per-address and total connection caps
# (and the cap on sockets still authenticating) are raised for the benchmark, which a real deployment would not do
export SOS_MAX_CONNECTIONS=1000000 SOS_MAX_CONNECTIONS_PER_ADDRESS=1000000 SOS_MAX_PENDING_WEBSOCKETS=1000000
/usr/bin/time -f "seed-demo: %e s" "$BIN" seed-demo --scale "${SCALE:-100}"
PSQL=(psql "${PG_URL%%\?*}" -qAt -F ' ')
"${PSQL[@]}" -c "SELECT id, role FROM users WHERE role = 'patient' ORDER BY email" > "$DATA/patients.txt"
"${PSQL[@]}" -c "SELECT id, role FROM users WHERE role = 'admin'" > "$DATA/admins.txt"
"${PSQL[@]}" -c "SELECT DISTINCT patient_id, doctor_id FROM appointments WHERE status <> 'cancelled'" > "$DATA/pairs.txt"
APPOINTMENT=$("${PSQL[@]}" -c "SELECT id FROM appointments WHERE status <> 'cancelled' LIMIT 1")
echo "$(wc -l < "$DATA/patients.txt") patients, $(wc -l < "$DATA/pairs.txt") patient/doctor pairs, $(wc -l < "$DATA/admins.txt") admin(s)"

PORT=$(free_port)
start_bench_server() {
  SOS_PORT=$PORT SOS_DB_MAX_CONNECTIONS=16 SOS_WS_RATE_PER_SECOND=${SOS_WS_RATE_PER_SECOND:-100000} "$BIN" serve > "$DATA/server.log" 2>&1 &
  PID=$!
  CLEANUP+=("kill $PID 2>/dev/null")
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.1; done
}
stop_bench_server() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/${1:-$PID}/status"; }
URL="ws://127.0.0.1:$PORT/api/v1/ws"
SOURCES="127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9"

idle_sockets() {
  local count=$1 deflate=$2
  start_bench_server
  # step: warm the allocator and caches with a short burst, then take the idle baseline
  "$LOAD" connections --url "$URL" --secret "$SECRET" --users "$DATA/patients.txt" --count 2000 --deflate "$deflate" --hold 1 --threads 2 > /dev/null
  sleep 3
  local base after
  base=$(rss_kb)
  "$LOAD" connections --url "$URL" --secret "$SECRET" --users "$DATA/patients.txt" --count "$count" --deflate "$deflate" \
    --sources "$SOURCES" --hold 15 --threads 2 --parallel 512 > "$DATA/conn.log" 2>&1 &
  local loader=$!
  while ! grep -q HOLDING "$DATA/conn.log" 2>/dev/null; do
    kill -0 $loader 2>/dev/null || { cat "$DATA/conn.log"; return 1; }
    sleep 1
  done
  sleep 5
  after=$(rss_kb)
  grep -E "connected|HOLDING" "$DATA/conn.log"
  local open
  open=$(awk '/HOLDING/ {print $2}' "$DATA/conn.log")
  echo "RESULT idle sockets=$open deflate=$deflate: server RSS $((base / 1024)) MB idle -> $((after / 1024)) MB = $(( (after - base) * 1024 / (open > 0 ? open : 1) )) bytes per socket"
  wait $loader || true
  grep "still open" "$DATA/conn.log" || true
  stop_bench_server
}

for scenario in $SCENARIOS; do
  case $scenario in
    connections)
      step "Idle authenticated sockets"
      idle_sockets 10000 0
      for count in 1000 10000; do idle_sockets $count 1; done
      [ "$MAX" -gt 10000 ] && idle_sockets "$MAX" 1
      ;;
    chat)
      step "Chat between pairs"
      start_bench_server
      for rate in 500 3000; do
        "$LOAD" chat --url "$URL" --secret "$SECRET" --pairs "$DATA/pairs.txt" --count 500 --rate $rate --duration 20 --threads 1 | sed "s/^/[$rate msg\/s] /"
      done
      echo "server RSS: $(( $(rss_kb) / 1024 )) MB"
      stop_bench_server
      ;;
    throughput)
      step "Stored chat messages per second"
      start_bench_server
      before=$("${PSQL[@]}" -c "SELECT count(*) FROM chat_messages")
      "$LOAD" throughput --url "$URL" --secret "$SECRET" --pairs "$DATA/pairs.txt" --count 400 --window 16 --duration 20 --threads 1
      echo "rows in chat_messages: $before -> $("${PSQL[@]}" -c "SELECT count(*) FROM chat_messages")"
      stop_bench_server
      ;;
    fanout)
      step "Appointment update fanned out to dashboards"
      start_bench_server
      for dashboards in 1000 $(( MAX < 10000 ? MAX : 10000 )); do
        "$LOAD" fanout --url "$URL" --secret "$SECRET" --users "$DATA/admins.txt" --appointment "$APPOINTMENT" --count $dashboards \
          --updates 20 --threads 1 --sources "$SOURCES" | sed "s/^/[$dashboards dashboards] /"
      done
      stop_bench_server
      ;;
    slow)
      step "Slow consumers: ${SLOW_SOCKETS:=10000} dashboards, every 10th stops reading while updates keep coming"
      # step: with the kernel's default send-buffer autotuning (up to 4 MB per socket here), a socket that never reads
      # absorbs thousands of updates in the kernel, and the server's ping timeout (no pong within 30-60 s) closes it
      # before its queue fills: measured, 1,000 of 1,000 closed that way, none with 4008. To measure the 4008 path
      # at scale, the kernel's send buffer is capped at 64 KB for this run (as a host holding many sockets may do)
      # and the queue set to 32 frames, so that it fills within the ping interval at this machine's ~4 updates/s.
      old_wmem=$(cat /proc/sys/net/ipv4/tcp_wmem)
      if sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536" 2>/dev/null; then
        CLEANUP+=("sysctl -qw net.ipv4.tcp_wmem='$old_wmem'")
      else
        echo "cannot cap net.ipv4.tcp_wmem (not root?): slow sockets will mostly be closed by the ping timeout"
      fi
      SOS_WS_QUEUE=${SOS_WS_QUEUE:-32} start_bench_server
      "$LOAD" slow --url "$URL" --secret "$SECRET" --users "$DATA/admins.txt" --appointment "$APPOINTMENT" --count "$SLOW_SOCKETS" \
        --slow-every 10 --note-bytes 2000 --server-pid "$PID" --threads 1 --sources "$SOURCES" | sed "s/^/[slow consumers] /"
      sysctl -qw net.ipv4.tcp_wmem="$old_wmem" 2>/dev/null || true
      stop_bench_server
      ;;
    cluster)
      step "Several nodes on one PostgreSQL: ${CLUSTER_SOCKETS:=100000} sockets over LISTEN/NOTIFY"
      PER_PROCESS=$(( LIMIT - 1000 ))
      NODES=${NODES:-$(( (CLUSTER_SOCKETS + PER_PROCESS - 1) / PER_PROCESS ))}
      [ "$NODES" -lt 2 ] && NODES=2
      PER_NODE=$(( CLUSTER_SOCKETS / NODES ))
      echo "$NODES server processes × $PER_NODE sockets (open-file limit $LIMIT per process), one load process each"
      PORTS=() PIDS=()
      for node in $(seq 1 "$NODES"); do
        port=$(free_port)
        SOS_PORT=$port SOS_DB_MAX_CONNECTIONS=6 SOS_WS_RATE_PER_SECOND=${SOS_WS_RATE_PER_SECOND:-100000} "$BIN" serve > "$DATA/node$node.log" 2>&1 &
        PIDS+=($!) PORTS+=("$port")
        CLEANUP+=("kill $! 2>/dev/null")
      done
      for port in "${PORTS[@]}"; do for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done; done
      sleep 2
      base=0
      for pid in "${PIDS[@]}"; do base=$(( base + $(rss_kb "$pid") )); done
      started=$(date +%s.%N)
      LISTENERS=()
      for node in $(seq 1 "$NODES"); do
        "$LOAD" listen --url "ws://127.0.0.1:${PORTS[$((node - 1))]}/api/v1/ws" --secret "$SECRET" --users "$DATA/admins.txt" --count "$PER_NODE" \
          --sources "$SOURCES" --parallel 256 --threads 1 --hold "${CLUSTER_HOLD:-60}" > "$DATA/listen$node.log" 2>&1 &
        LISTENERS+=($!)
      done
      for node in $(seq 1 "$NODES"); do
        while ! grep -q HOLDING "$DATA/listen$node.log" 2>/dev/null; do
          kill -0 "${LISTENERS[$((node - 1))]}" 2>/dev/null || { cat "$DATA/listen$node.log"; break; }
          sleep 0.5
        done
      done
      connected=$(date +%s.%N)
      open=$(awk '/HOLDING/ {s += $2} END {print s}' "$DATA"/listen*.log)
      sleep 5
      after=0
      for pid in "${PIDS[@]}"; do after=$(( after + $(rss_kb "$pid") )); done
      grep -h "connected:" "$DATA"/listen*.log
      echo "RESULT cluster: $open of $(( PER_NODE * NODES )) sockets authenticated on $NODES nodes in $(printf '%.1f' "$(echo "$connected - $started" | bc)") s" \
        "($(printf '%.0f' "$(echo "$open / ($connected - $started)" | bc -l)") sockets/s); server RSS $((base / 1024)) MB -> $((after / 1024)) MB in total" \
        "= $(( (after - base) * 1024 / (open > 0 ? open : 1) )) bytes per socket; load average $(cut -d' ' -f1-3 /proc/loadavg)"
      # step: one appointment update through node 1 reaches every dashboard on every node; a chat crosses from node 1 to node 2
      "$LOAD" update --url "http://127.0.0.1:${PORTS[0]}/api/v1/ws" --secret "$SECRET" --users "$DATA/admins.txt" --appointment "$APPOINTMENT" \
        --updates 10 --pause 2 | sed "s/^/[cluster update] /"
      "$LOAD" chat --url "ws://127.0.0.1:${PORTS[0]}/api/v1/ws" --url2 "ws://127.0.0.1:${PORTS[1]}/api/v1/ws" --secret "$SECRET" \
        --pairs "$DATA/pairs.txt" --count 50 --rate 200 --duration 5 --threads 1 | sed "s/^/[cluster chat node 1 → node 2] /"
      for listener in "${LISTENERS[@]}"; do wait "$listener" || true; done
      grep -h -E "LISTENED|update →" "$DATA"/listen*.log | sed "s/^/[cluster dashboards] /"
      for pid in "${PIDS[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
      ;;
  esac
done
