/* test_csv.c - the CSV reader: accepted layouts, the header rule, and every
 * rejection with its row and column. */
#include <dirent.h>
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "harness.h"
#include "made.h"
#include "util.h"

#define COUNT_OF(x) (sizeof(x) / sizeof((x)[0]))

static const char *write_text(const char *name, const char *text)
{
    const char *path = tmp_path(name);
    if (spit(path, text, strlen(text)) != 0) HARNESS_FAIL_("cannot write %s", path);
    return path;
}

/* Reads text as CSV and checks shape and values. */
static void expect_table(const char *text, size_t rows, size_t cols, const float *want)
{
    const char *path = write_text("ok.csv", text);
    made_array a;
    int rc = made_csv_read(&a, path);
    if (rc != MADE_OK) {
        HARNESS_FAIL_("\"%s\" -> %d (%s)", text, rc, made_last_error());
        return;
    }
    CHECK_EQ_INT(a.ndim, 2);
    CHECK_EQ_INT(a.shape[0], rows);
    CHECK_EQ_INT(a.shape[1], cols);
    if (a.shape[0] == rows && a.shape[1] == cols)
        for (size_t i = 0; i < rows * cols; i++)
            if (memcmp(&a.data[i], &want[i], sizeof(float)) != 0)
                HARNESS_FAIL_("\"%s\"[%zu]: %.9g, want %.9g", text, i, a.data[i], want[i]);
    made_array_free(&a);
}

/* Expects the text to be rejected with status want and a message containing
 * needle, prefixed by the path. */
static void expect_error(const char *text, int want, const char *needle)
{
    const char *path = write_text("bad.csv", text);
    made_array a;
    memset(&a, 0x5a, sizeof a);
    int rc = made_csv_read(&a, path);
    if (rc != want || !strstr(made_last_error(), needle))
        HARNESS_FAIL_("\"%s\" -> %d \"%s\", want %d with \"%s\"", text, rc, made_last_error(),
                      want, needle);
    CHECK_STR_CONTAINS(made_last_error(), path);
    CHECK(a.data == NULL && a.ndim == 0);
    if (rc == MADE_OK) made_array_free(&a);
}

static void test_plain(void)
{
    const float m23[6] = {1, 2, 3, 4, 5, 6};
    expect_table("1,2,3\n4,5,6\n", 2, 3, m23);
    expect_table("1,2,3\n4,5,6", 2, 3, m23);             /* no final newline */
    expect_table("1,2,3\r\n4,5,6\r\n", 2, 3, m23);       /* CRLF */
    expect_table("1,2,3\r\n4,5,6", 2, 3, m23);
    expect_table("1,2,3\n4,5,6\n\n  \n\r\n\t\n", 2, 3, m23); /* blank trailing lines */
    expect_table(" 1 ,\t2\t, 3\n  4,5 ,6  \n", 2, 3, m23);  /* whitespace around cells */
    expect_table("\xEF\xBB\xBF" "1,2,3\n4,5,6\n", 2, 3, m23); /* UTF-8 BOM */
    expect_table("\"1\",\"2\", \"3\" \n4,\" 5 \",6\n", 2, 3, m23); /* quoted numbers */
    const float one[1] = {42};
    expect_table("42", 1, 1, one);
    const float col[3] = {1, -2, 3};
    expect_table("1\n-2\n3\n", 3, 1, col);
}

static void test_numbers(void)
{
    const float v[8] = {-1500.0f, 2.0f, 16.0f, 0.5f, 0.1f, FLT_MAX, 0.0f, -0.0f};
    expect_table("-1.5e3,+2,0x10,.5,0.1,3.4028235e38,1e-50,-0\n", 1, 8, v);
    /* Decimal text is rounded to float32 once, correctly. */
    const float w[3] = {0.333333343f, 16777216.0f, 1.40129846e-45f};
    expect_table("0.3333333333333333333333,16777217,1e-45", 1, 3, w);
}

