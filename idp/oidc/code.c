/* code.c - authorization codes: single use, 60 s by default, bound to the
 * client, the redirect_uri and the PKCE challenge (RFC 6749 4.1.2, RFC 7636,
 * RFC 9700 2.1.1). The store keeps the SHA-256 of the code only. */
#include <string.h>

#include "oidc.h"

int
pkce_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	return n >= 43 && n <= 128 && str_is_token(s, 128, "-._~");
}

int
pkce_s256_match(const char *verifier, const char *challenge)
{
	unsigned char h[32];
	char *enc;
	int ok;

	sha256(verifier, strlen(verifier), h);
	if ((enc = b64url_encode(h, sizeof(h))) == NULL)
		return 0;
	ok = strlen(challenge) == 43 && ct_equal(enc, challenge, 43);
	free(enc);
	return ok;
}

int
code_issue(struct idp *idp, const struct flow *flow, const struct session *s,
    char code[RAND_TOKEN_LEN])
{
	struct store_txn *txn;
	struct settings *st;
	struct authcode c;

	memset(&c, 0, sizeof(c));
	if (rand_token(code) == -1)
		return -1;
	secret_hash(code, c.hash);
	str_copy(c.client_id, flow->client_id, sizeof(c.client_id));
	str_copy(c.redirect_uri, flow->redirect_uri, sizeof(c.redirect_uri));
	str_copy(c.user_id, s->user_id, sizeof(c.user_id));
	memcpy(c.session_hash, s->id_hash, HASH_SIZE);
	str_copy(c.nonce, flow->nonce, sizeof(c.nonce));
	str_copy(c.code_challenge, flow->code_challenge,
	    sizeof(c.code_challenge));
	str_copy(c.scope, flow->scope, sizeof(c.scope));
	str_copy(c.claims_id, flow->claims_id, sizeof(c.claims_id));
	str_copy(c.claims_ui, flow->claims_ui, sizeof(c.claims_ui));
	c.auth_time = s->auth_time;
	c.amr = s->amr;
	st = settings_get(idp->settings);
	c.expires = clock_now() + st->cfg.code_ttl;
	settings_put(st);
	if (store_begin(idp->store, 1, &txn) != STORE_OK)
		return -1;
	/* The session now has signed in to this app: its end is the app's
	 * back-channel logout (recorded with the code, so never missed). */
	if (store_code_put(txn, &c) != STORE_OK ||
	    store_session_client_put(txn, s->id_hash, flow->client_id) !=
	    STORE_OK) {
		store_abort(txn);
		return -1;
	}
	return store_commit(txn) == STORE_OK ? 0 : -1;
}

/* Every check of a code against its redemption; NULL when it passes. */
static const char *
code_check(const struct authcode *c, const char *client_id,
    const char *redirect_uri, const char *verifier)
{
	if (c->expires <= clock_now())
		return "code expired";
	if (c->used)
		return "code already used";
	if (strcmp(c->client_id, client_id) != 0)
		return "code issued to another client";
	if (redirect_uri == NULL || strcmp(c->redirect_uri, redirect_uri) != 0)
		return "redirect_uri differs from the authorization request";
	if (c->code_challenge[0] == '\0')
		/* RFC 9700 2.1.1: a verifier without a challenge is refused,
		 * or PKCE downgrade goes unnoticed. */
		return verifier != NULL ? "code_verifier without challenge" :
		    NULL;
	if (verifier == NULL)
		return "code_verifier missing";
	if (!pkce_valid(verifier) ||
	    !pkce_s256_match(verifier, c->code_challenge))
		return "code_verifier does not match";
	return NULL;
}

int
code_redeem(struct idp *idp, const char *code, const char *client_id,
    const char *redirect_uri, const char *verifier, struct authcode *out,
    const char **why)
{
	unsigned char h[HASH_SIZE];
	struct store_txn *txn;
	int rc;

	*why = "unknown code";
	if (code == NULL || strlen(code) != RAND_TOKEN_LEN - 1)
		return CODE_INVALID;
	secret_hash(code, h);
	/* Read and mark used in one write transaction: two concurrent
	 * redemptions are serialised and only the first succeeds. */
	if (store_begin(idp->store, 1, &txn) != STORE_OK)
		return CODE_ERROR;
	rc = store_code_get(txn, h, out);
	if (rc != STORE_OK) {
		store_abort(txn);
		return rc == STORE_NOTFOUND ? CODE_INVALID : CODE_ERROR;
	}
	if ((*why = code_check(out, client_id, redirect_uri, verifier)) !=
	    NULL) {
		/* A refused redemption changes nothing stored. */
		store_abort(txn);
		return CODE_INVALID;
	}
	out->used = 1;
	if (store_code_put(txn, out) != STORE_OK ||
	    store_commit(txn) != STORE_OK)
		return CODE_ERROR;
	return CODE_OK;
}
