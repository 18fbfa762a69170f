/* shared.c - generations held while replaced (shared.h). */
#include <stddef.h>

#include "shared.h"

static void
gen_init(struct shared_slot *s, struct shared_gen *g,
    void (*destroy)(struct shared_gen *))
{
	g->slot = s;
	g->refs = 1;		/* the slot's */
	g->destroy = destroy;
}

int
shared_init(struct shared_slot *s, struct shared_gen *first,
    void (*destroy)(struct shared_gen *))
{
	if (pthread_mutex_init(&s->lock, NULL) != 0)
		return -1;
	gen_init(s, first, destroy);
	s->cur = first;
	return 0;
}

void
shared_fini(struct shared_slot *s)
{
	shared_put(s->cur);
	s->cur = NULL;
	(void)pthread_mutex_destroy(&s->lock);
}

struct shared_gen *
shared_get(struct shared_slot *s)
{
	struct shared_gen *g;

	(void)pthread_mutex_lock(&s->lock);
	g = s->cur;
	g->refs++;
	(void)pthread_mutex_unlock(&s->lock);
	return g;
}

void
shared_put(struct shared_gen *g)
{
	unsigned refs;

	if (g == NULL)
		return;
	(void)pthread_mutex_lock(&g->slot->lock);
	refs = --g->refs;
	(void)pthread_mutex_unlock(&g->slot->lock);
	/* The last holder frees it, outside the lock. */
	if (refs == 0)
		g->destroy(g);
}

void
shared_swap(struct shared_slot *s, struct shared_gen *next,
    void (*destroy)(struct shared_gen *))
{
	struct shared_gen *old;

	gen_init(s, next, destroy);
	(void)pthread_mutex_lock(&s->lock);
	old = s->cur;
	s->cur = next;
	(void)pthread_mutex_unlock(&s->lock);
	shared_put(old);
}
