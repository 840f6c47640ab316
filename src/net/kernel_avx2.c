/* kernel_avx2.c - the AVX2+FMA path of kernel.h's two primitives.
 *
 * Only this file uses AVX2 (through the target attribute), so the rest of the
 * library builds for baseline x86-64 and the path is chosen at run time. A
 * lane of a vector accumulator holds one chain of kernel.h, and
 * _mm256_fmadd_ps rounds each lane exactly as fmaf does, so this path and the
 * portable one give the same bits.
 *
 * Tile: 6 rows x 16 columns in 12 accumulators. Per k: two loads of B, six
 * broadcasts of A, twelve FMAs. Short tiles (mr < 6) compute rows they do not
 * store (their A pointer repeats row 0); narrow tiles (nr < 16) use masked
 * loads and stores, so nothing outside the tile is read or written. */
#include "net/grad_tree.h"
#include "net/kernel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

/* Lane masks for the first nr of 16 columns. */
AVX2 static inline void col_masks(int nr, __m256i *m0, __m256i *m1)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    *m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), idx);
    *m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), idx);
}

/* A tile's initial values, one row (two vectors) at a time: a row of C
 * itself, the bias row, or zero (src NULL). Whole-width tiles use plain loads
 * and stores: masked stores are slow on some CPUs (microcoded), and a tile's
 * 12 stores would cost as much as many of its FMAs. Rows go through named
 * accumulators, never an array: GCC kept an array of them on the stack, a
 * store and a reload of all 12 on every call. */
AVX2 static inline __attribute__((always_inline)) void
row_load(__m256 *x0, __m256 *x1, const float *src, int full, __m256i m0, __m256i m1)
{
    if (!src) {
        *x0 = *x1 = _mm256_setzero_ps();
    } else if (full) {
        *x0 = _mm256_loadu_ps(src);
        *x1 = _mm256_loadu_ps(src + 8);
    } else {
        *x0 = _mm256_maskload_ps(src, m0);
        *x1 = _mm256_maskload_ps(src + 8, m1);
    }
}

AVX2 static inline __attribute__((always_inline)) void
row_store(float *dst, __m256 x0, __m256 x1, int full, __m256i m0, __m256i m1)
{
    if (full) {
        _mm256_storeu_ps(dst, x0);
        _mm256_storeu_ps(dst + 8, x1);
    } else {
        _mm256_maskstore_ps(dst, m0, x0);
        _mm256_maskstore_ps(dst + 8, m1, x1);
    }
}

/* The 12 accumulators c00 ... c51 of a tile from C (rows past mr repeat row
 * 0), the bias or zero; and the first mr rows of them into C. */
#define TILE_SRC(i) (load_c ? C + ((i) < mr ? (i) : 0) * ldc : bias)
#define TILE_LOAD()                                                        \
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;     \
    row_load(&c00, &c01, TILE_SRC(0), full, m0, m1);                       \
    row_load(&c10, &c11, TILE_SRC(1), full, m0, m1);                       \
    row_load(&c20, &c21, TILE_SRC(2), full, m0, m1);                       \
    row_load(&c30, &c31, TILE_SRC(3), full, m0, m1);                       \
    row_load(&c40, &c41, TILE_SRC(4), full, m0, m1);                       \
    row_load(&c50, &c51, TILE_SRC(5), full, m0, m1);
#define TILE_STORE_TO(D, F)                                                \
    {                                                                      \
        row_store(D, F(c00), F(c01), full, m0, m1);                        \
        if (mr > 1) row_store(D + ldc, F(c10), F(c11), full, m0, m1);      \
        if (mr > 2) row_store(D + 2 * ldc, F(c20), F(c21), full, m0, m1);  \
        if (mr > 3) row_store(D + 3 * ldc, F(c30), F(c31), full, m0, m1);  \
        if (mr > 4) row_store(D + 4 * ldc, F(c40), F(c41), full, m0, m1);  \
        if (mr > 5) row_store(D + 5 * ldc, F(c50), F(c51), full, m0, m1);  \
    }
#define TILE_AS_IS(x) (x)
#define TILE_STORE() TILE_STORE_TO(C, TILE_AS_IS)
/* max(x, 0) is acc > 0 ? acc : 0 for every x: maxps returns its second
 * operand (+0) when x is NaN or a zero of either sign. */
#define TILE_RELU(x) _mm256_max_ps(x, _mm256_setzero_ps())

