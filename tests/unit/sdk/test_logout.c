/*
 * test_logout.c - kl_verify_logout_token (Back-Channel Logout 1.0, 2.6)
 * and kl_verify_id_token_hint (RP-Initiated Logout 1.0, 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mint.h"

#define EVENT "http://schemas.openid.net/event/backchannel-logout"

static struct mint_key ec1, ec_other;
static kl_verifier *ver;

static int
setup(void **state)
{
	kl_options opt;
	kl_error err;
	char *jwks;

	(void)state;
	ec1 = mint_ec("ec-1", "P-256");
	ec_other = mint_ec("ec-1", "P-256");
	jwks = mint_jwks(1, &ec1);
	mint_options(&opt);
	ver = kl_verifier_new_jwks(MINT_ISSUER, jwks, strlen(jwks), &opt,
	    &err);
	free(jwks);
	return ver == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	kl_verifier_free(ver);
	mint_key_free(&ec1);
	mint_key_free(&ec_other);
	return 0;
}

/* A good logout token's claims at the clock's time. */
static json_t *
logout_claims(void)
{
	int64_t now = atomic_load(&mint_clock);
	json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:{s:{}}}",
	    "iss", MINT_ISSUER, "sub", "u-7f3a", "aud", "payroll-web",
	    "iat", (json_int_t)now, "exp", (json_int_t)(now + 120),
	    "jti", "j-1", "sid", "s-1", "events", EVENT);

	if (c == NULL)
		mint_die("json_pack logout claims");
	return c;
}

/* Verifies token (freed) as a logout token for payroll-web. */
static int
logout_rc(char *token)
{
	kl_claims *c = NULL;
	kl_error err;
	int rc = kl_verify_logout_token(ver, token, "payroll-web", &c, &err);

	assert_int_equal(err.code, rc);
	if (rc != KL_OK)
		assert_null(c);
	kl_claims_free(c);
	free(token);
	return rc;
}

static void
test_logout_good(void **state)
{
	kl_claims *c;
	kl_error err;
	char *t = mint_token(&ec1, "logout+jwt", logout_claims());

	(void)state;
	assert_int_equal(kl_verify_logout_token(ver, t, "payroll-web", &c,
	    &err), KL_OK);
	assert_string_equal(kl_claims_sub(c), "u-7f3a");
	assert_string_equal(kl_claims_string(c, "sid"), "s-1");
	kl_claims_free(c);
	free(t);
	/* typ may be absent or the media type; never another. */
	assert_int_equal(logout_rc(mint_token(&ec1, NULL, logout_claims())),
	    KL_OK);
	assert_int_equal(logout_rc(mint_token(&ec1, "application/logout+jwt",
	    logout_claims())), KL_OK);
	assert_int_equal(logout_rc(mint_token(&ec1, "JWT", logout_claims())),
	    KL_ERR_TYPE);
	assert_int_equal(logout_rc(mint_token(&ec1, "at+jwt",
	    logout_claims())), KL_ERR_TYPE);
}

static void
test_logout_refused(void **state)
{
	json_t *c;

	(void)state;
	c = logout_claims();
	json_object_set_new(c, "nonce", json_string("n-1"));
	assert_int_equal(logout_rc(mint_token(&ec1, "logout+jwt", c)),
	    KL_ERR_CLAIM);
	c = logout_claims();
	json_object_del(c, "events");
	assert_int_equal(logout_rc(mint_token(&ec1, "logout+jwt", c)),
	    KL_ERR_EVENT);
	c = logout_claims();
	json_object_set_new(c, "events", json_pack("{s:{}}", "urn:other"));
	assert_int_equal(logout_rc(mint_token(&ec1, "logout+jwt", c)),
	    KL_ERR_EVENT);
	c = logout_claims();
	json_object_del(c, "sub");
	json_object_del(c, "sid");
	assert_int_equal(logout_rc(mint_token(&ec1, "logout+jwt", c)),
	    KL_ERR_CLAIM);
	c = logout_claims();
	json_object_del(c, "sub");	/* sid alone is enough */
	assert_int_equal(logout_rc(mint_token(&ec1, "logout+jwt", c)), KL_OK);
	c = logout_claims();
	json_object_set_new(c, "aud", json_string("other-app"));
	assert_int_equal(logout_rc(mint_token(&ec1, "logout+jwt", c)),
	    KL_ERR_AUDIENCE);
	c = logout_claims();
	json_object_set_new(c, "exp", json_integer(MINT_NOW - 3600));
	assert_int_equal(logout_rc(mint_token(&ec1, "logout+jwt", c)),
	    KL_ERR_EXPIRED);
	assert_int_equal(logout_rc(mint_token(&ec_other, "logout+jwt",
	    logout_claims())), KL_ERR_SIGNATURE);
	/* An ID token is not a logout token. */
	assert_int_equal(logout_rc(mint_token(&ec1, NULL,
	    mint_id_claims("n-1"))), KL_ERR_EVENT);
	assert_int_equal(kl_verify_logout_token(NULL, "x", "a", NULL, NULL),
	    KL_ERR_ARGUMENT);
}

static void
test_hint(void **state)
{
	json_t *c = mint_id_claims(NULL);
	kl_claims *out;
	kl_error err;
	char *t;

	(void)state;
	/* Expired long ago: still a good hint. */
	json_object_set_new(c, "exp", json_integer(MINT_NOW - 86400));
	t = mint_token(&ec1, "JWT", c);
	assert_int_equal(kl_verify_id_token(ver, t, "payroll-web", NULL, &out,
	    &err), KL_ERR_EXPIRED);
	assert_int_equal(kl_verify_id_token_hint(ver, t, "payroll-web", &out,
	    &err), KL_OK);
	assert_string_equal(kl_claims_sub(out), "u-7f3a");
	kl_claims_free(out);
	assert_int_equal(kl_verify_id_token_hint(ver, t, "other-app", &out,
	    &err), KL_ERR_AUDIENCE);
	assert_null(out);
	free(t);
	t = mint_token(&ec_other, "JWT", mint_id_claims(NULL));
	assert_int_equal(kl_verify_id_token_hint(ver, t, "payroll-web", &out,
	    &err), KL_ERR_SIGNATURE);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logout_good),
		cmocka_unit_test(test_logout_refused),
		cmocka_unit_test(test_hint),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
