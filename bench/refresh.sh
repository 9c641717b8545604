#!/usr/bin/env bash
# Benchmark: refresh_token grant (rotation: one conditional UPDATE + one INSERT per request, the
# sign-in event batched) against a release build on SQLite, wrk -t2 -c32 on the same 2 cores.
# Usage: bench/refresh.sh [duration, default 20s]. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-20s}"
PORT=${PORT:-8182}
WORK=$(mktemp -d)
BIN=${GATEHOUSE_BIN:-.build/release/gatehouse}
[ -x "$BIN" ] || swift build -c release --product gatehouse
DB=${GATEHOUSE_BENCH_DATABASE:-$WORK/bench.sqlite}   # or a postgres:// URL of an empty database
export GATEHOUSE_PASSWORD_HASH_COST=4
"$BIN" init --database "$DB" >/dev/null
GATEHOUSE_LOG_LEVEL=warning "$BIN" serve --database "$DB" --port $PORT > "$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.2; done
CREDS=$("$BIN" clients create --tenant default --name bench --redirect-uri http://127.0.0.1:1/cb --database "$DB" --json)
export CLIENT_ID=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
export CLIENT_SECRET=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
"$BIN" users create --tenant default --username bench --password "bench password" --database "$DB" >/dev/null
sleep 5.5   # client cache TTL
export TOKENS_FILE="$WORK/tokens.txt"
python3 bench/refresh_seed.py "http://127.0.0.1:$PORT/default" "$CLIENT_ID" "$CLIENT_SECRET" http://127.0.0.1:1/cb bench "bench password" 128 > "$TOKENS_FILE"
echo "seeded $(wc -l < "$TOKENS_FILE") grants"
wrk -t2 -c32 -d5s -s bench/refresh.lua "http://127.0.0.1:$PORT/default/oauth2/token"   # warm-up (the pool carries on)
python3 bench/refresh_seed.py "http://127.0.0.1:$PORT/default" "$CLIENT_ID" "$CLIENT_SECRET" http://127.0.0.1:1/cb bench "bench password" 128 > "$TOKENS_FILE"
wrk -t2 -c32 -d"$DURATION" --latency -s bench/refresh.lua "http://127.0.0.1:$PORT/default/oauth2/token"
kill -TERM $PID; wait $PID || true
case "$DB" in postgres*://*) exit 0 ;; esac   # the counts below read the SQLite file
echo "grants: $(python3 -c "import sqlite3; c=sqlite3.connect('$DB'); print(c.execute('select count(*), sum(generation), sum(revoked_at is not null) from grants').fetchone(), 'refresh rows', c.execute('select count(*) from refresh_tokens').fetchone()[0])")"
echo "sign-in rows: $(python3 -c "import sqlite3; print(sqlite3.connect('$DB').execute('select grant_type, result, count(*) from sign_ins group by 1,2').fetchall())")"
