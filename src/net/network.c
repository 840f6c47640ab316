/* network.c - the whole network, forward and backward, block by block. */
#include <assert.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "core/internal.h"
#include "net/model.h"
#include "net/network.h"

void made__refresh_effective(made_model *m)
{
    if (m->packed) return;
    made__refresh_masked_view(m);
    for (int l = 0; l < m->nl; l++) {
        made__dense *L = made__active_layer(m, l);
        for (int p = 0; p < made__dense_panels(L->out); p++) made__dense_pack_panel(m->kern, L, p);
    }
    m->packed = 1;
}

void made__refresh_masked_view(made_model *m)
{
    if (m->cfg.num_masks == 1) return;
    for (int l = 0; l < m->nl; l++) {
        made__dense *E = &m->eff[l];
        const made__dense *L = &m->layer[l];
        size_t nw = (size_t)L->in * L->out;
        for (size_t i = 0; i < nw; i++) E->W[i] = m->cur[l][i] ? L->W[i] : 0.0f;
        E->b = L->b;
        E->V = L->V;
        E->gW = L->gW;
        E->gb = L->gb;
        E->gV = L->gV;
    }
}

static int is_identity(const int *perm, int n)
{
    for (int i = 0; i < n; i++)
        if (perm[i] != i) return 0;
    return 1;
}

/* Rows [i0, i1) of x (external order, E columns) into xs (internal order):
 * xs[i][s] = x[i][perm[s]]; in the natural order, rows copied whole. */
static void gather_rows(const made_model *m, float *xs, const float *x, int i0, int i1)
{
    const int e = m->width[0];
    const int *perm = m->perm[0];
    if (is_identity(perm, e)) {
        memcpy(xs + (size_t)i0 * e, x + (size_t)i0 * e, (size_t)(i1 - i0) * e * sizeof(float));
        return;
    }
    for (int i = i0; i < i1; i++)
        for (int s = 0; s < e; s++) xs[(size_t)i * e + s] = x[(size_t)i * e + perm[s]];
}

int made__threads_for(const made_model *m, size_t n, double passes)
{
    double work = (double)n * m->flops_row * passes;
    double T = m->min_thread_work > 0 ? work / m->min_thread_work : (double)m->threads;
    if (T > m->threads) T = m->threads;
    if (T > (double)n) T = (double)n;
    return T < 1 ? 1 : (int)T;
}

void made__row_range(int n, int t, int T, int *i0, int *i1)
{
    /* Equal shares of rows, not of whole tiles: a share that ends in a short
     * tile of 1-3 rows pays about half a tile for it (kernel_avx2.c), so 100
     * rows split 50 + 50 (8 tiles and 2 rows each) instead of 48 + 52 (8 and
     * 9 tiles). Which thread computes a row changes no bit. */
    *i0 = (int)((long long)n * t / T);
    *i1 = (int)((long long)n * (t + 1) / T);
}

/* Rows [i0, i1) of the forward pass through every layer. Without w (no
 * backward pass follows), a layer with an activation keeps only its output
 * post[l], not its pre-activations. With w, each layer's inputs are also
 * packed for its parameter gradient (w->gx), block by block while they are
 * in cache. */
static void forward_rows(made_model *m, const float *xs, float *const *pre, float *const *post,
                         const float *c, int i0, int i1, made__work *w)
{
    const float *h = xs;
    for (int l = 0; l < m->nl; l++) {
        made__dense_forward_rows(m->kern, made__active_layer(m, l),
                                 w || !post[l] ? pre[l] : NULL, post[l], m->cfg.activation, h, c,
                                 i0, i1, w ? w->gx[l] : NULL, w ? (size_t)w->cap * MADE_MR : 0);
        h = post[l] ? post[l] : pre[l];
    }
}

/* Threads for an inference pass of n rows, counted as two passes' work:
 * with no barrier inside, a thread pays only for waking and joining, so it
 * gains from half the work a training step needs. E=64 [128,128] forward on
 * two threads against one (make bench's passive waiting): 0.75x at 10.5 MFLOP
 * (batch 300), 1.0x at 17.5 (500), 1.47x at 35 (1000); from 2e7, two threads
 * are used. At most MADE_CHUNK: each thread needs a slice of the scratch. */
