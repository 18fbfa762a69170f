/* admin_http.c - the admin API's front door: the Bearer token, the
 * administrator behind it, routing below /admin/v1/, problem details, JSON
 * input, and the audit record of every refusal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_int.h"
#include "util/pool.h"

#define ACCESS_TOKEN_MAX 8192

/* "users/:/grants": ':' stands for one segment (a name). */
static const struct {
	const char *method;
	const char *pattern;
	admin_fn fn;
} admin_routes[] = {
	{ "GET", "orgs", admin_orgs_get },
	{ "POST", "orgs", admin_orgs_post },
	{ "POST", "orgs/:/subscriptions", admin_org_subscribe },
	{ "GET", "apps", admin_apps_get },
	{ "POST", "apps", admin_apps_post },
	{ "GET", "users", admin_users_get },
	{ "POST", "users", admin_users_post },
	{ "GET", "users/:", admin_user_get },
	{ "POST", "users/:/disable", admin_user_disable },
	{ "POST", "users/:/enable", admin_user_enable },
	{ "GET", "users/:/grants", admin_grants_get },
	{ "POST", "users/:/grants", admin_grants_post },
	{ "DELETE", "users/:/grants", admin_grants_delete },
	{ "POST", "users/:/admin", admin_role_post },
	{ "POST", "users/:/password-reset", admin_password_reset },
	{ "POST", "users/:/second-factor-reset", admin_factor_reset },
	{ "POST", "users/:/unlock", admin_unlock },
	{ "DELETE", "users/:/sessions", admin_sessions_delete },
	{ "GET", "audit", admin_audit_get },
	{ "POST", "registry/import", admin_import_post },
};

static const struct {
	int status;
	const char *title;
} problem_titles[] = {
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 409, "Conflict" }, { 415, "Unsupported Media Type" },
	{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
};

void
admin_problem(struct http_response *resp, int status, const char *detail)
{
	admin_problem_ext(resp, status, detail, NULL);
}

void
admin_problem_ext(struct http_response *resp, int status, const char *detail,
    json_t *ext)
{
	const char *title = "Error";
	json_t *j;
	char *s = NULL;
	size_t i;

	for (i = 0; i < sizeof(problem_titles) / sizeof(problem_titles[0]); i++)
		if (problem_titles[i].status == status)
			title = problem_titles[i].title;
	j = json_pack("{s:s, s:s, s:i}", "type", "about:blank", "title", title,
	    "status", status);
	if (j != NULL && detail != NULL)
		json_object_set_new(j, "detail", json_string(detail));
	/* Extension members (RFC 9457 3.2) never replace the standard ones. */
	if (j != NULL && ext != NULL)
		(void)json_object_update_missing(j, ext);
	if (j != NULL)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	json_decref(ext);
	(void)http_json(resp, s != NULL ? status : 500, s != NULL ? s :
	    "{\"type\":\"about:blank\",\"status\":500}");
	resp->content_type = "application/problem+json";
	free(s);
}

void
admin_reg_problem(struct admin_req *a, int rc, const struct registry_err *e)
{
	/* REG_REFUSED is a rule about the state of things (the org does not
	 * subscribe to the app, a citizen holds no roles): a conflict that
	 * the operator can resolve, not a matter of permission. */
	static const int status[] = { [REG_OK] = 200, [REG_INVALID] = 400,
		[REG_EXISTS] = 409, [REG_NOTFOUND] = 404,
		[REG_REFUSED] = 409, [REG_ERROR] = 500 };

	if (rc < REG_OK || rc > REG_ERROR)
		rc = REG_ERROR;
	admin_problem(a->resp, status[rc], rc == REG_ERROR ?
	    "the change could not be made; see the server log" : e->msg);
}

void
admin_json(struct admin_req *a, int status, json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	if (s == NULL)
		admin_problem(a->resp, 500, NULL);
	else
		(void)http_json(a->resp, status, s);
	if (s != NULL) {
		wipe(s, strlen(s));	/* it may hold a new secret */
		free(s);
	}
	json_decref(j);
}

