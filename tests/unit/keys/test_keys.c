/*
 * test_keys.c - the keys library: key folder creation, loading and its
 * refusals, JWKS and RFC 7638 kids, JWS signatures checked with OpenSSL
 * against the public keys taken from the JWKS.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "keys.h"
#include "util/util.h"

#define NOW ((int64_t)1700000000)
#define PATHLEN 512
/* Well-formed, but no key's thumbprint. */
#define FAKE_KID "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

/* One key folder made once (RSA keygen is slow under sanitizers); tests
 * that change a folder work on a copy. */
static char base[PATHLEN];	/* mkdtemp folder, removed at the end */
static char shared[PATHLEN];	/* base/keys, made by keys_init */
static int ncopies;

/* ---- helpers: files and folders */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void
rm_tree(const char *path)
{
	(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATHLEN, "%s/%s", dir, name);

	assert_true(n > 0 && n < PATHLEN);
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[PATHLEN];
	char *data;

	join(path, dir, name);
	data = file_read(path, 1 << 20, len);
	assert_non_null(data);
	return data;
}

static void
put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATHLEN];

	join(path, dir, name);
	assert_int_equal(file_write(path, data, len, 0600, 0), 0);
}

/* A fresh copy of the shared folder, every file mode 0600. */
static void
copy_shared(char out[PATHLEN])
{
	const char *names[4] = { "keys.json", "master.key", NULL, NULL };
	char name[96];
	json_t *man, *k;
	size_t i, len;
	char *data;

	assert_true(snprintf(out, PATHLEN, "%s/copy%d", base, ncopies++) <
	    PATHLEN);
	assert_int_equal(mkdir(out, 0700), 0);
	data = slurp(shared, "keys.json", &len);
	man = json_loads(data, 0, NULL);
	free(data);
	assert_non_null(man);
	for (i = 0; i < 4; i++) {
		if (i >= 2) {
			k = json_array_get(json_object_get(man, "keys"), i - 2);
			(void)snprintf(name, sizeof(name), "%s",
			    json_string_value(json_object_get(k, "file")));
			names[i] = name;
		}
		data = slurp(shared, names[i], &len);
		put(out, names[i], data, len);
		free(data);
	}
	json_decref(man);
}

/* dir's keys.json, parsed (a new reference). */
static json_t *
manifest_load(const char *dir)
{
	json_t *man;
	size_t len;
	char *data;

	data = slurp(dir, "keys.json", &len);
	man = json_loadb(data, len, 0, NULL);
	free(data);
	assert_non_null(man);
	return man;
}

static json_t *
manifest_entry(json_t *man, const char *alg)
{
	json_t *k;
	size_t i;

	json_array_foreach(json_object_get(man, "keys"), i, k)
		if (strcmp(json_string_value(json_object_get(k, "alg")),
		    alg) == 0)
			return k;
	fail_msg("no %s key in manifest", alg);
	return NULL;
}

static void
manifest_save(const char *dir, json_t *man)
{
	char *text = json_dumps(man, JSON_INDENT(2));

	assert_non_null(text);
	put(dir, "keys.json", text, strlen(text));
	free(text);
	json_decref(man);
}

static void
manifest_set_int(const char *dir, const char *alg, const char *field,
    int64_t v)
{
	json_t *man = manifest_load(dir);

	json_object_set_new(manifest_entry(man, alg), field,
	    json_integer((json_int_t)v));
	manifest_save(dir, man);
}

static const char *
manifest_kid(const char *dir, const char *alg, char out[KEYS_KID_MAX])
{
	json_t *man = manifest_load(dir);

	(void)snprintf(out, KEYS_KID_MAX, "%s", json_string_value(
	    json_object_get(manifest_entry(man, alg), "kid")));
	json_decref(man);
	return out;
}

/* keyset_load must fail, with an error that names the file and, when
 * why is given, says why. */
static void
assert_load_refused_why(const char *dir, const char *file_part,
    const char *why)
{
	char err[512] = "";
	keyset *ks;

	ks = keyset_load(dir, NOW, err, sizeof(err));
	if (ks != NULL) {
		keyset_free(ks);
		fail_msg("%s loaded; expected a refusal naming %s", dir,
		    file_part);
	}
	if (strstr(err, file_part) == NULL)
		fail_msg("error \"%s\" does not name %s", err, file_part);
	if (why != NULL && strstr(err, why) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, why);
}

static void
assert_load_refused(const char *dir, const char *file_part)
{
	assert_load_refused_why(dir, file_part, NULL);
}

/* ---- helpers: an independent base64url and RFC 7638 thumbprint */

static char *
test_b64url(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * (len / 3 + 1) + 1);
	int n, i;

	assert_non_null(out);
	n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++)
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	return out;
}

static unsigned char *
unb64(const char *s, size_t *len)
{
	unsigned char *out = b64url_decode(s, strlen(s), len);

	assert_non_null(out);
	return out;
}

static void
test_thumbprint(const json_t *jwk, char out[KEYS_KID_MAX])
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	unsigned char md[32];
	unsigned int mdlen = 0;
	char canon[2048];
	char *enc;

#define M(name) json_string_value(json_object_get(jwk, name))
	if (strcmp(kty, "RSA") == 0)
		(void)snprintf(canon, sizeof(canon),
		    "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", M("e"),
		    M("n"));
	else
		(void)snprintf(canon, sizeof(canon),
		    "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
		    M("crv"), M("x"), M("y"));
#undef M
	assert_int_equal(EVP_Digest(canon, strlen(canon), md, &mdlen,
	    EVP_sha256(), NULL), 1);
	enc = test_b64url(md, mdlen);
	(void)snprintf(out, KEYS_KID_MAX, "%s", enc);
	free(enc);
}

/* ---- helpers: the public key of a JWK, and JWS verification */

static EVP_PKEY *
jwk_to_pkey(const json_t *jwk)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	unsigned char *a, *b, pub[65];
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	size_t alen, blen;
	int rsa = strcmp(kty, "RSA") == 0;

	a = unb64(json_string_value(json_object_get(jwk, rsa ? "n" : "x")),
	    &alen);
	b = unb64(json_string_value(json_object_get(jwk, rsa ? "e" : "y")),
	    &blen);
	if (rsa) {
		n = BN_bin2bn(a, (int)alen, NULL);
		e = BN_bin2bn(b, (int)blen, NULL);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
	} else {
		assert_int_equal(alen, 32);
		assert_int_equal(blen, 32);
		pub[0] = 4;	/* uncompressed point */
		memcpy(pub + 1, a, 32);
		memcpy(pub + 33, b, 32);
		OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    pub, sizeof(pub));
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(a);
	free(b);
	return pkey;
}

