/*
 * registry_import.c - the employee registry import and the lifecycle it
 * drives (import.h). One pass: each row is read (CSV or JSON), checked,
 * compared with the person the store has under its registry number, and
 * its effects written at once into one write transaction, which commits
 * only when every row was good and something changed. A dry run does the
 * same and aborts, so its plan sees exactly what the import would (two
 * rows claiming one username included).
 *
 * Memory: the file once, one row buffer, and a set of the registry numbers
 * seen (to refuse a person named twice); nothing is allocated per row but
 * the new user's id.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "authn/revoke.h"
#include "audit/audit.h"
#include "import.h"

enum col {
	C_REGNO, C_TAXID, C_SURNAME, C_GIVEN, C_EMAIL, C_MOBILE, C_ORG,
	C_POSITION, C_STATUS, C_EFFECTIVE, NCOLS
};

static const char *const col_names[NCOLS] = {
	"registry_no", "tax_id", "surname", "given_name", "email", "mobile",
	"org", "position", "status", "effective"
};

static const char *const kind_names[IMPORT_KINDS] = {
	"new", "transfer", "promotion", "update", "departure", "rehire",
	"scheduled", "unchanged"
};

/* One row as read: NCOLS fields, borrowed from buf or the JSON tree. */
struct raw {
	unsigned line;
	const char *f[NCOLS];
	char buf[IMPORT_LINE_MAX + NCOLS + 1];
};

/* The registry numbers seen in this file: open addressing, sized once
 * from an upper bound of the rows. */
struct seen_slot {
	char regno[REGNO_SIZE];
	unsigned line;
};

struct seen {
	struct seen_slot *slot;
	size_t cap;		/* a power of two; 0: no check */
};

struct imp {
	struct store_txn *txn;
	const struct registry_actor *who;
	const struct import_opts *opts;
	struct import_report *rep;
	struct registry_err *err;
	int64_t now;
	const char *unit;	/* "line", "employee" */
	const char *regno;	/* a scheduled change's, for its errors */
	struct seen seen;
	int dirty;		/* something was written */
	int failed;		/* a store or audit failure: err says */
};

/* What a row changes for one person. */
struct plan {
	unsigned kinds;
	struct user old;	/* as stored; zero for a new employee */
	struct user u;		/* as it will be */
	size_t grants;		/* grants of the old org dropped */
	size_t sessions;	/* sessions ended */
};

const char *
import_kind_name(enum import_kind k)
{
	return (unsigned)k < IMPORT_KINDS ? kind_names[k] : "?";
}

/* ---- errors: every bad row is counted, the first few kept */

static void
imp_error(struct imp *im, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
imp_error(struct imp *im, unsigned line, const char *fmt, ...)
{
	struct import_report *rep = im->rep;
	char msg[IMPORT_ERROR_SIZE], *out;
	va_list ap;
	int n;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rep->nerrors < IMPORT_ERRORS_MAX) {
		out = rep->errors[rep->nerrors];
		/* Cut when too long: the position comes first. */
		if (line > 0)
			n = snprintf(out, IMPORT_ERROR_SIZE, "%s %u: %s",
			    im->unit, line, msg);
		else if (im->regno != NULL)
			n = snprintf(out, IMPORT_ERROR_SIZE, "registry "
			    "number %s: %s", im->regno, msg);
		else
			n = (int)str_copy(out, msg, IMPORT_ERROR_SIZE);
		if (n < 0)
			out[0] = '\0';
	}
	if (rep->nerrors++ == 0 && im->err != NULL)
		str_copy(im->err->msg, rep->errors[0], sizeof(im->err->msg));
}

static int
imp_fail(struct imp *im, const char *msg)
{
	im->failed = 1;
	if (im->err != NULL)
		str_copy(im->err->msg, msg, sizeof(im->err->msg));
	return -1;
}

/* ---- the set of registry numbers seen */

static int
seen_init(struct seen *s, size_t rows)
{
	s->cap = 64;
	while (s->cap < rows * 2)
		s->cap <<= 1;
	s->slot = calloc(s->cap, sizeof(*s->slot));
	return s->slot == NULL ? -1 : 0;
}

/* Adds regno; returns 0, or the line that named it before. */
static unsigned
seen_add(struct seen *s, const char *regno, unsigned line)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	const unsigned char *p;
	size_t i;

	if (s->cap == 0)
		return 0;
	for (p = (const unsigned char *)regno; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	/* At most rows entries in 2 * rows slots: a free slot is found. */
	for (i = h & (s->cap - 1); s->slot[i].regno[0] != '\0';
	    i = (i + 1) & (s->cap - 1))
		if (strcmp(s->slot[i].regno, regno) == 0)
			return s->slot[i].line;
	str_copy(s->slot[i].regno, regno, REGNO_SIZE);
	s->slot[i].line = line;
	return 0;
}

