/* audit.c - the chain key, the canonical encoding and keyed hash of an
 * entry, and appending entries. */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "audit_int.h"
#include "util/util.h"

#define AUDIT_KEY_LABEL "kleidi audit v1"
/* 2: the personal fields enter the hash as their keyed digests. */
#define AUDIT_ENC_VERSION 2
/* version, seq, time, four length-prefixed strings, four digests, prev */
#define AUDIT_ENC_MAX (1 + 8 + 8 + 4 * 2 + AUDIT_ACTION_SIZE + \
    AUDIT_OUTCOME_SIZE + APP_ID_SIZE + ORG_CODE_SIZE + 4 * HASH_SIZE + \
    HASH_SIZE)
/* Domain bytes, apart from every AUDIT_ENC_VERSION, so a field digest, a
 * pseudonym and an entry hash never share an input. */
#define AUDIT_DOMAIN_FIELD 0xf1
#define AUDIT_DOMAIN_PSEUDONYM 0xf2

int
audit_init(struct audit *a, const keyset *ks)
{
	if (a == NULL || keyset_derive(ks, AUDIT_KEY_LABEL, a->key) == -1) {
		log_err("audit: cannot derive the chain key");
		return -1;
	}
	return 0;
}

void
audit_clear(struct audit *a)
{
	if (a != NULL)
		wipe(a->key, sizeof(a->key));
}

static void
enc_u64(unsigned char *b, size_t *o, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--)
		b[(*o)++] = (unsigned char)(v >> (i * 8));
}

/* A string with a 2-byte length before it, so that moving bytes from one
 * field to the next always changes the encoding. A field without its NUL
 * (a damaged record) is taken whole. */
static void
enc_str(unsigned char *b, size_t *o, const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	b[(*o)++] = (unsigned char)(n >> 8);
	b[(*o)++] = (unsigned char)n;
	memcpy(b + *o, s, n);
	*o += n;
}

static void
enc_bytes(unsigned char *b, size_t *o, const unsigned char *p, size_t n)
{
	memcpy(b + *o, p, n);
	*o += n;
}

/* The personal fields (actor, subject, addr, detail) enter as their
 * digests, so their text can later be pseudonymised without breaking the
 * chain; audit_fields_match ties the text to the digests. */
static size_t
audit_encode(const struct audit_entry *e, unsigned char b[AUDIT_ENC_MAX])
{
	size_t o = 0;

	b[o++] = AUDIT_ENC_VERSION;
	enc_u64(b, &o, e->seq);
	enc_u64(b, &o, (uint64_t)e->time);
	enc_str(b, &o, e->action, sizeof(e->action));
	enc_str(b, &o, e->outcome, sizeof(e->outcome));
	enc_str(b, &o, e->client, sizeof(e->client));
	enc_str(b, &o, e->org, sizeof(e->org));
	enc_bytes(b, &o, e->actor_digest, HASH_SIZE);
	enc_bytes(b, &o, e->subject_digest, HASH_SIZE);
	enc_bytes(b, &o, e->addr_digest, HASH_SIZE);
	enc_bytes(b, &o, e->detail_digest, HASH_SIZE);
	enc_bytes(b, &o, e->prev, HASH_SIZE);
	return o;
}

static int
audit_hmac(const struct audit *a, const unsigned char *b, size_t n,
    unsigned char out[HASH_SIZE])
{
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), a->key, (int)sizeof(a->key), b, n, out,
	    &len) == NULL || len != HASH_SIZE) {
		memset(out, 0, HASH_SIZE);
		log_err("audit: HMAC-SHA256 failed");
		return -1;
	}
	return 0;
}

int
audit_field_digest(const struct audit *a, const char *text, size_t size,
    unsigned char out[HASH_SIZE])
{
	unsigned char b[1 + 2 + AUDIT_DETAIL_SIZE];
	size_t o = 0;

	if (size > AUDIT_DETAIL_SIZE)
		size = AUDIT_DETAIL_SIZE;
	b[o++] = AUDIT_DOMAIN_FIELD;
	enc_str(b, &o, text, size);
	return audit_hmac(a, b, o, out);
}

