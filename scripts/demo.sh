#!/usr/bin/env bash
# demo.sh - builds Kleidi (Release, in build/), makes demo-data/ on the first
# run (an org, an app, a user with a role), prints how to sign in, then runs
# the server on http://127.0.0.1:8080 in the foreground (Ctrl-C stops it).
# Running it again reuses demo-data/; delete that folder to start afresh.
#
# Needs the packages of scripts/install-deps.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly BUILD=build
readonly DATA=demo-data
readonly LISTEN=127.0.0.1:8080
readonly ISSUER=http://$LISTEN
readonly ORG=demo-town
readonly ORG_NAME='Δήμος Demo'
readonly APP=demo-app
readonly APP_NAME='Demo app'
readonly REDIRECT_URI=http://127.0.0.1:8081/callback
readonly USERNAME=maria
readonly USER_NAME='Μαρία Παπαδοπούλου'
readonly USER_EMAIL=maria@demo-town.example
readonly USER_PHONE=+306900000000
readonly ROLE=clerk
# A demo password, in the clear on purpose: demo-data/ is for trying
# Kleidi out on 127.0.0.1, never for real accounts.
readonly DEMO_PASSWORD=kleidi-demo-2026
readonly CLIENT_FILE=$DATA/demo-client.json

log() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

cd "$ROOT"
readonly KLEIDI=$ROOT/$BUILD/idp/kleidi

build() {
	local jobs
	jobs=$(nproc 2>/dev/null || echo 2)
	log "building (Release) in $BUILD/"
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
		die "cmake configure failed (run ./scripts/install-deps.sh first?)"
	cmake --build "$BUILD" -j"$jobs" --target kleidi >/dev/null ||
		die "build failed: run 'cmake --build $BUILD --target kleidi' to see why"
	[[ -x $KLEIDI ]] || die "$KLEIDI was not built"
}

kl() {
	"$KLEIDI" "$@" --data "$DATA"
}

# The first run: everything through the operator CLI, the client secret
# kept in demo-data/demo-client.json (0600). That file is written last, so
# its absence means an earlier run stopped half-way.
provision() {
	local client
	log "creating $DATA/"
	kl init --issuer "$ISSUER" >/dev/null
	kl org add "$ORG" --name "$ORG_NAME" >/dev/null
	client=$(kl app add "$APP" --name "$APP_NAME" \
	    --redirect-uri "$REDIRECT_URI" --json)
	kl org subscribe "$ORG" "$APP" >/dev/null
	printf '%s\n' "$DEMO_PASSWORD" |
	    kl user add "$USERNAME" --org "$ORG" --name "$USER_NAME" \
		--email "$USER_EMAIL" --phone "$USER_PHONE" \
		--password-stdin >/dev/null
	kl grant add "$USERNAME" "$APP" "$ROLE" >/dev/null
	(umask 077 && printf '%s\n' "$client" >"$CLIENT_FILE.tmp")
	mv "$CLIENT_FILE.tmp" "$CLIENT_FILE"
}

b64url() {
	base64 -w0 | tr '+/' '-_' | tr -d '='
}

random_b64url() {
	head -c "$1" /dev/urandom | b64url
}

# PKCE S256 (RFC 7636 4.2): base64url(SHA-256(verifier)), no padding.
pkce_challenge() {
	local hex
	hex=$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)
	# shellcheck disable=SC2001,SC2059 # the format is the \xNN bytes
	printf "$(sed 's/../\\x&/g' <<<"$hex")" | b64url
}

urlencode() {
	local LC_ALL=C	# byte by byte
	local s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s' "$out"
}

build
if [[ -d $DATA && ! -f $CLIENT_FILE ]]; then
	log "$DATA/ is incomplete (an earlier run stopped half-way): making it again"
	rm -rf -- "$DATA"
fi
if [[ -d $DATA ]]; then
	log "reusing $DATA/ (delete it to start afresh)"
else
	provision
fi

client_secret=$(sed -n 's/.*"client_secret":"\([^"]*\)".*/\1/p' "$CLIENT_FILE")
[[ -n $client_secret ]] || die "no client_secret in $CLIENT_FILE"

state=$(random_b64url 16)
nonce=$(random_b64url 16)
verifier=$(random_b64url 32)
challenge=$(pkce_challenge "$verifier")
authorize="$ISSUER/authorize?response_type=code&client_id=$APP"
authorize+="&redirect_uri=$(urlencode "$REDIRECT_URI")"
authorize+="&scope=$(urlencode 'openid profile email')"
authorize+="&state=$state&nonce=$nonce"
authorize+="&code_challenge=$challenge&code_challenge_method=S256"

cat <<EOF

Kleidi demo — issuer $ISSUER
  discovery      $ISSUER/.well-known/openid-configuration
  sign in as     $USERNAME / $DEMO_PASSWORD   ($USER_NAME, $ORG, role $ROLE in $APP)
  second factor  an SMS code: the demo's SMS gateway is a file outbox, read the
                 newest file with:  cat "\$(ls -d $DATA/sms-outbox/* | tail -1)"
                 (or enrol an authenticator app: $BUILD/idp/kleidi user totp $USERNAME --data $DATA)
  client         $APP, secret in $CLIENT_FILE

1. Open this sign-in link in a browser:

$authorize

2. After signing in the browser goes to $REDIRECT_URI?code=...
   (nothing listens there: copy the code from the address bar).
   The state is $state, the nonce $nonce.
   PKCE code_verifier: $verifier
   (code_challenge: $challenge, S256)

3. Exchange the code (within a minute; a code works once):

curl -s -u '$APP:$client_secret' -d grant_type=authorization_code -d redirect_uri=$(urlencode "$REDIRECT_URI") -d code_verifier=$verifier -d code=PASTE_THE_CODE $ISSUER/token

   then: curl -s -H "Authorization: Bearer ACCESS_TOKEN" $ISSUER/userinfo

Operator CLI on the same data while it runs, e.g.:
  $BUILD/idp/kleidi user add nikos --org $ORG --name 'Νίκος' --password-stdin --data $DATA

Starting the server (Ctrl-C stops it).
EOF

exec "$KLEIDI" serve --data "$DATA" --listen "$LISTEN"