/* One row of a tile's step: the row's value of A at addr (any pointer type)
 * broadcast into x, times the step's two vectors of B (b0, b1), added to the
 * row's two accumulators. Every tile below is made of these. */
#define FMA_ROW_AT(addr, x0, x1)                                           \
    x = _mm256_broadcast_ss((const float *)(addr));                        \
    x0 = _mm256_fmadd_ps(x, b0, x0);                                       \
    x1 = _mm256_fmadd_ps(x, b1, x1);

/* The k loop, with full or masked loads of B. A macro so that both variants
 * keep all 12 accumulators in registers. Rows 0-2 of A are read through p,
 * rows 3-5 through q, at byte offsets 0, rs and 2 rs, so a step of k moves
 * three pointers. Rows past mr repeat an earlier row (their results are not
 * stored). */
#define FMA_ROW(ptr, off, x0, x1) FMA_ROW_AT((const char *)(ptr) + (off), x0, x1)
#define TILE_STEP(LOAD0, LOAD1)                                            \
    {                                                                      \
        const __m256 b0 = LOAD0, b1 = LOAD1;                               \
        __m256 x;                                                          \
        FMA_ROW(p, 0, c00, c01)                                            \
        FMA_ROW(p, o1, c10, c11)                                           \
        FMA_ROW(p, o2, c20, c21)                                           \
        FMA_ROW(q, 0, c30, c31)                                            \
        FMA_ROW(q, o4, c40, c41)                                           \
        FMA_ROW(q, o5, c50, c51)                                           \
        p += csa;                                                          \
        q += csa;                                                          \
        b += ldb;                                                          \
    }
#define TILE_LOOP(LOAD0, LOAD1)                                            \
    {                                                                      \
        const float *p = A, *q = A + (mr > 3) * 3 * rsa, *b = B;           \
        int k = 0;                                                         \
        for (; k + 2 <= K; k += 2) {                                       \
            TILE_STEP(LOAD0, LOAD1)                                        \
            TILE_STEP(LOAD0, LOAD1)                                        \
        }                                                                  \
        if (k < K) TILE_STEP(LOAD0, LOAD1)                                 \
    }

/* The k loop of a short tile (mr <= 3): rows 0-2 only, in 6 accumulators, so
 * the rows a tile does not store cost nothing (a thread's share of rows
 * often ends in one). */
#define TILE_STEP3(LOAD0, LOAD1)                                           \
    {                                                                      \
        const __m256 b0 = LOAD0, b1 = LOAD1;                               \
        __m256 x;                                                          \
        FMA_ROW(p, 0, c00, c01)                                            \
        FMA_ROW(p, o1, c10, c11)                                           \
        FMA_ROW(p, o2, c20, c21)                                           \
        p += csa;                                                          \
        b += ldb;                                                          \
    }
#define TILE_LOOP3(LOAD0, LOAD1)                                           \
    {                                                                      \
        const float *p = A, *b = B;                                        \
        for (int k = 0; k < K; k++) TILE_STEP3(LOAD0, LOAD1)               \
    }

/* The k loop of a whole tile (mr = 6) on rows of A (csa = 1): rows 0-2 at
 * p, p + rs, p + 2 rs and rows 3-5 at q likewise, so the six broadcasts use
 * three registers (p, q, rs) and the addressing modes' scale. */
#define TILE_STEP_ROWS(LOAD0, LOAD1)                                       \
    {                                                                      \
        const __m256 b0 = LOAD0, b1 = LOAD1;                               \
        __m256 x;                                                          \
        FMA_ROW_AT(p, c00, c01)                                            \
        FMA_ROW_AT(p + rs, c10, c11)                                       \
        FMA_ROW_AT(p + 2 * rs, c20, c21)                                   \
        FMA_ROW_AT(q, c30, c31)                                            \
        FMA_ROW_AT(q + rs, c40, c41)                                       \
        FMA_ROW_AT(q + 2 * rs, c50, c51)                                   \
        p += sizeof(float);                                                \
        q += sizeof(float);                                                \
        b += ldb;                                                          \
    }
#define TILE_LOOP_ROWS(LOAD0, LOAD1)                                       \
    {                                                                      \
        const char *p = (const char *)A, *q = (const char *)(A + 3 * rsa); \
        const float *b = B;                                                \
        int k = 0;                                                         \
        for (; k + 2 <= K; k += 2) {                                       \
            TILE_STEP_ROWS(LOAD0, LOAD1)                                   \
            TILE_STEP_ROWS(LOAD0, LOAD1)                                   \
        }                                                                  \
        if (k < K) TILE_STEP_ROWS(LOAD0, LOAD1)                            \
    }

