/* test_dense.c - the staircase dense kernels (made's micro-kernels) against the
 * plain reference kernels on awkward shapes, exact zeros in masked gradients,
 * and bit-identical results for both kernel paths, any split of the rows, any
 * split of the gradient tree, and every thread count (kernels and whole model). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#define UTIL_GEN_SEED 0xde45e
#include "made.h"
#include "net/dense.h"
#include "net/grad_tree.h"
#include "threads.h"
#include "util.h"

/* ---- the test's own generator (splitmix64) --------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

static float *random_floats(size_t n)
{
    float *v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = gen_float();
    return v;
}

static float *copy_floats(const float *v, size_t n)
{
    float *c = xmalloc(n * sizeof *c);
    if (n) memcpy(c, v, n * sizeof *c);
    return c;
}

/* ---- kernel paths ---------------------------------------------------------- */

/* The paths this CPU runs: portable always, avx2 when available. */
static const made__kernel *paths[2];
static int n_paths;

static void find_paths(void)
{
    paths[0] = &made__kernel_portable;
    n_paths = 1;
    if (made__kernel_avx2_ok()) paths[n_paths++] = &made__kernel_avx2;
    else fprintf(stderr, "test_dense: this CPU has no AVX2+FMA: the avx2 path is skipped\n");
}

/* ---- a test layer ------------------------------------------------------ */

enum { MASK_RANDOM, MASK_COARSE, MASK_ZERO, MASK_FULL };

typedef struct {
    made__dense L;
    uint8_t *mask; /* [in, out] */
    int *want_kend;
} layer;

/* Sorted random degrees in [1, d]. */
static void sorted_degrees(int *deg, int n, int d)
{
    for (int i = 0; i < n; i++) deg[i] = gen_int(1, d);
    for (int i = 1; i < n; i++) /* insertion sort */
        for (int k = i; k > 0 && deg[k - 1] > deg[k]; k--) {
            int t = deg[k];
            deg[k] = deg[k - 1];
            deg[k - 1] = t;
        }
}

/* A layer whose mask comes from non-decreasing degrees (so it is a staircase),
 * with W, b, V random and masked W entries zero. */
static void layer_make(layer *t, int in, int out, int cond, int bias, int kind)
{
    memset(t, 0, sizeof *t);
    made__dense *L = &t->L;
    L->in = in;
    L->out = out;
    L->cond = cond;
    t->mask = xmalloc((size_t)in * out);
    t->want_kend = xmalloc((size_t)out * sizeof(int));
    int *din = xmalloc((size_t)in * sizeof(int)), *dout = xmalloc((size_t)out * sizeof(int));
    int d = kind == MASK_COARSE ? 3 : in + 1;
    sorted_degrees(din, in, d);
    sorted_degrees(dout, out, d);
    int strict = gen_int(0, 1);
    for (int r = 0; r < in; r++)
        for (int c = 0; c < out; c++) {
            int m = strict ? din[r] < dout[c] : din[r] <= dout[c];
            if (kind == MASK_ZERO) m = 0;
            if (kind == MASK_FULL) m = 1;
            t->mask[(size_t)r * out + c] = (uint8_t)m;
        }
    for (int c = 0; c < out; c++) {
        int k = 0;
        for (int r = 0; r < in; r++) k += t->mask[(size_t)r * out + c];
        t->want_kend[c] = k;
    }
    free(din);
    free(dout);
    L->W = random_floats((size_t)in * out);
    for (size_t i = 0; i < (size_t)in * out; i++)
        if (!t->mask[i]) L->W[i] = 0.0f;
    L->b = bias ? random_floats((size_t)out) : NULL;
    L->V = cond ? random_floats((size_t)cond * out) : NULL;
    /* Gradients start with values, so "adds into" is checked too; masked
     * entries of gW start at zero, as in a model. */
    L->gW = random_floats((size_t)in * out);
    for (size_t i = 0; i < (size_t)in * out; i++)
        if (!t->mask[i]) L->gW[i] = 0.0f;
    L->gb = bias ? random_floats((size_t)out) : NULL;
    L->gV = cond ? random_floats((size_t)cond * out) : NULL;
    if (made__dense_alloc_packed(L)) abort();
    L->kend = xmalloc((size_t)out * sizeof(int));
    L->rstart = xmalloc(((size_t)in / MADE_PANEL + 1) * sizeof(int));
}

