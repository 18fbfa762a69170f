/*
 * store.h - the one storage interface of Kleidi. Services call only these
 * functions; nothing outside idp/store/ knows which database is behind it.
 * The embedded backend is LMDB (store_lmdb.c); a PostgreSQL backend can
 * implement struct store_backend (store_backend.h) later without touching
 * the services. No LMDB type appears here.
 *
 * Transactions: one write transaction per logical change. store_begin()
 * opens a read or write transaction; every get/put below runs inside one.
 * Read transactions are cheap and may run concurrently with one writer
 * (and with writers in other processes, e.g. the CLI while serving).
 * Write transactions are serialised: a thread that begins one while it
 * still holds another waits for itself for ever. A hot path whose writes
 * are small uses store_write (below) instead, which shares one commit
 * between concurrent callers.
 *
 * Returned records are copied into caller-owned structs; nothing returned
 * is borrowed from the database. The callback of a *_list function may
 * write through the same (write) transaction, even delete what it is given.
 *
 * Strings in records must end with a NUL inside their field: the store
 * refuses (STORE_ERROR) rather than truncates. A lookup by a key that could
 * not be stored (empty, longer than its field) answers STORE_NOTFOUND.
 *
 * Secrets handed out to browsers and clients (session ids, authorization
 * codes, flow handles) are never stored: their records are keyed by the
 * SHA-256 of the secret (secret_hash() in util.h).
 */
#ifndef KLEIDI_STORE_H
#define KLEIDI_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Still 1 although issue 3 added tables (user_auth, counter, audit) and
 * fields: no store has been released, so there is nothing to migrate.
 * From the first release on, a change old binaries would misread bumps it;
 * new fields and tables alone need not (see store_int.h, the codec). */
#define STORE_SCHEMA_VERSION 1

/* Sizes of record fields, including the terminating NUL. */
#define ORG_CODE_SIZE 33
#define APP_ID_SIZE 65
#define USER_ID_SIZE 33		/* the stable `sub`: 22 base64url chars */
#define USERNAME_SIZE 65
#define NAME_SIZE 129
#define EMAIL_SIZE 255
#define PHONE_SIZE 33
#define ROLE_SIZE 65
#define PHC_SIZE 192
#define URI_SIZE 513
#define APP_URIS_MAX 8
#define STATE_SIZE 513
#define NONCE_SIZE 257
#define SCOPE_SIZE 257
#define CLAIMS_SIZE 257		/* claim names, space-separated */
#define CHALLENGE_SIZE 129
#define HASH_SIZE 32
#define REGNO_SIZE 33			/* employee registry number */
#define TAXID_SIZE 16			/* Greek tax number (AFM): 9 digits */

enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND = 1,	/* no such record */
	STORE_EXISTS = 2,	/* insert of a key that is already there */
	STORE_FULL = 3,		/* the database reached its size limit */
	STORE_ERROR = -1	/* I/O, corruption, no memory, invalid
				 * argument: logged inside */
};

struct store;
struct store_txn;

/* ---- lifecycle */
/* Creates a new store in dir (mode 0700; dir may also be an existing
 * folder without a store, whose mode is kept). Fails with STORE_EXISTS if
 * a store is already there. */
int store_create(const char *dir, char *err, size_t errlen);
/* Opens an existing store; refuses one whose schema version differs from
 * STORE_SCHEMA_VERSION (err says which). STORE_NOTFOUND if dir holds no
 * store. *out is NULL on failure. A process opens a store once and shares
 * the handle between its threads: a second open of the same folder in one
 * process is refused (closing it would drop the first one's locks). */
int store_open(const char *dir, struct store **out, char *err,
    size_t errlen);
void store_close(struct store *st);	/* NULL is a no-op */

int store_begin(struct store *st, int write, struct store_txn **out);
int store_commit(struct store_txn *txn);	/* frees txn in every case */
void store_abort(struct store_txn *txn);	/* frees txn; NULL is no-op */

