/* registry_client.c - roles granted to a client itself, for the
 * service-to-service tokens of the client_credentials grant (RFC 6749
 * 4.4). Such a grant belongs to no person and no organisation: the central
 * operator grants it to an application's backend. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "registry_int.h"
#include "audit/audit.h"
#include "registry.h"

/* The change itself, inside txn: the app must exist and be
 * confidential. */
static int
cg_change(struct store_txn *txn, const char *app, const char *role, int add,
    struct registry_err *err)
{
	struct app a;
	int rc;

	rc = store_app_get(txn, app, &a);
	if (rc == STORE_NOTFOUND)
		return registry_fail(err, REG_NOTFOUND, "no such application");
	if (rc != STORE_OK)
		return registry_fail(err, REG_ERROR, "store error reading application");
	if (add && a.public_client)
		return registry_fail(err, REG_REFUSED, "a public client cannot use "
		    "client_credentials, so it holds no roles");
	rc = add ? store_client_grant_put(txn, app, role) :
	    store_client_grant_del(txn, app, role);
	if (rc == STORE_NOTFOUND)
		return registry_fail(err, REG_NOTFOUND, "no such grant");
	return rc == STORE_OK ? REG_OK :
	    registry_fail(err, REG_ERROR, "the store refused the change");
}

/* Records ev with outcome and commits, or aborts and records the refusal
 * in a transaction of its own. A change that cannot be recorded is not
 * made. */
static int
cg_end(struct store *st, struct store_txn *txn,
    const struct registry_actor *who, struct audit_event *ev, int rc,
    struct registry_err *err)
{
	if ((rc = registry_commit(txn, rc, who, ev, err)) == REG_OK)
		return REG_OK;
	if (who != NULL) {
		ev->outcome = rc == REG_ERROR ? "error" : "refused";
		ev->detail = err->msg;
		if (audit_log(who->audit, st, ev) == -1)
			log_err("registry: a refused %s is missing from the "
			    "audit log", ev->action);
	}
	return rc;
}

static int
cg_run(struct store *st, const struct registry_actor *who, const char *app,
    const char *role, int add, struct registry_err *err)
{
	struct registry_err local;
	struct store_txn *txn;
	struct audit_event ev;
	char detail[AUDIT_DETAIL_SIZE];
	int rc;

	if (err == NULL)
		err = &local;
	err->msg[0] = '\0';
	memset(&ev, 0, sizeof(ev));
	ev.actor = who != NULL ? who->actor : NULL;
	ev.addr = who != NULL ? who->addr : NULL;
	ev.action = add ? "client_grant.add" : "client_grant.revoke";
	ev.client = app;
	(void)snprintf(detail, sizeof(detail), "role %s", role ? role : "");
	ev.detail = detail;
	if (!valid_client_id(app) || !valid_role(role)) {
		rc = registry_fail(err, REG_INVALID, "malformed application or role");
		if (who != NULL) {
			ev.outcome = "refused";
			ev.detail = err->msg;
			(void)audit_log(who->audit, st, &ev);
		}
		return rc;
	}
	if (store_begin(st, 1, &txn) != STORE_OK)
		return registry_fail(err, REG_ERROR, "cannot open the store");
	rc = cg_change(txn, app, role, add, err);
	return cg_end(st, txn, who, &ev, rc, err);
}

int
registry_client_grant_add(struct store *st, const struct registry_actor *who,
    const char *app, const char *role, struct registry_err *err)
{
	return cg_run(st, who, app, role, 1, err);
}

int
registry_client_grant_revoke(struct store *st,
    const struct registry_actor *who, const char *app, const char *role,
    struct registry_err *err)
{
	return cg_run(st, who, app, role, 0, err);
}

static int
cg_role_add(const char *role, void *arg)
{
	return json_array_append_new(arg, json_string(role)) == 0 ? 0 : -1;
}

json_t *
registry_client_roles(struct store_txn *txn, const char *app)
{
	json_t *roles = json_array();

	if (roles == NULL)
		return NULL;
	if (store_client_grant_list(txn, app, cg_role_add, roles) !=
	    STORE_OK) {
		json_decref(roles);
		return NULL;
	}
	return roles;
}
