"""Passkeys in a real browser: headless Chromium (JavaScript on) with a WebDriver virtual authenticator
(CTAP2, internal transport, resident keys and user verification), the server's base URL
http://localhost:PORT (WebAuthn refuses an IP address as RP ID).

A user registers a passkey on the account page; signs in to a registered client through the
authorization code flow with the passkey alone (no password typed), and the ID token's `amr` says so;
then with the password and the passkey as the second factor; then removes the passkey, and its sign-in
is refused. The stored public key and the assertion Gatehouse accepted are verified again with a
third-party library (py_webauthn). Screenshots in test-artifacts/passkey-*.png."""
import base64
import hashlib
import json
import os
import secrets
import tempfile
import urllib.parse

import pytest
import requests

import conftest
from test_console import wait as console_wait
from test_signin import Callback

PASSWORD = "correct horse battery"
ARTIFACTS = os.environ.get("GATEHOUSE_ARTIFACTS", os.path.join(os.getcwd(), "test-artifacts"))


def wait(browser, condition):
    """As the console test's wait; on a timeout, the page's text and a screenshot say where it stood."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    try:
        return console_wait(browser, condition)
    except TimeoutException:
        browser.save_screenshot(os.path.join(ARTIFACTS, "passkey-timeout.png"))
        raise AssertionError(f"timed out at {browser.current_url}: {browser.find_element(By.TAG_NAME, 'body').text[:800]}")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(scope="module")
def passkey_server():
    with tempfile.TemporaryDirectory() as workdir:
        srv = conftest.Server(workdir)
        srv.base = f"http://localhost:{srv.port}"
        srv.start(env={"GATEHOUSE_BASE_URL": srv.base})
        yield srv
        srv.stop()


def js_driver():
    """Headless Chromium with JavaScript on and a virtual platform authenticator."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions

    driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    assert os.path.exists(driver_path), "chromium-driver is not installed (.ci/run installs Debian's chromium and chromium-driver)"
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_SUBMIT})
    driver.add_virtual_authenticator(VirtualAuthenticatorOptions(
        protocol=Protocol.CTAP2, transport=Transport.INTERNAL, has_resident_key=True, has_user_verification=True,
        is_user_consenting=True, is_user_verified=True))
    os.makedirs(ARTIFACTS, exist_ok=True)
    return driver


def authorize_url(srv, client, callback, verifier):
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return f"{srv.base}/default/oauth2/authorize?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": callback.uri, "scope": "openid profile",
        "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8), "code_challenge": challenge,
        "code_challenge_method": "S256"})


def redeem(srv, client, callback, verifier):
    received = [path for path in callback.received if path.startswith("/callback?")]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(received[-1]).query)
    assert "code" in query, received[-1]
    response = requests.post(f"{srv.base}/default/oauth2/token", data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": callback.uri, "code_verifier": verifier},
        auth=(client["client_id"], client["client_secret"]), timeout=30)
    assert response.status_code == 200, response.text
    parts = response.json()["id_token"].split(".")
    return json.loads(b64url_decode(parts[1]))


# Installed before any page script runs (CDP, not subject to the page's CSP): every passkey answer
# the pages submit is also kept in localStorage, with the challenge it answered, for py_webauthn.
RECORD_SUBMIT = """
const submit = HTMLFormElement.prototype.submit;
HTMLFormElement.prototype.submit = function () {
  if (this.id === 'passkey-form' && this.elements['signature']) {
    const fields = {challenge: this.dataset.challenge};
    for (const name of ['credential_id', 'client_data', 'authenticator_data', 'signature', 'user_handle']) fields[name] = this.elements[name].value;
    localStorage.setItem('recorded-assertion', JSON.stringify(fields));
  }
  return submit.call(this);
};
"""