/* ---- dates: YYYY-MM-DD as UTC midnight */

static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
date_parse(const char *s, int64_t *out)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    strspn(s, "0123456789") != 4 || strspn(s + 5, "0123456789") != 2 ||
	    strspn(s + 8, "0123456789") != 2)
		return -1;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0)))
		return -1;
	*out = days_from_civil(y, m, d) * 86400;
	return 0;
}

static void
date_format(int64_t t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 16, "%Y-%m-%d", &tm) == 0)
		str_copy(out, "?", 16);
}

/* ---- checking a row */

/* The optional fields: empty or valid. */
static const char *
row_check_optional(const char *const f[NCOLS])
{
	if (f[C_EMAIL][0] != '\0' && !valid_email(f[C_EMAIL]))
		return "malformed email address";
	if (f[C_MOBILE][0] != '\0' && !valid_phone(f[C_MOBILE]))
		return "mobile must be in international form, e.g. "
		    "+306912345678";
	if (f[C_POSITION][0] != '\0' && !valid_name(f[C_POSITION], NAME_SIZE))
		return "position must be at most 128 bytes of text";
	return NULL;
}

/* Why the fields of a row are bad, or NULL. */
static const char *
row_check(const char *const f[NCOLS], int64_t *effective)
{
	if (!valid_code(f[C_REGNO], REGNO_SIZE))
		return "registry number must be 1-32 characters of a-z, 0-9 "
		    "and -";
	if (!valid_taxid(f[C_TAXID]))
		return "tax number must be 9 digits with a valid check digit";
	if (!valid_name(f[C_SURNAME], NAME_SIZE))
		return "surname must be 1-128 bytes of text";
	if (!valid_name(f[C_GIVEN], NAME_SIZE))
		return "given name must be 1-128 bytes of text";
	if (strlen(f[C_GIVEN]) + 1 + strlen(f[C_SURNAME]) >= NAME_SIZE)
		return "given name and surname together exceed 127 bytes";
	if (!valid_code(f[C_ORG], ORG_CODE_SIZE))
		return "malformed organisation code";
	if (strcmp(f[C_STATUS], "active") != 0 &&
	    strcmp(f[C_STATUS], "departed") != 0)
		return "status must be active or departed";
	*effective = 0;
	if (f[C_EFFECTIVE][0] != '\0' && date_parse(f[C_EFFECTIVE],
	    effective) == -1)
		return "effective date must be YYYY-MM-DD or empty";
	return row_check_optional(f);
}

/* Checks the raw row and turns it into r; 1 (recorded) if it is bad. */
static int
row_read(struct imp *im, const struct raw *raw, struct sched_change *r)
{
	const char *why;
	unsigned first;

	memset(r, 0, sizeof(*r));
	if ((why = row_check(raw->f, &r->effective)) != NULL) {
		imp_error(im, raw->line, "%s", why);
		return 1;
	}
	if ((first = seen_add(&im->seen, raw->f[C_REGNO], raw->line)) != 0) {
		imp_error(im, raw->line, "registry number %s is also on %s %u",
		    raw->f[C_REGNO], im->unit, first);
		return 1;
	}
	str_copy(r->registry_no, raw->f[C_REGNO], sizeof(r->registry_no));
	str_copy(r->tax_id, raw->f[C_TAXID], sizeof(r->tax_id));
	str_copy(r->family_name, raw->f[C_SURNAME], sizeof(r->family_name));
	str_copy(r->given_name, raw->f[C_GIVEN], sizeof(r->given_name));
	str_copy(r->email, raw->f[C_EMAIL], sizeof(r->email));
	str_copy(r->phone, raw->f[C_MOBILE], sizeof(r->phone));
	str_copy(r->org, raw->f[C_ORG], sizeof(r->org));
	str_copy(r->position, raw->f[C_POSITION], sizeof(r->position));
	r->departed = strcmp(raw->f[C_STATUS], "departed") == 0;
	return 0;
}

/* ---- planning: what a row changes */

/* The username of a new employee: the email address in lower case when
 * it makes a valid username, else "r" and the registry number. */
static void
new_username(const struct sched_change *r, char out[USERNAME_SIZE])
{
	size_t i;

	if (r->email[0] != '\0' && strlen(r->email) < USERNAME_SIZE) {
		for (i = 0; r->email[i] != '\0'; i++)
			out[i] = (char)(r->email[i] >= 'A' && r->email[i] <= 'Z' ?
			    r->email[i] - 'A' + 'a' : r->email[i]);
		out[i] = '\0';
		if (valid_username(out))
			return;
	}
	(void)snprintf(out, USERNAME_SIZE, "r%s", r->registry_no);
}

