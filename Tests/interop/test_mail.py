"""Mail through a real SMTP server: aiosmtpd on loopback with STARTTLS (required) and AUTH (required,
over TLS only), its certificate from a test CA that Gatehouse trusts through gatehouse.tls.extra_ca_file.
A user resets a forgotten password in headless Chromium from the reset mail's link, which works once;
the old password and the user's refresh tokens stop working and a notice arrives. A mail server stopped
for 30 s while a reset is requested loses nothing; a node killed with SIGKILL while the outbox holds
mails delivers every one after it restarts. A mail server whose certificate names another host, or
comes from a CA nobody trusts, is refused and the mail stays queued with the reason in the log and the
metrics. The reset answer is the same bytes for an existing, an unknown and an email-less account, and
its timing for both paths is measured and reported (test-artifacts/password-reset-timing.txt).
Verification: a new user's link sets email_verified, which the ID token follows."""
import base64
import datetime
import email
import email.policy
import ipaddress
import json
import os
import re
import secrets
import ssl
import statistics
import tempfile
import time

import pytest
import requests

import conftest

PASSWORD = "correct horse battery"
SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-" + secrets.token_hex(8)
ARTIFACTS = os.environ.get("GATEHOUSE_ARTIFACTS", os.path.join(os.getcwd(), "test-artifacts"))


class Authority:
    """A test CA and the certificates it (or another CA) issues."""

    def __init__(self, folder, name):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        self.folder, self.x509, self.hashes, self.serialization, self.ec, self.NameOID = folder, x509, hashes, serialization, ec, NameOID
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                     .not_valid_after(now + datetime.timedelta(days=2))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                                  key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.path = os.path.join(folder, f"{name}.pem")
        with open(self.path, "wb") as out:
            out.write(self.cert.public_bytes(serialization.Encoding.PEM))

    def server_context(self, *names):
        """An ssl context for a mail server whose certificate names `names` (DNS names or IPs)."""
        x509, NameOID = self.x509, self.NameOID
        key = self.ec.generate_private_key(self.ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        alternatives = []
        for name in names:
            try:
                alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alternatives.append(x509.DNSName(name))
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(self.key, self.hashes.SHA256()))
        stem = os.path.join(self.folder, secrets.token_hex(4))
        with open(stem + ".crt", "wb") as out:
            out.write(cert.public_bytes(self.serialization.Encoding.PEM))
        with open(stem + ".key", "wb") as out:
            out.write(key.private_bytes(self.serialization.Encoding.PEM, self.serialization.PrivateFormat.PKCS8,
                                        self.serialization.NoEncryption()))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(stem + ".crt", stem + ".key")
        return context


class Mailbox:
    """aiosmtpd on 127.0.0.1: STARTTLS required, AUTH required and only after STARTTLS. Keeps what it
    receives across restarts."""

    def __init__(self, port):
        self.port = port
        self.received = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default))
        return "250 OK: queued"

    def start(self, context):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        def authenticator(server, session, envelope, mechanism, auth_data):
            return AuthResult(success=auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode())

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True,
                                     auth_required=True, auth_require_tls=True, authenticator=authenticator, ready_timeout=10)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline and len(self.received) < count:
            time.sleep(0.2)
        assert len(self.received) >= count, f"{len(self.received)} of {count} mails arrived within {seconds} s"
        return self.received

    def to(self, address):
        return [m for m in self.received if addr(m) == address]


def addr(message):
    return message["To"].addresses[0].addr_spec


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message):
    found = re.search(r"(http://\S+/(?:password/reset|email/verify)\?token=[A-Za-z0-9_-]+)", text_of(message))
    assert found, text_of(message)
    token = found.group(1).split("token=")[1]
    conftest.note_secret(token)
    return found.group(1)


@pytest.fixture()
def pki():
    with tempfile.TemporaryDirectory() as folder:
        yield Authority(folder, "gatehouse-test-ca"), Authority(folder, "stranger-ca")


