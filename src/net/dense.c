/* dense.c - masked dense layer: staircase products over made's micro-kernels
 * (net/kernel.h), and the plain reference kernels they are tested against.
 *
 * The products are fed the BLIS way. W is packed in column panels once per
 * weight update (Wp, WTp). Each block of MADE_ROW_BLOCK rows of the left
 * operand (x in the forward product, da in the input gradient) is packed,
 * K_BLOCK columns at a time, into micro-panels of MADE_MR rows (pack_a); that
 * block is then reused by every column panel that reads it. Rows of at most
 * K_BLOCK values are read in place instead (rows_in_place). A panel's
 * K_BLOCK x 16 slice of W (16 KiB) stays in L1 across the block's row tiles,
 * and the packed rows (MADE_ROW_BLOCK x K_BLOCK floats, 48 KiB) in L2, so the
 * tile streams both operands with fixed steps. Cutting a chain at a k block
 * and continuing it from C changes no bit. */
#include <stdint.h>
#include <string.h>

#include "core/internal.h"
#include "net/activation.h"
#include "net/dense.h"

#define K_BLOCK 256

static int num_panels(int width) { return made__dense_panels(width); }
static int min_int(int a, int b) { return a < b ? a : b; }

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

/* C[rows m0..m1, w columns] (row stride ldc) = init + A[rows, k0..k1) @ B[k0..k1, w],
 * A row-major with stride lda, B row-major with stride ldb; init is the bias
 * row (or 0) when first, else C. Unpacked operands: the conditional part of
 * the forward product (c V, usually a few columns). */
static void panel_product(const made__kernel *kern, int m0, int m1, int k0, int k1,
                          const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                          int w, const float *bias, int first)
{
    int kb = k0;
    do {
        const int kk = min_int(K_BLOCK, k1 - kb);
        for (int i = m0; i < m1; i += MADE_MR)
            kern->tile(kk, A + (size_t)i * lda + kb, lda, 1, B + (size_t)kb * ldb, ldb,
                       C + (size_t)i * ldc, ldc, min_int(MADE_MR, m1 - i), w, bias,
                       !(first && kb == k0));
        kb += kk;
    } while (kb < k1);
}

/* 64-byte aligned, zeroed floats; *mem receives the allocation to free. */
static float *alloc_aligned(size_t n, void **mem)
{
    *mem = made__calloc(n + 16, sizeof(float));
    if (!*mem) return NULL;
    uintptr_t p = (uintptr_t)*mem;
    return (float *)((p + 63) & ~(uintptr_t)63);
}

int made__dense_alloc_packed(made__dense *L)
{
    L->Wp = alloc_aligned((size_t)num_panels(L->out) * MADE_PANEL * L->in, &L->Wp_mem);
    L->WTp = alloc_aligned((size_t)num_panels(L->in) * MADE_PANEL * L->out, &L->WTp_mem);
    if (!L->Wp || !L->WTp) {
        made__dense_free_packed(L);
        return MADE_E_NOMEM;
    }
    return MADE_OK;
}

void made__dense_free_packed(made__dense *L)
{
    made__free(L->Wp_mem);
    made__free(L->WTp_mem);
    L->Wp = L->WTp = NULL;
    L->Wp_mem = L->WTp_mem = NULL;
}

void made__dense_pack_panel(const made__kernel *kern, made__dense *L, int p)
{
    (void)kern;
    const int c0 = p * MADE_PANEL, w = min_int(MADE_PANEL, L->out - c0), K = made__panel_rows(L, c0);
    float *dst = L->Wp + (size_t)p * L->in * MADE_PANEL;
    const float *src = L->W + c0;
    /* A fixed-length copy per row (inlined and vectorised) for whole panels. */
    for (int k = 0; k < K; k++, dst += MADE_PANEL, src += L->out) {
        if (w == MADE_PANEL)
            for (int j = 0; j < MADE_PANEL; j++) dst[j] = src[j];
        else
            for (int j = 0; j < w; j++) dst[j] = src[j];
    }
}

