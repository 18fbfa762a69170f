/*
 * store_int.h - what the store_*.c files share: the handles, raw table
 * access, key building, the record codec and the expiry index. Nothing
 * outside idp/store/ includes this, except the store's unit test, which
 * uses the raw access to plant damaged records.
 */
#ifndef KLEIDI_STORE_INT_H
#define KLEIDI_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_backend.h"

/* A store_write call waiting for (or inside) a batch (store_write.c). */
struct store_write_req;

/* Group commit state (store_write.c): the calls waiting for a batch, and
 * whether a leader is running one. */
struct store_group {
	pthread_mutex_t mtx;
	pthread_cond_t done;		/* a batch ended */
	struct store_write_req *head;	/* waiting, oldest first */
	struct store_write_req *tail;
	int leading;			/* a leader is running a batch */
	int ready;			/* mtx and done initialised */
	struct store_write_stats stats;
};

struct store {
	const struct store_backend *be;
	struct store_benv *env;
	struct store_group group;
};

struct store_txn {
	struct store *st;
	struct store_btxn *bt;
	int write;
	/* A store_write fn's transaction: lent, never committed, aborted
	 * nor freed by the fn. */
	int lent;
	/* The first STORE_ERROR or STORE_FULL of a write through this txn:
	 * store_write drops the changes of an fn whose write failed. */
	int failed;
};

/* Sets up and tears down st->group (store_open, store_close). */
int store_group_init(struct store *st);
void store_group_free(struct store *st);
/* 1 while the calling thread runs a store_write fn: store_begin refuses
 * to begin another transaction then. */
int store_write_inside(void);

/* ---- raw table access: checks the handles (and, for writes, that txn
 * is a write transaction), then calls the backend. */
int store_raw_get(struct store_txn *txn, enum store_table t,
    const void *key, size_t klen, const void **val, size_t *vlen);
int store_raw_put(struct store_txn *txn, enum store_table t,
    const void *key, size_t klen, const void *val, size_t vlen,
    unsigned flags);
int store_raw_del(struct store_txn *txn, enum store_table t,
    const void *key, size_t klen);
int store_raw_iter(struct store_txn *txn, enum store_table t,
    const void *prefix, size_t plen, store_iter_fn fn, void *arg);
/* Every key >= start, ascending, to the end of the table. */
int store_raw_iter_from(struct store_txn *txn, enum store_table t,
    const void *start, size_t slen, store_iter_fn fn, void *arg);
/* The greatest key and its value (borrowed as for store_raw_get);
 * STORE_NOTFOUND when the table is empty. */
int store_raw_last(struct store_txn *txn, enum store_table t,
    const void **key, size_t *klen, const void **val, size_t *vlen);

/* The positive value store_*_list callbacks use to stop an iteration
 * early; store_iter_result() turns it back into STORE_OK. */
#define STORE_ITER_STOP 1000
int store_iter_result(int rc);

/* ---- keys: string parts are stored with their NUL, so "ab" never
 * matches the prefix of "a" and the parts of a key can be split again. */
struct store_key {
	unsigned char b[STORE_KEY_MAX];
	size_t len;
};

void store_key_init(struct store_key *k);
/* Appends s and its NUL. STORE_NOTFOUND when s is empty or does not fit
 * a field of `size` bytes (such a key cannot exist), STORE_ERROR when s is
 * NULL or the key gets too long. */
int store_key_str(struct store_key *k, const char *s, size_t size);
/* As store_key_str, but an empty string is a valid part. */
int store_key_str0(struct store_key *k, const char *s, size_t size);
int store_key_bytes(struct store_key *k, const void *p, size_t n);
/* Reads the NUL-terminated part at *pos of a stored key into out (size
 * bytes); STORE_ERROR when the key is malformed or the part too long. */
int store_key_part(const void *key, size_t klen, size_t *pos, char *out,
    size_t size);
/* Turns a lookup's STORE_NOTFOUND from key building into the result the
 * write side wants: such a key is an invalid argument there. */
int store_key_check_put(int rc, const char *what);

