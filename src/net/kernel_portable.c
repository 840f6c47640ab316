/* kernel_portable.c - the portable path: every chain of kernel.h computed one
 * value at a time with fmaf, in ascending k. This file is compiled with
 * -ffp-contract=off like the rest, and calls fmaf explicitly, so the
 * arithmetic is exactly what kernel.h defines at any optimisation level. */
#include <math.h>

#include "net/grad_tree.h"
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

/* The packed tile and the row tile are the tile with A's strides (1,
 * MADE_MR) and (lda, 1), B's MADE_NR; columns 8 and on then continue their
 * chains (stored, so reloaded exactly) from k = K to K2. */
static void half_panel_tile(int K, int K2, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                            const float *B, float *C, ptrdiff_t ldc, int mr, int nr,
                            const float *bias, int load_c, float *relu)
{
    tile_portable(K, A, rsa, csa, B, MADE_NR, C, ldc, mr, nr, bias, load_c);
    if (nr > 8 && K2 > K)
        tile_portable(K2 - K, A + K * csa, rsa, csa, B + K * MADE_NR + 8, MADE_NR, C + 8, ldc,
                      mr, nr - 8, NULL, 1);
    if (relu)
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) {
                const float v = C[i * ldc + j];
                relu[i * ldc + j] = v > 0.0f ? v : 0.0f;
            }
}

static void ptile_portable(int K, int K2, const float *A, const float *B, float *C,
                           ptrdiff_t ldc, int mr, int nr, const float *bias, int load_c,
                           float *relu)
{
    half_panel_tile(K, K2, A, 1, MADE_MR, B, C, ldc, mr, nr, bias, load_c, relu);
}

static void rtile_portable(int K, int K2, const float *A, ptrdiff_t lda, const float *B, float *C,
                           ptrdiff_t ldc, int mr, int nr, const float *bias, int load_c,
                           float *relu)
{
    half_panel_tile(K, K2, A, lda, 1, B, C, ldc, mr, nr, bias, load_c, relu);
}

static void pack_portable(int K, const float *const *rows, float *ap)
{
    for (int i = 0; i < MADE_MR; i++)
        for (int k = 0; k < K; k++) ap[k * MADE_MR + i] = rows[i][k];
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


/* The weight-gradient tile: the same block chains and the same binary-counter
 * tree as the avx2 path (kernel_avx2.c), one value at a time. */
static void gtile_portable(int n, const float *A, ptrdiff_t ars, const float *B, float *C,
                           ptrdiff_t ldc, int mr, int nr)
{
    enum { T = MADE_MR * MADE_NR };
    float stack[32 * T], g[T];
    const int nb = made__grad_blocks(n);
    int depth = 0;
    for (int t = 0; t < T; t++) g[t] = 0.0f;
    for (int q = 0; q < nb; q++) {
        const int p0 = q * MADE_GRAD_BLOCK, p1 = n - p0 < MADE_GRAD_BLOCK ? n : p0 + MADE_GRAD_BLOCK;
        for (int t = 0; t < T; t++) g[t] = 0.0f;
        for (int p = p0; p < p1; p++)
            for (int i = 0; i < MADE_MR; i++)
                for (int j = 0; j < MADE_NR; j++)
                    g[i * MADE_NR + j] =
                        fmaf(A[ars ? p * ars + i : 0], B[p * MADE_NR + j], g[i * MADE_NR + j]);
        for (unsigned c = (unsigned)q + 1; !(c & 1u); c >>= 1) {
            depth--;
            for (int t = 0; t < T; t++) g[t] = stack[depth * T + t] + g[t];
        }
        for (int t = 0; t < T; t++) stack[depth * T + t] = g[t];
        depth++;
    }
    for (int d = depth - 2; d >= 0; d--)
        for (int t = 0; t < T; t++) g[t] = stack[d * T + t] + g[t];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) C[i * ldc + j] = g[i * MADE_NR + j];
}

const made__kernel made__kernel_portable = {
    "portable",    tile_portable, ptile_portable,     rtile_portable,
    pack_portable, unit_portable, transpose_portable, gtile_portable,
};
