/*
 * store_app.c - applications (OIDC clients), keyed by client_id.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

static int
app_key(struct store_key *k, const char *client_id)
{
	store_key_init(k);
	return store_key_str(k, client_id, APP_ID_SIZE);
}

int
store_app_get(struct store_txn *txn, const char *client_id, struct app *out)
{
	struct store_key k;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	/* The key first: it may point into *out (a flow's own hash). */
	if ((rc = app_key(&k, client_id)) != STORE_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return store_rec_get(txn, STORE_TBL_APP, STORE_REC_APP, &k, out);
}

int
store_app_put(struct store_txn *txn, const struct app *app)
{
	struct store_key k;
	int rc;

	if (app == NULL)
		return STORE_ERROR;
	rc = store_key_check_put(app_key(&k, app->client_id), "client_id");
	if (rc != STORE_OK)
		return rc;
	return store_rec_put(txn, STORE_TBL_APP, STORE_REC_APP, &k, app, 0);
}

struct app_list {
	store_app_cb cb;
	void *arg;
	struct app a;	/* 8.5 KiB, reused for every app */
};

static int
app_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct app_list *l = arg;

	(void)key;
	(void)klen;
	if (store_decode(STORE_REC_APP, val, vlen, &l->a) != STORE_OK)
		return STORE_ERROR;
	return l->cb(&l->a, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_app_list(struct store_txn *txn, store_app_cb cb, void *arg)
{
	struct app_list l;

	if (cb == NULL)
		return STORE_ERROR;
	l.cb = cb;
	l.arg = arg;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_APP, NULL, 0,
	    app_each, &l));
}
