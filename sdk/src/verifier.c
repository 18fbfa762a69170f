/*
 * verifier.c - the public verifier: creation from JWKS bytes or a URL, and
 * the one verification path both kinds of token go through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "internal.h"

/* The clock is clamped into [0, 2^62] so that now +- leeway never
 * overflows, whatever an injected clock returns. */
#define VERIFIER_TIME_MAX ((int64_t)1 << 62)
#define VERIFIER_TIMEOUT_MS_MAX 600000L

void
kl_options_init(kl_options *opt)
{
	if (opt == NULL)
		return;
	memset(opt, 0, sizeof(*opt));
	opt->version = KL_OPTIONS_VERSION;
	opt->leeway = KL_LEEWAY_DEFAULT;
	opt->refresh_interval = KL_REFRESH_DEFAULT;
	opt->min_refresh_interval = KL_MIN_REFRESH_DEFAULT;
	opt->http_timeout_ms = KL_HTTP_TIMEOUT_MS_DEFAULT;
}

static int
verifier_options(const kl_options *in, kl_options *out, kl_error *err)
{
	kl_options_init(out);
	if (in == NULL)
		return KL_OK;
	if (in->version != KL_OPTIONS_VERSION)
		return kl_error_set(err, KL_ERR_ARGUMENT,
		    "options not set up with kl_options_init");
	if ((in->flags & ~KL_LAZY_FETCH) != 0 || in->leeway < 0 ||
	    in->leeway > KL_LEEWAY_MAX || in->min_refresh_interval < 1 ||
	    in->refresh_interval < in->min_refresh_interval ||
	    in->http_timeout_ms < 1 ||
	    in->http_timeout_ms > VERIFIER_TIMEOUT_MS_MAX)
		return kl_error_set(err, KL_ERR_ARGUMENT,
		    "option out of range");
	*out = *in;
	return KL_OK;
}

int64_t
kl_verifier_now(const kl_verifier *v)
{
	int64_t now = v->now != NULL ? v->now(v->now_arg) : (int64_t)time(NULL);

	if (now < 0)
		return 0;
	return now > VERIFIER_TIME_MAX ? VERIFIER_TIME_MAX : now;
}

/* 0, or -1 with neither lock left initialised. */
static int
verifier_locks_init(kl_verifier *v)
{
	if (pthread_mutex_init(&v->lock, NULL) != 0)
		return -1;
	if (pthread_cond_init(&v->fetched, NULL) != 0) {
		(void)pthread_mutex_destroy(&v->lock);
		return -1;
	}
	return 0;
}

