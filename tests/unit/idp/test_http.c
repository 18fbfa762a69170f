/*
 * test_http.c - the HTTP adapter: the pure parsers and response helpers,
 * then a live server on 127.0.0.1 driven with libcurl, then a server
 * whose writing routes run on an offload pool.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http/http.h"
#include "util/pool.h"

/* ---- helpers */

static const char *
kv_get(const struct http_kv *kv, size_t n, size_t i, int name)
{
	assert_true(i < n);
	return name ? kv[i].name : kv[i].value;
}

/* base64 (standard, padded) for building Authorization headers. */
static void
b64(const char *in, size_t len, char *out)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)(unsigned char)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (uint32_t)(unsigned char)in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < len ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

static int
basic(const char *raw, size_t len, char **id, char **secret)
{
	char hdr[2048];

	strcpy(hdr, "Basic ");
	b64(raw, len, hdr + 6);
	return http_parse_basic(hdr, id, secret);
}

/* ---- x-www-form-urlencoded */

static void
test_urlencoded_good(void **st)
{
	const char *s = "a=1&b=hello+world&c=%41%42%e2%82%ac&d=x%2By";
	struct http_kv *kv;
	size_t n;

	(void)st;
	assert_int_equal(http_parse_urlencoded(s, strlen(s), &kv, &n, 8), 0);
	assert_int_equal(n, 4);
	assert_string_equal(kv_get(kv, n, 0, 1), "a");
	assert_string_equal(kv_get(kv, n, 0, 0), "1");
	assert_string_equal(kv_get(kv, n, 1, 0), "hello world");
	assert_string_equal(kv_get(kv, n, 2, 0), "AB\xe2\x82\xac");
	assert_string_equal(kv_get(kv, n, 3, 0), "x+y");
	http_kv_free(kv, n);
}

static void
test_urlencoded_duplicates(void **st)
{
	const char *s = "scope=openid&scope=email&x=1";
	struct http_request req;
	struct http_kv *kv;
	size_t n;

	(void)st;
	assert_int_equal(http_parse_urlencoded(s, strlen(s), &kv, &n, 8), 0);
	memset(&req, 0, sizeof(req));
	req.query = kv;
	req.nquery = n;
	assert_int_equal(n, 3);
	assert_int_equal(http_query_count(&req, "scope"), 2);
	assert_int_equal(http_query_count(&req, "x"), 1);
	assert_int_equal(http_query_count(&req, "y"), 0);
	assert_string_equal(http_query(&req, "scope"), "openid");
	assert_null(http_query(&req, "nope"));
	assert_null(http_form(&req, "scope"));
	http_kv_free(kv, n);
}

static void
test_urlencoded_empty_and_bare(void **st)
{
	const char *s = "a=&b&=c&&d=%3D&";
	struct http_kv *kv;
	size_t n;

	(void)st;
	assert_int_equal(http_parse_urlencoded(s, strlen(s), &kv, &n, 8), 0);
	/* "=c" has no name and is dropped; empty segments are skipped. */
	assert_int_equal(n, 3);
	assert_string_equal(kv_get(kv, n, 0, 1), "a");
	assert_string_equal(kv_get(kv, n, 0, 0), "");
	assert_string_equal(kv_get(kv, n, 1, 1), "b");
	assert_string_equal(kv_get(kv, n, 1, 0), "");
	assert_string_equal(kv_get(kv, n, 2, 0), "=");
	http_kv_free(kv, n);

	assert_int_equal(http_parse_urlencoded("", 0, &kv, &n, 8), 0);
	assert_null(kv);
	assert_int_equal(n, 0);
	assert_int_equal(http_parse_urlencoded(NULL, 0, &kv, &n, 8), 0);
	assert_int_equal(n, 0);
}

static void
test_urlencoded_bad(void **st)
{
	static const char *bad[] = {
		"a=%zz", "a=%4", "a=%", "a=1&b=%g0", "%00=1", "a=x%00y",
		"a=%0", "a%=1",
	};
	struct http_kv *kv = (void *)1;
	size_t i, n = 99;

	(void)st;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(http_parse_urlencoded(bad[i], strlen(bad[i]),
		    &kv, &n, 8), -1);
		assert_null(kv);
		assert_int_equal(n, 0);
	}
	/* A raw NUL inside the length is refused too. */
	assert_int_equal(http_parse_urlencoded("a=1\0b=2", 7, &kv, &n, 8),
	    -1);
}

static void
test_urlencoded_limits(void **st)
{
	const char *s = "a=1&b=2&c=3&d=4";
	struct http_kv *kv;
	size_t n;

	(void)st;
	assert_int_equal(http_parse_urlencoded(s, strlen(s), &kv, &n, 3), -1);
	assert_null(kv);
	assert_int_equal(http_parse_urlencoded(s, strlen(s), &kv, &n, 4), 0);
	assert_int_equal(n, 4);
	http_kv_free(kv, n);
	assert_int_equal(http_parse_urlencoded(s, strlen(s), &kv, &n, 0), -1);
	/* Never past len: only "a=1" is seen. */
	assert_int_equal(http_parse_urlencoded(s, 3, &kv, &n, 4), 0);
	assert_int_equal(n, 1);
	assert_string_equal(kv_get(kv, n, 0, 0), "1");
	http_kv_free(kv, n);
	/* An escape cut by len is malformed, not read past. */
	assert_int_equal(http_parse_urlencoded("a=%41", 4, &kv, &n, 4), -1);
}

static void
test_urldecode(void **st)
{
	char *s;

	(void)st;
	s = http_urldecode("a+b%20c", 7, 0);
	assert_string_equal(s, "a+b c");
	free(s);
	s = http_urldecode("a+b%20c", 7, 1);
	assert_string_equal(s, "a b c");
	free(s);
	assert_null(http_urldecode("%00", 3, 0));
	assert_null(http_urldecode("%x1", 3, 0));
	s = http_urldecode("", 0, 1);
	assert_string_equal(s, "");
	free(s);
}

/* ---- cookies */

static void
test_cookies(void **st)
{
	struct http_request req;
	struct http_kv *kv;
	size_t n;

	(void)st;
	assert_int_equal(http_parse_cookies("  sid = abc ;lang=el;"
	    " q=\"quoted v\"; empty=; novalue; =x; a=b=c", &kv, &n, 16), 0);
	memset(&req, 0, sizeof(req));
	req.cookies = kv;
	req.ncookies = n;
	assert_int_equal(n, 5);
	assert_string_equal(http_cookie(&req, "sid"), "abc");
	assert_string_equal(http_cookie(&req, "lang"), "el");
	assert_string_equal(http_cookie(&req, "q"), "quoted v");
	assert_string_equal(http_cookie(&req, "empty"), "");
	assert_string_equal(http_cookie(&req, "a"), "b=c");
	assert_null(http_cookie(&req, "novalue"));
	http_kv_free(kv, n);

	assert_int_equal(http_parse_cookies("", &kv, &n, 16), 0);
	assert_int_equal(n, 0);
	assert_null(kv);
	/* Cookie values are not percent-decoded (RFC 6265). */
	assert_int_equal(http_parse_cookies("x=%41", &kv, &n, 16), 0);
	assert_string_equal(kv[0].value, "%41");
	http_kv_free(kv, n);
}