/* ---- group commit (issue 7): many small writes, one durable commit.
 * Each commit is an fsync, and write transactions run one at a time, so a
 * store_begin/store_commit per request caps a busy path (refresh-token
 * rotation) at the disk's sync rate. store_write runs fn(txn, arg) inside
 * a write transaction shared with the store_write calls of other threads
 * that wait meanwhile: the first caller leads, begins the transaction,
 * runs its own fn and every fn queued since (at most STORE_WRITE_BATCH_MAX
 * a batch), each inside a nested transaction of its own, commits once and
 * wakes the others; a caller that arrives during that commit waits for
 * the next batch. Every fn runs in the leader's thread.
 *
 * fn's changes are atomic on their own: fn returns 0 to keep them, any
 * other value to drop them, which leaves the rest of the batch alone. A
 * write of fn that fails with STORE_ERROR or STORE_FULL drops fn's changes
 * even if fn returns 0 (store_write then returns that code). fn sees what
 * the fns before it in the batch wrote (an audit entry chains onto the
 * previous fn's entry).
 *
 * store_write returns only once the batch's commit is over, so no answer
 * rests on a change that is not on disk - not even a refusal, which may
 * have read what a batch-mate wrote:
 *	0		fn returned 0 and its changes are durably committed;
 *	fn's value	fn returned non-zero (nothing of it kept);
 *	STORE_ERROR, STORE_FULL  the batch's transaction could not begin or
 *			commit (every fn of the batch gets it: nothing of any
 *			of them is kept), or a write of fn failed as above.
 * A caller that must tell fn's own failures from the store's gives fn
 * values other than those (or keeps fn's result in arg).
 *
 * fn must be quick (no password hashing, no network: the whole batch
 * waits for it) and must not begin a transaction or call store_write
 * (both are refused with STORE_ERROR from inside fn: the leader already
 * holds the writer lock and would wait for itself for ever); nor may it
 * commit, abort or keep txn. As with store_begin, a thread that holds a
 * write transaction must not call store_write. */
#define STORE_WRITE_BATCH_MAX 64
typedef int (*store_write_fn)(struct store_txn *txn, void *arg);
int store_write(struct store *st, store_write_fn fn, void *arg);

/* Counters of store_write since the store was opened (for metrics and
 * the tests): fn runs, top-level commits that carried them, the largest
 * batch, and the calls waiting now for a batch to take them. */
struct store_write_stats {
	uint64_t writes;
	uint64_t commits;
	uint64_t batch_max;
	uint64_t waiting;
};
void store_write_stats(struct store *st, struct store_write_stats *out);

/* Deletes expired sessions, codes, flows, counters and refresh tokens
 * (expires <= now);
 * audit entries and user_auth records never expire. Runs in its
 * own write transactions, a batch of at most 512 each so a backlog never
 * holds the writer lock long; *removed (may be NULL) gets the count. */
int store_sweep(struct store *st, int64_t now, size_t *removed);

/* ---- operations (issue 8) */
/* Writes a consistent, compacted copy of the whole database to fd (a
 * regular file opened for writing, at its start) while other threads and
 * processes go on reading and writing: the copy is the snapshot of one
 * read transaction. The copy is a complete store folder's data file
 * (data.mdb for LMDB). fd is neither closed nor synced. */
int store_backup_fd(struct store *st, int fd);
/* The name the backend gives its data file inside a store folder, so a
 * restore knows where a copy goes ("data.mdb"). */
const char *store_data_file(void);

/* The consistency check: in one read snapshot, every record decodes and
 * has its index entries (username, user_org, user_regno, session_user,
 * refresh family and user, expiry), and every index entry names a record
 * that exists and agrees with it. fn (may be NULL) gets one line per
 * problem; *problems (may be NULL) how many. STORE_OK when the check ran
 * to the end, whatever it found. The audit chain is idp/audit's
 * (audit_verify). */
typedef void (*store_problem_fn)(const char *problem, void *arg);
int store_check(struct store *st, store_problem_fn fn, void *arg,
    size_t *problems);

/* Small key/value settings (issuer, created-at...). value up to 1 KiB. */
int store_meta_get(struct store_txn *txn, const char *key, char *value,
    size_t size);
int store_meta_put(struct store_txn *txn, const char *key,
    const char *value);

/* ---- organisations and their subscriptions to apps */
struct org {
	char code[ORG_CODE_SIZE];
	char name[NAME_SIZE];
	int64_t created;
	int64_t sms_monthly_cap;	/* SMS a month; 0: no cap */
};
int store_org_get(struct store_txn *txn, const char *code, struct org *out);
int store_org_put(struct store_txn *txn, const struct org *org); /* upsert */
typedef int (*store_org_cb)(const struct org *org, void *arg); /* !0 stops */
int store_org_list(struct store_txn *txn, store_org_cb cb, void *arg);