/* The JWK of kid in the JWKS (a new reference), or NULL. */
static json_t *
jwks_find(const char *jwks, const char *kid)
{
	json_t *doc = json_loads(jwks, 0, NULL), *k, *found = NULL;
	size_t i;

	assert_non_null(doc);
	json_array_foreach(json_object_get(doc, "keys"), i, k)
		if (strcmp(json_string_value(json_object_get(k, "kid")),
		    kid) == 0)
			found = json_incref(k);
	json_decref(doc);
	return found;
}

/* JOSE R||S back to DER for EVP. */
static unsigned char *
rs_to_der(const unsigned char *rs, size_t len, size_t *derlen)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int n;

	assert_int_equal(len, 64);
	assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(rs, 32, NULL),
	    BN_bin2bn(rs + 32, 32, NULL)), 1);
	n = i2d_ECDSA_SIG(sig, &der);
	assert_true(n > 0);
	*derlen = (size_t)n;
	ECDSA_SIG_free(sig);
	return der;
}

/* 1 when sig64 (base64url) is a valid signature of input under jwk. */
static int
jws_verify(const json_t *jwk, const char *input, size_t inlen,
    const char *sig64)
{
	EVP_PKEY *pkey = jwk_to_pkey(jwk);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig, *der = NULL;
	size_t siglen, derlen;
	int ok;

	sig = unb64(sig64, &siglen);
	if (strcmp(json_string_value(json_object_get(jwk, "kty")), "EC") ==
	    0) {
		der = rs_to_der(sig, siglen, &derlen);
		free(sig);
		sig = der;
		siglen = derlen;
	}
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
	    pkey), 1);
	ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)input,
	    inlen) == 1;
	if (der != NULL)
		OPENSSL_free(der);
	else
		free(sig);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ok;
}

struct jws_parts {
	json_t *header;
	char *payload;	/* decoded, NUL-terminated */
	size_t inlen;	/* length of header64.payload64 */
	const char *sig64;
};

static void
jws_split(const char *jws, struct jws_parts *p)
{
	const char *d1 = strchr(jws, '.'), *d2;
	unsigned char *h;
	size_t len;
	char *tmp;

	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	tmp = strndup(jws, (size_t)(d1 - jws));
	h = unb64(tmp, &len);
	free(tmp);
	p->header = json_loadb((const char *)h, len, 0, NULL);
	assert_non_null(p->header);
	free(h);
	tmp = strndup(d1 + 1, (size_t)(d2 - d1 - 1));
	p->payload = (char *)unb64(tmp, &len);
	free(tmp);
	p->inlen = (size_t)(d2 - jws);
	p->sig64 = d2 + 1;
}

static void
jws_parts_free(struct jws_parts *p)
{
	json_decref(p->header);
	free(p->payload);
}

/* Checks a JWS from ks: header, verbatim payload, and the signature
 * against the JWKS key its kid names. */
static void
check_jws(const keyset *ks, const char *jws, const char *alg,
    const char *typ, const char *claims)
{
	struct jws_parts p;
	json_t *jwk;

	jws_split(jws, &p);
	assert_string_equal(json_string_value(json_object_get(p.header,
	    "alg")), alg);
	assert_string_equal(json_string_value(json_object_get(p.header,
	    "typ")), typ);
	assert_int_equal(json_object_size(p.header), 3);
	jwk = jwks_find(keyset_jwks(ks), json_string_value(
	    json_object_get(p.header, "kid")));
	assert_non_null(jwk);
	assert_string_equal(json_string_value(json_object_get(jwk, "alg")),
	    alg);
	assert_string_equal(p.payload, claims);
	assert_true(jws_verify(jwk, jws, p.inlen, p.sig64));
	json_decref(jwk);
	jws_parts_free(&p);
}

/* ---- fixture */

static int
group_setup(void **state)
{
	char err[256] = "";
	mode_t old;
	int rc;

	(void)state;
	(void)snprintf(base, sizeof(base), "/tmp/kleidi-keys-XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	if (snprintf(shared, sizeof(shared), "%s/keys", base) >=
	    (int)sizeof(shared))
		return -1;
	/* A hostile umask: the modes must come out right regardless. */
	old = umask(0277);
	rc = keys_init(shared, NOW, err, sizeof(err));
	(void)umask(old);
	if (rc != 0)
		(void)fprintf(stderr, "keys_init: %s\n", err);
	return rc;
}

static int
group_teardown(void **state)
{
	(void)state;
	rm_tree(base);
	return 0;
}

/* ---- tests */

static void
test_alg_names(void **state)
{
	enum key_alg a;

	(void)state;
	assert_string_equal(key_alg_name(KEY_RS256), "RS256");
	assert_string_equal(key_alg_name(KEY_ES256), "ES256");
	assert_int_equal(key_alg_parse("RS256", &a), 0);
	assert_int_equal(a, KEY_RS256);
	assert_int_equal(key_alg_parse("ES256", &a), 0);
	assert_int_equal(a, KEY_ES256);
	assert_int_equal(key_alg_parse("es256", &a), -1);
	assert_int_equal(key_alg_parse("none", &a), -1);
	assert_int_equal(key_alg_parse("HS256", &a), -1);
	assert_int_equal(key_alg_parse("", &a), -1);
	assert_int_equal(key_alg_parse(NULL, &a), -1);
	keyset_free(NULL);
	assert_null(keyset_jwks(NULL));
	assert_null(keyset_master_key(NULL));
	assert_int_equal(keyset_can_sign(NULL, KEY_ES256, NOW), 0);
}

