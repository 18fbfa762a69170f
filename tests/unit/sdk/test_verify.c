/*
 * test_verify.c - kl_verify_access_token and kl_verify_id_token against
 * tokens minted here with OpenSSL: the good ones pass with their claims,
 * and every kind of bad one fails with its own code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "mint.h"

static struct mint_key rsa1, ec1, rsa_other, ec_other;
static kl_verifier *ver;

static int
setup(void **state)
{
	struct mint_key keys[2];
	kl_options opt;
	kl_error err;
	char *jwks;

	(void)state;
	rsa1 = mint_rsa("rsa-1", 2048);
	ec1 = mint_ec("ec-1", "P-256");
	/* Keys the issuer does not have, under the issuer's kids. */
	rsa_other = mint_rsa("rsa-1", 2048);
	ec_other = mint_ec("ec-1", "P-256");
	keys[0] = rsa1;
	keys[1] = ec1;
	jwks = mint_jwks(2, keys);
	mint_options(&opt);
	ver = kl_verifier_new_jwks(MINT_ISSUER, jwks, strlen(jwks), &opt,
	    &err);
	free(jwks);
	if (ver == NULL) {
		(void)fprintf(stderr, "verifier: %s\n", err.text);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	kl_verifier_free(ver);
	mint_key_free(&rsa1);
	mint_key_free(&ec1);
	mint_key_free(&rsa_other);
	mint_key_free(&ec_other);
	return 0;
}

static int
reset_clock(void **state)
{
	(void)state;
	atomic_store(&mint_clock, MINT_NOW);
	return 0;
}

/* Verifies an access token for MINT_AUDIENCE; frees it. */
static int
access_rc(char *token)
{
	kl_claims *c = (kl_claims *)&c;	/* must come back NULL on failure */
	kl_error err;
	int rc;

	rc = kl_verify_access_token(ver, token, MINT_AUDIENCE, &c, &err);
	assert_int_equal(err.code, rc);
	if (rc != KL_OK) {
		assert_null(c);
		assert_true(err.text[0] != '\0');
	} else {
		assert_non_null(c);
		assert_string_equal(err.text, "");
	}
	kl_claims_free(c);
	free(token);
	return rc;
}

static int
id_rc(char *token, const char *nonce)
{
	kl_claims *c = NULL;
	int rc;

	rc = kl_verify_id_token(ver, token, "payroll-web", nonce, &c, NULL);
	if (rc != KL_OK)
		assert_null(c);
	kl_claims_free(c);
	free(token);
	return rc;
}

/* ---- good tokens */

static void
check_access_claims(const kl_claims *c)
{
	assert_string_equal(kl_claims_sub(c), "u-7f3a");
	assert_string_equal(kl_claims_iss(c), MINT_ISSUER);
	assert_string_equal(kl_claims_org(c), "ATH01");
	assert_string_equal(kl_claims_user_type(c), "employee");
	assert_string_equal(kl_claims_acr(c),
	    "http://eidas.europa.eu/LoA/substantial");
	assert_string_equal(kl_claims_client_id(c), "payroll-web");
	assert_true(kl_claims_has_role(c, "clerk"));
	assert_true(kl_claims_has_role(c, "approver"));
	assert_false(kl_claims_has_role(c, "admin"));
	assert_true(kl_claims_has_amr(c, "otp"));
	assert_false(kl_claims_has_amr(c, "sms"));
	assert_int_equal(kl_claims_exp(c), MINT_NOW + 300);
	assert_int_equal(kl_claims_iat(c), MINT_NOW);
}

static void
test_access_rs256_and_es256(void **state)
{
	struct mint_key *keys[2] = { &rsa1, &ec1 };
	kl_claims *c;
	kl_error err;
	char *t;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		t = mint_access(keys[i]);
		assert_int_equal(kl_verify_access_token(ver, t, MINT_AUDIENCE,
		    &c, &err), KL_OK);
		assert_int_equal(err.code, KL_OK);
		check_access_claims(c);
		kl_claims_free(c);
		/* out may be NULL: a yes/no answer. */
		assert_int_equal(kl_verify_access_token(ver, t, MINT_AUDIENCE,
		    NULL, NULL), KL_OK);
		free(t);
	}
}

