/*
 * http_server.c - the libmicrohttpd adapter. It absorbs MHD's repeated
 * calls to the access handler, reads the body up to a limit, parses the
 * request, routes it by path (exact, then prefix) and method, runs the
 * handler (which may suspend and be resumed from another thread), and
 * turns its response into an MHD response with the baseline security
 * headers. A route flagged HTTP_ROUTE_OFFLOAD (or a handler that asks,
 * http_offload) runs on the offload pool, the connection suspended
 * meanwhile. Per-request memory is allocated when MHD sees the request
 * line (MHD_OPTION_URI_LOG_CALLBACK, which also hands us the raw query)
 * and freed in one place, the completion callback.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "util/pool.h"

#define STATIC_PREFIX "/static/"
#define STATIC_FILES_MAX 64
#define STATIC_NAME_MAX 64
#define STATIC_FILE_MAX ((size_t)1024 * 1024)
#define COOKIE_HEADERS_MAX ((size_t)16 * 1024) /* all Cookie headers */
#define STOP_WAIT_SECONDS 60		/* for suspended requests to end */
#define BUSY_RETRY_AFTER "1"		/* offload queue full: 503 */
#define DEFAULT_TIMEOUT 30
#define DEFAULT_CONN_LIMIT 1024
#define DEFAULT_PER_IP_LIMIT 64
#define ROUTE_OTHER "other"		/* on_done's route for no route */

/*
 * No form-action: Chromium applies it to the redirect that follows a form
 * POST, which would block the 302 to the relying application.
 */
static const char csp_html[] = "default-src 'none'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";
static const char csp_other[] = "default-src 'none'; frame-ancestors 'none'";
static const char hsts[] = "max-age=31536000";

struct static_file {
	char name[STATIC_NAME_MAX + 1];
	struct MHD_Response *resp;	/* built once, queued many times */
};

struct http_server {
	struct MHD_Daemon *mhd;
	const struct http_route *routes;
	size_t nroutes;
	size_t body_max;
	size_t fields_max;
	size_t token_max;
	int secure;
	void *app;
	void (*on_done)(void *app, const char *route_path, int status,
	    int64_t micros);
	struct pool *offload;	/* HTTP_ROUTE_OFFLOAD handlers, or NULL */
	unsigned port;
	struct static_file statics[STATIC_FILES_MAX];
	size_t nstatics;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned active;	/* requests in a handler, suspended or
				 * offloaded */
	int stopping;
};

enum conn_phase { PHASE_HEADERS, PHASE_BODY, PHASE_HANDLER, PHASE_DONE };

/* One request; req.conn points back here. */
struct http_conn {
	struct http_server *srv;
	struct MHD_Connection *mhd;
	char *query;		/* raw query string, or NULL */
	size_t query_len;
	struct buf upload;
	const struct http_route *route;
	enum conn_phase phase;
	int status;		/* queued, for on_done; 0: none */
	struct timespec start;	/* request line seen (monotonic) */
	int active;		/* counted in srv->active */
	int offload;		/* the handler runs on the pool */
	int offload_asked;	/* by the handler: http_offload */
	pthread_mutex_t lock;	/* the four below */
	int suspended;
	int resume_pending;	/* http_resume came before the suspension,
				 * or while the handler ran offloaded */
	int in_job;		/* the handler's run is on the offload pool */
	int job_done;		/* it answered there: send resp */
	struct http_request req;
	struct http_response resp;
};

static enum MHD_Result conn_respond(struct http_conn *);
static enum MHD_Result conn_offload(struct http_conn *);

/* ---- error pages of the adapter itself: plain, no internals */

static const struct {
	int status;
	const char *title;
	const char *text;
} error_pages[] = {
	{ 400, "Bad Request", "The request could not be understood." },
	{ 404, "Not Found", "There is no page at this address." },
	{ 405, "Method Not Allowed",
	    "This address does not accept that kind of request." },
	{ 413, "Content Too Large", "The request is too large." },
	{ 500, "Internal Server Error",
	    "Something went wrong on our side. Please try again later." },
	{ 503, "Service Unavailable",
	    "The service is busy. Please try again in a moment." },
};

