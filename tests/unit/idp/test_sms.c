/* test_sms.c - SMS one-time codes, the caps and usage counters over a real
 * store, the outbox, and the HTTP gateway against a small local server. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli/cli.h"
#include "config/config.h"
#include "registry/registry.h"
#include "sms/sms.h"
#include "util/util.h"

/* 2024-05-01T12:00:00Z, the top of an hour. */
#define T0 ((int64_t)1714564800)
#define PHONE_A "+306912345678"
#define PHONE_B "+306987654321"

static char dir[64];
static char data[96];		/* this test's DATA folder */
static keyset *ks;
static struct store *st;
static struct sms_config cfg;
static struct sms_gateway *gw;
static struct sms sms;
static int64_t fake_now = T0;

static int64_t
fake_clock(void)
{
	return fake_now;
}

static int
group_setup(void **state)
{
	char path[128], err[256];

	(void)state;
	str_copy(dir, "/tmp/kleidi-sms-XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	assert_int_equal(keys_init(path, T0, err, sizeof(err)), 0);
	assert_non_null(ks = keyset_load(path, T0, err, sizeof(err)));
	clock_set(fake_clock);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	clock_set(NULL);
	keyset_free(ks);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* A fresh store and outbox per test; the limits each test needs are set
 * in cfg before sms_init through start(). */
static int
setup(void **state)
{
	static int n;
	char path[160], err[256];

	(void)state;
	fake_now = T0;
	/* DATA/store, as the CLI expects it. */
	snprintf(data, sizeof(data), "%s/data%d", dir, ++n);
	assert_int_equal(mkdir(data, 0700), 0);
	snprintf(path, sizeof(path), "%s/store", data);
	assert_int_equal(store_create(path, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_open(path, &st, err, sizeof(err)), STORE_OK);
	sms_config_defaults(&cfg);
	snprintf(cfg.outbox, sizeof(cfg.outbox), "%s/outbox%d", dir, n);
	str_copy(cfg.template_, "Your code is {code}.", sizeof(cfg.template_));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sms_clear(&sms);
	sms_gateway_free(gw);
	gw = NULL;
	store_close(st);
	st = NULL;
	return 0;
}

static void
start(void)
{
	char err[256];

	gw = sms_gateway_new(&cfg, err, sizeof(err));
	assert_non_null(gw);
	assert_int_equal(sms_init(&sms, &cfg, gw, ks), 0);
}

static void
mkuser(struct user *u, const char *id, const char *org, const char *phone)
{
	memset(u, 0, sizeof(*u));
	str_copy(u->id, id, sizeof(u->id));
	str_copy(u->username, id, sizeof(u->username));
	u->type = org != NULL ? USER_EMPLOYEE : USER_CITIZEN;
	str_copy(u->org, org != NULL ? org : "", sizeof(u->org));
	str_copy(u->phone, phone, sizeof(u->phone));
}

static void
mkflow(struct flow *f, const struct user *u)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(rand_bytes(f->hash, sizeof(f->hash)), 0);
	str_copy(f->user_id, u->id, sizeof(f->user_id));
	f->created = fake_now;
	f->expires = fake_now + 900;
}

/* sms_code_prepare in its own write transaction, committed on SMS_OK
 * (as the sign-in handler does); code receives the digits sent. */
static int
prepare(struct flow *f, const struct user *u, const char *addr,
    char code[SMS_CODE_DIGITS + 1], int64_t *wait)
{
	char text[SMS_TEXT_MAX];
	struct store_txn *txn;
	int64_t w = -1;
	int rc;

	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	rc = sms_code_prepare(&sms, txn, f, u, addr, fake_now, text, &w);
	if (rc == SMS_OK) {
		assert_int_equal(store_commit(txn), STORE_OK);
		assert_int_equal(strncmp(text, "Your code is ", 13), 0);
		assert_int_equal(strspn(text + 13, "0123456789"),
		    SMS_CODE_DIGITS);
		assert_string_equal(text + 13 + SMS_CODE_DIGITS, ".");
		if (code != NULL)
			str_copy(code, text + 13, SMS_CODE_DIGITS + 1);
	} else {
		store_abort(txn);
		assert_string_equal(text, "");
	}
	if (wait != NULL)
		*wait = w;
	return rc;
}

/* The count of a counter, 0 when absent. */
static int64_t
count(const char *fmt, ...)
{
	char key[COUNTER_KEY_SIZE];
	struct store_txn *txn;
	struct counter c;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	rc = store_counter_get(txn, key, &c);
	store_abort(txn);
	if (rc == STORE_NOTFOUND)
		return 0;
	assert_int_equal(rc, STORE_OK);
	return c.count;
}

/* A code different from the right one. */
static void
wrong_code(const char *right, char out[SMS_CODE_DIGITS + 1])
{
	str_copy(out, right, SMS_CODE_DIGITS + 1);
	out[0] = out[0] == '9' ? '0' : (char)(out[0] + 1);
}

static void
test_code_right_once(void **state)
{
	static const unsigned char zero[HASH_SIZE];
	char code[SMS_CODE_DIGITS + 1], spaced[16];
	struct user u;
	struct flow f;

	(void)state;
	start();
	mkuser(&u, "anna", "town", PHONE_A);
	mkflow(&f, &u);
	assert_int_equal(sms_code_check(&sms, &f, "123456", fake_now),
	    SMS_EXPIRED);			/* none sent yet */
	assert_int_equal(prepare(&f, &u, "192.0.2.1", code, NULL), SMS_OK);
	assert_memory_not_equal(f.sms_hash, zero, HASH_SIZE);
	/* Only a keyed hash is kept: not the plain SHA-256 of the code. */
	{
		unsigned char h[32];
		sha256(code, SMS_CODE_DIGITS, h);
		assert_memory_not_equal(f.sms_hash, h, HASH_SIZE);
	}
	assert_int_equal(f.sms_sends, 1);
	assert_int_equal(f.sms_sent_at, fake_now);
	assert_int_equal(f.sms_expires, fake_now + 300);
	/* Typed with a blank in the middle, as people do. */
	snprintf(spaced, sizeof(spaced), "%.3s %s", code, code + 3);
	fake_now += 20;
	assert_int_equal(sms_code_check(&sms, &f, spaced, fake_now), SMS_OK);
	assert_memory_equal(f.sms_hash, zero, HASH_SIZE);
	assert_int_equal(sms_code_check(&sms, &f, code, fake_now),
	    SMS_EXPIRED);			/* spent */
}

static void
test_code_wrong_attempts(void **state)
{
	char code[SMS_CODE_DIGITS + 1], bad[SMS_CODE_DIGITS + 1];
	static const unsigned char zero[HASH_SIZE];
	char other[SMS_CODE_DIGITS + 1];
	struct flow f, g;
	struct user u;
	int i;

	(void)state;
	start();
	mkuser(&u, "anna", "town", PHONE_A);
	mkflow(&f, &u);
	mkflow(&g, &u);
	assert_int_equal(prepare(&f, &u, NULL, code, NULL), SMS_OK);
	assert_int_equal(prepare(&g, &u, NULL, other, NULL), SMS_OK);
	/* A code is bound to its flow: g's code does not open f, even were
	 * the digits equal, since the flow hash is in the keyed hash. */
	if (strcmp(code, other) != 0) {
		assert_int_equal(sms_code_check(&sms, &f, other, fake_now),
		    SMS_WRONG);
		f.sms_attempts = 0;
	}
	wrong_code(code, bad);
	assert_int_equal(sms_code_check(&sms, &f, "12ab56", fake_now),
	    SMS_WRONG);			/* malformed counts too */
	assert_int_equal(f.sms_attempts, 1);
	for (i = 2; i <= 5; i++) {
		assert_int_equal(sms_code_check(&sms, &f, bad, fake_now),
		    SMS_WRONG);
		assert_int_equal(f.sms_attempts, i);
	}
	/* Five wrong codes ended it: the right one no longer works. */
	assert_memory_equal(f.sms_hash, zero, HASH_SIZE);
	assert_int_equal(sms_code_check(&sms, &f, code, fake_now),
	    SMS_EXPIRED);
	assert_int_equal(f.sms_attempts, 5);
	/* The other flow is untouched. */
	assert_int_equal(sms_code_check(&sms, &g, other, fake_now), SMS_OK);
}

static void
test_code_expires(void **state)
{
	char c1[SMS_CODE_DIGITS + 1], c2[SMS_CODE_DIGITS + 1];
	struct flow f, g;
	struct user u;

	(void)state;
	start();
	mkuser(&u, "anna", "town", PHONE_A);
	mkflow(&f, &u);
	mkflow(&g, &u);
	assert_int_equal(prepare(&f, &u, NULL, c1, NULL), SMS_OK);
	assert_int_equal(prepare(&g, &u, NULL, c2, NULL), SMS_OK);
	fake_now += 299;
	assert_int_equal(sms_code_check(&sms, &g, c2, fake_now), SMS_OK);
	fake_now += 1;
	assert_int_equal(sms_code_check(&sms, &f, c1, fake_now),
	    SMS_EXPIRED);
	assert_int_equal(f.sms_attempts, 0);	/* not a wrong guess */
}

static void
test_resend(void **state)
{
	char c1[SMS_CODE_DIGITS + 1], c2[SMS_CODE_DIGITS + 1];
	struct user u;
	struct flow f;
	int64_t wait;

	(void)state;
	cfg.resend_after = 30;
	cfg.max_sends = 3;
	start();
	mkuser(&u, "anna", "town", PHONE_A);
	mkflow(&f, &u);
	assert_int_equal(prepare(&f, &u, "192.0.2.1", c1, &wait), SMS_OK);
	assert_int_equal(wait, 0);
	fake_now += 12;
	assert_int_equal(prepare(&f, &u, "192.0.2.1", NULL, &wait),
	    SMS_RESEND_WAIT);
	assert_int_equal(wait, 18);
	/* The refusal counted nothing and left the code alone. */
	assert_int_equal(count("sms:phone:%s:%lld", PHONE_A,
	    (long long)(T0 / 3600)), 1);
	assert_int_equal(count("sms:org:town:2024-05"), 1);
	assert_int_equal(f.sms_sends, 1);
	fake_now += 18;
	assert_int_equal(prepare(&f, &u, "192.0.2.1", c2, &wait), SMS_OK);
	assert_int_equal(f.sms_sends, 2);
	/* The new code replaces the old one. */
	if (strcmp(c1, c2) != 0)
		assert_int_equal(sms_code_check(&sms, &f, c1, fake_now),
		    SMS_WRONG);
	assert_int_equal(sms_code_check(&sms, &f, c2, fake_now), SMS_OK);
	fake_now += 30;
	assert_int_equal(prepare(&f, &u, "192.0.2.1", NULL, NULL), SMS_OK);
	fake_now += 30;
	/* Three sends is the most one flow gets. */
	assert_int_equal(prepare(&f, &u, "192.0.2.1", NULL, &wait),
	    SMS_CAPPED);
	assert_int_equal(count("sms:org:town:2024-05"), 3);
}

static void
test_phone_cap(void **state)
{
	struct user a, b;
	struct flow f;
	long long h = T0 / 3600;
	int i;

	(void)state;
	cfg.per_phone_hour = 3;
	start();
	/* Two accounts sharing one phone, from different addresses. */
	mkuser(&a, "anna", "town", PHONE_A);
	mkuser(&b, "babis", "village", PHONE_A);
	for (i = 0; i < 3; i++) {
		mkflow(&f, i % 2 ? &b : &a);
		assert_int_equal(prepare(&f, i % 2 ? &b : &a, i ? "192.0.2.2" :
		    "192.0.2.1", NULL, NULL), SMS_OK);
	}
	mkflow(&f, &b);
	assert_int_equal(prepare(&f, &b, "192.0.2.3", NULL, NULL),
	    SMS_CAPPED);
	assert_int_equal(f.sms_sends, 0);
	/* Nothing of the refused send was counted anywhere. */
	assert_int_equal(count("sms:phone:%s:%lld", PHONE_A, h), 3);
	assert_int_equal(count("sms:user:babis:%lld", h), 1);
	assert_int_equal(count("sms:addr:192.0.2.3:%lld", h), 0);
	assert_int_equal(count("sms:org:village:2024-05"), 1);
	assert_int_equal(count("sms:org:town:2024-05"), 2);
	/* Another phone is not affected. */
	mkuser(&b, "babis", "village", PHONE_B);
	mkflow(&f, &b);
	assert_int_equal(prepare(&f, &b, "192.0.2.3", NULL, NULL), SMS_OK);
}

static void
test_user_and_addr_caps(void **state)
{
	char id[16], phone[16];
	struct user u;
	struct flow f;
	int i;

	(void)state;
	cfg.per_addr_hour = 3;
	cfg.per_user_hour = 2;
	start();
	/* The account cap holds when the phone changes in between. */
	mkuser(&u, "anna", "town", PHONE_A);
	mkflow(&f, &u);
	assert_int_equal(prepare(&f, &u, "198.51.100.7", NULL, NULL), SMS_OK);
	mkuser(&u, "anna", "town", PHONE_B);
	mkflow(&f, &u);
	assert_int_equal(prepare(&f, &u, "2001:db8::1", NULL, NULL), SMS_OK);
	mkflow(&f, &u);
	assert_int_equal(prepare(&f, &u, "2001:db8::2", NULL, NULL),
	    SMS_CAPPED);
	/* One address: two more people get codes, the third does not. */
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		snprintf(phone, sizeof(phone), "+3069000000%d", i);
		mkuser(&u, id, NULL, phone);
		mkflow(&f, &u);
		assert_int_equal(prepare(&f, &u, "198.51.100.7", NULL, NULL),
		    i < 2 ? SMS_OK : SMS_CAPPED);
	}
	assert_int_equal(count("sms:addr:198.51.100.7:%lld",
	    (long long)(T0 / 3600)), 3);
	assert_int_equal(count("sms:org:citizens:2024-05"), 2);
}

static void
test_org_cap(void **state)
{
	struct registry_err e;
	struct user a, b, c;
	struct flow f;

	(void)state;
	start();
	assert_int_equal(registry_org_add(st, NULL, "town", "Town", &e),
	    REG_OK);
	assert_int_equal(registry_org_add(st, NULL, "village", "Village", &e),
	    REG_OK);
	assert_int_equal(registry_org_set_sms_cap(st, NULL, "town", 2, &e),
	    REG_OK);
	assert_int_equal(registry_org_set_sms_cap(st, NULL, "town", -1, &e),
	    REG_INVALID);
	assert_int_equal(registry_org_set_sms_cap(st, NULL, "nowhere", 5, &e),
	    REG_NOTFOUND);
	mkuser(&a, "anna", "town", PHONE_A);
	mkuser(&b, "babis", "town", PHONE_B);
	mkuser(&c, "chloe", "village", "+306911111111");
	mkflow(&f, &a);
	assert_int_equal(prepare(&f, &a, "192.0.2.1", NULL, NULL), SMS_OK);
	mkflow(&f, &b);
	assert_int_equal(prepare(&f, &b, "192.0.2.2", NULL, NULL), SMS_OK);
	mkflow(&f, &b);
	fake_now += 3600;	/* no hourly cap in the way */
	assert_int_equal(prepare(&f, &b, "192.0.2.2", NULL, NULL),
	    SMS_ORG_CAPPED);
	assert_int_equal(count("sms:org:town:2024-05"), 2);
	assert_int_equal(count("sms:phone:%s:%lld", PHONE_B,
	    (long long)(fake_now / 3600)), 0);
	/* Another organisation is not held back. */
	mkflow(&f, &c);
	assert_int_equal(prepare(&f, &c, "192.0.2.2", NULL, NULL), SMS_OK);
	/* A new month starts from zero (2024-06-01T00:00:00Z). */
	fake_now = 1717200000;
	mkflow(&f, &b);
	assert_int_equal(prepare(&f, &b, "192.0.2.2", NULL, NULL), SMS_OK);
	assert_int_equal(count("sms:org:town:2024-06"), 1);
	/* Lifting the cap lets May's senders through again. */
	fake_now = T0 + 7200;
	assert_int_equal(registry_org_set_sms_cap(st, NULL, "town", 0, &e),
	    REG_OK);
	mkflow(&f, &a);
	assert_int_equal(prepare(&f, &a, "192.0.2.1", NULL, NULL), SMS_OK);
	assert_int_equal(count("sms:org:town:2024-05"), 3);
}

static void
test_hour_rollover(void **state)
{
	struct store_txn *txn;
	struct counter c;
	struct user u;
	struct flow f;
	char key[64];

	(void)state;
	cfg.per_phone_hour = 2;
	start();
	mkuser(&u, "anna", "town", PHONE_A);
	fake_now = T0 + 3500;	/* late in the hour */
	mkflow(&f, &u);
	assert_int_equal(prepare(&f, &u, NULL, NULL, NULL), SMS_OK);
	mkflow(&f, &u);
	assert_int_equal(prepare(&f, &u, NULL, NULL, NULL), SMS_OK);
	mkflow(&f, &u);
	assert_int_equal(prepare(&f, &u, NULL, NULL, NULL), SMS_CAPPED);
	/* The hourly counter lives through its hour and the next. */
	snprintf(key, sizeof(key), "sms:phone:%s:%lld", PHONE_A,
	    (long long)(T0 / 3600));
	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_counter_get(txn, key, &c), STORE_OK);
	store_abort(txn);
	assert_int_equal(c.expires, T0 + 7200);
	fake_now = T0 + 3600;	/* the next clock hour */
	assert_int_equal(prepare(&f, &u, NULL, NULL, NULL), SMS_OK);
	assert_int_equal(count("sms:phone:%s:%lld", PHONE_A,
	    (long long)(T0 / 3600 + 1)), 1);
	/* The sweep removes the old hour's counter when it expires. */
	assert_int_equal(store_sweep(st, T0 + 7200, NULL), STORE_OK);
	assert_int_equal(count("%s", key), 0);
	assert_int_equal(count("sms:org:town:2024-05"), 3);
}

