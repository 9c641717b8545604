"""oidc-agent (Debian's oidc-agent-cli) registers itself dynamically against the running binary:
`oidc-gen` finds the registration endpoint in the issuer's metadata, registers a public client with
a loopback redirect (`--no-scheme`: no custom URI scheme), prints the authorization URL (the test
plays the user through the sign-in and consent pages and delivers the redirect to oidc-gen's own
loopback listener), and `oidc-token` then obtains access tokens from the agent."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests

from conftest import note_secret
from test_signin import PASSWORD, browser_step

pytestmark = pytest.mark.skipif(shutil.which("oidc-gen") is None, reason="oidc-agent-cli is not installed (.ci/run installs it)")


def loopback_port():
    """A free port oidc-agent accepts (it refuses the ephemeral range)."""
    import random
    import socket
    for _ in range(100):
        port = random.randint(20000, 40000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise AssertionError("no free port")


def test_oidc_agent_registers_itself_and_gets_an_access_token(server):
    server.cli("tenants", "create", "agent")
    server.cli("tenants", "set", "agent", "--client-registration", "open")
    username = "agentuser"
    server.cli("users", "create", "--tenant", "agent", username, "--display-name", "Agent User", "--password", PASSWORD)
    issuer = server.base + "/agent"
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, OIDC_CONFIG_DIR=os.path.join(home, ".oidc-agent"), OIDC_ENCRYPTION_PW="interop-pw")
        os.makedirs(env["OIDC_CONFIG_DIR"], mode=0o700)
        agent = json.loads(subprocess.run(["oidc-agent", "--json"], env=env, capture_output=True, text=True, check=True).stdout)
        env["OIDC_SOCK"], env["OIDCD_PID"] = agent["socket"], str(agent["dpid"])
        port = loopback_port()
        gen = subprocess.Popen(
            ["oidc-gen", "gatehouse", f"--iss={issuer}", "--scope=openid profile offline_access", "--flow=code", "--no-scheme",
             "--no-url-call", f"--port={port}", "--pw-env", "--prompt=none", "--confirm-default"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        try:
            output = ""
            url = None
            deadline = time.time() + 60
            while time.time() < deadline and url is None:
                line = gen.stdout.readline()
                if not line:
                    break
                output += line
                found = re.search(r"(https?://\S+/oauth2/authorize\?\S+)", line)
                if found:
                    url = found.group(1)
            assert url, f"oidc-gen printed no authorization URL:\n{output}"
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))
            client_id = query["client_id"]
            assert query["redirect_uri"].startswith(f"http://localhost:{port}"), query
            # The registration it made: public, self-registered.
            shown = server.cli_json("clients", "show", "--tenant", "agent", client_id)
            assert shown["source"] == "self-registered"
            location = browser_step(requests.Session(), url, username)
            note_secret(dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query)).get("code", ""))
            delivered = requests.get(location, timeout=30)  # oidc-agent's loopback listener takes the code
            assert delivered.status_code == 200, (location.split("?")[0], delivered.status_code, delivered.text[:500])
            rest, _ = gen.communicate(timeout=60)
            output += rest
            assert gen.returncode == 0, output + "\noidc-agent's page: " + delivered.text[:3000]
            token = subprocess.run(["oidc-token", "gatehouse"], env=env, capture_output=True, text=True, timeout=60)
            assert token.returncode == 0, token.stderr + output
            access = token.stdout.strip()
            note_secret(access)
            info = requests.get(issuer + "/oidc/userinfo", headers={"Authorization": "Bearer " + access})
            assert info.status_code == 200 and info.json()["preferred_username"] == username, info.text
        finally:
            if gen.poll() is None:
                gen.kill()
            subprocess.run(["oidc-agent", "--kill"], env=env, capture_output=True)
