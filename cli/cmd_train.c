/* cmd_train.c - `made train`: fit a MADE to data, with validation, early
 * stopping, checkpoints, Ctrl-C handling and exact resumption. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_mpi.h"
#include "flow_opts.h"
#include "model_opts.h"

#define MAX_ORDER (1 << 20)

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct run {
    made_trainer *t;
    const char *ckpt; /* written after every epoch */
    int save_failed;
    char err[512];    /* the failed save's message */
    FILE *log;        /* --log-json, or NULL */
    int tty, quiet;
    double last_draw; /* seconds into the epoch of the last progress line */
    int E;
    const char *data, *out; /* for the resume hint */
    int rank, size;         /* MPI rank and ranks: only rank 0 reports and writes files */
} run;

static int progress(void *user, const made_progress *p)
{
    run *r = user;
    if (r->rank != 0) return interrupted ? 1 : 0;
    if (p->epoch_done) {
        if (r->log) {
            fprintf(r->log, "{\"epoch\":%d,\"step\":%lld,\"train_nll\":%.9g,\"val_nll\":", p->epoch,
                    p->step, p->train_nll);
            if (isnan(p->val_nll)) fprintf(r->log, "null");
            else fprintf(r->log, "%.9g", p->val_nll);
            fprintf(r->log, ",\"best_val_nll\":");
            if (isnan(p->best_val_nll)) fprintf(r->log, "null");
            else fprintf(r->log, "%.9g", p->best_val_nll);
            fprintf(r->log, ",\"improved\":%s,\"lr\":%.9g,\"examples_per_sec\":%.6g,\"seconds\":%.6g}\n",
                    p->improved ? "true" : "false", p->lr, p->examples_per_sec, p->seconds);
            fflush(r->log);
        }
        if (!r->quiet) {
            char val[64] = "";
            if (!isnan(p->val_nll))
                snprintf(val, sizeof val, "  val %.4f%s", p->val_nll, p->improved ? " *" : "");
            fprintf(stderr, "%sepoch %d/%d  train %.4f%s  %.0f ex/s  %.1f s\n", r->tty ? "\r\033[K" : "",
                    p->epoch, p->epochs, p->train_nll, val, p->examples_per_sec, p->seconds);
        }
        r->last_draw = 0;
        /* The trainer is consistent between epochs: checkpoint it. */
        if (made_trainer_save(r->t, r->ckpt) != MADE_OK) {
            r->save_failed = 1;
            snprintf(r->err, sizeof r->err, "%s", made_last_error());
            return 1;
        }
    } else if (r->tty && !r->quiet && (p->seconds - r->last_draw >= 0.2 || p->batch == p->batches)) {
        /* A live line on terminals, redrawn at most five times a second. */
        r->last_draw = p->seconds;
        cli_progress_line(stderr, p, cli_terminal_width(2));
    }
    return interrupted ? 1 : 0;
}

/* Deterministic shuffle for the validation split (splitmix64 stream). */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The options that are not the model's or the trainer's settings. */
typedef struct train_opts {
    const char *out, *resume, *init_from;
    const char *ckpt;   /* --checkpoint, or MODEL.ckpt (ckpt_buf) */
    char *ckpt_buf;
    char *note;         /* the checkpoint's note, on --resume */
    made_train_config tc;
    double val_fraction, binarize;
    long long threads;
} train_opts;

/* Everything the run reads: DATA (X) and its conditional rows (C), a --val
 * file (XV, CV), or the training and validation parts of a split (Xt, Ct, Xv,
 * Cv). The pointers say which are in use. Under mpirun each rank holds its
 * part of the rows: X is rows [first, first + rows) of DATA's total, and the
 * training and validation rows it holds start at train_first and val_first
 * of train_total and val_total (without MPI: all of them, from 0). */
typedef struct data {
    made_array X, C, XV, CV, Xt, Ct, Xv, Cv;
    size_t rows, cols, ccols, ntrain, nval;
    size_t first, total, train_first, train_total, val_first, val_total;
    uint64_t fp[4]; /* fingerprints of DATA, --conditional, --val, --val-conditional */
    const char *path; /* DATA */
    const char *cond; /* --conditional FILE */
    const float *xtrain, *ctrain, *xval, *cval;
} data;

static void data_free(data *d)
{
    made_array *all[] = {&d->X, &d->C, &d->XV, &d->CV, &d->Xt, &d->Ct, &d->Xv, &d->Cv};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) made_array_free(all[i]);
}

/* -o and --checkpoint (and --log-json): given as they must be, and writable,
 * before any work, each named by its option. */
