/*
 * test_store_write.c - group commit (store_write) on a real store: many
 * threads writing at once, each call's result back to its caller, a
 * failing call dropped while its batch-mates are kept, batches formed
 * (commits fewer than writes), a batch whose commit fails, misuse from
 * inside a call, a backend without nested transactions, and the audit
 * chain across the calls of one batch.
 *
 * No sleeps and no timing: where a test needs a batch of known members,
 * a first call holds the leader's seat until the others wait behind it
 * (store_write_stats().waiting), so the next batch is exactly them.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "fixture.h"
#include "store/store_int.h"
#include "util/util.h"

#define THREADS 8
#define PER_THREAD 200
#define FAIL_EVERY 10		/* every tenth call of a thread fails */

static struct fixture fx;

static int
setup(void **state)
{
	(void)state;
	fixture_open(&fx, "store-write");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fx.st->be = &store_backend_lmdb;
	fixture_close(&fx);
	return 0;
}

/* ---- a call that counts: reads the counter "count", writes its own key
 * with the value it saw (its ticket) and the counter plus one. A call
 * with fail set does all that, then returns fail: none of it may stay. */
struct item {
	int thread;
	int i;
	int fail;		/* 0, or what the call returns */
	long ticket;		/* the counter it saw; -1 until it ran */
};

static void
item_key(const struct item *it, char *key, size_t size)
{
	(void)snprintf(key, size, "w-%d-%d", it->thread, it->i);
}

static long
meta_long(struct store_txn *txn, const char *key)
{
	char v[32];
	int rc = store_meta_get(txn, key, v, sizeof(v));

	if (rc == STORE_NOTFOUND)
		return -1;
	return rc == STORE_OK ? strtol(v, NULL, 10) : -2;
}

static int
count_fn(struct store_txn *txn, void *arg)
{
	struct item *it = arg;
	char key[32], val[32];
	long n;

	if ((n = meta_long(txn, "count")) == -2)
		return -100;
	if (n < 0)
		n = 0;
	item_key(it, key, sizeof(key));
	(void)snprintf(val, sizeof(val), "%ld", n);
	if (store_meta_put(txn, key, val) != STORE_OK)
		return -101;
	(void)snprintf(val, sizeof(val), "%ld", n + 1);
	if (store_meta_put(txn, "count", val) != STORE_OK)
		return -102;
	if (it->fail != 0)
		return it->fail;
	it->ticket = n;
	return 0;
}

/* What the store holds for it (-1: absent). */
static long
stored(const struct item *it)
{
	struct store_txn *txn;
	char key[32];
	long v;

	item_key(it, key, sizeof(key));
	assert_int_equal(store_begin(fx.st, 0, &txn), STORE_OK);
	v = meta_long(txn, key);
	store_abort(txn);
	assert_true(v >= -1);
	return v;
}

static long
stored_count(void)
{
	struct store_txn *txn;
	long v;

	assert_int_equal(store_begin(fx.st, 0, &txn), STORE_OK);
	v = meta_long(txn, "count");
	store_abort(txn);
	assert_true(v >= -1);
	return v < 0 ? 0 : v;
}

/* ---- one call per thread */
struct call {
	store_write_fn fn;
	void *arg;
	int rc;
	pthread_t th;
};

static void *
call_thread(void *p)
{
	struct call *c = p;

	c->rc = store_write(fx.st, c->fn, c->arg);
	return NULL;
}

/* The leader's seat: the call holding it returns once `want` calls wait
 * behind it. */
struct gate {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	int entered;
	uint64_t want;
};

static int
gate_fn(struct store_txn *txn, void *arg)
{
	struct gate *g = arg;
	struct store_write_stats s;

	(void)pthread_mutex_lock(&g->mtx);
	g->entered = 1;
	(void)pthread_cond_signal(&g->cond);
	(void)pthread_mutex_unlock(&g->mtx);
	for (;;) {
		store_write_stats(fx.st, &s);
		if (s.waiting >= g->want)
			break;
		(void)sched_yield();
	}
	return store_meta_put(txn, "gate", "held") == STORE_OK ? 0 : -1;
}

