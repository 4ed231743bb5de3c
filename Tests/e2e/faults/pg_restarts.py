#!/usr/bin/env python3
"""PostgreSQL restarted again and again under two nodes: after every restart, cross-node delivery resumes by itself,
in both directions, the sockets stay open, and they are told through a `resume_gap` event (with a new epoch) that
they may have missed events while the node was not listening.

Each cycle stops PostgreSQL (alternately `fast`, which tells clients it is shutting down, and `immediate`, which
drops them), keeps it down for a varying time (0 to 3 s), starts it, and then sends chat messages over REST on one
node until one reaches a socket on the other (A to B, then B to A). A node that keeps a dead LISTEN connection, or
a pool that stays on connections to the old server, fails the cycle.

  python3 Tests/e2e/faults/pg_restarts.py --server-bin .build/debug/sos-server [--cycles 6]
"""
import argparse
import time

import lib

ACQUIRE_MS = 2000
WITHIN = 20.0


def delivered(sender, receiver, token, recipient, label):
    """Sends messages on `sender` until one reaches the `receiver` socket (a lib.Hub); seconds it took, or None."""
    started = time.time()
    sent = 0
    while time.time() - started < WITHIN:
        marker = f"{label}-{sent}"
        sent += 1
        try:
            sender.call("POST", "/api/v1/chat/messages", token, {"recipient_id": recipient, "content": marker, "client_msg_id": marker}, timeout=5)
        except OSError:
            pass
        if receiver.next(lambda f: f.get("type") == "chat.message" and f["data"].get("content", "").startswith(label), 0.5):
            return time.time() - started
    return None


def gaps(socket):
    """The resume_gap events the socket got (and forgets every other frame it kept)."""
    found = socket.seen(lambda f: f.get("type") == "resume_gap")
    socket.pending.clear()
    return found


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
        on_a = lib.Hub(node_a, one["token"])
        on_b = lib.Hub(node_b, two["token"])
        epochs = {"a": on_a.ready["epoch"], "b": on_b.ready["epoch"]}
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
            # the sockets were told they may have missed events: a resume_gap event with a new epoch on each node
            told = {}
            for name, socket in (("a", on_a), ("b", on_b)):
                events = gaps(socket)
                fresh = [e for e in events if e["data"]["epoch"] != epochs[name]]
                if fresh:
                    epochs[name] = fresh[-1]["data"]["epoch"]
                told[name] = len(fresh)
            ok = a_to_b is not None and b_to_a is not None and told["a"] >= 1 and told["b"] >= 1
            detail = f"stop -m {mode}, down {down:.0f} s: A to B " + (f"{a_to_b:.2f} s" if a_to_b is not None else "never") + \
                     ", B to A " + (f"{b_to_a:.2f} s" if b_to_a is not None else "never") + \
                     f"; resume_gap events with a new epoch: node A {told['a']}, node B {told['b']}"
            if not lib.check(f"restart {cycle + 1}: cross-node delivery resumes both ways within {WITHIN:.0f} s, and each node's sockets get resume_gap", ok, detail):
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
