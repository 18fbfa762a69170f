/*
 * test_store.c - the store against a real LMDB environment in a temporary
 * folder: lifecycle, every record type, the indexes, the sweep,
 * transactions, and the codec's handling of damaged and newer records.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_int.h"
#include "util/util.h"

struct fx {
	char tmp[64];
	char dir[128];
	struct store *st;
};

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[256];

	assert_non_null(fx);
	(void)snprintf(fx->tmp, sizeof(fx->tmp), "/tmp/kleidi-store-XXXXXX");
	assert_non_null(mkdtemp(fx->tmp));
	(void)snprintf(fx->dir, sizeof(fx->dir), "%s/store", fx->tmp);
	assert_int_equal(store_create(fx->dir, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_open(fx->dir, &fx->st, err, sizeof(err)),
	    STORE_OK);
	*state = fx;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	assert_int_equal(nftw(fx->tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS),
	    0);
	free(fx);
	return 0;
}

static struct store_txn *
begin(struct store *st, int write)
{
	struct store_txn *txn = NULL;

	assert_int_equal(store_begin(st, write, &txn), STORE_OK);
	assert_non_null(txn);
	return txn;
}

/* Appends s and a comma to the list in out (size bytes). */
static void
add(char *out, size_t size, const char *s)
{
	size_t n = strlen(out);

	assert_true(n < size);
	assert_true(snprintf(out + n, size - n, "%s,", s) < (int)(size - n));
}

/* Fills a string field to its full length, distinct per seed. */
static void
fill(char *s, size_t size, unsigned seed)
{
	size_t i;

	for (i = 0; i + 1 < size; i++)
		s[i] = (char)('a' + (i * 7 + seed) % 26);
	s[size - 1] = '\0';
}

static void
fill_bytes(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + seed + 1);
}

static void
make_user(struct user *u, const char *id, const char *username,
    const char *org)
{
	memset(u, 0, sizeof(*u));
	(void)snprintf(u->id, sizeof(u->id), "%s", id);
	(void)snprintf(u->username, sizeof(u->username), "%s", username);
	(void)snprintf(u->org, sizeof(u->org), "%s", org);
	(void)snprintf(u->name, sizeof(u->name), "Name of %s", username);
	u->created = 1700000000;
}

static void
make_session(struct session *s, unsigned seed, const char *user_id,
    int64_t expires)
{
	memset(s, 0, sizeof(*s));
	fill_bytes(s->id_hash, sizeof(s->id_hash), seed);
	(void)snprintf(s->user_id, sizeof(s->user_id), "%s", user_id);
	s->created = 10;
	s->expires = expires;
}

