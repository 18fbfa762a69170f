/*
 * sms_gateway.c - the ways a message leaves: an HTTP gateway (a form POST
 * with libcurl, bounded in time) and a file outbox for development and
 * tests. Neither puts the message text or the credentials into an error or
 * a log line: the text carries a live code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "sms.h"
#include "util/util.h"

#define GW_CONNECT_MS 5000L	/* at most, within the whole timeout */
#define GW_OUTBOX_TRIES 16	/* names taken by other processes */

enum gw_kind { GW_OUTBOX, GW_HTTP };

/* What a gateway sends with. */
struct gw_conf {
	enum gw_kind kind;
	char outbox[512];
	char url[512];
	char protocol[8];	/* the URL's scheme: the only one allowed */
	char username[128];
	char password[128];
	long timeout_ms;
};

/* SIGHUP may replace the settings (sms_gateway_replace) while sends run
 * on the I/O pool: a send copies them under the lock and works on its
 * copy, so none sees half of a change and none waits for another's
 * network round trip. A copy costs nothing next to a send. */
struct sms_gateway {
	pthread_mutex_t lock;
	struct gw_conf c;
};

/* Numbers outbox files within one millisecond, across every gateway of
 * the process. */
static atomic_uint gw_seq;
static pthread_once_t gw_curl_once = PTHREAD_ONCE_INIT;
static int gw_curl_ok;

static void
gw_curl_init(void)
{
	gw_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* Creates the outbox folder (0700) if missing; it must be a folder. */
static int
gw_mkdir(const char *path)
{
	struct stat sb;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (stat(path, &sb) == -1)
		return -1;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static int
gw_loopback(const char *host)
{
	unsigned char a[4];

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return 1;
	return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

/* The gateway URL must be https, or http on a loopback host (a local
 * relay), and carry no credentials (they belong in username/password,
 * where they stay out of error messages). */
static int
gw_url_check(struct gw_conf *g, const char *url, char *err, size_t errlen)
{
	char *scheme = NULL, *host = NULL, *user = NULL;
	CURLU *u;
	int rc = -1;

	if ((u = curl_url()) == NULL) {
		err_set(err, errlen, "sms: no memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		err_set(err, errlen, "sms: url is not a valid http(s) URL");
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		err_set(err, errlen, "sms: put the gateway credentials in "
		    "username and password, not in the url");
	else if (strcmp(scheme, "https") != 0 &&
	    !(strcmp(scheme, "http") == 0 && gw_loopback(host)))
		err_set(err, errlen, "sms: url must be https (http only on a "
		    "loopback host)");
	else {
		str_copy(g->protocol, scheme, sizeof(g->protocol));
		rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

static int
gw_http_setup(struct gw_conf *g, const struct sms_config *c, char *err,
    size_t errlen)
{
	if (c->url[0] == '\0') {
		err_set(err, errlen, "sms: the http gateway needs a url");
		return -1;
	}
	if (c->timeout_ms <= 0) {
		err_set(err, errlen, "sms: timeout_ms must be positive");
		return -1;
	}
	(void)pthread_once(&gw_curl_once, gw_curl_init);
	if (!gw_curl_ok) {
		err_set(err, errlen, "sms: cannot initialise libcurl");
		return -1;
	}
	if (gw_url_check(g, c->url, err, errlen) == -1)
		return -1;
	str_copy(g->url, c->url, sizeof(g->url));
	str_copy(g->username, c->username, sizeof(g->username));
	str_copy(g->password, c->password, sizeof(g->password));
	g->timeout_ms = c->timeout_ms;
	return 0;
}

struct sms_gateway *
sms_gateway_new(const struct sms_config *c, char *err, size_t errlen)
{
	struct sms_gateway *g;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		err_set(err, errlen, "sms: no memory");
		return NULL;
	}
	(void)pthread_mutex_init(&g->lock, NULL);
	if (strcmp(c->gateway, "outbox") == 0) {
		g->c.kind = GW_OUTBOX;
		if (c->outbox[0] == '\0') {
			err_set(err, errlen, "sms: no outbox folder");
			goto fail;
		}
		str_copy(g->c.outbox, c->outbox, sizeof(g->c.outbox));
		if (gw_mkdir(g->c.outbox) == -1) {
			err_set(err, errlen, "sms: outbox %s: %s", g->c.outbox,
			    strerror(errno));
			goto fail;
		}
	} else if (strcmp(c->gateway, "http") == 0) {
		g->c.kind = GW_HTTP;
		if (gw_http_setup(&g->c, c, err, errlen) == -1)
			goto fail;
	} else {
		err_set(err, errlen, "sms: unknown gateway \"%s\" (outbox or "
		    "http)", c->gateway);
		goto fail;
	}
	return g;
fail:
	sms_gateway_free(g);
	return NULL;
}

void
sms_gateway_free(struct sms_gateway *g)
{
	if (g == NULL)
		return;
	(void)pthread_mutex_destroy(&g->lock);
	OPENSSL_cleanse(g, sizeof(*g));
	free(g);
}

void
sms_gateway_replace(struct sms_gateway *g, struct sms_gateway *from)
{
	(void)pthread_mutex_lock(&g->lock);
	g->c = from->c;
	(void)pthread_mutex_unlock(&g->lock);
	sms_gateway_free(from);
}

/* One file per message, "<unix-ms>-<seq>.sms", written whole (temp file
 * and link) so a reader never sees half a message. */
static int
gw_outbox_send(const struct gw_conf *g, const char *phone, const char *text,
    char *err, size_t errlen)
{
	char path[sizeof(g->outbox) + 48];
	struct timespec ts;
	struct buf b;
	int i, rc = -1;

	buf_init(&b, SMS_TEXT_MAX + PHONE_SIZE + 16);
	if (gw_mkdir(g->outbox) == -1) {
		err_set(err, errlen, "outbox: %s", strerror(errno));
		goto done;
	}
	if (buf_printf(&b, "to: %s\n\n%s\n", phone, text) == -1) {
		err_set(err, errlen, "outbox: message too long");
		goto done;
	}
	for (i = 0; i < GW_OUTBOX_TRIES && rc == -1; i++) {
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		(void)snprintf(path, sizeof(path), "%s/%013lld-%010u.sms",
		    g->outbox, (long long)ts.tv_sec * 1000 +
		    ts.tv_nsec / 1000000, atomic_fetch_add(&gw_seq, 1));
		if (file_write(path, b.data, b.len, 0600, 1) == 0)
			rc = 0;
		else if (errno != EEXIST)
			break;
	}
	if (rc == -1)
		err_set(err, errlen, "outbox: cannot write: %s",
		    strerror(errno));
done:
	buf_free(&b);
	return rc;
}

static size_t
gw_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* Options of one POST; -1 if libcurl refuses any of them. */
static int
gw_http_options(const struct gw_conf *g, CURL *h, struct curl_slist *hdr,
    const struct buf *body)
{
	int bad = 0;

	bad |= curl_easy_setopt(h, CURLOPT_URL, g->url) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, g->protocol) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, g->timeout_ms) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    g->timeout_ms < GW_CONNECT_MS ? g->timeout_ms : GW_CONNECT_MS) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "kleidi/"
	    KLEIDI_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body->len) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gw_discard) !=
	    CURLE_OK;
	if (g->username[0] != '\0') {
		bad |= curl_easy_setopt(h, CURLOPT_HTTPAUTH,
		    (long)CURLAUTH_BASIC) != CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_USERNAME, g->username) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_PASSWORD, g->password) !=
		    CURLE_OK;
	}
	return bad ? -1 : 0;
}

