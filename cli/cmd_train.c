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
} run;

static void fmt_time(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 359999) s = 359999;
    int t = (int)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%02d:%02d", t / 60, t % 60);
}

static int progress(void *user, const made_progress *p)
{
    run *r = user;
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
        int width = 20, done = (int)(width * p->batch / (p->batches ? p->batches : 1));
        char bar[32], eta[16];
        for (int i = 0; i < width; i++) bar[i] = i < done ? '#' : '-';
        bar[width] = '\0';
        double per_batch = p->seconds / (double)(p->batch ? p->batch : 1);
        double left = per_batch * (double)(p->batches - p->batch) +
                      per_batch * (double)p->batches * (double)(p->epochs - p->epoch);
        fmt_time(eta, sizeof eta, left);
        char val[48] = "";
        if (!isnan(p->best_val_nll)) snprintf(val, sizeof val, "  best val %.4f", p->best_val_nll);
        fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %3d%%  %.0f ex/s  train %.4f%s  ETA %s", p->epoch,
                p->epochs, bar, (int)(100 * p->batch / (p->batches ? p->batches : 1)),
                p->examples_per_sec, p->train_nll, val, eta);
        fflush(stderr);
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

static const char *const train_only[] = {
    "event-size", "params", "hidden", "input-order", "hidden-degrees", "activation", "no-bias",
    "kernel-initializer", "bias-initializer", "conditional-size", "conditional-layers",
    "masks", "dist", "epochs", "batch-size", "lr", "weight-decay", "optimizer", "momentum",
    "clip-norm", "lr-schedule", "patience", "resample-every", "seed", "validate-args",
};

