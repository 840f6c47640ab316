/* test_kernel.c - made's two kernel paths (net/kernel.h): the micro-kernels
 * against plain loops, the portable and AVX2 paths bit for bit on awkward
 * tiles, and whole models - forward, log-probabilities, training steps and
 * samples - with the same bits on both paths and any thread count. Also the
 * MADE_KERNEL environment variable. On a CPU without AVX2+FMA the comparisons
 * with the avx2 path are left out and reported as one skipped case. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "made.h"
#include "net/grad_tree.h"
#include "net/kernel.h"
#include "net/model.h"
#include "net/network.h"
#define UTIL_GEN_SEED 0x6b65726eu
#include "threads.h"
#include "util.h"

static float *random_floats(size_t n)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) abort();
    for (size_t i = 0; i < n; i++) v[i] = gen_float();
    return v;
}

static int have_avx2;

/* ---- micro-kernels -------------------------------------------------------- */

/* The tile product on random shapes and strides: the portable path equals a
 * plain fmaf loop written here, and the avx2 path equals the portable one bit
 * for bit, including every value outside the mr x nr tile (never written). */
static void test_tile_paths(void)
{
    gen_state = 11;
    for (int it = 0; it < 400; it++) {
        const int K = gen_int(0, 70), mr = gen_int(1, MADE_MR), nr = gen_int(1, MADE_NR);
        const int transposed = gen_int(0, 1), load_c = gen_int(0, 1), with_bias = gen_int(0, 1);
        const ptrdiff_t lda = gen_int(K > 0 ? K : 1, K + 5), ldb = gen_int(nr, nr + 9);
        const ptrdiff_t ldc = gen_int(nr, nr + 7);
        /* A as rows (rsa = lda, csa = 1) or transposed (rsa = 1, csa = lda). */
        const ptrdiff_t rsa = transposed ? 1 : lda, csa = transposed ? lda : 1;
        size_t na = (size_t)(transposed ? (K > 0 ? K : 1) * lda : mr * lda) + MADE_MR;
        float *A = random_floats(na), *B = random_floats((size_t)(K + 1) * ldb);
        float *bias = random_floats(MADE_NR), *C0 = random_floats((size_t)MADE_MR * ldc + 8);
        float *want = malloc(((size_t)MADE_MR * ldc + 8) * sizeof *want);
        memcpy(want, C0, ((size_t)MADE_MR * ldc + 8) * sizeof *want);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) {
                float acc = load_c ? C0[i * ldc + j] : with_bias ? bias[j] : 0.0f;
                for (int k = 0; k < K; k++) acc = fmaf(A[i * rsa + k * csa], B[k * ldb + j], acc);
                want[i * ldc + j] = acc;
            }
        for (int p = 0; p < 1 + have_avx2; p++) {
            const made__kernel *kern = p ? &made__kernel_avx2 : &made__kernel_portable;
            float *C = malloc(((size_t)MADE_MR * ldc + 8) * sizeof *C);
            memcpy(C, C0, ((size_t)MADE_MR * ldc + 8) * sizeof *C);
            kern->tile(K, A, rsa, csa, B, ldb, C, ldc, mr, nr, with_bias ? bias : NULL, load_c);
            if (memcmp(C, want, ((size_t)MADE_MR * ldc + 8) * sizeof *C) != 0)
                HARNESS_FAIL_("%s tile K=%d mr=%d nr=%d transposed=%d load_c=%d bias=%d: differs "
                              "from the fmaf loop", kern->name, K, mr, nr, transposed, load_c,
                              with_bias);
            free(C);
        }
        free(A);
        free(B);
        free(bias);
        free(C0);
        free(want);
        if (harness_case_failed_) return;
    }
}

