"""Shared pieces of the fault scenarios: PASS/FAIL bookkeeping, a server process that can be killed and restarted on
the same data, a throwaway PostgreSQL that can be stopped and started, and small HTTP/WebSocket clients.

Everything listens on loopback; every wait is bounded.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(bool(ok))
    print(("PASS " if ok else "FAIL ") + name + (": " + detail if detail else ""), flush=True)
    return ok


def summary():
    passed = sum(RESULTS)
    print(f"{passed}/{len(RESULTS)} checks passed", flush=True)
    return 0 if passed == len(RESULTS) else 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def root():
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


class Server:
    """The server binary on a data directory that survives kill -9 and restarts."""

    def __init__(self, binary, database_url="", extra_env=None, data=None, port=None, name="server"):
        self.binary = binary
        self.database_url = database_url
        self.extra_env = extra_env or {}
        self.data = data or tempfile.mkdtemp(prefix=f"sos-faults-{name}-")
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.log = None
        self.name = name

    def env(self):
        env = dict(os.environ)
        env.update({
            "SOS_PORT": str(self.port), "SOS_DATA_DIR": self.data, "SOS_ENV": "development", "SOS_ASSETS_DIR": root(),
            "SOS_BCRYPT_COST": "4", "SOS_LOGIN_ATTEMPTS_PER_MINUTE": "100000", "SOS_LOGIN_FAILURES_PER_ACCOUNT": "100000",
            "SOS_REGISTRATIONS_PER_HOUR": "100000", "SOS_MAX_UNPAID_BOOKINGS": "100", "LOG_LEVEL": "warning",
            "DATABASE_URL": self.database_url, "JWT_SECRET": "faults-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
            "SOS_MAX_CONNECTIONS_PER_ADDRESS": "100000",
        })
        env.update(self.extra_env)
        return env

    def start(self, wait=True):
        self.log = open(os.path.join(self.data, f"{self.name}.log"), "a")
        self.process = subprocess.Popen([self.binary, "serve"], env=self.env(), stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode}; see {self.log.name}")
            try:
                urllib.request.urlopen(self.base + "/ready", timeout=1)
                return
            except Exception:
                time.sleep(0.1)
        raise SystemExit(f"{self.name} not ready after {timeout} s; see {self.log.name}")

    def print_log(self, lines=40):
        """Prints the end of this server's log (after a failed check, to see why)."""
        self.log.flush()
        print(f"--- last {lines} lines of {self.log.name}", flush=True)
        with open(self.log.name, errors="replace") as log:
            print("".join(log.readlines()[-lines:]), flush=True)

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def rss_kb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def call(self, method, path, token=None, body=None, headers=None, timeout=30):
        return http(self.base, method, path, token, body, headers, timeout)

    def metric(self, name, timeout=5):
        """The sum of a metric's samples in /metrics (every label set), e.g. sos_background_job_failures_total."""
        with urllib.request.urlopen(self.base + "/metrics", timeout=timeout) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total


