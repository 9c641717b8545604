"""README.md's quick start and its MSAL and azure-identity recipes, followed word for word.

The commands are read from README.md, so that the README cannot drift from what works: the test
runs the first command (the server) and every `sh` block of "Quick start" and "Use with MSAL and
azure-identity" with bash in an empty folder, as a newcomer would type them, with only these
stand-ins for the newcomer:

- `swift run gatehouse` is the binary under test (`GATEHOUSE_BIN`), and `sudo` is dropped when
  the test already runs as root (it needs port 443 as the recipe does: see test_entra.py);
- a command that starts the server (`swift run gatehouse`, `... serve ...`) runs in the
  background until it answers;
- where a comment says "set A and B to ..." (or "set A to it"), the test sets those variables
  from the `Client ID:` and `Client secret:` lines the command before printed, as a reader would;
- `export` lines set the variable for the rest of the walk (the Python blocks included).

Then the Python blocks run as written, and alice signs in with an OpenID Connect client (authlib)
against the issuer the README names, with the client and password it created, and logs out the
standard way to the post-logout URI it registered.
"""
import os
import re
import shlex
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

import conftest

README = Path(__file__).resolve().parents[2] / "README.md"


def section(title):
    """The text of a `## title` section, up to the next `## `."""
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def blocks(text, language):
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def commands(block):
    """The block's commands: continuation lines joined, comment lines kept as their own entries."""
    joined = block.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip()]


def free(port):
    import socket
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Walk:
    """A newcomer's terminal: a folder, an environment, the servers they started."""

    def __init__(self, folder):
        self.folder = folder
        self.env = dict(os.environ, PWD=folder)
        self.env.pop("REQUESTS_CA_BUNDLE", None)
        self.binary = os.path.abspath(conftest.BIN)
        self.servers = []
        self.last_output = ""

    def line(self, command):
        if command.startswith("#"):
            self.follow_comment(command)
            return
        command = command.replace("swift run gatehouse", shlex.quote(self.binary))
        if command.startswith("sudo "):
            assert os.geteuid() == 0, "the recipe binds port 443: run the suite as root (CI does)"
            command = command[len("sudo "):]
        if command.startswith("export "):
            name, value = command[len("export "):].split("=", 1)
            self.env[name] = subprocess.run(["bash", "-c", f"printf %s {value}"], cwd=self.folder, env=self.env,
                                            capture_output=True, text=True, check=True).stdout
            return
        words = shlex.split(command, comments=True)
        if words[0] == self.binary and (len(words) == 1 or words[1] == "serve"):
            self.start(command, words)
            return
        result = subprocess.run(["bash", "-c", command], cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        self.last_output = result.stdout

    def follow_comment(self, comment):
        """'set A and B to the first two' / 'set A to it': from the output just printed."""
        wanted = re.search(r"set ([A-Z_]+)(?: and ([A-Z_]+))? to", comment)
        if not wanted:
            return
        printed = dict(re.findall(r"^(Client ID|Client secret):\s+(\S+)", self.last_output, re.M))
        if wanted.group(2):
            self.env[wanted.group(1)], self.env[wanted.group(2)] = printed["Client ID"], printed["Client secret"]
        else:
            self.env[wanted.group(1)] = printed["Client secret"]
        conftest.note_secret(printed["Client secret"])

    def start(self, command, words):
        port = 443 if "--port" in words and words[words.index("--port") + 1] == "443" else 8080
        assert free(port), f"port {port} is taken: the README's commands need it"
        log = open(os.path.join(self.folder, f"server-{port}.log"), "w")
        process = subprocess.Popen(["bash", "-c", "exec " + command], cwd=self.folder, env=self.env, stdout=log, stderr=log,
                                   start_new_session=True)
        self.servers.append((process, log))
        url = "http://127.0.0.1:8080/health/ready" if port == 8080 else "https://127.0.0.1/health/ready"
        verify = os.path.join(self.folder, "gatehouse-data/dev-cert/ca.pem") if port == 443 else True
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(url, timeout=1, verify=verify).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert process.poll() is None, open(log.name).read()
            time.sleep(0.2)
        raise AssertionError("the server did not answer: " + open(log.name).read())

    def stop(self):
        for process, log in self.servers:
            os.killpg(process.pid, signal.SIGTERM)
            assert process.wait(timeout=30) == 0, open(log.name).read()
            log.close()
            conftest.assert_log_holds_no_secret(log.name)


@pytest.fixture
def walk(tmp_path):
    walk = Walk(str(tmp_path))
    yield walk
    walk.stop()


def sign_in(browser, url, username, password):
    """The user at the sign-in and consent pages, with plain HTTP; returns the final redirect."""
    page = browser.get(url)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'name="(interaction|csrf)" value="([^"]*)"', page.text))
    assert "Username or email address" in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    reply = browser.post(action, data=dict(fields, username=username, password=password), allow_redirects=False)
    assert reply.status_code == 200 and "oauth2/consent" in reply.text, reply.text
    consent = dict(re.findall(r'name="(interaction|csrf)" value="([^"]*)"', reply.text), decision="allow")
    reply = browser.post(re.search(r'action="([^"]+consent)"', reply.text).group(1), data=consent, allow_redirects=False)
    assert reply.status_code == 303, reply.text
    return reply.headers["Location"]


