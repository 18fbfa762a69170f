/*
 * token.c - the token endpoint (RFC 6749 3.2, 4.1.3; OpenID Connect Core
 * 3.1.3): client authentication, then the authorization_code grant; the
 * refresh_token and client_credentials grants live in grant_refresh.c and
 * grant_client.c.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oidc.h"
#include "ops/metrics.h"
#include "refresh.h"
#include "registry/registry.h"
#include "token_int.h"

const char *
token_param(const struct http_request *req, struct http_response *resp)
{
	if (req->content_type == NULL || strncmp(req->content_type,
	    "application/x-www-form-urlencoded", 33) != 0) {
		token_error(resp, 400, "invalid_request",
		    "the body must be application/x-www-form-urlencoded");
		return NULL;
	}
	if (http_form_count(req, "token") != 1 ||
	    http_form_count(req, "token_type_hint") > 1) {
		token_error(resp, 400, "invalid_request",
		    "token is required once");
		return NULL;
	}
	return http_form(req, "token");
}

void
token_error(struct http_response *resp, int status, const char *error,
    const char *desc)
{
	json_t *j = json_pack("{s:s}", "error", error);
	char *s;

	if (j != NULL && desc != NULL)
		json_object_set_new(j, "error_description", json_string(desc));
	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	(void)http_json(resp, status, s != NULL ? s :
	    "{\"error\":\"server_error\"}");
	(void)http_header(resp, "Pragma", "no-cache");
	free(s);
	json_decref(j);
}

void
token_client_error(struct http_response *resp, int rc, int used_basic)
{
	if (rc == CLIENT_INVALID_REQUEST) {
		token_error(resp, 400, "invalid_request",
		    "client authentication is missing or malformed, or uses "
		    "more than one method");
		return;
	}
	if (rc == CLIENT_ERROR) {
		token_error(resp, 500, "server_error", NULL);
		return;
	}
	token_error(resp, 401, "invalid_client",
	    "client authentication failed");
	if (used_basic)
		(void)http_header(resp, "WWW-Authenticate",
		    "Basic realm=\"kleidi\"");
}

/* Loads the person the code was issued for and checks they may still use
 * the app; also fetches their roles there. */
static int
token_subject(struct idp *idp, const struct authcode *c, const struct app *a,
    struct user *u, json_t **roles)
{
	struct store_txn *txn;
	int ok = 0;

	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return -1;
	if (store_user_get(txn, c->user_id, u) == STORE_OK &&
	    registry_access(txn, u, a) == ACCESS_OK &&
	    (*roles = registry_roles(txn, u, a->client_id)) != NULL)
		ok = 1;
	store_abort(txn);
	return ok ? 0 : -1;
}

/* Whether the scope value p (n bytes) is granted to a for u. */
static int
token_scope_keep(const char *p, size_t n, const struct app *a,
    const struct user *u)
{
	if (n == strlen(SCOPE_ADMIN) && strncmp(p, SCOPE_ADMIN, n) == 0)
		return a->admin_client && u->admin_role != ADMIN_NONE;
	if (n == strlen(SCOPE_OFFLINE) && strncmp(p, SCOPE_OFFLINE, n) == 0)
		return a->refresh;
	return n > 0;
}

void
token_scope(const char *scope, const struct app *a, const struct user *u,
    char out[SCOPE_SIZE])
{
	const char *p = scope, *end;
	size_t n, len = 0;

	out[0] = '\0';
	while (*p != '\0') {
		end = p + strcspn(p, " ");
		n = (size_t)(end - p);
		if (token_scope_keep(p, n, a, u) && len + n + 1 < SCOPE_SIZE) {
			if (len > 0)
				out[len++] = ' ';
			memcpy(out + len, p, n);
			len += n;
			out[len] = '\0';
		}
		p = *end == ' ' ? end + 1 : end;
	}
}

void
token_send(struct idp *idp, struct http_response *resp,
    const struct token_out *o)
{
	struct token_grant g;
	struct token_issuer ti;
	json_t *j = NULL;
	char *at = NULL, *it = NULL, *s = NULL;
	int64_t now = clock_now();
	struct keyring *k = keyring_get(idp->keyring);
	struct settings *st = settings_get(idp->settings);

	/* One snapshot for both: the token's exp and expires_in agree. */
	idp_token_issuer(k, st, &ti);
	g = (struct token_grant){ o->user, o->app, o->scope, o->nonce,
		o->auth_time, o->amr, o->roles, o->claims_id, o->claims_ui,
		o->sid };
	if ((at = token_issue_access(&ti, &g, now)) == NULL ||
	    (it = token_issue_id(&ti, &g, at, now)) == NULL ||
	    (j = json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", at,
	    "token_type", "Bearer", "expires_in",
	    (json_int_t)ti.access_ttl, "id_token", it, "scope",
	    o->scope)) == NULL || (o->refresh != NULL &&
	    json_object_set_new(j, "refresh_token",
	    json_string(o->refresh)) != 0) ||
	    (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		token_error(resp, 500, "server_error", NULL);
		goto done;
	}
	(void)http_json(resp, 200, s);
	(void)http_header(resp, "Pragma", "no-cache");
	log_info("tokens issued: user %s client %s%s", o->user->id,
	    o->app->client_id, o->refresh != NULL ? " (with refresh)" : "");
done:
	if (s != NULL)
		wipe(s, strlen(s));
	free(s);
	json_decref(j);
	free(at);
	free(it);
	wipe(&ti, sizeof(ti));
	settings_put(st);
	keyring_put(k);
}

