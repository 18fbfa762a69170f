/*
 * backchannel.c - the sender of back-channel logout notices (OpenID
 * Connect Back-Channel Logout 1.0, 2.4-2.8). Notices wait in the store's
 * outbox, written with the logout that caused them, so a crash loses none
 * and no request waits for an app. One thread reads what is due, POSTs a
 * fresh logout token for each, and deletes, reschedules (exponential
 * back-off) or, after a day, drops it with an audit entry.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "backchannel.h"

#define BCL_EVENT "http://schemas.openid.net/event/backchannel-logout"

struct backchannel {
	struct idp *idp;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;		/* guarded by lock */
	int woken;		/* guarded by lock */
};

int64_t
backchannel_delay(int attempts)
{
	int64_t d = BCL_FIRST_DELAY;

	while (--attempts > 0 && d < BCL_MAX_DELAY)
		d *= 2;
	return d > BCL_MAX_DELAY ? BCL_MAX_DELAY : d;
}

static json_t *
backchannel_claims(struct idp *idp, const struct bcl_notice *n,
    const struct app *a, int64_t now)
{
	char sub[PAIRWISE_SUB_SIZE], *sid = NULL, jti[RAND_TOKEN_LEN];
	struct user u;
	json_t *c = NULL;

	/* The sub the app knows: pairwise apps got their own. */
	memset(&u, 0, sizeof(u));
	str_copy(u.id, n->user_id, sizeof(u.id));
	if (token_sub_for(&idp->tokens, &u, a, sub) == -1 ||
	    rand_token(jti) == -1 ||
	    (sid = b64url_encode(n->sid_hash, HASH_SIZE)) == NULL)
		goto done;
	/* 2.4: no nonce, an events member, sub and sid. */
	c = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:{s:{}}}",
	    "iss", idp->issuer, "aud", a->client_id, "iat", (json_int_t)now,
	    "exp", (json_int_t)(now + BCL_TOKEN_TTL), "jti", jti, "sub", sub,
	    "sid", sid, "events", BCL_EVENT);
done:
	free(sid);
	wipe(&u, sizeof(u));
	return c;
}

char *
backchannel_token(struct idp *idp, const struct bcl_notice *n,
    const struct app *a, int64_t now)
{
	json_t *c = backchannel_claims(idp, n, a, now);
	char *payload, *jwt;

	if (c == NULL)
		return NULL;
	payload = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	if (payload == NULL)
		return NULL;
	jwt = keyring_sign_jwt(idp->keyring, (enum key_alg)a->id_token_alg,
	    "logout+jwt", payload, now);
	free(payload);
	if (jwt == NULL)
		log_err("cannot sign a logout token for %s", a->client_id);
	return jwt;
}

/* The answer's body is not needed: drop it. */
static size_t
backchannel_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

int
backchannel_post(const char *uri, const char *token, void *arg)
{
	CURL *h;
	char *enc = NULL, *body = NULL;
	long status = 0;
	int rc = -1, bad = 0;

	(void)arg;
	if ((h = curl_easy_init()) == NULL)
		return -1;
	if ((enc = curl_easy_escape(h, token, 0)) == NULL ||
	    (body = malloc(strlen(enc) + 14)) == NULL)
		goto done;
	strcpy(body, "logout_token=");
	strcat(body, enc);
	bad |= curl_easy_setopt(h, CURLOPT_URL, uri) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    BCL_CONNECT_TIMEOUT_MS) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, BCL_TIMEOUT_MS) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION,
	    backchannel_discard) != CURLE_OK;
	if (bad || curl_easy_perform(h) != CURLE_OK ||
	    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		goto done;
	/* 2.8: 200 means logged out; any 2xx is taken as received. */
	rc = status >= 200 && status < 300 ? 0 : -1;
done:
	curl_free(enc);
	free(body);
	curl_easy_cleanup(h);
	return rc;
}

/* ---- one pass */

struct due {
	struct bcl_notice n[BCL_BATCH];
	size_t count;
};

static int
backchannel_collect(const struct bcl_notice *n, void *arg)
{
	struct due *d = arg;

	d->n[d->count++] = *n;
	return d->count == BCL_BATCH;
}

static void
backchannel_audit(struct idp *idp, struct store_txn *txn,
    const struct bcl_notice *n, const char *outcome, const char *detail)
{
	struct audit_event ev = { "-", "logout.backchannel", outcome,
		n->user_id, n->client_id, "", "", detail };

	if (audit_append(&idp->audit, txn, &ev) == -1)
		log_err("cannot audit a back-channel logout");
}

