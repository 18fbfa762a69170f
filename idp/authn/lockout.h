/*
 * lockout.h - per-account exponential back-off after failed passwords or
 * codes, up to a temporary lockout. Keyed by the username as typed (not
 * the account), so a name that matches no account backs off exactly like
 * one that does: the lockout page tells nothing about who exists.
 *
 * After LOCKOUT_FREE consecutive failures each further failure doubles the
 * wait, from LOCKOUT_BASE up to LOCKOUT_MAX seconds; a success clears the
 * count; failures older than LOCKOUT_FORGET are forgotten.
 */
#ifndef KLEIDI_LOCKOUT_H
#define KLEIDI_LOCKOUT_H

#include <stdint.h>

#include "store/store.h"

#define LOCKOUT_FREE 3
#define LOCKOUT_BASE 5
#define LOCKOUT_MAX 900
#define LOCKOUT_FORGET 86400

/* The wait in seconds for failures consecutive failures (0 below
 * LOCKOUT_FREE). */
int64_t lockout_backoff(int64_t failures);
/* Seconds until username may try again (0: now), or -1 on store error. */
int64_t lockout_wait(struct store *st, const char *username, int64_t now);
/* Records a failure; *wait (may be NULL) gets the new wait. 0 or -1. */
int lockout_fail(struct store *st, const char *username, int64_t now,
    int64_t *wait);
/* Clears the failures of username after a success. 0 or -1. */
int lockout_clear(struct store *st, const char *username);

#endif
