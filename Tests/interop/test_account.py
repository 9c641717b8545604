"""The account page (`/{tenant}/account`) in headless Chromium with JavaScript off.

A user signs in through the normal sign-in page, enrols an authenticator app: the QR code on the page
is decoded by a third-party decoder (Debian's zbarimg, on a screenshot of the code) and its otpauth://
URI's secret gives pyotp the first code. Ten recovery codes are shown once. The next sign-in asks for
the second factor; a recovery code works once and not twice. Withdrawing an app's access revokes its
refresh token (invalid_grant) and no other app's; ending a session from another browser signs that
browser out. Every change is mailed (aiosmtpd on loopback). Screenshots in test-artifacts/account-*.png."""
import base64
import email
import email.policy
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests

import conftest
from test_console import assert_accessible, new_driver, wait
from test_signin import Callback

PASSWORD = "correct horse battery"
ARTIFACTS = os.environ.get("GATEHOUSE_ARTIFACTS", os.path.join(os.getcwd(), "test-artifacts"))


class PlainMailbox:
    """aiosmtpd on 127.0.0.1 without TLS (Gatehouse sends in the clear only to a loopback host)."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        self.received = []
        self.port = conftest.free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default))
        return "250 OK: queued"

    def wait_for(self, predicate, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            found = [m for m in self.received if predicate(m)]
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError(f"no such mail within {seconds} s; received: {[m['Subject'] for m in self.received]}")

    def stop(self):
        self.controller.stop()


@pytest.fixture(scope="module")
def account_server():
    mailbox = PlainMailbox()
    with tempfile.TemporaryDirectory() as workdir:
        srv = conftest.Server(workdir)
        srv.start(env={"GATEHOUSE_SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}", "GATEHOUSE_SMTP_FROM": "gatehouse@example.test"})
        srv.mailbox = mailbox
        yield srv
        srv.stop()
        mailbox.stop()


def make_user(srv, name):
    srv.cli("users", "create", "--tenant", "default", name, "--password", PASSWORD, "--email", f"{name}@example.test",
            "--email-verified", "--display-name", name.capitalize() + " Example", "--base-url", srv.base)


def sign_in(browser, srv, username, expect_code=False, password=PASSWORD):
    """Opens the account page, which sends the browser through the sign-in page."""
    from selenium.webdriver.common.by import By
    browser.get(f"{srv.base}/default/account")
    wait(browser, lambda d: d.find_elements(By.ID, "username") or d.find_elements(By.ID, "change-password"))
    if browser.find_elements(By.ID, "change-password"):
        return
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "submit").click()
    if expect_code:
        wait(browser, lambda d: d.find_elements(By.ID, "otp"))
    else:
        wait(browser, lambda d: d.find_elements(By.ID, "change-password"))


def decode_qr(browser, name):
    """The QR code as the page draws it, photographed and read by zbarimg (not by Gatehouse's code)."""
    from selenium.webdriver.common.by import By
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbar-tools is not installed (.ci/run installs Debian's zbar-tools)"
    path = os.path.join(ARTIFACTS, name)
    browser.find_element(By.ID, "qr").screenshot(path)
    result = subprocess.run([zbarimg, "--quiet", "--raw", path], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"zbarimg could not read {path}: {result.stderr}"
    return result.stdout.strip()


def test_enrol_totp_from_the_qr_code_then_sign_in_with_a_code_and_a_recovery_code_once(account_server):
    import pyotp
    from selenium.webdriver.common.by import By

    srv = account_server
    make_user(srv, "ana")
    browser = new_driver()
    try:
        sign_in(browser, srv, "ana")
        assert "Ana Example" in browser.page_source and browser.find_element(By.ID, "factor-state").text.startswith("Off")
        assert_accessible(browser)
        browser.save_screenshot(os.path.join(ARTIFACTS, "account-page.png"))

        browser.find_element(By.ID, "enrol").click()
        wait(browser, lambda d: d.find_elements(By.ID, "qr"))
        assert_accessible(browser)
        browser.save_screenshot(os.path.join(ARTIFACTS, "account-enrol.png"))
        uri = decode_qr(browser, "account-qr.png")
        parsed = urllib.parse.urlparse(uri)
        assert parsed.scheme == "otpauth" and parsed.netloc == "totp", uri
        secret = urllib.parse.parse_qs(parsed.query)["secret"][0]
        conftest.note_secret(secret)
        # The setup key beside the code is the same base32 value.
        assert browser.find_element(By.ID, "setup-key").text.replace(" ", "") == secret
        # A wrong first code is refused with the catalogue's error; the page stays.
        browser.find_element(By.ID, "otp").send_keys("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.ID, "form-error"))
        assert "9900145" in browser.find_element(By.ID, "form-error").text
        browser.find_element(By.ID, "otp").send_keys(pyotp.TOTP(secret).now())
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.ID, "recovery-codes"))
        codes = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
        for code in codes:
            conftest.note_secret(code)
        assert len(codes) == 10 and all(re.fullmatch(r"[A-Z2-7]{5}-[A-Z2-7]{5}", c) for c in codes), codes
        browser.save_screenshot(os.path.join(ARTIFACTS, "account-recovery-codes.png"))
        browser.find_element(By.ID, "done").click()
        wait(browser, lambda d: d.find_elements(By.ID, "codes-left"))
        assert "10 of 10" in browser.find_element(By.ID, "codes-left").text
        browser.find_element(By.ID, "sign-out").click()
    finally:
        browser.quit()
    srv.mailbox.wait_for(lambda m: m["To"].addresses[0].addr_spec == "ana@example.test" and "turned on" in m.get_body(
        preferencelist=("plain",)).get_content())

    # A new browser: the sign-in asks for the second factor; a recovery code passes it once.
    browser = new_driver()
    try:
        sign_in(browser, srv, "ana", expect_code=True)
        browser.save_screenshot(os.path.join(ARTIFACTS, "account-sign-in-code.png"))
        browser.find_element(By.ID, "otp").send_keys(codes[0].lower())
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.ID, "codes-left"))
        assert "9 of 10" in browser.find_element(By.ID, "codes-left").text
    finally:
        browser.quit()
    srv.mailbox.wait_for(lambda m: "recovery code was used" in m.get_body(preferencelist=("plain",)).get_content())

    browser = new_driver()
    try:
        sign_in(browser, srv, "ana", expect_code=True)
        browser.find_element(By.ID, "otp").send_keys(codes[0])
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.ID, "form-error"))
        assert "9900145" in browser.find_element(By.ID, "form-error").text
        browser.save_screenshot(os.path.join(ARTIFACTS, "account-recovery-code-reused.png"))
        # The authenticator's code still works on the same page.
        browser.find_element(By.ID, "otp").send_keys(pyotp.TOTP(secret).now())
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.ID, "codes-left"))
        assert "9 of 10" in browser.find_element(By.ID, "codes-left").text
    finally:
        browser.quit()


