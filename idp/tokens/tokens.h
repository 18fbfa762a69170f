/*
 * tokens.h - ID tokens (OpenID Connect Core 2) and JWT access tokens
 * (RFC 9068), signed with the issuer's keys (keys.h, OpenSSL EVP over keys
 * parsed once). Access tokens are stateless: issuing one writes nothing.
 */
#ifndef KLEIDI_TOKENS_H
#define KLEIDI_TOKENS_H

#include <stdint.h>

#include <jansson.h>

#include "keys.h"
#include "store/store.h"

struct token_issuer {
	const keyset *keys;
	const char *issuer;
	int64_t access_ttl;
	int64_t id_ttl;
	int access_alg;		/* enum key_alg for access tokens */
	/* keyset_derive "kleidi pairwise v1": pairwise subs. */
	unsigned char pairwise_key[32];
};

/* What happened and for whom: the input of both tokens. */
struct token_grant {
	const struct user *user;
	const struct app *app;
	const char *scope;	/* granted scopes, space-separated */
	const char *nonce;	/* NULL or "" when the request had none */
	int64_t auth_time;
	unsigned amr;		/* AMR_* bits */
	json_t *roles;		/* borrowed array of role strings */
	/* OpenID Connect Core 5.5: claim names the request asked for in
	 * the ID token, and from UserInfo (carried in the access token as
	 * userinfo_claims, which is stateless); NULL or "": none. */
	const char *claims_id;
	const char *claims_ui;
	/* ID tokens: the session's sid (Back-Channel Logout 1.0, 2.1),
	 * base64url of the session's hash; NULL: none. */
	const char *sid;
};

/* Each returns a malloc'd compact JWS, or NULL on failure (logged). */
char *token_issue_access(const struct token_issuer *ti,
    const struct token_grant *g, int64_t now);
/* access_token (may be NULL) gives the at_hash claim. */
char *token_issue_id(const struct token_issuer *ti,
    const struct token_grant *g, const char *access_token, int64_t now);

/* The sub a's tokens carry for u: u->id, or for an app registered
 * pairwise (OpenID Connect Core 8.1) base64url(HMAC-SHA256(pairwise_key,
 * client_id NUL user id)), the client_id being the sector, so two apps
 * never see the same sub for one person and one app always does. 0 or
 * -1. */
int token_sub_for(const struct token_issuer *ti, const struct user *u,
    const struct app *a, char out[PAIRWISE_SUB_SIZE]);

/* A client_credentials access token (RFC 9068) for client a itself:
 * sub, aud and client_id are a's client_id; roles (borrowed) those granted
 * to the client. malloc'd compact JWS, or NULL (logged).
 * (tokens_client.c) */
char *token_issue_client(const struct token_issuer *ti, const struct app *a,
    json_t *roles, int64_t now);

/* Adds to c each claim named in names (space-separated) that u has data
 * for: name, given_name, family_name, email, email_verified (false: we
 * do not verify addresses), phone_number, phone_number_verified. Other
 * names are skipped (the tokens always carry user_type, org, roles).
 * 0 or -1 (no memory). */
int token_user_claims(json_t *c, const struct user *u, const char *names);

/* Sets a fresh "jti" (128 random bits, base64url) in claims c. 0 or -1. */
int token_set_jti(json_t *c);

/* The RFC 8176 amr array for the AMR_* bits (new reference). */
json_t *token_amr(unsigned amr);

#endif
