/* test_spec.c - the worked examples of spec section 2.5 (A-I), the parameter
 * counts and weight order of section 3, configuration errors and initializer
 * statistics, all through the public API (include/made.h) only. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "made.h"

/* ---- helpers -------------------------------------------------------------- */

static void cfg_net(made_config *cfg, int e, int p, int nh, const int *units)
{
    made_config_default(cfg);
    cfg->event_size = e;
    cfg->params = p;
    cfg->n_hidden = nh;
    for (int l = 0; l < nh; l++) cfg->hidden_units[l] = units[l];
    cfg->kernel_initializer = made_initializer_default(MADE_INIT_ONES);
}

static made_initializer constant(double v)
{
    made_initializer in = made_initializer_default(MADE_INIT_CONSTANT);
    in.value = v;
    return in;
}

static made_model *create_(const made_config *cfg, int line)
{
    made_model *m = NULL;
    int rc = made_model_create(&m, cfg);
    if (rc != MADE_OK || !m) {
        HARNESS_FAIL_("line %d: made_model_create -> %d (%s)", line, rc, made_last_error());
        made_model_free(m);
        return NULL;
    }
    return m;
}
#define CREATE(cfg) create_((cfg), __LINE__)

static void check_ints_(const int *got, const int *want, int n, const char *what, int line)
{
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            HARNESS_FAIL_("line %d: %s[%d] = %d, want %d", line, what, i, got[i], want[i]);
            return;
        }
}
#define CHECK_INTS(got, want, n, what) check_ints_((got), (want), (n), (what), __LINE__)

/* Checks made_model_degrees(m, l) against want. */
static void check_degrees_(const made_model *m, int l, const int *want, int n, int line)
{
    int got[256];
    int rc = made_model_degrees(m, l, got);
    if (rc) {
        HARNESS_FAIL_("line %d: made_model_degrees(%d) -> %d (%s)", line, l, rc, made_last_error());
        return;
    }
    char what[32];
    snprintf(what, sizeof what, "degrees[%d]", l);
    check_ints_(got, want, n, what, line);
}
#define CHECK_DEGREES(m, l, want, n) check_degrees_((m), (l), (want), (n), __LINE__)

/* Checks every mask of m (made_model_mask) against texts of 0/1 digits. */
static void check_masks_(const made_model *m, const char *const *want, int line)
{
    int nl = made_model_num_layers(m);
    for (int l = 0; l < nl; l++) {
        int in = -1, out = -1;
        int rc = made_model_layer_shape(m, l, &in, &out);
        if (rc) {
            HARNESS_FAIL_("line %d: layer_shape(%d) -> %d", line, l, rc);
            return;
        }
        uint8_t *mask = malloc((size_t)in * out + 1);
        if (!mask) abort();
        rc = made_model_mask(m, l, mask);
        if (rc) {
            HARNESS_FAIL_("line %d: made_model_mask(%d) -> %d (%s)", line, l, rc, made_last_error());
            free(mask);
            return;
        }
        int k = 0, bad = 0;
        for (const char *p = want[l]; *p && !bad; p++) {
            if (*p != '0' && *p != '1') continue;
            if (k >= in * out || mask[k] != (uint8_t)(*p - '0')) {
                HARNESS_FAIL_("line %d: mask %d entry [%d, %d] is %d, want %c", line, l,
                              k / out, k % out, k < in * out ? mask[k] : -1, *p);
                bad = 1;
            }
            k++;
        }
        if (!bad && k != in * out)
            HARNESS_FAIL_("line %d: mask %d has %d entries, expected text %d", line, l, in * out, k);
        free(mask);
    }
}
#define CHECK_MASKS(m, ...) check_masks_((m), (const char *const[]){__VA_ARGS__}, __LINE__)

/* Runs forward on n rows and compares all n*E*P outputs to want (tol 1e-6). */
static void check_forward_(made_model *m, const float *x, const float *c, size_t n,
                           const float *want, int line)
{
    const made_config *cfg = made_model_config(m);
    size_t cnt = n * (size_t)cfg->event_size * (size_t)cfg->params;
    float *y = malloc(cnt * sizeof *y);
    if (!y) abort();
    for (size_t i = 0; i < cnt; i++) y[i] = NAN;
    int rc = made_model_forward(m, y, x, c, n);
    if (rc) {
        HARNESS_FAIL_("line %d: forward -> %d (%s)", line, rc, made_last_error());
    } else {
        for (size_t i = 0; i < cnt; i++)
            if (!(fabs((double)y[i] - (double)want[i]) <= 1e-6)) {
                HARNESS_FAIL_("line %d: output %zu (row %zu, event %zu, param %zu) = %.9g, want %.9g",
                              line, i, i / (cnt / n), (i % (cnt / n)) / (size_t)cfg->params,
                              i % (size_t)cfg->params, (double)y[i], (double)want[i]);
                break;
            }
    }
    free(y);
}
#define CHECK_FORWARD(m, x, c, n, ...) \
    check_forward_((m), (x), (c), (n), (const float[]){__VA_ARGS__}, __LINE__)

/* ---- worked examples (spec 2.5) ----------------------------------------- */

static void test_example_a(void)
{
    made_config cfg;
    cfg_net(&cfg, 3, 2, 1, (int[]){4});
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_layers(m), 2);
    int in, out;
    CHECK_OK(made_model_layer_shape(m, 0, &in, &out));
    CHECK_EQ_INT(in, 3);
    CHECK_EQ_INT(out, 4);
    CHECK_OK(made_model_layer_shape(m, 1, &in, &out));
    CHECK_EQ_INT(in, 4);
    CHECK_EQ_INT(out, 6);
    CHECK_STATUS(made_model_layer_shape(m, 2, &in, &out), MADE_E_INVAL);
    CHECK_DEGREES(m, 0, ((int[]){1, 2, 3}), 3);
    CHECK_DEGREES(m, 1, ((int[]){1, 1, 2, 2}), 4);
    int junk[8];
    CHECK_STATUS(made_model_degrees(m, 2, junk), MADE_E_INVAL);
    CHECK_MASKS(m, "1111 0011 0000", "001111 001111 000011 000011");
    const float x[3] = {1, 2, 3};
    CHECK_FORWARD(m, x, NULL, 1, 0, 0, 2, 2, 8, 8);
    /* Free parameters: 6 + 12 unmasked kernel entries and 4 + 6 biases. */
    CHECK_EQ_INT(made_model_num_free_params(m), 28);
    CHECK_EQ_INT(made_model_num_params(m), 4 * 4 + 5 * 6);
    made_model_free(m);

    cfg.bias_initializer = made_initializer_default(MADE_INIT_ONES);
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_FORWARD(m, x, NULL, 1, 1, 1, 5, 5, 13, 13);
    /* Event 0 is the output bias only, for any input. */
    const float x2[3] = {-7, 100, 0.5f};
    float y[6];
    CHECK_OK(made_model_forward(m, y, x2, NULL, 1));
    CHECK_NEAR(y[0], 1, 0);
    CHECK_NEAR(y[1], 1, 0);
    made_model_free(m);
}

