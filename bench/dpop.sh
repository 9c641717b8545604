#!/usr/bin/env bash
# client_credentials with and without DPoP on one Gatehouse (release build, default configuration:
# metrics on, a text line per request), beside the bare signing endpoint, in one run (wrk -t2 -c32,
# 127.0.0.1 only, every run bounded). With DPoP every request carries a fresh ES256 proof (made
# beforehand by bench/dpop_proofs.py, each sent once): one more signature verification and one
# replay-table insert per token.
# Usage: bench/dpop.sh CEILING_BIN [duration, default 10s] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
CEILING=${1:?bare signing endpoint binary}
DURATION=${2:-10s}
ROUNDS=${3:-3}
BIN=${GATEHOUSE_BIN:-.build/release/gatehouse}
PYTHON=${PYTHON:-.venv/bin/python}
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
export GATEHOUSE_PASSWORD_HASH_COST=4
"$CEILING" 18190 > "$WORK/ceiling.log" 2>&1 &
PIDS+=($!)
db="$WORK/gh.sqlite"
"$BIN" init --database "$db" >/dev/null 2>&1
GATEHOUSE_LOG_LEVEL=info "$BIN" serve --database "$db" --port 8295 > "$WORK/gh.log" 2>&1 &
PIDS+=($!)
until curl -sf http://127.0.0.1:8295/health >/dev/null; do sleep 0.2; done
creds=$("$BIN" clients create --tenant default --name bench --scope api.read --database "$db" --json 2>/dev/null)
export CLIENT_ID=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
export CLIENT_SECRET=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
until curl -sf http://127.0.0.1:18190/token -X POST >/dev/null; do sleep 0.2; done
URL=http://127.0.0.1:8295/default/oauth2/token
# rps p99_ms non2xx of a wrk run's output
parse() { awk '/Requests\/sec/ {r=$2} /99%/ {p=$2} /Non-2xx/ {n=$5} END {printf "%s %s %s\n", r, p, (n==""?0:n)}'; }
wrk -t2 -c32 -d3s -s bench/token.lua "$URL" >/dev/null 2>&1 || true
echo "client_credentials, 32 connections, $DURATION each: requests/s (p99); ratios to the bare endpoint"
for round in $(seq 1 "$ROUNDS"); do
  read -r cr cp cn < <(wrk -t2 -c32 -d"$DURATION" --latency -s bench/token.lua http://127.0.0.1:18190/token 2>/dev/null | parse) || true
  read -r br bp bn < <(wrk -t2 -c32 -d"$DURATION" --latency -s bench/token.lua "$URL" | parse)
  "$PYTHON" bench/dpop_proofs.py "$URL" 120000 > "$WORK/proofs"
  read -r dr dp dn < <(PROOFS_FILE="$WORK/proofs" wrk -t2 -c32 -d"$DURATION" --latency -s bench/dpop.lua "$URL" | parse)
  echo "round $round: ceiling $cr ($cp) | bearer $br ($bp, non-2xx $bn) $(python3 -c "print(f'{$br/$cr:.2f}')")x" \
    "| dpop $dr ($dp, non-2xx $dn) $(python3 -c "print(f'{$dr/$cr:.2f}')")x | dpop/bearer $(python3 -c "print(f'{$dr/$br:.2f}')")"
done
