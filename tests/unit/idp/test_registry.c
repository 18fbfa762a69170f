/* test_registry.c - validators and the registry service over a real
 * store in a temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#include "registry/registry.h"

static struct fixture fx;
static struct store *st;
static const struct argon2_params cheap = { 1, 8, 1 };

static int
setup(void **state)
{
	(void)state;
	fixture_open(&fx, "reg");
	st = fx.st;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fixture_close(&fx);
	return 0;
}

static void
test_validators(void **state)
{
	(void)state;
	assert_true(valid_code("athens-1", 33));
	assert_false(valid_code("Athens", 33));
	assert_false(valid_code("-x", 33));
	assert_false(valid_code("a b", 33));
	assert_true(valid_phone("+306912345678"));
	assert_false(valid_phone("6912345678"));
	assert_false(valid_phone("+30 691"));
	assert_false(valid_phone("+0123456789"));
	assert_true(valid_email("maria@town.gr"));
	assert_false(valid_email("maria@town"));
	assert_false(valid_email("a@b@c.gr"));
	assert_false(valid_email("<x>@y.gr"));
	assert_true(valid_name("Μαρία Παπαδοπούλου", 129));
	assert_false(valid_name("bad\x01name", 129));
	assert_false(valid_name("\xc3\x28", 129));	/* broken UTF-8 */
	assert_false(valid_name("\xc0\xaf", 129));	/* overlong */
	assert_true(valid_username("maria.p@town"));
	assert_false(valid_username("Maria"));
}

static void
test_redirect_uris(void **state)
{
	(void)state;
	assert_true(valid_redirect_uri("https://app.gov.gr/cb"));
	assert_true(valid_redirect_uri("https://app.gov.gr/cb?x=1"));
	assert_true(valid_redirect_uri("http://127.0.0.1:8081/callback"));
	assert_true(valid_redirect_uri("http://localhost/cb"));
	assert_true(valid_redirect_uri("http://[::1]:9/cb"));
	assert_false(valid_redirect_uri("http://app.gov.gr/cb"));
	assert_false(valid_redirect_uri("http://127.0.0.1.evil.gr/cb"));
	assert_false(valid_redirect_uri("http://localhost.evil.gr/cb"));
	assert_false(valid_redirect_uri("https://app.gov.gr/cb#frag"));
	assert_false(valid_redirect_uri("https://user@app.gov.gr/cb"));
	assert_false(valid_redirect_uri("javascript:alert(1)"));
	assert_false(valid_redirect_uri("https:///cb"));
	assert_false(valid_redirect_uri("https://app.gov.gr/c b"));
}

static void
add_app(const char *id, int public_client, char secret[RAND_TOKEN_LEN])
{
	struct app_spec s;
	struct registry_err e;
	struct app a;

	memset(&s, 0, sizeof(s));
	s.client_id = id;
	s.name = "Payroll";
	s.redirect_uris[0] = "https://payroll.gov.gr/cb";
	s.n_redirect_uris = 1;
	s.public_client = public_client;
	assert_int_equal(registry_app_add(st, NULL, &s, secret, &a, &e),
	    REG_OK);
	assert_int_equal(a.public_client, public_client);
}

