/*
 * bench_ceiling.c - the ceiling of the token endpoint: a minimal
 * libmicrohttpd server, set up as Kleidi's (internal thread pool, one
 * thread per core), that per request reads the form body, signs a
 * same-shaped ES256 access token (header alg/typ at+jwt/kid; iss, sub, aud,
 * client_id, iat, exp, roles, jti) with a key parsed once, by raw OpenSSL
 * (SHA-256 with a digest fetched once, EVP_PKEY_sign on a context prepared
 * once), and answers the same JSON body as Kleidi's client_credentials
 * grant. No store, no client authentication, no routing: what is left is
 * HTTP and the signature, which Kleidi cannot avoid either. POST
 * /introspect instead verifies the ES256 signature of the form's token
 * (digest fetched once, EVP_PKEY_verify on a context prepared once) and
 * answers {"active":true, <its claims>}: the ceiling of introspection.
 * Usage: bench_ceiling KEYDIR PORT ISSUER CLIENT_ID
 * Prints "ready" once it listens; stops on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

static EVP_PKEY_CTX *sign_ctx, *verify_ctx;
static EVP_MD *sha256;
static char header_b64[256];
static const char *issuer, *client;
static volatile sig_atomic_t stop;

static size_t
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned)in[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

/* The ES256 JWS of a fresh access token into out (cap >= 1024). */
static int
sign_token(char *out)
{
	unsigned char jti[16], digest[32], der[80], rs[64];
	char claims[512], jti_b64[32];
	const unsigned char *p;
	size_t dlen = sizeof(der), n, o;
	unsigned int mdlen;
	long long now = (long long)time(NULL);
	EVP_PKEY_CTX *ctx;
	ECDSA_SIG *s;
	int len, rc;

	if (RAND_bytes(jti, sizeof(jti)) != 1)
		return -1;
	(void)b64url(jti, sizeof(jti), jti_b64);
	len = snprintf(claims, sizeof(claims), "{\"iss\":\"%s\",\"sub\":\"%s\","
	    "\"aud\":\"%s\",\"client_id\":\"%s\",\"iat\":%lld,\"exp\":%lld,"
	    "\"roles\":[\"reader\"],\"jti\":\"%s\"}", issuer, client, client,
	    client, now, now + 600, jti_b64);
	o = (size_t)snprintf(out, 300, "%s.", header_b64);
	o += b64url((const unsigned char *)claims, (size_t)len, out + o);
	if (EVP_Digest(out, o, digest, &mdlen, sha256, NULL) != 1 ||
	    (ctx = EVP_PKEY_CTX_dup(sign_ctx)) == NULL)
		return -1;
	rc = EVP_PKEY_sign(ctx, der, &dlen, digest, mdlen);
	EVP_PKEY_CTX_free(ctx);
	p = der;
	if (rc != 1 || (s = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) == NULL)
		return -1;
	n = (size_t)BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, 32) +
	    (size_t)BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + 32, 32);
	ECDSA_SIG_free(s);
	if (n != 64)
		return -1;
	out[o++] = '.';
	(void)b64url(rs, 64, out + o);
	return 0;
}

static int
b64url_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

