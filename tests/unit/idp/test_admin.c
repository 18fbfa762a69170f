/*
 * test_admin.c - admin_may, the rules of the admin API: what the operator,
 * an org admin and a person without an admin role may do to whom.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admin/admin.h"
#include "registry/registry_admin.h"
#include "util/util.h"

static struct user
person(const char *id, const char *org, int role)
{
	struct user u;

	memset(&u, 0, sizeof(u));
	str_copy(u.id, id, sizeof(u.id));
	str_copy(u.username, id, sizeof(u.username));
	str_copy(u.org, org, sizeof(u.org));
	u.type = USER_EMPLOYEE;
	u.admin_role = role;
	return u;
}

/* The verbs done to one person. */
static const enum admin_verb on_person[] = { ADMIN_USER_READ,
	ADMIN_USER_DISABLE, ADMIN_USER_ENABLE, ADMIN_PASSWORD_RESET,
	ADMIN_FACTOR_RESET, ADMIN_UNLOCK, ADMIN_SESSIONS_END };
#define NPERSON (sizeof(on_person) / sizeof(on_person[0]))

static void
test_org_admin_own_org(void **st)
{
	struct user admin = person("adminA", "a", ADMIN_ORG);
	struct user alice = person("alice", "a", ADMIN_NONE);
	struct admin_target t = { &alice, "a", 1, ADMIN_NONE };
	const char *why = NULL;
	size_t i;

	(void)st;
	for (i = 0; i < NPERSON; i++)
		assert_true(admin_may(&admin, on_person[i], &t, &why));
	assert_true(admin_may(&admin, ADMIN_GRANT_ADD, &t, NULL));
	assert_true(admin_may(&admin, ADMIN_GRANT_REVOKE, &t, NULL));
	t.role = ADMIN_ORG;
	assert_true(admin_may(&admin, ADMIN_ROLE_SET, &t, NULL));
	t.role = ADMIN_NONE;
	assert_true(admin_may(&admin, ADMIN_ROLE_SET, &t, NULL));
	t.user = NULL;
	assert_true(admin_may(&admin, ADMIN_ACCESS, NULL, NULL));
	assert_true(admin_may(&admin, ADMIN_ORG_READ, &t, NULL));
	assert_true(admin_may(&admin, ADMIN_USER_LIST, &t, NULL));
	assert_true(admin_may(&admin, ADMIN_USER_ADD, &t, NULL));
	assert_true(admin_may(&admin, ADMIN_AUDIT_READ, &t, NULL));
	assert_true(admin_may(&admin, ADMIN_APP_READ, &t, NULL));
}

static void
test_org_admin_other_org(void **st)
{
	struct user admin = person("adminA", "a", ADMIN_ORG);
	struct user bob = person("bob", "b", ADMIN_NONE);
	struct admin_target t = { &bob, "b", 1, ADMIN_NONE };
	const char *why;
	size_t i;

	(void)st;
	for (i = 0; i < NPERSON; i++) {
		why = NULL;
		assert_false(admin_may(&admin, on_person[i], &t, &why));
		assert_non_null(why);
		assert_non_null(strstr(why, "own organisation"));
	}
	assert_false(admin_may(&admin, ADMIN_GRANT_ADD, &t, NULL));
	assert_false(admin_may(&admin, ADMIN_GRANT_REVOKE, &t, NULL));
	assert_false(admin_may(&admin, ADMIN_ROLE_SET, &t, NULL));
	t.user = NULL;
	assert_false(admin_may(&admin, ADMIN_ORG_READ, &t, NULL));
	assert_false(admin_may(&admin, ADMIN_USER_LIST, &t, NULL));
	assert_false(admin_may(&admin, ADMIN_USER_ADD, &t, NULL));
	assert_false(admin_may(&admin, ADMIN_AUDIT_READ, &t, NULL));
	/* All organisations at once is the operator's. */
	t.org = NULL;
	assert_false(admin_may(&admin, ADMIN_USER_LIST, &t, NULL));
	assert_false(admin_may(&admin, ADMIN_AUDIT_READ, &t, NULL));
	/* An audit query about B's person, even filtered to A's entries. */
	t.user = &bob;
	t.org = "a";
	assert_false(admin_may(&admin, ADMIN_AUDIT_READ, &t, NULL));
}

static void
test_org_admin_grants(void **st)
{
	struct user admin = person("adminA", "a", ADMIN_ORG);
	struct user alice = person("alice", "a", ADMIN_NONE);
	struct admin_target t = { &alice, "a", 0, 0 };
	const char *why = NULL;

	(void)st;
	/* An app A does not subscribe to: no grant, but a revoke (of what
	 * is left after an unsubscription) is allowed. */
	assert_false(admin_may(&admin, ADMIN_GRANT_ADD, &t, &why));
	assert_non_null(strstr(why, "subscribes"));
	assert_true(admin_may(&admin, ADMIN_GRANT_REVOKE, &t, NULL));
	/* A's person, but a grant for B. */
	t.subscribed = 1;
	t.org = "b";
	assert_false(admin_may(&admin, ADMIN_GRANT_ADD, &t, NULL));
	assert_false(admin_may(&admin, ADMIN_GRANT_REVOKE, &t, NULL));
	t.org = NULL;
	assert_false(admin_may(&admin, ADMIN_GRANT_ADD, &t, NULL));
}

