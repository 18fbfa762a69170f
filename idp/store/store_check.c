/*
 * store_check.c - the consistency check behind `kleidi store check`: in one
 * read transaction (a snapshot), every record decodes, every record has
 * the index entries its put writes, and every index entry names a record
 * that exists and agrees with it (username, user_org, user_regno,
 * session_user, refresh family and user, expiry). Reports each problem to
 * a callback; never writes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "util/util.h"

#define EXP_KEY_LEN (8 + 1 + HASH_SIZE)	/* store_expiry.c */

struct chk {
	struct store_txn *txn;
	store_problem_fn fn;
	void *arg;
	size_t problems;
	enum store_table t;	/* the table being walked */
};

static void
problem(struct chk *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct chk *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->problems++;
	if (c->fn != NULL)
		c->fn(msg, c->arg);
}

static void
hex8(const unsigned char *p, char out[17])
{
	hex_encode(p, 8, out);
}

static void
exp_key(unsigned char k[EXP_KEY_LEN], enum store_table t,
    const unsigned char *hash, int64_t expires)
{
	uint64_t u = (uint64_t)expires ^ ((uint64_t)1 << 63);
	int i;

	for (i = 7; i >= 0; i--) {
		k[i] = (unsigned char)u;
		u >>= 8;
	}
	k[8] = (unsigned char)t;
	memcpy(k + 9, hash, HASH_SIZE);
}

static int64_t
exp_time(const unsigned char *k)
{
	uint64_t u = 0;
	int i;

	for (i = 0; i < 8; i++)
		u = (u << 8) | k[i];
	u ^= (uint64_t)1 << 63;
	return u > INT64_MAX ? -(int64_t)(~u) - 1 : (int64_t)u;
}

/* 1 if key is in table t, 0 if not, -1 on a read error. */
static int
has(struct chk *c, enum store_table t, const void *key, size_t klen)
{
	const void *v;
	size_t vlen;
	int rc = store_raw_get(c->txn, t, key, klen, &v, &vlen);

	return rc == STORE_OK ? 1 : rc == STORE_NOTFOUND ? 0 : -1;
}

static int
has_expiry(struct chk *c, enum store_table t, const unsigned char *hash,
    int64_t expires)
{
	unsigned char k[EXP_KEY_LEN];

	exp_key(k, t, hash, expires);
	return has(c, STORE_TBL_EXPIRY, k, sizeof(k));
}

/* Key of parts "a\0" + "b\0" (b may be NULL) + bytes (may be NULL). */
static int
key2(struct store_key *k, const char *a, const char *b,
    const unsigned char *bytes, size_t n)
{
	store_key_init(k);
	if (store_key_str(k, a, STORE_KEY_MAX) != STORE_OK)
		return -1;
	if (b != NULL && store_key_str(k, b, STORE_KEY_MAX) != STORE_OK)
		return -1;
	if (bytes != NULL && store_key_bytes(k, bytes, n) != STORE_OK)
		return -1;
	return 0;
}

/* The id a unique index (username, user_regno) stores as its value. */
static int
index_id(const void *val, size_t vlen, char id[USER_ID_SIZE])
{
	size_t pos = 0;

	return store_key_part(val, vlen, &pos, id, USER_ID_SIZE) ==
	    STORE_OK && pos == vlen ? 0 : -1;
}

/* ---- users and their indexes */

static void
user_indexes(struct chk *c, const struct user *u)
{
	struct store_key k;
	const void *val;
	size_t vlen;
	char id[USER_ID_SIZE];

	if (key2(&k, u->username, NULL, NULL, 0) == -1 ||
	    store_raw_get(c->txn, STORE_TBL_USERNAME, k.b, k.len, &val,
	    &vlen) != STORE_OK || index_id(val, vlen, id) == -1 ||
	    strcmp(id, u->id) != 0)
		problem(c, "user %s: username %s is not indexed to it", u->id,
		    u->username);
	if (u->registry_no[0] != '\0' && (key2(&k, u->registry_no, NULL,
	    NULL, 0) == -1 || store_raw_get(c->txn, STORE_TBL_USER_REGNO,
	    k.b, k.len, &val, &vlen) != STORE_OK ||
	    index_id(val, vlen, id) == -1 || strcmp(id, u->id) != 0))
		problem(c, "user %s: registry number %s is not indexed to it",
		    u->id, u->registry_no);
	if (u->org[0] != '\0' && (key2(&k, u->org, u->id, NULL, 0) == -1 ||
	    has(c, STORE_TBL_USER_ORG, k.b, k.len) != 1))
		problem(c, "user %s: no user_org entry for org %s", u->id,
		    u->org);
}

