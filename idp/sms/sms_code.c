/*
 * sms_code.c - one-time codes sent by SMS: drawn uniformly, kept only as a
 * keyed hash bound to the flow, checked in constant time, spent once, and
 * ended by expiry or by too many wrong guesses.
 */
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sms_int.h"
#include "util/util.h"

#define SMS_CODE_SPACE 1000000u		/* 10^SMS_CODE_DIGITS */
#define SMS_PLACEHOLDER "{code}"

_Static_assert(SMS_CODE_DIGITS == 6, "SMS_CODE_SPACE is 10^6");

void
sms_config_defaults(struct sms_config *c)
{
	memset(c, 0, sizeof(*c));
	/* outbox "" stands for DATA/sms-outbox, resolved by whoever knows
	 * DATA. */
	str_copy(c->gateway, "outbox", sizeof(c->gateway));
	str_copy(c->template_, "Kleidi sign-in code: " SMS_PLACEHOLDER
	    ". Never share it; no one from the service will ask for it.",
	    sizeof(c->template_));
	c->timeout_ms = 10000;
	c->code_ttl = 300;
	c->max_attempts = 5;
	c->resend_after = 30;
	c->max_sends = 5;
	/* A person needs a few codes an hour at most; an office behind one
	 * address signs many people in at nine o'clock. */
	c->per_phone_hour = 5;
	c->per_user_hour = 5;
	c->per_addr_hour = 100;
}

/* Writes the template with every "{code}" replaced into text. 0, or -1
 * when the result does not fit or the template has no "{code}". */
static int
sms_render(const char *tmpl, const char *code, char text[SMS_TEXT_MAX])
{
	size_t n = 0, plen = strlen(SMS_PLACEHOLDER), clen = strlen(code);
	int seen = 0;

	while (*tmpl != '\0') {
		if (strncmp(tmpl, SMS_PLACEHOLDER, plen) == 0) {
			if (n + clen >= SMS_TEXT_MAX)
				goto toolong;
			memcpy(text + n, code, clen);
			n += clen;
			tmpl += plen;
			seen = 1;
			continue;
		}
		if (n + 1 >= SMS_TEXT_MAX)
			goto toolong;
		text[n++] = *tmpl++;
	}
	text[n] = '\0';
	return seen ? 0 : -1;
toolong:
	wipe(text, SMS_TEXT_MAX);
	text[0] = '\0';
	return -1;
}

int
sms_config_check(const struct sms_config *cfg, char *err, size_t errlen)
{
	char probe[SMS_TEXT_MAX];

	if (sms_render(cfg->template_, "000000", probe) == -1) {
		err_set(err, errlen, "sms: the message template must contain "
		    "{code} and fit in %d bytes", SMS_TEXT_MAX - 1);
		return -1;
	}
	return 0;
}

/* The code settings of cfg into s->cfg; the gateway's own (URL,
 * credentials) stay with the gateway, not in a copy made per call. The
 * caller holds the lock, or is the only one with s. */
static void
sms_keep(struct sms *s, const struct sms_config *cfg)
{
	s->cfg = *cfg;
	OPENSSL_cleanse(s->cfg.gateway, sizeof(s->cfg.gateway));
	OPENSSL_cleanse(s->cfg.outbox, sizeof(s->cfg.outbox));
	OPENSSL_cleanse(s->cfg.url, sizeof(s->cfg.url));
	OPENSSL_cleanse(s->cfg.username, sizeof(s->cfg.username));
	OPENSSL_cleanse(s->cfg.password, sizeof(s->cfg.password));
}

/* The settings now, for one call to work on. */
static void
sms_settings(struct sms *s, struct sms_config *out)
{
	(void)pthread_mutex_lock(&s->lock);
	*out = s->cfg;
	(void)pthread_mutex_unlock(&s->lock);
}

int
sms_init(struct sms *s, const struct sms_config *cfg,
    struct sms_gateway *gw, const keyset *ks)
{
	char err[128];

