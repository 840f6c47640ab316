/* train_run.c - what a training run remembers, so that `made train DATA -o M
 * --resume M.ckpt` continues it with no other option:
 *   - the data options, as given, in the checkpoint's note (one "name=value"
 *     line each), filled back in on --resume;
 *   - the model's and the trainer's settings, which the checkpoint holds: an
 *     option repeated on --resume (or next to --init-from) must have the same
 *     value, and a different one is an error naming the option and both values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "flow_opts.h"
#include "model_opts.h"

/* The data options a run records. */
static const char *const data_opts[] = {"val-fraction", "val", "val-conditional", "conditional",
                                        "binarize"};
#define N_DATA_OPTS ((int)(sizeof data_opts / sizeof *data_opts))

char *cli_run_note(const cli_cmd *cmd)
{
    size_t size = 1;
    for (int i = 0; i < N_DATA_OPTS; i++) {
        const char *v = cli_get(cmd, data_opts[i]);
        if (!v) continue;
        if (strchr(v, '\n')) {
            fprintf(stderr, "made train: --%s: a name with a line break cannot be recorded in the "
                    "checkpoint\n", data_opts[i]);
            return NULL;
        }
        size += strlen(data_opts[i]) + strlen(v) + 2;
    }
    char *note = malloc(size);
    if (!note) {
        cli_fail("train", "out of memory");
        return NULL;
    }
    note[0] = '\0';
    for (int i = 0; i < N_DATA_OPTS; i++) {
        const char *v = cli_get(cmd, data_opts[i]);
        if (v) sprintf(note + strlen(note), "%s=%s\n", data_opts[i], v);
    }
    return note;
}

/* Two values of a data option are the same: numbers by value ("0.1" and
 * "1e-1"), file names as text. */
static int same_value(const char *name, const char *a, const char *b)
{
    if (strcmp(name, "val-fraction") != 0 && strcmp(name, "binarize") != 0)
        return strcmp(a, b) == 0;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return *ea == '\0' && *eb == '\0' ? x == y : strcmp(a, b) == 0;
}

