/* registry_admin.c - admin roles and help-desk actions on one person:
 * validation, one write transaction per change, the audit record in the
 * same transaction (refusals in one of their own). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_int.h"
#include "authn/revoke.h"
#include "audit/audit.h"
#include "authn/lockout.h"
#include "registry_admin.h"

static const char *const role_names[] = { "none", "org-admin", "operator" };

int
registry_admin_role_parse(const char *s)
{
	int i;

	for (i = ADMIN_NONE; s != NULL && i <= ADMIN_OPERATOR; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

const char *
registry_admin_role_name(int role)
{
	if (role < ADMIN_NONE || role > ADMIN_OPERATOR)
		return NULL;
	return role_names[role];
}

int
valid_reason(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > REGISTRY_REASON_MAX ||
	    !valid_name(s, REGISTRY_REASON_MAX + 1))
		return 0;
	/* A reason of blanks is no reason. */
	return strspn(s, " ") != n;
}

/* One change on one person and its audit record. */
struct adm_change {
	const struct registry_actor *who;	/* NULL: record nothing */
	const char *action;
	const char *username;
	char org[ORG_CODE_SIZE];		/* learnt from the user */
	char detail[AUDIT_DETAIL_SIZE];
	int made;		/* the change is made, whatever follows */
};

/* Starts the record; detail begins with the reason when there is one.
 * Returns the err to use (local when the caller passed none). */
static struct registry_err *
adm_init(struct adm_change *c, const struct registry_actor *who,
    const char *action, const char *username, const char *reason,
    struct registry_err *err, struct registry_err *local)
{
	memset(c, 0, sizeof(*c));
	c->who = who;
	c->action = action;
	c->username = username;
	if (reason != NULL && valid_reason(reason))
		(void)snprintf(c->detail, sizeof(c->detail), "reason: %s",
		    reason);
	if (err == NULL)
		err = local;
	err->msg[0] = '\0';
	return err;
}