static void
test_org_admin_roles(void **st)
{
	struct user admin = person("adminA", "a", ADMIN_ORG);
	struct user alice = person("alice", "a", ADMIN_NONE);
	struct user op = person("opA", "a", ADMIN_OPERATOR);
	struct admin_target t = { &alice, "a", 1, ADMIN_OPERATOR };
	const char *why = NULL;
	size_t i;

	(void)st;
	assert_false(admin_may(&admin, ADMIN_ROLE_SET, &t, &why));
	assert_non_null(strstr(why, "above their own"));
	t.role = 7;
	assert_false(admin_may(&admin, ADMIN_ROLE_SET, &t, NULL));
	/* An operator in A's own organisation is out of reach: resetting
	 * their password would make the org admin an operator. */
	t.user = &op;
	t.role = ADMIN_NONE;
	assert_false(admin_may(&admin, ADMIN_ROLE_SET, &t, NULL));
	for (i = 1; i < NPERSON; i++) {
		why = NULL;
		assert_false(admin_may(&admin, on_person[i], &t, &why));
		assert_non_null(strstr(why, "operator"));
	}
	assert_true(admin_may(&admin, ADMIN_USER_READ, &t, NULL));
	/* Nobody changes their own role. */
	t.user = &admin;
	assert_false(admin_may(&admin, ADMIN_ROLE_SET, &t, NULL));
}

static void
test_org_admin_operator_only(void **st)
{
	static const enum admin_verb ops[] = { ADMIN_ORG_ADD,
		ADMIN_ORG_SUBSCRIBE, ADMIN_APP_ADD, ADMIN_REGISTRY_IMPORT };
	struct user admin = person("adminA", "a", ADMIN_ORG);
	struct admin_target t = { NULL, "a", 1, 0 };
	const char *why;
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		why = NULL;
		assert_false(admin_may(&admin, ops[i], &t, &why));
		assert_string_equal(why, "only the operator may do this");
	}
	t.subscribed = 0;
	assert_false(admin_may(&admin, ADMIN_APP_READ, &t, NULL));
}

static void
test_operator(void **st)
{
	struct user op = person("op1", "central", ADMIN_OPERATOR);
	struct user bob = person("bob", "b", ADMIN_OPERATOR);
	struct admin_target t = { &bob, "b", 0, ADMIN_OPERATOR };
	int v;

	(void)st;
	for (v = 0; v < ADMIN_VERBS; v++)
		assert_true(admin_may(&op, (enum admin_verb)v, &t, NULL));
	t.user = NULL;
	t.org = NULL;
	for (v = 0; v < ADMIN_VERBS; v++)
		assert_true(admin_may(&op, (enum admin_verb)v, &t, NULL));
	assert_true(admin_may(&op, ADMIN_ORG_ADD, NULL, NULL));
	/* But not their own role. */
	t.user = &op;
	t.role = ADMIN_NONE;
	assert_false(admin_may(&op, ADMIN_ROLE_SET, &t, NULL));
	assert_false(admin_may(&op, ADMIN_VERBS, &t, NULL));
}

static void
test_not_admins(void **st)
{
	struct user none = person("alice", "a", ADMIN_NONE);
	struct user gone = person("op2", "a", ADMIN_OPERATOR);
	struct user citizen = person("123456789", "", ADMIN_OPERATOR);
	struct user odd = person("x", "a", 5);
	struct admin_target t = { &none, "a", 1, 0 };
	const char *why = NULL;
	int v;

	(void)st;
	gone.disabled = 1;
	citizen.type = USER_CITIZEN;
	for (v = 0; v < ADMIN_VERBS; v++) {
		assert_false(admin_may(&none, (enum admin_verb)v, &t, &why));
		assert_string_equal(why, "not an administrator");
		assert_false(admin_may(&gone, (enum admin_verb)v, &t, NULL));
		assert_false(admin_may(&citizen, (enum admin_verb)v, &t,
		    NULL));
		assert_false(admin_may(&odd, (enum admin_verb)v, &t, NULL));
		assert_false(admin_may(NULL, (enum admin_verb)v, &t, NULL));
	}
}

static void
test_citizen_target(void **st)
{
	struct user admin = person("adminA", "a", ADMIN_ORG);
	struct user cit = person("123456789", "a", ADMIN_NONE);
	struct admin_target t = { &cit, "a", 1, 0 };

	(void)st;
	/* Citizens belong to no organisation, whatever the record says. */
	cit.type = USER_CITIZEN;
	assert_false(admin_may(&admin, ADMIN_USER_READ, &t, NULL));
	assert_false(admin_may(&admin, ADMIN_PASSWORD_RESET, &t, NULL));
}

static void
test_names(void **st)
{
	(void)st;
	assert_string_equal(admin_verb_name(ADMIN_USER_DISABLE),
	    "user.disable");
	assert_string_equal(admin_verb_name(ADMIN_GRANT_ADD), "grant.add");
	assert_string_equal(admin_verb_name(ADMIN_VERBS), "unknown");
	assert_int_equal(registry_admin_role_parse("operator"),
	    ADMIN_OPERATOR);
	assert_int_equal(registry_admin_role_parse("org-admin"), ADMIN_ORG);
	assert_int_equal(registry_admin_role_parse("none"), ADMIN_NONE);
	assert_int_equal(registry_admin_role_parse("root"), -1);
	assert_int_equal(registry_admin_role_parse(NULL), -1);
	assert_string_equal(registry_admin_role_name(ADMIN_ORG), "org-admin");
	assert_null(registry_admin_role_name(3));
	assert_true(valid_reason("ticket #4711"));
	assert_false(valid_reason(""));
	assert_false(valid_reason("   "));
	assert_false(valid_reason("a\nb"));
	assert_false(valid_reason(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_org_admin_own_org),
		cmocka_unit_test(test_org_admin_other_org),
		cmocka_unit_test(test_org_admin_grants),
		cmocka_unit_test(test_org_admin_roles),
		cmocka_unit_test(test_org_admin_operator_only),
		cmocka_unit_test(test_operator),
		cmocka_unit_test(test_not_admins),
		cmocka_unit_test(test_citizen_target),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("admin", tests, NULL, NULL);
}
