/*
 * test_limits.c - the server's request limits ([server] in kleidi.ini),
 * each set low: an oversized body is a 413, too many fields a 400,
 * oversized headers a 431 (or a closed connection), too many connections
 * from one address are refused while the earlier ones still work, a slow
 * client that sends half a request is cut off after connection_timeout,
 * an oversized token is a 400. After each, a normal request still
 * succeeds: the server keeps serving.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "harness.h"

#define BODY_MAX 2048
#define FIELDS_MAX 8
#define HEADER_MAX 8192
#define TOKEN_MAX 1024
#define TIMEOUT_S 2
#define PER_IP 4

static struct harness h;

static int
setup(void **state)
{
	static const char ini[] = "[password]\nargon2_t_cost = 1\n"
	    "argon2_m_cost_kib = 8192\n[limits]\nsignin_burst = 10000\n"
	    "[server]\nbody_max = 2048\nfields_max = 8\nheader_max = 8192\n"
	    "token_max = 1024\nconnection_timeout = 2\n"
	    "per_ip_connection_limit = 4\n";
	char path[512];

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	(void)snprintf(path, sizeof(path), "%s/kleidi.ini", h.dir);
	assert_int_equal(file_write(path, ini, sizeof(ini) - 1, 0600, 0), 0);
	assert_int_equal(harness_start(&h), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	harness_cleanup(&h);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The server still answers an ordinary request. Right after connections
 * were refused or cut, MHD may not have counted them out yet: a few
 * tries, bounded. */
static void
still_serving(void)
{
	struct browser *b = browser_new();
	char url[256];
	struct page p;
	int i;

	assert_non_null(b);
	(void)snprintf(url, sizeof(url), "%s/.well-known/openid-configuration",
	    h.base);
	for (i = 0; i < 50; i++) {
		memset(&p, 0, sizeof(p));
		if (browser_get(b, url, NULL, &p) == 0 && p.status == 200)
			break;
		page_free(&p);
		usleep(100000);
	}
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body.data, "\"issuer\""));
	page_free(&p);
	browser_free(b);
}

/* A TCP connection to the server, or -1. */
static int
dial(void)
{
	struct sockaddr_in sin;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)h.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, s, n, MSG_NOSIGNAL)) <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads what comes within ms into out (NUL-terminated): the byte count,
 * 0 when the server closed the connection first, -1 on a timeout with
 * nothing read; a reset counts as closed. */
static long
read_reply(int fd, char *out, size_t size, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	double end = now_s() + ms / 1000.0;
	size_t got = 0;
	ssize_t r;

	out[0] = '\0';
	while (got + 1 < size) {
		int left = (int)((end - now_s()) * 1000);

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return got > 0 ? (long)got : -1;
		r = recv(fd, out + got, size - 1 - got, 0);
		if (r <= 0)
			break;	/* closed (or reset) */
		got += (size_t)r;
		out[got] = '\0';
		if (strstr(out, "\r\n\r\n") != NULL && got > 12)
			break;	/* the status line and headers are in */
	}
	return (long)got;
}

static void
test_body_too_large(void **state)
{
	static char body[BODY_MAX * 2 + 1];
	struct browser *b = browser_new();
	char url[256];
	struct page p;

	(void)state;
	/* Refused on its Content-Length, before a byte of it is read. */
	memset(body, 'a', sizeof(body) - 1);
	(void)snprintf(url, sizeof(url), "%s/token", h.base);
	memset(&p, 0, sizeof(p));
	assert_int_equal(browser_post(b, url, NULL, body, &p), 0);
	assert_int_equal(p.status, 413);
	page_free(&p);
	browser_free(b);
	still_serving();
}

static void
test_too_many_fields(void **state)
{
	struct browser *b = browser_new();
	char url[256], body[256] = "";
	struct page p;
	int i;

	(void)state;
	for (i = 0; i <= FIELDS_MAX; i++)
		(void)snprintf(body + strlen(body), sizeof(body) - strlen(body),
		    "%sf%d=1", i > 0 ? "&" : "", i);
	(void)snprintf(url, sizeof(url), "%s/token", h.base);
	memset(&p, 0, sizeof(p));
	assert_int_equal(browser_post(b, url, NULL, body, &p), 0);
	/* The adapter's page, not the token endpoint's JSON error. */
	assert_int_equal(p.status, 400);
	assert_non_null(strstr(p.body.data, "Bad Request"));
	page_free(&p);
	browser_free(b);
	still_serving();
}