static void
test_cookies_bad(void **st)
{
	struct http_kv *kv;
	size_t n;

	(void)st;
	assert_int_equal(http_parse_cookies("a=1; b=2; c=3", &kv, &n, 2), -1);
	assert_null(kv);
	assert_int_equal(n, 0);
	assert_int_equal(http_parse_cookies("a=1\x01; b=2", &kv, &n, 8), -1);
	assert_int_equal(http_parse_cookies("a=1\r\nb=2", &kv, &n, 8), -1);
	assert_int_equal(n, 0);
}

/* ---- Basic */

static void
test_basic_good(void **st)
{
	char *id, *secret;

	(void)st;
	assert_int_equal(basic("client:s3cret", 13, &id, &secret), 0);
	assert_string_equal(id, "client");
	assert_string_equal(secret, "s3cret");
	free(id);
	free(secret);
	/* RFC 6749 2.3.1: both parts are form-urlencoded. */
	assert_int_equal(basic("my%20app:p%3Ass+w%25", 20, &id, &secret), 0);
	assert_string_equal(id, "my app");
	assert_string_equal(secret, "p:ss w%");
	free(id);
	free(secret);
	/* Only the first raw colon splits. */
	assert_int_equal(basic("c:a:b", 5, &id, &secret), 0);
	assert_string_equal(secret, "a:b");
	free(id);
	free(secret);
	/* Lowercase scheme, several blanks, an empty secret. */
	assert_int_equal(http_parse_basic("basic   Yzo=", &id, &secret), 0);
	assert_string_equal(id, "c");
	assert_string_equal(secret, "");
	free(id);
	free(secret);
}

static void
test_basic_bad(void **st)
{
	char big[1100], *id = (void *)1, *secret = (void *)1;

	(void)st;
	assert_int_equal(basic("clientsecret", 12, &id, &secret), -1);
	assert_null(id);
	assert_null(secret);
	assert_int_equal(basic(":secret", 7, &id, &secret), -1);
	assert_int_equal(basic("a\0b:c", 5, &id, &secret), -1);
	assert_int_equal(basic("a%00:c", 6, &id, &secret), -1);
	assert_int_equal(basic("a:%zz", 5, &id, &secret), -1);
	assert_int_equal(http_parse_basic("Basic !!!!", &id, &secret), -1);
	assert_int_equal(http_parse_basic("Basic Yzo", &id, &secret), -1);
	assert_int_equal(http_parse_basic("Basic Yzp=", &id, &secret), -1);
	assert_int_equal(http_parse_basic("Basic Y=o=", &id, &secret), -1);
	assert_int_equal(http_parse_basic("Basic ", &id, &secret), -1);
	assert_int_equal(http_parse_basic("Basic", &id, &secret), -1);
	assert_int_equal(http_parse_basic("Basicx Yzo=", &id, &secret), -1);
	assert_int_equal(http_parse_basic("Bearer Yzo=", &id, &secret), -1);
	assert_int_equal(http_parse_basic(NULL, &id, &secret), -1);
	memset(big, 'A', sizeof(big));
	memcpy(big, "Basic ", 6);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(http_parse_basic(big, &id, &secret), -1);
	assert_null(id);
	assert_null(secret);
}

/* ---- response helpers */

static void
test_response_headers(void **st)
{
	struct http_response r;
	char name[16];
	size_t i;

	(void)st;
	http_response_init(&r);
	assert_int_equal(r.status, 200);
	assert_int_equal(http_header(&r, "X-A", "1"), 0);
	assert_int_equal(http_header(&r, "x-a", "2"), 0);
	assert_int_equal(r.nheaders, 1);
	assert_string_equal(http_response_header(&r, "X-A"), "2");
	assert_int_equal(http_header(&r, "X-B", "a\r\nSet-Cookie: x=1"), -1);
	assert_int_equal(http_header(&r, "X-B", "a\nb"), -1);
	assert_int_equal(http_header(&r, "X B", "1"), -1);
	assert_int_equal(http_header(&r, "X:B", "1"), -1);
	assert_int_equal(http_header(&r, "", "1"), -1);
	assert_int_equal(http_header(&r, "X-U", "\xce\xba tab\t"), 0);
	for (i = r.nheaders; i < HTTP_HEADERS_OUT_MAX; i++) {
		snprintf(name, sizeof(name), "X-%zu", i);
		assert_int_equal(http_header(&r, name, "v"), 0);
	}
	assert_int_equal(http_header(&r, "X-Full", "v"), -1);
	/* Replacing still works when full. */
	assert_int_equal(http_header(&r, "X-A", "3"), 0);
	http_response_free(&r);
	http_response_free(NULL);
}

static void
test_response_cookies(void **st)
{
	struct http_request req;
	struct http_response r;

	(void)st;
	memset(&req, 0, sizeof(req));
	http_response_init(&r);
	assert_int_equal(http_set_cookie(&r, &req, "sid", "abc-_.~", 600), 0);
	assert_string_equal(r.headers[0].value,
	    "sid=abc-_.~; Path=/; HttpOnly; SameSite=Lax; Max-Age=600");
	assert_int_equal(http_set_cookie(&r, &req, "s", "v",
	    HTTP_COOKIE_SESSION), 0);
	assert_string_equal(r.headers[1].value,
	    "s=v; Path=/; HttpOnly; SameSite=Lax");
	assert_int_equal(http_set_cookie(&r, &req, "sid", "", 0), 0);
	assert_string_equal(r.headers[2].value,
	    "sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
	assert_int_equal(r.nheaders, 3);
	assert_int_equal(http_set_cookie(&r, &req, "a", "x;Domain=evil",
	    1), -1);
	assert_int_equal(http_set_cookie(&r, &req, "a", "x y", 1), -1);
	assert_int_equal(http_set_cookie(&r, &req, "a", "\"x\"", 1), -1);
	assert_int_equal(http_set_cookie(&r, &req, "a=b", "x", 1), -1);
	assert_int_equal(http_set_cookie(&r, &req, "a", "x", -5), -1);
	assert_int_equal(r.nheaders, 3);
	http_response_free(&r);
}

static void
test_response_redirect_json(void **st)
{
	struct http_response r;

	(void)st;
	http_response_init(&r);
	assert_int_equal(http_redirect(&r, "https://app/cb?code=x&state=y"),
	    0);
	assert_int_equal(r.status, 302);
	assert_string_equal(http_response_header(&r, "Location"),
	    "https://app/cb?code=x&state=y");
	assert_string_equal(http_response_header(&r, "Cache-Control"),
	    "no-store");
	assert_int_equal(http_redirect(&r, "https://a/\r\nX: y"), -1);
	http_response_free(&r);

	http_response_init(&r);
	assert_int_equal(http_json(&r, 400, "{\"error\":\"invalid_grant\"}"),
	    0);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body.data, "{\"error\":\"invalid_grant\"}");
	assert_string_equal(http_response_header(&r, "Cache-Control"),
	    "no-store");
	http_response_free(&r);
}

/* ---- the live server */

struct suspended {
	struct http_request *req;
	int value;
};

static char static_dir[64];
static struct http_server *srv;
static struct http_server *srv_secure;
static char app_tag[] = "the-app";

/*
 * Handlers run on the server's threads, where a failing cmocka assert
 * cannot unwind: they report trouble in the response instead, and the
 * tests check the response.
 */
