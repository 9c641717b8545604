"""DPoP (RFC 9449) with third-party software on both sides of the token.

requests-oauth2client (a client library that implements DPoP) signs in as a public client through the
code flow with `dpop_jkt`, in a tenant that requires server nonces: it answers the token endpoint's
use_dpop_nonce challenge, gets DPoP-bound tokens, refreshes with its bound refresh token (which is
useless without its key) and calls userinfo with the DPoP scheme, answering userinfo's own nonce
challenge.

Debian's Apache mod_oauth2 (libapache2-mod-oauth2 3.3.1, liboauth2 1.4.5) protects a CGI on
loopback with `type=dpop`, once verifying tokens through the tenant's jwks_uri and once through
introspection (which must return `cnf`): it accepts a DPoP-bound token with a valid proof, and refuses
it without one, as a Bearer token, with a proof for another URL or method, by another key, and a
replayed proof."""
import base64
import hashlib
import json
import secrets

import pytest
import requests
from jwskate import JwkSet
from requests_oauth2client import OAuth2Client
from requests_oauth2client.dpop import DPoPKey

import conftest
from apache import Apache as ApacheServer
from test_signin import PASSWORD, browser_step

REDIRECT = "http://127.0.0.1:9/dpop-callback"

CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'hello %s\\n' "$OAUTH2_CLAIM_client_id"
"""


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_requests_oauth2client_public_client_with_nonces_refresh_and_userinfo(server):
    tenant = "dpop" + secrets.token_hex(3)
    server.cli("tenants", "create", tenant)
    server.cli("tenants", "set", tenant, "--require-dpop-nonce", "on")
    client_id = server.cli_json(
        "clients", "create", "--tenant", tenant, "--name", "DPoP app", "--public", "--redirect-uri", REDIRECT, "--scope",
        "openid profile offline_access", "--grant", "authorization_code", "--grant", "refresh_token", "--require-dpop")["client_id"]
    username = "dpop" + secrets.token_hex(3)
    server.cli("users", "create", "--tenant", tenant, username, "--display-name", "DPoP User", "--password", PASSWORD)
    issuer = f"{server.base}/{tenant}"

    metadata = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert metadata["dpop_signing_alg_values_supported"] == ["ES256", "RS256", "PS256", "EdDSA"]

    client = OAuth2Client.from_discovery_endpoint(issuer=issuer, client_id=client_id, redirect_uri=REDIRECT, testing=True,
                                                  dpop_bound_access_tokens=True, id_token_signed_response_alg="ES256")
    request = client.authorization_request(scope="openid profile offline_access", dpop=True)
    assert "dpop_jkt=" in request.uri
    location = browser_step(requests.Session(), request.uri, username)
    # The library sends its proof without a nonce, is answered use_dpop_nonce with DPoP-Nonce, and retries.
    # validate=False: requests-oauth2client 1.8.0 loses the DPoP key when it re-creates the token
    # after checking the ID token (DPoPToken.__init__ needs _dpop_key), so the ID token is checked
    # here against the published keys instead.
    token = client.authorization_code(request.validate_callback(location), validate=False)
    assert token.token_type == "DPoP" and token.refresh_token, token
    keys = JwkSet(requests.get(metadata["jwks_uri"], timeout=10).json())
    assert token.id_token.verify_signature(keys.get_jwk_by_kid(token.id_token.kid), alg="ES256")
    assert token.id_token.issuer == issuer and token.id_token.audiences == [client_id]
    jkt = request.dpop_key.dpop_jkt
    assert claims(token.access_token)["cnf"] == {"jkt": jkt}
    assert request.dpop_key.as_nonce, "the library saw no nonce"

    # The bound refresh token: useless without a proof (the client requires DPoP: 9900254) and
    # with a proof by another key (9900256).
    bare = requests.post(issuer + "/oauth2/token", data=dict(grant_type="refresh_token", refresh_token=token.refresh_token,
                                                             client_id=client_id), timeout=10)
    assert bare.status_code == 400 and bare.json()["error_codes"] == [9900254], bare.text
    thief = DPoPKey.generate(alg="ES256")
    stolen = requests.post(issuer + "/oauth2/token", headers={"DPoP": str(thief.proof("POST", issuer + "/oauth2/token",
                                                                                      nonce=request.dpop_key.as_nonce))},
                           data=dict(grant_type="refresh_token", refresh_token=token.refresh_token, client_id=client_id),
                           timeout=10)
    assert stolen.status_code == 400 and stolen.json()["error_codes"] == [9900256], stolen.text
    refreshed = client.refresh_token(token)
    assert refreshed.token_type == "DPoP" and claims(refreshed.access_token)["cnf"] == {"jkt": jkt}
    assert refreshed.refresh_token != token.refresh_token

    # Userinfo with the DPoP scheme: the library answers userinfo's nonce challenge (a 401 with
    # WWW-Authenticate: DPoP error="use_dpop_nonce") and retries with the nonce and ath.
    info = requests.get(metadata["userinfo_endpoint"], auth=refreshed, timeout=10)
    assert info.status_code == 200 and info.json()["preferred_username"] == username, info.text
    # The same token as a Bearer token: refused.
    bearer = requests.get(metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {refreshed.access_token}"},
                          timeout=10)
    assert bearer.status_code == 401 and bearer.json()["error_codes"] == [9900258]
    assert bearer.headers["WWW-Authenticate"].startswith('DPoP realm="%s", error="invalid_token"' % tenant)


class Apache(ApacheServer):
    """mod_oauth2 in front of the CGI at /orders, accepting DPoP-bound tokens only."""

    def __init__(self, verify):
        super().__init__(
            conftest.free_port(), "oauth2", "oauth2", "orders", CGI,
            lambda script: [f'ScriptAlias /orders "{script}"', "<Location /orders>", "  AuthType oauth2", "  Require valid-user",
                            "  OAuth2AcceptTokenIn header type=DPoP", f"  OAuth2TokenVerify {verify}", "</Location>"])
        self.url = f"{self.base}/orders"

    def get(self, token, proof=None, scheme="DPoP"):
        headers = {"Authorization": f"{scheme} {token}"}
        if proof is not None:
            headers["DPoP"] = str(proof)
        return requests.get(self.url, headers=headers, timeout=30)


def ath(token):
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture()
def dpop_service(server):
    suffix = secrets.token_hex(3)
    resource = f"api://dpop-orders-{suffix}"
    orders = server.cli_json("apis", "create", "--tenant", "default", "--name", "DPoP Orders", "--id", f"dpop-orders-{suffix}",
                             "--identifier", resource)
    app = server.cli_json("clients", "create", "--tenant", "default", "--name", "dpop service", "--resource", resource,
                          "--scope", "orders.read")
    return orders, app, resource, f"dpop-orders-{suffix}"


@pytest.mark.parametrize("mode", ["jwks_uri", "introspect"])
def test_mod_oauth2_accepts_a_bound_token_only_with_a_fresh_proof_by_its_key(server, dpop_service, mode):
    orders, app, resource, api_id = dpop_service
    key = DPoPKey.generate(alg="ES256")
    token_url = f"{server.base}/default/oauth2/token"
    response = requests.post(token_url, auth=(app["client_id"], app["client_secret"]),
                             headers={"DPoP": str(key.proof("POST", token_url))},
                             data={"grant_type": "client_credentials", "resource": resource}, timeout=10)
    assert response.status_code == 200 and response.json()["token_type"] == "DPoP", response.text
    token = response.json()["access_token"]
    if mode == "jwks_uri":
        verify = f"jwks_uri {server.base}/default/discovery/keys jwks_uri.ssl_verify=false&type=dpop"
    else:
        verify = (f"introspect {server.base}/default/oauth2/introspect "
                  f"introspect.auth=client_secret_basic&client_id={api_id}"
                  f"&client_secret={orders['client_secret']}&introspect.ssl_verify=false&type=dpop")
    apache = Apache(verify)
    try:
        good = key.proof("GET", apache.url, ath=ath(token))
        accepted = apache.get(token, good)
        assert accepted.status_code == 200 and f"hello {app['client_id']}" in accepted.text, accepted.text + apache.log()
        # The same proof again: a replay.
        assert apache.get(token, good).status_code == 401, apache.log()
        # A fresh proof is accepted again.
        assert apache.get(token, key.proof("GET", apache.url, ath=ath(token))).status_code == 200, apache.log()
        # Without a proof; with a proof for another URL or method; by another key.
        assert apache.get(token).status_code == 401
        assert apache.get(token, key.proof("GET", apache.base + "/elsewhere", ath=ath(token))).status_code == 401
        assert apache.get(token, key.proof("POST", apache.url, ath=ath(token))).status_code == 401
        other = DPoPKey.generate(alg="ES256")
        assert apache.get(token, other.proof("GET", apache.url, ath=ath(token))).status_code == 401
    finally:
        apache.stop()
