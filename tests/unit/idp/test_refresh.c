/*
 * test_refresh.c - refresh token families on a real store with an
 * injected clock: rotation, replay ending the family (RFC 9700 4.14.2),
 * expiry, another client's token, revocation, access_end_user, the sweep,
 * and rotations from many threads at once (group commit).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "authn/revoke.h"
#include "fixture.h"
#include "oidc/refresh.h"
#include "registry/registry.h"
#include "util/util.h"

#define T0 1700000000
#define TTL (8 * 3600)

static int64_t now_value = T0;
static struct fixture fx;
static struct app app_a, app_b;

static int64_t
test_clock(void)
{
	return now_value;
}

static void
put_fixture_records(void)
{
	struct store_txn *txn;
	struct org o;
	struct user u;

	memset(&o, 0, sizeof(o));
	str_copy(o.code, "town", sizeof(o.code));
	str_copy(o.name, "Town", sizeof(o.name));
	memset(&app_a, 0, sizeof(app_a));
	str_copy(app_a.client_id, "payroll", sizeof(app_a.client_id));
	str_copy(app_a.name, "Payroll", sizeof(app_a.name));
	app_a.refresh = 1;
	app_b = app_a;
	str_copy(app_b.client_id, "water", sizeof(app_b.client_id));
	memset(&u, 0, sizeof(u));
	str_copy(u.id, "user-maria", sizeof(u.id));
	str_copy(u.username, "maria", sizeof(u.username));
	str_copy(u.org, "town", sizeof(u.org));
	str_copy(u.name, "Maria", sizeof(u.name));
	assert_int_equal(store_begin(fx.st, 1, &txn), STORE_OK);
	assert_int_equal(store_org_put(txn, &o), STORE_OK);
	assert_int_equal(store_app_put(txn, &app_a), STORE_OK);
	assert_int_equal(store_app_put(txn, &app_b), STORE_OK);
	assert_int_equal(store_sub_put(txn, "town", "payroll"), STORE_OK);
	assert_int_equal(store_sub_put(txn, "town", "water"), STORE_OK);
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static int
setup(void **state)
{
	(void)state;
	now_value = T0;
	clock_set(test_clock);
	fixture_open(&fx, "refresh");
	put_fixture_records();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fixture_close(&fx);
	clock_set(NULL);
	return 0;
}

static struct refresh_ctx
ctx_now(void)
{
	struct refresh_ctx c = { fx.st, NULL, "127.0.0.1", now_value, NULL };

	return c;
}

/* Starts a family for maria at client as a redeemed code would. */
static void
issue(const char *client, char out[RAND_TOKEN_LEN])
{
	struct refresh_ctx c = ctx_now();
	struct authcode code;

	memset(&code, 0, sizeof(code));
	str_copy(code.client_id, client, sizeof(code.client_id));
	str_copy(code.user_id, "user-maria", sizeof(code.user_id));
	str_copy(code.scope, "openid profile offline_access",
	    sizeof(code.scope));
	code.auth_time = T0 - 5;
	code.amr = 1;
	assert_int_equal(refresh_issue(&c, &code, TTL, out), 0);
	assert_int_equal(strlen(out), RAND_TOKEN_LEN - 1);
}

static int
rotate(const char *token, const struct app *a, char out[RAND_TOKEN_LEN],
    const char *scope)
{
	struct refresh_ctx c = ctx_now();
	struct refresh_result res;
	const char *why;
	int rc;

	c.scope = scope;
	rc = refresh_rotate(&c, token, a, out, &res, &why);
	if (rc == REFRESH_OK) {
		assert_string_equal(res.user.id, "user-maria");
		assert_non_null(res.roles);
		assert_int_equal(res.rec.expires, T0 + TTL);
		assert_int_equal(res.rec.auth_time, T0 - 5);
		assert_string_equal(res.rec.scope,
		    "openid profile offline_access");
		json_decref(res.roles);
	} else
		assert_non_null(why);
	return rc;
}

static int
is_stored(const char *token)
{
	unsigned char h[HASH_SIZE];
	struct store_txn *txn;
	struct refresh_token r;
	int rc;

	secret_hash(token, h);
	assert_int_equal(store_begin(fx.st, 0, &txn), STORE_OK);
	rc = store_refresh_get(txn, h, &r);
	store_abort(txn);
	assert_true(rc == STORE_OK || rc == STORE_NOTFOUND);
	return rc == STORE_OK;
}

