/* registry_citizen_data.c - a citizen's rights over their data: export of
 * everything held about them (GDPR art. 15) and erasure (art. 17), which
 * pseudonymises their audit entries instead of deleting them, so the
 * chain stays verifiable. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "registry_int.h"
#include "authn/revoke.h"
#include "audit/audit.h"
#include "citizen.h"

/* The citizen by tax number, in txn; REG_* with err, which never repeats
 * the number: a refused erasure's record must not bring it back. */
static int
cd_find(struct store_txn *txn, const char *tax_id, struct user *u,
    struct registry_err *err)
{
	int rc;

	if (!valid_taxid(tax_id))
		return registry_fail(err, REG_INVALID, "malformed tax number");
	rc = store_user_get_by_name(txn, tax_id, u);
	if (rc == STORE_NOTFOUND)
		return registry_fail(err, REG_NOTFOUND, "no citizen with this tax "
		    "number");
	if (rc != STORE_OK)
		return registry_fail(err, REG_ERROR, "store error reading the "
		    "citizen");
	if (u->type != USER_CITIZEN)
		return registry_fail(err, REG_REFUSED, "not a citizen's account: "
		    "employees are governed by the registry");
	return REG_OK;
}

static json_t *
cd_account(const struct user *u)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, "
	    "s:b, s:I, s:I}", "sub", u->id, "username", u->username,
	    "user_type", "citizen", "tax_id", u->tax_id, "given_name",
	    u->given_name, "family_name", u->family_name, "name", u->name,
	    "email", u->email, "phone", u->phone, "phone_verified",
	    u->phone_verified, "disabled", u->disabled, "created",
	    (json_int_t)u->created, "updated", (json_int_t)u->updated);
}

/* Second factors present, never their secrets. */
static json_t *
cd_factors(struct store_txn *txn, const struct user *u)
{
	struct user_auth a;
	int rc = store_user_auth_get(txn, u->id, &a), i, codes = 0;
	static const unsigned char zero[HASH_SIZE];
	json_t *j;

	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return NULL;
	for (i = 0; rc == STORE_OK && i < RECOVERY_CODES; i++)
		codes += !ct_equal(a.recovery[i], zero, HASH_SIZE);
	j = json_pack("{s:b, s:b, s:i}", "sms", u->phone[0] != '\0',
	    "totp", rc == STORE_OK && a.totp_active, "recovery_codes_unused",
	    codes);
	wipe(&a, sizeof(a));
	return j;
}

static int
cd_grant(const struct grant *g, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:s}", "app",
	    g->app, "org", g->org, "role", g->role)) == 0 ? 0 : -1;
}

static int
cd_entry(const struct audit_entry *e, void *arg)
{
	json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:s}", "seq", (json_int_t)e->seq, "time",
	    (json_int_t)e->time, "actor", e->actor, "action", e->action,
	    "outcome", e->outcome, "subject", e->subject, "client",
	    e->client, "org", e->org, "addr", e->addr, "detail", e->detail);

	return json_array_append_new(arg, j) == 0 ? 0 : -1;
}

/* The record part, read in one transaction. */
static json_t *
cd_records(struct store *st, const char *tax_id, struct user *u,
    struct registry_err *err)
{
	struct store_txn *txn;
	json_t *j = NULL, *grants = json_array();
	int rc;

	if (grants == NULL || store_begin(st, 0, &txn) != STORE_OK) {
		json_decref(grants);
		(void)registry_fail(err, REG_ERROR, "cannot open the store");
		return NULL;
	}
	if ((rc = cd_find(txn, tax_id, u, err)) == REG_OK &&
	    store_grant_list(txn, u->id, NULL, NULL, cd_grant, grants) ==
	    STORE_OK)
		j = json_pack("{s:o, s:s, s:o*, s:O}", "account",
		    cd_account(u), "password", u->password[0] ? "set" : "none",
		    "second_factors", cd_factors(txn, u), "grants", grants);
	else if (rc == REG_OK)
		(void)registry_fail(err, REG_ERROR, "store error reading grants");
	store_abort(txn);
	json_decref(grants);
	if (j == NULL && rc == REG_OK && err->msg[0] == '\0')
		(void)registry_fail(err, REG_ERROR, "out of memory");
	return j;
}

json_t *
registry_citizen_export(struct store *st, const char *tax_id,
    struct registry_err *err)
{
	struct user u;
	json_t *j, *audit = json_array();

	err->msg[0] = '\0';
	j = cd_records(st, tax_id, &u, err);
	/* The audit entries naming the person by tax number or sub. */
	if (j != NULL && (audit == NULL || audit_tail(st, u.id,
	    AUDIT_TAIL_MAX, cd_entry, audit) == -1 ||
	    json_object_set(j, "audit", audit) != 0)) {
		(void)registry_fail(err, REG_ERROR, "cannot read the audit log");
		json_decref(j);
		j = NULL;
	}
	json_decref(audit);
	wipe(&u, sizeof(u));
	return j;
}

struct cd_erase {
	struct store_txn *txn;
	const char *prefix[3];		/* counter keys that name them */
	size_t n;
	int failed;
};

