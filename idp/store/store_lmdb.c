/*
 * store_lmdb.c - the LMDB backend of the store: the only file that
 * includes lmdb.h. One environment in the store folder (data.mdb and
 * lock.mdb), one named database per table. LMDB return codes stop here:
 * MDB_NOTFOUND, MDB_KEYEXIST and MDB_MAP_FULL become STORE_NOTFOUND,
 * STORE_EXISTS and STORE_FULL, anything else STORE_ERROR with one log line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "store_backend.h"
#include "util/util.h"

/*
 * The map size only reserves address space: data.mdb grows page by page as
 * it is written (a sparse file on Linux), so a large map costs nothing
 * until used, while a small one ends in MDB_MAP_FULL. LMDB keeps the
 * larger of this and the size recorded in the file, so raising it later is
 * safe. A 32-bit process cannot reserve that much address space.
 */
#if SIZE_MAX > 0xffffffffu
#define LMDB_MAP_SIZE ((size_t)8 << 30)
#else
#define LMDB_MAP_SIZE ((size_t)512 << 20)
#endif
/* One slot per open read transaction in every process (server threads and
 * the CLI); a slot is 64 bytes of lock.mdb. */
#define LMDB_MAX_READERS 512
/* Room for tables a later schema adds, which an older binary must still be
 * able to open. */
#define LMDB_MAX_DBS (STORE_TBL_COUNT + 16)

/*
 * MDB_NOTLS: a read transaction belongs to its caller, not to the thread
 * that began it, and one thread may hold several. Never MDB_WRITEMAP:
 * group commit (store_write) needs nested transactions, which LMDB
 * refuses in a writable map. Never MDB_NOSYNC, MDB_NOMETASYNC or
 * MDB_MAPASYNC either: a commit returns once it is on disk, which every
 * answer of the server relies on.
 */
#define LMDB_ENV_FLAGS MDB_NOTLS
_Static_assert((LMDB_ENV_FLAGS & (MDB_WRITEMAP | MDB_NOSYNC |
    MDB_NOMETASYNC | MDB_MAPASYNC)) == 0,
    "nested transactions and durable commits");

struct store_benv {
	MDB_env *env;
	dev_t dev;		/* the folder, for the once-per-process rule */
	ino_t ino;
	MDB_dbi dbi[STORE_TBL_COUNT];
	unsigned char have[STORE_TBL_COUNT];
};

struct store_btxn {
	struct store_benv *env;
	MDB_txn *txn;
	unsigned long writes;	/* lets iteration skip re-seeking */
};

static int
lmdb_rc(int rc, const char *op, enum store_table t)
{
	const char *table = (unsigned)t < STORE_TBL_COUNT ?
	    store_table_names[t] : "-";

	switch (rc) {
	case MDB_SUCCESS:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_NOTFOUND;
	case MDB_KEYEXIST:
		return STORE_EXISTS;
	case MDB_MAP_FULL:
		log_err("store: %s %s: the database is full", op, table);
		return STORE_FULL;
	default:
		log_err("store: %s %s: %s", op, table, mdb_strerror(rc));
		return STORE_ERROR;
	}
}

/*
 * LMDB forbids opening one environment twice in a process: closing the
 * second handle would drop the POSIX locks the first holds on lock.mdb,
 * and another process could then corrupt the database. The open folders
 * are kept here (by device and inode) and a second open is refused.
 */
#define LMDB_OPEN_MAX 16
static struct {
	dev_t dev;
	ino_t ino;
} lmdb_opened[LMDB_OPEN_MAX];
static size_t lmdb_nopened;
static pthread_mutex_t lmdb_opened_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t lmdb_atfork_once = PTHREAD_ONCE_INIT;

/* A forked child must not use its parent's environments (LMDB's rule) but
 * may open the store afresh: it holds none of the parent's locks. */
static void
lmdb_forget(void)
{
	lmdb_nopened = 0;
	(void)pthread_mutex_init(&lmdb_opened_mtx, NULL);
}

