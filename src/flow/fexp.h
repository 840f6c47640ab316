/*
 * fexp.h - a float exp for the MAF layer's training step (flow/train.c),
 * written so that a loop calling it vectorises: branch-free plain C
 * (selects, an integer bit operation, no calls), the same operations in every
 * build, so results do not depend on the machine or the thread count (the
 * Makefile's -ffp-contract=off keeps the compiler from fusing a*b+c).
 *
 * Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2 (ln2 in two parts, the
 * first with few bits, so n ln2 is exact), a degree-6 Taylor polynomial for
 * e^r (relative error below 2e-7 on that interval), times 2^n built in the
 * exponent bits. The relative error against the exact value is below 5e-7
 * for |x| <= MADE__FLOW_FEXP_RANGE (tests/test_flow_train.c measures it);
 * callers use double libm exp outside that range, so overflow and underflow
 * behave as before.
 */
#ifndef MADE_FLOW_FEXP_H
#define MADE_FLOW_FEXP_H

#include <stdint.h>
#include <string.h>

/* Where made__flow_expf is used; e^80 = 5.5e34 is inside float's range. */
#define MADE__FLOW_FEXP_RANGE 80.0f

/* e^x for |x| <= MADE__FLOW_FEXP_RANGE; any other x (NaN too) gives some
 * finite value, without undefined behaviour, for the caller to discard. */
static inline float made__flow_expf(float x)
{
    x = x > -87.0f ? x : -87.0f; /* NaN becomes -87 */
    x = x < 88.0f ? x : 88.0f;
    /* n = round(x / ln2), by adding and subtracting 1.5 * 2^23. */
    const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float two_n;
    memcpy(&two_n, &bits, sizeof two_n);
    return p * two_n;
}

#endif
