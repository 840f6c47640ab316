/* model.c - building a model: degrees, the degree-sorted internal layout and
 * the sampling plan (the same layout, listed by degree), parameters, scratch;
 * and getting and setting weights in TFP's layout. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "net/init.h"
#include "net/kernel_select.h"
#include "net/model.h"
#include "net/record.h"

/* A counting sort (stable), so units of equal degree keep TFP's order. */
static int sort_by_degree(int *perm, const int *deg, int n)
{
    int maxd = 0;
    for (int i = 0; i < n; i++)
        if (deg[i] > maxd) maxd = deg[i];
    int *count = made__calloc((size_t)maxd + 2, sizeof *count);
    if (!count) return MADE_E_NOMEM;
    for (int i = 0; i < n; i++) count[deg[i] + 1]++;
    for (int d = 0; d <= maxd; d++) count[d + 1] += count[d];
    for (int i = 0; i < n; i++) perm[count[deg[i]]++] = i;
    made__free(count);
    return MADE_OK;
}

/* Degree of external unit u of layer-of-units l under degree set d. The output
 * units (l = nl) take the degree of their event. */
int made__unit_degree(const made_model *m, const made__degrees *d, int l, int u)
{
    if (l == m->nl) return d->deg[0][u / m->cfg.params];
    return d->deg[l][u];
}

static void internal_mask(const made_model *m, const made__degrees *d, int l, uint8_t *mask)
{
    int in = m->width[l], out = m->width[l + 1];
    int last = l == m->nl - 1;
    for (int r = 0; r < in; r++) {
        int dr = made__unit_degree(m, d, l, m->perm[l][r]);
        for (int c = 0; c < out; c++) {
            int dc = made__unit_degree(m, d, l + 1, m->perm[l + 1][c]);
            mask[(size_t)r * out + c] = last ? dr < dc : dr <= dc;
        }
    }
}

void made__sample_plan(made_model *m)
{
    const made__degrees *d = &m->masks[m->cur_mask];
    const int e = m->cfg.event_size;
    for (int l = 0; l < m->nl; l++) {
        /* l = 0: events (as internal input positions); l >= 1: hidden layer l. */
        int n = m->width[l];
        int *start = m->smp.start[l];
        memset(start, 0, ((size_t)e + 2) * sizeof *start);
        for (int u = 0; u < n; u++) start[made__unit_degree(m, d, l, m->perm[l][u]) + 1]++;
        for (int k = 0; k <= e; k++) start[k + 1] += start[k];
        /* Counting sort by degree (stable). start[] is shifted back afterwards. */
        for (int u = 0; u < n; u++) {
            int deg = made__unit_degree(m, d, l, m->perm[l][u]);
            m->smp.units[l][start[deg]++] = u;
        }
        for (int k = e; k > 0; k--) start[k] = start[k - 1];
        start[0] = 0;
    }
}

int made__check_cond(const made_model *m, const float *c, size_t n, const char *what)
{
    if (m->cfg.conditional_size > 0 && !c && n)
        return made__error(MADE_E_INVAL, "%s: the model is conditional (conditional_size %d), so "
                           "conditional inputs must be given", what, m->cfg.conditional_size);
    if (m->cfg.conditional_size == 0 && c)
        return made__error(MADE_E_INVAL, "%s: conditional inputs given to a model that is not "
                           "conditional", what);
    return MADE_OK;
}

int made__entry_allowed(const made_model *m, int l, int r, int c)
{
    if (m->cfg.num_masks > 1) return m->allowed[l][(size_t)r * m->width[l + 1] + c];
    return r < m->layer[l].kend[c];
}

