/* transform.c - the whole chain, both ways, and what is built on it:
 * log_prob (density direction plus the standard normal base) and sample (base
 * noise through the forward direction).
 *
 * Forward (sampling), for k = 0 .. K-1:
 *     [batch norm B_k, sampling direction] -> layer L_k forward -> P_k (k < K-1)
 * Inverse (density), for k = K-1 .. 0:
 *     P_k^-1 (k < K-1) -> layer L_k inverse -> [B_k, density direction]
 * Each step reads one chunk buffer and writes the other. */
#include <math.h>
#include <string.h>

#include "flow/flow.h"
#include "core/rng.h"

/* Common argument checks; names the first layer for a missing condition, as
 * every layer reads it. */
static int check_args(const made_flow *f, const void *out, const float *in, const float *c,
                      size_t n, const char *what)
{
    made__clear_error();
    if (!f || (n && (!out || !in))) return made__error(MADE_E_INVAL, "flow %s: NULL argument", what);
    if (f->C > 0 && !c && n)
        return made__error(MADE_E_INVAL, "flow layer 0: the flow is conditional (conditional "
                           "size %d), so a conditional input must be given", f->C);
    if (f->C == 0 && c)
        return made__error(MADE_E_INVAL, "flow layer 0: a conditional input was given, but the "
                           "flow's layers are not conditional");
    if (c) {
        int rc = made__check_finite("conditional input", c, n, (size_t)f->C);
        if (rc) return rc;
    }
    return MADE_OK;
}

/* Layer k's own transform in the direction asked (forward = sampling). */
static int layer_step(made_flow *f, int k, int forward, float *out, const float *in,
                      const float *c, int n, double *ld, size_t row0)
{
    made__flow_where w = {k, forward ? "forward" : "inverse", row0};
    int one_pass = (f->cfg.kind == MADE_FLOW_MAF) != forward;
    return one_pass ? made__flow_normalise(f, k, out, in, c, n, ld, w)
                    : made__flow_generate(f, k, out, in, c, n, ld, w);
}

/* Inverse of one chunk: h0 holds y on entry and z on return; ld accumulates. */
static int chunk_inverse(made_flow *f, const float *c, int n, double *ld, size_t row0)
{
    const int E = f->E;
    float *a = f->h0, *b = f->h1;
    for (int k = f->K - 1; k >= 0; k--) {
        if (k < f->K - 1) {
            made__flow_unpermute(f->perm + (size_t)k * E, E, b, a, n);
            float *t = a; a = b; b = t;
        }
        int rc = layer_step(f, k, 0, b, a, c, n, ld, row0);
        if (rc) return rc;
        float *t = a; a = b; b = t;
        if (f->cfg.batch_norm) {
            made__flow_bn_normalise(f, k, b, a, n, ld);
            t = a; a = b; b = t;
        }
    }
    if (a != f->h0) memcpy(f->h0, a, (size_t)n * E * sizeof *a);
    return MADE_OK;
}

/* Forward of one chunk: h0 holds z on entry and y on return. */
static int chunk_forward(made_flow *f, const float *c, int n, double *ld, size_t row0)
{
    const int E = f->E;
    float *a = f->h0, *b = f->h1;
    for (int k = 0; k < f->K; k++) {
        float *t;
        if (f->cfg.batch_norm) {
            made__flow_bn_denormalise(f, k, b, a, n, ld);
            t = a; a = b; b = t;
        }
        int rc = layer_step(f, k, 1, b, a, c, n, ld, row0);
        if (rc) return rc;
        t = a; a = b; b = t;
        if (k < f->K - 1) {
            made__flow_permute(f->perm + (size_t)k * E, E, b, a, n);
            t = a; a = b; b = t;
        }
    }
    if (a != f->h0) memcpy(f->h0, a, (size_t)n * E * sizeof *a);
    return MADE_OK;
}

