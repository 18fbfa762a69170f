/*
 * keyring.c - the server's keys, reloaded while it serves (keyring.h).
 *
 * The current keyring is held and replaced as util/shared.h says (its
 * lock is held for a few instructions per request); reload serialises reloads
 * (the watcher thread and SIGHUP), which parse PEM and may take a few
 * milliseconds without holding up a single request.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>

#include "keyring.h"
#include "util/util.h"

#define KEYRING_RETRY 60	/* seconds before a failed timed reload is
				   tried again */

/* What identifies one version of keys.json without reading it: the
 * manifest is replaced by rename, so a new one has a new inode. */
struct keyring_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct keyrings {
	struct shared_slot slot;	/* cur: NULL until the first keyring */
	pthread_mutex_t reload;
	char dir[512];
	char manifest[600];
	const char *issuer;
	struct token_issuer tmpl;
	unsigned char master[KEYS_MASTER_LEN];
	struct keyring_stamp stamp;	/* of the manifest last tried */
	int64_t next_change;	/* a key starts or retires; 0: none */
	/* the watcher */
	pthread_t thread;
	int watching;
	int stop;
	unsigned interval;
	pthread_mutex_t wlock;
	pthread_cond_t wake;
};

static void
keyring_stamp_of(const char *path, struct keyring_stamp *s)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (stat(path, &st) == -1)
		return;	/* all zero: differs from any real file */
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
}

static int
keyring_stamp_equal(const struct keyring_stamp *a,
    const struct keyring_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void
keyring_free(struct keyring *k)
{
	if (k == NULL)
		return;
	kl_verifier_free(k->verifier);
	keyset_free(k->keys);
	wipe(k->tokens.pairwise_key, sizeof(k->tokens.pairwise_key));
	free(k);
}

#define KEYRING_OF(g) \
	((struct keyring *)(void *)((char *)(g) - \
	offsetof(struct keyring, gen)))

static void
keyring_gen_free(struct shared_gen *g)
{
	keyring_free(KEYRING_OF(g));
}

/* The current keyring, for the reloads (which alone replace it). */
static const struct keyring *
keyring_cur(const struct keyrings *kr)
{
	return KEYRING_OF(kr->slot.cur);
}

/* A keyring from the folder as it is now. */
static struct keyring *
keyring_build(struct keyrings *kr, int64_t now, char *err, size_t errlen)
{
	struct keyring *k;
	const char *jwks;
	kl_error kerr;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	if ((k->keys = keyset_load(kr->dir, now, err, errlen)) == NULL)
		goto fail;
	jwks = keyset_jwks(k->keys);
	k->verifier = kl_verifier_new_jwks(kr->issuer, jwks, strlen(jwks),
	    NULL, &kerr);
	if (k->verifier == NULL) {
		err_set(err, errlen, "own JWKS refused by the SDK: %s",
		    kerr.text);
		goto fail;
	}
	k->tokens = kr->tmpl;
	k->tokens.keys = k->keys;
	if (keyset_derive(k->keys, "kleidi pairwise v1",
	    k->tokens.pairwise_key) == -1) {
		err_set(err, errlen, "cannot derive the pairwise key");
		goto fail;
	}
	return k;
fail:
	keyring_free(k);
	return NULL;
}

struct keyrings *
keyring_open(const char *dir, const char *issuer,
    const struct token_issuer *tmpl, int64_t now, char *err, size_t errlen)
{
	struct keyrings *kr;
	struct keyring *k;

	if ((kr = calloc(1, sizeof(*kr))) == NULL) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	(void)pthread_mutex_init(&kr->reload, NULL);
	(void)pthread_mutex_init(&kr->wlock, NULL);
	(void)pthread_cond_init(&kr->wake, NULL);
	kr->issuer = issuer;
	kr->tmpl = *tmpl;
	kr->tmpl.keys = NULL;
	if (str_copy(kr->dir, dir, sizeof(kr->dir)) >= sizeof(kr->dir) ||
	    (size_t)snprintf(kr->manifest, sizeof(kr->manifest), "%s/%s",
	    dir, "keys.json") >= sizeof(kr->manifest)) {
		err_set(err, errlen, "key folder path too long");
		goto fail;
	}
	keyring_stamp_of(kr->manifest, &kr->stamp);
	if ((k = keyring_build(kr, now, err, errlen)) == NULL)
		goto fail;
	if (shared_init(&kr->slot, &k->gen, keyring_gen_free) == -1) {
		keyring_free(k);
		err_set(err, errlen, "cannot make a mutex");
		goto fail;
	}
	memcpy(kr->master, keyset_master_key(k->keys), KEYS_MASTER_LEN);
	kr->next_change = keyset_next_change(k->keys, now);
	return kr;
fail:
	keyring_close(kr);
	return NULL;
}

static void
keyring_watch_stop(struct keyrings *kr)
{
	if (!kr->watching)
		return;
	(void)pthread_mutex_lock(&kr->wlock);
	kr->stop = 1;
	(void)pthread_cond_signal(&kr->wake);
	(void)pthread_mutex_unlock(&kr->wlock);
	(void)pthread_join(kr->thread, NULL);
	kr->watching = 0;
}

void
keyring_close(struct keyrings *kr)
{
	if (kr == NULL)
		return;
	keyring_watch_stop(kr);
	if (kr->slot.cur != NULL)
		shared_fini(&kr->slot);
	OPENSSL_cleanse(kr->master, sizeof(kr->master));
	(void)pthread_cond_destroy(&kr->wake);
	(void)pthread_mutex_destroy(&kr->wlock);
	(void)pthread_mutex_destroy(&kr->reload);
	free(kr);
}

struct keyring *
keyring_get(struct keyrings *kr)
{
	return KEYRING_OF(shared_get(&kr->slot));
}

void
keyring_put(struct keyring *k)
{
	if (k != NULL)
		shared_put(&k->gen);
}

/* Builds the new keyring and swaps it in; the caller holds reload. */
static enum keyring_rc
keyring_reload(struct keyrings *kr, int64_t now)
{
	struct keyring *k;
	char err[512];

	if ((k = keyring_build(kr, now, err, sizeof(err))) == NULL) {
		log_err("keys: reload refused, keeping the current keys: %s",
		    err);
		return KEYRING_REFUSED;
	}
	if (CRYPTO_memcmp(keyset_master_key(k->keys), kr->master,
	    KEYS_MASTER_LEN) != 0) {
		log_err("keys: reload refused, keeping the current keys: %s "
		    "holds another master key; secrets sealed under the "
		    "running one would not open", kr->dir);
		keyring_free(k);
		return KEYRING_REFUSED;
	}
	shared_swap(&kr->slot, &k->gen, keyring_gen_free);
	return KEYRING_RELOADED;
}

enum keyring_rc
keyring_check(struct keyrings *kr, int64_t now, int force)
{
	struct keyring_stamp st;
	enum keyring_rc rc = KEYRING_SAME;
	int changed, due;

	(void)pthread_mutex_lock(&kr->reload);
	keyring_stamp_of(kr->manifest, &st);
	changed = !keyring_stamp_equal(&st, &kr->stamp);
	due = kr->next_change != 0 && now >= kr->next_change;
	if (!force && !changed && !due)
		goto done;
	/* Remembered even when the reload fails: a broken manifest is
	 * reported once, not every few seconds, until it changes again. */
	kr->stamp = st;
	rc = keyring_reload(kr, now);
	if (rc == KEYRING_RELOADED) {
		kr->next_change = keyset_next_change(keyring_cur(kr)->keys,
		    now);
		log_info("keys: reloaded from %s%s", kr->dir,
		    force ? " (signal)" : changed ? " (keys.json changed)" :
		    " (a key started or retired)");
	} else if (due)
		kr->next_change = now + KEYRING_RETRY;
done:
	(void)pthread_mutex_unlock(&kr->reload);
	return rc;
}

static void *
keyring_watch_main(void *arg)
{
	struct keyrings *kr = arg;
	struct timespec until;
	int rc;

	(void)pthread_mutex_lock(&kr->wlock);
	while (!kr->stop) {
		(void)clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)kr->interval;
		rc = 0;
		while (!kr->stop && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&kr->wake, &kr->wlock,
			    &until);
		if (kr->stop)
			break;
		(void)pthread_mutex_unlock(&kr->wlock);
		(void)keyring_check(kr, clock_now(), 0);
		(void)pthread_mutex_lock(&kr->wlock);
	}
	(void)pthread_mutex_unlock(&kr->wlock);
	return NULL;
}

