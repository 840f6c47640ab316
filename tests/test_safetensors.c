/* test_safetensors.c - the safetensors container: bit-exact round trips, the
 * reader's validation against hostile files (truncations, byte flips, every
 * rule of the format), writer argument checks and allocation failures.
 * made__st_parse copies its input into an exact-size block, so AddressSanitizer
 * sees any read past the end of a file. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "harness.h"
#include "io/fileio.h"
#include "io/safetensors.h"
#include "util.h"

/* Entries in the temp directory whose name contains `part`. */
static int count_files(const char *part)
{
    int n = 0;
    DIR *d = opendir(tmpdir);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part)) n++;
    closedir(d);
    return n;
}

static int is_zeroed(const made__st_file *f)
{
    return !f->bytes && !f->size && !f->tensors && !f->count && !f->meta_keys &&
           !f->meta_values && !f->meta_count;
}

/* A file from a header string: 8-byte length, header, then data_len bytes. */
static unsigned char *make_file(const char *header, size_t data_len, size_t *size)
{
    size_t n = strlen(header);
    *size = 8 + n + data_len;
    unsigned char *b = malloc(*size);
    if (!b) abort();
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((unsigned long long)n >> (8 * i));
    memcpy(b + 8, header, n);
    for (size_t i = 0; i < data_len; i++) b[8 + n + i] = (unsigned char)(i * 7 + 1);
    return b;
}

static void expect_bad_bytes(const unsigned char *b, size_t size, const char *msg, int line)
{
    made__st_file f;
    int rc = made__st_parse(&f, b, size);
    if (rc != MADE_E_FORMAT) {
        fprintf(stderr, "FAIL %s (line %d): status %d, want MADE_E_FORMAT (%s)\n", harness_case_,
                line, rc, made_last_error());
        harness_case_failed_ = 1;
        if (rc == MADE_OK) made__st_free(&f);
        return;
    }
    if (!is_zeroed(&f)) {
        fprintf(stderr, "FAIL %s (line %d): file not zeroed after failure\n", harness_case_, line);
        harness_case_failed_ = 1;
    }
    if (!strstr(made_last_error(), msg)) {
        fprintf(stderr, "FAIL %s (line %d): message \"%s\" lacks \"%s\"\n", harness_case_, line,
                made_last_error(), msg);
        harness_case_failed_ = 1;
    }
}

static void expect_bad(const char *header, size_t data_len, const char *msg, int line)
{
    size_t size;
    unsigned char *b = make_file(header, data_len, &size);
    expect_bad_bytes(b, size, msg, line);
    free(b);
}
#define EXPECT_BAD(header, data_len, msg) expect_bad(header, data_len, msg, __LINE__)

static int parse_header(const char *header, size_t data_len, made__st_file *f)
{
    size_t size;
    unsigned char *b = make_file(header, data_len, &size);
    int rc = made__st_parse(f, b, size);
    free(b);
    return rc;
}

/* ------------------------------------------------------------------------ */

static void test_dtypes(void)
{
    static const struct {
        made__st_dtype d;
        const char *name;
        size_t size;
    } want[] = {
        {MADE__ST_BOOL, "BOOL", 1}, {MADE__ST_U8, "U8", 1},    {MADE__ST_I8, "I8", 1},
        {MADE__ST_U16, "U16", 2},   {MADE__ST_I16, "I16", 2},  {MADE__ST_F16, "F16", 2},
        {MADE__ST_BF16, "BF16", 2}, {MADE__ST_U32, "U32", 4},  {MADE__ST_I32, "I32", 4},
        {MADE__ST_F32, "F32", 4},   {MADE__ST_U64, "U64", 8},  {MADE__ST_I64, "I64", 8},
        {MADE__ST_F64, "F64", 8},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK(strcmp(made__st_dtype_name(want[i].d), want[i].name) == 0);
        CHECK_EQ_INT(made__st_dtype_size(want[i].d), want[i].size);
    }
    CHECK_EQ_INT(made__st_dtype_size((made__st_dtype)99), 0);
    CHECK(strcmp(made__st_dtype_name((made__st_dtype)-1), "?") == 0);
}

/* The tensors and metadata of the round-trip file. */
static const uint32_t rt_f32[6] = {0x3fc00000u /* 1.5 */, 0x80000000u /* -0 */,
                                   0x00000001u /* subnormal */, 0x7f800000u /* inf */,
                                   0x7fc12345u /* NaN with payload */, 0xc0000000u /* -2 */};
