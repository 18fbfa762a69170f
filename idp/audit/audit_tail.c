/* audit_tail.c - the newest entries of the log, optionally only those of
 * one person, read backwards in growing windows so that a look at recent
 * events costs little however long the log is. */
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "util/util.h"

#define TAIL_WINDOW_MIN 64

/* The names one person goes by in entries: as asked, and the username or
 * sub that belongs with it. */
struct tail_filter {
	int on;
	char name[2][AUDIT_ACTOR_SIZE];
	int n;
};

struct tail_scan {
	const struct tail_filter *f;
	uint64_t top;		/* the window ends at this number */
	uint64_t *ring;		/* the newest `room` matches of the window */
	size_t room;
	uint64_t count;		/* matches in the window */
};

static void
tail_filter_init(struct store_txn *txn, const char *user,
    struct tail_filter *f)
{
	struct user u;

	memset(f, 0, sizeof(*f));
	if (user == NULL)
		return;
	f->on = 1;
	/* Longer than any field: it names nobody (rather than a prefix). */
	if (str_copy(f->name[f->n], user, sizeof(f->name[0])) >=
	    sizeof(f->name[0]))
		return;
	f->n++;
	if (store_user_get_by_name(txn, user, &u) == STORE_OK)
		str_copy(f->name[f->n++], u.id, sizeof(f->name[0]));
	else if (store_user_get(txn, user, &u) == STORE_OK)
		str_copy(f->name[f->n++], u.username, sizeof(f->name[0]));
	wipe(&u, sizeof(u));	/* it holds the password hash */
}

static int
tail_match(const struct tail_filter *f, const struct audit_entry *e)
{
	int i;

	if (!f->on)
		return 1;
	for (i = 0; i < f->n; i++) {
		if (strcmp(e->subject, f->name[i]) == 0 ||
		    strcmp(e->actor, f->name[i]) == 0)
			return 1;
		if (strncmp(e->actor, "user:", 5) == 0 &&
		    strcmp(e->actor + 5, f->name[i]) == 0)
			return 1;
	}
	return 0;
}

static int
tail_collect(const struct audit_entry *e, void *arg)
{
	struct tail_scan *s = arg;

	if (e->seq > s->top)
		return 1;
	if (tail_match(s->f, e))
		s->ring[s->count++ % s->room] = e->seq;
	return 0;
}

/* Reads the window lo..s->top and puts its newest matches, oldest first,
 * just before the *have numbers already at the end of res[n]. */
static int
tail_window(struct store_txn *txn, struct tail_scan *s, uint64_t lo,
    uint64_t *res, size_t n, size_t *have)
{
	size_t k, i;

	s->room = n - *have;
	s->count = 0;
	if (store_audit_list(txn, lo, tail_collect, s) != STORE_OK)
		return -1;
	k = s->count < s->room ? (size_t)s->count : s->room;
	for (i = 0; i < k; i++)
		res[n - *have - k + i] =
		    s->ring[(s->count - k + i) % s->room];
	*have += k;
	return 0;
}

/* Fills the end of res[n] with the numbers of the newest matches. */
static int
tail_find(struct store_txn *txn, const struct tail_filter *f,
    uint64_t last, uint64_t *res, size_t n, size_t *have)
{
	struct tail_scan s;
	uint64_t win = n > TAIL_WINDOW_MIN ? n : TAIL_WINDOW_MIN, lo;

	memset(&s, 0, sizeof(s));
	s.f = f;
	s.top = last;
	if ((s.ring = calloc(n, sizeof(*s.ring))) == NULL)
		return -1;
	for (;;) {
		lo = s.top >= win ? s.top - win + 1 : 1;
		if (tail_window(txn, &s, lo, res, n, have) == -1) {
			free(s.ring);
			return -1;
		}
		if (*have == n || lo == 1)
			break;
		s.top = lo - 1;
		if (win < UINT64_MAX / 2)
			win *= 2;
	}
	free(s.ring);
	return 0;
}

static int
tail_emit(struct store_txn *txn, const uint64_t *seqs, size_t n,
    store_audit_cb cb, void *arg)
{
	struct audit_entry e;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = store_audit_get(txn, seqs[i], &e);
		if (rc == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK)
			return -1;
		if (cb(&e, arg) != 0)
			break;
	}
	return 0;
}

int
audit_tail(struct store *st, const char *user, size_t n,
    store_audit_cb cb, void *arg)
{
	struct store_txn *txn = NULL;
	struct tail_filter f;
	struct audit_entry last;
	uint64_t *res = NULL;
	size_t have = 0;
	int rc = -1, src;

	if (st == NULL || cb == NULL)
		return -1;
	if (n > AUDIT_TAIL_MAX)
		n = AUDIT_TAIL_MAX;
	if (store_begin(st, 0, &txn) != STORE_OK)
		goto done;
	if ((src = store_audit_last(txn, &last)) == STORE_NOTFOUND || n == 0) {
		rc = 0;
		goto done;
	}
	if (src != STORE_OK || (res = calloc(n, sizeof(*res))) == NULL)
		goto done;
	tail_filter_init(txn, user, &f);
	if (tail_find(txn, &f, last.seq, res, n, &have) == -1)
		goto done;
	rc = tail_emit(txn, res + (n - have), have, cb, arg);
done:
	free(res);
	store_abort(txn);
	if (rc == -1)
		log_err("audit: cannot read the log");
	return rc;
}
