/* admin_int.h - internal to idp/admin: one API request as the handlers
 * see it, and the helpers they share (admin_http.c). */
#ifndef KLEIDI_ADMIN_INT_H
#define KLEIDI_ADMIN_INT_H

#include <jansson.h>

#include "admin.h"
#include "oidc/oidc.h"
#include "registry/registry.h"

struct admin_req {
	struct idp *idp;
	struct http_request *req;
	struct http_response *resp;
	struct user admin;		/* fresh from the store; wiped */
	char actor[AUDIT_ACTOR_SIZE];	/* "admin:<username>" */
	struct registry_actor who;
	char path[ADMIN_SEGMENTS_MAX * (ADMIN_SEGMENT_MAX + 1)];
	const char *seg[ADMIN_SEGMENTS_MAX];	/* into path */
	size_t nseg;
	json_t *body;			/* the JSON object, or NULL */
};

typedef http_result (*admin_fn)(struct admin_req *a);

/* Work that must leave the HTTP thread (argon2id): the handler keeps one
 * in req->state, runs run() on the password pool and returns
 * HTTP_SUSPENDED; when the request is resumed, finish() renders. */
struct admin_job {
	struct idp *idp;
	struct http_request *req;
	void (*run)(struct admin_job *job);
	void (*finish)(struct admin_job *job, struct http_response *resp);
	void (*clear)(struct admin_job *job);	/* wipes the job's own */
	void *data;
};
/* Queues job (malloc'd; the request frees it). HTTP_SUSPENDED, or
 * HTTP_DONE with a 503 rendered when the pool is full. */
http_result admin_job_start(struct admin_req *a, struct admin_job *job);

/* ---- responses */
/* An RFC 9457 problem: application/problem+json with type, title, status
 * and detail (may be NULL). */
void admin_problem(struct http_response *resp, int status,
    const char *detail);
/* The same with extension members from ext (consumed; may be NULL). */
void admin_problem_ext(struct http_response *resp, int status,
    const char *detail, json_t *ext);
/* The problem for a registry service's refusal. */
void admin_reg_problem(struct admin_req *a, int rc,
    const struct registry_err *e);
/* status with j as the body (j is consumed; NULL renders a 500). */
void admin_json(struct admin_req *a, int status, json_t *j);

/* admin_may for the request's administrator. 1 when allowed; else the
 * refusal is recorded (action admin.<verb>, outcome refused, the rule as
 * detail, subject and the target's org), a 403 is rendered, and 0. */
int admin_check(struct admin_req *a, enum admin_verb verb,
    const struct admin_target *t, const char *subject);

/* ---- input; each renders the 400 (or 415) itself when it returns -1 */
/* The body must be a JSON object (Content-Type application/json) with no
 * member outside allowed (NULL-terminated). */
int admin_body(struct admin_req *a, const char *const *allowed);
/* A string member: *out NULL when absent; -1 when required and absent,
 * not a string, empty, or max bytes or longer. */
int admin_body_str(struct admin_req *a, const char *name, int required,
    size_t max, const char **out);
/* A boolean member: *out 0 when absent; -1 when not a boolean. */
int admin_body_bool(struct admin_req *a, const char *name, int *out);
/* A query parameter given at most once: *out NULL when absent. */
int admin_query(struct admin_req *a, const char *name, const char **out);

/* Reads the user username: 0, or -1 with a 404 (no such user) or 500
 * rendered. u holds a password hash: wipe it. */
int admin_user_load(struct admin_req *a, const char *username,
    struct user *u);
/* Whether org subscribes to app: 1, 0, or -1 (store error). */
int admin_subscribed(struct admin_req *a, const char *org, const char *app);

/* ---- handlers (admin_org.c, admin_user.c, admin_helpdesk.c) */
http_result admin_orgs_get(struct admin_req *a);
http_result admin_orgs_post(struct admin_req *a);
http_result admin_org_subscribe(struct admin_req *a);
http_result admin_apps_get(struct admin_req *a);
http_result admin_apps_post(struct admin_req *a);
http_result admin_audit_get(struct admin_req *a);
http_result admin_import_post(struct admin_req *a);
http_result admin_users_get(struct admin_req *a);
http_result admin_users_post(struct admin_req *a);
http_result admin_user_get(struct admin_req *a);
http_result admin_user_disable(struct admin_req *a);
http_result admin_user_enable(struct admin_req *a);
http_result admin_grants_get(struct admin_req *a);
http_result admin_grants_post(struct admin_req *a);
http_result admin_grants_delete(struct admin_req *a);
http_result admin_role_post(struct admin_req *a);
http_result admin_password_reset(struct admin_req *a);
http_result admin_factor_reset(struct admin_req *a);
http_result admin_unlock(struct admin_req *a);
http_result admin_sessions_delete(struct admin_req *a);

#endif
