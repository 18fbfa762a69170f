/*
 * logout.c - the end_session_endpoint (OpenID Connect RP-Initiated Logout
 * 1.0), GET and POST /logout, and the account page's sign-out button.
 *
 * A link on another site must not sign people out unawares (section 4
 * and 6): without an id_token_hint naming the person signed in here, the
 * page asks first, with a form bound to the session. Ending a session
 * queues the back-channel notices of its apps in the same transaction
 * (access_end_session), then the browser goes to the app's registered
 * post_logout_redirect_uri with its state, or sees a "signed out" page.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "authn/revoke.h"
#include "backchannel.h"
#include "oidc.h"

struct logout {
	const char *hint;
	const char *client_id;
	const char *redirect;		/* post_logout_redirect_uri */
	const char *state;
	const char *ui_locales;
	const char *csrf;		/* the confirmation form's */
	const char *lang;
	int have_app;
	struct app app;
	char hint_client[APP_ID_SIZE];	/* aud of the hint */
	char hint_sub[PAIRWISE_SUB_SIZE];
	int have_session;
	struct session sess;
	struct user user;
};

int
logout_csrf(const struct idp *idp, const struct session *s,
    char out[RAND_TOKEN_LEN])
{
	unsigned char msg[7 + HASH_SIZE], mac[32];
	size_t n = sizeof(mac);
	char *enc;

	/* Its own label: an account form's token is not a logout token. */
	memcpy(msg, "logout", 7);
	memcpy(msg + 7, s->id_hash, HASH_SIZE);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, idp->csrf_key,
	    sizeof(idp->csrf_key), msg, sizeof(msg), mac, sizeof(mac),
	    &n) == NULL || (enc = b64url_encode(mac, n)) == NULL)
		return -1;
	str_copy(out, enc, RAND_TOKEN_LEN);
	free(enc);
	return 0;
}

/* A parameter from the query (GET) or the form (POST); repeated ones are
 * refused by logout_parse. */
static const char *
logout_param(const struct http_request *req, const char *name, int *dup)
{
	int post = strcmp(req->method, "POST") == 0;

	if ((post ? http_form_count(req, name) : http_query_count(req,
	    name)) > 1)
		*dup = 1;
	return post ? http_form(req, name) : http_query(req, name);
}

static int
logout_parse(const struct http_request *req, struct logout *lo)
{
	int dup = 0;

	lo->hint = logout_param(req, "id_token_hint", &dup);
	lo->client_id = logout_param(req, "client_id", &dup);
	lo->redirect = logout_param(req, "post_logout_redirect_uri", &dup);
	lo->state = logout_param(req, "state", &dup);
	lo->ui_locales = logout_param(req, "ui_locales", &dup);
	lo->csrf = strcmp(req->method, "POST") == 0 ?
	    logout_param(req, "csrf", &dup) : NULL;
	if (dup || (lo->hint != NULL && strlen(lo->hint) > KL_TOKEN_MAX) ||
	    (lo->client_id != NULL && (lo->client_id[0] == '\0' ||
	    strlen(lo->client_id) >= APP_ID_SIZE)) ||
	    (lo->redirect != NULL && strlen(lo->redirect) >= URI_SIZE) ||
	    (lo->state != NULL && strlen(lo->state) >= STATE_SIZE))
		return -1;
	return 0;
}

/* The client a hint was issued to, read before its signature is checked
 * only to know which client to check it for: azp, or a single aud. */
static int
logout_hint_client(const char *hint, char out[APP_ID_SIZE])
{
	const char *p = strchr(hint, '.'), *q;
	unsigned char *raw = NULL;
	json_t *j = NULL, *aud;
	const char *s = NULL;
	size_t n;

	if (p == NULL || (q = strchr(p + 1, '.')) == NULL ||
	    (raw = b64url_decode(p + 1, (size_t)(q - p - 1), &n)) == NULL ||
	    (j = json_loadb((const char *)raw, n, 0, NULL)) == NULL)
		goto done;
	aud = json_object_get(j, "aud");
	if ((s = json_string_value(json_object_get(j, "azp"))) == NULL)
		s = json_is_array(aud) && json_array_size(aud) == 1 ?
		    json_string_value(json_array_get(aud, 0)) :
		    json_string_value(aud);
	if (s != NULL && (s[0] == '\0' || str_copy(out, s, APP_ID_SIZE) >=
	    APP_ID_SIZE))
		s = NULL;
done:
	json_decref(j);
	free(raw);
	return s != NULL ? 0 : -1;
}

