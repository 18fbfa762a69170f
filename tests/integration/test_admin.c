/*
 * test_admin.c - the admin REST API against the real server: tokens from
 * the code flow of an admin client, the permission matrix (an org admin of
 * A against B's people, apps A does not use, the operator role; the
 * operator everywhere), every refusal a 403 problem that the audit log
 * records, help-desk actions with their reason, and malformed requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define PASSWORD "correct horse battery"
#define PASSWORD_ENC "correct%20horse%20battery"
#define SCOPE "openid%%20kleidi%%3Aadmin"	/* a format string */

static struct harness h;
static char console_secret[128];
static char plain_secret[128];
static char tok_a[4096];	/* admin-a, org admin of a */
static char tok_op[4096];	/* operator1 */
static char tok_carol[4096];	/* carol: no admin role */
static char tok_plain[4096];	/* admin-a through a non-admin client */

struct reply {
	long status;
	char type[128];
	char www[512];
	struct buf body;
};

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	return buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

static size_t
head_line(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;

	if (len > 14 && strncasecmp(p, "Content-Type: ", 14) == 0)
		snprintf(r->type, sizeof(r->type), "%.*s", (int)(len - 16),
		    p + 14);
	if (len > 18 && strncasecmp(p, "WWW-Authenticate: ", 18) == 0)
		snprintf(r->www, sizeof(r->www), "%.*s", (int)(len - 20),
		    p + 18);
	return len;
}

/* method path (below /admin/v1/) with a Bearer token (may be NULL) and a
 * body (may be NULL) of type (NULL: application/json). */
static void
call_typed(const char *method, const char *path, const char *token,
    const char *body, const char *type, struct reply *r)
{
	struct curl_slist *hd = NULL;
	char url[1024], line[4200];
	CURL *c;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 1 << 22);
	snprintf(url, sizeof(url), "%s/admin/v1/%s", h.base, path);
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		hd = curl_slist_append(hd, line);
	}
	snprintf(line, sizeof(line), "Content-Type: %s", type != NULL ? type :
	    "application/json");
	hd = curl_slist_append(hd, line);
	assert_non_null(c = curl_easy_init());
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);	/* keep "..": ours */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, head_line);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hd);
	if (r->body.data == NULL)
		assert_int_equal(buf_puts(&r->body, ""), 0);
}

static void
call(const char *method, const char *path, const char *token,
    const char *body, struct reply *r)
{
	call_typed(method, path, token, body, NULL, r);
}

static void
reply_free(struct reply *r)
{
	buf_free(&r->body);
}

/* The call answers status; the body is returned parsed. */
static json_t *
expect(const char *method, const char *path, const char *token,
    const char *body, long status)
{
	struct reply r;
	json_t *j;

	call(method, path, token, body, &r);
	if (r.status != status)
		fprintf(stderr, "%s %s: %ld %s\n", method, path, r.status,
		    r.body.data);
	assert_int_equal(r.status, status);
	assert_non_null(j = json_loads(r.body.data, 0, NULL));
	if (status >= 400) {
		assert_string_equal(r.type, "application/problem+json");
		assert_int_equal(json_integer_value(json_object_get(j,
		    "status")), status);
		assert_non_null(jstr(j, "title"));
		assert_string_equal(jstr(j, "type"), "about:blank");
	} else
		assert_string_equal(r.type, "application/json");
	reply_free(&r);
	return j;
}

static void
expect_ok(const char *method, const char *path, const char *token,
    const char *body, long status)
{
	json_decref(expect(method, path, token, body, status));
}

/* The newest audit entry, from the CLI. */
static json_t *
audit_last(void)
{
	json_t *j = run_cli_json(&h, NULL, "audit", "tail", "-n", "1", NULL);
	json_t *e = json_array_get(json_object_get(j, "entries"), 0);

	assert_non_null(e);
	json_incref(e);
	json_decref(j);
	return e;
}

