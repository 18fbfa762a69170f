/* cli.c - dispatch of the kleidi command line, common options, output. */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_int.h"
#include "store/store.h"
#include "util/util.h"

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
} cli_commands[] = {
	{ "init", cli_init },
	{ "serve", cli_serve },
	{ "org", cli_org },
	{ "app", cli_app },
	{ "user", cli_user },
	{ "grant", cli_grant },
	{ "citizen", cli_citizen },
	{ "audit", cli_audit },
	{ "sms", cli_sms },
	{ "registry", cli_registry_cmd },
	{ "keys", cli_keys },
	{ "backup", cli_backup },
	{ "restore", cli_restore },
	{ "store", cli_store },
};

static void
cli_usage(FILE *f)
{
	(void)fputs(
	    "usage: kleidi COMMAND [--data DIR] [--json] ...\n"
	    "  init --issuer URL                 create store, keys, master key\n"
	    "  serve [--listen ADDR:PORT] [--config FILE]\n"
	    "  org add CODE --name NAME\n"
	    "  org subscribe CODE APP\n"
	    "  org sms-cap CODE N                SMS a month, 0 for no cap\n"
	    "  app add ID --name NAME --redirect-uri URI [--redirect-uri URI]...\n"
	    "      [--public] [--audience employees|citizens|both]\n"
	    "      [--require-2fa] [--post-logout-uri URI] [--id-token-alg ALG]\n"
	    "      [--admin-client]              may ask for kleidi:admin\n"
	    "      [--pairwise]                  per-app sub (OIDC Core 8.1)\n"
	    "      [--refresh]                   refresh tokens (rotated)\n"
	    "  user add USERNAME --org CODE --name NAME [--email E]\n"
	    "      [--phone +30...] [--password-stdin]\n"
	    "  user disable|enable USERNAME\n"
	    "  user admin USERNAME operator|org-admin|none\n"
	    "  user totp USERNAME                enrol an authenticator app\n"
	    "  user recovery USERNAME            a new set of recovery codes\n"
	    "  user password-reset|factor-reset|unlock USERNAME --reason TEXT\n"
	    "  grant add|revoke USERNAME APP ROLE [--org CODE]\n"
	    "  grant client|client-revoke APP ROLE  role of the app itself\n"
	    "                                    (client_credentials tokens)\n"
	    "  citizen add TAXID --name NAME --phone +30... [--email E]\n"
	    "      [--password-stdin]            phone taken as verified\n"
	    "  citizen export TAXID              all data held, as JSON\n"
	    "  citizen erase TAXID               delete; pseudonymise the log\n"
	    "  audit verify [--expect-head HEX]  check the audit log's chain\n"
	    "  audit tail [--user U] [-n N]      newest entries, oldest first\n"
	    "  sms usage [--org CODE] [--month YYYY-MM]\n"
	    "  registry import FILE [--dry-run] employee registry export\n"
	    "      (CSV or JSON); --dry-run prints the plan\n"
	    "  registry apply-due                apply scheduled changes now\n"
	    "  keys rotate [--alg RS256|ES256|all] [--delay SECONDS]\n"
	    "                                    new key, signs after the delay\n"
	    "  keys list                         kid, alg, times and state\n"
	    "  backup FILE [--encrypt-key-file PATH]\n"
	    "                                    hot copy of store + keys\n"
	    "  restore FILE [--decrypt-key-file PATH] [--force]\n"
	    "                                    into --data DIR (stopped)\n"
	    "  store check                       indexes and audit chain\n"
	    "DIR defaults to $KLEIDI_DATA.\n", f);
}

int
cli_fail(struct cli *c, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->json) {
		(void)fprintf(c->err, "kleidi: %s\n", msg);
		return 1;
	}
	j = json_pack("{s:s, s:s}", "error", code, "message", msg);
	cli_print_json(c, j);
	json_decref(j);
	return 1;
}

void
cli_print_json(struct cli *c, json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	(void)fprintf(c->out, "%s\n", s != NULL ? s : "{}");
	if (s != NULL) {
		wipe(s, strlen(s));
		free(s);
	}
}

struct store *
cli_store_open(struct cli *c)
{
	struct store *st = NULL;
	char path[1024], err[256];

	if (c->data == NULL) {
		cli_fail(c, "usage", "no data folder: give --data DIR or set "
		    "KLEIDI_DATA");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/store", c->data);
	if (store_open(path, &st, err, sizeof(err)) != STORE_OK) {
		cli_fail(c, "store", "%s", err);
		return NULL;
	}
	return st;
}

/* Takes --data DIR / --data=DIR and --json out of argv, wherever they
 * are; returns the new argc or -1 on a --data without value. */
static int
cli_common(struct cli *c, int argc, char **argv)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = 1;
		else if (strcmp(argv[i], "--data") == 0) {
			if (++i == argc)
				return -1;
			c->data = argv[i];
		} else if (strncmp(argv[i], "--data=", 7) == 0)
			c->data = argv[i] + 7;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}

int
cli_main(int argc, char **argv)
{
	struct cli c = { NULL, 0, NULL, stdout, stderr };
	char actor[96];
	const char *login;
	struct passwd *pw;
	size_t i;

	c.data = getenv("KLEIDI_DATA");
	login = getenv("SUDO_USER") ? getenv("SUDO_USER") : getlogin();
	/* No controlling terminal (cron, a script): the account it runs as,
	 * so the audit log still names someone. */
	if (login == NULL && (pw = getpwuid(geteuid())) != NULL)
		login = pw->pw_name;
	snprintf(actor, sizeof(actor), "operator:%s", login ? login : "?");
	c.actor = actor;
	if ((argc = cli_common(&c, argc - 1, argv + 1)) == -1) {
		cli_fail(&c, "usage", "--data needs a folder");
		return 2;
	}
	if (argc == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_usage(argc == 0 ? stderr : stdout);
		return argc == 0 ? 2 : 0;
	}
	for (i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++)
		if (strcmp(argv[1], cli_commands[i].name) == 0)
			return cli_commands[i].fn(&c, argc, argv + 1);
	cli_fail(&c, "usage", "unknown command %s (try kleidi --help)",
	    argv[1]);
	return 2;
}
