#!/usr/bin/env python3
"""Bytes the sign-in tables take per successful token: bench/signin_bytes.py DB.

Reads SQLite's dbstat (pages of every sign-in table and index, WAL included as the connection sees
it) after the server was stopped with SIGTERM (its final flush). Tokens are the successes counted
in sign_in_aggregates, or the whole success rows where nothing is aggregated (the old schema).
"""
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1])
names = [row[0] for row in db.execute(
    "SELECT name FROM sqlite_master WHERE (type = 'table' AND name LIKE 'sign_in%') "
    "OR (type = 'index' AND tbl_name LIKE 'sign_in%')")]
sizes = {name: size for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name") if name in names}
whole = db.execute("SELECT COUNT(*) FROM sign_ins WHERE result = 'success'").fetchone()[0]
try:
    counted = db.execute("SELECT COALESCE(SUM(count), 0), COUNT(*) FROM sign_in_aggregates WHERE result = 'success'").fetchone()
except sqlite3.OperationalError:
    counted = (0, 0)
tokens = counted[0] or whole
total = sum(sizes.values())
print(f"tokens={tokens} whole_success_rows={whole} aggregate_rows={counted[1]} sign_in_bytes={total} "
      f"bytes_per_token={total / max(tokens, 1):.3f}")
for name in sorted(sizes):
    print(f"  {name}: {sizes[name]}")
