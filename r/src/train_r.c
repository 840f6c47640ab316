/* train_r.c - made_fit()'s glue: the command line's data preparation
 * (finite check, binarize, seeded validation split), the trainer, and a
 * progress callback that runs the R function and notices R's interrupt. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "made_r.h"

/* What is trained: a MADE or a flow (exactly one is set). */
typedef struct fitted {
    made_model *m;
    made_flow *f;
} fitted;

static int fitted_check(const fitted *h, const float *x, size_t n)
{
    return h->f ? made_flow_check_data(h->f, x, n) : made_model_check_data(h->m, x, n);
}

static const made_config *fitted_config(const fitted *h)
{
    return h->f ? &made_flow_get_config(h->f)->layer : made_model_config(h->m);
}

/* A flow trained on dequantised pixels: noise from the run's seed plus the
 * stream (0 for the data, 1 for validation rows), as the program. */
static void fitted_dequantize(const fitted *h, made_trainer *t, const char *what, float *x,
                              size_t n, size_t e, uint64_t stream)
{
    int levels = h->f ? made_flow_get_config(h->f)->dequantize_levels : 0;
    if (levels) made_r_dequantize(what, x, n, e, made_trainer_config(t)->seed + stream, levels);
}

/* ---- data ---------------------------------------------------------------------- */

/* x [n, w] (column-major doubles) as row-major floats, non-finite values
 * rejected with their row and column, then binarized (x > T, compared in
 * double precision) unless T is NA. */
static float *prepare(SEXP x, size_t w, double binarize, const char *what)
{
    size_t n = (size_t)nrows(x);
    float *out = (float *)R_alloc(n * w + 1, sizeof(float));
    const double *d = REAL(x);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < w; j++) {
            float f = (float)d[i + n * j];
            if (!isfinite(f)) {
                char msg[256];
                snprintf(msg, sizeof msg, "%s: row %zu, column %zu is %g (not finite)", what, i + 1,
                         j + 1, d[i + n * j]);
                made_r_fail_msg("MADE_E_NONFINITE", msg);
            }
            if (!ISNAN(binarize)) f = (double)f > binarize ? 1.0f : 0.0f;
            out[i * w + j] = f;
        }
    return out;
}

