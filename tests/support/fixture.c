/* fixture.c - a temporary store for unit tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fixture.h"
#include "util/util.h"

void
fixture_open(struct fixture *f, const char *name)
{
	char path[128], err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/kleidi-%s-XXXXXX", name);
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/store", f->dir);
	assert_int_equal(store_create(path, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_open(path, &f->st, err, sizeof(err)),
	    STORE_OK);
}

void
fixture_close(struct fixture *f)
{
	char cmd[128];

	store_close(f->st);
	f->st = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
}
