/*
 * test_logout.c - the back-channel logout outbox driven through
 * backchannel_run with an injected "now" and a fake sender: failed
 * deliveries come back after 5, 10, 20, 40 s, a 2xx removes the notice,
 * a notice that would outlive a day is dropped with an audit entry, and
 * one for an app without a back-channel URI is dropped unsent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "config/config.h"
#include "harness.h"
#include "oidc/backchannel.h"
#include "oidc/oidc.h"
#include "steps.h"
#include "util/util.h"

#define BCL_URI "http://127.0.0.1:9/bcl"
#define REDIRECT "http://127.0.0.1:9/cb"
#define MAX_SEEN 8

static struct harness h;
static struct idp idp;

/* The fake sender: answers ok or not, and keeps what it was given. */
struct sender {
	int ok;
	size_t calls;
	char uri[MAX_SEEN][URI_SIZE];
	char *token[MAX_SEEN];
};

static int
fake_send(const char *uri, const char *token, void *arg)
{
	struct sender *s = arg;

	if (s->calls < MAX_SEEN) {
		str_copy(s->uri[s->calls], uri, URI_SIZE);
		s->token[s->calls] = strdup(token);
	}
	s->calls++;
	return s->ok ? 0 : -1;
}

static void
sender_clear(struct sender *s)
{
	size_t i;

	for (i = 0; i < MAX_SEEN; i++)
		free(s->token[i]);
	memset(s, 0, sizeof(*s));
}

static int
setup(void **state)
{
	struct config cfg;
	char path[512], err[256];

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "app", "add", "receiver",
	    "--name", "Receiver", "--redirect-uri", REDIRECT,
	    "--backchannel-logout-uri", BCL_URI, NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "app", "add", "quiet",
	    "--name", "Quiet", "--redirect-uri", REDIRECT, NULL), 0);
	config_defaults(&cfg);
	snprintf(path, sizeof(path), "%s/kleidi.ini", h.dir);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	if (idp_open(&idp, h.dir, &cfg, KLEIDI_SOURCE_DIR "/templates", err,
	    sizeof(err)) == -1)
		fail_msg("idp_open: %s", err);
	/* The test is the only sender: stop the server's thread. */
	backchannel_stop(idp.bcl);
	idp.bcl = NULL;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	idp_close(&idp);
	harness_cleanup(&h);
	return 0;
}

