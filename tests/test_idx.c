/* test_idx.c - the IDX reader (plain and gzip) and made_data_read's choice of
 * reader. Files are built here byte by byte; gzip files with zlib's gzwrite. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/internal.h"
#include "harness.h"
#include "made.h"
#include "util.h"

#define COUNT_OF(x) (sizeof(x) / sizeof((x)[0]))

/* gzip with zlib's own writer; mode "wb" or "ab" (a second member). */
static int write_gzip(const char *path, const char *mode, const void *data, size_t n)
{
    gzFile g = gzopen(path, mode);
    if (!g) return -1;
    int ok = n == 0 || gzwrite(g, data, (unsigned)n) == (int)n;
    return gzclose(g) == Z_OK && ok ? 0 : -1;
}

/* An IDX file in memory: magic, big-endian dims, then the payload as given. */
typedef struct idx_file {
    unsigned char b[1024];
    size_t n;
} idx_file;

static void idx_build(idx_file *f, int type, int ndim, const uint32_t *dims, const void *payload,
                      size_t payload_bytes)
{
    f->b[0] = 0;
    f->b[1] = 0;
    f->b[2] = (unsigned char)type;
    f->b[3] = (unsigned char)ndim;
    f->n = 4;
    for (int d = 0; d < ndim; d++) {
        for (int k = 0; k < 4; k++) f->b[f->n++] = (unsigned char)(dims[d] >> (24 - 8 * k));
    }
    if (payload_bytes) memcpy(f->b + f->n, payload, payload_bytes);
    f->n += payload_bytes;
}

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Reads path with made_idx_read and checks shape and (bit-exact) values. */
static void expect_array(const char *path, int ndim, const size_t *shape, const float *want)
{
    made_array a;
    int rc = made_idx_read(&a, path);
    if (rc != MADE_OK) {
        HARNESS_FAIL_("%s -> %d (%s)", path, rc, made_last_error());
        return;
    }
    CHECK_EQ_INT(a.ndim, ndim);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        CHECK_EQ_INT(a.shape[d], shape[d]);
        count *= shape[d];
    }
    if (made_array_size(&a) == count)
        for (size_t i = 0; i < count; i++)
            if (bits_of(a.data[i]) != bits_of(want[i]))
                HARNESS_FAIL_("%s[%zu]: %.9g, want %.9g", path, i, a.data[i], want[i]);
    made_array_free(&a);
}

static void expect_reject(const char *path, int want, const char *needle)
{
    made_array a;
    memset(&a, 0x5a, sizeof a);
    int rc = made_idx_read(&a, path);
    if (rc != want || (needle && !strstr(made_last_error(), needle)))
        HARNESS_FAIL_("%s -> %d \"%s\", want %d with \"%s\"", path, rc, made_last_error(), want,
                      needle ? needle : "");
    CHECK_STR_CONTAINS(made_last_error(), path);
    CHECK(a.data == NULL && a.ndim == 0);
    if (rc == MADE_OK) made_array_free(&a);
}

/* The six element types, each written plain and gzipped. */
typedef struct type_case {
    const char *name;
    int type;
    unsigned char payload[64];
    size_t bytes;
    float want[8];
    size_t count;
} type_case;

static const type_case type_cases[] = {
    {"u8", 0x08, {0, 255, 128, 7}, 4, {0, 255, 128, 7}, 4},
    {"i8", 0x09, {0, 0xff, 0x7f, 0x80}, 4, {0, -1, 127, -128}, 4},
    {"i16", 0x0B, {0, 0, 0xff, 0xff, 0x7f, 0xff, 0x80, 0x00, 0x03, 0xe8}, 10,
     {0, -1, 32767, -32768, 1000}, 5},
    {"i32", 0x0C, {0x7f, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xf9, 0, 0, 0, 5}, 16,
     {2147483647.0f, -2147483648.0f, -7, 5}, 4},
    {"f32", 0x0D, {0x3f, 0xc0, 0, 0, 0xff, 0x80, 0, 0, 0x00, 0x00, 0x00, 0x01, 0x80, 0, 0, 0}, 16,
     {1.5f, -INFINITY, 1.40129846e-45f, -0.0f}, 4},
    {"f64", 0x0E, {0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a, 0xc0, 0x04, 0, 0, 0, 0, 0, 0},
     16, {0.1f, -2.5f}, 2},
};

