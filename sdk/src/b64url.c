/*
 * b64url.c - strict base64url decoding (RFC 4648 section 5, no padding).
 *
 * Strict on purpose: one byte string has exactly one accepted encoding, so
 * a token cannot be varied (padding, stray bits, whitespace) without
 * changing what the signature covers.
 */
#include "internal.h"

/* One more than each character's value, so that 0 marks every byte
 * outside the alphabet (designated initializers leave them 0). */
static const unsigned char b64url_value[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

size_t
kl_b64url_decoded_len(size_t inlen)
{
	static const size_t tail[4] = { 0, 0, 1, 2 };

	if (inlen % 4 == 1)
		return 0;
	return inlen / 4 * 3 + tail[inlen % 4];
}

/* Decodes n (2..4) characters into their n - 1 bytes. */
static int
b64url_quantum(const unsigned char *in, size_t n, unsigned char *out)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		v <<= 6;
		if (i < n) {
			if (b64url_value[in[i]] == 0)
				return -1;
			v |= b64url_value[in[i]] - 1u;
		}
	}
	/* In a short quantum the bits past the last byte must be zero. */
	if ((n == 2 && (v & 0xffff)) || (n == 3 && (v & 0xff)))
		return -1;
	out[0] = (unsigned char)(v >> 16);
	if (n > 2)
		out[1] = (unsigned char)(v >> 8);
	if (n > 3)
		out[2] = (unsigned char)v;
	return 0;
}

int
kl_b64url_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outmax, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t need, i, o = 0;

	*outlen = 0;
	if (inlen % 4 == 1)
		return -1;
	need = kl_b64url_decoded_len(inlen);
	if (need > outmax)
		return -1;
	for (i = 0; i < inlen; i += 4) {
		size_t n = inlen - i < 4 ? inlen - i : 4;

		if (b64url_quantum(p + i, n, out + o) != 0)
			return -1;
		o += n - 1;
	}
	*outlen = o;
	return 0;
}