static void test_example_b(void)
{
    made_config cfg;
    cfg_net(&cfg, 3, 2, 1, (int[]){4});
    cfg.input_order = MADE_ORDER_RIGHT_TO_LEFT;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_DEGREES(m, 0, ((int[]){3, 2, 1}), 3);
    CHECK_DEGREES(m, 1, ((int[]){1, 1, 2, 2}), 4);
    CHECK_MASKS(m, "0000 0011 1111", "111100 111100 110000 110000");
    const float x[3] = {1, 2, 3};
    CHECK_FORWARD(m, x, NULL, 1, 16, 16, 6, 6, 0, 0);
    made_model_free(m);
}

static void test_example_c(void)
{
    made_config cfg;
    cfg_net(&cfg, 3, 2, 1, (int[]){4});
    int order[3] = {2, 3, 1};
    cfg.input_order = MADE_ORDER_EXPLICIT;
    cfg.explicit_order = order;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    /* The order is copied at creation. */
    order[0] = 3;
    order[2] = 2;
    CHECK_DEGREES(m, 0, ((int[]){2, 3, 1}), 3);
    CHECK_INTS(made_model_config(m)->explicit_order, ((int[]){2, 3, 1}), 3, "config order");
    CHECK_EQ_INT(made_model_config(m)->input_order, MADE_ORDER_EXPLICIT);
    CHECK_DEGREES(m, 1, ((int[]){1, 1, 2, 2}), 4);
    CHECK_MASKS(m, "0011 0000 1111", "111100 111100 001100 001100");
    const float x[6] = {1, 2, 3, 0.5f, -1, 2};
    CHECK_FORWARD(m, x, NULL, 2, 6, 6, 14, 14, 0, 0, 4, 4, 9, 9, 0, 0);
    /* Row by row gives the same. */
    CHECK_FORWARD(m, x + 3, NULL, 1, 4, 4, 9, 9, 0, 0);
    made_model_free(m);
}

static void test_example_d(void)
{
    made_config cfg;
    cfg_net(&cfg, 4, 1, 2, (int[]){5, 5});
    cfg.activation = MADE_ACT_RELU;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_DEGREES(m, 0, ((int[]){1, 2, 3, 4}), 4);
    CHECK_DEGREES(m, 1, ((int[]){1, 1, 2, 2, 3}), 5);
    CHECK_DEGREES(m, 2, ((int[]){1, 1, 2, 2, 3}), 5);
    CHECK_MASKS(m, "11111 00111 00001 00000", "11111 11111 00111 00111 00001",
                "0111 0111 0011 0011 0001");
    const float x[4] = {1, -2, 3, 4};
    CHECK_FORWARD(m, x, NULL, 1, 0, 4, 8, 12);
    made_model_free(m);

    cfg.activation = MADE_ACT_LINEAR;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_FORWARD(m, x, NULL, 1, 0, 4, 4, 6);
    made_model_free(m);

    cfg.params = 2;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_MASKS(m, "11111 00111 00001 00000", "11111 11111 00111 00111 00001",
                "00111111 00111111 00001111 00001111 00000011");
    CHECK_FORWARD(m, x, NULL, 1, 0, 0, 4, 4, 4, 4, 6, 6);
    made_model_free(m);
}

static void test_example_e(void)
{
    made_config cfg;
    cfg_net(&cfg, 3, 2, 0, NULL);
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_layers(m), 1);
    CHECK_DEGREES(m, 0, ((int[]){1, 2, 3}), 3);
    CHECK_MASKS(m, "001111 000011 000000");
    const float x[3] = {1, 2, 3};
    CHECK_FORWARD(m, x, NULL, 1, 0, 0, 1, 1, 3, 3);
    made_model_free(m);

    /* hidden_degrees is ignored without hidden layers (also 'random'). */
    cfg.hidden_degrees = MADE_DEGREES_RANDOM;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_MASKS(m, "001111 000011 000000");
    made_model_free(m);
}

static void test_example_f(void)
{
    made_config cfg;
    cfg_net(&cfg, 1, 2, 1, (int[]){3});
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_DEGREES(m, 0, ((int[]){1}), 1);
    CHECK_DEGREES(m, 1, ((int[]){0, 0, 0}), 3);
    CHECK_MASKS(m, "000", "11 11 11");
    made_model_free(m);

    cfg_net(&cfg, 1, 3, 1, (int[]){2});
    cfg.bias_initializer = constant(0.25);
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_MASKS(m, "00", "111 111");
    const float x[1] = {5};
    CHECK_FORWARD(m, x, NULL, 1, 0.75f, 0.75f, 0.75f);
    const float x2[1] = {-1000};
    CHECK_FORWARD(m, x2, NULL, 1, 0.75f, 0.75f, 0.75f);
    made_model_free(m);

    /* With relu and a negative bias the hidden layer is dead: output = bias. */
    cfg.bias_initializer = constant(-0.5);
    cfg.activation = MADE_ACT_RELU;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_FORWARD(m, x, NULL, 1, -0.5f, -0.5f, -0.5f);
    made_model_free(m);
}

static void test_example_g(void)
{
    made_config cfg;
    cfg_net(&cfg, 10, 1, 2, (int[]){3, 20});
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_DEGREES(m, 1, ((int[]){3, 5, 7}), 3);
    CHECK_DEGREES(m, 2, ((int[]){3, 3, 3, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9, 9}), 20);
    made_model_free(m);
}

static void test_example_h(void)
{
    made_config cfg;
    cfg_net(&cfg, 5, 1, 1, (int[]){2});
    cfg.bias_initializer = constant(0.25);
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_DEGREES(m, 1, ((int[]){2, 3}), 2);
    CHECK_MASKS(m, "11 11 01 00 00", "00111 00011");
    /* x = [1,2,3,4,5]: h = [0.25+3, 0.25+6] = [3.25, 6.25];
     * outputs 0, 1 bias only; 2 = h0; 3, 4 = h0 + h1. */
    float x[5] = {1, 2, 3, 4, 5};
    CHECK_FORWARD(m, x, NULL, 1, 0.25f, 0.25f, 3.5f, 9.75f, 9.75f);
    /* x3 and x4 feed nothing. */
    x[3] = -40;
    x[4] = 17;
    CHECK_FORWARD(m, x, NULL, 1, 0.25f, 0.25f, 3.5f, 9.75f, 9.75f);
    made_model_free(m);

    cfg_net(&cfg, 9, 1, 2, (int[]){5, 5});
    cfg.input_order = MADE_ORDER_RIGHT_TO_LEFT;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_DEGREES(m, 0, ((int[]){9, 8, 7, 6, 5, 4, 3, 2, 1}), 9);
    CHECK_DEGREES(m, 1, ((int[]){2, 3, 4, 6, 7}), 5);
    CHECK_DEGREES(m, 2, ((int[]){2, 3, 4, 6, 7}), 5);
    float xa[9], xb[9], ya[9], yb[9];
    for (int j = 0; j < 9; j++) xa[j] = xb[j] = (float)(j + 1);
    xb[1] = 123; /* x[1] (degree 8) influences nothing */
    xb[0] = -5;  /* x[0] (degree 9) neither */
    CHECK_OK(made_model_forward(m, ya, xa, NULL, 1));
    CHECK_OK(made_model_forward(m, yb, xb, NULL, 1));
    CHECK(memcmp(ya, yb, sizeof ya) == 0);
    /* Outputs of x[8] (degree 1) and x[7] (degree 2) are bias-only (0). */
    CHECK_NEAR(ya[8], 0, 0);
    CHECK_NEAR(ya[7], 0, 0);
    CHECK(ya[6] > 0);
    made_model_free(m);
}

