#!/usr/bin/env python3
"""Soak (issue 12): mixed load on a server process for a long time, with the server's vital signs sampled every 10 s.

Load alternates between load phases (60 s) and quiet phases (20 s). During load: REST reads (appointment pages,
doctor search) and writes (appointment notes, chat over REST), chat over the hub between patients and doctors,
presence churn (sockets that connect, query presence and leave) and reconnects. Every 10 s the script samples the
server's RSS and open descriptors (/proc), its database connections (pg_stat_activity) and the p99 of the REST
answers of those 10 s. Afterwards it checks, after the warm-up:

  * RSS stays within +5 % of its level at the end of the warm-up;
  * descriptors and database connections in each quiet phase come back to the warm-up's quiet level;
  * the p99 of each load phase stays within 1.5 x of the load phases in the first 5 minutes after the warm-up;
  * no 5xx, every hub chat message acknowledged.

It writes the samples as CSV and a plot of the four series as SVG next to them.

  python3 Tests/e2e/faults/soak.py --server-bin .build-release/release/sos-server --minutes 30 --out Benchmarks/soak
"""
import argparse
import collections
import http.client
import json
import os
import random
import statistics
import threading
import time
import uuid

from websockets.sync.client import connect

import lib

SAMPLE_SECONDS = 10
LOAD_SECONDS, QUIET_SECONDS = 60, 20


class Keepalive:
    """One keep-alive HTTP connection (as a browser or an integrator holds one); reconnects when the server closed it."""

    def __init__(self, port):
        self.port = port
        self.connection = None

    def call(self, method, path, token, body=None):
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                headers = {"Authorization": "Bearer " + token}
                data = None
                if body is not None:
                    data = json.dumps(body)
                    headers["Content-Type"] = "application/json"
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
                return response.status, raw
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt == 1:
                    raise
        return None, b""


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []  # (time, seconds) of REST answers
        self.errors = []
        self.chat_sent = 0
        self.chat_acked = 0
        self.requests = 0

    def answer(self, started, status, what):
        with self.lock:
            self.requests += 1
            self.latencies.append((started, time.time() - started))
            # every request of the soak is a valid one: anything but a success is a failure (a 401 here once hid
            # expired tokens behind fast answers)
            if status is None or not 200 <= status < 300:
                self.errors.append(f"{what}: {status}")