static int
error_page(struct buf *b, int status)
{
	size_t i, n = sizeof(error_pages) / sizeof(error_pages[0]);
	const char *title;

	for (i = 0; i < n && error_pages[i].status != status; i++)
		;
	if (i == n)
		return -1;
	title = error_pages[i].title;
	if (buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">"
	    "<title>%d ", status) == -1 ||
	    buf_put_html(b, title) == -1 ||
	    buf_printf(b, "</title></head>\n<body><main><h1>%d ",
	    status) == -1 ||
	    buf_put_html(b, title) == -1 ||
	    buf_puts(b, "</h1>\n<p>") == -1 ||
	    buf_put_html(b, error_pages[i].text) == -1 ||
	    buf_puts(b, "</p></main></body></html>\n") == -1)
		return -1;
	return 0;
}

/* Answers status with the adapter's page and header name (if not NULL). */
static enum MHD_Result
conn_page(struct http_conn *hc, int status, const char *name,
    const char *value)
{
	struct http_response *r = &hc->resp;

	http_response_free(r);
	http_response_init(r);
	r->status = status;
	if (error_page(&r->body, status) == -1 ||
	    (name != NULL && http_header(r, name, value) == -1))
		return MHD_NO;
	/* Not the path: MHD has percent-decoded it, newlines and all. */
	if (status >= 500)
		log_warn("http: answered %d to %s", status,
		    hc->req.remote_addr);
	return conn_respond(hc);
}

/* Answers status with the adapter's page; allow is the Allow list (405);
 * a 503 (stopping) asks the client to come back in a while. */
static enum MHD_Result
conn_error(struct http_conn *hc, int status, const char *allow)
{
	if (allow != NULL)
		return conn_page(hc, status, "Allow", allow);
	if (status == 503)
		return conn_page(hc, status, "Retry-After", "5");
	return conn_page(hc, status, NULL, NULL);
}

/* ---- response */

static int
add_default(struct MHD_Response *m, const struct http_response *r,
    const char *name, const char *value)
{
	if (r != NULL && http_response_header(r, name) != NULL)
		return 0;
	return MHD_add_response_header(m, name, value) == MHD_YES ? 0 : -1;
}

/* The handler's headers first, then the baseline it did not override. */
static int
add_headers(const struct http_server *srv, struct MHD_Response *m,
    const struct http_response *r, const char *type)
{
	const char *csp;
	size_t i;

	for (i = 0; r != NULL && i < r->nheaders; i++) {
		if (MHD_add_response_header(m, r->headers[i].name,
		    r->headers[i].value) == MHD_NO)
			return -1;
	}
	csp = strncasecmp(type, "text/html", 9) == 0 ? csp_html : csp_other;
	if (add_default(m, r, "Content-Type", type) == -1 ||
	    add_default(m, r, "X-Content-Type-Options", "nosniff") == -1 ||
	    add_default(m, r, "Referrer-Policy", "no-referrer") == -1 ||
	    add_default(m, r, "X-Frame-Options", "DENY") == -1 ||
	    add_default(m, r, "Content-Security-Policy", csp) == -1)
		return -1;
	/* Pages and tokens of an identity provider are never cached. */
	if (r != NULL && add_default(m, r, "Cache-Control", "no-store") == -1)
		return -1;
	if (srv->secure && add_default(m, r, "Strict-Transport-Security",
	    hsts) == -1)
		return -1;
	return 0;
}

static void
conn_release(struct http_conn *hc)
{
	struct http_server *srv = hc->srv;

	if (!hc->active)
		return;
	hc->active = 0;
	pthread_mutex_lock(&srv->lock);
	if (--srv->active == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
}

/* Queues hc->resp. The body buffer is handed to MHD. */
static enum MHD_Result
conn_respond(struct http_conn *hc)
{
	struct http_response *r = &hc->resp;
	const char *type = r->content_type;
	struct MHD_Response *m;
	enum MHD_Result rc;
	size_t len = r->body.len;
	char *body;

	if (r->status < 200 || r->status > 599) {
		log_err("http: the handler of %s answered status %d",
		    hc->route != NULL ? hc->route->path : "?", r->status);
		r->status = 500;
	}
	if (type == NULL)
		type = "text/html; charset=utf-8";
	if ((body = buf_steal(&r->body)) == NULL)
		return MHD_NO;
	m = MHD_create_response_from_buffer_with_free_callback(len, body,
	    free);
	if (m == NULL) {
		free(body);
		return MHD_NO;
	}
	if (add_headers(hc->srv, m, r, type) == -1) {
		MHD_destroy_response(m);
		return MHD_NO;
	}
	rc = MHD_queue_response(hc->mhd, (unsigned)r->status, m);
	MHD_destroy_response(m);
	if (rc == MHD_YES)
		hc->status = r->status;
	hc->phase = PHASE_DONE;
	conn_release(hc);
	return rc;
}

/* ---- request parsing */

static const char *
header(const struct http_conn *hc, const char *name)
{
	return MHD_lookup_connection_value(hc->mhd, MHD_HEADER_KIND, name);
}

/* application/x-www-form-urlencoded, parameters allowed after ';'. */
static int
is_form(const char *type)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(form) - 1;

	if (type == NULL || strncasecmp(type, form, n) != 0)
		return 0;
	return type[n] == '\0' || type[n] == ';' || type[n] == ' ' ||
	    type[n] == '\t';
}

