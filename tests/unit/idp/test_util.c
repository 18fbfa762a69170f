/* test_util.c - bounded buffers, base64url, constant-time compare,
 * clock injection, the worker pool, atomic file writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "util/pool.h"
#include "util/util.h"

static void
test_buf_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345678"), 0);
	assert_int_equal(buf_puts(&b, "9"), -1);	/* over the max */
	assert_string_equal(b.data, "12345678");	/* nothing lost */
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s-%d", "ab", 42), 0);
	assert_string_equal(b.data, "ab-42");
	buf_free(&b);
}

static void
test_buf_escape(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(buf_put_html(&b, "<a href=\"x\">'&'</a>"), 0);
	assert_string_equal(b.data,
	    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
	buf_reset(&b);
	assert_int_equal(buf_put_urlenc(&b, "a b&c=d/é~_.-"), 0);
	assert_string_equal(b.data, "a%20b%26c%3Dd%2F%C3%A9~_.-");
	buf_free(&b);
}

static void
test_b64url(void **state)
{
	/* RFC 4648 test vectors, url alphabet, no padding */
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba",
		"foobar" };
	static const char *out[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg",
		"Zm9vYmE", "Zm9vYmFy" };
	unsigned char *d, raw[] = { 0xfb, 0xff, 0xfe };
	size_t i, n;
	char *e;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		e = b64url_encode((const unsigned char *)in[i], strlen(in[i]));
		assert_string_equal(e, out[i]);
		d = b64url_decode(e, strlen(e), &n);
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(d, in[i], n);
		free(d);
		free(e);
	}
	e = b64url_encode(raw, 3);
	assert_string_equal(e, "-__-");
	free(e);
	assert_null(b64url_decode("Zg==", 4, &n));	/* padding */
	assert_null(b64url_decode("Z+8", 3, &n));	/* std alphabet */
	assert_null(b64url_decode("Zh", 2, &n));	/* non-zero tail bits */
	assert_null(b64url_decode("Z", 1, &n));		/* impossible length */
	assert_null(b64url_decode("Zm 9", 4, &n));
}

static void
test_b64std(void **state)
{
	unsigned char *d;
	size_t n;

	(void)state;
	d = b64std_decode("Zm9vYg==", 8, &n);
	assert_int_equal(n, 4);
	assert_memory_equal(d, "foob", 4);
	free(d);
	d = b64std_decode("+/+/", 4, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(d, "\xfb\xff\xbf", 3);
	free(d);
	assert_null(b64std_decode("Zm9vYg", 6, &n));	/* padding required */
	assert_null(b64std_decode("Zm9vYh==", 8, &n));	/* bits under pad */
	assert_null(b64std_decode("Zg=a", 4, &n));
	assert_null(b64std_decode("Z===", 4, &n));
	assert_null(b64std_decode("-_-_", 4, &n));	/* url alphabet */
	assert_null(b64std_decode("", 0, &n));
}

static void
test_ct_equal(void **state)
{
	(void)state;
	assert_true(ct_equal("abcd", "abcd", 4));
	assert_false(ct_equal("abcd", "abce", 4));
	assert_true(ct_streq("secret", "secret"));
	assert_false(ct_streq("secret", "secre"));
	assert_false(ct_streq("", "x"));
}

static void
test_rand_token(void **state)
{
	char a[RAND_TOKEN_LEN], b[RAND_TOKEN_LEN];

	(void)state;
	assert_int_equal(rand_token(a), 0);
	assert_int_equal(rand_token(b), 0);
	assert_int_equal(strlen(a), 43);
	assert_true(str_is_token(a, 43, "-_"));
	assert_string_not_equal(a, b);
}

static int64_t
fixed_clock(void)
{
	return 1000;
}

static void
test_clock_injection(void **state)
{
	(void)state;
	clock_set(fixed_clock);
	assert_int_equal(clock_now(), 1000);
	clock_set(NULL);
	assert_true(clock_now() > 1700000000);
}

static void
test_str_helpers(void **state)
{
	char small[4];

	(void)state;
	assert_int_equal(str_copy(small, "abcdef", sizeof(small)), 6);
	assert_string_equal(small, "abc");
	assert_true(str_is_token("a-b.c", 10, "-."));
	assert_false(str_is_token("a b", 10, "-."));
	assert_false(str_is_token("", 10, NULL));
	assert_false(str_is_token("abcdef", 5, NULL));
}

static void
test_file_write_excl(void **state)
{
	char dir[] = "/tmp/kleidi-util-XXXXXX", path[64];
	struct stat st;
	size_t len;
	char *data;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(file_write(path, "one", 3, 0600, 1), 0);
	assert_int_equal(file_write(path, "two", 3, 0600, 1), -1);
	data = file_read(path, 100, &len);
	assert_string_equal(data, "one");	/* excl kept the first */
	free(data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(file_write(path, "three", 5, 0600, 0), 0);
	assert_null(file_read(path, 4, &len));	/* over the limit */
	unlink(path);
	rmdir(dir);
}

/* ---- the pool: bounded queue refuses past its limit */
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static atomic_int ran;

static void
blocked_job(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate);	/* held by the test */
	pthread_mutex_unlock(&gate);
	atomic_fetch_add(&ran, 1);
}

static void
test_pool_bounded(void **state)
{
	struct pool *p = pool_new(1, 2);
	unsigned waiting, running;
	int accepted = 0, i;

	(void)state;
	assert_non_null(p);
	pthread_mutex_lock(&gate);
	/* One job runs (blocked), two wait; the rest are refused. A job may
	 * not have been picked up yet when we submit, so accept 2 or 3. */
	for (i = 0; i < 10; i++)
		accepted += pool_submit(p, blocked_job, NULL) == 0;
	assert_in_range(accepted, 2, 3);
	pool_load(p, &waiting, &running);
	assert_in_range(waiting, 1, 2);
	/* The first job is taken up (bounded wait), then runs, blocked. */
	for (i = 0; i < 5000 && running == 0; i++) {
		usleep(1000);
		pool_load(p, &waiting, &running);
	}
	assert_int_equal(running, 1);
	assert_int_equal(waiting, (unsigned)accepted - 1);
	pthread_mutex_unlock(&gate);
	pool_free(p);		/* drains the queue */
	assert_int_equal(atomic_load(&ran), accepted);
	assert_null(pool_new(1, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_buf_escape),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_b64std),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_rand_token),
		cmocka_unit_test(test_clock_injection),
		cmocka_unit_test(test_str_helpers),
		cmocka_unit_test(test_file_write_excl),
		cmocka_unit_test(test_pool_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