static struct curl_slist *
gw_headers(void)
{
	struct curl_slist *l, *n;

	l = curl_slist_append(NULL, "Content-Type: "
	    "application/x-www-form-urlencoded");
	if (l == NULL)
		return NULL;
	/* No "Expect: 100-continue" round trip for a small form. */
	if ((n = curl_slist_append(l, "Expect:")) == NULL) {
		curl_slist_free_all(l);
		return NULL;
	}
	return n;
}

static int
gw_http_send(const struct gw_conf *g, const char *phone, const char *text,
    char *err, size_t errlen)
{
	struct curl_slist *hdr = NULL;
	struct buf body;
	CURL *h = NULL;
	CURLcode cc;
	long status = 0;
	int rc = -1;

	buf_init(&body, 3 * (SMS_TEXT_MAX + PHONE_SIZE) + 16);
	if (buf_puts(&body, "to=") == -1 || buf_put_urlenc(&body, phone) ==
	    -1 || buf_puts(&body, "&text=") == -1 ||
	    buf_put_urlenc(&body, text) == -1) {
		err_set(err, errlen, "message too long");
		goto done;
	}
	if ((hdr = gw_headers()) == NULL || (h = curl_easy_init()) == NULL ||
	    gw_http_options(g, h, hdr, &body) == -1) {
		err_set(err, errlen, "cannot set up the request");
		goto done;
	}
	if ((cc = curl_easy_perform(h)) != CURLE_OK) {
		err_set(err, errlen, "gateway: %s", curl_easy_strerror(cc));
		goto done;
	}
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK || status < 200 || status > 299) {
		err_set(err, errlen, "gateway answered HTTP %ld", status);
		goto done;
	}
	rc = 0;
done:
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	buf_free(&body);
	return rc;
}

/* E.164: '+', a non-zero digit, 8 to 15 digits in all. Checked here too
 * because the number goes into a file header and a request body. */
static int
gw_phone_ok(const char *p)
{
	size_t n = 0;

	if (p == NULL || *p++ != '+' || *p == '0')
		return 0;
	for (; *p != '\0'; p++, n++)
		if (*p < '0' || *p > '9' || n >= 15)
			return 0;
	return n >= 8;
}

int
sms_gateway_send(struct sms_gateway *g, const char *phone,
    const char *text, char *err, size_t errlen)
{
	struct gw_conf c;
	char why[160];
	int rc = -1;

	why[0] = '\0';
	if (g == NULL || text == NULL || text[0] == '\0' ||
	    strlen(text) >= SMS_TEXT_MAX)
		str_copy(why, "no message to send", sizeof(why));
	else if (!gw_phone_ok(phone))
		str_copy(why, "not an E.164 phone number", sizeof(why));
	else {
		(void)pthread_mutex_lock(&g->lock);
		c = g->c;
		(void)pthread_mutex_unlock(&g->lock);
		rc = c.kind == GW_OUTBOX ?
		    gw_outbox_send(&c, phone, text, why, sizeof(why)) :
		    gw_http_send(&c, phone, text, why, sizeof(why));
		OPENSSL_cleanse(&c, sizeof(c));
	}
	/* The caller logs and audits the failure with whom it concerns. */
	if (rc == -1)
		log_debug("sms: not sent: %s", why);
	err_set(err, errlen, "%s", why);
	return rc;
}
