"""A relying party in front of Gatehouse: Debian's Apache with mod_auth_openidc (2.4.12 in
bookworm, which has no PAR) protecting a small CGI on loopback. Headless Chromium signs a user in;
mod_auth_openidc sends its authorization request as a request object signed with its own RSA key
(RFC 9101 by value: `OIDCRequestObject` with `request_object_type: request`), which Gatehouse checks
with the client's registered JWKS. Then the user signs out at Gatehouse (the end-session page), and
Gatehouse's outbox posts a logout token to mod_auth_openidc's back-channel logout endpoint
(`<OIDCRedirectURI>?logout=backchannel`, with its server-side session cache): the protected page asks
for a new sign-in, where without back-channel logout its own session cookie would still be honoured.
Last, the request mod_auth_openidc sends with its signature changed is refused (9900231).
Screenshots: rp-signed-in.png, rp-after-backchannel-logout.png."""
import base64
import json
import os
import secrets
import shutil
import tempfile
import time
import urllib.parse

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import conftest
from apache import MODULES, Apache as ApacheServer

PASSWORD = "correct horse battery"
ARTIFACTS = os.environ.get("GATEHOUSE_ARTIFACTS", os.path.join(os.getcwd(), "test-artifacts"))

CGI = """#!/bin/sh
printf 'Content-Type: text/html\\r\\n\\r\\n'
printf '<html><body><h1 id="hello">hello %s</h1></body></html>\\n' "$OIDC_CLAIM_preferred_username"
"""


def b64(number):
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class RelyingParty(ApacheServer):
    """mod_auth_openidc protecting the CGI at /protected/page, a client of Gatehouse's `issuer`."""

    def __init__(self, issuer, client_id, client_secret, port, key_path, public_path):
        request_object = json.dumps({"crypto": {"sign_alg": "RS256"}, "request_object_type": "request"})
        base = f"http://127.0.0.1:{port}"
        super().__init__(
            port, "auth_openidc", "auth_openidc", "page", CGI,
            lambda script: [
                f"OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration",
                f"OIDCClientID {client_id}", f"OIDCClientSecret {client_secret}",
                f"OIDCRedirectURI {base}/protected/redirect_uri",
                f"OIDCCryptoPassphrase {secrets.token_hex(16)}",
                'OIDCScope "openid profile"', "OIDCProviderTokenEndpointAuth client_secret_basic", "OIDCPKCEMethod S256",
                f"OIDCRequestObject '{request_object}'",
                f"OIDCPrivateKeyFiles rp-key#{key_path}", f"OIDCPublicKeyFiles rp-key#{public_path}",
                "OIDCSessionType server-cache", "OIDCCacheType shm",
                f'ScriptAlias /protected/page "{script}"',
                "<Location /protected>", "  AuthType openid-connect", "  Require valid-user", "</Location>"])


