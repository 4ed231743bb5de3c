#!/usr/bin/env python3
"""SOS burst: many tourists in one city press SOS at the same moment; every request must be matched, without any
double assignment, by on-call doctors who accept every offer they get, as fast as they can (issue 15).

    Benchmarks/sos_burst.py --server-bin .build-release/release/sos-server              # PostgreSQL, two nodes
    Benchmarks/sos_burst.py --server-bin .build-release/release/sos-server --sqlite     # the embedded default

What it does, on loopback, bounded in time:
- starts the server (on PostgreSQL: `--nodes` processes on one throwaway database, doctors and patients spread over
  them) with waves every second, so that requests whose first doctors were taken by other requests move on quickly;
- makes `--doctors` on-call doctors around central Paris (home and video, 25 km coverage), each connected to the hub,
  accepting every `sos.offer` at once (a doctor offered three requests fires three accepts together);
- `--requests` patients, released together by a barrier, each `POST /api/v1/sos` from a point in Paris;
- waits until every request is accepted (or `--timeout` passes), then checks each request through
  `GET /api/v1/sos/:id` as its patient.

Checks: every POST answered 201; every request accepted; exactly one winning accept per request; no doctor holds
two cases (on the requests and in the accept acks); every case has its own appointment, confirmed, with the doctor's
home fee; every losing accept answered `conflict` (never a server error). It prints POST /sos latency and the time
from the POST to the winning accept (p50 / p99 / max).
"""
import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e", "faults"))
import lib  # noqa: E402

from websockets.asyncio.client import connect  # noqa: E402

PARIS = (48.8566, 2.3522)


def jitter(rng, km):
    """A point within about `km` of central Paris."""
    return PARIS[0] + rng.uniform(-km, km) / 111.0, PARIS[1] + rng.uniform(-km, km) / 73.0


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def make_doctor(server, admin, i, rng):
    doctor = lib.make_user(server.base, admin, "doctor", f"Burst Doctor {i}")
    status, body, _ = server.call("POST", "/api/v1/doctors", doctor["token"], {
        "specialisation": "General practice", "supported_languages": ["en", "fr"], "is_listed": True,
        "fees": {"home": 120, "video": 60}, "currency": "EUR"})
    assert status in (200, 201), (status, body)
    latitude, longitude = jitter(rng, 6)
    status, body, _ = server.call("PUT", "/api/v1/doctors/me/on-call", doctor["token"], {
        "on_call": True, "latitude": latitude, "longitude": longitude, "radius_km": 25, "kinds": ["home", "video"]})
    assert status == 200 and body["on_call"], (status, body)
    return doctor


