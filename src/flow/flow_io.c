/* flow_io.c - flow files: one safetensors file holding every layer's network
 * under "flow.{k}." (the same tensors as a model file), the permutations, the
 * batch-norm parameters, the preprocessing and the stack's config JSON
 * (docs/model-format.md). Loading validates everything, as for models. */
#include <math.h>
#include <string.h>

#include "net/config.h"
#include "flow/flow.h"
#include "io/json.h"
#include "io/safetensors.h"
#include "net/record.h"

#define FLOW_FORMAT "made-flow"
#define FLOW_FORMAT_VERSION "1"

static const char *const preprocess_names[] = {"none", "standardize", "logit"};

int made__flow_config_json(const made_flow_config *cfg, made__buf *b)
{
    int len = made_config_to_json(&cfg->layer, NULL, 0);
    if (len < 0) return len;
    char *layer = made__malloc((size_t)len + 1);
    if (!layer) return MADE_E_NOMEM;
    int rc = made_config_to_json(&cfg->layer, layer, (size_t)len + 1);
    if (rc < 0) {
        made__free(layer);
        return rc;
    }
    made__buf_printf(b,
                     "{\"kind\":\"%s\",\"num_layers\":%d,\"permutation\":\"%s\","
                     "\"permutation_seed\":%u,\"scale\":\"%s\",\"batch_norm\":%s,"
                     "\"batch_norm_eps\":%.17g,\"batch_norm_momentum\":%.17g,"
                     "\"preprocess\":\"%s\",\"logit_lambda\":%.17g,\"dequantize_levels\":%d,"
                     "%s\"layer\":%s}",
                     made_flow_kind_name(cfg->kind), cfg->num_layers,
                     made_flow_permutation_name(cfg->permutation), (unsigned)cfg->permutation_seed,
                     made_flow_scale_name(cfg->scale), cfg->batch_norm ? "true" : "false",
                     cfg->batch_norm_eps, cfg->batch_norm_momentum,
                     preprocess_names[cfg->preprocess], cfg->logit_lambda, cfg->dequantize_levels,
                     cfg->share_weights ? "\"share_weights\":true," : "", layer);
    made__free(layer);
    return b->failed ? MADE_E_NOMEM : MADE_OK;
}

/* With share_weights the one network's tensors are "flow.shared.*". */
#define SHARED_PREFIX "flow.shared."

static const char *const bn_names[4] = {"mean", "variance", "gamma", "beta"};

/* Every tensor of the flow, in file order. */
static int flow_entries(const made_flow *f, made__save_list *s)
{
    const size_t E = (size_t)f->E;
    char prefix[32], name[64];
    int rc = MADE_OK;
    if (f->cfg.share_weights) rc = made__model_entries(f->layer[0], SHARED_PREFIX, s);
    for (int k = 0; k < f->K && !rc; k++) {
        snprintf(prefix, sizeof prefix, "flow.%d.", k);
        if (!f->cfg.share_weights) rc = made__model_entries(f->layer[k], prefix, s);
        if (!rc && k < f->K - 1)
            rc = made__save_list_add(s, prefix, "permutation", MADE__ST_I32, 1, E, 0,
                                     f->perm + (size_t)k * E);
        for (int i = 0; i < 4 && !rc && f->cfg.batch_norm; i++) {
            snprintf(name, sizeof name, "batchnorm.%s", bn_names[i]);
            rc = made__save_list_add(s, prefix, name, MADE__ST_F32, 1, E, 0,
                                     f->bn + ((size_t)k * 4 + (size_t)i) * E);
        }
    }
    if (!rc && f->cfg.preprocess == MADE_FLOW_PRE_STANDARDIZE) {
        rc = made__save_list_add(s, "", "preprocess.mean", MADE__ST_F64, 1, E, 0, f->pre_mean);
        if (!rc) rc = made__save_list_add(s, "", "preprocess.std", MADE__ST_F64, 1, E, 0, f->pre_std);
    }
    return rc;
}

