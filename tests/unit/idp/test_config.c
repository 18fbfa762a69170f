/* test_config.c - defaults, ini overrides, and refusals naming the line;
 * which settings SIGHUP applies live, and the settings snapshots a reload
 * swaps under running requests. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/settings.h"
#include "util/util.h"

static char path[64];

static void
write_ini(const char *text)
{
	int fd;

	str_copy(path, "/tmp/kleidi-cfg-XXXXXX", sizeof(path));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(c.code_ttl, 60);
	assert_int_equal(c.argon2_t_cost, 3);
	assert_int_equal(c.argon2_m_cost_kib, 65536);
	assert_int_equal(c.body_max, 64 * 1024);
	assert_true(c.pool_queue > 0);
}

static void
test_override(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	write_ini("; comment\n[server]\nlisten = 0.0.0.0:9000\n"
	    "[password]\nargon2_t_cost = 1\nargon2_m_cost_kib = 8192\n"
	    "[tokens]\naccess_ttl = 300\n");
	config_defaults(&c);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "0.0.0.0:9000");
	assert_int_equal(c.argon2_t_cost, 1);
	assert_int_equal(c.argon2_m_cost_kib, 8192);
	assert_int_equal(c.access_ttl, 300);
	assert_int_equal(c.code_ttl, 60);	/* untouched */
	unlink(path);
}

static void
test_refusals(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	write_ini("[tokens]\ncode_ttl = 60\ncode_ttl = 100000\n");
	config_defaults(&c);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3:"));
	assert_non_null(strstr(err, "code_ttl"));
	unlink(path);

	write_ini("[tokens]\nno_such_thing = 1\n");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown setting"));
	unlink(path);

	write_ini("[password]\nargon2_t_cost = 3x\n");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "whole number"));
	unlink(path);

	assert_int_equal(config_load(&c, "/nonexistent/k.ini", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
}

/* What config_diff reports: the ini's names, and whether live. */
struct seen {
	char names[8][64];
	int live[8];
	int n;
};

static void
collect(const char *section, const char *key, int live, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s.%s", section, key);
	s->live[s->n++] = live;
}

static void
test_diff_and_take_live(void **state)
{
	struct config run, file;
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	config_defaults(&run);
	config_defaults(&file);
	assert_int_equal(config_diff(&run, &file, collect, &s), 0);
	file.access_ttl = 120;
	file.employee_factors = 1;
	file.signin_burst = 7;
	file.sms.max_sends = 2;
	str_copy(file.sms.password, "secret", sizeof(file.sms.password));
	str_copy(file.listen, "0.0.0.0:9", sizeof(file.listen));
	file.pool_workers = 3;
	assert_int_equal(config_diff(&run, &file, collect, &s), 7);
	assert_string_equal(s.names[0], "server.listen");
	assert_int_equal(s.live[0], 0);
	assert_string_equal(s.names[1], "password.workers");
	assert_int_equal(s.live[1], 0);
	assert_string_equal(s.names[2], "tokens.access_ttl");
	assert_int_equal(s.live[2], 1);
	assert_string_equal(s.names[3], "policy.employee_factors");
	assert_int_equal(s.live[3], 1);
	assert_string_equal(s.names[4], "limits.signin_burst");
	assert_int_equal(s.live[4], 1);
	assert_string_equal(s.names[5], "sms.password");
	assert_int_equal(s.live[5], 1);
	assert_string_equal(s.names[6], "sms.max_sends");
	assert_int_equal(s.live[6], 1);

	/* The live ones move over, the restart-only ones stay. */
	config_take_live(&run, &file);
	assert_int_equal(run.access_ttl, 120);
	assert_int_equal(run.employee_factors, 1);
	assert_int_equal(run.signin_burst, 7);
	assert_int_equal(run.sms.max_sends, 2);
	assert_string_equal(run.sms.password, "secret");
	assert_string_equal(run.listen, "127.0.0.1:8080");
	assert_int_equal(run.pool_workers, 0);
	/* Left: exactly what waits for a restart. */
	assert_int_equal(config_diff(&run, &file, NULL, NULL), 2);
}

/* A reader holding a snapshot across a swap keeps it, unchanged; the
 * snapshot goes when its last holder lets go (LeakSanitizer checks that
 * nothing is left at exit, AddressSanitizer that nothing is read after
 * it is freed). */
static void
test_snapshot_swap(void **state)
{
	struct settings_holder *h;
	struct settings *a, *b, *c;
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	cfg.access_ttl = 300;
	assert_non_null(h = settings_new(&cfg));
	a = settings_get(h);
	assert_int_equal(a->cfg.access_ttl, 300);
	assert_int_equal(a->gen.refs, 2);		/* the holder's and ours */

	cfg.access_ttl = 120;
	assert_int_equal(settings_swap(h, &cfg), 0);
	b = settings_get(h);
	assert_ptr_not_equal(a, b);
	assert_int_equal(b->cfg.access_ttl, 120);
	/* The old one: still whole, now held by this reader alone. */
	assert_int_equal(a->cfg.access_ttl, 300);
	assert_int_equal(a->gen.refs, 1);
	/* The caller's config was copied, not borrowed. */
	cfg.access_ttl = 60;
	assert_int_equal(b->cfg.access_ttl, 120);
	settings_put(a);			/* freed here */

	assert_int_equal(settings_swap(h, &cfg), 0);
	c = settings_get(h);
	assert_int_equal(c->cfg.access_ttl, 60);
	assert_int_equal(b->cfg.access_ttl, 120);
	settings_put(b);
	settings_put(c);
	settings_put(NULL);
	settings_free(h);
	settings_free(NULL);
}

/* Readers take and give back snapshots while the main thread swaps:
 * every snapshot a reader holds stays consistent (its two lifetimes were
 * written together). */
#define READERS 4
#define SWAPS 2000

struct reader {
	struct settings_holder *h;
	int stop;
	int bad;
	long reads;
};

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct settings *s;

	while (!__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST)) {
		s = settings_get(r->h);
		if (s->cfg.id_ttl != s->cfg.access_ttl + 1)
			r->bad++;
		settings_put(s);
		r->reads++;
	}
	return NULL;
}

static void
test_snapshot_concurrent(void **state)
{
	struct reader r[READERS];
	pthread_t t[READERS];
	struct settings_holder *h;
	struct config cfg;
	int i;

	(void)state;
	config_defaults(&cfg);
	cfg.access_ttl = 60;
	cfg.id_ttl = 61;
	assert_non_null(h = settings_new(&cfg));
	for (i = 0; i < READERS; i++) {
		r[i] = (struct reader){ h, 0, 0, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, reader_main,
		    &r[i]), 0);
	}
	for (i = 0; i < SWAPS; i++) {
		cfg.access_ttl = 60 + i;
		cfg.id_ttl = 61 + i;
		assert_int_equal(settings_swap(h, &cfg), 0);
	}
	for (i = 0; i < READERS; i++) {
		__atomic_store_n(&r[i].stop, 1, __ATOMIC_SEQ_CST);
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i].bad, 0);
	}
	settings_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_diff_and_take_live),
		cmocka_unit_test(test_snapshot_swap),
		cmocka_unit_test(test_snapshot_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