static void test_header(void)
{
    const float m23[6] = {1, 2, 3, 4, 5, 6};
    expect_table("a,b,c\n1,2,3\n4,5,6\n", 2, 3, m23);
    expect_table("a,b,c\r\n1,2,3\r\n4,5,6", 2, 3, m23);
    expect_table("\"x, first\",\"y \"\"quoted\"\"\",z\n1,2,3\n4,5,6\n", 2, 3, m23);
    expect_table(",b,c\n1,2,3\n4,5,6\n", 2, 3, m23); /* pandas' unnamed index column */
    expect_table("\xEF\xBB\xBFx,y,z\n1,2,3\n4,5,6\n", 2, 3, m23);
    /* Only row 1 can be a header. */
    expect_error("a,b\nc,d\n1,2\n", MADE_E_FORMAT, "row 2, column 1: 'c' is not a number");
    /* A first row mixing numbers and text is data, so its bad cell is reported
     * rather than the row being dropped as a header. */
    expect_error("1,N/A,3\n4,5,6\n", MADE_E_FORMAT, "row 1, column 2: missing value 'N/A'");
    expect_error("1,x,3\n4,5,6\n", MADE_E_FORMAT, "row 1, column 2: 'x' is not a number");
    /* The header must have as many columns as the data. */
    expect_error("a,b\n1,2,3\n", MADE_E_FORMAT, "row 2 has 3 columns, but the header (row 1) has 2");
}

static void test_empty(void)
{
    expect_error("", MADE_E_FORMAT, "no data rows");
    expect_error("\n\n  \r\n", MADE_E_FORMAT, "no data rows");
    expect_error("a,b,c\n", MADE_E_FORMAT, "no data rows after the header");
    expect_error("a,b,c", MADE_E_FORMAT, "no data rows");
    expect_error("\xEF\xBB\xBF", MADE_E_FORMAT, "no data rows");
}

static void test_ragged(void)
{
    expect_error("1,2,3\n4,5,6\n7,8\n", MADE_E_FORMAT, "row 3 has 2 columns, expected 3");
    expect_error("a,b\n1,2\n3\n", MADE_E_FORMAT, "row 3 has 1 column, expected 2");
    expect_error("1,2\n3,4\n5,6,7\n", MADE_E_FORMAT, "row 3 has 3 columns, expected 2");
    /* A trailing comma is one more (empty) column. */
    expect_error("1,2\n3,4,\n", MADE_E_FORMAT, "row 2 has 3 columns, expected 2");
    /* Row numbers count lines as an editor does, header and CRLF included. */
    expect_error("h1,h2,h3,h4\r\n1,2,3,4\r\n1,2,3,4\r\n1,2,3,4\r\n1,2,3,4\r\n1,2,3,4\r\n1,2,3\r\n",
                 MADE_E_FORMAT, "row 7 has 3 columns, expected 4");
}

static void test_bad_cells(void)
{
    expect_error("1,2\n3,NA\n", MADE_E_FORMAT, "row 2, column 2: missing value 'NA'");
    expect_error("1,,3\n", MADE_E_FORMAT, "row 1, column 2: empty cell");
    expect_error("1,2,3\n4,5, \n", MADE_E_FORMAT, "row 2, column 3: empty cell");
    expect_error("1,2,3\n4,\"\",6\n", MADE_E_FORMAT, "row 2, column 2: empty cell");
    expect_error("x,y,z\n1,2,3\n4,5,abc\n", MADE_E_FORMAT, "row 3, column 3: 'abc' is not a number");
    expect_error("1,2\n1.5.2,3\n", MADE_E_FORMAT, "row 2, column 1: '1.5.2' is not a number");
    expect_error("1 2,3\n", MADE_E_FORMAT, "row 1, column 1: '1 2' is not a number");
    expect_error("0,1\n1e,2\n", MADE_E_FORMAT, "'1e' is not a number");
    expect_error("0,1\n2,1,5\n", MADE_E_FORMAT, "row 2 has 3 columns");
    expect_error("1;2;3\n4;5;6\n", MADE_E_FORMAT, "row 2, column 1: '4;5;6' is not a number");
    expect_error("1,2\n3,4\n\n5,6\n", MADE_E_FORMAT, "row 3 is blank");
    expect_error("\n1,2\n", MADE_E_FORMAT, "row 1 is blank");
    expect_error("1,\"2\n3,4\n", MADE_E_FORMAT, "row 1, column 2: quote is not closed");
    expect_error("1,\"2\"x\n", MADE_E_FORMAT, "row 1, column 2: text after the closing quote");
    static const char nul[] = "1,2\n3,\0\n";
    const char *path = tmp_path("nul.csv");
    CHECK(spit(path, nul, sizeof nul - 1) == 0);
    made_array a;
    CHECK_STATUS(made_csv_read(&a, path), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "row 2 contains a NUL byte");

    /* NaN and Inf spellings are non-finite, with row and column. */
    expect_error("1,2\n3,NaN\n", MADE_E_NONFINITE, "row 2, column 2: 'NaN' is not finite");
    expect_error("1,2\nnan,4\n", MADE_E_NONFINITE, "row 2, column 1: 'nan' is not finite");
    expect_error("1,inf\n", MADE_E_NONFINITE, "row 1, column 2: 'inf' is not finite");
    expect_error("1,2\n3,-Infinity\n", MADE_E_NONFINITE, "row 2, column 2: '-Infinity'");
    expect_error("1,2\n3,1e39\n", MADE_E_NONFINITE, "'1e39' is too large for float32");
    expect_error("1,2\n-1e400,0\n", MADE_E_NONFINITE, "row 2, column 1");

    /* The documented example: row 12, column 3. */
    char text[512] = "a,b,c,d\n";
    for (int r = 2; r < 12; r++) strcat(text, "1,2,3,4\n");
    strcat(text, "1,2,,4\n");
    expect_error(text, MADE_E_FORMAT, "bad.csv: row 12, column 3: empty cell");

    /* Long cells are shown shortened. */
    char longcell[200];
    memset(longcell, 'z', sizeof longcell);
    memcpy(longcell, "1,", 2);
    longcell[sizeof longcell - 1] = '\0';
    expect_error(longcell, MADE_E_FORMAT, "zzz...' is not a number");
}

