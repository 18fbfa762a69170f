/*
 * signin.h - internal to idp/oidc: a sign-in in progress across the
 * password page, the second-factor page and step-up from an existing
 * session. One state per request (req->state), kept across suspensions:
 * the password hash and the SMS gateway both run off the HTTP threads.
 */
#ifndef KLEIDI_SIGNIN_H
#define KLEIDI_SIGNIN_H

#include "authn/factor.h"
#include "oidc.h"
#include "sms/sms.h"

enum signin_phase {
	SIGNIN_START = 0,
	SIGNIN_PASSWORD,	/* argon2id running on the pool */
	SIGNIN_SMS,		/* the gateway is sending */
	SIGNIN_REGISTER,	/* a citizen being created on the pool */
	SIGNIN_VERIFY_SMS	/* the phone check's code is being sent */
};

/* Second-factor methods offered on the code page. */
#define METHOD_TOTP "totp"
#define METHOD_SMS "sms"
#define METHOD_RECOVERY "recovery"

struct signin {
	struct idp *idp;
	struct http_request *req;
	int phase;
	struct authn_attempt at;
	struct flow flow;
	char handle[RAND_TOKEN_LEN];	/* the flow handle: the form's csrf */
	struct user user;
	struct app app;			/* client_id "" for the account page */
	/* an SMS in flight */
	char phone[PHONE_SIZE];
	char text[SMS_TEXT_MAX];
	int sms_rc;
	char sms_err[128];
};

/* The state of req, created on first use; NULL when out of memory. */
struct signin *signin_get(struct idp *idp, struct http_request *req);

/* Loads the flow named by the form's csrf field and checks it belongs to
 * this browser. NULL, or the error page to show. */
const char *signin_load_flow(struct signin *s);
/* Loads s->user (by s->flow.user_id) and s->app (by client_id). */
int signin_load_people(struct signin *s);

/* Sign-in steps to the audit log. */
void signin_audit(struct signin *s, const char *action, const char *outcome,
    const char *detail);

/* The first factor passed for s->user: refuse (page), finish, or go on to
 * a second factor. May suspend (an SMS to send). */
http_result signin_first_done(struct signin *s, struct http_response *resp);
/* Starts the second factor for s->flow (user known): picks the method and
 * shows its page, sending an SMS if that is the method. */
http_result otp_begin(struct signin *s, struct http_response *resp);
/* Every factor due has passed: session, code, redirect. amr: the factors
 * of this sign-in (with step-up, added to the session's). */
void signin_finish(struct signin *s, struct http_response *resp,
    unsigned amr);

/* The second-factor page for method with an optional error or notice
 * (catalogue keys). */
void otp_page(struct signin *s, struct http_response *resp, int status,
    const char *method, const char *error_key, const char *notice_key);
/* Whether this sign-in must have two factors. */
int signin_needs_2fa(const struct idp *idp, const struct user *u,
    const struct app *a, int asked);

/* SMS: prepares a code for s->flow and sends it off the HTTP thread. */
http_result sms_begin(struct signin *s, struct http_response *resp);
/* After the send resumed the request: show the code page. */
void sms_done(struct signin *s, struct http_response *resp);

/* Citizens (register.c): the phone of s->user is not verified yet, the
 * password just passed: send a code and show the phone check, which then
 * finishes the sign-in. May suspend (SIGNIN_VERIFY_SMS). */
http_result register_verify_begin(struct signin *s,
    struct http_response *resp);
/* The phone check's code was sent (or not): show the page. */
void register_sms_done(struct signin *s, struct http_response *resp);
/* The registration link for the sign-in page of flow f (handle: its
 * form's csrf) into out, when f's app admits citizens. 0, or -1: none. */
int register_link(struct idp *idp, const struct flow *f, const char *handle,
    char *out, size_t size);

/* Rate limit per client address; on refusal renders the page (429). */
int signin_throttled(struct signin *s, struct http_response *resp,
    int otp);

#endif
