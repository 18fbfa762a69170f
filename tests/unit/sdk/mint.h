/*
 * mint.h - what the SDK tests share: keys made with OpenSSL, their JWKs,
 * and tokens signed (or mis-signed) exactly as each test needs, with any
 * header. Header-only because each test_*.c is its own program.
 */
#ifndef KLEIDI_TEST_MINT_H
#define KLEIDI_TEST_MINT_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "kleidi.h"

#define MINT_FN static __attribute__((unused))
#define MINT_NOW	1700000000	/* the injected clock's start */
#define MINT_ISSUER	"https://sso.kleidi.test"
#define MINT_AUDIENCE	"payroll"

struct mint_key {
	EVP_PKEY	*pkey;
	const char	*alg;		/* "RS256" or "ES256" */
	char		 kid[32];
};

/* ---- the injected clock: tests move time instead of sleeping */
static _Atomic int64_t mint_clock = MINT_NOW;

MINT_FN int64_t
mint_now(void *arg)
{
	(void)arg;
	return atomic_load(&mint_clock);
}

MINT_FN void
mint_options(kl_options *opt)
{
	kl_options_init(opt);
	opt->now = mint_now;
	opt->now_arg = NULL;
}

MINT_FN void
mint_die(const char *what)
{
	fprintf(stderr, "mint: %s failed\n", what);
	abort();
}

MINT_FN char *
mint_b64(const unsigned char *in, size_t len)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(len * 4 / 3 + 4), *o = out;
	size_t i;

	if (out == NULL)
		mint_die("malloc");
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = a[in[i] >> 2];
		*o++ = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = a[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = a[in[i + 2] & 63];
	}
	if (len - i == 1) {
		*o++ = a[in[i] >> 2];
		*o++ = a[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		*o++ = a[in[i] >> 2];
		*o++ = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = a[(in[i + 1] & 15) << 2];
	}
	*o = '\0';
	return out;
}

MINT_FN char *
mint_b64s(const char *s)
{
	return mint_b64((const unsigned char *)s, strlen(s));
}

MINT_FN struct mint_key
mint_rsa(const char *kid, unsigned int bits)
{
	struct mint_key k = { EVP_RSA_gen(bits), "RS256", "" };

	if (k.pkey == NULL)
		mint_die("RSA keygen");
	snprintf(k.kid, sizeof(k.kid), "%s", kid);
	return k;
}

MINT_FN struct mint_key
mint_ec(const char *kid, const char *curve)
{
	struct mint_key k = { EVP_EC_gen(curve), "ES256", "" };

	if (k.pkey == NULL)
		mint_die("EC keygen");
	snprintf(k.kid, sizeof(k.kid), "%s", kid);
	return k;
}

MINT_FN void
mint_key_free(struct mint_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

/* A public parameter as base64url, left-padded to pad bytes if pad > 0. */
MINT_FN char *
mint_bn_param(EVP_PKEY *pkey, const char *name, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1100];
	int n;
	char *s;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		mint_die("get_bn_param");
	n = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	if (n <= 0)
		mint_die("bn2bin");
	s = mint_b64(buf, (size_t)n);
	return s;
}

/* The public JWK of k as a jansson object; callers may add or remove
 * members to build broken keys. */
MINT_FN json_t *
mint_jwk(const struct mint_key *k)
{
	json_t *o;
	char *a, *b;

	if (EVP_PKEY_is_a(k->pkey, "RSA")) {
		a = mint_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
		b = mint_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA",
		    "kid", k->kid, "use", "sig", "alg", "RS256", "n", a,
		    "e", b);
	} else {
		char crv[32];
		size_t len;

		if (EVP_PKEY_get_utf8_string_param(k->pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, crv, sizeof(crv), &len) != 1)
			mint_die("group name");
		a = mint_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X,
		    strcmp(crv, "prime256v1") == 0 ? 32 : 48);
		b = mint_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
		    strcmp(crv, "prime256v1") == 0 ? 32 : 48);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "kty", "EC", "kid", k->kid, "use", "sig", "alg", "ES256",
		    "crv", strcmp(crv, "prime256v1") == 0 ? "P-256" : "P-384",
		    "x", a, "y", b);
	}
	free(a);
	free(b);
	if (o == NULL)
		mint_die("json_pack");
	return o;
}

/* {"keys":[jwk...]} text from n jansson JWKs (references stolen). */
MINT_FN char *
mint_jwks_of(size_t n, json_t **jwks)
{
	json_t *arr = json_array(), *root;
	char *s;
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, jwks[i]);
	root = json_pack("{s:o}", "keys", arr);
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (s == NULL)
		mint_die("json_dumps");
	return s;
}

MINT_FN char *
mint_jwks(size_t n, const struct mint_key *keys)
{
	json_t *jwk[8];
	size_t i;

	for (i = 0; i < n && i < 8; i++)
		jwk[i] = mint_jwk(&keys[i]);
	return mint_jwks_of(n < 8 ? n : 8, jwk);
}

