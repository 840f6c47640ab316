/* dense.c - masked dense layer: staircase kernels over sgemm, and the plain
 * reference kernels they are tested against. */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "net/activation.h"
#include "net/dense.h"

void made__blas_single_threaded(void)
{
    /* OpenBLAS (OpenMP build) sizes its own threading from this thread's
     * nthreads ICV, and its multi-threaded sgemm does not give the same bits as
     * the single-threaded one. Setting the ICV inside our parallel region only
     * changes this region's data environment: the caller's setting is back when
     * the region ends. */
    omp_set_num_threads(1);
}

static int num_panels(int width) { return (width + MADE_PANEL - 1) / MADE_PANEL; }

int made__dense_staircase(made__dense *L, const uint8_t *mask)
{
    for (int c = 0; c < L->out; c++) {
        int k = 0;
        while (k < L->in && mask[(size_t)k * L->out + c]) k++;
        for (int r = k; r < L->in; r++)
            if (mask[(size_t)r * L->out + c]) return -1;
        if (c > 0 && k < L->kend[c - 1]) return -1;
        L->kend[c] = k;
    }
    int c = 0;
    for (int p = 0; p < num_panels(L->in); p++) {
        int r0 = p * MADE_PANEL;
        while (c < L->out && L->kend[c] <= r0) c++;
        L->rstart[p] = c;
    }
    return 0;
}

/* Shapes: x [n, in], W [in, out], c [n, C], V [C, out], a and h [n, out]. */
void made__dense_forward_panels(const made__dense *L, float *restrict a, float *restrict h,
                                made_activation act, const float *restrict x,
                                const float *restrict c, int n)
{
    const int out = L->out, np = num_panels(out);
#pragma omp for schedule(dynamic, 1)
    for (int p = 0; p < np; p++) {
        int c0 = p * MADE_PANEL, c1 = c0 + MADE_PANEL < out ? c0 + MADE_PANEL : out;
        int w = c1 - c0, k = L->kend[c1 - 1];
        /* Start from the bias and let the products add to it (beta = 1): one
         * pass over the panel instead of a zeroing pass plus a bias pass. */
        for (int i = 0; i < n; i++) {
            float *row = a + (size_t)i * out + c0;
            if (L->b) memcpy(row, L->b + c0, (size_t)w * sizeof *row);
            else memset(row, 0, (size_t)w * sizeof *row);
        }
        if (k > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, w, k, 1.0f, x, L->in,
                        L->W + c0, out, 1.0f, a + c0, out);
        if (L->cond)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, w, L->cond, 1.0f, c,
                        L->cond, L->V + c0, out, 1.0f, a + c0, out);
        /* The activation while the panel is still in cache. */
        if (h)
            for (int i = 0; i < n; i++)
                made__act_forward(act, h + (size_t)i * out + c0, a + (size_t)i * out + c0, (size_t)w);
    }
}

void made__dense_forward(const made__dense *L, float *restrict a, const float *restrict x,
                         const float *restrict c, int n, int threads)
{
#pragma omp parallel num_threads(threads)
    {
        made__blas_single_threaded();
        made__dense_forward_panels(L, a, NULL, MADE_ACT_LINEAR, x, c, n);
    }
}

/* Shapes: da [n, out], x [n, in], c [n, C], dx [n, in]; gW, gb, gV as W, b, V;
 * a_in and h_in [n, in]. */
void made__dense_backward_panels(made__dense *L, float *restrict dx, const float *restrict da,
                                 const float *restrict x, const float *restrict c, int n,
                                 made_activation act, const float *a_in, const float *h_in)
{
    const int in = L->in, out = L->out;
    const int np = num_panels(out);
    const int nr = num_panels(in);
    /* Parameter gradients: each panel of columns belongs to one thread. The
     * input gradient below reads none of them, hence nowait. */
#pragma omp for schedule(dynamic, 1) nowait
    for (int p = 0; p < np; p++) {
        int c0 = p * MADE_PANEL, c1 = c0 + MADE_PANEL < out ? c0 + MADE_PANEL : out;
        int w = c1 - c0, k = L->kend[c1 - 1];
        if (k > 0)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, w, n, 1.0f, x, in, da + c0,
                        out, 1.0f, L->gW + c0, out);
        if (L->cond)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L->cond, w, n, 1.0f, c, L->cond,
                        da + c0, out, 1.0f, L->gV + c0, out);
        if (L->gb) {
            /* Row by row so the loop runs along memory; each column's sum is
             * still taken over the rows in order. */
            float sum[MADE_PANEL] = {0};
            for (int i = 0; i < n; i++) {
                const float *row = da + (size_t)i * out + c0;
                for (int j = 0; j < w; j++) sum[j] += row[j];
            }
            for (int j = 0; j < w; j++) L->gb[c0 + j] += sum[j];
        }
    }
    /* Input gradient: row panel r reads only the columns from rstart[r] on;
     * then, while it is in cache, back through the previous activation. */
