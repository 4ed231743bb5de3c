#!/usr/bin/env python3
"""PostgreSQL goes away under load, then comes back: bounded answers, no 500, recovery without a restart, nothing
acknowledged lost. Then a PostgreSQL restart that drops every pooled connection and the broker's LISTEN connection,
with two nodes: cross-node delivery resumes by itself.

  * during the outage: REST answers 503 with the error shape and `Retry-After` (never a 500, never a hang: every
    answer within the acquire timeout plus a margin); `/ready` is 503 and `/health` 200; an open WebSocket stays
    open, and a command that needs the database gets an `error` frame with a clear code;
  * after PostgreSQL is back: requests are served again within a few seconds, without restarting the server; every
    booking and message acknowledged before, during and after the outage is stored; the socket open through the
    outage gets a `resume_gap` event (events from other nodes published while the node was not listening are lost
    to it, so it must refetch); background jobs fail their rounds during the outage (counted in /metrics) and run
    cleanly again after it;
  * after a fast restart of PostgreSQL (every connection dropped): a message sent on node A reaches a socket on
    node B again.

  python3 Tests/e2e/faults/pg_outage.py --server-bin .build/debug/sos-server [--outage 30]
"""
import argparse
import json
import threading
import time
import uuid

from websockets.sync.client import connect

import lib

ACQUIRE_MS = 2000


