/* test_authz.c - the authorization request's parameters parsed on their
 * own: prompt, max_age (with an injected clock), the claims request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "oidc/authz.h"

static void
test_prompt(void **state)
{
	unsigned p;

	(void)state;
	assert_int_equal(authorize_prompt_parse(NULL, &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(authorize_prompt_parse("", &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(authorize_prompt_parse("none", &p), 0);
	assert_int_equal(p, PROMPT_NONE);
	assert_int_equal(authorize_prompt_parse("login consent", &p), 0);
	assert_int_equal(p, PROMPT_LOGIN | PROMPT_CONSENT);
	assert_int_equal(authorize_prompt_parse("select_account", &p), 0);
	assert_int_equal(p, PROMPT_SELECT_ACCOUNT);
	assert_int_equal(authorize_prompt_parse("none login", &p), -1);
	assert_int_equal(authorize_prompt_parse("consent none", &p), -1);
	assert_int_equal(authorize_prompt_parse("create", &p), -1);
	assert_int_equal(authorize_prompt_parse("nonex", &p), -1);
	assert_int_equal(authorize_prompt_parse("logi", &p), -1);
}

static void
test_max_age(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(authorize_max_age_parse(NULL, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(authorize_max_age_parse("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(authorize_max_age_parse("3600", &v), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(authorize_max_age_parse("", &v), -1);
	assert_int_equal(authorize_max_age_parse("-1", &v), -1);
	assert_int_equal(authorize_max_age_parse("+5", &v), -1);
	assert_int_equal(authorize_max_age_parse(" 5", &v), -1);
	assert_int_equal(authorize_max_age_parse("05", &v), -1);
	assert_int_equal(authorize_max_age_parse("1e3", &v), -1);
	assert_int_equal(authorize_max_age_parse("99999999999", &v), -1);
	assert_int_equal(authorize_max_age_parse("315360001", &v), -1);
}

/* The max_age decision with the clock given. */
static void
test_fresh(void **state)
{
	const int64_t now = 1700000000;

	(void)state;
	assert_true(authorize_fresh(-1, now - 999999, now));
	assert_false(authorize_fresh(0, now, now));	/* = prompt=login */
	assert_true(authorize_fresh(60, now - 60, now));
	assert_false(authorize_fresh(60, now - 61, now));
	assert_true(authorize_fresh(1, now, now));
	assert_false(authorize_fresh(1, now - 2, now));
	assert_true(authorize_fresh(60, now + 30, now));	/* clock back */
}

static void
test_claims(void **state)
{
	char id[CLAIMS_SIZE], ui[CLAIMS_SIZE];

	(void)state;
	assert_int_equal(claims_parse(NULL, id, ui), 0);
	assert_string_equal(id, "");
	assert_int_equal(claims_parse("{\"id_token\":{\"email\":null,"
	    "\"name\":{\"essential\":true},\"favourite_colour\":null},"
	    "\"userinfo\":{\"phone_number\":{\"values\":[\"x\"]}},"
	    "\"other\":1}", id, ui), 0);
	assert_string_equal(id, "email name");
	assert_string_equal(ui, "phone_number");
	assert_int_equal(claims_parse("{}", id, ui), 0);
	assert_string_equal(id, "");
	assert_string_equal(ui, "");
	/* Malformed: not JSON, not an object, wrong member types. */
	assert_int_equal(claims_parse("{", id, ui), -1);
	assert_int_equal(claims_parse("", id, ui), -1);
	assert_int_equal(claims_parse("[]", id, ui), -1);
	assert_int_equal(claims_parse("{\"id_token\":[]}", id, ui), -1);
	assert_int_equal(claims_parse("{\"id_token\":{\"email\":1}}", id,
	    ui), -1);
	assert_int_equal(claims_parse("{\"id_token\":{\"email\":"
	    "{\"essential\":\"yes\"}}}", id, ui), -1);
	assert_int_equal(claims_parse("{\"userinfo\":{\"email\":"
	    "{\"values\":\"a\"}}}", id, ui), -1);
	assert_int_equal(claims_parse("{\"id_token\":{},\"id_token\":{}}",
	    id, ui), -1);
	assert_string_equal(id, "");
}

static void
test_claims_bounded(void **state)
{
	char big[CLAIMS_PARAM_MAX + 64], id[CLAIMS_SIZE], ui[CLAIMS_SIZE];
	size_t n;

	(void)state;
	strcpy(big, "{\"id_token\":{\"email\":null},\"pad\":\"");
	n = strlen(big);
	memset(big + n, 'a', sizeof(big) - n - 3);
	strcpy(big + sizeof(big) - 3, "\"}");
	assert_int_equal(claims_parse(big, id, ui), -1);
}

static void
test_claims_data(void **state)
{
	(void)state;
	assert_int_equal(claims_data("openid", "", ""), 0);
	assert_int_equal(claims_data("openid profile", "", ""), CONSENT_NAME);
	assert_int_equal(claims_data("openid", "email", "phone_number"),
	    CONSENT_EMAIL | CONSENT_PHONE);
	assert_int_equal(claims_data("openid phone", "given_name", ""),
	    CONSENT_PHONE | CONSENT_NAME);
	assert_true(claims_list_has("a email b", "email"));
	assert_false(claims_list_has("email_verified", "email"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prompt),
		cmocka_unit_test(test_max_age),
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_claims_bounded),
		cmocka_unit_test(test_claims_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
