/*
 * test_flow.c - the foundation end to end: `kleidi serve` on a free
 * loopback port, a browser signing in through the login form, the code
 * exchanged, /userinfo called, and both tokens verified with the SDK. Then
 * every bad input of the negative list, each asserting its exact error and
 * that nothing stored changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "harness.h"
#include "steps.h"
#include "kleidi.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define PASSWORD "correct horse battery"
/* RFC 7636 appendix B */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static struct harness h;
static char secret[128], es_secret[128];
static kl_verifier *verifier;

static void
app_secret(const char *id, const char *alg, char *out)
{
	struct buf b;
	json_t *j;

	buf_init(&b, 1 << 16);
	assert_int_equal(run_cli(&h, NULL, &b, "app", "add", id, "--name", "Payroll",
	    "--redirect-uri", REDIRECT, "--id-token-alg", alg, "--json",
	    NULL), 0);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	str_copy(out, json_string_value(json_object_get(j, "client_secret")),
	    128);
	json_decref(j);
	buf_free(&b);
}

static int
setup(void **state)
{
	char url[256];
	kl_error err;

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "town", "--name",
	    "Δήμος Πόλης", NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "village", "--name",
	    "Κοινότητα", NULL), 0);
	app_secret("payroll", "RS256", secret);
	app_secret("water", "ES256", es_secret);
	assert_int_equal(run_cli(&h, NULL, NULL, "app", "add", "spa", "--name", "SPA",
	    "--redirect-uri", REDIRECT, "--public", NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town",
	    "payroll", NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town", "water",
	    NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town", "spa",
	    NULL), 0);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add", "maria",
	    "--org", "town", "--name", "Μαρία", "--email", "maria@town.gr",
	    "--password-stdin", NULL), 0);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add", "nikos",
	    "--org", "village", "--name", "Νίκος", "--password-stdin", NULL),
	    0);
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "add", "maria", "payroll",
	    "clerk", NULL), 0);
	/* village does not subscribe to payroll: the grant is refused. */
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "add", "nikos", "payroll",
	    "clerk", NULL), 1);
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

/* GET the authorization URL, fill the one form, POST it. */
static void
sign_in(struct browser *b, const char *url, const char *user,
    const char *pass, struct page *out)
{
	char csrf[128];

	open_login(b, url, csrf, sizeof(csrf));
	post_login(b, &h, csrf, user, pass, out);
}

/* Signs maria in to client and returns the code from the redirect. */
static void
get_code(struct browser *b, const char *client, const char *challenge,
    char *code, size_t size)
{
	char url[1024], st[64], iss[256], csrf[128];
	struct page p, q;

	authorize_url(&h, url, sizeof(url), client, REDIRECT, challenge, NULL);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	if (p.status == 302) {		/* already signed in: SSO */
		q = p;
	} else {
		assert_int_equal(p.status, 200);
		assert_int_equal(html_input_value(p.body.data, "csrf", csrf,
		    sizeof(csrf)), 0);
		page_free(&p);
		post_login(b, &h, csrf, "maria", "correct%20horse%20battery",
		    &q);
	}
	assert_int_equal(q.status, 302);
	assert_int_equal(strncmp(q.location, REDIRECT "?", strlen(REDIRECT) +
	    1), 0);
	assert_int_equal(url_param(q.location, "state", st, sizeof(st)), 0);
	assert_string_equal(st, "st-123");
	assert_int_equal(url_param(q.location, "iss", iss, sizeof(iss)), 0);
	assert_string_equal(iss, h.issuer);
	assert_int_equal(url_param(q.location, "code", code, size), 0);
	page_free(&q);
}

/* Signs in, exchanges the code; returns the token response. */
static json_t *
full_flow(struct browser *b, const char *client, const char *sec)
{
	char code[128];
	struct page p;
	json_t *j;

	get_code(b, client, CHALLENGE, code, sizeof(code));
	exchange(b, &h, client, sec, code, REDIRECT, VERIFIER, &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.content_type, "application/json"));
	j = json_of(&p);
	page_free(&p);
	assert_string_equal(jstr(j, "token_type"), "Bearer");
	return j;
}

