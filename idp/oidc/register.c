/*
 * register.c - citizens register themselves (GET/POST /register) and
 * prove their mobile phone with an SMS code (POST /register/verify).
 * The form's csrf is a flow handle bound to the browser, as on the sign-in
 * page; a registration that starts from an app's sign-in page carries the
 * app's authorization request in its flow and goes back to it. argon2id
 * and the SMS gateway run on the pools while the connection is suspended.
 * A citizen whose phone is not verified is sent here by the sign-in too
 * (register_verify_begin): the code then also finishes that sign-in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authn/lockout.h"
#include "authz.h"
#include "registry/citizen.h"
#include "signin.h"
#include "util/pool.h"

/* Per-field errors: the citizen_field numbers, then the confirmation. */
#define F_CONFIRM (CITIZEN_F_PASSWORD + 1)
#define F_COUNT (F_CONFIRM + 1)

static const char *const form_fields[] = { "tax_id", "given_name",
	"family_name", "email", "phone" };
static const char *const error_vars[F_COUNT] = { NULL, "err_tax_id",
	"err_given_name", "err_family_name", "err_email", "err_phone",
	"err_password", "err_password_confirm" };

static const char *
form_value(const struct http_request *req, const char *name)
{
	const char *v = http_form(req, name);

	return v != NULL ? v : "";
}

/* The form again, with the values given (never the passwords) and a
 * message under each field that was refused. */
static void
register_page(struct signin *s, struct http_response *resp, int status,
    const char *const errs[F_COUNT])
{
	struct idp *idp = s->idp;
	const char *lang = s->flow.lang;
	struct ui_vars v = { .n = 0 };
	struct page_links links;
	size_t i;
	int any = 0;

	(void)ui_set(&v, "page_title", ui_text(idp->ui, lang,
	    "register.title"));
	(void)ui_set(&v, "action", "/register");
	(void)ui_set(&v, "csrf", s->handle);
	(void)ui_set(&v, "app_name", s->app.client_id[0] ? s->app.name : "");
	for (i = 0; i < sizeof(form_fields) / sizeof(form_fields[0]); i++)
		(void)ui_set(&v, form_fields[i], form_value(s->req,
		    form_fields[i]));
	for (i = 1; errs != NULL && i < F_COUNT; i++) {
		if (errs[i] == NULL)
			continue;
		(void)ui_set(&v, error_vars[i], ui_text(idp->ui, lang,
		    errs[i]));
		any = 1;
	}
	if (any)
		(void)ui_set(&v, "error", ui_text(idp->ui, lang,
		    "register.error.summary"));
	flow_lang_links(&s->flow, &v, &links);
	page_render(idp, resp, status, "register", lang, &v);
	page_links_free(&links);
}

/* "+306912345678" -> "•••• 678". */
static void
verify_page(struct signin *s, struct http_response *resp, int status,
    const char *error_key, const char *notice_key)
{
	struct idp *idp = s->idp;
	const char *lang = s->flow.lang, *p = s->user.phone;
	struct ui_vars v = { .n = 0 };
	struct page_links links;
	size_t n = strlen(p);
	char hint[256];

	snprintf(hint, sizeof(hint), "%s \u2022\u2022\u2022\u2022 %.3s",
	    ui_text(idp->ui, lang, "verify.hint"), n > 3 ? p + n - 3 : p);
	(void)ui_set(&v, "page_title", ui_text(idp->ui, lang, "verify.title"));
	(void)ui_set(&v, "action", "/register/verify");
	(void)ui_set(&v, "csrf", s->handle);
	(void)ui_set(&v, "app_name", s->app.client_id[0] ? s->app.name : "");
	(void)ui_set(&v, "phone_hint", hint);
	if (error_key != NULL)
		(void)ui_set(&v, "error", ui_text(idp->ui, lang, error_key));
	if (notice_key != NULL)
		(void)ui_set(&v, "notice", ui_text(idp->ui, lang, notice_key));
	flow_lang_links(&s->flow, &v, &links);
	page_render(idp, resp, status, "verify", lang, &v);
	page_links_free(&links);
}

/* The error page for a signin_load_flow() refusal. */
static http_result
register_refused(struct signin *s, struct http_response *resp,
    const char *page)
{
	page_error(s->idp, s->req, resp, strcmp(page, "server") ? 400 : 500,
	    page, s->flow.lang[0] ? s->flow.lang : NULL);
	return HTTP_DONE;
}

