/* test_lockout.c - exponential back-off and temporary lockout, on a real
 * store, with the clock injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#include "authn/lockout.h"
#include "util/util.h"

static struct fixture fx;
static struct store *st;
static int64_t now = 1800000000;

static int64_t
test_clock(void)
{
	return now;
}

static int
setup(void **state)
{
	(void)state;
	clock_set(test_clock);
	fixture_open(&fx, "lock");
	st = fx.st;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fixture_close(&fx);
	clock_set(NULL);
	return 0;
}

static void
test_backoff_curve(void **state)
{
	(void)state;
	assert_int_equal(lockout_backoff(0), 0);
	assert_int_equal(lockout_backoff(LOCKOUT_FREE - 1), 0);
	assert_int_equal(lockout_backoff(LOCKOUT_FREE), LOCKOUT_BASE);
	assert_int_equal(lockout_backoff(LOCKOUT_FREE + 1), 2 * LOCKOUT_BASE);
	assert_int_equal(lockout_backoff(LOCKOUT_FREE + 2), 4 * LOCKOUT_BASE);
	assert_int_equal(lockout_backoff(LOCKOUT_FREE + 20), LOCKOUT_MAX);
	assert_int_equal(lockout_backoff(INT64_MAX), LOCKOUT_MAX);
}

static void
test_lock_and_expiry(void **state)
{
	int64_t wait;
	int i;

	(void)state;
	for (i = 1; i < LOCKOUT_FREE; i++) {
		assert_int_equal(lockout_fail(st, "maria", now, &wait), 0);
		assert_int_equal(wait, 0);
		assert_int_equal(lockout_wait(st, "maria", now), 0);
	}
	assert_int_equal(lockout_fail(st, "maria", now, &wait), 0);
	assert_int_equal(wait, LOCKOUT_BASE);
	assert_int_equal(lockout_wait(st, "maria", now), LOCKOUT_BASE);
	assert_int_equal(lockout_wait(st, "maria", now + 2), LOCKOUT_BASE - 2);
	/* another name is not touched */
	assert_int_equal(lockout_wait(st, "nikos", now), 0);
	/* the lock expires by itself */
	now += LOCKOUT_BASE;
	assert_int_equal(lockout_wait(st, "maria", now), 0);
	/* the next failure doubles the wait */
	assert_int_equal(lockout_fail(st, "maria", now, &wait), 0);
	assert_int_equal(wait, 2 * LOCKOUT_BASE);
	assert_int_equal(lockout_wait(st, "maria", now), 2 * LOCKOUT_BASE);
	/* a success clears it */
	assert_int_equal(lockout_clear(st, "maria"), 0);
	assert_int_equal(lockout_wait(st, "maria", now), 0);
	assert_int_equal(lockout_fail(st, "maria", now, &wait), 0);
	assert_int_equal(wait, 0);	/* counting starts again */
}

static void
test_forgotten_after_a_day(void **state)
{
	int64_t wait;
	int i;

	(void)state;
	for (i = 0; i < LOCKOUT_FREE + 3; i++)
		assert_int_equal(lockout_fail(st, "eleni", now, &wait), 0);
	assert_true(lockout_wait(st, "eleni", now) > 0);
	now += LOCKOUT_FORGET;
	assert_int_equal(lockout_wait(st, "eleni", now), 0);
	assert_int_equal(lockout_fail(st, "eleni", now, &wait), 0);
	assert_int_equal(wait, 0);
}

/* A name nobody has locks like a real one: the page cannot tell. */
static void
test_unknown_names_lock_too(void **state)
{
	int64_t wait;
	int i;

	(void)state;
	for (i = 0; i < LOCKOUT_FREE; i++)
		assert_int_equal(lockout_fail(st, "no-such-user", now, &wait),
		    0);
	assert_int_equal(wait, LOCKOUT_BASE);
	assert_int_equal(lockout_wait(st, "no-such-user", now), LOCKOUT_BASE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_curve),
		cmocka_unit_test(test_lock_and_expiry),
		cmocka_unit_test(test_forgotten_after_a_day),
		cmocka_unit_test(test_unknown_names_lock_too),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
