/* checkpoint.c - training checkpoints: the model file plus the optimiser state,
 * the best parameters and the progress counters, in one atomic write. The
 * flat blocks are stored in made's internal layout, which the model's config
 * determines, so they are only meaningful inside a checkpoint. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "io/buf.h"
#include "io/json.h"
#include "io/safetensors.h"
#include "net/model.h"
#include "train/trainer.h"

#define CKPT_FORMAT "made-checkpoint"

static int train_config_json(const made_train_config *c, made__buf *b)
{
    made__buf_printf(b,
                     "{\"optimizer\":%d,\"lr\":%.17g,\"beta1\":%.17g,\"beta2\":%.17g,\"eps\":%.17g,"
                     "\"momentum\":%.17g,\"weight_decay\":%.17g,\"clip_norm\":%.17g,\"schedule\":%d,"
                     "\"lr_final\":%.17g,\"decay_rate\":%.17g,\"decay_epochs\":%d,\"batch_size\":%d,"
                     "\"epochs\":%d,\"patience\":%d,\"resample_every\":%d,\"seed\":%llu}",
                     (int)c->optimizer, c->lr, c->beta1, c->beta2, c->eps, c->momentum,
                     c->weight_decay, c->clip_norm, (int)c->schedule, c->lr_final, c->decay_rate,
                     c->decay_epochs, c->batch_size, c->epochs, c->patience, c->resample_every,
                     (unsigned long long)c->seed);
    return b->failed ? MADE_E_NOMEM : MADE_OK;
}

int made_trainer_save(const made_trainer *t, const char *path)
{
    made__clear_error();
    if (!t || !path) return made__error(MADE_E_INVAL, "checkpoint: NULL argument");
    const made_model *m = t->m;
    made__st_entry extra[3];
    size_t n_extra = 0;
    const float *blocks[3] = {t->m1, t->m2, t->best};
    const char *names[3] = {"optimizer.m1", "optimizer.m2", "trainer.best"};
    for (int i = 0; i < 3; i++) {
        if (!blocks[i]) continue;
        made__st_entry *e = &extra[n_extra++];
        memset(e, 0, sizeof *e);
        e->name = names[i];
        e->dtype = MADE__ST_F32;
        e->ndim = 1;
        e->shape[0] = m->n_params;
        e->data = blocks[i];
    }
    made__buf cfg, state;
    made__buf_init(&cfg);
    made__buf_init(&state);
    int rc = train_config_json(&t->cfg, &cfg);
    made__buf_printf(&state,
                     "{\"step\":%lld,\"epoch\":%d,\"batch\":%zu,\"epoch_nll\":%.17g,"
                     "\"epoch_examples\":%zu,\"epoch_seconds\":%.17g,\"best_val\":%.17g,"
                     "\"bad_epochs\":%d,\"has_best\":%d,\"stopped\":%d,\"n_data\":%zu}",
                     t->step, t->epoch, t->batch, t->epoch_nll, t->epoch_examples,
                     t->epoch_seconds, isnan(t->best_val) ? -1.0 : t->best_val, t->bad_epochs,
                     t->has_best, t->stopped, t->n_data);
    if (!rc && state.failed) rc = MADE_E_NOMEM;
    if (!rc) {
        const char *keys[] = {"train_config", "train_state"};
        const char *vals[] = {cfg.data, state.data};
        rc = made__model_write(m, path, CKPT_FORMAT, extra, n_extra, keys, vals, 2);
    }
    made__buf_free(&cfg);
    made__buf_free(&state);
    return rc;
}

/* Reads a number member of a JSON object. */
static int num(const made__json *j, const char *key, double *out)
{
    const made__json *v = made__json_get(j, key);
    if (!v || v->type != MADE__JSON_NUMBER)
        return made__error(MADE_E_FORMAT, "checkpoint: \"%s\" missing or not a number", key);
    *out = v->number;
    return MADE_OK;
}

static int read_train_config(const made__json *j, made_train_config *c)
{
    double v[17];
    static const char *const keys[17] = {
        "optimizer", "lr", "beta1", "beta2", "eps", "momentum", "weight_decay", "clip_norm",
        "schedule", "lr_final", "decay_rate", "decay_epochs", "batch_size", "epochs",
        "patience", "resample_every", "seed"};
    for (int i = 0; i < 17; i++) {
        int rc = num(j, keys[i], &v[i]);
        if (rc) return rc;
    }
    /* Converting a double outside int's range to int is undefined behaviour,
     * so the int fields are range-checked first (fuzz/crashes/model/ub-*). */
    static const int int_fields[] = {0, 8, 11, 12, 13, 14, 15};
    for (size_t i = 0; i < sizeof int_fields / sizeof *int_fields; i++) {
        double x = v[int_fields[i]];
        if (!(x >= INT_MIN && x <= INT_MAX))
            return made__error(MADE_E_FORMAT, "checkpoint: \"%s\" is out of range",
                               keys[int_fields[i]]);
    }
    made_train_config_default(c);
    c->optimizer = (made_optimizer)(int)v[0];
    c->lr = v[1];
    c->beta1 = v[2];
    c->beta2 = v[3];
    c->eps = v[4];
    c->momentum = v[5];
    c->weight_decay = v[6];
    c->clip_norm = v[7];
    c->schedule = (made_schedule)(int)v[8];
    c->lr_final = v[9];
    c->decay_rate = v[10];
    c->decay_epochs = (int)v[11];
    c->batch_size = (int)v[12];
    c->epochs = (int)v[13];
    c->patience = (int)v[14];
    c->resample_every = (int)v[15];
    const made__json *s = made__json_get(j, "seed");
    if (!s->is_integer) return made__error(MADE_E_FORMAT, "checkpoint: seed is not an integer");
    c->seed = (uint64_t)s->integer;
    if (made_train_config_validate(c)) {
        made__error_prefix("checkpoint: train_config: ");
        return MADE_E_FORMAT;
    }
    return MADE_OK;
}

