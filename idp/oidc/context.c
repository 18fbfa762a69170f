/* context.c - the provider's context, built once at start and retuned
 * on SIGHUP (idp_reload), and its routes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "backchannel.h"
#include "oidc.h"
#include "ops/ops.h"
#include "util/pool.h"

/* HTTP_ROUTE_OFFLOAD: the handler writes to the store durably on (nearly)
 * every request, and so runs on idp->writers rather than on an HTTP
 * thread (http.h, Offload; README, [server] write_workers). One that
 * suspends (/login/otp sending an SMS) holds no worker meanwhile. */
static const struct http_route oidc_route_table[] = {
	{ "GET", "/.well-known/openid-configuration", oidc_discovery, 0 },
	{ "GET", "/jwks", oidc_jwks, 0 },
	{ "GET", "/authorize", oidc_authorize, 0 },
	{ "POST", "/authorize", oidc_authorize, 0 },
	{ "POST", "/login", oidc_login, 0 },
	{ "POST", "/login/otp", oidc_otp, HTTP_ROUTE_OFFLOAD },
	{ "POST", "/consent", oidc_consent, HTTP_ROUTE_OFFLOAD },
	{ "GET", "/register", register_get, 0 },
	{ "POST", "/register", register_post, 0 },
	{ "POST", "/register/verify", register_verify, 0 },
	{ "GET", "/account", account_get, 0 },
	{ "POST", "/account/totp", account_totp, 0 },
	{ "POST", "/account/totp/confirm", account_totp_confirm, 0 },
	{ "POST", "/account/recovery", account_recovery, 0 },
	{ "POST", "/account/password", account_password, 0 },
	{ "POST", "/account/signout-all", account_signout_all, 0 },
	{ "GET", "/lang", page_lang_set, 0 },
	/* Offloaded by grant: token.c. */
	{ "POST", "/token", oidc_token, 0 },
	{ "POST", "/revoke", oidc_revocation, HTTP_ROUTE_OFFLOAD },
	{ "POST", "/introspect", oidc_introspect, 0 },
	{ "GET", "/userinfo", oidc_userinfo, 0 },
	{ "POST", "/userinfo", oidc_userinfo, 0 },
	{ "GET", "/logout", oidc_logout, HTTP_ROUTE_OFFLOAD },
	{ "POST", "/logout", oidc_logout, HTTP_ROUTE_OFFLOAD },
	{ "GET", "/healthz", ops_healthz, 0 },	/* issue 8: ops/ops.h */
	{ "GET", "/readyz", ops_readyz, 0 },
	{ "GET", "/metrics", ops_metrics, 0 },
	{ NULL, ADMIN_PREFIX "*", admin_handle, 0 },	/* a prefix route */
};

const struct http_route *
oidc_routes(size_t *n)
{
	*n = sizeof(oidc_route_table) / sizeof(oidc_route_table[0]);
	return oidc_route_table;
}

static int
idp_open_store(struct idp *idp, char *err, size_t errlen)
{
	struct store_txn *txn;
	char path[600];
	int rc;

	snprintf(path, sizeof(path), "%s/store", idp->data_dir);
	if (store_open(path, &idp->store, err, errlen) != STORE_OK)
		return -1;
	if (store_begin(idp->store, 0, &txn) != STORE_OK) {
		snprintf(err, errlen, "%s: cannot read the store", path);
		return -1;
	}
	rc = store_meta_get(txn, "issuer", idp->issuer, sizeof(idp->issuer));
	store_abort(txn);
	if (rc != STORE_OK) {
		snprintf(err, errlen, "%s: no issuer recorded; run kleidi init",
		    path);
		return -1;
	}
	idp->https = strncmp(idp->issuer, "https://", 8) == 0;
	return 0;
}