def test_register_sign_in_with_a_passkey_alone_and_as_second_factor_then_remove(passkey_server):
    from selenium.webdriver.common.by import By
    import webauthn

    srv = passkey_server
    username = "pia" + secrets.token_hex(3)
    srv.cli("users", "create", "--tenant", "default", username, "--password", PASSWORD, "--display-name", "Pia Passkey",
            "--base-url", srv.base)
    callback = Callback()
    client = srv.cli_json("clients", "create", "--tenant", "default", "--name", "Passkey RP", "--redirect-uri", callback.uri,
                          "--base-url", srv.base)
    browser = js_driver()
    try:
        # 1. Register on the account page (signed in with the password).
        browser.get(f"{srv.base}/default/account")
        wait(browser, lambda d: d.find_elements(By.ID, "username"))
        browser.find_element(By.ID, "username").send_keys(username)
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.ID, "add-passkey"))
        browser.find_element(By.ID, "add-passkey").click()
        wait(browser, lambda d: d.find_elements(By.ID, "passkey-button") and d.find_element(By.ID, "passkey-button").is_displayed())
        browser.find_element(By.ID, "passkey-name").clear()
        browser.find_element(By.ID, "passkey-name").send_keys("Virtual key")
        browser.save_screenshot(os.path.join(ARTIFACTS, "passkey-add.png"))
        browser.find_element(By.ID, "passkey-button").click()
        wait(browser, lambda d: d.find_elements(By.ID, "notice") or d.find_elements(By.ID, "form-error"))
        assert browser.find_elements(By.ID, "notice"), browser.find_element(By.ID, "form-error").text
        assert "Virtual key" in browser.page_source
        browser.save_screenshot(os.path.join(ARTIFACTS, "passkey-list.png"))
        stored = srv.cli_json("users", "passkeys", "--tenant", "default", username)
        assert len(stored) == 1 and stored[0]["name"] == "Virtual key" and stored[0]["transports"], stored
        credentials = browser.get_credentials()
        assert len(credentials) == 1 and credentials[0].is_resident_credential

        # 2. Signed out; the passkey alone signs in to the client (no password typed): the sign-in
        # page offers it in the username field's autofill (conditional UI), which the virtual
        # authenticator answers at once.
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})  # every path's cookies
        verifier = secrets.token_urlsafe(48)
        browser.get(authorize_url(srv, client, callback, verifier))
        wait(browser, lambda d: d.find_elements(By.ID, "allow") or d.find_elements(By.ID, "done") or d.find_elements(By.ID, "form-error"))
        assert not browser.find_elements(By.ID, "form-error"), browser.find_element(By.ID, "form-error").text
        assert "/default/oauth2/login/passkey" in browser.current_url, "signed in by the passkey form"
        browser.save_screenshot(os.path.join(ARTIFACTS, "passkey-consent.png"))
        if browser.find_elements(By.ID, "allow"):
            browser.find_element(By.ID, "allow").click()
        wait(browser, lambda d: d.find_elements(By.ID, "done"))
        claims = redeem(srv, client, callback, verifier)
        assert claims["amr"] == ["hwk", "user"], claims
        assert claims["preferred_username"] == username

        # 3. The stored public key and the assertion Gatehouse accepted, verified by py_webauthn.
        browser.get(f"{srv.base}/health")
        recorded = json.loads(browser.execute_script("return localStorage.getItem('recorded-assertion')"))
        before = srv.cli_json("users", "passkeys", "--tenant", "default", username)[0]
        verified = webauthn.verify_authentication_response(
            credential={
                "id": recorded["credential_id"], "rawId": recorded["credential_id"], "type": "public-key",
                "response": {"clientDataJSON": recorded["client_data"], "authenticatorData": recorded["authenticator_data"],
                             "signature": recorded["signature"], "userHandle": recorded["user_handle"] or None}},
            expected_challenge=b64url_decode(recorded["challenge"]), expected_rp_id="localhost", expected_origin=srv.base,
            credential_public_key=b64url_decode(before["public_key"]), credential_current_sign_count=0,
            require_user_verification=True)
        assert verified.credential_id == b64url_decode(before["credential_id"])
        assert verified.new_sign_count == before["sign_count"], (verified.new_sign_count, before)

        # 4. The password, then the passkey as the second factor: in a browser without conditional UI
        # (the autofill would otherwise sign in with the passkey alone before a password is typed).
        no_autofill = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
            "source": "PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);"})
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})  # every path's cookies
        verifier = secrets.token_urlsafe(48)
        browser.get(authorize_url(srv, client, callback, verifier))
        wait(browser, lambda d: d.find_elements(By.ID, "password"))
        browser.find_element(By.ID, "username").send_keys(username)
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#passkey-form[data-mode='second']"))
        wait(browser, lambda d: d.find_element(By.ID, "passkey-button").is_displayed())
        assert not browser.find_elements(By.ID, "otp"), "no authenticator app: the passkey is the only second factor offered"
        browser.save_screenshot(os.path.join(ARTIFACTS, "passkey-second-factor.png"))
        browser.find_element(By.ID, "passkey-button").click()
        wait(browser, lambda d: d.find_elements(By.ID, "allow") or d.find_elements(By.ID, "done") or d.find_elements(By.ID, "form-error"))
        if browser.find_elements(By.ID, "allow"):
            browser.find_element(By.ID, "allow").click()
        wait(browser, lambda d: d.find_elements(By.ID, "done"))
        claims = redeem(srv, client, callback, verifier)
        assert claims["amr"] == ["pwd", "hwk", "mfa"], claims
        assert claims["acr"] == "2"
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": no_autofill["identifier"]})

        # 5. Removed on the account page (signed in with the passkey, from the autofill: fresh enough).
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})  # every path's cookies
        browser.get(f"{srv.base}/default/account")
        wait(browser, lambda d: d.find_elements(By.ID, "manage-passkeys"))
        browser.find_element(By.ID, "manage-passkeys").click()
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "button.remove-passkey"))
        browser.find_element(By.CSS_SELECTOR, "button.remove-passkey").click()
        wait(browser, lambda d: d.find_elements(By.ID, "no-passkeys"))
        browser.save_screenshot(os.path.join(ARTIFACTS, "passkey-removed.png"))
        assert srv.cli_json("users", "passkeys", "--tenant", "default", username) == []

        # 6. The authenticator still holds the credential; Gatehouse refuses it (9900208): first from
        # the autofill, then from the "Sign in with a passkey" button of the page that shows the refusal.
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})  # every path's cookies
        verifier = secrets.token_urlsafe(48)
        browser.get(authorize_url(srv, client, callback, verifier))
        wait(browser, lambda d: d.find_elements(By.ID, "form-error"))
        assert "9900208" in browser.find_element(By.ID, "form-error").text
        assert browser.find_element(By.ID, "passkey-form").get_attribute("data-conditional") == "off"
        wait(browser, lambda d: d.find_element(By.ID, "passkey-button").is_displayed())
        browser.save_screenshot(os.path.join(ARTIFACTS, "passkey-refused.png"))
        challenge = browser.find_element(By.ID, "passkey-form").get_attribute("data-challenge")
        browser.find_element(By.ID, "passkey-button").click()
        wait(browser, lambda d: d.find_element(By.ID, "passkey-form").get_attribute("data-challenge") != challenge)
        assert "9900208" in browser.find_element(By.ID, "form-error").text
        assert browser.find_element(By.ID, "username").get_attribute("autocomplete") == "username webauthn"
    finally:
        browser.quit()
        callback.close()


