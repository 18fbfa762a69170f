/*
 * test_audit.c - the audit log over a real store and a real keyset in a
 * temporary folder: the chain, each kind of damage verify must name
 * (edited, deleted, swapped, forged, cut short), tail, the cleaning of
 * values, rollback with the caller's transaction, the registry's records
 * of admin actions, and the audit commands of the CLI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "cli/cli.h"
#include "registry/registry.h"
#include "store/store_int.h"
#include "util/util.h"

#define T0 1800000000

static char keydir[64];		/* one keyset for every test */
static keyset *ks;
static struct audit au;
static char dir[64];		/* a fresh data folder per test */
static struct store *st;
static int64_t now = T0;
static const struct argon2_params cheap = { 1, 8, 1 };

static int64_t
test_clock(void)
{
	return now;
}

static void
rm_rf(const char *path)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
	assert_int_equal(system(cmd), 0);
}

static int
group_setup(void **state)
{
	char path[128], err[256];

	(void)state;
	clock_set(test_clock);
	str_copy(keydir, "/tmp/kleidi-audit-keys-XXXXXX", sizeof(keydir));
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
	(void)state;
	audit_clear(&au);
	keyset_free(ks);
	rm_rf(keydir);
	clock_set(NULL);
	return 0;
}

/* A data folder as `kleidi init` leaves it: DATA/store and DATA/keys (a
 * link to the shared keyset, which is slow to generate). */