static void test_types_plain_and_gzip(void)
{
    for (size_t t = 0; t < COUNT_OF(type_cases); t++) {
        const type_case *c = &type_cases[t];
        uint32_t dims[1] = {(uint32_t)c->count};
        size_t shape[1] = {c->count};
        idx_file f;
        idx_build(&f, c->type, 1, dims, c->payload, c->bytes);
        const char *plain = tmp_path("t.idx"), *gz = tmp_path("t.idx.gz");
        CHECK(spit(plain, f.b, f.n) == 0);
        expect_array(plain, 1, shape, c->want);
        CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
        expect_array(gz, 1, shape, c->want);
    }
}

/* MNIST-shaped files: images [N, rows, cols] and labels [N]. */
static void test_mnist_like(void)
{
    unsigned char pixels[2 * 3 * 4];
    float want[24];
    for (int i = 0; i < 24; i++) {
        pixels[i] = (unsigned char)(i * 11);
        want[i] = (float)(i * 11);
    }
    uint32_t dims[3] = {2, 3, 4};
    size_t shape[3] = {2, 3, 4};
    idx_file f;
    idx_build(&f, 0x08, 3, dims, pixels, sizeof pixels);
    const char *images = tmp_path("train-images-idx3-ubyte");
    CHECK(spit(images, f.b, f.n) == 0);
    expect_array(images, 3, shape, want);
    const char *gz = tmp_path("train-images-idx3-ubyte.gz");
    CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
    expect_array(gz, 3, shape, want);

    /* A gzip file of two members (gzip a >> f) is one file, as for gunzip. */
    const char *two = tmp_path("two-members.gz");
    CHECK(write_gzip(two, "wb", f.b, 10) == 0);
    CHECK(write_gzip(two, "ab", f.b + 10, f.n - 10) == 0);
    expect_array(two, 3, shape, want);

    /* Zero-length dimensions are valid. */
    uint32_t none[2] = {0, 28};
    size_t none_shape[2] = {0, 28};
    idx_build(&f, 0x08, 2, none, NULL, 0);
    CHECK(spit(images, f.b, f.n) == 0);
    expect_array(images, 2, none_shape, want);
    CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
    expect_array(gz, 2, none_shape, want);

    /* Eight dimensions is the most made holds. */
    uint32_t eight[8] = {1, 2, 1, 1, 1, 1, 3, 1};
    size_t eight_shape[8] = {1, 2, 1, 1, 1, 1, 3, 1};
    idx_build(&f, 0x08, 8, eight, pixels, 6);
    CHECK(spit(images, f.b, f.n) == 0);
    expect_array(images, 8, eight_shape, want);
}

