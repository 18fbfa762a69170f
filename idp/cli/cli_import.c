/* cli_import.c - registry import FILE [--dry-run] and registry apply-due:
 * parse, call the import service (registry/import.h), print its report. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli_env.h"
#include "cli_int.h"
#include "registry/import.h"
#include "util/util.h"

/* Where the plan goes: printed line by line, or gathered for --json. */
struct cli_plan {
	struct cli *c;
	json_t *list;		/* --json: the plan's entries */
};

static void
cli_plan_kinds(unsigned kinds, char *out, size_t size)
{
	int k;

	out[0] = '\0';
	for (k = 0; k < IMPORT_K_UNCHANGED; k++) {
		if ((kinds & IMPORT_BIT(k)) == 0)
			continue;
		if (out[0] != '\0')
			str_copy(out + strlen(out), "+", size - strlen(out));
		str_copy(out + strlen(out), import_kind_name(k),
		    size - strlen(out));
	}
}

static json_t *
cli_plan_json(const struct import_change *ch, const char *kinds)
{
	json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "line",
	    (int)ch->line, "change", kinds, "registry_no", ch->registry_no,
	    "username", ch->username, "org_from", ch->org_from, "org_to",
	    ch->org_to, "position", ch->position);
	char day[16];
	time_t t = (time_t)ch->effective;
	struct tm tm;

	if (j != NULL && ch->effective > 0 && gmtime_r(&t, &tm) != NULL &&
	    strftime(day, sizeof(day), "%Y-%m-%d", &tm) > 0)
		json_object_set_new(j, "effective", json_string(day));
	return j;
}

static int
cli_plan_one(const struct import_change *ch, void *arg)
{
	struct cli_plan *p = arg;
	char kinds[128];

	cli_plan_kinds(ch->kinds, kinds, sizeof(kinds));
	if (p->list != NULL)
		return json_array_append_new(p->list, cli_plan_json(ch,
		    kinds)) == 0 ? 0 : -1;
	(void)fprintf(p->c->out, "line %u: %s %s (%s) %s%s%s\n", ch->line,
	    kinds, ch->registry_no, ch->username, ch->org_from,
	    ch->org_from[0] != '\0' ? " -> " : "", ch->org_to);
	return 0;
}

static json_t *
cli_report_json(const struct import_report *rep)
{
	json_t *j = json_object();
	int k;

	if (j == NULL)
		return NULL;
	json_object_set_new(j, "rows", json_integer((json_int_t)rep->rows));
	for (k = 0; k < IMPORT_KINDS; k++)
		json_object_set_new(j, import_kind_name(k),
		    json_integer((json_int_t)rep->count[k]));
	json_object_set_new(j, "changed",
	    json_integer((json_int_t)rep->changed));
	json_object_set_new(j, "applied", json_boolean(rep->committed));
	return j;
}

static void
cli_report_line(const struct import_report *rep, const char *what,
    char *out, size_t size)
{
	if (snprintf(out, size, "%s: %zu rows: %zu new, %zu transfer, %zu "
	    "promotion, %zu update, %zu departure, %zu rehire, %zu scheduled, "
	    "%zu unchanged", what, rep->rows, rep->count[IMPORT_K_NEW],
	    rep->count[IMPORT_K_TRANSFER], rep->count[IMPORT_K_PROMOTION],
	    rep->count[IMPORT_K_UPDATE], rep->count[IMPORT_K_DEPARTURE],
	    rep->count[IMPORT_K_REHIRE], rep->count[IMPORT_K_SCHEDULED],
	    rep->count[IMPORT_K_UNCHANGED]) < 0)
		out[0] = '\0';
}

