/* test_flow.c - MAF and IAF stacks: the spec's worked example K (numbers
 * computed by TFP 0.25), the one-pass autoregressive direction against the
 * E-pass reference, round trips, log-determinants against finite-difference
 * Jacobians, normalisation on a grid, stress cases and errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "harness.h"
#include "flow_fixtures.h"
#include "made.h"
#include "threads.h"

/* Relative 1e-6 + absolute 1e-6: TFP computed in float32. */
#define NEAR_K(a, b) CHECK_NEAR(a, b, 1e-6 + 1e-6 * fabs((double)(b)))

static void test_example_k_maf(void)
{
    for (int naive = 0; naive <= 1; naive++) {
        made_flow *f = example_k(MADE_FLOW_MAF);
        if (!f) return;
        made__flow_set_naive(f, naive);
        double lp[2], ildj[2], fldj[1];
        float x[6], y[3];
        CHECK_OK(made_flow_log_prob(f, lp, K_Y, NULL, 2));
        NEAR_K(lp[0], -5.4689384);
        NEAR_K(lp[1], -4.3245900);
        CHECK_OK(made_flow_inverse(f, x, ildj, K_Y, NULL, 2));
        const double want_x[6] = {-1.6814353, 1.1367332, 0.2535509, -0.4946418, -1.0547307, 1.0202630};
        for (int i = 0; i < 6; i++) NEAR_K(x[i], want_x[i]);
        NEAR_K(ildj[0], -0.6202850);
        NEAR_K(ildj[1], -0.3687429);
        CHECK_OK(made_flow_forward(f, y, fldj, K_X, NULL, 1));
        NEAR_K(y[0], 1.5880429);
        NEAR_K(y[1], 0.8594984);
        NEAR_K(y[2], 0.2769333);
        made_flow_free(f);
    }
}

static void test_example_k_iaf(void)
{
    for (int naive = 0; naive <= 1; naive++) {
        made_flow *f = example_k(MADE_FLOW_IAF);
        if (!f) return;
        made__flow_set_naive(f, naive);
        double lp[2];
        float y[3];
        CHECK_OK(made_flow_log_prob(f, lp, K_Y, NULL, 2));
        NEAR_K(lp[0], -6.8272730);
        NEAR_K(lp[1], -5.0288480);
        CHECK_OK(made_flow_forward(f, y, NULL, K_X, NULL, 1));
        NEAR_K(y[0], 0.7856751);
        NEAR_K(y[1], -0.2016046);
        NEAR_K(y[2], -0.4677349);
        made_flow_free(f);
    }
}


/* The autoregressive direction (MAF forward, IAF inverse) by the one-pass
 * sweep and by E network passes, on stacks with every option. */
static void test_one_pass_matches_e_passes(void)
{
    const made_flow_scale scales[3] = {MADE_FLOW_SCALE_EXP, MADE_FLOW_SCALE_SOFTPLUS,
                                       MADE_FLOW_SCALE_SOFTCLIP};
    for (int kind = 0; kind <= 1; kind++)
        for (int v = 0; v < 6; v++) {
            stack_opts o = opts((made_flow_kind)kind, 1 + v % 4, v == 5 ? 1 : 7, v % 2 ? 3 : 0);
            o.scale = scales[v % 3];
            o.bn = v >= 3;
            o.order = v == 2 ? MADE_ORDER_RANDOM : v == 4 ? MADE_ORDER_RIGHT_TO_LEFT
                                                          : MADE_ORDER_LEFT_TO_RIGHT;
            o.seed = 11 + (unsigned)v;
            made_flow *f = stack(&o);
            if (!f) return;
            const size_t n = 300; /* more than one chunk */
            float *in = rand_rows(n, o.E, 5 + v, 1.5), *c = o.C ? rand_rows(n, o.C, 9, 2.0) : NULL;
            float *a = malloc(n * o.E * sizeof *a), *b = malloc(n * o.E * sizeof *b);
            double *la = malloc(n * sizeof *la), *lb = malloc(n * sizeof *lb);
            int (*fn)(made_flow *, float *, double *, const float *, const float *, size_t) =
                kind == MADE_FLOW_MAF ? made_flow_forward : made_flow_inverse;
            CHECK_OK(fn(f, a, la, in, c, n));
            made__flow_set_naive(f, 1);
            CHECK_OK(fn(f, b, lb, in, c, n));
            double w = max_rel(a, b, n * o.E);
            if (!(w < 1e-5)) HARNESS_FAIL_("kind %d variant %d: max relative difference %g", kind, v, w);
            for (size_t i = 0; i < n; i++) CHECK_NEAR(la[i], lb[i], 1e-5 * (1 + fabs(lb[i])));
            free(in);
            free(c);
            free(a);
            free(b);
            free(la);
            free(lb);
            made_flow_free(f);
        }
}