/* The user named by id, which must carry want in the indexed field. */
static void
user_agrees(struct chk *c, const char *id, const char *want, int field,
    const char *what)
{
	static const char *const fields[] = { "username", "registry_no",
		"org" };
	struct user u;
	const char *have;
	int rc = store_user_get(c->txn, id, &u);

	if (rc != STORE_OK) {
		problem(c, "%s %s: names user %s, %s", what, want, id,
		    rc == STORE_NOTFOUND ? "who does not exist" :
		    "whose record does not read");
		return;
	}
	have = field == 0 ? u.username : field == 1 ? u.registry_no : u.org;
	if (strcmp(have, want) != 0)
		problem(c, "%s %s: user %s has %s \"%s\"", what, want, id,
		    fields[field], have);
}

static int
each_unique(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct chk *c = arg;
	char name[STORE_KEY_MAX + 1], id[USER_ID_SIZE];
	size_t pos = 0;
	int regno = c->t == STORE_TBL_USER_REGNO;

	if (store_key_part(key, klen, &pos, name, sizeof(name)) != STORE_OK ||
	    pos != klen || index_id(val, vlen, id) == -1) {
		problem(c, "%s: malformed entry", store_table_names[c->t]);
		return 0;
	}
	user_agrees(c, id, name, regno, regno ? "registry number" :
	    "username");
	return 0;
}

static int
each_user_org(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct chk *c = arg;
	char org[ORG_CODE_SIZE], id[USER_ID_SIZE];
	size_t pos = 0;

	(void)val;
	(void)vlen;
	if (store_key_part(key, klen, &pos, org, sizeof(org)) != STORE_OK ||
	    store_key_part(key, klen, &pos, id, sizeof(id)) != STORE_OK ||
	    pos != klen) {
		problem(c, "user_org: malformed entry");
		return 0;
	}
	user_agrees(c, id, org, 2, "user_org");
	return 0;
}

/* ---- records: decode, and the entries each put writes */

union rec {
	struct user u;
	struct session s;
	struct authcode a;
	struct flow f;
	struct refresh_token r;
	struct counter n;
	struct org o;
	struct app p;
	struct grant g;
	struct user_auth ua;
	struct audit_entry e;
	struct sched_change sc;
	struct bcl_notice b;
	struct consent cs;
};

static const struct {
	enum store_table t;
	enum store_rec type;
} chk_records[] = {
	{ STORE_TBL_ORG, STORE_REC_ORG },
	{ STORE_TBL_APP, STORE_REC_APP },
	{ STORE_TBL_USER, STORE_REC_USER },
	{ STORE_TBL_GRANT, STORE_REC_GRANT },
	{ STORE_TBL_SESSION, STORE_REC_SESSION },
	{ STORE_TBL_CODE, STORE_REC_CODE },
	{ STORE_TBL_FLOW, STORE_REC_FLOW },
	{ STORE_TBL_USER_AUTH, STORE_REC_USER_AUTH },
	{ STORE_TBL_COUNTER, STORE_REC_COUNTER },
	{ STORE_TBL_AUDIT, STORE_REC_AUDIT },
	{ STORE_TBL_SCHED, STORE_REC_SCHED },
	{ STORE_TBL_REFRESH, STORE_REC_REFRESH },
	{ STORE_TBL_BCL_OUTBOX, STORE_REC_BCL },
	{ STORE_TBL_CONSENT, STORE_REC_CONSENT },
};

static void
refresh_indexes(struct chk *c, const struct refresh_token *r)
{
	struct store_key k;
	char h[17];

	hex8(r->hash, h);
	if (key2(&k, r->family, NULL, r->hash, HASH_SIZE) == -1 ||
	    has(c, STORE_TBL_REFRESH_FAMILY, k.b, k.len) != 1)
		problem(c, "refresh %s: no family entry for %s", h, r->family);
	if (key2(&k, r->user_id, r->family, NULL, 0) == -1 ||
	    has(c, STORE_TBL_REFRESH_USER, k.b, k.len) != 1)
		problem(c, "refresh %s: no user entry for %s", h, r->user_id);
	if (has_expiry(c, STORE_TBL_REFRESH, r->hash, r->expires) != 1)
		problem(c, "refresh %s: no expiry entry", h);
}

