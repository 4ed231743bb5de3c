#!/usr/bin/env python3
"""kill -9 under load: nothing acknowledged is lost, retries create no duplicates, no booking overlaps another.

Clients chat (REST `POST /chat/messages` and the hub's `chat.send`, each with a `client_msg_id`), book
(`POST /appointments` with an `Idempotency-Key`, on random slots of two doctors, so many collide) and pay
(`POST /payments` with an `Idempotency-Key`). At a random moment the server is killed with SIGKILL and restarted on the
same data; every request that got no answer is retried with its key until it gets one. Then the data is read back:

  * every acknowledged message, booking and payment is there;
  * every client_msg_id / key is stored once (stored bookings and payments equal the acknowledged ones);
  * no two slot-holding bookings of a doctor overlap; no appointment has two payments.

  python3 Tests/e2e/faults/kill9.py --server-bin .build/debug/sos-server [--postgres | --database-url postgres://…] [--seconds 6]
"""
import argparse
import json
import random
import threading
import time
import uuid

from websockets.sync.client import connect

import lib

SLOTS = [(f"{h:02d}:{m:02d}:00", f"{h + (m + 30) // 60:02d}:{(m + 30) % 60:02d}:00") for h in range(8, 18) for m in (0, 30)]


class Ledger:
    """What the server acknowledged, per kind, and the requests whose outcome is not known yet."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = {}      # client_msg_id -> message id
        self.bookings = {}      # idempotency key -> appointment
        self.payments = {}      # idempotency key -> payment id
        self.refused = 0        # 4xx answers (overlapping slots)
        self.retried = 0        # requests sent again after no answer or a 503
        self.unavailable = 0    # 503 answers

    def add(self, kind, key, value):
        with self.lock:
            getattr(self, kind)[key] = value


class Client(threading.Thread):
    def __init__(self, index, server, admin, sender, hub, doctors, ledger, stop_at, killed):
        super().__init__(daemon=True)
        self.index, self.server, self.admin, self.sender, self.hub = index, server, admin, sender, hub
        self.doctors, self.ledger, self.stop_at, self.killed = doctors, ledger, stop_at, killed
        self.random = random.Random(index)
        self.socket = None
        self.errors = []

    def until_answered(self, send):
        """Calls `send` until it returns an answer (not None); no answer or a 503 means: wait and send the same again."""
        attempt = 0
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                answer = send()
            except (OSError, ConnectionError, TimeoutError, Exception) as error:  # refused, reset, closed socket
                answer = None
                self.socket = None
            if answer is not None and answer[0] != 503:
                if attempt:
                    with self.ledger.lock:
                        self.ledger.retried += 1
                return answer
            if answer is not None:
                with self.ledger.lock:
                    self.ledger.unavailable += 1
            attempt += 1
            time.sleep(0.2)
        self.errors.append("a request got no answer for 60 s")
        return None

    def rest_message(self):
        msg_id = f"rest-{self.index}-{uuid.uuid4().hex[:12]}"
        body = {"recipient_id": self.hub["id"], "content": f"message {msg_id}", "client_msg_id": msg_id}
        answer = self.until_answered(lambda: self.server.call("POST", "/api/v1/chat/messages", self.sender["token"], body, timeout=10))
        if answer and answer[0] in (200, 201):
            self.ledger.add("messages", msg_id, answer[1]["message"]["id"])
        elif answer:
            self.errors.append(f"chat REST answered {answer[0]}: {answer[1]}")

    def ws_send(self, frame):
        if self.socket is None:
            self.socket = connect(f"ws://127.0.0.1:{self.server.port}/api/v1/ws",
                                  additional_headers={"Authorization": "Bearer " + self.sender["token"]}, open_timeout=5)
            ready = json.loads(self.socket.recv(timeout=5))
            assert ready["type"] == "ready", ready
        self.socket.send(json.dumps(frame))
        deadline = time.time() + 10
        while time.time() < deadline:
            reply = json.loads(self.socket.recv(timeout=10))
            if reply.get("id") == frame["id"]:
                if reply["type"] == "error" and reply["error"]["code"] in ("unavailable", "server_error"):
                    return (503, reply)
                return (200 if reply["type"] == "ack" else 400, reply)
        raise TimeoutError("no reply")

    def ws_message(self):
        msg_id = f"ws-{self.index}-{uuid.uuid4().hex[:12]}"
        frame = {"type": "chat.send", "id": msg_id, "data": {"to": self.hub["id"], "content": f"message {msg_id}", "client_msg_id": msg_id}}
        answer = self.until_answered(lambda: self.ws_send(frame))
        if answer and answer[0] == 200:
            self.ledger.add("messages", msg_id, answer[1]["data"]["message"]["id"])
        elif answer:
            self.errors.append(f"chat.send answered {answer[1]}")

    def booking(self):
        doctor = self.random.choice(self.doctors)
        start, end = self.random.choice(SLOTS)
        day = lib.future_day(self.random.randint(2, 4))
        key = str(uuid.uuid4())
        body = {"user_id": doctor["patient"], "doctor_id": doctor["id"], "date": day, "start_time": start, "end_time": end,
                "consultation_type": "video"}
        answer = self.until_answered(lambda: self.server.call("POST", "/api/v1/appointments", self.admin, body, {"Idempotency-Key": key}, timeout=10))
        if answer and answer[0] == 201:
            appointment = answer[1]["appointment"]
            self.ledger.add("bookings", key, appointment)
            return appointment
        if answer and answer[0] == 409:
            with self.ledger.lock:
                self.ledger.refused += 1
        elif answer:
            self.errors.append(f"booking answered {answer[0]}: {answer[1]}")
        return None

    def payment(self, appointment):
        key = str(uuid.uuid4())
        body = {"appointment_id": appointment["id"], "amount": 60, "currency": "EUR", "payment_method": "bank_transfer"}
        answer = self.until_answered(lambda: self.server.call("POST", "/api/v1/payments", self.admin, body, {"Idempotency-Key": key}, timeout=10))
        if answer and answer[0] == 201:
            self.ledger.add("payments", key, answer[1]["paymentId"])
        elif answer:
            self.errors.append(f"payment answered {answer[0]}: {answer[1]}")

    def run(self):
        while time.time() < self.stop_at:
            choice = self.random.random()
            if choice < 0.35:
                self.rest_message()
            elif choice < 0.7:
                self.ws_message()
            else:
                appointment = self.booking()
                if appointment and self.random.random() < 0.7:
                    self.payment(appointment)


def all_pages(server, token, path, key):
    items, page = [], 1
    while True:
        status, body, _ = server.call("GET", f"{path}{'&' if '?' in path else '?'}limit=100&page={page}", token)
        assert status == 200, (path, status, body)
        items += body[key]
        if page >= body["pagination"]["totalPages"]:
            return items
        page += 1


def history(server, token, partner):
    messages, before = [], None
    while True:
        query = "?limit=100" + (f"&before={before}" if before else "")
        status, body, _ = server.call("GET", f"/api/v1/chat/conversations/{partner}/messages{query}", token)
        assert status == 200, (status, body)
        messages += body["messages"]
        before = body["next_before"]
        if not before:
            return messages


def minutes(time_text):
    h, m, s = (int(x) for x in time_text.split(":"))
    return h * 60 + m


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database to use")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL for this run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0, help="load before and after the kill, in total")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    chooser = random.Random(seed)
    postgres = lib.Postgres() if args.postgres else None
    database_url = postgres.url if postgres else args.database_url
    label = "PostgreSQL" if database_url else "SQLite"

    server = lib.Server(args.server_bin, database_url, name="kill9").start()
    try:
        admin, _ = lib.login(server.base, "admin@test.com", "Admin123!")
        hub = lib.make_user(server.base, admin, "doctor", "Hub doctor")
        doctors = []
        for n in range(2):
            doctor = lib.make_user(server.base, admin, "doctor", f"Doctor {n}")
            status, body, _ = server.call("POST", "/api/v1/doctors", doctor["token"], {
                "specialisation": "General practice", "is_listed": True, "fees": {"video": 60}, "currency": "EUR"})
            assert status in (200, 201), (status, body)
            doctor["patient"] = lib.make_user(server.base, admin, "patient", f"Patient {n}")["id"]
            doctors.append(doctor)
        senders = [lib.make_user(server.base, admin, "doctor", f"Sender {i}") for i in range(args.clients)]

        ledger = Ledger()
        start = time.time()
        stop_at = start + args.seconds
        killed = threading.Event()
        clients = [Client(i, server, admin, senders[i], hub, doctors, ledger, stop_at, killed) for i in range(args.clients)]
        for client in clients:
            client.start()
        kill_after = chooser.uniform(1.0, max(1.5, args.seconds * 0.6))
        time.sleep(kill_after)
        with ledger.lock:
            before_kill = (len(ledger.messages), len(ledger.bookings), len(ledger.payments))
        server.kill9()
        killed.set()
        down_at = time.time()
        server.start()
        print(f"{label}: killed -9 after {kill_after:.1f} s (seed {seed}) with {before_kill[0]} messages, {before_kill[1]} bookings, "
              f"{before_kill[2]} payments acknowledged; restarted and ready in {time.time() - down_at:.1f} s", flush=True)
        for client in clients:
            client.join(timeout=120)
        errors = [e for c in clients for e in c.errors]
        lib.check(f"{label}: every request got a final answer after the restart", not errors and not any(c.is_alive() for c in clients),
                  "; ".join(errors[:5]))

        # read everything back after a second restart, so nothing is served from memory
        server.stop()
        server.start()
        admin, _ = lib.login(server.base, "admin@test.com", "Admin123!")
        stored = {}
        for sender in senders:
            token, _ = lib.login(server.base, sender["email"], "Password1!")
            for message in history(server, token, hub["id"]):
                stored.setdefault(message["client_msg_id"], []).append(message["id"])
        acked = ledger.messages
        lost = [k for k, v in acked.items() if v not in stored.get(k, [])]
        twice = [k for k, v in stored.items() if len(v) > 1]
        lib.check(f"{label}: every acknowledged chat message is stored", not lost and len(acked) > 0,
                  f"acknowledged {len(acked)}, found {len(acked) - len(lost)}; lost {lost[:3]}")
        lib.check(f"{label}: no client_msg_id stored twice", not twice and len(stored) == len(acked),
                  f"stored {len(stored)} distinct, {sum(len(v) for v in stored.values())} rows; duplicates {twice[:3]}")

        appointments = all_pages(server, admin, "/api/v1/appointments/all?sortBy=created_at", "appointments")
        stored_ids = {a["id"] for a in appointments}
        acked_ids = {a["id"] for a in ledger.bookings.values()}
        lib.check(f"{label}: every acknowledged booking is stored", acked_ids <= stored_ids and len(acked_ids) > 0,
                  f"acknowledged {len(acked_ids)}, found {len(acked_ids & stored_ids)}")
        lib.check(f"{label}: no booking created twice (stored = acknowledged)", len(appointments) == len(acked_ids),
                  f"stored {len(appointments)}, acknowledged {len(acked_ids)}; {ledger.refused} refused as overlapping")
        overlaps = []
        by_slot = {}
        for a in appointments:
            if a["status"] == "cancelled":
                continue
            by_slot.setdefault((a["doctor_id"], a["date"]), []).append((minutes(a["start_time"]), minutes(a["end_time"]), a["id"]))
        for slots in by_slot.values():
            slots.sort()
            overlaps += [(x[2], y[2]) for x, y in zip(slots, slots[1:]) if y[0] < x[1]]
        lib.check(f"{label}: no two bookings of a doctor overlap", not overlaps, f"{overlaps[:3]}")

        payments = all_pages(server, admin, "/api/v1/payments?sortBy=created_at", "payments")
        stored_payments = {p["id"] for p in payments}
        acked_payments = set(ledger.payments.values())
        per_appointment = {}
        for p in payments:
            per_appointment[p["appointment_id"]] = per_appointment.get(p["appointment_id"], 0) + 1
        lib.check(f"{label}: every acknowledged payment is stored", acked_payments <= stored_payments and len(acked_payments) > 0,
                  f"acknowledged {len(acked_payments)}, found {len(acked_payments & stored_payments)}")
        lib.check(f"{label}: no payment created twice", len(payments) == len(acked_payments) and max(per_appointment.values(), default=0) <= 1,
                  f"stored {len(payments)}, acknowledged {len(acked_payments)}")
        print(f"{label}: figures: messages acknowledged {len(acked)} / found {len(acked) - len(lost)}; bookings {len(acked_ids)} / "
              f"{len(acked_ids & stored_ids)}; payments {len(acked_payments)} / {len(acked_payments & stored_payments)}; "
              f"{ledger.retried} requests retried after the kill, {ledger.unavailable} answered 503 meanwhile", flush=True)
    finally:
        server.stop()
        if postgres:
            postgres.destroy()
    return lib.summary()


if __name__ == "__main__":
    raise SystemExit(main())