/* forward(inverse(y)) = y and the log-determinants cancel. With conditions
 * around 10 the layers' scales reach e^{+-5} or so and float rounding is
 * amplified by their product, hence the looser bound there. */
static void test_round_trip(void)
{
    for (int kind = 0; kind <= 1; kind++)
        for (int v = 0; v < 6; v++) {
            stack_opts o = opts((made_flow_kind)kind, 1 + v % 4, 5, v % 2 ? 2 : 0);
            o.bn = v >= 2;
            o.scale = (made_flow_scale)(v % 3);
            o.seed = 100 + (unsigned)v;
            const double cscale = v >= 4 ? 10.0 : 1.0, tol = v >= 4 ? 5e-4 : 2e-5;
            made_flow *f = stack(&o);
            if (!f) return;
            const size_t n = 50;
            float *y = rand_rows(n, o.E, 3, 2.0), *c = o.C ? rand_rows(n, o.C, 4, cscale) : NULL;
            float *x = malloc(n * o.E * sizeof *x), *y2 = malloc(n * o.E * sizeof *y2);
            double ildj[50], fldj[50];
            CHECK_OK(made_flow_inverse(f, x, ildj, y, c, n));
            CHECK_OK(made_flow_forward(f, y2, fldj, x, c, n));
            double w = max_rel(y2, y, n * o.E);
            if (!(w < tol)) HARNESS_FAIL_("kind %d variant %d: max relative difference %g", kind, v, w);
            for (size_t i = 0; i < n; i++) CHECK_NEAR(ildj[i] + fldj[i], 0.0, tol * (1 + fabs(ildj[i])));
            free(y);
            free(c);
            free(x);
            free(y2);
            made_flow_free(f);
        }
}

/* log|det dy/dx| of the forward direction against the determinant of a
 * central-difference Jacobian, E = 3. */
static double det3(const double J[9])
{
    return J[0] * (J[4] * J[8] - J[5] * J[7]) - J[1] * (J[3] * J[8] - J[5] * J[6]) +
           J[2] * (J[3] * J[7] - J[4] * J[6]);
}

static void test_log_det_finite_differences(void)
{
    for (int kind = 0; kind <= 1; kind++)
        for (int v = 0; v < 3; v++) {
            stack_opts o = opts((made_flow_kind)kind, 3, 3, v == 1 ? 2 : 0);
            o.bn = v == 2;
            o.scale = (made_flow_scale)v;
            o.seed = 40 + (unsigned)v;
            made_flow *f = stack(&o);
            if (!f) return;
            float x[3] = {0.3f, -0.7f, 1.1f}, c[2] = {0.5f, -1.5f}, y[3], yp[3], ym[3];
            const float *cc = o.C ? c : NULL;
            double fldj, l1, l2;
            CHECK_OK(made_flow_forward(f, y, &fldj, x, cc, 1));
            double J[9];
            const float h = 1e-2f;
            for (int j = 0; j < 3; j++) {
                float xp[3], xm[3];
                memcpy(xp, x, sizeof xp);
                memcpy(xm, x, sizeof xm);
                xp[j] += h;
                xm[j] -= h;
                CHECK_OK(made_flow_forward(f, yp, &l1, xp, cc, 1));
                CHECK_OK(made_flow_forward(f, ym, &l2, xm, cc, 1));
                for (int i = 0; i < 3; i++) J[i * 3 + j] = ((double)yp[i] - ym[i]) / (xp[j] - xm[j]);
            }
            CHECK_NEAR(fldj, log(fabs(det3(J))), 2e-3);
            made_flow_free(f);
        }
}