/* Counters keyed by the person: expired now, swept after the commit. */
static int
cd_counter(const struct counter *c, void *arg)
{
	struct cd_erase *e = arg;
	struct counter z;
	int i;

	for (i = 0; i < 3; i++)
		if (e->prefix[i][0] != '\0' && strncmp(c->key, e->prefix[i],
		    strlen(e->prefix[i])) == 0)
			break;
	if (i == 3)
		return 0;
	z = *c;
	z.count = 0;
	z.expires = 0;
	if (store_counter_put(e->txn, &z) != STORE_OK) {
		e->failed = 1;
		return 1;
	}
	e->n++;
	return 0;
}

static int
cd_grant_del(const struct grant *g, void *arg)
{
	return store_grant_del(arg, g->user_id, g->app, g->org, g->role) ==
	    STORE_OK ? 0 : 1;
}

/* Everything keyed by the person, then the account itself. */
static int
cd_remove(struct store_txn *txn, const struct user *u,
    struct citizen_erased *done)
{
	char lock[COUNTER_KEY_SIZE], byuser[COUNTER_KEY_SIZE];
	char byphone[COUNTER_KEY_SIZE];
	struct cd_erase e = { txn, { lock, byuser, byphone }, 0, 0 };
	int rc;

	(void)snprintf(lock, sizeof(lock), "lock:%s", u->username);
	(void)snprintf(byuser, sizeof(byuser), "sms:user:%s:", u->id);
	(void)snprintf(byphone, sizeof(byphone), "sms:phone:%s:",
	    u->phone[0] ? u->phone : "-");
	if (access_end_user(txn, u->id, &done->sessions) != STORE_OK ||
	    store_pairwise_del_user(txn, u->id, &done->pairwise) != STORE_OK ||
	    store_consent_del_user(txn, u->id, NULL) != STORE_OK ||
	    store_grant_list(txn, u->id, NULL, NULL, cd_grant_del, txn) !=
	    STORE_OK)
		return -1;
	rc = store_user_auth_del(txn, u->id);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return -1;
	if (store_counter_list(txn, NULL, cd_counter, &e) != STORE_OK ||
	    e.failed)
		return -1;
	done->counters = e.n;
	return store_user_del(txn, u->id) == STORE_OK ? 0 : -1;
}

static int
cd_erase(struct store *st, const struct registry_actor *who,
    const char *tax_id, struct audit_event *ev, char *detail,
    struct citizen_erased *done, struct registry_err *err)
{
	struct store_txn *txn;
	struct user u;
	const char *names[5];
	int rc;

	if (store_begin(st, 1, &txn) != STORE_OK)
		return registry_fail(err, REG_ERROR, "cannot open the store");
	if ((rc = cd_find(txn, tax_id, &u, err)) != REG_OK)
		goto fail;
	names[0] = u.tax_id;
	names[1] = u.email;
	names[2] = u.phone;
	names[3] = u.name;
	names[4] = NULL;
	rc = registry_fail(err, REG_ERROR, "store error erasing the citizen");
	if (cd_remove(txn, &u, done) == -1 ||
	    audit_erase(who->audit, txn, u.id, names, &done->audit) == -1)
		goto fail;
	(void)snprintf(detail, AUDIT_DETAIL_SIZE, "%zu sessions, "
	    "%zu pairwise subjects, %zu counters removed; %zu audit entries "
	    "pseudonymised", done->sessions, done->pairwise, done->counters,
	    done->audit);
	ev->outcome = "ok";
	if (audit_append(who->audit, txn, ev) == -1)
		goto fail;
	wipe(&u, sizeof(u));
	err->msg[0] = '\0';
	return store_commit(txn) == STORE_OK ? REG_OK : registry_fail(err,
	    REG_ERROR, "the store refused the change");
fail:
	wipe(&u, sizeof(u));
	store_abort(txn);
	return rc;
}

int
registry_citizen_erase(struct store *st, const struct registry_actor *who,
    const char *tax_id, struct citizen_erased *done,
    struct registry_err *err)
{
	char pseudo[32], detail[AUDIT_DETAIL_SIZE] = "";
	struct audit_event ev;
	int rc;

	memset(done, 0, sizeof(*done));
	err->msg[0] = '\0';
	if (who == NULL || who->audit == NULL)
		return registry_fail(err, REG_ERROR, "erasure needs the audit key");
	/* Its own record names the person only by the pseudonym their
	 * erased entries now carry: an erasure leaves no tax number behind,
	 * even a refused one. */
	if (audit_pseudonym_of(who->audit, tax_id != NULL ? tax_id : "",
	    pseudo, sizeof(pseudo)) == -1)
		return registry_fail(err, REG_ERROR, "cannot derive the pseudonym");
	ev = (struct audit_event){ who->actor, "citizen.erase", NULL, pseudo,
		NULL, NULL, who->addr, detail };
	rc = cd_erase(st, who, tax_id, &ev, detail, done, err);
	if (rc == REG_OK) {
		/* Expired counters go now, not at the next sweep. */
		(void)store_sweep(st, clock_now(), NULL);
		return REG_OK;
	}
	ev.outcome = rc == REG_ERROR ? "error" : "refused";
	ev.detail = err->msg;
	if (audit_log(who->audit, st, &ev) == -1)
		log_err("citizen: a refused erasure is missing from the log");
	return rc;
}
