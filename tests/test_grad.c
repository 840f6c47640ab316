/* test_grad.c - finite-difference checks of every gradient the trainer uses.
 *
 * The analytic gradient of the mean NLL comes from the trainer itself: a
 * made_trainer_step with plain SGD, momentum 0 and lr 1e-30 leaves the
 * parameters unchanged (checked) and the gradient in m->grads (internal layout,
 * the same as m->params). It is compared with central differences of
 * made_model_nll on the free entries of m->params only (unmasked kernel entries,
 * biases, conditional kernels): a masked entry is not a parameter.
 *
 * The differences use power-of-two steps (exact, symmetric float steps) with
 * Richardson extrapolation, halving the step while successive estimates
 * disagree; tolerance 2% relative + 2e-4 absolute. For activations with a kink
 * (relu, selu at 0, hard_sigmoid at +-2.5) an entry is skipped when moving it
 * by the step moves any hidden unit across a kink. A self-test shows that a
 * gradient 5% off in one entry, or with two entries swapped, is caught.
 *
 * Covered: every activation x {bias, no bias} x {unconditional, conditional on
 * all layers, conditional on the first layer} x {bernoulli, gaussian,
 * categorical:3, mog:2}, order-agnostic models (num_masks 2), batches of more
 * than one block of rows (and the same bits with two threads); the
 * distributions' own gradients (made__dist_log_prob_grad) in double, with
 * extreme logits and gaussian log-scales around the clamp; the per-example
 * fast path against it; TensorFlow's conventions at the kinks; masked entries
 * exactly zero, gradients and parameters, after steps. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "density/dist.h"
#include "harness.h"
#define UTIL_GEN_SEED 0x67726164u
#include "made.h"
#include "net/activation.h"
#include "net/kernel.h"
#include "net/model.h"
#include "net/network.h"
#include "train/trainer.h"
#include "threads.h"
#include "util.h"

/* ---- the test's own generator (splitmix64) --------------------------------- */

/* Uniform in [0, 1). */
static double gen_unit(void) { return (double)(gen_next() >> 11) * 0x1.0p-53; }

