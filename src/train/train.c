/* train.c - minibatch training: Adam or SGD with momentum, weight decay,
 * gradient clipping, learning-rate schedules, seeded shuffling, validation,
 * early stopping and order-agnostic mask-set resampling (MADE section 3.2). */
#include <math.h>
#include <omp.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "core/names.h"
#include "density/dist.h"
#include "net/model.h"
#include "net/kernel.h"
#include "net/network.h"
#include "train/optim.h"
#include "train/trainer.h"

static const char *const optimizer_names[] = {[MADE_OPTIM_ADAM] = "adam", [MADE_OPTIM_SGD] = "sgd"};
static const made__names optimizer_table = {"optimizer", optimizer_names, 2, 2, NULL,
                                            "adam or sgd", NULL};
MADE__NAME_FUNCTIONS(optimizer, made_optimizer, optimizer_table)

static const char *const schedule_names[] = {
    [MADE_LR_CONSTANT] = "constant", [MADE_LR_COSINE] = "cosine", [MADE_LR_STEP] = "step"};
static const made__names schedule_table = {"schedule", schedule_names, 3, 3, NULL,
                                           "constant, cosine or step", NULL};
MADE__NAME_FUNCTIONS(schedule, made_schedule, schedule_table)

void made_train_config_default(made_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->optimizer = MADE_OPTIM_ADAM;
    c->lr = 1e-3;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->eps = 1e-8;
    c->momentum = 0.9;
    c->schedule = MADE_LR_CONSTANT;
    c->decay_rate = 0.5;
    c->decay_epochs = 10;
    c->batch_size = 100;
    c->epochs = 10;
    c->resample_every = 1;
}

int made_train_config_validate(const made_train_config *c)
{
    made__clear_error();
    if (!c) return made__error(MADE_E_INVAL, "train config: NULL");
    if ((unsigned)c->optimizer > MADE_OPTIM_SGD)
        return made__error(MADE_E_INVAL, "optimizer: unknown kind %d", (int)c->optimizer);
    if (!(c->lr > 0 && c->lr <= 10)) return made__error(MADE_E_INVAL, "lr: %g (expected 0 < lr <= 10)", c->lr);
    if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return made__error(MADE_E_INVAL, "adam betas: %g, %g (expected in [0, 1))", c->beta1, c->beta2);
    if (!(c->eps > 0 && c->eps < 1)) return made__error(MADE_E_INVAL, "eps: %g (expected in (0, 1))", c->eps);
    if (!(c->momentum >= 0 && c->momentum < 1))
        return made__error(MADE_E_INVAL, "momentum: %g (expected in [0, 1))", c->momentum);
    if (!(c->weight_decay >= 0 && c->weight_decay < 1))
        return made__error(MADE_E_INVAL, "weight_decay: %g (expected in [0, 1))", c->weight_decay);
    if (!(c->clip_norm >= 0 && isfinite(c->clip_norm)))
        return made__error(MADE_E_INVAL, "clip_norm: %g (expected >= 0; 0 = off)", c->clip_norm);
    if ((unsigned)c->schedule > MADE_LR_STEP)
        return made__error(MADE_E_INVAL, "schedule: unknown kind %d", (int)c->schedule);
    if (!(c->lr_final >= 0 && c->lr_final <= c->lr))
        return made__error(MADE_E_INVAL, "lr_final: %g (expected 0 <= lr_final <= lr)", c->lr_final);
    if (!(c->decay_rate > 0 && c->decay_rate <= 1))
        return made__error(MADE_E_INVAL, "decay_rate: %g (expected in (0, 1])", c->decay_rate);
    if (c->decay_epochs < 1) return made__error(MADE_E_INVAL, "decay_epochs: %d (expected >= 1)", c->decay_epochs);
    if (c->batch_size < 1 || c->batch_size > 1000000)
        return made__error(MADE_E_INVAL, "batch_size: %d (expected 1..1000000)", c->batch_size);
    if (c->epochs < 1 || c->epochs > 1000000)
        return made__error(MADE_E_INVAL, "epochs: %d (expected 1..1000000)", c->epochs);
    if (c->patience < 0) return made__error(MADE_E_INVAL, "patience: %d (expected >= 0)", c->patience);
    if (c->resample_every < 1)
        return made__error(MADE_E_INVAL, "resample_every: %d (expected >= 1)", c->resample_every);
    return MADE_OK;
}

void made_trainer_free(made_trainer *t)
{
    if (!t) return;
    if (t->obj.release) t->obj.release(t->obj.self);
    made__free(t->m1);
    made__free(t->m2);
    made__free(t->best);
    made__free(t->note);
    made__free(t->xb);
    made__free(t->cb);
    made__free(t->px);
    made__free(t->pld);
    made__free(t->ldb);
    made__free(t->perm);
    made__free(t->val_lp);
    made__work_free(&t->work);
    made__free(t);
}

