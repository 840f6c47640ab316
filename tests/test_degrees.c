/* test_degrees.c - numpy-compatible MT19937, TFP's 'equal' and 'random' hidden
 * degrees and masks, against every number in spec sections 2.2, 2.3 and 2.5. */
#include <stdint.h>
#include <string.h>

#include "core/rng.h"
#include "harness.h"
#include "made.h"
#include "net/degrees.h"

/* Compares int arrays and reports the first difference with both vectors. */
static void check_ints_(const int *got, const int *want, int n, const char *what, int line)
{
    for (int i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            char g[512], w[512];
            size_t gl = 0, wl = 0;
            g[0] = w[0] = '\0';
            for (int k = 0; k < n && gl < sizeof g - 16 && wl < sizeof w - 16; k++) {
                gl += (size_t)snprintf(g + gl, sizeof g - gl, "%s%d", k ? "," : "", got[k]);
                wl += (size_t)snprintf(w + wl, sizeof w - wl, "%s%d", k ? "," : "", want[k]);
            }
            HARNESS_FAIL_("line %d: %s: [%s], want [%s] (first difference at %d)", line, what,
                          g, w, i);
            return;
        }
    }
}
#define CHECK_INTS(got, want, n, what) check_ints_((got), (want), (n), (what), __LINE__)

/* Compares a 0/1 mask [rows, cols] to a text of rows*cols digits (anything
 * else in the text, e.g. spaces between rows, is ignored). */
static void check_mask_(const uint8_t *mask, int rows, int cols, const char *want, const char *what,
                        int line)
{
    int k = 0;
    for (const char *p = want; *p; p++) {
        if (*p != '0' && *p != '1') continue;
        if (k >= rows * cols) {
            HARNESS_FAIL_("line %d: %s: expected text has more than %d entries", line, what,
                          rows * cols);
            return;
        }
        int r = k / cols, c = k % cols;
        if (mask[k] != (uint8_t)(*p - '0')) {
            HARNESS_FAIL_("line %d: %s: entry [%d, %d] is %d, want %c", line, what, r, c,
                          mask[k], *p);
            return;
        }
        k++;
    }
    if (k != rows * cols)
        HARNESS_FAIL_("line %d: %s: expected text has %d entries, mask has %d", line, what, k,
                      rows * cols);
}
#define CHECK_MASK(mask, rows, cols, want, what) \
    check_mask_((mask), (rows), (cols), (want), (what), __LINE__)

/* ---- MT19937 -------------------------------------------------------------- */

static void test_mt_check_values(void)
{
    made__mt mt;
    made__mt_seed(&mt, 5489u);
    CHECK_EQ_INT(made__mt_next(&mt), 3499211612u);

    static const uint32_t want0[5] = {2357136044u, 2546248239u, 3071714933u, 3626093760u,
                                      2588848963u};
    made__mt_seed(&mt, 0u);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(made__mt_next(&mt), want0[i]);

    /* Reseeding restarts the stream exactly. */
    made__mt_seed(&mt, 0u);
    CHECK_EQ_INT(made__mt_next(&mt), want0[0]);

    /* Past the first twist (624 outputs) the stream must stay the reference one:
     * compare two independently seeded generators, and output 10000 of seed 5489
     * (the classic MT19937 check value, 4123659995). */
    made__mt_seed(&mt, 5489u);
    uint32_t v = 0;
    for (int i = 0; i < 10000; i++) v = made__mt_next(&mt);
    CHECK_EQ_INT(v, 4123659995u);
}

