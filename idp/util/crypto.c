/* crypto.c - random bytes, digests and constant-time comparison. */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "util.h"

int
rand_bytes(unsigned char *out, size_t n)
{
	if (n > INT_MAX)
		return -1;
	return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int
rand_b64url(size_t n, char *out, size_t size)
{
	unsigned char raw[64];
	char *s;
	int rc = -1;

	if (n > sizeof(raw) || rand_bytes(raw, n) == -1)
		return -1;
	if ((s = b64url_encode(raw, n)) != NULL) {
		if (strlen(s) < size) {
			memcpy(out, s, strlen(s) + 1);
			rc = 0;
		}
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int
rand_token(char out[RAND_TOKEN_LEN])
{
	return rand_b64url(32, out, RAND_TOKEN_LEN);
}

void
sha256(const void *in, size_t len, unsigned char out[32])
{
	/* The one-shot SHA256() hashes in place: EVP_Digest with
	 * EVP_sha256() fetched the algorithm from the provider on every
	 * call, a lock and a hash-table walk on the token endpoint's path
	 * (client secrets, codes, refresh tokens; tests/bench). It cannot
	 * fail short of no memory, in which case the output is zeroed and
	 * no lookup can match it. */
	if (SHA256(in, len, out) == NULL)
		memset(out, 0, 32);
}

void
secret_hash(const char *secret, unsigned char out[32])
{
	sha256(secret, strlen(secret), out);
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int
ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int
ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	/* The length of a secret is not itself secret here (all are fixed
	 * length), but compare the bytes in constant time regardless. */
	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

void
wipe(void *p, size_t n)
{
	if (p != NULL)
		OPENSSL_cleanse(p, n);
}