/* The tokens for a redeemed code, with a new refresh token family for an
 * app registered for them. */
static void
token_respond(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct app *a,
    const struct authcode *c)
{
	struct refresh_ctx rctx = { idp->store, &idp->audit, req->remote_addr,
		clock_now(), NULL };
	char scope[SCOPE_SIZE], rt[RAND_TOKEN_LEN], *sid = NULL;
	struct settings *st;
	struct token_out o;
	struct user u;
	json_t *roles = NULL;
	int64_t refresh_ttl;

	if (token_subject(idp, c, a, &u, &roles) == -1) {
		token_error(resp, 400, "invalid_grant",
		    "the account can no longer use this application");
		return;
	}
	token_scope(c->scope, a, &u, scope);
	o = (struct token_out){ a, &u, scope, c->nonce, c->auth_time, c->amr,
		roles, NULL, c->claims_id, c->claims_ui, NULL };
	/* Back-Channel Logout 1.0, 2.1: the session the code came from. */
	if ((sid = b64url_encode(c->session_hash, HASH_SIZE)) == NULL) {
		token_error(resp, 500, "server_error", NULL);
		goto done;
	}
	o.sid = sid;
	if (a->refresh) {
		st = settings_get(idp->settings);
		refresh_ttl = st->cfg.refresh_ttl;
		settings_put(st);
		if (refresh_issue(&rctx, c, refresh_ttl, rt) == -1) {
			token_error(resp, 500, "server_error", NULL);
			goto done;
		}
		o.refresh = rt;
	}
	token_send(idp, resp, &o);
done:
	free(sid);
	wipe(rt, sizeof(rt));
	wipe(&u, sizeof(u));
	json_decref(roles);
}

static void
token_code_grant(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct app *a)
{
	struct authcode c;
	const char *why;
	int rc;

	if (http_form_count(req, "code") > 1 ||
	    http_form_count(req, "redirect_uri") > 1 ||
	    http_form_count(req, "code_verifier") > 1) {
		token_error(resp, 400, "invalid_request",
		    "a parameter is repeated");
		return;
	}
	if (http_form(req, "code") == NULL) {
		token_error(resp, 400, "invalid_request", "code is required");
		return;
	}
	rc = code_redeem(idp, http_form(req, "code"), a->client_id,
	    http_form(req, "redirect_uri"), http_form(req, "code_verifier"),
	    &c, &why);
	if (rc == CODE_ERROR) {
		token_error(resp, 500, "server_error", NULL);
		return;
	}
	if (rc != CODE_OK) {
		log_info("code refused for client %s: %s", a->client_id, why);
		token_error(resp, 400, "invalid_grant", why);
		return;
	}
	token_respond(idp, req, resp, a, &c);
	wipe(&c, sizeof(c));
}

http_result
oidc_token(struct http_request *req, struct http_response *resp, void *arg)
{
	struct idp *idp = arg;
	const char *gt;
	struct app a;
	int rc, basic;

	if (req->content_type == NULL || strncmp(req->content_type,
	    "application/x-www-form-urlencoded", 33) != 0) {
		token_error(resp, 400, "invalid_request",
		    "the body must be application/x-www-form-urlencoded");
		return HTTP_DONE;
	}
	/* The code and refresh grants write durably on every request: off
	 * the HTTP threads (http.h, Offload). client_credentials writes
	 * nothing and is not worth the hop. */
	gt = http_form(req, "grant_type");
	if (gt != NULL && strcmp(gt, "client_credentials") != 0 &&
	    http_offload(req))
		return HTTP_SUSPENDED;
	if ((rc = client_authenticate(idp, req, &a, &basic)) != CLIENT_OK) {
		token_client_error(resp, rc, basic);
		return HTTP_DONE;
	}
	if (gt == NULL || http_form_count(req, "grant_type") > 1)
		token_error(resp, 400, "invalid_request",
		    "grant_type is required once");
	else if (strcmp(gt, "authorization_code") == 0)
		token_code_grant(idp, req, resp, &a);
	else if (strcmp(gt, "refresh_token") == 0)
		grant_refresh(idp, req, resp, &a);
	else if (strcmp(gt, "client_credentials") == 0)
		grant_client(idp, req, resp, &a);
	else
		token_error(resp, 400, "unsupported_grant_type", NULL);
	if (resp->status == 200)
		metrics_token(gt);
	return HTTP_DONE;
}
