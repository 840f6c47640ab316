/*
 * iofail.c - I/O failure injection: wraps write(), fsync(), fdatasync(),
 * close(), rename() and read() so that they fail on purpose, as a full or
 * broken disk would make them fail.
 *
 * Two ways to use it:
 *   - as an LD_PRELOAD shim for the made program (build/tests/libiofail.so,
 *     built by the Makefile), configured by environment variables;
 *   - #included first into a test program (tests/test_io_faults.c), whose own
 *     definitions then take the place of libc's for the statically linked
 *     library; the test calls iofail_set() between operations.
 *
 * Only regular files whose path contains IOFAIL_PATH are affected (every
 * regular file if it is unset), so the terminal, pipes and directories keep
 * working and the program can still report the error.
 *
 *   IOFAIL_PATH=text     affect only files whose path contains text
 *   IOFAIL_BYTES=N       the device is full after N bytes (counted over all
 *                        affected files): the write that crosses N is short,
 *                        the next one fails
 *   IOFAIL_WRITE=K       the K-th write() call fails (1-based)
 *   IOFAIL_FSYNC=K       the K-th fsync()/fdatasync() fails
 *   IOFAIL_CLOSE=K       the K-th close() fails (the descriptor is closed all
 *                        the same, as on Linux)
 *   IOFAIL_RENAME=K      the K-th rename() whose source or target matches fails
 *   IOFAIL_READ=K        the K-th read() fails (always with EIO)
 *   IOFAIL_ERRNO=NAME    ENOSPC (default), EIO, EDQUOT, EROFS or a number
 *   IOFAIL_VERBOSE=1     say on stderr what was made to fail
 *
 * Every counter is per process and counts only calls on affected files.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef struct iofail_config {
    const char *path;     /* substring; NULL = every regular file */
    long long bytes;      /* -1 = unlimited */
    long write_k, fsync_k, close_k, rename_k, read_k; /* 0 = never */
    int err;
    int verbose;
} iofail_config;

static iofail_config iofail_cfg = {NULL, -1, 0, 0, 0, 0, 0, ENOSPC, 0};
static char iofail_path_buf[PATH_MAX];
static long long iofail_written;
static long iofail_n_write, iofail_n_fsync, iofail_n_close, iofail_n_rename, iofail_n_read;
static int iofail_ready;

/* Replaces the configuration and resets every counter. */
static void iofail_set(const iofail_config *c)
{
    iofail_cfg = *c;
    if (c->path) {
        snprintf(iofail_path_buf, sizeof iofail_path_buf, "%s", c->path);
        iofail_cfg.path = iofail_path_buf;
    }
    if (!iofail_cfg.err) iofail_cfg.err = ENOSPC;
    iofail_written = 0;
    iofail_n_write = iofail_n_fsync = iofail_n_close = iofail_n_rename = iofail_n_read = 0;
    iofail_ready = 1;
}

static long iofail_env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : dflt;
}

static void iofail_init(void)
{
    if (iofail_ready) return;
    iofail_config c = {NULL, -1, 0, 0, 0, 0, 0, ENOSPC, 0};
    const char *s = getenv("IOFAIL_PATH");
    if (s && *s) c.path = s;
    s = getenv("IOFAIL_BYTES");
    if (s && *s) c.bytes = strtoll(s, NULL, 10);
    c.write_k = iofail_env_long("IOFAIL_WRITE", 0);
    c.fsync_k = iofail_env_long("IOFAIL_FSYNC", 0);
    c.close_k = iofail_env_long("IOFAIL_CLOSE", 0);
    c.rename_k = iofail_env_long("IOFAIL_RENAME", 0);
    c.read_k = iofail_env_long("IOFAIL_READ", 0);
    c.verbose = (int)iofail_env_long("IOFAIL_VERBOSE", 0);
    s = getenv("IOFAIL_ERRNO");
    if (s && *s) {
        if (!strcmp(s, "ENOSPC")) c.err = ENOSPC;
        else if (!strcmp(s, "EIO")) c.err = EIO;
        else if (!strcmp(s, "EDQUOT")) c.err = EDQUOT;
        else if (!strcmp(s, "EROFS")) c.err = EROFS;
        else c.err = (int)strtol(s, NULL, 10);
    }
    iofail_set(&c);
}

