"""Browser-test harness: server processes (SQLite or a fresh PostgreSQL schema), headless Chromium sessions,
waits, screenshots and axe-core checks. No fixed sleeps as the waiting mechanism: everything waits on a condition."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
AXE = (HERE / "vendor" / "axe-core" / "axe.min.js").read_text()
DEMO_PASSWORD = "Demo1234!"
ADMIN = ("admin@test.com", "Admin123!")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One sos-server process; restart() keeps its port and data directory (the reconnect test)."""

    def __init__(self, binary, database_url="", psql="psql", extra_env=None):
        self.binary = binary
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix="sos-browser-data.")
        self.url = f"http://127.0.0.1:{self.port}"
        self.schema = ""
        if database_url:
            self.schema = f"browser_{int(time.time() * 1000) % 10**10}"
            subprocess.run([psql, database_url.split("?")[0], "-q", "-c", f"CREATE SCHEMA {self.schema}"], check=True)
        self.env = dict(os.environ)
        self.env.update({
            "SOS_PORT": str(self.port), "SOS_HOST": "127.0.0.1", "SOS_DATA_DIR": self.data, "SOS_ASSETS_DIR": str(ROOT),
            "SOS_ENV": "development", "DATABASE_URL": database_url, "SOS_DB_SCHEMA": self.schema,
            "SOS_BCRYPT_COST": "4", "SOS_LOGIN_ATTEMPTS_PER_MINUTE": "100000", "SOS_LOGIN_FAILURES_PER_ACCOUNT": "100000",
            "SOS_REGISTRATIONS_PER_HOUR": "100000", "SOS_OTP_PER_DESTINATION_PER_HOUR": "1000", "SOS_OTP_PER_ADDRESS_PER_HOUR": "100000",
            "SOS_STUN_URLS": "", "LOG_LEVEL": "warning", "SOS_WS_RATE_PER_SECOND": "200",
        })
        self.env.update((extra_env(self.url) if callable(extra_env) else extra_env) or {})
        self.proc = None
        self.log = open(os.path.join(self.data, "server.log"), "ab")
        try:
            self.start()
        except Exception:
            print(open(os.path.join(self.data, "server.log")).read()[-2000:])
            self.close()
            raise

    def start(self):
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log in {self.data}/server.log")
            try:
                with urllib.request.urlopen(self.url + "/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self):
        self.stop()
        self.start()

    def close(self, keep_log_in=None):
        self.stop()
        self.log.close()
        if keep_log_in:
            shutil.copy(os.path.join(self.data, "server.log"), os.path.join(keep_log_in, f"server-{self.port}{'-' + self.schema if self.schema else ''}.log"))
        shutil.rmtree(self.data, ignore_errors=True)

    # ---- REST, for setting up and checking state (the browser is what is under test) ----
    def call(self, method, path, body=None, token=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + "/api/v1" + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text else None), dict(r.headers)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                return e.code, json.loads(text), dict(e.headers)
            except ValueError:
                return e.code, text, dict(e.headers)

    def token(self, email, password=DEMO_PASSWORD):
        status, body, _ = self.call("POST", "/auth/email/login", {"email": email, "password": password})
        assert status == 200, f"login {email}: {status} {body}"
        return body["access_token"]

    def admin_token(self):
        return self.token(*ADMIN)

    def get_raw(self, path):
        req = urllib.request.Request(self.url + path)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()


class Browser:
    """A headless Chromium session with fake camera and microphone; the test signs it in and out."""

    def __init__(self, name, out_dir, width=1280, height=900):
        self.name = name
        self.out = out_dir
        opts = webdriver.ChromeOptions()
        opts.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
        for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}",
                    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
                    "--lang=en-US", "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                    "--disable-backgrounding-occluded-windows", "--disable-extensions", "--no-first-run"]:
            opts.add_argument(arg)
        opts.add_experimental_option("prefs", {"intl.accept_languages": "en-US"})
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")), options=opts)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)

    def quit(self):
        try:
            self.driver.quit()
        except WebDriverException:
            pass


def wait(driver, cond, timeout=15, what="condition"):
    """Waits for cond(driver) to be truthy (exceptions count as not yet); raises AssertionError naming `what`."""
    def check(d):
        try:
            return cond(d)
        except (StaleElementReferenceException, WebDriverException, AssertionError, KeyError, IndexError, TypeError):
            return False
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


def el(driver, css, timeout=15):
    return wait(driver, lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None), timeout, f"visible {css}")


def els(driver, css):
    return driver.find_elements(By.CSS_SELECTOR, css)


def text_of(driver, css):
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else ""


def wait_text(driver, css, needle, timeout=15):
    return wait(driver, lambda d: needle in text_of(d, css), timeout, f"{needle!r} in {css}")


