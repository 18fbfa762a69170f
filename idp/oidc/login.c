/*
 * login.c - the sign-in page and its form. The form carries the flow
 * handle as its CSRF field; the flow is bound to the browser by the
 * browser cookie, so a form posted from elsewhere, or in another browser,
 * finds no flow. The password check runs on the worker pool while the
 * connection is suspended. Before it: the per-address bucket and the
 * account back-off, both of which treat unknown names like known ones.
 */
#include <stdlib.h>
#include <string.h>

#include "authn/lockout.h"
#include "authz.h"
#include "registry/registry.h"
#include "signin.h"

static void
login_page(struct idp *idp, struct http_response *resp,
    const struct flow *f, const char *handle, const char *app_name,
    const char *username, const char *error_key)
{
	struct ui_vars v = { .n = 0 };
	struct page_links links;
	char reg[RAND_TOKEN_LEN + 32];

	(void)ui_set(&v, "page_title", ui_text(idp->ui, f->lang,
	    "login.title"));
	if (register_link(idp, f, handle, reg, sizeof(reg)) == 0)
		(void)ui_set(&v, "register_url", reg);
	(void)ui_set(&v, "action", "/login");
	(void)ui_set(&v, "csrf", handle);
	(void)ui_set(&v, "app_name", app_name);
	(void)ui_set(&v, "username", username != NULL ? username : "");
	if (error_key != NULL)
		(void)ui_set(&v, "error", ui_text(idp->ui, f->lang,
		    error_key));
	flow_lang_links(f, &v, &links);
	page_render(idp, resp, 200, "login", f->lang, &v);
	page_links_free(&links);
}

/* The browser cookie: set on the first visit, bound to every flow. */
static int
login_browser(struct http_request *req, struct http_response *resp,
    unsigned char hash[HASH_SIZE])
{
	const char *b = http_cookie(req, COOKIE_BROWSER);
	char fresh[RAND_TOKEN_LEN];

	if (b == NULL || strlen(b) != RAND_TOKEN_LEN - 1) {
		if (rand_token(fresh) == -1 || http_set_cookie(resp, req,
		    COOKIE_BROWSER, fresh, HTTP_COOKIE_SESSION) == -1)
			return -1;
		b = fresh;
	}
	secret_hash(b, hash);
	return 0;
}

int
flow_start(struct idp *idp, struct http_request *req,
    struct http_response *resp, struct flow *f, char handle[RAND_TOKEN_LEN])
{
	struct store_txn *txn;
	struct settings *st;
	int64_t now = clock_now();

	if (login_browser(req, resp, f->browser_hash) == -1 ||
	    rand_token(handle) == -1)
		return -1;
	secret_hash(handle, f->hash);
	f->created = now;
	st = settings_get(idp->settings);
	f->expires = now + st->cfg.flow_ttl;
	settings_put(st);
	if (store_begin(idp->store, 1, &txn) != STORE_OK)
		return -1;
	if (store_flow_put(txn, f) != STORE_OK) {
		store_abort(txn);
		return -1;
	}
	return store_commit(txn) == STORE_OK ? 0 : -1;
}

void
login_start(struct idp *idp, struct http_request *req,
    struct http_response *resp, struct authz *az)
{
	char handle[RAND_TOKEN_LEN];

	if (flow_start(idp, req, resp, &az->flow, handle) == -1) {
		page_error(idp, req, resp, 500, "server", az->lang);
		return;
	}
	login_page(idp, resp, &az->flow, handle, az->app.client_id[0] ?
	    az->app.name : ui_text(idp->ui, az->lang, "account.title"),
	    az->login_hint, NULL);
}

static void
login_resume(void *arg)
{
	struct signin *s = arg;

	http_resume(s->req);
}

static const char *
app_name_of(struct idp *idp, const char *client_id, struct app *a)
{
	struct store_txn *txn;
	int rc = STORE_ERROR;

	if (client_id[0] == '\0')
		return ui_text(idp->ui, "en", "brand.name");
	if (store_begin(idp->store, 0, &txn) == STORE_OK) {
		rc = store_app_get(txn, client_id, a);
		store_abort(txn);
	}
	return rc == STORE_OK ? a->name : client_id;
}