static int
count_each(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
count_table(struct store *st, enum store_table t)
{
	struct store_txn *txn = begin(st, 0);
	size_t n = 0;

	assert_int_equal(store_raw_iter(txn, t, NULL, 0, count_each, &n),
	    STORE_OK);
	store_abort(txn);
	return n;
}

static size_t
count_table_txn(struct store_txn *txn, enum store_table t)
{
	size_t n = 0;

	assert_int_equal(store_raw_iter(txn, t, NULL, 0, count_each, &n),
	    STORE_OK);
	return n;
}

/* ---- lifecycle */

static void
test_create_open_close(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn;
	struct stat sb;
	char path[256], v[64];

	assert_int_equal(stat(fx->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	(void)snprintf(path, sizeof(path), "%s/data.mdb", fx->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);

	txn = begin(fx->st, 0);
	assert_int_equal(store_meta_get(txn, "schema_version", v, sizeof(v)),
	    STORE_OK);
	assert_string_equal(v, "1");
	store_abort(txn);

	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(store_open(fx->dir, &fx->st, NULL, 0), STORE_OK);
	store_close(NULL);
	store_abort(NULL);
}

static void
test_open_missing(void **state)
{
	struct fx *fx = *state;
	struct store *st = (struct store *)1;
	char err[256] = "", dir[256];

	(void)snprintf(dir, sizeof(dir), "%s/nothing", fx->tmp);
	assert_int_equal(store_open(dir, &st, err, sizeof(err)),
	    STORE_NOTFOUND);
	assert_null(st);
	assert_non_null(strstr(err, "no store"));

	/* An empty folder is no store either, and opening it creates none. */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(store_open(dir, &st, err, sizeof(err)),
	    STORE_NOTFOUND);
	assert_null(st);
	assert_int_equal(store_open(NULL, &st, err, sizeof(err)), STORE_ERROR);
}

static void
test_create_exists(void **state)
{
	struct fx *fx = *state;
	char err[256] = "", file[256];

	assert_int_equal(store_create(fx->dir, err, sizeof(err)),
	    STORE_EXISTS);
	assert_non_null(strstr(err, "already exists"));
	/* A plain file where the folder should be. */
	(void)snprintf(file, sizeof(file), "%s/file", fx->tmp);
	assert_int_equal(file_write(file, "x", 1, 0600, 1), 0);
	assert_int_equal(store_create(file, err, sizeof(err)), STORE_ERROR);
}

static void
test_open_twice_refused(void **state)
{
	struct fx *fx = *state;
	struct store *st = NULL;
	char err[256] = "";

	assert_int_equal(store_open(fx->dir, &st, err, sizeof(err)),
	    STORE_ERROR);
	assert_null(st);
	assert_non_null(strstr(err, "already open"));
}

static void
test_schema_mismatch(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	static const char key[] = "schema_version";
	char err[256] = "";

	/* Services cannot rewrite it... */
	assert_int_equal(store_meta_put(txn, "schema_version", "2"),
	    STORE_ERROR);
	/* ...so plant a newer version under the API. */
	assert_int_equal(store_raw_put(txn, STORE_TBL_META, key, sizeof(key),
	    "2", 1, 0), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(store_open(fx->dir, &fx->st, err, sizeof(err)),
	    STORE_ERROR);
	assert_null(fx->st);
	assert_non_null(strstr(err, "schema version 2"));
	assert_non_null(strstr(err, "needs version 1"));
}

static void
test_meta(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	char big[1100], v[1100], small[4];

	assert_int_equal(store_meta_put(txn, "issuer", "https://sso.example"),
	    STORE_OK);
	assert_int_equal(store_meta_get(txn, "issuer", v, sizeof(v)),
	    STORE_OK);
	assert_string_equal(v, "https://sso.example");
	assert_int_equal(store_meta_get(txn, "issuer", small, sizeof(small)),
	    STORE_ERROR);
	assert_int_equal(store_meta_get(txn, "nothing", v, sizeof(v)),
	    STORE_NOTFOUND);
	fill(big, 1025, 1);
	assert_int_equal(store_meta_put(txn, "k", big), STORE_OK);
	fill(big, sizeof(big), 1);
	assert_int_equal(store_meta_put(txn, "k", big), STORE_ERROR);
	assert_int_equal(store_meta_put(txn, "", "x"), STORE_ERROR);
	assert_int_equal(store_commit(txn), STORE_OK);
}

/* ---- records */

static int
org_collect(const struct org *o, void *arg)
{
	add(arg, 256, o->code);
	return 0;
}

static int
name_collect(const char *name, void *arg)
{
	add(arg, 256, name);
	return 0;
}

static void
test_org_and_subs(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct org o, got;
	char list[256] = "";

	memset(&o, 0, sizeof(o));
	fill(o.code, sizeof(o.code), 1);
	fill(o.name, sizeof(o.name), 2);
	o.created = -12345;
	o.sms_monthly_cap = 987654321012;
	assert_int_equal(store_org_put(txn, &o), STORE_OK);
	assert_int_equal(store_org_get(txn, o.code, &got), STORE_OK);
	assert_memory_equal(&o, &got, sizeof(o));
	assert_int_equal(store_org_get(txn, "nope", &got), STORE_NOTFOUND);

	memset(&o, 0, sizeof(o));
	(void)snprintf(o.code, sizeof(o.code), "%s", "athens");
	assert_int_equal(store_org_put(txn, &o), STORE_OK);
	(void)snprintf(o.code, sizeof(o.code), "%s", "ab");
	assert_int_equal(store_org_put(txn, &o), STORE_OK);
	assert_int_equal(store_org_list(txn, org_collect, list), STORE_OK);
	fill(o.code, sizeof(o.code), 1);	/* "bip...": sorts last */
	assert_int_equal(strncmp(list, "ab,athens,", 10), 0);
	assert_int_equal(strncmp(list + 10, o.code, strlen(o.code)), 0);
	assert_string_equal(list + 10 + strlen(o.code), ",");

	assert_int_equal(store_sub_put(txn, "athens", "payroll"), STORE_OK);
	assert_int_equal(store_sub_put(txn, "athens", "water"), STORE_OK);
	assert_int_equal(store_sub_put(txn, "ab", "other"), STORE_OK);
	assert_int_equal(store_sub_get(txn, "athens", "water"), STORE_OK);
	assert_int_equal(store_sub_get(txn, "ab", "water"), STORE_NOTFOUND);
	list[0] = '\0';
	assert_int_equal(store_sub_list(txn, "athens", name_collect, list),
	    STORE_OK);
	assert_string_equal(list, "payroll,water,");
	assert_int_equal(store_sub_del(txn, "athens", "payroll"), STORE_OK);
	assert_int_equal(store_sub_del(txn, "athens", "payroll"),
	    STORE_NOTFOUND);
	list[0] = '\0';
	assert_int_equal(store_sub_list(txn, "athens", name_collect, list),
	    STORE_OK);
	assert_string_equal(list, "water,");
	assert_int_equal(store_sub_put(txn, "", "x"), STORE_ERROR);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static void
fill_app(struct app *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	fill(a->client_id, sizeof(a->client_id), 1);
	fill(a->name, sizeof(a->name), 2);
	a->public_client = 1;
	fill_bytes(a->secret_hash, sizeof(a->secret_hash), 3);
	for (i = 0; i < APP_URIS_MAX; i++) {
		fill(a->redirect_uris[i], sizeof(a->redirect_uris[i]), 10 + i);
		fill(a->post_logout_uris[i], sizeof(a->post_logout_uris[i]),
		    20 + i);
	}
	/* An empty element in the middle must survive: the count is kept. */
	memset(a->post_logout_uris[1], 0, sizeof(a->post_logout_uris[1]));
	a->n_redirect_uris = APP_URIS_MAX;
	a->n_post_logout_uris = 3;
	memset(a->post_logout_uris[3], 0, sizeof(a->post_logout_uris[3]) *
	    (APP_URIS_MAX - 3));
	a->audience = AUD_BOTH;
	a->require_2fa = -7;
	a->id_token_alg = INT_MAX;
	a->created = INT64_MIN;
}

static void
test_app(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct app *a = calloc(1, sizeof(*a)), *got = calloc(1, sizeof(*got));

	assert_non_null(a);
	assert_non_null(got);
	fill_app(a);
	assert_int_equal(store_app_put(txn, a), STORE_OK);
	assert_int_equal(store_app_get(txn, a->client_id, got), STORE_OK);
	assert_memory_equal(a, got, sizeof(*a));

	a->n_redirect_uris = APP_URIS_MAX + 1;
	assert_int_equal(store_app_put(txn, a), STORE_ERROR);
	a->n_redirect_uris = -1;
	assert_int_equal(store_app_put(txn, a), STORE_ERROR);
	a->n_redirect_uris = 2;
	memset(a->redirect_uris[1], 'x', URI_SIZE);
	assert_int_equal(store_app_put(txn, a), STORE_ERROR);
	/* The refused puts changed nothing. */
	assert_int_equal(store_app_get(txn, a->client_id, got), STORE_OK);
	assert_int_equal(got->n_redirect_uris, APP_URIS_MAX);
	assert_int_equal(store_commit(txn), STORE_OK);
	free(a);
	free(got);
}

static void
fill_full_user(struct user *u)
{
	memset(u, 0, sizeof(*u));
	fill(u->id, 23, 1);
	fill(u->username, sizeof(u->username), 2);
	u->type = USER_CITIZEN;
	fill(u->org, sizeof(u->org), 3);
	fill(u->name, sizeof(u->name), 4);
	fill(u->email, sizeof(u->email), 5);
	fill(u->phone, sizeof(u->phone), 6);
	fill(u->password, sizeof(u->password), 7);
	u->disabled = 1;
	u->created = 1700000001;
	u->updated = INT64_MAX;
	fill(u->registry_no, sizeof(u->registry_no), 8);
	fill(u->position, sizeof(u->position), 9);
	u->departed = INT64_MIN;
}

static void
test_user_roundtrip(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct user u, got;

	fill_full_user(&u);
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	assert_int_equal(store_user_get(txn, u.id, &got), STORE_OK);
	assert_memory_equal(&u, &got, sizeof(u));
	assert_int_equal(store_user_get_by_name(txn, u.username, &got),
	    STORE_OK);
	assert_memory_equal(&u, &got, sizeof(u));
	assert_int_equal(store_commit(txn), STORE_OK);

	/* And from a fresh read transaction after commit. */
	txn = begin(fx->st, 0);
	assert_int_equal(store_user_get(txn, u.id, &got), STORE_OK);
	assert_memory_equal(&u, &got, sizeof(u));
	store_abort(txn);
}

static void
test_user_unique_and_rename(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct user a, b, got;

	make_user(&a, "id-a", "alice", "athens");
	make_user(&b, "id-b", "bob", "athens");
	assert_int_equal(store_user_add(txn, &a), STORE_OK);
	assert_int_equal(store_user_add(txn, &b), STORE_OK);

	/* Taken id, taken username: refused, nothing changed. */
	make_user(&got, "id-a", "carol", "athens");
	assert_int_equal(store_user_add(txn, &got), STORE_EXISTS);
	assert_int_equal(store_user_get_by_name(txn, "carol", &got),
	    STORE_NOTFOUND);
	make_user(&got, "id-c", "alice", "athens");
	assert_int_equal(store_user_add(txn, &got), STORE_EXISTS);
	assert_int_equal(store_user_get(txn, "id-c", &got), STORE_NOTFOUND);

	/* Rename: the index moves with it. */
	(void)snprintf(a.username, sizeof(a.username), "%s", "alicia");
	a.updated = 5;
	assert_int_equal(store_user_update(txn, &a), STORE_OK);
	assert_int_equal(store_user_get_by_name(txn, "alice", &got),
	    STORE_NOTFOUND);
	assert_int_equal(store_user_get_by_name(txn, "alicia", &got),
	    STORE_OK);
	assert_string_equal(got.id, "id-a");
	assert_int_equal(got.updated, 5);
	/* The old name is free again. */
	make_user(&got, "id-c", "alice", "athens");
	assert_int_equal(store_user_add(txn, &got), STORE_OK);

	/* Renaming onto a taken name fails and leaves both as they were. */
	(void)snprintf(a.username, sizeof(a.username), "%s", "bob");
	assert_int_equal(store_user_update(txn, &a), STORE_EXISTS);
	assert_int_equal(store_user_get_by_name(txn, "bob", &got), STORE_OK);
	assert_string_equal(got.id, "id-b");
	assert_int_equal(store_user_get(txn, "id-a", &got), STORE_OK);
	assert_string_equal(got.username, "alicia");

	make_user(&got, "id-z", "zed", "athens");
	assert_int_equal(store_user_update(txn, &got), STORE_NOTFOUND);
	assert_int_equal(store_user_get_by_name(txn, "zed", &got),
	    STORE_NOTFOUND);
	assert_int_equal(count_table(fx->st, STORE_TBL_USERNAME), 0);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_USERNAME), 3);
}

static void
test_user_regno_index(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct user a, b, got;

	make_user(&a, "id-a", "alice", "athens");
	(void)snprintf(a.registry_no, sizeof(a.registry_no), "%s", "1001");
	make_user(&b, "id-b", "bob", "athens");	/* no registry number */
	assert_int_equal(store_user_add(txn, &a), STORE_OK);
	assert_int_equal(store_user_add(txn, &b), STORE_OK);
	assert_int_equal(store_user_get_by_regno(txn, "1001", &got),
	    STORE_OK);
	assert_string_equal(got.id, "id-a");
	assert_int_equal(store_user_get_by_regno(txn, "", &got),
	    STORE_NOTFOUND);
	assert_int_equal(store_user_get_by_regno(txn, "1002", &got),
	    STORE_NOTFOUND);

	/* Unique: a second user with the number is refused before any
	 * write, under a new id or by an update. */
	make_user(&got, "id-c", "carol", "athens");
	(void)snprintf(got.registry_no, sizeof(got.registry_no), "%s", "1001");
	assert_int_equal(store_user_add(txn, &got), STORE_EXISTS);
	assert_int_equal(store_user_get(txn, "id-c", &got), STORE_NOTFOUND);
	(void)snprintf(b.registry_no, sizeof(b.registry_no), "%s", "1001");
	assert_int_equal(store_user_update(txn, &b), STORE_EXISTS);

	/* A new number moves the entry; clearing it drops the entry. */
	(void)snprintf(a.registry_no, sizeof(a.registry_no), "%s", "2001");
	assert_int_equal(store_user_update(txn, &a), STORE_OK);
	assert_int_equal(store_user_get_by_regno(txn, "1001", &got),
	    STORE_NOTFOUND);
	assert_int_equal(store_user_get_by_regno(txn, "2001", &got),
	    STORE_OK);
	assert_string_equal(got.id, "id-a");
	assert_int_equal(store_user_update(txn, &b), STORE_OK);
	assert_int_equal(store_user_get_by_regno(txn, "1001", &got),
	    STORE_OK);
	assert_string_equal(got.id, "id-b");
	b.registry_no[0] = '\0';
	assert_int_equal(store_user_update(txn, &b), STORE_OK);
	assert_int_equal(store_user_get_by_regno(txn, "1001", &got),
	    STORE_NOTFOUND);
	/* Other fields change without touching the index. */
	a.disabled = 1;
	a.departed = 1234;
	assert_int_equal(store_user_update(txn, &a), STORE_OK);
	assert_int_equal(store_user_get_by_regno(txn, "2001", &got),
	    STORE_OK);
	assert_int_equal(got.departed, 1234);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_USER_REGNO), 1);
}

/* A damaged index entry is an error, never another person. */
static void
test_user_regno_stale(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct user a, got;

	make_user(&a, "id-a", "alice", "athens");
	(void)snprintf(a.registry_no, sizeof(a.registry_no), "%s", "1001");
	assert_int_equal(store_user_add(txn, &a), STORE_OK);
	assert_int_equal(store_raw_put(txn, STORE_TBL_USER_REGNO, "9999", 5,
	    "id-a", 5, 0), STORE_OK);
	assert_int_equal(store_user_get_by_regno(txn, "9999", &got),
	    STORE_ERROR);
	assert_string_equal(got.id, "");
	store_abort(txn);
}

static void
make_sched(struct sched_change *s, const char *regno, int64_t when,
    const char *org)
{
	memset(s, 0, sizeof(*s));
	(void)snprintf(s->registry_no, sizeof(s->registry_no), "%s", regno);
	(void)snprintf(s->org, sizeof(s->org), "%s", org);
	(void)snprintf(s->family_name, sizeof(s->family_name), "%s", "Doe");
	s->effective = when;
	s->created = 7;
}

static int
sched_collect(const struct sched_change *s, void *arg)
{
	char one[64];

	(void)snprintf(one, sizeof(one), "%s@%lld", s->registry_no,
	    (long long)s->effective);
	add(arg, 512, one);
	return 0;
}

static int
sched_collect_del(const struct sched_change *s, void *arg)
{
	struct store_txn **txn = arg;

	return store_sched_del(*txn, s->registry_no) != STORE_OK;
}

static void
test_sched(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct sched_change s, got;
	char list[512] = "";

	make_sched(&s, "1001", 300, "athens");
	assert_int_equal(store_sched_put(txn, &s), STORE_OK);
	make_sched(&s, "1002", 100, "sparta");
	assert_int_equal(store_sched_put(txn, &s), STORE_OK);
	make_sched(&s, "1003", 200, "corfu");
	assert_int_equal(store_sched_put(txn, &s), STORE_OK);
	assert_int_equal(store_sched_get(txn, "1002", &got), STORE_OK);
	assert_string_equal(got.family_name, "Doe");
	assert_string_equal(got.org, "sparta");
	assert_int_equal(got.effective, 100);
	assert_int_equal(store_sched_get(txn, "9", &got), STORE_NOTFOUND);

	/* Replacing moves the change to its new time. */
	make_sched(&s, "1001", 50, "rhodes");
	assert_int_equal(store_sched_put(txn, &s), STORE_OK);
	assert_int_equal(store_sched_list_due(txn, 199, sched_collect, list),
	    STORE_OK);
	assert_string_equal(list, "1001@50,1002@100,");
	list[0] = '\0';
	assert_int_equal(store_sched_list_due(txn, 1000, sched_collect, list),
	    STORE_OK);
	assert_string_equal(list, "1001@50,1002@100,1003@200,");
	assert_int_equal(store_sched_get(txn, "1001", &got), STORE_OK);
	assert_string_equal(got.org, "rhodes");
	assert_int_equal(count_table(fx->st, STORE_TBL_SCHED), 0);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_SCHED), 3);
	assert_int_equal(count_table(fx->st, STORE_TBL_SCHED_REGNO), 3);

	/* The callback deletes what it is given; the rest stays. */
	txn = begin(fx->st, 1);
	assert_int_equal(store_sched_list_due(txn, 100, sched_collect_del,
	    &txn), STORE_OK);
	assert_int_equal(store_sched_get(txn, "1001", &got), STORE_NOTFOUND);
	assert_int_equal(store_sched_del(txn, "1002"), STORE_NOTFOUND);
	assert_int_equal(store_sched_get(txn, "1003", &got), STORE_OK);
	make_sched(&s, "1004", 0, "athens");
	assert_int_equal(store_sched_put(txn, &s), STORE_ERROR);
	make_sched(&s, "", 10, "athens");
	assert_int_equal(store_sched_put(txn, &s), STORE_ERROR);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_SCHED), 1);
	assert_int_equal(count_table(fx->st, STORE_TBL_SCHED_REGNO), 1);
}

