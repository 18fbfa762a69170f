/*
 * store_session.c - the records that expire: browser sessions,
 * authorization codes and sign-in flows, each keyed by the SHA-256 of the
 * secret the browser or client holds. Every put and delete keeps, in the
 * same transaction, the record's one entry in the expiry index and, for
 * sessions, the session_user index (user_id \0 id_hash) that lets
 * store_session_del_user end a person's sessions without a scan.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

union expiring {
	struct session s;
	struct authcode c;
	struct flow f;
};

static int
rec_type(enum store_table t, enum store_rec *type)
{
	switch (t) {
	case STORE_TBL_SESSION:
		*type = STORE_REC_SESSION;
		return STORE_OK;
	case STORE_TBL_CODE:
		*type = STORE_REC_CODE;
		return STORE_OK;
	case STORE_TBL_FLOW:
		*type = STORE_REC_FLOW;
		return STORE_OK;
	default:
		return STORE_ERROR;
	}
}

static int64_t
rec_expires(enum store_table t, const union expiring *r)
{
	switch (t) {
	case STORE_TBL_SESSION:
		return r->s.expires;
	case STORE_TBL_CODE:
		return r->c.expires;
	default:
		return r->f.expires;
	}
}

static int
hash_key(struct store_key *k, const unsigned char *hash)
{
	store_key_init(k);
	if (hash == NULL) {
		log_err("store: NULL hash");
		return STORE_ERROR;
	}
	return store_key_bytes(k, hash, HASH_SIZE);
}

static int
exp_get(struct store_txn *txn, enum store_table t, const unsigned char *hash,
    void *out)
{
	struct store_key k;
	enum store_rec type;
	int rc;

	if (out == NULL || rec_type(t, &type) != STORE_OK)
		return STORE_ERROR;
	/* The key first: it may point into *out (a flow's own hash). */
	if ((rc = hash_key(&k, hash)) != STORE_OK) {
		memset(out, 0, store_rec_size(type));
		return rc;
	}
	return store_rec_get(txn, t, type, &k, out);
}

/* Writes rec under hash and moves its expiry entry. *found tells whether
 * it replaced a record, which is then in *old. */
