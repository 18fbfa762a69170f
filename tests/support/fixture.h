/* fixture.h - a store in a fresh temporary folder, for unit tests. */
#ifndef KLEIDI_FIXTURE_H
#define KLEIDI_FIXTURE_H

#include "store/store.h"

struct fixture {
	char dir[64];
	struct store *st;
};

/* Creates /tmp/kleidi-<name>-XXXXXX/store and opens it; asserts. */
void fixture_open(struct fixture *f, const char *name);
/* Closes the store and removes the folder; asserts. */
void fixture_close(struct fixture *f);

#endif
