/*
 * steps.h - the steps of the authorization code flow as integration tests
 * take them against a harness server: each asserts (cmocka) that the step
 * itself worked, so a test reads as the sequence it checks.
 */
#ifndef KLEIDI_STEPS_H
#define KLEIDI_STEPS_H

#include <stddef.h>

#include <jansson.h>

#include "harness.h"

/* `kleidi ARGS...` (NULL-terminated) on h's data; returns the exit
 * status. */
int run_cli(struct harness *h, const char *stdin_text, struct buf *out,
    ...);
/* `kleidi ARGS... --json` parsed; NULL-terminated args. Asserts exit 0. */
json_t *run_cli_json(struct harness *h, const char *stdin_text, ...);

/* The tenant most tests start from: organisation "town" ("Town"),
 * subscribed to app "payroll" with redirect; payroll's client secret goes
 * to secret. Asserts every step. */
void provision_payroll(struct harness *h, const char *redirect,
    char *secret, size_t size);

/* An /authorize URL with state st-123 and nonce n-456; challenge (S256)
 * and extra ("&k=v...") may be NULL. */
void authorize_url(const struct harness *h, char *out, size_t size,
    const char *client, const char *redirect, const char *challenge,
    const char *extra);
/* GET url, expect the sign-in page, return its csrf. */
void open_login(struct browser *b, const char *url, char *csrf,
    size_t size);
/* POST the sign-in form (pass URL-encoded by the caller). */
void post_login(struct browser *b, const struct harness *h, const char *csrf,
    const char *user, const char *pass, struct page *out);
/* POST the second-factor form: otp (or switch, when not NULL). */
void post_otp(struct browser *b, const struct harness *h, const char *csrf,
    const char *method, const char *otp, const char *sw, struct page *out);
/* POST /token with client_secret_basic (sec) or client_id in the body
 * (sec NULL). verifier may be NULL. */
void exchange(struct browser *b, const struct harness *h, const char *client,
    const char *sec, const char *code, const char *redirect,
    const char *verifier, struct page *out);
void basic_auth(char *out, size_t size, const char *id, const char *sec);

/* The code in the newest message of h's SMS file outbox (the message's
 * only run of exactly six digits); asserts there is one. */
void outbox_code(const struct harness *h, char out[7]);

json_t *json_of(const struct page *p);		/* asserts valid JSON */
const char *jstr(json_t *j, const char *k);

#endif