/* An ECDSA DER signature as the 64-byte R || S of JWS. */
MINT_FN size_t
mint_der_to_rs(const unsigned char *der, size_t derlen, unsigned char *rs)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	const BIGNUM *r, *s;

	if (sig == NULL)
		mint_die("d2i_ECDSA_SIG");
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32)
		mint_die("bn2binpad");
	ECDSA_SIG_free(sig);
	return 64;
}

/* Signs input with k; ES256 signatures come out as R || S. */
MINT_FN size_t
mint_sign_raw(const struct mint_key *k, const char *input, unsigned char *sig)
{
	unsigned char der[600];
	size_t len = sizeof(der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    k->pkey) != 1 || EVP_DigestSign(ctx, der, &len,
	    (const unsigned char *)input, strlen(input)) != 1)
		mint_die("DigestSign");
	EVP_MD_CTX_free(ctx);
	if (EVP_PKEY_is_a(k->pkey, "EC"))
		return mint_der_to_rs(der, len, sig);
	memcpy(sig, der, len);
	return len;
}

/* "h.p" + "." + base64url(sig). */
MINT_FN char *
mint_join(const char *input, const unsigned char *sig, size_t siglen)
{
	char *s = mint_b64(sig, siglen);
	char *t = malloc(strlen(input) + strlen(s) + 2);

	if (t == NULL)
		mint_die("malloc");
	sprintf(t, "%s.%s", input, s);
	free(s);
	return t;
}

/* The signing input of a header and payload given as JSON text. */
MINT_FN char *
mint_input(const char *header, const char *payload)
{
	char *h = mint_b64s(header), *p = mint_b64s(payload);
	char *in = malloc(strlen(h) + strlen(p) + 2);

	if (in == NULL)
		mint_die("malloc");
	sprintf(in, "%s.%s", h, p);
	free(h);
	free(p);
	return in;
}

/* A token with exactly this header and payload text, signed by k. */
MINT_FN char *
mint_token_raw(const struct mint_key *k, const char *header,
    const char *payload)
{
	unsigned char sig[600];
	char *in = mint_input(header, payload), *t;
	size_t n = mint_sign_raw(k, in, sig);

	t = mint_join(in, sig, n);
	free(in);
	return t;
}

/* The usual header: alg of k, kid of k, typ (NULL: none). */
MINT_FN char *
mint_header(const struct mint_key *k, const char *typ)
{
	static char h[256];

	if (typ != NULL)
		snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"typ\":\"%s\","
		    "\"kid\":\"%s\"}", k->alg, typ, k->kid);
	else
		snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"%s\"}",
		    k->alg, k->kid);
	return h;
}

/*
 * The claims of a good access token at the clock's time, as a jansson
 * object that tests change before signing.
 */
MINT_FN json_t *
mint_access_claims(void)
{
	int64_t now = atomic_load(&mint_clock);
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s,"
	    " s:s, s:[s,s], s:[s,s,s], s:s}",
	    "iss", MINT_ISSUER, "sub", "u-7f3a", "aud", MINT_AUDIENCE,
	    "client_id", "payroll-web", "iat", (json_int_t)now,
	    "exp", (json_int_t)(now + 300), "jti", "j-1", "org", "ATH01",
	    "user_type", "employee", "acr",
	    "http://eidas.europa.eu/LoA/substantial", "roles", "clerk",
	    "approver", "amr", "pwd", "otp", "mfa", "scope", "openid profile");

	if (c == NULL)
		mint_die("json_pack claims");
	return c;
}

MINT_FN json_t *
mint_id_claims(const char *nonce)
{
	int64_t now = atomic_load(&mint_clock);
	json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}",
	    "iss", MINT_ISSUER, "sub", "u-7f3a", "aud", "payroll-web",
	    "iat", (json_int_t)now, "exp", (json_int_t)(now + 300),
	    "auth_time", (json_int_t)(now - 10), "org", "ATH01",
	    "acr", "http://eidas.europa.eu/LoA/low");

	if (c == NULL)
		mint_die("json_pack claims");
	if (nonce != NULL)
		json_object_set_new(c, "nonce", json_string(nonce));
	return c;
}

/* A token of k with typ over claims (reference stolen). */
MINT_FN char *
mint_token(const struct mint_key *k, const char *typ, json_t *claims)
{
	char *payload = json_dumps(claims, JSON_COMPACT), *t;

	json_decref(claims);
	if (payload == NULL)
		mint_die("json_dumps");
	t = mint_token_raw(k, mint_header(k, typ), payload);
	free(payload);
	return t;
}

MINT_FN char *
mint_access(const struct mint_key *k)
{
	return mint_token(k, "at+jwt", mint_access_claims());
}

#endif /* KLEIDI_TEST_MINT_H */
