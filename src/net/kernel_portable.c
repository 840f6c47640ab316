/* kernel_portable.c - the portable path: every chain of kernel.h computed one
 * value at a time with fmaf, in ascending k. This file is compiled with
 * -ffp-contract=off like the rest, and calls fmaf explicitly, so the
 * arithmetic is exactly what kernel.h defines at any optimisation level. */
#include <math.h>

#include "net/kernel.h"

static void tile_portable(int K, const float *A, ptrdiff_t rsa, ptrdiff_t csa, const float *B,
                          ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mr, int nr,
                          const float *bias, int load_c)
{
    /* A row of C at a time, k outside and j inside so B is read along its
     * rows; each acc[j] still sees its terms in ascending k. */
    for (int i = 0; i < mr; i++) {
        float acc[MADE_NR];
        for (int j = 0; j < nr; j++) acc[j] = load_c ? C[i * ldc + j] : bias ? bias[j] : 0.0f;
        const float *a = A + i * rsa;
        for (int k = 0; k < K; k++) {
            const float ak = a[k * csa], *b = B + k * ldb;
            for (int j = 0; j < nr; j++) acc[j] = fmaf(ak, b[j], acc[j]);
        }
        for (int j = 0; j < nr; j++) C[i * ldc + j] = acc[j];
    }
}

static void unit_portable(int K, const float *X, ptrdiff_t ldx, const float *w, ptrdiff_t ldw,
                          float *out, int n, float b, int load)
{
    /* k outside, rows inside: each out[i] still sees its terms in order. */
    if (!load)
        for (int i = 0; i < n; i++) out[i] = b;
    for (int k = 0; k < K; k++) {
        const float wk = w[k * ldw], *x = X + k * ldx;
        for (int i = 0; i < n; i++) out[i] = fmaf(x[i], wk, out[i]);
    }
}

static void transpose_portable(int rows, int cols, const float *src, ptrdiff_t lds, float *dst,
                               ptrdiff_t ldd)
{
    /* Rows of src in order: src read along memory, dst written in cols streams. */
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) dst[j * ldd + r] = src[r * lds + j];
}

const made__kernel made__kernel_portable = {"portable", tile_portable, unit_portable,
                                            transpose_portable};