static void list_weights(made_model *m)
{
    const made_config *cfg = &m->cfg;
    int k = 0;
    for (int l = 0; l < m->nl; l++) {
        int in = m->width[l], out = m->width[l + 1];
        made__weight *w = &m->weights[k++];
        *w = (made__weight){.layer = l, .kind = MADE__KERNEL, .rank = 2, .shape = {in, out}};
        snprintf(w->name, sizeof w->name, "layers.%d.kernel", l);
        if (cfg->use_bias) {
            w = &m->weights[k++];
            *w = (made__weight){.layer = l, .kind = MADE__BIAS, .rank = 1, .shape = {out, 0}};
            snprintf(w->name, sizeof w->name, "layers.%d.bias", l);
        }
        if (m->layer[l].cond) {
            w = &m->weights[k++];
            *w = (made__weight){.layer = l, .kind = MADE__COND_KERNEL, .rank = 2, .shape = {cfg->conditional_size, out}};
            snprintf(w->name, sizeof w->name, "layers.%d.conditional_kernel", l);
        }
    }
    m->n_weights = k;
}

static int sampler_alloc(made_model *m)
{
    const made_config *cfg = &m->cfg;
    made__sampler *s = &m->smp;
    for (int l = 0; l < m->nl; l++) {
        s->units[l] = made__malloc((size_t)m->width[l] * sizeof(int));
        s->start[l] = made__malloc(((size_t)cfg->event_size + 2) * sizeof(int));
        if (!s->units[l] || !s->start[l]) return MADE_E_NOMEM;
    }
    s->ct = made__malloc((size_t)MADE_CHUNK * (cfg->conditional_size ? cfg->conditional_size : 1) *
                         sizeof(float));
    s->rngs = made__malloc((size_t)MADE_CHUNK * sizeof *s->rngs);
    s->theta = made__malloc((size_t)cfg->params * sizeof(float));
    if (!s->ct || !s->rngs || !s->theta) return MADE_E_NOMEM;
    return MADE_OK;
}

static void sampler_free(made__sampler *s)
{
    for (int l = 0; l <= MADE_MAX_HIDDEN; l++) {
        made__free(s->units[l]);
        made__free(s->start[l]);
    }
    made__free(s->ct);
    made__free(s->rngs);
    made__free(s->theta);
}

void made_model_free(made_model *m)
{
    if (!m) return;
    for (int k = 0; m->masks && k < m->cfg.num_masks; k++) made__degrees_free(&m->masks[k]);
    made__free(m->masks);
    for (int l = 0; l <= MADE_MAX_HIDDEN + 1; l++) {
        made__free(m->perm[l]);
        made__free(m->inv[l]);
    }
    for (int l = 0; l <= MADE_MAX_HIDDEN; l++) {
        made__dense_free_packed(&m->layer[l]);
        made__dense_free_packed(&m->eff[l]);
        made__free(m->layer[l].kend);
        made__free(m->layer[l].rstart);
        made__free(m->eff[l].kend);
        made__free(m->eff[l].rstart);
        made__free(m->allowed[l]);
        made__free(m->cur[l]);
        made__free(m->pre[l]);
        made__free(m->post[l]);
    }
    made__free(m->weff);
    sampler_free(&m->smp);
    made__free(m->order);
    made__free(m->params);
    made__free(m->grads);
    made__free(m->segs);
    made__free(m->xs);
    made__free(m);
}

/* Points the layer views into the flat parameter and gradient blocks. */
static void assign_views(made_model *m)
{
    size_t off = 0;
    for (int l = 0; l < m->nl; l++) {
        made__dense *L = &m->layer[l];
        size_t nw = (size_t)L->in * L->out;
        L->W = m->params + off;
        L->gW = m->grads + off;
        off += nw;
        if (m->cfg.use_bias) {
            L->b = m->params + off;
            L->gb = m->grads + off;
            off += (size_t)L->out;
        }
        if (L->cond) {
            L->V = m->params + off;
            L->gV = m->grads + off;
            off += (size_t)L->cond * L->out;
        }
    }
}

/* Selects mask set k for computation when there are several: builds its
 * internal mask and the W * mask view. */
static int select_mask(made_model *m, int k)
{
    made__weights_changed(m); /* the masked view and its packed copy */
    for (int l = 0; l < m->nl; l++) internal_mask(m, &m->masks[k], l, m->cur[l]);
    m->cur_mask = k;
    made__sample_plan(m);
    return MADE_OK;
}

