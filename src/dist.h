/*
 * dist.h - output distributions over the network's [N, E, params] output.
 * Each works on one event dimension at a time: theta points at its params
 * values (internal layout keeps them contiguous), x is the observed value.
 * Arithmetic is in double; log-sum-exp and softplus keep extreme logits and
 * scales finite.
 */
#ifndef MADE_DIST_H
#define MADE_DIST_H

#include "made.h"
#include "rng.h"

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
/* Draws x ~ p(. | theta) from u, a stream of uniforms the sampler owns. */
float made__dist_sample(made_dist d, const float *theta, made__rng *rng);

#endif