struct usage_row {
	char org[ORG_CODE_SIZE];
	char month[8];
	int64_t count;
};

struct usage_got {
	struct usage_row rows[8];
	int n;
};

static int
usage_cb(const char *org, const char *month, int64_t n, void *arg)
{
	struct usage_got *g = arg;

	assert_true(g->n < 8);
	str_copy(g->rows[g->n].org, org, ORG_CODE_SIZE);
	str_copy(g->rows[g->n].month, month, 8);
	g->rows[g->n++].count = n;
	return 0;
}

static void
send_at(int64_t when, const char *id, const char *org, const char *phone)
{
	struct user u;
	struct flow f;

	fake_now = when;
	mkuser(&u, id, org, phone);
	mkflow(&f, &u);
	assert_int_equal(prepare(&f, &u, "192.0.2.9", NULL, NULL), SMS_OK);
}

static void
test_usage(void **state)
{
	struct usage_got g;

	(void)state;
	start();
	send_at(T0, "anna", "town", PHONE_A);
	send_at(T0 + 60, "babis", "town", PHONE_B);
	send_at(T0 + 120, "chloe", "town-north", "+306911111111");
	send_at(T0 + 180, "dora", NULL, "+306922222222");
	send_at(1717200000 + 5, "anna", "town", PHONE_A);	/* June */
	memset(&g, 0, sizeof(g));
	assert_int_equal(sms_usage(st, NULL, NULL, usage_cb, &g), 0);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.rows[0].org, "citizens");
	assert_int_equal(g.rows[0].count, 1);
	assert_string_equal(g.rows[0].month, "2024-05");
	/* Key order: '-' sorts before the ':' that ends "town". */
	assert_string_equal(g.rows[1].org, "town-north");
	assert_int_equal(g.rows[1].count, 1);
	assert_string_equal(g.rows[2].org, "town");
	assert_string_equal(g.rows[2].month, "2024-05");
	assert_int_equal(g.rows[2].count, 2);
	assert_string_equal(g.rows[3].org, "town");
	assert_string_equal(g.rows[3].month, "2024-06");
	assert_int_equal(g.rows[3].count, 1);
	/* Narrowed to one org: "town" does not pick up "town-north". */
	memset(&g, 0, sizeof(g));
	assert_int_equal(sms_usage(st, "town", NULL, usage_cb, &g), 0);
	assert_int_equal(g.n, 2);
	memset(&g, 0, sizeof(g));
	assert_int_equal(sms_usage(st, NULL, "2024-06", usage_cb, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.rows[0].org, "town");
	memset(&g, 0, sizeof(g));
	assert_int_equal(sms_usage(st, "town", "2024-05", usage_cb, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.rows[0].count, 2);
}

/* Runs a CLI command group on this test's DATA folder; out receives what
 * it printed. The store must be closed (one open per process). */
static int
run_cli(int json, char *out, size_t size, char **argv, int argc)
{
	struct cli c = { data, json, "operator:test", NULL, stderr };
	size_t n;
	int rc;

	assert_non_null(c.out = tmpfile());
	rc = strcmp(argv[0], "sms") == 0 ? cli_sms(&c, argc, argv) :
	    cli_org(&c, argc, argv);
	rewind(c.out);
	n = fread(out, 1, size - 1, c.out);
	out[n] = '\0';
	fclose(c.out);
	return rc;
}

static void
test_cli(void **state)
{
	char *usage[] = { "sms", "usage", NULL, NULL, NULL, NULL, NULL };
	char *cap[] = { "org", "sms-cap", "town", "0", NULL };
	char out[2048], keys[160], link[160];
	struct registry_err e;
	json_error_t je;
	json_t *j, *rows, *r;

	(void)state;
	start();
	assert_int_equal(registry_org_add(st, NULL, "town", "Town", &e),
	    REG_OK);
	assert_int_equal(registry_org_set_sms_cap(st, NULL, "town", 10, &e),
	    REG_OK);
	send_at(T0, "anna", "town", PHONE_A);
	send_at(T0 + 60, "babis", "town", PHONE_B);
	send_at(T0 + 120, "dora", NULL, "+306922222222");
	send_at(1717200000 + 5, "anna", "town", PHONE_A);
	store_close(st);
	st = NULL;
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(link, sizeof(link), "%s/keys", data);
	assert_int_equal(symlink(keys, link), 0);

	assert_int_equal(run_cli(0, out, sizeof(out), usage, 2), 0);
	assert_non_null(strstr(out, "town 2024-05: 2 SMS (cap 10)\n"));
	assert_non_null(strstr(out, "citizens 2024-05: 1 SMS\n"));
	assert_int_equal(run_cli(1, out, sizeof(out), usage, 2), 0);
	assert_non_null(j = json_loads(out, 0, &je));
	assert_non_null(rows = json_object_get(j, "usage"));
	assert_int_equal(json_array_size(rows), 3);
	r = json_array_get(rows, 2);
	assert_string_equal(json_string_value(json_object_get(r, "org")),
	    "town");
	assert_string_equal(json_string_value(json_object_get(r, "month")),
	    "2024-06");
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "cap")), 10);
	json_decref(j);

	usage[2] = "--org";
	usage[3] = "town";
	usage[4] = "--month";
	usage[5] = "2024-05";
	assert_int_equal(run_cli(1, out, sizeof(out), usage, 6), 0);
	assert_non_null(j = json_loads(out, 0, &je));
	rows = json_object_get(j, "usage");
	assert_int_equal(json_array_size(rows), 1);
	r = json_array_get(rows, 0);
	assert_int_equal(json_integer_value(json_object_get(r, "count")), 2);
	json_decref(j);
	usage[5] = "2024-5";
	assert_int_equal(run_cli(1, out, sizeof(out), usage, 6), 2);

	assert_int_equal(run_cli(1, out, sizeof(out), cap, 4), 0);
	assert_string_equal(out, "{\"code\":\"town\",\"sms_monthly_cap\":0}\n");
	cap[3] = "-1";
	assert_int_equal(run_cli(1, out, sizeof(out), cap, 4), 2);
	cap[2] = "nowhere";
	cap[3] = "5";
	assert_int_equal(run_cli(1, out, sizeof(out), cap, 4), 1);
	assert_non_null(strstr(out, "not_found"));
}

