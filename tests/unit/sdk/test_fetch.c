/*
 * test_fetch.c - the JWKS-URL verifier against a tiny HTTP server on
 * 127.0.0.1 (port 0) that counts requests: the first fetch, the refetch on
 * an unknown kid and its rate limit, periodic refresh, key rotation and
 * retirement, failures that keep the cached keys, URL rules, and many
 * threads verifying while keysets are swapped. Time moves by the injected
 * clock, never by sleeping.
 *
 * The server is plain sockets: the test programs of this folder link the
 * SDK, the keys library, cmocka and libcurl, nothing more.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mint.h"

#define T0 MINT_NOW

struct server {
	int		 fd;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	char		*body;		/* guarded by lock */
	int		 status;	/* guarded by lock */
	atomic_int	 requests;
	atomic_int	 stop;
	char		 url[64];
};

static struct mint_key k1, k2;

/* Reads the request head (a GET has no body), bounded. */
static void
server_read_request(int c)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1) {
		n = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return;
	}
}

static void
server_send(int c, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0 && (w = send(c, p, n, MSG_NOSIGNAL)) > 0) {
		p += w;
		n -= (size_t)w;
	}
}

static void
server_answer(struct server *s, int c)
{
	struct timeval tv = { 5, 0 };
	char head[256];
	int n;

	(void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	server_read_request(c);
	atomic_fetch_add(&s->requests, 1);
	pthread_mutex_lock(&s->lock);
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Location: http://127.0.0.1:1/elsewhere\r\n"
	    "Connection: close\r\n\r\n", s->status, strlen(s->body));
	server_send(c, head, (size_t)n);
	server_send(c, s->body, strlen(s->body));
	pthread_mutex_unlock(&s->lock);
}

static void *
server_main(void *arg)
{
	struct server *s = arg;
	int c;

	for (;;) {
		c = accept(s->fd, NULL, NULL);
		if (c < 0) {
			if (atomic_load(&s->stop) || errno != EINTR)
				break;
			continue;
		}
		server_answer(s, c);
		close(c);
	}
	return NULL;
}

/* Sets what the server answers from now on (body copied). */
static void
server_serve(struct server *s, int status, const char *body)
{
	char *copy = strdup(body);

	assert_non_null(copy);
	pthread_mutex_lock(&s->lock);
	free(s->body);
	s->body = copy;
	s->status = status;
	pthread_mutex_unlock(&s->lock);
}

static void
server_serve_keys(struct server *s, size_t n, const struct mint_key *keys)
{
	char *jwks = mint_jwks(n, keys);

	server_serve(s, 200, jwks);
	free(jwks);
}

static struct server *
server_start(void)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_non_null(s);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(listen(s->fd, 64), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sin, &len),
	    0);
	(void)snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u/jwks.json",
	    (unsigned int)ntohs(sin.sin_port));
	pthread_mutex_init(&s->lock, NULL);
	s->body = strdup("");
	s->status = 404;
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	return s;
}

static void
server_stop(struct server *s)
{
	atomic_store(&s->stop, 1);
	/* Wakes accept() in the server thread. */
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s->body);
	free(s);
}

static int
requests(struct server *s)
{
	return atomic_load(&s->requests);
}

static kl_verifier *
url_verifier(struct server *s, unsigned int flags, kl_error *err)
{
	kl_options opt;

	mint_options(&opt);
	opt.flags = flags;
	opt.refresh_interval = 3600;
	opt.min_refresh_interval = 60;
	opt.http_timeout_ms = 5000;
	return kl_verifier_new_url(MINT_ISSUER, s->url, &opt, err);
}

/* An access token of k that stays valid for a long while. */
static char *
lasting_token(const struct mint_key *k, const char *kid)
{
	struct mint_key named = *k;
	json_t *c = mint_access_claims();

	(void)snprintf(named.kid, sizeof(named.kid), "%s", kid);
	json_object_set_new(c, "iat", json_integer(T0));
	json_object_set_new(c, "exp", json_integer(T0 + 10000000));
	return mint_token(&named, "at+jwt", c);
}

