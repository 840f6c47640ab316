/*
 * bench_made.c - throughput of one made configuration, printed as one JSON line.
 *
 * Uses only the public header (include/made.h).
 *
 *   bench_made --event-size 784 --hidden 1000,1000 --batch 100 --threads 2 \
 *              [--measure forward,train,sample,naive,peak] [--samples 100]
 *              [--naive-samples 10] [--run-time 0.2] [--runs 5] [--seed 1]
 *
 * Every measurement is calibrated so that one run takes about --run-time
 * seconds (several calls), repeated --runs times; the median run is reported.
 * Figures (examples per second):
 *   forward_eps  made_model_forward on a fixed random binary batch
 *   train_eps    made_trainer_step (forward, Bernoulli NLL, backward, Adam)
 *   sample_eps   made_model_sample of --samples rows
 *   naive_eps    made_model_sample_naive of --naive-samples rows (one run)
 * and GFLOP/s:
 *   forward_gflops_dense  2 * batch * sum(in * out over layers) / forward time,
 *                         the count a dense (unmasked) product would need
 *   forward_gflops_unmasked  2 * batch * (unmasked kernel entries) / forward
 *                         time: the work that is really needed (the honest
 *                         efficiency figure)
 *   fma_peak_gflops       one core's measured FMA peak: a loop of independent
 *                         256-bit FMAs in registers (x86-64 with AVX2+FMA only)
 * peak_rss_kb is getrusage's ru_maxrss at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "made.h"

#define MAX_RUNS 64

typedef struct options {
    int e;
    int n_hidden;
    int hidden[MADE_MAX_HIDDEN];
    int batch;
    int threads;
    int samples;
    int naive_samples;
    double run_time;
    int runs;
    unsigned seed;
    int do_forward, do_train, do_sample, do_naive, do_peak;
} options;

/* Wall-clock time, or with --clock cpu the process's CPU time (all threads):
 * on a machine shared with other work, CPU time of a 1-thread run is much
 * steadier than wall time (not a substitute for a quiet machine). */
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return ru.ru_maxrss;
}

/* xorshift64*: the benchmark's own data, independent of made's generators. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static void random_binary(float *x, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = 0; i < n; i++) x[i] = (float)(rng_next(&s) >> 63);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* What one timed call does; returns 0 on success. */
typedef int (*work_fn)(void *ctx);

/* Seconds per call: calibrated so one run takes about run_time, median of runs.
 * min_s / max_s receive the fastest and slowest run (per call). */
static int time_work(work_fn fn, void *ctx, const options *o, double *median, double *min_s,
                     double *max_s)
{
    if (fn(ctx)) return -1; /* warm-up: the first call also allocates and first-touches */
    /* Calibrated on warm calls: the warm-up alone would count its page faults
     * and leave a training step at batch 1000 one call per run. */
    int k = 0;
    double t0 = now();
    do {
        if (fn(ctx)) return -1;
        k++;
    } while (now() - t0 < 0.02);
    double once = (now() - t0) / k;
    long iters = (long)(o->run_time / once + 0.5);
    if (iters < 1) iters = 1;
    double t[MAX_RUNS];
    for (int r = 0; r < o->runs; r++) {
        t0 = now();
        for (long i = 0; i < iters; i++)
            if (fn(ctx)) return -1;
        t[r] = (now() - t0) / (double)iters;
    }
    qsort(t, (size_t)o->runs, sizeof t[0], cmp_double);
    *median = o->runs % 2 ? t[o->runs / 2] : 0.5 * (t[o->runs / 2 - 1] + t[o->runs / 2]);
    *min_s = t[0];
    *max_s = t[o->runs - 1];
    return 0;
}

typedef struct bench_ctx {
    made_model *m;
    made_trainer *t;
    float *x, *y, *s;
    size_t n, ns;
    uint64_t seed;
} bench_ctx;

static int do_forward(void *p)
{
    bench_ctx *c = p;
    return made_model_forward(c->m, c->y, c->x, NULL, c->n);
}

static int do_train(void *p)
{
    bench_ctx *c = p;
    double nll;
    return made_trainer_step(c->t, c->x, NULL, c->n, &nll);
}

static int do_sample(void *p)
{
    bench_ctx *c = p;
    return made_model_sample(c->m, c->s, NULL, c->ns, c->seed++);
}