static void
test_full_flow(void **state)
{
	struct browser *b = browser_new();
	kl_claims *id = NULL, *at = NULL;
	char auth[4096], url[256];
	struct page p;
	json_t *tok, *ui;
	kl_error err;

	(void)state;
	tok = full_flow(b, "payroll", secret);
	assert_int_equal(kl_verify_id_token(verifier, jstr(tok, "id_token"),
	    "payroll", "n-456", &id, &err), KL_OK);
	assert_int_equal(kl_verify_access_token(verifier,
	    jstr(tok, "access_token"), "payroll", &at, &err), KL_OK);
	assert_string_equal(kl_claims_org(at), "town");
	assert_string_equal(kl_claims_user_type(at), "employee");
	assert_true(kl_claims_has_role(at, "clerk"));
	assert_false(kl_claims_has_role(at, "admin"));
	assert_true(kl_claims_has_role(id, "clerk"));
	assert_string_equal(kl_claims_acr(at), "http://eidas.europa.eu/LoA/low");
	assert_true(kl_claims_has_amr(id, "pwd"));
	assert_string_equal(kl_claims_sub(id), kl_claims_sub(at));

	/* userinfo with the Bearer header, then with the form body */
	snprintf(url, sizeof(url), "%s/userinfo", h.base);
	snprintf(auth, sizeof(auth), "Bearer %s", jstr(tok, "access_token"));
	assert_int_equal(browser_get(b, url, auth, &p), 0);
	assert_int_equal(p.status, 200);
	ui = json_of(&p);
	assert_string_equal(jstr(ui, "sub"), kl_claims_sub(id));
	assert_string_equal(jstr(ui, "email"), "maria@town.gr");
	assert_string_equal(jstr(ui, "name"), "Μαρία");
	json_decref(ui);
	page_free(&p);
	snprintf(auth, sizeof(auth), "access_token=%s",
	    jstr(tok, "access_token"));
	assert_int_equal(browser_post(b, url, NULL, auth, &p), 0);
	assert_int_equal(p.status, 200);
	page_free(&p);

	kl_claims_free(id);
	kl_claims_free(at);
	json_decref(tok);
	browser_free(b);
}

/* Signed in once: the next app gets a code without the form (SSO), and
 * an ES256 client gets an ES256 ID token. */
static void
test_sso_and_es256(void **state)
{
	struct browser *b = browser_new();
	kl_claims *id = NULL;
	json_t *tok;
	kl_error err;
	const char *it;

	(void)state;
	json_decref(full_flow(b, "payroll", secret));
	tok = full_flow(b, "water", es_secret);	/* no form: SSO */
	it = jstr(tok, "id_token");
	assert_int_equal(kl_verify_id_token(verifier, it, "water", "n-456",
	    &id, &err), KL_OK);
	{
		size_t n;
		unsigned char *hdr = b64url_decode(it, strcspn(it, "."), &n);
		assert_non_null(strstr((char *)hdr, "\"ES256\""));
		free(hdr);
	}
	/* water: no role granted there */
	assert_false(kl_claims_has_role(id, "clerk"));
	kl_claims_free(id);
	json_decref(tok);
	browser_free(b);
}

static void
test_public_client_pkce(void **state)
{
	struct browser *b = browser_new();

	(void)state;
	json_decref(full_flow(b, "spa", NULL));
	browser_free(b);
}

/* ---- the negative list: exact errors, nothing stored changes */

static void
digest(unsigned char d[32])
{
	assert_int_equal(harness_store_digest(&h, d), 0);
}

static void
test_wrong_password(void **state)
{
	struct browser *b = browser_new();
	unsigned char before[32], after[32];
	char url[1024], csrf[128], login[256], body[512], sid[128];
	struct page p;
	const char *users[] = { "maria", "nobody" };
	json_t *tail, *e;
	size_t i;

	(void)state;
	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(html_input_value(p.body.data, "csrf", csrf,
	    sizeof(csrf)), 0);
	page_free(&p);
	snprintf(login, sizeof(login), "%s/login", h.base);
	/* The same answer whether or not the account exists. */
	for (i = 0; i < 2; i++) {
		snprintf(body, sizeof(body), "username=%s&password=wrong-pass"
		    "word&csrf=%s", users[i], csrf);
		assert_int_equal(browser_post(b, login, NULL, body, &p), 0);
		assert_int_equal(p.status, 200);
		assert_string_equal(p.location, "");
		assert_int_equal(count_of(p.body.data, "<form"), 1);
		assert_non_null(strstr(p.body.data, "role=\"alert\""));
		page_free(&p);
	}
	/* No session, no code: only the audit log and the back-off counter
	 * (issue 3) took note of the failures. */
	assert_int_equal(browser_cookie(b, "kleidi_sid", sid, sizeof(sid)),
	    -1);
	tail = run_cli_json(&h, NULL, "audit", "tail", "--lines", "2", NULL);
	assert_int_equal(json_array_size(json_object_get(tail, "entries")), 2);
	json_array_foreach(json_object_get(tail, "entries"), i, e) {
		assert_string_equal(jstr(e, "action"), "signin.password");
		assert_string_equal(jstr(e, "outcome"), "fail");
	}
	json_decref(tail);
	/* A form posted without the browser cookie finds no flow (CSRF),
	 * and changes nothing. */
	digest(before);
	{
		struct browser *other = browser_new();
		snprintf(body, sizeof(body), "username=maria&password=%s"
		    "&csrf=%s", "correct%20horse%20battery", csrf);
		assert_int_equal(browser_post(other, login, NULL, body, &p), 0);
		assert_int_equal(p.status, 400);
		assert_string_equal(p.location, "");
		page_free(&p);
		browser_free(other);
	}
	digest(after);
	assert_memory_equal(before, after, 32);
	browser_free(b);
}