int made__flow_write(const made_flow *f, const char *path, const char *format,
                     const made__st_entry *extra, size_t n_extra, const char *const *xkeys,
                     const char *const *xvals, size_t n_xmeta)
{
    made__save_list s = {0};
    made__buf cfg, rec;
    made__buf_init(&cfg);
    made__buf_init(&rec);
    int rc = flow_entries(f, &s);
    for (size_t i = 0; i < n_extra && !rc; i++)
        rc = made__save_list_add(&s, "", extra[i].name, extra[i].dtype, extra[i].ndim,
                                 extra[i].shape[0], extra[i].shape[1], extra[i].data);
    if (!rc) rc = made__flow_config_json(&f->cfg, &cfg);
    if (!rc) {
        const char *keys[5 + MADE__MAX_EXTRA_META] = {"format", "format_version", "config",
                                                      "made_version"};
        const char *vals[5 + MADE__MAX_EXTRA_META] = {format, FLOW_FORMAT_VERSION, cfg.data,
                                                      MADE_VERSION_STRING};
        size_t nk = 4;
        /* The record only when there is something to record, as for models. */
        if (!made__record_is_default(&f->record)) {
            made__buf_printf(&rec, "{");
            made__record_to_json(&f->record, &rec);
            made__buf_printf(&rec, "}");
            if (rec.failed) rc = MADE_E_NOMEM;
            keys[nk] = "record";
            vals[nk++] = rec.data;
        }
        size_t nx = n_xmeta < MADE__MAX_EXTRA_META ? n_xmeta : MADE__MAX_EXTRA_META;
        for (size_t i = 0; i < nx; i++) {
            keys[nk + i] = xkeys[i];
            vals[nk + i] = xvals[i];
        }
        if (!rc) rc = made__st_write(path, s.entries, s.count, keys, vals, nk + nx);
    }
    made__buf_free(&cfg);
    made__buf_free(&rec);
    made__save_list_free(&s);
    return rc;
}

int made_flow_save(const made_flow *f, const char *path)
{
    made__clear_error();
    if (!f || !path) return made__error(MADE_E_INVAL, "flow save: NULL argument");
    return made__flow_write(f, path, FLOW_FORMAT, NULL, 0, NULL, NULL, 0);
}

/* ---- reading the config ---------------------------------------------------- */

static int get_member(const made__json *j, const char *key, made__json_type type,
                      const made__json **out)
{
    const made__json *v = made__json_get(j, key);
    if (!v || v->type != type)
        return made__error(MADE_E_FORMAT, "flow config: \"%s\" missing or of the wrong type", key);
    *out = v;
    return MADE_OK;
}

static int get_name(const made__json *j, const char *key, const char *const *names, int n,
                    int *out)
{
    const made__json *v = NULL;
    int rc = get_member(j, key, MADE__JSON_STRING, &v);
    if (rc) return rc;
    for (int i = 0; i < n; i++)
        if (strcmp(v->string, names[i]) == 0) {
            *out = i;
            return MADE_OK;
        }
    return made__error(MADE_E_FORMAT, "flow config: \"%s\" is \"%s\", not a known value", key,
                       v->string);
}

static int get_int(const made__json *j, const char *key, long long lo, long long hi, long long *out)
{
    const made__json *v = NULL;
    int rc = get_member(j, key, MADE__JSON_NUMBER, &v);
    if (rc) return rc;
    if (!v->is_integer || v->integer < lo || v->integer > hi)
        return made__error(MADE_E_FORMAT, "flow config: \"%s\" must be an integer in %lld..%lld",
                           key, lo, hi);
    *out = v->integer;
    return MADE_OK;
}

/* The flow config from JSON; *order gets the layer's explicit input order (to
 * free) when it has one. Strict: unknown keys are rejected. */
