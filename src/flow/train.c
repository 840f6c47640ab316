/* train.c - training a flow by maximum likelihood with made's trainer: the
 * flow's side of the trainer's objective interface (trainer.h). The loss is
 * the mean NLL of the batch; its gradient runs backwards through the density
 * direction, layer by layer:
 *
 *   MAF layer k:       h -> network -> (s, u);  x = (h - s) e^{-lg(u)}
 *                      NLL gains +lg(u) per dimension
 *   IAF layer k:       x solves h = (x - s(x)) e^{-lg(u(x))} (the
 *                      autoregressive sweep); NLL gains -lg(u(x))
 *   batch norm k:      v = (x - mu_B) / sqrt(var_B + eps) e^gamma + beta with
 *                      the batch's mean and (biased) variance; NLL gains
 *                      -(gamma - 0.5 log(var_B + eps))
 *   base:              NLL gains 0.5 z^2 + 0.5 log(2 pi) per dimension
 *
 * Going back through a MAF layer, with G = dL/dx: ds = -G e^{-lg},
 * dlg = -G x + 1/n, du = dlg lg'(u), and dL/dh = G e^{-lg} + the network's
 * input gradient of (ds, du). An IAF layer's x is an implicit function of h
 * and the weights; its adjoint is found by back-substitution (iaf_grad.c).
 * Batch norm's backward includes the batch statistics' dependence on every
 * row. With share_weights the one network's gradient is the sum of the
 * layers' (in layer order, so the bits do not depend on threads). */
#include <math.h>
#include <string.h>

#include "core/vmath.h"
#include "flow/flow.h"
#include "net/network.h"
#include "train/trainer.h"

/* Where the MAF training step takes e^{-u} in float (e^80 = 5.5e34, inside
 * float's range). */
#define FEXP_RANGE 80.0f

typedef struct flow_train {
    made_flow *f;
    size_t B;            /* batch capacity */
    float *H;            /* [K, B, E] each network's input */
    float *S;            /* [K, B, E, 2] IAF: each network's output (shift, u) */
    double *EX;          /* [K, B, E] MAF: each layer's e^{-lg(u)} */
    float *ef;           /* [E] MAF: one row's e^{-u} (exp scale), internal order */
    float *X;            /* [K, B, E] each layer's output (batch norm's input) */
    double *mu, *var;    /* [K, E] batch statistics */
    float *A, *G, *T;    /* [B, E] work, gradient, scratch */
    float *dxs;          /* [B, E] dLoss/d(network input), internal order */
    float *NI;           /* [K, B, E] IAF: each network's input (the layer's x) */
    float *gsum;         /* share_weights: the network's gradient summed over layers */
    made__work *work;    /* [K] each network's training pass, forward kept for backward */
    float *bn_grad;      /* [K, 4, E]: gradients of gamma and beta at 2E.. */
    size_t bn_segs[2];
    made__block *blocks; /* K networks, then K batch norms */
    double *acc;         /* [B] per-row NLL terms */
    double *bnw;         /* [4, E] batch norm's per-column work */
} flow_train;

static void flow_train_free(void *self)
{
    flow_train *s = self;
    if (!s) return;
    made__free(s->H);
    made__free(s->S);
    made__free(s->EX);
    made__free(s->ef);
    made__free(s->X);
    made__free(s->mu);
    made__free(s->var);
    made__free(s->A);
    made__free(s->G);
    made__free(s->T);
    made__free(s->dxs);
    made__free(s->NI);
    made__free(s->gsum);
    for (int k = 0; s->work && k < s->f->K; k++) made__work_free(&s->work[k]);
    made__free(s->work);
    made__free(s->bn_grad);
    made__free(s->blocks);
    made__free(s->acc);
    made__free(s->bnw);
    made__free(s);
}

/* Batch norm of layer k in training mode on X_k -> A: batch statistics, and
 * the running averages moved towards them. Returns the NLL term per row.
 * The loops run along rows (vectorisable); each column's sums still add its
 * rows in order. */
