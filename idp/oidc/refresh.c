/* refresh.c - refresh token families: issue, rotate, revoke, look up
 * (refresh.h has the rules). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refresh.h"
#include "registry/registry.h"

/* The store key of a presented token; -1 when it cannot be one of ours
 * (ours are exactly 43 base64url characters). */
static int
refresh_hash(const char *token, unsigned char h[HASH_SIZE])
{
	if (token == NULL || strlen(token) != RAND_TOKEN_LEN - 1 ||
	    !str_is_token(token, RAND_TOKEN_LEN - 1, "-_"))
		return -1;
	secret_hash(token, h);
	return 0;
}

/* store_write fn: the first token of a family. */
static int
refresh_issue_fn(struct store_txn *txn, void *arg)
{
	return store_refresh_put(txn, arg);
}

int
refresh_issue(const struct refresh_ctx *ctx, const struct authcode *c,
    int64_t ttl, char out[RAND_TOKEN_LEN])
{
	unsigned char fam[16];
	struct refresh_token r;
	char *f = NULL;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (rand_token(out) == -1 || rand_bytes(fam, sizeof(fam)) == -1 ||
	    (f = b64url_encode(fam, sizeof(fam))) == NULL)
		goto done;
	secret_hash(out, r.hash);
	str_copy(r.family, f, sizeof(r.family));
	str_copy(r.client_id, c->client_id, sizeof(r.client_id));
	str_copy(r.user_id, c->user_id, sizeof(r.user_id));
	str_copy(r.scope, c->scope, sizeof(r.scope));
	r.auth_time = c->auth_time;
	r.amr = c->amr;
	memcpy(r.session_hash, c->session_hash, HASH_SIZE);
	r.created = ctx->now;
	r.expires = ctx->now + ttl;
	rc = store_write(ctx->st, refresh_issue_fn, &r) == STORE_OK ? 0 : -1;
done:
	free(f);
	if (rc == -1)
		wipe(out, RAND_TOKEN_LEN);
	return rc;
}

/* Ends old's family inside txn and records why; the caller commits. */
static int
refresh_end_family(const struct refresh_ctx *ctx, struct store_txn *txn,
    const struct refresh_token *old, const char *action, const char *why)
{
	char actor[AUDIT_ACTOR_SIZE], detail[AUDIT_DETAIL_SIZE];
	struct audit_event ev;
	size_t n = 0;

	if (store_refresh_del_family(txn, old->family, &n) != STORE_OK)
		return -1;
	log_warn("refresh family of client %s user %s ended (%zu tokens): %s",
	    old->client_id, old->user_id, n, why);
	if (ctx->audit == NULL)
		return 0;
	(void)snprintf(actor, sizeof(actor), "client:%s", old->client_id);
	(void)snprintf(detail, sizeof(detail), "%s; %zu tokens of the family "
	    "revoked", why, n);
	ev = (struct audit_event){ actor, action, "refused", old->user_id,
		old->client_id, NULL, ctx->addr, detail };
	return audit_append(ctx->audit, txn, &ev);
}

/* 1 when every space-separated value of want is one of have. */
static int
refresh_scope_within(const char *want, const char *have)
{
	const char *p = want, *q, *end, *hend;
	size_t n;
	int found;

	while (*p != '\0') {
		end = p + strcspn(p, " ");
		n = (size_t)(end - p);
		for (found = n == 0, q = have; !found && *q != '\0';) {
			hend = q + strcspn(q, " ");
			found = (size_t)(hend - q) == n && strncmp(p, q, n) == 0;
			q = *hend == ' ' ? hend + 1 : hend;
		}
		if (!found)
			return 0;
		p = *end == ' ' ? end + 1 : end;
	}
	return 1;
}

/* The checks on the presented token itself; NULL when it may be used. */
static const char *
refresh_check(const struct refresh_token *r, const struct app *app,
    int64_t now)
{
	if (strcmp(r->client_id, app->client_id) != 0)
		return "refresh token issued to another client";
	if (r->expires <= now)
		return "refresh token expired";
	return NULL;
}

/* The person behind r, if they may still use app; their roles in *roles.
 * REFRESH_OK, REFRESH_DENIED or REFRESH_ERROR. */
static int
refresh_subject(struct store_txn *txn, const struct refresh_token *r,
    const struct app *app, struct user *u, json_t **roles)
{
	int rc = store_user_get(txn, r->user_id, u);

	if (rc == STORE_NOTFOUND)
		return REFRESH_DENIED;
	if (rc != STORE_OK)
		return REFRESH_ERROR;
	rc = registry_access(txn, u, app);
	if (rc == ACCESS_ERROR)
		return REFRESH_ERROR;
	if (rc != ACCESS_OK)
		return REFRESH_DENIED;
	*roles = registry_roles(txn, u, app->client_id);
	return *roles != NULL ? REFRESH_OK : REFRESH_ERROR;
}

/* Writes the successor of *old (same family, same end) and marks *old
 * rotated. */
static int
refresh_successor(const struct refresh_ctx *ctx, struct store_txn *txn,
    struct refresh_token *old, char out[RAND_TOKEN_LEN],
    struct refresh_token *next)
{
	*next = *old;
	if (rand_token(out) == -1)
		return -1;
	secret_hash(out, next->hash);
	next->created = ctx->now;
	next->rotated = 0;
	old->rotated = 1;
	if (store_refresh_put(txn, old) != STORE_OK ||
	    store_refresh_put(txn, next) != STORE_OK)
		return -1;
	return 0;
}

/* A rotation as store_write runs it: what it is given, and what it
 * decided (rc, enum refresh_rc). */
