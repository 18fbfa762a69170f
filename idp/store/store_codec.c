/*
 * store_codec.c - one generic encoder and decoder for every record, driven
 * by a static field table per record type. The wire format is described in
 * store_int.h. Tags are part of the on-disk format: never reuse or
 * renumber one; a new field takes a new tag.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store_int.h"
#include "util/util.h"

enum field_type {
	FT_STR,		/* char[size], NUL-terminated inside */
	FT_BYTES,	/* unsigned char[size], all of it */
	FT_INT,		/* int */
	FT_UINT,	/* unsigned */
	FT_I64,		/* int64_t */
	FT_STRARR,	/* char[max][size] with an int count */
	FT_VARBYTES	/* unsigned char[size], the first (int) len bytes */
};

struct field {
	uint8_t tag;
	uint8_t type;		/* enum field_type */
	uint8_t max;		/* FT_STRARR: number of elements */
	size_t size;		/* bytes of the member (of one element) */
	size_t off;
	size_t count_off;	/* FT_STRARR, FT_VARBYTES: offset of the int
				 * count of elements or bytes */
};

#define MSIZE(T, m) sizeof(((T *)0)->m)
#define F_STR(tag, T, m) { tag, FT_STR, 0, MSIZE(T, m), offsetof(T, m), 0 }
#define F_BYTES(tag, T, m) \
	{ tag, FT_BYTES, 0, MSIZE(T, m), offsetof(T, m), 0 }
#define F_INT(tag, T, m) { tag, FT_INT, 0, MSIZE(T, m), offsetof(T, m), 0 }
#define F_UINT(tag, T, m) { tag, FT_UINT, 0, MSIZE(T, m), offsetof(T, m), 0 }
#define F_I64(tag, T, m) { tag, FT_I64, 0, MSIZE(T, m), offsetof(T, m), 0 }
#define F_STRARR(tag, T, m, n) { tag, FT_STRARR,			\
	sizeof(((T *)0)->m) / sizeof(((T *)0)->m[0]),			\
	sizeof(((T *)0)->m[0]), offsetof(T, m), offsetof(T, n) }
#define F_VARBYTES(tag, T, m, n) \
	{ tag, FT_VARBYTES, 0, MSIZE(T, m), offsetof(T, m), offsetof(T, n) }

static const struct field org_fields[] = {
	F_STR(1, struct org, code),
	F_STR(2, struct org, name),
	F_I64(3, struct org, created),
	F_I64(4, struct org, sms_monthly_cap),
};

static const struct field app_fields[] = {
	F_STR(1, struct app, client_id),
	F_STR(2, struct app, name),
	F_INT(3, struct app, public_client),
	F_BYTES(4, struct app, secret_hash),
	F_STRARR(5, struct app, redirect_uris, n_redirect_uris),
	F_STRARR(6, struct app, post_logout_uris, n_post_logout_uris),
	F_INT(7, struct app, audience),
	F_INT(8, struct app, require_2fa),
	F_INT(9, struct app, id_token_alg),
	F_I64(10, struct app, created),
	F_INT(11, struct app, pairwise),
	F_INT(12, struct app, admin_client),
	F_INT(13, struct app, refresh),
	F_STR(14, struct app, backchannel_logout_uri),
};

static const struct field user_fields[] = {
	F_STR(1, struct user, id),
	F_STR(2, struct user, username),
	F_INT(3, struct user, type),
	F_STR(4, struct user, org),
	F_STR(5, struct user, name),
	F_STR(6, struct user, email),
	F_STR(7, struct user, phone),
	F_STR(8, struct user, password),
	F_INT(9, struct user, disabled),
	F_I64(10, struct user, created),
	F_I64(11, struct user, updated),
	F_STR(12, struct user, registry_no),
	F_STR(13, struct user, tax_id),
	F_STR(14, struct user, given_name),
	F_STR(15, struct user, family_name),
	F_STR(16, struct user, position),
	F_INT(17, struct user, admin_role),
	F_INT(18, struct user, phone_verified),
	F_I64(19, struct user, departed),
};

static const struct field grant_fields[] = {
	F_STR(1, struct grant, user_id),
	F_STR(2, struct grant, app),
	F_STR(3, struct grant, org),
	F_STR(4, struct grant, role),
	F_I64(5, struct grant, created),
};