/* Cut a valid file anywhere: malformed, never a crash, never read. */
static void test_truncated_everywhere(void)
{
    uint32_t dims[2] = {2, 3};
    unsigned char payload[12] = {0, 1, 0, 2, 0, 3, 0xff, 0xfc, 0, 5, 0, 6};
    idx_file f;
    idx_build(&f, 0x0B, 2, dims, payload, sizeof payload);
    const char *path = tmp_path("cut.idx");
    for (size_t n = 0; n < f.n; n++) {
        CHECK(spit(path, f.b, n) == 0);
        made_array a;
        int rc = made_idx_read(&a, path);
        if (rc != MADE_E_FORMAT)
            HARNESS_FAIL_("plain cut to %zu of %zu -> %d (%s)", n, f.n, rc, made_last_error());
        CHECK(a.data == NULL);
    }
    CHECK(spit(path, f.b, f.n - 1) == 0);
    expect_reject(path, MADE_E_FORMAT, "truncated: the header says 12 data bytes, the file has 11");
    CHECK(spit(path, f.b, 9) == 0);
    expect_reject(path, MADE_E_FORMAT, "truncated: the IDX header needs 12 bytes");

    /* The same for a gzip file, at every byte of the compressed stream. */
    const char *gz = tmp_path("cut.gz");
    CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
    size_t zn;
    unsigned char *z = slurp(gz, &zn);
    CHECK(z != NULL);
    for (size_t n = 0; z && n < zn; n++) {
        CHECK(spit(path, z, n) == 0);
        made_array a;
        int rc = made_idx_read(&a, path);
        if (rc != MADE_E_FORMAT)
            HARNESS_FAIL_("gzip cut to %zu of %zu -> %d (%s)", n, zn, rc, made_last_error());
        CHECK(a.data == NULL);
    }
    /* Only the 8-byte trailer (CRC-32, length) missing: the data is all there,
     * but the stream did not end. */
    if (z) {
        CHECK(spit(path, z, zn - 8) == 0);
        expect_reject(path, MADE_E_FORMAT, "truncated gzip stream");
        /* A damaged checksum. */
        z[zn - 8] ^= 0xff;
        CHECK(spit(path, z, zn) == 0);
        expect_reject(path, MADE_E_FORMAT, "corrupt gzip data");
        z[zn - 8] ^= 0xff;
        /* Garbage after the gzip stream. */
        unsigned char *more = malloc(zn + 3);
        memcpy(more, z, zn);
        memcpy(more + zn, "abc", 3);
        CHECK(spit(path, more, zn + 3) == 0);
        expect_reject(path, MADE_E_FORMAT, "3 trailing bytes after the gzip data");
        free(more);
    }
    free(z);
    /* Decompressed data shorter than the header says. */
    CHECK(write_gzip(gz, "wb", f.b, f.n - 2) == 0);
    expect_reject(gz, MADE_E_FORMAT, "truncated: the header says 12 data bytes, the decompressed data has 10");
    CHECK(write_gzip(gz, "wb", f.b, 6) == 0);
    expect_reject(gz, MADE_E_FORMAT, "decompressed IDX header needs 12 bytes");
}

static void test_trailing_and_lies(void)
{
    uint32_t dims[1] = {4};
    unsigned char payload[6] = {1, 2, 3, 4, 5, 6};
    idx_file f;
    idx_build(&f, 0x08, 1, dims, payload, 5);
    const char *path = tmp_path("lie.idx"), *gz = tmp_path("lie.idx.gz");
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_FORMAT, "1 trailing bytes after the data");
    CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
    expect_reject(gz, MADE_E_FORMAT, "goes on after the IDX data");

    /* The header claims far more than the file holds. */
    uint32_t big[3] = {60000, 28, 28};
    idx_build(&f, 0x08, 3, big, payload, 6);
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_FORMAT, "truncated: the header says 47040000 data bytes");
    CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
    expect_reject(gz, MADE_E_FORMAT, "truncated");
    /* More than 4 GiB decompressed is refused before anything is allocated. */
    uint32_t huge[3] = {65536, 65536, 2};
    idx_build(&f, 0x08, 3, huge, payload, 6);
    CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
    expect_reject(gz, MADE_E_UNSUPPORTED, "4 GiB");
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_FORMAT, "truncated");
    uint32_t absurd[8] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
                          0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    idx_build(&f, 0x0E, 8, absurd, payload, 6);
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_FORMAT, "more data than any file");

    /* A decompression bomb: 4 bytes promised, megabytes of zeros delivered. It
     * is rejected at the first extra byte, without inflating the rest. */
    size_t bomb_n = 16u << 20;
    unsigned char *bomb = calloc(1, bomb_n);
    uint32_t four[1] = {4};
    idx_build(&f, 0x08, 1, four, payload, 4);
    memcpy(bomb, f.b, f.n);
    CHECK(write_gzip(gz, "wb", bomb, bomb_n) == 0);
    free(bomb);
    expect_reject(gz, MADE_E_FORMAT, "goes on after the IDX data");
}

