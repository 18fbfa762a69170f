/*
 * store_user_auth.c - per-user authentication state (second factors and
 * lockout), keyed user_id \0 in a table of its own: it changes on every
 * failed sign-in, and keeping it apart from struct user means those
 * writes never rewrite the profile and its password hash.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

static int
user_auth_key(struct store_key *k, const char *user_id)
{
	store_key_init(k);
	return store_key_str(k, user_id, USER_ID_SIZE);
}

int
store_user_auth_get(struct store_txn *txn, const char *user_id,
    struct user_auth *out)
{
	struct store_key k;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	/* The key first: it may point into *out (a flow's own hash). */
	if ((rc = user_auth_key(&k, user_id)) != STORE_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return store_rec_get(txn, STORE_TBL_USER_AUTH, STORE_REC_USER_AUTH,
	    &k, out);
}

int
store_user_auth_put(struct store_txn *txn, const struct user_auth *a)
{
	struct store_key k;
	int rc;

	if (a == NULL)
		return STORE_ERROR;
	rc = store_key_check_put(user_auth_key(&k, a->user_id),
	    "user_auth user id");
	if (rc != STORE_OK)
		return rc;
	/* store_rec_put wipes its encoding: it holds the sealed seed. */
	return store_rec_put(txn, STORE_TBL_USER_AUTH, STORE_REC_USER_AUTH,
	    &k, a, 0);
}

int
store_user_auth_del(struct store_txn *txn, const char *user_id)
{
	struct store_key k;
	int rc;

	if ((rc = user_auth_key(&k, user_id)) != STORE_OK)
		return rc;
	return store_raw_del(txn, STORE_TBL_USER_AUTH, k.b, k.len);
}