int made_model_set_mask(made_model *m, int k)
{
    made__clear_error();
    if (!m) return made__error(MADE_E_INVAL, "model: NULL");
    if (k < 0 || k >= m->cfg.num_masks)
        return made__error(MADE_E_INVAL, "mask: %d is out of range (the model has %d mask set%s, "
                           "0..%d)", k, m->cfg.num_masks, m->cfg.num_masks == 1 ? "" : "s",
                           m->cfg.num_masks - 1);
    if (m->cfg.num_masks == 1) return MADE_OK;
    return select_mask(m, k);
}

int made_model_mask_index(const made_model *m) { return m ? m->cur_mask : 0; }

void made__weights_changed(made_model *m) { m->packed = m->packed_t = 0; }

static int alloc_layers(made_model *m)
{
    const made_config *cfg = &m->cfg;
    size_t total = 0, weff_total = 0;
    int maxw = m->width[0];
    for (int l = 0; l < m->nl; l++) {
        made__dense *L = &m->layer[l];
        L->in = m->width[l];
        L->out = m->width[l + 1];
        int has_cond = cfg->conditional_size > 0 &&
                       (cfg->conditional_layers == MADE_COND_ALL_LAYERS || l == 0);
        L->cond = has_cond ? cfg->conditional_size : 0;
        size_t nw = (size_t)L->in * L->out;
        total += nw + (cfg->use_bias ? (size_t)L->out : 0) + (size_t)L->cond * L->out;
        weff_total += nw;
        if (L->out > maxw) maxw = L->out;
        L->kend = made__malloc((size_t)L->out * sizeof(int));
        if (made__dense_alloc_packed(L)) return MADE_E_NOMEM;
        L->rstart = made__malloc(((size_t)L->in / MADE_PANEL + 1) * sizeof(int));
        m->pre[l] = made__malloc((size_t)MADE_CHUNK * L->out * sizeof(float));
        if (!L->kend || !L->rstart || !m->pre[l]) return MADE_E_NOMEM;
        if (l < m->nl - 1 && cfg->activation != MADE_ACT_LINEAR) {
            m->post[l] = made__malloc((size_t)MADE_CHUNK * L->out * sizeof(float));
            if (!m->post[l]) return MADE_E_NOMEM;
        }
        if (cfg->num_masks > 1) {
            m->allowed[l] = made__calloc(nw, 1);
            m->cur[l] = made__malloc(nw ? nw : 1);
            m->eff[l] = *L;
            m->eff[l].Wp_mem = m->eff[l].WTp_mem = NULL;
            m->eff[l].kend = made__malloc((size_t)L->out * sizeof(int));
            m->eff[l].rstart = made__calloc((size_t)L->in / MADE_PANEL + 1, sizeof(int));
            if (!m->eff[l].kend || !m->eff[l].rstart || made__dense_alloc_packed(&m->eff[l]) ||
                !m->allowed[l] || !m->cur[l])
                return MADE_E_NOMEM;
            /* The masked view is dense: every row of every column may be read. */
            for (int c = 0; c < L->out; c++) m->eff[l].kend[c] = L->in;
        }
    }
    m->n_params = total;
    m->params = made__calloc(total, sizeof(float));
    m->grads = made__calloc(total, sizeof(float));
    m->xs = made__malloc((size_t)MADE_CHUNK * m->width[0] * sizeof(float));
    if (!m->params || !m->grads || !m->xs) return MADE_E_NOMEM;
    if (sampler_alloc(m)) return MADE_E_NOMEM;
    if (cfg->num_masks > 1) {
        m->weff = made__calloc(weff_total, sizeof(float));
        if (!m->weff) return MADE_E_NOMEM;
        size_t off = 0;
        for (int l = 0; l < m->nl; l++) {
            m->eff[l].W = m->weff + off;
            off += (size_t)m->layer[l].in * m->layer[l].out;
        }
    }
    assign_views(m);
    return MADE_OK;
}

static int build_segments(made_model *m);