static void
test_unknown_client(void **state)
{
	struct browser *b = browser_new();
	unsigned char before[32], after[32];
	char url[1024];
	struct page p;

	(void)state;
	digest(before);
	authorize_url(&h, url, sizeof(url), "nope", REDIRECT, NULL, NULL);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 400);
	assert_string_equal(p.location, "");
	assert_int_equal(count_of(p.body.data, "<form"), 0);
	page_free(&p);
	/* and at the token endpoint */
	exchange(b, &h, "nope", "x", "abc", REDIRECT, NULL, &p);
	assert_int_equal(p.status, 401);
	assert_non_null(strstr(p.body.data, "\"invalid_client\""));
	assert_non_null(strstr(p.www_authenticate, "Basic"));
	page_free(&p);
	exchange(b, &h, "payroll", "wrong-secret", "abc", REDIRECT, NULL, &p);
	assert_int_equal(p.status, 401);
	assert_non_null(strstr(p.body.data, "\"invalid_client\""));
	page_free(&p);
	digest(after);
	assert_memory_equal(before, after, 32);
	browser_free(b);
}

static void
test_redirect_mismatch(void **state)
{
	struct browser *b = browser_new();
	unsigned char before[32], after[32];
	char url[1024];
	struct page p;

	(void)state;
	digest(before);
	authorize_url(&h, url, sizeof(url), "payroll",
	    "http://127.0.0.1:9/cb/evil", NULL, NULL);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 400);
	assert_string_equal(p.location, "");	/* no redirect happens */
	page_free(&p);
	digest(after);
	assert_memory_equal(before, after, 32);
	browser_free(b);
}

static void
test_code_reused(void **state)
{
	struct browser *b = browser_new();
	unsigned char before[32], after[32];
	char code[128];
	struct page p;

	(void)state;
	get_code(b, "payroll", CHALLENGE, code, sizeof(code));
	exchange(b, &h, "payroll", secret, code, REDIRECT, VERIFIER, &p);
	assert_int_equal(p.status, 200);
	page_free(&p);
	digest(before);
	exchange(b, &h, "payroll", secret, code, REDIRECT, VERIFIER, &p);
	assert_int_equal(p.status, 400);
	assert_non_null(strstr(p.body.data, "\"invalid_grant\""));
	page_free(&p);
	digest(after);
	assert_memory_equal(before, after, 32);
	browser_free(b);
}

static void
test_wrong_pkce_verifier(void **state)
{
	struct browser *b = browser_new();
	unsigned char before[32], after[32];
	char code[128];
	struct page p;

	(void)state;
	get_code(b, "payroll", CHALLENGE, code, sizeof(code));
	digest(before);
	exchange(b, &h, "payroll", secret, code, REDIRECT,
	    "wrongwrongwrongwrongwrongwrongwrongwrongwrong", &p);
	assert_int_equal(p.status, 400);
	assert_non_null(strstr(p.body.data, "\"invalid_grant\""));
	page_free(&p);
	exchange(b, &h, "payroll", secret, code, REDIRECT, NULL, &p);	/* none at all */
	assert_int_equal(p.status, 400);
	assert_non_null(strstr(p.body.data, "\"invalid_grant\""));
	page_free(&p);
	digest(after);
	assert_memory_equal(before, after, 32);
	/* The refused attempts spent nothing: the right verifier works. */
	exchange(b, &h, "payroll", secret, code, REDIRECT, VERIFIER, &p);
	assert_int_equal(p.status, 200);
	page_free(&p);
	browser_free(b);
}

