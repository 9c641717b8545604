"""The admin API (openapi/admin.yaml) against the real binary: tokens from Gatehouse itself
(authlib's client credentials), each tenant's administrators confined to their tenant (checked for
every operation the document lists), writes refused without a token or with a read-only one,
`clients update` over HTTP, and an audit row for every change with no secret in it."""

import json
import os
import re
import tempfile
import time

import pytest
import requests
import yaml
from authlib.integrations.requests_client import OAuth2Session

from conftest import Server, note_secret

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENT = os.path.join(ROOT, "openapi", "admin.yaml")
ADMIN_API = "api://gatehouse-admin"


def operations():
    """Every (method, path template, operation) of the document."""
    with open(DOCUMENT) as handle:
        document = yaml.safe_load(handle)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, operation


def fill(path, tenant):
    """A path of the template with `tenant` and placeholder values for the other parameters."""
    values = {"tenant": tenant, "api": "gatehouse-admin", "client": "no-such-client", "user": "no-such-user", "secret": "x", "sid": "x",
              "thumbprint": "x", "credential": "x", "token_id": "x",
              "role": "Admin.Read"}
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


def token(srv, tenant, client_id, secret, role):
    """An access token for the admin API from client credentials, through authlib."""
    session = OAuth2Session(client_id, secret, token_endpoint_auth_method="client_secret_basic")
    issued = session.fetch_token(f"{srv.base}/{tenant}/oauth2/token", grant_type="client_credentials", scope=f"{ADMIN_API}/{role}")
    note_secret(issued["access_token"])
    return issued["access_token"]


def operator(srv, tenant, role):
    """A client of `tenant` holding `role` on its admin API, and a token for it."""
    made = srv.cli_json("clients", "create", "--tenant", tenant, "--name", f"{tenant}-{role}")
    srv.cli("clients", "grant", "--tenant", tenant, made["client_id"], "--api", ADMIN_API, "--role", role)
    return token(srv, tenant, made["client_id"], made["client_secret"], role)


@pytest.fixture(scope="module")
def admin_server():
    with tempfile.TemporaryDirectory() as workdir:
        srv = Server(workdir)
        srv.start()
        made = srv.cli_json("admin", "bootstrap", "--username", "root", "--password", "correct horse battery")
        note_secret(made["client_secret"])
        srv.bootstrap = made
        srv.cli("tenants", "create", "contoso")
        srv.cli("tenants", "create", "fabrikam")
        srv.tokens = {
            "root": token(srv, "gatehouse", made["client_id"], made["client_secret"], "Admin.Write"),
            "contoso": operator(srv, "contoso", "Admin.Write"),
            "contoso-read": operator(srv, "contoso", "Admin.Read"),
        }
        srv.secrets = [made["client_secret"]]
        yield srv
        srv.stop()


def call(srv, method, path, who=None, body=None):
    headers = {"Authorization": f"Bearer {srv.tokens[who]}"} if who else {}
    return requests.request(method, f"{srv.base}/admin/v1{path}", headers=headers, json=body, timeout=10)


def catalogue_code(response):
    data = response.json()
    assert {"error", "error_description", "trace_id", "correlation_id", "error_uri"} <= set(data), data
    return data["error_codes"][0]