AVX2 static void tile_avx2(int K, const float *A, ptrdiff_t rsa, ptrdiff_t csa, const float *B,
                           ptrdiff_t ldb, float *C, ptrdiff_t ldc, int mr, int nr,
                           const float *bias, int load_c)
{
    const ptrdiff_t rs = rsa * (ptrdiff_t)sizeof(float);
    const ptrdiff_t o1 = (mr > 1) * rs, o2 = (mr > 2) * 2 * rs, o4 = (mr > 4) * rs,
                    o5 = (mr > 5) * 2 * rs;
    __m256i m0, m1;
    col_masks(nr, &m0, &m1);
    const int full = nr == MADE_NR;
    TILE_LOAD()
    if (mr <= 3) {
        if (full) {
            TILE_LOOP3(_mm256_loadu_ps(b), _mm256_loadu_ps(b + 8))
        } else {
            TILE_LOOP3(_mm256_maskload_ps(b, m0), _mm256_maskload_ps(b + 8, m1))
        }
    } else if (mr == MADE_MR && csa == 1 && full) {
        TILE_LOOP_ROWS(_mm256_loadu_ps(b), _mm256_loadu_ps(b + 8))
    } else if (full) {
        TILE_LOOP(_mm256_loadu_ps(b), _mm256_loadu_ps(b + 8))
    } else {
        TILE_LOOP(_mm256_maskload_ps(b, m0), _mm256_maskload_ps(b + 8, m1))
    }
    TILE_STORE()
}

/* The packed tile (kernel.h): A's six rows from one pointer (a[0..5] per k)
 * and B's two vectors from another, both moving by fixed steps, so a step of
 * k is two loads, six broadcasts and twelve FMAs with immediate offsets.
 * Only the first and last touch of C (or the bias) depend on mr and nr. */
#define PT_STEP(R, u)                                                       \
    {                                                                      \
        const __m256 b0 = _mm256_loadu_ps(b + (u) * MADE_NR);              \
        const __m256 b1 = _mm256_loadu_ps(b + (u) * MADE_NR + 8);           \
        const float *ak = a + (u) * MADE_MR;                               \
        __m256 x;                                                          \
        FMA_ROW_AT(ak, c00, c01)                                           \
        FMA_ROW_AT(ak + 1, c10, c11)                                       \
        FMA_ROW_AT(ak + 2, c20, c21)                                       \
        if ((R) > 3) {                                                     \
            FMA_ROW_AT(ak + 3, c30, c31)                                   \
            FMA_ROW_AT(ak + 4, c40, c41)                                   \
            FMA_ROW_AT(ak + 5, c50, c51)                                   \
        }                                                                  \
    }
/* The k loop of a short tile (mr <= 3): rows 0-2 only. */
#define PT_LOOP3                                                           \
    {                                                                      \
        const float *a = A, *b = B;                                        \
        int k = 0;                                                         \
        for (; k + 4 <= K; k += 4) {                                       \
            PT_STEP(3, 0) PT_STEP(3, 1) PT_STEP(3, 2) PT_STEP(3, 3)        \
            a += 4 * MADE_MR;                                              \
            b += 4 * MADE_NR;                                              \
        }                                                                  \
        for (; k < K; k++) {                                               \
            PT_STEP(3, 0)                                                  \
            a += MADE_MR;                                                  \
            b += MADE_NR;                                                  \
        }                                                                  \
    }

/* One vector of columns (B's columns col .. col+7) over the steps k0 .. k1-1,
 * in the accumulators x0 ... x5 of rows 0-5 (R = 6) or x0 ... x2 of rows 0-2
 * (R = 3): a narrow tile, a short one, and a panel's right half past its
 * left half's K. AT(i, q) is the address of A's value for row i at step q:
 * PT_AT in the packed tile, RT_AT (its row pointers) in the row tile. */
