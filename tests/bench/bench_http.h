/*
 * bench_http.h - what the load drivers share (bench_signin, bench_soak):
 * one blocking HTTP request with libcurl, a TOTP code, a Basic header, and
 * a comparison for sorting latencies.
 */
#ifndef KLEIDI_BENCH_HTTP_H
#define KLEIDI_BENCH_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#define BENCH_BODY_MAX (256 * 1024)

struct resp {
	long status;
	char body[BENCH_BODY_MAX];
	size_t len;
	char location[2048];
	int retry_after;	/* the answer had a Retry-After header */
};

/* GET url (body NULL) or POST body; auth (may be NULL) is the
 * Authorization value. 0 when an answer came (any status), -1 on a
 * transport failure (said on stderr). Redirects are not followed. */
int request(CURL *c, const char *url, const char *auth, const char *body,
    struct resp *r);
/* The current 6-digit TOTP code of base32 secret b32. 0 or -1. */
int totp_now(const char *b32, char out[7]);
/* "Basic base64(id:sec)" into out. */
void basic(char *out, size_t size, const char *id, const char *sec);
/* qsort comparison of doubles. */
int cmp_double(const void *a, const void *b);

#endif
