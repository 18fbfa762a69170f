/*
 * revoke.h - ending a person's access at once: everything that would let
 * them in again without signing in. Departures, transfers, disabling, the
 * help desk's resets and erasure all call this one function, inside their
 * own write transaction, so what "ends access" means is decided here once.
 */
#ifndef KLEIDI_REVOKE_H
#define KLEIDI_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Ends user_id's browser sessions, refresh token families, and queues
 * back-channel logout notices to the apps they were signed in to. *ended
 * (may be NULL) gets the number of sessions ended. A store_rc. */
int access_end_user(struct store_txn *txn, const char *user_id,
    size_t *ended);

/* ---- back-channel logout notices (OpenID Connect Back-Channel Logout
 * 1.0): one per app a session signed in to, queued in the store in the
 * caller's transaction so a crash loses none; the server's sender
 * (idp/oidc/backchannel.c) delivers them. */

/* Queues a notice for each app session sess_hash of user_id signed in to,
 * due at now; *queued (may be NULL) gets how many. A store_rc. */
int access_queue_logout(struct store_txn *txn,
    const unsigned char sess_hash[HASH_SIZE], const char *user_id,
    int64_t now, size_t *queued);
/* Ends one browser session (a person signing out): queues its notices,
 * then deletes it. STORE_NOTFOUND when there is no such session. */
int access_end_session(struct store_txn *txn,
    const unsigned char sess_hash[HASH_SIZE], int64_t now);

#endif