#define HALF_LOOP(R, AT, k0, k1, col, x0, x1, x2, x3, x4, x5)               \
    {                                                                      \
        const float *b = B + (size_t)(k0) * MADE_NR + (col);               \
        for (int q = (k0); q < (k1); q++, b += MADE_NR) {                  \
            const __m256 bk = _mm256_loadu_ps(b);                          \
            x0 = _mm256_fmadd_ps(_mm256_broadcast_ss(AT(0, q)), bk, x0);   \
            x1 = _mm256_fmadd_ps(_mm256_broadcast_ss(AT(1, q)), bk, x1);   \
            x2 = _mm256_fmadd_ps(_mm256_broadcast_ss(AT(2, q)), bk, x2);   \
            if ((R) > 3) {                                                 \
                x3 = _mm256_fmadd_ps(_mm256_broadcast_ss(AT(3, q)), bk, x3); \
                x4 = _mm256_fmadd_ps(_mm256_broadcast_ss(AT(4, q)), bk, x4); \
                x5 = _mm256_fmadd_ps(_mm256_broadcast_ss(AT(5, q)), bk, x5); \
            }                                                              \
        }                                                                  \
    }
#define PT_AT(i, q) (A + (size_t)(q) * MADE_MR + (i))

/* The 6-row loop over whole groups of four k, in assembly. Written with the
 * intrinsics above, GCC keeps only 10 of the 12 accumulators in registers
 * and spills two to the stack inside the loop, which cost about 8% of the
 * tile's speed (measured on an AMD EPYC, Zen 3). The assembly is the same
 * instructions PT_STEP asks for, in the same order of k (two loads of B, six
 * broadcasts of A, twelve FMAs per k), with all 12 accumulators as register
 * operands; ymm12-15 hold B's two vectors and the broadcasts. Operands:
 * pa, pb (A and B) advance by four steps of k per pass; cnt >= 1 passes. */
#define PTA_ROW(AO, T, C0, C1)                                             \
    "vbroadcastss " AO "(%[a]), %%" T "\n\t"                               \
    "vfmadd231ps %%ymm12, %%" T ", %[" C0 "]\n\t"                          \
    "vfmadd231ps %%ymm13, %%" T ", %[" C1 "]\n\t"
#define PTA_STEP(B0, B1, A0, A1, A2, A3, A4, A5)                           \
    "vmovups " B0 "(%[b]), %%ymm12\n\t"                                    \
    "vmovups " B1 "(%[b]), %%ymm13\n\t"                                    \
    PTA_ROW(A0, "ymm14", "c00", "c01") PTA_ROW(A1, "ymm15", "c10", "c11")  \
    PTA_ROW(A2, "ymm14", "c20", "c21") PTA_ROW(A3, "ymm15", "c30", "c31")  \
    PTA_ROW(A4, "ymm14", "c40", "c41") PTA_ROW(A5, "ymm15", "c50", "c51")
#define PT_ASM_LOOP6(pa, pb, cnt)                                          \
    __asm__("1:\n\t"                                                       \
            PTA_STEP("0", "32", "0", "4", "8", "12", "16", "20")           \
            PTA_STEP("64", "96", "24", "28", "32", "36", "40", "44")       \
            PTA_STEP("128", "160", "48", "52", "56", "60", "64", "68")     \
            PTA_STEP("192", "224", "72", "76", "80", "84", "88", "92")     \
            "add $96, %[a]\n\t"                                            \
            "add $256, %[b]\n\t"                                           \
            "dec %[n]\n\t"                                                 \
            "jnz 1b\n\t"                                                   \
            : [a] "+r"(pa), [b] "+r"(pb), [n] "+r"(cnt), [c00] "+x"(c00),  \
              [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11),           \
              [c20] "+x"(c20), [c21] "+x"(c21), [c30] "+x"(c30),           \
              [c31] "+x"(c31), [c40] "+x"(c40), [c41] "+x"(c41),           \
              [c50] "+x"(c50), [c51] "+x"(c51)                             \
            : /* reads memory at a and b */                                \
            : "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory")

AVX2 static void ptile_avx2(int K, int K2, const float *A, const float *B, float *C,
                            ptrdiff_t ldc, int mr, int nr, const float *bias, int load_c,
                            float *relu)
{
    __m256i m0, m1;
    col_masks(nr, &m0, &m1);
    const int full = nr == MADE_NR;
    TILE_LOAD()
    /* Narrow tiles (nr <= 8, a panel's ragged edge: 500 units leave 4
     * columns) run columns 0-7 only, in 6 accumulators; short tiles (mr <= 3)
     * run rows 0-2 only. */
    if (nr <= 8) {
        HALF_LOOP(6, PT_AT, 0, K, 0, c00, c10, c20, c30, c40, c50)
    } else if (mr > 3) {
        const float *a = A, *b = B;
        long n = K / 4;
        if (n > 0) PT_ASM_LOOP6(a, b, n);
        for (int k = K & ~3; k < K; k++) {
            PT_STEP(6, 0)
            a += MADE_MR;
            b += MADE_NR;
        }
    } else {
        PT_LOOP3
    }
    /* The right half's chains past K: columns 8-15. */
    if (nr > 8) HALF_LOOP(6, PT_AT, K, K2, 8, c01, c11, c21, c31, c41, c51)
    if (relu != C) TILE_STORE()
    if (relu) TILE_STORE_TO(relu, TILE_RELU)
}

