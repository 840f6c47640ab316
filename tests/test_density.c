/* test_density.c - the model as a density: exact normalisation of small
 * models (sum over every state, for one mask set, conditional models and the
 * mixture over mask sets), training down to a known entropy, sample
 * frequencies against the model's own probabilities (chi-square), the fast
 * sampler against the naive one bit for bit, exact resumption of interrupted
 * training, early stopping keeping the best parameters, and data validation. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#define UTIL_GEN_SEED 0x64656e73u
#include "made.h"
#include "threads.h"
#include "util.h"

/* ---- the test's own generator (splitmix64) --------------------------------- */

static double gen_unit(void) { return (double)(gen_next() >> 11) * 0x1.0p-53; }

static double gen_normal(void)
{
    double u = gen_unit(), v = gen_unit();
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* ---- models ---------------------------------------------------------------- */

static void describe(char *buf, size_t size, const made_config *cfg)
{
    char dn[32];
    made_dist_format(dn, sizeof dn, cfg->dist);
    size_t n = (size_t)snprintf(buf, size, "%s E=%d hidden=[", dn, cfg->event_size);
    for (int l = 0; l < cfg->n_hidden && n < size; l++)
        n += (size_t)snprintf(buf + n, size - n, "%s%d", l ? "," : "", cfg->hidden_units[l]);
    if (n < size)
        snprintf(buf + n, size - n, "] order=%s degrees=%s act=%s bias=%d C=%d %s seed=%u masks=%d",
                 made_order_name(cfg->input_order), made_degrees_name(cfg->hidden_degrees),
                 made_activation_name(cfg->activation), cfg->use_bias, cfg->conditional_size,
                 made_cond_layers_name(cfg->conditional_layers), (unsigned)cfg->seed,
                 cfg->num_masks);
}

/* A random configuration: 0-2 hidden layers of 1-10 units, any order, degrees,
 * activation, bias and conditioning, weights large enough that the
 * distribution is far from uniform. */
static void random_config(made_config *cfg, int e, made_dist d, int C, int masks)
{
    made_config_default(cfg);
    cfg->event_size = e;
    cfg->dist = d;
    cfg->params = made_dist_params(d);
    cfg->n_hidden = gen_int(0, 2);
    for (int l = 0; l < cfg->n_hidden; l++) cfg->hidden_units[l] = gen_int(1, 10);
    cfg->input_order = (made_order)gen_int(0, 2);
    cfg->hidden_degrees = (made_degrees)gen_int(0, 1);
    cfg->activation = (made_activation)gen_int(0, MADE_ACT_COUNT - 1);
    cfg->use_bias = gen_int(0, 1);
    cfg->conditional_size = C;
    cfg->conditional_layers = (made_cond_layers)gen_int(0, 1);
    cfg->seed = (uint32_t)gen_next();
    cfg->num_masks = masks;
    made_initializer_parse(cfg->activation == MADE_ACT_EXPONENTIAL ? "random_normal:0,0.3"
                                                                    : "random_normal:0,0.8",
                           &cfg->kernel_initializer);
    made_initializer_parse("random_normal:0,0.5", &cfg->bias_initializer);
}

static made_model *create(const made_config *cfg)
{
    made_model *m = NULL;
    int rc = made_model_create(&m, cfg);
    if (rc) {
        char what[256];
        describe(what, sizeof what, cfg);
        HARNESS_FAIL_("model_create(%s) -> %d (%s)", what, rc, made_last_error());
        return NULL;
    }
    return m;
}

/* ---- exact normalisation ---------------------------------------------------- */

/* All K^E states, row-major: state s has digit j (base K) in column j. */
static float *all_states(int e, int k, size_t *count)
{
    size_t n = 1;
    for (int j = 0; j < e; j++) n *= (size_t)k;
    float *x = malloc(n * (size_t)e * sizeof(float));
    if (!x) abort();
    for (size_t s = 0; s < n; s++) {
        size_t r = s;
        for (int j = 0; j < e; j++, r /= (size_t)k) x[s * e + j] = (float)(r % (size_t)k);
    }
    *count = n;
    return x;
}

/* Sum of exp(lp) over all states: the total probability. masks = 0 scores the
 * current mask set (made_model_log_prob), otherwise the mixture of the first
 * masks sets (made_model_log_prob_ensemble). c is one row, repeated. */
static double total_probability(made_model *m, int k, const float *crow, int masks, double *p_out)
{
    const made_config *cfg = made_model_config(m);
    size_t n;
    float *x = all_states(cfg->event_size, k, &n);
    double *lp = malloc(n * sizeof(double));
    float *c = NULL;
    if (!lp) abort();
    if (crow) {
        c = malloc(n * (size_t)cfg->conditional_size * sizeof(float));
        if (!c) abort();
        for (size_t i = 0; i < n; i++)
            memcpy(c + i * cfg->conditional_size, crow, (size_t)cfg->conditional_size * sizeof(float));
    }
    int rc = masks ? made_model_log_prob_ensemble(m, lp, x, c, n, masks)
                   : made_model_log_prob(m, lp, x, c, n);
    double total = NAN;
    if (rc) {
        HARNESS_FAIL_("log_prob -> %d (%s)", rc, made_last_error());
    } else {
        total = 0;
        for (size_t i = 0; i < n; i++) {
            total += exp(lp[i]);
            if (p_out) p_out[i] = exp(lp[i]);
        }
    }
    free(x);
    free(lp);
    free(c);
    return total;
}

static void check_total(made_model *m, int k, const float *crow, int masks, const char *extra)
{
    double t = total_probability(m, k, crow, masks, NULL);
    if (!(fabs(t - 1.0) <= 1e-5)) {
        char what[256];
        describe(what, sizeof what, made_model_config(m));
        HARNESS_FAIL_("%s%s: total probability %.12g", what, extra, t);
    }
}

static void test_normalise_bernoulli(void)
{
    const made_dist d = {MADE_DIST_BERNOULLI, 0};
    for (int e = 1; e <= 10; e++)
        for (int trial = 0; trial < 6; trial++) {
            made_config cfg;
            random_config(&cfg, e, d, 0, 1);
            made_model *m = create(&cfg);
            if (!m) continue;
            check_total(m, 2, NULL, 0, "");
            made_model_free(m);
        }
}

static void test_normalise_categorical(void)
{
    const made_dist d = {MADE_DIST_CATEGORICAL, 3};
    for (int e = 1; e <= 5; e++)
        for (int trial = 0; trial < 6; trial++) {
            made_config cfg;
            random_config(&cfg, e, d, 0, 1);
            made_model *m = create(&cfg);
            if (!m) continue;
            check_total(m, 3, NULL, 0, "");
            made_model_free(m);
        }
}

/* Conditional models normalise for every conditioning row, and the rows give
 * different distributions. */
static void test_normalise_conditional(void)
{
    const made_dist ds[] = {{MADE_DIST_BERNOULLI, 0}, {MADE_DIST_CATEGORICAL, 3}};
    for (int di = 0; di < 2; di++)
        for (int trial = 0; trial < 8; trial++) {
            int k = di == 0 ? 2 : 3, e = di == 0 ? gen_int(1, 7) : gen_int(1, 4), C = gen_int(1, 3);
            made_config cfg;
            random_config(&cfg, e, ds[di], C, 1);
            cfg.conditional_layers = (made_cond_layers)(trial & 1);
            if (cfg.activation == MADE_ACT_EXPONENTIAL) cfg.activation = MADE_ACT_TANH;
            made_model *m = create(&cfg);
            if (!m) continue;
            size_t n = 1;
            for (int j = 0; j < e; j++) n *= (size_t)k;
            double *p1 = malloc(n * sizeof(double)), *p2 = malloc(n * sizeof(double));
            if (!p1 || !p2) abort();
            float c1[3] = {1.5f, -0.7f, 0.3f}, c2[3] = {-2.0f, 0.9f, 1.1f};
            double t1 = total_probability(m, k, c1, 0, p1), t2 = total_probability(m, k, c2, 0, p2);
            char what[256];
            describe(what, sizeof what, &cfg);
            if (!(fabs(t1 - 1) <= 1e-5) || !(fabs(t2 - 1) <= 1e-5))
                HARNESS_FAIL_("%s: totals %.12g and %.12g", what, t1, t2);
            double diff = 0;
            for (size_t i = 0; i < n; i++) diff = fmax(diff, fabs(p1[i] - p2[i]));
            if (!(diff > 1e-4))
                HARNESS_FAIL_("%s: the conditioning rows give the same distribution", what);
            free(p1);
            free(p2);
            made_model_free(m);
        }
}

/* Order-agnostic models: every mask set normalises, and so does the mixture
 * over the first k sets (made_model_log_prob_ensemble), which is also what
 * made_model_nll scores. */
static void test_normalise_mixture(void)
{
    const made_dist ds[] = {{MADE_DIST_BERNOULLI, 0}, {MADE_DIST_CATEGORICAL, 3}};
    for (int di = 0; di < 2; di++)
        for (int trial = 0; trial < 6; trial++) {
            int k = di == 0 ? 2 : 3, e = di == 0 ? gen_int(2, 8) : gen_int(2, 4);
            int C = trial % 3 == 2 ? 2 : 0;
            made_config cfg;
            random_config(&cfg, e, ds[di], C, 3);
            cfg.input_order = MADE_ORDER_RANDOM;
            if (cfg.activation == MADE_ACT_EXPONENTIAL) cfg.activation = MADE_ACT_SWISH;
            made_model *m = create(&cfg);
            if (!m) continue;
            const float crow[2] = {0.4f, -1.2f};
            const float *cp = C ? crow : NULL;
            for (int mask = 0; mask < 3; mask++) {
                char extra[32];
                snprintf(extra, sizeof extra, " (mask set %d)", mask);
                CHECK_OK(made_model_set_mask(m, mask));
                check_total(m, k, cp, 0, extra);
            }
            CHECK_OK(made_model_set_mask(m, 1));
            for (int km = 1; km <= 3; km++) {
                char extra[32];
                snprintf(extra, sizeof extra, " (mixture of %d)", km);
                check_total(m, k, cp, km, extra);
            }
            /* The ensemble leaves the mask set as it was. */
            CHECK_EQ_INT(made_model_mask_index(m), 1);
            made_model_free(m);
        }
}

/* Continuous outputs: a Riemann sum of p over a fine grid (steps far below the
 * scales, so the sum is accurate to many digits) gives 1. */
static void test_normalise_continuous(void)
{
    const made_dist ds[] = {{MADE_DIST_GAUSSIAN, 0}, {MADE_DIST_MOG, 2}};
    for (int di = 0; di < 2; di++)
        for (int e = 1; e <= 2; e++) {
            made_config cfg;
            made_config_default(&cfg);
            cfg.event_size = e;
            cfg.dist = ds[di];
            cfg.params = made_dist_params(ds[di]);
            cfg.n_hidden = 1;
            cfg.hidden_units[0] = 8;
            cfg.activation = MADE_ACT_TANH;
            cfg.input_order = MADE_ORDER_RIGHT_TO_LEFT;
            cfg.seed = 7u + (uint32_t)e;
            made_initializer_parse("random_normal:0,0.3", &cfg.kernel_initializer);
            made_initializer_parse("random_normal:0,0.3", &cfg.bias_initializer);
            made_model *m = create(&cfg);
            if (!m) continue;
            const double lo = -10, step = 0.04;
            const int g = 500;
            size_t n = e == 1 ? (size_t)g : (size_t)g * g;
            float *x = malloc(n * (size_t)e * sizeof(float));
            double *lp = malloc(n * sizeof(double));
            if (!x || !lp) abort();
            for (size_t i = 0; i < n; i++)
                for (int j = 0; j < e; j++) {
                    size_t r = j == 0 ? i % (size_t)g : i / (size_t)g;
                    x[i * e + j] = (float)(lo + step * ((double)r + 0.5));
                }
            CHECK_OK(made_model_log_prob(m, lp, x, NULL, n));
            double total = 0;
            for (size_t i = 0; i < n; i++) total += exp(lp[i]) * pow(step, e);
            char what[256];
            describe(what, sizeof what, &cfg);
            if (!(fabs(total - 1) <= 1e-4)) HARNESS_FAIL_("%s: integral %.9g", what, total);
            free(x);
            free(lp);
            made_model_free(m);
        }
}

/* ---- training reaches the entropy ---------------------------------------- */

static double nll_of(made_model *m, const float *x, size_t n)
{
    double nll = NAN;
    CHECK_OK(made_model_nll(m, x, NULL, n, 0, &nll));
    return nll;
}

/* 5 binary dims: x0 coin, x1 = x0, x2 coin, x3 = x2 XOR x0, x4 coin. The
 * entropy is 3 ln 2 nats. */
static void test_train_bernoulli_entropy(void)
{
    const size_t n = 4000;
    float *x = malloc(n * 5 * sizeof(float));
    if (!x) abort();
    for (size_t i = 0; i < n; i++) {
        int a = (int)(gen_next() & 1), b = (int)(gen_next() & 1), c = (int)(gen_next() & 1);
        float *r = x + i * 5;
        r[0] = (float)a;
        r[1] = (float)a;
        r[2] = (float)b;
        r[3] = (float)(b ^ a);
        r[4] = (float)c;
    }
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 5;
    cfg.dist.kind = MADE_DIST_BERNOULLI;
    cfg.params = 1;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 32;
    cfg.activation = MADE_ACT_RELU;
    cfg.seed = 1;
    made_model *m = create(&cfg);
    if (!m) return;
    made_train_config tc;
    made_train_config_default(&tc);
    tc.lr = 1e-2;
    tc.epochs = 40;
    tc.seed = 1;
    made_trainer *t = NULL;
    CHECK_OK(made_trainer_create(&t, m, &tc));
    const double H = 3 * log(2.0);
    double before = nll_of(m, x, n);
    CHECK_OK(made_trainer_fit(t, x, NULL, n, NULL, NULL, 0, NULL, NULL));
    double after = nll_of(m, x, n);
    printf("  bernoulli: entropy %.4f, NLL %.4f before, %.4f after training\n", H, before, after);
    if (!(before > H + 0.5)) HARNESS_FAIL_("initial NLL %.6f, entropy %.6f", before, H);
    if (!(after < H + 0.05)) HARNESS_FAIL_("final NLL %.6f, entropy %.6f", after, H);
    /* Not below what the training sample allows (its empirical entropy is at
     * most H, and close to it). */
    if (!(after > H - 0.05)) HARNESS_FAIL_("final NLL %.6f below the entropy %.6f", after, H);
    made_trainer_free(t);
    made_model_free(m);
    free(x);
}

/* x0 ~ N(0, 1), x1 = 0.8 x0 + 0.6 e: covariance [[1, .8], [.8, 1]], entropy
 * ln(2 pi e) + ln(det)/2 = ln(2 pi e) + ln(0.36)/2. */
static void test_train_gaussian_entropy(void)
{
    const size_t n = 4000;
    float *x = malloc(n * 2 * sizeof(float));
    if (!x) abort();
    for (size_t i = 0; i < n; i++) {
        double a = gen_normal(), e = gen_normal();
        x[i * 2] = (float)a;
        x[i * 2 + 1] = (float)(0.8 * a + 0.6 * e);
    }
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 2;
    cfg.dist.kind = MADE_DIST_GAUSSIAN;
    cfg.params = 2;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 32;
    cfg.activation = MADE_ACT_RELU;
    cfg.seed = 1;
    made_model *m = create(&cfg);
    if (!m) return;
    made_train_config tc;
    made_train_config_default(&tc);
    tc.lr = 1e-2;
    tc.epochs = 40;
    tc.seed = 1;
    made_trainer *t = NULL;
    CHECK_OK(made_trainer_create(&t, m, &tc));
    const double H = log(2 * 3.14159265358979323846 * exp(1.0)) + 0.5 * log(0.36);
    double before = nll_of(m, x, n);
    CHECK_OK(made_trainer_fit(t, x, NULL, n, NULL, NULL, 0, NULL, NULL));
    double after = nll_of(m, x, n);
    printf("  gaussian: entropy %.4f, NLL %.4f before, %.4f after training\n", H, before, after);
    if (!(fabs(after - H) < 0.05)) HARNESS_FAIL_("final NLL %.6f, entropy %.6f", after, H);
    made_trainer_free(t);
    made_model_free(m);
    free(x);
}

/* ---- sample frequencies ---------------------------------------------------- */

/* Draws n samples (conditional models: every row conditioned on crow) and
 * compares the state counts with n p(x) by Pearson's chi-square statistic;
 * limit is its 99.9% quantile for K^E - 1 degrees of freedom. */
static void chi_square(made_model *m, int k, size_t n, const float *crow, uint64_t seed, double limit)
{
    const made_config *cfg = made_model_config(m);
    const int e = cfg->event_size, C = cfg->conditional_size;
    size_t states = 1;
    for (int j = 0; j < e; j++) states *= (size_t)k;
    double *p = malloc(states * sizeof(double));
    float *x = malloc(n * (size_t)e * sizeof(float));
    float *c = C ? malloc(n * (size_t)C * sizeof(float)) : NULL;
    size_t *count = calloc(states, sizeof(size_t));
    if (!p || !x || !count || (C && !c)) abort();
    for (size_t i = 0; i < n && C; i++) memcpy(c + i * C, crow, (size_t)C * sizeof(float));
    double total = total_probability(m, k, crow, 0, p);
    CHECK_NEAR(total, 1.0, 1e-6);
    CHECK_OK(made_model_sample(m, x, c, n, seed));
    for (size_t i = 0; i < n; i++) {
        size_t s = 0, w = 1;
        for (int j = 0; j < e; j++, w *= (size_t)k) s += (size_t)x[i * e + j] * w;
        if (s < states) count[s]++;
    }
    double chi2 = 0, min_expected = INFINITY;
    for (size_t s = 0; s < states; s++) {
        double ex = (double)n * p[s];
        if (ex < min_expected) min_expected = ex;
        chi2 += ((double)count[s] - ex) * ((double)count[s] - ex) / ex;
    }
    char what[256];
    describe(what, sizeof what, cfg);
    printf("  %s mask %d N=%zu: chi-square %.2f (limit %.2f, smallest expected count %.0f)\n",
           what, made_model_mask_index(m), n, chi2, limit, min_expected);
    /* The statistic is only meaningful with reasonable expected counts. */
    if (!(min_expected >= 20)) HARNESS_FAIL_("%s: expected count %.1f too small", what, min_expected);
    if (!(chi2 < limit)) HARNESS_FAIL_("%s: chi-square %.3f >= %.2f", what, chi2, limit);
    free(p);
    free(x);
    free(c);
    free(count);
}

static void test_sample_frequencies(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 3;
    cfg.dist.kind = MADE_DIST_BERNOULLI;
    cfg.params = 1;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 6;
    cfg.activation = MADE_ACT_TANH;
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.seed = 11;
    made_initializer_parse("random_normal:0,1", &cfg.kernel_initializer);
    made_initializer_parse("random_normal:0,0.5", &cfg.bias_initializer);
    made_model *m = create(&cfg);
    if (m) {
        chi_square(m, 2, 200000, NULL, 12345, 24.32);
        made_model_free(m);
    }
    made_config cat = cfg;
    cat.event_size = 2;
    cat.dist.kind = MADE_DIST_CATEGORICAL;
    cat.dist.k = 3;
    cat.params = 3;
    cat.seed = 12;
    m = create(&cat);
    if (m) {
        chi_square(m, 3, 200000, NULL, 777, 26.12);
        made_model_free(m);
    }
    /* Conditional (two hidden layers, conditioned everywhere), and mask set 2
     * of 3, with a sample count that is no multiple of any block size. */
    made_config cond = cfg;
    cond.conditional_size = 2;
    cond.n_hidden = 2;
    cond.hidden_units[1] = 5;
    cond.seed = 13;
    const float crow[2] = {0.8f, -1.1f};
    m = create(&cond);
    if (m) {
        chi_square(m, 2, 200003, crow, 99, 24.32);
        made_model_free(m);
    }
    made_config agn = cfg;
    agn.num_masks = 3;
    agn.seed = 14;
    agn.activation = MADE_ACT_RELU;
    m = create(&agn);
    if (m) {
        CHECK_OK(made_model_set_mask(m, 2));
        chi_square(m, 2, 200003, NULL, 5, 24.32);
        made_model_free(m);
    }
}

/* Continuous samples: with the model's own conditional parameters (a forward
 * pass on the samples), the probability integral transform u = F(x_d | x_<d)
 * of every coordinate must be uniform on (0, 1); 20 bins, chi-square with 19
 * degrees of freedom (99.9% quantile 43.82). */
static double normal_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

static double clamp_ls(float s) { return s < -30 ? -30.0 : s > 30 ? 30.0 : (double)s; }

static void pit_check(made_model *m, size_t n, const float *crow, uint64_t seed)
{
    const made_config *cfg = made_model_config(m);
    const int e = cfg->event_size, C = cfg->conditional_size, P = cfg->params;
    float *x = malloc(n * (size_t)e * sizeof(float)), *y = malloc(n * (size_t)e * P * sizeof(float));
    float *c = C ? malloc(n * (size_t)C * sizeof(float)) : NULL;
    if (!x || !y || (C && !c)) abort();
    for (size_t i = 0; i < n && C; i++) memcpy(c + i * C, crow, (size_t)C * sizeof(float));
    CHECK_OK(made_model_sample(m, x, c, n, seed));
    CHECK_OK(made_model_forward(m, y, x, c, n));
    enum { BINS = 20 };
    size_t count[BINS] = {0};
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < e; d++) {
            const float *th = y + (i * e + d) * P;
            double u;
            if (cfg->dist.kind == MADE_DIST_GAUSSIAN) {
                u = normal_cdf(((double)x[i * e + d] - th[0]) / exp(clamp_ls(th[1])));
            } else {
                int K = cfg->dist.k;
                double mx = th[0], z = 0;
                for (int j = 1; j < K; j++) mx = fmax(mx, th[j]);
                for (int j = 0; j < K; j++) z += exp(th[j] - mx);
                u = 0;
                for (int j = 0; j < K; j++)
                    u += exp(th[j] - mx) / z *
                         normal_cdf(((double)x[i * e + d] - th[K + j]) / exp(clamp_ls(th[2 * K + j])));
            }
            int b = (int)(u * BINS);
            count[b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
        }
    double ex = (double)n * e / BINS, chi2 = 0;
    for (int b = 0; b < BINS; b++) chi2 += ((double)count[b] - ex) * ((double)count[b] - ex) / ex;
    char what[256];
    describe(what, sizeof what, cfg);
    printf("  %s mask %d N=%zu: PIT chi-square %.2f (limit 43.82)\n", what, made_model_mask_index(m),
           n, chi2);
    if (!(chi2 < 43.82)) HARNESS_FAIL_("%s: PIT chi-square %.3f >= 43.82", what, chi2);
    free(x);
    free(y);
    free(c);
}

static void test_sample_continuous(void)
{
    const made_dist ds[] = {{MADE_DIST_GAUSSIAN, 0}, {MADE_DIST_MOG, 2}};
    for (int di = 0; di < 2; di++)
        for (int variant = 0; variant < 2; variant++) {
            made_config cfg;
            made_config_default(&cfg);
            cfg.event_size = 4;
            cfg.dist = ds[di];
            cfg.params = made_dist_params(ds[di]);
            cfg.n_hidden = 2;
            cfg.hidden_units[0] = 9;
            cfg.hidden_units[1] = 7;
            cfg.activation = MADE_ACT_TANH;
            cfg.input_order = MADE_ORDER_RANDOM;
            cfg.seed = 21u + (uint32_t)(2 * di + variant);
            made_initializer_parse("random_normal:0,0.6", &cfg.kernel_initializer);
            made_initializer_parse("random_normal:0,0.5", &cfg.bias_initializer);
            if (variant == 0) {
                cfg.conditional_size = 2;
                cfg.conditional_layers = MADE_COND_FIRST_LAYER;
            } else {
                cfg.num_masks = 3;
            }
            made_model *m = create(&cfg);
            if (!m) continue;
            if (variant == 1) CHECK_OK(made_model_set_mask(m, 2));
            const float crow[2] = {-0.6f, 1.3f};
            pit_check(m, 20011, crow, 31u + (uint64_t)variant);
            made_model_free(m);
        }
}

/* ---- fast sampler = naive sampler ---------------------------------------- */

/* Both samplers must give the same bits; the same seed the same samples, a
 * different seed different ones; the thread count must not matter; and every
 * sample must be in the support. */
static void check_samplers(made_model *m, const char *what)
{
    const made_config *cfg = made_model_config(m);
    const int e = cfg->event_size, C = cfg->conditional_size;
    const size_t ns[] = {1, 7, 300};
    for (size_t t = 0; t < 3; t++) {
        size_t n = ns[t], sz = n * (size_t)e;
        float *a = malloc(sz * sizeof(float)), *b = malloc(sz * sizeof(float));
        float *c = C ? malloc(n * (size_t)C * sizeof(float)) : NULL;
        if (!a || !b || (C && !c)) abort();
        for (size_t i = 0; i < n * (size_t)C; i++) c[i] = (float)gen_normal();
        uint64_t seed = gen_next();
        CHECK_OK(made_model_set_threads(m, 1));
        CHECK_OK(made_model_sample(m, a, c, n, seed));
        CHECK_OK(made_model_sample_naive(m, b, c, n, seed));
        if (memcmp(a, b, sz * sizeof(float)) != 0)
            HARNESS_FAIL_("%s N=%zu: fast and naive samplers differ", what, n);
        for (size_t i = 0; i < sz; i++)
            if (!isfinite(a[i])) {
                HARNESS_FAIL_("%s N=%zu: sample %zu is %g", what, n, i, (double)a[i]);
                break;
            }
        if (made_model_check_data(m, a, n) != MADE_OK)
            HARNESS_FAIL_("%s N=%zu: sample outside the support: %s", what, n, made_last_error());
        CHECK_OK(made_model_sample(m, b, c, n, seed));
        if (memcmp(a, b, sz * sizeof(float)) != 0)
            HARNESS_FAIL_("%s N=%zu: same seed, different samples", what, n);
        CHECK_OK(made_model_set_threads(m, 2));
        share_any_batch(m);
        CHECK_OK(made_model_sample(m, b, c, n, seed));
        if (memcmp(a, b, sz * sizeof(float)) != 0)
            HARNESS_FAIL_("%s N=%zu: 2 threads give other samples than 1", what, n);
        CHECK_OK(made_model_sample_naive(m, b, c, n, seed));
        if (memcmp(a, b, sz * sizeof(float)) != 0)
            HARNESS_FAIL_("%s N=%zu: naive sampler with 2 threads differs", what, n);
        CHECK_OK(made_model_set_threads(m, 1));
        if (n == 300) {
            CHECK_OK(made_model_sample(m, b, c, n, seed + 1));
            if (memcmp(a, b, sz * sizeof(float)) == 0)
                HARNESS_FAIL_("%s N=%zu: seeds %llu and %llu give the same samples", what, n,
                              (unsigned long long)seed, (unsigned long long)seed + 1);
            /* Rows do not depend on the chunking: the first 7 rows of 300
             * are the 7 samples of the same seed. */
            CHECK_OK(made_model_sample(m, b, c, 7, seed));
            if (memcmp(a, b, 7 * (size_t)e * sizeof(float)) != 0)
                HARNESS_FAIL_("%s: the first rows of N=300 differ from N=7", what);
        }
        free(a);
        free(b);
        free(c);
    }
}

static void test_samplers_identical(void)
{
    const made_dist ds[] = {{MADE_DIST_BERNOULLI, 0}, {MADE_DIST_GAUSSIAN, 0},
                            {MADE_DIST_CATEGORICAL, 3}, {MADE_DIST_MOG, 2}};
    int models = 0;
    for (int a = 0; a < MADE_ACT_COUNT; a++)
        for (int shape = 0; shape < 7; shape++) {
            made_config cfg;
            made_dist d = ds[(a + shape) % 4];
            if (shape == 6 && a % 6 != 0) continue; /* wide models: three activations */
            /* Exponential units fed unbounded gaussian samples overflow to
             * inf (and then NaN) in a random network; keep them discrete. */
            if (a == MADE_ACT_EXPONENTIAL) d = ds[2 * (shape & 1)];
            int e = shape == 0 ? 1 : shape == 6 ? gen_int(20, 40) : gen_int(2, 9);
            int C = shape % 3 == 1 ? gen_int(1, 3) : 0;
            int masks = shape == 4 ? 3 : 1;
            random_config(&cfg, e, d, C, masks);
            cfg.activation = (made_activation)a;
            switch (shape) {
            case 0: /* E = 1 */
                cfg.n_hidden = 1;
                cfg.hidden_units[0] = gen_int(1, 4);
                break;
            case 1: /* conditional, all layers */
                cfg.conditional_layers = MADE_COND_ALL_LAYERS;
                cfg.n_hidden = 2;
                cfg.hidden_units[0] = gen_int(e, 12);
                cfg.hidden_units[1] = gen_int(e, 12);
                break;
            case 2: /* no hidden layer */
                cfg.n_hidden = 0;
                break;
            case 3: /* hidden smaller than E - 1, random degrees */
                cfg.n_hidden = 2;
                cfg.hidden_units[0] = gen_int(1, e > 2 ? e - 2 : 1);
                cfg.hidden_units[1] = gen_int(1, 3);
                cfg.hidden_degrees = MADE_DEGREES_RANDOM;
                break;
            case 4: /* order-agnostic: mask set 2 of 3 */
                cfg.n_hidden = 1;
                cfg.hidden_units[0] = gen_int(4, 16);
                cfg.input_order = MADE_ORDER_RANDOM;
                break;
            case 6: /* wider than a 64-column panel and a 32-row block; random order */
                cfg.n_hidden = 2;
                cfg.hidden_units[0] = gen_int(65, 130);
                cfg.hidden_units[1] = gen_int(e, 70);
                cfg.input_order = MADE_ORDER_RANDOM;
                break;
            default: /* conditional on the first layer, three hidden layers */
                cfg.conditional_size = gen_int(1, 3);
                cfg.conditional_layers = MADE_COND_FIRST_LAYER;
                cfg.n_hidden = 3;
                for (int l = 0; l < 3; l++) cfg.hidden_units[l] = gen_int(2, 9);
                break;
            }
            made_model *m = create(&cfg);
            if (!m) continue;
            if (masks == 3) CHECK_OK(made_model_set_mask(m, 2));
            char what[256];
            describe(what, sizeof what, &cfg);
            check_samplers(m, what);
            made_model_free(m);
            models++;
        }
    printf("  samplers: %d models x N = 1, 7, 300\n", models);
}

/* ---- resuming ------------------------------------------------------------- */

typedef struct watch {
    int stop_epoch;      /* 0 = never stop */
    size_t stop_batch;   /* stop after this minibatch; 0 = at the end of the epoch */
    int fired;
    int first_epoch;     /* first callback seen */
    size_t first_batch;
    int calls;
    double best_val;     /* best_val_nll at the last epoch end */
    double last_val;
    int last_epoch;
} watch;

static int watch_cb(void *user, const made_progress *p)
{
    watch *w = user;
    if (w->calls++ == 0) {
        w->first_epoch = p->epoch;
        w->first_batch = p->batch;
    }
    if (p->epoch_done) {
        w->best_val = p->best_val_nll;
        w->last_val = p->val_nll;
        w->last_epoch = p->epoch;
    }
    if (w->stop_epoch && !w->fired && p->epoch == w->stop_epoch &&
        (w->stop_batch ? !p->epoch_done && p->batch == w->stop_batch : p->epoch_done)) {
        w->fired = 1;
        return 1;
    }
    return 0;
}

static int resume_cases;

typedef struct rdata {
    const float *x, *c, *xv, *cv;
    size_t n, nv;
} rdata;

static float *final_weights(made_model *m)
{
    size_t np = made_model_num_params(m);
    float *w = malloc(np * sizeof(float));
    if (!w) abort();
    CHECK_OK(made_model_get_weights(m, w, np));
    return w;
}

/* Trains cfg/tc on d uninterrupted, then again with an interruption (after
 * minibatch stop_batch of epoch stop_epoch, or at that epoch's end when
 * stop_batch is 0), a checkpoint, everything freed, a resume and a second fit:
 * the final weights must be the same bits. */
static void resume_case(const char *name, const made_config *cfg, const made_train_config *tc,
                        const rdata *d, int stop_epoch, size_t stop_batch)
{
    made_model *m = create(cfg);
    made_trainer *t = NULL;
    if (!m) return;
    CHECK_OK(made_trainer_create(&t, m, tc));
    watch w0 = {0};
    CHECK_OK(made_trainer_fit(t, d->x, d->c, d->n, d->xv, d->cv, d->nv, watch_cb, &w0));
    float *want = final_weights(m);
    size_t np = made_model_num_params(m);
    made_trainer_free(t);
    made_model_free(m);

    char path[] = "/tmp/made_test_density_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        HARNESS_FAIL_("%s: mkstemp failed", name);
        free(want);
        return;
    }
    close(fd);
    m = create(cfg);
    t = NULL;
    CHECK_OK(made_trainer_create(&t, m, tc));
    watch w1 = {0};
    w1.stop_epoch = stop_epoch;
    w1.stop_batch = stop_batch;
    int rc = made_trainer_fit(t, d->x, d->c, d->n, d->xv, d->cv, d->nv, watch_cb, &w1);
    if (rc != MADE_E_INTERRUPTED || !w1.fired)
        HARNESS_FAIL_("%s: interrupted fit -> %d (fired %d), want MADE_E_INTERRUPTED", name, rc,
                      w1.fired);
    CHECK_OK(made_trainer_save(t, path));
    made_trainer_free(t);
    made_model_free(m);

    made_model *m2 = NULL;
    made_trainer *t2 = NULL;
    rc = made_trainer_resume(&t2, &m2, path);
    if (rc) {
        HARNESS_FAIL_("%s: resume -> %d (%s)", name, rc, made_last_error());
    } else {
        watch w2 = {0};
        CHECK_OK(made_trainer_fit(t2, d->x, d->c, d->n, d->xv, d->cv, d->nv, watch_cb, &w2));
        /* It continued where it stopped. */
        int want_epoch = stop_batch ? stop_epoch : stop_epoch + 1;
        size_t want_batch = stop_batch ? stop_batch + 1 : 1;
        if (w2.first_epoch != want_epoch || w2.first_batch != want_batch)
            HARNESS_FAIL_("%s: resumed at epoch %d batch %zu, want epoch %d batch %zu", name,
                          w2.first_epoch, w2.first_batch, want_epoch, want_batch);
        float *got = final_weights(m2);
        if (made_model_num_params(m2) != np || memcmp(got, want, np * sizeof(float)) != 0) {
            size_t first = 0;
            while (first < np && got[first] == want[first]) first++;
            HARNESS_FAIL_("%s: resumed weights differ from the uninterrupted run (first at %zu "
                          "of %zu: %.9g vs %.9g)", name, first, np,
                          first < np ? (double)got[first] : 0.0,
                          first < np ? (double)want[first] : 0.0);
        }
        if (w0.last_epoch != w2.last_epoch)
            HARNESS_FAIL_("%s: last epoch %d uninterrupted, %d resumed", name, w0.last_epoch,
                          w2.last_epoch);
        if (d->nv && !(w0.best_val == w2.best_val))
            HARNESS_FAIL_("%s: best validation NLL %.17g uninterrupted, %.17g resumed", name,
                          w0.best_val, w2.best_val);
        free(got);
    }
    made_trainer_free(t2);
    made_model_free(m2);
    unlink(path);
    free(want);
    resume_cases++;
}

