/* cli_grant_client.c - grant client APP ROLE and grant client-revoke APP
 * ROLE: the roles a confidential client holds itself, which its
 * client_credentials access tokens carry. */
#include <stdio.h>
#include <string.h>

#include "cli_env.h"
#include "cli_int.h"
#include "registry/registry.h"

int
cli_grant_client(struct cli *c, int argc, char **argv)
{
	static const char *const codes[] = { "ok", "invalid", "exists",
		"not_found", "refused", "error" };
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };
	struct registry_err e;
	struct cli_env env;
	const char *pos[2];
	int add = strcmp(argv[1], "client") == 0, rc;
	json_t *j;

	if (cli_parse(c, argc, argv, 2, opts, pos, 2) == -1)
		return 2;
	if (cli_env_open(c, &env) == -1)
		return 1;
	rc = add ? registry_client_grant_add(env.st, &env.who, pos[0], pos[1],
	    &e) : registry_client_grant_revoke(env.st, &env.who, pos[0],
	    pos[1], &e);
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_fail(c, codes[rc], "%s", e.msg);
	if (c->json) {
		j = json_pack("{s:s, s:s, s:s}", "client_id", pos[0], "role",
		    pos[1], "action", add ? "granted" : "revoked");
		cli_print_json(c, j);
		json_decref(j);
	} else
		(void)fprintf(c->out, "role %s %s client %s\n", pos[1],
		    add ? "granted to" : "revoked from", pos[0]);
	return 0;
}
