/*
 * keys_sign.c - compact JWS (RFC 7515) with RS256 and ES256 (RFC 7518).
 *
 * Thread-safe without locks: the keyset is read-only after load, and every
 * call signs with its own copy (EVP_PKEY_CTX_dup) of the key's signing
 * context made at load. No PEM is parsed here, and no algorithm fetched:
 * SHA-256 is hashed with the keyset's EVP_MD, the hash signed with
 * EVP_PKEY_sign - what EVP_DigestSign does, without its per-call fetches
 * and context copies (a third of an ES256 signature; tests/bench).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "keys_int.h"
#include "util/util.h"

#define SIGN_CLAIMS_MAX ((size_t)64 * 1024)	/* bytes of the payload JSON */
#define SIGN_TYP_MAX 64
#define SIGN_TYP_EXTRA "+-._/"		/* "JWT", "at+jwt", "logout+jwt" */
#define SIGN_JWT_MAX (2 * SIGN_CLAIMS_MAX)
#define SIGN_SIG_MAX (KEYS_RSA_BITS_MAX / 8)	/* DER ECDSA is far less */
#define SIGN_ES256_LEN (2 * KEYS_EC_COORD_LEN)

/*
 * The key that signs for alg at now: among keys of alg that have started
 * (not_before <= now) and are still published, the newest by created
 * (then by not_before, then the later in the manifest). A retired key never
 * signs: no relying party could verify it against the JWKS.
 */
const struct keys_entry *
keys_sign_pick(const keyset *ks, enum key_alg alg, int64_t now)
{
	const struct keys_entry *best = NULL, *k;
	size_t i;

	for (i = 0; i < ks->nkeys; i++) {
		k = &ks->keys[i];
		if (k->alg != alg || k->not_before > now)
			continue;
		if (k->retire_after != 0 && k->retire_after <= now)
			continue;
		if (best == NULL || k->created > best->created ||
		    (k->created == best->created &&
		    k->not_before >= best->not_before))
			best = k;
	}
	return best;
}

int
keyset_can_sign(const keyset *ks, enum key_alg alg, int64_t now)
{
	if (ks == NULL)
		return 0;
	return keys_sign_pick(ks, alg, now) != NULL;
}

/* JWS wants ECDSA as the fixed-size R || S, not the DER that OpenSSL
 * produces (RFC 7518 section 3.4). */
static int
sign_der_to_jose(const unsigned char *der, size_t derlen,
    unsigned char out[SIGN_ES256_LEN])
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	int rc = -1;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		return -1;
	if (p != der + derlen)
		goto done;	/* trailing bytes: not one signature */
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, KEYS_EC_COORD_LEN) != KEYS_EC_COORD_LEN ||
	    BN_bn2binpad(s, out + KEYS_EC_COORD_LEN, KEYS_EC_COORD_LEN) !=
	    KEYS_EC_COORD_LEN)
		goto done;
	rc = 0;
done:
	ECDSA_SIG_free(sig);
	return rc;
}

EVP_PKEY_CTX *
keys_sign_ctx_new(EVP_PKEY *pkey, enum key_alg alg)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

	if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
	    (alg == KEY_RS256 && EVP_PKEY_CTX_set_rsa_padding(ctx,
	    RSA_PKCS1_PADDING) != 1)) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Signs jws (the signing input so far) with SHA-256 and appends "." and
 * the base64url signature. */
static int
sign_append_sig(const keyset *ks, const struct keys_entry *k,
    struct buf *jws)
{
	unsigned char sig[SIGN_SIG_MAX], jose[SIGN_ES256_LEN];
	unsigned char digest[EVP_MAX_MD_SIZE];
	const unsigned char *out = sig;
	size_t siglen = sizeof(sig);
	unsigned int dlen;
	EVP_PKEY_CTX *ctx = NULL;
	char *enc = NULL;
	int rc = -1;