def test_bootstrap_token_creates_an_api_and_a_client_that_then_gets_a_token(admin_server):
    srv = admin_server
    api = call(srv, "POST", "/tenants/contoso/apis", "root", {"display_name": "Orders", "identifiers": ["https://orders.example"]})
    assert api.status_code == 201, api.text
    if api.json().get("client_secret"):
        srv.secrets.append(api.json()["client_secret"])
    app_id = api.json()["api"]["application_id"]
    role = call(srv, "POST", f"/tenants/contoso/apis/{app_id}/roles", "root", {"name": "Orders.Read", "descriptions": {"en": "Read orders"}})
    assert role.status_code == 200 and [r["name"] for r in role.json()["roles"]] == ["Orders.Read"], role.text
    client = call(srv, "POST", "/tenants/contoso/clients", "root", {"name": "order-sync", "grant_types": ["client_credentials"]})
    assert client.status_code == 201, client.text
    created = client.json()
    srv.secrets.append(created["client_secret"])
    note_secret(created["client_secret"])
    assert created["client_secret"] not in json.dumps(created["client"]), "the client's view never shows the secret"
    grant = call(srv, "POST", f"/tenants/contoso/clients/{created['client']['client_id']}/api-access", "root",
                 {"api": "https://orders.example", "roles": ["Orders.Read"]})
    assert grant.status_code == 200 and grant.json()["roles"] == ["Orders.Read"], grant.text
    # The new client, through authlib, gets a token for the new API.
    session = OAuth2Session(created["client"]["client_id"], created["client_secret"])
    deadline = time.time() + 10
    while True:
        try:
            issued = session.fetch_token(f"{srv.base}/contoso/oauth2/token", grant_type="client_credentials",
                                         scope="https://orders.example/Orders.Read")
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.3)
    claims = json.loads(__import__("base64").urlsafe_b64decode(issued["access_token"].split(".")[1] + "=="))
    assert claims["aud"] == "https://orders.example" and claims["iss"] == f"{srv.base}/contoso", claims
    # The secret is shown once: reading the client shows its ID and hint only.
    shown = call(srv, "GET", f"/tenants/contoso/clients/{created['client']['client_id']}", "contoso-read")
    assert shown.status_code == 200 and created["client_secret"] not in shown.text
    assert [s["secret_id"] for s in shown.json()["secrets"]] == [created["secret_id"]]


def test_a_tenants_administrator_reaches_no_other_tenant_for_any_operation(admin_server):
    srv = admin_server
    checked = 0
    for method, path, _ in operations():
        if "{tenant}" not in path:
            continue
        # contoso's administrator, on fabrikam: refused before anything is read or changed.
        refused = call(srv, method, fill(path, "fabrikam"), "contoso", {} if method in ("POST", "PUT", "PATCH") else None)
        assert refused.status_code == 403 and catalogue_code(refused) == 9900204, (method, path, refused.text)
        # The same on its own tenant passes the door (whatever the operation then answers).
        own = call(srv, "GET", fill(path, "contoso"), "contoso") if method == "GET" else None
        if own is not None:
            assert own.status_code not in (401, 403), (method, path, own.text)
        checked += 1
    assert checked >= 25
    # The administrative tenant's principal reads every tenant.
    for method, path, _ in operations():
        if method == "GET" and "{tenant}" in path:
            answered = call(srv, "GET", fill(path, "fabrikam"), "root")
            assert answered.status_code in (200, 404), (path, answered.text)
    listed = call(srv, "GET", "/tenants", "contoso")
    assert [t["name"] for t in listed.json()["items"]] == ["contoso"], listed.text
    everything = call(srv, "GET", "/tenants?limit=2", "root")
    assert len(everything.json()["items"]) == 2 and everything.json()["next_cursor"], everything.text
    rest = call(srv, "GET", f"/tenants?limit=2&cursor={everything.json()['next_cursor']}", "root")
    names = [t["name"] for t in everything.json()["items"] + rest.json()["items"]]
    assert names == sorted(names) and {"contoso", "fabrikam", "gatehouse"} <= set(names), names
    # Only the administrative tenant makes tenants.
    made = call(srv, "POST", "/tenants", "contoso", {"name": "sneaky"})
    assert made.status_code == 403 and catalogue_code(made) == 9900204
    made = call(srv, "POST", "/tenants", "root", {"name": "northwind"})
    assert made.status_code == 201 and made.json()["issuer"] == f"{srv.base}/northwind", made.text


