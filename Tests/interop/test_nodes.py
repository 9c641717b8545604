"""Several `gatehouse serve` nodes on one database (a SQLite file, and PostgreSQL when the CI
started one): a user's flows hop from node to node, a change made with the CLI reaches every node
within a second, and with PostgreSQL stopped cached clients keep getting tokens while requests
that need the database answer 503 with Retry-After."""
import base64
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest
import requests

import conftest
from test_signin import PASSWORD, Callback, form_fields

POSTGRES = os.environ.get("GATEHOUSE_TEST_POSTGRES_URL")


def databases():
    """The databases several nodes can share: a SQLite file, and PostgreSQL when the CI started one."""
    return ["sqlite"] + (["postgres"] if POSTGRES else [])


@pytest.fixture()
def shared_database(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "shared.sqlite")
        return
    name = "gh_" + uuid.uuid4().hex
    subprocess.run(["psql", POSTGRES, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    yield POSTGRES.replace("/postgres?", f"/{name}?")
    subprocess.run(["psql", POSTGRES, "-q", "-c", f"DROP DATABASE {name} WITH (FORCE)"], check=False, capture_output=True)


def start_nodes(tmp_path, database, count=3, cache_ttl=None):
    nodes = []
    for index in range(count):
        (tmp_path / f"node{index}").mkdir(exist_ok=True)
        node = conftest.Server(str(tmp_path / f"node{index}"))
        node.database = database
        if cache_ttl:
            os.environ["GATEHOUSE_CACHE_TTL"] = str(cache_ttl)
        try:
            node.start()
        finally:
            os.environ.pop("GATEHOUSE_CACHE_TTL", None)
        nodes.append(node)
    return nodes


@pytest.fixture()
def nodes(request, tmp_path, shared_database):
    started = start_nodes(tmp_path, shared_database, cache_ttl=getattr(request, "param", None))
    yield started
    for node in started:
        node.stop()


def on(node, url):
    """The same URL on another node (the nodes differ only in their port)."""
    parsed = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parsed._replace(netloc=f"127.0.0.1:{node.port}"))


def action(html, suffix):
    return re.search(r'action="([^"]*' + re.escape(suffix) + r')"', html).group(1)


@pytest.mark.parametrize("shared_database", databases(), indirect=True)
def test_a_user_flow_hops_across_nodes(nodes, shared_database):
    """Sign-in page from node 1, password posted to node 2, consent to node 3 (the browser session,
    CSRF and the interaction live in the database); the code redeemed on node 1, refreshed on node 2,
    revoked on node 3; the revoked family refused on node 1 and node 2, the code's replay on node 3."""
    first, second, third = nodes
    callback = Callback()
    try:
        client = first.cli_json("clients", "create", "--tenant", "default", "--name", "Web", "--redirect-uri", callback.uri)
        auth = (client["client_id"], client["client_secret"])
        username = "user" + secrets.token_hex(4)
        second.cli("users", "create", "--tenant", "default", username, "--password", PASSWORD)
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urllib.parse.urlencode(dict(response_type="code", client_id=client["client_id"], redirect_uri=callback.uri,
                                            scope="openid offline_access", state="s1", code_challenge=challenge,
                                            code_challenge_method="S256"))
        browser = requests.Session()
        page = browser.get(f"{first.base}/default/oauth2/authorize?{query}")
        assert page.status_code == 200, page.text
        login = browser.post(on(second, action(page.text, "oauth2/login")),
                             data=dict(form_fields(page.text), username=username, password=PASSWORD), allow_redirects=False)
        assert login.status_code == 200 and "oauth2/consent" in login.text, login.text
        done = browser.post(on(third, action(login.text, "oauth2/consent")), data=dict(form_fields(login.text), decision="allow"),
                            allow_redirects=False)
        assert done.status_code == 303, done.text
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(done.headers["Location"]).query)["code"][0]

        token = requests.post(f"{first.base}/default/oauth2/token", auth=auth, data=dict(
            grant_type="authorization_code", code=code, redirect_uri=callback.uri, code_verifier=verifier))
        assert token.status_code == 200, token.text

        refreshed = requests.post(f"{second.base}/default/oauth2/token", auth=auth,
                                  data=dict(grant_type="refresh_token", refresh_token=token.json()["refresh_token"]))
        assert refreshed.status_code == 200, refreshed.text
        successor = refreshed.json()["refresh_token"]
        assert successor != token.json()["refresh_token"]
        revoked = requests.post(f"{third.base}/default/oauth2/revoke", auth=auth, data=dict(token=successor))
        assert revoked.status_code == 200
        for node in (first, second):
            again = requests.post(f"{node.base}/default/oauth2/token", auth=auth,
                                  data=dict(grant_type="refresh_token", refresh_token=successor))
            assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
        introspection = requests.post(f"{first.base}/default/oauth2/introspect", auth=auth, data=dict(token=successor)).json()
        assert introspection == {"active": False}
        replay = requests.post(f"{third.base}/default/oauth2/token", auth=auth, data=dict(
            grant_type="authorization_code", code=code, redirect_uri=callback.uri, code_verifier=verifier))
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    finally:
        callback.close()


