/*
 * fuzz_import.c - the employee registry import (CSV and JSON, the format
 * told by the content) over an arbitrary file, as a dry run against a
 * temporary store that knows three organisations and two employees: the
 * whole parse and plan, nothing written. The store lives in a temporary
 * folder made on the first input and removed at exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "registry/import.h"
#include "registry/registry.h"
#include "store/store.h"
#include "util/util.h"

/* 2030-01-01T00:00:00Z */
#define FUZZ_NOW 1893456000

static const char people[] =
    "registry_no,tax_id,surname,given_name,email,mobile,org,position,"
    "status,effective\n"
    "1001,100000003,Papadopoulou,Maria,maria@athens.gr,+306912345678,"
    "athens,Clerk,active,\n"
    "1002,100000015,Georgiou,Nikos,,,sparta,Clerk,active,\n";

static struct store *st;
static char dir[64];

static int64_t
fuzz_now(void)
{
	return FUZZ_NOW;
}

static void
remove_store(void)
{
	char cmd[128];

	store_close(st);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		(void)fprintf(stderr, "fuzz_import: cannot remove %s\n", dir);
}

static void
make_store(void)
{
	static const char *const orgs[] = { "athens", "sparta", "corfu" };
	struct import_report rep;
	char err[256];
	size_t i;

	clock_set(fuzz_now);
	log_set_level(LOG_ERR);
	str_copy(dir, "/tmp/kleidi-fuzz-import-XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL || store_create(dir, err, sizeof(err)) != 0 ||
	    store_open(dir, &st, err, sizeof(err)) != 0)
		abort();
	if (atexit(remove_store) != 0)
		abort();
	for (i = 0; i < sizeof(orgs) / sizeof(orgs[0]); i++) {
		if (registry_org_add(st, NULL, orgs[i], "Town", NULL) != REG_OK)
			abort();
	}
	if (registry_import_buf(st, NULL, people, sizeof(people) - 1, NULL,
	    &rep, NULL) != REG_OK || !rep.committed)
		abort();
}

static int
count_plan(const struct import_change *ch, void *arg)
{
	(void)ch;
	++*(size_t *)arg;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_opts opts;
	struct import_report rep;
	struct registry_err err;
	size_t planned = 0;

	if (st == NULL)
		make_store();
	memset(&opts, 0, sizeof(opts));
	opts.dry_run = 1;
	opts.plan = count_plan;
	opts.plan_arg = &planned;
	(void)registry_import_buf(st, NULL, (const char *)data, size, &opts,
	    &rep, &err);
	if (rep.committed)
		abort();	/* a dry run writes nothing */
	return 0;
}
