/*
 * account.c - the person's own account page: their authenticator app
 * (enrolled here, active only after a first valid code) and recovery codes.
 * Changing a second factor needs a session that used one, unless the
 * account has none yet (the first enrolment). Forms carry a token bound to
 * the session (HMAC of the session's hash), so no other site can post them.
 * Also the password change (both argon2id runs on the password pool while
 * the connection waits suspended), the person's sessions, and "sign out
 * everywhere".
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "authn/lockout.h"
#include "authn/revoke.h"
#include "authz.h"
#include "backchannel.h"
#include "signin.h"
#include "util/pool.h"

#define ACCOUNT_SESSIONS_SHOWN 5

struct account {
	struct session sess;
	struct user user;
	char csrf[RAND_TOKEN_LEN];
	const char *lang;
	const struct http_request *req;
};

/* The form token of this session. */
static int
account_csrf(const struct idp *idp, const struct session *s,
    char out[RAND_TOKEN_LEN])
{
	unsigned char mac[32];
	size_t n = sizeof(mac);
	char *enc;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, idp->csrf_key,
	    sizeof(idp->csrf_key), s->id_hash, HASH_SIZE, mac, sizeof(mac),
	    &n) == NULL || (enc = b64url_encode(mac, n)) == NULL)
		return -1;
	str_copy(out, enc, RAND_TOKEN_LEN);
	free(enc);
	return 0;
}

/* No session: sign in for the account page itself (a flow without a
 * client, which ends back here). */
static void
account_signin(struct idp *idp, struct http_request *req,
    struct http_response *resp, const char *lang)
{
	struct authz az;

	memset(&az, 0, sizeof(az));
	az.lang = lang;
	az.client_id = "";
	az.redirect_uri = "";
	authz_to_flow(&az, &az.flow);
	login_start(idp, req, resp, &az);
}

/* Loads the session; on failure answers (sign-in or back to /account)
 * and returns -1. Forms must carry the session's token. */
static int
account_load(struct idp *idp, struct http_request *req,
    struct http_response *resp, struct account *a, int form)
{
	const char *token = http_form(req, "csrf");

	a->lang = page_lang(idp, req, NULL);
	a->req = req;
	if (session_lookup(idp->store, http_cookie(req, COOKIE_SESSION),
	    &a->sess, &a->user) != STORE_OK) {
		if (form)
			(void)http_redirect(resp, "/account");
		else
			account_signin(idp, req, resp, a->lang);
		return -1;
	}
	if (account_csrf(idp, &a->sess, a->csrf) == -1) {
		page_error(idp, req, resp, 500, "server", a->lang);
		return -1;
	}
	if (form && (token == NULL || !ct_streq(token, a->csrf))) {
		page_error(idp, req, resp, 400, "csrf", a->lang);
		return -1;
	}
	return 0;
}

/* The person's live sessions, newest first as the store lists them. */
struct session_list {
	struct store_txn *txn;
	struct session s[ACCOUNT_SESSIONS_SHOWN];
	size_t n, more;
};

static int
session_list_one(const unsigned char hash[HASH_SIZE], void *arg)
{
	struct session_list *l = arg;
	struct session s;

	if (store_session_get(l->txn, hash, &s) != STORE_OK ||
	    s.expires <= clock_now())
		return 0;
	if (l->n < ACCOUNT_SESSIONS_SHOWN)
		l->s[l->n++] = s;
	else
		l->more++;
	return 0;
}

/* sN (when it began and with which factors), sN_here for this browser,
 * sessions_more: how many more are not listed. */
static void
account_sessions(struct idp *idp, const struct account *a,
    struct ui_vars *v, char text[][256], char *more, size_t moresz)
{
	static const char *const slot[] = { "s1", "s2", "s3", "s4", "s5" };
	static const char *const here[] = { "s1_here", "s2_here", "s3_here",
		"s4_here", "s5_here" };
	struct session_list l = { .n = 0 };
	struct tm tm;
	time_t t;
	size_t i;

