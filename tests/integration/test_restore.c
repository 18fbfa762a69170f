/*
 * test_restore.c - the restore drill. While sign-ins run against the
 * server in a thread, `kleidi backup --encrypt-key-file` takes a hot copy;
 * the archive is restored (encrypted) into a new folder and served on a
 * new port under the original issuer. There the people of the old server
 * sign in, a token the old server issued before the backup still verifies
 * (same keys), and `kleidi audit verify` and `kleidi store check` pass.
 * Along the way: a key file inside the data folder, a restore over a live
 * folder, a restore without the key and a damaged archive are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "kleidi.h"
#include "steps.h"

#define REDIRECT "http://127.0.0.1:9/cb"
#define USERS 4

static struct harness h, h2;	/* the original, and the restored */
static char secret[128], outside[256];
static atomic_int stop;
static atomic_int signins_ok;

static unsigned
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	unsigned port = 0;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Signs user in at hh without asserting (the load thread); 0 when a
 * token came back. */
static int
try_sign_in(struct harness *hh, const char *user)
{
	struct browser *b = browser_new();
	char url[1024], csrf[128], body[512], auth[512], code[256];
	struct page p;
	int ok = 0;

	authorize_url(hh, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	if (browser_get(b, url, NULL, &p) != 0)
		goto done;
	ok = p.status == 200 && html_input_value(p.body.data, "csrf", csrf,
	    sizeof(csrf)) == 0;
	page_free(&p);
	if (!ok)
		goto done;
	snprintf(url, sizeof(url), "%s/login", hh->base);
	snprintf(body, sizeof(body), "username=%s&password=password%%20of%%20"
	    "%s&csrf=%s", user, user, csrf);
	if ((ok = browser_post(b, url, NULL, body, &p) == 0) == 0)
		goto done;
	ok = p.status == 302 && url_param(p.location, "code", code,
	    sizeof(code)) == 0;
	page_free(&p);
	if (!ok)
		goto done;
	snprintf(url, sizeof(url), "%s/token", hh->base);
	snprintf(body, sizeof(body), "grant_type=authorization_code&code=%s&"
	    "redirect_uri=%s", code, REDIRECT);
	basic_auth(auth, sizeof(auth), "payroll", secret);
	if ((ok = browser_post(b, url, auth, body, &p) == 0) == 0)
		goto done;
	ok = p.status == 200;
	page_free(&p);
done:
	browser_free(b);
	return ok ? 0 : -1;
}

static void *
load(void *arg)
{
	char user[16];
	int i = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		snprintf(user, sizeof(user), "user%d", i++ % USERS);
		if (try_sign_in(&h, user) == 0)
			atomic_fetch_add(&signins_ok, 1);
	}
	return NULL;
}

/* The token response of a sign-in of user at hh (asserting). */
static json_t *
sign_in(struct harness *hh, const char *user)
{
	char url[1024], csrf[128], code[256], pass[64];
	struct browser *b = browser_new();
	struct page p, q;
	json_t *j;

	authorize_url(hh, url, sizeof(url), "payroll", REDIRECT, NULL, NULL);
	open_login(b, url, csrf, sizeof(csrf));
	snprintf(pass, sizeof(pass), "password%%20of%%20%s", user);
	post_login(b, hh, csrf, user, pass, &p);
	assert_int_equal(p.status, 302);
	assert_int_equal(url_param(p.location, "code", code, sizeof(code)), 0);
	exchange(b, hh, "payroll", secret, code, REDIRECT, NULL, &q);
	assert_int_equal(q.status, 200);
	j = json_of(&q);
	page_free(&p);
	page_free(&q);
	browser_free(b);
	return j;
}

static void
verify_access(struct harness *hh, const char *token)
{
	char url[256];
	kl_verifier *v;
	kl_claims *c = NULL;
	kl_error err;

	snprintf(url, sizeof(url), "%s/jwks", hh->base);
	v = kl_verifier_new_url(h.issuer, url, NULL, &err);
	assert_non_null(v);
	assert_int_equal(kl_verify_access_token(v, token, "payroll", &c,
	    &err), KL_OK);
	kl_claims_free(c);
	kl_verifier_free(v);
}