static double bn_train_forward(flow_train *s, int k, size_t n)
{
    made_flow *f = s->f;
    const int E = f->E;
    const float *X = s->X + (size_t)k * s->B * E;
    float *bn = f->bn + (size_t)k * 4 * E;
    double *mu = s->mu + (size_t)k * E, *var = s->var + (size_t)k * E, *scale = s->bnw, term = 0.0;
    const double mom = f->cfg.batch_norm_momentum, eps = f->cfg.batch_norm_eps;
    for (int j = 0; j < E; j++) mu[j] = var[j] = 0.0;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < E; j++) mu[j] += X[i * E + j];
    for (int j = 0; j < E; j++) mu[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < E; j++) {
            double d = X[i * E + j] - mu[j];
            var[j] += d * d;
        }
    for (int j = 0; j < E; j++) {
        var[j] /= (double)n;
        scale[j] = exp((double)bn[2 * E + j]) / sqrt(var[j] + eps);
        term -= bn[2 * E + j] - 0.5 * log(var[j] + eps);
        bn[j] = (float)(mom * bn[j] + (1.0 - mom) * mu[j]);
        bn[E + j] = (float)(mom * bn[E + j] + (1.0 - mom) * var[j]);
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < E; j++)
            s->A[i * E + j] = (float)((X[i * E + j] - mu[j]) * scale[j] + bn[3 * E + j]);
    return term;
}

/* Backward of bn_train_forward: G = dL/dv in, dL/dx out; gamma and beta
 * gradients into bn_grad. */
static void bn_train_backward(flow_train *s, int k, size_t n)
{
    made_flow *f = s->f;
    const int E = f->E;
    const float *X = s->X + (size_t)k * s->B * E, *bn = f->bn + (size_t)k * 4 * E;
    const double *mu = s->mu + (size_t)k * E, *var = s->var + (size_t)k * E;
    float *gg = s->bn_grad + (size_t)k * 4 * E + 2 * E, *gb = gg + E;
    double *sd = s->bnw, *eg = sd + E, *sum_g = eg + E, *sum_gx = sum_g + E;
    const double eps = f->cfg.batch_norm_eps, inv_n = 1.0 / (double)n;
    for (int j = 0; j < E; j++) {
        sd[j] = sqrt(var[j] + eps);
        eg[j] = exp((double)bn[2 * E + j]);
        sum_g[j] = sum_gx[j] = 0.0;
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < E; j++) {
            double xh = (X[i * E + j] - mu[j]) / sd[j], g = s->G[i * E + j];
            sum_g[j] += g;
            sum_gx[j] += g * xh;
        }
    /* The log-determinant term is the same for every row: its mean is
     * -(gamma - 0.5 log(var + eps)). sum_g and sum_gx become the means of
     * the scaled gradient, and of it times x-hat. */
    for (int j = 0; j < E; j++) {
        gg[j] = (float)(sum_gx[j] * eg[j] - 1.0);
        gb[j] = (float)sum_g[j];
        sum_g[j] = sum_g[j] * eg[j] * inv_n;
        sum_gx[j] = sum_gx[j] * eg[j] * inv_n;
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < E; j++) {
            double xh = (X[i * E + j] - mu[j]) / sd[j], d = s->G[i * E + j] * eg[j];
            s->G[i * E + j] = (float)((d - sum_g[j] - xh * sum_gx[j] + xh * inv_n) / sd[j]);
        }
}

/* The exp scale's e^{-u} of one row's outputs su[E, 2] (u at 2t + 1) into
 * ef[E], in float (core/vmath.h), a loop that vectorises. Where |u| >
 * FEXP_RANGE (or u is NaN) the caller takes double exp instead, so overflow
 * is reported as before. */
static void exp_neg_row(float *restrict ef, const float *restrict su, int E)
{
    for (int t = 0; t < E; t++) {
        const float u = su[2 * t + 1];
        ef[t] = made__expf(fabsf(u) <= FEXP_RANGE ? -u : 0.0f);
    }
}

/* Network k's forward pass on H_k, kept in its work area for the backward
 * pass, and x = (h - s) e^{-lg} into A, e^{-lg} into EX_k for the backward
 * pass. The network's outputs are in internal layout: (shift, u) of the
 * dimension at internal input t in columns 2t and 2t + 1 (net/model.h). */
