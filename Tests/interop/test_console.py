"""The console in a real headless Chromium (Selenium) with JavaScript turned off: an operator signs in
through Gatehouse's own sign-in page, creates a client, causes three failed token requests with it,
sees them in the chart and the table, finds one by pasting its whole error JSON into the search box,
opens its record and its troubleshooting page with "your request". Screenshots of the sign-in log, a
failure's record, a client page and the troubleshooting page are saved as test artifacts."""
import json
import os
import re
import secrets
import time
import urllib.parse

import pytest
import requests

PASSWORD = "correct horse battery"
ARTIFACTS = os.environ.get("GATEHOUSE_ARTIFACTS", os.path.join(os.getcwd(), "test-artifacts"))


@pytest.fixture()
def driver():
    browser = new_driver()
    yield browser
    browser.quit()


def new_driver():
    """Headless Chromium with JavaScript off (every page must work without it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    assert os.path.exists(driver_path), "chromium-driver is not installed (.ci/run installs Debian's chromium and chromium-driver)"
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1800"):
        options.add_argument(argument)
    # Every page must work without JavaScript: the whole test runs with it off.
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    os.makedirs(ARTIFACTS, exist_ok=True)
    return browser


def wait(driver, condition):
    """Waits for a condition on the page; while a page is being replaced (a form sent, a link
    followed), reading it can fail in several ways (a stale element, a node no longer in the
    document): the condition is tried again until the timeout."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, 20, ignored_exceptions=(WebDriverException,)).until(condition)


def assert_accessible(driver):
    """Every visible form field has a label (a label[for] or an enclosing label); no script on the page."""
    from selenium.webdriver.common.by import By
    for element in driver.find_elements(By.CSS_SELECTOR, "input, select, textarea"):
        if element.get_attribute("type") in ("hidden", "submit") or not element.is_displayed():
            continue
        ident = element.get_attribute("id")
        labelled = bool(ident and driver.find_elements(By.CSS_SELECTOR, f"label[for='{ident}']"))
        wrapped = bool(element.find_elements(By.XPATH, "ancestor::label"))
        assert labelled or wrapped, f"unlabelled field {element.get_attribute('name')} on {driver.current_url}"
    assert "<script" not in driver.page_source


