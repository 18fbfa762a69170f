/* cli_sms.c - sms usage: what each organisation sent, month by month, and
 * its cap, for billing the municipalities. */
#include <stdio.h>
#include <string.h>

#include "cli_int.h"
#include "registry/registry.h"
#include "sms/sms.h"

static int
cli_sms_row(const char *org, const char *month, int64_t count, void *arg)
{
	json_t *rows = arg;

	/* Appending NULL (no memory) fails too; stop the walk then. */
	return json_array_append_new(rows, json_pack("{s:s, s:s, s:I, s:I}",
	    "org", org, "month", month, "count", (json_int_t)count, "cap",
	    (json_int_t)0)) == -1;
}

/* Fills in each row's cap as the organisation has it now; 0: no cap (and
 * for "citizens" unless an org of that code exists). */
static int
cli_sms_caps(struct store *st, json_t *rows)
{
	struct store_txn *txn;
	json_t *row;
	struct org o;
	size_t i;
	int rc = 0;

	if (store_begin(st, 0, &txn) != STORE_OK)
		return -1;
	json_array_foreach(rows, i, row) {
		rc = store_org_get(txn, json_string_value(json_object_get(row,
		    "org")), &o);
		if (rc == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK)
			break;
		json_object_set_new(row, "cap",
		    json_integer((json_int_t)o.sms_monthly_cap));
	}
	store_abort(txn);
	return rc == STORE_OK || rc == STORE_NOTFOUND ? 0 : -1;
}

static int
cli_valid_month(const char *m)
{
	int i;

	if (strlen(m) != 7 || m[4] != '-')
		return 0;
	for (i = 0; i < 7; i++)
		if (i != 4 && (m[i] < '0' || m[i] > '9'))
			return 0;
	return (m[5] == '0' && m[6] != '0') || (m[5] == '1' && m[6] <= '2');
}

static void
cli_sms_print(struct cli *c, json_t *rows)
{
	json_int_t cap;
	json_t *row;
	size_t i;

	if (json_array_size(rows) == 0)
		(void)fprintf(c->out, "no SMS counted\n");
	json_array_foreach(rows, i, row) {
		(void)fprintf(c->out, "%s %s: %" JSON_INTEGER_FORMAT " SMS",
		    json_string_value(json_object_get(row, "org")),
		    json_string_value(json_object_get(row, "month")),
		    json_integer_value(json_object_get(row, "count")));
		cap = json_integer_value(json_object_get(row, "cap"));
		if (cap > 0)
			(void)fprintf(c->out, " (cap %" JSON_INTEGER_FORMAT
			    ")", cap);
		(void)fputc('\n', c->out);
	}
}

static int
cli_sms_usage(struct cli *c, int argc, char **argv)
{
	const char *org = NULL, *month = NULL;
	const struct cli_opt opts[] = { { "org", &org, 0, 0, 0, 0 },
		{ "month", &month, 0, 0, 0, 0 }, { NULL, 0, 0, 0, 0, 0 } };
	struct store *st;
	json_t *rows;
	int rc;

	if (cli_parse(c, argc, argv, 2, opts, NULL, 0) == -1)
		return 2;
	if (org != NULL && !valid_code(org, ORG_CODE_SIZE))
		return cli_fail(c, "usage", "--org takes an organisation "
		    "code") + 1;
	if (month != NULL && !cli_valid_month(month))
		return cli_fail(c, "usage", "--month takes YYYY-MM") + 1;
	if ((rows = json_array()) == NULL)
		return cli_fail(c, "error", "no memory");
	if ((st = cli_store_open(c)) == NULL) {
		json_decref(rows);
		return 1;
	}
	rc = sms_usage(st, org, month, cli_sms_row, rows);
	if (rc == 0)
		rc = cli_sms_caps(st, rows);
	store_close(st);
	if (rc != 0) {
		json_decref(rows);
		return cli_fail(c, "error", "cannot read the SMS counters");
	}
	if (c->json) {
		json_t *j = json_pack("{s:o}", "usage", rows);
		cli_print_json(c, j);
		json_decref(j);
	} else {
		cli_sms_print(c, rows);
		json_decref(rows);
	}
	return 0;
}

int
cli_sms(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "usage") == 0)
		return cli_sms_usage(c, argc, argv);
	return cli_fail(c, "usage", "usage: sms usage [--org CODE] "
	    "[--month YYYY-MM]") + 1;
}
