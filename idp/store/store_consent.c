/*
 * store_consent.c - what a person agreed an app may receive (issue 5),
 * keyed by user first so a person's consents are one prefix:
 *	consent		user_id \0 client_id \0 -> consent
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

static int
consent_key(struct store_key *k, const char *user_id, const char *client_id)
{
	int rc;

	store_key_init(k);
	if ((rc = store_key_str(k, user_id, USER_ID_SIZE)) != STORE_OK)
		return rc;
	return store_key_str(k, client_id, APP_ID_SIZE);
}

int
store_consent_get(struct store_txn *txn, const char *user_id,
    const char *client_id, struct consent *out)
{
	struct store_key k;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = consent_key(&k, user_id, client_id)) != STORE_OK)
		return rc;
	return store_rec_get(txn, STORE_TBL_CONSENT, STORE_REC_CONSENT, &k,
	    out);
}

int
store_consent_put(struct store_txn *txn, const struct consent *c)
{
	struct store_key k;
	int rc;

	if ((rc = consent_key(&k, c->user_id, c->client_id)) != STORE_OK)
		return store_key_check_put(rc, "consent");
	return store_rec_put(txn, STORE_TBL_CONSENT, STORE_REC_CONSENT, &k, c,
	    0);
}

struct consent_del {
	struct store_txn *txn;
	size_t n;
};

static int
consent_del_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct consent_del *d = arg;
	int rc;

	(void)val;
	(void)vlen;
	/* The iteration resumes after this key: deleting it is allowed. */
	if ((rc = store_raw_del(d->txn, STORE_TBL_CONSENT, key, klen)) !=
	    STORE_OK)
		return rc;
	d->n++;
	return 0;
}

int
store_consent_del_user(struct store_txn *txn, const char *user_id,
    size_t *count)
{
	struct consent_del d = { txn, 0 };
	struct store_key k;
	int rc;

	if (count != NULL)
		*count = 0;
	store_key_init(&k);
	if (user_id == NULL || user_id[0] == '\0' ||
	    store_key_str(&k, user_id, USER_ID_SIZE) != STORE_OK)
		return STORE_ERROR;
	rc = store_raw_iter(txn, STORE_TBL_CONSENT, k.b, k.len,
	    consent_del_each, &d);
	if (count != NULL)
		*count = d.n;
	return rc;
}