static void test_mt_bounded(void)
{
    made__mt mt, raw;
    /* Range with one value: no draw at all (numpy's rule). */
    made__mt_seed(&mt, 0u);
    CHECK_EQ_INT(made__mt_bounded(&mt, 0), 0);
    CHECK_EQ_INT(made__mt_next(&mt), 2357136044u);

    /* Seed 0 trace of spec 2.2: shuffle draws for E = 4 are j = 0, (reject), 1, 0. */
    made__mt_seed(&mt, 0u);
    CHECK_EQ_INT(made__mt_bounded(&mt, 3), 0); /* 2357136044 & 3 = 0 */
    CHECK_EQ_INT(made__mt_bounded(&mt, 2), 1); /* 2546248239 & 3 = 3 rejected, then 1 */
    CHECK_EQ_INT(made__mt_bounded(&mt, 1), 0); /* 3626093760 & 1 = 0 */
    /* Nothing more was consumed: the next raw output is the fifth one. */
    CHECK_EQ_INT(made__mt_next(&mt), 2588848963u);

    /* Masked rejection against the raw stream for many ranges. */
    for (uint32_t r = 1; r < 300; r += 7) {
        made__mt_seed(&mt, 1234u + r);
        made__mt_seed(&raw, 1234u + r);
        uint32_t mask = 1;
        while (mask < r) mask = mask * 2 + 1;
        for (int t = 0; t < 20; t++) {
            uint32_t want;
            do want = made__mt_next(&raw) & mask;
            while (want > r);
            uint32_t got = made__mt_bounded(&mt, r);
            if (got != want) {
                HARNESS_FAIL_("bounded(%u) draw %d: %u, want %u", r, t, got, want);
                return;
            }
        }
    }
    /* Full 31-bit range (mask 2^31 - 1). */
    made__mt_seed(&mt, 7u);
    made__mt_seed(&raw, 7u);
    for (int t = 0; t < 10; t++)
        CHECK_EQ_INT(made__mt_bounded(&mt, 0x7fffffffu), made__mt_next(&raw) & 0x7fffffffu);
}

static void test_mt_shuffle_randint(void)
{
    made__mt mt;
    /* Seed 0, E = 4: order [3, 4, 2, 1] (spec 2.2). */
    int a[4] = {1, 2, 3, 4};
    made__mt_seed(&mt, 0u);
    made__mt_shuffle(&mt, a, 4);
    CHECK_INTS(a, ((int[]){3, 4, 2, 1}), 4, "shuffle seed 0");
    /* Then randint(1, 4, 6) gives the first hidden layer [2, 2, 3, 1, 3, 1]. */
    int h[6];
    made__mt_randint(&mt, 1, 4, h, 6);
    CHECK_INTS(h, ((int[]){2, 2, 3, 1, 3, 1}), 6, "randint seed 0");

    /* Length 0 and 1 shuffles draw nothing. */
    made__mt_seed(&mt, 0u);
    int one[1] = {1};
    made__mt_shuffle(&mt, one, 1);
    made__mt_shuffle(&mt, one, 0);
    CHECK_EQ_INT(one[0], 1);
    CHECK_EQ_INT(made__mt_next(&mt), 2357136044u);

    /* A shuffle is a permutation. */
    int p[50], seen[51];
    for (int i = 0; i < 50; i++) p[i] = i + 1;
    made__mt_seed(&mt, 99u);
    made__mt_shuffle(&mt, p, 50);
    memset(seen, 0, sizeof seen);
    int moved = 0;
    for (int i = 0; i < 50; i++) {
        CHECK(p[i] >= 1 && p[i] <= 50);
        if (p[i] >= 1 && p[i] <= 50) seen[p[i]]++;
        moved += p[i] != i + 1;
    }
    for (int v = 1; v <= 50; v++) CHECK_EQ_INT(seen[v], 1);
    CHECK(moved > 25);

    /* randint with a one-value range returns low and draws nothing. */
    int r[3] = {-1, -1, -1};
    made__mt_seed(&mt, 0u);
    made__mt_randint(&mt, 1, 2, r, 3);
    CHECK_INTS(r, ((int[]){1, 1, 1}), 3, "randint one value");
    CHECK_EQ_INT(made__mt_next(&mt), 2357136044u);
}

/* ---- 'equal' degrees ------------------------------------------------------ */

