/*
 * bench_soak.c - the load of the soak (tests/bench/soak.sh): a bounded,
 * rate-limited mix against one running Kleidi, measured window by window.
 *
 * Usage: bench_soak BASE PID SECONDS WINDOW WARMUP WEB_SECRET SVC_SECRET
 *            USERS PASSWORD TOKENS KLEIDI DATA ADMIN_USER
 *
 * One thread per kind of request, each at a fixed target rate (RATE_*
 * below; a thread that falls behind skips rather than bursts), keep-alive
 * connections, everything to BASE (127.0.0.1):
 *	cc	 POST /token client_credentials (client svc)
 *	refresh	 POST /token refresh_token, chaining the families of TOKENS
 *		 ("refresh_token access_token" lines from bench_signin tokens)
 *	introspect POST /introspect of the latest access token (active:true)
 *	userinfo GET /userinfo with the latest access token
 *	signin	 a complete sign-in (authorize, password, TOTP, code, userinfo)
 *		 of the next user of USERS (round robin; one per 30 s step)
 *	admin	 `KLEIDI grant add|revoke ADMIN_USER web soak-role --data DATA`
 *		 alternately (the CLI writing the store under the server)
 * Every WINDOW seconds prints one line: the server's resident memory
 * from /proc/PID/status - rss_kib (VmRSS) = anon_kib (RssAnon: heap,
 * stacks; what a leak grows) + file_kib (RssFile + RssShmem: mostly
 * the store's pages, which grow with the data kept) - and per kind the requests, errors (transport failure
 * or a status other than the success expected) and p50/p99 of that
 * window. Stops after SECONDS, or at once when the server is gone. Ends
 * with
 *	METRIC soak_errors=N unit=requests
 *	METRIC soak_rss_growth=K unit=KiB  (anonymous memory: last window -
 *		first after WARMUP; half=the same over the second half only,
 *		which a leak grows as much as the first and a warming cache
 *		does not)
 *	METRIC soak_file_rss_growth=K unit=KiB (the store's pages, the same)
 *	METRIC soak_p99_<kind>=X unit=ms   (all windows after WARMUP)
 * Exit 0 when no request failed and the server lived throughout, else 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <liboath/oath.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bench_http.h"
#include "harness.h"

extern char **environ;

#define REDIRECT "http://127.0.0.1:9/cb"
#define VERIFIER "bench-pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
#define WINDOW_SAMPLES_MAX 65536	/* latencies kept per kind per window */
#define RUN_SAMPLES_MAX (1 << 20)	/* per kind over the run */
#define USERS_MAX 100000
#define FAMILIES 4			/* refresh-token families chained */
#define TOKEN_MAX 4096
#define WINDOWS_MAX 4096		/* RSS samples after the warm-up */

/* Target rates, requests per second: well under what the sanitized
 * server does on 2 cores, so that latency measures the server and not a
 * queue. */
#define RATE_CC 40.0
#define RATE_REFRESH 5.0
#define RATE_INTROSPECT 20.0
#define RATE_USERINFO 20.0
#define RATE_SIGNIN 0.5
#define RATE_ADMIN 0.2

enum kind { K_CC, K_REFRESH, K_INTROSPECT, K_USERINFO, K_SIGNIN, K_ADMIN,
	K_COUNT };

static const char *const kind_name[K_COUNT] = { "cc", "refresh",
	"introspect", "userinfo", "signin", "admin" };
static const double kind_rate[K_COUNT] = { RATE_CC, RATE_REFRESH,
	RATE_INTROSPECT, RATE_USERINFO, RATE_SIGNIN, RATE_ADMIN };

struct stats {
	pthread_mutex_t mu;
	double win[WINDOW_SAMPLES_MAX];	/* this window, seconds */
	size_t nwin, errwin;
	double *run;			/* after warm-up */
	size_t nrun, total, errors;
	int counting;			/* past warm-up */
};

struct user_line {
	char name[64];
	char secret[64];
};