def test_the_readme_quick_start_and_recipes_work_as_written(walk):
    top = blocks(README.read_text().split("\n## ", 1)[0], "sh")[0]
    first = commands(top)[0]
    assert first.startswith("swift run gatehouse ") and "run the server" in first
    walk.line(first)  # the second line is `scripts/test`: this suite

    quick = section("Quick start")
    for block in blocks(quick, "sh"):
        for command in commands(block):
            walk.line(command)
            if command.startswith("curl"):
                assert '"access_token"' in walk.last_output, walk.last_output

    # The web app and alice, as the quick start made them, with an OpenID Connect client.
    issuer = re.search(r"issuer `(http[^`]+)`", quick).group(1)
    password = re.search(r"users create --tenant default alice .*<<< '([^']+)'", quick).group(1)
    redirect = re.search(r"--redirect-uri (\S+)", quick).group(1)
    after_logout = re.search(r"--post-logout-redirect-uri (\S+)", quick).group(1)
    metadata = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert metadata["issuer"] == issuer
    oidc = OAuth2Session(walk.env["WEB_CLIENT_ID"], walk.env["WEB_CLIENT_SECRET"], scope="openid profile email",
                         redirect_uri=redirect, code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic")
    verifier = os.urandom(32).hex()
    url, state = oidc.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce="n-readme")
    browser = requests.Session()
    location = sign_in(browser, url, "alice@example.com", password)  # by email address, as the quick start says
    assert location.startswith(redirect + "?")
    token = oidc.fetch_token(metadata["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert token["id_token"]
    # A standard RP-initiated logout returns to the registered post-logout URI, and the session is over.
    out = browser.get(metadata["end_session_endpoint"], allow_redirects=False, params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": after_logout, "state": "bye"})
    assert out.status_code in (302, 303), out.text
    assert out.headers["Location"].startswith(after_logout)
    assert urllib.parse.parse_qs(urllib.parse.urlparse(out.headers["Location"]).query)["state"] == ["bye"]
    silent, _ = oidc.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, prompt="none")
    again = browser.get(silent, allow_redirects=False)
    assert "error=login_required" in again.headers.get("Location", ""), again.text

    # MSAL and azure-identity, over HTTPS on port 443, from this page's own blocks.
    recipes = section("Use with MSAL and azure-identity")
    for block in blocks(recipes, "sh"):
        for command in commands(block):
            walk.line(command)
    python = blocks(recipes, "python")
    assert len(python) == 1
    saved = {name: os.environ.get(name) for name in ("REQUESTS_CA_BUNDLE", "DAEMON_SECRET")}
    os.environ.update({name: walk.env[name] for name in saved})
    try:
        results = {}
        exec(compile(python[0], "README.md (python)", "exec"), results)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    assert "access_token" in results["app_token"], results["app_token"]
    assert "access_token" in results["user_token"], results["user_token"]
    assert results["azure_token"].token