class Doctors:
    """Every doctor's hub socket: accepts each offer at once and records what each accept answered."""

    def __init__(self):
        self.wins = {}  # request id -> [(doctor id, time of the ack)]
        self.refusals = {}  # error code -> count
        self.others = []  # anything that is neither an ack nor an error with a code
        self.offers = 0
        self.ready = 0

    async def run(self, node, doctor, stop):
        async with connect(f"ws://127.0.0.1:{node.port}/api/v1/ws", additional_headers={"Authorization": "Bearer " + doctor["token"]},
                           open_timeout=10, max_size=2 ** 22) as socket:
            ready = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert ready["type"] == "ready", ready
            self.ready += 1
            pending = {}
            calls = 0
            while not stop.is_set():
                try:
                    frame = json.loads(await asyncio.wait_for(socket.recv(), 0.5))
                except asyncio.TimeoutError:
                    continue
                if frame.get("type") == "sos.offer":
                    self.offers += 1
                    calls += 1
                    frame_id = f"a{calls}"
                    pending[frame_id] = frame["data"]["request_id"]
                    await socket.send(json.dumps({"type": "sos.accept", "id": frame_id, "data": {"request_id": frame["data"]["request_id"]}}))
                elif frame.get("id") in pending:
                    request_id = pending.pop(frame["id"])
                    if frame.get("type") == "ack":
                        self.wins.setdefault(request_id, []).append((doctor["id"], time.time()))
                    elif frame.get("type") == "error" and (frame.get("error") or {}).get("code"):
                        code = frame["error"]["code"]
                        self.refusals[code] = self.refusals.get(code, 0) + 1
                    else:
                        self.others.append(frame)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--sqlite", action="store_true", help="the embedded SQLite default (one node)")
    parser.add_argument("--nodes", type=int, default=2, help="server processes on PostgreSQL (default 2)")
    parser.add_argument("--doctors", type=int, default=150)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=60, help="seconds for every request to be accepted")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    nodes_count = 1 if args.sqlite else max(1, args.nodes)

    postgres = None if args.sqlite else lib.Postgres()
    env = {"SOS_DISPATCH_WAVE_SECONDS": "1", "SOS_DISPATCH_SWEEP_SECONDS": "1", "SOS_DISPATCH_VIDEO_AFTER_SECONDS": "120",
           "SOS_DISPATCH_NO_DOCTOR_AFTER_SECONDS": "120", "SOS_WS_RATE_PER_SECOND": "1000", "LOG_LEVEL": "error"}
    first = lib.Server(os.path.abspath(args.server_bin), database_url=postgres.url if postgres else "", extra_env=env, name="burst-1").start()
    nodes = [first] + [lib.Server(os.path.abspath(args.server_bin), database_url=postgres.url, extra_env=env, name=f"burst-{i + 1}").start()
                       for i in range(1, nodes_count)]
    stop = threading.Event()
    doctors_state = Doctors()
    try:
        _, login, _ = first.call("POST", "/api/v1/auth/email/login", body={"email": "admin@test.com", "password": "Admin123!"})
        admin = login["access_token"]
        doctors = [make_doctor(first, admin, i, rng) for i in range(args.doctors)]
        patients = [lib.make_user(first.base, admin, "patient", f"Burst Patient {i}") for i in range(args.requests)]
        print(f"sos burst: {args.requests} requests, {args.doctors} doctors on call around Paris, "
              f"{'SQLite' if args.sqlite else f'PostgreSQL, {nodes_count} node(s)'}", flush=True)

        loop = asyncio.new_event_loop()
        hub_stop = asyncio.Event()

        async def hubs():
            tasks = [asyncio.ensure_future(doctors_state.run(nodes[i % len(nodes)], d, hub_stop)) for i, d in enumerate(doctors)]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.ALL_COMPLETED)
            for task in done:
                if task.exception():
                    print(f"doctor socket failed: {task.exception()!r}", flush=True)

        hub_thread = threading.Thread(target=lambda: loop.run_until_complete(hubs()), daemon=True)
        hub_thread.start()
        deadline = time.time() + 60
        while doctors_state.ready < len(doctors) and time.time() < deadline:
            time.sleep(0.1)
        lib.check("every doctor's socket is authenticated", doctors_state.ready == len(doctors), f"{doctors_state.ready} of {len(doctors)}")
        time.sleep(1.5)  # presence reaches the other node(s)

        barrier = threading.Barrier(len(patients))
        posted = {}  # patient index -> (status, body, started, seconds)

        points = [jitter(rng, 3) for _ in patients]

        def press(i):
            patient = patients[i]
            latitude, longitude = points[i]
            node = nodes[i % len(nodes)]
            body = {"symptoms": ["High fever"], "severity": "moderate", "latitude": latitude, "longitude": longitude,
                    "place": f"Hotel {i}, room {100 + i}", "country": "FR", "language": "en", "kinds": ["home"]}
            barrier.wait(timeout=30)
            started = time.time()
            status, answer, _ = node.call("POST", "/api/v1/sos", patient["token"], body, timeout=30)
            posted[i] = (status, answer, started, time.time() - started)

        threads = [threading.Thread(target=press, args=(i,)) for i in range(len(patients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        created = {i: p for i, p in posted.items() if p[0] == 201}
        lib.check("every POST /sos answered 201", len(created) == len(patients),
                  f"{len(created)} of {len(patients)}; others: {[p[:2] for p in posted.values() if p[0] != 201][:3]}")
        request_of = {i: p[1]["request"]["id"] for i, p in created.items()}
        started_of = {p[1]["request"]["id"]: p[2] for p in created.values()}

        deadline = time.time() + args.timeout
        while len(doctors_state.wins) < len(request_of) and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # late accepts and acks still in flight are answered
        loop.call_soon_threadsafe(hub_stop.set)
        hub_thread.join(timeout=10)

        # every request, as its patient sees it
        seen = {}
        for i, request_id in request_of.items():
            status, body, _ = first.call("GET", f"/api/v1/sos/{request_id}", patients[i]["token"])
            seen[request_id] = body["request"] if status == 200 else None
        accepted = {r: v for r, v in seen.items() if v and v["state"] == "accepted"}
        lib.check("every request is accepted", len(accepted) == len(request_of),
                  f"{len(accepted)} of {len(request_of)}; states: {sorted({v['state'] for v in seen.values() if v})}")
        winners = {r: w for r, w in doctors_state.wins.items()}
        lib.check("exactly one winning accept per request", all(len(w) == 1 for w in winners.values()) and len(winners) == len(request_of),
                  f"{sum(len(w) > 1 for w in winners.values())} requests with several winners; {len(winners)} with one or more")
        by_doctor = {}
        for request_id, request in accepted.items():
            by_doctor.setdefault(request["accepted_doctor_id"], []).append(request_id)
        ack_doctors = [w[0][0] for w in winners.values()]
        lib.check("no doctor holds two cases", all(len(v) == 1 for v in by_doctor.values()) and len(ack_doctors) == len(set(ack_doctors)),
                  f"{len(by_doctor)} doctors hold {len(accepted)} cases; acks went to {len(set(ack_doctors))} distinct doctors of {len(ack_doctors)}")
        lib.check("the doctor on each request is the one whose accept was acknowledged",
                  all(winners.get(r, [("", 0)])[0][0] == v["accepted_doctor_id"] for r, v in accepted.items()))
        appointment_ids = [v["status"].get("appointment_id") for v in accepted.values()]
        appointments_ok = len(set(appointment_ids)) == len(accepted) and None not in appointment_ids
        checked = 0
        for i, request_id in request_of.items():
            request = accepted.get(request_id)
            if not request:
                continue
            status, body, _ = first.call("GET", f"/api/v1/appointments/{request['status']['appointment_id']}", patients[i]["token"])
            appointment = body.get("appointment", body) if status == 200 else {}
            fee = appointment.get("fee") or {}
            if not (status == 200 and appointment.get("status") == "confirmed" and appointment.get("consultation_type") == "home"
                    and fee.get("amount") == 120):
                appointments_ok = False
                print(f"  appointment of {request_id}: {status} {json.dumps(appointment)[:300]}", flush=True)
            checked += 1
        lib.check("every case has its own confirmed home-visit appointment at the doctor's fee", appointments_ok and checked == len(accepted),
                  f"{checked} checked")
        lib.check("every losing accept answered 'conflict', none a server error",
                  set(doctors_state.refusals) <= {"conflict"} and not doctors_state.others,
                  f"refusals {doctors_state.refusals}; other answers {doctors_state.others[:3]}")

        post_ms = [p[3] * 1000 for p in created.values()]
        to_accept = [(w[0][1] - started_of[r]) * 1000 for r, w in winners.items() if r in started_of]
        print(f"POST /sos ({len(post_ms)}, all at once): p50 {statistics.median(post_ms):.1f} ms, p99 {percentile(post_ms, 0.99):.1f} ms, "
              f"max {max(post_ms):.1f} ms", flush=True)
        if to_accept:
            print(f"POST to the winning accept's ack: p50 {statistics.median(to_accept):.1f} ms, p99 {percentile(to_accept, 0.99):.1f} ms, "
                  f"max {max(to_accept):.1f} ms", flush=True)
        print(f"offers sent {doctors_state.offers}, accepts won {sum(len(w) for w in winners.values())}, refused {doctors_state.refusals}", flush=True)
    finally:
        stop.set()
        for node in nodes:
            node.stop()
        if postgres:
            postgres.destroy()
    raise SystemExit(lib.summary())


if __name__ == "__main__":
    main()
