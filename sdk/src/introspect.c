/*
 * introspect.c - ask the issuer whether a token is still active (RFC 7662),
 * for the apps that must see a revocation at once rather than when the
 * token expires. The answer is the issuer's; a failure to ask is never
 * taken for an answer.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "internal.h"

/* application/x-www-form-urlencoded of s (RFC 6749 2.3.1 asks for it on
 * the Basic credentials too). malloc'd, or NULL. */
static char *
introspect_enc(const char *s)
{
	char *e, *copy;

	if ((e = curl_easy_escape(NULL, s, 0)) == NULL)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

static int
introspect_answer(const char *body, size_t len, int *active,
    kl_claims **out, kl_error *err)
{
	kl_claims *c = NULL;
	json_t *root;
	int rc;

	if ((rc = kl_claims_from_json(body, len, &c, err)) != KL_OK)
		return kl_error_set(err, KL_ERR_FETCH, "introspection answer "
		    "is not a JSON object");
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_boolean(json_object_get(root, "active"))) {
		json_decref(root);
		kl_claims_free(c);
		return kl_error_set(err, KL_ERR_FETCH, "introspection answer "
		    "has no boolean \"active\"");
	}
	*active = json_is_true(json_object_get(root, "active"));
	json_decref(root);
	if (*active && out != NULL)
		*out = c;
	else
		kl_claims_free(c);
	return kl_error_ok(err);
}

int
kl_introspect(const char *url, const char *client_id,
    const char *client_secret, const char *token, const kl_options *opt,
    int *active, kl_claims **out, kl_error *err)
{
	struct kl_fetch f;
	kl_options o;
	char *id = NULL, *sec = NULL, *tok = NULL, *form = NULL, *body = NULL;
	size_t len = 0;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (active == NULL || client_id == NULL || client_secret == NULL ||
	    token == NULL || strnlen(token, KL_TOKEN_MAX + 1) > KL_TOKEN_MAX)
		return kl_error_set(err, KL_ERR_ARGUMENT, "introspection "
		    "needs an URL, client credentials and a token");
	*active = 0;
	kl_options_init(&o);
	if (opt != NULL)
		o = *opt;
	if ((rc = kl_fetch_init(&f, url, &o, err)) != KL_OK)
		return rc;
	rc = kl_error_set(err, KL_ERR_NOMEM, "out of memory");
	if ((id = introspect_enc(client_id)) == NULL ||
	    (sec = introspect_enc(client_secret)) == NULL ||
	    (tok = introspect_enc(token)) == NULL ||
	    (form = malloc(strlen(tok) + sizeof("token="))) == NULL)
		goto done;
	memcpy(form, "token=", 6);
	memcpy(form + 6, tok, strlen(tok) + 1);
	if ((rc = kl_fetch_post(&f, form, id, sec, &body, &len, err)) ==
	    KL_OK)
		rc = introspect_answer(body, len, active, out, err);
done:
	if (sec != NULL)
		OPENSSL_cleanse(sec, strlen(sec));
	free(id);
	free(sec);
	free(tok);
	free(form);
	free(body);
	kl_fetch_clear(&f);
	return rc;
}
