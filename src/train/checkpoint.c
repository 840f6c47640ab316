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

/* The checkpoint's two JSON objects, one list each: the writer and the reader
 * are both generated from these, so keys, order and formats cannot drift.
 * X(key, kind): kind INT (int or enum field, range-checked on reading) or DBL. */
#define TRAIN_CONFIG_FIELDS(X)                                                        \
    X(optimizer, INT) X(lr, DBL) X(beta1, DBL) X(beta2, DBL) X(eps, DBL) X(momentum, DBL) \
    X(weight_decay, DBL) X(clip_norm, DBL) X(schedule, INT) X(lr_final, DBL)          \
    X(decay_rate, DBL) X(decay_epochs, INT) X(batch_size, INT) X(epochs, INT)         \
    X(patience, INT) X(resample_every, INT)
/* ("seed" follows them: a 64-bit integer, read exactly.) */

/* X(key, printf format, value written). The reader checks ranges itself. */
#define TRAIN_STATE_FIELDS(X)                                                         \
    X(step, "%lld", t->step)                                                          \
    X(epoch, "%d", t->epoch)                                                          \
    X(batch, "%zu", t->batch)                                                         \
    X(epoch_nll, "%.17g", t->epoch_nll)                                               \
    X(epoch_examples, "%zu", t->epoch_examples)                                       \
    X(epoch_seconds, "%.17g", t->epoch_seconds)                                       \
    X(best_val, "%.17g", isnan(t->best_val) ? -1.0 : t->best_val)                     \
    X(bad_epochs, "%d", t->bad_epochs)                                                \
    X(has_best, "%d", t->has_best)                                                    \
    X(stopped, "%d", t->stopped)                                                      \
    X(n_data, "%zu", t->n_data)                                                       \
    X(best_epoch, "%d", t->best_epoch)                                                \
    X(last_train_nll, "%.17g", isnan(t->last_train_nll) ? -1.0 : t->last_train_nll)

#define FMT_INT "%d"
#define FMT_DBL "%.17g"
#define VAL_INT(x) ((int)(x))
#define VAL_DBL(x) (x)