static struct {
	const char *base, *password, *kleidi, *data, *admin_user;
	char web_basic[512], svc_basic[512], challenge[64];
	struct user_line *users;
	size_t nusers;
	char families[FAMILIES][TOKEN_MAX];
	size_t nfamilies;
	pthread_mutex_t at_mu;
	char access_token[TOKEN_MAX];	/* latest, from a rotation */
	double deadline;
	atomic_int stop;
	struct stats st[K_COUNT];
} g;

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec t;

	if (s <= 0)
		return;
	t.tv_sec = (time_t)s;
	t.tv_nsec = (long)((s - (double)t.tv_sec) * 1e9);
	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

static void
record(enum kind k, double lat, int ok)
{
	struct stats *s = &g.st[k];

	pthread_mutex_lock(&s->mu);
	s->total++;
	if (!ok) {
		s->errwin++;
		s->errors++;
	} else {
		if (s->nwin < WINDOW_SAMPLES_MAX)
			s->win[s->nwin++] = lat;
		if (s->counting && s->nrun < RUN_SAMPLES_MAX)
			s->run[s->nrun++] = lat;
	}
	pthread_mutex_unlock(&s->mu);
}

/* ---- HTTP, as bench_signin.c does it */

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

static int
fail(const char *what, const struct resp *r)
{
	(void)fprintf(stderr, "bench_soak: %s: status %ld %.160s\n", what,
	    r->status, r->body);
	return -1;
}

static void
latest_token(char out[TOKEN_MAX + 8])
{
	pthread_mutex_lock(&g.at_mu);
	(void)snprintf(out, TOKEN_MAX + 8, "Bearer %s", g.access_token);
	pthread_mutex_unlock(&g.at_mu);
}

/* ---- one request of each kind: 0 on the expected success */

static int
do_cc(CURL *c, struct resp *r, unsigned long i)
{
	char url[512];

	(void)i;
	(void)snprintf(url, sizeof(url), "%s/token", g.base);
	if (request(c, url, g.svc_basic, "grant_type=client_credentials",
	    r) != 0 || r->status != 200 || strstr(r->body, "access_token") ==
	    NULL)
		return fail("client_credentials", r);
	return 0;
}

static int
do_refresh(CURL *c, struct resp *r, unsigned long i)
{
	char url[512], body[TOKEN_MAX + 64];
	char *f = g.families[i % g.nfamilies];
	const char *rt, *at;
	json_t *j;
	int rc = -1;

	(void)snprintf(url, sizeof(url), "%s/token", g.base);
	(void)snprintf(body, sizeof(body), "grant_type=refresh_token"
	    "&refresh_token=%s", f);
	if (request(c, url, g.web_basic, body, r) != 0 || r->status != 200 ||
	    (j = json_loads(r->body, 0, NULL)) == NULL)
		return fail("refresh", r);
	rt = json_string_value(json_object_get(j, "refresh_token"));
	at = json_string_value(json_object_get(j, "access_token"));
	if (rt != NULL && at != NULL) {
		str_copy(f, rt, TOKEN_MAX);
		pthread_mutex_lock(&g.at_mu);
		str_copy(g.access_token, at, sizeof(g.access_token));
		pthread_mutex_unlock(&g.at_mu);
		rc = 0;
	} else
		(void)fail("refresh: no tokens", r);
	json_decref(j);
	return rc;
}

static int
do_introspect(CURL *c, struct resp *r, unsigned long i)
{
	char url[512], tok[TOKEN_MAX + 8], body[TOKEN_MAX + 16];

	(void)i;
	latest_token(tok);
	(void)snprintf(url, sizeof(url), "%s/introspect", g.base);
	(void)snprintf(body, sizeof(body), "token=%s", tok + 7);
	if (request(c, url, g.web_basic, body, r) != 0 || r->status != 200 ||
	    strstr(r->body, "\"active\":true") == NULL)
		return fail("introspect", r);
	return 0;
}

static int
do_userinfo(CURL *c, struct resp *r, unsigned long i)
{
	char url[512], tok[TOKEN_MAX + 8];

	(void)i;
	latest_token(tok);
	(void)snprintf(url, sizeof(url), "%s/userinfo", g.base);
	if (request(c, url, tok, NULL, r) != 0 || r->status != 200 ||
	    strstr(r->body, "\"sub\"") == NULL)
		return fail("userinfo", r);
	return 0;
}

/* The first two steps: sign-in page, password. Leaves the TOTP page's
 * csrf in csrf. */
