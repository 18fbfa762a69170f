/* admin_org.c - organisations, applications and the audit log through the
 * admin API. Listings show only what admin_may lets the administrator
 * see; a refusal to see one item of a listing is not recorded (it is no
 * attempt), a refusal of the whole request is. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_int.h"
#include "keys.h"
#include "registry/import.h"

/* A listing in progress. */
struct admin_list {
	struct admin_req *a;
	struct store_txn *txn;
	json_t *items;
	int failed;
};

static int
name_item(const char *name, void *arg)
{
	return json_array_append_new(arg, json_string(name)) == 0 ? 0 : -1;
}

static int
org_item(const struct org *o, void *arg)
{
	struct admin_list *l = arg;
	struct admin_target t = { NULL, o->code, 0, 0 };
	json_t *apps, *j;

	if (!admin_may(&l->a->admin, ADMIN_ORG_READ, &t, NULL))
		return 0;
	if (json_array_size(l->items) >= ADMIN_LIST_MAX ||
	    (apps = json_array()) == NULL)
		return l->failed = 1;
	if (store_sub_list(l->txn, o->code, name_item, apps) != STORE_OK) {
		json_decref(apps);
		return l->failed = 1;
	}
	j = json_pack("{s:s, s:s, s:I, s:o}", "code", o->code, "name", o->name,
	    "sms_monthly_cap", (json_int_t)o->sms_monthly_cap, "apps", apps);
	if (j == NULL || json_array_append_new(l->items, j) == -1)
		return l->failed = 1;
	return 0;
}

/* Renders {"<key>": items} or a 500 after a listing. */
static http_result
list_done(struct admin_list *l, int rc, const char *key)
{
	store_abort(l->txn);
	if (rc != STORE_OK || l->failed) {
		json_decref(l->items);
		admin_problem(l->a->resp, 500, l->failed && rc == STORE_OK ?
		    "the listing is too long or memory ran out" : NULL);
		return HTTP_DONE;
	}
	admin_json(l->a, 200, json_pack("{s:o}", key, l->items));
	return HTTP_DONE;
}

static int
list_begin(struct admin_req *a, struct admin_list *l)
{
	memset(l, 0, sizeof(*l));
	l->a = a;
	if ((l->items = json_array()) == NULL ||
	    store_begin(a->idp->store, 0, &l->txn) != STORE_OK) {
		json_decref(l->items);
		admin_problem(a->resp, 500, NULL);
		return -1;
	}
	return 0;
}

http_result
admin_orgs_get(struct admin_req *a)
{
	struct admin_list l;

	if (list_begin(a, &l) == -1)
		return HTTP_DONE;
	return list_done(&l, store_org_list(l.txn, org_item, &l), "orgs");
}

http_result
admin_orgs_post(struct admin_req *a)
{
	static const char *const fields[] = { "code", "name", NULL };
	struct registry_err e;
	const char *code, *name;
	int rc;

	if (!admin_check(a, ADMIN_ORG_ADD, NULL, NULL) ||
	    admin_body(a, fields) == -1 ||
	    admin_body_str(a, "code", 1, ORG_CODE_SIZE, &code) == -1 ||
	    admin_body_str(a, "name", 1, NAME_SIZE, &name) == -1)
		return HTTP_DONE;
	rc = registry_org_add(a->idp->store, &a->who, code, name, &e);
	if (rc != REG_OK)
		admin_reg_problem(a, rc, &e);
	else
		admin_json(a, 201, json_pack("{s:s, s:s}", "code", code,
		    "name", name));
	return HTTP_DONE;
}

/* POST orgs/CODE/subscriptions {"app": ID} */
http_result
admin_org_subscribe(struct admin_req *a)
{
	static const char *const fields[] = { "app", NULL };
	struct admin_target t = { NULL, a->seg[1], 0, 0 };
	struct registry_err e;
	const char *app;
	int rc;

	if (!admin_check(a, ADMIN_ORG_SUBSCRIBE, &t, NULL) ||
	    admin_body(a, fields) == -1 ||
	    admin_body_str(a, "app", 1, APP_ID_SIZE, &app) == -1)
		return HTTP_DONE;
	rc = registry_org_subscribe(a->idp->store, &a->who, a->seg[1], app,
	    &e);
	if (rc != REG_OK)
		admin_reg_problem(a, rc, &e);
	else
		admin_json(a, 201, json_pack("{s:s, s:s}", "org", a->seg[1],
		    "app", app));
	return HTTP_DONE;
}

