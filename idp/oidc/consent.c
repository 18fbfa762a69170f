/*
 * consent.c - the consent page (issue 5; OpenID Connect Core 3.1.2.4):
 * before a code, the person sees what the app will receive and agrees or
 * refuses, in one form. Citizens are asked for each e-service the first
 * time, and again when it asks for more than they agreed to; employees'
 * apps are the employer's decision and ask only on prompt=consent. The
 * page's flow is bound to the browser like the sign-in's, and names the
 * session it was shown to, so a decision counts only in that session.
 */
#include <string.h>

#include "authz.h"
#include "signin.h"

int
consent_needed(struct idp *idp, const struct flow *f, const struct user *u)
{
	struct store_txn *txn;
	struct consent c;
	unsigned want;
	int rc;

	if (f->prompt_consent)
		return 1;
	if (u->type != USER_CITIZEN)
		return 0;
	want = claims_data(f->scope, f->claims_id, f->claims_ui);
	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return -1;
	rc = store_consent_get(txn, u->id, f->client_id, &c);
	store_abort(txn);
	if (rc == STORE_NOTFOUND)
		return 1;
	if (rc != STORE_OK)
		return -1;
	return (want & ~c.data) != 0;
}

static void
consent_page(struct idp *idp, struct http_response *resp,
    const struct flow *f, const char *handle, const struct user *u,
    const struct app *a)
{
	unsigned data = claims_data(f->scope, f->claims_id, f->claims_ui);
	struct ui_vars v = { .n = 0 };
	struct page_links links;

	(void)ui_set(&v, "page_title", ui_text(idp->ui, f->lang,
	    "consent.title"));
	(void)ui_set(&v, "action", "/consent");
	(void)ui_set(&v, "csrf", handle);
	(void)ui_set(&v, "app_name", a->name);
	(void)ui_set(&v, "user_name", u->name[0] ? u->name : u->username);
	if (data & CONSENT_NAME)
		(void)ui_set(&v, "item_name", "1");
	if (data & CONSENT_EMAIL)
		(void)ui_set(&v, "item_email", "1");
	if (data & CONSENT_PHONE)
		(void)ui_set(&v, "item_phone", "1");
	if (u->type == USER_EMPLOYEE)
		(void)ui_set(&v, "item_org", "1");
	flow_lang_links(f, &v, &links);
	page_render(idp, resp, 200, "consent", f->lang, &v);
	page_links_free(&links);
}

void
consent_start(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct flow *f,
    const struct session *s, const struct user *u, const struct app *a)
{
	struct flow nf = *f;
	char handle[RAND_TOKEN_LEN];

	str_copy(nf.user_id, u->id, sizeof(nf.user_id));
	memcpy(nf.session_hash, s->id_hash, HASH_SIZE);
	nf.auth_time = s->auth_time;
	nf.amr = s->amr;
	memset(nf.sms_hash, 0, sizeof(nf.sms_hash));
	nf.sms_sent_at = nf.sms_expires = 0;
	nf.sms_attempts = nf.sms_sends = 0;
	if (flow_start(idp, req, resp, &nf, handle) == -1) {
		page_error(idp, req, resp, 500, "server", f->lang);
		return;
	}
	log_info("consent asked: user %s client %s", u->id, f->client_id);
	consent_page(idp, resp, &nf, handle, u, a);
	wipe(handle, sizeof(handle));
}

/* The session the page was shown to must still be this browser's. */
static int
consent_session(struct signin *sg, struct session *s)
{
	struct user u;

	if (session_lookup(sg->idp->store, http_cookie(sg->req,
	    COOKIE_SESSION), s, &u) != STORE_OK)
		return -1;
	if (!ct_equal(s->id_hash, sg->flow.session_hash, HASH_SIZE) ||
	    strcmp(u.id, sg->flow.user_id) != 0)
		return -1;
	sg->user = u;
	return 0;
}

/* Spends the flow and, when allowed, records the consent, at once: of
 * two racing posts only one goes on. */
static int
consent_record(struct signin *sg, int allow)
{
	const struct flow *f = &sg->flow;
	struct store_txn *txn;
	struct consent c;
	int rc;

	memset(&c, 0, sizeof(c));
	str_copy(c.user_id, f->user_id, sizeof(c.user_id));
	str_copy(c.client_id, f->client_id, sizeof(c.client_id));
	c.created = clock_now();
	if (store_begin(sg->idp->store, 1, &txn) != STORE_OK)
		return -1;
	rc = store_flow_del(txn, f->hash);
	/* Agreeing again adds to what was agreed before. */
	if (rc == STORE_OK && allow &&
	    (rc = store_consent_get(txn, c.user_id, c.client_id, &c)) ==
	    STORE_NOTFOUND) {
		str_copy(c.user_id, f->user_id, sizeof(c.user_id));
		str_copy(c.client_id, f->client_id, sizeof(c.client_id));
		c.created = clock_now();
		rc = STORE_OK;
	}
	c.data |= claims_data(f->scope, f->claims_id, f->claims_ui);
	if (rc == STORE_OK && allow)
		rc = store_consent_put(txn, &c);
	if (rc != STORE_OK) {
		store_abort(txn);
		return -1;
	}
	return store_commit(txn) == STORE_OK ? 0 : -1;
}

/* The person refused: the app hears access_denied (RFC 6749 4.1.2.1). */
static void
consent_denied(struct signin *sg, struct http_response *resp)
{
	struct authz az;
	struct authz_error e;

	memset(&az, 0, sizeof(az));
	az.client_id = sg->flow.client_id;
	az.redirect_uri = sg->flow.redirect_uri;
	az.state = sg->flow.state[0] != '\0' ? sg->flow.state : NULL;
	authz_fail(&e, "access_denied", "the person did not agree");
	authz_redirect_error(sg->idp, resp, &az, &e);
}

http_result
oidc_consent(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	struct signin *sg = signin_get(idp, req);
	const char *page, *d = http_form(req, "decision");
	struct session s;
	int allow;

	if (sg == NULL) {
		page_error(idp, req, resp, 500, "server", NULL);
		return HTTP_DONE;
	}
	if ((page = signin_load_flow(sg)) != NULL) {
		page_error(idp, req, resp, strcmp(page, "server") ? 400 : 500,
		    page, NULL);
		return HTTP_DONE;
	}
	if (d == NULL || http_form_count(req, "decision") != 1 ||
	    (strcmp(d, "allow") != 0 && strcmp(d, "deny") != 0)) {
		page_error(idp, req, resp, 400, "invalid_request",
		    sg->flow.lang);
		return HTTP_DONE;
	}
	allow = strcmp(d, "allow") == 0;
	if (sg->flow.user_id[0] == '\0' || consent_session(sg, &s) == -1 ||
	    signin_load_people(sg) == -1 || consent_record(sg, allow) == -1) {
		page_error(idp, req, resp, 400, "expired", sg->flow.lang);
		return HTTP_DONE;
	}
	signin_audit(sg, "consent", allow ? "ok" : "denied",
	    sg->flow.scope);
	if (!allow) {
		consent_denied(sg, resp);
		return HTTP_DONE;
	}
	sg->flow.prompt_consent = 0;
	authz_complete(idp, req, resp, &sg->flow, &s, &sg->user);
	return HTTP_DONE;
}