static void test_equal_table(void)
{
    static const struct {
        int e, h;
        int deg[20];
    } table[] = {
        {2, 1, {1}},
        {2, 3, {1, 1, 1}},
        {3, 1, {1}},
        {3, 2, {1, 2}},
        {3, 4, {1, 1, 2, 2}},
        {3, 5, {1, 1, 1, 2, 2}},
        {4, 3, {1, 2, 3}},
        {4, 5, {1, 1, 2, 2, 3}},
        {5, 2, {2, 3}},
        {5, 4, {1, 2, 3, 4}},
        {5, 8, {1, 1, 2, 2, 3, 3, 4, 4}},
        {5, 9, {1, 1, 2, 2, 2, 3, 3, 4, 4}},
        {9, 5, {2, 3, 4, 6, 7}},
        {10, 3, {3, 5, 7}},
        {10, 20, {1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9, 9}},
    };
    for (size_t t = 0; t < sizeof table / sizeof *table; t++) {
        int deg[20];
        memset(deg, 0x7f, sizeof deg);
        /* First hidden layer: previous minimum is the smallest order value, 1. */
        made__degrees_equal(deg, table[t].h, table[t].e, 1);
        char what[64];
        snprintf(what, sizeof what, "equal E=%d H=%d", table[t].e, table[t].h);
        CHECK_INTS(deg, table[t].deg, table[t].h, what);
        CHECK_EQ_INT(deg[table[t].h < 20 ? table[t].h : 19], table[t].h < 20 ? 0x7f7f7f7f : 9);
    }
    /* E = 1: all zeros, whatever H. */
    for (int h = 1; h <= 17; h++) {
        int deg[17];
        memset(deg, 0x55, sizeof deg);
        made__degrees_equal(deg, h, 1, 1);
        for (int k = 0; k < h; k++) CHECK_EQ_INT(deg[k], 0);
    }
    /* E = 2: every unit degree 1. */
    for (int h = 1; h <= 17; h++) {
        int deg[17];
        made__degrees_equal(deg, h, 2, 1);
        for (int k = 0; k < h; k++) CHECK_EQ_INT(deg[k], 1);
    }
}

static void test_equal_properties(void)
{
    /* For E < 130, H < 200: the integer rule equals ceil(k(E-1)/(H+1)) exactly
     * (computed here with exact integer ceil), non-decreasing, within [1, E-1],
     * and the top degree is E-1 iff H >= E-1. */
    int deg[200];
    for (int e = 2; e < 130; e += 3) {
        for (int h = 1; h < 200; h += 5) {
            made__degrees_equal(deg, h, e, 1);
            for (int k = 1; k <= h; k++) {
                long long num = (long long)k * (e - 1), den = h + 1;
                int want = (int)((num + den - 1) / den);
                if (want < 1) want = 1;
                if (deg[k - 1] != want) {
                    HARNESS_FAIL_("E=%d H=%d k=%d: %d, want %d", e, h, k, deg[k - 1], want);
                    return;
                }
                if (k > 1 && deg[k - 1] < deg[k - 2]) {
                    HARNESS_FAIL_("E=%d H=%d: decreasing at %d", e, h, k);
                    return;
                }
            }
            CHECK_EQ_INT(deg[h - 1] == e - 1, h >= e - 1);
        }
    }
    /* Large sizes: k*(E-1) exceeds 2^31, so 32-bit intermediates would overflow. */
    static int big[5000];
    const int e = 1000000, h = 5000;
    made__degrees_equal(big, h, e, 1);
    for (int k = 1; k <= h; k++) {
        long long num = (long long)k * (e - 1), den = h + 1;
        long long want = (num + den - 1) / den;
        if (big[k - 1] != want) {
            HARNESS_FAIL_("E=%d H=%d k=%d: %d, want %lld", e, h, k, big[k - 1], want);
            return;
        }
    }
    CHECK_EQ_INT(big[h - 1], 999800); /* ceil(5000 * 999999 / 5001) */
}