static int infer_threads(const made_model *m, size_t n)
{
    const int T = made__threads_for(m, n, 2.0);
    return T < MADE_CHUNK ? T : MADE_CHUNK;
}

/* One piece: rows x[len, E] (external order) and c[len, C] through the
 * network in the scratch rows from s0; returns the outputs (internal order),
 * written into y when y is not NULL, and sets *xs to the inputs in internal
 * order (x itself when that is its order). */
static const float *infer_piece(made_model *m, const float *x, const float *c, int len, size_t s0,
                                float *y, const float **xs)
{
    const int e = m->width[0];
    *xs = x;
    if (!is_identity(m->perm[0], e)) {
        float *g = m->xs + s0 * e;
        gather_rows(m, g, x, 0, len);
        *xs = g;
    }
    float *pre[MADE_MAX_HIDDEN + 1], *post[MADE_MAX_HIDDEN + 1];
    for (int l = 0; l < m->nl; l++) {
        pre[l] = m->pre[l] + s0 * m->width[l + 1];
        post[l] = m->post[l] ? m->post[l] + s0 * m->width[l + 1] : NULL;
    }
    if (y) pre[m->nl - 1] = y;
    forward_rows(m, *xs, pre, post, c, 0, len, NULL);
    return pre[m->nl - 1];
}

void made__infer(made_model *m, const float *x, const float *c, size_t n, float *y,
                 made__piece_fn *fn, void *arg)
{
    const size_t e = (size_t)m->width[0], C = (size_t)m->cfg.conditional_size;
    const size_t w = (size_t)m->width[m->nl];
#pragma omp parallel num_threads(infer_threads(m, n))
    {
        /* Thread t of T: rows [r0, r1) of n, its scratch rows [s0, s0 + slice). */
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        const size_t r0 = (size_t)((unsigned long long)n * t / T);
        const size_t r1 = (size_t)((unsigned long long)n * (t + 1) / T);
        const size_t s0 = (size_t)MADE_CHUNK * t / T;
        const size_t slice = (size_t)MADE_CHUNK * (t + 1) / T - s0;
        for (size_t i = r0, next; i < r1; i = next) {
            next = made__row_block_end(i, r1);
            if (next - i > slice) next = i + slice;
            const int len = (int)(next - i);
            const float *xs;
            const float *out = infer_piece(m, x + i * e, c ? c + i * C : NULL, len, s0,
                                           y ? y + i * w : NULL, &xs);
            if (fn) fn(arg, out, xs, i, len);
        }
    }
}

void made__net_pack(made_model *m)
{
    /* Items: every layer's row panels of W, each copied into Wp (forward) and
     * WTp (input gradient) while its rows are in cache. */
    int total = 0;
    for (int l = 0; l < m->nl; l++) total += made__dense_panels(m->width[l]);
#pragma omp for schedule(dynamic, 2)
    for (int q = 0; q < total; q++) {
        int l = 0, g = q;
        while (g >= made__dense_panels(m->width[l])) g -= made__dense_panels(m->width[l++]);
        made__dense *L = made__active_layer(m, l);
        made__dense_pack_rows(L, g);
        made__dense_pack_tpanel(m->kern, L, g);
    }
}

void made__work_free(made__work *w)
{
    made__free(w->xs);
    for (int l = 0; l <= MADE_MAX_HIDDEN; l++) {
        made__free(w->pre[l]);
        made__free(w->post[l]);
        made__free(w->d[l]);
    }
    made__free(w->lp);
    made__free(w->gbuf);
    for (int l = 0; l <= MADE_MAX_HIDDEN; l++) made__free(w->gx[l]);
    made__free(w->gd_mem);
    memset(w, 0, sizeof *w);
}