int store_sub_put(struct store_txn *txn, const char *org, const char *app);
int store_sub_del(struct store_txn *txn, const char *org, const char *app);
/* STORE_OK if org subscribes to app, STORE_NOTFOUND if not. */
int store_sub_get(struct store_txn *txn, const char *org, const char *app);
typedef int (*store_name_cb)(const char *name, void *arg); /* !0 stops */
int store_sub_list(struct store_txn *txn, const char *org, store_name_cb cb,
    void *arg);

/* ---- applications (OIDC clients) */
enum app_audience { AUD_EMPLOYEES = 0, AUD_CITIZENS = 1, AUD_BOTH = 2 };

struct app {
	char client_id[APP_ID_SIZE];
	char name[NAME_SIZE];
	int public_client;		/* no secret; PKCE required */
	unsigned char secret_hash[HASH_SIZE]; /* SHA-256 of the secret */
	char redirect_uris[APP_URIS_MAX][URI_SIZE];
	int n_redirect_uris;
	char post_logout_uris[APP_URIS_MAX][URI_SIZE];
	int n_post_logout_uris;
	int audience;			/* enum app_audience */
	int require_2fa;
	int id_token_alg;		/* enum key_alg (keys.h) */
	int64_t created;
	/* OpenID Connect Core 8.1: sub is a pairwise identifier for this
	 * client, so two e-services cannot link a citizen. */
	int pairwise;
	/* The admin console's client: may ask for scope kleidi:admin. */
	int admin_client;
	/* Gets refresh tokens at the authorization_code grant (and may
	 * ask for offline_access). */
	int refresh;
	/* OpenID Connect Back-Channel Logout 1.0: where logout tokens are
	 * POSTed when a session that signed in to this app ends; "" none. */
	char backchannel_logout_uri[URI_SIZE];
};
int store_app_get(struct store_txn *txn, const char *client_id,
    struct app *out);
int store_app_put(struct store_txn *txn, const struct app *app); /* upsert */
typedef int (*store_app_cb)(const struct app *app, void *arg);
int store_app_list(struct store_txn *txn, store_app_cb cb, void *arg);

/* ---- users: employees and citizens. id is the stable `sub`. */
enum user_type { USER_EMPLOYEE = 0, USER_CITIZEN = 1 };
/* Who may use the admin API: nobody, the IT officers of the user's own
 * organisation, or the central operator. */
enum admin_role { ADMIN_NONE = 0, ADMIN_ORG = 1, ADMIN_OPERATOR = 2 };

struct user {
	char id[USER_ID_SIZE];
	char username[USERNAME_SIZE];	/* unique; index kept by the store */
	int type;			/* enum user_type */
	char org[ORG_CODE_SIZE];	/* employees: employing org */
	char name[NAME_SIZE];
	char email[EMAIL_SIZE];
	char phone[PHONE_SIZE];
	char password[PHC_SIZE];	/* argon2id PHC string, "" if none */
	int disabled;
	int64_t created;
	int64_t updated;
	/* Employees: as the national employee registry has them. */
	char registry_no[REGNO_SIZE];	/* "" for citizens and manual users */
	char position[NAME_SIZE];
	/* Both kinds. Citizens sign in with their tax number (the username
	 * is the tax number). name is "given family" for display. */
	char tax_id[TAXID_SIZE];
	char given_name[NAME_SIZE];
	char family_name[NAME_SIZE];
	int admin_role;			/* enum admin_role */
	int phone_verified;		/* citizens: set by the SMS check */
	/* Employees: when the registry reported the person departed (the
	 * account is then disabled); 0 while employed. Tells a rehire from
	 * an account an IT officer disabled by hand. */
	int64_t departed;
};
int store_user_get(struct store_txn *txn, const char *id, struct user *out);
int store_user_get_by_name(struct store_txn *txn, const char *username,
    struct user *out);
/* The employee with this registry number (unique, index kept by the
 * store; users with an empty registry_no are not in it). */
int store_user_get_by_regno(struct store_txn *txn, const char *registry_no,
    struct user *out);
/* Insert: STORE_EXISTS if the id, the username or the registry number is
 * taken. */
int store_user_add(struct store_txn *txn, const struct user *user);
/* Update an existing user (by id); keeps the username and registry number
 * indexes right if they changed. STORE_NOTFOUND if no such id, STORE_EXISTS
 * if the new username or registry number is taken. */