static const struct field session_fields[] = {
	F_BYTES(1, struct session, id_hash),
	F_STR(2, struct session, user_id),
	F_I64(3, struct session, created),
	F_I64(4, struct session, expires),
	F_I64(5, struct session, auth_time),
	F_UINT(6, struct session, amr),
};

static const struct field code_fields[] = {
	F_BYTES(1, struct authcode, hash),
	F_STR(2, struct authcode, client_id),
	F_STR(3, struct authcode, redirect_uri),
	F_STR(4, struct authcode, user_id),
	F_BYTES(5, struct authcode, session_hash),
	F_STR(6, struct authcode, nonce),
	F_STR(7, struct authcode, code_challenge),
	F_STR(8, struct authcode, scope),
	F_I64(9, struct authcode, auth_time),
	F_UINT(10, struct authcode, amr),
	F_I64(11, struct authcode, expires),
	F_INT(12, struct authcode, used),
	F_STR(13, struct authcode, claims_id),
	F_STR(14, struct authcode, claims_ui),
};

static const struct field flow_fields[] = {
	F_BYTES(1, struct flow, hash),
	F_BYTES(2, struct flow, browser_hash),
	F_STR(3, struct flow, client_id),
	F_STR(4, struct flow, redirect_uri),
	F_STR(5, struct flow, state),
	F_STR(6, struct flow, nonce),
	F_STR(7, struct flow, code_challenge),
	F_STR(8, struct flow, scope),
	F_STR(9, struct flow, lang),
	F_STR(10, struct flow, user_id),
	F_UINT(11, struct flow, amr),
	F_I64(12, struct flow, created),
	F_I64(13, struct flow, expires),
	F_BYTES(14, struct flow, session_hash),
	F_I64(15, struct flow, auth_time),
	F_INT(16, struct flow, want_2fa),
	F_BYTES(17, struct flow, sms_hash),
	F_I64(18, struct flow, sms_sent_at),
	F_I64(19, struct flow, sms_expires),
	F_INT(20, struct flow, sms_attempts),
	F_INT(21, struct flow, sms_sends),
	F_INT(22, struct flow, prompt_consent),
	F_STR(23, struct flow, claims_id),
	F_STR(24, struct flow, claims_ui),
};

static const struct field user_auth_fields[] = {
	F_STR(1, struct user_auth, user_id),
	F_VARBYTES(2, struct user_auth, totp_sealed, totp_sealed_len),
	F_INT(3, struct user_auth, totp_active),
	F_I64(4, struct user_auth, totp_last_step),
	F_I64(5, struct user_auth, totp_enrolled),
	/* The whole [RECOVERY_CODES][HASH_SIZE] array as one field. */
	F_BYTES(6, struct user_auth, recovery),
	F_I64(7, struct user_auth, recovery_created),
	/* Tags 8-10 held lockout fields, never released; lockout lives in
	 * counters keyed by username. Do not reuse them. */
	F_VARBYTES(11, struct user_auth, totp_pending, totp_pending_len),
};

static const struct field counter_fields[] = {
	F_STR(1, struct counter, key),
	F_I64(2, struct counter, count),
	F_I64(3, struct counter, expires),
};

/* No seq: an entry's number is its key (store_audit.c). */
static const struct field audit_fields[] = {
	F_I64(1, struct audit_entry, time),
	F_STR(2, struct audit_entry, actor),
	F_STR(3, struct audit_entry, action),
	F_STR(4, struct audit_entry, outcome),
	F_STR(5, struct audit_entry, subject),
	F_STR(6, struct audit_entry, client),
	F_STR(7, struct audit_entry, org),
	F_STR(8, struct audit_entry, addr),
	F_STR(9, struct audit_entry, detail),
	F_BYTES(10, struct audit_entry, prev),
	F_BYTES(11, struct audit_entry, hash),
	F_BYTES(12, struct audit_entry, actor_digest),
	F_BYTES(13, struct audit_entry, subject_digest),
	F_BYTES(14, struct audit_entry, addr_digest),
	F_BYTES(15, struct audit_entry, detail_digest),
};

