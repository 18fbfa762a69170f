/* tokens_client.c - access tokens a client gets for itself with the
 * client_credentials grant (RFC 6749 4.4, RFC 9068): no person, so sub is
 * the client_id (RFC 9068 2.2), and the roles are those granted to the
 * client. The audience is the client itself: Kleidi registers no
 * resource servers, so there is nothing RFC 8707 `resource` could name. */
#include <stdlib.h>

#include "tokens.h"
#include "util/util.h"

char *
token_issue_client(const struct token_issuer *ti, const struct app *a,
    json_t *roles, int64_t now)
{
	json_t *c;
	char *jwt;

	c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:O}", "iss",
	    ti->issuer, "sub", a->client_id, "aud", a->client_id,
	    "client_id", a->client_id, "iat", (json_int_t)now, "exp",
	    (json_int_t)(now + ti->access_ttl), "roles", roles);
	if (c == NULL || token_set_jti(c) != 0) {
		json_decref(c);
		return NULL;
	}
	jwt = keyset_sign_claims(ti->keys, (enum key_alg)ti->access_alg,
	    "at+jwt", c, now);
	json_decref(c);
	if (jwt == NULL)
		log_err("cannot sign a client access token with %s",
		    key_alg_name((enum key_alg)ti->access_alg));
	return jwt;
}