typedef int (*chunk_fn)(made_flow *f, const float *c, int n, double *ld, size_t row0);

/* Runs fn over all rows: in -> h0, fn, h0 -> out, log-determinants to ldj. */
static int run_chain(made_flow *f, chunk_fn fn, float *out, double *ldj, const float *in,
                     const float *c, size_t n)
{
    const int E = f->E;
    for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
        int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
        memcpy(f->h0, in + i0 * E, (size_t)rows * E * sizeof(float));
        memset(f->ld, 0, (size_t)rows * sizeof *f->ld);
        int rc = fn(f, c ? c + i0 * f->C : NULL, rows, f->ld, i0);
        if (rc) return rc;
        memcpy(out + i0 * E, f->h0, (size_t)rows * E * sizeof(float));
        if (ldj) memcpy(ldj + i0, f->ld, (size_t)rows * sizeof *ldj);
    }
    return MADE_OK;
}

int made_flow_inverse(made_flow *f, float *x, double *ildj, const float *y, const float *c,
                      size_t n)
{
    int rc = check_args(f, x, y, c, n, "inverse");
    if (!rc) rc = made__check_finite("flow input", y, n, (size_t)f->E);
    if (rc) return rc;
    return run_chain(f, chunk_inverse, x, ildj, y, c, n);
}

int made_flow_forward(made_flow *f, float *y, double *fldj, const float *x, const float *c,
                      size_t n)
{
    int rc = check_args(f, y, x, c, n, "forward");
    if (!rc) rc = made__check_finite("flow input", x, n, (size_t)f->E);
    if (rc) return rc;
    return run_chain(f, chunk_forward, y, fldj, x, c, n);
}

int made_flow_log_prob(made_flow *f, double *lp, const float *y, const float *c, size_t n)
{
    int rc = check_args(f, lp, y, c, n, "log_prob");
    if (!rc) rc = made__check_finite("data", y, n, (size_t)f->E);
    if (rc) return rc;
    const int E = f->E;
    const double log_norm = -0.5 * E * log(2.0 * 3.14159265358979323846);
    for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
        int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
        const float *cc = c ? c + i0 * f->C : NULL;
        memset(f->ld, 0, (size_t)rows * sizeof *f->ld);
        if ((rc = made__flow_pre_forward(f, f->h0, y + i0 * E, rows, f->ld, i0))) return rc;
        if ((rc = chunk_inverse(f, cc, rows, f->ld, i0))) return rc;
        for (int i = 0; i < rows; i++) {
            double ss = 0.0;
            for (int j = 0; j < E; j++) {
                double z = f->h0[(size_t)i * E + j];
                ss += z * z;
            }
            lp[i0 + (size_t)i] = log_norm - 0.5 * ss + f->ld[i];
        }
    }
    return MADE_OK;
}

int made_flow_sample(made_flow *f, float *y, const float *c, size_t n, uint64_t seed)
{
    int rc = check_args(f, y, y, c, n, "sample");
    if (rc) return rc;
    const int E = f->E;
    for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
        int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
        /* One stream per row, so samples do not depend on chunking or threads. */
        for (int i = 0; i < rows; i++) {
            made__rng r;
            made__rng_seed(&r, seed, (uint64_t)(i0 + (size_t)i));
            for (int j = 0; j < E; j++) f->h0[(size_t)i * E + j] = (float)made__rng_normal(&r);
        }
        memset(f->ld, 0, (size_t)rows * sizeof *f->ld);
        if ((rc = chunk_forward(f, c ? c + i0 * f->C : NULL, rows, f->ld, i0))) return rc;
        made__flow_pre_inverse(f, y + i0 * E, f->h0, rows);
    }
    return MADE_OK;
}

/* Density direction of one chunk (in h0, preprocessed) down to layer k's
 * output, before its batch norm; the batch norms of the layers above k are
 * applied in evaluation mode. Leaves the result in h0. */
