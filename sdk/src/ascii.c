/*
 * ascii.c - ASCII-only text helpers. Media types and host names compare
 * without case, but never through the locale: strcasecmp follows the
 * application's LC_CTYPE, which a library must not depend on.
 */
#include "internal.h"

static unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

int
kl_ascii_caseeq(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; *p != '\0' && *q != '\0'; p++, q++)
		if (ascii_lower(*p) != ascii_lower(*q))
			return 0;
	return *p == *q;
}
