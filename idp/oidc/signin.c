/*
 * signin.c - the steps every sign-in shares: its state, the flow it
 * belongs to, the policy for a second factor, the audit trail, and the
 * end (session, code, redirect).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authn/lockout.h"
#include "authz.h"
#include "ops/metrics.h"
#include "registry/registry.h"
#include "signin.h"

static void
signin_free(void *p)
{
	struct signin *s = p;

	wipe(s, sizeof(*s));
	free(s);
}

struct signin *
signin_get(struct idp *idp, struct http_request *req)
{
	struct signin *s = req->state;

	if (s != NULL)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->idp = idp;
	s->req = req;
	req->state = s;
	req->state_free = signin_free;
	return s;
}

const char *
signin_load_flow(struct signin *s)
{
	struct http_request *req = s->req;
	const char *handle = http_form(req, "csrf");
	const char *b = http_cookie(req, COOKIE_BROWSER);
	unsigned char h[HASH_SIZE], bh[HASH_SIZE];
	struct store_txn *txn;
	int rc;

	if (handle == NULL || strlen(handle) != RAND_TOKEN_LEN - 1 ||
	    http_form_count(req, "csrf") != 1)
		return "expired";
	str_copy(s->handle, handle, sizeof(s->handle));
	/* The key apart from the record it fills (which is zeroed first). */
	secret_hash(handle, h);
	if (store_begin(s->idp->store, 0, &txn) != STORE_OK)
		return "server";
	rc = store_flow_get(txn, h, &s->flow);
	store_abort(txn);
	if (rc == STORE_ERROR)
		return "server";
	if (rc != STORE_OK || s->flow.expires <= clock_now())
		return "expired";
	if (b == NULL)
		return "csrf";
	secret_hash(b, bh);
	if (!ct_equal(bh, s->flow.browser_hash, HASH_SIZE))
		return "csrf";
	return NULL;
}

int
signin_load_people(struct signin *s)
{
	struct store_txn *txn;
	int rc = STORE_OK;

	if (store_begin(s->idp->store, 0, &txn) != STORE_OK)
		return -1;
	if (s->flow.user_id[0] != '\0')
		rc = store_user_get(txn, s->flow.user_id, &s->user);
	if (rc == STORE_OK && s->flow.client_id[0] != '\0')
		rc = store_app_get(txn, s->flow.client_id, &s->app);
	store_abort(txn);
	return rc == STORE_OK ? 0 : -1;
}

void
signin_audit(struct signin *s, const char *action, const char *outcome,
    const char *detail)
{
	char actor[AUDIT_ACTOR_SIZE];
	struct audit_event ev;

	snprintf(actor, sizeof(actor), "user:%s", s->user.id[0] ?
	    s->user.id : "-");
	ev = (struct audit_event){ actor, action, outcome,
		s->user.id[0] ? s->user.username : NULL, s->flow.client_id,
		s->user.org[0] ? s->user.org : NULL, s->req->remote_addr,
		detail };
	if (audit_log(&s->idp->audit, s->idp->store, &ev) == -1)
		log_err("audit: cannot record %s %s", action, outcome);
	metrics_signin(action, outcome, detail, s->user.org);
}

int
signin_throttled(struct signin *s, struct http_response *resp, int otp)
{
	char secs[24];
	int64_t wait;

	wait = ratelimit_take(s->idp->rl, s->req->remote_addr,
	    clock_now_ms());
	if (wait == 0)
		return 0;
	snprintf(secs, sizeof(secs), "%lld", (long long)(wait + 999) / 1000);
	signin_audit(s, otp ? "signin.code" : "signin.password", "refused",
	    "too many attempts from this address");
	page_error(s->idp, s->req, resp, 429, "throttled", s->flow.lang);
	(void)http_header(resp, "Retry-After", secs);
	return 1;
}

int
signin_needs_2fa(const struct idp *idp, const struct user *u,
    const struct app *a, int asked)
{
	struct settings *st;
	unsigned factors;

	/* Citizens sign in with password and an SMS code, always. */
	if (u->type == USER_CITIZEN)
		return 1;
	/* The admin console acts on other people's accounts: its own,
	 * stricter policy, whatever employees need elsewhere. */
	st = settings_get(idp->settings);
	factors = st->cfg.employee_factors;
	if (a->admin_client && st->cfg.admin_factors > factors)
		factors = st->cfg.admin_factors;
	settings_put(st);
	return asked || a->require_2fa || factors >= 2;
}

/* For an app: the policy. For the account page itself: whatever second
 * factor the person has (none yet: the password lets them set one up). */
static int
signin_wants_2fa(struct signin *s)
{
	if (s->app.client_id[0] != '\0')
		return signin_needs_2fa(s->idp, &s->user, &s->app,
		    s->flow.want_2fa);
	return s->user.phone[0] != '\0' ||
	    totp_active(s->idp->store, s->user.id) != 0;
}