int store_user_update(struct store_txn *txn, const struct user *user);
/* Deletes the user record and its index entries (username, org); the
 * caller removes what else is keyed by the user. STORE_NOTFOUND if no
 * such id. */
int store_user_del(struct store_txn *txn, const char *id);
typedef int (*store_user_cb)(const struct user *user, void *arg);
/* All users, or those of one org when org is non-NULL. */
int store_user_list(struct store_txn *txn, const char *org,
    store_user_cb cb, void *arg);

/* ---- role grants: user has role in app, for org */
struct grant {
	char user_id[USER_ID_SIZE];
	char app[APP_ID_SIZE];
	char org[ORG_CODE_SIZE];
	char role[ROLE_SIZE];
	int64_t created;
};
int store_grant_put(struct store_txn *txn, const struct grant *g);
/* STORE_NOTFOUND if there was no such grant. */
int store_grant_del(struct store_txn *txn, const char *user_id,
    const char *app, const char *org, const char *role);
typedef int (*store_grant_cb)(const struct grant *g, void *arg);
/* Grants of a user; app and org narrow the list when non-NULL. */
int store_grant_list(struct store_txn *txn, const char *user_id,
    const char *app, const char *org, store_grant_cb cb, void *arg);

/* ---- browser sessions, keyed by the hash of the session id */
struct session {
	unsigned char id_hash[HASH_SIZE];
	char user_id[USER_ID_SIZE];
	int64_t created;
	int64_t expires;
	int64_t auth_time;
	unsigned amr;			/* AMR_* bits (authn) */
};
int store_session_get(struct store_txn *txn,
    const unsigned char id_hash[HASH_SIZE], struct session *out);
int store_session_put(struct store_txn *txn, const struct session *s);
int store_session_del(struct store_txn *txn,
    const unsigned char id_hash[HASH_SIZE]);
/* Ends every session of a user; *count (may be NULL) gets how many. */
int store_session_del_user(struct store_txn *txn, const char *user_id,
    size_t *count);

/* ---- authorization codes, keyed by the hash of the code */
struct authcode {
	unsigned char hash[HASH_SIZE];
	char client_id[APP_ID_SIZE];
	char redirect_uri[URI_SIZE];
	char user_id[USER_ID_SIZE];
	unsigned char session_hash[HASH_SIZE];
	char nonce[NONCE_SIZE];
	char code_challenge[CHALLENGE_SIZE];	/* S256 only; "" if none */
	char scope[SCOPE_SIZE];
	int64_t auth_time;
	unsigned amr;
	int64_t expires;
	int used;		/* kept until expiry so reuse is recognised */
	/* OpenID Connect Core 5.5: the claims the request asked for by
	 * name, for the ID token and for UserInfo (space-separated). */
	char claims_id[CLAIMS_SIZE];
	char claims_ui[CLAIMS_SIZE];
};
int store_code_get(struct store_txn *txn, const unsigned char hash[HASH_SIZE],
    struct authcode *out);
int store_code_put(struct store_txn *txn, const struct authcode *c);

/* ---- sign-in flows: an authorization request waiting for the person to
 * sign in, keyed by the hash of the flow handle the login form carries, and
 * bound to the browser by the hash of its browser cookie. */
struct flow {
	unsigned char hash[HASH_SIZE];
	unsigned char browser_hash[HASH_SIZE];
	char client_id[APP_ID_SIZE];
	char redirect_uri[URI_SIZE];
	char state[STATE_SIZE];
	char nonce[NONCE_SIZE];
	char code_challenge[CHALLENGE_SIZE];
	char scope[SCOPE_SIZE];
	char lang[8];
	char user_id[USER_ID_SIZE];	/* set once a first factor passed */
	unsigned amr;			/* factors passed so far */
	int64_t created;
	int64_t expires;
	/* Step-up (issue 3): the session being raised to two factors, and
	 * when its first factor was given; zero for a fresh sign-in. */
	unsigned char session_hash[HASH_SIZE];
	int64_t auth_time;		/* when the first factor passed */
	int want_2fa;			/* a second factor is due */
	/* The SMS one-time code sent for this flow: only its keyed hash. */
	unsigned char sms_hash[HASH_SIZE];	/* all zero: none sent */
	int64_t sms_sent_at;
	int64_t sms_expires;
	int sms_attempts;		/* wrong codes entered */
	int sms_sends;			/* codes sent in this flow */
	/* Issue 5: prompt=consent asked for the consent page; the claims
	 * parameter's names for the ID token and for UserInfo. */
	int prompt_consent;
	char claims_id[CLAIMS_SIZE];
	char claims_ui[CLAIMS_SIZE];
};
int store_flow_get(struct store_txn *txn, const unsigned char hash[HASH_SIZE],
    struct flow *out);
