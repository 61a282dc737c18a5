/*
 * fuzz.h: shared by the fuzz targets in tests/fuzz (see README.md there).
 * Every target defines LLVMFuzzerTestOneInput; the same file links either
 * with libFuzzer (KATTO_FUZZ=ON, clang) or with replay.c, which feeds it the
 * committed corpus in CI. Helpers here keep the targets short.
 */
#ifndef KATTO_FUZZ_H
#define KATTO_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * A property that must hold for every input. It aborts (not assert(), which
 * NDEBUG would remove) so that both libFuzzer and the replay driver report it
 * as a crash with the input that broke it.
 */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))
_Noreturn void fuzz_fail(const char *what, const char *file, int line);

/* data as a NUL-terminated string, owned (free()); aborts when out of memory. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * Writes size bytes to name inside a private scratch directory (on tmpfs when
 * /dev/shm is writable, because several targets go through a file per run)
 * and returns the path in a static buffer, valid until the next call (copy
 * it to keep several). The directory is removed at exit.
 */
const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);

/* The scratch directory itself (created on first use). */
const char *fuzz_scratch_dir(void);

/* A file of the source tree, e.g. "db/data/postal_codes_fi.csv" (static buffer). */
const char *fuzz_source_path(const char *relative);

/* Sets TZ=Europe/Helsinki, as app.c does, for the code that reads local time. */
void fuzz_helsinki_time(void);

#endif
