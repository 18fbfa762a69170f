/*
 * admin.h - the admin REST API under /admin/v1 (README, "Admin API"), and
 * the one place that decides which administrator may do what to whom.
 *
 * Authorisation: a Bearer access token that Kleidi issued to an admin
 * client (app admin_client) with scope kleidi:admin. The person is read
 * fresh from the store on every request, so a disabled account (401) or a
 * withdrawn admin role (403) takes effect at once, whatever the token
 * still says. Two roles: the operator may do everything; an org admin
 * acts only on the people of their own organisation, grants only in apps
 * it subscribes to, and never hands out a role above their own.
 *
 * Front door only: a handler parses, asks admin_may, calls one registry
 * service (the same the CLI calls) with the administrator as the
 * registry_actor ("admin:<username>", from the request's address), and
 * renders JSON or an RFC 9457 problem. Every refusal by admin_may is a
 * 403, recorded in the audit log as action admin.<verb>, outcome refused,
 * with the rule as detail.
 */
#ifndef KLEIDI_ADMIN_H
#define KLEIDI_ADMIN_H

#include "http/http.h"
#include "store/store.h"

#define ADMIN_PREFIX "/admin/v1/"
#define ADMIN_SEGMENTS_MAX 6		/* path segments below the prefix */
#define ADMIN_SEGMENT_MAX 128		/* bytes of one segment */
#define ADMIN_LIST_MAX 10000		/* items in one listing */
#define ADMIN_AUDIT_DEFAULT 100		/* entries of an audit query */
#define ADMIN_AUDIT_MAX 1000
/* An org admin's audit query without ?user= reads at most this many of
 * the newest entries to find those of their organisation. */
#define ADMIN_AUDIT_SCAN 20000

enum admin_verb {
	ADMIN_ACCESS = 0,	/* use the API at all */
	ADMIN_ORG_READ,		/* t->org */
	ADMIN_ORG_ADD,
	ADMIN_ORG_SUBSCRIBE,
	ADMIN_APP_READ,		/* t->subscribed: the admin's org uses it */
	ADMIN_APP_ADD,
	ADMIN_USER_LIST,	/* t->org; NULL: every organisation */
	ADMIN_USER_ADD,		/* t->org: the new user's */
	ADMIN_USER_READ,	/* t->user: the person, grants, sessions */
	ADMIN_USER_DISABLE,
	ADMIN_USER_ENABLE,
	ADMIN_GRANT_ADD,	/* t->user, t->org (grant's), t->subscribed */
	ADMIN_GRANT_REVOKE,	/* t->user, t->org */
	ADMIN_ROLE_SET,		/* t->user, t->role */
	ADMIN_PASSWORD_RESET,
	ADMIN_FACTOR_RESET,
	ADMIN_UNLOCK,
	ADMIN_SESSIONS_END,
	ADMIN_AUDIT_READ,	/* t->org: the entry's; t->user if asked */
	ADMIN_REGISTRY_IMPORT,
	ADMIN_VERBS
};

/* What a verb is done to; what does not apply stays NULL / 0. */
struct admin_target {
	const struct user *user;	/* the person acted on */
	const char *org;		/* the organisation concerned */
	int subscribed;			/* org subscribes to the app */
	int role;			/* ADMIN_ROLE_SET: enum admin_role */
};

/* 1 when admin may do verb to t, else 0 with *why (may be NULL) a short
 * sentence naming the rule, for the 403 and the audit log. A NULL,
 * disabled or citizen admin, or one without an admin role, may nothing.
 * Nobody changes their own admin role. */
int admin_may(const struct user *admin, enum admin_verb verb,
    const struct admin_target *t, const char **why);
/* "user.disable", ...: the audit action of a refusal is "admin." + it. */
const char *admin_verb_name(enum admin_verb verb);

/* The handler of every path under ADMIN_PREFIX (a prefix route); app is
 * the struct idp. */
http_result admin_handle(struct http_request *req, struct http_response *resp,
    void *app);

#endif