/* The newest file in the outbox, read whole. */
static char *
outbox_newest(char *name, size_t size)
{
	char path[1024], best[256] = "";
	struct dirent *d;
	DIR *dp;

	assert_non_null(dp = opendir(cfg.outbox));
	while ((d = readdir(dp)) != NULL) {
		size_t n = strlen(d->d_name);
		if (n > 4 && strcmp(d->d_name + n - 4, ".sms") == 0 &&
		    strcmp(d->d_name, best) > 0)
			str_copy(best, d->d_name, sizeof(best));
	}
	closedir(dp);
	assert_true(best[0] != '\0');
	str_copy(name, best, size);
	snprintf(path, sizeof(path), "%s/%s", cfg.outbox, best);
	return file_read(path, 4096, NULL);
}

static void
test_outbox(void **state)
{
	char text[SMS_TEXT_MAX], name[256], path[1024], want[400];
	struct store_txn *txn;
	struct stat sb;
	struct user u;
	struct flow f;
	char *got;

	(void)state;
	start();
	assert_int_equal(stat(cfg.outbox, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	mkuser(&u, "anna", "town", PHONE_A);
	mkflow(&f, &u);
	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	assert_int_equal(sms_code_prepare(&sms, txn, &f, &u, NULL, fake_now,
	    text, NULL), SMS_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
	assert_int_equal(sms_gateway_send(gw, u.phone, "first", NULL, 0), 0);
	assert_int_equal(sms_gateway_send(gw, u.phone, text, NULL, 0), 0);
	got = outbox_newest(name, sizeof(name));
	snprintf(want, sizeof(want), "to: %s\n\n%s\n", PHONE_A, text);
	assert_string_equal(got, want);
	free(got);
	snprintf(path, sizeof(path), "%s/%s", cfg.outbox, name);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* A phone number that is not E.164 is refused, not written. */
	assert_int_equal(sms_gateway_send(gw, "+30 69\nx: y", "hi", text,
	    sizeof(text)), -1);
	assert_non_null(strstr(text, "E.164"));
	/* A missing outbox folder is created again. */
	snprintf(path, sizeof(path), "rm -rf '%s'", cfg.outbox);
	assert_int_equal(system(path), 0);
	assert_int_equal(sms_gateway_send(gw, u.phone, "again", NULL, 0), 0);
	got = outbox_newest(name, sizeof(name));
	assert_string_equal(got, "to: " PHONE_A "\n\nagain\n");
	free(got);
}

/* SIGHUP (sms_configure, sms_gateway_replace): the next code follows the
 * new settings, a code already sent keeps the lifetime it was given, an
 * unusable template changes nothing, and the gateway sends with its new
 * settings. */
static void
test_reconfigure(void **state)
{
	char c1[SMS_CODE_DIGITS + 1], c2[SMS_CODE_DIGITS + 1];
	char bad[SMS_CODE_DIGITS + 1], name[256], err[256], *got;
	struct sms_gateway *ng;
	struct sms_config next;
	struct user u;
	struct flow f;

	(void)state;
	cfg.max_sends = 1;
	start();
	mkuser(&u, "anna", "town", PHONE_A);
	mkflow(&f, &u);
	assert_int_equal(prepare(&f, &u, NULL, c1, NULL), SMS_OK);
	assert_int_equal(f.sms_expires, fake_now + 300);
	fake_now += 60;
	assert_int_equal(prepare(&f, &u, NULL, NULL, NULL), SMS_CAPPED);

	next = cfg;
	next.max_sends = 3;
	next.code_ttl = 120;
	next.max_attempts = 1;
	assert_int_equal(sms_configure(&sms, &next), 0);
	assert_int_equal(prepare(&f, &u, NULL, c2, NULL), SMS_OK);
	assert_int_equal(f.sms_expires, fake_now + 120);
	/* One wrong guess is now all a code takes. */
	wrong_code(c2, bad);
	assert_int_equal(sms_code_check(&sms, &f, bad, fake_now), SMS_WRONG);
	assert_int_equal(sms_code_check(&sms, &f, c2, fake_now), SMS_EXPIRED);

	/* No {code}: refused, the running template stays (prepare checks
	 * the text). */
	str_copy(next.template_, "no placeholder {cod}",
	    sizeof(next.template_));
	assert_int_equal(sms_configure(&sms, &next), -1);
	fake_now += 60;
	assert_int_equal(prepare(&f, &u, NULL, NULL, NULL), SMS_OK);

	/* Another outbox: the same gateway object now writes there. */
	snprintf(next.outbox, sizeof(next.outbox), "%s/outbox-b", dir);
	assert_non_null(ng = sms_gateway_new(&next, err, sizeof(err)));
	sms_gateway_replace(gw, ng);
	assert_int_equal(sms_gateway_send(gw, PHONE_A, "to b", NULL, 0), 0);
	str_copy(cfg.outbox, next.outbox, sizeof(cfg.outbox));
	got = outbox_newest(name, sizeof(name));
	assert_string_equal(got, "to: " PHONE_A "\n\nto b\n");
	free(got);
}

static void
test_template_and_config(void **state)
{
	struct config c;
	struct sms s2;
	char ini[128], err[256];
	FILE *fp;

	(void)state;
	/* A template without {code} would send no code at all. */
	str_copy(cfg.template_, "no placeholder {cod}", sizeof(cfg.template_));
	assert_int_equal(sms_init(&s2, &cfg, NULL, ks), -1);
	str_copy(cfg.template_, "{code} (again: {code})",
	    sizeof(cfg.template_));
	assert_int_equal(sms_init(&s2, &cfg, NULL, ks), 0);
	sms_clear(&s2);

	config_defaults(&c);
	assert_string_equal(c.sms.gateway, "outbox");
	assert_string_equal(c.sms.outbox, "");
	assert_int_equal(c.sms.code_ttl, 300);
	assert_int_equal(c.sms.max_attempts, 5);
	assert_non_null(strstr(c.sms.template_, "{code}"));
	snprintf(ini, sizeof(ini), "%s/sms.ini", dir);
	assert_non_null(fp = fopen(ini, "w"));
	fputs("[sms]\ngateway = http\nurl = https://sms.example.gr/send\n"
	    "username = kleidi\npassword = s3cret\ntimeout_ms = 2500\n"
	    "max_attempts = 3\nper_addr_hour = 40\n"
	    "template = Κωδικός {code}\n", fp);
	fclose(fp);
	assert_int_equal(config_load(&c, ini, err, sizeof(err)), 0);
	assert_string_equal(c.sms.gateway, "http");
	assert_string_equal(c.sms.password, "s3cret");
	assert_int_equal(c.sms.timeout_ms, 2500);
	assert_int_equal(c.sms.max_attempts, 3);
	assert_int_equal(c.sms.per_addr_hour, 40);
	assert_int_equal(c.sms.code_ttl, 300);		/* untouched */
	assert_string_equal(c.sms.template_, "Κωδικός {code}");
	assert_non_null(fp = fopen(ini, "w"));
	fputs("[sms]\nmax_attempts = 0\n", fp);
	fclose(fp);
	assert_int_equal(config_load(&c, ini, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "max_attempts"));
	unlink(ini);
}

static void
test_gateway_config(void **state)
{
	struct sms_gateway *g;
	char err[256];

	(void)state;
	str_copy(cfg.gateway, "carrier-pigeon", sizeof(cfg.gateway));
	assert_null(sms_gateway_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "unknown gateway"));
	str_copy(cfg.gateway, "outbox", sizeof(cfg.gateway));
	cfg.outbox[0] = '\0';
	assert_null(sms_gateway_new(&cfg, err, sizeof(err)));
	str_copy(cfg.gateway, "http", sizeof(cfg.gateway));
	str_copy(cfg.url, "http://sms.example.gr/send", sizeof(cfg.url));
	assert_null(sms_gateway_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "https"));
	str_copy(cfg.url, "https://u:p@sms.example.gr/", sizeof(cfg.url));
	assert_null(sms_gateway_new(&cfg, err, sizeof(err)));
	str_copy(cfg.url, "ftp://sms.example.gr/", sizeof(cfg.url));
	assert_null(sms_gateway_new(&cfg, err, sizeof(err)));
	str_copy(cfg.url, "http://127.0.0.1.example.gr/", sizeof(cfg.url));
	assert_null(sms_gateway_new(&cfg, err, sizeof(err)));
	str_copy(cfg.url, "https://sms.example.gr/send", sizeof(cfg.url));
	assert_non_null(g = sms_gateway_new(&cfg, err, sizeof(err)));
	sms_gateway_free(g);
	str_copy(cfg.url, "http://localhost:9/send", sizeof(cfg.url));
	assert_non_null(g = sms_gateway_new(&cfg, err, sizeof(err)));
	sms_gateway_free(g);
	str_copy(cfg.url, "http://[::1]:9/send", sizeof(cfg.url));
	assert_non_null(g = sms_gateway_new(&cfg, err, sizeof(err)));
	sms_gateway_free(g);
	str_copy(cfg.url, "http://[::2]:9/send", sizeof(cfg.url));
	assert_null(sms_gateway_new(&cfg, err, sizeof(err)));
}

/* ---- a gateway on 127.0.0.1 that records one request and answers it
 * with a chosen status, or holds it until the test lets go. */
struct fake_gw {
	int lfd;
	int port;
	int status;
	int hang;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int released;
	char req[8192];
	size_t len;
};

/* Reads until the headers and Content-Length bytes of body are in. */
static void
fake_read(struct fake_gw *s, int fd)
{
	const char *end, *cl;
	ssize_t n;
	size_t want;

	for (;;) {
		n = read(fd, s->req + s->len, sizeof(s->req) - 1 - s->len);
		if (n <= 0)
			return;
		s->len += (size_t)n;
		s->req[s->len] = '\0';
		if ((end = strstr(s->req, "\r\n\r\n")) == NULL)
			continue;
		cl = strcasestr(s->req, "\r\nContent-Length:");
		want = (size_t)(end + 4 - s->req) +
		    (cl != NULL ? (size_t)atol(cl + 17) : 0);
		if (s->len >= want || s->len == sizeof(s->req) - 1)
			return;
	}
}

static void *
fake_serve(void *arg)
{
	struct fake_gw *s = arg;
	struct timeval tv = { 5, 0 };
	char resp[128];
	int fd;

	if ((fd = accept(s->lfd, NULL, NULL)) == -1)
		return NULL;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fake_read(s, fd);
	if (s->hang) {
		pthread_mutex_lock(&s->mu);
		while (!s->released)
			pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
	} else {
		snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length:"
		    " 2\r\nLocation: http://127.0.0.1:9/\r\nConnection: "
		    "close\r\n\r\nok", s->status);
		(void)write(fd, resp, strlen(resp));
	}
	close(fd);
	return NULL;
}

