/* made_r.h - what the R package's glue files share: R conditions from made's
 * errors, handles in external pointers, conversions between R's column-major
 * doubles and made's row-major floats, and every .Call entry point (init.c
 * registers them). Internal to the package; R code sees only the entry points. */
#ifndef MADE_R_H
#define MADE_R_H

#include <stddef.h>
#include <stdint.h>

#include <R.h>
#include <Rinternals.h>

#include "made.h"

/* ---- errors (glue_r.c) ----------------------------------------------------- */

/* Signal an R condition of class made_error (made:::made_stop); never return. */
void made_r_fail_msg(const char *status, const char *msg);
/* made's status st with its detail message (made_last_error). */
void made_r_fail(int st);
/* made_r_fail(st) unless st is MADE_OK. */
void made_r_check(int st);

/* ---- handles (glue_r.c) ---------------------------------------------------- */

/* An external pointer tagged "made_<noun>" (noun: "model", "flow" or
 * "trainer") whose finalizer frees h with that object's free function; h may
 * be NULL and set later with R_SetExternalPtrAddr. */
SEXP made_r_wrap(void *h, const char *noun);
/* The live object in p, or an R error: "not a made <noun> handle", or "the
 * <noun> was freed (...)" after made_r_handle_free, saveRDS or a new session. */
void *made_r_handle_of(SEXP p, const char *noun);
/* Frees p's object now if p is a "made_<noun>" handle; anything else is left. */
void made_r_handle_free(SEXP p, const char *noun);

/* ---- conversions (glue_r.c) ------------------------------------------------ */

/* A numeric matrix [n, w] (column-major) as row-major floats (R_alloc). */
float *made_r_rows_of(SEXP x, size_t n, size_t w);
/* Row-major floats v[n, w] as a new (unprotected) numeric matrix. */
SEXP made_r_matrix_of(const float *v, size_t n, size_t w);
/* A new (unprotected) list of n NULLs named names[0..n-1]. */
SEXP made_r_named_list(int n, const char **names);

/* ---- shared between the glue files ----------------------------------------- */

/* made_r.c */
void made_r_fill_config(made_config *cfg, SEXP a, int event, int csize);
SEXP made_r_model_from_args(SEXP margs, int event, int csize, made_model **out);
SEXP made_r_record_list(const made_model_record *r);
/* flow_r.c */
void made_r_flow_config(made_flow_config *fc, SEXP margs, SEXP fopts, int event, int csize);
void made_r_dequantize(const char *what, float *x, size_t n, size_t e, uint64_t seed, int levels);

/* ---- .Call entry points (registered in init.c) ----------------------------- */

/* made_r.c */
SEXP made_r_free(SEXP);
SEXP made_r_create(SEXP, SEXP, SEXP);
SEXP made_r_config(SEXP);
SEXP made_r_set_threads(SEXP, SEXP);
SEXP made_r_set_mask(SEXP, SEXP);
SEXP made_r_degrees(SEXP);
SEXP made_r_record(SEXP);
SEXP made_r_masks(SEXP);
SEXP made_r_get_weights(SEXP);
SEXP made_r_set_weights(SEXP, SEXP);
SEXP made_r_forward(SEXP, SEXP, SEXP);
SEXP made_r_save(SEXP, SEXP);
SEXP made_r_load(SEXP);
SEXP made_r_read_data(SEXP);
SEXP made_r_log_prob(SEXP, SEXP, SEXP, SEXP);
SEXP made_r_nll(SEXP, SEXP, SEXP, SEXP);
SEXP made_r_sample(SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP made_r_check_data(SEXP, SEXP);
SEXP made_r_version(void);
/* train_r.c */
SEXP made_r_fit(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
/* flow_r.c */
SEXP made_r_flow_free(SEXP);
SEXP made_r_flow_create(SEXP, SEXP, SEXP, SEXP);
SEXP made_r_flow_info(SEXP);
SEXP made_r_flow_layer(SEXP, SEXP);
SEXP made_r_flow_permutations(SEXP);
SEXP made_r_flow_get_bn(SEXP, SEXP);
SEXP made_r_flow_set_bn(SEXP, SEXP, SEXP);
SEXP made_r_flow_standardization(SEXP);
SEXP made_r_flow_set_threads(SEXP, SEXP);
SEXP made_r_flow_record(SEXP);
SEXP made_r_flow_log_prob(SEXP, SEXP, SEXP);
SEXP made_r_flow_nll(SEXP, SEXP, SEXP);
SEXP made_r_flow_sample(SEXP, SEXP, SEXP, SEXP);
SEXP made_r_flow_transform(SEXP, SEXP, SEXP, SEXP);
SEXP made_r_flow_save(SEXP, SEXP);
SEXP made_r_flow_load(SEXP);
SEXP made_r_is_flow(SEXP);
SEXP made_r_flow_dequantize(SEXP, SEXP, SEXP, SEXP);

#endif