int store_flow_put(struct store_txn *txn, const struct flow *f);
int store_flow_del(struct store_txn *txn,
    const unsigned char hash[HASH_SIZE]);

/* ---- per-user authentication state: second factors and lockout. One
 * record per user, created on first need. */
#define TOTP_SEED_LEN 20		/* 160 bits (RFC 4226 4) */
#define SEALED_SIZE 64			/* nonce 12 + ciphertext + tag 16 */
#define RECOVERY_CODES 10

struct user_auth {
	char user_id[USER_ID_SIZE];
	/* The TOTP seed in use, sealed with AES-256-GCM under a key derived
	 * from the master key, the user id as associated data; len 0: none. */
	unsigned char totp_sealed[SEALED_SIZE];
	int totp_sealed_len;
	int totp_active;		/* 1 while totp_sealed is in use */
	int64_t totp_last_step;		/* highest step accepted (replay) */
	int64_t totp_enrolled;
	/* A person's new seed, waiting for its first valid code; the seed
	 * above stays in use until then (an abandoned enrolment loses
	 * nothing). len 0: none pending. */
	unsigned char totp_pending[SEALED_SIZE];
	int totp_pending_len;
	/* Keyed hashes of the unused recovery codes; all zero: used. */
	unsigned char recovery[RECOVERY_CODES][HASH_SIZE];
	int64_t recovery_created;	/* 0: no set generated */
};
/* STORE_NOTFOUND when the user has none yet. */
int store_user_auth_get(struct store_txn *txn, const char *user_id,
    struct user_auth *out);
int store_user_auth_put(struct store_txn *txn, const struct user_auth *a);
/* STORE_NOTFOUND when the user has none. */
int store_user_auth_del(struct store_txn *txn, const char *user_id);

/* ---- counters for rate limits and usage: a string key, a count, and an
 * expiry after which store_sweep removes the counter. Every counter
 * expires: one meant to last (a month's SMS use kept for reports) takes a
 * far expiry; expires 0 is 1970, swept at the next sweep. A put with a
 * new expiry moves the counter to it. */
#define COUNTER_KEY_SIZE 129

struct counter {
	char key[COUNTER_KEY_SIZE];
	int64_t count;
	int64_t expires;
};
/* STORE_NOTFOUND when absent (or already expired: expires <= the time
 * the caller passes to store_sweep is not looked at here). */
int store_counter_get(struct store_txn *txn, const char *key,
    struct counter *out);
int store_counter_put(struct store_txn *txn, const struct counter *c);
typedef int (*store_counter_cb)(const struct counter *c, void *arg);
/* Counters whose key starts with prefix (NULL or "": all), in key
 * order. */
int store_counter_list(struct store_txn *txn, const char *prefix,
    store_counter_cb cb, void *arg);

/* ---- changes from the employee registry dated in the future, kept until
 * they are due: at most one per registry number (a later import replaces
 * it), listed in order of the time they take effect. */
struct sched_change {
	char registry_no[REGNO_SIZE];
	int64_t effective;		/* when it applies; > 0 */
	char tax_id[TAXID_SIZE];
	char family_name[NAME_SIZE];
	char given_name[NAME_SIZE];
	char email[EMAIL_SIZE];
	char phone[PHONE_SIZE];
	char org[ORG_CODE_SIZE];
	char position[NAME_SIZE];
	int departed;			/* the row's status is "departed" */
	int64_t created;		/* when it was scheduled */
};
/* The change scheduled for a registry number; STORE_NOTFOUND if none. */
int store_sched_get(struct store_txn *txn, const char *registry_no,
    struct sched_change *out);
/* Schedules s, replacing the change scheduled for its registry number (at
 * whatever time). STORE_ERROR for effective <= 0. */
int store_sched_put(struct store_txn *txn, const struct sched_change *s);
/* STORE_NOTFOUND if nothing is scheduled for registry_no. */
int store_sched_del(struct store_txn *txn, const char *registry_no);
typedef int (*store_sched_cb)(const struct sched_change *s, void *arg);
/* The changes with effective <= now, oldest first. The callback may
 * delete the change it is given. */
