/* session.c - browser sessions. The cookie carries 256 random bits; the
 * store keeps only their SHA-256, so a copy of the database opens nothing. */
#include <string.h>

#include "authn.h"

int
session_create(struct store *st, const char *user_id, unsigned amr,
    int64_t auth_time, int64_t ttl, char sid[RAND_TOKEN_LEN],
    struct session *out)
{
	struct store_txn *txn;
	struct session s;
	int64_t now = clock_now();
	int rc;

	memset(&s, 0, sizeof(s));
	if (rand_token(sid) == -1)
		return STORE_ERROR;
	secret_hash(sid, s.id_hash);
	str_copy(s.user_id, user_id, sizeof(s.user_id));
	s.created = now;
	s.expires = now + ttl;
	s.auth_time = auth_time;
	s.amr = amr;
	if ((rc = store_begin(st, 1, &txn)) != STORE_OK)
		return rc;
	if ((rc = store_session_put(txn, &s)) != STORE_OK) {
		store_abort(txn);
		return rc;
	}
	if ((rc = store_commit(txn)) == STORE_OK && out != NULL)
		*out = s;
	return rc;
}

int
session_lookup(struct store *st, const char *sid, struct session *s,
    struct user *u)
{
	unsigned char h[HASH_SIZE];
	struct store_txn *txn;
	int rc;

	if (sid == NULL || strlen(sid) != RAND_TOKEN_LEN - 1)
		return STORE_NOTFOUND;
	secret_hash(sid, h);
	if ((rc = store_begin(st, 0, &txn)) != STORE_OK)
		return rc;
	rc = store_session_get(txn, h, s);
	if (rc == STORE_OK && s->expires <= clock_now())
		rc = STORE_NOTFOUND;
	if (rc == STORE_OK)
		rc = store_user_get(txn, s->user_id, u);
	if (rc == STORE_OK && u->disabled)
		rc = STORE_NOTFOUND;
	store_abort(txn);
	return rc;
}

int
session_end(struct store *st, const char *sid)
{
	unsigned char h[HASH_SIZE];
	struct store_txn *txn;
	int rc;

	secret_hash(sid, h);
	if ((rc = store_begin(st, 1, &txn)) != STORE_OK)
		return rc;
	rc = store_session_del(txn, h);
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		store_abort(txn);
		return rc;
	}
	return store_commit(txn);
}

const char *
amr_acr(unsigned amr)
{
	/* Two factors of different kinds: something known + something held. */
	if ((amr & AMR_PWD) && (amr & (AMR_OTP | AMR_SMS)))
		return ACR_SUBSTANTIAL;
	return ACR_LOW;
}
