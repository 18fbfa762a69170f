/*
 * jwk.c - one JSON Web Key (RFC 7517, RFC 7518 section 6) to an OpenSSL
 * public key and a verification context, built once when the JWKS loads.
 *
 * The key decides the algorithm, never the token: alg is pinned here from
 * the JWKS (RS256 for RSA, ES256 for P-256 when the key does not say), and
 * jws.c refuses a token whose header names anything else.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "internal.h"

#define JWK_RSA_E_MAX	8			/* bytes of the exponent */
#define JWK_RSA_N_MAX	(KL_RSA_MAX_BITS / 8 + 1) /* one leading zero */
#define JWK_EC_COORD	32			/* P-256 x, y */

/* Members of private or symmetric keys: a public JWKS holding one is a
 * leak at the issuer, and trusting that issuer's keys is unwise. */
static const char *const jwk_private_names[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k",
};

/* 1 string (in *s), 0 absent, -1 present but not a string. */
static int
jwk_string(json_t *jwk, const char *name, const char **s)
{
	json_t *v = json_object_get(jwk, name);

	*s = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return -1;
	*s = json_string_value(v);
	return 1;
}

/* 1 when the key may verify signatures by its use and key_ops. */
static int
jwk_for_signing(json_t *jwk, kl_error *err)
{
	json_t *ops, *op;
	const char *use;
	size_t i;
	int r;

	if ((r = jwk_string(jwk, "use", &use)) < 0)
		return kl_error_set(err, KL_ERR_JWKS, "key use not a string");
	if (r == 1 && strcmp(use, "sig") != 0)
		return 0;
	if ((ops = json_object_get(jwk, "key_ops")) == NULL)
		return 1;
	if (!json_is_array(ops))
		return kl_error_set(err, KL_ERR_JWKS, "key_ops not an array");
	json_array_foreach(ops, i, op) {
		if (json_is_string(op) &&
		    strcmp(json_string_value(op), "verify") == 0)
			return 1;
	}
	return 0;
}

/*
 * The algorithm of a key of type kty: KL_OK with *alg, KL_ERR_ALG to skip
 * it (an algorithm this SDK does not verify), KL_ERR_JWKS when alg and the
 * key contradict each other.
 */
static int
jwk_alg(json_t *jwk, const char *kty, enum kl_alg *alg, kl_error *err)
{
	const char *name, *crv = NULL;
	int is_ec = strcmp(kty, "EC") == 0;

	if (jwk_string(jwk, "alg", &name) < 0)
		return kl_error_set(err, KL_ERR_JWKS, "key alg not a string");
	if (is_ec && jwk_string(jwk, "crv", &crv) != 1)
		return kl_error_set(err, KL_ERR_JWKS, "EC key without crv");
	if (name == NULL) {
		if (is_ec && strcmp(crv, "P-256") != 0)
			return KL_ERR_ALG;
		*alg = is_ec ? KL_ALG_ES256 : KL_ALG_RS256;
		return KL_OK;
	}
	if (strcmp(name, "RS256") == 0 && !is_ec) {
		*alg = KL_ALG_RS256;
		return KL_OK;
	}
	if (strcmp(name, "ES256") == 0 && is_ec && strcmp(crv, "P-256") == 0) {
		*alg = KL_ALG_ES256;
		return KL_OK;
	}
	if (strcmp(name, "RS256") == 0 || strcmp(name, "ES256") == 0)
		return kl_error_set(err, KL_ERR_JWKS,
		    "key alg %s does not fit its kty or crv", name);
	return KL_ERR_ALG;
}

/* Decodes the base64url member name into buf; exact when min == max. */
static int
jwk_bytes(json_t *jwk, const char *name, unsigned char *buf, size_t min,
    size_t max, size_t *len, kl_error *err)
{
	const char *s;

	*len = 0;
	if (jwk_string(jwk, name, &s) != 1)
		return kl_error_set(err, KL_ERR_JWKS, "key member %s missing",
		    name);
	if (kl_b64url_decode(s, strlen(s), buf, max, len) != 0 || *len < min)
		return kl_error_set(err, KL_ERR_JWKS, "key member %s invalid",
		    name);
	return KL_OK;
}