int
register_link(struct idp *idp, const struct flow *f, const char *handle,
    char *out, size_t size)
{
	struct store_txn *txn;
	struct app a;
	int rc = STORE_ERROR;

	if (f->client_id[0] == '\0')
		return -1;
	if (store_begin(idp->store, 0, &txn) == STORE_OK) {
		rc = store_app_get(txn, f->client_id, &a);
		store_abort(txn);
	}
	if (rc != STORE_OK || a.audience == AUD_EMPLOYEES)
		return -1;
	return (size_t)snprintf(out, size, "/register?csrf=%s", handle) <
	    size ? 0 : -1;
}

/* The sign-in flow the registration link came from (its handle in the
 * query), if it is this browser's and live: its authorization request is
 * carried over, so the person returns to the app afterwards. */
static int
register_origin(struct idp *idp, struct http_request *req, struct flow *f)
{
	const char *handle = http_query(req, "csrf");
	const char *b = http_cookie(req, COOKIE_BROWSER);
	unsigned char h[HASH_SIZE], bh[HASH_SIZE];
	struct store_txn *txn;
	struct flow from;
	int rc;

	memset(f, 0, sizeof(*f));
	if (handle == NULL)
		return 0;
	if (strlen(handle) != RAND_TOKEN_LEN - 1 || b == NULL ||
	    http_query_count(req, "csrf") != 1)
		return -1;
	secret_hash(handle, h);
	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return -1;
	rc = store_flow_get(txn, h, &from);
	store_abort(txn);
	secret_hash(b, bh);
	if (rc != STORE_OK || from.expires <= clock_now() ||
	    !ct_equal(bh, from.browser_hash, HASH_SIZE))
		return -1;
	str_copy(f->client_id, from.client_id, sizeof(f->client_id));
	str_copy(f->redirect_uri, from.redirect_uri, sizeof(f->redirect_uri));
	str_copy(f->state, from.state, sizeof(f->state));
	str_copy(f->nonce, from.nonce, sizeof(f->nonce));
	str_copy(f->code_challenge, from.code_challenge,
	    sizeof(f->code_challenge));
	str_copy(f->scope, from.scope, sizeof(f->scope));
	str_copy(f->lang, from.lang, sizeof(f->lang));
	f->want_2fa = from.want_2fa;
	return 0;
}

http_result
register_get(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	struct signin *s = signin_get(idp, req);

	if (s == NULL) {
		page_error(idp, req, resp, 500, "server", NULL);
		return HTTP_DONE;
	}
	if (register_origin(idp, req, &s->flow) == -1) {
		page_error(idp, req, resp, 400, "expired", NULL);
		return HTTP_DONE;
	}
	if (s->flow.lang[0] == '\0')
		str_copy(s->flow.lang, page_lang(idp, req, NULL),
		    sizeof(s->flow.lang));
	if (flow_start(idp, req, resp, &s->flow, s->handle) == -1 ||
	    signin_load_people(s) == -1) {
		page_error(idp, req, resp, 500, "server", s->flow.lang);
		return HTTP_DONE;
	}
	register_page(s, resp, 200, NULL);
	return HTTP_DONE;
}

/* The policy's rule, as the form's message. */
static const char *
password_error(const char *rule)
{
	if (strcmp(rule, "password.too_short") == 0)
		return "register.error.password_short";
	if (strcmp(rule, "password.too_long") == 0)
		return "register.error.password_long";
	if (strcmp(rule, "password.is_username") == 0)
		return "register.error.password_username";
	return "register.error.password_common";
}

/* Every field at once, so the person sees all that is wrong. The service
 * checks them again. Returns how many are refused. */
