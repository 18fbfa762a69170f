/*
 * store_key.c - building and splitting table keys. Keys are built in a
 * fixed buffer of STORE_KEY_MAX bytes; every append checks the room left.
 */
#include <string.h>

#include "store_int.h"
#include "util/util.h"

void
store_key_init(struct store_key *k)
{
	k->len = 0;
}

static int
key_str(struct store_key *k, const char *s, size_t size, int empty_ok)
{
	const char *nul;
	size_t n;

	if (s == NULL) {
		log_err("store: NULL key part");
		return STORE_ERROR;
	}
	nul = memchr(s, '\0', size);
	/* Too long for its field or empty: no record can have this key. */
	if (nul == NULL || (nul == s && !empty_ok))
		return STORE_NOTFOUND;
	n = (size_t)(nul - s) + 1;
	if (sizeof(k->b) - k->len < n) {
		log_err("store: key too long");
		return STORE_ERROR;
	}
	memcpy(k->b + k->len, s, n);
	k->len += n;
	return STORE_OK;
}

int
store_key_str(struct store_key *k, const char *s, size_t size)
{
	return key_str(k, s, size, 0);
}

int
store_key_str0(struct store_key *k, const char *s, size_t size)
{
	return key_str(k, s, size, 1);
}

int
store_key_bytes(struct store_key *k, const void *p, size_t n)
{
	if (p == NULL || sizeof(k->b) - k->len < n) {
		log_err("store: bad key bytes");
		return STORE_ERROR;
	}
	memcpy(k->b + k->len, p, n);
	k->len += n;
	return STORE_OK;
}

int
store_key_part(const void *key, size_t klen, size_t *pos, char *out,
    size_t size)
{
	const unsigned char *p = key;
	const unsigned char *nul;
	size_t n;

	if (*pos >= klen)
		goto bad;
	nul = memchr(p + *pos, '\0', klen - *pos);
	if (nul == NULL)
		goto bad;
	n = (size_t)(nul - (p + *pos));
	if (n >= size)
		goto bad;
	memcpy(out, p + *pos, n);
	out[n] = '\0';
	*pos += n + 1;
	return STORE_OK;
bad:
	log_err("store: malformed index key");
	return STORE_ERROR;
}

int
store_key_check_put(int rc, const char *what)
{
	if (rc == STORE_NOTFOUND) {
		log_err("store: refusing %s: empty or too long", what);
		return STORE_ERROR;
	}
	return rc;
}
