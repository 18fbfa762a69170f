/*
 * test_tokens.c - refresh tokens, revocation, introspection and
 * client_credentials against the real server: rotation and replay over
 * HTTP, revoke then introspect, another client's introspection, and a
 * client_credentials token verified with the SDK carrying the client's
 * roles, issued without a store write; and refresh chains rotated side by
 * side, through the write workers and the store's group commit.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "kleidi.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define PASSWORD "correct horse battery"
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static struct harness h;
static char payroll_sec[128], water_sec[128];
static kl_verifier *verifier;

static void
app_add(const char *id, int refresh, char *secret)
{
	json_t *j;

	j = refresh ? run_cli_json(&h, NULL, "app", "add", id, "--name", id,
	    "--redirect-uri", REDIRECT, "--refresh", NULL) :
	    run_cli_json(&h, NULL, "app", "add", id, "--name", id,
	    "--redirect-uri", REDIRECT, NULL);
	assert_int_equal(json_is_true(json_object_get(j, "refresh")), refresh);
	str_copy(secret, jstr(j, "client_secret"), 128);
	json_decref(j);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town",
	    id, NULL), 0);
}

static int
setup(void **state)
{
	char url[256];
	kl_error err;

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "town",
	    "--name", "Town", NULL), 0);
	app_add("payroll", 1, payroll_sec);
	app_add("water", 0, water_sec);
	assert_int_equal(run_cli(&h, NULL, NULL, "app", "add", "spa",
	    "--name", "SPA", "--redirect-uri", REDIRECT, "--public", NULL), 0);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add",
	    "maria", "--org", "town", "--name", "Maria", "--password-stdin",
	    NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "add", "maria",
	    "payroll", "clerk", NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "client", "payroll",
	    "sync", NULL), 0);
	/* A public client cannot hold roles of its own. */
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "client", "spa",
	    "sync", NULL), 1);
	assert_int_equal(harness_start(&h), 0);
	snprintf(url, sizeof(url), "%s/jwks", h.base);
	verifier = kl_verifier_new_url(h.issuer, url, NULL, &err);
	assert_non_null(verifier);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	kl_verifier_free(verifier);
	harness_cleanup(&h);
	return 0;
}

/* Signs maria in to client and exchanges the code. */
static json_t *
sign_in_tokens(const char *client, const char *sec)
{
	char url[1024], csrf[128], code[128];
	struct browser *b = browser_new();
	struct page p, q;
	json_t *j;

	snprintf(url, sizeof(url), "%s/authorize?response_type=code&"
	    "client_id=%s&redirect_uri=%s&scope=openid%%20offline_access&"
	    "state=st-1&code_challenge_method=S256&code_challenge=%s", h.base,
	    client, REDIRECT, CHALLENGE);
	open_login(b, url, csrf, sizeof(csrf));
	post_login(b, &h, csrf, "maria", "correct%20horse%20battery", &p);
	assert_int_equal(p.status, 302);
	assert_int_equal(url_param(p.location, "code", code, sizeof(code)), 0);
	exchange(b, &h, client, sec, code, REDIRECT, VERIFIER, &q);
	assert_int_equal(q.status, 200);
	j = json_of(&q);
	page_free(&p);
	page_free(&q);
	browser_free(b);
	return j;
}

/* POSTs body to path with client_secret_basic; returns the status. */
static long
post(const char *path, const char *client, const char *sec,
    const char *body, json_t **out)
{
	char url[256], auth[512];
	struct browser *b = browser_new();
	struct page p;
	long status;

	snprintf(url, sizeof(url), "%s%s", h.base, path);
	basic_auth(auth, sizeof(auth), client, sec);
	assert_int_equal(browser_post(b, url, auth, body, &p), 0);
	status = p.status;
	*out = p.body.len > 0 ? json_loads(p.body.data, 0, NULL) : NULL;
	page_free(&p);
	browser_free(b);
	return status;
}

static long
refresh(const char *token, json_t **out)
{
	char body[256];

	snprintf(body, sizeof(body), "grant_type=refresh_token&"
	    "refresh_token=%s", token);
	return post("/token", "payroll", payroll_sec, body, out);
}