struct cookie_acc {
	struct buf b;
	int overflow;
};

static enum MHD_Result
cookie_collect(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct cookie_acc *acc = cls;

	(void)kind;
	if (key == NULL || value == NULL || strcasecmp(key, "Cookie") != 0)
		return MHD_YES;
	if ((acc->b.len > 0 && buf_puts(&acc->b, "; ") == -1) ||
	    buf_puts(&acc->b, value) == -1) {
		acc->overflow = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

/* All Cookie headers (a proxy may split them), within max pairs. */
static int
conn_cookies(struct http_conn *hc, size_t max)
{
	struct cookie_acc acc;
	int rc = -1;

	buf_init(&acc.b, COOKIE_HEADERS_MAX);
	acc.overflow = 0;
	(void)MHD_get_connection_values(hc->mhd, MHD_HEADER_KIND,
	    cookie_collect, &acc);
	if (!acc.overflow)
		rc = http_parse_cookies(acc.b.data != NULL ? acc.b.data : "",
		    &hc->req.cookies, &hc->req.ncookies, max);
	buf_free(&acc.b);
	return rc;
}

static void
conn_remote_addr(struct http_conn *hc)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa = NULL;
	char *out = hc->req.remote_addr;
	socklen_t n = sizeof(hc->req.remote_addr);
	const void *addr;

	str_copy(out, "unknown", n);
	ci = MHD_get_connection_info(hc->mhd,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL)
		sa = ci->client_addr;
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr;
	else
		return;
	if (inet_ntop(sa->sa_family, addr, out, n) == NULL)
		str_copy(out, "unknown", n);
}

/* Parameters that carry tokens (HTTP_TOKEN_PARAMS): bounded by token_max
 * before any handler decodes, hashes or verifies them. */
static const char *const token_params[] = { "access_token", "refresh_token",
	"token", "id_token_hint", "logout_token", "client_assertion", "code",
	"code_verifier" };

static int
kv_token_over(const struct http_kv *kv, size_t n, size_t max)
{
	size_t i, k, nt = sizeof(token_params) / sizeof(token_params[0]);

	for (i = 0; i < n; i++) {
		for (k = 0; k < nt; k++) {
			if (strcmp(kv[i].name, token_params[k]) == 0 &&
			    strlen(kv[i].value) > max)
				return 1;
		}
	}
	return 0;
}

/* 1 when the Authorization header or a token parameter is over
 * token_max (logged: a client sending these is worth knowing about). */
static int
conn_token_over(const struct http_conn *hc)
{
	const struct http_request *req = &hc->req;
	size_t max = hc->srv->token_max;

	if ((req->authorization != NULL &&
	    strlen(req->authorization) > max) ||
	    kv_token_over(req->query, req->nquery, max) ||
	    kv_token_over(req->form, req->nform, max)) {
		log_info("http: a token over %zu bytes from %s refused", max,
		    req->remote_addr);
		return 1;
	}
	return 0;
}

/* Fills hc->req; 0, or the status to answer. */
static int
conn_prepare(struct http_conn *hc)
{
	struct http_request *req = &hc->req;
	size_t left = hc->srv->fields_max;

	req->authorization = header(hc, MHD_HTTP_HEADER_AUTHORIZATION);
	req->accept_language = header(hc, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	req->content_type = header(hc, MHD_HTTP_HEADER_CONTENT_TYPE);
	req->user_agent = header(hc, MHD_HTTP_HEADER_USER_AGENT);
	req->body = hc->upload.data != NULL ? hc->upload.data : "";
	req->body_len = hc->upload.len;
	if (http_parse_urlencoded(hc->query, hc->query_len, &req->query,
	    &req->nquery, left) == -1)
		return 400;
	left -= req->nquery;
	if (is_form(req->content_type) && http_parse_urlencoded(req->body,
	    req->body_len, &req->form, &req->nform, left) == -1)
		return 400;
	left -= req->nform;
	if (conn_cookies(hc, left) == -1)
		return 400;
	if (conn_token_over(hc))
		return 400;
	return 0;
}

/* ---- routing */

/* Adds method to the Allow list unless it is there. */
static void
allow_add(struct buf *allow, const char *method)
{
	const char *p = allow->data != NULL ? allow->data : "";
	size_t n = strlen(method);

	for (; (p = strstr(p, method)) != NULL; p += n) {
		if ((p == allow->data || p[-1] == ' ') &&
		    (p[n] == ',' || p[n] == '\0'))
			return;
	}
	/* A full list only shortens the Allow header. */
	(void)buf_printf(allow, "%s%s", allow->len > 0 ? ", " : "", method);
}

/* Whether route path rp matches path: exactly (prefix 0), or as a prefix
 * route (rp is "/a/b/" and an asterisk) for every path under "/a/b/"
 * (prefix 1). */
static int
route_match(const char *rp, const char *path, int prefix)
{
	size_t n;

	if (rp == NULL)
		return 0;
	n = strlen(rp);
	if (n >= 2 && rp[n - 2] == '/' && rp[n - 1] == '*')
		return prefix && strncmp(rp, path, n - 1) == 0;
	return !prefix && strcmp(rp, path) == 0;
}

/* The route for method and path; NULL with allow filled when the path is
 * known under other methods, NULL with allow empty when it is unknown. A
 * GET route also answers HEAD (MHD then sends no body). Exact routes win
 * over prefix routes: a prefix route is looked at only when no exact
 * route names the path. */
static const struct http_route *
server_route(const struct http_server *srv, const char *method,
    const char *path, struct buf *allow)
{
	const struct http_route *r;
	size_t i;
	int prefix;

	for (prefix = 0; prefix < 2 && allow->len == 0; prefix++) {
		for (i = 0; i < srv->nroutes; i++) {
			r = &srv->routes[i];
			if (!route_match(r->path, path, prefix))
				continue;
			if (r->method == NULL ||
			    strcmp(r->method, method) == 0 ||
			    (strcmp(r->method, "GET") == 0 &&
			    strcmp(method, "HEAD") == 0))
				return r;
			allow_add(allow, r->method);
			if (strcmp(r->method, "GET") == 0)
				allow_add(allow, "HEAD");
		}
	}
	return NULL;
}

static enum MHD_Result
conn_static(struct http_conn *hc)
{
	const struct http_server *srv = hc->srv;
	const char *name = hc->req.path + strlen(STATIC_PREFIX);
	enum MHD_Result rc;
	size_t i;

	if (strcmp(hc->req.method, "GET") != 0 &&
	    strcmp(hc->req.method, "HEAD") != 0)
		return conn_error(hc, 405, "GET, HEAD");
	for (i = 0; i < srv->nstatics; i++) {
		if (strcmp(srv->statics[i].name, name) != 0)
			continue;
		rc = MHD_queue_response(hc->mhd, 200, srv->statics[i].resp);
		if (rc == MHD_YES)
			hc->status = 200;
		hc->phase = PHASE_DONE;
		return rc;
	}
	return conn_error(hc, 404, NULL);
}

/* ---- the handler, with suspension */

/* Runs the handler until it answers or the connection is suspended. */
static enum MHD_Result
conn_run(struct http_conn *hc)
{
	http_result r;

	for (;;) {
		r = hc->route->fn(&hc->req, &hc->resp, hc->srv->app);
		if (r != HTTP_SUSPENDED)
			return conn_respond(hc);
		if (hc->offload_asked) {
			hc->offload_asked = 0;
			hc->offload = 1;
			hc->req.resumed++;
			return conn_offload(hc);
		}
		pthread_mutex_lock(&hc->lock);
		if (!hc->resume_pending) {
			/* MHD resumes only what it suspended: http_resume
			 * must see the flag and this call together. */
			hc->suspended = 1;
			MHD_suspend_connection(hc->mhd);
			pthread_mutex_unlock(&hc->lock);
			return MHD_YES;
		}
		hc->resume_pending = 0;
		pthread_mutex_unlock(&hc->lock);
		hc->req.resumed++;
	}
}

/* The offload pool's job (http.h): runs the handler, again at once when
 * it suspended and was resumed meanwhile; when it answers, resumes the
 * connection for an HTTP thread to send the answer. A handler that stays
 * suspended is resumed by its own work later (http_resume submits it
 * again). hc is not touched after the unlock. */
static void
conn_job(void *arg)
{
	struct http_conn *hc = arg;
	http_result r;

	for (;;) {
		r = hc->route->fn(&hc->req, &hc->resp, hc->srv->app);
		pthread_mutex_lock(&hc->lock);
		if (r != HTTP_SUSPENDED || !hc->resume_pending)
			break;
		hc->resume_pending = 0;
		pthread_mutex_unlock(&hc->lock);
		hc->req.resumed++;
	}
	hc->in_job = 0;
	if (r != HTTP_SUSPENDED) {
		hc->job_done = 1;
		hc->suspended = 0;
		MHD_resume_connection(hc->mhd);
	}
	pthread_mutex_unlock(&hc->lock);
}

/* Submits the handler's run to the offload pool; hc->lock held. -1 when
 * the queue is full. */
static int
conn_submit(struct http_conn *hc)
{
	hc->in_job = 1;
	if (pool_submit(hc->srv->offload, conn_job, hc) == 0)
		return 0;
	hc->in_job = 0;
	return -1;
}

/* An offloaded handler's work is done (http_resume): it runs again on the
 * pool, the connection still suspended; hc->lock held. -1 when the queue
 * is full: it then runs again on an HTTP thread. */
static int
conn_resubmit(struct http_conn *hc)
{
	hc->req.resumed++;
	if (conn_submit(hc) == 0)
		return 0;
	hc->req.resumed--;
	return -1;
}

/* Hands the handler's first run to the offload pool, the connection
 * suspended meanwhile; a full queue is a 503 at once. The lock is held
 * across the submit so that the job cannot resume the connection before
 * it is suspended. */
static enum MHD_Result
conn_offload(struct http_conn *hc)
{
	pthread_mutex_lock(&hc->lock);
	if (conn_submit(hc) == -1) {
		pthread_mutex_unlock(&hc->lock);
		return conn_page(hc, 503, "Retry-After", BUSY_RETRY_AFTER);
	}
	hc->suspended = 1;
	MHD_suspend_connection(hc->mhd);
	pthread_mutex_unlock(&hc->lock);
	return MHD_YES;
}

/* Resumed: the offloaded handler answered (send it), or a suspended
 * handler's work is done (run it again). */
static enum MHD_Result
conn_resumed(struct http_conn *hc)
{
	int done;

	pthread_mutex_lock(&hc->lock);
	done = hc->job_done;
	pthread_mutex_unlock(&hc->lock);
	if (done)
		return conn_respond(hc);
	hc->req.resumed++;
	return conn_run(hc);
}

/* The whole request is in: route, parse, and run the handler. */
static enum MHD_Result
conn_dispatch(struct http_conn *hc)
{
	struct http_server *srv = hc->srv;
	enum MHD_Result rc;
	struct buf allow;
	int status;

	if (strncmp(hc->req.path, STATIC_PREFIX, strlen(STATIC_PREFIX)) == 0)
		return conn_static(hc);
	buf_init(&allow, 128);
	hc->route = server_route(srv, hc->req.method, hc->req.path, &allow);
	if (hc->route == NULL) {
		rc = conn_error(hc, allow.len > 0 ? 405 : 404, allow.data);
		buf_free(&allow);
		return rc;
	}
	buf_free(&allow);
	if ((status = conn_prepare(hc)) != 0)
		return conn_error(hc, status, NULL);
	pthread_mutex_lock(&srv->lock);
	if (!srv->stopping) {
		srv->active++;
		hc->active = 1;
	}
	pthread_mutex_unlock(&srv->lock);
	if (!hc->active)
		return conn_error(hc, 503, NULL);
	hc->phase = PHASE_HANDLER;
	hc->offload = (hc->route->flags & HTTP_ROUTE_OFFLOAD) &&
	    srv->offload != NULL;
	if (hc->offload)
		return conn_offload(hc);
	return conn_run(hc);
}

/* First call, headers only: refuse a declared body over the limit before
 * reading it (MHD then closes the connection after the answer). */
static enum MHD_Result
conn_begin(struct http_conn *hc, const char *url, const char *method)
{
	const char *cl;
	unsigned long long n;
	char *end;

	hc->req.method = method;
	hc->req.path = url;
	hc->phase = PHASE_BODY;
	conn_remote_addr(hc);
	cl = header(hc, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (end != cl && (errno == ERANGE || n > hc->srv->body_max))
			return conn_error(hc, 413, NULL);
	}
	return MHD_YES;
}

static enum MHD_Result
conn_upload(struct http_conn *hc, const char *data, size_t *size)
{
	if (buf_append(&hc->upload, data, *size) == -1) {
		/* A chunked body past the limit: MHD cannot answer in the
		 * middle of a body, so the connection is dropped. */
		log_info("http: body over %zu bytes from %s dropped",
		    hc->srv->body_max, hc->req.remote_addr);
		return MHD_NO;
	}
	*size = 0;
	return MHD_YES;
}

static enum MHD_Result
server_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct http_conn *hc = *con_cls;

	(void)cls;
	(void)c;
	(void)version;
	if (hc == NULL)
		return MHD_NO;	/* no memory for it when it came in */
	switch (hc->phase) {
	case PHASE_HEADERS:
		return conn_begin(hc, url, method);
	case PHASE_BODY:
		if (*upload_size > 0)
			return conn_upload(hc, upload, upload_size);
		return conn_dispatch(hc);
	case PHASE_HANDLER:
		/* Called again only after a resume. */
		return conn_resumed(hc);
	default:
		return MHD_NO;
	}
}

/* ---- per-request memory */

static void
conn_free(struct http_conn *hc)
{
	if (hc == NULL)
		return;
	conn_release(hc);
	if (hc->req.state_free != NULL)
		hc->req.state_free(hc->req.state);
	http_kv_free(hc->req.query, hc->req.nquery);
	http_kv_free(hc->req.form, hc->req.nform);
	http_kv_free(hc->req.cookies, hc->req.ncookies);
	buf_free(&hc->upload);
	http_response_free(&hc->resp);
	/* A worker may still be leaving http_resume: wait for its unlock. */
	pthread_mutex_lock(&hc->lock);
	pthread_mutex_unlock(&hc->lock);
	pthread_mutex_destroy(&hc->lock);
	free(hc->query);
	free(hc);
}

static void *
server_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct http_server *srv = cls;
	struct http_conn *hc;
	const char *q;

	if ((hc = calloc(1, sizeof(*hc))) == NULL)
		return NULL;
	if (pthread_mutex_init(&hc->lock, NULL) != 0) {
		free(hc);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &hc->start);
	hc->srv = srv;
	hc->mhd = c;
	hc->phase = PHASE_HEADERS;
	hc->req.conn = hc;
	hc->req.method = "";
	hc->req.path = "";
	str_copy(hc->req.remote_addr, "unknown", sizeof(hc->req.remote_addr));
	buf_init(&hc->upload, srv->body_max);
	http_response_init(&hc->resp);
	if (uri != NULL && (q = strchr(uri, '?')) != NULL) {
		q++;
		hc->query_len = strcspn(q, "#");
		if ((hc->query = strndup(q, hc->query_len)) == NULL) {
			conn_free(hc);
			return NULL;
		}
	}
	return hc;
}

