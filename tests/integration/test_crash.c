/*
 * test_crash.c - crash consistency. A bounded mixed load runs against the
 * real server and the CLI on one data folder: sign-ins, refresh-token
 * rotations (an app with --refresh), grant add/revoke and registry imports
 * through the CLI. At a random moment (seeded: KLEIDI_CRASH_SEED repeats a
 * run; the seed is printed) the server AND any CLI process in flight are
 * killed with SIGKILL, as a power cut would. Then: `kleidi store check`
 * passes (indexes and audit chain), and after a restart every write that
 * was acknowledged (HTTP 200, CLI exit 0) is there: the grant is in the
 * next token's roles (a revoke took it out), the last refresh token handed
 * out still refreshes (or was rotated by a request that was in flight),
 * the browser's session still signs in without a password, the imported
 * people exist - and an import is all or nothing, acknowledged or not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "steps.h"

#define CYCLES 20
#define KILL_MIN_MS 100
#define KILL_SPAN_MS 350
#define ROWS 3			/* people per import */
#define ROLES_MAX 512
#define IMPORTS_MAX 512
#define REDIRECT "http://127.0.0.1:9/cb"
#define PASSWORD "correct horse battery"
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define TOKEN_SIZE 128

static struct harness h;
static char secret[128];

/* ---- what was acknowledged */
enum role_state { R_NONE, R_UNKNOWN, R_ADDED, R_REVOKED, R_REVOKING };
static struct {
	char name[32];
	enum role_state st;
} roles[ROLES_MAX];
static int nroles;

static struct {
	char path[512];
	int tried, acked;
} imports[IMPORTS_MAX];
static int nimports;

/* The refresh family of the cycle: the last token handed out, and the
 * token of a refresh whose answer never came (it may have rotated). */
static char rt_latest[TOKEN_SIZE], rt_pending[TOKEN_SIZE];
static struct browser *sso;		/* a browser whose sign-in was acked */
static unsigned long writes_checked, ops_acked;

static atomic_int stop;
static atomic_int refused;		/* a live refresh was refused */
static pthread_mutex_t cli_mtx = PTHREAD_MUTEX_INITIALIZER;
static pid_t cli_pid;			/* under cli_mtx */

/* ---- CLI processes the killer can reach */

/* Runs kleidi ARGS --data DIR with stdout to /dev/null; the exit status,
 * or -1 when it was killed (or could not run). */
static int
cli_run(const char *const *argv)
{
	const char *args[24];
	int n = 0, status, fd;
	pid_t pid;

	args[n++] = KLEIDI_BIN;
	while (*argv != NULL && n < 20)
		args[n++] = *argv++;
	args[n++] = "--data";
	args[n++] = h.dir;
	args[n] = NULL;
	pthread_mutex_lock(&cli_mtx);
	if (atomic_load(&stop) || (pid = fork()) == -1) {
		pthread_mutex_unlock(&cli_mtx);
		return -1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, 0);
			(void)dup2(fd, 1);
		}
		execv(KLEIDI_BIN, (char *const *)args);
		_exit(127);
	}
	cli_pid = pid;
	pthread_mutex_unlock(&cli_mtx);
	while (waitpid(pid, &status, 0) == -1)
		;
	pthread_mutex_lock(&cli_mtx);
	cli_pid = 0;
	pthread_mutex_unlock(&cli_mtx);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A valid Greek tax number (AFM) from 8 digits of n. */
static void
afm(unsigned n, char out[10])
{
	unsigned sum = 0, i;

	snprintf(out, 10, "%08u", n % 100000000u);
	for (i = 0; i < 8; i++)
		sum += (unsigned)(out[i] - '0') << (8 - i);
	out[8] = (char)('0' + sum % 11 % 10);
	out[9] = '\0';
}

static int
import_new(int cycle)
{
	char csv[2048], tax[10];
	size_t len;
	int k = nimports++, i;

	assert_true(k < IMPORTS_MAX);
	len = (size_t)snprintf(csv, sizeof(csv), "registry_no,tax_id,surname,"
	    "given_name,email,mobile,org,position,status,effective\n");
	for (i = 0; i < ROWS; i++) {
		afm((unsigned)(k * ROWS + i + 1000), tax);
		len += (size_t)snprintf(csv + len, sizeof(csv) - len,
		    "r%d-%d,%s,Person,C%dI%d,p%d.%d@town.gr,,town,clerk,"
		    "active,\n", k, i, tax, cycle, k, k, i);
	}
	snprintf(imports[k].path, sizeof(imports[k].path), "%s/imp-%d.csv",
	    h.dir, k);
	assert_int_equal(file_write(imports[k].path, csv, len, 0600, 0), 0);
	return k;
}

