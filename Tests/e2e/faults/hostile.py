#!/usr/bin/env python3
"""Hostile clients against a live server process (issue 12, "slow and hostile clients"), measured from the outside.

Starts the server binary on a fresh SQLite data directory and runs, each bounded in time:

  * slowloris on the WebSocket handshake: sockets that drip the upgrade request one byte at a time are closed by the
    head timeout, and upgraded sockets that drip an `auth` frame one byte at a time are closed with 4001 by the
    authentication timeout; another client is served meanwhile;
  * a permessage-deflate bomb: one 50 KB compressed frame that inflates to 50 MB, and a fragmented one, on many
    sockets at once: each closed with 1009, the server's RSS does not grow by the inflated size;
  * oversized bodies and uploads: a JSON body over the limit, a body whose Content-Length claims 1 GB, a chunked body
    over the limit, a profile picture over 5 MB and one that is not an image: 413/415 with the error envelope, at once;
  * a fuzzer on the hub's frame decoder: random and mutated frames built from `protocol/websocket.md`'s examples
    (JSON mutations, broken UTF-8, deep nesting, huge numbers, reserved opcodes, bad control frames, unmasked frames,
    stray continuations) on authenticated sockets. Every answer must be a documented one: an `error` frame with a
    documented code other than `server_error`, an ack, or a close with a protocol code (never 1011); after each case
    that leaves the socket open, a `ping` must still be answered.

Afterwards: the process is alive, /health answers, no 5xx was seen, and the descriptors are back to where they were.

  python3 Tests/e2e/faults/hostile.py --server-bin .build/debug/sos-server [--cases 2000] [--seed 1]
"""
import argparse
import base64
import copy
import json
import os
import random
import re
import socket
import struct
import sys
import time
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

WIRE_CODES = {"bad_request", "unknown_type", "unauthorized", "forbidden", "not_found", "conflict", "payment_required",
              "rate_limited", "unavailable"}
PROTOCOL_CLOSES = {1000, 1002, 1003, 1007, 1008, 1009, 4001}


