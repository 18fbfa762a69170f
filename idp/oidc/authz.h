/*
 * authz.h - internal to idp/oidc: the authorization request as parsed by
 * authorize.c and continued by login.c once the person has signed in.
 */
#ifndef KLEIDI_AUTHZ_H
#define KLEIDI_AUTHZ_H

#include "oidc.h"

/* prompt values (OpenID Connect Core 3.1.2.1), as bits. */
#define PROMPT_NONE 0x1u
#define PROMPT_LOGIN 0x2u
#define PROMPT_CONSENT 0x4u
#define PROMPT_SELECT_ACCOUNT 0x8u

/* Bounds of request parameters that are parsed, not just copied. */
#define CLAIMS_PARAM_MAX 4096		/* the claims JSON, in bytes */
#define ID_TOKEN_HINT_MAX 8192
#define MAX_AGE_MAX 315360000		/* ten years, in seconds */

/* What a person discloses to an app, as the consent page lists it. */
#define CONSENT_NAME 0x1u
#define CONSENT_EMAIL 0x2u
#define CONSENT_PHONE 0x4u

struct authz {
	const char *client_id;
	const char *redirect_uri;
	const char *response_type;
	const char *scope;
	const char *state;
	const char *nonce;
	const char *challenge;
	const char *challenge_method;
	const char *prompt;
	const char *response_mode;
	const char *ui_locales;
	const char *login_hint;
	const char *request;
	const char *request_uri;
	const char *acr_values;
	const char *max_age_param;
	const char *id_token_hint;
	const char *claims;
	const char *registration;
	const char *lang;
	unsigned prompt_bits;		/* PROMPT_* bits */
	int64_t max_age;		/* -1: not asked */
	char hint_sub[PAIRWISE_SUB_SIZE]; /* "" without id_token_hint */
	char scope_granted[SCOPE_SIZE];
	char claims_id[CLAIMS_SIZE];	/* names asked for the ID token */
	char claims_ui[CLAIMS_SIZE];	/* names asked for UserInfo */
	struct app app;
	struct flow flow;
};

struct authz_error {
	const char *code;	/* RFC 6749 4.1.2.1 error code */
	const char *description;
};

/* Fills e; returns -1 so checks can `return authz_fail(...)`. */
int authz_fail(struct authz_error *e, const char *code, const char *desc);
/* 302 to the client's redirect URI with error, error_description, state
 * and iss (RFC 9207). */
void authz_redirect_error(struct idp *idp, struct http_response *resp,
    const struct authz *az, const struct authz_error *e);
/* The error page for a registry_access() refusal. */
const char *access_page(int access);
/* Copies the validated request into a flow record (not stored yet). */
void authz_to_flow(const struct authz *az, struct flow *f);
/* The person is signed in (session s of user u): check they may use the
 * app, issue a code and redirect to the client; or show why not. */
void authz_complete(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct flow *f,
    const struct session *s, const struct user *u);
/* Stores flow f (bound to this browser, expiring) under a new handle.
 * 0 or -1. */
int flow_start(struct idp *idp, struct http_request *req,
    struct http_response *resp, struct flow *f, char handle[RAND_TOKEN_LEN]);
/* No session: store the flow, bind it to the browser, show the sign-in
 * page. */
void login_start(struct idp *idp, struct http_request *req,
    struct http_response *resp, struct authz *az);

/* ---- request parameters (authorize.c), pure so unit tests call them */
/* The space-separated prompt value into PROMPT_* bits; -1 for a value
 * we do not know, or none combined with another. "" and NULL give 0. */
int authorize_prompt_parse(const char *s, unsigned *out);
/* max_age: a decimal count of seconds, 0..MAX_AGE_MAX; NULL gives -1
 * (not asked). 0 or -1 on a malformed value. */
int authorize_max_age_parse(const char *s, int64_t *out);
/* Whether a session authenticated at auth_time may serve a request with
 * max_age (-1: none) at now, without signing in again (Core 3.1.2.1:
 * max_age=0 is prompt=login). */
int authorize_fresh(int64_t max_age, int64_t auth_time, int64_t now);

/* ---- the claims request parameter (claims.c, OpenID Connect Core 5.5) */
/* Parses json into the supported claim names asked for the ID token and
 * for UserInfo (space-separated, unknown names dropped). 0, or -1 when
 * the JSON is malformed or too long. */
int claims_parse(const char *json, char id_out[CLAIMS_SIZE],
    char ui_out[CLAIMS_SIZE]);
/* Whether the space-separated list has word. */
int claims_list_has(const char *list, const char *word);
/* The CONSENT_* bits of what scope and the claim lists disclose. */
unsigned claims_data(const char *scope, const char *claims_id,
    const char *claims_ui);

/* ---- consent (consent.c) */
/* 1 when the consent page must be shown before a code for f (signed in
 * as u), 0 when not, -1 on a store failure. */
int consent_needed(struct idp *idp, const struct flow *f,
    const struct user *u);
/* Stores a flow for the decision and shows the consent page. */
void consent_start(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct flow *f,
    const struct session *s, const struct user *u, const struct app *a);

#endif