static void
test_headers_too_large(void **state)
{
	static char req[HEADER_MAX * 2];
	char reply[4096];
	size_t n;
	long got;
	int fd;

	(void)state;
	n = (size_t)snprintf(req, sizeof(req), "GET "
	    "/.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n"
	    "X-Padding: ");
	memset(req + n, 'p', HEADER_MAX + 100);
	n += HEADER_MAX + 100;
	n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n\r\n");
	assert_true((fd = dial()) != -1);
	/* The server may close before it has read it all. */
	(void)send_all(fd, req, n);
	got = read_reply(fd, reply, sizeof(reply), 10000);
	close(fd);
	/* 431 Request Header Fields Too Large, or closed without a word;
	 * never a timeout, never a 200. */
	assert_true(got >= 0);
	if (got > 0)
		assert_non_null(strstr(reply, " 431 "));
	still_serving();
}

/* Opens PER_IP connections and one more: the one more must be closed at
 * once, and then every earlier one served. 1 when all went so, 0 when an
 * earlier one was refused too (the server had not yet counted out a
 * connection of an earlier test: the caller tries again). */
static int
per_address_round(void)
{
	static const char get[] = "GET /.well-known/openid-configuration "
	    "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char reply[4096];
	int fds[PER_IP], extra, i, ok = 1;

	for (i = 0; i < PER_IP; i++)
		assert_true((fds[i] = dial()) != -1);
	/* The kernel accepts the next one; the server closes it at once. */
	assert_true((extra = dial()) != -1);
	assert_int_equal(read_reply(extra, reply, sizeof(reply), 1500), 0);
	close(extra);
	/* The earlier ones are served (well within connection_timeout). */
	for (i = 0; i < PER_IP; i++) {
		if (send_all(fds[i], get, sizeof(get) - 1) == -1 ||
		    read_reply(fds[i], reply, sizeof(reply), 5000) <= 0)
			ok = 0;
		else
			assert_non_null(strstr(reply, "HTTP/1.1 200 "));
		close(fds[i]);
	}
	return ok;
}

static void
test_per_address_connections(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 10 && !per_address_round(); i++)
		usleep(300000);
	assert_true(i < 10);
	still_serving();
}

static void
test_slow_client(void **state)
{
	static const char half[] = "GET /.well-known/openid-configuration "
	    "HTTP/1.1\r\nHost: x\r\nUser-";
	char reply[1024];
	double t0, waited;
	long got;
	int fd;

	(void)state;
	assert_true((fd = dial()) != -1);
	t0 = now_s();
	assert_int_equal(send_all(fd, half, sizeof(half) - 1), 0);
	/* Then nothing: the server must hang up after the timeout, not
	 * wait for ever (bounded here at five times the timeout). */
	got = read_reply(fd, reply, sizeof(reply), TIMEOUT_S * 5000);
	waited = now_s() - t0;
	close(fd);
	assert_true(got == 0 || (got > 0 && strstr(reply, " 408 ") != NULL));
	assert_true(waited >= TIMEOUT_S - 0.5);
	assert_true(waited < TIMEOUT_S * 5);
	still_serving();
}

static void
test_token_too_long(void **state)
{
	static char token[TOKEN_MAX + 100], auth[TOKEN_MAX + 200];
	static char body[TOKEN_MAX + 200];
	struct browser *b = browser_new();
	char url[256];
	struct page p;

	(void)state;
	memset(token, 'A', sizeof(token) - 1);
	(void)snprintf(auth, sizeof(auth), "Bearer %s", token);
	(void)snprintf(url, sizeof(url), "%s/userinfo", h.base);
	memset(&p, 0, sizeof(p));
	assert_int_equal(browser_get(b, url, auth, &p), 0);
	/* The adapter refuses it before the handler (which would answer
	 * 401 invalid_token) parses anything. */
	assert_int_equal(p.status, 400);
	page_free(&p);
	/* A short bad token reaches the handler: 401. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(browser_get(b, url, "Bearer abc", &p), 0);
	assert_int_equal(p.status, 401);
	page_free(&p);
	/* A refresh token parameter over the limit too. */
	(void)snprintf(body, sizeof(body), "grant_type=refresh_token&"
	    "refresh_token=%s", token);
	(void)snprintf(url, sizeof(url), "%s/token", h.base);
	memset(&p, 0, sizeof(p));
	assert_int_equal(browser_post(b, url, NULL, body, &p), 0);
	assert_int_equal(p.status, 400);
	assert_non_null(strstr(p.body.data, "Bad Request"));
	page_free(&p);
	browser_free(b);
	still_serving();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_headers_too_large),
		cmocka_unit_test(test_per_address_connections),
		cmocka_unit_test(test_slow_client),
		cmocka_unit_test(test_token_too_long),
	};

	return cmocka_run_group_tests_name("limits", tests, setup, teardown);
}
