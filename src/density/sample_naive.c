/* sample_naive.c - the reference sampler: for each dimension in degree order,
 * a plain full forward pass of every sample row, then that dimension's draw.
 * It shares nothing with the fast sampler (sample.c) but the model's stored
 * weights, its degrees and the distributions' draw: no sampling plan, no
 * staircase prefixes, no per-unit kernel, no transposed buffers, no threads.
 * Which connections exist is decided here from the degrees, by MADE's rule
 * (eq. 8 and 9 of Germain et al. 2015): hidden unit u sees unit r of the layer
 * below when deg(u) >= deg(r), and an output of event k when deg(k) > deg(r).
 *
 * Why the two samplers give the same bits. Each unit here is the chain of
 * fused multiply-adds acc = b, acc = fmaf(x_r, W_r, acc) over the connected
 * inputs in increasing index of the model's layout, then acc = fmaf(c_j, V_j,
 * acc): the sum as the layer defines it (net/kernel.h), evaluated left to
 * right, with fmaf written out. The fast sampler's kernel evaluates that same
 * chain (the inputs it skips are
 * exactly the unconnected ones; with several mask sets it adds them as exact
 * zeros), and both draw from one random stream per row, dimensions in degree
 * order. So any difference in the samples is a bug, and the tests compare the
 * two bit for bit. (A double-precision reference would be more accurate than
 * the fast sampler, not equal to it: continuous samples would differ in their
 * last bits and feed that into later dimensions, and a discrete draw would
 * flip whenever its uniform fell within rounding distance of a threshold, so
 * the check would need a tolerance and would catch less.) The exceptions come
 * from the terms the fast sampler adds as exact zeros with several mask sets:
 * a zero sum can change its sign, which changes no sample value, and an
 * infinite activation times a zero weight is NaN there but skipped here; a
 * network whose activations overflow gives non-finite outputs either way. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "density/dist.h"
#include "net/activation.h"
#include "net/model.h"

/* Degree of internal unit u of layer-of-units l (0 = events, nl = outputs) in
 * set d: the unit's external index, then its degree (an output unit has its
 * event's). */
static inline int degree(const made_model *m, const made__degrees *d, int l, int u)
{
    int ext = m->perm[l][u];
    return l == m->nl ? d->deg[0][ext / m->cfg.params] : d->deg[l][ext];
}

/* Dense layer l for rows [0, rows): every unit u, from the layer's input
 * (m->xs for l = 0, else m->pre[l - 1]) into m->pre[l], then the activation
 * for hidden layers. Buffers hold one unit's rows contiguously ([units,
 * MADE_CHUNK]) so the innermost loop runs over rows; each value accumulates
 * its terms in the order the layer defines: bias, inputs r = 0, 1, ...,
 * conditional inputs (m->smp.ct, [C, MADE_CHUNK]). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* Two builds of this one function, chosen by the CPU at load time: with FMA
 * the compiler can inline fmaf as one instruction instead of calling libm
 * for every term. fmaf is exact either way, so both give the same bits. */
__attribute__((target_clones("fma", "default")))
#endif
static void plain_layer(made_model *m, const made__degrees *d, int l, int rows)
{
    const made__dense *L = &m->layer[l];
    const int last = l == m->nl - 1;
    const float *in = l == 0 ? m->xs : m->pre[l - 1];
    for (int u = 0; u < L->out; u++) {
        float *o = m->pre[l] + (size_t)u * MADE_CHUNK;
        const int du = degree(m, d, l + 1, u);
        const float b = L->b ? L->b[u] : 0.0f;
        for (int i = 0; i < rows; i++) o[i] = b;
        for (int r = 0; r < L->in; r++) {
            const int dr = degree(m, d, l, r);
            if (last ? du <= dr : du < dr) continue; /* no connection */
            const float w = L->W[(size_t)r * L->out + u], *x = in + (size_t)r * MADE_CHUNK;
            for (int i = 0; i < rows; i++) o[i] = fmaf(x[i], w, o[i]);
        }
        for (int j = 0; j < L->cond; j++) {
            const float v = L->V[(size_t)j * L->out + u], *cj = m->smp.ct + (size_t)j * MADE_CHUNK;
            for (int i = 0; i < rows; i++) o[i] = fmaf(cj[i], v, o[i]);
        }
        if (!last) made__act_forward(m->cfg.activation, o, o, (size_t)rows);
    }
}

/* Internal input position of the event with degree k in set d. */
static int event_of_degree(const made_model *m, const made__degrees *d, int k)
{
    for (int s = 0; s < m->cfg.event_size; s++)
        if (degree(m, d, 0, s) == k) return s;
    return -1; /* not reached: orders are permutations of 1..E */
}

/* Samples rows [i0, i0 + rows) into x (TFP's order). */
static void sample_chunk(made_model *m, float *x, const float *c, size_t i0, int rows,
                         uint64_t seed)
{
    const made__degrees *d = &m->masks[m->cur_mask];
    const int e = m->cfg.event_size, P = m->cfg.params, C = m->cfg.conditional_size;
    made__rng *rng = m->smp.rngs;
    float *theta = m->smp.theta;
    for (int i = 0; i < rows; i++) made__rng_seed(&rng[i], seed, (uint64_t)(i0 + (size_t)i));
    for (int j = 0; j < C; j++)
        for (int i = 0; i < rows; i++) m->smp.ct[(size_t)j * MADE_CHUNK + i] = c[(i0 + (size_t)i) * C + j];
    for (int s = 0; s < e; s++) memset(m->xs + (size_t)s * MADE_CHUNK, 0, (size_t)rows * sizeof(float));
    for (int k = 1; k <= e; k++) {
        for (int l = 0; l < m->nl; l++) plain_layer(m, d, l, rows);
        /* Event s owns output units s*P .. s*P+P-1. */
        const int s = event_of_degree(m, d, k);
        const float *out = m->pre[m->nl - 1];
        for (int i = 0; i < rows; i++) {
            for (int p = 0; p < P; p++) theta[p] = out[(size_t)(s * P + p) * MADE_CHUNK + i];
            m->xs[(size_t)s * MADE_CHUNK + i] = made__dist_sample(m->cfg.dist, theta, &rng[i]);
        }
    }
    for (int i = 0; i < rows; i++)
        for (int t = 0; t < e; t++)
            x[(i0 + (size_t)i) * e + m->perm[0][t]] = m->xs[(size_t)t * MADE_CHUNK + i];
}

int made_model_sample_naive(made_model *m, float *x, const float *c, size_t n, uint64_t seed)
{
    made__clear_error();
    int rc = made__sample_check(m, x, c, n);
    if (rc) return rc;
    for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
        int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
        sample_chunk(m, x, c, i0, rows, seed);
    }
    return MADE_OK;
}
