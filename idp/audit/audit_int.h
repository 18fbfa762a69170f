/* audit_int.h - internal to idp/audit: the chain's keyed hash with its
 * failure reported, for the files that append and check entries. */
#ifndef KLEIDI_AUDIT_INT_H
#define KLEIDI_AUDIT_INT_H

#include "audit.h"

/* HMAC-SHA256 under a->key of the canonical encoding of e (every field but
 * e->hash). 0, or -1 when OpenSSL fails (out is zeroed then). */
int audit_mac(const struct audit *a, const struct audit_entry *e,
    unsigned char out[HASH_SIZE]);

/* HMAC-SHA256 under a->key of a personal field's text (the field's size
 * bounds the text read): what the entry hash covers in its place. */
int audit_field_digest(const struct audit *a, const char *text, size_t size,
    unsigned char out[HASH_SIZE]);
/* "erased:" and 12 hex digits, a keyed function of digest: the text that
 * replaces an erased field. 0 or -1. */
#define AUDIT_ERASED_PREFIX "erased:"
#define AUDIT_PSEUDONYM_SIZE 20
int audit_pseudonym(const struct audit *a,
    const unsigned char digest[HASH_SIZE], char out[AUDIT_PSEUDONYM_SIZE]);
/* Whether every personal field's text agrees with its digest (or is the
 * pseudonym of it): 1, 0, or -1 when OpenSSL fails. */
int audit_fields_match(const struct audit *a, const struct audit_entry *e);

#endif
