/*
 * ops.h - what an operator's monitoring reads (issue 8):
 *   GET /healthz  200 "ok" while the process serves HTTP (liveness)
 *   GET /readyz   200 "ready" when the store reads and signing keys are
 *                 loaded, else 503 with the reason (readiness)
 *   GET /metrics  Prometheus text format 0.0.4 (metrics.h)
 * None of them writes, logs per request or takes a lock on the hot path.
 * They carry nothing personal; still, expose /metrics only to the
 * monitoring network (the reverse proxy need not route it).
 */
#ifndef KLEIDI_OPS_H
#define KLEIDI_OPS_H

#include <stddef.h>

#include "http/http.h"

/* app is the struct idp. */
http_result ops_healthz(struct http_request *req, struct http_response *resp,
    void *app);
http_result ops_readyz(struct http_request *req, struct http_response *resp,
    void *app);
http_result ops_metrics(struct http_request *req, struct http_response *resp,
    void *app);

struct config;
/* SIGHUP: logs each setting whose value in file differs from the running
 * one, by name only: a live one (info) as applied, any other (warn) as
 * taking effect after a restart. Returns how many differ. */
size_t ops_config_diff(const struct config *running,
    const struct config *file);

#endif