static int
verify(kl_verifier *v, const struct mint_key *k, const char *kid)
{
	char *t = lasting_token(k, kid);
	int rc = kl_verify_access_token(v, t, MINT_AUDIENCE, NULL, NULL);

	free(t);
	return rc;
}

static int
setup(void **state)
{
	(void)state;
	k1 = mint_ec("k1", "P-256");
	k2 = mint_rsa("k2", 2048);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mint_key_free(&k1);
	mint_key_free(&k2);
	return 0;
}

static int
reset_clock(void **state)
{
	(void)state;
	atomic_store(&mint_clock, T0);
	return 0;
}

static void
test_unknown_kid_refetch(void **state)
{
	struct server *s = server_start();
	struct mint_key both[2] = { k1, k2 };
	kl_verifier *v;
	kl_error err;

	(void)state;
	server_serve_keys(s, 1, &k1);
	v = url_verifier(s, 0, &err);
	assert_non_null(v);
	assert_int_equal(requests(s), 1);
	assert_int_equal(verify(v, &k1, "k1"), KL_OK);
	assert_int_equal(requests(s), 1);
	/* An unknown kid: exactly one refetch, the kid is still unknown. */
	atomic_store(&mint_clock, T0 + 61);
	assert_int_equal(verify(v, &k2, "k9"), KL_ERR_UNKNOWN_KID);
	assert_int_equal(requests(s), 2);
	/* More unknown kids within min_refresh_interval: no fetch. */
	atomic_store(&mint_clock, T0 + 61 + 59);
	assert_int_equal(verify(v, &k2, "k8"), KL_ERR_UNKNOWN_KID);
	assert_int_equal(verify(v, &k2, "k9"), KL_ERR_UNKNOWN_KID);
	assert_int_equal(requests(s), 2);
	/* Once the interval has passed, one more. */
	atomic_store(&mint_clock, T0 + 61 + 60);
	assert_int_equal(verify(v, &k2, "k8"), KL_ERR_UNKNOWN_KID);
	assert_int_equal(requests(s), 3);
	/* Rotation: the issuer publishes k2; its first token fetches it. */
	server_serve_keys(s, 2, both);
	atomic_store(&mint_clock, T0 + 200);
	assert_int_equal(verify(v, &k2, "k2"), KL_OK);
	assert_int_equal(requests(s), 4);
	assert_int_equal(verify(v, &k2, "k2"), KL_OK);
	assert_int_equal(verify(v, &k1, "k1"), KL_OK);
	assert_int_equal(requests(s), 4);
	/* Retirement: k1 leaves the JWKS; after the next refresh its tokens
	 * are refused. */
	server_serve_keys(s, 1, &k2);
	atomic_store(&mint_clock, T0 + 200 + 3600);
	assert_int_equal(verify(v, &k1, "k1"), KL_ERR_UNKNOWN_KID);
	assert_int_equal(requests(s), 5);
	assert_int_equal(verify(v, &k2, "k2"), KL_OK);
	kl_verifier_free(v);
	server_stop(s);
}

static void
test_periodic_refresh(void **state)
{
	struct server *s = server_start();
	kl_verifier *v;

	(void)state;
	server_serve_keys(s, 1, &k1);
	v = url_verifier(s, 0, NULL);
	assert_non_null(v);
	atomic_store(&mint_clock, T0 + 3599);
	assert_int_equal(verify(v, &k1, "k1"), KL_OK);
	assert_int_equal(requests(s), 1);
	atomic_store(&mint_clock, T0 + 3600);
	assert_int_equal(verify(v, &k1, "k1"), KL_OK);
	assert_int_equal(requests(s), 2);
	assert_int_equal(verify(v, &k1, "k1"), KL_OK);
	assert_int_equal(requests(s), 2);
	kl_verifier_free(v);
	server_stop(s);
}

