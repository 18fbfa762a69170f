/* authz.c - the end of an authorization request: a code or an error sent
 * back to the client, or a page telling the person why not. */
#include <string.h>

#include "authz.h"
#include "pairwise.h"
#include "registry/registry.h"

int
authz_fail(struct authz_error *e, const char *code, const char *desc)
{
	e->code = code;
	e->description = desc;
	return -1;
}

/* Appends name=value (URL-encoded) to a redirect URI being built. */
static int
redirect_param(struct buf *b, const char *name, const char *value)
{
	if (value == NULL)
		return 0;
	if (buf_puts(b, strchr(b->data, '?') != NULL ? "&" : "?") == -1 ||
	    buf_puts(b, name) == -1 || buf_puts(b, "=") == -1)
		return -1;
	return buf_put_urlenc(b, value);
}

static void
authz_redirect(struct idp *idp, struct http_response *resp,
    const char *redirect_uri, const char *const *params)
{
	struct buf b;
	int rc = 0;

	buf_init(&b, 4 * URI_SIZE);
	rc = buf_puts(&b, redirect_uri);
	for (; rc == 0 && params[0] != NULL; params += 2)
		rc = redirect_param(&b, params[0], params[1]);
	if (rc == 0)
		rc = redirect_param(&b, "iss", idp->issuer);
	if (rc == 0)
		(void)http_redirect(resp, b.data);
	else {
		resp->status = 500;
		(void)buf_puts(&resp->body, "Internal error\n");
	}
	buf_free(&b);
}

void
authz_redirect_error(struct idp *idp, struct http_response *resp,
    const struct authz *az, const struct authz_error *e)
{
	/* A NULL value (no description, no state) is left out. */
	const char *params[] = { "error", e->code, "error_description",
		e->description, "state", az->state, NULL, NULL };

	log_info("authorize error %s for client %s", e->code, az->client_id);
	authz_redirect(idp, resp, az->redirect_uri, params);
}

/* acr_values is a space-separated list in order of preference; any
 * request for substantial means two factors. */
static int
acr_asks_substantial(const char *acr_values)
{
	const char *p = acr_values;
	size_t n = strlen(ACR_SUBSTANTIAL);

	while (p != NULL && (p = strstr(p, ACR_SUBSTANTIAL)) != NULL) {
		if ((p == acr_values || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

void
authz_to_flow(const struct authz *az, struct flow *f)
{
	memset(f, 0, sizeof(*f));
	str_copy(f->client_id, az->client_id, sizeof(f->client_id));
	str_copy(f->redirect_uri, az->redirect_uri, sizeof(f->redirect_uri));
	str_copy(f->state, az->state ? az->state : "", sizeof(f->state));
	str_copy(f->nonce, az->nonce ? az->nonce : "", sizeof(f->nonce));
	str_copy(f->code_challenge, az->challenge ? az->challenge : "",
	    sizeof(f->code_challenge));
	str_copy(f->scope, az->scope_granted, sizeof(f->scope));
	str_copy(f->lang, az->lang, sizeof(f->lang));
	f->want_2fa = acr_asks_substantial(az->acr_values);
}

const char *
access_page(int access)
{
	switch (access) {
	case ACCESS_DISABLED: return "disabled";
	case ACCESS_NOT_SUBSCRIBED: return "not_subscribed";
	case ACCESS_AUDIENCE: return "audience";
	default: return "server";
	}
}

void
authz_complete(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct flow *f,
    const struct session *s, const struct user *u)
{
	struct store_txn *txn;
	struct app app;
	char code[RAND_TOKEN_LEN];
	int access = ACCESS_ERROR;

	if (store_begin(idp->store, 0, &txn) == STORE_OK) {
		if (store_app_get(txn, f->client_id, &app) == STORE_OK)
			access = registry_access(txn, u, &app);
		store_abort(txn);
	}
	if (access != ACCESS_OK) {
		log_info("sign-in refused: user %s client %s: %s", u->id,
		    f->client_id, access_page(access));
		page_error(idp, req, resp, access == ACCESS_ERROR ? 500 : 403,
		    access_page(access), f->lang);
		return;
	}
	/* Issue 5: what the app gets, agreed before any code for it. */
	if ((access = consent_needed(idp, f, u)) != 0) {
		if (access == 1)
			consent_start(idp, req, resp, f, s, u, &app);
		else
			page_error(idp, req, resp, 500, "server", f->lang);
		return;
	}
	if (pairwise_remember(idp, &app, u) == -1 ||
	    code_issue(idp, f, s, code) == -1) {
		page_error(idp, req, resp, 500, "server", f->lang);
		return;
	}
	log_info("code issued: user %s client %s from %s", u->id,
	    f->client_id, req->remote_addr);
	{
		const char *params[] = { "code", code, "state",
			f->state[0] != '\0' ? f->state : NULL, NULL, NULL };
		authz_redirect(idp, resp, f->redirect_uri, params);
	}
	wipe(code, sizeof(code));
}
