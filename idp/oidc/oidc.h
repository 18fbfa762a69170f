/*
 * oidc.h - the OpenID Connect provider: the server-wide context every
 * handler receives, the route table, and the services behind the
 * authorization code flow (codes, client authentication).
 */
#ifndef KLEIDI_OIDC_H
#define KLEIDI_OIDC_H

#include <stddef.h>

#include "audit/audit.h"
#include "authn/authn.h"
#include "authn/factor.h"
#include "authn/ratelimit.h"
#include "config/config.h"
#include "config/settings.h"
#include "http/http.h"
#include "keyring.h"
#include "keys.h"
#include "kleidi.h"
#include "sms/sms.h"
#include "store/store.h"
#include "tokens/tokens.h"
#include "ui/ui.h"

#define COOKIE_SESSION "kleidi_sid"
#define COOKIE_BROWSER "kleidi_b"
#define COOKIE_LANG "kleidi_lang"

/* The scope of the admin API: granted only to an admin client (app
 * admin_client) and only for a person who holds an admin role. */
#define SCOPE_ADMIN "kleidi:admin"

/* Everything a request may need, built once by idp_open. Immutable while
 * serving but for what guards itself: the store, the pools, the keyring,
 * the settings, and the services SIGHUP retunes (rl, sms, sms_gw). */
struct idp {
	/* The configuration the server started with, never written while
	 * serving: read the restart-only settings here (HTTP limits, pools,
	 * argon2, templates). */
	struct config cfg;
	/* The settings as they are now, replaced on SIGHUP (settings.h):
	 * read every live setting (lifetimes, policy, limits) from
	 * settings_get(idp->settings), never from cfg. */
	struct settings_holder *settings;
	char issuer[URI_SIZE];
	int https;			/* issuer is https: Secure cookies */
	char data_dir[512];
	struct store *store;
	/* The signing keys, the JWKS and the verifier of our own tokens,
	 * replaced while serving (keyring.h): take them with keyring_get,
	 * give them back with keyring_put. */
	struct keyrings *keyring;
	struct ui *ui;
	struct pool *pool;		/* argon2id */
	struct pool *io;		/* slow I/O: the SMS gateway */
	/* The handlers of HTTP_ROUTE_OFFLOAD routes (durable writes,
	 * http.h), or NULL ([server] write_workers = 0). */
	struct pool *writers;
	struct authn authn;
	/* The issuer and the pairwise key (for token_sub_for); keys is
	 * NULL and the lifetimes 0: tokens are signed with the issuer
	 * idp_token_issuer builds from the keyring and the settings. */
	struct token_issuer tokens;
	struct audit audit;
	struct factor_keys factors;
	struct sms_gateway *sms_gw;	/* its settings swap inside it */
	struct sms sms;
	struct ratelimit *rl;		/* sign-in attempts per address */
	unsigned char csrf_key[32];	/* account forms' tokens */
	char *discovery;		/* the discovery document, built once */
	struct backchannel *bcl;	/* back-channel logout sender */
};

/* Opens DATA/store and DATA/keys, loads templates from templates_dir,
 * starts the pools (password, I/O, writers). -1 with err filled on
 * failure. */
int idp_open(struct idp *idp, const char *data_dir, const struct config *cfg,
    const char *templates_dir, char *err, size_t errlen);
void idp_close(struct idp *idp);
/* SIGHUP with file, the configuration as it loads now: applies its live
 * settings (config.h) - a new settings snapshot, the SMS code settings and
 * gateway, the sign-in rate limit - and logs each change, applied or
 * waiting for a restart. When the SMS settings are unusable (a gateway
 * that would not start) nothing changes: -1, logged. file's SMS outbox is
 * resolved in place. */
int idp_reload(struct idp *idp, struct config *file);
/* The issuer of tokens signed now: k's keys and pairwise key with st's
 * lifetimes, for the request holding both. out holds the pairwise key:
 * wipe it after use. */
void idp_token_issuer(const struct keyring *k, const struct settings *st,
    struct token_issuer *out);

const struct http_route *oidc_routes(size_t *n);
/* The discovery document for issuer (malloc'd JSON), or NULL. */
char *discovery_build(const char *issuer);

/* ---- handlers */
http_result oidc_discovery(struct http_request *, struct http_response *,
    void *);
http_result oidc_jwks(struct http_request *, struct http_response *, void *);
http_result oidc_authorize(struct http_request *, struct http_response *,
    void *);
http_result oidc_login(struct http_request *, struct http_response *,
    void *);
http_result oidc_otp(struct http_request *, struct http_response *, void *);
http_result oidc_consent(struct http_request *, struct http_response *,
    void *);
http_result register_get(struct http_request *, struct http_response *,
    void *);
http_result register_post(struct http_request *, struct http_response *,
    void *);
http_result register_verify(struct http_request *, struct http_response *,
    void *);