static const char *const audiences[] = { "employees", "citizens", "both" };

static json_t *
app_json(const struct app *p)
{
	json_t *uris = json_array();
	int i;

	for (i = 0; uris != NULL && i < p->n_redirect_uris; i++)
		json_array_append_new(uris, json_string(p->redirect_uris[i]));
	return json_pack("{s:s, s:s, s:o, s:b, s:s, s:b, s:b, s:s}",
	    "client_id", p->client_id, "name", p->name, "redirect_uris", uris,
	    "public", p->public_client, "audience",
	    audiences[p->audience >= AUD_EMPLOYEES && p->audience <= AUD_BOTH ?
	    p->audience : 0], "require_2fa", p->require_2fa, "admin_client",
	    p->admin_client, "id_token_alg",
	    key_alg_name((enum key_alg)p->id_token_alg));
}

static int
app_item(const struct app *p, void *arg)
{
	struct admin_list *l = arg;
	struct admin_target t = { NULL, l->a->admin.org, 0, 0 };
	int rc;

	/* An org admin sees the apps their organisation uses. */
	if (l->a->admin.admin_role != ADMIN_OPERATOR) {
		rc = store_sub_get(l->txn, l->a->admin.org, p->client_id);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return l->failed = 1;
		t.subscribed = rc == STORE_OK;
	}
	if (!admin_may(&l->a->admin, ADMIN_APP_READ, &t, NULL))
		return 0;
	if (json_array_size(l->items) >= ADMIN_LIST_MAX ||
	    json_array_append_new(l->items, app_json(p)) == -1)
		return l->failed = 1;
	return 0;
}

http_result
admin_apps_get(struct admin_req *a)
{
	struct admin_list l;

	if (list_begin(a, &l) == -1)
		return HTTP_DONE;
	return list_done(&l, store_app_list(l.txn, app_item, &l), "apps");
}

/* A JSON array of strings into list (at most max); -1 rendered. */
static int
body_str_list(struct admin_req *a, const char *name, const char **list,
    int *n, int max)
{
	json_t *arr = json_object_get(a->body, name), *v;
	size_t i;

	*n = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > (size_t)max)
		goto bad;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || json_string_length(v) >= URI_SIZE)
			goto bad;
		list[(*n)++] = json_string_value(v);
	}
	return 0;
bad:
	admin_problem(a->resp, 400, "redirect_uris and post_logout_uris are "
	    "arrays of at most 8 URIs");
	return -1;
}

static int
app_body(struct admin_req *a, struct app_spec *s)
{
	static const char *const fields[] = { "client_id", "name",
		"redirect_uris", "post_logout_uris", "public", "audience",
		"require_2fa", "admin_client", "id_token_alg", NULL };
	const char *aud = NULL, *alg = NULL;
	enum key_alg ka = KEY_RS256;
	int i;

	memset(s, 0, sizeof(*s));
	if (admin_body(a, fields) == -1 ||
	    admin_body_str(a, "client_id", 1, APP_ID_SIZE, &s->client_id) ||
	    admin_body_str(a, "name", 1, NAME_SIZE, &s->name) ||
	    body_str_list(a, "redirect_uris", s->redirect_uris,
	    &s->n_redirect_uris, APP_URIS_MAX) ||
	    body_str_list(a, "post_logout_uris", s->post_logout_uris,
	    &s->n_post_logout_uris, APP_URIS_MAX) ||
	    admin_body_bool(a, "public", &s->public_client) ||
	    admin_body_bool(a, "require_2fa", &s->require_2fa) ||
	    admin_body_bool(a, "admin_client", &s->admin_client) ||
	    admin_body_str(a, "audience", 0, 16, &aud) ||
	    admin_body_str(a, "id_token_alg", 0, 16, &alg))
		return -1;
	for (i = 0; aud != NULL && i < 3 && strcmp(aud, audiences[i]); i++)
		;
	if (i == 3 || (alg != NULL && key_alg_parse(alg, &ka) == -1)) {
		admin_problem(a->resp, 400, "audience is employees, citizens "
		    "or both; id_token_alg is RS256 or ES256");
		return -1;
	}
	s->audience = aud != NULL ? i : AUD_EMPLOYEES;
	s->id_token_alg = (int)ka;
	return 0;
}

