/*
 * test_keyrot.c - key rotation while the server runs: `kleidi keys rotate`
 * publishes the new keys in /jwks without a restart, tokens signed before
 * the rotation still verify through the SDK (a verifier that cached the
 * old JWKS and a fresh one), tokens after the delay carry the new kid,
 * and with a long delay the new key is published but does not sign yet.
 * Requests made during the reload all succeed.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "kleidi.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define PASSWORD "correct horse battery"
#define RELOAD_WAIT_MS 15000	/* bounds the wait for the async reload */
#define POLL_MS 100

static struct harness h;
static char secret[128];
static pid_t server_pid;
static kl_verifier *cached;	/* fetched the JWKS before any rotation */
static int64_t skew;		/* cached's clock runs ahead by this */

/* The SDK allows a refetch at most once per min_refresh_interval; a
 * clock of our own lets the test step past it without sleeping. */
static int64_t
test_clock(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL) + __atomic_load_n(&skew, __ATOMIC_SEQ_CST);
}

static int
setup(void **state)
{
	char url[256];
	kl_options opt;
	kl_error err;
	json_t *j;

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "town",
	    "--name", "Town", NULL), 0);
	j = run_cli_json(&h, NULL, "app", "add", "payroll", "--name",
	    "Payroll", "--redirect-uri", REDIRECT, "--id-token-alg", "RS256",
	    NULL);
	str_copy(secret, jstr(j, "client_secret"), sizeof(secret));
	json_decref(j);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town",
	    "payroll", NULL), 0);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add",
	    "maria", "--org", "town", "--name", "Maria", "--password-stdin",
	    NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "add", "maria",
	    "payroll", "clerk", NULL), 0);
	assert_int_equal(harness_start(&h), 0);
	server_pid = h.pid;
	snprintf(url, sizeof(url), "%s/jwks", h.base);
	kl_options_init(&opt);
	opt.min_refresh_interval = 1;
	opt.now = test_clock;
	assert_non_null(cached = kl_verifier_new_url(h.issuer, url, &opt,
	    &err));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	kl_verifier_free(cached);
	harness_cleanup(&h);
	return 0;
}

/* A fresh sign-in of maria; the token response's JSON. */
static json_t *
sign_in_tokens(void)
{
	char url[1024], csrf[128], code[128];
	struct browser *b;
	struct page p;
	json_t *j;

	assert_non_null(b = browser_new());
	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, sizeof(csrf));
	post_login(b, &h, csrf, "maria", "correct%20horse%20battery", &p);
	assert_int_equal(p.status, 302);
	assert_int_equal(url_param(p.location, "code", code, sizeof(code)), 0);
	page_free(&p);
	exchange(b, &h, "payroll", secret, code, REDIRECT, NULL, &p);
	assert_int_equal(p.status, 200);
	j = json_of(&p);
	page_free(&p);
	browser_free(b);
	return j;
}

/* The kid in a compact JWS's protected header. */
static void
jwt_kid(const char *jwt, char *out, size_t size)
{
	const char *dot = strchr(jwt, '.');
	unsigned char *hdr;
	size_t len;
	json_t *j;

	assert_non_null(dot);
	hdr = b64url_decode(jwt, (size_t)(dot - jwt), &len);
	assert_non_null(hdr);
	j = json_loadb((const char *)hdr, len, 0, NULL);
	free(hdr);
	assert_non_null(j);
	assert_non_null(json_string_value(json_object_get(j, "kid")));
	str_copy(out, json_string_value(json_object_get(j, "kid")), size);
	json_decref(j);
}

/* 1 when the server's /jwks lists kid. */
static int
jwks_lists(const char *kid)
{
	char url[256];
	struct browser *b;
	struct page p;
	json_t *doc, *k;
	size_t i;
	int found = 0;

	assert_non_null(b = browser_new());
	snprintf(url, sizeof(url), "%s/jwks", h.base);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 200);
	doc = json_of(&p);
	json_array_foreach(json_object_get(doc, "keys"), i, k)
		if (strcmp(jstr(k, "kid"), kid) == 0)
			found = 1;
	json_decref(doc);
	page_free(&p);
	browser_free(b);
	return found;
}

