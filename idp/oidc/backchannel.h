/*
 * backchannel.h - internal to idp/oidc: delivery of back-channel logout
 * notices (OpenID Connect Back-Channel Logout 1.0). revoke.c queues them
 * in the store with the logout itself; a thread of the server sends each
 * as a logout token, retries with back-off, and gives up after a day.
 */
#ifndef KLEIDI_BACKCHANNEL_H
#define KLEIDI_BACKCHANNEL_H

#include <stdint.h>

#include "oidc.h"

#define BCL_FIRST_DELAY 5		/* seconds before the first retry */
#define BCL_MAX_DELAY 3600		/* back-off stops growing here */
#define BCL_GIVE_UP (24 * 3600)		/* age at which a notice is dropped */
#define BCL_TOKEN_TTL 120		/* exp of a logout token */
#define BCL_BATCH 32			/* notices read per pass */
#define BCL_POLL_MS 1000		/* the CLI queues too: look this often */
#define BCL_CONNECT_TIMEOUT_MS 5000L
#define BCL_TIMEOUT_MS 10000L

/* Seconds to wait after the attempts-th failed delivery (attempts >= 1):
 * 5, 10, 20, ... up to BCL_MAX_DELAY. */
int64_t backchannel_delay(int attempts);

/* Delivers token to uri: 0 on a 2xx answer, -1 otherwise. */
typedef int (*backchannel_send_fn)(const char *uri, const char *token,
    void *arg);
/* The libcurl sender. */
int backchannel_post(const char *uri, const char *token, void *arg);

/* The logout token for notice n to app a (malloc'd compact JWS), or
 * NULL. */
char *backchannel_token(struct idp *idp, const struct bcl_notice *n,
    const struct app *a, int64_t now);
/* One pass over the notices due at now: each is sent with send, then
 * deleted, rescheduled, or dropped (with an audit entry). *sent (may be
 * NULL) gets the number delivered. 0, or -1 when the store failed. */
int backchannel_run(struct idp *idp, int64_t now, backchannel_send_fn send,
    void *arg, size_t *sent);

/* The sender thread, started by idp_open and stopped by idp_close. */
struct backchannel *backchannel_start(struct idp *idp);
void backchannel_stop(struct backchannel *b);	/* NULL is a no-op */
/* New notices were queued: look now rather than at the next poll. */
void backchannel_wake(struct backchannel *b);

#endif