static int
exp_put(struct store_txn *txn, enum store_table t, const unsigned char *hash,
    const void *rec, int64_t expires, union expiring *old, int *found)
{
	struct store_key k;
	enum store_rec type;
	int rc;

	*found = 0;
	if (rec == NULL || rec_type(t, &type) != STORE_OK)
		return STORE_ERROR;
	if ((rc = hash_key(&k, hash)) != STORE_OK)
		return rc;
	rc = store_rec_get(txn, t, type, &k, old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	*found = rc == STORE_OK;
	if ((rc = store_rec_put(txn, t, type, &k, rec, 0)) != STORE_OK)
		return rc;
	if (*found && rec_expires(t, old) != expires &&
	    (rc = store_expiry_del(txn, t, hash, rec_expires(t, old))) !=
	    STORE_OK)
		return rc;
	return store_expiry_put(txn, t, hash, expires);
}

/* ---- sessions */

static int
session_user_key(struct store_key *k, const char *user_id,
    const unsigned char *hash)
{
	int rc;

	store_key_init(k);
	if ((rc = store_key_str(k, user_id, USER_ID_SIZE)) != STORE_OK)
		return rc;
	return store_key_bytes(k, hash, HASH_SIZE);
}

/* Drops the session_user entry of s; a session without a user has none. */
static int
session_unlink(struct store_txn *txn, const struct session *s)
{
	struct store_key k;
	int rc;

	if (session_user_key(&k, s->user_id, s->id_hash) != STORE_OK)
		return STORE_OK;
	rc = store_raw_del(txn, STORE_TBL_SESSION_USER, k.b, k.len);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int
store_session_get(struct store_txn *txn,
    const unsigned char id_hash[HASH_SIZE], struct session *out)
{
	return exp_get(txn, STORE_TBL_SESSION, id_hash, out);
}

int
store_session_put(struct store_txn *txn, const struct session *s)
{
	struct store_key uk;
	union expiring old;
	int found, rc;

	if (s == NULL)
		return STORE_ERROR;
	store_key_init(&uk);
	if (s->user_id[0] != '\0' && (rc = store_key_check_put(
	    session_user_key(&uk, s->user_id, s->id_hash), "session user"))
	    != STORE_OK)
		return rc;
	rc = exp_put(txn, STORE_TBL_SESSION, s->id_hash, s, s->expires, &old,
	    &found);
	if (rc != STORE_OK)
		return rc;
	if (found && strcmp(old.s.user_id, s->user_id) != 0 &&
	    (rc = session_unlink(txn, &old.s)) != STORE_OK)
		return rc;
	if (uk.len == 0)
		return STORE_OK;
	return store_raw_put(txn, STORE_TBL_SESSION_USER, uk.b, uk.len, NULL,
	    0, 0);
}

/* Deletes the record under hash with its index entries; with `expires`
 * non-NULL only if the record still expires then (the sweep's check). */
static int
exp_del(struct store_txn *txn, enum store_table t, const unsigned char *hash,
    const int64_t *expires)
{
	struct store_key k;
	union expiring old;
	int rc;

	if ((rc = exp_get(txn, t, hash, &old)) != STORE_OK)
		return rc;
	if (expires != NULL && rec_expires(t, &old) != *expires)
		return STORE_NOTFOUND;
	if (t == STORE_TBL_SESSION && ((rc = session_unlink(txn, &old.s)) !=
	    STORE_OK || (rc = store_session_client_del(txn, hash)) !=
	    STORE_OK))
		return rc;
	if ((rc = hash_key(&k, hash)) != STORE_OK ||
	    (rc = store_raw_del(txn, t, k.b, k.len)) != STORE_OK)
		return rc;
	return store_expiry_del(txn, t, hash, rec_expires(t, &old));
}

int
store_session_del(struct store_txn *txn,
    const unsigned char id_hash[HASH_SIZE])
{
	return exp_del(txn, STORE_TBL_SESSION, id_hash, NULL);
}

struct session_user {
	struct store_txn *txn;
	const char *user_id;
	size_t plen;
	size_t count;
};

static int
session_user_each(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct session_user *su = arg;
	unsigned char hash[HASH_SIZE];
	struct session s;
	int rc;

	(void)val;
	(void)vlen;
	if (klen != su->plen + HASH_SIZE) {
		log_err("store: malformed session_user key");
		return STORE_ERROR;
	}
	memcpy(hash, (const unsigned char *)key + su->plen, HASH_SIZE);
	rc = store_session_get(su->txn, hash, &s);
	if (rc == STORE_OK && strcmp(s.user_id, su->user_id) == 0) {
		if ((rc = store_session_del(su->txn, hash)) != STORE_OK)
			return rc;
		su->count++;
		return 0;
	}
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	/* An entry whose session is gone or now someone else's. */
	rc = store_raw_del(su->txn, STORE_TBL_SESSION_USER, key, klen);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
store_session_del_user(struct store_txn *txn, const char *user_id,
    size_t *count)
{
	struct session_user su = { txn, user_id, 0, 0 };
	struct store_key k;
	int rc;

	if (count != NULL)
		*count = 0;
	store_key_init(&k);
	if ((rc = store_key_str(&k, user_id, USER_ID_SIZE)) != STORE_OK)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	su.plen = k.len;
	rc = store_raw_iter(txn, STORE_TBL_SESSION_USER, k.b, k.len,
	    session_user_each, &su);
	if (count != NULL)
		*count = su.count;
	return rc;
}

/* ---- authorization codes */

int
store_code_get(struct store_txn *txn, const unsigned char hash[HASH_SIZE],
    struct authcode *out)
{
	return exp_get(txn, STORE_TBL_CODE, hash, out);
}

int
store_code_put(struct store_txn *txn, const struct authcode *c)
{
	union expiring old;
	int found;

	if (c == NULL)
		return STORE_ERROR;
	return exp_put(txn, STORE_TBL_CODE, c->hash, c, c->expires, &old,
	    &found);
}

/* ---- sign-in flows */

int
store_flow_get(struct store_txn *txn, const unsigned char hash[HASH_SIZE],
    struct flow *out)
{
	return exp_get(txn, STORE_TBL_FLOW, hash, out);
}

int
store_flow_put(struct store_txn *txn, const struct flow *f)
{
	union expiring old;
	int found;

	if (f == NULL)
		return STORE_ERROR;
	return exp_put(txn, STORE_TBL_FLOW, f->hash, f, f->expires, &old,
	    &found);
}

int
store_flow_del(struct store_txn *txn, const unsigned char hash[HASH_SIZE])
{
	return exp_del(txn, STORE_TBL_FLOW, hash, NULL);
}

/* ---- the sweep's side (store_expiry.c) */

int
store_expire_record(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires)
{
	enum store_rec type;

	if (rec_type(t, &type) != STORE_OK) {
		log_warn("store: expiry entry for table %d", (int)t);
		return STORE_NOTFOUND;
	}
	return exp_del(txn, t, hash, &expires);
}
