/* test_flow_io.c - flow files: save/load round trips (same bits out), the
 * tensor names of docs/model-format.md, every truncation and every flipped
 * byte of a file (rejected, or accepted only when a single float payload
 * changed), and files of the wrong kind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow/flow.h"
#include "harness.h"
#include "flow_fixtures.h"
#include "made.h"
#include "io/safetensors.h"

static char tmpdir[] = "/tmp/made_test_flow_io_XXXXXX";

static const char *tmp_path(const char *name)
{
    static char buf[2][512];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", tmpdir, name);
    return buf[which];
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static int spit(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* made_flow_load on bytes in memory: the file's parse and the flow's checks,
 * without the disk (thousands of damaged files). */
static int load_bytes(made_flow **out, const unsigned char *bytes, size_t size)
{
    *out = NULL;
    made__st_file st;
    int rc = made__st_parse(&st, bytes, size);
    if (rc) return rc;
    rc = made__flow_read(&st, out);
    made__st_free(&st);
    return rc;
}

/* Every number the flow holds, as one float array: all layers' weights, then
 * batch norm, then standardisation (as floats). */
static float *flow_numbers(made_flow *f, size_t *count)
{
    const made_flow_config *c = made_flow_get_config(f);
    int K = c->num_layers, E = c->layer.event_size;
    size_t n = 0;
    /* A shared network (share_weights) counts once. */
    const int nets = c->share_weights ? 1 : K;
    for (int k = 0; k < nets; k++) n += made_model_num_params(made_flow_layer(f, k));
    size_t total = n + (c->batch_norm ? 4 * (size_t)K * E : 0) + 2 * (size_t)E;
    float *v = calloc(total, sizeof *v);
    size_t at = 0;
    for (int k = 0; k < nets; k++) {
        made_model *m = made_flow_layer(f, k);
        made_model_get_weights(m, v + at, made_model_num_params(m));
        at += made_model_num_params(m);
    }
    for (int k = 0; c->batch_norm && k < K; k++, at += 4 * (size_t)E)
        made_flow_get_batchnorm(f, k, v + at, v + at + E, v + at + 2 * E, v + at + 3 * E);
    double *mean = malloc(E * sizeof *mean), *std = malloc(E * sizeof *std);
    made_flow_get_standardize(f, mean, std);
    for (int j = 0; j < E; j++) {
        v[at + j] = (float)mean[j];
        v[at + E + j] = (float)std[j];
    }
    free(mean);
    free(std);
    *count = total;
    return v;
}

