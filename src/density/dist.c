/* dist.c - bernoulli, gaussian, categorical and mixture-of-gaussians outputs. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/vmath.h"
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
        /* Relative to the largest logit m, so that logits near the float
         * limits keep the log of the sum: log p(k) = (theta_k - m) - log s. */
        int k = (int)x;
        double m = theta[0], s = 0.0;
        for (int j = 1; j < d.k; j++)
            if (theta[j] > m) m = theta[j];
        for (int j = 0; j < d.k; j++) s += exp(theta[j] - m);
        const double ls = log(s);
        if (g)
            for (int j = 0; j < d.k; j++) g[j] = (j == k) - exp((theta[j] - m) - ls);
        return (theta[k] - m) - ls;
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

/* The float losses: per dimension the negative log-probability nll[k] and,
 * when g is not NULL, g = scale * d log p / d theta, in float with vmath.h's
 * exp and log, written branch-free so that the loops over dimensions (or
 * categories) vectorise. Each block is compiled twice (plain and AVX2, the
 * same operations per element: the same bits on both kernel paths). The
 * double functions above stay the reference the tests compare with. */

/* Bernoulli: nll = softplus(l) - x l, g = scale * (x - sigmoid(l)).
 * log p(1) = -softplus(-l), log p(0) = -softplus(l), with softplus(y) =
 * log1p(exp(-|y|)) + max(y, 0); one exp serves both the log-probability and
 * the sigmoid. Three loops, not one: each element's exp, log1p and division
 * form one long chain of dependent operations, and with the whole chain in
 * one loop body the processor could overlap only about two vectors of it; a
 * short loop per stage lets it run several vectors at once (3x faster on a
 * Zen 3; the same operations on each element, so the same bits). n <= 256. */
MADE_VMATH_INLINE void bernoulli_body(const float *restrict theta, const float *restrict x, int n,
                                      double *restrict nll, float *restrict g, float scale)
{
    float t[256];
    for (int k = 0; k < n; k++) t[k] = made__exp_neg(-fabsf(theta[k]));
    for (int k = 0; k < n; k++) {
        const float l = theta[k], pos = l > 0.0f ? l : 0.0f, neg = pos - l; /* max(l, 0), max(-l, 0) */
        nll[k] = (double)(made__log1p_unit(t[k]) + (x[k] != 0.0f ? neg : pos));
    }
    if (!g) return;
    for (int k = 0; k < n; k++)
        g[k] = scale * (x[k] - (theta[k] >= 0.0f ? 1.0f : t[k]) / (1.0f + t[k]));
}

/* Gaussian, theta = (mu, log-scale s) per dimension: z = (x - mu) e^-s,
 * nll = z^2 / 2 + s + log sqrt(2 pi), g = scale * (z e^-s, z^2 - 1), the
 * second 0 where the clamp of s is active. Relative accuracy about 5e-7
 * (the exp's, doubled by z^2). */
MADE_VMATH_INLINE void gaussian_body(const float *restrict theta, const float *restrict x, int n,
                                     double *restrict nll, float *restrict g, float scale)
{
    const float lo = (float)MADE_LOG_SCALE_MIN, hi = (float)MADE_LOG_SCALE_MAX;
    for (int k = 0; k < n; k++) {
        const float mu = theta[2 * k], s0 = theta[2 * k + 1];
        const float s = s0 < lo ? lo : s0 > hi ? hi : s0;
        const float z = (x[k] - mu) * made__expf(-s);
        nll[k] = (0.5 * z * z + s) + LOG_SQRT_2PI; /* double: z^2 may pass the float range */
    }
    if (!g) return;
    for (int k = 0; k < n; k++) {
        const float mu = theta[2 * k], s0 = theta[2 * k + 1];
        const float s = s0 < lo ? lo : s0 > hi ? hi : s0;
        const float inv_sigma = made__expf(-s), z = (x[k] - mu) * inv_sigma;
        const int inside = s0 >= lo && s0 <= hi; /* as tf.clip_by_value's gradient */
        g[2 * k] = scale * (z * inv_sigma);
        g[2 * k + 1] = inside ? scale * (z * z - 1.0f) : 0.0f;
    }
}

/* Categorical, theta = K logits v per dimension: nll = lse(v) - v_x,
 * g_j = scale * ([j = x] - exp(v_j - lse)). The sum of exp(v_j - max v) is
 * kept in double, in order (the terms in blocks of 256 vectorise). Absolute
 * accuracy about 3e-7 (log K + 1). */
MADE_VMATH_INLINE void categorical_body(const float *restrict theta, const float *restrict x, int n,
                                        int K, double *restrict nll, float *restrict g, float scale)
{
    float t[256];
    for (int k = 0; k < n; k++) {
        const float *v = theta + (size_t)k * K;
        float m = v[0];
        for (int j = 1; j < K; j++) m = v[j] > m ? v[j] : m;
        double sum = 0.0;
        for (int j0 = 0; j0 < K; j0 += 256) {
            const int nj = K - j0 < 256 ? K - j0 : 256;
            for (int j = 0; j < nj; j++) t[j] = made__exp_neg(v[j0 + j] - m);
            for (int j = 0; j < nj; j++) sum += (double)t[j];
        }
        const float ls = made__logf((float)sum); /* lse = m + ls; sum >= 1 */
        const int xk = (int)x[k];
        nll[k] = (double)ls - ((double)v[xk] - m); /* double: v[x] - m may pass the float range */
        if (g) {
            float *gk = g + (size_t)k * K;
            for (int j = 0; j < K; j++)
                gk[j] = scale * ((j == xk ? 1.0f : 0.0f) - made__exp_neg((v[j] - m) - ls));
        }
    }
}

