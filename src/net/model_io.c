/* model_io.c - model files: safetensors with TFP-layout tensors and the
 * configuration in the metadata (docs/model-format.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "io/safetensors.h"
#include "net/config.h"
#include "net/model.h"
#include "net/record.h"

#define FORMAT_NAME "made"
#define FORMAT_VERSION "1"

void made__save_list_free(made__save_list *s)
{
    for (size_t i = 0; i < s->n_owned; i++) made__free(s->owned[i]);
    made__free(s->owned);
    made__free(s->entries);
    memset(s, 0, sizeof *s);
}

void *made__save_list_own(made__save_list *s, size_t bytes)
{
    if (s->n_owned == s->owned_cap) {
        size_t cap = s->owned_cap ? 2 * s->owned_cap : 16;
        void **p = made__realloc(s->owned, cap * sizeof *p);
        if (!p) return NULL;
        s->owned = p;
        s->owned_cap = cap;
    }
    void *p = made__malloc(bytes ? bytes : 1);
    if (p) s->owned[s->n_owned++] = p;
    return p;
}

int made__save_list_add(made__save_list *s, const char *prefix, const char *name,
                        int dt, int ndim, size_t d0, size_t d1, const void *data)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        made__st_entry *p = made__realloc(s->entries, cap * sizeof *p);
        if (!p) return MADE_E_NOMEM;
        s->entries = p;
        s->cap = cap;
    }
    size_t len = strlen(prefix) + strlen(name) + 1;
    char *full = made__save_list_own(s, len);
    if (!full) return MADE_E_NOMEM;
    snprintf(full, len, "%s%s", prefix, name);
    made__st_entry *e = &s->entries[s->count++];
    memset(e, 0, sizeof *e);
    e->name = full;
    e->dtype = (made__st_dtype)dt;
    e->ndim = ndim;
    e->shape[0] = d0;
    e->shape[1] = d1;
    e->data = data;
    return MADE_OK;
}

int made__model_entries(const made_model *m, const char *prefix, made__save_list *s)
{
    const made_config *cfg = &m->cfg;
    const made__degrees *d0 = &m->masks[0];
    char name[48];
    int rc = made__save_list_add(s, prefix, "input_order", MADE__ST_I32, 1,
                                 (size_t)cfg->event_size, 0, d0->deg[0]);
    for (int k = 0; k < m->n_weights && !rc; k++) {
        const made__weight *w = &m->weights[k];
        size_t rows = (size_t)w->shape[0], cols = w->rank == 2 ? (size_t)w->shape[1] : 1;
        float *data = made__save_list_own(s, rows * cols * sizeof(float));
        if (!data) return MADE_E_NOMEM;
        made_model_get_weight(m, k, data, rows * cols);
        rc = made__save_list_add(s, prefix, w->name, MADE__ST_F32, w->rank, rows,
                                 w->rank == 2 ? cols : 0, data);
        /* After the last tensor of a layer, its mask and (hidden) degrees. */
        int last_of_layer = k + 1 == m->n_weights || m->weights[k + 1].layer != w->layer;
        if (rc || !last_of_layer) continue;
        int l = w->layer, in = m->width[l], out = m->width[l + 1];
        uint8_t *mask = made__save_list_own(s, (size_t)in * out);
        if (!mask) return MADE_E_NOMEM;
        made__mask_build(mask, d0, l, cfg->event_size, cfg->params, cfg->hidden_units);
        snprintf(name, sizeof name, "layers.%d.mask", l);
        rc = made__save_list_add(s, prefix, name, MADE__ST_U8, 2, (size_t)in, (size_t)out, mask);
        if (!rc && l < m->nl - 1) {
            snprintf(name, sizeof name, "layers.%d.degrees", l);
            rc = made__save_list_add(s, prefix, name, MADE__ST_I32, 1, (size_t)out, 0,
                                     d0->deg[l + 1]);
        }
    }
    return rc;
}