static void
queue(const char *client, int64_t created, int64_t due, int attempts)
{
	struct store_txn *txn;
	struct bcl_notice n;

	memset(&n, 0, sizeof(n));
	assert_int_equal(rand_bytes(n.id, sizeof(n.id)), 0);
	str_copy(n.client_id, client, sizeof(n.client_id));
	str_copy(n.user_id, "user-maria", sizeof(n.user_id));
	memset(n.sid_hash, 0x5a, sizeof(n.sid_hash));
	n.created = created;
	n.due = due;
	n.attempts = attempts;
	assert_int_equal(store_begin(idp.store, 1, &txn), STORE_OK);
	assert_int_equal(store_bcl_put(txn, &n), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static int
collect_one(const struct bcl_notice *n, void *arg)
{
	struct bcl_notice *out = arg;

	if (out[0].client_id[0] == '\0')
		out[0] = *n;
	else
		out[1] = *n;	/* a second one: the caller fails */
	return 0;
}

/* The outbox's notices (all due times): 0 or 1, the one into *n. */
static size_t
outbox(struct bcl_notice *n)
{
	struct bcl_notice got[2];
	struct store_txn *txn;

	memset(got, 0, sizeof(got));
	assert_int_equal(store_begin(idp.store, 0, &txn), STORE_OK);
	assert_int_equal(store_bcl_list_due(txn, INT64_MAX, collect_one, got),
	    STORE_OK);
	store_abort(txn);
	assert_string_equal(got[1].client_id, "");
	if (n != NULL)
		*n = got[0];
	return got[0].client_id[0] != '\0';
}

struct last {
	const char *action;
	struct audit_entry e;
	int found;
};

static int
last_of(const struct audit_entry *e, void *arg)
{
	struct last *l = arg;

	if (strcmp(e->action, l->action) == 0) {
		l->e = *e;
		l->found = 1;
	}
	return 0;
}

/* The newest audit entry for action; asserts there is one. */
static struct audit_entry
last_audit(const char *action)
{
	struct last l = { action, { 0 }, 0 };
	struct store_txn *txn;

	assert_int_equal(store_begin(idp.store, 0, &txn), STORE_OK);
	assert_int_equal(store_audit_list(txn, 0, last_of, &l), STORE_OK);
	store_abort(txn);
	assert_true(l.found);
	return l.e;
}

static size_t
count_audit(const char *action)
{
	struct last l = { action, { 0 }, 0 };
	struct store_txn *txn;

	assert_int_equal(store_begin(idp.store, 0, &txn), STORE_OK);
	assert_int_equal(store_audit_list(txn, 0, last_of, &l), STORE_OK);
	store_abort(txn);
	return l.found ? (size_t)l.e.seq : 0;
}

static void
test_delay_schedule(void **state)
{
	(void)state;
	assert_int_equal(backchannel_delay(1), 5);
	assert_int_equal(backchannel_delay(2), 10);
	assert_int_equal(backchannel_delay(3), 20);
	assert_int_equal(backchannel_delay(4), 40);
	assert_int_equal(backchannel_delay(10), 2560);
	assert_int_equal(backchannel_delay(11), BCL_MAX_DELAY);
	assert_int_equal(backchannel_delay(1000), BCL_MAX_DELAY);
}

/* One pass at now; asserts how many sends and deliveries it made. */
static void
run_at(int64_t now, struct sender *s, size_t calls, size_t delivered)
{
	size_t before = s->calls, sent = 99;

	assert_int_equal(backchannel_run(&idp, now, fake_send, s, &sent), 0);
	assert_int_equal(s->calls - before, calls);
	assert_int_equal(sent, delivered);
}

/* The claims of a compact JWS, unverified (the integration test checks
 * the signature with the SDK). */
static json_t *
payload_of(const char *jwt)
{
	const char *p = strchr(jwt, '.'), *q;
	unsigned char *raw;
	json_t *j;
	size_t n;

	assert_non_null(p);
	assert_non_null(q = strchr(p + 1, '.'));
	assert_non_null(raw = b64url_decode(p + 1, (size_t)(q - p - 1), &n));
	j = json_loadb((const char *)raw, n, 0, NULL);
	free(raw);
	assert_non_null(j);
	return j;
}

static void
test_retry_then_delivered(void **state)
{
	const int64_t t = time(NULL);
	static const int64_t retry_at[] = { 5, 15, 35, 75 };
	struct sender s;
	struct bcl_notice n;
	struct audit_entry e;
	json_t *c;
	size_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	queue("receiver", t, t, 0);
	run_at(t - 1, &s, 0, 0);		/* not due yet */
	run_at(t, &s, 1, 0);			/* first attempt fails */
	assert_string_equal(s.uri[0], BCL_URI);
	for (i = 0; i < sizeof(retry_at) / sizeof(retry_at[0]); i++) {
		assert_int_equal(outbox(&n), 1);
		assert_int_equal(n.attempts, (int)i + 1);
		assert_int_equal(n.due, t + retry_at[i]);
		assert_int_equal(n.created, t);
		run_at(t + retry_at[i] - 1, &s, 0, 0);
		if (i + 1 < sizeof(retry_at) / sizeof(retry_at[0]))
			run_at(t + retry_at[i], &s, 1, 0);
	}
	/* The fifth attempt is answered 2xx: gone from the outbox. */
	s.ok = 1;
	run_at(t + 75, &s, 1, 1);
	assert_int_equal(outbox(NULL), 0);
	run_at(t + 10000, &s, 0, 0);
	e = last_audit("logout.backchannel");
	assert_string_equal(e.outcome, "ok");
	assert_string_equal(e.client, "receiver");
	assert_string_equal(e.subject, "user-maria");
	/* Each attempt carries a fresh token for the app. */
	c = payload_of(s.token[4]);
	assert_string_equal(json_string_value(json_object_get(c, "aud")),
	    "receiver");
	assert_int_equal(json_integer_value(json_object_get(c, "iat")),
	    t + 75);
	assert_non_null(json_object_get(json_object_get(c, "events"),
	    "http://schemas.openid.net/event/backchannel-logout"));
	assert_null(json_object_get(c, "nonce"));
	assert_string_not_equal(s.token[3], s.token[4]);
	json_decref(c);
	sender_clear(&s);
}

static void
test_dropped_after_a_day(void **state)
{
	const int64_t t = time(NULL);
	struct sender s;
	struct bcl_notice n;
	struct audit_entry e;

	(void)state;
	memset(&s, 0, sizeof(s));
	/* Almost a day old: the next retry still falls within the day. */
	queue("receiver", t - BCL_GIVE_UP + 100, t, 1);
	run_at(t, &s, 1, 0);
	assert_int_equal(outbox(&n), 1);
	assert_int_equal(n.attempts, 2);
	assert_int_equal(n.due, t + 10);
	/* A day old at the next retry: tried once more, then dropped. */
	run_at(t + 95, &s, 1, 0);
	assert_int_equal(outbox(NULL), 0);
	e = last_audit("logout.backchannel");
	assert_string_equal(e.outcome, "fail");
	assert_string_equal(e.client, "receiver");
	assert_non_null(strstr(e.detail, "dropped"));
	run_at(t + 100000, &s, 0, 0);
	sender_clear(&s);
}

static void
test_app_without_uri(void **state)
{
	const int64_t t = time(NULL);
	struct sender s;
	struct audit_entry e;
	size_t seq;

	(void)state;
	memset(&s, 0, sizeof(s));
	seq = count_audit("logout.backchannel");
	queue("quiet", t, t, 0);
	queue("no-such-app", t, t, 0);
	run_at(t, &s, 0, 0);			/* nothing to send to */
	assert_int_equal(outbox(NULL), 0);
	e = last_audit("logout.backchannel");
	assert_true(e.seq > seq);
	assert_string_equal(e.outcome, "refused");
	sender_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_schedule),
		cmocka_unit_test(test_retry_then_delivered),
		cmocka_unit_test(test_dropped_after_a_day),
		cmocka_unit_test(test_app_without_uri),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