static int
signin_password(CURL *c, struct resp *r, const struct user_line *u,
    char *csrf, size_t csrf_size)
{
	char url[2048], body[2048];

	(void)snprintf(url, sizeof(url), "%s/authorize?response_type=code"
	    "&client_id=web&redirect_uri=%s&scope=openid%%20profile&state=st"
	    "&nonce=n1&code_challenge_method=S256&code_challenge=%s",
	    g.base, REDIRECT, g.challenge);
	if (request(c, url, NULL, NULL, r) != 0 || r->status != 200 ||
	    html_input_value(r->body, "csrf", csrf, csrf_size) != 0)
		return fail("signin: authorize", r);
	(void)snprintf(url, sizeof(url), "%s/login", g.base);
	(void)snprintf(body, sizeof(body), "username=%s&password=%s&csrf=%s",
	    u->name, g.password, csrf);
	if (request(c, url, NULL, body, r) != 0 || r->status != 200 ||
	    strstr(r->body, "name=\"otp\"") == NULL ||
	    html_input_value(r->body, "csrf", csrf, csrf_size) != 0)
		return fail("signin: password", r);
	return 0;
}

/* A fresh browser per sign-in: a new session every time. */
static int
do_signin(CURL *unused, struct resp *r, unsigned long i)
{
	const struct user_line *u = &g.users[i % g.nusers];
	char url[2048], body[2048], csrf[256], code[256], otp[7];
	char at[TOKEN_MAX];
	CURL *c = browser();
	json_t *j;
	int rc = -1;

	(void)unused;
	if (c == NULL || signin_password(c, r, u, csrf, sizeof(csrf)) != 0 ||
	    totp_now(u->secret, otp) != 0)
		goto done;
	(void)snprintf(url, sizeof(url), "%s/login/otp", g.base);
	(void)snprintf(body, sizeof(body), "csrf=%s&method=totp&otp=%s", csrf,
	    otp);
	if (request(c, url, NULL, body, r) != 0 || r->status != 302 ||
	    url_param(r->location, "code", code, sizeof(code)) != 0) {
		(void)fail("signin: otp", r);
		goto done;
	}
	(void)snprintf(url, sizeof(url), "%s/token", g.base);
	(void)snprintf(body, sizeof(body), "grant_type=authorization_code"
	    "&code=%s&redirect_uri=%s&code_verifier=%s", code, REDIRECT,
	    VERIFIER);
	if (request(c, url, g.web_basic, body, r) != 0 || r->status != 200 ||
	    (j = json_loads(r->body, 0, NULL)) == NULL) {
		(void)fail("signin: code", r);
		goto done;
	}
	(void)snprintf(at, sizeof(at), "Bearer %s",
	    json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	(void)snprintf(url, sizeof(url), "%s/userinfo", g.base);
	if (request(c, url, at, NULL, r) != 0 || r->status != 200)
		(void)fail("signin: userinfo", r);
	else
		rc = 0;
done:
	curl_easy_cleanup(c);
	return rc;
}

/* The CLI, as an operator runs it beside the live server. */
static int
do_admin(CURL *unused, struct resp *r, unsigned long i)
{
	char *argv[] = { (char *)g.kleidi, "grant", i % 2 ? "revoke" : "add",
		(char *)g.admin_user, "web", "soak-role", "--data",
		(char *)g.data, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1;

	(void)unused;
	(void)r;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	(void)posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
	    0);
	if (posix_spawn(&pid, g.kleidi, &fa, NULL, argv, environ) == 0)
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
	(void)posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		(void)fprintf(stderr, "bench_soak: kleidi grant %s: status "
		    "%#x\n", argv[2], st);
		return -1;
	}
	return 0;
}

typedef int (*kind_fn)(CURL *, struct resp *, unsigned long);
static const kind_fn kind_do[K_COUNT] = { do_cc, do_refresh,
	do_introspect, do_userinfo, do_signin, do_admin };

/* ---- the load threads and the sampler */

