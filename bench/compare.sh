#!/usr/bin/env bash
# Side by side in one run (release build, wrk, 127.0.0.1 only, every run bounded):
#   client_credentials (ES256) on the bare signing endpoint (a Hummingbird route that only signs one
#   ES256 JWT with jwt-kit: the ceiling), on Gatehouse in four configurations, and on the authlib
#   peer; then refresh_token (rotating) on Gatehouse and on the authlib peer.
#   Gatehouse configurations, each on its own SQLite database, log to a file:
#     default    metrics on, text log at its default level (info: one line per request)
#     json       metrics on, --log-format json (info)
#     quiet      metrics on, --log-level warning (no request lines)
#     bare       metrics off (GATEHOUSE_METRICS=off), --log-level warning
# Usage: bench/compare.sh PEERS_DIR CEILING_BIN [duration, default 10s] [rounds, default 3]
#   PEERS_DIR holds authlib/start.sh, stop.sh and run-token.sh; CEILING_BIN is the built bare
#   endpoint (it takes its port as its argument). Prints one line per round with requests/s, p99
#   and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${1:?peers folder}
CEILING=${2:?bare signing endpoint binary}
DURATION=${3:-10s}
ROUNDS=${4:-3}
BIN=${GATEHOUSE_BIN:-.build/release/gatehouse}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  "$PEERS/authlib/stop.sh" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export GATEHOUSE_PASSWORD_HASH_COST=4
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

"$CEILING" 18190 > "$WORK/ceiling.log" 2>&1 &
PIDS+=($!)
declare -A PORT=([default]=8291 [json]=8292 [quiet]=8293 [bare]=8294)
declare -A ID SECRET
for variant in default json quiet bare; do
  db="$WORK/$variant.sqlite"
  "$BIN" init --database "$db" >/dev/null 2>&1
  env=(GATEHOUSE_LOG_LEVEL=info)
  case $variant in
    json) env+=(GATEHOUSE_LOG_FORMAT=json) ;;
    quiet) env=(GATEHOUSE_LOG_LEVEL=warning) ;;
    bare) env=(GATEHOUSE_LOG_LEVEL=warning GATEHOUSE_METRICS=off) ;;
  esac
  env "${env[@]}" "$BIN" serve --database "$db" --port "${PORT[$variant]}" > "$WORK/$variant.log" 2>&1 &
  PIDS+=($!)
  until curl -sf "http://127.0.0.1:${PORT[$variant]}/health" >/dev/null; do sleep 0.2; done
  creds=$("$BIN" clients create --tenant default --name bench --scope api.read --database "$db" --json)
  ID[$variant]=$(echo "$creds" | json_field client_id)
  SECRET[$variant]=$(echo "$creds" | json_field client_secret)