static void
test_failed_refresh_keeps_keys(void **state)
{
	struct server *s = server_start();
	struct mint_key weak = mint_rsa("weak", 1024);
	struct mint_key both[2] = { k1, k2 };
	kl_verifier *v;

	(void)state;
	server_serve_keys(s, 1, &k1);
	v = url_verifier(s, 0, NULL);
	assert_non_null(v);
	/* The issuer fails: the cached keys still verify its tokens. */
	server_serve(s, 500, "oops");
	atomic_store(&mint_clock, T0 + 3600);
	assert_int_equal(verify(v, &k1, "k1"), KL_OK);
	assert_int_equal(requests(s), 2);
	atomic_store(&mint_clock, T0 + 3600 + 59);
	assert_int_equal(verify(v, &k1, "k1"), KL_OK);
	assert_int_equal(requests(s), 2);
	/* An unknown kid while the issuer fails: could not check. */
	atomic_store(&mint_clock, T0 + 3600 + 60);
	assert_int_equal(verify(v, &k2, "k2"), KL_ERR_FETCH);
	assert_int_equal(requests(s), 3);
	/* A refused document (weak key) keeps the old keys too. */
	server_serve_keys(s, 1, &weak);
	atomic_store(&mint_clock, T0 + 3600 + 120);
	assert_int_equal(verify(v, &k2, "k2"), KL_ERR_JWKS);
	assert_int_equal(verify(v, &k1, "k1"), KL_OK);
	assert_int_equal(requests(s), 4);
	/* The issuer recovers. */
	server_serve_keys(s, 2, both);
	atomic_store(&mint_clock, T0 + 3600 + 180);
	assert_int_equal(verify(v, &k2, "k2"), KL_OK);
	assert_int_equal(requests(s), 5);
	kl_verifier_free(v);
	mint_key_free(&weak);
	server_stop(s);
}

static void
test_first_fetch_errors(void **state)
{
	struct server *s = server_start();
	kl_error err;
	char *big;

	(void)state;
	server_serve(s, 404, "{}");
	assert_null(url_verifier(s, 0, &err));
	assert_int_equal(err.code, KL_ERR_FETCH);
	server_serve(s, 200, "not json");
	assert_null(url_verifier(s, 0, &err));
	assert_int_equal(err.code, KL_ERR_JWKS);
	/* Redirects are not followed. */
	server_serve(s, 302, "");
	assert_null(url_verifier(s, 0, &err));
	assert_int_equal(err.code, KL_ERR_FETCH);
	/* Larger than KL_JWKS_MAX. */
	big = malloc(KL_JWKS_MAX + 1001);
	memset(big, ' ', KL_JWKS_MAX + 1000);
	big[KL_JWKS_MAX + 1000] = '\0';
	server_serve(s, 200, big);
	free(big);
	assert_null(url_verifier(s, 0, &err));
	assert_int_equal(err.code, KL_ERR_FETCH);
	assert_int_equal(requests(s), 4);
	server_stop(s);
}

static void
test_lazy_fetch(void **state)
{
	struct server *s = server_start();
	kl_verifier *v;

	(void)state;
	server_serve(s, 503, "");
	v = url_verifier(s, KL_LAZY_FETCH, NULL);
	assert_non_null(v);
	assert_int_equal(requests(s), 0);
	/* No keys can be had: could not check, not "rejected". */
	assert_int_equal(verify(v, &k1, "k1"), KL_ERR_FETCH);
	assert_int_equal(requests(s), 1);
	assert_int_equal(verify(v, &k1, "k1"), KL_ERR_FETCH);
	assert_int_equal(requests(s), 1);
	server_serve_keys(s, 1, &k1);
	atomic_store(&mint_clock, T0 + 60);
	assert_int_equal(verify(v, &k1, "k1"), KL_OK);
	assert_int_equal(requests(s), 2);
	kl_verifier_free(v);
	server_stop(s);
}

