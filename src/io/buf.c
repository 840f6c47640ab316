/* buf.c - a growable text buffer, used to build JSON and file headers. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "io/buf.h"

void made__buf_init(made__buf *b) { memset(b, 0, sizeof *b); }

void made__buf_free(made__buf *b)
{
    made__free(b->data);
    made__buf_init(b);
}

/* Makes room for n more bytes plus a terminating NUL. */
static int reserve(made__buf *b, size_t n)
{
    if (b->failed) return 0;
    if (b->len + n + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = made__realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void made__buf_append(made__buf *b, const void *data, size_t n)
{
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void made__buf_printf(made__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void made__buf_json_string(made__buf *b, const char *s)
{
    made__buf_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            made__buf_append(b, esc, 2);
        } else if (c < 0x20) {
            made__buf_printf(b, "\\u%04x", c);
        } else {
            made__buf_append(b, s, 1);
        }
    }
    made__buf_append(b, "\"", 1);
}
