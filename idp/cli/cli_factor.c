/* cli_factor.c - `user totp` and `user recovery`: an operator enrols an
 * authenticator app for a person, or gives them a new set of recovery
 * codes. The secrets are printed here once and never again. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "authn/factor.h"
#include "cli_env.h"
#include "cli_int.h"

/* The issuer an authenticator app shows above the account name. */
#define CLI_TOTP_ISSUER "Kleidi"

/* What both commands need: the store, keys and audit key (env), the
 * second-factor keys, the user. */
struct cli_factor {
	struct cli_env env;
	struct factor_keys keys;
	struct user user;
};

/* Records the command in the audit log as the operator's, after the
 * change (the factor services run their own transaction). */
static void
cli_factor_audit(struct cli *c, struct cli_factor *f, const char *action,
    const char *outcome, const char *subject, const char *detail)
{
	struct audit_event ev = { f->env.who.actor, action, outcome, subject,
		NULL, f->user.org[0] != '\0' ? f->user.org : NULL,
		f->env.addr, detail };

	if (audit_log(&f->env.audit, f->env.st, &ev) == -1)
		(void)fprintf(c->err, "kleidi: warning: %s was not recorded "
		    "in the audit log\n", action);
}

/* Parses USERNAME, opens the store and keys, finds the user. 0, or the
 * exit status with the failure printed (and audited when the store is
 * open); nothing is left open then. */
static int
cli_factor_begin(struct cli *c, int argc, char **argv, const char *action,
    struct cli_factor *f)
{
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };
	struct store_txn *txn = NULL;
	const char *pos[1];
	int rc;

	memset(f, 0, sizeof(*f));
	if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
		return 2;
	if (cli_env_open(c, &f->env) == -1)
		return 1;
	if (factor_keys_init(&f->keys, f->env.ks) == -1) {
		rc = cli_fail(c, "keys", "cannot derive the second-factor "
		    "keys from the master key");
		goto fail;
	}
	rc = store_begin(f->env.st, 0, &txn);
	if (rc == STORE_OK)
		rc = store_user_get_by_name(txn, pos[0], &f->user);
	store_abort(txn);
	if (rc == STORE_OK)
		return 0;
	cli_factor_audit(c, f, action, rc == STORE_NOTFOUND ? "refused" :
	    "error", pos[0], rc == STORE_NOTFOUND ? "no such user" :
	    "store error");
	rc = rc == STORE_NOTFOUND ? cli_fail(c, "not_found", "no user %s",
	    pos[0]) : cli_fail(c, "store", "cannot read user %s", pos[0]);
fail:
	factor_keys_clear(&f->keys);
	cli_env_close(&f->env);
	return rc;
}

static void
cli_factor_end(struct cli_factor *f)
{
	factor_keys_clear(&f->keys);
	cli_env_close(&f->env);
	wipe(&f->user, sizeof(f->user));
}

/* kleidi user totp USERNAME: enrols and activates at once, since the
 * operator hands the secret over out of band. */
int
cli_user_totp(struct cli *c, int argc, char **argv)
{
	char secret[TOTP_SECRET_B32], uri[TOTP_URI_MAX];
	struct cli_factor f;
	json_t *j;
	int rc;

	if ((rc = cli_factor_begin(c, argc, argv, "user.totp", &f)) != 0)
		return rc;
	rc = totp_enrol(&f.keys, f.env.st, f.user.id, CLI_TOTP_ISSUER,
	    f.user.username, 1, secret, uri);
	cli_factor_audit(c, &f, "user.totp", rc == 0 ? "ok" : "error",
	    f.user.username, rc == 0 ? "enrolled, active" : NULL);
	if (rc == -1) {
		rc = cli_fail(c, "error", "cannot enrol TOTP for %s",
		    f.user.username);
		goto done;
	}
	if (c->json) {
		j = json_pack("{s:s, s:s, s:s}", "username", f.user.username,
		    "secret", secret, "otpauth_uri", uri);
		cli_print_json(c, j);
		json_decref(j);
	} else
		(void)fprintf(c->out, "TOTP for %s enrolled and active; "
		    "secret %s; %s\n", f.user.username, secret, uri);
done:
	wipe(secret, sizeof(secret));
	wipe(uri, sizeof(uri));
	cli_factor_end(&f);
	return rc;
}

static void
cli_recovery_print(struct cli *c, const char *username,
    char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1])
{
	json_t *j, *a;
	int i;

	if (!c->json) {
		(void)fprintf(c->out, "recovery codes for %s (each works "
		    "once; the old set no longer works):", username);
		for (i = 0; i < RECOVERY_CODES; i++)
			(void)fprintf(c->out, " %s", codes[i]);
		(void)fputc('\n', c->out);
		return;
	}
	a = json_array();
	for (i = 0; a != NULL && i < RECOVERY_CODES; i++)
		json_array_append_new(a, json_string(codes[i]));
	j = json_pack("{s:s, s:o}", "username", username, "codes", a);
	cli_print_json(c, j);
	json_decref(j);
}

/* kleidi user recovery USERNAME: a new set of recovery codes, shown once;
 * the old set stops working. */
int
cli_user_recovery(struct cli *c, int argc, char **argv)
{
	char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	struct cli_factor f;
	int rc;

	if ((rc = cli_factor_begin(c, argc, argv, "user.recovery", &f)) != 0)
		return rc;
	rc = recovery_generate(&f.keys, f.env.st, f.user.id, codes);
	cli_factor_audit(c, &f, "user.recovery", rc == 0 ? "ok" : "error",
	    f.user.username, rc == 0 ? "new set of recovery codes" : NULL);
	if (rc == -1)
		rc = cli_fail(c, "error", "cannot create recovery codes for %s",
		    f.user.username);
	else
		cli_recovery_print(c, f.user.username, codes);
	wipe(codes, sizeof(codes));
	cli_factor_end(&f);
	return rc;
}
