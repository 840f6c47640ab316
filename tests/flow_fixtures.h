/* flow_fixtures.h - flows the flow tests share: the spec's worked example K
 * (weights from shared/spec/flows.md) and seeded random stacks with every
 * option. Include after harness.h. */
#ifndef MADE_TEST_FLOW_FIXTURES_H
#define MADE_TEST_FLOW_FIXTURES_H

#include <stdlib.h>

#include "made.h"

/* ---- worked example K (shared/spec/flows.md) ----------------------------- */

static const float K_NET0[] = {
    /* W0 [3, 4] */ -0.42f, 0.28f, -0.06f, 0.22f, 0.0f, 0.0f, 0.0f, -0.43f, 0.0f, 0.0f, 0.0f, 0.0f,
    /* b0 [4] */ -0.12f, -0.43f, -0.21f, 0.41f,
    /* W1 [4, 6] */ 0.0f, 0.0f, 0.43f, -0.48f, 0.1f, 0.45f, 0.0f, 0.0f, 0.41f, -0.37f, 0.02f, 0.25f,
    0.0f, 0.0f, 0.0f, 0.0f, -0.13f, -0.02f, 0.0f, 0.0f, 0.0f, 0.0f, 0.07f, -0.22f,
    /* b1 [6] */ -0.05f, -0.15f, 0.16f, -0.13f, -0.04f, 0.22f};
static const float K_NET1[] = {
    -0.09f, 0.41f, -0.32f, 0.24f, 0.0f, 0.0f, 0.13f, 0.02f, 0.0f, 0.0f, 0.0f, 0.0f,
    0.02f, 0.2f, 0.46f, 0.18f,
    0.0f, 0.0f, 0.09f, -0.26f, 0.46f, 0.45f, 0.0f, 0.0f, 0.34f, -0.37f, -0.19f, -0.04f,
    0.0f, 0.0f, 0.0f, 0.0f, -0.18f, -0.2f, 0.0f, 0.0f, 0.0f, 0.0f, 0.3f, 0.02f,
    -0.04f, 0.28f, 0.39f, 0.17f, 0.3f, 0.44f};
static const int K_PERM[] = {2, 0, 1};
static const float K_Y[] = {0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.75f};
static const float K_X[] = {0.3f, -0.2f, 1.1f};

static inline made_flow *example_k(made_flow_kind kind)
{
    made_flow_config fc;
    made_flow_config_default(&fc);
    fc.kind = kind;
    fc.num_layers = 2;
    fc.layer.event_size = 3;
    fc.layer.n_hidden = 1;
    fc.layer.hidden_units[0] = 4;
    fc.layer.activation = MADE_ACT_RELU;
    fc.permutation = MADE_FLOW_PERM_EXPLICIT;
    fc.explicit_permutation = K_PERM;
    made_flow *f = NULL;
    CHECK_OK(made_flow_create(&f, &fc));
    if (!f) return NULL;
    CHECK_EQ_INT(made_model_num_params(made_flow_layer(f, 0)), 46);
    CHECK_OK(made_model_set_weights(made_flow_layer(f, 0), K_NET0, 46));
    CHECK_OK(made_model_set_weights(made_flow_layer(f, 1), K_NET1, 46));
    return f;
}

/* ---- random stacks -------------------------------------------------------- */

static inline double urand(unsigned *state)
{
    *state = *state * 1664525u + 1013904223u;
    return ((*state >> 8) + 0.5) / 16777216.0;
}

typedef struct stack_opts {
    made_flow_kind kind;
    int K, E, C, bn;
    made_flow_scale scale;
    made_flow_permutation perm;
    made_activation act;
    int hidden[2], n_hidden;
    made_order order;
    unsigned seed;
    made_flow_preprocess pre;
    int share; /* share_weights */
} stack_opts;

static inline stack_opts opts(made_flow_kind kind, int K, int E, int C)
{
    stack_opts o = {kind, K, E, C, 0, MADE_FLOW_SCALE_EXP, MADE_FLOW_PERM_RANDOM, MADE_ACT_TANH,
                    {16, 12}, 2, MADE_ORDER_LEFT_TO_RIGHT, 7, MADE_FLOW_PRE_NONE, 0};
    return o;
}

/* A stack with random bias and batch-norm parameters (glorot kernels from the
 * seed), so that no part of it is an identity. */
static inline made_flow *stack(const stack_opts *o)
{
    made_flow_config fc;
    made_flow_config_default(&fc);
    fc.kind = o->kind;
    fc.num_layers = o->K;
    fc.layer.event_size = o->E;
    fc.layer.conditional_size = o->C;
    fc.layer.n_hidden = o->n_hidden;
    fc.layer.hidden_units[0] = o->hidden[0];
    fc.layer.hidden_units[1] = o->hidden[1];
    fc.layer.activation = o->act;
    fc.layer.input_order = o->order;
    fc.layer.seed = o->seed;
    /* Smaller weights than glorot's: every layer then scales by exp(u) with
     * |u| of order 1, so round trips are well conditioned in float. */
    fc.layer.kernel_initializer = made_initializer_default(MADE_INIT_VARIANCE_SCALING);
    fc.layer.kernel_initializer.scale = 0.2;
    fc.layer.kernel_initializer.mode = MADE_FAN_AVG;
    fc.layer.kernel_initializer.distribution = MADE_VS_UNIFORM;
    fc.layer.bias_initializer = made_initializer_default(MADE_INIT_RANDOM_UNIFORM);
    fc.layer.bias_initializer.minval = -0.3;
    fc.layer.bias_initializer.maxval = 0.3;
    fc.permutation = o->perm;
    fc.permutation_seed = o->seed;
    fc.scale = o->scale;
    fc.batch_norm = o->bn;
    fc.preprocess = o->pre;
    fc.share_weights = o->share;
    made_flow *f = NULL;
    CHECK_OK(made_flow_create(&f, &fc));
    unsigned st = o->seed;
    if (f && o->pre == MADE_FLOW_PRE_STANDARDIZE) {
        double mean[64], std[64];
        for (int j = 0; j < o->E && j < 64; j++) {
            mean[j] = urand(&st) - 0.5;
            std[j] = 0.5 + urand(&st);
        }
        CHECK_OK(made_flow_set_standardize(f, mean, std));
    }
    if (!f || !o->bn) return f;
    float *p = malloc(4 * (size_t)o->E * sizeof *p);
    for (int k = 0; k < o->K; k++) {
        for (int j = 0; j < o->E; j++) {
            p[j] = (float)(urand(&st) - 0.5);
            p[o->E + j] = (float)(0.5 + urand(&st));
            p[2 * o->E + j] = (float)(0.4 * (urand(&st) - 0.5));
            p[3 * o->E + j] = (float)(urand(&st) - 0.5);
        }
        CHECK_OK(made_flow_set_batchnorm(f, k, p, p + o->E, p + 2 * o->E, p + 3 * o->E));
    }
    free(p);
    return f;
}

static inline float *rand_rows(size_t n, int E, unsigned seed, double scale)
{
    float *v = malloc(n * (size_t)E * sizeof *v);
    for (size_t i = 0; i < n * (size_t)E; i++) v[i] = (float)(scale * (2 * urand(&seed) - 1));
    return v;
}

static inline double max_rel(const float *a, const float *b, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (1.0 + fabs((double)b[i]));
        if (!(d <= w)) w = d;
    }
    return w;
}

#endif