static void test_equal_lifting(void)
{
    /* Example G: E = 10, hidden [3, 20]. */
    int l1[3], l2[20];
    made__degrees_equal(l1, 3, 10, 1);
    CHECK_INTS(l1, ((int[]){3, 5, 7}), 3, "G layer 1");
    made__degrees_equal(l2, 20, 10, 3);
    CHECK_INTS(l2, ((int[]){3, 3, 3, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9, 9}), 20,
               "G layer 2 lifted");
    /* The lift is capped at E-1: a previous minimum of E gives E-1. */
    int l3[4];
    made__degrees_equal(l3, 4, 5, 5);
    CHECK_INTS(l3, ((int[]){4, 4, 4, 4}), 4, "lift capped at E-1");

    /* The same through made__degrees_build. */
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 10;
    cfg.n_hidden = 2;
    cfg.hidden_units[0] = 3;
    cfg.hidden_units[1] = 20;
    made__degrees d;
    made__mt mt;
    made__mt_seed(&mt, 0u);
    CHECK_OK(made__degrees_build(&d, &cfg, &mt));
    CHECK_EQ_INT(d.n_hidden, 2);
    CHECK_INTS(d.deg[0], ((int[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), 10, "G order");
    CHECK_INTS(d.deg[1], ((int[]){3, 5, 7}), 3, "G build layer 1");
    CHECK_INTS(d.deg[2], l2, 20, "G build layer 2");
    made__degrees_free(&d);
    made__degrees_free(NULL);
}

/* ---- seeded 'random' traces --------------------------------------------- */

static void check_trace(uint32_t seed, int e, int nh, const int *units, const int *order,
                        const int *const *layers)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = e;
    cfg.n_hidden = nh;
    for (int l = 0; l < nh; l++) cfg.hidden_units[l] = units[l];
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.hidden_degrees = MADE_DEGREES_RANDOM;
    made__mt mt;
    made__mt_seed(&mt, seed);
    made__degrees d;
    int rc = made__degrees_build(&d, &cfg, &mt);
    CHECK_OK(rc);
    if (rc) return;
    char what[64];
    snprintf(what, sizeof what, "seed %u E=%d order", seed, e);
    CHECK_INTS(d.deg[0], order, e, what);
    for (int l = 0; l < nh; l++) {
        snprintf(what, sizeof what, "seed %u E=%d layer %d", seed, e, l + 1);
        CHECK_INTS(d.deg[l + 1], layers[l], units[l], what);
    }
    made__degrees_free(&d);
}

static void test_random_traces(void)
{
    const int u66[2] = {6, 6};
    check_trace(0, 4, 2, u66, (int[]){3, 4, 2, 1},
                (const int *const[]){(int[]){2, 2, 3, 1, 3, 1}, (int[]){1, 1, 3, 2, 3, 3}});
    check_trace(1, 4, 2, u66, (int[]){4, 3, 1, 2},
                (const int *const[]){(int[]){2, 2, 1, 1, 2, 1}, (int[]){2, 1, 3, 2, 3, 1}});
    check_trace(42, 4, 2, u66, (int[]){2, 4, 1, 3},
                (const int *const[]){(int[]){3, 1, 1, 3, 2, 3}, (int[]){3, 3, 3, 1, 3, 2}});
    const int u44[2] = {4, 4};
    check_trace(0, 3, 2, u44, (int[]){3, 2, 1},
                (const int *const[]){(int[]){2, 1, 2, 2}, (int[]){2, 2, 2, 2}});
    const int u3[1] = {3};
    check_trace(0, 5, 1, u3, (int[]){3, 1, 2, 4, 5}, (const int *const[]){(int[]){4, 4, 4}});
}

static void test_random_properties(void)
{
    /* Random degrees stay within [low, E-1] where low rises with the previous
     * layer's minimum; E = 1 gives zeros; E = 2 gives ones; orders are permutations. */
    made__mt gen;
    made__mt_seed(&gen, 2024u);
    for (int t = 0; t < 200; t++) {
        made_config cfg;
        made_config_default(&cfg);
        cfg.event_size = 1 + (int)made__mt_bounded(&gen, 11);
        cfg.n_hidden = (int)made__mt_bounded(&gen, 3);
        for (int l = 0; l < cfg.n_hidden; l++) cfg.hidden_units[l] = 1 + (int)made__mt_bounded(&gen, 9);
        cfg.input_order = MADE_ORDER_RANDOM;
        cfg.hidden_degrees = MADE_DEGREES_RANDOM;
        made__mt mt;
        made__mt_seed(&mt, (uint32_t)t);
        made__degrees d;
        int rc = made__degrees_build(&d, &cfg, &mt);
        CHECK_OK(rc);
        if (rc) return;
        int e = cfg.event_size, seen[13] = {0};
        for (int j = 0; j < e; j++)
            if (d.deg[0][j] >= 1 && d.deg[0][j] <= e) seen[d.deg[0][j]]++;
        for (int v = 1; v <= e; v++) CHECK_EQ_INT(seen[v], 1);
        int prev_min = 1;
        for (int l = 1; l <= cfg.n_hidden; l++) {
            int low = prev_min < e - 1 ? prev_min : e - 1, mn = 1 << 30;
            for (int k = 0; k < cfg.hidden_units[l - 1]; k++) {
                int v = d.deg[l][k];
                if (v < low || v > (e > 1 ? e - 1 : 0)) {
                    HARNESS_FAIL_("E=%d layer %d unit %d: degree %d outside [%d, %d]", e, l, k, v,
                                  low, e - 1);
                }
                if (v < mn) mn = v;
            }
            prev_min = mn;
        }
        made__degrees_free(&d);
    }
}

/* TFP's private _make_dense_autoregressive_masks(..., seed=1) (test testRandom):
 * sub-seeds from RandomState(1).randint(2**31, size=2), a fresh RandomState(s1)
 * for the shuffle and a fresh RandomState(s2) for every hidden layer. */
static void test_tfp_seeded_helper(void)
{
    made__mt mt;
    made__mt_seed(&mt, 1u);
    uint32_t s1 = made__mt_bounded(&mt, 0x7fffffffu);
    uint32_t s2 = made__mt_bounded(&mt, 0x7fffffffu);
    CHECK_EQ_INT(s1, 1791095845u);
    CHECK_EQ_INT(s2, 2135392491u);

    int order[3] = {1, 2, 3};
    made__mt_seed(&mt, s1);
    made__mt_shuffle(&mt, order, 3);
    CHECK_INTS(order, ((int[]){2, 3, 1}), 3, "helper order");

    int h1[4], h2[4];
    made__mt_seed(&mt, s2);
    made__mt_randint(&mt, 1, 3, h1, 4); /* low = min(order) = 1, capped at E-1 = 2 */
    CHECK_INTS(h1, ((int[]){2, 1, 2, 2}), 4, "helper layer 1");
    made__mt_seed(&mt, s2);
    made__mt_randint(&mt, 1, 3, h2, 4); /* low = min(h1) = 1 */
    CHECK_INTS(h2, ((int[]){2, 1, 2, 2}), 4, "helper layer 2");

    /* Masks of the fourth hard-coded TFP test (example J). */
    made__degrees d;
    memset(&d, 0, sizeof d);
    d.n_hidden = 2;
    d.deg[0] = order;
    d.deg[1] = h1;
    d.deg[2] = h2;
    const int units[2] = {4, 4};
    uint8_t m0[12], m1[16], m2[24];
    made__mask_build(m0, &d, 0, 3, 2, units);
    made__mask_build(m1, &d, 1, 3, 2, units);
    made__mask_build(m2, &d, 2, 3, 2, units);
    CHECK_MASK(m0, 3, 4, "1011 0000 1111", "J random M_1");
    CHECK_MASK(m1, 4, 4, "1011 1111 1011 1011", "J random M_2");
    CHECK_MASK(m2, 4, 6, "001100 111100 001100 001100", "J random M_out");
}

/* ---- masks ---------------------------------------------------------------- */

/* Builds degrees for (E, hidden, order kind / explicit order) with 'equal'
 * degrees and checks every mask against want[l]. */
static void check_masks_(int e, int p, int nh, const int *units, made_order kind,
                         const int *explicit_order, const char *const *want, const char *what,
                         int line)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = e;
    cfg.params = p;
    cfg.n_hidden = nh;
    for (int l = 0; l < nh; l++) cfg.hidden_units[l] = units[l];
    cfg.input_order = kind;
    cfg.explicit_order = explicit_order;
    made__mt mt;
    made__mt_seed(&mt, 0u);
    made__degrees d;
    int rc = made__degrees_build(&d, &cfg, &mt);
    if (rc) {
        HARNESS_FAIL_("line %d: %s: degrees_build -> %d (%s)", line, what, rc, made_last_error());
        return;
    }
    for (int l = 0; l <= nh; l++) {
        int in = l == 0 ? e : units[l - 1];
        int out = l == nh ? e * p : units[l];
        uint8_t mask[4096];
        memset(mask, 0xee, sizeof mask);
        made__mask_build(mask, &d, l, e, p, cfg.hidden_units);
        char lw[96];
        snprintf(lw, sizeof lw, "%s mask %d", what, l);
        check_mask_(mask, in, out, want[l], lw, line);
        /* Nothing written past [in, out]. */
        if (mask[in * out] != 0xee) HARNESS_FAIL_("line %d: %s wrote past its end", line, lw);
    }
    made__degrees_free(&d);
}
#define CHECK_MASKS(e, p, nh, units, kind, expl, want, what) \
    check_masks_((e), (p), (nh), (units), (kind), (expl), (want), (what), __LINE__)