/* A 403 for admin-a, recorded as admin.<verb> refused by admin:admin-a. */
static void
refused(const char *method, const char *path, const char *body,
    const char *verb, const char *subject)
{
	char action[64];
	json_t *j = expect(method, path, tok_a, body, 403), *e;

	assert_non_null(jstr(j, "detail"));
	json_decref(j);
	e = audit_last();
	snprintf(action, sizeof(action), "admin.%s", verb);
	assert_string_equal(jstr(e, "action"), action);
	assert_string_equal(jstr(e, "outcome"), "refused");
	assert_string_equal(jstr(e, "actor"), "admin:admin-a");
	assert_string_equal(jstr(e, "addr"), "127.0.0.1");
	if (subject != NULL)
		assert_string_equal(jstr(e, "subject"), subject);
	assert_non_null(jstr(e, "detail"));
	json_decref(e);
}

static void
add_app(const char *id, int admin, char *sec)
{
	json_t *j = admin ? run_cli_json(&h, NULL, "app", "add", id, "--name",
	    id, "--redirect-uri", REDIRECT, "--admin-client", NULL) :
	    run_cli_json(&h, NULL, "app", "add", id, "--name", id,
	    "--redirect-uri", REDIRECT, NULL);

	if (sec != NULL)
		str_copy(sec, jstr(j, "client_secret"), 128);
	if (admin)
		assert_true(json_is_true(json_object_get(j, "admin_client")));
	json_decref(j);
}

static void
add_user(const char *name, const char *org)
{
	static unsigned n;
	char phone[32];

	/* A phone each: the admin console asks for a second factor
	 * ([policy] admin_factors, default 2), while the harness's
	 * employee_factors = 1 lets the other app take a password alone. */
	snprintf(phone, sizeof(phone), "+30690000%04u", ++n);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add", name,
	    "--org", org, "--name", name, "--phone", phone,
	    "--password-stdin", NULL), 0);
}

static void
subscribe(const char *org, const char *app)
{
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", org, app,
	    NULL), 0);
}

/* Signs user in to client by the code flow with scope openid
 * kleidi:admin; the access token goes to tok, the granted scope to
 * scope. */
static void
token_for(const char *user, const char *pass, const char *client,
    const char *sec, char *tok, char *scope)
{
	struct browser *b = browser_new();
	char url[1024], csrf[128], code[256], otp[7];
	struct page p;
	json_t *j;

	snprintf(url, sizeof(url), "%s/authorize?response_type=code&"
	    "client_id=%s&redirect_uri=%s&scope=" SCOPE "&state=st-123&"
	    "nonce=n-456", h.base, client, REDIRECT);
	open_login(b, url, csrf, sizeof(csrf));
	post_login(b, &h, csrf, user, pass, &p);
	if (strcmp(client, "console") == 0) {
		/* The password alone is not enough for the console. */
		assert_int_equal(p.status, 200);
		assert_int_equal(html_input_value(p.body.data, "csrf", csrf,
		    sizeof(csrf)), 0);
		page_free(&p);
		outbox_code(&h, otp);
		post_otp(b, &h, csrf, "sms", otp, NULL, &p);
	}
	assert_int_equal(p.status, 302);
	assert_int_equal(url_param(p.location, "code", code, sizeof(code)), 0);
	page_free(&p);
	exchange(b, &h, client, sec, code, REDIRECT, NULL, &p);
	assert_int_equal(p.status, 200);
	j = json_of(&p);
	str_copy(tok, jstr(j, "access_token"), 4096);
	if (scope != NULL)
		str_copy(scope, jstr(j, "scope"), 256);
	json_decref(j);
	page_free(&p);
	browser_free(b);
}