int made__trainer_mask(const made_trainer *t, long long step)
{
    int K = t->m ? t->m->cfg.num_masks : 1;
    if (K == 1) return 0;
    made__rng r;
    made__rng_seed(&r, t->cfg.seed, 0x4d41534bull << 32 | (uint64_t)(step / t->cfg.resample_every));
    return (int)(made__rng_next(&r) % (uint64_t)K);
}

int made__trainer_alloc_obj(made_trainer **out, const made__objective *obj,
                            const made_train_config *cfg)
{
    *out = NULL;
    int rc = made_train_config_validate(cfg);
    if (rc) return rc;
    made_trainer *t = made__calloc(1, sizeof *t);
    if (!t) return MADE_E_NOMEM;
    t->obj = *obj;
    t->cfg = *cfg;
    t->best_val = NAN;
    t->last_train_nll = NAN;
    size_t np = obj->n_params, B = (size_t)cfg->batch_size;
    t->m1 = made__calloc(np, sizeof(float));
    t->m2 = cfg->optimizer == MADE_OPTIM_ADAM ? made__calloc(np, sizeof(float)) : NULL;
    t->best = made__calloc(np, sizeof(float));
    t->xb = made__malloc(B * obj->event_size * sizeof(float));
    t->cb = obj->cond_size ? made__malloc(B * obj->cond_size * sizeof(float)) : NULL;
    t->ldb = obj->prepare ? made__malloc(B * sizeof(double)) : NULL;
    if (!t->m1 || (cfg->optimizer == MADE_OPTIM_ADAM && !t->m2) || !t->best || !t->xb ||
        (obj->cond_size && !t->cb) || (obj->prepare && !t->ldb)) {
        t->obj.release = NULL; /* the caller still owns obj->self */
        made_trainer_free(t);
        return MADE_E_NOMEM;
    }
    *out = t;
    return MADE_OK;
}

static int model_check(void *self, const float *x, size_t n) { return made__check_support(self, x, n); }

/* With several mask sets the model is their mixture; score that. */
static int model_nll(made_trainer *t, const float *x, const float *c, size_t n, double *nll)
{
    made_model *m = t->m;
    int keep = m->cur_mask;
    int rc = made__model_nll(m, x, c, n, m->cfg.num_masks > 1 ? m->cfg.num_masks : 0, t->val_lp,
                             nll);
    if (m->cfg.num_masks > 1) made_model_set_mask(m, keep);
    return rc;
}

int made__trainer_alloc(made_trainer **out, made_model *m, const made_train_config *cfg)
{
    *out = NULL;
    int rc = made_train_config_validate(cfg);
    if (rc) return rc;
    if (!m) return made__error(MADE_E_INVAL, "trainer: model is NULL");
    if (m->cfg.dist.kind == MADE_DIST_NONE)
        return made__error(MADE_E_INVAL, "trainer: the model has no output distribution (set "
                           "cfg.dist: bernoulli, gaussian, categorical:K or mog:K)");
    made__objective obj = {0};
    obj.self = m;
    obj.event_size = m->cfg.event_size;
    obj.cond_size = m->cfg.conditional_size;
    obj.n_params = m->n_params;
    obj.threads = &m->threads;
    obj.min_batch = 1;
    obj.gradient = NULL; /* a MADE trains by train_step, one parallel region */
    obj.check = model_check;
    obj.nll = model_nll;
    if ((rc = made__trainer_alloc_obj(out, &obj, cfg))) return rc;
    made_trainer *t = *out;
    t->m = m;
    t->model_block = (made__block){m->params, m->grads, m->segs, m->n_segs, 0, m->n_params, m};
    t->obj.blocks = &t->model_block;
    t->obj.n_blocks = 1;
    /* The step's scratch for a whole minibatch, so steps do not allocate. */
    if ((rc = made__work_reserve(&t->work, m, cfg->batch_size, m->threads))) {
        made_trainer_free(t);
        *out = NULL;
        return MADE_E_NOMEM;
    }
    return MADE_OK;
}

int made_trainer_create(made_trainer **out, made_model *m, const made_train_config *cfg)
{
    made__clear_error();
    if (!out) return made__error(MADE_E_INVAL, "trainer: out is NULL");
    int rc = made__trainer_alloc(out, m, cfg);
    if (rc) return rc;
    return made_model_set_mask(m, made__trainer_mask(*out, 0));
}

