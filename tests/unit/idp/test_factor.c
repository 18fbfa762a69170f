/* test_factor.c - sealing of TOTP seeds, TOTP (RFC 6238 vectors, window,
 * replay guard, pending enrolments), the QR code SVG, recovery codes, and
 * the `user totp` / `user recovery` commands. Time is always injected. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <liboath/oath.h>

#include "authn/factor.h"
#include "cli/cli.h"
#include "registry/registry.h"
#include "store/store_int.h"

#define T0 1800000000	/* a step boundary: 1800000000 = 60000000 * 30 */

static char dir[64];
static struct store *st;
static keyset *ks;
static struct factor_keys fk;
static char uid[USER_ID_SIZE];		/* maria */
static char uid2[USER_ID_SIZE];		/* nikos */
static const struct argon2_params cheap = { 1, 8, 1 };
static int64_t now = T0;

/* RFC 6238 appendix B: the SHA-1 seed. */
static const unsigned char rfc_seed[TOTP_SEED_LEN] = "12345678901234567890";

static int64_t
test_clock(void)
{
	return now;
}

static void
open_store(void)
{
	char path[128], err[256];

	(void)snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(store_open(path, &st, err, sizeof(err)), STORE_OK);
}

static int
setup(void **state)
{
	char path[128], err[256];
	struct registry_err e;
	struct user_spec a = { "maria", "town", "Μαρία", NULL, NULL, NULL };
	struct user_spec b = { "nikos", "town", "Νίκος", NULL, NULL, NULL };
	struct user u;

	(void)state;
	clock_set(test_clock);
	str_copy(dir, "/tmp/kleidi-factor-XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(store_create(path, err, sizeof(err)), STORE_OK);
	open_store();
	(void)snprintf(path, sizeof(path), "%s/keys", dir);
	assert_int_equal(keys_init(path, now, err, sizeof(err)), 0);
	assert_non_null(ks = keyset_load(path, now, err, sizeof(err)));
	assert_int_equal(factor_keys_init(&fk, ks), 0);
	assert_int_equal(registry_org_add(st, NULL, "town", "Δήμος", &e),
	    REG_OK);
	assert_int_equal(registry_user_add(st, NULL, &cheap, &a, &u, &e),
	    REG_OK);
	(void)str_copy(uid, u.id, sizeof(uid));
	assert_int_equal(registry_user_add(st, NULL, &cheap, &b, &u, &e),
	    REG_OK);
	(void)str_copy(uid2, u.id, sizeof(uid2));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	factor_keys_clear(&fk);
	keyset_free(ks);
	store_close(st);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	clock_set(NULL);
	return 0;
}

/* ---- helpers */

static void
auth_get(const char *id, struct user_auth *a)
{
	struct store_txn *txn;

	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_user_auth_get(txn, id, a), STORE_OK);
	store_abort(txn);
}

static void
auth_put(const struct user_auth *a)
{
	struct store_txn *txn;

	assert_int_equal(store_begin(st, 1, &txn), STORE_OK);
	assert_int_equal(store_user_auth_put(txn, a), STORE_OK);
	assert_int_equal(store_commit(txn), STORE_OK);
}

/* Gives id a known seed, as if enrolled, keeping the rest of its record. */
static void
plant_seed(const char *id, const unsigned char *seed, int active)
{
	struct store_txn *txn;
	struct user_auth a;
	size_t len;
	int rc;

	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	rc = store_user_auth_get(txn, id, &a);
	store_abort(txn);
	assert_true(rc == STORE_OK || rc == STORE_NOTFOUND);
	str_copy(a.user_id, id, sizeof(a.user_id));
	assert_int_equal(seal(fk.seal, id, seed, TOTP_SEED_LEN, a.totp_sealed,
	    sizeof(a.totp_sealed), &len), 0);
	a.totp_sealed_len = (int)len;
	a.totp_active = active;
	a.totp_last_step = 0;
	auth_put(&a);
}

/* The code of seed at step s, computed by liboath directly. */
static void
code_at(const unsigned char *seed, int64_t step, char out[TOTP_DIGITS + 1])
{
	assert_int_equal(oath_totp_generate((const char *)seed, TOTP_SEED_LEN,
	    (time_t)(step * TOTP_STEP), TOTP_STEP, 0, TOTP_DIGITS, out),
	    OATH_OK);
}

/* The seed behind a base32 secret, decoded by liboath (not our code). */
static void
seed_of(const char *secret, unsigned char seed[TOTP_SEED_LEN])
{
	char *raw = NULL;
	size_t len = 0;

	assert_int_equal(oath_base32_decode(secret, strlen(secret), &raw,
	    &len), OATH_OK);
	assert_int_equal(len, TOTP_SEED_LEN);
	memcpy(seed, raw, TOTP_SEED_LEN);
	free(raw);
}

/* Whether code is one of seed's codes in the window around step s. */
static int
in_window(const unsigned char *seed, int64_t s, const char *code)
{
	char c[TOTP_DIGITS + 1];
	int64_t i;

	for (i = s - TOTP_WINDOW; i <= s + TOTP_WINDOW; i++) {
		code_at(seed, i, c);
		if (strcmp(c, code) == 0)
			return 1;
	}
	return 0;
}