struct ids {
	char s[512];
	int stop_after;
	int n;
};

static int
user_collect(const struct user *u, void *arg)
{
	struct ids *ids = arg;

	add(ids->s, sizeof(ids->s), u->id);
	return ++ids->n == ids->stop_after;
}

static void
test_user_list_by_org(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct user u;
	struct ids ids;

	make_user(&u, "u1", "n1", "athens");
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	make_user(&u, "u2", "n2", "sparta");
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	make_user(&u, "u3", "n3", "athens");
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	make_user(&u, "u4", "n4", "");	/* a citizen */
	u.type = USER_CITIZEN;
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	make_user(&u, "u5", "n5", "athens2");	/* shares a prefix */
	assert_int_equal(store_user_add(txn, &u), STORE_OK);

	memset(&ids, 0, sizeof(ids));
	assert_int_equal(store_user_list(txn, "athens", user_collect, &ids),
	    STORE_OK);
	assert_string_equal(ids.s, "u1,u3,");
	memset(&ids, 0, sizeof(ids));
	assert_int_equal(store_user_list(txn, NULL, user_collect, &ids),
	    STORE_OK);
	assert_string_equal(ids.s, "u1,u2,u3,u4,u5,");
	memset(&ids, 0, sizeof(ids));
	ids.stop_after = 2;
	assert_int_equal(store_user_list(txn, NULL, user_collect, &ids),
	    STORE_OK);
	assert_string_equal(ids.s, "u1,u2,");

	/* A transfer moves the user to the other org's list. */
	make_user(&u, "u1", "n1", "sparta");
	assert_int_equal(store_user_update(txn, &u), STORE_OK);
	memset(&ids, 0, sizeof(ids));
	assert_int_equal(store_user_list(txn, "athens", user_collect, &ids),
	    STORE_OK);
	assert_string_equal(ids.s, "u3,");
	memset(&ids, 0, sizeof(ids));
	assert_int_equal(store_user_list(txn, "sparta", user_collect, &ids),
	    STORE_OK);
	assert_string_equal(ids.s, "u1,u2,");
	memset(&ids, 0, sizeof(ids));
	assert_int_equal(store_user_list(txn, "nowhere", user_collect, &ids),
	    STORE_OK);
	assert_string_equal(ids.s, "");
	assert_int_equal(store_commit(txn), STORE_OK);
}

static int
grant_collect(const struct grant *g, void *arg)
{
	char one[256];

	(void)snprintf(one, sizeof(one), "%s/%s/%s", g->app, g->org, g->role);
	add(arg, 512, one);
	return 0;
}

static void
put_grant(struct store_txn *txn, const char *user, const char *app,
    const char *org, const char *role)
{
	struct grant g;

	memset(&g, 0, sizeof(g));
	(void)snprintf(g.user_id, sizeof(g.user_id), "%s", user);
	(void)snprintf(g.app, sizeof(g.app), "%s", app);
	(void)snprintf(g.org, sizeof(g.org), "%s", org);
	(void)snprintf(g.role, sizeof(g.role), "%s", role);
	g.created = 42;
	assert_int_equal(store_grant_put(txn, &g), STORE_OK);
}

static void
grants_of(struct store_txn *txn, const char *user, const char *app,
    const char *org, const char *want)
{
	char s[512] = "";

	assert_int_equal(store_grant_list(txn, user, app, org, grant_collect,
	    s), STORE_OK);
	assert_string_equal(s, want);
}

static void
test_grants(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);

	put_grant(txn, "u1", "payroll", "athens", "clerk");
	put_grant(txn, "u1", "payroll", "athens", "admin");
	put_grant(txn, "u1", "payroll", "sparta", "clerk");
	put_grant(txn, "u1", "water", "athens", "reader");
	put_grant(txn, "u10", "payroll", "athens", "clerk");
	put_grant(txn, "u1", "payroll", "athens", "clerk");	/* again */
	grants_of(txn, "u1", NULL, NULL, "payroll/athens/admin,"
	    "payroll/athens/clerk,payroll/sparta/clerk,water/athens/reader,");
	grants_of(txn, "u1", "payroll", NULL, "payroll/athens/admin,"
	    "payroll/athens/clerk,payroll/sparta/clerk,");
	grants_of(txn, "u1", NULL, "athens", "payroll/athens/admin,"
	    "payroll/athens/clerk,water/athens/reader,");
	grants_of(txn, "u1", "payroll", "sparta", "payroll/sparta/clerk,");
	grants_of(txn, "u10", NULL, NULL, "payroll/athens/clerk,");
	grants_of(txn, "u2", NULL, NULL, "");

	assert_int_equal(store_grant_del(txn, "u1", "payroll", "athens",
	    "clerk"), STORE_OK);
	assert_int_equal(store_grant_del(txn, "u1", "payroll", "athens",
	    "clerk"), STORE_NOTFOUND);
	assert_int_equal(store_grant_del(txn, "u1", "nope", "athens",
	    "clerk"), STORE_NOTFOUND);
	grants_of(txn, "u1", "payroll", "athens", "payroll/athens/admin,");
	assert_int_equal(store_commit(txn), STORE_OK);
}

static int
grant_keep(const struct grant *g, void *arg)
{
	memcpy(arg, g, sizeof(*g));
	return 1;
}

static void
test_grant_roundtrip(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct grant g, got;

	memset(&g, 0, sizeof(g));
	fill(g.user_id, sizeof(g.user_id), 1);
	fill(g.app, sizeof(g.app), 2);
	fill(g.org, sizeof(g.org), 3);
	fill(g.role, sizeof(g.role), 4);
	g.created = -99;
	assert_int_equal(store_grant_put(txn, &g), STORE_OK);
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_grant_list(txn, g.user_id, g.app, g.org,
	    grant_keep, &got), STORE_OK);
	assert_memory_equal(&g, &got, sizeof(g));
	memset(g.role, 'r', sizeof(g.role));
	assert_int_equal(store_grant_put(txn, &g), STORE_ERROR);
	store_abort(txn);
}

/* ---- sessions, codes, flows */

