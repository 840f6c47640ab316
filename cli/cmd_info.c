/* cmd_info.c - `made info`: configuration, degrees and parameter counts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void print_ints(const int *v, int n)
{
    for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", v[i]);
}

/* Degrees of every layer (the inputs' order first), JSON arrays or text lines. */
static void print_degrees(made_model *m, int *deg, int json)
{
    const made_config *cfg = made_model_config(m);
    for (int l = 0; l <= cfg->n_hidden; l++) {
        int n = l == 0 ? cfg->event_size : cfg->hidden_units[l - 1];
        made_model_degrees(m, l, deg);
        if (json) {
            printf("%s[", l ? "," : "");
            print_ints(deg, n);
            printf("]");
        } else {
            if (l == 0) printf("  input order:      [");
            else printf("  hidden layer %-3d: [", l);
            print_ints(deg, n);
            printf("]\n");
        }
    }
}

/* A JSON number, or null for NAN. */
static void print_number(double v)
{
    if (isnan(v)) printf("null");
    else printf("%.9g", v);
}

/* The preprocessing and the training outcome the file records. */
static void print_record_json(const made_model_record *r)
{
    printf(",\"record\":{\"binarize\":");
    print_number(r->binarize);
    printf(",\"epochs_run\":%d,\"best_epoch\":%d,\"stop\":\"%s\",\"train_nll\":", r->epochs_run,
           r->best_epoch, made_stop_name(r->stop));
    print_number(r->train_nll);
    printf(",\"val_nll\":");
    print_number(r->val_nll);
    printf("}");
}

/* indent: a flow's lines, which have no binarize threshold. */
static void print_record_text(const made_model_record *r, const char *indent)
{
    if (*indent) {
        /* no threshold line */
    } else if (isnan(r->binarize)) printf("binarize:           none\n");
    else printf("binarize:           %g (data values > %g are 1, others 0)\n", r->binarize,
                r->binarize);
    if (r->epochs_run == 0) {
        printf("%straining:           none recorded\n", indent);
        return;
    }
    printf("%straining:           %d epoch%s run, kept epoch %d, stopped: %s\n", indent,
           r->epochs_run, r->epochs_run == 1 ? "" : "s", r->best_epoch,
           r->stop == MADE_STOP_PATIENCE ? "no validation improvement (patience)" : "all epochs run");
    printf("%strain NLL:          %.6g nats/example (last epoch)\n", indent, r->train_nll);
    if (isnan(r->val_nll)) printf("%svalidation NLL:     none (no validation data)\n", indent);
    else printf("%svalidation NLL:     %.6g nats/example (kept epoch)\n", indent, r->val_nll);
}

static void print_json(made_model *m, const char *path, const char *config_json, int *deg)
{
    printf("{\"file\":");
    cli_json_string(stdout, path);
    printf(",\"made_version\":\"%s\",\"config\":%s,\"degrees\":[", made_version_string(),
           config_json);
    print_degrees(m, deg, 1);
    printf("]");
    print_record_json(made_model_get_record(m));
    printf(",\"num_params\":%zu,\"num_free_params\":%zu,\"weights\":[", made_model_num_params(m),
           made_model_num_free_params(m));
    for (int k = 0; k < made_model_num_weights(m); k++) {
        const char *name;
        int rank, shape[2];
        made_model_weight_info(m, k, &name, &rank, shape);
        printf("%s{\"name\":\"%s\",\"shape\":[%d", k ? "," : "", name, shape[0]);
        if (rank == 2) printf(",%d", shape[1]);
        printf("]}");
    }
    printf("]}\n");
}

static void print_text(made_model *m, const char *path, int *deg)
{
    const made_config *cfg = made_model_config(m);
    char dist[64], kinit[256], binit[256];
    made_dist_format(dist, sizeof dist, cfg->dist);
    made_initializer_format(kinit, sizeof kinit, &cfg->kernel_initializer);
    made_initializer_format(binit, sizeof binit, &cfg->bias_initializer);
    printf("model:              %s\n", path);
    printf("event_size:         %d\nparams:             %d\nhidden_units:       [", cfg->event_size,
           cfg->params);
    print_ints(cfg->hidden_units, cfg->n_hidden);
    printf("]\ninput_order:        %s\nhidden_degrees:     %s\nactivation:         %s\n",
           made_order_name(cfg->input_order), made_degrees_name(cfg->hidden_degrees),
           made_activation_name(cfg->activation));
    printf("use_bias:           %s\nkernel_initializer: %s\nbias_initializer:   %s\n",
           cfg->use_bias ? "true" : "false", kinit, binit);
    printf("conditional_size:   %d\nconditional_layers: %s\nvalidate_args:      %s\n",
           cfg->conditional_size, made_cond_layers_name(cfg->conditional_layers),
           cfg->validate_args ? "true" : "false");
    printf("seed:               %u\ndistribution:       %s\nmask sets:          %d\n",
           (unsigned)cfg->seed, dist, cfg->num_masks);
    printf("degrees:\n");
    print_degrees(m, deg, 0);
    print_record_text(made_model_get_record(m), "");
    printf("parameters:         %zu (TFP count, masked entries included)\n",
           made_model_num_params(m));
    printf("free parameters:    %zu (unmasked)\nweights (TFP order):\n",
           made_model_num_free_params(m));
    for (int k = 0; k < made_model_num_weights(m); k++) {
        const char *name;
        int rank, shape[2];
        made_model_weight_info(m, k, &name, &rank, shape);
        if (rank == 2) printf("  %-28s [%d, %d]\n", name, shape[0], shape[1]);
        else printf("  %-28s [%d]\n", name, shape[0]);
    }
}

