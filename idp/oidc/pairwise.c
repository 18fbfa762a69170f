/* pairwise.c - the store's mapping from pairwise subs back to people. */
#include <string.h>

#include "pairwise.h"

int
pairwise_remember(struct idp *idp, const struct app *a, const struct user *u)
{
	char sub[PAIRWISE_SUB_SIZE], have[USER_ID_SIZE];
	struct store_txn *txn;
	int rc;

	if (!a->pairwise)
		return 0;
	if (token_sub_for(&idp->tokens, u, a, sub) == -1)
		return -1;
	/* Read first: a returning person costs no write. */
	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return -1;
	rc = store_pairwise_get(txn, a->client_id, sub, have);
	store_abort(txn);
	if (rc == STORE_OK && strcmp(have, u->id) == 0)
		return 0;
	if (rc == STORE_ERROR || store_begin(idp->store, 1, &txn) != STORE_OK)
		return -1;
	if (store_pairwise_put(txn, a->client_id, sub, u->id) != STORE_OK) {
		store_abort(txn);
		return -1;
	}
	return store_commit(txn) == STORE_OK ? 0 : -1;
}

int
pairwise_resolve(struct store_txn *txn, const char *client_id,
    const char *sub, char user_id[USER_ID_SIZE])
{
	struct app a;
	int rc;

	if (client_id == NULL || sub == NULL)
		return STORE_NOTFOUND;
	if ((rc = store_app_get(txn, client_id, &a)) != STORE_OK)
		return rc;
	if (a.pairwise)
		return store_pairwise_get(txn, client_id, sub, user_id);
	if (strlen(sub) >= USER_ID_SIZE)
		return STORE_NOTFOUND;
	str_copy(user_id, sub, USER_ID_SIZE);
	return STORE_OK;
}
