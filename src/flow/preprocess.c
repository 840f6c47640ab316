/* preprocess.c - the data transforms stored with a flow, so densities are
 * those of the original data:
 *   standardize: y = (d - mean) / std,           log|dy/dd| = -sum log std
 *   logit:       p = lambda + (1 - 2 lambda) d / L,  y = log p - log(1 - p),
 *                log|dy/dd| = sum log(1 - 2 lambda) - log L - log p - log(1 - p)
 * (the MAF paper's logit transform of dequantised pixels; L = dequantize_levels,
 * or 1 when the data is already in [0, 1]). */
#include <math.h>

#include "flow/flow.h"

int made__flow_pre_forward(const made_flow *f, float *y, const float *d, int n, double *ld,
                           size_t row0)
{
    const int E = f->E;
    const double lam = f->cfg.logit_lambda;
    const double L = f->cfg.dequantize_levels ? f->cfg.dequantize_levels : 1.0;
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int j = 0; j < E; j++) {
            size_t o = (size_t)i * E + j;
            double v = d[o];
            switch (f->cfg.preprocess) {
            case MADE_FLOW_PRE_STANDARDIZE:
                y[o] = (float)((v - f->pre_mean[j]) / f->pre_std[j]);
                s -= log(f->pre_std[j]);
                break;
            case MADE_FLOW_PRE_LOGIT: {
                if (!(v >= 0 && v <= L))
                    return made__error(MADE_E_DOMAIN, "row %zu, column %d is %g, outside [0, %g] "
                                       "(the range of the logit preprocessing)",
                                       row0 + (size_t)i + 1, j + 1, v, L);
                double p = lam + (1.0 - 2.0 * lam) * (v / L);
                y[o] = (float)(log(p) - log1p(-p));
                s += log1p(-2.0 * lam) - log(L) - log(p) - log1p(-p);
                break;
            }
            default:
                y[o] = (float)v;
            }
        }
        ld[i] += s;
    }
    return MADE_OK;
}

void made__flow_pre_inverse(const made_flow *f, float *d, const float *y, int n)
{
    const int E = f->E;
    const double lam = f->cfg.logit_lambda;
    const double L = f->cfg.dequantize_levels ? f->cfg.dequantize_levels : 1.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < E; j++) {
            size_t o = (size_t)i * E + j;
            double v = y[o];
            switch (f->cfg.preprocess) {
            case MADE_FLOW_PRE_STANDARDIZE:
                d[o] = (float)(v * f->pre_std[j] + f->pre_mean[j]);
                break;
            case MADE_FLOW_PRE_LOGIT:
                d[o] = (float)(L * (1.0 / (1.0 + exp(-v)) - lam) / (1.0 - 2.0 * lam));
                break;
            default:
                d[o] = (float)v;
            }
        }
}
