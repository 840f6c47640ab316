/* activation.h - Keras activations, forward and backward side by side. */
#ifndef MADE_ACTIVATION_H
#define MADE_ACTIVATION_H

#include <stddef.h>

#include "made.h"

/* h[i] = f(a[i]) for i < n. */
void made__act_forward(made_activation act, float *h, const float *a, size_t n);
/* da[i] = dh[i] * f'(a[i]); h[i] = f(a[i]) is passed in because several
 * derivatives are cheapest from it. da may be dh (in place); no other
 * overlap. */
void made__act_backward(made_activation act, float *da, const float *dh, const float *a,
                        const float *h, size_t n);

#endif
