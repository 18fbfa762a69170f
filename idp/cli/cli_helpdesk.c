/*
 * cli_helpdesk.c - the help-desk actions on another person, from the
 * operator's console: `user password-reset`, `user factor-reset` and
 * `user unlock`, each with --reason (kept in the audit entry). The same
 * services as the admin API's.
 */
#include <stdio.h>
#include <string.h>

#include "cli_env.h"
#include "cli_int.h"
#include "config/config.h"
#include "registry/registry_admin.h"

static int
helpdesk_fail(struct cli *c, int rc, const struct registry_err *e)
{
	return cli_fail(c, rc == REG_NOTFOUND ? "not_found" : rc ==
	    REG_REFUSED ? "refused" : rc == REG_ERROR ? "error" : "invalid",
	    "%s", e->msg);
}

static int
helpdesk_done(struct cli *c, const char *username, const char *what,
    const char *temp)
{
	json_t *j;

	if (!c->json) {
		if (temp != NULL)
			(void)fprintf(c->out, "user %s: %s; temporary password "
			    "%s (shown once)\n", username, what, temp);
		else
			(void)fprintf(c->out, "user %s: %s\n", username, what);
		return 0;
	}
	j = json_pack("{s:s, s:s}", "username", username, "action", what);
	if (j != NULL && temp != NULL)
		json_object_set_new(j, "temporary_password", json_string(temp));
	cli_print_json(c, j);
	json_decref(j);
	return 0;
}

int
cli_user_helpdesk(struct cli *c, int argc, char **argv)
{
	const char *reason = NULL, *pos[1];
	const struct cli_opt opts[] = { { "reason", &reason, 0, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	char temp[REGISTRY_TEMP_PASSWORD_SIZE] = "";
	struct registry_err e;
	struct argon2_params a2;
	struct cli_env env;
	struct config cfg;
	int rc;

	if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
		return 2;
	if (reason == NULL || !valid_reason(reason))
		return cli_fail(c, "usage", "user %s USERNAME --reason TEXT: a "
		    "reason or ticket reference is required (1-%d bytes)",
		    argv[1], REGISTRY_REASON_MAX) + 1;
	if (cli_config(c, NULL, &cfg) == -1 || cli_env_open(c, &env) == -1)
		return 1;
	a2 = (struct argon2_params){ cfg.argon2_t_cost, cfg.argon2_m_cost_kib,
		cfg.argon2_parallelism };
	if (strcmp(argv[1], "password-reset") == 0)
		rc = registry_user_password_reset(env.st, &env.who, &a2, pos[0],
		    reason, temp, &e);
	else if (strcmp(argv[1], "factor-reset") == 0)
		rc = registry_user_factor_reset(env.st, &env.who, pos[0],
		    reason, &e);
	else
		rc = registry_user_unlock(env.st, &env.who, pos[0], reason,
		    &e);
	cli_env_close(&env);
	if (rc != REG_OK)
		return helpdesk_fail(c, rc, &e);
	rc = helpdesk_done(c, pos[0], argv[1], temp[0] ? temp : NULL);
	wipe(temp, sizeof(temp));
	return rc;
}
