/* cli_citizen.c - citizen add, export and erase. */
#include <stdio.h>
#include <string.h>

#include "cli_env.h"
#include "cli_int.h"
#include "config/config.h"
#include "registry/citizen.h"

static void
cli_citizen_added(struct cli *c, const struct user *u)
{
	json_t *j;

	if (!c->json) {
		(void)fprintf(c->out, "citizen %s added (sub %s)\n",
		    u->username, u->id);
		return;
	}
	j = json_pack("{s:s, s:s, s:b, s:b}", "tax_id", u->tax_id, "sub",
	    u->id, "password", u->password[0] != '\0', "phone_verified",
	    u->phone_verified);
	cli_print_json(c, j);
	json_decref(j);
}

/* --name "Given Family": the last word is the family name. */
static int
cli_split_name(const char *name, char *given, char *family, size_t size)
{
	const char *sp = name != NULL ? strrchr(name, ' ') : NULL;

	if (sp == NULL || sp == name || sp[1] == '\0' ||
	    (size_t)(sp - name) >= size || strlen(sp + 1) >= size)
		return -1;
	memcpy(given, name, (size_t)(sp - name));
	given[sp - name] = '\0';
	str_copy(family, sp + 1, size);
	return 0;
}

static int
cli_citizen_add(struct cli *c, int argc, char **argv)
{
	struct citizen_spec s = { .phone_verified = 1 };
	const char *pos[1], *name = NULL;
	int pw_stdin = 0, rc;
	const struct cli_opt opts[] = {
		{ "name", &name, 0, 0, 0, 0 },
		{ "email", &s.email, 0, 0, 0, 0 },
		{ "phone", &s.phone, 0, 0, 0, 0 },
		{ "password-stdin", 0, &pw_stdin, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	char password[PASSWORD_MAX + 2] = "", given[NAME_SIZE];
	char family[NAME_SIZE];
	struct registry_err e;
	struct argon2_params a2;
	struct config cfg;
	struct cli_env env;
	struct user u;

	if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
		return 2;
	if (s.phone == NULL || cli_split_name(name, given, family,
	    sizeof(given)) == -1)
		return cli_fail(c, "usage", "citizen add needs --name \"GIVEN "
		    "FAMILY\" and --phone") + 1;
	s.tax_id = pos[0];
	s.given_name = given;
	s.family_name = family;
	if (pw_stdin && cli_read_secret(password, sizeof(password)) == -1)
		return cli_fail(c, "invalid", "cannot read the password from "
		    "standard input (at most %d bytes, one line)",
		    PASSWORD_MAX);
	if (pw_stdin)
		s.password = password;
	if (cli_config(c, NULL, &cfg) == -1 || cli_env_open(c, &env) == -1) {
		wipe(password, sizeof(password));
		return 1;
	}
	a2 = (struct argon2_params){ cfg.argon2_t_cost, cfg.argon2_m_cost_kib,
		cfg.argon2_parallelism };
	rc = registry_citizen_add(env.st, &env.who, &a2, &s, &u, &e);
	wipe(password, sizeof(password));
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_fail(c, rc == REG_EXISTS ? "exists" :
		    rc == REG_ERROR ? "error" : "invalid", "%s", e.msg);
	cli_citizen_added(c, &u);
	wipe(&u, sizeof(u));
	return 0;
}

/* Always JSON: the export is for the person, not a summary. */
static int
cli_citizen_export(struct cli *c, int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };
	struct registry_err e;
	const char *pos[1];
	struct store *st;
	json_t *j;

	if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
		return 2;
	if ((st = cli_store_open(c)) == NULL)
		return 1;
	j = registry_citizen_export(st, pos[0], &e);
	store_close(st);
	if (j == NULL)
		return cli_fail(c, "not_found", "%s", e.msg);
	cli_print_json(c, j);
	json_decref(j);
	return 0;
}

static int
cli_citizen_erase(struct cli *c, int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };
	struct citizen_erased done;
	struct registry_err e;
	const char *pos[1];
	struct cli_env env;
	json_t *j;
	int rc;

	if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
		return 2;
	if (cli_env_open(c, &env) == -1)
		return 1;
	rc = registry_citizen_erase(env.st, &env.who, pos[0], &done, &e);
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_fail(c, rc == REG_NOTFOUND ? "not_found" :
		    rc == REG_REFUSED ? "refused" : "invalid", "%s", e.msg);
	if (!c->json) {
		(void)fprintf(c->out, "citizen %s erased: %zu sessions ended, "
		    "%zu audit entries pseudonymised\n", pos[0], done.sessions,
		    done.audit);
		return 0;
	}
	j = json_pack("{s:s, s:I, s:I, s:I, s:I}", "tax_id", pos[0],
	    "sessions", (json_int_t)done.sessions, "pairwise",
	    (json_int_t)done.pairwise, "counters", (json_int_t)done.counters,
	    "audit_pseudonymised", (json_int_t)done.audit);
	cli_print_json(c, j);
	json_decref(j);
	return 0;
}

int
cli_citizen(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cli_citizen_add(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return cli_citizen_export(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "erase") == 0)
		return cli_citizen_erase(c, argc, argv);
	return cli_fail(c, "usage", "usage: citizen add TAXID --name NAME "
	    "--phone +30... [--email E] [--password-stdin] | citizen "
	    "export|erase TAXID") + 1;
}
