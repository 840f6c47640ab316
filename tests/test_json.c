/* test_json.c - the strict JSON parser: every kind of value, every rejection,
 * truncations, mutations and allocation failures. Inputs are parsed from
 * exact-size heap copies so that AddressSanitizer catches any read past len. */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "harness.h"
#include "io/buf.h"
#include "io/json.h"

/* Parses s[0..n) from a heap block of exactly n bytes. */
static int parse_exact(const char *s, size_t n, made__json **out)
{
    char *copy = malloc(n ? n : 1);
    if (!copy) abort();
    memcpy(copy, s, n);
    int rc = made__json_parse(copy, n, out);
    free(copy);
    return rc;
}

static int parse(const char *s, made__json **out) { return parse_exact(s, strlen(s), out); }

static void test_literals(void)
{
    made__json *v = NULL;
    CHECK_OK(parse("null", &v));
    CHECK(v && v->type == MADE__JSON_NULL);
    made__json_free(v);
    CHECK_OK(parse(" true ", &v));
    CHECK(v && v->type == MADE__JSON_BOOL && v->boolean == 1);
    made__json_free(v);
    CHECK_OK(parse("\t\r\nfalse\n", &v));
    CHECK(v && v->type == MADE__JSON_BOOL && v->boolean == 0);
    made__json_free(v);
    made__json_free(NULL);
}

static void test_numbers(void)
{
    static const struct {
        const char *text;
        double value;
        int is_integer;
        long long integer;
    } cases[] = {
        {"0", 0, 1, 0},
        {"-0", 0, 1, 0},
        {"7", 7, 1, 7},
        {"-45", -45, 1, -45},
        {"123456789", 123456789, 1, 123456789},
        {"1.5", 1.5, 0, 0},
        {"-0.25", -0.25, 0, 0},
        {"1e3", 1000, 0, 0},
        {"1E+2", 100, 0, 0},
        {"25e-1", 2.5, 0, 0},
        {"-1.25e-3", -1.25e-3, 0, 0},
        {"0.0", 0, 0, 0},
        {"0e0", 0, 0, 0},
        {"9223372036854775807", 9223372036854775807.0, 1, INT64_MAX},
        {"-9223372036854775808", -9223372036854775808.0, 1, INT64_MIN},
        {"9223372036854775808", 9223372036854775808.0, 0, 0}, /* does not fit */
        {"-9223372036854775809", -9223372036854775809.0, 0, 0},
        {"1e-400", 0, 0, 0}, /* underflow is accepted */
        {"1.7976931348623157e308", 1.7976931348623157e308, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        made__json *v = NULL;
        CHECK_OK(parse(cases[i].text, &v));
        if (!v) continue;
        CHECK_EQ_INT(v->type, MADE__JSON_NUMBER);
        CHECK(v->number == cases[i].value);
        CHECK_EQ_INT(v->is_integer, cases[i].is_integer);
        if (cases[i].is_integer) CHECK_EQ_INT(v->integer, cases[i].integer);
        made__json_free(v);
    }
    made__json *v = NULL;
    CHECK_OK(parse("-0", &v));
    CHECK(v && signbit(v->number));
    made__json_free(v);
    /* A long number goes through a heap copy rather than the stack buffer. */
    char longnum[400];
    memset(longnum, '1', sizeof longnum - 1);
    longnum[sizeof longnum - 1] = '\0';
    longnum[1] = '.';
    CHECK_OK(parse(longnum, &v));
    CHECK(v && v->type == MADE__JSON_NUMBER && fabs(v->number - 1.1111111111) < 1e-9);
    made__json_free(v);
}

static void test_strings(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"\"\"", ""},
        {"\"abc\"", "abc"},
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t"},
        {"\"\\u0041\\u00e9\\u00E9\"", "A\xc3\xa9\xc3\xa9"},
        {"\"\\u20ac\"", "\xe2\x82\xac"},
        {"\"\\u07ff\\u0800\\uffff\"", "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"},
        {"\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf"},
        {"\"\\u0001\"", "\x01"},
        {"\"raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f\"", "raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f"},
        {"\"a'b\"", "a'b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        made__json *v = NULL;
        CHECK_OK(parse(cases[i].text, &v));
        if (!v) continue;
        CHECK_EQ_INT(v->type, MADE__JSON_STRING);
        if (strcmp(v->string, cases[i].want) != 0)
            HARNESS_FAIL_("string %s decoded wrongly", cases[i].text);
        made__json_free(v);
    }
}

