/*
 * userinfo.c - the UserInfo endpoint (OpenID Connect Core 5.3): a Bearer
 * access token in the Authorization header (RFC 6750 2.1) or in a POST
 * form body (2.2); never in the query string, which ends up in logs.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "oidc.h"
#include "pairwise.h"
#include "registry/registry.h"

#define ACCESS_TOKEN_MAX 8192

static void
userinfo_error(struct http_response *resp, int status, const char *error,
    const char *desc)
{
	struct buf h;

	buf_init(&h, 512);
	if (buf_printf(&h, "Bearer realm=\"kleidi\"%s%s%s%s%s", error ?
	    ", error=\"" : "", error ? error : "", error ? "\"" : "",
	    desc ? ", error_description=\"" : "", desc ? desc : "") == 0 &&
	    (desc == NULL || buf_puts(&h, "\"") == 0))
		(void)http_header(resp, "WWW-Authenticate", h.data);
	buf_free(&h);
	(void)http_json(resp, status, error != NULL ?
	    "{\"error\":\"invalid_token\"}" : "{\"error\":\"invalid_request\"}");
}

/* The token from the header or the form; NULL with *bad set when the
 * request is malformed (two places, wrong scheme). */
static const char *
userinfo_token(const struct http_request *req, int *bad)
{
	const char *form = http_form(req, "access_token");

	*bad = 0;
	if (req->authorization != NULL) {
		if (form != NULL || strncasecmp(req->authorization,
		    "Bearer ", 7) != 0) {
			*bad = 1;
			return NULL;
		}
		return req->authorization + 7;
	}
	if (form != NULL && http_form_count(req, "access_token") > 1) {
		*bad = 1;
		return NULL;
	}
	return form;
}

/* The client_id claim, read before verification only to know which
 * audience to verify the token for; the signature check follows. */
static char *
token_client_id(const char *token)
{
	const char *p = strchr(token, '.'), *q;
	unsigned char *raw;
	json_t *j;
	char *id = NULL;
	size_t n;

	if (p == NULL || (q = strchr(p + 1, '.')) == NULL)
		return NULL;
	if ((raw = b64url_decode(p + 1, (size_t)(q - p - 1), &n)) == NULL)
		return NULL;
	j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (json_is_string(json_object_get(j, "client_id")))
		id = strdup(json_string_value(json_object_get(j, "client_id")));
	json_decref(j);
	return id;
}

/* OpenID Connect Core 5.4: the claims of the scopes granted; 5.5: those
 * the request asked UserInfo for by name. 0 or -1. */
static int
userinfo_user_claims(json_t *j, const struct user *u, const kl_claims *c)
{
	if (kl_claims_has_scope(c, "profile") && token_user_claims(j, u,
	    "name given_name family_name") != 0)
		return -1;
	if (kl_claims_has_scope(c, "email") && token_user_claims(j, u,
	    "email email_verified") != 0)
		return -1;
	if (kl_claims_has_scope(c, "phone") && token_user_claims(j, u,
	    "phone_number phone_number_verified") != 0)
		return -1;
	return token_user_claims(j, u, kl_claims_string(c,
	    "userinfo_claims"));
}

static json_t *
userinfo_claims(struct idp *idp, const kl_claims *c, int *status)
{
	struct store_txn *txn;
	struct user u;
	json_t *j = NULL, *roles = NULL;
	const char *aud = kl_claims_client_id(c);
	char id[USER_ID_SIZE];
	int rc;

	*status = 401;
	memset(&u, 0, sizeof(u));
	if (store_begin(idp->store, 0, &txn) != STORE_OK) {
		*status = 500;
		return NULL;
	}
	/* A pairwise sub leads to the person through the store's mapping. */
	if ((rc = pairwise_resolve(txn, aud, kl_claims_sub(c), id)) ==
	    STORE_OK)
		rc = store_user_get(txn, id, &u);
	if (rc == STORE_ERROR)
		*status = 500;
	if (rc != STORE_OK || u.disabled)
		goto done;
	if ((roles = registry_roles(txn, &u, aud)) == NULL) {
		*status = 500;
		goto done;
	}
	j = json_pack("{s:s, s:s, s:O}", "sub", kl_claims_sub(c), "user_type",
	    u.type == USER_CITIZEN ? "citizen" : "employee", "roles", roles);
	if (j != NULL && u.type == USER_EMPLOYEE)
		json_object_set_new(j, "org", json_string(u.org));
	if (j != NULL && userinfo_user_claims(j, &u, c) != 0) {
		json_decref(j);
		j = NULL;
	}
	*status = j != NULL ? 200 : 500;
done:
	store_abort(txn);
	json_decref(roles);
	wipe(&u, sizeof(u));
	return j;
}

http_result
oidc_userinfo(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	const char *token;
	kl_claims *c = NULL;
	kl_error err;
	json_t *j = NULL;
	char *aud = NULL, *s = NULL;
	int bad, status;

	if ((token = userinfo_token(req, &bad)) == NULL) {
		userinfo_error(resp, bad ? 400 : 401, NULL, NULL);
		return HTTP_DONE;
	}
	if (strlen(token) > ACCESS_TOKEN_MAX ||
	    (aud = token_client_id(token)) == NULL ||
	    keyring_verify_access(idp->keyring, token, aud, &c, &err) !=
	    KL_OK) {
		userinfo_error(resp, 401, "invalid_token",
		    "the access token is not valid");
		goto done;
	}
	j = userinfo_claims(idp, c, &status);
	if (j != NULL && (s = json_dumps(j, JSON_COMPACT)) != NULL)
		(void)http_json(resp, 200, s);
	else if (status == 401)
		userinfo_error(resp, 401, "invalid_token",
		    "the account is no longer active");
	else
		(void)http_json(resp, 500, "{\"error\":\"server_error\"}");
done:
	free(s);
	free(aud);
	json_decref(j);
	kl_claims_free(c);
	return HTTP_DONE;
}