static void
login_again(struct signin *s, struct http_response *resp, int status,
    const char *error_key)
{
	struct app a;

	login_page(s->idp, resp, &s->flow, s->handle, app_name_of(s->idp,
	    s->flow.client_id, &a), http_form(s->req, "username"), error_key);
	resp->status = status;
}

static http_result
login_first(struct signin *s, struct http_response *resp)
{
	struct idp *idp = s->idp;
	const char *user = http_form(s->req, "username");
	const char *pass = http_form(s->req, "password");
	const char *page;
	int rc;

	if ((page = signin_load_flow(s)) != NULL) {
		page_error(idp, s->req, resp, strcmp(page, "server") ? 400 :
		    500, page, NULL);
		return HTTP_DONE;
	}
	if (user == NULL || pass == NULL || *user == '\0' || *pass == '\0') {
		login_again(s, resp, 200, "login.error.required");
		return HTTP_DONE;
	}
	if (signin_throttled(s, resp, 0))
		return HTTP_DONE;
	if (lockout_wait(idp->store, user, clock_now()) != 0) {
		signin_audit(s, "signin.password", "refused", "locked");
		login_again(s, resp, 429, "login.error.locked");
		return HTTP_DONE;
	}
	s->phase = SIGNIN_PASSWORD;
	rc = authn_password_begin(&idp->authn, &s->at, user, pass,
	    login_resume, s);
	if (rc == AUTHN_OK)
		return HTTP_SUSPENDED;
	s->phase = SIGNIN_START;
	if (rc == AUTHN_BUSY) {
		page_error(idp, s->req, resp, 503, "busy", s->flow.lang);
		(void)http_header(resp, "Retry-After", "5");
	} else if (rc == AUTHN_BAD_CREDENTIALS)
		login_again(s, resp, 200, "login.error.invalid");
	else
		page_error(idp, s->req, resp, 500, "server", s->flow.lang);
	return HTTP_DONE;
}

/* The password verdict is in. */
static http_result
login_verdict(struct signin *s, struct http_response *resp)
{
	const char *user = http_form(s->req, "username");
	int rc;

	s->phase = SIGNIN_START;
	rc = authn_password_finish(&s->at, &s->user);
	if (rc == AUTHN_BAD_CREDENTIALS) {
		(void)lockout_fail(s->idp->store, user, clock_now(), NULL);
		signin_audit(s, "signin.password", "fail", user);
		login_again(s, resp, 200, "login.error.invalid");
		return HTTP_DONE;
	}
	if (rc == AUTHN_DISABLED) {
		signin_audit(s, "signin.password", "refused", "disabled");
		page_error(s->idp, s->req, resp, 403, "disabled",
		    s->flow.lang);
		return HTTP_DONE;
	}
	if (rc != AUTHN_OK || (s->flow.client_id[0] != '\0' &&
	    signin_load_people(s) == -1)) {
		page_error(s->idp, s->req, resp, 500, "server", s->flow.lang);
		return HTTP_DONE;
	}
	signin_audit(s, "signin.password", "ok", NULL);
	return signin_first_done(s, resp);
}

http_result
oidc_login(struct http_request *req, struct http_response *resp, void *arg)
{
	struct idp *idp = arg;
	struct signin *s = signin_get(idp, req);

	if (s == NULL) {
		page_error(idp, req, resp, 500, "server", NULL);
		return HTTP_DONE;
	}
	switch (s->phase) {
	case SIGNIN_PASSWORD:
		return login_verdict(s, resp);
	case SIGNIN_SMS:
		sms_done(s, resp);
		return HTTP_DONE;
	case SIGNIN_VERIFY_SMS:
		register_sms_done(s, resp);
		return HTTP_DONE;
	default:
		return login_first(s, resp);
	}
}