/* The parts common to both kinds of verifier, keys not yet loaded. */
static kl_verifier *
verifier_new(const char *issuer, const kl_options *in, kl_options *opt,
    kl_error *err)
{
	kl_verifier *v;

	if (issuer == NULL || issuer[0] == '\0' ||
	    strnlen(issuer, KL_ISSUER_MAX + 1) > KL_ISSUER_MAX) {
		kl_error_set(err, KL_ERR_ARGUMENT,
		    "issuer missing or too long");
		return NULL;
	}
	if (verifier_options(in, opt, err) != KL_OK)
		return NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		kl_error_set(err, KL_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (verifier_locks_init(v) != 0) {
		free(v);
		kl_error_set(err, KL_ERR_INTERNAL, "cannot create a lock");
		return NULL;
	}
	/* From here on kl_verifier_free undoes everything. */
	v->leeway = opt->leeway;
	v->refresh = opt->refresh_interval;
	v->min_refresh = opt->min_refresh_interval;
	v->now = opt->now;
	v->now_arg = opt->now_arg;
	if ((v->issuer = strdup(issuer)) == NULL) {
		kl_error_set(err, KL_ERR_NOMEM, "out of memory");
		goto fail;
	}
	/* Fetched once: a name lookup per verification costs time. */
	if ((v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		ERR_clear_error();
		kl_error_set(err, KL_ERR_CRYPTO, "no SHA-256 in OpenSSL");
		goto fail;
	}
	return v;
fail:
	kl_verifier_free(v);
	return NULL;
}

kl_verifier *
kl_verifier_new_jwks(const char *issuer, const char *jwks, size_t jwks_len,
    const kl_options *opt, kl_error *err)
{
	kl_options o;
	kl_verifier *v;

	if (jwks == NULL) {
		kl_error_set(err, KL_ERR_ARGUMENT, "JWKS missing");
		return NULL;
	}
	if ((v = verifier_new(issuer, opt, &o, err)) == NULL)
		return NULL;
	if (kl_jwks_parse(jwks, jwks_len, v->sha256, &v->keys, err) !=
	    KL_OK) {
		ERR_clear_error();
		kl_verifier_free(v);
		return NULL;
	}
	kl_error_ok(err);
	return v;
}

/* Reads at most KL_JWKS_MAX + 1 bytes: one more tells "too large". */
static char *
jwks_file_read(const char *path, size_t *len, kl_error *err)
{
	char *buf;
	FILE *f;

	if (path == NULL) {
		kl_error_set(err, KL_ERR_ARGUMENT, "JWKS file path missing");
		return NULL;
	}
	if ((f = fopen(path, "re")) == NULL) {
		kl_error_set(err, KL_ERR_JWKS, "cannot open the JWKS file");
		return NULL;
	}
	if ((buf = malloc(KL_JWKS_MAX + 1)) == NULL) {
		fclose(f);
		kl_error_set(err, KL_ERR_NOMEM, "out of memory");
		return NULL;
	}
	*len = fread(buf, 1, KL_JWKS_MAX + 1, f);
	if (ferror(f) || *len > KL_JWKS_MAX) {
		kl_error_set(err, KL_ERR_JWKS, ferror(f) ?
		    "cannot read the JWKS file" : "JWKS file too large");
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

kl_verifier *
kl_verifier_new_file(const char *issuer, const char *path,
    const kl_options *opt, kl_error *err)
{
	kl_verifier *v;
	size_t len = 0;
	char *jwks;

	if ((jwks = jwks_file_read(path, &len, err)) == NULL)
		return NULL;
	v = kl_verifier_new_jwks(issuer, jwks, len, opt, err);
	free(jwks);
	return v;
}

kl_verifier *
kl_verifier_new_url(const char *issuer, const char *jwks_url,
    const kl_options *opt, kl_error *err)
{
	kl_options o;
	kl_verifier *v;

	if ((v = verifier_new(issuer, opt, &o, err)) == NULL)
		return NULL;
	v->remote = 1;
	if (kl_fetch_init(&v->fetch, jwks_url, &o, err) != KL_OK ||
	    (!(o.flags & KL_LAZY_FETCH) &&
	    kl_cache_fetch_now(v, kl_verifier_now(v), err) != KL_OK)) {
		ERR_clear_error();
		kl_verifier_free(v);
		return NULL;
	}
	kl_error_ok(err);
	return v;
}

void
kl_verifier_free(kl_verifier *v)
{
	if (v == NULL)
		return;
	/* No other thread may use v now, so this is the last reference. */
	kl_jwks_free(v->keys);
	kl_fetch_clear(&v->fetch);
	EVP_MD_free(v->sha256);
	(void)pthread_cond_destroy(&v->fetched);
	(void)pthread_mutex_destroy(&v->lock);
	free(v->issuer);
	free(v);
}

/* The key named by the token's kid, from the cached keys or, for an
 * unknown kid, from keys fetched anew (rate limit permitting). */
static int
verifier_key(kl_verifier *v, const struct kl_jws *jws, int64_t now,
    kl_keyset **ks, const struct kl_key **key, kl_error *err)
{
	int rc;

	*key = NULL;
	if ((rc = kl_cache_acquire(v, now, ks, err)) != KL_OK)
		return rc;
	if ((*key = kl_jwks_find(*ks, jws->kid, jws->kidlen)) != NULL)
		return KL_OK;
	if (v->remote) {
		rc = kl_cache_refresh_for_kid(v, *ks, now, err);
		kl_cache_release(v, *ks);
		*ks = NULL;
		if (rc != KL_OK ||
		    (rc = kl_cache_acquire(v, now, ks, err)) != KL_OK)
			return rc;
		if ((*key = kl_jwks_find(*ks, jws->kid, jws->kidlen)) != NULL)
			return KL_OK;
	}
	return kl_error_set(err, KL_ERR_UNKNOWN_KID,
	    "no key of the issuer has the token's kid");
}

/* typ tells access tokens and ID tokens apart (RFC 9068 section 4): a
 * media type, so compared without case. */
static int
verifier_typ(const struct kl_jws *jws, enum kl_token_kind kind,
    kl_error *err)
{
	const char *t = jws->typ;

	if (kind == KL_TOKEN_ACCESS) {
		if (t != NULL && (kl_ascii_caseeq(t, "at+jwt") ||
		    kl_ascii_caseeq(t, "application/at+jwt")))
			return KL_OK;
		return kl_error_set(err, KL_ERR_TYPE,
		    "access token typ is not at+jwt");
	}
	if (kind == KL_TOKEN_LOGOUT) {
		/* Explicit typing (2.4); a token without typ is still told
		 * apart by its events and the absence of nonce. */
		if (t == NULL || kl_ascii_caseeq(t, "logout+jwt") ||
		    kl_ascii_caseeq(t, "application/logout+jwt"))
			return KL_OK;
		return kl_error_set(err, KL_ERR_TYPE,
		    "logout token typ is not logout+jwt");
	}
	if (t == NULL || kl_ascii_caseeq(t, "JWT") ||
	    kl_ascii_caseeq(t, "application/jwt"))
		return KL_OK;
	return kl_error_set(err, KL_ERR_TYPE, "ID token typ is not JWT");
}

static int
verifier_verify(kl_verifier *v, const char *token, struct kl_expect *x,
    kl_claims **out, kl_error *err)
{
	struct kl_jws jws;
	kl_keyset *ks = NULL;
	const struct kl_key *key;
	kl_claims *c = NULL;
	int rc;

	if ((rc = kl_jws_parse(token, &jws, err)) != KL_OK)
		goto done;
	x->issuer = v->issuer;
	x->leeway = v->leeway;
	x->now = kl_verifier_now(v);
	if ((rc = verifier_key(v, &jws, x->now, &ks, &key, err)) != KL_OK ||
	    (rc = kl_jws_verify(&jws, key, v->sha256, err)) != KL_OK ||
	    (rc = verifier_typ(&jws, x->kind, err)) != KL_OK ||
	    (rc = kl_claims_decode(&jws, &c, err)) != KL_OK ||
	    (rc = kl_claims_check(c, x, err)) != KL_OK)
		goto done;
	rc = kl_error_ok(err);
	if (out != NULL) {
		*out = c;
		c = NULL;
	}
done:
	kl_cache_release(v, ks);
	kl_jws_clear(&jws);
	kl_claims_free(c);
	return rc;
}

int
kl_verify_access_token(kl_verifier *v, const char *token,
    const char *audience, kl_claims **out, kl_error *err)
{
	struct kl_expect x = { .kind = KL_TOKEN_ACCESS, .audience = audience };

	if (out != NULL)
		*out = NULL;
	if (v == NULL || token == NULL || audience == NULL ||
	    audience[0] == '\0')
		return kl_error_set(err, KL_ERR_ARGUMENT,
		    "verifier, token and audience are required");
	return verifier_verify(v, token, &x, out, err);
}

int
kl_verify_id_token(kl_verifier *v, const char *token, const char *client_id,
    const char *nonce, kl_claims **out, kl_error *err)
{
	struct kl_expect x = { .kind = KL_TOKEN_ID, .audience = client_id,
	    .nonce = nonce };

	if (out != NULL)
		*out = NULL;
	if (v == NULL || token == NULL || client_id == NULL ||
	    client_id[0] == '\0' || (nonce != NULL && nonce[0] == '\0'))
		return kl_error_set(err, KL_ERR_ARGUMENT,
		    "verifier, token and client_id are required; "
		    "nonce NULL or not empty");
	return verifier_verify(v, token, &x, out, err);
}

int
kl_verify_id_token_hint(kl_verifier *v, const char *token,
    const char *client_id, kl_claims **out, kl_error *err)
{
	struct kl_expect x = { .kind = KL_TOKEN_ID_HINT,
	    .audience = client_id };

	if (out != NULL)
		*out = NULL;
	if (v == NULL || token == NULL || client_id == NULL ||
	    client_id[0] == '\0')
		return kl_error_set(err, KL_ERR_ARGUMENT,
		    "verifier, token and client_id are required");
	return verifier_verify(v, token, &x, out, err);
}

int
kl_verify_logout_token(kl_verifier *v, const char *token,
    const char *client_id, kl_claims **out, kl_error *err)
{
	struct kl_expect x = { .kind = KL_TOKEN_LOGOUT,
	    .audience = client_id };

	if (out != NULL)
		*out = NULL;
	if (v == NULL || token == NULL || client_id == NULL ||
	    client_id[0] == '\0')
		return kl_error_set(err, KL_ERR_ARGUMENT,
		    "verifier, token and client_id are required");
	return verifier_verify(v, token, &x, out, err);
}
