/* sample.c - drawing samples. The fast sampler computes every hidden unit once,
 * when the inputs it depends on are known: at step d (the event of degree d is
 * drawn) the hidden units of degree d-1 become computable in every layer, and
 * the output units of the event of degree d read only units of smaller degree.
 * So a whole sample costs about one forward pass. The reference, which re-runs
 * the whole network once per dimension as peers do, is sample_naive.c; it
 * shares none of this file's code.
 *
 * Each unit is the float sum of its connected inputs in the layout's order
 * (unit_values), and the random numbers come from one stream per sample row,
 * one draw per event in degree order; so samples do not depend on the thread
 * count or the chunking, and equal the reference's bit for bit.
 *
 * The sweep itself (made__autoregress) does not know what an event's value is:
 * an emit step sets it from the event's outputs. Sampling draws it from the
 * distribution; a flow layer sets it to shift + scale * u (src/flow/).
 *
 * Layout: activations are kept transposed, [units, CHUNK], so that one unit's
 * values for all rows of the chunk are contiguous and the loops vectorise over
 * rows without changing the order of additions per value. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/internal.h"
#include "density/dist.h"
#include "net/activation.h"
#include "net/model.h"
#include "net/network.h"

/* Rows per block a thread takes (a multiple of the AVX2 path's 32-row blocks). */
#define ROWS 32
_Static_assert(MADE_CHUNK % ROWS == 0, "sampler blocks must tile a chunk");

/* Values of unit u of dense layer l for rows [r0, r1): out[i] = the chain b,
 * in[r][i] W[r][u] for r < kmax, c[j][i] V[j][u], on the model's kernel path
 * (net/kernel.h). in is [in, CHUNK] transposed. */
static void unit_values(const made__kernel *kern, const made__dense *L, int u, int kmax,
                        float *restrict out, const float *restrict in, const float *restrict ct,
                        int r0, int r1)
{
    const size_t ld = (size_t)L->out;
    kern->unit(kmax, in + r0, MADE_CHUNK, L->W + u, (ptrdiff_t)ld, out + r0, r1 - r0,
               L->b ? L->b[u] : 0.0f, 0);
    if (L->cond)
        kern->unit(L->cond, ct + r0, MADE_CHUNK, L->V + u, (ptrdiff_t)ld, out + r0, r1 - r0, 0.0f, 1);
}

/* Rows of kernel column u that can be non-zero: the staircase prefix (every
 * row with several mask sets, whose view is masked already). Exactly these: a
 * unit must not read units that are not computed yet (with the exponential
 * activation a not-yet-valid value can be inf, and inf * 0 is NaN). */
static int unit_rows(const made__dense *L, int u)
{
    return L->kend[u];
}

/* Computes the units listed in smp.units[l + 1][from..to) of dense layer l
 * (hidden layers) into the transposed buffer of layer l, rows [r0, r1). */
static void compute_hidden(made_model *m, int l, int from, int to, int r0, int r1)
{
    const made__dense *L = made__active_layer(m, l);
    const float *in = l == 0 ? m->xs : m->pre[l - 1];
    for (int t = from; t < to; t++) {
        int u = m->smp.units[l + 1][t];
        float *o = m->pre[l] + (size_t)u * MADE_CHUNK;
        unit_values(m->kern, L, u, unit_rows(L, u), o, in, m->smp.ct, r0, r1);
        made__act_forward(m->cfg.activation, o + r0, o + r0, (size_t)(r1 - r0));
    }
}

/* Computes the P output units s*P .. s*P+P-1 of the event at internal position
 * s for rows [r0, r1), then lets the emit step set the event's values. */
static void emit_event(made_model *m, int s, int r0, int r1, size_t row0, const made__ar_emit *emit)
{
    const int P = m->cfg.params, l = m->nl - 1;
    const made__dense *L = made__active_layer(m, l);
    const float *in = l == 0 ? m->xs : m->pre[l - 1];
    float *o = m->pre[l];
    for (int p = 0; p < P; p++) {
        int u = s * P + p;
        unit_values(m->kern, L, u, unit_rows(L, u), o + (size_t)u * MADE_CHUNK, in, m->smp.ct, r0,
                    r1);
    }
    emit->event(emit, m->perm[0][s], o + (size_t)s * P * MADE_CHUNK, m->xs + (size_t)s * MADE_CHUNK,
                r0, r1, row0);
}