/* One core's FMA peak in GFLOP/s: 12 independent chains of 256-bit FMAs (more
 * than latency x throughput, so the units stay busy), 0 when the CPU has no
 * AVX2+FMA. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx2,fma"))) static double fma_peak_run(long iters, float *sink)
{
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2),
           a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5),
           a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8),
           a9 = _mm256_set1_ps(9), a10 = _mm256_set1_ps(10), a11 = _mm256_set1_ps(11);
    double t0 = now();
    for (long k = 0; k < iters; k++) {
        a0 = _mm256_fmadd_ps(a0, m, c); a1 = _mm256_fmadd_ps(a1, m, c);
        a2 = _mm256_fmadd_ps(a2, m, c); a3 = _mm256_fmadd_ps(a3, m, c);
        a4 = _mm256_fmadd_ps(a4, m, c); a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c); a7 = _mm256_fmadd_ps(a7, m, c);
        a8 = _mm256_fmadd_ps(a8, m, c); a9 = _mm256_fmadd_ps(a9, m, c);
        a10 = _mm256_fmadd_ps(a10, m, c); a11 = _mm256_fmadd_ps(a11, m, c);
    }
    double t = now() - t0;
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    _mm256_storeu_ps(sink, s);
    return 12.0 * 16.0 * (double)iters / t * 1e-9;
}
static double fma_peak(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    float sink[8];
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double g = fma_peak_run(20000000, sink);
        if (g > best) best = g;
    }
    return best;
}
#else
static double fma_peak(void) { return 0; }
#endif

static int parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1000000000) return -1;
    *out = (int)v;
    return 0;
}

static int parse_hidden(const char *s, options *o)
{
    o->n_hidden = 0;
    if (!*s || strcmp(s, "none") == 0) return 0;
    char buf[1024];
    if (strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (o->n_hidden == MADE_MAX_HIDDEN || parse_int(tok, &o->hidden[o->n_hidden]) ||
            o->hidden[o->n_hidden] < 1)
            return -1;
        o->n_hidden++;
    }
    return 0;
}

static int parse_measure(const char *s, options *o)
{
    char buf[256];
    if (strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    o->do_forward = o->do_train = o->do_sample = o->do_naive = o->do_peak = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (!strcmp(tok, "forward")) o->do_forward = 1;
        else if (!strcmp(tok, "train")) o->do_train = 1;
        else if (!strcmp(tok, "sample")) o->do_sample = 1;
        else if (!strcmp(tok, "naive")) o->do_naive = 1;
        else if (!strcmp(tok, "peak")) o->do_peak = 1;
        else if (!strcmp(tok, "all")) o->do_forward = o->do_train = o->do_sample = o->do_naive = o->do_peak = 1;
        else return -1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_made --event-size E --hidden H1[,H2...] --batch N --threads T\n"
            "                  [--measure forward,train,sample,naive,peak|all]\n"
            "                  [--samples N] [--naive-samples N] [--run-time SEC] [--runs R]\n"
            "                  [--seed S] [--clock wall|cpu]\n"
            "Prints one JSON line with examples/s, GFLOP/s and peak RSS.\n");
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->e = 784;
    o->n_hidden = 1;
    o->hidden[0] = 500;
    o->batch = 100;
    o->threads = 1;
    o->samples = 100;
    o->naive_samples = 10;
    o->run_time = 0.2;
    o->runs = 5;
    o->seed = 1;
    o->do_forward = o->do_train = o->do_sample = o->do_peak = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_made: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (!strcmp(a, "--event-size")) bad = parse_int(v, &o->e) || o->e < 1;
        else if (!strcmp(a, "--hidden")) bad = parse_hidden(v, o);
        else if (!strcmp(a, "--batch")) bad = parse_int(v, &o->batch) || o->batch < 1;
        else if (!strcmp(a, "--threads")) bad = parse_int(v, &o->threads) || o->threads < 1;
        else if (!strcmp(a, "--samples")) bad = parse_int(v, &o->samples) || o->samples < 1;
        else if (!strcmp(a, "--naive-samples")) bad = parse_int(v, &o->naive_samples) || o->naive_samples < 1;
        else if (!strcmp(a, "--runs")) bad = parse_int(v, &o->runs) || o->runs < 1 || o->runs > MAX_RUNS;
        else if (!strcmp(a, "--seed")) {
            int s;
            bad = parse_int(v, &s);
            o->seed = (unsigned)s;
        } else if (!strcmp(a, "--run-time")) {
            char *end;
            o->run_time = strtod(v, &end);
            bad = *end || !(o->run_time > 0 && o->run_time < 100);
        } else if (!strcmp(a, "--measure")) bad = parse_measure(v, o);
        else if (!strcmp(a, "--clock")) {
            bad = strcmp(v, "wall") && strcmp(v, "cpu");
            clock_id = strcmp(v, "cpu") ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
        }
        else {
            fprintf(stderr, "bench_made: unknown option %s\n", a);
            usage(stderr);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "bench_made: bad value for %s: '%s'\n", a, v);
            return -1;
        }
    }
    return 0;
}

static void print_hidden(const options *o)
{
    printf("[");
    for (int i = 0; i < o->n_hidden; i++) printf("%s%d", i ? ", " : "", o->hidden[i]);
    printf("]");
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "bench_made: %s: %s (%s)\n", what, made_strerror(rc), made_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o)) return 2;

    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = o.e;
    cfg.params = 1;
    cfg.n_hidden = o.n_hidden;
    for (int i = 0; i < o.n_hidden; i++) cfg.hidden_units[i] = o.hidden[i];
    cfg.activation = MADE_ACT_RELU;
    cfg.dist.kind = MADE_DIST_BERNOULLI;
    cfg.seed = o.seed;

    bench_ctx c;
    memset(&c, 0, sizeof c);
    int rc = made_model_create(&c.m, &cfg);
    if (rc) return fail("model_create", rc);
    if ((rc = made_model_set_threads(c.m, o.threads))) return fail("set_threads", rc);

    /* Dense-equivalent work: every kernel entry, masked or not. */
    int nl = made_model_num_layers(c.m);
    double dense_weights = 0, unmasked_weights = 0;
    for (int l = 0; l < nl; l++) {
        int in, out;
        made_model_layer_shape(c.m, l, &in, &out);
        dense_weights += (double)in * out;
        unsigned char *mask = malloc((size_t)in * out);
        if (!mask || made_model_mask(c.m, l, mask)) return fail("mask", -1);
        for (size_t i = 0; i < (size_t)in * out; i++) unmasked_weights += mask[i];
        free(mask);
    }
    size_t free_params = made_model_num_free_params(c.m);

    c.n = (size_t)o.batch;
    c.x = malloc(c.n * (size_t)o.e * sizeof(float));
    c.y = malloc(c.n * (size_t)o.e * sizeof(float));
    size_t smax = (size_t)(o.samples > o.naive_samples ? o.samples : o.naive_samples);
    c.s = malloc(smax * (size_t)o.e * sizeof(float));
    if (!c.x || !c.y || !c.s) {
        fprintf(stderr, "bench_made: out of memory\n");
        return 1;
    }
    random_binary(c.x, c.n * (size_t)o.e, o.seed);
    c.seed = o.seed;

    double fwd = 0, fwd_lo = 0, fwd_hi = 0, trn = 0, trn_lo = 0, trn_hi = 0;
    double smp = 0, smp_lo = 0, smp_hi = 0, naive = 0;
    if (o.do_forward && time_work(do_forward, &c, &o, &fwd, &fwd_lo, &fwd_hi))
        return fail("forward", -1);
    if (o.do_sample) {
        c.ns = (size_t)o.samples;
        if (time_work(do_sample, &c, &o, &smp, &smp_lo, &smp_hi)) return fail("sample", -1);
    }
    if (o.do_naive) {
        /* One run: it re-runs the whole network E times. */
        double t0 = now();
        rc = made_model_sample_naive(c.m, c.s, NULL, (size_t)o.naive_samples, 12345);
        if (rc) return fail("sample_naive", rc);
        naive = now() - t0;
    }
    /* Training last among made's measurements: it changes the weights. */
    if (o.do_train) {
        made_train_config tc;
        made_train_config_default(&tc);
        tc.batch_size = o.batch;
        if ((rc = made_trainer_create(&c.t, c.m, &tc))) return fail("trainer_create", rc);
        if (time_work(do_train, &c, &o, &trn, &trn_lo, &trn_hi)) return fail("train", -1);
    }
    long rss = peak_rss_kb();

    double peak = o.do_peak ? fma_peak() : 0;

    printf("{\"framework\": \"made\", \"version\": \"%s\", \"event_size\": %d, \"hidden\": ",
           made_version_string(), o.e);
    print_hidden(&o);
    printf(", \"batch\": %d, \"threads\": %d", o.batch, o.threads);
    printf(", \"dense_weights\": %.0f, \"free_params\": %zu", dense_weights, free_params);
    if (o.do_forward)
        printf(", \"forward_eps\": %.6g, \"forward_eps_min\": %.6g, \"forward_eps_max\": %.6g"
               ", \"forward_gflops_dense\": %.6g, \"forward_gflops_unmasked\": %.6g",
               o.batch / fwd, o.batch / fwd_hi, o.batch / fwd_lo,
               2.0 * o.batch * dense_weights / fwd * 1e-9,
               2.0 * o.batch * unmasked_weights / fwd * 1e-9);
    if (o.do_train)
        printf(", \"train_eps\": %.6g, \"train_eps_min\": %.6g, \"train_eps_max\": %.6g",
               o.batch / trn, o.batch / trn_hi, o.batch / trn_lo);
    if (o.do_sample)
        printf(", \"samples\": %d, \"sample_eps\": %.6g, \"sample_eps_min\": %.6g"
               ", \"sample_eps_max\": %.6g",
               o.samples, o.samples / smp, o.samples / smp_hi, o.samples / smp_lo);
    if (o.do_naive)
        printf(", \"naive_samples\": %d, \"naive_eps\": %.6g", o.naive_samples,
               o.naive_samples / naive);
    if (o.do_peak) printf(", \"fma_peak_gflops\": %.6g", peak);
    const char *kern = getenv("MADE_KERNEL");
    printf(", \"unmasked_weights\": %.0f, \"peak_rss_kb\": %ld, \"kernel\": \"%s\"}\n",
           unmasked_weights, rss, kern && *kern ? kern : "auto");

    made_trainer_free(c.t);
    made_model_free(c.m);
    free(c.x);
    free(c.y);
    free(c.s);
    return 0;
}
