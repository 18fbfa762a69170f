/*
 * registry.h - organisations, applications, users and role grants: the
 * rules of who exists and who may use what. The CLI and the admin API call
 * these functions; they validate every field, run one write transaction per
 * change and report why a change was refused.
 */
#ifndef KLEIDI_REGISTRY_H
#define KLEIDI_REGISTRY_H

#include <stddef.h>

#include <jansson.h>

#include "authn/authn.h"
#include "store/store.h"

enum registry_rc {
	REG_OK = 0,
	REG_INVALID,		/* a field is malformed: err says which */
	REG_EXISTS,		/* already there */
	REG_NOTFOUND,		/* a named org, app or user does not exist */
	REG_REFUSED,		/* a rule forbids it: err says which */
	REG_ERROR		/* store failure */
};

/* Messages in err are short English sentences for operators. */
struct registry_err {
	char msg[256];
};

struct audit;

/* Who makes a change, for the audit log (DESIGN: every admin action with
 * who, what, when and from where). With a registry_actor, each change
 * below is recorded in the same write transaction as the change itself
 * (so both commit or neither; a change that cannot be recorded is refused
 * with REG_ERROR), and each refusal in a transaction of its own, outcome
 * "refused" ("error" for store failures) with the reason as detail.
 * NULL records nothing (unit tests of the rules alone). */
struct registry_actor {
	const struct audit *audit;
	const char *actor;	/* "operator:<login>", "user:<sub>" */
	const char *addr;	/* where from: client address, "local" */
};

/* Actions recorded: org.add, org.subscribe, org.sms-cap, app.add,
 * user.add, user.disable, user.enable, grant.add, grant.revoke. */
int registry_org_add(struct store *st, const struct registry_actor *who,
    const char *code, const char *name, struct registry_err *err);
int registry_org_subscribe(struct store *st, const struct registry_actor *who,
    const char *org, const char *app, struct registry_err *err);
/* Sets the organisation's monthly SMS cap (0: no cap), counted per UTC
 * month; SMS past it are refused with SMS_ORG_CAPPED. */
#define REGISTRY_SMS_CAP_MAX 100000000
int registry_org_set_sms_cap(struct store *st,
    const struct registry_actor *who, const char *code, int64_t cap,
    struct registry_err *err);

struct app_spec {
	const char *client_id;
	const char *name;
	const char *redirect_uris[APP_URIS_MAX];
	int n_redirect_uris;
	const char *post_logout_uris[APP_URIS_MAX];
	int n_post_logout_uris;
	int public_client;
	int audience;		/* enum app_audience */
	int require_2fa;
	int id_token_alg;	/* enum key_alg */
	int admin_client;	/* may ask for scope kleidi:admin */
	const char *backchannel_logout_uri;	/* NULL: none */
	int pairwise;		/* pairwise sub (OIDC Core 8.1) */
	int refresh;		/* gets refresh tokens */
};
/* Registers an app. For a confidential client, secret receives the newly
 * generated client secret (shown once; only its hash is stored). */
int registry_app_add(struct store *st, const struct registry_actor *who,
    const struct app_spec *spec, char secret[RAND_TOKEN_LEN],
    struct app *out, struct registry_err *err);

struct user_spec {
	const char *username;
	const char *org;
	const char *name;
	const char *email;	/* may be NULL */
	const char *phone;	/* may be NULL; E.164 */
	const char *password;	/* may be NULL: no password yet */
};
int registry_user_add(struct store *st, const struct registry_actor *who,
    const struct argon2_params *argon2, const struct user_spec *spec,
    struct user *out, struct registry_err *err);
int registry_user_set_disabled(struct store *st,
    const struct registry_actor *who, const char *username, int disabled,
    struct registry_err *err);

/* Grants role in app to the user, for org (NULL: the user's own org). The
 * org must subscribe to the app. */
int registry_grant_add(struct store *st, const struct registry_actor *who,
    const char *username, const char *app, const char *role, const char *org,
    struct registry_err *err);
int registry_grant_revoke(struct store *st, const struct registry_actor *who,
    const char *username, const char *app, const char *role, const char *org,
    struct registry_err *err);

/* Roles granted to a confidential client itself, carried by its
 * client_credentials access tokens (registry_client.c). Actions recorded:
 * client_grant.add, client_grant.revoke. A public client is refused: it
 * cannot use client_credentials. */
int registry_client_grant_add(struct store *st,
    const struct registry_actor *who, const char *app, const char *role,
    struct registry_err *err);
int registry_client_grant_revoke(struct store *st,
    const struct registry_actor *who, const char *app, const char *role,
    struct registry_err *err);
/* The roles granted to the client as a new JSON array; NULL on failure. */
json_t *registry_client_roles(struct store_txn *txn, const char *app);

/* Whether user may sign in to app at all. */
enum access_rc {
	ACCESS_OK = 0,
	ACCESS_DISABLED,
	ACCESS_NOT_SUBSCRIBED,	/* the user's org does not use the app */
	ACCESS_AUDIENCE,	/* app not open to this kind of user */
	ACCESS_ERROR
};
int registry_access(struct store_txn *txn, const struct user *user,
    const struct app *app);

/* The user's roles in app for their current org as a new JSON array
 * (empty when none; citizens hold none). NULL on failure. */
json_t *registry_roles(struct store_txn *txn, const struct user *user,
    const char *app);

/* A new stable subject for a person: 128 random bits, base64url; never
 * derived from personal data. 0 or -1. */
int registry_new_user_id(char id[USER_ID_SIZE]);

/* Field validators, shared by every front door. */
int valid_code(const char *s, size_t max);	/* [a-z0-9-], 1..max-1 */
int valid_client_id(const char *s);
int valid_username(const char *s);
int valid_role(const char *s);
int valid_phone(const char *s);		/* E.164: + and 8..15 digits */
int valid_email(const char *s);
int valid_name(const char *s, size_t max);	/* UTF-8 text, no controls */
/* Greek tax number (AFM): 9 digits, the last a check digit; not all
 * zeros. */
int valid_taxid(const char *s);
/* Absolute https URI, or http on a loopback host (RFC 8252 7.3); no
 * fragment, no user info; shorter than URI_SIZE. */
int valid_redirect_uri(const char *s);

#endif
