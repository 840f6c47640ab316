/*
 * dense.h - one masked dense layer in made's internal layout.
 *
 * Inside a model, the units of every layer are sorted by degree (stably, so
 * 'equal' layers keep TFP's order). Then each masked kernel is a staircase: the
 * non-zero rows of column c are a prefix [0, kend[c]) of the rows, and kend is
 * non-decreasing. The kernels below compute only those prefixes, panel by panel
 * (MADE_PANEL columns at a time), through single-threaded sgemm calls; panels
 * are shared among OpenMP threads, each panel computed whole by one thread in
 * the same way whatever the thread count, so results do not depend on it. Masked entries of W are zero, so including the
 * few masked entries inside a panel's rectangle adds exact zeros.
 */
#ifndef MADE_DENSE_H
#define MADE_DENSE_H

#include <stddef.h>
#include <stdint.h>

#include "made.h"

#define MADE_PANEL 64

typedef struct made__dense {
    int in, out; /* kernel W is [in, out], row-major */
    int cond;    /* C when the layer has a conditional kernel V [C, out], else 0 */
    float *W, *b, *V;    /* parameters (b NULL without bias, V NULL without cond) */
    float *gW, *gb, *gV; /* gradients, same layout */
    int *kend;           /* [out]: rows that may be non-zero in each column */
    int *rstart;         /* [in / MADE_PANEL + 1]: first column reading each row panel */
} made__dense;

/* a[n, out] = x[n, in] @ W + c[n, C] @ V + b  (c ignored when cond = 0), and
 * h = act(a) when h is not NULL. The panel loop is an orphaned OpenMP
 * worksharing loop: call it inside a parallel region that started with
 * made__blas_single_threaded() (or outside any region, serially). */
void made__dense_forward_panels(const made__dense *L, float *restrict a, float *restrict h,
                                made_activation act, const float *restrict x,
                                const float *restrict c, int n);
/* The same as a whole call, with its own parallel region of `threads` (the
 * network calls the _panels form inside its own region; the tests call this). */
void made__dense_forward(const made__dense *L, float *restrict a, const float *restrict x,
                         const float *restrict c, int n, int threads);
/* Given da[n, out] = dLoss/da:
 *   gW += x^T da (only inside the staircase), gb += sum_n da, gV += c^T da,
 *   dx[n, in] = da @ W^T  (skipped when dx is NULL), then, when h_in is not
 *   NULL, dx *= act'(a_in) (the previous layer's activation, h_in = act(a_in)).
 * The panels also add into a few gW entries outside the staircase;
 * made__dense_clean_grad re-zeroes them and must run before gW is used.
 * Worksharing loops as in made__dense_forward_panels. */
void made__dense_backward_panels(made__dense *L, float *restrict dx, const float *restrict da,
                                 const float *restrict x, const float *restrict c, int n,
                                 made_activation act, const float *a_in, const float *h_in);
/* The same as a whole call, with its own parallel region of `threads`. */
void made__dense_backward(made__dense *L, float *restrict dx, const float *restrict da,
                          const float *restrict x, const float *restrict c, int n, int threads);
/* Re-zeroes the gradient entries the panels touched outside the staircase. */
void made__dense_clean_grad(made__dense *L);

/* Called first inside every parallel region that calls BLAS: makes OpenBLAS
 * run single-threaded there (see dense.c). */
void made__blas_single_threaded(void);

/* Reference kernels: plain loops over the full kernel with an explicit 0/1 mask
 * [in, out] (NULL = all ones), in double accumulation. Tests check the fast
 * kernels against these. */
void made__dense_forward_ref(const made__dense *L, const uint8_t *mask, float *a,
                             const float *x, const float *c, int n);
void made__dense_backward_ref(made__dense *L, const uint8_t *mask, float *dx, const float *da,
                              const float *x, const float *c, int n);

/* Computes kend and rstart from a mask in internal layout. Returns 0 if the mask
 * is a staircase (each column a prefix), -1 if not. */
int made__dense_staircase(made__dense *L, const uint8_t *mask);

#endif
