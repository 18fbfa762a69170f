/*
 * store_sched.c - changes from the employee registry dated in the future,
 * kept until they are due. Two tables in the same transaction:
 *	sched		effective (8, BE) registry_no \0 -> sched_change
 *	sched_regno	registry_no \0 -> effective (8, BE)
 * The first is ordered by time, so the changes that are due are one range
 * from its start; the second finds the change of a registry number, so a
 * newer import replaces it instead of adding a second one.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

#define SCHED_TIME_LEN 8

static void
time_be(unsigned char b[SCHED_TIME_LEN], int64_t t)
{
	uint64_t u = (uint64_t)t;
	int i;

	for (i = SCHED_TIME_LEN - 1; i >= 0; i--) {
		b[i] = (unsigned char)u;
		u >>= 8;
	}
}

static int64_t
time_of(const unsigned char b[SCHED_TIME_LEN])
{
	uint64_t u = 0;
	int i;

	for (i = 0; i < SCHED_TIME_LEN; i++)
		u = (u << 8) | b[i];
	/* Only positive times are stored (store_sched_put). */
	return u > INT64_MAX ? -1 : (int64_t)u;
}

static int
sched_key(struct store_key *k, int64_t effective, const char *registry_no)
{
	unsigned char b[SCHED_TIME_LEN];
	int rc;

	time_be(b, effective);
	store_key_init(k);
	if ((rc = store_key_bytes(k, b, sizeof(b))) != STORE_OK)
		return rc;
	return store_key_str(k, registry_no, REGNO_SIZE);
}

static int
regno_key(struct store_key *k, const char *registry_no)
{
	store_key_init(k);
	return store_key_str(k, registry_no, REGNO_SIZE);
}

/* When the change of registry_no (key rk) is due; STORE_NOTFOUND if none
 * is scheduled. */
static int
sched_when(struct store_txn *txn, const struct store_key *rk,
    int64_t *effective)
{
	const void *val;
	size_t vlen;
	int rc;

	rc = store_raw_get(txn, STORE_TBL_SCHED_REGNO, rk->b, rk->len, &val,
	    &vlen);
	if (rc != STORE_OK)
		return rc;
	if (vlen != SCHED_TIME_LEN || (*effective = time_of(val)) <= 0) {
		log_err("store: malformed sched_regno entry");
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
store_sched_get(struct store_txn *txn, const char *registry_no,
    struct sched_change *out)
{
	struct store_key rk, k;
	int64_t when;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	memset(out, 0, sizeof(*out));
	if ((rc = regno_key(&rk, registry_no)) != STORE_OK ||
	    (rc = sched_when(txn, &rk, &when)) != STORE_OK)
		return rc;
	if ((rc = sched_key(&k, when, registry_no)) != STORE_OK)
		return rc;
	rc = store_rec_get(txn, STORE_TBL_SCHED, STORE_REC_SCHED, &k, out);
	if (rc == STORE_NOTFOUND) {
		log_err("store: sched_regno names a missing change");
		rc = STORE_ERROR;
	}
	return rc;
}

/* Removes the change of registry_no (key rk) due at when from both
 * tables. */
static int
sched_remove(struct store_txn *txn, const struct store_key *rk,
    const char *registry_no, int64_t when)
{
	struct store_key k;
	int rc;

	if ((rc = sched_key(&k, when, registry_no)) != STORE_OK)
		return rc;
	rc = store_raw_del(txn, STORE_TBL_SCHED, k.b, k.len);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	return store_raw_del(txn, STORE_TBL_SCHED_REGNO, rk->b, rk->len);
}

int
store_sched_put(struct store_txn *txn, const struct sched_change *s)
{
	unsigned char b[SCHED_TIME_LEN];
	struct store_key rk, k;
	int64_t when;
	int rc;

	if (s == NULL || s->effective <= 0)
		return STORE_ERROR;
	if ((rc = store_key_check_put(regno_key(&rk, s->registry_no),
	    "registry number")) != STORE_OK ||
	    (rc = store_key_check_put(sched_key(&k, s->effective,
	    s->registry_no), "registry number")) != STORE_OK)
		return rc;
	rc = sched_when(txn, &rk, &when);
	if (rc == STORE_OK)
		rc = sched_remove(txn, &rk, s->registry_no, when);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	rc = store_rec_put(txn, STORE_TBL_SCHED, STORE_REC_SCHED, &k, s, 0);
	if (rc != STORE_OK)
		return rc;
	time_be(b, s->effective);
	return store_raw_put(txn, STORE_TBL_SCHED_REGNO, rk.b, rk.len, b,
	    sizeof(b), 0);
}

int
store_sched_del(struct store_txn *txn, const char *registry_no)
{
	struct store_key rk;
	int64_t when;
	int rc;

	if ((rc = regno_key(&rk, registry_no)) != STORE_OK ||
	    (rc = sched_when(txn, &rk, &when)) != STORE_OK)
		return rc;
	return sched_remove(txn, &rk, registry_no, when);
}

struct sched_list {
	int64_t now;
	store_sched_cb cb;
	void *arg;
};

static int
sched_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct sched_list *l = arg;
	struct sched_change s;

	if (klen < SCHED_TIME_LEN) {
		log_err("store: malformed sched key");
		return STORE_ERROR;
	}
	/* Keys sort by time: the first one not yet due ends the range. */
	if (time_of(key) > l->now)
		return STORE_ITER_STOP;
	if (store_decode(STORE_REC_SCHED, val, vlen, &s) != STORE_OK)
		return STORE_ERROR;
	return l->cb(&s, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_sched_list_due(struct store_txn *txn, int64_t now, store_sched_cb cb,
    void *arg)
{
	struct sched_list l = { now, cb, arg };

	if (cb == NULL)
		return STORE_ERROR;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_SCHED, NULL, 0,
	    sched_each, &l));
}
