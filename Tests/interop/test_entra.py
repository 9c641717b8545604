"""Entra ID compatible mode, driven by Microsoft's own client libraries (msal, azure-identity)
against the running binary over HTTPS with a `gatehouse dev-cert` certificate.

The server listens on 127.0.0.1:443: MSAL's username/password flow first asks
https://{host}/common/userrealm/{user} on port 443 whatever the authority's port (see
docs/entra.md). The session runs as root in CI; elsewhere run the suite with the right to bind
port 443 (e.g. `sudo setcap cap_net_bind_service=+ep .build/debug/gatehouse`).
"""
import datetime
import hashlib
import json
import os
import re
import secrets
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import warnings

import jwt
import msal
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import conftest
from conftest import Server

PASSWORD = "correct horse battery"
TENANT = "contoso.example"
HOST = "https://127.0.0.1"
AUTHORITY = f"{HOST}/{TENANT}"
REDIRECT = "http://localhost:8400/callback"


def make_certificate(name):
    """An RSA key and a self-signed certificate, as an app registration would hold them."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()
    return dict(key=key_pem, cert=cert_pem, thumbprint=thumbprint)


@pytest.fixture(scope="module")
def entra():
    saved = {name: os.environ.get(name) for name in ("REQUESTS_CA_BUNDLE", "GATEHOUSE_DEVICE_CODE_INTERVAL_SECONDS")}
    with tempfile.TemporaryDirectory() as workdir:
        srv = Server(workdir)
        certs = os.path.join(workdir, "dev-cert")
        out = srv.cli("dev-cert", "--out", certs, database=False).stdout
        assert "REQUESTS_CA_BUNDLE" in out
        os.environ["REQUESTS_CA_BUNDLE"] = os.path.join(certs, "ca.pem")
        os.environ["GATEHOUSE_DEVICE_CODE_INTERVAL_SECONDS"] = "1"
        srv.port, srv.base = 443, HOST
        srv.cli("init")  # the CLI makes no database: init (or a first serve) does
        srv.cli("tenants", "create", TENANT)
        tid = srv.cli_json("tenants", "show", TENANT)["id"]
        users = {}
        for name in ("alice", "bob", "carol", "dave"):
            users[name] = srv.cli_json("users", "create", "--tenant", TENANT, name, "--email", f"{name}@{TENANT}",
                                       "--display-name", name.title(), "--password", PASSWORD)
        srv.cli("users", "enroll-totp", "--tenant", TENANT, "bob")
        srv.cli("users", "disable", "--tenant", TENANT, "carol")
        cert, stranger = make_certificate("daemon-cert"), make_certificate("not registered")
        cert_file = os.path.join(workdir, "daemon-cert.pem")
        open(cert_file, "w").write(cert["cert"])
        orders = ["--resource", "api://orders", "--scope", "api://orders/Orders.Read api://orders/Orders.Write"]
        oidc = "openid profile email offline_access"
        # The middle tier first: `api://middle` then names its own API, as an Entra app registration
        # that exposes an API (its application ID, `middle`, is the audience of tokens for it).
        clients = dict(
            middle=srv.cli_json("clients", "create", "--tenant", TENANT, "--name", "Middle tier API", "--id", "middle",
                                "--grant", "on_behalf_of", "--grant", "refresh_token", "--resource", "api://orders",
                                "--scope", f"{oidc} api://orders/Orders.Read"),
            daemon=srv.cli_json("clients", "create", "--tenant", TENANT, "--name", "Daemon", "--id", "daemon", *orders),
            expired=srv.cli_json("clients", "create", "--tenant", TENANT, "--name", "Expired", "--id", "expired", *orders,
                                 "--secret-expires-in-days", "0.00001"),
            daemon_cert=srv.cli_json("clients", "create", "--tenant", TENANT, "--name", "Daemon (certificate)", "--id", "daemon-cert",
                                     "--certificate", cert_file, *orders),
            webapp=srv.cli_json("clients", "create", "--tenant", TENANT, "--name", "Web app", "--id", "webapp", "--redirect-uri", REDIRECT,
                                "--resource", "api://orders", "--scope", f"{oidc} api://orders/Orders.Read"),
            cli=srv.cli_json("clients", "create", "--tenant", TENANT, "--name", "Command line", "--id", "cli", "--public",
                             "--grant", "device_code", "--grant", "password", "--grant", "refresh_token",
                             "--resource", "api://middle", "--resource", "api://orders",
                             "--scope", f"{oidc} api://middle/access_as_user api://orders/Orders.Read"),
            tv=srv.cli_json("clients", "create", "--tenant", TENANT, "--name", "TV", "--id", "tv", "--public", "--grant", "device_code",
                            "--resource", "api://orders", "--scope", f"{oidc} api://orders/Orders.Read"),
        )
        # v2.0 tokens name an API by its application ID (`aud`), as Entra does.
        apis = {name: srv.cli_json("apis", "show", "--tenant", TENANT, f"api://{name}")["application_id"] for name in ("orders", "middle")}
        assert apis["middle"] == "middle"
        srv.start("--tls-cert", os.path.join(certs, "server.pem"), "--tls-key", os.path.join(certs, "server-key.pem"))
        ca = os.path.join(certs, "ca.pem")
        yield dict(server=srv, tid=tid, users=users, clients=clients, cert=cert, stranger=stranger, ca=ca, apis=apis)
        assert srv.stop() == 0
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def confidential(client_id, credential):
    return msal.ConfidentialClientApplication(client_id, client_credential=credential, authority=AUTHORITY, instance_discovery=False)


def public(client_id):
    return msal.PublicClientApplication(client_id, authority=AUTHORITY, instance_discovery=False)


def azure(cls, *args, **kwargs):
    return cls(*args, authority=HOST, disable_instance_discovery=True, **kwargs)


def verify(entra, token, audience, algorithm="ES256"):
    """Checks a token with PyJWT against the keys published at the v2.0 jwks_uri, over TLS."""
    context = ssl.create_default_context(cafile=entra["ca"])
    keys = jwt.PyJWKClient(f"{AUTHORITY}/discovery/v2.0/keys", ssl_context=context)
    return jwt.decode(token, keys.get_signing_key_from_jwt(token).key, algorithms=[algorithm], audience=audience,
                      issuer=f"{HOST}/{entra['tid']}/v2.0")


def form(html, *names):
    return {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1) for name in names}


def action(html, suffix=""):
    return re.search(rf'<form method="post" action="([^"]*{suffix})"', html).group(1)


def sign_in(browser, page, username="alice"):
    """Plays the user on the sign-in and consent pages; returns the last response."""
    assert page.status_code == 200, page.text
    reply = browser.post(action(page.text, "oauth2/login"), data=dict(form(page.text, "interaction", "csrf"), username=username, password=PASSWORD),
                         allow_redirects=False)
    if reply.status_code == 200 and "oauth2/consent" in reply.text:
        reply = browser.post(action(reply.text, "oauth2/consent"), data=dict(form(reply.text, "interaction", "csrf"), decision="allow"),
                             allow_redirects=False)
    return reply


# MARK: discovery and TLS

def test_discovery_by_name_guid_and_common(entra):
    by_name = requests.get(f"{AUTHORITY}/v2.0/.well-known/openid-configuration").json()
    assert by_name["issuer"] == f"{HOST}/{entra['tid']}/v2.0"
    assert by_name["token_endpoint"] == f"{AUTHORITY}/oauth2/v2.0/token"
    assert by_name["device_authorization_endpoint"] == f"{AUTHORITY}/oauth2/v2.0/devicecode"
    by_guid = requests.get(f"{HOST}/{entra['tid']}/v2.0/.well-known/openid-configuration").json()
    assert by_guid["issuer"] == by_name["issuer"] and by_guid["token_endpoint"] == f"{HOST}/{entra['tid']}/oauth2/v2.0/token"
    common = requests.get(f"{HOST}/common/v2.0/.well-known/openid-configuration").json()
    assert common["issuer"] == f"{HOST}/{{tenantid}}/v2.0"
    unknown = requests.get(f"{HOST}/nowhere.example/v2.0/.well-known/openid-configuration")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_tenant"
    assert unknown.json()["error_description"].startswith("AADSTS90002: ")
    realm = requests.get(f"{HOST}/common/userrealm/alice@{TENANT}?api-version=1.0").json()
    assert realm["account_type"] == "Managed"
    instance = requests.get(f"{HOST}/common/discovery/instance",
                            params={"authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize", "api-version": "1.1"}).json()
    assert instance["tenant_discovery_endpoint"] == f"{AUTHORITY}/v2.0/.well-known/openid-configuration"


def test_plain_http_is_refused_by_msal_but_https_with_the_dev_ca_works(entra):
    with pytest.raises(ValueError):
        msal.ConfidentialClientApplication("daemon", client_credential="x", authority=f"http://127.0.0.1/{TENANT}", instance_discovery=False)
    health = requests.get(f"{HOST}/health")
    assert health.text == "ok"
    # Security finding 15: HSTS on every response served over TLS, errors included.
    assert health.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert requests.get(f"{HOST}/no/such/path").headers["Strict-Transport-Security"] == "max-age=31536000"
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{HOST}/health", verify="/etc/ssl/certs/ca-certificates.crt")  # the system store does not know the dev CA


# MARK: client credentials

def test_client_credentials_with_a_secret(entra):
    secret = entra["clients"]["daemon"]["client_secret"]
    result = confidential("daemon", secret).acquire_token_for_client(["api://orders/.default"])
    assert "access_token" in result, result
    assert result["expires_in"] > 0 and result["ext_expires_in"] == result["expires_in"]
    claims = verify(entra, result["access_token"], entra["apis"]["orders"])
    assert claims["ver"] == "2.0" and claims["tid"] == entra["tid"] and claims["azp"] == "daemon" and claims["azpacr"] == "1"
    assert sorted(claims["roles"]) == ["Orders.Read", "Orders.Write"] and "scp" not in claims and claims["idtyp"] == "app"
    assert claims["uti"] and claims["rh"] and claims["oid"] == "daemon"
    token = azure(__import__("azure.identity", fromlist=["ClientSecretCredential"]).ClientSecretCredential, TENANT, "daemon", secret)
    access = token.get_token("api://orders/.default")
    assert verify(entra, access.token, entra["apis"]["orders"])["azp"] == "daemon"
    # `api://{application ID}` names the same API.
    by_id = confidential("daemon", secret).acquire_token_for_client([f"api://{entra['apis']['orders']}/.default"])
    assert verify(entra, by_id["access_token"], entra["apis"]["orders"])["roles"] == ["Orders.Read", "Orders.Write"]
    # The tenant by GUID works the same.
    by_guid = msal.ConfidentialClientApplication("daemon", client_credential=secret, authority=f"{HOST}/{entra['tid']}", instance_discovery=False)
    assert "access_token" in by_guid.acquire_token_for_client(["api://orders/.default"])


def test_client_credentials_with_a_certificate(entra):
    from azure.identity import CertificateCredential
    cert = entra["cert"]
    # RS256 with x5t (thumbprint given, as azure-identity always does).
    with_thumbprint = confidential("daemon-cert", {"private_key": cert["key"], "thumbprint": cert["thumbprint"]})
    result = with_thumbprint.acquire_token_for_client(["api://orders/.default"])
    assert "access_token" in result, result
    assert verify(entra, result["access_token"], entra["apis"]["orders"])["azpacr"] == "2"
    # PS256 with x5t#S256 (only the certificate given).
    with_certificate = confidential("daemon-cert", {"private_key": cert["key"], "public_certificate": cert["cert"]})
    result = with_certificate.acquire_token_for_client(["api://orders/.default"])
    assert "access_token" in result, result
    pem = (cert["key"] + cert["cert"]).encode()
    for chain in (False, True):  # send_certificate_chain adds x5c
        credential = azure(CertificateCredential, TENANT, "daemon-cert", certificate_data=pem, send_certificate_chain=chain)
        assert verify(entra, credential.get_token("api://orders/.default").token, entra["apis"]["orders"])["azp"] == "daemon-cert"


# MARK: user flows

def test_authorization_code_with_pkce_then_silent_refresh(entra):
    app = confidential("webapp", entra["clients"]["webapp"]["client_secret"])
    flow = app.initiate_auth_code_flow(["api://orders/Orders.Read"], redirect_uri=REDIRECT)
    assert "code_challenge=" in flow["auth_uri"] and "/oauth2/v2.0/authorize" in flow["auth_uri"]
    browser = requests.Session()
    reply = sign_in(browser, browser.get(flow["auth_uri"]))
    assert reply.status_code == 303, reply.text
    location = reply.headers["Location"]
    assert location.startswith(REDIRECT)
    response = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert response["iss"] == f"{HOST}/{entra['tid']}/v2.0"
    result = app.acquire_token_by_auth_code_flow(flow, response)
    assert "access_token" in result, result
    alice = entra["users"]["alice"]["id"]
    claims = result["id_token_claims"]
    assert claims["oid"] == alice and claims["tid"] == entra["tid"] and claims["preferred_username"] == "alice" and claims["ver"] == "2.0"
    verify(entra, result["id_token"], "webapp")
    access = verify(entra, result["access_token"], entra["apis"]["orders"])
    assert access["scp"] == "Orders.Read" and access["oid"] == alice and access["azpacr"] == "1" and access["preferred_username"] == "alice"
    [account] = app.get_accounts()
    assert account["home_account_id"] == f"{alice}.{entra['tid']}" and account["username"] == "alice"
    cached = app.acquire_token_silent(["api://orders/Orders.Read"], account=account)
    assert cached["access_token"] == result["access_token"] and cached["token_source"] == "cache"
    refreshed = app.acquire_token_silent(["api://orders/Orders.Read"], account=account, force_refresh=True)
    assert refreshed and refreshed["token_source"] == "identity_provider", refreshed
    assert refreshed["access_token"] != result["access_token"]
    assert verify(entra, refreshed["access_token"], entra["apis"]["orders"])["scp"] == "Orders.Read"


def run_device_flow(entra, decision, client_id="cli", scopes=("api://middle/access_as_user",)):
    app = public(client_id)
    flow = app.initiate_device_flow(list(scopes))
    assert "user_code" in flow, flow
    assert flow["verification_uri"] == f"{AUTHORITY}/oauth2/device" and flow["user_code"] in flow["message"]
    outcome = {}
    poller = threading.Thread(target=lambda: outcome.update(app.acquire_token_by_device_flow(flow)))
    poller.start()
    browser = requests.Session()
    page = browser.get(flow["verification_uri"])
    login = browser.post(action(page.text, "oauth2/device"), data={"user_code": flow["user_code"].lower().replace("-", " ")})
    assert login.status_code == 200 and "oauth2/login" in login.text, login.text
    consent = browser.post(action(login.text, "oauth2/login"), data=dict(form(login.text, "interaction", "csrf"), username="alice", password=PASSWORD))
    assert "oauth2/consent" in consent.text, consent.text
    done = browser.post(action(consent.text, "oauth2/consent"), data=dict(form(consent.text, "interaction", "csrf"), decision=decision))
    assert done.status_code == 200
    poller.join(timeout=60)
    return outcome


def test_device_code_flow_with_the_user_step_automated(entra):
    result = run_device_flow(entra, "allow")
    assert "access_token" in result, result
    claims = verify(entra, result["access_token"], "middle")
    assert claims["scp"] == "access_as_user" and claims["oid"] == entra["users"]["alice"]["id"] and claims["azpacr"] == "0"
    assert "refresh_token" in result


def test_the_readme_public_client_recipe(entra):
    """The README's MSAL public-client recipe, created as written while the server runs: username
    and password, device code, then a silent refresh, with MSAL."""
    srv = entra["server"]
    srv.cli("clients", "create", "--tenant", TENANT, "--name", "Recipe", "--id", "recipe", "--public", "--grant", "device_code",
            "--grant", "password", "--grant", "refresh_token", "--resource", "api://orders", "--scope", "api://orders/Orders.Read")
    scopes = ["api://orders/Orders.Read"]
    app = public("recipe")
    deadline = time.time() + 10
    while True:  # the server sees a new client within its cache lifetime
        result = app.acquire_token_by_username_password("alice", PASSWORD, scopes=scopes)
        if "access_token" in result or time.time() > deadline:
            break
        time.sleep(0.5)
    assert "access_token" in result and "refresh_token" in result, result
    assert verify(entra, result["access_token"], entra["apis"]["orders"])["scp"] == "Orders.Read"
    account = app.get_accounts(username="alice")[0]
    refreshed = app.acquire_token_silent(scopes, account=account, force_refresh=True)
    assert refreshed and refreshed["token_source"] == "identity_provider", refreshed
    assert verify(entra, refreshed["access_token"], entra["apis"]["orders"])["scp"] == "Orders.Read"
    device = run_device_flow(entra, "allow", client_id="recipe", scopes=scopes)
    assert "access_token" in device and "refresh_token" in device, device
    assert verify(entra, device["access_token"], entra["apis"]["orders"])["preferred_username"] == "alice"


def test_device_code_flow_declined_is_access_denied(entra):
    result = run_device_flow(entra, "deny")
    assert result["error"] == "access_denied" and result["error_codes"] == [9900181], result


def test_username_password(entra):
    result = public("cli").acquire_token_by_username_password("alice", PASSWORD, scopes=["api://orders/Orders.Read"])
    assert "access_token" in result, result
    assert verify(entra, result["access_token"], entra["apis"]["orders"])["preferred_username"] == "alice"
    from azure.identity import UsernamePasswordCredential
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        credential = azure(UsernamePasswordCredential, "cli", "alice", PASSWORD, tenant_id=TENANT)
    assert verify(entra, credential.get_token("api://orders/Orders.Read").token, entra["apis"]["orders"])["scp"] == "Orders.Read"


def test_on_behalf_of(entra):
    from azure.identity import OnBehalfOfCredential
    user = public("cli").acquire_token_by_username_password("alice", PASSWORD, scopes=["api://middle/access_as_user"])
    assert verify(entra, user["access_token"], "middle")["scp"] == "access_as_user"
    secret = entra["clients"]["middle"]["client_secret"]
    result = confidential("middle", secret).acquire_token_on_behalf_of(user["access_token"], ["api://orders/.default"])
    assert "access_token" in result, result
    claims = verify(entra, result["access_token"], entra["apis"]["orders"])
    assert claims["oid"] == entra["users"]["alice"]["id"] and claims["azp"] == "middle" and claims["scp"] == "Orders.Read"
    credential = azure(OnBehalfOfCredential, TENANT, "middle", client_secret=secret, user_assertion=user["access_token"])
    assert verify(entra, credential.get_token("api://orders/.default").token, entra["apis"]["orders"])["sub"] == entra["users"]["alice"]["id"]


# MARK: catalogue errors, as MSAL returns them and as azure-identity raises them

def fresh_code(entra):
    """An authorization code for webapp without PKCE (so that azure-identity, which sends no verifier, can redeem it)."""
    browser = requests.Session()
    query = urllib.parse.urlencode({"client_id": "webapp", "response_type": "code", "redirect_uri": REDIRECT,
                                    "scope": "openid profile offline_access api://orders/Orders.Read", "state": secrets.token_hex(8)})
    reply = sign_in(browser, browser.get(f"{AUTHORITY}/oauth2/v2.0/authorize?{query}"))
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(reply.headers["Location"]).query))["code"]


def lock_dave(entra):
    app = public("cli")
    for attempt in range(5):  # distinct passwords: MSAL answers a repeated failing request from its cache
        result = app.acquire_token_by_username_password("dave", f"wrong-{attempt}", scopes=["api://orders/Orders.Read"])
        assert result["error_codes"] in ([50126], [50053]), result


def case(code, error, suberror, msal_call, azure_call, setup=None):
    return pytest.param(code, error, suberror, msal_call, azure_call, setup, id=str(code))


def identity():
    import azure.identity
    return azure.identity


CASES = [
    case(7000215, "invalid_client", None,
         lambda e: confidential("daemon", "not-the-secret").acquire_token_for_client(["api://orders/.default"]),
         lambda e: azure(identity().ClientSecretCredential, TENANT, "daemon", "also-not-the-secret").get_token("api://orders/.default")),
    case(700016, "unauthorized_client", None,
         lambda e: confidential("nobody", "secret").acquire_token_for_client(["api://orders/.default"]),
         lambda e: azure(identity().ClientSecretCredential, TENANT, "nobody", "secret").get_token("api://orders/.default")),
    case(7000222, "invalid_client", None,
         lambda e: confidential("expired", e["clients"]["expired"]["client_secret"]).acquire_token_for_client(["api://orders/.default"]),
         lambda e: azure(identity().ClientSecretCredential, TENANT, "expired", e["clients"]["expired"]["client_secret"]).get_token("api://orders/.default")),
    case(1002012, "invalid_scope", None,
         lambda e: confidential("daemon", e["clients"]["daemon"]["client_secret"]).acquire_token_for_client(["api://orders/Orders.Read"]),
         lambda e: azure(identity().ClientSecretCredential, TENANT, "daemon", e["clients"]["daemon"]["client_secret"]).get_token("api://orders/Orders.Write")),
    case(500011, "invalid_resource", None,
         lambda e: confidential("daemon", e["clients"]["daemon"]["client_secret"]).acquire_token_for_client(["api://unknown/.default"]),
         lambda e: azure(identity().ClientSecretCredential, TENANT, "daemon", e["clients"]["daemon"]["client_secret"]).get_token("api://elsewhere/.default")),
    case(700027, "invalid_client", None,
         lambda e: confidential("daemon-cert", {"private_key": e["stranger"]["key"], "thumbprint": e["stranger"]["thumbprint"]}).acquire_token_for_client(["api://orders/.default"]),
         lambda e: azure(identity().CertificateCredential, TENANT, "daemon-cert", certificate_data=(e["stranger"]["key"] + e["stranger"]["cert"]).encode()).get_token("api://orders/.default")),
    case(50126, "invalid_grant", None,
         lambda e: public("cli").acquire_token_by_username_password("alice", "not the password", scopes=["api://orders/Orders.Read"]),
         lambda e: azure(identity().UsernamePasswordCredential, "cli", "alice", "still not it", tenant_id=TENANT).get_token("api://orders/Orders.Read")),
    case(50057, "invalid_grant", None,
         lambda e: public("cli").acquire_token_by_username_password("carol", PASSWORD, scopes=["api://orders/Orders.Read"]),
         lambda e: azure(identity().UsernamePasswordCredential, "cli", "carol", PASSWORD, tenant_id=TENANT).get_token("api://orders/Orders.Read")),
    case(50053, "invalid_grant", None,
         lambda e: public("cli").acquire_token_by_username_password("dave", PASSWORD, scopes=["api://orders/Orders.Read"]),
         lambda e: azure(identity().UsernamePasswordCredential, "cli", "dave", PASSWORD, tenant_id=TENANT).get_token("api://orders/Orders.Read"),
         setup=lock_dave),
    case(50076, "invalid_grant", "basic_action",
         lambda e: public("cli").acquire_token_by_username_password("bob", PASSWORD, scopes=["api://orders/Orders.Read"]),
         lambda e: azure(identity().UsernamePasswordCredential, "cli", "bob", PASSWORD, tenant_id=TENANT).get_token("api://orders/Orders.Read")),
    case(9900120, "unauthorized_client", None,
         lambda e: public("tv").acquire_token_by_username_password("alice", PASSWORD, scopes=["api://orders/Orders.Read"]),
         lambda e: azure(identity().UsernamePasswordCredential, "tv", "alice", PASSWORD, tenant_id=TENANT).get_token("api://orders/Orders.Read")),
    case(50013, "invalid_grant", None,
         lambda e: confidential("middle", e["clients"]["middle"]["client_secret"]).acquire_token_on_behalf_of("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", ["api://orders/.default"]),
         lambda e: azure(identity().OnBehalfOfCredential, TENANT, "middle", client_secret=e["clients"]["middle"]["client_secret"],
                         user_assertion="eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ5In0.c2ln").get_token("api://orders/.default")),
    case(500131, "invalid_grant", None,
         lambda e: confidential("middle", e["clients"]["middle"]["client_secret"]).acquire_token_on_behalf_of(e["orders_token"], ["api://orders/.default"]),
         lambda e: azure(identity().OnBehalfOfCredential, TENANT, "middle", client_secret=e["clients"]["middle"]["client_secret"],
                         user_assertion=e["orders_token"]).get_token("api://orders/.default"),
         setup=lambda e: e.update(orders_token=public("cli").acquire_token_by_username_password("alice", PASSWORD, scopes=["api://orders/Orders.Read"])["access_token"])),
    case(54005, "invalid_grant", None,
         lambda e: confidential("webapp", e["clients"]["webapp"]["client_secret"]).acquire_token_by_authorization_code(e["used_code"], ["api://orders/Orders.Read"], redirect_uri=REDIRECT),
         lambda e: azure(identity().AuthorizationCodeCredential, TENANT, "webapp", e["used_code"], REDIRECT,
                         client_secret=e["clients"]["webapp"]["client_secret"]).get_token("api://orders/Orders.Read"),
         setup=lambda e: e.update(used_code=(lambda code: (confidential("webapp", e["clients"]["webapp"]["client_secret"])
                                                           .acquire_token_by_authorization_code(code, ["api://orders/Orders.Read"], redirect_uri=REDIRECT), code)[1])(fresh_code(e)))),
]


@pytest.mark.parametrize("code,error,suberror,msal_call,azure_call,setup", CASES)
def test_catalogue_error_in_msal_and_azure_identity(entra, code, error, suberror, msal_call, azure_call, setup):
    import time
    if setup:
        setup(entra)
    if code == 7000222:
        time.sleep(1)  # the secret was made to expire one second after creation
    result = msal_call(entra)
    assert result.get("error") == error, result
    assert result.get("error_codes") == [code], result
    assert result.get("suberror") == suberror, result
    description = result["error_description"]
    assert description.startswith(f"AADSTS{code}: ")
    assert f"\r\nTrace ID: {result['trace_id']}\r\nCorrelation ID: {result['correlation_id']}\r\nTimestamp: {result['timestamp']}" in description
    if code == 50076:
        assert json.loads(result["claims"]) == {"access_token": {"amr": {"essential": True, "values": ["mfa"]}}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ClientAuthenticationError) as raised:
            azure_call(entra)
    assert f"AADSTS{code}:" in raised.value.message


def test_the_sign_in_log_has_every_failure_by_trace_id(entra):
    result = confidential("daemon", "wrong again").acquire_token_for_client(["api://orders/.default"])
    trace = result["trace_id"]
    import time
    for _ in range(50):
        found = entra["server"].cli("signins", "--trace-id", trace, "--json", check=False)
        if trace in found.stdout:
            break
        time.sleep(0.1)
    assert trace in found.stdout and "7000215" in found.stdout


def explain_paste(server, text):
    """`gatehouse explain --from -` on a pasted text, as JSON."""
    result = subprocess.run([conftest.BIN, "explain", "--from", "-", "--database", server.database, "--json"], input=text,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_explain_from_a_pasted_msal_result_and_azure_identity_exception(entra):
    """What a user pastes from MSAL (its result dict as Python prints it) and from azure-identity
    (the exception's text) leads the operator to the catalogue entry and the server's record."""
    import time
    server = entra["server"]
    result = confidential("daemon", "pasted wrong secret").acquire_token_for_client(["api://orders/.default"])
    pasted = repr(result)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ClientAuthenticationError) as raised:
            __import__("azure.identity", fromlist=["x"]).ClientSecretCredential(
                TENANT, "daemon", "also wrong", authority=HOST, disable_instance_discovery=True).get_token(
                "api://orders/.default")
    exception_text = f"{type(raised.value).__module__}.{type(raised.value).__name__}: {raised.value}"
    time.sleep(0.5)  # the sign-in log's flush
    for text, trace in ((pasted, result["trace_id"]), (exception_text, None)):
        explained = explain_paste(server, text)
        assert explained["found"]["codes"][0] == 7000215, (text, explained)
        assert explained["entries"][0]["name"] and explained["entries"][0]["remediation"]
        if trace:
            assert explained["found"]["trace_id"] == trace
        assert explained["lookup"] == "found", explained
        assert explained["records"][0]["error_code"] == 7000215 and explained["records"][0]["client_id"] == "daemon"
