/* factor_seal.c - the keys of the second factors and AES-256-GCM sealing of
 * TOTP seeds at rest: nonce || ciphertext || tag, the user id bound in as
 * associated data so a sealed seed cannot be moved to another account. */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "factor.h"

#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (SEAL_NONCE_LEN + SEAL_TAG_LEN)

int
factor_keys_init(struct factor_keys *k, const keyset *ks)
{
	memset(k, 0, sizeof(*k));
	if (keyset_derive(ks, "kleidi totp seal v1", k->seal) == -1 ||
	    keyset_derive(ks, "kleidi recovery v1", k->recovery) == -1) {
		log_err("factor: cannot derive the second-factor keys");
		factor_keys_clear(k);
		return -1;
	}
	return 0;
}

void
factor_keys_clear(struct factor_keys *k)
{
	if (k != NULL)
		wipe(k, sizeof(*k));
}

/* Sets up ctx for key and nonce in the given direction and feeds the
 * associated data. 0 or -1. */
static int
seal_start(EVP_CIPHER_CTX *ctx, int enc, const unsigned char key[32],
    const unsigned char nonce[SEAL_NONCE_LEN], const char *aad)
{
	size_t alen = aad != NULL ? strlen(aad) : 0;
	int n;

	if (alen > INT_MAX)
		return -1;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		return -1;
	/* The associated data goes in with a NULL output buffer; even an
	 * empty one is fed so the call pattern never depends on it. */
	if (EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)(aad !=
	    NULL ? aad : ""), (int)alen) != 1)
		return -1;
	return 0;
}

int
seal(const unsigned char key[32], const char *aad, const unsigned char *in,
    size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, fin, rc = -1;

	*outlen = 0;
	if (len > INT_MAX - SEAL_OVERHEAD || cap < len + SEAL_OVERHEAD)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto done;
	/* A fresh random nonce per seal: with 96 random bits, a repeat under
	 * one key stays negligible far beyond the seals a store will see. */
	if (rand_bytes(out, SEAL_NONCE_LEN) == -1 ||
	    seal_start(ctx, 1, key, out, aad) == -1)
		goto done;
	if (EVP_EncryptUpdate(ctx, out + SEAL_NONCE_LEN, &n, in,
	    (int)len) != 1 || (size_t)n != len ||
	    EVP_EncryptFinal_ex(ctx, out + SEAL_NONCE_LEN + n, &fin) != 1 ||
	    fin != 0)
		goto done;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
	    out + SEAL_NONCE_LEN + len) != 1)
		goto done;
	*outlen = len + SEAL_OVERHEAD;
	rc = 0;
done:
	if (rc == -1) {
		log_err("seal: AES-256-GCM encryption failed");
		wipe(out, cap < len + SEAL_OVERHEAD ? cap :
		    len + SEAL_OVERHEAD);
	}
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
unseal(const unsigned char key[32], const char *aad, const unsigned char *in,
    size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char tag[SEAL_TAG_LEN];
	size_t clen;
	int n, fin, rc = -1;

	*outlen = 0;
	if (len < SEAL_OVERHEAD || len > INT_MAX)
		return -1;
	clen = len - SEAL_OVERHEAD;
	if (cap < clen)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto done;
	memcpy(tag, in + SEAL_NONCE_LEN + clen, SEAL_TAG_LEN);
	if (seal_start(ctx, 0, key, in, aad) == -1 ||
	    EVP_DecryptUpdate(ctx, out, &n, in + SEAL_NONCE_LEN,
	    (int)clen) != 1 || (size_t)n != clen ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
	    tag) != 1)
		goto done;
	/* The tag check: any change to nonce, ciphertext, tag, associated
	 * data or length fails here. */
	if (EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1 || fin != 0)
		goto done;
	*outlen = clen;
	rc = 0;
done:
	if (rc == -1)
		wipe(out, clen);	/* no unauthenticated plaintext */
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
