/*
 * test_mfa.c - the foundation's flow again with a second factor: TOTP from
 * an authenticator secret enrolled by the operator, an SMS code read from
 * the file outbox, a recovery code; step-up from a one-factor session;
 * lockout; the audit chain; and a scan of the raw store for any secret the
 * session handled.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <liboath/oath.h>

#include "harness.h"
#include "kleidi.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define PASSWORD "correct horse battery"
#define PASSWORD_ENC "correct%20horse%20battery"
#define SUBSTANTIAL "http://eidas.europa.eu/LoA/substantial"

static struct harness h;
static char secret[128];		/* payroll's client secret */
static char wiki_secret[128];
static char totp_b32[64];		/* maria's authenticator secret */
static char eleni_b32[64];		/* eleni's */
static kl_verifier *verifier;
/* Everything secret this test handled, for the store scan. */
static char seen[64][512];
static size_t nseen;

static void
remember(const char *s)
{
	if (nseen < 64 && s != NULL && strlen(s) >= 6)
		str_copy(seen[nseen++], s, sizeof(seen[0]));
}

static void
add_app(const char *id, int two, char *sec)
{
	json_t *j = two ? run_cli_json(&h, NULL, "app", "add", id, "--name",
	    id, "--redirect-uri", REDIRECT, "--require-2fa", NULL) :
	    run_cli_json(&h, NULL, "app", "add", id, "--name", id,
	    "--redirect-uri", REDIRECT, NULL);

	str_copy(sec, jstr(j, "client_secret"), 128);
	remember(sec);
	json_decref(j);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town",
	    id, NULL), 0);
}

static void
add_user(const char *name, const char *phone)
{
	assert_int_equal(phone ? run_cli(&h, PASSWORD "\n", NULL, "user",
	    "add", name, "--org", "town", "--name", name, "--phone", phone,
	    "--password-stdin", NULL) : run_cli(&h, PASSWORD "\n", NULL,
	    "user", "add", name, "--org", "town", "--name", name,
	    "--password-stdin", NULL), 0);
}

static int
setup(void **state)
{
	char url[256];
	json_t *j;
	kl_error err;

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	remember(PASSWORD);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "town",
	    "--name", "Town", NULL), 0);
	add_app("payroll", 1, secret);		/* asks for two factors */
	add_app("wiki", 0, wiki_secret);
	add_user("maria", NULL);		/* TOTP */
	add_user("nikos", "+306900000001");	/* SMS */
	add_user("eleni", NULL);		/* TOTP, step-up */
	add_user("nofactor", NULL);
	j = run_cli_json(&h, NULL, "user", "totp", "maria", NULL);
	str_copy(totp_b32, jstr(j, "secret"), sizeof(totp_b32));
	remember(totp_b32);
	assert_non_null(strstr(jstr(j, "otpauth_uri"), "otpauth://totp/"));
	json_decref(j);
	j = run_cli_json(&h, NULL, "user", "totp", "eleni", NULL);
	str_copy(eleni_b32, jstr(j, "secret"), sizeof(eleni_b32));
	remember(eleni_b32);
	json_decref(j);
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

/* The TOTP code of secret b32 for the step `offset` steps from now. */
static void
totp_code(const char *b32, int offset, char out[7])
{
	char *key = NULL;
	size_t keylen = 0;

	assert_int_equal(oath_init(), OATH_OK);
	assert_int_equal(oath_base32_decode(b32, strlen(b32), &key, &keylen),
	    OATH_OK);
	assert_int_equal(oath_totp_generate(key, keylen, time(NULL) +
	    offset * 30, 30, 0, 6, out), OATH_OK);
	free(key);
}

static void
code_from(const struct page *p, char *code, size_t size)
{
	assert_int_equal(p->status, 302);
	assert_int_equal(strncmp(p->location, REDIRECT "?code=", strlen(REDIRECT)
	    + 6), 0);
	assert_int_equal(url_param(p->location, "code", code, size), 0);
	remember(code);
}