static void
test_access_typ_variants(void **state)
{
	(void)state;
	assert_int_equal(access_rc(mint_token(&ec1, "application/at+jwt",
	    mint_access_claims())), KL_OK);
	assert_int_equal(access_rc(mint_token(&ec1, "AT+JWT",
	    mint_access_claims())), KL_OK);
	/* RFC 9068: a plain JWT is not an access token. */
	assert_int_equal(access_rc(mint_token(&ec1, NULL,
	    mint_access_claims())), KL_ERR_TYPE);
	assert_int_equal(access_rc(mint_token(&ec1, "JWT",
	    mint_access_claims())), KL_ERR_TYPE);
	assert_int_equal(access_rc(mint_token(&rsa1, "at+jwt+x",
	    mint_access_claims())), KL_ERR_TYPE);
}

static void
test_id_tokens(void **state)
{
	kl_claims *c;
	char *t;

	(void)state;
	t = mint_token(&rsa1, "JWT", mint_id_claims("n-0S6_WzA2Mj"));
	assert_int_equal(kl_verify_id_token(ver, t, "payroll-web",
	    "n-0S6_WzA2Mj", &c, NULL), KL_OK);
	assert_string_equal(kl_claims_sub(c), "u-7f3a");
	assert_string_equal(kl_claims_acr(c),
	    "http://eidas.europa.eu/LoA/low");
	assert_int_equal(kl_claims_auth_time(c), MINT_NOW - 10);
	assert_string_equal(kl_claims_string(c, "nonce"), "n-0S6_WzA2Mj");
	kl_claims_free(c);
	/* No nonce asked: not checked. No typ: fine for an ID token. */
	assert_int_equal(kl_verify_id_token(ver, t, "payroll-web", NULL,
	    NULL, NULL), KL_OK);
	free(t);
	assert_int_equal(id_rc(mint_token(&ec1, NULL, mint_id_claims(NULL)),
	    NULL), KL_OK);
	/* An access token is not an ID token, even for the same client. */
	assert_int_equal(id_rc(mint_token(&ec1, "at+jwt",
	    mint_id_claims(NULL)), NULL), KL_ERR_TYPE);
	/* Another client's ID token. */
	t = mint_token(&ec1, "JWT", mint_id_claims(NULL));
	assert_int_equal(kl_verify_id_token(ver, t, "accounting", NULL, NULL,
	    NULL), KL_ERR_AUDIENCE);
	free(t);
}

static void
test_id_nonce(void **state)
{
	(void)state;
	assert_int_equal(id_rc(mint_token(&ec1, "JWT", mint_id_claims("abc")),
	    "abd"), KL_ERR_NONCE);
	assert_int_equal(id_rc(mint_token(&ec1, "JWT", mint_id_claims("abc")),
	    "abcd"), KL_ERR_NONCE);
	assert_int_equal(id_rc(mint_token(&ec1, "JWT", mint_id_claims(NULL)),
	    "abc"), KL_ERR_NONCE);
	assert_int_equal(id_rc(mint_token(&ec1, "JWT", mint_id_claims("abc")),
	    "abc"), KL_OK);
}

static void
test_id_azp(void **state)
{
	json_t *c;

	(void)state;
	/* Several audiences need azp naming the client. */
	c = mint_id_claims(NULL);
	json_object_set_new(c, "aud", json_pack("[s,s]", "payroll-web",
	    "other"));
	assert_int_equal(id_rc(mint_token(&ec1, NULL, c), NULL),
	    KL_ERR_AUDIENCE);
	c = mint_id_claims(NULL);
	json_object_set_new(c, "aud", json_pack("[s,s]", "payroll-web",
	    "other"));
	json_object_set_new(c, "azp", json_string("payroll-web"));
	assert_int_equal(id_rc(mint_token(&ec1, NULL, c), NULL), KL_OK);
	/* azp, when present, must be this client even for one audience. */
	c = mint_id_claims(NULL);
	json_object_set_new(c, "azp", json_string("other"));
	assert_int_equal(id_rc(mint_token(&ec1, NULL, c), NULL),
	    KL_ERR_AUDIENCE);
}

/* ---- signatures and algorithms */