/* Copies the registry's fields of r into u; the UPDATE bit when names,
 * contacts or the tax number changed. */
static unsigned
plan_fields(const struct sched_change *r, struct user *u)
{
	struct user was = *u;

	str_copy(u->tax_id, r->tax_id, sizeof(u->tax_id));
	str_copy(u->family_name, r->family_name, sizeof(u->family_name));
	str_copy(u->given_name, r->given_name, sizeof(u->given_name));
	/* row_check saw that both fit together. */
	if (snprintf(u->name, sizeof(u->name), "%s %s", r->given_name,
	    r->family_name) < 0)
		u->name[0] = '\0';
	str_copy(u->email, r->email, sizeof(u->email));
	str_copy(u->phone, r->phone, sizeof(u->phone));
	str_copy(u->org, r->org, sizeof(u->org));
	str_copy(u->position, r->position, sizeof(u->position));
	if (strcmp(was.tax_id, u->tax_id) != 0 ||
	    strcmp(was.family_name, u->family_name) != 0 ||
	    strcmp(was.given_name, u->given_name) != 0 ||
	    strcmp(was.name, u->name) != 0 ||
	    strcmp(was.email, u->email) != 0 ||
	    strcmp(was.phone, u->phone) != 0)
		return IMPORT_BIT(IMPORT_K_UPDATE);
	return 0;
}

/* A new employee: 1 (recorded) if the username is someone else's. */
static int
plan_new(struct imp *im, unsigned line, const struct sched_change *r,
    struct plan *p)
{
	struct user other;
	int rc;

	memset(&p->u, 0, sizeof(p->u));
	new_username(r, p->u.username);
	rc = store_user_get_by_name(im->txn, p->u.username, &other);
	wipe(&other, sizeof(other));
	if (rc == STORE_OK) {
		imp_error(im, line, "username %s is taken by another account",
		    p->u.username);
		return 1;
	}
	if (rc != STORE_NOTFOUND)
		return imp_fail(im, "store error reading users");
	if (registry_new_user_id(p->u.id) == -1)
		return imp_fail(im, "no randomness");
	p->u.type = USER_EMPLOYEE;
	str_copy(p->u.registry_no, r->registry_no, sizeof(p->u.registry_no));
	(void)plan_fields(r, &p->u);
	p->u.created = p->u.updated = im->now;
	p->kinds = IMPORT_BIT(IMPORT_K_NEW);
	return 0;
}

/* Compares r with the stored person: 0 with p filled, 1 if the row is
 * bad (recorded), -1 on store failure. */
static int
row_plan(struct imp *im, unsigned line, const struct sched_change *r,
    struct plan *p)
{
	int rc;

	memset(p, 0, sizeof(*p));
	rc = store_user_get_by_regno(im->txn, r->registry_no, &p->old);
	if (rc == STORE_NOTFOUND)
		/* Nobody to leave: a departed stranger is skipped. */
		return r->departed ? 0 : plan_new(im, line, r, p);
	if (rc != STORE_OK)
		return imp_fail(im, "store error reading users");
	if (p->old.type != USER_EMPLOYEE) {
		imp_error(im, line, "registry number %s belongs to a citizen "
		    "account", r->registry_no);
		return 1;
	}
	p->u = p->old;
	p->kinds = plan_fields(r, &p->u);
	if (strcmp(p->old.org, p->u.org) != 0)
		p->kinds |= IMPORT_BIT(IMPORT_K_TRANSFER);
	if (strcmp(p->old.position, p->u.position) != 0)
		p->kinds |= IMPORT_BIT(IMPORT_K_PROMOTION);
	if (r->departed && (!p->old.departed || !p->old.disabled)) {
		p->kinds |= IMPORT_BIT(IMPORT_K_DEPARTURE);
		p->u.disabled = 1;
		p->u.departed = im->now;
	} else if (!r->departed && p->old.departed) {
		p->kinds |= IMPORT_BIT(IMPORT_K_REHIRE);
		p->u.disabled = 0;
		p->u.departed = 0;
	}
	if (p->kinds != 0)
		p->u.updated = im->now;
	return 0;
}

/* ---- effects */

static int
imp_audit(struct imp *im, const char *action, const char *subject,
    const char *org, const char *detail)
{
	struct audit_event ev;

	if (im->who == NULL)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.actor = im->who->actor;
	ev.addr = im->who->addr;
	ev.action = action;
	ev.outcome = "ok";
	ev.subject = subject;
	ev.org = org;
	ev.detail = detail;
	if (audit_append(im->who->audit, im->txn, &ev) == -1)
		return imp_fail(im, "cannot write the audit log; nothing was "
		    "changed");
	return 0;
}