static int
register_check(const struct http_request *req, const char *errs[F_COUNT])
{
	const char *tax = form_value(req, "tax_id");
	const char *pw = form_value(req, "password"), *rule;
	const char *email = form_value(req, "email");
	int n = 0;

	memset(errs, 0, F_COUNT * sizeof(errs[0]));
	if (!valid_taxid(tax) && ++n)
		errs[CITIZEN_F_TAX_ID] = "register.error.tax_id";
	if (!valid_name(form_value(req, "given_name"), NAME_SIZE / 2) && ++n)
		errs[CITIZEN_F_GIVEN_NAME] = "register.error.given_name";
	if (!valid_name(form_value(req, "family_name"), NAME_SIZE / 2) && ++n)
		errs[CITIZEN_F_FAMILY_NAME] = "register.error.family_name";
	if (email[0] != '\0' && !valid_email(email) && ++n)
		errs[CITIZEN_F_EMAIL] = "register.error.email";
	if (!valid_phone(form_value(req, "phone")) && ++n)
		errs[CITIZEN_F_PHONE] = "register.error.phone";
	if ((rule = password_policy_check_user(pw, tax)) != NULL && ++n)
		errs[CITIZEN_F_PASSWORD] = password_error(rule);
	else if (strcmp(pw, form_value(req, "password_confirm")) != 0 && ++n)
		errs[F_CONFIRM] = "register.error.password_mismatch";
	return n;
}

/* 1 when the tax number has an account already, 0 if not, -1. */
static int
register_taken(struct idp *idp, const char *tax_id)
{
	struct store_txn *txn;
	struct user u;
	int rc;

	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return -1;
	rc = store_user_get_by_name(txn, tax_id, &u);
	store_abort(txn);
	wipe(&u, sizeof(u));
	return rc == STORE_OK ? 1 : rc == STORE_NOTFOUND ? 0 : -1;
}

/* On the password pool: argon2id, then the account in one transaction.
 * The form stays readable in req while the connection is suspended; the
 * result comes back in sms_rc / sms_err (free until a code is sent). */
static void
register_job(void *arg)
{
	struct signin *s = arg;
	struct http_request *req = s->req;
	struct registry_actor who = { &s->idp->audit, "user:-",
		req->remote_addr };
	struct citizen_spec spec = { form_value(req, "tax_id"),
		form_value(req, "given_name"), form_value(req, "family_name"),
		form_value(req, "email"), form_value(req, "phone"),
		form_value(req, "password"), 0 };
	struct registry_err err;

	s->sms_rc = registry_citizen_add(s->idp->store, &who,
	    &s->idp->authn.argon2, &spec, &s->user, &err);
	str_copy(s->sms_err, err.msg, sizeof(s->sms_err));
	http_resume(req);
}

static http_result
register_first(struct signin *s, struct http_response *resp)
{
	const char *page, *errs[F_COUNT];
	int taken;

	if ((page = signin_load_flow(s)) != NULL)
		return register_refused(s, resp, page);
	/* A flow registers one person; its user is set once it has. */
	if (s->flow.user_id[0] != '\0')
		return register_refused(s, resp, "expired");
	if (signin_load_people(s) == -1)
		return register_refused(s, resp, "server");
	if (signin_throttled(s, resp, 0))
		return HTTP_DONE;
	if (register_check(s->req, errs) > 0) {
		register_page(s, resp, 200, errs);
		return HTTP_DONE;
	}
	if ((taken = register_taken(s->idp, form_value(s->req, "tax_id"))) ==
	    -1)
		return register_refused(s, resp, "server");
	if (taken) {
		errs[CITIZEN_F_TAX_ID] = "register.error.taken";
		register_page(s, resp, 200, errs);
		return HTTP_DONE;
	}
	s->phase = SIGNIN_REGISTER;
	if (pool_submit(s->idp->pool, register_job, s) == 0)
		return HTTP_SUSPENDED;
	s->phase = SIGNIN_START;
	page_error(s->idp, s->req, resp, 503, "busy", s->flow.lang);
	(void)http_header(resp, "Retry-After", "5");
	return HTTP_DONE;
}

static int
register_save_flow(struct signin *s)
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

static http_result register_sms_send(struct signin *, struct http_response *);

/* The pool is done: the account exists (or why not); on to the phone. */
static http_result
register_created(struct signin *s, struct http_response *resp)
{
	const char *errs[F_COUNT] = { NULL };

	s->phase = SIGNIN_START;
	if (s->sms_rc == REG_EXISTS) {
		/* Registered in the meantime, by a racing post. */
		errs[CITIZEN_F_TAX_ID] = "register.error.taken";
		register_page(s, resp, 200, errs);
		return HTTP_DONE;
	}
	if (s->sms_rc != REG_OK) {
		log_warn("registration refused: %s", s->sms_err);
		return register_refused(s, resp, s->sms_rc == REG_INVALID ?
		    "invalid_request" : "server");
	}
	str_copy(s->flow.user_id, s->user.id, sizeof(s->flow.user_id));
	s->flow.amr = 0;	/* registering is not signing in */
	if (register_save_flow(s) == -1)
		return register_refused(s, resp, "server");
	return register_sms_send(s, resp);
}

