/*
 * test_logout.c - signing out end to end, with an app inside the test that
 * receives back-channel logout tokens on a loopback socket: RP-initiated
 * logout with an id_token_hint goes back to the app with its state, ends
 * the session (prompt=none then wants a login, even with the old cookie)
 * and the app is told, with a logout token the SDK accepts; a departure
 * imported from the registry tells the app too; an unregistered
 * post_logout_redirect_uri is refused and logs nobody out; without a hint
 * the person is asked, and only the session's own form signs them out.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"
#include "kleidi.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define BYE "http://127.0.0.1:9/bye"
#define BYE_ENC "http%3A%2F%2F127.0.0.1%3A9%2Fbye"
#define PASSWORD "correct horse battery"
#define PASSWORD_ENC "correct%20horse%20battery"
#define HEADER "registry_no,tax_id,surname,given_name,email,mobile,org," \
	"position,status,effective\n"
/* 123456783: a valid tax number (check digit 3). */
#define ROW(status) "2001,123456783,Georgiou,Eleni,eleni@town.gr," \
	"+306900000202,town,clerk," status ",\n"
#define MAX_POSTS 32
#define MAX_REQUEST (64 * 1024)
#define WAIT_SECONDS 15

/* ---- the receiving app: records each POST, answers 200 */

struct receiver {
	int fd;
	unsigned port;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;			/* guarded by lock */
	size_t count;			/* guarded by lock */
	char *body[MAX_POSTS];		/* NULL: not a POST /bcl form */
};

static struct harness h;
static struct receiver rx;
static kl_verifier *verifier;
static char secret[128], eleni_password[64];

static int
receiver_stopping(struct receiver *r)
{
	int stop;

	pthread_mutex_lock(&r->lock);
	stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

/* The body of a POST /bcl with a form content type, or NULL. req is the
 * whole request read so far (NUL-terminated), head_len its header's. */
static char *
receiver_body(const char *req, size_t head_len, size_t len)
{
	const char *cl = strcasestr(req, "\r\ncontent-length:");
	size_t want;

	if (strncmp(req, "POST /bcl ", 10) != 0 || cl == NULL ||
	    strcasestr(req, "\r\ncontent-type: application/x-www-form-"
	    "urlencoded") == NULL)
		return NULL;
	want = strtoul(cl + 17, NULL, 10);
	if (len - head_len != want)
		return NULL;
	return strndup(req + head_len, want);
}

/* Reads one request (header, then Content-Length bytes) and answers. */
static void
receiver_serve(struct receiver *r, int c)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n";
	struct timeval tv = { 5, 0 };
	char *req = calloc(1, MAX_REQUEST + 1), *end, *cl, *body;
	size_t len = 0, head = 0, want = SIZE_MAX;
	ssize_t n;

	(void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (req != NULL && len < MAX_REQUEST && len < want &&
	    (n = read(c, req + len, MAX_REQUEST - len)) > 0) {
		len += (size_t)n;
		if (head == 0 && (end = strstr(req, "\r\n\r\n")) != NULL) {
			head = (size_t)(end - req) + 4;
			cl = strcasestr(req, "\r\ncontent-length:");
			want = head + (cl != NULL && cl < end ?
			    strtoul(cl + 17, NULL, 10) : 0);
		}
	}
	body = req != NULL && head > 0 ? receiver_body(req, head, len) : NULL;
	(void)write(c, ok, sizeof(ok) - 1);
	free(req);
	pthread_mutex_lock(&r->lock);
	if (r->count < MAX_POSTS)
		r->body[r->count++] = body;
	else
		free(body);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void *
receiver_main(void *arg)
{
	struct receiver *r = arg;
	struct pollfd p = { r->fd, POLLIN, 0 };
	int c;

	while (!receiver_stopping(r)) {
		if (poll(&p, 1, 200) <= 0)
			continue;
		if ((c = accept(r->fd, NULL, NULL)) == -1)
			continue;
		receiver_serve(r, c);
		close(c);
	}
	return NULL;
}

static void
receiver_start(struct receiver *r)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(r, 0, sizeof(*r));
	assert_int_equal(pthread_mutex_init(&r->lock, NULL), 0);
	assert_int_equal(pthread_cond_init(&r->cond, NULL), 0);
	assert_true((r->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(r->fd, 16), 0);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&a, &alen), 0);
	r->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&r->thread, NULL, receiver_main, r),
	    0);
}