static int
setup(void **state)
{
	char scope[256];

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "a", "--name",
	    "Town A", NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "b", "--name",
	    "Town B", NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "central",
	    "--name", "Operator", NULL), 0);
	add_app("console", 1, console_secret);
	add_app("plain", 0, plain_secret);
	add_app("payroll", 0, NULL);
	add_app("water", 0, NULL);
	subscribe("a", "console");
	subscribe("a", "plain");
	subscribe("a", "payroll");
	subscribe("b", "payroll");
	subscribe("b", "water");
	subscribe("central", "console");
	add_user("admin-a", "a");
	add_user("operator1", "central");
	add_user("alice", "a");
	add_user("carol", "a");
	add_user("bob", "b");
	assert_int_equal(run_cli(&h, NULL, NULL, "user", "admin", "admin-a",
	    "org-admin", NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "user", "admin", "operator1",
	    "operator", NULL), 0);
	assert_int_not_equal(run_cli(&h, NULL, NULL, "user", "admin", "bob",
	    "root", NULL), 0);
	assert_int_equal(harness_start(&h), 0);
	token_for("admin-a", PASSWORD_ENC, "console", console_secret, tok_a,
	    scope);
	assert_string_equal(scope, "openid kleidi:admin");
	token_for("operator1", PASSWORD_ENC, "console", console_secret, tok_op,
	    NULL);
	/* No admin role: the scope is dropped at the token endpoint. */
	token_for("carol", PASSWORD_ENC, "console", console_secret, tok_carol,
	    scope);
	assert_string_equal(scope, "openid");
	/* Not an admin client: the scope is never granted. */
	token_for("admin-a", PASSWORD_ENC, "plain", plain_secret, tok_plain,
	    scope);
	assert_string_equal(scope, "openid");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	harness_cleanup(&h);
	curl_global_cleanup();
	return 0;
}

static void
test_authentication(void **st)
{
	struct reply r;
	json_t *e;

	(void)st;
	call("GET", "users", NULL, NULL, &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(r.type, "application/problem+json");
	assert_int_equal(strncmp(r.www, "Bearer realm=\"kleidi\"", 21), 0);
	reply_free(&r);
	call("GET", "users", "eyJhbGciOiJub25lIn0.e30.", NULL, &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.www, "invalid_token"));
	reply_free(&r);
	call("GET", "users", tok_plain, NULL, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.www, "insufficient_scope"));
	reply_free(&r);
	e = audit_last();
	assert_string_equal(jstr(e, "action"), "admin.access");
	assert_string_equal(jstr(e, "outcome"), "refused");
	json_decref(e);
	/* carol's token has no admin scope either. */
	expect_ok("GET", "users", tok_carol, NULL, 403);
	/* An unknown path or method says so; the route comes first. */
	expect_ok("GET", "nothing", tok_a, NULL, 404);
	expect_ok("GET", "users/alice/../bob", tok_a, NULL, 404);
	call("PUT", "users", tok_a, "{}", &r);
	assert_int_equal(r.status, 405);
	reply_free(&r);
}

/* An org admin of A against B's person and everything else that is not
 * A's: each a 403, each recorded. */
static void
test_org_admin_refused(void **st)
{
	static const char reason[] = "{\"reason\":\"ticket 17\"}";
	json_t *j;

	(void)st;
	refused("GET", "users?org=b", NULL, "user.list", NULL);
	refused("GET", "users/bob", NULL, "user.read", "bob");
	refused("GET", "users/bob/grants", NULL, "user.read", "bob");
	refused("POST", "users/bob/disable", NULL, "user.disable", "bob");
	refused("POST", "users/bob/enable", NULL, "user.enable", "bob");
	refused("POST", "users/bob/grants",
	    "{\"app\":\"payroll\",\"role\":\"clerk\"}", "grant.add", "bob");
	refused("DELETE", "users/bob/grants?app=payroll&role=clerk", NULL,
	    "grant.revoke", "bob");
	refused("POST", "users/bob/password-reset", reason,
	    "user.password-reset", "bob");
	refused("POST", "users/bob/second-factor-reset", reason,
	    "user.factor-reset", "bob");
	refused("POST", "users/bob/unlock", reason, "user.unlock", "bob");
	refused("DELETE", "users/bob/sessions", NULL, "user.sessions-end",
	    "bob");
	refused("POST", "users/bob/admin", "{\"role\":\"none\"}",
	    "user.admin", "bob");
	refused("POST", "users", "{\"username\":\"newb\",\"org\":\"b\","
	    "\"name\":\"New\"}", "user.add", "newb");
	refused("GET", "audit?user=bob", NULL, "audit.read", "bob");
	/* Not in an app A does not subscribe to, not for B. */
	refused("POST", "users/alice/grants",
	    "{\"app\":\"water\",\"role\":\"clerk\"}", "grant.add", "alice");
	refused("POST", "users/alice/grants",
	    "{\"app\":\"payroll\",\"role\":\"clerk\",\"org\":\"b\"}",
	    "grant.add", "alice");
	/* Never a role above their own; not their own role. */
	refused("POST", "users/alice/admin", "{\"role\":\"operator\"}",
	    "user.admin", "alice");
	refused("POST", "users/operator1/admin", "{\"role\":\"none\"}",
	    "user.admin", "operator1");
	refused("POST", "users/admin-a/admin", "{\"role\":\"none\"}",
	    "user.admin", "admin-a");
	/* The operator's business. */
	refused("POST", "orgs", "{\"code\":\"c\",\"name\":\"C\"}", "org.add",
	    NULL);
	refused("POST", "orgs/a/subscriptions", "{\"app\":\"water\"}",
	    "org.subscribe", NULL);
	refused("POST", "apps", "{\"client_id\":\"x\",\"name\":\"X\","
	    "\"redirect_uris\":[\"https://x.example/cb\"]}", "app.add", NULL);
	refused("POST", "registry/import", "[]", "registry.import", NULL);
	/* Nothing of B's changed: the operator sees bob as before. */
	j = expect("GET", "users/bob", tok_op, NULL, 200);
	assert_false(json_is_true(json_object_get(j, "disabled")));
	assert_string_equal(jstr(j, "admin_role"), "none");
	json_decref(j);
	j = expect("GET", "users/bob/grants", tok_op, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "grants")), 0);
	json_decref(j);
}