def test_every_write_is_refused_without_a_token_or_with_a_read_only_one(admin_server):
    srv = admin_server
    writes = [(method, path) for method, path, _ in operations() if method != "GET"]
    assert len(writes) >= 20
    for method, path in writes:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        anonymous = call(srv, method, fill(path, "contoso"), None, body)
        assert anonymous.status_code == 401 and catalogue_code(anonymous) == 9900160, (method, path)
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer realm=")
        reader = call(srv, method, fill(path, "contoso"), "contoso-read", body)
        assert reader.status_code == 403 and catalogue_code(reader) == 9900203, (method, path, reader.text)
    # A read-only token reads.
    assert call(srv, "GET", "/tenants/contoso/clients", "contoso-read").status_code == 200
    # An ID token or a token for another audience is not an admin token.
    other = srv.cli_json("clients", "create", "--tenant", "contoso", "--name", "not-admin", "--scope", "x.read")
    plain = OAuth2Session(other["client_id"], other["client_secret"]).fetch_token(
        f"{srv.base}/contoso/oauth2/token", grant_type="client_credentials")["access_token"]
    note_secret(plain)
    refused = requests.get(f"{srv.base}/admin/v1/tenants/contoso", headers={"Authorization": f"Bearer {plain}"}, timeout=10)
    assert refused.status_code == 401 and catalogue_code(refused) == 9900205, refused.text