/* 2: the OP was the issuer of the hint, for client_id when given. */
static int
logout_check_hint(struct idp *idp, struct logout *lo)
{
	kl_claims *c = NULL;
	kl_error err;
	const char *sub;
	int rc;

	if (logout_hint_client(lo->hint, lo->hint_client) == -1)
		return -1;
	if (lo->client_id != NULL && strcmp(lo->client_id, lo->hint_client)
	    != 0)
		return -1;	/* the hint names another client */
	rc = keyring_verify_hint(idp->keyring, lo->hint, lo->hint_client,
	    &c, &err);
	if (rc != KL_OK) {
		log_info("logout: id_token_hint refused: %s", err.text);
		return -1;
	}
	sub = kl_claims_sub(c);
	rc = str_copy(lo->hint_sub, sub, sizeof(lo->hint_sub)) <
	    sizeof(lo->hint_sub) ? 0 : -1;
	kl_claims_free(c);
	lo->client_id = lo->hint_client;
	return rc;
}

/* The client and its post-logout URI, which must be registered for it
 * exactly (3.1); without a client no redirect is possible. */
static const char *
logout_check_client(struct idp *idp, struct logout *lo)
{
	struct store_txn *txn;
	int i, rc;

	if (lo->client_id == NULL)
		return lo->redirect != NULL ? "invalid_request" : NULL;
	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return "server";
	rc = store_app_get(txn, lo->client_id, &lo->app);
	store_abort(txn);
	if (rc == STORE_NOTFOUND)
		return "unknown_client";
	if (rc != STORE_OK)
		return "server";
	lo->have_app = 1;
	if (lo->redirect == NULL)
		return NULL;
	for (i = 0; i < lo->app.n_post_logout_uris; i++)
		if (strcmp(lo->app.post_logout_uris[i], lo->redirect) == 0)
			return NULL;
	log_info("logout: post_logout_redirect_uri not registered for %s",
	    lo->client_id);
	return "redirect_uri";
}

/* Whether the hint names the person of this browser's session (the sub
 * their app knows, pairwise or not). */
static int
logout_hint_matches(struct idp *idp, const struct logout *lo)
{
	char sub[PAIRWISE_SUB_SIZE];

	if (lo->hint == NULL || !lo->have_app || !lo->have_session ||
	    token_sub_for(&idp->tokens, &lo->user, &lo->app, sub) == -1)
		return 0;
	return ct_streq(sub, lo->hint_sub);
}

static int
logout_end(struct idp *idp, struct http_request *req,
    struct http_response *resp, struct logout *lo)
{
	struct store_txn *txn;
	struct audit_event ev = { "", "signout", "ok", lo->user.id,
		lo->have_app ? lo->app.client_id : "", lo->user.org,
		req->remote_addr, "" };
	char actor[AUDIT_ACTOR_SIZE];
	int rc;

	if (store_begin(idp->store, 1, &txn) != STORE_OK)
		return -1;
	rc = access_end_session(txn, lo->sess.id_hash, clock_now());
	snprintf(actor, sizeof(actor), "user:%s", lo->user.id);
	ev.actor = actor;
	if ((rc != STORE_OK && rc != STORE_NOTFOUND) ||
	    audit_append(&idp->audit, txn, &ev) == -1) {
		store_abort(txn);
		return -1;
	}
	if (store_commit(txn) != STORE_OK)
		return -1;
	backchannel_wake(idp->bcl);
	log_info("signed out: user %s", lo->user.id);
	(void)http_set_cookie(resp, req, COOKIE_SESSION, "", 0);
	return 0;
}

/* 3: back to the app with its state, or the signed-out page. */
static void
logout_done(struct idp *idp, const struct http_request *req,
    struct http_response *resp, const struct logout *lo)
{
	struct ui_vars v = { .n = 0 };
	struct buf b;
	int rc;

