"""What got in a newcomer's way in the first hour, proven fixed against the real binary."""

import base64
import hashlib
import json
import os
import re
import subprocess
import time
import urllib.parse

import requests

import conftest


def test_totp_enrolment_prints_the_setup_key_an_authenticator_takes(server):
    server.cli("users", "create", "--tenant", "default", "totp-newcomer", "--password", "correct horse battery")
    enrolled = server.cli_json("users", "enroll-totp", "--tenant", "default", "totp-newcomer")
    url_secret = urllib.parse.parse_qs(urllib.parse.urlparse(enrolled["otpauth_url"]).query)["secret"][0]
    assert enrolled["setup_key"] == url_secret
    assert enrolled["setup_key"] == base64.b32encode(enrolled["secret"].encode()).decode().rstrip("=")
    again = server.cli("users", "enroll-totp", "--tenant", "default", "totp-newcomer", check=False)
    assert again.returncode != 0 and "--replace" in again.stderr, "a second enrolment does not silently replace the first"
    text = server.cli("users", "enroll-totp", "--tenant", "default", "totp-newcomer", "--replace").stdout
    assert "Setup key (base32" in text and "raw" not in text


def test_a_locked_user_is_unlocked_from_the_cli(server):
    server.cli("users", "create", "--tenant", "default", "locked-newcomer", "--password", "correct horse battery")
    made = server.cli_json("clients", "create", "--tenant", "default", "--name", "pw", "--grant", "password", "--scope", "openid")
    token_url = f"{server.base}/default/oauth2/token"

    def sign_in(password):
        return requests.post(token_url, auth=(made["client_id"], made["client_secret"]), timeout=10, data={
            "grant_type": "password", "username": "locked-newcomer", "password": password, "scope": "openid"}).json()

    codes = [sign_in("wrong")["error_codes"][0] for _ in range(5)]
    assert codes[-1] == 50053, codes
    assert sign_in("correct horse battery")["error_codes"] == [50053]
    assert "unlocked" in server.cli("users", "unlock", "--tenant", "default", "locked-newcomer").stdout
    assert "access_token" in sign_in("correct horse battery")
    refused = server.cli("signins", "--user", "locked-newcomer", check=False)
    assert refused.returncode != 0 and "--user needs --tenant" in refused.stderr
    found = server.cli("signins", "--tenant", "default", "--user", "locked-newcomer", "--json")
    assert found.returncode == 0


