/* admin_policy.c - who may do what to whom through the admin API: the
 * rules in one place, a pure function of the administrator (as the store
 * has them now) and the target. */
#include <string.h>

#include "admin.h"

static const char *const verb_names[ADMIN_VERBS] = {
	[ADMIN_ACCESS] = "access",
	[ADMIN_ORG_READ] = "org.read",
	[ADMIN_ORG_ADD] = "org.add",
	[ADMIN_ORG_SUBSCRIBE] = "org.subscribe",
	[ADMIN_APP_READ] = "app.read",
	[ADMIN_APP_ADD] = "app.add",
	[ADMIN_USER_LIST] = "user.list",
	[ADMIN_USER_ADD] = "user.add",
	[ADMIN_USER_READ] = "user.read",
	[ADMIN_USER_DISABLE] = "user.disable",
	[ADMIN_USER_ENABLE] = "user.enable",
	[ADMIN_GRANT_ADD] = "grant.add",
	[ADMIN_GRANT_REVOKE] = "grant.revoke",
	[ADMIN_ROLE_SET] = "user.admin",
	[ADMIN_PASSWORD_RESET] = "user.password-reset",
	[ADMIN_FACTOR_RESET] = "user.factor-reset",
	[ADMIN_UNLOCK] = "user.unlock",
	[ADMIN_SESSIONS_END] = "user.sessions-end",
	[ADMIN_AUDIT_READ] = "audit.read",
	[ADMIN_REGISTRY_IMPORT] = "registry.import",
};

const char *
admin_verb_name(enum admin_verb verb)
{
	if ((int)verb < 0 || verb >= ADMIN_VERBS)
		return "unknown";
	return verb_names[verb];
}

static int
deny(const char **why, const char *rule)
{
	if (why != NULL)
		*why = rule;
	return 0;
}

static int
same_org(const struct user *admin, const char *org)
{
	return org != NULL && org[0] != '\0' && strcmp(admin->org, org) == 0;
}

/* The target person belongs to the org admin's organisation (citizens
 * belong to none). */
static int
own_person(const struct user *admin, const struct user *u)
{
	return u != NULL && u->type == USER_EMPLOYEE && same_org(admin, u->org);
}

/* Changing someone's account, password or factors: their own
 * organisation's people, and none who outranks the org admin (an org
 * admin who could reset an operator's password could become one). */
static int
org_admin_change(const struct user *admin, const struct admin_target *t,
    const char **why)
{
	if (!own_person(admin, t->user))
		return deny(why, "an org admin acts only on the people of "
		    "their own organisation");
	if (t->user->admin_role > ADMIN_ORG)
		return deny(why, "an org admin cannot act on an operator");
	return 1;
}

static int
org_admin_grant(const struct user *admin, enum admin_verb verb,
    const struct admin_target *t, const char **why)
{
	if (!org_admin_change(admin, t, why))
		return 0;
	if (!same_org(admin, t->org))
		return deny(why, "an org admin grants only for their own "
		    "organisation");
	/* Revoking stays possible after an unsubscription (clean-up). */
	if (verb == ADMIN_GRANT_ADD && !t->subscribed)
		return deny(why, "an org admin grants only in applications "
		    "their organisation subscribes to");
	return 1;
}

static int
org_admin_role(const struct user *admin, const struct admin_target *t,
    const char **why)
{
	if (!org_admin_change(admin, t, why))
		return 0;
	if (t->role != ADMIN_NONE && t->role != ADMIN_ORG)
		return deny(why, "an org admin cannot give a role above their "
		    "own");
	return 1;
}

/* The org admin's rules, verb by verb. */
static int
org_admin_may(const struct user *admin, enum admin_verb verb,
    const struct admin_target *t, const char **why)
{
	static const char other[] = "an org admin sees only their own "
	    "organisation";

	switch (verb) {
	case ADMIN_ACCESS:
		return 1;
	case ADMIN_ORG_READ:
	case ADMIN_USER_LIST:
	case ADMIN_USER_ADD:
		return same_org(admin, t->org) ? 1 : deny(why, other);
	case ADMIN_APP_READ:
		return t->subscribed ? 1 : deny(why, "an org admin sees only "
		    "the applications their organisation subscribes to");
	case ADMIN_USER_READ:
		return own_person(admin, t->user) ? 1 : deny(why, other);
	case ADMIN_AUDIT_READ:
		if (t->user != NULL && !own_person(admin, t->user))
			return deny(why, other);
		return same_org(admin, t->org) ? 1 : deny(why, other);
	case ADMIN_USER_DISABLE:
	case ADMIN_USER_ENABLE:
	case ADMIN_PASSWORD_RESET:
	case ADMIN_FACTOR_RESET:
	case ADMIN_UNLOCK:
	case ADMIN_SESSIONS_END:
		return org_admin_change(admin, t, why);
	case ADMIN_GRANT_ADD:
	case ADMIN_GRANT_REVOKE:
		return org_admin_grant(admin, verb, t, why);
	case ADMIN_ROLE_SET:
		return org_admin_role(admin, t, why);
	default:
		return deny(why, "only the operator may do this");
	}
}

int
admin_may(const struct user *admin, enum admin_verb verb,
    const struct admin_target *t, const char **why)
{
	static const struct admin_target none;

	if (t == NULL)
		t = &none;
	if ((int)verb < 0 || verb >= ADMIN_VERBS)
		return deny(why, "unknown action");
	if (admin == NULL || admin->disabled || admin->type != USER_EMPLOYEE ||
	    (admin->admin_role != ADMIN_ORG &&
	    admin->admin_role != ADMIN_OPERATOR))
		return deny(why, "not an administrator");
	/* Own role: an operator could lock everyone out by mistake, an org
	 * admin has nothing to gain; another administrator does it. */
	if (verb == ADMIN_ROLE_SET && t->user != NULL &&
	    strcmp(t->user->id, admin->id) == 0)
		return deny(why, "nobody changes their own admin role");
	if (admin->admin_role == ADMIN_OPERATOR)
		return 1;
	return org_admin_may(admin, verb, t, why);
}
