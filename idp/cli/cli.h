/*
 * cli.h - the operator command line (DESIGN.md, "Operator CLI"). Every
 * command takes --data DIR (or KLEIDI_DATA), prints a one-line summary or
 * with --json one JSON object, and exits non-zero with a clear message on
 * bad input. Front door only: parse the arguments, call one service
 * function, print its result.
 */
#ifndef KLEIDI_CLI_H
#define KLEIDI_CLI_H

#include <stdio.h>

struct store;

struct cli {
	const char *data;	/* --data DIR */
	int json;		/* --json */
	const char *actor;	/* who runs it, for the audit log */
	FILE *out;		/* stdout */
	FILE *err;		/* stderr */
};

/* Entry point of the kleidi binary. Returns the process exit status:
 * 0 ok, 1 the action was refused or failed, 2 bad usage. */
int cli_main(int argc, char **argv);

/* One handler per command group; argv[0] is the group name ("org", ...).
 * Common options (--data, --json) are already removed from argv. */
int cli_init(struct cli *c, int argc, char **argv);
int cli_serve(struct cli *c, int argc, char **argv);
int cli_org(struct cli *c, int argc, char **argv);
int cli_app(struct cli *c, int argc, char **argv);
int cli_user(struct cli *c, int argc, char **argv);
int cli_grant(struct cli *c, int argc, char **argv);
int cli_citizen(struct cli *c, int argc, char **argv);
int cli_audit(struct cli *c, int argc, char **argv);
int cli_sms(struct cli *c, int argc, char **argv);
/* registry import FILE [--dry-run], registry apply-due (cli_import.c) */
int cli_registry_cmd(struct cli *c, int argc, char **argv);
/* keys rotate [--alg A] [--delay S], keys list (cli_keys.c) */
int cli_keys(struct cli *c, int argc, char **argv);
/* backup FILE, restore FILE, store check (cli_backup.c) */
int cli_backup(struct cli *c, int argc, char **argv);
int cli_restore(struct cli *c, int argc, char **argv);
int cli_store(struct cli *c, int argc, char **argv);

/* Opens DATA/store for a command; prints the error and returns NULL on
 * failure. */
struct store *cli_store_open(struct cli *c);
/* Prints the failure of a command: "kleidi: <msg>" on stderr, or with --json
 * {"error":"<code>","message":"<msg>"} on stdout. Returns 1. */
int cli_fail(struct cli *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
