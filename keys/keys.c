/*
 * keys.c - algorithm names, keyset accessors and the helpers the other files
 * of the library share: paths in the key folder, reading a private file,
 * checking that a key object fits its algorithm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "keys_int.h"

const char *
key_alg_name(enum key_alg alg)
{
	switch (alg) {
	case KEY_RS256:
		return "RS256";
	case KEY_ES256:
		return "ES256";
	}
	return NULL;	/* not an algorithm of ours */
}

int
key_alg_parse(const char *name, enum key_alg *out)
{
	if (name == NULL || out == NULL)
		return -1;
	/* Exact, case-sensitive: JWA names are case-sensitive (RFC 7518). */
	if (strcmp(name, "RS256") == 0)
		*out = KEY_RS256;
	else if (strcmp(name, "ES256") == 0)
		*out = KEY_ES256;
	else
		return -1;
	return 0;
}

void
keyset_free(keyset *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->nkeys; i++) {
		EVP_PKEY_CTX_free(ks->keys[i].sign_ctx);
		EVP_PKEY_free(ks->keys[i].pkey);
	}
	free(ks->keys);
	free(ks->jwks);
	EVP_MD_free(ks->sha256);
	OPENSSL_cleanse(ks->master, sizeof(ks->master));
	free(ks);
}

const char *
keyset_jwks(const keyset *ks)
{
	return ks != NULL ? ks->jwks : NULL;
}

const unsigned char *
keyset_master_key(const keyset *ks)
{
	return ks != NULL ? ks->master : NULL;
}

int
keys_path(char *out, size_t outlen, const char *dir, const char *name,
    const char *suffix, char *err, size_t errlen)
{
	int n;

	n = snprintf(out, outlen, "%s/%s%s", dir, name, suffix);
	if (n < 0 || (size_t)n >= outlen) {
		err_set(err, errlen, "keys: path too long in %s", dir);
		return -1;
	}
	return 0;
}

/* Reads the whole of fd (a regular file of size bytes) into buf. */
static int
keys_read_fd(int fd, unsigned char *buf, size_t size)
{
	unsigned char extra;
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		n = read(fd, buf + off, size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;	/* error, or the file shrank under us */
		off += (size_t)n;
	}
	/* A file that grew since fstat would be read only in part. */
	do {
		n = read(fd, &extra, 1);
	} while (n == -1 && errno == EINTR);
	return n == 0 ? 0 : -1;
}

/*
 * Reads a file that holds a secret: it must be a regular file of at most max
 * bytes that neither group nor others may read, as ssh does for its keys.
 * The mode is checked on the open descriptor, so a swap between the check
 * and the read cannot slip another file in. Returns a malloc'd buffer with a
 * NUL after the data (wipe it before freeing), or NULL with err filled.
 */
unsigned char *
keys_file_read_private(const char *path, size_t max, size_t *len, char *err,
    size_t errlen)
{
	unsigned char *buf = NULL;
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO planted in place of the file must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		err_set(err, errlen, "%s: group or others may access it "
		    "(mode %03o); it holds a secret, chmod 600 it", path,
		    (unsigned)(st.st_mode & 0777));
		goto done;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > max) {
		err_set(err, errlen, "%s: larger than %zu bytes", path,
		    max);
		goto done;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		err_set(err, errlen, "%s: out of memory", path);
		goto done;
	}
	if (keys_read_fd(fd, buf, (size_t)st.st_size) == -1) {
		err_set(err, errlen, "%s: read failed", path);
		OPENSSL_cleanse(buf, (size_t)st.st_size);
		free(buf);
		buf = NULL;
		goto done;
	}
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
done:
	(void)close(fd);
	return buf;
}

/* 1 when pkey is an EC key on P-256, the only curve ES256 allows. */
static int
keys_pkey_is_p256(EVP_PKEY *pkey)
{
	char group[64];
	size_t glen = 0;

	if (!EVP_PKEY_is_a(pkey, "EC"))
		return 0;
	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen))
		return 0;
	return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/*
 * Signs a fixed message and verifies it with the public half of pkey: a
 * key file whose public part does not belong to its private part would
 * sign tokens that no one can verify against the JWKS. Cheaper than
 * EVP_PKEY_pairwise_check, which tests RSA primes for tens of ms.
 */
static int
keys_pkey_selftest(EVP_PKEY *pkey)
{
	static const unsigned char msg[] = "kleidi key self-test";
	unsigned char sig[KEYS_RSA_BITS_MAX / 8];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx;
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, msg, sizeof(msg)) != 1 ||
	    siglen > sizeof(sig) ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) != 1)
		goto done;
	if (EVP_MD_CTX_reset(ctx) != 1 ||
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) != 1)
		goto done;
	rc = 0;
done:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Checks that pkey is a private key of the kind alg signs with and that
 * its halves belong together. */
int
keys_pkey_check(EVP_PKEY *pkey, enum key_alg alg, const char **why)
{
	*why = "wrong key type for its algorithm";
	if (alg == KEY_RS256) {
		if (!EVP_PKEY_is_a(pkey, "RSA"))
			return -1;
		*why = "RSA key shorter than 2048 or longer than 8192 bits";
		if (EVP_PKEY_get_bits(pkey) < KEYS_RSA_BITS ||
		    EVP_PKEY_get_bits(pkey) > KEYS_RSA_BITS_MAX)
			return -1;
	} else if (alg == KEY_ES256) {
		if (!keys_pkey_is_p256(pkey))
			return -1;
	} else
		return -1;
	*why = "private and public key do not match";
	return keys_pkey_selftest(pkey);
}

int
keyset_derive(const keyset *ks, const char *label, unsigned char out[32])
{
	EVP_PKEY_CTX *ctx;
	size_t len = 32;
	int rc = -1;

	if (ks == NULL || label == NULL)
		return -1;
	if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL)) == NULL)
		return -1;
	if (EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, ks->master, KEYS_MASTER_LEN) == 1 &&
	    EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)label,
	    (int)strlen(label)) == 1 && EVP_PKEY_derive(ctx, out, &len) == 1 &&
	    len == 32)
		rc = 0;
	EVP_PKEY_CTX_free(ctx);
	if (rc == -1)
		OPENSSL_cleanse(out, 32);
	return rc;
}
