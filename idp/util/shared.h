/*
 * shared.h - a value that requests hold while it is replaced: the signing
 * keys (oidc/keyring.h) and the running settings (config/settings.h).
 *
 * A slot holds the current generation; shared_get takes it with a count,
 * shared_put gives it back, and shared_swap makes another current. A
 * request that took one generation ends with it, and the last holder of
 * a replaced generation frees it (its destroy), outside the lock. The
 * lock is held for a few instructions per get and put.
 */
#ifndef KLEIDI_SHARED_H
#define KLEIDI_SHARED_H

#include <pthread.h>

struct shared_slot;

/* Embedded in each generation's struct. */
struct shared_gen {
	struct shared_slot *slot;
	unsigned refs;			/* under the slot's lock */
	void (*destroy)(struct shared_gen *);
};

struct shared_slot {
	pthread_mutex_t lock;
	struct shared_gen *cur;		/* never NULL after shared_init */
};

/* first becomes current, held by the slot. 0, or -1 (no mutex). */
int shared_init(struct shared_slot *s, struct shared_gen *first,
    void (*destroy)(struct shared_gen *));
/* Drops the slot's hold on the current generation; every shared_get must
 * have been matched by shared_put. */
void shared_fini(struct shared_slot *s);
/* The current generation, held until shared_put. */
struct shared_gen *shared_get(struct shared_slot *s);
void shared_put(struct shared_gen *g);	/* NULL is a no-op */
/* next becomes current (held by the slot); the old one goes when its last
 * holder puts it. Callers serialise swaps. */
void shared_swap(struct shared_slot *s, struct shared_gen *next,
    void (*destroy)(struct shared_gen *));

#endif
