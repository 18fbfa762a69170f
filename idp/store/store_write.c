/*
 * store_write.c - group commit (store.h, store_write). A commit costs an
 * fsync and LMDB runs one write transaction at a time, so writers that
 * each commit on their own queue behind the disk. Here concurrent callers
 * queue behind a leader instead: the first caller with no leader running
 * takes the queue (up to STORE_WRITE_BATCH_MAX calls), begins one write
 * transaction, runs each call's fn in a nested transaction (a failed fn's
 * is aborted, the others' kept), commits once and marks every call of the
 * batch done. Calls that arrive meanwhile wait for the next leader, which
 * is one of them. Every fn runs in the leader's thread, between its begin
 * and its commit, so the writer lock stays with the thread that took it.
 */
#include <pthread.h>
#include <string.h>

#include "store_int.h"
#include "util/util.h"

struct store_write_req {
	store_write_fn fn;
	void *arg;
	int rc;			/* what store_write returns */
	int done;		/* rc is final; the caller may leave */
	struct store_write_req *next;
};

/* Set while this thread runs an fn: an fn that begins a transaction or
 * calls store_write would wait for its own writer lock for ever. */
static _Thread_local int write_inside;

int
store_write_inside(void)
{
	return write_inside;
}

int
store_group_init(struct store *st)
{
	struct store_group *g = &st->group;

	memset(g, 0, sizeof(*g));
	if (pthread_mutex_init(&g->mtx, NULL) != 0)
		return -1;
	if (pthread_cond_init(&g->done, NULL) != 0) {
		(void)pthread_mutex_destroy(&g->mtx);
		return -1;
	}
	g->ready = 1;
	return 0;
}

void
store_group_free(struct store *st)
{
	struct store_group *g = &st->group;

	if (!g->ready)
		return;
	(void)pthread_cond_destroy(&g->done);
	(void)pthread_mutex_destroy(&g->mtx);
	g->ready = 0;
}

void
store_write_stats(struct store *st, struct store_write_stats *out)
{
	if (out == NULL)
		return;
	memset(out, 0, sizeof(*out));
	if (st == NULL || !st->group.ready)
		return;
	(void)pthread_mutex_lock(&st->group.mtx);
	*out = st->group.stats;
	(void)pthread_mutex_unlock(&st->group.mtx);
}

/* Runs r->fn on bt, lent as a write transaction. Returns 0 when its
 * changes are to be kept, else fn's result or the code of a write of fn
 * that failed. */
static int
write_run(struct store *st, struct store_btxn *bt, struct store_write_req *r)
{
	struct store_txn txn;
	int rc;

	memset(&txn, 0, sizeof(txn));
	txn.st = st;
	txn.bt = bt;
	txn.write = 1;
	txn.lent = 1;
	write_inside = 1;
	rc = r->fn(&txn, r->arg);
	write_inside = 0;
	if (rc == 0 && txn.failed != STORE_OK) {
		log_warn("store: a write failed inside store_write; its "
		    "changes are dropped");
		rc = txn.failed;
	}
	return rc;
}

/* Runs r in a transaction nested in parent; r->rc gets fn's result or
 * the nested commit's. 1 when its changes went to parent. */
static int
write_nested(struct store *st, struct store_btxn *parent,
    struct store_write_req *r)
{
	struct store_btxn *bt = NULL;
	int rc;

	if ((rc = st->be->begin_nested(parent, &bt)) != STORE_OK) {
		r->rc = rc;
		return 0;
	}
	if ((rc = write_run(st, bt, r)) != 0) {
		st->be->abort(bt);
		r->rc = rc;
		return 0;
	}
	r->rc = st->be->commit(bt);
	return r->rc == STORE_OK;
}

/* A call in a transaction of its own: r->rc gets fn's result or the
 * commit's. Returns 1 if it tried to commit. */
static int
write_own(struct store *st, struct store_write_req *r)
{
	struct store_btxn *bt = NULL;

	if ((r->rc = st->be->begin(st->env, 1, &bt)) != STORE_OK)
		return 0;
	if ((r->rc = write_run(st, bt, r)) != 0) {
		st->be->abort(bt);
		return 0;
	}
	r->rc = st->be->commit(bt);
	return 1;
}

