/* test_code.c - authorization codes: single use, expiry (injected clock),
 * binding to client, redirect_uri and PKCE; client authentication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#include "oidc/oidc.h"

#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define REDIRECT "https://app.gov.gr/cb"

static struct fixture fx;
static struct idp idp;
static int64_t now = 1800000000;

static int64_t
test_clock(void)
{
	return now;
}

static int
setup(void **state)
{
	(void)state;
	clock_set(test_clock);
	fixture_open(&fx, "code");
	idp.store = fx.st;
	config_defaults(&idp.cfg);
	assert_non_null(idp.settings = settings_new(&idp.cfg));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	settings_free(idp.settings);
	idp.settings = NULL;
	fixture_close(&fx);
	clock_set(NULL);
	return 0;
}

static void
new_code(const char *challenge, char code[RAND_TOKEN_LEN])
{
	struct flow f;
	struct session s;

	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	str_copy(f.client_id, "payroll", sizeof(f.client_id));
	str_copy(f.redirect_uri, REDIRECT, sizeof(f.redirect_uri));
	str_copy(f.code_challenge, challenge, sizeof(f.code_challenge));
	str_copy(f.scope, "openid", sizeof(f.scope));
	str_copy(s.user_id, "user-1", sizeof(s.user_id));
	s.auth_time = now;
	s.amr = AMR_PWD;
	assert_int_equal(code_issue(&idp, &f, &s, code), 0);
}

static int
redeem(const char *code, const char *client, const char *redirect,
    const char *verifier)
{
	struct authcode c;
	const char *why;

	return code_redeem(&idp, code, client, redirect, verifier, &c, &why);
}

static void
test_pkce_helpers(void **state)
{
	(void)state;
	assert_true(pkce_valid(VERIFIER));
	assert_false(pkce_valid("short"));
	assert_false(pkce_valid(VERIFIER "+"));
	assert_true(pkce_s256_match(VERIFIER, CHALLENGE));
	assert_false(pkce_s256_match(VERIFIER "x", CHALLENGE));
}

static void
test_single_use(void **state)
{
	char code[RAND_TOKEN_LEN];

	(void)state;
	new_code(CHALLENGE, code);
	assert_int_equal(redeem(code, "payroll", REDIRECT, VERIFIER), CODE_OK);
	assert_int_equal(redeem(code, "payroll", REDIRECT, VERIFIER),
	    CODE_INVALID);
}

static void
test_bindings(void **state)
{
	char code[RAND_TOKEN_LEN];

	(void)state;
	new_code(CHALLENGE, code);
	assert_int_equal(redeem(code, "other", REDIRECT, VERIFIER),
	    CODE_INVALID);
	assert_int_equal(redeem(code, "payroll", REDIRECT "x", VERIFIER),
	    CODE_INVALID);
	assert_int_equal(redeem(code, "payroll", NULL, VERIFIER),
	    CODE_INVALID);
	assert_int_equal(redeem(code, "payroll", REDIRECT, NULL),
	    CODE_INVALID);
	assert_int_equal(redeem(code, "payroll", REDIRECT,
	    "wrongwrongwrongwrongwrongwrongwrongwrongwrong"), CODE_INVALID);
	/* none of the refusals spent the code */
	assert_int_equal(redeem(code, "payroll", REDIRECT, VERIFIER), CODE_OK);
	assert_int_equal(redeem("not-a-code", "payroll", REDIRECT, VERIFIER),
	    CODE_INVALID);
}

static void
test_no_challenge(void **state)
{
	char code[RAND_TOKEN_LEN];

	(void)state;
	new_code("", code);
	/* a verifier without a challenge is refused (PKCE downgrade) */
	assert_int_equal(redeem(code, "payroll", REDIRECT, VERIFIER),
	    CODE_INVALID);
	assert_int_equal(redeem(code, "payroll", REDIRECT, NULL), CODE_OK);
}

static void
test_expiry(void **state)
{
	char code[RAND_TOKEN_LEN];

	(void)state;
	new_code(CHALLENGE, code);
	now += idp.cfg.code_ttl - 1;
	{
		char again[RAND_TOKEN_LEN];
		new_code(CHALLENGE, again);
		now += 1;	/* the first code is exactly at its expiry */
		assert_int_equal(redeem(code, "payroll", REDIRECT, VERIFIER),
		    CODE_INVALID);
		assert_int_equal(redeem(again, "payroll", REDIRECT,
		    VERIFIER), CODE_OK);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkce_helpers),
		cmocka_unit_test(test_single_use),
		cmocka_unit_test(test_bindings),
		cmocka_unit_test(test_no_challenge),
		cmocka_unit_test(test_expiry),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
