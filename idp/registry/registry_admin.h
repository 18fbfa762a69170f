/*
 * registry_admin.h - the services behind administrators' work on people:
 * admin roles and the help-desk actions (password reset, second-factor
 * reset, unlock, ending sessions). The CLI and the admin API call these;
 * who may call them for whom is decided before, by admin_may (idp/admin).
 *
 * Like registry.h: every change is recorded in the audit log with the
 * registry_actor (in the change's own transaction where the change is a
 * store write), every refusal in one of its own. A help-desk action
 * requires a reason or ticket reference (DESIGN, domain rules), which the
 * audit entry keeps as "reason: ...".
 */
#ifndef KLEIDI_REGISTRY_ADMIN_H
#define KLEIDI_REGISTRY_ADMIN_H

#include <stddef.h>

#include "registry.h"

#define REGISTRY_REASON_MAX 200		/* bytes of a help-desk reason */
/* A temporary password: 120 random bits in base64url, 20 characters. */
#define REGISTRY_TEMP_PASSWORD_SIZE 21

/* "none", "org-admin", "operator" <-> enum admin_role; -1 / NULL when
 * unknown. */
int registry_admin_role_parse(const char *s);
const char *registry_admin_role_name(int role);

/* Whether reason is acceptable: 1..REGISTRY_REASON_MAX bytes of UTF-8
 * text without control characters, not only blanks. */
int valid_reason(const char *s);

/* Sets the admin role of username (action user.admin, detail "role X").
 * Citizens hold no admin role (REG_REFUSED). */
int registry_user_set_admin(struct store *st,
    const struct registry_actor *who, const char *username, int role,
    struct registry_err *err);

/* Gives username a new random password, put in temp (to hand over once);
 * only its argon2id hash is stored, and the person's sessions end
 * (action user.password-reset). */
int registry_user_password_reset(struct store *st,
    const struct registry_actor *who, const struct argon2_params *argon2,
    const char *username, const char *reason,
    char temp[REGISTRY_TEMP_PASSWORD_SIZE], struct registry_err *err);
/* Removes the person's authenticator app (TOTP, pending enrolment too)
 * and recovery codes, so they enrol again; their sessions end, since a
 * session may rest on the factor removed (action user.factor-reset). */
int registry_user_factor_reset(struct store *st,
    const struct registry_actor *who, const char *username,
    const char *reason, struct registry_err *err);
/* Clears the sign-in back-off of username (action user.unlock). */
int registry_user_unlock(struct store *st, const struct registry_actor *who,
    const char *username, const char *reason, struct registry_err *err);
/* Ends every browser session of username; *ended (may be NULL) gets how
 * many (action user.sessions-end). reason may be NULL here: signing
 * someone out takes nothing from them. */
int registry_user_end_sessions(struct store *st,
    const struct registry_actor *who, const char *username,
    const char *reason, size_t *ended, struct registry_err *err);

#endif