const made_train_config *made_trainer_config(const made_trainer *t) { return t ? &t->cfg : NULL; }

/* Learning rate for the current epoch. */
double made__trainer_lr(const made_trainer *t)
{
    const made_train_config *c = &t->cfg;
    switch (c->schedule) {
    case MADE_LR_COSINE: {
        double f = c->epochs > 1 ? (double)t->epoch / (double)(c->epochs - 1) : 1.0;
        if (f > 1) f = 1;
        return c->lr_final + 0.5 * (c->lr - c->lr_final) * (1.0 + cos(3.14159265358979323846 * f));
    }
    case MADE_LR_STEP:
        return c->lr * pow(c->decay_rate, (double)(t->epoch / c->decay_epochs));
    default:
        return c->lr;
    }
}

void made__work_loss_rows(made_model *m, made__work *w, int i0, int i1, float scale, int thread)
{
    const int e = m->cfg.event_size;
    const size_t ow = (size_t)m->width[m->nl];
    const float *out = w->pre[m->nl - 1];
    float *dout = w->d[m->nl - 1];
    double *gbuf = w->gbuf + (size_t)thread * m->cfg.params;
    for (int i = i0; i < i1; i++)
        w->lp[i] = made__dist_example(m->cfg.dist, out + i * ow, w->xs + (size_t)i * e, e,
                                      dout + i * ow, scale, gbuf, m->kern == &made__kernel_avx2);
}

/* The optimiser's constants for the current step. */
typedef struct update_plan {
    double lr;
    made__step_consts k; /* what the element-wise update reads */
    int avx2;            /* the update's build: the model's kernel path */
    double clip_scale;   /* set inside the region */
} update_plan;

static made__step_consts step_consts(const made_train_config *c, double lr, long long t)
{
    made__step_consts k;
    double step = (double)(t + 1);
    double bc1 = 1.0 - pow(c->beta1, step), bc2 = 1.0 - pow(c->beta2, step);
    k.b1 = (float)c->beta1;
    k.b2 = (float)c->beta2;
    k.a = (float)(lr / bc1);
    k.eps = (float)c->eps;
    k.decay = (float)(lr * c->weight_decay);
    k.inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    k.mu = (float)c->momentum;
    k.wd = (float)c->weight_decay;
    k.rate = (float)lr;
    return k;
}

static update_plan plan_update(const made_trainer *t)
{
    update_plan u;
    memset(&u, 0, sizeof u);
    u.lr = made__trainer_lr(t);
    u.k = step_consts(&t->cfg, u.lr, t->step);
    /* A flow's networks all share the kernel path chosen at creation. */
    u.avx2 = t->m ? t->m->kern == &made__kernel_avx2 : made__kernel_avx2_ok();
    u.clip_scale = 1.0;
    return u;
}

/* The element-wise update of elements [a, b) of parameters p with gradients
 * g and optimiser state m1, m2 (m2 NULL for SGD), all indexed alike. */
static inline void update_range(const made_trainer *t, const update_plan *u, float *restrict p,
                                const float *restrict g, float *restrict m1, float *restrict m2,
                                size_t a, size_t b)
{
    if (t->cfg.optimizer == MADE_OPTIM_ADAM)
        made__adam_range(&u->k, p + a, g + a, m1 + a, m2 + a, b - a, u->avx2);
    else
        made__sgd_range(&u->k, p + a, g + a, m1 + a, b - a, u->avx2);
}

/* Gradient clipping, inside the step's parallel region: the norm summed by
 * one thread in order, then the scaling, element-wise. */
static void clip_gradients(made_trainer *t, update_plan *u)
{
    made_model *m = t->m;
    float *g = m->grads;
    if (!(t->cfg.clip_norm > 0)) return;
#pragma omp single
    {
        double ss = 0.0;
        for (size_t s = 0; s < m->n_segs; s++)
            for (size_t i = m->segs[2 * s]; i < m->segs[2 * s + 1]; i++) ss += (double)g[i] * g[i];
        double norm = sqrt(ss);
        u->clip_scale = norm > t->cfg.clip_norm ? t->cfg.clip_norm / norm : 1.0;
    }
    if (u->clip_scale != 1.0) {
        const float scale = (float)u->clip_scale;
#pragma omp for schedule(dynamic, 8)
        for (size_t s = 0; s < m->n_segs; s++)
            for (size_t i = m->segs[2 * s]; i < m->segs[2 * s + 1]; i++) g[i] *= scale;
    }
}

/* Clipping, weight decay and the parameter update, inside the step's parallel
 * region: worksharing loops over the parts of the flat parameter block that
 * can be non-zero (masked entries have zero parameters, gradients and moments,
 * and are never touched). Element-wise, so how the segments are shared among
 * threads changes nothing. The last loop has no barrier of its own (nowait):
 * every caller ends the parallel region right after it, which waits. */
