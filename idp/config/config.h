/*
 * config.h - server settings: one declarative table (Redis' config.c idea)
 * read from an ini file (inih) with safe defaults for every value.
 */
#ifndef KLEIDI_CONFIG_H
#define KLEIDI_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sms/sms.h"

struct config {
	/* [server] */
	char listen[128];		/* "127.0.0.1:8080" */
	char templates[512];		/* "": the built-in templates folder */
	unsigned http_threads;		/* 0: one per core */
	unsigned conn_timeout;		/* seconds */
	unsigned conn_limit;
	unsigned per_ip_limit;
	size_t body_max;
	size_t header_max;		/* request line + headers */
	size_t fields_max;		/* query + form + cookie pairs */
	size_t token_max;		/* Authorization, token parameters */
	unsigned write_workers;		/* 0: writes on the HTTP threads */
	unsigned write_queue;		/* requests waiting for a writer */
	/* [password] argon2id */
	uint32_t argon2_t_cost;
	uint32_t argon2_m_cost_kib;
	uint32_t argon2_parallelism;
	unsigned pool_workers;		/* 0: one per core */
	unsigned pool_queue;
	/* [tokens] lifetimes in seconds */
	int64_t code_ttl;
	int64_t access_ttl;
	int64_t id_ttl;
	int64_t session_ttl;
	int64_t flow_ttl;
	int64_t refresh_ttl;		/* a refresh token family's life */
	int64_t leeway;
	/* [keys] seconds from `keys rotate` until the new key signs, for
	 * relying parties' JWKS caches to take it in */
	int64_t publish_delay;
	/* [policy] */
	unsigned employee_factors;	/* 1 or 2: factors employees need */
	unsigned admin_factors;		/* 1 or 2: in --admin-client apps */
	/* [limits] sign-in attempts per client address: a bucket of
	 * signin_burst, one back every signin_refill_ms */
	unsigned signin_burst;
	unsigned signin_refill_ms;
	/* [sms] gateway, code lifetime and caps; outbox "" means
	 * DATA/sms-outbox */
	struct sms_config sms;
};

/* Fills cfg with the defaults. */
void config_defaults(struct config *cfg);
/* Reads an ini file over the defaults. -1 with err naming the line and
 * the setting on an unknown key or an out-of-range value. */
int config_load(struct config *cfg, const char *path, char *err,
    size_t errlen);

/* Calls fn (when not NULL) for each setting whose value differs between a
 * and b, with its ini section and key and whether a running server
 * applies it on SIGHUP (live) or only at a restart; returns how many
 * differ. Values are not passed: some are secrets. */
typedef void (*config_diff_fn)(const char *section, const char *key,
    int live, void *arg);
size_t config_diff(const struct config *a, const struct config *b,
    config_diff_fn fn, void *arg);
/* Copies the live settings of file into run; the restart-only ones keep
 * run's values. */
void config_take_live(struct config *run, const struct config *file);

#endif
