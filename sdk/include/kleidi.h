/*
 * kleidi.h - the Kleidi relying-party SDK: verify the access tokens and ID
 * tokens that a Kleidi issuer signs, then read their claims.
 *
 * This header is the whole public API and its specification.
 *
 *   kl_verifier *v = kl_verifier_new_url("https://sso.example.gr",
 *       "https://sso.example.gr/jwks.json", NULL, &err);
 *   ...
 *   kl_claims *c;
 *   if (kl_verify_access_token(v, token, "payroll", &c, &err) != KL_OK)
 *           answer 401 (kl_error_is_rejection(err.code)) or 503 (others);
 *   else if (!kl_claims_has_role(c, "clerk"))
 *           answer 403;
 *   kl_claims_free(c);
 *
 * Rules that hold for every function:
 * - Every result other than KL_OK means "not authenticated". A verifier
 *   never fails open: a NULL verifier, token or audience is an error.
 * - Every kl_error *err argument may be NULL. When given, it receives the
 *   code and a one-line English explanation, also on success (KL_OK, "").
 *   The explanation never quotes token content.
 * - Every *_free accepts NULL. Out-parameters are NULL on failure.
 * - Strings returned by kl_claims_* are borrowed: they live as long as the
 *   claims object.
 * - A verifier is safe to use from many threads at once; only
 *   kl_verifier_free must not race with other calls on the same verifier.
 *   A claims object may be read from several threads, freed by one.
 * - Times are seconds since the epoch (UTC).
 */
#ifndef KLEIDI_H
#define KLEIDI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KL_VERSION_STRING "0.1.0"
#define KL_VERSION_MAJOR 0
#define KL_VERSION_MINOR 1
#define KL_VERSION_PATCH 0

#if defined(__GNUC__)
#define KL_EXPORT __attribute__((visibility("default")))
#define KL_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define KL_EXPORT
#define KL_WARN_UNUSED
#endif
/*
 * No nonnull attributes on purpose: with them the compiler may delete the
 * library's own NULL checks, and a NULL must stay an error, not a crash or
 * a "valid".
 */

/* Hard limits. Inputs past them are refused, never truncated. */
#define KL_TOKEN_MAX		16384	/* bytes of a compact JWS */
#define KL_JWKS_MAX		262144	/* bytes of a JWKS document */
#define KL_JWKS_KEYS_MAX	100	/* entries in "keys" */
#define KL_KID_MAX		128	/* bytes of a key id */
#define KL_ISSUER_MAX		1024	/* bytes of an issuer or JWKS URL */
#define KL_RSA_MIN_BITS		2048
#define KL_RSA_MAX_BITS		8192
#define KL_ERROR_TEXT_MAX	160

/* Defaults of kl_options (seconds unless named otherwise). */
#define KL_LEEWAY_DEFAULT	60
#define KL_LEEWAY_MAX		600
#define KL_REFRESH_DEFAULT	3600
#define KL_MIN_REFRESH_DEFAULT	60
#define KL_HTTP_TIMEOUT_MS_DEFAULT 10000

/*
 * Result codes. The numbers are stable and never reused; a code that goes
 * out of use stays reserved.
 *   1-99    the token is rejected: answer 401.
 *   100-199 the token could not be checked: answer 500/503, retry later.
 */
enum kl_result {
	KL_OK = 0,

	KL_ERR_MALFORMED = 1,	   /* not a well-formed compact JWS/JWT */
	KL_ERR_ALG = 2,		   /* alg not allowed for this key (none,
				      HS*, PS*, or not the key's alg) */
	KL_ERR_UNKNOWN_KID = 3,	   /* no key of the issuer has this kid */
	KL_ERR_SIGNATURE = 4,	   /* signature does not verify */
	KL_ERR_EXPIRED = 5,	   /* exp is past (beyond the leeway) */
	KL_ERR_NOT_YET_VALID = 6,  /* nbf is in the future */
	KL_ERR_ISSUED_IN_FUTURE = 7, /* iat is in the future */
	KL_ERR_ISSUER = 8,	   /* iss is not the verifier's issuer */
	KL_ERR_AUDIENCE = 9,	   /* aud (or azp) does not name the caller */
	KL_ERR_TYPE = 10,	   /* header typ wrong for this kind of token */
	KL_ERR_NONCE = 11,	   /* ID token nonce missing or different */
	KL_ERR_CLAIM = 12,	   /* required claim missing or mistyped */
	KL_ERR_CRIT = 13,	   /* header has crit (none understood) */
	KL_ERR_EVENT = 14,	   /* logout token without the back-channel
				      logout event */

