/*
 * bench_gen.c - fills a data folder made by `kleidi init` (server stopped)
 * with USERS employees of ORG, straight through the store API, in batches
 * of one write transaction each. Fast: the password is hashed ONCE with the
 * folder's argon2id settings (kleidi.ini, else the defaults) and the PHC
 * string reused, so signing in costs what it costs in production. The first
 * TOTP users get the role `clerk` in APP and an active TOTP (totp_enrol);
 * their "username base32-secret" lines go to OUT.
 * Prints
 *	METRIC store_bytes_per_user=<n> unit=B
 *	(the growth of the store's data file over the users added)
 * Usage: bench_gen DATA USERS TOTP ORG APP PASSWORD OUT [FROM]
 * With FROM, adds users FROM..USERS-1 only (to grow a store already
 * filled up to FROM) and enrols no TOTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "authn/authn.h"
#include "authn/factor.h"
#include "config/config.h"
#include "keys.h"
#include "store/store.h"
#include "util/util.h"

#define BATCH 10000

static long long
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void
make_user(struct user *u, unsigned i, const char *org, const char *phc,
    int64_t now)
{
	unsigned char h[32];
	char *id, seed[32];

	memset(u, 0, sizeof(*u));
	(void)snprintf(seed, sizeof(seed), "bench-user-%u", i);
	sha256(seed, strlen(seed), h);
	id = b64url_encode(h, 16);	/* 22 chars, as user_new_id */
	str_copy(u->id, id != NULL ? id : seed, sizeof(u->id));
	free(id);
	(void)snprintf(u->username, sizeof(u->username), "u%07u", i);
	u->type = USER_EMPLOYEE;
	str_copy(u->org, org, sizeof(u->org));
	(void)snprintf(u->name, sizeof(u->name), "Giorgos Papadopoulos %u", i);
	(void)snprintf(u->email, sizeof(u->email), "u%07u@%s.gov.gr", i, org);
	(void)snprintf(u->phone, sizeof(u->phone), "+30691%07u", i);
	str_copy(u->password, phc, sizeof(u->password));
	u->created = u->updated = now;
	(void)snprintf(u->position, sizeof(u->position), "Clerk");
}

static int
add_users(struct store *st, unsigned from, unsigned to, const char *org,
    const char *app, unsigned ntotp, const char *phc)
{
	struct store_txn *txn;
	struct grant g;
	struct user u;
	int64_t now = clock_now();
	unsigned i;

	if (store_begin(st, 1, &txn) != STORE_OK)
		return -1;
	for (i = from; i < to; i++) {
		make_user(&u, i, org, phc, now);
		if (store_user_add(txn, &u) != STORE_OK)
			goto fail;
		if (i >= ntotp)
			continue;
		memset(&g, 0, sizeof(g));
		str_copy(g.user_id, u.id, sizeof(g.user_id));
		str_copy(g.app, app, sizeof(g.app));
		str_copy(g.org, org, sizeof(g.org));
		str_copy(g.role, "clerk", sizeof(g.role));
		g.created = now;
		if (store_grant_put(txn, &g) != STORE_OK)
			goto fail;
	}
	return store_commit(txn) == STORE_OK ? 0 : -1;
fail:
	store_abort(txn);
	(void)fprintf(stderr, "bench_gen: cannot add user %u\n", i);
	return -1;
}

static int
enrol(struct store *st, const char *data, unsigned ntotp, const char *out)
{
	char path[600], err[256], secret[TOTP_SECRET_B32], uri[TOTP_URI_MAX];
	struct factor_keys fk;
	struct user u;
	keyset *ks;
	FILE *f;
	unsigned i;
	int rc = -1;

	(void)snprintf(path, sizeof(path), "%s/keys", data);
	if ((ks = keyset_load(path, clock_now(), err, sizeof(err))) == NULL ||
	    factor_keys_init(&fk, ks) != 0 || (f = fopen(out, "w")) == NULL) {
		keyset_free(ks);
		return -1;
	}
	for (i = 0; i < ntotp; i++) {
		make_user(&u, i, "", "", 0);
		if (totp_enrol(&fk, st, u.id, "Kleidi", u.username, 1, secret,
		    uri) != 0)
			goto done;
		(void)fprintf(f, "%s %s\n", u.username, secret);
	}
	rc = 0;
done:
	(void)fclose(f);
	factor_keys_clear(&fk);
	keyset_free(ks);
	return rc;
}

int
main(int argc, char **argv)
{
	char path[600], err[256], phc[PHC_SIZE];
	struct argon2_params ap;
	struct config cfg;
	struct store *st = NULL;
	unsigned n, ntotp, i, from;
	long long before, after;
	struct timespec t0, t1;

	if (argc != 8 && argc != 9) {
		(void)fprintf(stderr, "usage: bench_gen DATA USERS TOTP ORG APP "
		    "PASSWORD OUT [FROM]\n");
		return 2;
	}
	n = (unsigned)strtoul(argv[2], NULL, 10);
	ntotp = (unsigned)strtoul(argv[3], NULL, 10);
	from = argc > 8 ? (unsigned)strtoul(argv[8], NULL, 10) : 0;
	if (from > 0)
		ntotp = 0;
	log_set_level(LOG_WARN);
	config_defaults(&cfg);
	(void)snprintf(path, sizeof(path), "%s/kleidi.ini", argv[1]);
	if (file_size(path) >= 0 &&
	    config_load(&cfg, path, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "bench_gen: %s\n", err);
		return 1;
	}
	memset(&ap, 0, sizeof(ap));
	ap.t_cost = cfg.argon2_t_cost;
	ap.m_cost_kib = cfg.argon2_m_cost_kib;
	ap.parallelism = cfg.argon2_parallelism;
	if (password_hash(&ap, argv[6], phc, sizeof(phc)) != 0)
		return 1;
	(void)snprintf(path, sizeof(path), "%s/store", argv[1]);
	if (store_open(path, &st, err, sizeof(err)) != STORE_OK) {
		(void)fprintf(stderr, "bench_gen: %s\n", err);
		return 1;
	}
	(void)snprintf(path, sizeof(path), "%s/store/data.mdb", argv[1]);
	before = file_size(path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = from; i < n; i += BATCH)
		if (add_users(st, i, i + BATCH < n ? i + BATCH : n, argv[4],
		    argv[5], ntotp, phc) != 0)
			goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	after = file_size(path);
	if (ntotp > 0 && enrol(st, argv[1], ntotp < n ? ntotp : n, argv[7])
	    != 0)
		goto fail;
	(void)printf("bench_gen: %u users in %.1f s (%u with TOTP)\n", n - from,
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec -
	    t0.tv_nsec) / 1e9, ntotp);
	if (n > from && before >= 0 && after >= 0)
		(void)printf("METRIC store_bytes_per_user=%.0f unit=B\n",
		    (double)(after - before) / (n - from));
	store_close(st);
	return 0;
fail:
	store_close(st);
	return 1;
}
