/*
 * npy.c - NumPy .npy files: read versions 1.0, 2.0 and 3.0 into float32, write
 * little-endian float32 exactly as np.save does.
 *
 * The format (numpy/lib/format.py, NEP 1):
 *   "\x93NUMPY", major, minor,
 *   header length: u16 LE (1.0) or u32 LE (2.0, 3.0),
 *   header: a Python dict literal {'descr': '<f4', 'fortran_order': False,
 *           'shape': (2, 3), } padded with spaces and a '\n' (latin-1 in 1.0 and
 *           2.0, UTF-8 in 3.0),
 *   data: the elements in C order, nothing after them.
 * numpy evaluates the header with ast.literal_eval; we parse the small subset of
 * Python literals that a valid header can contain, and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "io/buf.h"
#include "io/fileio.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
#define NPY_ALIGN 64         /* numpy's ARRAY_ALIGN */
#define NPY_GROWTH_DIGITS 21 /* numpy's GROWTH_AXIS_MAX_DIGITS */

typedef enum npy_kind { NPY_FLOAT, NPY_INT, NPY_UINT, NPY_BOOL } npy_kind;

typedef struct npy_dtype {
    npy_kind kind;
    size_t size; /* bytes per element: 1, 2, 4 or 8 */
    int big_endian;
} npy_dtype;

/* What the header dict said, before any of it is checked for meaning. */
typedef struct npy_header {
    const char *descr; /* points into the file; not NUL-terminated */
    size_t descr_len;
    int descr_is_list; /* structured dtype: descr is a list of fields */
    int fortran_order;
    int ndim;
    size_t shape[MADE_MAX_DIMS];
    int too_many_dims; /* shape has more than MADE_MAX_DIMS entries */
    int seen_descr, seen_fortran, seen_shape;
} npy_header;

/* Cursor over the header text; offsets in messages are file offsets. */
typedef struct npy_cursor {
    const unsigned char *text;
    size_t pos, len;
    size_t base; /* file offset of text[0] */
} npy_cursor;

static int host_big_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 0;
}

/* ------------------------------------------------------------------------ */
/* Header parsing                                                            */
/* ------------------------------------------------------------------------ */

static int at_end(const npy_cursor *c) { return c->pos >= c->len; }
static int peek(const npy_cursor *c) { return at_end(c) ? -1 : c->text[c->pos]; }

static void skip_space(npy_cursor *c)
{
    while (!at_end(c)) {
        int ch = c->text[c->pos];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') break;
        c->pos++;
    }
}

/* Describes the byte at the cursor for "expected X, found Y" messages. */
static const char *found_desc(const npy_cursor *c, char buf[16])
{
    if (at_end(c)) return "the end of the header";
    int ch = c->text[c->pos];
    if (ch >= 0x20 && ch < 0x7f) snprintf(buf, 16, "'%c'", ch);
    else snprintf(buf, 16, "byte 0x%02x", (unsigned)ch);
    return buf;
}

static int expected(const npy_cursor *c, const char *what)
{
    char buf[16];
    return made__error(MADE_E_FORMAT, "header at byte %zu: expected %s, found %s",
                       c->base + c->pos, what, found_desc(c, buf));
}

/* A Python string literal without escapes ('<f4' or "<f4"): dtype strings and
 * the three keys never need any. */
static int parse_string(npy_cursor *c, const char **s, size_t *n)
{
    int quote = peek(c);
    if (quote != '\'' && quote != '"') return expected(c, "a quoted string");
    size_t start = ++c->pos;
    while (!at_end(c) && c->text[c->pos] != quote) {
        int ch = c->text[c->pos];
        if (ch == '\\' || ch == '\n' || ch == '\r')
            return made__error(MADE_E_FORMAT,
                               "header at byte %zu: unexpected %s inside a string",
                               c->base + c->pos, ch == '\\' ? "backslash" : "line break");
        c->pos++;
    }
    if (at_end(c))
        return made__error(MADE_E_FORMAT, "header at byte %zu: string is not closed",
                           c->base + start - 1);
    *s = (const char *)c->text + start;
    *n = c->pos - start;
    c->pos++; /* closing quote */
    return MADE_OK;
}