/* Records a refusal of the API (admin.<what>) as the request's actor. */
static void
admin_audit_refusal(struct admin_req *a, const char *what,
    const char *subject, const char *org, const char *detail)
{
	char action[AUDIT_ACTION_SIZE];
	struct audit_event ev;

	(void)snprintf(action, sizeof(action), "admin.%s", what);
	ev = (struct audit_event){ a->actor[0] ? a->actor : "-", action,
		"refused", subject, NULL, org, a->req->remote_addr, detail };
	if (audit_log(&a->idp->audit, a->idp->store, &ev) == -1)
		log_err("admin: a refused %s is missing from the audit log",
		    action);
}

int
admin_check(struct admin_req *a, enum admin_verb verb,
    const struct admin_target *t, const char *subject)
{
	const char *why = NULL;
	const char *org;

	if (admin_may(&a->admin, verb, t, &why))
		return 1;
	org = t != NULL && t->user != NULL && t->user->org[0] ? t->user->org :
	    t != NULL ? t->org : NULL;
	admin_audit_refusal(a, admin_verb_name(verb), subject, org, why);
	admin_problem(a->resp, 403, why);
	return 0;
}

/* ---- authentication */

static void
admin_unauthorized(struct http_response *resp, const char *error,
    const char *detail)
{
	char h[256];

	(void)snprintf(h, sizeof(h), "Bearer realm=\"kleidi\"%s%s%s",
	    error ? ", error=\"" : "", error ? error : "", error ? "\"" : "");
	admin_problem(resp, 401, detail);
	(void)http_header(resp, "WWW-Authenticate", h);
}

/* The client_id claim, read before verification only to know which
 * audience to verify the token for; the signature check follows. */
static char *
admin_token_client(const char *token)
{
	const char *p = strchr(token, '.'), *q;
	unsigned char *raw;
	json_t *j, *id;
	char *out = NULL;
	size_t n;

	if (p == NULL || (q = strchr(p + 1, '.')) == NULL)
		return NULL;
	if ((raw = b64url_decode(p + 1, (size_t)(q - p - 1), &n)) == NULL)
		return NULL;
	j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	id = json_object_get(j, "client_id");
	if (json_is_string(id) && valid_client_id(json_string_value(id)))
		out = strdup(json_string_value(id));
	json_decref(j);
	return out;
}

/* The app is an admin client and the token carries kleidi:admin: 0, or
 * -1 with the 403 (insufficient_scope, RFC 6750 3.1) rendered. */
static int
admin_scope(struct admin_req *a, const kl_claims *c, const char *client)
{
	struct store_txn *txn;
	struct app app;
	int rc = STORE_ERROR;

	if (store_begin(a->idp->store, 0, &txn) == STORE_OK) {
		rc = store_app_get(txn, client, &app);
		store_abort(txn);
	}
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		admin_problem(a->resp, 500, NULL);
		return -1;
	}
	if (rc == STORE_OK && app.admin_client &&
	    kl_claims_has_scope(c, SCOPE_ADMIN))
		return 0;
	admin_audit_refusal(a, "access", kl_claims_sub(c), NULL,
	    "the token is not an admin client's with scope " SCOPE_ADMIN);
	admin_problem(a->resp, 403, "the token does not carry scope "
	    SCOPE_ADMIN " from an admin client");
	(void)http_header(a->resp, "WWW-Authenticate", "Bearer "
	    "realm=\"kleidi\", error=\"insufficient_scope\", "
	    "scope=\"" SCOPE_ADMIN "\"");
	return -1;
}

/* The administrator, fresh from the store: 0, or -1 rendered. */
static int
admin_person(struct admin_req *a, const kl_claims *c)
{
	struct store_txn *txn;
	int rc = STORE_ERROR;

	if (store_begin(a->idp->store, 0, &txn) == STORE_OK) {
		rc = store_user_get(txn, kl_claims_sub(c), &a->admin);
		store_abort(txn);
	}
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		admin_problem(a->resp, 500, NULL);
		return -1;
	}
	if (rc == STORE_NOTFOUND || a->admin.disabled) {
		admin_unauthorized(a->resp, "invalid_token",
		    "the account is no longer active");
		return -1;
	}
	/* Someone without an admin role is refused as who they are. */
	if (!admin_check(a, ADMIN_ACCESS, NULL, a->admin.username))
		return -1;
	(void)snprintf(a->actor, sizeof(a->actor), "admin:%s",
	    a->admin.username);
	a->who = (struct registry_actor){ &a->idp->audit, a->actor,
		a->req->remote_addr };
	return 0;
}