struct scan {
	const void *needle;
	size_t len;
	int found;
};

static int
scan_value(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct scan *s = arg;
	const unsigned char *v = val;
	size_t i;

	(void)key;
	(void)klen;
	for (i = 0; vlen >= s->len && i <= vlen - s->len; i++)
		if (memcmp(v + i, s->needle, s->len) == 0)
			s->found++;
	return 0;
}

/* How many times needle occurs in any value of any table of the store. */
static int
store_contains(const void *needle, size_t len)
{
	struct scan s = { needle, len, 0 };
	struct store_txn *txn;
	int t;

	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	for (t = 0; t < STORE_TBL_COUNT; t++)
		assert_int_equal(store_raw_iter(txn, (enum store_table)t, NULL,
		    0, scan_value, &s), STORE_OK);
	store_abort(txn);
	return s.found;
}

/* ---- sealing */

static void
test_seal_roundtrip(void **state)
{
	unsigned char in[TOTP_SEED_LEN], a[SEALED_SIZE], b[SEALED_SIZE];
	unsigned char out[SEALED_SIZE];
	size_t alen, blen, olen;

	(void)state;
	memcpy(in, rfc_seed, sizeof(in));
	assert_int_equal(seal(fk.seal, uid, in, sizeof(in), a, sizeof(a),
	    &alen), 0);
	assert_int_equal(alen, sizeof(in) + 28);
	assert_int_equal(unseal(fk.seal, uid, a, alen, out, sizeof(out),
	    &olen), 0);
	assert_int_equal(olen, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	/* A fresh nonce every time: the same seed seals differently. */
	assert_int_equal(seal(fk.seal, uid, in, sizeof(in), b, sizeof(b),
	    &blen), 0);
	assert_memory_not_equal(a, b, 12);
	assert_memory_not_equal(a + 12, b + 12, sizeof(in));
	/* The seed itself is not in the sealed bytes. */
	assert_null(memmem(a, alen, in, sizeof(in)));
	/* Too small an output buffer is refused, not overrun. */
	assert_int_equal(seal(fk.seal, uid, in, sizeof(in), b, alen - 1,
	    &blen), -1);
	assert_int_equal(unseal(fk.seal, uid, a, alen, out, sizeof(in) - 1,
	    &olen), -1);
}

/* Flips one bit at pos and expects unseal to refuse. */
static void
expect_tamper_fails(const unsigned char *sealed, size_t len, size_t pos)
{
	unsigned char t[SEALED_SIZE], out[SEALED_SIZE];
	size_t olen = 99;

	memcpy(t, sealed, len);
	t[pos] ^= 0x01;
	assert_int_equal(unseal(fk.seal, uid, t, len, out, sizeof(out),
	    &olen), -1);
	assert_int_equal(olen, 0);
}

static void
test_seal_tamper(void **state)
{
	unsigned char s[SEALED_SIZE], out[SEALED_SIZE], other[32];
	size_t len, olen, i;

	(void)state;
	assert_int_equal(seal(fk.seal, uid, rfc_seed, TOTP_SEED_LEN, s,
	    sizeof(s), &len), 0);
	expect_tamper_fails(s, len, 0);			/* nonce */
	expect_tamper_fails(s, len, 11);		/* nonce, last */
	expect_tamper_fails(s, len, 12);		/* ciphertext */
	expect_tamper_fails(s, len, 12 + TOTP_SEED_LEN - 1);
	expect_tamper_fails(s, len, len - 16);		/* tag */
	expect_tamper_fails(s, len, len - 1);		/* tag, last */
	/* Every single bit position, to be thorough. */
	for (i = 0; i < len; i++)
		expect_tamper_fails(s, len, i);
	/* Wrong associated data: the record moved to another account. */
	assert_int_equal(unseal(fk.seal, uid2, s, len, out, sizeof(out),
	    &olen), -1);
	assert_int_equal(unseal(fk.seal, "", s, len, out, sizeof(out),
	    &olen), -1);
	/* Truncated or extended. */
	assert_int_equal(unseal(fk.seal, uid, s, len - 1, out, sizeof(out),
	    &olen), -1);
	assert_int_equal(unseal(fk.seal, uid, s, 27, out, sizeof(out),
	    &olen), -1);
	assert_int_equal(unseal(fk.seal, uid, s, 0, out, sizeof(out),
	    &olen), -1);
	s[len] = 0;
	assert_int_equal(unseal(fk.seal, uid, s, len + 1, out, sizeof(out),
	    &olen), -1);
	/* Another key (the recovery key, or another master key). */
	assert_int_equal(unseal(fk.recovery, uid, s, len, out, sizeof(out),
	    &olen), -1);
	memset(other, 0x5a, sizeof(other));
	assert_int_equal(unseal(other, uid, s, len, out, sizeof(out),
	    &olen), -1);
	/* And the untouched record still opens. */
	assert_int_equal(unseal(fk.seal, uid, s, len, out, sizeof(out),
	    &olen), 0);
	assert_memory_equal(out, rfc_seed, TOTP_SEED_LEN);
}

static void
test_keys_derived(void **state)
{
	struct factor_keys k2;
	unsigned char d[32];

	(void)state;
	assert_memory_not_equal(fk.seal, fk.recovery, 32);
	assert_memory_not_equal(fk.seal, keyset_master_key(ks), 32);
	assert_int_equal(keyset_derive(ks, "kleidi totp seal v1", d), 0);
	assert_memory_equal(fk.seal, d, 32);
	assert_int_equal(keyset_derive(ks, "kleidi recovery v1", d), 0);
	assert_memory_equal(fk.recovery, d, 32);
	assert_int_equal(factor_keys_init(&k2, ks), 0);
	factor_keys_clear(&k2);
	memset(d, 0, sizeof(d));
	assert_memory_equal(k2.seal, d, 32);
	assert_memory_equal(k2.recovery, d, 32);
}

/* ---- TOTP */

static void
test_totp_rfc6238(void **state)
{
	/* RFC 6238 appendix B, SHA-1: the last 6 of the 8-digit values. */
	static const struct {
		int64_t t;
		const char *rfc8;
	} v[] = {
		{ 59, "94287082" },
		{ 1111111109, "07081804" },
		{ 1111111111, "14050471" },
		{ 1234567890, "89005924" },
		{ 2000000000, "69279037" },
		{ 20000000000LL, "65353130" },
	};
	char six[TOTP_DIGITS + 1];
	size_t i;

	(void)state;
	plant_seed(uid, rfc_seed, 1);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		str_copy(six, v[i].rfc8 + 2, sizeof(six));
		code_at(rfc_seed, v[i].t / TOTP_STEP, six);
		assert_string_equal(six, v[i].rfc8 + 2);
		assert_int_equal(totp_verify(&fk, st, uid, v[i].rfc8 + 2,
		    v[i].t, 0), TOTP_OK);
	}
	/* The 8-digit form is not a 6-digit code. */
	assert_int_equal(totp_verify(&fk, st, uid, "65353130",
	    20000000000LL + 30, 0), TOTP_WRONG);
}