/* The packed tile and the row tile: A as micro-panels [K2][MADE_MR] (as
 * rows of lda >= K2 for the row tile), B as panels
 * [K2][MADE_NR], both padded with values that must reach no stored entry
 * (rows past mr and columns past nr hold NaN); columns 8-15 run K2 >= K
 * steps, the others K. The portable path equals a plain fmaf loop
 * written here, the avx2 path the portable one bit for bit, and nothing
 * outside the mr x nr tile of C is written. With the fused ReLU, its output
 * is acc > 0 ? acc : 0 of each result (some chains are made to end at -0,
 * 0 and NaN), and nothing outside the tile is written there either; with
 * the ReLU's output in C itself, C holds exactly that. */
static void test_ptile_paths(void)
{
    gen_state = 14;
    for (int it = 0; it < 400; it++) {
        const int K = gen_int(0, 70), mr = gen_int(1, MADE_MR), nr = gen_int(1, MADE_NR);
        const int K2 = K + (gen_int(0, 1) ? gen_int(0, 20) : 0);
        const int load_c = gen_int(0, 1), with_bias = gen_int(0, 1), with_relu = gen_int(0, 2);
        const ptrdiff_t ldc = gen_int(nr, nr + 7);
        float *A = random_floats((size_t)(K2 + 1) * MADE_MR);
        float *B = random_floats((size_t)(K2 + 1) * MADE_NR);
        for (int k = 0; k < K2; k++) {
            for (int i = mr; i < MADE_MR; i++) A[k * MADE_MR + i] = NAN;
            for (int j = nr; j < MADE_NR; j++) B[k * MADE_NR + j] = NAN;
        }
        float *bias = random_floats(MADE_NR), *C0 = random_floats((size_t)MADE_MR * ldc + 8);
        if (K == 0 && load_c) { /* chains that end at -0, 0 and NaN */
            C0[0] = -0.0f;
            C0[1] = 0.0f;
            C0[2] = NAN;
        }
        const size_t nc = (size_t)MADE_MR * ldc + 8;
        float *want = malloc(nc * sizeof *want), *want_relu = random_floats(nc);
        float *relu0 = malloc(nc * sizeof *relu0), *want_in_c = malloc(nc * sizeof *want_in_c);
        memcpy(want, C0, nc * sizeof *want);
        memcpy(want_in_c, C0, nc * sizeof *want_in_c);
        memcpy(relu0, want_relu, nc * sizeof *relu0);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) {
                float acc = load_c ? C0[i * ldc + j] : with_bias ? bias[j] : 0.0f;
                for (int k = 0; k < (j < 8 ? K : K2); k++)
                    acc = fmaf(A[k * MADE_MR + i], B[k * MADE_NR + j], acc);
                want[i * ldc + j] = acc;
                want_relu[i * ldc + j] = want_in_c[i * ldc + j] = acc > 0.0f ? acc : 0.0f;
            }
        /* The same A as rows for rtile: exactly mr rows of lda >= K2 floats
         * (a read past them is out of bounds). */
        const ptrdiff_t lda = K2 + gen_int(0, 5);
        float *Ar = malloc(((size_t)mr * lda + (lda == 0)) * sizeof *Ar);
        for (int i = 0; i < mr; i++)
            for (ptrdiff_t k = 0; k < lda; k++) Ar[i * lda + k] = k < K2 ? A[k * MADE_MR + i] : NAN;
        for (int p = 0; p < 2 * (1 + have_avx2); p++) {
            const made__kernel *kern = p / 2 ? &made__kernel_avx2 : &made__kernel_portable;
            const char *what = p % 2 ? "rtile" : "ptile";
            float *C = malloc(nc * sizeof *C), *R = malloc(nc * sizeof *R);
            memcpy(C, C0, nc * sizeof *C);
            memcpy(R, relu0, nc * sizeof *R);
            float *relu = with_relu == 2 ? C : with_relu ? R : NULL;
            if (p % 2)
                kern->rtile(K, K2, Ar, lda, B, C, ldc, mr, nr, with_bias ? bias : NULL, load_c,
                            relu);
            else
                kern->ptile(K, K2, A, B, C, ldc, mr, nr, with_bias ? bias : NULL, load_c, relu);
            if (memcmp(C, with_relu == 2 ? want_in_c : want, nc * sizeof *C) != 0)
                HARNESS_FAIL_("%s %s K=%d K2=%d mr=%d nr=%d load_c=%d bias=%d: differs from "
                              "the fmaf loop", kern->name, what, K, K2, mr, nr, load_c, with_bias);
            if (memcmp(R, with_relu == 1 ? want_relu : relu0, nc * sizeof *R) != 0)
                HARNESS_FAIL_("%s %s K=%d mr=%d nr=%d relu=%d: the fused ReLU's output "
                              "differs from acc > 0 ? acc : 0", kern->name, what, K, mr, nr,
                              with_relu);
            free(C);
            free(R);
        }
        free(Ar);
        free(A);
        free(B);
        free(bias);
        free(C0);
        free(want);
        free(want_relu);
        free(want_in_c);
        free(relu0);
        if (harness_case_failed_) return;
    }
}

