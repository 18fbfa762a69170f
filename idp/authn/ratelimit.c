/* ratelimit.c - per-address token buckets in a fixed table. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ratelimit.h"
#include "util/util.h"

#define RL_STRIPES 64		/* locks, so threads rarely wait */

struct rl_slot {
	unsigned char id[16];	/* keyed hash of the address */
	int64_t stamp_ms;	/* when tokens was last brought up to date */
	int64_t tokens_ms;	/* tokens scaled by refill_ms */
};

struct ratelimit {
	unsigned char key[32];
	/* Read under a slot's stripe lock, written under all of them
	 * (ratelimit_set): a take never sees half of a change. */
	int64_t burst_ms;	/* burst * refill_ms */
	int64_t refill_ms;
	pthread_mutex_t lock[RL_STRIPES];
	struct rl_slot slot[RATELIMIT_SLOTS];
};

struct ratelimit *
ratelimit_new(unsigned burst, unsigned refill_ms)
{
	struct ratelimit *rl;
	int i;

	if (burst == 0 || refill_ms == 0 || (rl = calloc(1,
	    sizeof(*rl))) == NULL)
		return NULL;
	if (rand_bytes(rl->key, sizeof(rl->key)) == -1) {
		free(rl);
		return NULL;
	}
	rl->refill_ms = refill_ms;
	rl->burst_ms = (int64_t)burst * refill_ms;
	for (i = 0; i < RL_STRIPES; i++)
		pthread_mutex_init(&rl->lock[i], NULL);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	int i;

	if (rl == NULL)
		return;
	for (i = 0; i < RL_STRIPES; i++)
		pthread_mutex_destroy(&rl->lock[i]);
	OPENSSL_cleanse(rl->key, sizeof(rl->key));
	free(rl);
}

int
ratelimit_set(struct ratelimit *rl, unsigned burst, unsigned refill_ms)
{
	int64_t old_refill;
	size_t i;
	int j;

	if (burst == 0 || refill_ms == 0)
		return -1;
	/* Every stripe, always in the same order: a take holds one at a
	 * time, so this cannot deadlock with it. */
	for (j = 0; j < RL_STRIPES; j++)
		pthread_mutex_lock(&rl->lock[j]);
	old_refill = rl->refill_ms;
	rl->refill_ms = refill_ms;
	rl->burst_ms = (int64_t)burst * refill_ms;
	/* tokens_ms counts tokens in units of refill_ms: rescale, so an
	 * address keeps as many tokens as it had. (At most 10^4 * 3.6*10^6
	 * times 3.6*10^6 with the config's ranges: no overflow.) */
	for (i = 0; i < RATELIMIT_SLOTS; i++) {
		struct rl_slot *s = &rl->slot[i];
		s->tokens_ms = s->tokens_ms * rl->refill_ms / old_refill;
		if (s->tokens_ms > rl->burst_ms)
			s->tokens_ms = rl->burst_ms;
	}
	for (j = RL_STRIPES - 1; j >= 0; j--)
		pthread_mutex_unlock(&rl->lock[j]);
	return 0;
}

/* HMAC-SHA256(key, addr): the first 16 bytes name the address, the next
 * four pick its slot. */
static int
rl_hash(const struct ratelimit *rl, const char *addr, unsigned char id[16],
    size_t *slot)
{
	unsigned char h[32];
	size_t n = sizeof(h);

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, rl->key,
	    sizeof(rl->key), (const unsigned char *)addr, strlen(addr), h,
	    sizeof(h), &n) == NULL)
		return -1;
	memcpy(id, h, 16);
	*slot = ((size_t)h[16] << 24 | (size_t)h[17] << 16 |
	    (size_t)h[18] << 8 | h[19]) % RATELIMIT_SLOTS;
	return 0;
}

int64_t
ratelimit_take(struct ratelimit *rl, const char *addr, int64_t now_ms)
{
	unsigned char id[16];
	struct rl_slot *s;
	pthread_mutex_t *mu;
	size_t i;
	int64_t wait = 0;

	/* Failing to hash must not turn the limit off: count it against a
	 * shared slot instead. */
	if (rl_hash(rl, addr, id, &i) == -1) {
		memset(id, 0, sizeof(id));
		i = 0;
	}
	s = &rl->slot[i];
	mu = &rl->lock[i % RL_STRIPES];
	pthread_mutex_lock(mu);
	if (memcmp(s->id, id, sizeof(id)) != 0 || s->stamp_ms == 0) {
		memcpy(s->id, id, sizeof(id));
		s->tokens_ms = rl->burst_ms;
		s->stamp_ms = now_ms;
	}
	if (now_ms > s->stamp_ms) {
		s->tokens_ms += now_ms - s->stamp_ms;
		if (s->tokens_ms > rl->burst_ms)
			s->tokens_ms = rl->burst_ms;
		s->stamp_ms = now_ms;
	}
	if (s->tokens_ms >= rl->refill_ms)
		s->tokens_ms -= rl->refill_ms;
	else
		wait = rl->refill_ms - s->tokens_ms;
	pthread_mutex_unlock(mu);
	return wait;
}