static const int64_t rt_i64[3] = {INT64_MIN, -1, 42};
static const uint8_t rt_u8[1] = {0xab};
static const double rt_f64[1] = {0.1};
static const char rt_weird[] = "we\"ird\\name/\xc3\xa9\t";
static const char *const rt_meta_keys[] = {"format", "note", "empty", "\xe2\x82\xac"};
static const char *const rt_meta_values[] = {
    "pt", "quote \" backslash \\ newline \n tab \t ctrl \x01 e-acute \xc3\xa9", "", "euro"};

static int write_roundtrip_file(const char *path)
{
    made__st_entry e[6];
    memset(e, 0, sizeof e);
    e[0] = (made__st_entry){"layers.0.kernel", MADE__ST_F32, 2, {2, 3}, rt_f32};
    e[1] = (made__st_entry){"steps", MADE__ST_I64, 1, {3}, rt_i64};
    e[2] = (made__st_entry){"flag", MADE__ST_U8, 0, {0}, rt_u8};
    e[3] = (made__st_entry){"empty", MADE__ST_BF16, 2, {0, 5}, NULL};
    e[4] = (made__st_entry){"x", MADE__ST_F64, 1, {1}, rt_f64};
    e[5] = (made__st_entry){rt_weird, MADE__ST_U8, 3, {1, 1, 1}, rt_u8};
    return made__st_write(path, e, 6, rt_meta_keys, rt_meta_values, 4);
}

static void check_roundtrip(const made__st_file *f)
{
    CHECK_EQ_INT(f->count, 6);
    if (f->count != 6) return;
    /* Sorted by offset, which is the order written. */
    static const char *const names[] = {"layers.0.kernel", "steps", "flag", "empty", "x",
                                        rt_weird};
    for (int i = 0; i < 6; i++) CHECK(strcmp(f->tensors[i].name, names[i]) == 0);
    const made__st_tensor *t = made__st_find(f, "layers.0.kernel");
    CHECK(t && t->dtype == MADE__ST_F32 && t->ndim == 2 && t->shape[0] == 2 &&
          t->shape[1] == 3 && t->nbytes == 24 && memcmp(t->data, rt_f32, 24) == 0);
    t = made__st_find(f, "steps");
    CHECK(t && t->dtype == MADE__ST_I64 && t->ndim == 1 && t->shape[0] == 3 &&
          t->nbytes == 24 && memcmp(t->data, rt_i64, 24) == 0);
    t = made__st_find(f, "flag");
    CHECK(t && t->dtype == MADE__ST_U8 && t->ndim == 0 && t->nbytes == 1 && t->data[0] == 0xab);
    t = made__st_find(f, "empty");
    CHECK(t && t->dtype == MADE__ST_BF16 && t->ndim == 2 && t->shape[0] == 0 &&
          t->shape[1] == 5 && t->nbytes == 0);
    t = made__st_find(f, "x");
    CHECK(t && t->dtype == MADE__ST_F64 && t->nbytes == 8 && memcmp(t->data, rt_f64, 8) == 0);
    t = made__st_find(f, rt_weird);
    CHECK(t && t->ndim == 3 && t->nbytes == 1 && t->data[0] == 0xab);
    CHECK(made__st_find(f, "nope") == NULL);
    CHECK(made__st_find(f, "__metadata__") == NULL);
    /* The tensors tile the data section. */
    const unsigned char *base = f->bytes + f->size;
    for (size_t i = 0; i < f->count; i++) base -= f->tensors[i].nbytes;
    for (size_t i = 0; i < f->count; i++) {
        CHECK(f->tensors[i].data == base);
        base += f->tensors[i].nbytes;
    }
    CHECK_EQ_INT(f->meta_count, 4);
    for (int i = 0; i < 4; i++) {
        const char *v = made__st_meta(f, rt_meta_keys[i]);
        CHECK(v && strcmp(v, rt_meta_values[i]) == 0);
    }
    CHECK(made__st_meta(f, "nope") == NULL);
}

