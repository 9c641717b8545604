"""MCP clients that register themselves, against the running binary: the `mcp` SDK's OAuth client
finds Gatehouse through a small MCP server's protected-resource metadata, registers dynamically
(RFC 7591) or names a client ID metadata document served over HTTPS, plays through the sign-in and
consent pages (this test is the user), and calls a tool; the MCP server verifies every token
itself (signature against the JWKS, `iss`, `aud` = its own resource URL)."""
import asyncio
import datetime
import http.server
import ipaddress
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import Server, free_port, note_secret

import httpx2  # noqa: E402  (the mcp SDK's HTTP client)
from mcp import ClientSession  # noqa: E402
from mcp.client.auth import OAuthClientProvider  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata  # noqa: E402

PASSWORD = "correct horse battery"
HERE = os.path.dirname(os.path.abspath(__file__))


class MemoryStorage:
    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        note_secret(tokens.access_token)
        if tokens.refresh_token:
            note_secret(tokens.refresh_token)
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, info):
        self.client = info


class User:
    """Plays the user: follows the authorization URL through the sign-in and consent pages with
    plain HTTP and keeps the final redirect's parameters for the SDK's callback."""

    def __init__(self, username):
        self.username = username
        self.pages = []
        self.result = None

    async def redirect(self, url):
        browser = requests.Session()
        page = browser.get(url, allow_redirects=False)
        assert page.status_code == 200, page.text[:2000]
        fields = dict(re.findall(r'name="(interaction|csrf)" value="([^"]*)"', page.text))
        reply = browser.post(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1),
                             data=dict(fields, username=self.username, password=PASSWORD), allow_redirects=False)
        assert reply.status_code == 200 and "oauth2/consent" in reply.text, reply.text[:2000]
        self.pages.append(reply.text)
        reply = browser.post(re.search(r'action="([^"]+consent)"', reply.text).group(1),
                             data=dict(re.findall(r'name="(interaction|csrf)" value="([^"]*)"', reply.text), decision="allow"),
                             allow_redirects=False)
        assert reply.status_code == 303, reply.text[:2000]
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(reply.headers["Location"]).query))
        assert "code" in query, query
        note_secret(query["code"])
        self.result = AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    async def callback(self):
        return self.result


