/* cli_serve.c - `kleidi init` and `kleidi serve`. */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_int.h"
#include "config/config.h"
#include "keys.h"
#include "oidc/oidc.h"
#include "ops/metrics.h"
#include "ops/ops.h"
#include "registry/import.h"
#include "registry/registry.h"
#include "store/store.h"

#define MMAP_THRESHOLD (256 * 1024)	/* bytes: mallopt, below */

#define SWEEP_INTERVAL 60	/* seconds between sweeps of expired records */

int
cli_config(struct cli *c, const char *file, struct config *cfg)
{
	char path[1024], err[512];

	config_defaults(cfg);
	if (c->data != NULL) {
		snprintf(path, sizeof(path), "%s/kleidi.ini", c->data);
		if (access(path, F_OK) == 0 &&
		    config_load(cfg, path, err, sizeof(err)) == -1)
			return cli_fail(c, "config", "%s", err) * -1;
	}
	if (file != NULL && config_load(cfg, file, err, sizeof(err)) == -1)
		return cli_fail(c, "config", "%s", err) * -1;
	return 0;
}

/* The issuer is an https URL (or http on loopback for development) with
 * no query, fragment or trailing slash (OpenID Connect Discovery 3). */
static int
issuer_valid(const char *s)
{
	size_t n = strlen(s);

	return valid_redirect_uri(s) && strchr(s, '?') == NULL && n > 0 &&
	    s[n - 1] != '/';
}

static int
init_store(struct cli *c, const char *issuer)
{
	char path[1024], err[256], stamp[32];
	struct store *st = NULL;
	struct store_txn *txn;
	int rc;

	snprintf(path, sizeof(path), "%s/store", c->data);
	if (store_create(path, err, sizeof(err)) != STORE_OK ||
	    store_open(path, &st, err, sizeof(err)) != STORE_OK)
		return cli_fail(c, "store", "%s", err);
	snprintf(stamp, sizeof(stamp), "%" PRId64, clock_now());
	rc = store_begin(st, 1, &txn);
	if (rc == STORE_OK && (store_meta_put(txn, "issuer", issuer) ||
	    store_meta_put(txn, "created", stamp))) {
		store_abort(txn);
		rc = STORE_ERROR;
	} else if (rc == STORE_OK)
		rc = store_commit(txn);
	store_close(st);
	return rc == STORE_OK ? 0 : cli_fail(c, "store", "cannot record the "
	    "issuer in %s", path);
}

int
cli_init(struct cli *c, int argc, char **argv)
{
	const char *issuer = NULL, *pos[1];
	const struct cli_opt opts[] = { { "issuer", &issuer, 0, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	char path[1024], err[256];

	if (cli_parse(c, argc, argv, 1, opts, pos, 0) == -1)
		return 2;
	if (c->data == NULL || issuer == NULL)
		return cli_fail(c, "usage", "usage: kleidi init --data DIR "
		    "--issuer URL") + 1;
	if (!issuer_valid(issuer))
		return cli_fail(c, "invalid", "issuer must be an https URL (or "
		    "http on 127.0.0.1/localhost) without query, fragment or "
		    "trailing slash");
	if (mkdir(c->data, 0700) == -1 && errno != EEXIST)
		return cli_fail(c, "io", "%s: %s", c->data, strerror(errno));
	snprintf(path, sizeof(path), "%s/store", c->data);
	if (access(path, F_OK) == 0)
		return cli_fail(c, "exists", "%s already holds a store; "
		    "refusing to overwrite it", c->data);
	snprintf(path, sizeof(path), "%s/keys", c->data);
	if (keys_init(path, clock_now(), err, sizeof(err)) == -1)
		return cli_fail(c, "keys", "%s", err);
	if (init_store(c, issuer) != 0)
		return 1;
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s}", "data", c->data, "issuer",
		    issuer);
		cli_print_json(c, j);
		json_decref(j);
	} else
		(void)fprintf(c->out, "initialised %s for issuer %s\n",
		    c->data, issuer);
	return 0;
}

/* "127.0.0.1:8080" or "[::1]:8080" into address and port. */
static int
listen_parse(const char *s, char *addr, size_t size, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long p;
	size_t n;

	if (colon == NULL)
		return -1;
	n = (size_t)(colon - s);
	if (n > 1 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= size)
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}

static const char *
templates_dir(const struct config *cfg)
{
	if (cfg->templates[0] != '\0')
		return cfg->templates;
	if (getenv("KLEIDI_TEMPLATES") != NULL)
		return getenv("KLEIDI_TEMPLATES");
	return KLEIDI_TEMPLATES_DIR;
}

/* Applies the employee registry's changes that fell due (import.h). */
static void
serve_apply_due(struct idp *idp)
{
	const struct registry_actor who = { &idp->audit, "system:registry",
		"local" };
	struct import_report rep;
	struct registry_err e;

	if (registry_apply_due(idp->store, &who, clock_now(), &rep, &e) !=
	    REG_OK)
		log_err("registry: scheduled changes not applied: %s", e.msg);
	else if (rep.rows > 0)
		log_info("registry: %zu scheduled changes applied, %zu refused",
		    rep.rows - rep.nerrors, rep.nerrors);
}

/* SIGHUP: the key folder now, and the configuration as it loads now:
 * its live settings apply at once, the others are logged as waiting for
 * a restart (idp_reload); a file that does not load changes nothing. */