/* Stores the flow as it now stands (user known, factors so far). */
static int
signin_save_flow(struct signin *s)
{
	struct store_txn *txn;

	if (store_begin(s->idp->store, 1, &txn) != STORE_OK)
		return -1;
	if (store_flow_put(txn, &s->flow) != STORE_OK) {
		store_abort(txn);
		return -1;
	}
	return store_commit(txn) == STORE_OK ? 0 : -1;
}

http_result
signin_first_done(struct signin *s, struct http_response *resp)
{
	struct store_txn *txn;
	int access = ACCESS_ERROR;

	if (store_begin(s->idp->store, 0, &txn) == STORE_OK) {
		access = s->app.client_id[0] == '\0' ? (s->user.disabled ?
		    ACCESS_DISABLED : ACCESS_OK) : registry_access(txn,
		    &s->user, &s->app);
		store_abort(txn);
	}
	if (access != ACCESS_OK) {
		signin_audit(s, "signin.access", "refused",
		    access_page(access));
		page_error(s->idp, s->req, resp, access == ACCESS_ERROR ? 500 :
		    403, access_page(access), s->flow.lang);
		return HTTP_DONE;
	}
	str_copy(s->flow.user_id, s->user.id, sizeof(s->flow.user_id));
	s->flow.amr = AMR_PWD;
	s->flow.auth_time = clock_now();
	/* A citizen's account is usable once the phone is proved. */
	if (s->user.type == USER_CITIZEN && !s->user.phone_verified)
		return register_verify_begin(s, resp);
	if (!signin_wants_2fa(s)) {
		signin_finish(s, resp, AMR_PWD);
		return HTTP_DONE;
	}
	s->flow.want_2fa = 1;
	if (signin_save_flow(s) == -1) {
		page_error(s->idp, s->req, resp, 500, "server", s->flow.lang);
		return HTTP_DONE;
	}
	return otp_begin(s, resp);
}

/* Step-up raises the session in place: the person keeps one session. */
static int
signin_raise_session(struct signin *s, unsigned amr, struct session *out)
{
	struct store_txn *txn;
	int rc;

	if (store_begin(s->idp->store, 1, &txn) != STORE_OK)
		return -1;
	rc = store_session_get(txn, s->flow.session_hash, out);
	if (rc == STORE_OK && strcmp(out->user_id, s->user.id) == 0) {
		out->amr |= amr;
		out->auth_time = clock_now();
		rc = store_session_put(txn, out);
	} else if (rc == STORE_OK)
		rc = STORE_NOTFOUND;
	if (rc == STORE_OK)
		rc = store_flow_del(txn, s->flow.hash);
	if (rc != STORE_OK) {
		store_abort(txn);
		return -1;
	}
	return store_commit(txn) == STORE_OK ? 0 : -1;
}

static int
signin_new_session(struct signin *s, struct http_response *resp,
    unsigned amr, struct session *out)
{
	struct store_txn *txn;
	struct settings *st;
	char sid[RAND_TOKEN_LEN];
	const char *old;
	int64_t ttl;
	int rc;

	/* Spend the flow first: of two racing posts only one goes on. */
	if (store_begin(s->idp->store, 1, &txn) != STORE_OK)
		return -1;
	if (store_flow_del(txn, s->flow.hash) != STORE_OK) {
		store_abort(txn);
		return -1;
	}
	if (store_commit(txn) != STORE_OK)
		return -1;
	/* A fresh sign-in (prompt=login, max_age, another account) replaces
	 * the browser's session: one session per browser. */
	if ((old = http_cookie(s->req, COOKIE_SESSION)) != NULL &&
	    session_end(s->idp->store, old) == STORE_ERROR)
		return -1;
	st = settings_get(s->idp->settings);
	ttl = st->cfg.session_ttl;
	settings_put(st);
	rc = session_create(s->idp->store, s->user.id, amr,
	    s->flow.auth_time ? s->flow.auth_time : clock_now(), ttl, sid,
	    out);
	if (rc == STORE_OK)
		rc = http_set_cookie(resp, s->req, COOKIE_SESSION, sid,
		    HTTP_COOKIE_SESSION) == 0 ? STORE_OK : STORE_ERROR;
	wipe(sid, sizeof(sid));
	return rc == STORE_OK ? 0 : -1;
}

void
signin_finish(struct signin *s, struct http_response *resp, unsigned amr)
{
	struct session sess;
	int stepup = !ct_equal(s->flow.session_hash,
	    (const unsigned char[HASH_SIZE]){ 0 }, HASH_SIZE);
	int rc;

	if (stepup)
		rc = signin_raise_session(s, amr, &sess);
	else
		rc = signin_new_session(s, resp, s->flow.amr | amr, &sess);
	(void)lockout_clear(s->idp->store, s->user.username);
	if (rc == -1) {
		page_error(s->idp, s->req, resp, 400, "expired", s->flow.lang);
		return;
	}
	signin_audit(s, stepup ? "signin.stepup" : "signin.session", "ok",
	    amr_acr(sess.amr));
	if (s->flow.client_id[0] == '\0') {
		/* The account page signed in for itself. */
		(void)http_redirect(resp, "/account");
		return;
	}
	authz_complete(s->idp, s->req, resp, &s->flow, &sess, &s->user);
}