int cmd_train(int argc, char **argv)
{
    cli_opt opts[] = {
        {"output", 'o', "MODEL", "model file to write when training ends", 0},
        {"dist", 0, "DIST", "bernoulli, gaussian, categorical:K or mog:K (required)", 0},
        CLI_MODEL_OPTS,
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
        {"resume", 0, "CKPT", "continue an interrupted run from its checkpoint", 0},
        {"quiet", 'q', NULL, "no progress output", 0},
    };
    cli_cmd cmd = {"train", "DATA -o MODEL --dist DIST [options]",
                   "Train a MADE on DATA (.npy, .csv, or IDX such as MNIST files, gzip or not).\n"
                   "Rows are examples; further axes are flattened. Training defaults: one hidden "
                   "layer of 500 relu units,\nAdam with lr 1e-3, batch 100, 10 epochs.",
                   "Ctrl-C stops after the current minibatch, writes the checkpoint and exits with "
                   "status 130;\n'made train DATA -o MODEL --resume CKPT' (with the same data "
                   "options) then finishes the run\nwith the same result, bit for bit, as if it had "
                   "not been interrupted.\n\nexample:\n  made train train.npy -o m.safetensors "
                   "--dist bernoulli --hidden 500 --epochs 20 --val-fraction 0.1 --patience 3",
                   opts, (int)(sizeof opts / sizeof *opts), 1, 1};
    const char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    const char *V = "train";
    const char *out = cli_get(&cmd, "output"), *resume = cli_get(&cmd, "resume"), *s;
    if (!out) {
        fprintf(stderr, "made train: -o MODEL is required\n");
        return CLI_USAGE;
    }
    /* Caught here rather than when the model is written after the whole run. */
    struct stat out_st;
    if (stat(out, &out_st) == 0 && S_ISDIR(out_st.st_mode)) {
        fprintf(stderr, "made train: %s: is a directory (-o names the model file to write)\n", out);
        return CLI_FAIL;
    }
    if (resume) {
        for (size_t i = 0; i < sizeof train_only / sizeof *train_only; i++)
            if (cli_get(&cmd, train_only[i])) {
                fprintf(stderr, "made train: --%s cannot be changed when resuming (the checkpoint "
                        "holds the run's settings)\n", train_only[i]);
                return CLI_USAGE;
            }
    } else if (!cli_get(&cmd, "dist")) {
        fprintf(stderr, "made train: --dist is required (bernoulli, gaussian, categorical:K, mog:K)\n");
        return CLI_USAGE;
    }
    if (cli_get(&cmd, "val-fraction") && cli_get(&cmd, "val")) {
        fprintf(stderr, "made train: give --val-fraction or --val, not both\n");
        return CLI_USAGE;
    }
    /* Training settings. */
    made_train_config tc;
    made_train_config_default(&tc);
    long long n;
    double d;
    if ((s = cli_get(&cmd, "epochs"))) {
        if (cli_int(V, "epochs", s, 1, 1000000, &n)) return CLI_USAGE;
        tc.epochs = (int)n;
    }
    if ((s = cli_get(&cmd, "batch-size"))) {
        if (cli_int(V, "batch-size", s, 1, 1000000, &n)) return CLI_USAGE;
        tc.batch_size = (int)n;
    }
    if ((s = cli_get(&cmd, "lr"))) {
        if (cli_double(V, "lr", s, 1e-12, 10, &d)) return CLI_USAGE;
        tc.lr = d;
    }
    if ((s = cli_get(&cmd, "optimizer"))) {
        if (strcmp(s, "adam") == 0) tc.optimizer = MADE_OPTIM_ADAM;
        else if (strcmp(s, "sgd") == 0) tc.optimizer = MADE_OPTIM_SGD;
        else {
            fprintf(stderr, "made train: --optimizer: unknown value \"%s\" (expected adam or sgd)\n", s);
            return CLI_USAGE;
        }
    }
    if ((s = cli_get(&cmd, "momentum"))) {
        if (cli_double(V, "momentum", s, 0, 0.999999, &d)) return CLI_USAGE;
        tc.momentum = d;
    }
    if ((s = cli_get(&cmd, "weight-decay"))) {
        if (cli_double(V, "weight-decay", s, 0, 0.999999, &d)) return CLI_USAGE;
        tc.weight_decay = d;
    }
    if ((s = cli_get(&cmd, "clip-norm"))) {
        if (cli_double(V, "clip-norm", s, 0, 1e30, &d)) return CLI_USAGE;
        tc.clip_norm = d;
    }
    if ((s = cli_get(&cmd, "lr-schedule"))) {
        int de;
        double rate;
        char tail;
        if (strcmp(s, "constant") == 0) tc.schedule = MADE_LR_CONSTANT;
        else if (strcmp(s, "cosine") == 0) tc.schedule = MADE_LR_COSINE;
        else if (sscanf(s, "step:%d:%lf%c", &de, &rate, &tail) == 2 && de >= 1 && rate > 0 && rate <= 1) {
            tc.schedule = MADE_LR_STEP;
            tc.decay_epochs = de;
            tc.decay_rate = rate;
        } else {
            fprintf(stderr, "made train: --lr-schedule: \"%s\" (expected constant, cosine, or "
                    "step:EPOCHS:RATE with RATE in (0, 1], e.g. step:10:0.5)\n", s);
            return CLI_USAGE;
        }
    }
    if ((s = cli_get(&cmd, "patience"))) {
        if (cli_int(V, "patience", s, 0, 1000000, &n)) return CLI_USAGE;
        tc.patience = (int)n;
    }
    if ((s = cli_get(&cmd, "resample-every"))) {
        if (cli_int(V, "resample-every", s, 1, 1000000000, &n)) return CLI_USAGE;
        tc.resample_every = (int)n;
    }
    if ((s = cli_get(&cmd, "seed"))) {
        if (cli_int(V, "seed", s, 0, 4294967295LL, &n)) return CLI_USAGE;
        tc.seed = (uint64_t)n;
    }
    double val_fraction = 0, binarize = NAN;
    long long threads = 1;
    if ((s = cli_get(&cmd, "val-fraction")) && cli_double(V, "val-fraction", s, 0, 0.99, &val_fraction))
        return CLI_USAGE;
    if ((s = cli_get(&cmd, "binarize")) && cli_double(V, "binarize", s, -1e30, 1e30, &binarize))
        return CLI_USAGE;
    if ((s = cli_get(&cmd, "threads")) && cli_int(V, "threads", s, 1, 1024, &threads))
        return CLI_USAGE;
    if (tc.patience > 0 && !val_fraction && !cli_get(&cmd, "val")) {
        fprintf(stderr, "made train: --patience needs validation data (--val-fraction or --val)\n");
        return CLI_USAGE;
    }

    /* Data. */
    made_array X = {0}, Cd = {0}, XV = {0}, CV = {0}, Xt = {0}, Ct = {0}, Xv = {0}, Cv = {0};
    made_model *m = NULL;
    made_trainer *t = NULL;
    int *order = NULL;
    FILE *log = NULL;
    char *ckpt_default = NULL;
    rc = CLI_FAIL;
    size_t rows, cols, crow = 0, ccols = 0;
    if (cli_load_rows(V, pos[0], 0, binarize, &X, &rows, &cols)) goto done;
    const char *cond = cli_get(&cmd, "conditional");
    if (cond) {
        if (cli_load_rows(V, cond, 0, NAN, &Cd, &crow, &ccols)) goto done;
        if (crow != rows) {
            cli_fail(V, "%s has %zu rows but %s has %zu", cond, crow, pos[0], rows);
            goto done;
        }
    }
    /* Model: new, or from the checkpoint. */
    if (resume) {
        int st = made_trainer_resume(&t, &m, resume);
        if (st) {
            cli_fail_status(V, st);
            goto done;
        }
        tc = *made_trainer_config(t);
    } else {
        made_config cfg;
        made_config_default(&cfg);
        cfg.activation = MADE_ACT_RELU;
        cfg.n_hidden = 1;
        cfg.hidden_units[0] = 500;
        cfg.event_size = (int)cols;
        cfg.conditional_size = (int)ccols;
        order = malloc(MAX_ORDER * sizeof *order);
        if (!order) {
            cli_fail(V, "out of memory");
            goto done;
        }
        if (cli_get(&cmd, "conditional-size") && !cond) {
            fprintf(stderr, "made train: --conditional-size needs --conditional FILE\n");
            rc = CLI_USAGE;
            goto done;
        }
        if ((rc = cli_model_config(&cmd, &cfg, order, MAX_ORDER)) != CLI_OK) goto done;
        rc = CLI_FAIL;
        if (cfg.event_size != (int)cols || cfg.conditional_size != (int)ccols) {
            cli_fail(V, "%s has %zu values per row, %s %zu, but the options say event size %d, "
                     "conditional size %d", pos[0], cols, cond ? cond : "no conditional file",
                     ccols, cfg.event_size, cfg.conditional_size);
            goto done;
        }
        int st = made_model_create(&m, &cfg);
        if (!st) st = made_trainer_create(&t, m, &tc);
        if (st) {
            cli_fail_status(V, st);
            goto done;
        }
    }
    const made_config *cfg = made_model_config(m);
    if ((size_t)cfg->event_size != cols || (size_t)cfg->conditional_size != ccols) {
        cli_fail(V, "%s has %zu values per row, but the model expects %d", pos[0], cols, cfg->event_size);
        goto done;
    }
    made_model_set_threads(m, (int)threads);
    int st = made_model_check_data(m, X.data, rows);
    if (st) {
        fprintf(stderr, "made train: %s: %s\n", pos[0], made_last_error());
        goto done;
    }
    /* Validation: a seeded split of DATA, or a separate file. */
    size_t nval = 0, ntrain = rows;
    const char *valf = cli_get(&cmd, "val");
    if (valf) {
        size_t vc;
        if (cli_load_rows(V, valf, cols, binarize, &XV, &nval, &vc)) goto done;
        if ((st = made_model_check_data(m, XV.data, nval))) {
            fprintf(stderr, "made train: %s: %s\n", valf, made_last_error());
            goto done;
        }
        const char *vcond = cli_get(&cmd, "val-conditional");
        if (ccols && !vcond) {
            cli_fail(V, "--val with a conditional model needs --val-conditional FILE");
            goto done;
        }
        if (vcond) {
            size_t r2, c2;
            if (cli_load_rows(V, vcond, ccols, NAN, &CV, &r2, &c2)) goto done;
            if (r2 != nval) {
                cli_fail(V, "%s has %zu rows but %s has %zu", vcond, r2, valf, nval);
                goto done;
            }
        }
    } else if (val_fraction > 0) {
        nval = (size_t)floor(val_fraction * (double)rows + 0.5);
        if (nval == 0 || nval >= rows) {
            cli_fail(V, "--val-fraction %g of %zu rows leaves no validation or no training rows",
                     val_fraction, rows);
            goto done;
        }
        ntrain = rows - nval;
        size_t ts[2] = {ntrain, cols}, vs[2] = {nval, cols}, tcs[2] = {ntrain, ccols}, vcs[2] = {nval, ccols};
        size_t *perm = malloc(rows * sizeof *perm);
        if (!perm || made_array_alloc(&Xt, 2, ts) || made_array_alloc(&Xv, 2, vs) ||
            (ccols && (made_array_alloc(&Ct, 2, tcs) || made_array_alloc(&Cv, 2, vcs)))) {
            free(perm);
            cli_fail(V, "out of memory");
            goto done;
        }
        uint64_t state = tc.seed ^ 0x76616c6964ull;
        for (size_t i = 0; i < rows; i++) perm[i] = i;
        for (size_t i = rows; i > 1; i--) {
            size_t j = (size_t)(mix(&state) % i), tmp = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = tmp;
        }
        /* Keep the original row order inside each part. */
        char *is_val = calloc(rows, 1);
        if (!is_val) {
            free(perm);
            cli_fail(V, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < nval; i++) is_val[perm[i]] = 1;
        size_t a = 0, b = 0;
        for (size_t i = 0; i < rows; i++) {
            float *dx = is_val[i] ? Xv.data + b * cols : Xt.data + a * cols;
            memcpy(dx, X.data + i * cols, cols * sizeof(float));
            if (ccols) {
                float *dc = is_val[i] ? Cv.data + b * ccols : Ct.data + a * ccols;
                memcpy(dc, Cd.data + i * ccols, ccols * sizeof(float));
            }
            if (is_val[i]) b++;
            else a++;
        }
        free(is_val);
        free(perm);
    }
    const float *xtrain = Xt.data ? Xt.data : X.data, *ctrain = Ct.data ? Ct.data : Cd.data;
    const float *xval = Xv.data ? Xv.data : XV.data, *cval = Cv.data ? Cv.data : CV.data;

    const char *ckpt = cli_get(&cmd, "checkpoint");
    if (!ckpt) {
        ckpt_default = malloc(strlen(out) + 6);
        if (!ckpt_default) {
            cli_fail(V, "out of memory");
            goto done;
        }
        sprintf(ckpt_default, "%s.ckpt", out);
        ckpt = ckpt_default;
    }
    const char *logf = cli_get(&cmd, "log-json");
    if (logf && !(log = fopen(logf, resume ? "a" : "w"))) {
        cli_fail(V, "%s: cannot open for writing", logf);
        goto done;
    }
    run r = {t, ckpt, 0, "", log, isatty(2), cli_get(&cmd, "quiet") != NULL, 0, (int)cols};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!r.quiet)
        fprintf(stderr, "made train: %zu training rows, %zu validation rows, %zu values per row, "
                "%zu parameters\n", ntrain, nval, cols, made_model_num_free_params(m));
    st = made_trainer_fit(t, xtrain, ccols ? ctrain : NULL, ntrain, nval ? xval : NULL,
                          nval && ccols ? cval : NULL, nval, progress, &r);
    if (st == MADE_E_INTERRUPTED && r.save_failed) {
        if (r.tty && !r.quiet) fputc('\n', stderr);
        cli_fail(V, "%s", r.err);
        goto done;
    }
    if (st == MADE_E_INTERRUPTED) {
        if (r.tty && !r.quiet) fputc('\n', stderr);
        int s2 = made_trainer_save(t, ckpt);
        if (s2) {
            cli_fail_status(V, s2);
            goto done;
        }
        fprintf(stderr, "made train: interrupted; checkpoint written to %s (resume with "
                "--resume %s)\n", ckpt, ckpt);
        rc = 130;
        goto done;
    }
    if (st) {
        cli_fail_status(V, st);
        goto done;
    }
    if ((st = made_trainer_save(t, ckpt)) || (st = made_model_save(m, out))) {
        cli_fail_status(V, st);
        goto done;
    }
    if (!r.quiet) fprintf(stderr, "made train: model written to %s\n", out);
    rc = CLI_OK;
done:
    if (log) fclose(log);
    made_trainer_free(t);
    made_model_free(m);
    made_array_free(&X);
    made_array_free(&Cd);
    made_array_free(&XV);
    made_array_free(&CV);
    made_array_free(&Xt);
    made_array_free(&Ct);
    made_array_free(&Xv);
    made_array_free(&Cv);
    free(order);
    free(ckpt_default);
    return rc;
}
