/*
 * keys_init.c - a new key folder: one RSA-2048 key, one P-256 key, the
 * master key and the manifest, all mode 0600 in a folder of mode 0700.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keys_int.h"
#include "util/util.h"

#define INIT_NKEYS 2
#define INIT_NFILES (INIT_NKEYS + 2)	/* the keys, master.key, keys.json */

struct init_state {
	const char *dir;
	char kid[INIT_NKEYS][KEYS_KID_MAX];
	char written[INIT_NFILES][KEYS_PATH_MAX];	/* undone on failure */
	size_t nwritten;
	int made_dir;		/* removed on failure when we made it */
	char *err;
	size_t errlen;
};

static const enum key_alg init_algs[INIT_NKEYS] = { KEY_RS256, KEY_ES256 };

/* 1 when name is a file that init writes: an old key folder. */
static int
init_name_taken(const char *name)
{
	size_t len = strlen(name), slen = strlen(KEYS_PEM_SUFFIX);

	if (strcmp(name, KEYS_MASTER_FILE) == 0 ||
	    strcmp(name, KEYS_MANIFEST) == 0)
		return 1;
	return len >= slen && strcmp(name + len - slen, KEYS_PEM_SUFFIX) == 0;
}

/* An existing folder is fine only if it holds no keys: init never
 * overwrites a key that tokens may still be signed with. */
static int
init_dir_check_empty(const char *dir, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		err_set(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!init_name_taken(de->d_name))
			continue;
		err_set(err, errlen, "%s: already holds %s; refusing to "
		    "overwrite existing keys", dir, de->d_name);
		rc = -1;
		break;
	}
	(void)closedir(d);
	return rc;
}