int made__work_reserve(made__work *w, const made_model *m, int rows, int threads)
{
    if (rows <= w->cap && threads <= w->threads) return MADE_OK;
    if (rows < w->cap) rows = w->cap;
    if (threads < w->threads) threads = w->threads;
    made__work_free(w);
    const size_t R = (size_t)rows;
    w->xs = made__malloc(R * m->width[0] * sizeof(float));
    w->lp = made__malloc(R * sizeof(double));
    w->gbuf = made__malloc((size_t)threads * m->cfg.params * sizeof(double));
    size_t panels = 0; /* every layer's panels of d, one block, 64-byte aligned */
    for (int l = 0; l < m->nl; l++) panels += (size_t)made__dense_panels(m->width[l + 1]);
    w->gd_mem = made__malloc((panels * R * MADE_PANEL + 16) * sizeof(float));
    int ok = w->xs && w->lp && w->gbuf && w->gd_mem;
    float *gd = ok ? (float *)(((uintptr_t)w->gd_mem + 63) & ~(uintptr_t)63) : NULL;
    for (int l = 0; l < m->nl && ok; l++) {
        w->gd[l] = gd;
        gd += (size_t)made__dense_panels(m->width[l + 1]) * R * MADE_PANEL;
    }
    for (int l = 0; l < m->nl && ok; l++) {
        size_t sz = R * m->width[l + 1] * sizeof(float);
        w->pre[l] = made__malloc(sz);
        w->d[l] = made__malloc(sz);
        w->gx[l] = made__malloc((size_t)made__dense_grad_tiles(&m->layer[l]) * R * MADE_MR *
                                sizeof(float));
        ok = w->pre[l] && w->d[l] && w->gx[l];
        if (ok && m->post[l]) ok = (w->post[l] = made__malloc(sz)) != NULL;
    }
    if (!ok) {
        made__work_free(w);
        return MADE_E_NOMEM;
    }
    w->cap = rows;
    w->threads = threads;
    return MADE_OK;
}

void made__work_forward_rows(made_model *m, made__work *w, const float *x, const float *c, int i0,
                             int i1)
{
    gather_rows(m, w->xs, x, i0, i1);
    forward_rows(m, w->xs, w->pre, w->post, c, i0, i1, w);
}

void made__work_backward_rows(made_model *m, made__work *w, int i0, int i1, int pack)
{
    const int nl = m->nl;
    const size_t ps = (size_t)w->cap * MADE_PANEL;
    /* The top layer's d comes from the loss: its rows are read once more. */
    if (pack) made__dense_pack_grad_panels(w->gd[nl - 1], ps, w->d[nl - 1], m->width[nl], i0, i1);
    /* d[l - 1] = (d[l] W^T) * act'(pre[l - 1]), the activation's backward
     * pass fused into the input-gradient panels. */
    for (int l = nl - 1; l >= 1; l--)
        made__dense_input_grad_rows(m->kern, made__active_layer(m, l), w->d[l - 1], w->d[l], i0,
                                    i1, m->cfg.activation, w->pre[l - 1], w->post[l - 1],
                                    pack ? w->gd[l - 1] : NULL, ps);
}

void made__net_weight_grads(made_model *m, const made__work *w, int n, int lo, int hi)
{
    (void)lo, (void)hi; /* the node's bits depend only on its rows (network.h) */
    const size_t ts = (size_t)w->cap * MADE_MR, ps = (size_t)w->cap * MADE_PANEL;
    /* Each (layer, panel) item is computed whole by one thread, the same
     * way whichever thread takes it. */
    int total = 0;
    for (int l = 0; l < m->nl; l++) total += made__dense_panels(m->width[l + 1]);
#pragma omp for schedule(dynamic, 1)
    for (int q = 0; q < total; q++) {
        int l = 0, p = q;
        while (p >= made__dense_panels(m->width[l + 1])) p -= made__dense_panels(m->width[l++ + 1]);
        made__dense_weight_grad_panel(m->kern, made__active_layer(m, l), p, w->gx[l], ts,
                                      w->gd[l] + p * ps, n);
    }
}

void made__grads_finish(made_model *m)
{
    if (m->cfg.num_masks == 1) return;
    for (int l = 0; l < m->nl; l++) {
        made__dense *L = &m->layer[l];
        size_t nw = (size_t)L->in * L->out;
        for (size_t i = 0; i < nw; i++)
            if (!m->cur[l][i]) L->gW[i] = 0.0f;
    }
}

/* Scatters a piece's internal output columns back to TFP's interleaved
 * layout. */
typedef struct {
    float *y;
    const int *perm;
    size_t w;
} scatter_args;

