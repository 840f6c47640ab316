/*
 * dense.h - one masked dense layer in made's internal layout.
 *
 * Inside a model, the units of every layer are sorted by degree (stably, so
 * 'equal' layers keep TFP's order). Then each masked kernel is a staircase: the
 * non-zero rows of column c are a prefix [0, kend[c]) of the rows, and kend is
 * non-decreasing. The products below run made's own micro-kernels
 * (net/kernel.h) over panels of MADE_PANEL columns; each half of a panel (8
 * columns) reads the rows up to the largest kend in it (masked entries of W
 * are zero, so the few inside its rectangle add exact zeros; the input
 * gradient reads whole panels), and every output value is one chain of
 * fused multiply-adds in ascending k, whatever the tiling, the thread or the
 * kernel path.
 */
#ifndef MADE_DENSE_H
#define MADE_DENSE_H

#include <stddef.h>
#include <stdint.h>

#include "made.h"
#include "net/kernel.h"

#define MADE_PANEL MADE_NR
/* Rows of the left operand the products take at a time (packed together,
 * then read by every column panel). */
#define MADE_ROW_BLOCK 48

/* The end of the row block from m0 of rows [m0, i1): MADE_ROW_BLOCK rows, or
 * all the rest when fewer than a micro-panel more would be left (so a
 * thread's 50 rows are one block, not 48 + 2 with a second pass over every
 * panel). */
static inline size_t made__row_block_end(size_t m0, size_t i1)
{
    return i1 - m0 < MADE_ROW_BLOCK + MADE_MR ? i1 : m0 + MADE_ROW_BLOCK;
}

typedef struct made__dense {
    int in, out; /* kernel W is [in, out], row-major */
    int cond;    /* C when the layer has a conditional kernel V [C, out], else 0 */
    float *W, *b, *V;    /* parameters (b NULL without bias, V NULL without cond) */
    float *gW, *gb, *gV; /* gradients, same layout */
    /* Packed copies of W that the micro-kernels stream (64-byte aligned, one
     * cache line per row of 16 floats; entries outside the staircase stay 0):
     *   Wp:  column panel p at Wp + p*in*MADE_PANEL, rows k < made__panel_rows,
     *        for the forward product (made__dense_pack_panel);
     *   WTp: W^T by row panel, p at WTp + p*out*MADE_PANEL, rows j from
     *        rstart[p] on, for the input gradient (made__dense_pack_tpanel). */
    float *Wp, *WTp;
    void *Wp_mem, *WTp_mem; /* their allocations */
    int *kend;           /* [out]: rows that may be non-zero in each column */
    int *rstart;         /* [in / MADE_PANEL + 1]: first column reading each row panel */
} made__dense;

/* Rows every column of column c's panel reads (the largest kend in it): the
 * rows of the panel that Wp holds. */
static inline int made__panel_rows(const made__dense *L, int c)
{
    int last = (c / MADE_PANEL + 1) * MADE_PANEL;
    return L->kend[(last < L->out ? last : L->out) - 1];
}

/* Rows every column of column c's half panel (8 columns, one vector of the
 * tile) reads: the chain length of column c in the forward product. A
 * panel's left half stops there, its right half runs on (kernel.h's K and
 * K2), so the work is within a half panel's step of the staircase. */
static inline int made__half_rows(const made__dense *L, int c)
{
    int last = (c / (MADE_PANEL / 2) + 1) * (MADE_PANEL / 2);
    return L->kend[(last < L->out ? last : L->out) - 1];
}

/* Allocates Wp and WTp (zeroed); made__dense_free_packed frees them. */
int made__dense_alloc_packed(made__dense *L);
void made__dense_free_packed(made__dense *L);
/* Copies W's column panel p into Wp / row panel p into WTp. */
void made__dense_pack_panel(const made__kernel *kern, made__dense *L, int p);
void made__dense_pack_tpanel(const made__kernel *kern, made__dense *L, int p);
/* Copies rows g*MADE_PANEL ... (a row panel) of W into every column panel of
 * Wp that reads them: the same copies as made__dense_pack_panel, made reading
 * W along its rows (one pass over W serves Wp and, with pack_tpanel, WTp). */
void made__dense_pack_rows(made__dense *L, int g);
static inline int made__dense_panels(int width) { return (width + MADE_PANEL - 1) / MADE_PANEL; }