static void
test_totp_window(void **state)
{
	int64_t s = T0 / TOTP_STEP;
	char c[TOTP_DIGITS + 1];
	struct user_auth a;

	(void)state;
	plant_seed(uid, rfc_seed, 1);
	/* One step late and one step early are accepted... */
	code_at(rfc_seed, s - 1, c);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0 + 29, 0), TOTP_OK);
	auth_get(uid, &a);
	assert_int_equal(a.totp_last_step, s - 1);
	code_at(rfc_seed, s + 1, c);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0, 0), TOTP_OK);
	auth_get(uid, &a);
	assert_int_equal(a.totp_last_step, s + 1);
	/* ...two steps away either side are not. */
	plant_seed(uid, rfc_seed, 1);
	code_at(rfc_seed, s - 2, c);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0, 0), TOTP_WRONG);
	code_at(rfc_seed, s + 2, c);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0 + 29, 0),
	    TOTP_WRONG);
	/* A refusal leaves the replay guard alone. */
	auth_get(uid, &a);
	assert_int_equal(a.totp_last_step, 0);
	code_at(rfc_seed, s, c);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0 + 15, 0), TOTP_OK);
}

static void
test_totp_replay(void **state)
{
	int64_t s = T0 / TOTP_STEP;
	char c[TOTP_DIGITS + 1], older[TOTP_DIGITS + 1];
	struct user_auth a;

	(void)state;
	plant_seed(uid, rfc_seed, 1);
	code_at(rfc_seed, s, c);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0 + 1, 0), TOTP_OK);
	/* The same code again, in the same step and one step later while
	 * it is still inside the window. */
	assert_int_equal(totp_verify(&fk, st, uid, c, T0 + 2, 0),
	    TOTP_REPLAY);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0 + 31, 0),
	    TOTP_REPLAY);
	/* After a newer step was used, an older one is refused too. */
	code_at(rfc_seed, s + 1, c);
	code_at(rfc_seed, s, older);
	plant_seed(uid, rfc_seed, 1);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0 + 5, 0), TOTP_OK);
	assert_int_equal(totp_verify(&fk, st, uid, older, T0 + 6, 0),
	    TOTP_REPLAY);
	auth_get(uid, &a);
	assert_int_equal(a.totp_last_step, s + 1);
	/* The next step works. */
	code_at(rfc_seed, s + 2, c);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0 + 60, 0), TOTP_OK);
}