/* Many rows: the value buffer grows, and every value lands in its place. */
static void test_large(void)
{
    const size_t rows = 3000, cols = 7;
    size_t cap = rows * cols * 12 + 64, len = 0;
    char *text = malloc(cap);
    float *want = malloc(rows * cols * sizeof(float));
    len += (size_t)snprintf(text + len, cap - len, "c0,c1,c2,c3,c4,c5,c6\n");
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            int v = (int)(r * cols + c) - 5000;
            want[r * cols + c] = (float)v / 4.0f;
            len += (size_t)snprintf(text + len, cap - len, "%g%s", v / 4.0, c + 1 < cols ? "," : "\n");
        }
    const char *path = tmp_path("large.csv");
    CHECK(spit(path, text, len) == 0);
    made_array a;
    CHECK_OK(made_csv_read(&a, path));
    CHECK_EQ_INT(a.shape[0], rows);
    CHECK_EQ_INT(a.shape[1], cols);
    if (a.data) CHECK(memcmp(a.data, want, rows * cols * sizeof(float)) == 0);
    made_array_free(&a);

    /* made_data_read: CSV by extension and for any other text file. */
    CHECK_OK(made_data_read(&a, path));
    CHECK_EQ_INT(a.shape[0], rows);
    made_array_free(&a);
    const char *txt = tmp_path("large.txt");
    CHECK(spit(txt, text, len) == 0);
    CHECK_OK(made_data_read(&a, txt));
    CHECK_EQ_INT(a.shape[1], cols);
    made_array_free(&a);
    free(text);
    free(want);
}

static void test_errors(void)
{
    made_array a;
    CHECK_STATUS(made_csv_read(&a, tmp_path("missing.csv")), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), "missing.csv");
    CHECK_STATUS(made_csv_read(&a, tmpdir), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), "directory");
    CHECK_STATUS(made_data_read(&a, tmp_path("missing.csv")), MADE_E_IO);
    CHECK_STATUS(made_csv_read(NULL, "x.csv"), MADE_E_INVAL);
    CHECK_STATUS(made_csv_read(&a, NULL), MADE_E_INVAL);
    CHECK_STATUS(made_data_read(&a, NULL), MADE_E_INVAL);
    /* made_data_read on a CSV file gives the CSV reader's messages. */
    const char *path = write_text("data.csv", "1,2\n3\n");
    CHECK_STATUS(made_data_read(&a, path), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "data.csv: row 2 has 1 column, expected 2");
}

/* Failing the k-th allocation for every k: MADE_E_NOMEM, no leak, then success. */
/* made_data_write picks the format by name and lays CSV lines out by row_axes;
 * the expected text is written out here, not derived from the writer. */
