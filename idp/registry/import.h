/*
 * import.h - the national employee registry, imported: a CSV or JSON export
 * with one row per person is compared with the store and the difference
 * applied in one write transaction (DESIGN.md, employee lifecycle):
 *
 *	new		an active row for an unknown registry number: an
 *			employee account without a password (the IT officer
 *			sets one), username the email address or "r" + the
 *			registry number
 *	transfer	another organisation: the old organisation's grants
 *			are dropped, sessions (and refresh tokens) ended
 *	promotion	another position
 *	update		other names, email, mobile or tax number
 *	departure	status departed: the account is disabled, sessions
 *			(and refresh tokens) ended at once
 *	rehire		status active for a departed person: enabled again
 *	scheduled	a row whose effective date lies in the future: kept
 *			until due, then applied by registry_apply_due
 *
 * People the file does not name are not touched: an export may cover one
 * region. A row for a departed person the store never knew is skipped.
 * Any bad row (its line is named) and nothing is applied; a file that
 * changes nothing commits nothing, so importing it twice changes nothing.
 * Every effect is recorded in the audit log in the same transaction.
 */
#ifndef KLEIDI_IMPORT_H
#define KLEIDI_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "registry.h"

#define IMPORT_FILE_MAX ((size_t)256 << 20)	/* bytes of one file */
#define IMPORT_LINE_MAX 4096		/* bytes of one CSV record */
#define IMPORT_ROWS_MAX 2000000
#define IMPORT_ERRORS_MAX 20		/* errors kept for the report */
#define IMPORT_ERROR_SIZE 200

enum import_format { IMPORT_AUTO = 0, IMPORT_CSV, IMPORT_JSON };

/* What a row does; a row may do several (a rehire into another org is
 * IMPORT_REHIRE | IMPORT_TRANSFER). No bit: unchanged. */
enum import_kind {
	IMPORT_K_NEW = 0,
	IMPORT_K_TRANSFER,
	IMPORT_K_PROMOTION,
	IMPORT_K_UPDATE,
	IMPORT_K_DEPARTURE,
	IMPORT_K_REHIRE,
	IMPORT_K_SCHEDULED,
	IMPORT_K_UNCHANGED,
	IMPORT_KINDS
};
#define IMPORT_BIT(k) (1u << (k))

/* "new", "transfer", ... as the report and the CLI name them. */
const char *import_kind_name(enum import_kind k);

/* One row that changes something, as the plan shows it. Strings are
 * borrowed for the duration of the callback. */
struct import_change {
	unsigned line;		/* CSV line or JSON element (1-based); 0
				 * for a scheduled change applied later */
	unsigned kinds;		/* IMPORT_BIT()s */
	const char *registry_no;
	const char *username;
	const char *org_from;	/* "" for a new employee */
	const char *org_to;
	const char *position;
	int64_t effective;	/* scheduled: when; else 0 */
};
/* Return non-zero to stop (the import then fails with REG_ERROR). */
typedef int (*import_plan_fn)(const struct import_change *ch, void *arg);

struct import_opts {
	enum import_format format;
	int dry_run;		/* plan only: nothing is written */
	import_plan_fn plan;	/* may be NULL */
	void *plan_arg;
};

struct import_report {
	size_t rows;			/* rows read */
	size_t count[IMPORT_KINDS];	/* rows of each kind */
	size_t changed;			/* rows that change something */
	int committed;			/* 1 when a transaction committed */
	size_t nerrors;			/* bad rows, all counted */
	char errors[IMPORT_ERRORS_MAX][IMPORT_ERROR_SIZE];
};

/* Imports the file at path (format by extension, .csv or .json, else by
 * content). REG_INVALID when the file or a row is bad: err holds the first
 * error ("line 17: org 'xyz' does not exist"), rep->errors up to
 * IMPORT_ERRORS_MAX of them, and nothing was applied. REG_ERROR on store or
 * audit failure, nothing applied either. who records every effect (NULL:
 * nothing recorded). */
int registry_import_file(struct store *st, const struct registry_actor *who,
    const char *path, const struct import_opts *opts,
    struct import_report *rep, struct registry_err *err);
/* The same for a file already in memory (len bytes, need not end in
 * NUL). */
int registry_import_buf(struct store *st, const struct registry_actor *who,
    const char *data, size_t len, const struct import_opts *opts,
    struct import_report *rep, struct registry_err *err);

/* Applies the scheduled changes due at now (effective <= now), oldest
 * first, in one transaction, and removes them from the schedule. A change
 * that can no longer be applied (its organisation is gone, its username
 * taken) is dropped and recorded as refused. Commits nothing when nothing
 * is due. rep (may be NULL) counts what was applied. */
int registry_apply_due(struct store *st, const struct registry_actor *who,
    int64_t now, struct import_report *rep, struct registry_err *err);

#endif