static int
introspect_active(const char *client, const char *sec, const char *token,
    json_t **out)
{
	char body[4096];
	json_t *j;
	int active;

	snprintf(body, sizeof(body), "token=%s", token);
	assert_int_equal(post("/introspect", client, sec, body, &j), 200);
	assert_non_null(j);
	active = json_is_true(json_object_get(j, "active"));
	if (out != NULL)
		*out = j;
	else
		json_decref(j);
	return active;
}

static void
test_refresh_rotation_and_reuse(void **state)
{
	json_t *t = sign_in_tokens("payroll", payroll_sec), *r1, *r2, *e;
	char rt0[64], rt1[64];
	struct buf log;
	kl_claims *c = NULL;
	kl_error err;

	(void)state;
	assert_non_null(jstr(t, "refresh_token"));
	assert_string_equal(jstr(t, "scope"), "openid offline_access");
	str_copy(rt0, jstr(t, "refresh_token"), sizeof(rt0));
	assert_int_equal(refresh(rt0, &r1), 200);
	str_copy(rt1, jstr(r1, "refresh_token"), sizeof(rt1));
	assert_string_not_equal(rt0, rt1);
	assert_int_equal(kl_verify_access_token(verifier,
	    jstr(r1, "access_token"), "payroll", &c, &err), KL_OK);
	assert_true(kl_claims_has_role(c, "clerk"));
	kl_claims_free(c);
	assert_int_equal(kl_verify_id_token(verifier, jstr(r1, "id_token"),
	    "payroll", NULL, &c, &err), KL_OK);
	kl_claims_free(c);
	/* Replay of the used token: refused, and the family is gone. */
	assert_int_equal(refresh(rt0, &e), 400);
	assert_string_equal(jstr(e, "error"), "invalid_grant");
	json_decref(e);
	assert_int_equal(refresh(rt1, &r2), 400);
	assert_string_equal(jstr(r2, "error"), "invalid_grant");
	json_decref(r2);
	buf_init(&log, 1 << 20);
	assert_int_equal(run_cli(&h, NULL, &log, "audit", "tail", "-n", "20",
	    NULL), 0);
	assert_non_null(strstr(log.data, "token.refresh_reuse"));
	buf_free(&log);
	json_decref(r1);
	json_decref(t);
}

/* ---- refresh chains side by side: the grants run on the write workers
 * (http.h, Offload) and share commits (store_write); each answer must
 * reach its own connection and carry a token never handed out before. */

#define CHAINS 4
#define ROTATIONS 8

struct chain {
	char tokens[ROTATIONS + 1][64];	/* [0] from the sign-in */
	pthread_t t;
	int done;		/* rotations answered 200 */
	long status;		/* the first other answer, or 0 */
};

/* No cmocka asserts off the main thread: the results go in the struct. */
static void *
chain_run(void *arg)
{
	struct chain *c = arg;
	char url[256], auth[512], body[256];
	struct browser *b = browser_new();
	const char *next;
	struct page p;
	json_t *j;

	snprintf(url, sizeof(url), "%s/token", h.base);
	basic_auth(auth, sizeof(auth), "payroll", payroll_sec);
	while (b != NULL && c->done < ROTATIONS && c->status == 0) {
		snprintf(body, sizeof(body), "grant_type=refresh_token&"
		    "refresh_token=%s", c->tokens[c->done]);
		if (browser_post(b, url, auth, body, &p) != 0) {
			c->status = -1;
			break;
		}
		j = p.status == 200 ? json_loads(p.body.data, 0, NULL) : NULL;
		next = j != NULL ? json_string_value(json_object_get(j,
		    "refresh_token")) : NULL;
		if (next != NULL && strlen(next) < sizeof(c->tokens[0]))
			str_copy(c->tokens[++c->done], next,
			    sizeof(c->tokens[0]));
		else
			c->status = p.status != 200 ? p.status : -2;
		json_decref(j);
		page_free(&p);
	}
	browser_free(b);
	return NULL;
}