/* Midpoint rule on [-10, 10]^2: a 2-D flow's density integrates to 1. */
static void test_density_integrates_to_one(void)
{
    for (int kind = 0; kind <= 1; kind++) {
        stack_opts o = opts((made_flow_kind)kind, 3, 2, 0);
        o.bn = 1;
        o.seed = 77;
        made_flow *f = stack(&o);
        if (!f) return;
        const int G = 1000;
        const double L = 10.0, h = 2 * L / G;
        float *y = malloc((size_t)G * 2 * sizeof *y);
        double *lp = malloc((size_t)G * sizeof *lp), total = 0;
        for (int a = 0; a < G; a++) {
            for (int b = 0; b < G; b++) {
                y[2 * b] = (float)(-L + (a + 0.5) * h);
                y[2 * b + 1] = (float)(-L + (b + 0.5) * h);
            }
            CHECK_OK(made_flow_log_prob(f, lp, y, NULL, (size_t)G));
            for (int b = 0; b < G; b++) total += exp(lp[b]) * h * h;
        }
        CHECK_NEAR(total, 1.0, 1e-3);
        free(y);
        free(lp);
        made_flow_free(f);
    }
}

/* E = 1: a single event, no permutation, hidden degrees all 0. */
static void test_event_size_one(void)
{
    for (int kind = 0; kind <= 1; kind++) {
        stack_opts o = opts((made_flow_kind)kind, 3, 1, 1);
        made_flow *f = stack(&o);
        if (!f) return;
        float x[4] = {0.1f, -2.0f, 1.0f, 3.0f}, c[4] = {1, 2, 3, 4}, y[4], x2[4];
        double fl[4], il[4];
        CHECK_OK(made_flow_forward(f, y, fl, x, c, 4));
        CHECK_OK(made_flow_inverse(f, x2, il, y, c, 4));
        for (int i = 0; i < 4; i++) {
            CHECK_NEAR(x2[i], x[i], 1e-5);
            CHECK_NEAR(fl[i] + il[i], 0, 1e-6);
        }
        made_flow_free(f);
    }
}

/* Conditions around 10 and log-scales near exp's overflow stay finite and
 * invertible; beyond float's range the error names layer and dimension. */
static void test_stress(void)
{
    stack_opts o = opts(MADE_FLOW_MAF, 2, 3, 2);
    o.perm = MADE_FLOW_PERM_IDENTITY;
    made_flow *f = stack(&o);
    if (!f) return;
    /* Layer 1's output bias: event 1's log-scale (unit 1*2 + 1) to 80. */
    made_model *m = made_flow_layer(f, 1);
    int nw = made_model_num_weights(m), k_bias = -1;
    for (int k = 0; k < nw; k++) {
        const char *name;
        int rank, shape[2];
        made_model_weight_info(m, k, &name, &rank, shape);
        if (strcmp(name, "layers.2.bias") == 0) k_bias = k;
    }
    CHECK(k_bias >= 0);
    float b[6];
    CHECK_OK(made_model_get_weight(m, k_bias, b, 6));
    b[3] = 80.0f;
    CHECK_OK(made_model_set_weight(m, k_bias, b, 6));
    float x[3] = {0.2f, 0.5f, -0.4f}, c[2] = {10.0f, -9.5f}, y[3], x2[3];
    double fl, il;
    CHECK_OK(made_flow_forward(f, y, &fl, x, c, 1));
    CHECK_OK(made_flow_inverse(f, x2, &il, y, c, 1));
    for (int j = 0; j < 3; j++) CHECK_NEAR(x2[j], x[j], 1e-4 * fabs(x[j]) + 1e-6);
    CHECK_NEAR(fl + il, 0, 1e-6 * fabs(fl));
    /* exp(80) * 1e10 overflows float: reported, not passed on. */
    x[1] = 1e10f;
    CHECK_STATUS(made_flow_forward(f, y, &fl, x, c, 1), MADE_E_NONFINITE);
    CHECK_STR_CONTAINS(made_last_error(), "flow layer 1 (maf, forward): row 1, dimension 2");
    made_flow_free(f);
}

static void test_errors(void)
{
    stack_opts o = opts(MADE_FLOW_MAF, 2, 3, 2);
    made_flow *f = stack(&o);
    if (!f) return;
    float y[3] = {0, 1, 2}, x[3], c[2] = {1, 2};
    double lp;
    CHECK_STATUS(made_flow_log_prob(f, &lp, y, NULL, 1), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "flow layer 0");
    CHECK_STR_CONTAINS(made_last_error(), "conditional");
    y[2] = NAN;
    CHECK_STATUS(made_flow_inverse(f, x, NULL, y, c, 1), MADE_E_NONFINITE);
    CHECK_STR_CONTAINS(made_last_error(), "row 1, column 3");
    made_flow_free(f);
    o.C = 0;
    f = stack(&o);
    CHECK_STATUS(made_flow_sample(f, x, c, 1, 1), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "flow layer 0");
    made_flow_free(f);

    made_flow_config fc;
    made_flow_config_default(&fc);
    fc.layer.event_size = 3;
    fc.layer.params = 3;
    CHECK_STATUS(made_flow_create(&f, &fc), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "params");
    fc.layer.params = 2;
    fc.permutation = MADE_FLOW_PERM_EXPLICIT;
    const int bad[3] = {0, 2, 2};
    fc.explicit_permutation = bad;
    CHECK_STATUS(made_flow_create(&f, &fc), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "appears twice");
    CHECK(f == NULL);
}

