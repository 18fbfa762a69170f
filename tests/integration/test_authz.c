/*
 * test_authz.c - the authorization request's OpenID Connect parameters
 * against the real server: prompt (none, login, consent, select_account,
 * unknown), max_age, id_token_hint, the claims parameter, registration,
 * and the consent page of a citizen e-service (Allow and Deny).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "kleidi.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define PASSWORD "correct horse battery"
#define PASSWORD_ENC "correct%20horse%20battery"
#define TAXID "123456783"
/* {"id_token":{"email":null}} */
#define CLAIMS_EMAIL "&claims=%7B%22id_token%22%3A%7B%22email%22%3Anull%7D%7D"

static struct harness h;
static char wiki_sec[128], eserv_sec[128];
static kl_verifier *verifier;

static void
add_app(const char *id, const char *audience, char *sec)
{
	json_t *j = run_cli_json(&h, NULL, "app", "add", id, "--name", id,
	    "--redirect-uri", REDIRECT, "--audience", audience, NULL);

	str_copy(sec, jstr(j, "client_secret"), 128);
	json_decref(j);
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
	add_app("wiki", "employees", wiki_sec);
	add_app("eservice", "citizens", eserv_sec);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town",
	    "wiki", NULL), 0);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add",
	    "maria", "--org", "town", "--name", "Maria P", "--email",
	    "maria@example.gr", "--password-stdin", NULL), 0);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add",
	    "nikos", "--org", "town", "--name", "Nikos K",
	    "--password-stdin", NULL), 0);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "citizen", "add",
	    TAXID, "--name", "Eleni Georgiou", "--phone", "+306900000077",
	    "--password-stdin", NULL), 0);
	assert_int_equal(harness_start(&h), 0);
	snprintf(url, sizeof(url), "%s/jwks", h.base);
	assert_non_null(verifier = kl_verifier_new_url(h.issuer, url, NULL,
	    &err));
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

/* GET /authorize for client with extra parameters. */
static void
authorize(struct browser *b, const char *client, const char *extra,
    struct page *p)
{
	char url[2048];

	authorize_url(&h, url, sizeof(url), client, REDIRECT, NULL, extra);
	assert_int_equal(browser_get(b, url, NULL, p), 0);
}

/* A 302 to the client carrying error want and our state. */
static void
expect_error(struct page *p, const char *want)
{
	char v[256];

	assert_int_equal(p->status, 302);
	assert_int_equal(strncmp(p->location, REDIRECT, strlen(REDIRECT)), 0);
	assert_int_equal(url_param(p->location, "error", v, sizeof(v)), 0);
	assert_string_equal(v, want);
	assert_int_equal(url_param(p->location, "state", v, sizeof(v)), 0);
	assert_string_equal(v, "st-123");
	assert_int_equal(url_param(p->location, "code", v, sizeof(v)), -1);
	page_free(p);
}

/* A 302 to the client with a code, into code. */
static void
expect_code(struct page *p, char *code, size_t size)
{
	assert_int_equal(p->status, 302);
	assert_int_equal(url_param(p->location, "code", code, size), 0);
	page_free(p);
}

/* The sign-in page: its csrf into csrf. */
static void
expect_form(struct page *p, char *csrf, size_t size)
{
	assert_int_equal(p->status, 200);
	assert_non_null(strstr(p->body.data, "name=\"password\""));
	assert_int_equal(html_input_value(p->body.data, "csrf", csrf, size),
	    0);
}

/* Signs user in to wiki (employees, one factor) with extra; the code. */
static void
sign_in(struct browser *b, const char *user, const char *extra, char *code,
    size_t size)
{
	struct page p;
	char csrf[128];

	authorize(b, "wiki", extra, &p);
	expect_form(&p, csrf, sizeof(csrf));
	page_free(&p);
	post_login(b, &h, csrf, user, PASSWORD_ENC, &p);
	expect_code(&p, code, size);
}

/* Redeems code at wiki; the verified ID token's claims and its text. */
static kl_claims *
redeem(struct browser *b, const char *code, char *id_token, size_t size)
{
	struct page p;
	kl_claims *c = NULL;
	kl_error err;
	json_t *j;

	exchange(b, &h, "wiki", wiki_sec, code, REDIRECT, NULL, &p);
	assert_int_equal(p.status, 200);
	j = json_of(&p);
	assert_int_equal(kl_verify_id_token(verifier, jstr(j, "id_token"),
	    "wiki", "n-456", &c, &err), KL_OK);
	if (id_token != NULL)
		str_copy(id_token, jstr(j, "id_token"), size);
	json_decref(j);
	page_free(&p);
	return c;
}

