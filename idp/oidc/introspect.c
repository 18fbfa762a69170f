/*
 * introspect.c - token introspection (RFC 7662) at POST /introspect, for
 * confidential clients. A client learns about its own tokens only: an
 * access token is verified with the caller's client_id as its audience
 * and a refresh token must have been issued to the caller, so another
 * client's token - like a revoked, rotated, expired or unknown one -
 * answers {"active":false} and nothing more (RFC 7662 2.2). A person's
 * token is active only while the account exists and is enabled.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pairwise.h"
#include "refresh.h"
#include "token_int.h"

#define INTROSPECT_TOKEN_MAX 8192

/* The person behind a verified access token, if still enabled; 0 active,
 * 1 inactive, -1 store failure. A client's own token has no person. */
static int
introspect_person(struct idp *idp, const kl_claims *c, struct user *u)
{
	struct store_txn *txn;
	char id[USER_ID_SIZE];
	int rc;

	if (kl_claims_user_type(c) == NULL)
		return 0;
	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return -1;
	rc = pairwise_resolve(txn, kl_claims_client_id(c), kl_claims_sub(c),
	    id);
	if (rc == STORE_OK)
		rc = store_user_get(txn, id, u);
	store_abort(txn);
	if (rc == STORE_ERROR)
		return -1;
	return rc == STORE_OK && !u->disabled ? 0 : 1;
}

static json_t *
introspect_claims_roles(const kl_claims *c)
{
	json_t *a = json_array();
	size_t i, n = kl_claims_array_len(c, "roles");
	const char *r;

	for (i = 0; a != NULL && i < n; i++)
		if ((r = kl_claims_array_string(c, "roles", i)) != NULL)
			json_array_append_new(a, json_string(r));
	return a;
}

/* The answer for an access token issued to a; NULL for inactive, with
 * *err set on a failure to check. */
static json_t *
introspect_access(struct idp *idp, const struct app *a, const char *token,
    int *err)
{
	kl_claims *c = NULL;
	kl_error kerr;
	struct user u;
	json_t *j = NULL;
	int rc;

	memset(&u, 0, sizeof(u));
	rc = keyring_verify_access(idp->keyring, token, a->client_id, &c,
	    &kerr);
	if (rc != KL_OK) {
		*err = !kl_error_is_rejection(rc);
		return NULL;
	}
	if ((rc = introspect_person(idp, c, &u)) != 0) {
		*err = rc == -1;
		goto done;
	}
	j = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o}",
	    "active", 1, "token_type", "Bearer", "client_id", a->client_id,
	    "sub", kl_claims_sub(c), "aud", a->client_id, "iss",
	    kl_claims_iss(c), "exp", (json_int_t)kl_claims_exp(c), "iat",
	    (json_int_t)kl_claims_iat(c), "roles", introspect_claims_roles(c));
	if (j != NULL && kl_claims_scope(c) != NULL)
		json_object_set_new(j, "scope", json_string(kl_claims_scope(c)));
	if (j != NULL && kl_claims_org(c) != NULL)
		json_object_set_new(j, "org", json_string(kl_claims_org(c)));
	if (j != NULL && kl_claims_user_type(c) != NULL)
		json_object_set_new(j, "user_type",
		    json_string(kl_claims_user_type(c)));
	if (j != NULL && u.username[0] != '\0')
		json_object_set_new(j, "username", json_string(u.username));
	*err = j == NULL;
done:
	wipe(&u, sizeof(u));
	kl_claims_free(c);
	return j;
}

/* The answer for a refresh token issued to a; NULL for inactive. */
static json_t *
introspect_refresh(struct idp *idp, const struct app *a, const char *token,
    int *err)
{
	char sub[PAIRWISE_SUB_SIZE];
	struct refresh_token r;
	struct user u;
	json_t *j = NULL;
	int rc;

	rc = refresh_find(idp->store, token, a->client_id, clock_now(), &r,
	    &u);
	if (rc != STORE_OK) {
		*err = rc == STORE_ERROR;
		return NULL;
	}
	if (token_sub_for(&idp->tokens, &u, a, sub) == 0)
		j = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
		    "active", 1, "token_type", "refresh_token", "scope",
		    r.scope, "client_id", a->client_id, "username",
		    u.username, "sub", sub, "aud", a->client_id, "exp",
		    (json_int_t)r.expires, "iat", (json_int_t)r.created);
	if (j != NULL)
		json_object_set_new(j, "iss", json_string(idp->issuer));
	*err = j == NULL;
	wipe(&u, sizeof(u));
	wipe(&r, sizeof(r));
	return j;
}

http_result
oidc_introspect(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	const char *token;
	struct app a;
	json_t *j = NULL;
	char *s = NULL;
	int rc, basic, err = 0;

	if ((rc = client_authenticate(idp, req, &a, &basic)) == CLIENT_OK &&
	    a.public_client)
		rc = CLIENT_UNAUTHORIZED;	/* nothing to authenticate */
	if (rc != CLIENT_OK) {
		token_client_error(resp, rc, basic);
		return HTTP_DONE;
	}
	if ((token = token_param(req, resp)) == NULL)
		return HTTP_DONE;
	if (strlen(token) <= INTROSPECT_TOKEN_MAX)
		j = strchr(token, '.') != NULL ?
		    introspect_access(idp, &a, token, &err) :
		    introspect_refresh(idp, &a, token, &err);
	if (err) {
		token_error(resp, 503, "temporarily_unavailable", NULL);
		(void)http_header(resp, "Retry-After", "1");
	} else if (j != NULL && (s = json_dumps(j, JSON_COMPACT)) != NULL)
		(void)http_json(resp, 200, s);
	else
		(void)http_json(resp, 200, "{\"active\":false}");
	free(s);
	json_decref(j);
	return HTTP_DONE;
}
