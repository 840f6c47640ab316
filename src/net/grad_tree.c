/* grad_tree.c - the weight-gradient block tree (grad_tree.h). Its additions
 * are plain float additions, the same code for either kernel path. */
#include <string.h>

#include "net/grad_tree.h"

/* Largest power of two strictly below n (n >= 2). */
static int split_point(int n)
{
    int p = 1;
    while (2 * p < n) p *= 2;
    return p;
}

void made__grad_tree_tile(const made__kernel *kern, int n, int lo, int hi, const float *A,
                          ptrdiff_t rsa, ptrdiff_t csa, const float *B, ptrdiff_t ldb,
                          float C[MADE_MR * MADE_NR], int mr, int nr)
{
    if (hi - lo == 1) {
        int p0 = lo * MADE_GRAD_BLOCK, p1 = p0 + MADE_GRAD_BLOCK < n ? p0 + MADE_GRAD_BLOCK : n;
        kern->tile(p1 - p0, A + p0 * csa, rsa, csa, B + p0 * ldb, ldb, C, MADE_NR, mr, nr, NULL, 0);
        return;
    }
    const int mid = lo + split_point(hi - lo);
    /* Whole rows of MADE_NR, so the additions vectorise; with nr < MADE_NR
     * the entries past nr are zeros (set here) that nobody reads. */
    float right[MADE_MR * MADE_NR];
    if (nr < MADE_NR) memset(right, 0, sizeof right);
    made__grad_tree_tile(kern, n, lo, mid, A, rsa, csa, B, ldb, C, mr, nr);
    made__grad_tree_tile(kern, n, mid, hi, A, rsa, csa, B, ldb, right, mr, nr);
    for (int t = 0; t < mr * MADE_NR; t++) C[t] += right[t];
}