static int
admin_authenticate(struct admin_req *a)
{
	const char *h = a->req->authorization, *token;
	kl_claims *c = NULL;
	kl_error err;
	char *client = NULL;
	int rc = -1;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		admin_unauthorized(a->resp, NULL, "a Bearer access token is "
		    "required");
		return -1;
	}
	token = h + 7;
	if (strlen(token) > ACCESS_TOKEN_MAX ||
	    (client = admin_token_client(token)) == NULL ||
	    keyring_verify_access(a->idp->keyring, token, client, &c,
	    &err) != KL_OK) {
		admin_unauthorized(a->resp, "invalid_token",
		    "the access token is not valid");
		goto done;
	}
	(void)snprintf(a->actor, sizeof(a->actor), "user:%s",
	    kl_claims_sub(c));
	if (admin_scope(a, c, client) == 0 && admin_person(a, c) == 0)
		rc = 0;
done:
	kl_claims_free(c);
	free(client);
	return rc;
}

/* ---- routing */

/* Splits the path below the prefix into segments: none empty, none "."
 * or "..", each shorter than ADMIN_SEGMENT_MAX. -1 when malformed. */
static int
admin_split(struct admin_req *a)
{
	const char *p = a->req->path + strlen(ADMIN_PREFIX);
	char *s;

	if (str_copy(a->path, p, sizeof(a->path)) >= sizeof(a->path))
		return -1;
	for (s = a->path; *s != '\0';) {
		size_t n = strcspn(s, "/");

		if (n == 0 || n >= ADMIN_SEGMENT_MAX ||
		    a->nseg == ADMIN_SEGMENTS_MAX ||
		    strncmp(s, ".", n) == 0 || strncmp(s, "..", n) == 0)
			return -1;
		a->seg[a->nseg++] = s;
		if (s[n] == '\0')
			break;
		s[n] = '\0';
		s += n + 1;
		if (*s == '\0')
			return -1;	/* a trailing slash */
	}
	return a->nseg > 0 ? 0 : -1;
}