int
audit_pseudonym(const struct audit *a, const unsigned char digest[HASH_SIZE],
    char out[AUDIT_PSEUDONYM_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[1 + HASH_SIZE], h[HASH_SIZE];
	size_t i, o;

	b[0] = AUDIT_DOMAIN_PSEUDONYM;
	memcpy(b + 1, digest, HASH_SIZE);
	if (audit_hmac(a, b, sizeof(b), h) == -1)
		return -1;
	o = str_copy(out, AUDIT_ERASED_PREFIX, AUDIT_PSEUDONYM_SIZE);
	for (i = 0; o + 2 < AUDIT_PSEUDONYM_SIZE; i++) {
		out[o++] = hex[h[i] >> 4];
		out[o++] = hex[h[i] & 0x0f];
	}
	out[o] = '\0';
	return 0;
}

/* Text and digest of one personal field agree: the digest is the text's,
 * or the text is the pseudonym erasure put in its place. 1, 0, -1. */
static int
field_match(const struct audit *a, const char *text, size_t size,
    const unsigned char digest[HASH_SIZE])
{
	unsigned char d[HASH_SIZE];
	char p[AUDIT_PSEUDONYM_SIZE];

	if (audit_field_digest(a, text, size, d) == -1)
		return -1;
	if (ct_equal(d, digest, HASH_SIZE))
		return 1;
	if (strncmp(text, AUDIT_ERASED_PREFIX,
	    sizeof(AUDIT_ERASED_PREFIX) - 1) != 0)
		return 0;
	if (audit_pseudonym(a, digest, p) == -1)
		return -1;
	return strnlen(text, size) < size && strcmp(text, p) == 0;
}

int
audit_fields_match(const struct audit *a, const struct audit_entry *e)
{
	int rc;

	if ((rc = field_match(a, e->actor, sizeof(e->actor),
	    e->actor_digest)) != 1 ||
	    (rc = field_match(a, e->subject, sizeof(e->subject),
	    e->subject_digest)) != 1 ||
	    (rc = field_match(a, e->addr, sizeof(e->addr),
	    e->addr_digest)) != 1)
		return rc;
	return field_match(a, e->detail, sizeof(e->detail), e->detail_digest);
}

int
audit_mac(const struct audit *a, const struct audit_entry *e,
    unsigned char out[HASH_SIZE])
{
	unsigned char b[AUDIT_ENC_MAX];
	size_t n;

	n = audit_encode(e, b);
	return audit_hmac(a, b, n, out);
}

void
audit_entry_hash(const struct audit *a, const struct audit_entry *e,
    unsigned char out[32])
{
	(void)audit_mac(a, e, out);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF) with its code point in *cp;
 * 0 when the bytes there are not one. */
static size_t
utf8_seq(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else
		return 0;
	c &= 0x7fu >> n;	/* the payload bits of the lead byte */
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Characters that would let a value forge or disguise a line of `audit
 * tail` on a terminal: C0 and C1 controls, DEL, the Unicode line and
 * paragraph separators and the bidirectional overrides and isolates. */
static int
audit_unsafe(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* Copies src into dst (size bytes with the NUL), each unsafe character
 * and each byte that is not UTF-8 replaced by U+FFFD, cut before the first
 * character that does not fit whole. */
static void
audit_field(char *dst, size_t size, const char *src)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *s = (const unsigned char *)src;
	const void *from;
	size_t o = 0, n, len;
	uint32_t c = 0;

	while (s != NULL && *s != '\0') {
		n = utf8_seq(s, &c);
		from = s;
		len = n;
		if (n == 0 || audit_unsafe(c)) {
			from = repl;
			len = sizeof(repl) - 1;
		}
		if (o + len >= size)
			break;
		memcpy(dst + o, from, len);
		o += len;
		s += n != 0 ? n : 1;
	}
	dst[o] = '\0';
}

static int
audit_fill(const struct audit *a, struct audit_entry *e,
    const struct audit_event *ev)
{
	audit_field(e->actor, sizeof(e->actor), ev->actor);
	audit_field(e->action, sizeof(e->action), ev->action);
	audit_field(e->outcome, sizeof(e->outcome), ev->outcome);
	audit_field(e->subject, sizeof(e->subject), ev->subject);
	audit_field(e->client, sizeof(e->client), ev->client);
	audit_field(e->org, sizeof(e->org), ev->org);
	audit_field(e->addr, sizeof(e->addr), ev->addr);
	audit_field(e->detail, sizeof(e->detail), ev->detail);
	if (audit_field_digest(a, e->actor, sizeof(e->actor),
	    e->actor_digest) == -1 || audit_field_digest(a, e->subject,
	    sizeof(e->subject), e->subject_digest) == -1 ||
	    audit_field_digest(a, e->addr, sizeof(e->addr),
	    e->addr_digest) == -1)
		return -1;
	return audit_field_digest(a, e->detail, sizeof(e->detail),
	    e->detail_digest);
}

int
audit_append(const struct audit *a, struct store_txn *txn,
    const struct audit_event *ev)
{
	struct audit_entry last, e;
	int rc;

	if (a == NULL || txn == NULL || ev == NULL)
		return -1;
	memset(&e, 0, sizeof(e));
	if (audit_fill(a, &e, ev) == -1)
		goto fail;
	/* The writer lock of the caller's transaction is held from here to
	 * its commit, so no other entry can take the same number. */
	rc = store_audit_last(txn, &last);
	if (rc == STORE_OK && last.seq < UINT64_MAX) {
		e.seq = last.seq + 1;
		memcpy(e.prev, last.hash, HASH_SIZE);
	} else if (rc == STORE_NOTFOUND)
		e.seq = 1;
	else
		goto fail;
	e.time = clock_now();
	if (audit_mac(a, &e, e.hash) == -1)
		goto fail;
	if (store_audit_put(txn, &e) != STORE_OK)
		goto fail;
	return 0;
fail:
	log_err("audit: cannot append the entry for %s", e.action);
	return -1;
}

int
audit_log(const struct audit *a, struct store *st,
    const struct audit_event *ev)
{
	struct store_txn *txn;

	if (st == NULL || store_begin(st, 1, &txn) != STORE_OK) {
		log_err("audit: cannot open a write transaction");
		return -1;
	}
	if (audit_append(a, txn, ev) == -1) {
		store_abort(txn);
		return -1;
	}
	if (store_commit(txn) != STORE_OK) {
		log_err("audit: cannot commit an entry");
		return -1;
	}
	return 0;
}
