/*
 * test_jwks.c - which JWKS documents make a verifier, which keys in them
 * are used, skipped or refused, and the verifier's options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <unistd.h>

#include <cmocka.h>

#include "mint.h"

static struct mint_key rsa1, ec1;

static int
setup(void **state)
{
	(void)state;
	rsa1 = mint_rsa("rsa-1", 2048);
	ec1 = mint_ec("ec-1", "P-256");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mint_key_free(&rsa1);
	mint_key_free(&ec1);
	return 0;
}

/* The code kl_verifier_new_jwks gives for this document text. */
static int
jwks_text_rc(const char *jwks, size_t len)
{
	kl_verifier *v;
	kl_error err;

	v = kl_verifier_new_jwks(MINT_ISSUER, jwks, len, NULL, &err);
	assert_true((v != NULL) == (err.code == KL_OK));
	kl_verifier_free(v);
	return err.code;
}

/* The same for the JWKS of n jansson keys (references stolen). */
static int
jwks_rc(size_t n, json_t **keys)
{
	char *s = mint_jwks_of(n, keys);
	int rc = jwks_text_rc(s, strlen(s));

	free(s);
	return rc;
}

/* A verifier for these keys, then the code for token t (freed). */
static int
token_rc(size_t n, json_t **keys, char *t)
{
	char *s = mint_jwks_of(n, keys);
	kl_options opt;
	kl_verifier *v;
	int rc;

	mint_options(&opt);
	v = kl_verifier_new_jwks(MINT_ISSUER, s, strlen(s), &opt, NULL);
	assert_non_null(v);
	rc = kl_verify_access_token(v, t, MINT_AUDIENCE, NULL, NULL);
	kl_verifier_free(v);
	free(s);
	free(t);
	return rc;
}

static void
test_good_and_defaults(void **state)
{
	json_t *k[2];

	(void)state;
	k[0] = mint_jwk(&rsa1);
	k[1] = mint_jwk(&ec1);
	assert_int_equal(jwks_rc(2, k), KL_OK);
	/* Without alg and use: RS256 and ES256 by key type. */
	k[0] = mint_jwk(&rsa1);
	json_object_del(k[0], "alg");
	json_object_del(k[0], "use");
	k[1] = mint_jwk(&ec1);
	json_object_del(k[1], "alg");
	assert_int_equal(token_rc(2, k, mint_access(&rsa1)), KL_OK);
	k[0] = mint_jwk(&rsa1);
	k[1] = mint_jwk(&ec1);
	json_object_del(k[1], "alg");
	assert_int_equal(token_rc(2, k, mint_access(&ec1)), KL_OK);
	/* key_ops naming verify is fine. */
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "key_ops", json_pack("[s]", "verify"));
	assert_int_equal(token_rc(1, k, mint_access(&ec1)), KL_OK);
}

/* The same JWKS from a file: verifies like the bytes; a missing, empty or
 * oversized file is refused as "could not check", never as valid. */
static void
test_from_file(void **state)
{
	json_t *k[1];
	char path[] = "/tmp/kleidi-jwks-XXXXXX", *s, *t;
	kl_options opt;
	kl_verifier *v;
	kl_error err;
	FILE *f;
	int fd;

	(void)state;
	k[0] = mint_jwk(&ec1);
	s = mint_jwks_of(1, k);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	assert_int_equal(fputs(s, f) >= 0, 1);
	fclose(f);
	mint_options(&opt);
	v = kl_verifier_new_file(MINT_ISSUER, path, &opt, &err);
	assert_non_null(v);
	t = mint_access(&ec1);
	assert_int_equal(kl_verify_access_token(v, t, MINT_AUDIENCE, NULL,
	    NULL), KL_OK);
	kl_verifier_free(v);
	free(t);
	assert_null(kl_verifier_new_file(MINT_ISSUER, "/nonexistent/jwks",
	    &opt, &err));
	assert_int_equal(err.code, KL_ERR_JWKS);
	assert_null(kl_verifier_new_file(MINT_ISSUER, NULL, &opt, &err));
	assert_int_equal(err.code, KL_ERR_ARGUMENT);
	/* Valid JSON, but trailing blanks take it past KL_JWKS_MAX: only
	 * the size limit can refuse it. */
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(s, f) >= 0, 1);
	for (size_t i = 0; i <= KL_JWKS_MAX; i++)
		assert_int_equal(fputc(' ', f), ' ');
	fclose(f);
	assert_null(kl_verifier_new_file(MINT_ISSUER, path, &opt, &err));
	assert_int_equal(err.code, KL_ERR_JWKS);
	assert_non_null(strstr(err.text, "too large"));
	unlink(path);
	free(s);
}

