/* dist.c - bernoulli, gaussian, categorical and mixture-of-gaussians outputs. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "density/dist.h"

#define LOG_SQRT_2PI 0.91893853320467274178

/* log(1 + exp(x)) without overflow. */
static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static double sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

static double logsumexp(const float *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] > m) m = v[i];
    double s = 0.0;
    for (int i = 0; i < n; i++) s += exp(v[i] - m);
    return m + log(s);
}

/* Clamped log-scale; *inside tells whether the clamp was inactive. */
static double log_scale(float s, int *inside)
{
    /* Inclusive, as the gradient of tf.clip_by_value. */
    *inside = s >= MADE_LOG_SCALE_MIN && s <= MADE_LOG_SCALE_MAX;
    return s < MADE_LOG_SCALE_MIN ? MADE_LOG_SCALE_MIN : s > MADE_LOG_SCALE_MAX ? MADE_LOG_SCALE_MAX : s;
}

int made__dist_check(made_dist d, float x)
{
    if (!isfinite(x)) return -1;
    switch (d.kind) {
    case MADE_DIST_BERNOULLI: return x == 0.0f || x == 1.0f ? 0 : -1;
    case MADE_DIST_CATEGORICAL: return x >= 0 && x < (float)d.k && x == floorf(x) ? 0 : -1;
    default: return 0;
    }
}

double made__dist_log_prob_grad(made_dist d, const float *theta, float x, double *g)
{
    switch (d.kind) {
    case MADE_DIST_BERNOULLI: {
        /* log p(1) = -softplus(-l), log p(0) = -softplus(l). */
        double l = theta[0];
        if (g) g[0] = (double)x - sigmoid(l);
        return x != 0.0f ? -softplus(-l) : -softplus(l);
    }
    case MADE_DIST_GAUSSIAN: {
        int inside;
        double mu = theta[0], s = log_scale(theta[1], &inside), sigma = exp(s);
        double z = ((double)x - mu) / sigma;
        if (g) {
            g[0] = z / sigma;
            g[1] = inside ? z * z - 1.0 : 0.0;
        }
        return -0.5 * z * z - s - LOG_SQRT_2PI;
    }
    case MADE_DIST_CATEGORICAL: {
        int k = (int)x;
        double lse = logsumexp(theta, d.k);
        if (g)
            for (int j = 0; j < d.k; j++) g[j] = (j == k) - exp(theta[j] - lse);
        return theta[k] - lse;
    }
    case MADE_DIST_MOG: {
        /* params: K logits, K locs, K log-scales. Responsibilities r_k are the
         * posterior weights of the components given x. */
        const int K = d.k;
        const float *logit = theta, *loc = theta + K, *ls = theta + 2 * K;
        double lse_w = logsumexp(logit, K);
        double best = -INFINITY, total = 0.0;
        /* Two passes: find the largest joint log term, then sum relative to it. */
        for (int j = 0; j < K; j++) {
            int inside;
            double s = log_scale(ls[j], &inside), z = ((double)x - loc[j]) / exp(s);
            double t = logit[j] - lse_w - 0.5 * z * z - s - LOG_SQRT_2PI;
            if (t > best) best = t;
        }
        for (int j = 0; j < K; j++) {
            int inside;
            double s = log_scale(ls[j], &inside), z = ((double)x - loc[j]) / exp(s);
            double t = logit[j] - lse_w - 0.5 * z * z - s - LOG_SQRT_2PI;
            total += exp(t - best);
        }
        double lp = best + log(total);
        if (g) {
            for (int j = 0; j < K; j++) {
                int inside;
                double s = log_scale(ls[j], &inside), sigma = exp(s);
                double z = ((double)x - loc[j]) / sigma;
                double t = logit[j] - lse_w - 0.5 * z * z - s - LOG_SQRT_2PI;
                double r = exp(t - lp);
                g[j] = r - exp(logit[j] - lse_w);
                g[K + j] = r * z / sigma;
                g[2 * K + j] = inside ? r * (z * z - 1.0) : 0.0;
            }
        }
        return lp;
    }
    default:
        /* Callers check that the model has a distribution. */
        assert(!"made__dist_log_prob_grad: no distribution");
        return 0.0;
    }
}

double made__dist_log_prob(made_dist d, const float *theta, float x)
{
    return made__dist_log_prob_grad(d, theta, x, NULL);
}

/* exp(x) for x <= 0 in float, branch-free so that the loss loop below
 * vectorises (compiled once, in plain C: the same bits on every kernel path
 * and build). Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a degree-6
 * polynomial for e^r (relative error below 2e-7), and 2^n built in the
 * exponent bits. x is clamped at -87, where the result is 1.6e-38 instead of
 * something smaller: far below anything the loss can resolve. */
