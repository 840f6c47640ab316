/*
 * data.c - made_data_read: one entry point for every data file made reads, and
 * made_data_write, one for every file it writes (.csv or .npy by name). The
 * content decides first (a file named .csv that holds an IDX array is read as
 * IDX), the name only when the content has no magic number, and CSV is the
 * fallback for text.
 */
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "io/fileio.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int contains(const unsigned char *b, size_t n, const char *text)
{
    size_t m = strlen(text);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(b + i, text, m) == 0) return 1;
    return 0;
}

/* safetensors: an 8-byte little-endian header length, then the JSON header.
 * Returns the bytes up to the header's end, or 0. */
static size_t safetensors_header_end(const unsigned char *b, size_t n)
{
    if (n < 10 || b[8] != '{') return 0;
    uint64_t len = 0;
    for (int i = 7; i >= 0; i--) len = len << 8 | b[i];
    return len >= 2 && len <= n - 8 ? 8 + (size_t)len : 0;
}

const char *made__file_kind(const unsigned char *b, size_t n, int *is_data)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *what;
        int is_data;
    } kinds[] = {
        {"\x93NUMPY", 6, "a .npy file", 1},
        {"\x1f\x8b", 2, "gzip data (IDX?)", 1},
        {"\x89PNG\r\n\x1a\n", 8, "a PNG image", 0},
        {"\xff\xd8\xff", 3, "a JPEG image", 0},
        {"GIF8", 4, "a GIF image", 0},
        {"%PDF", 4, "a PDF document", 0},
        {"\x7f" "ELF", 4, "an executable (ELF)", 0},
        {"PK\x03\x04", 4, "a zip archive (.npz? save each array with np.save)", 0},
        {"BZh", 3, "a bzip2 archive (decompress it first)", 0},
        {"\xfd" "7zXZ", 5, "an xz archive (decompress it first)", 0},
        {"\x28\xb5\x2f\xfd", 4, "a zstd archive (decompress it first)", 0},
    };
    *is_data = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (n >= kinds[k].len && memcmp(b, kinds[k].magic, kinds[k].len) == 0) {
            *is_data = kinds[k].is_data;
            return kinds[k].what;
        }
    if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] >= 0x08 && b[2] <= 0x0E) {
        *is_data = 1;
        return "an IDX file";
    }
    size_t hlen = safetensors_header_end(b, n);
    if (hlen) {
        if (contains(b, hlen, "\"made-checkpoint\"")) return "a made training checkpoint";
        if (contains(b, hlen, "\"made_version\"")) return "a made model";
        return "a safetensors file";
    }
    size_t i = 0;
    if (n >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0) i = 3; /* UTF-8 byte order mark */
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) i++;
    if (i < n && (b[i] == '{' || b[i] == '[')) return "JSON text";
    if (i < n && b[i] == '<') return "XML or HTML text";
    if (memchr(b, '\0', n < 4096 ? n : 4096)) return NULL; /* binary of no known kind */
    *is_data = 1;
    return n ? "text (CSV?)" : "an empty file";
}

/* Picks the parser: content first, then the name, CSV for text. *bytes may be
 * replaced (the CSV parser appends a NUL). */
static int parse_data(made_array *a, const char *path, unsigned char **bytes, size_t n)
{
    const unsigned char *h = *bytes;
    if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) return made__idx_parse(a, bytes, n);
    if (n >= 6 && memcmp(h, "\x93NUMPY", 6) == 0) return made__npy_parse(a, bytes, n);
    if (n >= 4 && h[0] == 0 && h[1] == 0 && h[2] >= 0x08 && h[2] <= 0x0E)
        return made__idx_parse(a, bytes, n);
    int is_data;
    const char *what = made__file_kind(h, n, &is_data);
    if (what && !is_data)
        return made__error(MADE_E_UNSUPPORTED, "%s, not a data file (data is .npy, .csv or IDX)",
                           what);

    /* No magic number: a short or damaged binary file gets its own reader's
     * message ("truncated", "not a .npy file"), anything else is CSV. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (ends_with(base, ".npy")) return made__npy_parse(a, bytes, n);
    if (strstr(base, ".idx") || ends_with(base, "-ubyte") || ends_with(base, ".gz"))
        return made__idx_parse(a, bytes, n);
    if (memchr(h, '\0', n))
        return made__error(MADE_E_FORMAT, "binary content of no known format (data is .npy, "
                           ".csv or IDX)");
    return made__csv_parse(a, bytes, n);
}

int made_data_read(made_array *a, const char *path)
{
    made__clear_error();
    if (!a) return made__error(MADE_E_INVAL, "made_data_read: array is NULL");
    memset(a, 0, sizeof *a);
    if (!path) return made__error(MADE_E_INVAL, "made_data_read: path is NULL");
    const char *shown = strcmp(path, "-") == 0 ? "standard input" : path;

    /* One read of the whole file: standard input and pipes cannot be reopened
     * to look at the first bytes twice. */
    unsigned char *bytes;
    size_t size;
    int rc = made__read_file(path, &bytes, &size);
    if (rc != MADE_OK) {
        /* I/O messages already name the path; allocation failures do not. */
        if (rc == MADE_E_NOMEM) made__error_prefix("%s: ", shown);
        return rc;
    }
    rc = parse_data(a, path, &bytes, size);
    made__free(bytes);
    if (rc != MADE_OK) made__error_prefix("%s: ", shown);
    return rc;
}

/* Names that cannot carry an extension: "-", /dev/null, /dev/stdout, a FIFO. */
static int is_stream(const char *path)
{
    struct stat st;
    return strcmp(path, "-") == 0 ||
           (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)));
}

int made__output_format(const char *path, int *csv)
{
    *csv = ends_with(path, ".csv");
    if (*csv || ends_with(path, ".npy") || is_stream(path)) return MADE_OK;
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        return made__error(MADE_E_INVAL, "%s: unknown output format '%s' (use .npy or .csv, or - "
                           "for .npy on standard output)", path, dot);
    return made__error(MADE_E_INVAL, "%s: the name has no extension to tell the format (use .npy "
                       "or .csv, or - for .npy on standard output)", path);
}

int made_data_write(const made_array *a, const char *path, int row_axes)
{
    made__clear_error();
    if (!a || !path) return made__error(MADE_E_INVAL, "made_data_write: NULL argument");
    if (row_axes < 0 || row_axes > 1 || (row_axes == 1 && a->ndim < 1))
        return made__error(MADE_E_INVAL, "made_data_write: row_axes %d (expected 0, or 1 for an "
                           "array with at least one axis)", row_axes);
    int csv;
    if (made__output_format(path, &csv)) return MADE_E_INVAL;
    if (!csv) return made_npy_write(a, path);
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