	if (lo->redirect != NULL && lo->have_app) {
		buf_init(&b, 2 * URI_SIZE + 3 * STATE_SIZE);
		rc = buf_puts(&b, lo->redirect);
		if (rc == 0 && lo->state != NULL)
			rc = buf_puts(&b, strchr(lo->redirect, '?') != NULL ?
			    "&state=" : "?state=") == 0 ?
			    buf_put_urlenc(&b, lo->state) : -1;
		if (rc == 0 && http_redirect(resp, b.data) == 0) {
			buf_free(&b);
			return;
		}
		buf_free(&b);
	}
	(void)ui_set(&v, "page_title", ui_text(idp->ui, lo->lang,
	    "logout.done.heading"));
	(void)ui_set(&v, "done", "1");
	if (lo->have_app)
		(void)ui_set(&v, "app_name", lo->app.name);
	page_render_links(idp, req, resp, 200, "logged_out", lo->lang,
	    &v);
}

/* 4: ask, with a form only this browser's session can have made. */
static void
logout_confirm(struct idp *idp, struct http_request *req,
    struct http_response *resp, const struct logout *lo)
{
	struct ui_vars v = { .n = 0 };
	char csrf[RAND_TOKEN_LEN];

	if (logout_csrf(idp, &lo->sess, csrf) == -1) {
		page_error(idp, req, resp, 500, "server", lo->lang);
		return;
	}
	(void)ui_set(&v, "page_title", ui_text(idp->ui, lo->lang,
	    "logout.confirm.heading"));
	(void)ui_set(&v, "confirm", "1");
	(void)ui_set(&v, "csrf", csrf);
	(void)ui_set(&v, "name", lo->user.name);
	if (lo->have_app) {
		(void)ui_set(&v, "client_id", lo->app.client_id);
		(void)ui_set(&v, "app_name", lo->app.name);
	}
	if (lo->redirect != NULL)
		(void)ui_set(&v, "post_logout_redirect_uri", lo->redirect);
	if (lo->state != NULL)
		(void)ui_set(&v, "state", lo->state);
	page_render_links(idp, req, resp, 200, "logged_out", lo->lang,
	    &v);
	wipe(csrf, sizeof(csrf));
}

/* Whether this request may end the session now: a confirmation posted
 * with the session's token, or a hint naming the person. */
static int
logout_confirmed(struct idp *idp, const struct logout *lo)
{
	char csrf[RAND_TOKEN_LEN];
	int ok;

	if (lo->csrf == NULL)
		return logout_hint_matches(idp, lo);
	if (logout_csrf(idp, &lo->sess, csrf) == -1)
		return 0;
	ok = ct_streq(lo->csrf, csrf);
	wipe(csrf, sizeof(csrf));
	return ok;
}

http_result
oidc_logout(struct http_request *req, struct http_response *resp, void *arg)
{
	struct idp *idp = arg;
	struct logout *lo;
	const char *bad = NULL;
	int rc;

	if ((lo = calloc(1, sizeof(*lo))) == NULL) {
		page_error(idp, req, resp, 500, "server", NULL);
		return HTTP_DONE;
	}
	if (logout_parse(req, lo) == -1)
		bad = "invalid_request";
	lo->lang = page_lang(idp, req, bad == NULL ? lo->ui_locales : NULL);
	if (bad == NULL && lo->hint != NULL && logout_check_hint(idp, lo) ==
	    -1)
		bad = "invalid_request";
	if (bad == NULL)
		bad = logout_check_client(idp, lo);
	if (bad != NULL) {
		page_error(idp, req, resp, strcmp(bad, "server") == 0 ? 500 :
		    400, bad, lo->lang);
		goto done;
	}
	rc = session_lookup(idp->store, http_cookie(req, COOKIE_SESSION),
	    &lo->sess, &lo->user);
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		page_error(idp, req, resp, 500, "server", lo->lang);
		goto done;
	}
	lo->have_session = rc == STORE_OK;
	/* Nobody signed in: nothing to end, nothing to ask. */
	if (!lo->have_session) {
		if (http_cookie(req, COOKIE_SESSION) != NULL)
			(void)http_set_cookie(resp, req, COOKIE_SESSION, "", 0);
		logout_done(idp, req, resp, lo);
	}
	else if (!logout_confirmed(idp, lo))
		logout_confirm(idp, req, resp, lo);
	else if (logout_end(idp, req, resp, lo) == -1)
		page_error(idp, req, resp, 500, "server", lo->lang);
	else
		logout_done(idp, req, resp, lo);
done:
	wipe(lo, sizeof(*lo));
	free(lo);
	return HTTP_DONE;
}