static void test_masks_tfp_hardcoded(void)
{
    /* Example J: TFP's masked_autoregressive_test.py, P = 2, E = 3. */
    const int u44[2] = {4, 4};
    CHECK_MASKS(3, 2, 2, u44, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"1111 0011 0000", "1111 1111 0011 0011",
                                       "001111 001111 000011 000011"}),
                "J left-to-right [4,4]");
    CHECK_MASKS(3, 2, 2, u44, MADE_ORDER_EXPLICIT, ((const int[]){3, 2, 1}),
                ((const char *const[]){"0000 0011 1111", "1111 1111 0011 0011",
                                       "111100 111100 110000 110000"}),
                "J explicit [3,2,1] [4,4]");
    const int u53[2] = {5, 3};
    CHECK_MASKS(3, 2, 2, u53, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"11111 00011 00000", "111 111 111 001 001",
                                       "001111 001111 000011"}),
                "J left-to-right [5,3]");
    /* The explicit [3,2,1] case equals 'right-to-left'. */
    CHECK_MASKS(3, 2, 2, u44, MADE_ORDER_RIGHT_TO_LEFT, NULL,
                ((const char *const[]){"0000 0011 1111", "1111 1111 0011 0011",
                                       "111100 111100 110000 110000"}),
                "J right-to-left [4,4]");
    /* The degrees of J's [5,3] case. */
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 3;
    cfg.params = 2;
    cfg.n_hidden = 2;
    cfg.hidden_units[0] = 5;
    cfg.hidden_units[1] = 3;
    made__mt mt;
    made__mt_seed(&mt, 0u);
    made__degrees d;
    CHECK_OK(made__degrees_build(&d, &cfg, &mt));
    CHECK_INTS(d.deg[1], ((int[]){1, 1, 1, 2, 2}), 5, "J [5,3] layer 1");
    CHECK_INTS(d.deg[2], ((int[]){1, 1, 2}), 3, "J [5,3] layer 2");
    made__degrees_free(&d);

    /* The seeded 'random' J case through made__degrees_build cannot use TFP's
     * sub-seed scheme, but the masks of its degrees are checked in
     * test_tfp_seeded_helper. */
}