static void layer_free(layer *t)
{
    made__dense *L = &t->L;
    free(L->W);
    free(L->b);
    free(L->V);
    free(L->gW);
    free(L->gb);
    free(L->gV);
    made__dense_free_packed(L);
    free(L->kend);
    free(L->rstart);
    free(t->mask);
    free(t->want_kend);
}

/* Gradient buffers of src copied into dst (which shares src's parameters). */
static void clone_grads(made__dense *dst, const made__dense *src)
{
    *dst = *src;
    dst->gW = copy_floats(src->gW, (size_t)src->in * src->out);
    dst->gb = src->gb ? copy_floats(src->gb, (size_t)src->out) : NULL;
    dst->gV = src->gV ? copy_floats(src->gV, (size_t)src->cond * src->out) : NULL;
}

static void free_grads(made__dense *d)
{
    free(d->gW);
    free(d->gb);
    free(d->gV);
}

/* Compares got to want entry by entry with tolerance rtol * scale[i] (+ a tiny
 * absolute floor). Returns 0 if all agree. */
static int compare(const char *what, const char *shape, const float *got, const float *want,
                   const double *scale, size_t n, double rtol)
{
    for (size_t i = 0; i < n; i++) {
        double tol = rtol * scale[i] + 1e-30;
        if (!(fabs((double)got[i] - (double)want[i]) <= tol)) {
            HARNESS_FAIL_("%s %s: entry %zu: %.9g vs reference %.9g (tol %.3g)", shape, what, i,
                          (double)got[i], (double)want[i], tol);
            return 1;
        }
    }
    return 0;
}

/* ---- staircase construction ---------------------------------------------- */

static void test_staircase_build(void)
{
    static const int sizes[] = {1, 2, 63, 64, 65, 127, 128, 129, 130, 257};
    const int ns = (int)(sizeof sizes / sizeof *sizes);
    gen_state = 1;
    for (int a = 0; a < ns; a++)
        for (int b = 0; b < ns; b++)
            for (int kind = 0; kind < 4; kind++) {
                layer t;
                layer_make(&t, sizes[a], sizes[b], 0, 0, kind);
                made__dense *L = &t.L;
                int rc = made__dense_staircase(L, t.mask);
                if (rc != 0) {
                    HARNESS_FAIL_("in %d out %d kind %d: staircase -> %d", L->in, L->out, kind, rc);
                    layer_free(&t);
                    return;
                }
                for (int c = 0; c < L->out; c++)
                    if (L->kend[c] != t.want_kend[c]) {
                        HARNESS_FAIL_("in %d out %d kind %d: kend[%d] = %d, want %d", L->in, L->out,
                                      kind, c, L->kend[c], t.want_kend[c]);
                        break;
                    }
                /* rstart[p]: first column that reads row panel p (kend > p*PANEL). */
                for (int p = 0; p <= (L->in - 1) / MADE_PANEL; p++) {
                    int want = 0;
                    while (want < L->out && t.want_kend[want] <= p * MADE_PANEL) want++;
                    if (L->rstart[p] != want) {
                        HARNESS_FAIL_("in %d out %d kind %d: rstart[%d] = %d, want %d", L->in,
                                      L->out, kind, p, L->rstart[p], want);
                        break;
                    }
                }
                layer_free(&t);
            }
}

