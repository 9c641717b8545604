"""Keys at rest with the real binary: a first start makes a key-encryption key beside the database
(0600, with a warning); the database file holds the signing key, the secret-hashing key and TOTP
seeds only sealed; a wrong KEK stops start-up with the KEK the database needs; `keys rewrap`
moves everything to a new KEK."""
import base64
import hashlib
import os
import sqlite3
import stat
import subprocess

import requests

import conftest


def kek_id(path):
    return "kek-" + hashlib.sha256(base64.b64decode(open(path).read().strip())).hexdigest()[:16]


def stored_secrets(database):
    with sqlite3.connect(database) as db:
        return ([row[0] for row in db.execute("SELECT private_key FROM signing_keys")]
                + [row[0] for row in db.execute("SELECT value FROM settings")]
                + [row[0] for row in db.execute("SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL")])


def start_fails(server, **env):
    result = subprocess.run([conftest.BIN, "serve", "--database", server.database, "--port", str(conftest.free_port())],
                            env=dict(os.environ, **env), capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


def test_keys_are_sealed_at_rest_and_need_their_kek(unstarted_server, tmp_path):
    server = unstarted_server
    server.start()
    kek_file = os.path.join(server.workdir, "kek")
    assert stat.S_IMODE(os.stat(kek_file).st_mode) == 0o600
    assert "made a key-encryption key" in open(server.log.name).read()
    server.cli("users", "create", "--tenant", "default", "dana", "--password", "a long password 1")
    server.cli("users", "enroll-totp", "--tenant", "default", "dana")
    client = server.cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
    token = requests.post(f"{server.base}/default/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(client["client_id"], client["client_secret"]), timeout=10)
    assert token.status_code == 200
    secrets = stored_secrets(server.database)
    assert len(secrets) >= 2
    needed = kek_id(kek_file)
    assert all(value.startswith(f"gh-kek1:{needed}:") for value in secrets), secrets
    assert not any("BEGIN" in value for value in secrets)
    assert server.stop() == 0

    # A different KEK, or a missing file, stops start-up and names the KEK the database needs.
    other = base64.b64encode(os.urandom(32)).decode()
    code, output = start_fails(server, GATEHOUSE_KEK=other)
    assert code != 0 and needed in output, output
    code, output = start_fails(server, GATEHOUSE_KEK_FILE=str(tmp_path / "missing.kek"))
    assert code != 0 and "does not exist" in output, output
    # The KEK file gone: start-up names the KEK it needs and leaves no new key behind.
    os.replace(kek_file, tmp_path / "kept.kek")
    code, output = start_fails(server)
    assert code != 0 and needed in output and not os.path.exists(kek_file), output
    os.replace(tmp_path / "kept.kek", kek_file)

    # Rewrap to a new file; the new key opens the database, the old one no longer does.
    new_file = tmp_path / "new.kek"
    result = server.cli("keys", "rewrap", "--to-file", str(new_file))
    assert "Re-encrypted" in result.stdout and stat.S_IMODE(os.stat(new_file).st_mode) == 0o600
    new_id = kek_id(new_file)
    assert all(value.startswith(f"gh-kek1:{new_id}:") for value in stored_secrets(server.database))
    code, output = start_fails(server)
    assert code != 0 and new_id in output, output
    os.replace(new_file, kek_file)
    server.start()
    again = requests.post(f"{server.base}/default/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(client["client_id"], client["client_secret"]), timeout=10)
    assert again.status_code == 200
    assert server.cli("keys", "list", "--tenant", "default").stdout.count("active") == 1


def test_a_kek_file_others_can_read_is_reported_at_start_up(unstarted_server):
    """Like the database files: a kek file made 0644 is named with the chmod that fixes it."""
    server = unstarted_server
    server.start()
    server.stop()
    kek_file = os.path.join(server.workdir, "kek")
    os.chmod(kek_file, 0o644)
    result = subprocess.run([conftest.BIN, "tenants", "list", "--database", server.database], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"'{kek_file}' is mode 644" in result.stderr and f"chmod 600 '{kek_file}'" in result.stderr, result.stderr
    server.start()
    server.stop()
    assert f"chmod 600 '{kek_file}'" in open(server.log.name).read()