def http(base, method, path, token=None, body=None, headers=None, timeout=30):
    """(status, json body, response headers); raises OSError when there is no answer (refused, reset, timeout)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None), dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return error.code, parsed, dict(error.headers)


class Hub:
    """A hub socket that keeps the frames it has not been asked about yet (bounded waits everywhere)."""

    def __init__(self, server, token):
        from websockets.sync.client import connect
        self.socket = connect(f"ws://127.0.0.1:{server.port}/api/v1/ws", additional_headers={"Authorization": "Bearer " + token}, open_timeout=5)
        self.pending = []
        self.calls = 0
        self.ready = self.next(lambda f: f.get("type") == "ready", 5)["data"]

    def next(self, predicate, timeout):
        """The first frame (kept or arriving) for which `predicate` holds, or None after `timeout` seconds."""
        for frame in self.pending:
            if predicate(frame):
                self.pending.remove(frame)
                return frame
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                frame = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.time())))
            except TimeoutError:
                return None
            if predicate(frame):
                return frame
            self.pending.append(frame)
        return None

    def seen(self, predicate):
        """Frames kept so far for which `predicate` holds (without waiting)."""
        return [frame for frame in self.pending if predicate(frame)]

    def call(self, kind, data=None, timeout=10):
        self.calls += 1
        frame_id = f"c{self.calls}"
        self.socket.send(json.dumps({"type": kind, "id": frame_id, "data": data} if data is not None else {"type": kind, "id": frame_id}))
        return self.next(lambda f: f.get("id") == frame_id, timeout)

    def close(self):
        try:
            self.socket.close()
        except Exception:
            pass


def login(base, email, password):
    status, body, _ = http(base, "POST", "/api/v1/auth/email/login", body={"email": email, "password": password})
    assert status == 200, (email, status, body)
    return body["access_token"], body["user"]["id"]


def make_user(base, admin, role, name):
    email = f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:8]}@faults.test"
    status, body, _ = http(base, "POST", "/api/v1/users", admin, {"email": email, "password": "Password1!", "name": name, "role": role})
    assert status == 201, (status, body)
    token, user_id = login(base, email, "Password1!")
    return {"email": email, "token": token, "id": user_id}


def future_day(offset):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + offset * 86400))


def clinic_with_booking(server, name):
    """The development admin, a doctor (video, fee 50 EUR, open in three days) and a patient with one booking there."""
    _, login, _ = server.call("POST", "/api/v1/auth/email/login", body={"email": "admin@test.com", "password": "Admin123!"})
    admin = login["access_token"]
    doctor = make_user(server.base, admin, "doctor", f"{name} Doctor")
    patient = make_user(server.base, admin, "patient", f"{name} Patient")
    server.call("POST", "/api/v1/doctors", doctor["token"], {"specialisation": "General practice", "is_listed": True,
                                                             "fees": {"video": 50}, "currency": "EUR"})
    day = future_day(3)
    server.call("POST", "/api/v1/availabilities", doctor["token"], {"start_date": day, "end_date": day, "start_time": "08:00:00",
                                                                    "end_time": "18:00:00", "consultation_types": ["video"]})
    status, booked, _ = server.call("POST", "/api/v1/appointments", patient["token"], {
        "doctor_id": doctor["id"], "date": day, "start_time": "09:00:00", "end_time": "09:30:00", "consultation_type": "video"})
    assert status == 201, booked
    return {"admin": admin, "doctor": doctor, "patient": patient, "appointment": booked["appointment"]["id"]}


class Postgres:
    """A throwaway PostgreSQL in a temporary directory on loopback, as the postgres user when run as root."""

    def __init__(self):
        self.bin = sorted(d for d in (os.path.join("/usr/lib/postgresql", v, "bin") for v in os.listdir("/usr/lib/postgresql")))[-1]
        self.dir = tempfile.mkdtemp(prefix="sos-faults-pg-")
        self.port = free_port()
        self.runner = []
        if os.getuid() == 0:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--home-dir", "/var/lib/postgresql", "--shell", "/bin/false", "postgres"], check=True)
            shutil.chown(self.dir, "postgres")
            self.runner = ["runuser", "-u", "postgres", "--"]
        subprocess.run(self.runner + [f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
                       check=True, capture_output=True)
        self.start()
        subprocess.run(self.runner + [f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "sos"], check=True)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/sos?sslmode=disable"

    def pg_ctl(self, *args):
        subprocess.run(self.runner + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w"] + list(args),
                       check=True, capture_output=True)

    def start(self):
        self.pg_ctl("-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=300", "start")

    def stop(self, mode="immediate"):
        self.pg_ctl("-m", mode, "stop")

    def destroy(self):
        try:
            self.stop("fast")
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def query(self, sql):
        out = subprocess.run([f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "sos", "-At", "-c", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()
