/*
 * secret.h: the installation's 32-byte secret key. Later modules derive the
 * stable contact key (HMAC-SHA256 of a normalised number) and encryption keys
 * from it. It comes from configuration as 64 hex digits, or from the secret
 * file, which is created with 32 random bytes (OpenSSL RAND_bytes) and mode
 * 0600 on first run. Losing it makes stored numbers undecryptable, by design.
 */
#ifndef KATTO_SECRET_H
#define KATTO_SECRET_H

#include <stdint.h>

#define SECRET_LEN 32

/*
 * Fills key from hex (if non-empty) or from the file at path, creating the file
 * if it does not exist. Refuses a file that group or others can read.
 * Returns 0, or -1 with err set.
 */
int secret_load(const char *hex, const char *path, uint8_t key[SECRET_LEN], char *err);

/* Creates the parent directories of path (mode 0700 for new ones). 0 or -1 with err. */
int secret_make_parent_dirs(const char *path, char *err);

#endif
