#!/usr/bin/env bash
# Benchmark: PostgreSQL against SQLite, side by side in one run, against a release build.
# client_credentials (wrk -t2 -c32, 5 s warm-up, ROUNDS alternating rounds of DURATION, RSS sampled
# 6 s into each), then refresh rotation (bench/refresh.sh, alternating rounds).
# Usage: bench/backends.sh POSTGRES_ADMIN_URL [duration, default 10s] [rounds, default 3]
#   POSTGRES_ADMIN_URL: a server where databases may be created, e.g. postgres://postgres@127.0.0.1:55450/postgres
# Needs wrk and psql.
set -euo pipefail
cd "$(dirname "$0")/.."
ADMIN=${1:?postgres admin URL}
DURATION=${2:-10s}
ROUNDS=${3:-3}
BIN=${GATEHOUSE_BIN:-.build/release/gatehouse}
[ -x "$BIN" ] || swift build -c release --product gatehouse
WORK=$(mktemp -d)
fresh_pg() {  # an empty database on the server; prints its URL
  local name="gh_bench_$1"
  psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null 2>&1
  echo "${ADMIN%/*}/$name?sslmode=disable"
}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null; done; rm -rf "$WORK"' EXIT
start() {  # name database port
  "$BIN" init --database "$2" >/dev/null
  GATEHOUSE_LOG_LEVEL=warning "$BIN" serve --database "$2" --port "$3" > "$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$1=$!"
  until curl -sf "http://127.0.0.1:$3/health" >/dev/null; do sleep 0.2; done
  local creds
  creds=$("$BIN" clients create --tenant default --name bench --scope api.read --database "$2" --json)
  eval "ID_$1=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')"
  eval "SECRET_$1=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')"
}
rss() { awk '/VmRSS/ {print $2}' /proc/$1/status; }
start sqlite "$WORK/bench.sqlite" 8191
start postgres "$(fresh_pg cc)" 8192
echo "idle RSS kB: sqlite $(rss $PID_sqlite), postgres $(rss $PID_postgres)"
sleep 1
cc() {  # name port
  local id secret pid
  eval "id=\$ID_$1; secret=\$SECRET_$1; pid=\$PID_$1"
  CLIENT_ID=$id CLIENT_SECRET=$secret wrk -t2 -c32 -d5s -s bench/token.lua "http://127.0.0.1:$2/default/oauth2/token" >/dev/null
  ( sleep 6; echo "rss=$(rss $pid)" > "$WORK/rss" ) &
  local sampler=$!
  local rate
  rate=$(CLIENT_ID=$id CLIENT_SECRET=$secret wrk -t2 -c32 -d"$DURATION" --latency -s bench/token.lua \
    "http://127.0.0.1:$2/default/oauth2/token" | awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "ERRORS " $0}')
  wait $sampler
  echo "$rate $(cat "$WORK/rss")"
}
echo "client_credentials: round, SQLite tokens/s, PostgreSQL tokens/s, ratio, RSS kB SQLite / PostgreSQL"
for round in $(seq 1 "$ROUNDS"); do
  read -r s srss < <(cc sqlite 8191)
  read -r p prss < <(cc postgres 8192)
  echo "$round $s $p $(python3 -c "print(round($p/$s, 2))") ${srss#rss=} / ${prss#rss=}"
done
for p in "${PIDS[@]}"; do kill -TERM $p; wait $p 2>/dev/null || true; done
PIDS=()
echo "refresh: round, SQLite rotations/s, PostgreSQL rotations/s, ratio, p99 SQLite / PostgreSQL"
for round in $(seq 1 "$ROUNDS"); do
  s=$( (PORT=8193 bench/refresh.sh "$DURATION" 2>&1 < /dev/null || true) | awk '/Requests\/sec/ {r=$2} / 99%/ {l=$2} END {print r, l}')
  p=$( (GATEHOUSE_BENCH_DATABASE="$(fresh_pg refresh)" PORT=8194 bench/refresh.sh "$DURATION" 2>&1 < /dev/null || true) | awk '/Requests\/sec/ {r=$2} / 99%/ {l=$2} END {print r, l}')
  read -r sr sl <<< "$s"
  read -r pr pl <<< "$p"
  echo "$round $sr $pr $(python3 -c "print(round($pr/$sr, 2))") $sl / $pl"
done