static int layer_train_forward(flow_train *s, int k, const float *c, size_t n, double *nll)
{
    made_flow *f = s->f;
    made_model *m = f->layer[k];
    made__work *w = &s->work[k];
    const int E = f->E, *inv0 = m->inv[0];
    const float *H = s->H + (size_t)k * s->B * E;
    double *EX = s->EX + (size_t)k * s->B * E;
    int rc = made__work_reserve(w, m, (int)n, m->threads);
    if (rc) return rc;
    made__net_forward_kept(m, w, H, c, (int)n);
    if ((rc = made__net_check_kept(m, w, H, c, (int)n))) return rc;
    const float *out = w->pre[m->nl - 1];
    const int fast = f->cfg.scale == MADE_FLOW_SCALE_EXP;
    for (size_t i = 0; i < n; i++) {
        const float *oi = out + 2 * i * E;
        if (fast) exp_neg_row(s->ef, oi, E);
        for (int j = 0; j < E; j++) {
            size_t o = i * E + j;
            const float *su = oi + 2 * (size_t)inv0[j];
            double lg = made__flow_log_scale(f->cfg.scale, su[1]);
            double e = fast && fabsf(su[1]) <= FEXP_RANGE ? s->ef[inv0[j]] : exp(-lg);
            s->A[o] = (float)(((double)H[o] - su[0]) * e);
            EX[o] = e;
            nll[i] += lg;
        }
    }
    made__flow_where w_ = {k, "inverse", 0};
    return made__flow_check(f, s->A, (int)n, w_);
}

/* IAF layer k on H_k: x by the autoregressive sweep into NI_k and A, the
 * network's forward pass at x kept in its work area and its outputs copied
 * into S_k (TFP's layout); the NLL terms use those outputs, which the
 * gradient differentiates. */
static int iaf_train_forward(flow_train *s, int k, const float *c, size_t n, double *nll)
{
    made_flow *f = s->f;
    made_model *m = f->layer[k];
    made__work *w = &s->work[k];
    const int E = f->E, C = f->C;
    const float *H = s->H + (size_t)k * s->B * E;
    float *X = s->NI + (size_t)k * s->B * E, *S = s->S + (size_t)k * s->B * E * 2;
    for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
        int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
        made__flow_where w_ = {k, "inverse", i0};
        memset(f->ld, 0, (size_t)rows * sizeof *f->ld); /* unused: the NLL uses S below */
        int rc = made__flow_generate(f, k, X + i0 * E, H + i0 * E, c ? c + i0 * C : NULL, rows,
                                     f->ld, w_);
        if (rc) return rc;
    }
    int rc = made__work_reserve(w, m, (int)n, m->threads);
    if (rc) return rc;
    made__net_forward_kept(m, w, X, c, (int)n);
    if ((rc = made__net_check_kept(m, w, X, c, (int)n))) return rc;
    const float *out = w->pre[m->nl - 1];
    const int *inv = m->inv[m->nl];
    for (size_t i = 0; i < n; i++)
        for (int q = 0; q < 2 * E; q++) S[i * 2 * E + q] = out[i * 2 * E + (size_t)inv[q]];
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < E; j++) nll[i] -= made__flow_log_scale(f->cfg.scale, S[2 * (i * E + j) + 1]);
    memcpy(s->A, X, n * E * sizeof *s->A);
    return MADE_OK;
}

/* Backward of IAF layer k: G = dL/dx in, dL/dh (the adjoint) out; the
 * network's parameter gradient is one backward pass with the adjoint's
 * output gradient (which iaf_grad.c leaves in the work area). */
static int iaf_train_backward(flow_train *s, int k, size_t n)
{
    made_flow *f = s->f;
    made_model *m = f->layer[k];
    made__work *w = &s->work[k];
    const size_t off = (size_t)k * s->B * f->E;
    made__flow_iaf_adjoint(f, m, w, s->H + off, s->S + off * 2, s->G, (int)n, s->T, s->dxs);
    made__net_backward_dx(m, w, (int)n, NULL);
    memcpy(s->G, s->T, n * f->E * sizeof *s->G);
    return MADE_OK;
}

/* Backward of layer k: G = dL/dx in, dL/dh out; parameter gradients into the
 * network's gradient block, from the forward pass layer_train_forward kept.
 * The top layer's dL/dh (the data's) is not needed, so not computed. */
