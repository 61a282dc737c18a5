/*
 * crypto.h: the few cryptographic operations Katto needs, on OpenSSL's
 * libcrypto: keys derived from the installation secret, the stable contact
 * key (a keyed hash of a phone number), authenticated encryption of stored
 * numbers (AES-256-GCM), and the HMACs and encodings that gateways use to
 * sign webhooks. Buffers that held a key or a number are wiped by callers
 * with explicit_bzero.
 */
#ifndef KATTO_CRYPTO_H
#define KATTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN 32
#define CRYPTO_CONTACT_KEY_HEX 33 /* 128-bit contact key as 32 hex digits + NUL */
#define CRYPTO_SEAL_OVERHEAD 28   /* 12-byte nonce + 16-byte tag */

/*
 * Derives a key for one purpose ("contact-key", "number-encryption", ...)
 * from the 32-byte installation secret with HKDF-SHA256, so that one secret
 * serves every use without one use weakening another. The salt is empty
 * (RFC 5869 then uses HashLen zero bytes) and purpose is the info string.
 * 0 or -1.
 */
int crypto_derive_key(const uint8_t secret[CRYPTO_KEY_LEN], const char *purpose,
                      uint8_t out[CRYPTO_KEY_LEN]);

/*
 * The contact key of a normalised number: hex of HMAC-SHA256(key, e164),
 * truncated to 128 bits. Stable for the installation; keys opt-outs,
 * sessions and dedupe. Never reversible without the secret.
 */
void crypto_contact_key(const uint8_t key[CRYPTO_KEY_LEN], const char *e164,
                        char out[CRYPTO_CONTACT_KEY_HEX]);

/*
 * AES-256-GCM with a random 96-bit nonce. aad (may be NULL) is authenticated
 * but not stored (e.g. the table and row purpose). The sealed form is
 * nonce | ciphertext | tag, returned owned in *out (free with free()).
 * 0 or -1.
 */
int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *plain, size_t len, const char *aad,
                uint8_t **out, size_t *out_len);

/*
 * Opens what crypto_seal made with the same key and aad; *plain is returned
 * owned (free with free()) and NUL-terminated, *plain_len excludes the NUL.
 * -1 if tampered, truncated, or the key or aad differ (nothing is returned).
 */
int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t *sealed, size_t len,
                const char *aad, char **plain, size_t *plain_len);

/*
 * HMAC-SHA1 (Twilio webhook signatures), HMAC-SHA256 and SHA-256 into out.
 * These cannot fail on valid input; if libcrypto itself fails (out of
 * memory), they abort rather than return a MAC that is not one.
 */
void crypto_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t len,
                      uint8_t out[20]);
void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len,
                        uint8_t out[32]);
void crypto_sha256(const void *msg, size_t len, uint8_t out[32]);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void crypto_hex(const uint8_t *in, size_t n, char *out);

/*
 * Standard base64 with padding into out (cap bytes, NUL-terminated, so cap
 * must be at least 4 * ceil(n / 3) + 1); returns the length without the NUL,
 * or 0 if it does not fit (an empty input also gives 0, with out = "").
 */
size_t crypto_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap);

/*
 * Decodes base64url without padding (JWT segments; '=' padding tolerated
 * if it is exactly the padding base64 would add) into out (cap bytes) and
 * sets *out_len. -1 if malformed (a character outside A-Z a-z 0-9 - _, a
 * length of 4k+1, non-zero unused bits) or if the result exceeds cap.
 */
int crypto_base64url_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *out_len);

/* Constant-time equality of n bytes. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* n random bytes from OpenSSL's CSPRNG. 0 or -1. */
int crypto_random(void *buf, size_t n);

#endif
