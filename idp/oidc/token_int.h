/*
 * token_int.h - what the token endpoint's grants share (token.c,
 * grant_refresh.c, grant_client.c) and the error answers that the
 * revocation and introspection endpoints give the same way.
 */
#ifndef KLEIDI_TOKEN_INT_H
#define KLEIDI_TOKEN_INT_H

#include "oidc.h"

/* OpenID Connect Core 11. Honoured only for an app registered for refresh
 * tokens (app refresh): such an app gets a refresh token at every
 * authorization_code grant anyway, so the scope only shows in the granted
 * scope; any other app simply does not get it (RFC 6749 3.3). */
#define SCOPE_OFFLINE "offline_access"

/* An OAuth error response (RFC 6749 5.2), no-store. */
void token_error(struct http_response *resp, int status, const char *error,
    const char *desc);
/* The answer to a failed client_authenticate (rc a client_rc): 400
 * invalid_request, 401 invalid_client (with WWW-Authenticate: Basic when
 * the client used it), or 500. */
void token_client_error(struct http_response *resp, int rc, int used_basic);
/* The one `token` parameter of a form POST (RFC 7009 2.1, RFC 7662 2.1),
 * or NULL after answering 400. */
const char *token_param(const struct http_request *req,
    struct http_response *resp);

/* The scope granted to a for u from a scope asked for: kleidi:admin only
 * for a person who holds an admin role now (the role may have gone since
 * the sign-in began) and only for an admin client; offline_access only for
 * an app registered for refresh tokens. */
void token_scope(const char *scope, const struct app *a,
    const struct user *u, char out[SCOPE_SIZE]);

/* What a grant for a person answers with. */
struct token_out {
	const struct app *app;
	const struct user *user;
	const char *scope;	/* granted */
	const char *nonce;	/* NULL: none (refresh, OIDC Core 12.2) */
	int64_t auth_time;
	unsigned amr;
	json_t *roles;		/* borrowed */
	const char *refresh;	/* NULL: no refresh token */
	/* The claims request's names (OpenID Connect Core 5.5); NULL:
	 * none. */
	const char *claims_id;
	const char *claims_ui;
	const char *sid;	/* the ID token's sid; NULL: none */
};
/* Signs the access and ID tokens and answers 200 (or 500). */
void token_send(struct idp *idp, struct http_response *resp,
    const struct token_out *o);

/* grant_type=refresh_token (RFC 6749 6), for the authenticated client a. */
void grant_refresh(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct app *a);
/* grant_type=client_credentials (RFC 6749 4.4), confidential clients
 * only; reads the store once and writes nothing. */
void grant_client(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct app *a);

#endif