static void optimizer_update(made_trainer *t, update_plan *u)
{
    made_model *m = t->m;
    clip_gradients(t, u);
#pragma omp for schedule(dynamic, 8) nowait
    for (size_t s = 0; s < m->n_segs; s++)
        update_range(t, u, m->params, m->grads, t->m1, t->m2, m->segs[2 * s], m->segs[2 * s + 1]);
}

/* The update of network m (one mask set), whose parameters' optimiser state
 * is m1, m2 (m2 NULL for SGD), writing the packed copies of W as it goes:
 * items are each layer's row panels of W, updated row by row (the unmasked
 * suffix of each row, as the segments have it) and then copied into Wp and
 * WTp while they are in cache, and each layer's bias and conditional kernel.
 * The next step then needs no packing pass of its own. A worksharing loop,
 * inside a parallel region that ends right after it (nowait: the region's end
 * waits); m is marked packed by the caller after it. */
static void update_packed(made_trainer *t, const update_plan *u, made_model *m, float *m1,
                          float *m2)
{
    int total = 0;
    for (int l = 0; l < m->nl; l++) total += made__dense_panels(m->width[l]) + 1;
#pragma omp for schedule(dynamic, 1) nowait
    for (int q = 0; q < total; q++) {
        int l = 0, g = q;
        while (g > made__dense_panels(m->width[l])) g -= made__dense_panels(m->width[l++]) + 1;
        made__dense *L = &m->layer[l];
        if (g == made__dense_panels(L->in)) { /* the bias and the conditional kernel */
            const size_t b = L->b ? (size_t)(L->b - m->params) : 0;
            const size_t v = L->V ? (size_t)(L->V - m->params) : 0;
            if (L->b) update_range(t, u, m->params, m->grads, m1, m2, b, b + (size_t)L->out);
            if (L->V) update_range(t, u, m->params, m->grads, m1, m2, v, v + (size_t)L->cond * L->out);
            continue;
        }
        const size_t base = (size_t)(L->W - m->params);
        const int r0 = g * MADE_PANEL, r1 = r0 + MADE_PANEL < L->in ? r0 + MADE_PANEL : L->in;
        int c = L->rstart[g]; /* the first column that reads row r0 */
        for (int r = r0; r < r1; r++) {
            while (c < L->out && L->kend[c] <= r) c++;
            update_range(t, u, m->params, m->grads, m1, m2, base + (size_t)r * L->out + c,
                         base + (size_t)(r + 1) * L->out);
        }
        made__dense_pack_rows(L, g);
        made__dense_pack_tpanel(m->kern, L, g);
    }
}

/* A MADE's update with one mask set: clipping, then update_packed. */
static void optimizer_update_packed(made_trainer *t, update_plan *u)
{
    clip_gradients(t, u);
    update_packed(t, u, t->m, t->m1, t->m2);
}

/* An objective's update (a flow): clipping over all blocks, then the same
 * arithmetic over each block, one parallel region per block. A network's
 * block (one mask set) is updated and packed at once, as a MADE's is, and
 * left marked packed; the others element-wise by segments. */
static void blocks_update(made_trainer *t)
{
    const made__objective *o = &t->obj;
    const made_train_config *c = &t->cfg;
    if (c->clip_norm > 0) {
        double ss = 0.0;
        for (int b = 0; b < o->n_blocks; b++) {
            const made__block *B = &o->blocks[b];
            for (size_t s = 0; s < B->n_segs; s++)
                for (size_t i = B->segs[2 * s]; i < B->segs[2 * s + 1]; i++)
                    ss += (double)B->g[i] * B->g[i];
        }
        double norm = sqrt(ss);
        if (norm > c->clip_norm) {
            float scale = (float)(c->clip_norm / norm);
            for (int b = 0; b < o->n_blocks; b++) {
                const made__block *B = &o->blocks[b];
                for (size_t s = 0; s < B->n_segs; s++)
                    for (size_t i = B->segs[2 * s]; i < B->segs[2 * s + 1]; i++) B->g[i] *= scale;
            }
        }
    }
    const update_plan u = plan_update(t);
    for (int b = 0; b < o->n_blocks; b++) {
        const made__block *B = &o->blocks[b];
        float *m1 = t->m1 + B->offset, *m2 = t->m2 ? t->m2 + B->offset : NULL;
        if (B->net && B->net->cfg.num_masks == 1) {
#pragma omp parallel num_threads(*o->threads)
            update_packed(t, &u, B->net, m1, m2);
            B->net->packed = B->net->packed_t = 1;
            continue;
        }
        /* Element-wise, so splitting the ranges among threads changes nothing. */
#pragma omp parallel for schedule(dynamic, 8) num_threads(*o->threads)
        for (size_t s = 0; s < B->n_segs; s++)
            update_range(t, &u, B->p, B->g, m1, m2, B->segs[2 * s], B->segs[2 * s + 1]);
        if (B->net) made__weights_changed(B->net);
    }
}