static void
test_totp_malformed(void **state)
{
	static const char *const bad[] = { "12345", "1234567", "12a456", "",
		"      ", "12345\n6", "-12345", "+123456", "１２３４５６",
		"123456 7", "0x1234" };
	int64_t s = T0 / TOTP_STEP;
	char c[TOTP_DIGITS + 1], spaced[16];
	struct user_auth a;
	size_t i;

	(void)state;
	plant_seed(uid, rfc_seed, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(totp_verify(&fk, st, uid, bad[i], T0, 0),
		    TOTP_WRONG);
	assert_int_equal(totp_verify(&fk, st, uid, NULL, T0, 0), TOTP_WRONG);
	/* The right code with a trailing character is still wrong. */
	code_at(rfc_seed, s, c);
	(void)snprintf(spaced, sizeof(spaced), "%sx", c);
	assert_int_equal(totp_verify(&fk, st, uid, spaced, T0, 0), TOTP_WRONG);
	auth_get(uid, &a);
	assert_int_equal(a.totp_last_step, 0);
	/* Blanks are ignored: "123 456", as apps show it. */
	(void)snprintf(spaced, sizeof(spaced), " %.3s %s\t", c, c + 3);
	assert_int_equal(totp_verify(&fk, st, uid, spaced, T0, 0), TOTP_OK);
}

static void
test_totp_none(void **state)
{
	char c[TOTP_DIGITS + 1];
	struct user_auth a;

	(void)state;
	/* nikos has no record at all. */
	assert_int_equal(totp_active(st, uid2), 0);
	assert_int_equal(totp_verify(&fk, st, uid2, "123456", T0, 1),
	    TOTP_NONE);
	assert_int_equal(totp_verify(&fk, st, "no-such-user", "123456", T0,
	    1), TOTP_NONE);
	/* A record without a seed (say, only recovery codes) is no TOTP. */
	memset(&a, 0, sizeof(a));
	str_copy(a.user_id, uid2, sizeof(a.user_id));
	a.recovery_created = 2;
	auth_put(&a);
	code_at(rfc_seed, T0 / TOTP_STEP, c);
	assert_int_equal(totp_verify(&fk, st, uid2, c, T0, 1), TOTP_NONE);
	assert_int_equal(totp_active(st, uid2), 0);
}

static void
test_totp_pending(void **state)
{
	char secret[TOTP_SECRET_B32], uri[TOTP_URI_MAX], c[TOTP_DIGITS + 1];
	unsigned char seed[TOTP_SEED_LEN];
	int64_t s = T0 / TOTP_STEP;
	struct user_auth a;

	(void)state;
	/* A record with other state already (recovery codes). */
	memset(&a, 0, sizeof(a));
	str_copy(a.user_id, uid2, sizeof(a.user_id));
	a.recovery_created = 2;
	auth_put(&a);
	assert_int_equal(totp_enrol(&fk, st, uid2, "Kleidi", "nikos", 0,
	    secret, uri), 0);
	seed_of(secret, seed);
	assert_int_equal(totp_active(st, uid2), 0);
	code_at(seed, s, c);
	/* A pending enrolment is no second factor at sign-in... */
	assert_int_equal(totp_verify(&fk, st, uid2, c, T0, 0), TOTP_NONE);
	assert_int_equal(totp_active(st, uid2), 0);
	/* ...until the person confirms it with a right code. */
	if (!in_window(seed, s, "000000"))
		assert_int_equal(totp_verify(&fk, st, uid2, "000000", T0, 1),
		    TOTP_WRONG);
	assert_int_equal(totp_active(st, uid2), 0);
	assert_int_equal(totp_verify(&fk, st, uid2, c, T0, 1), TOTP_OK);
	assert_int_equal(totp_active(st, uid2), 1);
	auth_get(uid2, &a);
	assert_int_equal(a.totp_last_step, s);
	assert_int_equal(a.totp_enrolled, now);
	/* Enrolment kept the rest of the record; nothing is left pending. */
	assert_int_equal(a.recovery_created, 2);
	assert_int_equal(a.totp_pending_len, 0);
	code_at(seed, s + 1, c);
	assert_int_equal(totp_verify(&fk, st, uid2, c, T0 + 30, 0), TOTP_OK);
}

/* Replacing the authenticator: the seed in use keeps working until the new
 * one is confirmed, so an abandoned re-enrolment loses nothing. */
static void
test_totp_reenrol_keeps_old(void **state)
{
	char secret[TOTP_SECRET_B32], uri[TOTP_URI_MAX], c[TOTP_DIGITS + 1];
	unsigned char old_seed[TOTP_SEED_LEN], new_seed[TOTP_SEED_LEN];
	const char *u = "reenrol-user";
	int64_t s = T0 / TOTP_STEP;

	(void)state;
	assert_int_equal(totp_enrol(&fk, st, u, "Kleidi", "x", 1, secret, uri),
	    0);
	seed_of(secret, old_seed);
	assert_int_equal(totp_enrol(&fk, st, u, "Kleidi", "x", 0, secret, uri),
	    0);
	seed_of(secret, new_seed);
	assert_int_equal(totp_active(st, u), 1);
	/* Not confirmed yet: sign-in still takes the old seed's codes only. */
	code_at(old_seed, s, c);
	assert_int_equal(totp_verify(&fk, st, u, c, T0, 0), TOTP_OK);
	code_at(new_seed, s + 1, c);
	if (!in_window(old_seed, s + 1, c))
		assert_int_equal(totp_verify(&fk, st, u, c, T0 + 30, 0),
		    TOTP_WRONG);
	/* Confirmed: the new seed takes over, the old one stops. */
	assert_int_equal(totp_verify(&fk, st, u, c, T0 + 30, 1), TOTP_OK);
	code_at(old_seed, s + 2, c);
	if (!in_window(new_seed, s + 2, c))
		assert_int_equal(totp_verify(&fk, st, u, c, T0 + 60, 0),
		    TOTP_WRONG);
	code_at(new_seed, s + 2, c);
	assert_int_equal(totp_verify(&fk, st, u, c, T0 + 60, 0), TOTP_OK);
	/* Nothing pending any more: a confirmation has nothing to check. */
	assert_int_equal(totp_verify(&fk, st, u, c, T0 + 60, 1), TOTP_NONE);
}

static void
test_totp_enrol_uri(void **state)
{
	char secret[TOTP_SECRET_B32], uri[TOTP_URI_MAX], want[TOTP_URI_MAX];
	unsigned char seed[TOTP_SEED_LEN];
	size_t i;

	(void)state;
	assert_int_equal(totp_enrol(&fk, st, uid, "Kleidi", "maria", 1,
	    secret, uri), 0);
	assert_int_equal(strlen(secret), 32);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
		    secret[i]));
	seed_of(secret, seed);
	assert_int_equal(totp_active(st, uid), 1);
	(void)snprintf(want, sizeof(want), "otpauth://totp/Kleidi:maria?"
	    "secret=%s&issuer=Kleidi&algorithm=SHA1&digits=6&period=30",
	    secret);
	assert_string_equal(uri, want);
	/* Label parts are percent-encoded. */
	assert_int_equal(totp_enrol(&fk, st, uid, "Δήμος A&B", "m r@x", 1,
	    secret, uri), 0);
	(void)snprintf(want, sizeof(want), "otpauth://totp/%%CE%%94%%CE%%AE"
	    "%%CE%%BC%%CE%%BF%%CF%%82%%20A%%26B:m%%20r%%40x?secret=%s&issuer="
	    "%%CE%%94%%CE%%AE%%CE%%BC%%CE%%BF%%CF%%82%%20A%%26B&algorithm=SHA1&"
	    "digits=6&period=30", secret);
	assert_string_equal(uri, want);
	/* A colon in the issuer would split the label wrongly. */
	assert_int_equal(totp_enrol(&fk, st, uid, "Kle:idi", "maria", 1,
	    secret, uri), -1);
	assert_string_equal(secret, "");
	/* An account name too long for the URI is refused, not cut. */
	memset(want, 'a', 500);
	want[500] = '\0';
	assert_int_equal(totp_enrol(&fk, st, uid, "Kleidi", want, 1, secret,
	    uri), -1);
	assert_string_equal(uri, "");
}

