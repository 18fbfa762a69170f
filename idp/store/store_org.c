/*
 * store_org.c - organisations (keyed by code) and their subscriptions to
 * apps (key org \0 app \0, no value), so the apps of one org are a prefix.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

static int
org_key(struct store_key *k, const char *code)
{
	store_key_init(k);
	return store_key_str(k, code, ORG_CODE_SIZE);
}

int
store_org_get(struct store_txn *txn, const char *code, struct org *out)
{
	struct store_key k;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	/* The key first: it may point into *out (a flow's own hash). */
	if ((rc = org_key(&k, code)) != STORE_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return store_rec_get(txn, STORE_TBL_ORG, STORE_REC_ORG, &k, out);
}

int
store_org_put(struct store_txn *txn, const struct org *org)
{
	struct store_key k;
	int rc;

	if (org == NULL)
		return STORE_ERROR;
	rc = store_key_check_put(org_key(&k, org->code), "org code");
	if (rc != STORE_OK)
		return rc;
	return store_rec_put(txn, STORE_TBL_ORG, STORE_REC_ORG, &k, org, 0);
}

struct org_list {
	store_org_cb cb;
	void *arg;
};

static int
org_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct org_list *l = arg;
	struct org o;

	(void)key;
	(void)klen;
	if (store_decode(STORE_REC_ORG, val, vlen, &o) != STORE_OK)
		return STORE_ERROR;
	return l->cb(&o, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_org_list(struct store_txn *txn, store_org_cb cb, void *arg)
{
	struct org_list l = { cb, arg };

	if (cb == NULL)
		return STORE_ERROR;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_ORG, NULL, 0,
	    org_each, &l));
}

/* ---- subscriptions */

static int
sub_key(struct store_key *k, const char *org, const char *app)
{
	int rc;

	store_key_init(k);
	if ((rc = store_key_str(k, org, ORG_CODE_SIZE)) != STORE_OK)
		return rc;
	return store_key_str(k, app, APP_ID_SIZE);
}

int
store_sub_put(struct store_txn *txn, const char *org, const char *app)
{
	struct store_key k;
	int rc;

	rc = store_key_check_put(sub_key(&k, org, app), "subscription");
	if (rc != STORE_OK)
		return rc;
	return store_raw_put(txn, STORE_TBL_SUB, k.b, k.len, NULL, 0, 0);
}

int
store_sub_del(struct store_txn *txn, const char *org, const char *app)
{
	struct store_key k;
	int rc;

	if ((rc = sub_key(&k, org, app)) != STORE_OK)
		return rc;
	return store_raw_del(txn, STORE_TBL_SUB, k.b, k.len);
}

int
store_sub_get(struct store_txn *txn, const char *org, const char *app)
{
	struct store_key k;
	const void *val;
	size_t vlen;
	int rc;

	if ((rc = sub_key(&k, org, app)) != STORE_OK)
		return rc;
	return store_raw_get(txn, STORE_TBL_SUB, k.b, k.len, &val, &vlen);
}

struct sub_list {
	size_t plen;
	store_name_cb cb;
	void *arg;
};

static int
sub_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct sub_list *l = arg;
	char app[APP_ID_SIZE];
	size_t pos = l->plen;

	(void)val;
	(void)vlen;
	if (store_key_part(key, klen, &pos, app, sizeof(app)) != STORE_OK)
		return STORE_ERROR;
	return l->cb(app, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_sub_list(struct store_txn *txn, const char *org, store_name_cb cb,
    void *arg)
{
	struct store_key k;
	struct sub_list l = { 0, cb, arg };
	int rc;

	if (cb == NULL)
		return STORE_ERROR;
	store_key_init(&k);
	/* An org code that cannot exist subscribes to nothing. */
	if ((rc = store_key_str(&k, org, ORG_CODE_SIZE)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	l.plen = k.len;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_SUB, k.b, k.len,
	    sub_each, &l));
}