static void test_staircase_reject(void)
{
    made__dense L;
    memset(&L, 0, sizeof L);
    int kend[3], rstart[1];
    L.kend = kend;
    L.rstart = rstart;
    L.in = 3;
    L.out = 3;
    /* A hole: column 1 has rows 0 and 2 but not 1. */
    const uint8_t hole[9] = {1, 1, 1, 1, 0, 1, 0, 1, 1};
    CHECK_EQ_INT(made__dense_staircase(&L, hole), -1);
    /* Prefixes, but decreasing: column 0 has 3 rows, column 1 has 1. */
    const uint8_t down[9] = {1, 1, 1, 1, 0, 1, 1, 0, 1};
    CHECK_EQ_INT(made__dense_staircase(&L, down), -1);
    /* Starts below row 0. */
    const uint8_t late[9] = {0, 0, 0, 1, 1, 1, 1, 1, 1};
    CHECK_EQ_INT(made__dense_staircase(&L, late), -1);
    /* A valid one: kend = [0, 2, 3], rstart[0] = 1. */
    const uint8_t ok[9] = {0, 1, 1, 0, 1, 1, 0, 0, 1};
    CHECK_EQ_INT(made__dense_staircase(&L, ok), 0);
    CHECK_EQ_INT(kend[0], 0);
    CHECK_EQ_INT(kend[1], 2);
    CHECK_EQ_INT(kend[2], 3);
    CHECK_EQ_INT(rstart[0], 1);
}

/* ---- fast vs reference ---------------------------------------------------- */

/* One case: forward and backward on each kernel path vs the reference; the
 * paths give the same bits, and so do the forward pass split into row ranges
 * and the gradient computed as two subtrees of the block tree then added. */