@pytest.mark.parametrize("shared_database", databases(), indirect=True)
def test_a_device_code_started_on_one_node_is_approved_on_another_and_polled_on_a_third(nodes, shared_database):
    first, second, third = nodes
    client = first.cli_json("clients", "create", "--tenant", "default", "--name", "TV", "--public", "--grant", "device_code",
                            "--grant", "refresh_token", "--scope", "openid offline_access")
    username = "viewer" + secrets.token_hex(4)
    first.cli("users", "create", "--tenant", "default", username, "--password", PASSWORD)
    flow = requests.post(f"{first.base}/default/oauth2/devicecode", data=dict(client_id=client["client_id"], scope="openid offline_access"))
    assert flow.status_code == 200, flow.text
    flow = flow.json()
    poll = dict(grant_type="urn:ietf:params:oauth:grant-type:device_code", client_id=client["client_id"], device_code=flow["device_code"])
    pending = requests.post(f"{third.base}/default/oauth2/token", data=poll)
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"

    browser = requests.Session()
    page = browser.get(on(second, flow["verification_uri"]))
    login = browser.post(on(second, action(page.text, "oauth2/device")), data={"user_code": flow["user_code"]})
    assert login.status_code == 200 and "oauth2/login" in login.text, login.text
    consent = browser.post(on(second, action(login.text, "oauth2/login")),
                           data=dict(form_fields(login.text), username=username, password=PASSWORD))
    assert "oauth2/consent" in consent.text, consent.text
    done = browser.post(on(second, action(consent.text, "oauth2/consent")), data=dict(form_fields(consent.text), decision="allow"))
    assert done.status_code == 200

    time.sleep(flow.get("interval", 5))
    token = requests.post(f"{third.base}/default/oauth2/token", data=poll)
    assert token.status_code == 200, token.text
    assert token.json()["access_token"] and token.json()["refresh_token"]
    again = requests.post(f"{first.base}/default/oauth2/token", data=poll)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text