/* A file with bad rows: every kept error, then the verdict. */
static int
cli_import_bad(struct cli *c, const struct import_report *rep,
    const struct registry_err *e)
{
	json_t *j, *list;
	size_t i, n = rep->nerrors < IMPORT_ERRORS_MAX ? rep->nerrors :
	    IMPORT_ERRORS_MAX;

	if (!c->json) {
		for (i = 0; i < n; i++)
			(void)fprintf(c->err, "kleidi: %s\n", rep->errors[i]);
		if (n == 0)
			(void)fprintf(c->err, "kleidi: %s\n", e->msg);
		(void)fprintf(c->err, "kleidi: %zu bad rows; nothing was "
		    "applied\n", rep->nerrors);
		return 1;
	}
	list = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(list, json_string(rep->errors[i]));
	j = json_pack("{s:s, s:s, s:o, s:I}", "error", "invalid", "message",
	    e->msg, "errors", list, "bad_rows", (json_int_t)rep->nerrors);
	cli_print_json(c, j);
	json_decref(j);
	return 1;
}

static int
cli_import_print(struct cli *c, const struct import_report *rep,
    int dry_run, json_t *plan)
{
	char line[512];
	json_t *j;

	if (c->json) {
		j = cli_report_json(rep);
		json_object_set_new(j, "dry_run", json_boolean(dry_run));
		if (plan != NULL)
			json_object_set(j, "plan", plan);
		cli_print_json(c, j);
		json_decref(j);
		return 0;
	}
	cli_report_line(rep, dry_run ? "plan (dry run, nothing applied)" :
	    rep->committed ? "imported" : "nothing to change", line,
	    sizeof(line));
	(void)fprintf(c->out, "%s\n", line);
	return 0;
}

/* registry import FILE [--dry-run] */
static int
cli_registry_import(struct cli *c, int argc, char **argv)
{
	int dry_run = 0, rc;
	const struct cli_opt opts[] = { { "dry-run", 0, &dry_run, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	struct import_opts io;
	struct import_report rep;
	struct registry_err e;
	struct cli_plan plan = { c, NULL };
	struct cli_env env;
	const char *pos[1];

	if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
		return 2;
	if (cli_env_open(c, &env) == -1)
		return 1;
	memset(&io, 0, sizeof(io));
	io.dry_run = dry_run;
	if (dry_run) {
		io.plan = cli_plan_one;
		io.plan_arg = &plan;
		plan.list = c->json ? json_array() : NULL;
	}
	rc = registry_import_file(env.st, &env.who, pos[0], &io, &rep, &e);
	cli_env_close(&env);
	if (rc == REG_INVALID)
		rc = cli_import_bad(c, &rep, &e);
	else if (rc != REG_OK)
		rc = cli_fail(c, "error", "%s; nothing was applied", e.msg);
	else
		rc = cli_import_print(c, &rep, dry_run, plan.list);
	json_decref(plan.list);
	return rc;
}

/* registry apply-due: what the server does every minute, on demand. */
static int
cli_registry_apply_due(struct cli *c, int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };
	struct import_report rep;
	struct registry_err e;
	struct cli_env env;
	char line[512];
	json_t *j;
	int rc;

	if (cli_parse(c, argc, argv, 2, opts, NULL, 0) == -1)
		return 2;
	if (cli_env_open(c, &env) == -1)
		return 1;
	rc = registry_apply_due(env.st, &env.who, clock_now(), &rep, &e);
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_fail(c, "error", "%s; nothing was applied", e.msg);
	if (c->json) {
		j = cli_report_json(&rep);
		json_object_set_new(j, "refused",
		    json_integer((json_int_t)rep.nerrors));
		cli_print_json(c, j);
		json_decref(j);
		return 0;
	}
	cli_report_line(&rep, "scheduled changes due", line, sizeof(line));
	(void)fprintf(c->out, "%s; %zu refused\n", line, rep.nerrors);
	return 0;
}

int
cli_registry_cmd(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return cli_registry_import(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "apply-due") == 0)
		return cli_registry_apply_due(c, argc, argv);
	return cli_fail(c, "usage", "usage: registry import FILE [--dry-run] "
	    "| registry apply-due") + 1;
}
