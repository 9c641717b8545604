"""What the drills share: a `gatehouse serve` node (release build), seeded refresh chains, and the
mixed load (refresh chains that keep the last token they received and retry a request that got
no answer or a 5xx with the same token; client-credentials threads), with its counts."""
import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("GATEHOUSE_BIN", os.path.join(ROOT, ".build/release/gatehouse"))


class Node:
    def __init__(self, database, port, work=None):
        self.database = database
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.work = work or tempfile.mkdtemp(prefix="gatehouse-drill-")
        self.env = dict(os.environ, GATEHOUSE_LOG_LEVEL="warning", GATEHOUSE_PASSWORD_HASH_COST="4", GATEHOUSE_HTTP_PORT=str(port))
        self.log = open(os.path.join(self.work, f"server-{port}.log"), "a")
        self.process = None

    def cli(self, *command):
        return subprocess.run([BIN, *command, "--database", self.database], env=self.env, check=True, capture_output=True,
                              text=True).stdout

    def start(self):
        self.process = subprocess.Popen([BIN, "serve", "--database", self.database], env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("server did not start; see " + self.log.name)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)

    def post(self, path, form, auth=None):
        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(form).encode())
        if auth:
            request.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read()), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


class Load:
    """32 refresh chains and client-credentials callers, until `stop()`. Given one node: 4
    client-credentials threads. Given several: each chain alternates between the nodes request by
    request, and each node has one client-credentials caller sending one request at a time (the
    caller that waits if a cache makes a request wait), counted per node."""

    def __init__(self, nodes, chains=32):
        self.nodes = nodes if isinstance(nodes, list) else [nodes]
        node = self.nodes[0]
        self.node = node
        self.service = json.loads(node.cli("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read", "--json"))
        self.web = json.loads(node.cli("clients", "create", "--tenant", "default", "--name", "web", "--redirect-uri",
                                       "http://127.0.0.1:1/cb", "--json"))
        node.cli("users", "create", "--tenant", "default", "--username", "drill", "--password", "drill password")
        time.sleep(0.5)
        self.tokens = subprocess.run(
            [sys.executable, os.path.join(ROOT, "bench", "refresh_seed.py"), node.base + "/default", self.web["client_id"],
             self.web["client_secret"], "http://127.0.0.1:1/cb", "drill", "drill password", str(chains)],
            check=True, capture_output=True, text=True).stdout.split()
        assert len(self.tokens) == chains, self.tokens
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.seen = {"refresh": 0, "cc": 0, "retries": 0, "503": 0, "503_with_retry_after": 0, "500": 0}
        # Per second since start: refresh successes, client-credentials successes (also per node
        # as "cc@PORT"), 503s and 500s.
        self.timeline = {}
        self.lost = {}
        self.started = time.time()
        self.threads = [threading.Thread(target=self._chain, args=(i, t)) for i, t in enumerate(self.tokens)]
        callers = [(n,) for n in self.nodes] if len(self.nodes) > 1 else [(node,)] * 4
        self.threads += [threading.Thread(target=self._credentials, args=caller) for caller in callers]

    def _count(self, kind, headers=None, node=None):
        second = int(time.time() - self.started)
        with self.lock:
            self.seen[kind] = self.seen.get(kind, 0) + 1
            slot = self.timeline.setdefault(second, {"refresh": 0, "cc": 0, "503": 0, "500": 0})
            if kind in slot:
                slot[kind] += 1
            if node is not None and len(self.nodes) > 1:
                slot[f"cc@{node.port}"] = slot.get(f"cc@{node.port}", 0) + 1
            if kind == "503" and headers and headers.get("Retry-After"):
                self.seen["503_with_retry_after"] += 1

    def _chain(self, index, token):
        auth = (self.web["client_id"], self.web["client_secret"])
        sent = index
        while not self.halt.is_set():
            node = self.nodes[sent % len(self.nodes)]
            sent += 1
            try:
                status, body, headers = node.post("/default/oauth2/token", {"grant_type": "refresh_token", "refresh_token": token}, auth)
            except OSError:
                status, body, headers = None, {}, {}
            if status == 200:
                token = body["refresh_token"]
                self._count("refresh")
            elif status is None or status >= 500:
                self._count({503: "503", 500: "500"}.get(status, "retries"), headers)
                time.sleep(0.2)
            else:
                self.lost[index] = f"{status} {body.get('error')} {body.get('error_codes')}"
                return

    def _credentials(self, node):
        auth = (self.service["client_id"], self.service["client_secret"])
        while not self.halt.is_set():
            try:
                status, _, headers = node.post("/default/oauth2/token", {"grant_type": "client_credentials"}, auth)
            except OSError:
                status, headers = None, {}
            if status == 200:
                self._count("cc", node=node)
            else:
                if status in (500, 503):
                    self._count(str(status), headers)
                time.sleep(0.2)

    def start(self):
        self.started = time.time()
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.halt.set()
        for thread in self.threads:
            thread.join()


def query(database, sql):
    if database.startswith("postgres"):
        return int(subprocess.run(["psql", database, "-Atc", sql], check=True, capture_output=True, text=True).stdout.strip())
    return int(sqlite3.connect(database).execute(sql.replace("NOT aggregated", "aggregated = 0")).fetchone()[0])


def recorded_successes(database):
    """Success events in the sign-in log: whole rows not counted in an aggregate, plus aggregate counts."""
    return (query(database, "SELECT COUNT(*) FROM sign_ins WHERE result = 'success' AND NOT aggregated")
            + query(database, "SELECT COALESCE(SUM(count), 0) FROM sign_in_aggregates WHERE result = 'success'"))


def half_rotated(database):
    """Live grants whose generation has no refresh token (must be 0)."""
    return query(database, "SELECT COUNT(*) FROM grants g WHERE g.revoked_at IS NULL AND g.code_redeemed_at IS NOT NULL AND NOT EXISTS "
                           "(SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.grant_id AND r.generation = g.generation)")