	KL_ERR_ARGUMENT = 100,	   /* NULL or invalid argument or option */
	KL_ERR_NOMEM = 101,	   /* out of memory */
	KL_ERR_CRYPTO = 102,	   /* OpenSSL failed (not a bad signature) */
	KL_ERR_FETCH = 103,	   /* JWKS could not be fetched */
	KL_ERR_JWKS = 104,	   /* JWKS refused: malformed, weak or no key */
	KL_ERR_INTERNAL = 105	   /* threading primitive failed */
};

typedef struct kl_error {
	int	code;				/* an enum kl_result */
	char	text[KL_ERROR_TEXT_MAX];	/* NUL-terminated */
} kl_error;

/* Static English text for a code; "unknown result code" for others. */
KL_EXPORT const char *kl_strerror(int code);

/* 1 when code says the token itself is bad (1-99), else 0 (KL_OK too). */
KL_EXPORT int kl_error_is_rejection(int code);

/* The library's version, KL_VERSION_STRING of the build that runs. */
KL_EXPORT const char *kl_version(void);

/*
 * Options of a verifier. Always start from kl_options_init(), which sets
 * version and the defaults, then change fields: a future library can then
 * grow the struct and still read an older one.
 */
#define KL_OPTIONS_VERSION 1
#define KL_LAZY_FETCH 0x1u	/* kl_verifier_new_url: do not fetch now; the
				   first verification fetches */

typedef struct kl_options {
	unsigned int	version;	/* KL_OPTIONS_VERSION */
	unsigned int	flags;		/* KL_LAZY_FETCH */
	int64_t		leeway;		/* clock skew, 0..KL_LEEWAY_MAX */
	int64_t		refresh_interval; /* refetch the JWKS after this */
	int64_t		min_refresh_interval; /* at most one fetch per this,
					   whatever the reason; >= 1 */
	long		http_timeout_ms; /* whole JWKS request, >= 1 */
	const char	*ca_file;	/* CA bundle for HTTPS; NULL: system */
	const char	*ca_path;	/* CA directory; NULL: system */
	/* The clock: seconds since the epoch. NULL: the system clock. Tests
	 * inject one; it must be safe to call from several threads. */
	int64_t		(*now)(void *arg);
	void		*now_arg;
} kl_options;

KL_EXPORT void kl_options_init(kl_options *opt);

typedef struct kl_verifier kl_verifier;
typedef struct kl_claims kl_claims;

/*
 * A verifier for tokens of one issuer, with keys from a JWKS document
 * (RFC 7517) given as bytes; no I/O, the keys never change. opt may be NULL
 * (defaults). issuer must equal the tokens' iss exactly.
 *
 * JWKS rules: at most KL_JWKS_MAX bytes and KL_JWKS_KEYS_MAX keys; keys with
 * "use" other than "sig", "key_ops" without "verify", or a kty other than
 * RSA and EC are skipped; so are keys whose alg is not RS256 (RSA) or ES256
 * (EC P-256). A key without alg gets RS256 (RSA) or ES256 (P-256). Usable
 * keys need a unique kid. The whole document is refused (KL_ERR_JWKS) for
 * an RSA key outside KL_RSA_MIN_BITS..KL_RSA_MAX_BITS, an alg that does not
 * fit the kty, an EC point not on the curve, private key members, malformed
 * members, or no usable key at all.
 *
 * Errors: KL_ERR_ARGUMENT, KL_ERR_JWKS, KL_ERR_NOMEM, KL_ERR_CRYPTO,
 * KL_ERR_INTERNAL. Free with kl_verifier_free.
 */
KL_EXPORT kl_verifier *kl_verifier_new_jwks(const char *issuer,
    const char *jwks, size_t jwks_len, const kl_options *opt, kl_error *err);

/*
 * A verifier with keys from a JWKS file (for example one an operator copied
 * from the issuer's /jwks), read once now: as kl_verifier_new_jwks.
 * Errors: those of kl_verifier_new_jwks; KL_ERR_JWKS also when the file
 * cannot be read or is larger than KL_JWKS_MAX.
 */
KL_EXPORT kl_verifier *kl_verifier_new_file(const char *issuer,
    const char *path, const kl_options *opt, kl_error *err);

