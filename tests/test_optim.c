/* test_optim.c - the optimiser against PyTorch, and the shuffle.
 *
 * tests/fixtures/torch/optim.txt was written by tests/ref/gen_torch_optim.py
 * with torch.optim: for each case a flat parameter vector, a fixed gradient per
 * step, and the parameters torch leaves after every step (Adam, AdamW decay,
 * SGD with heavy-ball momentum and L2, clip_grad_norm_, cosine and step
 * schedules; the script's header maps each made setting to torch's). Here
 * made's own update (made__optimizer_update, the code made_trainer_fit runs)
 * applies the same settings to the same vector inside a real model's
 * parameter block, step by step, with the epoch advancing as in training, and
 * must agree within 2e-6 + 2e-5 |torch| after every step.
 *
 * The shuffle: the order of examples is a permutation, is the same for the
 * same seed and epoch, and changes with the epoch and with the seed.
 *
 * The element-wise update's two builds (plain and AVX2) equal a plain loop
 * written here, bit for bit, on runs of every length up to 40 at every
 * alignment (vector bodies and scalar tails).
 *
 * Run from the repository root. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "made.h"
#include "net/kernel.h"
#include "net/model.h"
#include "train/optim.h"
#include "train/trainer.h"

#define FIXTURE "tests/fixtures/torch/optim.txt"
#define ABS_TOL 2e-6
#define REL_TOL 2e-5
#define MAX_N 64

static double worst_norm; /* max |made - torch| / (ABS_TOL + REL_TOL |torch|) */
static char worst_where[128];

/* Reads one whitespace-separated token, skipping '#' comment lines. */
static int token(FILE *f, char *buf, size_t size)
{
    for (;;) {
        if (fscanf(f, " ") < 0) return -1;
        int ch = fgetc(f);
        if (ch == EOF) return -1;
        if (ch == '#') {
            while ((ch = fgetc(f)) != EOF && ch != '\n') {}
            continue;
        }
        ungetc(ch, f);
        char fmt[16];
        snprintf(fmt, sizeof fmt, "%%%zus", size - 1);
        return fscanf(f, fmt, buf) == 1 ? 0 : -1;
    }
}

static int expect(FILE *f, const char *word)
{
    char buf[64];
    return token(f, buf, sizeof buf) == 0 && strcmp(buf, word) == 0 ? 0 : -1;
}

static int read_floats(FILE *f, float *v, int n)
{
    for (int i = 0; i < n; i++) {
        double d;
        if (fscanf(f, "%lf", &d) != 1) return -1;
        v[i] = (float)d;
    }
    return 0;
}

/* "config KEY VALUE ... end" into a train config plus steps per epoch. */
static int read_config(FILE *f, made_train_config *tc, int *steps)
{
    char key[64], val[64];
    made_train_config_default(tc);
    if (expect(f, "config")) return -1;
    while (token(f, key, sizeof key) == 0 && strcmp(key, "end") != 0) {
        if (token(f, val, sizeof val)) return -1;
        double d = strtod(val, NULL);
        if (!strcmp(key, "optimizer")) tc->optimizer = !strcmp(val, "sgd") ? MADE_OPTIM_SGD : MADE_OPTIM_ADAM;
        else if (!strcmp(key, "lr")) tc->lr = d;
        else if (!strcmp(key, "beta1")) tc->beta1 = d;
        else if (!strcmp(key, "beta2")) tc->beta2 = d;
        else if (!strcmp(key, "eps")) tc->eps = d;
        else if (!strcmp(key, "momentum")) tc->momentum = d;
        else if (!strcmp(key, "weight_decay")) tc->weight_decay = d;
        else if (!strcmp(key, "clip_norm")) tc->clip_norm = d;
        else if (!strcmp(key, "schedule"))
            tc->schedule = !strcmp(val, "cosine") ? MADE_LR_COSINE
                           : !strcmp(val, "step") ? MADE_LR_STEP : MADE_LR_CONSTANT;
        else if (!strcmp(key, "lr_final")) tc->lr_final = d;
        else if (!strcmp(key, "decay_rate")) tc->decay_rate = d;
        else if (!strcmp(key, "decay_epochs")) tc->decay_epochs = (int)d;
        else if (!strcmp(key, "epochs")) tc->epochs = (int)d;
        else if (!strcmp(key, "steps")) *steps = (int)d;
        else return -1;
    }
    return strcmp(key, "end") == 0 ? 0 : -1;
}

