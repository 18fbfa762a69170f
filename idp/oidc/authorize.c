/*
 * authorize.c - the authorization endpoint (OpenID Connect Core 3.1.2,
 * RFC 6749 4.1.1, RFC 7636, RFC 9700). Errors go back to the client only
 * once the client and its redirect URI are known good; before that the
 * person sees an error page and no redirect happens.
 *
 * prompt (Core 3.1.2.1): none never shows a page (login_required,
 * interaction_required or consent_required instead); login signs in again
 * and the new session replaces the old; consent shows the consent page
 * even where the app would not need it; select_account shows the sign-in
 * page with the current account's name filled in: a browser holds one
 * session here, so choosing an account is signing in as it. A value we do
 * not know is refused with invalid_request, as OpenID Connect Prompt
 * Create 1.0 section 4 asks of values not in prompt_values_supported.
 * Parameters we do not know are ignored (Core 3.1.2.1).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "authz.h"
#include "registry/registry.h"
#include "signin.h"

/* OpenID Connect Core 3.1.2.1: the request comes by GET (query) or by
 * POST (form body). */
static const char *
authz_param(const struct http_request *req, const char *name)
{
	return strcmp(req->method, "POST") == 0 ? http_form(req, name) :
	    http_query(req, name);
}

static size_t
authz_param_count(const struct http_request *req, const char *name)
{
	return strcmp(req->method, "POST") == 0 ? http_form_count(req, name) :
	    http_query_count(req, name);
}

/* Parameters that may appear at most once (RFC 6749 3.1). */
static const char *const authz_single[] = { "client_id", "redirect_uri",
	"response_type", "scope", "state", "nonce", "code_challenge",
	"code_challenge_method", "prompt", "response_mode", "ui_locales",
	"max_age", "login_hint", "acr_values", "request", "request_uri",
	"id_token_hint", "display", "claims", "registration", NULL };

/* offline_access is passed on; the token endpoint grants it only to an
 * app registered for refresh tokens (token_int.h). */
static const char *const scopes_known[] = { "openid", "profile", "email",
	"phone", SCOPE_ADMIN, "offline_access", NULL };

/* Finds the client and checks the redirect URI exactly. On failure returns
 * the error page to show (no redirect). */
static const char *
authz_client(struct idp *idp, const struct http_request *req,
    struct authz *az)
{
	struct store_txn *txn;
	int rc, i;

	az->client_id = authz_param(req, "client_id");
	az->redirect_uri = authz_param(req, "redirect_uri");
	if (az->client_id == NULL || authz_param_count(req, "client_id") > 1)
		return "invalid_request";
	if (!str_is_token(az->client_id, APP_ID_SIZE - 1, "-._"))
		return "unknown_client";
	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return "server";
	rc = store_app_get(txn, az->client_id, &az->app);
	store_abort(txn);
	if (rc == STORE_NOTFOUND)
		return "unknown_client";
	if (rc != STORE_OK)
		return "server";
	if (az->redirect_uri == NULL ||
	    authz_param_count(req, "redirect_uri") > 1)
		return "redirect_uri";
	for (i = 0; i < az->app.n_redirect_uris; i++)
		if (strcmp(az->redirect_uri, az->app.redirect_uris[i]) == 0)
			return NULL;
	return "redirect_uri";
}

/* Keeps the scopes we know, in the order given; openid must be there.
 * kleidi:admin is kept only for an admin client (admin): any other app
 * asking for it simply does not get it (RFC 6749 3.3). */
static int
authz_scope(const char *scope, int admin, char out[SCOPE_SIZE])
{
	struct buf b;
	const char *p = scope, *end;
	size_t n, i;
	int openid = 0;

	buf_init(&b, SCOPE_SIZE - 1);
	while (*p != '\0') {
		end = p + strcspn(p, " ");
		n = (size_t)(end - p);
		for (i = 0; scopes_known[i] != NULL; i++) {
			if (strlen(scopes_known[i]) != n ||
			    strncmp(p, scopes_known[i], n) != 0 ||
			    (!admin &&
			    strcmp(scopes_known[i], SCOPE_ADMIN) == 0))
				continue;
			openid |= i == 0;
			if ((b.len > 0 && buf_puts(&b, " ") == -1) ||
			    buf_append(&b, p, n) == -1) {
				buf_free(&b);
				return -1;
			}
		}
		p = *end == ' ' ? end + 1 : end;
	}
	str_copy(out, b.data != NULL ? b.data : "", SCOPE_SIZE);
	buf_free(&b);
	return openid ? 0 : -1;
}