/* Replaces the payload of token by another one, keeping the signature. */
static char *
swap_payload(char *token, const char *payload)
{
	char *d1 = strchr(token, '.'), *d2 = strchr(d1 + 1, '.');
	char *p = mint_b64s(payload), *t;

	*d1 = '\0';
	t = malloc(strlen(token) + strlen(p) + strlen(d2) + 2);
	(void)sprintf(t, "%s.%s%s", token, p, d2);
	free(p);
	free(token);
	return t;
}

static void
test_tampered_payload(void **state)
{
	struct mint_key *keys[2] = { &rsa1, &ec1 };
	json_t *c;
	char *payload;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		c = mint_access_claims();
		json_object_set_new(c, "roles", json_pack("[s]", "admin"));
		payload = json_dumps(c, JSON_COMPACT);
		json_decref(c);
		assert_int_equal(access_rc(swap_payload(mint_access(keys[i]),
		    payload)), KL_ERR_SIGNATURE);
		free(payload);
	}
}

/* Flips one bit in the middle of the decoded signature. */
static char *
flip_signature(const struct mint_key *k)
{
	json_t *claims = mint_access_claims();
	char *payload = json_dumps(claims, JSON_COMPACT), *in, *t;
	unsigned char sig[600];
	size_t n;

	in = mint_input(mint_header(k, "at+jwt"), payload);
	n = mint_sign_raw(k, in, sig);
	sig[n / 2] ^= 0x10;
	t = mint_join(in, sig, n);
	free(in);
	free(payload);
	json_decref(claims);
	return t;
}

static void
test_tampered_signature(void **state)
{
	(void)state;
	assert_int_equal(access_rc(flip_signature(&rsa1)), KL_ERR_SIGNATURE);
	assert_int_equal(access_rc(flip_signature(&ec1)), KL_ERR_SIGNATURE);
	/* Right kid, wrong key. */
	assert_int_equal(access_rc(mint_access(&rsa_other)), KL_ERR_SIGNATURE);
	assert_int_equal(access_rc(mint_access(&ec_other)), KL_ERR_SIGNATURE);
}

static char *
unsigned_token(const char *header)
{
	json_t *c = mint_access_claims();
	char *payload = json_dumps(c, JSON_COMPACT);
	char *in = mint_input(header, payload), *t;

	json_decref(c);
	free(payload);
	t = malloc(strlen(in) + 2);
	(void)sprintf(t, "%s.", in);
	free(in);
	return t;
}

static void
test_alg_none(void **state)
{
	(void)state;
	assert_int_equal(access_rc(unsigned_token(
	    "{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"rsa-1\"}")),
	    KL_ERR_ALG);
	assert_int_equal(access_rc(unsigned_token(
	    "{\"alg\":\"none\",\"typ\":\"at+jwt\"}")), KL_ERR_ALG);
	assert_int_equal(access_rc(unsigned_token(
	    "{\"alg\":\"NONE\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}")),
	    KL_ERR_ALG);
}

/* HS256 with the public key bytes as the HMAC secret: the classic
 * algorithm confusion. */
static char *
hs256_token(const char *secret, size_t secretlen)
{
	json_t *c = mint_access_claims();
	char *payload = json_dumps(c, JSON_COMPACT);
	char *in = mint_input("{\"alg\":\"HS256\",\"typ\":\"at+jwt\","
	    "\"kid\":\"rsa-1\"}", payload), *t;
	unsigned char mac[32];
	unsigned int maclen = sizeof(mac);

	json_decref(c);
	free(payload);
	if (HMAC(EVP_sha256(), secret, (int)secretlen,
	    (const unsigned char *)in, strlen(in), mac, &maclen) == NULL)
		mint_die("HMAC");
	t = mint_join(in, mac, maclen);
	free(in);
	return t;
}

static void
test_alg_hmac_with_public_key(void **state)
{
	json_t *jwk = mint_jwk(&rsa1);
	char *jwk_text = json_dumps(jwk, JSON_COMPACT), *pem;
	BIO *bio = BIO_new(BIO_s_mem());
	long pemlen;

	(void)state;
	assert_int_equal(access_rc(hs256_token(jwk_text, strlen(jwk_text))),
	    KL_ERR_ALG);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, rsa1.pkey), 1);
	pemlen = BIO_get_mem_data(bio, &pem);
	assert_int_equal(access_rc(hs256_token(pem, (size_t)pemlen)),
	    KL_ERR_ALG);
	BIO_free(bio);
	free(jwk_text);
	json_decref(jwk);
}

