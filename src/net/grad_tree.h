/* grad_tree.h - the fixed block tree that sums a minibatch's gradient over
 * its rows, the same on every kernel path and for any split among threads or
 * processes (docs/design.md, "Threads and determinism"). */
#ifndef MADE_NET_GRAD_TREE_H
#define MADE_NET_GRAD_TREE_H

#include <stddef.h>

#include "net/kernel.h"

/*
 * Rows of a minibatch form blocks of MADE_GRAD_BLOCK; the gradient of blocks
 * [lo, hi) is
 *     g(lo, hi) = g(lo, mid) + g(mid, hi),  mid = lo + the largest power of two < hi - lo,
 * and g of one block is its tile-product chain over the block's rows in
 * ascending order, from 0. made__grad_tree_tile evaluates that for one tile:
 *     C[i*MADE_NR + j] = g(lo, hi)[i][j],
 *     g of block q = chain over rows p of q of A[i*rsa + p*csa] * B[p*ldb + j]
 * where row p runs over [q*MADE_GRAD_BLOCK, min(n, (q+1)*MADE_GRAD_BLOCK)),
 * A and B pointing at row 0. The entries of C past nr in each row must be
 * finite (zeros, say): they are added to and never read. */
#define MADE_GRAD_BLOCK 32
void made__grad_tree_tile(const made__kernel *kern, int n, int lo, int hi, const float *A,
                          ptrdiff_t rsa, ptrdiff_t csa, const float *B, ptrdiff_t ldb,
                          float C[MADE_MR * MADE_NR], int mr, int nr);
/* Number of gradient blocks of n rows. */
static inline int made__grad_blocks(int n) { return (n + MADE_GRAD_BLOCK - 1) / MADE_GRAD_BLOCK; }

#endif