static void
test_public_client_without_pkce(void **state)
{
	struct browser *b = browser_new();
	unsigned char before[32], after[32];
	char url[1024], err[64], st[64];
	struct page p;

	(void)state;
	digest(before);
	authorize_url(&h, url, sizeof(url), "spa", REDIRECT, NULL, NULL);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 302);
	assert_int_equal(url_param(p.location, "error", err, sizeof(err)), 0);
	assert_string_equal(err, "invalid_request");
	assert_int_equal(url_param(p.location, "state", st, sizeof(st)), 0);
	assert_string_equal(st, "st-123");
	page_free(&p);
	digest(after);
	assert_memory_equal(before, after, 32);
	browser_free(b);
}

static void
test_not_subscribed(void **state)
{
	struct browser *b = browser_new();
	char url[1024];
	struct page p;

	(void)state;
	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	sign_in(b, url, "nikos", "correct%20horse%20battery", &p);
	assert_int_equal(p.status, 403);
	assert_string_equal(p.location, "");
	page_free(&p);
	browser_free(b);
}

/* The switcher on the sign-in page leads to the same sign-in in the other
 * language, with a fresh form. */
static void
test_language_links(void **state)
{
	struct browser *b = browser_new();
	char url[1024], link[2048], full[2300];
	struct page p;

	(void)state;
	authorize_url(&h, url, sizeof(url), "payroll", REDIRECT, NULL,
	    "&ui_locales=el");
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "<html lang=\"el\""));
	assert_int_equal(count_of(p.body.data, "hreflang=\"en\""), 1);
	{
		const char *a = strstr(p.body.data, "hreflang=\"en\"");
		const char *href;
		while (a > p.body.data && strncmp(a, "href=\"", 6) != 0)
			a--;
		href = a + 6;
		str_copy(link, href, (size_t)(strchr(href, '"') - href) + 1);
	}
	page_free(&p);
	/* &amp; in the attribute is & in the URL */
	{
		char *r = link, *w = link;
		while (*r) {
			if (strncmp(r, "&amp;", 5) == 0) {
				*w++ = '&';
				r += 5;
			} else
				*w++ = *r++;
		}
		*w = '\0';
	}
	assert_non_null(strstr(link, "ui_locales=en"));
	assert_non_null(strstr(link, "state=st-123"));
	snprintf(full, sizeof(full), "%s%s", h.base, link);
	assert_int_equal(browser_get(b, full, NULL, &p), 0);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "<html lang=\"en\""));
	assert_int_equal(count_of(p.body.data, "<form"), 1);
	page_free(&p);
	browser_free(b);
}

/* ---- tokens altered after issue: the SDK refuses each with its code */

static char *
jwt_with_header(const char *token, const char *header_json)
{
	char *h = b64url_encode((const unsigned char *)header_json,
	    strlen(header_json));
	const char *rest = strchr(token, '.');
	struct buf b;

	buf_init(&b, 1 << 16);
	assert_int_equal(buf_puts(&b, h), 0);
	assert_int_equal(buf_puts(&b, rest), 0);
	free(h);
	return buf_steal(&b);
}

/* The RS256 key's public half as PEM, as an attacker would get it. */
static void
rsa_public_pem(char *kid, struct buf *pem)
{
	char path[512];
	json_t *m, *k, *rsa = NULL;
	size_t i;
	FILE *f;
	EVP_PKEY *pk;
	BIO *bio;
	char *data;
	long n;

	snprintf(path, sizeof(path), "%s/keys/keys.json", h.dir);
	m = json_load_file(path, 0, NULL);
	assert_non_null(m);
	json_array_foreach(json_object_get(m, "keys"), i, k)
		if (rsa == NULL && strcmp(jstr(k, "alg"), "RS256") == 0)
			rsa = k;
	assert_non_null(rsa);
	str_copy(kid, jstr(rsa, "kid"), 128);
	snprintf(path, sizeof(path), "%s/keys/%s", h.dir, jstr(rsa, "file"));
	json_decref(m);
	f = fopen(path, "r");
	assert_non_null(f);
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(pk);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(bio, pk), 1);
	n = BIO_get_mem_data(bio, &data);
	assert_int_equal(buf_append(pem, data, (size_t)n), 0);
	BIO_free(bio);
	EVP_PKEY_free(pk);
}

