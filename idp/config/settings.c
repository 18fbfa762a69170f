/*
 * settings.c - generations of the configuration (settings.h), held and
 * replaced as util/shared.h says. Building one (a copy) and freeing one
 * happen outside its lock.
 */
#include <stddef.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "settings.h"

struct settings_holder {
	struct shared_slot slot;
};

#define SETTINGS_OF(g) \
	((struct settings *)(void *)((char *)(g) - \
	offsetof(struct settings, gen)))

/* The config holds the SMS gateway's credentials: wiped before free. */
static void
settings_destroy(struct shared_gen *g)
{
	struct settings *s = SETTINGS_OF(g);

	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

static struct settings *
settings_make(const struct config *cfg)
{
	struct settings *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cfg = *cfg;
	return s;
}

struct settings_holder *
settings_new(const struct config *cfg)
{
	struct settings_holder *h;
	struct settings *s;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((s = settings_make(cfg)) == NULL ||
	    shared_init(&h->slot, &s->gen, settings_destroy) == -1) {
		free(s);
		free(h);
		return NULL;
	}
	return h;
}

void
settings_free(struct settings_holder *h)
{
	if (h == NULL)
		return;
	shared_fini(&h->slot);
	free(h);
}

struct settings *
settings_get(struct settings_holder *h)
{
	return SETTINGS_OF(shared_get(&h->slot));
}

void
settings_put(struct settings *s)
{
	if (s != NULL)
		shared_put(&s->gen);
}

int
settings_swap(struct settings_holder *h, const struct config *cfg)
{
	struct settings *s;

	if ((s = settings_make(cfg)) == NULL)
		return -1;
	shared_swap(&h->slot, &s->gen, settings_destroy);
	return 0;
}
