/*
 * claims.c - the payload of a verified token: its checks (RFC 7519 section
 * 4.1, RFC 9068 section 4, OpenID Connect Core section 3.1.3.7) and the
 * accessors applications read it with.
 */
#include <math.h>	/* isfinite: a macro, no libm */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"

/* Reals beyond this cannot be converted to int64_t without undefined
 * behaviour; no time of interest is near it. */
#define CLAIMS_REAL_MAX 4611686018427387904.0	/* 2^62 */

struct kl_claims {
	json_t	*root;
	size_t	 len;
	char	 json[];	/* the payload text, NUL-terminated */
};

int
kl_claims_decode(const struct kl_jws *jws, kl_claims **out, kl_error *err)
{
	json_error_t jerr;
	kl_claims *c;
	size_t max = kl_b64url_decoded_len(jws->payload_len);

	*out = NULL;
	if ((c = malloc(sizeof(*c) + max + 1)) == NULL)
		return kl_error_set(err, KL_ERR_NOMEM, "out of memory");
	c->root = NULL;
	if (kl_b64url_decode(jws->payload, jws->payload_len,
	    (unsigned char *)c->json, max, &c->len) != 0) {
		free(c);
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token payload is not base64url");
	}
	c->json[c->len] = '\0';
	c->root = json_loadb(c->json, c->len, JSON_REJECT_DUPLICATES, &jerr);
	if (c->root == NULL || !json_is_object(c->root)) {
		kl_claims_free(c);
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "token payload is not a JSON object");
	}
	*out = c;
	return KL_OK;
}

int
kl_claims_from_json(const char *json, size_t len, kl_claims **out,
    kl_error *err)
{
	json_error_t jerr;
	kl_claims *c;

	*out = NULL;
	if ((c = malloc(sizeof(*c) + len + 1)) == NULL)
		return kl_error_set(err, KL_ERR_NOMEM, "out of memory");
	memcpy(c->json, json, len);
	c->json[len] = '\0';
	c->len = len;
	c->root = json_loadb(c->json, c->len, JSON_REJECT_DUPLICATES, &jerr);
	if (c->root == NULL || !json_is_object(c->root)) {
		kl_claims_free(c);
		return kl_error_set(err, KL_ERR_MALFORMED,
		    "answer is not a JSON object");
	}
	*out = c;
	return KL_OK;
}

void
kl_claims_free(kl_claims *c)
{
	if (c == NULL)
		return;
	json_decref(c->root);
	free(c);
}

/* A JSON number as whole seconds: 0, or -1 when v is not a number. */
static int
claims_number(const json_t *v, int64_t *out)
{
	double d;

	*out = 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	if (!isfinite(d) || d >= CLAIMS_REAL_MAX || d <= -CLAIMS_REAL_MAX)
		return -1;
	/* Rounded down without libm: the cast truncates toward zero. */
	*out = (int64_t)d;
	if ((double)*out > d)
		(*out)--;
	return 0;
}

static int
claims_time(const kl_claims *c, const char *name, int required,
    int64_t *out, kl_error *err)
{
	json_t *v = json_object_get(c->root, name);

	*out = 0;
	if (v == NULL && !required)
		return KL_OK;
	if (v == NULL || claims_number(v, out) != 0)
		return kl_error_set(err, KL_ERR_CLAIM,
		    "token %s is missing or not a number", name);
	return KL_OK;
}

/* exp, nbf and iat against now, each with the leeway. now is clamped by
 * the verifier, so now +- leeway cannot overflow. */
static int
claims_times(const kl_claims *c, const struct kl_expect *x, kl_error *err)
{
	int64_t exp, nbf, iat;
	int rc;

	if ((rc = claims_time(c, "exp", 1, &exp, err)) != KL_OK ||
	    (rc = claims_time(c, "iat", 1, &iat, err)) != KL_OK ||
	    (rc = claims_time(c, "nbf", 0, &nbf, err)) != KL_OK)
		return rc;
	/* A hint names a session that may be long over (RP-Initiated
	 * Logout 1.0, 2): its signature and issuer still count. */
	if (x->kind != KL_TOKEN_ID_HINT && exp <= x->now - x->leeway)
		return kl_error_set(err, KL_ERR_EXPIRED,
		    "token expired at %lld (now %lld, leeway %lld s)",
		    (long long)exp, (long long)x->now, (long long)x->leeway);
	if (json_object_get(c->root, "nbf") != NULL &&
	    nbf > x->now + x->leeway)
		return kl_error_set(err, KL_ERR_NOT_YET_VALID,
		    "token not valid before %lld (now %lld)",
		    (long long)nbf, (long long)x->now);
	if (iat > x->now + x->leeway)
		return kl_error_set(err, KL_ERR_ISSUED_IN_FUTURE,
		    "token issued at %lld, after now %lld",
		    (long long)iat, (long long)x->now);
	return KL_OK;
}

