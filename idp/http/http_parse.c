/*
 * http_parse.c - the request parsers: x-www-form-urlencoded, Cookie,
 * Basic credentials, percent-decoding, and the accessors over their
 * results. Pure functions over (pointer, length): they never read past
 * len, refuse encoded NULs and malformed escapes, bound the number of
 * pairs, and leave nothing allocated on failure. They are fuzzed.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define BASIC_HEADER_MAX 1024	/* longer Authorization: Basic is refused */

/* A growing list of pairs that never holds more than max. */
struct kvlist {
	struct http_kv *v;
	size_t n;
	size_t cap;
	size_t max;
};

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
http_urldecode(const char *s, size_t len, int plus_space)
{
	char *out, *o;
	size_t i;
	int hi, lo;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			goto bad;
		if (c == '+' && plus_space) {
			*o++ = ' ';
			continue;
		}
		if (c != '%') {
			*o++ = (char)c;
			continue;
		}
		if (len - i < 3)
			goto bad;
		hi = hexval((unsigned char)s[i + 1]);
		lo = hexval((unsigned char)s[i + 2]);
		/* %00 would cut the value short where C reads it. */
		if (hi == -1 || lo == -1 || (hi == 0 && lo == 0))
			goto bad;
		*o++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*o = '\0';
	return out;
bad:
	wipe(out, (size_t)(o - out));
	free(out);
	return NULL;
}

/* Values may be passwords: wiped before they go back to the heap. */
static void
str_free(char *s)
{
	if (s == NULL)
		return;
	wipe(s, strlen(s));
	free(s);
}

void
http_kv_free(struct http_kv *kv, size_t n)
{
	size_t i;

	if (kv == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(kv[i].name);
		str_free(kv[i].value);
	}
	free(kv);
}

/* Takes ownership of name and value, also on failure. */
static int
kvlist_push(struct kvlist *l, char *name, char *value)
{
	struct http_kv *v;
	size_t cap;

	if (name == NULL || value == NULL || l->n >= l->max)
		goto fail;
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 8;
		if (cap > l->max)
			cap = l->max;
		if ((v = realloc(l->v, cap * sizeof(*v))) == NULL)
			goto fail;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].name = name;
	l->v[l->n].value = value;
	l->n++;
	return 0;
fail:
	free(name);
	str_free(value);
	return -1;
}

static void
kvlist_init(struct kvlist *l, size_t max)
{
	l->v = NULL;
	l->n = l->cap = 0;
	l->max = max;
}

/* Hands the pairs to the caller, or frees them all on failure. */
static int
kvlist_finish(struct kvlist *l, int rc, struct http_kv **out, size_t *n)
{
	if (rc == -1 || l->n == 0) {
		http_kv_free(l->v, l->n);
		l->v = NULL;
		l->n = 0;
	}
	*out = l->v;
	*n = l->n;
	return rc;
}

/* One name[=value] segment of a urlencoded string. */
static int
urlencoded_pair(struct kvlist *l, const char *seg, size_t len)
{
	const char *eq;
	size_t nlen;
	char *name, *value;

	eq = memchr(seg, '=', len);
	nlen = eq != NULL ? (size_t)(eq - seg) : len;
	/* A pair without a name cannot be asked for: drop it. */
	if (nlen == 0)
		return 0;
	name = http_urldecode(seg, nlen, 1);
	if (eq != NULL)
		value = http_urldecode(eq + 1, len - nlen - 1, 1);
	else
		value = strdup("");
	if (name == NULL || value == NULL) {
		free(name);
		str_free(value);
		return -1;
	}
	return kvlist_push(l, name, value);
}

