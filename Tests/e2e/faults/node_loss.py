#!/usr/bin/env python3
"""One of two nodes dies (kill -9): its clients reconnect to the other node, authenticate, resume (getting
`resume_gap`, since the other node has another epoch), refetch over REST, and chat continues; presence converges.

Two nodes share one throwaway PostgreSQL, with a short node heartbeat (`SOS_HUB_HEARTBEAT_SECONDS`, so that a
silent node is considered gone after three of them). A doctor is connected to node A; two of his secretaries (a
care relationship: they hear each other's presence) are connected to node B. Node B is killed with SIGKILL; one
secretary reconnects to node A at once, the other does not come back.

  * the one who reconnects: `auth` on node A succeeds, `resume` with node B's epoch answers `resume_gap`, the
    conversation refetched over REST holds every message acknowledged before, and the message the doctor sent
    while she was away; chat goes on both ways;
  * presence, seen from the doctor's socket: the one who came back is never reported offline and `presence.query`
    says online; the one who did not is reported offline within three heartbeats plus the sweep and the offline
    grace (protocol/websocket.md, "Several nodes");
  * node A served throughout: no 5xx, its socket stayed open.

  python3 Tests/e2e/faults/node_loss.py --server-bin .build/debug/sos-server [--heartbeat 2]
"""
import argparse
import time
import uuid

import lib

SWEEP = 5.0   # the hub's sweep interval (Hub.run)
GRACE = 3.0   # presence grace before offline


def secretary(base, admin, doctor_id, name):
    email = f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:8]}@faults.test"
    status, body, _ = lib.http(base, "POST", "/api/v1/users", admin,
                               {"email": email, "password": "Password1!", "name": name, "role": "secretary", "associated_doctors": [doctor_id]})
    assert status == 201, (status, body)
    token, user_id = lib.login(base, email, "Password1!")
    return {"email": email, "token": token, "id": user_id}


def send(server, token, recipient, content):
    status, body, _ = server.call("POST", "/api/v1/chat/messages", token, {"recipient_id": recipient, "content": content, "client_msg_id": uuid.uuid4().hex})
    assert status == 201, (status, body)
    return body["message"]["id"]