static void test_masks_examples(void)
{
    const int u4[1] = {4};
    /* A */
    CHECK_MASKS(3, 2, 1, u4, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"1111 0011 0000", "001111 001111 000011 000011"}), "A");
    /* B */
    CHECK_MASKS(3, 2, 1, u4, MADE_ORDER_RIGHT_TO_LEFT, NULL,
                ((const char *const[]){"0000 0011 1111", "111100 111100 110000 110000"}), "B");
    /* C */
    CHECK_MASKS(3, 2, 1, u4, MADE_ORDER_EXPLICIT, ((const int[]){2, 3, 1}),
                ((const char *const[]){"0011 0000 1111", "111100 111100 001100 001100"}), "C");
    /* D, P = 1 and P = 2 */
    const int u55[2] = {5, 5};
    CHECK_MASKS(4, 1, 2, u55, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"11111 00111 00001 00000",
                                       "11111 11111 00111 00111 00001",
                                       "0111 0111 0011 0011 0001"}),
                "D P=1");
    CHECK_MASKS(4, 2, 2, u55, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"11111 00111 00001 00000",
                                       "11111 11111 00111 00111 00001",
                                       "00111111 00111111 00001111 00001111 00000011"}),
                "D P=2");
    /* E: no hidden layer */
    CHECK_MASKS(3, 2, 0, NULL, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"001111 000011 000000"}), "E");
    /* F: E = 1 */
    const int u3[1] = {3};
    CHECK_MASKS(1, 2, 1, u3, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"000", "11 11 11"}), "F hidden [3] P=2");
    const int u2[1] = {2};
    CHECK_MASKS(1, 3, 1, u2, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"00", "111 111"}), "F hidden [2] P=3");
    const int u22[2] = {2, 2};
    CHECK_MASKS(1, 1, 2, u22, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"00", "11 11", "1 1"}), "F hidden [2,2]");
    CHECK_MASKS(1, 2, 0, NULL, MADE_ORDER_LEFT_TO_RIGHT, NULL, ((const char *const[]){"00"}),
                "E=1 no hidden");
    /* H: hidden smaller than E-1 */
    CHECK_MASKS(5, 1, 1, u2, MADE_ORDER_LEFT_TO_RIGHT, NULL,
                ((const char *const[]){"11 11 01 00 00", "00111 00011"}), "H E=5 [2]");
    /* H: E = 9, hidden [5, 5], right-to-left; degrees [2,3,4,6,7] twice. */
    CHECK_MASKS(9, 1, 2, u55, MADE_ORDER_RIGHT_TO_LEFT, NULL,
                ((const char *const[]){
                    /* x0..x8 have degrees 9..1 */
                    "00000 00000 00001 00011 00011 00111 01111 11111 11111",
                    /* [2,3,4,6,7] <= [2,3,4,6,7] */
                    "11111 01111 00111 00011 00001",
                    /* deg_h < order[i], order = 9..1 */
                    "111111100 111111000 111110000 111000000 110000000"}),
                "H E=9 [5,5] right-to-left");
}

