/*
 * dist.h - output distributions over the network's [N, E, params] output.
 * Each works on one event dimension at a time: theta points at its params
 * values (internal layout keeps them contiguous), x is the observed value.
 * The per-dimension functions are in double (the reference); log-sum-exp and
 * softplus keep extreme logits and scales finite.
 */
#ifndef MADE_DIST_H
#define MADE_DIST_H

#include "core/rng.h"
#include "made.h"

/* Gaussian log-scales are clamped to this range before exp (zero gradient
 * outside, as tf.clip_by_value): scales stay in [9.4e-14, 1.1e13]. */
#define MADE_LOG_SCALE_MIN (-30.0)
#define MADE_LOG_SCALE_MAX (30.0)

/* Checks that x is in the support (0/1 for bernoulli, an integer 0..K-1 for
 * categorical, finite for the others). Returns 0 if it is. */
int made__dist_check(made_dist d, float x);
/* log p(x | theta). */
double made__dist_log_prob(made_dist d, const float *theta, float x);
/* log p(x | theta) and its gradient: g[p] = d log p / d theta[p]. */
double made__dist_log_prob_grad(made_dist d, const float *theta, float x, double *g);
/* One example: theta is [E, params] (internal layout), x is [E]. Returns
 * log p(x) summed over the E dimensions; when g is not NULL, also writes
 * g[k * params + p] = scale * d log p / d theta (scale -1/n gives the gradient
 * of a mean NLL). Bernoulli, Gaussian and categorical run in float with
 * core/vmath.h's exp and log (relative accuracy near 1e-7; the sum over
 * dimensions in double), the mixture of Gaussians in double. avx2 selects the
 * AVX2 build (the model's kernel path); both give the same bits. gbuf holds
 * params doubles (the mixture's per-dimension gradient). */
double made__dist_example(made_dist d, const float *theta, const float *x, int e, float *g,
                          float scale, double *gbuf, int avx2);
/* Draws x ~ p(. | theta) from u, a stream of uniforms the sampler owns. */
float made__dist_sample(made_dist d, const float *theta, made__rng *rng);

#endif
