/*
 * rng.h - the library's random number generators. Nothing here is global:
 * every generator is a value the caller owns and seeds.
 *
 * made__mt: MT19937 exactly as numpy's legacy RandomState (np.random.seed(s),
 *   shuffle, randint), so 'random' orders and degrees equal TFP's after
 *   np.random.seed(s) (spec section 2.2).
 * made__rng: xoshiro256** seeded through splitmix64 from (seed, stream), for
 *   initializers and sampling; independent streams are cheap, which keeps
 *   results independent of the thread count.
 */
#ifndef MADE_RNG_H
#define MADE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct made__mt {
    uint32_t state[624];
    int index;
} made__mt;

void made__mt_seed(made__mt *mt, uint32_t seed);
uint32_t made__mt_next(made__mt *mt);
/* Uniform integer in [0, r] by numpy's legacy masked rejection. */
uint32_t made__mt_bounded(made__mt *mt, uint32_t r);
/* numpy's RandomState.shuffle on ints. */
void made__mt_shuffle(made__mt *mt, int *a, int n);
/* numpy's RandomState.randint(low, high, size=n): n draws in [low, high). */
void made__mt_randint(made__mt *mt, int low, int high, int *out, int n);

typedef struct made__rng {
    uint64_t s[4];
} made__rng;

void made__rng_seed(made__rng *r, uint64_t seed, uint64_t stream);
uint64_t made__rng_next(made__rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double made__rng_uniform(made__rng *r);
/* Uniform in (0, 1): never 0, so log() of it is finite. */
double made__rng_uniform_pos(made__rng *r);
/* Standard normal (Marsaglia polar method). */
double made__rng_normal(made__rng *r);

#endif
