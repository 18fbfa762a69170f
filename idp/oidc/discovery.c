/* discovery.c - OpenID Provider metadata (OpenID Connect Discovery 1.0)
 * advertising exactly what is implemented, and the JWKS. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oidc.h"

static json_t *
strings(const char *const *v)
{
	json_t *a = json_array();

	for (; a != NULL && *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static char *
endpoint(const char *issuer, const char *path)
{
	struct buf b;

	buf_init(&b, URI_SIZE + 64);
	if (buf_puts(&b, issuer) == -1 || buf_puts(&b, path) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int
discovery_set_endpoint(json_t *d, const char *name, const char *issuer,
    const char *path)
{
	char *u = endpoint(issuer, path);
	int rc;

	if (u == NULL)
		return -1;
	rc = json_object_set_new(d, name, json_string(u));
	free(u);
	return rc;
}

/* RFC 7009 and RFC 7662 (revocation.c, introspect.c): the token
 * endpoint's client authentication; introspection has no "none", it is
 * for confidential clients only. */
static int
discovery_token_mgmt(json_t *d, const char *issuer)
{
	static const char *const ram[] = { "client_secret_basic",
		"client_secret_post", "none", NULL };
	static const char *const iam[] = { "client_secret_basic",
		"client_secret_post", NULL };

	if (discovery_set_endpoint(d, "revocation_endpoint", issuer,
	    "/revoke") != 0 ||
	    discovery_set_endpoint(d, "introspection_endpoint", issuer,
	    "/introspect") != 0 ||
	    json_object_set_new(d,
	    "revocation_endpoint_auth_methods_supported", strings(ram)) != 0 ||
	    json_object_set_new(d,
	    "introspection_endpoint_auth_methods_supported", strings(iam)) != 0)
		return -1;
	return 0;
}

char *
discovery_build(const char *issuer)
{
	static const char *const rt[] = { "code", NULL };
	static const char *const rm[] = { "query", NULL };
	static const char *const gt[] = { "authorization_code",
		"refresh_token", "client_credentials", NULL };
	static const char *const st[] = { "public", "pairwise", NULL };
	static const char *const alg[] = { "RS256", "ES256", NULL };
	static const char *const am[] = { "client_secret_basic",
		"client_secret_post", "none", NULL };
	static const char *const pk[] = { "S256", NULL };
	static const char *const sc[] = { "openid", "profile", "email",
		"phone", "offline_access", NULL };
	static const char *const cl[] = { "iss", "sub", "aud", "exp", "iat",
		"auth_time", "nonce", "acr", "amr", "azp", "at_hash", "sid", "name",
		"given_name", "family_name", "email", "email_verified",
		"phone_number", "phone_number_verified", "user_type", "org",
		"roles", NULL };
	static const char *const pr[] = { "none", "login", "consent",
		"select_account", NULL };
	static const char *const lc[] = { "el", "en", NULL };
	static const char *const acr[] = {
		"http://eidas.europa.eu/LoA/low",
		"http://eidas.europa.eu/LoA/substantial", NULL };
	json_t *d;
	char *s = NULL;

	d = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:b, s:b, s:b, s:b, s:b}", "issuer", issuer,
	    "response_types_supported", strings(rt),
	    "response_modes_supported", strings(rm),
	    "grant_types_supported", strings(gt),
	    "subject_types_supported", strings(st),
	    "id_token_signing_alg_values_supported", strings(alg),
	    "token_endpoint_auth_methods_supported", strings(am),
	    "code_challenge_methods_supported", strings(pk),
	    "scopes_supported", strings(sc),
	    "claims_supported", strings(cl),
	    "ui_locales_supported", strings(lc),
	    "acr_values_supported", strings(acr),
	    "claims_parameter_supported", 1,
	    "request_parameter_supported", 0,
	    "request_uri_parameter_supported", 0,
	    "require_request_uri_registration", 0,
	    "authorization_response_iss_parameter_supported", 1);
	if (d == NULL)
		return NULL;
	/* OpenID Connect Prompt Create 1.0 4 names this member. */
	if (json_object_set_new(d, "prompt_values_supported",
	    strings(pr)) != 0) {
		json_decref(d);
		return NULL;
	}
	/* RP-Initiated and Back-Channel Logout 1.0 (logout.c,
	 * backchannel.c); no front-channel iframes. */
	if (discovery_set_endpoint(d, "end_session_endpoint", issuer,
	    "/logout") != 0 ||
	    json_object_set_new(d, "backchannel_logout_supported",
	    json_true()) != 0 ||
	    json_object_set_new(d, "backchannel_logout_session_supported",
	    json_true()) != 0 ||
	    json_object_set_new(d, "frontchannel_logout_supported",
	    json_false()) != 0) {
		json_decref(d);
		return NULL;
	}
	if (discovery_token_mgmt(d, issuer) == 0 &&
	    discovery_set_endpoint(d, "authorization_endpoint", issuer,
	    "/authorize") == 0 &&
	    discovery_set_endpoint(d, "token_endpoint", issuer, "/token") == 0 &&
	    discovery_set_endpoint(d, "userinfo_endpoint", issuer,
	    "/userinfo") == 0 &&
	    discovery_set_endpoint(d, "jwks_uri", issuer, "/jwks") == 0)
		s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	return s;
}

http_result
oidc_discovery(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;

	(void)req;
	(void)http_json(resp, 200, idp->discovery);
	(void)http_header(resp, "Cache-Control", "public, max-age=3600");
	(void)http_header(resp, "Access-Control-Allow-Origin", "*");
	return HTTP_DONE;
}

http_result
oidc_jwks(struct http_request *req, struct http_response *resp, void *arg)
{
	struct idp *idp = arg;
	struct keyring *k = keyring_get(idp->keyring);

	(void)req;
	(void)http_json(resp, 200, keyset_jwks(k->keys));	/* copied */
	keyring_put(k);
	resp->content_type = "application/jwk-set+json";
	/* Short: relying parties must see a rotated key soon. */
	(void)http_header(resp, "Cache-Control", "public, max-age=300");
	(void)http_header(resp, "Access-Control-Allow-Origin", "*");
	return HTTP_DONE;
}