/* Exchanges code and verifies the access token with the SDK. */
static kl_claims *
tokens(struct browser *b, const char *client, const char *sec,
    const char *code)
{
	kl_claims *c = NULL;
	kl_error err;
	struct page p;
	json_t *j;

	exchange(b, &h, client, sec, code, REDIRECT, NULL, &p);
	assert_int_equal(p.status, 200);
	j = json_of(&p);
	remember(jstr(j, "access_token"));
	remember(jstr(j, "id_token"));
	assert_int_equal(kl_verify_access_token(verifier,
	    jstr(j, "access_token"), client, &c, &err), KL_OK);
	json_decref(j);
	page_free(&p);
	return c;
}

/* Password first; the answer is the second-factor page (its csrf in out). */
static void
password_then_otp_page(struct browser *b, const char *client,
    const char *user, const char *extra, char *csrf, struct page *p)
{
	char url[1024];

	authorize_url(&h, url, sizeof(url), client, REDIRECT, NULL, extra);
	open_login(b, url, csrf, 128);
	remember(csrf);
	post_login(b, &h, csrf, user, PASSWORD_ENC, p);
	assert_int_equal(p->status, 200);
	assert_int_equal(count_of(p->body.data, "<form"), 1);
	assert_non_null(strstr(p->body.data, "name=\"otp\""));
	assert_null(strstr(p->body.data, "name=\"password\""));
}

static void
remember_cookies(struct browser *b)
{
	char v[256];

	if (browser_cookie(b, "kleidi_sid", v, sizeof(v)) == 0)
		remember(v);
	if (browser_cookie(b, "kleidi_b", v, sizeof(v)) == 0)
		remember(v);
}

static void
test_totp(void **state)
{
	struct browser *b = browser_new(), *b2 = browser_new();
	char csrf[128], otp[7], code[128];
	struct page p;
	kl_claims *c;

	(void)state;
	password_then_otp_page(b, "payroll", "maria", NULL, csrf, &p);
	assert_non_null(strstr(p.body.data, "value=\"totp\""));
	page_free(&p);
	totp_code(totp_b32, 0, otp);
	post_otp(b, &h, csrf, "totp", otp, NULL, &p);
	code_from(&p, code, sizeof(code));
	page_free(&p);
	remember_cookies(b);
	c = tokens(b, "payroll", secret, code);
	assert_string_equal(kl_claims_acr(c), SUBSTANTIAL);
	assert_true(kl_claims_has_amr(c, "pwd"));
	assert_true(kl_claims_has_amr(c, "otp"));
	assert_true(kl_claims_has_amr(c, "mfa"));
	assert_false(kl_claims_has_amr(c, "sms"));
	kl_claims_free(c);

	/* The same code again, in another browser and flow: a replay. */
	password_then_otp_page(b2, "payroll", "maria", NULL, csrf, &p);
	page_free(&p);
	post_otp(b2, &h, csrf, "totp", otp, NULL, &p);
	assert_int_equal(p.status, 200);
	assert_string_equal(p.location, "");
	assert_non_null(strstr(p.body.data, "role=\"alert\""));
	page_free(&p);
	/* A code two steps away is outside the window. */
	totp_code(totp_b32, 3, otp);
	post_otp(b2, &h, csrf, "totp", otp, NULL, &p);
	assert_int_equal(p.status, 200);
	assert_string_equal(p.location, "");
	page_free(&p);
	/* The next step's code is fresh: accepted. */
	totp_code(totp_b32, 1, otp);
	post_otp(b2, &h, csrf, "totp", otp, NULL, &p);
	code_from(&p, code, sizeof(code));
	page_free(&p);
	browser_free(b);
	browser_free(b2);
}

