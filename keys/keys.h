/*
 * keys.h - the issuer's signing keys: created by `kleidi init`, loaded once
 * into OpenSSL key objects, published as JWKS, used to sign JWTs.
 *
 * Layout of a key folder (DIR = DATA/keys), every file mode 0600:
 *   master.key        32 random bytes: the master key (AES-256-GCM of
 *                     secrets at rest); never leaves the server.
 *   keys.json         manifest: {"keys":[{"kid","alg","file","created",
 *                     "not_before","retire_after"}]} - a key signs from
 *                     not_before on; published until retire_after (0: never).
 *   <kid>.pem         PKCS#8 private key.
 * kid is the RFC 7638 JWK thumbprint (base64url SHA-256) of the public key.
 */
#ifndef KLEIDI_KEYS_H
#define KLEIDI_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_MASTER_LEN 32
#define KEYS_KID_MAX 64

enum key_alg { KEY_RS256 = 0, KEY_ES256 = 1 };

typedef struct keyset keyset;

/* Creates DIR (mode 0700) with one RSA-2048 (RS256) key, one P-256 (ES256)
 * key and a master key. Refuses (returns -1, err says why) if DIR already
 * holds any of them. */
int keys_init(const char *dir, int64_t now, char *err, size_t errlen);

/* Loads every key in DIR once. NULL on failure with err filled. The keyset
 * is immutable after load and safe to share between threads. */
keyset *keyset_load(const char *dir, int64_t now, char *err, size_t errlen);
void keyset_free(keyset *ks);	/* NULL is a no-op; wipes the master key */

/* The public JWKS document {"keys":[...]} with kid, kty, use "sig", alg and
 * the public parameters only. Borrowed: lives as long as ks. */
const char *keyset_jwks(const keyset *ks);

/* The 32-byte master key. Borrowed: lives as long as ks. */
const unsigned char *keyset_master_key(const keyset *ks);

/* A 32-byte key for one purpose, derived from the master key with
 * HKDF-SHA256 (RFC 5869; info = label, no salt), so that each use of the
 * master key (TOTP seeds, recovery codes, SMS codes, the audit chain) has
 * a key of its own. Labels in use: "kleidi totp seal v1", "kleidi recovery
 * v1", "kleidi sms v1", "kleidi audit v1". 0 or -1. */
int keyset_derive(const keyset *ks, const char *label,
    unsigned char out[32]);

/* 1 if the keyset has a signing key for alg at time now, else 0. */
int keyset_can_sign(const keyset *ks, enum key_alg alg, int64_t now);

/* Signs claims_json (a JSON object, used verbatim as the payload) as a
 * compact JWS with header {"alg","typ","kid"} using the newest key of alg
 * whose not_before <= now. typ may be NULL (then "JWT"). Returns a malloc'd
 * string, or NULL on failure. */
char *keyset_sign_jwt(const keyset *ks, enum key_alg alg, const char *typ,
    const char *claims_json, int64_t now);
/* As keyset_sign_jwt, with the claims as a jansson object (compact
 * json_dumps is the payload): the hot path of the token endpoint, which
 * builds its claims as one, is spared keyset_sign_jwt's parse of the
 * string to refuse duplicate names - a json_t object cannot hold any.
 * claims is only read. */
struct json_t;
char *keyset_sign_claims(const keyset *ks, enum key_alg alg, const char *typ,
    const struct json_t *claims, int64_t now);

/* The RFC 7638 JWK thumbprint (base64url SHA-256 of the required members
 * in lexicographic order) of the public JWK jwk_json, an RSA key (n, e) or
 * an EC key (crv, x, y), into kid. 0, or -1 on a malformed JWK. Added so
 * callers and tests can check a kid against an independent key. */
int keys_jwk_thumbprint(const char *jwk_json, char kid[KEYS_KID_MAX]);

/* "RS256" / "ES256"; NULL for a value outside the enum. */
const char *key_alg_name(enum key_alg alg);
int key_alg_parse(const char *name, enum key_alg *out);	/* 0 or -1 */

/* ---- rotation (keys_rotate.c) */

#define KEYS_ALG_BIT(alg) (1u << (alg))
#define KEYS_ALG_ALL (KEYS_ALG_BIT(KEY_RS256) | KEYS_ALG_BIT(KEY_ES256))

/* Where a key stands at a given time. */
enum key_state {
	KEY_NEXT = 0,		/* published, signs from not_before on */
	KEY_SIGNING,		/* the key that signs for its alg now */
	KEY_PUBLISHED,		/* published for the tokens it signed */
	KEY_RETIRED		/* past retire_after: neither */
};

struct key_info {
	char kid[KEYS_KID_MAX];
	enum key_alg alg;
	int64_t created;
	int64_t not_before;
	int64_t retire_after;	/* 0: not scheduled */
	enum key_state state;
};

/*
 * Rotates the signing keys of DIR for each alg in algs (KEYS_ALG_BIT
 * mask): a new key is published at once and signs from now + delay on;
 * every key of that alg not yet due to retire earlier gets retire_after =
 * now + delay + grace, where grace is the longest lifetime of a signed
 * token plus the verifiers' leeway, so every token the old key signs
 * verifies until it expires. Keys already retired are dropped from the
 * manifest and their files removed. keys.json is replaced atomically;
 * master.key is never touched. Concurrent rotations are serialised. The
 * new keys go to added[0..*nadded) (at most 2). 0 or -1 with err.
 */
int keys_rotate(const char *dir, unsigned algs, int64_t now, int64_t delay,
    int64_t grace, struct key_info added[2], size_t *nadded, char *err,
    size_t errlen);

/* The keys of ks in manifest order and their state at now. */
size_t keyset_count(const keyset *ks);
int keyset_key_info(const keyset *ks, size_t i, int64_t now,
    struct key_info *out);	/* 0, or -1 past the end */
/* The first time after now at which a key starts or retires, so that the
 * JWKS built at load changes; 0 when none will. */
int64_t keyset_next_change(const keyset *ks, int64_t now);
const char *key_state_name(enum key_state st);

#endif