static void test_roundtrip(void)
{
    const char *path = tmp_path("rt.safetensors");
    CHECK_OK(write_roundtrip_file(path));
    made__st_file f;
    CHECK_OK(made__st_read(&f, path));
    check_roundtrip(&f);
    made__st_free(&f);
    made__st_free(&f); /* a freed file is zeroed, freeing again is harmless */

    size_t size;
    unsigned char *b = slurp(path, &size);
    CHECK(b != NULL);
    if (!b) return;
    unsigned long long n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | b[i];
    CHECK_EQ_INT((8 + n) % 8, 0);
    CHECK_EQ_INT(size, 8 + n + 24 + 24 + 1 + 0 + 8 + 1);
    static const char head[] = "{\"__metadata__\":{\"format\":\"pt\",";
    CHECK(memcmp(b + 8, head, sizeof head - 1) == 0);
    /* Padding is spaces after the closing brace, fewer than 8 of them. */
    size_t end = 8 + (size_t)n;
    int pad = 0;
    while (b[end - 1 - (size_t)pad] == ' ') pad++;
    CHECK(pad < 8 && b[end - 1 - (size_t)pad] == '}');
    CHECK(memcmp(b + end, rt_f32, 24) == 0);

    /* made__st_parse copies: the caller's bytes can go away. */
    CHECK_OK(made__st_parse(&f, b, size));
    free(b);
    check_roundtrip(&f);
    made__st_free(&f);

    /* Rewriting replaces the file and leaves no temp file behind. */
    CHECK_OK(made__st_write(path, NULL, 0, NULL, NULL, 0));
    CHECK_EQ_INT(count_files(".tmp."), 0);
    b = slurp(path, &size);
    CHECK(b && size == 16 && memcmp(b, "\x08\0\0\0\0\0\0\0{}      ", 16) == 0);
    free(b);
    CHECK_OK(made__st_read(&f, path));
    CHECK(f.count == 0 && f.meta_count == 0 && f.tensors == NULL);
    made__st_free(&f);
    unlink(path);
}

static void test_read_errors(void)
{
    made__st_file f;
    const char *path = tmp_path("missing.safetensors");
    CHECK_STATUS(made__st_read(&f, path), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), path);
    CHECK(is_zeroed(&f));
    CHECK_STATUS(made__st_read(&f, tmpdir), MADE_E_IO); /* a directory */
    CHECK(is_zeroed(&f));

    /* Format errors name the file first. */
    path = tmp_path("bad.safetensors");
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp) return;
    fwrite("\x02\0\0\0\0\0\0\0[]", 1, 10, fp);
    fclose(fp);
    CHECK_STATUS(made__st_read(&f, path), MADE_E_FORMAT);
    char want[300];
    snprintf(want, sizeof want, "%s: safetensors: ", path);
    CHECK(strncmp(made_last_error(), want, strlen(want)) == 0);
    CHECK(is_zeroed(&f));
    unlink(path);

    CHECK_STATUS(made__st_parse(&f, NULL, 5), MADE_E_INVAL);
    CHECK_STATUS(made__st_parse(&f, NULL, 0), MADE_E_FORMAT);
}

/* The example from the format description, word for word. */
static void test_message_example(void)
{
    made__st_file f;
    CHECK_STATUS(parse_header("{\"layers.0.kernel\":{\"dtype\":\"F32\",\"shape\":[2,3],"
                              "\"data_offsets\":[0,12]}}",
                              12, &f),
                 MADE_E_FORMAT);
    CHECK(strcmp(made_last_error(),
                 "safetensors: tensor 'layers.0.kernel': data_offsets [0, 12] span 12 bytes but "
                 "dtype F32 shape [2, 3] needs 24") == 0);
    if (strcmp(made_last_error(), "") == 0) HARNESS_FAIL_("no message");
}

