/* password.c - argon2id password hashes in PHC form, policy, and checks
 * that take the same time whether or not the account exists. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <argon2.h>

#include "authn.h"
#include "common_passwords.h"
#include "util/pool.h"

#define SALT_LEN 16
#define HASH_LEN 32

int
password_hash(const struct argon2_params *p, const char *password,
    char *phc, size_t phclen)
{
	unsigned char salt[SALT_LEN];
	size_t len = strlen(password);
	int rc;

	if (len > PASSWORD_MAX || rand_bytes(salt, sizeof(salt)) == -1)
		return -1;
	rc = argon2id_hash_encoded(p->t_cost, p->m_cost_kib, p->parallelism,
	    password, len, salt, sizeof(salt), HASH_LEN, phc, phclen);
	wipe(salt, sizeof(salt));
	if (rc != ARGON2_OK) {
		log_err("argon2id: %s", argon2_error_message(rc));
		return -1;
	}
	return 0;
}

int
password_verify(const char *phc, const char *password)
{
	int rc;

	if (strncmp(phc, "$argon2id$", 10) != 0)
		return -1;
	/* argon2_verify compares the digests in constant time. */
	rc = argon2_verify(phc, password, strlen(password), Argon2_id);
	if (rc == ARGON2_OK)
		return 1;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return 0;
	return -1;
}

static int
common_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* On the list of common passwords, compared in lower case (ASCII; the
 * Greek entries are listed in lower case as typed). Longer than any entry
 * cannot be on it. */
static int
password_common(const char *password, size_t len)
{
	char low[128];
	size_t i;

	if (len >= sizeof(low))
		return 0;
	for (i = 0; i <= len; i++)
		low[i] = (password[i] >= 'A' && password[i] <= 'Z') ?
		    (char)(password[i] - 'A' + 'a') : password[i];
	i = bsearch(low, common_passwords, sizeof(common_passwords) /
	    sizeof(common_passwords[0]), sizeof(common_passwords[0]),
	    common_cmp) != NULL;
	wipe(low, sizeof(low));
	return (int)i;
}

/* One character over and over ("aaaaaaaaaa", "..........."). */
static int
password_one_char(const char *password)
{
	return password[0] != '\0' &&
	    strspn(password, (const char[]){ password[0], '\0' }) ==
	    strlen(password);
}

const char *
password_policy_check(const char *password)
{
	size_t len = strlen(password);

	if (len < PASSWORD_MIN)
		return "password.too_short";
	if (len > PASSWORD_MAX)
		return "password.too_long";
	if (password_common(password, len) || password_one_char(password))
		return "password.common";
	return NULL;
}

const char *
password_policy_check_user(const char *password, const char *username)
{
	const char *rule = password_policy_check(password);

	if (rule == NULL && username != NULL && username[0] != '\0' &&
	    strcasecmp(password, username) == 0)
		return "password.is_username";
	return rule;
}

int
authn_init(struct authn *a, struct store *st, struct pool *pool,
    const struct argon2_params *params)
{
	char random[RAND_TOKEN_LEN];

	memset(a, 0, sizeof(*a));
	a->store = st;
	a->pool = pool;
	a->argon2 = *params;
	/* A hash of a random password nobody knows: checking a password
	 * against it costs what a real check costs and never matches. */
	if (rand_token(random) == -1)
		return -1;
	if (password_hash(params, random, a->dummy_phc,
	    sizeof(a->dummy_phc)) == -1)
		return -1;
	wipe(random, sizeof(random));
	return 0;
}

static void
authn_password_job(void *arg)
{
	struct authn_attempt *at = arg;

	at->verdict = password_verify(at->phc, at->password);
	wipe(at->password, sizeof(at->password));
	at->done(at->arg);
}

int
authn_password_begin(struct authn *a, struct authn_attempt *at,
    const char *username, const char *password, void (*done)(void *arg),
    void *arg)
{
	struct store_txn *txn;
	int rc;

	memset(at, 0, sizeof(*at));
	at->authn = a;
	at->done = done;
	at->arg = arg;
	if (strlen(password) > PASSWORD_MAX)
		return AUTHN_BAD_CREDENTIALS;
	if (store_begin(a->store, 0, &txn) != STORE_OK)
		return AUTHN_ERROR;
	rc = store_user_get_by_name(txn, username, &at->user);
	store_abort(txn);
	if (rc == STORE_ERROR)
		return AUTHN_ERROR;
	at->found = rc == STORE_OK && at->user.password[0] != '\0';
	str_copy(at->phc, at->found ? at->user.password : a->dummy_phc,
	    sizeof(at->phc));
	str_copy(at->password, password, sizeof(at->password));
	if (pool_submit(a->pool, authn_password_job, at) == -1) {
		wipe(at->password, sizeof(at->password));
		return AUTHN_BUSY;
	}
	return AUTHN_OK;
}

int
authn_password_finish(struct authn_attempt *at, struct user *user)
{
	wipe(at->password, sizeof(at->password));
	if (at->verdict == -1 && at->found) {
		log_err("password hash of user %s is unreadable", at->user.id);
		return AUTHN_ERROR;
	}
	if (!at->found || at->verdict != 1)
		return AUTHN_BAD_CREDENTIALS;
	*user = at->user;
	if (at->user.disabled)
		return AUTHN_DISABLED;
	return AUTHN_OK;
}
