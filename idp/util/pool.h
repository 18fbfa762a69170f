/*
 * pool.h - a fixed pool of worker threads with a bounded queue, for the
 * expensive work (argon2id) that must never run on the HTTP threads or
 * grow without bound. Past the queue limit, pool_submit refuses and the
 * caller answers 503 with Retry-After.
 */
#ifndef KLEIDI_POOL_H
#define KLEIDI_POOL_H

#include <stddef.h>

struct pool;
typedef void (*pool_job_fn)(void *arg);

/* workers threads (0: one per online core), queue_max waiting jobs. */
struct pool *pool_new(unsigned workers, unsigned queue_max);
/* Finishes queued jobs, joins the threads. NULL is a no-op. */
void pool_free(struct pool *p);
/* 0 when queued; -1 when the queue is full or the pool is stopping. */
int pool_submit(struct pool *p, pool_job_fn fn, void *arg);
/* For metrics: the jobs waiting in the queue and those being run. */
void pool_load(struct pool *p, unsigned *waiting, unsigned *running);

#endif
