/* registry_citizen.c - citizens' accounts: registration, the phone check,
 * export and erasure. Same pattern as registry.c: validate, one write
 * transaction per change, the change and its audit record commit
 * together, refusals recorded on their own. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_int.h"
#include "audit/audit.h"
#include "citizen.h"

/* What a change records: who (NULL: nothing), the event being built. */
struct cz_change {
	const struct registry_actor *who;
	struct audit_event ev;
	char subject[AUDIT_SUBJECT_SIZE];
	char detail[AUDIT_DETAIL_SIZE];
};

static struct registry_err *
cz_init(struct cz_change *c, const struct registry_actor *who,
    const char *action, const char *subject, struct registry_err *err,
    struct registry_err *local)
{
	memset(c, 0, sizeof(*c));
	c->who = who;
	c->ev.actor = who != NULL ? who->actor : NULL;
	c->ev.addr = who != NULL ? who->addr : NULL;
	c->ev.action = action;
	c->ev.subject = c->subject;
	c->ev.detail = c->detail;
	if (subject != NULL)
		str_copy(c->subject, subject, sizeof(c->subject));
	err = err != NULL ? err : local;
	err->msg[0] = '\0';
	return err;
}

/* A refused or failed change, recorded in a transaction of its own. */
static int
cz_audited(struct store *st, struct cz_change *c, int rc,
    const struct registry_err *err)
{
	struct audit_event ev = c->ev;

	if (rc == REG_OK || c->who == NULL)
		return rc;
	ev.outcome = rc == REG_ERROR ? "error" : "refused";
	ev.detail = err->msg;
	if (audit_log(c->who->audit, st, &ev) == -1)
		log_err("citizen: a refused %s is missing from the audit log",
		    ev.action);
	return rc;
}

/* Records the change and commits when rc is REG_OK, else aborts. */
static int
cz_end(struct store_txn *txn, int rc, struct cz_change *c,
    struct registry_err *err)
{
	return registry_commit(txn, rc, c->who, &c->ev, err);
}
static int
cz_bad(enum citizen_field *field, enum citizen_field f,
    struct registry_err *err, const char *msg)
{
	if (field != NULL)
		*field = f;
	return registry_fail(err, REG_INVALID, "%s", msg);
}

int
registry_citizen_check(const struct citizen_spec *s,
    enum citizen_field *field, const char **rule, struct registry_err *err)
{
	const char *r = NULL;

	if (field != NULL)
		*field = CITIZEN_F_NONE;
	if (!valid_taxid(s->tax_id))
		return cz_bad(field, CITIZEN_F_TAX_ID, err, "the tax number "
		    "must be 9 digits with a valid check digit");
	if (!valid_name(s->given_name, NAME_SIZE / 2))
		return cz_bad(field, CITIZEN_F_GIVEN_NAME, err, "given name "
		    "must be 1-63 bytes of text");
	if (!valid_name(s->family_name, NAME_SIZE / 2))
		return cz_bad(field, CITIZEN_F_FAMILY_NAME, err, "family name "
		    "must be 1-63 bytes of text");
	if (s->email != NULL && s->email[0] != '\0' && !valid_email(s->email))
		return cz_bad(field, CITIZEN_F_EMAIL, err, "malformed email "
		    "address");
	if (!valid_phone(s->phone))
		return cz_bad(field, CITIZEN_F_PHONE, err, "mobile phone must "
		    "be in international form, e.g. +306912345678");
	if (s->password != NULL &&
	    (r = password_policy_check_user(s->password, s->tax_id)) != NULL) {
		if (rule != NULL)
			*rule = r;
		return cz_bad(field, CITIZEN_F_PASSWORD, err, "password "
		    "refused: at least 10 characters, not a common password, "
		    "not the tax number");
	}
	return REG_OK;
}