static void test_example_i(void)
{
    made_config cfg;
    cfg_net(&cfg, 2, 2, 1, (int[]){2});
    cfg.conditional_size = 1;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_DEGREES(m, 1, ((int[]){1, 1}), 2);
    const float x[2] = {1, 2}, c[1] = {0.5f};
    CHECK_FORWARD(m, x, c, 1, 0.5f, 0.5f, 3.5f, 3.5f);
    /* Batch of two rows, each with its own c. */
    const float x2[4] = {1, 2, 1, 2}, c2[2] = {0.5f, -1};
    /* c = -1: h = [0, 0]; out0 = -1, out1 = 0 + -1. */
    CHECK_FORWARD(m, x2, c2, 2, 0.5f, 0.5f, 3.5f, 3.5f, -1, -1, -1, -1);
    made_model_free(m);

    cfg.conditional_layers = MADE_COND_FIRST_LAYER;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_FORWARD(m, x, c, 1, 0, 0, 3, 3);
    /* The degree-1 output does not depend on c at all. */
    const float c3[1] = {100};
    CHECK_FORWARD(m, x, c3, 1, 0, 0, 202, 202);
    made_model_free(m);

    /* first_layer without hidden layer: V on the output layer.
     * out0 = c, out1 = x0 + c. */
    cfg_net(&cfg, 2, 2, 0, NULL);
    cfg.conditional_size = 1;
    cfg.conditional_layers = MADE_COND_FIRST_LAYER;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_FORWARD(m, x, c, 1, 0.5f, 0.5f, 1.5f, 1.5f);
    made_model_free(m);
}

static void test_random_order_public(void)
{
    /* spec 2.2: the seed plays np.random.seed(s) before the first call. */
    static const struct {
        uint32_t seed;
        int order[4], l1[6], l2[6];
    } traces[] = {
        {0, {3, 4, 2, 1}, {2, 2, 3, 1, 3, 1}, {1, 1, 3, 2, 3, 3}},
        {1, {4, 3, 1, 2}, {2, 2, 1, 1, 2, 1}, {2, 1, 3, 2, 3, 1}},
        {42, {2, 4, 1, 3}, {3, 1, 1, 3, 2, 3}, {3, 3, 3, 1, 3, 2}},
    };
    for (int t = 0; t < 3; t++) {
        made_config cfg;
        cfg_net(&cfg, 4, 2, 2, (int[]){6, 6});
        cfg.input_order = MADE_ORDER_RANDOM;
        cfg.hidden_degrees = MADE_DEGREES_RANDOM;
        cfg.seed = traces[t].seed;
        made_model *m = CREATE(&cfg);
        if (!m) return;
        CHECK_DEGREES(m, 0, traces[t].order, 4);
        CHECK_DEGREES(m, 1, traces[t].l1, 6);
        CHECK_DEGREES(m, 2, traces[t].l2, 6);
        CHECK_INTS(made_model_config(m)->explicit_order, traces[t].order, 4, "order used");
        made_model_free(m);
    }
    made_config cfg;
    cfg_net(&cfg, 5, 1, 1, (int[]){3});
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.hidden_degrees = MADE_DEGREES_RANDOM;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_DEGREES(m, 0, ((int[]){3, 1, 2, 4, 5}), 5);
    CHECK_DEGREES(m, 1, ((int[]){4, 4, 4}), 3);
    /* Masks follow: input with degree 3 (x0) feeds all three degree-4 units;
     * x3 (4) feeds them too, x4 (5) nothing; output of x4 (order 5) sees all. */
    CHECK_MASKS(m, "111 111 111 111 000", "00001 00001 00001");
    made_model_free(m);
}

/* ---- parameter counts and weight order (spec section 3) -------------------- */

static size_t count_params(const int *units, int nh, int e, int p, int bias)
{
    made_config cfg;
    cfg_net(&cfg, e, p, nh, units);
    cfg.use_bias = bias;
    made_model *m = CREATE(&cfg);
    if (!m) return 0;
    size_t n = made_model_num_params(m);
    made_model_free(m);
    return n;
}

static void test_param_counts(void)
{
    CHECK_EQ_INT(count_params((int[]){10, 7, 10}, 3, 4, 3, 1), 339);
    CHECK_EQ_INT(count_params((int[]){9}, 1, 5, 2, 1), 154);
    CHECK_EQ_INT(count_params((int[]){5, 5}, 2, 9, 1, 0), 115);
    CHECK_EQ_INT(count_params(NULL, 0, 3, 4, 0), 36);
    CHECK_EQ_INT(count_params((int[]){5, 5}, 2, 4, 2, 1), 103);

    /* Conditional: + C * out for each conditional kernel. */
    made_config cfg;
    cfg_net(&cfg, 4, 3, 3, (int[]){10, 7, 10});
    cfg.conditional_size = 2;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_params(m), 339 + 2 * (10 + 7 + 10 + 12));
    made_model_free(m);
    cfg.conditional_layers = MADE_COND_FIRST_LAYER;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_params(m), 339 + 2 * 10);
    made_model_free(m);
    cfg_net(&cfg, 3, 4, 0, NULL);
    cfg.use_bias = 0;
    cfg.conditional_size = 5;
    cfg.conditional_layers = MADE_COND_FIRST_LAYER;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_params(m), 36 + 5 * 12);
    made_model_free(m);
}

/* Checks weight k's name, rank and shape. */
static void check_weight_(const made_model *m, int k, const char *name, int rank, int s0, int s1,
                          int line)
{
    const char *got = NULL;
    int r = -1, shape[2] = {-1, -1};
    int rc = made_model_weight_info(m, k, &got, &r, shape);
    if (rc) {
        HARNESS_FAIL_("line %d: weight_info(%d) -> %d", line, k, rc);
        return;
    }
    if (!got || strcmp(got, name) != 0)
        HARNESS_FAIL_("line %d: weight %d is \"%s\", want \"%s\"", line, k, got ? got : "(null)",
                      name);
    if (r != rank || shape[0] != s0 || (rank == 2 && shape[1] != s1))
        HARNESS_FAIL_("line %d: weight %d (%s): rank %d shape [%d, %d], want rank %d [%d, %d]",
                      line, k, name, r, shape[0], shape[1], rank, s0, s1);
}
#define CHECK_WEIGHT(m, k, name, rank, s0, s1) \
    check_weight_((m), (k), (name), (rank), (s0), (s1), __LINE__)

