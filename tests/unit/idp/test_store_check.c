/*
 * test_store_check.c - store_check (issue 8): silent on a store the
 * services wrote, and names each kind of damage planted with the raw
 * table access: a missing index entry, an index entry for nobody, an
 * index that disagrees with its record, a lost expiry entry, a record
 * that does not decode; and store_backup_fd writes a copy that opens and
 * checks clean.
 */
#include <fcntl.h>
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

#include "store/store_int.h"
#include "util/util.h"

static char dir[64];
static struct store *st;
static char found[16][512];
static size_t nfound;

static void
collect(const char *what, void *arg)
{
	(void)arg;
	if (nfound < 16)
		str_copy(found[nfound++], what, sizeof(found[0]));
}

static size_t
check(void)
{
	size_t n = 0;

	nfound = 0;
	assert_int_equal(store_check(st, collect, NULL, &n), STORE_OK);
	return n;
}

static int
found_has(const char *needle)
{
	size_t i;

	for (i = 0; i < nfound; i++)
		if (strstr(found[i], needle) != NULL)
			return 1;
	return 0;
}

static void
fill(void)
{
	struct store_txn *txn;
	struct user u;
	struct session s;
	struct refresh_token r;
	struct counter c;
	struct org o;

	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	memset(&o, 0, sizeof(o));
	str_copy(o.code, "town", sizeof(o.code));
	assert_int_equal(store_org_put(txn, &o), STORE_OK);
	memset(&u, 0, sizeof(u));
	str_copy(u.id, "AAAAAAAAAAAAAAAAAAAAAA", sizeof(u.id));
	str_copy(u.username, "maria", sizeof(u.username));
	str_copy(u.org, "town", sizeof(u.org));
	str_copy(u.registry_no, "1001", sizeof(u.registry_no));
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	memset(&s, 0, sizeof(s));
	memset(s.id_hash, 7, sizeof(s.id_hash));
	str_copy(s.user_id, u.id, sizeof(s.user_id));
	s.expires = 4000000000;
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	memset(&r, 0, sizeof(r));
	memset(r.hash, 9, sizeof(r.hash));
	str_copy(r.family, "fam1", sizeof(r.family));
	str_copy(r.client_id, "payroll", sizeof(r.client_id));
	str_copy(r.user_id, u.id, sizeof(r.user_id));
	r.expires = 4000000000;
	assert_int_equal(store_refresh_put(txn, &r), STORE_OK);
	memset(&c, 0, sizeof(c));
	str_copy(c.key, "sms:town:2026-11", sizeof(c.key));
	c.count = 3;
	c.expires = 4100000000;
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	str_copy(dir, "/tmp/kleidi-check-XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_create(dir, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_open(dir, &st, err, sizeof(err)), STORE_OK);
	fill();
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_clean(void **state)
{
	(void)state;
	assert_int_equal(check(), 0);
}

static void
test_backup_copy(void **state)
{
	char path[256], copy[128], err[256];
	struct store *cs = NULL;
	struct store *keep = st;
	int fd;

	(void)state;
	snprintf(copy, sizeof(copy), "%s/copy", dir);
	assert_int_equal(mkdir(copy, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", copy, store_data_file());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(store_backup_fd(st, fd), STORE_OK);
	close(fd);
	assert_int_equal(store_open(copy, &cs, err, sizeof(err)), STORE_OK);
	st = cs;
	assert_int_equal(check(), 0);
	st = keep;
	store_close(cs);
}

static void
test_damage(void **state)
{
	struct store_txn *txn;
	unsigned char h7[HASH_SIZE];
	unsigned char k[8 + 1 + HASH_SIZE];
	uint64_t u = (uint64_t)4000000000 ^ ((uint64_t)1 << 63);
	int i;

	(void)state;
	memset(h7, 7, sizeof(h7));
	for (i = 7; i >= 0; i--) {
		k[i] = (unsigned char)u;
		u >>= 8;
	}
	k[8] = STORE_TBL_SESSION;
	memcpy(k + 9, h7, HASH_SIZE);
	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	/* maria's username entry gone; one for nobody; a regno entry that
	 * names maria under another number; the session's expiry lost; a
	 * user record that does not decode. */
	assert_int_equal(store_raw_del(txn, STORE_TBL_USERNAME, "maria", 6),
	    STORE_OK);
	assert_int_equal(store_raw_put(txn, STORE_TBL_USER_ORG,
	    "town\0BBBBBBBBBBBBBBBBBBBBBB", 28, NULL, 0, 0), STORE_OK);
	assert_int_equal(store_raw_put(txn, STORE_TBL_USER_REGNO, "2002", 5,
	    "AAAAAAAAAAAAAAAAAAAAAA", 23, 0), STORE_OK);
	assert_int_equal(store_raw_del(txn, STORE_TBL_EXPIRY, k, sizeof(k)),
	    STORE_OK);
	assert_int_equal(store_raw_put(txn, STORE_TBL_USER, "CCCC", 5,
	    "\x01\x03\xff", 3, 0), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_true(check() >= 5);
	assert_true(found_has("username maria is not indexed"));
	assert_true(found_has("BBBBBBBBBBBBBBBBBBBBBB, who does not exist"));
	assert_true(found_has("registry number 2002"));
	assert_true(found_has("no expiry entry"));
	assert_true(found_has("does not decode"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_backup_copy),
		cmocka_unit_test(test_damage),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
