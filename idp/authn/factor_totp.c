/* factor_totp.c - TOTP (RFC 6238: HMAC-SHA-1, 30 s steps, 6 digits, what
 * every authenticator app speaks) with liboath; enrolment, checks with a
 * replay guard, and the state the sign-in asks about. */
#include <pthread.h>
#include <string.h>

#include <liboath/oath.h>

#include "factor.h"

#define TOTP_CODE_MAX 64	/* longest input looked at, blanks included */

static pthread_once_t totp_once = PTHREAD_ONCE_INIT;
static int totp_oath_rc = OATH_OK;

static void
totp_oath_init(void)
{
	totp_oath_rc = oath_init();
}

/* liboath wants oath_init() once before use; pthread_once makes the first
 * caller of any thread do it. 0 or -1. */
static int
totp_lib(void)
{
	if (pthread_once(&totp_once, totp_oath_init) != 0 ||
	    totp_oath_rc != OATH_OK) {
		log_err("totp: liboath: %s", oath_strerror(totp_oath_rc));
		return -1;
	}
	return 0;
}

/* RFC 4648 base32, upper case, no padding; out holds 8 chars per 5 bytes
 * rounded up, plus the NUL. Ours rather than oath_base32_encode so the
 * secret never passes through a buffer we cannot wipe. */
