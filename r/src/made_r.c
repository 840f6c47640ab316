/* made_r.c - the R package's glue over libmade's public API (made.h) for
 * networks: creation, configuration, structure and weights, the forward pass,
 * files and densities.
 *
 * R matrices are column-major doubles; libmade takes row-major float32. Every
 * entry point converts on the way in and out, keeps model handles in external
 * pointers (freed by their finalizers or made_r_free), and turns a made status
 * into an R condition carrying made's message (made:::made_stop); glue_r.c
 * holds those shared pieces. Temporary buffers come from R_alloc, so an R
 * error frees them. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "made_r.h"

/* ---- handles ------------------------------------------------------------- */

/* A model handle, or a flow layer's (whose flow must not have been freed). */
static made_model *model_of(SEXP p)
{
    if (TYPEOF(p) == EXTPTRSXP && R_ExternalPtrTag(p) == install("made_flow_layer")) {
        SEXP flow = R_ExternalPtrProtected(p);
        if (TYPEOF(flow) != EXTPTRSXP || !R_ExternalPtrAddr(flow))
            made_r_fail_msg("MADE_E_INVAL", "the flow this layer belongs to was freed");
        return R_ExternalPtrAddr(p);
    }
    return made_r_handle_of(p, "model");
}

SEXP made_r_free(SEXP p)
{
    made_r_handle_free(p, "model");
    return R_NilValue;
}

/* ---- creation --------------------------------------------------------------- */

static const char *str_arg(SEXP s)
{
    return CHAR(STRING_ELT(s, 0));
}

/* Fills a config from the settings list R has already checked: params,
 * hidden_units, order kind, explicit order (or NULL), hidden_degrees,
 * activation, use_bias, kernel and bias initializers, conditional layers,
 * validate_args, seed, dist (or NULL), masks. */
void made_r_fill_config(made_config *cfg, SEXP a, int event, int csize)
{
    made_config_default(cfg);
    SEXP hidden = VECTOR_ELT(a, 1), order = VECTOR_ELT(a, 3), dist = VECTOR_ELT(a, 12);
    cfg->event_size = event;
    cfg->conditional_size = csize;
    cfg->params = asInteger(VECTOR_ELT(a, 0));
    cfg->n_hidden = LENGTH(hidden) < MADE_MAX_HIDDEN ? LENGTH(hidden) : MADE_MAX_HIDDEN;
    for (int i = 0; i < cfg->n_hidden; i++) cfg->hidden_units[i] = INTEGER(hidden)[i];
    cfg->input_order = (made_order)asInteger(VECTOR_ELT(a, 2));
    cfg->explicit_order = order == R_NilValue ? NULL : INTEGER(order);
    cfg->hidden_degrees = (made_degrees)asInteger(VECTOR_ELT(a, 4));
    made_r_check(made_activation_parse(str_arg(VECTOR_ELT(a, 5)), &cfg->activation));
    cfg->use_bias = asLogical(VECTOR_ELT(a, 6));
    made_r_check(made_initializer_parse(str_arg(VECTOR_ELT(a, 7)), &cfg->kernel_initializer));
    made_r_check(made_initializer_parse(str_arg(VECTOR_ELT(a, 8)), &cfg->bias_initializer));
    made_r_check(made_cond_layers_parse(str_arg(VECTOR_ELT(a, 9)), &cfg->conditional_layers));
    cfg->validate_args = asLogical(VECTOR_ELT(a, 10));
    cfg->seed = (uint32_t)asReal(VECTOR_ELT(a, 11));
    if (dist != R_NilValue) {
        made_r_check(made_dist_parse(str_arg(dist), &cfg->dist));
        /* The distribution fixes params unless they were given (params > 0). */
        if (cfg->params <= 0) cfg->params = made_dist_params(cfg->dist);
    }
    cfg->num_masks = asInteger(VECTOR_ELT(a, 13));
    made_r_check(made_config_validate(cfg));
}

SEXP made_r_model_from_args(SEXP margs, int event, int csize, made_model **out)
{
    made_config cfg;
    made_r_fill_config(&cfg, margs, event, csize);
    made_r_check(made_model_create(out, &cfg));
    return made_r_wrap(*out, "model");
}

SEXP made_r_create(SEXP margs, SEXP event, SEXP csize)
{
    made_model *m = NULL;
    return made_r_model_from_args(margs, asInteger(event), asInteger(csize), &m);
}

/* ---- configuration ----------------------------------------------------------- */

