/*
 * pairwise.h - internal to idp/oidc: pairwise subjects (OpenID Connect
 * Core 8.1). tokens.c computes the sub; this keeps the mapping back to the
 * person, written when a code is issued, read by UserInfo.
 */
#ifndef KLEIDI_PAIRWISE_H
#define KLEIDI_PAIRWISE_H

#include "oidc.h"

/* For a pairwise app, records (client_id, sub) -> u->id unless already
 * there; nothing for other apps. 0 or -1. */
int pairwise_remember(struct idp *idp, const struct app *a,
    const struct user *u);
/* The user id behind the sub a token for client_id carries: the mapping
 * for a pairwise app, the sub itself otherwise. STORE_OK, STORE_NOTFOUND
 * or STORE_ERROR. */
int pairwise_resolve(struct store_txn *txn, const char *client_id,
    const char *sub, char user_id[USER_ID_SIZE]);

#endif
