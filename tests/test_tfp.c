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
 * Run from the repository root. The index lists file names relative to its own
 * directory; an entry containing '/' is taken relative to the repository root. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/json.h"
#include "made.h"

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

static void check_masks(const char *name, made_model *m, const made__json *root)
{
    const made__json *jm = get_typed(root, "masks", MADE__JSON_ARRAY);
    int nl = made_model_num_layers(m);
    if (!jm || (int)jm->count != nl) {
        HARNESS_FAIL_("%s: fixture has %zu masks, model %d layers", name, jm ? jm->count : 0, nl);
        return;
    }
    for (int l = 0; l < nl; l++) {
        int in = 0, out = 0, rank;
        long long dims[4];
        const made__json *data;
        CHECK_OK(made_model_layer_shape(m, l, &in, &out));
        if (tensor_parts(&jm->items[l], &rank, dims, &data) || rank != 2) {
            HARNESS_FAIL_("%s: mask %d is malformed in the fixture", name, l);
            continue;
        }
        if (dims[0] != in || dims[1] != out) {
            HARNESS_FAIL_("%s: mask %d shape: made [%d, %d], tfp [%lld, %lld]", name, l, in, out,
                          dims[0], dims[1]);
            continue;
        }
        uint8_t *mask = malloc((size_t)in * (size_t)out + 1);
        if (!mask) abort();
        int rc = made_model_mask(m, l, mask);
        if (rc != MADE_OK) HARNESS_FAIL_("%s: made_model_mask(%d) -> %d", name, l, rc);
        for (size_t i = 0; rc == MADE_OK && i < (size_t)in * (size_t)out; i++) {
            long long w = -1;
            if (json_int(&data->items[i], &w) || w != mask[i]) {
                HARNESS_FAIL_("%s: mask %d entry [%zu, %zu]: made %u, tfp %lld", name, l,
                              i / (size_t)out, i % (size_t)out, mask[i], w);
                break;
            }
        }
        free(mask);
    }
}

/* Checks the weight list and loads TFP's values. Returns 0 if all were set. */
static int check_and_set_weights(const char *name, made_model *m, const made__json *root)
{
    const made__json *jw = get_typed(root, "weights", MADE__JSON_ARRAY);
    int nw = made_model_num_weights(m);
    if (!jw || (int)jw->count != nw) {
        HARNESS_FAIL_("%s: fixture has %zu weights, model %d", name, jw ? jw->count : 0, nw);
        return -1;
    }
    int ok = 0;
    size_t total = 0;
    for (int k = 0; k < nw; k++) {
        const char *wname = NULL;
        int rank = 0, shape[2] = {0, 0}, frank;
        long long dims[4];
        const made__json *data;
        int rc = made_model_weight_info(m, k, &wname, &rank, shape);
        if (rc != MADE_OK) {
            HARNESS_FAIL_("%s: weight_info(%d) -> %d", name, k, rc);
            ok = -1;
            continue;
        }
        if (tensor_parts(&jw->items[k], &frank, dims, &data)) {
            HARNESS_FAIL_("%s: weight %d is malformed in the fixture", name, k);
            ok = -1;
            continue;
        }
        if (frank != rank || dims[0] != shape[0] || (rank == 2 && dims[1] != shape[1])) {
            HARNESS_FAIL_("%s: weight %d (%s): made rank %d [%d, %d], tfp rank %d [%lld, %lld]",
                          name, k, wname ? wname : "?", rank, shape[0], rank == 2 ? shape[1] : 0,
                          frank, dims[0], frank == 2 ? dims[1] : 0);
            ok = -1;
            continue;
        }
        float *v = floats_of(data);
        if (!v) abort();
        rc = made_model_set_weight(m, k, v, data->count);
        if (rc != MADE_OK) {
            HARNESS_FAIL_("%s: set_weight(%d, %s) -> %d (%s)", name, k, wname, rc, made_last_error());
            ok = -1;
        } else {
            /* TFP's kernels are already masked, so set (which masks) must keep them exactly. */
            float *back = malloc(data->count * sizeof *back + 1);
            if (!back) abort();
            CHECK_OK(made_model_get_weight(m, k, back, data->count));
            if (memcmp(back, v, data->count * sizeof *v) != 0)
                HARNESS_FAIL_("%s: weight %d (%s) does not read back bit-exact", name, k, wname);
            free(back);
        }
        total += data->count;
        free(v);
    }
    if (ok == 0 && made_model_num_params(m) != total)
        HARNESS_FAIL_("%s: num_params %zu, tfp weights hold %zu values", name,
                      made_model_num_params(m), total);
    return ok;
}

static void check_forward(const char *name, made_model *m, const made__json *root,
                          const made_config *cfg)
{
    const made__json *jx = made__json_get(root, "x"), *jc = made__json_get(root, "c"),
                     *jy = made__json_get(root, "y");
    int rank;
    long long xd[4], cd[4], yd[4];
    const made__json *xdata, *cdata = NULL, *ydata;
    if (!jx || !jy || tensor_parts(jx, &rank, xd, &xdata) || rank != 2 ||
        tensor_parts(jy, &rank, yd, &ydata) || rank != 3) {
        HARNESS_FAIL_("%s: fixture x or y malformed", name);
        return;
    }
    long long n = xd[0];
    if (xd[1] != cfg->event_size || yd[0] != n || yd[1] != cfg->event_size || yd[2] != cfg->params) {
        HARNESS_FAIL_("%s: fixture shapes x [%lld, %lld], y [%lld, %lld, %lld] do not fit the "
                      "config", name, xd[0], xd[1], yd[0], yd[1], yd[2]);
        return;
    }
    int conditional = cfg->conditional_size > 0;
    if (conditional) {
        if (!jc || tensor_parts(jc, &rank, cd, &cdata) || rank != 2 || cd[0] != n ||
            cd[1] != cfg->conditional_size) {
            HARNESS_FAIL_("%s: fixture c missing or malformed", name);
            return;
        }
    } else if (jc && jc->type != MADE__JSON_NULL) {
        HARNESS_FAIL_("%s: fixture has c for an unconditional model", name);
        return;
    }
    float *x = floats_of(xdata), *c = conditional ? floats_of(cdata) : NULL;
    float *want = floats_of(ydata);
    float *y = malloc(ydata->count * sizeof *y + 1);
    if (!x || !want || !y || (conditional && !c)) abort();
    int rc = made_model_forward(m, y, x, c, (size_t)n);
    if (rc != MADE_OK) {
        HARNESS_FAIL_("%s: forward -> %d (%s)", name, rc, made_last_error());
    } else {
        size_t bad = 0, first_bad = 0;
        for (size_t i = 0; i < ydata->count; i++) {
            double got = y[i], ref = want[i], err = fabs(got - ref);
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
                          name, bad, ydata->count, first_bad / (e * p), first_bad / p % e,
                          first_bad % p, (double)y[first_bad], (double)want[first_bad]);
        }
    }
    free(x);
    free(c);
    free(want);
    free(y);
}

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
    int order[4096];
    made_model *m = NULL;
    if (config_from_fixture(name, made__json_get(root, "config"), &cfg, order, 4096) == 0) {
        rc = made_model_create(&m, &cfg);
        if (rc != MADE_OK)
            HARNESS_FAIL_("%s: made_model_create -> %d (%s)", name, rc, made_last_error());
    }
    if (m) {
        check_degrees(name, m, root, &cfg);
        check_masks(name, m, root);
        if (check_and_set_weights(name, m, root) == 0) check_forward(name, m, root, &cfg);
    }
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