static void test_resume_bit_identical(void)
{
    const int e = 6, C = 2;
    const size_t n = 430, nv = 120; /* 430 rows, batch 40: 11 minibatches, the last short */
    float *x = malloc((n + nv) * e * sizeof(float)), *c = malloc((n + nv) * C * sizeof(float));
    if (!x || !c) abort();
    for (size_t i = 0; i < (n + nv); i++) {
        for (int j = 0; j < C; j++) c[i * C + j] = (float)gen_normal();
        for (int j = 0; j < e; j++) {
            /* Dependent dims, so training has something to learn. */
            double logit = j ? 2.0 * (x[i * e + j - 1] - 0.5) + 0.5 * c[i * C + j % C] : 0.3;
            x[i * e + j] = gen_unit() < 1 / (1 + exp(-logit)) ? 1.0f : 0.0f;
        }
    }
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = e;
    cfg.dist.kind = MADE_DIST_BERNOULLI;
    cfg.params = 1;
    cfg.n_hidden = 2;
    cfg.hidden_units[0] = 12;
    cfg.hidden_units[1] = 10;
    cfg.activation = MADE_ACT_RELU;
    cfg.seed = 5;
    made_train_config tc;
    made_train_config_default(&tc);
    tc.epochs = 4;
    tc.batch_size = 40;
    tc.lr = 5e-3;
    tc.seed = 9;

    rdata plain = {x, NULL, NULL, NULL, n, 0};
    rdata withval = {x, NULL, x + n * e, NULL, n, nv};
    rdata cond = {x, c, x + n * e, c + n * C, n, nv};

    resume_case("adam", &cfg, &tc, &plain, 2, 3);
    resume_case("adam, stopped at an epoch end", &cfg, &tc, &plain, 2, 0);

    made_train_config sgd = tc;
    sgd.optimizer = MADE_OPTIM_SGD;
    sgd.lr = 0.05;
    sgd.momentum = 0.9;
    sgd.weight_decay = 1e-3;
    resume_case("sgd", &cfg, &sgd, &plain, 2, 3);

    made_train_config val = tc;
    val.patience = 2;
    val.schedule = MADE_LR_COSINE;
    resume_case("adam, validation + patience", &cfg, &val, &withval, 2, 3);
    resume_case("adam, validation + patience, stopped at an epoch end", &cfg, &val, &withval, 2, 0);
    resume_case("adam, validation, stopped before the first validation", &cfg, &val, &withval, 1, 2);

    made_config agn = cfg;
    agn.num_masks = 2;
    agn.input_order = MADE_ORDER_RANDOM;
    made_train_config agt = tc;
    agt.clip_norm = 1.0;
    resume_case("num_masks 2, random order", &agn, &agt, &plain, 2, 3);
    resume_case("num_masks 2, random order, validation + patience", &agn, &val, &withval, 2, 3);

    made_config cc = cfg;
    cc.conditional_size = C;
    resume_case("conditional, validation", &cc, &val, &cond, 3, 5);

    printf("  resume: %d interrupted runs compared with uninterrupted ones\n", resume_cases);
    free(x);
    free(c);
}