static void
append_kv(struct buf *b, const char *what, const struct http_kv *kv,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)buf_printf(b, "%s:%s=%s\n", what, kv[i].name,
		    kv[i].value);
}

static http_result
h_echo(struct http_request *req, struct http_response *resp, void *app)
{
	struct buf *b = &resp->body;

	resp->content_type = "text/plain; charset=utf-8";
	(void)buf_printf(b, "app=%s\nmethod=%s\npath=%s\nremote=%s\n"
	    "count=%zu\nlang=%s\n", (char *)app, req->method, req->path,
	    req->remote_addr, http_query_count(req, "a"),
	    req->accept_language ? req->accept_language : "-");
	append_kv(b, "q", req->query, req->nquery);
	append_kv(b, "f", req->form, req->nform);
	append_kv(b, "c", req->cookies, req->ncookies);
	(void)buf_printf(b, "body=%s\n", req->body);
	if (http_set_cookie(resp, req, "out", "v1", 600) == -1 ||
	    http_set_cookie(resp, req, "sess", "v2", HTTP_COOKIE_SESSION) == -1)
		resp->status = 500;
	return HTTP_DONE;
}

static http_result
h_page(struct http_request *req, struct http_response *resp, void *app)
{
	(void)req;
	(void)app;
	(void)buf_puts(&resp->body, "<p>page</p>");
	return HTTP_DONE;
}

static http_result
h_cached(struct http_request *req, struct http_response *resp, void *app)
{
	(void)req;
	(void)app;
	if (http_header(resp, "Cache-Control", "max-age=60") == -1 ||
	    http_json(resp, 201, "{}") == -1 ||
	    http_header(resp, "Cache-Control", "max-age=60") == -1)
		resp->status = 500;
	return HTTP_DONE;
}

static void *
resumer(void *arg)
{
	struct suspended *s = arg;

	s->value = 42;
	http_resume(s->req);	/* the last touch: the request may end now */
	return NULL;
}

/* Suspends; another thread does the work and resumes. */
static http_result
h_suspend(struct http_request *req, struct http_response *resp, void *app)
{
	struct suspended *s = req->state;
	pthread_t t;

	(void)app;
	if (req->resumed == 0) {
		if (s != NULL || (s = calloc(1, sizeof(*s))) == NULL)
			goto fail;
		s->req = req;
		req->state = s;
		req->state_free = free;
		if (pthread_create(&t, NULL, resumer, s) != 0)
			goto fail;
		(void)pthread_detach(t);
		return HTTP_SUSPENDED;
	}
	if (s == NULL)
		goto fail;
	(void)buf_printf(&resp->body, "resumed=%d value=%d", req->resumed,
	    s->value);
	return HTTP_DONE;
fail:
	resp->status = 500;
	return HTTP_DONE;
}

/* Resumes before it even returns SUSPENDED: the adapter must not lose it,
 * twice in a row. */
static http_result
h_resume_early(struct http_request *req, struct http_response *resp,
    void *app)
{
	(void)app;
	if (req->resumed < 2) {
		http_resume(req);
		return HTTP_SUSPENDED;
	}
	(void)buf_printf(&resp->body, "resumed=%d", req->resumed);
	return HTTP_DONE;
}

/* ---- offload: the pool's threads, learnt by probe_workers */

#define OFF_WORKERS 2
#define OFF_QUEUE 2

static pthread_t off_workers[OFF_WORKERS];

static int
on_worker(void)
{
	size_t i;

	for (i = 0; i < OFF_WORKERS; i++) {
		if (pthread_equal(pthread_self(), off_workers[i]))
			return 1;
	}
	return 0;
}

/* Says whether it ran on a thread of the offload pool. */
static http_result
h_where(struct http_request *req, struct http_response *resp, void *app)
{
	(void)req;
	(void)app;
	(void)buf_printf(&resp->body, "worker=%d", on_worker());
	return HTTP_DONE;
}

/* Asks to be offloaded when the query has w, as /token does for the
 * grants that write. */
static http_result
h_maybe(struct http_request *req, struct http_response *resp, void *app)
{
	(void)app;
	if (http_query(req, "w") != NULL && http_offload(req))
		return HTTP_SUSPENDED;
	(void)buf_printf(&resp->body, "worker=%d resumed=%d", on_worker(),
	    req->resumed);
	return HTTP_DONE;
}

static const struct http_route routes[] = {
	{ "GET", "/echo", h_echo, 0 },
	{ "POST", "/echo", h_echo, 0 },
	{ "POST", "/form", h_echo, 0 },
	{ "GET", "/page", h_page, 0 },
	{ NULL, "/any", h_page, 0 },
	{ "GET", "/cached", h_cached, 0 },
	{ "GET", "/suspend", h_suspend, 0 },
	{ "GET", "/early", h_resume_early, 0 },
	/* Flagged, but this server has no offload pool. */
	{ "GET", "/where", h_where, HTTP_ROUTE_OFFLOAD },
	{ "GET", "/maybe", h_maybe, 0 },
	/* A prefix route, with an exact route inside its tree that must
	 * win, and a prefix route that only takes POST. */
	{ "GET", "/tree/*", h_echo, 0 },
	{ "GET", "/tree/exact", h_page, 0 },
	{ "POST", "/posts/*", h_echo, 0 },
};

static int
write_file(const char *dir, const char *name, const char *data)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(data, f);
	return fclose(f);
}

static int
server_setup(void **st)
{
	struct http_server_config cfg;
	char err[256];

	(void)st;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	strcpy(static_dir, "/tmp/kleidi-http-XXXXXX");
	if (mkdtemp(static_dir) == NULL ||
	    write_file(static_dir, "style.css", "body{color:#111}\n") == -1 ||
	    write_file(static_dir, "tool.exe", "MZ") == -1 ||
	    write_file(static_dir, ".hidden.css", "x") == -1)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.address = "127.0.0.1";
	cfg.port = 0;
	cfg.threads = 2;
	cfg.body_max = 1024;
	cfg.routes = routes;
	cfg.nroutes = sizeof(routes) / sizeof(routes[0]);
	cfg.static_dir = static_dir;
	cfg.app = app_tag;
	if ((srv = http_server_start(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "start: %s\n", err);
		return -1;
	}
	cfg.secure_cookies = 1;
	cfg.static_dir = NULL;
	cfg.address = "[::1]";
	if ((srv_secure = http_server_start(&cfg, err, sizeof(err))) == NULL) {
		/* No IPv6 on this host: the secure server on IPv4. */
		cfg.address = "127.0.0.1";
		srv_secure = http_server_start(&cfg, err, sizeof(err));
	}
	return srv_secure != NULL ? 0 : -1;
}

static int
server_teardown(void **st)
{
	char path[256];

	(void)st;
	http_server_stop(srv);
	http_server_stop(srv_secure);
	http_server_stop(NULL);
	snprintf(path, sizeof(path), "%s/style.css", static_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/tool.exe", static_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.hidden.css", static_dir);
	unlink(path);
	rmdir(static_dir);
	curl_global_cleanup();
	return 0;
}

struct reply {
	long status;
	struct buf head;
	struct buf body;
};

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	return buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

struct fetch {
	const char *method;
	const char *url;	/* path on srv, or a full URL */
	const char *body;
	long body_len;		/* -1: chunked from body, repeated */
	const char *headers[4];
};

static size_t
chunked_read(char *p, size_t size, size_t n, void *arg)
{
	int *left = arg;

	if (*left <= 0 || size * n < 512)
		return 0;
	memset(p, 'x', 512);
	*left -= 512;
	return 512;
}

static CURLcode
fetch(const struct fetch *f, struct reply *r)
{
	struct curl_slist *h = NULL;
	char url[512];
	int left = 8192;
	CURLcode rc;
	CURL *c;
	size_t i;

	if (strncmp(f->url, "http", 4) == 0)
		snprintf(url, sizeof(url), "%s", f->url);
	else
		snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
		    http_server_port(srv), f->url);
	buf_init(&r->head, 65536);
	buf_init(&r->body, 1 << 20);
	r->status = 0;
	assert_non_null(c = curl_easy_init());
	for (i = 0; i < 4 && f->headers[i] != NULL; i++)
		h = curl_slist_append(h, f->headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, f->method);
	if (strcmp(f->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (f->body != NULL && f->body_len >= 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, f->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, f->body_len);
	} else if (f->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, chunked_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &left);
	}
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->head);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (r->body.data == NULL)
		assert_int_equal(buf_puts(&r->body, ""), 0);
	if (r->head.data == NULL)
		assert_int_equal(buf_puts(&r->head, ""), 0);
	return rc;
}

