/*
 * store_refresh.c - refresh tokens and their families, and the roles
 * granted to clients themselves. A token record lives under the SHA-256 of
 * the token; every put and delete keeps, in the same transaction, its one
 * expiry entry, its family entry (family \0 hash) and the family's user
 * entry (user_id \0 family \0), so a family or all of a person's families
 * end without a scan, and the sweep leaves no index entry behind.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

static int
refresh_key(struct store_key *k, const unsigned char *hash)
{
	store_key_init(k);
	if (hash == NULL) {
		log_err("store: NULL refresh hash");
		return STORE_ERROR;
	}
	return store_key_bytes(k, hash, HASH_SIZE);
}

static int
family_key(struct store_key *k, const char *family, const unsigned char *hash)
{
	int rc;

	store_key_init(k);
	if ((rc = store_key_str(k, family, REFRESH_FAMILY_SIZE)) != STORE_OK)
		return rc;
	return hash == NULL ? STORE_OK : store_key_bytes(k, hash, HASH_SIZE);
}

static int
user_key(struct store_key *k, const char *user_id, const char *family)
{
	int rc;

	store_key_init(k);
	if ((rc = store_key_str(k, user_id, USER_ID_SIZE)) != STORE_OK)
		return rc;
	return family == NULL ? STORE_OK :
	    store_key_str(k, family, REFRESH_FAMILY_SIZE);
}

static int
del_absent_ok(struct store_txn *txn, enum store_table t,
    const struct store_key *k)
{
	int rc = store_raw_del(txn, t, k->b, k->len);

	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
store_refresh_get(struct store_txn *txn, const unsigned char hash[HASH_SIZE],
    struct refresh_token *out)
{
	struct store_key k;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	if ((rc = refresh_key(&k, hash)) != STORE_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return store_rec_get(txn, STORE_TBL_REFRESH, STORE_REC_REFRESH, &k,
	    out);
}

/* The index keys of r; STORE_ERROR when a part is missing. */
static int
refresh_index_keys(const struct refresh_token *r, struct store_key *fk,
    struct store_key *uk)
{
	int rc;

	if (r->client_id[0] == '\0') {
		log_err("store: refresh token without client");
		return STORE_ERROR;
	}
	if ((rc = store_key_check_put(family_key(fk, r->family, r->hash),
	    "refresh family")) != STORE_OK)
		return rc;
	return store_key_check_put(user_key(uk, r->user_id, r->family),
	    "refresh user");
}

