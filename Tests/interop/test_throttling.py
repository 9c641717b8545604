"""The failure throttles on a real server behind a (pretend) trusted proxy: a burst of wrong
secrets from one address is held to the limit and answered 429 with Retry-After; the same client
from another address, and every success, is unaffected; X-Forwarded-For from an untrusted peer is
ignored."""
from concurrent.futures import ThreadPoolExecutor

import requests


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