/* The parameters of every block to / from one flat array (best epoch). */
static void params_copy(made_trainer *t, float *flat, int to_flat)
{
    for (int b = 0; b < t->obj.n_blocks; b++) {
        const made__block *B = &t->obj.blocks[b];
        if (to_flat) memcpy(flat + B->offset, B->p, B->size * sizeof(float));
        else memcpy(B->p, flat + B->offset, B->size * sizeof(float));
    }
}

/* The trainer wrote the parameters: packed copies of the weights are stale. */
static void params_changed(made_trainer *t)
{
    if (t->m) made__weights_changed(t->m);
    if (t->obj.changed) t->obj.changed(t->obj.self);
}

void made__optimizer_update(made_trainer *t)
{
    if (t->m) {
        /* Outside any parallel region the worksharing loops run serially. */
        update_plan u = plan_update(t);
        optimizer_update(t, &u);
        params_changed(t);
    } else {
        /* The networks' packed copies are written or marked stale there. */
        blocks_update(t);
    }
}

/* One training step on a batch already validated, in ONE parallel region:
 * W^T packing, then each thread's rows through forward, loss and backward,
 * then the parameter gradients by (layer, panel) with the block tree, then
 * the optimiser by parameter segments. Returns the summed negative
 * log-likelihood. Bits never depend on the thread count (docs/design.md).
 *
 * The n rows may be one node of the gradient block tree of a larger
 * minibatch of n_total rows (the loss is the mean over n_total): a
 * data-parallel run computes each rank's node this way with update = 0 and
 * adds the nodes up the same tree. The tree below a node has the shape of
 * the tree of a minibatch of that many blocks, so rows [0, n) here give the
 * node's bits exactly. */
static int train_step(made_trainer *t, const float *x, const float *c, size_t n, size_t n_total,
                      int update, double *total)
{
    made_model *m = t->m;
    const int N = (int)n;
    const int T = made__threads_for(m, n, 3.0);
    int rc = made__work_reserve(&t->work, m, N, T);
    if (rc) return rc;
    made__work *w = &t->work;
    made__refresh_masked_view(m);
    update_plan u = plan_update(t);
    /* d(mean NLL)/d(theta) = -(d log p / d theta) / n, n the whole minibatch */
    const float scale = -1.0f / (float)n_total;
    /* With one mask set the update writes the packed copies of W itself, so
     * a step packs only when something else changed the weights. */
    const int fused = update && m->cfg.num_masks == 1, pack = !(m->packed && m->packed_t);
#pragma omp parallel num_threads(T)
    {
        const int th = omp_get_thread_num();
        int i0, i1;
        made__row_range(N, th, omp_get_num_threads(), &i0, &i1);
        if (pack) made__net_pack(m);
        /* A thread's backward pass reads only its own rows' activations and
         * d, and W^T (packed before the barrier that ends the pack loop): no
         * barrier between its forward, loss and backward passes. Under
         * passive waiting each barrier costs the waiting thread a wake-up,
         * 38-74 us on average on the benchmark machine. */
        if (i0 < i1) {
            made__work_forward_rows(m, w, x, c, i0, i1);
            made__work_loss_rows(m, w, i0, i1, scale, th);
            made__work_backward_rows(m, w, i0, i1, 1);
        }
#pragma omp barrier
        made__net_weight_grads(m, w, N, 0, made__grad_blocks(N));
        if (m->cfg.num_masks > 1) {
#pragma omp single
            made__grads_finish(m);
        }
        if (fused) optimizer_update_packed(t, &u);
        else if (update) optimizer_update(t, &u);
    }
    /* The packed copies match W (packed above, or written by the update)
     * unless a separate update changed W. */
    if (update && !fused) made__weights_changed(m);
    else m->packed = m->packed_t = 1;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum -= w->lp[i];
    *total = sum;
    return MADE_OK;
}

/* One optimisation step on a batch already validated: gradient, update, step
 * count and, with several mask sets, the next step's set. *total receives the
 * summed negative log-likelihood of the batch. A MADE takes the single-region
 * step; any other objective gives its gradient, then the blocks are updated. */