done
"$BIN" users create --tenant default --username bench --password "bench password" --database "$WORK/default.sqlite" >/dev/null
# The refresh client asks for openid offline_access (bench/refresh_seed.py): no scope restriction.
creds=$("$BIN" clients create --tenant default --name refresh --redirect-uri http://127.0.0.1:1/cb --database "$WORK/default.sqlite" --json)
RID=$(echo "$creds" | json_field client_id)
RSECRET=$(echo "$creds" | json_field client_secret)
"$PEERS/authlib/start.sh" >/dev/null
until curl -sf http://127.0.0.1:18190/token -X POST >/dev/null; do sleep 0.2; done
sleep 5.5   # the clients are past the client cache's lifetime

summary() { grep -oE 'rps=[0-9.]+ p50_ms=[0-9.]+ p99_ms=[0-9.]+ errors=[0-9]+ peer=[0-9]+ wrk=[0-9]+ other=[0-9]+' | head -1; }
rps() {  # a run with errors measured something else: stop
  local errors=${1#*errors=}; errors=${errors%% *}
  if [ "${errors:-1}" != "0" ]; then echo "errors in a run: $1" >&2; exit 1; fi
  local s=${1#rps=}; echo "${s%% *}"
}
p99() { local s=${1#*p99_ms=}; echo "${s%% *}"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
cc() {  # port path id secret scope
  SCOPE=$5 "$PEERS/run-token.sh" "$1" "$2" "$3" "$4" "$DURATION" 32 2 2>/dev/null | summary
}
refresh() {  # url id secret tokens-file
  CLIENT_ID=$2 CLIENT_SECRET=$3 TOKENS_FILE=$4 wrk -t2 -c32 -d"$DURATION" -s bench/refresh.lua "$1" \
    | awk '/Requests\/sec/ {print $2} /non-200/ {print "non200=" $3}' | paste -sd' '
}
seed_gatehouse() {
  python3 bench/refresh_seed.py "http://127.0.0.1:${PORT[default]}/default" "$RID" "$RSECRET" \
    http://127.0.0.1:1/cb bench "bench password" 128 > "$WORK/gh.tokens"
}
seed_authlib() {
  python3 - "$WORK/al.tokens" <<'PY'
import sys, urllib.request, urllib.parse, base64, json
header = "Basic " + base64.b64encode(b"bench-fast:bench-secret").decode()
with open(sys.argv[1], "w") as out:
    for _ in range(128):
        body = urllib.parse.urlencode({"grant_type": "password", "username": "alice", "password": "alice-password", "scope": "api"}).encode()
        request = urllib.request.Request("http://127.0.0.1:9102/es256/oauth/token", body, {"Authorization": header})
        out.write(json.load(urllib.request.urlopen(request))["refresh_token"] + "\n")
PY
}

# Warm-up: every endpoint once, briefly.
for variant in default json quiet bare; do
  CLIENT_ID=${ID[$variant]} CLIENT_SECRET=${SECRET[$variant]} \
    wrk -t2 -c32 -d3s -s bench/token.lua "http://127.0.0.1:${PORT[$variant]}/default/oauth2/token" >/dev/null 2>&1 || true
done
echo "(each figure: requests/s (p99 ms); a full run-token summary per run is in the log with LOG=1)"
echo "client_credentials, 32 connections, $DURATION each: requests/s (p99 ms); ratios to the bare endpoint and to authlib"
for round in $(seq 1 "$ROUNDS"); do
  line="round $round:"
  c=$(cc 18190 /token x y "")
  [ -z "${LOG:-}" ] || echo "  ceiling: $c" >&2
  line+=" ceiling $(rps "$c") ($(p99 "$c"))"
  declare -A R
  for variant in default json quiet bare; do
    export CLIENT_ID=${ID[$variant]} CLIENT_SECRET=${SECRET[$variant]}
    g=$(cc "${PORT[$variant]}" /default/oauth2/token "${ID[$variant]}" "${SECRET[$variant]}" api.read)
    [ -z "${LOG:-}" ] || echo "  $variant: $g" >&2
    R[$variant]=$(rps "$g")
    line+=" | $variant $(rps "$g") ($(p99 "$g")) $(ratio "$(rps "$g")" "$(rps "$c")")x"
  done
  a=$(cc 9102 /es256/oauth/token bench-fast bench-secret api)
  line+=" | authlib $(rps "$a") ($(p99 "$a")) | default/authlib $(ratio "${R[default]}" "$(rps "$a")")x"
  line+=" | cost: json/default $(ratio "${R[json]}" "${R[default]}") quiet/default $(ratio "${R[quiet]}" "${R[default]}")"
  line+=" metrics (quiet/bare) $(ratio "${R[quiet]}" "${R[bare]}")"
  echo "$line"
  seed_gatehouse
  seed_authlib
  gr=$(refresh "http://127.0.0.1:${PORT[default]}/default/oauth2/token" "$RID" "$RSECRET" "$WORK/gh.tokens")
  ar=$(refresh "http://127.0.0.1:9102/es256/oauth/token" bench-fast bench-secret "$WORK/al.tokens")
  echo "round $round refresh: gatehouse(default) $gr | authlib $ar | gatehouse/authlib $(ratio "${gr%% *}" "${ar%% *}")x" \
    "| gatehouse/ceiling $(ratio "${gr%% *}" "$(rps "$c")")x"
done
