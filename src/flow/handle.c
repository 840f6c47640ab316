/* handle.c - the flow handle: configuration, creation, accessors. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "core/names.h"
#include "flow/flow.h"
#include "net/record.h"

static const char *const kind_names[] = {[MADE_FLOW_MAF] = "maf", [MADE_FLOW_IAF] = "iaf"};
static const made__names kind_table = {"flow kind", kind_names, 2, 2, NULL, NULL, "unknown"};
static const char *const perm_names[] = {
    [MADE_FLOW_PERM_REVERSE] = "reverse", [MADE_FLOW_PERM_RANDOM] = "random",
    [MADE_FLOW_PERM_EXPLICIT] = "explicit", [MADE_FLOW_PERM_IDENTITY] = "identity"};
static const made__names perm_table = {"permutation", perm_names, 4, 4, NULL, NULL, "unknown"};
static const char *const scale_names[] = {[MADE_FLOW_SCALE_EXP] = "exp",
                                          [MADE_FLOW_SCALE_SOFTPLUS] = "softplus",
                                          [MADE_FLOW_SCALE_SOFTCLIP] = "softclip"};
static const made__names scale_table = {"scale", scale_names, 3, 3, NULL, NULL, "unknown"};

MADE__NAME_FUNCTIONS(flow_kind, made_flow_kind, kind_table)
MADE__NAME_FUNCTIONS(flow_permutation, made_flow_permutation, perm_table)
MADE__NAME_FUNCTIONS(flow_scale, made_flow_scale, scale_table)

void made_flow_config_default(made_flow_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = MADE_FLOW_MAF;
    cfg->num_layers = 1;
    made_config_default(&cfg->layer);
    cfg->layer.params = 2;
    cfg->permutation = MADE_FLOW_PERM_REVERSE;
    cfg->scale = MADE_FLOW_SCALE_EXP;
    cfg->batch_norm_eps = 1e-5;
    cfg->batch_norm_momentum = 0.9;
    cfg->preprocess = MADE_FLOW_PRE_NONE;
    cfg->logit_lambda = 1e-6;
}

/* The largest stack a flow file may describe: far beyond any use, small
 * enough that a corrupt count cannot ask for absurd memory. */
#define MAX_LAYERS 1024

