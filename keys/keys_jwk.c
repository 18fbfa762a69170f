/*
 * keys_jwk.c - public keys as JWK (RFC 7517/7518), the JWKS document and the
 * RFC 7638 thumbprint that names every key.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "keys_int.h"
#include "util/util.h"

#define JWK_MEMBER_MAX 4096	/* base64url of a 16384-bit modulus fits */
#define JWK_BN_MAX 2048		/* bytes of one public key parameter */
#define JWK_CANON_MAX ((size_t)3 * JWK_MEMBER_MAX)
#define JWK_B64_EXTRA "-_"	/* base64url beyond [A-Za-z0-9] */

/* The required public members of a JWK (RFC 7638 section 3.2). */
struct jwk_pub {
	const char *kty;	/* "RSA" or "EC" */
	const char *crv;	/* EC only */
	char *a;		/* RSA: n; EC: x (base64url) */
	char *b;		/* RSA: e; EC: y (base64url) */
};

static void
jwk_pub_clear(struct jwk_pub *p)
{
	free(p->a);
	free(p->b);
	p->a = p->b = NULL;
}

/*
 * base64url of the big-endian unsigned integer parameter name of pkey:
 * minimal (no leading zero byte, RFC 7518 section 6.3.1) when pad is 0, else
 * left-padded to exactly pad bytes (EC coordinates, section 6.2.1.2).
 */
static char *
jwk_bn_b64(const EVP_PKEY *pkey, const char *name, size_t pad)
{
	unsigned char *bin = NULL;
	BIGNUM *bn = NULL;
	char *out = NULL;
	size_t len;
	int n;

	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		return NULL;
	len = pad != 0 ? pad : (size_t)BN_num_bytes(bn);
	if (len == 0 || len > JWK_BN_MAX || (bin = malloc(len)) == NULL)
		goto done;
	if (pad != 0)
		n = BN_bn2binpad(bn, bin, (int)len);
	else
		n = BN_bn2bin(bn, bin);
	if (n < 0 || (size_t)n != len)
		goto done;
	out = b64url_encode(bin, len);
done:
	free(bin);
	BN_free(bn);
	return out;
}

static int
jwk_pub_from_pkey(EVP_PKEY *pkey, enum key_alg alg, struct jwk_pub *p)
{
	memset(p, 0, sizeof(*p));
	if (alg == KEY_RS256) {
		p->kty = "RSA";
		p->a = jwk_bn_b64(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
		p->b = jwk_bn_b64(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
	} else if (alg == KEY_ES256) {
		p->kty = "EC";
		p->crv = "P-256";
		p->a = jwk_bn_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_X,
		    KEYS_EC_COORD_LEN);
		p->b = jwk_bn_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
		    KEYS_EC_COORD_LEN);
	}
	if (p->a == NULL || p->b == NULL) {
		jwk_pub_clear(p);
		return -1;
	}
	return 0;
}

/*
 * The thumbprint: SHA-256 of the required members in lexicographic order,
 * no whitespace (RFC 7638 section 3). The members are checked to be plain
 * tokens beforehand, so no JSON escaping can arise and printing them is the
 * canonical form.
 */