static void
test_restore_drill(void **state)
{
	char file[512], key[512], badkey[512], bad[512], port_base[128];
	json_t *before, *after, *j;
	struct buf out;
	pthread_t t;
	char *data;
	size_t len;
	int during;

	(void)state;
	before = sign_in(&h, "user0");
	snprintf(key, sizeof(key), "%s/backup.key", outside);
	snprintf(file, sizeof(file), "%s/kleidi.backup", outside);
	assert_int_equal(file_write(key, "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff\n", 65, 0600, 0), 0);
	/* A key kept beside the data protects nothing. */
	snprintf(badkey, sizeof(badkey), "%s/backup.key", h.dir);
	assert_int_equal(file_write(badkey, "0123456789abcdef0123456789abcdef",
	    32, 0600, 0), 0);
	assert_int_equal(run_cli(&h, NULL, NULL, "backup", file,
	    "--encrypt-key-file", badkey, NULL), 1);

	/* The hot copy, under sign-ins. */
	assert_int_equal(pthread_create(&t, NULL, load, NULL), 0);
	while (atomic_load(&signins_ok) < 2)
		usleep(10000);
	during = atomic_load(&signins_ok);
	j = run_cli_json(&h, NULL, "backup", file, "--encrypt-key-file", key,
	    NULL);
	during = atomic_load(&signins_ok) - during;
	assert_true(json_is_true(json_object_get(j, "encrypted")));
	json_decref(j);
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	print_message("restore: %d sign-ins in all, %d finished while the "
	    "backup ran\n", atomic_load(&signins_ok), during);
	assert_true(atomic_load(&signins_ok) >= 2);

	/* Refusals: over a live folder, without the key, damaged. */
	assert_int_equal(run_cli(&h, NULL, NULL, "restore", file,
	    "--decrypt-key-file", key, NULL), 1);
	str_copy(h2.dir, "/tmp/kleidi-test-XXXXXX", sizeof(h2.dir));
	assert_non_null(mkdtemp(h2.dir));
	assert_int_equal(run_cli(&h2, NULL, NULL, "restore", file, NULL), 1);
	assert_non_null(data = file_read(file, 1u << 30, &len));
	data[len / 2] ^= 1;
	snprintf(bad, sizeof(bad), "%s/damaged.backup", outside);
	assert_int_equal(file_write(bad, data, len, 0600, 0), 0);
	free(data);
	assert_int_equal(run_cli(&h2, NULL, NULL, "restore", bad,
	    "--decrypt-key-file", key, NULL), 1);
	assert_int_equal(access(h2.dir, F_OK), 0);

	/* The drill. */
	buf_init(&out, 1 << 16);
	assert_int_equal(run_cli(&h2, NULL, &out, "restore", file,
	    "--decrypt-key-file", key, NULL), 0);
	buf_free(&out);
	assert_int_equal(run_cli(&h2, NULL, NULL, "audit", "verify", NULL), 0);
	assert_int_equal(run_cli(&h2, NULL, NULL, "store", "check", NULL), 0);
	str_copy(h2.issuer, h.issuer, sizeof(h2.issuer));
	assert_true((h2.port = free_port()) != 0);
	snprintf(port_base, sizeof(port_base), "http://127.0.0.1:%u", h2.port);
	str_copy(h2.base, port_base, sizeof(h2.base));
	assert_int_equal(harness_start(&h2), 0);
	verify_access(&h2, jstr(before, "access_token"));
	after = sign_in(&h2, "user3");
	verify_access(&h2, jstr(after, "access_token"));
	json_decref(after);
	after = sign_in(&h2, "user1");
	json_decref(after);
	json_decref(before);
	assert_int_equal(harness_stop(&h2), 0);
	/* The sign-ins on the restored server extend its chain. */
	assert_int_equal(run_cli(&h2, NULL, NULL, "audit", "verify", NULL), 0);
}

static int
setup(void **state)
{
	char name[16], pass[64];
	int i;

	(void)state;
	assert_int_equal(harness_init(&h), 0);
	str_copy(outside, "/tmp/kleidi-test-XXXXXX", sizeof(outside));
	assert_non_null(mkdtemp(outside));
	provision_payroll(&h, REDIRECT, secret, sizeof(secret));
	for (i = 0; i < USERS; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(pass, sizeof(pass), "password of %s\n", name);
		assert_int_equal(run_cli(&h, pass, NULL, "user", "add", name,
		    "--org", "town", "--name", name, "--password-stdin",
		    NULL), 0);
	}
	assert_int_equal(harness_start(&h), 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", outside);
	if (strncmp(outside, "/tmp/kleidi-test-", 17) == 0 && system(cmd))
		fprintf(stderr, "cannot remove %s\n", outside);
	if (h2.dir[0] != '\0')
		harness_cleanup(&h2);
	harness_cleanup(&h);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_drill),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