static void test_build_explicit_and_errors(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 3;
    cfg.input_order = MADE_ORDER_EXPLICIT;
    made__mt mt;
    made__mt_seed(&mt, 0u);
    made__degrees d;
    /* Bad orders are rejected by made_config_validate, which every model build
     * runs first (degrees_build trusts a validated config). */
    static const int bad[4][3] = {{0, 1, 2}, {1, 1, 3}, {1, 2, 4}, {3, 3, 3}};
    for (int t = 0; t < 4; t++) {
        cfg.explicit_order = bad[t];
        CHECK_STATUS(made_config_validate(&cfg), MADE_E_INVAL);
        CHECK_STR_CONTAINS(made_last_error(), "input_order");
    }
    cfg.explicit_order = NULL;
    CHECK_STATUS(made_config_validate(&cfg), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "input_order");

    /* An explicit order is copied, not aliased, and draws no random numbers. */
    int ord[3] = {2, 3, 1};
    cfg.explicit_order = ord;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 4;
    cfg.hidden_degrees = MADE_DEGREES_EQUAL;
    made__mt_seed(&mt, 0u);
    CHECK_OK(made__degrees_build(&d, &cfg, &mt));
    CHECK(d.deg[0] != ord);
    ord[0] = 9;
    CHECK_INTS(d.deg[0], ((int[]){2, 3, 1}), 3, "explicit copied");
    CHECK_INTS(d.deg[1], ((int[]){1, 1, 2, 2}), 4, "explicit equal layer");
    CHECK_EQ_INT(made__mt_next(&mt), 2357136044u);
    made__degrees_free(&d);

    /* Left-to-right with 'random' degrees consumes only the randint draws:
     * E = 3, hidden [4]: randint(1, 3, 4) from seed 0. */
    made__mt ref;
    made__mt_seed(&ref, 0u);
    int want[4];
    made__mt_randint(&ref, 1, 3, want, 4);
    cfg.input_order = MADE_ORDER_LEFT_TO_RIGHT;
    cfg.hidden_degrees = MADE_DEGREES_RANDOM;
    made__mt_seed(&mt, 0u);
    CHECK_OK(made__degrees_build(&d, &cfg, &mt));
    CHECK_INTS(d.deg[0], ((int[]){1, 2, 3}), 3, "l2r order");
    CHECK_INTS(d.deg[1], want, 4, "l2r random degrees");
    CHECK_EQ_INT(made__mt_next(&mt), made__mt_next(&ref));
    made__degrees_free(&d);

    /* E = 2 (and E = 1): 'random' degrees have one possible value and draw
     * nothing from the stream. */
    for (int e = 1; e <= 2; e++) {
        made_config c2;
        made_config_default(&c2);
        c2.event_size = e;
        c2.n_hidden = 2;
        c2.hidden_units[0] = 5;
        c2.hidden_units[1] = 3;
        c2.hidden_degrees = MADE_DEGREES_RANDOM;
        made__mt_seed(&mt, 0u);
        CHECK_OK(made__degrees_build(&d, &c2, &mt));
        for (int k = 0; k < 5; k++) CHECK_EQ_INT(d.deg[1][k], e - 1);
        for (int k = 0; k < 3; k++) CHECK_EQ_INT(d.deg[2][k], e - 1);
        CHECK_EQ_INT(made__mt_next(&mt), 2357136044u);
        made__degrees_free(&d);
    }
}

