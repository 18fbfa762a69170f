/*
 * bench_signin.c - complete sign-ins against a running Kleidi, and their
 * ceiling. Three modes:
 *
 * flow BASE CLIENT SECRET USERS PASSWORD THREADS SECONDS [SKIP]
 *	THREADS concurrent browsers (libcurl, own cookie jar each) sign in,
 *	each user of the file USERS ("username base32-secret" lines, from
 *	bench_gen) at most once, skipping the first SKIP: GET /authorize
 *	(PKCE S256) -> POST /login -> POST /login/otp (TOTP) -> code
 *	exchange at /token (client_secret_basic) -> GET /userinfo. Runs until
 *	SECONDS pass or the users run out. Prints
 *	  signin_flow: N complete sign-ins, rate R/s, p50 P ms, p99 Q ms
 *	  RESULT rate=R p50_ms=P failures=F
 * tokens BASE CLIENT SECRET USERS PASSWORD N OUT
 *	signs the first user of USERS in once, then takes N more codes with
 *	that session (single sign-on: /authorize answers the code at once)
 *	and exchanges each: OUT gets N lines "refresh_token access_token",
 *	N refresh-token families for the refresh and introspection loads.
 * argon2 THREADS SECONDS T_COST M_KIB
 *	the ceiling: raw argon2id hashes per second (libargon2, one hash at
 *	a time per thread) with those parameters. Prints RESULT rate=R.
 * storm BASE CLIENT N
 *	N simultaneous password submissions (each its own browser, its own
 *	sign-in page opened first, a wrong password for an unknown user), so
 *	that more arrive than the pool and its queue hold. Prints
 *	  RESULT sent=N ok=A busy=B busy_retry_after=C other=D
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <argon2.h>
#include <curl/curl.h>
#include <jansson.h>
#include <liboath/oath.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bench_http.h"
#include "harness.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define VERIFIER "bench-pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
#define MAX_USERS 100000

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static CURL *
browser(void)
{
	CURL *c = curl_easy_init();

	if (c != NULL) {
		curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	}
	return c;
}

/* ---- the sign-in flow */

struct user_line {
	char name[64];
	char secret[64];
};

struct flow_ctx {
	const char *base, *client, *password;
	char basic[512];
	char challenge[64];
	struct user_line *users;
	size_t nusers;
	atomic_size_t next;
	double deadline;
	double *lat;		/* per completed sign-in, seconds */
	atomic_size_t done, failed;
};

static int
fail(const char *step, const struct user_line *u, const struct resp *r)
{
	(void)fprintf(stderr, "bench_signin: %s for %s: status %ld %.120s\n",
	    step, u->name, r->status, r->body);
	return -1;
}

static int
signin_one(struct flow_ctx *fc, CURL *c, const struct user_line *u,
    struct resp *r)
{
	char url[2048], body[2048], csrf[256], code[256], otp[7], at[4096];
	json_t *j;

