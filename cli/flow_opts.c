/* flow_opts.c - `made train --flow` options and the MADE-or-flow handle. */
#include <stdio.h>
#include <string.h>

#include "flow_opts.h"
#include "model_opts.h"

/* --flow KIND:K */
static int parse_flow(const char *s, made_flow_config *fc)
{
    char kind[8];
    int k;
    char tail;
    if (sscanf(s, "%7[a-z]:%d%c", kind, &k, &tail) != 2 || made_flow_kind_parse(kind, &fc->kind) ||
        k < 1 || k > 1024) {
        fprintf(stderr, "made train: --flow: \"%s\" (expected maf:K or iaf:K with K in 1..1024, "
                "e.g. maf:5)\n", s);
        return CLI_USAGE;
    }
    fc->num_layers = k;
    return CLI_OK;
}

int cli_flow_config(const cli_cmd *cmd, int E, int C, made_flow_config *fc, int *perm_buf,
                    int *order_buf, int cap)
{
    const char *s, *v = cmd->verb;
    made_flow_config_default(fc);
    if (parse_flow(cli_get(cmd, "flow"), fc)) return CLI_USAGE;
    if (cli_get(cmd, "dist") || cli_get(cmd, "params") || cli_get(cmd, "masks")) {
        fprintf(stderr, "made %s: --flow sets the layers' outputs (shift and log-scale) and the "
                "base (standard normal): --dist, --params and --masks do not apply\n", v);
        return CLI_USAGE;
    }
    fc->layer.params = 2;
    fc->layer.event_size = E;
    fc->layer.conditional_size = C;
    fc->layer.activation = MADE_ACT_RELU;
    fc->layer.n_hidden = 1;
    fc->layer.hidden_units[0] = 500;
    int rc = cli_model_config(cmd, &fc->layer, order_buf, cap);
    if (rc != CLI_OK) return rc;
    if ((s = cli_get(cmd, "permutation"))) {
        if (s[0] >= '0' && s[0] <= '9') {
            int count;
            if (cli_int_list(v, "permutation", s, 0, 1000000, perm_buf, cap, &count)) return CLI_USAGE;
            if (count != fc->layer.event_size) {
                fprintf(stderr, "made %s: --permutation: %d entries, but the data has %d values "
                        "per row\n", v, count, fc->layer.event_size);
                return CLI_USAGE;
            }
            fc->permutation = MADE_FLOW_PERM_EXPLICIT;
            fc->explicit_permutation = perm_buf;
        } else if (made_flow_permutation_parse(s, &fc->permutation) ||
                   fc->permutation == MADE_FLOW_PERM_EXPLICIT) {
            fprintf(stderr, "made %s: --permutation: \"%s\" (expected reverse, random, identity or "
                    "a 0-based list)\n", v, s);
            return CLI_USAGE;
        }
    }
    fc->permutation_seed = fc->layer.seed;
    if ((s = cli_get(cmd, "scale")) && made_flow_scale_parse(s, &fc->scale))
        return cli_name_error(v, "scale");
    fc->batch_norm = cli_get(cmd, "batch-norm") != NULL;
    fc->share_weights = cli_get(cmd, "share-weights") != NULL;
    if (cli_get(cmd, "standardize")) fc->preprocess = MADE_FLOW_PRE_STANDARDIZE;
    if ((s = cli_get(cmd, "logit"))) {
        if (fc->preprocess != MADE_FLOW_PRE_NONE) {
            fprintf(stderr, "made %s: give --standardize or --logit, not both\n", v);
            return CLI_USAGE;
        }
        if (cli_double(v, "logit", s, 0, 0.499999, &fc->logit_lambda)) return CLI_USAGE;
        fc->preprocess = MADE_FLOW_PRE_LOGIT;
    }
    if (cli_get(cmd, "dequantize")) {
        if (fc->preprocess != MADE_FLOW_PRE_LOGIT) {
            fprintf(stderr, "made %s: --dequantize needs --logit L (e.g. --logit 1e-6)\n", v);
            return CLI_USAGE;
        }
        fc->dequantize_levels = 256;
    }
    if (made_flow_config_validate(fc)) {
        fprintf(stderr, "made %s: %s\n", v, made_last_error());
        return CLI_USAGE;
    }
    return CLI_OK;
}

const char *cli_flow_option_given(const cli_cmd *cmd)
{
    static const char *const flow_only[] = {"flow",  "permutation", "batch-norm", "scale",
                                            "standardize", "dequantize", "logit",
                                            "share-weights"};
    for (size_t i = 0; i < sizeof flow_only / sizeof *flow_only; i++)
        if (cli_get(cmd, flow_only[i])) return flow_only[i];
    return NULL;
}

int cli_dequantize(const char *verb, const char *path, float *x, size_t rows, size_t cols,
                   uint64_t seed, int levels)
{
    if (made_dequantize(x, rows, cols, seed, levels) != MADE_OK)
        return cli_fail(verb, "%s: %s", path, made_last_error());
    return CLI_OK;
}

int cli_model_load(const char *verb, const char *path, cli_model *out)
{
    memset(out, 0, sizeof *out);
    /* A file that cannot be read at all gets the model loader's message,
     * which says what the file is instead. */
    int st = made_file_is_flow(path) == 1 ? made_flow_load(&out->f, path)
                                          : made_model_load(&out->m, path);
    return st ? cli_fail_status(verb, st) : CLI_OK;
}

void cli_model_free(cli_model *cm)
{
    made_model_free(cm->m);
    made_flow_free(cm->f);
    cm->m = NULL;
    cm->f = NULL;
}

int cli_model_event_size(const cli_model *cm)
{
    return cm->f ? made_flow_get_config(cm->f)->layer.event_size : made_model_config(cm->m)->event_size;
}

int cli_model_cond_size(const cli_model *cm)
{
    return cm->f ? made_flow_get_config(cm->f)->layer.conditional_size
                 : made_model_config(cm->m)->conditional_size;
}

int cli_model_check_data(const cli_model *cm, const float *x, size_t n)
{
    return cm->f ? made_flow_check_data(cm->f, x, n) : made_model_check_data(cm->m, x, n);
}

int cli_model_set_threads(cli_model *cm, int threads)
{
    return cm->f ? made_flow_set_threads(cm->f, threads) : made_model_set_threads(cm->m, threads);
}

int cli_model_save(const cli_model *cm, const char *path)
{
    return cm->f ? made_flow_save(cm->f, path) : made_model_save(cm->m, path);
}

size_t cli_model_num_params(const cli_model *cm)
{
    return cm->f ? made_flow_num_params(cm->f) : made_model_num_free_params(cm->m);
}
