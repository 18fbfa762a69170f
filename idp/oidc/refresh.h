/*
 * refresh.h - refresh tokens (RFC 6749 6) with rotation and replay
 * detection (RFC 9700 2.2.2, 4.14.2). A token is 256 random bits handed to
 * the client once; the store keeps its SHA-256. The tokens of one
 * authorization grant form a family with one absolute end (config
 * [tokens] refresh_ttl): each use hands out a new token of the family and
 * marks the old one rotated; presenting a rotated token again means two
 * parties hold the family, so the whole family ends and the event is
 * audited (token.refresh_reuse, outcome refused).
 */
#ifndef KLEIDI_REFRESH_H
#define KLEIDI_REFRESH_H

#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "store/store.h"
#include "util/util.h"

enum refresh_rc {
	REFRESH_OK = 0,
	REFRESH_INVALID,	/* unknown, expired, or another client's */
	REFRESH_REUSED,		/* rotated already: the family was ended */
	REFRESH_DENIED,		/* the person may no longer use the app: the
				   family was ended */
	REFRESH_SCOPE,		/* asked for a scope the grant lacks */
	REFRESH_ERROR
};

/* Where a rotation is decided: the store, the audit log (may be NULL in
 * unit tests of the rules alone), the client's address, the time. */
struct refresh_ctx {
	struct store *st;
	const struct audit *audit;
	const char *addr;
	int64_t now;
	/* rotate: a narrower scope asked for (RFC 6749 6), or NULL. Every
	 * value must be in the grant's scope, else REFRESH_SCOPE and the
	 * token stays unused. */
	const char *scope;
};

/* What a successful rotation hands to the token response. */
struct refresh_result {
	struct refresh_token rec;	/* the new token's record */
	struct user user;		/* fresh from the store */
	json_t *roles;			/* the user's roles in the app now;
					   owned: json_decref */
};

/* Starts a family for a redeemed code; the family ends ttl seconds from
 * ctx->now. out receives the token. 0 or -1. */
int refresh_issue(const struct refresh_ctx *ctx, const struct authcode *c,
    int64_t ttl, char out[RAND_TOKEN_LEN]);

/* Uses token for app: it must be app's, unexpired and not rotated, and
 * its person must still exist, be enabled and have access to app
 * (registry_access). On REFRESH_OK out receives the new token and *res
 * the new record, the person and their roles (free res->roles); why
 * receives a short reason for the log and the client otherwise. One write
 * transaction, shared with concurrent rotations (store_write): returns
 * once it is on disk. */
int refresh_rotate(const struct refresh_ctx *ctx, const char *token,
    const struct app *app, char out[RAND_TOKEN_LEN],
    struct refresh_result *res, const char **why);

/* Ends the family of token if the token is client_id's (RFC 7009 2.1:
 * another client's token is left alone). *ended (may be NULL) tells
 * whether a family ended. 0, or -1 on a store failure. */
int refresh_revoke(struct store *st, const char *token,
    const char *client_id, int *ended);

/* The record of token when it is active for client_id at now (exists,
 * not rotated, not expired, issued to client_id) and its person is enabled:
 * STORE_OK with *out and *u filled; STORE_NOTFOUND when inactive;
 * STORE_ERROR. */
int refresh_find(struct store *st, const char *token, const char *client_id,
    int64_t now, struct refresh_token *out, struct user *u);

#endif
