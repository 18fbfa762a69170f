/* metrics.c - the counters of metrics.h and their exposition. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "store/store.h"

/* Upper bounds of the latency buckets, in microseconds (Prometheus'
 * default buckets, in seconds, from 5 ms to 10 s). */
static const int64_t lat_bounds[] = { 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000, 2500000, 5000000, 10000000 };
#define LAT_BUCKETS (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

enum fail_reason { F_BAD_PASSWORD, F_BAD_CODE, F_LOCKED, F_DISABLED,
	F_THROTTLED, F_REFUSED, F_OTHER, F_COUNT };
static const char *const fail_names[F_COUNT] = { "bad_password",
	"bad_code", "locked", "disabled", "throttled", "refused", "other" };

static const char *const grant_names[] = { "authorization_code",
	"refresh_token", "client_credentials" };
#define GRANTS (sizeof(grant_names) / sizeof(grant_names[0]))

struct route_slot {
	char name[96];
	atomic_ullong bucket[LAT_BUCKETS];	/* not cumulative here */
	atomic_ullong count;
	atomic_ullong sum_us;
};

struct org_slot {
	char code[ORG_CODE_SIZE];
	atomic_ullong sms;
};

static struct {
	atomic_ullong signins;
	atomic_ullong fails[F_COUNT];
	atomic_ullong tokens[GRANTS];
	atomic_ullong classes[6];		/* none, 1xx..5xx */
	struct route_slot routes[METRICS_ROUTES_MAX + 1]; /* + "other" */
	atomic_uint nroutes;
	struct org_slot orgs[METRICS_ORGS_MAX + 1];	/* + "other" */
	atomic_uint norgs;
	int64_t started;
} m;
static pthread_mutex_t claim_mtx = PTHREAD_MUTEX_INITIALIZER;

/* ---- label tables: lock-free lookup, a mutex only to claim a slot */

/* The slot named name among the published ones, or the one claimed for
 * it; size slots and an overflow slot at index size. */
static unsigned
slot_find(atomic_uint *n, unsigned size, const char *name, size_t stride,
    char *base, size_t namesize)
{
	unsigned i, have = atomic_load_explicit(n, memory_order_acquire);

	for (i = 0; i < have; i++)
		if (strcmp(base + i * stride, name) == 0)
			return i;
	pthread_mutex_lock(&claim_mtx);
	have = atomic_load_explicit(n, memory_order_relaxed);
	for (i = 0; i < have; i++)
		if (strcmp(base + i * stride, name) == 0)
			break;
	if (i == have && have < size && strlen(name) < namesize) {
		str_copy(base + i * stride, name, namesize);
		atomic_store_explicit(n, have + 1, memory_order_release);
	} else if (i == have)
		i = size;
	pthread_mutex_unlock(&claim_mtx);
	return i;
}

static struct route_slot *
route_slot(const char *route)
{
	unsigned i = slot_find(&m.nroutes, METRICS_ROUTES_MAX, route,
	    sizeof(m.routes[0]), m.routes[0].name, sizeof(m.routes[0].name));

	return &m.routes[i];
}

static struct org_slot *
org_slot(const char *org)
{
	unsigned i = slot_find(&m.norgs, METRICS_ORGS_MAX, org,
	    sizeof(m.orgs[0]), m.orgs[0].code, sizeof(m.orgs[0].code));

	return &m.orgs[i];
}

/* ---- counting */