static void
receiver_stop(struct receiver *r)
{
	size_t i;

	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	close(r->fd);
	for (i = 0; i < r->count; i++)
		free(r->body[i]);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

/* The logout token of a form body "logout_token=...", percent-decoded. */
static char *
token_of(const char *body)
{
	char *out, *o;
	const char *p;
	unsigned v;

	if (body == NULL || strncmp(body, "logout_token=", 13) != 0 ||
	    strchr(body, '&') != NULL)
		return NULL;
	if ((out = o = malloc(strlen(body))) == NULL)
		return NULL;
	for (p = body + 13; *p != '\0'; p++) {
		if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			p += 2;
		} else
			*o++ = *p == '+' ? ' ' : *p;
	}
	*o = '\0';
	return out;
}

/* Whether post i is a logout token for receiver, verified by the SDK,
 * naming sub (and sid, when not NULL). */
static int
post_matches(size_t i, const char *sub, const char *sid)
{
	char *tok;
	kl_claims *c = NULL;
	kl_error err;
	int ok = 0;

	pthread_mutex_lock(&rx.lock);
	tok = token_of(rx.body[i]);
	pthread_mutex_unlock(&rx.lock);
	assert_non_null(tok);		/* every POST is a logout token */
	assert_int_equal(kl_verify_logout_token(verifier, tok, "receiver", &c,
	    &err), KL_OK);
	ok = kl_claims_sub(c) != NULL && strcmp(kl_claims_sub(c), sub) == 0 &&
	    (sid == NULL || (kl_claims_string(c, "sid") != NULL &&
	    strcmp(kl_claims_string(c, "sid"), sid) == 0));
	kl_claims_free(c);
	free(tok);
	return ok;
}

/* Waits (at most WAIT_SECONDS) for a logout token naming sub (and sid);
 * asserts one comes. */
static void
expect_logout_token(const char *sub, const char *sid)
{
	struct timespec deadline;
	size_t seen = 0, count;
	int found = 0, rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WAIT_SECONDS;
	while (!found) {
		pthread_mutex_lock(&rx.lock);
		while (rx.count == seen && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&rx.cond, &rx.lock,
			    &deadline);
		count = rx.count;
		pthread_mutex_unlock(&rx.lock);
		if (count == seen)
			fail_msg("no logout token for %s within %d s", sub,
			    WAIT_SECONDS);
		for (; seen < count && !found; seen++)
			found = post_matches(seen, sub, sid);
	}
}

/* ---- the server and the people */

static json_t *
import(const char *csv)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/registry.csv", h.dir);
	assert_int_equal(file_write(path, csv, strlen(csv), 0600, 0), 0);
	return run_cli_json(&h, NULL, "registry", "import", path, NULL);
}

static int
setup(void **state)
{
	char url[256], bcl[128];
	kl_error err;
	json_t *j;

	(void)state;
	receiver_start(&rx);
	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "town",
	    "--name", "Town", NULL), 0);
	snprintf(bcl, sizeof(bcl), "http://127.0.0.1:%u/bcl", rx.port);
	j = run_cli_json(&h, NULL, "app", "add", "receiver", "--name",
	    "Receiver", "--redirect-uri", REDIRECT, "--post-logout-uri", BYE,
	    "--backchannel-logout-uri", bcl, NULL);
	str_copy(secret, jstr(j, "client_secret"), sizeof(secret));
	json_decref(j);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town",
	    "receiver", NULL), 0);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add",
	    "maria", "--org", "town", "--name", "Maria", "--password-stdin",
	    NULL), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "add", "maria",
	    "receiver", "clerk", NULL), 0);
	json_decref(import(HEADER ROW("active")));
	assert_int_equal(run_cli(&h, NULL, NULL, "grant", "add",
	    "eleni@town.gr", "receiver", "clerk", NULL), 0);
	/* Imported people have no password: the help desk sets one. */
	j = run_cli_json(&h, NULL, "user", "password-reset", "eleni@town.gr",
	    "--reason", "ticket 4712: first sign-in", NULL);
	str_copy(eleni_password, jstr(j, "temporary_password"),
	    sizeof(eleni_password));
	json_decref(j);
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
	receiver_stop(&rx);
	return 0;
}

/* What an app keeps from a sign-in. */
struct signed_in {
	char id_token[8192];
	char sub[128];
	char sid[128];
	char cookie[256];	/* kleidi_sid, to replay after logout */
};

/* Signs user in to receiver in b (a fresh browser), exchanges the code,
 * verifies the ID token. */
