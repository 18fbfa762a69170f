/* registry_int.h - internal to idp/registry: what its files share. */
#ifndef KLEIDI_REGISTRY_INT_H
#define KLEIDI_REGISTRY_INT_H

#include "audit/audit.h"
#include "registry.h"

/* Formats the reason into err (if not NULL) and returns rc. */
int registry_fail(struct registry_err *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Ends a change's write transaction: on REG_OK records ev (outcome "ok")
 * when who is not NULL and commits; otherwise aborts. A change that
 * cannot be recorded is not made. Returns the final registry result. */
int registry_commit(struct store_txn *txn, int rc,
    const struct registry_actor *who, struct audit_event *ev,
    struct registry_err *err);

#endif
