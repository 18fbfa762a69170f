/* test_import.c - the employee registry import over a real store: each
 * lifecycle event with its effects on grants, sessions and the roles the
 * next token carries; bad files named by line and applying nothing;
 * idempotence; dry runs; scheduled changes under an injected clock; CSV and
 * JSON alike; the audit trail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#include "audit/audit.h"
#include "registry/import.h"
#include "registry/registry.h"
#include "util/util.h"

#define HDR "registry_no,tax_id,surname,given_name,email,mobile,org," \
	"position,status,effective\n"
/* 2030-01-01T00:00:00Z and one day. */
#define T0 1893456000
#define DAY 86400

static struct fixture fx;
static struct store *st;
static struct audit audit;
static const struct registry_actor who = { &audit, "operator:test",
	"local" };
static int64_t now_t;

static int64_t
fake_now(void)
{
	return now_t;
}

static int
setup(void **state)
{
	struct app_spec spec;
	char secret[RAND_TOKEN_LEN];
	const char *codes[] = { "athens", "sparta", "corfu" };
	size_t i;

	(void)state;
	now_t = T0;
	clock_set(fake_now);
	fixture_open(&fx, "import");
	st = fx.st;
	memset(audit.key, 0x42, sizeof(audit.key));
	memset(&spec, 0, sizeof(spec));
	spec.client_id = "payroll";
	spec.name = "Payroll";
	spec.redirect_uris[0] = "https://payroll.gov.gr/cb";
	spec.n_redirect_uris = 1;
	assert_int_equal(registry_app_add(st, NULL, &spec, secret, NULL,
	    NULL), REG_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(registry_org_add(st, NULL, codes[i], "Town",
		    NULL), REG_OK);
		assert_int_equal(registry_org_subscribe(st, NULL, codes[i],
		    "payroll", NULL), REG_OK);
	}
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

static int
import(const char *data, int dry_run, struct import_report *rep,
    struct registry_err *e)
{
	struct import_opts o;

	memset(&o, 0, sizeof(o));
	o.dry_run = dry_run;
	return registry_import_buf(st, &who, data, strlen(data), &o, rep, e);
}

/* Imports data and asserts it succeeded. */
static void
import_ok(const char *data, struct import_report *rep)
{
	struct registry_err e;

	e.msg[0] = '\0';
	if (import(data, 0, rep, &e) != REG_OK)
		fail_msg("import failed: %s", e.msg);
}

static int
get_regno(const char *regno, struct user *u)
{
	struct store_txn *txn;
	int rc;

	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	rc = store_user_get_by_regno(txn, regno, u);
	store_abort(txn);
	return rc;
}

static void
user_of(const char *regno, struct user *u)
{
	assert_int_equal(get_regno(regno, u), STORE_OK);
}

static void
put_grant(const char *user_id, const char *org, const char *role)
{
	struct store_txn *txn;
	struct grant g;

	memset(&g, 0, sizeof(g));
	str_copy(g.user_id, user_id, sizeof(g.user_id));
	str_copy(g.app, "payroll", sizeof(g.app));
	str_copy(g.org, org, sizeof(g.org));
	str_copy(g.role, role, sizeof(g.role));
	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	assert_int_equal(store_grant_put(txn, &g), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static void
put_session(const char *user_id, unsigned char seed)
{
	struct store_txn *txn;
	struct session s;

	memset(&s, 0, sizeof(s));
	memset(s.id_hash, seed, sizeof(s.id_hash));
	str_copy(s.user_id, user_id, sizeof(s.user_id));
	s.created = now_t;
	s.expires = now_t + 3600;
	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static int
session_exists(unsigned char seed)
{
	unsigned char h[HASH_SIZE];
	struct store_txn *txn;
	struct session s;
	int rc;

	memset(h, seed, sizeof(h));
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	rc = store_session_get(txn, h, &s);
	store_abort(txn);
	return rc == STORE_OK;
}

static int
grant_collect(const struct grant *g, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	(void)snprintf(out + n, 512 - n, "%s/%s,", g->org, g->role);
	return 0;
}

/* The grants of a user as "org/role," in key order. */
static void
grants_are(const char *user_id, const char *want)
{
	struct store_txn *txn;
	char got[512] = "";

	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_grant_list(txn, user_id, NULL, NULL,
	    grant_collect, got), STORE_OK);
	store_abort(txn);
	assert_string_equal(got, want);
}

/* What the next token for payroll would carry: org and roles. */
static void
token_claims(const char *regno, const char *org, const char *roles)
{
	struct store_txn *txn;
	struct user u;
	json_t *r;
	char *s;

	user_of(regno, &u);
	assert_string_equal(u.org, org);
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	r = registry_roles(txn, &u, "payroll");
	store_abort(txn);
	assert_non_null(r);
	s = json_dumps(r, JSON_COMPACT);
	assert_string_equal(s, roles);
	free(s);
	json_decref(r);
}

/* The SHA-256 of the store's data file. */
static void
store_digest(unsigned char out[32])
{
	char path[128];
	size_t len;
	char *data;

	(void)snprintf(path, sizeof(path), "%s/store/data.mdb", fx.dir);
	data = file_read(path, (size_t)1 << 30, &len);
	assert_non_null(data);
	sha256(data, len, out);
	free(data);
}

struct tally {
	const char *action;
	int n;
};

static int
tally_one(const struct audit_entry *e, void *arg)
{
	struct tally *t = arg;

	if (strcmp(e->action, t->action) == 0 && strcmp(e->outcome, "ok") == 0)
		t->n++;
	return 0;
}

static int
audited(const char *action)
{
	struct tally t = { action, 0 };

	assert_int_equal(audit_tail(st, NULL, 1000, tally_one, &t), 0);
	return t.n;
}

static void
audit_intact(void)
{
	struct audit_report r;

	assert_int_equal(audit_verify(&audit, st, &r), AUDIT_INTACT);
}

#define MARIA "1001,100000003,Papadopoulou,Maria,Maria.P@Athens.gr," \
	"+306912345678,athens,Clerk,active,\n"
#define NIKOS "1002,100000015,Georgiou,Nikos,,,athens,Clerk,active,\n"

static void
test_taxid(void **state)
{
	(void)state;
	assert_true(valid_taxid("100000003"));
	assert_true(valid_taxid("090000045"));
	assert_true(valid_taxid("123456783"));
	assert_false(valid_taxid("123456784"));
	assert_false(valid_taxid("000000000"));
	assert_false(valid_taxid("12345678"));
	assert_false(valid_taxid("1234567830"));
	assert_false(valid_taxid("12345678a"));
	assert_false(valid_taxid(NULL));
}

static void
test_new(void **state)
{
	struct import_report rep;
	struct user u;

	(void)state;
	import_ok(HDR MARIA NIKOS, &rep);
	assert_int_equal(rep.rows, 2);
	assert_int_equal(rep.count[IMPORT_K_NEW], 2);
	assert_int_equal(rep.changed, 2);
	assert_true(rep.committed);
	user_of("1001", &u);
	assert_string_equal(u.username, "maria.p@athens.gr");
	assert_string_equal(u.email, "Maria.P@Athens.gr");
	assert_string_equal(u.name, "Maria Papadopoulou");
	assert_string_equal(u.family_name, "Papadopoulou");
	assert_string_equal(u.tax_id, "100000003");
	assert_string_equal(u.position, "Clerk");
	assert_string_equal(u.org, "athens");
	assert_string_equal(u.password, "");
	assert_int_equal(u.type, USER_EMPLOYEE);
	assert_false(u.disabled);
	assert_int_equal(u.created, T0);
	user_of("1002", &u);
	assert_string_equal(u.username, "r1002");
	token_claims("1002", "athens", "[]");
	assert_int_equal(audited("registry.hire"), 2);
	assert_int_equal(audited("registry.import"), 1);
	audit_intact();
}

/* Maria with grants in athens (her org) and corfu, and two sessions. */
static void
maria_at_work(struct user *u)
{
	struct import_report rep;

	import_ok(HDR MARIA NIKOS, &rep);
	user_of("1001", u);
	put_grant(u->id, "athens", "clerk");
	put_grant(u->id, "athens", "approver");
	put_grant(u->id, "corfu", "auditor");
	put_session(u->id, 1);
	put_session(u->id, 2);
	token_claims("1001", "athens", "[\"approver\",\"clerk\"]");
}

static void
test_transfer(void **state)
{
	struct import_report rep;
	struct user u, after, nikos;

	(void)state;
	maria_at_work(&u);
	user_of("1002", &nikos);
	put_session(nikos.id, 3);
	import_ok(HDR "1001,100000003,Papadopoulou,Maria,Maria.P@Athens.gr,"
	    "+306912345678,sparta,Clerk,active,\n" NIKOS, &rep);
	assert_int_equal(rep.count[IMPORT_K_TRANSFER], 1);
	assert_int_equal(rep.count[IMPORT_K_UNCHANGED], 1);
	assert_int_equal(rep.changed, 1);
	user_of("1001", &after);
	/* sub is for life; the old org's grants go, others stay. */
	assert_string_equal(after.id, u.id);
	assert_string_equal(after.username, u.username);
	grants_are(u.id, "corfu/auditor,");
	assert_false(session_exists(1));
	assert_false(session_exists(2));
	assert_true(session_exists(3));		/* Nikos stays signed in */
	token_claims("1001", "sparta", "[]");
	put_grant(u.id, "sparta", "clerk");
	token_claims("1001", "sparta", "[\"clerk\"]");
	assert_int_equal(audited("registry.transfer"), 1);
	audit_intact();
}

static void
test_promotion(void **state)
{
	struct import_report rep;
	struct user u;

	(void)state;
	maria_at_work(&u);
	import_ok(HDR "1001,100000003,Papadopoulou,Maria,Maria.P@Athens.gr,"
	    "+306912345678,athens,Head of Finance,active,\n" NIKOS, &rep);
	assert_int_equal(rep.count[IMPORT_K_PROMOTION], 1);
	assert_int_equal(rep.count[IMPORT_K_TRANSFER], 0);
	user_of("1001", &u);
	assert_string_equal(u.position, "Head of Finance");
	grants_are(u.id, "athens/approver,athens/clerk,corfu/auditor,");
	assert_true(session_exists(1));
	assert_true(session_exists(2));
	token_claims("1001", "athens", "[\"approver\",\"clerk\"]");
	assert_int_equal(audited("registry.promotion"), 1);
}

static void
test_update_contacts(void **state)
{
	struct import_report rep;
	struct user u;

	(void)state;
	maria_at_work(&u);
	import_ok(HDR "1001,100000003,Papadopoulou-Ioannou,Maria,"
	    "maria@athens.gr,+306900000000,athens,Clerk,active,\n", &rep);
	assert_int_equal(rep.count[IMPORT_K_UPDATE], 1);
	assert_int_equal(rep.changed, 1);
	user_of("1001", &u);
	assert_string_equal(u.name, "Maria Papadopoulou-Ioannou");
	assert_string_equal(u.email, "maria@athens.gr");
	assert_string_equal(u.phone, "+306900000000");
	/* The login stays what it was. */
	assert_string_equal(u.username, "maria.p@athens.gr");
	assert_true(session_exists(1));
}

#define MARIA_GONE "1001,100000003,Papadopoulou,Maria,Maria.P@Athens.gr," \
	"+306912345678,athens,Clerk,departed,\n"

static void
test_departure_and_rehire(void **state)
{
	struct import_report rep;
	struct store_txn *txn;
	struct user u;
	struct app a;

	(void)state;
	maria_at_work(&u);
	now_t += DAY;
	import_ok(HDR MARIA_GONE NIKOS, &rep);
	assert_int_equal(rep.count[IMPORT_K_DEPARTURE], 1);
	assert_int_equal(rep.changed, 1);
	user_of("1001", &u);
	assert_true(u.disabled);
	assert_int_equal(u.departed, T0 + DAY);
	assert_false(session_exists(1));
	assert_false(session_exists(2));
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_app_get(txn, "payroll", &a), STORE_OK);
	assert_int_equal(registry_access(txn, &u, &a), ACCESS_DISABLED);
	store_abort(txn);
	/* Departed twice is departed once. */
	import_ok(HDR MARIA_GONE, &rep);
	assert_int_equal(rep.changed, 0);

	import_ok(HDR MARIA NIKOS, &rep);
	assert_int_equal(rep.count[IMPORT_K_REHIRE], 1);
	user_of("1001", &u);
	assert_false(u.disabled);
	assert_int_equal(u.departed, 0);
	assert_int_equal(audited("registry.departure"), 1);
	assert_int_equal(audited("registry.rehire"), 1);
	audit_intact();
}

static void
test_rehire_into_other_org(void **state)
{
	struct import_report rep;
	struct user u;

	(void)state;
	maria_at_work(&u);
	import_ok(HDR MARIA_GONE, &rep);
	import_ok(HDR "1001,100000003,Papadopoulou,Maria,Maria.P@Athens.gr,"
	    "+306912345678,sparta,Clerk,active,\n", &rep);
	assert_int_equal(rep.count[IMPORT_K_REHIRE], 1);
	assert_int_equal(rep.count[IMPORT_K_TRANSFER], 1);
	assert_int_equal(rep.changed, 1);
	grants_are(u.id, "corfu/auditor,");
	token_claims("1001", "sparta", "[]");
}

/* An account an IT officer disabled stays disabled: only a departure
 * is undone by the registry. */
static void
test_manual_disable_kept(void **state)
{
	struct import_report rep;
	struct user u;

	(void)state;
	import_ok(HDR MARIA, &rep);
	assert_int_equal(registry_user_set_disabled(st, NULL,
	    "maria.p@athens.gr", 1, NULL), REG_OK);
	import_ok(HDR MARIA, &rep);
	assert_int_equal(rep.changed, 0);
	user_of("1001", &u);
	assert_true(u.disabled);
}

/* A departed person the store never knew: nothing to do. */
static void
test_departed_stranger(void **state)
{
	struct import_report rep;
	struct user u;

	(void)state;
	import_ok(HDR MARIA_GONE, &rep);
	assert_int_equal(rep.count[IMPORT_K_UNCHANGED], 1);
	assert_false(rep.committed);
	assert_int_equal(get_regno("1001", &u), STORE_NOTFOUND);
}

/* A file whose row on `line` is bad: refused, that line named with why,
 * nothing applied. */
static void
bad_file(const char *data, unsigned line, const char *why)
{
	struct import_report rep;
	struct registry_err e;
	char prefix[32];
	struct user u;

	assert_int_equal(import(data, 0, &rep, &e), REG_INVALID);
	(void)snprintf(prefix, sizeof(prefix), "line %u: ", line);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0 ||
	    strstr(e.msg, why) == NULL)
		fail_msg("want \"%s...%s\", got \"%s\"", prefix, why, e.msg);
	assert_true(rep.nerrors >= 1);
	assert_false(rep.committed);
	assert_int_equal(get_regno("1001", &u), STORE_NOTFOUND);
	assert_int_equal(get_regno("1002", &u), STORE_NOTFOUND);
}

/* Fields that fill the record's buffer to its last byte, then an empty
 * field: refused, nothing written past the buffer (fuzz.import found the
 * empty field's NUL written one past it, and the next field unbounded). */
static void
long_fields(void)
{
	char *file = malloc(IMPORT_LINE_MAX + 256);
	size_t n;

	assert_non_null(file);
	n = (size_t)snprintf(file, 256, "%s", HDR MARIA);
	/* The buffer holds IMPORT_LINE_MAX + 10 + 1 bytes: one field of
	 * all but its NUL takes it all. */
	memset(file + n, 'A', IMPORT_LINE_MAX + 10);
	n += IMPORT_LINE_MAX + 10;
	(void)snprintf(file + n, 64, ",,,,,,,,,\n");
	bad_file(file, 3, "longer than the limit");
	free(file);
}

static void
test_bad_rows(void **state)
{
	(void)state;
	bad_file(HDR MARIA NIKOS "1003,100000028,A,B,,,athens,,active,\n", 4,
	    "tax number");
	bad_file(HDR MARIA "1003,100000027,A,B,,,xyz,,active,\n" NIKOS, 3,
	    "org 'xyz' does not exist");
	bad_file(HDR MARIA NIKOS "1003,100000027,A,B,a@b,,athens,,active,\n",
	    4, "email");
	bad_file(HDR MARIA NIKOS "1001,100000027,A,B,,,athens,,active,\n", 4,
	    "registry number 1001 is also on line 2");
	bad_file(HDR MARIA NIKOS "1003,100000027,\"A\"x,B,,,athens,,active,\n",
	    4, "closing quote");
	bad_file(HDR MARIA NIKOS "1003,100000027,\"A,B,,,athens,,active,\n", 4,
	    "never closed");
	bad_file(HDR MARIA NIKOS "1003,100000027,A\"B,C,,,athens,,active,\n", 4,
	    "quote inside");
	bad_file(HDR MARIA NIKOS "1003,100000027,A,B,,,athens,active,\n", 4,
	    "9 fields, expected 10");
	bad_file(HDR MARIA NIKOS "1003,100000027,A,B,,,athens,,gone,\n", 4,
	    "status");
	bad_file(HDR MARIA NIKOS "1003,100000027,A,B,,,athens,,active,"
	    "2030-02-30\n", 4, "effective date");
	bad_file(HDR MARIA NIKOS "1003,100000027,A,B,,6912345678,athens,,"
	    "active,\n", 4, "mobile");
	bad_file(HDR MARIA "\n" NIKOS, 3, "blank line");
	long_fields();
	bad_file("registry_no,tax_id,surname\n" MARIA, 1, "header");
	/* Two new people claiming one username: the second is named. */
	bad_file(HDR MARIA "1003,100000027,A,B,maria.p@athens.gr,,athens,,"
	    "active,\n", 3, "username maria.p@athens.gr is taken");
	/* The refusals are on record, nothing else. */
	assert_int_equal(audited("registry.hire"), 0);
	audit_intact();
}

static void
test_all_errors_counted(void **state)
{
	struct import_report rep;
	struct registry_err e;

	(void)state;
	assert_int_equal(import(HDR "X1,100000003,A,B,,,athens,,active,\n"
	    "1002,100000015,A,B,,,nowhere,,active,\n" MARIA, 0, &rep, &e),
	    REG_INVALID);
	assert_int_equal(rep.nerrors, 2);
	assert_string_equal(e.msg, rep.errors[0]);
	assert_non_null(strstr(rep.errors[0], "line 2: registry number"));
	assert_string_equal(rep.errors[1], "line 3: org 'nowhere' does not "
	    "exist");
	assert_int_equal(rep.rows, 3);
}

static void
test_second_import_changes_nothing(void **state)
{
	const char *file = HDR MARIA NIKOS
	    "1003,100000027,Doe,Jo,,,sparta,,active,2030-03-01\n";
	unsigned char before[32], after[32];
	struct import_report rep;

	(void)state;
	import_ok(file, &rep);
	assert_int_equal(rep.count[IMPORT_K_NEW], 2);
	assert_int_equal(rep.count[IMPORT_K_SCHEDULED], 1);
	store_digest(before);
	now_t += 60;
	import_ok(file, &rep);
	assert_int_equal(rep.rows, 3);
	assert_int_equal(rep.changed, 0);
	assert_int_equal(rep.count[IMPORT_K_UNCHANGED], 3);
	assert_false(rep.committed);
	store_digest(after);
	assert_memory_equal(before, after, sizeof(before));
}

struct plan_log {
	char s[512];
};

static int
plan_one(const struct import_change *ch, void *arg)
{
	struct plan_log *l = arg;
	size_t n = strlen(l->s);

	(void)snprintf(l->s + n, sizeof(l->s) - n, "%u:%x:%s:%s>%s,",
	    ch->line, ch->kinds, ch->registry_no, ch->org_from, ch->org_to);
	return 0;
}

static void
test_dry_run(void **state)
{
	unsigned char before[32], after[32];
	struct import_report rep;
	struct registry_err e;
	struct import_opts o;
	struct plan_log log;
	struct user u;
	const char *file = HDR "1001,100000003,Papadopoulou,Maria,,,sparta,"
	    "Clerk,active,\n" NIKOS;

	(void)state;
	import_ok(HDR MARIA, &rep);
	store_digest(before);
	memset(&o, 0, sizeof(o));
	memset(&log, 0, sizeof(log));
	o.dry_run = 1;
	o.plan = plan_one;
	o.plan_arg = &log;
	assert_int_equal(registry_import_buf(st, &who, file, strlen(file), &o,
	    &rep, &e), REG_OK);
	assert_string_equal(log.s, "2:a:1001:athens>sparta,3:1:1002:>athens,");
	assert_int_equal(rep.count[IMPORT_K_TRANSFER], 1);
	assert_int_equal(rep.count[IMPORT_K_UPDATE], 1);
	assert_int_equal(rep.count[IMPORT_K_NEW], 1);
	assert_false(rep.committed);
	store_digest(after);
	assert_memory_equal(before, after, sizeof(before));
	user_of("1001", &u);
	assert_string_equal(u.org, "athens");
	assert_int_equal(get_regno("1002", &u), STORE_NOTFOUND);
}

static void
test_scheduled(void **state)
{
	struct import_report rep;
	struct registry_err e;
	struct user u;
	const char *later = HDR "1001,100000003,Papadopoulou,Maria,"
	    "Maria.P@Athens.gr,+306912345678,sparta,Clerk,active,2030-01-10\n"
	    "1003,100000027,Doe,Jo,,,corfu,,active,2030-01-10\n";

	(void)state;
	maria_at_work(&u);
	import_ok(later, &rep);
	assert_int_equal(rep.count[IMPORT_K_SCHEDULED], 2);
	assert_true(rep.committed);
	token_claims("1001", "athens", "[\"approver\",\"clerk\"]");
	assert_int_equal(get_regno("1003", &u), STORE_NOTFOUND);
	assert_true(session_exists(1));

	/* Not due the day before. */
	now_t = T0 + 8 * DAY;
	assert_int_equal(registry_apply_due(st, &who, now_t, &rep, &e),
	    REG_OK);
	assert_int_equal(rep.rows, 0);
	assert_false(rep.committed);
	token_claims("1001", "athens", "[\"approver\",\"clerk\"]");

	now_t = T0 + 9 * DAY;
	assert_int_equal(registry_apply_due(st, &who, now_t, &rep, &e),
	    REG_OK);
	assert_int_equal(rep.rows, 2);
	assert_int_equal(rep.count[IMPORT_K_TRANSFER], 1);
	assert_int_equal(rep.count[IMPORT_K_NEW], 1);
	assert_true(rep.committed);
	token_claims("1001", "sparta", "[]");
	assert_false(session_exists(1));
	user_of("1003", &u);
	assert_string_equal(u.org, "corfu");
	/* Applied once: the schedule is empty, the same file is no news. */
	assert_int_equal(registry_apply_due(st, &who, now_t, &rep, &e),
	    REG_OK);
	assert_int_equal(rep.rows, 0);
	import_ok(later, &rep);
	assert_int_equal(rep.changed, 0);
	assert_int_equal(audited("registry.schedule"), 2);
	assert_int_equal(audited("registry.apply-due"), 1);
	audit_intact();
}

static void
test_scheduled_replaced_and_refused(void **state)
{
	struct import_report rep;
	struct registry_err e;
	struct store_txn *txn;
	struct sched_change s;
	struct user u;

	(void)state;
	import_ok(HDR "1003,100000027,Doe,Jo,,,corfu,,active,2030-01-10\n",
	    &rep);
	import_ok(HDR "1003,100000027,Doe,Jo,,,sparta,,active,2030-01-20\n",
	    &rep);
	assert_int_equal(rep.count[IMPORT_K_SCHEDULED], 1);
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_sched_get(txn, "1003", &s), STORE_OK);
	store_abort(txn);
	assert_string_equal(s.org, "sparta");
	/* The username is taken meanwhile: dropped, refusal on record. */
	assert_int_equal(registry_user_add(st, NULL, NULL, &(struct user_spec){
	    "r1003", "athens", "Someone", NULL, NULL, NULL }, NULL, NULL),
	    REG_OK);
	now_t = T0 + 30 * DAY;
	assert_int_equal(registry_apply_due(st, &who, now_t, &rep, &e),
	    REG_OK);
	assert_int_equal(rep.rows, 1);
	assert_int_equal(rep.nerrors, 1);
	assert_non_null(strstr(rep.errors[0], "registry number 1003: "
	    "username r1003 is taken"));
	assert_int_equal(get_regno("1003", &u), STORE_NOTFOUND);
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_sched_get(txn, "1003", &s), STORE_NOTFOUND);
	store_abort(txn);
	assert_int_equal(audited("registry.apply-refused"), 1);
}