static void
test_refresh_concurrent(void **state)
{
	static struct chain chains[CHAINS];
	const char *all[CHAINS * (ROTATIONS + 1)];
	json_t *t;
	size_t i, k, n = 0;

	(void)state;
	memset(chains, 0, sizeof(chains));
	for (i = 0; i < CHAINS; i++) {
		t = sign_in_tokens("payroll", payroll_sec);
		str_copy(chains[i].tokens[0], jstr(t, "refresh_token"),
		    sizeof(chains[i].tokens[0]));
		json_decref(t);
	}
	for (i = 0; i < CHAINS; i++)
		assert_int_equal(pthread_create(&chains[i].t, NULL, chain_run,
		    &chains[i]), 0);
	for (i = 0; i < CHAINS; i++) {
		assert_int_equal(pthread_join(chains[i].t, NULL), 0);
		assert_int_equal(chains[i].status, 0);
		assert_int_equal(chains[i].done, ROTATIONS);
	}
	/* Every token handed out once; the last of each chain still good. */
	for (i = 0; i < CHAINS; i++) {
		for (k = 0; k <= ROTATIONS; k++)
			all[n++] = chains[i].tokens[k];
	}
	for (i = 0; i < n; i++) {
		for (k = i + 1; k < n; k++)
			assert_string_not_equal(all[i], all[k]);
	}
	for (i = 0; i < CHAINS; i++) {
		assert_int_equal(refresh(chains[i].tokens[ROTATIONS], &t), 200);
		json_decref(t);
	}
}

static void
test_no_refresh_without_flag(void **state)
{
	json_t *t = sign_in_tokens("water", water_sec);

	(void)state;
	assert_null(json_object_get(t, "refresh_token"));
	/* offline_access is not granted to an app without refresh tokens. */
	assert_string_equal(jstr(t, "scope"), "openid");
	json_decref(t);
}

static void
test_revoke_then_introspect(void **state)
{
	json_t *t = sign_in_tokens("payroll", payroll_sec), *j, *e;
	const char *rt = jstr(t, "refresh_token"), *at = jstr(t,
	    "access_token");
	char body[256];

	(void)state;
	assert_true(introspect_active("payroll", payroll_sec, rt, &j));
	assert_string_equal(jstr(j, "client_id"), "payroll");
	assert_string_equal(jstr(j, "username"), "maria");
	json_decref(j);
	assert_true(introspect_active("payroll", payroll_sec, at, &j));
	assert_string_equal(jstr(j, "org"), "town");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(j, "roles"), 0)), "clerk");
	json_decref(j);
	/* Another client learns nothing of payroll's tokens. */
	assert_false(introspect_active("water", water_sec, rt, &j));
	assert_int_equal(json_object_size(j), 1);
	json_decref(j);
	assert_false(introspect_active("water", water_sec, at, NULL));
	/* Nor may water revoke them. */
	snprintf(body, sizeof(body), "token=%s&token_type_hint=refresh_token",
	    rt);
	assert_int_equal(post("/revoke", "water", water_sec, body, &e), 200);
	json_decref(e);
	assert_true(introspect_active("payroll", payroll_sec, rt, NULL));
	assert_int_equal(post("/revoke", "payroll", payroll_sec, body, &e),
	    200);
	json_decref(e);
	assert_false(introspect_active("payroll", payroll_sec, rt, NULL));
	assert_int_equal(refresh(rt, &e), 400);
	json_decref(e);
	/* Unknown tokens: 200 all the same; a wrong secret: 401. */
	assert_int_equal(post("/revoke", "payroll", payroll_sec, "token=nope",
	    &e), 200);
	json_decref(e);
	assert_int_equal(post("/revoke", "payroll", "wrong", "token=nope",
	    &e), 401);
	json_decref(e);
	assert_int_equal(post("/introspect", "payroll", "wrong", "token=x",
	    &e), 401);
	json_decref(e);
	json_decref(t);
}

/* The SDK's introspection call, as an app that must see revocation at
 * once would use it. */
