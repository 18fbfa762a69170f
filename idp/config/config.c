/*
 * config.c - one declarative table of settings: section, key, type, range
 * and where it lives in struct config. The ini file may set any of them;
 * anything else is an error naming the line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "util/util.h"

enum cfg_type { CFG_STR, CFG_UINT, CFG_U32, CFG_SIZE, CFG_I64, CFG_INT,
	CFG_LONG };

/* Flags. CFG_LIVE: SIGHUP applies a new value in a running server
 * (settings.h); the others wait for a restart, because they are baked in
 * at start: the HTTP daemon's limits, the pools, the templates, argon2
 * (whose memory cost the pool's size is planned around). */
#define CFG_OWNED 1		/* default set by the module's own
				   *_defaults(), not by def/sdef */
#define CFG_LIVE 2

struct cfg_entry {
	const char *section;
	const char *key;
	enum cfg_type type;
	unsigned flags;
	size_t offset;
	size_t size;		/* bytes in struct config */
	int64_t min, max;
	int64_t def;		/* numbers */
	const char *sdef;	/* strings */
};

#define FIELD_SIZE(f) sizeof(((struct config *)0)->f)
#define STR(s, k, f, d) { s, k, CFG_STR, 0, offsetof(struct config, f), \
	FIELD_SIZE(f), 0, 0, 0, d }
#define NUMF(s, k, t, f, lo, hi, d, fl) { s, k, t, fl, \
	offsetof(struct config, f), FIELD_SIZE(f), lo, hi, d, NULL }
#define NUM(s, k, t, f, lo, hi, d) NUMF(s, k, t, f, lo, hi, d, 0)
#define LIVE(s, k, t, f, lo, hi, d) NUMF(s, k, t, f, lo, hi, d, CFG_LIVE)
/* [sms] takes its defaults from sms_config_defaults(), the one place that
 * knows them. All of it is live: the codes' settings are copied into
 * struct sms, and the gateway's are swapped inside it (sms.h). */
#define SMS_STR(k, f) { "sms", k, CFG_STR, CFG_OWNED | CFG_LIVE, \
	offsetof(struct config, sms.f), FIELD_SIZE(sms.f), 0, 0, 0, NULL }
#define SMS_NUM(k, t, f, lo, hi) { "sms", k, t, CFG_OWNED | CFG_LIVE, \
	offsetof(struct config, sms.f), FIELD_SIZE(sms.f), lo, hi, 0, NULL }

static const struct cfg_entry cfg_table[] = {
	STR("server", "listen", listen, "127.0.0.1:8080"),
	STR("server", "templates", templates, ""),
	NUM("server", "threads", CFG_UINT, http_threads, 0, 256, 0),
	NUM("server", "connection_timeout", CFG_UINT, conn_timeout, 1, 3600,
	    30),
	NUM("server", "connection_limit", CFG_UINT, conn_limit, 1, 100000,
	    1024),
	NUM("server", "per_ip_connection_limit", CFG_UINT, per_ip_limit, 1,
	    100000, 64),
	NUM("server", "body_max", CFG_SIZE, body_max, 1024, 16 << 20,
	    64 * 1024),
	/* libmicrohttpd's memory per connection, which the request line
	 * and headers must fit in (431 past it); its default. */
	NUM("server", "header_max", CFG_SIZE, header_max, 8192, 1 << 20,
	    32 * 1024),
	NUM("server", "fields_max", CFG_SIZE, fields_max, 8, 1024, 64),
	/* Our tokens are 1-2 KB; the SDK takes up to 16 KB. */
	NUM("server", "token_max", CFG_SIZE, token_max, 1024, 65536, 8192),
	/* Requests that wait on the disk (a durable store write: /token,
	 * /revoke, ...) run on these threads, not on the HTTP ones: a
	 * writer waits for an fsync, not for the CPU, and a group commit
	 * holds as many writers as wait together (store.h). 0 runs them on
	 * the HTTP threads. Past write_queue waiting, 503. */
	NUM("server", "write_workers", CFG_UINT, write_workers, 0, 256, 16),
	NUM("server", "write_queue", CFG_UINT, write_queue, 1, 100000, 256),
	/* RFC 9106 second recommended option is t=3, m=64 MiB; these are
	 * the defaults, the operator tunes them to the hardware. */
	NUM("password", "argon2_t_cost", CFG_U32, argon2_t_cost, 1, 64, 3),
	NUM("password", "argon2_m_cost_kib", CFG_U32, argon2_m_cost_kib, 8,
	    4 << 20, 65536),
	NUM("password", "argon2_parallelism", CFG_U32, argon2_parallelism, 1,
	    64, 1),
	NUM("password", "workers", CFG_UINT, pool_workers, 0, 256, 0),
	NUM("password", "queue", CFG_UINT, pool_queue, 1, 100000, 64),
	LIVE("tokens", "code_ttl", CFG_I64, code_ttl, 10, 600, 60),
	LIVE("tokens", "access_ttl", CFG_I64, access_ttl, 60, 86400, 600),
	LIVE("tokens", "id_ttl", CFG_I64, id_ttl, 60, 86400, 600),
	LIVE("tokens", "session_ttl", CFG_I64, session_ttl, 300, 7 * 86400,
	    10 * 3600),
	LIVE("tokens", "flow_ttl", CFG_I64, flow_ttl, 60, 3600, 900),
	/* A working day: sign in once in the morning (RFC 9700 4.14.2
	 * wants a bounded family life). */
	LIVE("tokens", "refresh_ttl", CFG_I64, refresh_ttl, 300, 30 * 86400,
	    8 * 3600),
	LIVE("tokens", "leeway", CFG_I64, leeway, 0, 300, 60),
	/* Longer than /jwks' max-age (300 s) with room to spare. */
	LIVE("keys", "publish_delay", CFG_I64, publish_delay, 0, 30 * 86400,
	    600),
	/* Public-sector sign-in: password plus something held. */
	LIVE("policy", "employee_factors", CFG_UINT, employee_factors, 1, 2, 2),
	LIVE("policy", "admin_factors", CFG_UINT, admin_factors, 1, 2, 2),
	LIVE("limits", "signin_burst", CFG_UINT, signin_burst, 1, 10000, 20),
	LIVE("limits", "signin_refill_ms", CFG_UINT, signin_refill_ms, 1,
	    3600000, 3000),
	SMS_STR("gateway", gateway),		/* outbox | http */
	SMS_STR("outbox", outbox),
	SMS_STR("url", url),
	SMS_STR("username", username),
	SMS_STR("password", password),
	SMS_STR("template", template_),
	SMS_NUM("timeout_ms", CFG_LONG, timeout_ms, 100, 120000),
	SMS_NUM("code_ttl", CFG_I64, code_ttl, 60, 1800),
	SMS_NUM("max_attempts", CFG_INT, max_attempts, 1, 20),
	SMS_NUM("resend_after", CFG_I64, resend_after, 0, 3600),
	SMS_NUM("max_sends", CFG_INT, max_sends, 1, 50),
	SMS_NUM("per_phone_hour", CFG_UINT, per_phone_hour, 1, 100000),
	SMS_NUM("per_user_hour", CFG_UINT, per_user_hour, 1, 100000),
	SMS_NUM("per_addr_hour", CFG_UINT, per_addr_hour, 1, 1000000),
};