/* The sampler's unit sum, the micro-panel packing and the transpose, both paths. */
static void test_unit_and_transpose_paths(void)
{
    gen_state = 12;
    for (int it = 0; it < 200; it++) {
        const int K = gen_int(0, 40), n = gen_int(1, 77), load = gen_int(0, 1);
        const ptrdiff_t ldx = n + gen_int(0, 9), ldw = gen_int(1, 5);
        float *X = random_floats((size_t)(K + 1) * ldx), *w = random_floats((size_t)(K + 1) * ldw);
        float *o0 = random_floats((size_t)n + 8), *want = malloc(((size_t)n + 8) * sizeof *want);
        const float b = gen_float();
        memcpy(want, o0, ((size_t)n + 8) * sizeof *want);
        for (int i = 0; i < n; i++) {
            float acc = load ? o0[i] : b;
            for (int k = 0; k < K; k++) acc = fmaf(X[k * ldx + i], w[k * ldw], acc);
            want[i] = acc;
        }
        for (int p = 0; p < 1 + have_avx2; p++) {
            const made__kernel *kern = p ? &made__kernel_avx2 : &made__kernel_portable;
            float *o = malloc(((size_t)n + 8) * sizeof *o);
            memcpy(o, o0, ((size_t)n + 8) * sizeof *o);
            kern->unit(K, X, ldx, w, ldw, o, n, b, load);
            if (memcmp(o, want, ((size_t)n + 8) * sizeof *o) != 0)
                HARNESS_FAIL_("%s unit K=%d n=%d load=%d: differs from the fmaf loop", kern->name,
                              K, n, load);
            free(o);
        }
        /* Packing a micro-panel of six rows (K across the groups of eight):
         * exactly ap[k*6 + i] = rows[i][k], nothing written past K*6. */
        const int kp = gen_int(0, 40);
        float *src6 = random_floats((size_t)MADE_MR * (kp + 3));
        const float *rows6[MADE_MR];
        for (int i = 0; i < MADE_MR; i++) rows6[i] = src6 + (size_t)i * (kp + 3) + (i & 1);
        for (int p = 0; p < 1 + have_avx2; p++) {
            const made__kernel *kern = p ? &made__kernel_avx2 : &made__kernel_portable;
            float *ap = malloc(((size_t)kp * MADE_MR + 8) * sizeof *ap);
            for (int q = 0; q < kp * MADE_MR + 8; q++) ap[q] = -7.0f;
            kern->pack(kp, rows6, ap);
            int bad = 0;
            for (int k = 0; k < kp; k++)
                for (int i = 0; i < MADE_MR; i++) bad += ap[k * MADE_MR + i] != rows6[i][k];
            for (int q = kp * MADE_MR; q < kp * MADE_MR + 8; q++) bad += ap[q] != -7.0f;
            if (bad) HARNESS_FAIL_("%s pack K=%d: %d values wrong", kern->name, kp, bad);
            free(ap);
        }
        free(src6);
        /* Transpose of a rows x cols block inside larger matrices. */
        const int rows = gen_int(0, 30), cols = gen_int(1, 20);
        const ptrdiff_t lds = cols + gen_int(0, 5), ldd = rows + gen_int(0, 5) + 1;
        float *src = random_floats((size_t)(rows + 1) * lds);
        for (int p = 0; p < 1 + have_avx2; p++) {
            const made__kernel *kern = p ? &made__kernel_avx2 : &made__kernel_portable;
            float *dst = calloc((size_t)cols * ldd, sizeof *dst);
            kern->transpose(rows, cols, src, lds, dst, ldd);
            for (int j = 0; j < cols; j++)
                for (int r = 0; r < ldd; r++)
                    if (dst[j * ldd + r] != (r < rows ? src[r * lds + j] : 0.0f)) {
                        HARNESS_FAIL_("%s transpose %dx%d: [%d][%d] wrong", kern->name, rows,
                                      cols, j, r);
                        j = cols;
                        break;
                    }
            free(dst);
        }
        free(src);
        free(X);
        free(w);
        free(o0);
        free(want);
        if (harness_case_failed_) return;
    }
}

