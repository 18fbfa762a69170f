/*
 * ratelimit.h - a token bucket per client address, in memory, for the
 * sign-in and code endpoints. The table is fixed-size (no growth under an
 * attack from many addresses); addresses map to slots through a keyed hash
 * with a random key drawn at start, so nobody can aim two addresses at one
 * slot. A slot taken over by another address starts full: an attacker can
 * at worst reset someone else's bucket, never drain it.
 */
#ifndef KLEIDI_RATELIMIT_H
#define KLEIDI_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_SLOTS 8192

struct ratelimit;

/* burst tokens at most; one token back every refill_ms. */
struct ratelimit *ratelimit_new(unsigned burst, unsigned refill_ms);
void ratelimit_free(struct ratelimit *rl);
/* New limits for a running table (SIGHUP): every address keeps the tokens
 * it has, up to the new burst, and earns the next ones at the new rate.
 * 0, or -1 (nothing changed) when burst or refill_ms is 0. */
int ratelimit_set(struct ratelimit *rl, unsigned burst, unsigned refill_ms);
/* Takes a token for addr at now_ms. 0 when allowed; otherwise the
 * milliseconds until a token is back. */
int64_t ratelimit_take(struct ratelimit *rl, const char *addr,
    int64_t now_ms);

#endif