def run(*args, cwd=None, env=None, stdin=None):
    return subprocess.run([os.path.abspath(conftest.BIN), *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_a_command_in_the_wrong_folder_creates_nothing_and_init_creates_once(tmp_path):
    """Only `serve` and `init` create a database (and its key-encryption key)."""
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    refused = run("clients", "list", "--tenant", "default", cwd=empty)
    assert refused.returncode != 0
    assert "no Gatehouse database at ./gatehouse-data/gatehouse.sqlite" in refused.stderr and "gatehouse init" in refused.stderr
    assert list(empty.iterdir()) == [], "nothing made: no database, no kek"
    made = run("init", cwd=empty)
    assert made.returncode == 0, made.stderr
    assert "Created tenant 'default'" in made.stdout and "Start it:" in made.stdout and "made a key-encryption key" in made.stderr
    assert {"gatehouse.sqlite", "kek"} <= {p.name for p in (empty / "gatehouse-data").iterdir()}
    again = run("init", cwd=empty)
    assert again.returncode != 0 and "a database exists" in again.stderr
    assert run("clients", "list", "--tenant", "default", cwd=empty).returncode == 0
    # The database without its KEK: a command makes none and names the file it needs.
    os.rename(empty / "gatehouse-data" / "kek", tmp_path / "kek.saved")
    missing = run("tenants", "list", cwd=empty)
    assert missing.returncode != 0 and "no key-encryption key file at" in missing.stderr, missing.stderr
    assert not (empty / "gatehouse-data" / "kek").exists()
    # serve says the file is missing and which key to restore; it keeps nothing it made.
    started = run("serve", "--port", str(conftest.free_port()), cwd=empty)
    assert started.returncode != 0
    assert "there is no key-encryption key file at" in started.stderr and "made a key-encryption key" not in started.stderr, started.stderr
    assert not (empty / "gatehouse-data" / "kek").exists()
    # The KEK from the environment, as docs/security.md describes for an administrator.
    kek = open(tmp_path / "kek.saved").read().strip()
    assert run("tenants", "list", cwd=empty, env=dict(os.environ, GATEHOUSE_KEK=kek)).returncode == 0
    assert run("tenants", "list", cwd=empty, env=dict(os.environ, GATEHOUSE_KEK_FILE=str(tmp_path / "kek.saved"))).returncode == 0


def test_the_cli_prints_the_servers_urls_from_its_configuration(tmp_path):
    """A command given the server's --config prints the server's URLs; without a base URL it
    says which one it assumed."""
    config = tmp_path / "gatehouse.json"
    config.write_text(json.dumps({"gatehouse": {"database": str(tmp_path / "db.sqlite"), "base_url": "https://login.example.test",
                                                "http": {"port": 9443}}}))
    assert run("init", "--config", str(config)).returncode == 0
    made = run("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read", "--config", str(config))
    assert "Token endpoint: https://login.example.test/default/oauth2/token" in made.stdout and "assumed" not in made.stderr
    tenant = run("tenants", "create", "acme", "--config", str(config))
    assert "Issuer: https://login.example.test/acme" in tenant.stdout
    bare = run("tenants", "create", "beta", "--database", str(tmp_path / "db.sqlite"))
    assert "Issuer: http://127.0.0.1:8080/beta" in bare.stdout
    assert "note: URLs printed for the base URL http://127.0.0.1:8080, assumed" in bare.stderr
    port_only = tmp_path / "port.json"
    port_only.write_text(json.dumps({"gatehouse": {"database": str(tmp_path / "db.sqlite"), "http": {"port": 9443}}}))
    assert "Issuer: http://127.0.0.1:9443/gamma" in run("tenants", "create", "gamma", "--config", str(port_only)).stdout


def test_every_command_speaks_json_and_lists_have_a_header(server):
    """The output convention: a table with a header by default, --json everywhere, the object's
    identifier positional (the older --id still accepted)."""
    made = server.cli_json("clients", "create", "--tenant", "default", "--name", "conv", "--scope", "api.read")
    client_id = made["client_id"]
    server.cli("users", "create", "--tenant", "default", "conv-user", "--password", "correct horse battery")
    listings = {
        ("tenants", "list"): "NAME", ("clients", "list", "--tenant", "default"): "CLIENT ID",
        ("users", "list", "--tenant", "default"): "USERNAME", ("keys", "list", "--tenant", "default"): "KID",
        ("apis", "list", "--tenant", "default"): "APPLICATION ID", ("signins", "--tenant", "default"): "TIME",
    }
    for command, first_column in listings.items():
        text = server.cli(*command).stdout
        assert text.splitlines()[0].startswith(first_column), (command, text)
        json.loads(server.cli(*command, "--json").stdout)
    for command in [
        ("tenants", "show", "default"), ("clients", "show", "--tenant", "default", client_id),
        ("clients", "update", "--tenant", "default", client_id, "--name", "conv2"),
        ("clients", "disable", "--tenant", "default", client_id), ("clients", "enable", "--tenant", "default", client_id),
        ("users", "unlock", "--tenant", "default", "conv-user"), ("users", "disable", "--tenant", "default", "conv-user"),
        ("users", "enable", "--tenant", "default", "conv-user"), ("tenants", "set", "default", "--sign-in-log", "aggregate"),
        ("keys", "rotate", "--tenant", "default"), ("explain", "50126"),
    ]:
        result = server.cli(*command, "--json", database=command[0] != "explain")
        assert isinstance(json.loads(result.stdout), (dict, list)), (command, result.stdout)
    shown = server.cli("clients", "show", "--tenant", "default", client_id).stdout
    assert "Client ID" in shown and "SECRET ID" in shown and "LAST USED" in shown
    # Scripts written for the older form keep working.
    assert server.cli_json("clients", "show", "--tenant", "default", "--id", client_id)["name"] == "conv2"
    both = server.cli("clients", "show", "--tenant", "default", client_id, "--id", "other", check=False)
    assert both.returncode != 0 and "two different client IDs" in both.stderr


def test_tenant_settings_change_after_creation(server):
    """`tenants set --algorithm` reaches the keys through the next rotation; --token-lifetime at
    once; email sign-in is refused while an address is shared."""
    server.cli("tenants", "create", "later")
    client = server.cli_json("clients", "create", "--tenant", "later", "--name", "svc", "--scope", "api.read")
    token_url = f"{server.base}/later/oauth2/token"

    def token():
        return requests.post(token_url, auth=(client["client_id"], client["client_secret"]), data={"grant_type": "client_credentials"},
                             timeout=10).json()

    def alg(jwt):
        header = jwt.split(".")[0]
        return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"]

    changed = server.cli_json("tenants", "set", "later", "--algorithm", "RS256", "--token-lifetime", "900")
    assert changed["algorithm"] == "RS256" and changed["access_token_lifetime"] == 900
    time.sleep(6)  # the servers' tenant cache (5 s)
    first = token()
    assert first["expires_in"] == 900 and alg(first["access_token"]) == "ES256", "the active key signs until the rotation"
    metadata = requests.get(f"{server.base}/later/.well-known/openid-configuration", timeout=10).json()
    assert metadata["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
    server.cli("keys", "rotate", "--tenant", "later")
    deadline = time.time() + 10
    while alg(token()["access_token"]) != "RS256":
        assert time.time() < deadline, "the rotation reached the server within a few seconds"
        time.sleep(0.5)
    keys = server.cli_json("keys", "list", "--tenant", "later")
    assert sorted((k["algorithm"], k["status"]) for k in keys) == [("ES256", "retired"), ("RS256", "active"), ("RS256", "next")]

    server.cli("users", "create", "--tenant", "later", "ann", "--email", "ann@example.com", "--password", "correct horse battery")
    taken = server.cli("users", "create", "--tenant", "later", "ann2", "--email", "ANN@example.com", "--password", "x" * 12, check=False)
    assert taken.returncode != 0 and "another user of tenant 'later' signs in with 'ANN@example.com'" in taken.stderr
    server.cli("tenants", "set", "later", "--email-sign-in", "off")
    server.cli("users", "create", "--tenant", "later", "ann2", "--email", "ANN@example.com", "--password", "x" * 12)
    refused = server.cli("tenants", "set", "later", "--email-sign-in", "on", check=False)
    assert refused.returncode != 0 and "ann@example.com" in refused.stderr and "same email address" in refused.stderr


def test_a_first_party_app_signs_users_in_without_a_consent_page_and_the_log_names_the_secret(server):
    callback = "http://127.0.0.1:3999/callback"
    web = server.cli_json("clients", "create", "--tenant", "default", "--name", "Own app", "--redirect-uri", callback)
    server.cli("clients", "update", "--tenant", "default", web["client_id"], "--first-party")
    server.cli("users", "create", "--tenant", "default", "fp-user", "--email", "fp@example.com", "--password", "correct horse battery")
    time.sleep(6)  # the servers' client cache (5 s)
    session = requests.Session()
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {"response_type": "code", "client_id": web["client_id"], "redirect_uri": callback, "scope": "openid",
             "code_challenge": challenge, "code_challenge_method": "S256", "state": "s"}
    page = session.get(f"{server.base}/default/oauth2/authorize", params=query, timeout=10)
    fields = dict(re.findall(r'name="(interaction|csrf)" value="([^"]*)"', page.text))
    reply = session.post(f"{server.base}/default/oauth2/login", data=dict(fields, username="fp@example.com",
                                                                          password="correct horse battery"), allow_redirects=False, timeout=10)
    assert reply.status_code == 303 and reply.headers["Location"].startswith(callback + "?code="), reply.text
    # The secret that authenticated the redemption: in the sign-in log and as its last use.
    code = urllib.parse.parse_qs(urllib.parse.urlparse(reply.headers["Location"]).query)["code"][0]
    redeemed = requests.post(f"{server.base}/default/oauth2/token", auth=(web["client_id"], web["client_secret"]), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback,
        "code_verifier": verifier})
    assert redeemed.status_code == 200, redeemed.text
    time.sleep(6)  # the secret's use is written every 5 s, the sign-in log every 0.1 s
    events = json.loads(server.cli("signins", "--tenant", "default", "--client", web["client_id"], "--json").stdout)
    assert any(e.get("credential") == f"secret {web['secret_id']}" for e in events), events
    shown = server.cli_json("clients", "show", "--tenant", "default", web["client_id"])
    assert shown["first_party"] is True and shown["secrets"][0].get("last_used_at"), shown


def test_explain_from_a_pasted_json_body_and_an_aadsts_line(server):
    """`explain --from -` picks the code and IDs out of a native JSON error body and out of an
    AADSTS line (the Entra routes' error_description), and finds the server's record."""
    client = server.cli_json("clients", "create", "--tenant", "default", "--name", "paste", "--scope", "api.read")
    native = requests.post(f"{server.base}/default/oauth2/token", auth=(client["client_id"], "wrong"), timeout=10,
                           data={"grant_type": "client_credentials"})
    entra = requests.post(f"{server.base}/default/oauth2/v2.0/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": "also wrong",
        "scope": "api://x/.default"})
    line = entra.json()["error_description"].replace("\r\n", " ")
    assert line.startswith("AADSTS7000215:")
    time.sleep(0.5)  # the sign-in log's flush
    for text, trace in ((native.text, native.json()["trace_id"]), (line, entra.json()["trace_id"])):
        result = subprocess.run([os.path.abspath(conftest.BIN), "explain", "--from", "-", "--database", server.database, "--json"],
                                input=text, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        explained = json.loads(result.stdout)
        assert explained["found"]["codes"] == [7000215] and explained["found"]["trace_id"] == trace, explained
        assert explained["lookup"] == "found" and explained["records"][0]["trace_id"] == trace
    # As text, from a file, and without a database at hand the texts still come.
    text = subprocess.run([os.path.abspath(conftest.BIN), "explain", "--from", "-", "--database", "/nonexistent/db.sqlite"],
                          input=native.text, capture_output=True, text=True, timeout=60)
    assert text.returncode == 0 and "7000215" in text.stdout and "not looked up: no Gatehouse database" in text.stdout, text
    nothing = subprocess.run([os.path.abspath(conftest.BIN), "explain", "--from", "-"], input="it broke", capture_output=True,
                             text=True, timeout=60)
    assert nothing.returncode != 0 and "found no error code" in nothing.stderr