static void
test_init_files_and_modes(void **state)
{
	const char *names[] = { "keys.json", "master.key" };
	char path[PATHLEN], *pem;
	json_t *man, *k;
	size_t i, len;

	(void)state;
	assert_int_equal(file_mode(shared), 0700);
	for (i = 0; i < 2; i++) {
		join(path, shared, names[i]);
		assert_int_equal(file_mode(path), 0600);
	}
	free(slurp(shared, "master.key", &len));
	assert_int_equal(len, KEYS_MASTER_LEN);
	man = manifest_load(shared);
	assert_int_equal(json_array_size(json_object_get(man, "keys")), 2);
	json_array_foreach(json_object_get(man, "keys"), i, k) {
		join(path, shared,
		    json_string_value(json_object_get(k, "file")));
		assert_int_equal(file_mode(path), 0600);
		pem = slurp(shared, json_string_value(json_object_get(k,
		    "file")), &len);
		/* PKCS #8, not a traditional RSA/EC PEM. */
		assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
		free(pem);
		assert_int_equal(json_integer_value(json_object_get(k,
		    "not_before")), NOW);
		assert_int_equal(json_integer_value(json_object_get(k,
		    "retire_after")), 0);
	}
	assert_string_not_equal(
	    json_string_value(json_object_get(manifest_entry(man, "RS256"),
	    "kid")), json_string_value(json_object_get(manifest_entry(man,
	    "ES256"), "kid")));
	json_decref(man);
}

