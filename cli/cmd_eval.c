/* cmd_eval.c - `made eval` (mean NLL and bits per dimension) and `made logprob`
 * (log p(x) per example). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flow_opts.h"

/* Shared by both verbs: load the model, the data and the conditional inputs. */
typedef struct scored {
    cli_model cm;
    made_array x, c;
    size_t n;
    int masks;
} scored;

static int load(const char *verb, const cli_cmd *cmd, const char *model, const char *data, scored *s)
{
    memset(s, 0, sizeof *s);
    const char *v;
    double binarize = NAN;
    long long masks = 0, threads = 1;
    if ((v = cli_get(cmd, "binarize")) && cli_double(verb, "binarize", v, -1e30, 1e30, &binarize))
        return CLI_USAGE;
    if ((v = cli_get(cmd, "masks")) && cli_int(verb, "masks", v, 1, 4096, &masks)) return CLI_USAGE;
    if ((v = cli_get(cmd, "threads")) && cli_int(verb, "threads", v, 1, 1024, &threads))
        return CLI_USAGE;
    long long seed = 0;
    if ((v = cli_get(cmd, "seed")) && cli_int(verb, "seed", v, 0, 9007199254740991LL, &seed))
        return CLI_USAGE;
    int rc = cli_model_load(verb, model, &s->cm), st;
    if (rc) return rc;
    cli_model_set_threads(&s->cm, (int)threads);
    const int E = cli_model_event_size(&s->cm), C = cli_model_cond_size(&s->cm);
    if (s->cm.m) {
        const made_config *cfg = made_model_config(s->cm.m);
        /* The threshold the model was trained with, unless another is given. */
        if (!cli_get(cmd, "binarize")) binarize = made_model_get_record(s->cm.m)->binarize;
        if (cfg->dist.kind == MADE_DIST_NONE)
            return cli_fail(verb, "%s has no output distribution (it was made by 'made init' "
                            "without --dist); train it with 'made train'", model);
        if (masks > cfg->num_masks)
            return cli_fail(verb, "--masks %lld, but %s has %d mask set%s", masks, model,
                            cfg->num_masks, cfg->num_masks == 1 ? "" : "s");
        s->masks = masks ? (int)masks : cfg->num_masks;
    } else if (masks) {
        return cli_fail(verb, "--masks: %s is a flow, which has one mask set per layer", model);
    } else {
        s->masks = 1;
    }
    size_t cols;
    if (cli_load_rows(verb, data, (size_t)E, binarize, &s->x, &s->n, &cols)) return CLI_FAIL;
    int levels = s->cm.f ? made_flow_get_config(s->cm.f)->dequantize_levels : 0;
    if (levels && cli_dequantize(verb, data, s->x.data, s->n, cols, (uint64_t)seed, levels))
        return CLI_FAIL;
    if ((st = cli_model_check_data(&s->cm, s->x.data, s->n))) {
        fprintf(stderr, "made %s: %s: %s\n", verb, data, made_last_error());
        return CLI_FAIL;
    }
    const char *cond = cli_get(cmd, "conditional");
    if (C && !cond) {
        return cli_fail(verb, "the model is conditional: pass --conditional FILE");
    }
    if (!C && cond) {
        return cli_fail(verb, "--conditional given, but the model is not conditional");
    }
    if (cond) {
        size_t rows, cc;
        if (cli_load_conditional(verb, cond, (size_t)C, s->n, &s->c, &rows, &cc))
            return CLI_FAIL;
        if (rows != s->n) return cli_fail(verb, "%s has %zu rows but %s has %zu", cond, rows, data, s->n);
    }
    return CLI_OK;
}

static void unload(scored *s)
{
    cli_model_free(&s->cm);
    made_array_free(&s->x);
    made_array_free(&s->c);
}

#define SCORE_OPTS                                                                            \
    {"seed", 0, "S", "seed of the dequantisation noise, for flows trained with --dequantize "  \
                     "(default 0)", 0},                                                        \
    {"masks", 0, "K", "mixture over the first K mask sets (default: all the model has)", 0},  \
    {"conditional", 'c', "FILE", "conditional inputs, one row per data row", 0},              \
    {"binarize", 0, "T", "map values > T to 1, others to 0 (default: the model's own)", 0},    \
    {"threads", 't', "T", "threads (default 1)", 0}

int cmd_eval(int argc, char **argv)
{
    cli_opt opts[] = {SCORE_OPTS, {"json", 0, NULL, "print one JSON object", 0}};
    cli_cmd cmd = {"eval", "MODEL DATA [--masks K] [--json]",
                   "Print the mean negative log-likelihood of DATA in nats per example, then in "
                   "bits per dimension.",
                   "output: NLL_NATS nats BITS bits/dim (N examples, E dims, K masks)", opts,
                   (int)(sizeof opts / sizeof *opts), 2, 2};
    const char *pos[2];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    scored s;
    rc = load("eval", &cmd, pos[0], pos[1], &s);
    if (rc == CLI_OK) {
        double nll;
        int st = s.cm.f ? made_flow_nll(s.cm.f, s.x.data, s.c.data, s.n, &nll)
                        : made_model_nll(s.cm.m, s.x.data, s.c.data, s.n, s.masks, &nll);
        if (st) {
            rc = cli_fail_status("eval", st);
        } else {
            int e = cli_model_event_size(&s.cm);
            double bpd = nll / ((double)e * log(2.0));
            if (cli_get(&cmd, "json"))
                printf("{\"nll_nats\":%.9g,\"bits_per_dim\":%.9g,\"examples\":%zu,\"dims\":%d,"
                       "\"masks\":%d}\n", nll, bpd, s.n, e, s.masks);
            else
                printf("%.6f nats %.6f bits/dim (%zu examples, %d dims, %d mask set%s)\n", nll, bpd,
                       s.n, e, s.masks, s.masks == 1 ? "" : "s");
        }
    }
    unload(&s);
    return rc;
}

int cmd_logprob(int argc, char **argv)
{
    cli_opt opts[] = {SCORE_OPTS, {"output", 'o', "LP", "output .npy (float32 [N]) or .csv; - for .npy on stdout", 0}};
    cli_cmd cmd = {"logprob", "MODEL DATA -o LP.npy",
                   "Write log p(x) in nats for every example of DATA.", NULL, opts,
                   (int)(sizeof opts / sizeof *opts), 2, 2};
    const char *pos[2];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    const char *out = cli_get(&cmd, "output");
    if (!out) {
        fprintf(stderr, "made logprob: -o LP is required\n");
        return CLI_USAGE;
    }
    if ((rc = cli_output("logprob", "-o", out, CLI_FMT_NPY | CLI_FMT_CSV, NULL))) return rc;
    scored s;
    rc = load("logprob", &cmd, pos[0], pos[1], &s);
    double *lp = NULL;
    made_array y = {0};
    if (rc == CLI_OK) {
        lp = malloc((s.n ? s.n : 1) * sizeof *lp);
        int st = lp ? made_array_alloc(&y, 1, &s.n) : MADE_E_NOMEM;
        if (!st)
            st = s.cm.f ? made_flow_log_prob(s.cm.f, lp, s.x.data, s.c.data, s.n)
                        : made_model_log_prob_ensemble(s.cm.m, lp, s.x.data, s.c.data, s.n, s.masks);
        if (!st) {
            for (size_t i = 0; i < s.n; i++) y.data[i] = (float)lp[i];
            st = made_data_write(&y, out, 1); /* CSV: one value per line */
        }
        if (st) rc = cli_fail_status("logprob", st);
    }
    free(lp);
    made_array_free(&y);
    unload(&s);
    return rc;
}