class RawSocket:
    """A WebSocket client written by hand so that it can send what a real client never would."""

    def __init__(self, port, token=None, deflate=False, source="127.0.0.1", timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        key = base64.b64encode(os.urandom(16)).decode()
        extra = f"Authorization: Bearer {token}\r\n" if token else ""
        if deflate:
            extra += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        self.sock.sendall((f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the upgrade")
            data += chunk
        self.head, _, self.buffer = data.partition(b"\r\n\r\n")
        if not self.head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(self.head[:80])
        self.deflate = b"permessage-deflate" in self.head.lower()
        self.inflater = zlib.decompressobj(-15)
        self.closed = None  # the close code the server sent, or 0 when the connection ended without one

    def frame(self, opcode, payload, fin=True, rsv=0, mask=True, length=None):
        """Raw frame bytes; `length` overrides the declared payload length (to lie about it)."""
        n = len(payload) if length is None else length
        head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
        bit = 0x80 if mask else 0
        if n < 126:
            head += bytes([bit | n])
        elif n < 1 << 16:
            head += bytes([bit | 126]) + struct.pack(">H", n)
        else:
            head += bytes([bit | 127]) + struct.pack(">Q", n)
        if not mask:
            return head + payload
        key = os.urandom(4)
        return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))

    def send(self, opcode, payload, **kw):
        self.sock.sendall(self.frame(opcode, payload, **kw))

    def text(self, value):
        self.send(0x1, value if isinstance(value, bytes) else json.dumps(value).encode())

    def _fill(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.time()))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            chunk = b""
        if not chunk:
            if self.closed is None:
                self.closed = 0
            return False
        self.buffer += chunk
        return True

    def read(self, timeout):
        """The next message from the server: ("text", object), ("close", code), or None (timeout or connection gone)."""
        deadline = time.time() + timeout
        message, compressed = b"", False
        while True:
            while True:
                if len(self.buffer) >= 2:
                    b0, b1 = self.buffer[0], self.buffer[1]
                    n, offset = b1 & 0x7F, 2
                    if n == 126 and len(self.buffer) >= 4:
                        n, offset = struct.unpack(">H", self.buffer[2:4])[0], 4
                    elif n == 127 and len(self.buffer) >= 10:
                        n, offset = struct.unpack(">Q", self.buffer[2:10])[0], 10
                    if (b1 & 0x7F) < 126 or offset > 2:
                        if len(self.buffer) >= offset + n:
                            break
                if self.closed is not None or time.time() >= deadline or not self._fill(deadline):
                    return None
            payload, self.buffer = self.buffer[offset:offset + n], self.buffer[offset + n:]
            opcode = b0 & 0x0F
            if opcode == 0x8:
                self.closed = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                return ("close", self.closed)
            if opcode == 0x9:
                self.send(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            if opcode in (0x1, 0x2):
                message, compressed = payload, bool(b0 & 0x40)
            else:
                message += payload
            if b0 & 0x80:
                if compressed:
                    message = self.inflater.decompress(message + b"\x00\x00\xff\xff")
                try:
                    return ("text", json.loads(message))
                except ValueError:
                    return ("text", {"unparsable": message[:200].decode(errors="replace")})
                finally:
                    message = b""

    def reply(self, frame_id, timeout=5):
        """The reply to `frame_id` (skipping pushed events), ("close", code), or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.read(deadline - time.time())
            if got is None or got[0] == "close":
                return got
            if got[1].get("id") == frame_id:
                return got
        return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def setup(server):
    """An admin, a doctor and a patient with one booking; tokens and ids to put into fuzzed frames."""
    return lib.clinic_with_booking(server, "Hostile")


def wait_closed(sockets, seconds):
    """How many of `sockets` the server has not closed after `seconds` (polling without reading data away)."""
    deadline = time.time() + seconds
    still = len(sockets)
    while time.time() < deadline:
        still = 0
        for s in sockets:
            s.settimeout(0)
            try:
                if s.recv(1 << 16) == b"":
                    continue
                still += 1
            except (BlockingIOError, socket.timeout):
                still += 1
            except OSError:
                continue
        if still == 0:
            return 0
        time.sleep(0.25)
    return still


def served(server, ctx):
    """Another client, from another address, gets REST and an authenticated socket."""
    try:
        status, _, _ = raw_http(server, b"GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ctx["patient"]["token"].encode()
                                + b"\r\nConnection: close\r\n\r\n", source="127.0.0.2", read_timeout=5)
        ws = RawSocket(server.port, ctx["patient"]["token"], source="127.0.0.2")
        ws.text({"type": "ping", "id": "p"})
        pong = ws.reply("p", 5)
        ws.close()
        return status == 200 and pong is not None and pong[0] == "text" and pong[1].get("type") == "pong"
    except OSError as error:
        print("other client:", error)
        return False


def slowloris(server, ctx, count, header_timeout, auth_timeout):
    baseline = server.fds()
    request = (b"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    heads = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(request[:20])
        heads.append(s)
    upgraded = []
    for _ in range(count // 4):
        try:
            upgraded.append(RawSocket(server.port))
        except (ConnectionError, OSError):
            break
    auth = RawSocket(server.port).frame(0x1, json.dumps({"type": "auth", "id": "a", "data": {"token": ctx["patient"]["token"]}}).encode())
    started = time.time()
    # drip: one more byte per socket every half second, never finishing (the head is far longer than the timeout allows)
    position = 20
    while time.time() - started < header_timeout + 1.5:
        for s in heads:
            try:
                s.sendall(request[position:position + 1])
            except OSError:
                pass
        for i, ws in enumerate(upgraded):
            try:
                ws.sock.sendall(auth[position - 20:position - 19])
            except OSError:
                pass
        position = min(position + 1, 60)
        time.sleep(0.5)
    check(f"slowloris: a client from another address is served while {count} upgrade requests and {len(upgraded)} "
          "upgraded sockets drip bytes", served(server, ctx))
    left = wait_closed(heads, header_timeout + 5)
    check(f"slowloris: all {count} dripping upgrade requests are closed by the head timeout ({header_timeout} s)", left == 0,
          f"{left} still open after {time.time() - started:.1f} s")
    codes = {}
    deadline = started + auth_timeout + 6
    for ws in upgraded:
        got = ws.read(max(0.1, deadline - time.time()))
        while got is not None and got[0] != "close":
            got = ws.read(max(0.1, deadline - time.time()))
        code = got[1] if got else ws.closed
        codes[code] = codes.get(code, 0) + 1
    check(f"slowloris: all {len(upgraded)} upgraded sockets dripping an auth frame are closed with 4001 after the "
          f"authentication timeout ({auth_timeout} s)", codes.get(4001, 0) == len(upgraded), f"close codes {codes}")
    for s in heads:
        s.close()
    for ws in upgraded:
        ws.close()
    time.sleep(1)
    check("slowloris: the server's descriptors are back to where they were", server.fds() <= baseline + 5, f"{baseline} -> {server.fds()}")


def deflate_bomb(server, ctx, sockets):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    inflated = 50 << 20
    bomb = compressor.compress(b'{"type":"ping","id":"' + b"A" * inflated) + compressor.flush(zlib.Z_SYNC_FLUSH)
    bomb = bomb[:-4]  # RFC 7692: the sender drops the final 00 00 ff ff
    rss_before = server.rss_kb()
    codes = {}
    opened = []
    for i in range(sockets):
        ws = RawSocket(server.port, ctx["patient"]["token"], deflate=True)
        if not ws.deflate:
            check("deflate bomb: the server negotiates permessage-deflate", False, ws.head.decode(errors="replace"))
            return
        opened.append(ws)
    started = time.time()
    for i, ws in enumerate(opened):
        if i % 2 == 0:
            ws.send(0x1, bomb, rsv=4)  # one frame, RSV1: compressed
        else:
            pieces = [bomb[j:j + 4096] for j in range(0, len(bomb), 4096)]
            for k, piece in enumerate(pieces):
                try:
                    ws.send(0x1 if k == 0 else 0x0, piece, fin=k == len(pieces) - 1, rsv=4 if k == 0 else 0)
                except OSError:
                    break
    for ws in opened:
        got = ws.read(10)
        while got is not None and got[0] != "close":
            got = ws.read(10)
        code = got[1] if got else ws.closed
        codes[code] = codes.get(code, 0) + 1
        ws.close()
    elapsed = time.time() - started
    grown = (server.rss_kb() - rss_before) / 1024
    check(f"deflate bomb: {sockets} sockets each send {len(bomb) // 1024} KB inflating to {inflated >> 20} MB (one frame, "
          f"or fragmented): every one is closed with 1009", codes.get(1009, 0) == sockets, f"close codes {codes}, {elapsed:.2f} s")
    check("deflate bomb: the server's RSS does not grow by the inflated size", grown < 40, f"RSS grew {grown:.1f} MB")
    check("deflate bomb: the server still serves", served(server, ctx))


def raw_http(server, head, body=b"", read_timeout=10, source="127.0.0.1"):
    """Sends a request by hand; the status and the parsed JSON body of the answer (or None), and the seconds taken."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=read_timeout, source_address=(source, 0))
    started = time.time()
    s.sendall(head)
    try:
        if body:
            s.sendall(body)
    except OSError:
        pass  # the server may answer and close before reading everything; the answer is still there
    data = b""
    try:
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < content_length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    elapsed = time.time() - started
    if not data.startswith(b"HTTP/1.1 "):
        return None, None, elapsed
    status = int(data[9:12])
    raw = data.partition(b"\r\n\r\n")[2]
    try:
        return status, json.loads(raw), elapsed
    except ValueError:
        return status, None, elapsed


def content_length(data):
    match = re.search(rb"\r\ncontent-length: *(\d+)", data.partition(b"\r\n\r\n")[0], re.I)
    return int(match.group(1)) if match else 0


def enveloped(body):
    """The seed's error shape: {"error": summary, "details": what to fix, "status": code}."""
    return isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("details"), str) and isinstance(body.get("status"), int)


