/*
 * citizen.h - citizens' accounts: registration (by the person on the web,
 * or by an operator), the phone check that makes an account usable, and
 * the person's rights over their data: export of everything held, and
 * erasure that keeps the audit chain valid (GDPR arts. 15, 17).
 *
 * A citizen's username is their tax number (AFM); they have no org, no
 * grants, and sign in with password and an SMS code. A civil servant who
 * is also a citizen has two accounts, never one merged login.
 */
#ifndef KLEIDI_CITIZEN_H
#define KLEIDI_CITIZEN_H

#include <jansson.h>

#include "registry.h"

struct citizen_spec {
	const char *tax_id;		/* 9 digits with check digit */
	const char *given_name;
	const char *family_name;
	const char *email;		/* may be NULL */
	const char *phone;		/* E.164, required */
	const char *password;		/* NULL: none yet */
	int phone_verified;		/* the operator checked it */
};

/* Which field of a spec broke a rule (for a form's per-field errors). */
enum citizen_field {
	CITIZEN_F_NONE = 0,
	CITIZEN_F_TAX_ID,
	CITIZEN_F_GIVEN_NAME,
	CITIZEN_F_FAMILY_NAME,
	CITIZEN_F_EMAIL,
	CITIZEN_F_PHONE,
	CITIZEN_F_PASSWORD
};

/* Checks every field of s; REG_OK, or REG_INVALID with *field (may be
 * NULL) naming the first bad one and *rule (may be NULL) the password
 * policy key when it is the password. Touches no store. */
int registry_citizen_check(const struct citizen_spec *s,
    enum citizen_field *field, const char **rule, struct registry_err *err);

/* Creates the citizen (argon2id runs here: call it from a worker, never
 * an HTTP thread). REG_EXISTS when the tax number is registered. Action
 * citizen.add. */
int registry_citizen_add(struct store *st, const struct registry_actor *who,
    const struct argon2_params *argon2, const struct citizen_spec *spec,
    struct user *out, struct registry_err *err);

/* The SMS code reached the person: the account becomes usable. Action
 * citizen.phone-verified. */
int registry_citizen_phone_verified(struct store *st,
    const struct registry_actor *who, const char *user_id,
    struct registry_err *err);

/* Everything held about the citizen with this tax number, as a new JSON
 * object: the account (no password hash: "password": "set" or "none"),
 * second factors present (never secrets), grants, and the audit entries
 * about them. NULL with err on failure. */
json_t *registry_citizen_export(struct store *st, const char *tax_id,
    struct registry_err *err);

struct citizen_erased {
	size_t sessions;	/* ended */
	size_t pairwise;	/* pairwise subjects forgotten */
	size_t audit;		/* audit entries pseudonymised */
	size_t counters;	/* rate-limit counters dropped */
};
/* Removes the account, its sessions, second factors, pairwise subjects
 * and counters, and pseudonymises the audit entries about the person
 * (who->audit holds the key); recorded as citizen.erase under the
 * person's pseudonym. Needs who. Employees are refused (the registry
 * governs them). */
int registry_citizen_erase(struct store *st, const struct registry_actor *who,
    const char *tax_id, struct citizen_erased *done,
    struct registry_err *err);

#endif
