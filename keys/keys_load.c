/*
 * keys_load.c - loading a key folder: the manifest, each private key once
 * into an OpenSSL key object, the master key, and the JWKS built once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "keys_int.h"
#include "util/util.h"

#define KID_EXTRA "-_"	/* a kid is base64url */

/* A passphrase callback that never prompts: keys on disk are unencrypted,
 * and a server must not stop to read a terminal. */
static int
load_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* A non-negative integer member; the times are seconds since the epoch. */
static int
load_int(const json_t *o, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int
load_entry(const json_t *o, struct keys_entry *k, const char *path,
    size_t idx, char *err, size_t errlen)
{
	const char *kid, *alg, *file, *bad;
	size_t kidlen;

	bad = "not an object";
	if (!json_is_object(o))
		goto fail;
	bad = "bad or missing \"kid\"";
	kid = json_string_value(json_object_get(o, "kid"));
	if (kid == NULL || !str_is_token(kid, KEYS_KID_MAX - 1, KID_EXTRA))
		goto fail;
	kidlen = str_copy(k->kid, kid, sizeof(k->kid));
	bad = "bad or missing \"alg\" (RS256 or ES256)";
	alg = json_string_value(json_object_get(o, "alg"));
	if (key_alg_parse(alg, &k->alg) == -1)
		goto fail;
	/* The file is named by the kid, so a manifest cannot point outside
	 * the folder or at another key's file. */
	bad = "\"file\" must be \"<kid>.pem\"";
	file = json_string_value(json_object_get(o, "file"));
	if (file == NULL || strncmp(file, kid, kidlen) != 0 ||
	    strcmp(file + kidlen, KEYS_PEM_SUFFIX) != 0)
		goto fail;
	bad = "\"created\", \"not_before\" and \"retire_after\" must be "
	    "non-negative integers";
	if (load_int(o, "created", &k->created) == -1 ||
	    load_int(o, "not_before", &k->not_before) == -1 ||
	    load_int(o, "retire_after", &k->retire_after) == -1)
		goto fail;
	return 0;
fail:
	err_set(err, errlen, "%s: key %zu: %s", path, idx, bad);
	return -1;
}

static int
load_entries(keyset *ks, const json_t *arr, const char *path, char *err,
    size_t errlen)
{
	size_t i, j, n = json_array_size(arr);

	if (!json_is_array(arr) || n == 0 || n > KEYS_MAX_KEYS) {
		err_set(err, errlen, "%s: \"keys\" must be an array of 1 "
		    "to %d keys", path, KEYS_MAX_KEYS);
		return -1;
	}
	if ((ks->keys = calloc(n, sizeof(*ks->keys))) == NULL) {
		err_set(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (load_entry(json_array_get(arr, i), &ks->keys[i], path, i,
		    err, errlen) == -1)
			return -1;
		ks->nkeys = i + 1;
		for (j = 0; j < i; j++) {
			if (strcmp(ks->keys[j].kid, ks->keys[i].kid) != 0)
				continue;
			err_set(err, errlen, "%s: kid %s appears twice",
			    path, ks->keys[i].kid);
			return -1;
		}
	}
	return 0;
}

static int
load_manifest(keyset *ks, const char *dir, char *err, size_t errlen)
{
	char path[KEYS_PATH_MAX];
	json_error_t jerr;
	json_t *root = NULL;
	char *data;
	size_t len = 0;
	int rc = -1;

	if (keys_path(path, sizeof(path), dir, KEYS_MANIFEST, "", err,
	    errlen) == -1)
		return -1;
	if ((data = file_read(path, KEYS_MANIFEST_MAX, &len)) == NULL) {
		err_set(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		return -1;
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		err_set(err, errlen, "%s: line %d: %s", path, jerr.line,
		    jerr.text);
		goto done;
	}
	if (!json_is_object(root)) {
		err_set(err, errlen, "%s: not a JSON object", path);
		goto done;
	}
	rc = load_entries(ks, json_object_get(root, "keys"), path, err,
	    errlen);
done:
	json_decref(root);
	free(data);
	return rc;
}

/* Parses the PEM and checks it against the manifest before trusting it. */
static int
load_pem_key(struct keys_entry *k, const char *path, const unsigned char *pem,
    size_t len, char *err, size_t errlen)
{
	char kid[KEYS_KID_MAX];
	const char *why;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		err_set(err, errlen, "%s: out of memory", path);
		return -1;
	}
	k->pkey = PEM_read_bio_PrivateKey(bio, NULL, load_no_passphrase, NULL);
	BIO_free(bio);
	if (k->pkey == NULL) {
		err_set(err, errlen, "%s: not a valid unencrypted PEM "
		    "private key", path);
		return -1;
	}
	if (keys_pkey_check(k->pkey, k->alg, &why) == -1) {
		err_set(err, errlen, "%s: %s (manifest says %s)", path,
		    why, key_alg_name(k->alg));
		return -1;
	}
	if (keys_jwk_kid(k->pkey, k->alg, kid) == -1) {
		err_set(err, errlen, "%s: cannot compute the key's "
		    "thumbprint", path);
		return -1;
	}
	if (strcmp(kid, k->kid) != 0) {
		err_set(err, errlen, "%s: key's thumbprint %s does not "
		    "match its kid %s in %s", path, kid, k->kid, KEYS_MANIFEST);
		return -1;
	}
	if ((k->sign_ctx = keys_sign_ctx_new(k->pkey, k->alg)) == NULL) {
		err_set(err, errlen, "%s: cannot prepare the key for "
		    "signing", path);
		return -1;
	}
	return 0;
}

static int
load_pem(struct keys_entry *k, const char *dir, char *err, size_t errlen)
{
	char path[KEYS_PATH_MAX];
	unsigned char *pem;
	size_t len = 0;
	int rc;

	if (keys_path(path, sizeof(path), dir, k->kid, KEYS_PEM_SUFFIX, err,
	    errlen) == -1)
		return -1;
	pem = keys_file_read_private(path, KEYS_PEM_MAX, &len, err, errlen);
	if (pem == NULL)
		return -1;
	rc = load_pem_key(k, path, pem, len, err, errlen);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return rc;
}

static int
load_master(keyset *ks, const char *dir, char *err, size_t errlen)
{
	char path[KEYS_PATH_MAX];
	unsigned char *data;
	size_t len = 0;
	int rc = -1;

	if (keys_path(path, sizeof(path), dir, KEYS_MASTER_FILE, "", err,
	    errlen) == -1)
		return -1;
	data = keys_file_read_private(path, KEYS_MASTER_LEN, &len, err,
	    errlen);
	if (data == NULL)
		return -1;
	if (len != KEYS_MASTER_LEN) {
		err_set(err, errlen, "%s: %zu bytes; a master key is "
		    "exactly %d", path, len, KEYS_MASTER_LEN);
		goto done;
	}
	memcpy(ks->master, data, KEYS_MASTER_LEN);
	rc = 0;
done:
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

keyset *
keyset_load(const char *dir, int64_t now, char *err, size_t errlen)
{
	keyset *ks;
	size_t i;

	if (dir == NULL || *dir == '\0') {
		err_set(err, errlen, "keys: no key folder given");
		return NULL;
	}
	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		err_set(err, errlen, "keys: out of memory");
		return NULL;
	}
	if ((ks->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		err_set(err, errlen, "keys: no SHA-256 in OpenSSL");
		goto fail;
	}
	if (load_manifest(ks, dir, err, errlen) == -1)
		goto fail;
	for (i = 0; i < ks->nkeys; i++)
		if (load_pem(&ks->keys[i], dir, err, errlen) == -1)
			goto fail;
	if (load_master(ks, dir, err, errlen) == -1)
		goto fail;
	if ((ks->jwks = keys_jwk_jwks(ks, now)) == NULL) {
		err_set(err, errlen, "%s: cannot build the JWKS", dir);
		goto fail;
	}
	/* The PEM decoder tries formats in turn and may leave errors of the
	 * ones that did not fit; none may mislead the caller's next check. */
	ERR_clear_error();
	return ks;
fail:
	ERR_clear_error();
	keyset_free(ks);
	return NULL;
}