def clinic(server, doctors, patients):
    _, login, _ = server.call("POST", "/api/v1/auth/email/login", body={"email": "admin@test.com", "password": "Admin123!"})
    admin = login["access_token"]
    docs = [lib.make_user(server.base, admin, "doctor", f"Soak Doctor {i}") for i in range(doctors)]
    for i, doctor in enumerate(docs):
        server.call("POST", "/api/v1/doctors", doctor["token"], {"specialisation": ["Cardiology", "General practice", "Paediatrics"][i % 3],
                                                                 "is_listed": True, "fees": {"video": 50}, "currency": "EUR"})
        for offset in range(2, 6):
            day = lib.future_day(offset)
            server.call("POST", "/api/v1/availabilities", doctor["token"], {"start_date": day, "end_date": day, "start_time": "08:00:00",
                                                                            "end_time": "20:00:00", "consultation_types": ["video"]})
    pats = [lib.make_user(server.base, admin, "patient", f"Soak Patient {i}") for i in range(patients)]
    appointments = []
    for i, patient in enumerate(pats):
        doctor = docs[i % len(docs)]
        hour = 8 + (i // len(docs)) % 12
        status, booked, _ = server.call("POST", "/api/v1/appointments", patient["token"], {
            "doctor_id": doctor["id"], "date": lib.future_day(2 + i % 4), "start_time": f"{hour:02d}:00:00", "end_time": f"{hour:02d}:30:00",
            "consultation_type": "video"})
        if status == 201:
            appointments.append((patient, doctor, booked["appointment"]["id"]))
    return admin, docs, pats, appointments


def rest_worker(server, appointments, loading, stop, ledger, seed, workers):
    rng = random.Random(seed)
    client = Keepalive(server.port)
    # a worker edits only its own appointments: two workers writing the same row at once get 409 from the
    # compare-and-set on its version, which is the server doing its job, not a failure of the soak
    own = appointments[seed::workers]
    while not stop.is_set():
        if not loading.is_set():
            time.sleep(0.2)
            continue
        patient, doctor, _ = rng.choice(appointments)
        choice = rng.random()
        if choice < 0.45:
            what, args = "appointments page", ("GET", "/api/v1/appointments?limit=10", patient["token"])
        elif choice < 0.7:
            what, args = "doctor search", ("GET", "/api/v1/doctors?search=" + rng.choice(["Soak", "Cardio", "Doctor+1", "general"]) + "&limit=10", patient["token"])
        elif choice < 0.85:
            owner, _, appointment = rng.choice(own)
            what, args = "note", ("PUT", f"/api/v1/appointments/{appointment}", owner["token"], {"additional_note": f"soak {rng.random()}"})
        else:
            what, args = "chat over REST", ("POST", "/api/v1/chat/messages", patient["token"],
                                            {"recipient_id": doctor["id"], "content": "soak", "client_msg_id": uuid.uuid4().hex})
        started = time.time()
        try:
            status, _ = client.call(*args)
        except OSError:
            status = None
        ledger.answer(started, status, what)
        time.sleep(0.005)


def hub_worker(server, appointments, loading, stop, ledger, seed):
    """Chat over the hub; every 30 messages the socket is closed and opened again (a reconnect)."""
    rng = random.Random(seed)
    while not stop.is_set():
        if not loading.is_set():
            time.sleep(0.2)
            continue
        patient, doctor, _ = rng.choice(appointments)
        try:
            with connect(f"ws://127.0.0.1:{server.port}/api/v1/ws", additional_headers={"Authorization": "Bearer " + patient["token"]},
                         open_timeout=10) as socket:
                json.loads(socket.recv(timeout=10))  # ready
                for n in range(30):
                    if stop.is_set() or not loading.is_set():
                        break
                    frame_id = f"m{n}"
                    socket.send(json.dumps({"type": "chat.send", "id": frame_id, "data": {"to": doctor["id"], "content": "soak hub",
                                                                                        "client_msg_id": uuid.uuid4().hex}}))
                    with ledger.lock:
                        ledger.chat_sent += 1
                    deadline = time.time() + 15
                    while time.time() < deadline:
                        reply = json.loads(socket.recv(timeout=15))
                        if reply.get("id") == frame_id:
                            if reply.get("type") == "ack":
                                with ledger.lock:
                                    ledger.chat_acked += 1
                            else:
                                with ledger.lock:
                                    ledger.errors.append(f"hub chat: {reply}")
                            break
                    time.sleep(0.05)
        except Exception as error:  # noqa: BLE001 — a failed socket is recorded, the soak goes on
            with ledger.lock:
                ledger.errors.append(f"hub: {error!r}")
            time.sleep(1)


def presence_worker(server, users, loading, stop, ledger, seed):
    """Sockets that come and go: connect, query the presence of a few users, leave."""
    rng = random.Random(seed)
    ids = [u["id"] for u in users]
    while not stop.is_set():
        if not loading.is_set():
            time.sleep(0.2)
            continue
        user = rng.choice(users)
        try:
            with connect(f"ws://127.0.0.1:{server.port}/api/v1/ws", additional_headers={"Authorization": "Bearer " + user["token"]},
                         open_timeout=10) as socket:
                json.loads(socket.recv(timeout=10))
                socket.send(json.dumps({"type": "presence.query", "id": "q", "data": {"user_ids": rng.sample(ids, 5)}}))
                deadline = time.time() + 10
                while time.time() < deadline and json.loads(socket.recv(timeout=10)).get("id") != "q":
                    pass
            time.sleep(rng.uniform(0.05, 0.3))
        except Exception as error:  # noqa: BLE001
            with ledger.lock:
                ledger.errors.append(f"presence: {error!r}")
            time.sleep(1)


def refresher(server, users, stop, ledger):
    """Signs every user in again every 10 minutes, as a client refreshes its short-lived access token (15 min)."""
    while not stop.wait(600):
        for user in users:
            try:
                user["token"], _ = lib.login(server.base, user["email"], "Password1!")
            except (AssertionError, OSError) as error:
                with ledger.lock:
                    ledger.errors.append(f"sign-in again: {error!r}")


def db_connections(postgres):
    if postgres is None:
        return 0
    return int(postgres.query("SELECT count(*) FROM pg_stat_activity WHERE datname = 'sos'"))


def p99(values):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def svg(samples, path, warmup):
    """Four stacked line charts (RSS MB, descriptors, database connections, p99 ms) over minutes, quiet phases shaded."""
    width, height, left, top, gap = 900, 170, 70, 30, 40
    series = [("server RSS (MB)", [s["rss_mb"] for s in samples], "#1f77b4"), ("open descriptors", [s["fds"] for s in samples], "#ff7f0e"),
              ("database connections", [s["db"] for s in samples], "#2ca02c"), ("REST p99 over 10 s (ms)", [s["p99_ms"] for s in samples], "#d62728")]
    total = max(s["t"] for s in samples) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + left + 20}" height="{top + len(series) * (height + gap)}" '
           'font-family="sans-serif" font-size="12">', '<rect width="100%" height="100%" fill="white"/>']
    for index, (title, values, colour) in enumerate(series):
        y0 = top + index * (height + gap)
        high = max(values) * 1.1 or 1
        x = lambda t: left + width * t / total  # noqa: E731
        y = lambda v: y0 + height - height * v / high  # noqa: E731
        for s in samples:
            if not s["loading"]:
                out.append(f'<rect x="{x(s["t"] - SAMPLE_SECONDS):.1f}" y="{y0}" width="{width * SAMPLE_SECONDS / total:.1f}" height="{height}" fill="#eee"/>')
        out.append(f'<line x1="{x(warmup):.1f}" y1="{y0}" x2="{x(warmup):.1f}" y2="{y0 + height}" stroke="#999" stroke-dasharray="4"/>')
        out.append(f'<rect x="{left}" y="{y0}" width="{width}" height="{height}" fill="none" stroke="#333"/>')
        out.append(f'<text x="{left}" y="{y0 - 8}" font-weight="bold">{title}</text>')
        for fraction in (0, 0.5, 1):
            out.append(f'<text x="{left - 6}" y="{y(high * fraction / 1.1) + 4:.1f}" text-anchor="end">{high * fraction / 1.1:.0f}</text>')
        points = " ".join(f"{x(s['t']):.1f},{y(v):.1f}" for s, v in zip(samples, values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for minute in range(0, int(total / 60) + 1, 5):
            out.append(f'<text x="{x(minute * 60):.1f}" y="{y0 + height + 14}" text-anchor="middle">{minute} min</text>')
    out.append("</svg>")
    with open(path, "w") as handle:
        handle.write("\n".join(out))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5, help="minutes of warm-up before the levels are taken")
    parser.add_argument("--sqlite", action="store_true", help="on the embedded SQLite (default: a throwaway PostgreSQL)")
    parser.add_argument("--out", default="/tmp/sos-soak", help="folder for soak.csv and soak.svg")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    postgres = None if args.sqlite else lib.Postgres()
    server = lib.Server(os.path.abspath(args.server_bin), database_url=postgres.url if postgres else "",
                        extra_env={"SOS_WS_RATE_PER_SECOND": "1000", "LOG_LEVEL": "error"}, name="soak").start()
    stop, loading = threading.Event(), threading.Event()
    ledger = Ledger()
    samples = []
    try:
        admin, doctors, patients, appointments = clinic(server, 6, 60)
        workers = [threading.Thread(target=rest_worker, args=(server, appointments, loading, stop, ledger, i, 6), daemon=True) for i in range(6)]
        workers += [threading.Thread(target=hub_worker, args=(server, appointments, loading, stop, ledger, 100 + i), daemon=True) for i in range(3)]
        workers += [threading.Thread(target=presence_worker, args=(server, patients + doctors, loading, stop, ledger, 200 + i), daemon=True)
                    for i in range(2)]
        workers.append(threading.Thread(target=refresher, args=(server, patients + doctors, stop, ledger), daemon=True))
        for worker in workers:
            worker.start()
        started = time.time()
        end = started + args.minutes * 60
        next_sample = started + SAMPLE_SECONDS
        print(f"soak: {args.minutes:g} min ({args.warmup:g} min warm-up), load {LOAD_SECONDS} s / quiet {QUIET_SECONDS} s, "
              f"{'SQLite' if args.sqlite else 'PostgreSQL'}, {len(appointments)} appointments", flush=True)
        while time.time() < end:
            elapsed = time.time() - started
            in_cycle = elapsed % (LOAD_SECONDS + QUIET_SECONDS)
            (loading.set if in_cycle < LOAD_SECONDS else loading.clear)()
            if time.time() >= next_sample:
                window_start = next_sample - SAMPLE_SECONDS
                with ledger.lock:
                    recent = [d for t, d in ledger.latencies if t >= window_start]
                    ledger.latencies = [(t, d) for t, d in ledger.latencies if t >= window_start]
                # step: a sample is of the phase its 10 s window was in (the middle of the window decides)
                middle = (next_sample - started - SAMPLE_SECONDS / 2) % (LOAD_SECONDS + QUIET_SECONDS)
                sample = {"t": round(next_sample - started), "loading": middle < LOAD_SECONDS,
                          "rss_mb": server.rss_kb() / 1024, "fds": server.fds(), "db": db_connections(postgres),
                          "p99_ms": p99(recent) * 1000, "requests": len(recent)}
                samples.append(sample)
                print(f"  {sample['t']:5d} s {'load ' if sample['loading'] else 'quiet'} RSS {sample['rss_mb']:6.1f} MB  fds {sample['fds']:4d}  "
                      f"db {sample['db']:3d}  p99 {sample['p99_ms']:6.1f} ms  ({sample['requests']} requests)", flush=True)
                next_sample += SAMPLE_SECONDS
            time.sleep(0.2)
        stop.set()
        loading.clear()
        for worker in workers:
            worker.join(timeout=30)
    finally:
        stop.set()
        server.stop()
        if postgres:
            postgres.destroy()

    with open(os.path.join(args.out, "soak.csv"), "w") as handle:
        handle.write("seconds,phase,rss_mb,descriptors,db_connections,p99_ms,requests\n")
        for s in samples:
            handle.write(f"{s['t']},{'load' if s['loading'] else 'quiet'},{s['rss_mb']:.1f},{s['fds']},{s['db']},{s['p99_ms']:.1f},{s['requests']}\n")
    warmup = args.warmup * 60
    svg(samples, os.path.join(args.out, "soak.svg"), warmup)

    after = [s for s in samples if s["t"] > warmup]
    reference_rss = max(s["rss_mb"] for s in samples if s["t"] <= warmup)
    lib.check(f"RSS after the warm-up stays within +5 % of the warm-up's peak ({reference_rss:.1f} MB)",
              after and max(s["rss_mb"] for s in after) <= reference_rss * 1.05,
              f"highest {max(s['rss_mb'] for s in after):.1f} MB, last {after[-1]['rss_mb']:.1f} MB" if after else "no samples")
    quiet_warm = [s for s in samples if s["t"] <= warmup and not s["loading"]]
    quiet_after = [s for s in after if not s["loading"]]
    fd_level = max(s["fds"] for s in quiet_warm) if quiet_warm else 0
    db_level = max(s["db"] for s in quiet_warm) if quiet_warm else 0
    # the last sample of each quiet phase (sockets and keep-alive connections had the quiet phase to close)
    ends = [s for i, s in enumerate(quiet_after) if i + 1 == len(quiet_after) or quiet_after[i + 1]["t"] - s["t"] > SAMPLE_SECONDS]
    lib.check(f"descriptors come back to the warm-up's quiet level ({fd_level}) in every quiet phase after it",
              ends and all(s["fds"] <= fd_level + 3 for s in ends), f"quiet-phase ends: {[s['fds'] for s in ends]}")
    lib.check(f"database connections come back to the warm-up's quiet level ({db_level}) in every quiet phase after it",
              ends and all(s["db"] <= db_level + 1 for s in ends), f"quiet-phase ends: {[s['db'] for s in ends]}")
    first = [s["p99_ms"] for s in after if s["loading"] and s["t"] <= warmup + 300 and s["requests"] > 0]
    later = [s["p99_ms"] for s in after if s["loading"] and s["t"] > warmup + 300 and s["requests"] > 0]
    base = statistics.median(first) if first else 0
    # per load phase: the median of its 10-s p99 samples, against the median of the first 5 minutes after the warm-up
    phases, current = [], []
    for s in after:
        if s["t"] <= warmup + 300:
            continue
        if s["loading"] and s["requests"] > 0:
            current.append(s["p99_ms"])
        elif current:
            phases.append(statistics.median(current))
            current = []
    if current:
        phases.append(statistics.median(current))
    lib.check(f"p99 of every load phase stays within 1.5 x of the first 5 minutes after the warm-up ({base:.1f} ms)",
              base > 0 and phases and max(phases) <= 1.5 * base, f"load phases: {[round(p, 1) for p in phases]} ms; all 10-s p99 later: max {max(later or [0]):.1f} ms")
    # REST failures are "what: status" already; a hub failure's text carries an exception or a frame, grouped by its source
    kinds = collections.Counter(error.split(":")[0] if error.startswith("hub") else error for error in ledger.errors)
    lib.check("no 5xx and no failed request", not ledger.errors, f"{len(ledger.errors)}, by kind: {dict(kinds.most_common(10))}; first: {ledger.errors[:3]}")
    lib.check("every chat message sent over the hub was acknowledged", ledger.chat_sent > 0 and ledger.chat_acked == ledger.chat_sent,
              f"sent {ledger.chat_sent}, acknowledged {ledger.chat_acked}")
    print(f"{ledger.requests} REST requests, {ledger.chat_sent} hub chat messages; samples in {args.out}/soak.csv, plot {args.out}/soak.svg", flush=True)
    raise SystemExit(lib.summary())


if __name__ == "__main__":
    main()