static void
test_init_refuses_existing(void **state)
{
	char err[512] = "", *man1, *mk1, *man2, *mk2, dir[PATHLEN];
	size_t l1, l2, k1, k2;

	(void)state;
	man1 = slurp(shared, "keys.json", &l1);
	mk1 = slurp(shared, "master.key", &k1);
	assert_int_equal(keys_init(shared, NOW + 5, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refusing"));
	man2 = slurp(shared, "keys.json", &l2);
	mk2 = slurp(shared, "master.key", &k2);
	assert_int_equal(l1, l2);
	assert_memory_equal(man1, man2, l1);
	assert_int_equal(k1, k2);
	assert_memory_equal(mk1, mk2, k1);
	free(man1);
	free(man2);
	free(mk1);
	free(mk2);

	/* A lone .pem is enough to refuse; nothing else gets written. */
	join(dir, base, "stray");
	assert_int_equal(mkdir(dir, 0700), 0);
	put(dir, "old.pem", "x", 1);
	assert_int_equal(keys_init(dir, NOW, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "old.pem"));
	join(dir, base, "stray/keys.json");
	assert_int_equal(access(dir, F_OK), -1);

	/* A missing parent folder is an error, not a crash. */
	join(dir, base, "no/such/folder");
	assert_int_equal(keys_init(dir, NOW, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no/such/folder"));
}

static void
test_init_existing_empty_dir(void **state)
{
	char err[256] = "", dir[PATHLEN];
	keyset *ks;

	(void)state;
	join(dir, base, "empty");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(keys_init(dir, NOW, err, sizeof(err)), 0);
	assert_int_equal(file_mode(dir), 0700);
	ks = keyset_load(dir, NOW, err, sizeof(err));
	assert_non_null(ks);
	keyset_free(ks);
}

static void
test_load_jwks(void **state)
{
	static const char *priv[] = { "d", "p", "q", "dp", "dq", "qi" };
	char err[256] = "", kid_rs[KEYS_KID_MAX], kid_es[KEYS_KID_MAX];
	unsigned char *bin;
	json_t *doc, *rsa, *ec, *k;
	size_t i, j, len;
	keyset *ks;
	char *mk;

	(void)state;
	ks = keyset_load(shared, NOW, err, sizeof(err));
	assert_non_null(ks);
	doc = json_loads(keyset_jwks(ks), 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "keys")), 2);
	json_array_foreach(json_object_get(doc, "keys"), i, k) {
		for (j = 0; j < sizeof(priv) / sizeof(priv[0]); j++)
			assert_null(json_object_get(k, priv[j]));
		assert_string_equal(json_string_value(json_object_get(k,
		    "use")), "sig");
	}
	rsa = jwks_find(keyset_jwks(ks), manifest_kid(shared, "RS256",
	    kid_rs));
	ec = jwks_find(keyset_jwks(ks), manifest_kid(shared, "ES256",
	    kid_es));
	assert_non_null(rsa);
	assert_non_null(ec);
	assert_string_not_equal(kid_rs, kid_es);
	assert_string_equal(json_string_value(json_object_get(rsa, "kty")),
	    "RSA");
	assert_string_equal(json_string_value(json_object_get(rsa, "e")),
	    "AQAB");
	/* n: 256 bytes, big-endian, no leading zero octet. */
	bin = unb64(json_string_value(json_object_get(rsa, "n")), &len);
	assert_int_equal(len, 256);
	assert_true(bin[0] & 0x80);
	free(bin);
	assert_string_equal(json_string_value(json_object_get(ec, "kty")),
	    "EC");
	assert_string_equal(json_string_value(json_object_get(ec, "crv")),
	    "P-256");
	assert_string_equal(json_string_value(json_object_get(ec, "alg")),
	    "ES256");
	assert_int_equal(strlen(json_string_value(json_object_get(ec, "x"))),
	    43);
	assert_int_equal(strlen(json_string_value(json_object_get(ec, "y"))),
	    43);
	mk = slurp(shared, "master.key", &len);
	assert_memory_equal(keyset_master_key(ks), mk, KEYS_MASTER_LEN);
	free(mk);
	json_decref(rsa);
	json_decref(ec);
	json_decref(doc);
	keyset_free(ks);
}

static void
test_kid_is_rfc7638_thumbprint(void **state)
{
	/* RFC 7638 section 3.1. */
	static const char rfc_jwk[] =
	    "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2a"
	    "iAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZ"
	    "CiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5"
	    "v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL"
	    "5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XP"
	    "ksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\",\"e\":\""
	    "AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
	char err[256] = "", want[KEYS_KID_MAX], got[KEYS_KID_MAX], *s;
	json_t *doc, *k;
	keyset *ks;
	size_t i;

	(void)state;
	assert_int_equal(keys_jwk_thumbprint(rfc_jwk, got), 0);
	assert_string_equal(got,
	    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");

	ks = keyset_load(shared, NOW, err, sizeof(err));
	assert_non_null(ks);
	doc = json_loads(keyset_jwks(ks), 0, NULL);
	json_array_foreach(json_object_get(doc, "keys"), i, k) {
		test_thumbprint(k, want);
		assert_string_equal(json_string_value(json_object_get(k,
		    "kid")), want);
		s = json_dumps(k, 0);
		assert_int_equal(keys_jwk_thumbprint(s, got), 0);
		assert_string_equal(got, want);
		free(s);
	}
	json_decref(doc);
	keyset_free(ks);

	/* Malformed JWKs get no thumbprint. */
	assert_int_equal(keys_jwk_thumbprint("{\"kty\":\"oct\",\"k\":\"AA\"}",
	    got), -1);
	assert_int_equal(keys_jwk_thumbprint("{\"kty\":\"RSA\",\"e\":\"AQAB\"}",
	    got), -1);
	assert_int_equal(keys_jwk_thumbprint("{\"kty\":\"RSA\",\"e\":\"AQAB\","
	    "\"n\":\"a\\\"b\"}", got), -1);
	assert_int_equal(keys_jwk_thumbprint("{\"kty\":\"EC\",\"x\":\"AA\","
	    "\"y\":\"AA\"}", got), -1);
	assert_int_equal(keys_jwk_thumbprint("{\"kty\":\"RSA\",\"kty\":\"EC\","
	    "\"n\":\"AA\",\"e\":\"AQAB\"}", got), -1);
	assert_int_equal(keys_jwk_thumbprint("not json", got), -1);
	assert_int_equal(keys_jwk_thumbprint(NULL, got), -1);
}

static void
test_sign_and_verify(void **state)
{
	/* Spacing and member order must survive: the payload is verbatim. */
	static const char claims[] =
	    "{\"sub\":\"u-1\", \"aud\":\"app\",\"iat\":1700000000 ,"
	    "\"name\":\"\\u0391\\u03b8\\u03b7\\u03bd\\u03ac\"}";
	char err[256] = "";
	struct jws_parts p;
	keyset *ks;
	char *jws;

	(void)state;
	ks = keyset_load(shared, NOW, err, sizeof(err));
	assert_non_null(ks);
	assert_true(keyset_can_sign(ks, KEY_RS256, NOW));
	assert_true(keyset_can_sign(ks, KEY_ES256, NOW));

	jws = keyset_sign_jwt(ks, KEY_RS256, NULL, claims, NOW);
	assert_non_null(jws);
	check_jws(ks, jws, "RS256", "JWT", claims);
	free(jws);

	jws = keyset_sign_jwt(ks, KEY_ES256, "at+jwt", claims, NOW);
	assert_non_null(jws);
	check_jws(ks, jws, "ES256", "at+jwt", claims);
	/* JWS ES256 signatures are R||S: exactly 64 bytes, 86 chars. */
	jws_split(jws, &p);
	assert_int_equal(strlen(p.sig64), 86);
	jws_parts_free(&p);
	free(jws);
	keyset_free(ks);
}

/* Replaces the payload of jws by other claims, keeping the signature. */
static char *
swap_payload(const char *jws, const char *claims)
{
	const char *d1 = strchr(jws, '.'), *d2 = strrchr(jws, '.');
	char *p64 = test_b64url((const unsigned char *)claims, strlen(claims));
	char *out;

	assert_non_null(d1);
	assert_true(asprintf(&out, "%.*s.%s%s", (int)(d1 - jws), jws, p64,
	    d2) > 0);
	free(p64);
	return out;
}

static void
test_tampered_fails(void **state)
{
	const enum key_alg algs[] = { KEY_RS256, KEY_ES256 };
	char err[256] = "", *jws, *bad;
	struct jws_parts p;
	json_t *jwk;
	keyset *ks;
	size_t i, last;

	(void)state;
	ks = keyset_load(shared, NOW, err, sizeof(err));
	assert_non_null(ks);
	for (i = 0; i < 2; i++) {
		jws = keyset_sign_jwt(ks, algs[i], NULL, "{\"sub\":\"alice\"}",
		    NOW);
		assert_non_null(jws);
		bad = swap_payload(jws, "{\"sub\":\"mallory\"}");
		jws_split(bad, &p);
		assert_string_equal(p.payload, "{\"sub\":\"mallory\"}");
		jwk = jwks_find(keyset_jwks(ks), json_string_value(
		    json_object_get(p.header, "kid")));
		assert_false(jws_verify(jwk, bad, p.inlen, p.sig64));
		jws_parts_free(&p);
		free(bad);

		/* One flipped signature character fails too. */
		jws_split(jws, &p);
		assert_true(jws_verify(jwk, jws, p.inlen, p.sig64));
		last = strlen(jws) - 2;
		jws[last] = jws[last] == 'A' ? 'B' : 'A';
		assert_false(jws_verify(jwk, jws, p.inlen, p.sig64));
		jws_parts_free(&p);
		json_decref(jwk);
		free(jws);
	}
	keyset_free(ks);
}

static void
test_sign_refuses_bad_input(void **state)
{
	static const char *bad_claims[] = {
		"", "[]", "\"x\"", "{", "{\"a\":1,\"a\":2}", "{} {}", "null",
	};
	char err[256] = "", *big;
	keyset *ks;
	size_t i;

	(void)state;
	ks = keyset_load(shared, NOW, err, sizeof(err));
	assert_non_null(ks);
	for (i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]); i++)
		assert_null(keyset_sign_jwt(ks, KEY_ES256, NULL,
		    bad_claims[i], NOW));
	assert_null(keyset_sign_jwt(ks, KEY_ES256, NULL, NULL, NOW));
	assert_null(keyset_sign_jwt(NULL, KEY_ES256, NULL, "{}", NOW));
	assert_null(keyset_sign_jwt(ks, KEY_ES256, "a\"b", "{}", NOW));
	assert_null(keyset_sign_jwt(ks, KEY_ES256, "", "{}", NOW));
	assert_null(keyset_sign_jwt(ks, (enum key_alg)7, NULL, "{}", NOW));
	/* Over the payload limit. */
	big = malloc(200000);
	assert_non_null(big);
	memset(big, ' ', 199999);
	big[0] = '{';
	big[199997] = '}';
	big[199999] = '\0';
	assert_null(keyset_sign_jwt(ks, KEY_ES256, NULL, big, NOW));
	free(big);
	keyset_free(ks);
}

static void
test_master_key_refusals(void **state)
{
	char dir[PATHLEN], path[PATHLEN];
	unsigned char k33[33] = { 0 };
	keyset *ks;
	char err[256];

	(void)state;
	copy_shared(dir);
	join(path, dir, "master.key");
	assert_int_equal(chmod(path, 0644), 0);
	assert_load_refused_why(dir, "master.key", "chmod 600");
	assert_int_equal(chmod(path, 0640), 0);
	assert_load_refused(dir, "master.key");
	assert_int_equal(chmod(path, 0600), 0);
	ks = keyset_load(dir, NOW, err, sizeof(err));
	assert_non_null(ks);
	keyset_free(ks);

	put(dir, "master.key", k33, 31);
	assert_load_refused(dir, "master.key");
	put(dir, "master.key", k33, 33);
	assert_load_refused(dir, "master.key");
	assert_int_equal(unlink(path), 0);
	assert_load_refused(dir, "master.key");
}

static void
test_wrong_kid_refused(void **state)
{
	char dir[PATHLEN], es[KEYS_KID_MAX];
	char from[PATHLEN], to[PATHLEN], name[96];
	json_t *man;

	(void)state;
	/* The EC key's file renamed to another kid, manifest to match. */
	copy_shared(dir);
	manifest_kid(dir, "ES256", es);
	man = manifest_load(dir);
	json_array_remove(json_object_get(man, "keys"), 0);
	json_array_remove(json_object_get(man, "keys"), 0);
	json_array_append_new(json_object_get(man, "keys"), json_pack(
	    "{s:s,s:s,s:s,s:I,s:I,s:I}", "kid", FAKE_KID, "alg", "ES256",
	    "file", FAKE_KID ".pem", "created", (json_int_t)NOW, "not_before",
	    (json_int_t)NOW, "retire_after", (json_int_t)0));
	manifest_save(dir, man);
	(void)snprintf(name, sizeof(name), "%s.pem", es);
	join(from, dir, name);
	join(to, dir, FAKE_KID ".pem");
	assert_int_equal(rename(from, to), 0);
	assert_load_refused_why(dir, FAKE_KID ".pem", "does not match its kid");

	/* A manifest "file" that is not <kid>.pem. */
	copy_shared(dir);
	man = manifest_load(dir);
	json_object_set_new(manifest_entry(man, "RS256"), "file",
	    json_string("../evil.pem"));
	manifest_save(dir, man);
	assert_load_refused(dir, "keys.json");

	/* The algorithm of the other key: type mismatch. */
	copy_shared(dir);
	man = manifest_load(dir);
	json_object_set_new(manifest_entry(man, "ES256"), "alg",
	    json_string("RS256"));
	manifest_save(dir, man);
	(void)snprintf(name, sizeof(name), "%s.pem", es);
	assert_load_refused(dir, name);

	/* Duplicate kid, and a malformed manifest. */
	copy_shared(dir);
	man = manifest_load(dir);
	json_array_append(json_object_get(man, "keys"),
	    manifest_entry(man, "ES256"));
	manifest_save(dir, man);
	assert_load_refused(dir, "keys.json");
	put(dir, "keys.json", "{\"keys\":[", 9);
	assert_load_refused(dir, "keys.json");
	put(dir, "keys.json", "{\"keys\":[]}", 11);
	assert_load_refused(dir, "keys.json");
}

static void
test_bad_pem_refused(void **state)
{
	char dir[PATHLEN], es[KEYS_KID_MAX], name[96], path[PATHLEN];
	size_t len;
	char *pem;

	(void)state;
	copy_shared(dir);
	manifest_kid(dir, "ES256", es);
	(void)snprintf(name, sizeof(name), "%s.pem", es);
	pem = slurp(dir, name, &len);
	put(dir, name, pem, len / 2);		/* truncated */
	assert_load_refused(dir, name);
	put(dir, name, "garbage\n", 8);
	assert_load_refused(dir, name);
	put(dir, name, "", 0);
	assert_load_refused(dir, name);
	/* A private key readable by others is refused like master.key. */
	put(dir, name, pem, len);
	join(path, dir, name);
	assert_int_equal(chmod(path, 0644), 0);
	assert_load_refused(dir, name);
	assert_int_equal(unlink(path), 0);	/* missing */
	assert_load_refused(dir, name);
	free(pem);
}

static void
test_not_before_and_retire(void **state)
{
	char dir[PATHLEN], err[256] = "", es[KEYS_KID_MAX];
	keyset *ks;
	json_t *jwk;
	char *jws;

	(void)state;
	copy_shared(dir);
	manifest_kid(dir, "ES256", es);
	manifest_set_int(dir, "ES256", "not_before", NOW + 3600);
	ks = keyset_load(dir, NOW, err, sizeof(err));
	assert_non_null(ks);
	assert_false(keyset_can_sign(ks, KEY_ES256, NOW));
	assert_null(keyset_sign_jwt(ks, KEY_ES256, NULL, "{}", NOW));
	assert_true(keyset_can_sign(ks, KEY_RS256, NOW));
	/* Published ahead of use, so verifiers have it when it starts. */
	jwk = jwks_find(keyset_jwks(ks), es);
	assert_non_null(jwk);
	json_decref(jwk);
	assert_true(keyset_can_sign(ks, KEY_ES256, NOW + 3600));
	jws = keyset_sign_jwt(ks, KEY_ES256, NULL, "{}", NOW + 3600);
	assert_non_null(jws);
	check_jws(ks, jws, "ES256", "JWT", "{}");
	free(jws);
	keyset_free(ks);

	/* Retired: neither published nor used. */
	manifest_set_int(dir, "ES256", "not_before", NOW);
	manifest_set_int(dir, "ES256", "retire_after", NOW - 1);
	ks = keyset_load(dir, NOW, err, sizeof(err));
	assert_non_null(ks);
	assert_null(jwks_find(keyset_jwks(ks), es));
	assert_false(keyset_can_sign(ks, KEY_ES256, NOW));
	assert_true(keyset_can_sign(ks, KEY_RS256, NOW));
	keyset_free(ks);
}

/* The RFC 7638 kid of an EC key, computed here. */
static void
ec_kid(const EVP_PKEY *pkey, char kid[KEYS_KID_MAX])
{
	unsigned char bx[32], by[32];
	BIGNUM *x = NULL, *y = NULL;
	char *x64, *y64;
	json_t *jwk;

	assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X,
	    &x), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
	    &y), 1);
	assert_int_equal(BN_bn2binpad(x, bx, 32), 32);
	assert_int_equal(BN_bn2binpad(y, by, 32), 32);
	x64 = test_b64url(bx, 32);
	y64 = test_b64url(by, 32);
	jwk = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256",
	    "x", x64, "y", y64);
	test_thumbprint(jwk, kid);
	json_decref(jwk);
	free(x64);
	free(y64);
	BN_free(x);
	BN_free(y);
}