static int
setup(void **state)
{
	char path[128], keys[128], err[256];

	(void)state;
	now = T0;
	str_copy(dir, "/tmp/kleidi-audit-XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(store_create(path, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_open(path, &st, err, sizeof(err)), STORE_OK);
	(void)snprintf(path, sizeof(path), "%s/keys", dir);
	(void)snprintf(keys, sizeof(keys), "%s/keys", keydir);
	assert_int_equal(symlink(keys, path), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	store_close(st);
	st = NULL;
	rm_rf(dir);
	return 0;
}

/* Appends n entries, one second apart; subjects alternate maria/nikos. */
static void
append_n(int n)
{
	struct audit_event ev = { "operator:root", "test.step", "ok", NULL,
		"payroll", "town", "192.0.2.1", NULL };
	char detail[32];
	int i;

	for (i = 0; i < n; i++) {
		now++;
		(void)snprintf(detail, sizeof(detail), "step %d", i + 1);
		ev.detail = detail;
		ev.subject = i % 2 == 0 ? "maria" : "nikos";
		assert_int_equal(audit_log(&au, st, &ev), 0);
	}
}

static void
get_entry(uint64_t seq, struct audit_entry *e)
{
	struct store_txn *txn;

	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_audit_get(txn, seq, e), STORE_OK);
	store_abort(txn);
}

static int
verify(struct audit_report *r)
{
	return audit_verify(&au, st, r);
}

/* ---- raw damage, below the audit service (store_int.h) */

static void
raw_put_entry(struct store_txn *txn, uint64_t seq,
    const struct audit_entry *e)
{
	unsigned char key[STORE_AUDIT_KEY_LEN], buf[STORE_VALUE_MAX];
	size_t len;

	store_audit_key(key, seq);
	assert_int_equal(store_encode(STORE_REC_AUDIT, e, buf, sizeof(buf),
	    &len), STORE_OK);
	assert_int_equal(store_raw_put(txn, STORE_TBL_AUDIT, key, sizeof(key),
	    buf, len, 0), STORE_OK);
}

/* Rewrites entry seq after fn changed it, hash left as it was. */
static void
raw_edit(uint64_t seq, void (*fn)(struct audit_entry *))
{
	struct store_txn *txn;
	struct audit_entry e;

	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	assert_int_equal(store_audit_get(txn, seq, &e), STORE_OK);
	fn(&e);
	raw_put_entry(txn, seq, &e);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static void
raw_delete(uint64_t seq)
{
	unsigned char key[STORE_AUDIT_KEY_LEN];
	struct store_txn *txn;

	store_audit_key(key, seq);
	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	assert_int_equal(store_raw_del(txn, STORE_TBL_AUDIT, key, sizeof(key)),
	    STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

/* Exchanges the stored values of two entries, keys kept. */
static void
raw_swap(uint64_t a, uint64_t b)
{
	unsigned char ka[STORE_AUDIT_KEY_LEN], kb[STORE_AUDIT_KEY_LEN];
	unsigned char va[STORE_VALUE_MAX], vb[STORE_VALUE_MAX];
	struct store_txn *txn;
	const void *v;
	size_t la, lb;

	store_audit_key(ka, a);
	store_audit_key(kb, b);
	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	assert_int_equal(store_raw_get(txn, STORE_TBL_AUDIT, ka, sizeof(ka),
	    &v, &la), STORE_OK);
	memcpy(va, v, la);
	assert_int_equal(store_raw_get(txn, STORE_TBL_AUDIT, kb, sizeof(kb),
	    &v, &lb), STORE_OK);
	memcpy(vb, v, lb);
	assert_int_equal(store_raw_put(txn, STORE_TBL_AUDIT, ka, sizeof(ka),
	    vb, lb, 0), STORE_OK);
	assert_int_equal(store_raw_put(txn, STORE_TBL_AUDIT, kb, sizeof(kb),
	    va, la, 0), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static void
edit_detail(struct audit_entry *e)
{
	str_copy(e->detail, "step 0", sizeof(e->detail));
}

static void
edit_time(struct audit_entry *e)
{
	e->time -= 3600;
}

static void
edit_hash(struct audit_entry *e)
{
	e->hash[0] ^= 1;
}

/* ---- the chain */

static void
test_chain_intact(void **state)
{
	struct audit_report r;
	struct audit_entry e, prev;
	unsigned char zero[HASH_SIZE] = { 0 }, h[HASH_SIZE];
	uint64_t i;

	(void)state;
	assert_int_equal(verify(&r), AUDIT_INTACT);	/* empty */
	assert_int_equal(r.entries, 0);
	append_n(5);
	assert_int_equal(verify(&r), AUDIT_INTACT);
	assert_int_equal(r.entries, 5);
	assert_int_equal(r.bad, 0);
	for (i = 1; i <= 5; i++) {
		get_entry(i, &e);
		assert_int_equal(e.seq, i);
		assert_int_equal(e.time, T0 + (int64_t)i);
		assert_memory_equal(e.prev, i == 1 ? zero : prev.hash,
		    HASH_SIZE);
		audit_entry_hash(&au, &e, h);
		assert_memory_equal(h, e.hash, HASH_SIZE);
		prev = e;
	}
	assert_memory_equal(r.head, prev.hash, HASH_SIZE);
	assert_string_equal(prev.detail, "step 5");
	assert_string_equal(prev.actor, "operator:root");
}

/* Entries differing only in where a byte sits hash differently: the
 * fields are length-prefixed. */
static void
test_encoding_unambiguous(void **state)
{
	struct audit_entry a, b;
	unsigned char ha[HASH_SIZE], hb[HASH_SIZE];

	(void)state;
	memset(&a, 0, sizeof(a));
	a.seq = 1;
	str_copy(a.actor, "ab", sizeof(a.actor));
	str_copy(a.action, "c", sizeof(a.action));
	b = a;
	str_copy(b.actor, "a", sizeof(b.actor));
	str_copy(b.action, "bc", sizeof(b.action));
	audit_entry_hash(&au, &a, ha);
	audit_entry_hash(&au, &b, hb);
	assert_memory_not_equal(ha, hb, HASH_SIZE);
}

static void
test_edited(void **state)
{
	struct audit_report r;

	(void)state;
	append_n(6);
	raw_edit(3, edit_detail);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_int_equal(r.bad, 3);
	assert_string_equal(r.why, "entry 3 was edited");
	assert_int_equal(r.entries, 6);
}

static void
test_edited_time_and_hash(void **state)
{
	struct audit_report r;

	(void)state;
	append_n(6);
	raw_edit(5, edit_time);
	raw_edit(2, edit_hash);		/* the first fault is named */
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_int_equal(r.bad, 2);
	assert_string_equal(r.why, "entry 2 was edited");
}

static void
test_deleted(void **state)
{
	struct audit_report r;

	(void)state;
	append_n(6);
	raw_delete(4);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_int_equal(r.bad, 4);
	assert_string_equal(r.why, "entry 4 is missing");
	assert_int_equal(r.entries, 5);
	raw_delete(1);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_int_equal(r.bad, 1);
	assert_string_equal(r.why, "entry 1 is missing");
}

static void
test_swapped(void **state)
{
	struct audit_report r;

	(void)state;
	append_n(6);
	raw_swap(2, 5);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_int_equal(r.bad, 2);
	assert_string_equal(r.why, "entries out of order at 2");
	raw_swap(2, 5);			/* back: intact again */
	assert_int_equal(verify(&r), AUDIT_INTACT);
	raw_swap(3, 4);			/* neighbours */
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_int_equal(r.bad, 3);
	assert_string_equal(r.why, "entries out of order at 3");
}

/* An entry whose prev points nowhere in the log. */
static void
unlink_prev(struct audit_entry *e)
{
	memset(e->prev, 0x5a, HASH_SIZE);
}

static void
test_unlinked(void **state)
{
	struct audit_report r;

	(void)state;
	append_n(4);
	raw_edit(3, unlink_prev);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_int_equal(r.bad, 3);
	assert_string_equal(r.why, "entry 3 does not follow entry 2");
	raw_edit(1, unlink_prev);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_int_equal(r.bad, 1);
	assert_string_equal(r.why, "entry 1 does not start the chain");
}

/* A forger's own digests of the personal fields, as audit_append makes
 * them under the real key. */
static void
forge_digests(const struct audit *k, struct audit_entry *e)
{
	assert_int_equal(audit_field_digest(k, e->actor, sizeof(e->actor),
	    e->actor_digest), 0);
	assert_int_equal(audit_field_digest(k, e->subject, sizeof(e->subject),
	    e->subject_digest), 0);
	assert_int_equal(audit_field_digest(k, e->addr, sizeof(e->addr),
	    e->addr_digest), 0);
	assert_int_equal(audit_field_digest(k, e->detail, sizeof(e->detail),
	    e->detail_digest), 0);
}

/* Erasure (GDPR art. 17): maria's entries are pseudonymised in place; the
 * chain still verifies, nikos's entries are untouched, and damage to an
 * erased entry is still found. */
static void
erase_maria(size_t want)
{
	const char *const names[] = { "maria", NULL };
	struct store_txn *txn;
	size_t n = 0;

	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	assert_int_equal(audit_erase(&au, txn, "sub-of-maria", names, &n), 0);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(n, want);
}

static void
edit_action(struct audit_entry *e)
{
	str_copy(e->action, "test.other", sizeof(e->action));
}

static void
edit_pseudonym(struct audit_entry *e)
{
	e->subject[strlen(e->subject) - 1] ^= 1;
}

static void
test_erased(void **state)
{
	struct audit_report r;
	struct audit_entry e1, e3, e2;
	char p[32];

	(void)state;
	append_n(6);
	erase_maria(3);			/* entries 1, 3, 5 */
	assert_int_equal(verify(&r), AUDIT_INTACT);
	get_entry(1, &e1);
	get_entry(2, &e2);
	get_entry(3, &e3);
	assert_int_equal(strncmp(e1.subject, "erased:", 7), 0);
	/* one person, one pseudonym: an auditor can still follow them */
	assert_string_equal(e1.subject, e3.subject);
	assert_int_equal(audit_pseudonym_of(&au, "maria", p, sizeof(p)), 0);
	assert_string_equal(e1.subject, p);
	assert_string_equal(e2.subject, "nikos");
	/* the operator acted; the address is theirs, not maria's */
	assert_string_equal(e1.actor, "operator:root");
	assert_string_equal(e1.addr, "192.0.2.1");
	erase_maria(0);			/* again: nothing left to do */
	assert_int_equal(verify(&r), AUDIT_INTACT);
	raw_edit(3, edit_action);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_string_equal(r.why, "entry 3 was edited");
}

/* A forged pseudonym, or a pseudonym put back to text, is an edit. */
static void
test_erased_text_edited(void **state)
{
	struct audit_report r;

	(void)state;
	append_n(4);
	erase_maria(2);
	raw_edit(3, edit_pseudonym);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_string_equal(r.why, "entry 3 was edited");
}

static void
unerase(struct audit_entry *e)
{
	str_copy(e->subject, "eleni", sizeof(e->subject));
}

static void
test_erased_text_replaced(void **state)
{
	struct audit_report r;

	(void)state;
	append_n(4);
	erase_maria(2);
	raw_edit(1, unerase);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_string_equal(r.why, "entry 1 was edited");
}

/* Someone with write access to the store but not the master key rebuilds
 * a consistent chain under a key of their own, with an entry changed. */
static void
test_forged_chain(void **state)
{
	struct audit forger;
	struct audit_report r;
	struct audit_entry e;
	unsigned char prev[HASH_SIZE] = { 0 };
	struct store_txn *txn;
	uint64_t i;

	(void)state;
	append_n(4);
	memset(forger.key, 0x42, sizeof(forger.key));
	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	for (i = 1; i <= 4; i++) {
		assert_int_equal(store_audit_get(txn, i, &e), STORE_OK);
		if (i == 2)
			str_copy(e.actor, "operator:nobody", sizeof(e.actor));
		forge_digests(&forger, &e);
		memcpy(e.prev, prev, HASH_SIZE);
		audit_entry_hash(&forger, &e, e.hash);
		memcpy(prev, e.hash, HASH_SIZE);
		raw_put_entry(txn, i, &e);
	}
	assert_int_equal(store_commit(txn), STORE_OK);
	/* consistent under the forger's key, rejected under the real one */
	assert_int_equal(audit_verify(&forger, st, &r), AUDIT_INTACT);
	assert_int_equal(verify(&r), AUDIT_BROKEN);
	assert_int_equal(r.bad, 1);
	assert_string_equal(r.why, "entry 1 was edited");
}

/* The chain cannot see its newest entries cut off; a head noted
 * elsewhere can. */
static void
test_expect_head(void **state)
{
	unsigned char noted[HASH_SIZE], other[HASH_SIZE];
	struct audit_report r;
	uint64_t at;

	(void)state;
	append_n(4);
	assert_int_equal(verify(&r), AUDIT_INTACT);
	memcpy(noted, r.head, HASH_SIZE);
	assert_int_equal(audit_anchor(st, noted, &at), AUDIT_INTACT);
	assert_int_equal(at, 4);
	append_n(2);			/* the log grows: still anchored */
	assert_int_equal(verify(&r), AUDIT_INTACT);
	assert_memory_not_equal(r.head, noted, HASH_SIZE);
	assert_int_equal(audit_anchor(st, noted, &at), AUDIT_INTACT);
	assert_int_equal(at, 4);
	raw_delete(6);
	raw_delete(5);
	raw_delete(4);
	assert_int_equal(verify(&r), AUDIT_INTACT);	/* blind to it */
	assert_int_equal(r.entries, 3);
	assert_int_equal(audit_anchor(st, noted, &at), AUDIT_BROKEN);
	assert_int_equal(at, 0);
	memset(other, 0, sizeof(other));
	assert_int_equal(audit_anchor(st, other, NULL), AUDIT_BROKEN);
}

/* ---- tail */

struct seqs {
	uint64_t v[256];
	size_t n;
	size_t stop_after;	/* 0: never stop */
};

static int
collect(const struct audit_entry *e, void *arg)
{
	struct seqs *s = arg;

	s->v[s->n++] = e->seq;
	return s->stop_after != 0 && s->n == s->stop_after;
}

static void
tail(const char *user, size_t n, struct seqs *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(audit_tail(st, user, n, collect, s), 0);
}

static void
test_tail(void **state)
{
	struct audit_event ev = { NULL, "signin.password", "ok", NULL, NULL,
		NULL, "192.0.2.9", NULL };
	char actor[64];
	struct registry_err e;
	struct user_spec us = { "maria", "town", "Maria", NULL, NULL,
		NULL };
	struct user u;
	struct seqs s;

	(void)state;
	tail(NULL, 5, &s);
	assert_int_equal(s.n, 0);	/* empty log */
	assert_int_equal(registry_org_add(st, NULL, "town", "Town", &e),
	    REG_OK);
	assert_int_equal(registry_user_add(st, NULL, &cheap, &us, &u, &e),
	    REG_OK);
	append_n(6);			/* maria: 1, 3, 5 */
	(void)snprintf(actor, sizeof(actor), "user:%s", u.id);
	ev.actor = actor;		/* 7: maria by her sub */
	assert_int_equal(audit_log(&au, st, &ev), 0);
	append_n(1);			/* 8: maria */

	tail(NULL, 3, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[0], 6);
	assert_int_equal(s.v[2], 8);
	tail("maria", 3, &s);		/* the newest three, oldest first */
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[0], 5);
	assert_int_equal(s.v[1], 7);
	assert_int_equal(s.v[2], 8);
	tail(u.id, 10, &s);		/* by sub: the username's too */
	assert_int_equal(s.n, 5);
	assert_int_equal(s.v[0], 1);
	tail("nikos", 10, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[2], 6);
	tail("operator:root", 100, &s);	/* an actor as written */
	assert_int_equal(s.n, 7);
	tail("nobody", 10, &s);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(audit_tail(st, NULL, 8, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0], 1);
}

/* Matches far apart: the backward windows grow until they are found. */
static void
test_tail_long_log(void **state)
{
	struct audit_event ev = { "operator:root", "test.step", "ok", "eleni",
		NULL, NULL, NULL, NULL };
	struct seqs s;
	size_t i;

	(void)state;
	assert_int_equal(audit_log(&au, st, &ev), 0);	/* 1: eleni */
	append_n(300);
	assert_int_equal(audit_log(&au, st, &ev), 0);	/* 302: eleni */
	append_n(10);
	tail("eleni", 5, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0], 1);
	assert_int_equal(s.v[1], 302);
	tail(NULL, 200, &s);
	assert_int_equal(s.n, 200);
	for (i = 0; i < 200; i++)
		assert_int_equal(s.v[i], 113 + i);
	raw_delete(312);		/* tail reads a damaged log too */
	raw_delete(305);
	tail(NULL, 3, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[0], 309);
	assert_int_equal(s.v[2], 311);
}

/* ---- values */

static void
test_values_cleaned(void **state)
{
	struct audit_event ev = { "oper\nator:x", "signin\x1b[31m.bad", NULL,
		"bad\xff" "byte", "\xe2\x80\xae" "evil", NULL, NULL, NULL };
	char detail[400];
	struct audit_entry e;
	struct audit_report r;
	size_t i;

	(void)state;
	detail[0] = 'a';
	for (i = 0; i < 150; i++)	/* é: two bytes each */
		memcpy(detail + 1 + 2 * i, "\xc3\xa9", 2);
	detail[301] = '\0';
	ev.detail = detail;
	assert_int_equal(audit_log(&au, st, &ev), 0);
	get_entry(1, &e);
	assert_string_equal(e.actor, "oper\xef\xbf\xbd" "ator:x");
	assert_string_equal(e.action, "signin\xef\xbf\xbd[31m.bad");
	assert_string_equal(e.subject, "bad\xef\xbf\xbd" "byte");
	assert_string_equal(e.client, "\xef\xbf\xbd" "evil");
	assert_string_equal(e.outcome, "");	/* NULL: empty */
	assert_string_equal(e.org, "");
	/* 1 + 127 * 2 = 255 bytes fit in 256; the next é would not fit whole,
	 * so the cut falls before it, never inside it. */
	assert_int_equal(strlen(e.detail), 255);
	assert_memory_equal(e.detail + 253, "\xc3\xa9", 2);
	assert_int_equal(verify(&r), AUDIT_INTACT);
}

/* The entry commits or aborts with the caller's transaction. */
static void
test_append_rolls_back(void **state)
{
	struct audit_event ev = { "operator:root", "org.add", "ok", NULL,
		NULL, "ghost", "local", NULL };
	struct store_txn *txn;
	struct audit_entry e;
	struct audit_report r;
	struct org o;

	(void)state;
	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	memset(&o, 0, sizeof(o));
	str_copy(o.code, "ghost", sizeof(o.code));
	str_copy(o.name, "Ghost", sizeof(o.name));
	assert_int_equal(store_org_put(txn, &o), STORE_OK);
	assert_int_equal(audit_append(&au, txn, &ev), 0);
	store_abort(txn);
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_audit_last(txn, &e), STORE_NOTFOUND);
	assert_int_equal(store_org_get(txn, "ghost", &o), STORE_NOTFOUND);
	store_abort(txn);
	/* numbering goes on from what committed */
	assert_int_equal(audit_log(&au, st, &ev), 0);
	get_entry(1, &e);
	assert_string_equal(e.org, "ghost");
	assert_int_equal(verify(&r), AUDIT_INTACT);
	assert_int_equal(r.entries, 1);
}

/* ---- admin actions through the registry */

static void
last_entry(struct audit_entry *e)
{
	struct store_txn *txn;

	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_audit_last(txn, e), STORE_OK);
	store_abort(txn);
}

struct secret_scan {
	const char *secret;
	int found;
};

static int
scan_entry(const struct audit_entry *e, void *arg)
{
	struct secret_scan *s = arg;
	const char *f[] = { e->actor, e->action, e->outcome, e->subject,
		e->client, e->org, e->addr, e->detail };
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strstr(f[i], s->secret) != NULL)
			s->found = 1;
	return 0;
}

static int
log_holds(const char *secret)
{
	struct secret_scan s = { secret, 0 };

	assert_int_equal(audit_tail(st, NULL, AUDIT_TAIL_MAX, scan_entry, &s),
	    0);
	return s.found;
}

static void
assert_entry(const char *action, const char *outcome, const char *subject,
    const char *client, const char *org)
{
	struct audit_entry e;

	last_entry(&e);
	assert_string_equal(e.action, action);
	assert_string_equal(e.outcome, outcome);
	assert_string_equal(e.subject, subject);
	assert_string_equal(e.client, client);
	assert_string_equal(e.org, org);
	assert_string_equal(e.actor, "operator:root");
	assert_string_equal(e.addr, "192.0.2.7");
	assert_int_equal(e.time, now);
}

static void
add_app(const struct registry_actor *who, char secret[RAND_TOKEN_LEN])
{
	struct app_spec s;
	struct registry_err e;

	memset(&s, 0, sizeof(s));
	s.client_id = "payroll";
	s.name = "Payroll";
	s.redirect_uris[0] = "https://payroll.gov.gr/cb";
	s.n_redirect_uris = 1;
	assert_int_equal(registry_app_add(st, who, &s, secret, NULL, &e),
	    REG_OK);
}

static const struct registry_actor who = { &au, "operator:root",
	"192.0.2.7" };

/* An org, a confidential app and a user with a password, each change
 * checked in the log as it is made. */
static void
registry_setup(char secret[RAND_TOKEN_LEN])
{
	struct user_spec us = { "maria", "town", "Μαρία", NULL, NULL,
		"correct horse battery" };
	struct registry_err e;
	struct audit_entry last;

	assert_int_equal(registry_org_add(st, &who, "town", "Town", &e),
	    REG_OK);
	assert_entry("org.add", "ok", "", "", "town");
	assert_int_equal(registry_org_add(st, &who, "town", "Town", &e),
	    REG_EXISTS);
	assert_entry("org.add", "refused", "", "", "town");
	last_entry(&last);
	assert_non_null(strstr(last.detail, "already exists"));
	add_app(&who, secret);
	assert_entry("app.add", "ok", "", "payroll", "");
	assert_int_equal(registry_user_add(st, &who, &cheap, &us, NULL, &e),
	    REG_OK);
	assert_entry("user.add", "ok", "maria", "", "town");
}

static void
test_registry_records(void **state)
{
	char secret[RAND_TOKEN_LEN];
	struct audit_report r;

	(void)state;
	registry_setup(secret);
	/* no secret ever reaches the log */
	assert_int_equal(strlen(secret), 43);
	assert_false(log_holds(secret));
	assert_false(log_holds("correct horse"));
	assert_int_equal(verify(&r), AUDIT_INTACT);
	assert_int_equal(r.entries, 4);
}

static void
test_registry_grant_records(void **state)
{
	char secret[RAND_TOKEN_LEN];
	struct registry_err e;
	struct audit_entry last;
	struct audit_report r;

	(void)state;
	registry_setup(secret);
	/* a grant in an app the org does not subscribe to: refused, and
	 * recorded as such with the role and the reason */
	now += 10;
	assert_int_equal(registry_grant_add(st, &who, "maria", "payroll",
	    "clerk", NULL, &e), REG_REFUSED);
	assert_entry("grant.add", "refused", "maria", "payroll", "town");
	last_entry(&last);
	assert_non_null(strstr(last.detail, "role clerk"));
	assert_non_null(strstr(last.detail, "does not subscribe"));
	assert_int_equal(registry_org_subscribe(st, &who, "town", "payroll",
	    &e), REG_OK);
	assert_entry("org.subscribe", "ok", "", "payroll", "town");
	assert_int_equal(registry_grant_add(st, &who, "maria", "payroll",
	    "clerk", NULL, &e), REG_OK);
	assert_entry("grant.add", "ok", "maria", "payroll", "town");
	assert_int_equal(registry_grant_revoke(st, &who, "maria", "payroll",
	    "clerk", NULL, &e), REG_OK);
	assert_entry("grant.revoke", "ok", "maria", "payroll", "town");
	assert_int_equal(registry_user_set_disabled(st, &who, "maria", 1, &e),
	    REG_OK);
	assert_entry("user.disable", "ok", "maria", "", "town");
	assert_int_equal(registry_user_set_disabled(st, &who, "ghost", 0, &e),
	    REG_NOTFOUND);
	assert_entry("user.enable", "refused", "ghost", "", "");
	assert_int_equal(registry_org_set_sms_cap(st, &who, "town", 500, &e),
	    REG_OK);
	assert_entry("org.sms-cap", "ok", "", "", "town");
	assert_int_equal(verify(&r), AUDIT_INTACT);
	assert_int_equal(r.entries, 11);
}

/* A change that cannot be recorded is not made. */
static void
test_registry_unrecorded_refused(void **state)
{
	struct registry_actor who = { NULL, "operator:root", "local" };
	struct registry_err e;
	struct store_txn *txn;
	struct org o;

	(void)state;
	assert_int_equal(registry_org_add(st, &who, "town", "Town", &e),
	    REG_ERROR);
	assert_non_null(strstr(e.msg, "audit log"));
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_org_get(txn, "town", &o), STORE_NOTFOUND);
	store_abort(txn);
	/* and without an actor the rules alone run, recording nothing */
	assert_int_equal(registry_org_add(st, NULL, "town", "Town", NULL),
	    REG_OK);
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_org_get(txn, "town", &o), STORE_OK);
	assert_int_equal(store_audit_last(txn, &(struct audit_entry){ 0 }),
	    STORE_NOTFOUND);
	store_abort(txn);
}