SEXP made_r_config(SEXP p)
{
    made_model *m = model_of(p);
    const made_config *c = made_model_config(m);
    static const char *names[] = {"params", "event_size", "hidden_units", "input_order",
                                  "input_order_kind", "hidden_degrees", "activation", "use_bias",
                                  "kernel_initializer", "bias_initializer", "conditional_size",
                                  "conditional_input_layers", "validate_args", "seed", "dist",
                                  "num_masks", "mask_index", "num_params", "num_free_params"};
    SEXP out = PROTECT(made_r_named_list(19, names));
    char buf[256];
    SET_VECTOR_ELT(out, 0, ScalarInteger(c->params));
    SET_VECTOR_ELT(out, 1, ScalarInteger(c->event_size));
    SEXP h = allocVector(INTSXP, c->n_hidden);
    SET_VECTOR_ELT(out, 2, h);
    for (int i = 0; i < c->n_hidden; i++) INTEGER(h)[i] = c->hidden_units[i];
    SEXP o = allocVector(INTSXP, c->event_size);
    SET_VECTOR_ELT(out, 3, o);
    memcpy(INTEGER(o), c->explicit_order, (size_t)c->event_size * sizeof(int));
    SET_VECTOR_ELT(out, 4, mkString(made_order_name(c->input_order)));
    SET_VECTOR_ELT(out, 5, mkString(made_degrees_name(c->hidden_degrees)));
    SET_VECTOR_ELT(out, 6, mkString(made_activation_name(c->activation)));
    SET_VECTOR_ELT(out, 7, ScalarLogical(c->use_bias));
    made_initializer_format(buf, sizeof buf, &c->kernel_initializer);
    SET_VECTOR_ELT(out, 8, mkString(buf));
    made_initializer_format(buf, sizeof buf, &c->bias_initializer);
    SET_VECTOR_ELT(out, 9, mkString(buf));
    SET_VECTOR_ELT(out, 10, ScalarInteger(c->conditional_size));
    SET_VECTOR_ELT(out, 11, mkString(made_cond_layers_name(c->conditional_layers)));
    SET_VECTOR_ELT(out, 12, ScalarLogical(c->validate_args));
    SET_VECTOR_ELT(out, 13, ScalarReal((double)c->seed));
    if (c->dist.kind == MADE_DIST_NONE) {
        SET_VECTOR_ELT(out, 14, R_NilValue);
    } else {
        made_dist_format(buf, sizeof buf, c->dist);
        SET_VECTOR_ELT(out, 14, mkString(buf));
    }
    SET_VECTOR_ELT(out, 15, ScalarInteger(c->num_masks));
    SET_VECTOR_ELT(out, 16, ScalarInteger(made_model_mask_index(m)));
    SET_VECTOR_ELT(out, 17, ScalarReal((double)made_model_num_params(m)));
    SET_VECTOR_ELT(out, 18, ScalarReal((double)made_model_num_free_params(m)));
    UNPROTECT(1);
    return out;
}

SEXP made_r_set_threads(SEXP p, SEXP n)
{
    made_r_check(made_model_set_threads(model_of(p), asInteger(n)));
    return R_NilValue;
}

SEXP made_r_set_mask(SEXP p, SEXP k)
{
    made_r_check(made_model_set_mask(model_of(p), asInteger(k)));
    return R_NilValue;
}

/* ---- structure and weights ------------------------------------------------------ */

/* A model's or a flow's record (made_model_record) as the list
 * list(binarize, epochs_run, best_epoch, stop, train_nll, val_nll), the names
 * and values of `made info --json`'s "record", NA where that prints null. */
SEXP made_r_record_list(const made_model_record *r)
{
    static const char *names[] = {"binarize", "epochs_run", "best_epoch",
                                  "stop",     "train_nll",  "val_nll"};
    SEXP out = PROTECT(made_r_named_list(6, names));
    SET_VECTOR_ELT(out, 0, ScalarReal(isnan(r->binarize) ? NA_REAL : r->binarize));
    SET_VECTOR_ELT(out, 1, ScalarInteger(r->epochs_run));
    SET_VECTOR_ELT(out, 2, ScalarInteger(r->best_epoch));
    SET_VECTOR_ELT(out, 3, mkString(made_stop_name(r->stop)));
    SET_VECTOR_ELT(out, 4, ScalarReal(isnan(r->train_nll) ? NA_REAL : r->train_nll));
    SET_VECTOR_ELT(out, 5, ScalarReal(isnan(r->val_nll) ? NA_REAL : r->val_nll));
    UNPROTECT(1);
    return out;
}

SEXP made_r_record(SEXP p)
{
    return made_r_record_list(made_model_get_record(model_of(p)));
}

SEXP made_r_degrees(SEXP p)
{
    made_model *m = model_of(p);
    const made_config *c = made_model_config(m);
    SEXP out = PROTECT(allocVector(VECSXP, c->n_hidden + 1));
    for (int l = 0; l <= c->n_hidden; l++) {
        int n = l == 0 ? c->event_size : c->hidden_units[l - 1];
        SEXP d = allocVector(INTSXP, n);
        SET_VECTOR_ELT(out, l, d);
        made_r_check(made_model_degrees(m, l, INTEGER(d)));
    }
    UNPROTECT(1);
    return out;
}

