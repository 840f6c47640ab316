/*
 * csv.c - CSV files of numbers into a 2-D float32 array [rows, cols].
 *
 * What is accepted: cells separated by commas, spaces or tabs around cells, LF or
 * CRLF line ends, a last line without a newline, blank lines at the end, a UTF-8
 * byte order mark (Excel writes one), cells in double quotes ("1.5", with "" for
 * a quote inside, so header names may contain commas), and one optional header
 * row. Everything else is an error that names the row (the line number, as a
 * text editor counts it, header included) and the column (1-based cell index).
 *
 * Header detection: row 1 is a header when it has a cell of text and no cell
 * that is a number. A first row that mixes numbers and text is treated as data,
 * so a bad first data row ("1,N/A,3") is reported instead of silently dropped.
 *
 * Numbers are parsed with strtof, which rounds decimal text to float32 directly
 * (no double rounding through double). The library never calls setlocale, so in
 * a program that leaves LC_NUMERIC alone this is the C locale's '.' decimal point.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "io/buf.h"
#include "io/fileio.h"

typedef enum cell_class {
    CELL_NUMBER,
    CELL_EMPTY,
    CELL_MISSING,   /* NA, N/A */
    CELL_NONFINITE, /* nan, inf, ... */
    CELL_OVERFLOW,  /* finite text beyond float32's range, e.g. 1e39 */
    CELL_TEXT
} cell_class;

typedef struct csv_reader {
    const char *buf; /* the whole file, NUL-terminated */
    float *values;
    size_t count, cap; /* values stored / allocated */
    size_t cols;       /* columns of the first data row; 0 until it is seen */
    size_t header_cols;
    size_t header_row; /* 0 = no header */
} csv_reader;

/* A row's cells as counted, before anything is stored. */
typedef struct row_scan {
    size_t cells;
    int has_number, has_text;
} row_scan;

static int is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; }

static int is_missing(const char *s, size_t n)
{
    return (n == 2 && memcmp(s, "NA", 2) == 0) || (n == 3 && memcmp(s, "N/A", 3) == 0);
}

/* Classifies the trimmed cell s[0..n) and parses it when it is a number. The text
 * after s[n] is a blank, a separator, a quote, a line end or the final NUL, none of
 * which can continue a number, so strtof stops exactly at s + n for a number. */
static cell_class classify(const char *s, size_t n, float *out)
{
    if (n == 0) return CELL_EMPTY;
    if (is_missing(s, n)) return CELL_MISSING;
    char *end;
    errno = 0;
    float f = strtof(s, &end);
    if (end != s + n) return CELL_TEXT;
    if (isinf(f) && errno == ERANGE) return CELL_OVERFLOW;
    if (!isfinite(f)) return CELL_NONFINITE;
    *out = f; /* ERANGE for an underflow to zero or a subnormal is fine */
    return CELL_NUMBER;
}

static int append_value(csv_reader *r, float v)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap : 1024, bytes;
        if (r->cap && made__mul_size(cap, 2, &cap) != MADE_OK) return MADE_E_NOMEM;
        if (made__mul_size(cap, sizeof(float), &bytes) != MADE_OK) return MADE_E_NOMEM;
        float *p = made__realloc(r->values, bytes);
        if (!p) return MADE_E_NOMEM;
        r->values = p;
        r->cap = cap;
    }
    r->values[r->count++] = v;
    return MADE_OK;
}

static int cell_error(cell_class k, size_t row, size_t col, const char *s, size_t n)
{
    int shown = (int)(n > 40 ? 40 : n);
    const char *more = n > 40 ? "..." : "";
    switch (k) {
    case CELL_EMPTY:
        return made__error(MADE_E_FORMAT, "row %zu, column %zu: empty cell", row, col);
    case CELL_MISSING:
        return made__error(MADE_E_FORMAT, "row %zu, column %zu: missing value '%.*s'", row, col,
                           shown, s);
    case CELL_NONFINITE:
        return made__error(MADE_E_NONFINITE, "row %zu, column %zu: '%.*s%s' is not finite", row,
                           col, shown, s, more);
    case CELL_OVERFLOW:
        return made__error(MADE_E_NONFINITE, "row %zu, column %zu: '%.*s%s' is too large for "
                           "float32", row, col, shown, s, more);
    default:
        return made__error(MADE_E_FORMAT, "row %zu, column %zu: '%.*s%s' is not a number", row,
                           col, shown, s, more);
    }
}

/* What walk_row does with each cell. Counting first lets a ragged row be reported
 * as such rather than by its first odd cell. */
typedef enum row_mode {
    ROW_COUNT,    /* count the cells */
    ROW_CLASSIFY, /* count them and note numbers and text (the header decision) */
    ROW_STORE     /* append every value; fail at the first cell that is no number */
} row_mode;

/* Goes over the cells of line [p, end) (no '\n'). Quote errors fail in every
 * mode. */
