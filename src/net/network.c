/* network.c - the whole network, forward and backward, block by block. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "net/model.h"
#include "net/network.h"

void made__refresh_effective(made_model *m)
{
    if (m->cfg.num_masks == 1) return;
    for (int l = 0; l < m->nl; l++) {
        made__dense *E = &m->eff[l];
        const made__dense *L = &m->layer[l];
        size_t nw = (size_t)L->in * L->out;
        for (size_t i = 0; i < nw; i++) E->W[i] = m->cur[l][i] ? L->W[i] : 0.0f;
        E->b = L->b;
        E->V = L->V;
        E->gW = L->gW;
        E->gb = L->gb;
        E->gV = L->gV;
    }
}

void made__gather_inputs(const made_model *m, const float *x, int n)
{
    const int e = m->width[0];
    const int *perm = m->perm[0];
    for (int i = 0; i < n; i++)
        for (int s = 0; s < e; s++) m->xs[(size_t)i * e + s] = x[(size_t)i * e + perm[s]];
}

/* Activations of hidden layer l (its input to layer l + 1). */
static const float *layer_output(const made_model *m, int l)
{
    return m->post[l] ? m->post[l] : m->pre[l];
}

void made__net_forward(made_model *m, const float *c, int n)
{
    /* One parallel region for the whole pass; each layer's panel loop ends in
     * a barrier, after which the next layer can read its input. */
#pragma omp parallel num_threads(m->threads)
    {
        made__blas_single_threaded();
        const float *h = m->xs;
        for (int l = 0; l < m->nl; l++) {
            made__dense_forward_panels(made__active_layer(m, l), m->pre[l], m->post[l],
                                       m->cfg.activation, h, c, n);
            h = layer_output(m, l);
        }
    }
}

void made__net_backward(made_model *m, const float *dout, const float *c, int n)
{
    /* d holds dLoss/d(pre-activation) of layer l; d0/d1 alternate. The
     * backward pass of the previous layer's activation happens inside the
     * input-gradient panels. */
#pragma omp parallel num_threads(m->threads)
    {
        made__blas_single_threaded();
        const float *d = dout;
        for (int l = m->nl - 1; l >= 0; l--) {
            const float *in = l == 0 ? m->xs : layer_output(m, l - 1);
            float *dx = l == 0 ? NULL : (d == m->d0 ? m->d1 : m->d0);
            made__dense_backward_panels(made__active_layer(m, l), dx, d, in, c, n,
                                        m->cfg.activation, l > 0 ? m->pre[l - 1] : NULL,
                                        l > 0 ? m->post[l - 1] : NULL);
            d = dx;
        }
    }
}

void made__grads_finish(made_model *m)
{
    for (int l = 0; l < m->nl; l++) {
        made__dense *L = &m->layer[l];
        if (m->cfg.num_masks == 1) {
            made__dense_clean_grad(L);
        } else {
            /* The masked view computed a dense gradient: keep the current set's
             * entries only. */
            size_t nw = (size_t)L->in * L->out;
            for (size_t i = 0; i < nw; i++)
                if (!m->cur[l][i]) L->gW[i] = 0.0f;
        }
    }
}

int made_model_forward(made_model *m, float *y, const float *x, const float *c, size_t n)
{
    made__clear_error();
    if (!m || (!y && n) || (!x && n)) return made__error(MADE_E_INVAL, "forward: NULL argument");
    const made_config *cfg = &m->cfg;
    int rc = made__check_cond(m, c, n, "forward");
    if (rc) return rc;
    const int e = cfg->event_size, C = cfg->conditional_size;
    const size_t out_w = (size_t)m->width[m->nl];
    if (cfg->validate_args) {
        rc = made__check_finite("input", x, n, (size_t)e);
        if (!rc && c) rc = made__check_finite("conditional input", c, n, (size_t)C);
        if (rc) return rc;
    }
    made__refresh_effective(m);
    const float *out = m->pre[m->nl - 1];
    const int *perm = m->perm[m->nl];
    for (size_t i0 = 0; i0 < n; i0 += MADE_CHUNK) {
        int rows = n - i0 < MADE_CHUNK ? (int)(n - i0) : MADE_CHUNK;
        made__gather_inputs(m, x + i0 * e, rows);
        made__net_forward(m, c ? c + i0 * C : NULL, rows);
        /* Scatter internal output columns back to TFP's interleaved layout. */
        float *yb = y + i0 * out_w;
        for (int i = 0; i < rows; i++)
            for (size_t u = 0; u < out_w; u++) yb[i * out_w + perm[u]] = out[i * out_w + u];
    }
    if (cfg->validate_args) return made__check_finite("output", y, n, out_w);
    return MADE_OK;
}