@pytest.fixture()
def relying_party(unstarted_server):
    assert os.path.exists(f"{MODULES}/mod_auth_openidc.so"), \
        "libapache2-mod-auth-openidc is not installed (.ci/run installs it)"
    unstarted_server.start()
    server = unstarted_server
    keys = tempfile.mkdtemp(prefix="gatehouse-rp-keys-")
    os.chmod(keys, 0o755)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = os.path.join(keys, "rp.key")
    public_path = os.path.join(keys, "rp.pub")
    with open(key_path, "wb") as handle:
        handle.write(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    with open(public_path, "wb") as handle:
        handle.write(private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    numbers = private.public_key().public_numbers()
    jwks_path = os.path.join(keys, "jwks.json")
    with open(jwks_path, "w") as handle:
        json.dump({"keys": [{"kty": "RSA", "kid": "rp-key", "alg": "RS256", "use": "sig", "n": b64(numbers.n), "e": b64(numbers.e)}]},
                  handle)
    port = conftest.free_port()
    base = f"http://127.0.0.1:{port}"
    client = server.cli_json(
        "clients", "create", "--tenant", "default", "--name", "Apache RP", "--redirect-uri", f"{base}/protected/redirect_uri",
        "--scope", "openid profile", "--auth-method", "client_secret_basic", "--jwks-file", jwks_path,
        "--backchannel-logout-uri", f"{base}/protected/redirect_uri?logout=backchannel", "--backchannel-logout-session-required")
    username = "rp" + secrets.token_hex(4)
    server.cli("users", "create", "--tenant", "default", username, "--display-name", "RP User", "--password", PASSWORD)
    rp = RelyingParty(server.base + "/default", client["client_id"], client["client_secret"], port, key_path, public_path)
    yield dict(server=server, rp=rp, client=client, username=username)
    rp.stop()
    shutil.rmtree(keys, ignore_errors=True)


def test_mod_auth_openidc_signs_in_with_a_signed_request_and_is_signed_out_through_the_back_channel(relying_party):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server, rp, username = relying_party["server"], relying_party["rp"], relying_party["username"]
    driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    assert os.path.exists(driver_path), "chromium-driver is not installed (.ci/run installs Debian's chromium and chromium-driver)"
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    os.makedirs(ARTIFACTS, exist_ok=True)
    try:
        # The protected page sends the browser to Gatehouse with a signed request object.
        driver.get(rp.base + "/protected/page")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "username"))
        assert driver.current_url.startswith(server.base + "/default/oauth2/"), driver.current_url
        driver.find_element(By.ID, "username").send_keys(username)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "submit").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "allow") or d.find_elements(By.ID, "hello"))
        if driver.find_elements(By.ID, "allow"):
            driver.find_element(By.ID, "allow").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "hello"))
        assert driver.find_element(By.ID, "hello").text == f"hello {username}", rp.log()
        driver.save_screenshot(os.path.join(ARTIFACTS, "rp-signed-in.png"))
        signins = server.cli_json("signins", "--tenant", "default", "--client", relying_party["client"]["client_id"], "--failures")
        assert signins == [], signins

        # Sign out at Gatehouse (its end-session page asks to confirm).
        driver.get(server.base + "/default/oauth2/logout")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "submit"))
        driver.find_element(By.ID, "submit").click()
        WebDriverWait(driver, 20).until(lambda d: not d.find_elements(By.ID, "submit"))

        # The outbox posts the logout token within a few seconds; the RP's session is then gone
        # and the protected page sends the browser back to Gatehouse's sign-in page.
        deadline = time.time() + 30
        while time.time() < deadline:
            driver.get(rp.base + "/protected/page")
            if driver.find_elements(By.ID, "username"):
                break
            time.sleep(1)
        assert driver.find_elements(By.ID, "username"), "still signed in at the RP: " + rp.log()[-3000:]
        assert driver.current_url.startswith(server.base + "/default/oauth2/")
        driver.save_screenshot(os.path.join(ARTIFACTS, "rp-after-backchannel-logout.png"))
    finally:
        driver.quit()
    # Gatehouse recorded the delivery; mod_auth_openidc accepted it (no 400 in its log).
    rows = server.cli_json("signins", "--tenant", "default", "--client", relying_party["client"]["client_id"])
    deliveries = [row for row in rows if "backchannel_logout" in json.dumps(row)]
    assert deliveries and all(row.get("result") == "success" for row in deliveries), rows

    # What mod_auth_openidc sends is a request object signed with its RSA key, which Gatehouse
    # checks: the same request with the signature changed is refused (9900231).
    start = requests.get(rp.base + "/protected/page", allow_redirects=False)
    assert start.status_code in (302, 303), start.status_code
    location = start.headers["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    request_object = query["request"][0]
    header = json.loads(base64.urlsafe_b64decode(request_object.split(".")[0] + "=="))
    assert header["alg"] == "RS256" and header["kid"] == "rp-key", header
    claims = json.loads(base64.urlsafe_b64decode(request_object.split(".")[1] + "=="))
    assert claims["iss"] == relying_party["client"]["client_id"] and claims["aud"] == server.base + "/default", claims
    assert requests.get(location).status_code == 200
    head, body, signature = request_object.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    query["request"] = [".".join([head, body, flipped])]
    forged = location.split("?")[0] + "?" + urllib.parse.urlencode({key: value[0] for key, value in query.items()})
    refused = requests.get(forged)
    assert refused.status_code == 400 and "9900231" in refused.text, refused.text[:500]