void made__dense_pack_rows(made__dense *L, int g)
{
    const int r0 = g * MADE_PANEL, r1 = min_int(L->in, r0 + MADE_PANEL), np = num_panels(L->out);
    const int last = L->out - (np - 1) * MADE_PANEL; /* width of the last panel */
    /* Panel by panel, so each panel's rows are written one after another (a
     * row at a time would write to every panel in turn, each on its own
     * page). Panel p reads rows below made__panel_rows, non-decreasing in p:
     * the panels before the first that reads r0 read none of these rows. */
    int p = 0;
    while (p < np && made__panel_rows(L, p * MADE_PANEL) <= r0) p++;
    for (; p < np; p++) {
        const int re = min_int(r1, made__panel_rows(L, p * MADE_PANEL));
        const float *src = L->W + (size_t)r0 * L->out + p * MADE_PANEL;
        float *dst = L->Wp + ((size_t)p * L->in + r0) * MADE_PANEL;
        for (int r = r0; r < re; r++, src += L->out, dst += MADE_PANEL) {
            if (p < np - 1)
                for (int j = 0; j < MADE_PANEL; j++) dst[j] = src[j];
            else
                for (int j = 0; j < last; j++) dst[j] = src[j];
        }
    }
}

void made__dense_pack_tpanel(const made__kernel *kern, made__dense *L, int p)
{
    const int r0 = p * MADE_PANEL, w = min_int(MADE_PANEL, L->in - r0), cs = L->rstart[p];
    kern->transpose(w, L->out - cs, L->W + (size_t)r0 * L->out + cs, L->out,
                    L->WTp + ((size_t)p * L->out + cs) * MADE_PANEL, MADE_PANEL);
}

/* Packs rows [m0, m1) and columns [k0, k1) of A (row stride lda) into
 * micro-panels of MADE_MR rows, the A operand of ptile: row m0 + t*MADE_MR + i,
 * column k0 + k at ap[t*MADE_MR*(k1 - k0) + k*MADE_MR + i]. Rows past m1 in
 * the last micro-panel are zeros. */
static void pack_a(const made__kernel *kern, float *ap, const float *A, int lda, int m0, int m1,
                   int k0, int k1)
{
    static const float zeros[K_BLOCK];
    for (int r0 = m0; r0 < m1; r0 += MADE_MR, ap += (size_t)MADE_MR * (k1 - k0)) {
        const float *rows[MADE_MR];
        for (int i = 0; i < MADE_MR; i++)
            rows[i] = r0 + i < m1 ? A + (size_t)(r0 + i) * lda + k0 : zeros;
        kern->pack(k1 - k0, rows, ap);
    }
}

/* The row tiles of one column panel: for the rows [m0, m1), C (row stride
 * ldc) = init + A[., k] B[k, .] for the K values of k (K2 in columns 8-15)
 * from A's column k0 on, init the bias (or 0) unless load_c; and relu(C)
 * into H when H is not NULL. A is the packed block (ap: micro-panels of kk
 * columns, ptile) or, when lda > 0, the rows themselves (row i at A + i*lda,
 * rtile). */
static void panel_tiles(const made__kernel *kern, int m0, int m1, const float *A, ptrdiff_t lda,
                        int kk, int k0, int K, int K2, const float *B, float *C, ptrdiff_t ldc,
                        int w, const float *bias, int load_c, float *H)
{
    for (int i = m0; i < m1; i += MADE_MR) {
        const int mr = min_int(MADE_MR, m1 - i);
        float *c = C + (size_t)i * ldc, *h = H ? H + (size_t)i * ldc : NULL;
        if (lda)
            kern->rtile(K, K2, A + (size_t)i * lda + k0, lda, B, c, ldc, mr, w, bias, load_c, h);
        else
            kern->ptile(K, K2, A + (size_t)(i - m0) * kk + (size_t)k0 * MADE_MR, B, c, ldc, mr, w,
                        bias, load_c, h);
    }
}

/* Whether the rows of a left operand of width k are read in place (rtile)
 * rather than packed: when they fit one k block. Packing copies every value
 * once per layer and row block, which short chains do not pay back: in
 * place, E=64 [128,128] forward ran 6-8% faster at one thread, 5% at two.
 * Longer rows read in place ran the same or slower (E=784 [1000,1000] at
 * batch 100 on two threads: 5-7%), so they stay packed. */
