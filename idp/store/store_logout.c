/*
 * store_logout.c - what back-channel logout keeps: the apps each browser
 * session signed in to (session_client: id_hash client_id \0 -> empty, so
 * one session's apps are one range), and the outbox of logout notices
 * keyed by when they are due (due(8, BE) id(16)), so the sender reads only
 * what is due, earliest first.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

#define BCL_KEY_LEN (8 + BCL_ID_SIZE)

static int
sc_key(struct store_key *k, const unsigned char *sess, const char *client_id)
{
	int rc;

	store_key_init(k);
	if (sess == NULL)
		return STORE_ERROR;
	if ((rc = store_key_bytes(k, sess, HASH_SIZE)) != STORE_OK ||
	    client_id == NULL)
		return rc;
	return store_key_str(k, client_id, APP_ID_SIZE);
}

int
store_session_client_put(struct store_txn *txn,
    const unsigned char sess[HASH_SIZE], const char *client_id)
{
	struct store_key k;
	int rc;

	if (client_id == NULL)
		return STORE_ERROR;
	rc = store_key_check_put(sc_key(&k, sess, client_id), "client_id");
	if (rc != STORE_OK)
		return rc;
	return store_raw_put(txn, STORE_TBL_SESSION_CLIENT, k.b, k.len, NULL,
	    0, 0);
}

struct sc_list {
	store_session_client_cb cb;
	void *arg;
	struct store_txn *txn;	/* set: delete each entry instead */
};

static int
sc_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct sc_list *l = arg;
	char client_id[APP_ID_SIZE];
	size_t pos = HASH_SIZE;
	int rc;

	(void)val;
	(void)vlen;
	if (l->txn != NULL) {
		rc = store_raw_del(l->txn, STORE_TBL_SESSION_CLIENT, key,
		    klen);
		return rc == STORE_NOTFOUND ? 0 : rc;
	}
	if (store_key_part(key, klen, &pos, client_id, sizeof(client_id)) !=
	    STORE_OK || pos != klen) {
		log_err("store: malformed session_client key");
		return STORE_ERROR;
	}
	return l->cb(client_id, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_session_client_list(struct store_txn *txn,
    const unsigned char sess[HASH_SIZE], store_session_client_cb cb,
    void *arg)
{
	struct sc_list l = { cb, arg, NULL };
	struct store_key k;
	int rc;

	if (cb == NULL || (rc = sc_key(&k, sess, NULL)) != STORE_OK)
		return STORE_ERROR;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_SESSION_CLIENT,
	    k.b, k.len, sc_each, &l));
}

int
store_session_client_del(struct store_txn *txn,
    const unsigned char sess[HASH_SIZE])
{
	struct sc_list l = { NULL, NULL, txn };
	struct store_key k;
	int rc;

	if ((rc = sc_key(&k, sess, NULL)) != STORE_OK)
		return STORE_ERROR;
	return store_raw_iter(txn, STORE_TBL_SESSION_CLIENT, k.b, k.len,
	    sc_each, &l);
}

struct su_list {
	store_hash_cb cb;
	void *arg;
	size_t plen;
};

static int
su_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct su_list *l = arg;
	unsigned char hash[HASH_SIZE];

	(void)val;
	(void)vlen;
	if (klen != l->plen + HASH_SIZE) {
		log_err("store: malformed session_user key");
		return STORE_ERROR;
	}
	memcpy(hash, (const unsigned char *)key + l->plen, HASH_SIZE);
	return l->cb(hash, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_session_list_user(struct store_txn *txn, const char *user_id,
    store_hash_cb cb, void *arg)
{
	struct su_list l = { cb, arg, 0 };
	struct store_key k;
	int rc;

	if (cb == NULL)
		return STORE_ERROR;
	store_key_init(&k);
	if ((rc = store_key_str(&k, user_id, USER_ID_SIZE)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	l.plen = k.len;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_SESSION_USER,
	    k.b, k.len, su_each, &l));
}

/* ---- the outbox */

static int
bcl_key(unsigned char k[BCL_KEY_LEN], const struct bcl_notice *n)
{
	uint64_t u;
	int i;

	if (n == NULL || n->due < 0)
		return STORE_ERROR;
	u = (uint64_t)n->due;
	for (i = 7; i >= 0; i--) {
		k[i] = (unsigned char)u;
		u >>= 8;
	}
	memcpy(k + 8, n->id, BCL_ID_SIZE);
	return STORE_OK;
}

int
store_bcl_put(struct store_txn *txn, const struct bcl_notice *n)
{
	struct store_key k;

	store_key_init(&k);
	if (bcl_key(k.b, n) != STORE_OK)
		return STORE_ERROR;
	k.len = BCL_KEY_LEN;
	return store_rec_put(txn, STORE_TBL_BCL_OUTBOX, STORE_REC_BCL, &k, n,
	    0);
}

int
store_bcl_del(struct store_txn *txn, const struct bcl_notice *n)
{
	unsigned char k[BCL_KEY_LEN];

	if (bcl_key(k, n) != STORE_OK)
		return STORE_ERROR;
	return store_raw_del(txn, STORE_TBL_BCL_OUTBOX, k, sizeof(k));
}

struct bcl_list {
	store_bcl_cb cb;
	void *arg;
	int64_t now;
	struct bcl_notice n;
};

static int
bcl_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct bcl_list *l = arg;

	(void)key;
	(void)klen;
	if (store_decode(STORE_REC_BCL, val, vlen, &l->n) != STORE_OK)
		return STORE_ERROR;
	/* Keys sort by due time: the first one not due ends the list. */
	if (l->n.due > l->now)
		return STORE_ITER_STOP;
	return l->cb(&l->n, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_bcl_list_due(struct store_txn *txn, int64_t now, store_bcl_cb cb,
    void *arg)
{
	struct bcl_list l;

	if (cb == NULL)
		return STORE_ERROR;
	memset(&l, 0, sizeof(l));
	l.cb = cb;
	l.arg = arg;
	l.now = now;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_BCL_OUTBOX,
	    NULL, 0, bcl_each, &l));
}
