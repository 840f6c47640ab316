/*
 * fuzz_cli.c - the command line's option and value parsing: cli_parse on an
 * argv split from the input at NUL bytes (argv[0] is the verb), then
 * cli_model_config and the number options of `made train` with their real
 * ranges; a config that validates and is small is also created, which runs the
 * initializers with whatever arguments were parsed. Every argument also goes
 * through the value parsers on its own: cli_int, cli_double, cli_int_list,
 * made_initializer_parse, made_dist_parse and made_activation_parse, with
 * format -> parse round trips for the last three.
 *
 * The parsers print their complaints to stderr; `make fuzz` runs this target
 * with -close_fd_mask=3 (libFuzzer still prints its own reports).
 */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"
#include "model_opts.h"

#define MAX_ARGS 64
#define ORDER_CAP (1 << 20) /* as cmd_init and cmd_train */

static int order_buf[ORDER_CAP];

static int same_init(const made_initializer *a, const made_initializer *b)
{
    return a->kind == b->kind && a->value == b->value && a->minval == b->minval &&
           a->maxval == b->maxval && a->mean == b->mean && a->stddev == b->stddev &&
           a->scale == b->scale && a->mode == b->mode && a->distribution == b->distribution;
}

static void value_parsers(const char *s)
{
    long long n;
    double d;
    int list[MADE_MAX_HIDDEN], count;
    if (cli_int("fuzz", "int", s, 0, 4294967295LL, &n) == CLI_OK) FUZZ_CHECK(n >= 0 && n <= 4294967295LL);
    if (cli_int("fuzz", "int", s, -9007199254740991LL, 9007199254740991LL, &n) == CLI_OK)
        FUZZ_CHECK(n >= -9007199254740991LL && n <= 9007199254740991LL);
    if (cli_double("fuzz", "double", s, -1e30, 1e30, &d) == CLI_OK)
        FUZZ_CHECK(isfinite(d) && d >= -1e30 && d <= 1e30);
    if (cli_int_list("fuzz", "list", s, 1, 1000000, list, MADE_MAX_HIDDEN, &count) == CLI_OK) {
        FUZZ_CHECK(count >= 0 && count <= MADE_MAX_HIDDEN);
        for (int i = 0; i < count; i++) FUZZ_CHECK(list[i] >= 1 && list[i] <= 1000000);
    }
    if (cli_int_list("fuzz", "list", s, 0, 1000000, list, 3, &count) == CLI_OK) FUZZ_CHECK(count <= 3);

    char text[512];
    made_initializer in, back;
    if (made_initializer_parse(s, &in) == MADE_OK) {
        int len = made_initializer_format(text, sizeof text, &in);
        FUZZ_CHECK(len > 0 && (size_t)len < sizeof text);
        FUZZ_CHECK(made_initializer_parse(text, &back) == MADE_OK);
        FUZZ_CHECK(same_init(&in, &back));
    } else {
        FUZZ_CHECK(made_last_error()[0] != '\0');
    }
    made_dist dist, dist2;
    if (made_dist_parse(s, &dist) == MADE_OK) {
        int len = made_dist_format(text, sizeof text, dist);
        FUZZ_CHECK(len > 0 && (size_t)len < sizeof text);
        FUZZ_CHECK(made_dist_parse(text, &dist2) == MADE_OK);
        FUZZ_CHECK(dist.kind == dist2.kind && dist.k == dist2.k);
        FUZZ_CHECK(made_dist_params(dist) >= 0);
    }
    made_activation act, act2;
    if (made_activation_parse(s, &act) == MADE_OK) {
        FUZZ_CHECK((unsigned)act < MADE_ACT_COUNT);
        FUZZ_CHECK(made_activation_parse(made_activation_name(act), &act2) == MADE_OK && act == act2);
    }
    made_cond_layers cl;
    if (made_cond_layers_parse(s, &cl) == MADE_OK)
        FUZZ_CHECK(cl == MADE_COND_ALL_LAYERS || cl == MADE_COND_FIRST_LAYER);
}