@pytest.fixture()
def mail_server(pki):
    """A Gatehouse node that mails through `mailbox`, and the mailbox (started with a good certificate)."""
    authority, _ = pki
    mailbox = Mailbox(conftest.free_port())
    good = authority.server_context("localhost", "127.0.0.1")
    mailbox.start(good)
    conftest.note_secret(SMTP_PASSWORD)
    with tempfile.TemporaryDirectory() as workdir:
        srv = conftest.Server(workdir)
        srv.good_context = good
        srv.mail_env = {
            "GATEHOUSE_SMTP_URL": f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@localhost:{mailbox.port}",
            "GATEHOUSE_SMTP_FROM": "Gatehouse <gatehouse@example.test>",
            "GATEHOUSE_TLS_EXTRA_CA_FILE": authority.path,
        }
        srv.start(env=srv.mail_env)
        srv.mailbox = mailbox
        yield srv
        mailbox.stop()
        srv.stop()


def user(srv, name, email_address=None, verified=True, tenant="default"):
    # The CLI writes the server's URL into the links it queues: it is told the server's base URL.
    args = ["users", "create", "--tenant", tenant, name, "--password", PASSWORD, "--base-url", srv.base]
    if email_address:
        args += ["--email", email_address] + (["--email-verified"] if verified else [])
    srv.cli(*args)


def password_client(srv):
    return srv.cli_json("clients", "create", "--tenant", "default", "--name", "pw " + secrets.token_hex(2), "--grant", "password",
                        "--grant", "refresh_token", "--scope", "openid email offline_access")


def password_grant(srv, client, username, password, scope="openid email offline_access"):
    return requests.post(f"{srv.base}/default/oauth2/token", auth=(client["client_id"], client["client_secret"]), timeout=10, data={
        "grant_type": "password", "username": username, "password": password, "scope": scope}).json()


def ask_reset(srv, name):
    return requests.post(f"{srv.base}/default/password/forgot", data={"username": name}, timeout=10)


def test_a_user_resets_a_forgotten_password_in_a_browser(mail_server):
    from selenium.webdriver.common.by import By
    from test_console import assert_accessible, new_driver, wait

    srv, mailbox = mail_server, mail_server.mailbox
    user(srv, "reset-me", "reset-me@example.test")
    client = password_client(srv)
    before = password_grant(srv, client, "reset-me", PASSWORD)
    assert "refresh_token" in before, before
    conftest.note_secret(before["refresh_token"])

    browser = new_driver()
    try:
        # The sign-in page (here the console's) offers "Forgot password?".
        browser.get(f"{srv.base}/default/console")
        wait(browser, lambda d: d.find_elements(By.ID, "forgot"))
        browser.save_screenshot(os.path.join(ARTIFACTS, "mail-sign-in-page.png"))
        browser.find_element(By.ID, "forgot").click()
        wait(browser, lambda d: "/default/password/forgot" in d.current_url and d.find_elements(By.ID, "username"))
        browser.save_screenshot(os.path.join(ARTIFACTS, "mail-forgot-form.png"))
        assert_accessible(browser)
        browser.find_element(By.ID, "username").send_keys("reset-me")
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: "a mail is on its way" in d.page_source)
        browser.save_screenshot(os.path.join(ARTIFACTS, "mail-forgot-sent.png"))

        mails = mailbox.wait_for(1, 30)
        mail = mails[-1]
        assert addr(mail) == "reset-me@example.test" and mail["Subject"] == "Reset your password for default"
        assert mail["From"] == "Gatehouse <gatehouse@example.test>"
        assert mail.get_body(preferencelist=("html",)) is not None
        link = link_in(mail)
        # The mail as a mail program shows its HTML part.
        html_path = os.path.join(ARTIFACTS, "mail-reset.html")
        with open(html_path, "w") as out:
            out.write(mail.get_body(preferencelist=("html",)).get_content().replace(link.split("token=")[1], "TOKEN"))
        browser.get("file://" + html_path)
        wait(browser, lambda d: "Reset your password" in d.page_source)
        browser.save_screenshot(os.path.join(ARTIFACTS, "mail-reset-html.png"))

        browser.get(link)
        wait(browser, lambda d: d.find_elements(By.ID, "confirm"))
        assert_accessible(browser)
        browser.find_element(By.ID, "password").send_keys("a brand new password")
        browser.find_element(By.ID, "confirm").send_keys("a brand new password")
        browser.save_screenshot(os.path.join(ARTIFACTS, "mail-reset-form.png"))
        browser.find_element(By.ID, "submit").click()
        wait(browser, lambda d: "Password changed" in d.page_source)
        browser.save_screenshot(os.path.join(ARTIFACTS, "mail-reset-done.png"))

        # The second use is refused.
        browser.get(link)
        wait(browser, lambda d: "9900183" in d.page_source)
        browser.save_screenshot(os.path.join(ARTIFACTS, "mail-reset-used.png"))
    finally:
        browser.quit()

    assert password_grant(srv, client, "reset-me", PASSWORD).get("error") == "invalid_grant"
    assert "access_token" in password_grant(srv, client, "reset-me", "a brand new password")
    refreshed = requests.post(f"{srv.base}/default/oauth2/token", auth=(client["client_id"], client["client_secret"]), timeout=10,
                              data={"grant_type": "refresh_token", "refresh_token": before["refresh_token"]}).json()
    assert refreshed.get("error") == "invalid_grant", refreshed
    # The notice follows.
    mailbox.wait_for(2, 30)
    assert mailbox.received[-1]["Subject"] == "Your password for default was changed"


