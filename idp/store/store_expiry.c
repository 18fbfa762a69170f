/*
 * store_expiry.c - the expiry index and the sweep. An entry's key is
 *	expires (8 bytes, big-endian, sign bit flipped) table (1) hash (32)
 * with no value, so entries sort by time (negative times included) and
 * the sweep reads only entries that are due, never the tables themselves.
 * The record puts and deletes in store_session.c keep one entry per record
 * in the same transaction as the record.
 *
 * Counters are keyed by strings of up to 128 bytes, which do not fit the
 * fixed entry key: their entry carries the SHA-256 of the counter's table
 * key in the hash slot and the table key itself as the entry's value, so
 * the entry format stays one for all tables and the sweep still finds the
 * record without a scan (store_counter.c keeps these entries).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util/util.h"

#define EXPIRY_KEY_LEN (8 + 1 + HASH_SIZE)
/* Records removed per write transaction: a large backlog (a restart after
 * days) must not hold the writer lock for long or dirty more pages than
 * one transaction can carry. */
#define SWEEP_BATCH 512

static void
expiry_key(unsigned char k[EXPIRY_KEY_LEN], enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires)
{
	uint64_t u = (uint64_t)expires ^ ((uint64_t)1 << 63);
	int i;

	for (i = 7; i >= 0; i--) {
		k[i] = (unsigned char)u;
		u >>= 8;
	}
	k[8] = (unsigned char)t;
	memcpy(k + 9, hash, HASH_SIZE);
}

static int64_t
expiry_time(const unsigned char *k)
{
	uint64_t u = 0;
	int i;

	for (i = 0; i < 8; i++)
		u = (u << 8) | k[i];
	u ^= (uint64_t)1 << 63;
	return u > INT64_MAX ? -(int64_t)(~u) - 1 : (int64_t)u;
}

int
store_expiry_put(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires)
{
	return store_expiry_put_ref(txn, t, hash, expires, NULL, 0);
}

int
store_expiry_put_ref(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires, const void *ref,
    size_t reflen)
{
	unsigned char k[EXPIRY_KEY_LEN];

	if (reflen > STORE_KEY_MAX) {
		log_err("store: expiry reference too long");
		return STORE_ERROR;
	}
	expiry_key(k, t, hash, expires);
	return store_raw_put(txn, STORE_TBL_EXPIRY, k, sizeof(k), ref, reflen,
	    0);
}

int
store_expiry_del(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires)
{
	unsigned char k[EXPIRY_KEY_LEN];
	int rc;

	expiry_key(k, t, hash, expires);
	rc = store_raw_del(txn, STORE_TBL_EXPIRY, k, sizeof(k));
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

struct sweep {
	struct store_txn *txn;
	int64_t now;
	size_t seen;		/* entries handled in this transaction */
	size_t removed;		/* records removed */
};

/* Removes the record an entry names; val is the entry's value, borrowed
 * only until the first write, so a counter's key is copied first. */
static int
sweep_record(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires, const void *val,
    size_t vlen)
{
	unsigned char ref[STORE_KEY_MAX];

	if (t == STORE_TBL_REFRESH)
		return store_refresh_expire(txn, hash, expires);
	if (t != STORE_TBL_COUNTER)
		return store_expire_record(txn, t, hash, expires);
	if (vlen > sizeof(ref)) {
		log_warn("store: dropping malformed counter expiry entry");
		return STORE_NOTFOUND;
	}
	if (vlen > 0)
		memcpy(ref, val, vlen);
	return store_counter_expire(txn, ref, vlen, hash, expires);
}

static int
sweep_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct sweep *sw = arg;
	unsigned char hash[HASH_SIZE];
	const unsigned char *k = key;
	enum store_table t;
	int64_t expires;
	int rc;

	if (klen != EXPIRY_KEY_LEN) {
		/* Not an entry this version writes; drop it rather than let
		 * it sit at the head of the index for ever. */
		log_warn("store: dropping malformed expiry entry");
		rc = store_raw_del(sw->txn, STORE_TBL_EXPIRY, key, klen);
		if (rc != STORE_OK)
			return rc;
		return ++sw->seen >= SWEEP_BATCH ? STORE_ITER_STOP : 0;
	}
	if ((expires = expiry_time(k)) > sw->now)
		return STORE_ITER_STOP;
	memcpy(hash, k + 9, HASH_SIZE);
	t = (enum store_table)k[8];
	rc = sweep_record(sw->txn, t, hash, expires, val, vlen);
	if (rc == STORE_OK)
		sw->removed++;
	else if (rc != STORE_NOTFOUND)
		return rc;
	/* The record's delete took the entry along; a stale one (record gone
	 * or moved to a later time) goes here. */
	if ((rc = store_expiry_del(sw->txn, t, hash, expires)) != STORE_OK)
		return rc;
	return ++sw->seen >= SWEEP_BATCH ? STORE_ITER_STOP : 0;
}

static int
sweep_batch(struct store *st, int64_t now, size_t *seen, size_t *removed)
{
	struct store_txn *txn = NULL;
	struct sweep sw;
	int rc;

	*seen = *removed = 0;
	if ((rc = store_begin(st, 1, &txn)) != STORE_OK)
		return rc;
	memset(&sw, 0, sizeof(sw));
	sw.txn = txn;
	sw.now = now;
	rc = store_iter_result(store_raw_iter(txn, STORE_TBL_EXPIRY, NULL, 0,
	    sweep_each, &sw));
	if (rc != STORE_OK) {
		store_abort(txn);
		return rc;
	}
	if ((rc = store_commit(txn)) != STORE_OK)
		return rc;
	*seen = sw.seen;
	*removed = sw.removed;
	return STORE_OK;
}

int
store_sweep(struct store *st, int64_t now, size_t *removed)
{
	size_t seen, n, total = 0;
	int rc;

	if (removed != NULL)
		*removed = 0;
	if (st == NULL)
		return STORE_ERROR;
	do {
		if ((rc = sweep_batch(st, now, &seen, &n)) != STORE_OK)
			break;
		total += n;
	} while (seen >= SWEEP_BATCH);
	if (removed != NULL)
		*removed = total;
	return rc;
}