static inline float exp_neg(float x)
{
    x = x < -87.0f ? -87.0f : x;
    const float n = (float)(int)(x * 1.44269504f - 0.5f); /* round(x / ln2), x <= 0 */
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* log(1 + t) for t in [0, 1], branch-free: 2 atanh(s) with s = t / (2 + t)
 * in [0, 1/3], a series in s^2 cut where its terms fall below float
 * precision (relative error below 2e-7). Exact for t = 0. */
static inline float log1p_unit(float t)
{
    const float s = t / (2.0f + t), s2 = s * s;
    float p = 1.0f / 15.0f;
    p = p * s2 + 1.0f / 13.0f;
    p = p * s2 + 1.0f / 11.0f;
    p = p * s2 + 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    return 2.0f * s * p;
}

/* The Bernoulli loss of n dimensions: nll[k] = softplus(l) - x l (the
 * negative log-probability) and, when g is not NULL, g[k] = scale * (x -
 * sigmoid(l)). log p(1) = -softplus(-l), log p(0) = -softplus(l), with
 * softplus(y) = log1p(exp(-|y|)) + max(y, 0); one exp serves both the
 * log-probability and the sigmoid. No branches: the loop vectorises. */
static void bernoulli_block(const float *restrict theta, const float *restrict x, int n,
                            float *restrict nll, float *restrict g, float scale)
{
    if (!g) {
        for (int k = 0; k < n; k++) {
            const float l = theta[k], a = fabsf(l), t = exp_neg(-a);
            const float pos = l > 0.0f ? l : 0.0f, neg = pos - l; /* max(l, 0), max(-l, 0) */
            nll[k] = log1p_unit(t) + (x[k] != 0.0f ? neg : pos);
        }
        return;
    }
    for (int k = 0; k < n; k++) {
        const float l = theta[k], a = fabsf(l), t = exp_neg(-a);
        const float pos = l > 0.0f ? l : 0.0f, neg = pos - l;
        nll[k] = log1p_unit(t) + (x[k] != 0.0f ? neg : pos);
        g[k] = scale * (x[k] - (l >= 0.0f ? 1.0f : t) / (1.0f + t));
    }
}

double made__dist_example(made_dist d, const float *theta, const float *x, int e, float *g,
                          float scale, double *gbuf)
{
    double total = 0.0;
    if (d.kind == MADE_DIST_BERNOULLI) {
        /* Blocks of dimensions: the float part vectorised, then the sum in
         * double in order. */
        float nll[256];
        for (int k0 = 0; k0 < e; k0 += 256) {
            const int n = e - k0 < 256 ? e - k0 : 256;
            bernoulli_block(theta + k0, x + k0, n, nll, g ? g + k0 : NULL, scale);
            for (int k = 0; k < n; k++) total -= (double)nll[k];
        }
        return total;
    }
    const int P = made_dist_params(d);
    for (int k = 0; k < e; k++) {
        total += made__dist_log_prob_grad(d, theta + (size_t)k * P, x[k], g ? gbuf : NULL);
        if (g)
            for (int p = 0; p < P; p++) g[(size_t)k * P + p] = scale * (float)gbuf[p];
    }
    return total;
}

/* Index drawn from softmax(logits) by inverting the CDF at u. */
static int draw_categorical(const float *logits, int k, double u)
{
    double lse = logsumexp(logits, k), c = 0.0;
    for (int j = 0; j < k - 1; j++) {
        c += exp(logits[j] - lse);
        if (u < c) return j;
    }
    return k - 1;
}

float made__dist_sample(made_dist d, const float *theta, made__rng *rng)
{
    switch (d.kind) {
    case MADE_DIST_BERNOULLI:
        return made__rng_uniform(rng) < sigmoid(theta[0]) ? 1.0f : 0.0f;
    case MADE_DIST_GAUSSIAN: {
        int inside;
        double s = log_scale(theta[1], &inside);
        return (float)(theta[0] + exp(s) * made__rng_normal(rng));
    }
    case MADE_DIST_CATEGORICAL:
        return (float)draw_categorical(theta, d.k, made__rng_uniform(rng));
    case MADE_DIST_MOG: {
        int j = draw_categorical(theta, d.k, made__rng_uniform(rng)), inside;
        double s = log_scale(theta[2 * d.k + j], &inside);
        return (float)(theta[d.k + j] + exp(s) * made__rng_normal(rng));
    }
    default:
        assert(!"made__dist_sample: no distribution"); /* sample checks first */
        return 0.0f;
    }
}