static void
test_rotation(void **state)
{
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN], t3[RAND_TOKEN_LEN];
	struct refresh_token r;
	struct user u;

	(void)state;
	issue("payroll", t1);
	now_value += 60;
	assert_int_equal(rotate(t1, &app_a, t2, NULL), REFRESH_OK);
	assert_string_not_equal(t1, t2);
	/* The used one is kept (rotated) to recognise a replay, and is no
	 * longer active. */
	assert_true(is_stored(t1));
	assert_int_equal(refresh_find(fx.st, t1, "payroll", now_value, &r, &u),
	    STORE_NOTFOUND);
	assert_int_equal(refresh_find(fx.st, t2, "payroll", now_value, &r, &u),
	    STORE_OK);
	assert_int_equal(r.created, T0 + 60);
	now_value += 60;
	assert_int_equal(rotate(t2, &app_a, t3, NULL), REFRESH_OK);
	assert_string_not_equal(t2, t3);
}

static void
test_reuse_ends_family(void **state)
{
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN], t3[RAND_TOKEN_LEN];
	char other[RAND_TOKEN_LEN];

	(void)state;
	issue("payroll", t1);
	issue("payroll", other);		/* another family */
	assert_int_equal(rotate(t1, &app_a, t2, NULL), REFRESH_OK);
	assert_int_equal(rotate(t1, &app_a, t3, NULL), REFRESH_REUSED);
	assert_false(is_stored(t1));
	assert_false(is_stored(t2));
	assert_int_equal(rotate(t2, &app_a, t3, NULL), REFRESH_INVALID);
	/* Only that family ended. */
	assert_int_equal(rotate(other, &app_a, t3, NULL), REFRESH_OK);
}

static void
test_expiry(void **state)
{
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN], t3[RAND_TOKEN_LEN];

	(void)state;
	issue("payroll", t1);
	now_value = T0 + TTL - 1;
	/* Rotation keeps the family's end: no sliding past the day. */
	assert_int_equal(rotate(t1, &app_a, t2, NULL), REFRESH_OK);
	now_value = T0 + TTL;
	assert_int_equal(rotate(t2, &app_a, t3, NULL), REFRESH_INVALID);
}

static void
test_other_client(void **state)
{
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN];
	struct refresh_token r;
	struct user u;
	int ended = 1;

	(void)state;
	issue("payroll", t1);
	assert_int_equal(rotate(t1, &app_b, t2, NULL), REFRESH_INVALID);
	assert_int_equal(refresh_find(fx.st, t1, "water", now_value, &r, &u),
	    STORE_NOTFOUND);
	assert_int_equal(refresh_revoke(fx.st, t1, "water", &ended), 0);
	assert_int_equal(ended, 0);
	/* Untouched for its own client. */
	assert_int_equal(rotate(t1, &app_a, t2, NULL), REFRESH_OK);
	assert_int_equal(refresh_revoke(fx.st, t2, "payroll", &ended), 0);
	assert_int_equal(ended, 1);
	assert_false(is_stored(t1));
	assert_false(is_stored(t2));
	/* Garbage is not an error (RFC 7009 2.2). */
	assert_int_equal(refresh_revoke(fx.st, "x", "payroll", &ended), 0);
	assert_int_equal(ended, 0);
}

static void
test_scope_narrowing(void **state)
{
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN], t3[RAND_TOKEN_LEN];

	(void)state;
	issue("payroll", t1);
	assert_int_equal(rotate(t1, &app_a, t2, "openid email"),
	    REFRESH_SCOPE);
	/* A refused scope leaves the token unused. */
	assert_int_equal(rotate(t1, &app_a, t2, "openid"), REFRESH_OK);
	assert_int_equal(rotate(t2, &app_a, t3, NULL), REFRESH_OK);
}

static void
test_end_user(void **state)
{
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN], t3[RAND_TOKEN_LEN];
	struct store_txn *txn;
	size_t n;

	(void)state;
	issue("payroll", t1);
	issue("water", t2);
	assert_int_equal(rotate(t1, &app_a, t3, NULL), REFRESH_OK);
	assert_int_equal(store_begin(fx.st, 1, &txn), STORE_OK);
	assert_int_equal(access_end_user(txn, "user-maria", NULL), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_false(is_stored(t1));
	assert_false(is_stored(t2));
	assert_false(is_stored(t3));
	assert_int_equal(rotate(t3, &app_a, t1, NULL), REFRESH_INVALID);
	/* No family is left to end. */
	assert_int_equal(store_begin(fx.st, 1, &txn), STORE_OK);
	assert_int_equal(store_refresh_del_user(txn, "user-maria", &n),
	    STORE_OK);
	assert_int_equal(n, 0);
	store_abort(txn);
}