def test_console_in_a_browser(server, driver):
    from selenium.webdriver.common.by import By

    operator = "op" + secrets.token_hex(3)
    server.cli("users", "create", "--tenant", "default", operator, "--display-name", "Console Operator", "--password", PASSWORD)
    server.cli("users", "assign-role", "--tenant", "default", operator, "--api", "gatehouse-admin", "--role", "Admin.Write")
    console = server.base + "/default/console"

    # Sign in: the console sends the browser to Gatehouse's own sign-in page (code flow with PKCE).
    driver.get(console)
    wait(driver, lambda d: d.find_elements(By.ID, "username"))
    assert "/default/oauth2/authorize" in driver.current_url and "code_challenge_method=S256" in driver.current_url
    driver.find_element(By.ID, "username").send_keys(operator)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "submit").click()
    wait(driver, lambda d: "/console/tenants/default/signins" in d.current_url)
    assert_accessible(driver)
    cookie = driver.get_cookie("gatehouse_console")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # Create a client through the form; its secret is shown once.
    driver.get(console + "/tenants/default/clients")
    assert_accessible(driver)
    name = "Console app " + secrets.token_hex(2)
    driver.find_element(By.ID, "new-name").send_keys(name)
    driver.find_element(By.ID, "new-scopes").send_keys("api.read")
    driver.find_element(By.ID, "create").click()
    wait(driver, lambda d: d.find_elements(By.ID, "secret-value"))
    secret = driver.find_element(By.ID, "secret-value").get_attribute("value")
    client_link = [a for a in driver.find_elements(By.TAG_NAME, "a") if "/clients/" in (a.get_attribute("href") or "")][0]
    client_url = client_link.get_attribute("href")
    client_id = urllib.parse.unquote(client_url.rsplit("/", 1)[1])
    assert len(secret) >= 40 and client_id

    # Three failed token requests with it: a wrong secret, an unknown scope, a grant it does not have.
    token = server.base + "/default/oauth2/token"
    failures = [
        requests.post(token, data={"grant_type": "client_credentials"}, auth=(client_id, "wrong-" + secret[:10]), timeout=10),
        requests.post(token, data={"grant_type": "client_credentials", "scope": "no.such.scope"}, auth=(client_id, secret), timeout=10),
        requests.post(token, data={"grant_type": "authorization_code", "code": "made-up", "redirect_uri": "https://x.example/cb"},
                      auth=(client_id, secret), timeout=10),
    ]
    bodies = [f.json() for f in failures]
    codes = [b["error_codes"][0] for b in bodies]
    assert all(f.status_code in (400, 401) for f in failures) and len(set(codes)) == 3, bodies
    assert all(f"trace_id={b['trace_id']}" in b["error_uri"] for b in bodies)

    # The chart and the table show the three codes (the log is written every few seconds).
    log = console + "/tenants/default/signins?period=hour&client=" + urllib.parse.quote(client_id)
    deadline = time.time() + 20
    while True:
        driver.get(log)
        table = driver.find_element(By.ID, "signins").text
        if all(b["trace_id"] in table for b in bodies) or time.time() > deadline:
            break
        time.sleep(0.5)
    assert all(b["trace_id"] in table for b in bodies), table
    chart = driver.find_element(By.ID, "chart")
    assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-labelledby")
    # The chart's text alternative: a table with the same numbers as the bars.
    bars = {}
    for title in driver.find_elements(By.CSS_SELECTOR, "#chart rect title"):
        text = title.get_attribute("textContent")
        match = re.search(r": (\d+) .* × (\d+)$", text)
        if match:
            bars[int(match.group(1))] = bars.get(int(match.group(1)), 0) + int(match.group(2))
    assert {code: 1 for code in codes} == bars, bars
    headers = [th.get_attribute("textContent") for th in driver.find_elements(By.CSS_SELECTOR, "#chart-table thead th")]
    columns = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "#chart-table tbody tr"):
        cells = [td.get_attribute("textContent") for td in row.find_elements(By.TAG_NAME, "td")]
        for header, cell in zip(headers[1:], cells):
            columns[header] = columns.get(header, 0) + int(cell)
    assert all(columns.get(str(code)) == 1 for code in codes), columns
    assert_accessible(driver)
    driver.save_screenshot(os.path.join(ARTIFACTS, "console-signin-log.png"))

    # Paste the whole error JSON of the wrong-secret failure into the search box.
    driver.get(console + "/tenants/default/signins")
    driver.find_element(By.ID, "q").send_keys(json.dumps(bodies[0], indent=2))
    driver.find_element(By.ID, "search").click()
    wait(driver, lambda d: "q=" in d.current_url)
    wait(driver, lambda d: "Records found" in d.find_element(By.TAG_NAME, "main").text)
    driver.find_element(By.CSS_SELECTOR, f"a[href$='/signins/{bodies[0]['trace_id']}']").click()
    wait(driver, lambda d: bodies[0]["trace_id"] in d.find_element(By.TAG_NAME, "h1").text)
    record = driver.find_element(By.TAG_NAME, "main").text
    assert str(codes[0]) in record and "Client authentication" in record and bodies[0]["correlation_id"] in record
    assert_accessible(driver)
    driver.save_screenshot(os.path.join(ARTIFACTS, "console-failure-record.png"))

    # Its troubleshooting page, with "your request" and, for this operator, the way back to the record.
    driver.find_element(By.ID, "troubleshooting").click()
    wait(driver, lambda d: d.find_elements(By.ID, "your-request"))
    section = driver.find_element(By.ID, "request").text
    assert bodies[0]["trace_id"] in section and client_id in section and str(codes[0]) in section, section
    assert driver.find_elements(By.ID, "open-in-console")
    driver.save_screenshot(os.path.join(ARTIFACTS, "troubleshooting-your-request.png"))

    # The client's page.
    driver.get(client_url)
    assert client_id in driver.find_element(By.TAG_NAME, "main").text and secret not in driver.page_source
    assert_accessible(driver)
    driver.save_screenshot(os.path.join(ARTIFACTS, "console-client.png"))
    for shot in ("console-signin-log.png", "console-failure-record.png", "console-client.png", "troubleshooting-your-request.png"):
        assert os.path.getsize(os.path.join(ARTIFACTS, shot)) > 5000