/* Standard normal (Box-Muller). */
static double gen_normal(void)
{
    double u = gen_unit(), v = gen_unit();
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* ---- configurations -------------------------------------------------------- */

static const made_dist DISTS[] = {
    {MADE_DIST_BERNOULLI, 0},
    {MADE_DIST_GAUSSIAN, 0},
    {MADE_DIST_CATEGORICAL, 3},
    {MADE_DIST_MOG, 2},
};
#define N_DISTS ((int)(sizeof DISTS / sizeof *DISTS))

enum { COND_NONE, COND_ALL, COND_FIRST };

static const char *cond_name(int cond)
{
    return cond == COND_NONE ? "unconditional" : cond == COND_ALL ? "cond-all" : "cond-first";
}

/* Activations whose first derivative jumps: relu and selu at 0 (selu's slope
 * is scale * alpha = 1.758 just below 0 and scale = 1.051 above), hard_sigmoid
 * at -2.5 and 2.5. */
static int is_kinked(made_activation a)
{
    return a == MADE_ACT_RELU || a == MADE_ACT_SELU || a == MADE_ACT_HARD_SIGMOID;
}

/* A data value in the distribution's support. */
static float draw_value(made_dist d)
{
    switch (d.kind) {
    case MADE_DIST_BERNOULLI: return (float)(gen_next() & 1);
    case MADE_DIST_CATEGORICAL: return (float)gen_int(0, d.k - 1);
    default: return (float)gen_normal();
    }
}

typedef struct gcase {
    made_activation act;
    int bias, cond, masks;
    made_dist dist;
} gcase;

static void describe(char *buf, size_t size, const gcase *g, const made_config *cfg)
{
    char dn[32];
    made_dist_format(dn, sizeof dn, g->dist);
    snprintf(buf, size, "act=%s bias=%d %s dist=%s masks=%d E=%d hidden=[%d,%d] seed=%u",
             made_activation_name(g->act), g->bias, cond_name(g->cond), dn, g->masks,
             cfg->event_size, cfg->hidden_units[0], cfg->hidden_units[1], (unsigned)cfg->seed);
}

static made_model *build(const gcase *g, made_config *cfg)
{
    made_config_default(cfg);
    cfg->event_size = gen_int(4, 6);
    cfg->dist = g->dist;
    cfg->params = made_dist_params(g->dist);
    cfg->n_hidden = 2;
    cfg->hidden_units[0] = 7;
    cfg->hidden_units[1] = 6;
    cfg->input_order = MADE_ORDER_RANDOM;
    cfg->activation = g->act;
    cfg->use_bias = g->bias;
    cfg->seed = (uint32_t)gen_next();
    cfg->num_masks = g->masks;
    /* exp(exp(.)) grows fast: smaller kernels keep the exponential network's
     * outputs (and so the NLL's float rounding) moderate. */
    const char *init = g->act == MADE_ACT_EXPONENTIAL ? "random_normal:0,0.15" : "random_normal:0,0.5";
    if (made_initializer_parse(init, &cfg->kernel_initializer) ||
        made_initializer_parse(init, &cfg->bias_initializer))
        return NULL;
    if (g->cond != COND_NONE) {
        cfg->conditional_size = 2;
        cfg->conditional_layers = g->cond == COND_ALL ? MADE_COND_ALL_LAYERS : MADE_COND_FIRST_LAYER;
    }
    made_model *m = NULL;
    if (made_model_create(&m, cfg) != MADE_OK) return NULL;
    /* Continuous outputs: a smaller output layer keeps log-scales near 0. With
     * log-scales of -3 the NLL is in the hundreds and its float rounding,
     * divided by h, swamps the finite differences. */
    if (g->dist.kind == MADE_DIST_GAUSSIAN || g->dist.kind == MADE_DIST_MOG) {
        made__dense *L = &m->layer[m->nl - 1];
        float *end = m->params + m->n_params;
        for (float *p = L->W; p < end; p++) *p *= 0.3f;
        made__weights_changed(m); /* written directly: the packed copies are stale */
    }
    return m;
}

/* ---- free entries of the flat parameter block ------------------------------ */

/* Lists the indices into m->params of every free parameter: allowed kernel
 * entries, biases, conditional kernels. Returns the count. */
static size_t free_entries(const made_model *m, size_t *idx)
{
    size_t k = 0;
    for (int l = 0; l < m->nl; l++) {
        const made__dense *L = &m->layer[l];
        size_t w0 = (size_t)(L->W - m->params);
        for (int r = 0; r < L->in; r++)
            for (int c = 0; c < L->out; c++)
                if (made__entry_allowed(m, l, r, c)) idx[k++] = w0 + (size_t)r * L->out + c;
        if (L->b)
            for (int c = 0; c < L->out; c++) idx[k++] = (size_t)(L->b - m->params) + c;
        if (L->V)
            for (size_t i = 0; i < (size_t)L->cond * L->out; i++)
                idx[k++] = (size_t)(L->V - m->params) + i;
    }
    return k;
}

/* ---- kinks ----------------------------------------------------------------- */

/* Region of every hidden pre-activation (relu: a > 0; hard_sigmoid: below,
 * inside or above the linear part) for rows x[n] (n <= MADE_CHUNK). Two runs
 * with the same pattern went through the same linear pieces; with two hidden
 * layers a hidden pre-activation is monotone in any single parameter, so equal
 * patterns at p - h, p and p + h mean no kink was crossed in between. */
static size_t kink_pattern(made_model *m, const float *x, const float *c, int n, uint8_t *pat)
{
    size_t k = 0;
    made__weights_changed(m); /* callers write m->params directly */
    made__refresh_effective(m);
    /* The training pass's forward, which keeps the pre-activations (an
     * inference pass keeps only each layer's output). */
    made__work w = {0};
    CHECK_OK(made__work_reserve(&w, m, n, 1));
    made__work_forward_rows(m, &w, x, c, 0, n);
    for (int l = 0; l < m->nl - 1; l++) {
        size_t cnt = (size_t)n * m->width[l + 1];
        for (size_t i = 0; i < cnt; i++) {
            float a = w.pre[l][i];
            if (m->cfg.activation != MADE_ACT_HARD_SIGMOID) {
                pat[k++] = a > 0;
            } else {
                float v = 0.2f * a + 0.5f;
                pat[k++] = v <= 0 ? 0 : v >= 1 ? 2 : 1;
            }
        }
    }
    made__work_free(&w);
    return k;
}

/* ---- the comparison ------------------------------------------------------- */

/* Steps are powers of two, so p + h and p - h are exact floats for |p| < 2^16
 * and the differences are truly central. */
#define NET_H 0x1p-5
#define NET_REL 2e-2
#define NET_ABS 2e-4
/* A gradient this large is checked by the relative tolerance, not the
 * absolute one. */
#define SIGNIFICANT (10 * NET_ABS)

static int grad_ok(double g, double fd, double rel, double abs)
{
    double scale = fabs(g) > fabs(fd) ? fabs(g) : fabs(fd);
    return fabs(g - fd) <= rel * scale + abs;
}

/* Central difference of the mean NLL in params[i]; the steps actually taken
 * (float rounding of p +- h) are used, not h. */
static double fd_nll1(made_model *m, const float *x, const float *c, size_t n, size_t i, double h)
{
    float p = m->params[i];
    float pp = (float)(p + h), pm = (float)(p - h);
    double fp, fm;
    /* Written directly, so the packed weights are marked stale each time. */
    m->params[i] = pp;
    made__weights_changed(m);
    int rc1 = made_model_nll(m, x, c, n, 0, &fp);
    m->params[i] = pm;
    made__weights_changed(m);
    int rc2 = made_model_nll(m, x, c, n, 0, &fm);
    m->params[i] = p;
    made__weights_changed(m);
    if (rc1 || rc2) return NAN;
    return (fp - fm) / ((double)pp - (double)pm);
}

/* Richardson extrapolation of central differences at h and h/2: the h^2 error
 * term cancels, leaving O(h^4) plus rounding. Where the NLL curves strongly
 * (mixtures, exponential units) the step is halved until two successive
 * estimates agree; the choice looks only at the finite differences, never at
 * the analytic gradient. */
static double fd_nll(made_model *m, const float *x, const float *c, size_t n, size_t i, double h)
{
    double a = fd_nll1(m, x, c, n, i, h), b = fd_nll1(m, x, c, n, i, h / 2);
    double r = (4 * b - a) / 3, best = r, best_gap = INFINITY;
    for (int k = 0; k < 3; k++) {
        h /= 2;
        a = b;
        b = fd_nll1(m, x, c, n, i, h / 2);
        double r2 = (4 * b - a) / 3, gap = fabs(r2 - r);
        if (gap <= 0.1 * (NET_REL * fabs(r2) + NET_ABS)) return r2;
        if (gap < best_gap) {
            best_gap = gap;
            best = r2;
        }
        r = r2;
    }
    return best;
}

typedef struct gstats {
    size_t checked, skipped, significant, bad;
    double worst; /* largest |g - fd| / (rel * scale + abs) */
} gstats;

/* Compares grads[idx[k]] with central differences for every free entry; with a
 * kinked activation skips entries whose perturbation crosses a kink. */
static void compare(made_model *m, const float *grads, const size_t *idx, size_t nidx, const float *x,
                    const float *c, int n, gstats *st, const char *what, int report)
{
    memset(st, 0, sizeof *st);
    const int kinked = is_kinked(m->cfg.activation);
    size_t npat = 0;
    for (int l = 0; l < m->nl - 1; l++) npat += (size_t)n * m->width[l + 1];
    uint8_t *p0 = malloc(npat + 1), *p1 = malloc(npat + 1);
    if (!p0 || !p1) abort();
    if (kinked) kink_pattern(m, x, c, n, p0);
    for (size_t k = 0; k < nidx; k++) {
        size_t i = idx[k];
        if (kinked) {
            float p = m->params[i];
            int same = 1;
            m->params[i] = (float)(p + NET_H);
            kink_pattern(m, x, c, n, p1);
            same = same && memcmp(p0, p1, npat) == 0;
            m->params[i] = (float)(p - NET_H);
            kink_pattern(m, x, c, n, p1);
            same = same && memcmp(p0, p1, npat) == 0;
            m->params[i] = p;
            if (!same) {
                st->skipped++;
                continue;
            }
        }
        double fd = fd_nll(m, x, c, (size_t)n, i, NET_H), g = grads[i];
        double r = fabs(g - fd) / (NET_REL * fmax(fabs(g), fabs(fd)) + NET_ABS);
        if (!(r <= st->worst)) st->worst = r;
        st->checked++;
        if (fabs(fd) > SIGNIFICANT) st->significant++;
        if (!grad_ok(g, fd, NET_REL, NET_ABS)) {
            if (report && st->bad < 3)
                HARNESS_FAIL_("%s: params[%zu]: analytic %.9g, finite difference %.9g", what, i, g, fd);
            st->bad++;
        }
    }
    free(p0);
    free(p1);
}

/* Analytic gradient of the mean NLL over x[n] from one trainer step with a
 * vanishing learning rate; the parameters are checked to be unchanged. */
static int trainer_gradient(made_model *m, const float *x, const float *c, int n, float *grads,
                            double *nll, const char *what)
{
    made_train_config tc;
    made_train_config_default(&tc);
    tc.optimizer = MADE_OPTIM_SGD;
    tc.momentum = 0;
    tc.lr = 1e-30;
    tc.batch_size = n;
    made_trainer *t = NULL;
    int rc = made_trainer_create(&t, m, &tc);
    if (rc) {
        HARNESS_FAIL_("%s: trainer_create -> %d (%s)", what, rc, made_last_error());
        return rc;
    }
    size_t np = m->n_params;
    float *before = malloc(np * sizeof(float));
    if (!before) abort();
    memcpy(before, m->params, np * sizeof(float));
    const int mask = made_model_mask_index(m);
    rc = made_trainer_step(t, x, c, (size_t)n, nll);
    if (rc) HARNESS_FAIL_("%s: trainer_step -> %d (%s)", what, rc, made_last_error());
    if (memcmp(before, m->params, np * sizeof(float)) != 0)
        HARNESS_FAIL_("%s: a step with lr 1e-30 changed the parameters", what);
    memcpy(grads, m->grads, np * sizeof(float));
    /* A step of an order-agnostic model moves on to another mask set; the
     * gradient belongs to the one in use before it. */
    made_model_set_mask(m, mask);
    free(before);
    made_trainer_free(t);
    return rc;
}

/* Masked kernel entries: zero gradient and zero parameter, exactly. */
static int check_masked_zero(const made_model *m, const char *what)
{
    int ok = 1;
    for (int l = 0; l < m->nl; l++) {
        const made__dense *L = &m->layer[l];
        for (int r = 0; r < L->in; r++)
            for (int c = 0; c < L->out; c++) {
                if (made__entry_allowed(m, l, r, c)) continue;
                size_t i = (size_t)r * L->out + c;
                if (L->gW[i] != 0.0f || L->W[i] != 0.0f) {
                    if (ok)
                        HARNESS_FAIL_("%s: masked entry layer %d [%d, %d]: grad %g, param %g", what,
                                      l, r, c, (double)L->gW[i], (double)L->W[i]);
                    ok = 0;
                }
            }
    }
    return ok;
}

/* One configuration on n rows (n > MADE_CHUNK spans several blocks):
 * gradient from the trainer against finite differences; with threads2, also
 * the same bits with two threads. (Only where asked: after a two-thread
 * region OpenMP's idle worker spins for a while, which slows the many small
 * single-threaded passes of the finite differences.) */
static void check_case(const gcase *g, int n, int threads2, gstats *total)
{
    made_config cfg;
    made_model *m = build(g, &cfg);
    char what[256];
    if (!m) {
        HARNESS_FAIL_("model_create failed: %s", made_last_error());
        return;
    }
    describe(what, sizeof what, g, &cfg);
    const int e = cfg.event_size, C = cfg.conditional_size;
    /* The kink check runs the network on one block of rows. */
    if (is_kinked(g->act) && n > MADE_CHUNK) abort();
    float *x = malloc((size_t)n * e * sizeof(float)), *c = malloc((size_t)n * 2 * sizeof(float));
    if (!x || !c) abort();
    for (int i = 0; i < n * e; i++) x[i] = draw_value(g->dist);
    for (int i = 0; i < n * C; i++) c[i] = (float)gen_normal();
    const float *cp = C ? c : NULL;
    if (g->masks > 1) made_model_set_mask(m, 1);

    size_t np = m->n_params;
    float *grads = malloc(np * sizeof(float)), *grads2 = malloc(np * sizeof(float));
    size_t *idx = malloc(np * sizeof(size_t));
    if (!grads || !grads2 || !idx) abort();
    double step_nll = NAN, nll = NAN, nll2 = NAN;
    int rc2 = -1;
    if (threads2) {
        CHECK_OK(made_model_set_threads(m, 2));
        share_any_batch(m);
        rc2 = trainer_gradient(m, x, cp, n, grads2, &nll2, what);
        CHECK_OK(made_model_set_threads(m, 1));
    }
    if (trainer_gradient(m, x, cp, n, grads, &step_nll, what) == MADE_OK) {
        if (rc2 == MADE_OK && (memcmp(grads, grads2, np * sizeof(float)) != 0 || nll2 != step_nll))
            HARNESS_FAIL_("%s: the gradient with 2 threads differs from 1 thread", what);
        /* The step reports the NLL of the same forward pass made_model_nll runs. */
        CHECK_OK(made_model_nll(m, x, cp, (size_t)n, 0, &nll));
        if (!(fabs(step_nll - nll) <= 1e-6 * (1 + fabs(nll))))
            HARNESS_FAIL_("%s: step nll %.9g, model nll %.9g", what, step_nll, nll);
        check_masked_zero(m, what);
        size_t nidx = free_entries(m, idx);
        CHECK_EQ_INT(nidx, made_model_num_free_params(m));
        gstats st;
        compare(m, grads, idx, nidx, x, cp, n, &st, what, 1);
        /* Enough entries must really be compared, and enough of them large
         * enough that the relative tolerance matters. */
        if (st.checked < nidx / 4)
            HARNESS_FAIL_("%s: only %zu of %zu entries checked (%zu crossed a kink)", what,
                          st.checked, nidx, st.skipped);
        if (st.significant < 3 || st.significant < st.checked / 20)
            HARNESS_FAIL_("%s: only %zu of %zu gradients are clearly non-zero", what,
                          st.significant, st.checked);
        total->checked += st.checked;
        total->skipped += st.skipped;
        total->significant += st.significant;
        total->bad += st.bad;
        if (st.worst > total->worst) total->worst = st.worst;
        if (getenv("GRAD_VERBOSE"))
            printf("    %s: nll %.4g, %zu checked, worst %.3f\n", what, nll, st.checked, st.worst);
    }
    free(grads);
    free(grads2);
    free(idx);
    free(x);
    free(c);
    made_model_free(m);
}

static void run_matrix(int masks)
{
    gstats total;
    memset(&total, 0, sizeof total);
    int cases = 0;
    for (int a = 0; a < MADE_ACT_COUNT; a++)
        for (int bias = 0; bias <= 1; bias++)
            for (int cond = COND_NONE; cond <= COND_FIRST; cond++)
                for (int d = 0; d < N_DISTS; d++) {
                    /* Order-agnostic models: a lighter sweep (bias on). */
                    if (masks > 1 && (!bias || cond == COND_FIRST)) continue;
                    gcase g = {(made_activation)a, bias, cond, masks, DISTS[d]};
                    check_case(&g, 12, 0, &total);
                    cases++;
                }
    if (total.significant < total.checked / 2)
        HARNESS_FAIL_("only %zu of %zu gradients are clearly non-zero", total.significant,
                      total.checked);
    if (total.skipped > total.checked / 10)
        HARNESS_FAIL_("%zu entries skipped at kinks, %zu checked", total.skipped, total.checked);
    printf("  masks=%d: %d models, %zu entries checked, %zu skipped at kinks, %zu clearly "
           "non-zero, %zu bad, worst error %.3f of the tolerance\n",
           masks, cases, total.checked, total.skipped, total.significant, total.bad, total.worst);
}

static void test_network_gradients(void) { run_matrix(1); }

/* 300 rows: the trainer accumulates the gradient over two blocks of
 * MADE_CHUNK rows and divides by the whole batch. */
static void test_network_gradients_large_batch(void)
{
    gstats total;
    memset(&total, 0, sizeof total);
    for (int d = 0; d < N_DISTS; d++) {
        gcase g = {d % 2 ? MADE_ACT_SOFTPLUS : MADE_ACT_TANH, 1, d % 2 ? COND_FIRST : COND_ALL, 1,
                   DISTS[d]};
        check_case(&g, 300, 1, &total);
    }
    printf("  300 rows: %zu entries checked, %zu bad, worst error %.3f of the tolerance\n",
           total.checked, total.bad, total.worst);
}

static void test_network_gradients_masks2(void) { run_matrix(2); }

/* The comparison is not vacuous: a gradient 5% off in its largest entry, or
 * with two clearly non-zero entries swapped, is caught. */
static void test_fd_catches_errors(void)
{
    gcase g = {MADE_ACT_TANH, 1, COND_ALL, 1, {MADE_DIST_GAUSSIAN, 0}};
    made_config cfg;
    made_model *m = build(&g, &cfg);
    if (!m) {
        HARNESS_FAIL_("model_create: %s", made_last_error());
        return;
    }
    const int n = 12, e = cfg.event_size;
    float x[12 * 6], c[12 * 2];
    for (int i = 0; i < n * e; i++) x[i] = draw_value(g.dist);
    for (int i = 0; i < n * 2; i++) c[i] = (float)gen_normal();
    size_t np = m->n_params;
    float *grads = malloc(np * sizeof(float)), *bad = malloc(np * sizeof(float));
    size_t *idx = malloc(np * sizeof(size_t));
    if (!grads || !bad || !idx) abort();
    double nll;
    CHECK_OK(trainer_gradient(m, x, c, n, grads, &nll, "self-test"));
    size_t nidx = free_entries(m, idx);
    gstats st;
    compare(m, grads, idx, nidx, x, c, n, &st, "self-test (intact)", 1);
    CHECK_EQ_INT(st.bad, 0);
    /* The largest and the smallest clearly non-zero entries. */
    size_t big = idx[0], small = idx[0];
    for (size_t k = 0; k < nidx; k++) {
        float v = fabsf(grads[idx[k]]);
        if (v > fabsf(grads[big])) big = idx[k];
        if (v > SIGNIFICANT && (fabsf(grads[small]) <= SIGNIFICANT || v < fabsf(grads[small])))
            small = idx[k];
    }
    CHECK(fabsf(grads[small]) > SIGNIFICANT);
    memcpy(bad, grads, np * sizeof(float));
    bad[big] *= 1.05f;
    compare(m, bad, idx, nidx, x, c, n, &st, "self-test (5% off)", 0);
    CHECK_EQ_INT(st.bad, 1);
    memcpy(bad, grads, np * sizeof(float));
    bad[big] = grads[small];
    bad[small] = grads[big];
    compare(m, bad, idx, nidx, x, c, n, &st, "self-test (swapped)", 0);
    CHECK_EQ_INT(st.bad, 2);
    free(grads);
    free(bad);
    free(idx);
    made_model_free(m);
}

/* After real training steps (Adam) masked entries are still exactly zero,
 * gradients and parameters, with one mask set and with several. */
static void test_masked_stay_zero(void)
{
    for (int masks = 1; masks <= 3; masks += 2)
        for (int d = 0; d < N_DISTS; d++) {
            gcase g = {MADE_ACT_RELU, 1, COND_ALL, masks, DISTS[d]};
            made_config cfg;
            made_model *m = build(&g, &cfg);
            if (!m) {
                HARNESS_FAIL_("model_create: %s", made_last_error());
                continue;
            }
            char what[256];
            describe(what, sizeof what, &g, &cfg);
            const int n = 20, e = cfg.event_size;
            float x[20 * 6], c[20 * 2];
            for (int i = 0; i < n * e; i++) x[i] = draw_value(g.dist);
            for (int i = 0; i < n * 2; i++) c[i] = (float)gen_normal();
            made_train_config tc;
            made_train_config_default(&tc);
            tc.lr = 0.05;
            tc.weight_decay = 0.01;
            made_trainer *t = NULL;
            CHECK_OK(made_trainer_create(&t, m, &tc));
            for (int s = 0; t && s < 5; s++) {
                double nll;
                CHECK_OK(made_trainer_step(t, x, c, (size_t)n, &nll));
                if (!check_masked_zero(m, what)) break;
            }
            made_trainer_free(t);
            made_model_free(m);
        }
}

/* ---- the distributions' own gradients, in double ----------------------------- */

/* Central difference of made__dist_log_prob in theta[p] with the steps
 * actually taken. */
static double dist_fd1(made_dist d, float *theta, int p, float x, double h)
{
    float v = theta[p], vp = (float)(v + h), vm = (float)(v - h);
    theta[p] = vp;
    double fp = made__dist_log_prob(d, theta, x);
    theta[p] = vm;
    double fm = made__dist_log_prob(d, theta, x);
    theta[p] = v;
    return (fp - fm) / ((double)vp - (double)vm);
}

/* Step for theta[p]: h, except for a location, where it is scaled down (by a
 * power of two) to the component's scale, so a narrow gaussian is resolved. */
static double dist_step(made_dist d, const float *theta, int p, double h)
{
    int j = -1;
    if (d.kind == MADE_DIST_GAUSSIAN && p == 0) j = 1;
    if (d.kind == MADE_DIST_MOG && p >= d.k && p < 2 * d.k) j = p + d.k;
    if (j < 0) return h;
    double s = theta[j] < MADE_LOG_SCALE_MIN ? MADE_LOG_SCALE_MIN : theta[j];
    return s < 0 ? ldexp(h, (int)floor(s / log(2.0))) : h;
}

/* Compares made__dist_log_prob_grad with Richardson-extrapolated central
 * differences of made__dist_log_prob (steps h and h/2, powers of two so the
 * float steps are exact and symmetric) in every parameter, in double.
 * Returns the number of mismatches. */
static int check_dist_fd(made_dist d, const float *theta0, float x, double h, double rel, double abs,
                         const char *what)
{
    int P = made_dist_params(d), bad = 0;
    float theta[64];
    double g[64];
    memcpy(theta, theta0, (size_t)P * sizeof(float));
    double lp = made__dist_log_prob_grad(d, theta, x, g);
    double lp2 = made__dist_log_prob(d, theta, x);
    if (!isfinite(lp) || lp != lp2) {
        HARNESS_FAIL_("%s: log_prob_grad %.17g, log_prob %.17g", what, lp, lp2);
        bad++;
    }
    for (int p = 0; p < P; p++) {
        double hp = dist_step(d, theta, p, h);
        double a = dist_fd1(d, theta, p, x, hp), b = dist_fd1(d, theta, p, x, hp / 2);
        double fd = (4 * b - a) / 3;
        if (!isfinite(g[p]) || !grad_ok(g[p], fd, rel, abs)) {
            HARNESS_FAIL_("%s: d/dtheta[%d]: analytic %.12g, finite difference %.12g", what, p, g[p],
                          fd);
            bad++;
        }
    }
    return bad;
}

#define DIST_H 0x1p-10

static void test_dist_gradients_random(void)
{
    /* Moderate random parameters and values for every distribution. */
    const made_dist ds[] = {{MADE_DIST_BERNOULLI, 0}, {MADE_DIST_GAUSSIAN, 0},
                            {MADE_DIST_CATEGORICAL, 3}, {MADE_DIST_CATEGORICAL, 7},
                            {MADE_DIST_MOG, 1}, {MADE_DIST_MOG, 2}, {MADE_DIST_MOG, 4}};
    for (size_t k = 0; k < sizeof ds / sizeof *ds; k++)
        for (int trial = 0; trial < 200; trial++) {
            made_dist d = ds[k];
            float theta[64];
            int P = made_dist_params(d);
            for (int p = 0; p < P; p++) theta[p] = (float)(2 * gen_normal());
            if (d.kind == MADE_DIST_GAUSSIAN) theta[1] = (float)(0.7 * gen_normal());
            if (d.kind == MADE_DIST_MOG)
                for (int j = 0; j < d.k; j++) theta[2 * d.k + j] = (float)(0.7 * gen_normal());
            float x = draw_value(d);
            char what[96], dn[32];
            made_dist_format(dn, sizeof dn, d);
            snprintf(what, sizeof what, "%s trial %d x=%g", dn, trial, (double)x);
            if (check_dist_fd(d, theta, x, DIST_H, 1e-5, 1e-8, what)) return;
        }
}

static void test_dist_gradients_extreme(void)
{
    const made_dist bern = {MADE_DIST_BERNOULLI, 0}, cat = {MADE_DIST_CATEGORICAL, 3},
                    mog = {MADE_DIST_MOG, 2};
    /* Bernoulli at logits +-80: the gradient x - sigmoid(l) is -1 or +1 on the
     * unlikely side and e^-80 (relative accuracy kept) on the likely side. */
    for (int s = -1; s <= 1; s += 2)
        for (int xv = 0; xv <= 1; xv++) {
            float th[1] = {80.0f * (float)s};
            char what[64];
            snprintf(what, sizeof what, "bernoulli logit %g x=%d", (double)th[0], xv);
            check_dist_fd(bern, th, (float)xv, DIST_H, 1e-5, 1e-30, what);
            double g[1];
            double lp = made__dist_log_prob_grad(bern, th, (float)xv, g);
            int likely = (s > 0) == (xv == 1);
            if (likely) {
                /* log p = -e^-80 to full relative accuracy; the gradient
                 * x - sigmoid(l) = s e^-80 only to absolute accuracy (at l = 80
                 * 1 - sigmoid(80) rounds to 0 in double), which is all a
                 * gradient step needs. */
                CHECK_NEAR(lp / -exp(-80.0), 1.0, 1e-12);
                CHECK_NEAR(g[0], (double)s * exp(-80.0), 1e-30);
            } else {
                CHECK_NEAR(lp, -80.0, 1e-12);
                CHECK_NEAR(g[0], (double)-s, 1e-15);
            }
        }
    /* Categorical with logits +-80. */
    {
        float th[3] = {80.0f, -80.0f, 0.0f};
        for (int xv = 0; xv < 3; xv++) {
            char what[64];
            snprintf(what, sizeof what, "categorical {80,-80,0} x=%d", xv);
            check_dist_fd(cat, th, (float)xv, DIST_H, 1e-5, 1e-30, what);
        }
        double g[3];
        double lp = made__dist_log_prob_grad(cat, th, 1.0f, g);
        CHECK_NEAR(lp, -160.0, 1e-9);
        CHECK_NEAR(g[0], -1.0, 1e-15);
        CHECK_NEAR(g[1], 1.0, 1e-15);
        CHECK_NEAR(g[2] / exp(-80.0), -1.0, 1e-9);
    }
    /* Mixture with one component's weight at e^-160 and a far-away component. */
    {
        float th[6] = {80.0f, -80.0f, 0.5f, -1.0f, 0.2f, -0.3f};
        const float xs[] = {0.3f, -1.0f, 5.0f};
        for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
            char what[64];
            snprintf(what, sizeof what, "mog:2 logits {80,-80} x=%g", (double)xs[i]);
            check_dist_fd(mog, th, xs[i], DIST_H, 1e-5, 1e-12, what);
        }
        float far[6] = {0.0f, 0.0f, -40.0f, 40.0f, 0.0f, 0.0f};
        check_dist_fd(mog, far, 1.0f, DIST_H, 1e-5, 1e-12, "mog:2 components at -40 and 40, x=1");
    }
}

