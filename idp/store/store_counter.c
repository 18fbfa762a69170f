/*
 * store_counter.c - counters for rate limits and usage, keyed key \0 so
 * the counters under one prefix are one range. Each counter has one entry
 * in the expiry index; its key string is too long for the entry's fixed
 * hash slot, so the slot holds the SHA-256 of the table key and the entry's
 * value holds the table key itself (store_expiry.c).
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

static int
counter_key(struct store_key *k, const char *key)
{
	store_key_init(k);
	return store_key_str(k, key, COUNTER_KEY_SIZE);
}

int
store_counter_get(struct store_txn *txn, const char *key,
    struct counter *out)
{
	struct store_key k;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	/* The key first: it may point into *out (a flow's own hash). */
	if ((rc = counter_key(&k, key)) != STORE_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return store_rec_get(txn, STORE_TBL_COUNTER, STORE_REC_COUNTER, &k,
	    out);
}

int
store_counter_put(struct store_txn *txn, const struct counter *c)
{
	unsigned char hash[HASH_SIZE];
	struct store_key k;
	struct counter old;
	int found, rc;

	if (c == NULL)
		return STORE_ERROR;
	rc = store_key_check_put(counter_key(&k, c->key), "counter key");
	if (rc != STORE_OK)
		return rc;
	rc = store_rec_get(txn, STORE_TBL_COUNTER, STORE_REC_COUNTER, &k,
	    &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	found = rc == STORE_OK;
	rc = store_rec_put(txn, STORE_TBL_COUNTER, STORE_REC_COUNTER, &k, c,
	    0);
	if (rc != STORE_OK)
		return rc;
	sha256(k.b, k.len, hash);
	/* A new expiry moves the entry: the old one would sweep the counter
	 * at its old time (the sweep checks, but the entry would linger). */
	if (found && old.expires != c->expires &&
	    (rc = store_expiry_del(txn, STORE_TBL_COUNTER, hash,
	    old.expires)) != STORE_OK)
		return rc;
	return store_expiry_put_ref(txn, STORE_TBL_COUNTER, hash, c->expires,
	    k.b, k.len);
}

struct counter_list {
	store_counter_cb cb;
	void *arg;
};

static int
counter_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct counter_list *l = arg;
	struct counter c;

	(void)key;
	(void)klen;
	if (store_decode(STORE_REC_COUNTER, val, vlen, &c) != STORE_OK)
		return STORE_ERROR;
	return l->cb(&c, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_counter_list(struct store_txn *txn, const char *prefix,
    store_counter_cb cb, void *arg)
{
	struct counter_list l = { cb, arg };
	size_t plen;

	if (cb == NULL)
		return STORE_ERROR;
	/* The prefix goes without its NUL: "sms:org:x:" is a prefix of
	 * "sms:org:x:2024-05" but not of "sms:org:xy:2024-05". */
	plen = prefix == NULL ? 0 : strnlen(prefix, COUNTER_KEY_SIZE);
	/* Longer than any key: no counter can start with it. */
	if (plen == COUNTER_KEY_SIZE)
		return STORE_OK;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_COUNTER,
	    prefix, plen, counter_each, &l));
}

/* ---- the sweep's side (store_expiry.c) */

/* The counter's table key from an expiry entry's value: one string with
 * its NUL that hashes to the entry's hash slot. */
static int
counter_ref(const void *ref, size_t reflen,
    const unsigned char hash[HASH_SIZE], struct store_key *k)
{
	unsigned char h[HASH_SIZE];

	if (reflen < 2 || reflen > COUNTER_KEY_SIZE ||
	    memchr(ref, '\0', reflen) != (const char *)ref + reflen - 1)
		return STORE_NOTFOUND;
	sha256(ref, reflen, h);
	if (memcmp(h, hash, HASH_SIZE) != 0)
		return STORE_NOTFOUND;
	store_key_init(k);
	return store_key_bytes(k, ref, reflen);
}

int
store_counter_expire(struct store_txn *txn, const void *ref, size_t reflen,
    const unsigned char hash[HASH_SIZE], int64_t expires)
{
	struct store_key k;
	struct counter c;
	int rc;

	if (counter_ref(ref, reflen, hash, &k) != STORE_OK) {
		log_warn("store: dropping malformed counter expiry entry");
		return STORE_NOTFOUND;
	}
	rc = store_rec_get(txn, STORE_TBL_COUNTER, STORE_REC_COUNTER, &k, &c);
	if (rc != STORE_OK)
		return rc;
	/* Re-put with a later expiry since this entry was written. */
	if (c.expires != expires)
		return STORE_NOTFOUND;
	if ((rc = store_raw_del(txn, STORE_TBL_COUNTER, k.b, k.len)) !=
	    STORE_OK)
		return rc;
	return store_expiry_del(txn, STORE_TBL_COUNTER, hash, expires);
}