/* Rows [i0, i1) of a[n, out] = x[n, in] @ W + b (+ c[n, C] @ V when cond), and
 * h = act(a) when h is not NULL, from Wp (pack it first). Each a[i][j] is
 * the chain b[j], then x[i][k] W[k][j] for k < made__half_rows(L, j), then
 * c[i][q] V[q][j]. a may be NULL when h is not: the pre-activations are then
 * not kept (h holds the sums until act replaces them), which saves writing
 * them where only h is read on. When xp is not NULL, the rows of x (and c)
 * are also packed into xp for the parameter gradient (the tiles of
 * made__dense_grad_tiles, tile stride ts), each block of rows right after
 * its products, while it is in cache. */
void made__dense_forward_rows(const made__kernel *kern, const made__dense *L, float *a, float *h,
                              made_activation act, const float *x, const float *c, int i0, int i1,
                              float *xp, size_t ts);

/* Rows [i0, i1) of the input gradient dx[n, in] = da[n, out] @ W^T, read from
 * WT (pack it first), then, when h_in is not NULL, dx *= act'(a_in) (the
 * previous layer's activation, h_in = act(a_in)). Each dx[i][r] is the chain
 * over the columns j >= rstart[r / MADE_PANEL] in ascending order. When dxp
 * is not NULL, the rows of dx are also packed into its panels for the
 * previous layer's parameter gradient (made__dense_pack_grad_panels, panel
 * stride ps), each block of rows right after its products, while in cache. */
void made__dense_input_grad_rows(const made__kernel *kern, const made__dense *L, float *dx,
                                 const float *da, int i0, int i1, made_activation act,
                                 const float *a_in, const float *h_in, float *dxp, size_t ps);


/* Parameter gradients. The inputs of the gradient (x, then c when cond) are
 * packed once per step into tiles of MADE_MR inputs, row by row: tile t holds
 * [n][MADE_MR] floats at xp + t*ts (zeros past the last input), the A operand
 * of the kernels' gtile. Tiles 0 .. ceil(in/MADE_MR)-1 are x's, then c's. */
static inline int made__dense_x_tiles(const made__dense *L)
{
    return (L->in + MADE_MR - 1) / MADE_MR;
}
static inline int made__dense_grad_tiles(const made__dense *L)
{
    return made__dense_x_tiles(L) + (L->cond + MADE_MR - 1) / MADE_MR;
}
/* The output gradient da [n, width] of the same rows is packed by column
 * panels: panel p holds [n][MADE_PANEL] floats at dap + p*ps (zeros past
 * width), the B operand of gtile. Packs rows [i0, i1) into every panel,
 * reading da along its rows. */
void made__dense_pack_grad_panels(float *dap, size_t ps, const float *da, int width, int i0,
                                  int i1);
/* Parameter gradients of column panel p (columns p*MADE_PANEL ...) over n
 * rows, by the block tree (grad_tree.h): gW = x^T da inside the staircase and
 * exactly 0 outside it, gb = sum over rows of da, gV = c^T da. xp holds the
 * packed inputs (tile stride ts), dap the packed panel p of da (64-byte
 * aligned is best). The panel's entries are written, not added to. */
void made__dense_weight_grad_panel(const made__kernel *kern, made__dense *L, int p,
                                   const float *xp, size_t ts, const float *dap, int n);
/* The whole layer's parameter gradients from x, c and da of n rows, serial
 * (allocates its packing scratch): for tests and one-off callers. */
int made__dense_weight_grads(const made__kernel *kern, made__dense *L, const float *x,
                             const float *c, const float *da, int n);

/* Whole-layer calls for tests, serial: the forward product of n rows, and the
 * backward pass (all parameter gradients, and dx when not NULL); both pack
 * what they read first. The backward pass returns MADE_E_NOMEM when its
 * scratch cannot be allocated. */
void made__dense_forward(const made__kernel *kern, made__dense *L, float *a, const float *x,
                         const float *c, int n);
int made__dense_backward(const made__kernel *kern, made__dense *L, float *dx, const float *da,
                         const float *x, const float *c, int n);

/* Reference kernels: plain loops over the full kernel with an explicit 0/1 mask
 * [in, out] (NULL = all ones), in double accumulation. Tests check the fast
 * kernels against these. The reference backward writes (does not add) the
 * parameter gradients, masked entries 0. */
void made__dense_forward_ref(const made__dense *L, const uint8_t *mask, float *a,
                             const float *x, const float *c, int n);
void made__dense_backward_ref(made__dense *L, const uint8_t *mask, float *dx, const float *da,
                              const float *x, const float *c, int n);

/* Computes kend and rstart from a mask in internal layout. Returns 0 if the mask
 * is a staircase (each column a prefix), -1 if not. */
int made__dense_staircase(made__dense *L, const uint8_t *mask);

#endif
