/* alloc.c - the library's allocation wrappers, with a per-thread failure hook
 * that lets tests make the k-th allocation fail (SQLite-style fault injection). */
#include <stdlib.h>

#include "core/internal.h"

static _Thread_local long fail_countdown; /* 0 = never fail */

void made__alloc_fail_at(long n) { fail_countdown = n > 0 ? n : 0; }

/* Returns 1 when this allocation must fail because of the test hook. */
static int injected_failure(void)
{
    if (fail_countdown == 0) return 0;
    if (--fail_countdown == 0) return 1;
    return 0;
}

void *made__malloc(size_t size)
{
    void *p = injected_failure() ? NULL : malloc(size ? size : 1);
    if (!p) made__error(MADE_E_NOMEM, "out of memory allocating %zu bytes", size);
    return p;
}

void *made__calloc(size_t count, size_t size)
{
    void *p = injected_failure() ? NULL : calloc(count ? count : 1, size ? size : 1);
    if (!p) made__error(MADE_E_NOMEM, "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *made__realloc(void *old, size_t size)
{
    void *p = injected_failure() ? NULL : realloc(old, size ? size : 1);
    if (!p) made__error(MADE_E_NOMEM, "out of memory allocating %zu bytes", size);
    return p;
}

void made__free(void *p) { free(p); }

int made__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return made__error(MADE_E_NOMEM, "size overflow: %zu x %zu", a, b);
    *out = a * b;
    return MADE_OK;
}