static void
test_prompt_none(void **state)
{
	struct browser *b = browser_new();
	struct page p;
	char code[128];
	kl_claims *c;

	(void)state;
	authorize(b, "wiki", "&prompt=none", &p);
	expect_error(&p, "login_required");
	sign_in(b, "maria", NULL, code, sizeof(code));
	kl_claims_free(redeem(b, code, NULL, 0));
	authorize(b, "wiki", "&prompt=none", &p);
	expect_code(&p, code, sizeof(code));
	c = redeem(b, code, NULL, 0);
	assert_string_equal(kl_claims_acr(c),
	    "http://eidas.europa.eu/LoA/low");
	assert_true(kl_claims_auth_time(c) > 0);
	kl_claims_free(c);
	/* none cannot go with another value; unknown values are refused */
	authorize(b, "wiki", "&prompt=none%20login", &p);
	expect_error(&p, "invalid_request");
	authorize(b, "wiki", "&prompt=create", &p);
	expect_error(&p, "invalid_request");
	authorize(b, "wiki", "&registration=%7B%7D", &p);
	expect_error(&p, "registration_not_supported");
	/* an unknown parameter changes nothing */
	authorize(b, "wiki", "&prompt=none&frobnicate=1", &p);
	expect_code(&p, code, sizeof(code));
	browser_free(b);
}

static void
test_reauthentication(void **state)
{
	struct browser *b = browser_new();
	struct page p;
	char code[128], csrf[128], sid1[128], sid2[128], v[128];
	kl_claims *c;
	int64_t t1;

	(void)state;
	sign_in(b, "maria", NULL, code, sizeof(code));
	c = redeem(b, code, NULL, 0);
	t1 = kl_claims_auth_time(c);
	kl_claims_free(c);
	assert_int_equal(browser_cookie(b, "kleidi_sid", sid1, 128), 0);
	/* a generous max_age: the session serves at once */
	authorize(b, "wiki", "&max_age=86400", &p);
	expect_code(&p, code, sizeof(code));
	c = redeem(b, code, NULL, 0);
	assert_int_equal(kl_claims_auth_time(c), t1);
	kl_claims_free(c);
	/* max_age=0 and prompt=login: the form, even with a session */
	authorize(b, "wiki", "&max_age=0", &p);
	expect_form(&p, csrf, sizeof(csrf));
	page_free(&p);
	authorize(b, "wiki", "&max_age=0&prompt=none", &p);
	expect_error(&p, "login_required");
	authorize(b, "wiki", "&max_age=-5", &p);
	expect_error(&p, "invalid_request");
	authorize(b, "wiki", "&prompt=login", &p);
	expect_form(&p, csrf, sizeof(csrf));
	page_free(&p);
	post_login(b, &h, csrf, "maria", PASSWORD_ENC, &p);
	expect_code(&p, code, sizeof(code));
	c = redeem(b, code, NULL, 0);
	assert_true(kl_claims_auth_time(c) >= t1);
	kl_claims_free(c);
	/* the new sign-in replaced the session: the old id is dead */
	assert_int_equal(browser_cookie(b, "kleidi_sid", sid2, 128), 0);
	assert_string_not_equal(sid1, sid2);
	/* select_account: the form, with the current account filled in */
	authorize(b, "wiki", "&prompt=select_account", &p);
	expect_form(&p, csrf, sizeof(csrf));
	assert_int_equal(html_input_value(p.body.data, "username", v,
	    sizeof(v)), 0);
	assert_string_equal(v, "maria");
	page_free(&p);
	browser_free(b);
}

static void
test_id_token_hint(void **state)
{
	struct browser *b = browser_new(), *other = browser_new();
	struct page p;
	char code[128], mine[4096], his[4096], extra[4300];
	kl_claims *c;

	(void)state;
	sign_in(b, "maria", NULL, code, sizeof(code));
	kl_claims_free(redeem(b, code, mine, sizeof(mine)));
	sign_in(other, "nikos", NULL, code, sizeof(code));
	kl_claims_free(redeem(other, code, his, sizeof(his)));
	snprintf(extra, sizeof(extra), "&prompt=none&id_token_hint=%s", mine);
	authorize(b, "wiki", extra, &p);
	expect_code(&p, code, sizeof(code));
	c = redeem(b, code, NULL, 0);
	kl_claims_free(c);
	/* the hint names another person than the session's */
	snprintf(extra, sizeof(extra), "&prompt=none&id_token_hint=%s", his);
	authorize(b, "wiki", extra, &p);
	expect_error(&p, "login_required");
	snprintf(extra, sizeof(extra), "&id_token_hint=%s", his);
	authorize(b, "wiki", extra, &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "name=\"password\""));
	page_free(&p);
	/* not a token of ours */
	authorize(b, "wiki", "&prompt=none&id_token_hint=e30.e30.AAAA", &p);
	expect_error(&p, "invalid_request");
	/* a tampered signature */
	mine[strlen(mine) - 2] = mine[strlen(mine) - 2] == 'A' ? 'B' : 'A';
	snprintf(extra, sizeof(extra), "&prompt=none&id_token_hint=%s", mine);
	authorize(b, "wiki", extra, &p);
	expect_error(&p, "invalid_request");
	browser_free(other);
	browser_free(b);
}

