/*
 * example_app.c - kleidi-example-app, the smallest relying application.
 *
 *   kleidi-example-app --issuer URL --jwks URL --audience ID --role ROLE
 *                      --listen 127.0.0.1:PORT
 *
 * GET / needs "Authorization: Bearer <access token>": a token of the issuer
 * for this audience, whose user holds ROLE. It answers a small page with
 * sub, org and roles; 401 with a WWW-Authenticate challenge (RFC 6750) when
 * the token is missing or refused; 403 when the role is missing; 503 when
 * the issuer's keys cannot be had.
 *
 * One verifier serves every connection thread: verification is
 * thread-safe and fetches the issuer's keys only when needed.
 */
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include <kleidi.h>

#define APP_PAGE_MAX	8192
#define APP_ROLE_MAX	64
#define APP_THREADS	4
#define APP_REALM	"kleidi-example"

struct app {
	kl_verifier	*verifier;
	const char	*audience;
	const char	*role;
};

/* A bounded page: appends past max are dropped and remembered. */
struct page {
	char	text[APP_PAGE_MAX];
	size_t	len;
	int	overflow;
};

static void
page_put(struct page *p, const char *s, size_t n)
{
	if (n >= sizeof(p->text) - p->len) {
		p->overflow = 1;
		return;
	}
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->text[p->len] = '\0';
}

static void
page_puts(struct page *p, const char *s)
{
	page_put(p, s, strlen(s));
}

/* Claims are the issuer's, yet still text: never into HTML unescaped. */
static void
page_put_html(struct page *p, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': page_puts(p, "&amp;"); break;
		case '<': page_puts(p, "&lt;"); break;
		case '>': page_puts(p, "&gt;"); break;
		case '"': page_puts(p, "&quot;"); break;
		case '\'': page_puts(p, "&#39;"); break;
		default: page_put(p, s, 1); break;
		}
	}
}