static void
test_orgs_apps_grants(void **state)
{
	struct registry_err e;
	struct user_spec us = { "maria", "town", "Μαρία", "maria@town.gr",
		"+306912345678", "long enough password" };
	char sec[RAND_TOKEN_LEN], sec2[RAND_TOKEN_LEN];
	struct store_txn *txn;
	struct user u;
	struct app a;
	unsigned char h[HASH_SIZE];

	(void)state;
	assert_int_equal(registry_org_add(st, NULL, "town", "Δήμος", &e),
	    REG_OK);
	assert_int_equal(registry_org_add(st, NULL, "town", "Again", &e),
	    REG_EXISTS);
	assert_int_equal(registry_org_add(st, NULL, "Bad Code", "x", &e),
	    REG_INVALID);
	add_app("payroll", 0, sec);
	assert_int_equal(strlen(sec), 43);
	add_app("spa", 1, sec2);
	assert_string_equal(sec2, "");	/* public: no secret */
	/* only the hash of the secret is stored */
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_app_get(txn, "payroll", &a), STORE_OK);
	store_abort(txn);
	secret_hash(sec, h);
	assert_memory_equal(h, a.secret_hash, HASH_SIZE);

	assert_int_equal(registry_user_add(st, NULL, &cheap, &us, &u, &e),
	    REG_OK);
	assert_int_equal(strlen(u.id), 22);
	assert_int_equal(strncmp(u.password, "$argon2id$", 10), 0);
	assert_int_equal(password_verify(u.password, "long enough password"),
	    1);
	assert_int_equal(registry_user_add(st, NULL, &cheap, &us, NULL, &e),
	    REG_EXISTS);

	/* a grant needs the org to subscribe to the app */
	assert_int_equal(registry_grant_add(st, NULL, "maria", "payroll",
	    "clerk", NULL, &e), REG_REFUSED);
	assert_non_null(strstr(e.msg, "does not subscribe"));
	assert_int_equal(registry_org_subscribe(st, NULL, "town", "payroll",
	    &e), REG_OK);
	assert_int_equal(registry_org_subscribe(st, NULL, "town", "nope", &e),
	    REG_NOTFOUND);
	assert_int_equal(registry_grant_add(st, NULL, "maria", "payroll",
	    "clerk", NULL, &e), REG_OK);
	assert_int_equal(registry_grant_add(st, NULL, "ghost", "payroll",
	    "clerk", NULL, &e), REG_NOTFOUND);
	assert_int_equal(registry_grant_revoke(st, NULL, "maria", "payroll",
	    "clerk", NULL, &e), REG_OK);
	assert_int_equal(registry_grant_revoke(st, NULL, "maria", "payroll",
	    "clerk", NULL, &e), REG_NOTFOUND);
}

static void
test_user_refusals(void **state)
{
	struct registry_err e;
	struct user_spec us = { "nikos", "town", "Νίκος", NULL, NULL, NULL };

	(void)state;
	us.password = "short";
	assert_int_equal(registry_user_add(st, NULL, &cheap, &us, NULL, &e),
	    REG_INVALID);
	assert_non_null(strstr(e.msg, "at least 10"));
	us.password = NULL;
	us.phone = "0030691";
	assert_int_equal(registry_user_add(st, NULL, &cheap, &us, NULL, &e),
	    REG_INVALID);
	us.phone = NULL;
	us.org = "nowhere";
	assert_int_equal(registry_user_add(st, NULL, &cheap, &us, NULL, &e),
	    REG_NOTFOUND);
}

static void
test_disable_ends_sessions(void **state)
{
	struct registry_err e;
	struct user_spec us = { "eleni", "town", "Ελένη", NULL, NULL, NULL };
	char sid[RAND_TOKEN_LEN];
	struct session s;
	struct user u, got;

	(void)state;
	assert_int_equal(registry_user_add(st, NULL, &cheap, &us, &u, &e),
	    REG_OK);
	assert_int_equal(session_create(st, u.id, AMR_PWD, 1, 3600, sid, &s),
	    STORE_OK);
	/* no password set: the session still works until disabled */
	assert_int_equal(session_lookup(st, sid, &s, &got), STORE_OK);
	assert_int_equal(registry_user_set_disabled(st, NULL, "eleni", 1, &e),
	    REG_OK);
	assert_int_equal(session_lookup(st, sid, &s, &got), STORE_NOTFOUND);
	assert_int_equal(registry_user_set_disabled(st, NULL, "eleni", 0, &e),
	    REG_OK);
	/* re-enabling does not resurrect the ended session */
	assert_int_equal(session_lookup(st, sid, &s, &got), STORE_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_redirect_uris),
		cmocka_unit_test(test_orgs_apps_grants),
		cmocka_unit_test(test_user_refusals),
		cmocka_unit_test(test_disable_ends_sessions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