/* Sum of the weights' element counts equals made_model_num_params. */
static void check_weight_total(const made_model *m)
{
    size_t total = 0;
    for (int k = 0; k < made_model_num_weights(m); k++) {
        int rank, shape[2];
        if (made_model_weight_info(m, k, NULL, &rank, shape)) return;
        total += (size_t)shape[0] * (rank == 2 ? (size_t)shape[1] : 1);
    }
    CHECK_EQ_INT(total, made_model_num_params(m));
}

static void test_weight_order(void)
{
    made_config cfg;
    cfg_net(&cfg, 3, 2, 2, (int[]){4, 5});
    made_model *m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_weights(m), 6);
    CHECK_WEIGHT(m, 0, "layers.0.kernel", 2, 3, 4);
    CHECK_WEIGHT(m, 1, "layers.0.bias", 1, 4, 0);
    CHECK_WEIGHT(m, 2, "layers.1.kernel", 2, 4, 5);
    CHECK_WEIGHT(m, 3, "layers.1.bias", 1, 5, 0);
    CHECK_WEIGHT(m, 4, "layers.2.kernel", 2, 5, 6);
    CHECK_WEIGHT(m, 5, "layers.2.bias", 1, 6, 0);
    CHECK_STATUS(made_model_weight_info(m, 6, NULL, NULL, NULL), MADE_E_INVAL);
    CHECK_STATUS(made_model_weight_info(m, -1, NULL, NULL, NULL), MADE_E_INVAL);
    check_weight_total(m);
    made_model_free(m);

    cfg.use_bias = 0;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_weights(m), 3);
    CHECK_WEIGHT(m, 0, "layers.0.kernel", 2, 3, 4);
    CHECK_WEIGHT(m, 1, "layers.1.kernel", 2, 4, 5);
    CHECK_WEIGHT(m, 2, "layers.2.kernel", 2, 5, 6);
    check_weight_total(m);
    made_model_free(m);

    /* all_layers: [W1, b1, V1, W2, b2, V2, Wout, bout, Vout]. */
    cfg.use_bias = 1;
    cfg.conditional_size = 7;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_weights(m), 9);
    const char *name;
    int want_kind[9] = {0, 1, 2, 0, 1, 2, 0, 1, 2};
    int want_out[3] = {4, 5, 6};
    for (int k = 0; k < 9 && k < made_model_num_weights(m); k++) {
        int rank, shape[2];
        CHECK_OK(made_model_weight_info(m, k, &name, &rank, shape));
        char prefix[32];
        snprintf(prefix, sizeof prefix, "layers.%d.", k / 3);
        CHECK(strncmp(name, prefix, strlen(prefix)) == 0);
        if (want_kind[k] == 2) {
            CHECK_STR_CONTAINS(name, "cond");
            CHECK_EQ_INT(rank, 2);
            CHECK_EQ_INT(shape[0], 7);
            CHECK_EQ_INT(shape[1], want_out[k / 3]);
        } else if (want_kind[k] == 1) {
            CHECK_STR_CONTAINS(name, "bias");
            CHECK_EQ_INT(rank, 1);
            CHECK_EQ_INT(shape[0], want_out[k / 3]);
        } else {
            CHECK_STR_CONTAINS(name, "kernel");
            CHECK(strstr(name, "cond") == NULL);
            CHECK_EQ_INT(rank, 2);
            CHECK_EQ_INT(shape[1], want_out[k / 3]);
        }
    }
    check_weight_total(m);
    made_model_free(m);

    /* first_layer: [W1, b1, V1, W2, b2, Wout, bout]. */
    cfg.conditional_layers = MADE_COND_FIRST_LAYER;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_weights(m), 7);
    CHECK_WEIGHT(m, 0, "layers.0.kernel", 2, 3, 4);
    CHECK_WEIGHT(m, 1, "layers.0.bias", 1, 4, 0);
    int rank, shape[2];
    CHECK_OK(made_model_weight_info(m, 2, &name, &rank, shape));
    CHECK(strncmp(name, "layers.0.", 9) == 0);
    CHECK_STR_CONTAINS(name, "cond");
    CHECK_EQ_INT(shape[0], 7);
    CHECK_EQ_INT(shape[1], 4);
    CHECK_WEIGHT(m, 3, "layers.1.kernel", 2, 4, 5);
    CHECK_WEIGHT(m, 4, "layers.1.bias", 1, 5, 0);
    CHECK_WEIGHT(m, 5, "layers.2.kernel", 2, 5, 6);
    CHECK_WEIGHT(m, 6, "layers.2.bias", 1, 6, 0);
    check_weight_total(m);
    made_model_free(m);

    /* first_layer with no hidden layer: V belongs to the output layer. */
    cfg.n_hidden = 0;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_EQ_INT(made_model_num_weights(m), 3);
    CHECK_WEIGHT(m, 0, "layers.0.kernel", 2, 3, 6);
    CHECK_WEIGHT(m, 1, "layers.0.bias", 1, 6, 0);
    CHECK_OK(made_model_weight_info(m, 2, &name, &rank, shape));
    CHECK(strncmp(name, "layers.0.", 9) == 0);
    CHECK_STR_CONTAINS(name, "cond");
    CHECK_EQ_INT(rank, 2);
    CHECK_EQ_INT(shape[0], 7);
    CHECK_EQ_INT(shape[1], 6);
    check_weight_total(m);
    made_model_free(m);
}

