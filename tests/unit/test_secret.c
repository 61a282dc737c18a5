/*
 * test_secret.c: unit tests for secret.c. The first run creates the key file
 * (0600, 64 hex digits and a newline) and later runs read the same key back;
 * a file others can read is refused; a key given in configuration wins and
 * is decoded exactly; malformed keys and files are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "secret.h"
#include "testlib.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))
#define KEY_0_TO_31 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

struct fixture {
    char *dir;
    char path[512]; /* dir/secret */
    char err[ERR_LEN];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (fx == NULL)
        return -1;
    fx->dir = testlib_tmpdir();
    snprintf(fx->path, sizeof(fx->path), "%s/secret", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    testlib_rmrf(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static mode_t file_mode(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        fail_msg("stat %s failed", path);
    return st.st_mode & 07777;
}

/* Writes text to path with the given mode (chmod after, so umask does not interfere). */
static void write_key_file(const char *path, const char *text, mode_t mode)
{
    testlib_write_file(path, text);
    assert_int_equal(chmod(path, mode), 0);
}

static void decode_hex(const char *hex, uint8_t out[SECRET_LEN])
{
    for (size_t i = 0; i < SECRET_LEN; i++) {
        unsigned v;

        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void first_load_creates_a_private_file_with_hex_and_newline(void **state)
{
    struct fixture *fx = *state;
    uint8_t key[SECRET_LEN], from_file[SECRET_LEN], zero[SECRET_LEN] = {0};
    size_t len;
    char *text;

    if (secret_load("", fx->path, key, fx->err) != 0)
        fail_msg("refused: %s", fx->err);
    assert_int_equal(file_mode(fx->path), 0600);
    text = testlib_read_file(fx->path, &len);
    assert_non_null(text);
    assert_int_equal(len, 2 * SECRET_LEN + 1);
    for (size_t i = 0; i < 2 * SECRET_LEN; i++) {
        if (!isxdigit((unsigned char)text[i]) || isupper((unsigned char)text[i]))
            fail_msg("byte %zu of the file is '%c', not a lower-case hex digit", i, text[i]);
    }
    assert_int_equal(text[2 * SECRET_LEN], '\n');
    /* The file holds exactly the key that was returned. */
    decode_hex(text, from_file);
    assert_memory_equal(key, from_file, SECRET_LEN);
    assert_memory_not_equal(key, zero, SECRET_LEN);
    free(text);
}

static void second_load_returns_the_same_key(void **state)
{
    struct fixture *fx = *state;
    uint8_t first[SECRET_LEN], second[SECRET_LEN];

    assert_int_equal(secret_load("", fx->path, first, fx->err), 0);
    memset(second, 0xAA, sizeof(second));
    assert_int_equal(secret_load(NULL, fx->path, second, fx->err), 0);
    assert_memory_equal(first, second, SECRET_LEN);
    assert_int_equal(file_mode(fx->path), 0600); /* reading does not change it */
}

static void each_installation_gets_its_own_random_key(void **state)
{
    struct fixture *fx = *state;
    uint8_t a[SECRET_LEN], b[SECRET_LEN];
    char other[600];

    snprintf(other, sizeof(other), "%s/other-secret", fx->dir);
    assert_int_equal(secret_load("", fx->path, a, fx->err), 0);
    assert_int_equal(secret_load("", other, b, fx->err), 0);
    assert_memory_not_equal(a, b, SECRET_LEN);
}

static void file_readable_by_others_is_refused(void **state)
{
    struct fixture *fx = *state;
    static const mode_t bad[] = {0644, 0640, 0604, 0660, 0606, 0744};
    static const mode_t good[] = {0600, 0400};
    uint8_t key[SECRET_LEN], want[SECRET_LEN];

    decode_hex(KEY_0_TO_31, want);
    for (size_t i = 0; i < N_ROWS(bad); i++) {
        write_key_file(fx->path, KEY_0_TO_31 "\n", bad[i]);
        fx->err[0] = '\0';
        if (secret_load("", fx->path, key, fx->err) != -1)
            fail_msg("mode %04o accepted", (unsigned)bad[i]);
        assert_non_null(strstr(fx->err, fx->path));
        assert_non_null(strstr(fx->err, "600"));
        /* Refusing must not "fix" it by rewriting the key. */
        assert_int_equal(file_mode(fx->path), bad[i]);
    }
    for (size_t i = 0; i < N_ROWS(good); i++) {
        write_key_file(fx->path, KEY_0_TO_31 "\n", 0600);
        assert_int_equal(chmod(fx->path, good[i]), 0);
        if (secret_load("", fx->path, key, fx->err) != 0)
            fail_msg("mode %04o refused: %s", (unsigned)good[i], fx->err);
        assert_memory_equal(key, want, SECRET_LEN);
    }
}

static void hex_from_config_wins_and_is_decoded_exactly(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *hex;
        uint8_t first, second, last;
    } cases[] = {
        {KEY_0_TO_31, 0x00, 0x01, 0x1f},
        {"ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eA0", 0xff, 0x01, 0xa0},
        {"DEADBEEF0405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E7f", 0xde, 0xad, 0x7f},
    };
    uint8_t key[SECRET_LEN];
    char *before, *after;

    /* A different key is already on disk: configuration still wins. */
    write_key_file(fx->path, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n",
                   0600);
    before = testlib_read_file(fx->path, NULL);
    for (size_t i = 0; i < N_ROWS(cases); i++) {
        uint8_t want[SECRET_LEN];

        if (secret_load(cases[i].hex, fx->path, key, fx->err) != 0)
            fail_msg("%s refused: %s", cases[i].hex, fx->err);
        decode_hex(cases[i].hex, want);
        assert_memory_equal(key, want, SECRET_LEN);
        assert_int_equal(key[0], cases[i].first);
        assert_int_equal(key[1], cases[i].second);
        assert_int_equal(key[SECRET_LEN - 1], cases[i].last);
    }
    after = testlib_read_file(fx->path, NULL);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void hex_from_config_does_not_create_a_file(void **state)
{
    struct fixture *fx = *state;
    uint8_t key[SECRET_LEN];
    struct stat st;

    assert_int_equal(secret_load(KEY_0_TO_31, fx->path, key, fx->err), 0);
    assert_int_equal(stat(fx->path, &st), -1);
}

static void bad_hex_from_config_is_refused(void **state)
{
    struct fixture *fx = *state;
    static const char *const bad[] = {
        "0",
        KEY_0_TO_31 "0",                                                    /* 65 digits */
        "00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",  /* 63 digits */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", /* not hex */
        "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", /* prefix */
        "000102030405060708090a0b0c0d0e0f 01112131415161718191a1b1c1d1e1f", /* space */
        "-00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    };
    uint8_t key[SECRET_LEN];
    struct stat st;

    for (size_t i = 0; i < N_ROWS(bad); i++) {
        fx->err[0] = '\0';
        if (secret_load(bad[i], fx->path, key, fx->err) != -1)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(fx->err, "64 hexadecimal"));
        /* A bad configured key is an error, not a reason to fall back to the file. */
        assert_int_equal(stat(fx->path, &st), -1);
    }
}

static void bad_key_file_is_refused(void **state)
{
    struct fixture *fx = *state;
    static const char *const bad[] = {
        "",
        "\n",
        "0001020304\n",
        "00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", /* 63 */
        "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1z\n",
    };
    uint8_t key[SECRET_LEN];

    for (size_t i = 0; i < N_ROWS(bad); i++) {
        write_key_file(fx->path, bad[i], 0600);
        fx->err[0] = '\0';
        if (secret_load("", fx->path, key, fx->err) != -1)
            fail_msg("file '%s' accepted", bad[i]);
        assert_non_null(strstr(fx->err, fx->path));
    }
}

static void key_file_without_trailing_newline_is_accepted(void **state)
{
    struct fixture *fx = *state;
    uint8_t key[SECRET_LEN], want[SECRET_LEN];

    /* As written by `printf %s $KEY > secret` or an editor that strips newlines. */
    write_key_file(fx->path, KEY_0_TO_31, 0600);
    assert_int_equal(secret_load("", fx->path, key, fx->err), 0);
    decode_hex(KEY_0_TO_31, want);
    assert_memory_equal(key, want, SECRET_LEN);
}

static void missing_parent_directories_are_created_private(void **state)
{
    struct fixture *fx = *state;
    uint8_t key[SECRET_LEN], again[SECRET_LEN];
    char path[600], a[600], ab[600];

    snprintf(a, sizeof(a), "%s/a", fx->dir);
    snprintf(ab, sizeof(ab), "%s/a/b", fx->dir);
    snprintf(path, sizeof(path), "%s/a/b/secret", fx->dir);
    if (secret_load("", path, key, fx->err) != 0)
        fail_msg("refused: %s", fx->err);
    assert_int_equal(file_mode(a), 0700);
    assert_int_equal(file_mode(ab), 0700);
    assert_int_equal(file_mode(path), 0600);
    assert_int_equal(secret_load("", path, again, fx->err), 0);
    assert_memory_equal(key, again, SECRET_LEN);
}

static void make_parent_dirs_creates_only_the_parents(void **state)
{
    struct fixture *fx = *state;
    char path[600], leaf[600];
    struct stat st;

    snprintf(path, sizeof(path), "%s/x/y/z/secret", fx->dir);
    assert_int_equal(secret_make_parent_dirs(path, fx->err), 0);
    snprintf(leaf, sizeof(leaf), "%s/x/y/z", fx->dir);
    assert_int_equal(stat(leaf, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(stat(path, &st), -1); /* the file itself is not made a directory */
    /* Existing directories are fine. */
    assert_int_equal(secret_make_parent_dirs(path, fx->err), 0);
}

static void parent_that_is_a_file_is_an_error(void **state)
{
    struct fixture *fx = *state;
    uint8_t key[SECRET_LEN];
    char blocker[600], path[700];

    snprintf(blocker, sizeof(blocker), "%s/blocker", fx->dir);
    testlib_write_file(blocker, "not a directory\n");
    snprintf(path, sizeof(path), "%s/sub/secret", blocker);
    fx->err[0] = '\0';
    assert_int_equal(secret_load("", path, key, fx->err), -1);
    assert_true(fx->err[0] != '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(first_load_creates_a_private_file_with_hex_and_newline),
        T(second_load_returns_the_same_key),
        T(each_installation_gets_its_own_random_key),
        T(file_readable_by_others_is_refused),
        T(hex_from_config_wins_and_is_decoded_exactly),
        T(hex_from_config_does_not_create_a_file),
        T(bad_hex_from_config_is_refused),
        T(bad_key_file_is_refused),
        T(key_file_without_trailing_newline_is_accepted),
        T(missing_parent_directories_are_created_private),
        T(make_parent_dirs_creates_only_the_parents),
        T(parent_that_is_a_file_is_an_error),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