def click(driver, css, timeout=15):
    """Clicks the first visible match; a live re-render between finding and clicking is retried."""
    for attempt in range(5):
        e = el(driver, css, timeout)
        try:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", e)
            e.click()
            return e
        except StaleElementReferenceException:
            if attempt == 4:
                raise
    return None


def choose(driver, css, value):
    """Picks an <option> by value in a <select> (retried across re-renders)."""
    return click(driver, f'{css} option[value="{value}"]')


def type_into(driver, css, text):
    for attempt in range(5):
        e = el(driver, css)
        try:
            e.send_keys(text)
            return e
        except StaleElementReferenceException:
            if attempt == 4:
                raise
    return None


def fill(driver, css, value):
    e = el(driver, css)
    e.clear()
    e.send_keys(value)
    return e


def goto(driver, base, route):
    """Navigates within the single-page app (hash routes) and waits for the view to render."""
    if not driver.current_url.startswith(base + "/") or "oauth" in driver.current_url or "/docs" in driver.current_url:
        driver.get(base + "/" + route)
    else:
        driver.execute_script("location.hash = arguments[0]", route)
    section = route.lstrip("#/").split("/")[0].split("?")[0]
    wait(driver, lambda d: d.execute_script("return document.getElementById('main').dataset.view") == section, 15, f"view {section}")
    wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "main .loading"), 15, "page loaded")


def signed_out(driver, base):
    """Opens the app and signs out through the menu if someone is signed in; waits for the sign-in form."""
    if not driver.current_url.startswith(base + "/") or "/docs" in driver.current_url or "oauth" in driver.current_url or "fake-provider" in driver.current_url:
        driver.get(base + "/")
    found = wait(driver, lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "#sign-out, #login-email") if e.is_displayed()], 15, "sign-in form or sign-out button")
    if found[0].get_attribute("id") == "sign-out":
        found[0].click()
    el(driver, "#login-email")


def sign_in(driver, base, email, password=DEMO_PASSWORD):
    signed_out(driver, base)
    fill(driver, "#login-email", email)
    fill(driver, "#login-password", password)
    click(driver, "#login-submit")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#sign-out"), 15, f"{email} signed in")
    wait(driver, lambda d: d.execute_script("return document.documentElement.dataset.hub") == "online", 15, "hub online")


def hub_online(driver, timeout=30):
    wait(driver, lambda d: d.execute_script("return document.documentElement.dataset.hub") == "online", timeout, "hub online")


class Shots:
    """Screenshots of every view (numbered, in the output folder) and an axe-core run on each."""

    def __init__(self, out):
        self.out = Path(out)
        self.n = 0
        self.index = []
        self.prefix = ""

    def take(self, driver, name, what, axe=True):
        self.n += 1
        path = self.out / f"{self.n:02d}-{self.prefix}{name}.png"
        # the whole page, not just the viewport: grow the window to the document's height for the picture
        size = driver.get_window_size()
        height = driver.execute_script("return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
        inner = driver.execute_script("return window.innerHeight")
        if height > inner:
            driver.set_window_size(size["width"], min(height + size["height"] - inner, 5000))
        try:
            driver.save_screenshot(str(path))
        finally:
            if height > inner:
                driver.set_window_size(size["width"], size["height"])
        self.index.append((path.name, what))
        return run_axe(driver) if axe else []


def run_axe(driver, context=None):
    """Runs axe-core in the page; returns the serious and critical violations as 'rule: target' strings."""
    driver.execute_script(AXE)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(arguments[0] || document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))).catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
        context)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'])}" for v in result if v["impact"] in ("serious", "critical")]


def next_weekday(days_ahead=1):
    """A date (YYYY-MM-DD) at least days_ahead from today that is a Monday–Friday (the demo doctors' days)."""
    t = time.time() + days_ahead * 86400
    while time.gmtime(t).tm_wday >= 5:
        t += 86400
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def otp_from_outbox(server, recipient, channel=None, timeout=15):
    token = server.admin_token()
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, body, _ = server.call("GET", "/dev/outbox?limit=50", token=token)
        if status == 200:
            for m in body["messages"]:
                if recipient.lower() in m["recipient"].lower() and (channel is None or m["channel"] == channel):
                    code = re.search(r"\b(\d{6})\b", m["body"] + " " + (m["subject"] or ""))
                    if code:
                        return code.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no code for {recipient} in the development outbox")


__all__ = ["Server", "Browser", "Shots", "wait", "el", "els", "text_of", "wait_text", "click", "choose", "type_into", "fill", "goto", "sign_in", "signed_out", "hub_online",
           "run_axe", "next_weekday", "otp_from_outbox", "By", "Keys", "DEMO_PASSWORD", "ADMIN"]
