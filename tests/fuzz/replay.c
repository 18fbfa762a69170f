/*
 * replay.c - runs a fuzz target over files and folders of inputs without
 * libFuzzer (gcc builds): each file is one input. Exit 0 when every input
 * ran (a crash aborts, under the sanitizers too), 1 when an argument
 * cannot be read or holds no input at all.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_INPUT_MAX ((size_t)4 << 20)

static int
replay_file(const char *path)
{
	unsigned char *data;
	struct stat st;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) == -1 ||
	    (size_t)st.st_size > REPLAY_INPUT_MAX) {
		(void)fprintf(stderr, "replay: cannot read %s\n", path);
		if (f != NULL)
			(void)fclose(f);
		return -1;
	}
	n = (size_t)st.st_size;
	if ((data = malloc(n > 0 ? n : 1)) == NULL ||
	    fread(data, 1, n, f) != n) {
		(void)fprintf(stderr, "replay: cannot read %s\n", path);
		free(data);
		(void)fclose(f);
		return -1;
	}
	(void)fclose(f);
	(void)LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

/* The regular files of dir; how many ran, or -1. */
static long
replay_dir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	long n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) ||
		    stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(path) == -1) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	struct stat st;
	long total = 0, n;
	int i;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			(void)fprintf(stderr, "replay: %s: no such file\n", argv[i]);
			return 1;
		}
		n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) :
		    replay_file(argv[i]) == 0 ? 1 : -1;
		if (n == -1)
			return 1;
		total += n;
	}
	(void)printf("replay: %ld inputs\n", total);
	return total > 0 ? 0 : 1;
}