/* A model whose parameter block has at least `need` optimisable entries. The
 * fixture's vector occupies the first `need` of them (in segment order): the
 * rest have zero gradient, so they add nothing to the clipping norm. */
static made_model *host_model(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 4;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 8;
    cfg.seed = 3;
    if (made_dist_parse("bernoulli", &cfg.dist) != MADE_OK) return NULL;
    made_model *m = NULL;
    return made_model_create(&m, &cfg) == MADE_OK ? m : NULL;
}

/* Index of the k-th optimisable entry of the flat block. */
static size_t slot(const made_model *m, int k)
{
    size_t left = (size_t)k;
    for (size_t s = 0; s < m->n_segs; s++) {
        size_t len = m->segs[2 * s + 1] - m->segs[2 * s];
        if (left < len) return m->segs[2 * s] + left;
        left -= len;
    }
    return (size_t)-1;
}

/* Runs one case; returns -1 on a malformed fixture. */
static int run_case(FILE *f, const char *name)
{
    made_train_config tc;
    int steps = 0, n = 0;
    float init[MAX_N], grad[MAX_N], want[MAX_N];
    double lrs[1024];
    if (read_config(f, &tc, &steps) || steps < 1 || tc.epochs > 1024) return -1;
    if (expect(f, "n") || fscanf(f, "%d", &n) != 1 || n < 1 || n > MAX_N) return -1;
    if (expect(f, "init") || read_floats(f, init, n)) return -1;
    if (expect(f, "lr_per_epoch")) return -1;
    for (int e = 0; e < tc.epochs; e++)
        if (fscanf(f, "%lf", &lrs[e]) != 1) return -1;

    made_model *m = host_model();
    made_trainer *t = NULL;
    CHECK(m != NULL);
    if (!m) return 0;
    CHECK_OK(made_trainer_create(&t, m, &tc));
    if (!t) {
        made_model_free(m);
        return 0;
    }
    CHECK(slot(m, n - 1) != (size_t)-1);
    for (int i = 0; i < n; i++) m->params[slot(m, i)] = init[i];
    int total = tc.epochs * steps, bad_steps = 0;
    for (int k = 1; k <= total; k++) {
        int got_k = 0;
        if (expect(f, "step") || fscanf(f, "%d", &got_k) != 1 || got_k != k) return -1;
        if (expect(f, "grad") || read_floats(f, grad, n)) return -1;
        if (expect(f, "param") || read_floats(f, want, n)) return -1;
        /* The gradient as the backward pass would leave it. */
        memset(m->grads, 0, m->n_params * sizeof(float));
        for (int i = 0; i < n; i++) m->grads[slot(m, i)] = grad[i];
        t->epoch = (k - 1) / steps;
        made__optimizer_update(t);
        t->step++;
        for (int i = 0; i < n; i++) {
            double got = m->params[slot(m, i)], ref = want[i];
            double norm = fabs(got - ref) / (ABS_TOL + REL_TOL * fabs(ref));
            if (!(norm == norm)) norm = INFINITY;
            if (norm > worst_norm) {
                worst_norm = norm;
                snprintf(worst_where, sizeof worst_where, "%s step %d [%d]", name, k, i);
            }
            if (!(norm <= 1.0) && bad_steps++ == 0)
                HARNESS_FAIL_("%s: step %d (epoch %d), parameter %d: made %.9g, torch %.9g", name, k,
                              t->epoch + 1, i, got, ref);
        }
    }
    /* The learning rate reported to progress callbacks follows torch's schedule
     * too (checked through made_trainer_fit below for one case per schedule). */
    made_trainer_free(t);
    made_model_free(m);
    return expect(f, "endcase");
}