	if (store_begin(idp->store, 0, &l.txn) != STORE_OK)
		return;
	(void)store_session_list_user(l.txn, a->user.id, session_list_one,
	    &l);
	store_abort(l.txn);
	for (i = 0; i < l.n; i++) {
		t = (time_t)l.s[i].auth_time;
		if (gmtime_r(&t, &tm) == NULL)
			continue;
		snprintf(text[i], 256, "%04d-%02d-%02d %02d:%02d UTC · %s",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, ui_text(idp->ui, a->lang, l.s[i].amr &
		    (AMR_OTP | AMR_SMS) ? "account.sessions.two" :
		    "account.sessions.one"));
		(void)ui_set(v, slot[i], text[i]);
		if (memcmp(l.s[i].id_hash, a->sess.id_hash, HASH_SIZE) == 0)
			(void)ui_set(v, here[i], "1");
	}
	if (l.more > 0) {
		snprintf(more, moresz, "%zu", l.more);
		(void)ui_set(v, "sessions_more", more);
	}
}

static void
account_page(struct idp *idp, struct http_response *resp, struct account *a,
    struct ui_vars *v, const char *error_key, const char *notice_key)
{
	char logout[RAND_TOKEN_LEN];

	(void)ui_set(v, "page_title", ui_text(idp->ui, a->lang,
	    "account.heading"));
	(void)ui_set(v, "csrf", a->csrf);
	if (logout_csrf(idp, &a->sess, logout) == 0)
		(void)ui_set(v, "logout_csrf", logout);
	if (error_key != NULL)
		(void)ui_set(v, "error", ui_text(idp->ui, a->lang, error_key));
	if (notice_key != NULL)
		(void)ui_set(v, "notice", ui_text(idp->ui, a->lang,
		    notice_key));
	page_render_links(idp, a->req, resp, 200, "account", a->lang, v);
	wipe(logout, sizeof(logout));
}

static void
account_overview_msg(struct idp *idp, struct http_response *resp,
    struct account *a, const char *error_key, const char *notice_key)
{
	struct ui_vars v = { .n = 0 };
	char sessions[ACCOUNT_SESSIONS_SHOWN][256], more[24];
	struct store_txn *txn;
	struct org org;

	/* The organisation by its name; its code when it cannot be read. */
	str_copy(org.name, a->user.org, sizeof(org.name));
	if (a->user.org[0] != '\0' && store_begin(idp->store, 0, &txn) ==
	    STORE_OK) {
		if (store_org_get(txn, a->user.org, &org) != STORE_OK)
			str_copy(org.name, a->user.org, sizeof(org.name));
		store_abort(txn);
	}
	(void)ui_set(&v, "overview", "1");
	(void)ui_set(&v, "name", a->user.name);
	(void)ui_set(&v, "username", a->user.username);
	(void)ui_set(&v, "org_name", org.name);
	(void)ui_set(&v, "totp_on", totp_active(idp->store, a->user.id) == 1 ?
	    "1" : "");
	account_sessions(idp, a, &v, sessions, more, sizeof(more));
	account_page(idp, resp, a, &v, error_key, notice_key);
}

static void
account_overview(struct idp *idp, struct http_response *resp,
    struct account *a, const char *error_key)
{
	account_overview_msg(idp, resp, a, error_key, NULL);
}

http_result
account_get(struct http_request *req, struct http_response *resp, void *arg)
{
	struct idp *idp = arg;
	struct account a;

	if (account_load(idp, req, resp, &a, 0) == 0)
		account_overview(idp, resp, &a, NULL);
	wipe(&a, sizeof(a));
	return HTTP_DONE;
}