static void
sign_in(struct browser *b, const char *user, const char *pass,
    struct signed_in *out)
{
	char url[1024], csrf[128], code[128];
	struct page p;
	kl_claims *c = NULL;
	kl_error err;
	json_t *j;

	authorize_url(&h, url, sizeof(url), "receiver", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, sizeof(csrf));
	post_login(b, &h, csrf, user, pass, &p);
	assert_int_equal(p.status, 302);
	assert_int_equal(url_param(p.location, "code", code, sizeof(code)), 0);
	page_free(&p);
	exchange(b, &h, "receiver", secret, code, REDIRECT, NULL, &p);
	assert_int_equal(p.status, 200);
	j = json_of(&p);
	str_copy(out->id_token, jstr(j, "id_token"), sizeof(out->id_token));
	json_decref(j);
	page_free(&p);
	assert_int_equal(kl_verify_id_token(verifier, out->id_token,
	    "receiver", "n-456", &c, &err), KL_OK);
	assert_non_null(kl_claims_sub(c));
	assert_non_null(kl_claims_string(c, "sid"));
	str_copy(out->sub, kl_claims_sub(c), sizeof(out->sub));
	str_copy(out->sid, kl_claims_string(c, "sid"), sizeof(out->sid));
	kl_claims_free(c);
	assert_int_equal(browser_cookie(b, "kleidi_sid", out->cookie,
	    sizeof(out->cookie)), 0);
}

/* GET /authorize with prompt=none in b: the code, or "" with the error
 * into error. */
static void
prompt_none(struct browser *b, char *code, char *error, size_t size)
{
	char url[1024];
	struct page p;

	authorize_url(&h, url, sizeof(url), "receiver", REDIRECT, NULL,
	    "&prompt=none");
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 302);
	assert_int_equal(strncmp(p.location, REDIRECT "?",
	    strlen(REDIRECT) + 1), 0);
	if (url_param(p.location, "code", code, size) == -1)
		code[0] = '\0';
	if (url_param(p.location, "error", error, size) == -1)
		error[0] = '\0';
	page_free(&p);
}

static void
expect_signed_in(struct browser *b)
{
	char code[256], error[256];

	prompt_none(b, code, error, sizeof(code));
	assert_string_equal(error, "");
	assert_string_not_equal(code, "");
}

static void
expect_signed_out(struct browser *b)
{
	char code[256], error[256];

	prompt_none(b, code, error, sizeof(code));
	assert_string_equal(code, "");
	assert_string_equal(error, "login_required");
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* prompt=none with a bare kleidi_sid cookie, as a copy of the old cookie
 * would send it: whether the server still knows the session. */
static int
cookie_still_works(const char *cookie)
{
	char url[1024], hdr[300], code[256];
	char *loc = NULL;
	CURL *c;
	long status = 0;
	int ok;

	authorize_url(&h, url, sizeof(url), "receiver", REDIRECT, NULL,
	    "&prompt=none");
	snprintf(hdr, sizeof(hdr), "kleidi_sid=%s", cookie);
	assert_non_null(c = curl_easy_init());
	assert_int_equal(curl_easy_setopt(c, CURLOPT_URL, url), CURLE_OK);
	assert_int_equal(curl_easy_setopt(c, CURLOPT_COOKIE, hdr), CURLE_OK);
	assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard),
	    CURLE_OK);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	assert_int_equal(curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status),
	    CURLE_OK);
	assert_int_equal(status, 302);
	assert_int_equal(curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc),
	    CURLE_OK);
	assert_non_null(loc);
	ok = url_param(loc, "code", code, sizeof(code)) == 0;
	curl_easy_cleanup(c);
	return ok;
}

/* ---- the cases */

/* (a) RP-initiated logout with a hint: back to the app, session ended,
 * the app told with a token for the same sub and sid. */
static void
test_logout_with_hint(void **state)
{
	char url[10240], cookie[256];
	struct signed_in s;
	struct browser *b;
	struct page p;

	(void)state;
	assert_non_null(b = browser_new());
	sign_in(b, "maria", PASSWORD_ENC, &s);
	assert_true(cookie_still_works(s.cookie));
	snprintf(url, sizeof(url), "%s/logout?id_token_hint=%s"
	    "&post_logout_redirect_uri=%s&state=xyz", h.base, s.id_token,
	    BYE_ENC);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 302);
	assert_string_equal(p.location, BYE "?state=xyz");
	page_free(&p);
	/* The cookie is expired in the browser ... */
	assert_true(browser_cookie(b, "kleidi_sid", cookie, sizeof(cookie))
	    == -1 || cookie[0] == '\0');
	expect_signed_out(b);
	/* ... and the session gone from the server. */
	assert_false(cookie_still_works(s.cookie));
	expect_logout_token(s.sub, s.sid);
	browser_free(b);
}

