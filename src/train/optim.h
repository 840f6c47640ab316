/* optim.h - the optimisers' element-wise updates (optim.c). */
#ifndef MADE_OPTIM_H
#define MADE_OPTIM_H

#include <stddef.h>

/* The constants of one optimiser step, in float as the update uses them. */
typedef struct made__step_consts {
    float b1, b2, a, eps, decay, inv_sqrt_bc2; /* Adam: a = lr / (1 - b1^t) */
    float mu, wd, rate;                        /* SGD with momentum */
} made__step_consts;

/* Shapes: p, g, m1, m2 are [n] (one unmasked run of the flat parameter
 * block). AdamW: m1 = b1 m1 + (1 - b1) g, m2 = b2 m2 + (1 - b2) g g,
 * p -= decay p + a m1 / (sqrt(m2) / sqrt(1 - b2^t) + eps). avx2 selects the
 * AVX2 build of the same loop (only when made__kernel_avx2_ok()); both give
 * the same bits. */
void made__adam_range(const made__step_consts *u, float *p, const float *g, float *m1, float *m2,
                      size_t n, int avx2);
/* SGD with momentum, weight decay through the gradient: gi = g + wd p,
 * m1 = mu m1 + gi, p -= rate m1. */
void made__sgd_range(const made__step_consts *u, float *p, const float *g, float *m1, size_t n,
                     int avx2);

#endif
