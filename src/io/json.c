/*
 * json.c - a strict RFC 8259 parser.
 *
 * The input is a byte range that is not NUL-terminated (a safetensors header is
 * a slice of the file), so every read is bounds-checked against len. Anything
 * the RFC does not allow is rejected rather than repaired: no comments, no
 * trailing commas, no NaN/Infinity, no leading zeros, no byte-order mark.
 * Beyond the RFC we also reject what our callers could only misuse: duplicate
 * keys (RFC: "SHOULD be unique"), "\u0000" (strings are handed out as C
 * strings), invalid UTF-8 and lone surrogates (strings are promised to be
 * UTF-8), numbers that overflow a double, and nesting deeper than 64 (the
 * parser recurses, so depth is what bounds its stack use).
 */
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "io/json.h"

#define MAX_DEPTH 64

typedef struct parser {
    const char *s;
    size_t len, pos;
} parser;

/* Every syntax error goes through here so messages share one shape:
 * "JSON: <what> at byte <offset>". */
static int fail(size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int fail(size_t at, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return made__error(MADE_E_FORMAT, "JSON: %s at byte %zu", what, at);
}

/* Names the byte at `at` for an error message: 'x', byte 0xNN or end of input. */
static const char *describe(const parser *p, size_t at, char buf[16])
{
    if (at >= p->len) return "end of input";
    unsigned char c = (unsigned char)p->s[at];
    if (c > 0x20 && c < 0x7f) snprintf(buf, 16, "'%c'", c);
    else snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static void free_contents(made__json *v)
{
    switch (v->type) {
    case MADE__JSON_STRING:
        made__free(v->string);
        break;
    case MADE__JSON_ARRAY:
    case MADE__JSON_OBJECT:
        for (size_t i = 0; i < v->count; i++) {
            free_contents(&v->items[i]);
            if (v->keys) made__free(v->keys[i]);
        }
        made__free(v->items);
        made__free(v->keys);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                   */
/* ------------------------------------------------------------------------ */

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 if it is not one
 * (RFC 3629 table 3.7: no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return len;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* p->pos is at the opening quote. On success *out is a NUL-terminated UTF-8
 * copy and p->pos is past the closing quote. */
/* The character a two-byte escape "\\e" stands for; 0 for 'u' and anything
 * invalid. */
static char simple_escape(char e)
{
    switch (e) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return 0;
    }
}

/* Decodes the escape at s[j] ("\\uXXXX", or a surrogate pair of two) that is
 * not a simple one; *used is its length in bytes. */
static int unicode_escape(parser *p, size_t j, size_t end, unsigned long *cp, size_t *used)
{
    const char *s = p->s;
    if (s[j + 1] != 'u') {
        char d[16];
        return fail(j, "invalid escape '\\' followed by %s", describe(p, j + 1, d));
    }
    int hi = end - j >= 6 ? hex4(s + j + 2) : -1;
    if (hi < 0) return fail(j, "invalid \\u escape (expected 4 hex digits)");
    *cp = (unsigned long)hi;
    *used = 6;
    if (hi >= 0xdc00 && hi <= 0xdfff) return fail(j, "lone low surrogate \\u%04x", hi);
    if (hi >= 0xd800 && hi <= 0xdbff) {
        int lo = end - j >= 12 && s[j + 6] == '\\' && s[j + 7] == 'u' ? hex4(s + j + 8) : -1;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(j, "high surrogate \\u%04x not followed by a low surrogate", hi);
        *cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
        *used = 12;
    }
    if (*cp == 0) return fail(j, "\\u0000 not allowed (strings must not contain NUL)");
    return MADE_OK;
}

static int parse_string(parser *p, char **out)
{
    const char *s = p->s;
    size_t start = p->pos;
    *out = NULL;

    /* Find the closing quote first: the decoded text is never longer than the
     * raw one (an escape of 6 or 12 bytes yields at most 3 or 4), so one
     * allocation of the raw size suffices. */
    size_t end = start + 1;
    while (end < p->len && s[end] != '"') end += s[end] == '\\' ? 2 : 1;
    if (end >= p->len) return fail(start, "unterminated string");

    char *buf = made__malloc(end - start);
    if (!buf) return MADE_E_NOMEM;
    size_t n = 0, j = start + 1;
    int rc = MADE_OK;
    while (j < end) {
        unsigned char c = (unsigned char)s[j];
        if (c < 0x20) {
            rc = fail(j, "control character 0x%02x in string (must be escaped)", c);
            goto out;
        }
        if (c >= 0x80) {
            size_t k = utf8_len((const unsigned char *)s + j, end - j);
            if (k == 0) {
                rc = fail(j, "invalid UTF-8 in string");
                goto out;
            }
            memcpy(buf + n, s + j, k);
            n += k;
            j += k;
            continue;
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            j++;
            continue;
        }
        /* The scan above guarantees the escaped byte is before `end`. */
        char simple = simple_escape(s[j + 1]);
        if (simple) {
            buf[n++] = simple;
            j += 2;
            continue;
        }
        unsigned long cp = 0;
        size_t used = 0;
        if ((rc = unicode_escape(p, j, end, &cp, &used)) != MADE_OK) goto out;
        n += put_utf8(buf + n, cp);
        j += used;
    }
    buf[n] = '\0';
    p->pos = end + 1;
out:
    if (rc != MADE_OK) made__free(buf);
    else *out = buf;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                   */
/* ------------------------------------------------------------------------ */

/* Checks the RFC 8259 number grammar
 *     -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
 * then converts with strtod on a NUL-terminated copy (the input is not
 * NUL-terminated, and strtod would accept more than JSON allows anyway). */
/* strtod of the n bytes at s (a number the grammar accepted). */
static int locale_strtod(const char *s, size_t n, double *x, int *complete)
{
    /* strtod reads the locale's decimal point; a host program may have set
     * LC_NUMERIC to one that uses ',', so substitute it for '.'. */
    const char *dp = localeconv()->decimal_point;
    size_t dplen = dp && *dp ? strlen(dp) : 1;
    if (!dp || !*dp) dp = ".";
    char small[64], *copy = small;
    if (n + dplen + 1 > sizeof small) {
        copy = made__malloc(n + dplen + 1);
        if (!copy) return MADE_E_NOMEM;
    }
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        if (s[j] == '.') {
            memcpy(copy + k, dp, dplen);
            k += dplen;
        } else {
            copy[k++] = s[j];
        }
    }
    copy[k] = '\0';
    char *endp;
    *x = strtod(copy, &endp);
    *complete = endp == copy + k;
    if (copy != small) made__free(copy);
    return MADE_OK;
}

/* Sets v's exact integer when the ndigits digits at s fit in a long long. */
static void exact_integer(made__json *v, const char *s, size_t ndigits, int neg)
{
    /* Exact value when it fits in a long long: offsets and sizes beyond
     * 2^53 must not go through a double. */
    unsigned long long limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    unsigned long long acc = 0;
    int fits = 1;
    for (size_t j = 0; j < ndigits; j++) {
        unsigned digit = (unsigned)(s[j] - '0');
        if (acc > (limit - digit) / 10) {
            fits = 0;
            break;
        }
        acc = acc * 10 + digit;
    }
    if (fits) {
        v->is_integer = 1;
        if (!neg) v->integer = (long long)acc;
        else if (acc == (unsigned long long)LLONG_MAX + 1) v->integer = LLONG_MIN;
        else v->integer = -(long long)acc;
    }
}

static int parse_number(parser *p, made__json *v)
{
    const char *s = p->s;
    size_t start = p->pos, i = start;
    char d[16];
    int neg = 0, integer = 1;
    if (s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i >= p->len || !is_digit(s[i])) return fail(i, "expected a digit, found %s", describe(p, i, d));
    if (s[i] == '0') {
        i++;
        if (i < p->len && is_digit(s[i])) return fail(start, "number with a leading zero");
    } else {
        while (i < p->len && is_digit(s[i])) i++;
    }
    size_t int_end = i;
    if (i < p->len && s[i] == '.') {
        integer = 0;
        i++;
        if (i >= p->len || !is_digit(s[i]))
            return fail(i, "expected a digit after '.', found %s", describe(p, i, d));
        while (i < p->len && is_digit(s[i])) i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        integer = 0;
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len || !is_digit(s[i]))
            return fail(i, "expected a digit in the exponent, found %s", describe(p, i, d));
        while (i < p->len && is_digit(s[i])) i++;
    }

    double x;
    int complete;
    if (locale_strtod(s + start, i - start, &x, &complete)) return MADE_E_NOMEM;
    if (!complete) return fail(start, "malformed number");
    /* Underflow to zero or a subnormal is a fine approximation; overflow to
     * infinity is not a value any caller can use. */
    if (!isfinite(x)) return fail(start, "number out of range");

    v->type = MADE__JSON_NUMBER;
    v->number = x;
    if (integer) exact_integer(v, s + start + (size_t)neg, int_end - start - (size_t)neg, neg);
    p->pos = i;
    return MADE_OK;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

static int parse_value(parser *p, made__json *v, int depth);

/* Grows items (and keys, for objects) so that one more member fits. */
static int grow(made__json *v, size_t *cap, int with_keys)
{
    if (v->count < *cap) return MADE_OK;
    size_t ncap = *cap ? *cap * 2 : 4, bytes;
    if (made__mul_size(ncap, sizeof *v->items, &bytes) != MADE_OK) return MADE_E_NOMEM;
    made__json *items = made__realloc(v->items, bytes);
    if (!items) return MADE_E_NOMEM;
    v->items = items;
    if (with_keys) {
        char **keys = made__realloc(v->keys, ncap * sizeof *keys);
        if (!keys) return MADE_E_NOMEM;
        v->keys = keys;
    }
    *cap = ncap;
    return MADE_OK;
}

static int parse_array(parser *p, made__json *v, int depth)
{
    char d[16];
    size_t cap = 0;
    int rc = MADE_OK;
    v->type = MADE__JSON_ARRAY;
    p->pos++; /* '[' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return MADE_OK;
    }
    for (;;) {
        if ((rc = grow(v, &cap, 0)) != MADE_OK) break;
        memset(&v->items[v->count], 0, sizeof v->items[0]);
        if ((rc = parse_value(p, &v->items[v->count], depth)) != MADE_OK) break;
        v->count++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            return MADE_OK;
        }
        rc = fail(p->pos, "expected ',' or ']' in array, found %s", describe(p, p->pos, d));
        break;
    }
    free_contents(v);
    memset(v, 0, sizeof *v);
    return rc;
}

static size_t hash_key(const char *k)
{
    size_t h = 14695981039346656037ull & SIZE_MAX; /* FNV-1a */
    for (; *k; k++) h = (h ^ (unsigned char)*k) * (size_t)1099511628211ull;
    return h;
}

/* Open-addressing set of key indices (index + 1; 0 = empty slot), so that
 * duplicate detection stays linear even for a hostile header with millions of
 * keys. Returns 1 if `key` (not yet stored at keys[count]) is already present,
 * 0 if it was added, or MADE_E_NOMEM. */
typedef struct keyset {
    size_t *slots, cap; /* cap is a power of two */
} keyset;

static int keyset_insert(keyset *ks, char **keys, size_t count, const char *key)
{
    if (2 * (count + 1) > ks->cap) {
        size_t ncap = ks->cap ? ks->cap * 2 : 16;
        size_t *slots = made__calloc(ncap, sizeof *slots);
        if (!slots) return MADE_E_NOMEM;
        for (size_t i = 0; i < count; i++) {
            size_t h = hash_key(keys[i]) & (ncap - 1);
            while (slots[h]) h = (h + 1) & (ncap - 1);
            slots[h] = i + 1;
        }
        made__free(ks->slots);
        ks->slots = slots;
        ks->cap = ncap;
    }
    size_t h = hash_key(key) & (ks->cap - 1);
    while (ks->slots[h]) {
        if (strcmp(keys[ks->slots[h] - 1], key) == 0) return 1;
        h = (h + 1) & (ks->cap - 1);
    }
    ks->slots[h] = count + 1;
    return 0;
}

static int parse_object(parser *p, made__json *v, int depth)
{
    char d[16];
    size_t cap = 0;
    keyset ks = {NULL, 0};
    char *key = NULL;
    int rc = MADE_OK;
    v->type = MADE__JSON_OBJECT;
    p->pos++; /* '{' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return MADE_OK;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            rc = fail(p->pos, "expected a string key, found %s", describe(p, p->pos, d));
            break;
        }
        size_t key_at = p->pos;
        if ((rc = parse_string(p, &key)) != MADE_OK) break;
        if ((rc = grow(v, &cap, 1)) != MADE_OK) break;
        int dup = keyset_insert(&ks, v->keys, v->count, key);
        if (dup < 0) {
            rc = dup;
            break;
        }
        if (dup) {
            rc = fail(key_at, "duplicate key '%.100s'", key);
            break;
        }
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            rc = fail(p->pos, "expected ':' after key, found %s", describe(p, p->pos, d));
            break;
        }
        p->pos++;
        memset(&v->items[v->count], 0, sizeof v->items[0]);
        if ((rc = parse_value(p, &v->items[v->count], depth)) != MADE_OK) break;
        v->keys[v->count++] = key;
        key = NULL;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            made__free(ks.slots);
            return MADE_OK;
        }
        rc = fail(p->pos, "expected ',' or '}' in object, found %s", describe(p, p->pos, d));
        break;
    }
    made__free(key);
    made__free(ks.slots);
    free_contents(v);
    memset(v, 0, sizeof *v);
    return rc;
}

static int match_literal(parser *p, const char *lit)
{
    size_t n = strlen(lit);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0) return 0;
    p->pos += n;
    return 1;
}

/* Parses one value into v (zeroed by the caller). depth counts the containers
 * around v. On failure v holds nothing that needs freeing. */
static int parse_value(parser *p, made__json *v, int depth)
{
    char d[16];
    skip_ws(p);
    if (p->pos >= p->len) return fail(p->pos, "expected a value, found end of input");
    char c = p->s[p->pos];
    switch (c) {
    case '{':
    case '[':
        if (depth >= MAX_DEPTH) return fail(p->pos, "nesting deeper than %d", MAX_DEPTH);
        return c == '{' ? parse_object(p, v, depth + 1) : parse_array(p, v, depth + 1);
    case '"':
        v->type = MADE__JSON_STRING;
        return parse_string(p, &v->string);
    case 't':
    case 'f':
    case 'n':
        if (match_literal(p, "true") || match_literal(p, "false")) {
            v->type = MADE__JSON_BOOL;
            v->boolean = c == 't';
            return MADE_OK;
        }
        if (match_literal(p, "null")) {
            v->type = MADE__JSON_NULL;
            return MADE_OK;
        }
        break;
    default:
        if (c == '-' || is_digit(c)) return parse_number(p, v);
        break;
    }
    return fail(p->pos, "expected a value, found %s", describe(p, p->pos, d));
}

int made__json_parse(const char *text, size_t len, made__json **out)
{
    *out = NULL;
    if (!text && len) return made__error(MADE_E_INVAL, "JSON: NULL text of length %zu", len);
    made__json *v = made__calloc(1, sizeof *v);
    if (!v) return MADE_E_NOMEM;
    parser p = {text ? text : "", len, 0};
    int rc = parse_value(&p, v, 0);
    if (rc == MADE_OK) {
        skip_ws(&p);
        if (p.pos != p.len) {
            char d[16];
            rc = fail(p.pos, "unexpected %s after the value", describe(&p, p.pos, d));
        }
    }
    if (rc != MADE_OK) {
        made__json_free(v);
        return rc;
    }
    *out = v;
    return MADE_OK;
}

void made__json_free(made__json *v)
{
    if (!v) return;
    free_contents(v);
    made__free(v);
}

const made__json *made__json_get(const made__json *v, const char *key)
{
    if (!v || v->type != MADE__JSON_OBJECT) return NULL;
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->keys[i], key) == 0) return &v->items[i];
    return NULL;
}