/* The row tile (kernel.h's rtile): row i of A read in place at r_i = A +
 * i*lda. Rows past mr read row 0 again (their results are not stored), so
 * no row past the tile is touched. The 6-row loop over whole groups of four
 * k is assembly like the packed tile's, the six rows addressed as r8 +
 * {0, 1, 2} rs and r10 + {0, 1, 2} rs (r10 = r8 + 3 rs, rs = lda in bytes);
 * its pointers live in scratch registers, so the asm has 28 operands (GCC
 * takes at most 30). The rest of k, and short tiles, go a k at a time per
 * half panel (HALF_LOOP). */
#define RTA_ROW(AO, BASE, T, C0, C1)                                       \
    "vbroadcastss " AO "(" BASE "), %%" T "\n\t"                           \
    "vfmadd231ps %%ymm12, %%" T ", %[" C0 "]\n\t"                          \
    "vfmadd231ps %%ymm13, %%" T ", %[" C1 "]\n\t"
#define RTA_STEP(B0, B1, AO)                                               \
    "vmovups " B0 "(%%r9), %%ymm12\n\t"                                    \
    "vmovups " B1 "(%%r9), %%ymm13\n\t"                                    \
    RTA_ROW(AO, "%%r8", "ymm14", "c00", "c01")                             \
    RTA_ROW(AO, "%%r8,%[rs],1", "ymm15", "c10", "c11")                     \
    RTA_ROW(AO, "%%r8,%[rs],2", "ymm14", "c20", "c21")                     \
    RTA_ROW(AO, "%%r10", "ymm15", "c30", "c31")                            \
    RTA_ROW(AO, "%%r10,%[rs],1", "ymm14", "c40", "c41")                    \
    RTA_ROW(AO, "%%r10,%[rs],2", "ymm15", "c50", "c51")
#define RT_ASM_LOOP6(pa, rsb, pb, cnt)                                     \
    __asm__("mov %[a], %%r8\n\t"                                           \
            "mov %[b], %%r9\n\t"                                           \
            "lea (%[a],%[rs],2), %%r10\n\t"                                \
            "add %[rs], %%r10\n\t"                                         \
            "mov %[n], %%r11\n\t"                                          \
            "1:\n\t"                                                       \
            RTA_STEP("0", "32", "0") RTA_STEP("64", "96", "4")             \
            RTA_STEP("128", "160", "8") RTA_STEP("192", "224", "12")       \
            "add $16, %%r8\n\t"                                            \
            "add $16, %%r10\n\t"                                           \
            "add $256, %%r9\n\t"                                           \
            "dec %%r11\n\t"                                                \
            "jnz 1b\n\t"                                                   \
            : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10),           \
              [c11] "+x"(c11), [c20] "+x"(c20), [c21] "+x"(c21),           \
              [c30] "+x"(c30), [c31] "+x"(c31), [c40] "+x"(c40),           \
              [c41] "+x"(c41), [c50] "+x"(c50), [c51] "+x"(c51)            \
            : [a] "r"(pa), [rs] "r"(rsb), [b] "r"(pb), [n] "r"(cnt)        \
            : "r8", "r9", "r10", "r11", "xmm12", "xmm13", "xmm14", "xmm15", \
              "cc", "memory")
#define RT_AT(i, q) (r##i + (q))