static int config_from_json(const made__json *j, made_flow_config *cfg, int **order)
{
    static const char *const known[] = {"kind", "num_layers", "permutation", "permutation_seed",
                                        "scale", "batch_norm", "batch_norm_eps",
                                        "batch_norm_momentum", "preprocess", "logit_lambda",
                                        "dequantize_levels", "share_weights", "layer"};
    static const char *const kinds[] = {"maf", "iaf"};
    static const char *const perms[] = {"reverse", "random", "explicit", "identity"};
    static const char *const scales[] = {"exp", "softplus", "softclip"};
    made_flow_config_default(cfg);
    if (!j || j->type != MADE__JSON_OBJECT)
        return made__error(MADE_E_FORMAT, "flow config: not a JSON object");
    for (size_t i = 0; i < j->count; i++) {
        size_t n = 0;
        while (n < sizeof known / sizeof *known && strcmp(j->keys[i], known[n]) != 0) n++;
        if (n == sizeof known / sizeof *known)
            return made__error(MADE_E_FORMAT, "flow config: unknown key \"%s\"", j->keys[i]);
    }
    int v, rc;
    long long n;
    const made__json *m = NULL;
    if ((rc = get_name(j, "kind", kinds, 2, &v))) return rc;
    cfg->kind = (made_flow_kind)v;
    if ((rc = get_int(j, "num_layers", 1, 1024, &n))) return rc;
    cfg->num_layers = (int)n;
    if ((rc = get_name(j, "permutation", perms, 4, &v))) return rc;
    cfg->permutation = (made_flow_permutation)v;
    if ((rc = get_int(j, "permutation_seed", 0, 4294967295LL, &n))) return rc;
    cfg->permutation_seed = (uint32_t)n;
    if ((rc = get_name(j, "scale", scales, 3, &v))) return rc;
    cfg->scale = (made_flow_scale)v;
    if ((rc = get_member(j, "batch_norm", MADE__JSON_BOOL, &m))) return rc;
    cfg->batch_norm = m->boolean;
    if ((rc = get_member(j, "batch_norm_eps", MADE__JSON_NUMBER, &m))) return rc;
    cfg->batch_norm_eps = m->number;
    if ((rc = get_member(j, "batch_norm_momentum", MADE__JSON_NUMBER, &m))) return rc;
    cfg->batch_norm_momentum = m->number;
    if ((rc = get_name(j, "preprocess", preprocess_names, 3, &v))) return rc;
    cfg->preprocess = (made_flow_preprocess)v;
    if ((rc = get_member(j, "logit_lambda", MADE__JSON_NUMBER, &m))) return rc;
    cfg->logit_lambda = m->number;
    if ((rc = get_int(j, "dequantize_levels", 0, 65536, &n))) return rc;
    cfg->dequantize_levels = (int)n;
    /* Optional (written only when true), so files without it stay readable. */
    if (made__json_get(j, "share_weights")) {
        if ((rc = get_member(j, "share_weights", MADE__JSON_BOOL, &m))) return rc;
        cfg->share_weights = m->boolean;
    }
    if ((rc = get_member(j, "layer", MADE__JSON_OBJECT, &m))) return rc;
    if ((rc = made__config_from_json(m, &cfg->layer, order))) {
        made__error_prefix("flow layer ");
        return rc;
    }
    return MADE_OK;
}

/* ---- reading the tensors ---------------------------------------------------- */

static int32_t get_i32(const unsigned char *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (int32_t)v;
}

/* Before anything is sized from the config: every layer's input order is in
 * the file with E entries, so the flow's memory is bounded by the file's size. */
static int check_layers_present(const made__st_file *f, const made_flow_config *cfg)
{
    char name[64];
    int rc = MADE_OK;
    for (int k = 0; k < (cfg->share_weights ? 1 : cfg->num_layers); k++) {
        if (cfg->share_weights) snprintf(name, sizeof name, SHARED_PREFIX "input_order");
        else snprintf(name, sizeof name, "flow.%d.input_order", k);
        if (!made__st_expect(f, name, MADE__ST_I32, 1, (size_t)cfg->layer.event_size, 0, &rc))
            return rc;
    }
    return MADE_OK;
}

