/* client.c - client authentication at the token endpoint (RFC 6749 2.3.1):
 * client_secret_basic, client_secret_post, or none for public clients. The
 * secret is 256 random bits, so its SHA-256 compared in constant time is
 * enough: no slow hash per request. */
#include <stdlib.h>
#include <string.h>

#include "oidc.h"

static int
client_check_secret(const struct app *a, const char *secret)
{
	unsigned char h[HASH_SIZE];
	int ok;

	secret_hash(secret, h);
	ok = ct_equal(h, a->secret_hash, HASH_SIZE);
	wipe(h, sizeof(h));
	return ok;
}

static int
client_lookup(struct idp *idp, const char *id, struct app *out)
{
	struct store_txn *txn;
	int rc;

	if (!str_is_token(id, APP_ID_SIZE - 1, "-._"))
		return STORE_NOTFOUND;
	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return STORE_ERROR;
	rc = store_app_get(txn, id, out);
	store_abort(txn);
	return rc;
}

int
client_authenticate(struct idp *idp, const struct http_request *req,
    struct app *out, int *used_basic)
{
	char *bid = NULL, *bsecret = NULL;
	const char *id, *secret;
	int rc;

	*used_basic = req->authorization != NULL;
	id = http_form(req, "client_id");
	secret = http_form(req, "client_secret");
	if (http_form_count(req, "client_id") > 1 ||
	    http_form_count(req, "client_secret") > 1)
		return CLIENT_INVALID_REQUEST;
	if (*used_basic) {
		/* One method per request (RFC 6749 2.3). */
		if (secret != NULL || http_parse_basic(req->authorization,
		    &bid, &bsecret) == -1 ||
		    (id != NULL && strcmp(id, bid) != 0)) {
			rc = CLIENT_INVALID_REQUEST;
			goto done;
		}
		id = bid;
		secret = bsecret;
	}
	if (id == NULL) {
		rc = CLIENT_INVALID_REQUEST;
		goto done;
	}
	rc = client_lookup(idp, id, out);
	if (rc == STORE_ERROR) {
		rc = CLIENT_ERROR;
		goto done;
	}
	if (rc != STORE_OK)
		rc = CLIENT_UNAUTHORIZED;
	else if (out->public_client)
		rc = secret == NULL ? CLIENT_OK : CLIENT_UNAUTHORIZED;
	else
		rc = secret != NULL && client_check_secret(out, secret) ?
		    CLIENT_OK : CLIENT_UNAUTHORIZED;
done:
	if (bsecret != NULL) {
		wipe(bsecret, strlen(bsecret));
		free(bsecret);
	}
	free(bid);
	return rc;
}