static int
jwk_fromdata(const char *type, OSSL_PARAM *params, EVP_PKEY **out,
    kl_error *err)
{
	EVP_PKEY_CTX *ctx;
	int rc = KL_OK;

	*out = NULL;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
		return kl_error_set(err, KL_ERR_CRYPTO, "no %s support", type);
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		rc = kl_error_set(err, KL_ERR_JWKS, "%s key refused", type);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static int
jwk_rsa_params(BIGNUM *n, BIGNUM *e, EVP_PKEY **out, kl_error *err)
{
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	int rc;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return kl_error_set(err, KL_ERR_NOMEM, "out of memory");
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		rc = kl_error_set(err, KL_ERR_NOMEM, "out of memory");
		goto done;
	}
	rc = jwk_fromdata("RSA", params, out, err);
done:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

static int
jwk_rsa(json_t *jwk, EVP_PKEY **out, kl_error *err)
{
	unsigned char nb[JWK_RSA_N_MAX], eb[JWK_RSA_E_MAX];
	size_t nlen, elen;
	BIGNUM *n = NULL, *e = NULL;
	int rc, bits;

	if ((rc = jwk_bytes(jwk, "n", nb, 1, sizeof(nb), &nlen, err)) !=
	    KL_OK ||
	    (rc = jwk_bytes(jwk, "e", eb, 1, sizeof(eb), &elen, err)) != KL_OK)
		return rc;
	if ((n = BN_bin2bn(nb, (int)nlen, NULL)) == NULL ||
	    (e = BN_bin2bn(eb, (int)elen, NULL)) == NULL) {
		rc = kl_error_set(err, KL_ERR_NOMEM, "out of memory");
		goto done;
	}
	bits = BN_num_bits(n);
	if (bits < KL_RSA_MIN_BITS || bits > KL_RSA_MAX_BITS) {
		rc = kl_error_set(err, KL_ERR_JWKS,
		    "RSA key of %d bits; %d to %d required", bits,
		    KL_RSA_MIN_BITS, KL_RSA_MAX_BITS);
		goto done;
	}
	/* e = 1 would make every "signature" verify itself. */
	if (!BN_is_odd(e) || BN_is_one(e) || !BN_is_odd(n)) {
		rc = kl_error_set(err, KL_ERR_JWKS, "RSA key parameters bad");
		goto done;
	}
	rc = jwk_rsa_params(n, e, out, err);
done:
	BN_free(n);
	BN_free(e);
	return rc;
}

static int
jwk_ec(json_t *jwk, EVP_PKEY **out, kl_error *err)
{
	/* Uncompressed point: 0x04 || x || y. */
	unsigned char point[1 + 2 * JWK_EC_COORD];
	char group[] = "P-256";
	OSSL_PARAM params[3];
	size_t len;
	int rc;

	point[0] = 0x04;
	if ((rc = jwk_bytes(jwk, "x", point + 1, JWK_EC_COORD, JWK_EC_COORD,
	    &len, err)) != KL_OK ||
	    (rc = jwk_bytes(jwk, "y", point + 1 + JWK_EC_COORD, JWK_EC_COORD,
	    JWK_EC_COORD, &len, err)) != KL_OK)
		return rc;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    point, sizeof(point));
	params[2] = OSSL_PARAM_construct_end();
	return jwk_fromdata("EC", params, out, err);
}

/* Validates the public key (an EC point on the curve and of the right
 * order, an RSA modulus without small factors) and prepares the
 * verification context that each verification duplicates. */
static int
jwk_prepare(struct kl_key *key, const EVP_MD *sha256, kl_error *err)
{
	EVP_PKEY_CTX *check;
	int ok;

	if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)) ==
	    NULL)
		return kl_error_set(err, KL_ERR_NOMEM, "out of memory");
	ok = EVP_PKEY_public_check(check);
	EVP_PKEY_CTX_free(check);
	if (ok != 1)
		return kl_error_set(err, KL_ERR_JWKS,
		    "public key fails validation");
	key->vctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	if (key->vctx == NULL || EVP_PKEY_verify_init(key->vctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(key->vctx, sha256) != 1)
		return kl_error_set(err, KL_ERR_CRYPTO,
		    "cannot set up verification");
	if (key->alg == KL_ALG_RS256 &&
	    EVP_PKEY_CTX_set_rsa_padding(key->vctx, RSA_PKCS1_PADDING) != 1)
		return kl_error_set(err, KL_ERR_CRYPTO,
		    "cannot set up verification");
	key->siglen = key->alg == KL_ALG_ES256 ? KL_ES256_SIG_LEN :
	    (size_t)EVP_PKEY_get_size(key->pkey);
	return KL_OK;
}

/* The kid and, by kty, the usability of the key: KL_OK, KL_ERR_ALG to
 * skip it, or an error refusing the document. */
static int
jwk_identify(json_t *jwk, struct kl_key *key, const char **kty,
    kl_error *err)
{
	const char *kid;
	size_t i;
	int r;

	for (i = 0; i < sizeof(jwk_private_names) / sizeof(char *); i++)
		if (json_object_get(jwk, jwk_private_names[i]) != NULL)
			return kl_error_set(err, KL_ERR_JWKS,
			    "JWKS holds private or secret key material");
	if (jwk_string(jwk, "kty", kty) != 1)
		return kl_error_set(err, KL_ERR_JWKS, "key without kty");
	if (strcmp(*kty, "RSA") != 0 && strcmp(*kty, "EC") != 0)
		return KL_ERR_ALG;
	if ((r = jwk_for_signing(jwk, err)) != 1)
		return r == 0 ? KL_ERR_ALG : r;
	if ((r = jwk_alg(jwk, *kty, &key->alg, err)) != KL_OK)
		return r;
	if (jwk_string(jwk, "kid", &kid) != 1 || kid[0] == '\0' ||
	    strlen(kid) > KL_KID_MAX)
		return kl_error_set(err, KL_ERR_JWKS,
		    "signing key without a valid kid");
	key->kidlen = strlen(kid);
	memcpy(key->kid, kid, key->kidlen + 1);
	return KL_OK;
}

int
kl_jwk_load(json_t *jwk, const EVP_MD *sha256, struct kl_key *key,
    kl_error *err)
{
	const char *kty;
	int rc;

	memset(key, 0, sizeof(*key));
	if (!json_is_object(jwk))
		return kl_error_set(err, KL_ERR_JWKS, "key not an object");
	if ((rc = jwk_identify(jwk, key, &kty, err)) != KL_OK)
		return rc;
	if (key->alg == KL_ALG_RS256)
		rc = jwk_rsa(jwk, &key->pkey, err);
	else
		rc = jwk_ec(jwk, &key->pkey, err);
	if (rc == KL_OK)
		rc = jwk_prepare(key, sha256, err);
	if (rc != KL_OK)
		kl_jwk_clear(key);
	return rc;
}

void
kl_jwk_clear(struct kl_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_CTX_free(key->vctx);
	EVP_PKEY_free(key->pkey);
	memset(key, 0, sizeof(*key));
}