static void
reply_free(struct reply *r)
{
	buf_free(&r->head);
	buf_free(&r->body);
}

/* The value of header name in the reply (exact "Name: value" line). */
static int
has_header(const struct reply *r, const char *name, const char *value)
{
	char line[1024];

	snprintf(line, sizeof(line), "\r\n%s: %s\r\n", name, value);
	return strcasestr(r->head.data, line) != NULL;
}

static void
get(const char *path, struct reply *r)
{
	struct fetch f = { "GET", path, NULL, 0, { NULL } };

	assert_int_equal(fetch(&f, r), CURLE_OK);
}

static void
test_server_port(void **st)
{
	(void)st;
	assert_true(http_server_port(srv) > 0);
	assert_true(http_server_port(srv_secure) > 0);
	assert_int_not_equal(http_server_port(srv),
	    http_server_port(srv_secure));
	assert_int_equal(http_server_port(NULL), 0);
}

static void
test_server_get_query_cookies(void **st)
{
	struct fetch f = { "GET", "/echo?a=1&a=two+words&b=%C3%A9", NULL, 0,
	    { "Cookie: sid=abc; lang=\"el\"", "Accept-Language: el, en;q=0.5",
	    NULL } };
	struct reply r;

	(void)st;
	assert_int_equal(fetch(&f, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "app=the-app\n"));
	assert_non_null(strstr(r.body.data, "method=GET\npath=/echo\n"));
	assert_non_null(strstr(r.body.data, "remote=127.0.0.1\n"));
	assert_non_null(strstr(r.body.data, "count=2\n"));
	assert_non_null(strstr(r.body.data, "q:a=1\nq:a=two words\n"
	    "q:b=\xc3\xa9\n"));
	assert_non_null(strstr(r.body.data, "c:sid=abc\nc:lang=el\n"));
	assert_non_null(strstr(r.body.data, "lang=el, en;q=0.5\n"));
	assert_true(has_header(&r, "Set-Cookie",
	    "out=v1; Path=/; HttpOnly; SameSite=Lax; Max-Age=600"));
	assert_true(has_header(&r, "Set-Cookie",
	    "sess=v2; Path=/; HttpOnly; SameSite=Lax"));
	assert_null(strcasestr(r.head.data, "Secure"));
	assert_null(strcasestr(r.head.data, "Strict-Transport-Security"));
	assert_true(has_header(&r, "Content-Type",
	    "text/plain; charset=utf-8"));
	assert_true(has_header(&r, "Cache-Control", "no-store"));
	reply_free(&r);
}

static void
test_server_post_form(void **st)
{
	const char *body = "username=ana%40dimos.gr&password=p%26ss+word";
	struct fetch f = { "POST", "/form?x=1", body, (long)strlen(body),
	    { "Content-Type: application/x-www-form-urlencoded; charset=UTF-8",
	    NULL } };
	struct fetch j = { "POST", "/form", "{\"a\":1}", 7,
	    { "Content-Type: application/json", NULL } };
	struct reply r;

	(void)st;
	assert_int_equal(fetch(&f, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "q:x=1\n"));
	assert_non_null(strstr(r.body.data, "f:username=ana@dimos.gr\n"
	    "f:password=p&ss word\n"));
	assert_non_null(strstr(r.body.data, "body=username=ana%40dimos.gr"));
	reply_free(&r);
	/* Another content type: the raw body only, no form. */
	assert_int_equal(fetch(&j, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body.data, "f:"));
	assert_non_null(strstr(r.body.data, "body={\"a\":1}\n"));
	reply_free(&r);
}

