/*
 * test_ops.c - what operations rely on, against the real server:
 * /healthz and /readyz, /metrics in the Prometheus text format with
 * counters that move after a sign-in (and a failed one), SIGHUP keeps
 * serving, and SIGTERM drains: a sign-in whose password is being hashed
 * when the signal comes is still answered, and the server exits 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define PASSWORD "correct horse battery"

static struct harness h;
static char secret[128];

static void
get(const char *path, struct page *p)
{
	char url[256];
	struct browser *b = browser_new();

	snprintf(url, sizeof(url), "%s%s", h.base, path);
	assert_int_equal(browser_get(b, url, NULL, p), 0);
	browser_free(b);
}

/* The value of one series (name with its labels) in an exposition. */
static double
series(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	fail_msg("no series %s", name);
	return -1;
}

static char *
metrics(void)
{
	struct page p;
	char *s;

	get("/metrics", &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.content_type, "version=0.0.4"));
	s = strdup(p.body.data);
	page_free(&p);
	return s;
}

/* Until series name reaches min (bounded: 2 s). */
static void
wait_series(const char *name, double min)
{
	double v = -1;
	char *m;
	int i;

	for (i = 0; i < 40; i++) {
		m = metrics();
		v = series(m, name);
		free(m);
		if (v >= min)
			return;
		usleep(50000);
	}
	fail_msg("%s is %g, expected at least %g", name, v, min);
}

static long
sign_in(const char *pass)
{
	char url[1024], csrf[128], code[256];
	struct browser *b = browser_new();
	struct page p, q;
	long st;

	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, sizeof(csrf));
	post_login(b, &h, csrf, "maria", pass, &p);
	st = p.status;
	if (st == 302) {
		assert_int_equal(url_param(p.location, "code", code,
		    sizeof(code)), 0);
		exchange(b, &h, "payroll", secret, code, REDIRECT, NULL, &q);
		assert_int_equal(q.status, 200);
		page_free(&q);
	}
	page_free(&p);
	browser_free(b);
	return st;
}

static void
test_health(void **state)
{
	struct page p;

	(void)state;
	get("/healthz", &p);
	assert_int_equal(p.status, 200);
	assert_string_equal(p.body.data, "ok\n");
	page_free(&p);
	get("/readyz", &p);
	assert_int_equal(p.status, 200);
	assert_string_equal(p.body.data, "ready\n");
	page_free(&p);
}

static void
test_metrics(void **state)
{
	char *a, *b;

	(void)state;
	a = metrics();
	assert_non_null(strstr(a, "# TYPE kleidi_signins_total counter"));
	assert_non_null(strstr(a, "# TYPE kleidi_http_request_duration_"
	    "seconds histogram"));
	(void)series(a, "kleidi_password_queue_depth");
	(void)series(a, "kleidi_write_queue_depth");
	assert_true(series(a, "kleidi_write_jobs_running") == 0);
	assert_int_equal(sign_in("correct%20horse%20battery"), 302);
	assert_int_equal(sign_in("wrong%20password%20here"), 200);
	b = metrics();
	assert_true(series(b, "kleidi_signins_total") ==
	    series(a, "kleidi_signins_total") + 1);
	assert_true(series(b, "kleidi_signin_failures_total{reason=\""
	    "bad_password\"}") == series(a, "kleidi_signin_failures_total{"
	    "reason=\"bad_password\"}") + 1);
	assert_true(series(b, "kleidi_tokens_issued_total{grant=\""
	    "authorization_code\"}") == series(a, "kleidi_tokens_issued_total"
	    "{grant=\"authorization_code\"}") + 1);
	/* The histogram of a route, from the HTTP adapter's hook, which
	 * runs when a request's memory goes - maybe after the client has
	 * its answer: wait a little for it. */
	wait_series("kleidi_http_request_duration_seconds_count{route=\"/token"
	    "\"}", 1);
	wait_series("kleidi_http_request_duration_seconds_bucket{route=\""
	    "/login\",le=\"+Inf\"}", 2);
	wait_series("kleidi_http_responses_total{class=\"2xx\"}",
	    series(a, "kleidi_http_responses_total{class=\"2xx\"}") + 1);
	free(a);
	free(b);
}