struct rotate_job {
	const struct refresh_ctx *ctx;
	const unsigned char *hash;
	const struct app *app;
	char *out;
	struct refresh_result *res;
	const char **why;
	int rc;
};

/* rotate_fn's result when its changes are to be dropped: not a store_rc,
 * so it stays apart from store_write's own failures. */
#define ROTATE_DROP 100

/* Ends the family of *old for a refusal (rc); kept unless that fails. */
static int
refresh_refuse(struct rotate_job *j, struct store_txn *txn,
    const struct refresh_token *old, int rc, const char *action)
{
	if (refresh_end_family(j->ctx, txn, old, action, *j->why) == -1) {
		j->rc = REFRESH_ERROR;
		return ROTATE_DROP;
	}
	j->rc = rc;
	return 0;
}

/* Reads, checks and rotates in one (nested) write transaction: of two
 * uses of one token at once, the second sees it rotated. Keeps the
 * changes of a rotation and of a refusal that ends the family. */
static int
rotate_fn(struct store_txn *txn, void *arg)
{
	struct rotate_job *j = arg;
	const struct refresh_ctx *ctx = j->ctx;
	struct refresh_token old;
	int rc;

	rc = store_refresh_get(txn, j->hash, &old);
	if (rc != STORE_OK || (*j->why = refresh_check(&old, j->app,
	    ctx->now)) != NULL) {
		j->rc = rc == STORE_OK || rc == STORE_NOTFOUND ?
		    REFRESH_INVALID : REFRESH_ERROR;
		return ROTATE_DROP;
	}
	if (ctx->scope != NULL && !old.rotated &&
	    !refresh_scope_within(ctx->scope, old.scope)) {
		*j->why = "scope exceeds the one originally granted";
		j->rc = REFRESH_SCOPE;
		return ROTATE_DROP;
	}
	if (old.rotated) {
		*j->why = "refresh token already used";
		return refresh_refuse(j, txn, &old, REFRESH_REUSED,
		    "token.refresh_reuse");
	}
	rc = refresh_subject(txn, &old, j->app, &j->res->user,
	    &j->res->roles);
	if (rc == REFRESH_DENIED) {
		*j->why = "the account can no longer use this application";
		return refresh_refuse(j, txn, &old, REFRESH_DENIED,
		    "token.refresh");
	}
	if (rc == REFRESH_OK &&
	    refresh_successor(ctx, txn, &old, j->out, &j->res->rec) == -1)
		rc = REFRESH_ERROR;
	j->rc = rc;
	return rc == REFRESH_OK ? 0 : ROTATE_DROP;
}

int
refresh_rotate(const struct refresh_ctx *ctx, const char *token,
    const struct app *app, char out[RAND_TOKEN_LEN],
    struct refresh_result *res, const char **why)
{
	unsigned char h[HASH_SIZE];
	struct rotate_job j = { ctx, h, app, out, res, why, REFRESH_ERROR };
	int rc;

	memset(res, 0, sizeof(*res));
	*why = "unknown refresh token";
	if (refresh_hash(token, h) == -1)
		return REFRESH_INVALID;
	/* Group commit: returns once the batch holding the rotation (or the
	 * end of the family) is on disk. */
	rc = store_write(ctx->st, rotate_fn, &j);
	if (rc != STORE_OK && rc != ROTATE_DROP)
		j.rc = REFRESH_ERROR;
	if (j.rc == REFRESH_ERROR) {
		json_decref(res->roles);
		res->roles = NULL;
		wipe(out, RAND_TOKEN_LEN);
		*why = "server error";
		return REFRESH_ERROR;
	}
	if (j.rc == REFRESH_OK)
		*why = NULL;
	return j.rc;
}

/* Revocation as store_write runs it. */
struct revoke_job {
	const unsigned char *hash;
	const char *client_id;
	int ended;
};

/* Ends the family of the token if it is the client's; another client's
 * or an unknown token changes nothing. */
static int
revoke_fn(struct store_txn *txn, void *arg)
{
	struct revoke_job *j = arg;
	struct refresh_token r;
	int rc;

	rc = store_refresh_get(txn, j->hash, &r);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK &&
	    strcmp(r.client_id, j->client_id) != 0))
		return STORE_OK;
	if (rc == STORE_OK)
		rc = store_refresh_del_family(txn, r.family, NULL);
	j->ended = rc == STORE_OK;
	return rc;
}

int
refresh_revoke(struct store *st, const char *token, const char *client_id,
    int *ended)
{
	unsigned char h[HASH_SIZE];
	struct revoke_job j = { h, client_id, 0 };

	if (ended != NULL)
		*ended = 0;
	if (refresh_hash(token, h) == -1)
		return 0;
	if (store_write(st, revoke_fn, &j) != STORE_OK)
		return -1;
	if (ended != NULL)
		*ended = j.ended;
	return 0;
}

int
refresh_find(struct store *st, const char *token, const char *client_id,
    int64_t now, struct refresh_token *out, struct user *u)
{
	unsigned char h[HASH_SIZE];
	struct store_txn *txn;
	int rc;

	if (refresh_hash(token, h) == -1)
		return STORE_NOTFOUND;
	if (store_begin(st, 0, &txn) != STORE_OK)
		return STORE_ERROR;
	rc = store_refresh_get(txn, h, out);
	if (rc == STORE_OK && (out->rotated || out->expires <= now ||
	    strcmp(out->client_id, client_id) != 0))
		rc = STORE_NOTFOUND;
	if (rc == STORE_OK)
		rc = store_user_get(txn, out->user_id, u);
	if (rc == STORE_OK && u->disabled)
		rc = STORE_NOTFOUND;
	store_abort(txn);
	return rc;
}