def test_a_tenant_that_requires_passkeys_has_a_new_user_register_one_at_sign_in(passkey_server):
    from selenium.webdriver.common.by import By

    srv = passkey_server
    srv.cli("tenants", "create", "strict", "--display-name", "Strict Corp", "--base-url", srv.base)
    srv.cli("tenants", "set", "strict", "--passkey-required", "on", "--base-url", srv.base)
    username = "quinn" + secrets.token_hex(3)
    srv.cli("users", "create", "--tenant", "strict", username, "--password", PASSWORD, "--base-url", srv.base)
    callback = Callback()
    client = srv.cli_json("clients", "create", "--tenant", "strict", "--name", "Strict RP", "--redirect-uri", callback.uri,
                          "--base-url", srv.base)
    browser = js_driver()
    try:
        def authorize(verifier):
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            return f"{srv.base}/strict/oauth2/authorize?" + urllib.parse.urlencode({
                "response_type": "code", "client_id": client["client_id"], "redirect_uri": callback.uri, "scope": "openid",
                "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256"})

        def token(verifier):
            received = [path for path in callback.received if path.startswith("/callback?")]
            code = urllib.parse.parse_qs(urllib.parse.urlparse(received[-1]).query)["code"][0]
            response = requests.post(f"{srv.base}/strict/oauth2/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": callback.uri, "code_verifier": verifier},
                auth=(client["client_id"], client["client_secret"]), timeout=30)
            assert response.status_code == 200, response.text
            return json.loads(b64url_decode(response.json()["id_token"].split(".")[1]))

        # The password first; then, before any session, the passkey registration page.
        verifier = secrets.token_urlsafe(48)
        browser.get(authorize(verifier))
        wait(browser, lambda d: d.find_elements(By.ID, "password"))
        browser.find_element(By.ID, "username").send_keys(username)
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#passkey-form[data-mode='register']"))
        wait(browser, lambda d: d.find_element(By.ID, "passkey-button").is_displayed())
        browser.save_screenshot(os.path.join(ARTIFACTS, "passkey-required.png"))
        browser.find_element(By.ID, "passkey-button").click()
        wait(browser, lambda d: d.find_elements(By.ID, "allow") or d.find_elements(By.ID, "done") or d.find_elements(By.ID, "form-error"))
        assert not browser.find_elements(By.ID, "form-error"), browser.find_element(By.ID, "form-error").text
        if browser.find_elements(By.ID, "allow"):
            browser.find_element(By.ID, "allow").click()
        wait(browser, lambda d: d.find_elements(By.ID, "done"))
        assert token(verifier)["amr"] == ["pwd"]
        names = [p["name"] for p in srv.cli_json("users", "passkeys", "--tenant", "strict", username)]
        assert len(names) == 1 and "Chrom" in names[0], names  # suggested from the browser: "Chrome · Linux"

        # Signed out: the new passkey alone signs in (from the autofill).
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
        verifier = secrets.token_urlsafe(48)
        browser.get(authorize(verifier))
        wait(browser, lambda d: d.find_elements(By.ID, "done") or d.find_elements(By.ID, "form-error"))
        assert not browser.find_elements(By.ID, "form-error"), browser.find_element(By.ID, "form-error").text
        assert token(verifier)["amr"] == ["hwk", "user"]

        # An administrator removes it with the CLI (audited); the next sign-in from the autofill is refused.
        credential = srv.cli_json("users", "passkeys", "--tenant", "strict", username)[0]["credential_id"]
        srv.cli("users", "remove-passkey", "--tenant", "strict", username, credential, "--base-url", srv.base)
        assert srv.cli_json("users", "passkeys", "--tenant", "strict", username) == []
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
        browser.get(authorize(secrets.token_urlsafe(48)))
        wait(browser, lambda d: d.find_elements(By.ID, "form-error"))
        assert "9900208" in browser.find_element(By.ID, "form-error").text
    finally:
        browser.quit()
        callback.close()
