/*
 * keys_int.h - what the files of the keys library share and nobody else
 * sees: the keyset layout and the helpers that work on OpenSSL key objects.
 */
#ifndef KLEIDI_KEYS_INT_H
#define KLEIDI_KEYS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "keys.h"
#include "util/util.h"

#define KEYS_MAX_KEYS 64		/* keys in one manifest */
#define KEYS_MANIFEST_MAX ((size_t)64 * 1024)	/* bytes of keys.json */
#define KEYS_PEM_MAX ((size_t)16 * 1024)	/* bytes of one <kid>.pem */
#define KEYS_JWKS_MAX ((size_t)64 * 1024)	/* bytes of the JWKS document */
#define KEYS_RSA_BITS 2048		/* generated, and the least accepted */
#define KEYS_RSA_BITS_MAX 8192		/* bounds the cost of one signature */
#define KEYS_EC_COORD_LEN 32		/* P-256 coordinate and scalar size */
#define KEYS_PATH_MAX 4096

#define KEYS_MANIFEST "keys.json"
#define KEYS_MASTER_FILE "master.key"
#define KEYS_PEM_SUFFIX ".pem"

struct keys_entry {
	char kid[KEYS_KID_MAX];
	enum key_alg alg;
	EVP_PKEY *pkey;
	/* Made once at load: sign_init'ed with SHA-256 (and PKCS #1 v1.5
	 * for RSA). A signature dups it: EVP_DigestSignInit per token
	 * fetched the algorithms again, and EVP_DigestSignFinal copied the
	 * digest context, about a third of an ES256 signature. */
	EVP_PKEY_CTX *sign_ctx;
	int64_t created;
	int64_t not_before;
	int64_t retire_after;	/* 0: published for ever */
};

struct keyset {
	struct keys_entry *keys;
	size_t nkeys;
	char *jwks;
	EVP_MD *sha256;		/* fetched once, for the signing input */
	unsigned char master[KEYS_MASTER_LEN];
};

/* keys.c */
int keys_path(char *out, size_t outlen, const char *dir, const char *name,
    const char *suffix, char *err, size_t errlen);
int keys_pkey_check(EVP_PKEY *pkey, enum key_alg alg, const char **why);
unsigned char *keys_file_read_private(const char *path, size_t max,
    size_t *len, char *err, size_t errlen);

/* keys_init.c */
/* Generates a key for alg, names it by its thumbprint (kid) and writes
 * DIR/<kid>.pem, mode 0600, never replacing a file; path receives its
 * name, for the caller to remove if a later step fails. 0 or -1. */
int keys_new_key(const char *dir, enum key_alg alg, char kid[KEYS_KID_MAX],
    char path[KEYS_PATH_MAX], char *err, size_t errlen);

/* keys_sign.c */
/* The key that signs for alg at now, or NULL. */
const struct keys_entry *keys_sign_pick(const keyset *ks, enum key_alg alg,
    int64_t now);
/* A context for EVP_PKEY_sign with pkey: SHA-256, and PKCS #1 v1.5 for
 * RS256; NULL on failure. Free with EVP_PKEY_CTX_free. */
EVP_PKEY_CTX *keys_sign_ctx_new(EVP_PKEY *pkey, enum key_alg alg);

/* keys_jwk.c */
/* The RFC 7638 thumbprint of pkey's public key, base64url, into kid. */
int keys_jwk_kid(EVP_PKEY *pkey, enum key_alg alg, char kid[KEYS_KID_MAX]);
/* The JWKS document of the keys published at time now (malloc'd). */
char *keys_jwk_jwks(const struct keyset *ks, int64_t now);

#endif