/* The metrics hook (http.h): once per request, before its memory goes. */
static void
conn_done(const struct http_conn *hc)
{
	const struct http_server *srv = hc->srv;
	struct timespec now;
	int64_t us;

	if (srv->on_done == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - hc->start.tv_sec) * 1000000 +
	    (now.tv_nsec - hc->start.tv_nsec) / 1000;
	srv->on_done(srv->app, hc->route != NULL && hc->route->path != NULL ?
	    hc->route->path : ROUTE_OTHER, hc->status, us > 0 ? us : 0);
}

static void
server_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	if (con_cls == NULL || *con_cls == NULL)
		return;
	conn_done(*con_cls);
	conn_free(*con_cls);
	*con_cls = NULL;
}

static void
server_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\r\n")] = '\0';
	log_warn("http: %s", line);
}

/* ---- static files, loaded once */

static const char *
static_type(const char *name)
{
	static const struct {
		const char *ext;
		const char *type;
	} types[] = {
		{ ".css", "text/css; charset=utf-8" },
		{ ".png", "image/png" },
		{ ".svg", "image/svg+xml" },
		{ ".ico", "image/vnd.microsoft.icon" },
		{ ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" },
		{ ".webp", "image/webp" },
		{ ".woff2", "font/woff2" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]);
	    i++) {
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

static struct MHD_Response *
static_response(const struct http_server *srv, char *data, size_t len,
    const char *type)
{
	struct MHD_Response *m;

	m = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (m == NULL) {
		free(data);
		return NULL;
	}
	if (add_headers(srv, m, NULL, type) == -1 ||
	    MHD_add_response_header(m, "Cache-Control",
	    "public, max-age=3600") == MHD_NO) {
		MHD_destroy_response(m);
		return NULL;
	}
	return m;
}

/* Loads dir/name; files that are not servable are skipped with a note. */
static int
static_add(struct http_server *srv, const char *dir, const char *name,
    char *err, size_t errlen)
{
	struct static_file *sf;
	const char *type;
	char path[4096];
	struct stat st;
	size_t len;
	char *data;

	type = static_type(name);
	if (!str_is_token(name, STATIC_NAME_MAX, "._-") ||
	    strstr(name, "..") != NULL || type == NULL) {
		log_warn("http: static file %s/%s not served", dir, name);
		return 0;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path) || stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	if (srv->nstatics == STATIC_FILES_MAX) {
		(void)snprintf(err, errlen, "%s: more than %d static files", dir,
		    STATIC_FILES_MAX);
		return -1;
	}
	if ((data = file_read(path, STATIC_FILE_MAX, &len)) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, errno == EFBIG ?
		    "file too large" : strerror(errno));
		return -1;
	}
	sf = &srv->statics[srv->nstatics];
	str_copy(sf->name, name, sizeof(sf->name));
	if ((sf->resp = static_response(srv, data, len, type)) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	srv->nstatics++;
	return 0;
}

static int
static_load(struct http_server *srv, const char *dir, char *err,
    size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			rc = static_add(srv, dir, de->d_name, err, errlen);
	}
	closedir(d);
	return rc;
}

/* ---- daemon */

/* cfg->address as a socket address: an IPv4 or IPv6 literal ("[::1]"
 * too); names are not resolved. */
static int
listen_addr(const struct http_server_config *cfg, struct sockaddr_storage *ss,
    int *v6, char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
	const char *a = cfg->address != NULL ? cfg->address : "127.0.0.1";
	char host[INET6_ADDRSTRLEN];
	size_t n = strlen(a);

	memset(ss, 0, sizeof(*ss));
	*v6 = 0;
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
		a++;
		n -= 2;
	}
	if (cfg->port > 65535 || n >= sizeof(host))
		goto bad;
	memcpy(host, a, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)cfg->port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)cfg->port);
		*v6 = 1;
		return 0;
	}