/* TFP's parameter count of cfg, or SIZE_MAX when it is above limit. */
static size_t small_params(const made_config *cfg, size_t limit)
{
    size_t total = 0, in = (size_t)cfg->event_size;
    for (int l = 0; l <= cfg->n_hidden; l++) {
        size_t out = l < cfg->n_hidden ? (size_t)cfg->hidden_units[l]
                                       : (size_t)cfg->event_size * (size_t)cfg->params;
        if (in > limit || out > limit) return SIZE_MAX;
        total += (in + 1 + (size_t)cfg->conditional_size) * out;
        if (total > limit) return SIZE_MAX;
        in = out;
    }
    return total;
}

static void command_line(int argc, char **argv)
{
    cli_opt opts[] = {
        {"output", 'o', "MODEL", "model file", 0},
        {"event-size", 'e', "E", "event size", 0},
        CLI_MODEL_OPTS,
        {"dist", 0, "DIST", "output distribution", 0},
        {"epochs", 0, "N", "", 0},
        {"batch-size", 'b', "N", "", 0},
        {"lr", 0, "LR", "", 0},
        {"momentum", 0, "M", "", 0},
        {"weight-decay", 0, "W", "", 0},
        {"clip-norm", 0, "C", "", 0},
        {"val-fraction", 0, "F", "", 0},
        {"binarize", 0, "T", "", 0},
        {"threads", 't', "T", "", 0},
        {"quiet", 'q', NULL, "", 0},
    };
    cli_cmd cmd = {argv[0], "[options]", "fuzz", NULL, opts, (int)(sizeof opts / sizeof *opts), 0, 2};
    const char *pos[2];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE || rc == CLI_HELP);
    if (rc != CLI_OK) return;
    FUZZ_CHECK(npos >= 0 && npos <= 2);

    made_config cfg;
    made_config_default(&cfg);
    rc = cli_model_config(&cmd, &cfg, order_buf, ORDER_CAP);
    FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE);
    if (rc == CLI_OK) {
        FUZZ_CHECK(made_config_validate(&cfg) == MADE_OK);
        if (small_params(&cfg, 4096) != SIZE_MAX && cfg.num_masks <= 16) {
            made_model *m = NULL;
            int st = made_model_create(&m, &cfg);
            FUZZ_CHECK(st == MADE_OK || st == MADE_E_NONFINITE || st == MADE_E_NOMEM);
            FUZZ_CHECK((st == MADE_OK) == (m != NULL));
            made_model_free(m);
        }
    }

    static const struct {
        const char *name;
        int is_int;
        double lo, hi;
    } nums[] = {
        {"epochs", 1, 1, 1000000},  {"batch-size", 1, 1, 1000000}, {"lr", 0, 1e-12, 10},
        {"momentum", 0, 0, 0.999999}, {"weight-decay", 0, 0, 0.999999}, {"clip-norm", 0, 0, 1e30},
        {"val-fraction", 0, 0, 0.99}, {"binarize", 0, -1e30, 1e30}, {"threads", 1, 1, 1024},
    };
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        const char *s = cli_get(&cmd, nums[i].name);
        if (!s) continue;
        if (nums[i].is_int) {
            long long n;
            if (cli_int("fuzz", nums[i].name, s, (long long)nums[i].lo, (long long)nums[i].hi, &n) ==
                CLI_OK)
                FUZZ_CHECK(n >= nums[i].lo && n <= nums[i].hi);
        } else {
            double d;
            if (cli_double("fuzz", nums[i].name, s, nums[i].lo, nums[i].hi, &d) == CLI_OK)
                FUZZ_CHECK(d >= nums[i].lo && d <= nums[i].hi);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Hundreds of complaints per input: buffer them rather than pay a write(2)
     * for each piece (FUZZ_CHECK flushes before it aborts). */
    static char errbuf[1 << 16];
    static int buffered;
    if (!buffered) buffered = setvbuf(stderr, errbuf, _IOFBF, sizeof errbuf) == 0;
    /* A NUL-terminated copy, split at NUL bytes: "init\0--hidden\0004,4". */
    char *buf = malloc(size + 1);
    FUZZ_CHECK(buf != NULL);
    if (size) memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    for (int i = 0; i < argc; i++) value_parsers(argv[i]);
    command_line(argc, argv);
    free(buf);
    return 0;
}
