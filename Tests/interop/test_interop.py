"""Interoperability: tokens verified by PyJWT with the JWKS the server publishes, client
authentication from Python, error shapes, and the sign-in log through the CLI."""
import base64
import json
import os
import signal
import stat
import subprocess
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

import conftest


def metadata(server, tenant):
    response = requests.get(f"{server.base}/{tenant}/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("tenant,alg", [("default", "ES256"), ("rsa", "RS256"), ("ed", "EdDSA")])
def test_access_token_verifies_with_pyjwt_and_published_jwks(server, tenant, alg):
    meta = metadata(server, tenant)
    client = server.clients[tenant]
    response = requests.post(meta["token_endpoint"], data={"grant_type": "client_credentials"},
                             auth=(client["client_id"], client["client_secret"]), timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "api.read" and body["expires_in"] == 3600

    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt" and header["alg"] == alg
    signing_key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=[alg], audience="https://api.example.com", issuer=meta["issuer"],
                        options={"require": ["exp", "iat", "iss", "sub", "aud", "jti"]})
    assert claims["client_id"] == client["client_id"] == claims["sub"]
    assert claims["scope"] == "api.read"


def test_private_key_jwt_client_built_with_pyjwt(server, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "py-1", "alg": "ES256", "use": "sig"})
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [jwk]}))
    created = server.cli_json("clients", "create", "--tenant", "default", "--name", "pyjwt", "--scope", "api.read",
                              "--auth-method", "private_key_jwt", "--jwks-file", str(jwks_file))
    meta = metadata(server, "default")
    now = time.time()

    def assertion(jti):
        claims = {"iss": created["client_id"], "sub": created["client_id"], "aud": meta["token_endpoint"],
                  "iat": now, "exp": now + 120.5, "jti": jti}
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "py-1"})

    form = {"grant_type": "client_credentials", "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    jti = str(uuid.uuid4())
    first = requests.post(meta["token_endpoint"], data={**form, "client_assertion": assertion(jti)}, timeout=10)
    assert first.status_code == 200, first.text
    replay = requests.post(meta["token_endpoint"], data={**form, "client_assertion": assertion(jti)}, timeout=10)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client" and replay.json()["error_codes"] == [9900117]


def test_error_shape_and_headers(server):
    meta = metadata(server, "default")
    client = server.clients["default"]
    response = requests.post(meta["token_endpoint"], data={"grant_type": "client_credentials"},
                             auth=(client["client_id"], "wrong-secret"), headers={"client-request-id": "py-corr-1"}, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    body = response.json()
    assert list(body.keys()) == ["error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"]
    assert body["error"] == "invalid_client" and body["error_codes"] == [7000215]
    assert body["correlation_id"] == "py-corr-1"
    assert response.headers["X-Trace-Id"] == body["trace_id"]
    page = requests.get(body["error_uri"], headers={"Accept": "application/json"}, timeout=10).json()
    assert page["code"] == 7000215 and page["remediation"]

    # The operator finds the failure from the trace ID the client saw.
    deadline = time.time() + 10
    events = []
    while time.time() < deadline and not events:
        events = json.loads(server.cli("signins", "--trace-id", body["trace_id"], "--json").stdout)
        time.sleep(0.2)
    assert len(events) == 1
    assert events[0]["error_code"] == 7000215 and events[0]["correlation_id"] == "py-corr-1"
    assert events[0]["client_id"] == client["client_id"]
    assert events[0]["client_ip"] == "127.0.0.1"
    assert events[0]["grant_type"] == "client_credentials" and events[0]["result"] == "failure"
    assert events[0]["user_agent"].startswith("python-requests/")
    assert client["client_secret"] not in json.dumps(events)


def test_explain_prints_the_troubleshooting_text(server):
    english = server.cli("explain", "70011", database=False).stdout
    assert "InvalidScope" in english and "How to fix it" in english
    vietnamese = server.cli("explain", "70011", "--lang", "vi", database=False).stdout
    assert "Cách khắc phục" in vietnamese
    unknown = server.cli("explain", "1", check=False, database=False)
    assert unknown.returncode != 0 and "no catalogue entry" in unknown.stderr


def test_database_files_are_readable_by_their_owner_only(server, tmp_path):
    """Security finding 4: the running binary keeps its database (signing keys, hashing key) 0600,
    WAL and SHM included, in a data folder it makes 0700."""
    for suffix in ("", "-wal", "-shm"):
        path = server.database + suffix
        assert os.path.exists(path), path
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, (path, oct(os.stat(path).st_mode))
    fresh = tmp_path / "new-data" / "gatehouse.sqlite"
    result = subprocess.run([conftest.BIN, "init", "--database", str(fresh)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(fresh.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o600


def test_sigterm_flushes_the_sign_in_log(fresh_server):
    url = f"{fresh_server.base}/default/oauth2/token"
    # A real client's failures, each kept whole (a request that names no client is only counted).
    client = fresh_server.cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
    traces = [requests.post(url, data={"grant_type": "client_credentials"}, auth=(client["client_id"], f"wrong-secret-{i}"),
                            timeout=10).json()["trace_id"] for i in range(300)]
    fresh_server.process.send_signal(signal.SIGTERM)
    assert fresh_server.process.wait(timeout=30) == 0
    events = json.loads(fresh_server.cli("signins", "--limit", "1000", "--json").stdout)
    assert sorted(e["trace_id"] for e in events) == sorted(traces)


def test_configuration_file_environment_and_flags(unstarted_server, tmp_path):
    """The base URL from a JSON file shapes issuer, endpoints and error_uri; the port comes from
    GATEHOUSE_HTTP_PORT; a flag overrides the file."""
    config = tmp_path / "gatehouse.json"
    config.write_text(json.dumps({"gatehouse": {"base_url": "https://login.example.test/auth", "bootstrap_tenant": "acme"}}))
    unstarted_server.start("--config", str(config))
    log = open(unstarted_server.log.name).read()
    assert "Created tenant 'acme'" in log and "clients create --tenant acme" in log
    meta = requests.get(f"{unstarted_server.base}/acme/.well-known/openid-configuration", timeout=10).json()
    assert meta["issuer"] == "https://login.example.test/auth/acme"
    assert meta["token_endpoint"] == "https://login.example.test/auth/acme/oauth2/token"
    error = requests.post(f"{unstarted_server.base}/acme/oauth2/token", data={"grant_type": "x"}, timeout=10).json()
    assert error["error_uri"].startswith("https://login.example.test/auth/error?code=")
    assert unstarted_server.stop() == 0

    unstarted_server.start("--config", str(config), "--base-url", "https://flag.example.test")
    meta = requests.get(f"{unstarted_server.base}/acme/.well-known/openid-configuration", timeout=10).json()
    assert meta["issuer"] == "https://flag.example.test/acme"


def test_cli_reports_bad_arguments_clearly(server):
    bad_tenant = server.cli("tenants", "create", "Not_Valid", check=False)
    assert bad_tenant.returncode != 0 and "not a valid tenant name" in bad_tenant.stderr
    duplicate = server.cli("tenants", "create", "rsa", check=False)
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    no_tenant = server.cli("clients", "create", "--tenant", "nope", "--name", "x", check=False)
    assert no_tenant.returncode != 0 and "does not exist" in no_tenant.stderr
    bad_scope = server.cli("clients", "create", "--tenant", "default", "--name", "x", "--scope", 'a"b', check=False)
    assert bad_scope.returncode != 0 and "not a valid scope" in bad_scope.stderr


def test_aggregated_sign_in_log_through_the_cli(fresh_server):
    """Repeated client credentials successes are counted, failures kept whole; the CLI explains an
    aggregated trace ID, sums per hour, and switches a tenant to full logging."""
    client = fresh_server.cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
    url = f"{fresh_server.base}/default/oauth2/token"
    session = requests.Session()
    traces = []
    for _ in range(200):
        response = session.post(url, data={"grant_type": "client_credentials"}, auth=(client["client_id"], client["client_secret"]), timeout=10)
        assert response.status_code == 200
        traces.append(response.headers["X-Trace-Id"])
    failures = [session.post(url, data={"grant_type": "client_credentials"}, auth=(client["client_id"], "wrong"), timeout=10)
                .json()["trace_id"] for _ in range(3)]
    assert all(uuid.UUID(trace).version == 7 for trace in traces + failures)
    fresh_server.process.send_signal(signal.SIGTERM)
    assert fresh_server.process.wait(timeout=30) == 0

    kept = {e["trace_id"] for e in json.loads(fresh_server.cli("signins", "--limit", "1000", "--json").stdout)}
    assert set(failures) <= kept
    assert 1 <= len(kept - set(failures)) <= 2, "only the first success of each minute is kept whole"
    aggregated = next(trace for trace in traces if trace not in kept)
    text = fresh_server.cli("signins", "--trace-id", aggregated).stdout
    assert f"aggregated: tenant default, client {client['client_id']}, grant client_credentials," in text
    explained = json.loads(fresh_server.cli("signins", "--trace-id", aggregated, "--json").stdout)
    assert explained and all(a["aggregated"] and a["client_id"] == client["client_id"] for a in explained)

    summary = json.loads(fresh_server.cli("signins", "--summary", "--since", "1h", "--json").stdout)
    successes = sum(row["count"] for row in summary if row["result"] == "success" and row["client_id"] == client["client_id"])
    refused = sum(row["count"] for row in summary if row["error_code"] == 7000215)
    assert (successes, refused) == (200, 3)

    fresh_server.cli("tenants", "set", "default", "--sign-in-log", "full")
    tenants = json.loads(fresh_server.cli("tenants", "list", "--json").stdout)
    assert [t["sign_in_log"] for t in tenants if t["name"] == "default"] == ["full"]
    bad = fresh_server.cli("tenants", "set", "default", "--sign-in-log", "sometimes", check=False)
    assert bad.returncode != 0 and "aggregate or full" in bad.stderr


def test_three_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path):
    """Migrations run in one transaction under SQLite's write lock (BEGIN IMMEDIATE): three
    `init`s started at once on a new database migrate it once and make one first tenant; each
    either made the database or says that it exists (never a migration error), and all three
    share one key-encryption key."""
    import sqlite3
    database = tmp_path / "shared" / "gatehouse.sqlite"
    processes = [subprocess.Popen([conftest.BIN, "init", "--database", str(database)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        outcomes.append((process.returncode, out + err))
    assert any(code == 0 for code, _ in outcomes), outcomes
    for code, output in outcomes:
        assert code == 0 or "a database exists" in output or "already has tenants" in output, output
    rows = sqlite3.connect(database).execute("SELECT version, COUNT(*) FROM schema_migrations GROUP BY version").fetchall()
    assert rows and all(count == 1 for _, count in rows)
    assert [version for version, _ in rows] == list(range(1, len(rows) + 1))
    assert sqlite3.connect(database).execute("SELECT name FROM tenants").fetchall() == [("default",)]
    listed = subprocess.run([conftest.BIN, "tenants", "list", "--database", str(database), "--json"], capture_output=True,
                            text=True, timeout=60)
    assert listed.returncode == 0 and [t["name"] for t in json.loads(listed.stdout)] == ["default"], listed.stderr


def test_clients_update_changes_a_client_in_place(server):
    """`clients update` changes a client's properties; its secret keeps working."""
    created = server.cli_json("clients", "create", "--tenant", "default", "--name", "changing", "--scope", "old.read")
    client_id, secret = created["client_id"], created["client_secret"]
    token_url = f"{server.base}/default/oauth2/token"
    assert requests.post(token_url, auth=(client_id, secret), data={"grant_type": "client_credentials"}, timeout=10).json()["scope"] == "old.read"
    updated = server.cli_json("clients", "update", "--tenant", "default", client_id, "--name", "changed",
                              "--scope", "reports.read", "--resource", "api://update-reports", "--default-scope", "reports.read",
                              "--grant", "client_credentials", "--grant", "authorization_code", "--add-redirect-uri",
                              "https://changed.example/cb", "--auth-method", "client_secret_post", "--json")
    assert updated["name"] == "changed" and updated["redirect_uris"] == ["https://changed.example/cb"], updated
    assert updated["token_endpoint_auth_methods"] == ["client_secret_post"] and updated["allowed_scopes"] == []
    shown = server.cli_json("clients", "show", "--tenant", "default", client_id)
    assert [grant["identifiers"] for grant in shown["apis"]] == [["api://update-reports"]] and len(shown["secrets"]) == 1
    # The same secret, now sent in the body; the token is for the new API (the server sees the
    # change within its change-watcher interval).
    deadline = time.time() + 10
    while True:
        response = requests.post(token_url, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
                                 timeout=10)
        if response.status_code == 200 and response.json().get("scope") == "reports.read" or time.time() > deadline:
            break
        time.sleep(0.5)
    assert response.status_code == 200 and response.json()["scope"] == "reports.read", response.text
    refused = server.cli("clients", "update", "--tenant", "default", client_id, "--grant", "authorization_code",
                         "--remove-redirect-uri", "https://changed.example/cb", check=False)
    assert refused.returncode != 0 and "authorization_code needs at least one --redirect-uri" in refused.stderr