static void
test_session_roundtrip(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct session s, got;

	memset(&s, 0, sizeof(s));
	fill_bytes(s.id_hash, sizeof(s.id_hash), 1);
	fill(s.user_id, sizeof(s.user_id), 2);
	s.created = 1;
	s.expires = 2;
	s.auth_time = 3;
	s.amr = 0xdeadbeef;
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	assert_int_equal(store_session_get(txn, s.id_hash, &got), STORE_OK);
	assert_memory_equal(&s, &got, sizeof(s));
	assert_int_equal(store_session_del(txn, s.id_hash), STORE_OK);
	assert_int_equal(store_session_get(txn, s.id_hash, &got),
	    STORE_NOTFOUND);
	assert_int_equal(store_session_del(txn, s.id_hash), STORE_NOTFOUND);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 0);
	assert_int_equal(count_table(fx->st, STORE_TBL_SESSION_USER), 0);
}

static void
test_session_del_user(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct session s, got;
	size_t n = 99;
	unsigned i;

	for (i = 0; i < 10; i++) {
		make_session(&s, i, i % 3 == 0 ? "alice" : (i % 3 == 1 ?
		    "bob" : "alice2"), 1000 + i);
		assert_int_equal(store_session_put(txn, &s), STORE_OK);
	}
	/* Sessions 0, 3, 6, 9 are alice's. */
	assert_int_equal(store_session_del_user(txn, "alice", &n), STORE_OK);
	assert_int_equal(n, 4);
	for (i = 0; i < 10; i++) {
		make_session(&s, i, "", 0);
		assert_int_equal(store_session_get(txn, s.id_hash, &got),
		    i % 3 == 0 ? STORE_NOTFOUND : STORE_OK);
	}
	assert_int_equal(store_session_del_user(txn, "alice", &n), STORE_OK);
	assert_int_equal(n, 0);

	/* A session handed to another user leaves the first one's list. */
	make_session(&s, 1, "carol", 1001);
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	assert_int_equal(store_session_del_user(txn, "bob", &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_session_get(txn, s.id_hash, &got), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_SESSION), 4);
	assert_int_equal(count_table(fx->st, STORE_TBL_SESSION_USER), 4);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 4);
}

static void
fill_code(struct authcode *c, unsigned seed, int64_t expires)
{
	memset(c, 0, sizeof(*c));
	fill_bytes(c->hash, sizeof(c->hash), seed);
	fill(c->client_id, sizeof(c->client_id), 1);
	fill(c->redirect_uri, sizeof(c->redirect_uri), 2);
	fill(c->user_id, sizeof(c->user_id), 3);
	fill_bytes(c->session_hash, sizeof(c->session_hash), seed + 100);
	fill(c->nonce, sizeof(c->nonce), 4);
	fill(c->code_challenge, sizeof(c->code_challenge), 5);
	fill(c->scope, sizeof(c->scope), 6);
	c->auth_time = 7;
	c->amr = 8;
	c->expires = expires;
	c->used = 1;
}

static void
fill_flow(struct flow *f, unsigned seed, int64_t expires)
{
	memset(f, 0, sizeof(*f));
	fill_bytes(f->hash, sizeof(f->hash), seed);
	fill_bytes(f->browser_hash, sizeof(f->browser_hash), seed + 50);
	fill(f->client_id, sizeof(f->client_id), 1);
	fill(f->redirect_uri, sizeof(f->redirect_uri), 2);
	fill(f->state, sizeof(f->state), 3);
	fill(f->nonce, sizeof(f->nonce), 4);
	fill(f->code_challenge, sizeof(f->code_challenge), 5);
	fill(f->scope, sizeof(f->scope), 6);
	fill(f->lang, sizeof(f->lang), 7);
	fill(f->user_id, sizeof(f->user_id), 8);
	f->amr = 3;
	f->created = 11;
	f->expires = expires;
	fill_bytes(f->session_hash, sizeof(f->session_hash), seed + 150);
	f->auth_time = 12;
	f->want_2fa = 13;
	fill_bytes(f->sms_hash, sizeof(f->sms_hash), seed + 200);
	f->sms_sent_at = 14;
	f->sms_expires = -15;
	f->sms_attempts = 16;
	f->sms_sends = INT_MIN;
}

static void
test_code_and_flow(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct authcode c, cgot;
	struct flow f, fgot;

	fill_code(&c, 1, 500);
	assert_int_equal(store_code_put(txn, &c), STORE_OK);
	assert_int_equal(store_code_get(txn, c.hash, &cgot), STORE_OK);
	assert_memory_equal(&c, &cgot, sizeof(c));
	c.used = 0;
	assert_int_equal(store_code_put(txn, &c), STORE_OK);
	assert_int_equal(store_code_get(txn, c.hash, &cgot), STORE_OK);
	assert_memory_equal(&c, &cgot, sizeof(c));

	fill_flow(&f, 2, -500);
	assert_int_equal(store_flow_put(txn, &f), STORE_OK);
	assert_int_equal(store_flow_get(txn, f.hash, &fgot), STORE_OK);
	assert_memory_equal(&f, &fgot, sizeof(f));
	assert_int_equal(store_flow_del(txn, f.hash), STORE_OK);
	assert_int_equal(store_flow_get(txn, f.hash, &fgot), STORE_NOTFOUND);
	assert_int_equal(store_flow_del(txn, f.hash), STORE_NOTFOUND);
	memset(f.lang, 'x', sizeof(f.lang));
	assert_int_equal(store_flow_put(txn, &f), STORE_ERROR);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 1);
}

/* A lookup may name its key inside the record it fills: the flow's own
 * hash, the counter's own key. */
static void
test_key_inside_output(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct flow f, want;
	struct counter c;

	fill_flow(&f, 7, 500);
	want = f;
	assert_int_equal(store_flow_put(txn, &f), STORE_OK);
	memset(&c, 0, sizeof(c));
	str_copy(c.key, "lock:maria", sizeof(c.key));
	c.count = 3;
	c.expires = 900;
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	txn = begin(fx->st, 0);
	assert_int_equal(store_flow_get(txn, f.hash, &f), STORE_OK);
	assert_memory_equal(&f, &want, sizeof(f));
	c.count = 0;
	assert_int_equal(store_counter_get(txn, c.key, &c), STORE_OK);
	assert_int_equal(c.count, 3);
	store_abort(txn);
}

static void
test_sweep(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct session s, sgot;
	struct authcode c, cgot;
	struct flow f, fgot;
	size_t n = 99;

	make_session(&s, 1, "alice", 100);
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	make_session(&s, 2, "alice", 200);
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	fill_code(&c, 1, 100);
	assert_int_equal(store_code_put(txn, &c), STORE_OK);
	fill_code(&c, 2, 200);
	assert_int_equal(store_code_put(txn, &c), STORE_OK);
	fill_flow(&f, 1, -100);	/* before the epoch: sorts first */
	assert_int_equal(store_flow_put(txn, &f), STORE_OK);
	fill_flow(&f, 2, 150);
	assert_int_equal(store_flow_put(txn, &f), STORE_OK);
	/* Session 3 was due at 100 but is renewed until 300. */
	make_session(&s, 3, "alice", 100);
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	s.expires = 300;
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 7);

	assert_int_equal(store_sweep(fx->st, 99, &n), STORE_OK);
	assert_int_equal(n, 1);			/* the old flow */
	assert_int_equal(store_sweep(fx->st, 150, &n), STORE_OK);
	assert_int_equal(n, 3);	/* session 1, code 1, flow 2 (at 150) */

	txn = begin(fx->st, 0);
	make_session(&s, 1, "", 0);
	assert_int_equal(store_session_get(txn, s.id_hash, &sgot),
	    STORE_NOTFOUND);
	make_session(&s, 2, "", 0);
	assert_int_equal(store_session_get(txn, s.id_hash, &sgot), STORE_OK);
	make_session(&s, 3, "", 0);
	assert_int_equal(store_session_get(txn, s.id_hash, &sgot), STORE_OK);
	assert_int_equal(sgot.expires, 300);
	fill_code(&c, 1, 0);
	assert_int_equal(store_code_get(txn, c.hash, &cgot), STORE_NOTFOUND);
	fill_code(&c, 2, 0);
	assert_int_equal(store_code_get(txn, c.hash, &cgot), STORE_OK);
	fill_flow(&f, 2, 0);
	assert_int_equal(store_flow_get(txn, f.hash, &fgot), STORE_NOTFOUND);
	store_abort(txn);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 3);
	assert_int_equal(count_table(fx->st, STORE_TBL_SESSION_USER), 2);

	assert_int_equal(store_sweep(fx->st, 1000, NULL), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 0);
	assert_int_equal(count_table(fx->st, STORE_TBL_SESSION), 0);
	assert_int_equal(count_table(fx->st, STORE_TBL_CODE), 0);
	assert_int_equal(count_table(fx->st, STORE_TBL_SESSION_USER), 0);
}

static void
test_sweep_many(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct session s;
	size_t n = 0;
	unsigned i;

	/* More than one sweep batch is due, plus some that are not. */
	for (i = 0; i < 1300; i++) {
		make_session(&s, i, "bulk", i < 1200 ? 50 : 5000);
		s.id_hash[0] = (unsigned char)(i >> 8);
		s.id_hash[1] = (unsigned char)i;
		assert_int_equal(store_session_put(txn, &s), STORE_OK);
	}
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(store_sweep(fx->st, 60, &n), STORE_OK);
	assert_int_equal(n, 1200);
	assert_int_equal(count_table(fx->st, STORE_TBL_SESSION), 100);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 100);
	assert_int_equal(count_table(fx->st, STORE_TBL_SESSION_USER), 100);
}

/* ---- per-user authentication state */