int
authorize_prompt_parse(const char *s, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} v[] = { { "none", PROMPT_NONE }, { "login", PROMPT_LOGIN },
		{ "consent", PROMPT_CONSENT },
		{ "select_account", PROMPT_SELECT_ACCOUNT } };
	const char *p = s, *end;
	size_t n, i;

	*out = 0;
	while (p != NULL && *p != '\0') {
		end = p + strcspn(p, " ");
		n = (size_t)(end - p);
		for (i = 0; n > 0 && i < sizeof(v) / sizeof(v[0]); i++)
			if (strlen(v[i].name) == n &&
			    strncmp(p, v[i].name, n) == 0)
				break;
		if (n > 0 && i == sizeof(v) / sizeof(v[0]))
			return -1;
		if (n > 0)
			*out |= v[i].bit;
		p = *end == ' ' ? end + 1 : end;
	}
	/* Core 3.1.2.1: none with any other value is an error. */
	return (*out & PROMPT_NONE) && *out != PROMPT_NONE ? -1 : 0;
}

int
authorize_max_age_parse(const char *s, int64_t *out)
{
	size_t n;
	int64_t v = 0;

	*out = -1;
	if (s == NULL)
		return 0;
	n = strlen(s);
	/* Digits only: no sign, no blanks, no leading zeros beyond "0". */
	if (n == 0 || n > 10 || strspn(s, "0123456789") != n ||
	    (n > 1 && s[0] == '0'))
		return -1;
	for (; *s != '\0'; s++)
		v = v * 10 + (*s - '0');
	if (v > MAX_AGE_MAX)
		return -1;
	*out = v;
	return 0;
}

int
authorize_fresh(int64_t max_age, int64_t auth_time, int64_t now)
{
	if (max_age < 0)
		return 1;
	if (max_age == 0)
		return 0;
	/* A clock set back makes no session older than it is. */
	return auth_time >= now || now - auth_time <= max_age;
}

/* The checks whose failure is reported to the client by redirect. */
static int
authz_check_pkce(const struct authz *az, struct authz_error *e)
{
	const char *m = az->challenge_method;

	if (az->challenge == NULL) {
		if (!az->app.public_client)
			return 0;
		return authz_fail(e, "invalid_request",
		    "code_challenge (PKCE, S256) is required for this client");
	}
	if (m == NULL || strcmp(m, "S256") != 0)
		return authz_fail(e, "invalid_request",
		    "code_challenge_method must be S256");
	if (strlen(az->challenge) != 43 ||
	    !str_is_token(az->challenge, 43, "-_"))
		return authz_fail(e, "invalid_request",
		    "code_challenge must be a base64url SHA-256 (43 chars)");
	return 0;
}

static int
authz_check(struct authz *az, const struct http_request *req,
    struct authz_error *e)
{
	size_t i;

	for (i = 0; authz_single[i] != NULL; i++)
		if (authz_param_count(req, authz_single[i]) > 1)
			return authz_fail(e, "invalid_request",
			    "a parameter is repeated");
	if (az->request != NULL)
		return authz_fail(e, "request_not_supported", NULL);
	if (az->request_uri != NULL)
		return authz_fail(e, "request_uri_not_supported", NULL);
	if (az->registration != NULL)
		return authz_fail(e, "registration_not_supported", NULL);
	if (az->response_type == NULL)
		return authz_fail(e, "invalid_request",
		    "response_type is required");
	if (strcmp(az->response_type, "code") != 0)
		return authz_fail(e, "unsupported_response_type",
		    "only response_type=code is supported");
	if (az->response_mode != NULL && strcmp(az->response_mode, "query"))
		return authz_fail(e, "invalid_request",
		    "only response_mode=query is supported");
	if (az->scope == NULL || authz_scope(az->scope,
	    az->app.admin_client, az->scope_granted))
		return authz_fail(e, "invalid_scope",
		    "scope must include openid");
	if (az->state != NULL && strlen(az->state) >= STATE_SIZE)
		return authz_fail(e, "invalid_request", "state is too long");
	if (az->nonce != NULL && strlen(az->nonce) >= NONCE_SIZE)
		return authz_fail(e, "invalid_request", "nonce is too long");
	return authz_check_pkce(az, e);
}

/* The OpenID Connect parameters that shape the sign-in. */
static int
authz_check_oidc(struct authz *az, struct authz_error *e)
{
	if (az->prompt != NULL && strlen(az->prompt) > 64)
		return authz_fail(e, "invalid_request", "prompt is too long");
	if (authorize_prompt_parse(az->prompt, &az->prompt_bits) == -1)
		return authz_fail(e, "invalid_request",
		    "prompt has a value that is not supported, or none "
		    "with another value");
	if (authorize_max_age_parse(az->max_age_param, &az->max_age) == -1)
		return authz_fail(e, "invalid_request",
		    "max_age must be a number of seconds");
	if (claims_parse(az->claims, az->claims_id, az->claims_ui) == -1)
		return authz_fail(e, "invalid_request",
		    "claims is not a valid claims request (JSON)");
	return 0;
}

