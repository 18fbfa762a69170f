/*
 * store_user.c - users, keyed by their stable id, and the three indexes
 * the store keeps beside them in the same transaction:
 *	username	username \0 -> id \0	(unique)
 *	user_org	org \0 id \0 -> empty	(an org's staff is a prefix)
 *	user_regno	registry_no \0 -> id \0	(unique)
 * Citizens (empty org) have no user_org entry, users without a registry
 * number no user_regno entry.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

static int
user_key(struct store_key *k, const char *id)
{
	store_key_init(k);
	return store_key_str(k, id, USER_ID_SIZE);
}

static int
name_key(struct store_key *k, const char *username)
{
	store_key_init(k);
	return store_key_str(k, username, USERNAME_SIZE);
}

static int
regno_key(struct store_key *k, const char *registry_no)
{
	store_key_init(k);
	return store_key_str(k, registry_no, REGNO_SIZE);
}

static int
org_key(struct store_key *k, const char *org, const char *id)
{
	int rc;

	store_key_init(k);
	if ((rc = store_key_str(k, org, ORG_CODE_SIZE)) != STORE_OK)
		return rc;
	return store_key_str(k, id, USER_ID_SIZE);
}

int
store_user_get(struct store_txn *txn, const char *id, struct user *out)
{
	struct store_key k;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	/* The key first: it may point into *out (a flow's own hash). */
	if ((rc = user_key(&k, id)) != STORE_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return store_rec_get(txn, STORE_TBL_USER, STORE_REC_USER, &k, out);
}

/* The user an index entry names must exist and agree with it. */
static int
user_indexed(struct store_txn *txn, const char *id, struct user *out)
{
	int rc = store_user_get(txn, id, out);

	if (rc == STORE_NOTFOUND) {
		log_err("store: index names missing user %s", id);
		rc = STORE_ERROR;
	}
	return rc;
}

/* Looks up the user a unique index (username or user_regno) names under
 * k, and checks that the user still carries the indexed value. */
