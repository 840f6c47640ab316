/* density.c - log-likelihoods under the model's output distribution, for one
 * mask set or the mixture over all of them (MADE section 3.2). */
#include <math.h>

#include "core/internal.h"
#include "density/dist.h"
#include "net/kernel.h"
#include "net/model.h"
#include "net/network.h"

/* Checks that every value of x[n, E] is in the distribution's support. */
int made__check_support(const made_model *m, const float *x, size_t n)
{
    const int e = m->cfg.event_size;
    const made_dist d = m->cfg.dist;
    const size_t total = n * (size_t)e;
    /* A quick pass for the common case (the check runs on every training
     * step), then the detailed one only when something is wrong. */
    size_t bad = total;
    if (d.kind == MADE_DIST_BERNOULLI) {
        /* Whether any value is neither 0 nor 1: a loop without an early exit,
         * so it vectorises; where, only when one is. */
        int any = 0;
        for (size_t i = 0; i < total; i++) any |= (x[i] != 0.0f) & (x[i] != 1.0f);
        for (size_t i = 0; any && i < total && bad == total; i++)
            if (x[i] != 0.0f && x[i] != 1.0f) bad = i;
    } else {
        for (size_t i = 0; i < total && bad == total; i++)
            if (made__dist_check(d, x[i]) != 0) bad = i;
    }
    if (bad == total) return MADE_OK;
    size_t i = bad / (size_t)e;
    int j = (int)(bad % (size_t)e);
    float v = x[bad];
    if (!isfinite(v))
        return made__error(MADE_E_NONFINITE, "row %zu, column %d: %g is not finite", i + 1, j + 1,
                           (double)v);
    char name[64];
    made_dist_format(name, sizeof name, d);
    return made__error(MADE_E_DOMAIN, "row %zu, column %d: %g is outside the support of %s (%s)",
                       i + 1, j + 1, (double)v, name,
                       d.kind == MADE_DIST_BERNOULLI ? "expected 0 or 1" : "expected an integer 0..K-1");
}

int made_model_check_data(const made_model *m, const float *x, size_t n)
{
    made__clear_error();
    if (!m || (!x && n)) return made__error(MADE_E_INVAL, "check_data: NULL argument");
    if (m->cfg.dist.kind == MADE_DIST_NONE)
        return made__error(MADE_E_INVAL, "check_data: the model has no output distribution");
    return made__check_support(m, x, n);
}

static int check_call(const made_model *m, const void *out, const float *x, const float *c, size_t n)
{
    if (!m || (n && (!out || !x))) return made__error(MADE_E_INVAL, "log_prob: NULL argument");
    if (m->cfg.dist.kind == MADE_DIST_NONE)
        return made__error(MADE_E_INVAL, "log_prob: the model has no output distribution");
    int rc = made__check_cond(m, c, n, "log_prob");
    if (!rc) rc = made__check_support(m, x, n);
    if (!rc && c) rc = made__check_finite("conditional input", c, n, (size_t)m->cfg.conditional_size);
    return rc;
}

/* A piece's log-likelihoods, in the piece's thread (made__infer). */
typedef struct {
    const made_model *m;
    double *lp;
} loss_args;

static void loss_piece(void *arg, const float *out, const float *xs, size_t i0, int len)
{
    const loss_args *la = arg;
    const made_model *m = la->m;
    const int e = m->cfg.event_size;
    const size_t w = (size_t)e * m->cfg.params;
    for (int i = 0; i < len; i++)
        la->lp[i0 + (size_t)i] = made__dist_example(m->cfg.dist, out + i * w, xs + (size_t)i * e,
                                                    e, NULL, 0.0f, NULL,
                                                    m->kern == &made__kernel_avx2);
}

/* log p(x) per row under the current mask set; no argument checks. */
static void log_prob_rows(made_model *m, double *lp, const float *x, const float *c, size_t n)
{
    made__refresh_effective(m);
    loss_args la = {m, lp};
    made__infer(m, x, c, n, NULL, loss_piece, &la);
}

