/*
 * test_overload.c - a sign-in storm beyond the password pool's queue: the
 * server answers 503 with Retry-After instead of queueing without bound,
 * keeps serving, and signs people in again once the storm has passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"

#define STORM 16
#define PASSWORD "correct horse battery"

static struct harness h;

static int
setup(void **state)
{
	/* One worker, one waiting job, and a hash slow enough that the storm
	 * arrives while the first ones are still being computed. */
	static const char ini[] = "[password]\nworkers = 1\nqueue = 1\n"
	    "argon2_t_cost = 3\nargon2_m_cost_kib = 65536\n"
	    "[policy]\nemployee_factors = 1\n[limits]\nsignin_burst = 10000\n";
	const char *org[] = { "org", "add", "town", "--name", "Town", NULL };
	const char *app[] = { "app", "add", "payroll", "--name", "Payroll",
		"--redirect-uri", "http://127.0.0.1:9/cb", NULL };
	const char *sub[] = { "org", "subscribe", "town", "payroll", NULL };
	const char *user[] = { "user", "add", "maria", "--org", "town",
		"--name", "Maria", "--password-stdin", NULL };
	char path[512];

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	snprintf(path, sizeof(path), "%s/kleidi.ini", h.dir);
	assert_int_equal(file_write(path, ini, sizeof(ini) - 1, 0600, 0), 0);
	assert_int_equal(harness_cli(&h, NULL, NULL, org), 0);
	assert_int_equal(harness_cli(&h, NULL, NULL, app), 0);
	assert_int_equal(harness_cli(&h, NULL, NULL, sub), 0);
	assert_int_equal(harness_cli(&h, PASSWORD "\n", NULL, user), 0);
	assert_int_equal(harness_start(&h), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	harness_cleanup(&h);
	return 0;
}

struct reply {
	long status;
	int retry_after;
};

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	if (size * n > 12 && strncasecmp(data, "Retry-After:", 12) == 0)
		r->retry_after = atoi(data + 12);
	return size * n;
}

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/* Opens one sign-in flow in browser b and returns its form's csrf. */
static void
open_flow(struct browser *b, char *csrf, size_t size)
{
	char url[512];
	struct page p;

	snprintf(url, sizeof(url), "%s/authorize?response_type=code&client_id="
	    "payroll&redirect_uri=http://127.0.0.1:9/cb&scope=openid",
	    h.base);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 200);
	assert_int_equal(html_input_value(p.body.data, "csrf", csrf, size), 0);
	page_free(&p);
}

static void
test_storm_gets_503(void **state)
{
	struct browser *b = browser_new();
	char csrf[STORM][128], cookie[256], bcookie[128], url[256];
	char body[STORM][512];
	struct reply r[STORM];
	CURL *e[STORM];
	CURLM *m = curl_multi_init();
	struct curl_slist *hdr = NULL;
	int i, running, ok = 0, busy = 0;

	(void)state;
	for (i = 0; i < STORM; i++)
		open_flow(b, csrf[i], sizeof(csrf[i]));
	assert_int_equal(browser_cookie(b, "kleidi_b", bcookie,
	    sizeof(bcookie)), 0);
	snprintf(cookie, sizeof(cookie), "Cookie: kleidi_b=%s", bcookie);
	hdr = curl_slist_append(hdr, cookie);
	snprintf(url, sizeof(url), "%s/login", h.base);
	for (i = 0; i < STORM; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		snprintf(body[i], sizeof(body[i]), "username=maria&password="
		    "wrong-password&csrf=%.64s", csrf[i]);
		e[i] = curl_easy_init();
		curl_easy_setopt(e[i], CURLOPT_URL, url);
		curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(e[i], CURLOPT_POSTFIELDS, body[i]);
		curl_easy_setopt(e[i], CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e[i], CURLOPT_HEADERDATA, &r[i]);
		curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(e[i], CURLOPT_TIMEOUT, 60L);
		curl_multi_add_handle(m, e[i]);
	}
	do {
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running > 0);
	for (i = 0; i < STORM; i++) {
		curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &r[i].status);
		if (r[i].status == 200)
			ok++;
		if (r[i].status == 503) {
			busy++;
			assert_true(r[i].retry_after > 0);
		}
		curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(hdr);
	print_message("storm of %d: %d answered, %d refused with 503\n", STORM,
	    ok, busy);
	/* Every request got an answer; the pool (1 running + 1 waiting)
	 * cannot have taken them all. */
	assert_int_equal(ok + busy, STORM);
	assert_true(busy >= 1);
	assert_true(ok >= 1);
	browser_free(b);
}

/* After the storm the server still signs people in. */
static void
test_serves_after_storm(void **state)
{
	struct browser *b = browser_new();
	char csrf[128], url[256], body[512];
	struct page p;

	(void)state;
	open_flow(b, csrf, sizeof(csrf));
	snprintf(url, sizeof(url), "%s/login", h.base);
	snprintf(body, sizeof(body), "username=maria&password=correct%%20horse"
	    "%%20battery&csrf=%s", csrf);
	assert_int_equal(browser_post(b, url, NULL, body, &p), 0);
	assert_int_equal(p.status, 302);
	assert_non_null(strstr(p.location, "code="));
	page_free(&p);
	browser_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm_gets_503),
		cmocka_unit_test(test_serves_after_storm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
