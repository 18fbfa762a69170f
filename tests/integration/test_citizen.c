/*
 * test_citizen.c - citizens against the real server: registration from an
 * e-service's sign-in page, the phone proved with the code from the file
 * outbox, sign-in with tax number + password + SMS, refusal by an
 * employees' app, pairwise subjects (different per app, stable across
 * sign-ins, usable at UserInfo), form errors that create nothing, and an
 * unverified account sent to the phone check instead of signed in.
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
#define PASSWORD "Kalokairi.sto.Pilio.7"
#define SUBSTANTIAL "http://eidas.europa.eu/LoA/substantial"

static struct harness h;
static char sec1[128], sec2[128], payroll_sec[128];
static kl_verifier *verifier;

static void
add_app(const char *id, const char *audience, int pairwise, char *sec)
{
	json_t *j = pairwise ? run_cli_json(&h, NULL, "app", "add", id,
	    "--name", id, "--redirect-uri", REDIRECT, "--audience", audience,
	    "--pairwise", NULL) : run_cli_json(&h, NULL, "app", "add", id,
	    "--name", id, "--redirect-uri", REDIRECT, "--audience", audience,
	    NULL);

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
	add_app("eservice1", "citizens", 1, sec1);
	add_app("eservice2", "citizens", 1, sec2);
	add_app("payroll", "employees", 0, payroll_sec);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town",
	    "payroll", NULL), 0);
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

/* A tax number with its check digit from eight digits. */
static void
taxid(const char *eight, char out[10])
{
	unsigned sum = 0;
	int i;

	for (i = 0; i < 8; i++)
		sum += (unsigned)(eight[i] - '0') << (8 - i);
	snprintf(out, 10, "%s%u", eight, sum % 11 % 10);
}

/* The newest SMS in the outbox and the 6-digit code in it. */
/* A first sign-in to an e-service asks for consent (issue 5): agree. */
static void
agree(struct browser *b, struct page *p)
{
	char csrf[128], url[256], body[256];

	if (p->status != 200 ||
	    strstr(p->body.data, "action=\"/consent\"") == NULL)
		return;
	assert_int_equal(html_input_value(p->body.data, "csrf", csrf,
	    sizeof(csrf)), 0);
	page_free(p);
	snprintf(url, sizeof(url), "%s/consent", h.base);
	snprintf(body, sizeof(body), "csrf=%s&decision=allow", csrf);
	assert_int_equal(browser_post(b, url, NULL, body, p), 0);
}

/* The sign-in page of client; its registration link into reg (or ""). */
static void
login_page(struct browser *b, const char *client, char *csrf, char *reg)
{
	char url[1024];
	const char *p, *q;
	struct page pg;

	authorize_url(&h, url, sizeof(url), client, REDIRECT, NULL, NULL);
	assert_int_equal(browser_get(b, url, NULL, &pg), 0);
	assert_int_equal(pg.status, 200);
	assert_int_equal(html_input_value(pg.body.data, "csrf", csrf, 128), 0);
	reg[0] = '\0';
	if ((p = strstr(pg.body.data, "href=\"/register?csrf=")) != NULL) {
		p += 6;
		q = strchr(p, '"');
		snprintf(reg, 256, "%s%.*s", h.base, (int)(q - p), p);
	}
	page_free(&pg);
}

/* GET the registration form from client's sign-in page: its csrf. */
static void
open_register(struct browser *b, const char *client, char *csrf)
{
	char login_csrf[128], reg[256];
	struct page p;

	login_page(b, client, login_csrf, reg);
	assert_true(reg[0] != '\0');
	assert_int_equal(browser_get(b, reg, NULL, &p), 0);
	assert_int_equal(p.status, 200);
	assert_int_equal(count_of(p.body.data, "<form"), 1);
	assert_non_null(strstr(p.body.data, "name=\"tax_id\""));
	assert_non_null(strstr(p.body.data, "name=\"password_confirm\""));
	assert_int_equal(html_input_value(p.body.data, "csrf", csrf, 128), 0);
	page_free(&p);
}