static void
fake_start(struct fake_gw *s, int status, int hang)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->status = status;
	s->hang = hang;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((s->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen),
	    0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thr, NULL, fake_serve, s), 0);
	str_copy(cfg.gateway, "http", sizeof(cfg.gateway));
	snprintf(cfg.url, sizeof(cfg.url), "http://127.0.0.1:%d/send",
	    s->port);
	str_copy(cfg.username, "kleidi", sizeof(cfg.username));
	str_copy(cfg.password, "pa:ss w0rd", sizeof(cfg.password));
}

static void
fake_stop(struct fake_gw *s)
{
	pthread_mutex_lock(&s->mu);
	s->released = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thr, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
}

/* The value of form field name in body, percent-decoded. */
static void
form_field(const char *body, const char *name, char *out, size_t size)
{
	const char *p = body;
	size_t n = strlen(name), o = 0;
	unsigned v;

	for (;;) {
		assert_non_null(p);
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			break;
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
	for (p += n + 1; *p != '\0' && *p != '&' && o + 1 < size; p++) {
		if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) {
			out[o++] = (char)v;
			p += 2;
		} else
			out[o++] = *p == '+' ? ' ' : *p;
	}
	out[o] = '\0';
}

static void
test_http_gateway(void **state)
{
	char err[256], field[SMS_TEXT_MAX], *auth, *eol;
	const char *text = "Your code is 042917. Ελληνικά & more=yes";
	unsigned char *cred;
	struct fake_gw s;
	size_t clen;

	(void)state;
	fake_start(&s, 200, 0);
	cfg.timeout_ms = 5000;
	start();
	assert_int_equal(sms_gateway_send(gw, PHONE_A, text, err,
	    sizeof(err)), 0);
	fake_stop(&s);
	assert_int_equal(strncmp(s.req, "POST /send HTTP/1.1\r\n", 21), 0);
	assert_non_null(strcasestr(s.req, "\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\n"));
	assert_non_null(auth = strcasestr(s.req, "\r\nAuthorization: Basic "));
	auth += strlen("\r\nAuthorization: Basic ");
	assert_non_null(eol = strstr(auth, "\r\n"));
	cred = b64std_decode(auth, (size_t)(eol - auth), &clen);
	assert_non_null(cred);
	assert_string_equal((char *)cred, "kleidi:pa:ss w0rd");
	free(cred);
	form_field(strstr(s.req, "\r\n\r\n") + 4, "to", field, sizeof(field));
	assert_string_equal(field, PHONE_A);
	form_field(strstr(s.req, "\r\n\r\n") + 4, "text", field,
	    sizeof(field));
	assert_string_equal(field, text);
}

