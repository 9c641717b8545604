"""User sign-in driven by third-party software against the running binary: authlib's OAuth 2
client (authorization code + PKCE, refresh, ID token verified against the published JWKS), and a
real headless Chromium (Selenium) filling in the sign-in and consent pages."""
import hashlib
import http.server
import os
import re
import secrets
import threading
import urllib.parse
import warnings

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

PASSWORD = "correct horse battery"
ARTIFACTS = os.environ.get("GATEHOUSE_ARTIFACTS", os.path.join(os.getcwd(), "test-artifacts"))


class Callback:
    """A loopback redirect URI that records the query it receives."""

    def __init__(self):
        self.received = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.received.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html><body><h1 id='done'>signed in</h1></body></html>")

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.httpd.server_port}/callback"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def rp(server):
    callback = Callback()
    client = server.cli_json("clients", "create", "--tenant", "default", "--name", "Interop RP", "--redirect-uri", callback.uri,
                             "--post-logout-redirect-uri", callback.uri + "/bye")
    username = "user" + secrets.token_hex(4)
    server.cli("users", "create", "--tenant", "default", username, "--email", f"{username}@example.com",
               "--display-name", "Interop User", "--password", PASSWORD)
    yield dict(callback=callback, client=client, username=username, issuer=server.base + "/default")
    callback.close()


def form_fields(html):
    return dict(re.findall(r'name="(interaction|csrf)" value="([^"]*)"', html))


def browser_step(browser, url, username):
    """Plays the user with plain HTTP: sign-in page, password, consent. Returns the final redirect."""
    page = browser.get(url)
    assert page.status_code == 200, page.text
    fields = form_fields(page.text)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    reply = browser.post(action, data=dict(fields, username=username, password=PASSWORD), allow_redirects=False)
    if reply.status_code == 200 and "oauth2/consent" in reply.text:
        reply = browser.post(re.search(r'action="([^"]+consent)"', reply.text).group(1), data=dict(form_fields(reply.text), decision="allow"),
                             allow_redirects=False)
    assert reply.status_code == 303, reply.text
    return reply.headers["Location"]


def test_authlib_code_flow_with_pkce_refresh_and_verified_id_token(server, rp):
    metadata = requests.get(rp["issuer"] + "/.well-known/openid-configuration").json()
    session = OAuth2Session(rp["client"]["client_id"], rp["client"]["client_secret"], scope="openid profile email offline_access",
                            redirect_uri=rp["callback"].uri, code_challenge_method="S256",
                            token_endpoint_auth_method="client_secret_basic")
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    location = browser_step(requests.Session(), url, rp["username"])
    query = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    assert query["state"] == [state] and query["iss"] == [rp["issuer"]]
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert token["token_type"] == "Bearer" and token["refresh_token"] and token["id_token"]

    # The ID token, verified by authlib against the JWKS the server publishes (signature, iss,
    # aud, exp, iat, nonce, at_hash).
    keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"]).json())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                            claims_options={"iss": {"essential": True, "value": rp["issuer"]}},
                            claims_params={"nonce": nonce, "client_id": rp["client"]["client_id"], "access_token": token["access_token"]})
    claims.validate()
    assert claims["preferred_username"] == rp["username"] and claims["email"] == rp["username"] + "@example.com"

    info = session.get(metadata["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["preferred_username"] == rp["username"]

    # Refresh rotates the refresh token; the old one works only within the grace period.
    refreshed = session.refresh_token(metadata["token_endpoint"])
    assert refreshed["refresh_token"] != token["refresh_token"] and refreshed["access_token"] != token["access_token"]
    introspection = requests.post(metadata["introspection_endpoint"], data={"token": refreshed["refresh_token"]},
                                  auth=(rp["client"]["client_id"], rp["client"]["client_secret"])).json()
    assert introspection["active"] is True and introspection["token_type"] == "refresh_token"

    # Revocation ends the family.
    assert requests.post(metadata["revocation_endpoint"], data={"token": refreshed["refresh_token"]},
                         auth=(rp["client"]["client_id"], rp["client"]["client_secret"])).status_code == 200
    again = requests.post(metadata["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
                          auth=(rp["client"]["client_id"], rp["client"]["client_secret"]))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_headless_chromium_signs_in(server, rp):
    # An API with a described permission, so that the consent page shows it (and its screenshot).
    server.cli("apis", "create", "--tenant", "default", "--name", "Orders", "--id", "consent-orders", "--identifier",
               "api://consent-orders")
    server.cli("apis", "add-permission", "--tenant", "default", "api://consent-orders", "Orders.Read", "--description",
               "Read your orders", "--description-vi", "Đọc đơn hàng của bạn")
    client = server.cli_json("clients", "create", "--tenant", "default", "--name", "Orders web", "--redirect-uri", rp["callback"].uri,
                             "--resource", "api://consent-orders", "--scope", "openid profile Orders.Read")
    rp = dict(rp, client=client)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    assert os.path.exists(driver_path), "chromium-driver is not installed (.ci/run installs Debian's chromium and chromium-driver)"
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        verifier = secrets.token_urlsafe(48)
        challenge = hashlib.sha256(verifier.encode()).digest()
        import base64
        challenge = base64.urlsafe_b64encode(challenge).rstrip(b"=").decode()
        url = rp["issuer"] + "/oauth2/authorize?" + urllib.parse.urlencode(dict(
            response_type="code", client_id=rp["client"]["client_id"], redirect_uri=rp["callback"].uri,
            scope="openid profile Orders.Read", resource="api://consent-orders",
            state="browser-state", nonce="browser-nonce", code_challenge=challenge, code_challenge_method="S256"))
        driver.get(url)
        # Keyboard-first page: the username field has focus; labels name the fields.
        assert driver.switch_to.active_element.get_attribute("id") == "username"
        assert driver.find_element(By.CSS_SELECTOR, "label[for=username]").text and driver.find_element(By.CSS_SELECTOR, "label[for=password]").text
        os.makedirs(ARTIFACTS, exist_ok=True)
        screenshot = os.path.join(ARTIFACTS, "login-page.png")
        driver.save_screenshot(screenshot)
        assert os.path.getsize(screenshot) > 1000
        driver.find_element(By.ID, "username").send_keys(rp["username"])
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "submit").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "allow") or "/callback" in d.current_url)
        if driver.find_elements(By.ID, "allow"):
            # The API by its name and identifier, its permission by its description.
            page = driver.find_element(By.TAG_NAME, "main").text
            assert "Orders" in page and "api://consent-orders" in page and "Read your orders" in page, page
            driver.save_screenshot(os.path.join(ARTIFACTS, "consent-page.png"))
            driver.find_element(By.ID, "allow").click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(rp["callback"].uri))
        query = urllib.parse.parse_qs(urllib.parse.urlparse(driver.current_url).query)
        assert query["state"] == ["browser-state"] and query["iss"] == [rp["issuer"]] and query["code"][0]
        tokens = requests.post(rp["issuer"] + "/oauth2/token", data=dict(
            grant_type="authorization_code", code=query["code"][0], redirect_uri=rp["callback"].uri, code_verifier=verifier),
            auth=(rp["client"]["client_id"], rp["client"]["client_secret"]))
        assert tokens.status_code == 200 and "id_token" in tokens.json()
    finally:
        driver.quit()
