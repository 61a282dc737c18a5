/* secret.c: load or create the installation secret (see secret.h). */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex_decode(const char *hex, uint8_t key[SECRET_LEN])
{
    for (size_t i = 0; i < SECRET_LEN; i++) {
        int hi = nibble(hex[2 * i]), lo = hi < 0 ? -1 : nibble(hex[2 * i + 1]);

        if (lo < 0)
            return -1;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int secret_make_parent_dirs(const char *path, char *err)
{
    char dir[4096];

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        err_set(err, "path too long");
        return -1;
    }
    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            err_set(err, "cannot create directory '%s': %s", dir, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

static int create_file(const char *path, uint8_t key[SECRET_LEN], char *err)
{
    char hex[2 * SECRET_LEN + 2], tmp[4096];
    int fd, rc = -1;

    if (RAND_bytes(key, SECRET_LEN) != 1) {
        err_set(err, "cannot generate random secret");
        return -1;
    }
    for (size_t i = 0; i < SECRET_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    hex[2 * SECRET_LEN] = '\n';
    if (secret_make_parent_dirs(path, err) != 0)
        return -1;
    /*
     * Write a private temporary file and link it into place: the key appears
     * complete or not at all, and of two processes starting at once only one
     * wins (link fails with EEXIST for the other, which then reads the file).
     */
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set(err, "cannot create secret file '%s': %s", tmp, strerror(errno));
        return -1;
    }
    if (write(fd, hex, sizeof(hex) - 1) != (ssize_t)(sizeof(hex) - 1) || fsync(fd) != 0) {
        err_set(err, "cannot write secret file '%s': %s", tmp, strerror(errno));
    } else if (link(tmp, path) != 0) {
        err_set(err, "cannot create secret file '%s': %s", path, strerror(errno));
        rc = errno == EEXIST ? 1 : -1;
    } else {
        rc = 0;
    }
    explicit_bzero(hex, sizeof(hex));
    close(fd);
    unlink(tmp);
    return rc;
}

static int read_file(const char *path, uint8_t key[SECRET_LEN], char *err)
{
    char hex[2 * SECRET_LEN + 8];
    struct stat st;
    ssize_t n;
    int fd, rc = -1;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        err_set(err, "cannot open secret file '%s': %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        err_set(err, "secret file '%s' must be readable by its owner only (chmod 600)", path);
        goto out;
    }
    n = read(fd, hex, sizeof(hex) - 1);
    if (n < 2 * SECRET_LEN) {
        err_set(err, "secret file '%s' must hold 64 hexadecimal digits", path);
        goto out;
    }
    hex[n] = '\0';
    for (ssize_t i = 2 * SECRET_LEN; i < n; i++) {
        if (hex[i] != '\n' && hex[i] != '\r' && hex[i] != ' ')
            n = -1;
    }
    if (n < 0 || hex_decode(hex, key) != 0) {
        err_set(err, "secret file '%s' must hold 64 hexadecimal digits", path);
        goto out;
    }
    rc = 0;
out:
    explicit_bzero(hex, sizeof(hex));
    close(fd);
    return rc;
}

int secret_load(const char *hex, const char *path, uint8_t key[SECRET_LEN], char *err)
{
    if (hex != NULL && hex[0] != '\0') {
        if (strlen(hex) != 2 * SECRET_LEN || hex_decode(hex, key) != 0) {
            err_set(err, "secret must be 64 hexadecimal digits");
            return -1;
        }
        return 0;
    }
    if (access(path, F_OK) != 0) {
        if (errno != ENOENT) {
            err_set(err, "cannot access secret file '%s': %s", path, strerror(errno));
            return -1;
        }
        int rc = create_file(path, key, err);

        if (rc <= 0)
            return rc;
        /* Lost a creation race with another process: read what it wrote. */
    }
    return read_file(path, key, err);
}