/* The gradient tree: g(0, nb) by the kernels' gtile equals the tree
 * written out here with plain float additions of per-block fmaf chains, for
 * every value of a full tile (96 different sums, so a different tree shape
 * shows in the rounding of some of them). a has stride ars (6, or 0 for one
 * constant row), b stride 16. */
static float tree_ref(const float *a, int ars, const float *b, int n, int lo, int hi)
{
    if (hi - lo == 1) {
        float acc = 0.0f;
        for (int p = lo * MADE_GRAD_BLOCK; p < n && p < (lo + 1) * MADE_GRAD_BLOCK; p++)
            acc = fmaf(a[p * ars], b[p * MADE_NR], acc);
        return acc;
    }
    int half = 1;
    while (2 * half < hi - lo) half *= 2;
    return tree_ref(a, ars, b, n, lo, lo + half) + tree_ref(a, ars, b, n, lo + half, hi);
}

static void test_grad_tree(void)
{
    gen_state = 13;
    static const int ns[] = {1, 31, 32, 33, 64, 70, 95, 100, 160, 200, 230, 257, 1000};
    for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
        const int n = ns[t], nb = made__grad_blocks(n);
        float *a = random_floats((size_t)n * MADE_MR), *b = random_floats((size_t)n * MADE_NR);
        for (int p = 0; p < 1 + have_avx2; p++) {
            const made__kernel *kern = p ? &made__kernel_avx2 : &made__kernel_portable;
            float C[MADE_MR * MADE_NR] = {0};
            kern->gtile(n, a, MADE_MR, b, C, MADE_NR, MADE_MR, MADE_NR);
            int bad = 0;
            for (int i = 0; i < MADE_MR; i++)
                for (int j = 0; j < MADE_NR; j++) {
                    const float want = tree_ref(a + i, MADE_MR, b + j, n, 0, nb);
                    bad += memcmp(&C[i * MADE_NR + j], &want, sizeof want) != 0;
                }
            if (bad) HARNESS_FAIL_("%s n=%d (%d blocks): %d of 96 values differ from the tree",
                                   kern->name, n, nb, bad);
            /* A part of the tile, stored with a row stride: those values,
             * and nothing else of C written. */
            const int mr = 1 + (int)(t % MADE_MR), nr = 1 + (int)((t * 5) % MADE_NR), ldc = nr + 3;
            float part[MADE_MR * (MADE_NR + 3)];
            for (int q = 0; q < MADE_MR * ldc; q++) part[q] = -9.0f;
            kern->gtile(n, a, MADE_MR, b, part, ldc, mr, nr);
            bad = 0;
            for (int i = 0; i < MADE_MR; i++)
                for (int j = 0; j < ldc; j++) {
                    const float want = i < mr && j < nr ? C[i * MADE_NR + j] : -9.0f;
                    bad += memcmp(&part[i * ldc + j], &want, sizeof want) != 0;
                }
            if (bad) HARNESS_FAIL_("%s n=%d, rows %d, columns %d: %d values wrong", kern->name, n,
                                   mr, nr, bad);
            /* One constant row (ars = 0, the bias gradient's form): every
             * stored row is that row's tree. */
            for (int q = 0; q < MADE_MR * ldc; q++) part[q] = -9.0f;
            kern->gtile(n, a, 0, b, part, ldc, mr, nr);
            bad = 0;
            for (int i = 0; i < MADE_MR; i++)
                for (int j = 0; j < ldc; j++) {
                    const float want = i < mr && j < nr ? tree_ref(a, 0, b + j, n, 0, nb) : -9.0f;
                    bad += memcmp(&part[i * ldc + j], &want, sizeof want) != 0;
                }
            if (bad) HARNESS_FAIL_("%s n=%d, one constant row, rows %d, columns %d: %d values "
                                   "wrong", kern->name, n, mr, nr, bad);
        }
        free(a);
        free(b);
    }
}