/* Same bits for any thread count; sampling is seeded per row. */
static void test_threads_and_sampling(void)
{
    for (int kind = 0; kind <= 1; kind++) {
        stack_opts o = opts((made_flow_kind)kind, 3, 6, 0);
        o.hidden[0] = 70; /* more than one panel */
        made_flow *f = stack(&o);
        if (!f) return;
        const size_t n = 300;
        float *a = malloc(n * 6 * sizeof *a), *b = malloc(n * 6 * sizeof *b);
        double *la = malloc(n * sizeof *la), *lb = malloc(n * sizeof *lb);
        CHECK_OK(made_flow_sample(f, a, NULL, n, 42));
        CHECK_OK(made_flow_log_prob(f, la, a, NULL, n));
        CHECK_OK(made_flow_set_threads(f, 2));
        flow_share_any_batch(f);
        CHECK_OK(made_flow_sample(f, b, NULL, n, 42));
        CHECK_OK(made_flow_log_prob(f, lb, b, NULL, n));
        CHECK(memcmp(a, b, n * 6 * sizeof *a) == 0);
        CHECK(memcmp(la, lb, n * sizeof *la) == 0);
        /* MAF sampling is the sweep alone, where a row's value does not
         * depend on the batch: the first 10 rows alone are the same. */
        CHECK_OK(made_flow_sample(f, b, NULL, 10, 42));
        if (kind == MADE_FLOW_MAF) CHECK(memcmp(a, b, 10 * 6 * sizeof *a) == 0);
        CHECK_OK(made_flow_sample(f, b, NULL, n, 43));
        CHECK(memcmp(a, b, n * 6 * sizeof *a) != 0);
        free(a);
        free(b);
        free(la);
        free(lb);
        made_flow_free(f);
    }
}

/* Preprocessing: the density of the original data is the flow's density of
 * the transformed data times the transform's Jacobian (computed here
 * independently), and samples come back in the data's range. */
static void test_preprocessing(void)
{
    stack_opts o = opts(MADE_FLOW_MAF, 2, 3, 0);
    made_flow *plain = stack(&o);
    o.pre = MADE_FLOW_PRE_STANDARDIZE;
    made_flow *std = stack(&o); /* same weights (same seed), random mean/std */
    made_flow_config fc = *made_flow_get_config(plain);
    fc.preprocess = MADE_FLOW_PRE_LOGIT;
    fc.logit_lambda = 0.05;
    fc.dequantize_levels = 256;
    made_flow *logit = NULL;
    CHECK_OK(made_flow_create(&logit, &fc));
    if (!plain || !std || !logit) return;
    for (int k = 0; k < 2; k++) {
        made_model *a = made_flow_layer(plain, k), *b = made_flow_layer(logit, k);
        size_t np = made_model_num_params(a);
        float *w = malloc(np * sizeof *w);
        made_model_get_weights(a, w, np);
        made_model_set_weights(b, w, np);
        free(w);
    }
    const float d[6] = {0.5f, 17.25f, 255.9f, 128.0f, 3.75f, 200.5f};
    float y[6];
    double lp[2], want[2], mean[3], sd[3];
    /* logit(lambda + (1 - 2 lambda) d / 256) */
    for (int i = 0; i < 2; i++) {
        want[i] = 0;
        for (int j = 0; j < 3; j++) {
            double p = 0.05 + 0.9 * d[3 * i + j] / 256.0;
            y[3 * i + j] = (float)log(p / (1 - p));
            want[i] += log(0.9 / 256.0) - log(p) - log(1 - p);
        }
    }
    double base[2];
    CHECK_OK(made_flow_log_prob(plain, base, y, NULL, 2));
    CHECK_OK(made_flow_log_prob(logit, lp, d, NULL, 2));
    for (int i = 0; i < 2; i++) CHECK_NEAR(lp[i], base[i] + want[i], 1e-4);
    /* standardize */
    CHECK_OK(made_flow_get_standardize(std, mean, sd));
    for (int i = 0; i < 2; i++) {
        want[i] = 0;
        for (int j = 0; j < 3; j++) {
            y[3 * i + j] = (float)((d[3 * i + j] / 256.0 - mean[j]) / sd[j]);
            want[i] -= log(sd[j]);
        }
    }
    float d2[6];
    for (int i = 0; i < 6; i++) d2[i] = d[i] / 256.0f;
    CHECK_OK(made_flow_log_prob(plain, base, y, NULL, 2));
    CHECK_OK(made_flow_log_prob(std, lp, d2, NULL, 2));
    for (int i = 0; i < 2; i++) CHECK_NEAR(lp[i], base[i] + want[i], 1e-4);
    /* Samples of the logit flow are pixel values; outside data is refused. */
    float s[300];
    CHECK_OK(made_flow_sample(logit, s, NULL, 100, 1));
    for (int i = 0; i < 300; i++) CHECK(s[i] >= 0 && s[i] <= 256);
    const float out_of_range[3] = {1, 2, 300};
    CHECK_STATUS(made_flow_log_prob(logit, lp, out_of_range, NULL, 1), MADE_E_DOMAIN);
    CHECK_STR_CONTAINS(made_last_error(), "row 1, column 3");
    made_flow_free(plain);
    made_flow_free(std);
    made_flow_free(logit);
}