/* Early stopping restores the best epoch's parameters: the returned model
 * scores best_val_nll on the validation data, which is below the last
 * epoch's. */
static void test_early_stopping_keeps_best(void)
{
    for (int masks = 1; masks <= 2; masks++) {
        const int e = 8;
        const size_t n = 60, nv = 300;
        float *x = malloc((n + nv) * e * sizeof(float));
        if (!x) abort();
        for (size_t i = 0; i < (n + nv) * e; i++) x[i] = gen_unit() < 0.3 ? 1.0f : 0.0f;
        made_config cfg;
        made_config_default(&cfg);
        cfg.event_size = e;
        cfg.dist.kind = MADE_DIST_BERNOULLI;
        cfg.params = 1;
        cfg.n_hidden = 1;
        cfg.hidden_units[0] = 64;
        cfg.activation = MADE_ACT_RELU;
        cfg.num_masks = masks;
        cfg.input_order = masks > 1 ? MADE_ORDER_RANDOM : MADE_ORDER_LEFT_TO_RIGHT;
        cfg.seed = 3;
        made_model *m = create(&cfg);
        if (!m) {
            free(x);
            continue;
        }
        made_train_config tc;
        made_train_config_default(&tc);
        tc.lr = 0.03;
        tc.batch_size = 10;
        tc.epochs = 60;
        tc.patience = 3;
        tc.seed = 4;
        made_trainer *t = NULL;
        CHECK_OK(made_trainer_create(&t, m, &tc));
        watch w = {0};
        CHECK_OK(made_trainer_fit(t, x, NULL, n, x + n * e, NULL, nv, watch_cb, &w));
        double val = NAN;
        CHECK_OK(made_model_nll(m, x + n * e, NULL, nv, masks > 1 ? masks : 0, &val));
        printf("  early stopping (masks %d): stopped after epoch %d, last val %.5f, best %.5f, "
               "model %.5f\n", masks, w.last_epoch, w.last_val, w.best_val, val);
        if (!(w.last_epoch < tc.epochs)) HARNESS_FAIL_("masks %d: training did not stop early", masks);
        if (!(w.last_val > w.best_val))
            HARNESS_FAIL_("masks %d: the last epoch (%.9g) is the best (%.9g)", masks, w.last_val,
                          w.best_val);
        if (!(val == w.best_val))
            HARNESS_FAIL_("masks %d: returned model scores %.17g, best_val_nll %.17g", masks, val,
                          w.best_val);
        made_trainer_free(t);
        made_model_free(m);
        free(x);
    }
}