static void
post_register(struct browser *b, const char *csrf, const char *tax,
    const char *pass, const char *confirm, struct page *out)
{
	char url[256], body[1024];

	snprintf(url, sizeof(url), "%s/register", h.base);
	/* One phone per person: the hourly cap per phone stays far. */
	snprintf(body, sizeof(body), "csrf=%s&tax_id=%s&given_name=Maria&"
	    "family_name=Papadopoulou&email=maria%%40example.gr&"
	    "phone=%%2B3069%.8s&password=%s&password_confirm=%s", csrf, tax,
	    tax, pass, confirm);
	assert_int_equal(browser_post(b, url, NULL, body, out), 0);
}

static void
post_verify(struct browser *b, const char *csrf, const char *otp,
    struct page *out)
{
	char url[256], body[512];

	snprintf(url, sizeof(url), "%s/register/verify", h.base);
	snprintf(body, sizeof(body), "csrf=%s&otp=%s", csrf, otp);
	assert_int_equal(browser_post(b, url, NULL, body, out), 0);
}

/* Registers tax from eservice1's sign-in page up to the phone check;
 * its csrf in csrf. */
static void
register_until_code(struct browser *b, const char *tax, char *csrf)
{
	struct page p;

	open_register(b, "eservice1", csrf);
	post_register(b, csrf, tax, PASSWORD, PASSWORD, &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "action=\"/register/verify\""));
	assert_non_null(strstr(p.body.data, "name=\"otp\""));
	assert_non_null(strstr(p.body.data, "role=\"status\""));  /* sent */
	page_free(&p);
}

/* Signs tax in to client (password + SMS); returns the verified access
 * token's claims; at (may be NULL) receives the access token. */
static kl_claims *
sign_in(const char *client, const char *sec, const char *tax, char *at,
    size_t atsize)
{
	struct browser *b = browser_new();
	char csrf[128], reg[256], otp[7], code[128];
	kl_claims *c = NULL;
	struct page p;
	kl_error err;
	json_t *j;

	login_page(b, client, csrf, reg);
	post_login(b, &h, csrf, tax, PASSWORD, &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "action=\"/login/otp\""));
	assert_non_null(strstr(p.body.data, "value=\"sms\""));
	page_free(&p);
	outbox_code(&h, otp);
	post_otp(b, &h, csrf, "sms", otp, NULL, &p);
	agree(b, &p);
	assert_int_equal(p.status, 302);
	assert_int_equal(url_param(p.location, "code", code, sizeof(code)),
	    0);
	page_free(&p);
	exchange(b, &h, client, sec, code, REDIRECT, NULL, &p);
	assert_int_equal(p.status, 200);
	j = json_of(&p);
	assert_int_equal(kl_verify_access_token(verifier, jstr(j,
	    "access_token"), client, &c, &err), KL_OK);
	if (at != NULL)
		str_copy(at, jstr(j, "access_token"), atsize);
	json_decref(j);
	page_free(&p);
	browser_free(b);
	return c;
}

static void
userinfo(const char *at, const char *want_sub)
{
	struct browser *b = browser_new();
	char url[256], auth[4096];
	struct page p;
	json_t *j;

	snprintf(url, sizeof(url), "%s/userinfo", h.base);
	snprintf(auth, sizeof(auth), "Bearer %s", at);
	assert_int_equal(browser_get(b, url, auth, &p), 0);
	assert_int_equal(p.status, 200);
	j = json_of(&p);
	assert_string_equal(jstr(j, "sub"), want_sub);
	assert_string_equal(jstr(j, "user_type"), "citizen");
	json_decref(j);
	page_free(&p);
	browser_free(b);
}

