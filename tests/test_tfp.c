/* test_tfp.c - parity with the real tfp.bijectors.AutoregressiveNetwork.
 *
 * Every fixture listed in tests/fixtures/tfp/index.txt was written by
 * tests/ref/gen_tfp_fixtures.py from TFP itself: the layer's config, the input
 * order and hidden degrees it built, its masks, its get_weights() list (kernels
 * already masked), an input batch x (and c) and TFP's output y. For each one we
 * build the same model, compare degrees, masks and the weight list tensor by
 * tensor, load TFP's weights with made_model_set_weight and compare the forward
 * pass within 1e-5 absolute + 1e-5 relative. The worst error over all fixtures
 * is printed, so a drift shows up long before it fails.
 *
 * Big networks (E >= 100, layers wider than 64 and 256 units, batches of more
 * than 256 rows, conditional, random orders and degrees) keep their tensors in
 * float32 .npy files next to the JSON ({"npy": FILE}; the weights as one flat
 * array split by "weight_shapes"), and their masks are read from the kernels'
 * non-zero pattern ("masks": "weights"; the generator makes every unmasked
 * weight non-zero).
 *
 * Run from the repository root. The index lists file names relative to its own
 * directory; an entry containing '/' is taken relative to the repository root. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/json.h"
#include "made.h"
#include "threads.h"

#define FIXTURE_DIR "tests/fixtures/tfp/"
#define INDEX_PATH FIXTURE_DIR "index.txt"
#define ABS_TOL 1e-5
#define REL_TOL 1e-5
#define MAX_CASES 1024

static char *case_paths[MAX_CASES];
static int n_cases;
static int index_ok; /* index opened and listed at least one file */

static double worst_abs;  /* max |made - tfp| */
static double worst_norm; /* max |made - tfp| / (ABS_TOL + REL_TOL |tfp|): fails above 1 */
static char worst_case[256];
static int n_compared;    /* output values compared */

/* Whole text file, NUL-terminated; NULL if it cannot be read. */
static char *slurp_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (n < cap - 1) break;
        char *p = realloc(buf, cap * 2);
        if (!p) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static void read_index(void)
{
    char *text = slurp_text(INDEX_PATH, NULL);
    if (!text) return;
    for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        while (*line == ' ' || *line == '\t') line++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t')) line[--n] = '\0';
        if (n == 0 || line[0] == '#') continue;
        if (n_cases >= MAX_CASES) break;
        size_t sz = strlen(FIXTURE_DIR) + n + 1;
        char *p = malloc(sz);
        if (!p) break;
        if (strchr(line, '/')) snprintf(p, sz, "%s", line);
        else snprintf(p, sz, "%s%s", FIXTURE_DIR, line);
        case_paths[n_cases++] = p;
    }
    free(text);
    index_ok = n_cases > 0;
}

static void test_index_present(void)
{
    CHECK(index_ok);
    if (!index_ok) fprintf(stderr, "  %s is missing, unreadable or lists no fixture\n", INDEX_PATH);
}

/* ---- JSON helpers -------------------------------------------------------- */

static int json_int(const made__json *v, long long *out)
{
    if (!v || v->type != MADE__JSON_NUMBER || !v->is_integer) return -1;
    *out = v->integer;
    return 0;
}

static const made__json *get_typed(const made__json *obj, const char *key, made__json_type t)
{
    const made__json *v = made__json_get(obj, key);
    return v && v->type == t ? v : NULL;
}

/* {"shape": [...], "data": [...]} -> shape (rank, dims) and data array. */
static int tensor_parts(const made__json *t, int *rank, long long dims[4], const made__json **data)
{
    const made__json *shape = get_typed(t, "shape", MADE__JSON_ARRAY);
    *data = get_typed(t, "data", MADE__JSON_ARRAY);
    if (!shape || !*data || shape->count > 4) return -1;
    size_t total = 1;
    *rank = (int)shape->count;
    for (size_t i = 0; i < shape->count; i++) {
        if (json_int(&shape->items[i], &dims[i]) || dims[i] < 0) return -1;
        total *= (size_t)dims[i];
    }
    return total == (*data)->count ? 0 : -1;
}