http_result
register_post(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	struct signin *s = signin_get(idp, req);

	if (s == NULL) {
		page_error(idp, req, resp, 500, "server", NULL);
		return HTTP_DONE;
	}
	switch (s->phase) {
	case SIGNIN_REGISTER:
		return register_created(s, resp);
	case SIGNIN_VERIFY_SMS:
		register_sms_done(s, resp);
		return HTTP_DONE;
	default:
		return register_first(s, resp);
	}
}

/* ---- the phone check: a code prepared and counted like a sign-in's,
 * sent from the I/O pool. */

static void
register_sms_job(void *arg)
{
	struct signin *s = arg;

	s->sms_rc = sms_gateway_send(s->idp->sms_gw, s->phone, s->text,
	    s->sms_err, sizeof(s->sms_err));
	wipe(s->text, sizeof(s->text));
	http_resume(s->req);
}

static int
register_sms_prepare(struct signin *s)
{
	struct store_txn *txn;
	int64_t wait = 0;
	int rc;

	if (store_begin(s->idp->store, 1, &txn) != STORE_OK)
		return SMS_ERROR;
	rc = sms_code_prepare(&s->idp->sms, txn, &s->flow, &s->user,
	    s->req->remote_addr, clock_now(), s->text, &wait);
	if (rc == SMS_OK && store_flow_put(txn, &s->flow) != STORE_OK)
		rc = SMS_ERROR;
	if (rc != SMS_OK) {
		store_abort(txn);
		return rc;
	}
	return store_commit(txn) == STORE_OK ? SMS_OK : SMS_ERROR;
}

static http_result
register_sms_send(struct signin *s, struct http_response *resp)
{
	int rc = register_sms_prepare(s);

	if (rc != SMS_OK) {
		wipe(s->text, sizeof(s->text));
		signin_audit(s, "citizen.sms_send", "refused",
		    rc == SMS_RESEND_WAIT ? "resend too soon" : rc ==
		    SMS_ERROR ? "error" : "cap reached");
		verify_page(s, resp, rc == SMS_ERROR ? 500 : 200,
		    rc == SMS_RESEND_WAIT ? NULL : rc == SMS_ERROR ?
		    "otp.error.sms_failed" : "otp.error.sms_capped",
		    rc == SMS_RESEND_WAIT ? "otp.notice.wait" : NULL);
		return HTTP_DONE;
	}
	str_copy(s->phone, s->user.phone, sizeof(s->phone));
	s->phase = SIGNIN_VERIFY_SMS;
	if (pool_submit(s->idp->io, register_sms_job, s) == 0)
		return HTTP_SUSPENDED;
	wipe(s->text, sizeof(s->text));
	s->phase = SIGNIN_START;
	signin_audit(s, "citizen.sms_send", "error", "sender busy");
	verify_page(s, resp, 503, "otp.error.sms_failed", NULL);
	(void)http_header(resp, "Retry-After", "10");
	return HTTP_DONE;
}

void
register_sms_done(struct signin *s, struct http_response *resp)
{
	s->phase = SIGNIN_START;
	if (s->sms_rc == 0) {
		signin_audit(s, "citizen.sms_send", "ok", NULL);
		verify_page(s, resp, 200, NULL, "otp.notice.sent");
		return;
	}
	log_warn("SMS to user %s failed: %s", s->user.id, s->sms_err);
	signin_audit(s, "citizen.sms_send", "fail", s->sms_err);
	verify_page(s, resp, 502, "otp.error.sms_failed", NULL);
}

http_result
register_verify_begin(struct signin *s, struct http_response *resp)
{
	signin_audit(s, "signin.access", "refused", "phone not verified");
	if (register_save_flow(s) == -1)
		return register_refused(s, resp, "server");
	return register_sms_send(s, resp);
}

