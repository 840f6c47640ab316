/* load_slice.c - one part of a data file's rows, for data-parallel training:
 * part k of n holds rows [R*k/n, R*(k+1)/n) of the file's R rows. A .npy file
 * is read only there (made_npy_read_rows); other formats are read whole and
 * the part kept. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* FNV-1a: the fingerprint of a file's shape and a few of its rows. */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* The fingerprint reads rows 0, R/2 and R-1: every rank reads the same ones,
 * so two copies of a file that differ there (or in shape) are caught. */
static uint64_t fingerprint(size_t total, size_t cols, const float *row0, const float *mid,
                            const float *last)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, &total, sizeof total);
    h = fnv(h, &cols, sizeof cols);
    const float *rows[3] = {row0, mid, last};
    for (int i = 0; i < 3; i++)
        if (rows[i]) h = fnv(h, rows[i], cols * sizeof(float));
    return h;
}

/* Rows and values per row of an array read from a file, as cli_load_rows
 * counts them: the first axis is the row, the rest is flattened; a 1-D array is
 * one row unless single values are expected (width 1). */
static void row_shape(const made_array *a, size_t width, size_t *rows, size_t *cols)
{
    size_t per = 1;
    for (int i = 1; i < a->ndim; i++) per *= a->shape[i];
    if (a->ndim == 1) {
        *rows = width == 1 ? a->shape[0] : 1;
        *cols = width == 1 ? 1 : a->shape[0];
    } else {
        *rows = a->shape[0];
        *cols = per;
    }
}

/* The finite check and --binarize on the part, with file row numbers. */
static int finish_rows(const char *verb, const char *path, made_array *a, size_t first,
                       size_t rows, size_t cols, double binarize)
{
    for (size_t i = 0; i < rows * cols; i++) {
        if (!isfinite(a->data[i]))
            return cli_fail(verb, "%s: row %zu, column %zu is %g (not finite)", path,
                            first + i / cols + 1, i % cols + 1, (double)a->data[i]);
        if (!isnan(binarize)) a->data[i] = a->data[i] > binarize ? 1.0f : 0.0f;
    }
    return CLI_OK;
}

/* A .npy file: the header, the three fingerprint rows, then the part. */
static int npy_part(const char *path, size_t width, int part, int parts, made_array *a,
                    size_t *first, size_t *rows, size_t *total, size_t *cols, uint64_t *fp)
{
    made_array head, r[3];
    size_t n;
    int st = made_npy_read_rows(&head, path, 0, 0, &n);
    if (st) return st;
    size_t t, c;
    head.shape[0] = n;
    row_shape(&head, width, &t, &c);
    const int ndim = head.ndim;
    made_array_free(&head);
    if (ndim == 1 && t == 1) return MADE_E_UNSUPPORTED; /* one row: read it whole */
    *total = t;
    *cols = c;
    size_t at[3] = {0, t / 2, t ? t - 1 : 0};
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3 && t && !st; i++) st = made_npy_read_rows(&r[i], path, at[i], 1, &n);
    if (!st) *fp = fingerprint(t, c, t ? r[0].data : NULL, t ? r[1].data : NULL, t ? r[2].data : NULL);
    for (int i = 0; i < 3; i++) made_array_free(&r[i]);
    if (st) return st;
    *first = t * (size_t)part / (size_t)parts;
    *rows = t * (size_t)(part + 1) / (size_t)parts - *first;
    return made_npy_read_rows(a, path, *first, *rows, &n);
}

int cli_load_slice(const char *verb, const char *path, size_t width, double binarize, int part,
                   int parts, made_array *a, size_t *first, size_t *rows, size_t *total,
                   size_t *cols, uint64_t *fp)
{
    int st = npy_part(path, width, part, parts, a, first, rows, total, cols, fp);
    if (st == MADE_OK) {
        if (width && *cols != width) {
            made_array_free(a);
            return cli_fail(verb, "%s: rows have %zu values, but the model expects %zu", path,
                            *cols, width);
        }
        if (*total == 0) {
            made_array_free(a);
            return cli_fail(verb, "%s: no rows of data", path);
        }
        if (finish_rows(verb, path, a, *first, *rows, *cols, binarize)) {
            made_array_free(a);
            return CLI_FAIL;
        }
        return CLI_OK;
    }
    /* Not a .npy file (or one row): read it whole, keep the part. */
    made_array whole;
    if (cli_load_rows(verb, path, width, binarize, &whole, total, cols)) return CLI_FAIL;
    const size_t t = *total, c = *cols;
    *fp = fingerprint(t, c, whole.data, whole.data + t / 2 * c, whole.data + (t - 1) * c);
    *first = t * (size_t)part / (size_t)parts;
    *rows = t * (size_t)(part + 1) / (size_t)parts - *first;
    if (parts == 1) { /* the whole file: no copy */
        *a = whole;
        return CLI_OK;
    }
    size_t shape[2] = {*rows, c};
    if (made_array_alloc(a, 2, shape)) {
        made_array_free(&whole);
        return cli_fail_status(verb, MADE_E_NOMEM);
    }
    if (*rows) memcpy(a->data, whole.data + *first * c, *rows * c * sizeof(float));
    made_array_free(&whole);
    return CLI_OK;
}
