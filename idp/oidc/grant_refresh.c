/* grant_refresh.c - grant_type=refresh_token (RFC 6749 6): the client
 * hands back its refresh token and gets a new one of the same family, a
 * new access token with roles fresh from the store, and an ID token
 * without nonce (OpenID Connect Core 12.2). The rules are refresh.c's. */
#include <string.h>

#include "refresh.h"
#include "token_int.h"

/* The answer to a refused rotation. */
static void
grant_refresh_refused(struct http_response *resp, int rc, const char *why)
{
	if (rc == REFRESH_ERROR)
		token_error(resp, 500, "server_error", NULL);
	else if (rc == REFRESH_SCOPE)
		token_error(resp, 400, "invalid_scope", why);
	else
		token_error(resp, 400, "invalid_grant", why);
}

void
grant_refresh(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct app *a)
{
	struct refresh_ctx ctx = { idp->store, &idp->audit, req->remote_addr,
		clock_now(), NULL };
	char rt[RAND_TOKEN_LEN], scope[SCOPE_SIZE];
	struct refresh_result res;
	struct token_out o;
	const char *why;
	int rc;

	if (http_form_count(req, "refresh_token") != 1 ||
	    http_form_count(req, "scope") > 1) {
		token_error(resp, 400, "invalid_request",
		    "refresh_token is required once; scope at most once");
		return;
	}
	ctx.scope = http_form(req, "scope");
	rc = refresh_rotate(&ctx, http_form(req, "refresh_token"), a, rt,
	    &res, &why);
	if (rc != REFRESH_OK) {
		log_info("refresh refused for client %s: %s", a->client_id,
		    why);
		grant_refresh_refused(resp, rc, why);
		return;
	}
	token_scope(ctx.scope != NULL ? ctx.scope : res.rec.scope, a,
	    &res.user, scope);
	o = (struct token_out){ a, &res.user, scope, NULL, res.rec.auth_time,
		res.rec.amr, res.roles, rt, NULL, NULL, NULL };
	token_send(idp, resp, &o);
	wipe(rt, sizeof(rt));
	json_decref(res.roles);
	wipe(&res, sizeof(res));
}
