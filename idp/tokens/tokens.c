/* tokens.c - claims of ID and access tokens, then one signature each. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "authn/authn.h"
#include "tokens.h"
#include "util/util.h"

json_t *
token_amr(unsigned amr)
{
	json_t *a = json_array();
	int n = 0;

	if (a == NULL)
		return NULL;
	if (amr & AMR_PWD && ++n)
		json_array_append_new(a, json_string("pwd"));
	if (amr & AMR_OTP && ++n)
		json_array_append_new(a, json_string("otp"));
	if (amr & AMR_SMS && ++n)
		json_array_append_new(a, json_string("sms"));
	if (n >= 2)
		json_array_append_new(a, json_string("mfa"));
	return a;
}

int
token_sub_for(const struct token_issuer *ti, const struct user *u,
    const struct app *a, char out[PAIRWISE_SUB_SIZE])
{
	unsigned char msg[APP_ID_SIZE + USER_ID_SIZE], h[32];
	size_t ni = strnlen(a->client_id, APP_ID_SIZE - 1);
	size_t nu = strnlen(u->id, USER_ID_SIZE - 1);
	unsigned int len = 0;
	char *s;

	if (!a->pairwise) {
		str_copy(out, u->id, PAIRWISE_SUB_SIZE);
		return 0;
	}
	/* The NUL between keeps (client, user) pairs apart. */
	memcpy(msg, a->client_id, ni);
	msg[ni] = '\0';
	memcpy(msg + ni + 1, u->id, nu);
	if (HMAC(EVP_sha256(), ti->pairwise_key, (int)sizeof(ti->pairwise_key),
	    msg, ni + 1 + nu, h, &len) == NULL || len != sizeof(h) ||
	    (s = b64url_encode(h, sizeof(h))) == NULL) {
		log_err("cannot compute a pairwise subject");
		return -1;
	}
	str_copy(out, s, PAIRWISE_SUB_SIZE);
	free(s);
	return 0;
}

/* The value of the user claim name (n bytes) for u, or NULL when u has
 * no data for it or it is not a user claim. */
static json_t *
token_user_value(const struct user *u, const char *name, size_t n)
{
#define IS(s) (n == sizeof(s) - 1 && strncmp(name, s, n) == 0)
	if (IS("name"))
		return u->name[0] ? json_string(u->name) : NULL;
	if (IS("given_name"))
		return u->given_name[0] ? json_string(u->given_name) : NULL;
	if (IS("family_name"))
		return u->family_name[0] ? json_string(u->family_name) : NULL;
	if (IS("email"))
		return u->email[0] ? json_string(u->email) : NULL;
	if (IS("email_verified"))
		return u->email[0] ? json_false() : NULL;
	if (IS("phone_number"))
		return u->phone[0] ? json_string(u->phone) : NULL;
	/* Only a citizen's phone is proved, by the SMS check. */
	if (IS("phone_number_verified"))
		return u->phone[0] ? json_boolean(u->type == USER_CITIZEN &&
		    u->phone_verified) : NULL;
	return NULL;
#undef IS
}

int
token_user_claims(json_t *c, const struct user *u, const char *names)
{
	const char *p = names, *end;
	char key[32];
	json_t *v;
	size_t n;

	while (p != NULL && *p != '\0') {
		end = p + strcspn(p, " ");
		n = (size_t)(end - p);
		if (n > 0 && n < sizeof(key) &&
		    (v = token_user_value(u, p, n)) != NULL) {
			memcpy(key, p, n);
			key[n] = '\0';
			if (json_object_set_new(c, key, v) != 0)
				return -1;
		}
		p = *end == ' ' ? end + 1 : end;
	}
	return 0;
}

/* Claims both tokens carry: who, how they signed in, what they may do. */
static json_t *
token_common(const struct token_issuer *ti, const struct token_grant *g,
    int64_t now, int64_t ttl)
{
	const struct user *u = g->user;
	char sub[PAIRWISE_SUB_SIZE];
	json_t *c;

	if (token_sub_for(ti, u, g->app, sub) == -1)
		return NULL;
	c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:s, s:O}",
	    "iss", ti->issuer, "sub", sub, "aud", g->app->client_id,
	    "iat", (json_int_t)now, "exp", (json_int_t)now + ttl,
	    "auth_time", (json_int_t)g->auth_time,
	    "acr", amr_acr(g->amr), "amr", token_amr(g->amr),
	    "user_type", u->type == USER_CITIZEN ? "citizen" : "employee",
	    "roles", g->roles);
	if (c != NULL && u->type == USER_EMPLOYEE &&
	    json_object_set_new(c, "org", json_string(u->org)) != 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

static char *
token_sign(const struct token_issuer *ti, json_t *claims, int alg,
    const char *typ, int64_t now)
{
	char *jwt = NULL;

	if (claims == NULL)
		return NULL;
	jwt = keyset_sign_claims(ti->keys, (enum key_alg)alg, typ, claims,
	    now);
	json_decref(claims);
	if (jwt == NULL)
		log_err("cannot sign a %s token with %s", typ,
		    key_alg_name((enum key_alg)alg));
	return jwt;
}

int
token_set_jti(json_t *c)
{
	char jti[32];

	if (rand_b64url(16, jti, sizeof(jti)) == -1)
		return -1;
	return json_object_set_new(c, "jti", json_string(jti));
}

char *
token_issue_access(const struct token_issuer *ti,
    const struct token_grant *g, int64_t now)
{
	json_t *c = token_common(ti, g, now, ti->access_ttl);

	if (c == NULL)
		return NULL;
	if (json_object_set_new(c, "client_id",
	    json_string(g->app->client_id)) != 0 ||
	    json_object_set_new(c, "scope", json_string(g->scope)) != 0 ||
	    (g->claims_ui != NULL && g->claims_ui[0] != '\0' &&
	    json_object_set_new(c, "userinfo_claims",
	    json_string(g->claims_ui)) != 0) ||
	    token_set_jti(c) != 0) {
		json_decref(c);
		return NULL;
	}
	return token_sign(ti, c, ti->access_alg, "at+jwt", now);
}

/* at_hash: left half of the SHA-256 of the access token (both algorithms
 * use SHA-256), base64url (OpenID Connect Core 3.1.3.6). */
static int
token_set_at_hash(json_t *c, const char *access_token)
{
	unsigned char h[32];
	char *s;
	int rc;

	sha256(access_token, strlen(access_token), h);
	if ((s = b64url_encode(h, 16)) == NULL)
		return -1;
	rc = json_object_set_new(c, "at_hash", json_string(s));
	free(s);
	return rc;
}

char *
token_issue_id(const struct token_issuer *ti, const struct token_grant *g,
    const char *access_token, int64_t now)
{
	json_t *c = token_common(ti, g, now, ti->id_ttl);

	if (c == NULL)
		return NULL;
	if (json_object_set_new(c, "azp", json_string(g->app->client_id)) ||
	    (g->nonce != NULL && g->nonce[0] != '\0' &&
	    json_object_set_new(c, "nonce", json_string(g->nonce))) ||
	    (g->sid != NULL &&
	    json_object_set_new(c, "sid", json_string(g->sid))) ||
	    (access_token != NULL && token_set_at_hash(c, access_token)) ||
	    token_user_claims(c, g->user, g->claims_id) != 0) {
		json_decref(c);
		return NULL;
	}
	return token_sign(ti, c, g->app->id_token_alg, "JWT", now);
}
