/* admin_user.c - people, their grants and admin roles through the admin
 * API: users, users/NAME, users/NAME/{disable,enable,grants,admin}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "registry/registry_admin.h"

static json_t *
user_json(const struct user *u)
{
	const char *role = registry_admin_role_name(u->admin_role);
	json_t *j;

	j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:I, s:I}", "username",
	    u->username, "sub", u->id, "user_type", u->type == USER_CITIZEN ?
	    "citizen" : "employee", "name", u->name, "disabled", u->disabled,
	    "admin_role", role != NULL ? role : "none", "created",
	    (json_int_t)u->created, "updated", (json_int_t)u->updated);
	if (j == NULL)
		return NULL;
	if (u->org[0] != '\0')
		json_object_set_new(j, "org", json_string(u->org));
	if (u->email[0] != '\0')
		json_object_set_new(j, "email", json_string(u->email));
	if (u->phone[0] != '\0')
		json_object_set_new(j, "phone", json_string(u->phone));
	if (u->position[0] != '\0')
		json_object_set_new(j, "position", json_string(u->position));
	json_object_set_new(j, "password_set", json_boolean(u->password[0]));
	return j;
}

struct user_list {
	json_t *items;
	int failed;
};

static int
user_item(const struct user *u, void *arg)
{
	struct user_list *l = arg;

	if (json_array_size(l->items) >= ADMIN_LIST_MAX ||
	    json_array_append_new(l->items, user_json(u)) == -1)
		return l->failed = 1;
	return 0;
}

/* GET users[?org=CODE]: an org admin's default is their organisation. */
http_result
admin_users_get(struct admin_req *a)
{
	struct admin_target t = { NULL, NULL, 0, 0 };
	struct store_txn *txn;
	struct user_list l = { NULL, 0 };
	int rc;

	if (admin_query(a, "org", &t.org) == -1)
		return HTTP_DONE;
	if (t.org == NULL && a->admin.admin_role != ADMIN_OPERATOR)
		t.org = a->admin.org;
	if (!admin_check(a, ADMIN_USER_LIST, &t, NULL))
		return HTTP_DONE;
	if ((l.items = json_array()) == NULL ||
	    store_begin(a->idp->store, 0, &txn) != STORE_OK) {
		json_decref(l.items);
		admin_problem(a->resp, 500, NULL);
		return HTTP_DONE;
	}
	rc = store_user_list(txn, t.org, user_item, &l);
	store_abort(txn);
	if (rc != STORE_OK || l.failed) {
		json_decref(l.items);
		admin_problem(a->resp, 500, NULL);
		return HTTP_DONE;
	}
	admin_json(a, 200, json_pack("{s:o}", "users", l.items));
	return HTTP_DONE;
}

/* POST users {username, org, name, email?, phone?}: an account without a
 * password; a password reset gives the first one. */
http_result
admin_users_post(struct admin_req *a)
{
	static const char *const fields[] = { "username", "org", "name",
		"email", "phone", NULL };
	struct admin_target t = { NULL, NULL, 0, 0 };
	struct registry_err e;
	struct user_spec s;
	struct user u;
	int rc;

	memset(&s, 0, sizeof(s));
	if (admin_body(a, fields) == -1 ||
	    admin_body_str(a, "username", 1, USERNAME_SIZE, &s.username) ||
	    admin_body_str(a, "org", 1, ORG_CODE_SIZE, &s.org) ||
	    admin_body_str(a, "name", 1, NAME_SIZE, &s.name) ||
	    admin_body_str(a, "email", 0, EMAIL_SIZE, &s.email) ||
	    admin_body_str(a, "phone", 0, PHONE_SIZE, &s.phone))
		return HTTP_DONE;
	t.org = s.org;
	if (!admin_check(a, ADMIN_USER_ADD, &t, s.username))
		return HTTP_DONE;
	rc = registry_user_add(a->idp->store, &a->who, &a->idp->authn.argon2,
	    &s, &u, &e);
	if (rc != REG_OK)
		admin_reg_problem(a, rc, &e);
	else
		admin_json(a, 201, user_json(&u));
	wipe(&u, sizeof(u));
	return HTTP_DONE;
}

/* Loads users/NAME and asks admin_may for verb on them: 0, or -1 with
 * the answer rendered. */
static int
user_target(struct admin_req *a, enum admin_verb verb, struct user *u,
    struct admin_target *t)
{
	memset(t, 0, sizeof(*t));
	if (admin_user_load(a, a->seg[1], u) == -1)
		return -1;
	t->user = u;
	t->org = u->org;
	return admin_check(a, verb, t, u->username) ? 0 : -1;
}

http_result
admin_user_get(struct admin_req *a)
{
	struct admin_target t;
	struct user u;

	if (user_target(a, ADMIN_USER_READ, &u, &t) == 0)
		admin_json(a, 200, user_json(&u));
	wipe(&u, sizeof(u));
	return HTTP_DONE;
}

static http_result
user_state(struct admin_req *a, int disabled)
{
	struct registry_err e;
	struct admin_target t;
	struct user u;
	int rc;

	if (user_target(a, disabled ? ADMIN_USER_DISABLE : ADMIN_USER_ENABLE,
	    &u, &t) == 0) {
		rc = registry_user_set_disabled(a->idp->store, &a->who,
		    u.username, disabled, &e);
		if (rc != REG_OK)
			admin_reg_problem(a, rc, &e);
		else
			admin_json(a, 200, json_pack("{s:s, s:b}", "username",
			    u.username, "disabled", disabled));
	}
	wipe(&u, sizeof(u));
	return HTTP_DONE;
}