static void scatter_piece(void *arg, const float *out, const float *xs, size_t i0, int len)
{
    (void)xs;
    const scatter_args *sc = arg;
    float *yb = sc->y + i0 * sc->w;
    for (int r = 0; r < len; r++)
        for (size_t u = 0; u < sc->w; u++) yb[r * sc->w + sc->perm[u]] = out[r * sc->w + u];
}

int made_model_forward(made_model *m, float *y, const float *x, const float *c, size_t n)
{
    made__clear_error();
    if (!m || (!y && n) || (!x && n)) return made__error(MADE_E_INVAL, "forward: NULL argument");
    const made_config *cfg = &m->cfg;
    int rc = made__check_cond(m, c, n, "forward");
    if (rc) return rc;
    const int e = cfg->event_size, C = cfg->conditional_size;
    const size_t out_w = (size_t)m->width[m->nl];
    if (cfg->validate_args) {
        rc = made__check_finite("input", x, n, (size_t)e);
        if (!rc && c) rc = made__check_finite("conditional input", c, n, (size_t)C);
        if (rc) return rc;
    }
    made__refresh_effective(m);
    /* Outputs in internal order are written straight into y: the scatter
     * copy is skipped, not the values changed. */
    scatter_args sc = {y, m->perm[m->nl], out_w};
    const int out_place = is_identity(sc.perm, (int)out_w);
    made__infer(m, x, c, n, out_place ? y : NULL, out_place ? NULL : scatter_piece, &sc);
    if (cfg->validate_args) return made__check_finite("output", y, n, out_w);
    return MADE_OK;
}

void made__net_forward_kept(made_model *m, made__work *w, const float *x, const float *c, int n)
{
    made__refresh_masked_view(m);
    /* Packed here when stale (after a step, the optimiser's fused update has
     * written both copies), so the backward pass finds W^T ready too. */
    const int pack = !(m->packed && m->packed_t);
    int T = made__threads_for(m, (size_t)n, 1.0);
    if (T > w->threads) T = w->threads;
#pragma omp parallel num_threads(T)
    {
        int i0, i1;
        made__row_range(n, omp_get_thread_num(), omp_get_num_threads(), &i0, &i1);
        if (pack) made__net_pack(m);
        if (i0 < i1) made__work_forward_rows(m, w, x, c, i0, i1);
    }
    m->packed = m->packed_t = 1;
}

int made__net_check_kept(const made_model *m, const made__work *w, const float *x, const float *c,
                         int n)
{
    if (!m->cfg.validate_args) return MADE_OK;
    const int e = m->cfg.event_size, C = m->cfg.conditional_size, ow = m->width[m->nl];
    int rc = made__check_finite("input", x, (size_t)n, (size_t)e);
    if (!rc && c) rc = made__check_finite("conditional input", c, (size_t)n, (size_t)C);
    if (rc) return rc;
    /* In made_model_forward's order: rows, then external output columns. */
    const float *out = w->pre[m->nl - 1];
    const int *inv = m->inv[m->nl];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ow; j++) {
            float v = out[(size_t)i * ow + inv[j]];
            if (!isfinite(v))
                return made__error(MADE_E_NONFINITE, "output: row %d, column %d is %g", i + 1,
                                   j + 1, (double)v);
        }
    return MADE_OK;
}

void made__net_backward_dx(made_model *m, made__work *w, int n, float *dxs)
{
    assert(m->packed && m->packed_t);
    int T = made__threads_for(m, (size_t)n, 2.0);
    if (T > w->threads) T = w->threads;
#pragma omp parallel num_threads(T)
    {
        int i0, i1;
        made__row_range(n, omp_get_thread_num(), omp_get_num_threads(), &i0, &i1);
        if (i0 < i1) {
            /* Each thread's rows: no other row is read. */
            made__work_backward_rows(m, w, i0, i1, 1);
            if (dxs)
                made__dense_input_grad_rows(m->kern, made__active_layer(m, 0), dxs, w->d[0], i0,
                                            i1, m->cfg.activation, NULL, NULL, NULL, 0);
        }
#pragma omp barrier
        made__net_weight_grads(m, w, n, 0, made__grad_blocks(n));
    }
    made__grads_finish(m);
}