/* The sub of an ID token we issued: the payload is read only after the
 * SDK has checked the signature, typ, iss and aud, and refused it for
 * its age alone. Core 3.1.2.1 accepts expired hints. A hint can only
 * narrow what a session may do (it must name the session's person), so
 * nothing is lost should this ever accept a forged one. */
static int
hint_expired_sub(const char *token, const char *client_id,
    char sub[PAIRWISE_SUB_SIZE])
{
	const char *p = strchr(token, '.'), *q, *s, *azp;
	unsigned char *raw;
	json_t *j;
	size_t n;
	int rc = -1;

	if (p == NULL || (q = strchr(p + 1, '.')) == NULL ||
	    (raw = b64url_decode(p + 1, (size_t)(q - p - 1), &n)) == NULL)
		return -1;
	j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	s = json_string_value(json_object_get(j, "sub"));
	azp = json_string_value(json_object_get(j, "azp"));
	if (s != NULL && s[0] != '\0' && strlen(s) < PAIRWISE_SUB_SIZE &&
	    (azp == NULL || strcmp(azp, client_id) == 0)) {
		str_copy(sub, s, PAIRWISE_SUB_SIZE);
		rc = 0;
	}
	json_decref(j);
	return rc;
}

/* id_token_hint: an ID token we issued to this client. */
static int
authz_check_hint(struct idp *idp, struct authz *az, struct authz_error *e)
{
	const char *t = az->id_token_hint;
	kl_claims *c = NULL;
	kl_error err;
	int rc;

	az->hint_sub[0] = '\0';
	if (t == NULL)
		return 0;
	if (strlen(t) > ID_TOKEN_HINT_MAX)
		return authz_fail(e, "invalid_request",
		    "id_token_hint is too long");
	rc = keyring_verify_id(idp->keyring, t, az->client_id, NULL, &c,
	    &err);
	if (rc == KL_OK && strlen(kl_claims_sub(c)) < PAIRWISE_SUB_SIZE)
		str_copy(az->hint_sub, kl_claims_sub(c), PAIRWISE_SUB_SIZE);
	else if (rc == KL_ERR_EXPIRED)
		(void)hint_expired_sub(t, az->client_id, az->hint_sub);
	kl_claims_free(c);
	if (az->hint_sub[0] != '\0')
		return 0;
	if (rc != KL_OK && rc != KL_ERR_EXPIRED &&
	    !kl_error_is_rejection(rc)) {
		log_err("authorize: cannot check an id_token_hint: %s",
		    err.text);
		return authz_fail(e, "server_error", NULL);
	}
	log_info("authorize: id_token_hint refused for client %s: %s",
	    az->client_id, kl_strerror(rc));
	return authz_fail(e, "invalid_request",
	    "id_token_hint is not an ID token issued to this client");
}

static void
authz_read(struct authz *az, const struct http_request *req)
{
	az->response_type = authz_param(req, "response_type");
	az->scope = authz_param(req, "scope");
	az->state = authz_param(req, "state");
	az->nonce = authz_param(req, "nonce");
	az->challenge = authz_param(req, "code_challenge");
	az->challenge_method = authz_param(req, "code_challenge_method");
	az->prompt = authz_param(req, "prompt");
	az->response_mode = authz_param(req, "response_mode");
	az->ui_locales = authz_param(req, "ui_locales");
	az->login_hint = authz_param(req, "login_hint");
	az->request = authz_param(req, "request");
	az->request_uri = authz_param(req, "request_uri");
	az->acr_values = authz_param(req, "acr_values");
	az->max_age_param = authz_param(req, "max_age");
	az->id_token_hint = authz_param(req, "id_token_hint");
	az->claims = authz_param(req, "claims");
	az->registration = authz_param(req, "registration");
}

/* The session lacks a factor this sign-in needs: ask only for that one
 * (OpenID Connect Core 3.1.2.1 acr_values; the app's or the policy's
 * demand for two factors). The session is raised in place. */
static http_result
authz_stepup(struct idp *idp, struct http_request *req,
    struct http_response *resp, struct authz *az, const struct session *s,
    const struct user *u)
{
	struct signin *sg = signin_get(idp, req);

	if (sg == NULL) {
		page_error(idp, req, resp, 500, "server", az->lang);
		return HTTP_DONE;
	}
	sg->flow = az->flow;
	str_copy(sg->flow.user_id, u->id, sizeof(sg->flow.user_id));
	sg->flow.amr = s->amr;
	memcpy(sg->flow.session_hash, s->id_hash, HASH_SIZE);
	sg->flow.auth_time = s->auth_time;
	sg->flow.want_2fa = 1;
	sg->user = *u;
	sg->app = az->app;
	if (flow_start(idp, req, resp, &sg->flow, sg->handle) == -1) {
		page_error(idp, req, resp, 500, "server", az->lang);
		return HTTP_DONE;
	}
	signin_audit(sg, "signin.stepup", "started", amr_acr(s->amr));
	return otp_begin(sg, resp);
}

