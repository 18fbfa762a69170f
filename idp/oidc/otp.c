/*
 * otp.c - the second-factor page and its form (POST /login/otp): a TOTP
 * code, an SMS code (sent off the HTTP thread, with resend), or a recovery
 * code. Wrong codes count towards the account's back-off like wrong
 * passwords.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authn/lockout.h"
#include "signin.h"
#include "util/pool.h"

static int
method_is(const char *m, const char *want)
{
	return m != NULL && strcmp(m, want) == 0;
}

/* "+306912345678" -> "•••• 678": enough to recognise one's own phone. */
static void
phone_tail(const char *phone, char *out, size_t size)
{
	size_t n = strlen(phone);

	snprintf(out, size, "\u2022\u2022\u2022\u2022 %.3s", n > 3 ?
	    phone + n - 3 : phone);
}

void
otp_page(struct signin *s, struct http_response *resp, int status,
    const char *method, const char *error_key, const char *notice_key)
{
	struct idp *idp = s->idp;
	const char *lang = s->flow.lang;
	struct ui_vars v = { .n = 0 };
	struct page_links links;
	char hint[256], tail[32], resend_in[24];
	struct settings *st;
	int64_t wait;

	phone_tail(s->user.phone, tail, sizeof(tail));
	if (method_is(method, METHOD_SMS))
		snprintf(hint, sizeof(hint), "%s (%s)",
		    ui_text(idp->ui, lang, "otp.hint.sms"), tail);
	else
		str_copy(hint, ui_text(idp->ui, lang, method_is(method,
		    METHOD_RECOVERY) ? "otp.hint.recovery" : "otp.hint.totp"),
		    sizeof(hint));
	(void)ui_set(&v, "page_title", ui_text(idp->ui, lang, "otp.title"));
	(void)ui_set(&v, "action", "/login/otp");
	(void)ui_set(&v, "csrf", s->handle);
	(void)ui_set(&v, "method", method);
	(void)ui_set(&v, "method_hint", hint);
	(void)ui_set(&v, "app_name", s->app.name);
	(void)ui_set(&v, "numeric", method_is(method, METHOD_RECOVERY) ? "" :
	    "1");
	(void)ui_set(&v, "can_sms", !method_is(method, METHOD_SMS) &&
	    s->user.phone[0] ? "1" : "");
	(void)ui_set(&v, "can_resend", method_is(method, METHOD_SMS) ? "1" :
	    "");
	/* When a resend becomes possible, said in words: no script counts. */
	st = settings_get(idp->settings);
	wait = s->flow.sms_sent_at + st->cfg.sms.resend_after - clock_now();
	settings_put(st);
	if (method_is(method, METHOD_SMS) && s->flow.sms_sent_at > 0 &&
	    wait > 0) {
		snprintf(resend_in, sizeof(resend_in), "%lld", (long long)wait);
		(void)ui_set(&v, "resend_in", resend_in);
	}
	(void)ui_set(&v, "can_totp", !method_is(method, METHOD_TOTP) &&
	    totp_active(idp->store, s->user.id) == 1 ? "1" : "");
	(void)ui_set(&v, "can_recovery", !method_is(method,
	    METHOD_RECOVERY) && s->user.type == USER_EMPLOYEE ? "1" : "");
	if (error_key != NULL)
		(void)ui_set(&v, "error", ui_text(idp->ui, lang, error_key));
	if (notice_key != NULL)
		(void)ui_set(&v, "notice", ui_text(idp->ui, lang, notice_key));
	flow_lang_links(&s->flow, &v, &links);
	page_render(idp, resp, status, "otp", lang, &v);
	page_links_free(&links);
}

http_result
otp_begin(struct signin *s, struct http_response *resp)
{
	int totp = s->user.type == USER_EMPLOYEE ?
	    totp_active(s->idp->store, s->user.id) : 0;

	if (totp == -1) {
		page_error(s->idp, s->req, resp, 500, "server", s->flow.lang);
		return HTTP_DONE;
	}
	if (totp == 1) {
		otp_page(s, resp, 200, METHOD_TOTP, NULL, NULL);
		return HTTP_DONE;
	}
	if (s->user.phone[0] != '\0')
		return sms_begin(s, resp);
	signin_audit(s, "signin.factor", "refused", "no second factor");
	page_error(s->idp, s->req, resp, 403, "no_factor", s->flow.lang);
	return HTTP_DONE;
}

