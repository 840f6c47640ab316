/*
 * idx.c - IDX files (the MNIST format, http://yann.lecun.com/exdb/mnist/), plain
 * or gzip-compressed, into float32.
 *
 * Layout: 0x00 0x00, a type byte, a dimension count n, n big-endian u32 sizes,
 * then the elements in C order, big-endian, and nothing after them.
 *
 * A gzip file is inflated only as far as its IDX header says it should go: the
 * header gives the exact decompressed size (we refuse more than 4 GiB), the
 * buffer grows up to it only as data actually arrives, and a stream that
 * produces even one byte more is rejected. A decompression bomb therefore costs
 * at most one small read past the end, and a lying header costs nothing.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "core/internal.h"
#include "io/fileio.h"

#define IDX_MAX_GUNZIP ((uint64_t)4 << 30) /* 4 GiB of decompressed IDX */
#define IDX_GUNZIP_STEP ((size_t)1 << 20)  /* first size of the inflate buffer */

typedef struct idx_type {
    int code;
    const char *name;
    size_t size;
} idx_type;

static const idx_type idx_types[] = {
    {0x08, "unsigned byte", 1}, {0x09, "signed byte", 1}, {0x0B, "short", 2},
    {0x0C, "int", 4},           {0x0D, "float", 4},       {0x0E, "double", 8},
};

static const idx_type *find_type(int code)
{
    for (size_t i = 0; i < sizeof idx_types / sizeof idx_types[0]; i++)
        if (idx_types[i].code == code) return &idx_types[i];
    return NULL;
}

static uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The header as far as it is known. Its size is 4 + 4 * ndim bytes. */
typedef struct idx_header {
    const idx_type *type;
    int ndim;
    size_t shape[MADE_MAX_DIMS];
    uint64_t data_bytes; /* exact size of the element data */
} idx_header;

/* Checks the first 4 bytes: the magic, the type and the dimension count. */
static int parse_magic(idx_header *h, const unsigned char *b, size_t n)
{
    if (n < 4)
        return made__error(MADE_E_FORMAT, "truncated: %zu bytes, shorter than the IDX magic", n);
    if (b[0] != 0 || b[1] != 0)
        return made__error(MADE_E_FORMAT,
                           "not an IDX file (it starts with %02x %02x, not 00 00)", b[0], b[1]);
    h->type = find_type(b[2]);
    if (!h->type)
        return made__error(MADE_E_FORMAT,
                           "unknown IDX type 0x%02X (known: 08 u8, 09 i8, 0B i16, 0C i32, "
                           "0D f32, 0E f64)",
                           b[2]);
    if (b[3] == 0) return made__error(MADE_E_FORMAT, "IDX header has 0 dimensions");
    if (b[3] > MADE_MAX_DIMS)
        return made__error(MADE_E_UNSUPPORTED, "IDX array has %d dimensions; at most %d are "
                           "supported", b[3], MADE_MAX_DIMS);
    h->ndim = b[3];
    return MADE_OK;
}

/* Reads the dimensions (b holds the whole header) and the data size. Each
 * dimension is below 2^32 and there are at most 8 of them, so the size is
 * computed in 64 bits with an explicit overflow check. */
static int parse_dims(idx_header *h, const unsigned char *b)
{
    int empty = 0;
    for (int d = 0; d < h->ndim; d++) {
        h->shape[d] = load_be32(b + 4 + 4 * d);
        if (h->shape[d] == 0) empty = 1;
    }
    uint64_t bytes = empty ? 0 : h->type->size;
    for (int d = 0; d < h->ndim && !empty; d++) {
        if (bytes > UINT64_MAX / h->shape[d] || bytes * h->shape[d] > SIZE_MAX)
            return made__error(MADE_E_FORMAT,
                               "IDX dimensions describe more data than any file can hold");
        bytes *= h->shape[d];
    }
    h->data_bytes = bytes;
    return MADE_OK;
}

/* float64 -> float32, failing on finite values float32 cannot hold (they would
 * silently become Inf): |d| >= FLT_MAX + half an ulp rounds to Inf. */
static int to_float(double d, size_t k, float *out)
{
    if (isfinite(d) && fabs(d) >= 0x1.ffffffp+127)
        return made__error(MADE_E_NONFINITE, "element %zu (%g) is too large for float32", k, d);
    *out = (float)d;
    return MADE_OK;
}