static int check_outputs(const cli_cmd *cmd, const cli_mpi *mp, train_opts *o)
{
    const char *V = "train", *logf = cli_get(cmd, "log-json");
    memset(o, 0, sizeof *o);
    o->out = cli_get(cmd, "output");
    o->resume = cli_get(cmd, "resume");
    o->init_from = cli_get(cmd, "init-from");
    o->ckpt = cli_get(cmd, "checkpoint");
    if (!o->out) {
        fprintf(stderr, "made train: -o MODEL is required\n");
        return CLI_USAGE;
    }
    if (o->resume && o->init_from) {
        fprintf(stderr, "made train: --init-from starts a new run and --resume continues one: give "
                "one of them\n");
        return CLI_USAGE;
    }
    if (!o->ckpt && strcmp(o->out, "-") == 0) {
        fprintf(stderr, "made train: -o - needs --checkpoint CKPT (the default is MODEL.ckpt)\n");
        return CLI_USAGE;
    }
    if (!o->ckpt) {
        if (!(o->ckpt_buf = malloc(strlen(o->out) + 6))) return cli_fail(V, "out of memory");
        sprintf(o->ckpt_buf, "%s.ckpt", o->out);
        o->ckpt = o->ckpt_buf;
    }
    if (mp->rank != 0) return CLI_OK; /* rank 0 alone writes files */
    int rc = cli_output(V, "-o", o->out, CLI_FMT_MODEL, NULL);
    if (!rc) rc = cli_output(V, "--checkpoint", o->ckpt, CLI_FMT_MODEL, NULL);
    if (!rc && logf) rc = cli_output(V, "--log-json", logf, CLI_FMT_MODEL, NULL);
    return rc;
}