#define LOSS_BUILDS(attr, suffix)                                                               \
    attr static void bernoulli_##suffix(const float *theta, const float *x, int n, double *nll,   \
                                        float *g, float scale)                                   \
    {                                                                                            \
        bernoulli_body(theta, x, n, nll, g, scale);                                              \
    }                                                                                            \
    attr static void gaussian_##suffix(const float *theta, const float *x, int n, double *nll,    \
                                       float *g, float scale)                                    \
    {                                                                                            \
        gaussian_body(theta, x, n, nll, g, scale);                                               \
    }                                                                                            \
    attr static void categorical_##suffix(const float *theta, const float *x, int n, int K,      \
                                          double *nll, float *g, float scale)                     \
    {                                                                                            \
        categorical_body(theta, x, n, K, nll, g, scale);                                         \
    }

LOSS_BUILDS(, plain)
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
LOSS_BUILDS(__attribute__((target("avx2"))), avx2)
#else
#define bernoulli_avx2 bernoulli_plain
#define gaussian_avx2 gaussian_plain
#define categorical_avx2 categorical_plain
#endif

/* One dimension of a mixture of Gaussians and its gradient, as the reference
 * computes them (the same double operations, so the same values) but with
 * each component's sigma, z and joint log term t computed once instead of in
 * each of three passes: two fewer exp per component. The three K-slots of g
 * hold t, z and sigma until the last loop turns them into the gradient. */
static double mog_dim_grad(int K, const float *theta, float x, double *g)
{
    const float *logit = theta, *loc = theta + K, *ls = theta + 2 * K;
    double *t = g, *z = g + K, *sigma = g + 2 * K;
    const double lse_w = logsumexp(logit, K);
    double best = -INFINITY, total = 0.0;
    for (int j = 0; j < K; j++) {
        int inside;
        const double s = log_scale(ls[j], &inside);
        sigma[j] = exp(s);
        z[j] = ((double)x - loc[j]) / sigma[j];
        t[j] = logit[j] - lse_w - 0.5 * z[j] * z[j] - s - LOG_SQRT_2PI;
        if (t[j] > best) best = t[j];
    }
    for (int j = 0; j < K; j++) total += exp(t[j] - best);
    const double lp = best + log(total);
    for (int j = 0; j < K; j++) {
        int inside;
        log_scale(ls[j], &inside);
        const double r = exp(t[j] - lp), zj = z[j], sj = sigma[j];
        g[j] = r - exp(logit[j] - lse_w);
        g[K + j] = r * zj / sj;
        g[2 * K + j] = inside ? r * (zj * zj - 1.0) : 0.0;
    }
    return lp;
}

/* n <= 256 dimensions of a float loss. */
static void float_block(made_dist d, const float *theta, const float *x, int n, double *nll,
                        float *g, float scale, int avx2)
{
    switch (d.kind) {
    case MADE_DIST_BERNOULLI:
        if (avx2) bernoulli_avx2(theta, x, n, nll, g, scale);
        else bernoulli_plain(theta, x, n, nll, g, scale);
        break;
    case MADE_DIST_GAUSSIAN:
        if (avx2) gaussian_avx2(theta, x, n, nll, g, scale);
        else gaussian_plain(theta, x, n, nll, g, scale);
        break;
    default:
        if (avx2) categorical_avx2(theta, x, n, d.k, nll, g, scale);
        else categorical_plain(theta, x, n, d.k, nll, g, scale);
        break;
    }
}

double made__dist_example(made_dist d, const float *theta, const float *x, int e, float *g,
                          float scale, double *gbuf, int avx2)
{
    double total = 0.0;
    const int P = made_dist_params(d);
    if (d.kind != MADE_DIST_MOG) {
        /* Blocks of dimensions: the float part vectorised, then the sum in
         * double, in four running sums over k mod 4 (one running sum waits
         * for each add's latency, which took as long as the loss itself),
         * added pairwise at the end. */
        double nll[256 + 3], s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        for (int k0 = 0; k0 < e; k0 += 256) {
            const int n = e - k0 < 256 ? e - k0 : 256;
            float_block(d, theta + (size_t)k0 * P, x + k0, n, nll, g ? g + (size_t)k0 * P : NULL,
                        scale, avx2);
            nll[n] = nll[n + 1] = nll[n + 2] = 0.0; /* the last group of four */
            for (int k = 0; k < n; k += 4) {
                s0 += nll[k];
                s1 += nll[k + 1];
                s2 += nll[k + 2];
                s3 += nll[k + 3];
            }
        }
        return -((s0 + s1) + (s2 + s3));
    }
    /* The mixture stays in double: far from every component the
     * responsibilities are differences of large squared distances, which
     * float cannot resolve. */
    for (int k = 0; k < e; k++) {
        if (!g) {
            total += made__dist_log_prob(d, theta + (size_t)k * P, x[k]);
            continue;
        }
        total += mog_dim_grad(d.k, theta + (size_t)k * P, x[k], gbuf);
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
