/*
 * store_audit.c - the audit log's entries, keyed by their sequence number
 * as 8 bytes big-endian so the table's byte order is numeric order (the
 * layout is spelled out in store_int.h for the tamper tests). The number
 * lives only in the key: a value cannot claim a place other than the one
 * it is stored in. Entries are only ever added (no overwrite) and never
 * expire; chaining and checking them is idp/audit's business.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

void
store_audit_key(unsigned char k[STORE_AUDIT_KEY_LEN], uint64_t seq)
{
	int i;

	for (i = STORE_AUDIT_KEY_LEN - 1; i >= 0; i--) {
		k[i] = (unsigned char)seq;
		seq >>= 8;
	}
}

static uint64_t
audit_seq(const unsigned char k[STORE_AUDIT_KEY_LEN])
{
	uint64_t seq = 0;
	int i;

	for (i = 0; i < STORE_AUDIT_KEY_LEN; i++)
		seq = (seq << 8) | k[i];
	return seq;
}

/* Decodes the entry stored under key into out, its number from the key. */
static int
audit_decode(const void *key, size_t klen, const void *val, size_t vlen,
    struct audit_entry *out)
{
	int rc;

	if (klen != STORE_AUDIT_KEY_LEN) {
		memset(out, 0, sizeof(*out));
		log_err("store: malformed audit key (%zu bytes)", klen);
		return STORE_ERROR;
	}
	if ((rc = store_decode(STORE_REC_AUDIT, val, vlen, out)) != STORE_OK)
		return rc;
	out->seq = audit_seq(key);
	return STORE_OK;
}

int
store_audit_put(struct store_txn *txn, const struct audit_entry *e)
{
	struct store_key k;
	unsigned char kb[STORE_AUDIT_KEY_LEN];
	int rc;

	if (e == NULL)
		return STORE_ERROR;
	/* Numbered from 1: 0 is what a caller that forgot to number the
	 * entry would pass. */
	if (e->seq == 0) {
		log_err("store: audit entry without a sequence number");
		return STORE_ERROR;
	}
	store_audit_key(kb, e->seq);
	store_key_init(&k);
	if ((rc = store_key_bytes(&k, kb, sizeof(kb))) != STORE_OK)
		return rc;
	return store_rec_put(txn, STORE_TBL_AUDIT, STORE_REC_AUDIT, &k, e,
	    STORE_PUT_NOOVERWRITE);
}

int
store_audit_get(struct store_txn *txn, uint64_t seq, struct audit_entry *out)
{
	unsigned char kb[STORE_AUDIT_KEY_LEN];
	const void *val;
	size_t vlen;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	memset(out, 0, sizeof(*out));
	if (seq == 0)
		return STORE_NOTFOUND;
	store_audit_key(kb, seq);
	rc = store_raw_get(txn, STORE_TBL_AUDIT, kb, sizeof(kb), &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	return audit_decode(kb, sizeof(kb), val, vlen, out);
}

int
store_audit_last(struct store_txn *txn, struct audit_entry *out)
{
	const void *key, *val;
	size_t klen, vlen;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	memset(out, 0, sizeof(*out));
	rc = store_raw_last(txn, STORE_TBL_AUDIT, &key, &klen, &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	return audit_decode(key, klen, val, vlen, out);
}

struct audit_list {
	store_audit_cb cb;
	void *arg;
	struct audit_entry e;
};

static int
audit_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct audit_list *l = arg;

	if (audit_decode(key, klen, val, vlen, &l->e) != STORE_OK)
		return STORE_ERROR;
	return l->cb(&l->e, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_audit_list(struct store_txn *txn, uint64_t from, store_audit_cb cb,
    void *arg)
{
	unsigned char kb[STORE_AUDIT_KEY_LEN];
	struct audit_list l;

	if (cb == NULL)
		return STORE_ERROR;
	memset(&l, 0, sizeof(l));
	l.cb = cb;
	l.arg = arg;
	store_audit_key(kb, from);
	return store_iter_result(store_raw_iter_from(txn, STORE_TBL_AUDIT, kb,
	    sizeof(kb), audit_each, &l));
}

int
store_audit_replace(struct store_txn *txn, const struct audit_entry *e)
{
	struct store_key k;
	unsigned char kb[STORE_AUDIT_KEY_LEN];
	const void *val;
	size_t vlen;
	int rc;

	if (e == NULL || e->seq == 0)
		return STORE_ERROR;
	store_audit_key(kb, e->seq);
	/* Only an entry that is there: erasure never adds one. */
	rc = store_raw_get(txn, STORE_TBL_AUDIT, kb, sizeof(kb), &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	store_key_init(&k);
	if ((rc = store_key_bytes(&k, kb, sizeof(kb))) != STORE_OK)
		return rc;
	return store_rec_put(txn, STORE_TBL_AUDIT, STORE_REC_AUDIT, &k, e, 0);
}