/* Whether this session may change second factors. */
static int
account_may_change(struct idp *idp, const struct account *a)
{
	if (a->sess.amr & (AMR_OTP | AMR_SMS))
		return 1;
	/* First enrolment: nothing to protect yet. */
	return totp_active(idp->store, a->user.id) == 0 &&
	    a->user.phone[0] == '\0';
}

/* The QR code as an image the page can show without raw markup. */
static char *
account_qr(const char *uri)
{
	struct buf svg, out;
	unsigned char *b64 = NULL;
	char *res = NULL;

	buf_init(&svg, 256 * 1024);
	buf_init(&out, 512 * 1024);
	if (totp_qr_svg(uri, &svg) == -1 || svg.len > INT_MAX / 2 ||
	    (b64 = malloc(4 * ((svg.len + 2) / 3) + 1)) == NULL)
		goto done;
	(void)EVP_EncodeBlock(b64, (const unsigned char *)svg.data,
	    (int)svg.len);
	if (buf_puts(&out, "data:image/svg+xml;base64,") == 0 &&
	    buf_puts(&out, (const char *)b64) == 0)
		res = buf_steal(&out);
done:
	free(b64);
	buf_free(&svg);
	buf_free(&out);
	return res;
}

http_result
account_totp(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	struct ui_vars v = { .n = 0 };
	char secret[TOTP_SECRET_B32], uri[TOTP_URI_MAX], *qr = NULL;
	struct account a;

	if (account_load(idp, req, resp, &a, 1) == -1)
		goto done;
	if (!account_may_change(idp, &a)) {
		account_overview(idp, resp, &a, "account.totp.need_2fa");
		goto done;
	}
	if (totp_enrol(&idp->factors, idp->store, a.user.id, "Kleidi",
	    a.user.username, 0, secret, uri) == -1 ||
	    (qr = account_qr(uri)) == NULL) {
		page_error(idp, req, resp, 500, "server", a.lang);
		goto done;
	}
	(void)ui_set(&v, "enrol", "1");
	(void)ui_set(&v, "qr", qr);
	(void)ui_set(&v, "secret", secret);
	account_page(idp, resp, &a, &v, NULL, NULL);
done:
	wipe(secret, sizeof(secret));
	wipe(uri, sizeof(uri));
	free(qr);
	wipe(&a, sizeof(a));
	return HTTP_DONE;
}

static void
account_show_codes(struct idp *idp, struct http_response *resp,
    struct account *a, const char *notice_key)
{
	char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	struct ui_vars v = { .n = 0 };
	struct buf list;
	size_t i;

	if (recovery_generate(&idp->factors, idp->store, a->user.id, codes) ==
	    -1) {
		account_overview(idp, resp, a, NULL);
		resp->status = 500;
		return;
	}
	buf_init(&list, sizeof(codes) + RECOVERY_CODES);
	for (i = 0; i < RECOVERY_CODES; i++)
		if (buf_puts(&list, codes[i]) == -1 || buf_puts(&list, "\n")
		    == -1)
			break;
	(void)ui_set(&v, "codes", list.data);
	account_page(idp, resp, a, &v, NULL, notice_key);
	wipe(codes, sizeof(codes));
	buf_free(&list);		/* wipes */
}

http_result
account_totp_confirm(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	struct account a;
	int rc;

	if (account_load(idp, req, resp, &a, 1) == -1)
		goto done;
	if (!account_may_change(idp, &a)) {
		account_overview(idp, resp, &a, "account.totp.need_2fa");
		goto done;
	}
	rc = totp_verify(&idp->factors, idp->store, a.user.id,
	    http_form(req, "otp") ? http_form(req, "otp") : "", clock_now(),
	    1);
	if (rc != TOTP_OK) {
		account_overview(idp, resp, &a, "account.totp.wrong");
		goto done;
	}
	log_info("TOTP enrolled by user %s", a.user.id);
	account_show_codes(idp, resp, &a, "account.totp.done");
done:
	wipe(&a, sizeof(a));
	return HTTP_DONE;
}

