/*
 * crypto.c: thin wrappers over OpenSSL 3's libcrypto (see crypto.h). Keys are
 * derived with HKDF (EVP_KDF "HKDF"), MACs are RFC 2104 over digests fetched once, stored
 * numbers are sealed with AES-256-GCM through EVP_CIPHER_CTX. The encodings
 * are written out here because they must be strict (the decoder rejects
 * anything but canonical base64url) and bounded by the caller's buffer.
 */
#include "crypto.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define NONCE_LEN 12
#define TAG_LEN 16
_Static_assert(CRYPTO_SEAL_OVERHEAD == NONCE_LEN + TAG_LEN, "sealed layout is nonce|ct|tag");
_Static_assert(CRYPTO_CONTACT_KEY_HEX == 2 * 16 + 1, "contact key is 128 bits in hex");

/*
 * The void functions below can only fail if libcrypto cannot allocate or is
 * broken. Returning a zeroed MAC would silently merge every contact into one
 * key, so stop instead.
 */
static void crypto_fail(const char *what)
{
    fprintf(stderr, "crypto: %s failed in libcrypto\n", what);
    abort();
}

int crypto_derive_key(const uint8_t secret[CRYPTO_KEY_LEN], const char *purpose,
                      uint8_t out[CRYPTO_KEY_LEN])
{
    char digest[] = "SHA256";
    EVP_KDF *kdf;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[4];
    int rc = -1;

    if (secret == NULL || purpose == NULL || out == NULL)
        return -1;
    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL)
        return -1;
    kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (kctx == NULL)
        return -1;
    /* No salt: HKDF then uses HashLen zero bytes, as RFC 5869 section 2.2 says. */
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, CRYPTO_KEY_LEN);
    params[2] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)purpose, strlen(purpose));
    params[3] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, out, CRYPTO_KEY_LEN, params) == 1)
        rc = 0;
    else
        explicit_bzero(out, CRYPTO_KEY_LEN);
    EVP_KDF_CTX_free(kctx);
    return rc;
}

/*
 * Digests fetched once. EVP_sha256() and the one-shot HMAC() look the
 * algorithm up in the provider on every call (OpenSSL 3's "implicit fetch"),
 * which cost more than the hashing of a phone number; scripts/bench saw it.
 */
static EVP_MD *md_sha1, *md_sha256;
static once_flag md_once = ONCE_FLAG_INIT;

static void fetch_digests(void)
{
    md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *digest(bool sha256)
{
    call_once(&md_once, fetch_digests);
    if ((sha256 ? md_sha256 : md_sha1) == NULL)
        crypto_fail(sha256 ? "fetch SHA256" : "fetch SHA1");
    return sha256 ? md_sha256 : md_sha1;
}

#define HMAC_BLOCK_MAX 64 /* SHA-1 and SHA-256 both hash 64-byte blocks */

/* HMAC as RFC 2104 writes it, over a pre-fetched digest. */
static void hmac(const EVP_MD *md, const void *key, size_t key_len, const void *msg, size_t len,
                 uint8_t *out)
{
    uint8_t k0[HMAC_BLOCK_MAX] = {0}, pad[HMAC_BLOCK_MAX], inner[EVP_MAX_MD_SIZE];
    size_t block = (size_t)EVP_MD_get_block_size(md), size = (size_t)EVP_MD_get_size(md);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && block <= sizeof(k0);

    if (ok && key_len > block) /* a long key is hashed first */
        ok = EVP_Digest(key, key_len, k0, NULL, md, NULL) == 1;
    else if (ok && key_len > 0)
        memcpy(k0, key, key_len);
    for (size_t i = 0; ok && i < block; i++)
        pad[i] = k0[i] ^ 0x36;
    ok = ok && EVP_DigestInit_ex2(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, pad, block) == 1 &&
         EVP_DigestUpdate(ctx, len ? msg : "", len) == 1 &&
         EVP_DigestFinal_ex(ctx, inner, NULL) == 1;
    for (size_t i = 0; ok && i < block; i++)
        pad[i] = k0[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex2(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, pad, block) == 1 &&
         EVP_DigestUpdate(ctx, inner, size) == 1 && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    explicit_bzero(k0, sizeof(k0));
    explicit_bzero(pad, sizeof(pad));
    explicit_bzero(inner, sizeof(inner));
    if (!ok)
        crypto_fail("HMAC");
}

void crypto_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t len, uint8_t out[20])
{
    hmac(digest(false), key, key_len, msg, len, out);
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len,
                        uint8_t out[32])
{
    hmac(digest(true), key, key_len, msg, len, out);
}

void crypto_sha256(const void *msg, size_t len, uint8_t out[32])
{
    if (EVP_Digest(len ? msg : "", len, out, NULL, digest(true), NULL) != 1)
        crypto_fail("SHA-256");
}

void crypto_contact_key(const uint8_t key[CRYPTO_KEY_LEN], const char *e164,
                        char out[CRYPTO_CONTACT_KEY_HEX])
{
    uint8_t mac[32];

    crypto_hmac_sha256(key, CRYPTO_KEY_LEN, e164, strlen(e164), mac);
    crypto_hex(mac, 16, out);
    explicit_bzero(mac, sizeof(mac));
}

int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *plain, size_t len, const char *aad,
                uint8_t **out, size_t *out_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t *sealed = NULL;
    size_t aad_len = aad ? strlen(aad) : 0;
    int n, rc = -1;

    *out = NULL;
    *out_len = 0;
    if (len > INT_MAX - CRYPTO_SEAL_OVERHEAD || aad_len > INT_MAX)
        return -1;
    sealed = malloc(len + CRYPTO_SEAL_OVERHEAD);
    if (sealed == NULL)
        return -1;
    if (RAND_bytes(sealed, NONCE_LEN) != 1)
        goto out;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto out;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, key, sealed) != 1)
        goto out;
    if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)aad_len) != 1)
        goto out;
    if (len > 0 && EVP_EncryptUpdate(ctx, sealed + NONCE_LEN, &n, plain, (int)len) != 1)
        goto out;
    if (EVP_EncryptFinal_ex(ctx, sealed + NONCE_LEN + len, &n) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, sealed + NONCE_LEN + len) != 1)
        goto out;
    *out = sealed;
    *out_len = len + CRYPTO_SEAL_OVERHEAD;
    sealed = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    free(sealed);
    return rc;
}

