/*
 * jwks.c - a JWKS document ({"keys":[...]}, RFC 7517 section 5) parsed
 * once into an immutable set of OpenSSL keys that threads share.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "internal.h"

/* Same kid twice would let the document, not the kid, pick the key. */
static int
jwks_kid_taken(const kl_keyset *ks, const struct kl_key *key)
{
	return kl_jwks_find(ks, key->kid, key->kidlen) != NULL;
}

static int
jwks_load_keys(json_t *keys, const EVP_MD *sha256, kl_keyset *ks,
    kl_error *err)
{
	json_t *jwk;
	size_t i;
	int rc;

	json_array_foreach(keys, i, jwk) {
		struct kl_key *key = &ks->keys[ks->nkeys];

		rc = kl_jwk_load(jwk, sha256, key, err);
		if (rc == KL_ERR_ALG)
			continue;	/* a key for others: skip it */
		if (rc != KL_OK)
			return rc;
		if (jwks_kid_taken(ks, key)) {
			kl_jwk_clear(key);
			return kl_error_set(err, KL_ERR_JWKS,
			    "two signing keys share a kid");
		}
		ks->nkeys++;
	}
	if (ks->nkeys == 0)
		return kl_error_set(err, KL_ERR_JWKS,
		    "JWKS has no RS256 or ES256 signing key");
	return KL_OK;
}

int
kl_jwks_parse(const char *json, size_t len, const EVP_MD *sha256,
    kl_keyset **out, kl_error *err)
{
	json_error_t jerr;
	json_t *root = NULL, *keys;
	kl_keyset *ks = NULL;
	size_t n;
	int rc;

	*out = NULL;
	if (json == NULL || len > KL_JWKS_MAX)
		return kl_error_set(err, KL_ERR_JWKS,
		    "JWKS missing or larger than %d bytes", KL_JWKS_MAX);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		rc = kl_error_set(err, KL_ERR_JWKS,
		    "JWKS is not a JSON object");
		goto done;
	}
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys) ||
	    (n = json_array_size(keys)) > KL_JWKS_KEYS_MAX) {
		rc = kl_error_set(err, KL_ERR_JWKS,
		    "JWKS keys not an array of at most %d", KL_JWKS_KEYS_MAX);
		goto done;
	}
	ks = calloc(1, sizeof(*ks) + n * sizeof(ks->keys[0]));
	if (ks == NULL) {
		rc = kl_error_set(err, KL_ERR_NOMEM, "out of memory");
		goto done;
	}
	ks->refs = 1;
	if ((rc = jwks_load_keys(keys, sha256, ks, err)) != KL_OK)
		goto done;
	*out = ks;
	ks = NULL;
done:
	/* A refused key leaves OpenSSL errors in this thread's queue, where
	 * the application would find them later. */
	if (rc != KL_OK)
		ERR_clear_error();
	kl_jwks_free(ks);
	json_decref(root);
	return rc;
}

void
kl_jwks_free(kl_keyset *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->nkeys; i++)
		kl_jwk_clear(&ks->keys[i]);
	free(ks);
}

const struct kl_key *
kl_jwks_find(const kl_keyset *ks, const char *kid, size_t kidlen)
{
	size_t i;

	for (i = 0; i < ks->nkeys; i++) {
		const struct kl_key *k = &ks->keys[i];

		if (k->kidlen == kidlen && memcmp(k->kid, kid, kidlen) == 0)
			return &ks->keys[i];
	}
	return NULL;
}
