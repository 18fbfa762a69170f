/*
 * util.h - small helpers every part of the server uses: bounded buffers,
 * base64url, random bytes, digests, constant-time compare, the clock, logging.
 */
#ifndef KLEIDI_UTIL_H
#define KLEIDI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

/* ---- bounded growable buffer (curl's dynbuf idea: every buffer has a max) */
struct buf {
	char *data;	/* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;	/* appending past this fails with -1 */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);		/* wipes the content first */
void buf_reset(struct buf *b);		/* len = 0, keeps memory */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, ", ' replaced by entities. */
int buf_put_html(struct buf *b, const char *s);
/* Appends s percent-encoded for a URL query component (RFC 3986 unreserved
 * characters pass through). */
int buf_put_urlenc(struct buf *b, const char *s);
/* Hands the data over to the caller (who frees it); b is reset to empty. */
char *buf_steal(struct buf *b);

/* ---- base64url without padding (RFC 4648 section 5) */
/* Returns a malloc'd NUL-terminated string, or NULL on no memory. */
char *b64url_encode(const unsigned char *in, size_t len);
/* Decodes into a malloc'd buffer (NUL-terminated for convenience); *outlen
 * receives the length. Rejects padding, whitespace and non-alphabet bytes,
 * and non-canonical trailing bits. Returns NULL on bad input. */
unsigned char *b64url_decode(const char *in, size_t inlen, size_t *outlen);

/* Standard base64 with padding (RFC 4648 section 4), as HTTP Basic
 * (RFC 7617) uses it; same contract as b64url_decode. */
unsigned char *b64std_decode(const char *in, size_t inlen, size_t *outlen);

/* ---- randomness and digests (OpenSSL) */
int rand_bytes(unsigned char *out, size_t n);	/* 0, or -1 on failure */
/* 256 random bits as base64url (43 chars + NUL); 0 or -1. */
#define RAND_TOKEN_LEN 44
int rand_token(char out[RAND_TOKEN_LEN]);
/* n random bytes (n <= 64) as base64url into out; 0, or -1 when the RNG
 * fails or the text does not fit in size. Nothing random is left behind
 * but out. */
int rand_b64url(size_t n, char *out, size_t size);
void sha256(const void *in, size_t len, unsigned char out[32]);
/* The store key for a secret handed to a browser or client: SHA-256 of the
 * string. */
void secret_hash(const char *secret, unsigned char out[32]);
void hex_encode(const unsigned char *in, size_t len, char *out); /* 2n+1 */
/* Constant-time equality of two byte strings of the same length. */
int ct_equal(const void *a, const void *b, size_t n);
/* Constant-time for equal lengths; different lengths compare unequal. */
int ct_streq(const char *a, const char *b);
void wipe(void *p, size_t n);

/* ---- clock: every rule that depends on time asks clock_now(), so tests can
 * inject a clock instead of sleeping. */
typedef int64_t (*clock_fn)(void);
int64_t clock_now(void);		/* seconds since the epoch */
int64_t clock_now_ms(void);		/* milliseconds, for latency only */
void clock_set(clock_fn fn);		/* NULL restores the real clock */

/* ---- logging to stderr, one line per event; never log secrets. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };
void log_set_level(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)

/* ---- strings */
/* Formats into err (if not NULL and errlen > 0): the one way start-up code
 * reports why it failed. */
void err_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* strlcpy semantics: returns strlen(src); truncates safely. */
size_t str_copy(char *dst, const char *src, size_t dstsize);
/* 1 when s is non-NULL, non-empty and at most max bytes of printable ASCII
 * from the given extra set plus [A-Za-z0-9]. */
int str_is_token(const char *s, size_t max, const char *extra);
/* Reads a whole file (up to max bytes) into a malloc'd NUL-terminated
 * buffer. Returns NULL on error (errno set). */
char *file_read(const char *path, size_t max, size_t *len);
/* Writes data to path atomically (temp file + rename) with the given mode;
 * with excl, fails with EEXIST if path exists. 0 or -1 (errno set). */
int file_write(const char *path, const void *data, size_t len, int mode,
    int excl);

#endif
