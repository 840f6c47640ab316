/*
 * net/network.h - the whole network, forward and backward, block by block
 * (network.c), on a model's internal layout (model.h).
 */
#ifndef MADE_NETWORK_H
#define MADE_NETWORK_H

#include "net/grad_tree.h"
#include "net/model.h"

/* Scratch for a training step of up to cap rows (the trainer's; made__work_reserve
 * grows it). d[l] = dLoss/d(pre-activation of layer l). */
typedef struct made__work {
    int cap, threads;
    float *xs;                         /* [cap, E] inputs in internal order */
    float *pre[MADE_MAX_HIDDEN + 1];   /* [cap, width[l+1]] */
    float *post[MADE_MAX_HIDDEN + 1];  /* [cap, width[l+1]] hidden layers, non-linear activation */
    float *d[MADE_MAX_HIDDEN + 1];     /* [cap, width[l+1]] */
    double *lp;                        /* [cap] log-probability of each row */
    double *gbuf;                      /* [threads, params] per-thread loss scratch */
    /* The parameter gradient's packed operands (dense.h): each layer's inputs
     * by tiles of MADE_MR (tile t of layer l at gx[l] + t * cap * MADE_MR),
     * and each layer's d by column panels (panel p of layer l at gd[l] + p *
     * cap * MADE_PANEL, 64-byte aligned; gd_mem is their one allocation). */
    float *gx[MADE_MAX_HIDDEN + 1];
    float *gd[MADE_MAX_HIDDEN + 1];
    void *gd_mem;
} made__work;

/* Call before every pass: when the weights changed since the last call, packs
 * W for the forward product (Wp) and, with several mask sets, first rebuilds
 * eff[l].W = W * current mask. */
void made__refresh_effective(made_model *m);
/* Only the masked view (several mask sets; no-op with one). */
void made__refresh_masked_view(made_model *m);
/* Inference (no backward pass follows) over n rows, in one parallel region
 * with no barrier: each thread takes an equal share of the rows, a row block
 * (dense.h) at a time through all layers, so that a block's activations stay
 * in cache from one layer to the next, in its own slice of the model's
 * scratch (MADE_CHUNK rows / threads), so threads never wait for each other.
 * For each piece, rows i0 .. i0+len-1: out [len, width[nl]] holds the
 * outputs (internal order; written into y + i0 * width[nl] when y is not
 * NULL) and xs [len, E] the inputs in internal order; then fn(arg, out, xs,
 * i0, len) runs in the piece's thread when fn is not NULL. Every value is
 * the same whichever thread computes it. */
typedef void made__piece_fn(void *arg, const float *out, const float *xs, size_t i0, int len);
void made__infer(made_model *m, const float *x, const float *c, size_t n, float *y,
                 made__piece_fn *fn, void *arg);
/* With several mask sets: zeroes the gradient entries the current set masks
 * (the masked view computes them densely). No-op with one mask set. */
void made__grads_finish(made_model *m);

/* Threads worth using for n rows of `passes` forward passes' work (at most
 * m->threads): small problems use fewer. Results never depend on it. */
int made__threads_for(const made_model *m, size_t n, double passes);
/* Rows [*i0, *i1) of n for thread t of T (equal shares). */
void made__row_range(int n, int t, int T, int *i0, int *i1);

/* ---- A training step, in pieces a data-parallel layer can reuse ----------
 * Within one OpenMP parallel region (or serially, outside any), as
 * train/train.c's train_step does:
 *   1. made__net_pack (worksharing loop, ends in a barrier): the packed
 *      copies of W (forward) and W^T (input gradients);
 *   2. each thread, on its own rows: made__work_forward_rows and the loss
 *      (made__work_loss_rows, train/trainer.h), then made__work_backward_rows
 *      (a thread's rows only: no barrier in between); barrier;
 *   3. made__net_weight_grads (worksharing loop) over gradient blocks [lo, hi)
 *      of the rows: the parameter gradients, written, by the block tree of
 *      net/kernel.h. Blocks [0, made__grad_blocks(n)) give the minibatch's
 *      gradient; a process holding the rows of a subtree [lo, hi) of that
 *      tree gets that node, and adding nodes up the same tree gives the same
 *      bits as one process (docs/design.md, "Threads and determinism"). */
void made__net_pack(made_model *m);
int made__work_reserve(made__work *w, const made_model *m, int rows, int threads);
void made__work_free(made__work *w);
/* Gathers rows [i0, i1) of x (external order) into w->xs and runs the forward
 * pass on them, packing each layer's inputs for its parameter gradient
 * (w->gx) on the way. */
void made__work_forward_rows(made_model *m, made__work *w, const float *x, const float *c, int i0,
                             int i1);
/* Backward from d[nl-1] to d[0] for rows [i0, i1) (needs made__net_pack
 * done). With pack, each layer's rows of d are also packed by panels for its
 * parameter gradient (w->gd), block by block while they are in cache. */
void made__work_backward_rows(made_model *m, made__work *w, int i0, int i1, int pack);
/* Parameter gradients of the n rows held in w, which are the gradient blocks
 * [lo, hi) of a minibatch (hi - lo = made__grad_blocks(n); row 0 is the first
 * row of block lo): the tree's node g(lo, hi), whose bits depend only on these
 * rows, from the inputs made__work_forward_rows packed and the d that
 * made__work_backward_rows packed. One worksharing loop (it ends in a
 * barrier) over (layer, panel). */
void made__net_weight_grads(made_model *m, const made__work *w, int n, int lo, int hi);

/* A whole batch's forward and backward passes for networks chained in a flow,
 * which need dLoss/d(input) too. w is reserved for n rows.
 *
 * made__net_forward_kept runs x[n, E] (external order) and c[n, C] through the
 * network in one parallel region, keeping every layer's activations in w for
 * the backward pass (outputs in w->pre[nl - 1], internal layout). It packs W
 * and W^T first when they are stale and leaves them marked packed.
 *
 * made__net_check_kept: with validate_args, what made_model_forward checks
 * (x, c and the outputs finite, the same messages); otherwise nothing.
 *
 * made__net_backward_dx: the caller sets w->d[nl - 1] = dLoss/d(output)
 * (internal layout, [n, width[nl]]) on the activations made__net_forward_kept
 * left in w (with the same weights). In one parallel region it
 * backpropagates, writes the parameter gradients of the n rows into m->grads
 * (blocks [0, made__grad_blocks(n)) of the block tree) and, when dxs is not
 * NULL, dLoss/d(input) into dxs[n, E] (internal order). */
void made__net_forward_kept(made_model *m, made__work *w, const float *x, const float *c, int n);
int made__net_check_kept(const made_model *m, const made__work *w, const float *x, const float *c,
                         int n);
void made__net_backward_dx(made_model *m, made__work *w, int n, float *dxs);
#endif
