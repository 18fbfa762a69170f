/*
 * revocation.c - token revocation (RFC 7009) at POST /revoke. The client
 * authenticates as at the token endpoint. A refresh token of this client
 * ends its whole family (RFC 7009 2.1: the grant goes with it). Access
 * tokens are stateless JWTs with a short life (config access_ttl) and
 * there is no denylist: revoking one answers 200 and changes nothing,
 * which RFC 7009 2.2 permits. Unknown, malformed, expired or another
 * client's tokens also get 200 (RFC 7009 2.2): the answer tells nothing.
 * token_type_hint is only a hint (2.1): any value is accepted and the
 * token is recognised by its form.
 */
#include <string.h>

#include "refresh.h"
#include "token_int.h"

http_result
oidc_revocation(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	const char *token;
	struct app a;
	int rc, basic, ended = 0;

	if ((rc = client_authenticate(idp, req, &a, &basic)) != CLIENT_OK) {
		token_client_error(resp, rc, basic);
		return HTTP_DONE;
	}
	if ((token = token_param(req, resp)) == NULL)
		return HTTP_DONE;
	/* A JWT has dots; a refresh token never does. */
	if (strchr(token, '.') == NULL &&
	    refresh_revoke(idp->store, token, a.client_id, &ended) == -1) {
		token_error(resp, 503, "temporarily_unavailable", NULL);
		(void)http_header(resp, "Retry-After", "1");
		return HTTP_DONE;
	}
	if (ended)
		log_info("refresh family revoked by client %s", a.client_id);
	(void)http_json(resp, 200, "");
	resp->content_type = "text/plain; charset=utf-8";
	return HTTP_DONE;
}
