/*
 * net/network.h - the whole network, forward and backward, block by block
 * (network.c), on a model's internal layout (model.h).
 */
#ifndef MADE_NETWORK_H
#define MADE_NETWORK_H

#include "net/model.h"

/* With several mask sets: refreshes eff[l].W = W * current mask; call before
 * every pass after the parameters changed. No-op with one mask set. */
void made__refresh_effective(made_model *m);
/* Gathers x[n, E] (external) into m->xs (internal order). */
void made__gather_inputs(const made_model *m, const float *x, int n);
/* Runs the network on m->xs (n <= MADE_CHUNK rows) and conditional c[n, C];
 * leaves outputs in m->pre[nl - 1] (internal layout). */
void made__net_forward(made_model *m, const float *c, int n);
/* Backpropagates d = dLoss/d(output) (internal layout, [n, E*P]) through the
 * network run by the last made__net_forward, adding into m->grads. */
void made__net_backward(made_model *m, const float *dout, const float *c, int n);
/* Finishes a gradient accumulated by made__net_backward calls: zeroes every
 * masked entry exactly. */
void made__grads_finish(made_model *m);
#endif