/* One batch: one transaction, one nested transaction per call, one
 * commit. Returns 1 if it tried to commit. */
static int
write_batch(struct store *st, struct store_write_req *batch)
{
	struct store_btxn *parent = NULL;
	struct store_write_req *r;
	size_t kept = 0;
	int rc, committed = 0;

	/* Alone in its batch: no batch-mate to shield from its failure,
	 * and a nested transaction costs LMDB two large allocations. */
	if (batch->next == NULL)
		return write_own(st, batch);
	if ((rc = st->be->begin(st->env, 1, &parent)) == STORE_OK) {
		for (r = batch; r != NULL; r = r->next)
			kept += (size_t)write_nested(st, parent, r);
		if (kept == 0) {
			/* Nothing to keep: what the calls read is on disk
			 * already. */
			st->be->abort(parent);
			return 0;
		}
		rc = st->be->commit(parent);
		committed = 1;
	}
	/* A batch that cannot begin or commit keeps nothing of anyone. */
	for (r = batch; rc != STORE_OK && r != NULL; r = r->next)
		r->rc = rc;
	return committed;
}

/* Detaches the oldest calls, at most STORE_WRITE_BATCH_MAX; *n gets how
 * many. With g->mtx held. */
static struct store_write_req *
write_take(struct store_group *g, size_t *n)
{
	struct store_write_req *batch = g->head, *last = g->head;

	*n = 1;
	while (*n < STORE_WRITE_BATCH_MAX && last->next != NULL) {
		last = last->next;
		(*n)++;
	}
	g->head = last->next;
	if (g->head == NULL)
		g->tail = NULL;
	last->next = NULL;
	return batch;
}

/* Leads one batch. Called with g->mtx held and no leader running;
 * returns with it held. */
static void
write_lead(struct store *st)
{
	struct store_group *g = &st->group;
	struct store_write_req *batch, *r, *next;
	size_t n;
	int committed;

	g->leading = 1;
	batch = write_take(g, &n);
	g->stats.waiting -= n;
	(void)pthread_mutex_unlock(&g->mtx);
	committed = write_batch(st, batch);
	(void)pthread_mutex_lock(&g->mtx);
	/* A call marked done may return at once and take its request off
	 * the stack: read next first. */
	for (r = batch; r != NULL; r = next) {
		next = r->next;
		r->done = 1;
	}
	g->stats.writes += n;
	g->stats.commits += (uint64_t)committed;
	if (n > g->stats.batch_max)
		g->stats.batch_max = n;
	g->leading = 0;
	(void)pthread_cond_broadcast(&g->done);
}

/* A backend without nested transactions: a transaction per call. */
static int
write_alone(struct store *st, struct store_write_req *r)
{
	struct store_group *g = &st->group;
	int committed = write_own(st, r);

	(void)pthread_mutex_lock(&g->mtx);
	g->stats.writes++;
	g->stats.commits += (uint64_t)committed;
	if (g->stats.batch_max == 0)
		g->stats.batch_max = 1;
	(void)pthread_mutex_unlock(&g->mtx);
	return r->rc;
}

int
store_write(struct store *st, store_write_fn fn, void *arg)
{
	struct store_write_req req = { fn, arg, STORE_OK, 0, NULL };
	struct store_group *g;

	if (st == NULL || st->env == NULL || fn == NULL || !st->group.ready)
		return STORE_ERROR;
	if (write_inside) {
		log_err("store: store_write called from a store_write fn");
		return STORE_ERROR;
	}
	if (st->be->begin_nested == NULL)
		return write_alone(st, &req);
	g = &st->group;
	(void)pthread_mutex_lock(&g->mtx);
	if (g->tail != NULL)
		g->tail->next = &req;
	else
		g->head = &req;
	g->tail = &req;
	g->stats.waiting++;
	while (!req.done) {
		if (g->leading)
			(void)pthread_cond_wait(&g->done, &g->mtx);
		else
			write_lead(st);
	}
	(void)pthread_mutex_unlock(&g->mtx);
	return req.rc;
}