/* What a decoded record of table t must have beside it. */
static void
record_indexes(struct chk *c, enum store_table t, const void *key,
    size_t klen, const union rec *r)
{
	unsigned char hash[HASH_SIZE];
	struct store_key k;
	char h[17];

	if (t == STORE_TBL_USER)
		user_indexes(c, &r->u);
	else if (t == STORE_TBL_REFRESH)
		refresh_indexes(c, &r->r);
	else if (t == STORE_TBL_COUNTER) {
		sha256(key, klen, hash);
		if (has_expiry(c, t, hash, r->n.expires) != 1)
			problem(c, "counter %s: no expiry entry", r->n.key);
	} else if (t == STORE_TBL_SESSION || t == STORE_TBL_CODE ||
	    t == STORE_TBL_FLOW) {
		hex8(key, h);
		if (klen != HASH_SIZE || has_expiry(c, t, key, t ==
		    STORE_TBL_SESSION ? r->s.expires : t == STORE_TBL_CODE ?
		    r->a.expires : r->f.expires) != 1)
			problem(c, "%s %s: no expiry entry",
			    store_table_names[t], h);
		if (t == STORE_TBL_SESSION && r->s.user_id[0] != '\0' &&
		    (key2(&k, r->s.user_id, NULL, key, HASH_SIZE) == -1 ||
		    has(c, STORE_TBL_SESSION_USER, k.b, k.len) != 1))
			problem(c, "session %s: no session_user entry", h);
	}
}

struct rec_walk {
	struct chk *c;
	enum store_rec type;
	union rec r;
};

static int
each_record(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct rec_walk *w = arg;
	char h[17] = "";

	if (store_decode(w->type, val, vlen, &w->r) != STORE_OK) {
		if (klen >= 8)
			hex8(key, h);
		problem(w->c, "%s: a record does not decode (key %.*s%s)",
		    store_table_names[w->c->t], klen >= 8 ? 16 : 0, h,
		    klen >= 8 ? "..." : "");
		return 0;
	}
	record_indexes(w->c, w->c->t, key, klen, &w->r);
	wipe(&w->r, sizeof(w->r));
	return 0;
}

/* ---- index tables whose entries name hashed records */

static int
each_session_user(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct chk *c = arg;
	char user[USER_ID_SIZE], h[17];
	struct session s;
	size_t pos = 0;
	int rc;

	(void)val;
	(void)vlen;
	if (store_key_part(key, klen, &pos, user, sizeof(user)) != STORE_OK ||
	    klen - pos != HASH_SIZE) {
		problem(c, "session_user: malformed entry");
		return 0;
	}
	hex8((const unsigned char *)key + pos, h);
	rc = store_session_get(c->txn, (const unsigned char *)key + pos, &s);
	if (rc != STORE_OK || strcmp(s.user_id, user) != 0)
		problem(c, "session_user %s: session %s %s", user, h,
		    rc == STORE_OK ? "belongs to someone else" : "is missing");
	return 0;
}

static int
each_family(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct chk *c = arg;
	char fam[REFRESH_FAMILY_SIZE], h[17];
	struct refresh_token r;
	size_t pos = 0;
	int rc;

	(void)val;
	(void)vlen;
	if (store_key_part(key, klen, &pos, fam, sizeof(fam)) != STORE_OK ||
	    klen - pos != HASH_SIZE) {
		problem(c, "refresh_family: malformed entry");
		return 0;
	}
	hex8((const unsigned char *)key + pos, h);
	rc = store_refresh_get(c->txn, (const unsigned char *)key + pos, &r);
	if (rc != STORE_OK || strcmp(r.family, fam) != 0)
		problem(c, "refresh_family %s: token %s %s", fam, h,
		    rc == STORE_OK ? "is in another family" : "is missing");
	wipe(&r, sizeof(r));
	return 0;
}

struct fam_user {
	struct chk *c;
	const char *user;
	int found;
};

static int
each_family_token(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct fam_user *fu = arg;
	struct refresh_token r;

	(void)val;
	(void)vlen;
	if (klen < HASH_SIZE)
		return 0;
	if (store_refresh_get(fu->c->txn, (const unsigned char *)key + klen -
	    HASH_SIZE, &r) == STORE_OK && strcmp(r.user_id, fu->user) == 0)
		fu->found = 1;
	wipe(&r, sizeof(r));
	return fu->found ? STORE_ITER_STOP : 0;
}

static int
each_refresh_user(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct chk *c = arg;
	char user[USER_ID_SIZE], fam[REFRESH_FAMILY_SIZE];
	struct fam_user fu = { c, user, 0 };
	struct store_key k;
	size_t pos = 0;

	(void)val;
	(void)vlen;
	if (store_key_part(key, klen, &pos, user, sizeof(user)) != STORE_OK ||
	    store_key_part(key, klen, &pos, fam, sizeof(fam)) != STORE_OK ||
	    pos != klen || key2(&k, fam, NULL, NULL, 0) == -1) {
		problem(c, "refresh_user: malformed entry");
		return 0;
	}
	(void)store_raw_iter(c->txn, STORE_TBL_REFRESH_FAMILY, k.b, k.len,
	    each_family_token, &fu);
	if (!fu.found)
		problem(c, "refresh_user %s: family %s has no token of theirs",
		    user, fam);
	return 0;
}

