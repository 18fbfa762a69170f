/*
 * store_backend.h - the primitives a database must offer to carry the
 * Kleidi store: an environment at a folder, transactions, and named tables
 * of ordered byte keys to byte values. Everything above this line (records,
 * codec, indexes, expiry) is backend-independent and lives in store_*.c;
 * everything below it lives in one file per backend (store_lmdb.c), in the
 * manner of OpenSMTPD's struct table_backend.
 *
 * A backend keeps its own types out of this header. Return codes are the
 * enum store_rc of store.h, mapped at the backend's edge; every STORE_ERROR
 * and STORE_FULL has been logged once by the backend.
 */
#ifndef KLEIDI_STORE_BACKEND_H
#define KLEIDI_STORE_BACKEND_H

#include <stddef.h>

#include "store.h"

/* Longest key any backend must accept (LMDB's default compile-time limit). */
#define STORE_KEY_MAX 511
/* Longest value the store ever writes; the largest record (struct app with
 * every URI at full length) encodes to about 8.5 KiB. */
#define STORE_VALUE_MAX 16384

/*
 * The tables. The numbers are part of the on-disk format (the expiry index
 * stores them), so append new tables at the end and never renumber.
 */
enum store_table {
	STORE_TBL_META = 0,	/* key -> value, both strings */
	STORE_TBL_ORG = 1,	/* code -> org */
	STORE_TBL_SUB = 2,	/* org \0 app \0 -> empty */
	STORE_TBL_APP = 3,	/* client_id -> app */
	STORE_TBL_USER = 4,	/* id -> user */
	STORE_TBL_USERNAME = 5,	/* username -> id */
	STORE_TBL_USER_ORG = 6,	/* org \0 id \0 -> empty */
	STORE_TBL_GRANT = 7,	/* user \0 app \0 org \0 role \0 -> grant */
	STORE_TBL_SESSION = 8,	/* id_hash -> session */
	STORE_TBL_SESSION_USER = 9, /* user_id \0 id_hash -> empty */
	STORE_TBL_CODE = 10,	/* hash -> authcode */
	STORE_TBL_FLOW = 11,	/* hash -> flow */
	STORE_TBL_EXPIRY = 12,	/* expires(8, BE) table(1) hash(32) ->
				 * empty, or a counter key (store_expiry.c) */
	STORE_TBL_USER_AUTH = 13, /* user_id \0 -> user_auth */
	STORE_TBL_COUNTER = 14,	/* key \0 -> counter */
	STORE_TBL_AUDIT = 15,	/* seq (8, BE) -> audit_entry */
	STORE_TBL_USER_REGNO = 16, /* registry_no \0 -> id \0 */
	STORE_TBL_SCHED = 17,	/* effective (8, BE) registry_no \0 ->
				 * sched_change */
	STORE_TBL_SCHED_REGNO = 18, /* registry_no \0 -> effective (8, BE) */
	STORE_TBL_PAIRWISE = 19, /* client_id \0 sub \0 -> user_id \0 */
	STORE_TBL_REFRESH = 20,	/* hash -> refresh_token */
	STORE_TBL_REFRESH_FAMILY = 21, /* family \0 hash -> empty */
	STORE_TBL_REFRESH_USER = 22, /* user_id \0 family \0 -> empty */
	STORE_TBL_CLIENT_GRANT = 23, /* client_id \0 role \0 -> empty */
	STORE_TBL_SESSION_CLIENT = 24, /* session id_hash(32) client_id \0
				 * -> empty: the apps a session signed in to */
	STORE_TBL_BCL_OUTBOX = 25, /* due (8, BE) id(16) -> bcl_notice */
	STORE_TBL_CONSENT = 26,	/* user_id \0 client_id \0 -> consent */
	STORE_TBL_COUNT
};

/* Table names as the backend shows them to its own tools (mdb_stat -s). */
extern const char *const store_table_names[STORE_TBL_COUNT];

