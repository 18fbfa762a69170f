/*
 * authn.h - the authentication service: password hashing (argon2id on the
 * bounded worker pool), password checks that cost the same whether or not
 * the account exists, browser sessions.
 *
 * A password check is split in two so no HTTP thread waits on argon2id:
 * authn_password_begin() looks the account up and queues the hash on the
 * pool; the pool calls done(arg) from a worker thread; the caller then
 * calls authn_password_finish() for the verdict.
 */
#ifndef KLEIDI_AUTHN_H
#define KLEIDI_AUTHN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/util.h"

#define PASSWORD_MIN 10		/* characters (bytes) */
#define PASSWORD_MAX 1024	/* longer input is refused, not hashed */

/* Authentication method bits, reported as RFC 8176 amr values. */
#define AMR_PWD 0x01u
#define AMR_OTP 0x02u
#define AMR_SMS 0x04u

#define ACR_LOW "http://eidas.europa.eu/LoA/low"
#define ACR_SUBSTANTIAL "http://eidas.europa.eu/LoA/substantial"

struct pool;

struct argon2_params {
	uint32_t t_cost;
	uint32_t m_cost_kib;
	uint32_t parallelism;
};

struct authn {
	struct store *store;
	struct pool *pool;
	struct argon2_params argon2;
	char dummy_phc[PHC_SIZE];	/* verified when no account matches */
};

enum authn_rc {
	AUTHN_OK = 0,
	AUTHN_BAD_CREDENTIALS,	/* wrong password or no such account */
	AUTHN_DISABLED,		/* right password, account disabled */
	AUTHN_BUSY,		/* pool queue full: 503 + Retry-After */
	AUTHN_ERROR
};

/* Hashes password with argon2id into a PHC string. 0 or -1. */
int password_hash(const struct argon2_params *p, const char *password,
    char *phc, size_t phclen);
/* 1 match, 0 mismatch, -1 malformed PHC string or error. */
int password_verify(const char *phc, const char *password);
/* NULL if the password satisfies the policy (PASSWORD_MIN to PASSWORD_MAX
 * bytes, not one of the common passwords in common_passwords.txt, not one
 * character repeated), else a key naming the rule it breaks:
 * password.too_short, password.too_long, password.common. */
const char *password_policy_check(const char *password);
/* As password_policy_check, and not the username (any case): for a
 * citizen the tax number, which is no secret. */
const char *password_policy_check_user(const char *password,
    const char *username);

/* Sets up a; computes the dummy hash once with the configured
 * parameters. 0 or -1. */
int authn_init(struct authn *a, struct store *st, struct pool *pool,
    const struct argon2_params *params);

struct authn_attempt {
	struct authn *authn;
	char password[PASSWORD_MAX + 1];	/* wiped after the check */
	char phc[PHC_SIZE];
	struct user user;
	int found;
	int verdict;		/* password_verify's result */
	void (*done)(void *arg);
	void *arg;
};

/* Starts checking username/password; done(arg) is called on a pool thread
 * when the hash is computed. Returns AUTHN_OK when queued, AUTHN_BUSY when
 * the pool is full, AUTHN_BAD_CREDENTIALS at once for an over-long
 * password, AUTHN_ERROR on store failure. */
int authn_password_begin(struct authn *a, struct authn_attempt *at,
    const char *username, const char *password, void (*done)(void *arg),
    void *arg);
/* The verdict of a finished attempt; *user is the account on AUTHN_OK and
 * AUTHN_DISABLED. Wipes the password. */
int authn_password_finish(struct authn_attempt *at, struct user *user);

/* ---- sessions: the browser holds a random 256-bit id, the store its hash */
int session_create(struct store *st, const char *user_id, unsigned amr,
    int64_t auth_time, int64_t ttl, char sid[RAND_TOKEN_LEN],
    struct session *out);
/* STORE_OK with a live session and its enabled user, STORE_NOTFOUND when
 * the id is unknown, expired, or its user is gone or disabled. */
int session_lookup(struct store *st, const char *sid, struct session *s,
    struct user *u);
int session_end(struct store *st, const char *sid);

const char *amr_acr(unsigned amr);	/* ACR_LOW or ACR_SUBSTANTIAL */

#endif
