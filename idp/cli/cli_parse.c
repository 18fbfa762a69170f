/* cli_parse.c - option parsing shared by every command. */
#include <stdio.h>
#include <string.h>

#include "cli_int.h"
#include "util/util.h"

static const struct cli_opt *
cli_find(const struct cli_opt *opts, const char *name)
{
	for (; opts->name != NULL; opts++)
		if (strcmp(opts->name, name) == 0)
			return opts;
	return NULL;
}

static int
cli_take(struct cli *c, const struct cli_opt *o, const char *v)
{
	if (o->value != NULL) {
		*o->value = v;
		return 0;
	}
	if (*o->nlist >= o->max) {
		cli_fail(c, "usage", "--%s given more than %d times", o->name,
		    o->max);
		return -1;
	}
	o->list[(*o->nlist)++] = v;
	return 0;
}

int
cli_parse(struct cli *c, int argc, char **argv, int start,
    const struct cli_opt *opts, const char **pos, int npos)
{
	const struct cli_opt *o;
	int i, n = 0;

	for (i = start; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			if (n == npos) {
				cli_fail(c, "usage", "unexpected argument %s",
				    argv[i]);
				return -1;
			}
			pos[n++] = argv[i];
			continue;
		}
		if ((o = cli_find(opts, argv[i] + 2)) == NULL) {
			cli_fail(c, "usage", "unknown option %s", argv[i]);
			return -1;
		}
		if (o->flag != NULL) {
			*o->flag = 1;
			continue;
		}
		if (i + 1 == argc) {
			cli_fail(c, "usage", "%s needs a value", argv[i]);
			return -1;
		}
		if (cli_take(c, o, argv[++i]) == -1)
			return -1;
	}
	if (n != npos) {
		cli_fail(c, "usage", "expected %d argument%s, got %d", npos,
		    npos == 1 ? "" : "s", n);
		return -1;
	}
	return 0;
}

int
cli_read_secret(char *buf, size_t size)
{
	size_t n;

	if (fgets(buf, (int)size, stdin) == NULL)
		return -1;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == size - 1)
		return -1;	/* longer than the buffer */
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 0;
}