static void
test_http_refused(void **state)
{
	static const int statuses[] = { 500, 302, 401 };
	char err[256];
	struct fake_gw s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		fake_start(&s, statuses[i], 0);
		cfg.timeout_ms = 5000;
		gw = sms_gateway_new(&cfg, err, sizeof(err));
		assert_non_null(gw);
		assert_int_equal(sms_gateway_send(gw, PHONE_A,
		    "Your code is 771903.", err, sizeof(err)), -1);
		fake_stop(&s);
		sms_gateway_free(gw);
		gw = NULL;
		/* A short reason with the status; never the code or the
		 * credentials. */
		assert_non_null(strstr(err, "HTTP"));
		assert_null(strstr(err, "771903"));
		assert_null(strstr(err, "w0rd"));
		assert_true(s.len > 0);		/* it did ask */
	}
}

static void
test_http_timeout(void **state)
{
	struct fake_gw s;
	char err[256];
	int64_t t0, took;

	(void)state;
	fake_start(&s, 200, 1);
	cfg.timeout_ms = 300;
	start();
	t0 = clock_now_ms();
	assert_int_equal(sms_gateway_send(gw, PHONE_A, "Your code is 118822.",
	    err, sizeof(err)), -1);
	took = clock_now_ms() - t0;
	fake_stop(&s);
	assert_true(took >= 250);
	assert_true(took < 3000);
	assert_non_null(strstr(err, "gateway"));
	assert_null(strstr(err, "118822"));
	assert_true(s.len > 0);

	/* Nobody listening: refused at once, with a reason. */
	sms_gateway_free(gw);
	snprintf(cfg.url, sizeof(cfg.url), "http://127.0.0.1:%d/send",
	    s.port);
	assert_non_null(gw = sms_gateway_new(&cfg, err, sizeof(err)));
	assert_int_equal(sms_gateway_send(gw, PHONE_A, "hello", err,
	    sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_code_right_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_code_wrong_attempts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_expires, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phone_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_user_and_addr_caps, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_org_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hour_rollover, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_template_and_config,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_gateway_config, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_gateway, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_http_timeout, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