def oversized(server, ctx):
    token = ctx["patient"]["token"]
    rss_before = server.rss_kb()
    big = b'{"email":"' + b"a" * (2 << 20) + b'","password":"x"}'
    status, body, took = raw_http(server, b"POST /api/v1/auth/email/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(big), big)
    check("oversized: a 2 MB JSON body is refused with 413 and the error envelope", status == 413 and enveloped(body), f"{status} {body}")
    status, body, took = raw_http(server, b"POST /api/v1/auth/email/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  b"Content-Length: 1073741824\r\nConnection: close\r\n\r\n", b"{" * 1024)
    check("oversized: a body that claims 1 GB is refused at once, before it is sent", status == 413 and enveloped(body) and took < 3,
          f"{status} after {took:.2f} s")
    chunk = b"a" * 65536
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(40)) + b"0\r\n\r\n"
    status, body, took = raw_http(server, b"POST /api/v1/auth/email/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", chunked)
    check("oversized: a chunked body over the limit is refused with 413", status == 413 and enveloped(body), f"{status} {body}")

    def upload(content, name="p.png", kind="image/png", declared=None):
        boundary = b"hostileboundary"
        part = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name.encode() +
                b"\"\r\nContent-Type: " + kind.encode() + b"\r\n\r\n" + content + b"\r\n--" + boundary + b"--\r\n")
        head = (b"POST /api/v1/upload/profile-picture HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
                b"\r\nContent-Type: multipart/form-data; boundary=" + boundary + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (declared or len(part)))
        return raw_http(server, head, part if declared is None else part[:4096])

    png = b"\x89PNG\r\n\x1a\n" + os.urandom(6 << 20)
    status, body, _ = upload(png)
    check("oversized: a 6 MB profile picture is refused with 413 and the envelope", status == 413 and enveloped(body), f"{status} {body}")
    status, body, took = upload(png[:1024], declared=500 << 20)
    check("oversized: an upload that claims 500 MB is refused at once", status == 413 and enveloped(body) and took < 3, f"{status} after {took:.2f} s")
    status, body, _ = upload(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", name="x.png")
    check("oversized: a file named .png that is not an image is refused with 415", status == 415 and enveloped(body), f"{status} {body}")
    grown = (server.rss_kb() - rss_before) / 1024
    check("oversized: the server's RSS does not keep what was refused", grown < 30, f"RSS grew {grown:.1f} MB")


# ---------------------------------------------------------------------------------------------------------------- fuzzer

def examples():
    """The client frames in protocol/websocket.md (lines starting with →), with placeholders left as they are."""
    text = open(os.path.join(lib.root(), "protocol", "websocket.md"), encoding="utf-8").read()
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("→ {"):
            continue
        try:
            found.append(json.loads(line[2:]))
        except ValueError:
            continue
    return found


ID_KEYS = {"to", "appointment_id", "request_id", "user_ids", "message_ids"}


def filled(frame, ctx, rng):
    """An example with its "7c1d…"-style ids replaced by real or random ids, so that cases reach the services."""
    pool = [ctx["doctor"]["id"], ctx["patient"]["id"], ctx["appointment"], str(uuid.uuid4())]
    frame = copy.deepcopy(frame)
    data = frame.get("data")
    if isinstance(data, dict):
        for key in list(data):
            if key in ID_KEYS:
                data[key] = [rng.choice(pool)] if isinstance(data[key], list) else rng.choice(pool)
            elif key == "token":
                data[key] = ctx["patient"]["token"]
    return frame


def odd_value(rng):
    return rng.choice([None, True, False, 0, -1, 2 ** 63, -(2 ** 64), 1.5, 1e308, "", "x" * rng.randint(1, 5000), [], {},
                       [None], {"": {}}, "\u0000", "\ud7ff\ue000", "🚑" * 50, "null", "-0", str(uuid.uuid4()),
                       "00000000-0000-0000-0000-000000000000", "../../etc/passwd", "'; DROP TABLE users; --"])


def mutate_json(frame, rng):
    frame = copy.deepcopy(frame)
    paths = [(frame, k) for k in frame]
    if isinstance(frame.get("data"), dict):
        paths += [(frame["data"], k) for k in frame["data"]]
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(6)
        if op == 0 and paths:
            parent, key = rng.choice(paths)
            parent.pop(key, None)
        elif op == 1 and paths:
            parent, key = rng.choice(paths)
            if key in parent:
                parent[key] = odd_value(rng)
        elif op == 2:
            frame[rng.choice(["extra", "type", "id", "data", "seq"])] = odd_value(rng)
        elif op == 3:
            frame["type"] = rng.choice(["", "chat", "chat.send.", "CHAT.SEND", "auth ", "ack", "error", "pong", "sos.accept\u0000",
                                        "x" * 300, "resume", "presence.query"])
        elif op == 4 and isinstance(frame.get("data"), dict):
            frame["data"][rng.choice(["content", "user_ids", "message_ids", "last_seq", "epoch", "status", "kind"])] = odd_value(rng)
        else:
            frame["data"] = rng.choice([[], "data", 1, None, {"data": frame.get("data")}])
    return json.dumps(frame).encode()


def mutate_bytes(raw, rng):
    raw = bytearray(raw)
    op = rng.randrange(7)
    if op == 0 and raw:
        return bytes(raw[:rng.randrange(len(raw))])  # truncated
    if op == 1 and raw:
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)  # flipped bytes, often invalid UTF-8
        return bytes(raw)
    if op == 2:
        return bytes(raw) + rng.choice([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])  # invalid UTF-8
    if op == 3:
        depth = rng.choice([100, 600, 5000, 30000])
        return b"[" * depth + b"]" * depth if rng.random() < 0.5 else b'{"a":' * depth + b"1" + b"}" * depth
    if op == 4:
        return rng.choice([b"", b" ", b"null", b"[]", b"1e999999", b'"\\ud800"', b'{"type":"ping","id":"\\ud800"}',
                           b'{"type":"ping","type":"auth","id":"d"}', b'{"type":"ping","id":' + b"9" * 5000 + b"}",
                           b'{"type":"chat.send","id":"x","data":{"to":"' + b"a" * 60000 + b'"}}'])
    if op == 5:
        return os.urandom(rng.randint(1, 2000))
    return bytes(raw) * rng.randint(2, 40)


def frame_case(ws, rng, payload):
    """A frame-level mutation; returns a short name of what was sent."""
    op = rng.randrange(10)
    if op == 0:
        opcode = rng.choice([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
        ws.send(opcode, payload[:100])
        return f"reserved opcode {opcode}"
    if op == 1:
        ws.send(0x1, payload, rsv=rng.choice([1, 2, 3, 4, 6, 7]))
        return "RSV bits"
    if op == 2:
        ws.send(0x1, payload, mask=False)
        return "unmasked"
    if op == 3:
        ws.send(0x9, b"p" * rng.randint(126, 1000))
        return "control frame over 125 bytes"
    if op == 4:
        ws.send(0x9, b"p", fin=False)
        return "fragmented ping"
    if op == 5:
        ws.send(0x0, payload)
        return "continuation without a start"
    if op == 6:
        ws.send(0x1, payload[:5], fin=False)
        ws.send(0x1, payload[5:])
        return "new message inside a fragmented one"
    if op == 7:
        ws.send(0x8, rng.choice([b"\x03", struct.pack(">H", rng.choice([0, 999, 1004, 1005, 1006, 1015, 2000, 5000])),
                                 struct.pack(">H", 1000) + b"\xff\xfe"]))
        return "bad close frame"
    if op == 8:
        ws.sock.sendall(ws.frame(0x1, b"", length=rng.choice([1 << 20, 1 << 40, (1 << 63) - 1])))
        return "declared length far over the limit"
    ws.send(0x2, payload)
    return "binary frame"


def fuzz(server, ctx, cases, seed):
    rng = random.Random(seed)
    base = examples()
    check(f"fuzzer: {len(base)} client frames read from protocol/websocket.md as seeds", len(base) >= 10)
    fds_before = server.fds()
    outcomes, failures, reconnects = {}, [], 0
    ws = None
    for case in range(cases):
        if ws is None or ws.closed is not None:
            if ws is not None:
                ws.close()
            ws = RawSocket(server.port, rng.choice([ctx["patient"]["token"], ctx["doctor"]["token"]]), deflate=rng.random() < 0.3)
            ws.read(5)  # ready
            reconnects += 1
        frame = filled(rng.choice(base), ctx, rng)
        kind = rng.random()
        frame_id = f"f{case}"
        try:
            if kind < 0.45:
                frame["id"] = frame_id
                ws.text(mutate_json(frame, rng))
                what = "mutated JSON"
            elif kind < 0.8:
                frame["id"] = frame_id
                ws.text(mutate_bytes(json.dumps(frame).encode(), rng))
                what = "mutated bytes"
            else:
                what = frame_case(ws, rng, json.dumps(frame).encode())
        except OSError:
            ws.closed = ws.closed if ws.closed is not None else 0
            what = "send failed"
        # a ping right behind the case: the server answers frames in order, so everything up to its pong is the case's
        # answer, which must be documented; a socket still open must answer the ping
        probe = f"probe{case}"
        if ws.closed is None:
            try:
                ws.text({"type": "ping", "id": probe})
            except OSError:
                pass
        answered = False
        deadline = time.time() + 5
        while time.time() < deadline and ws.closed is None:
            got = ws.read(deadline - time.time())
            if got is None or got[0] == "close":
                break
            body = got[1]
            if body.get("id") == probe:
                answered = body.get("type") == "pong" or body.get("error", {}).get("code") in WIRE_CODES
                break
            if body.get("id") == frame_id and body.get("type") in ("ack", "pong"):
                outcomes[body["type"]] = outcomes.get(body["type"], 0) + 1
            if body.get("type") == "error":
                code = body.get("error", {}).get("code")
                outcomes[f"error {code}"] = outcomes.get(f"error {code}", 0) + 1
                if code not in WIRE_CODES or not body["error"].get("message"):
                    failures.append(f"case {case} ({what}): {body}")
        if ws.closed is None and not answered:
            failures.append(f"case {case} ({what}): the socket stopped answering")
            ws.closed = -1
        if ws.closed is not None:
            outcomes[f"close {ws.closed}"] = outcomes.get(f"close {ws.closed}", 0) + 1
            # 0: the connection ended without a close frame, expected only after our own bad close frame
            if ws.closed not in PROTOCOL_CLOSES and not (ws.closed == 0 and what in ("bad close frame", "send failed")):
                failures.append(f"case {case} ({what}): closed with {ws.closed}")
        if server.process.poll() is not None:
            failures.append(f"case {case} ({what}): the server exited with {server.process.returncode}")
            break
    if ws is not None:
        ws.close()
    print("fuzzer outcomes:", json.dumps(dict(sorted(outcomes.items())), indent=None), f"reconnects {reconnects}", flush=True)
    check(f"fuzzer: {cases} cases (seed {seed}) answered only with documented errors and protocol close codes; every open "
          "socket still answers", not failures, "; ".join(failures[:5]) + (f" … {len(failures)} in all" if len(failures) > 5 else ""))
    if failures:
        server.print_log(30)
    check("fuzzer: the server process is alive and /health answers", server.process.poll() is None and
          server.call("GET", "/health", timeout=5)[0] == 200)
    check("no HTTP request of this run was answered with a 5xx", five_hundreds(server) == 0, f"{five_hundreds(server)} in /metrics")
    time.sleep(1)
    check("fuzzer: the server's descriptors are back to where they were", server.fds() <= fds_before + 5, f"{fds_before} -> {server.fds()}")


def five_hundreds(server):
    """HTTP answers with a 5xx status so far, from /metrics (every route)."""
    with lib.urllib.request.urlopen(server.base + "/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("sos_http_requests_total{") and re.search(r'status="5\d\d"', line))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", default=".build/debug/sos-server")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slowloris", type=int, default=400)
    args = parser.parse_args()
    server = lib.Server(os.path.abspath(args.server_bin), extra_env={
        "SOS_HEADER_TIMEOUT_SECONDS": "3", "SOS_BODY_TIMEOUT_SECONDS": "5", "SOS_MAX_CONNECTIONS_PER_ADDRESS": "100000",
        "SOS_WS_RATE_PER_SECOND": "100000", "LOG_LEVEL": "error",
    }, name="hostile").start()
    try:
        ctx = setup(server)
        slowloris(server, ctx, args.slowloris, 3, 10)
        deflate_bomb(server, ctx, 20)
        oversized(server, ctx)
        fuzz(server, ctx, args.cases, args.seed)
        check("the server never exited", server.process.poll() is None)
    finally:
        server.stop()
    sys.exit(lib.summary())


if __name__ == "__main__":
    main()
