/* layer.c - one autoregressive layer, both ways.
 *
 * normalise (one pass): out = (in - shift(in)) * exp(-log g(u(in)))
 * generate (autoregressive): out_i = shift_i(out) + exp(log g(u_i(out))) * in_i
 *
 * generate runs made's degree-ordered sweep (made__autoregress, the sampler's
 * loop) with an emit step that sets the event to shift + scale * in instead of
 * drawing it; every hidden unit is computed once. The E-pass reference
 * (generate_naive) is TFP's algorithm: E whole network passes, the event of
 * degree d set after pass d. Values are computed in double and stored as
 * float, which is what the next network pass reads. */
#include <string.h>

#include "flow/flow.h"

/* Adds the row sums of ls[n, E] to ld, in dimension order. */
static void add_log_scales(const double *ls, int n, int e, double sign, double *ld)
{
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int j = 0; j < e; j++) s += ls[(size_t)i * e + j];
        ld[i] += sign * s;
    }
}

int made__flow_normalise(made_flow *f, int k, float *out, const float *in, const float *c, int n,
                         double *ld, made__flow_where w)
{
    const int E = f->E;
    int rc = made_model_forward(f->layer[k], f->out, in, c, (size_t)n);
    if (rc) {
        made__error_prefix("flow layer %d: ", k);
        return rc;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < E; j++) {
            size_t o = (size_t)i * E + j;
            double shift = f->out[2 * o], lg = made__flow_log_scale(f->cfg.scale, f->out[2 * o + 1]);
            out[o] = (float)(((double)in[o] - shift) * exp(-lg));
            f->ls[o] = lg;
        }
    add_log_scales(f->ls, n, E, -1.0, ld);
    return made__flow_check(f, out, n, w);
}

/* What the emit step needs: the layer's input and where the log-scales go. */
typedef struct generate_ctx {
    const made_flow *f;
    const float *in;
} generate_ctx;

static void generate_event(const made__ar_emit *e, int event, const float *theta, float *x, int r0,
                           int r1, size_t row0)
{
    const generate_ctx *g = e->ctx;
    const int E = g->f->E;
    for (int i = r0; i < r1; i++) {
        size_t o = (row0 + (size_t)i) * E + (size_t)event;
        double shift = theta[i], lg = made__flow_log_scale(g->f->cfg.scale, theta[MADE_CHUNK + i]);
        x[i] = (float)(shift + exp(lg) * (double)g->in[o]);
        g->f->ls[o] = lg;
    }
}

/* TFP's way: E passes; after pass d the event of degree d is known. */
static int generate_naive(made_flow *f, int k, float *out, const float *in, const float *c, int n)
{
    const int E = f->E;
    made_model *m = f->layer[k];
    int rc = made_model_degrees(m, 0, f->order);
    if (rc) return rc;
    memset(out, 0, (size_t)n * E * sizeof *out);
    for (int d = 1; d <= E; d++) {
        int j = 0;
        while (f->order[j] != d) j++;
        if ((rc = made_model_forward(m, f->out, out, c, (size_t)n))) return rc;
        for (int i = 0; i < n; i++) {
            size_t o = (size_t)i * E + j;
            double shift = f->out[2 * o], lg = made__flow_log_scale(f->cfg.scale, f->out[2 * o + 1]);
            out[o] = (float)(shift + exp(lg) * (double)in[o]);
            f->ls[o] = lg;
        }
    }
    return MADE_OK;
}

int made__flow_generate(made_flow *f, int k, float *out, const float *in, const float *c, int n,
                        double *ld, made__flow_where w)
{
    int rc;
    if (f->naive) {
        rc = generate_naive(f, k, out, in, c, n);
    } else {
        generate_ctx g = {f, in};
        made__ar_emit emit = {generate_event, NULL, &g, 0};
        rc = made__autoregress(f->layer[k], out, c, (size_t)n, &emit);
    }
    if (rc) {
        made__error_prefix("flow layer %d: ", k);
        return rc;
    }
    add_log_scales(f->ls, n, f->E, 1.0, ld);
    return made__flow_check(f, out, n, w);
}
