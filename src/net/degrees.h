/*
 * degrees.h - input orders, hidden degrees and masks exactly as TFP's
 * AutoregressiveNetwork builds them (spec sections 2.1-2.3).
 */
#ifndef MADE_DEGREES_H
#define MADE_DEGREES_H

#include <stdint.h>

#include "core/rng.h"
#include "made.h"

/* A complete mask set: degrees of every layer, in TFP's (external) unit order.
 * deg[0] is the input order (length E); deg[l] for l = 1..n_hidden. */
typedef struct made__degrees {
    int n_hidden;
    int *deg[MADE_MAX_HIDDEN + 1];
} made__degrees;

/* Builds the order and hidden degrees for cfg using mt as numpy's global
 * RandomState would be consumed: the shuffle first (if 'random'), then one
 * randint per hidden layer (if 'random'). explicit_order is used when the kind is
 * EXPLICIT. cfg must have passed made_config_validate (which checked that order).
 * Allocates; free with made__degrees_free. */
int made__degrees_build(made__degrees *d, const made_config *cfg, made__mt *mt);
void made__degrees_free(made__degrees *d);

/* 'equal' degrees of one hidden layer (spec 2.2): deg_k = max(m, ceil(k(E-1)/(H+1))). */
void made__degrees_equal(int *deg, int h, int e, int prev_min);

/* Mask of dense layer l (0 = first, n_hidden = output) as 0/1 in TFP layout
 * [in, out]: deg_in <= deg_out into hidden layers, deg_in < order[i] into the
 * output, whose units are interleaved i*params + p. */
void made__mask_build(uint8_t *mask, const made__degrees *d, int l, int e, int params,
                      const int *hidden_units);

#endif