static int
jwk_thumbprint(const char *kty, const char *crv, const char *a, const char *b,
    char kid[KEYS_KID_MAX])
{
	unsigned char digest[32];
	struct buf canon;
	char *enc = NULL;
	int rc = -1;

	buf_init(&canon, JWK_CANON_MAX);
	if (strcmp(kty, "RSA") == 0) {
		if (buf_printf(&canon, "{\"e\":\"%s\",\"kty\":\"RSA\","
		    "\"n\":\"%s\"}", b, a) == -1)
			goto done;
	} else if (crv == NULL || buf_printf(&canon, "{\"crv\":\"%s\","
	    "\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, a, b) == -1)
		goto done;
	sha256(canon.data, canon.len, digest);
	if ((enc = b64url_encode(digest, sizeof(digest))) == NULL)
		goto done;
	if (str_copy(kid, enc, KEYS_KID_MAX) >= KEYS_KID_MAX)
		goto done;
	rc = 0;
done:
	free(enc);
	buf_free(&canon);
	return rc;
}

int
keys_jwk_kid(EVP_PKEY *pkey, enum key_alg alg, char kid[KEYS_KID_MAX])
{
	struct jwk_pub p;
	int rc;

	if (jwk_pub_from_pkey(pkey, alg, &p) == -1)
		return -1;
	rc = jwk_thumbprint(p.kty, p.crv, p.a, p.b, kid);
	jwk_pub_clear(&p);
	return rc;
}

/* The string member name of obj if it is a token of [A-Za-z0-9] + extra. */
static const char *
jwk_member(const json_t *obj, const char *name, const char *extra)
{
	const char *s = json_string_value(json_object_get(obj, name));

	if (s == NULL || !str_is_token(s, JWK_MEMBER_MAX, extra))
		return NULL;
	return s;
}

int
keys_jwk_thumbprint(const char *jwk_json, char kid[KEYS_KID_MAX])
{
	const char *kty, *a, *b, *crv = NULL;
	json_t *jwk = NULL;
	int rc = -1;

	if (jwk_json == NULL || kid == NULL)
		return -1;
	jwk = json_loads(jwk_json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(jwk))
		goto done;
	if ((kty = json_string_value(json_object_get(jwk, "kty"))) == NULL)
		goto done;
	if (strcmp(kty, "RSA") == 0) {
		a = jwk_member(jwk, "n", JWK_B64_EXTRA);
		b = jwk_member(jwk, "e", JWK_B64_EXTRA);
	} else if (strcmp(kty, "EC") == 0) {
		crv = jwk_member(jwk, "crv", "-");
		a = jwk_member(jwk, "x", JWK_B64_EXTRA);
		b = jwk_member(jwk, "y", JWK_B64_EXTRA);
		if (crv == NULL)
			goto done;
	} else
		goto done;
	if (a == NULL || b == NULL)
		goto done;
	rc = jwk_thumbprint(kty, crv, a, b, kid);
done:
	json_decref(jwk);
	return rc;
}

/* One published key: the public members only, never d, p, q, ... */
static json_t *
jwk_entry(const struct keys_entry *k)
{
	struct jwk_pub p;
	json_t *o;

	if (jwk_pub_from_pkey(k->pkey, k->alg, &p) == -1)
		return NULL;
	if (k->alg == KEY_RS256)
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", p.kty,
		    "use", "sig", "alg", key_alg_name(k->alg), "kid", k->kid,
		    "n", p.a, "e", p.b);
	else
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", p.kty,
		    "crv", p.crv, "use", "sig", "alg", key_alg_name(k->alg),
		    "kid", k->kid, "x", p.a, "y", p.b);
	jwk_pub_clear(&p);
	return o;
}

char *
keys_jwk_jwks(const struct keyset *ks, int64_t now)
{
	const struct keys_entry *k;
	json_t *root, *arr, *o;
	char *out = NULL;
	size_t i;

	if ((arr = json_array()) == NULL)
		return NULL;
	if ((root = json_pack("{s:o}", "keys", arr)) == NULL)
		return NULL;	/* json_pack's "o" consumed arr */
	for (i = 0; i < ks->nkeys; i++) {
		k = &ks->keys[i];
		if (k->retire_after != 0 && k->retire_after <= now)
			continue;	/* retired: no longer published */
		if ((o = jwk_entry(k)) == NULL ||
		    json_array_append_new(arr, o) == -1)
			goto done;
	}
	out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (out != NULL && strlen(out) > KEYS_JWKS_MAX) {
		free(out);
		out = NULL;
	}
done:
	json_decref(root);
	return out;
}