	(void)snprintf(url, sizeof(url), "%s/authorize?response_type=code"
	    "&client_id=%s&redirect_uri=%s&scope=openid%%20profile&state=st"
	    "&nonce=n1&code_challenge_method=S256&code_challenge=%s",
	    fc->base, fc->client, REDIRECT, fc->challenge);
	if (request(c, url, NULL, NULL, r) != 0 || r->status != 200 ||
	    html_input_value(r->body, "csrf", csrf, sizeof(csrf)) != 0)
		return fail("authorize", u, r);
	(void)snprintf(url, sizeof(url), "%s/login", fc->base);
	(void)snprintf(body, sizeof(body), "username=%s&password=%s&csrf=%s",
	    u->name, fc->password, csrf);
	if (request(c, url, NULL, body, r) != 0 || r->status != 200 ||
	    strstr(r->body, "name=\"otp\"") == NULL ||
	    html_input_value(r->body, "csrf", csrf, sizeof(csrf)) != 0)
		return fail("login", u, r);
	if (totp_now(u->secret, otp) != 0)
		return -1;
	(void)snprintf(url, sizeof(url), "%s/login/otp", fc->base);
	(void)snprintf(body, sizeof(body), "csrf=%s&method=totp&otp=%s", csrf,
	    otp);
	if (request(c, url, NULL, body, r) != 0 || r->status != 302 ||
	    url_param(r->location, "code", code, sizeof(code)) != 0)
		return fail("otp", u, r);
	(void)snprintf(url, sizeof(url), "%s/token", fc->base);
	(void)snprintf(body, sizeof(body), "grant_type=authorization_code"
	    "&code=%s&redirect_uri=%s&code_verifier=%s", code, REDIRECT,
	    VERIFIER);
	if (request(c, url, fc->basic, body, r) != 0 || r->status != 200 ||
	    (j = json_loads(r->body, 0, NULL)) == NULL)
		return fail("token", u, r);
	(void)snprintf(at, sizeof(at), "Bearer %s",
	    json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	(void)snprintf(url, sizeof(url), "%s/userinfo", fc->base);
	if (request(c, url, at, NULL, r) != 0 || r->status != 200)
		return fail("userinfo", u, r);
	return 0;
}

static void *
flow_thread(void *arg)
{
	struct flow_ctx *fc = arg;
	struct resp *r = malloc(sizeof(*r));
	CURL *c;
	size_t i;
	double t0;

	if (r == NULL)
		return NULL;
	while (now_s() < fc->deadline &&
	    (i = atomic_fetch_add(&fc->next, 1)) < fc->nusers) {
		if ((c = browser()) == NULL)
			break;
		t0 = now_s();
		if (signin_one(fc, c, &fc->users[i], r) == 0)
			fc->lat[atomic_fetch_add(&fc->done, 1)] = now_s() - t0;
		else
			atomic_fetch_add(&fc->failed, 1);
		curl_easy_cleanup(c);
	}
	free(r);
	return NULL;
}

static size_t
load_users(const char *path, size_t skip, struct user_line *u, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t n = 0, seen = 0;

	if (f == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL)
		if (seen++ >= skip && sscanf(line, "%63s %63s", u[n].name,
		    u[n].secret) == 2)
			n++;
	(void)fclose(f);
	return n;
}

static int
mode_flow(int argc, char **argv)
{
	static struct flow_ctx fc;
	unsigned char h[32];
	char *ch;
	pthread_t th[64];
	int i, nt;
	double secs, t0, el;

	if (argc < 9)
		return 2;
	fc.base = argv[2];
	fc.client = argv[3];
	fc.password = argv[6];
	nt = atoi(argv[7]);
	secs = atof(argv[8]);
	basic(fc.basic, sizeof(fc.basic), fc.client, argv[4]);
	SHA256((const unsigned char *)VERIFIER, strlen(VERIFIER), h);
	ch = b64url_encode(h, 32);
	str_copy(fc.challenge, ch, sizeof(fc.challenge));
	free(ch);
	fc.users = calloc(MAX_USERS, sizeof(*fc.users));
	fc.lat = calloc(MAX_USERS, sizeof(*fc.lat));
	if (fc.users == NULL || fc.lat == NULL || nt < 1 || nt > 64)
		return 1;
	fc.nusers = load_users(argv[5], argc > 9 ? strtoul(argv[9], NULL, 10)
	    : 0, fc.users, MAX_USERS);
	t0 = now_s();
	fc.deadline = t0 + secs;
	for (i = 0; i < nt; i++)
		(void)pthread_create(&th[i], NULL, flow_thread, &fc);
	for (i = 0; i < nt; i++)
		(void)pthread_join(th[i], NULL);
	el = now_s() - t0;
	if (fc.done == 0) {
		(void)printf("RESULT rate=0 p50_ms=0 failures=%zu\n",
		    (size_t)fc.failed);
		return 1;
	}
	qsort(fc.lat, fc.done, sizeof(double), cmp_double);
	(void)printf("signin_flow: %zu complete sign-ins in %.1f s, rate "
	    "%.2f/s, p50 %.0f ms, p99 %.0f ms, %zu failed\n", (size_t)fc.done,
	    el, (double)fc.done / el, fc.lat[fc.done / 2] * 1e3,
	    fc.lat[fc.done * 99 / 100] * 1e3, (size_t)fc.failed);
	(void)printf("RESULT rate=%.3f p50_ms=%.1f failures=%zu\n",
	    (double)fc.done / el, fc.lat[fc.done / 2] * 1e3,
	    (size_t)fc.failed);
	return fc.failed == 0 ? 0 : 1;
}

/* ---- tokens for the refresh and introspection loads */

static int
one_code(struct flow_ctx *fc, CURL *c, struct resp *r, FILE *out)
{
	char url[2048], body[2048], code[256];
	json_t *j;
	const char *rt, *at;
	int rc = -1;

	(void)snprintf(url, sizeof(url), "%s/authorize?response_type=code"
	    "&client_id=%s&redirect_uri=%s&scope=openid%%20offline_access"
	    "&state=st&nonce=n1&code_challenge_method=S256"
	    "&code_challenge=%s", fc->base, fc->client, REDIRECT,
	    fc->challenge);
	if (request(c, url, NULL, NULL, r) != 0 || r->status != 302 ||
	    url_param(r->location, "code", code, sizeof(code)) != 0) {
		(void)fprintf(stderr, "bench_signin: authorize with a session: "
		    "%ld\n", r->status);
		return -1;
	}
	(void)snprintf(url, sizeof(url), "%s/token", fc->base);
	(void)snprintf(body, sizeof(body), "grant_type=authorization_code"
	    "&code=%s&redirect_uri=%s&code_verifier=%s", code, REDIRECT,
	    VERIFIER);
	if (request(c, url, fc->basic, body, r) != 0 || r->status != 200 ||
	    (j = json_loads(r->body, 0, NULL)) == NULL)
		return -1;
	rt = json_string_value(json_object_get(j, "refresh_token"));
	at = json_string_value(json_object_get(j, "access_token"));
	if (rt != NULL && at != NULL) {
		(void)fprintf(out, "%s %s\n", rt, at);
		rc = 0;
	} else
		(void)fprintf(stderr, "bench_signin: no refresh token\n");
	json_decref(j);
	return rc;
}

static int
mode_tokens(int argc, char **argv)
{
	static struct flow_ctx fc;
	static struct user_line u;
	unsigned char h[32];
	struct resp *r = malloc(sizeof(*r));
	CURL *c = browser();
	FILE *out;
	char *ch;
	int i, n, rc = 1;

	if (argc < 9 || r == NULL || c == NULL)
		return 2;
	fc.base = argv[2];
	fc.client = argv[3];
	fc.password = argv[6];
	n = atoi(argv[7]);
	basic(fc.basic, sizeof(fc.basic), fc.client, argv[4]);
	SHA256((const unsigned char *)VERIFIER, strlen(VERIFIER), h);
	ch = b64url_encode(h, 32);
	str_copy(fc.challenge, ch, sizeof(fc.challenge));
	free(ch);
	if (load_users(argv[5], 0, &u, 1) != 1 ||
	    (out = fopen(argv[8], "w")) == NULL)
		return 1;
	if (signin_one(&fc, c, &u, r) == 0) {
		for (i = 0; i < n; i++)
			if (one_code(&fc, c, r, out) != 0)
				break;
		rc = i == n ? 0 : 1;
	}
	(void)fclose(out);
	curl_easy_cleanup(c);
	free(r);
	return rc;
}

/* ---- the ceiling: argon2id alone */

struct argon2_ctx {
	uint32_t t, m;
	double deadline;
	atomic_ulong n;
};

static void *
argon2_thread(void *arg)
{
	struct argon2_ctx *a = arg;
	static const char pw[] = "correct horse battery staple";
	unsigned char salt[16] = "kleidi-bench-slt", out[32];

	while (now_s() < a->deadline) {
		if (argon2id_hash_raw(a->t, a->m, 1, pw, sizeof(pw) - 1, salt,
		    sizeof(salt), out, sizeof(out)) != ARGON2_OK)
			break;
		atomic_fetch_add(&a->n, 1);
	}
	return NULL;
}

static int
mode_argon2(int argc, char **argv)
{
	static struct argon2_ctx a;
	pthread_t th[64];
	int i, nt;
	double t0;

	if (argc < 6 || (nt = atoi(argv[2])) < 1 || nt > 64)
		return 2;
	a.t = (uint32_t)strtoul(argv[4], NULL, 10);
	a.m = (uint32_t)strtoul(argv[5], NULL, 10);
	t0 = now_s();
	a.deadline = t0 + atof(argv[3]);
	for (i = 0; i < nt; i++)
		(void)pthread_create(&th[i], NULL, argon2_thread, &a);
	for (i = 0; i < nt; i++)
		(void)pthread_join(th[i], NULL);
	(void)printf("RESULT rate=%.3f\n", (double)a.n / (now_s() - t0));
	return 0;
}

/* ---- the storm: more password submissions at once than the pool holds */

struct storm_ctx {
	const char *base, *client;
	pthread_barrier_t go;
	atomic_int ok, busy, busy_ra, other;
};

static void *
storm_thread(void *arg)
{
	struct storm_ctx *s = arg;
	struct resp *r = malloc(sizeof(*r));
	char url[1024], body[512], csrf[256];
	CURL *c = browser();
	int ready = 0;

	if (r != NULL && c != NULL) {
		(void)snprintf(url, sizeof(url), "%s/authorize?response_type="
		    "code&client_id=%s&redirect_uri=%s&scope=openid&state=s"
		    "&nonce=n", s->base, s->client, REDIRECT);
		ready = request(c, url, NULL, NULL, r) == 0 &&
		    html_input_value(r->body, "csrf", csrf, sizeof(csrf)) == 0;
	}
	(void)pthread_barrier_wait(&s->go);
	if (ready) {
		(void)snprintf(url, sizeof(url), "%s/login", s->base);
		(void)snprintf(body, sizeof(body), "username=nobody-%p&"
		    "password=wrong-password-1&csrf=%s", (void *)r, csrf);
		ready = request(c, url, NULL, body, r) == 0;
	}
	if (!ready)
		atomic_fetch_add(&s->other, 1);
	else if (r->status == 503) {
		atomic_fetch_add(&s->busy, 1);
		if (r->retry_after)
			atomic_fetch_add(&s->busy_ra, 1);
	} else if (r->status == 200)
		atomic_fetch_add(&s->ok, 1);
	else
		atomic_fetch_add(&s->other, 1);
	curl_easy_cleanup(c);
	free(r);
	return NULL;
}

static int
mode_storm(int argc, char **argv)
{
	static struct storm_ctx s;
	pthread_t *th;
	int i, n;

	if (argc < 5 || (n = atoi(argv[4])) < 1 || n > 2000)
		return 2;
	s.base = argv[2];
	s.client = argv[3];
	if ((th = calloc((size_t)n, sizeof(*th))) == NULL)
		return 1;
	(void)pthread_barrier_init(&s.go, NULL, (unsigned)n);
	for (i = 0; i < n; i++)
		(void)pthread_create(&th[i], NULL, storm_thread, &s);
	for (i = 0; i < n; i++)
		(void)pthread_join(th[i], NULL);
	(void)printf("RESULT sent=%d ok=%d busy=%d busy_retry_after=%d "
	    "other=%d\n", n, s.ok, s.busy, s.busy_ra, s.other);
	free(th);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = 2;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    oath_init() != OATH_OK)
		return 1;
	if (argc > 1 && strcmp(argv[1], "flow") == 0)
		rc = mode_flow(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "argon2") == 0)
		rc = mode_argon2(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "storm") == 0)
		rc = mode_storm(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "tokens") == 0)
		rc = mode_tokens(argc, argv);
	if (rc == 2)
		(void)fprintf(stderr, "usage: see the comment at the top of "
		    "tests/bench/bench_signin.c\n");
	return rc;
}