/* Skips a bracketed literal (a structured dtype's field list), minding nesting
 * and quoted field names, so the whole header can be checked before the dtype
 * is rejected. */
static int skip_list(npy_cursor *c)
{
    size_t start = c->pos;
    int depth = 0;
    while (!at_end(c)) {
        int ch = c->text[c->pos];
        if (ch == '\'' || ch == '"') {
            c->pos++;
            while (!at_end(c) && c->text[c->pos] != ch) {
                if (c->text[c->pos] == '\\') c->pos++;
                c->pos++;
            }
            if (at_end(c)) break;
        } else if (ch == '[' || ch == '(') {
            depth++;
        } else if (ch == ']' || ch == ')') {
            if (--depth == 0) {
                c->pos++;
                return MADE_OK;
            }
        }
        c->pos++;
    }
    return made__error(MADE_E_FORMAT, "header at byte %zu: list is not closed",
                       c->base + start);
}

static int word_is(const npy_cursor *c, const char *w)
{
    size_t n = strlen(w);
    if (c->len - c->pos < n || memcmp(c->text + c->pos, w, n) != 0) return 0;
    /* "Truex" is not True. */
    if (c->pos + n < c->len) {
        int next = c->text[c->pos + n];
        if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
            (next >= '0' && next <= '9') || next == '_')
            return 0;
    }
    return 1;
}

static int parse_bool(npy_cursor *c, int *out)
{
    if (word_is(c, "True")) {
        c->pos += 4;
        *out = 1;
    } else if (word_is(c, "False")) {
        c->pos += 5;
        *out = 0;
    } else {
        return expected(c, "True or False for 'fortran_order'");
    }
    return MADE_OK;
}

/* A non-negative decimal integer (a dimension). Python 2 wrote longs as 3L. */
static int parse_dim(npy_cursor *c, size_t *out)
{
    size_t start = c->pos, v = 0;
    if (peek(c) == '-')
        return made__error(MADE_E_FORMAT, "header at byte %zu: negative dimension in 'shape'",
                           c->base + c->pos);
    if (peek(c) < '0' || peek(c) > '9') return expected(c, "a dimension (an integer)");
    while (peek(c) >= '0' && peek(c) <= '9') {
        size_t digit = (size_t)(c->text[c->pos] - '0');
        if (v > (SIZE_MAX - digit) / 10)
            return made__error(MADE_E_FORMAT, "header at byte %zu: dimension is too large",
                               c->base + start);
        v = v * 10 + digit;
        c->pos++;
    }
    if (peek(c) == 'L') c->pos++;
    *out = v;
    return MADE_OK;
}

/* A tuple of dimensions: (), (n,), (a, b) or (a, b,). "(n)" is the integer n in
 * Python, not a tuple, and numpy rejects it, so do we. */
static int parse_shape(npy_cursor *c, npy_header *h)
{
    if (peek(c) != '(') return expected(c, "'(' to start the 'shape' tuple");
    c->pos++;
    h->ndim = 0;
    h->too_many_dims = 0;
    int count = 0, trailing_comma = 0;
    skip_space(c);
    while (peek(c) != ')') {
        size_t dim = 0;
        int rc = parse_dim(c, &dim);
        if (rc != MADE_OK) return rc;
        if (count < MADE_MAX_DIMS) h->shape[count] = dim;
        count++;
        skip_space(c);
        trailing_comma = 0;
        if (peek(c) == ',') {
            c->pos++;
            trailing_comma = 1;
            skip_space(c);
        } else if (peek(c) != ')') {
            return expected(c, "',' or ')' in 'shape'");
        }
    }
    if (count == 1 && !trailing_comma)
        return made__error(MADE_E_FORMAT,
                           "header at byte %zu: 'shape' is (n) without the comma that "
                           "makes it a tuple: (n,)",
                           c->base + c->pos);
    c->pos++; /* ')' */
    if (count > MADE_MAX_DIMS) h->too_many_dims = 1;
    h->ndim = count > MADE_MAX_DIMS ? MADE_MAX_DIMS : count;
    return MADE_OK;
}