#pragma omp for schedule(dynamic, 1)
    for (int p = 0; p < (dx ? nr : 0); p++) {
        int r0 = p * MADE_PANEL, r1 = r0 + MADE_PANEL < in ? r0 + MADE_PANEL : in;
        int cs = L->rstart[p];
        if (cs < out) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, r1 - r0, out - cs, 1.0f,
                        da + cs, out, L->W + (size_t)r0 * out + cs, out, 0.0f, dx + r0, in);
        } else {
            for (int i = 0; i < n; i++)
                memset(dx + (size_t)i * in + r0, 0, (size_t)(r1 - r0) * sizeof *dx);
        }
        if (h_in)
            for (int i = 0; i < n; i++) {
                size_t off = (size_t)i * in + r0;
                made__act_backward(act, dx + off, dx + off, a_in + off, h_in + off, (size_t)(r1 - r0));
            }
    }
}

void made__dense_backward(made__dense *L, float *restrict dx, const float *restrict da,
                          const float *restrict x, const float *restrict c, int n, int threads)
{
#pragma omp parallel num_threads(threads)
    {
        made__blas_single_threaded();
        made__dense_backward_panels(L, dx, da, x, c, n, MADE_ACT_LINEAR, NULL, NULL);
    }
}

void made__dense_clean_grad(made__dense *L)
{
    const int out = L->out;
    for (int c0 = 0; c0 < out; c0 += MADE_PANEL) {
        int c1 = c0 + MADE_PANEL < out ? c0 + MADE_PANEL : out;
        int k = L->kend[c1 - 1];
        for (int j = c0; j < c1; j++)
            for (int r = L->kend[j]; r < k; r++) L->gW[(size_t)r * out + j] = 0.0f;
    }
}

void made__dense_forward_ref(const made__dense *L, const uint8_t *mask, float *a, const float *x,
                             const float *c, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < L->out; j++) {
            double s = L->b ? L->b[j] : 0.0;
            for (int r = 0; r < L->in; r++)
                if (!mask || mask[(size_t)r * L->out + j])
                    s += (double)x[(size_t)i * L->in + r] * L->W[(size_t)r * L->out + j];
            for (int r = 0; r < L->cond; r++)
                s += (double)c[(size_t)i * L->cond + r] * L->V[(size_t)r * L->out + j];
            a[(size_t)i * L->out + j] = (float)s;
        }
}

void made__dense_backward_ref(made__dense *L, const uint8_t *mask, float *dx, const float *da,
                              const float *x, const float *c, int n)
{
    for (int r = 0; r < L->in; r++)
        for (int j = 0; j < L->out; j++) {
            if (mask && !mask[(size_t)r * L->out + j]) continue;
            double s = 0.0;
            for (int i = 0; i < n; i++)
                s += (double)x[(size_t)i * L->in + r] * da[(size_t)i * L->out + j];
            L->gW[(size_t)r * L->out + j] += (float)s;
        }
    for (int r = 0; r < L->cond; r++)
        for (int j = 0; j < L->out; j++) {
            double s = 0.0;
            for (int i = 0; i < n; i++)
                s += (double)c[(size_t)i * L->cond + r] * da[(size_t)i * L->out + j];
            L->gV[(size_t)r * L->out + j] += (float)s;
        }
    if (L->gb)
        for (int j = 0; j < L->out; j++) {
            double s = 0.0;
            for (int i = 0; i < n; i++) s += da[(size_t)i * L->out + j];
            L->gb[j] += (float)s;
        }
    if (!dx) return;
    for (int i = 0; i < n; i++)
        for (int r = 0; r < L->in; r++) {
            double s = 0.0;
            for (int j = 0; j < L->out; j++)
                if (!mask || mask[(size_t)r * L->out + j])
                    s += (double)da[(size_t)i * L->out + j] * L->W[(size_t)r * L->out + j];
            dx[(size_t)i * L->in + r] = (float)s;
        }
}
