"""The failure throttles on a real server behind a (pretend) trusted proxy: a burst of wrong
secrets from one address is held to the limit and answered 429 with Retry-After; the same client
from another address, and every success, is unaffected; X-Forwarded-For from an untrusted peer is
ignored."""
import base64
import http.client
import json
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import requests

from test_nodes import sign_in_for_code
from test_signin import PASSWORD


def test_burst_of_bad_secrets_is_throttled_per_address(unstarted_server, monkeypatch):
    monkeypatch.setenv("GATEHOUSE_THROTTLE_CLIENT_FAILURES", "5")
    monkeypatch.setenv("GATEHOUSE_THROTTLE_CLIENT_WINDOW_SECONDS", "120")
    monkeypatch.setenv("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1")
    unstarted_server.start()
    client = unstarted_server.cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
    url = f"{unstarted_server.base}/default/oauth2/token"

    def attempt(secret, address):
        return requests.post(url, data={"grant_type": "client_credentials"}, auth=(client["client_id"], secret),
                             headers={"X-Forwarded-For": f"192.0.2.77, {address}"}, timeout=10)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda i: attempt(f"wrong-secret-{i:04d}", "203.0.113.5"), range(40)))
    codes = sorted((r.status_code, r.json()["error_codes"][0]) for r in responses)
    assert codes.count((401, 7000215)) == 5 and codes.count((429, 9900429)) == 35, codes
    throttled = attempt(client["client_secret"], "203.0.113.5")
    assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 120
    assert throttled.json()["error"] == "temporarily_unavailable" and "error?code=9900429" in throttled.json()["error_uri"]
    for _ in range(10):
        assert attempt(client["client_secret"], "198.51.100.7").status_code == 200
    # Without a trusted proxy the claimed address is not believed: everything counts under the peer.
    unstarted_server.stop()
    monkeypatch.setenv("GATEHOUSE_TRUSTED_PROXIES", "")
    unstarted_server.start()
    statuses = [attempt("wrong-secret-x", f"198.51.100.{i}").status_code for i in range(7)]
    assert statuses == [401] * 5 + [429] * 2, statuses


def post_from(address, url, data, auth=None):
    """A form POST whose TCP connection comes from `address` (any 127.0.0.0/8 address is this host)."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10, source_address=(address, 0))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    try:
        connection.request("POST", parsed.path, body=urllib.parse.urlencode(data), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_a_busy_apps_mistakes_never_throttle_it_and_a_stranger_elsewhere_cannot(unstarted_server, monkeypatch):
    """A web app on 127.0.0.1 presents 60 unknown refresh tokens and replays one code 30 times (its
    users' and its front end's mistakes): nothing is throttled, its valid refresh and a fresh code
    still get tokens. A stranger on 127.0.0.2 guessing the same client's secret is throttled, and
    the app on 127.0.0.1 keeps getting tokens meanwhile."""
    monkeypatch.setenv("GATEHOUSE_THROTTLE_CLIENT_FAILURES", "5")
    monkeypatch.setenv("GATEHOUSE_THROTTLE_CLIENT_WINDOW_SECONDS", "120")
    monkeypatch.setenv("GATEHOUSE_TRUSTED_PROXIES", "")
    server = unstarted_server
    server.start()
    redirect = "http://127.0.0.1:1/cb"
    client = server.cli_json("clients", "create", "--tenant", "default", "--name", "Web", "--redirect-uri", redirect,
                             "--grant", "authorization_code", "--grant", "refresh_token", "--grant", "client_credentials",
                             "--scope", "openid offline_access api.read",
                             "--default-scope", "api.read")
    server.cli("users", "create", "--tenant", "default", "erin", "--password", PASSWORD)
    url = f"{server.base}/default/oauth2/token"
    auth = (client["client_id"], client["client_secret"])

    def redeem(code, verifier):
        return post_from("127.0.0.1", url, dict(grant_type="authorization_code", code=code, redirect_uri=redirect,
                                                code_verifier=verifier), auth)

    status, tokens = redeem(*sign_in_for_code(server, client, "erin", redirect))
    assert status == 200, tokens
    for index in range(60):
        status, body = post_from("127.0.0.1", url, dict(grant_type="refresh_token", refresh_token=f"gone-{index}"), auth)
        assert (status, body["error_codes"][0]) == (400, 70000), body
    replayed = sign_in_for_code(server, client, "erin", redirect)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = [status for status, _ in pool.map(lambda _: redeem(*replayed), range(30))]
    assert 429 not in statuses and statuses.count(400) >= 29, statuses
    status, refreshed = post_from("127.0.0.1", url, dict(grant_type="refresh_token", refresh_token=tokens["refresh_token"]), auth)
    assert status == 200, refreshed
    status, fresh = redeem(*sign_in_for_code(server, client, "erin", redirect))
    assert status == 200 and "refresh_token" in fresh, fresh

    guesses = [post_from("127.0.0.2", url, dict(grant_type="client_credentials"), (client["client_id"], f"guess-{i}"))[0]
               for i in range(8)]
    assert guesses == [401] * 5 + [429] * 3, guesses
    for _ in range(10):
        assert post_from("127.0.0.1", url, dict(grant_type="client_credentials"), auth)[0] == 200
