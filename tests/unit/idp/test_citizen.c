/*
 * test_citizen.c - citizens' accounts over a real store and keyset: the
 * tax number's check digit, the password policy, registration rules,
 * export (everything held, no secret) and erasure (nothing left of the
 * person but pseudonyms, the audit chain still intact).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit/audit.h"
#include "authn/lockout.h"
#include "fixture.h"
#include "registry/citizen.h"
#include "util/util.h"

#define T0 1800000000
#define TAX "123456783"		/* check digit: see test_taxid */
#define PHONE "+306912345678"
#define PASS "Kalokairi sto Pilio 7"

static char keydir[64];
static keyset *ks;
static struct audit au;
static struct fixture fx;
static int64_t now = T0;
static const struct argon2_params cheap = { 1, 8, 1 };
static const struct registry_actor op = { &au, "operator:root", "local" };

static int64_t
test_clock(void)
{
	return now;
}

static int
group_setup(void **state)
{
	char path[128], err[256];

	(void)state;
	clock_set(test_clock);
	str_copy(keydir, "/tmp/kleidi-citizen-keys-XXXXXX", sizeof(keydir));
	assert_non_null(mkdtemp(keydir));
	(void)snprintf(path, sizeof(path), "%s/keys", keydir);
	assert_int_equal(keys_init(path, T0, err, sizeof(err)), 0);
	assert_non_null(ks = keyset_load(path, T0, err, sizeof(err)));
	assert_int_equal(audit_init(&au, ks), 0);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	audit_clear(&au);
	keyset_free(ks);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", keydir);
	assert_int_equal(system(cmd), 0);
	clock_set(NULL);
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	now = T0;
	fixture_open(&fx, "citizen");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fixture_close(&fx);
	return 0;
}

/* The check digit of the first eight digits of s (AFM rule). */
static char
check_digit(const char *s)
{
	unsigned sum = 0;
	int i;

	for (i = 0; i < 8; i++)
		sum += (unsigned)(s[i] - '0') << (8 - i);
	return (char)('0' + sum % 11 % 10);
}

static void
test_taxid(void **state)
{
	char t[10] = "12345678?";
	int d;

	(void)state;
	/* 1*256+2*128+3*64+4*32+5*16+6*8+7*4+8*2 = 1004; 1004 % 11 = 3 */
	assert_int_equal(check_digit(TAX), '3');
	assert_true(valid_taxid(TAX));
	for (d = 0; d <= 9; d++) {
		t[8] = (char)('0' + d);
		assert_int_equal(valid_taxid(t), d == 3);
	}
	assert_true(valid_taxid("090000045"));	/* a published example */
	assert_false(valid_taxid("000000000"));
	assert_false(valid_taxid("12345678"));
	assert_false(valid_taxid("1234567830"));
	assert_false(valid_taxid("12345678a"));
	assert_false(valid_taxid(" 23456783"));
	assert_false(valid_taxid(""));
	assert_false(valid_taxid(NULL));
}

static void
test_password_policy(void **state)
{
	(void)state;
	assert_null(password_policy_check(PASS));
	assert_string_equal(password_policy_check("short pw"),
	    "password.too_short");
	/* The list, whatever the case, and Greek choices. */
	assert_string_equal(password_policy_check("1234567890"),
	    "password.common");
	assert_string_equal(password_policy_check("QwertyUIOP"),
	    "password.common");
	assert_string_equal(password_policy_check("Password123"),
	    "password.common");
	assert_string_equal(password_policy_check("Panathinaikos"),
	    "password.common");
	assert_string_equal(password_policy_check("olympiakos1925"),
	    "password.common");
	assert_string_equal(password_policy_check("ςερτυθιοπ"),
	    "password.common");
	assert_string_equal(password_policy_check("kwdikos123"),
	    "password.common");
	/* Near misses pass: the list is exact, not a fuzzy match. */
	assert_null(password_policy_check("qwertyuiop!x"));
	assert_string_equal(password_policy_check("zzzzzzzzzzzz"),
	    "password.common");
	assert_string_equal(password_policy_check_user(TAX "x", TAX "X"),
	    "password.is_username");
	assert_string_equal(password_policy_check_user("abc@example.gr",
	    "ABC@example.gr"), "password.is_username");
	assert_null(password_policy_check_user(PASS, TAX));
	assert_string_equal(password_policy_check_user("short", TAX),
	    "password.too_short");
}