/* Gaussian log-scales around the clamp [MADE_LOG_SCALE_MIN, MADE_LOG_SCALE_MAX]
 * = [-30, 30]: strictly inside, d log p / d s = z^2 - 1 as usual; strictly
 * outside, the log-scale is clamped, so log p does not change with it and the
 * gradient is exactly 0 (as tf.clip_by_value). */
static void test_dist_clamp(void)
{
    const made_dist gau = {MADE_DIST_GAUSSIAN, 0}, mog = {MADE_DIST_MOG, 2};
    /* Near the top: sigma = e^29.5; near the bottom: sigma = e^-29.5 ~ 1.5e-13,
     * with x chosen so that z is of order 1. */
    struct {
        float loc, ls, x;
        int inside;
    } c[] = {
        {0.0f, 29.5f, 1.0e13f, 1}, {0.0f, 29.99f, 3.0e12f, 1}, {0.0f, -29.5f, 1.0e-13f, 1},
        {0.0f, -29.99f, -1.5e-13f, 1}, {0.0f, 30.5f, 1.0e13f, 0}, {0.0f, 45.0f, 2.0f, 0},
        {0.0f, -30.5f, 1.0e-13f, 0}, {0.0f, -80.0f, -5.0e-14f, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        float th[2] = {c[i].loc, c[i].ls};
        double g[2];
        char what[96];
        snprintf(what, sizeof what, "gaussian log-scale %g x=%g", (double)c[i].ls, (double)c[i].x);
        /* h small enough that p +- h stays on one side of the clamp. */
        check_dist_fd(gau, th, c[i].x, DIST_H, 1e-5, 1e-9, what);
        double lp = made__dist_log_prob_grad(gau, th, c[i].x, g);
        double s = c[i].ls < -30 ? -30.0 : c[i].ls > 30 ? 30.0 : (double)c[i].ls;
        double z = ((double)c[i].x - c[i].loc) / exp(s);
        CHECK_NEAR(lp, -0.5 * z * z - s - 0.91893853320467274178, 1e-9 * (1 + fabs(lp)));
        if (c[i].inside) CHECK_NEAR(g[1], z * z - 1.0, 1e-9 * (1 + z * z));
        else CHECK(g[1] == 0.0);
        CHECK(isfinite(g[0]));
    }
    /* The mixture clamps each component's log-scale the same way. */
    float th[6] = {0.3f, -0.2f, 0.0f, 1.0f, 35.0f, -0.5f};
    double g[6];
    made__dist_log_prob_grad(mog, th, 0.5f, g);
    CHECK(g[4] == 0.0);
    CHECK(g[5] != 0.0);
    check_dist_fd(mog, th, 0.5f, DIST_H, 1e-5, 1e-9, "mog:2 log-scale 35");
}

/* At exactly the clamp bounds the log-scale is not outside [-30, 30], and
 * tf.clip_by_value (minimum then maximum, ties going to the input) passes the
 * gradient there: d log p / d s = z^2 - 1, not 0. */
static void test_dist_clamp_boundary(void)
{
    const made_dist gau = {MADE_DIST_GAUSSIAN, 0}, mog = {MADE_DIST_MOG, 1};
    const float bounds[2] = {(float)MADE_LOG_SCALE_MIN, (float)MADE_LOG_SCALE_MAX};
    for (int b = 0; b < 2; b++) {
        float x = (float)(0.5 * exp((double)bounds[b]));
        float th[2] = {0.0f, bounds[b]}, thm[3] = {0.0f, 0.0f, bounds[b]};
        double g[2], gm[3];
        made__dist_log_prob_grad(gau, th, x, g);
        made__dist_log_prob_grad(mog, thm, x, gm);
        double z = (double)x / exp((double)bounds[b]);
        if (!(fabs(g[1] - (z * z - 1.0)) <= 1e-9))
            HARNESS_FAIL_("gaussian log-scale exactly %g: d log p / d s = %g, want z^2 - 1 = %g "
                          "(the bound is inside the clamp range; tf.clip_by_value passes the "
                          "gradient there)", (double)bounds[b], g[1], z * z - 1.0);
        if (!(fabs(gm[2] - (z * z - 1.0)) <= 1e-9))
            HARNESS_FAIL_("mog:1 log-scale exactly %g: d log p / d s = %g, want %g",
                          (double)bounds[b], gm[2], z * z - 1.0);
    }
}

/* Derivatives of the activations exactly at their kinks follow TensorFlow's
 * gradient kernels, which matter in practice: with zero biases (TFP's default)
 * and a 0 input, a pre-activation is exactly 0 at the first step.
 *   relu: ReluGrad uses features > 0, so 0 at 0.
 *   elu: EluGrad selects the negative branch for outputs < 0, so 1 at 0.
 *   selu: SeluGrad selects the negative branch for outputs < 0, so scale
 *     (1.0507) at 0, not scale * alpha (1.7581).
 *   hard_sigmoid (tf_keras: clip_by_value(0.2 x + 0.5, 0, 1), i.e. minimum
 *     then maximum, whose gradients pass ties to the input): 0.2 at x = +-2.5. */
static void test_activation_grad_at_kinks(void)
{
    struct {
        made_activation act;
        float a;
        double want;
    } c[] = {
        {MADE_ACT_RELU, 0.0f, 0.0},
        {MADE_ACT_ELU, 0.0f, 1.0},
        {MADE_ACT_SELU, 0.0f, 1.0507009873554804934},
        {MADE_ACT_HARD_SIGMOID, 2.5f, 0.2},
        {MADE_ACT_HARD_SIGMOID, -2.5f, 0.2},
        {MADE_ACT_HARD_SIGMOID, 3.0f, 0.0},
        {MADE_ACT_HARD_SIGMOID, -3.0f, 0.0},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        float h, dh = 1.0f, da;
        made__act_forward(c[i].act, &h, &c[i].a, 1);
        made__act_backward(c[i].act, &da, &dh, &c[i].a, &h, 1);
        if (!(fabs((double)da - c[i].want) <= 1e-6))
            HARNESS_FAIL_("%s'(%g) = %.7g, TensorFlow's gradient gives %.7g",
                          made_activation_name(c[i].act), (double)c[i].a, (double)da, c[i].want);
    }
}

/* Extreme but valid parameters give finite log-probabilities and gradients. */
static void test_dist_extreme_finite(void)
{
    const float big[] = {1e4f, -1e4f, 0.0f};
    const made_dist ds[] = {{MADE_DIST_BERNOULLI, 0}, {MADE_DIST_GAUSSIAN, 0},
                            {MADE_DIST_CATEGORICAL, 3}, {MADE_DIST_MOG, 2}};
    for (size_t k = 0; k < sizeof ds / sizeof *ds; k++) {
        made_dist d = ds[k];
        int P = made_dist_params(d);
        /* Every combination of the first three values over the parameters. */
        int combos = 1;
        for (int p = 0; p < P; p++) combos *= 3;
        for (int cidx = 0; cidx < combos; cidx++) {
            float th[6];
            for (int p = 0, r = cidx; p < P; p++, r /= 3) th[p] = big[r % 3];
            const float xs[] = {0.0f, 1.0f, 2.0f, -1e4f};
            for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
                if (made__dist_check(d, xs[i]) != 0) continue;
                double g[6];
                double lp = made__dist_log_prob_grad(d, th, xs[i], g);
                int fin = isfinite(lp);
                for (int p = 0; p < P; p++) fin = fin && isfinite(g[p]);
                if (!fin) {
                    HARNESS_FAIL_("dist %d k=%d theta[0..]=%g,%g,... x=%g: lp %g", (int)d.kind, d.k,
                                  (double)th[0], P > 1 ? (double)th[1] : 0.0, (double)xs[i], lp);
                    return;
                }
                /* Probabilities of discrete outcomes are at most 1. */
                if ((d.kind == MADE_DIST_BERNOULLI || d.kind == MADE_DIST_CATEGORICAL) && lp > 0)
                    HARNESS_FAIL_("discrete log-probability %g > 0", lp);
            }
        }
    }
    /* The specific cases: logit 1e4 and -1e4. */
    const made_dist bern = {MADE_DIST_BERNOULLI, 0};
    float l1[1] = {1e4f}, l2[1] = {-1e4f};
    CHECK_NEAR(made__dist_log_prob(bern, l1, 0.0f), -1e4, 1e-9);
    CHECK_NEAR(made__dist_log_prob(bern, l1, 1.0f), 0.0, 1e-300);
    CHECK_NEAR(made__dist_log_prob(bern, l2, 1.0f), -1e4, 1e-9);
    CHECK_NEAR(made__dist_log_prob(bern, l2, 0.0f), 0.0, 1e-300);
    /* Near the largest floats: the log-scale clamps, so still finite. */
    const made_dist gau = {MADE_DIST_GAUSSIAN, 0};
    float gs[2] = {3e38f, -3e38f};
    double g[2];
    CHECK(isfinite(made__dist_log_prob_grad(gau, gs, -3e38f, g)));
    CHECK(isfinite(g[0]) && g[1] == 0.0);
}