static int
user_by_index(struct store_txn *txn, enum store_table t,
    const struct store_key *k, struct user *out)
{
	char id[USER_ID_SIZE];
	const char *have;
	const void *val;
	size_t vlen, pos = 0;
	int rc;

	rc = store_raw_get(txn, t, k->b, k->len, &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	if (store_key_part(val, vlen, &pos, id, sizeof(id)) != STORE_OK ||
	    pos != vlen)
		return STORE_ERROR;
	if ((rc = user_indexed(txn, id, out)) != STORE_OK)
		return rc;
	have = t == STORE_TBL_USERNAME ? out->username : out->registry_no;
	/* k holds the indexed value and its NUL. */
	if (strlen(have) + 1 != k->len || memcmp(have, k->b, k->len) != 0) {
		log_err("store: %s index is stale for user %s",
		    store_table_names[t], id);
		memset(out, 0, sizeof(*out));
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
store_user_get_by_name(struct store_txn *txn, const char *username,
    struct user *out)
{
	struct store_key k;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	/* The key first: it may point into *out (a flow's own hash). */
	if ((rc = name_key(&k, username)) != STORE_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return user_by_index(txn, STORE_TBL_USERNAME, &k, out);
}

int
store_user_get_by_regno(struct store_txn *txn, const char *registry_no,
    struct user *out)
{
	struct store_key k;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	if ((rc = regno_key(&k, registry_no)) != STORE_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return user_by_index(txn, STORE_TBL_USER_REGNO, &k, out);
}

/* The keys of a user about to be written: record, username, user_org
 * and user_regno (the last two empty, len 0, when the user has no org or
 * no registry number). */
struct user_keys {
	struct store_key uk, nk, ok, rk;
};

/* Builds the keys; any part that could not be stored is an invalid
 * argument. */
static int
user_keys(const struct user *u, struct user_keys *k)
{
	int rc;

	store_key_init(&k->ok);
	store_key_init(&k->rk);
	if ((rc = user_key(&k->uk, u->id)) != STORE_OK)
		return store_key_check_put(rc, "user id");
	if ((rc = name_key(&k->nk, u->username)) != STORE_OK)
		return store_key_check_put(rc, "username");
	if (memchr(u->registry_no, '\0', sizeof(u->registry_no)) == NULL)
		return store_key_check_put(STORE_NOTFOUND, "registry number");
	if (u->registry_no[0] != '\0' &&
	    (rc = regno_key(&k->rk, u->registry_no)) != STORE_OK)
		return store_key_check_put(rc, "registry number");
	if (memchr(u->org, '\0', sizeof(u->org)) == NULL)
		return store_key_check_put(STORE_NOTFOUND, "user org");
	if (u->org[0] == '\0')
		return STORE_OK;
	return store_key_check_put(org_key(&k->ok, u->org, u->id),
	    "user org");
}

/* STORE_EXISTS when a unique index already holds k (len 0: nothing to
 * hold, never taken). */
static int
index_taken(struct store_txn *txn, enum store_table t,
    const struct store_key *k)
{
	const void *val;
	size_t vlen;
	int rc;

	if (k->len == 0)
		return STORE_OK;
	rc = store_raw_get(txn, t, k->b, k->len, &val, &vlen);
	if (rc == STORE_OK)
		return STORE_EXISTS;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int
index_put(struct store_txn *txn, enum store_table t,
    const struct store_key *k, const char *id)
{
	size_t n = strlen(id) + 1;
	unsigned flags = STORE_PUT_NOOVERWRITE;

	if (k->len == 0)
		return STORE_OK;
	/* The unique indexes hold the id, user_org has it in its key. */
	if (t == STORE_TBL_USER_ORG) {
		n = 0;
		flags = 0;
	}
	return store_raw_put(txn, t, k->b, k->len, id, n, flags);
}

static int
index_del(struct store_txn *txn, enum store_table t,
    const struct store_key *k)
{
	int rc;

	if (k->len == 0)
		return STORE_OK;
	rc = store_raw_del(txn, t, k->b, k->len);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
store_user_add(struct store_txn *txn, const struct user *user)
{
	struct user_keys k;
	int rc;

	if (user == NULL)
		return STORE_ERROR;
	if ((rc = user_keys(user, &k)) != STORE_OK)
		return rc;
	/* Check before the first write, so a taken id, name or registry
	 * number leaves the transaction as it was and the caller may go on
	 * with it. */
	if ((rc = index_taken(txn, STORE_TBL_USERNAME, &k.nk)) != STORE_OK ||
	    (rc = index_taken(txn, STORE_TBL_USER_REGNO, &k.rk)) != STORE_OK)
		return rc;
	rc = store_rec_put(txn, STORE_TBL_USER, STORE_REC_USER, &k.uk, user,
	    STORE_PUT_NOOVERWRITE);
	if (rc != STORE_OK)
		return rc;
	if ((rc = index_put(txn, STORE_TBL_USERNAME, &k.nk, user->id)) !=
	    STORE_OK ||
	    (rc = index_put(txn, STORE_TBL_USER_REGNO, &k.rk, user->id)) !=
	    STORE_OK)
		return rc;
	return index_put(txn, STORE_TBL_USER_ORG, &k.ok, user->id);
}

/* Moves one index entry from old's key to the new key; either may be
 * empty (len 0). */
static int
index_move(struct store_txn *txn, enum store_table t,
    const struct store_key *old, const struct store_key *k, const char *id)
{
	int rc;

	if (old->len == k->len && memcmp(old->b, k->b, k->len) == 0)
		return STORE_OK;
	if ((rc = index_del(txn, t, old)) != STORE_OK)
		return rc;
	return index_put(txn, t, k, id);
}

static int
user_reindex(struct store_txn *txn, const struct user *old,
    const struct user_keys *k, const char *id)
{
	struct user_keys ok;
	int rc;

	/* The old record was stored, so its keys build. */
	if ((rc = user_keys(old, &ok)) != STORE_OK)
		return rc;
	if ((rc = index_move(txn, STORE_TBL_USERNAME, &ok.nk, &k->nk, id)) !=
	    STORE_OK ||
	    (rc = index_move(txn, STORE_TBL_USER_REGNO, &ok.rk, &k->rk, id)) !=
	    STORE_OK)
		return rc;
	return index_move(txn, STORE_TBL_USER_ORG, &ok.ok, &k->ok, id);
}

int
store_user_update(struct store_txn *txn, const struct user *user)
{
	struct user_keys k;
	struct user old;
	int rc;

	if (user == NULL)
		return STORE_ERROR;
	if ((rc = user_keys(user, &k)) != STORE_OK)
		return rc;
	rc = store_rec_get(txn, STORE_TBL_USER, STORE_REC_USER, &k.uk, &old);
	if (rc != STORE_OK)
		goto done;
	if (strcmp(old.username, user->username) != 0 &&
	    (rc = index_taken(txn, STORE_TBL_USERNAME, &k.nk)) != STORE_OK)
		goto done;
	if (strcmp(old.registry_no, user->registry_no) != 0 &&
	    (rc = index_taken(txn, STORE_TBL_USER_REGNO, &k.rk)) != STORE_OK)
		goto done;
	rc = store_rec_put(txn, STORE_TBL_USER, STORE_REC_USER, &k.uk, user, 0);
	if (rc == STORE_OK)
		rc = user_reindex(txn, &old, &k, user->id);
done:
	wipe(&old, sizeof(old));	/* holds the password hash */
	return rc;
}

/* ---- listing */

struct user_list {
	struct store_txn *txn;
	size_t plen;		/* > 0: walking user_org */
	store_user_cb cb;
	void *arg;
	struct user u;		/* reused for every user */
};

static int
user_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct user_list *l = arg;
	char id[USER_ID_SIZE];
	size_t pos = l->plen;
	int rc;

	if (l->plen == 0) {
		rc = store_decode(STORE_REC_USER, val, vlen, &l->u);
	} else {
		rc = store_key_part(key, klen, &pos, id, sizeof(id));
		if (rc == STORE_OK)
			rc = user_indexed(l->txn, id, &l->u);
	}
	if (rc != STORE_OK)
		return STORE_ERROR;
	return l->cb(&l->u, l->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_user_list(struct store_txn *txn, const char *org, store_user_cb cb,
    void *arg)
{
	struct user_list l;
	struct store_key k;
	int rc;

	if (cb == NULL)
		return STORE_ERROR;
	memset(&l, 0, sizeof(l));
	l.txn = txn;
	l.cb = cb;
	l.arg = arg;
	if (org == NULL) {
		rc = store_raw_iter(txn, STORE_TBL_USER, NULL, 0, user_each,
		    &l);
		goto done;
	}
	store_key_init(&k);
	/* An org code that cannot exist has no users. */
	if ((rc = store_key_str(&k, org, ORG_CODE_SIZE)) != STORE_OK) {
		rc = rc == STORE_NOTFOUND ? STORE_OK : rc;
		goto done;
	}
	l.plen = k.len;
	rc = store_raw_iter(txn, STORE_TBL_USER_ORG, k.b, k.len, user_each, &l);
done:
	wipe(&l.u, sizeof(l.u));
	return store_iter_result(rc);
}

/* ---- erasure */

int
store_user_del(struct store_txn *txn, const char *id)
{
	struct user_keys k;
	struct user old;
	int rc;

	if ((rc = store_user_get(txn, id, &old)) != STORE_OK)
		goto done;
	/* The stored record's own keys: its indexes are what must go. */
	if ((rc = user_keys(&old, &k)) != STORE_OK)
		goto done;
	if ((rc = store_raw_del(txn, STORE_TBL_USER, k.uk.b, k.uk.len)) !=
	    STORE_OK)
		goto done;
	if ((rc = index_del(txn, STORE_TBL_USERNAME, &k.nk)) == STORE_OK &&
	    (rc = index_del(txn, STORE_TBL_USER_ORG, &k.ok)) == STORE_OK)
		rc = index_del(txn, STORE_TBL_USER_REGNO, &k.rk);
done:
	wipe(&old, sizeof(old));	/* holds the password hash */
	return rc;
}
