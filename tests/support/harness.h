/*
 * harness.h - integration test support: a temporary data folder, the real
 * `kleidi` binary run as CLI and as server on a free loopback port, and a
 * small browser (libcurl with a cookie jar, redirects not followed).
 */
#ifndef KLEIDI_HARNESS_H
#define KLEIDI_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/util.h"

struct harness {
	char dir[256];		/* data folder */
	char issuer[128];
	char base[128];		/* == issuer */
	unsigned port;
	pid_t pid;		/* server, or 0 */
};

/* Temp folder with a kleidi.ini using cheap argon2id, a free port, and
 * `kleidi init`. 0 or -1 (message on stderr). */
int harness_init(struct harness *h);
/* Runs `kleidi ARGS... --data DIR` with stdin_text on stdin (may be NULL);
 * stdout goes to out (may be NULL). Returns the exit status. argv ends
 * with NULL. */
int harness_cli(struct harness *h, const char *stdin_text, struct buf *out,
    const char *const *argv);
/* Starts `kleidi serve` and waits (bounded) until it serves. */
int harness_start(struct harness *h);
/* SIGTERM and wait: 0 when the server exited with status 0, -1 when it
 * ended otherwise (sanitizer or valgrind report, crash, unclean stop). */
int harness_stop(struct harness *h);
/* Stops the server and removes the folder; fails the test (cmocka) when
 * the server did not end cleanly. */
void harness_cleanup(struct harness *h);
/* Sends sig to the server and waits (bounded) until the server has taken
 * it: it is no longer pending for the process (Linux /proc). The server
 * takes its signals in one thread, one after the other, so once a second
 * SIGHUP is taken the reload of the first is over. 0, or -1 when it was
 * not taken in time or the server is gone. */
int harness_signal(struct harness *h, int sig);
/* SHA-256 of the store's data file: equal before and after a request
 * means the request wrote nothing. */
int harness_store_digest(struct harness *h, unsigned char out[32]);

struct browser;

struct page {
	long status;
	struct buf body;
	char location[4096];	/* Location of a redirect, or "" */
	char content_type[128];
	char www_authenticate[512];
};

struct browser *browser_new(void);
void browser_free(struct browser *b);
void page_free(struct page *p);
/* GET url. auth (may be NULL) is an Authorization header value. */
int browser_get(struct browser *b, const char *url, const char *auth,
    struct page *out);
/* POST an application/x-www-form-urlencoded body. */
int browser_post(struct browser *b, const char *url, const char *auth,
    const char *body, struct page *out);
/* Value of the cookie name in the jar, copied into out; -1 if absent. */
int browser_cookie(struct browser *b, const char *name, char *out,
    size_t size);

/* Value of the attribute value="..." of the <input name="NAME"> in html
 * (HTML entities &amp; &quot; &lt; &gt; &#39; decoded); -1 if absent. */
int html_input_value(const char *html, const char *name, char *out,
    size_t size);
/* Number of occurrences of needle in haystack. */
size_t count_of(const char *haystack, const char *needle);
/* Value of query parameter name in url (percent-decoded); -1 if absent. */
int url_param(const char *url, const char *name, char *out, size_t size);

#endif