static int64_t
clock_tomorrow(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL) + 86400;
}

static void
expect(const char *token, const char *aud, int code)
{
	kl_claims *c = (kl_claims *)1;
	kl_error err;

	assert_int_equal(kl_verify_access_token(verifier, token, aud, &c,
	    &err), code);
	if (code == KL_OK)
		assert_non_null(c);
	else
		assert_null(c);	/* never a half result on failure */
	kl_claims_free(c);
}

static void
test_tampered_tokens(void **state)
{
	struct browser *b = browser_new();
	char kid[128], hdr[256], url[256], auth[4096], *t, *s;
	unsigned char mac[32];
	unsigned int maclen = sizeof(mac);
	struct buf pem, in;
	struct page p;
	json_t *tok;
	const char *at;
	kl_verifier *later;
	kl_options opt;
	kl_error err;

	(void)state;
	tok = full_flow(b, "payroll", secret);
	at = jstr(tok, "access_token");
	expect(at, "payroll", KL_OK);
	expect(at, "water", KL_ERR_AUDIENCE);

	/* tampered signature, tampered payload */
	t = strdup(at);
	s = strrchr(t, '.') + 5;
	*s = *s == 'A' ? 'B' : 'A';
	expect(t, "payroll", KL_ERR_SIGNATURE);
	snprintf(url, sizeof(url), "%s/userinfo", h.base);
	snprintf(auth, sizeof(auth), "Bearer %s", t);
	assert_int_equal(browser_get(b, url, auth, &p), 0);
	assert_int_equal(p.status, 401);
	assert_non_null(strstr(p.www_authenticate, "invalid_token"));
	page_free(&p);
	free(t);
	t = strdup(at);
	s = strchr(t, '.') + 5;
	*s = *s == 'A' ? 'B' : 'A';
	expect(t, "payroll", KL_ERR_SIGNATURE);
	free(t);

	/* alg none with an empty signature */
	t = jwt_with_header(at, "{\"alg\":\"none\",\"typ\":\"at+jwt\"}");
	*(strrchr(t, '.') + 1) = '\0';
	expect(t, "payroll", KL_ERR_ALG);
	free(t);

	/* HS256 keyed with the RSA public key (the classic confusion) */
	buf_init(&pem, 1 << 16);
	rsa_public_pem(kid, &pem);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"typ\":\"at+jwt\","
	    "\"kid\":\"%s\"}", kid);
	t = jwt_with_header(at, hdr);
	*strrchr(t, '.') = '\0';
	HMAC(EVP_sha256(), pem.data, (int)pem.len, (unsigned char *)t,
	    strlen(t), mac, &maclen);
	buf_init(&in, 1 << 16);
	s = b64url_encode(mac, maclen);
	assert_int_equal(buf_printf(&in, "%s.%s", t, s), 0);
	expect(in.data, "payroll", KL_ERR_ALG);
	free(s);
	free(t);
	buf_free(&in);
	buf_free(&pem);

	/* unknown kid */
	t = jwt_with_header(at, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
	    "\"kid\":\"no-such-key\"}");
	expect(t, "payroll", KL_ERR_UNKNOWN_KID);
	free(t);

	/* expired: the same token seen by a verifier whose clock is a day
	 * ahead (the clock is injected, nothing sleeps) */
	kl_options_init(&opt);
	opt.now = clock_tomorrow;
	snprintf(url, sizeof(url), "%s/jwks", h.base);
	later = kl_verifier_new_url(h.issuer, url, &opt, &err);
	assert_non_null(later);
	{
		kl_claims *c = NULL;
		assert_int_equal(kl_verify_access_token(later, at, "payroll",
		    &c, &err), KL_ERR_EXPIRED);
		assert_null(c);
	}
	kl_verifier_free(later);
	json_decref(tok);
	browser_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_flow),
		cmocka_unit_test(test_sso_and_es256),
		cmocka_unit_test(test_public_client_pkce),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_unknown_client),
		cmocka_unit_test(test_redirect_mismatch),
		cmocka_unit_test(test_code_reused),
		cmocka_unit_test(test_wrong_pkce_verifier),
		cmocka_unit_test(test_public_client_without_pkce),
		cmocka_unit_test(test_not_subscribed),
		cmocka_unit_test(test_tampered_tokens),
		cmocka_unit_test(test_language_links),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
