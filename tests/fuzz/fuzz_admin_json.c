/*
 * fuzz_admin_json.c - the admin API's JSON body: admin_body (one object,
 * no repeated or unknown members) and the member readers every handler
 * uses, over an arbitrary body, as POST /admin/v1/users would read it.
 */
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "fuzz.h"

/* The members of the widest admin body (users). */
static const char *const allowed[] = { "username", "org", "name", "email",
	"phone", "password", "reason", "app", "role", "disabled",
	"require_2fa", NULL };

static void
read_members(struct admin_req *a)
{
	const char *s;
	int b;
	size_t i;

	for (i = 0; allowed[i] != NULL; i++) {
		if (admin_body_str(a, allowed[i], 0, 256, &s) == -1) {
			http_response_free(a->resp);
			http_response_init(a->resp);
		}
		if (admin_body_bool(a, allowed[i], &b) == -1) {
			http_response_free(a->resp);
			http_response_init(a->resp);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	struct http_response resp;
	struct admin_req a;
	char *body = fuzz_cstr(data, size);

	memset(&req, 0, sizeof(req));
	memset(&a, 0, sizeof(a));
	req.method = "POST";
	req.path = "/admin/v1/users";
	req.content_type = "application/json";
	req.body = body;
	req.body_len = size;
	http_response_init(&resp);
	a.req = &req;
	a.resp = &resp;
	if (admin_body(&a, allowed) == 0)
		read_members(&a);
	else if (resp.status != 400)
		abort();	/* a bad body is always a 400 */
	json_decref(a.body);
	http_response_free(&resp);
	free(body);
	return 0;
}
