/* db_fault.c: TESTS ONLY: a VFS whose writes fail while a file says "full" (see db_fault.h). */
#include "db_fault.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"

/* One open file: ours first, the real VFS's file right after it (szOsFile covers both). */
struct fault_file {
    sqlite3_file base;
    sqlite3_file *real;
};

static struct {
    sqlite3_vfs vfs;
    sqlite3_vfs *real;
    char *path;
    struct timespec mtime;
    off_t size;
    bool seen; /* the file existed at the last look */
    bool full;
} fault;

/* The server's checkpoint thread writes through this VFS too (checkpoint.c). */
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;

/* Re-reads the control file when its size or mtime changed (clock.c does the same). */
static bool disk_full_locked(void)
{
    struct stat st;
    char word[8] = "";
    FILE *f;

    if (stat(fault.path, &st) != 0) {
        fault.seen = fault.full = false;
        return false;
    }
    if (fault.seen && st.st_size == fault.size && st.st_mtim.tv_sec == fault.mtime.tv_sec &&
        st.st_mtim.tv_nsec == fault.mtime.tv_nsec)
        return fault.full;
    if ((f = fopen(fault.path, "r")) == NULL)
        return fault.full;
    fault.full = fscanf(f, "%7s", word) == 1 && strcmp(word, "full") == 0;
    fclose(f);
    fault.seen = true;
    fault.size = st.st_size;
    fault.mtime = st.st_mtim;
    return fault.full;
}

static bool disk_full(void)
{
    bool full;

    pthread_mutex_lock(&fault_lock);
    full = disk_full_locked();
    pthread_mutex_unlock(&fault_lock);
    return full;
}

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((struct fault_file *)f)->real;
}

static int f_close(sqlite3_file *f)
{
    return real_of(f)->pMethods->xClose(real_of(f));
}

static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}

static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    if (disk_full())
        return SQLITE_FULL;
    return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int f_sync(sqlite3_file *f, int flags)
{
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int f_lock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int f_unlock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int f_check_reserved(sqlite3_file *f, int *out)
{
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int f_file_control(sqlite3_file *f, int op, void *arg)
{
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int f_sector_size(sqlite3_file *f)
{
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int f_device(sqlite3_file *f)
{
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

/* The WAL index lives in shared memory, not on the disk: it is never "full". */
static int f_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
    return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, out);
}

static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}

static void f_shm_barrier(sqlite3_file *f)
{
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int f_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
    return real_of(f)->pMethods->xFetch(real_of(f), off, n, out);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

static const sqlite3_io_methods fault_methods = {
    .iVersion = 3,
    .xClose = f_close,
    .xRead = f_read,
    .xWrite = f_write,
    .xTruncate = f_truncate,
    .xSync = f_sync,
    .xFileSize = f_file_size,
    .xLock = f_lock,
    .xUnlock = f_unlock,
    .xCheckReservedLock = f_check_reserved,
    .xFileControl = f_file_control,
    .xSectorSize = f_sector_size,
    .xDeviceCharacteristics = f_device,
    .xShmMap = f_shm_map,
    .xShmLock = f_shm_lock,
    .xShmBarrier = f_shm_barrier,
    .xShmUnmap = f_shm_unmap,
    .xFetch = f_fetch,
    .xUnfetch = f_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    struct fault_file *f = (struct fault_file *)file;
    int rc;

    (void)vfs;
    f->real = (sqlite3_file *)(f + 1);
    rc = fault.real->xOpen(fault.real, name, f->real, flags, out_flags);
    /* SQLite calls xClose only on files whose pMethods is set. */
    f->base.pMethods = f->real->pMethods != NULL ? &fault_methods : NULL;
    return rc;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return fault.real->xDelete(fault.real, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return fault.real->xAccess(fault.real, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return fault.real->xFullPathname(fault.real, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return fault.real->xDlOpen(fault.real, name);
}

static void v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    fault.real->xDlError(fault.real, n, out);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *handle, const char *sym))(void)
{
    (void)vfs;
    return fault.real->xDlSym(fault.real, handle, sym);
}

static void v_dlclose(sqlite3_vfs *vfs, void *handle)
{
    (void)vfs;
    fault.real->xDlClose(fault.real, handle);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return fault.real->xRandomness(fault.real, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int micros)
{
    (void)vfs;
    return fault.real->xSleep(fault.real, micros);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return fault.real->xCurrentTime(fault.real, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return fault.real->xGetLastError(fault.real, n, out);
}

static int v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return fault.real->xCurrentTimeInt64(fault.real, out);
}

int db_fault_install(const char *path, char *err)
{
    if (path == NULL || path[0] == '\0')
        return 0;
    if (fault.path != NULL) {
        err_set(err, "test_disk_full_file: installed already");
        return -1;
    }
    /* Version 2 or later: the busy handler sleeps through xSleep, time through xCurrentTimeInt64.
     */
    if ((fault.real = sqlite3_vfs_find(NULL)) == NULL || fault.real->iVersion < 2) {
        err_set(err, "test_disk_full_file: no usable default SQLite VFS");
        return -1;
    }
    if ((fault.path = strdup(path)) == NULL) {
        err_set(err, "out of memory");
        return -1;
    }
    fault.vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct fault_file) + fault.real->szOsFile,
        .mxPathname = fault.real->mxPathname,
        .zName = "katto-test-disk-full",
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full_pathname,
        .xDlOpen = v_dlopen,
        .xDlError = v_dlerror,
        .xDlSym = v_dlsym,
        .xDlClose = v_dlclose,
        .xRandomness = v_randomness,
        .xSleep = v_sleep,
        .xCurrentTime = v_current_time,
        .xGetLastError = v_last_error,
        .xCurrentTimeInt64 = v_current_time64,
    };
    if (sqlite3_vfs_register(&fault.vfs, 1) != SQLITE_OK) {
        err_set(err, "test_disk_full_file: cannot register the VFS");
        free(fault.path);
        fault.path = NULL;
        return -1;
    }
    return 0;
}