/* The explicit-order check at the largest event size: a permutation passes; a
 * repeat is found with both positions, a value out of range with its position.
 * (The check is one pass with an E-bit table; a quadratic check would take
 * minutes here. Speed itself is measured, not asserted: docs/testing.md.) */
static void test_explicit_order_large(void)
{
    enum { E = 1000000 };
    int *order = malloc(E * sizeof *order);
    CHECK(order != NULL);
    if (!order) return;
    for (int j = 0; j < E; j++) order[j] = (int)(((long long)j * 7919 + 13) % E) + 1;
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = E;
    cfg.input_order = MADE_ORDER_EXPLICIT;
    cfg.explicit_order = order;
    CHECK_OK(made_config_validate(&cfg));
    int keep = order[E - 1];
    order[E - 1] = order[3];
    CHECK_STATUS(made_config_validate(&cfg), MADE_E_INVAL);
    char want[128];
    snprintf(want, sizeof want, "%d appears twice (positions 4 and %d)", order[3], E);
    CHECK_STR_CONTAINS(made_last_error(), want);
    order[E - 1] = E + 1;
    CHECK_STATUS(made_config_validate(&cfg), MADE_E_INVAL);
    snprintf(want, sizeof want, "%d at position %d is not in 1..%d", E + 1, E, E);
    CHECK_STR_CONTAINS(made_last_error(), want);
    order[E - 1] = keep;
    CHECK_OK(made_config_validate(&cfg));
    free(order);
}

int main(void)
{
    RUN(test_mt_check_values);
    RUN(test_mt_bounded);
    RUN(test_mt_shuffle_randint);
    RUN(test_equal_table);
    RUN(test_equal_properties);
    RUN(test_equal_lifting);
    RUN(test_random_traces);
    RUN(test_random_properties);
    RUN(test_tfp_seeded_helper);
    RUN(test_masks_tfp_hardcoded);
    RUN(test_masks_examples);
    RUN(test_build_explicit_and_errors);
    RUN(test_explicit_order_large);
    return harness_summary("test_degrees");
}
