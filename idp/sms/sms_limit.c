/*
 * sms_limit.c - the caps that keep SMS from being pumped: hourly counters
 * per phone, per account and per client address, and the monthly counter
 * per organisation that is both a cap and the usage report. Everything is
 * read first and written only when no cap is reached, so a refused request
 * counts nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sms_int.h"
#include "util/util.h"

void
sms_month(int64_t t, char out[SMS_MONTH_SIZE])
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* Years past 9999 do not fit; the clock never gets there. */
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, SMS_MONTH_SIZE, "%Y-%m", &tm) != SMS_MONTH_SIZE - 1)
		str_copy(out, "0000-00", SMS_MONTH_SIZE);
}

/* Looks up the counter named by the key already in t. An expired counter
 * not yet swept counts as zero. */
static int
limit_read(struct store_txn *txn, struct sms_tally *t, int64_t now)
{
	struct counter c;
	int rc;

	rc = store_counter_get(txn, t->key, &c);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK && c.expires <= now)) {
		t->count = 0;
		return SMS_OK;
	}
	if (rc != STORE_OK) {
		log_err("sms: cannot read counter %s", t->key);
		return SMS_ERROR;
	}
	t->count = c.count;
	/* Keep the expiry the first send set: moving it on every send would
	 * rewrite the sweep index each time, for nothing. */
	t->expires = c.expires;
	return SMS_OK;
}

/* Fills one tally: key "sms:<kind>:<who>:<window>", cap, expiry. */
static int
limit_add(struct sms_tally *t, int *n, const char *kind, const char *who,
    const char *window, int64_t cap, int64_t expires, int refusal)
{
	struct sms_tally *e = &t[*n];
	int len;

	len = snprintf(e->key, sizeof(e->key), "sms:%s:%s:%s", kind, who,
	    window);
	if (len < 0 || (size_t)len >= sizeof(e->key)) {
		log_err("sms: counter key for %s too long", kind);
		return SMS_ERROR;
	}
	e->count = 0;
	e->cap = cap;
	e->expires = expires;
	e->refusal = refusal;
	e->kind = kind;
	(*n)++;
	return SMS_OK;
}

/* The organisation a send is counted under and its monthly cap. */
static int
limit_org(struct store_txn *txn, const struct user *u, const char **code,
    int64_t *cap)
{
	struct org o;
	int rc;

	*code = u->type == USER_EMPLOYEE && u->org[0] != '\0' ? u->org :
	    SMS_CITIZENS_ORG;
	*cap = 0;
	rc = store_org_get(txn, *code, &o);
	if (rc == STORE_NOTFOUND)
		return SMS_OK;
	if (rc != STORE_OK) {
		log_err("sms: cannot read organisation %s", *code);
		return SMS_ERROR;
	}
	*cap = o.sms_monthly_cap > 0 ? o.sms_monthly_cap : 0;
	return SMS_OK;
}

int
sms_limit_check(const struct sms_config *c, struct store_txn *txn,
    const struct user *u, const char *addr, int64_t now,
    struct sms_tally t[SMS_TALLY_MAX], int *n)
{
	char hour[24], month[SMS_MONTH_SIZE];
	int64_t h = now / 3600, hour_end, cap;
	const char *org;
	int i, rc;

	*n = 0;
	(void)snprintf(hour, sizeof(hour), "%" PRId64, h);
	hour_end = h * 3600 + SMS_HOUR_KEEP;
	sms_month(now, month);
	if ((rc = limit_org(txn, u, &org, &cap)) != SMS_OK)
		return rc;
	if ((rc = limit_add(t, n, "phone", u->phone, hour, c->per_phone_hour,
	    hour_end, SMS_CAPPED)) != SMS_OK ||
	    (rc = limit_add(t, n, "user", u->id, hour, c->per_user_hour,
	    hour_end, SMS_CAPPED)) != SMS_OK)
		return rc;
	if (addr != NULL && addr[0] != '\0' && (rc = limit_add(t, n, "addr",
	    addr, hour, c->per_addr_hour, hour_end, SMS_CAPPED)) != SMS_OK)
		return rc;
	if ((rc = limit_add(t, n, "org", org, month, cap,
	    now + SMS_MONTH_KEEP, SMS_ORG_CAPPED)) != SMS_OK)
		return rc;
	for (i = 0; i < *n; i++) {
		if ((rc = limit_read(txn, &t[i], now)) != SMS_OK)
			return rc;
		if (t[i].cap > 0 && t[i].count >= t[i].cap) {
			/* The kind only: phone numbers stay out of logs. */
			log_info("sms: refused, the %s cap of %" PRId64
			    " is reached%s%s", t[i].kind, t[i].cap,
			    t[i].refusal == SMS_ORG_CAPPED ? " for " : "",
			    t[i].refusal == SMS_ORG_CAPPED ? org : "");
			return t[i].refusal;
		}
	}
	return SMS_OK;
}

int
sms_limit_count(struct store_txn *txn, const struct sms_tally *t, int n)
{
	struct counter c;
	int i;

	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof(c));
		str_copy(c.key, t[i].key, sizeof(c.key));
		c.count = t[i].count + 1;
		c.expires = t[i].expires;
		if (store_counter_put(txn, &c) != STORE_OK) {
			log_err("sms: cannot write counter %s", c.key);
			return SMS_ERROR;
		}
	}
	return SMS_OK;
}