static void test_containers(void)
{
    const char *doc =
        " { \"a\" : [1, 2.5, \"x\", true, false, null, [], {}, [[[]]]],\n"
        "   \"b\":{\"c\":{\"d\":\"e\"}}, \"\":0, \"\\u00e9\":-1 } ";
    made__json *v = NULL;
    CHECK_OK(parse(doc, &v));
    if (!v) return;
    CHECK_EQ_INT(v->type, MADE__JSON_OBJECT);
    CHECK_EQ_INT(v->count, 4);
    CHECK(strcmp(v->keys[0], "a") == 0 && strcmp(v->keys[1], "b") == 0);
    CHECK(strcmp(v->keys[2], "") == 0 && strcmp(v->keys[3], "\xc3\xa9") == 0);
    const made__json *a = made__json_get(v, "a");
    CHECK(a && a->type == MADE__JSON_ARRAY && a->count == 9);
    if (a && a->count == 9) {
        CHECK(a->items[0].is_integer && a->items[0].integer == 1);
        CHECK(a->items[1].number == 2.5);
        CHECK(strcmp(a->items[2].string, "x") == 0);
        CHECK(a->items[3].type == MADE__JSON_BOOL && a->items[3].boolean);
        CHECK(a->items[4].type == MADE__JSON_BOOL && !a->items[4].boolean);
        CHECK(a->items[5].type == MADE__JSON_NULL);
        CHECK(a->items[6].type == MADE__JSON_ARRAY && a->items[6].count == 0);
        CHECK(a->items[7].type == MADE__JSON_OBJECT && a->items[7].count == 0);
        CHECK(a->items[8].items[0].items[0].type == MADE__JSON_ARRAY);
    }
    const made__json *d = made__json_get(made__json_get(made__json_get(v, "b"), "c"), "d");
    CHECK(d && d->type == MADE__JSON_STRING && strcmp(d->string, "e") == 0);
    CHECK(made__json_get(v, "missing") == NULL);
    CHECK(made__json_get(a, "a") == NULL); /* not an object */
    CHECK(made__json_get(NULL, "a") == NULL);
    CHECK(made__json_get(v, "")->integer == 0);
    made__json_free(v);

    /* Many keys: the duplicate check's hash set has to grow several times. */
    made__buf b;
    made__buf_init(&b);
    made__buf_append(&b, "{", 1);
    for (int i = 0; i < 5000; i++) made__buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    made__buf_append(&b, "}", 1);
    CHECK(!b.failed);
    CHECK_OK(parse_exact(b.data, b.len, &v));
    CHECK(v && v->count == 5000);
    CHECK(v && made__json_get(v, "k4321") && made__json_get(v, "k4321")->integer == 4321);
    made__json_free(v);
    /* ... and it still sees a duplicate at the very end. */
    b.len--;
    made__buf_append(&b, ",\"k17\":0}", 9);
    CHECK_STATUS(parse_exact(b.data, b.len, &v), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "duplicate key 'k17'");
    made__buf_free(&b);
}