bad:
	(void)snprintf(err, errlen, "cannot listen on %s port %u: not an IP "
	    "address and port", cfg->address != NULL ? cfg->address : "",
	    cfg->port);
	return -1;
}

static unsigned
default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 && n < 256 ? (unsigned)n : 2;
}

static void
server_free(struct http_server *srv)
{
	size_t i;

	for (i = 0; i < srv->nstatics; i++)
		MHD_destroy_response(srv->statics[i].resp);
	pthread_cond_destroy(&srv->idle);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

static struct MHD_Daemon *
server_daemon(struct http_server *srv, const struct http_server_config *cfg,
    struct sockaddr_storage *ss, int v6)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	unsigned threads = cfg->threads ? cfg->threads : default_threads();

	if (v6)
		flags |= MHD_USE_IPv6;
	/* No MHD_OPTION_LISTENING_ADDRESS_REUSE: it means SO_REUSEPORT,
	 * which would let a second server take half of this one's
	 * connections. MHD sets SO_REUSEADDR for quick restarts anyway. */
	return MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL,
	    server_access, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, server_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
	    MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    cfg->header_max ? cfg->header_max : (size_t)HTTP_HEADER_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    cfg->conn_timeout ? cfg->conn_timeout : DEFAULT_TIMEOUT,
	    MHD_OPTION_CONNECTION_LIMIT,
	    cfg->conn_limit ? cfg->conn_limit : DEFAULT_CONN_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    cfg->per_ip_limit ? cfg->per_ip_limit : DEFAULT_PER_IP_LIMIT,
	    MHD_OPTION_URI_LOG_CALLBACK, server_uri, srv,
	    MHD_OPTION_NOTIFY_COMPLETED, server_completed, srv,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_END);
}