static void test_bad_headers(void)
{
    const char *path = tmp_path("bad.idx");
    unsigned char payload[4] = {1, 2, 3, 4};
    uint32_t dims[1] = {4};
    idx_file f;

    idx_build(&f, 0x08, 1, dims, payload, 4);
    f.b[0] = 1;
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_FORMAT, "not an IDX file (it starts with 01 00");
    idx_build(&f, 0x0A, 1, dims, payload, 4);
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_FORMAT, "unknown IDX type 0x0A");
    idx_build(&f, 0x07, 1, dims, payload, 4);
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_FORMAT, "unknown IDX type 0x07");
    idx_build(&f, 0x08, 0, dims, payload, 4);
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_FORMAT, "0 dimensions");
    uint32_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 4};
    idx_build(&f, 0x08, 9, nine, payload, 4);
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_UNSUPPORTED, "9 dimensions");
    CHECK(spit(path, "", 0) == 0);
    expect_reject(path, MADE_E_FORMAT, "truncated");

    /* gzip of something that is not IDX (a gzipped CSV, say). */
    const char *gz = tmp_path("data.csv.gz");
    CHECK(write_gzip(gz, "wb", "1,2\n3,4\n", 8) == 0);
    expect_reject(gz, MADE_E_FORMAT, "gzip-compressed, but not an IDX file");
    /* Damaged deflate data. */
    idx_build(&f, 0x08, 1, dims, payload, 4);
    CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
    size_t zn;
    unsigned char *z = slurp(gz, &zn);
    if (z) {
        z[10] ^= 0xff; /* first byte after the 10-byte gzip header */
        CHECK(spit(gz, z, zn) == 0);
        expect_reject(gz, MADE_E_FORMAT, "corrupt gzip data");
        free(z);
    }
    /* A float64 beyond float32's range. */
    unsigned char d[8] = {0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c}; /* 1e300 */
    uint32_t one[1] = {1};
    idx_build(&f, 0x0E, 1, one, d, 8);
    CHECK(spit(path, f.b, f.n) == 0);
    expect_reject(path, MADE_E_NONFINITE, "too large for float32");
}

/* made_data_read: the content decides, then the name. */
static void test_data_read_dispatch(void)
{
    uint32_t dims[1] = {3};
    unsigned char payload[3] = {9, 8, 7};
    idx_file f;
    idx_build(&f, 0x08, 1, dims, payload, 3);
    made_array a;

    const char *names[] = {"labels-idx1-ubyte", "labels.csv", "labels"};
    for (size_t i = 0; i < COUNT_OF(names); i++) {
        const char *path = tmp_path(names[i]);
        CHECK(spit(path, f.b, f.n) == 0);
        CHECK_OK(made_data_read(&a, path));
        CHECK_EQ_INT(a.ndim, 1);
        CHECK(made_array_size(&a) == 3 && a.data[0] == 9.0f && a.data[2] == 7.0f);
        made_array_free(&a);
    }
    const char *gz = tmp_path("labels.bin");
    CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
    CHECK_OK(made_data_read(&a, gz));
    CHECK(made_array_size(&a) == 3 && a.data[1] == 8.0f);
    made_array_free(&a);

    /* Too short for magic: the name picks the reader that explains the problem. */
    const char *stub = tmp_path("stub-idx1-ubyte");
    CHECK(spit(stub, "\0\0", 2) == 0);
    CHECK_STATUS(made_data_read(&a, stub), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "shorter than the IDX magic");
    const char *text = tmp_path("table.dat");
    CHECK(spit(text, "x\n1\n2\n", 6) == 0);
    CHECK_OK(made_data_read(&a, text));
    CHECK_EQ_INT(a.shape[0], 2);
    CHECK_EQ_INT(a.shape[1], 1);
    made_array_free(&a);

    CHECK_STATUS(made_data_read(&a, tmpdir), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), "is a directory");
    CHECK_STATUS(made_idx_read(&a, tmpdir), MADE_E_IO);
    CHECK_STATUS(made_idx_read(&a, tmp_path("missing")), MADE_E_IO);
    CHECK_STATUS(made_idx_read(NULL, "x"), MADE_E_INVAL);
    CHECK_STATUS(made_idx_read(&a, NULL), MADE_E_INVAL);
}

