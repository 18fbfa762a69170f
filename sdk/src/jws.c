/*
 * jws.c - a compact JWS (RFC 7515 section 7.1): split strictly, header
 * checked, signature verified with the key the JWKS pinned.
 *
 * Order matters: the header decides only *which* key and algorithm, and is
 * refused before any cryptography when it names an algorithm outside
 * RS256/ES256 (none, HS*, ...). Nothing of the payload is looked at before
 * the signature verifies.
 */
#include <string.h>

#include <openssl/err.h>

#include "internal.h"

#define JWS_HEADER_MAX	(KL_HEADER_B64_MAX / 4 * 3 + 2)
#define JWS_DER_MAX	(2 + 2 * (2 + 1 + KL_ES256_SIG_LEN / 2))

/* Finds the three parts; a fourth or a missing one is malformed. */
static int
jws_split(const char *token, struct kl_jws *jws, kl_error *err)
{
	const char *d1, *d2;
	size_t len;

	len = strnlen(token, KL_TOKEN_MAX + 1);
	if (len > KL_TOKEN_MAX)
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token longer than %d bytes", KL_TOKEN_MAX);
	if ((d1 = memchr(token, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) ==
	    NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token is not three dot-separated parts");
	jws->token = token;
	jws->signed_len = (size_t)(d2 - token);
	jws->payload = d1 + 1;
	jws->payload_len = (size_t)(d2 - jws->payload);
	jws->sig = d2 + 1;
	jws->sig_len = len - (size_t)(jws->sig - token);
	if (d1 == token || jws->payload_len == 0 ||
	    (size_t)(d1 - token) > KL_HEADER_B64_MAX)
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token header or payload empty or too long");
	return KL_OK;
}

static int
jws_alg(const char *name, enum kl_alg *alg)
{
	if (strcmp(name, "RS256") == 0)
		*alg = KL_ALG_RS256;
	else if (strcmp(name, "ES256") == 0)
		*alg = KL_ALG_ES256;
	else
		return -1;
	return 0;
}

/* alg, kid, typ and crit of the parsed header object. */
static int
jws_header_fields(struct kl_jws *jws, kl_error *err)
{
	json_t *alg, *kid, *typ;

	alg = json_object_get(jws->header, "alg");
	if (!json_is_string(alg))
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token header without alg");
	if (jws_alg(json_string_value(alg), &jws->alg) != 0)
		return kl_error_set(err, KL_ERR_ALG,
		    "token alg is neither RS256 nor ES256");
	/* No extension is understood, so any crit must be refused
	 * (RFC 7515 section 4.1.11). */
	if (json_object_get(jws->header, "crit") != NULL)
		return kl_error_set(err, KL_ERR_CRIT,
		    "token header has crit");
	kid = json_object_get(jws->header, "kid");
	if (!json_is_string(kid) || json_string_length(kid) == 0 ||
	    json_string_length(kid) > KL_KID_MAX)
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token header without a valid kid");
	jws->kid = json_string_value(kid);
	jws->kidlen = json_string_length(kid);
	typ = json_object_get(jws->header, "typ");
	if (typ != NULL && !json_is_string(typ))
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token typ is not a string");
	jws->typ = json_string_value(typ);
	return KL_OK;
}

int
kl_jws_parse(const char *token, struct kl_jws *jws, kl_error *err)
{
	unsigned char buf[JWS_HEADER_MAX];
	json_error_t jerr;
	size_t len;
	int rc;

	memset(jws, 0, sizeof(*jws));
	if ((rc = jws_split(token, jws, err)) != KL_OK)
		return rc;
	if (kl_b64url_decode(token, (size_t)(jws->payload - 1 - token), buf,
	    sizeof(buf), &len) != 0)
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token header is not base64url");
	/* Duplicate members are refused: two "alg" must not let one party
	 * read one and another party the other. */
	jws->header = json_loadb((const char *)buf, len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (jws->header == NULL || !json_is_object(jws->header))
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token header is not a JSON object");
	return jws_header_fields(jws, err);
}

void
kl_jws_clear(struct kl_jws *jws)
{
	json_decref(jws->header);
	memset(jws, 0, sizeof(*jws));
}

/* One DER INTEGER of the unsigned big-endian v[0..n). */
static size_t
jws_der_integer(const unsigned char *v, size_t n, unsigned char *out)
{
	size_t o = 0;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	out[o++] = 0x02;
	out[o++] = (unsigned char)(n + (v[0] >> 7));
	if (v[0] & 0x80)
		out[o++] = 0x00;
	memcpy(out + o, v, n);
	return o + n;
}

/*
 * JWS carries ECDSA signatures as R || S (RFC 7518 section 3.4); OpenSSL
 * wants DER. Encoded by hand: the bytes i2d_ECDSA_SIG makes, without two
 * BIGNUMs and an ECDSA_SIG allocated per verification.
 */
static size_t
jws_es256_der(const unsigned char *rs, unsigned char *der)
{
	size_t n;

	n = jws_der_integer(rs, KL_ES256_SIG_LEN / 2, der + 2);
	n += jws_der_integer(rs + KL_ES256_SIG_LEN / 2, KL_ES256_SIG_LEN / 2,
	    der + 2 + n);
	der[0] = 0x30;
	der[1] = (unsigned char)n;
	return n + 2;
}

static int
jws_check(const struct kl_key *key, const unsigned char *digest,
    const unsigned char *sig, size_t siglen, kl_error *err)
{
	EVP_PKEY_CTX *ctx;
	int r;

	if ((ctx = EVP_PKEY_CTX_dup(key->vctx)) == NULL)
		return kl_error_set(err, KL_ERR_NOMEM, "out of memory");
	r = EVP_PKEY_verify(ctx, sig, siglen, digest, 32);
	EVP_PKEY_CTX_free(ctx);
	if (r == 1)
		return KL_OK;
	/* A failed check leaves errors in this thread's OpenSSL queue, where
	 * the application would find them later. */
	ERR_clear_error();
	/* 0 is "does not verify"; below 0 is a failure to check at all
	 * (the DER given is always well-formed). */
	if (r == 0)
		return kl_error_set(err, KL_ERR_SIGNATURE,
		    "token signature does not verify");
	return kl_error_set(err, KL_ERR_CRYPTO, "signature check failed");
}

int
kl_jws_verify(const struct kl_jws *jws, const struct kl_key *key,
    const EVP_MD *sha256, kl_error *err)
{
	unsigned char sig[KL_SIG_MAX], der[JWS_DER_MAX];
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;
	size_t siglen;

	if (jws->alg != key->alg)
		return kl_error_set(err, KL_ERR_ALG,
		    "token alg is not the alg of its key");
	if (kl_b64url_decode(jws->sig, jws->sig_len, sig, sizeof(sig),
	    &siglen) != 0)
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token signature is not base64url");
	if (siglen != key->siglen)
		return kl_error_set(err, KL_ERR_SIGNATURE,
		    "token signature has the wrong length");
	if (EVP_Digest(jws->token, jws->signed_len, digest, &dlen, sha256,
	    NULL) != 1 || dlen != 32) {
		ERR_clear_error();
		return kl_error_set(err, KL_ERR_CRYPTO, "SHA-256 failed");
	}
	if (key->alg == KL_ALG_ES256)
		return jws_check(key, digest, der, jws_es256_der(sig, der),
		    err);
	return jws_check(key, digest, sig, siglen, err);
}