static int walk_row(csv_reader *r, size_t row, size_t p, size_t end, row_mode mode,
                    row_scan *scan)
{
    const char *b = r->buf;
    memset(scan, 0, sizeof *scan);
    for (;;) {
        size_t col = ++scan->cells, cs, ce;
        while (p < end && is_blank(b[p])) p++;
        if (p < end && b[p] == '"') {
            cs = ++p;
            while (p < end) {
                if (b[p] == '"') {
                    if (p + 1 < end && b[p + 1] == '"') {
                        p += 2; /* "" is a quote inside the cell */
                        continue;
                    }
                    break;
                }
                p++;
            }
            if (p == end)
                return made__error(MADE_E_FORMAT, "row %zu, column %zu: quote is not closed "
                                   "(quoted cells cannot span lines)", row, col);
            ce = p++;
            while (p < end && is_blank(b[p])) p++;
            if (p < end && b[p] != ',')
                return made__error(MADE_E_FORMAT,
                                   "row %zu, column %zu: text after the closing quote", row, col);
            while (cs < ce && is_blank(b[cs])) cs++;
        } else {
            cs = p;
            while (p < end && b[p] != ',') p++;
            ce = p;
        }
        while (ce > cs && is_blank(b[ce - 1])) ce--;

        if (mode != ROW_COUNT) {
            float v = 0.0f;
            cell_class k = classify(b + cs, ce - cs, &v);
            if (k == CELL_NUMBER) scan->has_number = 1;
            if (k == CELL_TEXT) scan->has_text = 1;
            if (mode == ROW_STORE) {
                if (k != CELL_NUMBER) return cell_error(k, row, col, b + cs, ce - cs);
                int rc = append_value(r, v);
                if (rc != MADE_OK) return rc;
            }
        }
        if (p == end) return MADE_OK;
        p++; /* ',' */
    }
}

/* One non-blank line: decides about the header (row 1 only), checks the column
 * count, then stores the values. */
static int read_row(csv_reader *r, size_t row, size_t start, size_t end)
{
    row_scan scan;
    int rc = walk_row(r, row, start, end, row == 1 ? ROW_CLASSIFY : ROW_COUNT, &scan);
    if (rc != MADE_OK) return rc;
    if (row == 1 && scan.has_text && !scan.has_number) {
        r->header_row = 1;
        r->header_cols = scan.cells;
        return MADE_OK;
    }
    if (r->cols == 0) {
        if (r->header_row && scan.cells != r->header_cols)
            return made__error(MADE_E_FORMAT, "row %zu has %zu column%s, but the header (row 1) "
                               "has %zu", row, scan.cells, scan.cells == 1 ? "" : "s",
                               r->header_cols);
        r->cols = scan.cells;
    } else if (scan.cells != r->cols) {
        return made__error(MADE_E_FORMAT, "row %zu has %zu column%s, expected %zu", row,
                           scan.cells, scan.cells == 1 ? "" : "s", r->cols);
    }
    return walk_row(r, row, start, end, ROW_STORE, &scan);
}

static int csv_parse(made_array *a, const char *buf, size_t size)
{
    csv_reader r;
    memset(&r, 0, sizeof r);
    r.buf = buf;
    size_t pos = 0, row = 0, blank_row = 0;
    if (size >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) pos = 3;

    int rc = MADE_OK;
    while (pos < size && rc == MADE_OK) {
        row++;
        const char *nl = memchr(buf + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - buf) : size;
        if (memchr(buf + pos, '\0', end - pos)) {
            rc = made__error(MADE_E_FORMAT, "row %zu contains a NUL byte: this looks like a "
                             "binary file, not CSV", row);
            break;
        }
        size_t p = pos;
        while (p < end && is_blank(buf[p])) p++;
        if (p == end) {
            if (!blank_row) blank_row = row; /* fine if nothing but blank lines follows */
        } else if (blank_row) {
            rc = made__error(MADE_E_FORMAT, "row %zu is blank (blank lines are allowed only at "
                             "the end)", blank_row);
        } else {
            rc = read_row(&r, row, pos, end);
        }
        pos = end + 1;
    }
    if (rc == MADE_OK && r.count == 0)
        rc = made__error(MADE_E_FORMAT, "no data rows%s", r.header_row ? " after the header" : "");
    if (rc != MADE_OK) {
        made__free(r.values);
        return rc;
    }

    /* Give back the growth slack; keep the larger block if shrinking fails. */
    float *fit = made__realloc(r.values, r.count * sizeof(float));
    if (fit) r.values = fit;
    else made__clear_error();

    memset(a, 0, sizeof *a);
    a->data = r.values;
    a->ndim = 2;
    a->shape[0] = r.count / r.cols;
    a->shape[1] = r.cols;
    return MADE_OK;
}

int made__csv_parse(made_array *a, unsigned char **bytes, size_t size)
{
    /* A terminating NUL lets strtof run on cells in place. */
    unsigned char *text = made__realloc(*bytes, size + 1);
    if (!text) return MADE_E_NOMEM;
    *bytes = text;
    text[size] = '\0';
    return csv_parse(a, (const char *)text, size);
}

int made_csv_read(made_array *a, const char *path)
{
    return made__read_with(a, path, "made_csv_read", made__csv_parse);
}

/* Writing arrays as CSV text. */

int made_csv_write(const made_array *a, const char *path)
{
    made__clear_error();
    if (!a || !path || (made_array_size(a) && !a->data))
        return made__error(MADE_E_INVAL, "csv write: NULL argument");
    size_t rows = a->ndim == 0 ? 1 : a->ndim == 1 ? 1 : a->shape[0];
    size_t total = made_array_size(a);
    size_t cols = rows ? total / rows : 0;
    made__atomic *f;
    int rc = made__atomic_open(&f, path);
    if (rc) return rc;
    made__buf line;
    made__buf_init(&line);
    for (size_t i = 0; i < rows && rc == MADE_OK; i++) {
        line.len = 0;
        for (size_t j = 0; j < cols; j++)
            made__buf_printf(&line, "%s%.9g", j ? "," : "", (double)a->data[i * cols + j]);
        made__buf_append(&line, "\n", 1);
        rc = line.failed ? MADE_E_NOMEM : made__atomic_write(f, line.data, line.len);
    }
    made__buf_free(&line);
    if (rc) {
        made__atomic_abort(f);
        return rc;
    }
    return made__atomic_commit(f);
}