static void
test_alg_not_the_keys(void **state)
{
	struct mint_key fake;
	json_t *c;
	char *payload;

	(void)state;
	/* Header says RS256 (signed with an RSA key) but names the EC key. */
	fake = rsa_other;
	(void)snprintf(fake.kid, sizeof(fake.kid), "ec-1");
	assert_int_equal(access_rc(mint_access(&fake)), KL_ERR_ALG);
	/* And ES256 naming the RSA key. */
	fake = ec_other;
	(void)snprintf(fake.kid, sizeof(fake.kid), "rsa-1");
	assert_int_equal(access_rc(mint_access(&fake)), KL_ERR_ALG);
	/* Algorithms the SDK never verifies. */
	c = mint_access_claims();
	payload = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	assert_int_equal(access_rc(mint_token_raw(&rsa1,
	    "{\"alg\":\"PS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa-1\"}",
	    payload)), KL_ERR_ALG);
	assert_int_equal(access_rc(mint_token_raw(&ec1,
	    "{\"alg\":\"ES384\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}",
	    payload)), KL_ERR_ALG);
	free(payload);
}

static void
test_unknown_kid(void **state)
{
	struct mint_key k = ec1;

	(void)state;
	(void)snprintf(k.kid, sizeof(k.kid), "ec-2");
	assert_int_equal(access_rc(mint_access(&k)), KL_ERR_UNKNOWN_KID);
}

static void
test_es256_signature_length(void **state)
{
	json_t *c = mint_access_claims();
	char *payload = json_dumps(c, JSON_COMPACT);
	char *in = mint_input(mint_header(&ec1, "at+jwt"), payload);
	unsigned char sig[600], der[80];
	size_t n = mint_sign_raw(&ec1, in, sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t derlen = sizeof(der);

	(void)state;
	json_decref(c);
	assert_int_equal(n, 64);
	assert_int_equal(access_rc(mint_join(in, sig, 63)), KL_ERR_SIGNATURE);
	sig[64] = 0;
	assert_int_equal(access_rc(mint_join(in, sig, 65)), KL_ERR_SIGNATURE);
	/* A DER signature, as OpenSSL makes it, is not a JWS signature. */
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    ec1.pkey), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &derlen,
	    (unsigned char *)in, strlen(in)), 1);
	assert_int_equal(access_rc(mint_join(in, der, derlen)),
	    KL_ERR_SIGNATURE);
	/* R = S = 0, and R, S beyond the group order, never verify, and
	 * are rejections, not failures to check. */
	memset(sig, 0, 64);
	assert_int_equal(access_rc(mint_join(in, sig, 64)), KL_ERR_SIGNATURE);
	memset(sig, 0xff, 64);
	assert_int_equal(access_rc(mint_join(in, sig, 64)), KL_ERR_SIGNATURE);
	memset(sig, 0, 64);
	sig[31] = 1;
	sig[63] = 1;
	assert_int_equal(access_rc(mint_join(in, sig, 64)), KL_ERR_SIGNATURE);
	EVP_MD_CTX_free(ctx);
	free(in);
	free(payload);
}

/* R or S with a leading zero byte (1 in 128 signatures): the DER made for
 * OpenSSL must drop it, or the good signature would fail. */
static void
test_es256_leading_zero(void **state)
{
	json_t *c = mint_access_claims();
	char *payload = json_dumps(c, JSON_COMPACT);
	char *in = mint_input(mint_header(&ec1, "at+jwt"), payload);
	unsigned char sig[64];
	int tries, found = 0;

	(void)state;
	json_decref(c);
	for (tries = 0; tries < 20000 && found < 2; tries++) {
		mint_sign_raw(&ec1, in, sig);
		if (sig[0] != 0 && sig[32] != 0)
			continue;
		found++;
		assert_int_equal(access_rc(mint_join(in, sig, 64)), KL_OK);
	}
	assert_int_equal(found, 2);
	free(in);
	free(payload);
}

/* ---- claims */

static int
access_with(const char *name, json_t *value)
{
	json_t *c = mint_access_claims();

	if (value == NULL)
		json_object_del(c, name);
	else
		json_object_set_new(c, name, value);
	return access_rc(mint_token(&ec1, "at+jwt", c));
}

