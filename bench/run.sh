#!/usr/bin/env bash
# Benchmark: client_credentials tokens/s and latency at 32 connections against a release build,
# sign-in log on (SQLite). Usage: bench/run.sh [duration, default 20s]. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-20s}"
PORT=8181
WORK=$(mktemp -d)
BIN=.build/release/gatehouse
[ -x "$BIN" ] || swift build -c release --product gatehouse
DB="$WORK/bench.sqlite"
"$BIN" init --database "$DB" >/dev/null
"$BIN" tenants create rsa --algorithm RS256 --database "$DB" >/dev/null
GATEHOUSE_LOG_LEVEL=warning "$BIN" serve --database "$DB" --port $PORT > "$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.2; done
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$PID/status; }
echo "idle RSS: $(rss)"
for tenant in default rsa; do
  CREDS=$("$BIN" clients create --tenant $tenant --name bench --scope api.read --database "$DB" --json)
  export CLIENT_ID=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
  export CLIENT_SECRET=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
  sleep 0.3
  echo "== tenant $tenant =="
  wrk -t2 -c32 -d5s -s bench/token.lua "http://127.0.0.1:$PORT/$tenant/oauth2/token" > /dev/null   # warm-up
  ( sleep 10; echo "RSS under load: $(rss)" ) &
  SAMPLER=$!
  wrk -t2 -c32 -d"$DURATION" --latency -s bench/token.lua "http://127.0.0.1:$PORT/$tenant/oauth2/token"
  wait $SAMPLER
done
sleep 1
echo "RSS after load: $(rss)"
kill -TERM $PID; wait $PID || true
echo "sign-in events written: $("$BIN" signins --database "$DB" --limit 10000 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') (query capped at 10000)"
echo "sign-in rows: $(python3 -c "import sqlite3; print(sqlite3.connect('$DB').execute('select result, count(*) from sign_ins group by result').fetchall())")"
