/* flow_r.c - the R package's glue for flows (made_flow_*): creation from the
 * settings R has checked, the flow options (one line each in flow_fields),
 * scores, samples, both directions of the chain, structure and files.
 *
 * A flow's layer networks are owned by the flow. R sees each as an external
 * pointer tagged "made_flow_layer" whose protected value is the flow's own
 * pointer, so the flow lives while a layer is in use, and a layer of a freed
 * flow is refused (model_of in made_r.c). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "made_r.h"

/* ---- handles ------------------------------------------------------------- */

static made_flow *flow_of(SEXP p)
{
    return made_r_handle_of(p, "flow");
}

SEXP made_r_flow_free(SEXP p)
{
    made_r_handle_free(p, "flow");
    return R_NilValue;
}

/* ---- the flow options ----------------------------------------------------- */

/* R turns each flow option into made_flow_config fields (flow_options in
 * R/flow.R); each field R may send is one line here. */
static void set_kind(made_flow_config *fc, SEXP v) { fc->kind = (made_flow_kind)asInteger(v); }
static void set_layers(made_flow_config *fc, SEXP v) { fc->num_layers = asInteger(v); }
static void set_perm(made_flow_config *fc, SEXP v) { fc->permutation = (made_flow_permutation)asInteger(v); }
static void set_explicit(made_flow_config *fc, SEXP v) { fc->explicit_permutation = INTEGER(v); }
static void set_scale(made_flow_config *fc, SEXP v)
{
    made_r_check(made_flow_scale_parse(CHAR(STRING_ELT(v, 0)), &fc->scale));
}
static void set_bn(made_flow_config *fc, SEXP v) { fc->batch_norm = asLogical(v); }
static void set_pre(made_flow_config *fc, SEXP v) { fc->preprocess = (made_flow_preprocess)asInteger(v); }
static void set_lambda(made_flow_config *fc, SEXP v) { fc->logit_lambda = asReal(v); }
static void set_levels(made_flow_config *fc, SEXP v) { fc->dequantize_levels = asInteger(v); }
static void set_share(made_flow_config *fc, SEXP v) { fc->share_weights = asLogical(v); }

static const struct {
    const char *name;
    void (*set)(made_flow_config *fc, SEXP v);
} flow_fields[] = {
    {"kind", set_kind},
    {"num_layers", set_layers},
    {"permutation", set_perm},
    {"explicit_permutation", set_explicit},
    {"scale", set_scale},
    {"batch_norm", set_bn},
    {"preprocess", set_pre},
    {"logit_lambda", set_lambda},
    {"dequantize_levels", set_levels},
    {"share_weights", set_share},
};

/* The flow config from the layer settings (margs, as for a network) and the
 * named list of fields (fopts). Pointers in it borrow from fopts. */
void made_r_flow_config(made_flow_config *fc, SEXP margs, SEXP fopts, int event, int csize)
{
    made_flow_config_default(fc);
    made_r_fill_config(&fc->layer, margs, event, csize);
    fc->permutation_seed = fc->layer.seed; /* as the program: --seed */
    SEXP names = getAttrib(fopts, R_NamesSymbol);
    for (R_len_t i = 0; i < LENGTH(fopts); i++) {
        const char *name = CHAR(STRING_ELT(names, i));
        size_t j, n = sizeof flow_fields / sizeof *flow_fields;
        for (j = 0; j < n && strcmp(flow_fields[j].name, name) != 0; j++) {}
        if (j == n) made_r_fail_msg("MADE_E_INVAL", "flow option field unknown to the glue");
        flow_fields[j].set(fc, VECTOR_ELT(fopts, i));
    }
    made_r_check(made_flow_config_validate(fc));
}

SEXP made_r_flow_create(SEXP margs, SEXP fopts, SEXP event, SEXP csize)
{
    made_flow_config fc;
    made_flow *f = NULL;
    made_r_flow_config(&fc, margs, fopts, asInteger(event), asInteger(csize));
    made_r_check(made_flow_create(&f, &fc));
    return made_r_wrap(f, "flow");
}

/* ---- structure -------------------------------------------------------------- */