/* ---- MADE_KERNEL --------------------------------------------------------- */

static void small_config(made_config *cfg)
{
    made_config_default(cfg);
    cfg->event_size = 5;
    cfg->n_hidden = 1;
    cfg->hidden_units[0] = 7;
    cfg->dist.kind = MADE_DIST_BERNOULLI;
    cfg->params = 1;
}

static void test_env_variable(void)
{
    made_config cfg;
    small_config(&cfg);
    made_model *m = NULL;
    setenv("MADE_KERNEL", "fast", 1);
    CHECK_STATUS(made_model_create(&m, &cfg), MADE_E_INVAL);
    CHECK(m == NULL);
    CHECK_STR_CONTAINS(made_last_error(), "MADE_KERNEL=fast");
    CHECK_STR_CONTAINS(made_last_error(), "portable");
    setenv("MADE_KERNEL", "portable", 1);
    CHECK_OK(made_model_create(&m, &cfg));
    if (m) CHECK(strcmp(m->kern->name, "portable") == 0);
    made_model_free(m);
    m = NULL;
    setenv("MADE_KERNEL", "avx2", 1);
    if (have_avx2) {
        CHECK_OK(made_model_create(&m, &cfg));
        if (m) CHECK(strcmp(m->kern->name, "avx2") == 0);
    } else {
        CHECK_STATUS(made_model_create(&m, &cfg), MADE_E_INVAL);
        CHECK_STR_CONTAINS(made_last_error(), "AVX2");
    }
    made_model_free(m);
    m = NULL;
    /* Unset or empty: chosen by the CPU. */
    setenv("MADE_KERNEL", "", 1);
    CHECK_OK(made_model_create(&m, &cfg));
    if (m) CHECK(strcmp(m->kern->name, have_avx2 ? "avx2" : "portable") == 0);
    made_model_free(m);
    unsetenv("MADE_KERNEL");
}

/* ---- whole models on both paths ------------------------------------------ */

typedef struct run_out {
    float *y, *params, *s, *sn;
    double *lp, nll[3];
} run_out;

static void run_free(run_out *r)
{
    free(r->y);
    free(r->params);
    free(r->s);
    free(r->sn);
    free(r->lp);
}

/* forward, log_prob, 3 training steps, then samples (fast and naive), with the
 * given path and thread count. */
static int run_model(const made_config *cfg, const made__kernel *kern, int threads,
                     const float *x, const float *c, size_t n, run_out *r)
{
    memset(r, 0, sizeof *r);
    made_model *m = NULL;
    int rc = made_model_create(&m, cfg);
    if (rc) return rc;
    m->kern = kern; /* the internal selector: both paths in one process */
    made_model_set_threads(m, threads);
    share_any_batch(m);
    const size_t E = (size_t)cfg->event_size, W = E * cfg->params;
    r->y = malloc(n * W * sizeof(float));
    r->lp = malloc(n * sizeof(double));
    r->params = malloc(made_model_num_params(m) * sizeof(float));
    r->s = malloc(n * E * sizeof(float));
    r->sn = malloc(n * E * sizeof(float));
    made_trainer *t = NULL;
    made_train_config tc;
    made_train_config_default(&tc);
    tc.batch_size = (int)n;
    tc.lr = 0.01;
    tc.clip_norm = 1.0;
    tc.seed = 3;
    if (!(rc = made_model_forward(m, r->y, x, c, n)) && !(rc = made_model_log_prob(m, r->lp, x, c, n)) &&
        !(rc = made_trainer_create(&t, m, &tc)))
        for (int s = 0; s < 3 && !rc; s++) rc = made_trainer_step(t, x, c, n, &r->nll[s]);
    if (!rc) rc = made_model_get_weights(m, r->params, made_model_num_params(m));
    if (!rc) rc = made_model_sample(m, r->s, c, n, 77);
    if (!rc) rc = made_model_sample_naive(m, r->sn, c, n, 77);
    made_trainer_free(t);
    made_model_free(m);
    return rc;
}

