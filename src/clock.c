/* clock.c: the wall clock, real or read from a test file (see clock.h). */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static struct {
    char *path; /* NULL: the real clock */
    struct timespec mtime;
    off_t size;
    long long value;
    int valid;
} test_clock;

void clock_use_file(const char *path)
{
    free(test_clock.path);
    memset(&test_clock, 0, sizeof(test_clock));
    if (path != NULL && path[0] != '\0')
        test_clock.path = strdup(path);
}

/* Re-reads the file when its size or mtime changed; one stat() per call otherwise. */
static void refresh(void)
{
    struct stat st;
    FILE *f;
    long long v;

    if (stat(test_clock.path, &st) != 0) {
        test_clock.valid = 0;
        return;
    }
    if (test_clock.valid && st.st_size == test_clock.size &&
        st.st_mtim.tv_sec == test_clock.mtime.tv_sec &&
        st.st_mtim.tv_nsec == test_clock.mtime.tv_nsec)
        return;
    if ((f = fopen(test_clock.path, "r")) == NULL) {
        test_clock.valid = 0;
        return;
    }
    test_clock.valid = fscanf(f, "%lld", &v) == 1;
    fclose(f);
    if (test_clock.valid) {
        test_clock.value = v;
        test_clock.size = st.st_size;
        test_clock.mtime = st.st_mtim;
    }
}

long long clock_now(void)
{
    if (test_clock.path != NULL) {
        refresh();
        if (test_clock.valid)
            return test_clock.value;
    }
    return (long long)time(NULL);
}
