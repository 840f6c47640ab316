/*
 * vmath.h - float exp and log written so that loops over arrays vectorise:
 * branch-free plain C (selects, integer bit operations, no calls), so a loop
 * calling them compiles to vector code at the baseline width, and at AVX2
 * width inside a function built with the target attribute, with the same
 * operations per element either way. Every build, kernel path and thread
 * count therefore gets the same bits (the Makefile's -ffp-contract=off keeps
 * the compiler from fusing a*b+c behind the code's back).
 *
 * Accuracy (tests/test_vmath.c measures it against double libm over the
 * whole range): made__exp_neg and made__expf have relative errors below 2.6e-7
 * (measured 2.51e-7, about 4 ulp: the polynomial's 2e-7 plus the roundings),
 * made__logf and made__log1p_unit below 2.5e-7 (the log measured 1.95e-7; near
 * x = 1 the log's absolute error is below 1e-9). The double libm versions
 * are correctly rounded to about 1e-16; where the losses used them, results
 * now differ at the 1e-7 level (src/density/dist.c).
 *
 * The inline functions are for loops that fuse other arithmetic around them
 * (the losses); made__vexp and made__vlog are the array forms, for callers
 * that only need the function (flows' log-scales).
 */
#ifndef MADE_VMATH_H
#define MADE_VMATH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MADE_VMATH_INLINE static inline __attribute__((always_inline))

/* 2^n as a float, for integer n in [-126, 127], built in the exponent bits. */
MADE_VMATH_INLINE float made__pow2i(int32_t n)
{
    const int32_t bits = (n + 127) * (1 << 23);
    float r;
    memcpy(&r, &bits, sizeof r);
    return r;
}

/* e^r for |r| <= ln2 / 2: a degree-6 Taylor polynomial (relative error below
 * 2e-7 on that interval). */
MADE_VMATH_INLINE float made__exp_reduced(float r)
{
    float p = 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p;
}

/* exp(x) for x <= 0. Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2 (ln2 in
 * two parts, the first exact in a few bits, so n ln2 loses nothing), then
 * e^r times 2^n. x is clamped at -87, where the result is 1.6e-38 instead of
 * something smaller: far below anything a loss can resolve. n = round(x /
 * ln2) as ceil(x / ln2 - 0.5) (x <= 0). */
MADE_VMATH_INLINE float made__exp_neg(float x)
{
    x = x < -87.0f ? -87.0f : x;
    /* ceil(y), y <= -0.5: round to nearest by adding and subtracting
     * 1.5 * 2^23, then up by one where that went down. The same value as
     * (int)y, written so that the compiler does not call truncf (which
     * would keep the loop from vectorising). The step up is added as an
     * integer: written as a choice between t + 1 and t, GCC evaluated the
     * rest of the exp for both and blended the results. */
    const float y = x * 1.44269504f - 0.5f, t = (y + 12582912.0f) - 12582912.0f;
    const int32_t ni = (int32_t)t + (t < y);
    const float n = (float)ni;
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    return made__exp_reduced(r) * made__pow2i(ni);
}

/* exp(x) for any x: clamped to [-87, 88] (results from 1.6e-38 to 1.7e38;
 * beyond, the true value is under- or overflowing a float anyway), the same
 * reduction with n rounded to nearest by adding and subtracting 1.5 * 2^23. */
MADE_VMATH_INLINE float made__expf(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    return made__exp_reduced(r) * made__pow2i((int32_t)n);
}

/* log(1 + t) for t in [-0.3, 1]: 2 atanh(s) with s = t / (2 + t), |s| <= 1/3,
 * a series in s^2 cut where its terms fall below float precision. Exact for
 * t = 0. */
MADE_VMATH_INLINE float made__log1p_unit(float t)
{
    const float s = t / (2.0f + t), s2 = s * s;
    float p = 1.0f / 15.0f;
    p = p * s2 + 1.0f / 13.0f;
    p = p * s2 + 1.0f / 11.0f;
    p = p * s2 + 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    return 2.0f * s * p;
}

/* log(x) for positive normal x (finite, >= 1.18e-38): x = m 2^k with m in
 * [sqrt(1/2), sqrt(2)), log x = k ln2 + log1p(m - 1) (m - 1 is exact).
 * Exact for x = 1. */
MADE_VMATH_INLINE float made__logf(float x)
{
    int32_t bits;
    memcpy(&bits, &x, sizeof bits);
    const int32_t mbits = (bits & 0x007fffff) | 0x3f800000; /* m in [1, 2) */
    float m;
    memcpy(&m, &mbits, sizeof m);
    const int big = m > 1.41421356f;
    m = big ? 0.5f * m : m;
    const float k = (float)((bits >> 23) - 127 + big);
    return (k * -2.12194440e-4f + made__log1p_unit(m - 1.0f)) + k * 0.693359375f;
}

/* y[i] = exp(x[i]) (made__expf) and y[i] = log(x[i]) (made__logf, x[i] > 0
 * normal) for i < n; y may equal x. avx2 selects the AVX2 build (only when
 * made__kernel_avx2_ok()); both give the same bits. */
void made__vexp(float *y, const float *x, size_t n, int avx2);
void made__vlog(float *y, const float *x, size_t n, int avx2);

#endif
