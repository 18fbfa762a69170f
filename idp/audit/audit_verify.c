/* audit_verify.c - walking the chain: numbering, links and keyed hashes,
 * and finding a head noted earlier. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit_int.h"
#include "util/util.h"

/* The first fault the walk met, classified once the walk is over (some
 * classifications need a second pass over the log). */
enum verify_fault {
	FAULT_NONE = 0,
	FAULT_EDITED,		/* the keyed hash does not match */
	FAULT_SEQ,		/* a number out of turn */
	FAULT_LINK,		/* the expected number, wrong prev */
	FAULT_CRYPTO		/* HMAC failed: could not check */
};

struct verify_walk {
	const struct audit *a;
	uint64_t pos;			/* entries seen so far */
	unsigned char last[HASH_SIZE];	/* hash of the entry before */
	enum verify_fault fault;
	uint64_t bad;			/* position of the first fault */
	uint64_t seq;			/* the number that entry carries */
	unsigned char want[HASH_SIZE];	/* the prev that entry carries */
};

static enum verify_fault
verify_check(struct verify_walk *w, const struct audit_entry *e)
{
	unsigned char h[HASH_SIZE];

	/* The store numbers an entry by the place it is stored in, so a
	 * number out of turn is a gap where entries were removed. */
	if (e->seq != w->pos)
		return FAULT_SEQ;
	if (!ct_equal(e->prev, w->last, HASH_SIZE))
		return FAULT_LINK;
	if (audit_mac(w->a, e, h) == -1)
		return FAULT_CRYPTO;
	if (!ct_equal(h, e->hash, HASH_SIZE))
		return FAULT_EDITED;
	/* The hash covers the personal fields' digests; their text must
	 * agree (or be the pseudonym erasure left). */
	switch (audit_fields_match(w->a, e)) {
	case 1:
		return FAULT_NONE;
	case 0:
		return FAULT_EDITED;
	default:
		return FAULT_CRYPTO;
	}
}

/* Reads on past the first fault only to count the entries and find the
 * head, which the report gives either way. */
static int
verify_entry(const struct audit_entry *e, void *arg)
{
	struct verify_walk *w = arg;

	w->pos++;
	if (w->fault == FAULT_NONE &&
	    (w->fault = verify_check(w, e)) != FAULT_NONE) {
		w->bad = w->pos;
		w->seq = e->seq;
		memcpy(w->want, e->prev, HASH_SIZE);
	}
	memcpy(w->last, e->hash, HASH_SIZE);
	return 0;
}

struct find_hash {
	const unsigned char *hash;
	int found;
	uint64_t seq;
};

static int
find_entry(const struct audit_entry *e, void *arg)
{
	struct find_hash *f = arg;

	if (!ct_equal(e->hash, f->hash, HASH_SIZE))
		return 0;
	f->found = 1;
	f->seq = e->seq;
	return 1;
}

/* Whether some entry of the log carries hash: 1, 0, or -1. */
static int
verify_hash_known(struct store_txn *txn, const unsigned char *hash,
    uint64_t *seq)
{
	struct find_hash f = { hash, 0, 0 };

	if (store_audit_list(txn, 1, find_entry, &f) != STORE_OK)
		return -1;
	if (seq != NULL)
		*seq = f.seq;
	return f.found;
}

/* Puts the reason for the first fault into r->why. -1 on a store error. */
static int
verify_explain(struct store_txn *txn, const struct verify_walk *w,
    struct audit_report *r)
{
	char *why = r->why;
	size_t size = sizeof(r->why);
	uint64_t n = w->bad;
	int known = 0;

	if (w->fault == FAULT_LINK &&
	    (known = verify_hash_known(txn, w->want, NULL)) == -1)
		return -1;
	if (w->fault == FAULT_EDITED)
		(void)snprintf(why, size, "entry %" PRIu64 " was edited", n);
	else if (w->fault == FAULT_SEQ && w->seq > n)
		(void)snprintf(why, size, "entry %" PRIu64 " is missing", n);
	else if (w->fault == FAULT_SEQ || known)
		(void)snprintf(why, size, "entries out of order at %" PRIu64,
		    n);
	else if (n == 1)
		(void)snprintf(why, size, "entry 1 does not start the chain");
	else
		(void)snprintf(why, size, "entry %" PRIu64 " does not follow "
		    "entry %" PRIu64, n, n - 1);
	return 0;
}

int
audit_verify(const struct audit *a, struct store *st,
    struct audit_report *r)
{
	struct verify_walk w;
	struct store_txn *txn = NULL;
	int rc = AUDIT_ERROR;

	if (a == NULL || st == NULL || r == NULL)
		return AUDIT_ERROR;
	memset(r, 0, sizeof(*r));
	memset(&w, 0, sizeof(w));
	w.a = a;
	if (store_begin(st, 0, &txn) != STORE_OK ||
	    store_audit_list(txn, 1, verify_entry, &w) != STORE_OK)
		goto done;
	r->entries = w.pos;
	memcpy(r->head, w.last, HASH_SIZE);
	if (w.fault == FAULT_NONE) {
		rc = AUDIT_INTACT;
		goto done;
	}
	if (w.fault == FAULT_CRYPTO || verify_explain(txn, &w, r) == -1)
		goto done;
	r->bad = w.bad;
	rc = AUDIT_BROKEN;
done:
	store_abort(txn);
	if (rc == AUDIT_ERROR)
		log_err("audit: cannot read the log to verify it");
	return rc;
}

int
audit_anchor(struct store *st, const unsigned char head[HASH_SIZE],
    uint64_t *seq)
{
	struct store_txn *txn;
	int rc;

	if (seq != NULL)
		*seq = 0;
	if (st == NULL || head == NULL || store_begin(st, 0, &txn) !=
	    STORE_OK)
		return AUDIT_ERROR;
	rc = verify_hash_known(txn, head, seq);
	store_abort(txn);
	if (rc == -1)
		return AUDIT_ERROR;
	return rc == 1 ? AUDIT_INTACT : AUDIT_BROKEN;
}