def conversation(server, token, partner):
    status, body, _ = server.call("GET", f"/api/v1/chat/conversations/{partner}/messages?limit=100", token)
    assert status == 200, (status, body)
    return {m["id"]: m["content"] for m in body["messages"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--heartbeat", type=int, default=2, help="SOS_HUB_HEARTBEAT_SECONDS for both nodes")
    args = parser.parse_args()

    pg = lib.Postgres()
    env = {"SOS_HUB_HEARTBEAT_SECONDS": str(args.heartbeat)}
    node_a = lib.Server(args.server_bin, pg.url, env, name="node-a").start()
    node_b = lib.Server(args.server_bin, pg.url, env, name="node-b").start()
    sockets = []
    try:
        admin, _ = lib.login(node_a.base, "admin@test.com", "Admin123!")
        doctor = lib.make_user(node_a.base, admin, "doctor", "Node loss doctor")
        back = secretary(node_a.base, admin, doctor["id"], "Comes back")
        gone = secretary(node_a.base, admin, doctor["id"], "Does not")

        on_a = lib.Hub(node_a, doctor["token"])
        back_b = lib.Hub(node_b, back["token"])
        gone_b = lib.Hub(node_b, gone["token"])
        sockets += [on_a, back_b, gone_b]

        # step: both secretaries online as seen from node A (the presence reports cross nodes)
        deadline = time.time() + 10
        statuses = {}
        while time.time() < deadline:
            answer = on_a.call("presence.query", {"user_ids": [back["id"], gone["id"]]})
            statuses = {p["user_id"]: p["status"] for p in answer["data"]["presence"]}
            if statuses.get(back["id"]) == "online" and statuses.get(gone["id"]) == "online":
                break
            time.sleep(0.2)
        lib.check("before the loss: the doctor on node A sees both secretaries on node B online",
                  statuses.get(back["id"]) == "online" and statuses.get(gone["id"]) == "online", str(statuses))

        # step: messages across nodes before the loss; the one who comes back remembers her epoch and last seq
        acknowledged = [send(node_a, doctor["token"], back["id"], f"before {i}") for i in range(3)]
        last_seq = 0
        for _ in acknowledged:
            frame = back_b.next(lambda f: f.get("type") == "chat.message", 10)
            if frame and frame.get("seq"):
                last_seq = max(last_seq, frame["seq"])
        epoch_b = back_b.ready["epoch"]
        lib.check("before the loss: chat from node A reaches node B", last_seq > 0, f"last seq {last_seq}")

        killed_at = time.time()
        node_b.kill9()
        for socket in (back_b, gone_b):
            socket.close()
        # the doctor writes while she is between nodes: stored, to be refetched
        while_away = send(node_a, doctor["token"], back["id"], "while you were away")

        back_a = lib.Hub(node_a, back["token"])
        sockets.append(back_a)
        resumed = back_a.call("resume", {"last_seq": last_seq, "epoch": epoch_b})
        lib.check("the client of the dead node reconnects to node A, authenticates and gets resume_gap for node B's epoch",
                  resumed is not None and resumed["type"] == "ack" and resumed["data"]["type"] == "resume_gap"
                  and resumed["data"]["epoch"] != epoch_b,
                  f"reconnected {time.time() - killed_at:.2f} s after the kill; {resumed}")
        refetched = conversation(node_a, back["token"], doctor["id"])
        lib.check("after resume_gap, the refetched conversation holds every acknowledged message and the one sent meanwhile",
                  set(acknowledged + [while_away]) <= set(refetched), f"{len(refetched)} messages")

        to_doctor = send(node_a, back["token"], doctor["id"], "I am back")
        to_doctor_frame = on_a.next(lambda f: f.get("type") == "chat.message" and f["data"].get("id") == to_doctor, 10)
        to_back = send(node_a, doctor["token"], back["id"], "welcome back")
        to_back_frame = back_a.next(lambda f: f.get("type") == "chat.message" and f["data"].get("id") == to_back, 10)
        lib.check("chat continues both ways on node A", to_doctor_frame is not None and to_back_frame is not None)

        # presence: the one who did not come back goes offline in bounded time; the one who did never does
        bound = 3 * args.heartbeat + SWEEP + GRACE + 2.0
        offline = on_a.next(lambda f: f.get("type") == "presence.changed" and f["data"]["user_id"] == gone["id"]
                            and f["data"]["status"] == "offline", max(0.1, killed_at + bound - time.time()))
        lib.check("the secretary who did not come back is reported offline to the doctor within three heartbeats, the sweep and the grace",
                  offline is not None, f"{time.time() - killed_at:.1f} s after the kill (bound {bound:.0f} s)" if offline else f"not within {bound:.0f} s")
        # wait past the dead node's expiry once more, then look at what the doctor heard about the one who came back
        on_a.next(lambda f: False, max(0.0, killed_at + bound - time.time()) + 1.0)
        flapped = on_a.seen(lambda f: f.get("type") == "presence.changed" and f["data"]["user_id"] == back["id"] and f["data"]["status"] == "offline")
        answer = on_a.call("presence.query", {"user_ids": [back["id"], gone["id"]]})
        statuses = {p["user_id"]: p["status"] for p in answer["data"]["presence"]}
        lib.check("the secretary who came back is never reported offline, and presence.query says online once node B is gone",
                  not flapped and statuses.get(back["id"]) == "online" and statuses.get(gone["id"]) == "offline",
                  f"{len(flapped)} offline reports; {statuses}")

        status, _, _ = node_a.call("GET", "/ready")
        pong = on_a.call("ping")
        lib.check("node A served throughout: ready, its socket open", status == 200 and pong is not None and pong["type"] == "pong"
                  and node_a.process.poll() is None)
    finally:
        for socket in sockets:
            socket.close()
        node_a.stop()
        node_b.stop()
        pg.destroy()
    return lib.summary()


if __name__ == "__main__":
    raise SystemExit(main())
