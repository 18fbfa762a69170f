/*
 * store_grant.c - role grants, keyed user \0 app \0 org \0 role \0 so the
 * grants of a user, of a user in an app, and of a user in an app for an
 * org are each one prefix. An empty org is a valid part (it stays
 * unambiguous: the NUL after it is still there).
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

static int
grant_key(struct store_key *k, const char *user_id, const char *app,
    const char *org, const char *role)
{
	int rc;

	store_key_init(k);
	if ((rc = store_key_str(k, user_id, USER_ID_SIZE)) != STORE_OK ||
	    (rc = store_key_str(k, app, APP_ID_SIZE)) != STORE_OK ||
	    (rc = store_key_str0(k, org, ORG_CODE_SIZE)) != STORE_OK)
		return rc;
	return store_key_str(k, role, ROLE_SIZE);
}

int
store_grant_put(struct store_txn *txn, const struct grant *g)
{
	struct store_key k;
	int rc;

	if (g == NULL)
		return STORE_ERROR;
	rc = store_key_check_put(grant_key(&k, g->user_id, g->app, g->org,
	    g->role), "grant");
	if (rc != STORE_OK)
		return rc;
	return store_rec_put(txn, STORE_TBL_GRANT, STORE_REC_GRANT, &k, g, 0);
}

int
store_grant_del(struct store_txn *txn, const char *user_id, const char *app,
    const char *org, const char *role)
{
	struct store_key k;
	int rc;

	if ((rc = grant_key(&k, user_id, app, org, role)) != STORE_OK)
		return rc;
	return store_raw_del(txn, STORE_TBL_GRANT, k.b, k.len);
}

struct grant_list {
	const char *org;	/* filter when the prefix cannot hold it */
	store_grant_cb cb;
	void *arg;
};

static int
grant_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct grant_list *l = arg;
	struct grant g;

	(void)key;
	(void)klen;
	if (store_decode(STORE_REC_GRANT, val, vlen, &g) != STORE_OK)
		return STORE_ERROR;
	if (l->org != NULL && strcmp(g.org, l->org) != 0)
		return 0;
	return l->cb(&g, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_grant_list(struct store_txn *txn, const char *user_id, const char *app,
    const char *org, store_grant_cb cb, void *arg)
{
	struct grant_list l = { NULL, cb, arg };
	struct store_key k;
	int rc;

	if (cb == NULL)
		return STORE_ERROR;
	store_key_init(&k);
	rc = store_key_str(&k, user_id, USER_ID_SIZE);
	if (rc == STORE_OK && app != NULL) {
		rc = store_key_str(&k, app, APP_ID_SIZE);
		if (rc == STORE_OK && org != NULL)
			rc = store_key_str0(&k, org, ORG_CODE_SIZE);
	} else if (rc == STORE_OK && org != NULL) {
		/* A user's grants are few: filter them by org. */
		if (memchr(org, '\0', ORG_CODE_SIZE) == NULL)
			rc = STORE_NOTFOUND;
		l.org = org;
	}
	/* A key part that cannot exist matches no grant. */
	if (rc != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_GRANT, k.b,
	    k.len, grant_each, &l));
}