/* Each must fail with MADE_E_FORMAT and a "JSON: ... at byte N" message. */
static void test_rejects(void)
{
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
        const char *msg; /* expected part of the message */
    } cases[] = {
        {"", 0, "expected a value, found end of input at byte 0"},
        {"   ", 0, "at byte 3"},
        {"[", 0, "end of input"},
        {"]", 0, "expected a value"},
        {"{", 0, "expected a string key"},
        {"}", 0, "expected a value"},
        {"[1,]", 0, "expected a value, found ']' at byte 3"},
        {"[,1]", 0, "at byte 1"},
        {"[1 2]", 0, "expected ',' or ']' in array, found '2' at byte 3"},
        {"[1;2]", 0, "expected ',' or ']'"},
        {"{\"a\":1,}", 0, "expected a string key, found '}' at byte 7"},
        {"{\"a\"}", 0, "expected ':'"},
        {"{\"a\" 1}", 0, "expected ':'"},
        {"{\"a\":}", 0, "expected a value"},
        {"{\"a\":1 \"b\":2}", 0, "expected ',' or '}'"},
        {"{1:2}", 0, "expected a string key"},
        {"{'a':1}", 0, "expected a string key"},
        {"{a:1}", 0, "expected a string key"},
        {"{\"a\":1,\"a\":2}", 0, "duplicate key 'a' at byte 7"},
        {"{\"a\":1,\"\\u0061\":2}", 0, "duplicate key 'a'"},
        {"{\"x\":{\"a\":1,\"b\":2,\"a\":3}}", 0, "duplicate key 'a' at byte 18"},
        {"tru", 0, "expected a value"},
        {"nul", 0, "expected a value"},
        {"fals", 0, "expected a value"},
        {"True", 0, "expected a value"},
        {"NULL", 0, "expected a value"},
        {"truex", 0, "unexpected 'x' after the value at byte 4"},
        {"01", 0, "leading zero at byte 0"},
        {"-01", 0, "leading zero"},
        {"00", 0, "leading zero"},
        {"1.", 0, "expected a digit after '.', found end of input at byte 2"},
        {"1.e3", 0, "expected a digit after '.'"},
        {".5", 0, "expected a value, found '.'"},
        {"-", 0, "expected a digit, found end of input at byte 1"},
        {"-a", 0, "expected a digit"},
        {"- 1", 0, "expected a digit"},
        {"+1", 0, "expected a value, found '+'"},
        {"1e", 0, "expected a digit in the exponent"},
        {"1e+", 0, "expected a digit in the exponent"},
        {"1E-x", 0, "expected a digit in the exponent"},
        {"0x10", 0, "unexpected 'x' after the value"},
        {"1.5.2", 0, "unexpected '.'"},
        {"Infinity", 0, "expected a value"},
        {"-Infinity", 0, "expected a digit"},
        {"NaN", 0, "expected a value"},
        {"1e999", 0, "number out of range at byte 0"},
        {"-1e400", 0, "number out of range"},
        {"\"abc", 0, "unterminated string at byte 0"},
        {"\"\\", 0, "unterminated string"},
        {"\"\\\"", 0, "unterminated string"},
        {"\"\\x\"", 0, "invalid escape '\\' followed by 'x' at byte 1"},
        {"\"\\a\"", 0, "invalid escape"},
        {"\"\\'\"", 0, "invalid escape"},
        {"\"\\U0041\"", 0, "invalid escape"},
        {"\"\\u12\"", 0, "invalid \\u escape"},
        {"\"\\u12G4\"", 0, "invalid \\u escape"},
        {"\"\\u 123\"", 0, "invalid \\u escape"},
        {"\"\\ud800\"", 0, "high surrogate \\ud800 not followed by a low surrogate"},
        {"\"\\ud800x\"", 0, "high surrogate"},
        {"\"\\ud800\\u0041\"", 0, "high surrogate"},
        {"\"\\ud800\\ud800\"", 0, "high surrogate"},
        {"\"\\ud800\\n\"", 0, "high surrogate"},
        {"\"\\udc00\"", 0, "lone low surrogate"},
        {"\"\\ude00\\ud83d\"", 0, "lone low surrogate"},
        {"\"\\u0000\"", 0, "\\u0000 not allowed"},
        {"\"a\x01" "b\"", 0, "control character 0x01 in string (must be escaped) at byte 2"},
        {"\"tab\there\"", 0, "control character 0x09"},
        {"\"new\nline\"", 0, "control character 0x0a"},
        {"\"nul\0byte\"", 10, "control character 0x00"},
        {"\"\x80\"", 0, "invalid UTF-8"},
        {"\"\xff\"", 0, "invalid UTF-8"},
        {"\"\xc0\xaf\"", 0, "invalid UTF-8"},          /* overlong '/' */
        {"\"\xe0\x80\xaf\"", 0, "invalid UTF-8"},      /* overlong */
        {"\"\xed\xa0\x80\"", 0, "invalid UTF-8"},      /* surrogate in UTF-8 */
        {"\"\xf4\x90\x80\x80\"", 0, "invalid UTF-8"},  /* above U+10FFFF */
        {"\"\xe2\x82\"", 0, "invalid UTF-8"},          /* truncated sequence */
        {"\"\xc3\"", 0, "invalid UTF-8"},
        {"\xef\xbb\xbf{}", 0, "expected a value, found byte 0xef"}, /* BOM */
        {"1 2", 0, "unexpected '2' after the value at byte 2"},
        {"[] x", 0, "unexpected 'x'"},
        {"{}}", 0, "unexpected '}'"},
        {"{}\0", 3, "unexpected byte 0x00"},
        {"[1]\x0b", 0, "unexpected byte 0x0b"},
        {"/* c */ 1", 0, "expected a value"},
        {"[1] // c", 0, "unexpected '/'"},
        {"\x0c" "1", 0, "expected a value, found byte 0x0c"}, /* form feed is not whitespace */
        {"[\"a\" \"b\"]", 0, "expected ',' or ']'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        made__json *v = (made__json *)&v; /* must be reset to NULL */
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].text);
        int rc = parse_exact(cases[i].text, n, &v);
        if (rc != MADE_E_FORMAT) {
            HARNESS_FAIL_("case %zu (%s): status %d, want MADE_E_FORMAT", i, cases[i].text, rc);
            if (rc == MADE_OK) made__json_free(v);
            continue;
        }
        CHECK(v == NULL);
        const char *msg = made_last_error();
        if (strncmp(msg, "JSON: ", 6) != 0 || !strstr(msg, " at byte ") ||
            !strstr(msg, cases[i].msg))
            HARNESS_FAIL_("case %zu (%s): message \"%s\" lacks \"%s\"", i, cases[i].text, msg,
                          cases[i].msg);
    }
    /* NULL text is an argument error unless it is empty. */
    made__json *v = NULL;
    CHECK_STATUS(made__json_parse(NULL, 3, &v), MADE_E_INVAL);
    CHECK_STATUS(made__json_parse(NULL, 0, &v), MADE_E_FORMAT);
}