	if (EVP_Digest(jws->data, jws->len, digest, &dlen, ks->sha256, NULL)
	    != 1 || (ctx = EVP_PKEY_CTX_dup(k->sign_ctx)) == NULL)
		goto done;
	/* sig fits the largest key load accepts; siglen says how much. */
	if (EVP_PKEY_sign(ctx, sig, &siglen, digest, dlen) != 1 ||
	    siglen > sizeof(sig))
		goto done;
	if (k->alg == KEY_ES256) {
		if (sign_der_to_jose(sig, siglen, jose) == -1)
			goto done;
		out = jose;
		siglen = sizeof(jose);
	}
	if ((enc = b64url_encode(out, siglen)) == NULL)
		goto done;
	if (buf_puts(jws, ".") == -1 || buf_puts(jws, enc) == -1)
		goto done;
	rc = 0;
done:
	free(enc);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* The payload must be one JSON object with no duplicate names: two
 * parsers reading different values of one claim is a classic forgery. */
static int
sign_claims_ok(const char *claims, size_t *len)
{
	json_t *o;
	int ok;

	*len = strnlen(claims, SIGN_CLAIMS_MAX + 1);
	if (*len == 0 || *len > SIGN_CLAIMS_MAX)
		return 0;
	o = json_loadb(claims, *len, JSON_REJECT_DUPLICATES, NULL);
	ok = json_is_object(o);
	json_decref(o);
	return ok;
}

/* base64url(header) "." base64url(payload), into jws. */
static int
sign_input(const struct keys_entry *k, const char *typ, const char *claims,
    size_t claimslen, struct buf *jws)
{
	char header[128 + KEYS_KID_MAX + SIGN_TYP_MAX];
	char *h64 = NULL, *p64 = NULL;
	int n, rc = -1;

	n = snprintf(header, sizeof(header),
	    "{\"alg\":\"%s\",\"typ\":\"%s\",\"kid\":\"%s\"}",
	    key_alg_name(k->alg), typ, k->kid);
	if (n < 0 || (size_t)n >= sizeof(header))
		return -1;
	h64 = b64url_encode((const unsigned char *)header, (size_t)n);
	p64 = b64url_encode((const unsigned char *)claims, claimslen);
	if (h64 == NULL || p64 == NULL)
		goto done;
	if (buf_puts(jws, h64) == -1 || buf_puts(jws, ".") == -1 ||
	    buf_puts(jws, p64) == -1)
		goto done;
	rc = 0;
done:
	free(h64);
	free(p64);
	return rc;
}

/* Signs claims (claimslen bytes of one JSON object) as a compact JWS. */
static char *
sign_jws(const keyset *ks, enum key_alg alg, const char *typ,
    const char *claims, size_t claimslen, int64_t now)
{
	const struct keys_entry *k;
	struct buf jws;

	if (typ == NULL)
		typ = "JWT";
	if (!str_is_token(typ, SIGN_TYP_MAX, SIGN_TYP_EXTRA)) {
		log_err("keys: refusing to sign: bad typ");
		return NULL;
	}
	if ((k = keys_sign_pick(ks, alg, now)) == NULL) {
		log_err("keys: no %s key can sign now",
		    key_alg_name(alg) != NULL ? key_alg_name(alg) : "?");
		return NULL;
	}
	buf_init(&jws, SIGN_JWT_MAX);
	if (sign_input(k, typ, claims, claimslen, &jws) == -1 ||
	    sign_append_sig(ks, k, &jws) == -1) {
		log_err("keys: signing with key %s failed", k->kid);
		ERR_clear_error();
		buf_free(&jws);
		return NULL;
	}
	return buf_steal(&jws);
}

char *
keyset_sign_jwt(const keyset *ks, enum key_alg alg, const char *typ,
    const char *claims_json, int64_t now)
{
	size_t claimslen;

	if (ks == NULL || claims_json == NULL)
		return NULL;
	if (!sign_claims_ok(claims_json, &claimslen)) {
		log_err("keys: refusing to sign: claims are not one JSON "
		    "object of at most %zu bytes", SIGN_CLAIMS_MAX);
		return NULL;
	}
	return sign_jws(ks, alg, typ, claims_json, claimslen, now);
}

char *
keyset_sign_claims(const keyset *ks, enum key_alg alg, const char *typ,
    const json_t *claims, int64_t now)
{
	char *payload, *jwt = NULL;
	size_t len;

	if (ks == NULL || !json_is_object(claims))
		return NULL;
	/* A jansson object holds each name once: nothing to re-parse. */
	if ((payload = json_dumps(claims, JSON_COMPACT)) == NULL)
		return NULL;
	len = strlen(payload);
	if (len <= SIGN_CLAIMS_MAX)
		jwt = sign_jws(ks, alg, typ, payload, len, now);
	else
		log_err("keys: refusing to sign: claims over %zu bytes",
		    SIGN_CLAIMS_MAX);
	free(payload);
	return jwt;
}