#define CFG_N (sizeof(cfg_table) / sizeof(cfg_table[0]))

static void
cfg_store_num(struct config *cfg, const struct cfg_entry *e, int64_t v)
{
	char *p = (char *)cfg + e->offset;

	switch (e->type) {
	case CFG_UINT: *(unsigned *)(void *)p = (unsigned)v; break;
	case CFG_U32: *(uint32_t *)(void *)p = (uint32_t)v; break;
	case CFG_SIZE: *(size_t *)(void *)p = (size_t)v; break;
	case CFG_I64: *(int64_t *)(void *)p = v; break;
	case CFG_INT: *(int *)(void *)p = (int)v; break;
	case CFG_LONG: *(long *)(void *)p = (long)v; break;
	case CFG_STR: break;
	}
}

void
config_defaults(struct config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	sms_config_defaults(&cfg->sms);
	for (i = 0; i < CFG_N; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		if (e->flags & CFG_OWNED)
			continue;
		if (e->type == CFG_STR)
			str_copy((char *)cfg + e->offset, e->sdef, e->size);
		else
			cfg_store_num(cfg, e, e->def);
	}
}

struct cfg_parse {
	struct config *cfg;
	char *err;
	size_t errlen;
	int failed;
};

static int
cfg_set(const struct cfg_entry *e, struct cfg_parse *cp, const char *value)
{
	char *end;
	long long v;

	if (e->type == CFG_STR) {
		if (strlen(value) >= e->size)
			return -1;
		str_copy((char *)cp->cfg + e->offset, value, e->size);
		return 0;
	}
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < e->min ||
	    v > e->max)
		return -1;
	cfg_store_num(cp->cfg, e, v);
	return 0;
}

static int
cfg_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct cfg_parse *cp = user;
	size_t i;

	for (i = 0; i < CFG_N; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		if (strcmp(e->section, section) != 0 ||
		    strcmp(e->key, name) != 0)
			continue;
		if (cfg_set(e, cp, value) == 0)
			return 1;
		if (e->type == CFG_STR)
			snprintf(cp->err, cp->errlen, "[%s] %s: value too long",
			    section, name);
		else
			snprintf(cp->err, cp->errlen,
			    "[%s] %s: expected a whole number from %" PRId64
			    " to %" PRId64, section, name, e->min, e->max);
		cp->failed = 1;
		return 0;
	}
	snprintf(cp->err, cp->errlen, "[%s] %s: unknown setting", section,
	    name);
	cp->failed = 1;
	return 0;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct cfg_parse cp = { cfg, err, errlen, 0 };
	char msg[256];
	int rc;

	msg[0] = '\0';
	cp.err = msg;
	cp.errlen = sizeof(msg);
	rc = ini_parse(path, cfg_handler, &cp);
	if (rc == 0)
		return 0;
	if (rc == -1)
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
	else if (cp.failed)
		snprintf(err, errlen, "%s:%d: %s", path, rc, msg);
	else
		snprintf(err, errlen, "%s:%d: syntax error", path, rc);
	return -1;
}

size_t
config_diff(const struct config *a, const struct config *b,
    config_diff_fn fn, void *arg)
{
	size_t i, n = 0;

	for (i = 0; i < CFG_N; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		const char *pa = (const char *)a + e->offset;
		const char *pb = (const char *)b + e->offset;
		/* A string's bytes past its NUL are not part of it. */
		if (e->type == CFG_STR ? strncmp(pa, pb, e->size) == 0 :
		    memcmp(pa, pb, e->size) == 0)
			continue;
		if (fn != NULL)
			fn(e->section, e->key, (e->flags & CFG_LIVE) != 0, arg);
		n++;
	}
	return n;
}

void
config_take_live(struct config *run, const struct config *file)
{
	size_t i;

	for (i = 0; i < CFG_N; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		if (e->flags & CFG_LIVE)
			memcpy((char *)run + e->offset,
			    (const char *)file + e->offset, e->size);
	}
}
