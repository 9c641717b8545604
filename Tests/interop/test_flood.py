"""Second probe, finding 1: failure records without a size cap filled the disk. 300 anonymous
requests whose identifiers (tenant segment, client ID, username, redirect URI, scope, grant type,
user agent) are 60 KB each add less than 1 MB to database + WAL + log together, and the server
still finds a failure by its trace ID."""
import json
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import requests

BIG = 60_000


def disk(server):
    """Bytes of the database, its WAL and the server's log, after a checkpoint has moved what the
    WAL holds into the database (the WAL file itself is reused, and SQLite checkpoints it at about
    4 MB whatever is written: its size says how often the server wrote, not how much it keeps)."""
    server.log.flush()
    with sqlite3.connect(server.database, timeout=30) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = [server.database, server.database + "-wal", server.log.name]
    return [os.path.getsize(path) if os.path.exists(path) else 0 for path in files]


def big(tag, index):
    # Each request's values differ, so nothing can be counted as a repeat of an earlier one.
    return (f"{tag}{index:04d}" * (BIG // 8))[:BIG]


def test_300_requests_with_60_kb_identifiers_add_less_than_1_mb(fresh_server):
    base = fresh_server.base
    # Warm up: the schema, the first whole rows of each kind and the first WAL pages are not the flood's.
    requests.get(f"{base}/default/oauth2/authorize?client_id=warm-up", timeout=10)
    requests.post(f"{base}/default/oauth2/token", data={"grant_type": "client_credentials", "client_id": "warm"}, timeout=10)
    time.sleep(1.5)
    before = disk(fresh_server)

    def flood(index):
        # What fits: a request head holds at most 80 KB (SwiftNIO's limit) and a token request's
        # body 16 KB (Gatehouse's), so a 60 KB value rides in the URL or a header, and the rest is
        # as large as still fits.
        kind = index % 7
        agent = {"User-Agent": big("ua", index)[: BIG if kind in (2, 3) else 5_000]}
        token = f"{base}/default/oauth2/token"
        if kind == 0:
            return requests.get(f"{base}/default/oauth2/authorize", params={"client_id": big("c", index)}, headers=agent, timeout=30)
        if kind == 1:
            return requests.get(f"{base}/{big('t', index)}/oauth2/authorize", params={"client_id": "x"}, headers=agent, timeout=30)
        if kind == 2:
            return requests.post(token, timeout=30, headers=agent, data={
                "grant_type": "password", "client_id": big("c", index)[:7_000], "username": big("u", index)[:7_000],
                "password": "x"})
        if kind == 3:
            return requests.post(token, timeout=30, headers=agent, data={"grant_type": big("g", index)[:15_000], "client_id": "svc"})
        if kind == 4:
            return requests.get(f"{base}/default/oauth2/authorize", headers=agent, timeout=30, params={
                "client_id": big("c", index)[:200], "redirect_uri": "https://x.example/" + big("r", index)[:30_000],
                "scope": big("s", index)[:30_000], "response_type": "code"})
        if kind == 5:
            return requests.post(f"{base}/{big('t', index)}/oauth2/token", timeout=30, headers=agent, data={
                "grant_type": "client_credentials", "client_id": big("c", index)[:10_000], "client_secret": "not-a-secret"})
        return requests.post(token, timeout=30, headers=agent, auth=(big("c", index), "not-a-secret"),
                             data={"grant_type": "client_credentials"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(flood, range(300)))
    statuses = {r.status_code for r in responses}
    assert statuses <= {400, 401, 404}, statuses
    # Every one reached Gatehouse (has its trace ID), and the sign-in log can answer for it.
    traced = [r.headers.get("X-Trace-Id") for r in responses]
    assert all(traced), [r.status_code for r in responses if not r.headers.get("X-Trace-Id")][:5]
    time.sleep(1.5)
    after = disk(fresh_server)
    grown = sum(after) - sum(before)
    print(f"flood: {grown} bytes added to database + WAL + log ({before} -> {after})")
    assert grown < 1_000_000, f"the flood added {grown} bytes to database + WAL + log: {before} -> {after}"

    found = fresh_server.cli("signins", "--trace-id", traced[-1], check=False)
    assert found.returncode == 0 and ("aggregate" in found.stdout.lower() or traced[-1] in found.stdout), found.stdout
    # What was kept whole is cut: no stored value comes near the 60 KB that was sent.
    events = json.loads(fresh_server.cli("signins", "--limit", "1000", "--json").stdout)
    assert events
    longest = max(len(str(value)) for event in events for value in event.values())
    assert longest <= 600, longest
    assert {event["tenant"] for event in events} <= {"default", "(unknown)"}