static void
test_server_404_405(void **st)
{
	struct fetch del = { "DELETE", "/echo", NULL, 0, { NULL } };
	struct fetch put = { "PUT", "/any", NULL, 0, { NULL } };
	struct reply r;

	(void)st;
	get("/nothing-here?x=<script>", &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body.data, "Not Found"));
	assert_null(strstr(r.body.data, "nothing-here"));
	assert_null(strstr(r.body.data, "<script>"));
	assert_true(has_header(&r, "X-Content-Type-Options", "nosniff"));
	reply_free(&r);
	assert_int_equal(fetch(&del, &r), CURLE_OK);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow", "GET, HEAD, POST"));
	reply_free(&r);
	get("/form", &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow", "POST"));
	reply_free(&r);
	/* A route without a method takes every method. */
	assert_int_equal(fetch(&put, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void
test_server_prefix_routes(void **st)
{
	struct fetch del = { "DELETE", "/tree/a", NULL, 0, { NULL } };
	struct fetch post = { "POST", "/posts/1/2", "x", 1, { NULL } };
	struct reply r;

	(void)st;
	get("/tree/a/b?a=1", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "path=/tree/a/b\n"));
	assert_non_null(strstr(r.body.data, "q:a=1\n"));
	reply_free(&r);
	get("/tree/", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "path=/tree/\n"));
	reply_free(&r);
	/* The exact route inside the tree wins over the prefix. */
	get("/tree/exact", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "<p>page</p>");
	reply_free(&r);
	/* Not below the prefix: neither the bare name nor a longer word. */
	get("/tree", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	get("/treetop", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	/* Another method on a prefix route: 405 with its Allow. */
	assert_int_equal(fetch(&del, &r), CURLE_OK);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow", "GET, HEAD"));
	reply_free(&r);
	get("/posts/1", &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow", "POST"));
	reply_free(&r);
	assert_int_equal(fetch(&post, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "path=/posts/1/2\n"));
	reply_free(&r);
}

static void
test_server_bad_requests(void **st)
{
	char url[1024];
	struct reply r;
	size_t i;

	(void)st;
	get("/echo?a=%zz", &r);
	assert_int_equal(r.status, 400);
	reply_free(&r);
	get("/echo?a=x%00y", &r);
	assert_int_equal(r.status, 400);
	reply_free(&r);
	/* More than HTTP_FIELDS_MAX pairs in all. */
	strcpy(url, "/echo?");
	for (i = 0; i <= HTTP_FIELDS_MAX; i++)
		snprintf(url + strlen(url), sizeof(url) - strlen(url),
		    "p%zu=1&", i);
	get(url, &r);
	assert_int_equal(r.status, 400);
	reply_free(&r);
}

static void
test_server_body_limit(void **st)
{
	static char big[2048], exact[1024];
	struct fetch f = { "POST", "/form", big, (long)sizeof(big),
	    { "Content-Type: application/x-www-form-urlencoded", NULL } };
	struct fetch c = { "POST", "/echo", "x", -1,
	    { "Content-Type: text/plain", NULL } };
	struct reply r;
	CURLcode rc;

	(void)st;
	memset(big, 'a', sizeof(big));
	assert_int_equal(fetch(&f, &r), CURLE_OK);
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body.data, "Too Large"));
	reply_free(&r);
	/* At the limit is fine. */
	memset(exact, 'a', sizeof(exact));
	f.body = exact;
	f.body_len = (long)sizeof(exact);
	assert_int_equal(fetch(&f, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	/* A chunked body (no length) over the limit: the connection is
	 * dropped, never answered 200. */
	rc = fetch(&c, &r);
	assert_true(rc != CURLE_OK || r.status != 200);
	reply_free(&r);
}

static void
test_server_security_headers(void **st)
{
	struct fetch head = { "HEAD", "/page", NULL, 0, { NULL } };
	struct reply r;

	(void)st;
	get("/page", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "<p>page</p>");
	assert_true(has_header(&r, "Content-Type", "text/html; charset=utf-8"));
	assert_true(has_header(&r, "X-Content-Type-Options", "nosniff"));
	assert_true(has_header(&r, "Referrer-Policy", "no-referrer"));
	assert_true(has_header(&r, "X-Frame-Options", "DENY"));
	assert_true(has_header(&r, "Cache-Control", "no-store"));
	assert_true(has_header(&r, "Content-Security-Policy",
	    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
	    "frame-ancestors 'none'; base-uri 'none'"));
	assert_null(strcasestr(r.head.data, "form-action"));
	reply_free(&r);
	/* HEAD on a GET route: headers, no body. */
	assert_int_equal(fetch(&head, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_true(has_header(&r, "X-Frame-Options", "DENY"));
	reply_free(&r);
	/* A handler's own Cache-Control wins, and appears once. */
	get("/cached", &r);
	assert_int_equal(r.status, 201);
	assert_true(has_header(&r, "Cache-Control", "max-age=60"));
	assert_null(strcasestr(r.head.data, "no-store"));
	assert_true(has_header(&r, "Content-Type", "application/json"));
	reply_free(&r);
}

static void
test_server_secure(void **st)
{
	struct fetch f = { "GET", NULL, NULL, 0, { NULL } };
	struct reply r;
	char url[128];

	(void)st;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/echo",
	    http_server_port(srv_secure));
	f.url = url;
	if (fetch(&f, &r) != CURLE_OK) {
		reply_free(&r);
		snprintf(url, sizeof(url), "http://[::1]:%u/echo",
		    http_server_port(srv_secure));
		assert_int_equal(fetch(&f, &r), CURLE_OK);
	}
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Set-Cookie",
	    "out=v1; Path=/; HttpOnly; SameSite=Lax; Max-Age=600; Secure"));
	assert_true(has_header(&r, "Strict-Transport-Security",
	    "max-age=31536000"));
	reply_free(&r);
}

static void
test_server_suspend(void **st)
{
	struct reply r;
	int i;

	(void)st;
	for (i = 0; i < 20; i++) {
		get("/suspend", &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body.data, "resumed=1 value=42");
		reply_free(&r);
	}
	get("/early", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "resumed=2");
	reply_free(&r);
}

static void
test_server_static(void **st)
{
	struct fetch post = { "POST", "/static/style.css", "x", 1, { NULL } };
	struct reply r;

	(void)st;
	get("/static/style.css", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "body{color:#111}\n");
	assert_true(has_header(&r, "Content-Type", "text/css; charset=utf-8"));
	assert_true(has_header(&r, "Cache-Control", "public, max-age=3600"));
	assert_true(has_header(&r, "X-Content-Type-Options", "nosniff"));
	reply_free(&r);
	get("/static/tool.exe", &r);	/* unknown type: not loaded */
	assert_int_equal(r.status, 404);
	reply_free(&r);
	get("/static/.hidden.css", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	get("/static/%2e%2e/style.css", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	get("/static/", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	assert_int_equal(fetch(&post, &r), CURLE_OK);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow", "GET, HEAD"));
	reply_free(&r);
}

static void
test_server_start_errors(void **st)
{
	struct http_server_config cfg;
	struct http_server *s;
	char err[256];

	(void)st;
	memset(&cfg, 0, sizeof(cfg));
	cfg.address = "localhost";
	err[0] = '\0';
	assert_null(http_server_start(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "localhost"));
	cfg.address = "127.0.0.1";
	cfg.port = 70000;
	assert_null(http_server_start(&cfg, err, sizeof(err)));
	/* The port of a running server is taken. */
	cfg.port = http_server_port(srv);
	assert_null(s = http_server_start(&cfg, err, sizeof(err)));
	cfg.port = 0;
	cfg.static_dir = "/nonexistent/kleidi";
	assert_null(http_server_start(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/kleidi"));
}

/* ---- stopping with a request suspended */

static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held_cond = PTHREAD_COND_INITIALIZER;
static struct http_request *held;

static http_result
h_hold(struct http_request *req, struct http_response *resp, void *app)
{
	(void)app;
	if (req->resumed == 0) {
		pthread_mutex_lock(&held_lock);
		held = req;
		pthread_cond_signal(&held_cond);
		pthread_mutex_unlock(&held_lock);
		return HTTP_SUSPENDED;
	}
	(void)buf_puts(&resp->body, "released");
	return HTTP_DONE;
}

struct hold_client {
	unsigned port;
	long status;
	struct buf body;
	CURLcode rc;
};

/* No cmocka asserts off the main thread: the results go in the struct. */
static void *
hold_client(void *arg)
{
	struct hold_client *hc = arg;
	char url[128];
	CURL *c;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hold", hc->port);
	if ((c = curl_easy_init()) == NULL) {
		hc->rc = CURLE_FAILED_INIT;
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &hc->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	hc->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &hc->status);
	curl_easy_cleanup(c);
	return NULL;
}

static void *
hold_release(void *arg)
{
	(void)arg;
	http_resume(held);
	return NULL;
}

/* MHD must never be stopped with a suspended connection: stop waits for
 * the request to be resumed and answered. */
static void
test_server_stop_suspended(void **st)
{
	static const struct http_route hold_routes[] = {
		{ "GET", "/hold", h_hold, 0 },
	};
	struct http_server_config cfg;
	struct hold_client client;
	struct http_server *s;
	pthread_t ct, rt;
	struct timespec ts;
	char err[256];

	(void)st;
	memset(&cfg, 0, sizeof(cfg));
	cfg.address = "127.0.0.1";
	cfg.routes = hold_routes;
	cfg.nroutes = 1;
	assert_non_null(s = http_server_start(&cfg, err, sizeof(err)));
	memset(&client, 0, sizeof(client));
	client.port = http_server_port(s);
	buf_init(&client.body, 1024);
	assert_int_equal(pthread_create(&ct, NULL, hold_client, &client), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&held_lock);
	while (held == NULL && pthread_cond_timedwait(&held_cond,
	    &held_lock, &ts) == 0)
		;
	pthread_mutex_unlock(&held_lock);
	assert_non_null(held);
	assert_int_equal(pthread_create(&rt, NULL, hold_release, NULL), 0);
	http_server_stop(s);
	assert_int_equal(pthread_join(rt, NULL), 0);
	assert_int_equal(pthread_join(ct, NULL), 0);
	assert_int_equal(client.rc, CURLE_OK);
	assert_int_equal(client.status, 200);
	assert_string_equal(client.body.data, "released");
	buf_free(&client.body);
}

/* ---- limits of a server's own config, and the on_done hook */

#define DONE_MAX 16

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char route[32];
	int status;
	int64_t micros;
	void *app;
} done_seen[DONE_MAX];
static size_t done_n;

static void
on_done(void *app, const char *route_path, int status, int64_t micros)
{
	pthread_mutex_lock(&done_lock);
	if (done_n < DONE_MAX) {
		str_copy(done_seen[done_n].route, route_path,
		    sizeof(done_seen[done_n].route));
		done_seen[done_n].status = status;
		done_seen[done_n].micros = micros;
		done_seen[done_n].app = app;
	}
	done_n++;
	pthread_mutex_unlock(&done_lock);
}

/* The hook runs when MHD has sent the answer, which may be just after
 * the client read it: wait (bounded) for the n-th call. */
static size_t
done_wait(size_t n)
{
	size_t got = 0;
	int i;

	for (i = 0; i < 500; i++) {
		pthread_mutex_lock(&done_lock);
		got = done_n;
		pthread_mutex_unlock(&done_lock);
		if (got >= n)
			break;
		usleep(10000);
	}
	return got;
}

static void
get_on(const struct http_server *s, const char *path, const char *auth,
    struct reply *r)
{
	struct fetch f = { "GET", NULL, NULL, 0, { auth, NULL } };
	char url[4096];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
	    http_server_port(s), path);
	f.url = url;
	assert_int_equal(fetch(&f, r), CURLE_OK);
}

static void
test_server_limits_hook(void **st)
{
	static char token[256], auth[300], path[300];
	struct http_server_config cfg;
	struct http_server *s;
	struct reply r;
	char err[256];

	(void)st;
	memset(&cfg, 0, sizeof(cfg));
	cfg.address = "127.0.0.1";
	cfg.routes = routes;
	cfg.nroutes = sizeof(routes) / sizeof(routes[0]);
	cfg.app = app_tag;
	cfg.fields_max = 4;
	cfg.token_max = 200;
	cfg.on_done = on_done;
	assert_non_null(s = http_server_start(&cfg, err, sizeof(err)));
	get_on(s, "/echo?a=1&b=2&c=3&d=4", NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_int_equal(done_wait(1), 1);
	assert_string_equal(done_seen[0].route, "/echo");
	assert_int_equal(done_seen[0].status, 200);
	assert_ptr_equal(done_seen[0].app, app_tag);
	assert_true(done_seen[0].micros >= 0);
	get_on(s, "/echo?a=1&b=2&c=3&d=4&e=5", NULL, &r);
	assert_int_equal(r.status, 400);
	reply_free(&r);
	/* A token at token_max passes, one byte more is refused. */
	memset(token, 'a', 201);
	snprintf(auth, sizeof(auth), "Authorization: %.*s", 200, token);
	get_on(s, "/echo", auth, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	snprintf(auth, sizeof(auth), "Authorization: %.*s", 201, token);
	get_on(s, "/echo", auth, &r);
	assert_int_equal(r.status, 400);
	reply_free(&r);
	snprintf(path, sizeof(path), "/echo?code=%.*s", 201, token);
	get_on(s, path, NULL, &r);
	assert_int_equal(r.status, 400);
	reply_free(&r);
	/* Other parameters are bounded by the request line only. */
	snprintf(path, sizeof(path), "/echo?state=%.*s", 201, token);
	get_on(s, path, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	get_on(s, "/nowhere", NULL, &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	get_on(s, "/tree/a", NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_int_equal(done_wait(8), 8);
	pthread_mutex_lock(&done_lock);
	assert_int_equal(done_seen[1].status, 400);
	assert_string_equal(done_seen[1].route, "/echo");
	assert_int_equal(done_seen[6].status, 404);
	assert_string_equal(done_seen[6].route, "other");
	assert_int_equal(done_seen[7].status, 200);
	assert_string_equal(done_seen[7].route, "/tree/*");
	pthread_mutex_unlock(&done_lock);
	http_server_stop(s);
	assert_int_equal(done_n, 8);	/* once per request */
}

/* ---- offload: a server with one HTTP thread whose writing routes run
 * on a pool of OFF_WORKERS threads with OFF_QUEUE places */

static struct pool *off_pool;
static struct http_server *srv_off;

/* The gate: handlers wait there until the test opens it, as a writer
 * waits for its fsync. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_in;
static int gate_open;

static http_result
h_gate(struct http_request *req, struct http_response *resp, void *app)
{
	(void)req;
	(void)app;
	pthread_mutex_lock(&gate_lock);
	gate_in++;
	pthread_cond_broadcast(&gate_cond);
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	gate_in--;
	pthread_mutex_unlock(&gate_lock);
	(void)buf_printf(&resp->body, "released worker=%d", on_worker());
	return HTTP_DONE;
}

/* n handlers at the gate (bounded wait); how many there are. */
static int
gate_wait(int n)
{
	struct timespec ts;
	int got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&gate_lock);
	while (gate_in < n && pthread_cond_timedwait(&gate_cond, &gate_lock,
	    &ts) == 0)
		;
	got = gate_in;
	pthread_mutex_unlock(&gate_lock);
	return got;
}

static void
gate_set(int open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

/* The suspending handlers, saying where their last run was. */
static http_result
note_where(http_result r, struct http_response *resp)
{
	if (r == HTTP_DONE)
		(void)buf_printf(&resp->body, " worker=%d", on_worker());
	return r;
}

static http_result
h_suspend_where(struct http_request *req, struct http_response *resp,
    void *app)
{
	return note_where(h_suspend(req, resp, app), resp);
}

static http_result
h_early_where(struct http_request *req, struct http_response *resp,
    void *app)
{
	return note_where(h_resume_early(req, resp, app), resp);
}

static http_result
h_hold_where(struct http_request *req, struct http_response *resp,
    void *app)
{
	return note_where(h_hold(req, resp, app), resp);
}

static const struct http_route off_routes[] = {
	{ "GET", "/plain", h_where, 0 },
	{ "GET", "/write", h_where, HTTP_ROUTE_OFFLOAD },
	{ "POST", "/write", h_echo, HTTP_ROUTE_OFFLOAD },
	{ "GET", "/gate", h_gate, HTTP_ROUTE_OFFLOAD },
	{ "GET", "/suspend", h_suspend_where, HTTP_ROUTE_OFFLOAD },
	{ "GET", "/early", h_early_where, HTTP_ROUTE_OFFLOAD },
	{ "GET", "/hold", h_hold_where, HTTP_ROUTE_OFFLOAD },
	{ "GET", "/maybe", h_maybe, 0 },
};

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t probe_cond = PTHREAD_COND_INITIALIZER;
static unsigned probe_in;

/* Each holds its worker until every worker holds one: so they ran on
 * OFF_WORKERS different threads. */
static void
probe_job(void *arg)
{
	pthread_mutex_lock(&probe_lock);
	off_workers[(uintptr_t)arg] = pthread_self();
	probe_in++;
	pthread_cond_broadcast(&probe_cond);
	while (probe_in < OFF_WORKERS)
		pthread_cond_wait(&probe_cond, &probe_lock);
	pthread_mutex_unlock(&probe_lock);
}

static void
noop_job(void *arg)
{
	(void)arg;
}

/* Learns the pool's threads. */
static int
probe_workers(void)
{
	uintptr_t i;

	for (i = 0; i < OFF_WORKERS; i++) {
		if (pool_submit(off_pool, probe_job, (void *)i) == -1)
			return -1;
	}
	pthread_mutex_lock(&probe_lock);
	while (probe_in < OFF_WORKERS)
		pthread_cond_wait(&probe_cond, &probe_lock);
	pthread_mutex_unlock(&probe_lock);
	return 0;
}

static struct http_server *
off_start(void (*done)(void *, const char *, int, int64_t))
{
	struct http_server_config cfg;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.address = "127.0.0.1";
	cfg.threads = 1;	/* a blocked HTTP thread would stall all */
	cfg.routes = off_routes;
	cfg.nroutes = sizeof(off_routes) / sizeof(off_routes[0]);
	cfg.app = app_tag;
	cfg.on_done = done;
	cfg.offload = off_pool;
	return http_server_start(&cfg, err, sizeof(err));
}

static int
off_setup(void **st)
{
	(void)st;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((off_pool = pool_new(OFF_WORKERS, OFF_QUEUE)) == NULL ||
	    probe_workers() == -1)
		return -1;
	return (srv_off = off_start(on_done)) != NULL ? 0 : -1;
}

static int
off_teardown(void **st)
{
	(void)st;
	http_server_stop(srv_off);
	pool_free(off_pool);	/* after the server: it outlives it */
	curl_global_cleanup();
	return 0;
}

/* A request made on a thread of its own (no cmocka asserts there). */
struct bg {
	unsigned port;
	const char *path;
	pthread_t t;
	long status;
	struct buf head;
	struct buf body;
	CURLcode rc;
};

static void *
bg_run(void *arg)
{
	struct bg *b = arg;
	char url[256];
	CURL *c;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", b->port, b->path);
	if ((c = curl_easy_init()) == NULL) {
		b->rc = CURLE_FAILED_INIT;
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	b->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &b->status);
	curl_easy_cleanup(c);
	return NULL;
}

static void
bg_start(struct bg *b, const struct http_server *s, const char *path)
{
	memset(b, 0, sizeof(*b));
	b->port = http_server_port(s);
	b->path = path;
	buf_init(&b->body, 4096);
	assert_int_equal(pthread_create(&b->t, NULL, bg_run, b), 0);
}

/* Joins b and checks its answer. */
static void
bg_end(struct bg *b, long status, const char *body)
{
	assert_int_equal(pthread_join(b->t, NULL), 0);
	assert_int_equal(b->rc, CURLE_OK);
	assert_int_equal(b->status, status);
	assert_string_equal(b->body.data != NULL ? b->body.data : "", body);
	buf_free(&b->body);
}

static void
expect(const char *path, long status, const char *body)
{
	struct reply r;

	get_on(srv_off, path, NULL, &r);
	assert_int_equal(r.status, status);
	if (body != NULL)
		assert_string_equal(r.body.data, body);
	reply_free(&r);
}

/* Whether on_done saw route answer status (n times at least). */
static int
done_has(const char *route, int status, int n)
{
	size_t i;
	int seen = 0;

	pthread_mutex_lock(&done_lock);
	for (i = 0; i < done_n && i < DONE_MAX; i++) {
		if (strcmp(done_seen[i].route, route) == 0 &&
		    done_seen[i].status == status)
			seen++;
	}
	pthread_mutex_unlock(&done_lock);
	return seen >= n;
}

/* Without a pool, a flagged route simply runs on the HTTP threads, and
 * http_offload says to go on; so it does for a request no server made. */
static void
test_server_offload_none(void **st)
{
	struct http_request req;
	struct reply r;

	(void)st;
	get("/where", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "worker=0");
	reply_free(&r);
	get("/maybe?w=1", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "worker=0 resumed=0");
	reply_free(&r);
	memset(&req, 0, sizeof(req));
	assert_int_equal(http_offload(&req), 0);
}

/* An offloaded route answers as any other - query, form, cookies,
 * headers - but from a thread of the pool; the others do not move. */
static void
test_offload_answers(void **st)
{
	struct fetch f = { "POST", NULL, "x=1&y=two+words", -1,
	    { "Content-Type: application/x-www-form-urlencoded",
	    "Cookie: sid=abc", NULL } };
	char url[128];
	struct reply r;
	int i;

	(void)st;
	f.body_len = (long)strlen(f.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/write?q=1",
	    http_server_port(srv_off));
	f.url = url;
	for (i = 0; i < 20; i++) {
		expect("/write", 200, "worker=1");
		expect("/plain", 200, "worker=0");
		/* Asked for by the handler: run again there. */
		expect("/maybe?w=1", 200, "worker=1 resumed=1");
		expect("/maybe", 200, "worker=0 resumed=0");
		assert_int_equal(fetch(&f, &r), CURLE_OK);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body.data, "app=the-app\n"
		    "method=POST\npath=/write\n"));
		assert_non_null(strstr(r.body.data, "q:q=1\nf:x=1\n"
		    "f:y=two words\nc:sid=abc\n"));
		assert_true(has_header(&r, "Set-Cookie",
		    "out=v1; Path=/; HttpOnly; SameSite=Lax; Max-Age=600"));
		assert_true(has_header(&r, "X-Content-Type-Options",
		    "nosniff"));
		assert_true(has_header(&r, "Cache-Control", "no-store"));
		reply_free(&r);
	}
}

/* The point of it: while a writer is blocked (on its fsync, here on the
 * gate), the one HTTP thread still answers everything else, offloaded or
 * not. */
static void
test_offload_blocked_writer(void **st)
{
	struct bg b;

	(void)st;
	gate_set(0);
	bg_start(&b, srv_off, "/gate");
	assert_int_equal(gate_wait(1), 1);
	expect("/plain", 200, "worker=0");
	expect("/write", 200, "worker=1");	/* the other worker */
	expect("/maybe?w=1", 200, "worker=1 resumed=1");
	expect("/write", 200, "worker=1");
	assert_int_equal(gate_wait(1), 1);	/* still blocked */
	gate_set(1);
	bg_end(&b, 200, "released worker=1");
}

/* Every worker blocked and the queue full: 503 with Retry-After: 1 at
 * once, for the offloaded routes only; on_done counts it as before. */
static void
test_offload_queue_full(void **st)
{
	struct bg b[OFF_WORKERS];
	struct reply r;
	size_t i;

	(void)st;
	gate_set(0);
	pthread_mutex_lock(&done_lock);
	done_n = 0;
	pthread_mutex_unlock(&done_lock);
	for (i = 0; i < OFF_WORKERS; i++)
		bg_start(&b[i], srv_off, "/gate");
	assert_int_equal(gate_wait(OFF_WORKERS), OFF_WORKERS);
	for (i = 0; i < OFF_QUEUE; i++)
		assert_int_equal(pool_submit(off_pool, noop_job, NULL), 0);
	get_on(srv_off, "/write", NULL, &r);
	assert_int_equal(r.status, 503);
	assert_true(has_header(&r, "Retry-After", "1"));
	assert_non_null(strstr(r.body.data, "503 Service Unavailable"));
	reply_free(&r);
	get_on(srv_off, "/maybe?w=1", NULL, &r);
	assert_int_equal(r.status, 503);
	assert_true(has_header(&r, "Retry-After", "1"));
	reply_free(&r);
	expect("/plain", 200, "worker=0");
	expect("/maybe", 200, "worker=0 resumed=0");
	gate_set(1);
	for (i = 0; i < OFF_WORKERS; i++)
		bg_end(&b[i], 200, "released worker=1");
	expect("/write", 200, "worker=1");
	assert_true(done_wait(OFF_WORKERS + 5) >= OFF_WORKERS + 5);
	assert_true(done_has("/write", 503, 1));
	assert_true(done_has("/write", 200, 1));
	assert_true(done_has("/gate", 200, OFF_WORKERS));
	assert_true(done_has("/plain", 200, 1));
	assert_true(done_has("/maybe", 503, 1));
}

/* An offloaded handler that suspends runs again on the pool after its
 * http_resume, whether that came while it ran or later. */
static void
test_offload_suspend(void **st)
{
	int i;

	(void)st;
	for (i = 0; i < 20; i++) {
		expect("/suspend", 200, "resumed=1 value=42 worker=1");
		expect("/early", 200, "resumed=2 worker=1");
	}
}

/* ... or on the HTTP thread when the queue is full by then: a request
 * that has begun is never refused. */
static void
test_offload_resume_queue_full(void **st)
{
	struct bg hold, b[OFF_WORKERS];
	struct timespec ts;
	size_t i;

	(void)st;
	gate_set(0);
	pthread_mutex_lock(&held_lock);
	held = NULL;
	pthread_mutex_unlock(&held_lock);
	bg_start(&hold, srv_off, "/hold");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&held_lock);
	while (held == NULL && pthread_cond_timedwait(&held_cond,
	    &held_lock, &ts) == 0)
		;
	pthread_mutex_unlock(&held_lock);
	assert_non_null(held);
	/* Both workers at the gate: the hold job has returned. */
	for (i = 0; i < OFF_WORKERS; i++)
		bg_start(&b[i], srv_off, "/gate");
	assert_int_equal(gate_wait(OFF_WORKERS), OFF_WORKERS);
	for (i = 0; i < OFF_QUEUE; i++)
		assert_int_equal(pool_submit(off_pool, noop_job, NULL), 0);
	http_resume(held);
	bg_end(&hold, 200, "released worker=0");
	gate_set(1);
	for (i = 0; i < OFF_WORKERS; i++)
		bg_end(&b[i], 200, "released worker=1");
}

/* Asks /plain on one kept-alive connection until the server says it is
 * stopping (503), then opens the gate. */
struct stopper {
	unsigned port;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready;
	int saw_503;
};

static void *
stopper_run(void *arg)
{
	struct stopper *sp = arg;
	long status = 0;
	char url[128];
	struct buf body;
	CURL *c;
	int i;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/plain", sp->port);
	buf_init(&body, 1 << 20);
	c = curl_easy_init();
	if (c != NULL) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
		(void)curl_easy_perform(c);	/* connected before the stop */
	}
	pthread_mutex_lock(&sp->lock);
	sp->ready = 1;
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
	for (i = 0; c != NULL && i < 100000 && status != 503; i++) {
		if (curl_easy_perform(c) != CURLE_OK)
			break;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	}
	sp->saw_503 = status == 503;
	gate_set(1);
	curl_easy_cleanup(c);
	buf_free(&body);
	return NULL;
}

/* Stopping waits for an offloaded request that is still running, and it
 * is answered. */
static void
test_offload_stop(void **st)
{
	struct stopper sp;
	struct http_server *s;
	pthread_t t;
	struct bg b;

	(void)st;
	gate_set(0);
	assert_non_null(s = off_start(NULL));
	bg_start(&b, s, "/gate");
	assert_int_equal(gate_wait(1), 1);
	memset(&sp, 0, sizeof(sp));
	sp.port = http_server_port(s);
	pthread_mutex_init(&sp.lock, NULL);
	pthread_cond_init(&sp.cond, NULL);
	assert_int_equal(pthread_create(&t, NULL, stopper_run, &sp), 0);
	pthread_mutex_lock(&sp.lock);
	while (!sp.ready)
		pthread_cond_wait(&sp.cond, &sp.lock);
	pthread_mutex_unlock(&sp.lock);
	http_server_stop(s);	/* returns once /gate is answered */
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(sp.saw_503);
	bg_end(&b, 200, "released worker=1");
	pthread_mutex_destroy(&sp.lock);
	pthread_cond_destroy(&sp.cond);
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_urlencoded_good),
		cmocka_unit_test(test_urlencoded_duplicates),
		cmocka_unit_test(test_urlencoded_empty_and_bare),
		cmocka_unit_test(test_urlencoded_bad),
		cmocka_unit_test(test_urlencoded_limits),
		cmocka_unit_test(test_urldecode),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_cookies_bad),
		cmocka_unit_test(test_basic_good),
		cmocka_unit_test(test_basic_bad),
		cmocka_unit_test(test_response_headers),
		cmocka_unit_test(test_response_cookies),
		cmocka_unit_test(test_response_redirect_json),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_server_port),
		cmocka_unit_test(test_server_get_query_cookies),
		cmocka_unit_test(test_server_post_form),
		cmocka_unit_test(test_server_404_405),
		cmocka_unit_test(test_server_prefix_routes),
		cmocka_unit_test(test_server_bad_requests),
		cmocka_unit_test(test_server_body_limit),
		cmocka_unit_test(test_server_security_headers),
		cmocka_unit_test(test_server_secure),
		cmocka_unit_test(test_server_suspend),
		cmocka_unit_test(test_server_static),
		cmocka_unit_test(test_server_start_errors),
		cmocka_unit_test(test_server_stop_suspended),
		cmocka_unit_test(test_server_limits_hook),
		cmocka_unit_test(test_server_offload_none),
	};
	const struct CMUnitTest offload[] = {
		cmocka_unit_test(test_offload_answers),
		cmocka_unit_test(test_offload_blocked_writer),
		cmocka_unit_test(test_offload_queue_full),
		cmocka_unit_test(test_offload_suspend),
		cmocka_unit_test(test_offload_resume_queue_full),
		cmocka_unit_test(test_offload_stop),
	};
	int fails;

	log_set_level(LOG_ERR);
	fails = cmocka_run_group_tests_name("http.parse", pure, NULL, NULL);
	fails += cmocka_run_group_tests_name("http.server", live,
	    server_setup, server_teardown);
	fails += cmocka_run_group_tests_name("http.offload", offload,
	    off_setup, off_teardown);
	return fails != 0;
}