static void
cli_one(unsigned *seed, int cycle)
{
	int r = (int)(rand_r(seed) % 10), i, k;
	const char *argv[8];

	if (r < 1) {		/* an import */
		k = import_new(cycle);
		imports[k].tried = 1;
		argv[0] = "registry"; argv[1] = "import";
		argv[2] = imports[k].path; argv[3] = NULL;
		imports[k].acked = cli_run(argv) == 0;
		ops_acked += (unsigned)imports[k].acked;
		return;
	}
	for (i = nroles - 1; r >= 6 && i >= 0; i--)
		if (roles[i].st == R_ADDED)
			break;
	if (r >= 6 && i >= 0) {	/* revoke an acked grant */
		roles[i].st = R_REVOKING;
		argv[0] = "grant"; argv[1] = "revoke"; argv[2] = "maria";
		argv[3] = "payroll"; argv[4] = roles[i].name; argv[5] = NULL;
		roles[i].st = cli_run(argv) == 0 ? R_REVOKED : R_UNKNOWN;
		ops_acked += roles[i].st == R_REVOKED;
		return;
	}
	assert_true(nroles < ROLES_MAX);
	i = nroles++;
	snprintf(roles[i].name, sizeof(roles[i].name), "c%dr%d", cycle, i);
	roles[i].st = R_UNKNOWN;
	argv[0] = "grant"; argv[1] = "add"; argv[2] = "maria";
	argv[3] = "payroll"; argv[4] = roles[i].name; argv[5] = NULL;
	if (cli_run(argv) == 0) {
		roles[i].st = R_ADDED;
		ops_acked++;
	}
}

struct load {
	unsigned seed;
	int cycle;
};

static void *
cli_load(void *arg)
{
	struct load *l = arg;

	while (!atomic_load(&stop))
		cli_one(&l->seed, l->cycle);
	return NULL;
}

/* ---- HTTP, without asserts: a killed server is expected here */

static json_t *
token_post(struct browser *b, const char *body)
{
	char url[256], auth[512];
	struct page p;
	json_t *j = NULL;

	snprintf(url, sizeof(url), "%s/token", h.base);
	basic_auth(auth, sizeof(auth), "payroll", secret);
	if (browser_post(b, url, auth, body, &p) != 0)
		return NULL;
	if (p.status == 200)
		j = json_loads(p.body.data, 0, NULL);
	else if (p.status == 400)
		j = json_pack("{s:s}", "error", "invalid_grant");
	page_free(&p);
	return j;
}

/* The authorize step; 302 with a code (single sign-on) copies the code,
 * 200 copies the form's csrf. Returns the status, -1 on no answer. */
static long
authorize(struct browser *b, char *code, char *csrf, size_t size)
{
	char url[1024];
	struct page p;
	long st;

	snprintf(url, sizeof(url), "%s/authorize?response_type=code&"
	    "client_id=payroll&redirect_uri=%s&scope=openid%%20offline_access"
	    "&state=st-1&code_challenge_method=S256&code_challenge=%s",
	    h.base, REDIRECT, CHALLENGE);
	if (browser_get(b, url, NULL, &p) != 0)
		return -1;
	st = p.status;
	if (st == 302 && url_param(p.location, "code", code, size) != 0)
		st = 0;
	if (st == 200 && html_input_value(p.body.data, "csrf", csrf, size))
		st = 0;
	page_free(&p);
	return st;
}

static json_t *
exchange_code(struct browser *b, const char *code)
{
	char body[1024];

	snprintf(body, sizeof(body), "grant_type=authorization_code&code=%s&"
	    "redirect_uri=%s&code_verifier=%s", code, REDIRECT, VERIFIER);
	return token_post(b, body);
}