/* Only the first len bytes count: whatever follows them is never read. */
static void test_length_bound(void)
{
    made__json *v = NULL;
    CHECK_OK(made__json_parse("[1,2]garbage", 5, &v));
    CHECK(v && v->count == 2);
    made__json_free(v);
    CHECK_OK(made__json_parse("12345", 2, &v));
    CHECK(v && v->integer == 12);
    made__json_free(v);
    CHECK_OK(made__json_parse("\"ab\"cd", 4, &v));
    CHECK(v && strcmp(v->string, "ab") == 0);
    made__json_free(v);
    CHECK_OK(made__json_parse("truefalse", 4, &v));
    made__json_free(v);
    CHECK_STATUS(made__json_parse("\"ab\"", 3, &v), MADE_E_FORMAT);
    CHECK_STATUS(made__json_parse("true", 3, &v), MADE_E_FORMAT);
    CHECK_STATUS(made__json_parse("1.5", 2, &v), MADE_E_FORMAT);
}

static void test_depth(void)
{
    char buf[2 * 70 + 1];
    made__json *v = NULL;
    for (int depth = 63; depth <= 66; depth++) {
        int n = 0;
        for (int i = 0; i < depth; i++) buf[n++] = '[';
        for (int i = 0; i < depth; i++) buf[n++] = ']';
        int rc = parse_exact(buf, (size_t)n, &v);
        if (depth <= 64) {
            CHECK_EQ_INT(rc, MADE_OK);
            made__json_free(v);
        } else {
            CHECK_EQ_INT(rc, MADE_E_FORMAT);
            CHECK_STR_CONTAINS(made_last_error(), "nesting deeper than 64 at byte 64");
        }
    }
    /* Objects count the same way, mixed with arrays. */
    made__buf b;
    made__buf_init(&b);
    for (int i = 0; i < 65; i++) made__buf_append(&b, i % 2 ? "[" : "{\"k\":", i % 2 ? 1 : 5);
    made__buf_append(&b, "0", 1);
    for (int i = 64; i >= 0; i--) made__buf_append(&b, i % 2 ? "]" : "}", 1);
    CHECK_STATUS(parse_exact(b.data, b.len, &v), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "nesting deeper than 64");
    made__buf_free(&b);

    /* A depth bomb: a million '[' must fail at the limit, not blow the stack. */
    size_t n = 1000000;
    char *bomb = malloc(n);
    if (!bomb) abort();
    memset(bomb, '[', n);
    CHECK_STATUS(made__json_parse(bomb, n, &v), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "nesting deeper than 64");
    for (size_t i = 0; i < n; i += 5) memcpy(bomb + i, "{\"a\":", 5);
    CHECK_STATUS(made__json_parse(bomb, n, &v), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "nesting deeper than 64");
    free(bomb);
}

/* A document with every construct; no proper prefix of it is valid JSON. */
static const char full_doc[] =
    "{\"name\":\"layers.0.kernel\",\"esc\":\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\","
    "\"utf8\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\"n\":[0,-0,12,-3.5e-2,1E+3,0.25],"
    "\"lit\":[true,false,null],\"nest\":{\"a\":[{},[],{\"b\":[[1]]}]} , \"e\" : \"\" }";

