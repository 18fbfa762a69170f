/* reload.c - what SIGHUP can and cannot change in a running server. */
#include <stddef.h>
#include <string.h>

#include "config/config.h"
#include "ops.h"
#include "util/util.h"

/* Every setting of struct config. None is applied live: handlers read
 * idp->cfg without a lock, and several are baked in at start (the HTTP
 * daemon's limits, the pools, the SMS gateway, the token issuer), so a
 * change waits for a restart; SIGHUP says which, and refuses a file that
 * would not load, before the restart finds out. Keys reload live
 * (keyring.h). */
#define CF(name, field) { name, offsetof(struct config, field), \
	sizeof(((struct config *)0)->field) }
static const struct {
	const char *name;
	size_t off, size;
} reload_fields[] = {
	CF("server.listen", listen), CF("server.templates", templates),
	CF("server.http_threads", http_threads),
	CF("server.conn_timeout", conn_timeout),
	CF("server.conn_limit", conn_limit),
	CF("server.per_ip_limit", per_ip_limit),
	CF("server.body_max", body_max), CF("server.header_max", header_max),
	CF("server.fields_max", fields_max), CF("server.token_max", token_max),
	CF("password.argon2_t_cost", argon2_t_cost),
	CF("password.argon2_m_cost_kib", argon2_m_cost_kib),
	CF("password.argon2_parallelism", argon2_parallelism),
	CF("password.pool_workers", pool_workers),
	CF("password.pool_queue", pool_queue),
	CF("tokens.code_ttl", code_ttl), CF("tokens.access_ttl", access_ttl),
	CF("tokens.id_ttl", id_ttl), CF("tokens.session_ttl", session_ttl),
	CF("tokens.flow_ttl", flow_ttl), CF("tokens.refresh_ttl", refresh_ttl),
	CF("tokens.leeway", leeway), CF("keys.publish_delay", publish_delay),
	CF("policy.employee_factors", employee_factors),
	CF("limits.signin_burst", signin_burst),
	CF("limits.signin_refill_ms", signin_refill_ms),
	CF("sms.*", sms),
};

size_t
ops_config_diff(const struct config *running, const struct config *file)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(reload_fields) / sizeof(reload_fields[0]);
	    i++) {
		if (memcmp((const char *)running + reload_fields[i].off,
		    (const char *)file + reload_fields[i].off,
		    reload_fields[i].size) == 0)
			continue;
		log_warn("reload: %s changed; it takes effect after a restart",
		    reload_fields[i].name);
		n++;
	}
	return n;
}