static void
serve_reload(struct cli *c, struct idp *idp, const char *file)
{
	struct config *now = malloc(sizeof(*now));

	log_info("reload: SIGHUP: keys %s",
	    keyring_check(idp->keyring, clock_now(), 1) == KEYRING_REFUSED ?
	    "refused, the old ones kept" : "reloaded");
	if (now == NULL)
		return;
	if (cli_config(c, file, now) == -1)
		log_err("reload: the configuration does not load; the running "
		    "one is kept");
	else
		(void)idp_reload(idp, now);
	/* It may hold the SMS gateway's credentials. */
	wipe(now, sizeof(*now));
	free(now);
}

/* Waits for SIGINT/SIGTERM, sweeping expired records and applying due
 * registry changes meanwhile; SIGHUP reloads the signing keys and the
 * configuration. */
static void
serve_wait(struct cli *c, struct idp *idp, const sigset_t *sigs,
    const char *file)
{
	struct timespec ts = { SWEEP_INTERVAL, 0 };
	size_t removed;
	int sig;

	for (;;) {
		sig = sigtimedwait(sigs, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			return;
		if (sig == SIGHUP) {
			serve_reload(c, idp, file);
			continue;
		}
		if (sig != -1 || errno != EAGAIN)
			continue;
		if (store_sweep(idp->store, clock_now(), &removed) ==
		    STORE_OK && removed > 0)
			log_info("swept %zu expired records", removed);
		serve_apply_due(idp);
	}
}

/* The signals serve_wait takes, blocked in the calling thread and so in
 * every thread started after: call it before idp_open starts the pools
 * and the logout sender. A thread that left them unblocked would take a
 * signal whenever the main thread is busy (a sweep, a reload) and end
 * the process by the default action. */
static void
serve_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

static int
serve_run(struct cli *c, struct idp *idp, const char *listen,
    const char *file, const sigset_t *sigs)
{
	struct http_server_config hc;
	struct http_server *srv;
	char addr[128], err[256], statics[600];

	memset(&hc, 0, sizeof(hc));
	if (listen_parse(listen, addr, sizeof(addr), &hc.port) == -1)
		return cli_fail(c, "usage", "--listen takes ADDRESS:PORT, e.g. "
		    "127.0.0.1:8080");
	snprintf(statics, sizeof(statics), "%s/static",
	    templates_dir(&idp->cfg));
	hc.address = addr;
	hc.threads = idp->cfg.http_threads;
	hc.body_max = idp->cfg.body_max;
	hc.header_max = idp->cfg.header_max;
	hc.fields_max = idp->cfg.fields_max;
	hc.token_max = idp->cfg.token_max;
	hc.conn_timeout = idp->cfg.conn_timeout;
	hc.conn_limit = idp->cfg.conn_limit;
	hc.per_ip_limit = idp->cfg.per_ip_limit;
	hc.routes = oidc_routes(&hc.nroutes);
	hc.static_dir = statics;
	hc.secure_cookies = idp->https;
	hc.app = idp;
	hc.on_done = metrics_on_done;
	hc.offload = idp->writers;	/* the routes that write: http.h */
	/* Picks up `kleidi keys rotate` and keys that start or retire. */
	if (keyring_watch(idp->keyring, KEYRING_WATCH_INTERVAL) == -1)
		return cli_fail(c, "keys", "cannot watch the key folder");
	if ((srv = http_server_start(&hc, err, sizeof(err))) == NULL)
		return cli_fail(c, "listen", "%s", err);
	(void)fprintf(c->out, "kleidi: serving issuer %s on http://%s%s%s:%u\n",
	    idp->issuer, strchr(addr, ':') ? "[" : "", addr,
	    strchr(addr, ':') ? "]" : "", http_server_port(srv));
	(void)fflush(c->out);
	serve_wait(c, idp, sigs, file);
	/* SIGTERM drains: no new connections, requests in flight (those
	 * waiting on the password pool too) are answered, then exit 0. */
	log_info("stopping: draining requests in flight");
	if (http_server_stop(srv) == -1) {
		/* Its threads still run handlers that use the store, the
		 * pools and the keys: closing them now would pull them from
		 * under those threads. Every acknowledged write is durable
		 * (crash-safe store), so end here, not cleanly. */
		log_err("stopping: requests still in flight; exiting without "
		    "closing");
		_exit(1);
	}
	log_info("stopped");
	return 0;
}

int
cli_serve(struct cli *c, int argc, char **argv)
{
	const char *listen = NULL, *file = NULL, *pos[1];
	const struct cli_opt opts[] = { { "listen", &listen, 0, 0, 0, 0 },
		{ "config", &file, 0, 0, 0, 0 }, { NULL, 0, 0, 0, 0, 0 } };
	struct config cfg;
	struct idp idp;
	sigset_t sigs;
	char err[512];
	int rc;

	if (cli_parse(c, argc, argv, 1, opts, pos, 0) == -1)
		return 2;
	if (c->data == NULL)
		return cli_fail(c, "usage", "no data folder: give --data DIR "
		    "or set KLEIDI_DATA") + 1;
	if (cli_config(c, file, &cfg) == -1)
		return 1;
	serve_signals(&sigs);
	/* A fixed threshold for mmap'd blocks: glibc's moving one rises to
	 * the size of each large block freed (argon2id's 64 MiB, LMDB's
	 * 2 MiB dirty lists of a nested transaction), after which such
	 * blocks come from the heap of each thread's arena and stay
	 * resident, some MiB for every pool thread (the bench's sign-in
	 * flow peaked at 185 MiB with it, 161 MiB without). */
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	if (idp_open(&idp, c->data, &cfg, templates_dir(&cfg), err,
	    sizeof(err)) == -1)
		return cli_fail(c, "start", "%s", err);
	metrics_reset();
	rc = serve_run(c, &idp, listen != NULL ? listen : cfg.listen, file,
	    &sigs);
	idp_close(&idp);
	return rc;
}
