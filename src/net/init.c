/* init.c - Keras initializers. The draws cannot equal TensorFlow's random
 * streams bit for bit, but the distributions and their parameters are the same
 * (tf_keras/initializers/initializers.py). */
#include <math.h>

#include "net/init.h"

/* Keras' truncated normal redraws values beyond two standard deviations; the
 * variance-scaling form divides the stddev by this constant (the stddev of a
 * standard normal truncated to [-2, 2]) so the result has the intended variance. */
#define TRUNC_STDDEV_CORRECTION 0.87962566103423978

static double truncated_normal(made__rng *rng)
{
    for (;;) {
        double v = made__rng_normal(rng);
        if (v >= -2.0 && v <= 2.0) return v;
    }
}

static void variance_scaling(float *w, size_t count, size_t fan_in, size_t fan_out,
                             double scale, made_fan_mode mode, made_vs_distribution dist,
                             made__rng *rng)
{
    double n = mode == MADE_FAN_IN ? (double)fan_in
             : mode == MADE_FAN_OUT ? (double)fan_out
                                    : ((double)fan_in + (double)fan_out) / 2.0;
    if (n < 1.0) n = 1.0; /* Keras: scale / max(1., n) */
    double var = scale / n;
    for (size_t i = 0; i < count; i++) {
        double v;
        if (dist == MADE_VS_UNIFORM) {
            double limit = sqrt(3.0 * var);
            v = (2.0 * made__rng_uniform(rng) - 1.0) * limit;
        } else if (dist == MADE_VS_UNTRUNCATED_NORMAL) {
            v = made__rng_normal(rng) * sqrt(var);
        } else {
            v = truncated_normal(rng) * sqrt(var) / TRUNC_STDDEV_CORRECTION;
        }
        w[i] = (float)v;
    }
}

void made__init_fill(float *w, size_t count, size_t fan_in, size_t fan_out,
                     const made_initializer *in, made__rng *rng)
{
    size_t i;
    switch (in->kind) {
    case MADE_INIT_GLOROT_UNIFORM:
        variance_scaling(w, count, fan_in, fan_out, 1.0, MADE_FAN_AVG, MADE_VS_UNIFORM, rng);
        break;
    case MADE_INIT_GLOROT_NORMAL:
        variance_scaling(w, count, fan_in, fan_out, 1.0, MADE_FAN_AVG, MADE_VS_TRUNCATED_NORMAL, rng);
        break;
    case MADE_INIT_HE_UNIFORM:
        variance_scaling(w, count, fan_in, fan_out, 2.0, MADE_FAN_IN, MADE_VS_UNIFORM, rng);
        break;
    case MADE_INIT_HE_NORMAL:
        variance_scaling(w, count, fan_in, fan_out, 2.0, MADE_FAN_IN, MADE_VS_TRUNCATED_NORMAL, rng);
        break;
    case MADE_INIT_LECUN_UNIFORM:
        variance_scaling(w, count, fan_in, fan_out, 1.0, MADE_FAN_IN, MADE_VS_UNIFORM, rng);
        break;
    case MADE_INIT_LECUN_NORMAL:
        variance_scaling(w, count, fan_in, fan_out, 1.0, MADE_FAN_IN, MADE_VS_TRUNCATED_NORMAL, rng);
        break;
    case MADE_INIT_VARIANCE_SCALING:
        variance_scaling(w, count, fan_in, fan_out, in->scale, in->mode, in->distribution, rng);
        break;
    case MADE_INIT_ZEROS:
        for (i = 0; i < count; i++) w[i] = 0.0f;
        break;
    case MADE_INIT_ONES:
        for (i = 0; i < count; i++) w[i] = 1.0f;
        break;
    case MADE_INIT_CONSTANT:
        for (i = 0; i < count; i++) w[i] = (float)in->value;
        break;
    case MADE_INIT_RANDOM_UNIFORM:
        for (i = 0; i < count; i++)
            w[i] = (float)(in->minval + (in->maxval - in->minval) * made__rng_uniform(rng));
        break;
    case MADE_INIT_RANDOM_NORMAL:
        for (i = 0; i < count; i++) w[i] = (float)(in->mean + in->stddev * made__rng_normal(rng));
        break;
    case MADE_INIT_TRUNCATED_NORMAL:
        for (i = 0; i < count; i++)
            w[i] = (float)(in->mean + in->stddev * truncated_normal(rng));
        break;
    default:
        break;
    }
}
