/*
 * sms.h - one-time codes by SMS, the gateways that carry them, and the
 * limits that keep the service from being used to pump SMS (a cost every
 * municipality pays).
 *
 * Gateways: an HTTP gateway (libcurl; URL, credentials and message
 * template from config; bounded time) and a file outbox for development and
 * tests (one file per message in a folder, the newest readable by tests).
 *
 * Limits, all explicit settings: a resend interval per flow; hourly caps
 * per phone, per account and per client address; a monthly cap per
 * organisation (struct org, 0 = none). Every SMS sent is counted per
 * organisation and month ("sms:org:<code>:<YYYY-MM>" counters) for
 * `kleidi sms usage`.
 */
#ifndef KLEIDI_SMS_H
#define KLEIDI_SMS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store/store.h"

#define SMS_CODE_DIGITS 6
#define SMS_TEXT_MAX 320		/* bytes of one message */

struct sms_config {
	char gateway[16];		/* "outbox" or "http" */
	char outbox[512];		/* outbox folder */
	char url[512];			/* http: POST target */
	char username[128];		/* http: Basic credentials */
	char password[128];
	char template_[SMS_TEXT_MAX];	/* "{code}" is replaced */
	long timeout_ms;		/* http: whole request */
	int64_t code_ttl;		/* 300 s */
	int max_attempts;		/* 5 wrong codes end the code */
	int64_t resend_after;		/* seconds between sends in a flow */
	int max_sends;			/* sends per flow */
	unsigned per_phone_hour;
	unsigned per_user_hour;
	unsigned per_addr_hour;
};

void sms_config_defaults(struct sms_config *c);

struct sms_gateway;
/* Creates the gateway the config names; NULL with err on bad config. */
struct sms_gateway *sms_gateway_new(const struct sms_config *c, char *err,
    size_t errlen);
void sms_gateway_free(struct sms_gateway *g);
/* SIGHUP: g sends with from's settings (kind, outbox, URL, credentials,
 * timeout) from now on, and from is freed. A send already running
 * finishes with the settings it began with. Build from with
 * sms_gateway_new first: a config it refuses changes nothing. */
void sms_gateway_replace(struct sms_gateway *g, struct sms_gateway *from);
/* Sends text to phone (E.164). Blocks up to the configured timeout: call it
 * from a worker, never with a store transaction open. 0, or -1 with a
 * short reason in err (no secret in it). */
int sms_gateway_send(struct sms_gateway *g, const char *phone,
    const char *text, char *err, size_t errlen);

enum sms_rc {
	SMS_OK = 0,
	SMS_RESEND_WAIT,	/* asked again too soon: *wait seconds */
	SMS_CAPPED,		/* an hourly cap (phone, account, address) */
	SMS_ORG_CAPPED,		/* the organisation's monthly cap */
	SMS_FAILED,		/* the gateway did not take it */
	SMS_WRONG,		/* wrong code; attempts left */
	SMS_EXPIRED,		/* no live code: expired, used up, or none */
	SMS_ERROR		/* store or crypto failure */
};

struct sms {
	/* A copy of the code settings (lifetime, attempts, resend wait,
	 * caps, template; the gateway's fields blanked), which SIGHUP
	 * replaces (sms_configure): each call copies it under the lock and
	 * works on its copy, so no call sees half of a change and nothing
	 * points into a config that a reload frees. */
	pthread_mutex_t lock;
	struct sms_config cfg;
	int ready;		/* lock initialised */
	struct sms_gateway *gw;
	unsigned char key[32];	/* keyset_derive "kleidi sms v1" */
};

/* Copies cfg's code settings. -1 (logged) when the template is unusable
 * or the key cannot be derived. */
int sms_init(struct sms *s, const struct sms_config *cfg,
    struct sms_gateway *gw, const keyset *ks);
void sms_clear(struct sms *s);
/* 0 when cfg's template holds "{code}" and fits a message; else -1 with
 * err filled. */
int sms_config_check(const struct sms_config *cfg, char *err,
    size_t errlen);
/* SIGHUP: the code settings of cfg from now on. -1 (logged, nothing
 * changed) when sms_config_check refuses cfg. */
int sms_configure(struct sms *s, const struct sms_config *cfg);

/*
 * Issuing a code is two steps so that no store transaction is open while
 * the gateway is called:
 * 1. sms_code_prepare: inside the caller's write transaction, checks the
 *    resend interval and the caps for (phone, user, addr, org), counts the
 *    send, draws a code, stores its keyed hash with expiry in the flow (the
 *    caller puts the flow), and writes the message text into text. On a
 *    refusal nothing is counted.
 * 2. sms_gateway_send(text) after commit; on failure the caller tells the
 *    person and audits it (the counted send stays counted: it may have been
 *    delivered).
 */
int sms_code_prepare(struct sms *s, struct store_txn *txn, struct flow *f,
    const struct user *u, const char *addr, int64_t now,
    char text[SMS_TEXT_MAX], int64_t *wait);
/* Checks code against the flow's code: SMS_OK (and the code is spent),
 * SMS_WRONG (attempts counted in f), or SMS_EXPIRED. Constant time. The
 * caller puts the flow back. */
int sms_code_check(struct sms *s, struct flow *f, const char *code,
    int64_t now);

/* Usage for `kleidi sms usage`: one call per (org, month) counter, month
 * "YYYY-MM"; org and month narrow the list when not NULL. */
typedef int (*sms_usage_cb)(const char *org, const char *month,
    int64_t count, void *arg);
int sms_usage(struct store *st, const char *org, const char *month,
    sms_usage_cb cb, void *arg);

#endif