static void
test_sighup(void **state)
{
	struct page p;
	char path[512], *ini;
	struct buf b;
	size_t len;

	(void)state;
	/* A changed setting applies live (test_reload.c checks what it
	 * does); the server keeps serving. */
	snprintf(path, sizeof(path), "%s/kleidi.ini", h.dir);
	assert_non_null(ini = file_read(path, 1 << 16, &len));
	buf_init(&b, 1 << 16);
	assert_int_equal(buf_append(&b, ini, len), 0);
	assert_int_equal(buf_puts(&b, "[tokens]\naccess_ttl = 120\n"), 0);
	assert_int_equal(file_write(path, b.data, b.len, 0600, 0), 0);
	buf_free(&b);
	free(ini);
	assert_int_equal(harness_signal(&h, SIGHUP), 0);
	get("/healthz", &p);
	assert_int_equal(p.status, 200);
	page_free(&p);
	assert_int_equal(sign_in("correct%20horse%20battery"), 302);
}

struct inflight {
	char csrf[128];
	struct browser *b;
	long status;
	struct timespec done;
};

static void *
post_slow(void *arg)
{
	struct inflight *f = arg;
	char url[256], body[512];
	struct page p;

	snprintf(url, sizeof(url), "%s/login", h.base);
	snprintf(body, sizeof(body), "username=maria&password=correct%%20"
	    "horse%%20battery&csrf=%s", f->csrf);
	f->status = browser_post(f->b, url, NULL, body, &p) == 0 ? p.status :
	    -1;
	clock_gettime(CLOCK_MONOTONIC, &f->done);
	if (f->status != -1)
		page_free(&p);
	return NULL;
}

/* The password pool is slowed by a costly argon2id (this test's ini), so
 * the sign-in is still hashing when SIGTERM comes. */
static void
test_sigterm_drains(void **state)
{
	struct inflight f = { "", NULL, 0, { 0, 0 } };
	struct timespec killed;
	char url[1024];
	pthread_t t;
	int status;

	(void)state;
	f.b = browser_new();
	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	open_login(f.b, url, f.csrf, sizeof(f.csrf));
	assert_int_equal(pthread_create(&t, NULL, post_slow, &f), 0);
	/* In flight: its password is being hashed. */
	wait_series("kleidi_password_jobs_running", 1);
	clock_gettime(CLOCK_MONOTONIC, &killed);
	assert_int_equal(kill(h.pid, SIGTERM), 0);
	pthread_join(t, NULL);
	/* It was in flight: the answer came after the signal. */
	assert_true(f.done.tv_sec > killed.tv_sec || (f.done.tv_sec ==
	    killed.tv_sec && f.done.tv_nsec > killed.tv_nsec));
	assert_int_equal(waitpid(h.pid, &status, 0), h.pid);
	h.pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Answered in full, not cut off. */
	assert_int_equal(f.status, 302);
	browser_free(f.b);
}

static int
setup(void **state)
{
	/* A costly hash (see test_sigterm_drains), one worker. */
	static const char ini[] = "[password]\nargon2_t_cost = 3\n"
	    "argon2_m_cost_kib = 65536\nworkers = 1\n[policy]\n"
	    "employee_factors = 1\n[limits]\nsignin_burst = 10000\n";
	char path[512];

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	snprintf(path, sizeof(path), "%s/kleidi.ini", h.dir);
	assert_int_equal(file_write(path, ini, sizeof(ini) - 1, 0600, 0), 0);
	provision_payroll(&h, REDIRECT, secret, sizeof(secret));
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add",
	    "maria", "--org", "town", "--name", "Maria", "--password-stdin",
	    NULL), 0);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_sighup),
		cmocka_unit_test(test_sigterm_drains),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