static int convert(made_array *a, const idx_header *h, const unsigned char *p)
{
    int rc = made_array_alloc(a, h->ndim, h->shape);
    if (rc != MADE_OK) return rc;
    size_t n = made_array_size(a);
    float *dst = a->data;
    for (size_t k = 0; k < n && rc == MADE_OK; k++) {
        switch (h->type->code) {
        case 0x08: dst[k] = (float)p[k]; break;
        case 0x09: dst[k] = (float)(p[k] < 128 ? (int)p[k] : (int)p[k] - 256); break;
        case 0x0B: {
            unsigned u = (unsigned)p[2 * k] << 8 | p[2 * k + 1];
            dst[k] = (float)(u < 32768 ? (long)u : (long)u - 65536);
            break;
        }
        case 0x0C: {
            uint32_t u = load_be32(p + 4 * k);
            dst[k] = (float)(u < 0x80000000u ? (int64_t)u : (int64_t)u - ((int64_t)1 << 32));
            break;
        }
        case 0x0D: {
            uint32_t u = load_be32(p + 4 * k);
            memcpy(&dst[k], &u, sizeof u);
            break;
        }
        default: {
            uint64_t u = (uint64_t)load_be32(p + 8 * k) << 32 | load_be32(p + 8 * k + 4);
            double d;
            memcpy(&d, &u, sizeof d);
            rc = to_float(d, k, &dst[k]);
            break;
        }
        }
    }
    if (rc != MADE_OK) made_array_free(a);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Plain files                                                               */
/* ------------------------------------------------------------------------ */

static int parse_plain(made_array *a, const unsigned char *b, size_t size)
{
    idx_header h;
    int rc = parse_magic(&h, b, size);
    if (rc != MADE_OK) return rc;
    size_t head = 4 + 4 * (size_t)h.ndim;
    if (size < head)
        return made__error(MADE_E_FORMAT, "truncated: the IDX header needs %zu bytes, the file "
                           "has %zu", head, size);
    rc = parse_dims(&h, b);
    if (rc != MADE_OK) return rc;
    size_t have = size - head;
    if (have < h.data_bytes)
        return made__error(MADE_E_FORMAT, "truncated: the header says %llu data bytes, the file "
                           "has %zu", (unsigned long long)h.data_bytes, have);
    if (have > h.data_bytes)
        return made__error(MADE_E_FORMAT, "%llu trailing bytes after the data",
                           (unsigned long long)(have - h.data_bytes));
    return convert(a, &h, b + head);
}

/* ------------------------------------------------------------------------ */
/* gzip                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct gz_reader {
    z_stream zs;
    const unsigned char *in; /* compressed bytes not yet handed to zlib */
    size_t in_left;
    int ended; /* the last gzip member ended with no input left */
} gz_reader;

/* Inflates into out[0..want) until it is full or the input is used up; *got
 * says how far it came. zlib counts in uInt, so input and output go in pieces.
 * Concatenated gzip members are one file, as for gunzip. */
static int gz_read(gz_reader *g, unsigned char *out, size_t want, size_t *got)
{
    *got = 0;
    while (*got < want && !g->ended) {
        if (g->zs.avail_in == 0 && g->in_left > 0) {
            uInt n = g->in_left > UINT_MAX ? UINT_MAX : (uInt)g->in_left;
            g->zs.next_in = (Bytef *)(uintptr_t)g->in; /* zlib does not write to it */
            g->zs.avail_in = n;
            g->in += n;
            g->in_left -= n;
        }
        size_t room = want - *got;
        g->zs.next_out = out + *got;
        g->zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = g->zs.avail_out;
        int zr = inflate(&g->zs, Z_NO_FLUSH);
        *got += before - g->zs.avail_out;
        if (zr == Z_STREAM_END) {
            if (g->zs.avail_in == 0 && g->in_left == 0) {
                g->ended = 1;
            } else {
                /* Another member must follow; anything else is garbage. */
                const unsigned char *next = g->zs.avail_in ? g->zs.next_in : g->in;
                size_t left = g->zs.avail_in + g->in_left;
                if (left < 2 || next[0] != 0x1f || next[1] != 0x8b)
                    return made__error(MADE_E_FORMAT, "%zu trailing bytes after the gzip data",
                                       left);
                if (inflateReset(&g->zs) != Z_OK)
                    return made__error(MADE_E_FORMAT, "gzip: cannot restart the stream");
            }
        } else if (zr == Z_BUF_ERROR) {
            /* No progress possible: with room left, that means no input left. */
            if (g->zs.avail_in == 0 && g->in_left == 0) return MADE_OK;
            return made__error(MADE_E_FORMAT, "corrupt gzip data: inflate is stuck");
        } else if (zr == Z_MEM_ERROR) {
            return made__error(MADE_E_NOMEM, "out of memory in zlib");
        } else if (zr != Z_OK) {
            return made__error(MADE_E_FORMAT, "corrupt gzip data: %s",
                               g->zs.msg ? g->zs.msg : "inflate failed");
        }
    }
    return MADE_OK;
}