static void test_set_weight_masks(void)
{
    made_config cfg;
    cfg_net(&cfg, 4, 2, 2, (int[]){5, 3});
    cfg.input_order = MADE_ORDER_EXPLICIT;
    cfg.explicit_order = (const int[]){3, 1, 4, 2};
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_ZEROS);
    cfg.conditional_size = 2;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    for (int k = 0; k < made_model_num_weights(m); k++) {
        const char *name;
        int rank, shape[2];
        CHECK_OK(made_model_weight_info(m, k, &name, &rank, shape));
        size_t n = (size_t)shape[0] * (rank == 2 ? (size_t)shape[1] : 1);
        float *w = malloc(n * sizeof *w), *back = malloc(n * sizeof *back);
        if (!w || !back) abort();
        for (size_t i = 0; i < n; i++) w[i] = 1.0f;
        CHECK_OK(made_model_set_weight(m, k, w, n));
        CHECK_OK(made_model_get_weight(m, k, back, n));
        if (rank == 2 && !strstr(name, "cond")) {
            /* A masked kernel: get returns exactly the mask. */
            int layer = name[7] - '0';
            uint8_t *mask = malloc(n);
            if (!mask) abort();
            CHECK_OK(made_model_mask(m, layer, mask));
            size_t ones = 0, zeros = 0;
            for (size_t i = 0; i < n; i++) {
                if (back[i] != (float)mask[i]) {
                    HARNESS_FAIL_("%s entry %zu: %g, mask %d", name, i, (double)back[i], mask[i]);
                    break;
                }
                ones += mask[i];
                zeros += !mask[i];
            }
            CHECK(ones > 0 && zeros > 0);
            free(mask);
        } else {
            /* Biases and conditional kernels are not masked. */
            for (size_t i = 0; i < n; i++) CHECK_NEAR(back[i], 1.0, 0);
        }
        /* Distinct values round-trip in TFP layout (unmasked entries only). */
        for (size_t i = 0; i < n; i++) w[i] = (float)i + 0.5f;
        CHECK_OK(made_model_set_weight(m, k, w, n));
        CHECK_OK(made_model_get_weight(m, k, back, n));
        for (size_t i = 0; i < n; i++)
            if (back[i] != 0.0f && back[i] != w[i]) {
                HARNESS_FAIL_("%s entry %zu: got %g, set %g", name, i, (double)back[i], (double)w[i]);
                break;
            }
        free(w);
        free(back);
    }
    /* Whole-vector set/get: masked entries zero, count = free params non-zero. */
    size_t np = made_model_num_params(m);
    float *all = malloc(np * sizeof *all), *back = malloc(np * sizeof *back);
    if (!all || !back) abort();
    for (size_t i = 0; i < np; i++) all[i] = 2.0f;
    CHECK_OK(made_model_set_weights(m, all, np));
    CHECK_OK(made_model_get_weights(m, back, np));
    size_t nz = 0;
    for (size_t i = 0; i < np; i++) nz += back[i] != 0.0f;
    CHECK_EQ_INT(nz, made_model_num_free_params(m));
    CHECK_STATUS(made_model_set_weights(m, all, np - 1), MADE_E_SHAPE);
    CHECK_STATUS(made_model_get_weights(m, back, np + 1), MADE_E_SHAPE);
    all[np / 2] = INFINITY;
    CHECK_STATUS(made_model_set_weights(m, all, np), MADE_E_NONFINITE);
    free(all);
    free(back);
    made_model_free(m);
}

static void test_weight_errors(void)
{
    made_config cfg;
    cfg_net(&cfg, 3, 2, 1, (int[]){4});
    made_model *m = CREATE(&cfg);
    if (!m) return;
    float w[12], before[12], after[12];
    for (int i = 0; i < 12; i++) w[i] = 3.0f;
    CHECK_OK(made_model_get_weight(m, 0, before, 12));
    CHECK_STATUS(made_model_set_weight(m, 0, w, 11), MADE_E_SHAPE);
    CHECK_STR_CONTAINS(made_last_error(), "layers.0.kernel");
    CHECK_STATUS(made_model_set_weight(m, 0, w, 13), MADE_E_SHAPE);
    CHECK_STATUS(made_model_get_weight(m, 0, after, 4), MADE_E_SHAPE);
    CHECK_STATUS(made_model_set_weight(m, 1, w, 12), MADE_E_SHAPE); /* bias has 4 */
    w[5] = NAN;
    CHECK_STATUS(made_model_set_weight(m, 0, w, 12), MADE_E_NONFINITE);
    CHECK_STR_CONTAINS(made_last_error(), "layers.0.kernel");
    w[5] = -INFINITY;
    CHECK_STATUS(made_model_set_weight(m, 0, w, 12), MADE_E_NONFINITE);
    /* A rejected set changes nothing. */
    CHECK_OK(made_model_get_weight(m, 0, after, 12));
    CHECK(memcmp(before, after, sizeof before) == 0);
    CHECK_STATUS(made_model_set_weight(m, 4, w, 12), MADE_E_INVAL);
    CHECK_STATUS(made_model_set_weight(m, 0, NULL, 12), MADE_E_INVAL);
    made_model_free(m);
}

static void test_forward_errors(void)
{
    made_config cfg;
    cfg_net(&cfg, 3, 2, 1, (int[]){4});
    cfg.validate_args = 1;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    float x[6] = {1, 2, 3, 4, 5, 6}, y[12];
    CHECK_OK(made_model_forward(m, y, x, NULL, 2));
    x[4] = NAN;
    CHECK_STATUS(made_model_forward(m, y, x, NULL, 2), MADE_E_NONFINITE);
    CHECK_STR_CONTAINS(made_last_error(), "row");
    x[4] = INFINITY;
    CHECK_STATUS(made_model_forward(m, y, x, NULL, 2), MADE_E_NONFINITE);
    /* Passing c to an unconditional model. */
    x[4] = 5;
    const float c[2] = {1, 1};
    CHECK_STATUS(made_model_forward(m, y, x, c, 2), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "conditional");
    made_model_free(m);

    cfg.validate_args = 0;
    cfg.conditional_size = 1;
    m = CREATE(&cfg);
    if (!m) return;
    CHECK_STATUS(made_model_forward(m, y, x, NULL, 2), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "conditional");
    CHECK_OK(made_model_forward(m, y, x, c, 2));
    made_model_free(m);
}

/* ---- configuration errors ---------------------------------------------- */

/* made_model_create must fail with status want, leave *out NULL and name arg. */
static void check_create_fails_(const made_config *cfg, int want, const char *arg, int line)
{
    made_model *m = (made_model *)&m; /* must be overwritten with NULL */
    int rc = made_model_create(&m, cfg);
    if (rc != want)
        HARNESS_FAIL_("line %d: create -> %d, want %d (%s)", line, rc, want, made_last_error());
    if (m != NULL) {
        HARNESS_FAIL_("line %d: *out not NULL after a failed create", line);
        if (rc == MADE_OK) made_model_free(m);
    }
    if (!strstr(made_last_error(), arg))
        HARNESS_FAIL_("line %d: message \"%s\" does not name %s", line, made_last_error(), arg);
    rc = made_config_validate(cfg);
    if (rc != want)
        HARNESS_FAIL_("line %d: validate -> %d, want %d (%s)", line, rc, want, made_last_error());
    if (!strstr(made_last_error(), arg))
        HARNESS_FAIL_("line %d: validate message \"%s\" does not name %s", line,
                      made_last_error(), arg);
}
#define CHECK_CREATE_FAILS(cfg, want, arg) check_create_fails_((cfg), (want), (arg), __LINE__)