/* A full sign-in of maria; the token response or NULL. */
static json_t *
sign_in(struct browser *b)
{
	char code[256], csrf[256], url[256], body[1024];
	struct page p;
	int ok;

	if (authorize(b, code, csrf, sizeof(code)) != 200)
		return NULL;
	snprintf(url, sizeof(url), "%s/login", h.base);
	snprintf(body, sizeof(body), "username=maria&password=correct%%20"
	    "horse%%20battery&csrf=%s", csrf);
	if (browser_post(b, url, NULL, body, &p) != 0)
		return NULL;
	ok = p.status == 302 && url_param(p.location, "code", code,
	    sizeof(code)) == 0;
	page_free(&p);
	return ok ? exchange_code(b, code) : NULL;
}

static const char *
jget(json_t *j, const char *k)
{
	return j != NULL ? json_string_value(json_object_get(j, k)) : NULL;
}

/* One refresh of rt_latest; 0 acked, -1 no answer (rt_pending set). */
static int
refresh_once(struct browser *b)
{
	char body[512];
	json_t *j;

	str_copy(rt_pending, rt_latest, sizeof(rt_pending));
	snprintf(body, sizeof(body), "grant_type=refresh_token&"
	    "refresh_token=%s", rt_latest);
	if ((j = token_post(b, body)) == NULL)
		return -1;
	if (jget(j, "refresh_token") == NULL) {
		/* Refused while serving: checked in the main thread. */
		atomic_store(&refused, 1);
		json_decref(j);
		return -1;
	}
	str_copy(rt_latest, jget(j, "refresh_token"), sizeof(rt_latest));
	rt_pending[0] = '\0';
	ops_acked++;
	json_decref(j);
	return 0;
}

static void *
http_load(void *arg)
{
	struct browser *b;
	json_t *j;
	int i;

	(void)arg;
	while (!atomic_load(&stop)) {
		b = browser_new();
		if ((j = sign_in(b)) == NULL || jget(j, "refresh_token") ==
		    NULL) {
			json_decref(j);
			browser_free(b);
			break;
		}
		str_copy(rt_latest, jget(j, "refresh_token"),
		    sizeof(rt_latest));
		rt_pending[0] = '\0';
		json_decref(j);
		browser_free(sso);
		sso = b;
		ops_acked++;
		for (i = 0; i < 3 && !atomic_load(&stop); i++)
			if (refresh_once(b) == -1)
				return NULL;
	}
	return NULL;
}

/* ---- checks after a crash */

static void
check_refresh(void)
{
	char body[512];
	struct browser *b;
	json_t *j;

	if (rt_latest[0] == '\0')
		return;
	b = browser_new();
	snprintf(body, sizeof(body), "grant_type=refresh_token&"
	    "refresh_token=%s", rt_latest);
	j = token_post(b, body);
	assert_non_null(j);
	/* Refused only when a rotation of it may have committed unseen. */
	if (jget(j, "refresh_token") == NULL)
		assert_string_equal(rt_pending, rt_latest);
	writes_checked++;
	/* The check rotated it: the next cycle goes on from the new one. */
	str_copy(rt_latest, jget(j, "refresh_token") != NULL ?
	    jget(j, "refresh_token") : "", sizeof(rt_latest));
	rt_pending[0] = '\0';
	json_decref(j);
	browser_free(b);
}

static void
check_session(void)
{
	char code[256], csrf[256];

	if (sso == NULL)
		return;
	/* The session of an acknowledged sign-in: no password asked. */
	assert_int_equal(authorize(sso, code, csrf, sizeof(code)), 302);
	writes_checked++;
}

/* The roles claim of a fresh access token of maria. */
static json_t *
token_roles(void)
{
	struct browser *b = browser_new();
	json_t *j = sign_in(b), *claims, *r;
	const char *at = jget(j, "access_token"), *dot1, *dot2;
	unsigned char *payload;
	size_t len;

	assert_non_null(at);
	dot1 = strchr(at, '.');
	assert_non_null(dot1);
	dot2 = strchr(dot1 + 1, '.');
	assert_non_null(dot2);
	payload = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &len);
	assert_non_null(payload);
	claims = json_loadb((const char *)payload, len, 0, NULL);
	assert_non_null(claims);
	r = json_incref(json_object_get(claims, "roles"));
	json_decref(claims);
	free(payload);
	json_decref(j);
	browser_free(b);
	return r;
}

static int
has_role(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return 1;
	return 0;
}

