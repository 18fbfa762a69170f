/*
 * test_lifecycle.c - the employee lifecycle seen from the app: a person
 * imported from the registry signs in, is transferred, promoted, departs
 * and is rehired; after each import the next sign-in's access token
 * carries what the registry now says, and the sessions the change must
 * end are gone (single sign-on asks for the password again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "kleidi.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define HEADER "registry_no,tax_id,surname,given_name,email,mobile,org," \
	"position,status,effective\n"
/* 123456783: a valid tax number (check digit 3). */
#define ROW(org, pos, status) "1001,123456783,Papadopoulou,Maria," \
	"maria@town-a.gr,+306900000101," org "," pos "," status ",\n"

static struct harness h;
static char secret[128], password[64];
static kl_verifier *verifier;
static struct browser *b;		/* maria's browser, kept throughout */

static json_t *
import(const char *csv)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/registry.csv", h.dir);
	assert_int_equal(file_write(path, csv, strlen(csv), 0600, 0), 0);
	return run_cli_json(&h, NULL, "registry", "import", path, NULL);
}

static int
jint(json_t *j, const char *k)
{
	return (int)json_integer_value(json_object_get(j, k));
}

static int
setup(void **state)
{
	char url[256];
	json_t *j;
	kl_error err;

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "town-a",
	    "--name", "Town A", NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "town-b",
	    "--name", "Town B", NULL), 0);
	j = run_cli_json(&h, NULL, "app", "add", "payroll", "--name",
	    "Payroll", "--redirect-uri", REDIRECT, NULL);
	str_copy(secret, jstr(j, "client_secret"), sizeof(secret));
	json_decref(j);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town-a",
	    "payroll", NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town-b",
	    "payroll", NULL), 0);
	j = import(HEADER ROW("town-a", "clerk", "active"));
	assert_int_equal(jint(j, "new"), 1);
	json_decref(j);
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "add",
	    "maria@town-a.gr", "payroll", "clerk", NULL), 0);
	/* Imported people have no password: the help desk sets one. */
	j = run_cli_json(&h, NULL, "user", "password-reset", "maria@town-a.gr",
	    "--reason", "ticket 4711: first sign-in", NULL);
	str_copy(password, jstr(j, "temporary_password"), sizeof(password));
	json_decref(j);
	assert_int_equal(harness_start(&h), 0);
	snprintf(url, sizeof(url), "%s/jwks", h.base);
	assert_non_null(verifier = kl_verifier_new_url(h.issuer, url, NULL,
	    &err));
	assert_non_null(b = browser_new());
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	browser_free(b);
	kl_verifier_free(verifier);
	harness_cleanup(&h);
	return 0;
}

/* The next sign-in's access token. signin: whether the password form must
 * come (no session) or single sign-on answers at once. */
static kl_claims *
next_token(int signin)
{
	char url[1024], csrf[128], code[128], pw[200];
	struct buf enc;
	struct page p;
	kl_claims *c = NULL;
	kl_error err;
	json_t *j;

	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	if (signin) {
		open_login(b, url, csrf, sizeof(csrf));
		buf_init(&enc, sizeof(pw));
		assert_int_equal(buf_put_urlenc(&enc, password), 0);
		post_login(b, &h, csrf, "maria%40town-a.gr", enc.data, &p);
		buf_free(&enc);
	} else
		assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 302);
	assert_int_equal(url_param(p.location, "code", code, sizeof(code)), 0);
	page_free(&p);
	exchange(b, &h, "payroll", secret, code, REDIRECT, NULL, &p);
	assert_int_equal(p.status, 200);
	j = json_of(&p);
	assert_int_equal(kl_verify_access_token(verifier,
	    jstr(j, "access_token"), "payroll", &c, &err), KL_OK);
	json_decref(j);
	page_free(&p);
	return c;
}

/* Whether the browser's session still signs in without a password. */
static int
session_alive(void)
{
	char url[1024];
	struct page p;
	int alive;

	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	alive = p.status == 302;
	page_free(&p);
	return alive;
}

static void
test_hired(void **state)
{
	kl_claims *c;

	(void)state;
	c = next_token(1);
	assert_string_equal(kl_claims_org(c), "town-a");
	assert_true(kl_claims_has_role(c, "clerk"));
	kl_claims_free(c);
	assert_true(session_alive());
}

static void
test_transfer(void **state)
{
	kl_claims *c;
	json_t *j;

	(void)state;
	j = import(HEADER ROW("town-b", "clerk", "active"));
	assert_int_equal(jint(j, "transfer"), 1);
	json_decref(j);
	/* The session ended with the move; the old org's role is gone. */
	assert_false(session_alive());
	c = next_token(1);
	assert_string_equal(kl_claims_org(c), "town-b");
	assert_false(kl_claims_has_role(c, "clerk"));
	kl_claims_free(c);
}

static void
test_promotion_keeps_session(void **state)
{
	kl_claims *c;
	json_t *j;

	(void)state;
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "add",
	    "maria@town-a.gr", "payroll", "approver", NULL), 0);
	j = import(HEADER ROW("town-b", "head of unit", "active"));
	assert_int_equal(jint(j, "promotion"), 1);
	json_decref(j);
	assert_true(session_alive());
	c = next_token(0);
	assert_string_equal(kl_claims_org(c), "town-b");
	assert_true(kl_claims_has_role(c, "approver"));
	kl_claims_free(c);
	/* The same file again changes nothing. */
	j = import(HEADER ROW("town-b", "head of unit", "active"));
	assert_int_equal(jint(j, "changed"), 0);
	assert_int_equal(jint(j, "unchanged"), 1);
	json_decref(j);
}

static void
test_departure_and_rehire(void **state)
{
	char url[1024], csrf[128], pw[200];
	struct buf enc;
	struct page p;
	kl_claims *c;
	json_t *j;

	(void)state;
	j = import(HEADER ROW("town-b", "head of unit", "departed"));
	assert_int_equal(jint(j, "departure"), 1);
	json_decref(j);
	assert_false(session_alive());
	/* The right password no longer opens anything. */
	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, sizeof(csrf));
	buf_init(&enc, sizeof(pw));
	assert_int_equal(buf_put_urlenc(&enc, password), 0);
	post_login(b, &h, csrf, "maria%40town-a.gr", enc.data, &p);
	buf_free(&enc);
	assert_int_equal(p.status, 403);
	assert_string_equal(p.location, "");
	page_free(&p);
	/* Rehired: signs in again, with what the registry says now. */
	j = import(HEADER ROW("town-b", "clerk", "active"));
	assert_int_equal(jint(j, "rehire"), 1);
	json_decref(j);
	c = next_token(1);
	assert_string_equal(kl_claims_org(c), "town-b");
	kl_claims_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hired),
		cmocka_unit_test(test_transfer),
		cmocka_unit_test(test_promotion_keeps_session),
		cmocka_unit_test(test_departure_and_rehire),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
