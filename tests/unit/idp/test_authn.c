/* test_authn.c - argon2id hashes, the password check on the pool (same
 * verdict for unknown accounts and wrong passwords), sessions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include <pthread.h>

#include "authn/authn.h"
#include "registry/registry.h"
#include "util/pool.h"

static struct fixture fx;
static struct store *st;
static struct pool *pool;
static struct authn authn;
static const struct argon2_params cheap = { 1, 8, 1 };
static int64_t now = 1800000000;

static int64_t
test_clock(void)
{
	return now;
}

static int
setup(void **state)
{
	struct registry_err e;
	struct user_spec us = { "maria", "town", "Μαρία", NULL, NULL,
		"long enough password" };

	(void)state;
	clock_set(test_clock);
	fixture_open(&fx, "authn");
	st = fx.st;
	assert_non_null(pool = pool_new(2, 8));
	assert_int_equal(authn_init(&authn, st, pool, &cheap), 0);
	assert_int_equal(registry_org_add(st, NULL, "town", "Δήμος", &e),
	    REG_OK);
	assert_int_equal(registry_user_add(st, NULL, &cheap, &us, NULL, &e),
	    REG_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pool_free(pool);
	fixture_close(&fx);
	clock_set(NULL);
	return 0;
}

static void
test_hash_verify(void **state)
{
	char a[PHC_SIZE], b[PHC_SIZE];

	(void)state;
	assert_int_equal(password_hash(&cheap, "long enough password", a,
	    sizeof(a)), 0);
	assert_int_equal(password_hash(&cheap, "long enough password", b,
	    sizeof(b)), 0);
	assert_string_not_equal(a, b);		/* salted */
	assert_non_null(strstr(a, "$argon2id$v=19$m=8,t=1,p=1$"));
	assert_int_equal(password_verify(a, "long enough password"), 1);
	assert_int_equal(password_verify(a, "long enough passworD"), 0);
	assert_int_equal(password_verify("$argon2i$bogus", "x"), -1);
	assert_int_equal(password_verify("plain", "plain"), -1);
	assert_null(password_policy_check("x7kq!p2zw9"));	/* 10 */
	assert_string_equal(password_policy_check("0123456789"),
	    "password.common");
	assert_string_equal(password_policy_check("012345678"),
	    "password.too_short");
}

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static void
on_done(void *arg)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static int
check(const char *user, const char *pass, struct user *u)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER,
		PTHREAD_COND_INITIALIZER, 0 };
	struct authn_attempt at;
	int rc;

	rc = authn_password_begin(&authn, &at, user, pass, on_done, &w);
	if (rc != AUTHN_OK)
		return rc;
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	return authn_password_finish(&at, u);
}

static void
test_password_check(void **state)
{
	struct registry_err e;
	struct user u;

	(void)state;
	assert_int_equal(check("maria", "long enough password", &u), AUTHN_OK);
	assert_string_equal(u.username, "maria");
	assert_int_equal(check("maria", "wrong password", &u),
	    AUTHN_BAD_CREDENTIALS);
	assert_int_equal(check("nobody", "long enough password", &u),
	    AUTHN_BAD_CREDENTIALS);
	assert_int_equal(registry_user_set_disabled(st, NULL, "maria", 1, &e),
	    REG_OK);
	assert_int_equal(check("maria", "long enough password", &u),
	    AUTHN_DISABLED);
	/* a wrong password on a disabled account says nothing more */
	assert_int_equal(check("maria", "wrong password", &u),
	    AUTHN_BAD_CREDENTIALS);
	assert_int_equal(registry_user_set_disabled(st, NULL, "maria", 0, &e),
	    REG_OK);
}

static void
test_sessions(void **state)
{
	char sid[RAND_TOKEN_LEN];
	struct session s, got;
	struct store_txn *txn;
	struct user u;

	(void)state;
	assert_int_equal(check("maria", "long enough password", &u), AUTHN_OK);
	assert_int_equal(session_create(st, u.id, AMR_PWD, now, 600, sid, &s),
	    STORE_OK);
	assert_int_equal(session_lookup(st, sid, &got, &u), STORE_OK);
	assert_int_equal(got.amr, AMR_PWD);
	/* the store knows the hash only */
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_session_get(txn, (const unsigned char *)sid,
	    &got), STORE_NOTFOUND);
	store_abort(txn);
	now += 600;
	assert_int_equal(session_lookup(st, sid, &got, &u), STORE_NOTFOUND);
	now -= 600;
	assert_int_equal(session_end(st, sid), STORE_OK);
	assert_int_equal(session_lookup(st, sid, &got, &u), STORE_NOTFOUND);
	assert_int_equal(session_lookup(st, "short", &got, &u),
	    STORE_NOTFOUND);
	assert_string_equal(amr_acr(AMR_PWD), ACR_LOW);
	assert_string_equal(amr_acr(AMR_PWD | AMR_OTP), ACR_SUBSTANTIAL);
	assert_string_equal(amr_acr(AMR_OTP), ACR_LOW);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_password_check),
		cmocka_unit_test(test_sessions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