static int train_config_json(const made_train_config *c, made__buf *b)
{
    const char *sep = "{";
#define PUT_CONFIG(key, kind)                                                         \
    made__buf_printf(b, "%s\"" #key "\":" FMT_##kind, sep, VAL_##kind(c->key));       \
    sep = ",";
    TRAIN_CONFIG_FIELDS(PUT_CONFIG)
#undef PUT_CONFIG
    made__buf_printf(b, ",\"seed\":%llu}", (unsigned long long)c->seed);
    return b->failed ? MADE_E_NOMEM : MADE_OK;
}

static int train_state_json(const made_trainer *t, made__buf *b)
{
    const char *sep = "{";
#define PUT_STATE(key, fmt, value)                                                    \
    made__buf_printf(b, "%s\"" #key "\":" fmt, sep, value);                            \
    sep = ",";
    TRAIN_STATE_FIELDS(PUT_STATE)
#undef PUT_STATE
    made__buf_append(b, "}", 1);
    return b->failed ? MADE_E_NOMEM : MADE_OK;
}

int made_trainer_save(const made_trainer *t, const char *path)
{
    made__clear_error();
    if (!t || !path) return made__error(MADE_E_INVAL, "checkpoint: NULL argument");
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
        e->shape[0] = t->obj.n_params;
        e->data = blocks[i];
    }
    made__buf cfg, state;
    made__buf_init(&cfg);
    made__buf_init(&state);
    int rc = train_config_json(&t->cfg, &cfg);
    if (!rc) rc = train_state_json(t, &state);
    if (!rc) {
        const char *keys[] = {"train_config", "train_state", "note"};
        const char *vals[] = {cfg.data, state.data, t->note};
        size_t n_meta = t->note ? 3 : 2;
        rc = t->obj.write ? t->obj.write(t->obj.self, path, extra, n_extra, keys, vals, n_meta)
                          : made__model_write(t->m, path, CKPT_FORMAT, extra, n_extra, keys, vals,
                                              n_meta);
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
    enum {
#define IDX(key, kind) C_##key,
        TRAIN_CONFIG_FIELDS(IDX)
#undef IDX
        N_CONFIG
    };
    static const char *const keys[N_CONFIG + 1] = {
#define KEY(key, kind) #key,
        TRAIN_CONFIG_FIELDS(KEY)
#undef KEY
        "seed"};
    double v[N_CONFIG + 1];
    for (int i = 0; i <= N_CONFIG; i++) {
        int rc = num(j, keys[i], &v[i]);
        if (rc) return rc;
    }
    /* Converting a double outside int's range to int is undefined behaviour,
     * so the int fields are range-checked first (fuzz/crashes/model/ub-*). */
#define IN_RANGE_INT(x) ((x) >= INT_MIN && (x) <= INT_MAX)
#define IN_RANGE_DBL(x) 1
#define CHECK(key, kind)                                                              \
    if (!IN_RANGE_##kind(v[C_##key]))                                                 \
        return made__error(MADE_E_FORMAT, "checkpoint: \"%s\" is out of range", #key);
    TRAIN_CONFIG_FIELDS(CHECK)
#undef CHECK
    made_train_config_default(c);
#define SET(key, kind) c->key = VAL_##kind(v[C_##key]);
    TRAIN_CONFIG_FIELDS(SET)
#undef SET
    const made__json *s = made__json_get(j, "seed");
    if (!s->is_integer) return made__error(MADE_E_FORMAT, "checkpoint: seed is not an integer");
    c->seed = (uint64_t)s->integer;
    if (made_train_config_validate(c)) {
        made__error_prefix("checkpoint: train_config: ");
        return MADE_E_FORMAT;
    }
    return MADE_OK;
}

int made__checkpoint_read_state(const made__json *j, made_trainer *t)
{
    enum {
#define IDX(key, fmt, value) S_##key,
        TRAIN_STATE_FIELDS(IDX)
#undef IDX
        N_STATE
    };
    static const char *const keys[N_STATE] = {
#define KEY(key, fmt, value) #key,
        TRAIN_STATE_FIELDS(KEY)
#undef KEY
    };
    double v[N_STATE];
    for (int i = 0; i < N_STATE; i++) {
        int rc = num(j, keys[i], &v[i]);
        if (rc) return rc;
    }
    if (v[S_step] < 0 || v[S_epoch] < 0 || v[S_epoch] > t->cfg.epochs || v[S_batch] < 0 ||
        v[S_epoch_examples] < 0 || v[S_bad_epochs] < 0 || v[S_bad_epochs] > INT_MAX ||
        v[S_n_data] < 0 || v[S_step] > 9e15 || v[S_n_data] > 9e15 ||
        v[S_epoch_examples] > 9e15 || v[S_batch] > 9e15 || !(v[S_best_epoch] >= 0) ||
        v[S_best_epoch] > v[S_epoch])
        return made__error(MADE_E_FORMAT, "checkpoint: train_state has out-of-range counters");
    t->step = (long long)v[S_step];
    t->epoch = (int)v[S_epoch];
    t->batch = (size_t)v[S_batch];
    t->epoch_nll = v[S_epoch_nll];
    t->epoch_examples = (size_t)v[S_epoch_examples];
    t->epoch_seconds = v[S_epoch_seconds];
    t->best_val = v[S_best_val] < 0 && v[S_has_best] == 0 ? NAN : v[S_best_val];
    t->bad_epochs = (int)v[S_bad_epochs];
    t->has_best = v[S_has_best] != 0;
    t->stopped = v[S_stopped] != 0;
    t->n_data = (size_t)v[S_n_data];
    t->best_epoch = (int)v[S_best_epoch];
    t->last_train_nll = v[S_last_train_nll] < 0 ? NAN : v[S_last_train_nll];
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

/* The optimiser state and best parameters, one flat block each. */
int made__checkpoint_read_blocks(const made__st_file *f, made_trainer *t)
{
    size_t n = t->obj.n_params;
    int rc = read_block(f, "optimizer.m1", t->m1, n);
    if (!rc && t->m2) rc = read_block(f, "optimizer.m2", t->m2, n);
    if (!rc) rc = read_block(f, "trainer.best", t->best, n);
    return rc;
}

/* Parses the checkpoint's training settings (cfg) and state (*js, to free). */
int made__checkpoint_read_meta(const made__st_file *f, made_train_config *cfg, made__json **js)
{
    made__json *jc = NULL;
    const char *tc = made__st_meta(f, "train_config"), *ts = made__st_meta(f, "train_state");
    made_train_config_default(cfg);
    *js = NULL;
    if (!tc || !ts) {
        const char *fmt = made__st_meta(f, "format");
        int model = fmt && strcmp(fmt, "made") == 0;
        int flow = fmt && strcmp(fmt, "made-flow") == 0;
        return made__error(MADE_E_FORMAT, "not a made checkpoint (no train_config/train_state)%s",
                           model ? "; it is a model: to train it further, use made train "
                           "--init-from MODEL" : flow ? "; it is a flow, not a checkpoint" : "");
    }
    int rc = made__json_parse(tc, strlen(tc), &jc);
    if (!rc) rc = made__json_parse(ts, strlen(ts), js);
    if (!rc) rc = read_train_config(jc, cfg);
    made__json_free(jc);
    return rc;
}

int made_trainer_resume(made_trainer **out, made_model **model, const char *path)
{
    made__clear_error();
    if (!out || !model || !path) return made__error(MADE_E_INVAL, "resume: NULL argument");
    *out = NULL;
    *model = NULL;
    made__st_file f;
    int rc = made__st_read_as(&f, path, "a made checkpoint");
    if (rc) return rc;
    made_model *m = NULL;
    made_trainer *t = NULL;
    made__json *js = NULL;
    made_train_config cfg;
    rc = made__checkpoint_read_meta(&f, &cfg, &js);
    size_t n_extra = cfg.optimizer == MADE_OPTIM_ADAM ? 3 : 2;
    if (!rc) rc = made__model_read(&f, CKPT_FORMAT, n_extra, &m);
    if (!rc) rc = made__trainer_alloc(&t, m, &cfg);
    if (!rc) rc = made__checkpoint_read_state(js, t);
    if (!rc) rc = made__checkpoint_read_blocks(&f, t);
    const char *note = made__st_meta(&f, "note");
    if (!rc && note) rc = made_trainer_set_note(t, note);
    /* The mask set in use is a function of the step. */
    if (!rc) rc = made_model_set_mask(m, made__trainer_mask(t, t->step));
    if (rc) {
        made__error_prefix("%s: ", path);
        made_trainer_free(t);
        made_model_free(m);
        t = NULL;
        m = NULL;
    }
    made__json_free(js);
    made__st_free(&f);
    *out = t;
    *model = m;
    return rc;
}
