/*
 * bench_verify.c - access-token verification on one core through the SDK's
 * public API (kl_verify_access_token, linked from the shared libkleidi)
 * against its ceiling: raw OpenSSL EVP verification of the same signature
 * with the same key in the same process (SHA-256 of the signing input and
 * EVP_PKEY_verify on a context prepared once, the signature already in the
 * form OpenSSL wants). Keys come from keys_init in a temporary folder;
 * tokens from keyset_sign_jwt, shaped as Kleidi's RFC 9068 access tokens.
 * Prints, for alg in es256 and rs256:
 *	METRIC sdk_verify_<alg>=<n> unit=verify/s ceiling=<n> ratio=<r>
 * and, the other end of the token, keyset_sign_claims against raw
 * EVP_PKEY_sign of the same signing input (digest fetched once):
 *	METRIC keys_sign_<alg>=<n> unit=sign/s ceiling=<n> ratio=<r>
 * Usage: bench_verify [SECONDS]	(per measurement; default 2)
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "kleidi.h"
#include "keys.h"

#define ISSUER "https://sso.bench.example"
#define AUDIENCE "payroll"

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
b64url_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

static size_t
b64url_decode(const char *in, unsigned char *out)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;
	int v;

	for (; *in != '\0' && (v = b64url_val((unsigned char)*in)) >= 0;
	    in++) {
		acc = (acc << 6) | (unsigned)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

/* The private key of alg from DIR's manifest, as a public-only key. */
static EVP_PKEY *
public_key(const char *dir, const char *alg)
{
	char path[600];
	json_t *m, *k;
	size_t i;
	EVP_PKEY *priv = NULL, *pub = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	FILE *f;
	int len;

	(void)snprintf(path, sizeof(path), "%s/keys.json", dir);
	if ((m = json_load_file(path, 0, NULL)) == NULL)
		return NULL;
	json_array_foreach(json_object_get(m, "keys"), i, k) {
		if (strcmp(json_string_value(json_object_get(k, "alg")), alg)
		    != 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir,
		    json_string_value(json_object_get(k, "file")));
		if ((f = fopen(path, "r")) != NULL) {
			priv = PEM_read_PrivateKey(f, NULL, NULL, NULL);
			(void)fclose(f);
		}
		break;
	}
	json_decref(m);
	if (priv != NULL && (len = i2d_PUBKEY(priv, &der)) > 0) {
		p = der;
		pub = d2i_PUBKEY(NULL, &p, len);
	}
	OPENSSL_free(der);
	EVP_PKEY_free(priv);
	return pub;
}

/* R || S (JWS) to DER (OpenSSL), once, outside the timed loop. */
static size_t
es256_der(const unsigned char *rs, unsigned char *der, size_t cap)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	unsigned char *p = der;
	int n = -1;

	if (s != NULL && ECDSA_SIG_set0(s, BN_bin2bn(rs, 32, NULL),
	    BN_bin2bn(rs + 32, 32, NULL)) == 1 &&
	    (size_t)i2d_ECDSA_SIG(s, NULL) <= cap)
		n = i2d_ECDSA_SIG(s, &p);
	ECDSA_SIG_free(s);
	return n > 0 ? (size_t)n : 0;
}

struct ceiling {
	EVP_PKEY_CTX *vctx;
	EVP_MD *sha256;		/* fetched once: an implicit fetch per call
				 * (EVP_sha256()) costs more than a hash */
	const char *token;
	size_t signed_len;
	unsigned char sig[512];
	size_t siglen;
};

static int
ceiling_once(const struct ceiling *c)
{
	unsigned char digest[32];
	unsigned int dlen;
	EVP_PKEY_CTX *ctx;
	int r;

	if (EVP_Digest(c->token, c->signed_len, digest, &dlen, c->sha256,
	    NULL) != 1 || (ctx = EVP_PKEY_CTX_dup(c->vctx)) == NULL)
		return -1;
	r = EVP_PKEY_verify(ctx, c->sig, c->siglen, digest, dlen);
	EVP_PKEY_CTX_free(ctx);
	return r == 1 ? 0 : -1;
}

