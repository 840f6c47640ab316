/* glue_r.c - the pieces every glue file uses (made_r.h): made's errors as R
 * conditions, handles kept in external pointers, and the conversion between
 * R's column-major doubles and made's row-major float32. */
#include <stdio.h>

#include "made_r.h"

/* ---- errors ------------------------------------------------------------- */

/* Signals made's error as an R condition (class made_error) via the R helper. */
void made_r_fail_msg(const char *status, const char *msg)
{
    SEXP ns = PROTECT(R_FindNamespace(mkString("made")));
    SEXP call = PROTECT(lang3(install("made_stop"), mkString(status), mkString(msg)));
    eval(call, ns);
    UNPROTECT(2); /* not reached */
    Rf_error("%s", msg);
}

void made_r_fail(int st)
{
    const char *msg = made_last_error();
    made_r_fail_msg(made_status_name(st), msg[0] ? msg : made_strerror(st));
}

void made_r_check(int st)
{
    if (st != MADE_OK) made_r_fail(st);
}

/* ---- handles ------------------------------------------------------------- */

/* The symbol "made_<noun>" that tags a handle. */
static SEXP tag_of(const char *noun)
{
    char tag[32];
    snprintf(tag, sizeof tag, "made_%s", noun);
    return install(tag);
}

/* One finalizer for every kind of handle: the tag says which free to call. */
static void finalizer(SEXP p)
{
    void *h = R_ExternalPtrAddr(p);
    SEXP tag = R_ExternalPtrTag(p);
    if (h && tag == tag_of("model")) made_model_free(h);
    else if (h && tag == tag_of("flow")) made_flow_free(h);
    else if (h && tag == tag_of("trainer")) made_trainer_free(h);
    R_ClearExternalPtr(p);
}

SEXP made_r_wrap(void *h, const char *noun)
{
    SEXP p = PROTECT(R_MakeExternalPtr(h, tag_of(noun), R_NilValue));
    R_RegisterCFinalizerEx(p, finalizer, TRUE);
    UNPROTECT(1);
    return p;
}

void *made_r_handle_of(SEXP p, const char *noun)
{
    char msg[256];
    if (TYPEOF(p) != EXTPTRSXP || R_ExternalPtrTag(p) != tag_of(noun)) {
        snprintf(msg, sizeof msg, "not a made %s handle", noun);
        made_r_fail_msg("MADE_E_INVAL", msg);
    }
    void *h = R_ExternalPtrAddr(p);
    if (!h) {
        snprintf(msg, sizeof msg, "the %s was freed (%ss do not survive saveRDS or a new session: "
                 "use save_made and load_made)", noun, noun);
        made_r_fail_msg("MADE_E_INVAL", msg);
    }
    return h;
}

void made_r_handle_free(SEXP p, const char *noun)
{
    if (TYPEOF(p) == EXTPTRSXP && R_ExternalPtrTag(p) == tag_of(noun)) finalizer(p);
}

/* ---- conversions ------------------------------------------------------------ */

float *made_r_rows_of(SEXP x, size_t n, size_t w)
{
    float *out = (float *)R_alloc(n * w + 1, sizeof(float));
    const double *d = REAL(x);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < w; j++) out[i * w + j] = (float)d[i + n * j];
    return out;
}

SEXP made_r_matrix_of(const float *v, size_t n, size_t w)
{
    SEXP out = allocMatrix(REALSXP, (int)n, (int)w);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < w; j++) REAL(out)[i + n * j] = v[i * w + j];
    return out;
}

SEXP made_r_named_list(int n, const char **names)
{
    SEXP out = PROTECT(allocVector(VECSXP, n));
    SEXP nm = PROTECT(allocVector(STRSXP, n));
    for (int i = 0; i < n; i++) SET_STRING_ELT(nm, i, mkChar(names[i]));
    setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(2);
    return out;
}
