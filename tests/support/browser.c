/* browser.c - a small browser for integration tests: libcurl with an
 * in-memory cookie jar; redirects are reported, never followed. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "harness.h"

struct browser {
	CURL *curl;
};

struct browser *
browser_new(void)
{
	struct browser *b = calloc(1, sizeof(*b));

	if (b == NULL || (b->curl = curl_easy_init()) == NULL) {
		free(b);
		return NULL;
	}
	/* "" turns the cookie engine on without a file. */
	curl_easy_setopt(b->curl, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(b->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(b->curl, CURLOPT_TIMEOUT, 30L);
	return b;
}

void
browser_free(struct browser *b)
{
	if (b == NULL)
		return;
	curl_easy_cleanup(b->curl);
	free(b);
}

void
page_free(struct page *p)
{
	buf_free(&p->body);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	return buf_append(arg, data, size * n) == 0 ? size * n : 0;
}

static void
header_value(const char *line, size_t len, const char *name, char *out,
    size_t size)
{
	size_t nl = strlen(name), vl;

	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 ||
	    line[nl] != ':')
		return;
	line += nl + 1;
	len -= nl + 1;
	while (len > 0 && *line == ' ') {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	vl = len < size - 1 ? len : size - 1;
	memcpy(out, line, vl);
	out[vl] = '\0';
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct page *p = arg;

	header_value(data, size * n, "Location", p->location,
	    sizeof(p->location));
	header_value(data, size * n, "Content-Type", p->content_type,
	    sizeof(p->content_type));
	header_value(data, size * n, "WWW-Authenticate", p->www_authenticate,
	    sizeof(p->www_authenticate));
	return size * n;
}

static int
browser_do(struct browser *b, const char *url, const char *auth,
    const char *body, struct page *out)
{
	struct curl_slist *hdrs = NULL;
	char line[8192];
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	buf_init(&out->body, 4 << 20);
	curl_easy_setopt(b->curl, CURLOPT_URL, url);
	curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(b->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(b->curl, CURLOPT_HEADERDATA, out);
	if (auth != NULL) {
		snprintf(line, sizeof(line), "Authorization: %s", auth);
		hdrs = curl_slist_append(hdrs, line);
	}
	curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, hdrs);
	if (body != NULL) {
		curl_easy_setopt(b->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(b->curl, CURLOPT_POSTFIELDS, body);
	} else
		curl_easy_setopt(b->curl, CURLOPT_HTTPGET, 1L);
	rc = curl_easy_perform(b->curl);
	curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK)
		return -1;
	curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &out->status);
	if (out->body.data == NULL)
		(void)buf_puts(&out->body, "");
	return 0;
}

int
browser_get(struct browser *b, const char *url, const char *auth,
    struct page *out)
{
	return browser_do(b, url, auth, NULL, out);
}

int
browser_post(struct browser *b, const char *url, const char *auth,
    const char *body, struct page *out)
{
	return browser_do(b, url, auth, body, out);
}

int
browser_cookie(struct browser *b, const char *name, char *out, size_t size)
{
	struct curl_slist *list = NULL, *l;
	int rc = -1;

	/* Netscape format: domain, flag, path, secure, expiry, name, value */
	if (curl_easy_getinfo(b->curl, CURLINFO_COOKIELIST, &list) != CURLE_OK)
		return -1;
	for (l = list; l != NULL && rc == -1; l = l->next) {
		char *f[7], *save = NULL, *line = strdup(l->data);
		int i = 0;

		if (line == NULL)
			break;
		for (char *t = strtok_r(line, "\t", &save); t && i < 7;
		    t = strtok_r(NULL, "\t", &save))
			f[i++] = t;
		if (i == 7 && strcmp(f[5], name) == 0) {
			str_copy(out, f[6], size);
			rc = 0;
		}
		free(line);
	}
	curl_slist_free_all(list);
	return rc;
}

size_t
count_of(const char *haystack, const char *needle)
{
	size_t n = 0;

	while ((haystack = strstr(haystack, needle)) != NULL) {
		n++;
		haystack += strlen(needle);
	}
	return n;
}

static void
html_unescape(char *s)
{
	static const struct { const char *e; char c; } ents[] = {
		{ "&amp;", '&' }, { "&quot;", '"' }, { "&lt;", '<' },
		{ "&gt;", '>' }, { "&#39;", '\'' } };
	char *w = s;
	size_t i;

	while (*s != '\0') {
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
			if (strncmp(s, ents[i].e, strlen(ents[i].e)) == 0)
				break;
		if (i < sizeof(ents) / sizeof(ents[0])) {
			*w++ = ents[i].c;
			s += strlen(ents[i].e);
		} else
			*w++ = *s++;
	}
	*w = '\0';
}

int
html_input_value(const char *html, const char *name, char *out, size_t size)
{
	char needle[128];
	const char *p, *tag, *end, *v, *q;
	size_t n;

	snprintf(needle, sizeof(needle), "name=\"%s\"", name);
	if ((p = strstr(html, needle)) == NULL)
		return -1;
	/* The tag around the attribute. */
	for (tag = p; tag > html && *tag != '<'; tag--)
		;
	if ((end = strchr(p, '>')) == NULL)
		return -1;
	for (v = tag; (v = strstr(v, "value=\"")) != NULL && v < end; v++) {
		v += 7;
		if ((q = strchr(v, '"')) == NULL || q > end)
			return -1;
		n = (size_t)(q - v) < size - 1 ? (size_t)(q - v) : size - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		html_unescape(out);
		return 0;
	}
	return -1;
}

int
url_param(const char *url, const char *name, char *out, size_t size)
{
	const char *p = strchr(url, '?');
	size_t nl = strlen(name);
	char *dec;
	int len;

	while (p != NULL) {
		p++;
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			p += nl + 1;
			len = (int)strcspn(p, "&#");
			dec = curl_easy_unescape(NULL, p, len, NULL);
			if (dec == NULL)
				return -1;
			str_copy(out, dec, size);
			curl_free(dec);
			return 0;
		}
		p = strchr(p, '&');
	}
	return -1;
}