static void run_case(int in, int out, int n, int cond, int bias, int kind)
{
    char shape[96];
    snprintf(shape, sizeof shape, "[in %d, out %d, n %d, C %d, bias %d, mask %d]", in, out, n,
             cond, bias, kind);
    layer t;
    layer_make(&t, in, out, cond, bias, kind);
    made__dense *L = &t.L;
    if (made__dense_staircase(L, t.mask) != 0) {
        HARNESS_FAIL_("%s: not a staircase", shape);
        layer_free(&t);
        return;
    }
    float *x = random_floats((size_t)n * in);
    float *c = cond ? random_floats((size_t)n * cond) : NULL;
    float *da = random_floats((size_t)n * out);
    size_t na = (size_t)n * out, nw = (size_t)in * out;

    /* Forward. Scale: sum of |terms| of each output. */
    float *a_ref = xmalloc(na * sizeof(float)), *a[2];
    size_t ns = na > nw ? na : nw;
    if ((size_t)cond * out > ns) ns = (size_t)cond * out;
    if ((size_t)n * in > ns) ns = (size_t)n * in;
    double *scale = xmalloc(ns * sizeof(double));
    made__dense_forward_ref(L, t.mask, a_ref, x, c, n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < out; j++) {
            double s = L->b ? fabs(L->b[j]) : 0.0;
            for (int r = 0; r < in; r++) s += fabs((double)x[(size_t)i * in + r] * L->W[(size_t)r * out + j]);
            for (int r = 0; r < cond; r++) s += fabs((double)c[(size_t)i * cond + r] * L->V[(size_t)r * out + j]);
            scale[(size_t)i * out + j] = s;
        }
    for (int k = 0; k < n_paths; k++) {
        a[k] = xmalloc(na * sizeof(float));
        for (size_t i = 0; i < na; i++) a[k][i] = NAN;
        made__dense_forward(paths[k], L, a[k], x, c, n);
    }
    int bad = compare("forward", shape, a[0], a_ref, scale, na, 1e-5);
    if (!bad && n_paths > 1 && memcmp(a[0], a[1], na * sizeof(float)) != 0) {
        HARNESS_FAIL_("%s: forward differs between the portable and avx2 paths", shape);
        bad = 1;
    }
    /* Rows split at an odd place, as threads split them: the same bits. */
    if (!bad && n > 1) {
        float *split = xmalloc(na * sizeof(float));
        const made__kernel *kern = paths[n_paths - 1];
        int cut = 1 + (n - 1) / 3;
        made__dense_forward_rows(kern, L, split, NULL, MADE_ACT_LINEAR, x, c, cut, n, NULL, 0);
        made__dense_forward_rows(kern, L, split, NULL, MADE_ACT_LINEAR, x, c, 0, cut, NULL, 0);
        if (memcmp(split, a[0], na * sizeof(float)) != 0) {
            HARNESS_FAIL_("%s: forward of rows [0, %d) + [%d, %d) differs from one call", shape,
                          cut, cut, n);
            bad = 1;
        }
        free(split);
    }

    /* Backward: reference on one copy of the gradients, each path on another. */
    made__dense ref, fast[2];
    clone_grads(&ref, L);
    float *dx_ref = xmalloc((size_t)n * in * sizeof(float)), *dx[2];
    made__dense_backward_ref(&ref, t.mask, dx_ref, da, x, c, n);
    for (int k = 0; k < n_paths; k++) {
        clone_grads(&fast[k], L);
        dx[k] = xmalloc((size_t)n * in * sizeof(float));
        for (size_t i = 0; i < (size_t)n * in; i++) dx[k][i] = NAN;
        CHECK_OK(made__dense_backward(paths[k], &fast[k], dx[k], da, x, c, n));
    }
    /* gW: masked entries exactly zero (they started non-zero); others match
     * the reference. */
    for (size_t i = 0; i < nw && !bad; i++)
        if (!t.mask[i] && fast[0].gW[i] != 0.0f) {
            HARNESS_FAIL_("%s: masked gW entry [%zu, %zu] is %g", shape, i / out, i % out,
                          (double)fast[0].gW[i]);
            bad = 1;
        }
    if (!bad) {
        for (size_t k = 0; k < nw; k++) scale[k] = 0.0;
        for (int i = 0; i < n; i++)
            for (int r = 0; r < in; r++) {
                double xr = fabs(x[(size_t)i * in + r]);
                const float *dai = da + (size_t)i * out;
                double *sr = scale + (size_t)r * out;
                for (int j = 0; j < out; j++) sr[j] += xr * fabs(dai[j]);
            }
        bad = compare("gW", shape, fast[0].gW, ref.gW, scale, nw, 1e-5);
    }
    if (!bad && bias) {
        for (int j = 0; j < out; j++) {
            double s = 0.0;
            for (int i = 0; i < n; i++) s += fabs(da[(size_t)i * out + j]);
            scale[j] = s;
        }
        bad = compare("gb", shape, fast[0].gb, ref.gb, scale, (size_t)out, 1e-5);
    }
    if (!bad && cond) {
        for (size_t k = 0; k < (size_t)cond * out; k++) scale[k] = 0.0;
        for (int i = 0; i < n; i++)
            for (int r = 0; r < cond; r++) {
                double cr = fabs(c[(size_t)i * cond + r]);
                const float *dai = da + (size_t)i * out;
                double *sr = scale + (size_t)r * out;
                for (int j = 0; j < out; j++) sr[j] += cr * fabs(dai[j]);
            }
        bad = compare("gV", shape, fast[0].gV, ref.gV, scale, (size_t)cond * out, 1e-5);
    }
    if (!bad) {
        for (int i = 0; i < n; i++)
            for (int r = 0; r < in; r++) {
                double s = 0.0;
                for (int j = 0; j < out; j++) s += fabs((double)da[(size_t)i * out + j] * L->W[(size_t)r * out + j]);
                scale[(size_t)i * in + r] = s;
            }
        bad = compare("dx", shape, dx[0], dx_ref, scale, (size_t)n * in, 1e-5);
    }
    if (!bad && n_paths > 1 &&
        (memcmp(fast[0].gW, fast[1].gW, nw * sizeof(float)) != 0 ||
         (bias && memcmp(fast[0].gb, fast[1].gb, (size_t)out * sizeof(float)) != 0) ||
         (cond && memcmp(fast[0].gV, fast[1].gV, (size_t)cond * out * sizeof(float)) != 0) ||
         memcmp(dx[0], dx[1], (size_t)n * in * sizeof(float)) != 0)) {
        HARNESS_FAIL_("%s: backward differs between the portable and avx2 paths", shape);
        bad = 1;
    }
    /* The gradient as the two subtrees of the block tree, computed apart
     * (as two processes would, each from its own rows) and added: the same bits. */
    const int nb = made__grad_blocks(n);
    if (!bad && nb > 1) {
        int mid = 1;
        while (2 * mid < nb) mid *= 2;
        const made__kernel *kern = paths[n_paths - 1];
        made__dense lo, hi;
        clone_grads(&lo, L);
        clone_grads(&hi, L);
        const int r = mid * MADE_GRAD_BLOCK;
        CHECK_OK(made__dense_weight_grads(kern, &lo, x, c, da, r));
        CHECK_OK(made__dense_weight_grads(kern, &hi, x + (size_t)r * in,
                                          c ? c + (size_t)r * cond : NULL, da + (size_t)r * out,
                                          n - r));
        for (size_t i = 0; i < nw; i++) lo.gW[i] += hi.gW[i];
        for (int j = 0; bias && j < out; j++) lo.gb[j] += hi.gb[j];
        for (size_t i = 0; i < (size_t)cond * out; i++) lo.gV[i] += hi.gV[i];
        if (memcmp(lo.gW, fast[0].gW, nw * sizeof(float)) != 0 ||
            (bias && memcmp(lo.gb, fast[0].gb, (size_t)out * sizeof(float)) != 0) ||
            (cond && memcmp(lo.gV, fast[0].gV, (size_t)cond * out * sizeof(float)) != 0)) {
            HARNESS_FAIL_("%s: gradient of blocks [0, %d) + [%d, %d) differs from the whole tree",
                          shape, mid, mid, nb);
            bad = 1;
        }
        free_grads(&lo);
        free_grads(&hi);
    }
    /* Without dx the parameter gradients are the same. */
    if (!bad) {
        made__dense nodx;
        clone_grads(&nodx, L);
        CHECK_OK(made__dense_backward(paths[0], &nodx, NULL, da, x, c, n));
        if (memcmp(nodx.gW, fast[0].gW, nw * sizeof(float)) != 0)
            HARNESS_FAIL_("%s: gW differs when dx is NULL", shape);
        free_grads(&nodx);
    }

    free_grads(&ref);
    for (int k = 0; k < n_paths; k++) {
        free_grads(&fast[k]);
        free(a[k]);
        free(dx[k]);
    }
    free(dx_ref);
    free(a_ref);
    free(scale);
    free(x);
    free(c);
    free(da);
    layer_free(&t);
}

