/*
 * fileio.c - whole-file reads and safe writes.
 *
 * Writes never harm what already exists at the path:
 *   - a regular file (or nothing) is replaced atomically: a temp file in the same
 *     directory, fsync, rename over the target, fsync of the directory;
 *   - a symbolic link is followed: its final target is replaced atomically and the
 *     link itself stays a link;
 *   - a character device or a FIFO (/dev/null, /dev/stdout, a named pipe) is
 *     written to directly, never replaced;
 *   - a directory, a socket or a block device is an error;
 *   - "-" is standard output (and standard input for reads).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "io/fileio.h"

static int is_stdio(const char *path) { return strcmp(path, "-") == 0; }

static int read_all(int fd, const char *path, const struct stat *st, unsigned char **data,
                    size_t *size)
{
    /* Read until EOF rather than trusting st_size: pipes and /proc files lie. */
    size_t cap = S_ISREG(st->st_mode) && st->st_size > 0 ? (size_t)st->st_size + 1 : 65536;
    unsigned char *buf = made__malloc(cap);
    if (!buf) return MADE_E_NOMEM;
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            if (cap > SIZE_MAX / 2) {
                made__free(buf);
                return made__error(MADE_E_NOMEM, "%s: file too large", path);
            }
            unsigned char *p = made__realloc(buf, cap * 2);
            if (!p) {
                made__free(buf);
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
            return made__error(MADE_E_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    /* A NUL after the data lets text parsers (CSV) run on the buffer in place. */
    if (len == cap) {
        unsigned char *p = made__realloc(buf, cap + 1);
        if (!p) {
            made__free(buf);
            return MADE_E_NOMEM;
        }
        buf = p;
    }
    buf[len] = '\0';
    *data = buf;
    *size = len;
    return MADE_OK;
}

int made__read_file(const char *path, unsigned char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    int own = !is_stdio(path);
    int fd = own ? open(path, O_RDONLY) : STDIN_FILENO;
    if (fd < 0) return made__error(MADE_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc;
    if (fstat(fd, &st) != 0)
        rc = made__error(MADE_E_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = made__error(MADE_E_IO, "%s: is a directory, not a file", path);
    else
        rc = read_all(fd, own ? path : "standard input", &st, data, size);
    if (own) close(fd);
    return rc;
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

/* ------------------------------------------------------------------------ */
/* Where a write goes                                                        */
/* ------------------------------------------------------------------------ */

typedef enum target_kind {
    TARGET_REPLACE, /* regular file or nothing: temp file + rename */
    TARGET_DIRECT,  /* character device or FIFO: open and write in place */
    TARGET_STDOUT   /* "-" */
} target_kind;

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = made__malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

/* The path a symlink points to, relative to the link's directory. */
static char *link_target(const char *path)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0) return NULL;
    buf[n] = '\0';
    const char *slash = strrchr(path, '/');
    if (buf[0] == '/' || !slash) return copy_string(buf);
    size_t dir = (size_t)(slash - path) + 1, len = dir + (size_t)n + 1;
    char *c = made__malloc(len);
    if (!c) return NULL;
    memcpy(c, path, dir);
    memcpy(c + dir, buf, (size_t)n + 1);
    return c;
}

/* Decides how path is written and, for TARGET_REPLACE, the file to replace
 * (*real: path itself, or a symlink's final target, which may not exist yet;
 * made__free it). shown is the path as the caller gave it, for messages. */
static int resolve_target(const char *shown, const char *path, int depth, target_kind *kind,
                          char **real, mode_t *mode)
{
    *real = NULL;
    *mode = 0;
    *kind = TARGET_REPLACE;
    struct stat lst;
    if (lstat(path, &lst) != 0) {
        if (errno != ENOENT)
            return made__error(MADE_E_IO, "%s: cannot stat: %s", shown, strerror(errno));
        /* A new file. */
    } else if (S_ISLNK(lst.st_mode)) {
        /* Follow the link, so that its target is what gets replaced. */
        if (depth >= 40)
            return made__error(MADE_E_IO, "%s: too many levels of symbolic links", shown);
        char *next = link_target(path);
        if (!next) return made__error(MADE_E_IO, "%s: cannot read the link: %s", shown,
                                      strerror(errno));
        int rc = resolve_target(shown, next, depth + 1, kind, real, mode);
        made__free(next);
        return rc;
    } else if (S_ISCHR(lst.st_mode) || S_ISFIFO(lst.st_mode)) {
        *kind = TARGET_DIRECT;
        return MADE_OK;
    } else if (S_ISDIR(lst.st_mode)) {
        return made__error(MADE_E_IO, "%s: is a directory, not a file", shown);
    } else if (!S_ISREG(lst.st_mode)) {
        return made__error(MADE_E_IO, "%s: is not a regular file, character device or FIFO "
                           "(will not replace it)", shown);
    } else {
        *mode = lst.st_mode & 07777;
    }
    *real = copy_string(path);
    return *real ? MADE_OK : MADE_E_NOMEM;
}

static int resolve_output(const char *path, target_kind *kind, char **real, mode_t *mode)
{
    *real = NULL;
    *mode = 0;
    if (is_stdio(path)) {
        *kind = TARGET_STDOUT;
        return MADE_OK;
    }
    if (path[0] == '\0') return made__error(MADE_E_INVAL, "output path is empty");
    return resolve_target(path, path, 0, kind, real, mode);
}

/* "path.tmp.XXXXXX" beside path, created with mkstemp. */
static int make_temp(const char *shown, const char *path, char **tmp, int *fd)
{
    size_t n = strlen(path);
    *tmp = made__malloc(n + 16);
    if (!*tmp) return MADE_E_NOMEM;
    snprintf(*tmp, n + 16, "%s.tmp.XXXXXX", path);
    *fd = mkstemp(*tmp);
    if (*fd >= 0) return MADE_OK;
    int e = errno;
    made__free(*tmp);
    *tmp = NULL;
    if (e == ENOENT || e == ENOTDIR)
        return made__error(MADE_E_IO, "%s: cannot create a file there: the directory does not "
                           "exist", shown);
    return made__error(MADE_E_IO, "%s: cannot create a file there: %s", shown, strerror(e));
}

int made_output_check(const char *path)
{
    made__clear_error();
    if (!path) return made__error(MADE_E_INVAL, "made_output_check: path is NULL");
    target_kind kind;
    char *real, *tmp;
    mode_t mode;
    int fd, rc = resolve_output(path, &kind, &real, &mode);
    if (rc != MADE_OK || kind != TARGET_REPLACE) return rc;
    /* The only reliable test (root, read-only mounts, full quotas aside) is to
     * create the temp file the write will create, and remove it again. */
    rc = make_temp(path, real, &tmp, &fd);
    if (rc == MADE_OK) {
        if (close(fd) != 0)
            rc = made__error(MADE_E_IO, "%s: cannot write a file there: %s", path, strerror(errno));
        unlink(tmp);
        made__free(tmp);
    }
    made__free(real);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Atomic writes                                                             */
/* ------------------------------------------------------------------------ */

struct made__atomic {
    int fd;
    target_kind kind;
    char *shown; /* the path as given, for messages */
    char *path;  /* the file to replace (TARGET_REPLACE) */
    char *tmp;   /* temp file beside it (TARGET_REPLACE) */
};

static void atomic_release(made__atomic *f)
{
    made__free(f->shown);
    made__free(f->path);
    made__free(f->tmp);
    made__free(f);
}

int made__atomic_open(made__atomic **out, const char *path)
{
    *out = NULL;
    made__atomic *f = made__calloc(1, sizeof *f);
    if (!f) return MADE_E_NOMEM;
    f->fd = -1;
    size_t n = strlen(path) + 1;
    f->shown = made__malloc(n);
    if (!f->shown) {
        atomic_release(f);
        return MADE_E_NOMEM;
    }
    memcpy(f->shown, path, n);
    mode_t mode;
    int rc = resolve_output(path, &f->kind, &f->path, &mode);
    if (rc == MADE_OK && f->kind == TARGET_STDOUT) {
        f->fd = STDOUT_FILENO;
    } else if (rc == MADE_OK && f->kind == TARGET_DIRECT) {
        f->fd = open(path, O_WRONLY | O_NOCTTY);
        if (f->fd < 0) rc = made__error(MADE_E_IO, "%s: cannot open for writing: %s", path,
                                        strerror(errno));
    } else if (rc == MADE_OK) {
        rc = make_temp(path, f->path, &f->tmp, &f->fd);
        if (rc == MADE_OK) {
            /* mkstemp creates 0600: keep the replaced file's mode, or give a new
             * file the usual permissions. */
            if (!mode) {
                mode_t mask = umask(0);
                umask(mask);
                mode = 0666 & ~mask;
            }
            fchmod(f->fd, mode);
        }
    }
    if (rc != MADE_OK) {
        atomic_release(f);
        return rc;
    }
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
            return made__error(MADE_E_IO, "%s: write failed: %s", f->shown, strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return MADE_OK;
}

void made__atomic_abort(made__atomic *f)
{
    if (!f) return;
    /* What went to a device or a pipe cannot be taken back. */
    if (f->kind == TARGET_DIRECT) close(f->fd);
    if (f->kind == TARGET_REPLACE) {
        close(f->fd);
        unlink(f->tmp);
    }
    atomic_release(f);
}

/* A device or a pipe: nothing to sync or rename. */
static int commit_direct(made__atomic *f)
{
    int rc = MADE_OK;
    if (f->kind == TARGET_DIRECT && close(f->fd) != 0)
        rc = made__error(MADE_E_IO, "%s: close failed: %s", f->shown, strerror(errno));
    atomic_release(f);
    return rc;
}

int made__atomic_commit(made__atomic *f)
{
    if (f->kind != TARGET_REPLACE) return commit_direct(f);
    int rc = MADE_OK;
    if (fsync(f->fd) != 0)
        rc = made__error(MADE_E_IO, "%s: fsync failed: %s", f->shown, strerror(errno));
    if (close(f->fd) != 0 && rc == MADE_OK)
        rc = made__error(MADE_E_IO, "%s: close failed: %s", f->shown, strerror(errno));
    f->fd = -1;
    if (rc == MADE_OK && rename(f->tmp, f->path) != 0)
        rc = made__error(MADE_E_IO, "%s: rename failed: %s", f->shown, strerror(errno));
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