int
http_parse_urlencoded(const char *s, size_t len, struct http_kv **out,
    size_t *n, size_t max)
{
	struct kvlist l;
	const char *seg, *amp, *end;
	int rc = 0;

	kvlist_init(&l, max);
	if (s == NULL) {
		s = "";
		len = 0;
	}
	end = s + len;
	for (seg = s; len > 0 && seg < end; seg = amp + 1) {
		amp = memchr(seg, '&', (size_t)(end - seg));
		if (amp == NULL)
			amp = end;
		if (amp > seg &&
		    urlencoded_pair(&l, seg, (size_t)(amp - seg)) == -1) {
			rc = -1;
			break;
		}
	}
	return kvlist_finish(&l, rc, out, n);
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One "name=value" of a Cookie header, trimmed of blanks. Values are not
 * percent-decoded (RFC 6265 gives them no encoding); one pair of
 * surrounding double quotes is removed. Pairs without '=' or without a
 * name are skipped: another application on the same host may have set
 * them, and they must not lock a person out.
 */
static int
cookie_pair(struct kvlist *l, const char *seg, size_t len)
{
	const char *eq, *v;
	size_t nlen, vlen;
	char *name, *value;

	while (len > 0 && is_ows(*seg)) {
		seg++;
		len--;
	}
	if ((eq = memchr(seg, '=', len)) == NULL)
		return 0;
	nlen = (size_t)(eq - seg);
	while (nlen > 0 && is_ows(seg[nlen - 1]))
		nlen--;
	if (nlen == 0)
		return 0;
	v = eq + 1;
	vlen = len - (size_t)(v - seg);
	while (vlen > 0 && is_ows(*v)) {
		v++;
		vlen--;
	}
	while (vlen > 0 && is_ows(v[vlen - 1]))
		vlen--;
	if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
		v++;
		vlen -= 2;
	}
	name = strndup(seg, nlen);
	value = strndup(v, vlen);
	return kvlist_push(l, name, value);
}

int
http_parse_cookies(const char *s, struct http_kv **out, size_t *n,
    size_t max)
{
	struct kvlist l;
	const char *seg, *semi, *end, *p;
	int rc = 0;

	kvlist_init(&l, max);
	if (s == NULL)
		s = "";
	end = s + strlen(s);
	/* Browsers never send control characters; a header that holds
	 * them was not written by one. */
	for (p = s; p < end; p++) {
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return kvlist_finish(&l, -1, out, n);
	}
	for (seg = s; seg < end; seg = semi + 1) {
		if ((semi = memchr(seg, ';', (size_t)(end - seg))) == NULL)
			semi = end;
		if (cookie_pair(&l, seg, (size_t)(semi - seg)) == -1) {
			rc = -1;
			break;
		}
	}
	return kvlist_finish(&l, rc, out, n);
}

/* Skips "Basic" and its blanks; NULL when the scheme is another. */
static const char *
basic_token(const char *header)
{
	const char *p;

	if (strncasecmp(header, "Basic", 5) != 0 || header[5] != ' ')
		return NULL;
	for (p = header + 5; *p == ' '; p++)
		;
	return p;
}

int
http_parse_basic(const char *header, char **id, char **secret)
{
	unsigned char *raw = NULL;
	const char *tok, *colon;
	size_t hlen, tlen, idlen, rawlen = 0;
	int rc = -1;

	*id = *secret = NULL;
	if (header == NULL ||
	    (hlen = strnlen(header, BASIC_HEADER_MAX + 1)) > BASIC_HEADER_MAX)
		return -1;
	if ((tok = basic_token(header)) == NULL)
		return -1;
	tlen = hlen - (size_t)(tok - header);
	while (tlen > 0 && is_ows(tok[tlen - 1]))
		tlen--;
	if ((raw = b64std_decode(tok, tlen, &rawlen)) == NULL)
		return -1;
	if (memchr(raw, '\0', rawlen) != NULL ||
	    (colon = memchr(raw, ':', rawlen)) == NULL ||
	    colon == (const char *)raw)
		goto done;
	idlen = (size_t)(colon - (const char *)raw);
	*id = http_urldecode((const char *)raw, idlen, 1);
	*secret = http_urldecode(colon + 1, rawlen - idlen - 1, 1);
	if (*id == NULL || *secret == NULL || **id == '\0')
		goto done;
	rc = 0;
done:
	if (rc == -1) {
		free(*id);
		str_free(*secret);
		*id = *secret = NULL;
	}
	wipe(raw, rawlen);
	free(raw);
	return rc;
}

/* ---- accessors */

static const char *
kv_first(const struct http_kv *kv, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(kv[i].name, name) == 0)
			return kv[i].value;
	}
	return NULL;
}

static size_t
kv_count(const struct http_kv *kv, size_t n, const char *name)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(kv[i].name, name) == 0)
			c++;
	}
	return c;
}

const char *
http_query(const struct http_request *req, const char *name)
{
	return kv_first(req->query, req->nquery, name);
}

const char *
http_form(const struct http_request *req, const char *name)
{
	return kv_first(req->form, req->nform, name);
}

const char *
http_cookie(const struct http_request *req, const char *name)
{
	return kv_first(req->cookies, req->ncookies, name);
}

size_t
http_query_count(const struct http_request *req, const char *name)
{
	return kv_count(req->query, req->nquery, name);
}

size_t
http_form_count(const struct http_request *req, const char *name)
{
	return kv_count(req->form, req->nform, name);
}