static int train_batch(made_trainer *t, const float *x, const double *ld, const float *c, size_t n,
                       double *total)
{
    made_model *m = t->m;
    if (m) {
        int rc = train_step(t, x, c, n, n, 1, total);
        if (rc) return rc;
    } else {
        /* NAN: the objective reported a non-finite value (the message names where). */
        *total = t->obj.gradient(t, x, ld, c, n);
        if (isnan(*total)) return MADE_E_NONFINITE;
        made__optimizer_update(t);
    }
    t->step++;
    if (m && m->cfg.num_masks > 1) made_model_set_mask(m, made__trainer_mask(t, t->step));
    return MADE_OK;
}

/* The conditional argument of a call: given exactly when the model is
 * conditional. */
static int check_cond(const made_trainer *t, const float *c, size_t n, const char *what)
{
    if (t->m) return made__check_cond(t->m, c, n, what);
    if (t->obj.cond_size > 0 && !c && n)
        return made__error(MADE_E_INVAL, "%s: the flow is conditional (conditional size %d), so a "
                           "conditional input must be given", what, t->obj.cond_size);
    if (t->obj.cond_size == 0 && c)
        return made__error(MADE_E_INVAL, "%s: a conditional input was given, but the flow is not "
                           "conditional", what);
    return MADE_OK;
}

int made__trainer_grad_rows(made_trainer *t, const float *x, const float *c, size_t n,
                            size_t n_total)
{
    double total;
    return train_step(t, x, c, n, n_total, 0, &total);
}

void made__trainer_apply(made_trainer *t)
{
    made_model *m = t->m;
    update_plan u = plan_update(t);
#pragma omp parallel num_threads(m->threads)
    optimizer_update(t, &u);
    made__weights_changed(m);
    t->step++;
    if (m->cfg.num_masks > 1) made_model_set_mask(m, made__trainer_mask(t, t->step));
}

int made_trainer_step(made_trainer *t, const float *x, const float *c, size_t n, double *nll)
{
    made__clear_error();
    if (!t || !x || n == 0) return made__error(MADE_E_INVAL, "step: NULL argument or empty batch");
    const made__objective *o = &t->obj;
    if (n < (size_t)o->min_batch)
        return made__error(MADE_E_INVAL, "step: a batch of %zu row%s (batch statistics need at "
                           "least %d)", n, n == 1 ? "" : "s", o->min_batch);
    int rc = check_cond(t, c, n, "step");
    if (!rc) rc = o->check(o->self, x, n);
    if (!rc && c) rc = made__check_finite("conditional input", c, n, (size_t)o->cond_size);
    if (rc) return rc;
    double total;
    if ((rc = train_batch(t, x, NULL, c, n, &total))) return rc;
    if (nll) *nll = total / (double)n;
    return MADE_OK;
}

double made__now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The permutation of epoch e: Fisher-Yates from a stream of the seed and e, so
 * a resumed run shuffles exactly as the uninterrupted one did. */
void made__epoch_permutation(const made_trainer *t, int epoch, size_t *perm, size_t n)
{
    made__rng r;
    made__rng_seed(&r, t->cfg.seed, (uint64_t)epoch);
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(made__rng_next(&r) % (uint64_t)i);
        size_t tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
}

/* Everything made_trainer_fit checks before it starts. */
static int check_fit_args(const made_trainer *t, const float *x, const float *c, size_t n,
                          const float *xval, const float *cval, size_t nval)
{
    const made__objective *o = &t->obj;
    const int C = o->cond_size;
    int rc = check_cond(t, c, n, "fit");
    if (!rc && nval && C > 0) rc = check_cond(t, cval, nval, "fit (validation data)");
    if (rc) return rc;
    if (nval && !xval) return made__error(MADE_E_INVAL, "fit: validation data is NULL");
    if (t->cfg.patience > 0 && nval == 0)
        return made__error(MADE_E_INVAL, "fit: patience %d needs validation data", t->cfg.patience);
    if (t->n_data && t->n_data != n)
        return made__error(MADE_E_INVAL, "fit: the training data has %zu rows, but this trainer "
                           "was started on %zu (resume with the same data)", n, t->n_data);
    const size_t last = n % (size_t)t->cfg.batch_size;
    if (last && last < (size_t)o->min_batch)
        return made__error(MADE_E_INVAL, "fit: %zu training rows in batches of %d leave a last "
                           "batch of %zu row (batch statistics need at least %d; change the batch "
                           "size or the number of rows)", n, t->cfg.batch_size, last, o->min_batch);
    if ((rc = o->check(o->self, x, n))) {
        made__error_prefix("training data: ");
        return rc;
    }
    if (nval && (rc = o->check(o->self, xval, nval))) {
        made__error_prefix("validation data: ");
        return rc;
    }
    if ((c && (rc = made__check_finite("training conditional input", c, n, (size_t)C))) ||
        (cval && nval && (rc = made__check_finite("validation conditional input", cval, nval, (size_t)C))))
        return rc;
    return MADE_OK;
}