static void
test_sms(void **state)
{
	struct browser *b = browser_new();
	char csrf[128], otp[7], code[128];
	struct page p;
	kl_claims *c;

	(void)state;
	password_then_otp_page(b, "payroll", "nikos", NULL, csrf, &p);
	assert_non_null(strstr(p.body.data, "value=\"sms\""));
	assert_non_null(strstr(p.body.data, "role=\"status\""));  /* sent */
	page_free(&p);
	outbox_code(&h, otp);
	remember(otp);
	/* Asking again at once: refused with a notice, nothing sent. */
	post_otp(b, &h, csrf, "sms", NULL, "sms", &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "role=\"status\""));
	page_free(&p);
	/* A wrong code first: the page says so and the code still works. */
	post_otp(b, &h, csrf, "sms", otp[0] == '9' ? "000000" : "999999",
	    NULL, &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "role=\"alert\""));
	page_free(&p);
	post_otp(b, &h, csrf, "sms", otp, NULL, &p);
	code_from(&p, code, sizeof(code));
	page_free(&p);
	remember_cookies(b);
	c = tokens(b, "payroll", secret, code);
	assert_string_equal(kl_claims_acr(c), SUBSTANTIAL);
	assert_true(kl_claims_has_amr(c, "sms"));
	assert_true(kl_claims_has_amr(c, "mfa"));
	kl_claims_free(c);
	browser_free(b);
}

static void
test_recovery_code(void **state)
{
	struct browser *b = browser_new(), *b2 = browser_new();
	char csrf[128], code[128], rc[64];
	struct page p;
	json_t *j;

	(void)state;
	j = run_cli_json(&h, NULL, "user", "recovery", "maria", NULL);
	assert_int_equal(json_array_size(json_object_get(j, "codes")), 10);
	str_copy(rc, json_string_value(json_array_get(json_object_get(j,
	    "codes"), 3)), sizeof(rc));
	remember(rc);
	json_decref(j);
	password_then_otp_page(b, "payroll", "maria", NULL, csrf, &p);
	page_free(&p);
	post_otp(b, &h, csrf, "totp", NULL, "recovery", &p);
	assert_non_null(strstr(p.body.data, "value=\"recovery\""));
	page_free(&p);
	post_otp(b, &h, csrf, "recovery", rc, NULL, &p);
	code_from(&p, code, sizeof(code));
	page_free(&p);
	/* Used once: refused the second time. */
	password_then_otp_page(b2, "payroll", "maria", NULL, csrf, &p);
	page_free(&p);
	post_otp(b2, &h, csrf, "recovery", rc, NULL, &p);
	assert_int_equal(p.status, 200);
	assert_string_equal(p.location, "");
	assert_non_null(strstr(p.body.data, "role=\"alert\""));
	page_free(&p);
	browser_free(b);
	browser_free(b2);
}

/* One factor for the wiki; payroll then asks only for the missing one. */
static void
test_step_up(void **state)
{
	struct browser *b = browser_new();
	char url[1024], csrf[128], otp[7], code[128], sub[64];
	struct page p;
	kl_claims *c;

	(void)state;
	authorize_url(&h, url, sizeof(url), "wiki", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, sizeof(csrf));
	post_login(b, &h, csrf, "eleni", PASSWORD_ENC, &p);
	code_from(&p, code, sizeof(code));
	page_free(&p);
	c = tokens(b, "wiki", wiki_secret, code);
	assert_string_equal(kl_claims_acr(c),
	    "http://eidas.europa.eu/LoA/low");
	str_copy(sub, kl_claims_sub(c), sizeof(sub));
	kl_claims_free(c);

	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "name=\"otp\""));
	assert_null(strstr(p.body.data, "name=\"password\""));
	assert_int_equal(html_input_value(p.body.data, "csrf", csrf,
	    sizeof(csrf)), 0);
	page_free(&p);
	totp_code(eleni_b32, 0, otp);
	post_otp(b, &h, csrf, "totp", otp, NULL, &p);
	code_from(&p, code, sizeof(code));
	page_free(&p);
	c = tokens(b, "payroll", secret, code);
	assert_string_equal(kl_claims_acr(c), SUBSTANTIAL);
	assert_string_equal(kl_claims_sub(c), sub);
	assert_true(kl_claims_has_amr(c, "otp"));
	kl_claims_free(c);
	/* The raised session now serves the wiki at substantial too. */
	authorize_url(&h, url, sizeof(url), "wiki", REDIRECT, NULL,
	    "&acr_values=" SUBSTANTIAL);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	code_from(&p, code, sizeof(code));
	page_free(&p);
	browser_free(b);
}

