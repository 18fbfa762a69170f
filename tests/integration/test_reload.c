/*
 * test_reload.c - SIGHUP applies the live settings of kleidi.ini to the
 * running server (issue 8): token lifetimes, the sign-in policy and the
 * SMS settings (template and outbox) change without a restart, while
 * client_credentials requests run throughout and none fails; a file that
 * does not load, or whose SMS gateway would not start, changes nothing.
 */
#include <dirent.h>
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
#include <jansson.h>

#include "harness.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define PASSWORD "correct horse battery"
#define WAIT_MS 15000		/* bounds each wait for the server */
#define POLL_MS 20

/* harness_init's settings (cheap hashes, one factor, a large burst),
 * which every version of the file here starts with. */
#define BASE_INI "[password]\nargon2_t_cost = 1\nargon2_m_cost_kib = 8192\n" \
	"[limits]\nsignin_burst = 10000\n"

static struct harness h;
static char secret[128];

static void
write_ini(const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/kleidi.ini", h.dir);
	assert_int_equal(file_write(path, text, strlen(text), 0600, 0), 0);
}

static int
setup(void **state)
{

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	write_ini(BASE_INI "[policy]\nemployee_factors = 1\n"
	    "[tokens]\naccess_ttl = 300\n");
	provision_payroll(&h, REDIRECT, secret, sizeof(secret));
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add",
	    "maria", "--org", "town", "--name", "Maria", "--phone",
	    "+306912345678", "--password-stdin", NULL), 0);
	assert_int_equal(harness_start(&h), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	harness_cleanup(&h);	/* fails unless the server exits 0 */
	return 0;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* A client_credentials token: 0 with its life (exp - iat) and the
 * answer's expires_in, or -1 when the request failed in any way. Asserts
 * nothing: it also runs in the loop thread. */
static int
client_token(struct browser *b, int64_t *life, int64_t *expires_in)
{
	char url[256], auth[512];
	const char *at, *dot1, *dot2;
	unsigned char *raw = NULL;
	json_t *j = NULL, *c = NULL;
	struct page p;
	size_t len;
	int rc = -1;

	snprintf(url, sizeof(url), "%s/token", h.base);
	basic_auth(auth, sizeof(auth), "payroll", secret);
	if (browser_post(b, url, auth, "grant_type=client_credentials",
	    &p) != 0)
		return -1;
	if (p.status != 200 || (j = json_loads(p.body.data, 0, NULL)) ==
	    NULL || (at = json_string_value(json_object_get(j,
	    "access_token"))) == NULL || (dot1 = strchr(at, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL ||
	    (raw = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1),
	    &len)) == NULL ||
	    (c = json_loadb((const char *)raw, len, 0, NULL)) == NULL)
		goto done;
	*life = json_integer_value(json_object_get(c, "exp")) -
	    json_integer_value(json_object_get(c, "iat"));
	*expires_in = json_integer_value(json_object_get(j, "expires_in"));
	rc = 0;
done:
	json_decref(c);
	free(raw);
	json_decref(j);
	page_free(&p);
	return rc;
}

static int64_t
token_life(void)
{
	struct browser *b = browser_new();
	int64_t life = 0, expires_in = 0;

	assert_int_equal(client_token(b, &life, &expires_in), 0);
	assert_int_equal(expires_in, life);
	browser_free(b);
	return life;
}

/* Asks for tokens until told to stop. Every answer must be a token whose
 * life is one of the two settings and agrees with its expires_in (both
 * from one snapshot). The counters are read while it runs: atomics. */
struct loop {
	int stop;
	int calls, failures, old, new;
};

static void
count(int *n)
{
	(void)__atomic_add_fetch(n, 1, __ATOMIC_SEQ_CST);
}

static void *
loop_main(void *arg)
{
	struct loop *l = arg;
	struct browser *b = browser_new();
	int64_t life, expires_in;

	while (b != NULL && !__atomic_load_n(&l->stop, __ATOMIC_SEQ_CST)) {
		life = expires_in = 0;
		if (client_token(b, &life, &expires_in) != 0 ||
		    life != expires_in || (life != 300 && life != 120))
			count(&l->failures);
		else
			count(life == 300 ? &l->old : &l->new);
		count(&l->calls);
	}
	if (b == NULL)
		count(&l->failures);
	browser_free(b);
	return NULL;
}

/* The password step of a sign-in to payroll: its answer into p. */
static void
password_step(struct browser *b, char *csrf, size_t size, struct page *p)
{
	char url[1024];

	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, size);
	post_login(b, &h, csrf, "maria", "correct%20horse%20battery", p);
}