static void
check_roles(void)
{
	json_t *r = token_roles();
	int i;

	for (i = 0; i < nroles; i++) {
		if (roles[i].st == R_ADDED) {
			assert_true(has_role(r, roles[i].name));
			writes_checked++;
		} else if (roles[i].st == R_REVOKED) {
			assert_false(has_role(r, roles[i].name));
			writes_checked++;
		} else if (roles[i].st == R_UNKNOWN) {
			/* Settle it, so later cycles check it. */
			roles[i].st = has_role(r, roles[i].name) ? R_ADDED :
			    R_NONE;
		}
	}
	json_decref(r);
}

/* An import is all or nothing: a dry run plans 0 or ROWS new people. */
static void
check_imports(int from)
{
	struct buf out;
	json_t *j;
	long n;
	int k;

	for (k = from; k < nimports; k++) {
		if (!imports[k].tried)
			continue;
		buf_init(&out, 1 << 20);
		assert_int_equal(run_cli(&h, NULL, &out, "registry", "import",
		    imports[k].path, "--dry-run", "--json", NULL), 0);
		assert_non_null(j = json_loads(out.data, 0, NULL));
		n = (long)json_integer_value(json_object_get(j, "new"));
		if (n != 0 && n != ROWS)
			fail_msg("import %d half-applied: %ld of %d new", k, n,
			    ROWS);
		if (imports[k].acked)
			assert_int_equal(n, 0);
		writes_checked += imports[k].acked ? ROWS : 0;
		json_decref(j);
		buf_free(&out);
	}
}

static void
kill_all(void)
{
	pthread_mutex_lock(&cli_mtx);
	atomic_store(&stop, 1);
	if (cli_pid > 0)
		kill(cli_pid, SIGKILL);
	kill(h.pid, SIGKILL);
	pthread_mutex_unlock(&cli_mtx);
	while (waitpid(h.pid, NULL, 0) == -1)
		;
	h.pid = 0;
}

static void
cycle(int c, unsigned *seed)
{
	struct load l = { rand_r(seed), c };
	struct timespec ts;
	pthread_t tc, th;
	int first = nimports;
	unsigned ms = KILL_MIN_MS + rand_r(seed) % KILL_SPAN_MS;

	atomic_store(&stop, 0);
	assert_int_equal(harness_start(&h), 0);
	assert_int_equal(pthread_create(&tc, NULL, cli_load, &l), 0);
	assert_int_equal(pthread_create(&th, NULL, http_load, NULL), 0);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	kill_all();
	pthread_join(tc, NULL);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&refused), 0);
	print_message("crash: cycle %d killed after %u ms (%d imports, %d "
	    "roles so far)\n", c, ms, nimports, nroles);
	/* Nothing runs now: the store as the power cut left it. */
	assert_int_equal(run_cli(&h, NULL, NULL, "store", "check", NULL), 0);
	assert_int_equal(harness_start(&h), 0);
	check_refresh();
	check_session();
	check_roles();
	check_imports(first);
	assert_int_equal(harness_stop(&h), 0);
}

static void
test_crash_cycles(void **state)
{
	const char *env = getenv("KLEIDI_CRASH_SEED");
	unsigned seed = env != NULL ? (unsigned)strtoul(env, NULL, 10) :
	    (unsigned)time(NULL) ^ (unsigned)getpid();
	struct timespec t0, t1;
	int c;

	(void)state;
	print_message("crash: seed %u (KLEIDI_CRASH_SEED=%u repeats it)\n",
	    seed, seed);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (c = 0; c < CYCLES; c++)
		cycle(c, &seed);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("crash: %d kill/restart cycles, %lu writes acked, %lu "
	    "checked, %.1f s\n", CYCLES, ops_acked, writes_checked,
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec -
	    t0.tv_nsec) / 1e9);
	assert_true(writes_checked > 0);
}

static int
setup(void **state)
{
	json_t *j;

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "add", "town",
	    "--name", "Town", NULL), 0);
	j = run_cli_json(&h, NULL, "app", "add", "payroll", "--name",
	    "Payroll", "--redirect-uri", REDIRECT, "--refresh", NULL);
	str_copy(secret, jstr(j, "client_secret"), sizeof(secret));
	json_decref(j);
	assert_int_equal(run_cli(&h, NULL, NULL, "org", "subscribe", "town",
	    "payroll", NULL), 0);
	assert_int_equal(run_cli(&h, PASSWORD "\n", NULL, "user", "add",
	    "maria", "--org", "town", "--name", "Maria", "--password-stdin",
	    NULL), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	browser_free(sso);
	harness_cleanup(&h);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_cycles),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