static int read_state(const made__json *j, made_trainer *t)
{
    double v[11];
    static const char *const keys[11] = {"step", "epoch", "batch", "epoch_nll", "epoch_examples",
                                         "epoch_seconds", "best_val", "bad_epochs", "has_best",
                                         "stopped", "n_data"};
    for (int i = 0; i < 11; i++) {
        int rc = num(j, keys[i], &v[i]);
        if (rc) return rc;
    }
    if (v[0] < 0 || v[1] < 0 || v[1] > t->cfg.epochs || v[2] < 0 || v[4] < 0 || v[7] < 0 ||
        v[7] > INT_MAX ||
        v[10] < 0 || v[0] > 9e15 || v[10] > 9e15 || v[4] > 9e15 || v[2] > 9e15)
        return made__error(MADE_E_FORMAT, "checkpoint: train_state has out-of-range counters");
    t->step = (long long)v[0];
    t->epoch = (int)v[1];
    t->batch = (size_t)v[2];
    t->epoch_nll = v[3];
    t->epoch_examples = (size_t)v[4];
    t->epoch_seconds = v[5];
    t->best_val = v[6] < 0 && v[8] == 0 ? NAN : v[6];
    t->bad_epochs = (int)v[7];
    t->has_best = v[8] != 0;
    t->stopped = v[9] != 0;
    t->n_data = (size_t)v[10];
    if (t->n_data && t->batch > (t->n_data + t->cfg.batch_size - 1) / (size_t)t->cfg.batch_size)
        return made__error(MADE_E_FORMAT, "checkpoint: train_state batch %zu is beyond the epoch",
                           t->batch);
    return MADE_OK;
}

static int read_block(const made__st_file *f, const char *name, float *dst, size_t n)
{
    int rc = MADE_OK;
    const made__st_tensor *t = made__st_expect(f, name, MADE__ST_F32, 1, n, 0, &rc);
    if (!t) return rc;
    memcpy(dst, t->data, n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dst[i]))
            return made__error(MADE_E_FORMAT, "tensor '%s': element %zu is not finite", name, i);
    return MADE_OK;
}

int made_trainer_resume(made_trainer **out, made_model **model, const char *path)
{
    made__clear_error();
    if (!out || !model || !path) return made__error(MADE_E_INVAL, "resume: NULL argument");
    *out = NULL;
    *model = NULL;
    made__st_file f;
    int rc = made__st_read(&f, path);
    if (rc) return rc;
    made_model *m = NULL;
    made_trainer *t = NULL;
    made__json *jc = NULL, *js = NULL;
    const char *tc = made__st_meta(&f, "train_config"), *ts = made__st_meta(&f, "train_state");
    made_train_config cfg;
    made_train_config_default(&cfg);
    if (!tc || !ts) {
        rc = made__error(MADE_E_FORMAT, "not a made checkpoint (no train_config/train_state)");
    }
    if (!rc) rc = made__json_parse(tc, strlen(tc), &jc);
    if (!rc) rc = made__json_parse(ts, strlen(ts), &js);
    if (!rc) rc = read_train_config(jc, &cfg);
    size_t n_extra = cfg.optimizer == MADE_OPTIM_ADAM ? 3 : 2;
    if (!rc) rc = made__model_read(&f, CKPT_FORMAT, n_extra, &m);
    if (!rc) rc = made__trainer_alloc(&t, m, &cfg);
    if (!rc) rc = read_state(js, t);
    if (!rc) rc = read_block(&f, "optimizer.m1", t->m1, m->n_params);
    if (!rc && t->m2) rc = read_block(&f, "optimizer.m2", t->m2, m->n_params);
    if (!rc) rc = read_block(&f, "trainer.best", t->best, m->n_params);
    /* The mask set in use is a function of the step. */
    if (!rc) rc = made_model_set_mask(m, made__trainer_mask(t, t->step));
    if (rc) {
        made__error_prefix("%s: ", path);
        made_trainer_free(t);
        made_model_free(m);
        t = NULL;
        m = NULL;
    }
    made__json_free(jc);
    made__json_free(js);
    made__st_free(&f);
    *out = t;
    *model = m;
    return rc;
}
