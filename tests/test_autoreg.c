/* test_autoreg.c - the exact autoregressive property on hundreds of random
 * networks: output i changes when input j is perturbed only if
 * order[j] < order[i], and (with 'equal' degrees, tanh and every hidden layer of
 * at least E-1 units) every allowed dependency is realised. Also for each mask
 * set of an order-agnostic model (num_masks > 1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "harness.h"
#define UTIL_GEN_SEED 0x5eed2024u
#include "made.h"
#include "util.h"

/* ---- the test's own generator (splitmix64) --------------------------------- */

/* ---- one configuration ----------------------------------------------------- */

static void describe(char *buf, size_t size, const made_config *cfg)
{
    size_t n = (size_t)snprintf(buf, size, "E=%d P=%d hidden=[", cfg->event_size, cfg->params);
    for (int l = 0; l < cfg->n_hidden && n < size; l++)
        n += (size_t)snprintf(buf + n, size - n, "%s%d", l ? "," : "", cfg->hidden_units[l]);
    if (n < size)
        snprintf(buf + n, size - n, "] order=%s degrees=%s act=%s C=%d %s seed=%u masks=%d",
                 made_order_name(cfg->input_order), made_degrees_name(cfg->hidden_degrees),
                 made_activation_name(cfg->activation), cfg->conditional_size,
                 made_cond_layers_name(cfg->conditional_layers), (unsigned)cfg->seed,
                 cfg->num_masks);
}

/* Checks made_model_mask of every layer against made_model_degrees (current
 * mask set): <= into hidden layers, < into the output (interleaved i*P + p). */
static int check_masks_match_degrees(const made_model *m, const char *what)
{
    const made_config *cfg = made_model_config(m);
    int e = cfg->event_size, p = cfg->params, nh = cfg->n_hidden;
    int *deg[MADE_MAX_HIDDEN + 1];
    int ok = 1;
    for (int l = 0; l <= nh; l++) {
        int n = l == 0 ? e : cfg->hidden_units[l - 1];
        deg[l] = malloc((size_t)n * sizeof(int));
        if (!deg[l]) abort();
        if (made_model_degrees(m, l, deg[l]) != MADE_OK) ok = 0;
    }
    for (int l = 0; ok && l <= nh; l++) {
        int in, out;
        if (made_model_layer_shape(m, l, &in, &out) != MADE_OK) {
            ok = 0;
            break;
        }
        uint8_t *mask = malloc((size_t)in * out + 1);
        if (!mask) abort();
        if (made_model_mask(m, l, mask) != MADE_OK) ok = 0;
        for (int a = 0; ok && a < in; a++)
            for (int b = 0; ok && b < out; b++) {
                int want = l < nh ? deg[l][a] <= deg[l + 1][b] : deg[l][a] < deg[0][b / p];
                if (mask[(size_t)a * out + b] != want) {
                    HARNESS_FAIL_("%s: mask %d [%d, %d] is %d, degrees say %d", what, l, a, b,
                                  mask[(size_t)a * out + b], want);
                    ok = 0;
                }
            }
        free(mask);
    }
    for (int l = 0; l <= nh; l++) free(deg[l]);
    return ok;
}

/* Perturbs each input of a random row twice and compares every output unit.
 * Returns 0 on success (after reporting any failure). realise: also require
 * that every allowed dependency changes the output. */