static void
fill_user_auth(struct user_auth *a, const char *user_id, int sealed_len)
{
	int i;

	memset(a, 0, sizeof(*a));
	(void)snprintf(a->user_id, sizeof(a->user_id), "%s", user_id);
	/* A length out of range (a refusal test) fills the whole field. */
	fill_bytes(a->totp_sealed, sealed_len >= 0 && sealed_len <=
	    SEALED_SIZE ? (size_t)sealed_len : SEALED_SIZE, 1);
	a->totp_sealed_len = sealed_len;
	a->totp_active = 2;
	a->totp_last_step = 58000001;
	a->totp_enrolled = 1700000003;
	for (i = 0; i < RECOVERY_CODES; i++)
		fill_bytes(a->recovery[i], HASH_SIZE, 10 + (unsigned)i);
	a->recovery_created = 1700000004;
	/* A pending seed of another length than the one in use. */
	fill_bytes(a->totp_pending, 48, 2);
	a->totp_pending_len = 48;
}

static void
test_user_auth(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct user_auth a, got;
	char id[USER_ID_SIZE];

	memset(&got, 'g', sizeof(got));
	assert_int_equal(store_user_auth_get(txn, "u1", &got), STORE_NOTFOUND);
	assert_string_equal(got.user_id, "");
	assert_int_equal(got.totp_sealed_len, 0);

	fill(id, sizeof(id), 3);	/* the longest id that fits */
	fill_user_auth(&a, id, SEALED_SIZE);
	assert_int_equal(store_user_auth_put(txn, &a), STORE_OK);
	assert_int_equal(store_user_auth_get(txn, id, &got), STORE_OK);
	assert_memory_equal(&a, &got, sizeof(a));

	/* A real sealed seed is shorter than the field; a used recovery
	 * code is all zero and must stay so, not vanish or shift. */
	fill_user_auth(&a, "u1", 12 + TOTP_SEED_LEN + 16);
	memset(a.recovery[0], 0, HASH_SIZE);
	memset(a.recovery[7], 0, HASH_SIZE);
	assert_int_equal(store_user_auth_put(txn, &a), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);

	txn = begin(fx->st, 0);
	assert_int_equal(store_user_auth_get(txn, "u1", &got), STORE_OK);
	assert_memory_equal(&a, &got, sizeof(a));
	assert_int_equal(store_user_auth_get(txn, "u2", &got), STORE_NOTFOUND);
	assert_int_equal(store_user_auth_get(txn, "", &got), STORE_NOTFOUND);
	store_abort(txn);

	/* Removing the factors: an update, not a leftover. */
	txn = begin(fx->st, 1);
	memset(a.totp_sealed, 0, sizeof(a.totp_sealed));
	a.totp_sealed_len = 0;
	memset(a.recovery, 0, sizeof(a.recovery));
	memset(a.totp_pending, 0, sizeof(a.totp_pending));
	a.totp_pending_len = 0;
	assert_int_equal(store_user_auth_put(txn, &a), STORE_OK);
	assert_int_equal(store_user_auth_get(txn, "u1", &got), STORE_OK);
	assert_memory_equal(&a, &got, sizeof(a));
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_USER_AUTH), 2);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 0);
}

static void
test_user_auth_refused(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	static const char key[] = "u1";
	unsigned char buf[128];
	struct user_auth a, got;

	fill_user_auth(&a, "u1", SEALED_SIZE + 1);
	assert_int_equal(store_user_auth_put(txn, &a), STORE_ERROR);
	a.totp_sealed_len = -1;
	assert_int_equal(store_user_auth_put(txn, &a), STORE_ERROR);
	fill_user_auth(&a, "", 48);
	assert_int_equal(store_user_auth_put(txn, &a), STORE_ERROR);
	fill_user_auth(&a, "u1", 48);
	memset(a.user_id, 'x', sizeof(a.user_id));
	assert_int_equal(store_user_auth_put(txn, &a), STORE_ERROR);
	assert_int_equal(store_user_auth_put(NULL, &a), STORE_ERROR);
	assert_int_equal(store_user_auth_get(txn, "u1", NULL), STORE_ERROR);
	assert_int_equal(count_table_txn(txn, STORE_TBL_USER_AUTH), 0);

	/* A stored seed longer than its field is refused, not cut. */
	buf[0] = STORE_CODEC_VERSION;
	buf[1] = STORE_REC_USER_AUTH;
	buf[2] = 2;			/* totp_sealed */
	buf[3] = STORE_WIRE_BYTES;
	buf[4] = 0;
	buf[5] = SEALED_SIZE + 1;
	memset(buf + 6, 9, SEALED_SIZE + 1);
	assert_int_equal(store_raw_put(txn, STORE_TBL_USER_AUTH, key,
	    sizeof(key), buf, 6 + SEALED_SIZE + 1, 0), STORE_OK);
	assert_int_equal(store_user_auth_get(txn, "u1", &got), STORE_ERROR);
	assert_int_equal(got.totp_sealed_len, 0);
	/* The control: the same record one byte shorter decodes. */
	buf[5] = SEALED_SIZE;
	assert_int_equal(store_raw_put(txn, STORE_TBL_USER_AUTH, key,
	    sizeof(key), buf, 6 + SEALED_SIZE, 0), STORE_OK);
	assert_int_equal(store_user_auth_get(txn, "u1", &got), STORE_OK);
	assert_int_equal(got.totp_sealed_len, SEALED_SIZE);
	assert_int_equal(got.totp_sealed[SEALED_SIZE - 1], 9);
	store_abort(txn);
}

/* ---- counters */

static void
make_counter(struct counter *c, const char *key, int64_t count,
    int64_t expires)
{
	memset(c, 0, sizeof(*c));
	(void)snprintf(c->key, sizeof(c->key), "%s", key);
	c->count = count;
	c->expires = expires;
}

static int
counter_collect(const struct counter *c, void *arg)
{
	struct ids *ids = arg;
	char one[COUNTER_KEY_SIZE + 32];

	(void)snprintf(one, sizeof(one), "%s=%lld", c->key,
	    (long long)c->count);
	add(ids->s, sizeof(ids->s), one);
	return ++ids->n == ids->stop_after;
}

static const char *
counters_of(struct store_txn *txn, const char *prefix, struct ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	assert_int_equal(store_counter_list(txn, prefix, counter_collect, ids),
	    STORE_OK);
	return ids->s;
}

static void
test_counters(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	static const char *const keys[] = {
		"sms:org:xy:2024-05", "sms:org:x:2024-06", "sms:phone:+3069",
		"sms:org:x:2024-05", "sms:org:x", "sms:org:x;",
	};
	struct counter c;
	char prefix[COUNTER_KEY_SIZE + 1];
	struct ids ids;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		make_counter(&c, keys[i], (int64_t)i + 1, 1000);
		assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	}
	assert_string_equal(counters_of(txn, "sms:org:x:", &ids),
	    "sms:org:x:2024-05=4,sms:org:x:2024-06=2,");
	assert_string_equal(counters_of(txn, "sms:org:x", &ids),
	    "sms:org:x=5,sms:org:x:2024-05=4,sms:org:x:2024-06=2,"
	    "sms:org:x;=6,sms:org:xy:2024-05=1,");
	assert_string_equal(counters_of(txn, "sms:phone:", &ids),
	    "sms:phone:+3069=3,");
	assert_string_equal(counters_of(txn, "sms:nothing", &ids), "");
	assert_int_equal(strlen(counters_of(txn, "", &ids)),
	    strlen(counters_of(txn, NULL, &ids)));
	assert_int_equal(ids.n, 6);
	memset(&ids, 0, sizeof(ids));
	ids.stop_after = 2;
	assert_int_equal(store_counter_list(txn, "sms:", counter_collect,
	    &ids), STORE_OK);
	assert_int_equal(ids.n, 2);
	memset(prefix, 's', sizeof(prefix) - 1);
	prefix[sizeof(prefix) - 1] = '\0';
	assert_string_equal(counters_of(txn, prefix, &ids), "");
	assert_int_equal(store_counter_list(txn, "", NULL, NULL), STORE_ERROR);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 6);
}

static void
test_counter_roundtrip(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct counter c, got;

	/* Every field, the key at its full length, and negative values. */
	memset(&c, 0, sizeof(c));
	fill(c.key, sizeof(c.key), 4);
	c.count = INT64_MIN;
	c.expires = -3;
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	assert_int_equal(store_counter_get(txn, c.key, &got), STORE_OK);
	assert_memory_equal(&c, &got, sizeof(c));
	c.count = 77;
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	assert_int_equal(store_counter_get(txn, c.key, &got), STORE_OK);
	assert_int_equal(got.count, 77);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_COUNTER), 1);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 1);

	txn = begin(fx->st, 1);
	assert_int_equal(store_counter_get(txn, "sms:org:x:2024-07", &got),
	    STORE_NOTFOUND);
	assert_int_equal(got.count, 0);
	assert_int_equal(store_counter_get(txn, "", &got), STORE_NOTFOUND);
	memset(c.key, 'k', sizeof(c.key));	/* no NUL inside */
	assert_int_equal(store_counter_put(txn, &c), STORE_ERROR);
	assert_int_equal(store_counter_get(txn, c.key, &got), STORE_NOTFOUND);
	make_counter(&c, "", 1, 1);
	assert_int_equal(store_counter_put(txn, &c), STORE_ERROR);
	assert_int_equal(store_counter_put(txn, NULL), STORE_ERROR);
	assert_int_equal(store_counter_get(txn, NULL, &got), STORE_ERROR);
	store_abort(txn);
	assert_int_equal(count_table(fx->st, STORE_TBL_COUNTER), 1);
}

