/* batchnorm.c - batch normalisation as a bijector (MAF paper, section 3.4),
 * evaluation mode: the running averages stand in for the batch statistics.
 *
 * density direction:  v = (u - mean) / sqrt(variance + eps) * exp(gamma) + beta
 *                     log|dv/du| = sum_j gamma_j - 0.5 log(variance_j + eps)
 * sampling direction: u = (v - beta) * exp(-gamma) * sqrt(variance + eps) + mean */
#include <math.h>

#include "flow/flow.h"

/* Per dimension j: the density direction's scale exp(gamma) / sqrt(var + eps)
 * in log form; returns the row's log-determinant. */
static double log_scale(const made_flow *f, int k, int j)
{
    const float *b = f->bn + (size_t)k * 4 * f->E;
    return (double)b[2 * f->E + j] - 0.5 * log((double)b[f->E + j] + f->cfg.batch_norm_eps);
}

void made__flow_bn_normalise(const made_flow *f, int k, float *out, const float *in, int n,
                             double *ld)
{
    const int E = f->E;
    const float *mean = f->bn + (size_t)k * 4 * E, *beta = mean + 3 * E;
    double total = 0.0;
    for (int j = 0; j < E; j++) total += log_scale(f, k, j);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < E; j++) {
            size_t o = (size_t)i * E + j;
            out[o] = (float)(((double)in[o] - mean[j]) * exp(log_scale(f, k, j)) + beta[j]);
        }
        ld[i] += total;
    }
}

void made__flow_bn_denormalise(const made_flow *f, int k, float *out, const float *in, int n,
                               double *ld)
{
    const int E = f->E;
    const float *mean = f->bn + (size_t)k * 4 * E, *beta = mean + 3 * E;
    double total = 0.0;
    for (int j = 0; j < E; j++) total += log_scale(f, k, j);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < E; j++) {
            size_t o = (size_t)i * E + j;
            out[o] = (float)(((double)in[o] - beta[j]) * exp(-log_scale(f, k, j)) + mean[j]);
        }
        ld[i] -= total;
    }
}