SEXP made_r_flow_info(SEXP p)
{
    made_flow *f = flow_of(p);
    const made_flow_config *c = made_flow_get_config(f);
    static const char *names[] = {"kind", "num_layers", "event_size", "conditional_size",
                                  "permutation", "scale", "batch_norm", "preprocess",
                                  "logit", "dequantize", "num_params", "seed",
                                  "share_weights"};
    static const char *pre[] = {"none", "standardize", "logit"};
    SEXP out = PROTECT(made_r_named_list(13, names));
    SET_VECTOR_ELT(out, 0, mkString(made_flow_kind_name(c->kind)));
    SET_VECTOR_ELT(out, 1, ScalarInteger(c->num_layers));
    SET_VECTOR_ELT(out, 2, ScalarInteger(c->layer.event_size));
    SET_VECTOR_ELT(out, 3, ScalarInteger(c->layer.conditional_size));
    if (c->permutation == MADE_FLOW_PERM_EXPLICIT) {
        SEXP v = allocVector(INTSXP, c->layer.event_size);
        SET_VECTOR_ELT(out, 4, v);
        memcpy(INTEGER(v), c->explicit_permutation, (size_t)c->layer.event_size * sizeof(int));
    } else {
        SET_VECTOR_ELT(out, 4, mkString(made_flow_permutation_name(c->permutation)));
    }
    SET_VECTOR_ELT(out, 5, mkString(made_flow_scale_name(c->scale)));
    SET_VECTOR_ELT(out, 6, ScalarLogical(c->batch_norm));
    SET_VECTOR_ELT(out, 7, mkString(pre[c->preprocess]));
    SET_VECTOR_ELT(out, 8, c->preprocess == MADE_FLOW_PRE_LOGIT ? ScalarReal(c->logit_lambda)
                                                                : R_NilValue);
    SET_VECTOR_ELT(out, 9, ScalarLogical(c->dequantize_levels > 0));
    SET_VECTOR_ELT(out, 10, ScalarReal((double)made_flow_num_params(f)));
    SET_VECTOR_ELT(out, 11, ScalarReal((double)c->layer.seed));
    SET_VECTOR_ELT(out, 12, ScalarLogical(c->share_weights));
    UNPROTECT(1);
    return out;
}

/* Layer k (0-based) as a network handle that keeps the flow alive. */
SEXP made_r_flow_layer(SEXP p, SEXP k)
{
    made_model *m = made_flow_layer(flow_of(p), asInteger(k));
    if (!m) made_r_fail_msg("MADE_E_INVAL", "flow layer: index out of range");
    return R_MakeExternalPtr(m, install("made_flow_layer"), p);
}

SEXP made_r_flow_permutations(SEXP p)
{
    made_flow *f = flow_of(p);
    const made_flow_config *c = made_flow_get_config(f);
    int K = c->num_layers, E = c->layer.event_size;
    SEXP out = PROTECT(allocVector(VECSXP, K - 1));
    for (int k = 0; k < K - 1; k++) {
        SEXP v = allocVector(INTSXP, E);
        SET_VECTOR_ELT(out, k, v);
        made_r_check(made_flow_get_permutation(f, k, INTEGER(v)));
    }
    UNPROTECT(1);
    return out;
}

SEXP made_r_flow_get_bn(SEXP p, SEXP k)
{
    made_flow *f = flow_of(p);
    int E = made_flow_get_config(f)->layer.event_size;
    float *b = (float *)R_alloc(4 * (size_t)E + 1, sizeof(float));
    made_r_check(made_flow_get_batchnorm(f, asInteger(k), b, b + E, b + 2 * E, b + 3 * E));
    static const char *names[] = {"mean", "variance", "gamma", "beta"};
    SEXP out = PROTECT(made_r_named_list(4, names));
    for (int i = 0; i < 4; i++) {
        SEXP v = allocVector(REALSXP, E);
        SET_VECTOR_ELT(out, i, v);
        for (int j = 0; j < E; j++) REAL(v)[j] = b[i * E + j];
    }
    UNPROTECT(1);
    return out;
}

/* v: the list R checked (mean, variance, gamma, beta), each of length E. */
SEXP made_r_flow_set_bn(SEXP p, SEXP k, SEXP v)
{
    made_flow *f = flow_of(p);
    int E = made_flow_get_config(f)->layer.event_size;
    float *b = (float *)R_alloc(4 * (size_t)E + 1, sizeof(float));
    for (int i = 0; i < 4; i++) {
        SEXP a = VECTOR_ELT(v, i);
        if (TYPEOF(a) != REALSXP || LENGTH(a) != E)
            made_r_fail_msg("MADE_E_SHAPE", "batch norm: each parameter needs the event size");
        for (int j = 0; j < E; j++) b[i * E + j] = (float)REAL(a)[j];
    }
    made_r_check(made_flow_set_batchnorm(f, asInteger(k), b, b + E, b + 2 * E, b + 3 * E));
    return R_NilValue;
}

SEXP made_r_flow_standardization(SEXP p)
{
    made_flow *f = flow_of(p);
    int E = made_flow_get_config(f)->layer.event_size;
    static const char *names[] = {"mean", "std"};
    SEXP out = PROTECT(made_r_named_list(2, names));
    SEXP m = allocVector(REALSXP, E);
    SET_VECTOR_ELT(out, 0, m);
    SEXP s = allocVector(REALSXP, E);
    SET_VECTOR_ELT(out, 1, s);
    made_r_check(made_flow_get_standardize(f, REAL(m), REAL(s)));
    UNPROTECT(1);
    return out;
}

SEXP made_r_flow_record(SEXP p)
{
    return made_r_record_list(made_flow_get_record(flow_of(p)));
}

SEXP made_r_flow_set_threads(SEXP p, SEXP n)
{
    made_r_check(made_flow_set_threads(flow_of(p), asInteger(n)));
    return R_NilValue;
}

/* ---- scores, samples, the chain ------------------------------------------------ */