static void test_config_errors(void)
{
    made_config cfg;
    made_config_default(&cfg);
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "event_size"); /* default E = 0 must be set */
    cfg_net(&cfg, 0, 1, 0, NULL);
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "event_size");
    cfg_net(&cfg, -3, 1, 0, NULL);
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "event_size");
    cfg_net(&cfg, 3, 0, 0, NULL);
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "params");
    cfg_net(&cfg, 3, 1, 0, NULL);
    cfg.n_hidden = 33;
    for (int l = 0; l < MADE_MAX_HIDDEN; l++) cfg.hidden_units[l] = 4;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "hidden_units");
    cfg.n_hidden = -1;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "hidden_units");
    cfg_net(&cfg, 3, 1, 2, (int[]){4, 0});
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "hidden_units");
    cfg_net(&cfg, 3, 1, 1, (int[]){-2});
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "hidden_units");

    cfg_net(&cfg, 3, 1, 1, (int[]){4});
    cfg.input_order = MADE_ORDER_EXPLICIT;
    cfg.explicit_order = (const int[]){0, 1, 2};
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "input_order");
    cfg.explicit_order = (const int[]){1, 1, 3};
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "input_order");
    cfg.explicit_order = (const int[]){1, 2, 4};
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "input_order");
    cfg.explicit_order = NULL;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "input_order");
    cfg.explicit_order = (const int[]){3, 1, 2};
    made_model *m = CREATE(&cfg);
    made_model_free(m);
    /* E = 1 with the explicit order [1] is valid (TFP accepts [1]). */
    cfg_net(&cfg, 1, 2, 1, (int[]){3});
    cfg.input_order = MADE_ORDER_EXPLICIT;
    cfg.explicit_order = (const int[]){1};
    m = CREATE(&cfg);
    made_model_free(m);
    cfg.explicit_order = (const int[]){0};
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "input_order");

    /* Enum values out of range. */
    cfg_net(&cfg, 3, 1, 1, (int[]){4});
    cfg.activation = MADE_ACT_COUNT;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "activation");
    cfg_net(&cfg, 3, 1, 1, (int[]){4});
    cfg.kernel_initializer.kind = MADE_INIT_COUNT;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "kernel_initializer");
    cfg_net(&cfg, 3, 1, 1, (int[]){4});
    cfg.bias_initializer = made_initializer_default(MADE_INIT_RANDOM_UNIFORM);
    cfg.bias_initializer.minval = 1;
    cfg.bias_initializer.maxval = -1;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "bias_initializer");
    cfg_net(&cfg, 3, 1, 1, (int[]){4});
    cfg.conditional_size = -1;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "conditional_size");

    /* Distribution / params mismatch. */
    cfg_net(&cfg, 3, 1, 1, (int[]){4});
    cfg.dist.kind = MADE_DIST_GAUSSIAN;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "params");
    cfg.params = 2;
    m = CREATE(&cfg);
    made_model_free(m);
    cfg.dist.kind = MADE_DIST_MOG;
    cfg.dist.k = 2;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "params"); /* needs 6 */
    cfg.params = 6;
    m = CREATE(&cfg);
    made_model_free(m);

    /* num_masks > 1 with a deterministic order and degrees: all identical. */
    cfg_net(&cfg, 3, 1, 1, (int[]){4});
    cfg.num_masks = 2;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "num_masks");
    cfg.input_order = MADE_ORDER_RIGHT_TO_LEFT;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "num_masks");
    cfg.num_masks = 0;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "num_masks");
    cfg.num_masks = 2;
    cfg.input_order = MADE_ORDER_RANDOM;
    m = CREATE(&cfg);
    made_model_free(m);
    /* 'random' degrees without hidden layers cannot vary either. */
    cfg_net(&cfg, 3, 1, 0, NULL);
    cfg.num_masks = 2;
    cfg.hidden_degrees = MADE_DEGREES_RANDOM;
    CHECK_CREATE_FAILS(&cfg, MADE_E_INVAL, "num_masks");

    CHECK_STATUS(made_model_create(NULL, &cfg), MADE_E_INVAL);
    CHECK_STATUS(made_config_validate(NULL), MADE_E_INVAL);
    made_model_free(NULL);
}

static void test_parse_names(void)
{
    made_activation a = MADE_ACT_COUNT;
    CHECK_OK(made_activation_parse("relu", &a));
    CHECK_EQ_INT(a, MADE_ACT_RELU);
    CHECK_OK(made_activation_parse("none", &a));
    CHECK_EQ_INT(a, MADE_ACT_LINEAR);
    CHECK_OK(made_activation_parse("silu", &a));
    CHECK_EQ_INT(a, MADE_ACT_SWISH);
    for (int k = 0; k < MADE_ACT_COUNT; k++) {
        made_activation b = MADE_ACT_COUNT;
        CHECK_OK(made_activation_parse(made_activation_name((made_activation)k), &b));
        CHECK_EQ_INT(b, k);
    }
    a = MADE_ACT_TANH;
    CHECK_STATUS(made_activation_parse("rectifier", &a), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "activation");
    CHECK_STR_CONTAINS(made_last_error(), "rectifier");
    CHECK_STR_CONTAINS(made_last_error(), "relu");
    CHECK_EQ_INT(a, MADE_ACT_TANH); /* untouched on failure */
    CHECK_STATUS(made_activation_parse("", &a), MADE_E_INVAL);

    made_cond_layers cl = MADE_COND_ALL_LAYERS;
    CHECK_OK(made_cond_layers_parse("first_layer", &cl));
    CHECK_EQ_INT(cl, MADE_COND_FIRST_LAYER);
    CHECK_OK(made_cond_layers_parse("all_layers", &cl));
    CHECK_EQ_INT(cl, MADE_COND_ALL_LAYERS);
    /* TFP's error message says "first_layers", but that value is rejected. */
    CHECK_STATUS(made_cond_layers_parse("first_layers", &cl), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "conditional_input_layers");

    made_dist d = {MADE_DIST_NONE, 0};
    CHECK_OK(made_dist_parse("gaussian", &d));
    CHECK_EQ_INT(d.kind, MADE_DIST_GAUSSIAN);
    CHECK_EQ_INT(made_dist_params(d), 2);
    CHECK_OK(made_dist_parse("mog:3", &d));
    CHECK_EQ_INT(d.kind, MADE_DIST_MOG);
    CHECK_EQ_INT(d.k, 3);
    CHECK_EQ_INT(made_dist_params(d), 9);
    CHECK_OK(made_dist_parse("categorical:256", &d));
    CHECK_EQ_INT(d.kind, MADE_DIST_CATEGORICAL);
    CHECK_EQ_INT(d.k, 256);
    CHECK_OK(made_dist_parse("bernoulli", &d));
    CHECK_EQ_INT(made_dist_params(d), 1);
    static const char *const bad_dist[] = {"poisson", "categorical", "categorical:1",
                                           "mog:0", "mog:x", "gaussian:2", ""};
    for (size_t i = 0; i < sizeof bad_dist / sizeof *bad_dist; i++) {
        CHECK_STATUS(made_dist_parse(bad_dist[i], &d), MADE_E_INVAL);
        CHECK_STR_CONTAINS(made_last_error(), "distribution");
    }
}

