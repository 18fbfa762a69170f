/* pool.c - fixed worker threads with a bounded job queue (a ring). */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "pool.h"
#include "util.h"

#define POOL_WORKERS_MAX 256

struct pool_job {
	pool_job_fn fn;
	void *arg;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool_job *ring;
	unsigned cap, head, count;
	unsigned running;		/* jobs a worker is running */
	int stopping;
	pthread_t *threads;
	unsigned nthreads;
};

static void *
pool_worker(void *arg)
{
	struct pool *p = arg;
	struct pool_job job;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->count == 0 && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->count == 0) {	/* stopping and drained */
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		job = p->ring[p->head];
		p->head = (p->head + 1) % p->cap;
		p->count--;
		p->running++;
		pthread_mutex_unlock(&p->mu);
		job.fn(job.arg);
		pthread_mutex_lock(&p->mu);
		p->running--;
		pthread_mutex_unlock(&p->mu);
	}
}

struct pool *
pool_new(unsigned workers, unsigned queue_max)
{
	struct pool *p;
	long cores;

	if (workers == 0) {
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		workers = cores > 0 ? (unsigned)cores : 1;
	}
	if (workers > POOL_WORKERS_MAX || queue_max == 0)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cap = queue_max;
	p->ring = calloc(queue_max, sizeof(*p->ring));
	p->threads = calloc(workers, sizeof(*p->threads));
	if (p->ring == NULL || p->threads == NULL)
		goto fail;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (; p->nthreads < workers; p->nthreads++) {
		if (pthread_create(&p->threads[p->nthreads], NULL, pool_worker,
		    p) != 0) {
			pool_free(p);
			return NULL;
		}
	}
	return p;
fail:
	free(p->ring);
	free(p->threads);
	free(p);
	return NULL;
}

void
pool_free(struct pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->ring);
	free(p->threads);
	free(p);
}

int
pool_submit(struct pool *p, pool_job_fn fn, void *arg)
{
	int rc = -1;

	pthread_mutex_lock(&p->mu);
	if (!p->stopping && p->count < p->cap) {
		p->ring[(p->head + p->count) % p->cap] =
		    (struct pool_job){ fn, arg };
		p->count++;
		pthread_cond_signal(&p->cv);
		rc = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void
pool_load(struct pool *p, unsigned *waiting, unsigned *running)
{
	pthread_mutex_lock(&p->mu);
	*waiting = p->count;
	*running = p->running;
	pthread_mutex_unlock(&p->mu);
}