/*
 * A verifier that fetches the JWKS from jwks_url with libcurl, at once
 * (unless KL_LAZY_FETCH) and then again:
 * - when the keys are older than opt->refresh_interval;
 * - when a token names a kid the cached keys lack; the lookup is retried
 *   once with the fresh keys.
 * Whatever the reason, at most one fetch starts per min_refresh_interval,
 * for all threads together; threads that need keys being fetched wait for
 * that fetch. A failed or refused fetch keeps the keys already cached, and
 * a kid they lack then gives KL_ERR_FETCH or KL_ERR_JWKS (could not check)
 * rather than KL_ERR_UNKNOWN_KID (rejected).
 * A fetch runs in the thread whose verification needs it and takes at
 * most http_timeout_ms. The URL must be https://, or http:// to
 * 127.0.0.1, localhost or [::1]. Redirects are not followed; the answer
 * must be 200.
 *
 * Errors: those of kl_verifier_new_jwks, and KL_ERR_FETCH.
 */
KL_EXPORT kl_verifier *kl_verifier_new_url(const char *issuer,
    const char *jwks_url, const kl_options *opt, kl_error *err);

/* Frees the verifier and its keys. No other call on v may run or follow. */
KL_EXPORT void kl_verifier_free(kl_verifier *v);

/*
 * Verifies an OAuth 2.0 access token (RFC 9068) for the resource server
 * `audience`: header typ "at+jwt" or "application/at+jwt"; alg the alg of
 * the key named by kid (keys the token itself names or carries - jku, jwk,
 * x5u, x5c - are ignored); no crit; the signature; iss equal to the
 * issuer; aud (string or array) naming audience; exp, iat required, nbf
 * optional, all JSON numbers, checked with the leeway; sub and client_id
 * non-empty strings. Duplicate JSON members refuse the token.
 *
 * On KL_OK and out != NULL, *out receives the claims (free with
 * kl_claims_free). On failure *out is NULL.
 * Errors: the rejections 1-13 except KL_ERR_NONCE, KL_ERR_ARGUMENT,
 * KL_ERR_NOMEM, KL_ERR_CRYPTO, KL_ERR_FETCH or KL_ERR_JWKS (no keys could
 * be had for the token).
 */
KL_EXPORT KL_WARN_UNUSED int kl_verify_access_token(kl_verifier *v,
    const char *token, const char *audience, kl_claims **out, kl_error *err);

/*
 * Verifies an OpenID Connect ID token for client_id: as an access token,
 * except that typ, when present, must be "JWT" (so an access token is not
 * taken for an ID token), client_id is not required, and:
 * - if nonce is not NULL, the token's nonce must equal it (KL_ERR_NONCE);
 * - if aud has several values, azp is required; azp, when present, must
 *   equal client_id (KL_ERR_AUDIENCE).
 * nonce, when given, must not be empty. Errors: those of
 * kl_verify_access_token, and KL_ERR_NONCE.
 */
KL_EXPORT KL_WARN_UNUSED int kl_verify_id_token(kl_verifier *v,
    const char *token, const char *client_id, const char *nonce,
    kl_claims **out, kl_error *err);

/*
 * Verifies an ID token that comes back as a hint (the id_token_hint of
 * OpenID Connect RP-Initiated Logout 1.0): as kl_verify_id_token without a
 * nonce, except that an exp in the past is accepted, since the hint may
 * name a session long over. Never use it to let anyone in: it proves only
 * that the issuer once signed this token for client_id.
 * Errors: those of kl_verify_id_token but KL_ERR_EXPIRED and KL_ERR_NONCE.
 */
KL_EXPORT KL_WARN_UNUSED int kl_verify_id_token_hint(kl_verifier *v,
    const char *token, const char *client_id, kl_claims **out,
    kl_error *err);

/*
 * Verifies a logout token (OpenID Connect Back-Channel Logout 1.0, 2.6)
 * that the issuer POSTed to client_id's backchannel_logout_uri as the form
 * field logout_token: header typ, when present, "logout+jwt" or
 * "application/logout+jwt"; alg, kid, crit and the signature as for
 * access tokens; iss the issuer; aud naming client_id; exp and iat
 * required and checked with the leeway, nbf when present; an "events"
 * object with the member "http://schemas.openid.net/event/backchannel-
 * logout" (an object), else KL_ERR_EVENT; no "nonce" (KL_ERR_CLAIM); sub
 * or sid, each a string when present (KL_ERR_CLAIM). On KL_OK the app
 * ends the sessions of sub, or of the session sid (kl_claims_string(c,
 * "sid")), and answers 200; on a rejection 400. The jti claim is there
 * for an app that keeps seen ones to refuse replays; the SDK does not.
 * Errors: those of kl_verify_access_token, and KL_ERR_EVENT.
 */