static void test_fast_vs_reference(void)
{
    static const int sizes[] = {1, 15, 17, 64, 130, 257};
    static const int rows[] = {1, 7, 257};
    static const int conds[] = {1, 3, 65};
    gen_state = 2;
    int t = 0;
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++, t++) {
            int in = sizes[a], out = sizes[b];
            /* Every (in, out) with each row count; bias and conditional on,
             * off, and one of the two. */
            run_case(in, out, rows[t % 3], conds[t % 3], 1, t % 4 == 3 ? MASK_COARSE : MASK_RANDOM);
            run_case(in, out, rows[(t + 1) % 3], 0, 0, MASK_RANDOM);
            run_case(in, out, rows[(t + 2) % 3], (t & 1) ? conds[(t / 2) % 3] : 0, !(t & 1),
                     t % 5 == 0 ? MASK_ZERO : t % 5 == 1 ? MASK_FULL : MASK_COARSE);
        }
}

static void test_degenerate_masks(void)
{
    /* All masked: output = bias + c V; dx = 0; gW stays exactly zero. */
    gen_state = 3;
    run_case(65, 130, 7, 2, 1, MASK_ZERO);
    run_case(257, 1, 256, 0, 1, MASK_ZERO);
    run_case(1, 257, 7, 3, 0, MASK_FULL);
    run_case(130, 65, 256, 1, 1, MASK_FULL);

    layer t;
    layer_make(&t, 70, 66, 2, 1, MASK_ZERO);
    CHECK_EQ_INT(made__dense_staircase(&t.L, t.mask), 0);
    float *x = random_floats(5 * 70), *c = random_floats(5 * 2), a[5 * 66];
    made__dense_forward(paths[0], &t.L, a, x, c, 5);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 66; j++) {
            float want = t.L.b[j];
            want = c[i * 2] * t.L.V[j] + want; /* any order: compare with tolerance */
            want += c[i * 2 + 1] * t.L.V[66 + j];
            CHECK_NEAR(a[i * 66 + j], want, 1e-6);
        }
    free(x);
    free(c);
    layer_free(&t);
}

