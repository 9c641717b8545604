"""Runs the real `gatehouse` binary for the interoperability tests.

Each test session starts `gatehouse serve` on a free loopback port with a fresh SQLite file,
creates tenants (ES256, RS256, EdDSA) and clients through the CLI, and stops the server with
SIGTERM at the end. GATEHOUSE_BIN names the binary (scripts/test builds it).
"""
import json
import os
import socket
import subprocess
import tempfile
import time

import pytest
import requests

BIN = os.environ.get("GATEHOUSE_BIN", ".build/debug/gatehouse")
# bcrypt cost for the users the tests create (the server's default is 12).
os.environ.setdefault("GATEHOUSE_PASSWORD_HASH_COST", "6")


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
        command = [BIN, *args] + (["--database", self.database] if database else [])
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"gatehouse {' '.join(args)} failed: {result.stderr}")
        return result

    def cli_json(self, *args):
        return json.loads(self.cli(*args, "--json").stdout)

    def start(self, *extra):
        env = dict(os.environ, GATEHOUSE_HTTP_PORT=str(self.port), GATEHOUSE_LOG_LEVEL=os.environ.get("GATEHOUSE_TEST_LOG_LEVEL", "warning"))
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
