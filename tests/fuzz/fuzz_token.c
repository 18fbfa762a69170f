/*
 * fuzz_token.c - kl_verify_access_token and kl_verify_id_token with an
 * arbitrary token against a fixed JWKS (an ES256 and an RS256 key,
 * corpus/jwks/ec_rsa.json, whose seed tokens make-token-seeds.py signs)
 * and a fixed clock, and the claim accessors on what passes.
 *
 * Two kinds of input: a token as it comes ("eyJ..."), or - any input that
 * does not begin with 'e' - header JSON, a newline, claims JSON, a
 * newline, signature bytes, which the target base64url-encodes into a
 * token, so that mutations reach the JSON of header and claims instead of
 * dying in base64url (seeds: corpus/token/plain_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kleidi.h"
#include "util/util.h"

#define ISSUER "https://idp.example.gr"
#define FUZZ_NOW 1893456000	/* make-token-seeds.py's NOW */

static kl_verifier *v;

static int64_t
fuzz_now(void *arg)
{
	(void)arg;
	return FUZZ_NOW;
}

static void
free_verifier(void)
{
	kl_verifier_free(v);
}

static void
make_verifier(void)
{
	kl_options opt;
	kl_error err;
	size_t len;
	char *jwks;

	if ((jwks = file_read(KLEIDI_FUZZ_JWKS, 1 << 20, &len)) == NULL)
		abort();
	kl_options_init(&opt);
	opt.now = fuzz_now;
	if ((v = kl_verifier_new_jwks(ISSUER, jwks, len, &opt, &err)) == NULL)
		abort();
	free(jwks);
	if (atexit(free_verifier) != 0)
		abort();
}

static void
read_claims(const kl_claims *c)
{
	if (kl_claims_sub(c) == NULL)
		abort();	/* sub is required */
	(void)kl_claims_org(c);
	(void)kl_claims_user_type(c);
	(void)kl_claims_acr(c);
	(void)kl_claims_has_role(c, "clerk");
	(void)kl_claims_has_scope(c, "openid");
}

/* header \n claims \n signature, each part base64url-encoded. */
static char *
plain_token(const uint8_t *data, size_t size)
{
	const uint8_t *part[3], *end = data + size, *nl;
	size_t len[3], i, total = 0;
	char *enc[3] = { NULL, NULL, NULL }, *tok;

	for (i = 0; i < 3; i++) {
		nl = i < 2 ? memchr(data, '\n', (size_t)(end - data)) : NULL;
		part[i] = data;
		len[i] = (size_t)((nl != NULL ? nl : end) - data);
		data = nl != NULL ? nl + 1 : end;
	}
	for (i = 0; i < 3; i++) {
		if ((enc[i] = b64url_encode(part[i], len[i])) == NULL)
			abort();
		total += strlen(enc[i]) + 1;
	}
	if ((tok = malloc(total)) == NULL)
		abort();
	(void)snprintf(tok, total, "%s.%s.%s", enc[0], enc[1], enc[2]);
	for (i = 0; i < 3; i++)
		free(enc[i]);
	return tok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kl_claims *c = NULL;
	kl_error err;
	char *tok = size > 0 && data[0] != 'e' ? plain_token(data, size) :
	    fuzz_cstr(data, size);

	if (v == NULL)
		make_verifier();
	if (kl_verify_access_token(v, tok, "payroll", &c, &err) == KL_OK)
		read_claims(c);
	else if (c != NULL || err.code == KL_OK)
		abort();
	kl_claims_free(c);
	c = NULL;
	if (kl_verify_id_token(v, tok, "payroll", "n-0S6", &c, &err) == KL_OK)
		read_claims(c);
	else if (c != NULL || err.code == KL_OK)
		abort();
	kl_claims_free(c);
	free(tok);
	return 0;
}
