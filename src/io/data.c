/*
 * data.c - made_data_read: one entry point for every data file made reads, and
 * made_data_write, one for every file it writes (.csv or .npy by name). The
 * content decides first (a file named .csv that holds an IDX array is read as
 * IDX), the name only when the content has no magic number, and CSV is the
 * fallback for text.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "io/fileio.h"

/* Called when the file cannot be opened or is not a regular readable file:
 * made__read_file words those errors for every reader, so let it. */
static int report_unreadable(const char *path)
{
    unsigned char *bytes;
    size_t size;
    int rc = made__read_file(path, &bytes, &size);
    if (rc != MADE_OK) return rc;
    made__free(bytes); /* readable after all (it changed under us) */
    return made__error(MADE_E_IO, "%s: cannot read the start of the file", path);
}

/* The first up to 8 bytes, enough for every magic number. */
static int read_head(const char *path, unsigned char head[8], size_t *n)
{
    *n = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return report_unreadable(path);
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        return report_unreadable(path);
    }
    while (*n < 8) {
        ssize_t r = read(fd, head + *n, 8 - *n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            /* Report this read's error: a retry may well succeed (a transient
             * EIO) and would leave no reason to give. */
            int e = errno;
            close(fd);
            return made__error(MADE_E_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0) break;
        *n += (size_t)r;
    }
    close(fd);
    return MADE_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int made_data_read(made_array *a, const char *path)
{
    made__clear_error();
    if (!a) return made__error(MADE_E_INVAL, "made_data_read: array is NULL");
    memset(a, 0, sizeof *a);
    if (!path) return made__error(MADE_E_INVAL, "made_data_read: path is NULL");

    unsigned char h[8];
    size_t n;
    int rc = read_head(path, h, &n);
    if (rc != MADE_OK) return rc;

    if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) return made_idx_read(a, path);
    if (n >= 6 && memcmp(h, "\x93NUMPY", 6) == 0) return made_npy_read(a, path);
    if (n >= 4 && h[0] == 0 && h[1] == 0 && h[2] >= 0x08 && h[2] <= 0x0E)
        return made_idx_read(a, path);
    if (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0)
        return made__error(MADE_E_UNSUPPORTED, "%s: a zip archive (.npz?) is not supported; "
                           "save each array with np.save", path);

    /* No magic number: a short or damaged binary file gets its own reader's
     * message ("truncated", "not a .npy file"), anything else is CSV. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (ends_with(base, ".npy")) return made_npy_read(a, path);
    if (strstr(base, ".idx") || ends_with(base, "-ubyte") || ends_with(base, ".gz"))
        return made_idx_read(a, path);
    return made_csv_read(a, path);
}

int made_data_write(const made_array *a, const char *path, int row_axes)
{
    made__clear_error();
    if (!a || !path) return made__error(MADE_E_INVAL, "made_data_write: NULL argument");
    if (row_axes < 0 || row_axes > 1 || (row_axes == 1 && a->ndim < 1))
        return made__error(MADE_E_INVAL, "made_data_write: row_axes %d (expected 0, or 1 for an "
                           "array with at least one axis)", row_axes);
    if (!ends_with(path, ".csv")) return made_npy_write(a, path);
    /* CSV lines: the whole array on one, or one per entry of the first axis. */
    made_array view = *a;
    size_t total = made_array_size(a);
    if (row_axes == 0) {
        view.ndim = 1;
        view.shape[0] = total;
    } else {
        view.ndim = 2;
        view.shape[0] = a->shape[0];
        view.shape[1] = a->shape[0] ? total / a->shape[0] : 0;
    }
    return made_csv_write(&view, path);
}
