/* factor_recovery.c - single-use recovery codes: 80 random bits each,
 * written for reading aloud, kept only as keyed hashes. */
#include <string.h>

#include <openssl/evp.h>

#include "factor.h"

#define RECOVERY_SYMBOLS 16		/* 16 x 5 bits = 80 bits */
#define RECOVERY_RAW 10			/* bytes of randomness per code */
#define RECOVERY_INPUT_MAX 64		/* longest input looked at */

/* Crockford's base32 alphabet in lower case: no i, l, o or u, so nothing
 * in a code can be taken for another symbol; recovery_canon() also reads
 * the look-alikes a person may type (o for 0, i and l for 1). */
static const char recovery_alpha[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* 80 random bits as "xxxx-xxxx-xxxx-xxxx". */
static int
recovery_make(char code[RECOVERY_CODE_LEN + 1])
{
	unsigned char raw[RECOVERY_RAW];
	unsigned acc = 0;
	int i, bits = 0, sym = 0, o = 0;

	if (rand_bytes(raw, sizeof(raw)) == -1)
		return -1;
	for (i = 0; i < RECOVERY_RAW; i++) {
		acc = (acc << 8 | raw[i]) & 0xfff;
		for (bits += 8; bits >= 5; sym++) {
			bits -= 5;
			if (sym > 0 && sym % 4 == 0)
				code[o++] = '-';
			code[o++] = recovery_alpha[(acc >> bits) & 31];
		}
	}
	code[o] = '\0';
	wipe(raw, sizeof(raw));
	return 0;
}

/* The canonical form of a typed code: blanks and dashes dropped, lower
 * case, look-alikes mapped. -1 unless it is RECOVERY_SYMBOLS symbols of
 * the alphabet. */
static int
recovery_canon(const char *in, char out[RECOVERY_SYMBOLS + 1])
{
	size_t i, n = 0;
	int c;

	if (in == NULL)
		return -1;
	for (i = 0; in[i] != '\0'; i++) {
		if (i >= RECOVERY_INPUT_MAX)
			return -1;
		c = (unsigned char)in[i];
		if (c == '-' || c == ' ' || c == '\t')
			continue;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		c = c == 'o' ? '0' : c == 'i' || c == 'l' ? '1' : c;
		if (strchr(recovery_alpha, c) == NULL || n == RECOVERY_SYMBOLS)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n == RECOVERY_SYMBOLS ? 0 : -1;
}

/* HMAC-SHA256(recovery key, user_id || canonical code): bound to the
 * account, and useless without the master key even with the store. */
static int
recovery_hash(const struct factor_keys *k, const char *user_id,
    const char *canon, unsigned char out[HASH_SIZE])
{
	unsigned char msg[USER_ID_SIZE + RECOVERY_SYMBOLS];
	size_t ulen = strlen(user_id), len;
	int rc = -1;

	if (ulen >= USER_ID_SIZE)
		return -1;
	/* A byte string, not a C string: the code follows the id. */
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
	memcpy(msg, user_id, ulen);
	memcpy(msg + ulen, canon, RECOVERY_SYMBOLS);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k->recovery,
	    sizeof(k->recovery), msg, ulen + RECOVERY_SYMBOLS, out,
	    HASH_SIZE, &len) != NULL && len == HASH_SIZE)
		rc = 0;
	else
		log_err("recovery: HMAC-SHA256 failed");
	wipe(msg, sizeof(msg));
	return rc;
}

/* A fresh set of distinct codes and their hashes. */
static int
recovery_fill(const struct factor_keys *k, const char *user_id,
    char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1],
    unsigned char hashes[RECOVERY_CODES][HASH_SIZE])
{
	char canon[RECOVERY_SYMBOLS + 1];
	int i, j, rc = -1;

	for (i = 0; i < RECOVERY_CODES; i++) {
		if (recovery_make(codes[i]) == -1 ||
		    recovery_canon(codes[i], canon) == -1 ||
		    recovery_hash(k, user_id, canon, hashes[i]) == -1)
			goto done;
		/* A repeat among 2^80 is next to impossible; but the set
		 * promises ten distinct codes, so draw again if it comes. */
		for (j = 0; j < i; j++)
			if (memcmp(hashes[i], hashes[j], HASH_SIZE) == 0)
				break;
		if (j < i)
			i--;
	}
	rc = 0;
done:
	wipe(canon, sizeof(canon));
	return rc;
}