/* Waits, bounded, for the running server to reload its keys: this waits
 * for an asynchronous reload to happen, not for time to pass. */
static void
await_published(const char *kid)
{
	struct timespec ts = { 0, POLL_MS * 1000000L };
	int waited;

	for (waited = 0; waited < RELOAD_WAIT_MS; waited += POLL_MS) {
		if (jwks_lists(kid))
			return;
		(void)nanosleep(&ts, NULL);
	}
	fail_msg("the server did not publish %s within %d ms", kid,
	    RELOAD_WAIT_MS);
}

/* The kid of the new key of alg in a `keys rotate --json` answer. */
static void
rotated_kid(json_t *j, const char *alg, char *out, size_t size)
{
	json_t *k;
	size_t i;

	json_array_foreach(json_object_get(j, "keys"), i, k)
		if (strcmp(jstr(k, "alg"), alg) == 0) {
			str_copy(out, jstr(k, "kid"), size);
			return;
		}
	fail_msg("no new %s key", alg);
}

static const char *
listed_state(const char *kid)
{
	static char state[32];
	json_t *j, *k;
	size_t i;

	state[0] = '\0';
	j = run_cli_json(&h, NULL, "keys", "list", NULL);
	json_array_foreach(json_object_get(j, "keys"), i, k)
		if (strcmp(jstr(k, "kid"), kid) == 0)
			str_copy(state, jstr(k, "state"), sizeof(state));
	json_decref(j);
	return state;
}

static void
verify_ok(kl_verifier *v, const char *at)
{
	kl_claims *c = NULL;
	kl_error err;

	assert_int_equal(kl_verify_access_token(v, at, "payroll", &c, &err),
	    KL_OK);
	assert_string_equal(kl_claims_org(c), "town");
	kl_claims_free(c);
}

static void
userinfo_ok(struct browser *b, const char *at)
{
	char url[256], auth[4096];
	struct page p;

	snprintf(url, sizeof(url), "%s/userinfo", h.base);
	snprintf(auth, sizeof(auth), "Bearer %s", at);
	assert_int_equal(browser_get(b, url, auth, &p), 0);
	assert_int_equal(p.status, 200);
	page_free(&p);
}

/* Calls /userinfo with one token until told to stop, counting answers
 * that are not 200: a reload must not drop or fail a request. */
struct hammer {
	const char *at;
	volatile int stop;
	int calls, failures;
};

static void *
hammer_main(void *arg)
{
	struct hammer *hm = arg;
	char url[256], auth[4096];
	struct browser *b = browser_new();
	struct page p;

	snprintf(url, sizeof(url), "%s/userinfo", h.base);
	snprintf(auth, sizeof(auth), "Bearer %s", hm->at);
	while (b != NULL && !__atomic_load_n(&hm->stop, __ATOMIC_SEQ_CST)) {
		if (browser_get(b, url, auth, &p) != 0 || p.status != 200)
			hm->failures++;
		else
			page_free(&p);
		hm->calls++;
	}
	browser_free(b);
	return NULL;
}

static char old_es[128], old_rs[128], new_es[128], new_rs[128];