int made_flow_config_validate(const made_flow_config *cfg)
{
    made__clear_error();
    if (!cfg) return made__error(MADE_E_INVAL, "flow config: NULL");
    if ((unsigned)cfg->kind > MADE_FLOW_IAF)
        return made__error(MADE_E_INVAL, "flow kind: unknown value %d", (int)cfg->kind);
    if (cfg->num_layers < 1 || cfg->num_layers > MAX_LAYERS)
        return made__error(MADE_E_INVAL, "num_layers: %d (expected 1..%d)", cfg->num_layers,
                           MAX_LAYERS);
    const made_config *l = &cfg->layer;
    int rc = made_config_validate(l);
    if (rc) {
        made__error_prefix("flow layer: ");
        return rc;
    }
    if (l->params != 2)
        return made__error(MADE_E_INVAL, "flow layer: params is %d, but a flow layer needs 2 "
                           "(shift and log-scale)", l->params);
    if (l->dist.kind != MADE_DIST_NONE)
        return made__error(MADE_E_INVAL, "flow layer: a flow layer's network has no output "
                           "distribution (the flow's base is the standard normal)");
    if (l->num_masks != 1)
        return made__error(MADE_E_INVAL, "flow layer: num_masks is %d; flows use one mask set",
                           l->num_masks);
    if ((unsigned)cfg->permutation > MADE_FLOW_PERM_IDENTITY)
        return made__error(MADE_E_INVAL, "permutation: unknown kind %d", (int)cfg->permutation);
    const int E = l->event_size;
    if (cfg->permutation == MADE_FLOW_PERM_EXPLICIT) {
        if (!cfg->explicit_permutation)
            return made__error(MADE_E_INVAL, "permutation: explicit, but explicit_permutation "
                               "is NULL");
        for (int j = 0; j < E; j++) {
            int v = cfg->explicit_permutation[j];
            if (v < 0 || v >= E)
                return made__error(MADE_E_INVAL, "permutation: entry %d is %d (expected a "
                                   "0-based permutation of 0..%d)", j, v, E - 1);
            for (int i = 0; i < j; i++)
                if (cfg->explicit_permutation[i] == v)
                    return made__error(MADE_E_INVAL, "permutation: %d appears twice (entries "
                                       "%d and %d)", v, i, j);
        }
    }
    if ((unsigned)cfg->scale > MADE_FLOW_SCALE_SOFTCLIP)
        return made__error(MADE_E_INVAL, "scale: unknown kind %d", (int)cfg->scale);
    if (cfg->batch_norm != 0 && cfg->batch_norm != 1)
        return made__error(MADE_E_INVAL, "batch_norm: %d (expected 0 or 1)", cfg->batch_norm);
    if (!(cfg->batch_norm_eps > 0 && cfg->batch_norm_eps < 1))
        return made__error(MADE_E_INVAL, "batch_norm_eps: %g (expected in (0, 1))",
                           cfg->batch_norm_eps);
    if (!(cfg->batch_norm_momentum >= 0 && cfg->batch_norm_momentum < 1))
        return made__error(MADE_E_INVAL, "batch_norm_momentum: %g (expected in [0, 1))",
                           cfg->batch_norm_momentum);
    if (cfg->share_weights != 0 && cfg->share_weights != 1)
        return made__error(MADE_E_INVAL, "share_weights: %d (expected 0 or 1)", cfg->share_weights);
    if ((unsigned)cfg->preprocess > MADE_FLOW_PRE_LOGIT)
        return made__error(MADE_E_INVAL, "preprocess: unknown kind %d", (int)cfg->preprocess);
    if (cfg->dequantize_levels != 0 &&
        (cfg->dequantize_levels < 2 || cfg->dequantize_levels > 65536 ||
         cfg->preprocess != MADE_FLOW_PRE_LOGIT))
        return made__error(MADE_E_INVAL, "dequantize_levels: %d (expected 0, or 2..65536 with the "
                           "logit preprocessing)", cfg->dequantize_levels);
    if (!(cfg->logit_lambda >= 0 && cfg->logit_lambda < 0.5))
        return made__error(MADE_E_INVAL, "logit_lambda: %g (expected in [0, 0.5))",
                           cfg->logit_lambda);
    return MADE_OK;
}

void made_flow_free(made_flow *f)
{
    if (!f) return;
    for (int k = 0; f->layer && k < made__flow_nets(f); k++) made_model_free(f->layer[k]);
    made__free(f->layer);
    made__free(f->perm);
    made__free(f->explicit_perm);
    made__free(f->bn);
    made__free(f->pre_mean);
    made__free(f->pre_std);
    made__free(f->h0);
    made__free(f->h1);
    made__free(f->out);
    made__free(f->ls);
    made__free(f->ld);
    made__free(f->order);
    made__free(f);
}

/* Batch norm starts as the identity: mean 0, variance 1 - eps (so that
 * sqrt(variance + eps) = 1), gamma 0, beta 0. */
static void bn_identity(made_flow *f)
{
    const int E = f->E;
    for (int k = 0; k < f->K; k++) {
        float *b = f->bn + (size_t)k * 4 * E;
        for (int j = 0; j < E; j++) {
            b[j] = 0.0f;
            b[E + j] = (float)(1.0 - f->cfg.batch_norm_eps);
            b[2 * E + j] = 0.0f;
            b[3 * E + j] = 0.0f;
        }
    }
}