/* Adds "; text" (or text) to the detail; cut when too long. */
static void
adm_note(struct adm_change *c, const char *fmt, ...)
{
	size_t n = strlen(c->detail);
	va_list ap;

	if (n > 0 && n + 2 < sizeof(c->detail)) {
		memcpy(c->detail + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	(void)vsnprintf(c->detail + n, sizeof(c->detail) - n, fmt, ap);
	va_end(ap);
}

static struct audit_event
adm_event(const struct adm_change *c, const char *outcome,
    const char *detail)
{
	return (struct audit_event){ c->who->actor, c->action, outcome,
		c->username, NULL, c->org[0] != '\0' ? c->org : NULL,
		c->who->addr, detail };
}

/* Records a refused or failed change with its reason; returns rc. */
static int
adm_audited(struct store *st, const struct adm_change *c, int rc,
    const struct registry_err *err)
{
	char detail[AUDIT_DETAIL_SIZE];
	struct audit_event ev;

	/* A change made but not recorded was logged where it failed: no
	 * refusal is recorded for what was not refused. */
	if (rc == REG_OK || c->who == NULL || c->made)
		return rc;
	if (c->detail[0] == '\0')
		str_copy(detail, err->msg, sizeof(detail));
	else if (snprintf(detail, sizeof(detail), "%s: %s", err->msg,
	    c->detail) < 0)
		detail[0] = '\0';
	ev = adm_event(c, rc == REG_ERROR ? "error" : "refused", detail);
	if (audit_log(c->who->audit, st, &ev) == -1)
		log_err("registry: a refused %s is missing from the audit log",
		    c->action);
	return rc;
}

/* Ends the change's transaction: records and commits on REG_OK, else
 * aborts. A change that cannot be recorded is not made. */
static int
adm_end(struct store_txn *txn, int rc, const struct adm_change *c,
    struct registry_err *err)
{
	struct audit_event ev = adm_event(c, "ok", c->detail);

	return registry_commit(txn, rc, c->who, &ev, err);
}
static int
adm_store_rc(int src, struct registry_err *err, const char *what)
{
	if (src == STORE_OK)
		return REG_OK;
	if (src == STORE_NOTFOUND)
		return registry_fail(err, REG_NOTFOUND, "no such %s", what);
	return registry_fail(err, REG_ERROR, "store error on %s", what);
}

/* Opens a write transaction (or a read one) and reads the user; on
 * failure nothing is left open. */
static int
adm_begin(struct store *st, int write, struct adm_change *c,
    struct store_txn **txn, struct user *u, struct registry_err *err)
{
	int rc;

	*txn = NULL;
	if (!valid_username(c->username))
		return registry_fail(err, REG_INVALID, "malformed username");
	if (store_begin(st, write, txn) != STORE_OK)
		return registry_fail(err, REG_ERROR, "cannot open the store");
	rc = adm_store_rc(store_user_get_by_name(*txn, c->username, u), err,
	    "user");
	if (rc != REG_OK) {
		store_abort(*txn);
		*txn = NULL;
		return rc;
	}
	str_copy(c->org, u->org, sizeof(c->org));
	return REG_OK;
}

static int
adm_need_reason(const char *reason, struct registry_err *err)
{
	if (valid_reason(reason))
		return REG_OK;
	return registry_fail(err, REG_INVALID, "a reason or ticket reference is "
	    "required: 1-%d bytes of text", REGISTRY_REASON_MAX);
}

static int
set_admin(struct store *st, struct adm_change *c, int role,
    struct registry_err *err)
{
	struct store_txn *txn;
	struct user u;
	int rc;

	if (registry_admin_role_name(role) == NULL)
		return registry_fail(err, REG_INVALID, "the admin role is none, "
		    "org-admin or operator");
	if ((rc = adm_begin(st, 1, c, &txn, &u, err)) != REG_OK)
		return rc;
	if (u.type != USER_EMPLOYEE)
		rc = registry_fail(err, REG_REFUSED, "citizens hold no admin role");
	else {
		adm_note(c, "role %s (was %s)", registry_admin_role_name(role),
		    registry_admin_role_name(u.admin_role) ?
		    registry_admin_role_name(u.admin_role) : "?");
		u.admin_role = role;
		u.updated = clock_now();
		rc = adm_store_rc(store_user_update(txn, &u), err, "user");
	}
	wipe(&u, sizeof(u));	/* it holds the password hash */
	return adm_end(txn, rc, c, err);
}

int
registry_user_set_admin(struct store *st, const struct registry_actor *who,
    const char *username, int role, struct registry_err *err)
{
	struct registry_err local;
	struct adm_change c;

	err = adm_init(&c, who, "user.admin", username, NULL, err, &local);
	return adm_audited(st, &c, set_admin(st, &c, role, err), err);
}

/* 120 random bits as 20 base64url characters: above PASSWORD_MIN, and
 * easy to read out over the phone. */
static int
temp_password(char out[REGISTRY_TEMP_PASSWORD_SIZE])
{
	return rand_b64url(15, out, REGISTRY_TEMP_PASSWORD_SIZE);
}

static int
password_reset(struct store *st, struct adm_change *c,
    const struct argon2_params *argon2, const char *reason,
    char temp[REGISTRY_TEMP_PASSWORD_SIZE], struct registry_err *err)
{
	char phc[PHC_SIZE];
	struct store_txn *txn;
	struct user u;
	size_t ended = 0;
	int rc;

	if ((rc = adm_need_reason(reason, err)) != REG_OK)
		return rc;
	/* Hash before the transaction: argon2id must not hold the writer. */
	if (temp_password(temp) == -1 ||
	    password_hash(argon2, temp, phc, sizeof(phc)) == -1)
		return registry_fail(err, REG_ERROR, "cannot make a new password");
	if ((rc = adm_begin(st, 1, c, &txn, &u, err)) != REG_OK)
		return rc;
	str_copy(u.password, phc, sizeof(u.password));
	u.updated = clock_now();
	rc = adm_store_rc(store_user_update(txn, &u), err, "user");
	/* Whoever held the old password may hold a session too. */
	if (rc == REG_OK)
		rc = adm_store_rc(access_end_user(txn, u.id, &ended),
		    err, "session");
	if (rc == REG_OK)
		adm_note(c, "%zu sessions ended", ended);
	wipe(&u, sizeof(u));
	wipe(phc, sizeof(phc));
	return adm_end(txn, rc, c, err);
}

int
registry_user_password_reset(struct store *st,
    const struct registry_actor *who, const struct argon2_params *argon2,
    const char *username, const char *reason,
    char temp[REGISTRY_TEMP_PASSWORD_SIZE], struct registry_err *err)
{
	struct registry_err local;
	struct adm_change c;
	int rc;

	temp[0] = '\0';
	err = adm_init(&c, who, "user.password-reset", username, reason, err,
	    &local);
	rc = password_reset(st, &c, argon2, reason, temp, err);
	if (rc != REG_OK)
		wipe(temp, REGISTRY_TEMP_PASSWORD_SIZE);
	return adm_audited(st, &c, rc, err);
}

static int
factor_reset(struct store *st, struct adm_change *c, const char *reason,
    struct registry_err *err)
{
	struct store_txn *txn;
	struct user_auth a;
	struct user u;
	size_t ended = 0;
	int rc;

	if ((rc = adm_need_reason(reason, err)) != REG_OK)
		return rc;
	if ((rc = adm_begin(st, 1, c, &txn, &u, err)) != REG_OK)
		return rc;
	rc = store_user_auth_get(txn, u.id, &a);
	if (rc == STORE_OK) {
		/* The record stays, empty: no seed, nothing pending, no
		 * recovery codes. */
		memset(&a, 0, sizeof(a));
		str_copy(a.user_id, u.id, sizeof(a.user_id));
		rc = store_user_auth_put(txn, &a);
	} else if (rc == STORE_NOTFOUND) {
		adm_note(c, "no second factor was enrolled");
		rc = STORE_OK;
	}
	rc = adm_store_rc(rc, err, "second factor");
	if (rc == REG_OK)
		rc = adm_store_rc(access_end_user(txn, u.id, &ended),
		    err, "session");
	if (rc == REG_OK)
		adm_note(c, "%zu sessions ended", ended);
	wipe(&a, sizeof(a));
	wipe(&u, sizeof(u));
	return adm_end(txn, rc, c, err);
}

int
registry_user_factor_reset(struct store *st, const struct registry_actor *who,
    const char *username, const char *reason, struct registry_err *err)
{
	struct registry_err local;
	struct adm_change c;

	err = adm_init(&c, who, "user.factor-reset", username, reason, err,
	    &local);
	return adm_audited(st, &c, factor_reset(st, &c, reason, err), err);
}

/* The back-off lives in a counter that lockout.c owns and writes in its
 * own transaction; the record follows in another. An unlock that cannot
 * be recorded is reported as an error, though it was made (it takes
 * nothing from anyone). */
static int
unlock(struct store *st, struct adm_change *c, const char *reason,
    struct registry_err *err)
{
	struct store_txn *txn;
	struct audit_event ev;
	struct user u;
	int rc;

	if ((rc = adm_need_reason(reason, err)) != REG_OK)
		return rc;
	if ((rc = adm_begin(st, 0, c, &txn, &u, err)) != REG_OK)
		return rc;
	store_abort(txn);
	wipe(&u, sizeof(u));
	if (lockout_clear(st, c->username) == -1)
		return registry_fail(err, REG_ERROR, "cannot clear the back-off");
	c->made = 1;
	if (c->who == NULL)
		return REG_OK;
	ev = adm_event(c, "ok", c->detail);
	if (audit_log(c->who->audit, st, &ev) == -1) {
		log_err("registry: the unlock of %s is missing from the audit "
		    "log", c->username);
		return registry_fail(err, REG_ERROR, "unlocked, but the audit log "
		    "could not be written");
	}
	return REG_OK;
}

int
registry_user_unlock(struct store *st, const struct registry_actor *who,
    const char *username, const char *reason, struct registry_err *err)
{
	struct registry_err local;
	struct adm_change c;

	err = adm_init(&c, who, "user.unlock", username, reason, err, &local);
	return adm_audited(st, &c, unlock(st, &c, reason, err), err);
}

static int
end_sessions(struct store *st, struct adm_change *c, const char *reason,
    size_t *ended, struct registry_err *err)
{
	struct store_txn *txn;
	struct user u;
	int rc;

	if (reason != NULL && !valid_reason(reason))
		return adm_need_reason(reason, err);
	if ((rc = adm_begin(st, 1, c, &txn, &u, err)) != REG_OK)
		return rc;
	rc = adm_store_rc(access_end_user(txn, u.id, ended), err,
	    "session");
	if (rc == REG_OK)
		adm_note(c, "%zu sessions ended", *ended);
	wipe(&u, sizeof(u));
	return adm_end(txn, rc, c, err);
}

int
registry_user_end_sessions(struct store *st, const struct registry_actor *who,
    const char *username, const char *reason, size_t *ended,
    struct registry_err *err)
{
	struct registry_err local;
	struct adm_change c;
	size_t n = 0;
	int rc;

	err = adm_init(&c, who, "user.sessions-end", username, reason, err,
	    &local);
	rc = adm_audited(st, &c, end_sessions(st, &c, reason, &n, err), err);
	if (ended != NULL)
		*ended = rc == REG_OK ? n : 0;
	return rc;
}