static int
idp_open_keys(struct idp *idp, char *err, size_t errlen)
{
	char path[600];
	struct keyring *k;

	snprintf(path, sizeof(path), "%s/keys", idp->data_dir);
	/* No lifetimes: SIGHUP changes them, so they come from the settings
	 * at each issue (idp_token_issuer). 0 here makes any token signed
	 * without them expire at once, never live too long. */
	idp->tokens = (struct token_issuer){ NULL, idp->issuer, 0, 0,
		KEY_ES256, { 0 } };
	idp->keyring = keyring_open(path, idp->issuer, &idp->tokens,
	    clock_now(), err, errlen);
	if (idp->keyring == NULL)
		return -1;
	/* The keys derived from the master key stay as they are: a reload
	 * never changes the master key. */
	k = keyring_get(idp->keyring);
	memcpy(idp->tokens.pairwise_key, k->tokens.pairwise_key,
	    sizeof(idp->tokens.pairwise_key));
	keyring_put(k);
	return 0;
}

/* The keys derived from the master key, for the life of the server: a
 * key reload never changes the master key. */
static int
idp_derive_keys(struct idp *idp)
{
	struct keyring *k = keyring_get(idp->keyring);
	int rc = 0;

	if (audit_init(&idp->audit, k->keys) == -1 ||
	    factor_keys_init(&idp->factors, k->keys) == -1 ||
	    keyset_derive(k->keys, "kleidi csrf v1", idp->csrf_key) == -1 ||
	    sms_init(&idp->sms, &idp->cfg.sms, idp->sms_gw, k->keys) == -1)
		rc = -1;
	keyring_put(k);
	return rc;
}

/* The SMS outbox "" stands for DATA/sms-outbox. */
static int
idp_sms_outbox(const struct idp *idp, struct sms_config *sc, char *err,
    size_t errlen)
{
	if (sc->outbox[0] == '\0' &&
	    (size_t)snprintf(sc->outbox, sizeof(sc->outbox), "%s/sms-outbox",
	    idp->data_dir) >= sizeof(sc->outbox)) {
		err_set(err, errlen, "SMS outbox path too long");
		return -1;
	}
	return 0;
}

/* The second-factor and audit services, all keyed from the master key. */
static int
idp_open_factors(struct idp *idp, char *err, size_t errlen)
{
	struct sms_config *sc = &idp->cfg.sms;

	if (idp_sms_outbox(idp, sc, err, errlen) == -1 ||
	    (idp->sms_gw = sms_gateway_new(sc, err, errlen)) == NULL)
		return -1;
	if (idp_derive_keys(idp) == -1) {
		err_set(err, errlen, "cannot derive keys from the master key");
		return -1;
	}
	idp->rl = ratelimit_new(idp->cfg.signin_burst,
	    idp->cfg.signin_refill_ms);
	/* Sends wait on the network, not the CPU: more workers than cores,
	 * and a queue that bounds how many wait. */
	idp->io = pool_new(4, 256);
	/* After the outbox is resolved: the snapshot is what is in
	 * effect. */
	idp->settings = settings_new(&idp->cfg);
	if (idp->rl == NULL || idp->io == NULL || idp->settings == NULL) {
		err_set(err, errlen, "cannot start the sign-in services");
		return -1;
	}
	return 0;
}