http_result
account_recovery(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	struct account a;

	if (account_load(idp, req, resp, &a, 1) == 0) {
		if (account_may_change(idp, &a))
			account_show_codes(idp, resp, &a, NULL);
		else
			account_overview(idp, resp, &a,
			    "account.totp.need_2fa");
	}
	wipe(&a, sizeof(a));
	return HTTP_DONE;
}

/* ---- changing the password: parse and check on the HTTP thread, then
 * one pool job checks the current password and hashes the new one, then
 * the store is updated back on the HTTP thread. */

struct pw_change {
	struct idp *idp;
	struct http_request *req;
	struct account a;
	char current[PASSWORD_MAX + 1];
	char fresh[PASSWORD_MAX + 1];
	char phc[PHC_SIZE];
	int verdict;		/* password_verify of the current one */
	int hashed;		/* 0 when the new hash is in phc */
};

static void
pw_change_free(void *arg)
{
	struct pw_change *pc = arg;

	wipe(pc, sizeof(*pc));
	free(pc);
}

static void
pw_job(void *arg)
{
	struct pw_change *pc = arg;

	pc->verdict = pc->a.user.password[0] ? password_verify(
	    pc->a.user.password, pc->current) : 0;
	pc->hashed = pc->verdict == 1 ? password_hash(&pc->idp->authn.argon2,
	    pc->fresh, pc->phc, sizeof(pc->phc)) : -1;
	wipe(pc->current, sizeof(pc->current));
	wipe(pc->fresh, sizeof(pc->fresh));
	http_resume(pc->req);
}

/* The catalogue key of what is wrong with the form, or NULL. */
static const char *
pw_check(const struct account *a, const char *cur, const char *p1,
    const char *p2)
{
	const char *why;

	if (cur == NULL || p1 == NULL || p2 == NULL || *cur == '\0' ||
	    *p1 == '\0')
		return "account.password.error.required";
	if (strcmp(p1, p2) != 0)
		return "account.password.error.mismatch";
	if (strlen(cur) > PASSWORD_MAX)
		return "account.password.error.wrong";
	if ((why = password_policy_check_user(p1, a->user.username)) == NULL)
		return NULL;
	if (strcmp(why, "password.too_short") == 0)
		return "account.password.error.short";
	if (strcmp(why, "password.too_long") == 0)
		return "account.password.error.long";
	if (strcmp(why, "password.is_username") == 0)
		return "account.password.error.username";
	return "account.password.error.common";
}

static http_result
pw_start(struct idp *idp, struct http_request *req,
    struct http_response *resp)
{
	struct pw_change *pc;
	const char *err;

	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		page_error(idp, req, resp, 500, "server", NULL);
		return HTTP_DONE;
	}
	req->state = pc;
	req->state_free = pw_change_free;
	pc->idp = idp;
	pc->req = req;
	if (account_load(idp, req, resp, &pc->a, 1) == -1)
		return HTTP_DONE;
	err = pw_check(&pc->a, http_form(req, "current_password"),
	    http_form(req, "new_password"), http_form(req, "new_password2"));
	if (err == NULL && lockout_wait(idp->store, pc->a.user.username,
	    clock_now()) != 0)
		err = "login.error.locked";
	if (err != NULL) {
		account_overview(idp, resp, &pc->a, err);
		return HTTP_DONE;
	}
	str_copy(pc->current, http_form(req, "current_password"),
	    sizeof(pc->current));
	str_copy(pc->fresh, http_form(req, "new_password"),
	    sizeof(pc->fresh));
	if (pool_submit(idp->pool, pw_job, pc) == -1) {
		page_error(idp, req, resp, 503, "busy", pc->a.lang);
		(void)http_header(resp, "Retry-After", "5");
		return HTTP_DONE;
	}
	return HTTP_SUSPENDED;
}

