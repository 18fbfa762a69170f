/*
 * http.h - the HTTP adapter over libmicrohttpd. It absorbs MHD's repeated
 * calls, reads the body up to a limit, parses query, form body and cookies,
 * and calls a handler once with a parsed request. Handlers never see MHD.
 *
 * Suspension: a handler that hands slow work (argon2id) to the worker pool
 * keeps its state in req->state, arranges for http_resume(req) to be called
 * when the work is done, and returns HTTP_SUSPENDED. The connection is
 * suspended meanwhile (no HTTP thread blocks); after http_resume() the same
 * handler runs again with req->resumed incremented and req->state intact.
 * req->state_free (if set) is called when the request ends. http_resume
 * may come before the handler has even returned HTTP_SUSPENDED: the
 * handler then simply runs again. http_server_stop waits for suspended
 * requests to be resumed and answered.
 *
 * Offload: a route flagged HTTP_ROUTE_OFFLOAD (a handler that waits on the
 * disk: a durable store write) does not run on an HTTP thread when the
 * server has an offload pool (http_server_config.offload). Once the
 * request is in and checked, the adapter suspends the connection and
 * submits the handler's run to the pool; the job runs the handler, which
 * fills its response as usual, and resumes the connection; an HTTP
 * thread then sends the answer. A handler blocked on an fsync so blocks
 * one worker, never the other connections of an HTTP thread, and as
 * many writers as the pool has workers can share one commit (store.h,
 * store_write). Handlers need no change and see nothing of this (but
 * their thread). When the pool's queue is full the adapter answers 503
 * with Retry-After: 1 at once, without running the handler. An
 * offloaded handler may still return HTTP_SUSPENDED (a password route
 * handing argon2id to its own pool): after http_resume it runs again on
 * the offload pool too - or, if the queue is full then, on an HTTP
 * thread, never refused once it has begun. Offloaded requests count as
 * suspended ones for http_server_stop, and on_done sees them as any
 * other. A handler whose route writes only for some requests (the token
 * endpoint: not for client_credentials) is not flagged and asks for it
 * with http_offload (below) when it must.
 *
 * Before any handler runs, the adapter answers by itself: 404 for an
 * unknown path, 405 with Allow for a known path under another method (a
 * GET route also answers HEAD), 413 for a body over body_max, 400 for a
 * malformed query, form body or Cookie header, more than fields_max pairs
 * in all, or a token over token_max, 503 while stopping. Every response
 * gets the baseline security headers (nosniff, no-referrer, DENY, a CSP,
 * Cache-Control: no-store unless the handler set one, HSTS with
 * secure_cookies); a header the handler sets replaces the baseline one.
 *
 * Limits (struct http_server_config; kleidi.ini [server], README.md):
 * header_max bounds the request line and headers together (MHD's memory
 * per connection: past it MHD answers 431 or 414 itself, or closes the
 * connection); a declared body over body_max is a 413, a chunked one is
 * cut off; more than fields_max query, form and cookie pairs is a 400; an
 * Authorization header or a token parameter (HTTP_TOKEN_PARAMS) longer
 * than token_max bytes is a 400 before any handler parses it;
 * conn_timeout closes a connection idle that long (a slow client's
 * half-sent request too); past per_ip_limit connections from one address,
 * or conn_limit in all, new ones are closed at once. None of these stops
 * the server serving everyone else.
 */
#ifndef KLEIDI_HTTP_H
#define KLEIDI_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "util/util.h"

struct pool;	/* util/pool.h */

/* Hard limits (defaults; the server config may lower or raise them). */
#define HTTP_BODY_MAX (64 * 1024)	/* request body bytes -> 413 */
#define HTTP_FIELDS_MAX 64		/* query + form + cookie pairs -> 400 */
#define HTTP_HEADER_MAX (32 * 1024)	/* request line + headers -> 431 */
#define HTTP_TOKEN_MAX 8192		/* Authorization, token params -> 400 */
/* The query and form parameters that carry tokens, bounded by token_max
 * (for documentation: the adapter keeps the same names in a table). */
#define HTTP_TOKEN_PARAMS "access_token refresh_token token id_token_hint " \
	"logout_token client_assertion code code_verifier"
