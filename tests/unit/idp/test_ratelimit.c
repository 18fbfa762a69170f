/* test_ratelimit.c - token buckets per address, with time as a parameter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "authn/ratelimit.h"

static void
test_burst_then_refill(void **state)
{
	struct ratelimit *rl = ratelimit_new(3, 1000);
	int64_t t = 5000;
	int i;

	(void)state;
	assert_non_null(rl);
	for (i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(rl, "192.0.2.1", t), 0);
	/* empty: the next token comes in a second */
	assert_int_equal(ratelimit_take(rl, "192.0.2.1", t), 1000);
	assert_int_equal(ratelimit_take(rl, "192.0.2.1", t + 400), 600);
	/* another address has its own bucket */
	assert_int_equal(ratelimit_take(rl, "192.0.2.2", t), 0);
	/* refusals took nothing: one token is back after 1 s */
	assert_int_equal(ratelimit_take(rl, "192.0.2.1", t + 1000), 0);
	assert_true(ratelimit_take(rl, "192.0.2.1", t + 1000) > 0);
	/* a long pause refills only up to the burst */
	for (i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(rl, "192.0.2.1", t + 60000),
		    0);
	assert_true(ratelimit_take(rl, "192.0.2.1", t + 60000) > 0);
	ratelimit_free(rl);
}

static void
test_many_addresses_bounded(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 60000);
	char addr[64];
	int i, refused = 0;

	(void)state;
	/* 20,000 distinct addresses in a table of 8,192: memory stays
	 * fixed; each new address starts with a full bucket. */
	for (i = 0; i < 20000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16,
		    (i >> 8) & 255, i & 255);
		refused += ratelimit_take(rl, addr, 1000) != 0;
	}
	assert_int_equal(refused, 0);
	assert_null(ratelimit_new(0, 10));
	assert_null(ratelimit_new(1, 0));
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

/* SIGHUP's new limits: an address keeps the tokens it has (up to the
 * new burst) and earns the next ones at the new rate. */
static void
test_set(void **state)
{
	struct ratelimit *rl = ratelimit_new(3, 1000);
	const int64_t t = 5000000;
	int i;

	(void)state;
	/* Two of three tokens left for .1, none for .2. */
	assert_int_equal(ratelimit_take(rl, "192.0.2.1", t), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(rl, "192.0.2.2", t), 0);
	assert_int_equal(ratelimit_take(rl, "192.0.2.2", t), 1000);

	/* Refused values change nothing. */
	assert_int_equal(ratelimit_set(rl, 0, 100), -1);
	assert_int_equal(ratelimit_set(rl, 5, 0), -1);
	assert_int_equal(ratelimit_take(rl, "192.0.2.2", t), 1000);

	assert_int_equal(ratelimit_set(rl, 5, 100), 0);
	/* .1 still has its two tokens, then waits the new refill. */
	assert_int_equal(ratelimit_take(rl, "192.0.2.1", t), 0);
	assert_int_equal(ratelimit_take(rl, "192.0.2.1", t), 0);
	assert_int_equal(ratelimit_take(rl, "192.0.2.1", t), 100);
	/* .2 has none and earns one every 100 ms now, not every second. */
	assert_int_equal(ratelimit_take(rl, "192.0.2.2", t), 100);
	assert_int_equal(ratelimit_take(rl, "192.0.2.2", t + 100), 0);
	/* A full bucket is the new burst: five. */
	for (i = 0; i < 5; i++)
		assert_int_equal(ratelimit_take(rl, "192.0.2.2", t + 60000),
		    0);
	assert_int_equal(ratelimit_take(rl, "192.0.2.2", t + 60000), 100);

	/* Down to a burst of one: the tokens held shrink to it. */
	assert_int_equal(ratelimit_take(rl, "192.0.2.3", t), 0);
	assert_int_equal(ratelimit_set(rl, 1, 2000), 0);
	assert_int_equal(ratelimit_take(rl, "192.0.2.3", t), 0);
	assert_int_equal(ratelimit_take(rl, "192.0.2.3", t), 2000);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refill),
		cmocka_unit_test(test_many_addresses_bounded),
		cmocka_unit_test(test_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