static void test_header_length(void)
{
    unsigned char b[32];
    memset(b, ' ', sizeof b);
    memcpy(b + 8, "{}", 2);
    /* Files too short to hold the length. */
    for (size_t n = 0; n < 8; n++) {
        memset(b, 0, 8);
        expect_bad_bytes(b, n, "too short for the 8-byte header length", __LINE__);
    }
    static const struct {
        unsigned long long n;
        const char *msg;
    } cases[] = {
        {0, "header length 0 is too small"},
        {1, "header length 1 is too small"},
        {100ull * 1024 * 1024 + 1, "exceeds the limit of 104857600 bytes"},
        {~0ull, "header length 18446744073709551615 exceeds the limit"},
        {1ull << 63, "exceeds the limit"},
        {25, "header length 25 runs past the end of the file (24 bytes follow the length)"},
        {1000, "runs past the end of the file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int k = 0; k < 8; k++) b[k] = (unsigned char)(cases[i].n >> (8 * k));
        expect_bad_bytes(b, sizeof b, cases[i].msg, __LINE__);
    }
    /* Exactly the whole file is a header (all padding): valid, no tensors. */
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(24ull >> (8 * k));
    made__st_file f;
    CHECK_OK(made__st_parse(&f, b, sizeof b));
    CHECK_EQ_INT(f.count, 0);
    made__st_free(&f);
}

static void test_header_json(void)
{
    EXPECT_BAD("[]", 0, "header does not start with '{'");
    EXPECT_BAD("\"a\"", 0, "header does not start with '{'");
    EXPECT_BAD("12", 0, "header does not start with '{'");
    EXPECT_BAD("null", 0, "header does not start with '{'");
    EXPECT_BAD(" {}", 0, "header does not start with '{'");
    EXPECT_BAD("{\"a\":1", 0, "safetensors: header: JSON: ");
    EXPECT_BAD("{}x", 0, "safetensors: header: JSON: unexpected 'x' after the value at byte 2");
    EXPECT_BAD("{}\n\n}", 0, "unexpected '}'");
    EXPECT_BAD("{,}", 0, "expected a string key");
    EXPECT_BAD("{\"\xff\":1}", 0, "invalid UTF-8");
    /* NUL padding is not whitespace (the format pads with spaces). */
    size_t size;
    unsigned char *b = make_file("{}      ", 0, &size);
    memset(b + 10, 0, 6);
    expect_bad_bytes(b, size, "unexpected byte 0x00", __LINE__);
    free(b);
}

#define T_(name, dtype, shape, off) \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" off "}"

static void test_bad_entries(void)
{
    EXPECT_BAD("{\"a\":1}", 0, "tensor 'a': expected an object with dtype, shape and "
                               "data_offsets, found 1");
    EXPECT_BAD("{\"a\":[]}", 0, "tensor 'a': expected an object");
    EXPECT_BAD("{\"a\":\"x\"}", 0, "found a string");
    EXPECT_BAD("{" T_("", "U8", "[1]", "[0,1]") "}", 1, "a tensor has an empty name");
    EXPECT_BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, "tensor 'a': missing \"data_offsets\"");
    EXPECT_BAD("{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "tensor 'a': missing \"dtype\"");
    EXPECT_BAD("{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1, "tensor 'a': missing \"shape\"");
    EXPECT_BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":0}}", 1,
               "tensor 'a': unexpected key \"x\"");
    EXPECT_BAD("{\"a\":{}}", 0, "tensor 'a': missing \"dtype\"");
    /* Duplicates are caught by the JSON layer, decoded-escape aware. */
    EXPECT_BAD("{" T_("a", "U8", "[1]", "[0,1]") "," T_("a", "U8", "[1]", "[1,2]") "}", 2,
               "duplicate key 'a'");
    EXPECT_BAD("{" T_("a", "U8", "[1]", "[0,1]") "," T_("\\u0061", "U8", "[1]", "[1,2]") "}", 2,
               "duplicate key 'a'");
    EXPECT_BAD("{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
               1, "duplicate key 'dtype'");
    EXPECT_BAD("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate key '__metadata__'");
}