static void
test_disabled_user_denied(void **state)
{
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN];
	struct store_txn *txn;
	struct user u;

	(void)state;
	issue("payroll", t1);
	assert_int_equal(store_begin(fx.st, 1, &txn), STORE_OK);
	assert_int_equal(store_user_get(txn, "user-maria", &u), STORE_OK);
	u.disabled = 1;		/* by hand: access_end_user not called */
	assert_int_equal(store_user_update(txn, &u), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(rotate(t1, &app_a, t2, NULL), REFRESH_DENIED);
	assert_false(is_stored(t1));
}

static void
test_sweep(void **state)
{
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN], t3[RAND_TOKEN_LEN];
	struct store_txn *txn;
	size_t removed, n;

	(void)state;
	issue("payroll", t1);
	assert_int_equal(rotate(t1, &app_a, t2, NULL), REFRESH_OK);
	now_value = T0 + 100;
	issue("water", t3);			/* ends at T0 + 100 + TTL */
	assert_int_equal(store_sweep(fx.st, T0 + TTL - 1, &removed),
	    STORE_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(store_sweep(fx.st, T0 + TTL, &removed), STORE_OK);
	assert_int_equal(removed, 2);		/* t1 (rotated) and t2 */
	assert_false(is_stored(t1));
	assert_false(is_stored(t2));
	assert_true(is_stored(t3));
	/* The payroll family's user entry went with its last token: only
	 * the water family is left to end. */
	assert_int_equal(store_begin(fx.st, 1, &txn), STORE_OK);
	assert_int_equal(store_refresh_del_user(txn, "user-maria", &n),
	    STORE_OK);
	assert_int_equal(n, 1);
	store_abort(txn);
}

static void
test_client_grants(void **state)
{
	struct store_txn *txn;
	json_t *roles;

	(void)state;
	assert_int_equal(store_begin(fx.st, 1, &txn), STORE_OK);
	assert_int_equal(store_client_grant_put(txn, "payroll", "sync"),
	    STORE_OK);
	assert_int_equal(store_client_grant_put(txn, "payroll", "export"),
	    STORE_OK);
	assert_int_equal(store_client_grant_put(txn, "water", "read"),
	    STORE_OK);
	assert_int_equal(store_client_grant_del(txn, "payroll", "none"),
	    STORE_NOTFOUND);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(store_begin(fx.st, 0, &txn), STORE_OK);
	roles = registry_client_roles(txn, "payroll");
	store_abort(txn);
	assert_non_null(roles);
	assert_int_equal(json_array_size(roles), 2);
	assert_string_equal(json_string_value(json_array_get(roles, 0)),
	    "export");
	assert_string_equal(json_string_value(json_array_get(roles, 1)),
	    "sync");
	json_decref(roles);
	/* A public client holds none. */
	app_b.public_client = 1;
	assert_int_equal(store_begin(fx.st, 1, &txn), STORE_OK);
	assert_int_equal(store_app_put(txn, &app_b), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(registry_client_grant_add(fx.st, NULL, "water",
	    "more", NULL), REG_REFUSED);
	assert_int_equal(registry_client_grant_add(fx.st, NULL, "payroll",
	    "bad role!", NULL), REG_INVALID);
	assert_int_equal(registry_client_grant_revoke(fx.st, NULL, "payroll",
	    "sync", NULL), REG_OK);
	assert_int_equal(registry_client_grant_revoke(fx.st, NULL, "payroll",
	    "sync", NULL), REG_NOTFOUND);
}

/* ---- many rotations at once (group commit, store_write): each thread
 * starts families, rotates, replays the rotated token and tries the
 * token of the ended family; every outcome as if alone, and the audit
 * entries of the replays form one intact chain. */
#define RACE_THREADS 8
#define RACE_ROUNDS 20

static struct audit race_audit;

struct racer {
	pthread_t th;
	int rc[RACE_ROUNDS][4];	/* issue, rotate, replay, after the end */
};

static int
race_rotate(const char *token, char out[RAND_TOKEN_LEN])
{
	struct refresh_ctx c = { fx.st, &race_audit, "127.0.0.1", T0, NULL };
	struct refresh_result res;
	const char *why;
	int rc;

	rc = refresh_rotate(&c, token, &app_a, out, &res, &why);
	if (rc == REFRESH_OK)
		json_decref(res.roles);
	return rc;
}

static void *
racer_run(void *arg)
{
	struct refresh_ctx c = { fx.st, &race_audit, "127.0.0.1", T0, NULL };
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN], t3[RAND_TOKEN_LEN];
	struct racer *r = arg;
	struct authcode code;
	int i;

	memset(&code, 0, sizeof(code));
	str_copy(code.client_id, "payroll", sizeof(code.client_id));
	str_copy(code.user_id, "user-maria", sizeof(code.user_id));
	str_copy(code.scope, "openid", sizeof(code.scope));
	for (i = 0; i < RACE_ROUNDS; i++) {
		r->rc[i][0] = refresh_issue(&c, &code, TTL, t1);
		r->rc[i][1] = race_rotate(t1, t2);
		r->rc[i][2] = race_rotate(t1, t3);
		r->rc[i][3] = race_rotate(t2, t3);
	}
	return NULL;
}

