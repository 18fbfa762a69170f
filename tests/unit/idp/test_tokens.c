/* test_tokens.c - the claims of ID and access tokens, checked through the
 * SDK against a keyset made for the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "authn/authn.h"
#include "kleidi.h"
#include "tokens/tokens.h"

#define ISSUER "https://sso.example.gr"

static char dir[64];
static keyset *ks;
static kl_verifier *v;
static struct token_issuer ti;

static int
setup(void **state)
{
	char path[128], err[256];
	const char *jwks;
	kl_error kerr;

	(void)state;
	str_copy(dir, "/tmp/kleidi-tok-XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	assert_int_equal(keys_init(path, time(NULL), err, sizeof(err)), 0);
	assert_non_null(ks = keyset_load(path, time(NULL), err, sizeof(err)));
	jwks = keyset_jwks(ks);
	assert_non_null(v = kl_verifier_new_jwks(ISSUER, jwks, strlen(jwks),
	    NULL, &kerr));
	ti = (struct token_issuer){ ks, ISSUER, 600, 300, KEY_ES256, { 0 } };
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	kl_verifier_free(v);
	keyset_free(ks);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
fixture(struct user *u, struct app *a, json_t **roles)
{
	memset(u, 0, sizeof(*u));
	memset(a, 0, sizeof(*a));
	str_copy(u->id, "AAAAAAAAAAAAAAAAAAAAAA", sizeof(u->id));
	str_copy(u->org, "town", sizeof(u->org));
	str_copy(a->client_id, "payroll", sizeof(a->client_id));
	a->id_token_alg = KEY_RS256;
	*roles = json_pack("[s, s]", "clerk", "approver");
}

static void
test_access_token(void **state)
{
	struct user u;
	struct app a;
	json_t *roles;
	kl_claims *c = NULL;
	kl_error err;
	char *at, *at2;
	int64_t now = time(NULL);

	(void)state;
	fixture(&u, &a, &roles);
	struct token_grant g = { &u, &a, "openid email", NULL, now - 5,
		AMR_PWD | AMR_OTP, roles, NULL, NULL, NULL };
	assert_non_null(at = token_issue_access(&ti, &g, now));
	assert_int_equal(kl_verify_access_token(v, at, "payroll", &c, &err),
	    KL_OK);
	assert_string_equal(kl_claims_sub(c), u.id);
	assert_string_equal(kl_claims_client_id(c), "payroll");
	assert_string_equal(kl_claims_org(c), "town");
	assert_string_equal(kl_claims_user_type(c), "employee");
	assert_string_equal(kl_claims_acr(c), ACR_SUBSTANTIAL);
	assert_true(kl_claims_has_amr(c, "pwd"));
	assert_true(kl_claims_has_amr(c, "otp"));
	assert_true(kl_claims_has_amr(c, "mfa"));
	assert_true(kl_claims_has_role(c, "approver"));
	assert_true(kl_claims_has_scope(c, "email"));
	assert_int_equal(kl_claims_exp(c), now + 600);
	assert_int_equal(kl_claims_auth_time(c), now - 5);
	assert_non_null(kl_claims_string(c, "jti"));
	/* an access token is no ID token */
	kl_claims_free(c);
	assert_int_not_equal(kl_verify_id_token(v, at, "payroll", NULL, &c,
	    &err), KL_OK);
	/* jti differs per token */
	assert_non_null(at2 = token_issue_access(&ti, &g, now));
	assert_string_not_equal(at, at2);
	free(at);
	free(at2);
	json_decref(roles);
}

static void
test_id_token(void **state)
{
	struct user u;
	struct app a;
	json_t *roles;
	kl_claims *c = NULL;
	kl_error err;
	char *it;
	int64_t now = time(NULL);

	(void)state;
	fixture(&u, &a, &roles);
	u.type = USER_CITIZEN;
	struct token_grant g = { &u, &a, "openid", "n-1", now, AMR_PWD,
		roles, NULL, NULL, "sid-1" };
	assert_non_null(it = token_issue_id(&ti, &g, "access-token", now));
	assert_int_equal(kl_verify_id_token(v, it, "payroll", "n-1", &c, &err),
	    KL_OK);
	/* Back-Channel Logout 1.0, 2.1: the session's sid. */
	assert_string_equal(kl_claims_string(c, "sid"), "sid-1");
	assert_string_equal(kl_claims_user_type(c), "citizen");
	assert_null(kl_claims_org(c));		/* citizens have no org */
	assert_string_equal(kl_claims_acr(c), ACR_LOW);
	assert_false(kl_claims_has_amr(c, "mfa"));
	assert_string_equal(kl_claims_string(c, "azp"), "payroll");
	/* at_hash of "access-token": left half of SHA-256, base64url */
	{
		unsigned char h[32];
		char *want;
		sha256("access-token", 12, h);
		want = b64url_encode(h, 16);
		assert_string_equal(kl_claims_string(c, "at_hash"), want);
		free(want);
	}
	kl_claims_free(c);
	assert_int_equal(kl_verify_id_token(v, it, "payroll", "other", &c,
	    &err), KL_ERR_NONCE);
	free(it);
	json_decref(roles);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_token),
		cmocka_unit_test(test_id_token),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
