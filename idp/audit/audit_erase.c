/* audit_erase.c - pseudonymising the entries about a person: the chain
 * covers the personal fields only through their keyed digests (audit.c),
 * so their text can be replaced while every hash stays as it was. */
#include <stdio.h>
#include <string.h>

#include "audit_int.h"
#include "util/util.h"

struct erase_walk {
	const struct audit *a;
	struct store_txn *txn;
	char actor[AUDIT_ACTOR_SIZE];	/* "user:<sub>" */
	const char *sub;
	const char *const *names;
	size_t count;
	int failed;
};

static int
names_equal(const struct erase_walk *w, const char *s)
{
	const char *const *n;

	if (s[0] == '\0')
		return 0;
	if (strcmp(s, w->sub) == 0 || strcmp(s, w->actor) == 0)
		return 1;
	for (n = w->names; n != NULL && *n != NULL; n++)
		if ((*n)[0] != '\0' && strcmp(s, *n) == 0)
			return 1;
	return 0;
}

static int
names_within(const struct erase_walk *w, const char *s)
{
	const char *const *n;

	if (strstr(s, w->sub) != NULL)
		return 1;
	for (n = w->names; n != NULL && *n != NULL; n++)
		if ((*n)[0] != '\0' && strstr(s, *n) != NULL)
			return 1;
	return 0;
}

/* Replaces one field's text with the pseudonym of its digest. */
static int
erase_field(const struct audit *a, char *text, size_t size,
    const unsigned char digest[HASH_SIZE])
{
	char p[AUDIT_PSEUDONYM_SIZE];

	if (text[0] == '\0' || strncmp(text, AUDIT_ERASED_PREFIX,
	    sizeof(AUDIT_ERASED_PREFIX) - 1) == 0)
		return 0;
	if (audit_pseudonym(a, digest, p) == -1)
		return -1;
	str_copy(text, p, size);
	return 1;
}

static int
erase_entry(const struct audit_entry *in, void *arg)
{
	struct erase_walk *w = arg;
	struct audit_entry e = *in;
	int by = names_equal(w, e.actor), about = names_equal(w, e.subject);
	int nobody = e.actor[0] == '\0' || strcmp(e.actor, "-") == 0 ||
	    strcmp(e.actor, "user:-") == 0;
	int mentioned = names_within(w, e.detail), changed = 0;

	if (by)
		changed |= erase_field(w->a, e.actor, sizeof(e.actor),
		    e.actor_digest);
	if (about)
		changed |= erase_field(w->a, e.subject, sizeof(e.subject),
		    e.subject_digest);
	if (mentioned)
		changed |= erase_field(w->a, e.detail, sizeof(e.detail),
		    e.detail_digest);
	/* The address is theirs when they acted, or when nobody signed in
	 * and the entry is about them (a failed sign-in with their name). */
	if (by || (nobody && (about || mentioned)))
		changed |= erase_field(w->a, e.addr, sizeof(e.addr),
		    e.addr_digest);
	if (changed < 0 || (changed > 0 && store_audit_replace(w->txn, &e) !=
	    STORE_OK)) {
		w->failed = 1;
		return 1;
	}
	w->count += changed > 0;
	return 0;
}

int
audit_erase(const struct audit *a, struct store_txn *txn, const char *sub,
    const char *const *names, size_t *count)
{
	struct erase_walk w;

	if (count != NULL)
		*count = 0;
	if (a == NULL || txn == NULL || sub == NULL || sub[0] == '\0')
		return -1;
	memset(&w, 0, sizeof(w));
	w.a = a;
	w.txn = txn;
	w.sub = sub;
	w.names = names;
	(void)snprintf(w.actor, sizeof(w.actor), "user:%s", sub);
	if (store_audit_list(txn, 1, erase_entry, &w) != STORE_OK ||
	    w.failed) {
		log_err("audit: cannot pseudonymise the entries of %s", sub);
		return -1;
	}
	if (count != NULL)
		*count = w.count;
	return 0;
}

int
audit_pseudonym_of(const struct audit *a, const char *text, char *out,
    size_t size)
{
	unsigned char d[HASH_SIZE];
	char p[AUDIT_PSEUDONYM_SIZE];

	if (a == NULL || text == NULL || size < sizeof(p) ||
	    audit_field_digest(a, text, strlen(text) + 1, d) == -1 ||
	    audit_pseudonym(a, d, p) == -1)
		return -1;
	str_copy(out, p, size);
	return 0;
}