static int iofail_path_matches(const char *p)
{
    return p && (!iofail_cfg.path || strstr(p, iofail_cfg.path) != NULL);
}

/* Whether fd is a regular file whose path matches. */
static int iofail_fd_matches(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    if (!iofail_cfg.path) return 1;
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) return 0;
    target[n] = '\0';
    return iofail_path_matches(target);
}

static void iofail_say(const char *what, long k, int fd)
{
    if (iofail_cfg.verbose)
        fprintf(stderr, "iofail: %s #%ld (fd %d) fails with %s\n", what, k, fd,
                strerror(iofail_cfg.err));
}

static void *iofail_next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fprintf(stderr, "iofail: cannot find the real %s\n", name);
        abort();
    }
    return f;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) real = (ssize_t(*)(int, const void *, size_t))iofail_next("write");
    iofail_init();
    if (!iofail_fd_matches(fd)) return real(fd, buf, n);
    long k = ++iofail_n_write;
    if (iofail_cfg.write_k && k == iofail_cfg.write_k) {
        iofail_say("write", k, fd);
        errno = iofail_cfg.err;
        return -1;
    }
    if (iofail_cfg.bytes >= 0) {
        long long room = iofail_cfg.bytes - iofail_written;
        if (room <= 0 && n > 0) {
            iofail_say("write (device full)", k, fd);
            errno = iofail_cfg.err;
            return -1;
        }
        if ((long long)n > room) n = (size_t)room; /* a short write, as on a full disk */
    }
    ssize_t w = real(fd, buf, n);
    if (w > 0) iofail_written += w;
    return w;
}

ssize_t read(int fd, void *buf, size_t n)
{
    static ssize_t (*real)(int, void *, size_t);
    if (!real) real = (ssize_t(*)(int, void *, size_t))iofail_next("read");
    iofail_init();
    if (!iofail_cfg.read_k || !iofail_fd_matches(fd)) return real(fd, buf, n);
    long k = ++iofail_n_read;
    if (k == iofail_cfg.read_k) {
        if (iofail_cfg.verbose) fprintf(stderr, "iofail: read #%ld (fd %d) fails with EIO\n", k, fd);
        errno = EIO;
        return -1;
    }
    return real(fd, buf, n);
}

static int iofail_sync(const char *name, int fd)
{
    static int (*real_fsync)(int), (*real_fdatasync)(int);
    int (*real)(int);
    if (name[1] == 's') {
        if (!real_fsync) real_fsync = (int (*)(int))iofail_next("fsync");
        real = real_fsync;
    } else {
        if (!real_fdatasync) real_fdatasync = (int (*)(int))iofail_next("fdatasync");
        real = real_fdatasync;
    }
    iofail_init();
    if (!iofail_fd_matches(fd)) return real(fd);
    long k = ++iofail_n_fsync;
    if (iofail_cfg.fsync_k && k == iofail_cfg.fsync_k) {
        iofail_say(name, k, fd);
        errno = iofail_cfg.err;
        return -1;
    }
    return real(fd);
}

int fsync(int fd) { return iofail_sync("fsync", fd); }
int fdatasync(int fd) { return iofail_sync("fdatasync", fd); }

int close(int fd)
{
    static int (*real)(int);
    if (!real) real = (int (*)(int))iofail_next("close");
    iofail_init();
    if (!iofail_cfg.close_k || !iofail_fd_matches(fd)) return real(fd);
    long k = ++iofail_n_close;
    int rc = real(fd);
    if (k == iofail_cfg.close_k) {
        iofail_say("close", k, fd);
        errno = iofail_cfg.err;
        return -1;
    }
    return rc;
}

int rename(const char *from, const char *to)
{
    static int (*real)(const char *, const char *);
    if (!real) real = (int (*)(const char *, const char *))iofail_next("rename");
    iofail_init();
    if (!iofail_path_matches(from) && !iofail_path_matches(to)) return real(from, to);
    long k = ++iofail_n_rename;
    if (iofail_cfg.rename_k && k == iofail_cfg.rename_k) {
        if (iofail_cfg.verbose)
            fprintf(stderr, "iofail: rename #%ld (%s) fails with %s\n", k, to, strerror(iofail_cfg.err));
        errno = iofail_cfg.err;
        return -1;
    }
    return real(from, to);
}