static void compare_runs(const char *what, const made_config *cfg, size_t nparams, size_t n,
                         const run_out *a, const run_out *b)
{
    const size_t E = (size_t)cfg->event_size, W = E * cfg->params;
    if (memcmp(a->y, b->y, n * W * sizeof(float)) != 0) HARNESS_FAIL_("%s: forward differs", what);
    if (memcmp(a->lp, b->lp, n * sizeof(double)) != 0) HARNESS_FAIL_("%s: log_prob differs", what);
    if (memcmp(a->nll, b->nll, sizeof a->nll) != 0) HARNESS_FAIL_("%s: training NLLs differ", what);
    if (memcmp(a->params, b->params, nparams * sizeof(float)) != 0)
        HARNESS_FAIL_("%s: parameters after 3 training steps differ", what);
    if (memcmp(a->s, b->s, n * E * sizeof(float)) != 0) HARNESS_FAIL_("%s: samples differ", what);
    if (memcmp(a->sn, b->sn, n * E * sizeof(float)) != 0)
        HARNESS_FAIL_("%s: naive samples differ", what);
}

static void one_model(const char *what, const made_config *cfg, size_t n)
{
    const size_t E = (size_t)cfg->event_size, C = (size_t)cfg->conditional_size;
    float *x = malloc(n * E * sizeof(float)), *c = C ? random_floats(n * C) : NULL;
    for (size_t i = 0; i < n * E; i++) {
        switch (cfg->dist.kind) {
        case MADE_DIST_BERNOULLI: x[i] = (float)(gen_next() & 1); break;
        case MADE_DIST_CATEGORICAL: x[i] = (float)(gen_next() % (uint64_t)cfg->dist.k); break;
        default: x[i] = 2.0f * gen_float(); break;
        }
    }
    made_model *probe = NULL;
    if (made_model_create(&probe, cfg)) {
        HARNESS_FAIL_("%s: create: %s", what, made_last_error());
        free(x);
        free(c);
        return;
    }
    const size_t np = made_model_num_params(probe);
    made_model_free(probe);
    run_out ref, other;
    int rc = run_model(cfg, &made__kernel_portable, 1, x, c, n, &ref);
    if (rc) HARNESS_FAIL_("%s: portable run: %s", what, made_last_error());
    /* Same path, 2 and 3 threads; the other path, 1 and 2 threads. */
    for (int v = 0; v < 4 && !rc; v++) {
        const int avx = v >= 2, threads = v == 0 ? 2 : v == 1 ? 3 : v - 1;
        if (avx && !have_avx2) continue;
        char label[160];
        snprintf(label, sizeof label, "%s, %s path, %d threads vs portable, 1 thread", what,
                 avx ? "avx2" : "portable", threads);
        if (run_model(cfg, avx ? &made__kernel_avx2 : &made__kernel_portable, threads, x, c, n,
                      &other)) {
            HARNESS_FAIL_("%s: %s", label, made_last_error());
        } else {
            compare_runs(label, cfg, np, n, &ref, &other);
        }
        run_free(&other);
    }
    /* Not trivial: training moved the NLL. */
    if (!rc) CHECK(ref.nll[2] != ref.nll[0]);
    run_free(&ref);
    free(x);
    free(c);
}