static void test_torch_optim(void)
{
    FILE *f = fopen(FIXTURE, "r");
    CHECK(f != NULL);
    if (!f) return;
    char word[64], name[128];
    int cases = 0;
    while (token(f, word, sizeof word) == 0) {
        if (strcmp(word, "case") || token(f, name, sizeof name)) {
            HARNESS_FAIL_("%s: expected \"case NAME\", found \"%s\"", FIXTURE, word);
            break;
        }
        if (run_case(f, name)) {
            HARNESS_FAIL_("%s: case %s is malformed", FIXTURE, name);
            break;
        }
        cases++;
    }
    fclose(f);
    CHECK(cases >= 10);
    printf("torch.optim parity: %d cases; worst error / (%.0e + %.0e |torch|) = %.3g at %s\n",
           cases, ABS_TOL, REL_TOL, worst_norm, worst_where[0] ? worst_where : "-");
}

/* ---- the learning rate seen by made_trainer_fit --------------------------- */

typedef struct {
    double lr[16];
    int epochs;
} lr_log;

static int log_lr(void *user, const made_progress *p)
{
    lr_log *l = user;
    if (p->epoch_done && p->epoch <= 16) l->lr[p->epoch - 1] = p->lr, l->epochs = p->epoch;
    return 0;
}

/* made_trainer_fit's rate per epoch equals the closed forms torch's
 * CosineAnnealingLR(T_max = epochs - 1) and StepLR give (the rates stored in
 * the fixture for the same settings are checked above through the update). */
static void test_fit_schedule(void)
{
    made_model *m = host_model();
    CHECK(m != NULL);
    if (!m) return;
    float x[8 * 4];
    for (int i = 0; i < 8 * 4; i++) x[i] = (float)((i * 7 + 3) % 5 < 2);
    for (int kind = 0; kind < 2; kind++) {
        made_train_config tc;
        made_train_config_default(&tc);
        tc.lr = 0.02;
        tc.epochs = 6;
        tc.batch_size = 4;
        tc.schedule = kind ? MADE_LR_STEP : MADE_LR_COSINE;
        tc.lr_final = 0.002;
        tc.decay_rate = 0.3;
        tc.decay_epochs = 2;
        made_trainer *t = NULL;
        CHECK_OK(made_trainer_create(&t, m, &tc));
        lr_log l = {{0}, 0};
        CHECK_OK(made_trainer_fit(t, x, NULL, 8, NULL, NULL, 0, log_lr, &l));
        CHECK_EQ_INT(l.epochs, 6);
        for (int e = 0; e < 6; e++) {
            double want = kind ? 0.02 * pow(0.3, e / 2)
                               : 0.002 + 0.5 * (0.02 - 0.002) * (1 + cos(3.14159265358979323846 * e / 5.0));
            CHECK_NEAR(l.lr[e], want, 1e-12);
        }
        made_trainer_free(t);
    }
    made_model_free(m);
}

/* ---- the shuffle ------------------------------------------------------------ */

static int is_permutation(const size_t *p, size_t n)
{
    unsigned char seen[256] = {0};
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= n || seen[p[i]]) return 0;
        seen[p[i]] = 1;
    }
    return 1;
}