/* Data array as floats (malloc'd); NULL on a non-number. */
static float *floats_of(const made__json *data)
{
    float *v = malloc((data->count ? data->count : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < data->count; i++) {
        if (data->items[i].type != MADE__JSON_NUMBER) {
            free(v);
            return NULL;
        }
        v[i] = (float)data->items[i].number;
    }
    return v;
}

/* A tensor from the fixture, inline or from a .npy file. */
typedef struct {
    int rank;
    long long dims[4];
    size_t count;
    float *data; /* malloc'd */
} tensor;

static void tensor_free(tensor *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

/* {"npy": FILE} (relative to the fixture directory) or {"shape", "data"}. */
static int tensor_load(const made__json *j, tensor *t)
{
    memset(t, 0, sizeof *t);
    const made__json *npy = j ? get_typed(j, "npy", MADE__JSON_STRING) : NULL;
    if (npy) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", FIXTURE_DIR, npy->string);
        made_array a;
        if (made_npy_read(&a, path) != MADE_OK || a.ndim > 4) return -1;
        t->rank = a.ndim;
        for (int i = 0; i < a.ndim; i++) t->dims[i] = (long long)a.shape[i];
        t->count = made_array_size(&a);
        t->data = a.data; /* made_array_free would free this: ownership moves */
        return 0;
    }
    const made__json *data;
    if (!j || tensor_parts(j, &t->rank, t->dims, &data)) return -1;
    t->count = data->count;
    t->data = floats_of(data);
    return t->data ? 0 : -1;
}

/* The weight list: inline tensors, or one flat .npy split by "weight_shapes". */
static int weights_load(const made__json *root, tensor *w, int max, int *count)
{
    const made__json *jw = made__json_get(root, "weights");
    *count = 0;
    if (jw && jw->type == MADE__JSON_ARRAY) {
        if ((int)jw->count > max) return -1;
        for (size_t k = 0; k < jw->count; k++, (*count)++)
            if (tensor_load(&jw->items[k], &w[k])) return -1;
        return 0;
    }
    const made__json *shapes = get_typed(root, "weight_shapes", MADE__JSON_ARRAY);
    tensor flat;
    if (!shapes || (int)shapes->count > max || tensor_load(jw, &flat)) return -1;
    size_t at = 0;
    int rc = 0;
    for (size_t k = 0; k < shapes->count && !rc; k++, (*count)++) {
        const made__json *sh = &shapes->items[k];
        tensor *t = &w[k];
        t->count = 1;
        t->rank = sh->type == MADE__JSON_ARRAY ? (int)sh->count : 0;
        if (t->rank < 1 || t->rank > 2) rc = -1;
        for (int i = 0; i < t->rank && !rc; i++) {
            if (json_int(&sh->items[i], &t->dims[i]) || t->dims[i] < 0) rc = -1;
            else t->count *= (size_t)t->dims[i];
        }
        if (!rc && at + t->count > flat.count) rc = -1;
        if (!rc && !(t->data = malloc(t->count * sizeof(float) + 1))) rc = -1;
        if (!rc) memcpy(t->data, flat.data + at, t->count * sizeof(float));
        at += t->count;
    }
    if (!rc && at != flat.count) rc = -1;
    tensor_free(&flat);
    return rc;
}

/* ---- one fixture ---------------------------------------------------------- */

/* Fills cfg from the fixture's "config"; order receives an explicit order. */
static int config_from_fixture(const char *name, const made__json *jc, made_config *cfg, int *order,
                               int order_cap)
{
    long long v;
    made_config_default(cfg);
    if (!jc) {
        HARNESS_FAIL_("%s: no \"config\" object", name);
        return -1;
    }
    if (json_int(made__json_get(jc, "event_size"), &v)) goto bad;
    cfg->event_size = (int)v;
    if (json_int(made__json_get(jc, "params"), &v)) goto bad;
    cfg->params = (int)v;
    const made__json *h = get_typed(jc, "hidden_units", MADE__JSON_ARRAY);
    if (!h || h->count > MADE_MAX_HIDDEN) goto bad;
    cfg->n_hidden = (int)h->count;
    for (size_t l = 0; l < h->count; l++) {
        if (json_int(&h->items[l], &v)) goto bad;
        cfg->hidden_units[l] = (int)v;
    }
    const made__json *o = made__json_get(jc, "input_order");
    if (o && o->type == MADE__JSON_ARRAY) {
        if ((int)o->count > order_cap) goto bad;
        for (size_t i = 0; i < o->count; i++) {
            if (json_int(&o->items[i], &v)) goto bad;
            order[i] = (int)v;
        }
        cfg->input_order = MADE_ORDER_EXPLICIT;
        cfg->explicit_order = order;
    } else if (o && o->type == MADE__JSON_STRING) {
        if (strcmp(o->string, "left-to-right") == 0) cfg->input_order = MADE_ORDER_LEFT_TO_RIGHT;
        else if (strcmp(o->string, "right-to-left") == 0) cfg->input_order = MADE_ORDER_RIGHT_TO_LEFT;
        else if (strcmp(o->string, "random") == 0) cfg->input_order = MADE_ORDER_RANDOM;
        else goto bad;
    } else {
        goto bad;
    }
    const made__json *d = get_typed(jc, "hidden_degrees", MADE__JSON_STRING);
    if (!d) goto bad;
    if (strcmp(d->string, "equal") == 0) cfg->hidden_degrees = MADE_DEGREES_EQUAL;
    else if (strcmp(d->string, "random") == 0) cfg->hidden_degrees = MADE_DEGREES_RANDOM;
    else goto bad;
    const made__json *a = get_typed(jc, "activation", MADE__JSON_STRING);
    if (!a || made_activation_parse(a->string, &cfg->activation) != MADE_OK) goto bad;
    const made__json *b = get_typed(jc, "use_bias", MADE__JSON_BOOL);
    if (!b) goto bad;
    cfg->use_bias = b->boolean;
    if (json_int(made__json_get(jc, "conditional_size"), &v)) goto bad;
    cfg->conditional_size = (int)v;
    const made__json *cl = get_typed(jc, "conditional_layers", MADE__JSON_STRING);
    if (!cl || made_cond_layers_parse(cl->string, &cfg->conditional_layers) != MADE_OK) goto bad;
    if (json_int(made__json_get(jc, "seed"), &v) || v < 0 || v > 4294967295LL) goto bad;
    cfg->seed = (uint32_t)v;
    /* Weights are all overwritten below; zeros keeps creation cheap. */
    cfg->kernel_initializer = made_initializer_default(MADE_INIT_ZEROS);
    return 0;
bad:
    HARNESS_FAIL_("%s: malformed \"config\" (%s)", name, made_last_error());
    return -1;
}

static void check_degrees(const char *name, made_model *m, const made__json *root,
                          const made_config *cfg)
{
    const made__json *jo = get_typed(root, "input_order", MADE__JSON_ARRAY);
    const made__json *jd = get_typed(root, "degrees", MADE__JSON_ARRAY);
    if (!jo || !jd) {
        HARNESS_FAIL_("%s: fixture lacks \"input_order\" or \"degrees\"", name);
        return;
    }
    int maxw = cfg->event_size;
    for (int l = 0; l < cfg->n_hidden; l++)
        if (cfg->hidden_units[l] > maxw) maxw = cfg->hidden_units[l];
    int *deg = malloc((size_t)maxw * sizeof *deg);
    if (!deg) abort();
    if ((int)jd->count != cfg->n_hidden)
        HARNESS_FAIL_("%s: fixture has %zu degree lists, config %d hidden layers", name, jd->count,
                      cfg->n_hidden);
    for (int l = 0; l <= cfg->n_hidden && (l == 0 || (size_t)(l - 1) < jd->count); l++) {
        const made__json *want = l == 0 ? jo : &jd->items[l - 1];
        int n = l == 0 ? cfg->event_size : cfg->hidden_units[l - 1];
        int rc = made_model_degrees(m, l, deg);
        if (rc != MADE_OK) {
            HARNESS_FAIL_("%s: made_model_degrees(%d) -> %d (%s)", name, l, rc, made_last_error());
            continue;
        }
        if (want->type != MADE__JSON_ARRAY || (int)want->count != n) {
            HARNESS_FAIL_("%s: degrees of layer %d: fixture has %zu entries, model %d", name, l,
                          want->type == MADE__JSON_ARRAY ? want->count : 0, n);
            continue;
        }
        for (int u = 0; u < n; u++) {
            long long w = -1;
            if (json_int(&want->items[u], &w) || w != deg[u]) {
                HARNESS_FAIL_("%s: %s degree %d: made %d, tfp %lld", name,
                              l == 0 ? "input_order" : "hidden", u, deg[u], w);
                break;
            }
        }
    }
    free(deg);
}

/* TFP's mask of layer l: stored in the fixture, or (big fixtures) the non-zero
 * pattern of its kernel in the weight list. Returns a malloc'd [in * out]. */
static uint8_t *tfp_mask(const char *name, const made__json *root, made_model *m, int l,
                         const tensor *w, int nw, int in, int out)
{
    uint8_t *mask = malloc((size_t)in * (size_t)out + 1);
    if (!mask) abort();
    const made__json *jm = made__json_get(root, "masks");
    if (jm && jm->type == MADE__JSON_ARRAY) {
        tensor t;
        if ((size_t)l >= jm->count || tensor_load(&jm->items[l], &t) || t.rank != 2 ||
            t.dims[0] != in || t.dims[1] != out) {
            HARNESS_FAIL_("%s: mask %d missing, malformed or not [%d, %d] in the fixture", name, l,
                          in, out);
            free(mask);
            return NULL;
        }
        for (size_t i = 0; i < t.count; i++) mask[i] = t.data[i] != 0.0f;
        tensor_free(&t);
        return mask;
    }
    for (int k = 0; k < nw; k++) {
        const char *wname = NULL;
        int rank, shape[2];
        char want[32];
        snprintf(want, sizeof want, "layers.%d.kernel", l);
        if (made_model_weight_info(m, k, &wname, &rank, shape) == MADE_OK && wname &&
            strcmp(wname, want) == 0 && w[k].count == (size_t)in * (size_t)out) {
            for (size_t i = 0; i < w[k].count; i++) mask[i] = w[k].data[i] != 0.0f;
            return mask;
        }
    }
    HARNESS_FAIL_("%s: no mask for layer %d (neither \"masks\" nor a kernel)", name, l);
    free(mask);
    return NULL;
}

static void check_masks(const char *name, made_model *m, const made__json *root, const tensor *w,
                        int nw)
{
    int nl = made_model_num_layers(m);
    for (int l = 0; l < nl; l++) {
        int in = 0, out = 0;
        CHECK_OK(made_model_layer_shape(m, l, &in, &out));
        uint8_t *want = tfp_mask(name, root, m, l, w, nw, in, out);
        uint8_t *mask = malloc((size_t)in * (size_t)out + 1);
        if (!mask) abort();
        int rc = made_model_mask(m, l, mask);
        if (rc != MADE_OK) HARNESS_FAIL_("%s: made_model_mask(%d) -> %d", name, l, rc);
        for (size_t i = 0; want && rc == MADE_OK && i < (size_t)in * (size_t)out; i++) {
            if (want[i] != mask[i]) {
                HARNESS_FAIL_("%s: mask %d entry [%zu, %zu]: made %u, tfp %u", name, l,
                              i / (size_t)out, i % (size_t)out, mask[i], want[i]);
                break;
            }
        }
        free(mask);
        free(want);
    }
}

/* Checks the weight list's shapes and loads TFP's values. Returns 0 if all were set. */
static int check_and_set_weights(const char *name, made_model *m, const tensor *w, int nw_fix)
{
    int nw = made_model_num_weights(m);
    if (nw_fix != nw) {
        HARNESS_FAIL_("%s: fixture has %d weights, model %d", name, nw_fix, nw);
        return -1;
    }
    int ok = 0;
    size_t total = 0;
    for (int k = 0; k < nw; k++) {
        const char *wname = NULL;
        int rank = 0, shape[2] = {0, 0};
        int rc = made_model_weight_info(m, k, &wname, &rank, shape);
        if (rc != MADE_OK) {
            HARNESS_FAIL_("%s: weight_info(%d) -> %d", name, k, rc);
            ok = -1;
            continue;
        }
        const tensor *t = &w[k];
        if (t->rank != rank || t->dims[0] != shape[0] || (rank == 2 && t->dims[1] != shape[1])) {
            HARNESS_FAIL_("%s: weight %d (%s): made rank %d [%d, %d], tfp rank %d [%lld, %lld]",
                          name, k, wname ? wname : "?", rank, shape[0], rank == 2 ? shape[1] : 0,
                          t->rank, t->dims[0], t->rank == 2 ? t->dims[1] : 0);
            ok = -1;
            continue;
        }
        rc = made_model_set_weight(m, k, t->data, t->count);
        if (rc != MADE_OK) {
            HARNESS_FAIL_("%s: set_weight(%d, %s) -> %d (%s)", name, k, wname, rc, made_last_error());
            ok = -1;
        } else {
            /* TFP's kernels are already masked, so set (which masks) must keep them exactly. */
            float *back = malloc(t->count * sizeof *back + 1);
            if (!back) abort();
            CHECK_OK(made_model_get_weight(m, k, back, t->count));
            if (memcmp(back, t->data, t->count * sizeof *back) != 0)
                HARNESS_FAIL_("%s: weight %d (%s) does not read back bit-exact", name, k, wname);
            free(back);
        }
        total += t->count;
    }
    if (ok == 0 && made_model_num_params(m) != total)
        HARNESS_FAIL_("%s: num_params %zu, tfp weights hold %zu values", name,
                      made_model_num_params(m), total);
    return ok;
}

static void compare_outputs(const char *name, const float *y, const tensor *want,
                            const made_config *cfg)
{
    size_t bad = 0, first_bad = 0;
    for (size_t i = 0; i < want->count; i++) {
        double got = y[i], ref = want->data[i], err = fabs(got - ref);
        double norm = err / (ABS_TOL + REL_TOL * fabs(ref));
        if (!(err == err)) norm = INFINITY, err = INFINITY;
        if (err > worst_abs) worst_abs = err;
        if (norm > worst_norm) {
            worst_norm = norm;
            snprintf(worst_case, sizeof worst_case, "%s [%zu]", name, i);
        }
        if (!(norm <= 1.0) && bad++ == 0) first_bad = i;
        n_compared++;
    }
    if (bad) {
        size_t e = (size_t)cfg->event_size, p = (size_t)cfg->params;
        HARNESS_FAIL_("%s: %zu of %zu outputs differ; first y[%zu, %zu, %zu] = %.9g, tfp %.9g",
                      name, bad, want->count, first_bad / (e * p), first_bad / p % e,
                      first_bad % p, (double)y[first_bad], (double)want->data[first_bad]);
    }
}

static void check_forward(const char *name, made_model *m, const made__json *root,
                          const made_config *cfg)
{
    tensor x, c = {0}, want;
    int conditional = cfg->conditional_size > 0;
    const made__json *jc = made__json_get(root, "c");
    if (tensor_load(made__json_get(root, "x"), &x) || tensor_load(made__json_get(root, "y"), &want) ||
        x.rank != 2 || want.rank != 3) {
        HARNESS_FAIL_("%s: fixture x or y malformed", name);
        tensor_free(&x);
        tensor_free(&want);
        return;
    }
    long long n = x.dims[0];
    int ok = 1;
    if (x.dims[1] != cfg->event_size || want.dims[0] != n || want.dims[1] != cfg->event_size ||
        want.dims[2] != cfg->params) {
        HARNESS_FAIL_("%s: fixture shapes x [%lld, %lld], y [%lld, %lld, %lld] do not fit the "
                      "config", name, x.dims[0], x.dims[1], want.dims[0], want.dims[1], want.dims[2]);
        ok = 0;
    } else if (conditional && (tensor_load(jc, &c) || c.rank != 2 || c.dims[0] != n ||
                               c.dims[1] != cfg->conditional_size)) {
        HARNESS_FAIL_("%s: fixture c missing or malformed", name);
        ok = 0;
    } else if (!conditional && jc && jc->type != MADE__JSON_NULL) {
        HARNESS_FAIL_("%s: fixture has c for an unconditional model", name);
        ok = 0;
    }
    if (ok) {
        float *y = malloc(want.count * sizeof *y + 1);
        if (!y) abort();
        int rc = made_model_forward(m, y, x.data, conditional ? c.data : NULL, (size_t)n);
        if (rc != MADE_OK) HARNESS_FAIL_("%s: forward -> %d (%s)", name, rc, made_last_error());
        else compare_outputs(name, y, &want, cfg);
        /* Big batches once more with two threads: the same numbers. */
        if (rc == MADE_OK && n > 256) {
            float *y2 = malloc(want.count * sizeof *y2 + 1);
            if (!y2) abort();
            CHECK_OK(made_model_set_threads(m, 2));
            share_any_batch(m);
            CHECK_OK(made_model_forward(m, y2, x.data, conditional ? c.data : NULL, (size_t)n));
            if (memcmp(y, y2, want.count * sizeof *y) != 0)
                HARNESS_FAIL_("%s: 2 threads give other outputs than 1", name);
            CHECK_OK(made_model_set_threads(m, 1));
            free(y2);
        }
        free(y);
    }
    tensor_free(&x);
    tensor_free(&c);
    tensor_free(&want);
}

#define MAX_WEIGHTS (3 * (MADE_MAX_HIDDEN + 1))

static void run_fixture(const char *path)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t len;
    char *text = slurp_text(path, &len);
    if (!text) {
        HARNESS_FAIL_("%s: cannot read %s", name, path);
        return;
    }
    made__json *root = NULL;
    int rc = made__json_parse(text, len, &root);
    free(text);
    if (rc != MADE_OK) {
        HARNESS_FAIL_("%s: JSON parse -> %d (%s)", name, rc, made_last_error());
        return;
    }
    made_config cfg;
    static int order[4096];
    made_model *m = NULL;
    tensor w[MAX_WEIGHTS];
    int nw = 0;
    memset(w, 0, sizeof w);
    if (config_from_fixture(name, made__json_get(root, "config"), &cfg, order, 4096) == 0) {
        rc = made_model_create(&m, &cfg);
        if (rc != MADE_OK)
            HARNESS_FAIL_("%s: made_model_create -> %d (%s)", name, rc, made_last_error());
    }
    if (m && weights_load(root, w, MAX_WEIGHTS, &nw)) {
        HARNESS_FAIL_("%s: the fixture's weights are missing or malformed", name);
    } else if (m) {
        check_degrees(name, m, root, &cfg);
        check_masks(name, m, root, w, nw);
        if (check_and_set_weights(name, m, w, nw) == 0) check_forward(name, m, root, &cfg);
    }
    for (int k = 0; k < MAX_WEIGHTS; k++) tensor_free(&w[k]);
    made_model_free(m);
    made__json_free(root);
}

int main(void)
{
    read_index();
    RUN(test_index_present);
    for (int i = 0; i < n_cases; i++) {
        /* RUN with the fixture's name as the case name. */
        harness_case_ = case_paths[i];
        harness_case_failed_ = 0;
        harness_case_skipped_ = 0;
        run_fixture(case_paths[i]);
        harness_end_case_();
    }
    printf("tfp parity: %d fixtures, %d outputs compared; worst |made - tfp| = %.3g; worst "
           "error / (%.0e + %.0e |tfp|) = %.3g at %s\n",
           n_cases, n_compared, worst_abs, ABS_TOL, REL_TOL, worst_norm,
           worst_case[0] ? worst_case : "-");
    for (int i = 0; i < n_cases; i++) free(case_paths[i]);
    return harness_summary("test_tfp");
}