/* With a live session: a code at once (single sign-on), or step-up. */
static http_result
authz_with_session(struct idp *idp, struct http_request *req,
    struct http_response *resp, struct authz *az, const struct session *s,
    const struct user *u)
{
	struct authz_error e;
	int none = (az->prompt_bits & PROMPT_NONE) != 0, consent;

	if (signin_needs_2fa(idp, u, &az->app, az->flow.want_2fa) &&
	    (s->amr & (AMR_OTP | AMR_SMS)) == 0) {
		if (!none)
			return authz_stepup(idp, req, resp, az, s, u);
		authz_fail(&e, "interaction_required",
		    "a second factor is needed");
		authz_redirect_error(idp, resp, az, &e);
		return HTTP_DONE;
	}
	if (none && (consent = consent_needed(idp, &az->flow, u)) != 0) {
		if (consent == -1)
			authz_fail(&e, "server_error", NULL);
		else
			authz_fail(&e, "consent_required",
			    "the person has not agreed to share this data");
		authz_redirect_error(idp, resp, az, &e);
		return HTTP_DONE;
	}
	authz_complete(idp, req, resp, &az->flow, s, u);
	return HTTP_DONE;
}

/* Whether the browser's session may answer this request as it is: no
 * prompt to sign in again, recent enough for max_age, and the person an
 * id_token_hint names. */
static int
authz_session_serves(struct idp *idp, const struct authz *az,
    const struct session *s, const struct user *u)
{
	char sub[PAIRWISE_SUB_SIZE];

	if (az->prompt_bits & (PROMPT_LOGIN | PROMPT_SELECT_ACCOUNT))
		return 0;
	if (!authorize_fresh(az->max_age, s->auth_time, clock_now()))
		return 0;
	if (az->hint_sub[0] == '\0')
		return 1;
	if (token_sub_for(&idp->tokens, u, &az->app, sub) == -1)
		return 0;
	return strcmp(sub, az->hint_sub) == 0;
}

static int
authz_parse(struct idp *idp, struct http_request *req, struct authz *az,
    struct authz_error *e)
{
	authz_read(az, req);
	if (authz_check(az, req, e) == -1 || authz_check_oidc(az, e) == -1 ||
	    authz_check_hint(idp, az, e) == -1)
		return -1;
	authz_to_flow(az, &az->flow);
	az->flow.prompt_consent = (az->prompt_bits & PROMPT_CONSENT) != 0;
	str_copy(az->flow.claims_id, az->claims_id,
	    sizeof(az->flow.claims_id));
	str_copy(az->flow.claims_ui, az->claims_ui,
	    sizeof(az->flow.claims_ui));
	return 0;
}

http_result
oidc_authorize(struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct idp *idp = arg;
	struct authz az;
	struct authz_error e = { NULL, NULL };
	struct session s;
	struct user u;
	const char *page;
	int have;

	if (req->state != NULL) {	/* resumed: a step-up SMS was sent */
		sms_done(req->state, resp);
		return HTTP_DONE;
	}
	memset(&az, 0, sizeof(az));
	az.lang = page_lang(idp, req, authz_param(req, "ui_locales"));
	if ((page = authz_client(idp, req, &az)) != NULL) {
		log_info("authorize refused: %s (client %s)", page,
		    az.client_id != NULL && valid_client_id(az.client_id) ?
		    az.client_id : "?");
		page_error(idp, req, resp, strcmp(page, "server") == 0 ? 500 :
		    400, page, az.lang);
		return HTTP_DONE;
	}
	if (authz_parse(idp, req, &az, &e) == -1) {
		authz_redirect_error(idp, resp, &az, &e);
		return HTTP_DONE;
	}
	have = session_lookup(idp->store, http_cookie(req, COOKIE_SESSION),
	    &s, &u) == STORE_OK;
	if (have && authz_session_serves(idp, &az, &s, &u))
		return authz_with_session(idp, req, resp, &az, &s, &u);
	if (az.prompt_bits & PROMPT_NONE) {
		authz_fail(&e, "login_required", NULL);
		authz_redirect_error(idp, resp, &az, &e);
		return HTTP_DONE;
	}
	/* select_account: the person may go on as who they are, or type
	 * another account's name over it. */
	if (have && (az.prompt_bits & PROMPT_SELECT_ACCOUNT) &&
	    az.login_hint == NULL)
		az.login_hint = u.username;
	login_start(idp, req, resp, &az);
	return HTTP_DONE;
}