static void
totp_base32(const unsigned char *in, size_t len, char *out)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned acc = 0;
	int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alpha[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = alpha[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

/* The otpauth URI of Google Authenticator's Key Uri Format, which the
 * apps read: label "issuer:account", both parts percent-encoded. */
static int
totp_uri(const char *issuer, const char *account, const char *secret,
    char uri[TOTP_URI_MAX])
{
	struct buf b;
	int rc = -1;

	buf_init(&b, TOTP_URI_MAX - 1);
	if (buf_puts(&b, "otpauth://totp/") == -1 ||
	    buf_put_urlenc(&b, issuer) == -1 || buf_puts(&b, ":") == -1 ||
	    buf_put_urlenc(&b, account) == -1 ||
	    buf_printf(&b, "?secret=%s&issuer=", secret) == -1 ||
	    buf_put_urlenc(&b, issuer) == -1 ||
	    buf_printf(&b, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS,
	    TOTP_STEP) == -1)
		goto done;
	memcpy(uri, b.data, b.len + 1);
	rc = 0;
done:
	buf_free(&b);		/* wipes: the URI carries the secret */
	return rc;
}

/* Puts a newly sealed seed into the user's record (created if the user
 * has none yet), in its own write transaction. */
static int
totp_store_seed(const struct factor_keys *k, struct store *st,
    const char *user_id, const unsigned char *seed, int active)
{
	struct store_txn *txn = NULL;
	struct user_auth a;
	size_t len;
	int rc;

	if (store_begin(st, 1, &txn) != STORE_OK)
		return -1;
	rc = store_user_auth_get(txn, user_id, &a);
	if (rc == STORE_NOTFOUND) {
		memset(&a, 0, sizeof(a));
		str_copy(a.user_id, user_id, sizeof(a.user_id));
	} else if (rc != STORE_OK)
		goto fail;
	if (!active) {
		/* A person's own enrolment waits beside the seed in use until
		 * its first valid code (totp_verify with pending). */
		if (seal(k->seal, user_id, seed, TOTP_SEED_LEN, a.totp_pending,
		    sizeof(a.totp_pending), &len) == -1)
			goto fail;
		a.totp_pending_len = (int)len;
	} else {
		if (seal(k->seal, user_id, seed, TOTP_SEED_LEN, a.totp_sealed,
		    sizeof(a.totp_sealed), &len) == -1)
			goto fail;
		a.totp_sealed_len = (int)len;
		a.totp_active = 1;
		/* The replay guard belongs to the seed: no step of a new seed
		 * has been accepted yet. */
		a.totp_last_step = 0;
		a.totp_enrolled = clock_now();
		wipe(a.totp_pending, sizeof(a.totp_pending));
		a.totp_pending_len = 0;
	}
	if (store_user_auth_put(txn, &a) != STORE_OK)
		goto fail;
	wipe(&a, sizeof(a));
	return store_commit(txn) == STORE_OK ? 0 : -1;
fail:
	wipe(&a, sizeof(a));
	store_abort(txn);
	return -1;
}

int
totp_enrol(const struct factor_keys *k, struct store *st,
    const char *user_id, const char *issuer_label, const char *account,
    int active, char secret[TOTP_SECRET_B32], char uri[TOTP_URI_MAX])
{
	unsigned char seed[TOTP_SEED_LEN];
	int rc = -1;

	secret[0] = '\0';
	uri[0] = '\0';
	if (user_id == NULL || user_id[0] == '\0' ||
	    strlen(user_id) >= USER_ID_SIZE || issuer_label == NULL ||
	    account == NULL || strchr(issuer_label, ':') != NULL)
		return -1;
	if (rand_bytes(seed, sizeof(seed)) == -1)
		goto done;
	totp_base32(seed, sizeof(seed), secret);
	if (totp_uri(issuer_label, account, secret, uri) == -1) {
		log_warn("totp: otpauth URI for user %s too long", user_id);
		goto done;
	}
	if (totp_store_seed(k, st, user_id, seed, active) == -1)
		goto done;
	log_info("totp: user %s enrolled (%s)", user_id, active ? "active" :
	    "pending a first code");
	rc = 0;
done:
	wipe(seed, sizeof(seed));
	if (rc == -1) {
		wipe(secret, TOTP_SECRET_B32);
		wipe(uri, TOTP_URI_MAX);
	}
	return rc;
}

/* Exactly TOTP_DIGITS ASCII digits once blanks are taken out. 0 or -1. */
static int
totp_parse(const char *code, char digits[TOTP_DIGITS + 1])
{
	size_t i, n = 0;

	if (code == NULL)
		return -1;
	for (i = 0; code[i] != '\0'; i++) {
		if (i >= TOTP_CODE_MAX)
			return -1;
		if (code[i] == ' ' || code[i] == '\t')
			continue;
		if (code[i] < '0' || code[i] > '9' || n == TOTP_DIGITS)
			return -1;
		digits[n++] = code[i];
	}
	digits[n] = '\0';
	return n == TOTP_DIGITS ? 0 : -1;
}

/* Compares code with the codes of every step in the window, all of them
 * and in constant time, so timing tells nothing about which one matched.
 * *step gets the lowest matching step above last (TOTP_OK); a match only
 * at used steps is TOTP_REPLAY. */
static int
totp_match(const unsigned char *seed, const char *code, int64_t now,
    int64_t last, int64_t *step)
{
	char otp[TOTP_DIGITS + 1];
	int64_t s, mask, cur = now / TOTP_STEP;
	unsigned fresh = 0, used = 0, m, mf;
	int rc = TOTP_ERROR;

	*step = 0;
	for (s = cur + TOTP_WINDOW; s >= cur - TOTP_WINDOW; s--) {
		if (s < 0)
			continue;	/* before the epoch: no such step */
		if (oath_totp_generate((const char *)seed, TOTP_SEED_LEN,
		    (time_t)(s * TOTP_STEP), TOTP_STEP, 0, TOTP_DIGITS,
		    otp) != OATH_OK)
			goto done;
		m = (unsigned)ct_equal(otp, code, TOTP_DIGITS);
		mf = m & (unsigned)(s > last);
		/* Walking down, the last fresh match is the lowest; chosen
		 * with a mask rather than a branch. */
		mask = -(int64_t)mf;
		*step = (*step & ~mask) | (s & mask);
		fresh |= mf;
		used |= m & (unsigned)(s <= last);
	}
	rc = fresh ? TOTP_OK : used ? TOTP_REPLAY : TOTP_WRONG;
done:
	wipe(otp, sizeof(otp));
	return rc;
}

/* Reads the user's TOTP state for a check: TOTP_OK with the seed
 * unsealed, TOTP_NONE when there is no usable enrolment. */
static int
totp_load(const struct factor_keys *k, struct store_txn *txn,
    const char *user_id, int pending, struct user_auth *a,
    unsigned char seed[TOTP_SEED_LEN])
{
	const unsigned char *sealed;
	size_t len;
	int rc, n;

	rc = store_user_auth_get(txn, user_id, a);
	if (rc == STORE_NOTFOUND)
		return TOTP_NONE;
	if (rc != STORE_OK)
		return TOTP_ERROR;
	sealed = pending ? a->totp_pending : a->totp_sealed;
	n = pending ? a->totp_pending_len : a->totp_sealed_len;
	if (n <= 0 || (!pending && !a->totp_active))
		return TOTP_NONE;
	if (n > SEALED_SIZE || unseal(k->seal, user_id, sealed, (size_t)n,
	    seed, TOTP_SEED_LEN, &len) == -1 || len != TOTP_SEED_LEN) {
		/* Tampered, moved from another account, or another master
		 * key: never treat it as "no TOTP", which would drop a
		 * factor. */
		log_err("totp: sealed seed of user %s does not open", user_id);
		wipe(seed, TOTP_SEED_LEN);
		return TOTP_ERROR;
	}
	return TOTP_OK;
}

int
totp_verify(const struct factor_keys *k, struct store *st,
    const char *user_id, const char *code, int64_t now, int pending)
{
	unsigned char seed[TOTP_SEED_LEN];
	char digits[TOTP_DIGITS + 1];
	struct store_txn *txn = NULL;
	struct user_auth a;
	int64_t step;
	int rc;

	memset(&a, 0, sizeof(a));
	if (user_id == NULL || now < 0 || totp_lib() == -1)
		return TOTP_ERROR;
	if (totp_parse(code, digits) == -1)
		return TOTP_WRONG;
	/* A write transaction from the start: the check and the update of
	 * the replay guard must not interleave with another check. */
	if (store_begin(st, 1, &txn) != STORE_OK)
		return TOTP_ERROR;
	if ((rc = totp_load(k, txn, user_id, pending, &a, seed)) != TOTP_OK)
		goto done;
	/* A pending seed has accepted no step yet. */
	rc = totp_match(seed, digits, now, pending ? 0 : a.totp_last_step,
	    &step);
	wipe(seed, sizeof(seed));
	if (rc != TOTP_OK)
		goto done;
	if (pending) {
		/* Confirmed: the new seed replaces the one in use. */
		memcpy(a.totp_sealed, a.totp_pending, sizeof(a.totp_sealed));
		a.totp_sealed_len = a.totp_pending_len;
		wipe(a.totp_pending, sizeof(a.totp_pending));
		a.totp_pending_len = 0;
		a.totp_enrolled = now;
		log_info("totp: user %s confirmed the enrolment", user_id);
	}
	a.totp_last_step = step;
	a.totp_active = 1;
	if (store_user_auth_put(txn, &a) != STORE_OK) {
		rc = TOTP_ERROR;
		goto done;
	}
	rc = store_commit(txn) == STORE_OK ? TOTP_OK : TOTP_ERROR;
	txn = NULL;
done:
	store_abort(txn);
	wipe(digits, sizeof(digits));
	wipe(&a, sizeof(a));
	return rc;
}

int
totp_active(struct store *st, const char *user_id)
{
	struct store_txn *txn = NULL;
	struct user_auth a;
	int rc;

	if (store_begin(st, 0, &txn) != STORE_OK)
		return -1;
	rc = store_user_auth_get(txn, user_id, &a);
	store_abort(txn);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != STORE_OK)
		return -1;
	rc = a.totp_sealed_len > 0 && a.totp_active;
	wipe(&a, sizeof(a));
	return rc;
}
