/* cli_audit.c - `kleidi audit verify` checks the chain of the audit log;
 * `kleidi audit tail` shows its newest entries. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_env.h"
#include "cli_int.h"
#include "util/util.h"

#define TAIL_DEFAULT 20

static int
hex_digit(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* 64 hex digits into 32 bytes; -1 on anything else. */
static int
head_parse(const char *s, unsigned char out[HASH_SIZE])
{
	size_t i;
	int hi, lo;

	if (strlen(s) != (size_t)2 * HASH_SIZE)
		return -1;
	for (i = 0; i < HASH_SIZE; i++) {
		if ((hi = hex_digit(s[2 * i])) == -1 ||
		    (lo = hex_digit(s[2 * i + 1])) == -1)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* The broken and cut-short verdicts: a failure (exit 1) that still gives
 * the whole report with --json. */
static int
verify_fail(struct cli *c, const char *code, const struct audit_report *r,
    const char *head, const char *msg)
{
	json_t *j;

	if (!c->json)
		return cli_fail(c, code, "%s", msg);
	j = json_pack("{s:s, s:s, s:b, s:I, s:I, s:s}", "error", code,
	    "message", msg, "intact", 0, "entries", (json_int_t)r->entries,
	    "bad", (json_int_t)r->bad, "head", head);
	cli_print_json(c, j);
	json_decref(j);
	return 1;
}

static int
verify_print(struct cli *c, int rc, const struct audit_report *r,
    const char *expect, int anchored, uint64_t at)
{
	char head[2 * HASH_SIZE + 1], msg[512];
	json_t *j;

	hex_encode(r->head, HASH_SIZE, head);
	if (rc == AUDIT_BROKEN) {
		(void)snprintf(msg, sizeof(msg), "audit log broken at entry "
		    "%" PRIu64 ": %s", r->bad, r->why);
		return verify_fail(c, "broken", r, head, msg);
	}
	if (expect != NULL && anchored != AUDIT_INTACT) {
		(void)snprintf(msg, sizeof(msg), "audit log cut short or "
		    "replaced: no entry has the expected head %.64s (%" PRIu64
		    " entries, head %s)", expect, r->entries, head);
		return verify_fail(c, "head_mismatch", r, head, msg);
	}
	if (c->json) {
		j = json_pack("{s:b, s:I, s:s}", "intact", 1, "entries",
		    (json_int_t)r->entries, "head", head);
		if (j != NULL && expect != NULL)
			json_object_set_new(j, "expected_head_at",
			    json_integer((json_int_t)at));
		cli_print_json(c, j);
		json_decref(j);
	} else if (expect != NULL)
		(void)fprintf(c->out, "audit log intact: %" PRIu64 " entries, "
		    "head %s; the expected head is entry %" PRIu64 "\n",
		    r->entries, head, at);
	else
		(void)fprintf(c->out, "audit log intact: %" PRIu64 " entries, "
		    "head %s (note it elsewhere; check later with "
		    "--expect-head)\n", r->entries, head);
	return 0;
}

static int
cli_audit_verify(struct cli *c, int argc, char **argv)
{
	const char *expect = NULL, *pos[1];
	const struct cli_opt opts[] = {
		{ "expect-head", &expect, 0, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	unsigned char want[HASH_SIZE];
	struct audit_report r;
	struct cli_env env;
	int rc, anchored = AUDIT_INTACT;
	uint64_t at = 0;

	if (cli_parse(c, argc, argv, 2, opts, pos, 0) == -1)
		return 2;
	if (expect != NULL && head_parse(expect, want) == -1)
		return cli_fail(c, "usage", "--expect-head takes the 64 hex "
		    "digits of a head that audit verify printed") + 1;
	if (cli_env_open(c, &env) == -1)
		return 1;
	rc = audit_verify(&env.audit, env.st, &r);
	if (rc == AUDIT_INTACT && expect != NULL)
		anchored = audit_anchor(env.st, want, &at);
	cli_env_close(&env);
	if (rc == AUDIT_ERROR || anchored == AUDIT_ERROR)
		return cli_fail(c, "store", "cannot read the audit log");
	return verify_print(c, rc, &r, expect, anchored, at);
}

struct tail_out {
	struct cli *c;
	json_t *entries;	/* --json: collected, printed at the end */
	int failed;
};

static void
iso_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		str_copy(out, "?", 32);
}

/* A field for the one-line form: "-" when empty; a control character (only
 * a hand-edited entry could hold one) cannot break the line. */
static void
tail_field(FILE *f, const char *s, const char *sep)
{
	if (*s == '\0')
		s = "-";
	for (; *s != '\0'; s++)
		(void)fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s,
		    f);
	(void)fputs(sep, f);
}

/* jansson refuses strings that are not UTF-8, which only a hand-edited
 * entry holds. */
static json_t *
tail_str(const char *s)
{
	json_t *j = json_string(s);

	return j != NULL ? j : json_string("\xef\xbf\xbd");
}

static json_t *
tail_json(const struct audit_entry *e, const char *when)
{
	return json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "seq", (json_int_t)e->seq, "time", when, "actor",
	    tail_str(e->actor), "action", tail_str(e->action), "outcome",
	    tail_str(e->outcome), "subject", tail_str(e->subject), "client",
	    tail_str(e->client), "org", tail_str(e->org), "addr",
	    tail_str(e->addr), "detail", tail_str(e->detail));
}

static int
tail_entry(const struct audit_entry *e, void *arg)
{
	struct tail_out *o = arg;
	FILE *f = o->c->out;
	char when[32];

	iso_time(e->time, when);
	if (o->entries != NULL) {
		if (json_array_append_new(o->entries, tail_json(e, when)) != 0)
			o->failed = 1;
		return o->failed;
	}
	tail_field(f, when, " ");
	tail_field(f, e->actor, " ");
	tail_field(f, e->action, " ");
	tail_field(f, e->outcome, " ");
	tail_field(f, e->subject, " ");
	tail_field(f, e->client, " ");
	tail_field(f, e->org, " ");
	tail_field(f, e->addr, " ");
	tail_field(f, e->detail, "\n");
	return 0;
}

/* -n N is the one short option of the CLI, as tail(1) has it: spelled
 * --lines for cli_parse (unless it is the value of another option). */
static void
tail_short_opts(int argc, char **argv)
{
	static char lines[] = "--lines";
	int i;

	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], "-n") == 0 && strcmp(argv[i - 1],
		    "--user") != 0 && strcmp(argv[i - 1], "--lines") != 0)
			argv[i] = lines;
}

