/*
 * fetch.c - requests to the issuer with libcurl: GET the JWKS, POST an
 * introspection. HTTPS only (plain HTTP only to a loopback host, for tests
 * and sidecars), no redirects, bounded in time and size.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "internal.h"

#define FETCH_BUF_START		4096
#define FETCH_CONNECT_MS_MAX	5000L

struct fetch_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	int	 too_big;
};

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static CURLcode fetch_global_rc = CURLE_FAILED_INIT;

/* curl_global_init is not thread-safe in every libcurl; run it once.
 * Never cleaned up: the application may use libcurl itself. */
static void
fetch_global_init(void)
{
	fetch_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int
fetch_loopback_host(const char *host)
{
	return strcmp(host, "127.0.0.1") == 0 ||
	    kl_ascii_caseeq(host, "localhost") || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0;
}

/* 1 https, 2 http to loopback, 0 refused, -1 no memory or not a URL. */
static int
fetch_url_kind(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int kind = -1;

	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto done;
	if (strcmp(scheme, "https") == 0)
		kind = 1;
	else if (strcmp(scheme, "http") == 0 && fetch_loopback_host(host))
		kind = 2;
	else
		kind = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return kind;
}

static int
fetch_strdup(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	if (strnlen(s, PATH_MAX) >= PATH_MAX)
		return -1;
	return (*out = strdup(s)) == NULL ? -1 : 0;
}

int
kl_fetch_init(struct kl_fetch *f, const char *url, const kl_options *opt,
    kl_error *err)
{
	int kind;

	memset(f, 0, sizeof(*f));
	if (pthread_once(&fetch_once, fetch_global_init) != 0 ||
	    fetch_global_rc != CURLE_OK)
		return kl_error_set(err, KL_ERR_INTERNAL,
		    "libcurl initialisation failed");
	if (url == NULL || strnlen(url, KL_ISSUER_MAX + 1) > KL_ISSUER_MAX)
		return kl_error_set(err, KL_ERR_ARGUMENT,
		    "URL missing or too long");
	if ((kind = fetch_url_kind(url)) <= 0)
		return kl_error_set(err, KL_ERR_ARGUMENT, "URL must be "
		    "https://, or http:// to 127.0.0.1, localhost or [::1]");
	f->loopback = kind == 2;
	f->timeout_ms = opt->http_timeout_ms;
	if (fetch_strdup(url, &f->url) != 0 ||
	    fetch_strdup(opt->ca_file, &f->ca_file) != 0 ||
	    fetch_strdup(opt->ca_path, &f->ca_path) != 0) {
		kl_fetch_clear(f);
		return kl_error_set(err, KL_ERR_NOMEM,
		    "out of memory or CA path too long");
	}
	return KL_OK;
}

void
kl_fetch_clear(struct kl_fetch *f)
{
	free(f->url);
	free(f->ca_file);
	free(f->ca_path);
	memset(f, 0, sizeof(*f));
}

/* Appends what libcurl received, up to KL_JWKS_MAX bytes in all. */
static size_t
fetch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_buf *b = arg;
	size_t n = size * nmemb, cap;
	char *p;

	if (n > KL_JWKS_MAX - b->len) {
		b->too_big = 1;
		return 0;	/* libcurl stops with CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : FETCH_BUF_START;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->data, cap)) == NULL)
			return 0;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static int
fetch_setup(CURL *h, const struct kl_fetch *f, struct fetch_buf *b,
    struct curl_slist *hdrs, char *errbuf)
{
	const char *proto = f->loopback ? "http" : "https";
	long connect_ms = f->timeout_ms < FETCH_CONNECT_MS_MAX ?
	    f->timeout_ms : FETCH_CONNECT_MS_MAX;

	if (curl_easy_setopt(h, CURLOPT_URL, f->url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, proto) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, f->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)KL_JWKS_MAX) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, b) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, KL_FETCH_USER_AGENT) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK)
		return -1;
	/* A proxy has no business between us and our own host. */
	if (f->loopback && curl_easy_setopt(h, CURLOPT_NOPROXY, "*") !=
	    CURLE_OK)
		return -1;
	if ((f->ca_file && curl_easy_setopt(h, CURLOPT_CAINFO, f->ca_file) !=
	    CURLE_OK) ||
	    (f->ca_path && curl_easy_setopt(h, CURLOPT_CAPATH, f->ca_path) !=
	    CURLE_OK))
		return -1;
	return 0;
}

static int
fetch_perform(CURL *h, struct fetch_buf *b, const char *errbuf,
    kl_error *err)
{
	CURLcode cc;
	long status = 0;

	cc = curl_easy_perform(h);
	if (b->too_big)
		return kl_error_set(err, KL_ERR_FETCH,
		    "answer larger than %d bytes", KL_JWKS_MAX);
	if (cc != CURLE_OK)
		return kl_error_set(err, KL_ERR_FETCH, "request failed: %s",
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK || status != 200)
		return kl_error_set(err, KL_ERR_FETCH,
		    "the issuer answered HTTP %ld", status);
	if (b->data == NULL)
		return kl_error_set(err, KL_ERR_FETCH, "empty answer");
	return KL_OK;
}

/* One request: a GET, or a POST of form with Basic credentials. */
static int
fetch_request(const struct kl_fetch *f, const char *accept,
    const char *form, const char *user, const char *password, char **body,
    size_t *len, kl_error *err)
{
	struct fetch_buf b = { NULL, 0, 0, 0 };
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE];
	CURL *h;
	int rc;

	*body = NULL;
	*len = 0;
	errbuf[0] = '\0';
	if ((h = curl_easy_init()) == NULL ||
	    (hdrs = curl_slist_append(NULL, accept)) == NULL ||
	    fetch_setup(h, f, &b, hdrs, errbuf) != 0 ||
	    (form != NULL && curl_easy_setopt(h, CURLOPT_POSTFIELDS, form) !=
	    CURLE_OK) ||
	    (user != NULL && (curl_easy_setopt(h, CURLOPT_HTTPAUTH,
	    (long)CURLAUTH_BASIC) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERNAME, user) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PASSWORD, password) != CURLE_OK))) {
		rc = kl_error_set(err, KL_ERR_NOMEM, "cannot set up libcurl");
		goto done;
	}
	if ((rc = fetch_perform(h, &b, errbuf, err)) != KL_OK)
		goto done;
	*body = b.data;
	*len = b.len;
	b.data = NULL;
done:
	free(b.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return rc;
}

int
kl_fetch_get(const struct kl_fetch *f, char **body, size_t *len,
    kl_error *err)
{
	return fetch_request(f,
	    "Accept: application/jwk-set+json, application/json", NULL, NULL,
	    NULL, body, len, err);
}

int
kl_fetch_post(const struct kl_fetch *f, const char *form,
    const char *user, const char *password, char **body, size_t *len,
    kl_error *err)
{
	return fetch_request(f, "Accept: application/json", form, user,
	    password, body, len, err);
}
