/* sms_int.h - internal to idp/sms: the counters behind the limits. */
#ifndef KLEIDI_SMS_INT_H
#define KLEIDI_SMS_INT_H

#include <stdint.h>

#include "sms.h"

/* Counter keys: "sms:<kind>:<who>:<window>". Hourly windows are the clock
 * hour (now / 3600); the org window is the UTC month "YYYY-MM". */
#define SMS_ORG_PREFIX "sms:org:"
/* Citizens belong to no organisation; their SMS are counted (and may be
 * capped, by an org record with this code) under this name. */
#define SMS_CITIZENS_ORG "citizens"
#define SMS_HOUR_KEEP ((int64_t)2 * 3600)/* an hourly counter lives 2 hours */
#define SMS_MONTH_KEEP ((int64_t)400 * 86400)/* a year of reports, and a bit */
#define SMS_MONTH_SIZE 8		/* "YYYY-MM" + NUL */

/* One counter a send touches: its current count and its cap. */
struct sms_tally {
	char key[COUNTER_KEY_SIZE];
	int64_t count;
	int64_t cap;		/* 0: no cap */
	int64_t expires;	/* when a counted send lets it go */
	int refusal;		/* SMS_CAPPED or SMS_ORG_CAPPED */
	const char *kind;	/* "phone", "user", "addr", "org" */
};
#define SMS_TALLY_MAX 4		/* phone, user, address, org */

/* Reads the counters a send to u from addr (may be NULL) at now would
 * touch into t (*n of them). SMS_OK when every one is under its cap, else
 * the refusal of the first one at its cap, or SMS_ERROR. Writes nothing. */
int sms_limit_check(const struct sms_config *c, struct store_txn *txn,
    const struct user *u, const char *addr, int64_t now,
    struct sms_tally t[SMS_TALLY_MAX], int *n);
/* Counts one send in each of the n counters. SMS_OK or SMS_ERROR. */
int sms_limit_count(struct store_txn *txn, const struct sms_tally *t, int n);
/* The UTC month of t as "YYYY-MM". */
void sms_month(int64_t t, char out[SMS_MONTH_SIZE]);

#endif