/* The expiry a record of t under hash has; 0 found, 1 missing, -1 the
 * record does not read. */
static int
expiry_of(struct chk *c, enum store_table t, const unsigned char *hash,
    const void *val, size_t vlen, int64_t *out)
{
	union rec r;
	int rc;

	if (t == STORE_TBL_COUNTER) {
		char ck[COUNTER_KEY_SIZE];
		size_t pos = 0;
		unsigned char h2[HASH_SIZE];

		sha256(val, vlen, h2);
		if (store_key_part(val, vlen, &pos, ck, sizeof(ck)) !=
		    STORE_OK || pos != vlen || memcmp(h2, hash, HASH_SIZE))
			return -1;
		rc = store_counter_get(c->txn, ck, &r.n);
		*out = r.n.expires;
	} else if (t == STORE_TBL_SESSION) {
		rc = store_session_get(c->txn, hash, &r.s);
		*out = r.s.expires;
	} else if (t == STORE_TBL_CODE) {
		rc = store_code_get(c->txn, hash, &r.a);
		*out = r.a.expires;
	} else if (t == STORE_TBL_FLOW) {
		rc = store_flow_get(c->txn, hash, &r.f);
		*out = r.f.expires;
	} else if (t == STORE_TBL_REFRESH) {
		rc = store_refresh_get(c->txn, hash, &r.r);
		*out = r.r.expires;
	} else
		return -1;
	wipe(&r, sizeof(r));
	return rc == STORE_OK ? 0 : rc == STORE_NOTFOUND ? 1 : -1;
}

static int
each_expiry(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct chk *c = arg;
	const unsigned char *k = key;
	enum store_table t;
	int64_t want, have = 0;
	char h[17];
	int rc;

	if (klen != EXP_KEY_LEN || k[8] >= STORE_TBL_COUNT) {
		problem(c, "expiry: malformed entry");
		return 0;
	}
	t = (enum store_table)k[8];
	want = exp_time(k);
	hex8(k + 9, h);
	rc = expiry_of(c, t, k + 9, val, vlen, &have);
	if (rc != 0)
		problem(c, "expiry: %s %s %s", store_table_names[t], h,
		    rc == 1 ? "is missing" : "cannot be read");
	else if (have != want)
		problem(c, "expiry: %s %s expires at %lld, not %lld",
		    store_table_names[t], h, (long long)have, (long long)want);
	return 0;
}

static int
walk(struct chk *c, enum store_table t, store_iter_fn fn, void *arg)
{
	c->t = t;
	return store_iter_result(store_raw_iter(c->txn, t, NULL, 0, fn, arg));
}

static int
check_all(struct chk *c)
{
	struct rec_walk w;
	size_t i;
	int rc = STORE_OK;

	memset(&w, 0, sizeof(w));
	w.c = c;
	for (i = 0; rc == STORE_OK && i < sizeof(chk_records) /
	    sizeof(chk_records[0]); i++) {
		w.type = chk_records[i].type;
		rc = walk(c, chk_records[i].t, each_record, &w);
	}
	if (rc == STORE_OK)
		rc = walk(c, STORE_TBL_USERNAME, each_unique, c);
	if (rc == STORE_OK)
		rc = walk(c, STORE_TBL_USER_REGNO, each_unique, c);
	if (rc == STORE_OK)
		rc = walk(c, STORE_TBL_USER_ORG, each_user_org, c);
	if (rc == STORE_OK)
		rc = walk(c, STORE_TBL_SESSION_USER, each_session_user, c);
	if (rc == STORE_OK)
		rc = walk(c, STORE_TBL_REFRESH_FAMILY, each_family, c);
	if (rc == STORE_OK)
		rc = walk(c, STORE_TBL_REFRESH_USER, each_refresh_user, c);
	if (rc == STORE_OK)
		rc = walk(c, STORE_TBL_EXPIRY, each_expiry, c);
	return rc;
}

int
store_check(struct store *st, store_problem_fn fn, void *arg,
    size_t *problems)
{
	struct chk c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.fn = fn;
	c.arg = arg;
	if (problems != NULL)
		*problems = 0;
	if ((rc = store_begin(st, 0, &c.txn)) != STORE_OK)
		return rc;
	rc = check_all(&c);
	store_abort(c.txn);
	if (problems != NULL)
		*problems = c.problems;
	return rc;
}