static void
test_rsa_size(void **state)
{
	struct mint_key weak = mint_rsa("weak", 1024);
	struct mint_key big = mint_rsa("big", 3072);
	json_t *k[2];

	(void)state;
	/* One weak key refuses the whole document. */
	k[0] = mint_jwk(&rsa1);
	k[1] = mint_jwk(&weak);
	assert_int_equal(jwks_rc(2, k), KL_ERR_JWKS);
	k[0] = mint_jwk(&big);
	assert_int_equal(token_rc(1, k, mint_access(&big)), KL_OK);
	mint_key_free(&weak);
	mint_key_free(&big);
}

static void
test_skipped_keys(void **state)
{
	struct mint_key p384 = mint_ec("p384", "P-384");
	json_t *k[3];

	(void)state;
	/* Encryption keys, other key types, other algorithms: skipped. */
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "use", json_string("enc"));
	k[1] = json_pack("{s:s, s:s}", "kty", "OKP", "kid", "ed");
	k[2] = mint_jwk(&p384);
	json_object_del(k[2], "alg");
	assert_int_equal(jwks_rc(3, k), KL_ERR_JWKS);	/* nothing left */
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "use", json_string("enc"));
	k[1] = mint_jwk(&rsa1);
	assert_int_equal(token_rc(2, k, mint_access(&ec1)),
	    KL_ERR_UNKNOWN_KID);
	/* PS256 on an RSA key is not verified by this SDK. */
	k[0] = mint_jwk(&rsa1);
	json_object_set_new(k[0], "alg", json_string("PS256"));
	k[1] = mint_jwk(&ec1);
	assert_int_equal(token_rc(2, k, mint_access(&rsa1)),
	    KL_ERR_UNKNOWN_KID);
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "key_ops", json_pack("[s]", "sign"));
	k[1] = mint_jwk(&rsa1);
	assert_int_equal(token_rc(2, k, mint_access(&ec1)),
	    KL_ERR_UNKNOWN_KID);
	mint_key_free(&p384);
}

static void
test_refused_documents(void **state)
{
	json_t *k[2];

	(void)state;
	/* Private or secret material in a public document. */
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "d", json_string("AAAA"));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	k[0] = json_pack("{s:s, s:s, s:s}", "kty", "oct", "kid", "h",
	    "k", "c2VjcmV0");
	k[1] = mint_jwk(&ec1);
	assert_int_equal(jwks_rc(2, k), KL_ERR_JWKS);
	/* Same kid twice. */
	k[0] = mint_jwk(&ec1);
	k[1] = mint_jwk(&rsa1);
	json_object_set_new(k[1], "kid", json_string("ec-1"));
	assert_int_equal(jwks_rc(2, k), KL_ERR_JWKS);
	/* No kid, or not a string. */
	k[0] = mint_jwk(&ec1);
	json_object_del(k[0], "kid");
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "kid", json_integer(1));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	/* alg that contradicts the key. */
	k[0] = mint_jwk(&rsa1);
	json_object_set_new(k[0], "alg", json_string("ES256"));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "alg", json_string("RS256"));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "crv", json_string("P-384"));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
}

static void
test_bad_key_material(void **state)
{
	json_t *k[1];
	char *y;

	(void)state;
	/* A point off the curve: y changed. */
	k[0] = mint_jwk(&ec1);
	y = strdup(json_string_value(json_object_get(k[0], "y")));
	y[5] = y[5] == 'A' ? 'B' : 'A';
	json_object_set_new(k[0], "y", json_string(y));
	free(y);
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	/* x of 31 bytes. */
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "x", json_string(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	/* Padding and a bad alphabet. */
	k[0] = mint_jwk(&rsa1);
	json_object_set_new(k[0], "e", json_string("AQAB=="));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	k[0] = mint_jwk(&rsa1);
	json_object_set_new(k[0], "e", json_string("AQ+B"));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	/* e = 1 would accept the signature as its own message. */
	k[0] = mint_jwk(&rsa1);
	json_object_set_new(k[0], "e", json_string("AQ"));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	/* Missing members. */
	k[0] = mint_jwk(&rsa1);
	json_object_del(k[0], "n");
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	k[0] = mint_jwk(&ec1);
	json_object_del(k[0], "crv");
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
	k[0] = mint_jwk(&ec1);
	json_object_set_new(k[0], "use", json_integer(1));
	assert_int_equal(jwks_rc(1, k), KL_ERR_JWKS);
}

static void
test_document_shape(void **state)
{
	static const char *bad[] = {
		"", "null", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[1]}",
		"{\"keys\":[]}", "{\"keys\":[{}]}",
		"{\"keys\":[],\"keys\":[]}",
	};
	json_t *arr = json_array(), *root;
	char *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(jwks_text_rc(bad[i], strlen(bad[i])),
		    KL_ERR_JWKS);
	/* More than KL_JWKS_KEYS_MAX keys. */
	for (i = 0; i <= KL_JWKS_KEYS_MAX; i++)
		json_array_append_new(arr, json_pack("{s:s}", "kty", "OKP"));
	root = json_pack("{s:o}", "keys", arr);
	s = json_dumps(root, JSON_COMPACT);
	assert_int_equal(jwks_text_rc(s, strlen(s)), KL_ERR_JWKS);
	free(s);
	json_decref(root);
	/* Larger than KL_JWKS_MAX, even if well-formed. */
	s = malloc(KL_JWKS_MAX + 2);
	memset(s, ' ', KL_JWKS_MAX + 1);
	memcpy(s, "{\"keys\":[]}", 11);
	s[KL_JWKS_MAX + 1] = '\0';
	assert_int_equal(jwks_text_rc(s, KL_JWKS_MAX + 1), KL_ERR_JWKS);
	free(s);
}