static void
test_totp_reenrol(void **state)
{
	char s1[TOTP_SECRET_B32], s2[TOTP_SECRET_B32], uri[TOTP_URI_MAX];
	unsigned char seed1[TOTP_SEED_LEN], seed2[TOTP_SEED_LEN];
	char c1[TOTP_DIGITS + 1], c2[TOTP_DIGITS + 1];
	int64_t s = T0 / TOTP_STEP;

	(void)state;
	assert_int_equal(totp_enrol(&fk, st, uid, "Kleidi", "maria", 1, s1,
	    uri), 0);
	seed_of(s1, seed1);
	code_at(seed1, s, c1);
	assert_int_equal(totp_verify(&fk, st, uid, c1, T0, 0), TOTP_OK);
	assert_int_equal(totp_enrol(&fk, st, uid, "Kleidi", "maria", 1, s2,
	    uri), 0);
	assert_string_not_equal(s1, s2);
	seed_of(s2, seed2);
	/* The old seed's codes fail (unless, a few times in a million, the
	 * new seed gives the same code in the window). */
	code_at(seed1, s + 1, c1);
	if (!in_window(seed2, s + 1, c1))
		assert_int_equal(totp_verify(&fk, st, uid, c1, T0 + 30, 0),
		    TOTP_WRONG);
	/* The new seed's replay guard starts afresh. */
	code_at(seed2, s, c2);
	assert_int_equal(totp_verify(&fk, st, uid, c2, T0, 0), TOTP_OK);
}

static void
test_totp_sealed_at_rest(void **state)
{
	char secret[TOTP_SECRET_B32], uri[TOTP_URI_MAX], c[TOTP_DIGITS + 1];
	unsigned char seed[TOTP_SEED_LEN];
	struct user_auth a, moved;

	(void)state;
	assert_int_equal(totp_enrol(&fk, st, uid, "Kleidi", "maria", 1,
	    secret, uri), 0);
	seed_of(secret, seed);
	auth_get(uid, &a);
	assert_int_equal(a.totp_sealed_len, TOTP_SEED_LEN + 28);
	/* The sealed form is what the database holds; the seed, its base32
	 * form and the URI appear nowhere in it. */
	assert_int_equal(store_contains(a.totp_sealed,
	    (size_t)a.totp_sealed_len), 1);
	assert_int_equal(store_contains(seed, sizeof(seed)), 0);
	assert_int_equal(store_contains(secret, strlen(secret)), 0);
	assert_int_equal(store_contains(seed + 4, 12), 0);
	/* A sealed seed copied to another account does not open there. */
	moved = a;
	str_copy(moved.user_id, uid2, sizeof(moved.user_id));
	auth_put(&moved);
	code_at(seed, T0 / TOTP_STEP, c);
	assert_int_equal(totp_verify(&fk, st, uid2, c, T0, 0), TOTP_ERROR);
	/* Nor does a damaged one: an error, never "no TOTP". */
	a.totp_sealed[15] ^= 0x80;
	auth_put(&a);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0, 0), TOTP_ERROR);
	a.totp_sealed[15] ^= 0x80;
	a.totp_sealed_len--;
	auth_put(&a);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0, 0), TOTP_ERROR);
	a.totp_sealed_len++;
	auth_put(&a);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0, 0), TOTP_OK);
}