AVX2 static void rtile_avx2(int K, int K2, const float *A, ptrdiff_t lda, const float *B,
                            float *C, ptrdiff_t ldc, int mr, int nr, const float *bias, int load_c,
                            float *relu)
{
    __m256i m0, m1;
    col_masks(nr, &m0, &m1);
    const int full = nr == MADE_NR;
    TILE_LOAD()
    const float *r0 = A, *r1 = A + (mr > 1) * lda, *r2 = A + (mr > 2) * 2 * lda,
                *r3 = A + (mr > 3) * 3 * lda, *r4 = A + (mr > 4) * 4 * lda,
                *r5 = A + (mr > 5) * 5 * lda;
    int k = 0;
    if (mr == MADE_MR && nr > 8 && K >= 4) {
        const long passes = K / 4;
        RT_ASM_LOOP6(A, lda * (ptrdiff_t)sizeof(float), B, passes);
        k = K & ~3;
    }
    if (mr > 3) {
        HALF_LOOP(6, RT_AT, k, K, 0, c00, c10, c20, c30, c40, c50)
        if (nr > 8) HALF_LOOP(6, RT_AT, k, K2, 8, c01, c11, c21, c31, c41, c51)
    } else {
        HALF_LOOP(3, RT_AT, k, K, 0, c00, c10, c20, c30, c40, c50)
        if (nr > 8) HALF_LOOP(3, RT_AT, k, K2, 8, c01, c11, c21, c31, c41, c51)
    }
    if (relu != C) TILE_STORE()
    if (relu) TILE_STORE_TO(relu, TILE_RELU)
}

/* An 8 x 8 block transposed in registers (the usual unpack / shuffle /
 * permute sequence): row i of the block in, column i out, in place. */