def load(server, token, doctor, patient, stop, ledger):
    """Reads and writes in a loop; records every answer's status and time, and what was acknowledged."""
    slot = 0
    while not stop.is_set():
        for method, path, body in (
            ("GET", "/api/v1/appointments?limit=10", None),
            ("GET", "/api/v1/doctors?limit=10", None),
            ("POST", "/api/v1/chat/messages", {"recipient_id": patient, "content": "hello", "client_msg_id": uuid.uuid4().hex}),
        ):
            started = time.time()
            try:
                status, answer, headers = server.call(method, path, token, body, timeout=30)
            except OSError as error:
                status, answer, headers = None, str(error), {}
            elapsed = time.time() - started
            with ledger["lock"]:
                ledger["answers"].append((started, elapsed, status, headers.get("Retry-After"), answer if status and status >= 500 else None))
                if status == 201 and body:
                    ledger["messages"][body["client_msg_id"]] = answer["message"]["id"]
        slot += 1
        time.sleep(0.02)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--outage", type=float, default=30.0, help="seconds PostgreSQL stays down")
    args = parser.parse_args()

    pg = lib.Postgres()
    env = {"SOS_DB_ACQUIRE_TIMEOUT_MS": str(ACQUIRE_MS), "SOS_OUTBOX_INTERVAL_MS": "1000", "SOS_HOLD_SWEEP_SECONDS": "1"}
    node_a = lib.Server(args.server_bin, pg.url, env, name="node-a").start()
    node_b = None
    try:
        admin, _ = lib.login(node_a.base, "admin@test.com", "Admin123!")
        doctor = lib.make_user(node_a.base, admin, "doctor", "Outage doctor")
        patient = lib.make_user(node_a.base, admin, "doctor", "Outage peer")
        ledger = {"lock": threading.Lock(), "answers": [], "messages": {}}
        stop = threading.Event()
        workers = [threading.Thread(target=load, args=(node_a, doctor["token"], doctor["id"], patient["id"], stop, ledger), daemon=True) for _ in range(4)]
        for worker in workers:
            worker.start()
        socket = connect(f"ws://127.0.0.1:{node_a.port}/api/v1/ws", additional_headers={"Authorization": "Bearer " + doctor["token"]}, open_timeout=5)
        ready = json.loads(socket.recv(timeout=5))
        assert ready["type"] == "ready"
        epoch = ready["data"]["epoch"]
        time.sleep(2)

        failures_before = node_a.metric("sos_background_job_failures_total")
        down_at = time.time()
        pg.stop("immediate")
        time.sleep(min(3.0, args.outage / 2))
        with ledger["lock"]:
            during = [a for a in ledger["answers"] if a[0] > down_at + 0.5]
        status_ready, _, _ = node_a.call("GET", "/ready", timeout=10)
        ready_started = time.time()
        node_a.call("GET", "/ready", timeout=10)
        ready_time = time.time() - ready_started
        status_health, _, _ = node_a.call("GET", "/health", timeout=10)
        lib.check("/ready answers 503 promptly while PostgreSQL is down; /health stays 200",
                  status_ready == 503 and status_health == 200 and ready_time < 1.0,
                  f"/ready {status_ready} in {ready_time * 1000:.0f} ms, /health {status_health}")
        # the socket stays open; a command that needs the database gets an error frame
        socket.send(json.dumps({"type": "chat.send", "id": "c1", "data": {"to": patient["id"], "content": "during the outage", "client_msg_id": "outage-ws"}}))
        reply = None
        deadline = time.time() + 10
        while time.time() < deadline:
            frame = json.loads(socket.recv(timeout=10))
            if frame.get("id") == "c1":
                reply = frame
                break
        lib.check("WebSocket stays open; chat.send during the outage gets an error frame with a code",
                  reply is not None and reply["type"] == "error" and reply["error"]["code"] in ("unavailable", "server_error"),
                  json.dumps(reply)[:200])

        time.sleep(max(0.0, args.outage - (time.time() - down_at)))
        with ledger["lock"]:
            during = [a for a in ledger["answers"] if down_at + 0.5 < a[0] < time.time()]
        codes = {}
        for _, _, status, _, _ in during:
            codes[status] = codes.get(status, 0) + 1
        slowest = max((a[1] for a in during), default=0)
        server_errors = [a for a in during if a[2] is not None and a[2] >= 500 and a[2] != 503]
        missing_retry = [a for a in during if a[2] == 503 and not a[3]]
        lib.check("during the outage: only 503s with Retry-After (no 500, no hang)",
                  during and not server_errors and not missing_retry and None not in codes and set(codes) <= {503},
                  f"{len(during)} answers {codes}; slowest {slowest * 1000:.0f} ms; {len(missing_retry)} without Retry-After; e.g. {server_errors[:1]}")
        lib.check("during the outage: every answer within the acquire timeout plus 1 s", slowest < ACQUIRE_MS / 1000 + 1.0,
                  f"slowest {slowest * 1000:.0f} ms (acquire timeout {ACQUIRE_MS} ms)")

        failures_during = node_a.metric("sos_background_job_failures_total")
        pg.start()
        back_at = time.time()
        recovered_at = None
        while time.time() - back_at < 30:
            with ledger["lock"]:
                ok = [a for a in ledger["answers"] if a[0] > back_at and a[2] in (200, 201)]
            if ok:
                recovered_at = ok[0][0] + ok[0][1]
                break
            time.sleep(0.05)
        recovery = (recovered_at - back_at) if recovered_at else None
        lib.check("after PostgreSQL returns: served again within 5 s, without a restart",
                  recovery is not None and recovery < 5 and node_a.process.poll() is None,
                  f"first success {recovery:.2f} s after PostgreSQL accepted connections" if recovery is not None else "never")
        print(f"figures: outage {args.outage:.0f} s; {len(during)} answers during it {codes}, slowest {slowest * 1000:.0f} ms; "
              f"recovery {recovery:.2f} s after PostgreSQL was back" if recovery is not None else "figures: no recovery", flush=True)
        # background jobs (outbox, hold expiry, reminders, SOS waves, every second here) failed their rounds during the
        # outage without stopping the server, and run cleanly again once it is back
        time.sleep(2)
        settled = node_a.metric("sos_background_job_failures_total")
        time.sleep(3)
        after = node_a.metric("sos_background_job_failures_total")
        lib.check("background jobs: their rounds fail during the outage (counted in /metrics), then succeed again without a restart",
                  failures_during > failures_before and after == settled,
                  f"failed rounds: {failures_before:.0f} before, {failures_during:.0f} at the end of the outage, "
                  f"{settled:.0f} 2 s after the return, {after:.0f} 3 s later")

        # the socket open through the outage is told it may have missed events (the broker's LISTEN was lost)
        told = None
        deadline = time.time() + 15
        while time.time() < deadline and told is None:
            try:
                frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.time())))
            except TimeoutError:
                break
            if frame.get("type") == "resume_gap":
                told = frame
        lib.check("after PostgreSQL returns, the socket open through the outage gets a resume_gap event with a new epoch",
                  told is not None and told["data"]["epoch"] != epoch, json.dumps(told)[:200] if told else "none within 15 s")
        time.sleep(2)
        stop.set()
        for worker in workers:
            worker.join(timeout=60)

        # nothing acknowledged lost
        stored = set()
        before = None
        while True:
            query = "?limit=100" + (f"&before={before}" if before else "")
            status, body, _ = node_a.call("GET", f"/api/v1/chat/conversations/{patient['id']}/messages{query}", doctor["token"])
            stored |= {m["id"] for m in body["messages"]}
            before = body["next_before"]
            if not before:
                break
        acked = set(ledger["messages"].values())
        lib.check("every message acknowledged before, during or after the outage is stored", acked <= stored and acked,
                  f"acknowledged {len(acked)}, found {len(acked & stored)}")
        socket.close()

        # a PostgreSQL restart drops every pooled connection and the broker's LISTEN: cross-node delivery resumes
        node_b = lib.Server(args.server_bin, pg.url, env, name="node-b").start()
        receiver = connect(f"ws://127.0.0.1:{node_b.port}/api/v1/ws", additional_headers={"Authorization": "Bearer " + patient["token"]}, open_timeout=5)
        assert json.loads(receiver.recv(timeout=5))["type"] == "ready"
        pg.stop("fast")
        pg.start()
        restarted_at = time.time()
        delivered_at = None
        sent = 0
        while time.time() - restarted_at < 30 and delivered_at is None:
            marker = f"after-restart-{sent}"
            sent += 1
            try:
                node_a.call("POST", "/api/v1/chat/messages", doctor["token"], {"recipient_id": patient["id"], "content": marker, "client_msg_id": marker}, timeout=5)
            except OSError:
                pass
            try:
                while True:
                    frame = json.loads(receiver.recv(timeout=0.5))
                    if frame.get("type") == "chat.message" and frame["data"].get("content", "").startswith("after-restart"):
                        delivered_at = time.time()
                        break
            except TimeoutError:
                pass
        if not lib.check("after a PostgreSQL restart, a message sent on node A reaches a socket on node B again",
                         delivered_at is not None, f"{delivered_at - restarted_at:.2f} s after the restart" if delivered_at else "not delivered in 30 s"):
            node_a.print_log()
            node_b.print_log()
        receiver.close()
    finally:
        node_a.stop()
        if node_b:
            node_b.stop()
        pg.destroy()
    return lib.summary()


if __name__ == "__main__":
    raise SystemExit(main())
