/* fuzz_jwks.c - kl_verifier_new_jwks over an arbitrary JWKS document; a
 * verifier it accepts is asked to verify a token for a kid it may hold. */
#include <stdlib.h>

#include "fuzz.h"
#include "kleidi.h"

#define ISSUER "https://idp.example.gr"

/* Signed by no key of any document: it exercises the key lookup only. */
static const char token[] = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtp"
    "ZCI6ImVjMSJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlLmdyIn0.AAAA";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kl_verifier *v;
	kl_claims *c = NULL;
	kl_error err;

	v = kl_verifier_new_jwks(ISSUER, (const char *)data, size, NULL, &err);
	if (v == NULL) {
		if (err.code == KL_OK)
			abort();	/* no verifier without a reason */
		return 0;
	}
	if (kl_verify_access_token(v, token, "payroll", &c, &err) == KL_OK)
		abort();	/* never: the signature is four zero bytes */
	kl_claims_free(c);
	kl_verifier_free(v);
	return 0;
}
