/* lockout.c - back-off counters in the store: count = consecutive
 * failures, expires = last failure + LOCKOUT_FORGET (so the time of the
 * last failure is expires - LOCKOUT_FORGET, and the sweep forgets it). */
#include <stdio.h>
#include <string.h>

#include "lockout.h"
#include "util/util.h"

int64_t
lockout_backoff(int64_t failures)
{
	int64_t w;

	if (failures < LOCKOUT_FREE)
		return 0;
	if (failures - LOCKOUT_FREE >= 10)
		return LOCKOUT_MAX;
	w = (int64_t)LOCKOUT_BASE << (failures - LOCKOUT_FREE);
	return w < LOCKOUT_MAX ? w : LOCKOUT_MAX;
}

static int
lockout_key(const char *username, char key[COUNTER_KEY_SIZE])
{
	return (size_t)snprintf(key, COUNTER_KEY_SIZE, "lock:%s", username) <
	    COUNTER_KEY_SIZE ? 0 : -1;
}

/* The live counter of username; count 0 when none or forgotten. */
static int
lockout_get(struct store_txn *txn, const char *username, int64_t now,
    struct counter *c)
{
	char key[COUNTER_KEY_SIZE];
	int rc;

	/* The key apart from the record it fills (zeroed by the store). */
	if (lockout_key(username, key) == -1)
		return -1;
	rc = store_counter_get(txn, key, c);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK && c->expires <= now)) {
		memset(c, 0, sizeof(*c));
		str_copy(c->key, key, sizeof(c->key));
		return 0;
	}
	return rc == STORE_OK ? 0 : -1;
}

int64_t
lockout_wait(struct store *st, const char *username, int64_t now)
{
	struct store_txn *txn;
	struct counter c;
	int64_t until;
	int rc;

	if (store_begin(st, 0, &txn) != STORE_OK)
		return -1;
	rc = lockout_get(txn, username, now, &c);
	store_abort(txn);
	if (rc == -1)
		return -1;
	if (c.count == 0)
		return 0;
	until = c.expires - LOCKOUT_FORGET + lockout_backoff(c.count);
	return until > now ? until - now : 0;
}

int
lockout_fail(struct store *st, const char *username, int64_t now,
    int64_t *wait)
{
	struct store_txn *txn;
	struct counter c;

	if (store_begin(st, 1, &txn) != STORE_OK)
		return -1;
	if (lockout_get(txn, username, now, &c) == -1)
		goto fail;
	c.count++;
	c.expires = now + LOCKOUT_FORGET;
	if (store_counter_put(txn, &c) != STORE_OK)
		goto fail;
	if (store_commit(txn) != STORE_OK)
		return -1;
	if (wait != NULL)
		*wait = lockout_backoff(c.count);
	return 0;
fail:
	store_abort(txn);
	return -1;
}

int
lockout_clear(struct store *st, const char *username)
{
	struct store_txn *txn;
	struct counter c;
	int64_t now = clock_now();

	if (store_begin(st, 0, &txn) != STORE_OK)
		return -1;
	if (lockout_get(txn, username, now, &c) == -1) {
		store_abort(txn);
		return -1;
	}
	store_abort(txn);
	if (c.count == 0)
		return 0;	/* nothing to write: most sign-ins */
	if (store_begin(st, 1, &txn) != STORE_OK)
		return -1;
	/* Expired now: lookups see no failures, the sweep removes it. */
	c.count = 0;
	c.expires = now;
	if (store_counter_put(txn, &c) != STORE_OK) {
		store_abort(txn);
		return -1;
	}
	return store_commit(txn) == STORE_OK ? 0 : -1;
}