static const struct field sched_fields[] = {
	F_STR(1, struct sched_change, registry_no),
	F_I64(2, struct sched_change, effective),
	F_STR(3, struct sched_change, tax_id),
	F_STR(4, struct sched_change, family_name),
	F_STR(5, struct sched_change, given_name),
	F_STR(6, struct sched_change, email),
	F_STR(7, struct sched_change, phone),
	F_STR(8, struct sched_change, org),
	F_STR(9, struct sched_change, position),
	F_INT(10, struct sched_change, departed),
	F_I64(11, struct sched_change, created),
};

static const struct field bcl_fields[] = {
	F_BYTES(1, struct bcl_notice, id),
	F_STR(2, struct bcl_notice, client_id),
	F_STR(3, struct bcl_notice, user_id),
	F_BYTES(4, struct bcl_notice, sid_hash),
	F_I64(5, struct bcl_notice, created),
	F_I64(6, struct bcl_notice, due),
	F_INT(7, struct bcl_notice, attempts),
};

static const struct field refresh_fields[] = {
	F_BYTES(1, struct refresh_token, hash),
	F_STR(2, struct refresh_token, family),
	F_STR(3, struct refresh_token, client_id),
	F_STR(4, struct refresh_token, user_id),
	F_STR(5, struct refresh_token, scope),
	F_I64(6, struct refresh_token, auth_time),
	F_UINT(7, struct refresh_token, amr),
	F_BYTES(8, struct refresh_token, session_hash),
	F_I64(9, struct refresh_token, created),
	F_I64(10, struct refresh_token, expires),
	F_INT(11, struct refresh_token, rotated),
};

static const struct field consent_fields[] = {
	F_STR(1, struct consent, user_id),
	F_STR(2, struct consent, client_id),
	F_UINT(3, struct consent, data),
	F_I64(4, struct consent, created),
};

struct record {
	const char *name;
	size_t size;
	const struct field *fields;
	size_t nfields;
};

#define RECORD(name, T, f) { name, sizeof(T), f, sizeof(f) / sizeof((f)[0]) }

/* Indexed by enum store_rec. */
static const struct record records[] = {
	[STORE_REC_ORG] = RECORD("org", struct org, org_fields),
	[STORE_REC_APP] = RECORD("app", struct app, app_fields),
	[STORE_REC_USER] = RECORD("user", struct user, user_fields),
	[STORE_REC_GRANT] = RECORD("grant", struct grant, grant_fields),
	[STORE_REC_SESSION] = RECORD("session", struct session,
	    session_fields),
	[STORE_REC_CODE] = RECORD("code", struct authcode, code_fields),
	[STORE_REC_FLOW] = RECORD("flow", struct flow, flow_fields),
	[STORE_REC_USER_AUTH] = RECORD("user_auth", struct user_auth,
	    user_auth_fields),
	[STORE_REC_COUNTER] = RECORD("counter", struct counter,
	    counter_fields),
	[STORE_REC_AUDIT] = RECORD("audit", struct audit_entry,
	    audit_fields),
	[STORE_REC_SCHED] = RECORD("sched", struct sched_change,
	    sched_fields),
	[STORE_REC_REFRESH] = RECORD("refresh", struct refresh_token,
	    refresh_fields),
	[STORE_REC_BCL] = RECORD("bcl_notice", struct bcl_notice, bcl_fields),
	[STORE_REC_CONSENT] = RECORD("consent", struct consent,
	    consent_fields),
};

static const struct record *
record_of(enum store_rec type)
{
	if ((size_t)type >= sizeof(records) / sizeof(records[0]) ||
	    records[type].fields == NULL) {
		log_err("store: unknown record type %d", (int)type);
		return NULL;
	}
	return &records[type];
}

/* ---- encoding */

struct out {
	unsigned char *p;
	size_t len;
	size_t cap;
};

static int
out_field(struct out *o, uint8_t tag, uint8_t wire, const void *data,
    size_t n)
{
	if (n > UINT16_MAX || o->cap - o->len < STORE_FIELD_HDR + n)
		return -1;
	o->p[o->len++] = tag;
	o->p[o->len++] = wire;
	o->p[o->len++] = (unsigned char)(n >> 8);
	o->p[o->len++] = (unsigned char)n;
	if (n > 0)
		memcpy(o->p + o->len, data, n);
	o->len += n;
	return 0;
}

static int
out_int(struct out *o, uint8_t tag, int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;
	int i;

	if (v == 0)
		return 0;
	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)u;
		u >>= 8;
	}
	return out_field(o, tag, STORE_WIRE_INT, b, sizeof(b));
}

