/* cli_backup.c - `kleidi backup`, `kleidi restore` and `kleidi store
 * check`: front doors of idp/ops/backup.c and store_check. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "cli_env.h"
#include "cli_int.h"
#include "ops/backup.h"
#include "store/store.h"
#include "util/util.h"

static void
report_json(struct cli *c, const char *file, const struct backup_report *r,
    int restore)
{
	char hex[65];
	json_t *j;

	hex_encode(r->digest, sizeof(r->digest), hex);
	j = json_pack("{s:s, s:s, s:I, s:I, s:b, s:s}", restore ? "data" :
	    "file", restore ? c->data : file, "source", file,
	    "entries", (json_int_t)r->entries, "bytes", (json_int_t)r->bytes,
	    "encrypted", r->encrypted, "sha256", hex);
	if (restore && r->replaced[0][0] != '\0')
		json_object_set_new(j, "replaced_store",
		    json_string(r->replaced[0]));
	if (restore && r->replaced[1][0] != '\0')
		json_object_set_new(j, "replaced_keys",
		    json_string(r->replaced[1]));
	cli_print_json(c, j);
	json_decref(j);
}

/* backup FILE [--encrypt-key-file PATH] */
int
cli_backup(struct cli *c, int argc, char **argv)
{
	const char *keyfile = NULL, *pos[1];
	const struct cli_opt opts[] = {
		{ "encrypt-key-file", &keyfile, 0, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	unsigned char key[BACKUP_KEY_LEN];
	struct backup_report rep;
	struct store *st;
	char err[512];
	int rc;

	if (cli_parse(c, argc, argv, 1, opts, pos, 1) == -1)
		return 2;
	if (keyfile != NULL && backup_key_read(keyfile, c->data, key,
	    err, sizeof(err)) == -1)
		return cli_fail(c, "key", "%s", err);
	if ((st = cli_store_open(c)) == NULL)
		return 1;
	rc = backup_write(st, c->data, pos[0], keyfile ? key : NULL, &rep,
	    err, sizeof(err));
	store_close(st);
	wipe(key, sizeof(key));
	if (rc == -1)
		return cli_fail(c, "backup", "%s", err);
	if (c->json)
		report_json(c, pos[0], &rep, 0);
	else
		(void)fprintf(c->out, "backed up %s to %s: %zu files, %llu "
		    "bytes%s\n", c->data, pos[0], rep.entries,
		    (unsigned long long)rep.bytes, rep.encrypted ?
		    ", encrypted" : "");
	return 0;
}

/* restore FILE [--decrypt-key-file PATH] [--force] */
int
cli_restore(struct cli *c, int argc, char **argv)
{
	const char *keyfile = NULL, *pos[1];
	int force = 0;
	const struct cli_opt opts[] = {
		{ "decrypt-key-file", &keyfile, 0, 0, 0, 0 },
		{ "force", 0, &force, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	unsigned char key[BACKUP_KEY_LEN];
	struct backup_report rep;
	char err[512];
	int rc;

	if (cli_parse(c, argc, argv, 1, opts, pos, 1) == -1)
		return 2;
	if (c->data == NULL)
		return cli_fail(c, "usage", "no data folder: give --data DIR "
		    "or set KLEIDI_DATA") + 1;
	if (keyfile != NULL && backup_key_read(keyfile, c->data, key,
	    err, sizeof(err)) == -1)
		return cli_fail(c, "key", "%s", err);
	rc = backup_restore(pos[0], keyfile ? key : NULL, c->data, force,
	    &rep, err, sizeof(err));
	wipe(key, sizeof(key));
	if (rc == -1)
		return cli_fail(c, "restore", "%s", err);
	if (c->json)
		report_json(c, pos[0], &rep, 1);
	else
		(void)fprintf(c->out, "restored %s into %s: %zu files, %llu "
		    "bytes%s%s\n", pos[0], c->data, rep.entries,
		    (unsigned long long)rep.bytes, rep.replaced[0][0] ?
		    "; the old store was moved to " : "", rep.replaced[0]);
	return 0;
}

struct problems {
	struct cli *c;
	json_t *list;
};

static void
on_problem(const char *what, void *arg)
{
	struct problems *p = arg;

	if (p->list != NULL)
		json_array_append_new(p->list, json_string(what));
	else
		(void)fprintf(p->c->out, "problem: %s\n", what);
}

/* store check: the indexes, then the audit chain. */
static int
store_check_cmd(struct cli *c)
{
	struct problems p = { c, NULL };
	struct audit_report ar;
	struct cli_env env;
	size_t n = 0;
	int src, arc;

	if (cli_env_open(c, &env) == -1)
		return 1;
	if (c->json)
		p.list = json_array();
	src = store_check(env.st, on_problem, &p, &n);
	memset(&ar, 0, sizeof(ar));
	arc = audit_verify(&env.audit, env.st, &ar);
	cli_env_close(&env);
	if (src != STORE_OK || arc == AUDIT_ERROR) {
		json_decref(p.list);
		return cli_fail(c, "store", "the check could not run to the "
		    "end (read error)");
	}
	if (c->json) {
		json_t *j = json_pack("{s:b, s:I, s:o, s:s, s:I}", "ok",
		    n == 0 && arc == AUDIT_INTACT, "problems", (json_int_t)n,
		    "list", p.list, "audit", arc == AUDIT_INTACT ? "intact" :
		    ar.why, "audit_entries", (json_int_t)ar.entries);
		cli_print_json(c, j);
		json_decref(j);
	} else
		(void)fprintf(c->out, "store check: %zu problem(s); audit log "
		    "of %llu entries %s\n", n, (unsigned long long)ar.entries,
		    arc == AUDIT_INTACT ? "intact" : ar.why);
	return n == 0 && arc == AUDIT_INTACT ? 0 : 1;
}

/* store check */
int
cli_store(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };

	if (argc < 2 || strcmp(argv[1], "check") != 0)
		return cli_fail(c, "usage", "usage: kleidi store check") + 1;
	if (cli_parse(c, argc, argv, 2, opts, pos, 0) == -1)
		return 2;
	return store_check_cmd(c);
}