static struct citizen_spec
spec(void)
{
	return (struct citizen_spec){ TAX, "Μαρία", "Παπαδοπούλου",
		"maria@example.gr", PHONE, PASS, 0 };
}

static void
add(struct user *u)
{
	struct citizen_spec s = spec();
	struct registry_err e;

	assert_int_equal(registry_citizen_add(fx.st, &op, &cheap, &s, u, &e),
	    REG_OK);
}

static void
test_add_rules(void **state)
{
	struct citizen_spec s = spec();
	enum citizen_field f;
	struct registry_err e;
	struct store_txn *txn;
	struct user u, got;

	(void)state;
	s.tax_id = "123456784";
	assert_int_equal(registry_citizen_check(&s, &f, NULL, &e),
	    REG_INVALID);
	assert_int_equal(f, CITIZEN_F_TAX_ID);
	s = spec();
	s.password = TAX;
	assert_int_equal(registry_citizen_add(fx.st, &op, &cheap, &s, &u, &e),
	    REG_INVALID);
	s = spec();
	s.phone = "6912345678";
	assert_int_equal(registry_citizen_add(fx.st, &op, &cheap, &s, &u, &e),
	    REG_INVALID);
	add(&u);
	assert_int_equal(u.type, USER_CITIZEN);
	assert_string_equal(u.username, TAX);
	assert_string_equal(u.org, "");
	assert_int_equal(u.phone_verified, 0);
	assert_string_equal(u.name, "Μαρία Παπαδοπούλου");
	s = spec();
	assert_int_equal(registry_citizen_add(fx.st, &op, &cheap, &s, &got,
	    &e), REG_EXISTS);
	assert_int_equal(registry_citizen_phone_verified(fx.st, &op, u.id, &e),
	    REG_OK);
	assert_int_equal(store_begin(fx.st, 0, &txn), STORE_OK);
	assert_int_equal(store_user_get_by_name(txn, TAX, &got), STORE_OK);
	store_abort(txn);
	assert_int_equal(got.phone_verified, 1);
	assert_int_equal(password_verify(got.password, PASS), 1);
}

static void
test_export(void **state)
{
	struct registry_err e;
	struct user u;
	json_t *j, *acc;
	char *s;

	(void)state;
	add(&u);
	now += 10;
	assert_int_equal(registry_citizen_phone_verified(fx.st, &op, u.id, &e),
	    REG_OK);
	assert_non_null(j = registry_citizen_export(fx.st, TAX, &e));
	acc = json_object_get(j, "account");
	assert_string_equal(json_string_value(json_object_get(acc, "sub")),
	    u.id);
	assert_string_equal(json_string_value(json_object_get(acc,
	    "tax_id")), TAX);
	assert_string_equal(json_string_value(json_object_get(acc,
	    "family_name")), "Παπαδοπούλου");
	assert_string_equal(json_string_value(json_object_get(acc, "phone")),
	    PHONE);
	assert_true(json_is_true(json_object_get(acc, "phone_verified")));
	assert_string_equal(json_string_value(json_object_get(j, "password")),
	    "set");
	assert_int_equal(json_array_size(json_object_get(j, "grants")), 0);
	/* citizen.add and citizen.phone-verified are about them */
	assert_int_equal(json_array_size(json_object_get(j, "audit")), 2);
	assert_non_null(s = json_dumps(j, 0));
	assert_null(strstr(s, "argon2"));	/* no hash, no secret */
	free(s);
	json_decref(j);
	assert_null(registry_citizen_export(fx.st, "090000045", &e));
	assert_null(registry_citizen_export(fx.st, "12345", &e));
}

struct scan {
	const char *const *needles;
	int hits;
	int erased;
};

static int
scan_entry(const struct audit_entry *e, void *arg)
{
	struct scan *sc = arg;
	const char *const *n;

	for (n = sc->needles; *n != NULL; n++)
		if (strstr(e->actor, *n) || strstr(e->subject, *n) ||
		    strstr(e->detail, *n) || strstr(e->addr, *n))
			sc->hits++;
	sc->erased += strncmp(e->subject, "erased:", 7) == 0;
	return 0;
}

/* Traces of the person a sign-in leaves: a session, a lockout counter,
 * a pairwise sub, audit entries naming them as actor and subject. */