/* The command line's deterministic validation split (splitmix64 stream). */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* is_val[rows]: nval rows chosen by a seeded shuffle. */
static char *split(size_t rows, size_t nval, uint64_t seed)
{
    size_t *perm = (size_t *)R_alloc(rows, sizeof(size_t));
    char *is_val = (char *)R_alloc(rows, 1);
    uint64_t state = seed ^ 0x76616c6964ull;
    for (size_t i = 0; i < rows; i++) perm[i] = i;
    for (size_t i = rows; i > 1; i--) {
        size_t j = (size_t)(mix(&state) % i), tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
    memset(is_val, 0, rows);
    for (size_t i = 0; i < nval; i++) is_val[perm[i]] = 1;
    return is_val;
}

/* Copies the rows of src [rows, w] where is_val == want, in order. */
static float *pick(const float *src, size_t rows, size_t w, const char *is_val, int want, size_t count)
{
    float *out = (float *)R_alloc(count * w + 1, sizeof(float));
    size_t k = 0;
    for (size_t i = 0; i < rows; i++)
        if (is_val[i] == want) memcpy(out + (k++) * w, src + i * w, w * sizeof(float));
    return out;
}

/* ---- progress -------------------------------------------------------------------- */

typedef struct run {
    made_trainer *t;
    SEXP fn;          /* R function(progress) returning NULL or a condition, or NULL */
    const char *ckpt; /* written after every epoch, or NULL */
    int interrupted;  /* R's interrupt was seen */
    int save_status;  /* a failed checkpoint save */
    SEXP cond;        /* the condition the R function returned (preserved) */
} run;

static void check_interrupt(void *unused)
{
    (void)unused;
    R_CheckUserInterrupt();
}

static SEXP progress_list(const made_progress *p)
{
    static const char *names[] = {"epoch", "epochs", "batch", "batches", "step", "train_nll",
                                  "val_nll", "best_val_nll", "improved", "lr",
                                  "examples_per_sec", "seconds", "epoch_done"};
    SEXP out = PROTECT(made_r_named_list(13, names));
    SET_VECTOR_ELT(out, 0, ScalarInteger(p->epoch));
    SET_VECTOR_ELT(out, 1, ScalarInteger(p->epochs));
    SET_VECTOR_ELT(out, 2, ScalarReal((double)p->batch));
    SET_VECTOR_ELT(out, 3, ScalarReal((double)p->batches));
    SET_VECTOR_ELT(out, 4, ScalarReal((double)p->step));
    SET_VECTOR_ELT(out, 5, ScalarReal(p->train_nll));
    SET_VECTOR_ELT(out, 6, ScalarReal(isnan(p->val_nll) ? NA_REAL : p->val_nll));
    SET_VECTOR_ELT(out, 7, ScalarReal(isnan(p->best_val_nll) ? NA_REAL : p->best_val_nll));
    SET_VECTOR_ELT(out, 8, ScalarLogical(p->improved));
    SET_VECTOR_ELT(out, 9, ScalarReal(p->lr));
    SET_VECTOR_ELT(out, 10, ScalarReal(p->examples_per_sec));
    SET_VECTOR_ELT(out, 11, ScalarReal(p->seconds));
    SET_VECTOR_ELT(out, 12, ScalarLogical(p->epoch_done));
    UNPROTECT(1);
    return out;
}

/* Never lets an R error or interrupt jump over libmade's frames: the interrupt
 * check runs in R_ToplevelExec and the R function under R_tryEval (it catches
 * its own conditions and returns them). Non-zero stops training. */
static int progress(void *user, const made_progress *p)
{
    run *r = user;
    if (!R_ToplevelExec(check_interrupt, NULL)) {
        r->interrupted = 1;
        return 1;
    }
    if (p->epoch_done && r->ckpt) {
        int st = made_trainer_save(r->t, r->ckpt);
        if (st) {
            r->save_status = st;
            return 1;
        }
    }
    if (r->fn == R_NilValue) return 0;
    SEXP call = PROTECT(lang2(r->fn, progress_list(p)));
    int err = 0;
    SEXP res = R_tryEval(call, R_GlobalEnv, &err);
    UNPROTECT(1);
    if (err) {
        r->interrupted = 1;
        return 1;
    }
    if (res != R_NilValue) {
        R_PreserveObject(res);
        r->cond = res;
        return 1;
    }
    return 0;
}

/* ---- made_fit ------------------------------------------------------------------------ */

static void train_config(made_train_config *tc, SEXP a)
{
    made_train_config_default(tc);
    tc->epochs = asInteger(VECTOR_ELT(a, 0));
    tc->batch_size = asInteger(VECTOR_ELT(a, 1));
    tc->lr = asReal(VECTOR_ELT(a, 2));
    tc->optimizer = (made_optimizer)asInteger(VECTOR_ELT(a, 3));
    tc->momentum = asReal(VECTOR_ELT(a, 4));
    tc->weight_decay = asReal(VECTOR_ELT(a, 5));
    tc->clip_norm = asReal(VECTOR_ELT(a, 6));
    tc->schedule = (made_schedule)asInteger(VECTOR_ELT(a, 7));
    tc->decay_epochs = asInteger(VECTOR_ELT(a, 8));
    tc->decay_rate = asReal(VECTOR_ELT(a, 9));
    tc->patience = asInteger(VECTOR_ELT(a, 10));
    tc->resample_every = asInteger(VECTOR_ELT(a, 11));
    tc->seed = (uint64_t)asReal(VECTOR_ELT(a, 12));
    made_r_check(made_train_config_validate(tc));
}

/* Training and validation rows. */
typedef struct sets {
    const float *x, *c, *xv, *cv;
    size_t n, nv;
} sets;

/* Validation: a separate set (xv, cv), or the command line's seeded split of
 * the training rows by val_fraction. */
static void validation(sets *d, const fitted *h, made_trainer *t, SEXP xv, SEXP cv,
                       double fraction, double bin, size_t cols, size_t cc)
{
    if (xv != R_NilValue) {
        d->nv = (size_t)nrows(xv);
        float *v = prepare(xv, cols, bin, "val");
        fitted_dequantize(h, t, "val", v, d->nv, cols, 1);
        d->xv = v;
        made_r_check(fitted_check(h, d->xv, d->nv));
        d->cv = cv == R_NilValue ? NULL : prepare(cv, cc, NA_REAL, "val_conditional");
        return;
    }
    if (!(fraction > 0)) return;
    size_t n = d->n, nv = (size_t)floor(fraction * (double)n + 0.5);
    if (nv == 0 || nv >= n) {
        char msg[256];
        snprintf(msg, sizeof msg, "val_fraction %g of %zu rows leaves no validation or no "
                 "training rows", fraction, n);
        made_r_fail_msg("MADE_E_INVAL", msg);
    }
    char *is_val = split(n, nv, made_trainer_config(t)->seed);
    const float *x = d->x, *c = d->c;
    d->n = n - nv;
    d->nv = nv;
    d->x = pick(x, n, cols, is_val, 0, d->n);
    d->xv = pick(x, n, cols, is_val, 1, nv);
    if (cc) {
        d->c = pick(c, n, cc, is_val, 0, d->n);
        d->cv = pick(c, n, cc, is_val, 1, nv);
    }
}

/* The model and trainer: new from margs/targs (and fopts for a flow), or
 * from the checkpoint at resume. Returns the model's protected handle. */
static SEXP open_fit(fitted *h, made_trainer **t, SEXP tp, SEXP margs, SEXP targs, SEXP fopts,
                     SEXP resume, int cols, int cc)
{
    int st;
    SEXP mp;
    if (resume != R_NilValue) {
        const char *path = translateChar(STRING_ELT(resume, 0));
        st = made_file_is_flow(path) == 1 ? made_flow_trainer_resume(t, &h->f, path)
                                          : made_trainer_resume(t, &h->m, path);
        if (st) made_r_fail(st);
        mp = PROTECT(h->f ? made_r_wrap(h->f, "flow") : made_r_wrap(h->m, "model"));
        R_SetExternalPtrAddr(tp, *t);
        UNPROTECT(1);
        return mp;
    }
    made_train_config tc;
    train_config(&tc, targs);
    if (fopts != R_NilValue) {
        made_flow_config fc;
        made_r_flow_config(&fc, margs, fopts, cols, cc);
        made_r_check(made_flow_create(&h->f, &fc));
        mp = PROTECT(made_r_wrap(h->f, "flow"));
        st = made_flow_trainer_create(t, h->f, &tc);
    } else {
        mp = PROTECT(made_r_model_from_args(margs, cols, cc, &h->m));
        st = made_trainer_create(t, h->m, &tc);
    }
    if (st) made_r_fail(st);
    R_SetExternalPtrAddr(tp, *t);
    UNPROTECT(1);
    return mp;
}

/* x, c: training data (c NULL); margs/targs: model and training settings (or
 * NULL with resume); xv, cv: validation data or NULL; val_fraction; binarize
 * (NA for none); threads; ckpt, resume: paths or NULL; fn: progress or NULL;
 * fopts: the flow's fields (a flow is trained) or NULL.
 * Returns list(model, status = "ok" | "interrupted" | "callback", condition,
 * flow = TRUE/FALSE). */
SEXP made_r_fit(SEXP x, SEXP c, SEXP margs, SEXP targs, SEXP xv, SEXP cv, SEXP val_fraction,
                SEXP binarize, SEXP threads, SEXP ckpt, SEXP resume, SEXP fn, SEXP fopts)
{
    size_t n = (size_t)nrows(x), cols = (size_t)ncols(x);
    size_t cc = c == R_NilValue ? 0 : (size_t)ncols(c);
    double bin = asReal(binarize);
    float *xf = prepare(x, cols, bin, "data");
    float *cf = cc ? prepare(c, cc, NA_REAL, "conditional") : NULL;
    fitted h = {NULL, NULL};
    made_trainer *t = NULL;
    SEXP tp = PROTECT(made_r_wrap(NULL, "trainer"));
    SEXP mp = PROTECT(open_fit(&h, &t, tp, margs, targs, fopts, resume, (int)cols, (int)cc));
    const made_config *cfg = fitted_config(&h);
    if ((size_t)cfg->event_size != cols || (size_t)cfg->conditional_size != cc) {
        char msg[256];
        snprintf(msg, sizeof msg, "data has %zu values per row and %zu conditional values, but "
                 "the model expects %d and %d", cols, cc, cfg->event_size, cfg->conditional_size);
        made_r_fail_msg("MADE_E_SHAPE", msg);
    }
    if (h.f) made_flow_set_threads(h.f, asInteger(threads));
    else made_model_set_threads(h.m, asInteger(threads));
    /* The program's order: noise on all of the data, then the split. */
    fitted_dequantize(&h, t, "data", xf, n, cols, 0);
    int st = fitted_check(&h, xf, n);
    if (st) made_r_fail(st);
    sets d = {xf, cf, NULL, NULL, n, 0};
    validation(&d, &h, t, xv, cv, asReal(val_fraction), bin, cols, cc);
    /* A new flow's standardisation comes from its training rows. */
    if (h.f && resume == R_NilValue &&
        made_flow_get_config(h.f)->preprocess == MADE_FLOW_PRE_STANDARDIZE &&
        (st = made_flow_standardize_from_data(h.f, d.x, d.n)))
        made_r_fail(st);
    run r = {t, fn, ckpt == R_NilValue ? NULL : translateChar(STRING_ELT(ckpt, 0)), 0, 0,
             R_NilValue};
    st = made_trainer_fit(t, d.x, d.c, d.n, d.xv, d.cv, d.nv, progress, &r);
    const char *status = "ok";
    if (st == MADE_E_INTERRUPTED && r.save_status) made_r_fail(r.save_status);
    if (st == MADE_E_INTERRUPTED) status = r.cond != R_NilValue ? "callback" : "interrupted";
    else if (st) made_r_fail(st);
    if (r.ckpt && (st = made_trainer_save(t, r.ckpt))) made_r_fail(st);
    made_trainer_free(t);
    R_ClearExternalPtr(tp);
    if (h.m && (st = made_model_set_mask(h.m, 0))) made_r_fail(st);
    static const char *names[] = {"model", "status", "condition", "flow"};
    SEXP out = PROTECT(made_r_named_list(4, names));
    SET_VECTOR_ELT(out, 0, mp);
    SET_VECTOR_ELT(out, 1, mkString(status));
    SET_VECTOR_ELT(out, 2, r.cond);
    SET_VECTOR_ELT(out, 3, ScalarLogical(h.f != NULL));
    if (r.cond != R_NilValue) R_ReleaseObject(r.cond);
    UNPROTECT(3);
    return out;
}
