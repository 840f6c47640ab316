/*
 * flow.h - the flow's internal structure, shared by the files of src/flow.
 *
 * A flow holds K made networks (one per layer), the K-1 permutations between
 * them, optional batch-norm parameters per layer and preprocessing. Every
 * transform runs over rows in chunks of MADE_CHUNK through scratch sized at
 * creation, so no pass allocates.
 *
 * Directions. For each layer there are two primitives:
 *   normalise: out = (in - shift(in)) / g(u(in))             one network pass
 *   generate:  out = shift(out) + g(u(out)) * in             autoregressive
 * and each adds log|d out / d in| to a per-row log-determinant. A MAF layer's
 * inverse (density direction) is normalise and its forward (sampling) is
 * generate; an IAF layer is the other way round.
 */
#ifndef MADE_FLOW_H
#define MADE_FLOW_H

#include <math.h>
#include <stddef.h>

#include "core/internal.h"
#include "io/buf.h"
#include "made.h"
#include "net/model.h"

/* zuko's soft clip bound: log-scales stay inside (-B, B), B = -log(1e-3). */
#define MADE__FLOW_SOFTCLIP_BOUND 6.907755278982137
/* nflows' floor under the softplus scale. */
#define MADE__FLOW_SOFTPLUS_MIN 1e-3

struct made_flow {
    made_flow_config cfg;
    int E, C, K;
    made_model **layer;    /* [K] */
    int *perm;             /* [K-1, E]: P_k, 0-based, y[j] = x[perm[j]] */
    int *explicit_perm;    /* [E] copy of cfg.explicit_permutation, or NULL */
    float *bn;             /* [K, 4, E]: mean, variance, gamma, beta (batch_norm) */
    double *pre_mean, *pre_std; /* [E] (STANDARDIZE) */
    /* Scratch for MADE_CHUNK rows. */
    float *h0, *h1;        /* [CHUNK, E] */
    float *out;            /* [CHUNK, E, 2] one network's outputs */
    double *ls;            /* [CHUNK, E] log-scales of an autoregressive sweep */
    double *ld;            /* [CHUNK] log-determinants */
    int *order;            /* [E] a layer's input order (E-pass reference) */
    int threads;
    int naive;             /* autoregressive direction by E network passes */
    made_model_record record; /* how training ended (net/record.c) */
};

/* Distinct networks: K, or 1 with share_weights (layer[k] all point at it). */
static inline int made__flow_nets(const made_flow *f)
{
    return f->cfg.share_weights ? 1 : f->K;
}

/* log g(u) for the flow's scale function, in double. */
static inline double made__flow_log_scale(made_flow_scale s, double u)
{
    switch (s) {
    case MADE_FLOW_SCALE_SOFTPLUS: {
        double sp = u > 0 ? u + log1p(exp(-u)) : log1p(exp(u));
        return log(sp + MADE__FLOW_SOFTPLUS_MIN);
    }
    case MADE_FLOW_SCALE_SOFTCLIP:
        return u / (1.0 + fabs(u) / MADE__FLOW_SOFTCLIP_BOUND);
    default:
        return u;
    }
}

/* d lg / d u, its derivative (training). */
static inline double made__flow_log_scale_grad(made_flow_scale s, double u)
{
    switch (s) {
    case MADE_FLOW_SCALE_SOFTPLUS: {
        double sp = u > 0 ? u + log1p(exp(-u)) : log1p(exp(u));
        double sig = u > 0 ? 1.0 / (1.0 + exp(-u)) : exp(u) / (1.0 + exp(u));
        return sig / (sp + MADE__FLOW_SOFTPLUS_MIN);
    }
    case MADE_FLOW_SCALE_SOFTCLIP: {
        double d = 1.0 + fabs(u) / MADE__FLOW_SOFTCLIP_BOUND;
        return 1.0 / (d * d);
    }
    default:
        return 1.0;
    }
}

/* Where the chunk is, for error messages: layer k, direction, first row. */
typedef struct made__flow_where {
    int layer;
    const char *what; /* "inverse" / "forward" */
    size_t row0;
} made__flow_where;

/* Layer primitives on n <= MADE_CHUNK rows (layer.c). c is the chunk's
 * conditional rows or NULL. */
int made__flow_normalise(made_flow *f, int k, float *out, const float *in, const float *c, int n,
                         double *ld, made__flow_where w);
int made__flow_generate(made_flow *f, int k, float *out, const float *in, const float *c, int n,
                        double *ld, made__flow_where w);

/* Batch norm of layer k (batchnorm.c), evaluation mode (running averages):
 * normalise is the density direction, denormalise its inverse. */
void made__flow_bn_normalise(const made_flow *f, int k, float *out, const float *in, int n,
                             double *ld);
void made__flow_bn_denormalise(const made_flow *f, int k, float *out, const float *in, int n,
                               double *ld);

/* Permutation P_k (permute.c): forward y[j] = x[perm[j]], inverse its undoing. */
void made__flow_permute(const int *perm, int e, float *y, const float *x, int n);
void made__flow_unpermute(const int *perm, int e, float *x, const float *y, int n);
/* Builds the K-1 permutations the config asks for into f->perm. */
void made__flow_build_permutations(made_flow *f);

/* Preprocessing (preprocess.c): data d -> flow space y with log|dy/dd| added
 * to ld, and back. */
int made__flow_pre_forward(const made_flow *f, float *y, const float *d, int n, double *ld,
                           size_t row0);
void made__flow_pre_inverse(const made_flow *f, float *d, const float *y, int n);

/* Reports the first non-finite value of v[n, E] as MADE_E_NONFINITE naming
 * the layer, direction, row and dimension. */
int made__flow_check(const made_flow *f, const float *v, int n, made__flow_where w);

/* The flow allocated from a validated config, with its networks created (or,
 * with create_layers = 0, left NULL for the loader). */
int made__flow_alloc(made_flow **out, const made_flow_config *cfg, int create_layers);
/* With share_weights, points layer[1..K-1] at layer[0]. */
void made__flow_share(made_flow *f);

/* A flow from a parsed file, fully validated (flow_io.c; made_flow_load reads
 * the file first). */
struct made__st_file;
struct made__st_entry;
int made__flow_read(const struct made__st_file *file, made_flow **out);
/* The same for files of another format name with n_extra more tensors, and
 * the writer with extra tensors and metadata (checkpoints). */
int made__flow_read_ex(const struct made__st_file *file, const char *format, size_t n_extra,
                       made_flow **out);
int made__flow_write(const made_flow *f, const char *path, const char *format,
                     const struct made__st_entry *extra, size_t n_extra,
                     const char *const *xkeys, const char *const *xvals, size_t n_xmeta);
/* A flow's trainer (train.c), used by made_flow_trainer_create and the
 * resume (checkpoint.c). */
int made__flow_trainer_alloc(made_trainer **out, made_flow *f, const made_train_config *cfg);
/* The IAF layer's adjoint (iaf_grad.c): see there. */
struct made__work;
void made__flow_iaf_adjoint(const made_flow *f, made_model *m, struct made__work *w,
                            const float *H, const float *S, const float *G, int n, float *lam,
                            float *dxs);
/* The format name of a flow's checkpoints. */
#define MADE__FLOW_CKPT_FORMAT "made-flow-checkpoint"
/* The config as JSON (flow_io.c). */
int made__flow_config_json(const made_flow_config *cfg, made__buf *b);

/* Test hook: run the autoregressive direction by E network passes (TFP's
 * algorithm) instead of the one-pass sweep. */
void made__flow_set_naive(made_flow *f, int naive);

#endif