/* ---- record codec. A value is
 *	version(1) record-type(1) { tag(1) wire(1) len(2, BE) bytes(len) }*
 * Integers travel as 8 bytes big-endian two's complement (STORE_WIRE_INT),
 * strings without their NUL and byte arrays as they are (STORE_WIRE_BYTES;
 * an array with a length field, such as a sealed TOTP seed, only its first
 * length bytes).
 * Fields that are zero or empty are left out and decode as zero, so a
 * field added later reads as zero from old records; unknown tags are
 * skipped, so an older binary reads newer records. */
#define STORE_CODEC_VERSION 1
#define STORE_WIRE_INT 1
#define STORE_WIRE_BYTES 2
#define STORE_FIELD_HDR 4

enum store_rec {
	STORE_REC_ORG = 1,
	STORE_REC_APP = 2,
	STORE_REC_USER = 3,
	STORE_REC_GRANT = 4,
	STORE_REC_SESSION = 5,
	STORE_REC_CODE = 6,
	STORE_REC_FLOW = 7,
	STORE_REC_USER_AUTH = 8,
	STORE_REC_COUNTER = 9,
	STORE_REC_AUDIT = 10,
	STORE_REC_SCHED = 11,
	STORE_REC_REFRESH = 12,
	STORE_REC_BCL = 15,		/* back-channel logout notice */
	STORE_REC_CONSENT = 17
};

/* STORE_ERROR (logged) when a string is not NUL-terminated inside its
 * field, a count is out of range or buf is too small. */
int store_encode(enum store_rec type, const void *rec, unsigned char *buf,
    size_t cap, size_t *len);
/* sizeof the struct a record type decodes into; 0 for an unknown type. */
size_t store_rec_size(enum store_rec type);
/* Zeroes rec, then fills it; STORE_ERROR (logged) on malformed input. */
int store_decode(enum store_rec type, const void *buf, size_t len,
    void *rec);

/* Encodes rec and puts it under key; wipes the encoding afterwards (user
 * records carry password hashes). */
int store_rec_put(struct store_txn *txn, enum store_table t,
    enum store_rec type, const struct store_key *k, const void *rec,
    unsigned flags);
/* Gets and decodes the record under key into out, which is zeroed when
 * there is no such record or it cannot be read. */
int store_rec_get(struct store_txn *txn, enum store_table t,
    enum store_rec type, const struct store_key *k, void *out);

/* ---- expiry index: one entry per session, code, flow and counter,
 * ordered by the time it expires, so store_sweep reads only what is due. */
int store_expiry_put(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires);
/* As store_expiry_put for a record keyed by a string (a counter): hash is
 * the SHA-256 of its table key, which the entry keeps as its value so the
 * sweep can find the record. */
int store_expiry_put_ref(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires, const void *ref,
    size_t reflen);
int store_expiry_del(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires);
/* Removes the record an expiry entry names if it still expires at
 * `expires`; the record's own delete drops the entry. (store_session.c) */
int store_expire_record(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires);
/* The same for a counter, found by the entry's value ref (its table key);
 * STORE_NOTFOUND when ref is malformed, does not hash to hash, or the
 * counter is gone or moved. (store_counter.c) */
int store_counter_expire(struct store_txn *txn, const void *ref,
    size_t reflen, const unsigned char hash[HASH_SIZE], int64_t expires);

/* The same for a refresh token: removes it with its family entry, and the
 * family's user entry when it was the family's last token.
 * (store_refresh.c) */
int store_refresh_expire(struct store_txn *txn,
    const unsigned char hash[HASH_SIZE], int64_t expires);

/* ---- the audit table, for the audit tests that damage the log on
 * purpose. Table STORE_TBL_AUDIT; key: the sequence number as 8 bytes
 * big-endian (STORE_AUDIT_KEY_LEN), so keys sort as numbers; value: a
 * STORE_REC_AUDIT record (store_encode) of every field but seq, which
 * lives only in the key: an entry read back carries the number it is
 * stored under. So, through store_raw_put/store_raw_del:
 *	edit	store_raw_get, store_decode, change, store_encode, put back
 *	delete	store_raw_del of store_audit_key(seq)
 *	swap	exchange the values of two keys (each then reads as the
 *		other's content under its own number)
 * The store checks no chain; idp/audit does. */
#define STORE_AUDIT_KEY_LEN 8
void store_audit_key(unsigned char k[STORE_AUDIT_KEY_LEN], uint64_t seq);

#endif