/* Reads the rest of the stream expecting no more data, so the gzip trailer
 * (CRC-32 and length) is checked. One byte of room detects trailing data. */
static int gz_finish(gz_reader *g)
{
    unsigned char extra;
    size_t got;
    int rc = gz_read(g, &extra, 1, &got);
    if (rc != MADE_OK) return rc;
    if (got > 0)
        return made__error(MADE_E_FORMAT, "the decompressed data goes on after the IDX data "
                           "the header describes");
    if (!g->ended)
        return made__error(MADE_E_FORMAT, "truncated gzip stream (its end and checksum are "
                           "missing)");
    return MADE_OK;
}

static int parse_gzip_stream(made_array *a, gz_reader *g)
{
    unsigned char head[4 + 4 * MADE_MAX_DIMS];
    size_t got;
    idx_header h;
    int rc = gz_read(g, head, 4, &got);
    if (rc != MADE_OK) return rc;
    rc = parse_magic(&h, head, got);
    if (rc != MADE_OK) {
        if (got == 4 && rc == MADE_E_FORMAT && (head[0] || head[1]))
            made__error_prefix("gzip-compressed, but ");
        return rc;
    }
    size_t dims = 4 * (size_t)h.ndim;
    rc = gz_read(g, head + 4, dims, &got);
    if (rc != MADE_OK) return rc;
    if (got < dims)
        return made__error(MADE_E_FORMAT, "truncated: the decompressed IDX header needs %zu "
                           "bytes, the data has %zu", 4 + dims, 4 + got);
    rc = parse_dims(&h, head);
    if (rc != MADE_OK) return rc;
    if (h.data_bytes > IDX_MAX_GUNZIP)
        return made__error(MADE_E_UNSUPPORTED, "the IDX header says %llu data bytes, more than "
                           "the 4 GiB made decompresses", (unsigned long long)h.data_bytes);

    /* The buffer grows with the data actually inflated instead of being sized
     * from the header at once: a 40-byte file that claims 4 GiB must not cost a
     * 4 GiB allocation (found by fuzz/fuzz_idx.c; fuzz/crashes/idx/). */
    size_t want = (size_t)h.data_bytes, have = 0;
    size_t cap = want < IDX_GUNZIP_STEP ? want : IDX_GUNZIP_STEP;
    unsigned char *data = made__malloc(cap ? cap : 1);
    if (!data) return MADE_E_NOMEM;
    while (rc == MADE_OK && have < want) {
        if (have == cap) {
            size_t ncap = cap > want / 2 ? want : 2 * cap;
            unsigned char *p = made__realloc(data, ncap);
            if (!p) {
                rc = MADE_E_NOMEM;
                break;
            }
            data = p;
            cap = ncap;
        }
        rc = gz_read(g, data + have, cap - have, &got);
        have += got;
        if (have < cap) break; /* the compressed data ran out */
    }
    if (rc == MADE_OK && have < want)
        rc = made__error(MADE_E_FORMAT, "truncated: the header says %zu data bytes, the "
                         "decompressed data has %zu", want, have);
    if (rc == MADE_OK) rc = gz_finish(g);
    if (rc == MADE_OK) rc = convert(a, &h, data);
    made__free(data);
    return rc;
}

static int parse_gzip(made_array *a, const unsigned char *b, size_t size)
{
    gz_reader g;
    memset(&g, 0, sizeof g);
    g.in = b;
    g.in_left = size;
    /* 16 + MAX_WBITS: gzip wrapper only, with its CRC-32 checked. */
    int zr = inflateInit2(&g.zs, 16 + MAX_WBITS);
    if (zr == Z_MEM_ERROR) return made__error(MADE_E_NOMEM, "out of memory in zlib");
    if (zr != Z_OK) return made__error(MADE_E_IO, "zlib inflateInit2 failed (%d)", zr);
    int rc = parse_gzip_stream(a, &g);
    inflateEnd(&g.zs);
    return rc;
}

int made__idx_parse(made_array *a, unsigned char **bytes, size_t size)
{
    const unsigned char *b = *bytes;
    if (size >= 2 && b[0] == 0x1f && b[1] == 0x8b) return parse_gzip(a, b, size);
    return parse_plain(a, b, size);
}

int made_idx_read(made_array *a, const char *path)
{
    return made__read_with(a, path, "made_idx_read", made__idx_parse);
}