def start_mcp_server(issuer):
    port = free_port()
    process = subprocess.Popen([sys.executable, os.path.join(HERE, "mcp_server.py"), str(port), issuer, issuer + "/discovery/keys"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", timeout=1)
            return process, f"http://127.0.0.1:{port}/mcp"
        except requests.ConnectionError:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the MCP server did not start")


def prepare_tenant(srv, tenant, resource, *settings):
    srv.cli("tenants", "create", tenant)
    srv.cli("apis", "create", "--tenant", tenant, "--name", "Interop MCP server", "--identifier", resource)
    srv.cli("apis", "add-permission", "--tenant", tenant, resource, "tools.call", "--description", "Call the MCP server's tools")
    srv.cli("tenants", "set", tenant, "--registration-api", resource, *settings)
    username = "mcpuser" + secrets.token_hex(3)
    srv.cli("users", "create", "--tenant", tenant, username, "--display-name", "MCP User", "--password", PASSWORD)
    return username


async def call_tool(resource, provider):
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        async with streamable_http_client(resource, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("add", {"a": 2, "b": 3})
                return result


def result_text(result):
    return " ".join(getattr(item, "text", "") for item in result.content)


def test_mcp_sdk_registers_itself_signs_a_user_in_and_calls_a_tool(server):
    issuer = server.base + "/mcp"
    mcp, resource = start_mcp_server(issuer)
    try:
        username = prepare_tenant(server, "mcp", resource, "--client-registration", "open")
        metadata = requests.get(server.base + "/.well-known/oauth-authorization-server/mcp").json()
        assert metadata["registration_endpoint"] == issuer + "/oauth2/register"
        user = User(username)
        storage = MemoryStorage()
        provider = OAuthClientProvider(
            server_url=resource,
            client_metadata=OAuthClientMetadata(client_name="Interop MCP client",
                                                redirect_uris=[f"http://localhost:{free_port()}/callback"]),
            storage=storage, redirect_handler=user.redirect, callback_handler=user.callback)
        result = asyncio.run(call_tool(resource, provider))
        assert not result.is_error and "5" in result_text(result), result
        # It registered itself (no secret: a public client) and is marked so in the admin views.
        client_id = storage.client.client_id
        assert storage.client.client_secret is None
        shown = server.cli_json("clients", "show", "--tenant", "mcp", client_id)
        assert shown["source"] == "self-registered" and shown["type"] == "public"
        # The consent page named the host, the client's own name only beside it.
        assert "localhost wants to access your account" in user.pages[0]
        assert "Interop MCP client" in user.pages[0]
        # The token is for the MCP server: its audience and scope.
        token = storage.tokens.access_token
        claims = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))
        assert claims["aud"] == resource and claims["iss"] == issuer and "tools.call" in claims["scope"].split()
        # Another resource server's token does not open the MCP server.
        other = requests.post(resource, headers={"Authorization": "Bearer " + token.replace(".", ".x", 1),
                                                 "Accept": "application/json, text/event-stream"}, json={})
        assert other.status_code == 401
    finally:
        mcp.kill()
        mcp.wait()


def make_ca(directory):
    """A test CA and a server certificate for localhost / 127.0.0.1 signed by it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Gatehouse interop test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: os.path.join(directory, name) for name in ("ca.pem", "cert.pem", "key.pem")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["cert.pem"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["key.pem"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


class DocumentServer:
    """Serves client ID metadata documents (and misbehaving variants) over HTTPS on loopback."""

    def __init__(self, paths):
        self.routes = {}
        self.fetches = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches.append(self.path)
                status, headers, body = outer.routes.get(self.path, (404, {}, b"not found"))
                if status == "slow":
                    time.sleep(8)
                    status = 200
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(paths["cert.pem"], paths["key.pem"])
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.base = f"https://localhost:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def serve(self, path, document, status=200, headers=None):
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.routes[path] = (status, {"Content-Type": "application/json", **(headers or {})}, body)
        return self.base + path

    def close(self):
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def documents():
    with tempfile.TemporaryDirectory() as workdir:
        paths = make_ca(workdir)
        docs = DocumentServer(paths)
        srv = Server(workdir)
        srv.start(env={"GATEHOUSE_TLS_EXTRA_CA_FILE": paths["ca.pem"]})
        try:
            yield srv, docs
        finally:
            docs.close()
            srv.stop()


def test_mcp_sdk_with_a_client_id_metadata_document_over_https(documents):
    srv, docs = documents
    issuer = srv.base + "/cimd"
    mcp, resource = start_mcp_server(issuer)
    try:
        username = prepare_tenant(srv, "cimd", resource, "--client-id-metadata-documents", "on", "--allow-local-fetches", "on")
        metadata = requests.get(srv.base + "/.well-known/oauth-authorization-server/cimd").json()
        assert metadata["client_id_metadata_document_supported"] is True
        assert "registration_endpoint" not in metadata, "registration stays off"
        callback = f"http://localhost:{free_port()}/callback"
        url = docs.serve("/oauth/mcp-client.json", {
            "client_id": docs.base + "/oauth/mcp-client.json", "client_name": "Interop CIMD client", "redirect_uris": [callback],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "token_endpoint_auth_method": "none",
        }, headers={"Cache-Control": "max-age=600"})
        user = User(username)
        storage = MemoryStorage()
        provider = OAuthClientProvider(
            server_url=resource, client_metadata=OAuthClientMetadata(client_name="Interop CIMD client", redirect_uris=[callback]),
            storage=storage, redirect_handler=user.redirect, callback_handler=user.callback, client_metadata_url=url)
        result = asyncio.run(call_tool(resource, provider))
        assert not result.is_error and "5" in result_text(result), result
        assert storage.client.client_id == url
        assert "localhost wants to access your account" in user.pages[0] and "Interop CIMD client" in user.pages[0]
        # Fetched by the server (kept for its max-age, but any change in the store drops the cache:
        # ClientRegistrationTests counts the fetches where nothing else changes).
        assert docs.fetches.count("/oauth/mcp-client.json") >= 1
        # Nothing was registered: the document is the registration.
        assert all(c["client_id"] != url for c in srv.cli_json("clients", "list", "--tenant", "cimd"))
    finally:
        mcp.kill()
        mcp.wait()


def refusal(srv, tenant, client_id):
    """The token endpoint's answer for a document client: its catalogue code."""
    reply = requests.post(srv.base + f"/{tenant}/oauth2/token", data={
        "grant_type": "authorization_code", "code": "x", "redirect_uri": "http://localhost:1/cb", "client_id": client_id})
    return reply.status_code, reply.json()


def test_metadata_documents_that_are_refused(documents):
    srv, docs = documents
    srv.cli("tenants", "create", "cimdbad")
    srv.cli("tenants", "set", "cimdbad", "--client-id-metadata-documents", "on")
    good = {"redirect_uris": ["http://localhost:9/cb"], "token_endpoint_auth_method": "none"}
    # Loopback documents are refused while the tenant does not allow local fetches.
    url = docs.serve("/local.json", dict(good, client_id=docs.base + "/local.json"))
    status, body = refusal(srv, "cimdbad", url)
    assert body["error_codes"] == [9900221], body
    assert "127.0.0.1" not in body["error_description"], "the address stays in the server's log"
    assert "/local.json" not in docs.fetches, "refused before connecting"
    srv.cli("tenants", "set", "cimdbad", "--allow-local-fetches", "on")
    cases = {
        "/mismatch.json": (dict(good, client_id="https://elsewhere.example/mismatch.json"), 200, {}, 9900226),
        "/large.json": (dict(good, client_id=docs.base + "/large.json", padding="x" * 70_000), 200, {}, 9900223),
        "/moved.json": (b"", 302, {"Location": docs.base + "/local.json"}, 9900222),
        "/gone.json": (b"", 404, {}, 9900225),
    }
    for path, (document, status, headers, _) in cases.items():
        docs.serve(path, document, status=status, headers=headers)
    for path, (_, _, _, code) in cases.items():
        status, body = refusal(srv, "cimdbad", docs.base + path)
        assert status in (400, 401) and body["error_codes"] == [code], (path, body)
    # One that does not answer within the deadline.
    docs.routes["/slow.json"] = ("slow", {}, b"{}")
    started = time.time()
    status, body = refusal(srv, "cimdbad", docs.base + "/slow.json")
    assert body["error_codes"] == [9900224], body
    assert time.time() - started < 7.5
    # The same document refused at the authorization endpoint: an error page, never a redirect.
    page = requests.get(srv.base + "/cimdbad/oauth2/authorize", params={
        "response_type": "code", "client_id": docs.base + "/mismatch.json", "redirect_uri": "http://localhost:9/cb",
        "code_challenge": "x" * 43, "code_challenge_method": "S256"}, allow_redirects=False)
    assert page.status_code in (400, 401) and "Location" not in page.headers
    assert "9900226" in page.text


def test_the_consent_page_names_an_unvetted_client_by_its_host_in_chromium(documents):
    """What a user sees for a client nobody vetted: the document's host as the heading, the name it
    chose only beside it, marked as unchecked (screenshot: consent-unvetted-client.png)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    srv, docs = documents
    srv.cli("tenants", "create", "shown")
    srv.cli("tenants", "set", "shown", "--client-id-metadata-documents", "on", "--allow-local-fetches", "on")
    username = "shownuser"
    srv.cli("users", "create", "--tenant", "shown", username, "--display-name", "Shown User", "--password", PASSWORD)
    callback = "http://127.0.0.1:9/callback"
    url = docs.serve("/apps/official.json", {
        "client_id": docs.base + "/apps/official.json", "client_name": "Totally Official Bank App", "redirect_uris": [callback],
        "token_endpoint_auth_method": "none"})
    driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(srv.base + "/shown/oauth2/authorize?" + urllib.parse.urlencode(dict(
            response_type="code", client_id=url, redirect_uri=callback, scope="openid profile", state="s",
            code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method="S256")))
        heading = driver.find_element(By.TAG_NAME, "h1").text
        assert "localhost" in heading and "Totally Official" not in heading, heading
        driver.find_element(By.ID, "username").send_keys(username)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "submit").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "allow"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "localhost wants to access your account"
        assert "It calls itself “Totally Official Bank App”; nobody has checked that name." in driver.find_element(By.ID, "unverified-name").text
        artifacts = os.environ.get("GATEHOUSE_ARTIFACTS", os.path.join(os.getcwd(), "test-artifacts"))
        os.makedirs(artifacts, exist_ok=True)
        screenshot = os.path.join(artifacts, "consent-unvetted-client.png")
        driver.save_screenshot(screenshot)
        assert os.path.getsize(screenshot) > 1000
    finally:
        driver.quit()