/* Writes pkey as <kid>.pem into dir and returns the PEM's name. */
static void
write_pem(const char *dir, EVP_PKEY *pkey, const char *kid, char name[96])
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long len;

	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL,
	    0, NULL, NULL), 1);
	len = BIO_get_mem_data(bio, &pem);
	(void)snprintf(name, 96, "%s.pem", kid);
	put(dir, name, pem, (size_t)len);
	BIO_free(bio);
}

/* A PEM whose public key is another key's: its thumbprint matches the
 * manifest, but what it signs would not verify against the JWKS. */
static void
test_mismatched_halves_refused(void **state)
{
	EVP_PKEY *a, *b, *mixed = NULL;
	unsigned char pub[65];
	char dir[PATHLEN], kid[KEYS_KID_MAX], name[96];
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	BIGNUM *priv = NULL;
	size_t publen = 0;
	json_t *man;

	(void)state;
	a = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	b = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_int_equal(EVP_PKEY_get_bn_param(a, OSSL_PKEY_PARAM_PRIV_KEY,
	    &priv), 1);
	assert_int_equal(EVP_PKEY_get_octet_string_param(b,
	    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &publen), 1);
	bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "P-256", 0);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv);
	OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    publen);
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &mixed, EVP_PKEY_KEYPAIR,
	    params), 1);
	ec_kid(b, kid);

	copy_shared(dir);
	write_pem(dir, mixed, kid, name);
	man = manifest_load(dir);
	json_object_set_new(manifest_entry(man, "ES256"), "kid",
	    json_string(kid));
	json_object_set_new(manifest_entry(man, "ES256"), "file",
	    json_string(name));
	manifest_save(dir, man);
	assert_load_refused_why(dir, name, "do not match");

	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(priv);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(mixed);
}

