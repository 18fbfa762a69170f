/*
 * error.c - result codes, their texts, and the caller's kl_error.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

struct code_text {
	int		 code;
	const char	*text;
};

/* No quotes or backslashes: applications put these texts in
 * WWW-Authenticate error_description (RFC 6750). */
static const struct code_text code_texts[] = {
	{ KL_OK, "ok" },
	{ KL_ERR_MALFORMED, "token is malformed" },
	{ KL_ERR_ALG, "token algorithm not allowed" },
	{ KL_ERR_UNKNOWN_KID, "token signed by an unknown key" },
	{ KL_ERR_SIGNATURE, "token signature is invalid" },
	{ KL_ERR_EXPIRED, "token has expired" },
	{ KL_ERR_NOT_YET_VALID, "token is not valid yet" },
	{ KL_ERR_ISSUED_IN_FUTURE, "token is issued in the future" },
	{ KL_ERR_ISSUER, "token is from another issuer" },
	{ KL_ERR_AUDIENCE, "token is for another audience" },
	{ KL_ERR_TYPE, "token is of the wrong type" },
	{ KL_ERR_NONCE, "token nonce does not match" },
	{ KL_ERR_CLAIM, "token lacks a required claim" },
	{ KL_ERR_CRIT, "token has unsupported critical extensions" },
	{ KL_ERR_EVENT, "token is not a back-channel logout token" },
	{ KL_ERR_ARGUMENT, "invalid argument" },
	{ KL_ERR_NOMEM, "out of memory" },
	{ KL_ERR_CRYPTO, "cryptographic library failure" },
	{ KL_ERR_FETCH, "signing keys could not be fetched" },
	{ KL_ERR_JWKS, "signing keys refused" },
	{ KL_ERR_INTERNAL, "internal error" },
};

const char *
kl_strerror(int code)
{
	size_t i;

	for (i = 0; i < sizeof(code_texts) / sizeof(code_texts[0]); i++)
		if (code_texts[i].code == code)
			return code_texts[i].text;
	return "unknown result code";
}

int
kl_error_is_rejection(int code)
{
	return code >= KL_ERR_MALFORMED && code <= 99;
}

const char *
kl_version(void)
{
	return KL_VERSION_STRING;
}

int
kl_error_set(kl_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	n = vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->text[0] = '\0';
	return code;
}

int
kl_error_ok(kl_error *err)
{
	if (err != NULL) {
		err->code = KL_OK;
		err->text[0] = '\0';
	}
	return KL_OK;
}
