/* fuzz_urlencoded.c - http_parse_urlencoded over arbitrary bytes (query
 * strings and form bodies), with the accessors over its result. */
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

	/* Not NUL-terminated: the parser must keep within size. */
	if (http_parse_urlencoded((const char *)data, size, &kv, &n,
	    HTTP_FIELDS_MAX) == -1) {
		if (kv != NULL || n != 0)
			abort();	/* the contract: nothing left */
		return 0;
	}
	if (n > HTTP_FIELDS_MAX)
		abort();
	memset(&req, 0, sizeof(req));
	req.query = kv;
	req.nquery = n;
	for (i = 0; i < n; i++) {
		if (kv[i].name == NULL || kv[i].value == NULL ||
		    http_query(&req, kv[i].name) == NULL ||
		    http_query_count(&req, kv[i].name) == 0)
			abort();
	}
	http_kv_free(kv, n);
	return 0;
}