static void
test_claims_parameter(void **state)
{
	struct browser *b = browser_new();
	struct page p;
	char code[128];
	kl_claims *c;

	(void)state;
	sign_in(b, "maria", CLAIMS_EMAIL, code, sizeof(code));
	c = redeem(b, code, NULL, 0);
	assert_non_null(kl_claims_string(c, "email"));
	assert_string_equal(kl_claims_string(c, "email"),
	    "maria@example.gr");
	assert_null(kl_claims_string(c, "name"));
	kl_claims_free(c);
	authorize(b, "wiki", NULL, &p);
	expect_code(&p, code, sizeof(code));
	c = redeem(b, code, NULL, 0);
	assert_null(kl_claims_string(c, "email"));
	kl_claims_free(c);
	authorize(b, "wiki", "&claims=%7Bnot%20json", &p);
	expect_error(&p, "invalid_request");
	browser_free(b);
}

/* POSTs the consent form with decision. */
static void
decide(struct browser *b, const char *csrf, const char *decision,
    struct page *out)
{
	char url[256], body[256];

	snprintf(url, sizeof(url), "%s/consent", h.base);
	snprintf(body, sizeof(body), "csrf=%s&decision=%s", csrf, decision);
	assert_int_equal(browser_post(b, url, NULL, body, out), 0);
}

/* The consent page: exactly one form, both buttons; csrf into csrf. */
static void
expect_consent(struct page *p, char *csrf, size_t size)
{
	assert_int_equal(p->status, 200);
	assert_int_equal(count_of(p->body.data, "<form"), 1);
	assert_non_null(strstr(p->body.data, "action=\"/consent\""));
	assert_non_null(strstr(p->body.data, "value=\"allow\""));
	assert_non_null(strstr(p->body.data, "value=\"deny\""));
	assert_int_equal(html_input_value(p->body.data, "csrf", csrf, size),
	    0);
	page_free(p);
}

static void
test_citizen_consent(void **state)
{
	struct browser *b = browser_new();
	struct page p;
	char csrf[128], ccsrf[128], otp[7], code[128];

	(void)state;
	authorize(b, "eservice", NULL, &p);
	expect_form(&p, csrf, sizeof(csrf));
	page_free(&p);
	post_login(b, &h, csrf, TAXID, PASSWORD_ENC, &p);
	assert_int_equal(p.status, 200);
	page_free(&p);
	outbox_code(&h, otp);
	post_otp(b, &h, csrf, "sms", otp, NULL, &p);
	expect_consent(&p, ccsrf, sizeof(ccsrf));
	/* a bad decision changes nothing; deny reaches the app */
	decide(b, ccsrf, "maybe", &p);
	assert_int_equal(p.status, 400);
	page_free(&p);
	decide(b, ccsrf, "deny", &p);
	expect_error(&p, "access_denied");
	/* the flow is spent */
	decide(b, ccsrf, "allow", &p);
	assert_int_equal(p.status, 400);
	page_free(&p);
	/* signed in, but not agreed: prompt=none cannot ask */
	authorize(b, "eservice", "&prompt=none", &p);
	expect_error(&p, "consent_required");
	authorize(b, "eservice", NULL, &p);
	expect_consent(&p, ccsrf, sizeof(ccsrf));
	decide(b, ccsrf, "allow", &p);
	expect_code(&p, code, sizeof(code));
	/* agreed once: no page again, not even for prompt=none */
	authorize(b, "eservice", "&prompt=none", &p);
	expect_code(&p, code, sizeof(code));
	/* asking for more (the phone, by the claims parameter) asks again */
	authorize(b, "eservice", "&claims=%7B%22userinfo%22%3A%7B%22"
	    "phone_number%22%3Anull%7D%7D", &p);
	expect_consent(&p, ccsrf, sizeof(ccsrf));
	browser_free(b);
}

static void
test_employee_consent(void **state)
{
	struct browser *b = browser_new();
	struct page p;
	char code[128], ccsrf[128];

	(void)state;
	sign_in(b, "maria", NULL, code, sizeof(code));
	/* an employee app never asks, unless prompt=consent */
	authorize(b, "wiki", "&prompt=consent", &p);
	expect_consent(&p, ccsrf, sizeof(ccsrf));
	decide(b, ccsrf, "allow", &p);
	expect_code(&p, code, sizeof(code));
	kl_claims_free(redeem(b, code, NULL, 0));
	browser_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prompt_none),
		cmocka_unit_test(test_reauthentication),
		cmocka_unit_test(test_id_token_hint),
		cmocka_unit_test(test_claims_parameter),
		cmocka_unit_test(test_citizen_consent),
		cmocka_unit_test(test_employee_consent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
