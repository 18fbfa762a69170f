/*
 * bench_import.c - the employee registry import at the scale of a whole
 * country's registry: generates N employees (default 100,000) as CSV in a
 * temporary folder, imports them into a fresh store through the service in
 * one transaction, then imports the same file again (every row unchanged),
 * and prints the rates:
 *	METRIC registry_import_rate=<rows/s> unit=rows/s
 *	METRIC registry_reimport_rate=<rows/s> unit=rows/s
 * Usage: bench_import [ROWS]
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"
#include "registry/import.h"
#include "registry/registry.h"
#include "util/util.h"

#define ORGS 20

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A valid AFM from a number: eight digits and their check digit. */
static void
afm(unsigned n, char out[10])
{
	unsigned sum = 0;
	int i;

	(void)snprintf(out, 10, "%08u", 10000000u + n % 89999999u);
	for (i = 0; i < 8; i++)
		sum += (unsigned)(out[i] - '0') << (8 - i);
	out[8] = (char)('0' + sum % 11 % 10);
	out[9] = '\0';
}

static int
write_csv(const char *path, unsigned rows)
{
	FILE *f = fopen(path, "w");
	char tax[10];
	unsigned i;

	if (f == NULL)
		return -1;
	(void)fputs("registry_no,tax_id,surname,given_name,email,mobile,org,"
	    "position,status,effective\n", f);
	for (i = 0; i < rows; i++) {
		afm(i, tax);
		(void)fprintf(f, "%u,%s,Papadopoulos%u,Giorgos,"
		    "g.papadopoulos%u@town%u.gov.gr,+30691%07u,town-%u,"
		    "\"Clerk, grade %u\",active,\n", 100000 + i, tax, i, i,
		    i % ORGS, i, i % ORGS, i % 5);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int
setup(const char *dir, struct store **st)
{
	char path[512], err[256], code[32];
	int i;

	(void)snprintf(path, sizeof(path), "%s/store", dir);
	if (store_create(path, err, sizeof(err)) != STORE_OK ||
	    store_open(path, st, err, sizeof(err)) != STORE_OK) {
		(void)fprintf(stderr, "bench_import: %s\n", err);
		return -1;
	}
	for (i = 0; i < ORGS; i++) {
		(void)snprintf(code, sizeof(code), "town-%d", i);
		if (registry_org_add(*st, NULL, code, "Town", NULL) != REG_OK)
			return -1;
	}
	return 0;
}

static int
run(struct store *st, const struct registry_actor *who, const char *csv,
    unsigned rows, const char *metric)
{
	struct import_report rep;
	struct registry_err e;
	struct timespec t0;
	double s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (registry_import_file(st, who, csv, NULL, &rep, &e) != REG_OK) {
		(void)fprintf(stderr, "bench_import: %s\n", e.msg);
		return -1;
	}
	s = seconds_since(&t0);
	(void)printf("%s: %zu rows (%zu new, %zu unchanged) in %.3f s\n",
	    metric, rep.rows, rep.count[IMPORT_K_NEW],
	    rep.count[IMPORT_K_UNCHANGED], s);
	(void)printf("METRIC %s=%.0f unit=rows/s\n", metric,
	    (double)rows / s);
	return rep.rows == rows ? 0 : -1;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/kleidi-bench-import-XXXXXX", csv[600];
	unsigned rows = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) :
	    100000;
	struct audit audit;
	struct registry_actor who = { &audit, "operator:bench", "local" };
	struct store *st = NULL;
	struct timespec t0;
	int rc = 1;

	if (rows == 0 || mkdtemp(dir) == NULL)
		return 2;
	log_set_level(LOG_WARN);
	if (rand_bytes(audit.key, sizeof(audit.key)) == -1)
		goto done;
	(void)snprintf(csv, sizeof(csv), "%s/registry.csv", dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (write_csv(csv, rows) == -1 || setup(dir, &st) == -1)
		goto done;
	(void)printf("generated %u rows in %.3f s\n", rows,
	    seconds_since(&t0));
	if (run(st, &who, csv, rows, "registry_import_rate") == 0 &&
	    run(st, &who, csv, rows, "registry_reimport_rate") == 0)
		rc = 0;
done:
	store_close(st);
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