/* A string field: its length, or -1 when no NUL lies inside the field. */
static long
str_len(const char *s, size_t size)
{
	const char *nul = memchr(s, '\0', size);

	return nul == NULL ? -1 : (long)(nul - s);
}

static int
out_str(struct out *o, uint8_t tag, const char *s, size_t size, int always)
{
	long n = str_len(s, size);

	if (n < 0)
		return -1;
	if (n == 0 && !always)
		return 0;
	return out_field(o, tag, STORE_WIRE_BYTES, s, (size_t)n);
}

static int
out_bytes(struct out *o, uint8_t tag, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] == 0; i++)
		;
	if (i == n)
		return 0;
	return out_field(o, tag, STORE_WIRE_BYTES, p, n);
}

static int
out_strarr(struct out *o, const struct field *f, const unsigned char *rec)
{
	int count, i;

	memcpy(&count, rec + f->count_off, sizeof(count));
	if (count < 0 || count > f->max)
		return -1;
	/* Empty elements are written too: the count is their number. */
	for (i = 0; i < count; i++) {
		if (out_str(o, f->tag, (const char *)rec + f->off +
		    (size_t)i * f->size, f->size, 1) == -1)
			return -1;
	}
	return 0;
}

/* The first len bytes; len 0 is left out like any empty field. Bytes
 * past len are not kept. */
static int
out_varbytes(struct out *o, const struct field *f, const unsigned char *rec)
{
	int len;

	memcpy(&len, rec + f->count_off, sizeof(len));
	if (len < 0 || (size_t)len > f->size)
		return -1;
	if (len == 0)
		return 0;
	return out_field(o, f->tag, STORE_WIRE_BYTES, rec + f->off,
	    (size_t)len);
}

static int
encode_field(struct out *o, const struct field *f, const unsigned char *rec)
{
	const unsigned char *p = rec + f->off;
	int iv;
	unsigned uv;
	int64_t lv;

	switch (f->type) {
	case FT_STR:
		return out_str(o, f->tag, (const char *)p, f->size, 0);
	case FT_BYTES:
		return out_bytes(o, f->tag, p, f->size);
	case FT_INT:
		memcpy(&iv, p, sizeof(iv));
		return out_int(o, f->tag, iv);
	case FT_UINT:
		memcpy(&uv, p, sizeof(uv));
		return out_int(o, f->tag, uv);
	case FT_I64:
		memcpy(&lv, p, sizeof(lv));
		return out_int(o, f->tag, lv);
	case FT_STRARR:
		return out_strarr(o, f, rec);
	case FT_VARBYTES:
		return out_varbytes(o, f, rec);
	}
	return -1;
}

int
store_encode(enum store_rec type, const void *rec, unsigned char *buf,
    size_t cap, size_t *len)
{
	const struct record *r = record_of(type);
	struct out o = { buf, 0, cap };
	size_t i;

	*len = 0;
	if (r == NULL || rec == NULL || cap < 2)
		return STORE_ERROR;
	o.p[o.len++] = STORE_CODEC_VERSION;
	o.p[o.len++] = (unsigned char)type;
	for (i = 0; i < r->nfields; i++) {
		if (encode_field(&o, &r->fields[i], rec) == -1) {
			/* Refuse rather than truncate: a cut username or
			 * redirect URI would silently mean something else. */
			log_err("store: %s field %u does not fit its bounds",
			    r->name, r->fields[i].tag);
			return STORE_ERROR;
		}
	}
	*len = o.len;
	return STORE_OK;
}

/* ---- decoding */

static int
in_int(const struct field *f, const unsigned char *d, unsigned char *rec)
{
	uint64_t u = 0;
	int64_t v;
	int iv;
	unsigned uv;
	int i;

	for (i = 0; i < 8; i++)
		u = (u << 8) | d[i];
	/* Two's complement back to signed without implementation-defined
	 * conversion of an out-of-range unsigned value. */
	v = u > INT64_MAX ? -(int64_t)(~u) - 1 : (int64_t)u;
	switch (f->type) {
	case FT_INT:
		if (v < INT_MIN || v > INT_MAX)
			return -1;
		iv = (int)v;
		memcpy(rec + f->off, &iv, sizeof(iv));
		return 0;
	case FT_UINT:
		if (v < 0 || v > UINT_MAX)
			return -1;
		uv = (unsigned)v;
		memcpy(rec + f->off, &uv, sizeof(uv));
		return 0;
	default:
		memcpy(rec + f->off, &v, sizeof(v));
		return 0;
	}
}

