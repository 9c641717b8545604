"""What got in a newcomer's way in the first hour, proven fixed against the real binary."""

import base64
import urllib.parse

import requests


def test_totp_enrolment_prints_the_setup_key_an_authenticator_takes(server):
    server.cli("users", "create", "--tenant", "default", "--username", "totp-newcomer", "--password", "correct horse battery")
    enrolled = server.cli_json("users", "enroll-totp", "--tenant", "default", "totp-newcomer")
    url_secret = urllib.parse.parse_qs(urllib.parse.urlparse(enrolled["otpauth_url"]).query)["secret"][0]
    assert enrolled["setup_key"] == url_secret
    assert enrolled["setup_key"] == base64.b32encode(enrolled["secret"].encode()).decode().rstrip("=")
    text = server.cli("users", "enroll-totp", "--tenant", "default", "totp-newcomer").stdout
    assert "Setup key (base32" in text and "raw" not in text


def test_a_locked_user_is_unlocked_from_the_cli(server):
    server.cli("users", "create", "--tenant", "default", "--username", "locked-newcomer", "--password", "correct horse battery")
    made = server.cli_json("clients", "create", "--tenant", "default", "--name", "pw", "--grant", "password", "--scope", "openid")
    token_url = f"{server.base}/default/oauth2/token"

    def sign_in(password):
        return requests.post(token_url, auth=(made["client_id"], made["client_secret"]), timeout=10, data={
            "grant_type": "password", "username": "locked-newcomer", "password": password, "scope": "openid"}).json()

    codes = [sign_in("wrong")["error_codes"][0] for _ in range(5)]
    assert codes[-1] == 50053, codes
    assert sign_in("correct horse battery")["error_codes"] == [50053]
    assert "unlocked" in server.cli("users", "unlock", "--tenant", "default", "locked-newcomer").stdout
    assert "access_token" in sign_in("correct horse battery")
    refused = server.cli("signins", "--user", "locked-newcomer", check=False)
    assert refused.returncode != 0 and "--user needs --tenant" in refused.stderr
    found = server.cli("signins", "--tenant", "default", "--user", "locked-newcomer", "--json")
    assert found.returncode == 0