/* Checks which options go together (after --resume filled in the data options). */
static int check_usage(const cli_cmd *cmd, const cli_mpi *mp, const train_opts *o)
{
    if (o->init_from && cli_get(cmd, "flow")) {
        fprintf(stderr, "made train: --init-from starts a MADE from a MADE model's weights; it "
                "does not apply to --flow\n");
        return CLI_USAGE;
    }
    if (!o->resume && !o->init_from && !cli_get(cmd, "dist") && !cli_get(cmd, "flow")) {
        fprintf(stderr, "made train: --dist is required (bernoulli, gaussian, categorical:K, "
                "mog:K), or --flow maf:K\n");
        return CLI_USAGE;
    }
    if (mp->on && cli_get(cmd, "flow")) {
        fprintf(stderr, "made train: --flow does not run under mpirun: data-parallel training is "
                "for a MADE (--dist); train a flow in one process\n");
        return CLI_USAGE;
    }
    if (cli_get(cmd, "val-fraction") && cli_get(cmd, "val")) {
        fprintf(stderr, "made train: give --val-fraction or --val, not both\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* --lr-schedule: constant, cosine, or step:EPOCHS:RATE. */
static int parse_schedule(const char *s, made_train_config *tc)
{
    int de;
    double rate;
    char tail;
    made_schedule kind;
    if (made_schedule_parse(s, &kind) == 0 && kind != MADE_LR_STEP) {
        tc->schedule = kind;
    } else if (sscanf(s, "step:%d:%lf%c", &de, &rate, &tail) == 2 && de >= 1 && rate > 0 &&
               rate <= 1) {
        tc->schedule = MADE_LR_STEP;
        tc->decay_epochs = de;
        tc->decay_rate = rate;
    } else {
        fprintf(stderr, "made train: --lr-schedule: \"%s\" (expected constant, cosine, or "
                "step:EPOCHS:RATE with RATE in (0, 1], e.g. step:10:0.5)\n", s);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* An integer option into *out (unchanged when the option is absent). */
static int int_opt(const cli_cmd *cmd, const char *name, long long min, long long max, int *out)
{
    const char *s = cli_get(cmd, name);
    long long n;
    if (!s) return CLI_OK;
    if (cli_int("train", name, s, min, max, &n)) return CLI_USAGE;
    *out = (int)n;
    return CLI_OK;
}

static int double_opt(const cli_cmd *cmd, const char *name, double min, double max, double *out)
{
    const char *s = cli_get(cmd, name);
    return s && cli_double("train", name, s, min, max, out) ? CLI_USAGE : CLI_OK;
}

/* The trainer's settings. */
static int parse_train_config(const cli_cmd *cmd, made_train_config *tc)
{
    const char *s;
    long long n;
    made_train_config_default(tc);
    if (int_opt(cmd, "epochs", 1, 1000000, &tc->epochs) ||
        int_opt(cmd, "batch-size", 1, 1000000, &tc->batch_size) ||
        double_opt(cmd, "lr", 1e-12, 10, &tc->lr))
        return CLI_USAGE;
    if ((s = cli_get(cmd, "optimizer")) && made_optimizer_parse(s, &tc->optimizer))
        return cli_name_error("train", "optimizer");
    if (double_opt(cmd, "momentum", 0, 0.999999, &tc->momentum) ||
        double_opt(cmd, "weight-decay", 0, 0.999999, &tc->weight_decay) ||
        double_opt(cmd, "clip-norm", 0, 1e30, &tc->clip_norm))
        return CLI_USAGE;
    if ((s = cli_get(cmd, "lr-schedule")) && parse_schedule(s, tc)) return CLI_USAGE;
    if (int_opt(cmd, "patience", 0, 1000000, &tc->patience) ||
        int_opt(cmd, "resample-every", 1, 1000000000, &tc->resample_every))
        return CLI_USAGE;
    if ((s = cli_get(cmd, "seed"))) {
        if (cli_int("train", "seed", s, 0, 4294967295LL, &n)) return CLI_USAGE;
        tc->seed = (uint64_t)n;
    }
    return CLI_OK;
}

static int parse_options(const cli_cmd *cmd, const cli_mpi *mp, train_opts *o)
{
    const char *s;
    o->val_fraction = 0;
    o->binarize = NAN;
    o->threads = 1;
    int rc = check_usage(cmd, mp, o);
    if (rc == CLI_OK) rc = parse_train_config(cmd, &o->tc);
    if (rc != CLI_OK) return rc;
    if (double_opt(cmd, "val-fraction", 0, 0.99, &o->val_fraction) ||
        double_opt(cmd, "binarize", -1e30, 1e30, &o->binarize))
        return CLI_USAGE;
    if ((s = cli_get(cmd, "threads")) && cli_int("train", "threads", s, 1, 1024, &o->threads))
        return CLI_USAGE;
    if (!o->resume && o->tc.patience > 0 && !o->val_fraction && !cli_get(cmd, "val")) {
        fprintf(stderr, "made train: --patience needs validation data (--val-fraction or --val)\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* DATA and its conditional rows. */
static int load_data(const cli_cmd *cmd, const char *path, const train_opts *o, data *d)
{
    size_t crows = 0;
    if (cli_load_rows("train", path, 0, o->binarize, &d->X, &d->rows, &d->cols)) return CLI_FAIL;
    d->first = 0;
    d->total = d->train_total = d->rows;
    d->cond = cli_get(cmd, "conditional");
    if (d->cond) {
        if (cli_load_conditional("train", d->cond, 0, d->rows, &d->C, &crows, &d->ccols))
            return CLI_FAIL;
        if (crows != d->rows)
            return cli_fail("train", "%s has %zu rows but %s has %zu", d->cond, crows, path, d->rows);
    }
    return CLI_OK;
}

/* Under mpirun: this rank's part of DATA and of its conditional rows. */
static int load_data_part(const cli_cmd *cmd, const char *path, const train_opts *o,
                          const cli_mpi *mp, data *d)
{
    size_t crows, cfirst, ctotal;
    if (cli_load_slice("train", path, 0, o->binarize, mp->rank, mp->size, &d->X, &d->first,
                       &d->rows, &d->total, &d->cols, &d->fp[0]))
        return CLI_FAIL;
    d->train_first = d->first;
    d->train_total = d->total;
    d->cond = cli_get(cmd, "conditional");
    if (d->cond) {
        if (cli_load_slice("train", d->cond, 0, NAN, mp->rank, mp->size, &d->C, &cfirst, &crows,
                           &ctotal, &d->ccols, &d->fp[1]))
            return CLI_FAIL;
        if (ctotal == 1 && d->total > 1) { /* a 1-D vector: the whole file says how to shape it */
            made_array_free(&d->C);
            if (cli_load_conditional("train", d->cond, 0, d->total, &d->C, &crows, &d->ccols))
                return CLI_FAIL;
            ctotal = crows;
        }
        if (ctotal != d->total)
            return cli_fail("train", "%s has %zu rows but %s has %zu", d->cond, ctotal, path,
                            d->total);
    }
    return CLI_OK;
}

/* A new flow and its trainer from the options (--flow). */
static int open_flow(const cli_cmd *cmd, const char *path, train_opts *o, const data *d,
                     cli_model *cm, made_trainer **t, int *order)
{
    made_flow_config fc;
    if (cli_get(cmd, "conditional-size") && !d->cond) {
        fprintf(stderr, "made train: --conditional-size needs --conditional FILE\n");
        return CLI_USAGE;
    }
    int rc = cli_flow_config(cmd, (int)d->cols, (int)d->ccols, &fc, order + MAX_ORDER, order,
                             MAX_ORDER);
    if (rc != CLI_OK) return rc;
    if (fc.layer.event_size != (int)d->cols || fc.layer.conditional_size != (int)d->ccols)
        return cli_fail("train", "%s has %zu values per row, %s %zu, but the options say event "
                        "size %d, conditional size %d", path, d->cols,
                        d->cond ? d->cond : "no conditional file", d->ccols, fc.layer.event_size,
                        fc.layer.conditional_size);
    int st = made_flow_create(&cm->f, &fc);
    if (!st) st = made_flow_trainer_create(t, cm->f, &o->tc);
    return st ? cli_fail_status("train", st) : CLI_OK;
}

/* A new model and trainer from the options, or both from --resume. */
static int open_model(const cli_cmd *cmd, const char *path, train_opts *o, const data *d,
                      cli_model *cm, made_trainer **t, int *order)
{
    const char *V = "train";
    if (o->resume) { /* opened by start_from */
        o->tc = *made_trainer_config(*t);
        return CLI_OK;
    }
    if (!cli_get(cmd, "flow") && cli_flow_option_given(cmd)) {
        fprintf(stderr, "made train: --%s applies to flows: give --flow maf:K or iaf:K, or leave "
                "it out\n", cli_flow_option_given(cmd));
        return CLI_USAGE;
    }
    if (cm->m) { /* --init-from */
        int st = made_trainer_create(t, cm->m, &o->tc);
        return st ? cli_fail_status(V, st) : CLI_OK;
    }
    if (cli_get(cmd, "flow")) return open_flow(cmd, path, o, d, cm, t, order);
    made_config cfg;
    made_config_default(&cfg);
    cfg.activation = MADE_ACT_RELU;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 500;
    cfg.event_size = (int)d->cols;
    cfg.conditional_size = (int)d->ccols;
    if (cli_get(cmd, "conditional-size") && !d->cond) {
        fprintf(stderr, "made train: --conditional-size needs --conditional FILE\n");
        return CLI_USAGE;
    }
    int rc = cli_model_config(cmd, &cfg, order, MAX_ORDER);
    if (rc != CLI_OK) return rc;
    if (cfg.event_size != (int)d->cols || cfg.conditional_size != (int)d->ccols)
        return cli_fail(V, "%s has %zu values per row, %s %zu, but the options say event size %d, "
                        "conditional size %d", path, d->cols, d->cond ? d->cond : "no conditional file",
                        d->ccols, cfg.event_size, cfg.conditional_size);
    int st = made_model_create(&cm->m, &cfg);
    if (!st) st = made_trainer_create(t, cm->m, &o->tc);
    return st ? cli_fail_status(V, st) : CLI_OK;
}

/* The model a run starts from, before the data is read: on --resume the
 * checkpoint's (opened already) with the repeated options checked and --epochs
 * applied; with --init-from a model's weights. Either way the model's binarize
 * threshold applies unless --binarize is given. */
static int start_from(const cli_cmd *cmd, const cli_mpi *mp, train_opts *o, cli_model *cm,
                      made_trainer **t, int *order)
{
    int rc = CLI_OK;
    if (o->resume && cm->f && mp->on) {
        fprintf(stderr, "made train: %s is a flow's checkpoint (--flow), and --flow does not run "
                "under mpirun: resume it in one process\n", o->resume);
        return CLI_USAGE;
    }
    if (o->resume) rc = cli_train_resume_check(cmd, o->resume, *t, cm, &o->tc, order, MAX_ORDER);
    if (!rc && o->init_from)
        rc = cli_train_init_from(cmd, o->init_from, &cm->m, order, MAX_ORDER);
    if (!rc && cm->m && !cli_get(cmd, "binarize"))
        o->binarize = made_model_get_record(cm->m)->binarize;
    return rc;
}

/* A new run records its binarize threshold in the model (a MADE) and its data
 * options in the checkpoint's note (a resumed run has both already). */
static int record_run(const cli_cmd *cmd, const train_opts *o, cli_model *cm, made_trainer *t)
{
    if (o->resume) return CLI_OK;
    char *note = cli_run_note(cmd);
    if (!note) return CLI_USAGE;
    int st = MADE_OK;
    if (cm->m) {
        made_model_record rec = *made_model_get_record(cm->m);
        rec.binarize = o->binarize;
        st = made_model_set_record(cm->m, &rec);
    }
    if (!st) st = made_trainer_set_note(t, note);
    free(note);
    return st ? cli_fail_status("train", st) : CLI_OK;
}

/* A flow trained on dequantised pixels: noise from --seed (stream 0 for DATA,
 * 1 for --val), the same again when resuming. */
static int dequantize(const char *path, const cli_model *cm, const train_opts *o, float *x,
                      size_t rows, size_t cols, uint64_t stream)
{
    int levels = cm->f ? made_flow_get_config(cm->f)->dequantize_levels : 0;
    if (!levels) return CLI_OK;
    return cli_dequantize("train", path, x, rows, cols, o->tc.seed + stream, levels);
}

/* DATA fits the model (a resumed one too) and its distribution's support. */
static int check_data(const char *path, const cli_model *cm, data *d)
{
    const int E = cli_model_event_size(cm), C = cli_model_cond_size(cm);
    if ((size_t)E != d->cols || (size_t)C != d->ccols)
        return cli_fail("train", "%s has %zu values per row, but the model expects %d", path,
                        d->cols, E);
    if (cli_model_check_data(cm, d->X.data, d->rows)) {
        if (d->rows != d->total) /* a part: say which rows the message counts */
            fprintf(stderr, "made train: %s (rows %zu..%zu): %s\n", path, d->first + 1,
                    d->first + d->rows, made_last_error());
        else
            fprintf(stderr, "made train: %s: %s\n", path, made_last_error());
        return CLI_FAIL;
    }
    d->ntrain = d->rows;
    d->xtrain = d->X.data;
    d->ctrain = d->C.data;
    return CLI_OK;
}

/* Validation from --val (and --val-conditional); this rank's part under mpirun. */
static int load_validation(const cli_cmd *cmd, const cli_model *cm, const train_opts *o,
                           const cli_mpi *mp, data *d)
{
    const char *V = "train", *valf = cli_get(cmd, "val"), *vcond = cli_get(cmd, "val-conditional");
    size_t vc;
    if (!mp->on) {
        if (cli_load_rows(V, valf, d->cols, o->binarize, &d->XV, &d->nval, &vc)) return CLI_FAIL;
        d->val_first = 0;
        d->val_total = d->nval;
    } else if (cli_load_slice(V, valf, d->cols, o->binarize, mp->rank, mp->size, &d->XV,
                              &d->val_first, &d->nval, &d->val_total, &vc, &d->fp[2])) {
        return CLI_FAIL;
    }
    if (dequantize(valf, cm, o, d->XV.data, d->nval, d->cols, 1)) return CLI_FAIL;
    if (cli_model_check_data(cm, d->XV.data, d->nval)) {
        fprintf(stderr, "made train: %s: %s\n", valf, made_last_error());
        return CLI_FAIL;
    }
    if (d->ccols && !vcond)
        return cli_fail(V, "--val with a conditional model needs --val-conditional FILE");
    if (vcond && !mp->on) {
        size_t r2, c2;
        if (cli_load_conditional(V, vcond, d->ccols, d->nval, &d->CV, &r2, &c2)) return CLI_FAIL;
        if (r2 != d->nval)
            return cli_fail(V, "%s has %zu rows but %s has %zu", vcond, r2, valf, d->nval);
    } else if (vcond) {
        size_t r2, c2, f2, t2;
        if (cli_load_slice(V, vcond, d->ccols, NAN, mp->rank, mp->size, &d->CV, &f2, &r2, &t2,
                           &c2, &d->fp[3]))
            return CLI_FAIL;
        if (t2 != d->val_total)
            return cli_fail(V, "%s has %zu rows but %s has %zu", vcond, t2, valf, d->val_total);
    }
    d->xval = d->XV.data;
    d->cval = d->CV.data;
    return CLI_OK;
}

/* Copies row i of src (width w) to the next row of dst, if there are columns. */
static void take_row(made_array *dst, size_t *next, const made_array *src, size_t i, size_t w)
{
    if (w) memcpy(dst->data + *next * w, src->data + i * w, w * sizeof(float));
}

/* The seeded --val-fraction choice over all of DATA's rows (the same whatever
 * the number of ranks): is_val[i] for i < total. */
static char *choose_validation(size_t total, size_t nval, uint64_t seed)
{
    size_t *perm = malloc(total * sizeof *perm);
    char *is_val = calloc(total, 1);
    if (!perm || !is_val) {
        free(perm);
        free(is_val);
        return NULL;
    }
    uint64_t state = seed ^ 0x76616c6964ull;
    for (size_t i = 0; i < total; i++) perm[i] = i;
    for (size_t i = total; i > 1; i--) {
        size_t j = (size_t)(mix(&state) % i), tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
    for (size_t i = 0; i < nval; i++) is_val[perm[i]] = 1;
    free(perm);
    return is_val;
}

/* --val-fraction: a seeded split of DATA; each part keeps DATA's row order.
 * Under mpirun each rank splits its own part of the rows. */
static int split_validation(const train_opts *o, data *d)
{
    const char *V = "train";
    const size_t cols = d->cols, ccols = d->ccols;
    if (!(o->val_fraction > 0)) return CLI_OK;
    d->val_total = (size_t)floor(o->val_fraction * (double)d->total + 0.5);
    if (d->val_total == 0 || d->val_total >= d->total)
        return cli_fail(V, "--val-fraction %g of %zu rows leaves no validation or no training rows",
                        o->val_fraction, d->total);
    d->train_total = d->total - d->val_total;
    char *is_val = choose_validation(d->total, d->val_total, o->tc.seed);
    if (!is_val) return cli_fail(V, "out of memory");
    d->val_first = 0;
    for (size_t g = 0; g < d->first; g++) d->val_first += (size_t)is_val[g];
    d->train_first = d->first - d->val_first;
    d->nval = 0;
    for (size_t i = 0; i < d->rows; i++) d->nval += (size_t)is_val[d->first + i];
    d->ntrain = d->rows - d->nval;
    size_t ts[2] = {d->ntrain, cols}, vs[2] = {d->nval, cols};
    size_t tcs[2] = {d->ntrain, ccols}, vcs[2] = {d->nval, ccols};
    if (made_array_alloc(&d->Xt, 2, ts) || made_array_alloc(&d->Xv, 2, vs) ||
        (ccols && (made_array_alloc(&d->Ct, 2, tcs) || made_array_alloc(&d->Cv, 2, vcs)))) {
        free(is_val);
        return cli_fail(V, "out of memory");
    }
    size_t a = 0, b = 0;
    for (size_t i = 0; i < d->rows; i++) {
        const int v = is_val[d->first + i];
        size_t *next = v ? &b : &a;
        take_row(v ? &d->Xv : &d->Xt, next, &d->X, i, cols);
        take_row(v ? &d->Cv : &d->Ct, next, &d->C, i, ccols);
        (*next)++;
    }
    free(is_val);
    d->xtrain = d->Xt.data;
    d->ctrain = d->Ct.data;
    d->xval = d->Xv.data;
    d->cval = d->Cv.data;
    return CLI_OK;
}

/* Ctrl-C and SIGTERM stop the run after the current minibatch. */
static void catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* What made_trainer_fit's status means for the command. Rank 0 alone writes
 * the checkpoint and the model. */
static int finish(const cli_cmd *cmd, run *r, int st, const cli_model *cm, const data *d)
{
    const char *V = "train";
    if (st == MADE_E_INTERRUPTED && r->rank != 0) return 130;
    if (st == MADE_OK && r->rank != 0) return CLI_OK;
    if (st == MADE_E_INTERRUPTED && r->tty && !r->quiet) fputc('\n', stderr);
    if (st == MADE_E_INTERRUPTED && r->save_failed) return cli_fail(V, "%s", r->err);
    if (st == MADE_E_INTERRUPTED) {
        int s2 = made_trainer_save(r->t, r->ckpt);
        if (s2) return cli_fail_status(V, s2);
        fprintf(stderr, "made train: interrupted; checkpoint written to %s; continue with:\n"
                "  %smade train %s -o %s --resume %s\n", r->ckpt, r->size > 1 ? "mpirun -np N " : "",
                r->data, r->out, r->ckpt);
        return 130;
    }
    /* No checkpoint after the end: the one written at the last epoch's end
     * holds that epoch's parameters (the model may hold an earlier, better
     * epoch's), the state a longer run continues from. */
    if (st || (st = cli_model_save(cm, r->out))) return cli_fail_status(V, st);
    if (!r->quiet) {
        cli_train_outcome(cm->m ? made_model_get_record(cm->m) : made_flow_get_record(cm->f),
                          d->val_total > 0, made_trainer_config(r->t)->patience);
        fprintf(stderr, "made train: model written to %s\n", r->out);
    }
    if (!cli_get(cmd, "keep-checkpoint")) cli_train_remove_checkpoint(r->ckpt);
    return CLI_OK;
}

/* The ranks agree that each is ready and that all read the same files. */
static int agree_ranks(const cli_cmd *cmd, cli_mpi *mp, const data *d, int rc)
{
    if ((rc = cli_mpi_agree(mp, rc)) != CLI_OK) return rc;
    const char *files[4] = {d->path, d->cond, cli_get(cmd, "val"),
                            cli_get(cmd, "val-conditional")};
    for (int i = 0; i < 4 && rc == CLI_OK; i++)
        if (files[i]) rc = cli_mpi_same_file(mp, files[i], d->fp[i]);
    return rc;
}

/* Runs the trainer with checkpoints and the progress display (this rank's
 * share of it under mpirun). */
static int run_training(const cli_cmd *cmd, const char *data_path, const train_opts *o,
                        const data *d, cli_model *cm, made_trainer *t, cli_mpi *mp)
{
    const char *logf = cli_get(cmd, "log-json");
    FILE *log = NULL;
    int rc = CLI_OK;
    if (logf && mp->rank == 0 && !(log = fopen(logf, o->resume ? "a" : "w")))
        rc = cli_fail("train", "%s: cannot open for writing", logf);
    if ((rc = agree_ranks(cmd, mp, d, rc)) != CLI_OK) {
        if (log) fclose(log);
        return rc;
    }
    run r = {t, o->ckpt, 0, "", log, isatty(2), cli_get(cmd, "quiet") != NULL || mp->rank != 0,
             0, (int)d->cols, data_path, o->out, mp->rank, mp->size};
    cli_model_set_threads(cm, (int)o->threads);
    /* A new flow's standardisation comes from its training rows. */
    if (cm->f && !o->resume && made_flow_get_config(cm->f)->preprocess == MADE_FLOW_PRE_STANDARDIZE) {
        int st = made_flow_standardize_from_data(cm->f, d->xtrain, d->ntrain);
        if (st) {
            if (log) fclose(log);
            return cli_fail_status("train", st);
        }
    }
    catch_interrupts();
    if (!r.quiet && mp->size > 1)
        fprintf(stderr, "made train: %d ranks, each holding about 1/%d of the rows\n", mp->size,
                mp->size);
    if (!r.quiet)
        fprintf(stderr, "made train: %zu training rows, %zu validation rows, %zu values per row, "
                "%zu parameters\n", d->train_total, d->val_total, d->cols,
                cli_model_num_params(cm));
    cli_share share = {d->xtrain, d->ccols ? d->ctrain : NULL, d->train_first, d->ntrain,
                       d->train_total, d->nval ? d->xval : NULL,
                       d->nval && d->ccols ? d->cval : NULL, d->val_first, d->nval, d->val_total};
    int st = cli_mpi_fit(mp, t, &share, progress, &r);
    rc = finish(cmd, &r, st, cm, d);
    /* Every rank stopped at the same minibatch; the others exit only once rank
     * 0 has written the checkpoint (mpirun would kill it when they exit). */
    if (st == MADE_E_INTERRUPTED) cli_mpi_barrier(mp);
    if (log) fclose(log);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    cli_opt opts[] = {
        {"output", 'o', "MODEL", "model file to write when training ends", 0},
        {"dist", 0, "DIST", "bernoulli, gaussian, categorical:K or mog:K (required without --flow)", 0},
        CLI_MODEL_OPTS,
        CLI_FLOW_OPTS,
        {"epochs", 0, "N", "passes over the training data (default 10)", 0},
        {"batch-size", 0, "B", "minibatch size (default 100)", 0},
        {"lr", 0, "X", "learning rate (default 1e-3)", 0},
        {"optimizer", 0, "NAME", "adam (default) or sgd (with momentum)", 0},
        {"momentum", 0, "X", "SGD momentum (default 0.9)", 0},
        {"weight-decay", 0, "X", "weight decay (AdamW-style for adam, L2 for sgd; default 0)", 0},
        {"clip-norm", 0, "X", "clip the global gradient norm to X (default off)", 0},
        {"lr-schedule", 0, "S", "constant (default), cosine, or step:EPOCHS:RATE", 0},
        {"val-fraction", 0, "F", "hold out this fraction of DATA for validation (seeded)", 0},
        {"val", 0, "FILE", "validation data file (instead of --val-fraction)", 0},
        {"val-conditional", 0, "FILE", "conditional inputs for --val", 0},
        {"patience", 0, "N", "stop after N epochs without validation improvement; keep the best", 0},
        {"resample-every", 0, "S", "steps between mask-set changes with --masks K (default 1)", 0},
        {"conditional", 'c', "FILE", "conditional inputs, one row per DATA row", 0},
        {"binarize", 0, "T", "map values > T to 1 and the rest to 0 (grey-level images)", 0},
        {"threads", 't', "T", "threads (default 1; results identical for any T)", 0},
        {"log-json", 0, "FILE", "write one JSON object per epoch to FILE", 0},
        {"checkpoint", 0, "CKPT", "checkpoint file (default MODEL.ckpt), written every epoch and "
                                  "on Ctrl-C", 0},
        {"resume", 0, "CKPT", "continue a run from its checkpoint (no other option needed)", 0},
        {"keep-checkpoint", 0, NULL, "keep CKPT after a successful run (to extend it with "
                                     "--resume CKPT --epochs N later)", 0},
        {"init-from", 0, "MODEL", "start from MODEL's weights (fine-tuning, a new optimiser)", 0},
        {"quiet", 'q', NULL, "no progress output", 0},
    };
    cli_cmd cmd = {"train", "DATA -o MODEL (--dist DIST | --flow maf:K | --flow iaf:K) [options]",
                   "Train a MADE, or a flow of MADEs (--flow), on DATA (.npy, .csv, or IDX such as "
                   "MNIST files, gzip or not).\n"
                   "Rows are examples; further axes are flattened. Training defaults: one hidden "
                   "layer of 500 relu units,\nAdam with lr 1e-3, batch 100, 10 epochs.",
                   "The checkpoint (CKPT) holds everything a run needs, its data options included. "
                   "Ctrl-C stops\nafter the current minibatch, writes it and exits with status 130; "
                   "'made train DATA -o MODEL\n--resume CKPT' then finishes the run, bit for bit as "
                   "if it had not been interrupted, with no\nother option. An option repeated there "
                   "must have its first value, except --epochs: more\nepochs extend the run (also a "
                   "finished one, if --keep-checkpoint kept CKPT), and the result\nis the one a run "
                   "started with that many epochs gives (not with a cosine schedule, whose\nrates "
                   "depend on the total). CKPT is removed after a successful run.\n\n"
                   "The model file records the --binarize threshold, which eval, logprob and sample "
                   "apply\nthemselves, and how training ended (see 'made info'). At the end, made "
                   "train says which\nepoch's parameters it kept (the best validation NLL, or the "
                   "last) and why it stopped.\n\n" CLI_PROGRESS_HELP "\n\nexample:\n  made train "
                   "train.npy -o m.safetensors --dist bernoulli --hidden 500 --epochs 20 "
                   "--val-fraction 0.1 --patience 3\n"
                   "  made train moons.csv -o flow.safetensors --flow maf:5 --hidden 64,64 "
                   "--batch-norm --epochs 50\n\n"
                   "With --flow the network options describe every layer's network (each layer "
                   "gets its own,\nseeded with --seed + k, or with --share-weights one network "
                   "serves every layer); the\ntraining options are the same, and so are "
                   "checkpoints, --resume and --keep-checkpoint (not\n--init-from). An IAF "
                   "(iaf:K) is trained by likelihood too, but its density is the\n"
                   "autoregressive direction: a step costs about E network passes per layer, "
                   "against one for\na MAF. The flow file records how training ended (see "
                   "'made info').\n\n"
                   "Under mpirun (a build made with 'make MPI=1'), every rank reads and trains on "
                   "its part of\nthe rows (rows R*r/N to R*(r+1)/N of R; only those of a .npy "
                   "file are read) and the model\nfile is the same, byte for byte, for any number "
                   "of ranks and as without mpirun; rank 0\nalone prints and writes files, "
                   "--resume needs the same files on every rank. --flow does\nnot run under "
                   "mpirun. See README.md, \"Training on several machines\".",
                   opts, (int)(sizeof opts / sizeof *opts), 1, 1};
    const char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    cli_mpi mp; /* under mpirun, every rank reads and trains on its part of the rows */
    if ((rc = cli_mpi_begin(&mp)) != CLI_OK) return rc;
    train_opts o = {0};
    data d = {0};
    d.path = pos[0];
    cli_model cm = {NULL, NULL};
    made_trainer *t = NULL;
    /* Room for an explicit input order and an explicit permutation. */
    int *order = malloc(2 * (size_t)MAX_ORDER * sizeof *order);
    rc = order ? check_outputs(&cmd, &mp, &o) : cli_fail("train", "out of memory");
    /* The checkpoint first: it fills in the data options the run was started with. */
    if (rc == CLI_OK && o.resume) rc = cli_train_resume_open(&cmd, o.resume, &t, &cm, &o.note);
    if (rc == CLI_OK) rc = parse_options(&cmd, &mp, &o);
    if (rc == CLI_OK) rc = start_from(&cmd, &mp, &o, &cm, &t, order);
    if (rc == CLI_OK) rc = mp.on ? load_data_part(&cmd, pos[0], &o, &mp, &d)
                                 : load_data(&cmd, pos[0], &o, &d);
    if (rc == CLI_OK) rc = open_model(&cmd, pos[0], &o, &d, &cm, &t, order);
    if (rc == CLI_OK) rc = record_run(&cmd, &o, &cm, t);
    if (rc == CLI_OK) rc = dequantize(pos[0], &cm, &o, d.X.data, d.rows, d.cols, 0);
    if (rc == CLI_OK) rc = check_data(pos[0], &cm, &d);
    if (rc == CLI_OK) rc = cli_get(&cmd, "val") ? load_validation(&cmd, &cm, &o, &mp, &d)
                                                 : split_validation(&o, &d);
    if (rc == CLI_OK) rc = run_training(&cmd, pos[0], &o, &d, &cm, t, &mp);
    cli_mpi_end(&mp, rc); /* a rank that failed early tells the others here */
    made_trainer_free(t);
    cli_model_free(&cm);
    data_free(&d);
    free(order);
    free(o.ckpt_buf);
    free(o.note);
    return rc;
}
