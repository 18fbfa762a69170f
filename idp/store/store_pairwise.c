/*
 * store_pairwise.c - pairwise subjects (OpenID Connect Core 8.1): the sub
 * a client was given, keyed by client and sub, mapped to the user's id.
 * The sub is a keyed hash that cannot be inverted, so this table is how
 * UserInfo finds the person behind an access token.
 *	pairwise	client_id \0 sub \0 -> user_id \0
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

static int
pairwise_key(struct store_key *k, const char *client_id, const char *sub)
{
	int rc;

	store_key_init(k);
	if ((rc = store_key_str(k, client_id, APP_ID_SIZE)) != STORE_OK)
		return rc;
	return store_key_str(k, sub, PAIRWISE_SUB_SIZE);
}

int
store_pairwise_put(struct store_txn *txn, const char *client_id,
    const char *sub, const char *user_id)
{
	struct store_key k;
	int rc;

	if (user_id == NULL || user_id[0] == '\0' ||
	    strlen(user_id) >= USER_ID_SIZE)
		return store_key_check_put(STORE_NOTFOUND, "pairwise user");
	if ((rc = pairwise_key(&k, client_id, sub)) != STORE_OK)
		return store_key_check_put(rc, "pairwise sub");
	return store_raw_put(txn, STORE_TBL_PAIRWISE, k.b, k.len, user_id,
	    strlen(user_id) + 1, 0);
}

int
store_pairwise_get(struct store_txn *txn, const char *client_id,
    const char *sub, char user_id[USER_ID_SIZE])
{
	struct store_key k;
	const void *val;
	size_t vlen;
	int rc;

	user_id[0] = '\0';
	if ((rc = pairwise_key(&k, client_id, sub)) != STORE_OK)
		return rc;
	rc = store_raw_get(txn, STORE_TBL_PAIRWISE, k.b, k.len, &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	if (vlen < 2 || vlen > USER_ID_SIZE ||
	    ((const char *)val)[vlen - 1] != '\0') {
		log_err("store: malformed pairwise entry");
		return STORE_ERROR;
	}
	memcpy(user_id, val, vlen);
	return STORE_OK;
}

struct pairwise_del {
	struct store_txn *txn;
	const char *user_id;
	size_t n;
};

static int
pairwise_del_each(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct pairwise_del *d = arg;
	int rc;

	if (vlen != strlen(d->user_id) + 1 || memcmp(val, d->user_id,
	    vlen) != 0)
		return 0;
	/* The iteration resumes after this key: deleting it is allowed. */
	if ((rc = store_raw_del(d->txn, STORE_TBL_PAIRWISE, key, klen)) !=
	    STORE_OK)
		return rc;
	d->n++;
	return 0;
}

int
store_pairwise_del_user(struct store_txn *txn, const char *user_id,
    size_t *count)
{
	struct pairwise_del d = { txn, user_id, 0 };
	int rc;

	if (count != NULL)
		*count = 0;
	if (user_id == NULL || user_id[0] == '\0')
		return STORE_ERROR;
	/* Erasure is rare: a walk of the table beats a second index. */
	rc = store_raw_iter(txn, STORE_TBL_PAIRWISE, NULL, 0,
	    pairwise_del_each, &d);
	if (count != NULL)
		*count = d.n;
	return rc;
}
