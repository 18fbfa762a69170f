/* test_config.c - defaults, ini overrides, and refusals naming the line. */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
