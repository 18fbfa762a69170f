/* cli_registry.c - org, app, user and grant commands: parse, call the
 * registry service, print. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_env.h"
#include "cli_int.h"
#include "config/config.h"
#include "keys.h"
#include "registry/registry.h"

/* Maps a registry result to the exit status, printing a failure. */
static int
cli_reg_result(struct cli *c, int rc, const struct registry_err *e)
{
	static const char *const codes[] = { "ok", "invalid", "exists",
		"not_found", "refused", "error" };

	if (rc == REG_OK)
		return 0;
	return cli_fail(c, codes[rc], "%s", e->msg);
}

static int
cli_done(struct cli *c, json_t *j, const char *summary)
{
	if (c->json)
		cli_print_json(c, j);
	else
		(void)fprintf(c->out, "%s\n", summary);
	json_decref(j);
	return 0;
}

/* org sms-cap CODE N: the organisation's monthly SMS cap, 0 for none. */
static int
cli_org_sms_cap(struct cli *c, int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };
	struct registry_err e;
	const char *pos[2];
	struct cli_env env;
	char line[128], *end;
	long long cap;
	int rc;

	if (cli_parse(c, argc, argv, 2, opts, pos, 2) == -1)
		return 2;
	errno = 0;
	cap = strtoll(pos[1], &end, 10);
	if (pos[1][0] < '0' || pos[1][0] > '9' || *end != '\0' || errno != 0)
		return cli_fail(c, "usage", "org sms-cap CODE N: N is a whole "
		    "number of SMS a month, 0 for no cap") + 1;
	if (cli_env_open(c, &env) == -1)
		return 1;
	rc = registry_org_set_sms_cap(env.st, &env.who, pos[0], (int64_t)cap,
	    &e);
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_reg_result(c, rc, &e);
	if (cap == 0)
		snprintf(line, sizeof(line), "organisation %s: no SMS cap",
		    pos[0]);
	else
		snprintf(line, sizeof(line), "organisation %s: at most %lld "
		    "SMS a month", pos[0], cap);
	return cli_done(c, json_pack("{s:s, s:I}", "code", pos[0],
	    "sms_monthly_cap", (json_int_t)cap), line);
}

int
cli_org(struct cli *c, int argc, char **argv)
{
	const char *pos[2], *name = NULL;
	const struct cli_opt opts[] = { { "name", &name, 0, 0, 0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	struct registry_err e;
	struct cli_env env;
	char line[256];
	int rc;

	if (argc >= 2 && strcmp(argv[1], "sms-cap") == 0)
		return cli_org_sms_cap(c, argc, argv);
	if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1],
	    "subscribe")))
		return cli_fail(c, "usage", "usage: org add CODE --name NAME | "
		    "org subscribe CODE APP | org sms-cap CODE N") + 1;
	if (strcmp(argv[1], "add") == 0) {
		if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
			return 2;
		if (name == NULL)
			return cli_fail(c, "usage", "org add needs --name") + 1;
	} else if (cli_parse(c, argc, argv, 2, opts + 1, pos, 2) == -1)
		return 2;
	if (cli_env_open(c, &env) == -1)
		return 1;
	if (strcmp(argv[1], "add") == 0) {
		rc = registry_org_add(env.st, &env.who, pos[0], name, &e);
		snprintf(line, sizeof(line), "organisation %s added", pos[0]);
	} else {
		rc = registry_org_subscribe(env.st, &env.who, pos[0],
		    pos[1], &e);
		snprintf(line, sizeof(line), "organisation %s subscribes to %s",
		    pos[0], pos[1]);
	}
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_reg_result(c, rc, &e);
	return cli_done(c, strcmp(argv[1], "add") == 0 ?
	    json_pack("{s:s, s:s}", "code", pos[0], "name", name) :
	    json_pack("{s:s, s:s}", "org", pos[0], "app", pos[1]), line);
}

static int
cli_app_audience(const char *s, int *out)
{
	if (s == NULL || strcmp(s, "employees") == 0)
		*out = AUD_EMPLOYEES;
	else if (strcmp(s, "citizens") == 0)
		*out = AUD_CITIZENS;
	else if (strcmp(s, "both") == 0)
		*out = AUD_BOTH;
	else
		return -1;
	return 0;
}