/* ---- the exact chains of the blocked products ------------------------------ */

/* The products are blocked (row blocks, k blocks, packed micro-panels), but
 * each value must stay the chain dense.h defines, so it is compared bit for
 * bit with that chain written out here with fmaf: the forward value a[i][j] is
 * b[j], then x[i][k] W[k][j] for k below the largest kend of j's half panel
 * (columns 8h .. 8h+7), then c[i][q] V[q][j]; the input gradient dx[i][r] is
 * 0, then da[i][j] W[r][j] for j = rstart[r / MADE_PANEL] .. out-1. Shapes cross the row block (48), the
 * k block (256) and the micro-panel (6) at and around their edges; masks give
 * panels with no rows (kend 0) and row panels no column reads. */
static void chain_case(int in, int out, int n, int cond, int kind)
{
    char shape[96];
    snprintf(shape, sizeof shape, "[in %d, out %d, n %d, C %d, mask %d]", in, out, n, cond, kind);
    layer t;
    layer_make(&t, in, out, cond, 1, kind);
    made__dense *L = &t.L;
    CHECK_EQ_INT(made__dense_staircase(L, t.mask), 0);
    float *x = random_floats((size_t)n * in), *c = cond ? random_floats((size_t)n * cond) : NULL;
    float *da = random_floats((size_t)n * out);
    float *a_want = xmalloc((size_t)n * out * sizeof(float));
    float *dx_want = xmalloc((size_t)n * in * sizeof(float));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < out; j++) {
            float acc = L->b[j];
            const int half_end = (j / 8 + 1) * 8 < out ? (j / 8 + 1) * 8 : out;
            for (int k = 0; k < L->kend[half_end - 1]; k++)
                acc = fmaf(x[(size_t)i * in + k], L->W[(size_t)k * out + j], acc);
            for (int q = 0; q < cond; q++)
                acc = fmaf(c[(size_t)i * cond + q], L->V[(size_t)q * out + j], acc);
            a_want[(size_t)i * out + j] = acc;
        }
    for (int i = 0; i < n; i++)
        for (int r = 0; r < in; r++) {
            float acc = 0.0f;
            for (int j = L->rstart[r / MADE_PANEL]; j < out; j++)
                acc = fmaf(da[(size_t)i * out + j], L->W[(size_t)r * out + j], acc);
            dx_want[(size_t)i * in + r] = acc;
        }
    float *a = xmalloc((size_t)n * out * sizeof(float)), *dx = xmalloc((size_t)n * in * sizeof(float));
    for (int k = 0; k < n_paths; k++) {
        made__dense g;
        clone_grads(&g, L);
        for (size_t i = 0; i < (size_t)n * out; i++) a[i] = NAN;
        made__dense_forward(paths[k], L, a, x, c, n);
        if (memcmp(a, a_want, (size_t)n * out * sizeof(float)) != 0)
            HARNESS_FAIL_("%s %s: forward is not the fmaf chain of dense.h", shape, paths[k]->name);
        /* Rows from an offset that is not a multiple of the micro-panel,
         * with the packed rows a left half panel must not read made NaN. */
        for (int c0 = 0; c0 < out; c0 += MADE_PANEL) {
            const int left = out - c0 < 8 ? out - c0 : 8;
            for (int k = L->kend[c0 + left - 1]; k < made__panel_rows(L, c0); k++)
                for (int j = 0; j < left; j++) L->Wp[((size_t)c0 * in + k * MADE_PANEL) + j] = NAN;
        }
        const int cut = n / 2 + (n > 1);
        if (cut < n) {
            made__dense_forward_rows(paths[k], L, a, NULL, MADE_ACT_LINEAR, x, c, cut, n, NULL, 0);
            if (memcmp(a, a_want, (size_t)n * out * sizeof(float)) != 0)
                HARNESS_FAIL_("%s %s: forward of rows [%d, %d) differs", shape, paths[k]->name,
                              cut, n);
        }
        /* Without the pre-activations kept (a NULL): h alone, the fused
         * ReLU's and a separate activation's. */
        for (int i = 0; i < n * out; i++) a[i] = NAN;
        made__dense_forward_rows(paths[k], L, NULL, a, MADE_ACT_RELU, x, c, 0, n, NULL, 0);
        for (int i = 0; i < n * out && !harness_case_failed_; i++)
            if (memcmp(&a[i], &(float){a_want[i] > 0 ? a_want[i] : 0.0f}, sizeof(float)))
                HARNESS_FAIL_("%s %s: ReLU without pre-activations differs at %d", shape,
                              paths[k]->name, i);
        made__dense_forward_rows(paths[k], L, NULL, a, MADE_ACT_TANH, x, c, 0, n, NULL, 0);
        for (int i = 0; i < n * out && !harness_case_failed_; i++)
            if (memcmp(&a[i], &(float){tanhf(a_want[i])}, sizeof(float)))
                HARNESS_FAIL_("%s %s: tanh without pre-activations differs at %d", shape,
                              paths[k]->name, i);
        for (size_t i = 0; i < (size_t)n * in; i++) dx[i] = NAN;
        CHECK_OK(made__dense_backward(paths[k], &g, dx, da, x, c, n));
        if (memcmp(dx, dx_want, (size_t)n * in * sizeof(float)) != 0)
            HARNESS_FAIL_("%s %s: input gradient is not the fmaf chain of dense.h", shape,
                          paths[k]->name);
        free_grads(&g);
    }
    free(a);
    free(dx);
    free(a_want);
    free(dx_want);
    free(x);
    free(c);
    free(da);
    layer_free(&t);
}

