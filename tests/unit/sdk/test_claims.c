/*
 * test_claims.c - the claims accessors on verified tokens, and the result
 * codes with their texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mint.h"

static struct mint_key ec1;
static kl_verifier *ver;

static int
setup(void **state)
{
	kl_options opt;
	char *jwks;

	(void)state;
	ec1 = mint_ec("ec-1", "P-256");
	jwks = mint_jwks(1, &ec1);
	mint_options(&opt);
	ver = kl_verifier_new_jwks(MINT_ISSUER, jwks, strlen(jwks), &opt,
	    NULL);
	free(jwks);
	return ver == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	kl_verifier_free(ver);
	mint_key_free(&ec1);
	return 0;
}

/* Verified claims of an access token with these extra claims set. */
static kl_claims *
claims_with(const char *extra_json)
{
	json_t *c = mint_access_claims(), *extra;
	json_error_t jerr;
	kl_claims *out;
	char *t;

	extra = json_loads(extra_json, 0, &jerr);
	assert_non_null(extra);
	assert_int_equal(json_object_update(c, extra), 0);
	json_decref(extra);
	t = mint_token(&ec1, "at+jwt", c);
	assert_int_equal(kl_verify_access_token(ver, t, MINT_AUDIENCE, &out,
	    NULL), KL_OK);
	free(t);
	return out;
}

static void
test_strings(void **state)
{
	kl_claims *c = claims_with("{\"org\":7,\"user_type\":\"citizen\","
	    "\"name\":\"Ελένη\",\"nul\":null}");

	(void)state;
	assert_null(kl_claims_org(c));		/* not a string */
	assert_string_equal(kl_claims_user_type(c), "citizen");
	assert_string_equal(kl_claims_string(c, "name"), "Ελένη");
	assert_null(kl_claims_string(c, "nul"));
	assert_null(kl_claims_string(c, "missing"));
	assert_null(kl_claims_string(c, "roles"));	/* an array */
	assert_null(kl_claims_string(c, NULL));
	assert_string_equal(kl_claims_scope(c), "openid profile");
	kl_claims_free(c);
}

static void
test_numbers(void **state)
{
	kl_claims *c = claims_with("{\"a\":42,\"b\":-1.5,\"c\":\"42\","
	    "\"d\":1e300,\"e\":9007199254740993,\"f\":2.0}");
	int64_t v;

	(void)state;
	assert_int_equal(kl_claims_int(c, "a", &v), KL_OK);
	assert_int_equal(v, 42);
	assert_int_equal(kl_claims_int(c, "b", &v), KL_OK);
	assert_int_equal(v, -2);	/* rounded down */
	assert_int_equal(kl_claims_int(c, "f", &v), KL_OK);
	assert_int_equal(v, 2);
	assert_int_equal(kl_claims_int(c, "e", &v), KL_OK);
	assert_true(v == INT64_C(9007199254740993));
	assert_int_equal(kl_claims_int(c, "c", &v), KL_ERR_CLAIM);
	assert_int_equal(v, 0);
	assert_int_equal(kl_claims_int(c, "d", &v), KL_ERR_CLAIM);
	assert_int_equal(kl_claims_int(c, "missing", &v), KL_ERR_CLAIM);
	assert_int_equal(kl_claims_int(c, NULL, &v), KL_ERR_ARGUMENT);
	assert_int_equal(kl_claims_int(c, "a", NULL), KL_ERR_ARGUMENT);
	assert_int_equal(kl_claims_auth_time(c), 0);	/* absent */
	assert_int_equal(kl_claims_exp(c), MINT_NOW + 300);
	kl_claims_free(c);
}

static void
test_roles_and_amr(void **state)
{
	kl_claims *c = claims_with("{\"roles\":[\"clerk\",7,\"HR-admin\"],"
	    "\"amr\":\"pwd\"}");

	(void)state;
	assert_true(kl_claims_has_role(c, "clerk"));
	assert_true(kl_claims_has_role(c, "HR-admin"));
	assert_false(kl_claims_has_role(c, "hr-admin"));	/* exact */
	assert_false(kl_claims_has_role(c, "clerk "));
	assert_false(kl_claims_has_role(c, "cler"));
	assert_false(kl_claims_has_role(c, "7"));
	assert_false(kl_claims_has_role(c, ""));
	assert_false(kl_claims_has_role(c, NULL));
	assert_false(kl_claims_has_amr(c, "pwd"));	/* not an array */
	assert_int_equal(kl_claims_array_len(c, "roles"), 3);
	assert_string_equal(kl_claims_array_string(c, "roles", 0), "clerk");
	assert_null(kl_claims_array_string(c, "roles", 1));
	assert_string_equal(kl_claims_array_string(c, "roles", 2),
	    "HR-admin");
	assert_null(kl_claims_array_string(c, "roles", 3));
	assert_int_equal(kl_claims_array_len(c, "amr"), 0);
	assert_int_equal(kl_claims_array_len(c, "missing"), 0);
	kl_claims_free(c);
	/* A role claim that is a string, not an array, grants nothing. */
	c = claims_with("{\"roles\":\"clerk\"}");
	assert_false(kl_claims_has_role(c, "clerk"));
	kl_claims_free(c);
}