static void
test_json_same_as_csv(void **state)
{
	struct import_report rep;
	struct registry_err e;
	const char *json = "{\"employees\": [\n"
	    "{\"registry_no\": \"1001\", \"tax_id\": \"100000003\", "
	    "\"surname\": \"Papadopoulou\", \"given_name\": \"Maria\", "
	    "\"email\": \"Maria.P@Athens.gr\", \"mobile\": \"+306912345678\", "
	    "\"org\": \"athens\", \"position\": \"Clerk\", \"status\": "
	    "\"active\", \"effective\": \"\"},\n"
	    "{\"registry_no\": \"1002\", \"tax_id\": \"100000015\", "
	    "\"surname\": \"Georgiou\", \"given_name\": \"Nikos\", "
	    "\"email\": null, \"org\": \"athens\", \"position\": \"Clerk\", "
	    "\"status\": \"active\"}]}";

	(void)state;
	import_ok(HDR MARIA NIKOS, &rep);
	import_ok(json, &rep);
	assert_int_equal(rep.rows, 2);
	assert_int_equal(rep.count[IMPORT_K_UNCHANGED], 2);
	/* And the other way round in a fresh store is the same people. */
	assert_int_equal(import("{\"employees\": [{\"registry_no\": \"1\", "
	    "\"registry_no\": \"2\"}]}", 0, &rep, &e), REG_INVALID);
	assert_non_null(strstr(e.msg, "duplicate"));
	assert_int_equal(import("{\"employees\": [{\"registry_no\": \"1\", "
	    "\"grade\": \"2\"}]}", 0, &rep, &e), REG_INVALID);
	assert_string_equal(e.msg, "employee 1: unknown key 'grade'");
	assert_int_equal(import("{\"staff\": []}", 0, &rep, &e), REG_INVALID);
}