SEXP made_r_masks(SEXP p)
{
    made_model *m = model_of(p);
    int nl = made_model_num_layers(m);
    SEXP out = PROTECT(allocVector(VECSXP, nl));
    for (int l = 0; l < nl; l++) {
        int in, o;
        made_r_check(made_model_layer_shape(m, l, &in, &o));
        uint8_t *mask = (uint8_t *)R_alloc((size_t)in * o + 1, 1);
        made_r_check(made_model_mask(m, l, mask));
        SEXP r = allocMatrix(LGLSXP, in, o);
        SET_VECTOR_ELT(out, l, r);
        for (int i = 0; i < in; i++)
            for (int j = 0; j < o; j++) LOGICAL(r)[i + (size_t)in * j] = mask[(size_t)i * o + j];
    }
    UNPROTECT(1);
    return out;
}

SEXP made_r_get_weights(SEXP p)
{
    made_model *m = model_of(p);
    int nw = made_model_num_weights(m);
    SEXP out = PROTECT(allocVector(VECSXP, nw));
    SEXP names = PROTECT(allocVector(STRSXP, nw));
    for (int k = 0; k < nw; k++) {
        const char *name;
        int rank, shape[2];
        made_r_check(made_model_weight_info(m, k, &name, &rank, shape));
        SET_STRING_ELT(names, k, mkChar(name));
        size_t rows = (size_t)shape[0], cols = rank == 2 ? (size_t)shape[1] : 1;
        float *w = (float *)R_alloc(rows * cols + 1, sizeof(float));
        made_r_check(made_model_get_weight(m, k, w, rows * cols));
        SEXP r = rank == 2 ? allocMatrix(REALSXP, shape[0], shape[1]) : allocVector(REALSXP, shape[0]);
        SET_VECTOR_ELT(out, k, r);
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++) REAL(r)[i + rows * j] = w[i * cols + j];
    }
    setAttrib(out, R_NamesSymbol, names);
    UNPROTECT(2);
    return out;
}

/* weights: the list R checked (count, shapes, finite); all are set or none. */
SEXP made_r_set_weights(SEXP p, SEXP weights)
{
    made_model *m = model_of(p);
    int nw = made_model_num_weights(m);
    if (LENGTH(weights) != nw) made_r_fail_msg("MADE_E_SHAPE", "set_weights: wrong number of tensors");
    float **bufs = (float **)R_alloc((size_t)nw + 1, sizeof(float *));
    size_t *counts = (size_t *)R_alloc((size_t)nw + 1, sizeof(size_t));
    for (int k = 0; k < nw; k++) {
        const char *name;
        int rank, shape[2];
        made_r_check(made_model_weight_info(m, k, &name, &rank, shape));
        size_t rows = (size_t)shape[0], cols = rank == 2 ? (size_t)shape[1] : 1;
        SEXP w = VECTOR_ELT(weights, k);
        if (TYPEOF(w) != REALSXP || (size_t)XLENGTH(w) != rows * cols)
            made_r_fail_msg("MADE_E_SHAPE", "set_weights: a tensor has the wrong size");
        bufs[k] = made_r_rows_of(w, rows, cols);
        counts[k] = rows * cols;
    }
    for (int k = 0; k < nw; k++) made_r_check(made_model_set_weight(m, k, bufs[k], counts[k]));
    return R_NilValue;
}

/* ---- the network ------------------------------------------------------------ */

/* Returns array [n, E, P] (column-major) from row-major y[n, E, P]. */
SEXP made_r_forward(SEXP p, SEXP x, SEXP c)
{
    made_model *m = model_of(p);
    const made_config *cfg = made_model_config(m);
    size_t n = (size_t)nrows(x), e = (size_t)cfg->event_size, P = (size_t)cfg->params;
    const float *xf = made_r_rows_of(x, n, e);
    const float *cf = c == R_NilValue ? NULL : made_r_rows_of(c, n, (size_t)cfg->conditional_size);
    float *y = (float *)R_alloc(n * e * P + 1, sizeof(float));
    if (n) made_r_check(made_model_forward(m, y, xf, cf, n));
    SEXP dim = PROTECT(allocVector(INTSXP, 3));
    INTEGER(dim)[0] = (int)n;
    INTEGER(dim)[1] = (int)e;
    INTEGER(dim)[2] = (int)P;
    SEXP out = PROTECT(allocArray(REALSXP, dim));
    double *o = REAL(out);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < e; j++)
            for (size_t k = 0; k < P; k++) o[i + n * (j + e * k)] = y[(i * e + j) * P + k];
    UNPROTECT(2);
    return out;
}

/* ---- files ------------------------------------------------------------------- */

