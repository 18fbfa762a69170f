/* cli_env.h - internal to idp/cli: what a command that changes the
 * registry or reads the audit log needs open. */
#ifndef KLEIDI_CLI_ENV_H
#define KLEIDI_CLI_ENV_H

#include "audit/audit.h"
#include "cli.h"
#include "keys.h"
#include "registry/registry.h"

struct cli_env {
	struct store *st;
	keyset *ks;
	struct audit audit;		/* the chain key, from ks */
	struct registry_actor who;	/* c->actor, from addr */
	char addr[AUDIT_ADDR_SIZE];
};

/* Opens DATA/store and DATA/keys and derives the audit key, so that every
 * change the command makes is recorded as the operator's (c->actor). Prints
 * the failure and returns -1 (env then holds nothing to close). */
int cli_env_open(struct cli *c, struct cli_env *env);
void cli_env_close(struct cli_env *env);	/* wipes the keys */

#endif