/* The verdict is in: store the new hash with an audit entry. */
static void
pw_finish(struct pw_change *pc, struct http_response *resp)
{
	struct idp *idp = pc->idp;
	struct account *a = &pc->a;
	struct store_txn *txn;
	struct user u;
	char actor[AUDIT_ACTOR_SIZE];
	struct audit_event ev = { "", "account.password", "ok", a->user.id,
		"", a->user.org, pc->req->remote_addr, "" };

	if (pc->verdict != 1) {
		(void)lockout_fail(idp->store, a->user.username, clock_now(),
		    NULL);
		ev.outcome = "fail";
		snprintf(actor, sizeof(actor), "user:%s", a->user.id);
		ev.actor = actor;
		(void)audit_log(&idp->audit, idp->store, &ev);
		account_overview(idp, resp, a, "account.password.error.wrong");
		return;
	}
	snprintf(actor, sizeof(actor), "user:%s", a->user.id);
	ev.actor = actor;
	if (pc->hashed != 0 || store_begin(idp->store, 1, &txn) != STORE_OK) {
		page_error(idp, pc->req, resp, 500, "server", a->lang);
		return;
	}
	if (store_user_get(txn, a->user.id, &u) != STORE_OK ||
	    str_copy(u.password, pc->phc, sizeof(u.password)) >=
	    sizeof(u.password) || (u.updated = clock_now(), 0) ||
	    store_user_update(txn, &u) != STORE_OK ||
	    audit_append(&idp->audit, txn, &ev) == -1 ||
	    store_commit(txn) != STORE_OK) {
		store_abort(txn);
		page_error(idp, pc->req, resp, 500, "server", a->lang);
		wipe(&u, sizeof(u));
		return;
	}
	wipe(&u, sizeof(u));
	(void)lockout_clear(idp->store, a->user.username);
	log_info("password changed by user %s", a->user.id);
	account_overview_msg(idp, resp, a, NULL, "account.password.done");
}

http_result
account_password(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;

	if (req->state == NULL)
		return pw_start(idp, req, resp);
	pw_finish(req->state, resp);
	return HTTP_DONE;
}

/* ---- sign out everywhere: every session of the person, their refresh
 * tokens, and back-channel notices to the apps (access_end_user). */
static int
account_end_all(struct idp *idp, const struct account *a,
    const struct http_request *req)
{
	struct store_txn *txn;
	char actor[AUDIT_ACTOR_SIZE];
	struct audit_event ev = { actor, "signout.everywhere", "ok",
		a->user.id, "", a->user.org, req->remote_addr, "" };
	size_t n = 0;

	snprintf(actor, sizeof(actor), "user:%s", a->user.id);
	if (store_begin(idp->store, 1, &txn) != STORE_OK)
		return -1;
	if (access_end_user(txn, a->user.id, &n) != STORE_OK ||
	    audit_append(&idp->audit, txn, &ev) == -1) {
		store_abort(txn);
		return -1;
	}
	if (store_commit(txn) != STORE_OK)
		return -1;
	backchannel_wake(idp->bcl);
	log_info("signed out everywhere: user %s, %zu sessions", a->user.id,
	    n);
	return 0;
}

http_result
account_signout_all(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	struct ui_vars v = { .n = 0 };
	struct account a;

	if (account_load(idp, req, resp, &a, 1) == 0) {
		if (account_end_all(idp, &a, req) == -1)
			page_error(idp, req, resp, 500, "server", a.lang);
		else {
			(void)http_set_cookie(resp, req, COOKIE_SESSION, "",
			    0);
			(void)ui_set(&v, "page_title", ui_text(idp->ui,
			    a.lang, "logout.done.heading"));
			(void)ui_set(&v, "done", "1");
			(void)ui_set(&v, "everywhere", "1");
			page_render_links(idp, req, resp, 200, "logged_out",
			    a.lang, &v);
		}
	}
	wipe(&a, sizeof(a));
	return HTTP_DONE;
}
