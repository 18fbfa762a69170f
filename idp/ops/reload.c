/*
 * reload.c - what SIGHUP changed in a running server, as the log tells
 * the operator. Which settings apply live and which wait for a restart is
 * a flag of config.c's table (CFG_LIVE); idp_reload (oidc/context.c)
 * applies the live ones. Keys reload live too (keyring.h).
 */
#include <stddef.h>

#include "config/config.h"
#include "ops.h"
#include "util/util.h"

/* Names only: a value may be a secret (the SMS gateway's password). */
static void
reload_log(const char *section, const char *key, int live, void *arg)
{
	(void)arg;
	if (live)
		log_info("reload: [%s] %s applied", section, key);
	else
		log_warn("reload: [%s] %s changed; it takes effect after a "
		    "restart", section, key);
}

size_t
ops_config_diff(const struct config *running, const struct config *file)
{
	return config_diff(running, file, reload_log, NULL);
}