static void
test_csv_dialect(void **state)
{
	struct import_report rep;
	struct user u;

	(void)state;
	/* BOM, columns in another order, quotes with "" and commas, CRLF,
	 * no newline at the end of the last record, blank lines after. */
	import_ok("\xef\xbb\xbfstatus,registry_no,tax_id,surname,given_name,"
	    "email,mobile,org,position,effective\r\n"
	    "active,1001,100000003,\"Papadopoulou\",\"Μαρία\",,,athens,"
	    "\"Head, Finance \"\"A\"\"\",\r\n"
	    "active,1002,100000015,Georgiou,Nikos,,,athens,,\r\n\r\n\n", &rep);
	assert_int_equal(rep.count[IMPORT_K_NEW], 2);
	user_of("1001", &u);
	assert_string_equal(u.position, "Head, Finance \"A\"");
	assert_string_equal(u.name, "Μαρία Papadopoulou");
	import_ok(HDR "1003,100000027,Doe,Jo,,,athens,,active,", &rep);
	assert_int_equal(rep.count[IMPORT_K_NEW], 1);
}

/* People the file does not name are left alone. */
static void
test_absent_untouched(void **state)
{
	struct import_report rep;
	struct user u;

	(void)state;
	import_ok(HDR MARIA NIKOS, &rep);
	import_ok(HDR NIKOS, &rep);
	assert_int_equal(rep.changed, 0);
	user_of("1001", &u);
	assert_false(u.disabled);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taxid),
		T(test_new),
		T(test_transfer),
		T(test_promotion),
		T(test_update_contacts),
		T(test_departure_and_rehire),
		T(test_rehire_into_other_org),
		T(test_manual_disable_kept),
		T(test_departed_stranger),
		T(test_bad_rows),
		T(test_all_errors_counted),
		T(test_second_import_changes_nothing),
		T(test_dry_run),
		T(test_scheduled),
		T(test_scheduled_replaced_and_refused),
		T(test_json_same_as_csv),
		T(test_csv_dialect),
		T(test_absent_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
