/* activation.c - Keras activations (tf_keras 2.x definitions), forward and
 * backward. Formulas checked against TF in tests/fixtures/tfp. */
#include <math.h>

#include "net/activation.h"

/* SELU constants from Klambauer et al. (2017), as in Keras. */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946

static inline float sigmoidf(float x)
{
    /* Two branches so exp never overflows. */
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static inline float softplusf(float x)
{
    return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

void made__act_forward(made_activation act, float *h, const float *a, size_t n)
{
    size_t i;
    switch (act) {
    case MADE_ACT_LINEAR:
        if (h != a)
            for (i = 0; i < n; i++) h[i] = a[i];
        break;
    case MADE_ACT_RELU:
        for (i = 0; i < n; i++) h[i] = a[i] > 0 ? a[i] : 0.0f;
        break;
    case MADE_ACT_TANH:
        for (i = 0; i < n; i++) h[i] = tanhf(a[i]);
        break;
    case MADE_ACT_SIGMOID:
        for (i = 0; i < n; i++) h[i] = sigmoidf(a[i]);
        break;
    case MADE_ACT_ELU:
        for (i = 0; i < n; i++) h[i] = a[i] > 0 ? a[i] : expm1f(a[i]);
        break;
    case MADE_ACT_SELU:
        for (i = 0; i < n; i++)
            h[i] = (float)SELU_SCALE * (a[i] > 0 ? a[i] : (float)SELU_ALPHA * expm1f(a[i]));
        break;
    case MADE_ACT_SOFTPLUS:
        for (i = 0; i < n; i++) h[i] = softplusf(a[i]);
        break;
    case MADE_ACT_SOFTSIGN:
        for (i = 0; i < n; i++) h[i] = a[i] / (1.0f + fabsf(a[i]));
        break;
    case MADE_ACT_SWISH:
        for (i = 0; i < n; i++) h[i] = a[i] * sigmoidf(a[i]);
        break;
    case MADE_ACT_GELU:
        for (i = 0; i < n; i++) h[i] = 0.5f * a[i] * (1.0f + erff(a[i] * 0.70710678118654752f));
        break;
    case MADE_ACT_EXPONENTIAL:
        for (i = 0; i < n; i++) h[i] = expf(a[i]);
        break;
    case MADE_ACT_HARD_SIGMOID:
        for (i = 0; i < n; i++) {
            float v = 0.2f * a[i] + 0.5f;
            h[i] = v < 0 ? 0.0f : v > 1 ? 1.0f : v;
        }
        break;
    default:
        break;
    }
}

/* The backward formulas once, for two callers: da and dh apart, or one array
 * updated in place (the staircase input gradient applies the activation's
 * derivative to its own output). With the in-place form written as one
 * restrict pointer, the compiler vectorises it instead of falling back to a
 * branchy scalar loop when it sees da and dh overlap. The same operations per
 * element either way. */
#define ACT_BACKWARD_SWITCH(DA, DH)                                                           \
    switch (act) {                                                                            \
    case MADE_ACT_LINEAR:                                                                     \
        if (DA != DH)                                                                         \
            for (i = 0; i < n; i++) DA[i] = DH[i];                                            \
        break;                                                                                \
    case MADE_ACT_RELU:                                                                       \
        for (i = 0; i < n; i++) DA[i] = a[i] > 0 ? DH[i] : 0.0f;                              \
        break;                                                                                \
    case MADE_ACT_TANH:                                                                       \
        for (i = 0; i < n; i++) DA[i] = DH[i] * (1.0f - h[i] * h[i]);                         \
        break;                                                                                \
    case MADE_ACT_SIGMOID:                                                                    \
        for (i = 0; i < n; i++) DA[i] = DH[i] * h[i] * (1.0f - h[i]);                         \
        break;                                                                                \
    case MADE_ACT_ELU:                                                                        \
        for (i = 0; i < n; i++) DA[i] = a[i] > 0 ? DH[i] : DH[i] * (h[i] + 1.0f);             \
        break;                                                                                \
    case MADE_ACT_SELU:                                                                       \
        /* TF's SeluGrad takes the linear branch at 0. */                                     \
        for (i = 0; i < n; i++)                                                               \
            DA[i] = a[i] < 0 ? DH[i] * (h[i] + (float)(SELU_SCALE * SELU_ALPHA))              \
                             : DH[i] * (float)SELU_SCALE;                                     \
        break;                                                                                \
    case MADE_ACT_SOFTPLUS:                                                                   \
        for (i = 0; i < n; i++) DA[i] = DH[i] * sigmoidf(a[i]);                               \
        break;                                                                                \
    case MADE_ACT_SOFTSIGN:                                                                   \
        for (i = 0; i < n; i++) {                                                             \
            float d = 1.0f + fabsf(a[i]);                                                     \
            DA[i] = DH[i] / (d * d);                                                          \
        }                                                                                     \
        break;                                                                                \
    case MADE_ACT_SWISH:                                                                      \
        for (i = 0; i < n; i++) {                                                             \
            float s = sigmoidf(a[i]);                                                         \
            DA[i] = DH[i] * (s + a[i] * s * (1.0f - s));                                      \
        }                                                                                     \
        break;                                                                                \
    case MADE_ACT_GELU:                                                                       \
        for (i = 0; i < n; i++) {                                                             \
            float cdf = 0.5f * (1.0f + erff(a[i] * 0.70710678118654752f));                    \
            float pdf = expf(-0.5f * a[i] * a[i]) * 0.3989422804014327f; /* 1/sqrt(2 pi) */   \
            DA[i] = DH[i] * (cdf + a[i] * pdf);                                               \
        }                                                                                     \
        break;                                                                                \
    case MADE_ACT_EXPONENTIAL:                                                                \
        for (i = 0; i < n; i++) DA[i] = DH[i] * h[i];                                         \
        break;                                                                                \
    case MADE_ACT_HARD_SIGMOID:                                                               \
        /* Slope 0.2 up to and including the clip points, as TF's gradient of                 \
         * clip_by_value. */                                                                  \
        for (i = 0; i < n; i++) {                                                             \
            float v = 0.2f * a[i] + 0.5f;                                                     \
            DA[i] = v >= 0 && v <= 1 ? 0.2f * DH[i] : 0.0f;                                   \
        }                                                                                     \
        break;                                                                                \
    default:                                                                                  \
        break;                                                                                \
    }

static void act_backward_apart(made_activation act, float *restrict da, const float *restrict dh,
                               const float *restrict a, const float *restrict h, size_t n)
{
    size_t i;
    ACT_BACKWARD_SWITCH(da, dh)
}

static void act_backward_inplace(made_activation act, float *restrict io, const float *restrict a,
                                 const float *restrict h, size_t n)
{
    size_t i;
    ACT_BACKWARD_SWITCH(io, io)
}

void made__act_backward(made_activation act, float *da, const float *dh, const float *a,
                        const float *h, size_t n)
{
    if (da == dh) act_backward_inplace(act, da, a, h, n);
    else act_backward_apart(act, da, dh, a, h, n);
}