static void test_models_both_paths(void)
{
    gen_state = 14;
    made_config cfg;
    small_config(&cfg);
    /* Bernoulli, two hidden layers of widths that are not multiples of 8 or
     * 16, 100 rows (4 gradient blocks, the last short). */
    cfg.event_size = 23;
    cfg.n_hidden = 2;
    cfg.hidden_units[0] = 37;
    cfg.hidden_units[1] = 19;
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.seed = 5;
    one_model("bernoulli E=23 [37,19]", &cfg, 100);
    /* Conditional Gaussian, tanh, 257 rows (two chunks of the forward pass). */
    small_config(&cfg);
    cfg.event_size = 9;
    cfg.hidden_units[0] = 33;
    cfg.dist.kind = MADE_DIST_GAUSSIAN;
    cfg.params = 2;
    cfg.activation = MADE_ACT_TANH;
    cfg.conditional_size = 3;
    cfg.seed = 6;
    one_model("gaussian conditional E=9 [33]", &cfg, 257);
    /* Mixture of Gaussians, one row. */
    small_config(&cfg);
    cfg.event_size = 6;
    cfg.hidden_units[0] = 17;
    cfg.dist.kind = MADE_DIST_MOG;
    cfg.dist.k = 2;
    cfg.params = 6;
    cfg.seed = 7;
    one_model("mog:2 E=6 [17], 1 row", &cfg, 1);
    /* Categorical with several mask sets (the masked dense view). */
    small_config(&cfg);
    cfg.event_size = 7;
    cfg.hidden_units[0] = 21;
    cfg.dist.kind = MADE_DIST_CATEGORICAL;
    cfg.dist.k = 3;
    cfg.params = 3;
    cfg.num_masks = 3;
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.hidden_degrees = MADE_DEGREES_RANDOM;
    cfg.seed = 8;
    one_model("categorical:3 E=7 [21], 3 mask sets", &cfg, 40);
}

/* The packed copies of W follow every change of the weights: after
 * set_weights, a training step, early stopping's restore and a change of mask
 * set, forward equals a fresh model given the same weights. */
static void check_fresh(made_model *m, const made_config *cfg, const float *x, size_t n,
                        const char *when)
{
    const size_t np = made_model_num_params(m), W = (size_t)cfg->event_size * cfg->params;
    float *w = malloc(np * sizeof *w), *y1 = malloc(n * W * sizeof *y1), *y2 = malloc(n * W * sizeof *y2);
    made_model *f = NULL;
    CHECK_OK(made_model_get_weights(m, w, np));
    CHECK_OK(made_model_create(&f, cfg));
    if (f) {
        CHECK_OK(made_model_set_weights(f, w, np));
        CHECK_OK(made_model_set_mask(f, made_model_mask_index(m)));
        CHECK_OK(made_model_forward(m, y1, x, NULL, n));
        CHECK_OK(made_model_forward(f, y2, x, NULL, n));
        if (memcmp(y1, y2, n * W * sizeof *y1) != 0)
            HARNESS_FAIL_("forward after %s differs from a fresh model with the same weights", when);
    }
    made_model_free(f);
    free(w);
    free(y1);
    free(y2);
}

/* After a training step with one mask set, the optimiser has written the
 * packed copies of W itself (Wp and WTp): they must equal a fresh packing of
 * the updated W, bit for bit, or the next step computes with stale weights. */