static void
test_register_sign_in_pairwise(void **state)
{
	struct browser *b = browser_new();
	char tax[10], csrf[128], otp[7], login_csrf[128], reg[256];
	char sub1[128], at[4096];
	struct page p;
	kl_claims *c;

	(void)state;
	taxid("12345678", tax);
	register_until_code(b, tax, csrf);
	outbox_code(&h, otp);
	post_verify(b, csrf, otp, &p);
	/* back to eservice1's sign-in: a fresh authorization request */
	assert_int_equal(p.status, 302);
	assert_non_null(strstr(p.location, "/authorize?"));
	assert_non_null(strstr(p.location, "client_id=eservice1"));
	page_free(&p);
	browser_free(b);
	c = sign_in("eservice1", sec1, tax, at, sizeof(at));
	assert_string_equal(kl_claims_user_type(c), "citizen");
	assert_null(kl_claims_org(c));
	assert_string_equal(kl_claims_acr(c), SUBSTANTIAL);
	assert_true(kl_claims_has_amr(c, "sms"));
	str_copy(sub1, kl_claims_sub(c), sizeof(sub1));
	assert_int_equal(strlen(sub1), 43);	/* a pairwise HMAC */
	kl_claims_free(c);
	userinfo(at, sub1);
	/* stable across sign-ins to one app, different in another */
	c = sign_in("eservice1", sec1, tax, NULL, 0);
	assert_string_equal(kl_claims_sub(c), sub1);
	kl_claims_free(c);
	c = sign_in("eservice2", sec2, tax, at, sizeof(at));
	assert_string_not_equal(kl_claims_sub(c), sub1);
	userinfo(at, kl_claims_sub(c));
	kl_claims_free(c);
	/* an employees' app refuses the citizen, and offers no registration */
	b = browser_new();
	login_page(b, "payroll", login_csrf, reg);
	assert_string_equal(reg, "");
	post_login(b, &h, login_csrf, tax, PASSWORD, &p);
	assert_int_equal(p.status, 403);
	page_free(&p);
	browser_free(b);
}

/* A refused form comes back with the field's error and the values, and
 * the store is exactly as it was. */
static void
refused(struct browser *b, const char *csrf, const char *tax,
    const char *pass, const char *confirm, const char *field)
{
	unsigned char before[32], after[32];
	char want[64], v[64];
	struct page p;

	assert_int_equal(harness_store_digest(&h, before), 0);
	post_register(b, csrf, tax, pass, confirm, &p);
	assert_int_equal(harness_store_digest(&h, after), 0);
	assert_memory_equal(before, after, 32);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "role=\"alert\""));
	snprintf(want, sizeof(want), "id=\"%s-error\"", field);
	assert_non_null(strstr(p.body.data, want));
	assert_int_equal(count_of(p.body.data, "class=\"field-error\""), 1);
	assert_int_equal(html_input_value(p.body.data, "tax_id", v,
	    sizeof(v)), 0);
	assert_string_equal(v, tax);
	assert_int_equal(html_input_value(p.body.data, "given_name", v,
	    sizeof(v)), 0);
	assert_string_equal(v, "Maria");
	assert_null(strstr(p.body.data, pass));	/* never echoed */
	page_free(&p);
}

static void
test_form_errors(void **state)
{
	struct browser *b = browser_new();
	char tax[10], bad[10], csrf[128];

	(void)state;
	taxid("23456789", tax);
	str_copy(bad, tax, sizeof(bad));
	bad[8] = bad[8] == '9' ? '0' : (char)(bad[8] + 1);
	open_register(b, "eservice1", csrf);
	refused(b, csrf, bad, PASSWORD, PASSWORD, "tax_id");
	refused(b, csrf, tax, "Qwertyuiop123", "Qwertyuiop123", "password");
	refused(b, csrf, tax, "short", "short", "password");
	refused(b, csrf, tax, PASSWORD, "Kalokairi.sto.Pilio.8",
	    "password_confirm");
	browser_free(b);
}

