/*
 * sms_usage.c - the SMS each organisation sent, month by month, read back
 * from the "sms:org:<code>:<YYYY-MM>" counters the sends leave behind.
 */
#include <stdio.h>
#include <string.h>

#include "sms_int.h"
#include "util/util.h"

struct usage_walk {
	const char *org;	/* NULL: every organisation */
	const char *month;	/* NULL: every month */
	sms_usage_cb cb;
	void *arg;
};

/* Splits "sms:org:<code>:<YYYY-MM>"; -1 for a key of another shape. */
static int
usage_split(const char *key, char org[ORG_CODE_SIZE],
    char month[SMS_MONTH_SIZE])
{
	const char *rest = key + strlen(SMS_ORG_PREFIX), *colon;
	size_t n;

	if ((colon = strrchr(rest, ':')) == NULL)
		return -1;
	n = (size_t)(colon - rest);
	if (n == 0 || n >= ORG_CODE_SIZE ||
	    strlen(colon + 1) != SMS_MONTH_SIZE - 1)
		return -1;
	memcpy(org, rest, n);
	org[n] = '\0';
	str_copy(month, colon + 1, SMS_MONTH_SIZE);
	return 0;
}

static int
usage_one(const struct counter *c, void *arg)
{
	struct usage_walk *w = arg;
	char org[ORG_CODE_SIZE], month[SMS_MONTH_SIZE];

	if (usage_split(c->key, org, month) == -1)
		return 0;
	if ((w->org != NULL && strcmp(org, w->org) != 0) ||
	    (w->month != NULL && strcmp(month, w->month) != 0))
		return 0;
	return w->cb(org, month, c->count, w->arg);
}

/* Rows come in counter key order: each organisation's months together,
 * oldest first. 0, or -1 when the store cannot be read. */
int
sms_usage(struct store *st, const char *org, const char *month,
    sms_usage_cb cb, void *arg)
{
	struct usage_walk w = { org, month, cb, arg };
	char prefix[COUNTER_KEY_SIZE];
	struct store_txn *txn;
	int len, rc;

	/* The trailing ':' keeps org "ab" from listing "ab-north" too. */
	if (org != NULL)
		len = snprintf(prefix, sizeof(prefix), "%s%s:",
		    SMS_ORG_PREFIX, org);
	else
		len = snprintf(prefix, sizeof(prefix), "%s", SMS_ORG_PREFIX);
	if (len < 0 || (size_t)len >= sizeof(prefix))
		return 0;	/* no such counter can exist */
	if (store_begin(st, 0, &txn) != STORE_OK)
		return -1;
	rc = store_counter_list(txn, prefix, usage_one, &w);
	store_abort(txn);
	if (rc != STORE_OK) {
		log_err("sms: cannot list the usage counters");
		return -1;
	}
	return 0;
}
