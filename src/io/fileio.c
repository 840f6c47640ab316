/* fileio.c - whole-file reads and atomic writes (temp file, fsync, rename). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "io/fileio.h"

int made__read_file(const char *path, unsigned char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return made__error(MADE_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return made__error(MADE_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return made__error(MADE_E_IO, "%s: is a directory, not a file", path);
    }
    /* Read until EOF rather than trusting st_size: pipes and /proc files lie. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    unsigned char *buf = made__malloc(cap);
    if (!buf) {
        close(fd);
        return MADE_E_NOMEM;
    }
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            if (cap > SIZE_MAX / 2) {
                made__free(buf);
                close(fd);
                return made__error(MADE_E_NOMEM, "%s: file too large", path);
            }
            unsigned char *p = made__realloc(buf, cap * 2);
            if (!p) {
                made__free(buf);
                close(fd);
                return MADE_E_NOMEM;
            }
            buf = p;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            made__free(buf);
            close(fd);
            return made__error(MADE_E_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    *data = buf;
    *size = len;
    return MADE_OK;
}

int made__read_with(made_array *a, const char *path, const char *fn, made__parse_fn parse)
{
    made__clear_error();
    if (!a) return made__error(MADE_E_INVAL, "%s: array is NULL", fn);
    memset(a, 0, sizeof *a);
    if (!path) return made__error(MADE_E_INVAL, "%s: path is NULL", fn);
    unsigned char *bytes;
    size_t size;
    int rc = made__read_file(path, &bytes, &size);
    if (rc != MADE_OK) {
        /* I/O messages already name the path; allocation failures do not. */
        if (rc == MADE_E_NOMEM) made__error_prefix("%s: ", path);
        return rc;
    }
    rc = parse(a, &bytes, size);
    made__free(bytes);
    if (rc != MADE_OK) made__error_prefix("%s: ", path);
    return rc;
}

struct made__atomic {
    int fd;
    char *path; /* target */
    char *tmp;  /* temp file beside it */
};

int made__atomic_open(made__atomic **out, const char *path)
{
    *out = NULL;
    made__atomic *f = made__calloc(1, sizeof *f);
    if (!f) return MADE_E_NOMEM;
    size_t n = strlen(path);
    f->path = made__malloc(n + 1);
    f->tmp = made__malloc(n + 16);
    if (!f->path || !f->tmp) {
        made__free(f->path);
        made__free(f->tmp);
        made__free(f);
        return MADE_E_NOMEM;
    }
    memcpy(f->path, path, n + 1);
    snprintf(f->tmp, n + 16, "%s.tmp.XXXXXX", path);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        int e = errno;
        made__free(f->path);
        made__free(f->tmp);
        made__free(f);
        return made__error(MADE_E_IO, "%s: cannot create a file there: %s", path, strerror(e));
    }
    /* mkstemp creates 0600; give the file the usual permissions. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(f->fd, 0666 & ~mask);
    *out = f;
    return MADE_OK;
}

int made__atomic_write(made__atomic *f, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return made__error(MADE_E_IO, "%s: write failed: %s", f->path, strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return MADE_OK;
}

static void atomic_release(made__atomic *f)
{
    made__free(f->path);
    made__free(f->tmp);
    made__free(f);
}

void made__atomic_abort(made__atomic *f)
{
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    unlink(f->tmp);
    atomic_release(f);
}

int made__atomic_commit(made__atomic *f)
{
    int rc = MADE_OK;
    if (fsync(f->fd) != 0)
        rc = made__error(MADE_E_IO, "%s: fsync failed: %s", f->path, strerror(errno));
    if (close(f->fd) != 0 && rc == MADE_OK)
        rc = made__error(MADE_E_IO, "%s: close failed: %s", f->path, strerror(errno));
    f->fd = -1;
    if (rc == MADE_OK && rename(f->tmp, f->path) != 0)
        rc = made__error(MADE_E_IO, "%s: rename failed: %s", f->path, strerror(errno));
    if (rc != MADE_OK) {
        unlink(f->tmp);
        atomic_release(f);
        return rc;
    }
    /* Make the rename itself durable. */
    char *slash = strrchr(f->path, '/');
    int dfd;
    if (slash) {
        *slash = '\0';
        dfd = open(slash == f->path ? "/" : f->path, O_RDONLY);
    } else {
        dfd = open(".", O_RDONLY);
    }
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    atomic_release(f);
    return MADE_OK;
}