/* ---- data errors ---------------------------------------------------------- */

static void test_data_errors(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 4;
    cfg.dist.kind = MADE_DIST_BERNOULLI;
    cfg.params = 1;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 5;
    made_model *m = create(&cfg);
    if (!m) return;
    float x[3 * 4] = {0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1};
    double lp[3];
    CHECK_OK(made_model_check_data(m, x, 3));
    x[1 * 4 + 2] = 0.5f;
    CHECK_STATUS(made_model_check_data(m, x, 3), MADE_E_DOMAIN);
    CHECK_STR_CONTAINS(made_last_error(), "row 2, column 3");
    CHECK_STATUS(made_model_log_prob(m, lp, x, NULL, 3), MADE_E_DOMAIN);
    CHECK_STR_CONTAINS(made_last_error(), "row 2, column 3");
    x[1 * 4 + 2] = -1.0f;
    CHECK_STATUS(made_model_check_data(m, x, 3), MADE_E_DOMAIN);
    x[1 * 4 + 2] = 2.0f;
    CHECK_STATUS(made_model_check_data(m, x, 3), MADE_E_DOMAIN);
    x[1 * 4 + 2] = 0.0f;
    x[2 * 4 + 3] = NAN;
    CHECK_STATUS(made_model_check_data(m, x, 3), MADE_E_NONFINITE);
    CHECK_STR_CONTAINS(made_last_error(), "row 3, column 4");
    x[2 * 4 + 3] = INFINITY;
    CHECK_STATUS(made_model_check_data(m, x, 3), MADE_E_NONFINITE);
    /* Training rejects bad data with the same row and column. */
    made_train_config tc;
    made_train_config_default(&tc);
    made_trainer *t = NULL;
    CHECK_OK(made_trainer_create(&t, m, &tc));
    x[2 * 4 + 3] = 1.0f;
    x[0 * 4 + 1] = 0.25f;
    CHECK_STATUS(made_trainer_fit(t, x, NULL, 3, NULL, NULL, 0, NULL, NULL), MADE_E_DOMAIN);
    CHECK_STR_CONTAINS(made_last_error(), "row 1, column 2");
    x[0 * 4 + 1] = 1.0f;
    float xv[4] = {0, 1, NAN, 0};
    CHECK_STATUS(made_trainer_fit(t, x, NULL, 3, xv, NULL, 1, NULL, NULL), MADE_E_NONFINITE);
    CHECK_STR_CONTAINS(made_last_error(), "validation");
    CHECK_STR_CONTAINS(made_last_error(), "row 1, column 3");
    made_trainer_free(t);
    made_model_free(m);

    /* Categorical:3 takes 0, 1, 2 only. */
    cfg.dist.kind = MADE_DIST_CATEGORICAL;
    cfg.dist.k = 3;
    cfg.params = 3;
    m = create(&cfg);
    if (!m) return;
    float y[2 * 4] = {0, 1, 2, 2, 1, 0, 0, 1};
    CHECK_OK(made_model_check_data(m, y, 2));
    CHECK_OK(made_model_log_prob(m, lp, y, NULL, 2));
    y[1 * 4 + 0] = 3.0f;
    CHECK_STATUS(made_model_check_data(m, y, 2), MADE_E_DOMAIN);
    CHECK_STR_CONTAINS(made_last_error(), "row 2, column 1");
    y[1 * 4 + 0] = 1.5f;
    CHECK_STATUS(made_model_check_data(m, y, 2), MADE_E_DOMAIN);
    y[1 * 4 + 0] = -1.0f;
    CHECK_STATUS(made_model_check_data(m, y, 2), MADE_E_DOMAIN);
    made_model_free(m);

    /* Gaussian takes any finite value. */
    cfg.dist.kind = MADE_DIST_GAUSSIAN;
    cfg.dist.k = 0;
    cfg.params = 2;
    m = create(&cfg);
    if (!m) return;
    float g[4] = {-1e30f, 3.5f, 0.25f, 7.0f};
    CHECK_OK(made_model_check_data(m, g, 1));
    g[1] = -INFINITY;
    CHECK_STATUS(made_model_check_data(m, g, 1), MADE_E_NONFINITE);
    made_model_free(m);

    /* A plain network has no distribution to score with. */
    cfg.dist.kind = MADE_DIST_NONE;
    cfg.params = 2;
    m = create(&cfg);
    if (!m) return;
    float z[4] = {0, 1, 0, 1};
    CHECK_STATUS(made_model_log_prob(m, lp, z, NULL, 1), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "distribution");
    CHECK_STATUS(made_model_check_data(m, z, 1), MADE_E_INVAL);
    double nll;
    CHECK_STATUS(made_model_nll(m, z, NULL, 1, 0, &nll), MADE_E_INVAL);
    made_model_free(m);
}

int main(void)
{
    gen_seed(1);
    RUN(test_normalise_bernoulli);
    gen_seed(2);
    RUN(test_normalise_categorical);
    gen_seed(3);
    RUN(test_normalise_conditional);
    gen_seed(4);
    RUN(test_normalise_mixture);
    gen_seed(5);
    RUN(test_normalise_continuous);
    gen_seed(6);
    RUN(test_train_bernoulli_entropy);
    gen_seed(7);
    RUN(test_train_gaussian_entropy);
    gen_seed(8);
    RUN(test_sample_frequencies);
    gen_seed(9);
    RUN(test_sample_continuous);
    gen_seed(10);
    RUN(test_samplers_identical);
    gen_seed(11);
    RUN(test_resume_bit_identical);
    gen_seed(12);
    RUN(test_early_stopping_keeps_best);
    gen_seed(13);
    RUN(test_data_errors);
    return harness_summary("test_density");
}