int made_model_log_prob(made_model *m, double *lp, const float *x, const float *c, size_t n)
{
    made__clear_error();
    int rc = check_call(m, lp, x, c, n);
    if (rc) return rc;
    log_prob_rows(m, lp, x, c, n);
    return MADE_OK;
}

/* The mixture over mask sets 0..K-1 per row; arguments already checked. */
static void ensemble_rows(made_model *m, double *lp, const float *x, const float *c, size_t n, int K)
{
    const int keep = m->cur_mask;
    /* The mixture over mask sets: logsumexp_k log p_k(x) - log K, accumulated
     * one set at a time into lp with a running log-add-exp (the mixture of
     * probabilities, not an average of logits). */
    for (int k = 0; k < K; k++) {
        if (m->cfg.num_masks > 1) made_model_set_mask(m, k);
        for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
            double tmp[MADE_CHUNK];
            size_t rows = n - i0 < MADE_CHUNK ? n - i0 : MADE_CHUNK;
            log_prob_rows(m, tmp, x + i0 * m->cfg.event_size,
                          c ? c + i0 * m->cfg.conditional_size : NULL, rows);
            for (size_t i = 0; i < rows; i++) {
                double a = k == 0 ? -INFINITY : lp[i0 + i], b = tmp[i];
                double hi = a > b ? a : b, lo = a > b ? b : a;
                lp[i0 + i] = hi == -INFINITY ? hi : hi + log1p(exp(lo - hi));
            }
        }
    }
    for (size_t i = 0; i < n; i++) lp[i] -= log((double)K);
    if (m->cfg.num_masks > 1) made_model_set_mask(m, keep);
}

int made_model_log_prob_ensemble(made_model *m, double *lp, const float *x, const float *c, size_t n,
                                 int K)
{
    made__clear_error();
    int rc = check_call(m, lp, x, c, n);
    if (rc) return rc;
    if (K < 1 || K > m->cfg.num_masks)
        return made__error(MADE_E_INVAL, "masks: %d is out of range (the model has %d mask "
                           "set%s)", K, m->cfg.num_masks, m->cfg.num_masks == 1 ? "" : "s");
    ensemble_rows(m, lp, x, c, n, K);
    return MADE_OK;
}

int made__model_nll(made_model *m, const float *x, const float *c, size_t n, int masks,
                    double *lp, double *nll)
{
    made__clear_error();
    if (!nll) return made__error(MADE_E_INVAL, "nll: NULL argument");
    if (n == 0) return made__error(MADE_E_INVAL, "nll: no examples");
    int rc = check_call(m, nll, x, c, n);
    if (rc) return rc;
    if (masks < 0 || masks > m->cfg.num_masks)
        return made__error(MADE_E_INVAL, "masks: %d is out of range (0..%d)", masks, m->cfg.num_masks);
    double total = 0.0;
    if (masks >= 1) {
        /* The mixture: each mask set is selected once, for all rows. */
        ensemble_rows(m, lp, x, c, n, masks);
        for (size_t i = 0; i < n; i++) total += lp[i];
    } else {
        double tmp[MADE_CHUNK];
        for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
            size_t rows = n - i0 < MADE_CHUNK ? n - i0 : MADE_CHUNK;
            log_prob_rows(m, tmp, x + i0 * m->cfg.event_size,
                          c ? c + i0 * m->cfg.conditional_size : NULL, rows);
            for (size_t i = 0; i < rows; i++) total += tmp[i];
        }
    }
    *nll = -total / (double)n;
    return MADE_OK;
}

int made_model_nll(made_model *m, const float *x, const float *c, size_t n, int masks,
                   double *nll)
{
    double *lp = NULL;
    if (masks >= 1 && n > 0 && !(lp = made__malloc(n * sizeof *lp))) return MADE_E_NOMEM;
    int rc = made__model_nll(m, x, c, n, masks, lp, nll);
    made__free(lp);
    return rc;
}