#define HTTP_RESPONSE_MAX (1024 * 1024)	/* response body bytes */
#define HTTP_HEADERS_OUT_MAX 16		/* response headers + cookies */

struct http_kv {
	char *name;
	char *value;
};

struct http_request {
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* without the query string */
	struct http_kv *query;		/* decoded query parameters */
	size_t nquery;
	struct http_kv *form;		/* decoded x-www-form-urlencoded body */
	size_t nform;
	struct http_kv *cookies;
	size_t ncookies;
	const char *authorization;	/* Authorization header or NULL */
	const char *accept_language;	/* or NULL */
	const char *content_type;	/* or NULL */
	const char *user_agent;		/* or NULL */
	char remote_addr[64];		/* textual client address */
	const char *body;		/* raw body (NUL-terminated), may be "" */
	size_t body_len;
	int resumed;			/* times resumed after HTTP_SUSPENDED */
	void *state;			/* handler's own, kept across resume */
	void (*state_free)(void *state);
	void *conn;			/* adapter's; do not touch */
};

struct http_response {
	int status;
	const char *content_type;	/* static string; default text/html */
	struct buf body;		/* bounded by HTTP_RESPONSE_MAX */
	struct http_kv headers[HTTP_HEADERS_OUT_MAX]; /* owned copies */
	size_t nheaders;
};

typedef enum { HTTP_DONE = 0, HTTP_SUSPENDED = 1 } http_result;
typedef http_result (*http_handler_fn)(struct http_request *req,
    struct http_response *resp, void *app);

/* A path ending in a slash and an asterisk is a prefix route: it matches
 * every path that begins with the part before the asterisk (the slash
 * included), so one handler can serve a tree of resources
 * (/admin/v1/users/NAME). Exact routes are
 * tried first, over the whole table; then prefix routes, in table order.
 * A prefix handler must check the rest of the path itself. */
#define HTTP_ROUTE_OFFLOAD 0x1u	/* run on the offload pool (above) */

struct http_route {
	const char *method;		/* NULL: any method */
	const char *path;		/* exact, or a prefix route */
	http_handler_fn fn;
	unsigned flags;			/* HTTP_ROUTE_*, or 0 */
};

/*
 * on_done (may be NULL) is the hook for metrics: called once for every
 * request the adapter saw (from its request line on) when it is over -
 * answered or dropped - on one of MHD's threads, with
 *   route_path	the path of the route that matched, as the route table
 *		spells it (a prefix route's pattern with its asterisk), or
 *		"other" (no route: 404, 405, static files); a string that
 *		lives as long as the server
 *   status	the status answered, or 0 when none was (the client went
 *		away or timed out, a chunked body over body_max was cut
 *		off, or MHD answered by itself: headers over header_max)
 *   micros	microseconds from the request line to the end of the
 *		answer (monotonic clock)
 * and the config's app. It must be cheap and never block (no I/O, no lock
 * held for long): it runs on a thread that serves other connections.
 */
struct http_server_config {
	const char *address;		/* e.g. "127.0.0.1" */
	unsigned port;			/* 0: pick a free port */
	unsigned threads;		/* 0: one per core */
	size_t body_max;		/* 0: HTTP_BODY_MAX */
	size_t header_max;		/* 0: HTTP_HEADER_MAX */
	size_t fields_max;		/* 0: HTTP_FIELDS_MAX */
	size_t token_max;		/* 0: HTTP_TOKEN_MAX */
	unsigned conn_timeout;		/* seconds, 0: 30 */
	unsigned conn_limit;		/* total, 0: 1024 */
	unsigned per_ip_limit;		/* 0: 64 */
	const struct http_route *routes;
	size_t nroutes;
	const char *static_dir;		/* served under /static/, or NULL */
	int secure_cookies;		/* issuer is https */
	void *app;			/* passed to every handler */
	void (*on_done)(void *app, const char *route_path, int status,
	    int64_t micros);		/* metrics hook, or NULL (above) */
	/* Runs the HTTP_ROUTE_OFFLOAD handlers, or NULL: they run on the
	 * HTTP threads. The caller's; it must outlive the server. */
	struct pool *offload;
};