/* ---- QR code */

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
test_qr_svg(void **state)
{
	const char *uri = "otpauth://totp/Kleidi:maria?secret="
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Kleidi&algorithm=SHA1&"
	    "digits=6&period=30";
	struct buf a, b, small;

	(void)state;
	buf_init(&a, (size_t)64 * 1024);
	buf_init(&b, (size_t)64 * 1024);
	buf_init(&small, 256);
	assert_int_equal(totp_qr_svg(uri, &a), 0);
	assert_int_equal(strncmp(a.data, "<svg ", 5), 0);
	assert_int_equal(strcmp(a.data + a.len - 6, "</svg>"), 0);
	assert_int_equal(count(a.data, "<path"), 1);
	assert_int_equal(count(a.data, "<svg"), 1);
	assert_null(strstr(a.data, "<script"));
	assert_null(strstr(a.data, "style="));
	assert_null(strstr(a.data, "width="));
	assert_null(strstr(a.data, "height="));
	assert_null(strstr(a.data, " on"));	/* no event handlers */
	assert_non_null(strstr(a.data, "viewBox=\"0 0 "));
	assert_non_null(strstr(a.data, "role=\"img\""));
	assert_non_null(strstr(a.data, "aria-label=\"QR code\""));
	assert_non_null(strstr(a.data, "shape-rendering=\"crispEdges\""));
	/* The top-left finder pattern: a run of 7 dark modules right after
	 * the 4-module quiet zone, in the first row. */
	assert_non_null(strstr(a.data, "d=\"M4 4h7v1h-7z"));
	/* Deterministic... */
	assert_int_equal(totp_qr_svg(uri, &b), 0);
	assert_string_equal(a.data, b.data);
	/* ...and the data is in it: another URI draws another code. */
	buf_reset(&b);
	assert_int_equal(totp_qr_svg("otpauth://totp/Kleidi:nikos?secret="
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", &b), 0);
	assert_string_not_equal(a.data, b.data);
	/* A buffer too small fails cleanly; empty input fails. */
	assert_int_equal(totp_qr_svg(uri, &small), -1);
	assert_int_equal(totp_qr_svg("", &b), -1);
	buf_free(&a);
	buf_free(&b);
	buf_free(&small);
}

/* ---- recovery codes */

static void
check_format(char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1])
{
	int i, j;

	for (i = 0; i < RECOVERY_CODES; i++) {
		assert_int_equal(strlen(codes[i]), RECOVERY_CODE_LEN);
		for (j = 0; j < RECOVERY_CODE_LEN; j++) {
			if (j % 5 == 4)
				assert_int_equal(codes[i][j], '-');
			else
				assert_non_null(strchr("0123456789abcdefghjk"
				    "mnpqrstvwxyz", codes[i][j]));
		}
		for (j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
	}
}

static void
test_recovery_codes(void **state)
{
	char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	char canon[RECOVERY_CODE_LEN + 1], alt[64];
	struct user_auth a;
	int left = -1, i, j, n;

	(void)state;
	assert_int_equal(recovery_generate(&fk, st, uid, codes), 0);
	check_format(codes);
	auth_get(uid, &a);
	assert_int_equal(a.recovery_created, now);
	/* Kept only as keyed hashes. */
	for (i = 0; i < RECOVERY_CODES; i++) {
		assert_int_equal(store_contains(codes[i], RECOVERY_CODE_LEN),
		    0);
		for (j = n = 0; codes[i][j] != '\0'; j++)
			if (codes[i][j] != '-')
				canon[n++] = codes[i][j];
		assert_int_equal(store_contains(canon, 8), 0);
	}
	/* One code works once. */
	assert_int_equal(recovery_use(&fk, st, uid, codes[3], &left),
	    RECOVERY_OK);
	assert_int_equal(left, 9);
	assert_int_equal(recovery_use(&fk, st, uid, codes[3], &left),
	    RECOVERY_WRONG);
	assert_int_equal(left, 9);
	/* Dashes, blanks and case do not matter. */
	for (j = n = 0; codes[0][j] != '\0'; j++)
		if (codes[0][j] != '-')
			alt[n++] = (char)toupper((unsigned char)codes[0][j]);
	alt[n] = '\0';
	assert_int_equal(recovery_use(&fk, st, uid, alt, &left), RECOVERY_OK);
	assert_int_equal(left, 8);
	(void)snprintf(alt, sizeof(alt), " %.4s %.4s  %.4s-%.4s ", codes[1],
	    codes[1] + 5, codes[1] + 10, codes[1] + 15);
	assert_int_equal(recovery_use(&fk, st, uid, alt, &left), RECOVERY_OK);
	assert_int_equal(left, 7);
	/* The codes of one account are not the codes of another. */
	assert_int_equal(recovery_use(&fk, st, uid2, codes[2], &left),
	    RECOVERY_WRONG);
	assert_int_equal(recovery_use(&fk, st, uid, codes[2], &left),
	    RECOVERY_OK);
	assert_int_equal(left, 6);
	/* The slots of spent codes are zero, the rest are not. */
	auth_get(uid, &a);
	for (i = n = 0; i < RECOVERY_CODES; i++)
		n += a.recovery[i][0] == 0 && memcmp(a.recovery[i],
		    a.recovery[i] + 1, HASH_SIZE - 1) == 0;
	assert_int_equal(n, 4);
}

static void
test_recovery_wrong(void **state)
{
	char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1], bad[64];
	static const char *const malformed[] = { "", "abcd", "----",
		"abcd-efgh-jkmn-pqr", "abcd-efgh-jkmn-pqrst",
		"abcd-efgh-jkmn-pqru", "abcd-efgh-jkmn-pq!s",
		"abcd-efgh-jkmn-pq\xc3\xa9s" };
	const char *ghost = "AAAAAAAAAAAAAAAAAAAAAA";
	struct user_auth a;
	int left = -1;
	size_t i;

	(void)state;
	/* No record, then a record without a set: nothing matches, not
	 * even a code whose hash would be the all-zero "used" slot. */
	assert_int_equal(recovery_use(&fk, st, ghost, "abcd-efgh-jkmn-pqrs",
	    &left), RECOVERY_WRONG);
	assert_int_equal(left, 0);
	memset(&a, 0, sizeof(a));
	str_copy(a.user_id, ghost, sizeof(a.user_id));
	auth_put(&a);
	left = -1;
	assert_int_equal(recovery_use(&fk, st, ghost, "abcd-efgh-jkmn-pqrs",
	    &left), RECOVERY_WRONG);
	assert_int_equal(left, 0);
	assert_int_equal(recovery_generate(&fk, st, uid, codes), 0);
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		assert_int_equal(recovery_use(&fk, st, uid, malformed[i],
		    &left), RECOVERY_WRONG);
	}
	assert_int_equal(recovery_use(&fk, st, uid, NULL, &left),
	    RECOVERY_WRONG);
	/* A real code buried in padding past the input limit. */
	memset(bad, '-', 50);
	str_copy(bad + 50, codes[5], sizeof(bad) - 50);
	assert_int_equal(recovery_use(&fk, st, uid, bad, &left),
	    RECOVERY_WRONG);
	/* Well formed but not one of the set: one symbol changed. */
	str_copy(bad, codes[0], sizeof(bad));
	bad[0] = bad[0] == '2' ? '3' : '2';
	assert_int_equal(recovery_use(&fk, st, uid, bad, &left),
	    RECOVERY_WRONG);
	assert_int_equal(left, RECOVERY_CODES);
	/* Look-alikes typed for 0 and 1 are read as 0 and 1. */
	for (i = 0; i < RECOVERY_CODES; i++)
		if (strpbrk(codes[i], "01") != NULL)
			break;
	if (i < RECOVERY_CODES) {
		char *p;

		str_copy(bad, codes[i], sizeof(bad));
		for (p = bad; *p != '\0'; p++)
			*p = (char)(*p == '0' ? 'O' : *p == '1' ? 'l' : *p);
		assert_int_equal(recovery_use(&fk, st, uid, bad, &left),
		    RECOVERY_OK);
		assert_int_equal(left, RECOVERY_CODES - 1);
	}
}