static void
leave_traces(const struct user *u)
{
	char actor[64], sid[RAND_TOKEN_LEN];
	struct audit_event ev;
	struct session sess;
	struct store_txn *txn;

	assert_int_equal(session_create(fx.st, u->id, 5, now, 600, sid, &sess),
	    STORE_OK);
	assert_int_equal(lockout_fail(fx.st, u->username, now, NULL), 0);
	assert_int_equal(store_begin(fx.st, 1, &txn), STORE_OK);
	assert_int_equal(store_pairwise_put(txn, "eservice1", "pw-sub-1",
	    u->id), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	snprintf(actor, sizeof(actor), "user:%s", u->id);
	ev = (struct audit_event){ actor, "signin.password", "ok", TAX,
		"eservice1", NULL, "198.51.100.7", NULL };
	assert_int_equal(audit_log(&au, fx.st, &ev), 0);
	ev = (struct audit_event){ "user:-", "signin.password", "fail", NULL,
		"eservice1", NULL, "198.51.100.7", TAX };
	assert_int_equal(audit_log(&au, fx.st, &ev), 0);
	/* someone else's entry stays as it was */
	ev = (struct audit_event){ "operator:root", "org.add", "ok", NULL,
		NULL, "town", "local", NULL };
	assert_int_equal(audit_log(&au, fx.st, &ev), 0);
}

static void
assert_gone(const struct user *u)
{
	struct store_txn *txn;
	struct user_auth ua;
	struct counter c;
	struct user got;
	char id[USER_ID_SIZE];

	assert_int_equal(store_begin(fx.st, 0, &txn), STORE_OK);
	assert_int_equal(store_user_get(txn, u->id, &got), STORE_NOTFOUND);
	assert_int_equal(store_user_get_by_name(txn, TAX, &got),
	    STORE_NOTFOUND);
	assert_int_equal(store_user_auth_get(txn, u->id, &ua),
	    STORE_NOTFOUND);
	assert_int_equal(store_pairwise_get(txn, "eservice1", "pw-sub-1", id),
	    STORE_NOTFOUND);
	assert_int_equal(store_counter_get(txn, "lock:" TAX, &c),
	    STORE_NOTFOUND);
	store_abort(txn);
}

static void
test_erase(void **state)
{
	static const char *const needles[] = { TAX, PHONE, "Μαρία",
		"maria@example.gr", "198.51.100.7", NULL };
	const char *const own[] = { "operator:root", NULL };
	struct citizen_erased done;
	struct audit_report r;
	struct registry_err e;
	struct scan sc = { needles, 0, 0 }, mine = { own, 0, 0 };
	struct user u;

	(void)state;
	add(&u);
	leave_traces(&u);
	sc.needles = (const char *const[]){ u.id, NULL };
	assert_int_equal(audit_tail(fx.st, NULL, 100, scan_entry, &sc), 0);
	assert_true(sc.hits >= 2);
	assert_int_equal(registry_citizen_erase(fx.st, &op, TAX, &done, &e),
	    REG_OK);
	assert_int_equal(done.sessions, 1);
	assert_int_equal(done.pairwise, 1);
	assert_true(done.audit >= 3);
	assert_gone(&u);
	assert_int_equal(audit_verify(&au, fx.st, &r), AUDIT_INTACT);
	sc = (struct scan){ needles, 0, 0 };
	assert_int_equal(audit_tail(fx.st, NULL, 100, scan_entry, &sc), 0);
	assert_int_equal(sc.hits, 0);
	sc = (struct scan){ (const char *const[]){ u.id, NULL }, 0, 0 };
	assert_int_equal(audit_tail(fx.st, NULL, 100, scan_entry, &sc), 0);
	assert_int_equal(sc.hits, 0);
	/* add, two sign-ins and the erasure itself name the same pseudonym */
	assert_int_equal(sc.erased, 3);
	assert_int_equal(audit_tail(fx.st, NULL, 100, scan_entry, &mine), 0);
	assert_true(mine.hits >= 2);	/* the operator's own entries stay */
	/* erased twice: nothing there any more, and still no tax number */
	assert_int_equal(registry_citizen_erase(fx.st, &op, TAX, &done, &e),
	    REG_NOTFOUND);
	sc = (struct scan){ needles, 0, 0 };
	assert_int_equal(audit_tail(fx.st, NULL, 100, scan_entry, &sc), 0);
	assert_int_equal(sc.hits, 0);
	assert_int_equal(audit_verify(&au, fx.st, &r), AUDIT_INTACT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taxid),
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test_setup_teardown(test_add_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
