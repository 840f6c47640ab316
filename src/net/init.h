/* init.h - Keras initializers with Keras' fan rules. */
#ifndef MADE_INIT_H
#define MADE_INIT_H

#include <stddef.h>

#include "core/rng.h"
#include "made.h"

/* Fills w[count] from init. Fans follow Keras' _compute_fans on the full shape:
 * a kernel [in, out] has fan_in = in, fan_out = out (masked entries count); a
 * bias [out] has fan_in = fan_out = out. */
void made__init_fill(float *w, size_t count, size_t fan_in, size_t fan_out,
                     const made_initializer *init, made__rng *rng);

#endif