AVX2 static inline __attribute__((always_inline)) void
transpose8(__m256 *v0, __m256 *v1, __m256 *v2, __m256 *v3, __m256 *v4, __m256 *v5, __m256 *v6,
           __m256 *v7)
{
    const __m256 t0 = _mm256_unpacklo_ps(*v0, *v1), t1 = _mm256_unpackhi_ps(*v0, *v1),
                 t2 = _mm256_unpacklo_ps(*v2, *v3), t3 = _mm256_unpackhi_ps(*v2, *v3),
                 t4 = _mm256_unpacklo_ps(*v4, *v5), t5 = _mm256_unpackhi_ps(*v4, *v5),
                 t6 = _mm256_unpacklo_ps(*v6, *v7), t7 = _mm256_unpackhi_ps(*v6, *v7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    *v0 = _mm256_permute2f128_ps(u0, u4, 0x20);
    *v1 = _mm256_permute2f128_ps(u1, u5, 0x20);
    *v2 = _mm256_permute2f128_ps(u2, u6, 0x20);
    *v3 = _mm256_permute2f128_ps(u3, u7, 0x20);
    *v4 = _mm256_permute2f128_ps(u0, u4, 0x31);
    *v5 = _mm256_permute2f128_ps(u1, u5, 0x31);
    *v6 = _mm256_permute2f128_ps(u2, u6, 0x31);
    *v7 = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* The first seven vectors of a transposed block, at d, d + step, ...,
 * d + 6 step (the eighth's store differs: pack_avx2 may mask it). */
AVX2 static inline __attribute__((always_inline)) void
store7(float *d, ptrdiff_t step, __m256 v0, __m256 v1, __m256 v2, __m256 v3, __m256 v4, __m256 v5,
       __m256 v6)
{
    _mm256_storeu_ps(d, v0);
    _mm256_storeu_ps(d + step, v1);
    _mm256_storeu_ps(d + 2 * step, v2);
    _mm256_storeu_ps(d + 3 * step, v3);
    _mm256_storeu_ps(d + 4 * step, v4);
    _mm256_storeu_ps(d + 5 * step, v5);
    _mm256_storeu_ps(d + 6 * step, v6);
}

/* Eight values of k at a time: the six rows (and two of zeros) transposed
 * in registers (transpose8), each k's eight floats stored at its
 * place in ap; the last two of them are overwritten by the next k, so in the
 * group that ends the panel the last k is stored with a mask of six lanes
 * (nothing is written past ap[K*MADE_MR]), and a tail of fewer than eight
 * goes one value at a time. */
AVX2 static void pack_avx2(int K, const float *const *rows, float *ap)
{
    int k = 0;
    const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    for (; k + 8 <= K; k += 8) {
        __m256 v0 = _mm256_loadu_ps(rows[0] + k), v1 = _mm256_loadu_ps(rows[1] + k),
               v2 = _mm256_loadu_ps(rows[2] + k), v3 = _mm256_loadu_ps(rows[3] + k),
               v4 = _mm256_loadu_ps(rows[4] + k), v5 = _mm256_loadu_ps(rows[5] + k),
               v6 = _mm256_setzero_ps(), v7 = _mm256_setzero_ps();
        transpose8(&v0, &v1, &v2, &v3, &v4, &v5, &v6, &v7);
        float *d = ap + (size_t)k * MADE_MR;
        store7(d, MADE_MR, v0, v1, v2, v3, v4, v5, v6);
        if (k + 8 < K)
            _mm256_storeu_ps(d + 7 * MADE_MR, v7);
        else
            _mm256_maskstore_ps(d + 7 * MADE_MR, six, v7);
    }
    for (; k < K; k++)
        for (int i = 0; i < MADE_MR; i++) ap[(size_t)k * MADE_MR + i] = rows[i][k];
}

/* Rows in blocks of 32 (four vectors sharing one broadcast of w[k]), then
 * blocks of 8, then a masked tail. */
AVX2 static void unit_avx2(int K, const float *X, ptrdiff_t ldx, const float *w, ptrdiff_t ldw,
                           float *out, int n, float b, int load)
{
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 s0, s1, s2, s3;
        if (load) {
            s0 = _mm256_loadu_ps(out + i);
            s1 = _mm256_loadu_ps(out + i + 8);
            s2 = _mm256_loadu_ps(out + i + 16);
            s3 = _mm256_loadu_ps(out + i + 24);
        } else {
            s0 = s1 = s2 = s3 = _mm256_set1_ps(b);
        }
        const float *x = X + i;
        for (int k = 0; k < K; k++) {
            const __m256 wk = _mm256_broadcast_ss(w + k * ldw);
            const float *xk = x + k * ldx;
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(xk), wk, s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(xk + 8), wk, s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(xk + 16), wk, s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(xk + 24), wk, s3);
        }
        _mm256_storeu_ps(out + i, s0);
        _mm256_storeu_ps(out + i + 8, s1);
        _mm256_storeu_ps(out + i + 16, s2);
        _mm256_storeu_ps(out + i + 24, s3);
    }
    for (; i < n; i += 8) {
        __m256i m, tmp;
        col_masks(n - i, &m, &tmp);
        __m256 s = load ? _mm256_maskload_ps(out + i, m) : _mm256_set1_ps(b);
        for (int k = 0; k < K; k++)
            s = _mm256_fmadd_ps(_mm256_maskload_ps(X + k * ldx + i, m),
                                _mm256_broadcast_ss(w + k * ldw), s);
        _mm256_maskstore_ps(out + i, m, s);
    }
}

/* 8 x 8 blocks transposed in registers (transpose8), the edges one value at
 * a time. */
AVX2 static void transpose_avx2(int rows, int cols, const float *src, ptrdiff_t lds, float *dst,
                                ptrdiff_t ldd)
{
    int r = 0;
    for (; r + 8 <= rows; r += 8) {
        int j = 0;
        for (; j + 8 <= cols; j += 8) {
            const float *s = src + r * lds + j;
            __m256 v0 = _mm256_loadu_ps(s), v1 = _mm256_loadu_ps(s + lds),
                   v2 = _mm256_loadu_ps(s + 2 * lds), v3 = _mm256_loadu_ps(s + 3 * lds),
                   v4 = _mm256_loadu_ps(s + 4 * lds), v5 = _mm256_loadu_ps(s + 5 * lds),
                   v6 = _mm256_loadu_ps(s + 6 * lds), v7 = _mm256_loadu_ps(s + 7 * lds);
            transpose8(&v0, &v1, &v2, &v3, &v4, &v5, &v6, &v7);
            float *d = dst + j * ldd + r;
            store7(d, ldd, v0, v1, v2, v3, v4, v5, v6);
            _mm256_storeu_ps(d + 7 * ldd, v7);
        }
        for (; j < cols; j++)
            for (int i = r; i < r + 8; i++) dst[j * ldd + i] = src[i * lds + j];
    }
    for (; r < rows; r++)
        for (int j = 0; j < cols; j++) dst[j * ldd + r] = src[r * lds + j];
}


/* The weight-gradient tile (kernel.h): per block of rows, a chain from zero in
 * the 12 accumulators; then the block tree as a binary counter. After block q
 * the stack holds the finished subtrees, largest first; block q merges with
 * as many of them as q + 1 has trailing zero bits (left + right, each merge a
 * node of the tree), and the rest fold from the right at the end:
 * s0 + (s1 + (... + s_top)). That is g(0, nb): the tree's left subtrees are
 * the perfect ones of the binary counter. */
#define GT_STEP                                                            \
    {                                                                      \
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);\
        __m256 x;                                                          \
        FMA_ROW_AT(a, c00, c01)                                            \
        FMA_ROW_AT(a + 1, c10, c11)                                        \
        FMA_ROW_AT(a + 2, c20, c21)                                        \
        FMA_ROW_AT(a + 3, c30, c31)                                        \
        FMA_ROW_AT(a + 4, c40, c41)                                        \
        FMA_ROW_AT(a + 5, c50, c51)                                        \
        a += ars;                                                          \
        b += MADE_NR;                                                      \
    }
