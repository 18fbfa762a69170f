/* cli_int.h - internal to idp/cli: option parsing and output helpers. */
#ifndef KLEIDI_CLI_INT_H
#define KLEIDI_CLI_INT_H

#include <jansson.h>

#include "cli.h"

#define CLI_POS_MAX 4

/* One option of a command: --name VALUE (value != NULL), --name (flag),
 * or repeated --name VALUE into list (up to max). */
struct cli_opt {
	const char *name;
	const char **value;
	int *flag;
	const char **list;
	int *nlist;
	int max;
};

/* Parses argv[start..] into opts and up to CLI_POS_MAX positionals;
 * exactly npos positionals are required. Prints the error and returns -1
 * on an unknown option, a missing value, or a wrong positional count. */
int cli_parse(struct cli *c, int argc, char **argv, int start,
    const struct cli_opt *opts, const char **pos, int npos);
void cli_print_json(struct cli *c, json_t *j);
/* Reads one line (the password) from stdin, without the newline. */
int cli_read_secret(char *buf, size_t size);

struct config;
/* The settings: defaults, then DATA/kleidi.ini if present, then file (if
 * not NULL). Prints the error and returns -1 on a bad file. */
int cli_config(struct cli *c, const char *file, struct config *cfg);

/* user totp USERNAME and user recovery USERNAME (cli_factor.c); argv[1]
 * is the subcommand. */
int cli_user_totp(struct cli *c, int argc, char **argv);
int cli_user_recovery(struct cli *c, int argc, char **argv);
/* user admin USERNAME ROLE (cli_admin.c). */
int cli_user_admin(struct cli *c, int argc, char **argv);

/* user password-reset | factor-reset | unlock USERNAME --reason TEXT */
int cli_user_helpdesk(struct cli *c, int argc, char **argv);

/* grant client|client-revoke APP ROLE: roles of a client itself, for
 * client_credentials (cli_grant_client.c); argv[1] is the subcommand. */
int cli_grant_client(struct cli *c, int argc, char **argv);

#endif