int cli_run_apply_note(cli_cmd *cmd, char *note, const char *ckpt)
{
    /* The note's lines, split in place: the values stay in note. */
    const char *stored[N_DATA_OPTS] = {0};
    for (char *line = note; *line;) {
        char *end = strchr(line, '\n'), *eq = strchr(line, '=');
        if (!end || !eq || eq > end) break; /* not written by made: ignore the rest */
        *eq = '\0';
        *end = '\0';
        for (int i = 0; i < N_DATA_OPTS; i++)
            if (strcmp(line, data_opts[i]) == 0) stored[i] = eq + 1;
        line = end + 1;
    }
    for (int i = 0; i < N_DATA_OPTS; i++) {
        const char *name = data_opts[i], *given = cli_get(cmd, name);
        if (!given && stored[i]) {
            cli_set(cmd, name, stored[i]);
        } else if (given && !stored[i]) {
            fprintf(stderr, "made train: --%s %s, but the run in %s was started without --%s\n",
                    name, given, ckpt, name);
            return CLI_USAGE;
        } else if (given && !same_value(name, given, stored[i])) {
            fprintf(stderr, "made train: --%s %s, but the run in %s was started with --%s %s "
                    "(leave the option out to continue it)\n", name, given, ckpt, name, stored[i]);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

/* ---- the settings the checkpoint (or the --init-from model) holds -------------------- */

static void fmt_list(char *buf, size_t size, const int *v, int n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len + 16 < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? "," : "", v[i]);
    if (n == 0) snprintf(buf, size, "''");
}

/* The value of option `name` in cfg/tc, as the option would be written. The
 * text doubles as the comparison: two settings are the same when they print
 * the same (numbers with 15 significant digits, exact for what was typed). */
static int format_setting(char *buf, size_t size, const char *name, const made_config *c,
                          const made_train_config *t)
{
    if (!strcmp(name, "params")) snprintf(buf, size, "%d", c->params);
    else if (!strcmp(name, "hidden")) fmt_list(buf, size, c->hidden_units, c->n_hidden);
    else if (!strcmp(name, "input-order") && c->input_order == MADE_ORDER_EXPLICIT)
        fmt_list(buf, size, c->explicit_order, c->event_size);
    else if (!strcmp(name, "input-order")) snprintf(buf, size, "%s", made_order_name(c->input_order));
    else if (!strcmp(name, "hidden-degrees"))
        snprintf(buf, size, "%s", made_degrees_name(c->hidden_degrees));
    else if (!strcmp(name, "activation"))
        snprintf(buf, size, "%s", made_activation_name(c->activation));
    else if (!strcmp(name, "no-bias")) snprintf(buf, size, "%s", c->use_bias ? "(biases)" : "(none)");
    else if (!strcmp(name, "kernel-initializer"))
        made_initializer_format(buf, size, &c->kernel_initializer);
    else if (!strcmp(name, "bias-initializer")) made_initializer_format(buf, size, &c->bias_initializer);
    else if (!strcmp(name, "conditional-size")) snprintf(buf, size, "%d", c->conditional_size);
    else if (!strcmp(name, "conditional-layers"))
        snprintf(buf, size, "%s", made_cond_layers_name(c->conditional_layers));
    else if (!strcmp(name, "validate-args")) snprintf(buf, size, "%s", c->validate_args ? "on" : "off");
    else if (!strcmp(name, "dist")) made_dist_format(buf, size, c->dist);
    else if (!strcmp(name, "masks")) snprintf(buf, size, "%d", c->num_masks);
    else if (!t) return 0; /* a trainer setting (--seed seeds both), and no trainer to compare */
    else if (!strcmp(name, "seed")) snprintf(buf, size, "%llu", (unsigned long long)t->seed);
    else if (!strcmp(name, "batch-size")) snprintf(buf, size, "%d", t->batch_size);
    else if (!strcmp(name, "lr")) snprintf(buf, size, "%.15g", t->lr);
    else if (!strcmp(name, "optimizer"))
        snprintf(buf, size, "%s", t->optimizer == MADE_OPTIM_SGD ? "sgd" : "adam");
    else if (!strcmp(name, "momentum")) snprintf(buf, size, "%.15g", t->momentum);
    else if (!strcmp(name, "weight-decay")) snprintf(buf, size, "%.15g", t->weight_decay);
    else if (!strcmp(name, "clip-norm")) snprintf(buf, size, "%.15g", t->clip_norm);
    else if (!strcmp(name, "lr-schedule") && t->schedule == MADE_LR_STEP)
        snprintf(buf, size, "step:%d:%.15g", t->decay_epochs, t->decay_rate);
    else if (!strcmp(name, "lr-schedule"))
        snprintf(buf, size, "%s", t->schedule == MADE_LR_COSINE ? "cosine" : "constant");
    else if (!strcmp(name, "patience")) snprintf(buf, size, "%d", t->patience);
    else if (!strcmp(name, "resample-every")) snprintf(buf, size, "%d", t->resample_every);
    else return 0;
    return 1;
}

int cli_run_check_settings(const cli_cmd *cmd, const char *where, const made_config *given,
                           const made_config *have, const made_train_config *tgiven,
                           const made_train_config *thave)
{
    static const char *const names[] = {
        "params", "hidden", "input-order", "hidden-degrees", "activation", "no-bias",
        "kernel-initializer", "bias-initializer", "conditional-size", "conditional-layers",
        "validate-args", "dist", "masks", "seed", "batch-size", "lr", "optimizer", "momentum",
        "weight-decay", "clip-norm", "lr-schedule", "patience", "resample-every"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *text = cli_get(cmd, names[i]);
        char a[256], b[256];
        if (!text || !format_setting(a, sizeof a, names[i], given, tgiven)) continue;
        format_setting(b, sizeof b, names[i], have, thave);
        int same = strcmp(a, b) == 0;
        /* Long explicit orders are cut short in the text: compare them whole. */
        if (same && !strcmp(names[i], "input-order") && given->input_order == MADE_ORDER_EXPLICIT)
            same = memcmp(given->explicit_order, have->explicit_order,
                          (size_t)given->event_size * sizeof(int)) == 0;
        if (same) continue;
        fprintf(stderr, "made train: --%s %s, but %s has --%s %s (a repeated option must keep "
                "its value%s)\n", names[i], *text ? text : "(given)", where, names[i], b,
                thave ? "; only --epochs may change" : "");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* ---- the steps of `made train` that use what a run remembers -------------------------- */

int cli_train_resume_open(cli_cmd *cmd, const char *ckpt, made_trainer **t, cli_model *cm,
                          char **note)
{
    *note = NULL;
    /* A file that cannot be read at all gets the MADE reader's message. */
    int st = made_file_is_flow(ckpt) == 1 ? made_flow_trainer_resume(t, &cm->f, ckpt)
                                          : made_trainer_resume(t, &cm->m, ckpt);
    if (st) return cli_fail_status("train", st);
    const char *text = made_trainer_note(*t);
    *note = malloc(strlen(text) + 1);
    if (!*note) return cli_fail("train", "out of memory");
    strcpy(*note, text);
    return cli_run_apply_note(cmd, *note, ckpt);
}

/* The options' model settings on top of the defaults `made train` uses, for
 * comparing with a model's: the event and conditional sizes are the model's. */
static int given_config(const cli_cmd *cmd, const made_config *have, made_config *cfg,
                        int *order, int cap)
{
    made_config_default(cfg);
    cfg->activation = MADE_ACT_RELU;
    cfg->n_hidden = 1;
    cfg->hidden_units[0] = 500;
    cfg->event_size = have->event_size;
    cfg->conditional_size = have->conditional_size;
    return cli_model_config(cmd, cfg, order, cap);
}

int cli_train_resume_check(const cli_cmd *cmd, const char *ckpt, made_trainer *t,
                           const cli_model *cm, const made_train_config *tgiven, int *order,
                           int cap)
{
    /* The flow's own options: its file holds them, so on --resume they are
     * left out (a MADE's run has none). */
    const char *given = cli_flow_option_given(cmd);
    if (given) {
        fprintf(stderr, "made train: --%s: %s (leave the option out to continue the run)\n",
                given, cm->f ? "the flow in the checkpoint holds its settings"
                             : "the run in the checkpoint trains a MADE, not a flow");
        return CLI_USAGE;
    }
    /* A flow's network options are those of its layers' networks. */
    const made_config *have = cm->f ? &made_flow_get_config(cm->f)->layer
                                    : made_model_config(cm->m);
    made_config cfg;
    int rc = given_config(cmd, have, &cfg, order, cap);
    char where[512];
    snprintf(where, sizeof where, "the run in %s", ckpt);
    if (!rc) rc = cli_run_check_settings(cmd, where, &cfg, have, tgiven, made_trainer_config(t));
    if (rc) return rc;
    /* More epochs continue the run (as if it had been started with them). */
    if (cli_get(cmd, "epochs") && made_trainer_set_epochs(t, tgiven->epochs)) {
        fprintf(stderr, "made train: --epochs: %s\n", made_last_error());
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_train_init_from(const cli_cmd *cmd, const char *path, made_model **out, int *order,
                        int cap)
{
    *out = NULL;
    made_model *src = NULL;
    if (made_file_is_flow(path) == 1) {
        fprintf(stderr, "made train: --init-from %s: a flow; --init-from starts a MADE from a MADE "
                "model's weights (a flow's run continues with --resume CKPT)\n", path);
        return CLI_USAGE;
    }
    int st = made_model_load(&src, path);
    if (st) return cli_fail_status("train", st);
    made_config cfg = *made_model_config(src), given;
    int rc = given_config(cmd, &cfg, &given, order, cap);
    char where[512];
    snprintf(where, sizeof where, "the model in %s", path);
    made_config have = cfg; /* a model without a distribution takes the one given */
    if (have.dist.kind == MADE_DIST_NONE) have.dist = given.dist;
    if (!rc) rc = cli_run_check_settings(cmd, where, &given, &have, NULL, NULL);
    /* A model made without a distribution ('made init' without --dist) gets
     * the one given here, if its outputs per dimension fit it. */
    if (!rc && cfg.dist.kind == MADE_DIST_NONE) {
        if (!cli_get(cmd, "dist")) {
            fprintf(stderr, "made train: --init-from %s: the model has no distribution; give "
                    "--dist\n", path);
            rc = CLI_USAGE;
        } else {
            cfg.dist = given.dist;
        }
    }
    size_t n = made_model_num_params(src);
    float *w = rc ? NULL : malloc(n * sizeof *w);
    if (!rc && !w) rc = cli_fail("train", "out of memory");
    if (!rc && ((st = made_model_get_weights(src, w, n)) || (st = made_model_create(out, &cfg)) ||
                (st = made_model_set_weights(*out, w, n)) ||
                (st = made_model_set_record(*out, made_model_get_record(src)))))
        rc = cli_fail_status("train", st);
    free(w);
    made_model_free(src);
    return rc;
}

void cli_train_outcome(const made_model_record *r, int have_val, int patience)
{
    char why[96];
    if (r->stop == MADE_STOP_PATIENCE)
        snprintf(why, sizeof why, "early: no validation improvement for %d epoch%s (--patience)",
                 patience, patience == 1 ? "" : "s");
    else
        snprintf(why, sizeof why, "after all %d epoch%s", r->epochs_run, r->epochs_run == 1 ? "" : "s");
    if (have_val)
        fprintf(stderr, "made train: kept epoch %d of %d (best validation NLL %.4f, train NLL of "
                "the last epoch %.4f); stopped %s\n", r->best_epoch, r->epochs_run, r->val_nll,
                r->train_nll, why);
    else
        fprintf(stderr, "made train: kept the last epoch, %d (train NLL %.4f; no validation data "
                "to choose another); stopped %s\n", r->epochs_run, r->train_nll, why);
}

void cli_train_remove_checkpoint(const char *ckpt)
{
    /* Only a regular file: never a device, a FIFO or a link given as --checkpoint. */
    struct stat st;
    if (lstat(ckpt, &st) == 0 && S_ISREG(st.st_mode)) unlink(ckpt);
}