/* Applies OP(register, slot) to the 12 accumulators in order. */
#define GT_ALL(OP)                                                         \
    OP(c00, 0) OP(c01, 1) OP(c10, 2) OP(c11, 3) OP(c20, 4) OP(c21, 5)      \
    OP(c30, 6) OP(c31, 7) OP(c40, 8) OP(c41, 9) OP(c50, 10) OP(c51, 11)
#define GT_ZERO(r, k) r = _mm256_setzero_ps();
#define GT_MERGE(r, k) r = _mm256_add_ps(_mm256_load_ps(top + 8 * (k)), r);
#define GT_PUSH(r, k) _mm256_store_ps(top + 8 * (k), r);

/* The block tree over the accumulators that ALL names (GT_ALL: the whole
 * tile; GT_ROW0: row 0 only), each block's rows by STEP. */
#define GT_ROW0(OP) OP(c00, 0) OP(c01, 1)
#define GT_STEP_ROW0                                                       \
    {                                                                      \
        c00 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b), c00);                \
        c01 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b + 8), c01);            \
        b += MADE_NR;                                                      \
    }
#define GT_TREE(ALL, STEP)                                                 \
    for (int q = 0; q < nb; q++) {                                         \
        ALL(GT_ZERO)                                                       \
        const int rows = n - q * MADE_GRAD_BLOCK < MADE_GRAD_BLOCK         \
                             ? n - q * MADE_GRAD_BLOCK                     \
                             : MADE_GRAD_BLOCK;                            \
        int p = 0;                                                         \
        for (; p + 2 <= rows; p += 2) {                                    \
            STEP                                                           \
            STEP                                                           \
        }                                                                  \
        if (p < rows) STEP                                                 \
        for (unsigned c = (unsigned)q + 1; !(c & 1u); c >>= 1) {           \
            top -= MADE_MR * MADE_NR;                                      \
            ALL(GT_MERGE)                                                  \
        }                                                                  \
        ALL(GT_PUSH)                                                       \
        top += MADE_MR * MADE_NR;                                          \
    }                                                                      \
    /* The fold from the right: the top slot is still in the registers. */\
    if (nb > 0) top -= MADE_MR * MADE_NR;                                  \
    while (top > stack) {                                                  \
        top -= MADE_MR * MADE_NR;                                          \
        ALL(GT_MERGE)                                                      \
    }

AVX2 static void gtile_avx2(int n, const float *A, ptrdiff_t ars, const float *B, float *C,
                            ptrdiff_t ldc, int mr, int nr)
{
    /* One 96-float slot per level of the counter (at most 31 levels). */
    _Alignas(32) float stack[32 * MADE_MR * MADE_NR];
    const int nb = made__grad_blocks(n);
    const float *a = A, *b = B;
    float *top = stack; /* the next free slot */
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    GT_ALL(GT_ZERO)
    if (ars == 0) {
        /* One constant row (the bias gradient): every row of the tile is
         * row 0, so only its two accumulators are computed, a sixth of the
         * work. */
        const __m256 a0 = _mm256_broadcast_ss(A);
        GT_TREE(GT_ROW0, GT_STEP_ROW0)
        c10 = c20 = c30 = c40 = c50 = c00;
        c11 = c21 = c31 = c41 = c51 = c01;
    } else {
        GT_TREE(GT_ALL, GT_STEP)
    }
    /* Rows i < mr, columns j < nr, of the result. */
    __m256i m0, m1;
    col_masks(nr, &m0, &m1);
    const int full = nr == MADE_NR;
    TILE_STORE()
}

const made__kernel made__kernel_avx2 = {
    "avx2", tile_avx2, ptile_avx2, rtile_avx2, pack_avx2, unit_avx2, transpose_avx2, gtile_avx2,
};

int made__kernel_avx2_ok(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#else

const made__kernel made__kernel_avx2 = {"avx2", 0, 0, 0, 0, 0, 0, 0};
int made__kernel_avx2_ok(void) { return 0; }

#endif
