#!/usr/bin/env python3
"""Resource attacks against a live server process, measured from the outside (issue: trust, points 4 and 6).

Starts the server binary on a fresh SQLite data directory, runs each attack, measures the server's RSS and open
descriptors from /proc, and prints PASS/FAIL lines and a final count (exit 1 on any failure):

  * memory: 150 PUT /appointments/:id with a 0.9 MB visit_location (refused: 400 naming the limit), and 150 with
    the largest fields allowed while the patient and doctor hold sockets: RSS stays within a few MB;
  * half-open requests: 2,000 sockets that send a partial request head are closed (per-address cap at once, the
    rest after the head timeout), descriptors return to where they were, and a client from another address is
    served meanwhile;
  * a request body that drips in is closed after the body timeout;
  * WebSocket handshakes that never authenticate are capped (1013 for the ones over the cap).

  python3 Tests/e2e/trust/resources.py --server-bin .build/debug/sos-server
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import lib  # noqa: E402  (the fault suite's server process and PASS/FAIL bookkeeping)
from lib import check  # noqa: E402


def clinic(server):
    """An admin, a doctor with a fee and availability, a patient with one booking; returns tokens and the id."""
    _, login, _ = server.call("POST", "/api/v1/auth/email/login", body={"email": "admin@test.com", "password": "Admin123!"})
    admin = login["access_token"]
    tokens = {}
    for role in ("doctor", "patient"):
        email = f"{role}@resources.test"
        status, _, _ = server.call("POST", "/api/v1/users", admin, {"email": email, "password": "Password1!", "name": role.title(), "role": role})
        assert status == 201, status
        tokens[role] = server.call("POST", "/api/v1/auth/email/login", body={"email": email, "password": "Password1!"})[1]["access_token"]
    server.call("POST", "/api/v1/doctors", tokens["doctor"], {"specialisation": "General practice", "is_listed": True, "fees": {"home": 100}, "currency": "EUR"})
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400))
    server.call("POST", "/api/v1/availabilities", tokens["doctor"], {"start_date": day, "end_date": day, "start_time": "08:00:00", "end_time": "18:00:00", "consultation_types": ["home"]})
    doctor_id = server.call("GET", "/api/v1/auth/me", tokens["doctor"])[1]["user"]["id"]
    status, booked, _ = server.call("POST", "/api/v1/appointments", tokens["patient"], {
        "doctor_id": doctor_id, "date": day, "start_time": "09:00:00", "end_time": "09:30:00", "consultation_type": "home"})
    assert status == 201, booked
    return tokens, booked["appointment"]["id"]


def ws_open(port, token=None, source="127.0.0.1"):
    """A raw WebSocket upgrade (optionally authenticated by header); returns the socket, the response head, and the
    bytes that came after the head (the server may send its first frame in the same segment as the 101)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    sock.sendall((f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{auth}\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    head, _, rest = head.partition(b"\r\n\r\n")
    return sock, head, rest


def memory_attack(server):
    tokens, appointment = clinic(server)
    sockets = [ws_open(server.port, tokens[r])[0] for r in ("patient", "doctor")]
    for s in sockets:
        s.settimeout(0.01)
    path = f"/api/v1/appointments/{appointment}"

    def drain():
        for s in sockets:
            try:
                while s.recv(65536):
                    pass
            except (socket.timeout, BlockingIOError):
                pass

    largest = {"visit_location": {"hotel": "H" * 1900}, "symptoms": ["s" * 200] * 30, "additional_note": "n" * 5000}
    for _ in range(30):  # warm-up: the allocator, the caches and the event log reach their working size
        server.call("PUT", path, tokens["patient"], largest)
        drain()
    time.sleep(1)
    before = server.rss_kb()
    refused = 0
    huge = {"visit_location": {"hotel": "x" * 900_000}}
    for _ in range(150):
        status, body, _ = server.call("PUT", path, tokens["patient"], huge)
        refused += status == 400 and "2048 bytes" in (body or {}).get("details", "")
    for index in range(150):
        largest["additional_note"] = str(index) + "n" * 4990
        server.call("PUT", path, tokens["patient"], largest)
        drain()
    time.sleep(1)
    after = server.rss_kb()
    check("memory: 150 PUTs with a 0.9 MB visit_location are refused with the limit", refused == 150, f"{refused}/150 refused")
    growth = (after - before) / 1024
    check("memory: the attack leaves RSS within 8 MB of where it started", growth < 8, f"{before // 1024} MB -> {after // 1024} MB ({growth:+.1f} MB)")
    for s in sockets:
        s.close()


def half_open_attack(server, count):
    baseline = server.fds()
    held, refused_at_once = [], 0
    for _ in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            held.append(s)
        except OSError:
            refused_at_once += 1
    time.sleep(0.5)
    # another client (another source address) is served while they are held
    try:
        other = socket.create_connection(("127.0.0.1", server.port), timeout=5, source_address=("127.0.0.2", 0))
        other.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        served = other.recv(4096).startswith(b"HTTP/1.1 200")
        other.close()
    except OSError as error:
        served = False
        print("other client:", error)
    check("half-open: a client from another address is served while 2,000 sockets hang", served)
    deadline = time.time() + 20
    open_count = len(held)
    while time.time() < deadline:
        open_count = 0
        for s in held:
            s.settimeout(0)
            try:
                if s.recv(1, socket.MSG_PEEK) == b"":
                    continue
                open_count += 1
            except (BlockingIOError, socket.timeout):
                open_count += 1
            except OSError:
                continue
        if open_count == 0:
            break
        time.sleep(0.5)
    for s in held:
        s.close()
    check(f"half-open: all {count} partial requests are closed by the server (head timeout, per-address cap)", open_count == 0,
          f"{open_count} still open after the timeout")
    time.sleep(1)
    check("half-open: the server's descriptors are back to where they were", server.fds() <= baseline + 5, f"{baseline} -> {server.fds()}")


def slow_body(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(b"POST /api/v1/auth/email/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{")
    started = time.time()
    closed = False
    while time.time() - started < 12:
        try:
            s.sendall(b" ")
        except OSError:
            closed = True
            break
        s.settimeout(1)
        try:
            if s.recv(4096) == b"":
                closed = True
                break
        except socket.timeout:
            pass
        except OSError:
            closed = True
            break
    s.close()
    check("slow body: a body that drips in is dropped after the body timeout", closed, f"after {time.time() - started:.1f} s")


def pending_websockets(server, cap):
    """Opens cap + 5 unauthenticated upgrades at once (well within the auth timeout, which frees slots), then reads
    what each got: the last five must have been closed with 1013."""
    opened, refused = [], []
    for _ in range(cap + 5):
        s, head, frame = ws_open(server.port)
        if not head.startswith(b"HTTP/1.1 101"):
            refused.append(head[:40])
            s.close()
            continue
        opened.append((s, frame))
    time.sleep(0.5)
    over = 0
    for s, frame in opened:
        s.setblocking(False)
        try:
            frame += s.recv(64)
        except (BlockingIOError, OSError):
            pass
        if len(frame) >= 4 and frame[0] & 0x0F == 0x8 and int.from_bytes(frame[2:4], "big") == 1013:
            over += 1
        s.close()
    check(f"WebSocket handshakes: at most {cap} wait to authenticate; the rest close with 1013", over == 5,
          f"{over} closed with 1013; upgrades refused: {refused[:3]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", default=".build/debug/sos-server")
    parser.add_argument("--half-open", type=int, default=2000)
    args = parser.parse_args()
    server = lib.Server(os.path.abspath(args.server_bin), extra_env={
        "SOS_HEADER_TIMEOUT_SECONDS": "2", "SOS_BODY_TIMEOUT_SECONDS": "3", "SOS_MAX_PENDING_WEBSOCKETS": "20",
        "SOS_MAX_CONNECTIONS_PER_ADDRESS": "256", "LOG_LEVEL": "error",
    }, name="resources").start()
    try:
        memory_attack(server)
        half_open_attack(server, args.half_open)
        slow_body(server)
        pending_websockets(server, 20)
    finally:
        server.stop()
    sys.exit(lib.summary())


if __name__ == "__main__":
    main()
