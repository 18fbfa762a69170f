#!/bin/bash
# tests/bench/run.sh - every hot path measured against its ceiling in the
# same run. Builds what it needs (Release, in build-bench/), installs wrk
# with apt-get when missing, starts Kleidi on 127.0.0.1 with a generated
# data set, runs bounded loads, and prints one line per figure:
#
#	METRIC name=value unit=U ceiling=C ratio=R
#
# ratio is value/ceiling: for rates the share of the ceiling reached
# (higher is better), for latencies, memory and the scale figures the
# multiple of the bound (lower is better); "-" where no ceiling applies.
# Run on demand, never by .ci/run. Every load goes to 127.0.0.1 and is
# bounded in time. Settings (environment):
#	BENCH_SECONDS	seconds per wrk round (default 5)
#	BENCH_ROUNDS	alternating Kleidi/ceiling rounds per figure (3)
#	BENCH_SIGNIN_SECONDS	seconds of sign-in load (30)
#	BENCH_SCALE_USERS	users of the large store (1000000; 0 skips)
#	BENCH_BUILD	build folder (build-bench)
# `run.sh --soak` runs the soak instead (soak.sh: ASan build, 10-minute
# mixed load; its settings are SOAK_*).
set -euo pipefail

if [ "${1:-}" = --soak ]; then
	exec "$(dirname "$0")/soak.sh"
fi

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
SIGNIN_SECS=${BENCH_SIGNIN_SECONDS:-30}
SCALE_USERS=${BENCH_SCALE_USERS:-1000000}
BASE_USERS=10000
TOTP_USERS=600		# each signs in at most once (the TOTP replay guard)
CONNS=64
PASSWORD='Bench-pass-9431!'
NCPU=$(nproc)

log() { echo "bench: $*" >&2; }

# ---- what the benchmark needs
if ! command -v wrk >/dev/null 2>&1; then
	SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	log "installing wrk"
	$SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi
log "building (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DKLEIDI_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" -j"$NCPU" --target kleidi bench_verify bench_ceiling \
    bench_gen bench_signin bench_import >/dev/null
KLEIDI=$BUILD/idp/kleidi
B=$BUILD/tests/bench
LUA=$ROOT/tests/bench

WORK=$(mktemp -d /tmp/kleidi-bench-XXXXXX)
D=$WORK/data
SERVER_PID=
CEILING_PID=
cleanup() {
	for p in $SERVER_PID $CEILING_PID; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

# METRIC line: name value unit ceiling; ratio = value/ceiling.
metric() {
	local r=-
	if [ "$4" != - ]; then
		r=$(awk -v v="$2" -v c="$4" 'BEGIN { printf "%.2f", (c > 0 ? v / c : 0) }')
	fi
	echo "METRIC $1=$2 unit=$3 ceiling=$4 ratio=$r"
}
# Field k=v of a RESULT line.
field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<" $1"; }
avg() { awk '{ s += $1; n++ } END { printf "%.1f", n ? s / n : 0 }'; }

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

rss_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# The server's peak resident memory during a phase: VmHWM will not do, it
# keeps the start-up argon2id hash (64 MiB touched, then freed) for life.
# rss_watch starts sampling VmRSS every 50 ms; rss_peak_mib stops it and
# prints the largest sample in MiB.
rss_watch() {
	( max=0; while kill -0 "$SERVER_PID" 2>/dev/null; do
		v=$(rss_kib "$SERVER_PID" VmRSS); [ "${v:-0}" -le "$max" ] || max=$v
		echo "$max" >"$WORK/rss.max"; sleep 0.05
	done ) &
	RSS_WATCH_PID=$!
}
rss_peak_mib() {
	kill "$RSS_WATCH_PID"; wait "$RSS_WATCH_PID" 2>/dev/null || true
	awk '{ printf "%.1f", $1 / 1024 }' "$WORK/rss.max"
}

start_server() {
	"$KLEIDI" serve --data "$D" --listen "127.0.0.1:$PORT" \
	    --config "$D/kleidi.ini" >"$WORK/serve.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 200); do
		grep -q serving "$WORK/serve.log" 2>/dev/null && return 0
		sleep 0.1
	done
	log "server did not start:"; cat "$WORK/serve.log" >&2; exit 1
}
stop_server() {
	kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}

# ---- 1. the SDK: verifications per second on one core
log "sdk verify (one core)"
taskset -c 0 "$B/bench_verify" 2