/* ---- SMS: the code is prepared and counted in a transaction, then the
 * gateway runs on the I/O pool while the connection is suspended. */

static void
sms_job(void *arg)
{
	struct signin *s = arg;

	s->sms_rc = sms_gateway_send(s->idp->sms_gw, s->phone, s->text,
	    s->sms_err, sizeof(s->sms_err));
	wipe(s->text, sizeof(s->text));
	http_resume(s->req);
}

static const char *
sms_refusal_key(int rc)
{
	switch (rc) {
	case SMS_RESEND_WAIT: return "otp.notice.wait";
	case SMS_CAPPED:
	case SMS_ORG_CAPPED: return "otp.error.sms_capped";
	default: return "otp.error.sms_failed";
	}
}

http_result
sms_begin(struct signin *s, struct http_response *resp)
{
	struct store_txn *txn;
	int64_t wait = 0;
	int rc = SMS_ERROR;

	if (store_begin(s->idp->store, 1, &txn) == STORE_OK) {
		rc = sms_code_prepare(&s->idp->sms, txn, &s->flow, &s->user,
		    s->req->remote_addr, clock_now(), s->text, &wait);
		if (rc == SMS_OK && store_flow_put(txn, &s->flow) != STORE_OK)
			rc = SMS_ERROR;
		if (rc == SMS_OK)
			rc = store_commit(txn) == STORE_OK ? SMS_OK : SMS_ERROR;
		else
			store_abort(txn);
	}
	if (rc != SMS_OK) {
		wipe(s->text, sizeof(s->text));
		signin_audit(s, "signin.sms_send", "refused",
		    rc == SMS_RESEND_WAIT ? "resend too soon" : rc ==
		    SMS_ERROR ? "error" : "cap reached");
		otp_page(s, resp, rc == SMS_ERROR ? 500 : 200, METHOD_SMS,
		    rc == SMS_RESEND_WAIT ? NULL : sms_refusal_key(rc),
		    rc == SMS_RESEND_WAIT ? sms_refusal_key(rc) : NULL);
		return HTTP_DONE;
	}
	str_copy(s->phone, s->user.phone, sizeof(s->phone));
	s->phase = SIGNIN_SMS;
	if (pool_submit(s->idp->io, sms_job, s) == -1) {
		wipe(s->text, sizeof(s->text));
		s->phase = SIGNIN_START;
		signin_audit(s, "signin.sms_send", "error", "sender busy");
		otp_page(s, resp, 503, METHOD_SMS, "otp.error.sms_failed",
		    NULL);
		(void)http_header(resp, "Retry-After", "10");
		return HTTP_DONE;
	}
	return HTTP_SUSPENDED;
}

void
sms_done(struct signin *s, struct http_response *resp)
{
	s->phase = SIGNIN_START;
	if (s->sms_rc == 0) {
		signin_audit(s, "signin.sms_send", "ok", NULL);
		otp_page(s, resp, 200, METHOD_SMS, NULL, "otp.notice.sent");
		return;
	}
	/* Never dropped silently: the person is told, the log keeps why. */
	log_warn("SMS to user %s failed: %s", s->user.id, s->sms_err);
	signin_audit(s, "signin.sms_send", "fail", s->sms_err);
	otp_page(s, resp, 502, METHOD_SMS, "otp.error.sms_failed", NULL);
}

/* ---- checking a code */

static int
otp_check_sms(struct signin *s, const char *code)
{
	struct store_txn *txn;
	int rc = sms_code_check(&s->idp->sms, &s->flow, code, clock_now());

	/* The attempt count (or the spent code) goes back into the flow. */
	if (store_begin(s->idp->store, 1, &txn) != STORE_OK)
		return SMS_ERROR;
	if (store_flow_put(txn, &s->flow) != STORE_OK) {
		store_abort(txn);
		return SMS_ERROR;
	}
	if (store_commit(txn) != STORE_OK)
		return SMS_ERROR;
	return rc;
}

/* AMR_* bit of a passed factor; 0 when the code is wrong; -1 on error.
 * *error_key says what to tell the person. */