static size_t
b64url_dec(const char *in, size_t len, unsigned char *out)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0, i;
	int v;

	for (i = 0; i < len && (v = b64url_val((unsigned char)in[i])) >= 0;
	    i++) {
		acc = (acc << 6) | (unsigned)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

/* The claims of the ES256 JWS in form ("token=..."), into out, if its
 * signature verifies. 0 or -1. */
static int
verify_token(const char *form, char *out, size_t cap)
{
	const char *tok = strstr(form, "token="), *d1, *d2;
	unsigned char rs[64], digest[32], der[80];
	unsigned int mdlen;
	size_t n, plen;
	ECDSA_SIG *s;
	EVP_PKEY_CTX *ctx;
	unsigned char *p = der;
	int rc, dlen;

	if (tok == NULL || (d1 = strchr(tok += 6, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL ||
	    b64url_dec(d2 + 1, strcspn(d2 + 1, "&"), rs) != 64)
		return -1;
	if ((s = ECDSA_SIG_new()) == NULL || ECDSA_SIG_set0(s,
	    BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL)) != 1 ||
	    (dlen = i2d_ECDSA_SIG(s, &p)) <= 0) {
		ECDSA_SIG_free(s);
		return -1;
	}
	ECDSA_SIG_free(s);
	if (EVP_Digest(tok, (size_t)(d2 - tok), digest, &mdlen, sha256, NULL)
	    != 1 || (ctx = EVP_PKEY_CTX_dup(verify_ctx)) == NULL)
		return -1;
	rc = EVP_PKEY_verify(ctx, der, (size_t)dlen, digest, mdlen);
	EVP_PKEY_CTX_free(ctx);
	plen = (size_t)(d2 - d1 - 1);
	if (rc != 1 || plen / 4 * 3 + 3 >= cap)
		return -1;
	n = b64url_dec(d1 + 1, plen, (unsigned char *)out);
	out[n] = '\0';
	return 0;
}

struct req {
	char form[8192];
	size_t len;
};

static enum MHD_Result
introspect(struct MHD_Connection *c, const struct req *rq)
{
	char claims[4096], body[4200];
	struct MHD_Response *r;
	enum MHD_Result ret;
	int n;

	if (verify_token(rq->form, claims, sizeof(claims)) != 0)
		return MHD_NO;
	n = snprintf(body, sizeof(body), "{\"active\":true,%s", claims + 1);
	r = MHD_create_response_from_buffer((size_t)n, body,
	    MHD_RESPMEM_MUST_COPY);
	(void)MHD_add_response_header(r, "Content-Type", "application/json");
	(void)MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *c, void **state,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*state);
	*state = NULL;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	struct req *rq = *state;
	char token[1024], body[1200];
	struct MHD_Response *r;
	enum MHD_Result ret;
	int n;

	(void)cls;
	(void)method;
	(void)version;
	if (rq == NULL) {
		*state = calloc(1, sizeof(struct req));
		return *state != NULL ? MHD_YES : MHD_NO;
	}
	if (*upload_size != 0) {	/* the form body: kept, not parsed */
		if (*upload_size < sizeof(rq->form) - rq->len) {
			memcpy(rq->form + rq->len, upload, *upload_size);
			rq->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/introspect") == 0)
		return introspect(c, rq);
	if (sign_token(token) != 0)
		return MHD_NO;
	n = snprintf(body, sizeof(body), "{\"access_token\":\"%s\","
	    "\"token_type\":\"Bearer\",\"expires_in\":600}", token);
	r = MHD_create_response_from_buffer((size_t)n, body,
	    MHD_RESPMEM_MUST_COPY);
	(void)MHD_add_response_header(r, "Content-Type", "application/json");
	(void)MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* The ES256 key of DIR's manifest: parsed once; its kid in the header. */
static int
load_key(const char *dir)
{
	char path[600], header[160];
	json_t *m, *k;
	EVP_PKEY *pk = NULL;
	size_t i;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/keys.json", dir);
	if ((m = json_load_file(path, 0, NULL)) == NULL)
		return -1;
	json_array_foreach(json_object_get(m, "keys"), i, k) {
		if (strcmp(json_string_value(json_object_get(k, "alg")),
		    "ES256") != 0)
			continue;
		(void)snprintf(header, sizeof(header), "{\"alg\":\"ES256\","
		    "\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
		    json_string_value(json_object_get(k, "kid")));
		(void)snprintf(path, sizeof(path), "%s/%s", dir,
		    json_string_value(json_object_get(k, "file")));
		if ((f = fopen(path, "r")) != NULL) {
			pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
			(void)fclose(f);
		}
	}
	json_decref(m);
	if (pk == NULL)
		return -1;
	(void)b64url((const unsigned char *)header, strlen(header), header_b64);
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	sign_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	verify_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	EVP_PKEY_free(pk);	/* the contexts hold a reference */
	return sha256 != NULL && sign_ctx != NULL && verify_ctx != NULL &&
	    EVP_PKEY_sign_init(sign_ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(sign_ctx, sha256) == 1 &&
	    EVP_PKEY_verify_init(verify_ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(verify_ctx, sha256) == 1 ? 0 : -1;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (argc != 5) {
		(void)fprintf(stderr, "usage: bench_ceiling KEYDIR PORT ISSUER "
		    "CLIENT_ID\n");
		return 2;
	}
	issuer = argv[3];
	client = argv[4];
	if (load_key(argv[1]) != 0) {
		(void)fprintf(stderr, "bench_ceiling: no ES256 key in %s\n",
		    argv[1]);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));	/* loopback only */
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
	    (uint16_t)atoi(argv[2]), NULL, NULL, answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, ncpu > 1 ? (unsigned)ncpu : 0u,
	    MHD_OPTION_CONNECTION_LIMIT, 1024u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (d == NULL) {
		(void)fprintf(stderr, "bench_ceiling: cannot listen\n");
		return 1;
	}
	(void)signal(SIGTERM, on_signal);
	(void)signal(SIGINT, on_signal);
	(void)printf("ready\n");
	(void)fflush(stdout);
	while (!stop)
		(void)pause();
	MHD_stop_daemon(d);
	EVP_PKEY_CTX_free(sign_ctx);
	EVP_PKEY_CTX_free(verify_ctx);
	EVP_MD_free(sha256);
	return 0;
}