/* Registered but the phone never proved: the sign-in sends the person to
 * the phone check, whose code then finishes the sign-in. */
static void
test_unverified(void **state)
{
	struct browser *b = browser_new();
	char tax[10], csrf[128], otp[7], code[128], reg[256], dup[128];
	struct page p;

	(void)state;
	taxid("34567890", tax);
	register_until_code(b, tax, csrf);
	browser_free(b);
	/* a second registration of the same number is refused */
	b = browser_new();
	open_register(b, "eservice1", dup);
	refused(b, dup, tax, PASSWORD, PASSWORD, "tax_id");
	browser_free(b);
	b = browser_new();
	login_page(b, "eservice1", csrf, reg);
	post_login(b, &h, csrf, tax, PASSWORD, &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "action=\"/register/verify\""));
	assert_null(strstr(p.body.data, "action=\"/login/otp\""));
	page_free(&p);
	outbox_code(&h, otp);
	post_verify(b, csrf, otp[0] == '9' ? "000000" : "999999", &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "role=\"alert\""));
	page_free(&p);
	post_verify(b, csrf, otp, &p);
	agree(b, &p);
	assert_int_equal(p.status, 302);
	assert_int_equal(url_param(p.location, "code", code, sizeof(code)),
	    0);
	page_free(&p);
	browser_free(b);
}

/* The operator's commands: a citizen added with the phone taken as
 * checked signs in at once; export holds everything but secrets; erase
 * leaves no account and an audit chain that verifies without them. */
static void
test_cli(void **state)
{
	char tax[10], csrf[128], reg[256];
	struct browser *b;
	struct buf out;
	struct page p;
	kl_claims *c;
	json_t *j;

	(void)state;
	taxid("45678901", tax);
	j = run_cli_json(&h, PASSWORD "\n", "citizen", "add", tax, "--name",
	    "Nikos Georgiou", "--phone", "+306955555555", "--password-stdin",
	    NULL);
	assert_true(json_is_true(json_object_get(j, "phone_verified")));
	json_decref(j);
	c = sign_in("eservice1", sec1, tax, NULL, 0);
	assert_string_equal(kl_claims_user_type(c), "citizen");
	kl_claims_free(c);
	buf_init(&out, 1 << 20);
	assert_int_equal(run_cli(&h, NULL, &out, "citizen", "export", tax,
	    NULL), 0);
	assert_non_null(j = json_loads(out.data, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    j, "account"), "family_name")), "Georgiou");
	assert_string_equal(jstr(j, "password"), "set");
	assert_true(json_array_size(json_object_get(j, "audit")) >= 3);
	assert_null(strstr(out.data, "$argon2"));
	json_decref(j);
	buf_free(&out);
	j = run_cli_json(&h, NULL, "citizen", "erase", tax, NULL);
	assert_true(json_integer_value(json_object_get(j,
	    "audit_pseudonymised")) >= 3);
	json_decref(j);
	assert_int_equal(run_cli(&h, NULL, NULL, "audit", "verify", NULL), 0);
	buf_init(&out, 1 << 20);
	assert_int_equal(run_cli(&h, NULL, &out, "audit", "tail", "-n",
	    "1000", NULL), 0);
	assert_null(strstr(out.data, tax));
	assert_null(strstr(out.data, "Georgiou"));
	buf_free(&out);
	assert_int_not_equal(run_cli(&h, NULL, NULL, "citizen", "export", tax,
	    NULL), 0);
	b = browser_new();
	login_page(b, "eservice1", csrf, reg);
	post_login(b, &h, csrf, tax, PASSWORD, &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "name=\"password\""));
	page_free(&p);
	browser_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_sign_in_pairwise),
		cmocka_unit_test(test_form_errors),
		cmocka_unit_test(test_unverified),
		cmocka_unit_test(test_cli),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
