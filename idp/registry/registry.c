/* registry.c - organisations, apps, users and grants: validation and the
 * rules that tie them together, one write transaction per change. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "authn/revoke.h"
#include "audit/audit.h"
#include "keys.h"
#include "registry.h"
#include "registry_int.h"

/* The stable subject: 128 random bits, never derived from personal data. */
int
registry_new_user_id(char id[USER_ID_SIZE])
{
	return rand_b64url(16, id, USER_ID_SIZE);
}

int
registry_fail(struct registry_err *err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* What a change records in the audit log: set up by the public function
 * from its arguments, completed by what the change learns on the way (the
 * org of a user). Never a secret: no password, no client secret. */
struct reg_audit {
	const struct registry_actor *who;	/* NULL: record nothing */
	struct audit_event ev;
	char org[ORG_CODE_SIZE];
	char detail[AUDIT_DETAIL_SIZE];
};

/* Starts the record of a change; returns the err to use (local when the
 * caller passed none, as the refusal's reason is recorded). */
static struct registry_err *
reg_audit_init(struct reg_audit *ra, const struct registry_actor *who,
    const char *action, const char *subject, const char *org,
    struct registry_err *err, struct registry_err *local)
{
	memset(ra, 0, sizeof(*ra));
	ra->who = who;
	ra->ev.actor = who != NULL ? who->actor : NULL;
	ra->ev.addr = who != NULL ? who->addr : NULL;
	ra->ev.action = action;
	ra->ev.subject = subject;
	ra->ev.org = ra->org;
	ra->ev.detail = ra->detail;
	if (org != NULL)
		str_copy(ra->org, org, sizeof(ra->org));
	if (err == NULL)
		err = local;
	err->msg[0] = '\0';
	return err;
}

/* Records a refused or failed change with its reason, in a transaction of
 * its own (the change's was aborted); returns rc. */
static int
reg_audited(struct store *st, struct reg_audit *ra, int rc,
    const struct registry_err *err)
{
	struct audit_event ev = ra->ev;
	char detail[AUDIT_DETAIL_SIZE];

	if (rc == REG_OK || ra->who == NULL)
		return rc;
	/* The change's detail, then the reason; too long, it is cut (at a
	 * UTF-8 boundary by audit_append). */
	if (ra->detail[0] == '\0')
		str_copy(detail, err->msg, sizeof(detail));
	else if (snprintf(detail, sizeof(detail), "%s: %s", ra->detail,
	    err->msg) < 0)
		detail[0] = '\0';
	ev.outcome = rc == REG_ERROR ? "error" : "refused";
	ev.detail = detail;
	if (audit_log(ra->who->audit, st, &ev) == -1)
		log_err("registry: a refused %s is missing from the audit log",
		    ev.action);
	return rc;
}

/* Ends a write transaction: when rc is REG_OK, records the change in the
 * audit log and commits, else aborts. A change that cannot be recorded is
 * not made. */
int
registry_commit(struct store_txn *txn, int rc,
    const struct registry_actor *who, struct audit_event *ev,
    struct registry_err *err)
{
	if (rc == REG_OK && who != NULL) {
		ev->outcome = "ok";
		if (audit_append(who->audit, txn, ev) == -1)
			rc = registry_fail(err, REG_ERROR, "cannot write the audit "
			    "log; nothing was changed");
	}
	if (rc != REG_OK) {
		store_abort(txn);
		return rc;
	}
	if (store_commit(txn) != STORE_OK)
		return registry_fail(err, REG_ERROR, "the store refused the change");
	return REG_OK;
}

static int
reg_end(struct store_txn *txn, int rc, struct registry_err *err,
    struct reg_audit *ra)
{
	return registry_commit(txn, rc, ra->who, &ra->ev, err);
}
static int
reg_begin(struct store *st, struct store_txn **txn, struct registry_err *err)
{
	if (store_begin(st, 1, txn) != STORE_OK)
		return registry_fail(err, REG_ERROR, "cannot open the store");
	return REG_OK;
}

static int
reg_store_rc(int src, struct registry_err *err, const char *what)
{
	switch (src) {
	case STORE_OK:
		return REG_OK;
	case STORE_NOTFOUND:
		return registry_fail(err, REG_NOTFOUND, "no such %s", what);
	case STORE_EXISTS:
		return registry_fail(err, REG_EXISTS, "%s already exists", what);
	default:
		return registry_fail(err, REG_ERROR, "store error reading %s", what);
	}
}

static int
org_add(struct store *st, struct reg_audit *ra, const char *code,
    const char *name, struct registry_err *err)
{
	struct store_txn *txn;
	struct org org;
	int rc;

	if (!valid_code(code, ORG_CODE_SIZE))
		return registry_fail(err, REG_INVALID, "organisation code must be "
		    "1-32 characters of a-z, 0-9 and -");
	if (!valid_name(name, NAME_SIZE))
		return registry_fail(err, REG_INVALID, "organisation name must be "
		    "1-128 bytes of text");
	if ((rc = reg_begin(st, &txn, err)) != REG_OK)
		return rc;
	rc = store_org_get(txn, code, &org);
	if (rc == STORE_OK)
		rc = registry_fail(err, REG_EXISTS, "organisation %s already "
		    "exists", code);
	else if (rc != STORE_NOTFOUND)
		rc = reg_store_rc(rc, err, "organisation");
	else {
		memset(&org, 0, sizeof(org));
		str_copy(org.code, code, sizeof(org.code));
		str_copy(org.name, name, sizeof(org.name));
		org.created = clock_now();
		rc = reg_store_rc(store_org_put(txn, &org), err,
		    "organisation");
	}
	return reg_end(txn, rc, err, ra);
}

int
registry_org_add(struct store *st, const struct registry_actor *who,
    const char *code, const char *name, struct registry_err *err)
{
	struct registry_err local;
	struct reg_audit ra;

	err = reg_audit_init(&ra, who, "org.add", NULL, code, err, &local);
	return reg_audited(st, &ra, org_add(st, &ra, code, name, err), err);
}

static int
org_subscribe(struct store *st, struct reg_audit *ra, const char *org,
    const char *app, struct registry_err *err)
{
	struct store_txn *txn;
	struct org o;
	struct app a;
	int rc;

	if (!valid_code(org, ORG_CODE_SIZE) || !valid_client_id(app))
		return registry_fail(err, REG_INVALID, "malformed organisation or "
		    "application id");
	if ((rc = reg_begin(st, &txn, err)) != REG_OK)
		return rc;
	if ((rc = reg_store_rc(store_org_get(txn, org, &o), err,
	    "organisation")) == REG_OK &&
	    (rc = reg_store_rc(store_app_get(txn, app, &a), err,
	    "application")) == REG_OK)
		rc = reg_store_rc(store_sub_put(txn, org, app), err,
		    "subscription");
	return reg_end(txn, rc, err, ra);
}

int
registry_org_subscribe(struct store *st, const struct registry_actor *who,
    const char *org, const char *app, struct registry_err *err)
{
	struct registry_err local;
	struct reg_audit ra;

	err = reg_audit_init(&ra, who, "org.subscribe", NULL, org, err,
	    &local);
	ra.ev.client = app;
	return reg_audited(st, &ra, org_subscribe(st, &ra, org, app, err),
	    err);
}

static int
org_set_sms_cap(struct store *st, struct reg_audit *ra, const char *code,
    int64_t cap, struct registry_err *err)
{
	struct store_txn *txn;
	struct org o;
	int rc;

	if (!valid_code(code, ORG_CODE_SIZE))
		return registry_fail(err, REG_INVALID, "malformed organisation "
		    "code");
	if (cap < 0 || cap > REGISTRY_SMS_CAP_MAX)
		return registry_fail(err, REG_INVALID, "the SMS cap must be 0 (no "
		    "cap) to %d a month", REGISTRY_SMS_CAP_MAX);
	if ((rc = reg_begin(st, &txn, err)) != REG_OK)
		return rc;
	if ((rc = reg_store_rc(store_org_get(txn, code, &o), err,
	    "organisation")) == REG_OK) {
		o.sms_monthly_cap = cap;
		rc = reg_store_rc(store_org_put(txn, &o), err, "organisation");
	}
	return reg_end(txn, rc, err, ra);
}

int
registry_org_set_sms_cap(struct store *st, const struct registry_actor *who,
    const char *code, int64_t cap, struct registry_err *err)
{
	struct registry_err local;
	struct reg_audit ra;

	err = reg_audit_init(&ra, who, "org.sms-cap", NULL, code, err,
	    &local);
	(void)snprintf(ra.detail, sizeof(ra.detail), "cap %lld",
	    (long long)cap);
	return reg_audited(st, &ra, org_set_sms_cap(st, &ra, code, cap, err),
	    err);
}

static int
app_spec_check(const struct app_spec *s, struct registry_err *err)
{
	int i;

	if (!valid_client_id(s->client_id))
		return registry_fail(err, REG_INVALID, "application id must be "
		    "1-64 characters of A-Z, a-z, 0-9, '-', '.' and '_'");
	if (!valid_name(s->name, NAME_SIZE))
		return registry_fail(err, REG_INVALID, "application name must be "
		    "1-128 bytes of text");
	if (s->n_redirect_uris < 1 || s->n_redirect_uris > APP_URIS_MAX)
		return registry_fail(err, REG_INVALID, "give 1 to %d redirect URIs",
		    APP_URIS_MAX);
	for (i = 0; i < s->n_redirect_uris; i++)
		if (!valid_redirect_uri(s->redirect_uris[i]))
			return registry_fail(err, REG_INVALID, "redirect URI %s: "
			    "must be https (or http on a loopback address), "
			    "without fragment", s->redirect_uris[i]);
	if (s->n_post_logout_uris < 0 || s->n_post_logout_uris > APP_URIS_MAX)
		return registry_fail(err, REG_INVALID, "too many logout URIs");
	for (i = 0; i < s->n_post_logout_uris; i++)
		if (!valid_redirect_uri(s->post_logout_uris[i]))
			return registry_fail(err, REG_INVALID, "post-logout URI %s: "
			    "must be https (or http on a loopback address)",
			    s->post_logout_uris[i]);
	if (s->audience < AUD_EMPLOYEES || s->audience > AUD_BOTH)
		return registry_fail(err, REG_INVALID, "unknown audience");
	/* Back-Channel Logout 1.0, 2.2: absolute, no fragment. */
	if (s->backchannel_logout_uri != NULL &&
	    !valid_redirect_uri(s->backchannel_logout_uri))
		return registry_fail(err, REG_INVALID, "back-channel logout URI "
		    "%s: must be https (or http on a loopback address), "
		    "without fragment", s->backchannel_logout_uri);
	return REG_OK;
}

static void
app_from_spec(const struct app_spec *s, struct app *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	str_copy(a->client_id, s->client_id, sizeof(a->client_id));
	str_copy(a->name, s->name, sizeof(a->name));
	for (i = 0; i < s->n_redirect_uris; i++)
		str_copy(a->redirect_uris[i], s->redirect_uris[i], URI_SIZE);
	a->n_redirect_uris = s->n_redirect_uris;
	for (i = 0; i < s->n_post_logout_uris; i++)
		str_copy(a->post_logout_uris[i], s->post_logout_uris[i],
		    URI_SIZE);
	a->n_post_logout_uris = s->n_post_logout_uris;
	a->public_client = s->public_client;
	a->audience = s->audience;
	a->require_2fa = s->require_2fa;
	a->id_token_alg = s->id_token_alg;
	a->admin_client = s->admin_client;
	if (s->backchannel_logout_uri != NULL)
		str_copy(a->backchannel_logout_uri, s->backchannel_logout_uri,
		    URI_SIZE);
	a->pairwise = s->pairwise;
	a->refresh = s->refresh;
	a->created = clock_now();
}

static int
app_add(struct store *st, struct reg_audit *ra, const struct app_spec *spec,
    char secret[RAND_TOKEN_LEN], struct app *out, struct registry_err *err)
{
	struct store_txn *txn;
	struct app a, old;
	int rc;

	if ((rc = app_spec_check(spec, err)) != REG_OK)
		return rc;
	app_from_spec(spec, &a);
	secret[0] = '\0';
	if (!a.public_client) {
		/* 256 random bits: a fast digest is enough (no dictionary to
		 * attack), so the token endpoint spends no slow hash. */
		if (rand_token(secret) == -1)
			return registry_fail(err, REG_ERROR, "no randomness");
		secret_hash(secret, a.secret_hash);
	}
	if ((rc = reg_begin(st, &txn, err)) != REG_OK)
		goto done;
	rc = store_app_get(txn, a.client_id, &old);
	if (rc == STORE_OK)
		rc = registry_fail(err, REG_EXISTS, "application %s already exists",
		    a.client_id);
	else if (rc == STORE_NOTFOUND)
		rc = reg_store_rc(store_app_put(txn, &a), err, "application");
	else
		rc = reg_store_rc(rc, err, "application");
	rc = reg_end(txn, rc, err, ra);
done:
	if (rc != REG_OK)
		wipe(secret, RAND_TOKEN_LEN);
	else if (out != NULL)
		*out = a;
	return rc;
}

int
registry_app_add(struct store *st, const struct registry_actor *who,
    const struct app_spec *spec, char secret[RAND_TOKEN_LEN],
    struct app *out, struct registry_err *err)
{
	struct registry_err local;
	struct reg_audit ra;

	err = reg_audit_init(&ra, who, "app.add", NULL, NULL, err, &local);
	ra.ev.client = spec->client_id;
	str_copy(ra.detail, spec->public_client ? "public client" :
	    "confidential client", sizeof(ra.detail));
	if (spec->admin_client)
		(void)strncat(ra.detail, ", admin client",
		    sizeof(ra.detail) - strlen(ra.detail) - 1);
	if (spec->refresh)
		(void)strncat(ra.detail, ", refresh tokens",
		    sizeof(ra.detail) - strlen(ra.detail) - 1);
	return reg_audited(st, &ra, app_add(st, &ra, spec, secret, out, err),
	    err);
}

static int
user_spec_check(const struct user_spec *s, struct registry_err *err)
{
	const char *rule;

	if (!valid_username(s->username))
		return registry_fail(err, REG_INVALID, "username must be 1-64 "
		    "characters of a-z, 0-9, '.', '-', '_' and '@'");
	if (!valid_code(s->org, ORG_CODE_SIZE))
		return registry_fail(err, REG_INVALID, "malformed organisation "
		    "code");
	if (!valid_name(s->name, NAME_SIZE))
		return registry_fail(err, REG_INVALID, "name must be 1-128 bytes of "
		    "text");
	if (s->email != NULL && !valid_email(s->email))
		return registry_fail(err, REG_INVALID, "malformed email address");
	if (s->phone != NULL && !valid_phone(s->phone))
		return registry_fail(err, REG_INVALID, "phone must be in "
		    "international form, e.g. +306912345678");
	if (s->password != NULL &&
	    (rule = password_policy_check(s->password)) != NULL)
		return registry_fail(err, REG_INVALID, "password refused (%s): at "
		    "least %d characters", rule, PASSWORD_MIN);
	return REG_OK;
}

static int
user_add(struct store *st, struct reg_audit *ra,
    const struct argon2_params *argon2, const struct user_spec *spec,
    struct user *out, struct registry_err *err)
{
	struct store_txn *txn;
	struct user u;
	struct org o;
	int rc;

	if ((rc = user_spec_check(spec, err)) != REG_OK)
		return rc;
	memset(&u, 0, sizeof(u));
	if (registry_new_user_id(u.id) == -1)
		return registry_fail(err, REG_ERROR, "no randomness");
	str_copy(u.username, spec->username, sizeof(u.username));
	str_copy(u.org, spec->org, sizeof(u.org));
	str_copy(u.name, spec->name, sizeof(u.name));
	str_copy(u.email, spec->email ? spec->email : "", sizeof(u.email));
	str_copy(u.phone, spec->phone ? spec->phone : "", sizeof(u.phone));
	u.type = USER_EMPLOYEE;
	u.created = u.updated = clock_now();
	/* Hash before the transaction: argon2id must not hold the writer. */
	if (spec->password != NULL && password_hash(argon2, spec->password,
	    u.password, sizeof(u.password)) == -1)
		return registry_fail(err, REG_ERROR, "cannot hash the password");
	if ((rc = reg_begin(st, &txn, err)) != REG_OK)
		return rc;
	rc = reg_store_rc(store_org_get(txn, u.org, &o), err, "organisation");
	if (rc == REG_OK) {
		rc = store_user_add(txn, &u);
		rc = rc == STORE_EXISTS ? registry_fail(err, REG_EXISTS, "user %s "
		    "already exists", u.username) : reg_store_rc(rc, err,
		    "user");
	}
	if (rc == REG_OK)
		(void)snprintf(ra->detail, sizeof(ra->detail), "sub %s",
		    u.id);
	if ((rc = reg_end(txn, rc, err, ra)) == REG_OK && out != NULL)
		*out = u;
	wipe(&u, sizeof(u));
	return rc;
}

int
registry_user_add(struct store *st, const struct registry_actor *who,
    const struct argon2_params *argon2, const struct user_spec *spec,
    struct user *out, struct registry_err *err)
{
	struct registry_err local;
	struct reg_audit ra;

	err = reg_audit_init(&ra, who, "user.add", spec->username, spec->org,
	    err, &local);
	return reg_audited(st, &ra, user_add(st, &ra, argon2, spec, out, err),
	    err);
}

static int
user_set_disabled(struct store *st, struct reg_audit *ra,
    const char *username, int disabled, struct registry_err *err)
{
	struct store_txn *txn;
	struct user u;
	size_t ended;
	int rc;

	if (!valid_username(username))
		return registry_fail(err, REG_INVALID, "malformed username");
	if ((rc = reg_begin(st, &txn, err)) != REG_OK)
		return rc;
	rc = reg_store_rc(store_user_get_by_name(txn, username, &u), err,
	    "user");
	if (rc == REG_OK) {
		str_copy(ra->org, u.org, sizeof(ra->org));
		u.disabled = disabled;
		u.updated = clock_now();
		rc = reg_store_rc(store_user_update(txn, &u), err, "user");
	}
	/* Disabling ends the person's sessions at once. */
	if (rc == REG_OK && disabled)
		rc = reg_store_rc(access_end_user(txn, u.id, &ended),
		    err, "session");
	if (rc == REG_OK && disabled)
		(void)snprintf(ra->detail, sizeof(ra->detail), "%zu sessions "
		    "ended", ended);
	wipe(&u, sizeof(u));	/* it holds the password hash */
	return reg_end(txn, rc, err, ra);
}

int
registry_user_set_disabled(struct store *st, const struct registry_actor *who,
    const char *username, int disabled, struct registry_err *err)
{
	struct registry_err local;
	struct reg_audit ra;

	err = reg_audit_init(&ra, who, disabled ? "user.disable" :
	    "user.enable", username, NULL, err, &local);
	return reg_audited(st, &ra, user_set_disabled(st, &ra, username,
	    disabled, err), err);
}

/* Looks up user and app and checks that org subscribes to the app. */
static int
grant_prepare(struct store_txn *txn, const char *username, const char *app,
    const char *role, const char *org, struct grant *g,
    struct registry_err *err)
{
	struct user u;
	struct app a;
	int rc;

	if (!valid_username(username) || !valid_client_id(app) ||
	    !valid_role(role) || (org != NULL &&
	    !valid_code(org, ORG_CODE_SIZE)))
		return registry_fail(err, REG_INVALID, "malformed username, "
		    "application, role or organisation");
	if ((rc = reg_store_rc(store_user_get_by_name(txn, username, &u), err,
	    "user")) != REG_OK || (rc = reg_store_rc(store_app_get(txn, app,
	    &a), err, "application")) != REG_OK)
		return rc;
	memset(g, 0, sizeof(*g));
	str_copy(g->user_id, u.id, sizeof(g->user_id));
	str_copy(g->app, app, sizeof(g->app));
	str_copy(g->org, org != NULL ? org : u.org, sizeof(g->org));
	str_copy(g->role, role, sizeof(g->role));
	g->created = clock_now();
	if (u.type != USER_EMPLOYEE)
		return registry_fail(err, REG_REFUSED, "citizens hold no roles");
	rc = store_sub_get(txn, g->org, app);
	if (rc == STORE_NOTFOUND)
		return registry_fail(err, REG_REFUSED, "organisation %s does not "
		    "subscribe to application %s", g->org, app);
	return reg_store_rc(rc, err, "subscription");
}

static int
grant_add(struct store *st, struct reg_audit *ra, const char *username,
    const char *app, const char *role, const char *org,
    struct registry_err *err)
{
	struct store_txn *txn;
	struct grant g;
	int rc;

	memset(&g, 0, sizeof(g));
	if ((rc = reg_begin(st, &txn, err)) != REG_OK)
		return rc;
	if ((rc = grant_prepare(txn, username, app, role, org, &g, err)) ==
	    REG_OK)
		rc = reg_store_rc(store_grant_put(txn, &g), err, "grant");
	if (g.org[0] != '\0')
		str_copy(ra->org, g.org, sizeof(ra->org));
	return reg_end(txn, rc, err, ra);
}

/* The record of a grant change: whom, which app, which role. */
static struct registry_err *
grant_audit_init(struct reg_audit *ra, const struct registry_actor *who,
    const char *action, const char *username, const char *app,
    const char *role, const char *org, struct registry_err *err,
    struct registry_err *local)
{
	err = reg_audit_init(ra, who, action, username, org, err, local);
	ra->ev.client = app;
	(void)snprintf(ra->detail, sizeof(ra->detail), "role %s",
	    role != NULL ? role : "");
	return err;
}

int
registry_grant_add(struct store *st, const struct registry_actor *who,
    const char *username, const char *app, const char *role, const char *org,
    struct registry_err *err)
{
	struct registry_err local;
	struct reg_audit ra;

	err = grant_audit_init(&ra, who, "grant.add", username, app, role, org,
	    err, &local);
	return reg_audited(st, &ra, grant_add(st, &ra, username, app, role,
	    org, err), err);
}

static int
grant_revoke(struct store *st, struct reg_audit *ra, const char *username,
    const char *app, const char *role, const char *org,
    struct registry_err *err)
{
	struct store_txn *txn;
	struct grant g;
	int rc;

	memset(&g, 0, sizeof(g));
	if ((rc = reg_begin(st, &txn, err)) != REG_OK)
		return rc;
	rc = grant_prepare(txn, username, app, role, org, &g, err);
	/* Revoking stays possible after an unsubscription. */
	if (rc == REG_OK || rc == REG_REFUSED)
		rc = reg_store_rc(store_grant_del(txn, g.user_id, g.app, g.org,
		    g.role), err, "grant");
	if (g.org[0] != '\0')
		str_copy(ra->org, g.org, sizeof(ra->org));
	return reg_end(txn, rc, err, ra);
}

int
registry_grant_revoke(struct store *st, const struct registry_actor *who,
    const char *username, const char *app, const char *role, const char *org,
    struct registry_err *err)
{
	struct registry_err local;
	struct reg_audit ra;

	err = grant_audit_init(&ra, who, "grant.revoke", username, app, role,
	    org, err, &local);
	return reg_audited(st, &ra, grant_revoke(st, &ra, username, app, role,
	    org, err), err);
}

int
registry_access(struct store_txn *txn, const struct user *user,
    const struct app *app)
{
	int rc;

	if (user->disabled)
		return ACCESS_DISABLED;
	if (user->type == USER_CITIZEN)
		return app->audience == AUD_EMPLOYEES ? ACCESS_AUDIENCE :
		    ACCESS_OK;
	if (app->audience == AUD_CITIZENS)
		return ACCESS_AUDIENCE;
	rc = store_sub_get(txn, user->org, app->client_id);
	if (rc == STORE_NOTFOUND)
		return ACCESS_NOT_SUBSCRIBED;
	return rc == STORE_OK ? ACCESS_OK : ACCESS_ERROR;
}

static int
roles_add(const struct grant *g, void *arg)
{
	return json_array_append_new(arg, json_string(g->role)) == 0 ? 0 : -1;
}

json_t *
registry_roles(struct store_txn *txn, const struct user *user,
    const char *app)
{
	json_t *roles = json_array();

	if (roles == NULL || user->type != USER_EMPLOYEE)
		return roles;
	if (store_grant_list(txn, user->id, app, user->org, roles_add,
	    roles) != STORE_OK) {
		json_decref(roles);
		return NULL;
	}
	return roles;
}