static void test_bad_dtype(void)
{
    EXPECT_BAD("{" T_("w", "F8", "[1]", "[0,1]") "}", 1,
               "tensor 'w': unknown dtype 'F8' (expected one of BOOL, U8");
    EXPECT_BAD("{" T_("w", "f32", "[1]", "[0,4]") "}", 4, "unknown dtype 'f32'");
    EXPECT_BAD("{" T_("w", "", "[1]", "[0,4]") "}", 4, "unknown dtype ''");
    EXPECT_BAD("{" T_("w", "F32 ", "[1]", "[0,4]") "}", 4, "unknown dtype 'F32 '");
    EXPECT_BAD("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "tensor 'w': dtype is 4, not a string");
    EXPECT_BAD("{\"w\":{\"dtype\":null,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "dtype is null, not a string");
}

static void test_bad_shape(void)
{
    EXPECT_BAD("{" T_("w", "U8", "[-1]", "[0,0]") "}", 0,
               "tensor 'w': shape[0] is -1; expected a non-negative integer");
    EXPECT_BAD("{" T_("w", "U8", "[2,2.5]", "[0,5]") "}", 5, "shape[1] is 2.5; expected");
    EXPECT_BAD("{" T_("w", "U8", "[1e3]", "[0,1000]") "}", 1000, "shape[0] is 1000; expected");
    EXPECT_BAD("{" T_("w", "U8", "[2.0]", "[0,2]") "}", 2, "shape[0] is 2; expected");
    EXPECT_BAD("{" T_("w", "U8", "[99999999999999999999]", "[0,0]") "}", 0, "shape[0] is 1e+20");
    EXPECT_BAD("{" T_("w", "U8", "[\"2\"]", "[0,2]") "}", 2, "shape[0] is a string");
    EXPECT_BAD("{" T_("w", "U8", "[[2]]", "[0,2]") "}", 2, "shape[0] is an array");
    EXPECT_BAD("{" T_("w", "U8", "[true]", "[0,1]") "}", 1, "shape[0] is true");
    EXPECT_BAD("{" T_("w", "U8", "2", "[0,2]") "}", 2, "tensor 'w': shape is 2, not an array");
    EXPECT_BAD("{" T_("w", "U8", "{}", "[0,2]") "}", 2, "shape is an object, not an array");
    EXPECT_BAD("{" T_("w", "U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]") "}", 1,
               "tensor 'w': shape has 9 dimensions (at most 8)");
    /* Byte sizes that overflow must not wrap around to a matching small span:
     * 2^32 * 2^32 * 4 wraps to 0 in 64 bits. */
    EXPECT_BAD("{" T_("w", "F32", "[4294967296,4294967296]", "[0,0]") "}", 0,
               "tensor 'w': shape [4294967296, 4294967296] of dtype F32 is too large");
    EXPECT_BAD("{" T_("w", "F32", "[4294967296,4294967296,4294967296]", "[0,0]") "}", 0,
               "is too large");
    EXPECT_BAD("{" T_("w", "U32", "[9223372036854775807]", "[0,0]") "}", 0, "is too large");
    EXPECT_BAD("{" T_("w", "U8", "[9223372036854775807,3]", "[0,0]") "}", 0, "is too large");
    EXPECT_BAD("{" T_("w", "U8", "[9223372036854775807,3,0]", "[0,0]") "}", 0, "is too large");
    /* Large sizes that do fit: the span check catches them. */
    EXPECT_BAD("{" T_("w", "U16", "[9223372036854775807]", "[0,0]") "}", 0,
               "needs 18446744073709551614");
    EXPECT_BAD("{" T_("w", "U8", "[9223372036854775807]", "[0,8]") "}", 8,
               "span 8 bytes but dtype U8 shape [9223372036854775807] needs 9223372036854775807");
}

static void test_bad_offsets(void)
{
    EXPECT_BAD("{" T_("w", "U8", "[4]", "[0,4,8]") "}", 4,
               "tensor 'w': data_offsets must be an array of 2 integers");
    EXPECT_BAD("{" T_("w", "U8", "[4]", "[4]") "}", 4, "must be an array of 2 integers");
    EXPECT_BAD("{" T_("w", "U8", "[0]", "[]") "}", 0, "must be an array of 2 integers");
    EXPECT_BAD("{" T_("w", "U8", "[4]", "\"0,4\"") "}", 4, "must be an array of 2 integers");
    EXPECT_BAD("{" T_("w", "U8", "[4]", "[-4,0]") "}", 4, "data_offsets[0] is -4; expected");
    EXPECT_BAD("{" T_("w", "U8", "[4]", "[0,4.0]") "}", 4, "data_offsets[1] is 4; expected");
    EXPECT_BAD("{" T_("w", "U8", "[4]", "[0,null]") "}", 4, "data_offsets[1] is null");
    EXPECT_BAD("{" T_("w", "U8", "[4]", "[8,4]") "}", 8,
               "tensor 'w': data_offsets [8, 4] end before they begin");
    EXPECT_BAD("{" T_("w", "F32", "[2]", "[0,4]") "}", 4,
               "data_offsets [0, 4] span 4 bytes but dtype F32 shape [2] needs 8");
    EXPECT_BAD("{" T_("w", "F32", "[]", "[0,8]") "}", 8, "dtype F32 shape [] needs 4");
    /* Out of range. */
    EXPECT_BAD("{" T_("w", "U8", "[8]", "[0,8]") "}", 4,
               "tensor 'w': data_offsets [0, 8] run past the end of the data section (4 bytes)");
    EXPECT_BAD("{" T_("w", "U8", "[8]", "[9223372036854775799,9223372036854775807]") "}", 8,
               "run past the end of the data section");
    /* Overlap, gaps and trailing bytes. */
    EXPECT_BAD("{" T_("a", "U8", "[8]", "[0,8]") "," T_("b", "U8", "[3]", "[4,7]") "}", 8,
               "tensor 'b': data_offsets [4, 7] overlap tensor 'a' [0, 8]");
    EXPECT_BAD("{" T_("a", "U8", "[8]", "[0,8]") "," T_("b", "U8", "[8]", "[0,8]") "}", 8,
               "overlap tensor 'a' [0, 8]");
    EXPECT_BAD("{" T_("a", "U8", "[8]", "[0,8]") "," T_("b", "U8", "[3]", "[12,15]") "}", 15,
               "tensor 'b': data_offsets [12, 15] leave a gap: bytes [8, 12) belong to no tensor");
    EXPECT_BAD("{" T_("a", "U8", "[8]", "[4,12]") "}", 12,
               "tensor 'a': data_offsets [4, 12] leave a gap: bytes [0, 4)");
    EXPECT_BAD("{" T_("a", "U8", "[8]", "[0,8]") "," T_("b", "U8", "[3]", "[8,11]") "}", 16,
               "the data section has 16 bytes but the tensors cover only 11 (5 unexplained "
               "trailing bytes)");
    EXPECT_BAD("{}", 1, "the data section has 1 bytes but the tensors cover only 0");
    EXPECT_BAD("{\"__metadata__\":{\"a\":\"b\"}}", 3, "cover only 0 (3 unexplained");
}

static void test_bad_metadata(void)
{
    EXPECT_BAD("{\"__metadata__\":{\"a\":1}}", 0,
               "safetensors: \"__metadata__\" entry 'a' is 1, not a string");
    EXPECT_BAD("{\"__metadata__\":{\"a\":\"x\",\"b\":{}}}", 0, "entry 'b' is an object");
    EXPECT_BAD("{\"__metadata__\":{\"a\":null}}", 0, "entry 'a' is null");
    EXPECT_BAD("{\"__metadata__\":{\"a\":[\"x\"]}}", 0, "entry 'a' is an array");
    EXPECT_BAD("{\"__metadata__\":[]}", 0, "\"__metadata__\" must be an object of strings, found "
                                           "an array");
    EXPECT_BAD("{\"__metadata__\":\"x\"}", 0, "must be an object of strings, found a string");
    EXPECT_BAD("{\"__metadata__\":{\"a\":\"a\",\"a\":\"b\"}}", 0, "duplicate key 'a'");
}

static void test_valid_edge_cases(void)
{
    made__st_file f;
    CHECK_OK(parse_header("{}", 0, &f));
    CHECK(f.count == 0 && f.meta_count == 0);
    made__st_free(&f);
    CHECK_OK(parse_header("{ }\t\r\n     ", 0, &f));
    made__st_free(&f);
    CHECK_OK(parse_header("{\"__metadata__\":{}}", 0, &f));
    CHECK(f.count == 0 && f.meta_count == 0);
    made__st_free(&f);

    /* Out of file order in the header: the result is sorted by offset. */
    CHECK_OK(parse_header("{" T_("b", "U8", "[3]", "[8,11]") ",\"__metadata__\":{\"k\":\"v\"}, " T_(
                              "a", "I32", "[2]", "[0,8]") "}",
                          11, &f));
    CHECK(f.count == 2 && strcmp(f.tensors[0].name, "a") == 0 &&
          strcmp(f.tensors[1].name, "b") == 0);
    if (f.count == 2) {
        CHECK(f.tensors[0].data == f.bytes + f.size - 11);
        CHECK(f.tensors[1].data == f.bytes + f.size - 3 && f.tensors[1].data[0] == 8 * 7 + 1);
    }
    CHECK(made__st_meta(&f, "k") && strcmp(made__st_meta(&f, "k"), "v") == 0);
    made__st_free(&f);

    /* Empty tensors share offsets with their neighbours; scalars are one element. */
    CHECK_OK(parse_header("{" T_("c", "I8", "[2,0]", "[4,4]") "," T_("b", "F32", "[]", "[0,4]") ","
                          T_("a", "U8", "[0]", "[0,0]") "," T_("z", "U8", "[0]", "[4,4]") "}",
                          4, &f));
    CHECK_EQ_INT(f.count, 4);
    if (f.count == 4) {
        CHECK(strcmp(f.tensors[0].name, "a") == 0 && strcmp(f.tensors[1].name, "b") == 0);
        CHECK(strcmp(f.tensors[2].name, "c") == 0 && strcmp(f.tensors[3].name, "z") == 0);
        CHECK(f.tensors[1].ndim == 0 && f.tensors[1].nbytes == 4);
    }
    made__st_free(&f);

    /* A zero dimension first makes the product 0 before anything can overflow. */
    CHECK_OK(parse_header("{" T_("w", "U8", "[0,9223372036854775807,9223372036854775807]", "[0,0]")
                              "}",
                          0, &f));
    CHECK(f.count == 1 && f.tensors[0].nbytes == 0 && f.tensors[0].ndim == 3);
    made__st_free(&f);

    /* Eight dims is the maximum; "-0" is an integer zero; escaped names decode. */
    CHECK_OK(parse_header("{" T_("w\\u00e9\\n", "BOOL", "[1,1,1,1,1,1,1,2]", "[-0,2]") "}", 2, &f));
    CHECK(f.count == 1 && f.tensors[0].ndim == 8 && strcmp(f.tensors[0].name, "w\xc3\xa9\n") == 0);
    made__st_free(&f);
}

/* Every proper prefix of a valid file is rejected cleanly. */
static void test_truncations(void)
{
    const char *path = tmp_path("trunc.safetensors");
    CHECK_OK(write_roundtrip_file(path));
    size_t size;
    unsigned char *b = slurp(path, &size);
    CHECK(b != NULL);
    if (!b) return;
    for (size_t n = 0; n < size; n++) {
        made__st_file f;
        int rc = made__st_parse(&f, b, n);
        if (rc != MADE_E_FORMAT) {
            HARNESS_FAIL_("prefix of %zu of %zu bytes: status %d (%s)", n, size, rc,
                          made_last_error());
            if (rc == MADE_OK) made__st_free(&f);
        } else if (!is_zeroed(&f)) {
            HARNESS_FAIL_("prefix of %zu bytes: file not zeroed", n);
        }
    }
    /* Trailing junk after a valid file. */
    unsigned char *longer = malloc(size + 1);
    if (!longer) abort();
    memcpy(longer, b, size);
    longer[size] = 0;
    expect_bad_bytes(longer, size + 1, "1 unexplained trailing bytes", __LINE__);
    free(longer);
    free(b);
    unlink(path);
}

/* Loaded files must be internally consistent whatever the bytes said. */
static void check_invariants(const made__st_file *f, size_t pos)
{
    const unsigned char *end = f->bytes + f->size, *p = NULL;
    size_t total = 0;
    for (size_t i = 0; i < f->count; i++) {
        const made__st_tensor *t = &f->tensors[i];
        size_t n = made__st_dtype_size(t->dtype);
        for (int k = 0; k < t->ndim; k++) n *= t->shape[k];
        if (n != t->nbytes || t->data < f->bytes + 8 || t->data > end ||
            t->nbytes > (size_t)(end - t->data) || (p && t->data != p) || !t->name[0])
            HARNESS_FAIL_("byte %zu: inconsistent tensor %zu", pos, i);
        p = t->data + t->nbytes;
        total += t->nbytes;
    }
    if (p && p != end) HARNESS_FAIL_("byte %zu: tensors do not end at the end of the file", pos);
    (void)total;
}

static void test_byte_flips(void)
{
    const char *path = tmp_path("flip.safetensors");
    CHECK_OK(write_roundtrip_file(path));
    size_t size;
    unsigned char *b = slurp(path, &size);
    CHECK(b != NULL);
    if (!b) return;
    unsigned char *m = malloc(size);
    if (!m) abort();
    uint32_t state = 2024;
    int loaded = 0, rejected = 0;
    for (size_t pos = 0; pos < size; pos++) {
        for (int k = 0; k < 12; k++) {
            static const unsigned char xors[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
            memcpy(m, b, size);
            state = state * 1664525u + 1013904223u;
            if (k < (int)sizeof xors) m[pos] ^= xors[k];
            else m[pos] = (unsigned char)(state >> 24);
            made__st_file f;
            int rc = made__st_parse(&f, m, size);
            if (rc == MADE_OK) {
                loaded++;
                check_invariants(&f, pos);
                made__st_free(&f);
            } else if (rc == MADE_E_FORMAT) {
                rejected++;
                if (!is_zeroed(&f)) HARNESS_FAIL_("byte %zu: file not zeroed", pos);
            } else {
                HARNESS_FAIL_("byte %zu set to 0x%02x: status %d (%s)", pos, m[pos], rc,
                              made_last_error());
            }
        }
    }
    CHECK(loaded > 0 && rejected > 0);
    free(m);
    free(b);
    unlink(path);
}

static void test_write_errors(void)
{
    const char *path = tmp_path("w.safetensors");
    float data[4] = {1, 2, 3, 4};
    made__st_entry e[2];
    memset(e, 0, sizeof e);
    e[0] = (made__st_entry){"w", MADE__ST_F32, 1, {4}, data};
    e[1] = (made__st_entry){"v", MADE__ST_F32, 1, {4}, data};

    /* A file already there must survive every refused write untouched. */
    CHECK_OK(made__st_write(path, e, 1, NULL, NULL, 0));
    size_t size0;
    unsigned char *before = slurp(path, &size0);

    CHECK_STATUS(made__st_write(NULL, e, 1, NULL, NULL, 0), MADE_E_INVAL);
    CHECK_STATUS(made__st_write(path, NULL, 1, NULL, NULL, 0), MADE_E_INVAL);
    CHECK_STATUS(made__st_write(path, e, 1, NULL, NULL, 1), MADE_E_INVAL);
    const char *nullkey[1] = {NULL}, *val[1] = {"v"};
    CHECK_STATUS(made__st_write(path, e, 1, nullkey, val, 1), MADE_E_INVAL);

    e[1].name = "";
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "tensor 1 has no name");
    e[1].name = NULL;
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    e[1].name = "__metadata__";
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "reserved");
    e[1].name = "w";
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "duplicate key 'w'");
    e[1].name = "bad\xff";
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "invalid UTF-8");
    e[1].name = "v";
    e[1].dtype = (made__st_dtype)13;
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "tensor 'v': invalid dtype 13");
    e[1].dtype = MADE__ST_F32;
    e[1].ndim = 9;
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    e[1].ndim = -1;
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    e[1].ndim = 3;
    e[1].shape[0] = e[1].shape[1] = e[1].shape[2] = (size_t)1 << 32;
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "overflows");
    e[1].ndim = 1;
    e[1].shape[0] = 4;
    e[1].data = NULL;
    CHECK_STATUS(made__st_write(path, e, 2, NULL, NULL, 0), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "data is NULL");
    e[1].data = data;
    const char *dupk[2] = {"k", "k"}, *dupv[2] = {"1", "2"};
    CHECK_STATUS(made__st_write(path, e, 2, dupk, dupv, 2), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "duplicate key 'k'");

    size_t size1;
    unsigned char *after = slurp(path, &size1);
    CHECK(before && after && size0 == size1 && memcmp(before, after, size0) == 0);
    free(before);
    free(after);
    CHECK_EQ_INT(count_files(".tmp."), 0);

    /* A directory that does not exist. */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.safetensors", tmpdir);
    CHECK_STATUS(made__st_write(bad, e, 2, NULL, NULL, 0), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), bad);

    /* Both entries written now, zero-size data may be NULL. */
    e[1].shape[0] = 0;
    e[1].data = NULL;
    CHECK_OK(made__st_write(path, e, 2, NULL, NULL, 0));
    made__st_file f;
    CHECK_OK(made__st_read(&f, path));
    CHECK(f.count == 2 && made__st_find(&f, "v") && made__st_find(&f, "v")->nbytes == 0);
    made__st_free(&f);
    unlink(path);
}