struct http_server *
http_server_start(const struct http_server_config *cfg, char *err,
    size_t errlen)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct http_server *srv;
	int v6;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->idle, NULL);
	srv->routes = cfg->routes;
	srv->nroutes = cfg->routes != NULL ? cfg->nroutes : 0;
	srv->body_max = cfg->body_max ? cfg->body_max : (size_t)HTTP_BODY_MAX;
	srv->fields_max = cfg->fields_max ? cfg->fields_max :
	    (size_t)HTTP_FIELDS_MAX;
	srv->token_max = cfg->token_max ? cfg->token_max :
	    (size_t)HTTP_TOKEN_MAX;
	srv->on_done = cfg->on_done;
	srv->offload = cfg->offload;
	srv->secure = cfg->secure_cookies;
	srv->app = cfg->app;
	if (listen_addr(cfg, &ss, &v6, err, errlen) == -1 ||
	    (cfg->static_dir != NULL &&
	    static_load(srv, cfg->static_dir, err, errlen) == -1))
		goto fail;
	errno = 0;
	if ((srv->mhd = server_daemon(srv, cfg, &ss, v6)) == NULL) {
		(void)snprintf(err, errlen, "cannot listen on %s port %u: %s",
		    cfg->address != NULL ? cfg->address : "127.0.0.1",
		    cfg->port, errno != 0 ? strerror(errno) : "failed");
		goto fail;
	}
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info != NULL ? info->port : cfg->port;
	return srv;
