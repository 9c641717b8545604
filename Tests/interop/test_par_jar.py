"""Pushed authorization requests (RFC 9126) with a signed request object (RFC 9101), driven by
requests-oauth2client (a third-party client that implements both): a confidential client that
authenticates with private_key_jwt discovers the endpoints, signs its authorization request with its
own key, pushes it, sends the user (played with plain HTTP) to the authorization endpoint with the
returned request_uri, validates the response (state, RFC 9207 iss) and redeems the code, its ID token
checked against the published keys. The same client, which requires PAR, is refused a plain
request; a used request_uri is refused."""
import json
import os
import secrets
import tempfile
import time
import types
import urllib.parse

import requests
from jwskate import Jwk, Jwt
from requests_oauth2client import OAuth2Client, PrivateKeyJwt

from test_signin import PASSWORD, browser_step

REDIRECT = "https://par-rp.example.com/callback"


def test_requests_oauth2client_pushes_a_signed_request_with_private_key_jwt(server):
    issuer = server.base + "/default"
    key = Jwk.generate(alg="ES256", kid="par-rp-1")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"keys": [key.public_jwk().to_dict()]}, handle)
        jwks_file = handle.name
    try:
        client_id = server.cli_json(
            "clients", "create", "--tenant", "default", "--name", "PAR RP", "--redirect-uri", REDIRECT, "--auth-method",
            "private_key_jwt", "--jwks-file", jwks_file, "--scope", "openid profile", "--require-par")["client_id"]
    finally:
        os.unlink(jwks_file)
    username = "par" + secrets.token_hex(4)
    server.cli("users", "create", "--tenant", "default", username, "--display-name", "PAR User", "--password", PASSWORD)

    metadata = requests.get(issuer + "/.well-known/openid-configuration").json()
    assert metadata["pushed_authorization_request_endpoint"] == issuer + "/oauth2/par"
    assert metadata["request_parameter_supported"] is True and metadata["request_uri_parameter_supported"] is False
    assert "ES256" in metadata["request_object_signing_alg_values_supported"]
    assert "none" not in metadata["request_object_signing_alg_values_supported"]

    client = OAuth2Client.from_discovery_endpoint(
        issuer=issuer, auth=PrivateKeyJwt(client_id, key), redirect_uri=REDIRECT, testing=True,
        id_token_signed_response_alg="ES256")
    # The request object names the client as its issuer and Gatehouse's issuer as its audience.
    request = client.authorization_request(
        scope="openid profile", aud=issuer, iss=client_id, authorization_response_iss_parameter_supported=True)
    signed = request.sign(key, lifetime=60)
    pushed = client.pushed_authorization_request(types.SimpleNamespace(args={"request": str(signed.request)}, dpop_key=None))
    assert pushed.request_uri.startswith("urn:ietf:params:oauth:request_uri:")

    browser = requests.Session()
    location = browser_step(browser, pushed.uri, username)
    response = request.validate_callback(location)
    token = client.authorization_code(response)
    assert token.id_token is not None and token.id_token.subject
    assert token.access_token

    # The request_uri was used once: a second use is refused on Gatehouse's page.
    again = requests.get(pushed.uri, allow_redirects=False)
    assert again.status_code == 400 and "9900236" in again.text

    # The client requires PAR: its plain request (even a signed one by value) goes back refused.
    plain = client.authorization_request(scope="openid profile")
    refused = requests.get(plain.uri, allow_redirects=False)
    assert refused.status_code == 303, refused.text[:300]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(refused.headers["Location"]).query)
    assert query["error"] == ["invalid_request"] and query["error_codes"] == ["9900238"], query
    assert query["iss"] == [issuer] and query["state"] == [plain.state]

    # A key the client does not own, at the PAR endpoint: the client is not authenticated.
    now = int(time.time())
    forged = Jwt.sign({"iss": client_id, "sub": client_id, "aud": issuer + "/oauth2/par", "iat": now, "exp": now + 60,
                       "jti": secrets.token_hex(8)}, Jwk.generate(alg="ES256", kid="par-rp-1"), alg="ES256")
    answer = requests.post(issuer + "/oauth2/par", data=dict(
        request=str(signed.request), client_id=client_id,
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion=str(forged)))
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client", answer.text