/* Fail the k-th allocation for every k in parse, read and write. */
static void test_alloc_failures(void)
{
    const char *path = tmp_path("alloc.safetensors");
    CHECK_OK(write_roundtrip_file(path));
    size_t size;
    unsigned char *b = slurp(path, &size);
    CHECK(b != NULL);
    if (!b) return;
    int ok = 0;
    for (int use_read = 0; use_read < 2; use_read++) {
        ok = 0;
        for (long k = 1; k < 100000 && !ok; k++) {
            made__st_file f;
            made__alloc_fail_at(k);
            int rc = use_read ? made__st_read(&f, path) : made__st_parse(&f, b, size);
            made__alloc_fail_at(0);
            if (rc == MADE_OK) {
                ok = 1;
                CHECK(k > 10); /* the file needs many allocations */
                check_roundtrip(&f);
                made__st_free(&f);
            } else {
                CHECK_EQ_INT(rc, MADE_E_NOMEM);
                CHECK(is_zeroed(&f));
            }
        }
        CHECK(ok);
    }
    free(b);

    const char *out = tmp_path("alloc_out.safetensors");
    ok = 0;
    for (long k = 1; k < 100000 && !ok; k++) {
        unlink(out);
        made__alloc_fail_at(k);
        int rc = write_roundtrip_file(out);
        made__alloc_fail_at(0);
        if (rc == MADE_OK) {
            ok = 1;
        } else {
            CHECK_EQ_INT(rc, MADE_E_NOMEM);
            CHECK(access(out, F_OK) != 0);
            CHECK_EQ_INT(count_files(".tmp."), 0);
        }
    }
    CHECK(ok);
    made__st_file f;
    CHECK_OK(made__st_read(&f, out));
    check_roundtrip(&f);
    made__st_free(&f);
    unlink(out);
    unlink(path);
}

int main(void)
{
    if (tmp_init("test-st")) return 1;
    RUN(test_dtypes);
    RUN(test_roundtrip);
    RUN(test_read_errors);
    RUN(test_message_example);
    RUN(test_header_length);
    RUN(test_header_json);
    RUN(test_bad_entries);
    RUN(test_bad_dtype);
    RUN(test_bad_shape);
    RUN(test_bad_offsets);
    RUN(test_bad_metadata);
    RUN(test_valid_edge_cases);
    RUN(test_truncations);
    RUN(test_byte_flips);
    RUN(test_write_errors);
    RUN(test_alloc_failures);
    tmp_cleanup();
    return harness_summary("test_safetensors");
}
