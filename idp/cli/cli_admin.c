/* cli_admin.c - `user admin USERNAME operator|org-admin|none`: who may use
 * the admin API. The operator at the console may give any role; the
 * service is the one the API calls. */
#include <stdio.h>
#include <string.h>

#include "cli_env.h"
#include "cli_int.h"
#include "registry/registry_admin.h"

int
cli_user_admin(struct cli *c, int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };
	struct registry_err e;
	const char *pos[2];
	struct cli_env env;
	int role, rc;

	if (cli_parse(c, argc, argv, 2, opts, pos, 2) == -1)
		return 2;
	if ((role = registry_admin_role_parse(pos[1])) == -1)
		return cli_fail(c, "usage", "user admin USERNAME ROLE: ROLE is "
		    "operator, org-admin or none") + 1;
	if (cli_env_open(c, &env) == -1)
		return 1;
	rc = registry_user_set_admin(env.st, &env.who, pos[0], role, &e);
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_fail(c, rc == REG_NOTFOUND ? "not_found" :
		    rc == REG_REFUSED ? "refused" : rc == REG_ERROR ? "error" :
		    "invalid", "%s", e.msg);
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s}", "username", pos[0],
		    "admin_role", pos[1]);
		cli_print_json(c, j);
		json_decref(j);
	} else
		(void)fprintf(c->out, "user %s: admin role %s\n", pos[0],
		    pos[1]);
	return 0;
}