int made__flow_alloc(made_flow **out, const made_flow_config *cfg, int create_layers)
{
    *out = NULL;
    int rc = made_flow_config_validate(cfg);
    if (rc) return rc;
    made_flow *f = made__calloc(1, sizeof *f);
    if (!f) return MADE_E_NOMEM;
    f->cfg = *cfg;
    f->cfg.explicit_permutation = NULL;
    f->cfg.layer.explicit_order = NULL;
    f->K = cfg->num_layers;
    f->E = cfg->layer.event_size;
    f->C = cfg->layer.conditional_size;
    f->threads = 1;
    const size_t E = (size_t)f->E, K = (size_t)f->K, R = MADE_CHUNK;
    f->layer = made__calloc(K, sizeof *f->layer);
    f->perm = made__malloc((K > 1 ? K - 1 : 1) * E * sizeof *f->perm);
    f->bn = cfg->batch_norm ? made__malloc(K * 4 * E * sizeof *f->bn) : NULL;
    f->pre_mean = made__malloc(E * sizeof *f->pre_mean);
    f->pre_std = made__malloc(E * sizeof *f->pre_std);
    f->h0 = made__malloc(R * E * sizeof(float));
    f->h1 = made__malloc(R * E * sizeof(float));
    f->out = made__malloc(R * E * 2 * sizeof(float));
    f->ls = made__malloc(R * E * sizeof(double));
    f->ld = made__malloc(R * sizeof(double));
    f->order = made__malloc(E * sizeof(int));
    if (cfg->permutation == MADE_FLOW_PERM_EXPLICIT) {
        f->explicit_perm = made__malloc(E * sizeof(int));
        if (f->explicit_perm) {
            memcpy(f->explicit_perm, cfg->explicit_permutation, E * sizeof(int));
            f->cfg.explicit_permutation = f->explicit_perm;
        }
    }
    if (!f->layer || !f->perm || (cfg->batch_norm && !f->bn) || !f->pre_mean || !f->pre_std ||
        !f->h0 || !f->h1 || !f->out || !f->ls || !f->ld || !f->order ||
        (cfg->permutation == MADE_FLOW_PERM_EXPLICIT && !f->explicit_perm)) {
        made_flow_free(f);
        return MADE_E_NOMEM;
    }
    for (size_t j = 0; j < E; j++) {
        f->pre_mean[j] = 0.0;
        f->pre_std[j] = 1.0;
    }
    if (f->bn) bn_identity(f);
    made__flow_build_permutations(f);
    made__record_default(&f->record);
    for (int k = 0; create_layers && k < made__flow_nets(f); k++) {
        made_config lc = cfg->layer;
        lc.seed = cfg->layer.seed + (uint32_t)k; /* a fresh network per layer */
        rc = made_model_create(&f->layer[k], &lc);
        if (rc) {
            made__error_prefix("flow layer %d: ", k);
            made_flow_free(f);
            return rc;
        }
    }
    made__flow_share(f);
    if (create_layers && cfg->layer.input_order == MADE_ORDER_EXPLICIT)
        f->cfg.layer.explicit_order = made_model_config(f->layer[0])->explicit_order;
    *out = f;
    return MADE_OK;
}

void made__flow_share(made_flow *f)
{
    for (int k = 1; f->cfg.share_weights && k < f->K; k++) f->layer[k] = f->layer[0];
}

int made_flow_create(made_flow **out, const made_flow_config *cfg)
{
    made__clear_error();
    if (!out) return made__error(MADE_E_INVAL, "flow: out is NULL");
    return made__flow_alloc(out, cfg, 1);
}

const made_flow_config *made_flow_get_config(const made_flow *f) { return f ? &f->cfg : NULL; }

made_model *made_flow_layer(made_flow *f, int k)
{
    return f && k >= 0 && k < f->K ? f->layer[k] : NULL;
}

int made_flow_get_permutation(const made_flow *f, int k, int *perm)
{
    made__clear_error();
    if (!f || !perm) return made__error(MADE_E_INVAL, "permutation: NULL argument");
    if (k < 0 || k >= f->K - 1)
        return made__error(MADE_E_INVAL, "permutation: %d is not between two layers (0..%d)", k,
                           f->K - 2);
    memcpy(perm, f->perm + (size_t)k * f->E, (size_t)f->E * sizeof *perm);
    return MADE_OK;
}

static int bn_check(const made_flow *f, int k)
{
    if (!f) return made__error(MADE_E_INVAL, "batch norm: flow is NULL");
    if (!f->cfg.batch_norm)
        return made__error(MADE_E_INVAL, "batch norm: the flow has no batch normalisation");
    if (k < 0 || k >= f->K)
        return made__error(MADE_E_INVAL, "batch norm: layer %d out of range (0..%d)", k, f->K - 1);
    return MADE_OK;
}

