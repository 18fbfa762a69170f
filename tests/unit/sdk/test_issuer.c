/*
 * test_issuer.c - the SDK against the issuer's own key library (keys.h):
 * the JWKS that keyset_jwks publishes makes a verifier, and the tokens that
 * keyset_sign_jwt signs verify, so the two sides of the contract agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <unistd.h>

#include "keys.h"
#include "mint.h"

static char base[64];
static char dir[96];
static keyset *ks;
static kl_verifier *ver;

static int
setup(void **state)
{
	char err[256];
	const char *jwks;
	kl_options opt;

	(void)state;
	(void)snprintf(base, sizeof(base), "/tmp/kleidi-sdk-issuer-XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	(void)snprintf(dir, sizeof(dir), "%s/keys", base);
	if (keys_init(dir, MINT_NOW - 10, err, sizeof(err)) != 0 ||
	    (ks = keyset_load(dir, MINT_NOW, err, sizeof(err))) == NULL) {
		(void)fprintf(stderr, "keys: %s\n", err);
		return -1;
	}
	jwks = keyset_jwks(ks);
	mint_options(&opt);
	ver = kl_verifier_new_jwks(MINT_ISSUER, jwks, strlen(jwks), &opt,
	    NULL);
	return ver == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	DIR *d;
	struct dirent *e;
	char path[512];

	(void)state;
	kl_verifier_free(ver);
	keyset_free(ks);
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			(void)snprintf(path, sizeof(path), "%s/%s", dir,
			    e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	rmdir(base);
	return 0;
}

static char *
issuer_sign(enum key_alg alg, const char *typ, json_t *claims)
{
	char *json = json_dumps(claims, JSON_COMPACT), *t;

	json_decref(claims);
	assert_non_null(json);
	t = keyset_sign_jwt(ks, alg, typ, json, MINT_NOW);
	free(json);
	assert_non_null(t);
	return t;
}

static void
test_access_tokens(void **state)
{
	enum key_alg algs[2] = { KEY_RS256, KEY_ES256 };
	kl_claims *c;
	char *t;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		t = issuer_sign(algs[i], "at+jwt", mint_access_claims());
		assert_int_equal(kl_verify_access_token(ver, t, MINT_AUDIENCE,
		    &c, NULL), KL_OK);
		assert_string_equal(kl_claims_org(c), "ATH01");
		assert_true(kl_claims_has_role(c, "clerk"));
		kl_claims_free(c);
		/* The issuer's ID-token typ is not an access token's. */
		assert_int_equal(kl_verify_id_token(ver, t, "payroll-web",
		    NULL, NULL, NULL), KL_ERR_TYPE);
		free(t);
	}
}

static void
test_id_tokens(void **state)
{
	char *t;

	(void)state;
	/* typ NULL: the key library writes "JWT". */
	t = issuer_sign(KEY_ES256, NULL, mint_id_claims("n1"));
	assert_int_equal(kl_verify_id_token(ver, t, "payroll-web", "n1", NULL,
	    NULL), KL_OK);
	assert_int_equal(kl_verify_access_token(ver, t, "payroll-web", NULL,
	    NULL), KL_ERR_TYPE);
	free(t);
	t = issuer_sign(KEY_RS256, "JWT", mint_id_claims(NULL));
	assert_int_equal(kl_verify_id_token(ver, t, "payroll-web", NULL, NULL,
	    NULL), KL_OK);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_tokens),
		cmocka_unit_test(test_id_tokens),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