static int chunk_down_to(made_flow *f, int k, const float *c, int n, size_t row0)
{
    const int E = f->E;
    float *a = f->h0, *b = f->h1;
    for (int j = f->K - 1; j >= k; j--) {
        float *t;
        if (j < f->K - 1) {
            made__flow_unpermute(f->perm + (size_t)j * E, E, b, a, n);
            t = a; a = b; b = t;
        }
        int rc = layer_step(f, j, 0, b, a, c, n, f->ld, row0);
        if (rc) return rc;
        t = a; a = b; b = t;
        if (j > k) {
            made__flow_bn_normalise(f, j, b, a, n, f->ld);
            t = a; a = b; b = t;
        }
    }
    if (a != f->h0) memcpy(f->h0, a, (size_t)n * E * sizeof *a);
    return MADE_OK;
}

int made_flow_batchnorm_from_data(made_flow *f, const float *x, const float *c, size_t n)
{
    int rc = check_args(f, x, x, c, n, "batch norm");
    if (rc) return rc;
    if (!f->cfg.batch_norm)
        return made__error(MADE_E_INVAL, "batch norm: the flow has no batch normalisation");
    if (n < 2) return made__error(MADE_E_INVAL, "batch norm: %zu rows (need at least 2)", n);
    if ((rc = made__check_finite("data", x, n, (size_t)f->E))) return rc;
    const int E = f->E;
    double *sum = made__calloc(2 * (size_t)E, sizeof *sum);
    if (!sum) return MADE_E_NOMEM;
    double *sq = sum + E;
    /* From the top layer down: layer k's statistics depend on the batch norms
     * above it, which are final by then. */
    for (int k = f->K - 1; k >= 0 && !rc; k--) {
        memset(sum, 0, 2 * (size_t)E * sizeof *sum);
        for (size_t i0 = 0; i0 < n && !rc; i0 += MADE_CHUNK) {
            int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
            const float *cc = c ? c + i0 * f->C : NULL;
            memset(f->ld, 0, (size_t)rows * sizeof *f->ld);
            rc = made__flow_pre_forward(f, f->h0, x + i0 * E, rows, f->ld, i0);
            if (!rc) rc = chunk_down_to(f, k, cc, rows, i0);
            for (int i = 0; !rc && i < rows; i++)
                for (int j = 0; j < E; j++) {
                    double v = f->h0[(size_t)i * E + j];
                    sum[j] += v;
                    sq[j] += v * v;
                }
        }
        float *bn = f->bn + (size_t)k * 4 * E;
        for (int j = 0; !rc && j < E; j++) {
            double mean = sum[j] / (double)n, var = sq[j] / (double)n - mean * mean;
            bn[j] = (float)mean;
            bn[E + j] = (float)(var > 0 ? var : 0);
        }
    }
    made__free(sum);
    return rc;
}

int made_flow_standardize_from_data(made_flow *f, const float *x, size_t n)
{
    made__clear_error();
    if (!f || !x) return made__error(MADE_E_INVAL, "standardize: NULL argument");
    if (f->cfg.preprocess != MADE_FLOW_PRE_STANDARDIZE)
        return made__error(MADE_E_INVAL, "standardize: the flow's preprocessing is not standardize");
    if (n < 2) return made__error(MADE_E_INVAL, "standardize: %zu rows (need at least 2)", n);
    int rc = made__check_finite("data", x, n, (size_t)f->E);
    if (rc) return rc;
    const int E = f->E;
    for (int j = 0; j < E; j++) {
        double mean = 0.0, var = 0.0;
        for (size_t i = 0; i < n; i++) mean += x[i * E + j];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) var += (x[i * E + j] - mean) * (x[i * E + j] - mean);
        double sd = sqrt(var / (double)n);
        f->pre_mean[j] = mean;
        f->pre_std[j] = sd > 0 ? sd : 1.0;
    }
    return MADE_OK;
}