static void check_packs_fresh(made_model *m, const char *when)
{
    float *wp[MADE_MAX_HIDDEN + 1], *wt[MADE_MAX_HIDDEN + 1];
    size_t nwp[MADE_MAX_HIDDEN + 1], nwt[MADE_MAX_HIDDEN + 1];
    for (int l = 0; l < m->nl; l++) {
        const made__dense *L = made__active_layer(m, l);
        nwp[l] = (size_t)made__dense_panels(L->out) * MADE_PANEL * L->in;
        nwt[l] = (size_t)made__dense_panels(L->in) * MADE_PANEL * L->out;
        wp[l] = malloc(nwp[l] * sizeof(float));
        wt[l] = malloc(nwt[l] * sizeof(float));
        memcpy(wp[l], L->Wp, nwp[l] * sizeof(float));
        memcpy(wt[l], L->WTp, nwt[l] * sizeof(float));
    }
    made__net_pack(m); /* every layer; outside a parallel region: serial */
    for (int l = 0; l < m->nl; l++) {
        const made__dense *L = made__active_layer(m, l);
        if (memcmp(wp[l], L->Wp, nwp[l] * sizeof(float)) != 0)
            HARNESS_FAIL_("after %s, layer %d: the packed W differs from a fresh packing", when, l);
        if (memcmp(wt[l], L->WTp, nwt[l] * sizeof(float)) != 0)
            HARNESS_FAIL_("after %s, layer %d: the packed W^T differs from a fresh packing", when,
                          l);
        free(wp[l]);
        free(wt[l]);
    }
}

static void test_packed_weights_follow_params(void)
{
    gen_state = 15;
    for (int masks = 1; masks <= 2; masks++) {
        made_config cfg;
        small_config(&cfg);
        cfg.event_size = 20;
        cfg.hidden_units[0] = 40;
        cfg.num_masks = masks;
        cfg.input_order = MADE_ORDER_RANDOM;
        made_model *m = NULL;
        CHECK_OK(made_model_create(&m, &cfg));
        if (!m) return;
        const size_t n = 50, np = made_model_num_params(m);
        float *x = malloc(n * 20 * sizeof *x), *y = malloc(n * 20 * sizeof *y);
        for (size_t i = 0; i < n * 20; i++) x[i] = (float)(gen_next() & 1);
        CHECK_OK(made_model_forward(m, y, x, NULL, n)); /* packs */
        float *w = malloc(np * sizeof *w);
        CHECK_OK(made_model_get_weights(m, w, np));
        for (size_t i = 0; i < np; i++) w[i] = w[i] * 1.5f + 0.01f;
        CHECK_OK(made_model_set_weights(m, w, np));
        check_fresh(m, &cfg, x, n, "set_weights");
        made_trainer *t = NULL;
        made_train_config tc;
        made_train_config_default(&tc);
        tc.batch_size = 25;
        tc.epochs = 3;
        tc.patience = 1;
        tc.lr = 0.5; /* large steps: validation gets worse, the best epoch is restored */
        CHECK_OK(made_trainer_create(&t, m, &tc));
        double nll;
        CHECK_OK(made_trainer_step(t, x, NULL, n, &nll));
        if (masks == 1) check_packs_fresh(m, "a training step");
        CHECK_OK(made_trainer_step(t, x, NULL, n, &nll));
        if (masks == 1) check_packs_fresh(m, "a second training step");
        check_fresh(m, &cfg, x, n, "a training step");
        CHECK_OK(made_trainer_fit(t, x, NULL, n, x, NULL, n, NULL, NULL));
        check_fresh(m, &cfg, x, n, "fit with early stopping");
        if (masks > 1) {
            CHECK_OK(made_model_set_mask(m, 1 - made_model_mask_index(m)));
            check_fresh(m, &cfg, x, n, "set_mask");
        }
        made_trainer_free(t);
        made_model_free(m);
        free(x);
        free(y);
        free(w);
    }
}

/* On a CPU without AVX2+FMA every comparison with the avx2 path is left out
 * of the cases above; this case reports that as a skip. */
static void test_avx2_path_present(void)
{
    if (!have_avx2) {
        SKIP("this CPU has no AVX2+FMA: only the portable path was checked");
        return;
    }
    CHECK(made__kernel_avx2.tile != NULL);
}

int main(void)
{
    have_avx2 = made__kernel_avx2_ok();
    RUN(test_avx2_path_present);
    RUN(test_tile_paths);
    RUN(test_ptile_paths);
    RUN(test_unit_and_transpose_paths);
    RUN(test_grad_tree);
    RUN(test_env_variable);
    RUN(test_models_both_paths);
    RUN(test_packed_weights_follow_params);
    return harness_summary("test_kernel");
}