/* acr_values=substantial on an app that asks for one factor. */
static void
test_acr_values(void **state)
{
	struct browser *b = browser_new();
	char csrf[128];
	struct page p;

	(void)state;
	password_then_otp_page(b, "wiki", "maria", "&acr_values=" SUBSTANTIAL,
	    csrf, &p);
	page_free(&p);
	browser_free(b);
}

static void
test_no_second_factor(void **state)
{
	struct browser *b = browser_new();
	char url[1024], csrf[128];
	struct page p;

	(void)state;
	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, sizeof(csrf));
	post_login(b, &h, csrf, "nofactor", PASSWORD_ENC, &p);
	assert_int_equal(p.status, 403);
	assert_string_equal(p.location, "");
	page_free(&p);
	browser_free(b);
}

/* Failed passwords back off; an unknown name the same way. */
static void
test_lockout(void **state)
{
	const char *names[] = { "nofactor", "ghost" };
	struct browser *b = browser_new();
	char url[1024], csrf[128];
	struct page p;
	size_t i;
	int k;

	(void)state;
	authorize_url(&h, url, sizeof(url), "wiki", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, sizeof(csrf));
	for (i = 0; i < 2; i++) {
		for (k = 0; k < 3; k++) {
			post_login(b, &h, csrf, names[i], "wrong-password",
			    &p);
			assert_int_equal(p.status, 200);
			page_free(&p);
		}
		/* locked now: even the right password is refused */
		post_login(b, &h, csrf, names[i], PASSWORD_ENC, &p);
		assert_int_equal(p.status, 429);
		assert_string_equal(p.location, "");
		assert_int_equal(count_of(p.body.data, "<form"), 1);
		page_free(&p);
	}
	browser_free(b);
}

static void
test_audit_chain(void **state)
{
	json_t *j, *e;
	size_t i;
	int found = 0;

	(void)state;
	assert_int_equal(run_cli(&h, NULL, NULL, "audit", "verify", NULL), 0);
	j = run_cli_json(&h, NULL, "audit", "tail", "--user", "maria",
	    "--lines", "200", NULL);
	json_array_foreach(json_object_get(j, "entries"), i, e)
		found |= strcmp(jstr(e, "action"), "signin.code") == 0 &&
		    strcmp(jstr(e, "outcome"), "ok") == 0;
	assert_true(found);
	json_decref(j);
}

/* No password, seed, code, session id, handle or token in clear. */
static void
test_store_scan(void **state)
{
	char path[512], *key = NULL;
	size_t len, keylen, i;
	char *data;

	(void)state;
	snprintf(path, sizeof(path), "%s/store/data.mdb", h.dir);
	assert_non_null(data = file_read(path, 1u << 30, &len));
	for (i = 0; i < nseen; i++)
		if (memmem(data, len, seen[i], strlen(seen[i])) != NULL)
			fail_msg("found in the store: secret #%zu (%.6s...)", i,
			    seen[i]);
	assert_int_equal(oath_base32_decode(totp_b32, strlen(totp_b32), &key,
	    &keylen), OATH_OK);
	assert_null(memmem(data, len, key, keylen));	/* the raw seed */
	free(key);
	free(data);
	assert_true(nseen >= 15);	/* the scan looked for something */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp),
		cmocka_unit_test(test_sms),
		cmocka_unit_test(test_recovery_code),
		cmocka_unit_test(test_step_up),
		cmocka_unit_test(test_acr_values),
		cmocka_unit_test(test_no_second_factor),
		cmocka_unit_test(test_lockout),
		cmocka_unit_test(test_audit_chain),
		cmocka_unit_test(test_store_scan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
