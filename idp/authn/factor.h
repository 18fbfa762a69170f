/*
 * factor.h - second factors held by the person: TOTP (RFC 6238 with
 * liboath: SHA-1, 30 s, 6 digits, for authenticator-app compatibility) and
 * recovery codes. Seeds are sealed with AES-256-GCM at rest; recovery codes
 * are kept as keyed hashes. Rules live here; the store only keeps
 * struct user_auth.
 */
#ifndef KLEIDI_FACTOR_H
#define KLEIDI_FACTOR_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store/store.h"
#include "util/util.h"

#define TOTP_STEP 30
#define TOTP_DIGITS 6
#define TOTP_WINDOW 1			/* steps accepted either side */
#define TOTP_SECRET_B32 33		/* base32 of 20 bytes + NUL */
#define TOTP_URI_MAX 512
#define RECOVERY_CODE_LEN 19		/* "xxxx-xxxx-xxxx-xxxx" */

struct factor_keys {
	unsigned char seal[32];		/* "kleidi totp seal v1" */
	unsigned char recovery[32];	/* "kleidi recovery v1" */
};
int factor_keys_init(struct factor_keys *k, const keyset *ks);
void factor_keys_clear(struct factor_keys *k);

/* ---- sealing: AES-256-GCM, random 96-bit nonce, aad bound in */
/* out receives nonce || ciphertext || tag (len + 28 bytes). 0 or -1. */
int seal(const unsigned char key[32], const char *aad,
    const unsigned char *in, size_t len, unsigned char *out, size_t cap,
    size_t *outlen);
/* Inverse of seal; -1 on any tampering (tag, aad, length). */
int unseal(const unsigned char key[32], const char *aad,
    const unsigned char *in, size_t len, unsigned char *out, size_t cap,
    size_t *outlen);

/* ---- TOTP */
enum totp_rc {
	TOTP_OK = 0,
	TOTP_WRONG,		/* no match in the window */
	TOTP_REPLAY,		/* matched a step already used */
	TOTP_NONE,		/* no TOTP enrolled (or not active) */
	TOTP_ERROR
};
/* Enrols a new seed for user_id (replacing any): secret gets its base32
 * form, uri the otpauth:// URI (issuer label and account name given).
 * active: 1 for an operator's enrolment (handed over out of band: in use at
 * once, replacing any seed), 0 for a person's own (kept pending beside the
 * seed in use until its first valid code, totp_verify with pending). Runs
 * its own write transaction. */
int totp_enrol(const struct factor_keys *k, struct store *st,
    const char *user_id, const char *issuer_label, const char *account,
    int active, char secret[TOTP_SECRET_B32], char uri[TOTP_URI_MAX]);
/* Checks code at time now (window ±TOTP_WINDOW steps), each step accepted
 * at most once (the replay guard is updated in the same transaction).
 * pending: check the pending enrolment instead, and on success make it the
 * seed in use (TOTP_NONE when nothing is pending). */
int totp_verify(const struct factor_keys *k, struct store *st,
    const char *user_id, const char *code, int64_t now, int pending);
/* 1 if the user has an active TOTP, 0 if not, -1 on error. */
int totp_active(struct store *st, const char *user_id);
/* The otpauth URI as a QR code in inline SVG (libqrencode), no script or
 * style attribute, for the enrolment page. 0 or -1. */
int totp_qr_svg(const char *uri, struct buf *out);

/* ---- recovery codes: RECOVERY_CODES single-use codes, shown once */
/* Generates a new set (voiding the old one); codes receive them, formatted
 * for reading aloud. Own write transaction. 0 or -1. */
int recovery_generate(const struct factor_keys *k, struct store *st,
    const char *user_id, char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1]);
enum recovery_rc { RECOVERY_OK = 0, RECOVERY_WRONG, RECOVERY_ERROR };
/* Spends one code (case, blanks and dashes ignored). Constant time over
 * the set. *left receives the codes still unused. */
int recovery_use(const struct factor_keys *k, struct store *st,
    const char *user_id, const char *code, int *left);

#endif
