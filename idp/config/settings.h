/*
 * settings.h - the configuration a running server reads, replaced on
 * SIGHUP (issue 8) the way the keyring is (oidc/keyring.h).
 *
 * A handler takes the current snapshot with settings_get and gives it back
 * with settings_put; a reload builds a new snapshot and swaps it in under
 * a mutex, and the old one is freed when its last reader lets go. So a
 * request that began with one set of lifetimes ends with the same set
 * (a token's exp and the answer's expires_in agree), and no thread reads
 * a struct config while another writes it.
 *
 * A snapshot holds every setting. The ones only a restart applies (the
 * HTTP limits, the pools, argon2, templates) keep the values the server
 * started with: config_take_live (config.h) copies only the live ones
 * into a new snapshot, so a snapshot always tells what is in effect.
 */
#ifndef KLEIDI_SETTINGS_H
#define KLEIDI_SETTINGS_H

#include "config.h"
#include "util/shared.h"

struct settings_holder;

/* One generation of settings. Read-only while anyone holds it. */
struct settings {
	struct config cfg;
	struct shared_gen gen;		/* settings.c's own */
};

/* A holder whose current snapshot is a copy of cfg; NULL when out of
 * memory. */
struct settings_holder *settings_new(const struct config *cfg);
/* Drops the current snapshot and the holder. Every settings_get must have
 * been matched by settings_put. NULL is a no-op. */
void settings_free(struct settings_holder *h);

/* The current snapshot, held until settings_put. Never NULL. */
struct settings *settings_get(struct settings_holder *h);
void settings_put(struct settings *s);	/* NULL is a no-op */

/* Makes a copy of cfg the current snapshot; readers holding the old one
 * keep it until they put it. 0, or -1 when out of memory (the current one
 * stays). Callers serialise swaps (SIGHUP is handled by one thread). */
int settings_swap(struct settings_holder *h, const struct config *cfg);

#endif