static int check_property(made_model *m, int realise, const char *what, long *n_checked,
                          long *n_realised)
{
    const made_config *cfg = made_model_config(m);
    const int e = cfg->event_size, p = cfg->params, C = cfg->conditional_size;
    const int rows = 1 + 2 * e, w = e * p;
    int *order = malloc((size_t)e * sizeof *order);
    float *x = malloc((size_t)rows * e * sizeof *x);
    float *c = C ? malloc((size_t)rows * C * sizeof *c) : NULL;
    float *y = malloc((size_t)rows * w * sizeof *y);
    float *yb = malloc((size_t)rows * w * sizeof *yb);
    if (!order || !x || (C && !c) || !y || !yb) abort();
    int fails = 0;
    int rc = made_model_degrees(m, 0, order);
    if (rc) {
        HARNESS_FAIL_("%s: degrees -> %d", what, rc);
        fails = 1;
        goto done;
    }
    for (int j = 0; j < e; j++) x[j] = gen_float();
    for (int k = 0; k < C; k++) c[k] = gen_float();
    for (int r = 1; r < rows; r++) {
        memcpy(x + (size_t)r * e, x, (size_t)e * sizeof *x);
        if (C) memcpy(c + (size_t)r * C, c, (size_t)C * sizeof *c);
    }
    for (int j = 0; j < e; j++) {
        x[(size_t)(1 + 2 * j) * e + j] += 1.25f;
        x[(size_t)(2 + 2 * j) * e + j] -= 2.0f;
    }
    /* One row per call: BLAS kernels may round a row differently depending on
     * its position in a batch (tail blocks), so exact comparisons are made
     * between calls of identical shape. */
    for (size_t i = 0; i < (size_t)rows * w; i++) y[i] = NAN;
    for (int r = 0; r < rows; r++) {
        rc = made_model_forward(m, y + (size_t)r * w, x + (size_t)r * e, C ? c + (size_t)r * C : NULL, 1);
        if (rc) {
            HARNESS_FAIL_("%s: forward -> %d (%s)", what, rc, made_last_error());
            fails = 1;
            goto done;
        }
    }
    /* The batched call computes the same function (up to rounding). */
    rc = made_model_forward(m, yb, x, c, (size_t)rows);
    if (rc) {
        HARNESS_FAIL_("%s: batched forward -> %d (%s)", what, rc, made_last_error());
        fails = 1;
        goto done;
    }
    for (size_t i = 0; i < (size_t)rows * w; i++)
        if (!(fabs((double)yb[i] - (double)y[i]) <= 1e-5 * (1.0 + fabs((double)y[i])))) {
            HARNESS_FAIL_("%s: batched output %zu = %.9g, row by row %.9g", what, i,
                          (double)yb[i], (double)y[i]);
            fails = 1;
            goto done;
        }
    for (size_t i = 0; i < (size_t)rows * w; i++)
        if (!isfinite(y[i])) {
            HARNESS_FAIL_("%s: output %zu is not finite", what, i);
            fails = 1;
            goto done;
        }
    for (int j = 0; j < e && fails < 3; j++)
        for (int i = 0; i < e && fails < 3; i++) {
            int allowed = order[j] < order[i];
            int changed = 0;
            for (int r = 1 + 2 * j; r <= 2 + 2 * j; r++)
                for (int q = 0; q < p; q++)
                    changed |= memcmp(&y[(size_t)r * w + i * p + q], &y[i * p + q], sizeof(float)) != 0;
            (*n_checked)++;
            if (changed && !allowed) {
                HARNESS_FAIL_("%s: output %d (order %d) depends on input %d (order %d)", what, i,
                              order[i], j, order[j]);
                fails++;
            }
            if (realise && allowed) {
                (*n_realised)++;
                if (!changed) {
                    HARNESS_FAIL_("%s: allowed dependency of output %d (order %d) on input %d "
                                  "(order %d) is not realised", what, i, order[i], j, order[j]);
                    fails++;
                }
            }
        }
done:
    free(order);
    free(x);
    free(c);
    free(y);
    free(yb);
    return fails;
}

/* Multiplies every weight by s. The realisation checks run on scaled-down
 * weights: with N(0, 1) weights a tanh unit's pre-activation can reach 8 or
 * more, where tanhf changes by less than an ulp of the output, so a real
 * dependency becomes numerically invisible. */
static void scale_weights(made_model *m, float s)
{
    size_t n = made_model_num_params(m);
    float *w = malloc(n * sizeof *w);
    if (!w) abort();
    CHECK_OK(made_model_get_weights(m, w, n));
    for (size_t i = 0; i < n; i++) w[i] *= s;
    CHECK_OK(made_model_set_weights(m, w, n));
    free(w);
}