struct grant_drop {
	struct store_txn *txn;
	size_t n;
	int rc;
};

static int
grant_drop_one(const struct grant *g, void *arg)
{
	struct grant_drop *d = arg;

	d->rc = store_grant_del(d->txn, g->user_id, g->app, g->org, g->role);
	if (d->rc != STORE_OK)
		return 1;
	d->n++;
	return 0;
}

/* Transfer and departure: grants of the old org (transfer), sessions and
 * token families (both). */
static int
effects_access(struct imp *im, struct plan *p)
{
	struct grant_drop d = { im->txn, 0, STORE_OK };
	unsigned end = IMPORT_BIT(IMPORT_K_TRANSFER) |
	    IMPORT_BIT(IMPORT_K_DEPARTURE);

	if ((p->kinds & end) == 0 || (p->kinds & IMPORT_BIT(IMPORT_K_NEW)))
		return 0;
	if ((p->kinds & IMPORT_BIT(IMPORT_K_TRANSFER)) &&
	    (store_grant_list(im->txn, p->u.id, NULL, p->old.org,
	    grant_drop_one, &d) != STORE_OK || d.rc != STORE_OK))
		return imp_fail(im, "store error dropping grants");
	p->grants = d.n;
	/* Sessions, refresh token families, back-channel logouts. */
	if (access_end_user(im->txn, p->u.id, &p->sessions) != STORE_OK)
		return imp_fail(im, "store error ending the person's access");
	return 0;
}

static const char *const kind_actions[IMPORT_KINDS] = {
	"registry.hire", "registry.transfer", "registry.promotion",
	"registry.update", "registry.departure", "registry.rehire",
	"registry.schedule", NULL
};

/* The audit detail of effect k of a planned change. */
static void
effect_detail(const struct plan *p, int k, char *d, size_t size)
{
	const struct user *u = &p->u;
	int n;

	switch (k) {
	case IMPORT_K_TRANSFER:
		n = snprintf(d, size, "regno %s: org %s -> %s; %zu grants "
		    "dropped, %zu sessions ended", u->registry_no, p->old.org,
		    u->org, p->grants, p->sessions);
		break;
	case IMPORT_K_PROMOTION:
		n = snprintf(d, size, "regno %s: position '%s' -> '%s'",
		    u->registry_no, p->old.position, u->position);
		break;
	case IMPORT_K_UPDATE:
		n = snprintf(d, size, "regno %s: names, contacts or tax "
		    "number", u->registry_no);
		break;
	case IMPORT_K_DEPARTURE:
		n = snprintf(d, size, "regno %s: disabled, %zu sessions ended",
		    u->registry_no, p->sessions);
		break;
	case IMPORT_K_REHIRE:
		n = snprintf(d, size, "regno %s: enabled", u->registry_no);
		break;
	default:
		n = snprintf(d, size, "regno %s, sub %s", u->registry_no,
		    u->id);
		break;
	}
	/* A long position is cut: the entry still says what happened. */
	if (n < 0)
		d[0] = '\0';
}

/* One audit entry per effect of the row. */
static int
effects_audit(struct imp *im, const struct plan *p)
{
	char d[AUDIT_DETAIL_SIZE];
	int k;

	for (k = IMPORT_K_NEW; k <= IMPORT_K_REHIRE; k++) {
		if ((p->kinds & IMPORT_BIT(k)) == 0)
			continue;
		effect_detail(p, k, d, sizeof(d));
		if (imp_audit(im, kind_actions[k], p->u.username, p->u.org,
		    d) == -1)
			return -1;
	}
	return 0;
}

static int
imp_report(struct imp *im, unsigned line, const struct plan *p,
    const char *regno, int64_t effective)
{
	struct import_change ch;
	int k;

	if (p->kinds == 0) {
		im->rep->count[IMPORT_K_UNCHANGED]++;
		return 0;
	}
	im->rep->changed++;
	for (k = 0; k < IMPORT_K_UNCHANGED; k++)
		if (p->kinds & IMPORT_BIT(k))
			im->rep->count[k]++;
	if (im->opts == NULL || im->opts->plan == NULL)
		return 0;
	memset(&ch, 0, sizeof(ch));
	ch.line = line;
	ch.kinds = p->kinds;
	ch.registry_no = regno;
	ch.username = p->u.username;
	ch.org_from = p->old.org;
	ch.org_to = p->u.org;
	ch.position = p->u.position;
	ch.effective = effective;
	if (im->opts->plan(&ch, im->opts->plan_arg) != 0)
		return imp_fail(im, "the plan was interrupted");
	return 0;
}

