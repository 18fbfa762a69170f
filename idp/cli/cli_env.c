/* cli_env.c - the store, the keyset and the audit key for a command, and
 * where the operator works from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "cli_int.h"
#include "util/util.h"

/* "From where" for the audit log: the SSH client's address when the
 * operator came in over SSH (first word of SSH_CONNECTION), else the
 * console of this host. */
static void
cli_env_addr(char *out, size_t size)
{
	const char *s = getenv("SSH_CONNECTION");
	size_t n;

	str_copy(out, "local", size);
	if (s == NULL)
		return;
	n = strspn(s, "0123456789abcdefABCDEF:.");
	if (n == 0 || n >= size || (s[n] != ' ' && s[n] != '\0'))
		return;
	memcpy(out, s, n);
	out[n] = '\0';
}

int
cli_env_open(struct cli *c, struct cli_env *env)
{
	char path[1024], err[256];

	memset(env, 0, sizeof(*env));
	if ((env->st = cli_store_open(c)) == NULL)
		return -1;
	(void)snprintf(path, sizeof(path), "%s/keys", c->data);
	if ((env->ks = keyset_load(path, clock_now(), err, sizeof(err))) ==
	    NULL) {
		cli_fail(c, "keys", "%s", err);
		goto fail;
	}
	if (audit_init(&env->audit, env->ks) == -1) {
		cli_fail(c, "keys", "cannot derive the audit log key");
		goto fail;
	}
	cli_env_addr(env->addr, sizeof(env->addr));
	env->who.audit = &env->audit;
	env->who.actor = c->actor != NULL ? c->actor : "operator:?";
	env->who.addr = env->addr;
	return 0;
fail:
	cli_env_close(env);
	return -1;
}

void
cli_env_close(struct cli_env *env)
{
	if (env == NULL)
		return;
	store_close(env->st);
	keyset_free(env->ks);
	audit_clear(&env->audit);
	memset(env, 0, sizeof(*env));
}