static int
init_dir(struct init_state *is)
{
	struct stat sb;

	if (mkdir(is->dir, 0700) == 0)
		is->made_dir = 1;
	else {
		if (errno != EEXIST) {
			err_set(is->err, is->errlen, "%s: cannot create: "
			    "%s", is->dir, strerror(errno));
			return -1;
		}
		if (stat(is->dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
			err_set(is->err, is->errlen, "%s: exists and is "
			    "not a folder", is->dir);
			return -1;
		}
		if (init_dir_check_empty(is->dir, is->err, is->errlen) == -1)
			return -1;
	}
	/* mkdir's mode passes through the umask; the folder of secrets
	 * must be 0700 whatever the umask or the old folder's mode. */
	if (chmod(is->dir, 0700) == -1) {
		err_set(is->err, is->errlen, "%s: cannot chmod 700: %s",
		    is->dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes a new file of the folder (never replacing one), remembering it so
 * that a failure later removes it and a retry finds the folder empty. */
static int
init_write(struct init_state *is, const char *name, const char *suffix,
    const void *data, size_t len)
{
	char *path;

	if (is->nwritten >= INIT_NFILES)
		return -1;
	path = is->written[is->nwritten];
	if (keys_path(path, KEYS_PATH_MAX, is->dir, name, suffix, is->err,
	    is->errlen) == -1)
		return -1;
	if (file_write(path, data, len, 0600, 1) == -1) {
		err_set(is->err, is->errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		return -1;
	}
	is->nwritten++;
	return 0;
}

static EVP_PKEY *
keys_generate(enum key_alg alg)
{
	/* RSA keygen's public exponent defaults to 65537. */
	if (alg == KEY_RS256)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)KEYS_RSA_BITS);
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int
keys_write_pem(EVP_PKEY *pkey, enum key_alg alg, const char *path,
    char *err, size_t errlen)
{
	char *pem = NULL;
	BIO *bio;
	long len;
	int rc = -1;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 || (len = BIO_get_mem_data(bio, &pem)) <= 0) {
		err_set(err, errlen, "keys: cannot encode the %s key",
		    key_alg_name(alg));
		goto done;
	}
	if (file_write(path, pem, (size_t)len, 0600, 1) == -1)
		err_set(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
	else
		rc = 0;
	OPENSSL_cleanse(pem, (size_t)len);
done:
	BIO_free(bio);
	return rc;
}

int
keys_new_key(const char *dir, enum key_alg alg, char kid[KEYS_KID_MAX],
    char path[KEYS_PATH_MAX], char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	int rc = -1;

	if ((pkey = keys_generate(alg)) == NULL ||
	    keys_jwk_kid(pkey, alg, kid) == -1) {
		err_set(err, errlen, "keys: cannot generate the %s key",
		    key_alg_name(alg));
		goto done;
	}
	if (keys_path(path, KEYS_PATH_MAX, dir, kid, KEYS_PEM_SUFFIX, err,
	    errlen) == -1)
		goto done;
	rc = keys_write_pem(pkey, alg, path, err, errlen);
done:
	EVP_PKEY_free(pkey);
	return rc;
}

/* Generates key i, names it by its thumbprint, writes <kid>.pem. */
static int
init_key(struct init_state *is, size_t i)
{
	if (is->nwritten >= INIT_NFILES)
		return -1;
	if (keys_new_key(is->dir, init_algs[i], is->kid[i],
	    is->written[is->nwritten], is->err, is->errlen) == -1)
		return -1;
	is->nwritten++;
	return 0;
}

static int
init_master(struct init_state *is)
{
	unsigned char master[KEYS_MASTER_LEN];
	int rc;

	if (rand_bytes(master, sizeof(master)) == -1) {
		err_set(is->err, is->errlen, "keys: no randomness for the "
		    "master key");
		return -1;
	}
	rc = init_write(is, KEYS_MASTER_FILE, "", master, sizeof(master));
	OPENSSL_cleanse(master, sizeof(master));
	return rc;
}

static int
init_manifest(struct init_state *is, int64_t now)
{
	json_t *root, *arr, *o;
	char file[KEYS_KID_MAX + sizeof(KEYS_PEM_SUFFIX)];
	char *text = NULL;
	size_t i;
	int rc = -1;

	if ((root = json_pack("{s:[]}", "keys")) == NULL)
		goto fail;
	arr = json_object_get(root, "keys");
	for (i = 0; i < INIT_NKEYS; i++) {
		(void)snprintf(file, sizeof(file), "%s%s", is->kid[i],
		    KEYS_PEM_SUFFIX);
		o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "kid", is->kid[i],
		    "alg", key_alg_name(init_algs[i]), "file", file,
		    "created", (json_int_t)now, "not_before", (json_int_t)now,
		    "retire_after", (json_int_t)0);
		if (o == NULL || json_array_append_new(arr, o) == -1)
			goto fail;
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		goto fail;
	rc = init_write(is, KEYS_MANIFEST, "", text, strlen(text));
	goto done;
fail:
	err_set(is->err, is->errlen, "keys: cannot build %s",
	    KEYS_MANIFEST);
done:
	free(text);
	json_decref(root);
	return rc;
}

int
keys_init(const char *dir, int64_t now, char *err, size_t errlen)
{
	struct init_state *is;
	size_t i;
	int rc = -1;

	if (dir == NULL || *dir == '\0' || now < 0) {
		err_set(err, errlen, "keys: no key folder or bad time");
		return -1;
	}
	/* On the heap: the paths of the written files are a few KiB. */
	if ((is = calloc(1, sizeof(*is))) == NULL) {
		err_set(err, errlen, "keys: out of memory");
		return -1;
	}
	is->dir = dir;
	is->err = err;
	is->errlen = errlen;
	if (init_dir(is) == -1)
		goto done;
	for (i = 0; i < INIT_NKEYS; i++)
		if (init_key(is, i) == -1)
			goto done;
	/* The manifest last: a folder with keys.json is a complete one. */
	if (init_master(is) == -1 || init_manifest(is, now) == -1)
		goto done;
	rc = 0;
done:
	if (rc == -1) {
		for (i = 0; i < is->nwritten; i++)
			(void)unlink(is->written[i]);
		if (is->made_dir)
			(void)rmdir(dir);
		ERR_clear_error();
	}
	free(is);
	return rc;
}
