/* misc.c - clock, logging, strings and files. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static _Atomic(clock_fn) clock_override;
static _Atomic int log_min = LOG_INFO;

int64_t
clock_now(void)
{
	clock_fn fn = atomic_load(&clock_override);

	if (fn != NULL)
		return fn();
	return (int64_t)time(NULL);
}

int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
clock_set(clock_fn fn)
{
	atomic_store(&clock_override, fn);
}

void
log_set_level(enum log_level l)
{
	atomic_store(&log_min, (int)l);
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	char line[1024], stamp[32];
	struct tm tm;
	time_t t;
	va_list ap;
	size_t i;

	if ((int)l < atomic_load(&log_min))
		return;
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One event, one line: control characters from user input must not
	 * forge log lines. */
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	(void)fprintf(stderr, "%s kleidi[%d] %s: %s\n", stamp, (int)getpid(),
	    names[l], line);
}

void
err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

size_t
str_copy(char *dst, const char *src, size_t dstsize)
{
	size_t n = strlen(src);

	if (dstsize > 0) {
		size_t c = n < dstsize - 1 ? n : dstsize - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int
str_is_token(const char *s, size_t max, const char *extra)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;
		if (n >= max)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (extra == NULL || strchr(extra, c) == NULL)
			return 0;
	}
	return 1;
}

char *
file_read(const char *path, size_t max, size_t *len)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf_init(&b, max);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_append(&b, chunk, (size_t)n) == -1) {
			if (n != -1)
				errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	if (len != NULL)
		*len = b.len;
	wipe(chunk, sizeof(chunk));
	return buf_steal(&b);
fail:
	n = errno;
	close(fd);
	buf_free(&b);
	wipe(chunk, sizeof(chunk));
	errno = (int)n;
	return NULL;
}

/* Makes the new directory entry durable: without it a crash right after
 * the rename may lose the file. */
static void
dir_sync(const char *path)
{
	char dir[4096];
	char *slash;
	int fd;

	str_copy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		str_copy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

int
file_write(const char *path, const void *data, size_t len, int mode,
    int excl)
{
	char tmp[4096];
	const char *p = data;
	ssize_t n;
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path,
	    (int)getpid()) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd == -1)
		return -1;
	if (fchmod(fd, (mode_t)mode) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* link() refuses an existing target, so excl holds even against a
	 * race; rename() replaces atomically otherwise. */
	if (excl) {
		if (link(tmp, path) == -1)
			goto fail;
		(void)unlink(tmp);
	} else if (rename(tmp, path) == -1)
		goto fail;
	dir_sync(path);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	errno = saved;
	return -1;
}