static int
tail_count(const char *s, size_t *n)
{
	unsigned long long v;
	char *end;

	if (s == NULL) {
		*n = TAIL_DEFAULT;
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v == 0 ||
	    v > AUDIT_TAIL_MAX)
		return -1;
	*n = (size_t)v;
	return 0;
}

static int
cli_audit_tail(struct cli *c, int argc, char **argv)
{
	const char *user = NULL, *lines = NULL, *pos[1];
	const struct cli_opt opts[] = { { "user", &user, 0, 0, 0, 0 },
		{ "lines", &lines, 0, 0, 0, 0 }, { NULL, 0, 0, 0, 0, 0 } };
	struct tail_out o = { c, NULL, 0 };
	struct store *st;
	json_t *j;
	size_t n;
	int rc;

	tail_short_opts(argc, argv);
	if (cli_parse(c, argc, argv, 2, opts, pos, 0) == -1)
		return 2;
	if (tail_count(lines, &n) == -1)
		return cli_fail(c, "usage", "-n/--lines takes a number from 1 "
		    "to %d", AUDIT_TAIL_MAX) + 1;
	if (c->json && (o.entries = json_array()) == NULL)
		return cli_fail(c, "error", "out of memory");
	if ((st = cli_store_open(c)) == NULL) {
		json_decref(o.entries);
		return 1;
	}
	rc = audit_tail(st, user, n, tail_entry, &o);
	store_close(st);
	if (rc == -1 || o.failed) {
		json_decref(o.entries);
		return cli_fail(c, "store", "cannot read the audit log");
	}
	if (c->json) {
		j = json_pack("{s:o}", "entries", o.entries);
		cli_print_json(c, j);
		json_decref(j);
	}
	return 0;
}

int
cli_audit(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cli_audit_verify(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "tail") == 0)
		return cli_audit_tail(c, argc, argv);
	return cli_fail(c, "usage", "usage: audit verify [--expect-head HEX] "
	    "| audit tail [--user U] [-n N]") + 1;
}