static void test_initializer_parse(void)
{
    made_initializer in;
    CHECK_OK(made_initializer_parse("constant:0.5", &in));
    CHECK_EQ_INT(in.kind, MADE_INIT_CONSTANT);
    CHECK_NEAR(in.value, 0.5, 0);
    CHECK_OK(made_initializer_parse("random_uniform:-0.1,0.1", &in));
    CHECK_EQ_INT(in.kind, MADE_INIT_RANDOM_UNIFORM);
    CHECK_NEAR(in.minval, -0.1, 0);
    CHECK_NEAR(in.maxval, 0.1, 0);
    CHECK_OK(made_initializer_parse("variance_scaling:scale=2,mode=fan_in,distribution=uniform", &in));
    CHECK_EQ_INT(in.kind, MADE_INIT_VARIANCE_SCALING);
    CHECK_NEAR(in.scale, 2, 0);
    CHECK_EQ_INT(in.mode, MADE_FAN_IN);
    CHECK_EQ_INT(in.distribution, MADE_VS_UNIFORM);
    CHECK_OK(made_initializer_parse("variance_scaling:mode=fan_avg", &in));
    CHECK_NEAR(in.scale, 1, 0); /* Keras' defaults for what is not given */
    CHECK_EQ_INT(in.mode, MADE_FAN_AVG);
    CHECK_EQ_INT(in.distribution, MADE_VS_TRUNCATED_NORMAL);
    CHECK_OK(made_initializer_parse("random_normal:1,0.5", &in));
    CHECK_EQ_INT(in.kind, MADE_INIT_RANDOM_NORMAL);
    CHECK_NEAR(in.mean, 1, 0);
    CHECK_NEAR(in.stddev, 0.5, 0);
    CHECK_OK(made_initializer_parse("random_normal", &in));
    CHECK_NEAR(in.stddev, 0.05, 0); /* Keras default */
    CHECK_OK(made_initializer_parse("glorot_uniform", &in));
    CHECK_EQ_INT(in.kind, MADE_INIT_GLOROT_UNIFORM);
    CHECK_OK(made_initializer_parse("he_normal", &in));
    CHECK_EQ_INT(in.kind, MADE_INIT_HE_NORMAL);
    CHECK_OK(made_initializer_parse("zeros", &in));
    CHECK_EQ_INT(in.kind, MADE_INIT_ZEROS);

    static const char *const bad[] = {
        "glorot", "constant:abc", "constant:", "random_uniform:0.1", "random_uniform:0.1,-0.1",
        "random_uniform:a,b", "random_normal:0,-1", "truncated_normal:0",
        "variance_scaling:scale=0", "variance_scaling:scale=-1", "variance_scaling:mode=fan_x",
        "variance_scaling:distribution=cauchy", "variance_scaling:bogus=1", "glorot_uniform:1",
        "ones:2", "", "constant:nan", "constant:inf",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        in = made_initializer_default(MADE_INIT_ONES);
        int rc = made_initializer_parse(bad[i], &in);
        if (rc != MADE_E_INVAL) HARNESS_FAIL_("parse(\"%s\") -> %d, want MADE_E_INVAL", bad[i], rc);
        CHECK_STR_CONTAINS(made_last_error(), "initializer");
        CHECK_EQ_INT(in.kind, MADE_INIT_ONES); /* untouched */
    }

    /* format -> parse round trip. */
    static const char *const forms[] = {
        "constant:0.25", "random_uniform:-0.1,0.3", "truncated_normal:0.5,2",
        "variance_scaling:scale=3,mode=fan_out,distribution=untruncated_normal", "lecun_normal",
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        made_initializer a, b;
        char buf[256];
        CHECK_OK(made_initializer_parse(forms[i], &a));
        int len = made_initializer_format(buf, sizeof buf, &a);
        CHECK(len > 0 && (size_t)len < sizeof buf);
        CHECK_OK(made_initializer_parse(buf, &b));
        CHECK_EQ_INT(a.kind, b.kind);
        CHECK_NEAR(a.value, b.value, 0);
        CHECK_NEAR(a.minval, b.minval, 0);
        CHECK_NEAR(a.maxval, b.maxval, 0);
        CHECK_NEAR(a.mean, b.mean, 0);
        CHECK_NEAR(a.stddev, b.stddev, 0);
        CHECK_NEAR(a.scale, b.scale, 0);
        CHECK_EQ_INT(a.mode, b.mode);
        CHECK_EQ_INT(a.distribution, b.distribution);
    }
}

/* ---- seeds and initializers ------------------------------------------------ */

static float *all_weights(const made_model *m)
{
    size_t n = made_model_num_params(m);
    float *w = malloc(n * sizeof *w);
    if (!w) abort();
    CHECK_OK(made_model_get_weights(m, w, n));
    return w;
}

static void test_seeds(void)
{
    made_config cfg;
    cfg_net(&cfg, 6, 2, 2, (int[]){8, 7});
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_GLOROT_UNIFORM);
    cfg.bias_initializer = made_initializer_default(MADE_INIT_RANDOM_NORMAL);
    cfg.conditional_size = 3;
    cfg.seed = 77;
    made_model *a = CREATE(&cfg), *b = CREATE(&cfg);
    cfg.seed = 78;
    made_model *c = CREATE(&cfg);
    if (a && b && c) {
        size_t n = made_model_num_params(a);
        float *wa = all_weights(a), *wb = all_weights(b), *wc = all_weights(c);
        CHECK(memcmp(wa, wb, n * sizeof *wa) == 0);
        size_t differ = 0, nonzero = 0;
        for (size_t i = 0; i < n; i++) {
            nonzero += wa[i] != 0.0f;
            differ += wa[i] != wc[i];
        }
        CHECK_EQ_INT(nonzero, made_model_num_free_params(a));
        /* Every drawn value differs under another seed. */
        CHECK_EQ_INT(differ, nonzero);
        /* Same forward outputs for the same seed. */
        float x[12], c3[6], ya[24], yb[24];
        for (int i = 0; i < 12; i++) x[i] = (float)i * 0.3f - 1.0f;
        for (int i = 0; i < 6; i++) c3[i] = (float)i - 2.5f;
        CHECK_OK(made_model_forward(a, ya, x, c3, 2));
        CHECK_OK(made_model_forward(b, yb, x, c3, 2));
        CHECK(memcmp(ya, yb, sizeof ya) == 0);
        free(wa);
        free(wb);
        free(wc);
    }
    made_model_free(a);
    made_model_free(b);
    made_model_free(c);
}

/* Unmasked entries of kernel k (layer l) of m, and the number of masked
 * entries that are not exactly zero. */
static double *unmasked_values(const made_model *m, int k, int l, size_t *count, size_t *bad_masked)
{
    int rank, shape[2];
    CHECK_OK(made_model_weight_info(m, k, NULL, &rank, shape));
    size_t n = (size_t)shape[0] * shape[1];
    float *w = malloc(n * sizeof *w);
    uint8_t *mask = malloc(n);
    double *v = malloc(n * sizeof *v);
    if (!w || !mask || !v) abort();
    CHECK_OK(made_model_get_weight(m, k, w, n));
    CHECK_OK(made_model_mask(m, l, mask));
    *count = 0;
    *bad_masked = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask[i]) v[(*count)++] = w[i];
        else *bad_masked += w[i] != 0.0f;
    }
    free(w);
    free(mask);
    return v;
}