/* made__dist_example (what training and log_prob use per example; all but
 * the mixture in float) against the double reference
 * made__dist_log_prob_grad, with moderate and extreme parameters; its plain
 * and AVX2 builds bit for bit. */
static void test_dist_example_matches_reference(void)
{
    const made_dist ds[] = {{MADE_DIST_BERNOULLI, 0}, {MADE_DIST_GAUSSIAN, 0},
                            {MADE_DIST_CATEGORICAL, 3}, {MADE_DIST_MOG, 2}};
    /* Logits up to the largest floats; locations only up to 1e4 (beyond, the
     * gradient z^2 - 1 of the log-scale is past the float range anyway). */
    const float extreme[] = {80.0f, -80.0f, 1e4f, -1e4f, 0.0f, 17.0f, -17.0f, 3e38f, -3e38f};
    for (size_t k = 0; k < sizeof ds / sizeof *ds; k++)
        for (int trial = 0; trial < 300; trial++) {
            made_dist d = ds[k];
            const int P = made_dist_params(d), e = 5;
            float theta[5 * 6], x[5], g[5 * 6];
            double gbuf[6], gref[6];
            for (int i = 0; i < e * P; i++)
                theta[i] = trial < 100 ? (float)(2 * gen_normal())
                                       : extreme[gen_next() % (d.kind == MADE_DIST_GAUSSIAN ||
                                                                       d.kind == MADE_DIST_MOG ? 7 : 9)];
            for (int i = 0; i < e; i++) {
                x[i] = draw_value(d);
                /* Log-scales: moderate, so the reference stays finite too. */
                if (d.kind == MADE_DIST_GAUSSIAN) theta[i * P + 1] = (float)(0.5 * gen_normal());
                if (d.kind == MADE_DIST_MOG)
                    for (int j = 0; j < d.k; j++) theta[i * P + 2 * d.k + j] = (float)(0.5 * gen_normal());
            }
            const float scale = -1.0f / 7.0f;
            double lp = made__dist_example(d, theta, x, e, g, scale, gbuf, 0), ref = 0;
            double lp0 = made__dist_example(d, theta, x, e, NULL, 0.0f, NULL, 0);
            int ok = isfinite(lp) && lp == lp0;
            if (made__kernel_avx2_ok()) { /* the AVX2 build: the same bits */
                float g2[5 * 6];
                ok = ok && made__dist_example(d, theta, x, e, g2, scale, gbuf, 1) == lp &&
                     memcmp(g, g2, (size_t)(e * P) * sizeof *g) == 0;
            }
            for (int i = 0; i < e; i++) {
                ref += made__dist_log_prob_grad(d, theta + i * P, x[i], gref);
                for (int p = 0; p < P; p++) {
                    double want = scale * gref[p];
                    ok = ok && isfinite(g[i * P + p]) &&
                         fabs(g[i * P + p] - want) <= 1e-6 * (fabs(want) + fabs(scale));
                }
            }
            ok = ok && fabs(lp - ref) <= 1e-6 * (fabs(ref) + e);
            if (!ok) {
                char dn[32];
                made_dist_format(dn, sizeof dn, d);
                HARNESS_FAIL_("%s trial %d: example log p %.12g (without gradient %.12g), "
                              "reference %.12g; theta[0] %g", dn, trial, lp, lp0, ref,
                              (double)theta[0]);
                return;
            }
        }
}