int made__model_write(const made_model *m, const char *path, const char *format,
                      const made__st_entry *extra, size_t n_extra, const char *const *xkeys,
                      const char *const *xvals, size_t n_xmeta)
{
    made__save_list s = {0};
    int rc = made__model_entries(m, "", &s);
    int len = made__config_to_json_valid(&m->cfg, NULL, 0);
    char *json = !rc && len >= 0 ? made__save_list_own(&s, (size_t)len + 1) : NULL;
    if (!rc && !json) rc = len < 0 ? len : MADE_E_NOMEM;
    if (!rc && (rc = made__config_to_json_valid(&m->cfg, json, (size_t)len + 1)) >= 0) rc = MADE_OK;
    for (size_t i = 0; i < n_extra && !rc; i++)
        rc = made__save_list_add(&s, "", extra[i].name, extra[i].dtype, extra[i].ndim,
                                 extra[i].shape[0], extra[i].shape[1], extra[i].data);
    /* The record only when there is something to record, so an untrained
     * model's file is what it always was. */
    made__buf rec;
    made__buf_init(&rec);
    if (!rc) {
        const char *keys[5 + MADE__MAX_EXTRA_META] = {"format", "format_version", "config",
                                                      "made_version"};
        const char *vals[5 + MADE__MAX_EXTRA_META] = {format, FORMAT_VERSION, json,
                                                      MADE_VERSION_STRING};
        size_t nk = 4;
        if (!made__record_is_default(&m->record)) {
            made__buf_printf(&rec, "{");
            made__record_to_json(&m->record, &rec);
            made__buf_printf(&rec, "}");
            keys[nk] = "record";
            vals[nk++] = rec.data;
        }
        for (size_t i = 0; i < n_xmeta && i < MADE__MAX_EXTRA_META; i++) {
            keys[nk] = xkeys[i];
            vals[nk++] = xvals[i];
        }
        rc = rec.failed ? MADE_E_NOMEM : made__st_write(path, s.entries, s.count, keys, vals, nk);
    }
    made__buf_free(&rec);
    made__save_list_free(&s);
    return rc;
}

int made_model_save(const made_model *m, const char *path)
{
    made__clear_error();
    if (!m || !path) return made__error(MADE_E_INVAL, "save: NULL argument");
    return made__model_write(m, path, FORMAT_NAME, NULL, 0, NULL, NULL, 0);
}

static int32_t get_i32(const unsigned char *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (int32_t)v;
}