@pytest.mark.parametrize("shared_database", databases(), indirect=True)
@pytest.mark.parametrize("nodes", [3600], indirect=True)
def test_nodes_on_one_database_see_a_removed_client_within_a_second(nodes, shared_database):
    """Caches set to an hour: a client removed with the CLI is refused by all three nodes within
    one second (each polls the change counter)."""
    client = nodes[0].cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
    auth = (client["client_id"], client["client_secret"])
    for node in nodes:
        deadline = time.monotonic() + 2
        while requests.post(f"{node.base}/default/oauth2/token", data={"grant_type": "client_credentials"}, auth=auth,
                            timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "a node did not see the new client"
            time.sleep(0.05)
    nodes[1].cli("clients", "remove", "--tenant", "default", client["client_id"])
    removed = time.monotonic()
    for node in nodes:
        while requests.post(f"{node.base}/default/oauth2/token", data={"grant_type": "client_credentials"}, auth=auth,
                            timeout=10).status_code == 200:
            assert time.monotonic() - removed < 1.0, "a node still issued tokens to a removed client after 1 s"
            time.sleep(0.02)
    assert time.monotonic() - removed < 1.0


@pytest.mark.skipif(not POSTGRES or not shutil.which("pg_ctl", path="/usr/lib/postgresql/15/bin"),
                    reason="needs PostgreSQL 15 (.ci/run installs it)")
def test_with_postgresql_stopped_cached_clients_get_tokens_and_the_rest_answers_503(tmp_path):
    """A cluster of its own (scripts/test-postgres), stopped under three nodes: client credentials
    for a client each node has cached go on answering 200; a refresh answers 503 with Retry-After
    within the statement deadline (never a 500, never a hang); after the cluster is back, the same
    nodes, never restarted, refresh again."""
    cluster = f"/tmp/gatehouse-nodes-pg-{uuid.uuid4().hex[:8]}"
    port = str(conftest.free_port())
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "test-postgres")
    url = subprocess.run(["bash", script, "start", cluster], env=dict(os.environ, PGPORT=port), check=True,
                         capture_output=True, text=True).stdout.strip()
    nodes = []
    try:
        nodes = start_nodes(tmp_path, url, cache_ttl=3600)
        service = nodes[0].cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
        web = nodes[0].cli_json("clients", "create", "--tenant", "default", "--name", "Web", "--redirect-uri", "http://127.0.0.1:1/cb")
        nodes[0].cli("users", "create", "--tenant", "default", "pat", "--password", PASSWORD)
        service_auth = (service["client_id"], service["client_secret"])
        web_auth = (web["client_id"], web["client_secret"])
        refresh_token = sign_in_for_refresh_token(nodes[0], web, "pat")
        # Every node has seen the CLI's last change (its watcher polls every 250 ms) before the
        # caches are filled: a late invalidation would empty them just before the stop.
        time.sleep(1)
        for node in nodes:
            deadline = time.monotonic() + 3
            while requests.post(f"{node.base}/default/oauth2/token", data={"grant_type": "client_credentials"},
                                auth=service_auth).status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            # The web client cached too, so that the refresh below fails on its grant, not on its client.
            assert requests.post(f"{node.base}/default/oauth2/token", auth=web_auth,
                                 data=dict(grant_type="refresh_token", refresh_token="unknown")).status_code == 400

        ready = requests.get(f"{nodes[0].base}/health/ready", headers=conftest.MANAGEMENT, timeout=30)
        assert ready.status_code == 200 and ready.json()["checks"]["migrations"].startswith("ok"), ready.text
        subprocess.run(["bash", script, "halt", cluster], check=True, capture_output=True)
        away = requests.get(f"{nodes[0].base}/health/ready", timeout=30)
        assert away.status_code == 503 and away.json()["status"] == "unavailable", away.text
        assert requests.get(f"{nodes[0].base}/health/live", timeout=5).status_code == 200
        for node in nodes:
            cached = requests.post(f"{node.base}/default/oauth2/token", data={"grant_type": "client_credentials"},
                                   auth=service_auth, timeout=30)
            assert cached.status_code == 200, cached.text
            started = time.monotonic()
            refresh = requests.post(f"{node.base}/default/oauth2/token", auth=web_auth, timeout=30,
                                    data=dict(grant_type="refresh_token", refresh_token=refresh_token))
            assert time.monotonic() - started < 12
            assert refresh.status_code == 503, refresh.text
            assert refresh.headers["Retry-After"] == "5"
            body = refresh.json()
            assert body["error"] == "temporarily_unavailable" and body["error_codes"] == [9900190] and body["trace_id"]

        subprocess.run(["bash", script, "resume", cluster], env=dict(os.environ, PGPORT=port), check=True, capture_output=True)
        deadline = time.monotonic() + 30
        while True:
            again = requests.post(f"{nodes[1].base}/default/oauth2/token", auth=web_auth, timeout=30,
                                  data=dict(grant_type="refresh_token", refresh_token=refresh_token))
            if again.status_code == 200:
                break
            assert again.status_code == 503 and time.monotonic() < deadline, again.text
            time.sleep(0.5)
        assert again.json()["refresh_token"] != refresh_token
        assert requests.get(f"{nodes[0].base}/health/ready", timeout=30).status_code == 200
    finally:
        for node in nodes:
            node.stop()
        subprocess.run(["bash", script, "stop", cluster], capture_output=True)


def sign_in_for_code(node, client, username, redirect="http://127.0.0.1:1/cb"):
    """Signs `username` in through the pages (password, consent); the code and its PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(dict(response_type="code", client_id=client["client_id"], redirect_uri=redirect,
                                        scope="openid offline_access", state="s", code_challenge=challenge, code_challenge_method="S256"))
    browser = requests.Session()
    page = browser.get(f"{node.base}/default/oauth2/authorize?{query}")
    reply = browser.post(action(page.text, "oauth2/login"), data=dict(form_fields(page.text), username=username, password=PASSWORD),
                         allow_redirects=False)
    if reply.status_code == 200:
        reply = browser.post(action(reply.text, "oauth2/consent"), data=dict(form_fields(reply.text), decision="allow"),
                             allow_redirects=False)
    assert reply.status_code == 303, reply.text
    return urllib.parse.parse_qs(urllib.parse.urlsplit(reply.headers["Location"]).query)["code"][0], verifier


def sign_in_for_refresh_token(node, client, username):
    redirect = "http://127.0.0.1:1/cb"
    code, verifier = sign_in_for_code(node, client, username, redirect)
    token = requests.post(f"{node.base}/default/oauth2/token", auth=(client["client_id"], client["client_secret"]), data=dict(
        grant_type="authorization_code", code=code, redirect_uri=redirect, code_verifier=verifier))
    assert token.status_code == 200, token.text
    return token.json()["refresh_token"]
