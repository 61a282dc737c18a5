/*
 * test_crypto.c: unit tests for crypto.c. HMACs against RFC 2202 and RFC
 * 4231 vectors and Twilio's published signature example; key derivation
 * against HKDF-SHA256 with an empty salt computed independently (a Python
 * HKDF checked against RFC 5869 test case 3, which also has an empty salt);
 * strict base64; AES-GCM sealing that fails closed on any change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

static const uint8_t key_0_to_31[CRYPTO_KEY_LEN] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

/* Key material repeated: 0x0b * 20, 0xaa * 131 and so on. */
static uint8_t *repeat(uint8_t byte, size_t n)
{
    uint8_t *p = malloc(n);

    assert_non_null(p);
    memset(p, byte, n);
    return p;
}

struct hmac_row {
    uint8_t key_byte; /* 0 = use key_text */
    size_t key_len;
    const char *key_text;
    uint8_t data_byte; /* 0 = use data_text */
    size_t data_len;
    const char *data_text;
    const char *sha1_hex; /* NULL when the RFC 2202 case differs */
    const char *sha256_hex;
};

static const struct hmac_row hmac_rows[] = {
    /* RFC 2202 / RFC 4231 test case 1 */
    {0x0b, 20, NULL, 0, 8, "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    /* test case 2: a key shorter than the block */
    {0, 4, "Jefe", 0, 28, "what do ya want for nothing?",
     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    /* test case 3: binary data */
    {0xaa, 20, NULL, 0xdd, 50, NULL, "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    /* RFC 2202 test case 6: a key longer than the block is hashed first (80 bytes) */
    {0xaa, 80, NULL, 0, 54, "Test Using Larger Than Block-Size Key - Hash Key First",
     "aa4ae5e15272d00e95705637ce8a3b55ed402112", NULL},
    /* RFC 4231 test case 6: the same for SHA-256 (131 bytes) */
    {0xaa, 131, NULL, 0, 54, "Test Using Larger Than Block-Size Key - Hash Key First", NULL,
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
};

static void hmac_matches_rfc_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(hmac_rows); i++) {
        const struct hmac_row *r = &hmac_rows[i];
        uint8_t *key = r->key_byte ? repeat(r->key_byte, r->key_len) : NULL;
        uint8_t *data = r->data_byte ? repeat(r->data_byte, r->data_len) : NULL;
        const void *k = key ? (const void *)key : r->key_text;
        const void *d = data ? (const void *)data : r->data_text;
        uint8_t mac[32];
        char hex[65];

        if (r->sha1_hex != NULL) {
            crypto_hmac_sha1(k, r->key_len, d, r->data_len, mac);
            crypto_hex(mac, 20, hex);
            assert_string_equal(hex, r->sha1_hex);
        }
        if (r->sha256_hex != NULL) {
            crypto_hmac_sha256(k, r->key_len, d, r->data_len, mac);
            crypto_hex(mac, 32, hex);
            assert_string_equal(hex, r->sha256_hex);
        }
        free(key);
        free(data);
    }
}

static void sha256_matches_fips_vectors(void **state)
{
    uint8_t md[32];
    char hex[65];

    (void)state;
    crypto_sha256("abc", 3, md);
    crypto_hex(md, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256(NULL, 0, md);
    crypto_hex(md, 32, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/*
 * Twilio's documented example (twilio-php/twilio-csharp RequestValidatorTest,
 * twilio-python docs): the URL followed by each POST parameter, sorted by
 * name, as name then value, signed with the auth token.
 */
static void twilio_signature_matches_published_example(void **state)
{
    static const char signed_text[] = "https://mycompany.com/myapp.php?foo=1&bar=2"
                                      "CallSid"
                                      "CA1234567890ABCDE"
                                      "Caller"
                                      "+14158675309"
                                      "Digits"
                                      "1234"
                                      "From"
                                      "+14158675309"
                                      "To"
                                      "+18005551212";
    uint8_t mac[20];
    char b64[29];

    (void)state;
    crypto_hmac_sha1("12345", 5, signed_text, strlen(signed_text), mac);
    assert_int_equal(crypto_base64_encode(mac, sizeof(mac), b64, sizeof(b64)), 28);
    assert_string_equal(b64, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

static void derive_key_matches_hkdf_sha256_with_empty_salt(void **state)
{
    uint8_t out[CRYPTO_KEY_LEN];
    char hex[2 * CRYPTO_KEY_LEN + 1];

    (void)state;
    assert_int_equal(crypto_derive_key(key_0_to_31, "contact-key", out), 0);
    crypto_hex(out, sizeof(out), hex);
    assert_string_equal(hex, "79b1020bbadf5c7c5b71f071b72b2f80dc41d52d19d51b492530dc87ad74ff5a");
    assert_int_equal(crypto_derive_key(key_0_to_31, "number-encryption", out), 0);
    crypto_hex(out, sizeof(out), hex);
    assert_string_equal(hex, "a08601bfc5249b69707bc511c96d1c98e6c386fe459afa8714083eb4b65fb03f");
}

static void derive_key_is_deterministic_and_separates_purposes(void **state)
{
    uint8_t a[CRYPTO_KEY_LEN], b[CRYPTO_KEY_LEN], c[CRYPTO_KEY_LEN], d[CRYPTO_KEY_LEN];
    uint8_t other[CRYPTO_KEY_LEN];

    (void)state;
    memcpy(other, key_0_to_31, sizeof(other));
    other[31] ^= 1;
    assert_int_equal(crypto_derive_key(key_0_to_31, "contact-key", a), 0);
    assert_int_equal(crypto_derive_key(key_0_to_31, "contact-key", b), 0);
    assert_int_equal(crypto_derive_key(key_0_to_31, "number-encryption", c), 0);
    assert_int_equal(crypto_derive_key(other, "contact-key", d), 0);
    assert_memory_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, c, sizeof(a));
    assert_memory_not_equal(a, d, sizeof(a));
    assert_memory_not_equal(a, key_0_to_31, sizeof(a));
    assert_int_equal(crypto_derive_key(key_0_to_31, NULL, a), -1);
}

static void contact_key_is_32_hex_digits_and_keyed(void **state)
{
    uint8_t k1[CRYPTO_KEY_LEN], k2[CRYPTO_KEY_LEN];
    char a[CRYPTO_CONTACT_KEY_HEX], b[CRYPTO_CONTACT_KEY_HEX], c[CRYPTO_CONTACT_KEY_HEX];
    char d[CRYPTO_CONTACT_KEY_HEX];

    (void)state;
    assert_int_equal(crypto_derive_key(key_0_to_31, "contact-key", k1), 0);
    assert_int_equal(crypto_derive_key(key_0_to_31, "other", k2), 0);
    crypto_contact_key(k1, "+358401234567", a);
    crypto_contact_key(k1, "+358401234567", b);
    crypto_contact_key(k2, "+358401234567", c);
    crypto_contact_key(k1, "+358401234568", d);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    /* HMAC-SHA256(derived key, number), first 16 bytes, as computed in Python. */
    assert_string_equal(a, "e7200df78bd87adddcfd27989e293345");
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
}

struct b64_row {
    const char *in;
    const char *out;
};

/* RFC 4648 section 10. */
static const struct b64_row b64_rows[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void base64_encode_matches_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(b64_rows); i++) {
        char out[16];
        size_t n = strlen(b64_rows[i].in);

        memset(out, 'x', sizeof(out));
        assert_int_equal(crypto_base64_encode((const uint8_t *)b64_rows[i].in, n, out, sizeof(out)),
                         strlen(b64_rows[i].out));
        assert_string_equal(out, b64_rows[i].out);
    }
}

static void base64_encode_refuses_a_short_buffer(void **state)
{
    char out[9];

    (void)state;
    /* "foobar" needs 8 characters and the NUL. */
    assert_int_equal(crypto_base64_encode((const uint8_t *)"foobar", 6, out, 8), 0);
    assert_int_equal(crypto_base64_encode((const uint8_t *)"foobar", 6, out, 9), 8);
    assert_string_equal(out, "Zm9vYmFy");
    /* Bytes that use the two last letters of the alphabet. */
    assert_int_equal(crypto_base64_encode((const uint8_t *)"\xfb\xff", 2, out, sizeof(out)), 4);
    assert_string_equal(out, "+/8=");
}

static void base64url_decode_accepts_padded_and_unpadded(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(b64_rows); i++) {
        const char *padded = b64_rows[i].out;
        size_t unpadded = strcspn(padded, "=");
        uint8_t out[16];
        size_t len = 99;

        assert_int_equal(crypto_base64url_decode(padded, strlen(padded), out, sizeof(out), &len),
                         0);
        assert_int_equal(len, strlen(b64_rows[i].in));
        assert_memory_equal(out, b64_rows[i].in, len);
        len = 99;
        assert_int_equal(crypto_base64url_decode(padded, unpadded, out, sizeof(out), &len), 0);
        assert_int_equal(len, strlen(b64_rows[i].in));
        assert_memory_equal(out, b64_rows[i].in, len);
    }
}

static void base64url_decode_uses_the_url_alphabet(void **state)
{
    uint8_t out[4];
    size_t len;

    (void)state;
    assert_int_equal(crypto_base64url_decode("-_8", 3, out, sizeof(out), &len), 0);
    assert_int_equal(len, 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    /* The standard alphabet's + and / are not base64url. */
    assert_int_equal(crypto_base64url_decode("+/8", 3, out, sizeof(out), &len), -1);
}

static void base64url_decode_rejects_malformed_input(void **state)
{
    static const char *const bad[] = {
        "Zm9v!",     /* not in the alphabet */
        "Zm 9v",     /* space */
        "Z",         /* 4k+1 characters can never be valid */
        "Zm9vY",     /* same */
        "Zm=9",      /* padding in the middle */
        "Zm9vYg=",   /* short padding */
        "Zm9vYg===", /* too much padding */
        "Zm8==",     /* padding on a length that needs none */
        "====",      /* nothing but padding */
        "Zh",        /* non-zero unused bits: not the canonical "Zg" */
        "Zm9=",      /* same, with padding */
    };
    uint8_t out[16];
    size_t len;

    (void)state;
    for (size_t i = 0; i < N_ROWS(bad); i++) {
        if (crypto_base64url_decode(bad[i], strlen(bad[i]), out, sizeof(out), &len) != -1)
            fail_msg("accepted '%s'", bad[i]);
    }
}

static void base64url_decode_refuses_a_short_buffer(void **state)
{
    uint8_t out[6];
    size_t len;

    (void)state;
    assert_int_equal(crypto_base64url_decode("Zm9vYmFy", 8, out, 5, &len), -1);
    assert_int_equal(crypto_base64url_decode("Zm9vYmFy", 8, out, 6, &len), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(out, "foobar", 6);
}

static void seal_then_open_round_trips(void **state)
{
    static const char number[] = "+358401234567";
    uint8_t key[CRYPTO_KEY_LEN];
    uint8_t *sealed;
    size_t sealed_len, plain_len;
    char *plain;

    (void)state;
    assert_int_equal(crypto_derive_key(key_0_to_31, "number-encryption", key), 0);
    assert_int_equal(
        crypto_seal(key, number, strlen(number), "callback_request.number", &sealed, &sealed_len),
        0);
    assert_int_equal(sealed_len, strlen(number) + CRYPTO_SEAL_OVERHEAD);
    assert_int_equal(
        crypto_open(key, sealed, sealed_len, "callback_request.number", &plain, &plain_len), 0);
    assert_int_equal(plain_len, strlen(number));
    assert_string_equal(plain, number);
    free(plain);
    free(sealed);

    /* Empty plaintext and no aad. */
    assert_int_equal(crypto_seal(key, "", 0, NULL, &sealed, &sealed_len), 0);
    assert_int_equal(sealed_len, CRYPTO_SEAL_OVERHEAD);
    assert_int_equal(crypto_open(key, sealed, sealed_len, NULL, &plain, &plain_len), 0);
    assert_int_equal(plain_len, 0);
    assert_string_equal(plain, "");
    free(plain);
    free(sealed);
}

static void seal_uses_a_fresh_nonce_each_time(void **state)
{
    uint8_t *a, *b;
    size_t a_len, b_len;

    (void)state;
    assert_int_equal(crypto_seal(key_0_to_31, "same", 4, "aad", &a, &a_len), 0);
    assert_int_equal(crypto_seal(key_0_to_31, "same", 4, "aad", &b, &b_len), 0);
    assert_int_equal(a_len, b_len);
    assert_memory_not_equal(a, b, 12);
    assert_memory_not_equal(a + 12, b + 12, a_len - 12);
    free(a);
    free(b);
}

static void open_fails_on_any_change(void **state)
{
    static const char text[] = "+358401234567";
    uint8_t other_key[CRYPTO_KEY_LEN];
    uint8_t *sealed;
    size_t sealed_len, plain_len;
    char *plain = (char *)"untouched";

    (void)state;
    memcpy(other_key, key_0_to_31, sizeof(other_key));
    other_key[0] ^= 0x80;
    assert_int_equal(crypto_seal(key_0_to_31, text, strlen(text), "row", &sealed, &sealed_len), 0);
    /* Every single bit flip, in nonce, ciphertext and tag alike, is caught. */
    for (size_t i = 0; i < sealed_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sealed[i] ^= (uint8_t)(1u << bit);
            if (crypto_open(key_0_to_31, sealed, sealed_len, "row", &plain, &plain_len) != -1)
                fail_msg("flip of bit %d in byte %zu was not detected", bit, i);
            assert_null(plain);
            sealed[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(crypto_open(other_key, sealed, sealed_len, "row", &plain, &plain_len), -1);
    assert_int_equal(crypto_open(key_0_to_31, sealed, sealed_len, "rox", &plain, &plain_len), -1);
    assert_int_equal(crypto_open(key_0_to_31, sealed, sealed_len, NULL, &plain, &plain_len), -1);
    assert_int_equal(crypto_open(key_0_to_31, sealed, sealed_len - 1, "row", &plain, &plain_len),
                     -1);
    assert_int_equal(
        crypto_open(key_0_to_31, sealed, CRYPTO_SEAL_OVERHEAD - 1, "row", &plain, &plain_len), -1);
    /* And unchanged it still opens. */
    assert_int_equal(crypto_open(key_0_to_31, sealed, sealed_len, "row", &plain, &plain_len), 0);
    assert_string_equal(plain, text);
    free(plain);
    free(sealed);
}

static void equal_compares_bytes(void **state)
{
    (void)state;
    assert_true(crypto_equal("abcdef", "abcdef", 6));
    assert_false(crypto_equal("abcdef", "abcdeg", 6));
    assert_false(crypto_equal("Abcdef", "abcdef", 6));
    assert_true(crypto_equal("abc", "abd", 2));
    assert_true(crypto_equal("", "", 0));
}

static void random_fills_the_buffer(void **state)
{
    uint8_t a[32], b[32], zero[32] = {0};

    (void)state;
    assert_int_equal(crypto_random(a, sizeof(a)), 0);
    assert_int_equal(crypto_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_int_equal(crypto_random(a, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hmac_matches_rfc_vectors),
        cmocka_unit_test(sha256_matches_fips_vectors),
        cmocka_unit_test(twilio_signature_matches_published_example),
        cmocka_unit_test(derive_key_matches_hkdf_sha256_with_empty_salt),
        cmocka_unit_test(derive_key_is_deterministic_and_separates_purposes),
        cmocka_unit_test(contact_key_is_32_hex_digits_and_keyed),
        cmocka_unit_test(base64_encode_matches_rfc4648),
        cmocka_unit_test(base64_encode_refuses_a_short_buffer),
        cmocka_unit_test(base64url_decode_accepts_padded_and_unpadded),
        cmocka_unit_test(base64url_decode_uses_the_url_alphabet),
        cmocka_unit_test(base64url_decode_rejects_malformed_input),
        cmocka_unit_test(base64url_decode_refuses_a_short_buffer),
        cmocka_unit_test(seal_then_open_round_trips),
        cmocka_unit_test(seal_uses_a_fresh_nonce_each_time),
        cmocka_unit_test(open_fails_on_any_change),
        cmocka_unit_test(equal_compares_bytes),
        cmocka_unit_test(random_fills_the_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
