/*
 * store.c - lifecycle, transactions, raw table access and meta settings.
 * The schema version lives in the meta table: store_create writes it in
 * the same transaction that claims the folder, store_open refuses any other
 * version before a service can touch a record it would misread. Group
 * commit (store_write) is store_write.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util/util.h"

#define META_KEY_SIZE 129	/* longest meta key + NUL */
#define META_VALUE_MAX 1024	/* "value up to 1 KiB" (store.h) */
#define SCHEMA_KEY "schema_version"

const char *const store_table_names[STORE_TBL_COUNT] = {
	[STORE_TBL_META] = "meta",
	[STORE_TBL_ORG] = "org",
	[STORE_TBL_SUB] = "sub",
	[STORE_TBL_APP] = "app",
	[STORE_TBL_USER] = "user",
	[STORE_TBL_USERNAME] = "username",
	[STORE_TBL_USER_ORG] = "user_org",
	[STORE_TBL_GRANT] = "grant",
	[STORE_TBL_SESSION] = "session",
	[STORE_TBL_SESSION_USER] = "session_user",
	[STORE_TBL_CODE] = "code",
	[STORE_TBL_FLOW] = "flow",
	[STORE_TBL_EXPIRY] = "expiry",
	[STORE_TBL_USER_AUTH] = "user_auth",
	[STORE_TBL_COUNTER] = "counter",
	[STORE_TBL_AUDIT] = "audit",
	[STORE_TBL_USER_REGNO] = "user_regno",
	[STORE_TBL_SCHED] = "sched",
	[STORE_TBL_SCHED_REGNO] = "sched_regno",
	[STORE_TBL_PAIRWISE] = "pairwise",
	[STORE_TBL_REFRESH] = "refresh",
	[STORE_TBL_REFRESH_FAMILY] = "refresh_family",
	[STORE_TBL_REFRESH_USER] = "refresh_user",
	[STORE_TBL_CLIENT_GRANT] = "client_grant",
	[STORE_TBL_SESSION_CLIENT] = "session_client",
	[STORE_TBL_BCL_OUTBOX] = "bcl_outbox",
	[STORE_TBL_CONSENT] = "consent",
};

/* ---- raw table access */