/* Builds every mask set's degrees, the internal layout and the staircases. */
static int build_structure(made_model *m)
{
    const made_config *cfg = &m->cfg;
    int rc;
    m->masks = made__calloc((size_t)cfg->num_masks, sizeof *m->masks);
    if (!m->masks) return MADE_E_NOMEM;
    for (int k = 0; k < cfg->num_masks; k++) {
        /* Mask set k sees numpy's global stream after np.random.seed(seed + k). */
        made__mt mt;
        made__mt_seed(&mt, cfg->seed + (uint32_t)k);
        if ((rc = made__degrees_build(&m->masks[k], cfg, &mt))) return rc;
    }
    const made__degrees *d0 = &m->masks[0];
    m->order = made__malloc((size_t)cfg->event_size * sizeof(int));
    if (!m->order) return MADE_E_NOMEM;
    memcpy(m->order, d0->deg[0], (size_t)cfg->event_size * sizeof(int));
    m->cfg.explicit_order = m->order;

    for (int l = 0; l <= m->nl; l++) {
        int n = m->width[l];
        m->perm[l] = made__malloc((size_t)n * sizeof(int));
        m->inv[l] = made__malloc((size_t)n * sizeof(int));
        int *deg = made__malloc((size_t)n * sizeof(int));
        if (!m->perm[l] || !m->inv[l] || !deg) {
            made__free(deg);
            return MADE_E_NOMEM;
        }
        for (int u = 0; u < n; u++) deg[u] = made__unit_degree(m, d0, l, u);
        rc = sort_by_degree(m->perm[l], deg, n);
        made__free(deg);
        if (rc) return rc;
        for (int u = 0; u < n; u++) m->inv[l][m->perm[l][u]] = u;
    }
    if ((rc = alloc_layers(m))) return rc;

    for (int l = 0; l < m->nl; l++) {
        size_t nw = (size_t)m->width[l] * m->width[l + 1];
        uint8_t *mask = made__malloc(nw ? nw : 1);
        if (!mask) return MADE_E_NOMEM;
        internal_mask(m, d0, l, mask);
        int stair = made__dense_staircase(&m->layer[l], mask);
        made__free(mask);
        /* Sorting by degree makes every mask a staircase; anything else is a bug. */
        assert(stair == 0);
        (void)stair;
        if (cfg->num_masks > 1) {
            for (int k = 0; k < cfg->num_masks; k++) {
                internal_mask(m, &m->masks[k], l, m->cur[l]);
                for (size_t i = 0; i < nw; i++) m->allowed[l][i] |= m->cur[l][i];
            }
        }
    }
    if (cfg->num_masks > 1) select_mask(m, 0);
    else made__sample_plan(m);
    /* Work of one row's forward pass, for choosing how many threads to use. */
    for (int l = 0; l < m->nl; l++) {
        const made__dense *L = made__active_layer(m, l);
        for (int c = 0; c < L->out; c++) m->flops_row += 2.0 * (made__half_rows(L, c) + L->cond);
    }
    return build_segments(m);
}

/* Lists the ranges of the parameter block that may be non-zero. In a kernel
 * row r, the columns that read r are those with kend > r: a suffix, since kend
 * never decreases. */
static int build_segments(made_model *m)
{
    size_t cap = 2;
    for (int l = 0; l < m->nl; l++) cap += (size_t)m->layer[l].in + 2;
    m->segs = made__malloc(2 * cap * sizeof *m->segs);
    if (!m->segs) return MADE_E_NOMEM;
    size_t n = 0;
    /* Appends [a, b), merging with the previous range when they touch. */
#define ADD_SEG(a, b)                                                      \
    do {                                                                   \
        size_t a_ = (a), b_ = (b);                                         \
        if (a_ == b_) break;                                               \
        if (n > 0 && m->segs[2 * n - 1] == a_) m->segs[2 * n - 1] = b_;    \
        else { m->segs[2 * n] = a_; m->segs[2 * n + 1] = b_; n++; }        \
    } while (0)
    if (m->cfg.num_masks > 1) {
        ADD_SEG(0, m->n_params);
    } else {
        for (int l = 0; l < m->nl; l++) {
            const made__dense *L = &m->layer[l];
            size_t base = (size_t)(L->W - m->params);
            int c = 0;
            for (int r = 0; r < L->in; r++) {
                while (c < L->out && L->kend[c] <= r) c++;
                ADD_SEG(base + (size_t)r * L->out + c, base + (size_t)(r + 1) * L->out);
            }
            if (L->b) ADD_SEG((size_t)(L->b - m->params), (size_t)(L->b - m->params) + L->out);
            if (L->V)
                ADD_SEG((size_t)(L->V - m->params), (size_t)(L->V - m->params) + (size_t)L->cond * L->out);
        }
    }
#undef ADD_SEG
    m->n_segs = n;
    return MADE_OK;
}

