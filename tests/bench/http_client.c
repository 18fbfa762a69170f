/* http_client.c - the load drivers' HTTP requests (bench_http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <liboath/oath.h>
#include <openssl/evp.h>

#include "bench_http.h"

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = sz * n, room = sizeof(r->body) - 1 - r->len;

	memcpy(r->body + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->body[r->len] = '\0';
	return len;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = sz * n, k;

	if (len > 9 && strncasecmp(p, "Location:", 9) == 0) {
		for (k = 9; k < len && p[k] == ' '; k++)
			;
		(void)snprintf(r->location, sizeof(r->location), "%.*s",
		    (int)(len - k), p + k);
		r->location[strcspn(r->location, "\r\n")] = '\0';
	} else if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
		r->retry_after = 1;
	return len;
}

int
request(CURL *c, const char *url, const char *auth, const char *body,
    struct resp *r)
{
	struct curl_slist *h = NULL;
	char hdr[8192];
	CURLcode rc;

	r->len = 0;
	r->body[0] = r->location[0] = '\0';
	r->status = 0;
	r->retry_after = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (auth != NULL) {
		(void)snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
		h = curl_slist_append(h, hdr);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	if (rc != CURLE_OK)
		(void)fprintf(stderr, "bench: %s: %s\n", url,
		    curl_easy_strerror(rc));
	return rc == CURLE_OK ? 0 : -1;
}

int
totp_now(const char *b32, char out[7])
{
	char *key = NULL;
	size_t keylen = 0;
	int rc;

	if (oath_base32_decode(b32, strlen(b32), &key, &keylen) != OATH_OK)
		return -1;
	rc = oath_totp_generate(key, keylen, time(NULL), 30, 0, 6, out);
	free(key);
	return rc == OATH_OK ? 0 : -1;
}

void
basic(char *out, size_t size, const char *id, const char *sec)
{
	char raw[256];
	unsigned char enc[400];

	(void)snprintf(raw, sizeof(raw), "%s:%s", id, sec);
	(void)EVP_EncodeBlock(enc, (unsigned char *)raw, (int)strlen(raw));
	(void)snprintf(out, size, "Basic %s", enc);
}

int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}