static void moments(const double *v, size_t n, double *mean, double *var, double *maxabs)
{
    double s = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        s += v[i];
        if (fabs(v[i]) > mx) mx = fabs(v[i]);
    }
    *mean = s / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (v[i] - *mean) * (v[i] - *mean);
    *var = ss / (double)(n - 1);
    *maxabs = mx;
}

static void test_init_glorot_uniform(void)
{
    made_config cfg;
    cfg_net(&cfg, 200, 1, 1, (int[]){300});
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_GLOROT_UNIFORM);
    cfg.seed = 3;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    /* Keras uses the full shape: limit = sqrt(6 / (fan_in + fan_out)). */
    for (int l = 0; l < 2; l++) {
        size_t n, bad;
        double *v = unmasked_values(m, 2 * l, l, &n, &bad);
        double limit = sqrt(6.0 / (200 + 300)), mean, var, mx;
        moments(v, n, &mean, &var, &mx);
        CHECK_EQ_INT(bad, 0);
        CHECK(n > 20000);
        CHECK(mx <= limit);
        CHECK(mx > 0.99 * limit);
        CHECK_NEAR(var, limit * limit / 3.0, 0.05 * limit * limit / 3.0);
        CHECK_NEAR(mean, 0, 0.02 * limit);
        free(v);
    }
    /* Biases are zeros by default. */
    float b[300];
    CHECK_OK(made_model_get_weight(m, 1, b, 300));
    for (int i = 0; i < 300; i++) CHECK_NEAR(b[i], 0, 0);
    made_model_free(m);

    /* Conditional kernels use the same initializer on their own [C, out] shape,
     * unmasked. */
    cfg_net(&cfg, 20, 1, 1, (int[]){300});
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_GLOROT_UNIFORM);
    cfg.conditional_size = 100;
    cfg.conditional_layers = MADE_COND_FIRST_LAYER;
    m = CREATE(&cfg);
    if (!m) return;
    size_t n = 100 * 300;
    float *w = malloc(n * sizeof *w);
    double *v = malloc(n * sizeof *v);
    if (!w || !v) abort();
    CHECK_OK(made_model_get_weight(m, 2, w, n));
    for (size_t i = 0; i < n; i++) v[i] = w[i];
    double limit = sqrt(6.0 / (100 + 300)), mean, var, mx;
    moments(v, n, &mean, &var, &mx);
    CHECK(mx <= limit && mx > 0.99 * limit);
    CHECK_NEAR(var, limit * limit / 3.0, 0.05 * limit * limit / 3.0);
    free(w);
    free(v);
    made_model_free(m);
}

static void test_init_he_normal(void)
{
    made_config cfg;
    cfg_net(&cfg, 200, 1, 1, (int[]){300});
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_HE_NORMAL);
    cfg.seed = 11;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    const int fan_in[2] = {200, 300};
    for (int l = 0; l < 2; l++) {
        size_t n, bad;
        double *v = unmasked_values(m, 2 * l, l, &n, &bad);
        double want = 2.0 / fan_in[l], mean, var, mx;
        moments(v, n, &mean, &var, &mx);
        CHECK_EQ_INT(bad, 0);
        CHECK_NEAR(var, want, 0.10 * want);
        /* Truncated at two (corrected) standard deviations. */
        double cut = 2.0 * sqrt(want) / 0.87962566103423978;
        CHECK(mx <= cut * (1 + 1e-6));
        CHECK(mx > 0.9 * cut);
        CHECK_NEAR(mean, 0, 0.03 * sqrt(want));
        free(v);
    }
    made_model_free(m);

    /* variance_scaling uniform fan_out: var = scale / fan_out. */
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_VARIANCE_SCALING);
    cfg.kernel_initializer.scale = 3;
    cfg.kernel_initializer.mode = MADE_FAN_OUT;
    cfg.kernel_initializer.distribution = MADE_VS_UNIFORM;
    m = CREATE(&cfg);
    if (!m) return;
    size_t n, bad;
    double *v = unmasked_values(m, 0, 0, &n, &bad);
    double want = 3.0 / 300, mean, var, mx;
    moments(v, n, &mean, &var, &mx);
    CHECK_EQ_INT(bad, 0);
    CHECK_NEAR(var, want, 0.05 * want);
    CHECK(mx <= sqrt(3 * want));
    free(v);
    made_model_free(m);
}

static void test_init_deterministic(void)
{
    made_config cfg;
    cfg_net(&cfg, 5, 2, 2, (int[]){6, 4});
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_ZEROS);
    cfg.bias_initializer = constant(0.25);
    cfg.conditional_size = 2;
    made_model *m = CREATE(&cfg);
    if (!m) return;
    for (int k = 0; k < made_model_num_weights(m); k++) {
        const char *name;
        int rank, shape[2];
        CHECK_OK(made_model_weight_info(m, k, &name, &rank, shape));
        size_t n = (size_t)shape[0] * (rank == 2 ? (size_t)shape[1] : 1);
        float *w = malloc(n * sizeof *w);
        if (!w) abort();
        CHECK_OK(made_model_get_weight(m, k, w, n));
        float want = rank == 1 ? 0.25f : 0.0f;
        for (size_t i = 0; i < n; i++)
            if (w[i] != want) {
                HARNESS_FAIL_("%s[%zu] = %g, want %g", name, i, (double)w[i], (double)want);
                break;
            }
        free(w);
    }
    made_model_free(m);

    /* ones kernel: unmasked entries exactly 1, conditional kernels all 1;
     * constant kernel: exactly the constant. */
    cfg.kernel_initializer = constant(-1.5);
    cfg.bias_initializer = made_initializer_default(MADE_INIT_ONES);
    m = CREATE(&cfg);
    if (!m) return;
    size_t np = made_model_num_params(m);
    float *w = all_weights(m);
    size_t n_const = 0, n_one = 0, n_zero = 0;
    for (size_t i = 0; i < np; i++) {
        n_const += w[i] == -1.5f;
        n_one += w[i] == 1.0f;
        n_zero += w[i] == 0.0f;
    }
    CHECK_EQ_INT(n_one, 6 + 4 + 10);                 /* biases */
    CHECK_EQ_INT(n_const + n_one, made_model_num_free_params(m));
    CHECK_EQ_INT(n_const + n_one + n_zero, np);
    free(w);
    made_model_free(m);
}

int main(void)
{
    RUN(test_example_a);
    RUN(test_example_b);
    RUN(test_example_c);
    RUN(test_example_d);
    RUN(test_example_e);
    RUN(test_example_f);
    RUN(test_example_g);
    RUN(test_example_h);
    RUN(test_example_i);
    RUN(test_random_order_public);
    RUN(test_param_counts);
    RUN(test_weight_order);
    RUN(test_set_weight_masks);
    RUN(test_weight_errors);
    RUN(test_forward_errors);
    RUN(test_config_errors);
    RUN(test_parse_names);
    RUN(test_initializer_parse);
    RUN(test_seeds);
    RUN(test_init_glorot_uniform);
    RUN(test_init_he_normal);
    RUN(test_init_deterministic);
    return harness_summary("test_spec");
}