static int
ceiling_init(struct ceiling *c, EVP_PKEY *pk, int es, const char *token)
{
	unsigned char raw[512];
	const char *dot = strrchr(token, '.');
	size_t n;

	c->token = token;
	c->signed_len = (size_t)(dot - token);
	n = b64url_decode(dot + 1, raw);
	if (es)
		c->siglen = n == 64 ? es256_der(raw, c->sig, sizeof(c->sig))
		    : 0;
	else {
		memcpy(c->sig, raw, n);
		c->siglen = n;
	}
	c->vctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (c->siglen == 0 || c->vctx == NULL || c->sha256 == NULL ||
	    EVP_PKEY_verify_init(c->vctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(c->vctx, c->sha256) != 1)
		return -1;
	if (!es && EVP_PKEY_CTX_set_rsa_padding(c->vctx, RSA_PKCS1_PADDING)
	    != 1)
		return -1;
	return ceiling_once(c);
}

/*
 * A measured operation and its ceiling run in alternating slices of
 * SLICE_S seconds until each had secs: on a shared machine both sides then
 * see the same load, so the ratio holds even when the absolute rates move.
 */
#define SLICE_S 0.02

struct side {
	int (*once)(void *arg);		/* 0, or -1 to stop with an error */
	void *arg;
	double t;
	unsigned long n;
};

static int
slice(struct side *s)
{
	double t0 = now_s(), t;
	int i;

	do {
		for (i = 0; i < 8; i++, s->n++)
			if (s->once(s->arg) != 0)
				return -1;
	} while ((t = now_s() - t0) < SLICE_S);
	s->t += t;
	return 0;
}

/* Fills *ra and *rb with operations per second. 0 or -1. */
static int
pair(struct side *a, struct side *b, double secs, double *ra, double *rb)
{
	while (a->t < secs || b->t < secs)
		if (slice(a) != 0 || slice(b) != 0)
			return -1;
	*ra = (double)a->n / a->t;
	*rb = (double)b->n / b->t;
	return 0;
}

struct sdk_arg {
	kl_verifier *v;
	const char *token;
};

static int
sdk_once(void *arg)
{
	const struct sdk_arg *a = arg;
	kl_claims *c = NULL;
	int rc = kl_verify_access_token(a->v, a->token, AUDIENCE, &c, NULL);

	kl_claims_free(c);
	return rc == KL_OK ? 0 : -1;
}

static int
ceiling_cb(void *arg)
{
	return ceiling_once(arg);
}

/* ---- signing: keyset_sign_jwt against raw EVP_PKEY_sign of the same
 * signing input with a context prepared once (SHA-256 fetched once). */
struct sign_arg {
	keyset *ks;
	enum key_alg alg;
	json_t *claims;
};

/* keyset_sign_claims: what the token endpoint signs with. */
static int
sign_once(void *arg)
{
	const struct sign_arg *a = arg;
	char *jwt = keyset_sign_claims(a->ks, a->alg, "at+jwt", a->claims,
	    (int64_t)time(NULL));

	free(jwt);
	return jwt != NULL ? 0 : -1;
}

struct raw_sign_arg {
	EVP_PKEY_CTX *base;
	EVP_MD *md;
	const char *input;
	size_t len;
};

static int
raw_sign_once(void *arg)
{
	const struct raw_sign_arg *a = arg;
	unsigned char digest[32], sig[512];
	size_t siglen = sizeof(sig);
	unsigned int dlen;
	EVP_PKEY_CTX *c;
	int ok;

	if (EVP_Digest(a->input, a->len, digest, &dlen, a->md, NULL) != 1 ||
	    (c = EVP_PKEY_CTX_dup(a->base)) == NULL)
		return -1;
	ok = EVP_PKEY_sign(c, sig, &siglen, digest, dlen);
	EVP_PKEY_CTX_free(c);
	return ok == 1 ? 0 : -1;
}

static EVP_PKEY *
private_key(const char *dir, const char *alg)
{
	char path[600];
	json_t *m, *k;
	size_t i;
	EVP_PKEY *priv = NULL;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/keys.json", dir);
	if ((m = json_load_file(path, 0, NULL)) == NULL)
		return NULL;
	json_array_foreach(json_object_get(m, "keys"), i, k) {
		if (strcmp(json_string_value(json_object_get(k, "alg")), alg)
		    != 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir,
		    json_string_value(json_object_get(k, "file")));
		if ((f = fopen(path, "r")) != NULL) {
			priv = PEM_read_PrivateKey(f, NULL, NULL, NULL);
			(void)fclose(f);
		}
		break;
	}
	json_decref(m);
	return priv;
}

static int
bench_sign(const char *dir, keyset *ks, enum key_alg alg, const char *claims,
    const char *token, double secs)
{
	EVP_PKEY *priv = private_key(dir, key_alg_name(alg));
	const char *dot = strrchr(token, '.');
	struct sign_arg sa = { ks, alg, json_loads(claims, 0, NULL) };
	struct raw_sign_arg ra = { NULL, NULL, token, (size_t)(dot - token) };
	struct side a = { sign_once, &sa, 0, 0 }, b = { raw_sign_once, &ra,
	    0, 0 };
	double ks_rate, raw;
	int rc = -1;

	ra.md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (priv != NULL)
		ra.base = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	if (ra.md == NULL || ra.base == NULL ||
	    EVP_PKEY_sign_init(ra.base) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ra.base, ra.md) != 1 ||
	    pair(&a, &b, secs, &ks_rate, &raw) != 0) {
		(void)fprintf(stderr, "bench_verify: signing failed\n");
		goto done;
	}
	(void)printf("METRIC keys_sign_%s=%.0f unit=sign/s ceiling=%.0f "
	    "ratio=%.2f\n", alg == KEY_ES256 ? "es256" : "rs256", ks_rate, raw,
	    ks_rate / raw);
	rc = 0;
done:
	EVP_PKEY_CTX_free(ra.base);
	EVP_MD_free(ra.md);
	EVP_PKEY_free(priv);
	json_decref(sa.claims);
	return rc;
}