/* The progress report's figures for the epoch so far. */
static void progress_figures(const made_trainer *t, made_progress *p)
{
    p->epoch = t->epoch + 1;
    p->step = t->step;
    p->best_val_nll = t->best_val;
    p->lr = made__trainer_lr(t);
    p->seconds = t->epoch_seconds;
    p->examples_per_sec = t->epoch_seconds > 0 ? t->epoch_examples / t->epoch_seconds : 0;
}

void made__trainer_batch_progress(const made_trainer *t, made_progress *p)
{
    progress_figures(t, p);
    p->batch = t->batch;
    p->train_nll = t->epoch_nll / (double)t->epoch_examples;
    p->val_nll = NAN;
    p->improved = 0;
    p->epoch_done = 0;
}

/* Trains on the batches left in the current epoch (from t->batch on). */
static int train_epoch(made_trainer *t, const float *x, const float *c, size_t n,
                       made_progress *p, made_progress_fn fn, void *user)
{
    const int e = t->obj.event_size, C = t->obj.cond_size;
    const size_t B = (size_t)t->cfg.batch_size;
    made__epoch_permutation(t, t->epoch, t->perm, n);
    double start = made__now_seconds() - t->epoch_seconds;
    /* The training data prepared once per fit, inside the first epoch's time. */
    if (t->obj.prepare && !t->px) {
        t->px = made__malloc(n * (size_t)e * sizeof(float));
        t->pld = made__malloc(n * sizeof(double));
        if (!t->px || !t->pld) return MADE_E_NOMEM;
        int rc = t->obj.prepare(t->obj.self, x, n, t->px, t->pld);
        if (rc) return rc;
    }
    const float *src = t->px ? t->px : x;
    for (size_t b = t->batch; b < p->batches; b++) {
        size_t lo = b * B, rows = n - lo < B ? n - lo : B;
        for (size_t i = 0; i < rows; i++) {
            memcpy(t->xb + i * e, src + t->perm[lo + i] * e, (size_t)e * sizeof(float));
            if (C) memcpy(t->cb + i * C, c + t->perm[lo + i] * C, (size_t)C * sizeof(float));
            if (t->px) t->ldb[i] = t->pld[t->perm[lo + i]];
        }
        double total;
        int rc = train_batch(t, t->xb, t->px ? t->ldb : NULL, C ? t->cb : NULL, rows, &total);
        if (rc) return rc;
        t->batch = b + 1;
        t->epoch_nll += total;
        t->epoch_examples += rows;
        t->epoch_seconds = made__now_seconds() - start;
        if (fn) {
            made__trainer_batch_progress(t, p);
            if (fn(user, p)) return made__error(MADE_E_INTERRUPTED, "training interrupted");
        }
    }
    return MADE_OK;
}

void made__trainer_keep_best(made_trainer *t, double val, int *improved)
{
    *improved = 0;
    if (isnan(t->best_val) || val < t->best_val) {
        *improved = 1;
        t->best_val = val;
        t->bad_epochs = 0;
        t->has_best = 1;
        t->best_epoch = t->epoch + 1;
        params_copy(t, t->best, 1);
    } else {
        t->bad_epochs++;
    }
}

void made__trainer_end_epoch(made_trainer *t, double val, int improved, made_progress *p)
{
    progress_figures(t, p);
    p->batch = p->batches;
    p->train_nll = t->epoch_nll / (double)(t->epoch_examples ? t->epoch_examples : 1);
    p->val_nll = val;
    p->improved = improved;
    p->epoch_done = 1;
    t->last_train_nll = p->train_nll;
    t->epoch++;
    t->batch = 0;
    t->epoch_nll = 0;
    t->epoch_examples = 0;
    t->epoch_seconds = 0;
    if (t->cfg.patience > 0 && t->bad_epochs >= t->cfg.patience) t->stopped = 1;
}

/* End of an epoch: scores the validation data (the mixture over all mask sets
 * when there are several) and keeps the best parameters. */
static int validate_epoch(made_trainer *t, const float *xval, const float *cval, size_t nval,
                          double *val, int *improved)
{
    *val = NAN;
    *improved = 0;
    if (!nval) return MADE_OK;
    int rc = t->obj.nll(t, xval, cval, nval, val);
    if (rc) return rc;
    made__trainer_keep_best(t, *val, improved);
    return MADE_OK;
}