static int parse_entry(npy_cursor *c, npy_header *h)
{
    size_t key_pos = c->base + c->pos;
    const char *key;
    size_t key_len;
    int rc = parse_string(c, &key, &key_len);
    if (rc != MADE_OK) return rc;
    skip_space(c);
    if (peek(c) != ':') return expected(c, "':' after a key");
    c->pos++;
    skip_space(c);

    int *seen;
    if (key_len == 5 && memcmp(key, "descr", 5) == 0) seen = &h->seen_descr;
    else if (key_len == 13 && memcmp(key, "fortran_order", 13) == 0) seen = &h->seen_fortran;
    else if (key_len == 5 && memcmp(key, "shape", 5) == 0) seen = &h->seen_shape;
    else
        return made__error(MADE_E_FORMAT,
                           "header at byte %zu: unexpected key '%.*s' (a .npy header has "
                           "exactly 'descr', 'fortran_order' and 'shape')",
                           key_pos, (int)(key_len > 40 ? 40 : key_len), key);
    if (*seen)
        return made__error(MADE_E_FORMAT, "header at byte %zu: key '%.*s' appears twice",
                           key_pos, (int)key_len, key);
    *seen = 1;

    if (seen == &h->seen_descr) {
        if (peek(c) == '[') {
            h->descr = (const char *)c->text + c->pos;
            h->descr_is_list = 1;
            rc = skip_list(c);
            h->descr_len = (size_t)((const char *)c->text + c->pos - h->descr);
            return rc;
        }
        if (peek(c) != '\'' && peek(c) != '"') return expected(c, "a dtype string for 'descr'");
        return parse_string(c, &h->descr, &h->descr_len);
    }
    if (seen == &h->seen_fortran) return parse_bool(c, &h->fortran_order);
    return parse_shape(c, h);
}

/* The dict literal, then only padding (spaces, newlines) to the end. */
static int parse_header(npy_cursor *c, npy_header *h)
{
    memset(h, 0, sizeof *h);
    skip_space(c);
    if (peek(c) != '{') return expected(c, "'{' to start the header dict");
    c->pos++;
    skip_space(c);
    while (peek(c) != '}') {
        int rc = parse_entry(c, h);
        if (rc != MADE_OK) return rc;
        skip_space(c);
        if (peek(c) == ',') {
            c->pos++;
            skip_space(c);
        } else if (peek(c) != '}') {
            return expected(c, "',' or '}' after a value");
        }
    }
    c->pos++; /* '}' */
    skip_space(c);
    if (!at_end(c)) return expected(c, "only padding after the header dict");

    const char *missing = !h->seen_descr     ? "descr"
                          : !h->seen_fortran ? "fortran_order"
                          : !h->seen_shape   ? "shape"
                                             : NULL;
    if (missing)
        return made__error(MADE_E_FORMAT, "header has no '%s' key", missing);
    return MADE_OK;
}

/* ------------------------------------------------------------------------ */
/* dtypes                                                                    */
/* ------------------------------------------------------------------------ */

/* Turns a descr string into a dtype. Recognised types that made cannot hold as
 * numbers are MADE_E_UNSUPPORTED; strings that are no dtype at all are
 * MADE_E_FORMAT. */