int store_sched_list_due(struct store_txn *txn, int64_t now,
    store_sched_cb cb, void *arg);

/* ---- the audit log: append-only, entries numbered from 1 in order. The
 * store keeps them; idp/audit chains and checks them. */
#define AUDIT_ACTOR_SIZE 97
#define AUDIT_ACTION_SIZE 49
#define AUDIT_OUTCOME_SIZE 17
#define AUDIT_SUBJECT_SIZE 97
#define AUDIT_ADDR_SIZE 65
#define AUDIT_DETAIL_SIZE 257

struct audit_entry {
	uint64_t seq;
	int64_t time;
	char actor[AUDIT_ACTOR_SIZE];	/* "user:<sub>", "operator:<login>" */
	char action[AUDIT_ACTION_SIZE];	/* "signin.password", "grant.add" */
	char outcome[AUDIT_OUTCOME_SIZE]; /* "ok", "fail", "refused" */
	char subject[AUDIT_SUBJECT_SIZE]; /* whom it concerns */
	char client[APP_ID_SIZE];
	char org[ORG_CODE_SIZE];
	char addr[AUDIT_ADDR_SIZE];
	char detail[AUDIT_DETAIL_SIZE];	/* factor, reason, ticket */
	unsigned char prev[HASH_SIZE];	/* hash of entry seq - 1 */
	unsigned char hash[HASH_SIZE];	/* of this entry, prev included */
	/* Keyed digests of the personal fields: the chain covers these, not
	 * the text, so erasing a person (GDPR art. 17) can replace the text
	 * with a pseudonym and leave the chain intact (idp/audit). */
	unsigned char actor_digest[HASH_SIZE];
	unsigned char subject_digest[HASH_SIZE];
	unsigned char addr_digest[HASH_SIZE];
	unsigned char detail_digest[HASH_SIZE];
};
/* Adds e under e->seq (from 1; 0 is STORE_ERROR); STORE_EXISTS if that
 * number is taken. An entry read back has seq set to the number it is
 * stored under. */
int store_audit_put(struct store_txn *txn, const struct audit_entry *e);
/* The newest entry; STORE_NOTFOUND when the log is empty. */
int store_audit_last(struct store_txn *txn, struct audit_entry *out);
int store_audit_get(struct store_txn *txn, uint64_t seq,
    struct audit_entry *out);
typedef int (*store_audit_cb)(const struct audit_entry *e, void *arg);
/* Entries from seq on (0 as 1), in ascending order of seq. */
int store_audit_list(struct store_txn *txn, uint64_t from,
    store_audit_cb cb, void *arg);
/* Rewrites the entry stored under e->seq (STORE_NOTFOUND if none): only
 * for pseudonymising personal fields, which the chain does not cover. */
int store_audit_replace(struct store_txn *txn, const struct audit_entry *e);

/* ---- pairwise subjects (OpenID Connect Core 8.1): which user a pairwise
 * sub given to a client stands for, so UserInfo can find the person. */
#define PAIRWISE_SUB_SIZE 64	/* base64url of 32 bytes: 43 chars */
/* Upsert of (client_id, sub) -> user_id. */
int store_pairwise_put(struct store_txn *txn, const char *client_id,
    const char *sub, const char *user_id);
int store_pairwise_get(struct store_txn *txn, const char *client_id,
    const char *sub, char user_id[USER_ID_SIZE]);
/* Removes every pairwise sub of a user; *count (may be NULL) how many. */
int store_pairwise_del_user(struct store_txn *txn, const char *user_id,
    size_t *count);

/* ---- back-channel logout (OpenID Connect Back-Channel Logout 1.0).
 * Which apps each browser session signed in to, and the notices waiting
 * to be delivered to them. A session's entries go with the session (its
 * delete and the sweep remove them). */
int store_session_client_put(struct store_txn *txn,
    const unsigned char sess[HASH_SIZE], const char *client_id);
typedef int (*store_session_client_cb)(const char *client_id, void *arg);
int store_session_client_list(struct store_txn *txn,
    const unsigned char sess[HASH_SIZE], store_session_client_cb cb,
    void *arg);
/* Removes every entry of a session; none is not an error. */
int store_session_client_del(struct store_txn *txn,
    const unsigned char sess[HASH_SIZE]);
/* The hashes of user_id's sessions (those the session_user index names;
 * the callback checks a session still exists). The callback must not
 * write to the session tables. */