static void
test_scope(void **state)
{
	kl_claims *c = claims_with("{\"scope\":\"openid  payroll:read "
	    "profile\"}");

	(void)state;
	assert_true(kl_claims_has_scope(c, "openid"));
	assert_true(kl_claims_has_scope(c, "payroll:read"));
	assert_true(kl_claims_has_scope(c, "profile"));
	assert_false(kl_claims_has_scope(c, "payroll"));
	assert_false(kl_claims_has_scope(c, "open"));
	assert_false(kl_claims_has_scope(c, "openid payroll:read"));
	assert_false(kl_claims_has_scope(c, ""));
	assert_false(kl_claims_has_scope(c, NULL));
	kl_claims_free(c);
}

static void
test_json_is_the_signed_payload(void **state)
{
	const char *payload = "{\"iss\":\"" MINT_ISSUER "\",\"sub\":\"u\","
	    "\"aud\":\"" MINT_AUDIENCE "\",\"client_id\":\"c\","
	    "\"iat\":1700000000,\"exp\":1700000100,  \"x\": [1, 2]}";
	kl_claims *c;
	char *t;

	(void)state;
	t = mint_token_raw(&ec1, mint_header(&ec1, "at+jwt"), payload);
	assert_int_equal(kl_verify_access_token(ver, t, MINT_AUDIENCE, &c,
	    NULL), KL_OK);
	assert_string_equal(kl_claims_json(c), payload);
	kl_claims_free(c);
	free(t);
}

static void
test_null_claims(void **state)
{
	int64_t v = 5;

	(void)state;
	assert_null(kl_claims_sub(NULL));
	assert_null(kl_claims_iss(NULL));
	assert_null(kl_claims_org(NULL));
	assert_null(kl_claims_user_type(NULL));
	assert_null(kl_claims_acr(NULL));
	assert_null(kl_claims_client_id(NULL));
	assert_null(kl_claims_scope(NULL));
	assert_null(kl_claims_json(NULL));
	assert_null(kl_claims_string(NULL, "sub"));
	assert_null(kl_claims_array_string(NULL, "roles", 0));
	assert_int_equal(kl_claims_array_len(NULL, "roles"), 0);
	assert_int_equal(kl_claims_int(NULL, "exp", &v), KL_ERR_ARGUMENT);
	assert_int_equal(v, 0);
	assert_int_equal(kl_claims_exp(NULL), 0);
	assert_false(kl_claims_has_role(NULL, "clerk"));
	assert_false(kl_claims_has_amr(NULL, "pwd"));
	assert_false(kl_claims_has_scope(NULL, "openid"));
}

static void
test_codes(void **state)
{
	static const int rejections[] = {
		KL_ERR_MALFORMED, KL_ERR_ALG, KL_ERR_UNKNOWN_KID,
		KL_ERR_SIGNATURE, KL_ERR_EXPIRED, KL_ERR_NOT_YET_VALID,
		KL_ERR_ISSUED_IN_FUTURE, KL_ERR_ISSUER, KL_ERR_AUDIENCE,
		KL_ERR_TYPE, KL_ERR_NONCE, KL_ERR_CLAIM, KL_ERR_CRIT,
		KL_ERR_EVENT,
	};
	static const int failures[] = {
		KL_ERR_ARGUMENT, KL_ERR_NOMEM, KL_ERR_CRYPTO, KL_ERR_FETCH,
		KL_ERR_JWKS, KL_ERR_INTERNAL,
	};
	const char *unknown = kl_strerror(-1);
	size_t i, j;

	(void)state;
	/* The numbers are a contract: they must never move. */
	assert_int_equal(KL_ERR_MALFORMED, 1);
	assert_int_equal(KL_ERR_CRIT, 13);
	assert_int_equal(KL_ERR_EVENT, 14);
	assert_int_equal(KL_ERR_ARGUMENT, 100);
	assert_int_equal(KL_ERR_INTERNAL, 105);
	assert_false(kl_error_is_rejection(KL_OK));
	for (i = 0; i < sizeof(rejections) / sizeof(int); i++) {
		const char *s = kl_strerror(rejections[i]);

		assert_true(kl_error_is_rejection(rejections[i]));
		assert_true(s != unknown && s[0] != '\0');
		/* Fit for a quoted-string in WWW-Authenticate. */
		assert_null(strpbrk(s, "\"\\\r\n"));
		for (j = 0; j < i; j++)
			assert_string_not_equal(s,
			    kl_strerror(rejections[j]));
	}
	for (i = 0; i < sizeof(failures) / sizeof(int); i++) {
		assert_false(kl_error_is_rejection(failures[i]));
		assert_string_not_equal(kl_strerror(failures[i]), unknown);
	}
	assert_string_equal(kl_strerror(15), unknown);
	assert_string_equal(kl_strerror(99), unknown);
	assert_string_equal(kl_version(), KL_VERSION_STRING);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_roles_and_amr),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_json_is_the_signed_payload),
		cmocka_unit_test(test_null_claims),
		cmocka_unit_test(test_codes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