static int
admin_pattern_match(const struct admin_req *a, const char *pattern)
{
	size_t i = 0, n;
	const char *p = pattern;

	for (; *p != '\0' && i < a->nseg; i++) {
		n = strcspn(p, "/");
		if (!(n == 1 && p[0] == ':') &&
		    (strlen(a->seg[i]) != n || strncmp(a->seg[i], p, n) != 0))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return *p == '\0' && i == a->nseg;
}

/* The handler for the request; NULL with the 404 or 405 rendered. */
static admin_fn
admin_route(struct admin_req *a)
{
	const char *m = a->req->method;
	char allow[64] = "";
	size_t i, n = sizeof(admin_routes) / sizeof(admin_routes[0]);

	if (admin_split(a) == -1) {
		admin_problem(a->resp, 404, NULL);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (!admin_pattern_match(a, admin_routes[i].pattern))
			continue;
		if (strcmp(admin_routes[i].method, m) == 0 ||
		    (strcmp(m, "HEAD") == 0 &&
		    strcmp(admin_routes[i].method, "GET") == 0))
			return admin_routes[i].fn;
		if (allow[0] != '\0')
			(void)strncat(allow, ", ", sizeof(allow) -
			    strlen(allow) - 1);
		(void)strncat(allow, admin_routes[i].method, sizeof(allow) -
		    strlen(allow) - 1);
	}
	admin_problem(a->resp, allow[0] != '\0' ? 405 : 404, NULL);
	if (allow[0] != '\0')
		(void)http_header(a->resp, "Allow", allow);
	return NULL;
}

/* ---- input */

static int
admin_is_json(const char *type)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;

	return type != NULL && strncasecmp(type, json, n) == 0 &&
	    (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

int
admin_body(struct admin_req *a, const char *const *allowed)
{
	json_error_t jerr;
	const char *key;
	json_t *v;
	size_t i;

	if (!admin_is_json(a->req->content_type)) {
		admin_problem(a->resp, 415, "the body must be "
		    "application/json");
		return -1;
	}
	a->body = json_loadb(a->req->body, a->req->body_len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(a->body)) {
		admin_problem(a->resp, 400, "the body must be one JSON object "
		    "without repeated members");
		return -1;
	}
	json_object_foreach(a->body, key, v) {
		for (i = 0; allowed[i] != NULL && strcmp(allowed[i], key); i++)
			;
		if (allowed[i] == NULL) {
			admin_problem(a->resp, 400, "the body has a member "
			    "this request does not take");
			return -1;
		}
	}
	return 0;
}

int
admin_body_str(struct admin_req *a, const char *name, int required,
    size_t max, const char **out)
{
	json_t *v = json_object_get(a->body, name);
	char msg[128];

	*out = NULL;
	if (v == NULL && !required)
		return 0;
	if (json_is_string(v) && json_string_length(v) > 0 &&
	    json_string_length(v) < max &&
	    strlen(json_string_value(v)) == json_string_length(v)) {
		*out = json_string_value(v);
		return 0;
	}
	(void)snprintf(msg, sizeof(msg), "%s must be a string of 1 to %zu "
	    "bytes", name, max - 1);
	admin_problem(a->resp, 400, msg);
	return -1;
}

int
admin_body_bool(struct admin_req *a, const char *name, int *out)
{
	json_t *v = json_object_get(a->body, name);
	char msg[128];

	*out = 0;
	if (v == NULL)
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	(void)snprintf(msg, sizeof(msg), "%s must be true or false", name);
	admin_problem(a->resp, 400, msg);
	return -1;
}

int
admin_query(struct admin_req *a, const char *name, const char **out)
{
	char msg[128];

	*out = http_query(a->req, name);
	if (http_query_count(a->req, name) <= 1)
		return 0;
	(void)snprintf(msg, sizeof(msg), "%s is repeated", name);
	admin_problem(a->resp, 400, msg);
	return -1;
}

int
admin_user_load(struct admin_req *a, const char *username, struct user *u)
{
	struct store_txn *txn;
	int rc = STORE_ERROR;

	if (!valid_username(username)) {
		admin_problem(a->resp, 404, "no such user");
		return -1;
	}
	if (store_begin(a->idp->store, 0, &txn) == STORE_OK) {
		rc = store_user_get_by_name(txn, username, u);
		store_abort(txn);
	}
	if (rc == STORE_OK)
		return 0;
	admin_problem(a->resp, rc == STORE_NOTFOUND ? 404 : 500,
	    rc == STORE_NOTFOUND ? "no such user" : NULL);
	return -1;
}

int
admin_subscribed(struct admin_req *a, const char *org, const char *app)
{
	struct store_txn *txn;
	int rc;

	if (store_begin(a->idp->store, 0, &txn) != STORE_OK)
		return -1;
	rc = store_sub_get(txn, org, app);
	store_abort(txn);
	return rc == STORE_OK ? 1 : rc == STORE_NOTFOUND ? 0 : -1;
}

/* ---- slow work */

static void
admin_job_free(void *arg)
{
	struct admin_job *job = arg;

	if (job == NULL)
		return;
	if (job->clear != NULL)
		job->clear(job);
	free(job);
}

static void
admin_job_run(void *arg)
{
	struct admin_job *job = arg;

	job->run(job);
	http_resume(job->req);
}

http_result
admin_job_start(struct admin_req *a, struct admin_job *job)
{
	job->idp = a->idp;
	job->req = a->req;
	a->req->state = job;
	a->req->state_free = admin_job_free;
	if (pool_submit(a->idp->pool, admin_job_run, job) == 0)
		return HTTP_SUSPENDED;
	admin_problem(a->resp, 503, "the server is busy; try again shortly");
	(void)http_header(a->resp, "Retry-After", "5");
	return HTTP_DONE;
}

/* ---- entry */

http_result
admin_handle(struct http_request *req, struct http_response *resp,
    void *app)
{
	struct admin_job *job = req->state;
	struct admin_req *a;
	http_result r = HTTP_DONE;
	admin_fn fn;

	if (job != NULL) {
		/* Resumed: the pool has done the work. */
		job->finish(job, resp);
		return HTTP_DONE;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		admin_problem(resp, 500, NULL);
		return HTTP_DONE;
	}
	a->idp = app;
	a->req = req;
	a->resp = resp;
	/* The route first: a 404 needs no token, and tells nothing. */
	if ((fn = admin_route(a)) != NULL && admin_authenticate(a) == 0)
		r = fn(a);
	json_decref(a->body);
	wipe(a, sizeof(*a));
	free(a);
	return r;
}