# ---- data: a store with BASE_USERS employees, a web app, a service client
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
"$KLEIDI" init --data "$D" --issuer "$BASE" >/dev/null
cat >"$D/kleidi.ini" <<EOF
# Production settings but for the limits one loopback address would hit.
[server]
per_ip_connection_limit = 1024
[limits]
signin_burst = 10000
signin_refill_ms = 1
EOF
k() { "$KLEIDI" "$@" --data "$D"; }
k org add town-1 --name 'Bench town' >/dev/null
WEB_SECRET=$(k app add web --name Web --redirect-uri http://127.0.0.1:9/cb \
    --refresh --json | sed 's/.*"client_secret":"\([^"]*\)".*/\1/')
k org subscribe town-1 web >/dev/null
SVC_SECRET=$(k app add svc --name Service --redirect-uri \
    http://127.0.0.1:9/cb --json | sed 's/.*"client_secret":"\([^"]*\)".*/\1/')
k grant client svc reader >/dev/null
log "generating $BASE_USERS users"
"$B/bench_gen" "$D" "$BASE_USERS" "$TOTP_USERS" town-1 web "$PASSWORD" \
    "$WORK/totp.txt" >"$WORK/gen.out"
grep -v '^METRIC' "$WORK/gen.out" >&2
BYTES_PER_USER=$(sed -n 's/^METRIC store_bytes_per_user=\([0-9]*\).*/\1/p' \
    "$WORK/gen.out")
half=$((TOTP_USERS / 2))
head -n "$half" "$WORK/totp.txt" >"$WORK/totp-small.txt"
sed -n "$((half + 1)),$((TOTP_USERS - 1))p" "$WORK/totp.txt" >"$WORK/totp-large.txt"
ARGON_T=$(sed -n 's/^argon2_t_cost *= *//p' "$D/kleidi.ini"); ARGON_T=${ARGON_T:-3}
ARGON_M=$(sed -n 's/^argon2_m_cost_kib *= *//p' "$D/kleidi.ini"); ARGON_M=${ARGON_M:-65536}
WORKERS=$NCPU
QUEUE=64

start_server
sleep 1
RSS_IDLE=$(rss_kib "$SERVER_PID" VmRSS)
metric rss_idle "$(awk -v k="$RSS_IDLE" 'BEGIN { printf "%.1f", k / 1024 }')" \
    MiB 20

CPORT=$(free_port)
"$B/bench_ceiling" "$D/keys" "$CPORT" "$BASE" svc >"$WORK/ceiling.log" 2>&1 &
CEILING_PID=$!
for _ in $(seq 50); do grep -q ready "$WORK/ceiling.log" && break; sleep 0.1; done

# wrk against Kleidi and the ceiling in alternating rounds, so both see the
# same machine; prints "rate p99 ceiling_rate ceiling_p99 failures".
# wrk_pair PATH SCRIPT CEILING_SCRIPT; BENCH_TOKENS_ROUND, when set, is a
# file prefix: round r reads BENCH_TOKENS from PREFIX.r.
wrk_pair() {
	local path=$1 script=$2 cscript=$3 r kr=() kp=() cr=() cp=() bad=0 out
	for r in $(seq "$ROUNDS"); do
		[ -z "${BENCH_TOKENS_ROUND:-}" ] || export BENCH_TOKENS=$BENCH_TOKENS_ROUND.$r
		out=$(wrk -t2 -c$CONNS -d"${SECS}s" -s "$script" "$BASE$path" | grep RESULT)
		kr+=("$(field "$out" rate)"); kp+=("$(field "$out" p99_ms)")
		bad=$((bad + $(field "$out" non2xx) + $(field "$out" sockerr)))
		out=$(wrk -t2 -c$CONNS -d"${SECS}s" -s "$cscript" \
		    "http://127.0.0.1:$CPORT$path" | grep RESULT)
		cr+=("$(field "$out" rate)"); cp+=("$(field "$out" p99_ms)")
	done
	echo "$(printf '%s\n' "${kr[@]}" | avg) $(printf '%s\n' "${kp[@]}" | avg)" \
	    "$(printf '%s\n' "${cr[@]}" | avg) $(printf '%s\n' "${cp[@]}" | avg) $bad"
}

# ---- 2. client_credentials at the token endpoint
log "token endpoint, client_credentials: wrk -c$CONNS, $ROUNDS x ${SECS}s each side"
export BENCH_BASIC
BENCH_BASIC=$(printf 'svc:%s' "$SVC_SECRET" | base64 -w0)
rss_watch
wrk -t2 -c$CONNS -d1s -s "$LUA/token.lua" "$BASE/token" >/dev/null	# warm-up
read -r CC_RATE CC_P99 CE_RATE CE_P99 CC_BAD < <(wrk_pair /token \
    "$LUA/token.lua" "$LUA/token.lua")
[ "$CC_BAD" -eq 0 ] || log "client_credentials: $CC_BAD failed requests"
metric token_client_credentials "$CC_RATE" req/s "$CE_RATE"
metric token_client_credentials_p99 "$CC_P99" ms "$CE_P99"
RSS_CC=$(rss_peak_mib)

# ---- 3. refresh-token grants and introspection
# 2 x CONNS refresh-token families a round (single sign-on: one sign-in,
# then codes), since a rotated token spent twice would end its family.
log "refresh and introspection: $ROUNDS x 2 x $CONNS token families"
tail -n 1 "$WORK/totp.txt" >"$WORK/totp-tokens.txt"
"$B/bench_signin" tokens "$BASE" web "$WEB_SECRET" "$WORK/totp-tokens.txt" \
    "$PASSWORD" $((ROUNDS * 2 * CONNS)) "$WORK/tokens.txt"
split -d -a 1 -l $((2 * CONNS)) "$WORK/tokens.txt" "$WORK/tok."
for r in $(seq "$ROUNDS"); do mv "$WORK/tok.$((r - 1))" "$WORK/tokens.$r"; done
export BENCH_THREADS=2 BENCH_TOKENS_ROUND=$WORK/tokens
BENCH_BASIC=$(printf 'web:%s' "$WEB_SECRET" | base64 -w0)
read -r RF_RATE RF_P99 RE_RATE RE_P99 RF_BAD < <(wrk_pair /token \
    "$LUA/refresh.lua" "$LUA/token.lua")
[ "$RF_BAD" -eq 0 ] || log "refresh: $RF_BAD failed requests"
metric token_refresh "$RF_RATE" req/s "$RE_RATE"
metric token_refresh_p99 "$RF_P99" ms "$RE_P99"
unset BENCH_TOKENS_ROUND
export BENCH_TOKENS=$WORK/tokens.1
read -r IN_RATE IN_P99 IE_RATE IE_P99 IN_BAD < <(wrk_pair /introspect \
    "$LUA/introspect.lua" "$LUA/introspect.lua")
[ "$IN_BAD" -eq 0 ] || log "introspect: $IN_BAD failed requests"
metric introspect "$IN_RATE" req/s "$IE_RATE"
metric introspect_p99 "$IN_P99" ms "$IE_P99"
BENCH_BASIC=$(printf 'svc:%s' "$SVC_SECRET" | base64 -w0)

# ---- 4. complete sign-ins against raw argon2id on the same cores
log "sign-in flow: ${SIGNIN_SECS}s, $((2 * NCPU)) browsers; argon2id t=$ARGON_T m=${ARGON_M}KiB"
A1=$(field "$("$B/bench_signin" argon2 "$NCPU" "$((SIGNIN_SECS / 4))" "$ARGON_T" "$ARGON_M")" rate)
rss_watch
FLOW=$("$B/bench_signin" flow "$BASE" web "$WEB_SECRET" "$WORK/totp-small.txt" \
    "$PASSWORD" "$((2 * NCPU))" "$SIGNIN_SECS" | tee -a /dev/stderr | grep RESULT)
RSS_FLOW=$(rss_peak_mib)
A2=$(field "$("$B/bench_signin" argon2 "$NCPU" "$((SIGNIN_SECS / 4))" "$ARGON_T" "$ARGON_M")" rate)
ARGON=$(printf '%s\n%s\n' "$A1" "$A2" | awk '{ s += $1 } END { printf "%.2f", s / 2 }')
SIGNIN_RATE=$(field "$FLOW" rate)
SIGNIN_P50=$(field "$FLOW" p50_ms)
metric signin_flow "$SIGNIN_RATE" signin/s "$ARGON"

# The storm: more password submissions at once than workers + queue, then
# three times as many. Bounded: what the server needs idle, plus one
# argon2id memory per worker, plus the connections' buffers (at most
# header_max, 32 KiB, each: 32 MiB for the default connection_limit of
# 1024), plus the store's pages (at most its file: the loads above wrote
# every refresh rotation to it), plus 8 MiB for the threads' arenas.
STORM=$((WORKERS + QUEUE + 200))
STORE_KIB=$(du -k "$D/store/data.mdb" | cut -f1)
BOUND=$(awk -v i="$RSS_IDLE" -v w="$WORKERS" -v m="$ARGON_M" -v s="$STORE_KIB" \
    'BEGIN { printf "%.1f", (i + w * m + s) / 1024 + 32 + 8 }')
log "sign-in storm: $STORM simultaneous password submissions"
rss_watch
S=$("$B/bench_signin" storm "$BASE" web "$STORM" | tee -a /dev/stderr | grep RESULT)
RSS_STORM=$(rss_peak_mib)
metric signin_storm_503 "$(field "$S" busy)" responses "$STORM"
metric signin_storm_503_retry_after "$(field "$S" busy_retry_after)" responses \
    "$(field "$S" busy)"
metric rss_peak "$(printf '%s\n%s\n%s\n' "$RSS_CC" "$RSS_FLOW" "$RSS_STORM" |
    sort -g | tail -1)" MiB "$BOUND"
