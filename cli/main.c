/* main.c - the made command: dispatches to one verb per file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verb;

static const verb verbs[] = {
    {"init", cmd_init, "create a model (every option of TFP's AutoregressiveNetwork)"},
    {"forward", cmd_forward, "run the network on a batch: [..., E] -> [..., E, params]"},
    {"info", cmd_info, "print a model's configuration, degrees and parameter counts"},
    {"train", cmd_train, "train a MADE (with a chosen distribution) or a MAF flow on data"},
    {"eval", cmd_eval, "mean negative log-likelihood (nats/example, bits/dim) of data"},
    {"logprob", cmd_logprob, "log p(x) for every example"},
    {"sample", cmd_sample, "draw samples (fast degree-ordered sampler), optionally as a PNG grid"},
    {"toy", cmd_toy, "write a seeded 2-D toy data set (two moons)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: made VERB [options]   (made VERB --help for each verb)\n\n"
               "made %s: masked autoregressive density estimation (MADE), exactly compatible\n"
               "with TensorFlow Probability's AutoregressiveNetwork (R: layer_autoregressive).\n\n"
               "verbs:\n", made_version_string());
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\nenvironment:\n"
               "  MADE_KERNEL=portable|avx2  forces made's kernel path (default: avx2 when the\n"
               "                             CPU has AVX2 and FMA); results are identical\n");
    fprintf(f, "\nexit status: 0 success, 1 failure (files, data, model), 2 usage error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("made %s\n", made_version_string());
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strcmp(argv[1], verbs[i].name) == 0) return verbs[i].run(argc - 1, argv + 1);
    const char *names[sizeof verbs / sizeof *verbs];
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) names[i] = verbs[i].name;
    const char *near = cli_nearest(argv[1], names, (int)(sizeof verbs / sizeof *verbs));
    fprintf(stderr, "made: unknown verb '%s'", argv[1]);
    if (near) fprintf(stderr, "; did you mean '%s'?", near);
    fprintf(stderr, " (see 'made --help')\n");
    return CLI_USAGE;
}
