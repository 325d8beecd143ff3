/* sig: detached signatures of image archives (BearSSL).
 *
 * The signature is what `openssl dgst -sha256 -sign key.pem -out FILE.sig FILE` makes: ECDSA P-256
 * (ASN.1 DER) or RSA PKCS#1 v1.5 over the SHA-256 of the whole archive. The public key is a PEM
 * "PUBLIC KEY" (SubjectPublicKeyInfo, `openssl pkey -pubout`). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bearssl_ec.h>
#include <bearssl_pem.h>
#include <bearssl_rsa.h>
#include "imgstore.h"
#include "state.h"

struct der {
	const unsigned char *p;
	size_t n;
};

/* Take the next element (tag) from d into out. */
static int der_get(struct der *d, int tag, struct der *out)
{
	if (d->n < 2 || d->p[0] != tag)
		return -1;
	size_t len = d->p[1], hl = 2;
	if (len & 0x80) {
		size_t k = len & 0x7f;
		if (k < 1 || k > 3 || d->n < 2 + k)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | d->p[2 + i];
		hl += k;
	}
	if (len > d->n - hl)
		return -1;
	out->p = d->p + hl;
	out->n = len;
	d->p += hl + len;
	d->n -= hl + len;
	return 0;
}

static void pem_append(void *ctx, const void *p, size_t n)
{
	buf_add(ctx, p, n);
}

/* The DER bytes of the first "PUBLIC KEY" object of a PEM text. */
static int pem_pubkey(const char *text, size_t len, struct buf *der)
{
	br_pem_decoder_context pc;
	int in = 0, done = 0;
	br_pem_decoder_init(&pc);
	while (len && !done) {
		size_t k = br_pem_decoder_push(&pc, text, len);
		text += k;
		len -= k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			in = !strcmp(br_pem_decoder_name(&pc), "PUBLIC KEY");
			br_pem_decoder_setdest(&pc, in ? pem_append : NULL, der);
			break;
		case BR_PEM_END_OBJ:
			done = in;
			break;
		case BR_PEM_ERROR:
			return -1;
		}
	}
	return done ? 0 : -1;
}

static const unsigned char OID_EC[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char OID_P256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char OID_RSA[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };

#define OID_IS(d, o) ((d).n == sizeof(o) && !memcmp((d).p, o, sizeof(o)))

/* 1: valid, 0: not, <0: key not understood (message in e). */
static int verify(const struct buf *key, const unsigned char hash[32], unsigned char *sig, size_t siglen,
		  struct err *e)
{
	struct der d = { (const unsigned char *)key->p, key->len }, spki, alg, oid, par, bits;
	if (der_get(&d, 0x30, &spki) || der_get(&spki, 0x30, &alg) || der_get(&alg, 0x06, &oid) ||
	    der_get(&spki, 0x03, &bits) || bits.n < 2 || bits.p[0] != 0)
		return err_set(e, EINVAL, "public key: not a SubjectPublicKeyInfo");
	bits.p++, bits.n--;
	if (OID_IS(oid, OID_EC)) {
		if (der_get(&alg, 0x06, &par) || !OID_IS(par, OID_P256))
			return err_set(e, ENOTSUP, "public key: only the P-256 curve is supported");
		br_ec_public_key pk = { BR_EC_secp256r1, (unsigned char *)bits.p, bits.n };
		return br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hash, 32, &pk, sig, siglen) == 1;
	}
	if (OID_IS(oid, OID_RSA)) {
		struct der seq, n, x;
		unsigned char out[32];
		if (der_get(&bits, 0x30, &seq) || der_get(&seq, 0x02, &n) || der_get(&seq, 0x02, &x))
			return err_set(e, EINVAL, "public key: bad RSA key");
		while (n.n > 1 && !n.p[0])
			n.p++, n.n--;
		br_rsa_public_key pk = { (unsigned char *)n.p, n.n, (unsigned char *)x.p, x.n };
		return siglen == n.n && br_rsa_i31_pkcs1_vrfy(sig, siglen, BR_HASH_OID_SHA256, 32, &pk, out) &&
		       !memcmp(out, hash, 32);
	}
	return err_set(e, ENOTSUP, "public key: only ECDSA P-256 and RSA keys are supported");
}

static const char *key_path(const struct image_opts *o, char *buf, size_t n)
{
	const char *env = getenv("MYDOCKER_VERIFY_KEY");
	if (o->verify_key)
		return o->verify_key;
	if (env && *env)
		return env;
	snprintf(buf, n, "%s/verify-key.pem", state_root());
	return access(buf, F_OK) == 0 ? buf : NULL;
}

int sig_check(const struct image_opts *o, const unsigned char hash[32], struct err *e)
{
	char kbuf[4096], sbuf[4096];
	const char *kp = key_path(o, kbuf, sizeof(kbuf)), *sp = o->sig_file;
	struct buf pem = { 0 }, der = { 0 }, sig = { 0 };
	int r;

	if (!kp)
		return 0;
	if (!sp && !o->path)
		return err_set(e, EINVAL, "a signature is required: give --signature FILE when reading stdin");
	if (!sp)
		snprintf(sbuf, sizeof(sbuf), "%s.sig", o->path), sp = sbuf;
	if ((r = read_file_at(AT_FDCWD, kp, 1 << 16, &pem)))
		r = err_set(e, -r, "verify key %s", kp);
	else if (pem_pubkey(pem.p, pem.len, &der))
		r = err_set(e, EINVAL, "verify key %s: no PEM \"PUBLIC KEY\" in it", kp);
	else if ((r = read_file_at(AT_FDCWD, sp, 4096, &sig)))
		r = err_set(e, -r, "signature required: %s", sp);
	else if ((r = verify(&der, hash, (unsigned char *)sig.p, sig.len, e)) >= 0)
		r = r == 1 ? 0 : err_set(e, EBADMSG, "signature %s does not match the archive and key %s", sp, kp);
	else
		r = err_wrap(e, "%s", kp);
	buf_free(&pem);
	buf_free(&der);
	buf_free(&sig);
	return r;
}