/* made_dequantize: bits from an independent implementation of the stream
 * (numpy, vectorised: state_k = (seed ^ 0x6465717561) + k 0x9e3779b97f4a7c15,
 * splitmix64's mix, top 53 bits / 2^53, rounded to float and added); a value
 * that is not an integer 0..L-1 is refused with its row and column, and x is
 * left as it was. */
static void test_dequantize(void)
{
    float x[6] = {0, 255, 3, 1, 2, 254};
    const float want[6] = {0x1.4376e6p-4f, 0x1.fe9432p+7f, 0x1.b99a5p+1f,
                           0x1.ced2ap+0f,  0x1.67538cp+1f, 0x1.fc953ep+7f};
    CHECK_OK(made_dequantize(x, 2, 3, 12345, 256));
    CHECK(memcmp(x, want, sizeof x) == 0);
    float y[4] = {0, 1, 2, 3};
    const float want_y[4] = {0x1.bf7604p-1f, 0x1.47d424p+0f, 0x1.0438c8p+1f, 0x1.b6280cp+1f};
    CHECK_OK(made_dequantize(y, 1, 4, UINT64_MAX, 4));
    CHECK(memcmp(y, want_y, sizeof y) == 0);
    float bad[4] = {1, 2, 3.5f, 4};
    const float kept[4] = {1, 2, 3.5f, 4};
    CHECK_STATUS(made_dequantize(bad, 2, 2, 1, 256), MADE_E_DOMAIN);
    CHECK_STR_CONTAINS(made_last_error(), "row 2, column 1 is 3.5");
    CHECK(memcmp(bad, kept, sizeof bad) == 0);
    bad[2] = 3;
    CHECK_STATUS(made_dequantize(bad, 2, 2, 1, 4), MADE_E_DOMAIN); /* 4 > L - 1 */
    CHECK_STR_CONTAINS(made_last_error(), "row 2, column 2 is 4; dequantize needs integers 0..3");
    bad[0] = -1;
    bad[3] = 0;
    CHECK_STATUS(made_dequantize(bad, 2, 2, 1, 4), MADE_E_DOMAIN);
    bad[0] = NAN;
    CHECK_STATUS(made_dequantize(bad, 2, 2, 1, 4), MADE_E_DOMAIN);
    CHECK_STATUS(made_dequantize(y, 1, 4, 1, 1), MADE_E_INVAL);
    CHECK_STATUS(made_dequantize(NULL, 1, 4, 1, 256), MADE_E_INVAL);
    CHECK_OK(made_dequantize(NULL, 0, 4, 1, 256));
}

int main(void)
{
    RUN(test_example_k_maf);
    RUN(test_example_k_iaf);
    RUN(test_one_pass_matches_e_passes);
    RUN(test_round_trip);
    RUN(test_log_det_finite_differences);
    RUN(test_density_integrates_to_one);
    RUN(test_event_size_one);
    RUN(test_stress);
    RUN(test_errors);
    RUN(test_threads_and_sampling);
    RUN(test_preprocessing);
    RUN(test_dequantize);
    return harness_summary("test_flow");
}