/* A required claim that must be a non-empty string. */
static int
claims_required_string(const kl_claims *c, const char *name, kl_error *err)
{
	const char *s = kl_claims_string(c, name);

	if (s == NULL || s[0] == '\0')
		return kl_error_set(err, KL_ERR_CLAIM,
		    "token %s is missing or not a string", name);
	return KL_OK;
}

/* aud names the audience; *count receives the number of values. */
static int
claims_audience(const kl_claims *c, const char *audience, size_t *count,
    kl_error *err)
{
	json_t *aud = json_object_get(c->root, "aud"), *v;
	size_t i;
	int found = 0;

	*count = 1;
	if (json_is_string(aud)) {
		found = strcmp(json_string_value(aud), audience) == 0;
	} else if (json_is_array(aud)) {
		*count = json_array_size(aud);
		json_array_foreach(aud, i, v) {
			if (!json_is_string(v))
				return kl_error_set(err, KL_ERR_CLAIM,
				    "token aud holds a non-string");
			if (strcmp(json_string_value(v), audience) == 0)
				found = 1;
		}
	} else {
		return kl_error_set(err, KL_ERR_CLAIM,
		    "token aud is missing or not a string or array");
	}
	if (!found)
		return kl_error_set(err, KL_ERR_AUDIENCE,
		    "token is not for this audience");
	return KL_OK;
}

/* ID tokens: azp (when present, or required for several audiences) and
 * nonce (when the caller sent one). */
static int
claims_id_token(const kl_claims *c, const struct kl_expect *x, size_t naud,
    kl_error *err)
{
	json_t *azp = json_object_get(c->root, "azp");
	const char *nonce;

	if ((azp != NULL || naud > 1) && (!json_is_string(azp) ||
	    strcmp(json_string_value(azp), x->audience) != 0))
		return kl_error_set(err, KL_ERR_AUDIENCE,
		    "token azp is missing or another client");
	if (x->nonce == NULL)
		return KL_OK;
	nonce = kl_claims_string(c, "nonce");
	if (nonce == NULL || strlen(nonce) != strlen(x->nonce) ||
	    CRYPTO_memcmp(nonce, x->nonce, strlen(nonce)) != 0)
		return kl_error_set(err, KL_ERR_NONCE,
		    "token nonce is missing or different");
	return KL_OK;
}

/* Back-Channel Logout 1.0, 2.4 and 2.6: the events member names the
 * logout event, there is no nonce (so an ID token is never taken for a
 * logout token), and sub or sid says whom it ends. */
static int
claims_logout(const kl_claims *c, kl_error *err)
{
	json_t *ev = json_object_get(c->root, "events");
	const char *sub = kl_claims_string(c, "sub");
	const char *sid = kl_claims_string(c, "sid");

	if (!json_is_object(ev) || !json_is_object(json_object_get(ev,
	    "http://schemas.openid.net/event/backchannel-logout")))
		return kl_error_set(err, KL_ERR_EVENT,
		    "token events lack the back-channel logout event");
	if (json_object_get(c->root, "nonce") != NULL)
		return kl_error_set(err, KL_ERR_CLAIM,
		    "a logout token must not carry a nonce");
	if ((sub == NULL || sub[0] == '\0') && (sid == NULL ||
	    sid[0] == '\0'))
		return kl_error_set(err, KL_ERR_CLAIM,
		    "logout token has neither sub nor sid");
	if ((json_object_get(c->root, "sub") != NULL && sub == NULL) ||
	    (json_object_get(c->root, "sid") != NULL && sid == NULL))
		return kl_error_set(err, KL_ERR_CLAIM,
		    "logout token sub or sid is not a string");
	return KL_OK;
}