static int layer_train_backward(flow_train *s, int k, size_t n)
{
    made_flow *f = s->f;
    made_model *m = f->layer[k];
    made__work *w = &s->work[k];
    const int E = f->E;
    const int *perm0 = m->perm[0];
    const float *H = s->H + (size_t)k * s->B * E;
    const double *EX = s->EX + (size_t)k * s->B * E;
    const double inv_n = 1.0 / (double)n;
    const float *out = w->pre[m->nl - 1];
    float *dout = w->d[m->nl - 1];
    for (size_t i = 0; i < n; i++)
        for (int t = 0; t < E; t++) {
            size_t o = i * E + (size_t)perm0[t], q = i * 2 * E + 2 * (size_t)t;
            double u = out[q + 1], e = EX[o], g = s->G[o];
            double x = ((double)H[o] - out[q]) * e;
            dout[q] = (float)(-g * e);
            dout[q + 1] = (float)((-g * x + inv_n) * made__flow_log_scale_grad(f->cfg.scale, u));
            s->T[o] = (float)(g * e);
        }
    if (k == f->K - 1) {
        made__net_backward_dx(m, w, (int)n, NULL);
        return MADE_OK;
    }
    made__net_backward_dx(m, w, (int)n, s->dxs);
    for (size_t i = 0; i < n; i++)
        for (int t = 0; t < E; t++) s->T[i * E + (size_t)perm0[t]] += s->dxs[i * E + (size_t)t];
    memcpy(s->G, s->T, n * E * sizeof *s->G);
    return MADE_OK;
}

/* The objective's gradient: returns the summed NLL, or NAN with the error
 * message set when a value is not finite. */
static double flow_gradient(made_trainer *t, const float *x, const double *ld, const float *c,
                            size_t n)
{
    flow_train *s = t->obj.self;
    made_flow *f = s->f;
    const int E = f->E, K = f->K;
    double *acc = s->acc; /* per row: NLL terms other than the base's */
    /* The networks' and batch norms' gradients are written below, not added
     * to (entries never written are masked and stay 0). */
    if (s->gsum) memset(s->gsum, 0, f->layer[0]->n_params * sizeof *s->gsum);
    /* Density direction, keeping what the backward pass needs. The
     * preprocessing's log|det| adds to log p, so it is subtracted. */
    if (ld) { /* rows flow_prepare made */
        memcpy(s->A, x, n * E * sizeof *s->A);
        for (size_t i = 0; i < n; i++) acc[i] = -ld[i];
    } else {
        memset(acc, 0, n * sizeof *acc);
        for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
            int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
            if (made__flow_pre_forward(f, s->A + i0 * E, x + i0 * E, rows, acc + i0, i0)) return NAN;
        }
        for (size_t i = 0; i < n; i++) acc[i] = -acc[i];
    }
    double bn_terms = 0.0;
    for (int k = K - 1; k >= 0; k--) {
        float *H = s->H + (size_t)k * s->B * E;
        if (k < K - 1) made__flow_unpermute(f->perm + (size_t)k * E, E, H, s->A, (int)n);
        else memcpy(H, s->A, n * E * sizeof *H);
        if ((f->cfg.kind == MADE_FLOW_IAF ? iaf_train_forward(s, k, c, n, acc)
                                          : layer_train_forward(s, k, c, n, acc)))
            return NAN;
        if (f->cfg.batch_norm) {
            memcpy(s->X + (size_t)k * s->B * E, s->A, n * E * sizeof *s->A);
            bn_terms += bn_train_forward(s, k, n);
        }
    }
    const double per_row = 0.5 * E * log(2.0 * 3.14159265358979323846) + bn_terms;
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        double ss = 0.0;
        for (int j = 0; j < E; j++) ss += (double)s->A[i * E + j] * s->A[i * E + j];
        total += 0.5 * ss + per_row + acc[i];
        for (int j = 0; j < E; j++) s->G[i * E + j] = (float)(s->A[i * E + j] / (double)n);
    }
    /* Backwards through the density direction. */
    for (int k = 0; k < K; k++) {
        if (f->cfg.batch_norm) bn_train_backward(s, k, n);
        if ((f->cfg.kind == MADE_FLOW_IAF ? iaf_train_backward(s, k, n)
                                          : layer_train_backward(s, k, n)))
            return NAN;
        if (s->gsum) {
            const made_model *m = f->layer[0];
            for (size_t i = 0; i < m->n_params; i++) s->gsum[i] += m->grads[i];
        }
        if (k < K - 1) {
            made__flow_permute(f->perm + (size_t)k * E, E, s->T, s->G, (int)n);
            memcpy(s->G, s->T, n * E * sizeof *s->G);
        }
    }
    if (s->gsum) memcpy(f->layer[0]->grads, s->gsum, f->layer[0]->n_params * sizeof *s->gsum);
    return total;
}