static int
cz_user_from(const struct citizen_spec *s, const struct argon2_params *a2,
    struct user *u, struct registry_err *err)
{
	memset(u, 0, sizeof(*u));
	if (registry_new_user_id(u->id) == -1)
		return registry_fail(err, REG_ERROR, "no randomness");
	u->type = USER_CITIZEN;
	str_copy(u->username, s->tax_id, sizeof(u->username));
	str_copy(u->tax_id, s->tax_id, sizeof(u->tax_id));
	str_copy(u->given_name, s->given_name, sizeof(u->given_name));
	str_copy(u->family_name, s->family_name, sizeof(u->family_name));
	(void)snprintf(u->name, sizeof(u->name), "%s %s", s->given_name,
	    s->family_name);
	str_copy(u->email, s->email ? s->email : "", sizeof(u->email));
	str_copy(u->phone, s->phone, sizeof(u->phone));
	u->phone_verified = s->phone_verified != 0;
	u->created = u->updated = clock_now();
	/* Before the transaction: argon2id must not hold the writer. */
	if (s->password != NULL && password_hash(a2, s->password,
	    u->password, sizeof(u->password)) == -1)
		return registry_fail(err, REG_ERROR, "cannot hash the password");
	return REG_OK;
}

static int
citizen_add(struct store *st, struct cz_change *c,
    const struct argon2_params *a2, const struct citizen_spec *spec,
    struct user *out, struct registry_err *err)
{
	struct store_txn *txn;
	struct user u;
	int rc;

	if ((rc = registry_citizen_check(spec, NULL, NULL, err)) != REG_OK ||
	    (rc = cz_user_from(spec, a2, &u, err)) != REG_OK)
		goto done;
	if (store_begin(st, 1, &txn) != STORE_OK) {
		rc = registry_fail(err, REG_ERROR, "cannot open the store");
		goto done;
	}
	rc = store_user_add(txn, &u);
	if (rc == STORE_EXISTS)
		rc = registry_fail(err, REG_EXISTS, "tax number already registered");
	else if (rc != STORE_OK)
		rc = registry_fail(err, REG_ERROR, "store error adding the citizen");
	if (rc == REG_OK)
		(void)snprintf(c->detail, sizeof(c->detail), "sub %s%s", u.id,
		    u.phone_verified ? ", phone checked by the operator" : "");
	if ((rc = cz_end(txn, rc, c, err)) == REG_OK && out != NULL)
		*out = u;
done:
	wipe(&u, sizeof(u));
	return rc;
}

int
registry_citizen_add(struct store *st, const struct registry_actor *who,
    const struct argon2_params *argon2, const struct citizen_spec *spec,
    struct user *out, struct registry_err *err)
{
	struct registry_err local;
	struct cz_change c;

	err = cz_init(&c, who, "citizen.add", spec->tax_id, err, &local);
	return cz_audited(st, &c, citizen_add(st, &c, argon2, spec, out, err),
	    err);
}

static int
citizen_phone_verified(struct store *st, struct cz_change *c,
    const char *user_id, struct registry_err *err)
{
	struct store_txn *txn;
	struct user u;
	int rc;

	if (store_begin(st, 1, &txn) != STORE_OK)
		return registry_fail(err, REG_ERROR, "cannot open the store");
	rc = store_user_get(txn, user_id, &u);
	if (rc == STORE_OK && u.type != USER_CITIZEN)
		rc = registry_fail(err, REG_REFUSED, "not a citizen's account");
	else if (rc == STORE_NOTFOUND)
		rc = registry_fail(err, REG_NOTFOUND, "no such citizen");
	else if (rc != STORE_OK)
		rc = registry_fail(err, REG_ERROR, "store error reading the citizen");
	if (rc == REG_OK) {
		str_copy(c->subject, u.username, sizeof(c->subject));
		u.phone_verified = 1;
		u.updated = clock_now();
		if (store_user_update(txn, &u) != STORE_OK)
			rc = registry_fail(err, REG_ERROR, "store error");
	}
	wipe(&u, sizeof(u));
	return cz_end(txn, rc, c, err);
}

int
registry_citizen_phone_verified(struct store *st,
    const struct registry_actor *who, const char *user_id,
    struct registry_err *err)
{
	struct registry_err local;
	struct cz_change c;

	err = cz_init(&c, who, "citizen.phone-verified", NULL, err, &local);
	return cz_audited(st, &c, citizen_phone_verified(st, &c, user_id,
	    err), err);
}
