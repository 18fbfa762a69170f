#!/usr/bin/env bash
# install-deps.sh - installs, from Debian 12 packages, everything needed to
# build, run and test Kleidi. Idempotent: packages already there are left
# alone. Uses sudo only when not root. Node.js and npm (for the openid-client
# conformance test) are installed only when `node` is missing or older than
# v18.
set -euo pipefail

readonly NODE_MIN_MAJOR=18

# Build, run and test, one line per reason (see README.md, Dependencies).
readonly PACKAGES=(
	build-essential cmake pkg-config	# compiler, build
	libssl-dev				# OpenSSL 3: keys, JWT sign/verify, AES-GCM
	liboath-dev				# TOTP
	libjwt-dev				# installed, not used for tokens (README)
	libmicrohttpd-dev			# HTTP server
	liblmdb-dev				# store
	libargon2-dev				# password hashing
	libjansson-dev				# JSON
	libcurl4-openssl-dev			# SDK JWKS fetch, SMS gateway
	libinih-dev				# kleidi.ini
	libqrencode-dev				# TOTP enrolment QR codes
	libcmocka-dev				# unit tests
	clang libclang-rt-14-dev		# fuzz targets (libFuzzer)
	curl					# demo, scripts
	chromium				# browser.pages: headless, axe-core
	valgrind				# .ci/run: the end-to-end flows under valgrind
)

log() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null 2>&1 ||
		die "not root and sudo is not installed"
	SUDO=(sudo)
fi

command -v apt-get >/dev/null 2>&1 ||
	die "apt-get not found: this script is for Debian 12"
if [[ -r /etc/os-release ]]; then
	# shellcheck disable=SC1091
	. /etc/os-release
	if [[ ${ID:-} != debian || ${VERSION_ID:-} != 12 ]]; then
		log "warning: made for Debian 12, this is ${PRETTY_NAME:-unknown}"
	fi
fi

# node is wanted when missing or too old (the conformance test uses fetch
# and node's own test runner).
node_ok() {
	local v
	command -v node >/dev/null 2>&1 || return 1
	v=$(node --version 2>/dev/null) || return 1
	v=${v#v}
	[[ ${v%%.*} =~ ^[0-9]+$ ]] && ((${v%%.*} >= NODE_MIN_MAJOR))
}

wanted=("${PACKAGES[@]}")
if node_ok; then
	log "node $(node --version) found: not installing nodejs/npm"
else
	wanted+=(nodejs npm)
fi

# Only what is missing: a machine that has it all needs no apt-get at all.
missing=()
for p in "${wanted[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if ((${#missing[@]} == 0)); then
	log "all ${#wanted[@]} packages already installed"
else
	export DEBIAN_FRONTEND=noninteractive
	log "apt-get update"
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
		die "apt-get update failed"
	log "installing: ${missing[*]}"
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null ||
		die "apt-get install failed for: ${missing[*]}"
fi

# Check, so a broken install fails here and not in the middle of a build.
for pc in openssl liboath libjwt libmicrohttpd lmdb libargon2 jansson \
    libcurl inih libqrencode cmocka; do
	pkg-config --exists "$pc" || die "pkg-config cannot find $pc"
done
# libFuzzer is in libclang-rt-14-dev, not in clang itself: link a target.
fuzz_ok() {
	local t
	t=$(mktemp -d) || return 1
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$t/f.c"
	clang -fsanitize=fuzzer,address,undefined "$t/f.c" -o "$t/f" \
	    >/dev/null 2>&1
	local rc=$?
	rm -rf "$t"
	return "$rc"
}
fuzz_ok || die "clang cannot link a libFuzzer target (-fsanitize=fuzzer)"
node_ok || die "node >= v${NODE_MIN_MAJOR} is still missing"
command -v npm >/dev/null 2>&1 ||
	die "node $(node --version) is there but npm is not: install npm with the same source as node"
log "ready: $(cmake --version | head -n1), gcc $(gcc -dumpversion), node $(node --version), npm $(npm --version 2>/dev/null)"