	memset(s, 0, sizeof(*s));
	if (sms_config_check(cfg, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	if (keyset_derive(ks, "kleidi sms v1", s->key) == -1) {
		log_err("sms: cannot derive the code key");
		return -1;
	}
	sms_keep(s, cfg);
	s->gw = gw;
	(void)pthread_mutex_init(&s->lock, NULL);
	s->ready = 1;
	return 0;
}

int
sms_configure(struct sms *s, const struct sms_config *cfg)
{
	char err[128];

	if (sms_config_check(cfg, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	(void)pthread_mutex_lock(&s->lock);
	sms_keep(s, cfg);
	(void)pthread_mutex_unlock(&s->lock);
	return 0;
}

void
sms_clear(struct sms *s)
{
	if (s == NULL)
		return;
	if (s->ready)
		(void)pthread_mutex_destroy(&s->lock);
	OPENSSL_cleanse(s, sizeof(*s));
}

/* SMS_CODE_DIGITS decimal digits, uniform: 32-bit draws at or above the
 * largest multiple of 10^6 are redrawn, so the modulo adds no bias. */
static int
sms_draw(char code[SMS_CODE_DIGITS + 1])
{
	const uint32_t limit = (UINT32_MAX / SMS_CODE_SPACE) * SMS_CODE_SPACE;
	unsigned char r[4];
	uint32_t v;
	int i;

	do {
		if (rand_bytes(r, sizeof(r)) == -1)
			return -1;
		v = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 |
		    (uint32_t)r[2] << 8 | r[3];
	} while (v >= limit);
	v %= SMS_CODE_SPACE;
	for (i = SMS_CODE_DIGITS - 1; i >= 0; i--) {
		code[i] = (char)('0' + v % 10);
		v /= 10;
	}
	code[SMS_CODE_DIGITS] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

/* HMAC-SHA256(key, flow hash || code): binds the code to its flow, and a
 * stolen store reveals no code without the master key. */
static int
sms_hash(const struct sms *s, const struct flow *f, const char *code,
    unsigned char out[HASH_SIZE])
{
	unsigned char in[HASH_SIZE + SMS_CODE_DIGITS];
	size_t n = HASH_SIZE;
	int rc = 0;

	memcpy(in, f->hash, HASH_SIZE);
	memcpy(in + HASH_SIZE, code, SMS_CODE_DIGITS);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, s->key,
	    sizeof(s->key), in, sizeof(in), out, HASH_SIZE, &n) == NULL ||
	    n != HASH_SIZE)
		rc = -1;
	OPENSSL_cleanse(in, sizeof(in));
	return rc;
}

/* The flow's own limits: sends per flow, then the resend interval. */
static int
sms_flow_limit(const struct sms_config *c, const struct flow *f,
    int64_t now, int64_t *wait)
{
	int64_t since;

	if (f->sms_sends >= c->max_sends) {
		log_info("sms: refused, %d codes already sent in this flow",
		    f->sms_sends);
		return SMS_CAPPED;
	}
	since = now - f->sms_sent_at;
	if (f->sms_sends > 0 && since < c->resend_after) {
		/* A clock that went back counts as no time passed. */
		*wait = c->resend_after - (since > 0 ? since : 0);
		return SMS_RESEND_WAIT;
	}
	return SMS_OK;
}

int
sms_code_prepare(struct sms *s, struct store_txn *txn, struct flow *f,
    const struct user *u, const char *addr, int64_t now,
    char text[SMS_TEXT_MAX], int64_t *wait)
{
	struct sms_tally t[SMS_TALLY_MAX];
	struct sms_config c;
	char code[SMS_CODE_DIGITS + 1];
	unsigned char h[HASH_SIZE];
	int64_t w = 0;
	int n, rc;

	text[0] = '\0';
	if (u->phone[0] == '\0') {
		log_warn("sms: account %s has no phone number", u->id);
		return SMS_ERROR;
	}
	sms_settings(s, &c);
	if ((rc = sms_flow_limit(&c, f, now, &w)) != SMS_OK ||
	    (rc = sms_limit_check(&c, txn, u, addr, now, t, &n)) != SMS_OK)
		goto done;
	rc = SMS_ERROR;
	if (sms_draw(code) == -1 || sms_hash(s, f, code, h) == -1 ||
	    sms_render(c.template_, code, text) == -1) {
		log_err("sms: cannot make a code or its message");
		goto done;
	}
	if (sms_limit_count(txn, t, n) != SMS_OK)
		goto done;
	memcpy(f->sms_hash, h, HASH_SIZE);
	f->sms_sent_at = now;
	f->sms_expires = now + c.code_ttl;
	f->sms_attempts = 0;
	f->sms_sends++;
	rc = SMS_OK;
done:
	if (rc != SMS_OK)
		wipe(text, SMS_TEXT_MAX);
	if (wait != NULL)
		*wait = w;
	OPENSSL_cleanse(code, sizeof(code));
	OPENSSL_cleanse(h, sizeof(h));
	return rc;
}

/* Ends the flow's code: nothing can match it afterwards. */
static void
sms_spend(struct flow *f)
{
	memset(f->sms_hash, 0, HASH_SIZE);
	f->sms_expires = 0;
}

/* The code as typed, without the blanks and dashes people add when they
 * copy it; -1 unless exactly SMS_CODE_DIGITS digits remain. */
static int
sms_normalise(const char *in, char out[SMS_CODE_DIGITS + 1])
{
	size_t n = 0;

	for (; in != NULL && *in != '\0'; in++) {
		if (*in == ' ' || *in == '-')
			continue;
		if (*in < '0' || *in > '9' || n == SMS_CODE_DIGITS)
			return -1;
		out[n++] = *in;
	}
	out[n] = '\0';
	return n == SMS_CODE_DIGITS ? 0 : -1;
}

int
sms_code_check(struct sms *s, struct flow *f, const char *code,
    int64_t now)
{
	static const unsigned char none[HASH_SIZE];
	char typed[SMS_CODE_DIGITS + 1];
	unsigned char h[HASH_SIZE];
	struct sms_config c;
	int rc, match;

	sms_settings(s, &c);
	if (ct_equal(f->sms_hash, none, HASH_SIZE) || now >= f->sms_expires ||
	    f->sms_attempts >= c.max_attempts) {
		sms_spend(f);
		return SMS_EXPIRED;
	}
	/* A malformed entry is a wrong guess like any other, hashed all the
	 * same so it takes as long. */
	match = sms_normalise(code, typed) == 0;
	if (!match) {
		memset(typed, 'x', SMS_CODE_DIGITS);
		typed[SMS_CODE_DIGITS] = '\0';
	}
	if (sms_hash(s, f, typed, h) == -1) {
		rc = SMS_ERROR;
		goto done;
	}
	match &= ct_equal(h, f->sms_hash, HASH_SIZE);
	if (match) {
		sms_spend(f);
		rc = SMS_OK;
		goto done;
	}
	rc = SMS_WRONG;
	if (++f->sms_attempts >= c.max_attempts) {
		log_info("sms: code ended after %d wrong attempts",
		    f->sms_attempts);
		sms_spend(f);
	}
done:
	OPENSSL_cleanse(typed, sizeof(typed));
	OPENSSL_cleanse(h, sizeof(h));
	return rc;
}