static void *
kind_thread(void *arg)
{
	enum kind k = (enum kind)(size_t)arg;
	double gap = 1.0 / kind_rate[k], next = now_s(), t0;
	struct resp *r = malloc(sizeof(*r));
	CURL *c = browser();
	unsigned long i;
	int ok;

	for (i = 0; r != NULL && c != NULL && !g.stop; i++) {
		t0 = now_s();
		if (t0 >= g.deadline)
			break;
		ok = kind_do[k](c, r, i) == 0;
		record(k, now_s() - t0, ok);
		next += gap;
		if (next < now_s() - 1.0)	/* behind: skip, no burst */
			next = now_s();
		sleep_s((next < g.deadline ? next : g.deadline) - now_s());
	}
	curl_easy_cleanup(c);
	free(r);
	return NULL;
}

/* Percentile q (0-100) of n sorted samples, in ms. */
static double
pct_ms(const double *v, size_t n, int q)
{
	return n == 0 ? 0 : v[(n - 1) * (size_t)q / 100] * 1e3;
}

/* Resident memory of a process, in KiB. */
struct rss {
	long anon, file;	/* RssAnon; RssFile + RssShmem */
};

static int
rss_read(const char *pid, struct rss *out)
{
	char path[64], line[256];
	long v, seen = 0;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	out->anon = out->file = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "RssAnon: %ld", &v) == 1) {
			out->anon = v;
			seen |= 1;
		} else if (sscanf(line, "RssFile: %ld", &v) == 1) {
			out->file += v;
			seen |= 2;
		} else if (sscanf(line, "RssShmem: %ld", &v) == 1)
			out->file += v;
	}
	(void)fclose(f);
	return seen == 3 ? 0 : -1;	/* a zombie has no Rss lines */
}

/* One line for the window that just ended; returns its errors. */
static size_t
window_line(double t, const struct rss *rss, int counting)
{
	static double v[WINDOW_SAMPLES_MAX];
	char out[1024];
	size_t n, e, errs = 0, len;
	int k;

	len = (size_t)snprintf(out, sizeof(out), "WINDOW t=%.0f rss_kib=%ld "
	    "anon_kib=%ld file_kib=%ld", t, rss->anon + rss->file, rss->anon,
	    rss->file);
	for (k = 0; k < K_COUNT; k++) {
		struct stats *s = &g.st[k];

		pthread_mutex_lock(&s->mu);
		n = s->nwin;
		e = s->errwin;
		memcpy(v, s->win, n * sizeof(double));
		s->nwin = s->errwin = 0;
		s->counting = counting;
		pthread_mutex_unlock(&s->mu);
		qsort(v, n, sizeof(double), cmp_double);
		errs += e;
		if (len < sizeof(out))
			len += (size_t)snprintf(out + len, sizeof(out) - len,
			    " %s=%zu/%zu/%.1f/%.1f", kind_name[k], n + e, e,
			    pct_ms(v, n, 50), pct_ms(v, n, 99));
	}
	(void)printf("%s\n", out);
	(void)fflush(stdout);
	return errs;
}

static size_t
load_lines(const char *path, char (*dst)[TOKEN_MAX], size_t max)
{
	FILE *f = fopen(path, "r");
	char line[2 * TOKEN_MAX + 8], rt[TOKEN_MAX], at[TOKEN_MAX];
	size_t n = 0;

	if (f == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%4095s %4095s", rt, at) == 2) {
			str_copy(dst[n++], rt, TOKEN_MAX);
			str_copy(g.access_token, at, sizeof(g.access_token));
		}
	(void)fclose(f);
	return n;
}

static size_t
load_users(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t n = 0;

	if (f == NULL)
		return 0;
	while (n < USERS_MAX && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%63s %63s", g.users[n].name,
		    g.users[n].secret) == 2)
			n++;
	(void)fclose(f);
	return n;
}

