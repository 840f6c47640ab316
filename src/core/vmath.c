/* vmath.c - the array forms of vmath.h's exp and log, each one loop compiled
 * twice: plainly and for AVX2 (the same operations per element). */
#include "core/vmath.h"

#define VLOOPS(attr, suffix)                                             \
    attr static void vexp_##suffix(float *y, const float *x, size_t n)   \
    {                                                                    \
        for (size_t i = 0; i < n; i++) y[i] = made__expf(x[i]);          \
    }                                                                    \
    attr static void vlog_##suffix(float *y, const float *x, size_t n)   \
    {                                                                    \
        for (size_t i = 0; i < n; i++) y[i] = made__logf(x[i]);          \
    }

VLOOPS(, plain)
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
VLOOPS(__attribute__((target("avx2"))), avx2)
#else
#define vexp_avx2 vexp_plain
#define vlog_avx2 vlog_plain
#endif

void made__vexp(float *y, const float *x, size_t n, int avx2)
{
    if (avx2) vexp_avx2(y, x, n);
    else vexp_plain(y, x, n);
}

void made__vlog(float *y, const float *x, size_t n, int avx2)
{
    if (avx2) vlog_avx2(y, x, n);
    else vlog_plain(y, x, n);
}