static void test_shuffle(void)
{
    enum { N = 200 };
    made_model *m = host_model();
    CHECK(m != NULL);
    if (!m) return;
    made_train_config tc;
    made_train_config_default(&tc);
    made_trainer *a = NULL, *b = NULL;
    tc.seed = 1;
    CHECK_OK(made_trainer_create(&a, m, &tc));
    tc.seed = 2;
    CHECK_OK(made_trainer_create(&b, m, &tc));
    if (a && b) {
        size_t p0[N], p1[N], q0[N], again[N];
        made__epoch_permutation(a, 0, p0, N);
        made__epoch_permutation(a, 1, p1, N);
        made__epoch_permutation(b, 0, q0, N);
        made__epoch_permutation(a, 0, again, N);
        CHECK(is_permutation(p0, N) && is_permutation(p1, N) && is_permutation(q0, N));
        CHECK(memcmp(p0, again, sizeof p0) == 0);        /* a pure function of seed, epoch */
        CHECK(memcmp(p0, p1, sizeof p0) != 0);           /* changes with the epoch */
        CHECK(memcmp(p0, q0, sizeof p0) != 0);           /* changes with the seed */
        size_t moved = 0;
        for (size_t i = 0; i < N; i++) moved += p0[i] != i;
        CHECK(moved > N / 2);                            /* actually shuffled */
        /* Epochs 0..9 are ten different orders. */
        size_t prev[10][N];
        for (int e = 0; e < 10; e++) {
            made__epoch_permutation(a, e, prev[e], N);
            for (int d = 0; d < e; d++) CHECK(memcmp(prev[e], prev[d], sizeof prev[e]) != 0);
        }
    }
    made_trainer_free(a);
    made_trainer_free(b);
    made_model_free(m);
}

/* The update's plain and AVX2 builds against the formulas written out here,
 * on many steps of random gradients: every bit equal. */
static float rand_sym(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

static void update_builds(int adam, int avx2, int *bad)
{
    enum { N = 48, STEPS = 5 };
    made__step_consts u = {0.9f, 0.999f, 0.0123f, 1e-8f, 1e-4f, 1.7f, 0.9f, 0.01f, 0.05f};
    uint64_t s = 11;
    for (int n = 0; n <= 40; n++)
        for (int off = 0; off < 8; off++) {
            float p[N], m1[N], m2[N], g[N], rp[N], r1[N], r2[N];
            for (int i = 0; i < N; i++) {
                rp[i] = p[i] = rand_sym(&s);
                r1[i] = m1[i] = 0.1f * rand_sym(&s);
                r2[i] = m2[i] = 0.01f * fabsf(rand_sym(&s));
            }
            for (int t = 0; t < STEPS; t++) {
                for (int i = 0; i < N; i++) g[i] = rand_sym(&s) * (t + 1 == STEPS ? 1e-6f : 1.0f);
                if (adam) made__adam_range(&u, p + off, g + off, m1 + off, m2 + off, (size_t)n, avx2);
                else made__sgd_range(&u, p + off, g + off, m1 + off, (size_t)n, avx2);
                for (int i = off; i < off + n; i++) {
                    if (adam) {
                        r1[i] = u.b1 * r1[i] + (1.0f - u.b1) * g[i];
                        r2[i] = u.b2 * r2[i] + (1.0f - u.b2) * g[i] * g[i];
                        rp[i] -= u.decay * rp[i] + u.a * r1[i] / (sqrtf(r2[i]) * u.inv_sqrt_bc2 + u.eps);
                    } else {
                        float gi = g[i] + u.wd * rp[i];
                        r1[i] = u.mu * r1[i] + gi;
                        rp[i] -= u.rate * r1[i];
                    }
                }
            }
            /* Elements outside the run stay as they were. */
            if (memcmp(p, rp, sizeof p) || memcmp(m1, r1, sizeof m1) ||
                (adam && memcmp(m2, r2, sizeof m2)))
                (*bad)++;
        }
}

static void test_update_builds(void)
{
    const int avx2 = made__kernel_avx2_ok();
    for (int adam = 0; adam < 2; adam++)
        for (int path = 0; path < 1 + avx2; path++) {
            int bad = 0;
            update_builds(adam, path, &bad);
            if (bad)
                HARNESS_FAIL_("%s, %s build: %d runs differ from the plain loop", adam ? "adam" : "sgd",
                              path ? "avx2" : "plain", bad);
        }
    if (!avx2) SKIP("this CPU has no AVX2: only the plain build of the update was checked");
}

int main(void)
{
    RUN(test_torch_optim);
    RUN(test_fit_schedule);
    RUN(test_shuffle);
    RUN(test_update_builds);
    return harness_summary("test_optim");
}
