/*
 * keyring.h - the signing keys of a running server, replaced while it
 * serves: after `kleidi keys rotate` (keys.json changed), on SIGHUP, and
 * when a key's not_before or retire_after passes, so that the JWKS, the
 * signing key and the verifier of our own tokens follow the key folder
 * without a restart.
 *
 * A handler takes the current keyring with keyring_get and gives it back
 * with keyring_put; a reload swaps in a new one under a mutex, and the old
 * one is freed when its last reader lets go, so no request sees a keyset
 * freed under it or two keysets half-way. The master key never changes
 * while the server runs: a key folder with another master key is refused
 * and the old keyring kept, since everything sealed under the master key
 * (TOTP seeds, the audit chain, SMS codes) would no longer open.
 */
#ifndef KLEIDI_KEYRING_H
#define KLEIDI_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "kleidi.h"
#include "tokens/tokens.h"
#include "util/shared.h"

#define KEYRING_WATCH_INTERVAL 5	/* seconds between looks at keys.json */

struct keyrings;

/* One generation of keys. Read-only while anyone holds it. */
struct keyring {
	keyset *keys;
	kl_verifier *verifier;	/* our own tokens, from keys' JWKS */
	struct token_issuer tokens;	/* tokens.keys == keys */
	struct shared_gen gen;		/* keyring.c's own */
};

enum keyring_rc {
	KEYRING_SAME = 0,		/* nothing to do */
	KEYRING_RELOADED = 1,
	KEYRING_REFUSED = -1		/* the folder did not load, or has
					   another master key: old kept */
};

/* Loads DIR/keys.json and its keys for issuer. tmpl gives the token
 * lifetimes and algorithm (its keys member is ignored). NULL with err on
 * failure. */
struct keyrings *keyring_open(const char *dir, const char *issuer,
    const struct token_issuer *tmpl, int64_t now, char *err, size_t errlen);
/* Stops the watcher and drops the current keyring. Every keyring_get must
 * have been matched by keyring_put. NULL is a no-op. */
void keyring_close(struct keyrings *kr);

/* The current keyring, held until keyring_put. Never NULL. */
struct keyring *keyring_get(struct keyrings *kr);
void keyring_put(struct keyring *k);	/* NULL is a no-op */

/* Reloads when keys.json changed (device, inode, size, mtime: a stat, no
 * parse), when a key starts or retires at or before now, or when force is
 * set (SIGHUP). Reloads are serialised; readers never wait for one. */
enum keyring_rc keyring_check(struct keyrings *kr, int64_t now, int force);

/* Starts a thread that calls keyring_check every interval seconds with
 * clock_now(); keyring_close stops it. 0 or -1. */
int keyring_watch(struct keyrings *kr, unsigned interval);

/* Conveniences for handlers: each takes and gives back the keyring. */
char *keyring_sign_jwt(struct keyrings *kr, enum key_alg alg,
    const char *typ, const char *claims_json, int64_t now);
/* kl_verify_access_token / kl_verify_id_token / kl_verify_id_token_hint
 * with the current keys. */
int keyring_verify_access(struct keyrings *kr, const char *token,
    const char *audience, kl_claims **out, kl_error *err);
int keyring_verify_id(struct keyrings *kr, const char *token,
    const char *client_id, const char *nonce, kl_claims **out,
    kl_error *err);
int keyring_verify_hint(struct keyrings *kr, const char *token,
    const char *client_id, kl_claims **out, kl_error *err);

#endif