SEXP made_r_save(SEXP p, SEXP path)
{
    made_r_check(made_model_save(model_of(p), translateChar(STRING_ELT(path, 0))));
    return R_NilValue;
}

SEXP made_r_load(SEXP path)
{
    made_model *m = NULL;
    made_r_check(made_model_load(&m, translateChar(STRING_ELT(path, 0))));
    return made_r_wrap(m, "model");
}

/* A data file as made reads it: a numeric array with the file's shape (R's
 * dims, so a [n, E] file is an n x E matrix). */
SEXP made_r_read_data(SEXP path)
{
    made_array a = {0};
    made_r_check(made_data_read(&a, translateChar(STRING_ELT(path, 0))));
    size_t total = made_array_size(&a);
    SEXP out = PROTECT(allocVector(REALSXP, (R_xlen_t)total));
    /* Row-major [d0, d1, ...] to column-major with the same dims. */
    size_t inner = a.ndim > 0 && a.shape[0] ? total / a.shape[0] : 0;
    size_t d0 = a.ndim > 0 ? a.shape[0] : 1;
    if (a.ndim <= 2) {
        for (size_t i = 0; i < d0; i++)
            for (size_t j = 0; j < inner; j++) REAL(out)[i + d0 * j] = a.data[i * inner + j];
    } else {
        /* Higher ranks: C order walked with an index odometer. */
        size_t idx[MADE_MAX_DIMS] = {0};
        for (size_t f = 0; f < total; f++) {
            size_t pos = 0, stride = 1;
            for (int d = 0; d < a.ndim; d++) {
                pos += idx[d] * stride;
                stride *= a.shape[d];
            }
            REAL(out)[pos] = a.data[f];
            for (int d = a.ndim - 1; d >= 0 && ++idx[d] == a.shape[d]; d--) idx[d] = 0;
        }
    }
    if (a.ndim >= 1) {
        SEXP dim = PROTECT(allocVector(INTSXP, a.ndim));
        for (int d = 0; d < a.ndim; d++) INTEGER(dim)[d] = (int)a.shape[d];
        setAttrib(out, R_DimSymbol, dim);
        UNPROTECT(1);
    }
    made_array_free(&a);
    UNPROTECT(1);
    return out;
}

/* ---- density --------------------------------------------------------------------- */

SEXP made_r_log_prob(SEXP p, SEXP x, SEXP c, SEXP masks)
{
    made_model *m = model_of(p);
    const made_config *cfg = made_model_config(m);
    size_t n = (size_t)nrows(x);
    const float *xf = made_r_rows_of(x, n, (size_t)cfg->event_size);
    const float *cf = c == R_NilValue ? NULL : made_r_rows_of(c, n, (size_t)cfg->conditional_size);
    SEXP out = PROTECT(allocVector(REALSXP, (R_xlen_t)n));
    int k = asInteger(masks);
    if (n && k == 0) made_r_check(made_model_log_prob(m, REAL(out), xf, cf, n));
    else if (n) made_r_check(made_model_log_prob_ensemble(m, REAL(out), xf, cf, n, k));
    UNPROTECT(1);
    return out;
}

SEXP made_r_nll(SEXP p, SEXP x, SEXP c, SEXP masks)
{
    made_model *m = model_of(p);
    const made_config *cfg = made_model_config(m);
    size_t n = (size_t)nrows(x);
    const float *xf = made_r_rows_of(x, n, (size_t)cfg->event_size);
    const float *cf = c == R_NilValue ? NULL : made_r_rows_of(c, n, (size_t)cfg->conditional_size);
    double nll;
    made_r_check(made_model_nll(m, xf, cf, n, asInteger(masks), &nll));
    return ScalarReal(nll);
}

SEXP made_r_sample(SEXP p, SEXP n_, SEXP c, SEXP seed, SEXP naive)
{
    made_model *m = model_of(p);
    const made_config *cfg = made_model_config(m);
    size_t n = (size_t)asReal(n_), e = (size_t)cfg->event_size;
    const float *cf = c == R_NilValue ? NULL : made_r_rows_of(c, n, (size_t)cfg->conditional_size);
    float *x = (float *)R_alloc(n * e + 1, sizeof(float));
    uint64_t s = (uint64_t)asReal(seed);
    if (n) made_r_check(asLogical(naive) ? made_model_sample_naive(m, x, cf, n, s)
                                         : made_model_sample(m, x, cf, n, s));
    return made_r_matrix_of(x, n, e);
}

SEXP made_r_check_data(SEXP p, SEXP x)
{
    made_model *m = model_of(p);
    size_t n = (size_t)nrows(x);
    const float *xf = made_r_rows_of(x, n, (size_t)made_model_config(m)->event_size);
    made_r_check(made_model_check_data(m, xf, n));
    return R_NilValue;
}

SEXP made_r_version(void)
{
    return mkString(made_version_string());
}
