/* pages.c - HTML pages of the provider: language choice, error pages. */
#include <stdio.h>
#include <string.h>

#include "oidc.h"

const char *
page_lang(const struct idp *idp, const struct http_request *req,
    const char *ui_locales)
{
	return ui_lang_pick(idp->ui, ui_locales, http_cookie(req, COOKIE_LANG),
	    req->accept_language);
}

static int
link_param(struct buf *b, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return 0;
	if (buf_puts(b, strchr(b->data, '?') ? "&" : "?") == -1 ||
	    buf_puts(b, name) == -1 || buf_puts(b, "=") == -1)
		return -1;
	return buf_put_urlenc(b, value);
}

/* Where the switcher may send the browser back to: a path on this
 * server ("/..." but not "//..." or "/\\..."), printable ASCII, bounded. */
int
page_back_ok(const char *back)
{
	size_t n;

	if (back == NULL || back[0] != '/' || back[1] == '/' ||
	    back[1] == '\\')
		return 0;
	for (n = 0; back[n] != '\0'; n++)
		if ((unsigned char)back[n] <= 0x20 ||
		    (unsigned char)back[n] >= 0x7f || back[n] == '\\' ||
		    n >= PAGE_BACK_MAX)
			return 0;
	return 1;
}

/* The switcher's link for lang: /lang?set=lang&back=target. */
static void
lang_link(struct buf *b, const char *lang, const char *target)
{
	if (buf_puts(b, "/lang") == 0 && link_param(b, "set", lang) == 0)
		(void)link_param(b, "back", target);
}

/* A page reached by POST has no address of its own to come back to: the
 * account pages go back to /account, sign-out to /logout, the rest to the
 * account page too (which asks to sign in when there is no session). */
static const char *
post_back(const struct http_request *req)
{
	if (strcmp(req->path, "/logout") == 0)
		return "/logout";
	return "/account";
}

/* The switcher's links: /lang sets the language cookie and comes back to
 * the same GET page (path and query, ui_locales dropped: the cookie now
 * says it), or for a POST page to post_back. */
void
page_lang_links(const struct http_request *req, struct ui_vars *v,
    struct page_links *l)
{
	static const char *const langs[] = { "el", "en" };
	struct buf target;
	size_t i, k;
	int rc = 0;

	buf_init(&target, PAGE_BACK_MAX);
	if (strcmp(req->method, "GET") == 0) {
		rc = buf_puts(&target, req->path);
		for (i = 0; rc == 0 && i < req->nquery; i++)
			if (strcmp(req->query[i].name, "ui_locales") != 0)
				rc = link_param(&target, req->query[i].name,
				    req->query[i].value);
	} else
		rc = buf_puts(&target, post_back(req));
	for (k = 0; k < 2; k++) {
		buf_init(&l->url[k], 3 * PAGE_BACK_MAX + 64);
		if (rc == 0 && page_back_ok(target.data)) {
			lang_link(&l->url[k], langs[k], target.data);
			(void)ui_set(v, k == 0 ? "lang_el_url" :
			    "lang_en_url", l->url[k].data);
		}
	}
	buf_free(&target);
}

/* The sign-in page of flow f in each language: a fresh authorization
 * request with ui_locales, which carries the choice through the flow (an
 * external contract: tests follow these links as they are). The account's
 * own sign-in has no client to ask again: its links go through /lang back
 * to /account. */
void
flow_lang_links(const struct flow *f, struct ui_vars *v,
    struct page_links *l)
{
	static const char *const langs[] = { "el", "en" };
	struct buf *t;
	size_t k;
	int rc;

