/* grad_tree.h - the fixed block tree that sums a minibatch's gradient over
 * its rows, the same on every kernel path and for any split among threads or
 * processes (docs/design.md, "Threads and determinism").
 *
 * Rows of a minibatch form blocks of MADE_GRAD_BLOCK; the gradient of blocks
 * [lo, hi) is
 *     g(lo, hi) = g(lo, mid) + g(mid, hi),  mid = lo + the largest power of two < hi - lo,
 * and g of one block is its fused multiply-add chain over the block's rows in
 * ascending order, from 0. The kernels' gtile (net/kernel.h) evaluates it for
 * one tile of gradient entries. The shape below a node depends only on its
 * number of blocks, so the node [lo, hi) computed from its own rows alone has
 * the bits it has inside the whole tree. */
#ifndef MADE_NET_GRAD_TREE_H
#define MADE_NET_GRAD_TREE_H

#define MADE_GRAD_BLOCK 32
/* Number of gradient blocks of n rows. */
static inline int made__grad_blocks(int n) { return (n + MADE_GRAD_BLOCK - 1) / MADE_GRAD_BLOCK; }

#endif
