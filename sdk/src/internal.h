/*
 * internal.h - what the SDK's files share and no application sees.
 *
 * Internal functions carry the kl_ prefix too (kl_<file>_*): the static
 * library is linked into applications and into the server, which have
 * helpers of their own (b64url_decode, sha256...), and a shared prefix would
 * collide. The shared library hides them (-fvisibility=hidden); only
 * KL_EXPORT functions of kleidi.h leave it.
 */
#ifndef KLEIDI_SDK_INTERNAL_H
#define KLEIDI_SDK_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "kleidi.h"

#define KL_HEADER_B64_MAX	2048	/* encoded JWS header */
#define KL_SIG_MAX		(KL_RSA_MAX_BITS / 8)
#define KL_ES256_SIG_LEN	64	/* R || S, 32 bytes each */
#define KL_FETCH_USER_AGENT	"kleidi-sdk/" KL_VERSION_STRING

enum kl_alg { KL_ALG_RS256 = 0, KL_ALG_ES256 = 1 };

/* ---- error.c */
/* Fills err (if any) and returns code. */
int kl_error_set(kl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int kl_error_ok(kl_error *err);		/* KL_OK and an empty text */

/* ---- ascii.c */
/* 1 when a and b are equal but for the case of ASCII letters. */
int kl_ascii_caseeq(const char *a, const char *b);

/* ---- b64url.c: base64url without padding, strict (RFC 7515 section 2) */
/* Bytes that inlen characters decode to; 0 for an impossible length. */
size_t kl_b64url_decoded_len(size_t inlen);
/* Decodes in into out (room for outmax bytes). Refuses padding, characters
 * outside the alphabet, impossible lengths, non-zero trailing bits, and
 * results longer than outmax. 0 with *outlen set, or -1. */
int kl_b64url_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outmax, size_t *outlen);

/* ---- jwk.c: one JWK object to an OpenSSL public key */
struct kl_key {
	char		 kid[KL_KID_MAX + 1];
	size_t		 kidlen;
	enum kl_alg	 alg;
	EVP_PKEY	*pkey;
	/*
	 * A context already set up for verification with this key and
	 * SHA-256, built once at load: each verification duplicates it, which
	 * skips the algorithm fetches of a fresh EVP_DigestVerifyInit. Only
	 * ever read after load, so threads may duplicate it at once.
	 */
	EVP_PKEY_CTX	*vctx;
	size_t		 siglen;	/* exact signature length */
};

/* Builds key (kid, alg, pkey, vctx) from jwk. KL_OK; a skippable key gives
 * KL_ERR_ALG (unsupported, not an error of the document); KL_ERR_JWKS,
 * KL_ERR_NOMEM or KL_ERR_CRYPTO refuse the document. */
int kl_jwk_load(json_t *jwk, const EVP_MD *sha256, struct kl_key *key,
    kl_error *err);
void kl_jwk_clear(struct kl_key *key);

/* ---- jwks.c: a JWKS document as an immutable, shared set of keys */
typedef struct kl_keyset {
	unsigned int	refs;		/* guarded by the verifier's lock */
	size_t		nkeys;
	struct kl_key	keys[];
} kl_keyset;

int kl_jwks_parse(const char *json, size_t len, const EVP_MD *sha256,
    kl_keyset **out, kl_error *err);
void kl_jwks_free(kl_keyset *ks);
const struct kl_key *kl_jwks_find(const kl_keyset *ks, const char *kid,
    size_t kidlen);

/* ---- jws.c: a compact JWS, split and with its header parsed */
struct kl_jws {
	const char	*token;
	size_t		 signed_len;	/* "header.payload" */
	const char	*payload;	/* base64url text */
	size_t		 payload_len;
	const char	*sig;		/* base64url text */
	size_t		 sig_len;
	json_t		*header;
	enum kl_alg	 alg;
	const char	*kid;		/* borrowed from header */
	size_t		 kidlen;
	const char	*typ;		/* borrowed from header; NULL: absent */
};

/* Splits token and checks its header: KL_OK, KL_ERR_MALFORMED, KL_ERR_ALG,
 * KL_ERR_CRIT, KL_ERR_NOMEM. Call kl_jws_clear afterwards in every case. */
int kl_jws_parse(const char *token, struct kl_jws *jws, kl_error *err);
void kl_jws_clear(struct kl_jws *jws);
/* Checks the signature with key: KL_OK, KL_ERR_ALG, KL_ERR_MALFORMED,
 * KL_ERR_SIGNATURE, KL_ERR_NOMEM, KL_ERR_CRYPTO. */