/* The length given is honoured: no NUL terminator is needed or read. */
static void
test_length_not_nul(void **state)
{
	json_t *k[1] = { mint_jwk(&ec1) };
	char *s = mint_jwks_of(1, k);
	size_t n = strlen(s);
	char *buf = malloc(n);

	(void)state;
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): the point */
	memcpy(buf, s, n);
	assert_int_equal(jwks_text_rc(buf, n), KL_OK);
	assert_int_equal(jwks_text_rc(buf, n - 1), KL_ERR_JWKS);
	free(buf);
	free(s);
}

static void
test_options(void **state)
{
	json_t *k[1] = { mint_jwk(&ec1) };
	char *s = mint_jwks_of(1, k);
	kl_options opt;
	kl_error err;
	kl_verifier *v;
	json_t *c;
	char *t;
	size_t i;
	struct {
		int64_t leeway, refresh, min;
		long timeout;
		unsigned int version, flags;
	} bad[] = {
		{ -1, 3600, 60, 1000, KL_OPTIONS_VERSION, 0 },
		{ KL_LEEWAY_MAX + 1, 3600, 60, 1000, KL_OPTIONS_VERSION, 0 },
		{ 60, 3600, 0, 1000, KL_OPTIONS_VERSION, 0 },
		{ 60, 30, 60, 1000, KL_OPTIONS_VERSION, 0 },
		{ 60, 3600, 60, 0, KL_OPTIONS_VERSION, 0 },
		{ 60, 3600, 60, 1000, 0, 0 },
		{ 60, 3600, 60, 1000, KL_OPTIONS_VERSION, 0x80 },
	};

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kl_options_init(&opt);
		opt.leeway = bad[i].leeway;
		opt.refresh_interval = bad[i].refresh;
		opt.min_refresh_interval = bad[i].min;
		opt.http_timeout_ms = bad[i].timeout;
		opt.version = bad[i].version;
		opt.flags = bad[i].flags;
		v = kl_verifier_new_jwks(MINT_ISSUER, s, strlen(s), &opt, &err);
		assert_null(v);
		assert_int_equal(err.code, KL_ERR_ARGUMENT);
	}
	kl_options_init(&opt);
	assert_int_equal(opt.version, KL_OPTIONS_VERSION);
	assert_int_equal(opt.leeway, KL_LEEWAY_DEFAULT);
	assert_int_equal(opt.min_refresh_interval, KL_MIN_REFRESH_DEFAULT);
	assert_null(opt.now);
	/* No leeway: a token one second past exp is expired. */
	mint_options(&opt);
	opt.leeway = 0;
	v = kl_verifier_new_jwks(MINT_ISSUER, s, strlen(s), &opt, &err);
	assert_non_null(v);
	c = mint_access_claims();
	json_object_set_new(c, "exp", json_integer(MINT_NOW));
	t = mint_token(&ec1, "at+jwt", c);
	assert_int_equal(kl_verify_access_token(v, t, MINT_AUDIENCE, NULL,
	    NULL), KL_ERR_EXPIRED);
	free(t);
	kl_verifier_free(v);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_and_defaults),
		cmocka_unit_test(test_from_file),
		cmocka_unit_test(test_rsa_size),
		cmocka_unit_test(test_skipped_keys),
		cmocka_unit_test(test_refused_documents),
		cmocka_unit_test(test_bad_key_material),
		cmocka_unit_test(test_document_shape),
		cmocka_unit_test(test_length_not_nul),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