static void
test_expiry_and_leeway(void **state)
{
	char *t;

	(void)state;
	assert_int_equal(access_with("exp", json_integer(MINT_NOW - 61)),
	    KL_ERR_EXPIRED);
	assert_int_equal(access_with("exp", json_integer(MINT_NOW - 60)),
	    KL_ERR_EXPIRED);
	/* Expired, but within the 60 s leeway. */
	assert_int_equal(access_with("exp", json_integer(MINT_NOW - 59)),
	    KL_OK);
	assert_int_equal(access_with("exp", json_real(MINT_NOW + 10.5)),
	    KL_OK);
	/* The clock moves on: a good token expires, leeway included. */
	t = mint_access(&ec1);
	atomic_store(&mint_clock, MINT_NOW + 300 + 59);
	assert_int_equal(kl_verify_access_token(ver, t, MINT_AUDIENCE, NULL,
	    NULL), KL_OK);
	atomic_store(&mint_clock, MINT_NOW + 300 + 60);
	assert_int_equal(access_rc(t), KL_ERR_EXPIRED);
}

static void
test_nbf_iat(void **state)
{
	(void)state;
	assert_int_equal(access_with("nbf", json_integer(MINT_NOW + 61)),
	    KL_ERR_NOT_YET_VALID);
	assert_int_equal(access_with("nbf", json_integer(MINT_NOW + 60)),
	    KL_OK);
	assert_int_equal(access_with("nbf", json_string("0")), KL_ERR_CLAIM);
	assert_int_equal(access_with("iat", json_integer(MINT_NOW + 61)),
	    KL_ERR_ISSUED_IN_FUTURE);
	assert_int_equal(access_with("iat", json_integer(MINT_NOW + 60)),
	    KL_OK);
}

static void
test_required_claims(void **state)
{
	(void)state;
	assert_int_equal(access_with("exp", NULL), KL_ERR_CLAIM);
	assert_int_equal(access_with("exp", json_string("1700000300")),
	    KL_ERR_CLAIM);
	assert_int_equal(access_with("exp", json_true()), KL_ERR_CLAIM);
	assert_int_equal(access_with("exp", json_real(1e300)), KL_ERR_CLAIM);
	assert_int_equal(access_with("iat", NULL), KL_ERR_CLAIM);
	assert_int_equal(access_with("iss", NULL), KL_ERR_CLAIM);
	assert_int_equal(access_with("aud", NULL), KL_ERR_CLAIM);
	assert_int_equal(access_with("aud", json_integer(1)), KL_ERR_CLAIM);
	assert_int_equal(access_with("sub", NULL), KL_ERR_CLAIM);
	assert_int_equal(access_with("sub", json_string("")), KL_ERR_CLAIM);
	assert_int_equal(access_with("sub", json_integer(7)), KL_ERR_CLAIM);
	assert_int_equal(access_with("client_id", NULL), KL_ERR_CLAIM);
}

static void
test_issuer_audience(void **state)
{
	(void)state;
	assert_int_equal(access_with("iss",
	    json_string("https://evil.example")), KL_ERR_ISSUER);
	assert_int_equal(access_with("iss", json_string(MINT_ISSUER "/")),
	    KL_ERR_ISSUER);
	assert_int_equal(access_with("aud", json_string("accounting")),
	    KL_ERR_AUDIENCE);
	assert_int_equal(access_with("aud", json_string("payrol")),
	    KL_ERR_AUDIENCE);
	assert_int_equal(access_with("aud", json_pack("[s,s]", "accounting",
	    MINT_AUDIENCE)), KL_OK);
	assert_int_equal(access_with("aud", json_pack("[s]", "accounting")),
	    KL_ERR_AUDIENCE);
	assert_int_equal(access_with("aud", json_pack("[]")),
	    KL_ERR_AUDIENCE);
	assert_int_equal(access_with("aud", json_pack("[s,i]",
	    MINT_AUDIENCE, 3)), KL_ERR_CLAIM);
}

/* ---- malformed input */

static char *
text(const char *s)
{
	char *t = strdup(s);

	assert_non_null(t);
	return t;
}