static void
lmdb_atfork(void)
{
	if (pthread_atfork(NULL, NULL, lmdb_forget) != 0)
		log_warn("store: pthread_atfork failed");
}

static int
lmdb_claim(struct store_benv *be, const char *dir, char *err, size_t errlen)
{
	struct stat sb;
	size_t i;
	int rc = -1;

	(void)pthread_once(&lmdb_atfork_once, lmdb_atfork);
	if (stat(dir, &sb) == -1) {
		err_set(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	(void)pthread_mutex_lock(&lmdb_opened_mtx);
	for (i = 0; i < lmdb_nopened; i++) {
		if (lmdb_opened[i].dev == sb.st_dev &&
		    lmdb_opened[i].ino == sb.st_ino)
			break;
	}
	if (i < lmdb_nopened)
		err_set(err, errlen, "the store in %s is already open in "
		    "this process", dir);
	else if (lmdb_nopened == LMDB_OPEN_MAX)
		err_set(err, errlen, "too many open stores");
	else {
		lmdb_opened[lmdb_nopened].dev = be->dev = sb.st_dev;
		lmdb_opened[lmdb_nopened].ino = be->ino = sb.st_ino;
		lmdb_nopened++;
		rc = 0;
	}
	(void)pthread_mutex_unlock(&lmdb_opened_mtx);
	return rc;
}

static void
lmdb_release(const struct store_benv *be)
{
	size_t i;

	(void)pthread_mutex_lock(&lmdb_opened_mtx);
	for (i = 0; i < lmdb_nopened; i++) {
		if (lmdb_opened[i].dev == be->dev &&
		    lmdb_opened[i].ino == be->ino) {
			lmdb_opened[i] = lmdb_opened[--lmdb_nopened];
			break;
		}
	}
	(void)pthread_mutex_unlock(&lmdb_opened_mtx);
}

/* ---- environment */

/* 1 if dir holds a database, 0 if not, -1 on error (err set). */
static int
lmdb_exists(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	struct stat sb;
	int n;

	n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		err_set(err, errlen, "store path too long");
		return -1;
	}
	if (stat(path, &sb) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	err_set(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

static int
lmdb_mkdir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		err_set(err, errlen, "cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		err_set(err, errlen, "%s is not a folder", dir);
		return -1;
	}
	return 0;
}

static int
lmdb_env_new(const char *dir, MDB_env **out, char *err, size_t errlen)
{
	MDB_env *env = NULL;
	int dead = 0, rc;

	*out = NULL;
	if ((rc = mdb_env_create(&env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(env, LMDB_MAX_DBS)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, LMDB_MAP_SIZE)) != 0 ||
	    (rc = mdb_env_set_maxreaders(env, LMDB_MAX_READERS)) != 0)
		goto fail;
	if ((rc = mdb_env_open(env, dir, LMDB_ENV_FLAGS, 0600)) != 0)
		goto fail;
	/* A process killed inside a read transaction leaves its reader slot
	 * taken, pinning old pages so the file only grows: free such slots
	 * of dead processes now. */
	if ((rc = mdb_reader_check(env, &dead)) != 0)
		goto fail;
	if (dead > 0)
		log_warn("store: cleared %d stale reader slot(s)", dead);
	*out = env;
	return STORE_OK;
fail:
	err_set(err, errlen, "cannot open the store in %s: %s", dir,
	    mdb_strerror(rc));
	if (env != NULL)
		mdb_env_close(env);
	return STORE_ERROR;
}

/* Opens the table handles; handles opened inside a transaction become
 * the environment's when it commits (read-only ones included). */
static int
lmdb_tables(struct store_benv *be, int create, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	unsigned i;
	int rc;

	rc = mdb_txn_begin(be->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	for (i = 0; rc == 0 && i < STORE_TBL_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_table_names[i],
		    create ? MDB_CREATE : 0, &be->dbi[i]);
		be->have[i] = rc == 0;
		/* Missing tables are the schema check's business. */
		if (rc == MDB_NOTFOUND && !create)
			rc = 0;
	}
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != 0) {
		memset(be->have, 0, sizeof(be->have));
		err_set(err, errlen, "cannot open the store tables: %s",
		    mdb_strerror(rc));
		return rc == MDB_MAP_FULL ? STORE_FULL : STORE_ERROR;
	}
	return STORE_OK;
}

static void
lmdb_close(struct store_benv *be)
{
	if (be == NULL)
		return;
	if (be->env != NULL)
		mdb_env_close(be->env);
	lmdb_release(be);
	free(be);
}

static int
lmdb_start(const char *dir, int create, struct store_benv **out, char *err,
    size_t errlen)
{
	struct store_benv *be;
	int rc;

	if ((be = calloc(1, sizeof(*be))) == NULL) {
		err_set(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	if (lmdb_claim(be, dir, err, errlen) == -1) {
		free(be);
		return STORE_ERROR;
	}
	rc = lmdb_env_new(dir, &be->env, err, errlen);
	if (rc == STORE_OK)
		rc = lmdb_tables(be, create, err, errlen);
	if (rc != STORE_OK) {
		lmdb_close(be);
		return rc;
	}
	*out = be;
	return STORE_OK;
}

static int
lmdb_create(const char *dir, struct store_benv **out, char *err,
    size_t errlen)
{
	int ex;

	*out = NULL;
	if (lmdb_mkdir(dir, err, errlen) == -1)
		return STORE_ERROR;
	if ((ex = lmdb_exists(dir, err, errlen)) != 0) {
		if (ex == 1)
			err_set(err, errlen, "a store already exists in "
			    "%s", dir);
		return ex == 1 ? STORE_EXISTS : STORE_ERROR;
	}
	return lmdb_start(dir, 1, out, err, errlen);
}

static int
lmdb_open(const char *dir, struct store_benv **out, char *err, size_t errlen)
{
	int ex;

	*out = NULL;
	if ((ex = lmdb_exists(dir, err, errlen)) != 1) {
		if (ex == 0)
			err_set(err, errlen, "no store in %s", dir);
		return ex == 0 ? STORE_NOTFOUND : STORE_ERROR;
	}
	return lmdb_start(dir, 0, out, err, errlen);
}


/* ---- transactions */

static int
lmdb_begin(struct store_benv *be, int write, struct store_btxn **out)
{
	struct store_btxn *bt;
	unsigned flags = write ? 0 : MDB_RDONLY;
	int dead = 0, rc;

	*out = NULL;
	if ((bt = calloc(1, sizeof(*bt))) == NULL) {
		log_err("store: out of memory");
		return STORE_ERROR;
	}
	bt->env = be;
	rc = mdb_txn_begin(be->env, NULL, flags, &bt->txn);
	/* The slots may be held by processes that died since open. */
	if (rc == MDB_READERS_FULL && mdb_reader_check(be->env, &dead) == 0 &&
	    dead > 0)
		rc = mdb_txn_begin(be->env, NULL, flags, &bt->txn);
	if (rc != 0) {
		free(bt);
		return lmdb_rc(rc, "begin", STORE_TBL_COUNT);
	}
	*out = bt;
	return STORE_OK;
}

/* A transaction nested in parent (store_write): same thread, parent
 * unused until it ends. */
static int
lmdb_begin_nested(struct store_btxn *parent, struct store_btxn **out)
{
	struct store_btxn *bt;
	int rc;

	*out = NULL;
	if (parent == NULL)
		return STORE_ERROR;
	if ((bt = calloc(1, sizeof(*bt))) == NULL) {
		log_err("store: out of memory");
		return STORE_ERROR;
	}
	bt->env = parent->env;
	if ((rc = mdb_txn_begin(parent->env->env, parent->txn, 0,
	    &bt->txn)) != 0) {
		free(bt);
		return lmdb_rc(rc, "begin nested", STORE_TBL_COUNT);
	}
	*out = bt;
	return STORE_OK;
}

static int
lmdb_commit(struct store_btxn *bt)
{
	int rc;

	if (bt == NULL)
		return STORE_ERROR;
	rc = mdb_txn_commit(bt->txn);	/* frees the txn even on failure */
	free(bt);
	return lmdb_rc(rc, "commit", STORE_TBL_COUNT);
}

static void
lmdb_abort(struct store_btxn *bt)
{
	if (bt == NULL)
		return;
	mdb_txn_abort(bt->txn);
	free(bt);
}

/* ---- tables */

static int
lmdb_dbi(struct store_btxn *bt, enum store_table t, MDB_dbi *dbi)
{
	if ((unsigned)t >= STORE_TBL_COUNT) {
		log_err("store: no table %d", (int)t);
		return STORE_ERROR;
	}
	if (!bt->env->have[t]) {
		log_err("store: table %s is missing from the database",
		    store_table_names[t]);
		return STORE_ERROR;
	}
	*dbi = bt->env->dbi[t];
	return STORE_OK;
}

static int
lmdb_get(struct store_btxn *bt, enum store_table t, const void *key,
    size_t klen, const void **val, size_t *vlen)
{
	MDB_val k = { klen, (void *)key }, v = { 0, NULL };
	MDB_dbi dbi;
	int rc;

	*val = NULL;
	*vlen = 0;
	if (lmdb_dbi(bt, t, &dbi) != STORE_OK)
		return STORE_ERROR;
	if ((rc = mdb_get(bt->txn, dbi, &k, &v)) != 0)
		return lmdb_rc(rc, "get", t);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return STORE_OK;
}

static int
lmdb_put(struct store_btxn *bt, enum store_table t, const void *key,
    size_t klen, const void *val, size_t vlen, unsigned flags)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	MDB_dbi dbi;
	unsigned mflags = 0;

	if (lmdb_dbi(bt, t, &dbi) != STORE_OK)
		return STORE_ERROR;
	if (flags & STORE_PUT_NOOVERWRITE)
		mflags |= MDB_NOOVERWRITE;
	bt->writes++;
	return lmdb_rc(mdb_put(bt->txn, dbi, &k, &v, mflags), "put", t);
}

static int
lmdb_del(struct store_btxn *bt, enum store_table t, const void *key,
    size_t klen)
{
	MDB_val k = { klen, (void *)key };
	MDB_dbi dbi;

	if (lmdb_dbi(bt, t, &dbi) != STORE_OK)
		return STORE_ERROR;
	bt->writes++;
	return lmdb_rc(mdb_del(bt->txn, dbi, &k, NULL), "del", t);
}

/* Moves to the first key after last (klen llen). When the transaction
 * was written to since, the cursor is placed again by key: the callback
 * may have deleted the key it was on. */
static int
lmdb_next(struct store_btxn *bt, MDB_cursor *cur, unsigned long writes,
    const unsigned char *last, size_t llen, MDB_val *k, MDB_val *v)
{
	int rc;

	if (bt->writes == writes)
		return mdb_cursor_get(cur, k, v, MDB_NEXT);
	k->mv_size = llen;
	k->mv_data = (void *)last;
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == 0 && k->mv_size == llen && memcmp(k->mv_data, last,
	    llen) == 0)
		rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
	return rc;
}

/* A walk over a table: from the first key >= start (slen 0: the first
 * key), while keys begin with the first `bound` bytes of start. */
struct lmdb_walk {
	const void *start;
	size_t slen;
	size_t bound;		/* slen for a prefix walk, 0 to the end */
	store_iter_fn fn;
	void *arg;
};

/* Returns an LMDB code; *crc gets what the callback returned to stop. */
static int
lmdb_walk(struct store_btxn *bt, MDB_cursor *cur, const struct lmdb_walk *w,
    int *crc)
{
	unsigned char last[STORE_KEY_MAX];
	MDB_val k = { w->slen, (void *)w->start }, v = { 0, NULL };
	unsigned long writes;
	int rc;

	*crc = 0;
	rc = mdb_cursor_get(cur, &k, &v, w->slen == 0 ? MDB_FIRST :
	    MDB_SET_RANGE);
	while (rc == 0) {
		if (w->bound > 0 && (k.mv_size < w->bound ||
		    memcmp(k.mv_data, w->start, w->bound) != 0))
			break;
		/* Longer than any key the store writes: not ours. */
		if (k.mv_size > sizeof(last))
			return MDB_BAD_VALSIZE;
		memcpy(last, k.mv_data, k.mv_size);
		writes = bt->writes;
		*crc = w->fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size,
		    w->arg);
		if (*crc != 0)
			return 0;
		rc = lmdb_next(bt, cur, writes, last, k.mv_size, &k, &v);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
lmdb_run(struct store_btxn *bt, enum store_table t, const struct lmdb_walk *w)
{
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	int rc, crc = 0;

	if (lmdb_dbi(bt, t, &dbi) != STORE_OK)
		return STORE_ERROR;
	if ((rc = mdb_cursor_open(bt->txn, dbi, &cur)) != 0)
		return lmdb_rc(rc, "cursor", t);
	rc = lmdb_walk(bt, cur, w, &crc);
	mdb_cursor_close(cur);
	if (rc != 0)
		return lmdb_rc(rc, "iterate", t);
	return crc;
}

static int
lmdb_iter(struct store_btxn *bt, enum store_table t, const void *prefix,
    size_t plen, store_iter_fn fn, void *arg)
{
	struct lmdb_walk w = { prefix, plen, plen, fn, arg };

	return lmdb_run(bt, t, &w);
}

static int
lmdb_iter_from(struct store_btxn *bt, enum store_table t, const void *start,
    size_t slen, store_iter_fn fn, void *arg)
{
	struct lmdb_walk w = { start, slen, 0, fn, arg };

	return lmdb_run(bt, t, &w);
}

static int
lmdb_last(struct store_btxn *bt, enum store_table t, const void **key,
    size_t *klen, const void **val, size_t *vlen)
{
	MDB_cursor *cur = NULL;
	MDB_val k = { 0, NULL }, v = { 0, NULL };
	MDB_dbi dbi;
	int rc;

	*key = *val = NULL;
	*klen = *vlen = 0;
	if (lmdb_dbi(bt, t, &dbi) != STORE_OK)
		return STORE_ERROR;
	if ((rc = mdb_cursor_open(bt->txn, dbi, &cur)) != 0)
		return lmdb_rc(rc, "cursor", t);
	/* What the cursor returns points into the map, not the cursor: it
	 * stays valid after the close, as for mdb_get. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc != 0)
		return lmdb_rc(rc, "last", t);
	*key = k.mv_data;
	*klen = k.mv_size;
	*val = v.mv_data;
	*vlen = v.mv_size;
	return STORE_OK;
}

/* ---- backup */

static int
lmdb_copy(struct store_benv *be, int fd)
{
	int rc;

	if (be == NULL || fd < 0)
		return STORE_ERROR;
	/* MDB_CP_COMPACT walks one read transaction and writes only the
	 * pages in use, renumbered: a consistent snapshot without free
	 * pages, taken while the writer goes on. */
	rc = mdb_env_copyfd2(be->env, fd, MDB_CP_COMPACT);
	return lmdb_rc(rc, "copy", STORE_TBL_COUNT);
}

const struct store_backend store_backend_lmdb = {
	.name = "lmdb",
	.create = lmdb_create,
	.open = lmdb_open,
	.close = lmdb_close,
	.begin = lmdb_begin,
	.commit = lmdb_commit,
	.abort = lmdb_abort,
	.begin_nested = lmdb_begin_nested,
	.get = lmdb_get,
	.put = lmdb_put,
	.del = lmdb_del,
	.iter = lmdb_iter,
	.iter_from = lmdb_iter_from,
	.last = lmdb_last,
	.copy = lmdb_copy,
	.data_file = "data.mdb",
};