/* Writes the planned change of a person. */
static int
row_effects(struct imp *im, struct plan *p)
{
	int rc;

	if (p->kinds == 0)
		return 0;
	if (p->kinds & IMPORT_BIT(IMPORT_K_NEW))
		rc = store_user_add(im->txn, &p->u);
	else
		rc = store_user_update(im->txn, &p->u);
	if (rc != STORE_OK)
		return imp_fail(im, "store error writing a user");
	im->dirty = 1;
	if (effects_access(im, p) == -1)
		return -1;
	return effects_audit(im, p);
}

/* Keeps a row dated in the future for registry_apply_due. */
static int
row_schedule(struct imp *im, unsigned line, struct sched_change *r,
    struct plan *p)
{
	struct sched_change old;
	char d[AUDIT_DETAIL_SIZE], day[16];
	int rc;

	rc = store_sched_get(im->txn, r->registry_no, &old);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return imp_fail(im, "store error reading the schedule");
	r->created = im->now;
	/* Both zero-filled before their strings were copied in, so equal
	 * content is equal bytes. */
	old.created = r->created;
	if (rc == STORE_OK && memcmp(&old, r, sizeof(old)) == 0) {
		p->kinds = 0;
		return imp_report(im, line, p, r->registry_no, 0);
	}
	if (store_sched_put(im->txn, r) != STORE_OK)
		return imp_fail(im, "store error writing the schedule");
	im->dirty = 1;
	date_format(r->effective, day);
	(void)snprintf(d, sizeof(d), "regno %s: due %s, org %s, %s",
	    r->registry_no, day, r->org, r->departed ? "departed" : "active");
	if (imp_audit(im, "registry.schedule", p->u.username, r->org, d) ==
	    -1)
		return -1;
	p->kinds = IMPORT_BIT(IMPORT_K_SCHEDULED);
	return imp_report(im, line, p, r->registry_no, r->effective);
}

/* One checked row: 0 done, 1 bad (recorded), -1 failure. */
static int
row_apply(struct imp *im, unsigned line, struct sched_change *r)
{
	struct plan p;
	struct org o;
	int rc;

	rc = store_org_get(im->txn, r->org, &o);
	if (rc == STORE_NOTFOUND) {
		imp_error(im, line, "org '%s' does not exist", r->org);
		return 1;
	}
	if (rc != STORE_OK)
		return imp_fail(im, "store error reading organisations");
	/* Planned either way: a scheduled row's errors show now. */
	if ((rc = row_plan(im, line, r, &p)) != 0)
		goto done;
	if (r->effective > im->now)
		rc = row_schedule(im, line, r, &p);
	else if ((rc = row_effects(im, &p)) == 0)
		rc = imp_report(im, line, &p, r->registry_no, 0);
done:
	wipe(&p, sizeof(p));	/* the stored user's password hash */
	return rc;
}

/* ---- reading CSV (RFC 4180) */

struct csv {
	const char *p, *end;
	unsigned line;		/* the line the cursor is on */
};

/* Reads one field into out (cap bytes); returns ',' or '\n' for what
 * ended it, 0 at the end of the data, -1 with why set. */
static int
csv_field(struct csv *c, char *out, size_t cap, size_t *n, const char **why)
{
	int quoted = c->p < c->end && *c->p == '"';

	*n = 0;
	/* Earlier fields have filled the record's buffer: not even the
	 * NUL of an empty field fits. */
	if (cap == 0) {
		*why = "record longer than the limit";
		return -1;
	}
	c->p += quoted;
	for (; c->p < c->end; c->p++) {
		char ch = *c->p;

		if (quoted && ch == '"') {
			if (c->p + 1 < c->end && c->p[1] == '"') {
				c->p++;
			} else {
				quoted = 0;
				if (c->p + 1 < c->end && c->p[1] != ',' &&
				    c->p[1] != '\r' && c->p[1] != '\n') {
					*why = "text after a closing quote";
					return -1;
				}
				continue;
			}
		} else if (!quoted && (ch == ',' || ch == '\n' || ch == '\r')) {
			break;
		} else if (!quoted && ch == '"') {
			*why = "quote inside an unquoted field";
			return -1;
		} else if (ch == '\0') {
			*why = "NUL byte";
			return -1;
		} else if (ch == '\n') {
			c->line++;
		}
		if (*n + 1 >= cap) {
			*why = "record longer than the limit";
			return -1;
		}
		out[(*n)++] = ch;
	}
	out[*n] = '\0';
	if (quoted) {
		*why = "quoted field never closed";
		return -1;
	}
	if (c->p == c->end)
		return 0;
	if (*c->p == ',') {
		c->p++;
		return ',';
	}
	if (*c->p == '\r' && (c->p + 1 == c->end || c->p[1] != '\n')) {
		*why = "carriage return without line feed";
		return -1;
	}
	c->p += *c->p == '\r' ? 2 : 1;
	c->line++;
	return '\n';
}