static void
test_malformed_structure(void **state)
{
	char *good = mint_access(&ec1), *t;
	size_t n = strlen(good);

	(void)state;
	assert_int_equal(access_rc(text("")), KL_ERR_MALFORMED);
	assert_int_equal(access_rc(text("abc")), KL_ERR_MALFORMED);
	assert_int_equal(access_rc(text("a.b")), KL_ERR_MALFORMED);
	assert_int_equal(access_rc(text("..")), KL_ERR_MALFORMED);
	/* Four parts, and two parts of a good token. */
	t = malloc(n + 3);
	(void)sprintf(t, "%s.x", good);
	assert_int_equal(access_rc(t), KL_ERR_MALFORMED);
	t = text(good);
	*strrchr(t, '.') = '\0';
	assert_int_equal(access_rc(t), KL_ERR_MALFORMED);
	/* Padding, whitespace, a character outside the alphabet. */
	t = malloc(n + 3);
	(void)sprintf(t, "%s==", good);
	assert_int_equal(access_rc(t), KL_ERR_MALFORMED);
	t = text(good);
	t[3] = '+';
	assert_int_equal(access_rc(t), KL_ERR_MALFORMED);
	t = text(good);
	t[n - 5] = ' ';
	assert_int_equal(access_rc(t), KL_ERR_MALFORMED);
	/* Too long. */
	t = malloc(KL_TOKEN_MAX + 10);
	memset(t, 'A', KL_TOKEN_MAX + 9);
	t[KL_TOKEN_MAX + 9] = '\0';
	memcpy(t, good, n);
	assert_int_equal(access_rc(t), KL_ERR_MALFORMED);
	free(good);
}

/* 86 characters decode to 64 bytes with 4 bits to spare: they must be 0. */
static void
test_malformed_trailing_bits(void **state)
{
	char *t = mint_access(&ec1);
	size_t n = strlen(t);
	char *v = text(t);

	(void)state;
	/* 'A' (000000) -> 'B' (000001): a different encoding of the same
	 * 64 bytes when only spare bits change. */
	assert_true(strchr("AQgw", t[n - 1]) != NULL);
	v[n - 1] = (char)(t[n - 1] + 1);
	assert_int_equal(access_rc(v), KL_ERR_MALFORMED);
	assert_int_equal(access_rc(t), KL_OK);
}

static int
header_rc(const char *header)
{
	json_t *c = mint_access_claims();
	char *payload = json_dumps(c, JSON_COMPACT);
	int rc;

	json_decref(c);
	rc = access_rc(mint_token_raw(&ec1, header, payload));
	free(payload);
	return rc;
}

static void
test_malformed_header(void **state)
{
	(void)state;
	assert_int_equal(header_rc("not json"), KL_ERR_MALFORMED);
	assert_int_equal(header_rc("[\"ES256\"]"), KL_ERR_MALFORMED);
	assert_int_equal(header_rc("{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
	    "\"kid\":\"ec-1\",\"alg\":\"none\"}"), KL_ERR_MALFORMED);
	assert_int_equal(header_rc("{\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}"),
	    KL_ERR_MALFORMED);
	assert_int_equal(header_rc("{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}"),
	    KL_ERR_MALFORMED);
	assert_int_equal(header_rc("{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
	    "\"kid\":7}"), KL_ERR_MALFORMED);
	assert_int_equal(header_rc("{\"alg\":\"ES256\",\"typ\":1,"
	    "\"kid\":\"ec-1\"}"), KL_ERR_MALFORMED);
	assert_int_equal(header_rc("{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
	    "\"kid\":\"ec-1\",\"crit\":[\"exp\"],\"exp\":1}"), KL_ERR_CRIT);
	/* A trailing member the SDK ignores does no harm. */
	assert_int_equal(header_rc("{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
	    "\"kid\":\"ec-1\",\"jku\":\"https://evil.example/k\"}"), KL_OK);
}

static void
test_malformed_payload(void **state)
{
	char *h = mint_header(&ec1, "at+jwt");

	(void)state;
	assert_int_equal(access_rc(mint_token_raw(&ec1, h, "not json")),
	    KL_ERR_MALFORMED);
	assert_int_equal(access_rc(mint_token_raw(&ec1, h, "[1]")),
	    KL_ERR_MALFORMED);
	assert_int_equal(access_rc(mint_token_raw(&ec1, h,
	    "{\"sub\":\"a\",\"sub\":\"b\"}")), KL_ERR_MALFORMED);
}

