/*
 * kernel.h - made's own micro-kernels, and the choice between their two paths.
 *
 * Every product in made (the staircase forward, input-gradient and
 * weight-gradient products, and the sampler's per-unit sums) is built from two
 * primitives. Both define each output value as ONE chain of fused
 * multiply-adds, in float, over k in ascending order:
 *
 *     acc = init;  for k = 0 .. K-1:  acc = fmaf(a_k, b_k, acc)
 *
 * The AVX2+FMA path (kernel_avx2.c) computes many chains at once in vector
 * lanes; the portable path (kernel_portable.c) computes them one by one with
 * fmaf. Each chain is the same sequence of correctly rounded operations on
 * both, so results are bit-identical across paths, thread counts, -O0/-O2 and
 * x86-64 machines. How the products are tiled never changes a chain: a chain
 * cut in two (k blocking) continues exactly through a store and a load of C.
 */
#ifndef MADE_NET_KERNEL_H
#define MADE_NET_KERNEL_H

#include <stddef.h>

/* Tile size of the micro-kernel: MADE_MR rows by MADE_NR columns. */
#define MADE_MR 6
#define MADE_NR 16

/* The tile product. For i < mr (<= MADE_MR) and j < nr (<= MADE_NR):
 *   acc = load_c ? C[i*ldc + j] : (bias ? bias[j] : 0)
 *   acc = fmaf(A[i*rsa + k*csa], B[k*ldb + j], acc)   for k = 0 .. K-1
 *   C[i*ldc + j] = acc
 * A is read with any strides (rsa = 0, csa = 0 makes it a constant); only the
 * mr x nr entries of C are written. */
typedef void made__tile_fn(int K, const float *A, ptrdiff_t rsa, ptrdiff_t csa, const float *B,
                           ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mr, int nr,
                           const float *bias, int load_c);

/* The tile product on packed operands (the BLIS way): A is a micro-panel
 * of MADE_MR rows stored k by k, A[k*MADE_MR + i], and B a panel of MADE_NR
 * columns, B[k*MADE_NR + j]. Columns j < 8 run K steps of k, columns j >= 8
 * K2 >= K steps (a panel's right half reads further down the staircase than
 * its left half). Every chain is the tile's:
 *   acc = load_c ? C[i*ldc + j] : (bias ? bias[j] : 0)
 *   acc = fmaf(A[k*MADE_MR + i], B[k*MADE_NR + j], acc)   for k < (j < 8 ? K : K2)
 *   C[i*ldc + j] = acc                                    for i < mr, j < nr
 * and, when relu is not NULL, the ReLU of the result beside it (the
 * activation fused into the chain's last pass):
 *   relu[i*ldc + j] = acc > 0 ? acc : 0
 * relu may be C itself: then only the ReLU is stored (C's result replaced).
 * All MADE_MR rows of A and MADE_NR columns of B up to k < K2 may be read
 * whatever mr and nr (pad them; values there reach only lanes that are not
 * stored), so the k loop reads two streams with fixed steps. */
typedef void made__ptile_fn(int K, int K2, const float *A, const float *B, float *C,
                            ptrdiff_t ldc, int mr, int nr, const float *bias, int load_c,
                            float *relu);

/* The same tile with A read in place, row i at A + i*lda (lda >= K2):
 *   acc = fmaf(A[i*lda + k], B[k*MADE_NR + j], acc)      for k < (j < 8 ? K : K2)
 * and everything else as ptile. Only rows i < mr of A are read. For a left
 * operand whose rows are short (a layer of at most a few hundred inputs),
 * packing costs more than it saves. */
typedef void made__rtile_fn(int K, int K2, const float *A, ptrdiff_t lda, const float *B,
                            float *C, ptrdiff_t ldc, int mr, int nr, const float *bias,
                            int load_c, float *relu);

/* Packs a micro-panel of the ptile's A operand: ap[k*MADE_MR + i] =
 * rows[i][k] for k < K and i < MADE_MR. A copy, so any implementation gives
 * the same bits. */
typedef void made__pack_fn(int K, const float *const *rows, float *ap);

/* The sampler's unit sum, over n rows at once (rows are contiguous):
 *   acc = load ? out[i] : b
 *   acc = fmaf(X[k*ldx + i], w[k*ldw], acc)   for k = 0 .. K-1
 *   out[i] = acc                              for i < n */
typedef void made__unit_fn(int K, const float *X, ptrdiff_t ldx, const float *w, ptrdiff_t ldw,
                           float *out, int n, float b, int load);

/* dst[j*ldd + r] = src[r*lds + j] for r < rows, j < cols: a copy, so any
 * implementation gives the same bits. */
typedef void made__transpose_fn(int rows, int cols, const float *src, ptrdiff_t lds, float *dst,
                                ptrdiff_t ldd);

/* The weight-gradient tile: a sum over n rows of a minibatch by the fixed
 * block tree of grad_tree.h, on packed operands. Row p of the batch holds
 * a_pi = A[p*ars + i] (i < MADE_MR; ars = MADE_MR for a packed tile of six
 * inputs), or a_pi = A[0] for every p and i when ars = 0 (one constant: the
 * bias gradient's 1, for which every row of the tile is the same and the
 * avx2 path computes one), and B[p*MADE_NR + j] (j < MADE_NR). For every
 * i, j of the whole tile:
 *   g(block q) = 0, then acc = fmaf(a_pi, B[p*MADE_NR + j], acc)
 *                over the rows p of block q in ascending order,
 *   C[i*ldc + j] = g(0, nb) by the tree, nb = made__grad_blocks(n),
 * stored for i < mr, j < nr only. The whole tile is computed: pad the packed
 * operands (values there reach only entries that are not stored). n >= 1. */
typedef void made__gtile_fn(int n, const float *A, ptrdiff_t ars, const float *B, float *C,
                            ptrdiff_t ldc, int mr, int nr);

typedef struct made__kernel {
    const char *name; /* "portable" or "avx2" */
    made__tile_fn *tile;
    made__ptile_fn *ptile;
    made__rtile_fn *rtile;
    made__pack_fn *pack;
    made__unit_fn *unit;
    made__transpose_fn *transpose;
    made__gtile_fn *gtile;
} made__kernel;

extern const made__kernel made__kernel_portable;
/* Defined only on x86-64 builds with GCC or clang; check made__kernel_avx2_ok. */
extern const made__kernel made__kernel_avx2;
/* 1 when this CPU (and build) can run the AVX2+FMA path. */
int made__kernel_avx2_ok(void);

#endif