static int parse_descr(const char *s, size_t n, npy_dtype *dt)
{
    int shown = (int)(n > 40 ? 40 : n);
    size_t i = 0;
    int order = '=';
    if (n > 0 && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) order = s[i++];
    if (i == n) return made__error(MADE_E_FORMAT, "'descr' '%.*s' is not a dtype", shown, s);
    char kind = s[i++];

    const char *unsupported = NULL;
    switch (kind) {
    case 'O': unsupported = "Python objects"; break;
    case 'c': unsupported = "complex numbers"; break;
    case 'U': unsupported = "unicode strings"; break;
    case 'S':
    case 'a': unsupported = "byte strings"; break;
    case 'V': unsupported = "raw bytes (void)"; break;
    case 'M': unsupported = "datetime64"; break;
    case 'm': unsupported = "timedelta64"; break;
    default: break;
    }
    if (unsupported)
        return made__error(MADE_E_UNSUPPORTED,
                           "dtype '%.*s' (%s) is not supported; save a numeric array "
                           "(float, int, uint or bool)",
                           shown, s, unsupported);

    size_t size = 0;
    if (kind == '?' && i == n) {
        size = 1; /* '?' is numpy's one-character code for bool */
    } else {
        if (i == n) return made__error(MADE_E_FORMAT, "'descr' '%.*s' is not a dtype", shown, s);
        for (; i < n; i++) {
            if (s[i] < '0' || s[i] > '9' || size > 1000)
                return made__error(MADE_E_FORMAT, "'descr' '%.*s' is not a dtype", shown, s);
            size = size * 10 + (size_t)(s[i] - '0');
        }
    }

    int ok;
    switch (kind) {
    case 'f':
        if (size == 12 || size == 16)
            return made__error(MADE_E_UNSUPPORTED,
                               "dtype '%.*s' (extended precision) is not supported; "
                               "convert to float64 or float32",
                               shown, s);
        dt->kind = NPY_FLOAT;
        ok = size == 2 || size == 4 || size == 8;
        break;
    case 'i':
    case 'u':
        dt->kind = kind == 'i' ? NPY_INT : NPY_UINT;
        ok = size == 1 || size == 2 || size == 4 || size == 8;
        break;
    case 'b':
    case '?':
        dt->kind = NPY_BOOL;
        ok = size == 1;
        break;
    default: ok = 0; break;
    }
    if (!ok) return made__error(MADE_E_FORMAT, "'descr' '%.*s' is not a dtype", shown, s);
    dt->size = size;
    /* '|' (not applicable) and '=' (native) both mean this machine's order. */
    dt->big_endian = order == '>' ? 1 : order == '<' ? 0 : host_big_endian();
    return MADE_OK;
}

/* IEEE binary16 -> binary32; every half value (subnormals, Inf, NaN payloads)
 * has an exact float32 equivalent. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {
        float f = (float)man * 0x1p-24f; /* subnormal: man * 2^-24, exact */
        return sign ? -f : f;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint64_t load_uint(const unsigned char *p, size_t size, int big_endian)
{
    uint64_t v = 0;
    if (big_endian)
        for (size_t i = 0; i < size; i++) v = (v << 8) | p[i];
    else
        for (size_t i = size; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

/* Converts n elements to float32. Fails only for a finite float64 that float32
 * cannot hold: it would silently become Inf. */
static int convert(float *dst, const unsigned char *src, size_t n, const npy_dtype *dt)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t v = load_uint(src + k * dt->size, dt->size, dt->big_endian);
        unsigned bits = (unsigned)dt->size * 8;
        float f;
        switch (dt->kind) {
        case NPY_FLOAT:
            if (dt->size == 2) {
                f = half_to_float((uint16_t)v);
            } else if (dt->size == 4) {
                uint32_t u = (uint32_t)v;
                memcpy(&f, &u, sizeof f);
            } else {
                double d;
                memcpy(&d, &v, sizeof d);
                /* |d| >= FLT_MAX + half an ulp rounds to Inf. */
                if (isfinite(d) && fabs(d) >= 0x1.ffffffp+127)
                    return made__error(MADE_E_NONFINITE,
                                       "element %zu (%g) is too large for float32", k, d);
                f = (float)d;
            }
            break;
        case NPY_INT: {
            uint64_t sign = (uint64_t)1 << (bits - 1);
            if (v & sign) {
                /* Two's complement by hand: -(magnitude - 1) - 1 never overflows. */
                uint64_t mask = bits == 64 ? UINT64_MAX : (sign << 1) - 1;
                f = (float)(-(int64_t)(~v & mask) - 1);
            } else {
                f = (float)(int64_t)v;
            }
            break;
        }
        case NPY_UINT: f = (float)v; break;
        default: f = v != 0 ? 1.0f : 0.0f; break; /* bool: numpy treats nonzero as True */
        }
        dst[k] = f;
    }
    return MADE_OK;
}

