/*
 * metrics.h - the server's counters, shown at GET /metrics in the
 * Prometheus text format 0.0.4. One set per process (a process serves
 * one data folder). Every count is an atomic: the hot path takes no lock.
 * Label sets that grow while serving (routes, organisations) live in
 * fixed tables whose slots are claimed once under a mutex and published
 * with a release store; a full table counts under "other".
 *
 * Series:
 *   kleidi_signins_total                    completed sign-ins
 *   kleidi_signin_failures_total{reason}    bad_password, bad_code,
 *                                           locked, disabled, throttled,
 *                                           refused (no access), other
 *   kleidi_tokens_issued_total{grant}       authorization_code,
 *                                           refresh_token,
 *                                           client_credentials
 *   kleidi_sms_sent_total{org}              accepted by the gateway;
 *                                           org "-" for citizens
 *   kleidi_http_request_duration_seconds{route}  histogram (on_done)
 *   kleidi_http_responses_total{class}      1xx..5xx, "none"
 *   kleidi_password_queue_depth             argon2id jobs waiting
 *   kleidi_up, kleidi_start_time_seconds
 */
#ifndef KLEIDI_METRICS_H
#define KLEIDI_METRICS_H

#include <stdint.h>

#include "util/util.h"

#define METRICS_ROUTES_MAX 64
#define METRICS_ORGS_MAX 256

/* Called by signin_audit for every sign-in event it records: counts
 * completed sign-ins, failures by reason and SMS sent by org. */
void metrics_signin(const char *action, const char *outcome,
    const char *detail, const char *org);
/* A token response (200) for grant_type gt. */
void metrics_token(const char *gt);
/* The http_server_config on_done hook (http.h). */
void metrics_on_done(void *app, const char *route, int status,
    int64_t micros);
/* Appends the exposition to b; the password and write pools' loads
 * (jobs waiting, jobs running: pool_load) are sampled by the caller. 0 or
 * -1 (b full). */
int metrics_render(struct buf *b, const unsigned password[2],
    const unsigned write[2]);
/* Zeroes everything (tests). */
void metrics_reset(void);

#endif