/* Copies a string of n bytes into a field of size bytes (zeroed before). */
static int
in_str(char *dst, size_t size, const unsigned char *d, size_t n)
{
	if (n >= size || memchr(d, '\0', n) != NULL)
		return -1;
	memcpy(dst, d, n);
	return 0;
}

static int
in_strarr(const struct field *f, const unsigned char *d, size_t n,
    unsigned char *rec)
{
	int count;

	memcpy(&count, rec + f->count_off, sizeof(count));
	if (count < 0 || count >= f->max)
		return -1;
	if (in_str((char *)rec + f->off + (size_t)count * f->size, f->size,
	    d, n) == -1)
		return -1;
	count++;
	memcpy(rec + f->count_off, &count, sizeof(count));
	return 0;
}

static int
in_varbytes(const struct field *f, const unsigned char *d, size_t n,
    unsigned char *rec)
{
	int len = (int)n;

	if (n > f->size)
		return -1;
	if (n > 0)
		memcpy(rec + f->off, d, n);
	memcpy(rec + f->count_off, &len, sizeof(len));
	return 0;
}

static int
decode_field(const struct field *f, int wire, const unsigned char *d,
    size_t n, unsigned char *rec)
{
	int want = (f->type == FT_INT || f->type == FT_UINT ||
	    f->type == FT_I64) ? STORE_WIRE_INT : STORE_WIRE_BYTES;

	if (wire != want)
		return -1;
	switch (f->type) {
	case FT_STR:
		return in_str((char *)rec + f->off, f->size, d, n);
	case FT_BYTES:
		if (n != f->size)
			return -1;
		memcpy(rec + f->off, d, n);
		return 0;
	case FT_STRARR:
		return in_strarr(f, d, n, rec);
	case FT_VARBYTES:
		return in_varbytes(f, d, n, rec);
	default:
		return n == 8 ? in_int(f, d, rec) : -1;
	}
}

static const struct field *
field_of(const struct record *r, unsigned tag)
{
	size_t i;

	for (i = 0; i < r->nfields; i++) {
		if (r->fields[i].tag == tag)
			return &r->fields[i];
	}
	return NULL;
}

static const char *
decode_fields(const struct record *r, const unsigned char *p, size_t len,
    unsigned char *rec)
{
	unsigned char seen[256] = { 0 };
	const struct field *f;
	size_t pos = 2, n;

	while (pos < len) {
		if (len - pos < STORE_FIELD_HDR)
			return "truncated field header";
		n = ((size_t)p[pos + 2] << 8) | p[pos + 3];
		if (len - pos - STORE_FIELD_HDR < n)
			return "field runs past the end";
		/* An unknown tag is a field a newer version added: skip. */
		f = field_of(r, p[pos]);
		if (f != NULL) {
			if (f->type != FT_STRARR && seen[f->tag]++)
				return "field repeated";
			if (decode_field(f, p[pos + 1], p + pos +
			    STORE_FIELD_HDR, n, rec) == -1)
				return "field out of bounds";
		}
		pos += STORE_FIELD_HDR + n;
	}
	return NULL;
}

size_t
store_rec_size(enum store_rec type)
{
	const struct record *r = record_of(type);

	return r == NULL ? 0 : r->size;
}

int
store_decode(enum store_rec type, const void *buf, size_t len, void *rec)
{
	const struct record *r = record_of(type);
	const unsigned char *p = buf;
	const char *why;

	if (r == NULL || rec == NULL)
		return STORE_ERROR;
	memset(rec, 0, r->size);
	if (p == NULL || len < 2)
		why = "too short";
	else if (p[0] != STORE_CODEC_VERSION)
		why = "unknown codec version";
	else if (p[1] != (unsigned char)type)
		why = "wrong record type";
	else
		why = decode_fields(r, p, len, rec);
	if (why != NULL) {
		memset(rec, 0, r->size);
		log_err("store: malformed %s record: %s", r->name, why);
		return STORE_ERROR;
	}
	return STORE_OK;
}
