/* model_opts.c - the network options shared by `made init` and `made train`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model_opts.h"

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
        if (s[0] >= '0' && s[0] <= '9') {
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
        } else if (made_order_parse(s, &cfg->input_order)) {
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
