/* model_opts.c - the network options shared by `made init` and `made train`. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model_opts.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* --input-order FILE: a .npy or .csv of the 1-based order, for event sizes
 * whose order no longer fits on a command line. Any shape; its values in order. */
static int order_from_file(const char *v, const char *path, int event_size, int *order,
                           int cap)
{
    made_array a = {0};
    if (made_data_read(&a, path)) {
        fprintf(stderr, "made %s: --input-order: %s\n", v, made_last_error());
        return CLI_FAIL;
    }
    size_t n = made_array_size(&a);
    int rc = CLI_OK;
    if (n > (size_t)cap || (event_size && n != (size_t)event_size)) {
        fprintf(stderr, "made %s: --input-order: %s has %zu entries, but the event size is %d\n",
                v, path, n, event_size ? event_size : cap);
        rc = CLI_FAIL;
    }
    for (size_t i = 0; rc == CLI_OK && i < n; i++) {
        float x = a.data[i];
        if (!(x >= 1 && x <= 1e9f) || x != (float)(int)x) {
            fprintf(stderr, "made %s: --input-order: %s: entry %zu is %g, not a 1-based position\n",
                    v, path, i + 1, (double)x);
            rc = CLI_FAIL;
        } else {
            order[i] = (int)x;
        }
    }
    made_array_free(&a);
    return rc;
}

int cli_model_config(const cli_cmd *cmd, made_config *cfg, int *order_buf, int order_cap)
{
    const char *v = cmd->verb;
    long long n;
    const char *s;
    if ((s = cli_get(cmd, "event-size"))) {
        if (cli_int(v, "event-size", s, 1, 1000000, &n)) return CLI_USAGE;
        cfg->event_size = (int)n;
    }
    if ((s = cli_get(cmd, "params"))) {
        if (cli_int(v, "params", s, 1, 1000000, &n)) return CLI_USAGE;
        cfg->params = (int)n;
    }
    if ((s = cli_get(cmd, "hidden"))) {
        if (cli_int_list(v, "hidden", s, 1, 1000000, cfg->hidden_units, MADE_MAX_HIDDEN,
                         &cfg->n_hidden))
            return CLI_USAGE;
    }
    if ((s = cli_get(cmd, "input-order"))) {
        if (s[0] && strspn(s, "0123456789,") == strlen(s)) {
            int count;
            if (cli_int_list(v, "input-order", s, 0, 1000000, order_buf, order_cap, &count))
                return CLI_USAGE;
            if (cfg->event_size && count != cfg->event_size) {
                fprintf(stderr, "made %s: --input-order: %d entries, but --event-size is %d\n", v,
                        count, cfg->event_size);
                return CLI_USAGE;
            }
            cfg->input_order = MADE_ORDER_EXPLICIT;
            cfg->explicit_order = order_buf;
        } else if (made_order_parse(s, &cfg->input_order) == MADE_OK) {
            /* left-to-right, right-to-left, random */
        } else if (access(s, F_OK) == 0 || ends_with(s, ".npy") || ends_with(s, ".csv")) {
            int rc = order_from_file(v, s, cfg->event_size, order_buf, order_cap);
            if (rc) return rc;
            cfg->input_order = MADE_ORDER_EXPLICIT;
            cfg->explicit_order = order_buf;
        } else {
            return cli_name_error(v, "input-order");
        }
    }
    if ((s = cli_get(cmd, "hidden-degrees")) && made_degrees_parse(s, &cfg->hidden_degrees))
        return cli_name_error(v, "hidden-degrees");
    if ((s = cli_get(cmd, "activation")) && made_activation_parse(s, &cfg->activation))
        return cli_name_error(v, "activation");
    if (cli_get(cmd, "no-bias")) cfg->use_bias = 0;
    if ((s = cli_get(cmd, "kernel-initializer")) &&
        made_initializer_parse(s, &cfg->kernel_initializer)) {
        fprintf(stderr, "made %s: --kernel-%s\n", v, made_last_error());
        return CLI_USAGE;
    }
    if ((s = cli_get(cmd, "bias-initializer")) && made_initializer_parse(s, &cfg->bias_initializer)) {
        fprintf(stderr, "made %s: --bias-%s\n", v, made_last_error());
        return CLI_USAGE;
    }
    if ((s = cli_get(cmd, "conditional-size"))) {
        if (cli_int(v, "conditional-size", s, 0, 1000000, &n)) return CLI_USAGE;
        cfg->conditional_size = (int)n;
    }
    if ((s = cli_get(cmd, "conditional-layers")) &&
        made_cond_layers_parse(s, &cfg->conditional_layers)) {
        fprintf(stderr, "made %s: --conditional-layers: %s\n", v, made_last_error());
        return CLI_USAGE;
    }
    /* TFP raises here too: the layers to condition exist only with an input. */
    if (s && cfg->conditional_size == 0) {
        fprintf(stderr, "made %s: --conditional-layers needs a conditional input (%s)\n", v,
                strcmp(v, "train") == 0 ? "--conditional FILE" : "--conditional-size C");
        return CLI_USAGE;
    }
    if ((s = cli_get(cmd, "seed"))) {
        if (cli_int(v, "seed", s, 0, 4294967295LL, &n)) return CLI_USAGE;
        cfg->seed = (uint32_t)n;
    }
    if (cli_get(cmd, "validate-args")) cfg->validate_args = 1;
    if ((s = cli_get(cmd, "dist"))) {
        if (made_dist_parse(s, &cfg->dist)) {
            fprintf(stderr, "made %s: --dist: %s\n", v, made_last_error());
            return CLI_USAGE;
        }
        /* The distribution fixes params unless the user also gave --params. */
        if (!cli_get(cmd, "params")) cfg->params = made_dist_params(cfg->dist);
    }
    if ((s = cli_get(cmd, "masks"))) {
        if (cli_int(v, "masks", s, 1, 4096, &n)) return CLI_USAGE;
        cfg->num_masks = (int)n;
    }
    if (made_config_validate(cfg)) {
        fprintf(stderr, "made %s: %s\n", v, made_last_error());
        return CLI_USAGE;
    }
    return CLI_OK;
}
