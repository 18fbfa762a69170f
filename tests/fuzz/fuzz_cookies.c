/* fuzz_cookies.c - http_parse_cookies over an arbitrary Cookie header. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/http.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	struct http_kv *kv = NULL;
	size_t n = 0, i;
	char *s = fuzz_cstr(data, size);

	if (http_parse_cookies(s, &kv, &n, HTTP_FIELDS_MAX) == -1) {
		if (kv != NULL || n != 0)
			abort();
		free(s);
		return 0;
	}
	if (n > HTTP_FIELDS_MAX)
		abort();
	memset(&req, 0, sizeof(req));
	req.cookies = kv;
	req.ncookies = n;
	for (i = 0; i < n; i++) {
		if (http_cookie(&req, kv[i].name) == NULL)
			abort();
	}
	http_kv_free(kv, n);
	free(s);
	return 0;
}