/* x: rows R checked (and dequantised if the flow wants it); c: rows or NULL. */
SEXP made_r_flow_log_prob(SEXP p, SEXP x, SEXP c)
{
    made_flow *f = flow_of(p);
    const made_config *l = &made_flow_get_config(f)->layer;
    size_t n = (size_t)nrows(x);
    const float *xf = made_r_rows_of(x, n, (size_t)l->event_size);
    const float *cf = c == R_NilValue ? NULL : made_r_rows_of(c, n, (size_t)l->conditional_size);
    SEXP out = PROTECT(allocVector(REALSXP, (R_xlen_t)n));
    if (n) made_r_check(made_flow_log_prob(f, REAL(out), xf, cf, n));
    UNPROTECT(1);
    return out;
}

SEXP made_r_flow_nll(SEXP p, SEXP x, SEXP c)
{
    made_flow *f = flow_of(p);
    const made_config *l = &made_flow_get_config(f)->layer;
    size_t n = (size_t)nrows(x);
    const float *xf = made_r_rows_of(x, n, (size_t)l->event_size);
    const float *cf = c == R_NilValue ? NULL : made_r_rows_of(c, n, (size_t)l->conditional_size);
    double nll;
    made_r_check(made_flow_nll(f, xf, cf, n, &nll));
    return ScalarReal(nll);
}

SEXP made_r_flow_sample(SEXP p, SEXP n_, SEXP c, SEXP seed)
{
    made_flow *f = flow_of(p);
    const made_config *l = &made_flow_get_config(f)->layer;
    size_t n = (size_t)asReal(n_), e = (size_t)l->event_size;
    const float *cf = c == R_NilValue ? NULL : made_r_rows_of(c, n, (size_t)l->conditional_size);
    float *y = (float *)R_alloc(n * e + 1, sizeof(float));
    if (n) made_r_check(made_flow_sample(f, y, cf, n, (uint64_t)asReal(seed)));
    return made_r_matrix_of(y, n, e);
}

/* forward = TRUE: the sampling direction. Returns list(value [n, E], log_det [n]). */
SEXP made_r_flow_transform(SEXP p, SEXP x, SEXP c, SEXP forward)
{
    made_flow *f = flow_of(p);
    const made_config *l = &made_flow_get_config(f)->layer;
    size_t n = (size_t)nrows(x), e = (size_t)l->event_size;
    const float *xf = made_r_rows_of(x, n, e);
    const float *cf = c == R_NilValue ? NULL : made_r_rows_of(c, n, (size_t)l->conditional_size);
    float *y = (float *)R_alloc(n * e + 1, sizeof(float));
    static const char *names[] = {"value", "log_det"};
    SEXP out = PROTECT(made_r_named_list(2, names));
    SEXP ld = allocVector(REALSXP, (R_xlen_t)n);
    SET_VECTOR_ELT(out, 1, ld);
    if (n) made_r_check(asLogical(forward) ? made_flow_forward(f, y, REAL(ld), xf, cf, n)
                                           : made_flow_inverse(f, y, REAL(ld), xf, cf, n));
    SET_VECTOR_ELT(out, 0, made_r_matrix_of(y, n, e));
    UNPROTECT(1);
    return out;
}

/* ---- files -------------------------------------------------------------------------- */

SEXP made_r_flow_save(SEXP p, SEXP path)
{
    made_r_check(made_flow_save(flow_of(p), translateChar(STRING_ELT(path, 0))));
    return R_NilValue;
}

SEXP made_r_flow_load(SEXP path)
{
    made_flow *f = NULL;
    made_r_check(made_flow_load(&f, translateChar(STRING_ELT(path, 0))));
    return made_r_wrap(f, "flow");
}

SEXP made_r_is_flow(SEXP path)
{
    return ScalarLogical(made_file_is_flow(translateChar(STRING_ELT(path, 0))) == 1);
}

/* ---- data ------------------------------------------------------------------------- */

/* The program's uniform dequantisation (made_dequantize): x[n, E] row-major
 * holds integers 0..levels-1; a value that is not one is an error naming
 * `what`, its row and column. */
void made_r_dequantize(const char *what, float *x, size_t n, size_t e, uint64_t seed, int levels)
{
    int st = made_dequantize(x, n, e, seed, levels);
    if (st != MADE_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: %s", what, made_last_error());
        made_r_fail_msg(made_status_name(st), msg);
    }
}

/* x [n, E] (column-major doubles) dequantised as the program does, returned
 * as the doubles of the float32 values (which rows_of then takes exactly). */
SEXP made_r_flow_dequantize(SEXP p, SEXP x, SEXP seed, SEXP what)
{
    made_flow *f = flow_of(p);
    int levels = made_flow_get_config(f)->dequantize_levels;
    size_t n = (size_t)nrows(x), e = (size_t)ncols(x);
    float *xf = made_r_rows_of(x, n, e);
    if (levels) made_r_dequantize(CHAR(STRING_ELT(what, 0)), xf, n, e, (uint64_t)asReal(seed), levels);
    return made_r_matrix_of(xf, n, e);
}