/* flow.0.permutation is the explicit permutation (all gaps hold the same). */
static int read_explicit(const made__st_file *f, int E, int K, int *perm)
{
    int rc = MADE_OK;
    for (int j = 0; j < E; j++) perm[j] = j;
    if (K < 2) return MADE_OK;
    const made__st_tensor *t = made__st_expect(f, "flow.0.permutation", MADE__ST_I32, 1,
                                               (size_t)E, 0, &rc);
    if (!t) return rc;
    for (int j = 0; j < E; j++) perm[j] = get_i32(t->data + 4 * (size_t)j);
    return MADE_OK;
}

static int read_permutation(made_flow *f, const made__st_file *file, int k)
{
    char name[64];
    int rc = MADE_OK;
    snprintf(name, sizeof name, "flow.%d.permutation", k);
    const made__st_tensor *t = made__st_expect(file, name, MADE__ST_I32, 1, (size_t)f->E, 0, &rc);
    if (!t) return rc;
    const int *want = f->perm + (size_t)k * f->E;
    for (int j = 0; j < f->E; j++)
        if (get_i32(t->data + 4 * (size_t)j) != want[j])
            return made__error(MADE_E_FORMAT, "tensor '%s': entry %d is %d but the config (%s) "
                               "gives %d", name, j, get_i32(t->data + 4 * (size_t)j),
                               made_flow_permutation_name(f->cfg.permutation), want[j]);
    return MADE_OK;
}

static int read_batchnorm(made_flow *f, const made__st_file *file, int k)
{
    char name[64];
    int rc = MADE_OK;
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "flow.%d.batchnorm.%s", k, bn_names[i]);
        const made__st_tensor *t = made__st_expect(file, name, MADE__ST_F32, 1, (size_t)f->E, 0, &rc);
        if (!t) return rc;
        float *dst = f->bn + ((size_t)k * 4 + (size_t)i) * f->E;
        memcpy(dst, t->data, (size_t)f->E * sizeof *dst);
        for (int j = 0; j < f->E; j++)
            if (!isfinite(dst[j]) || (i == 1 && !(dst[j] >= 0)))
                return made__error(MADE_E_FORMAT, "tensor '%s': element %d is %g", name, j,
                                   (double)dst[j]);
    }
    return MADE_OK;
}

static int read_standardize(made_flow *f, const made__st_file *file)
{
    int rc = MADE_OK;
    const char *names[2] = {"preprocess.mean", "preprocess.std"};
    double *dst[2] = {f->pre_mean, f->pre_std};
    for (int i = 0; i < 2; i++) {
        const made__st_tensor *t = made__st_expect(file, names[i], MADE__ST_F64, 1, (size_t)f->E, 0, &rc);
        if (!t) return rc;
        memcpy(dst[i], t->data, (size_t)f->E * sizeof(double));
        for (int j = 0; j < f->E; j++)
            if (!isfinite(dst[i][j]) || (i == 1 && !(dst[i][j] > 0)))
                return made__error(MADE_E_FORMAT, "tensor '%s': element %d is %g", names[i], j,
                                   dst[i][j]);
    }
    return MADE_OK;
}

/* Every layer's network, permutation and batch norm, and the exact count
 * (n_extra more tensors for checkpoints). */
static int read_tensors(made_flow *f, const made__st_file *file, size_t n_extra)
{
    size_t total = 0;
    char prefix[32];
    for (int k = 0; k < f->K; k++) {
        int rc;
        if (k < made__flow_nets(f)) {
            made_config lc = f->cfg.layer;
            lc.seed = f->cfg.layer.seed + (uint32_t)k;
            if (f->cfg.share_weights) snprintf(prefix, sizeof prefix, SHARED_PREFIX);
            else snprintf(prefix, sizeof prefix, "flow.%d.", k);
            size_t count = 0;
            if ((rc = made__model_read_tensors(file, &lc, prefix, &f->layer[k], &count))) return rc;
            total += count;
        }
        if (k < f->K - 1) {
            if ((rc = read_permutation(f, file, k))) return rc;
            total++;
        }
        if (f->cfg.batch_norm) {
            if ((rc = read_batchnorm(f, file, k))) return rc;
            total += 4;
        }
    }
    if (f->cfg.preprocess == MADE_FLOW_PRE_STANDARDIZE) {
        int rc = read_standardize(f, file);
        if (rc) return rc;
        total += 2;
    }
    total += n_extra;
    if (file->count != total)
        return made__error(MADE_E_FORMAT, "the file has %zu tensors, a flow with this config has "
                           "%zu", file->count, total);
    return MADE_OK;
}