/* The client secret is in this response only; its hash is stored. */
http_result
admin_apps_post(struct admin_req *a)
{
	char secret[RAND_TOKEN_LEN];
	struct registry_err e;
	struct app_spec s;
	struct app p;
	json_t *j;
	int rc;

	if (!admin_check(a, ADMIN_APP_ADD, NULL, NULL) ||
	    app_body(a, &s) == -1)
		return HTTP_DONE;
	rc = registry_app_add(a->idp->store, &a->who, &s, secret, &p, &e);
	if (rc != REG_OK) {
		admin_reg_problem(a, rc, &e);
		return HTTP_DONE;
	}
	j = app_json(&p);
	if (j != NULL && !p.public_client)
		json_object_set_new(j, "client_secret", json_string(secret));
	wipe(secret, sizeof(secret));
	admin_json(a, 201, j);
	return HTTP_DONE;
}

/* ---- the audit log */

struct audit_query {
	struct admin_req *a;
	json_t *items;
	size_t limit;
	int failed;
};

static int
audit_item(const struct audit_entry *e, void *arg)
{
	struct audit_query *q = arg;
	struct admin_target t = { NULL, e->org, 0, 0 };
	json_t *j;

	if (!admin_may(&q->a->admin, ADMIN_AUDIT_READ, &t, NULL))
		return 0;
	j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "seq", (json_int_t)e->seq, "time", (json_int_t)e->time, "actor",
	    e->actor, "action", e->action, "outcome", e->outcome, "subject",
	    e->subject, "client", e->client, "org", e->org, "addr", e->addr,
	    "detail", e->detail);
	if (j == NULL || json_array_append_new(q->items, j) == -1)
		return q->failed = 1;
	/* Entries come oldest first: keep the newest limit. */
	if (json_array_size(q->items) > q->limit)
		(void)json_array_remove(q->items, 0);
	return 0;
}

static int
audit_limit(struct admin_req *a, size_t *limit)
{
	const char *s;
	char *end;
	long n;

	*limit = ADMIN_AUDIT_DEFAULT;
	if (admin_query(a, "limit", &s) == -1)
		return -1;
	if (s == NULL)
		return 0;
	errno = 0;
	n = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || n < 1 ||
	    n > ADMIN_AUDIT_MAX) {
		admin_problem(a->resp, 400, "limit is a number from 1 to 1000");
		return -1;
	}
	*limit = (size_t)n;
	return 0;
}

/* The person asked about (?user=): an org admin may ask only about their
 * own organisation's people; the operator about any name (one that no
 * longer exists, or never did, as in failed sign-ins). */
static int
audit_subject(struct admin_req *a, const char *name)
{
	struct admin_target t = { NULL, a->admin.org, 0, 0 };
	struct store_txn *txn;
	struct user u;
	int rc = STORE_ERROR, ok;

	if (strlen(name) >= AUDIT_SUBJECT_SIZE) {
		admin_problem(a->resp, 400, "user is too long");
		return -1;
	}
	if (store_begin(a->idp->store, 0, &txn) == STORE_OK) {
		rc = store_user_get_by_name(txn, name, &u);
		store_abort(txn);
	}
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		admin_problem(a->resp, 500, NULL);
		return -1;
	}
	if (rc == STORE_OK)
		t.user = &u;
	else
		t.org = NULL;	/* nobody's: only the operator */
	ok = admin_check(a, ADMIN_AUDIT_READ, &t, name);
	wipe(&u, sizeof(u));
	return ok ? 0 : -1;
}

