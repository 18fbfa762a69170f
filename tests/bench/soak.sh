#!/bin/bash
# tests/bench/soak.sh - the soak: a bounded mixed load against Kleidi built
# with AddressSanitizer and UBSan (RelWithDebInfo, in build-soak/), run on
# demand (also `tests/bench/run.sh --soak`), never by .ci/run. Generates a
# data set with bench_gen, starts `kleidi serve` on 127.0.0.1 with cheap
# argon2id (t=1, m=16 MiB, so that sign-ins are a steady part of the mix
# and not the whole machine), runs bench_soak for SOAK_SECONDS - client
# credentials, refresh rotations, introspection, userinfo, complete
# sign-ins and CLI grant add/revoke, each at a fixed low rate - and prints
# one WINDOW line per SOAK_WINDOW seconds:
#
#	WINDOW t=S rss_kib=K kind=requests/errors/p50_ms/p99_ms ...
#
# then METRIC soak_errors, soak_rss_growth (RSS at the last window minus
# RSS at the end of the warm-up), soak_p99_<kind>. Exit 1 when a request
# failed, the server died, it did not exit 0 on SIGTERM (ASan aborts on a
# leak at exit), or its stderr has a sanitizer report. Settings:
#	SOAK_SECONDS	length of the load (default 600)
#	SOAK_WINDOW	seconds per sample (30)
#	SOAK_WARMUP	seconds before the RSS baseline and the p99s (60)
#	SOAK_SANITIZE	1 (default): ASan + UBSan; 0: a plain build, to read
#			the server's own memory without ASan's shadow and
#			quarantine
#	SOAK_BUILD	build folder (build-soak, or build-soak-plain)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SANITIZE=${SOAK_SANITIZE:-1}
if [ "$SANITIZE" = 0 ]; then
	BUILD=${SOAK_BUILD:-$ROOT/build-soak-plain}; SAN=OFF; WHAT="no sanitizers"
else
	BUILD=${SOAK_BUILD:-$ROOT/build-soak}; SAN=ON; WHAT="ASan + UBSan"
fi
SECS=${SOAK_SECONDS:-600}
WINDOW=${SOAK_WINDOW:-30}
WARMUP=${SOAK_WARMUP:-60}
USERS=10000
TOTP_USERS=600		# sign-in round robin: a user again after 20 min
PASSWORD='Soak-pass-5127!'
NCPU=$(nproc)

log() { echo "soak: $*" >&2; }

log "building (RelWithDebInfo, $WHAT) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKLEIDI_SANITIZE="$SAN" >/dev/null
cmake --build "$BUILD" -j"$NCPU" --target kleidi bench_gen bench_signin \
    bench_soak >/dev/null
KLEIDI=$BUILD/idp/kleidi
B=$BUILD/tests/bench

# Every sanitized process (server, CLI, tools) stops at its first report.
# A small quarantine (default 256 MiB) so that it fills during the
# warm-up and the RSS after it shows Kleidi's memory, not ASan's.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=16
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

WORK=$(mktemp -d /tmp/kleidi-soak-XXXXXX)
D=$WORK/data
SERVER_PID=
cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
"$KLEIDI" init --data "$D" --issuer "$BASE" >/dev/null
cat >"$D/kleidi.ini" <<EOF
# One loopback address: lift the per-address limits, as run.sh does.
[server]
per_ip_connection_limit = 4096
connection_limit = 4096
[limits]
signin_burst = 10000
signin_refill_ms = 1
# Cheap argon2id for a sustained mix (production: t=3, m=64 MiB).
[password]
argon2_t_cost = 1
argon2_m_cost_kib = 16384
EOF
k() { "$KLEIDI" "$@" --data "$D"; }
k org add town-1 --name 'Soak town' >/dev/null
WEB_SECRET=$(k app add web --name Web --redirect-uri http://127.0.0.1:9/cb \
    --refresh --json | sed 's/.*"client_secret":"\([^"]*\)".*/\1/')
k org subscribe town-1 web >/dev/null
SVC_SECRET=$(k app add svc --name Service --redirect-uri \
    http://127.0.0.1:9/cb --json | sed 's/.*"client_secret":"\([^"]*\)".*/\1/')
k grant client svc reader >/dev/null
log "generating $USERS users ($TOTP_USERS with TOTP)"
"$B/bench_gen" "$D" "$USERS" "$TOTP_USERS" town-1 web "$PASSWORD" \
    "$WORK/totp.txt" | grep -v '^METRIC' >&2
# Last TOTP user: the refresh families; the one before: CLI grants;
# the rest sign in.
head -n $((TOTP_USERS - 2)) "$WORK/totp.txt" >"$WORK/signin.txt"
tail -n 1 "$WORK/totp.txt" >"$WORK/tokens-user.txt"
ADMIN_USER=$(sed -n "$((TOTP_USERS - 1))s/ .*//p" "$WORK/totp.txt")

"$KLEIDI" serve --data "$D" --listen "127.0.0.1:$PORT" \
    --config "$D/kleidi.ini" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
	grep -q serving "$WORK/serve.log" 2>/dev/null && break
	sleep 0.1
done
grep -q serving "$WORK/serve.log" || { log "server did not start:";
	cat "$WORK/serve.log" >&2; exit 1; }
"$B/bench_signin" tokens "$BASE" web "$WEB_SECRET" "$WORK/tokens-user.txt" \
    "$PASSWORD" 4 "$WORK/tokens.txt"

log "mixed load for ${SECS}s, one line per ${WINDOW}s (warm-up ${WARMUP}s);" \
    "argon2id t=1 m=16MiB; $NCPU cores"
FAILED=0
"$B/bench_soak" "$BASE" "$SERVER_PID" "$SECS" "$WINDOW" "$WARMUP" \
    "$WEB_SECRET" "$SVC_SECRET" "$WORK/signin.txt" "$PASSWORD" \
    "$WORK/tokens.txt" "$KLEIDI" "$D" "$ADMIN_USER" || FAILED=1

# SIGTERM; a sanitized server exits 0 only without a report (leaks are
# checked at exit).
STATUS=0
if kill "$SERVER_PID" 2>/dev/null; then
	wait "$SERVER_PID" || STATUS=$?
else
	wait "$SERVER_PID" || STATUS=$?
	log "the server was gone before the end"; FAILED=1
fi
SERVER_PID=
REPORTS=$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' \
    "$WORK/serve.log" || true)
echo "METRIC soak_server_exit=$STATUS unit=status"
echo "METRIC soak_sanitizer_reports=$REPORTS unit=reports"
if [ "$STATUS" -ne 0 ] || [ "$REPORTS" -ne 0 ]; then
	log "server exit status $STATUS, $REPORTS sanitizer reports:"
	grep -A 30 -E 'ERROR: |runtime error' "$WORK/serve.log" | head -80 >&2 || true
	FAILED=1
fi
log "machine: $NCPU cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
exit "$FAILED"