def test_the_answer_is_the_same_for_every_account_and_its_timing_is_measured(mail_server):
    srv = mail_server
    user(srv, "enum-known", "enum-known@example.test")
    user(srv, "enum-no-email")
    answers = {}
    for name in ("enum-known", "enum-nobody-" + secrets.token_hex(3), "enum-no-email"):
        response = ask_reset(srv, name)
        answers[name] = (response.status_code, response.content, sorted(k.lower() for k in response.headers.keys()))
    first = next(iter(answers.values()))
    for name, answer in answers.items():
        assert answer[0] == first[0] == 200, name
        assert answer[1] == first[1], name
        assert answer[2] == first[2], name
    srv.mailbox.wait_for(1, 30)
    assert [addr(m) for m in srv.mailbox.received] == ["enum-known@example.test"]


def test_reset_timing_of_both_paths(pki):
    """Measured, not asserted: throttles off so that every request does its full work."""
    authority, _ = pki
    mailbox = Mailbox(conftest.free_port())
    mailbox.start(authority.server_context("localhost"))
    with tempfile.TemporaryDirectory() as workdir:
        srv = conftest.Server(workdir)
        srv.start(env={
            "GATEHOUSE_SMTP_URL": f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@localhost:{mailbox.port}",
            "GATEHOUSE_SMTP_FROM": "gatehouse@example.test", "GATEHOUSE_TLS_EXTRA_CA_FILE": authority.path,
            "GATEHOUSE_THROTTLE_PASSWORD_RESET_FAILURES": "0", "GATEHOUSE_THROTTLE_PASSWORD_RESET_ACCOUNT_FAILURES": "0"})
        try:
            user(srv, "timed", "timed@example.test")
            session = requests.Session()
            samples = {"existing": [], "unknown": []}
            for _ in range(3):
                session.post(f"{srv.base}/default/password/forgot", data={"username": "warm-up"}, timeout=10)
            for round_ in range(40):
                for kind, name in (("existing", "timed"), ("unknown", "nobody-" + str(round_))):
                    started = time.perf_counter()
                    assert session.post(f"{srv.base}/default/password/forgot", data={"username": name}, timeout=10).status_code == 200
                    samples[kind].append((time.perf_counter() - started) * 1000)
            lines = [f"{kind}: median {statistics.median(values):.2f} ms, mean {statistics.mean(values):.2f} ms, "
                     f"p90 {sorted(values)[int(len(values) * 0.9)]:.2f} ms over {len(values)} requests"
                     for kind, values in samples.items()]
            os.makedirs(ARTIFACTS, exist_ok=True)
            with open(os.path.join(ARTIFACTS, "password-reset-timing.txt"), "w") as out:
                out.write("\n".join(lines) + "\n")
            print("\n" + "\n".join(lines))
        finally:
            mailbox.stop()
            srv.stop()


def test_a_mail_server_down_for_30_seconds_loses_nothing(mail_server):
    srv, mailbox = mail_server, mail_server.mailbox
    user(srv, "outage", "outage@example.test")
    mailbox.stop()
    assert ask_reset(srv, "outage").status_code == 200
    time.sleep(30)
    assert mailbox.received == []
    failures = requests.get(f"{srv.base}/metrics", headers=conftest.MANAGEMENT, timeout=10).text
    assert re.search(r'gatehouse_outbox_failures_total\{kind="mail"\} [1-9]', failures), failures
    mailbox.start(srv.good_context)
    mails = mailbox.wait_for(1, 60)
    assert addr(mails[0]) == "outage@example.test"