	for (k = 0; k < 2; k++) {
		t = &l->url[k];
		buf_init(t, 3 * PAGE_BACK_MAX + 64);
		if (f->client_id[0] == '\0') {
			lang_link(t, langs[k], "/account");
			rc = t->len > 0 ? 0 : -1;
		} else
			rc = (buf_puts(t, "/authorize") == 0 &&
			    link_param(t, "response_type", "code") == 0 &&
			    link_param(t, "client_id", f->client_id) == 0 &&
			    link_param(t, "redirect_uri", f->redirect_uri) ==
			    0 && link_param(t, "scope", f->scope) == 0 &&
			    link_param(t, "state", f->state) == 0 &&
			    link_param(t, "nonce", f->nonce) == 0 &&
			    link_param(t, "code_challenge",
			    f->code_challenge) == 0 &&
			    link_param(t, "code_challenge_method",
			    f->code_challenge[0] ? "S256" : NULL) == 0 &&
			    link_param(t, "ui_locales", langs[k]) == 0) ?
			    0 : -1;
		if (rc == 0)
			(void)ui_set(v, k == 0 ? "lang_el_url" :
			    "lang_en_url", t->data);
	}
}

/* GET /lang?set=el|en&back=/path: remembers the choice in the language
 * cookie (a year) and goes back. back must be a path on this server; any
 * other value goes to /account, so the route is no open redirect. */
http_result
page_lang_set(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	const char *set = http_query(req, "set");
	const char *back = http_query(req, "back");

	if (set == NULL || (strcmp(set, "el") != 0 && strcmp(set, "en") !=
	    0)) {
		page_error(idp, req, resp, 400, "invalid_request", NULL);
		return HTTP_DONE;
	}
	if (http_set_cookie(resp, req, COOKIE_LANG, set, LANG_COOKIE_AGE) ==
	    -1 || http_redirect(resp, page_back_ok(back) ? back :
	    "/account") == -1) {
		page_error(idp, req, resp, 500, "server", set);
		return HTTP_DONE;
	}
	return HTTP_DONE;
}

void
page_links_free(struct page_links *l)
{
	buf_free(&l->url[0]);
	buf_free(&l->url[1]);
}

void
page_render(struct idp *idp, struct http_response *resp, int status,
    const char *page, const char *lang, struct ui_vars *vars)
{
	(void)ui_set(vars, "lang", lang);
	buf_reset(&resp->body);
	if (ui_render(idp->ui, page, lang, vars, &resp->body) == -1) {
		log_err("cannot render page %s", page);
		buf_reset(&resp->body);
		(void)buf_puts(&resp->body, "Internal error\n");
		resp->content_type = "text/plain; charset=utf-8";
		resp->status = 500;
		return;
	}
	resp->content_type = "text/html; charset=utf-8";
	resp->status = status;
	(void)http_header(resp, "Cache-Control", "no-store");
}

void
page_render_links(struct idp *idp, const struct http_request *req,
    struct http_response *resp, int status, const char *page,
    const char *lang, struct ui_vars *vars)
{
	struct page_links links;

	page_lang_links(req, vars, &links);
	page_render(idp, resp, status, page, lang, vars);
	page_links_free(&links);
}

/* Every error page the provider shows; each has title, message and hint
 * in every catalogue (a unit test holds us to it). */
const char *const page_errors[] = { "invalid_request", "unknown_client",
	"redirect_uri", "server", "expired", "csrf", "busy", "disabled",
	"not_subscribed", "audience", "no_factor", "throttled", "not_found",
	"access_denied", NULL };

void
page_error(struct idp *idp, struct http_request *req,
    struct http_response *resp, int status, const char *what,
    const char *lang)
{
	struct ui_vars v = { .n = 0 };
	struct page_links links;
	char kt[96], km[96], kh[96];

	if (lang == NULL)
		lang = page_lang(idp, req, NULL);
	snprintf(kt, sizeof(kt), "error.%s.title", what);
	snprintf(km, sizeof(km), "error.%s.message", what);
	snprintf(kh, sizeof(kh), "error.%s.hint", what);
	(void)ui_set(&v, "page_title", ui_text(idp->ui, lang, kt));
	(void)ui_set(&v, "title", ui_text(idp->ui, lang, kt));
	(void)ui_set(&v, "message", ui_text(idp->ui, lang, km));
	(void)ui_set(&v, "hint", ui_text(idp->ui, lang, kh));
	page_lang_links(req, &v, &links);
	page_render(idp, resp, status, "error", lang, &v);
	page_links_free(&links);
}