/* A flow: the stack's settings, its permutations, the layer network's config
 * and the parameter count. */
static int info_flow(const char *path, int json)
{
    made_flow *f = NULL;
    int st = made_flow_load(&f, path);
    if (st) return cli_fail_status("info", st);
    const made_flow_config *fc = made_flow_get_config(f);
    const int E = fc->layer.event_size, K = fc->num_layers;
    static const char *const pre[] = {"none", "standardize", "logit"};
    int len = made_config_to_json(&fc->layer, NULL, 0);
    char *layer = len >= 0 ? malloc((size_t)len + 1) : NULL;
    int *perm = malloc((size_t)E * sizeof *perm);
    if (!layer || !perm || made_config_to_json(&fc->layer, layer, (size_t)len + 1) < 0) {
        free(layer);
        free(perm);
        made_flow_free(f);
        return cli_fail("info", "out of memory");
    }
    if (json) {
        printf("{\"file\":");
        cli_json_string(stdout, path);
        printf(",\"flow\":\"%s\",\"num_layers\":%d,\"permutation\":\"%s\",\"scale\":\"%s\","
               "\"batch_norm\":%s,\"share_weights\":%s,\"preprocess\":\"%s\",\"num_params\":%zu,"
               "\"permutations\":[",
               made_flow_kind_name(fc->kind), K, made_flow_permutation_name(fc->permutation),
               made_flow_scale_name(fc->scale), fc->batch_norm ? "true" : "false",
               fc->share_weights ? "true" : "false", pre[fc->preprocess], made_flow_num_params(f));
        for (int k = 0; k + 1 < K; k++) {
            made_flow_get_permutation(f, k, perm);
            printf("%s", k ? ",[" : "[");
            print_ints(perm, E);
            printf("]");
        }
        printf("]");
        print_record_json(made_flow_get_record(f));
        printf(",\"layer\":%s}\n", layer);
    } else {
        printf("%s: %s flow, %d layer%s, event size %d, conditional size %d\n", path,
               made_flow_kind_name(fc->kind), K, K == 1 ? "" : "s", E, fc->layer.conditional_size);
        printf("  permutation %s, scale %s, batch norm %s, preprocessing %s\n",
               made_flow_permutation_name(fc->permutation), made_flow_scale_name(fc->scale),
               fc->batch_norm ? "on" : "off", pre[fc->preprocess]);
        for (int k = 0; k + 1 < K; k++) {
            made_flow_get_permutation(f, k, perm);
            printf("  permutation after layer %d: ", k);
            print_ints(perm, E);
            printf("\n");
        }
        printf("  layer network%s: %s\n  parameters: %zu\n",
               fc->share_weights ? " (one, shared by every layer)" : "", layer,
               made_flow_num_params(f));
        print_record_text(made_flow_get_record(f), "  ");
    }
    free(layer);
    free(perm);
    made_flow_free(f);
    return CLI_OK;
}

int cmd_info(int argc, char **argv)
{
    cli_opt opts[] = {
        {"json", 0, NULL, "print one JSON object instead of text", 0},
    };
    cli_cmd cmd = {"info", "MODEL [--json]",
                   "Print a model's configuration, its degrees per layer and its parameter counts\n"
                   "(for a flow: its layers, permutations, the layer network's configuration "
                   "and how its training\nended).",
                   NULL, opts, 1, 1, 1};
    const char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    /* A file that cannot be read at all gets the model loader's message. */
    if (made_file_is_flow(pos[0]) == 1) return info_flow(pos[0], cli_get(&cmd, "json") != NULL);
    made_model *m;
    int st = made_model_load(&m, pos[0]);
    if (st) return cli_fail_status("info", st);
    const made_config *cfg = made_model_config(m);
    int len = made_config_to_json(cfg, NULL, 0);
    char *json = len >= 0 ? malloc((size_t)len + 1) : NULL;
    int maxw = cfg->event_size;
    for (int l = 0; l < cfg->n_hidden; l++)
        if (cfg->hidden_units[l] > maxw) maxw = cfg->hidden_units[l];
    int *deg = malloc((size_t)maxw * sizeof *deg);
    if (!json || !deg) rc = cli_fail("info", "out of memory");
    else if (made_config_to_json(cfg, json, (size_t)len + 1) < 0)
        rc = cli_fail_status("info", MADE_E_NOMEM);
    else if (cli_get(&cmd, "json")) print_json(m, pos[0], json, deg);
    else print_text(m, pos[0], deg);
    free(json);
    free(deg);
    made_model_free(m);
    return rc;
}