/* "(2, 3)" as numpy prints a shape. */
static void format_shape(char *buf, size_t size, int ndim, const size_t *shape)
{
    size_t len = 0;
    len += (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < ndim && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%zu", d ? ", " : "", shape[d]);
    if (len < size) snprintf(buf + len, size - len, ndim == 1 ? ",)" : ")");
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

/* What a header says about the data that follows it. */
typedef struct npy_info {
    int ndim;
    size_t shape[MADE_MAX_DIMS];
    npy_dtype dt;
    size_t count;       /* elements */
    size_t data_offset; /* file offset of the first element */
} npy_info;

/* Parses the preamble and header in b[0, have) of a file of file_size bytes
 * and checks that the data is exactly as long as the shape says. have may be
 * less than file_size (the ranged reader holds only the header). */
static int npy_header_info(const unsigned char *b, size_t have, size_t file_size, npy_info *info)
{
    if (have < 8 || memcmp(b, npy_magic, 6) != 0) {
        size_t n = have < 6 ? have : 6;
        if (memcmp(b, npy_magic, n) != 0)
            return made__error(MADE_E_FORMAT,
                               "not a .npy file (it does not start with \\x93NUMPY)");
        return made__error(MADE_E_FORMAT, "truncated: %zu bytes, shorter than the .npy preamble",
                           file_size);
    }
    int major = b[6], minor = b[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return made__error(MADE_E_UNSUPPORTED,
                           ".npy format version %d.%d is not supported (1.0, 2.0 and 3.0 are)",
                           major, minor);
    size_t prefix = major == 1 ? 10 : 12;
    if (have < prefix)
        return made__error(MADE_E_FORMAT, "truncated: %zu bytes, shorter than the .npy preamble",
                           file_size);
    size_t hlen = (size_t)load_uint(b + 8, prefix - 8, 0);
    if (hlen > have - prefix)
        return made__error(MADE_E_FORMAT,
                           "truncated: header length %zu runs past the end of the file "
                           "(%zu bytes)",
                           hlen, file_size);

    npy_cursor c = {b + prefix, 0, hlen, prefix};
    npy_header h;
    int rc = parse_header(&c, &h);
    if (rc != MADE_OK) return rc;

    npy_dtype dt = {NPY_FLOAT, 1, 0}; /* set by parse_descr */
    if (h.descr_is_list) {
        int shown = (int)(h.descr_len > 60 ? 60 : h.descr_len);
        return made__error(MADE_E_UNSUPPORTED,
                           "structured dtype %.*s%s is not supported; save a plain "
                           "numeric array",
                           shown, h.descr, h.descr_len > 60 ? "..." : "");
    }
    rc = parse_descr(h.descr, h.descr_len, &dt);
    if (rc != MADE_OK) return rc;
    if (h.fortran_order)
        return made__error(MADE_E_UNSUPPORTED,
                           "Fortran-order arrays are not supported; save with "
                           "np.ascontiguousarray");
    if (h.too_many_dims)
        return made__error(MADE_E_UNSUPPORTED, "shape has more than %d dimensions",
                           MADE_MAX_DIMS);

    char shape_text[MADE_MAX_DIMS * 24 + 8];
    format_shape(shape_text, sizeof shape_text, h.ndim, h.shape);
    size_t count = 1;
    int overflow = 0;
    for (int d = 0; d < h.ndim; d++) {
        if (h.shape[d] != 0 && count > SIZE_MAX / h.shape[d]) overflow = 1;
        else count *= h.shape[d];
    }
    if (overflow || count > SIZE_MAX / dt.size)
        return made__error(MADE_E_FORMAT, "shape %s is too large for any file", shape_text);
    size_t need = count * dt.size, have_data = file_size - prefix - hlen;
    int shown = (int)(h.descr_len > 40 ? 40 : h.descr_len);
    if (have_data < need)
        return made__error(MADE_E_FORMAT,
                           "truncated: shape %s of '%.*s' needs %zu data bytes, the file "
                           "has %zu",
                           shape_text, shown, h.descr, need, have_data);
    if (have_data > need)
        return made__error(MADE_E_FORMAT,
                           "%zu trailing bytes after the data (shape %s of '%.*s' needs %zu)",
                           have_data - need, shape_text, shown, h.descr, need);
    info->ndim = h.ndim;
    memcpy(info->shape, h.shape, sizeof h.shape);
    info->dt = dt;
    info->count = count;
    info->data_offset = prefix + hlen;
    return MADE_OK;
}

static int npy_parse(made_array *a, const unsigned char *b, size_t size)
{
    npy_info info;
    int rc = npy_header_info(b, size, size, &info);
    if (rc != MADE_OK) return rc;
    rc = made_array_alloc(a, info.ndim, info.shape);
    if (rc != MADE_OK) return rc;
    rc = convert(a->data, b + info.data_offset, info.count, &info.dt);
    if (rc != MADE_OK) made_array_free(a);
    return rc;
}

int made__npy_parse(made_array *a, unsigned char **bytes, size_t size)
{
    return npy_parse(a, *bytes, size);
}

int made_npy_read(made_array *a, const char *path)
{
    return made__read_with(a, path, "made_npy_read", made__npy_parse);
}

/* ------------------------------------------------------------------------ */
/* Reading a range of rows                                                   */
/* ------------------------------------------------------------------------ */

/* Reads exactly n bytes at offset off (pread, resumed after short reads). */
static int read_at(int fd, const char *path, void *dst, size_t n, size_t off)
{
    unsigned char *p = dst;
    while (n > 0) {
        ssize_t got = pread(fd, p, n, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return made__error(MADE_E_IO, "%s: read failed: %s", path, strerror(errno));
        if (got == 0) return made__error(MADE_E_IO, "%s: the file shrank while being read", path);
        p += got;
        off += (size_t)got;
        n -= (size_t)got;
    }
    return MADE_OK;
}

/* The header of an open regular file of file_size bytes. */
static int read_header_info(int fd, const char *path, size_t file_size, npy_info *info)
{
    unsigned char pre[12];
    size_t n = file_size < sizeof pre ? file_size : sizeof pre;
    int rc = read_at(fd, path, pre, n, 0);
    if (rc != MADE_OK) return rc;
    size_t head = n;
    if (n == sizeof pre && memcmp(pre, npy_magic, 6) == 0 && (pre[6] == 1 || pre[6] == 2 || pre[6] == 3)) {
        size_t prefix = pre[6] == 1 ? 10 : 12;
        size_t hlen = (size_t)load_uint(pre + 8, prefix - 8, 0);
        /* A header longer than the file is reported by npy_header_info. */
        head = hlen <= file_size - prefix ? prefix + hlen : n;
    }
    unsigned char *b = made__malloc(head ? head : 1);
    if (!b) return MADE_E_NOMEM;
    rc = read_at(fd, path, b, head, 0);
    if (rc == MADE_OK) rc = npy_header_info(b, head, file_size, info);
    made__free(b);
    return rc;
}

/* Rows [first, first + count) from the open file, converted a piece at a time. */
static int read_rows(int fd, const char *path, const npy_info *info, size_t first, size_t count,
                     made_array *a)
{
    size_t shape[MADE_MAX_DIMS];
    memcpy(shape, info->shape, sizeof shape);
    shape[0] = count;
    int rc = made_array_alloc(a, info->ndim, shape);
    if (rc != MADE_OK) return rc;
    const size_t per_row = info->shape[0] ? info->count / info->shape[0] : 0;
    const size_t esize = info->dt.size, row_bytes = per_row * esize;
    /* Whole rows per read where a row fits the buffer, so a conversion error
     * names its row. */
    unsigned char buf[65536];
    size_t rows_per_read = row_bytes && row_bytes <= sizeof buf ? sizeof buf / row_bytes : 1;
    unsigned char *big = row_bytes > sizeof buf ? made__malloc(row_bytes) : NULL;
    if (row_bytes > sizeof buf && !big) rc = MADE_E_NOMEM;
    unsigned char *dst = big ? big : buf;
    for (size_t r = 0; r < count && rc == MADE_OK; r += rows_per_read) {
        size_t n = count - r < rows_per_read ? count - r : rows_per_read;
        rc = read_at(fd, path, dst, n * row_bytes, info->data_offset + (first + r) * row_bytes);
        for (size_t i = 0; i < n && rc == MADE_OK; i++) {
            rc = convert(a->data + (r + i) * per_row, dst + i * row_bytes, per_row, &info->dt);
            if (rc != MADE_OK) made__error_prefix("row %zu: ", first + r + i + 1);
        }
    }
    made__free(big);
    if (rc != MADE_OK) made_array_free(a);
    return rc;
}

/* Rows [first, first + count) of an array already in memory. */
static int slice_rows(made_array *a, const made_array *whole, size_t first, size_t count,
                      size_t *total)
{
    if (whole->ndim == 0) return made__error(MADE_E_SHAPE, "a scalar has no rows to read");
    if (first > whole->shape[0] || count > whole->shape[0] - first)
        return made__error(MADE_E_SHAPE, "rows %zu..%zu requested, but the file has %zu",
                           first + 1, first + count, whole->shape[0]);
    size_t shape[MADE_MAX_DIMS];
    memcpy(shape, whole->shape, sizeof shape);
    shape[0] = count;
    int rc = made_array_alloc(a, whole->ndim, shape);
    if (rc != MADE_OK) return rc;
    size_t per_row = whole->shape[0] ? made_array_size(whole) / whole->shape[0] : 0;
    if (count) memcpy(a->data, whole->data + first * per_row, count * per_row * sizeof(float));
    *total = whole->shape[0];
    return MADE_OK;
}

int made_npy_read_rows(made_array *a, const char *path, size_t first, size_t count, size_t *total)
{
    made__clear_error();
    if (!a || !total) return made__error(MADE_E_INVAL, "made_npy_read_rows: NULL argument");
    memset(a, 0, sizeof *a);
    *total = 0;
    if (!path) return made__error(MADE_E_INVAL, "made_npy_read_rows: path is NULL");
    int fd = open(path, O_RDONLY);
    if (fd < 0) return made__error(MADE_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = MADE_OK;
    if (fstat(fd, &st) != 0) rc = made__error(MADE_E_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode)) rc = made__error(MADE_E_IO, "%s: is a directory, not a file", path);
    if (rc == MADE_OK && !S_ISREG(st.st_mode)) {
        /* A pipe cannot be read at an offset: read it whole, keep the rows. */
        close(fd);
        made_array whole;
        rc = made_npy_read(&whole, path);
        if (rc != MADE_OK) return rc;
        rc = slice_rows(a, &whole, first, count, total);
        made_array_free(&whole);
        if (rc != MADE_OK) made__error_prefix("%s: ", path);
        return rc;
    }
    npy_info info;
    if (rc == MADE_OK) rc = read_header_info(fd, path, (size_t)st.st_size, &info);
    if (rc == MADE_OK && info.ndim == 0)
        rc = made__error(MADE_E_SHAPE, "a scalar has no rows to read");
    if (rc == MADE_OK && (first > info.shape[0] || count > info.shape[0] - first))
        rc = made__error(MADE_E_SHAPE, "rows %zu..%zu requested, but the file has %zu", first + 1,
                         first + count, info.shape[0]);
    if (rc == MADE_OK) {
        *total = info.shape[0];
        rc = read_rows(fd, path, &info, first, count, a);
    }
    close(fd);
    if (rc != MADE_OK && rc != MADE_E_IO) made__error_prefix("%s: ", path);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* The header np.save writes for a C-order float32 array, byte for byte: the
 * dict with sorted keys and a trailing ", ", spare spaces so the first axis can
 * grow in place, then padding and '\n' so the data starts at a multiple of 64. */
static void build_header(made__buf *hb, const made_array *a)
{
    made__buf_append(hb, npy_magic, sizeof npy_magic);
    made__buf_append(hb, "\x01\x00\x00\x00", 4); /* version 1.0, length filled below */
    made__buf_printf(hb, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int d = 0; d < a->ndim; d++)
        made__buf_printf(hb, "%s%zu", d ? ", " : "", a->shape[d]);
    made__buf_printf(hb, "%s), }", a->ndim == 1 ? "," : "");
    if (a->ndim > 0) {
        int digits = snprintf(NULL, 0, "%zu", a->shape[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++) made__buf_append(hb, " ", 1);
    }
    /* numpy: padlen = 64 - (preamble + len + 1) % 64, always at least one space. */
    size_t pad = NPY_ALIGN - (hb->len + 1) % NPY_ALIGN;
    for (size_t i = 0; i < pad; i++) made__buf_append(hb, " ", 1);
    made__buf_append(hb, "\n", 1);
    if (!hb->failed) {
        size_t hlen = hb->len - 10; /* at most 8 dims: always fits a u16 */
        hb->data[8] = (char)(hlen & 0xff);
        hb->data[9] = (char)(hlen >> 8);
    }
}

int made_npy_write(const made_array *a, const char *path)
{
    made__clear_error();
    if (!a) return made__error(MADE_E_INVAL, "made_npy_write: array is NULL");
    if (!path) return made__error(MADE_E_INVAL, "made_npy_write: path is NULL");
    if (a->ndim < 0 || a->ndim > MADE_MAX_DIMS)
        return made__error(MADE_E_INVAL, "%s: ndim %d is outside 0..%d", path, a->ndim,
                           MADE_MAX_DIMS);
    size_t count = 1;
    for (int d = 0; d < a->ndim; d++) {
        if (a->shape[d] != 0 && count > SIZE_MAX / 4 / a->shape[d])
            return made__error(MADE_E_INVAL, "%s: shape is too large", path);
        count *= a->shape[d];
    }
    if (count > 0 && !a->data)
        return made__error(MADE_E_INVAL, "%s: array data is NULL", path);

    made__buf hb;
    made__buf_init(&hb);
    build_header(&hb, a);
    if (hb.failed) {
        made__buf_free(&hb);
        made__error_prefix("%s: ", path);
        return MADE_E_NOMEM;
    }

    made__atomic *f;
    int rc = made__atomic_open(&f, path);
    if (rc != MADE_OK) {
        made__buf_free(&hb);
        return rc;
    }
    rc = made__atomic_write(f, hb.data, hb.len);
    made__buf_free(&hb);

    /* Little-endian whatever the host, through a small stack buffer. */
    unsigned char chunk[4096];
    size_t done = 0;
    while (rc == MADE_OK && done < count) {
        size_t n = count - done < sizeof chunk / 4 ? count - done : sizeof chunk / 4;
        for (size_t k = 0; k < n; k++) {
            uint32_t u;
            memcpy(&u, &a->data[done + k], 4);
            for (int byte = 0; byte < 4; byte++)
                chunk[4 * k + byte] = (unsigned char)(u >> (8 * byte));
        }
        rc = made__atomic_write(f, chunk, n * 4);
        done += n;
    }
    if (rc != MADE_OK) {
        made__atomic_abort(f);
        return rc;
    }
    return made__atomic_commit(f);
}