/* ---- the CLI front door */

struct run {
	int rc;
	char out[8192];
	char err[2048];
};

static void
slurp(FILE *f, char *buf, size_t size)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	(void)fclose(f);
}

/* Runs one command as cli_main would after taking out --data and --json;
 * the test's own store handle is closed meanwhile (one open per
 * process). */
static void
run(struct run *r, int json, int (*fn)(struct cli *, int, char **), ...)
{
	struct cli c = { dir, json, "operator:tester", NULL, NULL };
	char *argv[16], path[128], err[256];
	va_list ap;
	int argc = 0;

	va_start(ap, fn);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	assert_non_null(c.out = tmpfile());
	assert_non_null(c.err = tmpfile());
	store_close(st);
	r->rc = fn(&c, argc, argv);
	slurp(c.out, r->out, sizeof(r->out));
	slurp(c.err, r->err, sizeof(r->err));
	(void)snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(store_open(path, &st, err, sizeof(err)), STORE_OK);
}

static void
test_cli(void **state)
{
	char a0[] = "org", a1[] = "add", a2[] = "town", a3[] = "--name",
	    a4[] = "Town", v0[] = "audit", v1[] = "verify", v2[] = "tail",
	    o1[] = "-n", o2[] = "1", e1[] = "--expect-head", head[65],
	    bad[] = "Town!";
	struct run r;
	json_t *j, *ent;

	(void)state;
	run(&r, 0, cli_org, a0, a1, a2, a3, a4, NULL);
	assert_int_equal(r.rc, 0);
	run(&r, 0, cli_org, a0, a1, bad, a3, a4, NULL);	/* refused */
	assert_int_equal(r.rc, 1);
	run(&r, 0, cli_audit, v0, v1, NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "audit log intact: 2 entries, head "));
	str_copy(head, strstr(r.out, "head ") + 5, sizeof(head));

	run(&r, 1, cli_audit, v0, v2, o1, o2, NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(j = json_loads(r.out, 0, NULL));
	assert_int_equal(json_array_size(json_object_get(j, "entries")), 1);
	ent = json_array_get(json_object_get(j, "entries"), 0);
	assert_string_equal(json_string_value(json_object_get(ent, "action")),
	    "org.add");
	assert_string_equal(json_string_value(json_object_get(ent,
	    "outcome")), "refused");
	assert_string_equal(json_string_value(json_object_get(ent, "actor")),
	    "operator:tester");
	assert_string_equal(json_string_value(json_object_get(ent, "time")),
	    "2027-01-15T08:00:00Z");
	json_decref(j);

	run(&r, 0, cli_audit, v0, v2, NULL);
	assert_non_null(strstr(r.out, "2027-01-15T08:00:00Z operator:tester "
	    "org.add ok - - town "));

	run(&r, 0, cli_audit, v0, v1, e1, head, NULL);
	assert_int_equal(r.rc, 0);
	raw_delete(2);			/* cut off the newest entry */
	run(&r, 0, cli_audit, v0, v1, e1, head, NULL);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "cut short or replaced"));
	raw_edit(1, edit_detail);
	run(&r, 0, cli_audit, v0, v1, NULL);
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "audit log broken at entry 1: entry 1 "
	    "was edited"));
	run(&r, 1, cli_audit, v0, v1, NULL);
	assert_int_equal(r.rc, 1);
	assert_non_null(j = json_loads(r.out, 0, NULL));
	assert_int_equal(json_integer_value(json_object_get(j, "bad")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
	    "broken");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_intact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_encoding_unambiguous,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited_time_and_hash,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlinked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_erased, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erased_text_edited, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_erased_text_replaced,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_chain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expect_head, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tail_long_log, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_values_cleaned, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_append_rolls_back, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_registry_records, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_registry_grant_records,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_registry_unrecorded_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