/* (b) A departure imported from the registry ends the person's sessions
 * and tells the apps they were signed in to. */
static void
test_departure_notifies(void **state)
{
	char pw[200];
	struct signed_in s;
	struct browser *b;
	struct buf enc;
	json_t *j;

	(void)state;
	assert_non_null(b = browser_new());
	buf_init(&enc, sizeof(pw));
	assert_int_equal(buf_put_urlenc(&enc, eleni_password), 0);
	sign_in(b, "eleni%40town.gr", enc.data, &s);
	buf_free(&enc);
	expect_signed_in(b);
	j = import(HEADER ROW("departed"));
	assert_int_equal(json_integer_value(json_object_get(j, "departure")),
	    1);
	json_decref(j);
	expect_logout_token(s.sub, s.sid);
	assert_false(cookie_still_works(s.cookie));
	expect_signed_out(b);
	browser_free(b);
}

/* (c) An unregistered post_logout_redirect_uri: 400, no redirect, and
 * nobody is signed out. */
static void
test_unregistered_redirect(void **state)
{
	static const char *const evil[] = {
		"http%3A%2F%2F127.0.0.1%3A9%2Fevil",
		BYE_ENC "%2F",			/* not an exact match */
		BYE_ENC "%3Fx%3D1",
	};
	char url[10240];
	struct signed_in s;
	struct browser *b;
	struct page p;
	size_t i;

	(void)state;
	assert_non_null(b = browser_new());
	sign_in(b, "maria", PASSWORD_ENC, &s);
	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		snprintf(url, sizeof(url), "%s/logout?id_token_hint=%s"
		    "&post_logout_redirect_uri=%s&state=xyz", h.base,
		    s.id_token, evil[i]);
		assert_int_equal(browser_get(b, url, NULL, &p), 0);
		assert_int_equal(p.status, 400);
		assert_string_equal(p.location, "");
		page_free(&p);
		snprintf(url, sizeof(url), "%s/logout?client_id=receiver"
		    "&post_logout_redirect_uri=%s", h.base, evil[i]);
		assert_int_equal(browser_get(b, url, NULL, &p), 0);
		assert_int_equal(p.status, 400);
		assert_string_equal(p.location, "");
		page_free(&p);
	}
	expect_signed_in(b);
	assert_true(cookie_still_works(s.cookie));
	browser_free(b);
}

/* (d) No hint: a confirmation page with one form; a forged token changes
 * nothing, the page's own form signs out. */
static void
test_logout_confirmation(void **state)
{
	char url[512], csrf[128], body[256];
	struct signed_in s;
	struct browser *b;
	struct page p;

	(void)state;
	assert_non_null(b = browser_new());
	sign_in(b, "maria", PASSWORD_ENC, &s);
	snprintf(url, sizeof(url), "%s/logout", h.base);
	assert_int_equal(browser_get(b, url, NULL, &p), 0);
	assert_int_equal(p.status, 200);
	assert_string_equal(p.location, "");
	assert_int_equal(count_of(p.body.data, "<form"), 1);
	assert_non_null(strstr(p.body.data, "action=\"/logout\""));
	assert_int_equal(html_input_value(p.body.data, "csrf", csrf,
	    sizeof(csrf)), 0);
	page_free(&p);
	/* Showing the page ended nothing. */
	expect_signed_in(b);
	/* A form made elsewhere: asked again, still signed in. */
	assert_int_equal(browser_post(b, url, NULL, "csrf=forged", &p), 0);
	assert_int_equal(p.status, 200);
	assert_int_equal(count_of(p.body.data, "<form"), 1);
	page_free(&p);
	expect_signed_in(b);
	snprintf(body, sizeof(body), "csrf=%s", csrf);
	assert_int_equal(browser_post(b, url, NULL, body, &p), 0);
	assert_int_equal(p.status, 200);
	assert_int_equal(count_of(p.body.data, "<form"), 0);
	page_free(&p);
	expect_signed_out(b);
	assert_false(cookie_still_works(s.cookie));
	expect_logout_token(s.sub, s.sid);
	browser_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logout_with_hint),
		cmocka_unit_test(test_departure_notifies),
		cmocka_unit_test(test_unregistered_redirect),
		cmocka_unit_test(test_logout_confirmation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
