/* fuzzlib.c: see fuzz.h. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef KATTO_FUZZ_SOURCE_DIR
#error "KATTO_FUZZ_SOURCE_DIR must name the source tree (tests/CMakeLists.txt sets it)"
#endif

static char scratch[256];

_Noreturn void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
    abort();
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Removes the scratch directory and the files in it (never subdirectories: none are made). */
static void remove_scratch(void)
{
    DIR *dh = opendir(scratch);
    struct dirent *e;
    char path[512];

    if (dh == NULL)
        return;
    while ((e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", scratch, e->d_name);
        unlink(path);
    }
    closedir(dh);
    rmdir(scratch);
}

const char *fuzz_scratch_dir(void)
{
    if (scratch[0] != '\0')
        return scratch;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

    snprintf(scratch, sizeof(scratch), "%s/katto-fuzz-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(scratch) == NULL) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_scratch);
    return scratch;
}

const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", fuzz_scratch_dir(), name);
    if ((f = fopen(path, "wb")) == NULL || (size > 0 && fwrite(data, 1, size, f) != size) ||
        fclose(f) != 0) {
        perror("fuzz: write scratch file");
        abort();
    }
    return path;
}

const char *fuzz_source_path(const char *relative)
{
    static char path[1024];

    snprintf(path, sizeof(path), "%s/%s", KATTO_FUZZ_SOURCE_DIR, relative);
    return path;
}

void fuzz_helsinki_time(void)
{
    setenv("TZ", "Europe/Helsinki", 1);
    tzset();
}