typedef int (*store_hash_cb)(const unsigned char hash[HASH_SIZE],
    void *arg);
int store_session_list_user(struct store_txn *txn, const char *user_id,
    store_hash_cb cb, void *arg);

#define BCL_ID_SIZE 16
struct bcl_notice {
	unsigned char id[BCL_ID_SIZE];	/* random; names the notice */
	char client_id[APP_ID_SIZE];
	char user_id[USER_ID_SIZE];	/* sub is derived when sending */
	unsigned char sid_hash[HASH_SIZE]; /* the ended session */
	int64_t created;
	int64_t due;			/* next attempt */
	int attempts;			/* failed so far */
};
/* Stored under (due, id); a notice with a new due time is deleted under
 * its old one and put again. */
int store_bcl_put(struct store_txn *txn, const struct bcl_notice *n);
/* STORE_NOTFOUND when no notice is stored under (n->due, n->id). */
int store_bcl_del(struct store_txn *txn, const struct bcl_notice *n);
typedef int (*store_bcl_cb)(const struct bcl_notice *n, void *arg);
/* Notices with due <= now, earliest first; the callback's non-zero
 * stops the list. */
int store_bcl_list_due(struct store_txn *txn, int64_t now, store_bcl_cb cb,
    void *arg);

/* ---- refresh tokens (RFC 6749 6, RFC 9700 4.14), keyed by the SHA-256 of
 * the token. The tokens of one grant form a family: each use rotates the
 * token (a new one in the same family, the old one marked rotated and kept
 * until the family expires, so a replay is recognised), and the family
 * ends as a whole. Indexes kept in the same transaction: family \0 hash
 * (to end a family) and user_id \0 family \0 (to end all of a person's
 * families); the expiry index lets store_sweep remove expired tokens. */
#define REFRESH_FAMILY_SIZE 23	/* base64url of 16 random bytes */
struct refresh_token {
	unsigned char hash[HASH_SIZE];	/* SHA-256 of the token */
	char family[REFRESH_FAMILY_SIZE];
	char client_id[APP_ID_SIZE];
	char user_id[USER_ID_SIZE];
	char scope[SCOPE_SIZE];		/* as granted by the code */
	int64_t auth_time;
	unsigned amr;			/* AMR_* bits of the sign-in */
	unsigned char session_hash[HASH_SIZE]; /* the browser session */
	int64_t created;		/* of this token */
	int64_t expires;		/* the family's end; rotation keeps it */
	int rotated;			/* used once already */
};
int store_refresh_get(struct store_txn *txn,
    const unsigned char hash[HASH_SIZE], struct refresh_token *out);
/* Upsert. STORE_ERROR when family, client_id or user_id is empty, or an
 * existing token would move to another family or user. */
int store_refresh_put(struct store_txn *txn, const struct refresh_token *r);
/* Ends a family: deletes every token of it; *count (may be NULL) how
 * many. STORE_OK also when there was none. */
int store_refresh_del_family(struct store_txn *txn, const char *family,
    size_t *count);
/* Ends every family of a user; *families (may be NULL) how many. */
int store_refresh_del_user(struct store_txn *txn, const char *user_id,
    size_t *families);

/* ---- roles granted to a client itself (client_credentials, RFC 6749
 * 4.4): client_id has role, for no user. */
int store_client_grant_put(struct store_txn *txn, const char *client_id,
    const char *role);
/* STORE_NOTFOUND if there was no such grant. */
int store_client_grant_del(struct store_txn *txn, const char *client_id,
    const char *role);
/* The roles of client_id in byte order. */
int store_client_grant_list(struct store_txn *txn, const char *client_id,
    store_name_cb cb, void *arg);

/* ---- consent (issue 5): what data a person agreed to give an app, so
 * the consent page is shown once per app, and again only when the app
 * asks for more. data: CONSENT_* bits (idp/oidc/consent.c). */
struct consent {
	char user_id[USER_ID_SIZE];
	char client_id[APP_ID_SIZE];
	unsigned data;
	int64_t created;
};
int store_consent_get(struct store_txn *txn, const char *user_id,
    const char *client_id, struct consent *out);
int store_consent_put(struct store_txn *txn, const struct consent *c);
/* Forgets every consent of a user; *count (may be NULL) how many. */
int store_consent_del_user(struct store_txn *txn, const char *user_id,
    size_t *count);

#endif
