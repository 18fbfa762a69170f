/*
 * cache.c - the keys of a URL verifier: fetched, shared by reference
 * count, swapped whole, refreshed when old or when a token names an
 * unknown kid, never more than once per min_refresh_interval.
 *
 * A keyset is immutable once parsed. The verifier's lock guards only the
 * pointer to the current set, the reference counts and the fetch state,
 * so a verification holds the lock for a few instructions and then checks
 * the signature with its own reference while another thread may install a
 * newer set. The HTTP request runs without the lock; threads that need its
 * result wait on a condition variable.
 *
 * A verifier made from JWKS bytes (not remote) has one keyset for life and
 * takes no lock at all.
 */
#include <stdlib.h>

#include "internal.h"

/* A default mutex fails only when corrupted; carrying on could hand out
 * freed keys, so stop instead. */
static void
cache_lock(kl_verifier *v)
{
	if (pthread_mutex_lock(&v->lock) != 0)
		abort();
}

static void
cache_unlock(kl_verifier *v)
{
	if (pthread_mutex_unlock(&v->lock) != 0)
		abort();
}

/* Drops one reference; returns ks when that was the last one, for the
 * caller to free after unlocking. */
static kl_keyset *
cache_drop_locked(kl_keyset *ks)
{
	if (ks != NULL && --ks->refs == 0)
		return ks;
	return NULL;
}

static int
cache_may_fetch_locked(const kl_verifier *v, int64_t now)
{
	if (v->fetching)
		return 0;
	if (!v->attempted)
		return 1;
	/* A clock set back must not stop refreshes for as long. */
	return now - v->attempt_at >= v->min_refresh || now < v->attempt_at;
}

static int
cache_due_locked(const kl_verifier *v, int64_t now)
{
	return v->keys == NULL || now - v->loaded_at >= v->refresh ||
	    now < v->loaded_at;
}

/* Waits, lock held, until the fetch under way (if any) ends. Returns 0
 * when no fetch was under way or the one awaited installed new keys. */
static int
cache_wait_locked(kl_verifier *v)
{
	unsigned int generation = v->generation;

	if (!v->fetching)
		return 0;
	while (v->fetching && v->generation == generation)
		if (pthread_cond_wait(&v->fetched, &v->lock) != 0)
			abort();
	return v->last_fetch_rc == KL_OK ? 0 : -1;
}

/*
 * Fetches and installs new keys. Called and returns with the lock held,
 * drops it during the request. *dead receives the replaced set when no
 * one holds it any more.
 */
static int
cache_fetch_locked(kl_verifier *v, int64_t now, kl_keyset **dead,
    kl_error *err)
{
	kl_keyset *fresh = NULL;
	char *body = NULL;
	size_t len;
	int rc;

	v->fetching = 1;
	v->attempted = 1;
	v->attempt_at = now;
	cache_unlock(v);
	rc = kl_fetch_get(&v->fetch, &body, &len, err);
	if (rc == KL_OK)
		rc = kl_jwks_parse(body, len, v->sha256, &fresh, err);
	free(body);
	cache_lock(v);
	if (rc == KL_OK) {
		*dead = cache_drop_locked(v->keys);
		v->keys = fresh;
		v->loaded_at = now;
	}
	v->last_fetch_rc = rc;
	v->fetching = 0;
	v->generation++;
	if (pthread_cond_broadcast(&v->fetched) != 0)
		abort();
	return rc;
}

int
kl_cache_acquire(kl_verifier *v, int64_t now, kl_keyset **out,
    kl_error *err)
{
	kl_keyset *dead = NULL;
	int rc = KL_OK;

	*out = NULL;
	if (!v->remote) {
		*out = v->keys;
		return KL_OK;
	}
	cache_lock(v);
	if (cache_due_locked(v, now) && cache_may_fetch_locked(v, now))
		rc = cache_fetch_locked(v, now, &dead, err);
	else if (v->keys == NULL)
		(void)cache_wait_locked(v);	/* a first fetch under way */
	/* Old keys stay in use when a refresh fails: the issuer being
	 * unreachable is no reason to refuse tokens it signed. */
	if (v->keys != NULL) {
		v->keys->refs++;
		*out = v->keys;
		rc = KL_OK;
	} else if (rc == KL_OK) {
		rc = kl_error_set(err, KL_ERR_FETCH,
		    "no signing keys yet: the last JWKS fetch failed");
	}
	cache_unlock(v);
	kl_jwks_free(dead);
	return rc;
}

void
kl_cache_release(kl_verifier *v, kl_keyset *ks)
{
	kl_keyset *dead;

	if (ks == NULL || !v->remote)
		return;
	cache_lock(v);
	dead = cache_drop_locked(ks);
	cache_unlock(v);
	kl_jwks_free(dead);
}

/* Makes keys newer than the current ones current, lock held: waits for a
 * fetch under way, or starts one when the rate limit allows. */
static int
cache_newer_locked(kl_verifier *v, int64_t now, kl_keyset **dead,
    kl_error *err)
{
	if (v->fetching)
		return cache_wait_locked(v) == 0 ? KL_OK :
		    kl_error_set(err, v->last_fetch_rc,
		    "the JWKS fetch for an unknown kid failed");
	if (cache_may_fetch_locked(v, now))
		return cache_fetch_locked(v, now, dead, err);
	/* The keys may be stale because the issuer failed: the token could
	 * not be checked, which is not the same as rejected. */
	if (v->last_fetch_rc != KL_OK)
		return kl_error_set(err, v->last_fetch_rc,
		    "token kid unknown and the last JWKS fetch failed");
	return kl_error_set(err, KL_ERR_UNKNOWN_KID,
	    "token kid unknown; keys were fetched less than %lld s ago",
	    (long long)v->min_refresh);
}

int
kl_cache_refresh_for_kid(kl_verifier *v, const kl_keyset *seen,
    int64_t now, kl_error *err)
{
	kl_keyset *dead = NULL;
	int rc = KL_OK;

	cache_lock(v);
	/* Another thread may have installed newer keys meanwhile: then just
	 * look again. */
	if (v->keys == seen)
		rc = cache_newer_locked(v, now, &dead, err);
	cache_unlock(v);
	kl_jwks_free(dead);
	return rc;
}

int
kl_cache_fetch_now(kl_verifier *v, int64_t now, kl_error *err)
{
	kl_keyset *dead = NULL;
	int rc;

	cache_lock(v);
	rc = cache_fetch_locked(v, now, &dead, err);
	cache_unlock(v);
	kl_jwks_free(dead);
	return rc;
}