/* An unreadable file: the error names it. Root reads anything, so as root the
 * read runs as "nobody" (harness_unprivileged). */
static void read_locked(void)
{
    made_array a;
    CHECK_STATUS(made_data_read(&a, tmp_path("locked.idx")), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), "locked.idx: cannot open");
}

static void test_unreadable_file(void)
{
    uint32_t dims[1] = {3};
    unsigned char payload[3] = {9, 8, 7};
    idx_file f;
    idx_build(&f, 0x08, 1, dims, payload, 3);
    const char *locked = tmp_path("locked.idx");
    CHECK(spit(locked, f.b, f.n) == 0);
    CHECK(chmod(locked, 0) == 0);
    harness_unprivileged(read_locked);
}

/* Failing the k-th allocation for every k, plain and gzip. */
static void test_alloc_failures(void)
{
    uint32_t dims[2] = {2, 2};
    unsigned char payload[4] = {1, 2, 3, 4};
    idx_file f;
    idx_build(&f, 0x08, 2, dims, payload, 4);
    const char *paths[2] = {tmp_path("alloc.idx"), tmp_path("alloc.idx.gz")};
    CHECK(spit(paths[0], f.b, f.n) == 0);
    CHECK(write_gzip(paths[1], "wb", f.b, f.n) == 0);
    for (int p = 0; p < 2; p++) {
        int succeeded = 0;
        for (long k = 1; k < 50 && !succeeded; k++) {
            made__alloc_fail_at(k);
            made_array a;
            int rc = made_idx_read(&a, paths[p]);
            made__alloc_fail_at(0);
            if (rc == MADE_OK) {
                succeeded = 1;
                made_array_free(&a);
            } else {
                CHECK_EQ_INT(rc, MADE_E_NOMEM);
                CHECK_STR_CONTAINS(made_last_error(), paths[p]);
            }
        }
        CHECK(succeeded);
    }
}

/* Random byte damage to a plain and a gzipped file: any outcome but a crash, a
 * leak or an undocumented status is fine. */
static void test_fuzz(void)
{
    uint32_t dims[3] = {2, 3, 2};
    unsigned char payload[48];
    for (int i = 0; i < 48; i++) payload[i] = (unsigned char)(i * 37);
    idx_file f;
    idx_build(&f, 0x0D, 3, dims, payload, 48);
    const char *path = tmp_path("fuzz.idx"), *gz = tmp_path("fuzz.gz");
    CHECK(write_gzip(gz, "wb", f.b, f.n) == 0);
    size_t zn;
    unsigned char *z = slurp(gz, &zn);
    if (!z) return;
    uint32_t x = 1234567u;
    unsigned char buf[1024];
    for (int iter = 0; iter < 3000; iter++) {
        int use_gz = iter % 2;
        size_t n = use_gz ? zn : f.n;
        memcpy(buf, use_gz ? z : f.b, n);
        for (int k = 0; k <= iter % 3; k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
            buf[x % n] = (unsigned char)(x >> 8);
        }
        CHECK(spit(path, buf, n) == 0);
        made_array a;
        int rc = made_idx_read(&a, path);
        if (rc != MADE_OK && rc != MADE_E_FORMAT && rc != MADE_E_UNSUPPORTED &&
            rc != MADE_E_NONFINITE)
            HARNESS_FAIL_("iteration %d: status %d (%s)", iter, rc, made_last_error());
        if (rc != MADE_OK) CHECK(a.data == NULL);
        made_array_free(&a);
    }
    free(z);
}

int main(void)
{
    if (tmp_init("test-idx") || chmod(tmpdir, 0711) != 0) return 1; /* 0711: see test_unreadable_file */
    RUN(test_types_plain_and_gzip);
    RUN(test_mnist_like);
    RUN(test_truncated_everywhere);
    RUN(test_trailing_and_lies);
    RUN(test_bad_headers);
    RUN(test_data_read_dispatch);
    RUN(test_unreadable_file);
    RUN(test_alloc_failures);
    RUN(test_fuzz);
    tmp_cleanup();
    return harness_summary("test_idx");
}