int made_flow_get_batchnorm(const made_flow *f, int k, float *mean, float *variance, float *gamma,
                            float *beta)
{
    made__clear_error();
    int rc = bn_check(f, k);
    if (rc) return rc;
    const size_t E = (size_t)f->E;
    const float *b = f->bn + (size_t)k * 4 * E;
    float *dst[4] = {mean, variance, gamma, beta};
    for (int i = 0; i < 4; i++)
        if (dst[i]) memcpy(dst[i], b + i * E, E * sizeof(float));
    return MADE_OK;
}

int made_flow_set_batchnorm(made_flow *f, int k, const float *mean, const float *variance,
                            const float *gamma, const float *beta)
{
    made__clear_error();
    int rc = bn_check(f, k);
    if (rc) return rc;
    const size_t E = (size_t)f->E;
    const float *src[4] = {mean, variance, gamma, beta};
    static const char *const names[4] = {"mean", "variance", "gamma", "beta"};
    for (int i = 0; i < 4; i++)
        for (size_t j = 0; src[i] && j < E; j++)
            if (!isfinite(src[i][j]) || (i == 1 && !(src[i][j] >= 0)))
                return made__error(MADE_E_INVAL, "batch norm of layer %d: %s[%zu] is %g", k,
                                   names[i], j, (double)src[i][j]);
    float *b = f->bn + (size_t)k * 4 * E;
    for (int i = 0; i < 4; i++)
        if (src[i]) memcpy(b + i * E, src[i], E * sizeof(float));
    return MADE_OK;
}

int made_flow_get_standardize(const made_flow *f, double *mean, double *std)
{
    made__clear_error();
    if (!f || !mean || !std) return made__error(MADE_E_INVAL, "standardize: NULL argument");
    memcpy(mean, f->pre_mean, (size_t)f->E * sizeof *mean);
    memcpy(std, f->pre_std, (size_t)f->E * sizeof *std);
    return MADE_OK;
}

int made_flow_set_standardize(made_flow *f, const double *mean, const double *std)
{
    made__clear_error();
    if (!f || !mean || !std) return made__error(MADE_E_INVAL, "standardize: NULL argument");
    for (int j = 0; j < f->E; j++)
        if (!isfinite(mean[j]) || !(std[j] > 0 && isfinite(std[j])))
            return made__error(MADE_E_INVAL, "standardize: dimension %d has mean %g and std %g "
                               "(expected finite, std > 0)", j, mean[j], std[j]);
    memcpy(f->pre_mean, mean, (size_t)f->E * sizeof *mean);
    memcpy(f->pre_std, std, (size_t)f->E * sizeof *std);
    return MADE_OK;
}

size_t made_flow_num_params(const made_flow *f)
{
    if (!f) return 0;
    size_t n = 0;
    for (int k = 0; k < made__flow_nets(f); k++) n += made_model_num_params(f->layer[k]);
    if (f->cfg.batch_norm) n += (size_t)f->K * 2 * (size_t)f->E;
    return n;
}

int made_flow_set_threads(made_flow *f, int threads)
{
    made__clear_error();
    if (!f) return made__error(MADE_E_INVAL, "threads: flow is NULL");
    for (int k = 0; k < made__flow_nets(f); k++) {
        int rc = made_model_set_threads(f->layer[k], threads);
        if (rc) return rc;
    }
    f->threads = threads;
    return MADE_OK;
}

void made__flow_set_naive(made_flow *f, int naive) { f->naive = naive; }

int made__flow_check(const made_flow *f, const float *v, int n, made__flow_where w)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < f->E; j++)
            if (!isfinite(v[(size_t)i * f->E + j]))
                return made__error(MADE_E_NONFINITE, "flow layer %d (%s, %s): row %zu, dimension "
                                   "%d is %g", w.layer, made_flow_kind_name(f->cfg.kind), w.what,
                                   w.row0 + (size_t)i + 1, j + 1, (double)v[(size_t)i * f->E + j]);
    return MADE_OK;
}

const made_model_record *made_flow_get_record(const made_flow *f) { return f ? &f->record : NULL; }

int made_flow_set_record(made_flow *f, const made_model_record *r)
{
    made__clear_error();
    if (!f || !r) return made__error(MADE_E_INVAL, "made_flow_set_record: NULL argument");
    int rc = made__record_check(r);
    if (rc == MADE_OK) f->record = *r;
    return rc;
}