/* Draws the initial weights in TFP's layout, each tensor from its own stream,
 * then imports them (which permutes and masks). */
static int init_weights(made_model *m)
{
    size_t maxn = 0;
    for (int k = 0; k < m->n_weights; k++) {
        size_t n = (size_t)m->weights[k].shape[0] * (m->weights[k].rank == 2 ? m->weights[k].shape[1] : 1);
        if (n > maxn) maxn = n;
    }
    float *tmp = made__malloc(maxn * sizeof(float));
    if (!tmp) return MADE_E_NOMEM;
    int rc = MADE_OK;
    for (int k = 0; k < m->n_weights && rc == MADE_OK; k++) {
        const made__weight *w = &m->weights[k];
        made__rng rng;
        made__rng_seed(&rng, m->cfg.seed, (uint64_t)k + 1);
        size_t rows = (size_t)w->shape[0], cols = w->rank == 2 ? (size_t)w->shape[1] : 1;
        if (w->kind == MADE__BIAS)
            made__init_fill(tmp, rows, rows, rows, &m->cfg.bias_initializer, &rng);
        else
            made__init_fill(tmp, rows * cols, rows, cols, &m->cfg.kernel_initializer, &rng);
        rc = made_model_set_weight(m, k, tmp, rows * cols);
    }
    made__free(tmp);
    return rc;
}

int made__model_alloc(made_model **out, const made_config *cfg)
{
    *out = NULL;
    int rc = made_config_validate(cfg);
    if (rc) return rc;
    return made__model_alloc_valid(out, cfg);
}

int made__model_alloc_valid(made_model **out, const made_config *cfg)
{
    *out = NULL;
    int rc;
    made_model *m = made__calloc(1, sizeof *m);
    if (!m) return MADE_E_NOMEM;
    m->cfg = *cfg; /* explicit_order still points at the caller's array here */
    m->threads = 1;
    m->min_thread_work = MADE__MIN_THREAD_WORK;
    made__record_default(&m->record);
    /* The kernel path: read once, here, so a model keeps its path. */
    rc = made__kernel_select(getenv("MADE_KERNEL"), &m->kern);
    if (rc) {
        made__free(m);
        return rc;
    }
    m->nl = cfg->n_hidden + 1;
    m->width[0] = cfg->event_size;
    for (int l = 0; l < cfg->n_hidden; l++) m->width[l + 1] = cfg->hidden_units[l];
    m->width[m->nl] = cfg->event_size * cfg->params;
    rc = build_structure(m); /* from here on explicit_order points at m->order */
    if (rc == MADE_OK) list_weights(m);
    if (rc) {
        made_model_free(m);
        return rc;
    }
    *out = m;
    return MADE_OK;
}

int made_model_create(made_model **out, const made_config *cfg)
{
    made__clear_error();
    if (!out) return made__error(MADE_E_INVAL, "made_model_create: out is NULL");
    made_model *m;
    int rc = made__model_alloc(&m, cfg);
    if (rc) {
        *out = NULL;
        return rc;
    }
    if ((rc = init_weights(m))) {
        made_model_free(m);
        *out = NULL;
        return rc;
    }
    *out = m;
    return MADE_OK;
}

const made_config *made_model_config(const made_model *m) { return m ? &m->cfg : NULL; }
int made_model_num_layers(const made_model *m) { return m ? m->nl : 0; }

int made_model_layer_shape(const made_model *m, int l, int *in, int *out)
{
    made__clear_error();
    if (!m || l < 0 || l >= m->nl)
        return made__error(MADE_E_INVAL, "layer: %d is out of range (0..%d)", l, m ? m->nl - 1 : -1);
    if (in) *in = m->width[l];
    if (out) *out = m->width[l + 1];
    return MADE_OK;
}