static void test_example_k_round_trip(void)
{
    for (int kind = 0; kind <= 1; kind++) {
        made_flow *f = example_k((made_flow_kind)kind), *g = NULL;
        if (!f) return;
        const char *path = tmp_path("k.safetensors");
        CHECK_OK(made_flow_save(f, path));
        CHECK_EQ_INT(made_file_is_flow(path), 1);
        CHECK_OK(made_flow_load(&g, path));
        if (!g) return;
        double a[2], b[2];
        CHECK_OK(made_flow_log_prob(f, a, K_Y, NULL, 2));
        CHECK_OK(made_flow_log_prob(g, b, K_Y, NULL, 2));
        CHECK(memcmp(a, b, sizeof a) == 0);
        CHECK_NEAR(b[0], kind == 0 ? -5.4689384 : -6.8272730, 1e-5);
        int perm[3];
        CHECK_OK(made_flow_get_permutation(g, 0, perm));
        CHECK(perm[0] == 2 && perm[1] == 0 && perm[2] == 1);
        CHECK_EQ_INT(made_flow_get_config(g)->kind, kind);
        /* The names of docs/model-format.md. */
        made__st_file st;
        CHECK_OK(made__st_read(&st, path));
        const char *names[] = {"flow.0.input_order", "flow.0.layers.0.kernel", "flow.0.layers.0.bias",
                               "flow.0.layers.0.mask", "flow.0.layers.0.degrees",
                               "flow.0.layers.1.kernel", "flow.0.permutation",
                               "flow.1.layers.1.bias"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (!made__st_find(&st, names[i])) HARNESS_FAIL_("no tensor %s", names[i]);
        CHECK(made__st_find(&st, "flow.1.permutation") == NULL);
        CHECK_STR_CONTAINS(made__st_meta(&st, "format"), "made-flow");
        CHECK_STR_CONTAINS(made__st_meta(&st, "config"), "\"permutation\":\"explicit\"");
        made__st_free(&st);
        made_flow_free(f);
        made_flow_free(g);
        unlink(path);
    }
}

/* A stack with every option saved and loaded gives the same bits. */
static void test_full_round_trip(void)
{
    for (int v = 0; v < 3; v++) {
        stack_opts o = opts(v == 1 ? MADE_FLOW_IAF : MADE_FLOW_MAF, 3, 4, v == 2 ? 0 : 2);
        o.bn = v != 1;
        o.scale = (made_flow_scale)v;
        o.order = v == 0 ? MADE_ORDER_RANDOM : MADE_ORDER_RIGHT_TO_LEFT;
        o.pre = v == 2 ? MADE_FLOW_PRE_STANDARDIZE : MADE_FLOW_PRE_NONE;
        made_flow *f = stack(&o), *g = NULL;
        if (!f) return;
        const char *path = tmp_path("full.safetensors");
        CHECK_OK(made_flow_save(f, path));
        CHECK_OK(made_flow_load(&g, path));
        if (!g) return;
        const size_t n = 20;
        float *y = rand_rows(n, 4, 1, 1.0), *c = o.C ? rand_rows(n, o.C, 2, 1.0) : NULL;
        double a[20], b[20];
        float sa[80], sb[80];
        CHECK_OK(made_flow_log_prob(f, a, y, c, n));
        CHECK_OK(made_flow_log_prob(g, b, y, c, n));
        CHECK(memcmp(a, b, sizeof a) == 0);
        CHECK_OK(made_flow_sample(f, sa, c, n, 5));
        CHECK_OK(made_flow_sample(g, sb, c, n, 5));
        CHECK(memcmp(sa, sb, sizeof sa) == 0);
        /* And saving the loaded flow gives the same file. */
        const char *path2 = tmp_path("full2.safetensors");
        CHECK_OK(made_flow_save(g, path2));
        size_t s1, s2;
        unsigned char *b1 = slurp(path, &s1), *b2 = slurp(path2, &s2);
        CHECK(b1 && b2 && s1 == s2 && memcmp(b1, b2, s1) == 0);
        free(b1);
        free(b2);
        free(y);
        free(c);
        made_flow_free(f);
        made_flow_free(g);
        unlink(path);
        unlink(path2);
    }
}

/* Rewrites the flow file src as dst with its config's first `from` replaced
 * by `to` (NULL: unchanged) and, when extra is not NULL, one more tensor named
 * extra holding a copy of the tensor named like_name. */
static int rewrite(const char *src, const char *dst, const char *from, const char *to,
                   const char *extra, const char *like_name)
{
    made__st_file st;
    if (made__st_read(&st, src)) return -1;
    made__st_entry *e = calloc(st.count + 1, sizeof *e);
    size_t n = 0;
    for (size_t i = 0; i < st.count; i++, n++) {
        const made__st_tensor *t = &st.tensors[i];
        e[n] = (made__st_entry){t->name, t->dtype, t->ndim, {t->shape[0], t->shape[1]}, t->data};
        if (extra && strcmp(t->name, like_name) == 0) {
            e[n + 1] = e[n];
            e[n + 1].name = extra;
            n++;
        }
    }
    const char *cfg = made__st_meta(&st, "config");
    char *text = malloc(strlen(cfg) + (to ? strlen(to) : 0) + 1);
    const char *at = from ? strstr(cfg, from) : NULL;
    if (at) {
        memcpy(text, cfg, (size_t)(at - cfg));
        strcpy(text + (at - cfg), to);
        strcat(text, at + strlen(from));
    } else {
        strcpy(text, cfg);
    }
    const char *keys[3] = {"format", "format_version", "config"};
    const char *vals[3] = {made__st_meta(&st, "format"), made__st_meta(&st, "format_version"), text};
    int rc = made__st_write(dst, e, n, keys, vals, 3);
    free(text);
    free(e);
    made__st_free(&st);
    return rc || (from && !at) ? -1 : 0;
}

/* share_weights: one network saved once under flow.shared.*, the same bits
 * after a round trip, and files whose tensors do not fit the claim rejected. */
static void test_shared_weights_file(void)
{
    stack_opts o = opts(MADE_FLOW_MAF, 3, 4, 2);
    o.bn = 1;
    o.share = 1;
    made_flow *f = stack(&o), *g = NULL;
    if (!f) return;
    CHECK(made_flow_layer(f, 0) == made_flow_layer(f, 2));
    const size_t net = made_model_num_params(made_flow_layer(f, 0));
    CHECK_EQ_INT(made_flow_num_params(f), net + 3 * 2 * 4);
    const char *path = tmp_path("shared.safetensors"), *bad = tmp_path("bad.safetensors");
    CHECK_OK(made_flow_save(f, path));
    CHECK_OK(made_flow_load(&g, path));
    if (!g) return;
    CHECK_EQ_INT(made_flow_get_config(g)->share_weights, 1);
    CHECK(made_flow_layer(g, 0) == made_flow_layer(g, 1) && made_flow_layer(g, 1) == made_flow_layer(g, 2));
    const size_t n = 20;
    float *y = rand_rows(n, 4, 1, 1.0), *c = rand_rows(n, 2, 2, 1.0);
    double a[20], b[20];
    CHECK_OK(made_flow_log_prob(f, a, y, c, n));
    CHECK_OK(made_flow_log_prob(g, b, y, c, n));
    CHECK(memcmp(a, b, sizeof a) == 0);
    made__st_file st;
    CHECK_OK(made__st_read(&st, path));
    const char *names[] = {"flow.shared.input_order", "flow.shared.layers.0.kernel",
                           "flow.shared.layers.2.conditional_kernel", "flow.0.permutation",
                           "flow.1.permutation", "flow.2.batchnorm.gamma"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!made__st_find(&st, names[i])) HARNESS_FAIL_("no tensor %s", names[i]);
    CHECK(made__st_find(&st, "flow.0.layers.0.kernel") == NULL);
    CHECK(made__st_find(&st, "flow.1.input_order") == NULL);
    CHECK_STR_CONTAINS(made__st_meta(&st, "config"), "\"share_weights\":true");
    made__st_free(&st);
    /* The claim without the tensors, the tensors without the claim, both. */
    made_flow *h = (made_flow *)&h;
    CHECK(rewrite(path, bad, "\"share_weights\":true,", "", NULL, NULL) == 0);
    CHECK_STATUS(made_flow_load(&h, bad), MADE_E_FORMAT);
    CHECK(h == NULL);
    CHECK_STR_CONTAINS(made_last_error(), "flow.0.input_order");
    CHECK(rewrite(path, bad, "\"share_weights\":true", "\"share_weights\":1", NULL, NULL) == 0);
    CHECK_STATUS(made_flow_load(&h, bad), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "share_weights");
    CHECK(rewrite(path, bad, NULL, NULL, "flow.1.layers.0.kernel", "flow.shared.layers.0.kernel") == 0);
    CHECK_STATUS(made_flow_load(&h, bad), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "tensors");
    made_flow *k = example_k(MADE_FLOW_MAF);
    CHECK_OK(made_flow_save(k, path));
    CHECK(rewrite(path, bad, "\"layer\":", "\"share_weights\":true,\"layer\":", NULL, NULL) == 0);
    CHECK_STATUS(made_flow_load(&h, bad), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "flow.shared.input_order");
    /* A config that adds the tensors a second network would have: too many. */
    CHECK(rewrite(path, bad, NULL, NULL, "flow.shared.input_order", "flow.0.input_order") == 0);
    CHECK_STATUS(made_flow_load(&h, bad), MADE_E_FORMAT);
    made_flow_free(k);
    free(y);
    free(c);
    made_flow_free(f);
    made_flow_free(g);
    unlink(path);
    unlink(bad);
}

/* The training record: default until set, kept by save and load, checked. */
static void test_record_round_trip(void)
{
    made_flow *f = example_k(MADE_FLOW_IAF), *g = NULL;
    if (!f) return;
    const made_model_record *r = made_flow_get_record(f);
    CHECK(r && r->epochs_run == 0 && r->stop == MADE_STOP_NONE && isnan(r->train_nll));
    made_model_record rec = *r;
    rec.epochs_run = 7;
    rec.best_epoch = 8;
    CHECK_STATUS(made_flow_set_record(f, &rec), MADE_E_INVAL);
    rec.best_epoch = 5;
    rec.stop = MADE_STOP_PATIENCE;
    rec.train_nll = 1.25;
    rec.val_nll = 1.5;
    CHECK_OK(made_flow_set_record(f, &rec));
    const char *path = tmp_path("rec.safetensors");
    CHECK_OK(made_flow_save(f, path));
    CHECK_OK(made_flow_load(&g, path));
    if (!g) return;
    r = made_flow_get_record(g);
    CHECK(r->epochs_run == 7 && r->best_epoch == 5 && r->stop == MADE_STOP_PATIENCE);
    CHECK(r->train_nll == 1.25 && r->val_nll == 1.5 && isnan(r->binarize));
    made__st_file st;
    CHECK_OK(made__st_read(&st, path));
    CHECK_STR_CONTAINS(made__st_meta(&st, "record"), "\"epochs_run\":7");
    made__st_free(&st);
    /* An untrained flow's file has no record (as for models). */
    made_flow_free(f);
    f = example_k(MADE_FLOW_MAF);
    CHECK_OK(made_flow_save(f, path));
    CHECK_OK(made__st_read(&st, path));
    CHECK(made__st_meta(&st, "record") == NULL);
    made__st_free(&st);
    made_flow_free(f);
    made_flow_free(g);
    unlink(path);
}

static void test_wrong_kind_of_file(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 3;
    made_model *m = NULL;
    CHECK_OK(made_model_create(&m, &cfg));
    const char *path = tmp_path("model.safetensors");
    CHECK_OK(made_model_save(m, path));
    CHECK_EQ_INT(made_file_is_flow(path), 0);
    made_flow *f = (made_flow *)&f;
    CHECK_STATUS(made_flow_load(&f, path), MADE_E_FORMAT);
    CHECK(f == NULL);
    CHECK_STR_CONTAINS(made_last_error(), "not a made flow file");
    made_model_free(m);
    /* and a flow is not a model */
    made_flow *k = example_k(MADE_FLOW_MAF);
    CHECK_OK(made_flow_save(k, path));
    m = (made_model *)&m;
    CHECK_STATUS(made_model_load(&m, path), MADE_E_FORMAT);
    CHECK(m == NULL);
    made_flow_free(k);
    unlink(path);
}

static unsigned char *flow_file(size_t *size, int share)
{
    stack_opts o = opts(MADE_FLOW_MAF, 2, 3, 1);
    o.bn = 1;
    o.share = share;
    o.hidden[0] = 3;
    o.n_hidden = 1;
    made_flow *f = stack(&o);
    if (!f) return NULL;
    const char *path = tmp_path("small.safetensors");
    unsigned char *bytes = NULL;
    if (made_flow_save(f, path) == MADE_OK) bytes = slurp(path, size);
    unlink(path);
    made_flow_free(f);
    return bytes;
}

static void test_truncated_everywhere(void)
{
    size_t size = 0;
    unsigned char *bytes = flow_file(&size, 0);
    CHECK(bytes && size > 16);
    if (!bytes) return;
    const char *path = tmp_path("trunc.safetensors");
    int bad = 0;
    for (size_t k = 0; k < size && bad < 5; k++) {
        made_flow *f = (made_flow *)&f;
        int rc = load_bytes(&f, bytes, k);
        if ((rc != MADE_E_FORMAT && rc != MADE_E_IO) || f != NULL) {
            HARNESS_FAIL_("truncated to %zu of %zu bytes: load -> %d (%s)", k, size, rc,
                          made_last_error());
            if (rc == MADE_OK) made_flow_free(f);
            bad++;
        }
    }
    CHECK(spit(path, bytes, size) == 0);
    made_flow *f = NULL;
    CHECK_OK(made_flow_load(&f, path));
    made_flow_free(f);
    unlink(path);
    free(bytes);
}

static char *config_of(made_flow *f)
{
    made__buf b;
    made__buf_init(&b);
    char *s = made__flow_config_json(made_flow_get_config(f), &b) == MADE_OK ? strdup(b.data) : NULL;
    made__buf_free(&b);
    return s;
}

static void flip_every_byte(int share)
{
    size_t size = 0;
    unsigned char *bytes = flow_file(&size, share);
    if (!bytes) return;
    const char *path = tmp_path("flip.safetensors");
    CHECK(spit(path, bytes, size) == 0);
    made_flow *orig = NULL;
    CHECK_OK(made_flow_load(&orig, path));
    if (!orig) return;
    size_t n0;
    float *v0 = flow_numbers(orig, &n0);
    char *j0 = config_of(orig);
    int bad = 0, accepted = 0, rejected = 0;
    for (size_t k = 0; k < size && bad < 5; k++) {
        bytes[k] ^= 0xFF;
        made_flow *f = (made_flow *)&f;
        int rc = load_bytes(&f, bytes, size);
        bytes[k] ^= 0xFF;
        if (rc == MADE_OK && f) {
            accepted++;
            size_t n;
            float *v = flow_numbers(f, &n);
            char *j = config_of(f);
            size_t diff = 0;
            for (size_t i = 0; n == n0 && i < n; i++) diff += memcmp(&v[i], &v0[i], sizeof *v) != 0;
            if (n != n0 || diff > 1 || !j || strcmp(j, j0) != 0) {
                HARNESS_FAIL_("byte %zu flipped: accepted with %zu numbers changed", k, diff);
                bad++;
            }
            free(v);
            free(j);
            made_flow_free(f);
        } else if (rc == MADE_E_FORMAT || rc == MADE_E_IO) {
            rejected++;
            if (f != NULL) {
                HARNESS_FAIL_("byte %zu flipped: load failed but *out is not NULL", k);
                bad++;
            }
        } else {
            HARNESS_FAIL_("byte %zu flipped: load -> %d (%s)", k, rc, made_last_error());
            bad++;
        }
    }
    CHECK(rejected > 0);
    printf("flow%s flip every byte: %zu bytes, %d accepted (float payload), %d rejected\n",
           share ? " (shared weights)" : "", size, accepted, rejected);
    free(v0);
    free(j0);
    made_flow_free(orig);
    unlink(path);
    free(bytes);
}

static void test_flip_every_byte(void)
{
    flip_every_byte(0);
    flip_every_byte(1);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_example_k_round_trip);
    RUN(test_full_round_trip);
    RUN(test_shared_weights_file);
    RUN(test_record_round_trip);
    RUN(test_wrong_kind_of_file);
    RUN(test_truncated_everywhere);
    RUN(test_flip_every_byte);
    rmdir(tmpdir);
    return harness_summary("test_flow_io");
}
