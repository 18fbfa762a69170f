/* harness.c - runs the real kleidi binary for integration tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define START_TIMEOUT_MS 20000
#define CLI_ARGS_MAX 32

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

int
harness_init(struct harness *h)
{
	/* Cheap hashes; one factor unless an app asks for two; every test
	 * comes from 127.0.0.1, so a large per-address burst. */
	static const char ini[] = "[password]\nargon2_t_cost = 1\n"
	    "argon2_m_cost_kib = 8192\n[policy]\nemployee_factors = 1\n"
	    "[limits]\nsignin_burst = 10000\n";
	char path[512];
	const char *args[] = { "init", "--issuer", h->issuer, NULL };

	memset(h, 0, sizeof(*h));
	str_copy(h->dir, "/tmp/kleidi-test-XXXXXX", sizeof(h->dir));
	if (mkdtemp(h->dir) == NULL || (h->port = free_port()) == 0)
		return -1;
	snprintf(h->issuer, sizeof(h->issuer), "http://127.0.0.1:%u", h->port);
	str_copy(h->base, h->issuer, sizeof(h->base));
	snprintf(path, sizeof(path), "%s/kleidi.ini", h->dir);
	if (file_write(path, ini, sizeof(ini) - 1, 0600, 0) == -1)
		return -1;
	if (harness_cli(h, NULL, NULL, args) != 0) {
		fprintf(stderr, "harness: kleidi init failed\n");
		return -1;
	}
	return 0;
}

/* KLEIDI_WRAP, when set, is a command the server runs under (for example
 * "valgrind --error-exitcode=99 --leak-check=full"): blank-separated words
 * put in front of the kleidi binary. Only `serve` is wrapped; the CLI runs
 * as it is. */
static int
wrap_words(const char *const *argv, const char **args, int max, char *copy,
    size_t size)
{
	const char *w = getenv("KLEIDI_WRAP");
	char *save = NULL, *t;
	int n = 0;

	if (w == NULL || *w == '\0' || strcmp(argv[0], "serve") != 0 ||
	    str_copy(copy, w, size) >= size)
		return 0;
	for (t = strtok_r(copy, " ", &save); t != NULL && n < max;
	    t = strtok_r(NULL, " ", &save))
		args[n++] = t;
	return n;
}

static void
child_exec(struct harness *h, const char *const *argv, int in, int out)
{
	const char *args[CLI_ARGS_MAX + 20];
	char wrap[1024];
	int n, first;

	n = first = wrap_words(argv, args, 16, wrap, sizeof(wrap));
	args[n++] = KLEIDI_BIN;
	for (; *argv != NULL && n < CLI_ARGS_MAX + 16; argv++)
		args[n++] = *argv;
	args[n++] = "--data";
	args[n++] = h->dir;
	args[n] = NULL;
	if ((in != -1 && dup2(in, 0) == -1) || (out != -1 && dup2(out, 1)
	    == -1))
		_exit(127);
	if (first > 0)
		execvp(args[0], (char *const *)args);
	else
		execv(KLEIDI_BIN, (char *const *)args);
	_exit(127);
}

static void
read_all(int fd, struct buf *out)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0 || (n == -1 &&
	    errno == EINTR))
		if (n > 0 && out != NULL)
			(void)buf_append(out, chunk, (size_t)n);
}

int
harness_cli(struct harness *h, const char *stdin_text, struct buf *out,
    const char *const *argv)
{
	int inp[2], outp[2], status;
	pid_t pid;

	if (pipe(inp) == -1 || pipe(outp) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(inp[1]);
		close(outp[0]);
		child_exec(h, argv, inp[0], outp[1]);
	}
	close(inp[0]);
	close(outp[1]);
	if (stdin_text != NULL)
		(void)!write(inp[1], stdin_text, strlen(stdin_text));
	close(inp[1]);
	read_all(outp[0], out);
	close(outp[0]);
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Reads the server's stdout until its "serving" line, bounded in time. */
static int
wait_ready(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char line[1024];
	size_t n = 0;
	ssize_t r;
	int waited = 0;

	while (waited < START_TIMEOUT_MS && n < sizeof(line) - 1) {
		if (poll(&p, 1, 100) == 0) {
			waited += 100;
			continue;
		}
		if ((r = read(fd, line + n, sizeof(line) - 1 - n)) <= 0)
			return -1;
		n += (size_t)r;
		line[n] = '\0';
		if (strstr(line, "kleidi: serving") != NULL)
			return 0;
	}
	return -1;
}

int
harness_start(struct harness *h)
{
	char listen[64];
	const char *args[] = { "serve", "--listen", listen, NULL };
	int outp[2], rc;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", h->port);
	if (pipe(outp) == -1)
		return -1;
	if ((h->pid = fork()) == -1)
		return -1;
	if (h->pid == 0) {
		close(outp[0]);
		child_exec(h, args, -1, outp[1]);
	}
	close(outp[1]);
	rc = wait_ready(outp[0]);
	/* Later output is not read; the server's log goes to stderr. */
	close(outp[0]);
	if (rc == -1) {
		fprintf(stderr, "harness: server did not start\n");
		harness_stop(h);
	}
	return rc;
}

int
harness_stop(struct harness *h)
{
	int status, ok = 1;

	if (h->pid <= 0)
		return 0;
	kill(h->pid, SIGTERM);
	if (waitpid(h->pid, &status, 0) != h->pid)
		ok = 0;
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* A sanitizer or valgrind report, a crash, or an unclean
		 * stop: the server's own failure, whatever the client saw. */
		fprintf(stderr, "harness: server ended badly (%s %d)\n",
		    WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status));
		ok = 0;
	}
	h->pid = 0;
	return ok ? 0 : -1;
}

void
harness_cleanup(struct harness *h)
{
	char cmd[600];
	int stopped = harness_stop(h);

	if (h->dir[0] != '\0' && strncmp(h->dir, "/tmp/kleidi-test-", 17)
	    == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "harness: cannot remove %s\n", h->dir);
	}
	/* Fails the test group (cleanup runs in its teardown). */
	assert_int_equal(stopped, 0);
}

/* 1 while sig waits for the server to take it, 0 when it does not, -1
 * when the server is gone. */
static int
signal_pending(const struct harness *h, int sig)
{
	char path[64], *s, *p;
	unsigned long long mask;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)h->pid);
	if ((s = file_read(path, 1 << 16, NULL)) == NULL)
		return -1;
	if ((p = strstr(s, "\nShdPnd:")) == NULL) {
		free(s);
		return -1;
	}
	mask = strtoull(p + 8, NULL, 16);
	free(s);
	return (mask & (1ULL << (sig - 1))) != 0;
}

int
harness_signal(struct harness *h, int sig)
{
	const struct timespec poll = { 0, 20 * 1000000L };
	int i, rc;

	if (h->pid <= 0 || kill(h->pid, sig) != 0)
		return -1;
	for (i = 0; i < 750; i++) {	/* 15 s */
		if ((rc = signal_pending(h, sig)) <= 0)
			return rc;
		(void)nanosleep(&poll, NULL);
	}
	return -1;
}

int
harness_store_digest(struct harness *h, unsigned char out[32])
{
	char path[512];
	size_t len;
	char *data;

	snprintf(path, sizeof(path), "%s/store/data.mdb", h->dir);
	if ((data = file_read(path, 1u << 30, &len)) == NULL)
		return -1;
	sha256(data, len, out);
	free(data);
	return 0;
}
