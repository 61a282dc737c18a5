/*
 * replay.c: main() for CI. Runs a fuzz target's LLVMFuzzerTestOneInput over
 * every file named on the command line, or in the directories named there
 * (sorted, so a failure always shows at the same file), without libFuzzer:
 * the target is built with the normal compiler and ASan/UBSan, so the
 * committed corpus is a deterministic regression test that needs no clang.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Optional in a target, as in libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static size_t replayed;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t size = 0, cap = 0, got;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    do {
        if (size == cap) {
            cap = cap ? cap * 2 : 4096;
            if ((data = realloc(data, cap)) == NULL)
                abort();
        }
        got = fread(data + size, 1, cap - size, f);
        size += got;
    } while (got > 0);
    if (ferror(f)) {
        perror(path);
        fclose(f);
        free(data);
        return -1;
    }
    fclose(f);
    /* Announced first, so that the input is named when the target crashes. */
    fprintf(stderr, "replay %s (%zu bytes)\n", path, size);
    /* A copy of exactly size bytes, so ASan sees any read past the input's end. */
    uint8_t *exact = malloc(size > 0 ? size : 1);

    if (exact == NULL)
        abort();
    if (size > 0)
        memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    replayed++;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (dh == NULL) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            if ((names = realloc(names, cap * sizeof(*names))) == NULL)
                abort();
        }
        if ((names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)) == NULL)
            abort();
        sprintf(names[n++], "%s/%s", dir, e->d_name);
    }
    closedir(dh);
    if (n > 0)
        qsort(names, n, sizeof(*names), compare_names);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && replay_file(names[i]) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    struct stat st;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if ((S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i])) != 0)
            return 1;
    }
    /* An empty corpus would make the test pass while checking nothing. */
    if (replayed == 0) {
        fprintf(stderr, "%s: no inputs found\n", argv[0]);
        return 1;
    }
    printf("%zu inputs replayed without a finding\n", replayed);
    return 0;
}