/* A second ES256 key, as a rotation would add it. */
static void
add_ec_key(const char *dir, EVP_PKEY *pkey, int64_t created,
    int64_t not_before, char kid[KEYS_KID_MAX])
{
	char name[96];
	json_t *man;

	ec_kid(pkey, kid);
	write_pem(dir, pkey, kid, name);
	man = manifest_load(dir);
	json_array_append_new(json_object_get(man, "keys"), json_pack(
	    "{s:s,s:s,s:s,s:I,s:I,s:I}", "kid", kid, "alg", "ES256", "file",
	    name, "created", (json_int_t)created, "not_before",
	    (json_int_t)not_before, "retire_after", (json_int_t)0));
	manifest_save(dir, man);
}

static void
test_newest_key_signs(void **state)
{
	char dir[PATHLEN], err[256] = "", old[KEYS_KID_MAX];
	char kid[KEYS_KID_MAX];
	struct jws_parts p;
	EVP_PKEY *pkey;
	keyset *ks;
	char *jws;

	(void)state;
	copy_shared(dir);
	manifest_kid(dir, "ES256", old);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(pkey);
	add_ec_key(dir, pkey, NOW + 10, NOW + 100, kid);
	EVP_PKEY_free(pkey);
	ks = keyset_load(dir, NOW, err, sizeof(err));
	assert_non_null(ks);
	/* Before its not_before the old key signs; from then on the new. */
	jws = keyset_sign_jwt(ks, KEY_ES256, NULL, "{}", NOW + 99);
	jws_split(jws, &p);
	assert_string_equal(json_string_value(json_object_get(p.header,
	    "kid")), old);
	jws_parts_free(&p);
	free(jws);
	jws = keyset_sign_jwt(ks, KEY_ES256, NULL, "{}", NOW + 100);
	check_jws(ks, jws, "ES256", "JWT", "{}");
	jws_split(jws, &p);
	assert_string_equal(json_string_value(json_object_get(p.header,
	    "kid")), kid);
	jws_parts_free(&p);
	free(jws);
	keyset_free(ks);
}

/* 1 when a coordinate of pkey has a leading zero byte. */
static int
ec_short_coordinate(const EVP_PKEY *pkey)
{
	BIGNUM *x = NULL, *y = NULL;
	int shorter;

	assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X,
	    &x), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
	    &y), 1);
	shorter = BN_num_bytes(x) < 32 || BN_num_bytes(y) < 32;
	BN_free(x);
	BN_free(y);
	return shorter;
}

/* EC coordinates are always 32 bytes (RFC 7518 section 6.2.1.2), also
 * when one starts with a zero byte (1 key in 128), which a plain BN_bn2bin
 * would drop, breaking the kid and every verifier. */
static void
test_ec_coordinates_padded(void **state)
{
	char dir[PATHLEN], err[256] = "", kid[KEYS_KID_MAX];
	EVP_PKEY *pkey = NULL;
	json_t *jwk;
	keyset *ks;
	char *jws;
	int tries;

	(void)state;
	for (tries = 0; tries < 5000; tries++) {
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		assert_non_null(pkey);
		if (ec_short_coordinate(pkey))
			break;
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	assert_non_null(pkey);
	copy_shared(dir);
	add_ec_key(dir, pkey, NOW + 1, NOW, kid);
	EVP_PKEY_free(pkey);
	ks = keyset_load(dir, NOW, err, sizeof(err));
	if (ks == NULL)
		fail_msg("load: %s", err);
	jwk = jwks_find(keyset_jwks(ks), kid);
	assert_non_null(jwk);
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))),
	    43);
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "y"))),
	    43);
	json_decref(jwk);
	jws = keyset_sign_jwt(ks, KEY_ES256, NULL, "{}", NOW);
	assert_non_null(jws);
	check_jws(ks, jws, "ES256", "JWT", "{}");
	free(jws);
	keyset_free(ks);
}