static void
test_concurrent_rotation(void **state)
{
	static struct racer racers[RACE_THREADS];
	char t1[RAND_TOKEN_LEN], t2[RAND_TOKEN_LEN];
	struct audit_report rep;
	int i, j;

	(void)state;
	memset(&race_audit, 0x33, sizeof(race_audit));
	issue("payroll", t1);
	for (i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_create(&racers[i].th, NULL,
		    racer_run, &racers[i]), 0);
	/* Meanwhile the main thread rotates a family of its own. */
	for (j = 0; j < RACE_ROUNDS; j++) {
		assert_int_equal(rotate(t1, &app_a, t2, NULL), REFRESH_OK);
		memcpy(t1, t2, sizeof(t1));
	}
	for (i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_join(racers[i].th, NULL), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		for (j = 0; j < RACE_ROUNDS; j++) {
			assert_int_equal(racers[i].rc[j][0], 0);
			assert_int_equal(racers[i].rc[j][1], REFRESH_OK);
			assert_int_equal(racers[i].rc[j][2], REFRESH_REUSED);
			assert_int_equal(racers[i].rc[j][3], REFRESH_INVALID);
		}
	}
	assert_true(is_stored(t1));
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(audit_verify(&race_audit, fx.st, &rep),
	    AUDIT_INTACT);
	assert_int_equal(rep.entries, RACE_THREADS * RACE_ROUNDS);
}

/* Two uses of one token at once: one rotates it, the other finds it
 * rotated and ends the family (or, later still, finds nothing). */
struct twin {
	pthread_t th;
	const char *token;
	char out[RAND_TOKEN_LEN];
	int rc;
};

static void *
twin_run(void *arg)
{
	struct twin *t = arg;

	t->rc = race_rotate(t->token, t->out);
	return NULL;
}

static void
test_concurrent_reuse(void **state)
{
	struct twin twins[4];
	char t1[RAND_TOKEN_LEN];
	struct audit_report rep;
	int i, ok = 0, reused = 0, invalid = 0;

	(void)state;
	memset(&race_audit, 0x44, sizeof(race_audit));
	issue("payroll", t1);
	for (i = 0; i < 4; i++) {
		twins[i].token = t1;
		assert_int_equal(pthread_create(&twins[i].th, NULL, twin_run,
		    &twins[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(twins[i].th, NULL), 0);
		ok += twins[i].rc == REFRESH_OK;
		reused += twins[i].rc == REFRESH_REUSED;
		invalid += twins[i].rc == REFRESH_INVALID;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(reused, 1);
	assert_int_equal(invalid, 2);
	for (i = 0; i < 4; i++)
		if (twins[i].rc == REFRESH_OK)
			assert_false(is_stored(twins[i].out));
	assert_false(is_stored(t1));
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(audit_verify(&race_audit, fx.st, &rep),
	    AUDIT_INTACT);
	assert_int_equal(rep.entries, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_ends_family, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_client, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scope_narrowing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_end_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_user_denied,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_grants, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_rotation,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_reuse, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