static void
inc(atomic_ullong *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static enum fail_reason
fail_reason(const char *action, const char *outcome, const char *detail)
{
	if (detail != NULL && strncmp(detail, "too many", 8) == 0)
		return F_THROTTLED;
	if (detail != NULL && strcmp(detail, "locked") == 0)
		return F_LOCKED;
	if (detail != NULL && strcmp(detail, "disabled") == 0)
		return F_DISABLED;
	if (strcmp(outcome, "fail") == 0)
		return strcmp(action, "signin.password") == 0 ?
		    F_BAD_PASSWORD : F_BAD_CODE;
	if (strcmp(action, "signin.access") == 0)
		return F_REFUSED;
	return F_OTHER;
}

void
metrics_signin(const char *action, const char *outcome, const char *detail,
    const char *org)
{
	if (action == NULL || outcome == NULL)
		return;
	if (strcmp(outcome, "ok") == 0) {
		if (strcmp(action, "signin.session") == 0)
			inc(&m.signins);
		else if (strcmp(action + strcspn(action, "."),
		    ".sms_send") == 0)
			inc(&org_slot(org != NULL && *org ? org : "-")->sms);
		return;
	}
	if ((strcmp(outcome, "fail") == 0 || strcmp(outcome, "refused") ==
	    0) && (strcmp(action, "signin.password") == 0 ||
	    strcmp(action, "signin.code") == 0 ||
	    strcmp(action, "signin.access") == 0))
		inc(&m.fails[fail_reason(action, outcome, detail)]);
}

void
metrics_token(const char *gt)
{
	size_t i;

	for (i = 0; gt != NULL && i < GRANTS; i++)
		if (strcmp(gt, grant_names[i]) == 0)
			inc(&m.tokens[i]);
}

void
metrics_on_done(void *app, const char *route, int status, int64_t micros)
{
	struct route_slot *r = route_slot(route != NULL ? route : "other");
	size_t i;

	(void)app;
	for (i = 0; i < LAT_BUCKETS && micros > lat_bounds[i]; i++)
		;
	if (i < LAT_BUCKETS)
		inc(&r->bucket[i]);
	inc(&r->count);
	atomic_fetch_add_explicit(&r->sum_us, (unsigned long long)micros,
	    memory_order_relaxed);
	inc(&m.classes[status >= 100 && status < 600 ? status / 100 : 0]);
}

void
metrics_reset(void)
{
	pthread_mutex_lock(&claim_mtx);
	memset(&m, 0, sizeof(m));
	m.started = clock_now();
	pthread_mutex_unlock(&claim_mtx);
}

/* ---- exposition (text format 0.0.4) */

static unsigned long long
get(atomic_ullong *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static int
render_route(struct buf *b, struct route_slot *r, const char *name)
{
	unsigned long long cum = 0;
	size_t i;
	int rc = 0;

	for (i = 0; i < LAT_BUCKETS; i++) {
		cum += get(&r->bucket[i]);
		rc |= buf_printf(b, "kleidi_http_request_duration_seconds_"
		    "bucket{route=\"%s\",le=\"%g\"} %llu\n", name,
		    (double)lat_bounds[i] / 1e6, cum);
	}
	rc |= buf_printf(b, "kleidi_http_request_duration_seconds_bucket"
	    "{route=\"%s\",le=\"+Inf\"} %llu\n", name, get(&r->count));
	rc |= buf_printf(b, "kleidi_http_request_duration_seconds_sum"
	    "{route=\"%s\"} %.6f\n", name, (double)get(&r->sum_us) / 1e6);
	rc |= buf_printf(b, "kleidi_http_request_duration_seconds_count"
	    "{route=\"%s\"} %llu\n", name, get(&r->count));
	return rc;
}

static int
render_http(struct buf *b)
{
	static const char *const classes[6] = { "none", "1xx", "2xx", "3xx",
		"4xx", "5xx" };
	unsigned i, n = atomic_load_explicit(&m.nroutes,
	    memory_order_acquire);
	int rc = 0;

	rc |= buf_puts(b, "# HELP kleidi_http_request_duration_seconds "
	    "Time from request line to the end of the answer.\n"
	    "# TYPE kleidi_http_request_duration_seconds histogram\n");
	for (i = 0; i < n; i++)
		rc |= render_route(b, &m.routes[i], m.routes[i].name);
	if (get(&m.routes[METRICS_ROUTES_MAX].count) > 0)
		rc |= render_route(b, &m.routes[METRICS_ROUTES_MAX],
		    "(overflow)");
	rc |= buf_puts(b, "# HELP kleidi_http_responses_total Responses by "
	    "status class (none: no answer was sent).\n"
	    "# TYPE kleidi_http_responses_total counter\n");
	for (i = 0; i < 6; i++)
		rc |= buf_printf(b, "kleidi_http_responses_total{class=\"%s\"} "
		    "%llu\n", classes[i], get(&m.classes[i]));
	return rc;
}

static int
render_signins(struct buf *b)
{
	size_t i;
	unsigned n;
	int rc = 0;

	rc |= buf_printf(b, "# HELP kleidi_signins_total Completed sign-ins."
	    "\n# TYPE kleidi_signins_total counter\nkleidi_signins_total "
	    "%llu\n", get(&m.signins));
	rc |= buf_puts(b, "# HELP kleidi_signin_failures_total Failed or "
	    "refused sign-in steps by reason.\n"
	    "# TYPE kleidi_signin_failures_total counter\n");
	for (i = 0; i < F_COUNT; i++)
		rc |= buf_printf(b, "kleidi_signin_failures_total{reason=\"%s\"}"
		    " %llu\n", fail_names[i], get(&m.fails[i]));
	rc |= buf_puts(b, "# HELP kleidi_tokens_issued_total Token responses "
	    "by grant type.\n# TYPE kleidi_tokens_issued_total counter\n");
	for (i = 0; i < GRANTS; i++)
		rc |= buf_printf(b, "kleidi_tokens_issued_total{grant=\"%s\"} "
		    "%llu\n", grant_names[i], get(&m.tokens[i]));
	rc |= buf_puts(b, "# HELP kleidi_sms_sent_total SMS accepted by the "
	    "gateway, by organisation (- for citizens).\n"
	    "# TYPE kleidi_sms_sent_total counter\n");
	n = atomic_load_explicit(&m.norgs, memory_order_acquire);
	for (i = 0; i < n; i++)
		rc |= buf_printf(b, "kleidi_sms_sent_total{org=\"%s\"} %llu\n",
		    m.orgs[i].code, get(&m.orgs[i].sms));
	if (get(&m.orgs[METRICS_ORGS_MAX].sms) > 0)
		rc |= buf_printf(b, "kleidi_sms_sent_total{org=\"(overflow)\"} "
		    "%llu\n", get(&m.orgs[METRICS_ORGS_MAX].sms));
	return rc;
}

/* A worker pool's gauges: jobs waiting and jobs being run. */
static int
render_pool(struct buf *b, const char *name, const char *what,
    const unsigned load[2])
{
	return buf_printf(b, "# HELP kleidi_%s_queue_depth %s waiting for a "
	    "worker.\n# TYPE kleidi_%s_queue_depth gauge\n"
	    "kleidi_%s_queue_depth %u\n"
	    "# HELP kleidi_%s_jobs_running %s a worker is running.\n"
	    "# TYPE kleidi_%s_jobs_running gauge\n"
	    "kleidi_%s_jobs_running %u\n", name, what, name, name, load[0],
	    name, what, name, name, load[1]);
}

int
metrics_render(struct buf *b, const unsigned password[2],
    const unsigned write[2])
{
	int rc = 0;

	rc |= buf_printf(b, "# HELP kleidi_up 1 while the server serves.\n"
	    "# TYPE kleidi_up gauge\nkleidi_up 1\n"
	    "# HELP kleidi_start_time_seconds When the server started.\n"
	    "# TYPE kleidi_start_time_seconds gauge\n"
	    "kleidi_start_time_seconds %lld\n", (long long)m.started);
	rc |= render_signins(b);
	rc |= render_http(b);
	rc |= render_pool(b, "password", "Password hashing jobs", password);
	rc |= render_pool(b, "write", "Requests that write to the store",
	    write);
	return rc != 0 ? -1 : 0;
}