static json_t *
cli_app_json(const struct app *a, const char *secret)
{
	static const char *const aud[] = { "employees", "citizens", "both" };
	json_t *j, *uris = json_array();
	int i;

	for (i = 0; i < a->n_redirect_uris; i++)
		json_array_append_new(uris, json_string(a->redirect_uris[i]));
	j = json_pack("{s:s, s:s, s:o, s:b, s:s, s:b, s:s}", "client_id",
	    a->client_id, "name", a->name, "redirect_uris", uris, "public",
	    a->public_client, "audience", aud[a->audience], "require_2fa",
	    a->require_2fa, "id_token_alg",
	    key_alg_name((enum key_alg)a->id_token_alg));
	if (j != NULL && a->admin_client)
		json_object_set_new(j, "admin_client", json_true());
	if (j != NULL && a->pairwise)
		json_object_set_new(j, "pairwise", json_true());
	if (j != NULL && a->refresh)
		json_object_set_new(j, "refresh", json_true());
	if (j != NULL && secret[0] != '\0')
		json_object_set_new(j, "client_secret", json_string(secret));
	return j;
}

int
cli_app(struct cli *c, int argc, char **argv)
{
	struct app_spec s;
	const char *pos[1], *aud = NULL, *alg = "RS256";
	const struct cli_opt opts[] = {
		{ "name", &s.name, 0, 0, 0, 0 },
		{ "redirect-uri", 0, 0, s.redirect_uris, &s.n_redirect_uris,
		    APP_URIS_MAX },
		{ "post-logout-uri", 0, 0, s.post_logout_uris,
		    &s.n_post_logout_uris, APP_URIS_MAX },
		{ "public", 0, &s.public_client, 0, 0, 0 },
		{ "require-2fa", 0, &s.require_2fa, 0, 0, 0 },
		{ "admin-client", 0, &s.admin_client, 0, 0, 0 },
		{ "pairwise", 0, &s.pairwise, 0, 0, 0 },
		{ "refresh", 0, &s.refresh, 0, 0, 0 },
		{ "audience", &aud, 0, 0, 0, 0 },
		{ "id-token-alg", &alg, 0, 0, 0, 0 },
		{ "backchannel-logout-uri", &s.backchannel_logout_uri, 0, 0,
		    0, 0 },
		{ NULL, 0, 0, 0, 0, 0 } };
	char secret[RAND_TOKEN_LEN], line[256];
	struct registry_err e;
	enum key_alg ka;
	struct cli_env env;
	struct app a;
	int rc;

	memset(&s, 0, sizeof(s));
	if (argc < 2 || strcmp(argv[1], "add") != 0)
		return cli_fail(c, "usage", "usage: app add ID --name NAME "
		    "--redirect-uri URI ...") + 1;
	if (cli_parse(c, argc, argv, 2, opts, pos, 1) == -1)
		return 2;
	s.client_id = pos[0];
	if (s.name == NULL || cli_app_audience(aud, &s.audience) == -1 ||
	    key_alg_parse(alg, &ka) == -1)
		return cli_fail(c, "usage", "app add needs --name; --audience "
		    "is employees, citizens or both; --id-token-alg is RS256 "
		    "or ES256") + 1;
	s.id_token_alg = (int)ka;
	if (cli_env_open(c, &env) == -1)
		return 1;
	rc = registry_app_add(env.st, &env.who, &s, secret, &a, &e);
	cli_env_close(&env);
	if (rc != REG_OK)
		return cli_reg_result(c, rc, &e);
	if (a.public_client)
		snprintf(line, sizeof(line), "application %s added (public "
		    "client, PKCE required)", a.client_id);
	else
		snprintf(line, sizeof(line), "application %s added; "
		    "client_secret %s (shown once)", a.client_id, secret);
	rc = cli_done(c, cli_app_json(&a, secret), line);
	wipe(secret, sizeof(secret));
	wipe(line, sizeof(line));
	return rc;
}
