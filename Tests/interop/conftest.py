"""Runs the real `gatehouse` binary for the interoperability tests.

Each test session starts `gatehouse serve` on a free loopback port with a fresh SQLite file,
creates tenants (ES256, RS256, EdDSA) and clients through the CLI, and stops the server with
SIGTERM at the end. GATEHOUSE_BIN names the binary (scripts/test builds it).

Every server logs JSON lines at level info (one line per request; GATEHOUSE_TEST_LOG_LEVEL
changes the level). Every credential and token the tests send to a server or get back from it
(client secrets, passwords, codes, tokens, assertions, verifiers, user and device codes) is
collected on the way (`SECRETS`, through a wrapper around requests' transport and the CLI), and
each server's log is searched for all of them when it stops: a log must never hold one.
"""
import base64
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests
import requests.adapters

BIN = os.environ.get("GATEHOUSE_BIN", ".build/debug/gatehouse")
# bcrypt cost for the users the tests create (the server's default is 12).
os.environ.setdefault("GATEHOUSE_PASSWORD_HASH_COST", "6")
# Every test runs from 127.0.0.1: the failure throttles get limits no test reaches by accident
# (test_throttling.py sets its own).
for name in ("CLIENT", "SIGNIN", "USER_CODE"):
    os.environ.setdefault(f"GATEHOUSE_THROTTLE_{name}_FAILURES", "100000")
# Opens /metrics and readiness in detail on the main port to `MANAGEMENT` (a Bearer header);
# without it the main port serves neither.
MANAGEMENT_TOKEN = "interop-management-token"
os.environ.setdefault("GATEHOUSE_METRICS_TOKEN", MANAGEMENT_TOKEN)
MANAGEMENT = {"Authorization": f"Bearer {MANAGEMENT_TOKEN}"}


SECRETS = set()
SECRET_FIELDS = {
    "client_secret", "password", "code", "refresh_token", "access_token", "id_token", "device_code", "user_code",
    "client_assertion", "assertion", "code_verifier", "subject_token", "token", "otp", "totp_secret", "secret",
}


def note_secret(value):
    # Short values (a port, a six-digit one-time code) would match unrelated text.
    if isinstance(value, str) and len(value) >= 8:
        SECRETS.add(value)


def note_form(body):
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        for key, value in urllib.parse.parse_qsl(body):
            if key in SECRET_FIELDS:
                note_secret(value)


def note_json(data):
    if isinstance(data, dict):
        for key, value in data.items():
            if key in SECRET_FIELDS:
                note_secret(value)
            note_json(value)
    elif isinstance(data, list):
        for value in data:
            note_json(value)


def note_authorization(header):
    if not header:
        return
    scheme, _, credentials = header.partition(" ")
    note_secret(credentials)
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials).decode()
            note_secret(urllib.parse.unquote(decoded.partition(":")[2]))
        except ValueError:
            pass


def note_url(url):
    parts = urllib.parse.urlsplit(url or "")
    for part in (parts.query, parts.fragment):
        note_form(part)


_send = requests.adapters.HTTPAdapter.send


def _recording_send(self, request, **kwargs):
    """requests' transport, noting every secret that goes to or comes from a loopback server."""
    local = urllib.parse.urlsplit(request.url).hostname in ("127.0.0.1", "localhost")
    if local:
        note_authorization(request.headers.get("Authorization"))
        note_form(request.body)
        note_url(request.url)
    response = _send(self, request, **kwargs)
    if local and not kwargs.get("stream"):
        note_url(response.headers.get("Location"))
        if "json" in response.headers.get("Content-Type", ""):
            try:
                note_json(response.json())
            except ValueError:
                pass
    return response


requests.adapters.HTTPAdapter.send = _recording_send


def assert_log_holds_no_secret(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    found = sorted(secret[:6] + "…" for secret in SECRETS if secret in text)
    assert not found, f"{path} holds {len(found)} secret(s) the tests used (first characters: {found[:10]})"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workdir):
        self.workdir = workdir
        self.database = os.path.join(workdir, "gatehouse.sqlite")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.log = open(os.path.join(workdir, "server.log"), "w")

    def cli(self, *args, check=True, database=True):
        for flag, value in zip(args, args[1:]):
            if flag in ("--password", "--secret"):
                note_secret(value)
        command = [BIN, *args] + (["--database", self.database] if database else [])
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"gatehouse {' '.join(args)} failed: {result.stderr}")
        return result

    def cli_json(self, *args):
        data = json.loads(self.cli(*args, "--json").stdout)
        note_json(data)
        return data

    def start(self, *extra, without=(), env=None):
        env = dict(
            os.environ, GATEHOUSE_HTTP_PORT=str(self.port), GATEHOUSE_LOG_LEVEL=os.environ.get("GATEHOUSE_TEST_LOG_LEVEL", "info"),
            GATEHOUSE_LOG_FORMAT=os.environ.get("GATEHOUSE_TEST_LOG_FORMAT", "json"), **(env or {}))
        for name in without:
            env.pop(name, None)
        self.process = subprocess.Popen([BIN, "serve", "--database", self.database, *extra], env=env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(self.base + "/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("server did not start: " + open(self.log.name).read())

    def stop(self):
        try:
            return self._stop()
        finally:
            self.log.flush()
            assert_log_holds_no_secret(self.log.name)

    def _stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                # A graceful shutdown that does not end is a failure; say what the server said last.
                self.process.kill()
                self.process.wait(timeout=10)
                self.log.flush()
                tail = open(self.log.name).read()[-3000:]
                raise AssertionError(f"gatehouse did not stop within 60 s of SIGTERM; its log ends:\n{tail}")
        return self.process.returncode if self.process else None


@pytest.fixture(scope="session")
def server():
    with tempfile.TemporaryDirectory() as workdir:
        srv = Server(workdir)
        srv.start()
        srv.cli("tenants", "create", "rsa", "--algorithm", "RS256")
        srv.cli("tenants", "create", "ed", "--algorithm", "EdDSA")
        srv.clients = {}
        for tenant in ("default", "rsa", "ed"):
            srv.clients[tenant] = srv.cli_json(
                "clients", "create", "--tenant", tenant, "--name", "svc", "--scope", "api.read api.write",
                "--default-scope", "api.read", "--resource", "https://api.example.com")
        yield srv
        assert srv.stop() == 0


@pytest.fixture()
def fresh_server():
    with tempfile.TemporaryDirectory() as workdir:
        srv = Server(workdir)
        srv.start()
        yield srv
        srv.stop()


@pytest.fixture()
def unstarted_server():
    with tempfile.TemporaryDirectory() as workdir:
        srv = Server(workdir)
        yield srv
        srv.stop()