int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t *sealed, size_t len,
                const char *aad, char **plain, size_t *plain_len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t tag[TAG_LEN];
    char *text = NULL;
    size_t aad_len = aad ? strlen(aad) : 0, text_len;
    int n, rc = -1;

    *plain = NULL;
    *plain_len = 0;
    if (sealed == NULL || len < CRYPTO_SEAL_OVERHEAD || len > INT_MAX || aad_len > INT_MAX)
        return -1;
    text_len = len - CRYPTO_SEAL_OVERHEAD;
    text = malloc(text_len + 1);
    if (text == NULL)
        return -1;
    /* The tag ctrl takes a non-const pointer; give it a copy. */
    memcpy(tag, sealed + len - TAG_LEN, TAG_LEN);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto out;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, sealed) != 1)
        goto out;
    if (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)aad_len) != 1)
        goto out;
    if (text_len > 0 &&
        EVP_DecryptUpdate(ctx, (uint8_t *)text, &n, sealed + NONCE_LEN, (int)text_len) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
        goto out;
    /* Final checks the tag: nothing decrypted is returned unless it matches. */
    if (EVP_DecryptFinal_ex(ctx, (uint8_t *)text + text_len, &n) != 1)
        goto out;
    text[text_len] = '\0';
    *plain = text;
    *plain_len = text_len;
    text = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (text != NULL) {
        explicit_bzero(text, text_len + 1);
        free(text);
    }
    return rc;
}

void crypto_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

size_t crypto_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need, o = 0;

    if (n > (SIZE_MAX - 1) / 4 * 3 - 2)
        return 0;
    need = (n + 2) / 3 * 4;
    if (cap < need + 1)
        return 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t left = n - i;

        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = alphabet[v >> 18 & 0x3f];
        out[o++] = alphabet[v >> 12 & 0x3f];
        out[o++] = left > 1 ? alphabet[v >> 6 & 0x3f] : '=';
        out[o++] = left > 2 ? alphabet[v & 0x3f] : '=';
    }
    out[o] = '\0';
    return o;
}

static int base64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int crypto_base64url_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t pad = 0, o = 0, need;
    uint32_t acc = 0;
    int bits = 0;

    *out_len = 0;
    /* Padding is optional, but when present it must be exactly what base64 would add. */
    while (pad < n && pad < 2 && in[n - 1 - pad] == '=')
        pad++;
    if (pad > 0 && n % 4 != 0)
        return -1;
    n -= pad;
    if (n % 4 == 1 || (pad > 0 && (n % 4 == 0 || 4 - n % 4 != pad)))
        return -1;
    need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = base64url_value(in[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, so each byte string has exactly one encoding. */
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1;
    *out_len = o;
    return 0;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int crypto_random(void *buf, size_t n)
{
    uint8_t *p = buf;

    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;

        if (RAND_bytes(p, chunk) != 1)
            return -1;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}
