# scripts/bench-rest.sh storm: the list endpoints' latency while 50 clients sign in continuously with the sign-in rate
# limits raised, so that bcrypt (cost 11, ~100 ms of CPU per check) really runs. Sourced by scripts/bench-rest.sh.
storm() {
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE sos_ours"
  seed_ours "$PG_BASE/sos_ours" "$OUT/pg" "$OUT/users-pg.tsv"
  OURS_ENV=(SOS_LOGIN_ATTEMPTS_PER_MINUTE=1000000 SOS_LOGIN_FAILURES_PER_ACCOUNT=1000000)
  start_ours "$PG_BASE/sos_ours" "$OUT/pg"
  measure quiet-appointments "$OURS_URL" "$OURS_PID" "$OUT/users-pg.tsv" "/api/v1/appointments?limit=10"
  measure quiet-doctors "$OURS_URL" "$OURS_PID" "$OUT/users-pg.tsv" "$SEARCH"
  cat > "$OUT/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format('{"email":"patient%d@demo.sos","password":"Demo1234!"}', n % 2000 + 1))
end
LUA
  step "Sign-in storm: 50 clients logging in continuously"
  wrk -t1 -c50 -d$((DURATION * 2 + 12))s --timeout 10s -s "$OUT/login.lua" "$OURS_URL/api/v1/auth/email/login" > "$OUT/storm.log" 2>&1 &
  local storm=$!
  sleep 3
  measure storm-appointments "$OURS_URL" "$OURS_PID" "$OUT/users-pg.tsv" "/api/v1/appointments?limit=10"
  measure storm-doctors "$OURS_URL" "$OURS_PID" "$OUT/users-pg.tsv" "$SEARCH"
  wait "$storm" || true
  grep -E "Requests/sec|Non-2xx" "$OUT/storm.log" || true
  kill "$OURS_PID"; wait "$OURS_PID" 2>/dev/null || true
}
