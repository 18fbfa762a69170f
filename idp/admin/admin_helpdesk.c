/* admin_helpdesk.c - the help-desk actions on a person through the admin
 * API: password reset, second-factor reset, unlock (each with a reason
 * that the audit entry keeps), and ending their sessions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "registry/registry_admin.h"

/* Reads {"reason": ...} and the person, and asks admin_may: 0, or -1
 * with the answer rendered. A missing reason is a 400 before any
 * permission is looked at, so a malformed request is never recorded as
 * a refusal. */
static int
helpdesk_begin(struct admin_req *a, enum admin_verb verb, int need_reason,
    struct user *u, const char **reason)
{
	static const char *const fields[] = { "reason", NULL };
	struct admin_target t;

	*reason = NULL;
	if (need_reason || a->req->body_len > 0) {
		if (admin_body(a, fields) == -1 ||
		    admin_body_str(a, "reason", need_reason,
		    REGISTRY_REASON_MAX + 1, reason) == -1)
			return -1;
		if (*reason != NULL && !valid_reason(*reason)) {
			admin_problem(a->resp, 400, "reason must be text "
			    "without control characters");
			return -1;
		}
	}
	if (admin_user_load(a, a->seg[1], u) == -1)
		return -1;
	memset(&t, 0, sizeof(t));
	t.user = u;
	t.org = u->org;
	return admin_check(a, verb, &t, u->username) ? 0 : -1;
}

/* The password reset runs argon2id: on the password pool, not here. */
struct reset_job {
	struct registry_actor who;
	char actor[AUDIT_ACTOR_SIZE];
	char addr[sizeof(((struct http_request *)0)->remote_addr)];
	char username[USERNAME_SIZE];
	char reason[REGISTRY_REASON_MAX + 1];
	char temp[REGISTRY_TEMP_PASSWORD_SIZE];
	struct registry_err err;
	int rc;
};

static void
reset_run(struct admin_job *job)
{
	struct reset_job *r = job->data;

	r->rc = registry_user_password_reset(job->idp->store, &r->who,
	    &job->idp->authn.argon2, r->username, r->reason, r->temp,
	    &r->err);
}

static void
reset_finish(struct admin_job *job, struct http_response *resp)
{
	struct reset_job *r = job->data;
	struct admin_req a;

	memset(&a, 0, sizeof(a));
	a.idp = job->idp;
	a.req = job->req;
	a.resp = resp;
	if (r->rc != REG_OK) {
		admin_reg_problem(&a, r->rc, &r->err);
		return;
	}
	/* The temporary password is in this response only. */
	admin_json(&a, 200, json_pack("{s:s, s:s}", "username", r->username,
	    "temporary_password", r->temp));
	wipe(r->temp, sizeof(r->temp));
}

static void
reset_clear(struct admin_job *job)
{
	if (job->data != NULL)
		wipe(job->data, sizeof(struct reset_job));
	free(job->data);
}

http_result
admin_password_reset(struct admin_req *a)
{
	struct admin_job *job = NULL;
	struct reset_job *r = NULL;
	const char *reason;
	struct user u;
	http_result rc = HTTP_DONE;

	if (helpdesk_begin(a, ADMIN_PASSWORD_RESET, 1, &u, &reason) == -1)
		goto done;
	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		free(job);
		free(r);
		admin_problem(a->resp, 500, NULL);
		goto done;
	}
	str_copy(r->actor, a->actor, sizeof(r->actor));
	str_copy(r->addr, a->req->remote_addr, sizeof(r->addr));
	str_copy(r->username, u.username, sizeof(r->username));
	str_copy(r->reason, reason, sizeof(r->reason));
	r->who = (struct registry_actor){ &a->idp->audit, r->actor, r->addr };
	*job = (struct admin_job){ NULL, NULL, reset_run, reset_finish,
		reset_clear, r };
	rc = admin_job_start(a, job);
done:
	wipe(&u, sizeof(u));
	return rc;
}

http_result
admin_factor_reset(struct admin_req *a)
{
	struct registry_err e;
	const char *reason;
	struct user u;
	int rc;

	if (helpdesk_begin(a, ADMIN_FACTOR_RESET, 1, &u, &reason) == 0) {
		rc = registry_user_factor_reset(a->idp->store, &a->who,
		    u.username, reason, &e);
		if (rc != REG_OK)
			admin_reg_problem(a, rc, &e);
		else
			admin_json(a, 200, json_pack("{s:s, s:b}", "username",
			    u.username, "second_factor", 0));
	}
	wipe(&u, sizeof(u));
	return HTTP_DONE;
}

http_result
admin_unlock(struct admin_req *a)
{
	struct registry_err e;
	const char *reason;
	struct user u;
	int rc;

	if (helpdesk_begin(a, ADMIN_UNLOCK, 1, &u, &reason) == 0) {
		rc = registry_user_unlock(a->idp->store, &a->who, u.username,
		    reason, &e);
		if (rc != REG_OK)
			admin_reg_problem(a, rc, &e);
		else
			admin_json(a, 200, json_pack("{s:s, s:b}", "username",
			    u.username, "unlocked", 1));
	}
	wipe(&u, sizeof(u));
	return HTTP_DONE;
}

/* DELETE users/NAME/sessions, with an optional {"reason": ...}. */
http_result
admin_sessions_delete(struct admin_req *a)
{
	struct registry_err e;
	const char *reason;
	struct user u;
	size_t ended;
	int rc;

	if (helpdesk_begin(a, ADMIN_SESSIONS_END, 0, &u, &reason) == 0) {
		rc = registry_user_end_sessions(a->idp->store, &a->who,
		    u.username, reason, &ended, &e);
		if (rc != REG_OK)
			admin_reg_problem(a, rc, &e);
		else
			admin_json(a, 200, json_pack("{s:s, s:I}", "username",
			    u.username, "sessions_ended", (json_int_t)ended));
	}
	wipe(&u, sizeof(u));
	return HTTP_DONE;
}