http_result account_get(struct http_request *, struct http_response *,
    void *);
http_result account_totp(struct http_request *, struct http_response *,
    void *);
http_result account_totp_confirm(struct http_request *,
    struct http_response *, void *);
http_result account_recovery(struct http_request *, struct http_response *,
    void *);
/* The account page's password change (current password, the new one
 * twice) and "sign out everywhere" (every session of the person). */
http_result account_password(struct http_request *, struct http_response *,
    void *);
http_result account_signout_all(struct http_request *,
    struct http_response *, void *);
http_result oidc_token(struct http_request *, struct http_response *,
    void *);
http_result oidc_userinfo(struct http_request *, struct http_response *,
    void *);
/* RFC 7009 revocation and RFC 7662 introspection (revocation.c,
 * introspect.c). */
http_result oidc_revocation(struct http_request *, struct http_response *,
    void *);
http_result oidc_introspect(struct http_request *, struct http_response *,
    void *);
http_result oidc_logout(struct http_request *, struct http_response *,
    void *);

/* ---- logout (logout.c) */
/* The sign-out form's token of session s (bound to it, like the account
 * forms'): 0 or -1. */
int logout_csrf(const struct idp *idp, const struct session *s,
    char out[RAND_TOKEN_LEN]);

/* ---- pages (pages.c) */
/* The page language for this request. */
const char *page_lang(const struct idp *idp, const struct http_request *req,
    const char *ui_locales);
extern const char *const page_errors[];
/* Language switcher links; their text lives until page_links_free. */
struct page_links {
	struct buf url[2];	/* el, en */
};
/* The sign-in page of flow f in each language: a fresh authorization
 * request with ui_locales set. */
void flow_lang_links(const struct flow *f, struct ui_vars *v,
    struct page_links *l);
/* The switcher of the page req shows: through GET /lang back to the same
 * GET page, or for a page reached by POST to /account (/logout for the
 * sign-out page). */
void page_lang_links(const struct http_request *req, struct ui_vars *v,
    struct page_links *l);
void page_links_free(struct page_links *l);
/* Longest path the switcher sends back to; the cookie's lifetime. */
#define PAGE_BACK_MAX 4096
#define LANG_COOKIE_AGE (365 * 24 * 3600)
/* 1 when back is a path on this server ("/x", never "//x" or "/\x"),
 * printable ASCII and shorter than PAGE_BACK_MAX; else 0. */
int page_back_ok(const char *back);
/* GET /lang?set=el|en&back=/path: sets the language cookie, 302 to back
 * (to /account when back is not a path on this server). */
http_result page_lang_set(struct http_request *, struct http_response *,
    void *);
/* Renders error.html with texts from the catalogue keys
 * error.<what>.title / .message / .hint and the given status. */
void page_error(struct idp *idp, struct http_request *req,
    struct http_response *resp, int status, const char *what,
    const char *lang);
/* Renders a page with vars; on failure a plain 500. */
void page_render(struct idp *idp, struct http_response *resp, int status,
    const char *page, const char *lang, struct ui_vars *vars);
/* page_render with the language switcher of req (page_lang_links). */
void page_render_links(struct idp *idp, const struct http_request *req,
    struct http_response *resp, int status, const char *page,
    const char *lang, struct ui_vars *vars);

/* ---- authorization codes (code.c) */
enum code_rc {
	CODE_OK = 0,
	CODE_INVALID,		/* unknown, expired, used, or not this
				   client's / redirect_uri's / verifier's */
	CODE_ERROR
};
/* Creates a single-use code for flow and session; code receives the
 * secret handed to the browser. */
int code_issue(struct idp *idp, const struct flow *flow,
    const struct session *s, char code[RAND_TOKEN_LEN]);
/* Redeems code for client: checks expiry, single use, redirect_uri and the
 * PKCE verifier, and marks it used in the same write transaction. why
 * receives a short reason for the log (never the code). */
int code_redeem(struct idp *idp, const char *code, const char *client_id,
    const char *redirect_uri, const char *verifier, struct authcode *out,
    const char **why);

/* ---- client authentication (client.c) */
enum client_rc {
	CLIENT_OK = 0,
	CLIENT_INVALID_REQUEST,	/* two methods at once, malformed header */
	CLIENT_UNAUTHORIZED,	/* unknown client or wrong secret */
	CLIENT_ERROR
};
/* client_secret_basic, client_secret_post, or none for public clients.
 * *used_basic tells whether the Authorization header was used (the 401
 * then carries WWW-Authenticate: Basic). */
int client_authenticate(struct idp *idp, const struct http_request *req,
    struct app *out, int *used_basic);

/* S256(verifier) == challenge, in constant time. */
int pkce_s256_match(const char *verifier, const char *challenge);
/* 43..128 characters of [A-Za-z0-9-._~] (RFC 7636 4.1). */
int pkce_valid(const char *s);

#endif