/* Rotation with no delay, picked up by the server's own watch. */
static void
test_rotate_now(void **state)
{
	char kid[128], kid_id[128], url[256];
	struct hammer hm = { NULL, 0, 0, 0 };
	struct browser *b;
	kl_verifier *fresh;
	kl_error err;
	json_t *before, *after, *j;
	pthread_t t;

	(void)state;
	before = sign_in_tokens();
	jwt_kid(jstr(before, "access_token"), old_es, sizeof(old_es));
	jwt_kid(jstr(before, "id_token"), old_rs, sizeof(old_rs));
	verify_ok(cached, jstr(before, "access_token"));
	hm.at = jstr(before, "access_token");
	assert_int_equal(pthread_create(&t, NULL, hammer_main, &hm), 0);

	j = run_cli_json(&h, NULL, "keys", "rotate", "--delay", "0", NULL);
	rotated_kid(j, "ES256", new_es, sizeof(new_es));
	rotated_kid(j, "RS256", new_rs, sizeof(new_rs));
	json_decref(j);
	assert_string_not_equal(new_es, old_es);
	await_published(new_es);
	assert_true(jwks_lists(new_rs));
	/* The old keys stay published for the tokens they signed. */
	assert_true(jwks_lists(old_es) && jwks_lists(old_rs));

	after = sign_in_tokens();
	__atomic_store_n(&hm.stop, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(hm.calls > 0);
	assert_int_equal(hm.failures, 0);
	jwt_kid(jstr(after, "access_token"), kid, sizeof(kid));
	assert_string_equal(kid, new_es);
	jwt_kid(jstr(after, "id_token"), kid_id, sizeof(kid_id));
	assert_string_equal(kid_id, new_rs);

	/* Before the rotation's token: the cached verifier, a fresh one
	 * and the server itself still accept it. */
	verify_ok(cached, jstr(before, "access_token"));
	snprintf(url, sizeof(url), "%s/jwks", h.base);
	assert_non_null(fresh = kl_verifier_new_url(h.issuer, url, NULL,
	    &err));
	verify_ok(fresh, jstr(before, "access_token"));
	verify_ok(fresh, jstr(after, "access_token"));
	/* The cached verifier meets an unknown kid and refetches. */
	__atomic_store_n(&skew, 2, __ATOMIC_SEQ_CST);
	verify_ok(cached, jstr(after, "access_token"));
	kl_verifier_free(fresh);
	assert_non_null(b = browser_new());
	userinfo_ok(b, jstr(before, "access_token"));
	userinfo_ok(b, jstr(after, "access_token"));
	browser_free(b);

	assert_string_equal(listed_state(new_es), "signing");
	assert_string_equal(listed_state(old_es), "published");
	/* No restart: the same server process served it all. */
	assert_int_equal(h.pid, server_pid);
	assert_int_equal(kill(server_pid, 0), 0);
	json_decref(before);
	json_decref(after);
}

/* With an hour's delay the new keys are published at once (here on
 * SIGHUP) but the current ones go on signing. */
static void
test_rotate_delayed(void **state)
{
	char next_es[128], kid[128];
	json_t *j, *tok;

	(void)state;
	j = run_cli_json(&h, NULL, "keys", "rotate", "--delay", "3600",
	    "--alg", "ES256", NULL);
	rotated_kid(j, "ES256", next_es, sizeof(next_es));
	assert_int_equal(json_array_size(json_object_get(j, "keys")), 1);
	json_decref(j);
	assert_int_equal(kill(server_pid, SIGHUP), 0);
	await_published(next_es);
	tok = sign_in_tokens();
	jwt_kid(jstr(tok, "access_token"), kid, sizeof(kid));
	assert_string_equal(kid, new_es);
	verify_ok(cached, jstr(tok, "access_token"));
	json_decref(tok);
	assert_string_equal(listed_state(next_es), "next");
	assert_string_equal(listed_state(new_es), "signing");
	assert_string_equal(listed_state(new_rs), "signing");
	assert_int_equal(h.pid, server_pid);
	assert_int_equal(kill(server_pid, 0), 0);
}

/* Bad input is refused with a clear message and changes nothing. */
static void
test_rotate_usage(void **state)
{
	(void)state;
	assert_int_equal(run_cli(&h, NULL, NULL, "keys", "rotate", "--alg",
	    "HS256", NULL), 2);
	assert_int_equal(run_cli(&h, NULL, NULL, "keys", "rotate", "--delay",
	    "-5", NULL), 2);
	assert_int_equal(run_cli(&h, NULL, NULL, "keys", "frobnicate", NULL),
	    2);
	assert_string_equal(listed_state(new_es), "signing");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotate_now),
		cmocka_unit_test(test_rotate_delayed),
		cmocka_unit_test(test_rotate_usage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
