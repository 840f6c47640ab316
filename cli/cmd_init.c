/* cmd_init.c - `made init`: create a model with freshly initialised weights. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "model_opts.h"

#define MAX_ORDER (1 << 20)

/* One line on stderr (stdout may be the model itself, with -o -). */
static void summary(const made_model *m, const char *out)
{
    const made_config *cfg = made_model_config(m);
    char hidden[96] = "no hidden layer", dist[64] = "no distribution";
    size_t len = 0;
    for (int l = 0; l < cfg->n_hidden && len < sizeof hidden - 24; l++)
        len += (size_t)snprintf(hidden + len, sizeof hidden - len, "%s%d", l ? "," : "hidden ",
                                cfg->hidden_units[l]);
    if (cfg->dist.kind != MADE_DIST_NONE) made_dist_format(dist, sizeof dist, cfg->dist);
    fprintf(stderr, "made init: wrote %s: event size %d, %s, %s (%d output%s per dimension), "
            "%s order, %zu parameters (%zu unmasked)\n", out, cfg->event_size, hidden, dist,
            cfg->params, cfg->params == 1 ? "" : "s", made_order_name(cfg->input_order),
            made_model_num_params(m), made_model_num_free_params(m));
}

int cmd_init(int argc, char **argv)
{
    cli_opt opts[] = {
        {"output", 'o', "MODEL", "model file to write (.safetensors)", 0},
        {"event-size", 'e', "E", "event size: length of the last data axis (required)", 0},
        CLI_MODEL_OPTS,
        {"dist", 0, "DIST", "output distribution: bernoulli, gaussian, categorical:K, mog:K", 0},
    };
    cli_cmd cmd = {"init", "-o MODEL --event-size E [options]",
                   "Create a MADE network with the options of TFP's AutoregressiveNetwork "
                   "(R: layer_autoregressive)\nand save it. Defaults are TFP's: params 1, no hidden "
                   "layer, left-to-right, equal degrees,\nlinear activation, biases, "
                   "glorot_uniform kernels, zero biases.",
                   "example:\n  made init -o m.safetensors --event-size 3 --params 2 --hidden 4 "
                   "--activation relu",
                   opts, (int)(sizeof opts / sizeof *opts), 0, 0};
    const char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    const char *out = cli_get(&cmd, "output");
    if (!out) {
        fprintf(stderr, "made init: -o MODEL is required\n");
        return CLI_USAGE;
    }
    if (!cli_get(&cmd, "event-size")) {
        fprintf(stderr, "made init: --event-size E is required\n");
        return CLI_USAGE;
    }
    if ((rc = cli_output("init", "-o", out, CLI_FMT_MODEL, NULL))) return rc;
    made_config cfg;
    made_config_default(&cfg);
    int *order = malloc(MAX_ORDER * sizeof *order);
    if (!order) return cli_fail("init", "out of memory");
    rc = cli_model_config(&cmd, &cfg, order, MAX_ORDER);
    made_model *m = NULL;
    if (rc == CLI_OK) {
        int st = made_model_create(&m, &cfg);
        if (st) rc = cli_fail_status("init", st);
    }
    if (rc == CLI_OK) {
        int st = made_model_save(m, out);
        if (st) rc = cli_fail_status("init", st);
    }
    if (rc == CLI_OK) summary(m, out);
    made_model_free(m);
    free(order);
    return rc;
}