/* Listings show an org admin only A. */
static void
test_org_admin_lists(void **st)
{
	json_t *j, *v;
	size_t i;

	(void)st;
	j = expect("GET", "orgs", tok_a, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "orgs")), 1);
	v = json_array_get(json_object_get(j, "orgs"), 0);
	assert_string_equal(jstr(v, "code"), "a");
	json_decref(j);
	j = expect("GET", "apps", tok_a, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "apps")), 3);
	json_array_foreach(json_object_get(j, "apps"), i, v)
		assert_string_not_equal(jstr(v, "client_id"), "water");
	json_decref(j);
	j = expect("GET", "users", tok_a, NULL, 200);
	json_array_foreach(json_object_get(j, "users"), i, v)
		assert_string_equal(jstr(v, "org"), "a");
	assert_true(json_array_size(json_object_get(j, "users")) >= 3);
	json_decref(j);
	j = expect("GET", "audit?limit=50", tok_a, NULL, 200);
	assert_true(json_array_size(json_object_get(j, "entries")) > 0);
	json_array_foreach(json_object_get(j, "entries"), i, v)
		assert_string_equal(jstr(v, "org"), "a");
	json_decref(j);
	j = expect("GET", "orgs", tok_op, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "orgs")), 3);
	json_decref(j);
}

/* Signs alice in with password pass: 1 when a code came back. */
static int
alice_signs_in(const char *pass)
{
	struct browser *b = browser_new();
	char url[1024], csrf[128];
	struct page p;
	int ok;

	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, sizeof(csrf));
	post_login(b, &h, csrf, "alice", pass, &p);
	ok = p.status == 302 && strstr(p.location, "code=") != NULL;
	page_free(&p);
	browser_free(b);
	return ok;
}