int
idp_open(struct idp *idp, const char *data_dir, const struct config *cfg,
    const char *templates_dir, char *err, size_t errlen)
{
	struct argon2_params a2;

	memset(idp, 0, sizeof(*idp));
	idp->cfg = *cfg;
	if (str_copy(idp->data_dir, data_dir, sizeof(idp->data_dir)) >=
	    sizeof(idp->data_dir)) {
		snprintf(err, errlen, "data folder path too long");
		return -1;
	}
	if (idp_open_store(idp, err, errlen) == -1 ||
	    idp_open_keys(idp, err, errlen) == -1 ||
	    idp_open_factors(idp, err, errlen) == -1)
		goto fail;
	if ((idp->ui = ui_load(templates_dir, err, errlen)) == NULL)
		goto fail;
	if ((idp->pool = pool_new(cfg->pool_workers, cfg->pool_queue)) ==
	    NULL) {
		snprintf(err, errlen, "cannot start the password workers");
		goto fail;
	}
	if (cfg->write_workers > 0 && (idp->writers =
	    pool_new(cfg->write_workers, cfg->write_queue)) == NULL) {
		snprintf(err, errlen, "cannot start the write workers");
		goto fail;
	}
	a2 = (struct argon2_params){ cfg->argon2_t_cost,
		cfg->argon2_m_cost_kib, cfg->argon2_parallelism };
	if (authn_init(&idp->authn, idp->store, idp->pool, &a2) == -1 ||
	    (idp->discovery = discovery_build(idp->issuer)) == NULL) {
		snprintf(err, errlen, "cannot set up authentication");
		goto fail;
	}
	if ((idp->bcl = backchannel_start(idp)) == NULL) {
		snprintf(err, errlen, "cannot start the logout sender");
		goto fail;
	}
	return 0;
fail:
	idp_close(idp);
	return -1;
}

void
idp_close(struct idp *idp)
{
	/* The sender and pools first: they use everything below. */
	backchannel_stop(idp->bcl);
	pool_free(idp->writers);
	pool_free(idp->io);
	pool_free(idp->pool);
	ratelimit_free(idp->rl);
	settings_free(idp->settings);
	sms_clear(&idp->sms);
	sms_gateway_free(idp->sms_gw);
	factor_keys_clear(&idp->factors);
	audit_clear(&idp->audit);
	wipe(idp->csrf_key, sizeof(idp->csrf_key));
	wipe(idp->tokens.pairwise_key, sizeof(idp->tokens.pairwise_key));
	ui_free(idp->ui);
	keyring_close(idp->keyring);
	store_close(idp->store);
	free(idp->discovery);
	memset(idp, 0, sizeof(*idp));
}

void
idp_token_issuer(const struct keyring *k, const struct settings *st,
    struct token_issuer *out)
{
	*out = k->tokens;
	out->access_ttl = st->cfg.access_ttl;
	out->id_ttl = st->cfg.id_ttl;
}

/* The live settings of file into a new snapshot, the SMS service and
 * gateway and the rate limit; the caller has checked what can refuse.
 * Each piece swaps on its own: a request may meet the new lifetimes and
 * the old SMS caps for an instant, never half of either. */
static int
idp_apply(struct idp *idp, const struct settings *old,
    const struct config *file, struct sms_gateway *gw)
{
	struct config next = old->cfg;
	int rc = -1;

	config_take_live(&next, file);
	if (settings_swap(idp->settings, &next) == -1) {
		sms_gateway_free(gw);
		goto done;
	}
	sms_gateway_replace(idp->sms_gw, gw);
	(void)sms_configure(&idp->sms, &next.sms);	/* checked */
	if (next.signin_burst != old->cfg.signin_burst ||
	    next.signin_refill_ms != old->cfg.signin_refill_ms)
		(void)ratelimit_set(idp->rl, next.signin_burst,
		    next.signin_refill_ms);
	rc = 0;
done:
	wipe(&next, sizeof(next));
	return rc;
}

int
idp_reload(struct idp *idp, struct config *file)
{
	struct sms_gateway *gw;
	struct settings *old;
	char err[512];
	int rc;

	/* What can refuse comes first, so that a refusal changes nothing. */
	if (idp_sms_outbox(idp, &file->sms, err, sizeof(err)) == -1 ||
	    sms_config_check(&file->sms, err, sizeof(err)) == -1 ||
	    (gw = sms_gateway_new(&file->sms, err, sizeof(err))) == NULL) {
		log_err("reload: %s; the running configuration is kept", err);
		return -1;
	}
	old = settings_get(idp->settings);
	if ((rc = idp_apply(idp, old, file, gw)) == -1)
		log_err("reload: out of memory; the running configuration is "
		    "kept");
	else if (ops_config_diff(&old->cfg, file) == 0)
		log_info("reload: configuration unchanged");
	settings_put(old);
	return rc;
}