static void
test_url_rules(void **state)
{
	static const char *refused[] = {
		"http://example.com/jwks.json",
		"http://127.0.0.1.example.com/jwks.json",
		"http://localhost.example.com/jwks.json",
		"ftp://127.0.0.1/jwks.json",
		"file:///etc/passwd",
		"not a url",
		"",
	};
	static const char *lazy_ok[] = {
		"https://sso.example.gr/jwks.json",
		"http://localhost:1/jwks.json",
		"http://[::1]:1/jwks.json",
		"HTTPS://127.0.0.1:1/jwks.json",
	};
	kl_options opt;
	kl_error err;
	kl_verifier *v;
	size_t i;

	(void)state;
	mint_options(&opt);
	opt.flags = KL_LAZY_FETCH;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_null(kl_verifier_new_url(MINT_ISSUER, refused[i], &opt,
		    &err));
		assert_int_equal(err.code, KL_ERR_ARGUMENT);
	}
	for (i = 0; i < sizeof(lazy_ok) / sizeof(lazy_ok[0]); i++) {
		v = kl_verifier_new_url(MINT_ISSUER, lazy_ok[i], &opt, &err);
		assert_non_null(v);
		kl_verifier_free(v);
	}
	/* Nothing listens on port 1: the fetch fails, quickly. */
	v = kl_verifier_new_url(MINT_ISSUER, "https://127.0.0.1:1/jwks.json",
	    &opt, &err);
	assert_non_null(v);
	assert_int_equal(verify(v, &k1, "k1"), KL_ERR_FETCH);
	kl_verifier_free(v);
}

/* ---- many threads verifying while keysets are swapped */

#define THREADS		4
#define PER_THREAD	1000

struct worker {
	kl_verifier	*v;
	char		*tokens[2];
	int		 ok;
	atomic_int	*done;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++)
		if (kl_verify_access_token(w->v, w->tokens[i % 2],
		    MINT_AUDIENCE, NULL, NULL) == KL_OK)
			w->ok++;
	atomic_fetch_add(w->done, 1);
	return NULL;
}

static void
test_threads(void **state)
{
	struct server *s = server_start();
	struct mint_key both[2] = { k1, k2 };
	struct worker w[THREADS];
	pthread_t th[THREADS];
	atomic_int done = 0;
	char *t1 = lasting_token(&k1, "k1"), *t2 = lasting_token(&k2, "k2");
	int i, seen;

	(void)state;
	server_serve_keys(s, 1, &k1);
	w[0].v = url_verifier(s, 0, NULL);
	assert_non_null(w[0].v);
	/* k2 appears: the first k2 token refetches, the others wait. */
	server_serve_keys(s, 2, both);
	atomic_store(&mint_clock, T0 + 61);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ w[0].v, { t1, t2 }, 0, &done };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main,
		    &w[i]), 0);
	}
	/* Meanwhile make refreshes due, again and again, so that keysets
	 * are replaced under the workers' feet. */
	for (i = 0; i < 20 && atomic_load(&done) < THREADS; i++) {
		seen = requests(s);
		atomic_fetch_add(&mint_clock, 3600);
		while (requests(s) == seen && atomic_load(&done) < THREADS)
			sched_yield();
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, PER_THREAD);
	}
	assert_true(requests(s) >= 2);
	kl_verifier_free(w[0].v);
	free(t1);
	free(t2);
	server_stop(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_unknown_kid_refetch, reset_clock),
		cmocka_unit_test_setup(test_periodic_refresh, reset_clock),
		cmocka_unit_test_setup(test_failed_refresh_keeps_keys,
		    reset_clock),
		cmocka_unit_test_setup(test_first_fetch_errors, reset_clock),
		cmocka_unit_test_setup(test_lazy_fetch, reset_clock),
		cmocka_unit_test_setup(test_url_rules, reset_clock),
		cmocka_unit_test_setup(test_threads, reset_clock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
