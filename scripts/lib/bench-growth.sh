# scripts/bench-rest.sh growth: the same requests on our schema with 20,000 appointments, then with 1,000,000
# appointments and 200,000 patients (bulk-loaded with SQL beside seed-demo's data), and the EXPLAIN ANALYZE of each hot
# query. The p99 should stay within 1.5x: every list query is index-backed. Sourced by scripts/bench-rest.sh.
growth() {
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE sos_ours"
  seed_ours "$PG_BASE/sos_ours" "$OUT/pg" "$OUT/users-pg.tsv"
  start_ours "$PG_BASE/sos_ours" "$OUT/pg"
  measure small-appointments "$OURS_URL" "$OURS_PID" "$OUT/users-pg.tsv" "/api/v1/appointments?limit=10"
  measure small-doctors "$OURS_URL" "$OURS_PID" "$OUT/users-pg.tsv" "$SEARCH"
  kill "$OURS_PID"; wait "$OURS_PID" 2>/dev/null || true

  step "Bulk load: 198,000 more patients and 980,000 more appointments"
  /usr/bin/time -f "bulk load: %e s" "${PSQL[@]}" -d sos_ours <<'SQL'
INSERT INTO users (id, email, name, password_hash, role, status, phone, profile_picture, is_email_verified, is_phone_verified, created_at, updated_at, version)
SELECT (md5('bulk-patient-' || g))::uuid, 'bulk' || g || '@demo.sos', 'Bulk Patient ' || g, NULL, 'patient', 'active', NULL, NULL, TRUE, FALSE, now(), now(), 1
FROM generate_series(1, 198000) g;
-- every doctor gets 4,900 more appointments, on half-hour slots of days far in the future (no overlap with seed-demo's)
INSERT INTO appointments (id, patient_id, doctor_id, date, start_time, end_time, status, stream_channel_id, consultation_type, symptoms,
    additional_note, visit_location, starts_at, ends_at, created_at, updated_at, booked_by, patient_acceptance, hold_expires_at,
    cancellation_reason, fee_minor, fee_currency, version)
SELECT gen_random_uuid(), (md5('bulk-patient-' || (1 + (d.n * 4900 + s) % 198000)))::uuid, d.id,
    to_char(date '2027-06-01' + (s / 20), 'YYYY-MM-DD'), to_char(time '08:00' + (s % 20) * interval '30 minutes', 'HH24:MI:SS'),
    to_char(time '08:30' + (s % 20) * interval '30 minutes', 'HH24:MI:SS'),
    (ARRAY['pending_payment','payment_completed','confirmed','completed','cancelled'])[1 + s % 5], NULL,
    (ARRAY['home','online','chat','video'])[1 + s % 4], '["fever"]', NULL, NULL,
    timestamptz '2027-06-01 08:00Z' + (s / 20) * interval '1 day' + (s % 20) * interval '30 minutes',
    timestamptz '2027-06-01 08:30Z' + (s / 20) * interval '1 day' + (s % 20) * interval '30 minutes',
    now(), now(), NULL, 'accepted', NULL, NULL, 4500, 'EUR', 1
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users WHERE role = 'doctor') d, generate_series(0, 4899) s;
ANALYZE;
SQL
  "${PSQL[@]}" -d sos_ours -At -c "SELECT count(*) || ' appointments, ' || (SELECT count(*) FROM users WHERE role = 'patient') || ' patients' FROM appointments"
  # step: the big set's tokens are for patients of the bulk load too (10 appointments each or so), as random as before
  "${PSQL[@]}" -d sos_ours -At -F $'\t' -c "SELECT id, email, role FROM users" > "$OUT/users-big.tsv"
  start_ours "$PG_BASE/sos_ours" "$OUT/pg"
  measure big-appointments "$OURS_URL" "$OURS_PID" "$OUT/users-big.tsv" "/api/v1/appointments?limit=10"
  measure big-doctors "$OURS_URL" "$OURS_PID" "$OUT/users-big.tsv" "$SEARCH"
  kill "$OURS_PID"; wait "$OURS_PID" 2>/dev/null || true

  step "EXPLAIN ANALYZE of the queries the server really runs (auto_explain), on the big set"
  # step: the plans come from PostgreSQL's log, for the exact statements our server sends (no copy of the SQL here)
  "${PSQL[@]}" -d postgres -c "ALTER DATABASE sos_ours SET session_preload_libraries = 'auto_explain'" \
    -c "ALTER DATABASE sos_ours SET auto_explain.log_min_duration = 0" -c "ALTER DATABASE sos_ours SET auto_explain.log_analyze = on"
  local log=/tmp/peers-pg-55432/server.log mark token
  mark=$(wc -l < "$log")
  start_ours "$PG_BASE/sos_ours" "$OUT/pg"
  for role in patient doctor; do
    token=$(node -e '
      const { loadUsers, mintToken } = require(process.argv[1] + "/bench/lib");
      const u = loadUsers(process.argv[2]).find((u) => u.role === process.argv[3] && u.email.startsWith(process.argv[3] === "patient" ? "bulk7" : "doctor"));
      console.log(mintToken(u, process.env.JWT_SECRET));' "$PEERS" "$OUT/users-big.tsv" "$role")
    curl -sf "$OURS_URL/api/v1/appointments?limit=10" -H "Authorization: Bearer $token" > /dev/null
    [ "$role" = patient ] && curl -sf "$OURS_URL$SEARCH" -H "Authorization: Bearer $token" > /dev/null
  done
  kill "$OURS_PID"; wait "$OURS_PID" 2>/dev/null || true
  sleep 1
  tail -n +"$((mark + 1))" "$log" | grep -v "^\s*$" | sed -n '/duration: .* plan:/,/^[0-9]\{4\}-/p' | grep -v "FROM users WHERE id\|revoked_tokens\|SELECT 1 AS ok" \
    > "$OUT/explain.txt"
  # step: kept in the project whole (the throwaway server's log goes with it), and shown in short here
  cp "$OUT/explain.txt" "$ROOT/Benchmarks/growth-explain.txt"
  grep -c "plan:" "$OUT/explain.txt" | sed 's/$/ plans captured in Benchmarks\/growth-explain.txt/'
  grep -A1 "Query Text:" "$OUT/explain.txt" | cut -c1-200 | head -40
  "${PSQL[@]}" -d postgres -c "ALTER DATABASE sos_ours RESET ALL"
}
