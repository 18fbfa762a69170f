/* fuzz_basic.c - http_parse_basic over an arbitrary Authorization
 * header, and http_urldecode over the same bytes. */
#include <stdlib.h>

#include "fuzz.h"
#include "http/http.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *id = NULL, *secret = NULL, *d;

	if (http_parse_basic(s, &id, &secret) == 0) {
		if (id == NULL || secret == NULL)
			abort();
	} else if (id != NULL || secret != NULL) {
		abort();	/* -1 leaves nothing allocated */
	}
	free(id);
	free(secret);
	free(http_urldecode((const char *)data, size, 0));
	d = http_urldecode((const char *)data, size, 1);
	free(d);
	free(s);
	return 0;
}