static void
test_org_admin_allowed(void **st)
{
	json_t *j, *e;

	(void)st;
	expect_ok("GET", "users/alice", tok_a, NULL, 200);
	expect_ok("POST", "users", tok_a, "{\"username\":\"dora\","
	    "\"org\":\"a\",\"name\":\"Dora\",\"email\":\"dora@a.example\"}",
	    201);
	expect_ok("POST", "users/alice/grants",
	    tok_a, "{\"app\":\"payroll\",\"role\":\"clerk\"}", 201);
	j = expect("GET", "users/alice/grants", tok_a, NULL, 200);
	e = json_array_get(json_object_get(j, "grants"), 0);
	assert_string_equal(jstr(e, "app"), "payroll");
	assert_string_equal(jstr(e, "role"), "clerk");
	json_decref(j);
	expect_ok("DELETE", "users/alice/grants?app=payroll&role=clerk",
	    tok_a, NULL, 200);
	expect_ok("POST", "users/alice/admin", tok_a,
	    "{\"role\":\"org-admin\"}", 200);
	expect_ok("POST", "users/alice/admin", tok_a, "{\"role\":\"none\"}",
	    200);
	/* The password reset: a temporary password that signs in, the old
	 * one no longer does, the reason in the audit entry. */
	j = expect("POST", "users/alice/password-reset",
	    tok_a, "{\"reason\":\"ticket 4711: forgot password\"}", 200);
	assert_int_equal(strlen(jstr(j, "temporary_password")), 20);
	e = audit_last();
	assert_string_equal(jstr(e, "action"), "user.password-reset");
	assert_string_equal(jstr(e, "outcome"), "ok");
	assert_string_equal(jstr(e, "actor"), "admin:admin-a");
	assert_string_equal(jstr(e, "subject"), "alice");
	assert_non_null(strstr(jstr(e, "detail"),
	    "reason: ticket 4711: forgot password"));
	assert_null(strstr(jstr(e, "detail"), jstr(j, "temporary_password")));
	json_decref(e);
	assert_false(alice_signs_in(PASSWORD_ENC));
	assert_true(alice_signs_in(jstr(j, "temporary_password")));
	json_decref(j);
	j = expect("DELETE", "users/alice/sessions", tok_a, NULL, 200);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "sessions_ended")), 1);
	json_decref(j);
	expect_ok("POST", "users/alice/second-factor-reset",
	    tok_a, "{\"reason\":\"lost phone\"}", 200);
	e = audit_last();
	assert_string_equal(jstr(e, "action"), "user.factor-reset");
	assert_non_null(strstr(jstr(e, "detail"), "reason: lost phone"));
	json_decref(e);
	expect_ok("POST", "users/alice/unlock", tok_a,
	    "{\"reason\":\"call 12\"}", 200);
	expect_ok("POST", "users/alice/disable", tok_a, NULL, 200);
	expect_ok("POST", "users/alice/enable", tok_a, NULL, 200);
	j = expect("GET", "audit?user=alice&limit=3", tok_a, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "entries")), 3);
	json_decref(j);
}

static void
test_operator_allowed(void **st)
{
	static const char reason[] = "{\"reason\":\"ticket 99\"}";
	json_t *j;

	(void)st;
	expect_ok("GET", "users?org=b", tok_op, NULL, 200);
	expect_ok("GET", "users", tok_op, NULL, 200);
	expect_ok("GET", "users/bob", tok_op, NULL, 200);
	expect_ok("POST", "users/bob/grants",
	    tok_op, "{\"app\":\"water\",\"role\":\"reader\"}", 201);
	expect_ok("GET", "users/bob/grants", tok_op, NULL, 200);
	expect_ok("DELETE", "users/bob/grants?app=water&role=reader", tok_op,
	    NULL, 200);
	/* A rule about the state of things, not a permission: 409. */
	expect_ok("POST", "users/alice/grants",
	    tok_op, "{\"app\":\"water\",\"role\":\"reader\"}", 409);
	expect_ok("POST", "users/bob/admin", tok_op, "{\"role\":\"operator\"}",
	    200);
	expect_ok("POST", "users/bob/admin", tok_op, "{\"role\":\"none\"}",
	    200);
	expect_ok("POST", "users/bob/password-reset", tok_op, reason, 200);
	expect_ok("POST", "users/bob/second-factor-reset", tok_op, reason,
	    200);
	expect_ok("POST", "users/bob/unlock", tok_op, reason, 200);
	expect_ok("DELETE", "users/bob/sessions", tok_op, NULL, 200);
	expect_ok("POST", "users/bob/disable", tok_op, NULL, 200);
	expect_ok("POST", "users/bob/enable", tok_op, NULL, 200);
	expect_ok("GET", "audit?user=bob", tok_op, NULL, 200);
	expect_ok("POST", "users", tok_op, "{\"username\":\"newb\","
	    "\"org\":\"b\",\"name\":\"New\"}", 201);
	expect_ok("POST", "orgs", tok_op,
	    "{\"code\":\"c\",\"name\":\"Town C\"}", 201);
	expect_ok("POST", "orgs", tok_op,
	    "{\"code\":\"c\",\"name\":\"Town C\"}", 409);
	expect_ok("POST", "orgs/c/subscriptions", tok_op,
	    "{\"app\":\"water\"}", 201);
	j = expect("POST", "apps", tok_op,
	    "{\"client_id\":\"parking\",\"name\":"
	    "\"Parking\",\"redirect_uris\":[\"https://p.example/cb\"]}", 201);
	assert_int_equal(strlen(jstr(j, "client_secret")), 43);
	json_decref(j);
	/* The registry import: a plan, and a bad row named. */
	j = expect("POST", "registry/import?dry_run=true", tok_op,
	    "{\"employees\":[]}", 200);
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	assert_int_equal(json_integer_value(json_object_get(j, "rows")), 0);
	json_decref(j);
	j = expect("POST", "registry/import", tok_op,
	    "{\"employees\":[{\"registry_no\":\"r-1\"}]}", 400);
	assert_true(json_array_size(json_object_get(j, "errors")) > 0);
	json_decref(j);
}