/* The sampler's emit step: draws each row's value from the distribution. */
static void draw_chunk(const made__ar_emit *e, size_t row0, int rows)
{
    made_model *m = e->ctx;
    for (int i = 0; i < rows; i++) made__rng_seed(&m->smp.rngs[i], e->seed, (uint64_t)(row0 + (size_t)i));
}

static void draw_event(const made__ar_emit *e, int event, const float *theta_t, float *x, int r0,
                       int r1, size_t row0)
{
    (void)event;
    (void)row0;
    made_model *m = e->ctx;
    const int P = m->cfg.params;
    float *theta = m->smp.theta + (size_t)omp_get_thread_num() * P;
    for (int i = r0; i < r1; i++) {
        for (int p = 0; p < P; p++) theta[p] = theta_t[(size_t)p * MADE_CHUNK + i];
        x[i] = made__dist_sample(m->cfg.dist, theta, &m->smp.rngs[i]);
    }
}

int made__sample_check(const made_model *m, const float *x, const float *c, size_t n)
{
    if (!m || (!x && n)) return made__error(MADE_E_INVAL, "sample: NULL argument");
    const made_config *cfg = &m->cfg;
    if (cfg->dist.kind == MADE_DIST_NONE)
        return made__error(MADE_E_INVAL, "sample: the model has no output distribution (train it "
                           "with a distribution, or create it with one)");
    int rc = made__check_cond(m, c, n, "sample");
    if (rc) return rc;
    if (c && cfg->validate_args)
        return made__check_finite("conditional input", c, n, (size_t)cfg->conditional_size);
    return MADE_OK;
}

int made__autoregress(made_model *m, float *x, const float *c, size_t n, const made__ar_emit *emit)
{
    const made_config *cfg = &m->cfg;
    const int e = cfg->event_size, C = cfg->conditional_size;
    made__refresh_effective(m);
    for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
        int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
        if (emit->chunk) emit->chunk(emit, i0, rows);
        /* Rows past the last sample stay zero: the kernels read whole blocks. */
        memset(m->smp.ct, 0, (size_t)(C ? C : 1) * MADE_CHUNK * sizeof(float));
        for (int j = 0; j < C; j++)
            for (int i = 0; i < rows; i++)
                m->smp.ct[(size_t)j * MADE_CHUNK + i] = c[(i0 + (size_t)i) * C + j];
        /* Unknown inputs are 0 until emitted, hidden units 0 until computed. */
        memset(m->xs, 0, (size_t)e * MADE_CHUNK * sizeof(float));
        for (int l = 0; l < m->nl - 1; l++)
            memset(m->pre[l], 0, (size_t)m->width[l + 1] * MADE_CHUNK * sizeof(float));
        /* Rows are independent: each thread handles its own blocks of rows
         * through all E steps, with no synchronisation, and every value is
         * computed the same way whichever thread computes it. */
        const int nb = (rows + ROWS - 1) / ROWS;
#pragma omp parallel num_threads(m->threads)
        {
            const int T = omp_get_num_threads(), t = omp_get_thread_num();
            const int r0 = nb * t / T * ROWS, r1 = nb * (t + 1) / T * ROWS < rows ? nb * (t + 1) / T * ROWS : rows;
            for (int d = 1; d <= e && r0 < r1; d++) {
                /* The event of degree d (exactly one: orders are permutations). */
                int s = m->smp.units[0][m->smp.start[0][d]];
                /* Units of degree d-1 became computable; with E = 1 all
                 * hidden degrees are 0 and are computed at the first step. */
                for (int l = 0; l < m->nl - 1; l++)
                    compute_hidden(m, l, m->smp.start[l + 1][d - 1], m->smp.start[l + 1][d], r0, r1);
                emit_event(m, s, r0, r1, i0, emit);
            }
        }
        /* Scatter the events (internal positions) back to TFP's order. */
        for (int i = 0; i < rows; i++)
            for (int s = 0; s < e; s++)
                x[(i0 + (size_t)i) * e + m->perm[0][s]] = m->xs[(size_t)s * MADE_CHUNK + i];
    }
    return MADE_OK;
}

int made_model_sample(made_model *m, float *x, const float *c, size_t n, uint64_t seed)
{
    made__clear_error();
    int rc = made__sample_check(m, x, c, n);
    if (rc) return rc;
    made__ar_emit draw = {draw_event, draw_chunk, m, seed};
    return made__autoregress(m, x, c, n, &draw);
}
