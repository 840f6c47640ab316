/* iaf_grad.c - the gradient through an IAF layer's density direction, by
 * implicit differentiation.
 *
 * In the density direction an IAF layer maps h to the x that solves
 *     N(x, theta) = (x - s(x)) e^{-lg(u(x))} = h,
 * where (s, u) = f(x; theta) is the layer's network; the layer's NLL term is
 * -sum_i lg(u_i(x)). N's Jacobian in x is triangular in the autoregressive
 * order (output i reads only inputs of lower degree) with diagonal e^{-lg_i}.
 * With G = dL/dx from the layers below, the adjoint lam = dL/dh solves
 *     lam_j e^{-lg_j} = G_j + [J_x^T (ds, du)]_j,
 *     ds_i = lam_i e^{-lg_i},  du_i = (lam_i h_i - 1/n) lg'(u_i),
 * (J_x^T: the network's input gradient) and the weights' gradient is the
 * network's parameter gradient of the same (ds, du). Input j of degree d gets
 * input gradient only from outputs of degree > d, so lam is found by
 * back-substitution from degree E down to 1, one backward pass per degree:
 * about E backward passes per layer and step (E network passes, as TFP takes
 * to sample a MAF). Rows are independent, so each thread solves its own rows
 * from start to end; each row's numbers do not depend on the thread count.
 * The units of the network's input layer are sorted by degree (net/model.h):
 * internal input t has degree t + 1. */
#include <assert.h>
#include <math.h>
#include <omp.h>

#include "flow/flow.h"
#include "net/network.h"

/* The network's output gradient (internal layout, dout[n, 2E]) of rows
 * [i0, i1) from the adjoint of the outputs of internal index >= t0 (degree >
 * t0); the others are 0 (their adjoint is not known yet, and they do not
 * reach the inputs being solved). */
static void output_grad(const made_flow *f, const int *perm0, float *dout, const float *H,
                        const float *S, const float *lam, int i0, int i1, int t0, double inv_n)
{
    const int E = f->E;
    for (int i = i0; i < i1; i++)
        for (int t = 0; t < E; t++) {
            float *d = dout + (size_t)i * 2 * E + 2 * t;
            if (t < t0) {
                d[0] = d[1] = 0.0f;
                continue;
            }
            size_t o = (size_t)i * E + (size_t)perm0[t];
            double u = S[2 * o + 1], lg = made__flow_log_scale(f->cfg.scale, u);
            d[0] = (float)(lam[o] * exp(-lg));
            d[1] = (float)(((double)lam[o] * H[o] - inv_n) *
                           made__flow_log_scale_grad(f->cfg.scale, u));
        }
}

/* Rows [i0, i1): the back-substitution, then the final output gradient. */
static void solve_rows(const made_flow *f, made_model *m, made__work *w, const float *H,
                       const float *S, const float *G, int i0, int i1, double inv_n, float *lam,
                       float *dxs)
{
    const int E = f->E, *perm0 = m->perm[0];
    float *dout = w->d[m->nl - 1];
    for (int t = E - 1; t >= 0; t--) {
        /* Input gradient from the outputs of degree > t + 1 (none for the last). */
        if (t < E - 1) {
            output_grad(f, perm0, dout, H, S, lam, i0, i1, t + 1, inv_n);
            made__work_backward_rows(m, w, i0, i1, 0);
            made__dense_input_grad_rows(m->kern, made__active_layer(m, 0), dxs, w->d[0], i0, i1,
                                        m->cfg.activation, NULL, NULL, NULL, 0);
        }
        for (int i = i0; i < i1; i++) {
            size_t o = (size_t)i * E + (size_t)perm0[t];
            double lg = made__flow_log_scale(f->cfg.scale, S[2 * o + 1]);
            double r = t < E - 1 ? dxs[(size_t)i * E + (size_t)t] : 0.0;
            lam[o] = (float)(exp(lg) * ((double)G[o] + r));
        }
    }
    output_grad(f, perm0, dout, H, S, lam, i0, i1, 0, inv_n);
}

/* H [n, E] the layer's h, S [n, E, 2] the network's outputs at the layer's
 * x, whose forward pass w holds (made__net_forward_kept, which packed W^T);
 * G [n, E] = dL/dx; lam [n, E] gets dL/dh, w->d[nl - 1] the network's output
 * gradient for the parameter gradient, dxs [n, E] is scratch. */
void made__flow_iaf_adjoint(const made_flow *f, made_model *m, made__work *w, const float *H,
                            const float *S, const float *G, int n, float *lam, float *dxs)
{
    assert(m->packed_t && n <= w->cap);
    const double inv_n = 1.0 / (double)n;
    int T = made__threads_for(m, (size_t)n, 2.0 * f->E);
    if (T > w->threads) T = w->threads;
#pragma omp parallel num_threads(T)
    {
        int i0, i1;
        made__row_range(n, omp_get_thread_num(), omp_get_num_threads(), &i0, &i1);
        if (i0 < i1) solve_rows(f, m, w, H, S, G, i0, i1, inv_n, lam, dxs);
    }
}
