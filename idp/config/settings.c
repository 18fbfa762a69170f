/*
 * settings.c - refcounted snapshots of the configuration (settings.h).
 *
 * One lock guards the current pointer and every snapshot's refs; it is
 * held for a few instructions per request. Building a snapshot (a copy)
 * and freeing one happen outside it.
 */
#include <pthread.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "settings.h"

struct settings_holder {
	pthread_mutex_t lock;
	struct settings *cur;
};

static struct settings *
settings_make(struct settings_holder *h, const struct config *cfg)
{
	struct settings *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cfg = *cfg;
	s->owner = h;
	s->refs = 1;		/* the holder's */
	return s;
}

/* The config holds the SMS gateway's credentials: wiped before free. */
static void
settings_destroy(struct settings *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

struct settings_holder *
settings_new(const struct config *cfg)
{
	struct settings_holder *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->cur = settings_make(h, cfg)) == NULL) {
		free(h);
		return NULL;
	}
	(void)pthread_mutex_init(&h->lock, NULL);
	return h;
}

void
settings_free(struct settings_holder *h)
{
	if (h == NULL)
		return;
	settings_put(h->cur);
	(void)pthread_mutex_destroy(&h->lock);
	free(h);
}

struct settings *
settings_get(struct settings_holder *h)
{
	struct settings *s;

	(void)pthread_mutex_lock(&h->lock);
	s = h->cur;
	s->refs++;
	(void)pthread_mutex_unlock(&h->lock);
	return s;
}

void
settings_put(struct settings *s)
{
	unsigned refs;

	if (s == NULL)
		return;
	(void)pthread_mutex_lock(&s->owner->lock);
	refs = --s->refs;
	(void)pthread_mutex_unlock(&s->owner->lock);
	/* The last reader frees it, outside the lock. */
	if (refs == 0)
		settings_destroy(s);
}

int
settings_swap(struct settings_holder *h, const struct config *cfg)
{
	struct settings *s, *old;

	if ((s = settings_make(h, cfg)) == NULL)
		return -1;
	(void)pthread_mutex_lock(&h->lock);
	old = h->cur;
	h->cur = s;
	(void)pthread_mutex_unlock(&h->lock);
	settings_put(old);	/* the holder's reference */
	return 0;
}
