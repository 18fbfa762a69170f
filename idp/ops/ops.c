/* ops.c - /healthz, /readyz and /metrics (ops.h). */
#include <string.h>

#include "metrics.h"
#include "oidc/keyring.h"
#include "oidc/oidc.h"
#include "ops.h"
#include "util/pool.h"

#define OPS_TEXT "text/plain; charset=utf-8"
#define OPS_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

static http_result
ops_text(struct http_response *resp, int status, const char *text)
{
	resp->status = status;
	resp->content_type = OPS_TEXT;
	(void)buf_puts(&resp->body, text);
	return HTTP_DONE;
}

http_result
ops_healthz(struct http_request *req, struct http_response *resp, void *app)
{
	(void)req;
	(void)app;
	return ops_text(resp, 200, "ok\n");
}

/* The store answers a read, and a key can sign now. */
static const char *
ops_not_ready(struct idp *idp)
{
	struct store_txn *txn = NULL;
	struct keyring *k;
	char issuer[URI_SIZE];
	int rc, sign;

	if (store_begin(idp->store, 0, &txn) != STORE_OK)
		return "store: cannot begin a read";
	rc = store_meta_get(txn, "issuer", issuer, sizeof(issuer));
	store_abort(txn);
	if (rc != STORE_OK)
		return "store: cannot read";
	k = keyring_get(idp->keyring);
	sign = k != NULL && k->keys != NULL && (keyset_can_sign(k->keys,
	    KEY_ES256, clock_now()) || keyset_can_sign(k->keys, KEY_RS256,
	    clock_now()));
	keyring_put(k);
	return sign ? NULL : "keys: no signing key loaded";
}

http_result
ops_readyz(struct http_request *req, struct http_response *resp, void *app)
{
	const char *why = ops_not_ready(app);

	(void)req;
	if (why == NULL)
		return ops_text(resp, 200, "ready\n");
	(void)http_header(resp, "Retry-After", "5");
	(void)ops_text(resp, 503, why);
	(void)buf_puts(&resp->body, "\n");
	return HTTP_DONE;
}

http_result
ops_metrics(struct http_request *req, struct http_response *resp, void *app)
{
	struct idp *idp = app;
	unsigned password[2], write[2] = { 0, 0 };

	(void)req;
	resp->content_type = OPS_METRICS_TYPE;
	pool_load(idp->pool, &password[0], &password[1]);
	if (idp->writers != NULL)	/* [server] write_workers = 0 */
		pool_load(idp->writers, &write[0], &write[1]);
	if (metrics_render(&resp->body, password, write) == -1)
		return ops_text(resp, 500, "metrics do not fit\n");
	return HTTP_DONE;
}