int made_model_degrees(const made_model *m, int l, int *deg)
{
    made__clear_error();
    if (!m || !deg || l < 0 || l > m->cfg.n_hidden)
        return made__error(MADE_E_INVAL, "degrees: layer %d is out of range (0..%d)", l,
                           m ? m->cfg.n_hidden : -1);
    const made__degrees *d = &m->masks[m->cur_mask];
    memcpy(deg, d->deg[l], (size_t)m->width[l] * sizeof(int));
    return MADE_OK;
}

int made_model_mask(const made_model *m, int l, uint8_t *mask)
{
    made__clear_error();
    if (!m || !mask || l < 0 || l >= m->nl)
        return made__error(MADE_E_INVAL, "mask: layer %d is out of range (0..%d)", l,
                           m ? m->nl - 1 : -1);
    made__mask_build(mask, &m->masks[m->cur_mask], l, m->cfg.event_size, m->cfg.params,
                     m->cfg.hidden_units);
    return MADE_OK;
}

size_t made_model_num_params(const made_model *m) { return m ? m->n_params : 0; }

size_t made_model_num_free_params(const made_model *m)
{
    if (!m) return 0;
    size_t n = 0;
    for (int l = 0; l < m->nl; l++) {
        const made__dense *L = &m->layer[l];
        for (int r = 0; r < L->in; r++)
            for (int c = 0; c < L->out; c++) n += (size_t)made__entry_allowed(m, l, r, c);
        n += (L->b ? (size_t)L->out : 0) + (size_t)L->cond * L->out;
    }
    return n;
}

int made_model_num_weights(const made_model *m) { return m ? m->n_weights : 0; }

int made_model_weight_info(const made_model *m, int k, const char **name, int *rank, int shape[2])
{
    made__clear_error();
    if (!m || k < 0 || k >= m->n_weights)
        return made__error(MADE_E_INVAL, "weight: index %d is out of range (0..%d)", k,
                           m ? m->n_weights - 1 : -1);
    const made__weight *w = &m->weights[k];
    if (name) *name = w->name;
    if (rank) *rank = w->rank;
    if (shape) {
        shape[0] = w->shape[0];
        shape[1] = w->rank == 2 ? w->shape[1] : 0;
    }
    return MADE_OK;
}

static size_t weight_count(const made__weight *w)
{
    return (size_t)w->shape[0] * (w->rank == 2 ? (size_t)w->shape[1] : 1);
}

static int check_weight_arg(const made_model *m, int k, const void *buf, size_t count)
{
    if (!m || k < 0 || k >= m->n_weights)
        return made__error(MADE_E_INVAL, "weight: index %d is out of range (0..%d)", k,
                           m ? m->n_weights - 1 : -1);
    if (!buf) return made__error(MADE_E_INVAL, "weight %s: buffer is NULL", m->weights[k].name);
    if (count != weight_count(&m->weights[k]))
        return made__error(MADE_E_SHAPE, "weight %s: %zu values given, expected %zu",
                           m->weights[k].name, count, weight_count(&m->weights[k]));
    return MADE_OK;
}

int made_model_get_weight(const made_model *m, int k, float *dst, size_t count)
{
    made__clear_error();
    int rc = check_weight_arg(m, k, dst, count);
    if (rc) return rc;
    const made__weight *w = &m->weights[k];
    const made__dense *L = &m->layer[w->layer];
    const int *pin = m->perm[w->layer], *pout = m->perm[w->layer + 1];
    int out = L->out;
    if (w->kind == MADE__KERNEL) {
        for (int r = 0; r < L->in; r++)
            for (int c = 0; c < out; c++)
                dst[(size_t)pin[r] * out + pout[c]] = L->W[(size_t)r * out + c];
    } else if (w->kind == MADE__BIAS) {
        for (int c = 0; c < out; c++) dst[pout[c]] = L->b[c];
    } else {
        assert(w->kind == MADE__COND_KERNEL);
        for (int r = 0; r < L->cond; r++)
            for (int c = 0; c < out; c++)
                dst[(size_t)r * out + pout[c]] = L->V[(size_t)r * out + c];
    }
    return MADE_OK;
}

