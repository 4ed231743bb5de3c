#!/usr/bin/env python3
"""PostgreSQL restarted again and again under two nodes: after every restart, cross-node delivery resumes by itself,
in both directions, and the sockets stay open.

Each cycle stops PostgreSQL (alternately `fast`, which tells clients it is shutting down, and `immediate`, which
drops them), keeps it down for a varying time (0 to 3 s), starts it, and then sends chat messages over REST on one
node until one reaches a socket on the other (A to B, then B to A). A node that keeps a dead LISTEN connection, or
a pool that stays on connections to the old server, fails the cycle.

  python3 Tests/e2e/faults/pg_restarts.py --server-bin .build/debug/sos-server [--cycles 6]
"""
import argparse
import json
import time

from websockets.sync.client import connect

import lib

ACQUIRE_MS = 2000
WITHIN = 20.0


def delivered(sender, receiver, token, recipient, label):
    """Sends messages on `sender` until one reaches the `receiver` socket; seconds it took, or None."""
    started = time.time()
    sent = 0
    while time.time() - started < WITHIN:
        marker = f"{label}-{sent}"
        sent += 1
        try:
            sender.call("POST", "/api/v1/chat/messages", token, {"recipient_id": recipient, "content": marker, "client_msg_id": marker}, timeout=5)
        except OSError:
            pass
        try:
            while True:
                frame = json.loads(receiver.recv(timeout=0.5))
                if frame.get("type") == "chat.message" and frame["data"].get("content", "").startswith(label):
                    return time.time() - started
        except TimeoutError:
            pass
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--cycles", type=int, default=6)
    args = parser.parse_args()

    pg = lib.Postgres()
    env = {"SOS_DB_ACQUIRE_TIMEOUT_MS": str(ACQUIRE_MS)}
    node_a = lib.Server(args.server_bin, pg.url, env, name="node-a").start()
    node_b = lib.Server(args.server_bin, pg.url, env, name="node-b").start()
    try:
        admin, _ = lib.login(node_a.base, "admin@test.com", "Admin123!")
        one = lib.make_user(node_a.base, admin, "doctor", "Restart one")
        two = lib.make_user(node_a.base, admin, "doctor", "Restart two")
        on_a = connect(f"ws://127.0.0.1:{node_a.port}/api/v1/ws", additional_headers={"Authorization": "Bearer " + one["token"]}, open_timeout=5)
        on_b = connect(f"ws://127.0.0.1:{node_b.port}/api/v1/ws", additional_headers={"Authorization": "Bearer " + two["token"]}, open_timeout=5)
        for socket in (on_a, on_b):
            assert json.loads(socket.recv(timeout=5))["type"] == "ready"
        warm = delivered(node_a, on_b, one["token"], two["id"], "warm")
        lib.check("before any restart, a message sent on node A reaches node B", warm is not None, f"{warm:.2f} s" if warm is not None else "never")

        times = []
        for cycle in range(args.cycles):
            mode = "fast" if cycle % 2 == 0 else "immediate"
            down = (0.0, 1.0, 3.0)[cycle % 3]
            pg.stop(mode)
            time.sleep(down)
            pg.start()
            a_to_b = delivered(node_a, on_b, one["token"], two["id"], f"cycle{cycle}-ab")
            b_to_a = delivered(node_b, on_a, two["token"], one["id"], f"cycle{cycle}-ba")
            ok = a_to_b is not None and b_to_a is not None
            detail = f"stop -m {mode}, down {down:.0f} s: A to B " + (f"{a_to_b:.2f} s" if a_to_b is not None else "never") + \
                     ", B to A " + (f"{b_to_a:.2f} s" if b_to_a is not None else "never")
            if not lib.check(f"restart {cycle + 1}: cross-node delivery resumes both ways within {WITHIN:.0f} s", ok, detail):
                node_a.print_log()
                node_b.print_log()
            else:
                times.append(max(a_to_b, b_to_a))
        lib.check("both nodes still run", node_a.process.poll() is None and node_b.process.poll() is None)
        if times:
            print(f"figures: {len(times)} of {args.cycles} restarts recovered; slowest {max(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s", flush=True)
        on_a.close()
        on_b.close()
    finally:
        node_a.stop()
        node_b.stop()
        pg.destroy()
    return lib.summary()


if __name__ == "__main__":
    raise SystemExit(main())