static enum MHD_Result
app_send(struct MHD_Connection *conn, unsigned int status, const char *body,
    const char *hname, const char *hvalue)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    status == MHD_HTTP_OK ? "text/html; charset=utf-8" :
	    "text/plain; charset=utf-8") != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store") != MHD_YES ||
	    (hname != NULL && MHD_add_response_header(r, hname, hvalue) !=
	    MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* 401 (RFC 6750 section 3): no error attribute when no token came. kl_
 * strerror texts hold no quotes, so they fit a quoted-string as they are. */
static enum MHD_Result
app_unauthorized(struct MHD_Connection *conn, const char *why)
{
	char challenge[256];
	int n;

	if (why == NULL)
		n = snprintf(challenge, sizeof(challenge),
		    "Bearer realm=\"%s\"", APP_REALM);
	else
		n = snprintf(challenge, sizeof(challenge),
		    "Bearer realm=\"%s\", error=\"invalid_token\", "
		    "error_description=\"%s\"", APP_REALM, why);
	if (n < 0 || (size_t)n >= sizeof(challenge))
		return app_send(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error\n", NULL, NULL);
	return app_send(conn, MHD_HTTP_UNAUTHORIZED, "unauthorized\n",
	    MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
}

static enum MHD_Result
app_forbidden(struct MHD_Connection *conn, const char *role)
{
	char challenge[256];
	int n;

	n = snprintf(challenge, sizeof(challenge), "Bearer realm=\"%s\", "
	    "error=\"insufficient_scope\", error_description=\"role %s "
	    "required\"", APP_REALM, role);
	if (n < 0 || (size_t)n >= sizeof(challenge))
		return app_send(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error\n", NULL, NULL);
	return app_send(conn, MHD_HTTP_FORBIDDEN, "forbidden\n",
	    MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
}

/* The token of "Authorization: Bearer <token>"; the scheme is matched
 * without case (RFC 7235), the token itself the SDK checks. */
static const char *
app_bearer(const char *auth)
{
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	auth += 7;
	while (*auth == ' ')
		auth++;
	return *auth != '\0' ? auth : NULL;
}

static enum MHD_Result
app_page(struct MHD_Connection *conn, const kl_claims *c)
{
	struct page p = { .len = 0, .overflow = 0 };
	size_t i, n = kl_claims_array_len(c, "roles");

	page_puts(&p, "<!doctype html>\n<title>Kleidi example</title>\n"
	    "<h1>Signed in</h1>\n<dl>\n<dt>sub</dt><dd>");
	page_put_html(&p, kl_claims_sub(c));
	page_puts(&p, "</dd>\n<dt>org</dt><dd>");
	page_put_html(&p, kl_claims_org(c));
	page_puts(&p, "</dd>\n<dt>roles</dt><dd><ul>\n");
	for (i = 0; i < n; i++) {
		page_puts(&p, "<li>");
		page_put_html(&p, kl_claims_array_string(c, "roles", i));
		page_puts(&p, "</li>\n");
	}
	page_puts(&p, "</ul></dd>\n</dl>\n");
	if (p.overflow)
		return app_send(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "page too large\n", NULL, NULL);
	return app_send(conn, MHD_HTTP_OK, p.text, NULL, NULL);
}

static enum MHD_Result
app_protected(struct app *app, struct MHD_Connection *conn)
{
	const char *token;
	kl_claims *c;
	kl_error err;
	enum MHD_Result ret;
	int rc;

	token = app_bearer(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION));
	if (token == NULL)
		return app_unauthorized(conn, NULL);
	rc = kl_verify_access_token(app->verifier, token, app->audience, &c,
	    &err);
	if (rc != KL_OK) {
		/* err.text never quotes the token: safe to log. */
		(void)fprintf(stderr, "kleidi-example-app: token refused: %s\n",
		    err.text);
		if (kl_error_is_rejection(rc))
			return app_unauthorized(conn, kl_strerror(rc));
		return app_send(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "cannot check tokens now\n", MHD_HTTP_HEADER_RETRY_AFTER,
		    "30");
	}
	if (!kl_claims_has_role(c, app->role))
		ret = app_forbidden(conn, app->role);
	else
		ret = app_page(conn, c);
	kl_claims_free(c);
	return ret;
}

static enum MHD_Result
app_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **state)
{
	static int seen;

	(void)version;
	(void)upload_data;
	/* First call: headers only. Answer once the request is complete. */
	if (*state == NULL) {
		*state = &seen;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;	/* a body on GET: ignored */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return app_send(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (strcmp(url, "/") != 0)
		return app_send(conn, MHD_HTTP_NOT_FOUND, "not found\n", NULL,
		    NULL);
	return app_protected(cls, conn);
}

struct args {
	const char	*issuer;
	const char	*jwks;
	const char	*audience;
	const char	*role;
	const char	*listen;
};

static void
usage(void)
{
	(void)fprintf(stderr, "usage: kleidi-example-app --issuer URL "
	    "--jwks URL --audience ID --role ROLE --listen 127.0.0.1:PORT\n");
	exit(2);
}

/* The role goes into a response header: letters, digits, . _ : - only. */
static int
role_valid(const char *role)
{
	size_t n = strlen(role);

	return n > 0 && n <= APP_ROLE_MAX &&
	    strspn(role, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-") == n;
}

static void
args_parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "issuer", required_argument, NULL, 'i' },
		{ "jwks", required_argument, NULL, 'j' },
		{ "audience", required_argument, NULL, 'a' },
		{ "role", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i': a->issuer = optarg; break;
		case 'j': a->jwks = optarg; break;
		case 'a': a->audience = optarg; break;
		case 'r': a->role = optarg; break;
		case 'l': a->listen = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || !a->issuer || !a->jwks || !a->audience ||
	    !a->role || !a->listen)
		usage();
	if (!role_valid(a->role)) {
		(void)fprintf(stderr, "kleidi-example-app: bad --role\n");
		exit(2);
	}
}

/* "127.0.0.1:8081" or "[::1]:8081" to a numeric socket address. */
static struct addrinfo *
listen_addr(const char *listen)
{
	struct addrinfo hints, *res = NULL;
	char host[64];
	const char *colon = strrchr(listen, ':');
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - listen)) == 0 ||
	    n >= sizeof(host))
		return NULL;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return NULL;
	return res;
}

static struct MHD_Daemon *
app_start(struct app *app, const struct addrinfo *ai)
{
	unsigned int flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG;

	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, 0, NULL, NULL, app_handle, app,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)APP_THREADS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
	    MHD_OPTION_END);
}

int
main(int argc, char **argv)
{
	struct args a;
	struct app app;
	struct addrinfo *ai = NULL;
	struct MHD_Daemon *d = NULL;
	kl_error err;
	sigset_t stop;
	int sig, status = 1;

	args_parse(argc, argv, &a);
	if ((ai = listen_addr(a.listen)) == NULL) {
		(void)fprintf(stderr, "kleidi-example-app: bad --listen %s\n",
		    a.listen);
		return 2;
	}
	app.audience = a.audience;
	app.role = a.role;
	app.verifier = kl_verifier_new_url(a.issuer, a.jwks, NULL, &err);
	if (app.verifier == NULL) {
		(void)fprintf(stderr, "kleidi-example-app: %s: %s\n",
		    kl_strerror(err.code), err.text);
		goto done;
	}
	/* Block the stop signals before MHD makes threads, which inherit the
	 * mask, so that only sigwait below receives them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0 ||
	    (d = app_start(&app, ai)) == NULL) {
		(void)fprintf(stderr,
		    "kleidi-example-app: cannot listen on %s\n", a.listen);
		goto done;
	}
	(void)printf("kleidi-example-app: listening on %s\n", a.listen);
	(void)fflush(stdout);
	if (sigwait(&stop, &sig) == 0)
		status = 0;
done:
	if (d != NULL)
		MHD_stop_daemon(d);
	kl_verifier_free(app.verifier);
	freeaddrinfo(ai);
	return status;
}