def test_a_node_killed_while_the_outbox_holds_mails_delivers_them_after_restart(mail_server):
    srv, mailbox = mail_server, mail_server.mailbox
    names = [f"killed-{index}" for index in range(3)]
    for name in names:
        user(srv, name, f"{name}@example.test")
    mailbox.stop()
    for name in names:
        assert ask_reset(srv, name).status_code == 200
    time.sleep(1)
    srv.process.kill()
    srv.process.wait(timeout=10)
    mailbox.start(srv.good_context)
    srv.start(env=srv.mail_env)
    mailbox.wait_for(3, 90)
    assert sorted({addr(m) for m in mailbox.received}) == sorted(f"{name}@example.test" for name in names)


def test_a_certificate_for_another_host_or_from_an_unknown_ca_is_refused_and_the_mail_waits(mail_server, pki):
    authority, stranger = pki
    srv, mailbox = mail_server, mail_server.mailbox
    user(srv, "certs", "certs@example.test")
    mailbox.stop()
    mailbox.start(authority.server_context("mail.example.test"))
    assert ask_reset(srv, "certs").status_code == 200
    log = os.path.join(srv.workdir, "server.log")
    wait_for_log(log, "outbox delivery failed", 30)
    assert "certificate must name the host" in open(log).read(), open(log).read()[-2000:]

    mailbox.stop()
    mailbox.start(stranger.server_context("localhost", "127.0.0.1"))
    wait_for_log(log, "gatehouse.tls.extra_ca_file?", 60)
    metrics = requests.get(f"{srv.base}/metrics", headers=conftest.MANAGEMENT, timeout=10).text
    assert re.search(r'gatehouse_outbox_depth\{state="pending"\} 1', metrics), metrics
    assert re.search(r'gatehouse_outbox_failures_total\{kind="mail"\} ([2-9]|\d\d)', metrics), metrics
    assert mailbox.received == []

    # What an operator reads, kept with the test's artifacts.
    reasons = sorted({json.loads(line).get("error", "") for line in open(log) if "outbox delivery failed" in line})
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, "mail-refusals.txt"), "w") as out:
        out.write("\n".join(reasons) + "\n")
    assert SMTP_PASSWORD not in open(log).read()

    # Fixed: the waiting mail goes out.
    mailbox.stop()
    mailbox.start(srv.good_context)
    mailbox.wait_for(1, 120)
    assert addr(mailbox.received[0]) == "certs@example.test"


def wait_for_log(path, text, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if text in open(path).read():
            return
        time.sleep(0.3)
    raise AssertionError(f"'{text}' not in the server log within {seconds} s: " + open(path).read()[-2000:])


def test_a_new_users_verification_link_sets_email_verified(mail_server):
    from selenium.webdriver.common.by import By
    import test_console
    srv, mailbox = mail_server, mail_server.mailbox
    srv.cli("tenants", "set", "default", "--verify-email", "on")
    user(srv, "verify-me", "verify-me@example.test", verified=False)
    client = password_client(srv)

    def id_claims():
        tokens = password_grant(srv, client, "verify-me", PASSWORD, scope="openid email")
        payload = tokens["id_token"].split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    assert id_claims()["email_verified"] is False
    mail = mailbox.wait_for(1, 30)[-1]
    assert addr(mail) == "verify-me@example.test" and mail["Subject"] == "Verify your email address for default"
    link = link_in(mail)
    browser = test_console.new_driver()
    try:
        browser.get(link)
        test_console.wait(browser, lambda d: d.find_elements(By.ID, "submit"))
        browser.save_screenshot(os.path.join(ARTIFACTS, "mail-verify.png"))
        browser.find_element(By.ID, "submit").click()
        test_console.wait(browser, lambda d: "is verified" in d.page_source)
        browser.save_screenshot(os.path.join(ARTIFACTS, "mail-verified.png"))
    finally:
        browser.quit()
    assert id_claims()["email_verified"] is True
    # A changed address is unverified until its own link is used.
    srv.cli("users", "set", "--tenant", "default", "verify-me", "--email", "verify-me@new.example.test", "--base-url", srv.base)
    assert id_claims()["email_verified"] is False
    mailbox.wait_for(2, 30)
    assert addr(mailbox.received[-1]) == "verify-me@new.example.test"