/* The role and the account are read on every request, not from the
 * token. */
static void
test_revocation(void **st)
{
	(void)st;
	expect_ok("POST", "users/admin-a/admin", tok_op, "{\"role\":\"none\"}",
	    200);
	expect_ok("GET", "users/alice", tok_a, NULL, 403);
	expect_ok("POST", "users/admin-a/admin", tok_op,
	    "{\"role\":\"org-admin\"}", 200);
	expect_ok("GET", "users/alice", tok_a, NULL, 200);
	expect_ok("POST", "users/admin-a/disable", tok_op, NULL, 200);
	expect_ok("GET", "users/alice", tok_a, NULL, 401);
	expect_ok("POST", "users/admin-a/enable", tok_op, NULL, 200);
	expect_ok("GET", "users/alice", tok_a, NULL, 200);
}

static void
test_bad_input(void **st)
{
	struct reply r;

	(void)st;
	/* Help-desk actions need a reason. */
	expect_ok("POST", "users/alice/password-reset", tok_a, "{}", 400);
	expect_ok("POST", "users/alice/unlock", tok_a, "{\"reason\":\"\"}",
	    400);
	expect_ok("POST", "users/alice/second-factor-reset",
	    tok_a, "{\"reason\":\"  \"}", 400);
	expect_ok("POST", "users/alice/unlock", tok_a, "{\"reason\":7}", 400);
	expect_ok("POST", "users/alice/unlock", tok_a, NULL, 400);
	/* Malformed JSON, repeated or unknown members, wrong types. */
	expect_ok("POST", "users/alice/grants", tok_a, "{\"app\":", 400);
	expect_ok("POST", "users/alice/grants", tok_a, "[1]", 400);
	expect_ok("POST", "users/alice/grants", tok_a, "{\"app\":\"payroll\","
	    "\"app\":\"water\",\"role\":\"x\"}", 400);
	expect_ok("POST", "users/alice/grants", tok_a, "{\"app\":\"payroll\","
	    "\"role\":\"x\",\"admin\":true}", 400);
	expect_ok("POST", "users/alice/grants", tok_a,
	    "{\"app\":1,\"role\":\"x\"}", 400);
	expect_ok("POST", "users/alice/admin", tok_a, "{\"role\":\"root\"}",
	    400);
	expect_ok("GET", "audit?limit=0", tok_a, NULL, 400);
	expect_ok("GET", "audit?limit=5&limit=6", tok_a, NULL, 400);
	expect_ok("GET", "users/nobody", tok_a, NULL, 404);
	call_typed("POST", "users/alice/unlock", tok_a, "reason=x",
	    "application/x-www-form-urlencoded", &r);
	assert_int_equal(r.status, 415);
	reply_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authentication),
		cmocka_unit_test(test_org_admin_refused),
		cmocka_unit_test(test_org_admin_lists),
		cmocka_unit_test(test_org_admin_allowed),
		cmocka_unit_test(test_operator_allowed),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests_name("admin", tests, setup, teardown);
}
