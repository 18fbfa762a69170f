/* b64.c - base64url without padding (RFC 4648 section 5), strict decoder. */
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char b64url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *
b64url_encode(const unsigned char *in, size_t len)
{
	size_t i, o = 0, outlen;
	char *out;
	uint32_t v;

	if (len > (SIZE_MAX / 4) - 4)
		return NULL;
	outlen = (len / 3) * 4 + (len % 3 ? len % 3 + 1 : 0);
	if ((out = malloc(outlen + 1)) == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url_alpha[v >> 18 & 63];
		out[o++] = b64url_alpha[v >> 12 & 63];
		out[o++] = b64url_alpha[v >> 6 & 63];
		out[o++] = b64url_alpha[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64url_alpha[v >> 18 & 63];
		out[o++] = b64url_alpha[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url_alpha[v >> 18 & 63];
		out[o++] = b64url_alpha[v >> 12 & 63];
		out[o++] = b64url_alpha[v >> 6 & 63];
	}
	out[o] = '\0';
	return out;
}

/* c62/c63: the two alphabet characters that differ between base64url
 * ('-', '_') and standard base64 ('+', '/'). */
static int
b64_val(unsigned char c, char c62, char c63)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (unsigned char)c62)
		return 62;
	if (c == (unsigned char)c63)
		return 63;
	return -1;
}

/* Decodes unpadded input; the leftover bits must be zero, so each byte
 * string has exactly one accepted spelling. */
static unsigned char *
b64_decode(const char *in, size_t inlen, size_t *outlen, char c62, char c63)
{
	unsigned char *out;
	size_t i, o = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	if (inlen % 4 == 1)
		return NULL;
	if ((out = malloc(inlen / 4 * 3 + 3)) == NULL)
		return NULL;
	for (i = 0; i < inlen; i++) {
		if ((v = b64_val((unsigned char)in[i], c62, c63)) < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		goto bad;
	out[o] = '\0';
	*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

unsigned char *
b64url_decode(const char *in, size_t inlen, size_t *outlen)
{
	return b64_decode(in, inlen, outlen, '-', '_');
}

unsigned char *
b64std_decode(const char *in, size_t inlen, size_t *outlen)
{
	size_t pad = 0;

	/* Padded to a multiple of 4, at most two '=' (RFC 4648 4). */
	if (inlen == 0 || inlen % 4 != 0)
		return NULL;
	while (pad < 2 && in[inlen - 1 - pad] == '=')
		pad++;
	return b64_decode(in, inlen - pad, outlen, '+', '/');
}