static int
setup(char **argv)
{
	unsigned char h[32];
	char *ch;
	int k;

	g.base = argv[1];
	g.password = argv[9];
	g.kleidi = argv[11];
	g.data = argv[12];
	g.admin_user = argv[13];
	basic(g.web_basic, sizeof(g.web_basic), "web", argv[6]);
	basic(g.svc_basic, sizeof(g.svc_basic), "svc", argv[7]);
	SHA256((const unsigned char *)VERIFIER, strlen(VERIFIER), h);
	if ((ch = b64url_encode(h, 32)) == NULL)
		return -1;
	str_copy(g.challenge, ch, sizeof(g.challenge));
	free(ch);
	g.users = calloc(USERS_MAX, sizeof(*g.users));
	if (g.users == NULL || (g.nusers = load_users(argv[8])) == 0 ||
	    (g.nfamilies = load_lines(argv[10], g.families, FAMILIES)) == 0) {
		(void)fprintf(stderr, "bench_soak: no users or no tokens\n");
		return -1;
	}
	(void)pthread_mutex_init(&g.at_mu, NULL);
	for (k = 0; k < K_COUNT; k++) {
		(void)pthread_mutex_init(&g.st[k].mu, NULL);
		if ((g.st[k].run = calloc(RUN_SAMPLES_MAX,
		    sizeof(double))) == NULL)
			return -1;
	}
	return 0;
}

/* The windows after the warm-up: first, middle and last sample. */
struct rss_trend {
	struct rss first, mid, last;
	size_t n;
	struct rss *all;
};

static void
summary(size_t errors, const struct rss_trend *tr, int died)
{
	const struct rss *f = &tr->first, *m = &tr->mid, *l = &tr->last;
	int k;

	(void)printf("METRIC soak_errors=%zu unit=requests\n", errors);
	(void)printf("METRIC soak_rss_growth=%ld unit=KiB first=%ld last=%ld "
	    "half=%ld\n", l->anon - f->anon, f->anon, l->anon,
	    l->anon - m->anon);
	(void)printf("METRIC soak_file_rss_growth=%ld unit=KiB first=%ld "
	    "last=%ld half=%ld\n", l->file - f->file, f->file, l->file,
	    l->file - m->file);
	for (k = 0; k < K_COUNT; k++) {
		struct stats *s = &g.st[k];

		qsort(s->run, s->nrun, sizeof(double), cmp_double);
		(void)printf("METRIC soak_p99_%s=%.1f unit=ms p50=%.1f "
		    "requests=%zu errors=%zu\n", kind_name[k],
		    pct_ms(s->run, s->nrun, 99), pct_ms(s->run, s->nrun, 50),
		    s->total, s->errors);
	}
	if (died)
		(void)printf("bench_soak: the server is gone\n");
}

int
main(int argc, char **argv)
{
	pthread_t th[K_COUNT];
	double secs, win, warm, t0, t;
	struct rss rss, samples[WINDOWS_MAX];
	struct rss_trend tr = { .all = samples };
	size_t errors = 0;
	int k, died = 0;

	if (argc != 14) {
		(void)fprintf(stderr, "usage: bench_soak BASE PID SECONDS "
		    "WINDOW WARMUP WEB_SECRET SVC_SECRET USERS PASSWORD "
		    "TOKENS KLEIDI DATA ADMIN_USER\n");
		return 2;
	}
	secs = atof(argv[3]);
	win = atof(argv[4]);
	warm = atof(argv[5]);
	if (secs <= 0 || win <= 0 || curl_global_init(CURL_GLOBAL_ALL) != 0 ||
	    setup(argv) != 0)
		return 2;
	(void)signal(SIGPIPE, SIG_IGN);
	t0 = now_s();
	g.deadline = t0 + secs;
	for (k = 0; k < K_COUNT; k++)
		(void)pthread_create(&th[k], NULL, kind_thread,
		    (void *)(size_t)k);
	for (t = win; !died; t += win) {
		sleep_s(t0 + (t < secs ? t : secs) - now_s());
		if (rss_read(argv[2], &rss) == -1) {
			died = 1;
			break;
		}
		errors += window_line(t < secs ? t : secs, &rss, t >= warm);
		if (t >= warm && tr.n < WINDOWS_MAX)
			tr.all[tr.n++] = rss;
		if (t >= secs)
			break;
	}
	g.stop = 1;
	for (k = 0; k < K_COUNT; k++)
		(void)pthread_join(th[k], NULL);
	for (k = 0; k < K_COUNT; k++)	/* what finished after the last line */
		errors += g.st[k].errwin;
	if (tr.n > 0) {
		tr.first = tr.all[0];
		tr.mid = tr.all[(tr.n - 1) / 2];
		tr.last = tr.all[tr.n - 1];
	}
	summary(errors, &tr, died);
	curl_global_cleanup();
	return errors == 0 && !died ? 0 : 1;
}
