/*
 * core/internal.h - status and allocation helpers shared by the library's files
 * (not part of the API).
 * Internal names use the made__ prefix.
 */
#ifndef MADE_INTERNAL_H
#define MADE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "made.h"

/* Records a detailed message for made_last_error() and returns status, so that
 * error paths read `return made__error(MADE_E_INVAL, "event_size: %d ...", e);`. */
int made__error(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Clears the thread's last-error message (called at the start of public calls
 * that can fail, so a stale message is never shown). */
void made__clear_error(void);
/* Prefixes the current last-error message: "file.npy: " + message. */
void made__error_prefix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Allocation. Every allocation of the library goes through these, so tests can
 * make the k-th one fail (made__alloc_fail_at, 0 = never; a test-only hook that
 * is per thread, not global). They set MADE_E_NOMEM's message on failure. */
void *made__malloc(size_t size);
void *made__calloc(size_t count, size_t size);
void *made__realloc(void *p, size_t size);
void made__free(void *p);
/* Test hook: the n-th allocation from now (1-based) in this thread fails; 0 disables. */
void made__alloc_fail_at(long n);
/* a * b with overflow check: returns 0 and sets *out, or MADE_E_NOMEM. */
int made__mul_size(size_t a, size_t b, size_t *out);

/* Checks a float buffer for NaN/Inf; the error names what, row and column
 * (1-based). */
int made__check_finite(const char *what, const float *v, size_t rows, size_t cols);

#endif