static int rows_in_place(int k) { return k <= K_BLOCK; }

/* Rows [m0, m1) (fewer than MADE_ROW_BLOCK + MADE_MR) of the forward product.
 * Panel p's chains run over k < K_p = made__panel_rows in its right half and
 * k < made__half_rows in its left, both non-decreasing in p, so at k block kb
 * the panels still running are those from p0 on; a panel ends (c V) in the
 * block holding its K_p, and its left half may stop in an earlier block (a
 * no-op tile after).
 * A ReLU without a conditional kernel is applied by the tiles of that last
 * block (their results still in registers); other activations in a pass of
 * their own. */
static void forward_block(const made__kernel *kern, const made__dense *L, float *a, float *h,
                          made_activation act, const float *x, const float *c, int m0, int m1,
                          float *ap)
{
    const int in = L->in, out = L->out, np = num_panels(out);
    if (!a) a = h; /* pre-activations not kept: h holds the sums, then act(sum) */
    const int kmax = made__panel_rows(L, out - 1);
    const int fused = h && act == MADE_ACT_RELU && !L->cond, in_place = rows_in_place(in);
    int p0 = 0;
    for (int kb = 0; p0 < np; kb += K_BLOCK) {
        const int ke = min_int(kmax, kb + K_BLOCK);
        if (!in_place) pack_a(kern, ap, x, in, m0, m1, kb, ke);
        for (int p = p0; p < np; p++) {
            const int c0 = p * MADE_PANEL, w = min_int(MADE_PANEL, out - c0);
            const int K = made__panel_rows(L, c0), Kl = made__half_rows(L, c0);
            panel_tiles(kern, m0, m1, in_place ? x + kb : ap, in_place ? in : 0, ke - kb, 0,
                        Kl > kb ? min_int(Kl, ke) - kb : 0, min_int(K, ke) - kb,
                        L->Wp + ((size_t)p * in + kb) * MADE_PANEL, a + c0, out, w,
                        L->b ? L->b + c0 : NULL, kb > 0, fused && K <= ke ? h + c0 : NULL);
            if (K > ke) continue;
            if (L->cond)
                panel_product(kern, m0, m1, 0, L->cond, c, L->cond, L->V + c0, out, a + c0, out,
                              w, NULL, 0);
            if (p == p0) p0++;
        }
    }
    /* The activation on whole rows (the block's rows are still in L2), in
     * place when a is h. */
    if (h && !fused)
        for (int i = m0; i < m1; i++)
            made__act_forward(act, h + (size_t)i * out, a + (size_t)i * out, (size_t)out);
}

/* Rows [i0, i1) of src [n, width] by groups of g columns, group t at dst +
 * t*stride ([n][g], zeros past width), the gradient tile's operands. Rows in
 * blocks of 32, group by group: a block's lines of src stay in L1 for its
 * groups, and each group's part of the block is written as one run of 32 x g
 * floats. Inline, so that each g below is a constant. */
static inline void pack_groups(float *dst, size_t stride, int g, const float *src, int width,
                               int i0, int i1)
{
    for (int b0 = i0; b0 < i1; b0 += 32) {
        const int b1 = min_int(i1, b0 + 32);
        for (int c0 = 0, t = 0; c0 < width; c0 += g, t++) {
            const int w = min_int(g, width - c0);
            const float *s = src + (size_t)b0 * width + c0;
            float *d = dst + t * stride + (size_t)b0 * g;
            for (int i = b0; i < b1; i++, s += width, d += g) {
                if (w == g)
                    for (int k = 0; k < g; k++) d[k] = s[k];
                else
                    for (int k = 0; k < g; k++) d[k] = k < w ? s[k] : 0.0f;
            }
        }
    }
}

/* Rows [i0, i1) of x [n, in] and c [n, C] into every tile of the gradient's
 * inputs (dense.h, made__dense_grad_tiles), tile t at xp + t*ts. */
static void pack_grad_tiles(const made__dense *L, float *xp, size_t ts, const float *x,
                            const float *c, int i0, int i1)
{
    pack_groups(xp, ts, MADE_MR, x, L->in, i0, i1);
    if (L->cond) pack_groups(xp + made__dense_x_tiles(L) * ts, ts, MADE_MR, c, L->cond, i0, i1);
}