/* ---- arguments */

static void
test_null_arguments(void **state)
{
	char *t = mint_access(&ec1);
	kl_claims *c = (kl_claims *)&c;
	kl_error err;

	(void)state;
	assert_int_equal(kl_verify_access_token(NULL, t, MINT_AUDIENCE, &c,
	    &err), KL_ERR_ARGUMENT);
	assert_null(c);
	assert_int_equal(err.code, KL_ERR_ARGUMENT);
	assert_int_equal(kl_verify_access_token(ver, NULL, MINT_AUDIENCE, &c,
	    NULL), KL_ERR_ARGUMENT);
	assert_int_equal(kl_verify_access_token(ver, t, NULL, &c, NULL),
	    KL_ERR_ARGUMENT);
	assert_int_equal(kl_verify_access_token(ver, t, "", &c, NULL),
	    KL_ERR_ARGUMENT);
	assert_int_equal(kl_verify_id_token(NULL, t, "c", NULL, &c, NULL),
	    KL_ERR_ARGUMENT);
	assert_int_equal(kl_verify_id_token(ver, NULL, "c", NULL, &c, NULL),
	    KL_ERR_ARGUMENT);
	assert_int_equal(kl_verify_id_token(ver, t, NULL, NULL, &c, NULL),
	    KL_ERR_ARGUMENT);
	assert_int_equal(kl_verify_id_token(ver, t, "c", "", &c, NULL),
	    KL_ERR_ARGUMENT);
	assert_null(c);
	assert_false(kl_error_is_rejection(KL_ERR_ARGUMENT));
	/* Constructors. */
	assert_null(kl_verifier_new_jwks(NULL, "{}", 2, NULL, &err));
	assert_int_equal(err.code, KL_ERR_ARGUMENT);
	assert_null(kl_verifier_new_jwks(MINT_ISSUER, NULL, 0, NULL, &err));
	assert_int_equal(err.code, KL_ERR_ARGUMENT);
	assert_null(kl_verifier_new_jwks("", "{}", 2, NULL, &err));
	assert_int_equal(err.code, KL_ERR_ARGUMENT);
	assert_null(kl_verifier_new_url(MINT_ISSUER, NULL, NULL, &err));
	assert_int_equal(err.code, KL_ERR_ARGUMENT);
	kl_verifier_free(NULL);
	kl_claims_free(NULL);
	kl_options_init(NULL);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_access_rs256_and_es256,
		    reset_clock),
		cmocka_unit_test_setup(test_access_typ_variants, reset_clock),
		cmocka_unit_test_setup(test_id_tokens, reset_clock),
		cmocka_unit_test_setup(test_id_nonce, reset_clock),
		cmocka_unit_test_setup(test_id_azp, reset_clock),
		cmocka_unit_test_setup(test_tampered_payload, reset_clock),
		cmocka_unit_test_setup(test_tampered_signature, reset_clock),
		cmocka_unit_test_setup(test_alg_none, reset_clock),
		cmocka_unit_test_setup(test_alg_hmac_with_public_key,
		    reset_clock),
		cmocka_unit_test_setup(test_alg_not_the_keys, reset_clock),
		cmocka_unit_test_setup(test_unknown_kid, reset_clock),
		cmocka_unit_test_setup(test_es256_signature_length,
		    reset_clock),
		cmocka_unit_test_setup(test_es256_leading_zero, reset_clock),
		cmocka_unit_test_setup(test_expiry_and_leeway, reset_clock),
		cmocka_unit_test_setup(test_nbf_iat, reset_clock),
		cmocka_unit_test_setup(test_required_claims, reset_clock),
		cmocka_unit_test_setup(test_issuer_audience, reset_clock),
		cmocka_unit_test_setup(test_malformed_structure, reset_clock),
		cmocka_unit_test_setup(test_malformed_trailing_bits,
		    reset_clock),
		cmocka_unit_test_setup(test_malformed_header, reset_clock),
		cmocka_unit_test_setup(test_malformed_payload, reset_clock),
		cmocka_unit_test_setup(test_null_arguments, reset_clock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
