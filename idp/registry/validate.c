/* validate.c - field validators shared by every front door. */
#include <string.h>

#include "registry.h"

int
valid_code(const char *s, size_t max)
{
	if (s == NULL || s[0] == '-')
		return 0;
	return str_is_token(s, max - 1, "-") && strpbrk(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == NULL;
}

int
valid_client_id(const char *s)
{
	return str_is_token(s, APP_ID_SIZE - 1, "-._");
}

int
valid_username(const char *s)
{
	return str_is_token(s, USERNAME_SIZE - 1, "-._@") &&
	    strpbrk(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == NULL;
}

int
valid_role(const char *s)
{
	return str_is_token(s, ROLE_SIZE - 1, "-._:");
}

int
valid_phone(const char *s)
{
	size_t n;

	if (s == NULL || s[0] != '+')
		return 0;
	n = strlen(s + 1);
	return n >= 8 && n <= 15 && strspn(s + 1, "0123456789") == n &&
	    s[1] != '0';
}

int
valid_email(const char *s)
{
	const char *at;
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n >= EMAIL_SIZE)
		return 0;
	at = strchr(s, '@');
	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    strchr(at + 1, '.') == NULL || at[1] == '.' || s[n - 1] == '.')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f ||
		    strchr("<>\"'\\,;()[]", *s) != NULL)
			return 0;
	return 1;
}

/* The AFM check digit: the first eight digits weighted by 2^8 .. 2^1,
 * summed, mod 11, mod 10. */
int
valid_taxid(const char *s)
{
	unsigned sum = 0;
	int i;

	if (s == NULL || strlen(s) != 9 || strspn(s, "0123456789") != 9 ||
	    strcmp(s, "000000000") == 0)
		return 0;
	for (i = 0; i < 8; i++)
		sum += (unsigned)(s[i] - '0') << (8 - i);
	return sum % 11 % 10 == (unsigned)(s[8] - '0');
}

/* Well-formed UTF-8 without control characters. */
int
valid_name(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need;

	if (s == NULL || *s == '\0' || strlen(s) >= max)
		return 0;
	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			need = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			need = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			need = 3;
		else
			return 0;
		for (p++; need > 0; need--, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

static int
uri_host_is_loopback(const char *host, size_t len)
{
	return (len == 9 && strncmp(host, "localhost", 9) == 0) ||
	    (len == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
	    (len == 5 && strncmp(host, "[::1]", 5) == 0);
}

int
valid_redirect_uri(const char *s)
{
	const char *host, *end;
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n >= URI_SIZE)
		return 0;
	if (strchr(s, '#') != NULL)
		return 0;
	for (end = s; *end != '\0'; end++)
		if ((unsigned char)*end <= 0x20 || *end == 0x7f ||
		    strchr("<>\"\\^`{|}", *end) != NULL)
			return 0;
	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return 0;
	end = host + strcspn(host, "/?");
	if (end == host || memchr(host, '@', (size_t)(end - host)) != NULL)
		return 0;
	if (host == s + 7) {
		/* Plain http only to a loopback address (RFC 8252 7.3). */
		const char *colon = host[0] == '[' ?
		    memchr(host, ']', (size_t)(end - host)) : host;
		size_t hl;
		if (colon == NULL)
			return 0;
		colon = memchr(colon, ':', (size_t)(end - colon));
		hl = (size_t)((colon != NULL ? colon : end) - host);
		if (!uri_host_is_loopback(host, hl))
			return 0;
	}
	return 1;
}