static void test_blocked_chains(void)
{
    gen_state = 4;
    static const int shapes[][5] = {
        /* in, out, n, cond, mask */
        {1, 1, 1, 0, MASK_RANDOM},      {1, 17, 5, 2, MASK_FULL},
        {7, 33, 6, 0, MASK_RANDOM},     {40, 50, 47, 1, MASK_RANDOM},
        {256, 17, 48, 0, MASK_FULL},    {257, 31, 49, 3, MASK_RANDOM},
        {600, 40, 101, 0, MASK_RANDOM}, {33, 530, 53, 0, MASK_RANDOM},
        {20, 513, 54, 2, MASK_FULL},     {513, 300, 97, 0, MASK_COARSE},
        {100, 120, 30, 4, MASK_ZERO},   {300, 257, 7, 0, MASK_RANDOM},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        chain_case(shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4]);
        if (harness_case_failed_) return;
    }
}

/* ---- whole model: thread count does not change the bits ------------------- */

static void test_model_threads(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 100;
    cfg.params = 2;
    cfg.n_hidden = 2;
    cfg.hidden_units[0] = 200;
    cfg.hidden_units[1] = 150;
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.activation = MADE_ACT_RELU;
    cfg.seed = 31;
    cfg.bias_initializer = made_initializer_default(MADE_INIT_RANDOM_NORMAL);
    made_model *m = NULL;
    CHECK_OK(made_model_create(&m, &cfg));
    if (!m) return;
    const size_t n = 300; /* more than one block of rows */
    share_any_batch(m);
    gen_state = 4;
    float *x = random_floats(n * 100);
    float *y1 = xmalloc(n * 200 * sizeof(float)), *y2 = xmalloc(n * 200 * sizeof(float));
    float *y3 = xmalloc(n * 200 * sizeof(float));
    CHECK_OK(made_model_set_threads(m, 1));
    CHECK_OK(made_model_forward(m, y1, x, NULL, n));
    /* 2, 3 and 7 threads: 7 share the scratch in slices of 36 rows, fewer
     * than a row block, so their pieces are cut to the slice. */
    static const int counts[] = {2, 3, 7};
    for (int k = 0; k < 3; k++) {
        CHECK_OK(made_model_set_threads(m, counts[k]));
        CHECK_OK(made_model_forward(m, y3, x, NULL, n));
        if (memcmp(y1, y3, n * 200 * sizeof(float)) != 0)
            HARNESS_FAIL_("forward with %d threads differs from 1 thread", counts[k]);
    }
    /* Not trivially zero. */
    size_t nz = 0;
    for (size_t i = 0; i < n * 200; i++) nz += y1[i] != 0.0f;
    CHECK(nz > n * 150);
    /* Repeated calls give the same bits. */
    CHECK_OK(made_model_set_threads(m, 2));
    int differ = 0;
    for (int it = 0; it < 20; it++) {
        CHECK_OK(made_model_forward(m, y2, x, NULL, n));
        differ += memcmp(y1, y2, n * 200 * sizeof(float)) != 0;
    }
    CHECK_EQ_INT(differ, 0);
    CHECK_STATUS(made_model_set_threads(m, 0), MADE_E_INVAL);
    CHECK_STATUS(made_model_set_threads(NULL, 1), MADE_E_INVAL);
    free(x);
    free(y1);
    free(y2);
    free(y3);
    made_model_free(m);
}

