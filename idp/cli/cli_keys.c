/*
 * cli_keys.c - `kleidi keys rotate` publishes a new signing key at once and
 * lets it sign after a delay; `kleidi keys list` shows each key's state.
 * A running server picks the change up by itself (oidc/keyring.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_env.h"
#include "cli_int.h"
#include "config/config.h"
#include "keys.h"
#include "util/util.h"

#define DELAY_MAX ((int64_t)30 * 86400)	/* as [keys] publish_delay */

/* "2024-05-01T09:30:00Z", or "-" for 0 (not scheduled). */
static void
keys_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		str_copy(out, "-", 32);
}

static json_t *
keys_info_json(const struct key_info *k)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "kid", k->kid,
	    "alg", key_alg_name(k->alg), "created", (json_int_t)k->created,
	    "not_before", (json_int_t)k->not_before, "retire_after",
	    (json_int_t)k->retire_after, "state", key_state_name(k->state));
}

/* --alg RS256|ES256|all into a KEYS_ALG_BIT mask; -1 on anything else. */
static int
keys_parse_alg(const char *s, unsigned *algs)
{
	enum key_alg alg;

	if (s == NULL || strcmp(s, "all") == 0) {
		*algs = KEYS_ALG_ALL;
		return 0;
	}
	if (key_alg_parse(s, &alg) == -1)
		return -1;
	*algs = KEYS_ALG_BIT(alg);
	return 0;
}

static int
keys_parse_delay(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL)
		return 0;	/* the configured default stays */
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 ||
	    v > DELAY_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static void
keys_audit(struct cli *c, struct cli_env *env, const char *outcome,
    const char *detail)
{
	struct audit_event ev = { env->who.actor, "keys.rotate", outcome,
		NULL, NULL, NULL, env->addr, detail };

	if (audit_log(&env->audit, env->st, &ev) == -1)
		(void)fprintf(c->err, "kleidi: warning: keys.rotate was not "
		    "recorded in the audit log\n");
}

static void
keys_rotate_print(struct cli *c, const struct key_info *added, size_t n,
    int64_t delay, int64_t retire)
{
	char nb[32], ret[32];
	json_t *j, *arr;
	size_t i;

	keys_time(retire, ret);
	if (c->json) {
		arr = json_array();
		for (i = 0; i < n; i++)
			(void)json_array_append_new(arr,
			    keys_info_json(&added[i]));
		j = json_pack("{s:o, s:I, s:I}", "keys", arr, "delay",
		    (json_int_t)delay, "old_retire_after",
		    (json_int_t)retire);
		cli_print_json(c, j);
		json_decref(j);
		return;
	}
	for (i = 0; i < n; i++) {
		keys_time(added[i].not_before, nb);
		(void)fprintf(c->out, "%s key %s published; signs from %s "
		    "(in %" PRId64 " s); the keys it replaces stay published "
		    "until %s\n", key_alg_name(added[i].alg), added[i].kid,
		    nb, delay, ret);
	}
}

/* Rotates with the parsed options; the audit entry records the outcome
 * either way. */
static int
keys_rotate_run(struct cli *c, unsigned algs, int64_t delay,
    int64_t grace)
{
	struct key_info added[2];
	struct cli_env env;
	char path[1024], err[512], detail[256];
	int64_t now = clock_now();
	size_t n = 0, i;
	int len;

	if (cli_env_open(c, &env) == -1)
		return 1;
	(void)snprintf(path, sizeof(path), "%s/keys", c->data);
	if (keys_rotate(path, algs, now, delay, grace, added, &n, err,
	    sizeof(err)) == -1) {
		keys_audit(c, &env, "error", err);
		cli_env_close(&env);
		return cli_fail(c, "keys", "%s", err);
	}
	len = snprintf(detail, sizeof(detail), "delay %" PRId64 " s;", delay);
	for (i = 0; i < n && len > 0 && (size_t)len < sizeof(detail); i++)
		len += snprintf(detail + len, sizeof(detail) - (size_t)len,
		    " %s %s", key_alg_name(added[i].alg), added[i].kid);
	keys_audit(c, &env, "ok", detail);
	cli_env_close(&env);
	keys_rotate_print(c, added, n, delay, now + delay + grace);
	return 0;
}

/* keys rotate [--alg RS256|ES256|all] [--delay SECONDS] */
static int
cli_keys_rotate(struct cli *c, int argc, char **argv)
{
	const char *alg = NULL, *delay_s = NULL, *pos[1];
	const struct cli_opt opts[] = { { "alg", &alg, 0, 0, 0, 0 },
		{ "delay", &delay_s, 0, 0, 0, 0 }, { NULL, 0, 0, 0, 0, 0 } };
	struct config cfg;
	unsigned algs;
	int64_t delay, grace;

	if (cli_parse(c, argc, argv, 2, opts, pos, 0) == -1)
		return 2;
	if (c->data == NULL)
		return cli_fail(c, "usage", "no data folder: give --data DIR "
		    "or set KLEIDI_DATA") + 1;
	if (keys_parse_alg(alg, &algs) == -1)
		return cli_fail(c, "usage", "--alg takes RS256, ES256 or "
		    "all") + 1;
	if (cli_config(c, NULL, &cfg) == -1)
		return 1;
	delay = cfg.publish_delay;
	if (keys_parse_delay(delay_s, &delay) == -1)
		return cli_fail(c, "usage", "--delay takes seconds, 0 to %"
		    PRId64, DELAY_MAX) + 1;
	/* Every token the old key signs until the new one takes over must
	 * verify until it expires, give or take the verifiers' leeway. */
	grace = (cfg.access_ttl > cfg.id_ttl ? cfg.access_ttl : cfg.id_ttl) +
	    cfg.leeway;
	return keys_rotate_run(c, algs, delay, grace);
}

static void
keys_list_print(struct cli *c, const keyset *ks, int64_t now)
{
	char nb[32], ret[32];
	struct key_info k;
	json_t *arr = json_array(), *j;
	size_t i;

	for (i = 0; keyset_key_info(ks, i, now, &k) == 0; i++) {
		if (c->json) {
			(void)json_array_append_new(arr, keys_info_json(&k));
			continue;
		}
		keys_time(k.not_before, nb);
		keys_time(k.retire_after, ret);
		(void)fprintf(c->out, "%-9s %s %s signs from %s, retires %s\n",
		    key_state_name(k.state), key_alg_name(k.alg), k.kid, nb,
		    ret);
	}
	if (c->json) {
		j = json_pack("{s:O}", "keys", arr);
		cli_print_json(c, j);
		json_decref(j);
	}
	json_decref(arr);
}

/* keys list */
static int
cli_keys_list(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	const struct cli_opt opts[] = { { NULL, 0, 0, 0, 0, 0 } };
	char path[1024], err[512];
	int64_t now = clock_now();
	keyset *ks;

	if (cli_parse(c, argc, argv, 2, opts, pos, 0) == -1)
		return 2;
	if (c->data == NULL)
		return cli_fail(c, "usage", "no data folder: give --data DIR "
		    "or set KLEIDI_DATA") + 1;
	(void)snprintf(path, sizeof(path), "%s/keys", c->data);
	if ((ks = keyset_load(path, now, err, sizeof(err))) == NULL)
		return cli_fail(c, "keys", "%s", err);
	keys_list_print(c, ks, now);
	keyset_free(ks);
	return 0;
}

int
cli_keys(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
		return cli_keys_rotate(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cli_keys_list(c, argc, argv);
	return cli_fail(c, "usage", "usage: kleidi keys rotate [--alg "
	    "RS256|ES256|all] [--delay SECONDS] | keys list") + 1;
}
