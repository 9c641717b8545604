"""A resource server in front of Gatehouse: Debian's Apache with mod_oauth2 (libapache2-mod-oauth2)
protecting a small CGI on loopback. Configured for RFC 7662 introspection with the API's own
credential (client_secret_basic), it accepts a Gatehouse access token for that API and refuses a
token for another API, a revoked token (never seen by it before), an expired one, a tampered one
and garbage; configured with the tenant's jwks_uri instead, it accepts the token and refuses the
expired and the tampered one."""
import base64
import json
import time

import pytest
import requests

import conftest
from apache import Apache as ApacheServer



CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'hello %s\\n' "$OAUTH2_CLAIM_client_id"
"""


class Apache(ApacheServer):
    """mod_oauth2 in front of the CGI at /orders, verifying tokens as `verify` says."""

    def __init__(self, verify):
        super().__init__(
            conftest.free_port(), "oauth2", "oauth2", "orders", CGI,
            lambda script: [f'ScriptAlias /orders "{script}"', "<Location /orders>", "  AuthType oauth2", "  Require valid-user",
                            f"  OAuth2TokenVerify {verify}", "</Location>"])

    def get(self, token):
        return requests.get(f"{self.base}/orders", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def tampered(token):
    header, payload, signature = token.split(".")
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    forged = claims.replace(b'"client_id":"', b'"client_id":"x')
    return ".".join([header, base64.urlsafe_b64encode(forged).rstrip(b"=").decode(), signature])


@pytest.fixture()
def registered(unstarted_server):
    unstarted_server.start()
    server = unstarted_server
    orders = server.cli_json("apis", "create", "--tenant", "default", "--name", "Orders", "--id", "orders-api",
                             "--identifier", "api://orders")
    server.cli_json("apis", "create", "--tenant", "default", "--name", "Billing", "--id", "billing-api",
                    "--identifier", "api://billing")
    app = server.cli_json("clients", "create", "--tenant", "default", "--name", "app", "--resource", "api://orders",
                          "--resource", "api://billing", "--scope", "orders.read")

    def token(resource):
        response = requests.post(f"{server.base}/default/oauth2/token", auth=(app["client_id"], app["client_secret"]),
                                 data={"grant_type": "client_credentials", "resource": resource}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    return server, orders, app, token


def test_mod_oauth2_introspects_with_the_apis_credential(registered):
    server, orders, app, token = registered
    introspect = (f"introspect {server.base}/default/oauth2/introspect "
                  f"introspect.auth=client_secret_basic&client_id=orders-api&client_secret={orders['client_secret']}"
                  "&introspect.ssl_verify=false")
    apache = Apache(introspect)
    try:
        good = token("api://orders")
        accepted = apache.get(good)
        assert accepted.status_code == 200 and f"hello {app['client_id']}" in accepted.text, accepted.text + apache.log()
        assert apache.get(token("api://billing")).status_code == 401
        assert apache.get(tampered(good)).status_code == 401
        # Revoked before the resource server ever saw it (mod_oauth2 caches what it accepted).
        revoked = token("api://orders")
        assert requests.post(f"{server.base}/default/oauth2/revoke", auth=(app["client_id"], app["client_secret"]),
                             data={"token": revoked}, timeout=10).status_code == 200
        assert apache.get(revoked).status_code == 401
        assert apache.get("not-a-token").status_code == 401
    finally:
        apache.stop()


def test_mod_oauth2_verifies_through_the_jwks_uri(registered):
    server, _, app, token = registered
    apache = Apache(f"jwks_uri {server.base}/default/discovery/keys jwks_uri.ssl_verify=false")
    try:
        good = token("api://orders")
        accepted = apache.get(good)
        assert accepted.status_code == 200 and f"hello {app['client_id']}" in accepted.text, accepted.text + apache.log()
        assert apache.get(tampered(good)).status_code == 401
    finally:
        apache.stop()


def test_expired_tokens_are_refused_by_introspection_and_by_the_jwks(registered):
    """A token of an API whose tokens live 60 s, presented once it has expired (never before:
    mod_oauth2 caches an accepted introspection result), is refused both ways; a fresh one of the
    same API is accepted."""
    server, _, app, _ = registered
    quick = server.cli_json("apis", "create", "--tenant", "default", "--name", "Quick", "--id", "quick-api",
                            "--identifier", "api://quick", "--access-token-lifetime", "60")
    server.cli("apis", "add-role", "--tenant", "default", "api://quick", "Quick.Use")
    server.cli("clients", "grant", "--tenant", "default", app["client_id"], "--api", "api://quick",
               "--role", "Quick.Use")

    def token():
        response = requests.post(f"{server.base}/default/oauth2/token", auth=(app["client_id"], app["client_secret"]),
                                 data={"grant_type": "client_credentials", "scope": "Quick.Use", "resource": "api://quick"},
                                 timeout=10)
        assert response.status_code == 200 and response.json()["expires_in"] == 60, response.text
        return response.json()["access_token"]

    expired = token()
    time.sleep(62)
    introspect = Apache(f"introspect {server.base}/default/oauth2/introspect "
                        f"introspect.auth=client_secret_basic&client_id=quick-api&client_secret={quick['client_secret']}"
                        "&introspect.ssl_verify=false")
    jwks = Apache(f"jwks_uri {server.base}/default/discovery/keys jwks_uri.ssl_verify=false")
    try:
        for apache in (introspect, jwks):
            assert apache.get(expired).status_code == 401, apache.log()
            fresh = apache.get(token())
            assert fresh.status_code == 200 and f"hello {app['client_id']}" in fresh.text, fresh.text + apache.log()
    finally:
        introspect.stop()
        jwks.stop()


def test_the_cli_defines_permissions_and_grants_them(registered):
    server, orders, app, _ = registered
    server.cli("apis", "add-permission", "--tenant", "default", "api://orders", "Orders.Read", "--description", "Read your orders")
    server.cli("apis", "add-role", "--tenant", "default", "orders-api", "Orders.Admin")
    shown = server.cli_json("apis", "show", "--tenant", "default", "api://orders")
    # `clients create --resource api://orders --scope orders.read` (the fixture) defined orders.read
    # as a permission and a role of the API and granted it; names are case-sensitive.
    assert shown["application_id"] == "orders-api" and [p["name"] for p in shown["permissions"]] == ["orders.read", "Orders.Read"]
    assert shown["permissions"][1]["descriptions"] == {"en": "Read your orders"}
    assert [r["name"] for r in shown["roles"]] == ["orders.read", "Orders.Admin"]
    granted = server.cli("clients", "grant", "--tenant", "default", app["client_id"], "--api", "api://orders",
                         "--permission", "Orders.Read", "--role", "Orders.Admin")
    assert "permissions orders.read Orders.Read; roles orders.read Orders.Admin" in granted.stdout
    refused = server.cli("clients", "grant", "--tenant", "default", app["client_id"], "--api", "api://orders",
                         "--permission", "Orders.Delete", check=False)
    assert refused.returncode != 0 and "defines no permission 'Orders.Delete'" in refused.stderr
    client = server.cli_json("clients", "show", "--tenant", "default", app["client_id"])
    billing = {"api": "billing-api", "identifiers": ["api://billing"], "permissions": ["orders.read"], "roles": ["orders.read"]}
    assert client["apis"] == [
        {"api": "orders-api", "identifiers": ["api://orders"], "permissions": ["orders.read", "Orders.Read"],
         "roles": ["orders.read", "Orders.Admin"]}, billing]
    own = server.cli_json("clients", "show", "--tenant", "default", "orders-api")
    assert own["api_of_its_own"] == ["api://orders"]
    server.cli("clients", "revoke", "--tenant", "default", app["client_id"], "--api", "orders-api")
    assert server.cli_json("clients", "show", "--tenant", "default", app["client_id"])["apis"] == [billing]
    assert "orders-api" in server.cli("apis", "list", "--tenant", "default").stdout


def test_no_api_sees_the_tokens_that_name_no_resource(registered):
    server = registered[0]
    issuer = f"{server.base}/default"
    # The CLI refuses the issuer it knows of (here it is not told the server's port, so it cannot);
    # introspection never shows an API the tokens whose audience is the issuer, whatever it was given.
    claimed = server.cli_json("apis", "create", "--tenant", "default", "--name", "Everything", "--identifier", issuer)
    plain = server.cli_json("clients", "create", "--tenant", "default", "--name", "plain", "--scope", "x")
    token = requests.post(f"{server.base}/default/oauth2/token", auth=(plain["client_id"], plain["client_secret"]),
                          data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
    payload = token.split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"] == issuer
    seen = requests.post(f"{server.base}/default/oauth2/introspect", auth=(claimed["application_id"], claimed["client_secret"]),
                         data={"token": token}, timeout=10).json()
    assert seen == {"active": False}
    refused = server.cli("apis", "create", "--tenant", "default", "--name", "Everything", "--identifier",
                         "http://127.0.0.1:8080/default", check=False)
    assert refused.returncode != 0 and "is the tenant's issuer" in refused.stderr