static int
bench_alg(const char *dir, keyset *ks, kl_verifier *v, enum key_alg alg,
    double secs)
{
	const char *name = key_alg_name(alg);
	int64_t now = (int64_t)time(NULL);
	char claims[512], metric[32];
	struct ceiling c = { 0 };
	EVP_PKEY *pk = public_key(dir, name);
	char *token;
	struct sdk_arg sarg;
	struct side a = { sdk_once, &sarg, 0, 0 }, b = { ceiling_cb, &c, 0,
	    0 };
	double sdk, ceil;
	int rc = -1;

	(void)snprintf(claims, sizeof(claims), "{\"iss\":\"" ISSUER "\","
	    "\"sub\":\"3q2-7wAAAAAAAAAAAAAAAA\",\"aud\":\"" AUDIENCE "\","
	    "\"client_id\":\"" AUDIENCE "\",\"iat\":%lld,\"exp\":%lld,"
	    "\"jti\":\"bWFkZSBmb3IgYmVuY2g\",\"user_type\":\"employee\","
	    "\"org\":\"town-1\",\"roles\":[\"clerk\"],\"acr\":"
	    "\"http://eidas.europa.eu/LoA/substantial\",\"amr\":[\"pwd\","
	    "\"otp\",\"mfa\"],\"scope\":\"openid profile\"}",
	    (long long)now, (long long)now + 3600);
	token = keyset_sign_jwt(ks, alg, "at+jwt", claims, now);
	sarg.v = v;
	sarg.token = token;
	if (token == NULL || pk == NULL || sdk_once(&sarg) != 0 ||
	    ceiling_init(&c, pk, alg == KEY_ES256, token) != 0) {
		(void)fprintf(stderr, "bench_verify: %s setup failed\n", name);
		goto done;
	}
	if (pair(&a, &b, secs, &sdk, &ceil) != 0)
		goto done;
	(void)snprintf(metric, sizeof(metric), "sdk_verify_%s",
	    alg == KEY_ES256 ? "es256" : "rs256");
	(void)printf("METRIC %s=%.0f unit=verify/s ceiling=%.0f ratio=%.2f\n",
	    metric, sdk, ceil, sdk / ceil);
	rc = bench_sign(dir, ks, alg, claims, token, secs);
done:
	EVP_PKEY_CTX_free(c.vctx);
	EVP_MD_free(c.sha256);
	EVP_PKEY_free(pk);
	free(token);
	return rc;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/kleidi-bench-verify-XXXXXX", kdir[64], err[256];
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	kl_verifier *v = NULL;
	keyset *ks = NULL;
	const char *jwks;
	int rc = 1;

	if (secs <= 0 || mkdtemp(dir) == NULL)
		return 2;
	(void)snprintf(kdir, sizeof(kdir), "%s/keys", dir);
	if (keys_init(kdir, (int64_t)time(NULL) - 10, err, sizeof(err)) != 0 ||
	    (ks = keyset_load(kdir, (int64_t)time(NULL), err, sizeof(err))) ==
	    NULL) {
		(void)fprintf(stderr, "bench_verify: %s\n", err);
		goto done;
	}
	jwks = keyset_jwks(ks);
	if ((v = kl_verifier_new_jwks(ISSUER, jwks, strlen(jwks), NULL,
	    NULL)) == NULL)
		goto done;
	if (bench_alg(kdir, ks, v, KEY_ES256, secs) == 0 &&
	    bench_alg(kdir, ks, v, KEY_RS256, secs) == 0)
		rc = 0;
done:
	kl_verifier_free(v);
	keyset_free(ks);
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