/* The newest message in folder (an SMS outbox: names sort by time),
 * read whole. */
static char *
newest_message(const char *folder)
{
	char newest[256] = "", path[1024];
	struct dirent *d;
	DIR *dir;

	assert_non_null(dir = opendir(folder));
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.' && strcmp(d->d_name, newest) > 0)
			str_copy(newest, d->d_name, sizeof(newest));
	closedir(dir);
	assert_true(newest[0] != '\0');
	snprintf(path, sizeof(path), "%s/%s", folder, newest);
	return file_read(path, 4096, NULL);
}

static void
test_live_reload(void **state)
{
	char ini[1024], outbox[300], csrf[128], otp[7], *msg, *p;
	struct loop l = { 0, 0, 0, 0, 0 };
	struct browser *b;
	struct page pg;
	pthread_t t;
	int waited;

	(void)state;
	assert_int_equal(token_life(), 300);
	/* One factor: the password alone signs in. */
	b = browser_new();
	password_step(b, csrf, sizeof(csrf), &pg);
	assert_int_equal(pg.status, 302);
	page_free(&pg);
	browser_free(b);

	assert_int_equal(pthread_create(&t, NULL, loop_main, &l), 0);
	/* The loop is under way before the signal. */
	for (waited = 0; __atomic_load_n(&l.calls, __ATOMIC_SEQ_CST) == 0;
	    waited += POLL_MS) {
		if (waited >= WAIT_MS)
			fail_msg("no token request in %d ms", WAIT_MS);
		pause_ms(POLL_MS);
	}
	snprintf(outbox, sizeof(outbox), "%s/sms-reloaded", h.dir);
	snprintf(ini, sizeof(ini), BASE_INI "[policy]\nemployee_factors = 2\n"
	    "[tokens]\naccess_ttl = 120\n[sms]\noutbox = %s\n"
	    "template = Reloaded: {code}\n", outbox);
	write_ini(ini);
	assert_int_equal(kill(h.pid, SIGHUP), 0);
	/* Waits for the server to act on the signal, not for time. */
	for (waited = 0; token_life() != 120; waited += POLL_MS) {
		if (waited >= WAIT_MS)
			fail_msg("access_ttl still not 120 after %d ms",
			    WAIT_MS);
		pause_ms(POLL_MS);
	}
	/* The loop sees the new setting too before it stops. */
	while (__atomic_load_n(&l.new, __ATOMIC_SEQ_CST) == 0 &&
	    waited < WAIT_MS) {
		pause_ms(POLL_MS);
		waited += POLL_MS;
	}
	__atomic_store_n(&l.stop, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(l.failures, 0);
	assert_true(l.old > 0 && l.new > 0);
	assert_true(l.calls == l.old + l.new);

	/* Two factors now; the code goes out through the new outbox with
	 * the new template. */
	b = browser_new();
	password_step(b, csrf, sizeof(csrf), &pg);
	assert_int_equal(pg.status, 200);
	assert_non_null(strstr(pg.body.data, "name=\"otp\""));
	page_free(&pg);
	assert_non_null(msg = newest_message(outbox));
	assert_non_null(p = strstr(msg, "\n\nReloaded: "));
	memcpy(otp, p + 12, 6);
	otp[6] = '\0';
	free(msg);
	post_otp(b, &h, csrf, "sms", otp, NULL, &pg);
	assert_int_equal(pg.status, 302);
	page_free(&pg);
	browser_free(b);
}

/* SIGHUP, then (bounded) until the server has taken it. */
static void
hup_taken(void)
{
	assert_int_equal(harness_signal(&h, SIGHUP), 0);
}

static void
test_refused_reload(void **state)
{
	struct browser *b;
	struct page pg;
	char url[256];

	(void)state;
	assert_int_equal(token_life(), 120);
	/* Out of range: the file does not load. */
	write_ini(BASE_INI "[tokens]\naccess_ttl = 5\n");
	hup_taken();
	hup_taken();
	assert_int_equal(token_life(), 120);
	/* It loads, but its SMS gateway would not start: nothing of it
	 * applies, its lifetime neither. */
	write_ini(BASE_INI "[tokens]\naccess_ttl = 90\n"
	    "[sms]\ngateway = carrier-pigeon\n");
	hup_taken();
	hup_taken();
	assert_int_equal(token_life(), 120);
	b = browser_new();
	snprintf(url, sizeof(url), "%s/healthz", h.base);
	assert_int_equal(browser_get(b, url, NULL, &pg), 0);
	assert_int_equal(pg.status, 200);
	page_free(&pg);
	browser_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_reload),
		cmocka_unit_test(test_refused_reload),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