int made_flow_check_data(const made_flow *f, const float *x, size_t n)
{
    made__clear_error();
    if (!f || (!x && n)) return made__error(MADE_E_INVAL, "check data: NULL argument");
    int rc = made__check_finite("data", x, n, (size_t)f->E);
    if (rc || f->cfg.preprocess != MADE_FLOW_PRE_LOGIT) return rc;
    const double L = f->cfg.dequantize_levels ? f->cfg.dequantize_levels : 1.0;
    for (size_t i = 0; i < n * (size_t)f->E; i++)
        if (!(x[i] >= 0 && x[i] <= L))
            return made__error(MADE_E_DOMAIN, "row %zu, column %zu is %g, outside [0, %g] (the "
                               "range of the logit preprocessing)",
                               i / f->E + 1, i % f->E + 1, (double)x[i], L);
    return MADE_OK;
}

/* The training data in flow space with the preprocessing's log|det| per
 * row, as flow_gradient computes them for each minibatch. */
static int flow_prepare(void *self, const float *x, size_t n, float *y, double *ld)
{
    const flow_train *s = self;
    const int E = s->f->E;
    memset(ld, 0, n * sizeof *ld);
    for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
        int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
        int rc = made__flow_pre_forward(s->f, y + i0 * E, x + i0 * E, rows, ld + i0, i0);
        if (rc) return rc;
    }
    return MADE_OK;
}

static int flow_check(void *self, const float *x, size_t n)
{
    const flow_train *s = self;
    return made_flow_check_data(s->f, x, n);
}

int made_flow_nll(made_flow *f, const float *x, const float *c, size_t n, double *nll)
{
    made__clear_error();
    if (!f || !nll || (!x && n)) return made__error(MADE_E_INVAL, "flow nll: NULL argument");
    if (n == 0) return made__error(MADE_E_INVAL, "flow nll: no examples");
    double lp[MADE_CHUNK], total = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
        size_t rows = n - i0 < MADE_CHUNK ? n - i0 : MADE_CHUNK;
        int rc = made_flow_log_prob(f, lp, x + i0 * f->E, c ? c + i0 * f->C : NULL, rows);
        if (rc) return rc;
        for (size_t i = 0; i < rows; i++) total += lp[i];
    }
    *nll = -total / (double)n;
    return MADE_OK;
}

static int flow_nll(made_trainer *t, const float *x, const float *c, size_t n, double *nll)
{
    return made_flow_nll(t->flow, x, c, n, nll);
}

static int flow_finish(void *self, const float *x, const float *c, size_t n)
{
    flow_train *s = self;
    return s->f->cfg.batch_norm ? made_flow_batchnorm_from_data(s->f, x, c, n) : MADE_OK;
}

/* The checkpoint: the flow's tensors under the checkpoint format name. */
static int flow_write(void *self, const char *path, const struct made__st_entry *extra,
                      size_t n_extra, const char *const *keys, const char *const *vals,
                      size_t n_meta)
{
    const flow_train *s = self;
    return made__flow_write(s->f, path, MADE__FLOW_CKPT_FORMAT, extra, n_extra, keys, vals, n_meta);
}

/* The optimiser wrote the networks' parameters: their packed copies are stale. */
static void flow_changed(void *self)
{
    const flow_train *s = self;
    for (int k = 0; k < made__flow_nets(s->f); k++) made__weights_changed(s->f->layer[k]);
}