/* The model's record of how training ended (kept in its file). */
static void record_outcome(made_trainer *t)
{
    made_model_record *r = t->m ? &t->m->record : t->obj.record;
    if (!r) return;
    r->epochs_run = t->epoch;
    r->best_epoch = t->has_best ? t->best_epoch : t->epoch;
    r->stop = t->stopped ? MADE_STOP_PATIENCE : MADE_STOP_EPOCHS;
    r->train_nll = t->last_train_nll;
    r->val_nll = t->has_best ? t->best_val : NAN;
}

void made__trainer_finish(made_trainer *t)
{
    /* Early stopping keeps the best parameters, not the last. */
    if (t->has_best) {
        params_copy(t, t->best, 0);
        params_changed(t);
    }
    record_outcome(t);
}

/* made_trainer_fit's epochs: each trains, validates and reports. */
static int fit_epochs(made_trainer *t, const float *x, const float *c, size_t n, const float *xval,
                      const float *cval, size_t nval, made_progress *p, made_progress_fn fn,
                      void *user)
{
    while (t->epoch < t->cfg.epochs && !t->stopped) {
        int rc = train_epoch(t, x, c, n, p, fn, user);
        if (rc) return rc;
        double val;
        int improved;
        if ((rc = validate_epoch(t, xval, cval, nval, &val, &improved))) return rc;
        made__trainer_end_epoch(t, val, improved, p);
        if (fn && fn(user, p)) {
            if (t->epoch >= t->cfg.epochs || t->stopped) break;
            return made__error(MADE_E_INTERRUPTED, "training interrupted");
        }
    }
    return MADE_OK;
}

int made_trainer_fit(made_trainer *t, const float *x, const float *c, size_t n, const float *xval,
                     const float *cval, size_t nval, made_progress_fn fn, void *user)
{
    made__clear_error();
    if (!t || !x || n == 0) return made__error(MADE_E_INVAL, "fit: no training data");
    int rc = check_fit_args(t, x, c, n, xval, cval, nval);
    if (rc) return rc;
    made_model *m = t->m;
    t->n_data = n;
    made__free(t->perm);
    made__free(t->val_lp);
    t->val_lp = NULL;
    t->perm = made__malloc(n * sizeof *t->perm);
    if (!t->perm) return MADE_E_NOMEM;
    if (nval && m && m->cfg.num_masks > 1 && !(t->val_lp = made__malloc(nval * sizeof *t->val_lp)))
        return MADE_E_NOMEM;
    made_progress p;
    memset(&p, 0, sizeof p);
    p.epochs = t->cfg.epochs;
    p.batches = (n + (size_t)t->cfg.batch_size - 1) / (size_t)t->cfg.batch_size;
    rc = fit_epochs(t, x, c, n, xval, cval, nval, &p, fn, user);
    /* The prepared training data lives for one fit. */
    made__free(t->px);
    made__free(t->pld);
    t->px = NULL;
    t->pld = NULL;
    if (rc) return rc;
    made__trainer_finish(t);
    if (t->obj.finish) return t->obj.finish(t->obj.self, x, c, n);
    return MADE_OK;
}

int made_trainer_set_note(made_trainer *t, const char *text)
{
    made__clear_error();
    if (!t || !text) return made__error(MADE_E_INVAL, "made_trainer_set_note: NULL argument");
    size_t n = strlen(text) + 1;
    char *copy = made__malloc(n);
    if (!copy) return MADE_E_NOMEM;
    memcpy(copy, text, n);
    made__free(t->note);
    t->note = copy;
    return MADE_OK;
}

const char *made_trainer_note(const made_trainer *t)
{
    return t && t->note ? t->note : "";
}

int made_trainer_set_epochs(made_trainer *t, int epochs)
{
    made__clear_error();
    if (!t) return made__error(MADE_E_INVAL, "made_trainer_set_epochs: NULL trainer");
    int done = t->epoch + (t->batch > 0); /* an epoch under way must be finished */
    if (epochs < 1 || epochs > 1000000 || epochs < done)
        return made__error(MADE_E_INVAL, "epochs %d: the run has completed %d epoch%s%s (expected "
                           "%d..1000000)", epochs, t->epoch, t->epoch == 1 ? "" : "s",
                           t->batch ? " and started the next" : "", done > 1 ? done : 1);
    if (t->cfg.schedule == MADE_LR_COSINE && epochs != t->cfg.epochs)
        return made__error(MADE_E_INVAL, "epochs %d: the cosine schedule of this run spans %d "
                           "epochs, and its learning rates so far depend on that", epochs,
                           t->cfg.epochs);
    t->cfg.epochs = epochs;
    return MADE_OK;
}