/* put: fail with STORE_EXISTS instead of replacing an existing value. */
#define STORE_PUT_NOOVERWRITE 0x1u

struct store_benv;	/* an open environment, defined by the backend */
struct store_btxn;	/* a transaction, defined by the backend */

/*
 * Iteration callback: key and value are borrowed until the callback writes
 * to the transaction or returns. Return 0 to go on; any other value stops
 * the iteration and becomes its return value (so a callback passes errors
 * through as negative store_rc values and stops early with a positive one).
 */
typedef int (*store_iter_fn)(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg);

struct store_backend {
	const char *name;
	/* Creates a new environment with every table in dir (mode 0700, files
	 * 0600). STORE_EXISTS if a database is already there. */
	int (*create)(const char *dir, struct store_benv **out, char *err,
	    size_t errlen);
	/* Opens an existing environment; STORE_NOTFOUND if dir holds none.
	 * A table the database lacks is not an error here (the caller checks
	 * the schema version first); using it later is. */
	int (*open)(const char *dir, struct store_benv **out, char *err,
	    size_t errlen);
	void (*close)(struct store_benv *env);		/* NULL is a no-op */

	/* Read transactions may be used from any thread and run beside one
	 * writer; a write transaction waits for the writer before it. */
	int (*begin)(struct store_benv *env, int write,
	    struct store_btxn **out);
	int (*commit)(struct store_btxn *txn);		/* frees txn */
	void (*abort)(struct store_btxn *txn);		/* frees txn */
	/* For group commit (store_write): begins a transaction nested in
	 * the write transaction parent, in the same thread. Until it ends
	 * parent is not used; it sees what parent holds; commit hands its
	 * changes to parent (nothing reaches the disk before parent's own
	 * commit) and abort drops them, leaving parent as it was. A failed
	 * commit leaves parent either as it was or failing its own commit.
	 * commit and abort above end it. NULL when the backend has none
	 * (a SQL backend would use SAVEPOINT / RELEASE / ROLLBACK TO):
	 * store_write then gives every call a transaction of its own. */
	int (*begin_nested)(struct store_btxn *parent,
	    struct store_btxn **out);

	/* *val is borrowed until the next write in txn or its end. */
	int (*get)(struct store_btxn *txn, enum store_table t,
	    const void *key, size_t klen, const void **val, size_t *vlen);
	int (*put)(struct store_btxn *txn, enum store_table t,
	    const void *key, size_t klen, const void *val, size_t vlen,
	    unsigned flags);
	int (*del)(struct store_btxn *txn, enum store_table t,
	    const void *key, size_t klen);
	/* Calls fn for each key starting with prefix (plen 0: every key), in
	 * ascending byte order. fn may write to txn, even delete the key it
	 * was given: iteration resumes after the last key it saw. Returns
	 * STORE_OK at the end, or what fn returned to stop it. */
	int (*iter)(struct store_btxn *txn, enum store_table t,
	    const void *prefix, size_t plen, store_iter_fn fn, void *arg);
	/* As iter, but from the first key >= start (slen 0: the first key)
	 * to the end of the table. */
	int (*iter_from)(struct store_btxn *txn, enum store_table t,
	    const void *start, size_t slen, store_iter_fn fn, void *arg);
	/* The greatest key of the table and its value, both borrowed as
	 * *val of get; STORE_NOTFOUND when the table is empty. */
	int (*last)(struct store_btxn *txn, enum store_table t,
	    const void **key, size_t *klen, const void **val, size_t *vlen);
	/* Writes a compacted copy of the environment, as one read
	 * transaction sees it, to fd (a regular file); writers go on
	 * meanwhile. The copy is a valid data file for open. */
	int (*copy)(struct store_benv *env, int fd);
	/* The data file's name inside the folder. */
	const char *data_file;
};

extern const struct store_backend store_backend_lmdb;

#endif