int kl_jws_verify(const struct kl_jws *jws, const struct kl_key *key,
    const EVP_MD *sha256, kl_error *err);

/* ---- claims.c */
enum kl_token_kind {
	KL_TOKEN_ACCESS,
	KL_TOKEN_ID,
	KL_TOKEN_ID_HINT,	/* an ID token as a hint: exp may be past */
	KL_TOKEN_LOGOUT		/* Back-Channel Logout 1.0 logout token */
};

struct kl_expect {
	enum kl_token_kind	 kind;
	const char		*issuer;
	const char		*audience;	/* resource, or client */
	const char		*nonce;		/* id tokens; NULL: no check */
	int64_t			 now;
	int64_t			 leeway;
};

/* Decodes and parses the payload of a verified jws. */
int kl_claims_decode(const struct kl_jws *jws, kl_claims **out,
    kl_error *err);
/* Claims over a JSON object text (copied), e.g. an introspection answer. */
int kl_claims_from_json(const char *json, size_t len, kl_claims **out,
    kl_error *err);
/* The claim checks for a token of kind exp->kind. */
int kl_claims_check(const kl_claims *c, const struct kl_expect *exp,
    kl_error *err);

/* ---- fetch.c: the JWKS over HTTP(S) with libcurl */
struct kl_fetch {
	char	*url;
	char	*ca_file;
	char	*ca_path;
	long	 timeout_ms;
	int	 loopback;	/* http:// to a loopback host */
};

/* Checks the URL (https, or http to loopback) and fills f (copies). */
int kl_fetch_init(struct kl_fetch *f, const char *url, const kl_options *opt,
    kl_error *err);
void kl_fetch_clear(struct kl_fetch *f);
/* GETs the document: KL_OK with *body (malloc'd, NUL-terminated) and *len,
 * or KL_ERR_FETCH / KL_ERR_NOMEM. */
int kl_fetch_get(const struct kl_fetch *f, char **body, size_t *len,
    kl_error *err);
/* POSTs form (application/x-www-form-urlencoded) with HTTP Basic user and
 * password (already form-encoded, RFC 6749 2.3.1); same answers. */
int kl_fetch_post(const struct kl_fetch *f, const char *form,
    const char *user, const char *password, char **body, size_t *len,
    kl_error *err);

/* ---- verifier.c and cache.c: the verifier and its cached keys */
struct kl_verifier {
	char		*issuer;
	int64_t		 leeway;
	int64_t		 refresh;
	int64_t		 min_refresh;
	int64_t		(*now)(void *);
	void		*now_arg;
	EVP_MD		*sha256;	/* fetched once */
	int		 remote;	/* keys come from fetch */
	struct kl_fetch	 fetch;

	pthread_mutex_t	 lock;
	pthread_cond_t	 fetched;	/* a fetch ended */
	/* Guarded by lock: */
	kl_keyset	*keys;		/* current; NULL before a first fetch */
	int		 fetching;
	int		 last_fetch_rc;	/* KL_OK: the last fetch got keys */
	int		 attempted;	/* a fetch has started once */
	int64_t		 attempt_at;	/* start of the last fetch */
	int64_t		 loaded_at;	/* start of the last good fetch */
	unsigned int	 generation;	/* count of ended fetches */
};

int64_t kl_verifier_now(const kl_verifier *v);

/* The current keys (a reference: give it back with kl_cache_release), after
 * a refresh when they are due. KL_ERR_FETCH when there are none. */
int kl_cache_acquire(kl_verifier *v, int64_t now, kl_keyset **out,
    kl_error *err);
void kl_cache_release(kl_verifier *v, kl_keyset *ks);
/* seen lacks a kid: makes newer keys current if a fetch is allowed (or
 * waits for one under way). KL_OK when the caller should look again,
 * KL_ERR_UNKNOWN_KID when nothing newer can be had, KL_ERR_FETCH. */
int kl_cache_refresh_for_kid(kl_verifier *v, const kl_keyset *seen,
    int64_t now, kl_error *err);
/* The first fetch of kl_verifier_new_url. */
int kl_cache_fetch_now(kl_verifier *v, int64_t now, kl_error *err);

#endif /* KLEIDI_SDK_INTERNAL_H */