static int
otp_check(struct signin *s, const char *method, const char *code,
    const char **error_key)
{
	int rc, left;

	*error_key = "otp.error.invalid";
	if (method_is(method, METHOD_TOTP)) {
		rc = totp_verify(&s->idp->factors, s->idp->store, s->user.id,
		    code, clock_now(), 0);
		return rc == TOTP_OK ? (int)AMR_OTP : rc == TOTP_ERROR ? -1 :
		    0;
	}
	if (method_is(method, METHOD_SMS)) {
		rc = otp_check_sms(s, code);
		if (rc == SMS_EXPIRED)
			*error_key = "otp.error.expired";
		return rc == SMS_OK ? (int)AMR_SMS : rc == SMS_ERROR ? -1 : 0;
	}
	if (method_is(method, METHOD_RECOVERY) &&
	    s->user.type == USER_EMPLOYEE) {
		rc = recovery_use(&s->idp->factors, s->idp->store, s->user.id,
		    code, &left);
		if (rc == RECOVERY_OK)
			signin_audit(s, "signin.recovery_code", "ok", NULL);
		/* A recovery code stands in for the authenticator (otp). */
		return rc == RECOVERY_OK ? (int)AMR_OTP : rc == RECOVERY_ERROR ?
		    -1 : 0;
	}
	return 0;
}

static void
otp_wrong(struct signin *s, struct http_response *resp, const char *method,
    const char *error_key)
{
	int64_t wait = 0;

	(void)lockout_fail(s->idp->store, s->user.username, clock_now(),
	    &wait);
	signin_audit(s, "signin.code", "fail", method);
	otp_page(s, resp, 200, method, error_key, NULL);
}

/* Switch of method or resend: no code is checked. */
static http_result
otp_switch(struct signin *s, struct http_response *resp, const char *to)
{
	if (method_is(to, METHOD_SMS) && s->user.phone[0] != '\0')
		return sms_begin(s, resp);
	if (method_is(to, METHOD_TOTP) &&
	    totp_active(s->idp->store, s->user.id) == 1)
		otp_page(s, resp, 200, METHOD_TOTP, NULL, NULL);
	else
		otp_page(s, resp, 200, METHOD_RECOVERY, NULL, NULL);
	return HTTP_DONE;
}

static http_result
otp_first(struct signin *s, struct http_response *resp)
{
	struct http_request *req = s->req;
	const char *page, *method = http_form(req, "method");
	const char *code = http_form(req, "otp"), *error_key;
	int amr;

	if ((page = signin_load_flow(s)) != NULL || !s->flow.want_2fa ||
	    s->flow.user_id[0] == '\0' || signin_load_people(s) == -1) {
		page_error(s->idp, req, resp, page != NULL && !strcmp(page,
		    "server") ? 500 : 400, page ? page : "expired",
		    s->flow.lang);
		return HTTP_DONE;
	}
	if (signin_throttled(s, resp, 1))
		return HTTP_DONE;
	if (lockout_wait(s->idp->store, s->user.username, clock_now()) != 0) {
		signin_audit(s, "signin.code", "refused", "locked");
		otp_page(s, resp, 429, method ? method : METHOD_TOTP,
		    "login.error.locked", NULL);
		return HTTP_DONE;
	}
	if (http_form(req, "switch") != NULL)
		return otp_switch(s, resp, http_form(req, "switch"));
	if (code == NULL || *code == '\0') {
		otp_page(s, resp, 200, method, "otp.error.required", NULL);
		return HTTP_DONE;
	}
	if ((amr = otp_check(s, method, code, &error_key)) == -1) {
		page_error(s->idp, req, resp, 500, "server", s->flow.lang);
		return HTTP_DONE;
	}
	if (amr == 0) {
		otp_wrong(s, resp, method, error_key);
		return HTTP_DONE;
	}
	signin_audit(s, "signin.code", "ok", method);
	signin_finish(s, resp, (unsigned)amr);
	return HTTP_DONE;
}

http_result
oidc_otp(struct http_request *req, struct http_response *resp, void *arg)
{
	struct idp *idp = arg;
	struct signin *s = signin_get(idp, req);

	if (s == NULL) {
		page_error(idp, req, resp, 500, "server", NULL);
		return HTTP_DONE;
	}
	if (s->phase == SIGNIN_SMS) {
		sms_done(s, resp);
		return HTTP_DONE;
	}
	return otp_first(s, resp);
}