/* After an attempt (ok: delivered; app NULL: nowhere to deliver). */
static int
backchannel_settle(struct idp *idp, const struct bcl_notice *n, int ok,
    int gone, int64_t now)
{
	struct store_txn *txn;
	struct bcl_notice next = *n;
	int rc;

	if (store_begin(idp->store, 1, &txn) != STORE_OK)
		return -1;
	rc = store_bcl_del(txn, n);
	if (rc == STORE_OK && ok)
		backchannel_audit(idp, txn, n, "ok", "delivered");
	else if (rc == STORE_OK && gone)
		backchannel_audit(idp, txn, n, "refused", "app has no "
		    "back-channel logout URI");
	else if (rc == STORE_OK) {
		next.attempts++;
		next.due = now + backchannel_delay(next.attempts);
		if (next.due - n->created > BCL_GIVE_UP) {
			log_warn("back-channel logout to %s dropped after %d "
			    "attempts", n->client_id, next.attempts);
			backchannel_audit(idp, txn, n, "fail", "undelivered "
			    "for a day: dropped");
		} else
			rc = store_bcl_put(txn, &next);
	}
	if (rc == STORE_NOTFOUND) {	/* settled elsewhere meanwhile */
		store_abort(txn);
		return 0;
	}
	if (rc != STORE_OK) {
		store_abort(txn);
		return -1;
	}
	return store_commit(txn) == STORE_OK ? 0 : -1;
}

static int
backchannel_one(struct idp *idp, const struct bcl_notice *n, int64_t now,
    backchannel_send_fn send, void *arg)
{
	struct store_txn *txn;
	struct app a;
	char *token = NULL;
	int rc, ok = 0;

	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return -1;
	rc = store_app_get(txn, n->client_id, &a);
	store_abort(txn);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return -1;
	if (rc == STORE_NOTFOUND || a.backchannel_logout_uri[0] == '\0')
		return backchannel_settle(idp, n, 0, 1, now);
	if ((token = backchannel_token(idp, n, &a, now)) != NULL)
		ok = send(a.backchannel_logout_uri, token, arg) == 0;
	free(token);
	if (!ok)
		log_info("back-channel logout to %s failed (attempt %d)",
		    n->client_id, n->attempts + 1);
	rc = backchannel_settle(idp, n, ok, 0, now);
	return rc == 0 && ok ? 1 : rc;
}

int
backchannel_run(struct idp *idp, int64_t now, backchannel_send_fn send,
    void *arg, size_t *sent)
{
	struct store_txn *txn;
	struct due *d;
	size_t i;
	int rc;

	if (sent != NULL)
		*sent = 0;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	if ((rc = store_begin(idp->store, 0, &txn)) == STORE_OK) {
		rc = store_bcl_list_due(txn, now, backchannel_collect, d);
		store_abort(txn);
	}
	for (i = 0; rc == STORE_OK && i < d->count; i++) {
		int r = backchannel_one(idp, &d->n[i], now, send, arg);

		if (r == -1)
			rc = STORE_ERROR;
		else if (r == 1 && sent != NULL)
			(*sent)++;
	}
	free(d);
	return rc == STORE_OK ? 0 : -1;
}

/* ---- the thread */

static void *
backchannel_main(void *arg)
{
	struct backchannel *b = arg;
	struct timespec ts;

	pthread_mutex_lock(&b->lock);
	while (!b->stop) {
		pthread_mutex_unlock(&b->lock);
		if (backchannel_run(b->idp, clock_now(), backchannel_post, NULL,
		    NULL) == -1)
			log_err("back-channel logout: cannot read the outbox");
		pthread_mutex_lock(&b->lock);
		if (b->stop || b->woken) {
			b->woken = 0;
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)BCL_POLL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		(void)pthread_cond_timedwait(&b->cond, &b->lock, &ts);
		b->woken = 0;
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

struct backchannel *
backchannel_start(struct idp *idp)
{
	struct backchannel *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->idp = idp;
	if (pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b);
		return NULL;
	}
	if (pthread_cond_init(&b->cond, NULL) != 0)
		goto fail;
	if (pthread_create(&b->thread, NULL, backchannel_main, b) != 0) {
		pthread_cond_destroy(&b->cond);
		goto fail;
	}
	return b;
fail:
	log_err("cannot start the back-channel logout sender");
	pthread_mutex_destroy(&b->lock);
	free(b);
	return NULL;
}

void
backchannel_wake(struct backchannel *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->woken = 1;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

void
backchannel_stop(struct backchannel *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = 1;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	/* A send in progress ends within BCL_TIMEOUT_MS. */
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b);
}
