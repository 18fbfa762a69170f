/*
 * http_response.c - building a response: headers, cookies, redirects and
 * JSON bodies. Everything given is checked before it is copied, so no
 * handler can split a header or smuggle a cookie attribute.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define HEADER_NAME_MAX 64
#define HEADER_VALUE_MAX 8192	/* a Location with a long query fits */
#define COOKIE_NAME_MAX 64
#define COOKIE_VALUE_MAX 1024

/* RFC 9110 tchar, besides letters and digits. */
static const char tchar_extra[] = "!#$%&'*+-.^_`|~";

void
http_response_init(struct http_response *resp)
{
	resp->status = 200;
	resp->content_type = NULL;
	buf_init(&resp->body, (size_t)HTTP_RESPONSE_MAX);
	resp->nheaders = 0;
}

void
http_response_free(struct http_response *resp)
{
	size_t i;

	if (resp == NULL)
		return;
	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	resp->nheaders = 0;
	buf_free(&resp->body);
}

/* Visible ASCII, blanks and UTF-8 bytes; no CR, LF, NUL or other CTL. */
static int
header_value_ok(const char *v)
{
	size_t n = 0;

	for (; *v != '\0'; v++, n++) {
		unsigned char c = (unsigned char)*v;

		if (n >= HEADER_VALUE_MAX || (c < 0x20 && c != '\t') ||
		    c == 0x7f)
			return 0;
	}
	return 1;
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++) {
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	}
	return NULL;
}

/*
 * Sets a header. A header already present is replaced, so that a handler
 * can override a helper's choice; Set-Cookie is the exception, since
 * every cookie is a header of its own.
 */
int
http_header(struct http_response *resp, const char *name, const char *value)
{
	struct http_kv *h = NULL;
	char *n, *v;
	size_t i;

	if (name == NULL || value == NULL ||
	    !str_is_token(name, HEADER_NAME_MAX, tchar_extra) ||
	    !header_value_ok(value))
		return -1;
	if (strcasecmp(name, "Set-Cookie") != 0) {
		for (i = 0; i < resp->nheaders; i++) {
			if (strcasecmp(resp->headers[i].name, name) == 0)
				h = &resp->headers[i];
		}
	}
	if (h == NULL && resp->nheaders >= HTTP_HEADERS_OUT_MAX)
		return -1;
	if ((v = strdup(value)) == NULL)
		return -1;
	if (h != NULL) {
		free(h->value);
		h->value = v;
		return 0;
	}
	if ((n = strdup(name)) == NULL) {
		free(v);
		return -1;
	}
	resp->headers[resp->nheaders].name = n;
	resp->headers[resp->nheaders].value = v;
	resp->nheaders++;
	return 0;
}

/* RFC 6265 cookie-octet: visible ASCII but DQUOTE, comma, ';' and '\'. */
static int
cookie_value_ok(const char *v)
{
	size_t n = 0;

	for (; *v != '\0'; v++, n++) {
		unsigned char c = (unsigned char)*v;

		if (n >= COOKIE_VALUE_MAX || c <= 0x20 || c >= 0x7f ||
		    c == '"' || c == ',' || c == ';' || c == '\\')
			return 0;
	}
	return 1;
}

int
http_set_cookie(struct http_response *resp, const struct http_request *req,
    const char *name, const char *value, int64_t max_age)
{
	struct buf b;
	int rc = -1;

	if (name == NULL || value == NULL ||
	    !str_is_token(name, COOKIE_NAME_MAX, tchar_extra) ||
	    !cookie_value_ok(value) ||
	    (max_age < 0 && max_age != HTTP_COOKIE_SESSION))
		return -1;
	buf_init(&b, COOKIE_NAME_MAX + COOKIE_VALUE_MAX + 128);
	if (buf_printf(&b, "%s=%s; Path=/; HttpOnly; SameSite=Lax", name,
	    value) == -1)
		goto done;
	if (max_age != HTTP_COOKIE_SESSION &&
	    buf_printf(&b, "; Max-Age=%" PRId64, max_age) == -1)
		goto done;
	if (req != NULL && http_secure(req) && buf_puts(&b, "; Secure") == -1)
		goto done;
	rc = http_header(resp, "Set-Cookie", b.data);
done:
	buf_free(&b);
	return rc;
}

int
http_redirect(struct http_response *resp, const char *location)
{
	if (location == NULL || *location == '\0' ||
	    http_header(resp, "Location", location) == -1 ||
	    http_header(resp, "Cache-Control", "no-store") == -1)
		return -1;
	resp->status = 302;
	buf_reset(&resp->body);
	return 0;
}

int
http_json(struct http_response *resp, int status, const char *json)
{
	buf_reset(&resp->body);
	if (json == NULL || buf_puts(&resp->body, json) == -1 ||
	    http_header(resp, "Cache-Control", "no-store") == -1 ||
	    http_header(resp, "Pragma", "no-cache") == -1)
		return -1;
	resp->status = status;
	resp->content_type = "application/json";
	return 0;
}