http_result
admin_audit_get(struct admin_req *a)
{
	struct admin_target t = { NULL, a->admin.org, 0, 0 };
	struct audit_query q;
	const char *user;
	size_t scan;

	memset(&q, 0, sizeof(q));
	q.a = a;
	if (audit_limit(a, &q.limit) == -1 ||
	    admin_query(a, "user", &user) == -1)
		return HTTP_DONE;
	if (user != NULL ? audit_subject(a, user) == -1 :
	    !admin_check(a, ADMIN_AUDIT_READ, &t, NULL))
		return HTTP_DONE;
	/* The operator's newest entries are the answer; an org admin's are
	 * found among the newest ADMIN_AUDIT_SCAN. */
	scan = a->admin.admin_role == ADMIN_OPERATOR ? q.limit :
	    ADMIN_AUDIT_SCAN;
	if ((q.items = json_array()) == NULL ||
	    audit_tail(a->idp->store, user, scan, audit_item, &q) == -1 ||
	    q.failed) {
		json_decref(q.items);
		admin_problem(a->resp, 500, NULL);
		return HTTP_DONE;
	}
	admin_json(a, 200, json_pack("{s:o}", "entries", q.items));
	return HTTP_DONE;
}

/* ---- the employee registry */

static json_t *
import_json(const struct import_report *rep, int dry_run)
{
	json_t *counts = json_object(), *errors = json_array(), *j;
	size_t i;

	for (i = 0; counts != NULL && i < IMPORT_KINDS; i++)
		json_object_set_new(counts,
		    import_kind_name((enum import_kind)i),
		    json_integer((json_int_t)rep->count[i]));
	for (i = 0; errors != NULL && i < rep->nerrors &&
	    i < IMPORT_ERRORS_MAX; i++)
		json_array_append_new(errors, json_string(rep->errors[i]));
	j = json_pack("{s:I, s:I, s:b, s:b, s:o, s:o}", "rows",
	    (json_int_t)rep->rows, "changed", (json_int_t)rep->changed,
	    "committed", rep->committed, "dry_run", dry_run, "counts", counts,
	    "errors", errors);
	return j;
}

/* POST registry/import[?dry_run=true]: the export as the body, text/csv
 * or application/json, within the server's body limit. */
http_result
admin_import_post(struct admin_req *a)
{
	struct import_opts opts;
	struct import_report rep;
	struct registry_err e;
	const char *type = a->req->content_type, *dry;
	int rc;

	memset(&opts, 0, sizeof(opts));
	memset(&rep, 0, sizeof(rep));
	if (!admin_check(a, ADMIN_REGISTRY_IMPORT, NULL, NULL) ||
	    admin_query(a, "dry_run", &dry) == -1)
		return HTTP_DONE;
	if (type != NULL && strncasecmp(type, "text/csv", 8) == 0)
		opts.format = IMPORT_CSV;
	else if (type != NULL && strncasecmp(type, "application/json", 16) == 0)
		opts.format = IMPORT_JSON;
	else {
		admin_problem(a->resp, 415, "the export is text/csv or "
		    "application/json");
		return HTTP_DONE;
	}
	if (dry != NULL && strcmp(dry, "true") && strcmp(dry, "false")) {
		admin_problem(a->resp, 400, "dry_run is true or false");
		return HTTP_DONE;
	}
	opts.dry_run = dry != NULL && strcmp(dry, "true") == 0;
	rc = registry_import_buf(a->idp->store, &a->who, a->req->body,
	    a->req->body_len, &opts, &rep, &e);
	if (rc == REG_OK)
		admin_json(a, 200, import_json(&rep, opts.dry_run));
	else if (rc == REG_INVALID)
		admin_problem_ext(a->resp, 400, e.msg, import_json(&rep,
		    opts.dry_run));
	else
		admin_reg_problem(a, rc, &e);
	return HTTP_DONE;
}
