/* cmd_toy.c - `made toy`: small seeded 2-D data sets for trying density
 * models (two moons, as scikit-learn's make_moons draws them). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* splitmix64: a seeded stream, enough for toy data. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return ((double)(next(s) >> 11) + 0.5) * 0x1.0p-53; }

/* Standard normal by Box-Muller. */
static double normal(uint64_t *s)
{
    return sqrt(-2.0 * log(uniform(s))) * cos(2.0 * 3.14159265358979323846 * uniform(s));
}

/* Two interleaved half circles: row i is on the upper one for even i. */
static void moons(float *x, size_t n, double noise, uint64_t seed)
{
    const double pi = 3.14159265358979323846;
    for (size_t i = 0; i < n; i++) {
        double t = pi * uniform(&seed), a, b;
        if (i % 2 == 0) {
            a = cos(t);
            b = sin(t);
        } else {
            a = 1.0 - cos(t);
            b = 0.5 - sin(t);
        }
        x[2 * i] = (float)(a + noise * normal(&seed));
        x[2 * i + 1] = (float)(b + noise * normal(&seed));
    }
}

int cmd_toy(int argc, char **argv)
{
    cli_opt opts[] = {
        {"num", 'n', "N", "number of rows (default 2000)", 0},
        {"output", 'o', "FILE", "data file to write (.npy or .csv), [N, 2] (required)", 0},
        {"seed", 0, "S", "random seed (default 0)", 0},
        {"noise", 0, "SD", "standard deviation of the Gaussian noise (default 0.1)", 0},
    };
    cli_cmd cmd = {"toy", "moons -n N -o FILE [--seed S] [--noise SD]",
                   "Write a seeded 2-D toy data set: 'moons' is two interleaved half circles "
                   "(scikit-learn's make_moons).",
                   "example:\n  made toy moons -n 2000 -o moons.csv --seed 1", opts,
                   (int)(sizeof opts / sizeof *opts), 1, 1};
    const char *pos[1], *s;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    long long n = 2000, seed = 0;
    double noise = 0.1;
    const char *out = cli_get(&cmd, "output");
    if (strcmp(pos[0], "moons") != 0) {
        fprintf(stderr, "made toy: unknown data set \"%s\" (expected moons)\n", pos[0]);
        return CLI_USAGE;
    }
    if (!out) {
        fprintf(stderr, "made toy: -o FILE is required\n");
        return CLI_USAGE;
    }
    if (((s = cli_get(&cmd, "num")) && cli_int("toy", "num", s, 1, 100000000, &n)) ||
        ((s = cli_get(&cmd, "seed")) && cli_int("toy", "seed", s, 0, 9007199254740991LL, &seed)) ||
        ((s = cli_get(&cmd, "noise")) && cli_double("toy", "noise", s, 0, 1e6, &noise)))
        return CLI_USAGE;
    /* The output is checked before any work. */
    if ((rc = cli_output("toy", "-o", out, CLI_FMT_NPY | CLI_FMT_CSV, NULL))) return rc;
    made_array a = {0};
    size_t shape[2] = {(size_t)n, 2};
    int st = made_array_alloc(&a, 2, shape);
    if (!st) {
        moons(a.data, (size_t)n, noise, (uint64_t)seed);
        st = made_data_write(&a, out, 1);
    }
    made_array_free(&a);
    return st ? cli_fail_status("toy", st) : CLI_OK;
}
