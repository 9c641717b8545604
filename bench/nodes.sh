#!/usr/bin/env bash
# Benchmark, side by side in one run (release build, wrk, 127.0.0.1 only):
#   1. client_credentials on one node against two nodes on one PostgreSQL database (the two nodes
#      share the 32 connections, 16 each, and the same two cores);
#   2. Gatehouse against the authlib peer (Authlib + Flask + gunicorn, SQLite), both ES256, same
#      load settings, back to back.
# Usage: bench/nodes.sh POSTGRES_ADMIN_URL PEERS_DIR [duration, default 10s] [rounds, default 3]
#   PEERS_DIR holds authlib/start.sh and stop.sh (the peers folder this project benchmarks against).
set -euo pipefail
cd "$(dirname "$0")/.."
ADMIN=${1:?postgres admin URL}
PEERS=${2:?peers folder}
DURATION=${3:-10s}
ROUNDS=${4:-3}
BIN=${GATEHOUSE_BIN:-.build/release/gatehouse}
WORK=$(mktemp -d)
NAME=gh_bench_nodes
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" -c "CREATE DATABASE $NAME" >/dev/null 2>&1
DB="${ADMIN%/*}/$NAME?sslmode=disable"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null; done; rm -rf "$WORK"' EXIT
"$BIN" init --database "$DB" >/dev/null
for port in 8281 8282; do
  GATEHOUSE_LOG_LEVEL=warning "$BIN" serve --database "$DB" --port $port > "$WORK/$port.log" 2>&1 &
  PIDS+=($!)
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.2; done
done
CREDS=$("$BIN" clients create --tenant default --name bench --scope api.read --database "$DB" --json)
export CLIENT_ID=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
export CLIENT_SECRET=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
sleep 1
rate() { awk '/Requests\/sec/ {print $2}'; }
for port in 8281 8282; do wrk -t2 -c32 -d5s -s bench/token.lua "http://127.0.0.1:$port/default/oauth2/token" >/dev/null; done
echo "client_credentials on PostgreSQL: round, one node (32 connections), two nodes (16 + 16), ratio"
for round in $(seq 1 "$ROUNDS"); do
  one=$(wrk -t2 -c32 -d"$DURATION" -s bench/token.lua "http://127.0.0.1:8281/default/oauth2/token" | rate)
  wrk -t1 -c16 -d"$DURATION" -s bench/token.lua "http://127.0.0.1:8281/default/oauth2/token" | rate > "$WORK/a" &
  first=$!
  wrk -t1 -c16 -d"$DURATION" -s bench/token.lua "http://127.0.0.1:8282/default/oauth2/token" | rate > "$WORK/b" &
  second=$!
  wait $first $second
  two=$(python3 -c "print(round($(cat "$WORK/a") + $(cat "$WORK/b"), 2))")
  echo "$round $one $two $(python3 -c "print(round($two / $one, 2))")"
done
for p in "${PIDS[@]}"; do kill -TERM $p; wait $p 2>/dev/null || true; done
PIDS=()

# Gatehouse (one node, SQLite) against the authlib peer, back to back, same wrk settings.
DB2="$WORK/peer.sqlite"
"$BIN" init --database "$DB2" >/dev/null
GATEHOUSE_LOG_LEVEL=warning "$BIN" serve --database "$DB2" --port 8283 > "$WORK/8283.log" 2>&1 &
PIDS+=($!)
until curl -sf "http://127.0.0.1:8283/health" >/dev/null; do sleep 0.2; done
CREDS=$("$BIN" clients create --tenant default --name bench --scope api.read --database "$DB2" --json)
ID=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
SECRET=$(echo "$CREDS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
"$PEERS/authlib/start.sh" >/dev/null
sleep 1
summary() { grep -oE 'rps=[0-9.]+ p50_ms=[0-9.]+ p99_ms=[0-9.]+ errors=[0-9]+' ; }
echo "client_credentials, ES256: round, Gatehouse (SQLite) summary | authlib peer (bench-fast) summary"
for round in $(seq 1 "$ROUNDS"); do
  g=$(SCOPE=api.read "$PEERS/run-token.sh" 8283 /default/oauth2/token "$ID" "$SECRET" "$DURATION" 32 2 2>/dev/null | summary)
  a=$(SCOPE=api "$PEERS/run-token.sh" 9102 /es256/oauth/token bench-fast bench-secret "$DURATION" 32 2 2>/dev/null | summary)
  gr=${g#rps=}; gr=${gr%% *}; ar=${a#rps=}; ar=${ar%% *}
  echo "$round $g | $a | ratio $(python3 -c "print(round($gr / $ar, 1))")"
done
"$PEERS/authlib/stop.sh" >/dev/null