def authorize(browser, srv, client, callback, scope="openid offline_access"):
    """The code flow with PKCE for `client` in `browser` (signed in already); returns the tokens."""
    from selenium.webdriver.common.by import By
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    browser.get(f"{srv.base}/default/oauth2/authorize?" + urllib.parse.urlencode(dict(
        response_type="code", client_id=client["client_id"], redirect_uri=callback.uri, scope=scope, state="s",
        code_challenge=challenge, code_challenge_method="S256")))
    wait(browser, lambda d: d.find_elements(By.ID, "allow") or d.current_url.startswith(callback.uri))
    if browser.find_elements(By.ID, "allow"):
        browser.find_element(By.ID, "allow").click()
    wait(browser, lambda d: d.current_url.startswith(callback.uri))
    code = urllib.parse.parse_qs(urllib.parse.urlparse(browser.current_url).query)["code"][0]
    tokens = requests.post(f"{srv.base}/default/oauth2/token", auth=(client["client_id"], client["client_secret"]), timeout=10, data=dict(
        grant_type="authorization_code", code=code, redirect_uri=callback.uri, code_verifier=verifier)).json()
    assert "refresh_token" in tokens, tokens
    conftest.note_secret(tokens["refresh_token"])
    return tokens


def refresh(srv, client, token):
    return requests.post(f"{srv.base}/default/oauth2/token", auth=(client["client_id"], client["client_secret"]), timeout=10,
                         data=dict(grant_type="refresh_token", refresh_token=token))