static void
test_counter_sweep(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct counter c, got;
	struct session s;
	struct ids ids;
	size_t n = 99;

	make_counter(&c, "a:early", 1, 100);
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	make_counter(&c, "a:late", 2, 200);
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	/* Due at 100, then prolonged to 300 in the same transaction... */
	make_counter(&c, "a:moved", 3, 100);
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	c.expires = 300;
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	/* ...and re-put with the same expiry keeps one entry. */
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	make_session(&s, 1, "alice", 100);
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 4);

	/* ...and one prolonged in a later transaction. */
	txn = begin(fx->st, 1);
	make_counter(&c, "a:later", 4, 50);
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	txn = begin(fx->st, 1);
	c.expires = 250;
	c.count = 5;
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 5);

	assert_int_equal(store_sweep(fx->st, 99, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_sweep(fx->st, 100, &n), STORE_OK);
	assert_int_equal(n, 2);			/* a:early and the session */
	txn = begin(fx->st, 0);
	assert_string_equal(counters_of(txn, "a:", &ids),
	    "a:late=2,a:later=5,a:moved=3,");
	assert_int_equal(store_counter_get(txn, "a:early", &got),
	    STORE_NOTFOUND);
	store_abort(txn);

	assert_int_equal(store_sweep(fx->st, 250, &n), STORE_OK);
	assert_int_equal(n, 2);			/* a:late, a:later */
	txn = begin(fx->st, 0);
	assert_string_equal(counters_of(txn, NULL, &ids), "a:moved=3,");
	store_abort(txn);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 1);

	assert_int_equal(store_sweep(fx->st, 300, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(count_table(fx->st, STORE_TBL_COUNTER), 0);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 0);
}

/* An expiry entry as store_expiry.c writes it. */
static void
plant_expiry(struct store_txn *txn, enum store_table t,
    const unsigned char hash[HASH_SIZE], int64_t expires, const void *val,
    size_t vlen)
{
	unsigned char k[8 + 1 + HASH_SIZE];
	uint64_t u = (uint64_t)expires ^ ((uint64_t)1 << 63);
	int i;

	for (i = 7; i >= 0; i--) {
		k[i] = (unsigned char)u;
		u >>= 8;
	}
	k[8] = (unsigned char)t;
	memcpy(k + 9, hash, HASH_SIZE);
	assert_int_equal(store_raw_put(txn, STORE_TBL_EXPIRY, k, sizeof(k),
	    val, vlen, 0), STORE_OK);
}