/* Runs the n calls as one batch behind a gate call; returns the gate
 * call's result. */
static int
batch_of(struct call *calls, size_t n)
{
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
		0, n };
	struct call lead = { gate_fn, &g, -1, 0 };
	size_t i;

	assert_int_equal(pthread_create(&lead.th, NULL, call_thread, &lead),
	    0);
	(void)pthread_mutex_lock(&g.mtx);
	while (!g.entered)
		(void)pthread_cond_wait(&g.cond, &g.mtx);
	(void)pthread_mutex_unlock(&g.mtx);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_create(&calls[i].th, NULL,
		    call_thread, &calls[i]), 0);
	assert_int_equal(pthread_join(lead.th, NULL), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_join(calls[i].th, NULL), 0);
	return lead.rc;
}

/* ---- many threads at once */
struct worker {
	int id;
	int n;
	struct item items[PER_THREAD];
	int rc[PER_THREAD];
	pthread_t th;
};

static void *
worker_run(void *p)
{
	struct worker *w = p;
	struct item *it;
	int i;

	for (i = 0; i < w->n; i++) {
		it = &w->items[i];
		it->thread = w->id;
		it->i = i;
		it->ticket = -1;
		/* A value of its own, to find out whose result came back. */
		it->fail = i % FAIL_EVERY == FAIL_EVERY - 1 ?
		    1000 + w->id * PER_THREAD + i : 0;
		w->rc[i] = store_write(fx.st, count_fn, it);
	}
	return NULL;
}

/* Runs nthreads workers of n calls each and checks every outcome: each
 * caller got its own result, kept calls are stored with the ticket they
 * saw, failed ones are absent, and the tickets are 0..kept-1, each once
 * (the calls ran one after the other, each seeing those before it).
 * Returns how many were kept. */
