/*
 * io/buf.h - a growable byte buffer for building text (JSON, headers, CSV lines).
 */
#ifndef MADE_BUF_H
#define MADE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct made__buf {
    char *data;
    size_t len, cap;
    int failed; /* set once an allocation failed; later appends are ignored */
} made__buf;
void made__buf_init(made__buf *b);
void made__buf_free(made__buf *b);
void made__buf_append(made__buf *b, const void *data, size_t n);
void made__buf_printf(made__buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends s as a JSON string literal (quotes and escapes included). */
void made__buf_json_string(made__buf *b, const char *s);

#endif