int
kl_claims_check(const kl_claims *c, const struct kl_expect *x,
    kl_error *err)
{
	const char *iss;
	size_t naud;
	int rc;

	if ((iss = kl_claims_string(c, "iss")) == NULL)
		return kl_error_set(err, KL_ERR_CLAIM,
		    "token iss is missing or not a string");
	if (strcmp(iss, x->issuer) != 0)
		return kl_error_set(err, KL_ERR_ISSUER,
		    "token is from another issuer");
	if ((rc = claims_audience(c, x->audience, &naud, err)) != KL_OK ||
	    (rc = claims_times(c, x, err)) != KL_OK)
		return rc;
	if (x->kind == KL_TOKEN_LOGOUT)
		return claims_logout(c, err);
	if ((rc = claims_required_string(c, "sub", err)) != KL_OK)
		return rc;
	if (x->kind == KL_TOKEN_ACCESS)
		return claims_required_string(c, "client_id", err);
	return claims_id_token(c, x, naud, err);
}

/* ---- accessors */

const char *
kl_claims_string(const kl_claims *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	return json_string_value(json_object_get(c->root, name));
}

const char *
kl_claims_sub(const kl_claims *c)
{
	return kl_claims_string(c, "sub");
}

const char *
kl_claims_iss(const kl_claims *c)
{
	return kl_claims_string(c, "iss");
}

const char *
kl_claims_org(const kl_claims *c)
{
	return kl_claims_string(c, "org");
}

const char *
kl_claims_user_type(const kl_claims *c)
{
	return kl_claims_string(c, "user_type");
}

const char *
kl_claims_acr(const kl_claims *c)
{
	return kl_claims_string(c, "acr");
}

const char *
kl_claims_client_id(const kl_claims *c)
{
	return kl_claims_string(c, "client_id");
}

const char *
kl_claims_scope(const kl_claims *c)
{
	return kl_claims_string(c, "scope");
}

int
kl_claims_int(const kl_claims *c, const char *name, int64_t *out)
{
	json_t *v;

	if (out != NULL)
		*out = 0;
	if (c == NULL || name == NULL || out == NULL)
		return KL_ERR_ARGUMENT;
	if ((v = json_object_get(c->root, name)) == NULL ||
	    claims_number(v, out) != 0)
		return KL_ERR_CLAIM;
	return KL_OK;
}

static int64_t
claims_int_or_zero(const kl_claims *c, const char *name)
{
	int64_t v;

	return kl_claims_int(c, name, &v) == KL_OK ? v : 0;
}

int64_t
kl_claims_exp(const kl_claims *c)
{
	return claims_int_or_zero(c, "exp");
}

int64_t
kl_claims_iat(const kl_claims *c)
{
	return claims_int_or_zero(c, "iat");
}

int64_t
kl_claims_auth_time(const kl_claims *c)
{
	return claims_int_or_zero(c, "auth_time");
}

size_t
kl_claims_array_len(const kl_claims *c, const char *name)
{
	if (c == NULL || name == NULL)
		return 0;
	return json_array_size(json_object_get(c->root, name));
}

const char *
kl_claims_array_string(const kl_claims *c, const char *name, size_t i)
{
	if (c == NULL || name == NULL)
		return NULL;
	return json_string_value(json_array_get(json_object_get(c->root,
	    name), i));
}

static int
claims_array_has(const kl_claims *c, const char *name, const char *value)
{
	json_t *v;
	size_t i;

	if (c == NULL || value == NULL)
		return 0;
	json_array_foreach(json_object_get(c->root, name), i, v) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), value) == 0)
			return 1;
	}
	return 0;
}

int
kl_claims_has_role(const kl_claims *c, const char *role)
{
	return claims_array_has(c, "roles", role);
}

int
kl_claims_has_amr(const kl_claims *c, const char *amr)
{
	return claims_array_has(c, "amr", amr);
}

int
kl_claims_has_scope(const kl_claims *c, const char *scope)
{
	const char *s = kl_claims_scope(c), *end;
	size_t n;

	if (s == NULL || scope == NULL || (n = strlen(scope)) == 0 ||
	    strchr(scope, ' ') != NULL)
		return 0;
	for (; *s != '\0'; s = *end == '\0' ? end : end + 1) {
		end = strchr(s, ' ');
		if (end == NULL)
			end = s + strlen(s);
		if ((size_t)(end - s) == n && memcmp(s, scope, n) == 0)
			return 1;
	}
	return 0;
}

const char *
kl_claims_json(const kl_claims *c)
{
	return c == NULL ? NULL : c->json;
}