/* A wide output layer (16 x 4096, one row): many panels per call. */
static void test_model_threads_wide(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 16;
    cfg.params = 256;
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.seed = 8;
    cfg.bias_initializer = made_initializer_default(MADE_INIT_RANDOM_NORMAL);
    made_model *m = NULL;
    CHECK_OK(made_model_create(&m, &cfg));
    if (!m) return;
    gen_state = 6;
    float *x = random_floats(16), *y1 = xmalloc(4096 * sizeof(float));
    float *y2 = xmalloc(4096 * sizeof(float));
    CHECK_OK(made_model_forward(m, y1, x, NULL, 1));
    CHECK_OK(made_model_set_threads(m, 2));
    int differ = 0;
    for (int it = 0; it < 200; it++) {
        CHECK_OK(made_model_forward(m, y2, x, NULL, 1));
        differ += memcmp(y1, y2, 4096 * sizeof(float)) != 0;
    }
    if (differ) HARNESS_FAIL_("E=16 P=256: %d of 200 forward calls with 2 threads differ from 1 thread", differ);
    free(x);
    free(y1);
    free(y2);
    made_model_free(m);
}

int main(void)
{
    find_paths();
    RUN(test_staircase_build);
    RUN(test_staircase_reject);
    RUN(test_fast_vs_reference);
    RUN(test_degenerate_masks);
    RUN(test_blocked_chains);
    RUN(test_model_threads);
    RUN(test_model_threads_wide);
    return harness_summary("test_dense");
}