/* The code against the flow's; the attempt goes back into the flow. */
static int
register_code_check(struct signin *s, const char *code)
{
	struct store_txn *txn;
	int rc = sms_code_check(&s->idp->sms, &s->flow, code, clock_now());

	if (store_begin(s->idp->store, 1, &txn) != STORE_OK)
		return SMS_ERROR;
	if (store_flow_put(txn, &s->flow) != STORE_OK) {
		store_abort(txn);
		return SMS_ERROR;
	}
	return store_commit(txn) == STORE_OK ? rc : SMS_ERROR;
}

/* Registration done: back to the app's sign-in (a fresh authorization
 * request), or to the account page when it did not start from an app. */
static void
register_continue(struct signin *s, struct http_response *resp)
{
	struct page_links links;
	struct ui_vars v = { .n = 0 };
	struct store_txn *txn = NULL;
	const char *url;

	if (store_begin(s->idp->store, 1, &txn) == STORE_OK &&
	    store_flow_del(txn, s->flow.hash) == STORE_OK)
		(void)store_commit(txn);
	else
		store_abort(txn);
	if (s->flow.client_id[0] == '\0') {
		(void)http_redirect(resp, "/account");
		return;
	}
	flow_lang_links(&s->flow, &v, &links);
	url = links.url[strcmp(s->flow.lang, "en") == 0 ? 1 : 0].data;
	if (url == NULL || url[0] == '\0' || http_redirect(resp, url) == -1)
		page_error(s->idp, s->req, resp, 500, "server", s->flow.lang);
	page_links_free(&links);
}

static http_result
register_verified(struct signin *s, struct http_response *resp)
{
	struct registry_actor who = { &s->idp->audit, NULL,
		s->req->remote_addr };
	struct registry_err err;
	char actor[AUDIT_ACTOR_SIZE];

	snprintf(actor, sizeof(actor), "user:%s", s->user.id);
	who.actor = actor;
	if (registry_citizen_phone_verified(s->idp->store, &who, s->user.id,
	    &err) != REG_OK) {
		log_err("phone check of %s not recorded: %s", s->user.id,
		    err.msg);
		return register_refused(s, resp, "server");
	}
	s->user.phone_verified = 1;
	/* After a password in this flow the code is the second factor. */
	if (s->flow.amr & AMR_PWD)
		signin_finish(s, resp, AMR_SMS);
	else
		register_continue(s, resp);
	return HTTP_DONE;
}

static http_result
register_code(struct signin *s, struct http_response *resp)
{
	const char *code = http_form(s->req, "otp");
	int rc;

	if (http_form(s->req, "resend") != NULL)
		return register_sms_send(s, resp);
	if (code == NULL || code[0] == '\0') {
		verify_page(s, resp, 200, "otp.error.required", NULL);
		return HTTP_DONE;
	}
	if ((rc = register_code_check(s, code)) == SMS_ERROR)
		return register_refused(s, resp, "server");
	if (rc == SMS_OK) {
		signin_audit(s, "citizen.phone_code", "ok", NULL);
		return register_verified(s, resp);
	}
	/* Wrong codes count towards the account's back-off. */
	(void)lockout_fail(s->idp->store, s->user.username, clock_now(), NULL);
	signin_audit(s, "citizen.phone_code", "fail", NULL);
	verify_page(s, resp, 200, rc == SMS_EXPIRED ? "otp.error.expired" :
	    "otp.error.invalid", NULL);
	return HTTP_DONE;
}

http_result
register_verify(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	struct signin *s = signin_get(idp, req);
	const char *page;

	if (s == NULL) {
		page_error(idp, req, resp, 500, "server", NULL);
		return HTTP_DONE;
	}
	if (s->phase == SIGNIN_VERIFY_SMS) {
		register_sms_done(s, resp);
		return HTTP_DONE;
	}
	if ((page = signin_load_flow(s)) != NULL)
		return register_refused(s, resp, page);
	if (s->flow.user_id[0] == '\0' || signin_load_people(s) == -1 ||
	    s->user.type != USER_CITIZEN || s->user.phone_verified)
		return register_refused(s, resp, "expired");
	if (signin_throttled(s, resp, 1))
		return HTTP_DONE;
	if (lockout_wait(idp->store, s->user.username, clock_now()) != 0) {
		signin_audit(s, "citizen.phone_code", "refused", "locked");
		verify_page(s, resp, 429, "login.error.locked", NULL);
		return HTTP_DONE;
	}
	return register_code(s, resp);
}