/* Shapes: x [n, in], W [in, out], c [n, C], V [C, out], a and h [n, out]. */
void made__dense_forward_rows(const made__kernel *kern, const made__dense *L, float *a, float *h,
                              made_activation act, const float *x, const float *c, int i0, int i1,
                              float *xp, size_t ts)
{
    _Alignas(64) float ap[(MADE_ROW_BLOCK + MADE_MR) * K_BLOCK];
    for (int m0 = i0, m1; m0 < i1; m0 = m1) {
        m1 = (int)made__row_block_end((size_t)m0, (size_t)i1);
        forward_block(kern, L, a, h, act, x, c, m0, m1, ap);
        /* The block's inputs, still in cache, packed for the weight gradient. */
        if (xp) pack_grad_tiles(L, xp, ts, x, c, m0, m1);
    }
}

/* Rows [m0, m1) of the input gradient. Row panel p's chain runs over the
 * columns j >= cs_p = rstart[p] (non-decreasing in p) up to out, so at k
 * block kb the panels with cs_p < ke take part, from max(cs_p, kb) on; all
 * end in the last block, where the panels no column reads (cs_p = out) are
 * set to their empty chain, 0. Then the activation's backward pass, on whole
 * rows while the block is in L2. */
static void input_grad_block(const made__kernel *kern, const made__dense *L, float *dx,
                             const float *da, int m0, int m1, made_activation act,
                             const float *a_in, const float *h_in, float *ap)
{
    const int in = L->in, out = L->out, np = num_panels(in), in_place = rows_in_place(out);
    for (int kb = 0; kb < out; kb += K_BLOCK) {
        const int ke = min_int(out, kb + K_BLOCK), last = ke == out;
        if (!in_place) pack_a(kern, ap, da, out, m0, m1, kb, ke);
        for (int p = 0; p < np; p++) {
            const int r0 = p * MADE_PANEL, w = min_int(MADE_PANEL, in - r0), cs = L->rstart[p];
            if (cs >= ke && !last) break;
            const int k0 = cs > kb ? cs : kb, K = ke > k0 ? ke - k0 : 0;
            panel_tiles(kern, m0, m1, in_place ? da + kb : ap, in_place ? out : 0, ke - kb,
                        K ? k0 - kb : 0, K, K,
                        L->WTp + ((size_t)p * out + k0) * MADE_PANEL, dx + r0, in, w, NULL,
                        k0 > cs, NULL);
        }
    }
    if (h_in)
        for (int i = m0; i < m1; i++) {
            size_t off = (size_t)i * in;
            made__act_backward(act, dx + off, dx + off, a_in + off, h_in + off, (size_t)in);
        }
}

/* Shapes: da [n, out], WT [out, in], dx, a_in and h_in [n, in]. */
void made__dense_input_grad_rows(const made__kernel *kern, const made__dense *L, float *dx,
                                 const float *da, int i0, int i1, made_activation act,
                                 const float *a_in, const float *h_in, float *dxp, size_t ps)
{
    _Alignas(64) float ap[(MADE_ROW_BLOCK + MADE_MR) * K_BLOCK];
    for (int m0 = i0, m1; m0 < i1; m0 = m1) {
        m1 = (int)made__row_block_end((size_t)m0, (size_t)i1);
        input_grad_block(kern, L, dx, da, m0, m1, act, a_in, h_in, ap);
        /* The block's rows of dx, still in cache, packed for the gradient. */
        if (dxp) made__dense_pack_grad_panels(dxp, ps, dx, L->in, m0, m1);
    }
}

void made__dense_pack_grad_panels(float *dap, size_t ps, const float *da, int width, int i0,
                                  int i1)
{
    pack_groups(dap, ps, MADE_PANEL, da, width, i0, i1);
}

