/*
 * audit.h - the audit log: every sign-in step and every admin action, with
 * who, what, when and from where. Append-only and chained: each entry
 * carries the keyed hash (HMAC-SHA256 under a key derived from the master
 * key, label "kleidi audit v1") of its own content and of the entry before
 * it, so an edited, removed or reordered entry breaks the chain at that
 * entry, and nobody without the master key can forge a new chain.
 */
#ifndef KLEIDI_AUDIT_H
#define KLEIDI_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store/store.h"

/* What happened; any field may be NULL (stored empty). Values longer than
 * their field are cut at a UTF-8 boundary, never refused: an audit entry
 * must not be lost to a long detail. */
struct audit_event {
	const char *actor;	/* "user:<sub>", "operator:<login>", "-" */
	const char *action;	/* dotted verb: "signin.password" */
	const char *outcome;	/* "ok", "fail", "refused", "error" */
	const char *subject;	/* the person concerned: sub or username */
	const char *client;	/* client_id */
	const char *org;
	const char *addr;	/* client address */
	const char *detail;	/* factor, reason, ticket reference */
};

struct audit {
	unsigned char key[32];	/* HMAC key, from keyset_derive */
};

/* Derives the chain key from the keyset. 0 or -1. */
int audit_init(struct audit *a, const keyset *ks);
void audit_clear(struct audit *a);	/* wipes the key */

/* Appends ev inside the caller's write transaction, so the entry commits
 * or aborts with the action it records. 0 or -1 (store error). */
int audit_append(const struct audit *a, struct store_txn *txn,
    const struct audit_event *ev);
/* Appends ev in a transaction of its own (sign-in steps that change
 * nothing else). 0 or -1. */
int audit_log(const struct audit *a, struct store *st,
    const struct audit_event *ev);

/* The keyed hash of e (all fields but e->hash), as stored in e->hash. */
void audit_entry_hash(const struct audit *a, const struct audit_entry *e,
    unsigned char out[32]);

enum audit_verify_rc {
	AUDIT_INTACT = 0,
	AUDIT_BROKEN = 1,	/* *bad names the first entry that fails */
	AUDIT_ERROR = -1
};
struct audit_report {
	uint64_t entries;	/* entries in the log (read to the end even
				   past a fault, to count them) */
	uint64_t bad;		/* first failing sequence number, or 0 */
	char why[128];		/* "entry 17 was edited", "entry 9 is
				   missing", "entries out of order at 12" */
	unsigned char head[32];	/* hash of the newest entry: note it
				   elsewhere to anchor the chain */
};
/* Checks every entry in order: numbers run 1, 2, 3... without a gap
 * ("entry N is missing"), each prev is the hash of the entry before it
 * ("entries out of order at N" when it is the hash of some other entry,
 * else "entry N does not follow entry N-1"), and each keyed hash matches
 * ("entry N was edited"). The chain cannot show that its newest entries
 * were cut off: note r->head elsewhere (a ticket, another machine) and
 * check it later with audit_anchor. */
int audit_verify(const struct audit *a, struct store *st,
    struct audit_report *r);
/* Whether a head noted earlier is still the hash of an entry in the log
 * (the log may have grown since): AUDIT_INTACT with *seq (may be NULL)
 * its number, AUDIT_BROKEN if no entry carries it (entries were cut off
 * the end or the log was replaced), AUDIT_ERROR. Meaningful after
 * audit_verify found the chain intact. */
int audit_anchor(struct store *st, const unsigned char head[32],
    uint64_t *seq);

/* Erasure of a person (GDPR art. 17) without breaking the chain: in each
 * entry whose actor is "user:<sub>" or names them, whose subject names
 * them, or whose detail mentions them, those fields (and the address when
 * the person was the one acting, or nobody was and the entry is about or
 * mentions them) are replaced by a keyed pseudonym "erased:<12 hex>". The same text
 * always gives the same pseudonym, so an auditor still sees which entries
 * concerned one person. names: NULL-terminated, empty strings skipped
 * (username, tax number, email, phone...). Inside the caller's write
 * transaction; *count (may be NULL) gets the entries changed. 0 or -1. */
int audit_erase(const struct audit *a, struct store_txn *txn,
    const char *sub, const char *const *names, size_t *count);
/* The pseudonym erasure gives text ("erased:<12 hex>", under 20 bytes
 * with the NUL): for the record of the erasure itself. 0 or -1. */
int audit_pseudonym_of(const struct audit *a, const char *text, char *out,
    size_t size);

/* Calls cb for the newest n entries (oldest first); user, if not NULL,
 * keeps those whose actor or subject names that user (sub or username):
 * a username also finds entries naming the person's sub, and a sub their
 * username. n is capped at AUDIT_TAIL_MAX. cb returning non-zero stops.
 * 0 or -1. */
#define AUDIT_TAIL_MAX 100000
int audit_tail(struct store *st, const char *user, size_t n,
    store_audit_cb cb, void *arg);

#endif