static float get_f32(const unsigned char *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

/* Checks the stored tensors (names prefixed by prefix) against the model
 * rebuilt from the config and loads the weights; *count gets the number of
 * tensors read. */
static int load_tensors(made_model *m, const made__st_file *f, const char *prefix, size_t *count)
{
    const made_config *cfg = &m->cfg;
    const made__degrees *d0 = &m->masks[0];
    int rc = MADE_OK;
    size_t expected = 1;
    char name[128];
    snprintf(name, sizeof name, "%sinput_order", prefix);
    const made__st_tensor *t =
        made__st_expect(f, name, MADE__ST_I32, 1, (size_t)cfg->event_size, 0, &rc);
    if (!t) return rc;
    for (int j = 0; j < cfg->event_size; j++)
        if (get_i32(t->data + 4 * (size_t)j) != d0->deg[0][j])
            return made__error(MADE_E_FORMAT, "tensor '%s': entry %d is %d but the "
                               "config gives %d", name, j, get_i32(t->data + 4 * (size_t)j),
                               d0->deg[0][j]);
    for (int l = 0; l < m->nl; l++) {
        int in = m->width[l], out = m->width[l + 1];
        uint8_t *mask = made__malloc((size_t)in * out);
        if (!mask) return MADE_E_NOMEM;
        made__mask_build(mask, d0, l, cfg->event_size, cfg->params, cfg->hidden_units);
        snprintf(name, sizeof name, "%slayers.%d.mask", prefix, l);
        t = made__st_expect(f, name, MADE__ST_U8, 2, (size_t)in, (size_t)out, &rc);
        for (size_t i = 0; t && i < (size_t)in * out; i++)
            if (t->data[i] != mask[i]) {
                rc = made__error(MADE_E_FORMAT, "tensor '%s': entry [%zu, %zu] is %u but the "
                                 "degrees imply %u", name, i / out, i % out, t->data[i], mask[i]);
                break;
            }
        made__free(mask);
        if (rc) return rc;
        expected++;
        if (l < m->nl - 1) {
            snprintf(name, sizeof name, "%slayers.%d.degrees", prefix, l);
            t = made__st_expect(f, name, MADE__ST_I32, 1, (size_t)out, 0, &rc);
            if (!t) return rc;
            for (int u = 0; u < out; u++)
                if (get_i32(t->data + 4 * (size_t)u) != d0->deg[l + 1][u])
                    return made__error(MADE_E_FORMAT, "tensor '%s': entry %d is %d but the "
                                       "config gives %d", name, u, get_i32(t->data + 4 * (size_t)u),
                                       d0->deg[l + 1][u]);
            expected++;
        }
    }
    for (int k = 0; k < m->n_weights; k++) {
        const made__weight *w = &m->weights[k];
        size_t rows = (size_t)w->shape[0], cols = w->rank == 2 ? (size_t)w->shape[1] : 1;
        snprintf(name, sizeof name, "%s%s", prefix, w->name);
        t = made__st_expect(f, name, MADE__ST_F32, w->rank, rows, cols, &rc);
        if (!t) return rc;
        float *buf = made__malloc(rows * cols * sizeof(float));
        if (!buf) return MADE_E_NOMEM;
        for (size_t i = 0; i < rows * cols; i++) {
            buf[i] = get_f32(t->data + 4 * i);
            if (!isfinite(buf[i])) {
                rc = made__error(MADE_E_FORMAT, "tensor '%s': element %zu is not finite", name, i);
                break;
            }
        }
        if (!rc && w->kind == MADE__KERNEL) {
            /* Masked entries must be zero: a file that says otherwise was not
             * written by made, or was altered. */
            const int *pin = m->inv[w->layer], *pout = m->inv[w->layer + 1];
            for (size_t r = 0; r < rows && !rc; r++)
                for (size_t c = 0; c < cols; c++)
                    if (buf[r * cols + c] != 0.0f &&
                        !made__entry_allowed(m, w->layer, pin[r], pout[c])) {
                        rc = made__error(MADE_E_FORMAT, "tensor '%s': masked entry [%zu, %zu] is "
                                         "%g, not 0", name, r, c, (double)buf[r * cols + c]);
                        break;
                    }
        }
        if (!rc) rc = made_model_set_weight(m, k, buf, rows * cols);
        made__free(buf);
        if (rc) return rc;
        expected++;
    }
    *count = expected;
    return MADE_OK;
}

/* Checks, before anything is sized from the config, that the file holds the
 * kernels, conditional kernels and masks of the network the config describes,
 * with their shapes: the model's memory is then bounded by a small multiple of
 * the file's size. Otherwise a 1 KB file whose config claims a huge network
 * costs gigabytes and seconds before it is rejected (fuzz/crashes/model/oom-*).
 * load_tensors checks all of them (and the rest) again, against the masks. */
static int check_network_tensors(const made__st_file *f, const made_config *cfg,
                                 const char *prefix)
{
    char name[128];
    int rc = MADE_OK;
    size_t in = (size_t)cfg->event_size;
    for (int l = 0; l <= cfg->n_hidden; l++) {
        size_t out = l < cfg->n_hidden ? (size_t)cfg->hidden_units[l]
                                       : (size_t)cfg->event_size * (size_t)cfg->params;
        snprintf(name, sizeof name, "%slayers.%d.kernel", prefix, l);
        if (!made__st_expect(f, name, MADE__ST_F32, 2, in, out, &rc)) return rc;
        snprintf(name, sizeof name, "%slayers.%d.mask", prefix, l);
        if (!made__st_expect(f, name, MADE__ST_U8, 2, in, out, &rc)) return rc;
        if (cfg->conditional_size > 0 &&
            (cfg->conditional_layers == MADE_COND_ALL_LAYERS || l == 0)) {
            snprintf(name, sizeof name, "%slayers.%d.conditional_kernel", prefix, l);
            if (!made__st_expect(f, name, MADE__ST_F32, 2, (size_t)cfg->conditional_size, out, &rc))
                return rc;
        }
        in = out;
    }
    return MADE_OK;
}

int made__model_read_tensors(const made__st_file *f, const made_config *cfg, const char *prefix,
                             made_model **out, size_t *count)
{
    *out = NULL;
    int rc = check_network_tensors(f, cfg, prefix);
    if (!rc) rc = made__model_alloc_valid(out, cfg);
    if (!rc) rc = load_tensors(*out, f, prefix, count);
    if (rc) {
        made_model_free(*out);
        *out = NULL;
    }
    return rc;
}

int made__model_read(const made__st_file *f, const char *format, size_t n_extra, made_model **out)
{
    *out = NULL;
    made__json *j = NULL;
    int *order = NULL;
    made_model *m = NULL;
    int rc = MADE_OK;
    const char *fmt = made__st_meta(f, "format");
    const char *ver = made__st_meta(f, "format_version");
    const char *cfg_text = made__st_meta(f, "config");
    if (!fmt || strcmp(fmt, format) != 0) {
        int ckpt = fmt && strcmp(fmt, "made-checkpoint") == 0;
        rc = made__error(MADE_E_FORMAT, "not a %s file (metadata \"format\" is %s%s%s)%s",
                         strcmp(format, FORMAT_NAME) == 0 ? "made model" : format,
                         fmt ? "\"" : "", fmt ? fmt : "missing", fmt ? "\"" : "",
                         ckpt ? ": a training checkpoint; continue it with made train --resume, "
                                "or use the model file it writes at the end" : "");
    } else if (!ver || strcmp(ver, FORMAT_VERSION) != 0) {
        rc = made__error(MADE_E_FORMAT, "format_version %s is not supported (this is made %s, "
                         "which reads version %s)", ver ? ver : "(missing)", MADE_VERSION_STRING,
                         FORMAT_VERSION);
    } else if (!cfg_text) {
        rc = made__error(MADE_E_FORMAT, "metadata has no \"config\"");
    }
    made_config cfg;
    if (!rc) rc = made__json_parse(cfg_text, strlen(cfg_text), &j);
    if (!rc) rc = made__config_from_json(j, &cfg, &order);
    if (!rc && (rc = made_config_validate(&cfg)) != MADE_OK && rc != MADE_E_NOMEM) {
        /* A config that parses but describes no valid model is a bad file. */
        made__error_prefix("config: ");
        rc = MADE_E_FORMAT;
    }
    size_t count = 0;
    if (!rc) rc = made__model_read_tensors(f, &cfg, "", &m, &count);
    if (!rc && f->count != count + n_extra)
        rc = made__error(MADE_E_FORMAT, "the file has %zu tensors, a model with this config has "
                         "%zu", f->count, count + n_extra);
    const char *rec = made__st_meta(f, "record");
    if (!rc && rec) rc = made__record_from_json(rec, &m->record);
    if (rc) {
        made_model_free(m);
        m = NULL;
    }
    made__free(order);
    made__json_free(j);
    *out = m;
    return rc;
}

int made_model_load(made_model **out, const char *path)
{
    made__clear_error();
    if (!out || !path) return made__error(MADE_E_INVAL, "load: NULL argument");
    *out = NULL;
    made__st_file f;
    int rc = made__st_read_as(&f, path, "a made model");
    if (rc) return rc;
    rc = made__model_read(&f, FORMAT_NAME, 0, out);
    if (rc) made__error_prefix("%s: ", path);
    made__st_free(&f);
    return rc;
}