int
recovery_generate(const struct factor_keys *k, struct store *st,
    const char *user_id, char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1])
{
	unsigned char hashes[RECOVERY_CODES][HASH_SIZE];
	struct store_txn *txn = NULL;
	struct user_auth a;
	int rc = -1, src;

	memset(&a, 0, sizeof(a));
	if (user_id == NULL || user_id[0] == '\0' ||
	    strlen(user_id) >= USER_ID_SIZE)
		goto done;
	if (recovery_fill(k, user_id, codes, hashes) == -1 ||
	    store_begin(st, 1, &txn) != STORE_OK)
		goto done;
	src = store_user_auth_get(txn, user_id, &a);
	if (src == STORE_NOTFOUND) {
		memset(&a, 0, sizeof(a));
		str_copy(a.user_id, user_id, sizeof(a.user_id));
	} else if (src != STORE_OK)
		goto done;
	/* The whole array is replaced: every code of the old set fails
	 * from now on. */
	memcpy(a.recovery, hashes, sizeof(a.recovery));
	a.recovery_created = clock_now();
	if (store_user_auth_put(txn, &a) != STORE_OK)
		goto done;
	src = store_commit(txn);
	txn = NULL;
	if (src != STORE_OK)
		goto done;
	log_info("recovery: user %s has a new set of %d codes", user_id,
	    RECOVERY_CODES);
	rc = 0;
done:
	store_abort(txn);
	wipe(hashes, sizeof(hashes));
	wipe(&a, sizeof(a));
	if (rc == -1)
		wipe(codes, sizeof(codes[0]) * RECOVERY_CODES);
	return rc;
}

/* Compares h with every stored hash, all of them, without a branch on the
 * data: the index of the match (or -1) and the number of unused codes. */
static int
recovery_find(const struct user_auth *a, const unsigned char h[HASH_SIZE],
    int *unused)
{
	static const unsigned char zero[HASH_SIZE];
	int i, idx = -1, eq, mask;

	*unused = 0;
	for (i = 0; i < RECOVERY_CODES; i++) {
		/* A used slot is all zero, which no HMAC output equals in
		 * practice; excluding it anyway keeps the rule exact. */
		eq = ct_equal(a->recovery[i], h, HASH_SIZE) &
		    !ct_equal(a->recovery[i], zero, HASH_SIZE);
		mask = -eq;
		idx = (idx & ~mask) | (i & mask);
		*unused += !ct_equal(a->recovery[i], zero, HASH_SIZE);
	}
	return idx;
}

int
recovery_use(const struct factor_keys *k, struct store *st,
    const char *user_id, const char *code, int *left)
{
	char canon[RECOVERY_SYMBOLS + 1];
	unsigned char h[HASH_SIZE];
	struct store_txn *txn = NULL;
	struct user_auth a;
	int rc = RECOVERY_ERROR, src, idx, unused = 0;

	memset(&a, 0, sizeof(a));
	if (user_id == NULL)
		goto done;
	if (recovery_canon(code, canon) == -1) {
		rc = RECOVERY_WRONG;
		goto done;
	}
	if (strlen(user_id) >= USER_ID_SIZE ||
	    recovery_hash(k, user_id, canon, h) == -1 ||
	    store_begin(st, 1, &txn) != STORE_OK)
		goto done;
	src = store_user_auth_get(txn, user_id, &a);
	if (src == STORE_NOTFOUND) {
		rc = RECOVERY_WRONG;
		goto done;
	} else if (src != STORE_OK)
		goto done;
	if ((idx = recovery_find(&a, h, &unused)) < 0) {
		rc = RECOVERY_WRONG;
		goto done;
	}
	/* Spent in the same transaction that found it: two sign-ins racing
	 * with one code cannot both win. */
	memset(a.recovery[idx], 0, HASH_SIZE);
	if (store_user_auth_put(txn, &a) != STORE_OK)
		goto done;
	src = store_commit(txn);
	txn = NULL;
	if (src != STORE_OK)
		goto done;
	unused--;
	log_info("recovery: user %s used a code, %d left", user_id, unused);
	rc = RECOVERY_OK;
done:
	store_abort(txn);
	if (left != NULL)
		*left = unused;
	wipe(canon, sizeof(canon));
	wipe(h, sizeof(h));
	wipe(&a, sizeof(a));
	return rc;
}