int made__flow_read(const made__st_file *file, made_flow **out)
{
    return made__flow_read_ex(file, FLOW_FORMAT, 0, out);
}

int made__flow_read_ex(const made__st_file *file, const char *format, size_t n_extra,
                       made_flow **out)
{
    *out = NULL;
    const char *fmt = made__st_meta(file, "format"), *ver = made__st_meta(file, "format_version");
    const char *text = made__st_meta(file, "config");
    if (!fmt || strcmp(fmt, format) != 0)
        return made__error(MADE_E_FORMAT, "not a %s file (metadata \"format\" is %s%s%s)",
                           strcmp(format, FLOW_FORMAT) == 0 ? "made flow" : format,
                           fmt ? "\"" : "", fmt ? fmt : "missing", fmt ? "\"" : "");
    if (!ver || strcmp(ver, FLOW_FORMAT_VERSION) != 0)
        return made__error(MADE_E_FORMAT, "format_version %s is not supported (made %s reads "
                           "version %s)", ver ? ver : "(missing)", MADE_VERSION_STRING,
                           FLOW_FORMAT_VERSION);
    if (!text) return made__error(MADE_E_FORMAT, "metadata has no \"config\"");
    made__json *j = NULL;
    int *order = NULL, *explicit_perm = NULL;
    made_flow *f = NULL;
    made_flow_config cfg;
    int rc = made__json_parse(text, strlen(text), &j);
    if (!rc) rc = config_from_json(j, &cfg, &order);
    if (!rc) rc = check_layers_present(file, &cfg);
    if (!rc && cfg.permutation == MADE_FLOW_PERM_EXPLICIT) {
        explicit_perm = made__malloc((size_t)cfg.layer.event_size * sizeof *explicit_perm);
        rc = explicit_perm ? read_explicit(file, cfg.layer.event_size, cfg.num_layers, explicit_perm)
                           : MADE_E_NOMEM;
        cfg.explicit_permutation = explicit_perm;
    }
    if (!rc && made_flow_config_validate(&cfg)) {
        made__error_prefix("config: ");
        rc = MADE_E_FORMAT;
    }
    if (!rc) rc = made__flow_alloc(&f, &cfg, 0);
    if (!rc) rc = read_tensors(f, file, n_extra);
    if (!rc) made__flow_share(f);
    const char *rec = made__st_meta(file, "record");
    if (!rc && rec) rc = made__record_from_json(rec, &f->record);
    if (!rc && cfg.layer.input_order == MADE_ORDER_EXPLICIT)
        f->cfg.layer.explicit_order = made_model_config(f->layer[0])->explicit_order;
    if (rc) {
        made_flow_free(f);
        f = NULL;
    }
    made__free(order);
    made__free(explicit_perm);
    made__json_free(j);
    *out = f;
    return rc;
}

int made_flow_load(made_flow **out, const char *path)
{
    made__clear_error();
    if (!out || !path) return made__error(MADE_E_INVAL, "flow load: NULL argument");
    *out = NULL;
    made__st_file file;
    int rc = made__st_read(&file, path);
    if (rc) return rc;
    rc = made__flow_read(&file, out);
    if (rc) made__error_prefix("%s: ", path);
    made__st_free(&file);
    return rc;
}

int made_file_is_flow(const char *path)
{
    made__clear_error();
    if (!path) return made__error(MADE_E_INVAL, "NULL path");
    made__st_file file;
    int rc = made__st_read(&file, path);
    if (rc) return rc;
    const char *fmt = made__st_meta(&file, "format");
    int is_flow = fmt && (strcmp(fmt, FLOW_FORMAT) == 0 || strcmp(fmt, MADE__FLOW_CKPT_FORMAT) == 0);
    made__st_free(&file);
    return is_flow;
}