/* Only blank lines (LF or CRLF) from p to the end. */
static int
csv_blank_rest(const char *p, const char *end)
{
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	return p == end;
}

/* Reads one record into raw; *nf gets its field count. 1: a record, 0:
 * the end, -1: a malformed record (recorded). */
static int
csv_record(struct imp *im, struct csv *c, struct raw *raw, int *nf)
{
	const char *why = NULL;
	size_t used = 0, n;
	int end;

	raw->line = c->line;
	*nf = 0;
	if (c->p == c->end || csv_blank_rest(c->p, c->end))
		return 0;
	if (*c->p == '\n' || *c->p == '\r') {
		imp_error(im, c->line, "blank line");
		return -1;
	}
	do {
		if (*nf == NCOLS) {
			imp_error(im, raw->line, "more than %d fields", NCOLS);
			return -1;
		}
		raw->f[*nf] = raw->buf + used;
		end = csv_field(c, raw->buf + used, sizeof(raw->buf) - used,
		    &n, &why);
		if (end == -1) {
			/* The record's first line: where a runaway quote
			 * opened. */
			imp_error(im, raw->line, "%s", why);
			return -1;
		}
		used += n + 1;
		(*nf)++;
	} while (end == ',');
	return 1;
}

/* The header: every column name once, in any order; map[i] is the column
 * of field i. */
static int
csv_header(struct imp *im, struct csv *c, int map[NCOLS])
{
	struct raw *raw = calloc(1, sizeof(*raw));
	unsigned have = 0;
	int nf = 0, i, k, rc = -1;

	if (raw == NULL)
		return imp_fail(im, "out of memory");
	if (csv_record(im, c, raw, &nf) != 1)
		goto done;
	for (i = 0; i < nf; i++) {
		for (k = 0; k < NCOLS && strcmp(raw->f[i], col_names[k]); k++)
			;
		if (k == NCOLS || (have & (1u << k)))
			break;
		have |= 1u << k;
		map[i] = k;
	}
	if (nf == NCOLS && i == NCOLS)
		rc = 0;
	else
		imp_error(im, 1, "the header must name the columns "
		    "registry_no,tax_id,surname,given_name,email,mobile,org,"
		    "position,status,effective");
done:
	free(raw);
	return rc;
}

/* Every row of a CSV file; stops at the first malformed record (the
 * records after it cannot be told apart). */