int
keyring_watch(struct keyrings *kr, unsigned interval)
{
	pthread_condattr_t ca;
	int rc;

	if (kr == NULL || interval == 0 || kr->watching)
		return -1;
	/* The monotonic clock: a step of the wall clock must neither stop
	 * the watcher nor make it spin. */
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_destroy(&kr->wake);
	(void)pthread_cond_init(&kr->wake, &ca);
	(void)pthread_condattr_destroy(&ca);
	kr->interval = interval;
	kr->stop = 0;
	rc = pthread_create(&kr->thread, NULL, keyring_watch_main, kr);
	if (rc != 0) {
		log_err("keys: cannot start the key watcher: %s",
		    strerror(rc));
		return -1;
	}
	kr->watching = 1;
	return 0;
}

char *
keyring_sign_jwt(struct keyrings *kr, enum key_alg alg, const char *typ,
    const char *claims_json, int64_t now)
{
	struct keyring *k = keyring_get(kr);
	char *jwt;

	jwt = keyset_sign_jwt(k->keys, alg, typ, claims_json, now);
	keyring_put(k);
	return jwt;
}

int
keyring_verify_access(struct keyrings *kr, const char *token,
    const char *audience, kl_claims **out, kl_error *err)
{
	struct keyring *k = keyring_get(kr);
	int rc;

	rc = kl_verify_access_token(k->verifier, token, audience, out, err);
	keyring_put(k);
	return rc;
}

int
keyring_verify_id(struct keyrings *kr, const char *token,
    const char *client_id, const char *nonce, kl_claims **out,
    kl_error *err)
{
	struct keyring *k = keyring_get(kr);
	int rc;

	rc = kl_verify_id_token(k->verifier, token, client_id, nonce, out,
	    err);
	keyring_put(k);
	return rc;
}

int
keyring_verify_hint(struct keyrings *kr, const char *token,
    const char *client_id, kl_claims **out, kl_error *err)
{
	struct keyring *k = keyring_get(kr);
	int rc;

	rc = kl_verify_id_token_hint(k->verifier, token, client_id, out, err);
	keyring_put(k);
	return rc;
}