static void
test_sdk_introspect(void **state)
{
	json_t *t = sign_in_tokens("payroll", payroll_sec), *e;
	const char *rt = jstr(t, "refresh_token"), *at = jstr(t,
	    "access_token");
	char url[256], body[256];
	kl_claims *c = NULL;
	kl_error err;
	int active = -1;

	(void)state;
	snprintf(url, sizeof(url), "%s/introspect", h.base);
	assert_int_equal(kl_introspect(url, "payroll", payroll_sec, at, NULL,
	    &active, &c, &err), KL_OK);
	assert_int_equal(active, 1);
	assert_non_null(c);
	assert_string_equal(kl_claims_client_id(c), "payroll");
	assert_true(kl_claims_has_role(c, "clerk"));
	kl_claims_free(c);
	/* Another client's view of it: inactive, and no claims. */
	c = (kl_claims *)1;
	assert_int_equal(kl_introspect(url, "water", water_sec, at, NULL,
	    &active, &c, &err), KL_OK);
	assert_int_equal(active, 0);
	assert_null(c);
	/* Revoked: inactive at once. */
	snprintf(body, sizeof(body), "token=%s", rt);
	assert_int_equal(post("/revoke", "payroll", payroll_sec, body, &e),
	    200);
	json_decref(e);
	assert_int_equal(kl_introspect(url, "payroll", payroll_sec, rt, NULL,
	    &active, NULL, &err), KL_OK);
	assert_int_equal(active, 0);
	/* Could not ask (wrong secret: 401; nobody listening): an error,
	 * never an answer either way. */
	active = -1;
	assert_int_equal(kl_introspect(url, "payroll", "wrong", at, NULL,
	    &active, NULL, &err), KL_ERR_FETCH);
	assert_int_equal(active, 0);
	assert_int_equal(kl_introspect("http://127.0.0.1:9/introspect",
	    "payroll", payroll_sec, at, NULL, &active, NULL, &err),
	    KL_ERR_FETCH);
	assert_int_equal(kl_introspect("http://example.org/introspect",
	    "payroll", payroll_sec, at, NULL, &active, NULL, &err),
	    KL_ERR_ARGUMENT);
	assert_int_equal(kl_introspect(url, "payroll", payroll_sec, NULL, NULL,
	    &active, NULL, &err), KL_ERR_ARGUMENT);
	json_decref(t);
}

static void
test_client_credentials(void **state)
{
	unsigned char before[32], after[32];
	kl_claims *c = NULL;
	kl_error err;
	json_t *j;

	(void)state;
	assert_int_equal(harness_store_digest(&h, before), 0);
	assert_int_equal(post("/token", "payroll", payroll_sec,
	    "grant_type=client_credentials", &j), 200);
	assert_int_equal(harness_store_digest(&h, after), 0);
	assert_memory_equal(before, after, 32);
	assert_null(json_object_get(j, "refresh_token"));
	assert_int_equal(kl_verify_access_token(verifier,
	    jstr(j, "access_token"), "payroll", &c, &err), KL_OK);
	assert_string_equal(kl_claims_sub(c), "payroll");
	assert_string_equal(kl_claims_client_id(c), "payroll");
	assert_true(kl_claims_has_role(c, "sync"));
	assert_false(kl_claims_has_role(c, "clerk"));
	kl_claims_free(c);
	assert_true(introspect_active("payroll", payroll_sec,
	    jstr(j, "access_token"), NULL));
	json_decref(j);
	/* water holds no role of its own: an empty list. */
	assert_int_equal(post("/token", "water", water_sec,
	    "grant_type=client_credentials", &j), 200);
	assert_int_equal(kl_verify_access_token(verifier,
	    jstr(j, "access_token"), "water", &c, &err), KL_OK);
	assert_int_equal(kl_claims_array_len(c, "roles"), 0);
	kl_claims_free(c);
	json_decref(j);
	assert_int_equal(post("/token", "payroll", payroll_sec,
	    "grant_type=client_credentials&scope=openid", &j), 400);
	assert_string_equal(jstr(j, "error"), "invalid_scope");
	json_decref(j);
}

static void
test_discovery(void **state)
{
	struct browser *b = browser_new();
	char url[256];
	struct page p;
	json_t *d;

	(void)state;
	snprintf(url, sizeof(url), "%s/.well-known/openid-configuration",
	    h.base);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	d = json_of(&p);
	assert_non_null(strstr(p.body.data, "\"refresh_token\""));
	assert_non_null(strstr(p.body.data, "\"client_credentials\""));
	assert_non_null(strstr(p.body.data, "\"offline_access\""));
	assert_non_null(jstr(d, "revocation_endpoint"));
	assert_non_null(jstr(d, "introspection_endpoint"));
	json_decref(d);
	page_free(&p);
	browser_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh_rotation_and_reuse),
		cmocka_unit_test(test_refresh_concurrent),
		cmocka_unit_test(test_no_refresh_without_flag),
		cmocka_unit_test(test_revoke_then_introspect),
		cmocka_unit_test(test_sdk_introspect),
		cmocka_unit_test(test_client_credentials),
		cmocka_unit_test(test_discovery),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
