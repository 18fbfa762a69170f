/* grant_client.c - grant_type=client_credentials (RFC 6749 4.4): a
 * confidential client's backend gets an access token for itself, carrying
 * the roles granted to the client (kleidi grant client). It is on the
 * service-to-service hot path, so it reads the store once and writes
 * nothing; no refresh token (RFC 6749 4.4.3). */
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"
#include "token_int.h"

static json_t *
grant_client_roles(struct idp *idp, const struct app *a)
{
	struct store_txn *txn;
	json_t *roles;

	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return NULL;
	roles = registry_client_roles(txn, a->client_id);
	store_abort(txn);
	return roles;
}

void
grant_client(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct app *a)
{
	const char *scope = http_form(req, "scope");
	json_t *roles = NULL;
	char *at = NULL;
	struct keyring *k = NULL;
	struct settings *st = NULL;
	struct token_issuer ti;
	struct buf body;

	if (a->public_client) {
		token_error(resp, 400, "unauthorized_client",
		    "client_credentials is for confidential clients");
		return;
	}
	/* No scope is defined for a client acting for itself: what it may do
	 * is its roles. Refused rather than ignored, so a client that
	 * expects a scope learns at once it will not get it. */
	if (http_form_count(req, "scope") > 1 ||
	    (scope != NULL && scope[strspn(scope, " ")] != '\0')) {
		token_error(resp, 400, "invalid_scope",
		    "client_credentials tokens carry roles, not scopes");
		return;
	}
	k = keyring_get(idp->keyring);
	st = settings_get(idp->settings);
	idp_token_issuer(k, st, &ti);
	buf_init(&body, 16 * 1024);
	/* The answer is printed, not built as a json_t and dumped: a JWS is
	 * base64url and dots, nothing to escape, and this is the
	 * service-to-service hot path (tests/bench). */
	if ((roles = grant_client_roles(idp, a)) == NULL ||
	    (at = token_issue_client(&ti, a, roles, clock_now())) == NULL ||
	    buf_printf(&body, "{\"access_token\":\"%s\","
	    "\"token_type\":\"Bearer\",\"expires_in\":%lld}", at,
	    (long long)ti.access_ttl) == -1) {
		token_error(resp, 500, "server_error", NULL);
		goto done;
	}
	(void)http_json(resp, 200, body.data);
	/* Debug, not info: one line per token at thousands a second would
	 * drown the log (a write(2) each); the reverse proxy's access log
	 * has every request. */
	log_debug("client token issued: client %s", a->client_id);
done:
	buf_free(&body);
	free(at);
	json_decref(roles);
	wipe(&ti, sizeof(ti));
	settings_put(st);
	keyring_put(k);
}
