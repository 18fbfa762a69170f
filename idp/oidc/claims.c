/*
 * claims.c - the claims request parameter (OpenID Connect Core 5.5): which
 * individual claims an app asks for, in the ID token or from UserInfo, and
 * what the scopes and claims of a request disclose about the person (the
 * consent page lists it). Values and "essential" are read only to check
 * the JSON: the claims we hold have one value each, and an essential claim
 * we lack is simply absent, as Core 5.5.1 allows.
 */
#include <string.h>

#include <jansson.h>

#include "authz.h"

/* The claims a request may ask for by name: those we hold data for. */
static const char *const claims_known[] = { "name", "given_name",
	"family_name", "email", "email_verified", "phone_number",
	"phone_number_verified", "user_type", "org", "roles", NULL };

int
claims_list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	if (n == 0)
		return 0;
	while (p != NULL && (p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

/* A claim's request: null, or an object whose members we know have the
 * types Core 5.5.1 gives them. */
static int
claims_request_ok(const json_t *v)
{
	const json_t *e, *vals;

	if (json_is_null(v))
		return 1;
	if (!json_is_object(v))
		return 0;
	e = json_object_get(v, "essential");
	vals = json_object_get(v, "values");
	return (e == NULL || json_is_boolean(e)) &&
	    (vals == NULL || json_is_array(vals));
}

/* The names of member (userinfo or id_token) we support, into out. */
static int
claims_member(const json_t *root, const char *member, char out[CLAIMS_SIZE])
{
	const json_t *obj = json_object_get(root, member), *v;
	const char *name;
	size_t len = 0, n, i;

	out[0] = '\0';
	if (obj == NULL)
		return 0;
	if (!json_is_object(obj))
		return -1;
	json_object_foreach((json_t *)obj, name, v) {
		if (!claims_request_ok(v))
			return -1;
		for (i = 0; claims_known[i] != NULL; i++)
			if (strcmp(name, claims_known[i]) == 0)
				break;
		if (claims_known[i] == NULL || claims_list_has(out, name))
			continue;	/* unknown claims are ignored */
		n = strlen(name);
		/* The known names all fit: CLAIMS_SIZE holds them twice. */
		if (len + n + 2 > CLAIMS_SIZE)
			return -1;
		if (len > 0)
			out[len++] = ' ';
		memcpy(out + len, name, n + 1);
		len += n;
	}
	return 0;
}

int
claims_parse(const char *json, char id_out[CLAIMS_SIZE],
    char ui_out[CLAIMS_SIZE])
{
	json_t *root;
	size_t n;
	int rc = -1;

	id_out[0] = ui_out[0] = '\0';
	if (json == NULL)
		return 0;
	n = strlen(json);
	if (n == 0 || n > CLAIMS_PARAM_MAX)
		return -1;
	root = json_loadb(json, n, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(root) && claims_member(root, "id_token",
	    id_out) == 0 && claims_member(root, "userinfo", ui_out) == 0)
		rc = 0;
	json_decref(root);
	if (rc == -1)
		id_out[0] = ui_out[0] = '\0';
	return rc;
}

static unsigned
claims_data_of(const char *list)
{
	unsigned d = 0;

	if (claims_list_has(list, "name") ||
	    claims_list_has(list, "given_name") ||
	    claims_list_has(list, "family_name"))
		d |= CONSENT_NAME;
	if (claims_list_has(list, "email") ||
	    claims_list_has(list, "email_verified"))
		d |= CONSENT_EMAIL;
	if (claims_list_has(list, "phone_number") ||
	    claims_list_has(list, "phone_number_verified"))
		d |= CONSENT_PHONE;
	return d;
}

unsigned
claims_data(const char *scope, const char *claims_id, const char *claims_ui)
{
	unsigned d = claims_data_of(claims_id) | claims_data_of(claims_ui);

	/* OpenID Connect Core 5.4: what each scope stands for. */
	if (claims_list_has(scope, "profile"))
		d |= CONSENT_NAME;
	if (claims_list_has(scope, "email"))
		d |= CONSENT_EMAIL;
	if (claims_list_has(scope, "phone"))
		d |= CONSENT_PHONE;
	return d;
}