static void
test_counter_bad_expiry_entry(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	static const char key[] = "live";	/* the table key, NUL too */
	unsigned char hash[HASH_SIZE], other[HASH_SIZE];
	struct counter c, got;
	size_t n = 99;

	make_counter(&c, "live", 1, 1000);
	assert_int_equal(store_counter_put(txn, &c), STORE_OK);
	sha256(key, sizeof(key), hash);
	sha256("other", 6, other);
	/* Due entries naming the live counter wrongly: a hash that is not
	 * its key's, no NUL, an empty value, and the right one at a time the
	 * counter no longer has. None may take the counter along. */
	plant_expiry(txn, STORE_TBL_COUNTER, other, 10, key, sizeof(key));
	plant_expiry(txn, STORE_TBL_COUNTER, hash, 11, key, sizeof(key) - 1);
	plant_expiry(txn, STORE_TBL_COUNTER, hash, 12, NULL, 0);
	plant_expiry(txn, STORE_TBL_COUNTER, hash, 13, key, sizeof(key));
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 5);

	log_set_level((enum log_level)(LOG_ERR + 1));
	assert_int_equal(store_sweep(fx->st, 500, &n), STORE_OK);
	log_set_level(LOG_INFO);
	assert_int_equal(n, 0);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 1);
	txn = begin(fx->st, 0);
	assert_int_equal(store_counter_get(txn, "live", &got), STORE_OK);
	assert_memory_equal(&c, &got, sizeof(c));
	store_abort(txn);
	/* The control: the counter's own entry removes it when due. */
	assert_int_equal(store_sweep(fx->st, 1000, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(count_table(fx->st, STORE_TBL_COUNTER), 0);
}

/* ---- audit log */

static void
fill_audit(struct audit_entry *e, uint64_t seq)
{
	unsigned s = (unsigned)seq;

	memset(e, 0, sizeof(*e));
	e->seq = seq;
	e->time = 1700000000 + (int64_t)seq;
	fill(e->actor, sizeof(e->actor), s + 1);
	fill(e->action, sizeof(e->action), s + 2);
	fill(e->outcome, sizeof(e->outcome), s + 3);
	fill(e->subject, sizeof(e->subject), s + 4);
	fill(e->client, sizeof(e->client), s + 5);
	fill(e->org, sizeof(e->org), s + 6);
	fill(e->addr, sizeof(e->addr), s + 7);
	fill(e->detail, sizeof(e->detail), s + 8);
	fill_bytes(e->prev, sizeof(e->prev), s + 9);
	fill_bytes(e->hash, sizeof(e->hash), s + 10);
}

struct audit_seen {
	uint64_t next;		/* the seq expected next */
	size_t n;
	size_t stop_after;
};

static int
audit_check(const struct audit_entry *e, void *arg)
{
	struct audit_seen *a = arg;
	struct audit_entry want;

	fill_audit(&want, a->next);
	assert_int_equal(e->seq, a->next);
	assert_memory_equal(e, &want, sizeof(want));
	a->next++;
	return ++a->n == a->stop_after;
}

static void
audit_list_check(struct store_txn *txn, uint64_t from, uint64_t first,
    size_t count)
{
	struct audit_seen a = { first, 0, 0 };

	assert_int_equal(store_audit_list(txn, from, audit_check, &a),
	    STORE_OK);
	assert_int_equal(a.n, count);
}

#define AUDIT_N 300	/* past 256: the key's second byte changes */

static void
test_audit(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct audit_entry e, got;
	struct audit_seen a = { 1, 0, 3 };
	uint64_t i;

	memset(&got, 'g', sizeof(got));
	assert_int_equal(store_audit_last(txn, &got), STORE_NOTFOUND);
	assert_int_equal(got.seq, 0);
	audit_list_check(txn, 1, 1, 0);
	/* Added out of order, over two transactions: the numbers, not the
	 * order of adding, rule. */
	for (i = AUDIT_N; i >= 1; i--) {
		fill_audit(&e, i);
		assert_int_equal(store_audit_put(txn, &e), STORE_OK);
		if (i != AUDIT_N - 10)
			continue;
		assert_int_equal(store_commit(txn), STORE_OK);
		txn = begin(fx->st, 1);
	}
	assert_int_equal(store_commit(txn), STORE_OK);

	txn = begin(fx->st, 1);
	assert_int_equal(store_audit_last(txn, &got), STORE_OK);
	fill_audit(&e, AUDIT_N);
	assert_memory_equal(&e, &got, sizeof(e));
	assert_int_equal(store_audit_get(txn, 255, &got), STORE_OK);
	fill_audit(&e, 255);
	assert_memory_equal(&e, &got, sizeof(e));
	audit_list_check(txn, 1, 1, AUDIT_N);
	audit_list_check(txn, 0, 1, AUDIT_N);
	audit_list_check(txn, 250, 250, AUDIT_N - 249);
	audit_list_check(txn, AUDIT_N, AUDIT_N, 1);
	audit_list_check(txn, AUDIT_N + 1, 0, 0);
	assert_int_equal(store_audit_list(txn, 1, audit_check, &a), STORE_OK);
	assert_int_equal(a.n, 3);
	assert_int_equal(store_audit_list(txn, 1, NULL, NULL), STORE_ERROR);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static void
test_audit_refused(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct audit_entry e, got;

	fill_audit(&e, 7);
	assert_int_equal(store_audit_put(txn, &e), STORE_OK);
	/* A taken number is refused and the entry there is untouched. */
	fill_audit(&e, 7);
	e.time = 1;
	assert_int_equal(store_audit_put(txn, &e), STORE_EXISTS);
	assert_int_equal(store_audit_get(txn, 7, &got), STORE_OK);
	assert_int_equal(got.time, 1700000007);
	e.seq = 0;
	assert_int_equal(store_audit_put(txn, &e), STORE_ERROR);
	assert_int_equal(store_audit_get(txn, 0, &got), STORE_NOTFOUND);
	assert_int_equal(store_audit_get(txn, 8, &got), STORE_NOTFOUND);
	assert_int_equal(store_audit_last(txn, NULL), STORE_ERROR);

	/* Numbers past 2^32 and at the top still sort as numbers. */
	fill_audit(&e, ((uint64_t)1 << 40) + 1);
	assert_int_equal(store_audit_put(txn, &e), STORE_OK);
	assert_int_equal(store_audit_last(txn, &got), STORE_OK);
	assert_int_equal(got.seq, ((uint64_t)1 << 40) + 1);
	fill_audit(&e, UINT64_MAX);
	assert_int_equal(store_audit_put(txn, &e), STORE_OK);
	assert_int_equal(store_audit_last(txn, &got), STORE_OK);
	assert_memory_equal(&e, &got, sizeof(e));
	assert_int_equal(store_commit(txn), STORE_OK);

	/* Entries never expire. */
	assert_int_equal(store_sweep(fx->st, INT64_MAX, NULL), STORE_OK);
	assert_int_equal(count_table(fx->st, STORE_TBL_AUDIT), 3);
}

static void
test_audit_raw(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	unsigned char k1[STORE_AUDIT_KEY_LEN], k2[STORE_AUDIT_KEY_LEN];
	unsigned char v1[STORE_VALUE_MAX], v2[STORE_VALUE_MAX];
	struct audit_entry e, got;
	const void *val;
	size_t l1, l2;

	fill_audit(&e, 1);
	assert_int_equal(store_audit_put(txn, &e), STORE_OK);
	fill_audit(&e, 2);
	assert_int_equal(store_audit_put(txn, &e), STORE_OK);
	/* The documented layout: 8 bytes big-endian. */
	store_audit_key(k1, 0x0102030405060708u);
	assert_memory_equal(k1, "\1\2\3\4\5\6\7\10", 8);
	store_audit_key(k1, 1);
	store_audit_key(k2, 2);
	assert_int_equal(store_raw_get(txn, STORE_TBL_AUDIT, k1, sizeof(k1),
	    &val, &l1), STORE_OK);
	memcpy(v1, val, l1);
	assert_int_equal(store_raw_get(txn, STORE_TBL_AUDIT, k2, sizeof(k2),
	    &val, &l2), STORE_OK);
	memcpy(v2, val, l2);
	/* Swapped values: each place reads the other's content under its
	 * own number, which is what lets the chain check see the swap. */
	assert_int_equal(store_raw_put(txn, STORE_TBL_AUDIT, k1, sizeof(k1),
	    v2, l2, 0), STORE_OK);
	assert_int_equal(store_raw_put(txn, STORE_TBL_AUDIT, k2, sizeof(k2),
	    v1, l1, 0), STORE_OK);
	assert_int_equal(store_audit_get(txn, 1, &got), STORE_OK);
	assert_int_equal(got.seq, 1);
	assert_int_equal(got.time, 1700000002);
	/* A deleted last entry makes the one before it the last. */
	assert_int_equal(store_raw_del(txn, STORE_TBL_AUDIT, k2, sizeof(k2)),
	    STORE_OK);
	assert_int_equal(store_audit_last(txn, &got), STORE_OK);
	assert_int_equal(got.seq, 1);
	/* A key of another length is damage, reported, never a record. */
	assert_int_equal(store_raw_put(txn, STORE_TBL_AUDIT, "\377\377\377\377"
	    "\377\377\377\377\377", 9, v1, l1, 0), STORE_OK);
	memset(&got, 'g', sizeof(got));
	assert_int_equal(store_audit_last(txn, &got), STORE_ERROR);
	assert_int_equal(got.seq, 0);
	assert_string_equal(got.actor, "");
	store_abort(txn);
}

/* ---- transactions */

static void
test_abort_leaves_nothing(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct user u, got;
	struct session s;

	make_user(&u, "u1", "alice", "athens");
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	make_session(&s, 1, "u1", 100);
	assert_int_equal(store_session_put(txn, &s), STORE_OK);
	store_abort(txn);

	txn = begin(fx->st, 0);
	assert_int_equal(store_user_get(txn, "u1", &got), STORE_NOTFOUND);
	assert_int_equal(store_user_get_by_name(txn, "alice", &got),
	    STORE_NOTFOUND);
	store_abort(txn);
	assert_int_equal(count_table(fx->st, STORE_TBL_USER_ORG), 0);
	assert_int_equal(count_table(fx->st, STORE_TBL_SESSION), 0);
	assert_int_equal(count_table(fx->st, STORE_TBL_EXPIRY), 0);
}

static void
test_read_isolation(void **state)
{
	struct fx *fx = *state;
	struct store_txn *w, *r, *r2;
	struct org o, got;

	w = begin(fx->st, 1);
	memset(&o, 0, sizeof(o));
	(void)snprintf(o.code, sizeof(o.code), "%s", "athens");
	(void)snprintf(o.name, sizeof(o.name), "%s", "Old");
	assert_int_equal(store_org_put(w, &o), STORE_OK);
	assert_int_equal(store_commit(w), STORE_OK);

	w = begin(fx->st, 1);
	(void)snprintf(o.name, sizeof(o.name), "%s", "New");
	assert_int_equal(store_org_put(w, &o), STORE_OK);
	/* A reader that starts while the write is open sees the old name. */
	r = begin(fx->st, 0);
	assert_int_equal(store_org_get(r, "athens", &got), STORE_OK);
	assert_string_equal(got.name, "Old");
	assert_int_equal(store_org_put(r, &o), STORE_ERROR); /* read-only */
	assert_int_equal(store_commit(w), STORE_OK);
	/* ...and keeps its snapshot after the commit. */
	assert_int_equal(store_org_get(r, "athens", &got), STORE_OK);
	assert_string_equal(got.name, "Old");
	r2 = begin(fx->st, 0);
	assert_int_equal(store_org_get(r2, "athens", &got), STORE_OK);
	assert_string_equal(got.name, "New");
	store_abort(r);
	assert_int_equal(store_commit(r2), STORE_OK);
}

/* The CLI beside the server: another process writes while this one has
 * the store open and a read transaction running. No cmocka in the child. */
static void
child_add_user(const char *dir)
{
	struct store *st = NULL;
	struct store_txn *txn = NULL;
	struct user u;
	int rc;

	rc = store_open(dir, &st, NULL, 0);
	if (rc == STORE_OK)
		rc = store_begin(st, 1, &txn);
	if (rc == STORE_OK) {
		make_user(&u, "cli", "from-cli", "athens");
		rc = store_user_add(txn, &u);
		if (rc == STORE_OK)
			rc = store_commit(txn);
		else
			store_abort(txn);
	}
	store_close(st);
	_exit(rc == STORE_OK ? 0 : 1);
}

static void
test_other_process(void **state)
{
	struct fx *fx = *state;
	struct store_txn *r = begin(fx->st, 0), *r2;
	struct user got;
	int status = -1;
	pid_t pid;

	assert_int_equal(store_user_get(r, "cli", &got), STORE_NOTFOUND);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		child_add_user(fx->dir);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(store_user_get(r, "cli", &got), STORE_NOTFOUND);
	store_abort(r);
	r2 = begin(fx->st, 0);
	assert_int_equal(store_user_get_by_name(r2, "from-cli", &got),
	    STORE_OK);
	assert_string_equal(got.id, "cli");
	store_abort(r2);
}

/* ---- codec: damaged, hostile and newer records */

static void
plant_user(struct fx *fx, const void *val, size_t vlen)
{
	struct store_txn *txn = begin(fx->st, 1);
	static const char key[] = "u1";

	assert_int_equal(store_raw_put(txn, STORE_TBL_USER, key, sizeof(key),
	    val, vlen, 0), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static int
user_get_rc(struct fx *fx, struct user *got)
{
	struct store_txn *txn = begin(fx->st, 0);
	int rc = store_user_get(txn, "u1", got);

	store_abort(txn);
	return rc;
}

static void
test_corrupt_record(void **state)
{
	struct fx *fx = *state;
	struct user got;
	/* Each starts with a valid id field (tag 1) so a decoder that
	 * stopped early would return a half-filled user. */
	static const struct {
		const char *why;
		unsigned char b[24];
		size_t len;
	} bad[] = {
		{ "empty", { 0 }, 0 },
		{ "one byte", { 1 }, 1 },
		{ "codec version", { 9, 3, 1, 2, 0, 1, 'x' }, 7 },
		{ "record type", { 1, 4, 1, 2, 0, 1, 'x' }, 7 },
		{ "short header", { 1, 3, 1, 2, 0, 1, 'x', 5, 2, 0 }, 10 },
		{ "past the end", { 1, 3, 1, 2, 0, 1, 'x', 5, 2, 0, 9, 'a' },
		    12 },
		{ "wire type", { 1, 3, 1, 2, 0, 1, 'x', 5, 1, 0, 1, 'a' }, 12 },
		{ "int size", { 1, 3, 1, 2, 0, 1, 'x', 3, 1, 0, 2, 0, 1 }, 13 },
		{ "NUL inside", { 1, 3, 1, 2, 0, 1, 'x', 5, 2, 0, 2, 'a', 0 },
		    13 },
		{ "int range", { 1, 3, 1, 2, 0, 1, 'x', 3, 1, 0, 8, 0, 0, 0, 1,
		    0, 0, 0, 0 }, 19 },
		{ "negative int64 into int", { 1, 3, 1, 2, 0, 1, 'x', 3, 1, 0,
		    8, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 19 },
		{ "repeated", { 1, 3, 1, 2, 0, 1, 'x', 1, 2, 0, 1, 'y' }, 12 },
	};
	unsigned char big[7 + 4 + 200] = { 1, 3, 1, 2, 0, 1, 'x', 5, 2, 0,
	    200 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("corrupt: %s\n", bad[i].why);
		plant_user(fx, bad[i].b, bad[i].len);
		memset(&got, 'g', sizeof(got));
		assert_int_equal(user_get_rc(fx, &got), STORE_ERROR);
		assert_string_equal(got.id, "");	/* never half-filled */
	}
	/* The name is 200 bytes, its field holds 128 with the NUL. */
	memset(big + 11, 'n', 200);
	plant_user(fx, big, sizeof(big));
	assert_int_equal(user_get_rc(fx, &got), STORE_ERROR);
	/* The control: the same header with a name that fits decodes. */
	big[10] = 127;
	plant_user(fx, big, 11 + 127);
	assert_int_equal(user_get_rc(fx, &got), STORE_OK);
	assert_int_equal(strlen(got.name), 127);
}

static void
test_codec_mutations(void **state)
{
	struct user u, got;
	unsigned char buf[STORE_VALUE_MAX], m[STORE_VALUE_MAX];
	size_t len, i, ok = 0;
	unsigned seed = 12345;

	(void)state;
	/* Thousands of refusals would each log a line. */
	log_set_level((enum log_level)(LOG_ERR + 1));
	fill_full_user(&u);
	assert_int_equal(store_encode(STORE_REC_USER, &u, buf, sizeof(buf),
	    &len), STORE_OK);
	assert_true(len > 2);
	if (len <= 2)
		return;		/* tells the analyzer what the assert did */
	/* Every truncation is refused or yields a bounded record. */
	for (i = 0; i < len; i++) {
		if (store_decode(STORE_REC_USER, buf, i, &got) == STORE_OK)
			ok++;
		assert_non_null(memchr(got.name, '\0', sizeof(got.name)));
	}
	/* Random byte flips: never a crash, never an unterminated string. */
	for (i = 0; i < 5000; i++) {
		memcpy(m, buf, len);
		seed = seed * 1103515245 + 12345;
		m[(seed >> 8) % len] ^= (unsigned char)(1 + (seed >> 20) %
		    255);
		if (store_decode(STORE_REC_USER, m, len, &got) == STORE_OK)
			ok++;
		assert_non_null(memchr(got.password, '\0',
		    sizeof(got.password)));
		assert_non_null(memchr(got.email, '\0', sizeof(got.email)));
	}
	log_set_level(LOG_INFO);
	print_message("codec: %zu of %zu mutated records still decoded\n", ok,
	    len + 5000);
	assert_int_equal(store_encode(STORE_REC_USER, &u, buf, 10, &len),
	    STORE_ERROR);
	/* A hash must be exactly HASH_SIZE bytes. */
	m[0] = STORE_CODEC_VERSION;
	m[1] = STORE_REC_SESSION;
	m[2] = 1;			/* id_hash */
	m[3] = STORE_WIRE_BYTES;
	m[4] = 0;
	m[5] = 31;
	memset(m + 6, 7, 31);
	assert_int_equal(store_decode(STORE_REC_SESSION, m, 6 + 31, &got),
	    STORE_ERROR);
	m[5] = 32;
	memset(m + 6, 7, 32);
	assert_int_equal(store_decode(STORE_REC_SESSION, m, 6 + 32, &got),
	    STORE_OK);
}

static void
test_unterminated_refused(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	struct user u, got;
	struct org o;
	struct session s;

	make_user(&u, "u1", "alice", "athens");
	memset(u.name, 'x', sizeof(u.name));
	assert_int_equal(store_user_add(txn, &u), STORE_ERROR);
	make_user(&u, "u1", "alice", "athens");
	memset(u.username, 'x', sizeof(u.username));
	assert_int_equal(store_user_add(txn, &u), STORE_ERROR);
	make_user(&u, "u1", "alice", "athens");
	memset(u.org, 'x', sizeof(u.org));
	assert_int_equal(store_user_add(txn, &u), STORE_ERROR);
	make_user(&u, "", "alice", "athens");
	assert_int_equal(store_user_add(txn, &u), STORE_ERROR);
	/* Nothing of the refused adds is left behind. */
	assert_int_equal(store_user_get_by_name(txn, "alice", &got),
	    STORE_NOTFOUND);
	memset(&o, 'x', sizeof(o));
	assert_int_equal(store_org_put(txn, &o), STORE_ERROR);
	make_session(&s, 1, "", 10);
	memset(s.user_id, 'x', sizeof(s.user_id));
	assert_int_equal(store_session_put(txn, &s), STORE_ERROR);
	/* Over-long lookups find nothing rather than a truncated match. */
	make_user(&u, "u1", "alice", "athens");
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	memset(u.username, 'x', sizeof(u.username));
	memcpy(u.username, "alice", 5);
	assert_int_equal(store_user_get_by_name(txn, u.username, &got),
	    STORE_NOTFOUND);
	assert_int_equal(store_commit(txn), STORE_OK);
}

static void
test_unknown_tag_ignored(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	static const char key[] = "u1";
	unsigned char buf[STORE_VALUE_MAX];
	const void *val;
	size_t vlen;
	struct user u, got;
	static const unsigned char extra[] = {
		200, STORE_WIRE_BYTES, 0, 3, 'n', 'e', 'w',
		201, STORE_WIRE_INT, 0, 8, 0, 0, 0, 0, 0, 0, 0, 9,
		202, 77, 0, 0,		/* a wire type from the future */
	};

	make_user(&u, "u1", "alice", "athens");
	u.disabled = 1;
	assert_int_equal(store_user_add(txn, &u), STORE_OK);
	assert_int_equal(store_raw_get(txn, STORE_TBL_USER, key, sizeof(key),
	    &val, &vlen), STORE_OK);
	assert_true(vlen + sizeof(extra) < sizeof(buf));
	/* Newer fields both after and before the known ones. */
	memcpy(buf, val, 2);
	memcpy(buf + 2, extra, sizeof(extra));
	memcpy(buf + 2 + sizeof(extra), (const unsigned char *)val + 2,
	    vlen - 2);
	memcpy(buf + vlen + sizeof(extra), extra, sizeof(extra));
	assert_int_equal(store_raw_put(txn, STORE_TBL_USER, key, sizeof(key),
	    buf, vlen + 2 * sizeof(extra), 0), STORE_OK);
	assert_int_equal(store_user_get(txn, "u1", &got), STORE_OK);
	assert_memory_equal(&u, &got, sizeof(u));
	assert_int_equal(store_commit(txn), STORE_OK);

	/* A record missing fields (an older writer) reads them as zero. */
	txn = begin(fx->st, 1);
	assert_int_equal(store_raw_put(txn, STORE_TBL_USER, key, sizeof(key),
	    "\001\003\001\002\000\002u1", 8, 0), STORE_OK);
	assert_int_equal(store_user_get(txn, "u1", &got), STORE_OK);
	assert_string_equal(got.id, "u1");
	assert_string_equal(got.username, "");
	assert_int_equal(got.disabled, 0);
	store_abort(txn);
}

static void
test_misuse(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = NULL;
	struct user u;

	assert_int_equal(store_begin(NULL, 0, &txn), STORE_ERROR);
	assert_null(txn);
	assert_int_equal(store_begin(fx->st, 0, NULL), STORE_ERROR);
	assert_int_equal(store_commit(NULL), STORE_ERROR);
	txn = begin(fx->st, 0);
	make_user(&u, "u1", "alice", "athens");
	assert_int_equal(store_user_add(txn, &u), STORE_ERROR);
	assert_int_equal(store_user_get(txn, NULL, &u), STORE_ERROR);
	assert_int_equal(store_user_get(txn, "u1", NULL), STORE_ERROR);
	assert_int_equal(store_user_list(txn, NULL, NULL, NULL), STORE_ERROR);
	assert_int_equal(store_raw_get(txn, STORE_TBL_COUNT, "k", 1,
	    &(const void *){ NULL }, &(size_t){ 0 }), STORE_ERROR);
	store_abort(txn);
}

/* ---- measurement (printed, not asserted) */

static void
test_insert_10000_users(void **state)
{
	struct fx *fx = *state;
	struct store_txn *txn = begin(fx->st, 1);
	static const char phc[] = "$argon2id$v=19$m=65536,t=3,p=1$"
	    "c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";
	struct timespec t0, t1;
	struct user u, got;
	char id[32], name[32];
	struct ids ids;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 10000; i++) {
		(void)snprintf(id, sizeof(id), "id%08d", i);
		(void)snprintf(name, sizeof(name), "user%d", i);
		make_user(&u, id, name, i % 2 ? "athens" : "sparta");
		(void)snprintf(u.password, sizeof(u.password), "%s", phc);
		assert_int_equal(store_user_add(txn, &u), STORE_OK);
	}
	assert_int_equal(store_commit(txn), STORE_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("insert 10000 users in one transaction: %.1f ms\n",
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);

	txn = begin(fx->st, 0);
	assert_int_equal(store_user_get_by_name(txn, "user9999", &got),
	    STORE_OK);
	assert_string_equal(got.id, "id00009999");
	memset(&ids, 0, sizeof(ids));
	ids.stop_after = 3;
	assert_int_equal(store_user_list(txn, "athens", user_collect, &ids),
	    STORE_OK);
	assert_string_equal(ids.s, "id00000001,id00000003,id00000005,");
	store_abort(txn);
	assert_int_equal(count_table(fx->st, STORE_TBL_USER_ORG), 10000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_open_close),
		T(test_open_missing),
		T(test_create_exists),
		T(test_open_twice_refused),
		T(test_schema_mismatch),
		T(test_meta),
		T(test_key_inside_output),
		T(test_org_and_subs),
		T(test_app),
		T(test_user_roundtrip),
		T(test_user_unique_and_rename),
		T(test_user_list_by_org),
		T(test_user_regno_index),
		T(test_user_regno_stale),
		T(test_sched),
		T(test_grants),
		T(test_grant_roundtrip),
		T(test_session_roundtrip),
		T(test_session_del_user),
		T(test_code_and_flow),
		T(test_sweep),
		T(test_sweep_many),
		T(test_user_auth),
		T(test_user_auth_refused),
		T(test_counters),
		T(test_counter_roundtrip),
		T(test_counter_sweep),
		T(test_counter_bad_expiry_entry),
		T(test_audit),
		T(test_audit_refused),
		T(test_audit_raw),
		T(test_abort_leaves_nothing),
		T(test_read_isolation),
		T(test_other_process),
		T(test_corrupt_record),
		T(test_codec_mutations),
		T(test_unterminated_refused),
		T(test_unknown_tag_ignored),
		T(test_misuse),
		T(test_insert_10000_users),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