static int
csv_rows(struct imp *im, const char *data, size_t len)
{
	struct csv c = { data, data + len, 1 };
	struct raw *raw, *row;
	struct sched_change r;
	int map[NCOLS], nf, i, rc;

	/* A byte order mark, as spreadsheet programs write. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	if (csv_header(im, &c, map) != 0)
		return im->rep->nerrors > 0 ? 1 : -1;
	raw = calloc(2, sizeof(*raw));
	if (raw == NULL)
		return imp_fail(im, "out of memory");
	row = raw + 1;
	while ((rc = csv_record(im, &c, raw, &nf)) == 1) {
		im->rep->rows++;
		if (nf != NCOLS) {
			imp_error(im, raw->line, "%d fields, expected %d", nf,
			    NCOLS);
			continue;
		}
		row->line = raw->line;
		for (i = 0; i < NCOLS; i++)
			row->f[map[i]] = raw->f[i];
		if (row_read(im, row, &r) == 0 &&
		    (rc = row_apply(im, row->line, &r)) == -1)
			break;
	}
	free(raw);
	return im->failed ? -1 : 0;
}

/* ---- reading JSON: {"employees": [{...the CSV columns...}]} */

static int
json_row(struct imp *im, json_t *o, unsigned n, struct raw *raw)
{
	const char *key;
	json_t *v;
	int k;

	raw->line = n;
	for (k = 0; k < NCOLS; k++)
		raw->f[k] = "";
	if (!json_is_object(o)) {
		imp_error(im, n, "not an object");
		return 1;
	}
	json_object_foreach(o, key, v) {
		for (k = 0; k < NCOLS && strcmp(key, col_names[k]) != 0; k++)
			;
		if (k == NCOLS) {
			imp_error(im, n, "unknown key '%.40s'", key);
			return 1;
		}
		if (!json_is_string(v) && !json_is_null(v)) {
			imp_error(im, n, "%s must be a string", key);
			return 1;
		}
		if (json_is_string(v) && strlen(json_string_value(v)) !=
		    json_string_length(v)) {
			imp_error(im, n, "%s holds a NUL byte", key);
			return 1;
		}
		raw->f[k] = json_is_string(v) ? json_string_value(v) : "";
	}
	return 0;
}

static int
json_rows(struct imp *im, json_t *list)
{
	struct raw *raw = calloc(1, sizeof(*raw));
	struct sched_change r;
	size_t i;
	int rc = 0;

	if (raw == NULL)
		return imp_fail(im, "out of memory");
	for (i = 0; i < json_array_size(list) && rc != -1; i++) {
		im->rep->rows++;
		if (json_row(im, json_array_get(list, i), (unsigned)i + 1,
		    raw) == 0 && row_read(im, raw, &r) == 0)
			rc = row_apply(im, raw->line, &r);
	}
	free(raw);
	return im->failed ? -1 : 0;
}

/* ---- the import */

static int
import_format(const char *data, size_t len, enum import_format f)
{
	size_t i;

	if (f != IMPORT_AUTO)
		return f;
	for (i = 0; i < len && (data[i] == ' ' || data[i] == '\t' ||
	    data[i] == '\r' || data[i] == '\n'); i++)
		;
	return i < len && data[i] == '{' ? IMPORT_JSON : IMPORT_CSV;
}

/* The employees array of a JSON document, or NULL (recorded). */
static json_t *
json_employees(struct imp *im, const char *data, size_t len, json_t **doc)
{
	json_error_t je;
	json_t *list;

	*doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (*doc == NULL) {
		im->unit = "line";
		imp_error(im, (unsigned)(je.line > 0 ? je.line : 1), "%s",
		    je.text);
		return NULL;
	}
	list = json_object_get(*doc, "employees");
	if (!json_is_object(*doc) || json_object_size(*doc) != 1 ||
	    !json_is_array(list)) {
		imp_error(im, 0, "the document must be {\"employees\": "
		    "[...]}");
		return NULL;
	}
	if (json_array_size(list) > IMPORT_ROWS_MAX) {
		imp_error(im, 0, "more than %d employees", IMPORT_ROWS_MAX);
		return NULL;
	}
	return list;
}

/* Reads and applies every row: 0 (errors counted in the report) or -1
 * on failure. */
static int
import_rows(struct imp *im, const char *data, size_t len)
{
	json_t *doc = NULL, *list;
	size_t rows = 1;
	int rc;

	if (import_format(data, len, im->opts->format) == IMPORT_CSV) {
		im->unit = "line";
		/* Every record ends a line: an upper bound of the rows. */
		for (const char *p = data; (p = memchr(p, '\n', (size_t)(data +
		    len - p))) != NULL; p++)
			rows++;
		if (rows > IMPORT_ROWS_MAX + 1) {
			imp_error(im, 0, "more than %d rows", IMPORT_ROWS_MAX);
			return 0;
		}
		if (seen_init(&im->seen, rows) == -1)
			return imp_fail(im, "out of memory");
		return csv_rows(im, data, len) == -1 ? -1 : 0;
	}
	im->unit = "employee";
	if ((list = json_employees(im, data, len, &doc)) == NULL)
		rc = 0;
	else if (seen_init(&im->seen, json_array_size(list)) == -1)
		rc = imp_fail(im, "out of memory");
	else
		rc = json_rows(im, list);
	json_decref(doc);
	return rc;
}

static void
import_summary(const struct import_report *rep, char *out, size_t size)
{
	(void)snprintf(out, size, "%zu rows: %zu new, %zu transfer, %zu "
	    "promotion, %zu update, %zu departure, %zu rehire, %zu scheduled, "
	    "%zu unchanged", rep->rows, rep->count[IMPORT_K_NEW],
	    rep->count[IMPORT_K_TRANSFER], rep->count[IMPORT_K_PROMOTION],
	    rep->count[IMPORT_K_UPDATE], rep->count[IMPORT_K_DEPARTURE],
	    rep->count[IMPORT_K_REHIRE], rep->count[IMPORT_K_SCHEDULED],
	    rep->count[IMPORT_K_UNCHANGED]);
}

/* Commits when every row was good, something was written and this is
 * no dry run, with one summary entry in the audit log; else aborts. */
static int
imp_end(struct imp *im, const char *action)
{
	char d[AUDIT_DETAIL_SIZE];

	if (im->failed || !im->dirty || im->opts->dry_run) {
		store_abort(im->txn);
		return im->failed ? REG_ERROR : REG_OK;
	}
	import_summary(im->rep, d, sizeof(d));
	if (imp_audit(im, action, NULL, NULL, d) == -1) {
		store_abort(im->txn);
		return REG_ERROR;
	}
	if (store_commit(im->txn) != STORE_OK) {
		(void)imp_fail(im, "the store refused the import");
		return REG_ERROR;
	}
	im->rep->committed = 1;
	return REG_OK;
}

/* A refused import in the audit log, in a transaction of its own. */
static void
import_refused(const struct imp *im, struct store *st)
{
	struct audit_event ev;

	if (im->who == NULL || im->opts->dry_run)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.actor = im->who->actor;
	ev.addr = im->who->addr;
	ev.action = "registry.import";
	ev.outcome = "refused";
	ev.detail = im->rep->errors[0];
	if (audit_log(im->who->audit, st, &ev) == -1)
		log_err("registry: a refused import is missing from the audit "
		    "log");
}

/* Sets up the import's context and opens its write transaction. */
static int
imp_begin(struct imp *im, struct store *st, const struct registry_actor *who,
    const struct import_opts *opts, struct import_report *rep,
    struct registry_err *err)
{
	static const struct import_opts none;

	memset(rep, 0, sizeof(*rep));
	memset(im, 0, sizeof(*im));
	im->who = who;
	im->opts = opts != NULL ? opts : &none;
	im->rep = rep;
	im->err = err;
	im->now = clock_now();
	im->unit = "line";
	if (err != NULL)
		err->msg[0] = '\0';
	if (store_begin(st, 1, &im->txn) != STORE_OK) {
		(void)imp_fail(im, "cannot open the store");
		return REG_ERROR;
	}
	return REG_OK;
}

int
registry_import_buf(struct store *st, const struct registry_actor *who,
    const char *data, size_t len, const struct import_opts *opts,
    struct import_report *rep, struct registry_err *err)
{
	struct imp im;
	int rc;

	if ((rc = imp_begin(&im, st, who, opts, rep, err)) != REG_OK)
		return rc;
	rc = import_rows(&im, data, len);
	free(im.seen.slot);
	if (rc == 0 && rep->nerrors > 0) {
		store_abort(im.txn);
		import_refused(&im, st);
		return REG_INVALID;
	}
	return imp_end(&im, "registry.import");
}

int
registry_import_file(struct store *st, const struct registry_actor *who,
    const char *path, const struct import_opts *opts,
    struct import_report *rep, struct registry_err *err)
{
	struct import_opts o = opts != NULL ? *opts :
	    (struct import_opts){ 0 };
	const char *dot = strrchr(path, '.');
	size_t len;
	char *data;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((data = file_read(path, IMPORT_FILE_MAX, &len)) == NULL) {
		if (err != NULL)
			(void)snprintf(err->msg, sizeof(err->msg), "cannot "
			    "read %s (missing, unreadable or larger than %zu "
			    "MiB)", path, IMPORT_FILE_MAX >> 20);
		return REG_INVALID;
	}
	if (o.format == IMPORT_AUTO && dot != NULL)
		o.format = strcmp(dot, ".json") == 0 ? IMPORT_JSON :
		    strcmp(dot, ".csv") == 0 ? IMPORT_CSV : IMPORT_AUTO;
	rc = registry_import_buf(st, who, data, len, &o, rep, err);
	free(data);
	return rc;
}

/* ---- scheduled changes that fell due */

static int
due_one(const struct sched_change *s, void *arg)
{
	struct imp *im = arg;
	struct sched_change r = *s;
	size_t before = im->rep->nerrors;
	int rc;

	im->rep->rows++;
	im->regno = s->registry_no;
	rc = row_apply(im, 0, &r);
	im->regno = NULL;
	if (rc == -1)
		return 1;
	if (store_sched_del(im->txn, s->registry_no) != STORE_OK) {
		(void)imp_fail(im, "store error updating the schedule");
		return 1;
	}
	im->dirty = 1;
	if (rc == 0 || before >= IMPORT_ERRORS_MAX)
		return 0;
	/* Refused now (its org is gone, its username taken): dropped, and
	 * the reason recorded. */
	return imp_audit(im, "registry.apply-refused", s->registry_no, s->org,
	    im->rep->errors[before]) == -1;
}

int
registry_apply_due(struct store *st, const struct registry_actor *who,
    int64_t now, struct import_report *rep, struct registry_err *err)
{
	struct import_report local;
	struct imp im;
	int rc;

	if (rep == NULL)
		rep = &local;
	if ((rc = imp_begin(&im, st, who, NULL, rep, err)) != REG_OK)
		return rc;
	im.now = now;
	if (store_sched_list_due(im.txn, now, due_one, &im) != STORE_OK)
		(void)imp_fail(&im, "store error reading the schedule");
	return imp_end(&im, "registry.apply-due");
}