static const made_activation activations[] = {
    MADE_ACT_LINEAR, MADE_ACT_RELU,  MADE_ACT_TANH,         MADE_ACT_SIGMOID,
    MADE_ACT_ELU,    MADE_ACT_SELU,  MADE_ACT_SOFTPLUS,     MADE_ACT_SOFTSIGN,
    MADE_ACT_SWISH,  MADE_ACT_GELU,  MADE_ACT_HARD_SIGMOID,
};

/* A random configuration. full: 'equal' degrees, tanh and every hidden layer
 * with at least E-1 units, so every allowed dependency must be realised. */
static void random_config(made_config *cfg, int *explicit_order, int full)
{
    made_config_default(cfg);
    cfg->event_size = gen_int(1, 12);
    cfg->params = gen_int(1, 3);
    cfg->n_hidden = gen_int(0, 3);
    int e = cfg->event_size;
    for (int l = 0; l < cfg->n_hidden; l++)
        cfg->hidden_units[l] = full ? gen_int(e > 1 ? e - 1 : 1, 14) : gen_int(1, 14);
    cfg->input_order = (made_order)gen_int(0, 3);
    if (cfg->input_order == MADE_ORDER_EXPLICIT) {
        for (int j = 0; j < e; j++) explicit_order[j] = j + 1;
        for (int j = e - 1; j > 0; j--) {
            int k = gen_int(0, j), t = explicit_order[j];
            explicit_order[j] = explicit_order[k];
            explicit_order[k] = t;
        }
        cfg->explicit_order = explicit_order;
    }
    cfg->hidden_degrees = full ? MADE_DEGREES_EQUAL : (made_degrees)gen_int(0, 1);
    cfg->activation = full ? MADE_ACT_TANH
                           : activations[gen_int(0, (int)(sizeof activations / sizeof *activations) - 1)];
    cfg->use_bias = gen_int(0, 4) != 0;
    if (made_initializer_parse("random_normal:0,1", &cfg->kernel_initializer) ||
        made_initializer_parse("random_normal:0,1", &cfg->bias_initializer))
        abort();
    if (gen_int(0, 2) == 0) {
        cfg->conditional_size = gen_int(1, 3);
        cfg->conditional_layers = (made_cond_layers)gen_int(0, 1);
    }
    cfg->seed = (uint32_t)gen_next();
}

static void run_configs(int count, int full_every, long *n_full_cfg)
{
    long checked = 0, realised = 0, violations = 0;
    int orders_seen[4] = {0}, acts_seen[MADE_ACT_COUNT] = {0}, cond_seen = 0, deep = 0;
    for (int t = 0; t < count && violations < 5; t++) {
        int full = full_every && t % full_every == 0;
        made_config cfg;
        int explicit_order[12];
        random_config(&cfg, explicit_order, full);
        char what[256];
        describe(what, sizeof what, &cfg);
        made_model *m = NULL;
        int rc = made_model_create(&m, &cfg);
        if (rc) {
            HARNESS_FAIL_("%s: create -> %d (%s)", what, rc, made_last_error());
            violations++;
            continue;
        }
        /* The order used: what made_model_degrees reports; for deterministic
         * kinds it must be the documented one. */
        int order[12];
        CHECK_OK(made_model_degrees(m, 0, order));
        for (int j = 0; j < cfg.event_size; j++) {
            int want = cfg.input_order == MADE_ORDER_LEFT_TO_RIGHT ? j + 1
                     : cfg.input_order == MADE_ORDER_RIGHT_TO_LEFT ? cfg.event_size - j
                     : cfg.input_order == MADE_ORDER_EXPLICIT ? explicit_order[j]
                                                              : order[j];
            if (order[j] != want) {
                HARNESS_FAIL_("%s: order[%d] = %d, want %d", what, j, order[j], want);
                violations++;
                break;
            }
        }
        if (cfg.input_order == MADE_ORDER_RANDOM) {
            /* numpy's shuffle after np.random.seed(seed). */
            int want[12];
            made__mt mt;
            made__mt_seed(&mt, cfg.seed);
            for (int j = 0; j < cfg.event_size; j++) want[j] = j + 1;
            made__mt_shuffle(&mt, want, cfg.event_size);
            if (memcmp(want, order, (size_t)cfg.event_size * sizeof *order) != 0) {
                HARNESS_FAIL_("%s: random order is not numpy's shuffle", what);
                violations++;
            }
        }
        if (!check_masks_match_degrees(m, what)) violations++;
        int realise = full || cfg.n_hidden == 0;
        violations += check_property(m, 0, what, &checked, &realised);
        if (realise) {
            scale_weights(m, 0.25f);
            violations += check_property(m, 1, what, &checked, &realised);
        }
        if (full) (*n_full_cfg)++;
        orders_seen[cfg.input_order]++;
        acts_seen[cfg.activation]++;
        cond_seen += cfg.conditional_size > 0;
        deep += cfg.n_hidden == 3;
        made_model_free(m);
    }
    /* The generator covered what it is meant to. */
    for (int k = 0; k < 4; k++) CHECK(orders_seen[k] > count / 10);
    if (full_every != 1) CHECK(acts_seen[MADE_ACT_RELU] > 5);
    CHECK(acts_seen[MADE_ACT_TANH] > 5);
    CHECK(cond_seen > count / 6);
    CHECK(deep > count / 8);
    CHECK(checked > 20L * count);
    CHECK(realised > 5L * count / (full_every ? full_every : 1));
}