struct http_server;

struct http_server *http_server_start(const struct http_server_config *cfg,
    char *err, size_t errlen);
/* Stops accepting, waits (up to 60 s) for the requests in flight, stops
 * and frees the server: 0. -1 when requests were still in flight after
 * the wait: the server is left running (stopping MHD under a suspended
 * connection is undefined), so nothing it uses may be freed - the caller
 * should end the process. NULL is a no-op. */
int http_server_stop(struct http_server *srv);
unsigned http_server_port(const struct http_server *srv);

/* ---- request accessors: the first value of a name, or NULL. */
const char *http_query(const struct http_request *req, const char *name);
const char *http_form(const struct http_request *req, const char *name);
const char *http_cookie(const struct http_request *req, const char *name);
/* Number of times name occurs in the query (or form): OAuth parameters must
 * not repeat (RFC 6749 3.1). */
size_t http_query_count(const struct http_request *req, const char *name);
size_t http_form_count(const struct http_request *req, const char *name);

void http_resume(struct http_request *req);	/* any thread */
/* For a handler about to wait on the disk (above, Offload): 1 when it is
 * to return HTTP_SUSPENDED at once, to be run again on the offload pool
 * with req->resumed incremented - or answered 503 with Retry-After: 1, its
 * response dropped, when the queue is full: so it asks before it has done
 * anything it would not do twice; 0 when it runs there already, or the
 * server has no pool, or no server made req: go on here. */
int http_offload(struct http_request *req);
/* 1 when the server sets Secure cookies (the issuer is https); 0 for a
 * request that no server made (a unit test's). */
int http_secure(const struct http_request *req);

/* ---- response helpers (copies everything it is given) */
/* status 200, default content type, empty body bounded by
 * HTTP_RESPONSE_MAX, no headers. The adapter does this before a handler
 * runs; unit tests of handlers do it themselves and free with
 * http_response_free (NULL is a no-op). */
void http_response_init(struct http_response *resp);
void http_response_free(struct http_response *resp);
/* Sets a header (replacing one of the same name, but for Set-Cookie).
 * -1 on a name that is not a token, a value with control characters, or
 * when HTTP_HEADERS_OUT_MAX is reached. */
int http_header(struct http_response *resp, const char *name,
    const char *value);
/* The value of a header the response carries, or NULL. */
const char *http_response_header(const struct http_response *resp,
    const char *name);
#define HTTP_COOKIE_SESSION (-1)	/* no Max-Age: ends with the browser */
/* Set-Cookie with HttpOnly, SameSite=Lax, Path=/, and Secure when the server
 * runs behind https; max_age 0 deletes the cookie. */
int http_set_cookie(struct http_response *resp, const struct http_request *req,
    const char *name, const char *value, int64_t max_age);
/* 302 with Location; Cache-Control no-store. */
int http_redirect(struct http_response *resp, const char *location);
/* status + JSON body (application/json), Cache-Control no-store. */
int http_json(struct http_response *resp, int status, const char *json);

/* ---- parsers (pure functions, unit-tested and fuzzed) */
/* Parses a=1&b=2 (x-www-form-urlencoded: + is space, %XX decoded) into at
 * most max pairs of malloc'd strings. -1 on malformed %-escapes, NUL bytes
 * or too many pairs; on failure nothing is left allocated. */
int http_parse_urlencoded(const char *s, size_t len, struct http_kv **out,
    size_t *n, size_t max);
/* Parses a Cookie header ("a=1; b=2"). Same contract. */
int http_parse_cookies(const char *s, struct http_kv **out, size_t *n,
    size_t max);
void http_kv_free(struct http_kv *kv, size_t n);
/* Parses "Basic base64(urlenc(id):urlenc(secret))" (RFC 6749 2.3.1) into
 * malloc'd id and secret. -1 if malformed. */
int http_parse_basic(const char *header, char **id, char **secret);
/* Percent-decodes in place semantics into a malloc'd string (plus_space:
 * '+' becomes ' '). NULL on bad escape or an encoded NUL. */
char *http_urldecode(const char *s, size_t len, int plus_space);

#endif