/* Whole models with extreme but valid inputs: finite log-probabilities. */
static void test_model_extreme_finite(void)
{
    for (int d = 0; d < N_DISTS; d++) {
        gcase g = {MADE_ACT_LINEAR, 1, COND_NONE, 1, DISTS[d]};
        made_config cfg;
        made_model *m = build(&g, &cfg);
        if (!m) {
            HARNESS_FAIL_("model_create: %s", made_last_error());
            continue;
        }
        /* Scale the weights so the outputs reach logits of order 1e4. */
        size_t np = m->n_params;
        for (size_t i = 0; i < np; i++) m->params[i] *= 300.0f;
        made__weights_changed(m);
        const int e = cfg.event_size, n = 8;
        float x[8 * 6];
        for (int i = 0; i < n * e; i++) x[i] = draw_value(g.dist);
        if (g.dist.kind == MADE_DIST_GAUSSIAN || g.dist.kind == MADE_DIST_MOG)
            for (int i = 0; i < n * e; i++) x[i] *= 1e4f;
        double lp[8];
        CHECK_OK(made_model_log_prob(m, lp, x, NULL, (size_t)n));
        for (int i = 0; i < n; i++)
            if (!isfinite(lp[i])) HARNESS_FAIL_("dist %d: row %d log p = %g", d, i, lp[i]);
        made_model_free(m);
    }
}

int main(void)
{
    gen_seed(1);
    RUN(test_dist_gradients_random);
    gen_seed(2);
    RUN(test_dist_gradients_extreme);
    gen_seed(3);
    RUN(test_dist_clamp);
    gen_seed(4);
    RUN(test_dist_clamp_boundary);
    gen_seed(5);
    RUN(test_activation_grad_at_kinks);
    gen_seed(6);
    RUN(test_dist_extreme_finite);
    gen_seed(7);
    RUN(test_dist_example_matches_reference);
    gen_seed(8);
    RUN(test_model_extreme_finite);
    gen_seed(9);
    RUN(test_fd_catches_errors);
    gen_seed(10);
    RUN(test_network_gradients);
    gen_seed(11);
    RUN(test_network_gradients_masks2);
    gen_seed(12);
    RUN(test_network_gradients_large_batch);
    gen_seed(13);
    RUN(test_masked_stay_zero);
    return harness_summary("test_grad");
}
