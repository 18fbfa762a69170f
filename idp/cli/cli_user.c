/* cli_user.c - user and grant commands. */
#include <stdio.h>
#include <string.h>

#include "cli_env.h"
#include "cli_int.h"
#include "config/config.h"
#include "registry/registry.h"

static int
cli_user_add(struct cli *c, int argc, char **argv)
{
	struct user_spec s;
	const char *pos[1];
	int pw_stdin = 0, rc;
	const struct cli_opt opts[] = {
		{ "org", &s.org, 0, 0, 0, 0 },
		{ "name", &s.name, 0, 0, 0, 0 },
		{ "email", &s.email, 0, 0, 0, 0 },
		{ "phone", &s.phone, 0, 0, 0, 0 },
		{ "password-stdin", 0, &pw_stdin, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	char password[PASSWORD_MAX + 2], line[256];
	struct registry_err e;
	struct argon2_params a2;
	struct config cfg;
	struct cli_env env;
	struct user u;

	memset(&s, 0, sizeof(s));
	if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
		return 2;
	if (s.org == NULL || s.name == NULL)
		return cli_fail(c, "usage", "user add needs --org and --name")
		    + 1;
	s.username = pos[0];
	if (pw_stdin) {
		if (cli_read_secret(password, sizeof(password)) == -1)
			return cli_fail(c, "invalid", "cannot read the password "
			    "from standard input (at most %d bytes, one line)",
			    PASSWORD_MAX);
		s.password = password;
	}
	if (cli_config(c, NULL, &cfg) == -1 || cli_env_open(c, &env) == -1) {
		wipe(password, sizeof(password));
		return 1;
	}
	a2 = (struct argon2_params){ cfg.argon2_t_cost, cfg.argon2_m_cost_kib,
		cfg.argon2_parallelism };
	rc = registry_user_add(env.st, &env.who, &a2, &s, &u, &e);
	wipe(password, sizeof(password));
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_fail(c, rc == REG_EXISTS ? "exists" : "invalid",
		    "%s", e.msg);
	snprintf(line, sizeof(line), "user %s added to %s (sub %s)",
	    u.username, u.org, u.id);
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:b}", "username",
		    u.username, "sub", u.id, "org", u.org, "password",
		    u.password[0] != '\0');
		cli_print_json(c, j);
		json_decref(j);
	} else
		(void)fprintf(c->out, "%s\n", line);
	wipe(&u, sizeof(u));
	return 0;
}

static int
cli_user_state(struct cli *c, int argc, char **argv, int disabled)
{
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };
	struct registry_err e;
	const char *pos[1];
	struct cli_env env;
	int rc;

	if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
		return 2;
	if (cli_env_open(c, &env) == -1)
		return 1;
	rc = registry_user_set_disabled(env.st, &env.who, pos[0],
	    disabled, &e);
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_fail(c, rc == REG_NOTFOUND ? "not_found" : "invalid",
		    "%s", e.msg);
	if (c->json) {
		json_t *j = json_pack("{s:s, s:b}", "username", pos[0],
		    "disabled", disabled);
		cli_print_json(c, j);
		json_decref(j);
	} else
		(void)fprintf(c->out, "user %s %s\n", pos[0], disabled ?
		    "disabled; sessions ended" : "enabled");
	return 0;
}

int
cli_user(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cli_user_add(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "disable") == 0)
		return cli_user_state(c, argc, argv, 1);
	if (argc >= 2 && strcmp(argv[1], "enable") == 0)
		return cli_user_state(c, argc, argv, 0);
	if (argc >= 2 && strcmp(argv[1], "totp") == 0)
		return cli_user_totp(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "recovery") == 0)
		return cli_user_recovery(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "admin") == 0)
		return cli_user_admin(c, argc, argv);
	if (argc >= 2 && (strcmp(argv[1], "password-reset") == 0 ||
	    strcmp(argv[1], "factor-reset") == 0 ||
	    strcmp(argv[1], "unlock") == 0))
		return cli_user_helpdesk(c, argc, argv);
	return cli_fail(c, "usage", "usage: user add USERNAME --org CODE "
	    "--name NAME ... | user disable|enable|totp|recovery USERNAME | "
	    "user admin USERNAME operator|org-admin|none") + 1;
}

int
cli_grant(struct cli *c, int argc, char **argv)
{
	const char *pos[3], *org = NULL;
	const struct cli_opt opts[] = { { "org", &org, 0, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	struct registry_err e;
	struct cli_env env;
	int add, rc;

	if (argc >= 2 && (strcmp(argv[1], "client") == 0 ||
	    strcmp(argv[1], "client-revoke") == 0))
		return cli_grant_client(c, argc, argv);
	if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "revoke")))
		return cli_fail(c, "usage", "usage: grant add|revoke USERNAME "
		    "APP ROLE [--org CODE] | grant client|client-revoke APP "
		    "ROLE") + 1;
	add = strcmp(argv[1], "add") == 0;
	if (cli_parse(c, argc, argv, 2, opts, pos, 3) == -1)
		return 2;
	if (cli_env_open(c, &env) == -1)
		return 1;
	rc = add ? registry_grant_add(env.st, &env.who, pos[0], pos[1], pos[2],
	    org, &e) : registry_grant_revoke(env.st, &env.who, pos[0], pos[1],
	    pos[2], org, &e);
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_fail(c, rc == REG_NOTFOUND ? "not_found" :
		    rc == REG_REFUSED ? "refused" : "invalid", "%s", e.msg);
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "username",
		    pos[0], "app", pos[1], "role", pos[2], "action",
		    add ? "granted" : "revoked");
		cli_print_json(c, j);
		json_decref(j);
	} else
		(void)fprintf(c->out, "role %s in %s %s %s\n", pos[2], pos[1],
		    add ? "granted to" : "revoked from", pos[0]);
	return 0;
}
