/* revoke.c - one place that ends a person's access. */
#include <string.h>

#include "revoke.h"
#include "util/util.h"

/* ---- back-channel logout notices */

struct logout_queue {
	struct store_txn *txn;
	const unsigned char *sess;
	const char *user_id;
	int64_t now;
	size_t queued;
	struct session s;
};

static int
logout_queue_client(const char *client_id, void *arg)
{
	struct logout_queue *q = arg;
	struct bcl_notice n;
	struct app a;
	int rc;

	rc = store_app_get(q->txn, client_id, &a);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK &&
	    a.backchannel_logout_uri[0] == '\0'))
		return 0;	/* nowhere to deliver: nothing to queue */
	if (rc != STORE_OK)
		return rc;
	memset(&n, 0, sizeof(n));
	if (rand_bytes(n.id, sizeof(n.id)) == -1)
		return STORE_ERROR;
	str_copy(n.client_id, client_id, sizeof(n.client_id));
	str_copy(n.user_id, q->user_id, sizeof(n.user_id));
	memcpy(n.sid_hash, q->sess, HASH_SIZE);
	n.created = q->now;
	n.due = q->now;
	if ((rc = store_bcl_put(q->txn, &n)) != STORE_OK)
		return rc;
	q->queued++;
	return 0;
}

int
access_queue_logout(struct store_txn *txn,
    const unsigned char sess_hash[HASH_SIZE], const char *user_id,
    int64_t now, size_t *queued)
{
	struct logout_queue q;
	int rc;

	memset(&q, 0, sizeof(q));
	q.txn = txn;
	q.sess = sess_hash;
	q.user_id = user_id;
	q.now = now;

	rc = store_session_client_list(txn, sess_hash, logout_queue_client,
	    &q);
	if (queued != NULL)
		*queued = q.queued;
	if (q.queued > 0)
		log_info("back-channel logout: %zu notice(s) queued for user "
		    "%s", q.queued, user_id);
	return rc;
}

int
access_end_session(struct store_txn *txn,
    const unsigned char sess_hash[HASH_SIZE], int64_t now)
{
	struct session s;
	int rc;

	if ((rc = store_session_get(txn, sess_hash, &s)) != STORE_OK)
		return rc;
	if ((rc = access_queue_logout(txn, sess_hash, s.user_id, now, NULL)) !=
	    STORE_OK)
		return rc;
	return store_session_del(txn, sess_hash);
}

/* Each session of the user, before store_session_del_user removes them. */
static int
logout_queue_session(const unsigned char hash[HASH_SIZE], void *arg)
{
	struct logout_queue *q = arg;
	size_t n = 0;
	int rc;

	rc = store_session_get(q->txn, hash, &q->s);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK &&
	    strcmp(q->s.user_id, q->user_id) != 0))
		return 0;	/* a stale index entry */
	if (rc != STORE_OK ||
	    (rc = access_queue_logout(q->txn, hash, q->user_id, q->now, &n)) !=
	    STORE_OK)
		return rc;
	q->queued += n;
	return 0;
}

int
access_end_user(struct store_txn *txn, const char *user_id, size_t *ended)
{
	struct logout_queue q;
	size_t n = 0;
	int rc;

	memset(&q, 0, sizeof(q));
	q.txn = txn;
	q.user_id = user_id;
	q.now = clock_now();

	rc = store_session_list_user(txn, user_id, logout_queue_session, &q);
	if (rc != STORE_OK)
		return rc;
	if ((rc = store_session_del_user(txn, user_id, &n)) != STORE_OK)
		return rc;
	/* Refresh tokens outlive the browser session by design; they must
	 * not outlive the person's access (RFC 9700 4.14.2). */
	if ((rc = store_refresh_del_user(txn, user_id, NULL)) != STORE_OK)
		return rc;
	if (ended != NULL)
		*ended = n;
	return STORE_OK;
}