/* Shapes: dap [n, MADE_PANEL]; gW, gb, gV as W, b, V. */
void made__dense_weight_grad_panel(const made__kernel *kern, made__dense *L, int p,
                                   const float *xp, size_t ts, const float *dap, int n)
{
    static const float one = 1.0f;
    const int out = L->out, c0 = p * MADE_PANEL, w = min_int(MADE_PANEL, out - c0);
    const int K = made__panel_rows(L, c0);
    /* gW[r][j] = sum over rows of x[row][r] da[row][j], stored by the tile;
     * then the entries outside the staircase (inside the panel's rectangle,
     * rows from kend[c0] on) are set to exact zeros. */
    for (int r = 0; r < K; r += MADE_MR)
        kern->gtile(n, xp + (size_t)(r / MADE_MR) * ts, MADE_MR, dap, L->gW + (size_t)r * out + c0,
                    out, min_int(MADE_MR, K - r), w);
    for (int r = L->kend[c0]; r < K; r++)
        for (int j = 0; j < w && L->kend[c0 + j] <= r; j++) L->gW[(size_t)r * out + c0 + j] = 0.0f;
    /* gb: the same tree with A = 1 (fmaf(1, d, acc) is acc + d). */
    if (L->gb) kern->gtile(n, &one, 0, dap, L->gb + c0, 0, 1, w);
    const int xtiles = made__dense_x_tiles(L);
    for (int q = 0; q < L->cond; q += MADE_MR)
        kern->gtile(n, xp + (size_t)(xtiles + q / MADE_MR) * ts, MADE_MR, dap,
                    L->gV + (size_t)q * out + c0, out, min_int(MADE_MR, L->cond - q), w);
}

int made__dense_weight_grads(const made__kernel *kern, made__dense *L, const float *x,
                             const float *c, const float *da, int n)
{
    const int nt = made__dense_grad_tiles(L), np = num_panels(L->out);
    const size_t ts = (size_t)n * MADE_MR, ps = (size_t)n * MADE_PANEL;
    float *xp = made__malloc(((size_t)nt * ts + 1) * sizeof *xp);
    float *dap = made__malloc(((size_t)np * ps + 1) * sizeof *dap);
    if (!xp || !dap) {
        made__free(xp);
        made__free(dap);
        return MADE_E_NOMEM;
    }
    pack_grad_tiles(L, xp, ts, x, c, 0, n);
    made__dense_pack_grad_panels(dap, ps, da, L->out, 0, n);
    for (int p = 0; p < np; p++)
        made__dense_weight_grad_panel(kern, L, p, xp, ts, dap + p * ps, n);
    made__free(xp);
    made__free(dap);
    return MADE_OK;
}

void made__dense_forward(const made__kernel *kern, made__dense *L, float *a, const float *x,
                         const float *c, int n)
{
    for (int p = 0; p < num_panels(L->out); p++) made__dense_pack_panel(kern, L, p);
    made__dense_forward_rows(kern, L, a, NULL, MADE_ACT_LINEAR, x, c, 0, n, NULL, 0);
}

int made__dense_backward(const made__kernel *kern, made__dense *L, float *dx, const float *da,
                         const float *x, const float *c, int n)
{
    for (int p = 0; p < num_panels(L->in); p++) made__dense_pack_tpanel(kern, L, p);
    int rc = made__dense_weight_grads(kern, L, x, c, da, n);
    if (!rc && dx)
        made__dense_input_grad_rows(kern, L, dx, da, 0, n, MADE_ACT_LINEAR, NULL, NULL, NULL, 0);
    return rc;
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
            double s = 0.0;
            if (!mask || mask[(size_t)r * L->out + j])
                for (int i = 0; i < n; i++)
                    s += (double)x[(size_t)i * L->in + r] * da[(size_t)i * L->out + j];
            L->gW[(size_t)r * L->out + j] = (float)s;
        }
    for (int r = 0; r < L->cond; r++)
        for (int j = 0; j < L->out; j++) {
            double s = 0.0;
            for (int i = 0; i < n; i++)
                s += (double)c[(size_t)i * L->cond + r] * da[(size_t)i * L->out + j];
            L->gV[(size_t)r * L->out + j] = (float)s;
        }
    if (L->gb)
        for (int j = 0; j < L->out; j++) {
            double s = 0.0;
            for (int i = 0; i < n; i++) s += da[(size_t)i * L->out + j];
            L->gb[j] = (float)s;
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