int made_model_set_weight(made_model *m, int k, const float *src, size_t count)
{
    made__clear_error();
    int rc = check_weight_arg(m, k, src, count);
    if (rc) return rc;
    const made__weight *w = &m->weights[k];
    for (size_t i = 0; i < count; i++)
        if (!isfinite(src[i]))
            return made__error(MADE_E_NONFINITE, "weight %s: element %zu is %g", w->name, i,
                               (double)src[i]);
    made__dense *L = &m->layer[w->layer];
    const int *pin = m->perm[w->layer], *pout = m->perm[w->layer + 1];
    int out = L->out;
    made__weights_changed(m);
    if (w->kind == MADE__KERNEL) {
        /* The mask is applied here: masked entries are zero whatever was given. */
        for (int r = 0; r < L->in; r++)
            for (int c = 0; c < out; c++)
                L->W[(size_t)r * out + c] = made__entry_allowed(m, w->layer, r, c)
                                                ? src[(size_t)pin[r] * out + pout[c]]
                                                : 0.0f;
    } else if (w->kind == MADE__BIAS) {
        for (int c = 0; c < out; c++) L->b[c] = src[pout[c]];
    } else {
        assert(w->kind == MADE__COND_KERNEL);
        for (int r = 0; r < L->cond; r++)
            for (int c = 0; c < out; c++)
                L->V[(size_t)r * out + c] = src[(size_t)r * out + pout[c]];
    }
    return MADE_OK;
}

int made_model_get_weights(const made_model *m, float *dst, size_t count)
{
    made__clear_error();
    if (!m || !dst) return made__error(MADE_E_INVAL, "get_weights: NULL argument");
    if (count != m->n_params)
        return made__error(MADE_E_SHAPE, "get_weights: %zu values, expected %zu", count, m->n_params);
    size_t off = 0;
    for (int k = 0; k < m->n_weights; k++) {
        size_t n = weight_count(&m->weights[k]);
        made_model_get_weight(m, k, dst + off, n);
        off += n;
    }
    return MADE_OK;
}

int made_model_set_weights(made_model *m, const float *src, size_t count)
{
    made__clear_error();
    if (!m || !src) return made__error(MADE_E_INVAL, "set_weights: NULL argument");
    if (count != m->n_params)
        return made__error(MADE_E_SHAPE, "set_weights: %zu values, expected %zu", count, m->n_params);
    for (size_t i = 0; i < count; i++)
        if (!isfinite(src[i]))
            return made__error(MADE_E_NONFINITE, "set_weights: element %zu is %g", i, (double)src[i]);
    size_t off = 0;
    for (int k = 0; k < m->n_weights; k++) {
        size_t n = weight_count(&m->weights[k]);
        int rc = made_model_set_weight(m, k, src + off, n);
        if (rc) return rc;
        off += n;
    }
    return MADE_OK;
}

int made_model_set_threads(made_model *m, int threads)
{
    made__clear_error();
    if (!m) return made__error(MADE_E_INVAL, "model: NULL");
    if (threads < 1 || threads > 1024)
        return made__error(MADE_E_INVAL, "threads: %d is out of range (1..1024)", threads);
    /* One distribution-parameter buffer per sampling thread. */
    float *theta = made__realloc(m->smp.theta, (size_t)threads * m->cfg.params * sizeof(float));
    if (!theta) return MADE_E_NOMEM;
    m->smp.theta = theta;
    m->threads = threads;
    return MADE_OK;
}

/* The record of the model's data and training (net/record.c). */
const made_model_record *made_model_get_record(const made_model *m)
{
    return m ? &m->record : NULL;
}

int made_model_set_record(made_model *m, const made_model_record *r)
{
    made__clear_error();
    if (!m || !r) return made__error(MADE_E_INVAL, "made_model_set_record: NULL argument");
    int rc = made__record_check(r);
    if (rc == MADE_OK) m->record = *r;
    return rc;
}