static void read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

static void test_data_write(void)
{
    float v[6] = {1, 2, 3, 4, 5, 6.5f};
    size_t shape[3] = {2, 3};
    made_array a = {v, 2, {2, 3}};
    char buf[256];
    CHECK_OK(made_data_write(&a, tmp_path("w1.csv"), 1));
    read_text(tmp_path("w1.csv"), buf, sizeof buf);
    CHECK(strcmp(buf, "1,2,3\n4,5,6.5\n") == 0);
    CHECK_OK(made_data_write(&a, tmp_path("w0.csv"), 0));
    read_text(tmp_path("w0.csv"), buf, sizeof buf);
    CHECK(strcmp(buf, "1,2,3,4,5,6.5\n") == 0);
    made_array b = {v, 1, {3}}; /* [3] with one line per entry */
    CHECK_OK(made_data_write(&b, tmp_path("w2.csv"), 1));
    read_text(tmp_path("w2.csv"), buf, sizeof buf);
    CHECK(strcmp(buf, "1\n2\n3\n") == 0);
    /* Anything else is .npy, with the array's own shape. */
    made_array r = {0};
    CHECK_OK(made_data_write(&a, tmp_path("w.npy"), 0));
    CHECK_OK(made_npy_read(&r, tmp_path("w.npy")));
    CHECK_EQ_INT(r.ndim, 2);
    CHECK_EQ_INT(r.shape[0], shape[0]);
    CHECK_EQ_INT(r.shape[1], shape[1]);
    CHECK(r.data && r.data[5] == 6.5f);
    made_array_free(&r);
    CHECK_STATUS(made_data_write(&a, tmp_path("w3.csv"), 2), MADE_E_INVAL);
    CHECK_STATUS(made_data_write(NULL, tmp_path("w3.csv"), 0), MADE_E_INVAL);
}

static void test_alloc_failures(void)
{
    char text[4096] = "a,b,c\n";
    for (int r = 0; r < 400; r++) {
        char line[32];
        snprintf(line, sizeof line, "%d,%d,%d\n", r, r + 1, r + 2);
        if (strlen(text) + strlen(line) < sizeof text) strcat(text, line);
    }
    const char *path = write_text("alloc.csv", text);
    int succeeded = 0;
    for (long k = 1; k < 100 && !succeeded; k++) {
        made__alloc_fail_at(k);
        made_array a;
        int rc = made_csv_read(&a, path);
        made__alloc_fail_at(0);
        if (rc == MADE_OK) {
            succeeded = 1;
            CHECK_EQ_INT(a.shape[1], 3);
            made_array_free(&a);
        } else {
            CHECK_EQ_INT(rc, MADE_E_NOMEM);
            CHECK_STR_CONTAINS(made_last_error(), path);
            CHECK(a.data == NULL);
        }
    }
    CHECK(succeeded);
}

/* Random text from the characters that matter to the parser: any outcome but a
 * crash, a leak or an undocumented status is fine. */
static void test_fuzz(void)
{
    static const char alphabet[] = "0123456789,,,..--+eE\n\n\r \t\"\"naNAif x";
    const char *path = tmp_path("fuzz.csv");
    uint32_t x = 88172645u;
    char text[128];
    for (int iter = 0; iter < 3000; iter++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
        size_t n = x % sizeof text;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            text[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        CHECK(spit(path, text, n) == 0);
        made_array a;
        int rc = made_csv_read(&a, path);
        if (rc != MADE_OK && rc != MADE_E_FORMAT && rc != MADE_E_NONFINITE)
            HARNESS_FAIL_("iteration %d: status %d (%s)", iter, rc, made_last_error());
        if (rc == MADE_OK) CHECK(a.ndim == 2 && made_array_size(&a) > 0);
        made_array_free(&a);
    }
}

int main(void)
{
    if (tmp_init("test-csv")) return 1;
    RUN(test_plain);
    RUN(test_numbers);
    RUN(test_header);
    RUN(test_empty);
    RUN(test_ragged);
    RUN(test_bad_cells);
    RUN(test_large);
    RUN(test_errors);
    RUN(test_data_write);
    RUN(test_alloc_failures);
    RUN(test_fuzz);
    tmp_cleanup();
    return harness_summary("test_csv");
}