http_result
admin_user_disable(struct admin_req *a)
{
	return user_state(a, 1);
}

http_result
admin_user_enable(struct admin_req *a)
{
	return user_state(a, 0);
}

static int
grant_item(const struct grant *g, void *arg)
{
	struct user_list *l = arg;

	if (json_array_size(l->items) >= ADMIN_LIST_MAX ||
	    json_array_append_new(l->items, json_pack("{s:s, s:s, s:s, s:I}",
	    "app", g->app, "org", g->org, "role", g->role, "created",
	    (json_int_t)g->created)) == -1)
		return l->failed = 1;
	return 0;
}

http_result
admin_grants_get(struct admin_req *a)
{
	struct user_list l = { NULL, 0 };
	struct admin_target t;
	struct store_txn *txn;
	struct user u;
	int rc = STORE_ERROR;

	if (user_target(a, ADMIN_USER_READ, &u, &t) == -1)
		goto done;
	if ((l.items = json_array()) != NULL &&
	    store_begin(a->idp->store, 0, &txn) == STORE_OK) {
		rc = store_grant_list(txn, u.id, NULL, NULL, grant_item, &l);
		store_abort(txn);
	}
	if (rc != STORE_OK || l.failed) {
		json_decref(l.items);
		admin_problem(a->resp, 500, NULL);
	} else
		admin_json(a, 200, json_pack("{s:s, s:o}", "username",
		    u.username, "grants", l.items));
done:
	wipe(&u, sizeof(u));
	return HTTP_DONE;
}

/* The grant's app, role and org (the user's unless given), and whether
 * that org subscribes to the app. 0, or -1 rendered. */
static int
grant_target(struct admin_req *a, int add, struct user *u,
    struct admin_target *t, const char **app, const char **role)
{
	const char *org = NULL;
	int sub;

	if (add && (admin_body_str(a, "app", 1, APP_ID_SIZE, app) ||
	    admin_body_str(a, "role", 1, ROLE_SIZE, role) ||
	    admin_body_str(a, "org", 0, ORG_CODE_SIZE, &org)))
		return -1;
	if (!add && (admin_query(a, "app", app) || admin_query(a, "role",
	    role) || admin_query(a, "org", &org)))
		return -1;
	if (*app == NULL || *role == NULL) {
		admin_problem(a->resp, 400, "app and role are required");
		return -1;
	}
	if (admin_user_load(a, a->seg[1], u) == -1)
		return -1;
	memset(t, 0, sizeof(*t));
	t->user = u;
	t->org = org != NULL ? org : u->org;
	if (!valid_code(t->org, ORG_CODE_SIZE) || !valid_client_id(*app))
		sub = 0;	/* the registry names what is malformed */
	else if ((sub = admin_subscribed(a, t->org, *app)) == -1) {
		admin_problem(a->resp, 500, NULL);
		return -1;
	}
	t->subscribed = sub;
	return 0;
}

static http_result
grant_change(struct admin_req *a, int add)
{
	static const char *const fields[] = { "app", "role", "org", NULL };
	const char *app = NULL, *role = NULL;
	struct admin_target t;
	struct registry_err e;
	struct user u;
	int rc;

	memset(&u, 0, sizeof(u));
	if ((add && admin_body(a, fields) == -1) ||
	    grant_target(a, add, &u, &t, &app, &role) == -1 ||
	    !admin_check(a, add ? ADMIN_GRANT_ADD : ADMIN_GRANT_REVOKE, &t,
	    u.username))
		goto done;
	rc = add ? registry_grant_add(a->idp->store, &a->who, u.username, app,
	    role, t.org, &e) : registry_grant_revoke(a->idp->store, &a->who,
	    u.username, app, role, t.org, &e);
	if (rc != REG_OK)
		admin_reg_problem(a, rc, &e);
	else
		admin_json(a, add ? 201 : 200, json_pack("{s:s, s:s, s:s, s:s}",
		    "username", u.username, "app", app, "role", role, "org",
		    t.org));
done:
	wipe(&u, sizeof(u));
	return HTTP_DONE;
}

http_result
admin_grants_post(struct admin_req *a)
{
	return grant_change(a, 1);
}

http_result
admin_grants_delete(struct admin_req *a)
{
	return grant_change(a, 0);
}

/* POST users/NAME/admin {"role": "none"|"org-admin"|"operator"} */
http_result
admin_role_post(struct admin_req *a)
{
	static const char *const fields[] = { "role", NULL };
	struct admin_target t;
	struct registry_err e;
	const char *name;
	struct user u;
	int role, rc;

	memset(&u, 0, sizeof(u));
	if (admin_body(a, fields) == -1 ||
	    admin_body_str(a, "role", 1, 16, &name) == -1)
		goto done;
	if ((role = registry_admin_role_parse(name)) == -1) {
		admin_problem(a->resp, 400, "role is none, org-admin or "
		    "operator");
		goto done;
	}
	if (admin_user_load(a, a->seg[1], &u) == -1)
		goto done;
	t = (struct admin_target){ &u, u.org, 0, role };
	if (!admin_check(a, ADMIN_ROLE_SET, &t, u.username))
		goto done;
	rc = registry_user_set_admin(a->idp->store, &a->who, u.username, role,
	    &e);
	if (rc != REG_OK)
		admin_reg_problem(a, rc, &e);
	else
		admin_json(a, 200, json_pack("{s:s, s:s}", "username",
		    u.username, "admin_role", name));
done:
	wipe(&u, sizeof(u));
	return HTTP_DONE;
}
