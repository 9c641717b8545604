"""A single-page app in headless Chromium (Debian's chromium + chromium-driver): a page of the
test's own, served from a second loopback port that is the origin of the public client's
registered redirect URI, runs the authorization code flow with PKCE. With `fetch` it reads the
discovery document and the keys, redeems the code, refreshes and calls userinfo; the same page
served from an unregistered port cannot read the token endpoint's or userinfo's answers. CORS is
enforced by Chromium: the test reads what the page could read, not the server's headers."""
import http.server
import json
import os
import secrets
import threading

import pytest

from test_signin import ARTIFACTS, PASSWORD

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>SPA</title></head>
<body style="font-family: sans-serif; margin: 2em"><h1>Test single-page app</h1><p>Served from <code id="origin"></code></p>
<ul id="summary"></ul><pre id="result" style="display: none"></pre>
<script>
const config = __CONFIG__;
document.getElementById("origin").textContent = location.origin;
const show = (value) => {
  for (const [step, outcome] of Object.entries(value)) {
    const item = document.createElement("li");
    item.textContent = step + ": " + (typeof outcome === "string" ? outcome : "HTTP " + (outcome.status || 200) + (outcome.keys ? ", " + outcome.keys + " keys" : ""));
    document.getElementById("summary").appendChild(item);
  }
  document.getElementById("result").textContent = JSON.stringify(value);
};
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
async function attempt(label, run, results) {
  try { results[label] = await run(); } catch (error) { results[label] = "blocked: " + error.name + ": " + error.message; }
}
async function start() {
  const results = {};
  await attempt("discovery", async () => {
    const metadata = await (await fetch(config.issuer + "/.well-known/openid-configuration")).json();
    const keys = await (await fetch(metadata.jwks_uri)).json();
    return {token_endpoint: metadata.token_endpoint, keys: keys.keys.length};
  }, results);
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem("verifier", verifier);
  sessionStorage.setItem("start", JSON.stringify(results));
  const query = new URLSearchParams({response_type: "code", client_id: config.client_id, redirect_uri: config.redirect_uri,
    scope: "openid profile offline_access", state: "spa-state", code_challenge: challenge, code_challenge_method: "S256"});
  location.assign(config.issuer + "/oauth2/authorize?" + query);
}
async function post(body) {
  const response = await fetch(config.issuer + "/oauth2/token", {method: "POST",
    headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: new URLSearchParams(body)});
  return {status: response.status, body: await response.json()};
}
async function userinfo(token) {
  const response = await fetch(config.issuer + "/oidc/userinfo", {headers: {"Authorization": "Bearer " + token}});
  return {status: response.status, body: await response.json()};
}
async function callback() {
  const results = JSON.parse(sessionStorage.getItem("start") || "{}");
  const code = new URLSearchParams(location.search).get("code");
  await attempt("redeemed", () => post({grant_type: "authorization_code", code, redirect_uri: config.redirect_uri,
    client_id: config.client_id, code_verifier: sessionStorage.getItem("verifier")}), results);
  const first = results.redeemed && results.redeemed.body || {};
  await attempt("refreshed", () => post({grant_type: "refresh_token", refresh_token: first.refresh_token, client_id: config.client_id}), results);
  const second = results.refreshed && results.refreshed.body || {};
  await attempt("userinfo", () => userinfo(second.access_token), results);
  show(results);
}
async function elsewhere() {
  // Served from an origin the client did not register: the public documents are readable, the
  // token endpoint and userinfo are not.
  const results = {};
  await attempt("discovery", async () => (await fetch(config.issuer + "/.well-known/openid-configuration")).status, results);
  await attempt("refreshed", () => post({grant_type: "refresh_token", refresh_token: config.refresh_token, client_id: config.client_id}), results);
  await attempt("userinfo", () => userinfo(config.access_token), results);
  show(results);
}
({"/start": start, "/callback": callback, "/elsewhere": elsewhere})[location.pathname]();
</script></body></html>
"""


class AppOrigin:
    """Serves the page on its own loopback port, with `config` filled in per request."""

    def __init__(self):
        self.config = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = PAGE.replace("__CONFIG__", json.dumps(outer.config)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture()
def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    assert os.path.exists(driver_path), "chromium-driver is not installed (.ci/run installs Debian's chromium and chromium-driver)"
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def result(driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "result").get_attribute("textContent"))
    return json.loads(driver.find_element(By.ID, "result").get_attribute("textContent"))


def test_a_single_page_app_runs_the_code_flow_from_its_own_origin_only(server, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    app, stranger = AppOrigin(), AppOrigin()
    try:
        issuer = server.base + "/default"
        redirect = app.origin + "/callback"
        client = server.cli_json("clients", "create", "--tenant", "default", "--name", "SPA", "--public", "--redirect-uri", redirect)
        username = "spa" + secrets.token_hex(4)
        server.cli("users", "create", "--tenant", "default", username, "--display-name", "SPA User",
                   "--password", PASSWORD)
        app.config = dict(issuer=issuer, client_id=client["client_id"], redirect_uri=redirect)
        chromium.get(app.origin + "/start")
        WebDriverWait(chromium, 30).until(lambda d: d.find_elements(By.ID, "username"))
        chromium.find_element(By.ID, "username").send_keys(username)
        chromium.find_element(By.ID, "password").send_keys(PASSWORD)
        chromium.find_element(By.ID, "submit").click()
        WebDriverWait(chromium, 20).until(lambda d: d.find_elements(By.ID, "allow") or d.current_url.startswith(redirect))
        if chromium.find_elements(By.ID, "allow"):
            chromium.find_element(By.ID, "allow").click()
        WebDriverWait(chromium, 20).until(lambda d: d.current_url.startswith(redirect))
        done = result(chromium)
        os.makedirs(ARTIFACTS, exist_ok=True)
        chromium.save_screenshot(os.path.join(ARTIFACTS, "spa-callback.png"))
        assert done["discovery"]["keys"] >= 1 and done["discovery"]["token_endpoint"] == issuer + "/oauth2/token", done
        assert done["redeemed"]["status"] == 200 and done["redeemed"]["body"]["id_token"], done
        assert done["refreshed"]["status"] == 200 and done["refreshed"]["body"]["refresh_token"], done
        assert done["userinfo"]["status"] == 200 and done["userinfo"]["body"]["preferred_username"] == username, done

        # The same page from an origin the client did not register: metadata yes, tokens no.
        tokens = done["refreshed"]["body"]
        stranger.config = dict(app.config, refresh_token=tokens["refresh_token"], access_token=tokens["access_token"])
        chromium.get(stranger.origin + "/elsewhere")
        blocked = result(chromium)
        chromium.save_screenshot(os.path.join(ARTIFACTS, "spa-other-origin.png"))
        assert blocked["discovery"] == 200, blocked
        assert blocked["refreshed"].startswith("blocked: TypeError"), blocked
        assert blocked["userinfo"].startswith("blocked: TypeError"), blocked
    finally:
        app.close()
        stranger.close()