log "sign-in storm: $((3 * STORM)) simultaneous password submissions"
rss_watch
S3=$("$B/bench_signin" storm "$BASE" web "$((3 * STORM))" | tee -a /dev/stderr | grep RESULT)
RSS_STORM3=$(rss_peak_mib)
metric signin_storm_x3_503_retry_after "$(field "$S3" busy_retry_after)" \
    responses "$((3 * STORM - $(field "$S3" ok)))"
metric rss_peak_storm_x3 "$RSS_STORM3" MiB "$BOUND"
# What a further waiting connection costs: at most its buffer (32 KiB).
metric rss_per_storm_connection "$(awk -v a="$RSS_STORM" -v b="$RSS_STORM3" \
    -v n="$((2 * STORM))" 'BEGIN { printf "%.1f", (b - a) * 1024 / n }')" KiB 32
log "rss peak: client_credentials $RSS_CC MiB, sign-in flow $RSS_FLOW MiB," \
    "storm $RSS_STORM MiB, storm x3 $RSS_STORM3 MiB"

# ---- 5. scale: the same at SCALE_USERS stored users
if [ "$SCALE_USERS" -gt "$BASE_USERS" ]; then
	stop_server
	log "growing the store to $SCALE_USERS users"
	"$B/bench_gen" "$D" "$SCALE_USERS" 0 town-1 web "$PASSWORD" \
	    "$WORK/none.txt" "$BASE_USERS" >"$WORK/gen2.out"
	grep -v '^METRIC' "$WORK/gen2.out" >&2
	BYTES_PER_USER=$(sed -n 's/^METRIC store_bytes_per_user=\([0-9]*\).*/\1/p' \
	    "$WORK/gen2.out")
	start_server
	wrk -t2 -c$CONNS -d1s -s "$LUA/token.lua" "$BASE/token" >/dev/null
	read -r CC2_RATE _ CE2_RATE _ _ < <(wrk_pair /token "$LUA/token.lua" \
	    "$LUA/token.lua")
	A3=$(field "$("$B/bench_signin" argon2 "$NCPU" "$((SIGNIN_SECS / 4))" "$ARGON_T" "$ARGON_M")" rate)
	FLOW2=$("$B/bench_signin" flow "$BASE" web "$WEB_SECRET" \
	    "$WORK/totp-large.txt" "$PASSWORD" "$((2 * NCPU))" "$SIGNIN_SECS" \
	    | tee -a /dev/stderr | grep RESULT)
	A4=$(field "$("$B/bench_signin" argon2 "$NCPU" "$((SIGNIN_SECS / 4))" "$ARGON_T" "$ARGON_M")" rate)
	ARGON2=$(printf '%s\n%s\n' "$A3" "$A4" | awk '{ s += $1 } END { printf "%.2f", s / 2 }')
	# value: the figure at SCALE_USERS; ceiling: the same at BASE_USERS;
	# ratio: the slowdown (target <= 1.2). Each figure is counted in
	# units of its own ceiling measured beside it - the sign-in p50 in
	# argon2id hash times (p50 x hashes/s / cores), the token endpoint's
	# cost in multiples of its ceiling's (ceiling rate / rate) - so that
	# load elsewhere on the machine between the two runs cancels out.
	log "signin p50: ${SIGNIN_P50} ms at $BASE_USERS users (argon2id $ARGON/s)," \
	    "$(field "$FLOW2" p50_ms) ms at $SCALE_USERS (argon2id $ARGON2/s)"
	metric scale_signin_p50 \
	    "$(awk -v p="$(field "$FLOW2" p50_ms)" -v a="$ARGON2" -v n="$NCPU" 'BEGIN { printf "%.2f", p / 1000 * a / n }')" \
	    hash-times \
	    "$(awk -v p="$SIGNIN_P50" -v a="$ARGON" -v n="$NCPU" 'BEGIN { printf "%.2f", p / 1000 * a / n }')"
	metric scale_token_client_credentials \
	    "$(awk -v a="$CC2_RATE" -v b="$CE2_RATE" 'BEGIN { printf "%.3f", b / a }')" \
	    cost "$(awk -v a="$CC_RATE" -v b="$CE_RATE" 'BEGIN { printf "%.3f", b / a }')"
fi

metric store_bytes_per_user "$BYTES_PER_USER" B -

# ---- 6. the registry import (100,000 rows)
log "registry import, 100,000 rows"
"$B/bench_import" 100000 | sed -n 's/^METRIC \([a-z_]*\)=\([0-9.]*\) unit=\(.*\)/\1 \2 \3/p' |
while read -r n v u; do metric "$n" "$v" "$u" -; done

log "machine: $NCPU cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
