/* test_vmath.c - the float exp and log of src/core/vmath.h against double
 * libm (an independent implementation) over their whole ranges, exact
 * values at the points where they are exact, the clamps, and the plain and
 * AVX2 builds of the array forms bit for bit. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/vmath.h"
#include "harness.h"
#include "net/kernel.h"

/* Relative error of a float result against a double reference. */
static double rel_err(float got, double want) { return fabs((double)got - want) / fabs(want); }

/* x from lo to hi in n steps. */
static void sweep(float lo, float hi, int n, float *x)
{
    for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)i / (float)(n - 1);
}

static void test_exp_accuracy(void)
{
    enum { N = 2000001 };
    float *x = malloc(N * sizeof *x);
    if (!x) return;
    double worst = 0, worst_neg = 0;
    sweep(-87.0f, 88.0f, N, x);
    for (int i = 0; i < N; i++) {
        const double want = exp((double)x[i]);
        const double e = rel_err(made__expf(x[i]), want);
        if (e > worst) worst = e;
        if (x[i] <= 0) {
            const double en = rel_err(made__exp_neg(x[i]), want);
            if (en > worst_neg) worst_neg = en;
        }
    }
    printf("exp: worst relative error %.3g (exp_neg %.3g) over [-87, 88]\n", worst, worst_neg);
    /* Measured 2.51e-7 and 2.49e-7: the functions are plain IEEE float
     * arithmetic, so every machine gets these figures exactly. */
    CHECK(worst < 2.6e-7);
    CHECK(worst_neg < 2.6e-7);
    CHECK(made__expf(0.0f) == 1.0f && made__exp_neg(0.0f) == 1.0f);
    /* The clamps: finite and positive far outside the range. */
    CHECK(made__expf(-1e30f) > 0 && made__expf(-1e30f) < 2e-38f);
    CHECK(isfinite(made__expf(1e30f)) && made__expf(1e30f) > 1e38f);
    CHECK(made__exp_neg(-1e30f) > 0 && made__exp_neg(-1e30f) < 2e-38f);
    free(x);
}

static void test_log_accuracy(void)
{
    double worst = 0, worst_abs = 0;
    /* Every power of two's neighbourhood and a geometric sweep of the range. */
    for (int i = 0; i < 2000000; i++) {
        const float v = (float)exp(-87.0 + 175.0 * i / 1999999.0);
        const double e = rel_err(made__logf(v), log((double)v));
        if (v != 1.0f && e > worst) worst = e;
    }
    for (float v = 1.0f - 1.0f / 1024; v <= 1.0f + 1.0f / 1024; v = nextafterf(v, 2.0f)) {
        const double want = log((double)v), d = fabs((double)made__logf(v) - want);
        if (d > worst_abs) worst_abs = d;
        if (v != 1.0f && d / fabs(want) > worst) worst = d / fabs(want);
    }
    printf("log: worst relative error %.3g, absolute near 1 %.3g\n", worst, worst_abs);
    CHECK(worst < 2.0e-7); /* measured 1.95e-7 */
    CHECK(worst_abs < 1e-9);
    CHECK(made__logf(1.0f) == 0.0f);
    CHECK(fabs(made__logf(FLT_MAX) - log((double)FLT_MAX)) < 1e-5);
    CHECK(fabs(made__logf(FLT_MIN) - log((double)FLT_MIN)) < 1e-5);
    double w1 = 0;
    for (float t = 0.0f; t <= 1.0f; t += 1.0f / 4096) {
        const double e = t > 0 ? rel_err(made__log1p_unit(t), log1p((double)t)) : 0;
        if (e > w1) w1 = e;
    }
    CHECK(w1 < 2.5e-7);
    CHECK(made__log1p_unit(0.0f) == 0.0f);
}

/* The array forms: equal to the inline functions on both builds, for every
 * length and offset (vector bodies and tails), in place too. */
static void test_array_builds(void)
{
    const int avx2 = made__kernel_avx2_ok();
    enum { N = 70 };
    float x[N], y[N], z[N];
    for (int i = 0; i < N; i++) x[i] = -40.0f + 1.37f * (float)i;
    for (int path = 0; path < 1 + avx2; path++)
        for (int n = 0; n <= 64; n++) {
            memset(y, 0, sizeof y);
            made__vexp(y + 1, x + 1, (size_t)n, path);
            int bad = y[0] != 0.0f || y[n + 1] != 0.0f;
            for (int i = 1; i <= n; i++) bad |= y[i] != made__expf(x[i]);
            for (int i = 0; i < N; i++) z[i] = made__expf(x[i]);
            memcpy(y, z, sizeof y);
            made__vlog(y, y, (size_t)n, path);
            for (int i = 0; i < n; i++) bad |= y[i] != made__logf(z[i]);
            if (bad) HARNESS_FAIL_("%s build, n = %d: differs from the inline functions",
                                   path ? "avx2" : "plain", n);
        }
    if (!avx2) SKIP("this CPU has no AVX2: only the plain build was checked");
}

int main(void)
{
    RUN(test_exp_accuracy);
    RUN(test_log_accuracy);
    RUN(test_array_builds);
    return harness_summary("test_vmath");
}