static void test_truncations(void)
{
    size_t len = sizeof full_doc - 1;
    made__json *v = NULL;
    CHECK_OK(parse_exact(full_doc, len, &v));
    CHECK(v && v->count == 7);
    made__json_free(v);
    for (size_t n = 0; n < len; n++) {
        v = NULL;
        int rc = parse_exact(full_doc, n, &v);
        if (rc != MADE_E_FORMAT) {
            HARNESS_FAIL_("prefix of %zu bytes: status %d, want MADE_E_FORMAT", n, rc);
            if (rc == MADE_OK) made__json_free(v);
        }
        CHECK(v == NULL || rc == MADE_OK);
    }
}

/* Random single-byte changes: the parser must accept or reject cleanly. */
static void test_mutations(void)
{
    size_t len = sizeof full_doc - 1;
    char *buf = malloc(len);
    if (!buf) abort();
    uint32_t state = 12345;
    int accepted = 0, rejected = 0;
    for (size_t pos = 0; pos < len; pos++) {
        for (int k = 0; k < 24; k++) {
            memcpy(buf, full_doc, len);
            state = state * 1664525u + 1013904223u;
            static const unsigned char special[] = {'"', '\\', '{', '}', '[', ']', ',', ':',
                                                    'u', '0', 0x00, 0x80, 0xff, ' '};
            buf[pos] = k < (int)sizeof special ? (char)special[k] : (char)(state >> 24);
            made__json *v = NULL;
            int rc = made__json_parse(buf, len, &v);
            if (rc == MADE_OK) {
                accepted++;
                made__json_free(v);
            } else if (rc == MADE_E_FORMAT) {
                rejected++;
            } else {
                HARNESS_FAIL_("byte %zu set to 0x%02x: status %d", pos, (unsigned char)buf[pos], rc);
            }
        }
    }
    CHECK(accepted > 0 && rejected > 0);
    free(buf);
}

/* Fail the k-th allocation for every k: each must give MADE_E_NOMEM and leak
 * nothing (LeakSanitizer checks the latter under SANITIZE=1). */
static void test_alloc_failures(void)
{
    size_t len = sizeof full_doc - 1;
    int ok = 0;
    long k;
    for (k = 1; k < 10000 && !ok; k++) {
        made__json *v = NULL;
        made__alloc_fail_at(k);
        int rc = parse_exact(full_doc, len, &v);
        made__alloc_fail_at(0);
        if (rc == MADE_OK) {
            ok = 1;
            CHECK(v && v->count == 7);
            made__json_free(v);
        } else {
            CHECK_EQ_INT(rc, MADE_E_NOMEM);
            CHECK(v == NULL);
        }
    }
    CHECK(ok);
    CHECK(k > 20); /* the document needs many allocations */
    /* A long number's heap copy can fail too. */
    char longnum[200];
    memset(longnum, '7', sizeof longnum);
    made__json *v = NULL;
    made__alloc_fail_at(2);
    CHECK_STATUS(made__json_parse(longnum, sizeof longnum, &v), MADE_E_NOMEM);
    made__alloc_fail_at(0);
}

/* strtod follows LC_NUMERIC; a host program's locale must not change what a
 * JSON number means. Runs only where such a locale is installed. */
static void test_locale(void)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                        "fr_FR.utf8", "ru_RU.UTF-8", "nl_NL.UTF-8"};
    int found = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !found; i++)
        found = setlocale(LC_NUMERIC, names[i]) != NULL;
    if (found && strcmp(localeconv()->decimal_point, ".") != 0) {
        made__json *v = NULL;
        CHECK_OK(parse("[1.5,-2.25e1]", &v));
        CHECK(v && v->items[0].number == 1.5 && v->items[1].number == -22.5);
        made__json_free(v);
        CHECK_STATUS(parse("1,5", &v), MADE_E_FORMAT);
    }
    setlocale(LC_NUMERIC, "C");
}

int main(void)
{
    RUN(test_literals);
    RUN(test_numbers);
    RUN(test_strings);
    RUN(test_containers);
    RUN(test_rejects);
    RUN(test_length_bound);
    RUN(test_depth);
    RUN(test_truncations);
    RUN(test_mutations);
    RUN(test_alloc_failures);
    RUN(test_locale);
    return harness_summary("test_json");
}