static void test_random_configs(void)
{
    long full = 0;
    gen_state = 12345;
    run_configs(400, 3, &full);
    CHECK(full >= 100);
}

static void test_realised_full(void)
{
    /* Only fully connected configurations: every allowed dependency realised. */
    long full = 0;
    gen_state = 987654321;
    run_configs(200, 1, &full);
    CHECK_EQ_INT(full, 200);
}

/* Hidden layers narrower than E-1: still autoregressive, but some allowed
 * dependencies are provably missing (example H): E = 5, hidden [2]. */
static void test_narrow_drops_dependencies(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 5;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 2;
    cfg.activation = MADE_ACT_TANH;
    if (made_initializer_parse("random_normal:0,1", &cfg.kernel_initializer) ||
        made_initializer_parse("random_normal:0,1", &cfg.bias_initializer))
        abort();
    made_model *m = NULL;
    CHECK_OK(made_model_create(&m, &cfg));
    if (!m) return;
    long checked = 0, realised = 0;
    float x[3 * 5], y[3 * 5];
    for (int j = 0; j < 5; j++) x[j] = x[5 + j] = x[10 + j] = 0.3f * (float)j;
    x[5 + 3] += 1.0f; /* x3 */
    x[10 + 1] += 1.0f; /* x1 */
    CHECK_OK(made_model_forward(m, y, x, NULL, 3));
    /* x3 (order 4) is allowed into output 4 but feeds nothing. */
    CHECK(memcmp(&y[5 + 4], &y[4], sizeof(float)) == 0);
    /* Output 1 may see x0 but is bias-only. x1 reaches outputs 2, 3, 4. */
    CHECK(memcmp(&y[10 + 1], &y[1], sizeof(float)) == 0);
    CHECK(y[10 + 2] != y[2]);
    CHECK(y[10 + 4] != y[4]);
    CHECK_EQ_INT(check_property(m, 0, "E=5 hidden [2]", &checked, &realised), 0);
    CHECK_EQ_INT(checked, 25);
    made_model_free(m);
}

