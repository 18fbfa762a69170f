/* steps.c - flow steps shared by the integration tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "steps.h"

static int
run_cli_va(struct harness *h, const char *stdin_text, struct buf *out,
    int json, va_list ap)
{
	const char *argv[32];
	int n = 0;

	while (n < 30 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	if (json)
		argv[n++] = "--json";
	argv[n] = NULL;
	return harness_cli(h, stdin_text, out, argv);
}

int
run_cli(struct harness *h, const char *stdin_text, struct buf *out, ...)
{
	va_list ap;
	int rc;

	va_start(ap, out);
	rc = run_cli_va(h, stdin_text, out, 0, ap);
	va_end(ap);
	return rc;
}

json_t *
run_cli_json(struct harness *h, const char *stdin_text, ...)
{
	struct buf b;
	json_t *j;
	va_list ap;

	buf_init(&b, 1 << 20);
	va_start(ap, stdin_text);
	assert_int_equal(run_cli_va(h, stdin_text, &b, 1, ap), 0);
	va_end(ap);
	j = json_loads(b.data != NULL ? b.data : "", 0, NULL);
	assert_non_null(j);
	buf_free(&b);
	return j;
}

void
provision_payroll(struct harness *h, const char *redirect, char *secret,
    size_t size)
{
	json_t *j;

	assert_int_equal(run_cli(h, NULL, NULL, "org", "add", "town",
	    "--name", "Town", NULL), 0);
	j = run_cli_json(h, NULL, "app", "add", "payroll", "--name",
	    "Payroll", "--redirect-uri", redirect, NULL);
	str_copy(secret, jstr(j, "client_secret"), size);
	json_decref(j);
	assert_int_equal(run_cli(h, NULL, NULL, "org", "subscribe", "town",
	    "payroll", NULL), 0);
}

void
authorize_url(const struct harness *h, char *out, size_t size,
    const char *client, const char *redirect, const char *challenge,
    const char *extra)
{
	snprintf(out, size, "%s/authorize?response_type=code&client_id=%s"
	    "&redirect_uri=%s&scope=openid%%20profile%%20email&state=st-123"
	    "&nonce=n-456%s%s%s", h->base, client, redirect,
	    challenge ? "&code_challenge_method=S256&code_challenge=" : "",
	    challenge ? challenge : "", extra ? extra : "");
}

void
open_login(struct browser *b, const char *url, char *csrf, size_t size)
{
	struct page p;

	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 200);
	assert_int_equal(count_of(p.body.data, "<form"), 1);
	assert_non_null(strstr(p.body.data, "name=\"username\""));
	assert_non_null(strstr(p.body.data, "name=\"password\""));
	assert_int_equal(html_input_value(p.body.data, "csrf", csrf, size), 0);
	page_free(&p);
}

void
post_login(struct browser *b, const struct harness *h, const char *csrf,
    const char *user, const char *pass, struct page *out)
{
	char url[256], body[1024];

	snprintf(url, sizeof(url), "%s/login", h->base);
	snprintf(body, sizeof(body), "username=%s&password=%s&csrf=%s", user,
	    pass, csrf);
	assert_int_equal(browser_post(b, url, NULL, body, out), 0);
}

void
post_otp(struct browser *b, const struct harness *h, const char *csrf,
    const char *method, const char *otp, const char *sw, struct page *out)
{
	char url[256], body[1024];

	snprintf(url, sizeof(url), "%s/login/otp", h->base);
	snprintf(body, sizeof(body), "csrf=%s&method=%s&%s=%s", csrf, method,
	    sw != NULL ? "switch" : "otp", sw != NULL ? sw : otp);
	assert_int_equal(browser_post(b, url, NULL, body, out), 0);
}

void
basic_auth(char *out, size_t size, const char *id, const char *sec)
{
	char raw[256];
	unsigned char enc[400];

	snprintf(raw, sizeof(raw), "%s:%s", id, sec);
	EVP_EncodeBlock(enc, (unsigned char *)raw, (int)strlen(raw));
	snprintf(out, size, "Basic %s", enc);
}

void
exchange(struct browser *b, const struct harness *h, const char *client,
    const char *sec, const char *code, const char *redirect,
    const char *verifier, struct page *out)
{
	char url[256], auth[512], body[1024];

	snprintf(url, sizeof(url), "%s/token", h->base);
	snprintf(body, sizeof(body), "grant_type=authorization_code&code=%s"
	    "&redirect_uri=%s%s%s", code, redirect, verifier ?
	    "&code_verifier=" : "", verifier ? verifier : "");
	if (sec != NULL)
		basic_auth(auth, sizeof(auth), client, sec);
	else
		snprintf(body + strlen(body), sizeof(body) - strlen(body),
		    "&client_id=%s", client);
	assert_int_equal(browser_post(b, url, sec ? auth : NULL, body, out),
	    0);
}

void
outbox_code(const struct harness *h, char out[7])
{
	char path[1024], newest[256] = "", *text, *p;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/sms-outbox", h->dir);
	assert_non_null(dir = opendir(path));
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.' && strcmp(d->d_name, newest) > 0)
			str_copy(newest, d->d_name, sizeof(newest));
	closedir(dir);
	assert_true(newest[0] != '\0');
	snprintf(path, sizeof(path), "%s/sms-outbox/%s", h->dir, newest);
	assert_non_null(text = file_read(path, 4096, NULL));
	/* The message follows the header and its blank line; the code is
	 * its only run of exactly six digits. */
	assert_non_null(p = strstr(text, "\n\n"));
	while (*p != '\0' && (strspn(p, "0123456789") != 6 ||
	    (p > text && p[-1] >= '0' && p[-1] <= '9')))
		p++;
	assert_true(strspn(p, "0123456789") == 6);
	memcpy(out, p, 6);
	out[6] = '\0';
	free(text);
}

json_t *
json_of(const struct page *p)
{
	json_t *j = json_loads(p->body.data, 0, NULL);

	assert_non_null(j);
	return j;
}

const char *
jstr(json_t *j, const char *k)
{
	return json_string_value(json_object_get(j, k));
}