def test_withdrawing_an_app_revokes_its_tokens_only_and_ending_a_session_signs_that_browser_out(account_server):
    from selenium.webdriver.common.by import By

    srv = account_server
    make_user(srv, "ben")
    callback = Callback()
    apps = [srv.cli_json("clients", "create", "--tenant", "default", "--name", name, "--redirect-uri", callback.uri)
            for name in ("Photo printer", "Calendar sync")]
    first, second = new_driver(), new_driver()
    try:
        sign_in(first, srv, "ben")
        tokens = [authorize(first, srv, app, callback) for app in apps]

        first.get(f"{srv.base}/default/account")
        wait(first, lambda d: d.find_elements(By.CSS_SELECTOR, "#apps tr.app"))
        assert {row.find_element(By.CSS_SELECTOR, "td").text.split("\n")[0] for row in first.find_elements(By.CSS_SELECTOR, "#apps tr.app")} \
            == {"Photo printer", "Calendar sync"}
        first.find_element(By.CSS_SELECTOR, f"button.withdraw[data-client='{apps[0]['client_id']}']").click()
        wait(first, lambda d: d.find_elements(By.ID, "notice"))
        assert "Photo printer" not in first.find_element(By.TAG_NAME, "main").text
        refused = refresh(srv, apps[0], tokens[0]["refresh_token"])
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", refused.text
        kept = refresh(srv, apps[1], tokens[1]["refresh_token"])
        assert kept.status_code == 200 and "access_token" in kept.json(), kept.text
        conftest.note_secret(kept.json().get("refresh_token", ""))

        # A second browser signs in; the first sees two sessions and ends the other one.
        sign_in(second, srv, "ben")
        first.get(f"{srv.base}/default/account")
        wait(first, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#sessions tr.session")) == 2)
        first.save_screenshot(os.path.join(ARTIFACTS, "account-sessions.png"))
        other = [row for row in first.find_elements(By.CSS_SELECTOR, "#sessions tr.session") if not row.find_elements(By.CSS_SELECTOR, ".current")]
        assert len(other) == 1 and "Chrome" in other[0].text and "127.0.0.1" in other[0].text, other[0].text
        other[0].find_element(By.CSS_SELECTOR, "button.end-session").click()
        wait(first, lambda d: d.find_elements(By.ID, "notice"))
        assert len(first.find_elements(By.CSS_SELECTOR, "#sessions tr.session")) == 1

        # The other browser is signed out: its account page sends it to the sign-in page.
        second.get(f"{srv.base}/default/account")
        wait(second, lambda d: d.find_elements(By.ID, "username") and d.find_elements(By.ID, "password"))
        assert "/oauth2/authorize" in second.current_url
        # The first browser is still signed in.
        first.get(f"{srv.base}/default/account")
        wait(first, lambda d: d.find_elements(By.ID, "change-password"))
    finally:
        first.quit()
        second.quit()
        callback.close()
    srv.mailbox.wait_for(lambda m: m["To"].addresses[0].addr_spec == "ben@example.test"
                         and "access to your account" in m.get_body(preferencelist=("plain",)).get_content())


def test_a_password_change_needs_the_current_password_and_ends_other_sessions(account_server):
    from selenium.webdriver.common.by import By

    srv = account_server
    make_user(srv, "cleo")
    first, second = new_driver(), new_driver()
    try:
        sign_in(first, srv, "cleo")
        sign_in(second, srv, "cleo")
        first.find_element(By.ID, "current").send_keys("not the password")
        first.find_element(By.ID, "password").send_keys("a much newer password")
        first.find_element(By.ID, "confirm").send_keys("a much newer password")
        first.find_element(By.ID, "change-password").click()
        wait(first, lambda d: d.find_elements(By.ID, "form-error"))
        assert "50126" in first.find_element(By.ID, "form-error").text
        first.find_element(By.ID, "current").send_keys(PASSWORD)
        first.find_element(By.ID, "password").send_keys("a much newer password")
        first.find_element(By.ID, "confirm").send_keys("a much newer password")
        first.find_element(By.ID, "change-password").click()
        wait(first, lambda d: d.find_elements(By.ID, "notice"))
        assert len(first.find_elements(By.CSS_SELECTOR, "#sessions tr.session")) == 1
        second.get(f"{srv.base}/default/account")
        wait(second, lambda d: d.find_elements(By.ID, "username") and d.find_elements(By.ID, "password"))
    finally:
        first.quit()
        second.quit()
    srv.mailbox.wait_for(lambda m: m["To"].addresses[0].addr_spec == "cleo@example.test"
                         and "was changed on the account page" in m.get_body(preferencelist=("plain",)).get_content())


def png(width, height, rgb):
    """A real PNG of one colour (zlib and struct only: no image library needed)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def test_a_logo_that_is_really_svg_or_html_is_refused_and_a_png_is_served_strictly(account_server):
    srv = account_server
    with tempfile.TemporaryDirectory() as folder:
        for name, content in (("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
                              ("page.png", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
                              ("huge.png", png(2000, 10, (1, 2, 3)))):
            path = os.path.join(folder, name)
            with open(path, "wb") as out:
                out.write(content)
            refused = srv.cli("tenants", "set", "default", "--logo", path, check=False)
            assert refused.returncode != 0 and "logo" in refused.stderr, refused.stderr
        assert srv.cli_json("tenants", "show", "default")["logo_sha256"] is None
        path = os.path.join(folder, "real.png")
        with open(path, "wb") as out:
            out.write(png(120, 40, (122, 31, 162)))
        shown = srv.cli_json("tenants", "set", "default", "--logo", path, "--primary-color", "#7A1FA2",
                             "--support-contact", "help@example.test")
    digest = shown["logo_sha256"]
    assert shown["primary_color"] == "#7a1fa2" and digest
    # The node serves the logo its tenant record names: within its cache time (5 s) of the change.
    deadline = time.time() + 30
    while (logo := requests.get(f"{srv.base}/default/branding/logo/{digest}", timeout=10)).status_code == 404 and time.time() < deadline:
        time.sleep(0.5)
    assert logo.status_code == 200 and logo.headers["Content-Type"] == "image/png"
    assert logo.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in logo.headers["Content-Security-Policy"]
    assert logo.content.startswith(b"\x89PNG")
    assert requests.get(f"{srv.base}/default/branding/logo/{'0' * 64}", timeout=10).status_code == 404


def test_self_registration_with_a_domain_restriction_and_verification_before_sign_in(account_server):
    from selenium.webdriver.common.by import By

    srv = account_server
    srv.cli("tenants", "set", "default", "--registration", "open", "--registration-domain", "example.test")
    browser = new_driver()
    try:
        # The sign-in page offers registration once the node sees the change (its cache: 5 s).
        deadline = time.time() + 30
        while True:
            browser.get(f"{srv.base}/default/account")
            wait(browser, lambda d: d.find_elements(By.ID, "username"))
            if browser.find_elements(By.ID, "register") or time.time() > deadline:
                break
            time.sleep(1)
        assert browser.find_elements(By.ID, "brand-name"), "the sign-in page carries the tenant's branding"
        browser.save_screenshot(os.path.join(ARTIFACTS, "branded-sign-in.png"))
        browser.find_element(By.ID, "register").click()
        wait(browser, lambda d: d.find_elements(By.ID, "display_name"))
        assert_accessible(browser)
        assert "example.test" in browser.find_element(By.ID, "domains").text

        def fill(address):
            for field, value in (("email", address), ("display_name", "Dana Example"), ("password", "a fine new password"),
                                 ("confirm", "a fine new password")):
                element = browser.find_element(By.ID, field)
                element.clear()
                element.send_keys(value)
            browser.find_element(By.ID, "submit").click()

        fill("dana@elsewhere.example")
        wait(browser, lambda d: d.find_elements(By.ID, "form-error"))
        error = browser.find_element(By.ID, "form-error").text
        assert "9900193" in error and "elsewhere.example" in error, error
        assert "help@example.test" in browser.find_element(By.ID, "support").text
        browser.save_screenshot(os.path.join(ARTIFACTS, "branded-registration-refused.png"))
        fill("dana@example.test")
        wait(browser, lambda d: "dana@example.test" in d.find_element(By.TAG_NAME, "main").text)
        browser.save_screenshot(os.path.join(ARTIFACTS, "registration-sent.png"))
    finally:
        browser.quit()
    mail = srv.mailbox.wait_for(lambda m: m["To"].addresses[0].addr_spec == "dana@example.test")[-1]
    found = re.search(r"(http://\S+/email/verify\?token=[A-Za-z0-9_-]+)", mail.get_body(preferencelist=("plain",)).get_content())
    assert found
    conftest.note_secret(found.group(1).split("token=")[1])
    assert "branding/logo/" in mail.get_body(preferencelist=("html",)).get_content()

    browser = new_driver()
    try:
        # Before the address is verified the right password does not sign in.
        browser.get(f"{srv.base}/default/account")
        wait(browser, lambda d: d.find_elements(By.ID, "username"))
        browser.find_element(By.ID, "username").send_keys("dana@example.test")
        browser.find_element(By.ID, "password").send_keys("a fine new password")
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.ID, "form-error"))
        assert "9900192" in browser.find_element(By.ID, "form-error").text
        # The link asks for the password chosen at registration: a wrong one opens nothing.
        browser.get(found.group(1))
        wait(browser, lambda d: d.find_elements(By.ID, "password"))
        browser.find_element(By.ID, "password").send_keys("not the password at all")
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: d.find_elements(By.ID, "form-error"))
        assert "50126" in browser.find_element(By.ID, "form-error").text
        browser.find_element(By.ID, "password").send_keys("a fine new password")
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: "dana@example.test" in d.find_element(By.TAG_NAME, "main").text and not d.find_elements(By.ID, "password"))
        sign_in(browser, srv, "dana@example.test", password="a fine new password")
        browser.save_screenshot(os.path.join(ARTIFACTS, "branded-account-page.png"))
        assert "Dana Example" in browser.page_source
    finally:
        browser.quit()
