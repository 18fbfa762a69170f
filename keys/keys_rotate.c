/*
 * keys_rotate.c - a new signing key published ahead of use, the keys it
 * replaces kept published until their tokens have expired, and the state
 * of each key for `kleidi keys list`.
 *
 * Rotation only adds PEM files and replaces keys.json (write to a temporary
 * file, rename), so a server that reads the folder at any moment sees the
 * old manifest or the new one, each complete: the new PEM files exist
 * before the manifest that names them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>

#include "keys_int.h"
#include "util/util.h"

/* Ten years: bounds delay and grace so that now + delay + grace cannot
 * overflow, and catches a unit slip (milliseconds for seconds). */
#define ROTATE_SPAN_MAX ((int64_t)10 * 366 * 86400)
#define ROTATE_NEW_MAX 2

struct rotate {
	const char *dir;
	int64_t now, not_before, retire;
	struct key_info *added;
	size_t nadded;
	/* the new PEM files, removed on failure */
	char written[ROTATE_NEW_MAX][KEYS_PATH_MAX];
	size_t nwritten;
	json_t *man;			/* the manifest being rewritten */
	char *err;
	size_t errlen;
};

const char *
key_state_name(enum key_state st)
{
	static const char *const names[] = { "next", "signing", "published",
		"retired" };

	if ((unsigned)st >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[st];
}

/* Takes the folder's lock: two rotations at once would each rewrite the
 * manifest from the same old one, and one new key would be lost. The
 * lock goes with the descriptor. */
static int
rotate_lock(const char *dir, char *err, size_t errlen)
{
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		err_set(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		err_set(err, errlen, "%s: cannot lock: %s", dir,
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	return fd;
}

static json_t *
rotate_read_manifest(const char *dir, char *err, size_t errlen)
{
	char path[KEYS_PATH_MAX];
	json_error_t jerr;
	json_t *root;
	size_t len = 0;
	char *data;

	if (keys_path(path, sizeof(path), dir, KEYS_MANIFEST, "", err,
	    errlen) == -1)
		return NULL;
	if ((data = file_read(path, KEYS_MANIFEST_MAX, &len)) == NULL) {
		err_set(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		return NULL;
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	free(data);
	if (root == NULL || !json_is_array(json_object_get(root, "keys"))) {
		err_set(err, errlen, "%s: not a key manifest", path);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Schedules the retirement of the keys the new ones replace and drops
 * the keys already retired, whose files are then removed. */
static void
rotate_schedule(struct rotate *r, unsigned algs, json_t *gone)
{
	json_t *arr = json_object_get(r->man, "keys"), *o;
	json_int_t ret;
	enum key_alg alg;
	size_t i = 0;

	while (i < json_array_size(arr)) {
		o = json_array_get(arr, i);
		ret = json_integer_value(json_object_get(o, "retire_after"));
		if (ret != 0 && ret <= r->now) {
			(void)json_array_append(gone, json_object_get(o,
			    "kid"));
			(void)json_array_remove(arr, i);
			continue;
		}
		/* keyset_load checked every entry: alg parses. */
		if (key_alg_parse(json_string_value(json_object_get(o,
		    "alg")), &alg) == 0 && (algs & KEYS_ALG_BIT(alg)) != 0 &&
		    (ret == 0 || ret > r->retire))
			(void)json_object_set_new(o, "retire_after",
			    json_integer((json_int_t)r->retire));
		i++;
	}
}

static int
rotate_add(struct rotate *r, enum key_alg alg)
{
	struct key_info *k = &r->added[r->nadded];
	char file[KEYS_KID_MAX + sizeof(KEYS_PEM_SUFFIX)];
	char kid[KEYS_KID_MAX];
	json_t *o;

	if (keys_new_key(r->dir, alg, kid, r->written[r->nwritten], r->err,
	    r->errlen) == -1)
		return -1;
	r->nwritten++;
	*k = (struct key_info){ .alg = alg, .created = r->now,
		.not_before = r->not_before, .retire_after = 0,
		.state = r->not_before > r->now ? KEY_NEXT : KEY_SIGNING };
	str_copy(k->kid, kid, sizeof(k->kid));
	(void)snprintf(file, sizeof(file), "%s%s", kid, KEYS_PEM_SUFFIX);
	o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "kid", kid, "alg",
	    key_alg_name(alg), "file", file, "created", (json_int_t)r->now,
	    "not_before", (json_int_t)r->not_before, "retire_after",
	    (json_int_t)0);
	if (o == NULL || json_array_append_new(json_object_get(r->man,
	    "keys"), o) == -1) {
		err_set(r->err, r->errlen, "keys: out of memory");
		return -1;
	}
	r->nadded++;
	return 0;
}

static int
rotate_write(struct rotate *r)
{
	char path[KEYS_PATH_MAX];
	char *text;
	int rc = -1;

	if (json_array_size(json_object_get(r->man, "keys")) > KEYS_MAX_KEYS) {
		err_set(r->err, r->errlen, "%s: more than %d keys would be "
		    "published; wait until older keys retire", r->dir,
		    KEYS_MAX_KEYS);
		return -1;
	}
	if (keys_path(path, sizeof(path), r->dir, KEYS_MANIFEST, "", r->err,
	    r->errlen) == -1)
		return -1;
	text = json_dumps(r->man, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		err_set(r->err, r->errlen, "keys: out of memory");
	else if (file_write(path, text, strlen(text), 0600, 0) == -1)
		err_set(r->err, r->errlen, "%s: cannot write: %s", path,
		    strerror(errno));
	else
		rc = 0;
	free(text);
	return rc;
}

/* The files of the keys dropped from the manifest; a failure leaves an
 * unused file behind, nothing worse. */
static void
rotate_remove(const char *dir, const json_t *gone)
{
	char path[KEYS_PATH_MAX], err[64];
	const json_t *v;
	size_t i;

	json_array_foreach(gone, i, v) {
		if (keys_path(path, sizeof(path), dir,
		    json_string_value(v), KEYS_PEM_SUFFIX, err,
		    sizeof(err)) == 0 && unlink(path) == -1 &&
		    errno != ENOENT)
			log_err("%s: cannot remove: %s", path,
			    strerror(errno));
	}
}

static int
rotate_apply(struct rotate *r, unsigned algs)
{
	json_t *gone;
	char err[256];
	keyset *ks;
	int rc = -1;

	/* Load first: a folder that does not load is repaired by hand, not
	 * rotated over. */
	if ((ks = keyset_load(r->dir, r->now, r->err, r->errlen)) == NULL)
		return -1;
	keyset_free(ks);
	if ((r->man = rotate_read_manifest(r->dir, r->err, r->errlen)) ==
	    NULL || (gone = json_array()) == NULL)
		return -1;
	rotate_schedule(r, algs, gone);
	if ((algs & KEYS_ALG_BIT(KEY_RS256)) != 0 &&
	    rotate_add(r, KEY_RS256) == -1)
		goto done;
	if ((algs & KEYS_ALG_BIT(KEY_ES256)) != 0 &&
	    rotate_add(r, KEY_ES256) == -1)
		goto done;
	if (rotate_write(r) == -1)
		goto done;
	/* The new manifest must load; if not, say so now, not at the
	 * server's next reload (which keeps its keys then). */
	if ((ks = keyset_load(r->dir, r->now, err, sizeof(err))) == NULL)
		log_err("%s: the rotated folder does not load", r->dir);
	keyset_free(ks);
	rotate_remove(r->dir, gone);
	rc = 0;
done:
	json_decref(gone);
	return rc;
}

int
keys_rotate(const char *dir, unsigned algs, int64_t now, int64_t delay,
    int64_t grace, struct key_info added[2], size_t *nadded, char *err,
    size_t errlen)
{
	struct rotate r;
	size_t i;
	int fd;

	*nadded = 0;
	if (dir == NULL || *dir == '\0' || algs == 0 ||
	    (algs & ~KEYS_ALG_ALL) != 0 || now < 0 || delay < 0 ||
	    delay > ROTATE_SPAN_MAX || grace < 0 || grace > ROTATE_SPAN_MAX) {
		err_set(err, errlen, "keys: bad rotation request");
		return -1;
	}
	r = (struct rotate){ .dir = dir, .now = now, .not_before = now + delay,
		.retire = now + delay + grace, .added = added, .err = err,
		.errlen = errlen };
	if ((fd = rotate_lock(dir, err, errlen)) == -1)
		return -1;
	if (rotate_apply(&r, algs) == -1) {
		for (i = 0; i < r.nwritten; i++)
			(void)unlink(r.written[i]);
		r.nadded = 0;
	}
	json_decref(r.man);
	(void)close(fd);
	ERR_clear_error();
	*nadded = r.nadded;
	return r.nadded > 0 ? 0 : -1;
}

size_t
keyset_count(const keyset *ks)
{
	return ks != NULL ? ks->nkeys : 0;
}

int
keyset_key_info(const keyset *ks, size_t i, int64_t now,
    struct key_info *out)
{
	const struct keys_entry *k;

	if (ks == NULL || i >= ks->nkeys)
		return -1;
	k = &ks->keys[i];
	str_copy(out->kid, k->kid, sizeof(out->kid));
	out->alg = k->alg;
	out->created = k->created;
	out->not_before = k->not_before;
	out->retire_after = k->retire_after;
	if (k->retire_after != 0 && k->retire_after <= now)
		out->state = KEY_RETIRED;
	else if (k->not_before > now)
		out->state = KEY_NEXT;
	else if (keys_sign_pick(ks, k->alg, now) == k)
		out->state = KEY_SIGNING;
	else
		out->state = KEY_PUBLISHED;
	return 0;
}

int64_t
keyset_next_change(const keyset *ks, int64_t now)
{
	int64_t next = 0, t;
	size_t i, j;

	if (ks == NULL)
		return 0;
	for (i = 0; i < ks->nkeys; i++) {
		for (j = 0; j < 2; j++) {
			t = j == 0 ? ks->keys[i].not_before :
			    ks->keys[i].retire_after;
			if (t > now && (next == 0 || t < next))
				next = t;
		}
	}
	return next;
}