struct sign_job {
	const keyset *ks;
	int ok;
};

static void *
sign_worker(void *arg)
{
	struct sign_job *job = arg;
	char claims[64], *jws;
	int i;

	job->ok = 1;
	for (i = 0; i < 200; i++) {
		(void)snprintf(claims, sizeof(claims), "{\"n\":%d}", i);
		jws = keyset_sign_jwt(job->ks, i % 2 ? KEY_ES256 : KEY_RS256,
		    NULL, claims, NOW);
		if (jws == NULL)
			job->ok = 0;
		free(jws);
	}
	return NULL;
}

static void
test_threads_share_keyset(void **state)
{
	struct sign_job jobs[4];
	pthread_t th[4];
	char err[256] = "";
	keyset *ks;
	int i;

	(void)state;
	ks = keyset_load(shared, NOW, err, sizeof(err));
	assert_non_null(ks);
	for (i = 0; i < 4; i++) {
		jobs[i].ks = ks;
		assert_int_equal(pthread_create(&th[i], NULL, sign_worker,
		    &jobs[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(jobs[i].ok);
	}
	keyset_free(ks);
}

/* RFC 5869 A.3 (no salt, no info) cannot go through keyset_derive, whose
 * info is the label; so check what matters: stable per label, distinct
 * between labels, and equal to an independent HKDF computation. */
static void
test_derive(void **state)
{
	unsigned char a[32], b[32], c[32], want[32];
	char err[256] = "";
	keyset *ks;
	EVP_PKEY_CTX *ctx;
	size_t len = 32;

	(void)state;
	ks = keyset_load(shared, NOW, err, sizeof(err));
	assert_non_null(ks);
	assert_int_equal(keyset_derive(ks, "kleidi totp seal v1", a), 0);
	assert_int_equal(keyset_derive(ks, "kleidi totp seal v1", b), 0);
	assert_int_equal(keyset_derive(ks, "kleidi audit v1", c), 0);
	assert_memory_equal(a, b, 32);
	assert_memory_not_equal(a, c, 32);
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(ctx,
	    keyset_master_key(ks), KEYS_MASTER_LEN), 1);
	assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(ctx,
	    (const unsigned char *)"kleidi audit v1", 15), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, want, &len), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_memory_equal(c, want, 32);
	assert_int_equal(keyset_derive(NULL, "x", a), -1);
	keyset_free(ks);
}

/* ---- rotation */

#define DELAY 600
#define GRACE 660	/* longest token lifetime + leeway */

/* The manifest entry of kid (borrowed from man), or NULL. */
static json_t *
manifest_by_kid(json_t *man, const char *kid)
{
	json_t *k;
	size_t i;

	json_array_foreach(json_object_get(man, "keys"), i, k)
		if (strcmp(json_string_value(json_object_get(k, "kid")),
		    kid) == 0)
			return k;
	return NULL;
}

static int64_t
manifest_int(const char *dir, const char *kid, const char *field)
{
	json_t *man = manifest_load(dir), *k;
	int64_t v;

	k = manifest_by_kid(man, kid);
	assert_non_null(k);
	v = (int64_t)json_integer_value(json_object_get(k, field));
	json_decref(man);
	return v;
}

/* The kid in the header of the ES256 token ks signs at now. */
static void
signing_kid(const keyset *ks, enum key_alg alg, int64_t now,
    char out[KEYS_KID_MAX])
{
	struct jws_parts p;
	char *jws;

	jws = keyset_sign_jwt(ks, alg, NULL, "{}", now);
	assert_non_null(jws);
	jws_split(jws, &p);
	(void)snprintf(out, KEYS_KID_MAX, "%s", json_string_value(
	    json_object_get(p.header, "kid")));
	jws_parts_free(&p);
	free(jws);
}

static int
jwks_has(const keyset *ks, const char *kid)
{
	json_t *jwk = jwks_find(keyset_jwks(ks), kid);

	json_decref(jwk);
	return jwk != NULL;
}

static enum key_state
state_of(const keyset *ks, const char *kid, int64_t now)
{
	struct key_info k;
	size_t i;

	for (i = 0; keyset_key_info(ks, i, now, &k) == 0; i++)
		if (strcmp(k.kid, kid) == 0)
			return k.state;
	fail_msg("kid %s not in the keyset", kid);
	return KEY_RETIRED;
}

/* The old key signs until the delay is over and stays published for the
 * grace after it; the new one is published at once and signs after. */
static void
test_rotate_schedule(void **state)
{
	char dir[PATHLEN], err[256] = "", old_es[KEYS_KID_MAX];
	char old_rs[KEYS_KID_MAX], kid[KEYS_KID_MAX], *m0, *m1;
	struct key_info added[2];
	size_t n = 9, l0, l1;
	keyset *ks;

	(void)state;
	copy_shared(dir);
	manifest_kid(dir, "ES256", old_es);
	manifest_kid(dir, "RS256", old_rs);
	m0 = slurp(dir, "master.key", &l0);
	assert_int_equal(keys_rotate(dir, KEYS_ALG_ALL, NOW, DELAY, GRACE,
	    added, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(added[0].alg, KEY_RS256);
	assert_int_equal(added[1].alg, KEY_ES256);
	assert_int_equal(added[1].state, KEY_NEXT);
	m1 = slurp(dir, "master.key", &l1);
	assert_int_equal(l0, l1);
	assert_memory_equal(m0, m1, l0);	/* never touched */
	free(m0);
	free(m1);
	assert_int_equal(manifest_int(dir, old_es, "retire_after"),
	    NOW + DELAY + GRACE);
	assert_int_equal(manifest_int(dir, old_rs, "retire_after"),
	    NOW + DELAY + GRACE);
	assert_int_equal(manifest_int(dir, added[1].kid, "not_before"),
	    NOW + DELAY);
	assert_int_equal(manifest_int(dir, added[1].kid, "retire_after"), 0);
	assert_int_equal(manifest_int(dir, added[1].kid, "created"), NOW);

	ks = keyset_load(dir, NOW, err, sizeof(err));
	assert_non_null(ks);
	assert_true(jwks_has(ks, old_es) && jwks_has(ks, added[1].kid));
	assert_true(jwks_has(ks, old_rs) && jwks_has(ks, added[0].kid));
	signing_kid(ks, KEY_ES256, NOW + DELAY - 1, kid);
	assert_string_equal(kid, old_es);
	signing_kid(ks, KEY_ES256, NOW + DELAY, kid);
	assert_string_equal(kid, added[1].kid);
	signing_kid(ks, KEY_RS256, NOW + DELAY, kid);
	assert_string_equal(kid, added[0].kid);
	assert_int_equal(state_of(ks, old_es, NOW), KEY_SIGNING);
	assert_int_equal(state_of(ks, added[1].kid, NOW), KEY_NEXT);
	assert_int_equal(state_of(ks, old_es, NOW + DELAY), KEY_PUBLISHED);
	assert_int_equal(state_of(ks, added[1].kid, NOW + DELAY),
	    KEY_SIGNING);
	assert_int_equal(state_of(ks, old_es, NOW + DELAY + GRACE),
	    KEY_RETIRED);
	assert_int_equal(keyset_next_change(ks, NOW), NOW + DELAY);
	assert_int_equal(keyset_next_change(ks, NOW + DELAY),
	    NOW + DELAY + GRACE);
	assert_int_equal(keyset_next_change(ks, NOW + DELAY + GRACE), 0);
	keyset_free(ks);

	/* Loaded once the grace is over: the old keys are gone. */
	ks = keyset_load(dir, NOW + DELAY + GRACE, err, sizeof(err));
	assert_non_null(ks);
	assert_false(jwks_has(ks, old_es) || jwks_has(ks, old_rs));
	assert_true(jwks_has(ks, added[1].kid));
	keyset_free(ks);
}

/* 1 when DIR/<kid>.pem exists. */
static int
pem_exists(const char *dir, const char *kid)
{
	char name[96], path[PATHLEN];

	(void)snprintf(name, sizeof(name), "%s.pem", kid);
	join(path, dir, name);
	return access(path, F_OK) == 0;
}

/* One algorithm at a time; a later rotation drops the retired keys. */
static void
test_rotate_one_alg_and_prune(void **state)
{
	char dir[PATHLEN], err[256] = "", old_es[KEYS_KID_MAX];
	char old_rs[KEYS_KID_MAX], kid[KEYS_KID_MAX];
	struct key_info a1[2], a2[2];
	size_t n = 0;
	json_t *man;
	keyset *ks;

	(void)state;
	copy_shared(dir);
	manifest_kid(dir, "ES256", old_es);
	manifest_kid(dir, "RS256", old_rs);
	assert_int_equal(keys_rotate(dir, KEYS_ALG_BIT(KEY_ES256), NOW, 0,
	    GRACE, a1, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a1[0].state, KEY_SIGNING);
	assert_int_equal(manifest_int(dir, old_rs, "retire_after"), 0);
	ks = keyset_load(dir, NOW, err, sizeof(err));
	assert_non_null(ks);
	signing_kid(ks, KEY_ES256, NOW, kid);	/* delay 0: at once */
	assert_string_equal(kid, a1[0].kid);
	keyset_free(ks);

	/* Past the grace: the old ES256 key leaves manifest and folder. */
	assert_int_equal(keys_rotate(dir, KEYS_ALG_ALL, NOW + GRACE, 0, GRACE,
	    a2, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	man = manifest_load(dir);
	assert_null(manifest_by_kid(man, old_es));
	assert_non_null(manifest_by_kid(man, old_rs));
	assert_int_equal(json_array_size(json_object_get(man, "keys")), 4);
	json_decref(man);
	assert_false(pem_exists(dir, old_es));
	assert_true(pem_exists(dir, a1[0].kid));
	assert_int_equal(manifest_int(dir, a1[0].kid, "retire_after"),
	    NOW + 2 * GRACE);
	assert_int_equal(manifest_int(dir, old_rs, "retire_after"),
	    NOW + 2 * GRACE);
}

/* Bad requests and broken folders change nothing. */
static void
test_rotate_refusals(void **state)
{
	char dir[PATHLEN], err[256] = "", path[PATHLEN];
	struct key_info a[2];
	size_t n = 5;
	char *before, *after;
	size_t lb, la;

	(void)state;
	copy_shared(dir);
	before = slurp(dir, "keys.json", &lb);
	assert_int_equal(keys_rotate(dir, 0, NOW, 0, GRACE, a, &n, err,
	    sizeof(err)), -1);
	assert_int_equal(n, 0);
	assert_int_equal(keys_rotate(dir, KEYS_ALG_ALL, NOW, -1, GRACE, a, &n,
	    err, sizeof(err)), -1);
	assert_int_equal(keys_rotate(dir, 1u << 7, NOW, 0, GRACE, a, &n, err,
	    sizeof(err)), -1);
	after = slurp(dir, "keys.json", &la);
	assert_int_equal(lb, la);
	assert_memory_equal(before, after, lb);
	free(after);
	/* A folder that does not load is not rotated over. */
	join(path, dir, "master.key");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(keys_rotate(dir, KEYS_ALG_ALL, NOW, 0, GRACE, a, &n,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "master.key"));
	after = slurp(dir, "keys.json", &la);
	assert_memory_equal(before, after, lb);
	free(after);
	free(before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_init_files_and_modes),
		cmocka_unit_test(test_init_refuses_existing),
		cmocka_unit_test(test_init_existing_empty_dir),
		cmocka_unit_test(test_load_jwks),
		cmocka_unit_test(test_kid_is_rfc7638_thumbprint),
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_tampered_fails),
		cmocka_unit_test(test_sign_refuses_bad_input),
		cmocka_unit_test(test_master_key_refusals),
		cmocka_unit_test(test_wrong_kid_refused),
		cmocka_unit_test(test_bad_pem_refused),
		cmocka_unit_test(test_mismatched_halves_refused),
		cmocka_unit_test(test_not_before_and_retire),
		cmocka_unit_test(test_newest_key_signs),
		cmocka_unit_test(test_ec_coordinates_padded),
		cmocka_unit_test(test_threads_share_keyset),
		cmocka_unit_test(test_rotate_schedule),
		cmocka_unit_test(test_rotate_one_alg_and_prune),
		cmocka_unit_test(test_rotate_refusals),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