static void
test_recovery_new_set(void **state)
{
	char old[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	char fresh[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	char secret[TOTP_SECRET_B32], uri[TOTP_URI_MAX], c[TOTP_DIGITS + 1];
	unsigned char seed[TOTP_SEED_LEN];
	int left = -1, i;

	(void)state;
	assert_int_equal(totp_enrol(&fk, st, uid, "Kleidi", "maria", 1,
	    secret, uri), 0);
	assert_int_equal(recovery_generate(&fk, st, uid, old), 0);
	assert_int_equal(recovery_use(&fk, st, uid, old[9], &left),
	    RECOVERY_OK);
	assert_int_equal(recovery_generate(&fk, st, uid, fresh), 0);
	check_format(fresh);
	/* Every code of the old set is void. */
	for (i = 0; i < RECOVERY_CODES; i++)
		assert_int_equal(recovery_use(&fk, st, uid, old[i], &left),
		    RECOVERY_WRONG);
	assert_int_equal(left, RECOVERY_CODES);
	for (i = 0; i < RECOVERY_CODES; i++) {
		assert_int_equal(recovery_use(&fk, st, uid, fresh[i], &left),
		    RECOVERY_OK);
		assert_int_equal(left, RECOVERY_CODES - 1 - i);
	}
	assert_int_equal(recovery_use(&fk, st, uid, fresh[0], &left),
	    RECOVERY_WRONG);
	assert_int_equal(left, 0);
	/* The TOTP enrolment survived both recovery sets. */
	seed_of(secret, seed);
	code_at(seed, T0 / TOTP_STEP, c);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0, 0), TOTP_OK);
}