static int
raw_check(struct store_txn *txn, enum store_table t, const void *key,
    size_t klen, int write)
{
	if (txn == NULL || txn->bt == NULL || (unsigned)t >= STORE_TBL_COUNT) {
		log_err("store: bad transaction or table");
		return STORE_ERROR;
	}
	if (write && !txn->write) {
		log_err("store: write to %s in a read transaction",
		    store_table_names[t]);
		return STORE_ERROR;
	}
	if (key != NULL && (klen == 0 || klen > STORE_KEY_MAX)) {
		log_err("store: bad key length %zu for %s", klen,
		    store_table_names[t]);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
store_raw_get(struct store_txn *txn, enum store_table t, const void *key,
    size_t klen, const void **val, size_t *vlen)
{
	if (key == NULL || val == NULL || vlen == NULL)
		return STORE_ERROR;
	if (raw_check(txn, t, key, klen, 0) != STORE_OK)
		return STORE_ERROR;
	return txn->st->be->get(txn->bt, t, key, klen, val, vlen);
}

/* Notes the first failed write of txn (for store_write) and passes rc on. */
static int
raw_wrote(struct store_txn *txn, int rc)
{
	if (txn != NULL && txn->failed == STORE_OK && (rc == STORE_ERROR ||
	    rc == STORE_FULL))
		txn->failed = rc;
	return rc;
}

int
store_raw_put(struct store_txn *txn, enum store_table t, const void *key,
    size_t klen, const void *val, size_t vlen, unsigned flags)
{
	if (key == NULL || (val == NULL && vlen > 0) || vlen > STORE_VALUE_MAX)
		return raw_wrote(txn, STORE_ERROR);
	if (raw_check(txn, t, key, klen, 1) != STORE_OK)
		return raw_wrote(txn, STORE_ERROR);
	return raw_wrote(txn, txn->st->be->put(txn->bt, t, key, klen,
	    val == NULL ? "" : val, vlen, flags));
}

int
store_raw_del(struct store_txn *txn, enum store_table t, const void *key,
    size_t klen)
{
	if (key == NULL || raw_check(txn, t, key, klen, 1) != STORE_OK)
		return raw_wrote(txn, STORE_ERROR);
	return raw_wrote(txn, txn->st->be->del(txn->bt, t, key, klen));
}

int
store_raw_iter(struct store_txn *txn, enum store_table t, const void *prefix,
    size_t plen, store_iter_fn fn, void *arg)
{
	if (fn == NULL || (prefix == NULL && plen > 0) || plen > STORE_KEY_MAX)
		return STORE_ERROR;
	if (raw_check(txn, t, NULL, 0, 0) != STORE_OK)
		return STORE_ERROR;
	return txn->st->be->iter(txn->bt, t, prefix, plen, fn, arg);
}

int
store_raw_iter_from(struct store_txn *txn, enum store_table t,
    const void *start, size_t slen, store_iter_fn fn, void *arg)
{
	if (fn == NULL || (start == NULL && slen > 0) || slen > STORE_KEY_MAX)
		return STORE_ERROR;
	if (raw_check(txn, t, NULL, 0, 0) != STORE_OK)
		return STORE_ERROR;
	return txn->st->be->iter_from(txn->bt, t, start, slen, fn, arg);
}

int
store_raw_last(struct store_txn *txn, enum store_table t, const void **key,
    size_t *klen, const void **val, size_t *vlen)
{
	if (key == NULL || klen == NULL || val == NULL || vlen == NULL)
		return STORE_ERROR;
	if (raw_check(txn, t, NULL, 0, 0) != STORE_OK)
		return STORE_ERROR;
	return txn->st->be->last(txn->bt, t, key, klen, val, vlen);
}

int
store_iter_result(int rc)
{
	return rc == STORE_ITER_STOP ? STORE_OK : rc;
}

/* ---- records */

int
store_rec_put(struct store_txn *txn, enum store_table t, enum store_rec type,
    const struct store_key *k, const void *rec, unsigned flags)
{
	unsigned char buf[STORE_VALUE_MAX];
	size_t len = 0;
	int rc;

	rc = store_encode(type, rec, buf, sizeof(buf), &len);
	if (rc == STORE_OK)
		rc = store_raw_put(txn, t, k->b, k->len, buf, len, flags);
	wipe(buf, len);
	return rc;
}

int
store_rec_get(struct store_txn *txn, enum store_table t, enum store_rec type,
    const struct store_key *k, void *out)
{
	const void *val;
	size_t vlen;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	rc = store_raw_get(txn, t, k->b, k->len, &val, &vlen);
	if (rc != STORE_OK) {
		memset(out, 0, store_rec_size(type));
		return rc;
	}
	return store_decode(type, val, vlen, out);
}

/* ---- transactions */

int
store_begin(struct store *st, int write, struct store_txn **out)
{
	struct store_txn *txn;
	int rc;

	if (out == NULL)
		return STORE_ERROR;
	*out = NULL;
	if (st == NULL || st->env == NULL)
		return STORE_ERROR;
	if (store_write_inside()) {
		log_err("store: a store_write fn began a transaction");
		return STORE_ERROR;
	}
	if ((txn = calloc(1, sizeof(*txn))) == NULL) {
		log_err("store: out of memory");
		return STORE_ERROR;
	}
	txn->st = st;
	txn->write = write != 0;
	rc = st->be->begin(st->env, txn->write, &txn->bt);
	if (rc != STORE_OK) {
		free(txn);
		return rc;
	}
	*out = txn;
	return STORE_OK;
}

int
store_commit(struct store_txn *txn)
{
	int rc;

	if (txn == NULL)
		return STORE_ERROR;
	if (txn->lent) {
		log_err("store: a store_write fn committed its transaction");
		return STORE_ERROR;
	}
	rc = txn->st->be->commit(txn->bt);
	free(txn);
	return rc;
}

void
store_abort(struct store_txn *txn)
{
	if (txn == NULL)
		return;
	if (txn->lent) {
		log_err("store: a store_write fn aborted its transaction");
		return;
	}
	txn->st->be->abort(txn->bt);
	free(txn);
}

/* ---- meta */

static int
meta_key(struct store_key *k, const char *key)
{
	store_key_init(k);
	return store_key_str(k, key, META_KEY_SIZE);
}

int
store_meta_get(struct store_txn *txn, const char *key, char *value,
    size_t size)
{
	struct store_key k;
	const void *val;
	size_t vlen;
	int rc;

	if (value == NULL || size == 0)
		return STORE_ERROR;
	value[0] = '\0';
	if ((rc = meta_key(&k, key)) != STORE_OK)
		return rc;
	rc = store_raw_get(txn, STORE_TBL_META, k.b, k.len, &val, &vlen);
	if (rc != STORE_OK)
		return rc;
	if (vlen >= size || memchr(val, '\0', vlen) != NULL) {
		log_err("store: meta %s does not fit (%zu bytes)", key, vlen);
		return STORE_ERROR;
	}
	memcpy(value, val, vlen);
	value[vlen] = '\0';
	return STORE_OK;
}

static int
meta_put(struct store_txn *txn, const char *key, const char *value,
    unsigned flags)
{
	struct store_key k;
	size_t n;
	int rc;

	rc = store_key_check_put(meta_key(&k, key), "meta key");
	if (rc != STORE_OK)
		return rc;
	if (value == NULL || (n = strnlen(value, META_VALUE_MAX + 1)) >
	    META_VALUE_MAX) {
		log_err("store: meta %s value missing or over %d bytes", key,
		    META_VALUE_MAX);
		return STORE_ERROR;
	}
	return store_raw_put(txn, STORE_TBL_META, k.b, k.len, value, n, flags);
}

int
store_meta_put(struct store_txn *txn, const char *key, const char *value)
{
	/* The schema version belongs to the store: a service that rewrote
	 * it could make an old binary misread newer records. */
	if (key != NULL && strcmp(key, SCHEMA_KEY) == 0) {
		log_err("store: meta %s is read-only", SCHEMA_KEY);
		return STORE_ERROR;
	}
	return meta_put(txn, key, value, 0);
}

/* ---- lifecycle */

static int
schema_write(struct store *st, char *err, size_t errlen)
{
	struct store_txn *txn = NULL;
	char version[24];
	int rc;

	if ((rc = store_begin(st, 1, &txn)) != STORE_OK)
		goto done;
	(void)snprintf(version, sizeof(version), "%d", STORE_SCHEMA_VERSION);
	/* No-overwrite: of two concurrent creates exactly one wins. */
	rc = meta_put(txn, SCHEMA_KEY, version, STORE_PUT_NOOVERWRITE);
	if (rc != STORE_OK)
		goto done;
	rc = store_commit(txn);
	txn = NULL;
done:
	store_abort(txn);
	if (rc == STORE_EXISTS)
		err_set(err, errlen, "a store already exists");
	else if (rc != STORE_OK)
		err_set(err, errlen, "cannot write the schema version");
	return rc;
}

int
store_create(const char *dir, char *err, size_t errlen)
{
	struct store st;
	int rc;

	/* No group commit here (st.group stays unset): store_write refuses
	 * a store whose group is not set up. */
	memset(&st, 0, sizeof(st));
	st.be = &store_backend_lmdb;
	err_set(err, errlen, "%s", "");
	if (dir == NULL || *dir == '\0') {
		err_set(err, errlen, "no store folder given");
		return STORE_ERROR;
	}
	rc = st.be->create(dir, &st.env, err, errlen);
	if (rc != STORE_OK)
		return rc;
	rc = schema_write(&st, err, errlen);
	st.be->close(st.env);
	return rc;
}

/* Parses a schema version as stored: decimal digits only. */
static long
schema_parse(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return v;
}

static int
schema_check(struct store *st, const char *dir, char *err, size_t errlen)
{
	struct store_txn *txn = NULL;
	char version[32];
	long v;
	int rc;

	if ((rc = store_begin(st, 0, &txn)) != STORE_OK) {
		err_set(err, errlen, "cannot read the store in %s", dir);
		return rc;
	}
	rc = store_meta_get(txn, SCHEMA_KEY, version, sizeof(version));
	store_abort(txn);
	if (rc == STORE_NOTFOUND) {
		err_set(err, errlen, "%s has no schema version: not a Kleidi "
		    "store", dir);
		return STORE_ERROR;
	}
	if (rc != STORE_OK) {
		err_set(err, errlen, "cannot read the schema version in %s",
		    dir);
		return rc;
	}
	if ((v = schema_parse(version)) != STORE_SCHEMA_VERSION) {
		err_set(err, errlen, "store in %s has schema version %s, this "
		    "kleidi needs version %d", dir, v < 0 ? "(invalid)" :
		    version, STORE_SCHEMA_VERSION);
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
store_open(const char *dir, struct store **out, char *err, size_t errlen)
{
	struct store *st = NULL;
	int rc;

	err_set(err, errlen, "%s", "");
	if (out == NULL)
		return STORE_ERROR;
	*out = NULL;
	if (dir == NULL || *dir == '\0') {
		err_set(err, errlen, "no store folder given");
		return STORE_ERROR;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		err_set(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	st->be = &store_backend_lmdb;
	if (store_group_init(st) == -1) {
		err_set(err, errlen, "cannot set up group commit");
		free(st);
		return STORE_ERROR;
	}
	rc = st->be->open(dir, &st->env, err, errlen);
	if (rc == STORE_OK)
		rc = schema_check(st, dir, err, errlen);
	if (rc != STORE_OK) {
		store_close(st);
		return rc;
	}
	*out = st;
	return STORE_OK;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->be->close(st->env);
	store_group_free(st);
	free(st);
}

/* ---- backup */

int
store_backup_fd(struct store *st, int fd)
{
	if (st == NULL || st->env == NULL || st->be->copy == NULL)
		return STORE_ERROR;
	return st->be->copy(st->env, fd);
}

const char *
store_data_file(void)
{
	return store_backend_lmdb.data_file;
}