def test_clients_update_over_the_api_changes_each_property_and_keeps_the_secret(admin_server):
    srv = admin_server
    made = call(srv, "POST", "/tenants/contoso/clients", "contoso", {"name": "changing", "scopes": ["old.read"]}).json()
    client_id, secret = made["client"]["client_id"], made["client_secret"]
    srv.secrets.append(secret)
    note_secret(secret)
    path = f"/tenants/contoso/clients/{client_id}"
    changes = [
        ({"name": "changed"}, lambda c: c["name"] == "changed"),
        ({"scopes": ["new.read", "new.write"], "default_scopes": ["new.write"]},
         lambda c: c["scopes"] == ["new.read", "new.write"] and c["default_scopes"] == ["new.write"]),
        ({"default_scopes": ["new.read"]}, lambda c: c["default_scopes"] == ["new.read"]),
        ({"redirect_uris": ["https://app.example/cb"]}, lambda c: c["redirect_uris"] == ["https://app.example/cb"]),
        ({"grant_types": ["client_credentials", "authorization_code", "refresh_token"]},
         lambda c: c["grant_types"] == ["authorization_code", "client_credentials", "refresh_token"]),
        ({"post_logout_redirect_uris": ["https://app.example/bye"]}, lambda c: c["post_logout_redirect_uris"] == ["https://app.example/bye"]),
        ({"auth_methods": ["client_secret_post"]}, lambda c: c["auth_methods"] == ["client_secret_post"]),
        ({"scopes": ["Reports.Read"], "resources": ["api://reports"], "default_scopes": ["api://reports/Reports.Read"]},
         lambda c: c["scopes"] == [] and c["api_access"] and c["api_access"][0]["permissions"] == ["Reports.Read"]),
    ]
    for change, holds in changes:
        response = call(srv, "PATCH", path, "contoso", change)
        assert response.status_code == 200 and holds(response.json()), (change, response.text)
        assert [s["secret_id"] for s in response.json()["secrets"]] == [made["secret_id"]], "the secret stays"
    # Disabled: the token endpoint refuses it (7000112); enabled again, the same secret works.
    assert call(srv, "PATCH", path, "contoso", {"enabled": False}).json()["enabled"] is False
    deadline = time.time() + 10
    while True:
        response = requests.post(f"{srv.base}/contoso/oauth2/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        if response.status_code == 400 or time.time() > deadline:
            break
        time.sleep(0.3)
    assert response.status_code == 400 and response.json()["error_codes"] == [7000112], response.text
    assert call(srv, "PATCH", path, "contoso", {"enabled": True}).json()["enabled"] is True
    refused = call(srv, "PATCH", path, "contoso", {"redirect_uris": ["javascript:alert(1)"]})
    assert refused.status_code == 400 and catalogue_code(refused) == 9900200
    assert refused.json()["field_errors"][0]["field"] == "redirect_uris", refused.text
    # The same secret, now sent in the body as the new auth method says, still works.
    deadline = time.time() + 10
    while True:
        response = requests.post(f"{srv.base}/contoso/oauth2/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "api://reports/Reports.Read"})
        if response.status_code == 200 or time.time() > deadline:
            break
        time.sleep(0.3)
    assert response.status_code == 200, response.text
    missing = call(srv, "PATCH", "/tenants/contoso/clients/nobody", "contoso", {"name": "x"})
    assert missing.status_code == 404 and catalogue_code(missing) == 9900201


def test_the_audit_log_has_a_row_for_every_change_and_no_secret(admin_server):
    srv = admin_server
    # A change through the CLI lands in the same log, by its operator.
    srv.cli("users", "create", "--tenant", "contoso", "alice", "--password", "correct horse battery")
    entries = []
    for tenant in ("contoso", "gatehouse", "fabrikam", "northwind"):
        cursor = None
        while True:
            query = f"?limit=50" + (f"&cursor={cursor}" if cursor else "")
            page = call(srv, "GET", f"/tenants/{tenant}/audit{query}", "root")
            assert page.status_code == 200, page.text
            entries += page.json()["items"]
            cursor = page.json().get("next_cursor")
            if not cursor:
                break
    actions = {(entry["tenant"], entry["action"]) for entry in entries}
    for expected in [("gatehouse", "tenant.create"), ("gatehouse", "user.create"), ("gatehouse", "user.role.assign"),
                     ("gatehouse", "client.grant"), ("contoso", "api.create"), ("contoso", "api.role.add"),
                     ("contoso", "client.create"), ("contoso", "client.secret.add"), ("contoso", "client.grant"),
                     ("contoso", "client.update"), ("contoso", "user.create"), ("northwind", "tenant.create")]:
        assert expected in actions, (expected, sorted(actions))
    updates = [e for e in entries if e["action"] == "client.update"]
    assert len(updates) >= 8 and all(e["before"] and e["after"] for e in updates)
    assert all(e["actor"].startswith("application:") for e in updates)
    assert any(e["actor"].startswith("operator:") and e["action"] == "user.create" for e in entries)
    assert all(e.get("trace_id") for e in entries if e["actor"].startswith("application:"))
    text = json.dumps(entries)
    for secret in srv.secrets + ["correct horse battery"]:
        assert secret not in text
    assert "password" not in text and "hash" not in text


def schemathesis_run(srv, workdir, *options, token=None, hooks=False):
    """One bounded schemathesis run against the document and the running server (last in this
    module: it changes the tenant at random)."""
    config = os.path.join(workdir, "schemathesis.toml")
    with open(config, "w") as handle:
        # Real objects to work on: the tenant, its admin API, a client and a user that exist.
        handle.write('[parameters]\ntenant = "contoso"\napi = "gatehouse-admin"\nclient = "st-client"\nuser = "st-user"\nsid = "st-sid"\nthumbprint = "st-thumbprint"\ncredential = "st-credential"\ntoken_id = "st-token"\n')
    env = dict(os.environ)
    if hooks:
        env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__))
        env["SCHEMATHESIS_HOOKS"] = "admin_api_hooks"
    command = [os.path.join(os.path.dirname(__import__("sys").executable), "schemathesis"),
               "--config-file", config, "run", DOCUMENT, "--url", f"{srv.base}/admin/v1", "--no-color",
               "--phases", "coverage,fuzzing", "--seed", "20261206", "--workers", "1", "--request-timeout", "10", *options]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    result = __import__("subprocess").run(command, capture_output=True, text=True, timeout=600, cwd=workdir, env=env)
    # The whole report, for whoever reads a failure.
    artifacts = os.path.join(ROOT, "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    name = "schemathesis-" + ("refusals" if hooks else "admin") + ("-read" if token and hooks else "") + ".txt"
    with open(os.path.join(artifacts, name), "w") as handle:
        handle.write(result.stdout + result.stderr)
    return result


def test_schemathesis_finds_no_5xx_and_every_response_matches_the_document(admin_server):
    srv = admin_server
    call(srv, "POST", "/tenants/contoso/clients", "root", {"client_id": "st-client", "name": "schemathesis"})
    call(srv, "POST", "/tenants/contoso/users", "root", {"username": "st-user", "password": "correct horse battery"})
    with tempfile.TemporaryDirectory() as workdir:
        result = schemathesis_run(
            srv, workdir, "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
            "--max-examples", "15", token=srv.tokens["contoso"])
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    tested = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert tested and int(tested.group(1)) >= 300 and tested.group(1) == tested.group(2), summary
    # The server is still well.
    assert requests.get(f"{srv.base}/health/ready", timeout=10).status_code == 200


@pytest.mark.parametrize("who", [None, "contoso-read"])
def test_schemathesis_sees_every_write_refused_without_a_token_or_with_a_read_only_one(admin_server, who):
    srv = admin_server
    with tempfile.TemporaryDirectory() as workdir:
        result = schemathesis_run(srv, workdir, "--exclude-method", "GET", "--checks", "not_a_server_error,write_refused",
                                  "--max-examples", "10", token=srv.tokens[who] if who else None, hooks=True)
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    tested = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert tested and int(tested.group(1)) >= 100, summary


def test_client_registration_through_the_admin_api(admin_server):
    """A tenant's registration policy and initial access tokens, set through the admin API, used by
    a client registering itself; the client is then marked self-registered in the admin views."""
    srv = admin_server
    api = call(srv, "POST", "/tenants/fabrikam/apis", "root", {"display_name": "Reports", "identifiers": ["https://reports.example"]})
    assert api.status_code == 201, api.text
    if api.json().get("client_secret"):
        srv.secrets.append(api.json()["client_secret"])
    admin_refused = call(srv, "PATCH", "/tenants/fabrikam", "root", {"registration_apis": ["api://gatehouse-admin"]})
    assert admin_refused.status_code == 400 and catalogue_code(admin_refused) == 9900200, admin_refused.text
    changed = call(srv, "PATCH", "/tenants/fabrikam", "root",
                   {"client_registration": "token", "registration_apis": ["https://reports.example"], "allow_local_fetches": False})
    assert changed.status_code == 200, changed.text
    assert changed.json()["client_registration"] == "token" and changed.json()["registration_apis"] == ["https://reports.example"]
    made = call(srv, "POST", "/tenants/fabrikam/initial-access-tokens", "root", {"label": "CLI team", "uses": 1, "lifetime_hours": 2})
    assert made.status_code == 201, made.text
    value, token_id = made.json()["value"], made.json()["token"]["token_id"]
    note_secret(value)
    metadata = requests.get(f"{srv.base}/.well-known/oauth-authorization-server/fabrikam").json()
    body = {"client_name": "Report CLI", "redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": "none"}
    registered = requests.post(metadata["registration_endpoint"], json=body, headers={"Authorization": f"Bearer {value}"})
    assert registered.status_code == 201, registered.text
    note_secret(registered.json()["registration_access_token"])
    again = requests.post(metadata["registration_endpoint"], json=body, headers={"Authorization": f"Bearer {value}"})
    assert again.status_code == 401 and again.json()["error_codes"] == [9900217], "one use only"
    listed = call(srv, "GET", "/tenants/fabrikam/initial-access-tokens", "root").json()
    assert [(t["token_id"], t["uses_left"]) for t in listed] == [(token_id, 0)] and "value" not in listed[0]
    shown = call(srv, "GET", f"/tenants/fabrikam/clients/{registered.json()['client_id']}", "root").json()
    assert shown["source"] == "self-registered" and shown["type"] == "public"
    assert call(srv, "DELETE", f"/tenants/fabrikam/initial-access-tokens/{token_id}", "root").status_code == 204
    assert call(srv, "DELETE", f"/tenants/fabrikam/initial-access-tokens/{token_id}", "root").status_code == 404
