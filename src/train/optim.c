/* optim.c - the optimisers' element-wise updates over one contiguous run of
 * parameters.
 *
 * Each loop body is written once and compiled twice: for baseline x86-64
 * (the compiler vectorises it four lanes wide) and, through the target
 * attribute, for AVX2 (eight lanes). Every element goes through the same
 * IEEE operations in the same order in both (nothing is contracted into a
 * fused multiply-add: -ffp-contract=off; sqrtf is correctly rounded), so the
 * two builds, and any split of a run among threads, give the same bits. The
 * update is bound by memory traffic (p, g, m1, m2 in, p, m1, m2 out); the
 * wider build halves its instructions, the divisions and square roots most. */
#include <math.h>

#include "train/optim.h"

static inline __attribute__((always_inline)) void adam_body(const made__step_consts *u,
                                                            float *restrict p,
                                                            const float *restrict g,
                                                            float *restrict m1,
                                                            float *restrict m2, size_t n)
{
    const float b1 = u->b1, b2 = u->b2, al = u->a, eps = u->eps, decay = u->decay;
    const float inv_sqrt_bc2 = u->inv_sqrt_bc2;
    for (size_t i = 0; i < n; i++) {
        m1[i] = b1 * m1[i] + (1.0f - b1) * g[i];
        m2[i] = b2 * m2[i] + (1.0f - b2) * g[i] * g[i];
        /* AdamW: decay the weights directly, not through the moments. */
        p[i] -= decay * p[i] + al * m1[i] / (sqrtf(m2[i]) * inv_sqrt_bc2 + eps);
    }
}

static inline __attribute__((always_inline)) void sgd_body(const made__step_consts *u,
                                                           float *restrict p,
                                                           const float *restrict g,
                                                           float *restrict m1, size_t n)
{
    const float mu = u->mu, wd = u->wd, rate = u->rate;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        m1[i] = mu * m1[i] + gi;
        p[i] -= rate * m1[i];
    }
}

static void adam_portable(const made__step_consts *u, float *restrict p, const float *restrict g,
                          float *restrict m1, float *restrict m2, size_t n)
{
    adam_body(u, p, g, m1, m2, n);
}

static void sgd_portable(const made__step_consts *u, float *restrict p, const float *restrict g,
                         float *restrict m1, size_t n)
{
    sgd_body(u, p, g, m1, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) static void adam_avx2(const made__step_consts *u,
                                                      float *restrict p, const float *restrict g,
                                                      float *restrict m1, float *restrict m2,
                                                      size_t n)
{
    adam_body(u, p, g, m1, m2, n);
}

__attribute__((target("avx2"))) static void sgd_avx2(const made__step_consts *u, float *restrict p,
                                                     const float *restrict g, float *restrict m1,
                                                     size_t n)
{
    sgd_body(u, p, g, m1, n);
}
#else
#define adam_avx2 adam_portable
#define sgd_avx2 sgd_portable
#endif

void made__adam_range(const made__step_consts *u, float *p, const float *g, float *m1, float *m2,
                      size_t n, int avx2)
{
    if (avx2) adam_avx2(u, p, g, m1, m2, n);
    else adam_portable(u, p, g, m1, m2, n);
}

void made__sgd_range(const made__step_consts *u, float *p, const float *g, float *m1, size_t n,
                     int avx2)
{
    if (avx2) sgd_avx2(u, p, g, m1, n);
    else sgd_portable(u, p, g, m1, n);
}