KL_EXPORT KL_WARN_UNUSED int kl_verify_logout_token(kl_verifier *v,
    const char *token, const char *client_id, kl_claims **out,
    kl_error *err);

/*
 * Asks the issuer's introspection endpoint (RFC 7662; its URL is the
 * discovery document's introspection_endpoint) whether token is active
 * now: for apps that must see a revocation at once rather than when the
 * token expires. The app authenticates as a confidential client
 * (client_secret_basic). opt may be NULL; only http_timeout_ms, ca_file
 * and ca_path are used. On KL_OK, *active is 1 or 0, and when active and
 * out is not NULL, *out receives the answer's members as claims (sub,
 * client_id, scope, exp, org, roles...; free with kl_claims_free).
 * A network or server failure is KL_ERR_FETCH: "could not check", never
 * "inactive" and never "active". The URL must be https://, or http:// to
 * a loopback host. Thread-safe; each call makes one HTTP request.
 * Errors: KL_ERR_ARGUMENT, KL_ERR_FETCH, KL_ERR_NOMEM, KL_ERR_INTERNAL.
 */
KL_EXPORT KL_WARN_UNUSED int kl_introspect(const char *url,
    const char *client_id, const char *client_secret, const char *token,
    const kl_options *opt, int *active, kl_claims **out, kl_error *err);

KL_EXPORT void kl_claims_free(kl_claims *c);

/*
 * Claim accessors. Strings are borrowed (lifetime: the claims object) and
 * NULL when the claim is absent or not a string, or when c is NULL.
 */
KL_EXPORT const char *kl_claims_string(const kl_claims *c, const char *name);
KL_EXPORT const char *kl_claims_sub(const kl_claims *c);
KL_EXPORT const char *kl_claims_iss(const kl_claims *c);
KL_EXPORT const char *kl_claims_org(const kl_claims *c);
KL_EXPORT const char *kl_claims_user_type(const kl_claims *c);
KL_EXPORT const char *kl_claims_acr(const kl_claims *c);
KL_EXPORT const char *kl_claims_client_id(const kl_claims *c);
KL_EXPORT const char *kl_claims_scope(const kl_claims *c);

/*
 * A numeric claim (JSON integer, or real rounded down) in *out. KL_OK, or
 * KL_ERR_CLAIM when absent, not a number or a real beyond +-2^62 (*out is
 * then 0), or KL_ERR_ARGUMENT.
 */
KL_EXPORT int kl_claims_int(const kl_claims *c, const char *name,
    int64_t *out);
/* exp and iat (always present in verified claims) and auth_time; 0 when
 * absent. */
KL_EXPORT int64_t kl_claims_exp(const kl_claims *c);
KL_EXPORT int64_t kl_claims_iat(const kl_claims *c);
KL_EXPORT int64_t kl_claims_auth_time(const kl_claims *c);

/*
 * Array claims of strings. kl_claims_array_len gives the number of elements
 * (0 when absent or not an array); kl_claims_array_string the i-th element
 * when it is a string, else NULL.
 */
KL_EXPORT size_t kl_claims_array_len(const kl_claims *c, const char *name);
KL_EXPORT const char *kl_claims_array_string(const kl_claims *c,
    const char *name, size_t i);

/* 1 when the array claim "roles" (resp. "amr") holds exactly this string,
 * or the space-separated "scope" holds this scope; 0 otherwise, also for
 * NULL arguments. */
KL_EXPORT int kl_claims_has_role(const kl_claims *c, const char *role);
KL_EXPORT int kl_claims_has_amr(const kl_claims *c, const char *amr);
KL_EXPORT int kl_claims_has_scope(const kl_claims *c, const char *scope);

/* The payload as the issuer signed it (JSON text, NUL-terminated); for
 * logging and debugging only: it holds personal data. */
KL_EXPORT const char *kl_claims_json(const kl_claims *c);

#ifdef __cplusplus
}
#endif

#endif /* KLEIDI_H */