fail:
	server_free(srv);
	return NULL;
}

/* Refuses new handler runs and waits for suspended and offloaded ones to
 * end: MHD must not be stopped with a suspended connection. */
static int
server_drain(struct http_server *srv)
{
	struct timespec ts;
	unsigned left;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += STOP_WAIT_SECONDS;
	pthread_mutex_lock(&srv->lock);
	srv->stopping = 1;
	while (srv->active > 0 && rc == 0)
		rc = pthread_cond_timedwait(&srv->idle, &srv->lock, &ts);
	left = srv->active;
	pthread_mutex_unlock(&srv->lock);
	if (left > 0) {
		log_err("http: %u requests still suspended after %d s; "
		    "leaving the server running", left, STOP_WAIT_SECONDS);
		return -1;
	}
	return 0;
}

int
http_server_stop(struct http_server *srv)
{
	MHD_socket fd;

	if (srv == NULL)
		return 0;
	fd = MHD_quiesce_daemon(srv->mhd);
	if (server_drain(srv) == -1)
		return -1;	/* stopping now would be undefined behaviour */
	MHD_stop_daemon(srv->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	server_free(srv);
	return 0;
}

unsigned
http_server_port(const struct http_server *srv)
{
	return srv != NULL ? srv->port : 0;
}

void
http_resume(struct http_request *req)
{
	struct http_conn *hc = req->conn;

	if (hc == NULL)
		return;
	pthread_mutex_lock(&hc->lock);
	if (!hc->suspended || hc->in_job) {
		/* The handler has not returned yet (on an HTTP thread or on
		 * the pool): it runs again as soon as it does. */
		hc->resume_pending = 1;
	} else if (!hc->offload || conn_resubmit(hc) == -1) {
		hc->suspended = 0;
		MHD_resume_connection(hc->mhd);
	}
	pthread_mutex_unlock(&hc->lock);
}

int
http_offload(struct http_request *req)
{
	struct http_conn *hc = req->conn;

	/* hc->offload is set before the first submit: a run on the pool
	 * sees it (the pool's lock orders them). */
	if (hc == NULL || hc->srv->offload == NULL || hc->offload)
		return 0;
	hc->offload_asked = 1;
	return 1;
}

int
http_secure(const struct http_request *req)
{
	const struct http_conn *hc = req->conn;

	return hc != NULL && hc->srv->secure;
}