/* Order-agnostic models: num_masks sets, each with its own order (seed + k). */
static void test_mask_sets(void)
{
    gen_state = 4242;
    long checked = 0, realised = 0;
    int distinct_orders = 0, models = 0;
    for (int t = 0; t < 40; t++) {
        made_config cfg;
        int unused[12];
        int full = t % 2 == 0;
        random_config(&cfg, unused, full);
        cfg.event_size = gen_int(2, 12);
        for (int l = 0; l < cfg.n_hidden; l++)
            cfg.hidden_units[l] = full ? gen_int(cfg.event_size - 1, 14) : gen_int(1, 14);
        cfg.input_order = MADE_ORDER_RANDOM;
        cfg.explicit_order = NULL;
        cfg.num_masks = t < 10 ? 3 : gen_int(2, 5);
        char what[256];
        describe(what, sizeof what, &cfg);
        made_model *m = NULL;
        int rc = made_model_create(&m, &cfg);
        if (rc) {
            HARNESS_FAIL_("%s: create -> %d (%s)", what, rc, made_last_error());
            continue;
        }
        models++;
        int first[12];
        int differs = 0;
        for (int k = 0; k < cfg.num_masks; k++) {
            CHECK_OK(made_model_set_mask(m, k));
            CHECK_EQ_INT(made_model_mask_index(m), k);
            int order[12];
            CHECK_OK(made_model_degrees(m, 0, order));
            /* Mask set k: numpy's shuffle after np.random.seed(seed + k). */
            int want[12];
            made__mt mt;
            made__mt_seed(&mt, cfg.seed + (uint32_t)k);
            for (int j = 0; j < cfg.event_size; j++) want[j] = j + 1;
            made__mt_shuffle(&mt, want, cfg.event_size);
            if (memcmp(want, order, (size_t)cfg.event_size * sizeof(int)) != 0)
                HARNESS_FAIL_("%s: mask set %d order is not numpy's shuffle of seed+%d", what, k, k);
            if (k == 0) memcpy(first, order, sizeof order);
            else differs |= memcmp(first, order, (size_t)cfg.event_size * sizeof(int)) != 0;
            char what_k[300];
            snprintf(what_k, sizeof what_k, "%s mask set %d", what, k);
            check_masks_match_degrees(m, what_k);
            check_property(m, 0, what_k, &checked, &realised);
        }
        /* Realisation on scaled-down weights, for every set. */
        if ((full && cfg.hidden_degrees == MADE_DEGREES_EQUAL) || cfg.n_hidden == 0) {
            scale_weights(m, 0.25f);
            for (int k = 0; k < cfg.num_masks; k++) {
                char what_k[300];
                snprintf(what_k, sizeof what_k, "%s mask set %d (scaled)", what, k);
                CHECK_OK(made_model_set_mask(m, k));
                check_property(m, 1, what_k, &checked, &realised);
            }
        }
        distinct_orders += differs;
        /* Back to set 0 and again: selection is repeatable. */
        CHECK_OK(made_model_set_mask(m, 0));
        check_property(m, 0, what, &checked, &realised);
        CHECK_STATUS(made_model_set_mask(m, cfg.num_masks), MADE_E_INVAL);
        CHECK_STATUS(made_model_set_mask(m, -1), MADE_E_INVAL);
        made_model_free(m);
    }
    CHECK_EQ_INT(models, 40);
    CHECK(distinct_orders > 30);
    CHECK(realised > 200);
}

/* Same weights, different mask set: outputs differ (the mask really switches). */
static void test_mask_sets_switch_forward(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 6;
    cfg.params = 2;
    cfg.n_hidden = 2;
    cfg.hidden_units[0] = cfg.hidden_units[1] = 10;
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.hidden_degrees = MADE_DEGREES_RANDOM;
    cfg.activation = MADE_ACT_RELU;
    cfg.num_masks = 3;
    cfg.seed = 5;
    if (made_initializer_parse("random_normal:0,1", &cfg.kernel_initializer)) abort();
    made_model *m = NULL;
    CHECK_OK(made_model_create(&m, &cfg));
    if (!m) return;
    float x[6] = {0.1f, -0.4f, 0.9f, 0.3f, -0.8f, 0.5f}, y[3][12], again[12];
    for (int k = 0; k < 3; k++) {
        CHECK_OK(made_model_set_mask(m, k));
        CHECK_OK(made_model_forward(m, y[k], x, NULL, 1));
    }
    CHECK(memcmp(y[0], y[1], sizeof y[0]) != 0);
    CHECK(memcmp(y[1], y[2], sizeof y[0]) != 0);
    CHECK_OK(made_model_set_mask(m, 1));
    CHECK_OK(made_model_forward(m, again, x, NULL, 1));
    CHECK(memcmp(again, y[1], sizeof again) == 0);
    made_model_free(m);
}

int main(void)
{
    RUN(test_random_configs);
    RUN(test_realised_full);
    RUN(test_narrow_drops_dependencies);
    RUN(test_mask_sets);
    RUN(test_mask_sets_switch_forward);
    return harness_summary("test_autoreg");
}
