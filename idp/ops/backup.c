/*
 * backup.c - `kleidi backup` and `kleidi restore` (format in backup.h).
 * Both stream: the store snapshot goes through a 64 KiB buffer, never
 * whole into memory, so a large store backs up in constant memory.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backup.h"
#include "keys.h"
#include "store/store.h"
#include "util/util.h"

#define ARC_CHUNK 65536
#define ARC_TAG_LEN 16
#define ARC_NONCE_LEN 12

/* One archive being written or read: the digest runs over the plain
 * bytes, the cipher (when there is one) turns them into what the file
 * holds. */
struct arc {
	int fd;
	int decrypt;
	EVP_CIPHER_CTX *gcm;		/* NULL: not encrypted */
	EVP_MD_CTX *md;
	unsigned char buf[ARC_CHUNK];
	struct backup_report *rep;
	char *err;
	size_t errlen;
};

/* snprintf for paths and names: -1 (and "") when out is too small. */
static int
pathf(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
pathf(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* n bytes exactly; 1 at a clean end of file before any byte, -1 on a
 * short read or an error. */
static int
read_all(int fd, void *p, size_t n)
{
	unsigned char *c = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = read(fd, c + got, n - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return got == 0 ? 1 : -1;
		got += (size_t)r;
	}
	return 0;
}

static void
put_be(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t
get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Writes n plain bytes (hashed when hash is set). */
static int
arc_put(struct arc *a, const void *p, size_t n, int hash)
{
	const unsigned char *c = p;
	size_t k;
	int outl;

	if (hash && EVP_DigestUpdate(a->md, p, n) != 1)
		return -1;
	if (a->gcm == NULL)
		return write_all(a->fd, p, n);
	while (n > 0) {
		k = n < ARC_CHUNK ? n : ARC_CHUNK;
		if (EVP_EncryptUpdate(a->gcm, a->buf, &outl, c, (int)k) != 1 ||
		    write_all(a->fd, a->buf, (size_t)outl) == -1)
			return -1;
		c += k;
		n -= k;
	}
	return 0;
}

/* Reads n plain bytes (hashed when hash is set); -1 when the file ends
 * early. */
static int
arc_get(struct arc *a, void *p, size_t n, int hash)
{
	int outl;

	if (read_all(a->fd, p, n) != 0)
		return -1;
	if (a->gcm != NULL && (EVP_DecryptUpdate(a->gcm, p, &outl, p,
	    (int)n) != 1 || (size_t)outl != n))
		return -1;
	if (hash && EVP_DigestUpdate(a->md, p, n) != 1)
		return -1;
	return 0;
}

static int
arc_start(struct arc *a, int fd, const unsigned char *key,
    const unsigned char hdr[BACKUP_HEADER_LEN], int decrypt)
{
	int outl;

	a->fd = fd;
	a->decrypt = decrypt;
	if ((a->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(a->md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(a->md, hdr, BACKUP_HEADER_LEN) != 1)
		return -1;
	if (key == NULL)
		return 0;
	if ((a->gcm = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(a->gcm, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    !decrypt) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->gcm, EVP_CTRL_GCM_SET_IVLEN,
	    ARC_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(a->gcm, NULL, NULL, key, hdr + 12, -1) != 1 ||
	    EVP_CipherUpdate(a->gcm, NULL, &outl, hdr, BACKUP_HEADER_LEN) !=
	    1)
		return -1;
	return 0;
}

static void
arc_end(struct arc *a)
{
	EVP_CIPHER_CTX_free(a->gcm);
	EVP_MD_CTX_free(a->md);
	wipe(a->buf, sizeof(a->buf));
	a->gcm = NULL;
	a->md = NULL;
}

/* ---- key file */

/* 1 when path is inside dir (both resolved), 0 if not, -1 on error. */
static int
path_inside(const char *path, const char *dir)
{
	char rp[PATH_MAX], rd[PATH_MAX];
	size_t n;

	if (realpath(path, rp) == NULL || realpath(dir, rd) == NULL)
		return -1;
	n = strlen(rd);
	return strncmp(rp, rd, n) == 0 && (rp[n] == '/' || rp[n] == '\0' ||
	    strcmp(rd, "/") == 0);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
backup_key_read(const char *path, const char *data_dir,
    unsigned char key[BACKUP_KEY_LEN], char *err, size_t errlen)
{
	size_t len, i;
	char *s;
	int in, rc = -1;

	in = data_dir != NULL && access(data_dir, F_OK) == 0 ?
	    path_inside(path, data_dir) : 0;
	if (in == 1) {
		err_set(err, errlen, "the key file %s is inside the data "
		    "folder %s: keep it elsewhere, or the backup carries its "
		    "own key", path, data_dir);
		return -1;
	}
	if ((s = file_read(path, 4096, &len)) == NULL) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (len == BACKUP_KEY_LEN) {
		memcpy(key, s, BACKUP_KEY_LEN);
		rc = 0;
	} else {
		while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
			len--;
		for (i = 0; len == 2 * BACKUP_KEY_LEN && i < BACKUP_KEY_LEN;
		    i++) {
			if (hexval(s[2 * i]) < 0 || hexval(s[2 * i + 1]) < 0)
				break;
			key[i] = (unsigned char)(hexval(s[2 * i]) << 4 |
			    hexval(s[2 * i + 1]));
		}
		rc = len == 2 * BACKUP_KEY_LEN && i == BACKUP_KEY_LEN ? 0 : -1;
	}
	wipe(s, len);
	free(s);
	if (rc == -1) {
		wipe(key, BACKUP_KEY_LEN);
		err_set(err, errlen, "%s: a key file holds 32 bytes, or 64 hex "
		    "digits", path);
	}
	return rc;
}

/* ---- writing */

static int
entry_head(struct arc *a, const char *name, unsigned mode, uint64_t size)
{
	unsigned char h[2 + BACKUP_NAME_MAX + 12];
	size_t n = strlen(name);

	if (n == 0 || n > BACKUP_NAME_MAX)
		return -1;
	put_be(h, n, 2);
	memcpy(h + 2, name, n);
	put_be(h + 2 + n, mode & 0777, 4);
	put_be(h + 6 + n, size, 8);
	a->rep->entries++;
	a->rep->bytes += size;
	return arc_put(a, h, n + 14, 1);
}

/* Copies size bytes of fd (from its current offset) into the archive. */
static int
entry_fd(struct arc *a, const char *name, int fd, uint64_t size)
{
	unsigned char *chunk = malloc(ARC_CHUNK);
	uint64_t left = size;
	size_t k;
	int rc = -1;

	if (chunk == NULL || entry_head(a, name, 0600, size) == -1)
		goto done;
	while (left > 0) {
		k = left < ARC_CHUNK ? (size_t)left : ARC_CHUNK;
		if (read_all(fd, chunk, k) != 0 || arc_put(a, chunk, k, 1) ==
		    -1)
			goto done;
		left -= k;
	}
	rc = 0;
done:
	if (rc == -1)
		err_set(a->err, a->errlen, "cannot archive %s: %s", name,
		    errno ? strerror(errno) : "read or cipher failure");
	free(chunk);
	return rc;
}

static int
entry_file(struct arc *a, const char *name, const char *path, int optional)
{
	char *data;
	size_t len;
	int rc;

	if ((data = file_read(path, BACKUP_SMALL_MAX, &len)) == NULL) {
		if (optional && errno == ENOENT)
			return 0;
		err_set(a->err, a->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = entry_head(a, name, 0600, len);
	if (rc == 0)
		rc = arc_put(a, data, len, 1);
	wipe(data, len);
	free(data);
	if (rc == -1)
		err_set(a->err, a->errlen, "cannot archive %s", path);
	return rc;
}

/* The store snapshot: copied to an unlinked temp file beside the
 * archive, then streamed in. */
static int
write_store(struct arc *a, struct store *st, const char *tmpdir)
{
	char path[PATH_MAX], name[64];
	struct stat sb;
	int fd, rc = -1;

	(void)pathf(path, sizeof(path), "%s/.kleidi-snap-XXXXXX", tmpdir);
	if ((fd = mkstemp(path)) == -1) {
		err_set(a->err, a->errlen, "cannot create a temp file in %s: "
		    "%s", tmpdir, strerror(errno));
		return -1;
	}
	(void)unlink(path);
	if (store_backup_fd(st, fd) != STORE_OK) {
		err_set(a->err, a->errlen, "cannot copy the store");
		goto done;
	}
	if (fstat(fd, &sb) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
		err_set(a->err, a->errlen, "store snapshot: %s",
		    strerror(errno));
		goto done;
	}
	(void)pathf(name, sizeof(name), "store/%s", store_data_file());
	rc = entry_fd(a, name, fd, (uint64_t)sb.st_size);
done:
	close(fd);
	return rc;
}

static int
name_ok(const char *n)
{
	return n[0] != '.' && strchr(n, '/') == NULL &&
	    strlen(n) + 5 <= BACKUP_NAME_MAX;
}

/* Every regular file of the key folder, under its shared lock so that a
 * `keys rotate` (which takes it exclusively) is not half-seen. keys.json
 * names the PEMs it uses; master.key is there from init. */
static int
write_keys(struct arc *a, const char *data_dir)
{
	char dir[PATH_MAX], path[PATH_MAX], name[BACKUP_NAME_MAX + 1];
	struct dirent *de;
	struct stat sb;
	DIR *d = NULL;
	int lfd, rc = 0;

	(void)pathf(dir, sizeof(dir), "%s/keys", data_dir);
	if ((lfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    flock(lfd, LOCK_SH) == -1 || (d = opendir(dir)) == NULL) {
		err_set(a->err, a->errlen, "%s: %s", dir, strerror(errno));
		rc = -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!name_ok(de->d_name))
			continue;
		(void)pathf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &sb) == -1 || !S_ISREG(sb.st_mode))
			continue;
		(void)pathf(name, sizeof(name), "keys/%s", de->d_name);
		rc = entry_file(a, name, path, 0);
	}
	if (d != NULL)
		closedir(d);
	if (lfd != -1)
		close(lfd);
	return rc;
}

static int
write_tail(struct arc *a)
{
	unsigned char end[2] = { 0, 0 }, tag[ARC_TAG_LEN];
	unsigned dlen;
	int outl;

	if (arc_put(a, end, 2, 1) == -1 ||
	    EVP_DigestFinal_ex(a->md, a->rep->digest, &dlen) != 1 ||
	    arc_put(a, a->rep->digest, sizeof(a->rep->digest), 0) == -1)
		return -1;
	if (a->gcm == NULL)
		return 0;
	if (EVP_EncryptFinal_ex(a->gcm, a->buf, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->gcm, EVP_CTRL_GCM_GET_TAG, ARC_TAG_LEN,
	    tag) != 1)
		return -1;
	return write_all(a->fd, tag, sizeof(tag));
}

static void
dir_of(const char *file, char *out, size_t size)
{
	const char *slash = strrchr(file, '/');

	if (slash == NULL)
		str_copy(out, ".", size);
	else if (slash == file)
		str_copy(out, "/", size);
	else
		(void)pathf(out, size, "%.*s", (int)(slash - file), file);
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
write_body(struct arc *a, struct store *st, const char *data_dir,
    const char *tmpdir)
{
	char path[PATH_MAX];

	if (write_store(a, st, tmpdir) == -1 || write_keys(a, data_dir) == -1)
		return -1;
	(void)pathf(path, sizeof(path), "%s/kleidi.ini", data_dir);
	if (entry_file(a, "kleidi.ini", path, 1) == -1)
		return -1;
	if (write_tail(a) == -1) {
		err_set(a->err, a->errlen, "cannot finish the archive");
		return -1;
	}
	return 0;
}

int
backup_write(struct store *st, const char *data_dir, const char *file,
    const unsigned char *key, struct backup_report *rep, char *err,
    size_t errlen)
{
	unsigned char hdr[BACKUP_HEADER_LEN];
	char tmp[PATH_MAX], dir[PATH_MAX];
	struct arc a;
	int fd, rc = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&a, 0, sizeof(a));
	memset(hdr, 0, sizeof(hdr));
	a.rep = rep;
	a.err = err;
	a.errlen = errlen;
	dir_of(file, dir, sizeof(dir));
	(void)pathf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", file);
	if ((fd = mkstemp(tmp)) == -1) {
		err_set(err, errlen, "cannot create %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	memcpy(hdr, BACKUP_MAGIC, 8);
	put_be(hdr + 8, BACKUP_VERSION, 2);
	put_be(hdr + 10, key != NULL ? BACKUP_F_AESGCM : 0, 2);
	if (key != NULL && rand_bytes(hdr + 12, ARC_NONCE_LEN) == -1)
		goto done;
	rep->encrypted = key != NULL;
	if (write_all(fd, hdr, sizeof(hdr)) == -1 ||
	    arc_start(&a, fd, key, hdr, 0) == -1) {
		err_set(err, errlen, "cannot start the archive");
		goto done;
	}
	if (write_body(&a, st, data_dir, dir) == -1)
		goto done;
	if (fsync(fd) == -1 || rename(tmp, file) == -1) {
		err_set(err, errlen, "cannot write %s: %s", file,
		    strerror(errno));
		goto done;
	}
	(void)fsync_dir(dir);
	rc = 0;
done:
	arc_end(&a);
	close(fd);
	if (rc == -1)
		(void)unlink(tmp);
	return rc;
}

/* ---- restoring */

struct unpack {
	struct arc a;
	char tmp[PATH_MAX];		/* DATA/.restore-XXXXXX */
	int have_store, have_master, have_ini;
};

/* Where an archive name goes inside the temp folder; -1 for a name this
 * version does not write. */
static int
entry_path(struct unpack *u, const char *name, char *out, size_t size)
{
	char want[64];

	(void)pathf(want, sizeof(want), "store/%s", store_data_file());
	if (strcmp(name, want) == 0)
		u->have_store = 1;
	else if (strcmp(name, "kleidi.ini") == 0)
		u->have_ini = 1;
	else if (strncmp(name, "keys/", 5) == 0 && name_ok(name + 5))
		u->have_master |= strcmp(name + 5, "master.key") == 0;
	else
		return -1;
	(void)pathf(out, size, "%s/%s", u->tmp, name);
	return 0;
}

static int
unpack_content(struct unpack *u, const char *path, uint64_t size)
{
	unsigned char *chunk = malloc(ARC_CHUNK);
	size_t k;
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (chunk == NULL || fd == -1)
		goto done;
	while (size > 0) {
		k = size < ARC_CHUNK ? (size_t)size : ARC_CHUNK;
		if (arc_get(&u->a, chunk, k, 1) == -1 ||
		    write_all(fd, chunk, k) == -1)
			goto done;
		size -= k;
	}
	rc = fsync(fd);
done:
	if (fd != -1)
		close(fd);
	if (chunk != NULL)
		wipe(chunk, ARC_CHUNK);
	free(chunk);
	return rc;
}

/* One entry; 1 at the end mark. */
static int
unpack_entry(struct unpack *u, char *err, size_t errlen)
{
	unsigned char h[12];
	char name[BACKUP_NAME_MAX + 1], path[PATH_MAX];
	size_t n;
	uint64_t size;

	if (arc_get(&u->a, h, 2, 1) == -1)
		goto trunc;
	if ((n = (size_t)get_be(h, 2)) == 0)
		return 1;
	if (n > BACKUP_NAME_MAX || arc_get(&u->a, name, n, 1) == -1 ||
	    arc_get(&u->a, h, 12, 1) == -1)
		goto trunc;
	name[n] = '\0';
	size = get_be(h + 4, 8);
	if (memchr(name, '\0', n) != NULL || entry_path(u, name, path,
	    sizeof(path)) == -1) {
		err_set(err, errlen, "the archive holds an unexpected entry "
		    "\"%.64s\"", name);
		return -1;
	}
	if (unpack_content(u, path, size) == -1)
		goto trunc;
	u->a.rep->entries++;
	u->a.rep->bytes += size;
	return 0;
trunc:
	err_set(err, errlen, "the archive is truncated or damaged (or the "
	    "key is wrong)");
	return -1;
}

static int
unpack_tail(struct unpack *u, char *err, size_t errlen)
{
	unsigned char digest[32], tag[ARC_TAG_LEN], extra;
	unsigned dlen;
	int outl;

	if (EVP_DigestFinal_ex(u->a.md, u->a.rep->digest, &dlen) != 1 ||
	    arc_get(&u->a, digest, sizeof(digest), 0) == -1)
		goto bad;
	if (u->a.gcm != NULL && (read_all(u->a.fd, tag, sizeof(tag)) != 0 ||
	    EVP_CIPHER_CTX_ctrl(u->a.gcm, EVP_CTRL_GCM_SET_TAG, ARC_TAG_LEN,
	    tag) != 1 || EVP_DecryptFinal_ex(u->a.gcm, u->a.buf, &outl) != 1))
		goto bad;
	if (CRYPTO_memcmp(digest, u->a.rep->digest, sizeof(digest)) != 0 ||
	    read_all(u->a.fd, &extra, 1) != 1)
		goto bad;
	return 0;
bad:
	err_set(err, errlen, "the archive's digest%s does not check out: "
	    "damaged, truncated%s", u->a.gcm != NULL ? " or tag" : "",
	    u->a.gcm != NULL ? " or another key" : "");
	return -1;
}

static int
read_header(int fd, const unsigned char *key, unsigned char *hdr,
    char *err, size_t errlen)
{
	unsigned flags;

	if (read_all(fd, hdr, BACKUP_HEADER_LEN) != 0 ||
	    memcmp(hdr, BACKUP_MAGIC, 8) != 0) {
		err_set(err, errlen, "not a Kleidi backup");
		return -1;
	}
	if (get_be(hdr + 8, 2) != BACKUP_VERSION) {
		err_set(err, errlen, "backup format version %u: this kleidi "
		    "reads version %d", (unsigned)get_be(hdr + 8, 2),
		    BACKUP_VERSION);
		return -1;
	}
	flags = (unsigned)get_be(hdr + 10, 2);
	if ((flags & BACKUP_F_AESGCM) && key == NULL) {
		err_set(err, errlen, "the backup is encrypted: give "
		    "--decrypt-key-file");
		return -1;
	}
	if (!(flags & BACKUP_F_AESGCM) && key != NULL) {
		err_set(err, errlen, "the backup is not encrypted, but a key "
		    "was given");
		return -1;
	}
	return 0;
}

/* Removes the temp folder (two levels: store/, keys/, files). */
static void
rm_tree(const char *dir)
{
	static const char *const subs[] = { "store", "keys", "" };
	char path[PATH_MAX], f[PATH_MAX + 300];
	struct dirent *de;
	size_t i;
	DIR *d;

	for (i = 0; i < 3; i++) {
		(void)pathf(path, sizeof(path), "%s%s%s", dir,
		    *subs[i] ? "/" : "", subs[i]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			(void)pathf(f, sizeof(f), "%s/%s", path,
			    de->d_name);
			(void)unlink(f);
		}
		closedir(d);
		(void)rmdir(path);
	}
}

/* The unpacked folder must open as a store and load as a key folder. */
static int
unpack_verify(struct unpack *u, char *err, size_t errlen)
{
	char path[PATH_MAX], e[256];
	struct store *st = NULL;
	keyset *ks;

	if (!u->have_store || !u->have_master) {
		err_set(err, errlen, "the archive lacks the %s",
		    !u->have_store ? "store" : "master key");
		return -1;
	}
	(void)pathf(path, sizeof(path), "%s/store", u->tmp);
	if (store_open(path, &st, e, sizeof(e)) != STORE_OK) {
		err_set(err, errlen, "the restored store does not open: %s", e);
		return -1;
	}
	store_close(st);
	(void)pathf(path, sizeof(path), "%s/keys", u->tmp);
	if ((ks = keyset_load(path, clock_now(), e, sizeof(e))) == NULL) {
		err_set(err, errlen, "the restored keys do not load: %s", e);
		return -1;
	}
	keyset_free(ks);
	return 0;
}

static int
unpack(struct unpack *u, const unsigned char *key, char *err, size_t errlen)
{
	unsigned char hdr[BACKUP_HEADER_LEN];
	char path[PATH_MAX];
	int rc;

	if (read_header(u->a.fd, key, hdr, err, errlen) == -1)
		return -1;
	u->a.rep->encrypted = key != NULL;
	if (arc_start(&u->a, u->a.fd, key, hdr, 1) == -1) {
		err_set(err, errlen, "cannot start decryption");
		return -1;
	}
	(void)pathf(path, sizeof(path), "%s/store", u->tmp);
	if (mkdir(path, 0700) == -1)
		goto io;
	(void)pathf(path, sizeof(path), "%s/keys", u->tmp);
	if (mkdir(path, 0700) == -1)
		goto io;
	for (rc = 0; rc == 0 && u->a.rep->entries < BACKUP_ENTRIES_MAX;)
		rc = unpack_entry(u, err, errlen);
	if (rc == 0) {
		err_set(err, errlen, "the archive has too many entries");
		return -1;
	}
	if (rc == -1 || unpack_tail(u, err, errlen) == -1)
		return -1;
	return unpack_verify(u, err, errlen);
io:
	err_set(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

static int
in_way(const char *data_dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];

	(void)pathf(path, sizeof(path), "%s/%s", data_dir, name);
	if (access(path, F_OK) == -1)
		return 0;
	err_set(err, errlen, "%s already exists: refusing to overwrite a "
	    "live data folder (stop the server; --force moves it aside)",
	    path);
	return 1;
}

/* Moves DATA/name aside (force) or says it is in the way. */
static int
clear_way(const char *data_dir, const char *name, int force, char *moved,
    size_t size, char *err, size_t errlen)
{
	char path[PATH_MAX];

	(void)pathf(path, sizeof(path), "%s/%s", data_dir, name);
	if (access(path, F_OK) == -1)
		return 0;
	if (!force)
		return in_way(data_dir, name, err, errlen) ? -1 : 0;
	(void)pathf(moved, size, "%s.replaced-%lld", path,
	    (long long)clock_now());
	if (rename(path, moved) == -1) {
		err_set(err, errlen, "cannot move %s aside: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
install(struct unpack *u, const char *data_dir, int force, char *err,
    size_t errlen)
{
	static const char *const names[] = { "store", "keys" };
	char from[PATH_MAX], to[PATH_MAX];
	size_t i;

	for (i = 0; i < 2; i++)
		if (clear_way(data_dir, names[i], force,
		    u->a.rep->replaced[i], sizeof(u->a.rep->replaced[i]),
		    err, errlen) == -1)
			return -1;
	for (i = 0; i < 2; i++) {
		(void)pathf(from, sizeof(from), "%s/%s", u->tmp, names[i]);
		(void)pathf(to, sizeof(to), "%s/%s", data_dir, names[i]);
		if (rename(from, to) == -1) {
			err_set(err, errlen, "cannot move %s into place: %s",
			    to, strerror(errno));
			return -1;
		}
	}
	/* The configuration of the folder wins over the archived one. */
	(void)pathf(from, sizeof(from), "%s/kleidi.ini", u->tmp);
	(void)pathf(to, sizeof(to), "%s/kleidi.ini", data_dir);
	if (u->have_ini && access(to, F_OK) == -1)
		(void)rename(from, to);
	(void)unlink(from);
	(void)fsync_dir(data_dir);
	return 0;
}

int
backup_restore(const char *file, const unsigned char *key,
    const char *data_dir, int force, struct backup_report *rep, char *err,
    size_t errlen)
{
	struct unpack u;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&u, 0, sizeof(u));
	u.a.rep = rep;
	/* Fail early, before unpacking gigabytes. */
	if (!force && (in_way(data_dir, "store", err, errlen) ||
	    in_way(data_dir, "keys", err, errlen)))
		return -1;
	if ((u.a.fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		err_set(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	if (mkdir(data_dir, 0700) == -1 && errno != EEXIST) {
		err_set(err, errlen, "%s: %s", data_dir, strerror(errno));
		goto done;
	}
	(void)pathf(u.tmp, sizeof(u.tmp), "%s/.restore-XXXXXX", data_dir);
	if (mkdtemp(u.tmp) == NULL) {
		err_set(err, errlen, "%s: %s", u.tmp, strerror(errno));
		u.tmp[0] = '\0';
		goto done;
	}
	if (unpack(&u, key, err, errlen) == 0 &&
	    install(&u, data_dir, force, err, errlen) == 0)
		rc = 0;
done:
	arc_end(&u.a);
	close(u.a.fd);
	if (u.tmp[0] != '\0')
		rm_tree(u.tmp);
	return rc;
}