static long
run_workers(int nthreads, int n)
{
	static struct worker w[THREADS];
	static unsigned char seen[THREADS * PER_THREAD];
	long kept = 0, t;
	int i, j;

	assert_true(nthreads <= THREADS && n <= PER_THREAD);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < nthreads; i++) {
		w[i].id = i;
		w[i].n = n;
		assert_int_equal(pthread_create(&w[i].th, NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < nthreads; i++)
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
	for (i = 0; i < nthreads; i++) {
		for (j = 0; j < n; j++) {
			struct item *it = &w[i].items[j];

			assert_int_equal(w[i].rc[j], it->fail);
			if (it->fail != 0) {
				assert_int_equal(stored(it), -1);
				continue;
			}
			t = it->ticket;
			assert_true(t >= 0 && t < (long)nthreads * n);
			assert_int_equal(stored(it), t);
			assert_int_equal(seen[t], 0);
			seen[t] = 1;
			kept++;
		}
	}
	for (t = 0; t < kept; t++)
		assert_int_equal(seen[t], 1);
	assert_int_equal(stored_count(), kept);
	return kept;
}

static void
test_concurrent(void **state)
{
	struct store_write_stats s;
	long kept;

	(void)state;
	kept = run_workers(THREADS, PER_THREAD);
	assert_int_equal(kept, THREADS * PER_THREAD * (FAIL_EVERY - 1) /
	    FAIL_EVERY);
	store_write_stats(fx.st, &s);
	print_message("%llu writes, %llu commits, batches up to %llu\n",
	    (unsigned long long)s.writes, (unsigned long long)s.commits,
	    (unsigned long long)s.batch_max);
	assert_int_equal(s.writes, THREADS * PER_THREAD);
	assert_int_equal(s.waiting, 0);
	assert_true(s.batch_max >= 1 && s.batch_max <= STORE_WRITE_BATCH_MAX);
	/* Eight threads writing all the time: the others queue while a
	 * leader commits, so batches form. */
	assert_true(s.commits >= 1);
	assert_true(s.commits < s.writes);
}

/* A batch of known members: one fails, the others are kept and see each
 * other's writes; two commits in all (the gate's batch and theirs). */
static void
test_batch_failing_member(void **state)
{
	struct item it[6];
	struct call calls[6];
	struct store_write_stats s;
	size_t i;
	long kept = 0;

	(void)state;
	for (i = 0; i < 6; i++) {
		it[i] = (struct item){ 0, (int)i, i == 2 ? 42 : 0, -1 };
		calls[i] = (struct call){ count_fn, &it[i], -1, 0 };
	}
	assert_int_equal(batch_of(calls, 6), 0);
	store_write_stats(fx.st, &s);
	assert_int_equal(s.writes, 7);
	assert_int_equal(s.commits, 2);
	assert_int_equal(s.batch_max, 6);
	for (i = 0; i < 6; i++) {
		if (i == 2) {
			assert_int_equal(calls[i].rc, 42);
			assert_int_equal(stored(&it[i]), -1);
			continue;
		}
		assert_int_equal(calls[i].rc, 0);
		assert_int_equal(stored(&it[i]), it[i].ticket);
		kept++;
	}
	assert_int_equal(stored_count(), kept);
}

/* ---- a backend whose top-level commits fail on demand */
static struct store_backend failing;
static struct store_btxn *failing_top;	/* the open top-level write */
static int failing_on;

static int
failing_begin(struct store_benv *env, int write, struct store_btxn **out)
{
	int rc = store_backend_lmdb.begin(env, write, out);

	if (rc == STORE_OK && write)
		failing_top = *out;
	return rc;
}

static int
failing_commit(struct store_btxn *bt)
{
	if (failing_on && bt == failing_top) {
		failing_top = NULL;
		store_backend_lmdb.abort(bt);
		return STORE_ERROR;
	}
	return store_backend_lmdb.commit(bt);
}

static void
test_batch_commit_fails(void **state)
{
	struct item it[4];
	struct call calls[4];
	struct store_write_stats s;
	size_t i;

	(void)state;
	failing = store_backend_lmdb;
	failing.begin = failing_begin;
	failing.commit = failing_commit;
	failing_on = 1;
	fx.st->be = &failing;
	for (i = 0; i < 4; i++) {
		it[i] = (struct item){ 0, (int)i, i == 1 ? 42 : 0, -1 };
		calls[i] = (struct call){ count_fn, &it[i], -1, 0 };
	}
	assert_int_equal(batch_of(calls, 4), STORE_ERROR);
	/* Every call of the batch reports the failure, the failing one
	 * too (it may have read what a batch-mate wrote); nothing stays. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(calls[i].rc, STORE_ERROR);
		assert_int_equal(stored(&it[i]), -1);
	}
	assert_int_equal(stored_count(), 0);
	store_write_stats(fx.st, &s);
	assert_int_equal(s.commits, 2);
	/* The writer lock was let go: the next batch commits. */
	failing_on = 0;
	it[0].i = 10;
	assert_int_equal(store_write(fx.st, count_fn, &it[0]), 0);
	assert_int_equal(stored(&it[0]), 0);
	assert_int_equal(stored_count(), 1);
}

/* A write of the call that failed, though the call returned 0: its
 * changes go, the next call's stay. */
static int
ignoring_fn(struct store_txn *txn, void *arg)
{
	static unsigned char big[STORE_VALUE_MAX + 1];

	(void)arg;
	if (store_meta_put(txn, "before", "1") != STORE_OK)
		return -1;
	(void)store_raw_put(txn, STORE_TBL_META, "big", 3, big, sizeof(big),
	    0);
	return 0;
}

static void
test_failed_write_drops_call(void **state)
{
	struct item it = { 0, 0, 0, -1 };
	struct store_txn *txn;
	char v[8];

	(void)state;
	assert_int_equal(store_write(fx.st, ignoring_fn, NULL), STORE_ERROR);
	assert_int_equal(store_write(fx.st, count_fn, &it), 0);
	assert_int_equal(store_begin(fx.st, 0, &txn), STORE_OK);
	assert_int_equal(store_meta_get(txn, "before", v, sizeof(v)),
	    STORE_NOTFOUND);
	store_abort(txn);
	assert_int_equal(stored(&it), 0);
}

/* Inside a call: no other transaction, no nested store_write, and the
 * lent transaction is not the call's to end. */
static int
misuse_fn(struct store_txn *txn, void *arg)
{
	static struct store_txn dummy;
	struct store_txn *other = &dummy;
	int *bad = arg;

	if (store_begin(fx.st, 1, &other) != STORE_ERROR || other != NULL)
		(*bad)++;
	other = &dummy;
	if (store_begin(fx.st, 0, &other) != STORE_ERROR || other != NULL)
		(*bad)++;
	if (store_write(fx.st, misuse_fn, arg) != STORE_ERROR)
		(*bad)++;
	if (store_commit(txn) != STORE_ERROR)
		(*bad)++;
	store_abort(txn);
	/* txn is still the call's, and usable. */
	return store_meta_put(txn, "after", "1");
}

static void
test_misuse(void **state)
{
	struct store_txn *txn;
	char v[8];
	int bad = 0;

	(void)state;
	assert_int_equal(store_write(NULL, misuse_fn, &bad), STORE_ERROR);
	assert_int_equal(store_write(fx.st, NULL, &bad), STORE_ERROR);
	assert_int_equal(store_write(fx.st, misuse_fn, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(store_begin(fx.st, 0, &txn), STORE_OK);
	assert_int_equal(store_meta_get(txn, "after", v, sizeof(v)),
	    STORE_OK);
	store_abort(txn);
	/* Outside a call, transactions work as before. */
	assert_int_equal(store_begin(fx.st, 1, &txn), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

/* A backend without nested transactions: one transaction per call, the
 * same outcomes. */
static void
test_backend_without_nesting(void **state)
{
	struct store_write_stats s;
	long kept;

	(void)state;
	failing = store_backend_lmdb;
	failing.begin_nested = NULL;
	fx.st->be = &failing;
	kept = run_workers(4, 50);
	assert_int_equal(kept, 180);
	store_write_stats(fx.st, &s);
	assert_int_equal(s.writes, 200);
	assert_int_equal(s.commits, 180);	/* the failed calls abort */
}

/* ---- the audit chain across one batch */
static struct audit au;

struct audit_item {
	int n;
	int fail;
};

static int
audit_fn(struct store_txn *txn, void *arg)
{
	struct audit_item *a = arg;
	struct audit_event ev;
	char detail[32];

	(void)snprintf(detail, sizeof(detail), "call %d", a->n);
	ev = (struct audit_event){ "operator:test", "test.write", "ok",
		"someone", NULL, NULL, "127.0.0.1", detail };
	if (audit_append(&au, txn, &ev) == -1)
		return -1;
	return a->fail;
}

static void
test_audit_chain_in_batch(void **state)
{
	struct audit_item items[5];
	struct call calls[5];
	struct audit_event ev = { "operator:test", "test.before", "ok", NULL,
		NULL, NULL, NULL, NULL };
	struct audit_report r;
	struct audit_entry e;
	struct store_txn *txn;
	size_t i;

	(void)state;
	memset(&au, 0x5a, sizeof(au));
	assert_int_equal(audit_log(&au, fx.st, &ev), 0);
	for (i = 0; i < 5; i++) {
		items[i] = (struct audit_item){ (int)i, i == 1 ? 7 : 0 };
		calls[i] = (struct call){ audit_fn, &items[i], -1, 0 };
	}
	assert_int_equal(batch_of(calls, 5), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(calls[i].rc, items[i].fail);
	/* Four entries chained onto each other and onto the first, the
	 * dropped call's number taken by the next. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(audit_verify(&au, fx.st, &r), AUDIT_INTACT);
	assert_int_equal(r.entries, 5);
	assert_int_equal(store_begin(fx.st, 0, &txn), STORE_OK);
	for (i = 2; i <= 5; i++) {
		assert_int_equal(store_audit_get(txn, i, &e), STORE_OK);
		assert_string_not_equal(e.detail, "call 1");
	}
	store_abort(txn);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_concurrent),
		T(test_batch_failing_member),
		T(test_batch_commit_fails),
		T(test_failed_write_drops_call),
		T(test_misuse),
		T(test_backend_without_nesting),
		T(test_audit_chain_in_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