int
store_refresh_put(struct store_txn *txn, const struct refresh_token *r)
{
	struct store_key k, fk, uk;
	struct refresh_token old;
	int rc = STORE_ERROR;

	if (r == NULL || (rc = refresh_key(&k, r->hash)) != STORE_OK ||
	    (rc = refresh_index_keys(r, &fk, &uk)) != STORE_OK)
		return rc == STORE_OK ? STORE_ERROR : rc;
	rc = store_rec_get(txn, STORE_TBL_REFRESH, STORE_REC_REFRESH, &k,
	    &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	if (rc == STORE_OK && (strcmp(old.family, r->family) != 0 ||
	    strcmp(old.user_id, r->user_id) != 0)) {
		log_err("store: a refresh token cannot change family");
		return STORE_ERROR;
	}
	if (rc == STORE_OK && old.expires != r->expires &&
	    (rc = store_expiry_del(txn, STORE_TBL_REFRESH, r->hash,
	    old.expires)) != STORE_OK)
		return rc;
	if ((rc = store_rec_put(txn, STORE_TBL_REFRESH, STORE_REC_REFRESH, &k,
	    r, 0)) != STORE_OK ||
	    (rc = store_expiry_put(txn, STORE_TBL_REFRESH, r->hash,
	    r->expires)) != STORE_OK ||
	    (rc = store_raw_put(txn, STORE_TBL_REFRESH_FAMILY, fk.b, fk.len,
	    NULL, 0, 0)) != STORE_OK)
		return rc;
	return store_raw_put(txn, STORE_TBL_REFRESH_USER, uk.b, uk.len, NULL,
	    0, 0);
}

/* Deletes the token under hash, its expiry and family entries; with
 * `expires` non-NULL only if it still expires then (the sweep's check).
 * *r receives what was deleted. */
static int
refresh_del(struct store_txn *txn, const unsigned char *hash,
    const int64_t *expires, struct refresh_token *r)
{
	struct store_key k, fk;
	int rc;

	if ((rc = store_refresh_get(txn, hash, r)) != STORE_OK)
		return rc;
	if (expires != NULL && r->expires != *expires)
		return STORE_NOTFOUND;
	if ((rc = refresh_key(&k, hash)) != STORE_OK ||
	    (rc = store_raw_del(txn, STORE_TBL_REFRESH, k.b, k.len)) !=
	    STORE_OK ||
	    (rc = store_expiry_del(txn, STORE_TBL_REFRESH, hash, r->expires)) !=
	    STORE_OK)
		return rc;
	if (family_key(&fk, r->family, hash) != STORE_OK)
		return STORE_OK;	/* a damaged record had no entry */
	return del_absent_ok(txn, STORE_TBL_REFRESH_FAMILY, &fk);
}

static int
family_any(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(void)arg;
	return STORE_ITER_STOP;
}

int
store_refresh_expire(struct store_txn *txn,
    const unsigned char hash[HASH_SIZE], int64_t expires)
{
	struct refresh_token r;
	struct store_key fk, uk;
	int rc;

	if ((rc = refresh_del(txn, hash, &expires, &r)) != STORE_OK)
		return rc;
	if (family_key(&fk, r.family, NULL) != STORE_OK ||
	    user_key(&uk, r.user_id, r.family) != STORE_OK)
		return STORE_OK;
	rc = store_raw_iter(txn, STORE_TBL_REFRESH_FAMILY, fk.b, fk.len,
	    family_any, NULL);
	if (rc == STORE_ITER_STOP)
		return STORE_OK;	/* the family lives on */
	if (rc != STORE_OK)
		return rc;
	return del_absent_ok(txn, STORE_TBL_REFRESH_USER, &uk);
}

struct family_del {
	struct store_txn *txn;
	size_t plen;
	size_t count;
	char user_id[USER_ID_SIZE];
};

static int
family_del_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct family_del *fd = arg;
	unsigned char hash[HASH_SIZE];
	struct refresh_token r;
	int rc;

	(void)val;
	(void)vlen;
	if (klen != fd->plen + HASH_SIZE) {
		log_err("store: malformed refresh_family key");
		return STORE_ERROR;
	}
	memcpy(hash, (const unsigned char *)key + fd->plen, HASH_SIZE);
	rc = refresh_del(fd->txn, hash, NULL, &r);
	if (rc == STORE_OK) {
		str_copy(fd->user_id, r.user_id, sizeof(fd->user_id));
		fd->count++;
		return 0;
	}
	if (rc != STORE_NOTFOUND)
		return rc;
	/* An entry whose token is gone. */
	rc = store_raw_del(fd->txn, STORE_TBL_REFRESH_FAMILY, key, klen);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
store_refresh_del_family(struct store_txn *txn, const char *family,
    size_t *count)
{
	struct family_del fd;
	struct store_key k, uk;
	int rc;

	if (count != NULL)
		*count = 0;
	memset(&fd, 0, sizeof(fd));
	fd.txn = txn;
	if ((rc = family_key(&k, family, NULL)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	fd.plen = k.len;
	rc = store_raw_iter(txn, STORE_TBL_REFRESH_FAMILY, k.b, k.len,
	    family_del_each, &fd);
	if (rc == STORE_OK && fd.user_id[0] != '\0' &&
	    user_key(&uk, fd.user_id, family) == STORE_OK)
		rc = del_absent_ok(txn, STORE_TBL_REFRESH_USER, &uk);
	if (count != NULL)
		*count = fd.count;
	return rc;
}

struct user_del {
	struct store_txn *txn;
	size_t plen;
	size_t families;
};

static int
user_del_each(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct user_del *ud = arg;
	char family[REFRESH_FAMILY_SIZE];
	size_t pos = ud->plen, n;
	int rc;

	(void)val;
	(void)vlen;
	if (store_key_part(key, klen, &pos, family, sizeof(family)) !=
	    STORE_OK || pos != klen) {
		log_err("store: malformed refresh_user key");
		return STORE_ERROR;
	}
	if ((rc = store_refresh_del_family(ud->txn, family, &n)) != STORE_OK)
		return rc;
	if (n > 0)
		ud->families++;
	/* The family's delete took this entry along unless it had no
	 * token left (a stale entry). */
	rc = store_raw_del(ud->txn, STORE_TBL_REFRESH_USER, key, klen);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
store_refresh_del_user(struct store_txn *txn, const char *user_id,
    size_t *families)
{
	struct user_del ud = { txn, 0, 0 };
	struct store_key k;
	int rc;

	if (families != NULL)
		*families = 0;
	if ((rc = user_key(&k, user_id, NULL)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	ud.plen = k.len;
	rc = store_raw_iter(txn, STORE_TBL_REFRESH_USER, k.b, k.len,
	    user_del_each, &ud);
	if (families != NULL)
		*families = ud.families;
	return rc;
}

/* ---- roles of clients */

static int
client_grant_key(struct store_key *k, const char *client_id,
    const char *role)
{
	int rc;

	store_key_init(k);
	if ((rc = store_key_str(k, client_id, APP_ID_SIZE)) != STORE_OK)
		return rc;
	return role == NULL ? STORE_OK : store_key_str(k, role, ROLE_SIZE);
}

int
store_client_grant_put(struct store_txn *txn, const char *client_id,
    const char *role)
{
	struct store_key k;
	int rc;

	if ((rc = store_key_check_put(client_grant_key(&k, client_id, role),
	    "client grant")) != STORE_OK)
		return rc;
	return store_raw_put(txn, STORE_TBL_CLIENT_GRANT, k.b, k.len, NULL, 0,
	    0);
}

int
store_client_grant_del(struct store_txn *txn, const char *client_id,
    const char *role)
{
	struct store_key k;
	int rc;

	if ((rc = client_grant_key(&k, client_id, role)) != STORE_OK)
		return rc;
	return store_raw_del(txn, STORE_TBL_CLIENT_GRANT, k.b, k.len);
}

struct client_grant_iter {
	size_t plen;
	store_name_cb cb;
	void *arg;
};

static int
client_grant_each(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct client_grant_iter *it = arg;
	char role[ROLE_SIZE];
	size_t pos = it->plen;

	(void)val;
	(void)vlen;
	if (store_key_part(key, klen, &pos, role, sizeof(role)) != STORE_OK ||
	    pos != klen) {
		log_err("store: malformed client_grant key");
		return STORE_ERROR;
	}
	return it->cb(role, it->arg) != 0 ? STORE_ITER_STOP : 0;
}

int
store_client_grant_list(struct store_txn *txn, const char *client_id,
    store_name_cb cb, void *arg)
{
	struct client_grant_iter it = { 0, cb, arg };
	struct store_key k;
	int rc;

	if (cb == NULL)
		return STORE_ERROR;
	if ((rc = client_grant_key(&k, client_id, NULL)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	it.plen = k.len;
	return store_iter_result(store_raw_iter(txn, STORE_TBL_CLIENT_GRANT,
	    k.b, k.len, client_grant_each, &it));
}