/* ---- the commands */

/* The newest audit entry is action/outcome on subject, by the test's
 * operator. */
static void
expect_audit(const char *action, const char *outcome, const char *subject)
{
	struct store_txn *txn;
	struct audit_entry e;

	assert_int_equal(store_begin(st, 0, &txn), STORE_OK);
	assert_int_equal(store_audit_last(txn, &e), STORE_OK);
	store_abort(txn);
	assert_string_equal(e.action, action);
	assert_string_equal(e.outcome, outcome);
	assert_string_equal(e.subject, subject);
	assert_string_equal(e.actor, "operator:test");
}

/* Runs `kleidi user ARGS... --json` against the test's data folder;
 * the store is closed meanwhile (one open per process). Returns the exit
 * status; *out gets the parsed JSON output. */
static int
run_cli(const char *sub, const char *name, json_t **out)
{
	char *argv[] = { "user", (char *)sub, (char *)name, NULL };
	struct cli c = { dir, 1, "operator:test", NULL, stderr };
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	int rc;

	store_close(st);
	st = NULL;
	assert_non_null(c.out = open_memstream(&text, &len));
	rc = cli_user(&c, 3, argv);
	assert_int_equal(fclose(c.out), 0);
	*out = json_loads(text, 0, &jerr);
	assert_non_null(*out);
	free(text);
	open_store();
	return rc;
}

static void
test_cli_totp(void **state)
{
	unsigned char seed[TOTP_SEED_LEN];
	char c[TOTP_DIGITS + 1], want[TOTP_URI_MAX];
	const char *secret;
	json_t *j;

	(void)state;
	assert_int_equal(run_cli("totp", "maria", &j), 0);
	assert_string_equal(json_string_value(json_object_get(j,
	    "username")), "maria");
	assert_non_null(secret = json_string_value(json_object_get(j,
	    "secret")));
	(void)snprintf(want, sizeof(want), "otpauth://totp/Kleidi:maria?"
	    "secret=%s&issuer=Kleidi&algorithm=SHA1&digits=6&period=30",
	    secret);
	assert_string_equal(json_string_value(json_object_get(j,
	    "otpauth_uri")), want);
	seed_of(secret, seed);
	json_decref(j);
	expect_audit("user.totp", "ok", "maria");
	/* Active at once: a sign-in (pending = 0) takes the code. */
	assert_int_equal(totp_active(st, uid), 1);
	code_at(seed, T0 / TOTP_STEP, c);
	assert_int_equal(totp_verify(&fk, st, uid, c, T0, 0), TOTP_OK);
	assert_int_equal(run_cli("totp", "nobody", &j), 1);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
	    "not_found");
	json_decref(j);
	expect_audit("user.totp", "refused", "nobody");
}

static void
test_cli_recovery(void **state)
{
	const char *code;
	json_t *j, *codes;
	int left = -1;
	size_t i;

	(void)state;
	assert_int_equal(run_cli("recovery", "nikos", &j), 0);
	expect_audit("user.recovery", "ok", "nikos");
	assert_string_equal(json_string_value(json_object_get(j,
	    "username")), "nikos");
	codes = json_object_get(j, "codes");
	assert_true(json_is_array(codes));
	assert_int_equal(json_array_size(codes), RECOVERY_CODES);
	for (i = 0; i < RECOVERY_CODES; i++) {
		code = json_string_value(json_array_get(codes, i));
		assert_non_null(code);
		assert_int_equal(strlen(code), RECOVERY_CODE_LEN);
	}
	code = json_string_value(json_array_get(codes, 4));
	assert_int_equal(recovery_use(&fk, st, uid2, code, &left),
	    RECOVERY_OK);
	assert_int_equal(left, RECOVERY_CODES - 1);
	assert_int_equal(recovery_use(&fk, st, uid2, code, &left),
	    RECOVERY_WRONG);
	json_decref(j);
	assert_int_equal(run_cli("recovery", "nobody", &j), 1);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
	    "not_found");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_seal_tamper),
		cmocka_unit_test(test_keys_derived),
		cmocka_unit_test(test_totp_rfc6238),
		cmocka_unit_test(test_totp_window),
		cmocka_unit_test(test_totp_replay),
		cmocka_unit_test(test_totp_malformed),
		cmocka_unit_test(test_totp_none),
		cmocka_unit_test(test_totp_pending),
		cmocka_unit_test(test_totp_reenrol_keeps_old),
		cmocka_unit_test(test_totp_enrol_uri),
		cmocka_unit_test(test_totp_reenrol),
		cmocka_unit_test(test_totp_sealed_at_rest),
		cmocka_unit_test(test_qr_svg),
		cmocka_unit_test(test_recovery_codes),
		cmocka_unit_test(test_recovery_wrong),
		cmocka_unit_test(test_recovery_new_set),
		cmocka_unit_test(test_cli_totp),
		cmocka_unit_test(test_cli_recovery),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