/* The objective for flow f and batches of up to B rows. */
static int flow_objective(made_flow *f, size_t B, made__objective *obj)
{
    const size_t E = (size_t)f->E, K = (size_t)f->K;
    flow_train *s = made__calloc(1, sizeof *s);
    if (!s) return MADE_E_NOMEM;
    s->f = f;
    s->B = B;
    s->H = made__malloc(K * B * E * sizeof(float));
    s->X = f->cfg.batch_norm ? made__malloc(K * B * E * sizeof(float)) : NULL;
    s->mu = made__malloc(K * E * sizeof(double));
    s->var = made__malloc(K * E * sizeof(double));
    s->A = made__malloc(B * E * sizeof(float));
    s->G = made__malloc(B * E * sizeof(float));
    s->T = made__malloc(B * E * sizeof(float));
    s->dxs = made__malloc(B * E * sizeof(float));
    s->work = made__calloc(K, sizeof *s->work);
    s->bn_grad = f->cfg.batch_norm ? made__calloc(K * 4 * E, sizeof(float)) : NULL;
    s->bnw = f->cfg.batch_norm ? made__malloc(4 * E * sizeof(double)) : NULL;
    s->blocks = made__calloc(2 * K, sizeof *s->blocks);
    s->acc = made__malloc(B * sizeof(double));
    const int iaf = f->cfg.kind == MADE_FLOW_IAF, shared = f->cfg.share_weights && K > 1;
    s->NI = iaf ? made__malloc(K * B * E * sizeof(float)) : NULL;
    s->S = iaf ? made__malloc(K * B * E * 2 * sizeof(float)) : NULL;
    s->EX = iaf ? NULL : made__malloc(K * B * E * sizeof(double));
    s->ef = iaf ? NULL : made__malloc(E * sizeof(float));
    s->gsum = shared ? made__malloc(f->layer[0]->n_params * sizeof(float)) : NULL;
    if (!s->H || (f->cfg.batch_norm && (!s->X || !s->bn_grad || !s->bnw)) || !s->mu || !s->var ||
        !s->A || !s->G || !s->T || !s->dxs || !s->work || !s->blocks || !s->acc ||
        (iaf && (!s->NI || !s->S)) || (!iaf && (!s->EX || !s->ef)) || (shared && !s->gsum)) {
        flow_train_free(s);
        return MADE_E_NOMEM;
    }
    size_t offset = 0;
    int nb = 0;
    for (size_t k = 0; k < K; k++) {
        made_model *m = f->layer[k];
        if ((int)k < made__flow_nets(f)) {
            s->blocks[nb++] = (made__block){m->params, m->grads, m->segs, m->n_segs, offset,
                                            m->n_params, m};
            offset += m->n_params;
        }
        /* The networks' training scratch for whole batches, so steps do not allocate. */
        int rc = made__work_reserve(&s->work[k], m, (int)B, m->threads);
        if (rc) {
            flow_train_free(s);
            return rc;
        }
    }
    /* Batch norm: gamma and beta of layer k, contiguous at 2E in its 4E. */
    s->bn_segs[0] = 0;
    s->bn_segs[1] = 2 * E;
    for (size_t k = 0; f->cfg.batch_norm && k < K; k++) {
        s->blocks[nb++] = (made__block){f->bn + k * 4 * E + 2 * E, s->bn_grad + k * 4 * E + 2 * E,
                                        s->bn_segs, 1, offset, 2 * E, NULL};
        offset += 2 * E;
    }
    memset(obj, 0, sizeof *obj);
    obj->self = s;
    obj->event_size = f->E;
    obj->cond_size = f->C;
    obj->blocks = s->blocks;
    obj->n_blocks = nb;
    obj->n_params = offset;
    obj->threads = &f->threads;
    obj->min_batch = f->cfg.batch_norm ? 2 : 1;
    obj->gradient = flow_gradient;
    obj->check = flow_check;
    /* Preprocessing costs a log or two per value: done once per fit. */
    obj->prepare = f->cfg.preprocess != MADE_FLOW_PRE_NONE ? flow_prepare : NULL;
    obj->nll = flow_nll;
    obj->finish = flow_finish;
    obj->release = flow_train_free;
    obj->changed = flow_changed;
    obj->write = flow_write;
    obj->record = &f->record;
    return MADE_OK;
}

int made__flow_trainer_alloc(made_trainer **out, made_flow *f, const made_train_config *cfg)
{
    *out = NULL;
    int rc = made_train_config_validate(cfg);
    if (rc) return rc;
    if (!f) return made__error(MADE_E_INVAL, "trainer: flow is NULL");
    if (f->cfg.batch_norm && cfg->batch_size < 2)
        return made__error(MADE_E_INVAL, "batch_size: 1 with batch norm (batch statistics need "
                           "at least two rows)");
    made__objective obj;
    if ((rc = flow_objective(f, (size_t)cfg->batch_size, &obj))) return rc;
    if ((rc = made__trainer_alloc_obj(out, &obj, cfg))) {
        flow_train_free(obj.self);
        return rc;
    }
    (*out)->flow = f;
    return MADE_OK;
}

int made_flow_trainer_create(made_trainer **out, made_flow *f, const made_train_config *cfg)
{
    made__clear_error();
    if (!out) return made__error(MADE_E_INVAL, "trainer: out is NULL");
    return made__flow_trainer_alloc(out, f, cfg);
}
