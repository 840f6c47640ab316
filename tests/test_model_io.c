/* test_model_io.c - model files: bit-exact save/load round trips for every kind
 * of configuration, atomic replacement, and rejection of damaged and hostile
 * files (every truncation, every byte flipped, hand-written safetensors that
 * break one rule each, allocation failures at every point of save and load). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "harness.h"
#include "io/safetensors.h"
#include "made.h"
#include "util.h"

/* Removes everything below dir (one level of subdirectories is enough here). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
                chmod(p, 0700);
                remove_tree(p);
            } else {
                unlink(p);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Number of entries in dir (without . and ..), -1 if it cannot be opened. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Deterministic uniform floats in [-a, a]. */
static uint64_t lcg_state = 0x2545F4914F6CDD1DULL;
static float frand(float a)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return a * (2.0f * (float)((lcg_state >> 40) * (1.0 / 16777216.0)) - 1.0f);
}

/* ---- configurations ------------------------------------------------------- */

static const int explicit_order_4[] = {3, 1, 4, 2};

typedef struct cfg_case {
    const char *name;
    made_config cfg;
} cfg_case;

static int n_cfgs;
static cfg_case cfgs[16];

static made_config *add_cfg(const char *name, int e, int p, int nh, const int *hidden)
{
    cfg_case *c = &cfgs[n_cfgs++];
    c->name = name;
    made_config_default(&c->cfg);
    c->cfg.event_size = e;
    c->cfg.params = p;
    c->cfg.n_hidden = nh;
    for (int l = 0; l < nh; l++) c->cfg.hidden_units[l] = hidden[l];
    c->cfg.activation = MADE_ACT_TANH;
    /* Non-zero biases, so that every tensor's bits are exercised. */
    made_initializer_parse("random_normal:0,0.5", &c->cfg.bias_initializer);
    c->cfg.seed = 7u + (uint32_t)n_cfgs;
    return &c->cfg;
}

static void build_cfgs(void)
{
    made_config *c;
    c = add_cfg("cond-all", 3, 2, 2, (const int[]){4, 5});
    c->conditional_size = 2;
    c->conditional_layers = MADE_COND_ALL_LAYERS;
    c = add_cfg("cond-first", 3, 2, 2, (const int[]){4, 5});
    c->conditional_size = 3;
    c->conditional_layers = MADE_COND_FIRST_LAYER;
    c = add_cfg("cond-first-no-hidden", 4, 2, 0, NULL);
    c->conditional_size = 2;
    c->conditional_layers = MADE_COND_FIRST_LAYER;
    add_cfg("no-hidden", 4, 3, 0, NULL);
    add_cfg("E1", 1, 2, 1, (const int[]){3});
    c = add_cfg("explicit-order", 4, 2, 1, (const int[]){6});
    c->input_order = MADE_ORDER_EXPLICIT;
    c->explicit_order = explicit_order_4;
    c = add_cfg("random-order-degrees", 5, 2, 2, (const int[]){6, 4});
    c->input_order = MADE_ORDER_RANDOM;
    c->hidden_degrees = MADE_DEGREES_RANDOM;
    c->seed = 42;
    c = add_cfg("masks-3-random-order", 4, 2, 1, (const int[]){5});
    c->input_order = MADE_ORDER_RANDOM;
    c->num_masks = 3;
    c = add_cfg("dist-categorical-4", 3, 4, 1, (const int[]){6});
    made_dist_parse("categorical:4", &c->dist);
    c = add_cfg("no-bias-relu-he", 3, 1, 2, (const int[]){3, 3});
    c->use_bias = 0;
    c->activation = MADE_ACT_RELU;
    made_initializer_parse("he_normal", &c->kernel_initializer);
    c = add_cfg("gaussian-validate-vs", 2, 2, 1, (const int[]){2});
    made_dist_parse("gaussian", &c->dist);
    c->validate_args = 1;
    made_initializer_parse("variance_scaling:scale=0.5,mode=fan_avg,distribution=uniform",
                           &c->kernel_initializer);
}

static char *config_json(const made_config *cfg)
{
    int len = made_config_to_json(cfg, NULL, 0);
    if (len < 0) return NULL;
    char *s = malloc((size_t)len + 1);
    if (s) made_config_to_json(cfg, s, (size_t)len + 1);
    return s;
}

/* Forward outputs of m on a fixed batch (n rows); malloc'd. */
static float *run_forward(made_model *m, size_t n)
{
    const made_config *cfg = made_model_config(m);
    size_t e = (size_t)cfg->event_size, c = (size_t)cfg->conditional_size;
    float *x = malloc(n * e * sizeof *x), *cc = c ? malloc(n * c * sizeof *cc) : NULL;
    float *y = malloc(n * e * (size_t)cfg->params * sizeof *y);
    uint64_t saved = lcg_state;
    lcg_state = 12345;
    for (size_t i = 0; i < n * e; i++) x[i] = frand(2.0f);
    for (size_t i = 0; i < n * c; i++) cc[i] = frand(2.0f);
    lcg_state = saved;
    int rc = made_model_forward(m, y, x, cc, n);
    free(x);
    free(cc);
    if (rc != MADE_OK) {
        free(y);
        return NULL;
    }
    return y;
}

/* ---- round trips ---------------------------------------------------------- */

static void round_trip_one(const cfg_case *cc)
{
    const char *path = tmp_path("rt.safetensors"), *path2 = tmp_path("rt2.safetensors");
    made_model *a = NULL, *b = NULL;
    int rc = made_model_create(&a, &cc->cfg);
    if (rc != MADE_OK) {
        HARNESS_FAIL_("%s: create -> %d (%s)", cc->name, rc, made_last_error());
        return;
    }
    size_t np = made_model_num_params(a);
    float *wa = malloc(np * sizeof *wa + 1), *wb = calloc(np + 1, sizeof *wb);
    CHECK_OK(made_model_get_weights(a, wa, np));
    rc = made_model_save(a, path);
    if (rc != MADE_OK) HARNESS_FAIL_("%s: save -> %d (%s)", cc->name, rc, made_last_error());
    rc = rc ? rc : made_model_load(&b, path);
    if (rc != MADE_OK || !b) {
        HARNESS_FAIL_("%s: load -> %d (%s)", cc->name, rc, made_last_error());
        goto done;
    }
    CHECK_EQ_INT(made_model_num_params(b), np);
    if (made_model_num_params(b) == np) {
        CHECK_OK(made_model_get_weights(b, wb, np));
        if (memcmp(wa, wb, np * sizeof *wa) != 0)
            HARNESS_FAIL_("%s: weights differ after load", cc->name);
    }
    char *ja = config_json(made_model_config(a)), *jb = config_json(made_model_config(b));
    CHECK(ja && jb);
    if (ja && jb && strcmp(ja, jb) != 0)
        HARNESS_FAIL_("%s: config differs after load:\n  saved  %s\n  loaded %s", cc->name, ja, jb);
    free(ja);
    free(jb);
    /* Order actually used (also for 'random') and every mask set's degrees. */
    const made_config *ca = made_model_config(a), *cb = made_model_config(b);
    CHECK(cb->explicit_order != NULL);
    if (cb->explicit_order && memcmp(ca->explicit_order, cb->explicit_order,
                                     (size_t)ca->event_size * sizeof(int)) != 0)
        HARNESS_FAIL_("%s: order used differs after load", cc->name);
    for (int k = 0; k < ca->num_masks; k++) {
        CHECK_OK(made_model_set_mask(a, k));
        CHECK_OK(made_model_set_mask(b, k));
        for (int l = 0; l <= ca->n_hidden; l++) {
            int da[64], db[64];
            CHECK_OK(made_model_degrees(a, l, da));
            CHECK_OK(made_model_degrees(b, l, db));
            int n = l ? ca->hidden_units[l - 1] : ca->event_size;
            if (memcmp(da, db, (size_t)n * sizeof(int)) != 0)
                HARNESS_FAIL_("%s: mask set %d degrees of layer %d differ", cc->name, k, l);
        }
        float *ya = run_forward(a, 7), *yb = run_forward(b, 7);
        CHECK(ya && yb);
        size_t ny = 7 * (size_t)ca->event_size * (size_t)ca->params;
        if (ya && yb && memcmp(ya, yb, ny * sizeof *ya) != 0)
            HARNESS_FAIL_("%s: forward (mask set %d) differs after load", cc->name, k);
        free(ya);
        free(yb);
    }
    CHECK_OK(made_model_set_mask(a, 0));
    CHECK_OK(made_model_set_mask(b, 0));
    /* Saving the loaded model gives the same bytes. */
    CHECK_OK(made_model_save(b, path2));
    size_t s1 = 0, s2 = 0;
    unsigned char *f1 = slurp(path, &s1), *f2 = slurp(path2, &s2);
    CHECK(f1 && f2);
    if (f1 && f2 && (s1 != s2 || memcmp(f1, f2, s1) != 0))
        HARNESS_FAIL_("%s: re-saving the loaded model changed the file (%zu vs %zu bytes)",
                      cc->name, s1, s2);
    free(f1);
    free(f2);
done:
    free(wa);
    free(wb);
    made_model_free(a);
    made_model_free(b);
    unlink(path);
    unlink(path2);
}

static void test_round_trips(void)
{
    for (int i = 0; i < n_cfgs; i++) round_trip_one(&cfgs[i]);
}

/* A model whose current mask set is not 0 saves the same parameters; the mask
 * set index is not part of the file, so the loaded model starts at 0. */
static void test_round_trip_other_mask_selected(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 4;
    cfg.params = 2;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 6;
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.hidden_degrees = MADE_DEGREES_RANDOM;
    cfg.num_masks = 4;
    cfg.seed = 3;
    made_model *a = NULL, *b = NULL;
    CHECK_OK(made_model_create(&a, &cfg));
    if (!a) return;
    CHECK_OK(made_model_set_mask(a, 2));
    const char *path = tmp_path("mask2.safetensors");
    CHECK_OK(made_model_save(a, path));
    CHECK_OK(made_model_load(&b, path));
    if (b) {
        CHECK_EQ_INT(made_model_mask_index(b), 0);
        size_t np = made_model_num_params(a);
        float *wa = malloc(np * sizeof *wa), *wb = malloc(np * sizeof *wb);
        CHECK_OK(made_model_get_weights(a, wa, np));
        CHECK_OK(made_model_get_weights(b, wb, np));
        CHECK(memcmp(wa, wb, np * sizeof *wa) == 0);
        CHECK_OK(made_model_set_mask(b, 2));
        float *ya = run_forward(a, 5), *yb = run_forward(b, 5);
        CHECK(ya && yb && memcmp(ya, yb, 5 * 4 * 2 * sizeof *ya) == 0);
        free(ya);
        free(yb);
        free(wa);
        free(wb);
    }
    made_model_free(a);
    made_model_free(b);
    unlink(path);
}

/* ---- atomic replacement ------------------------------------------------------ */

static made_model *small_model(uint32_t seed)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 3;
    cfg.params = 2;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 4;
    cfg.activation = MADE_ACT_RELU;
    cfg.seed = seed;
    made_initializer_parse("random_normal:0,0.5", &cfg.bias_initializer);
    made_model *m = NULL;
    if (made_model_create(&m, &cfg) != MADE_OK) return NULL;
    return m;
}

static void test_save_missing_directory(void)
{
    made_model *m = small_model(1);
    CHECK(m);
    if (!m) return;
    const char *path = tmp_path("no-such-dir/m.safetensors");
    CHECK_STATUS(made_model_save(m, path), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), "no-such-dir");
    CHECK(!file_exists(path));
    CHECK(!file_exists(tmp_path("no-such-dir")));
    made_model_free(m);
}

/* A failed save leaves the existing file as it was, and no temp file. Root
 * ignores directory permissions, so as root the case runs as "nobody"
 * (harness_unprivileged) in a directory that user owns. */
static void save_into_readonly_directory(void)
{
    const char *dir = tmp_path("ro");
    char path[600];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    made_model *a = small_model(1), *b = small_model(2);
    CHECK(a && b);
    if (a && b) {
        CHECK_OK(made_model_save(a, path));
        size_t s0 = 0, s1 = 0;
        unsigned char *before = slurp(path, &s0);
        CHECK(chmod(dir, 0500) == 0);
        CHECK_STATUS(made_model_save(b, path), MADE_E_IO);
        chmod(dir, 0700);
        unsigned char *after = slurp(path, &s1);
        CHECK(before && after && s0 == s1 && memcmp(before, after, s0) == 0);
        CHECK_EQ_INT(count_entries(dir), 1);
        free(before);
        free(after);
    }
    made_model_free(a);
    made_model_free(b);
}

static void test_save_readonly_directory(void)
{
    const char *dir = tmp_path("ro");
    CHECK(mkdir(dir, 0700) == 0);
    if (geteuid() == 0) CHECK(chown(dir, 65534, 65534) == 0);
    harness_unprivileged(save_into_readonly_directory);
    char path[600];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    unlink(path);
    rmdir(dir);
}

/* The target is a directory: rename fails, the directory and its contents stay,
 * and no temp file is left (this one works as root too). */
static void test_save_over_directory(void)
{
    const char *dir = tmp_path("isdir.safetensors");
    CHECK(mkdir(dir, 0700) == 0);
    char inner[600];
    snprintf(inner, sizeof inner, "%s/keep", dir);
    CHECK(spit(inner, "x", 1) == 0);
    made_model *m = small_model(1);
    CHECK(m);
    if (m) {
        int n_before = count_entries(tmpdir);
        int rc = made_model_save(m, dir);
        CHECK(rc == MADE_E_IO);
        if (rc != MADE_E_IO) HARNESS_FAIL_("save over a directory -> %d (%s)", rc, made_last_error());
        struct stat st;
        CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK(file_exists(inner));
        CHECK_EQ_INT(count_entries(tmpdir), n_before);
    }
    made_model_free(m);
    unlink(inner);
    rmdir(dir);
}

/* Fail the k-th allocation of a save for every k: each attempt fails with
 * MADE_E_NOMEM, leaves the existing file byte-identical and no temp file. */
static void test_save_alloc_failures(void)
{
    const char *dir = tmp_path("nomem");
    CHECK(mkdir(dir, 0700) == 0);
    char path[600];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    made_model *a = small_model(1), *b = small_model(2);
    CHECK(a && b);
    if (a && b) {
        CHECK_OK(made_model_save(a, path));
        size_t s0 = 0;
        unsigned char *before = slurp(path, &s0);
        int k, succeeded = 0;
        for (k = 1; k < 10000 && !succeeded; k++) {
            made__alloc_fail_at(k);
            int rc = made_model_save(b, path);
            made__alloc_fail_at(0);
            if (rc == MADE_OK) {
                succeeded = 1;
                break;
            }
            if (rc != MADE_E_NOMEM) {
                HARNESS_FAIL_("save with allocation %d failing -> %d, want MADE_E_NOMEM (%s)", k, rc,
                              made_last_error());
                break;
            }
            size_t s1 = 0;
            unsigned char *after = slurp(path, &s1);
            int same = after && s1 == s0 && memcmp(before, after, s0) == 0;
            free(after);
            if (!same) {
                HARNESS_FAIL_("save with allocation %d failing changed the existing file", k);
                break;
            }
            if (count_entries(dir) != 1) {
                HARNESS_FAIL_("save with allocation %d failing left %d files", k, count_entries(dir));
                break;
            }
        }
        CHECK(succeeded);
        CHECK(k > 1); /* at least one allocation was exercised */
        /* Now the file holds b. */
        made_model *c = NULL;
        if (succeeded) CHECK_OK(made_model_load(&c, path));
        if (c) {
            size_t np = made_model_num_params(b);
            float *wb = malloc(np * sizeof *wb), *wc = malloc(np * sizeof *wc);
            CHECK_OK(made_model_get_weights(b, wb, np));
            CHECK_OK(made_model_get_weights(c, wc, np));
            CHECK(memcmp(wb, wc, np * sizeof *wb) == 0);
            free(wb);
            free(wc);
        }
        made_model_free(c);
        free(before);
    }
    made_model_free(a);
    made_model_free(b);
    unlink(path);
    rmdir(dir);
}

/* Fail the k-th allocation of a load for every k: MADE_E_NOMEM, *out NULL, no
 * leak (AddressSanitizer checks that under SANITIZE=1). */
static void test_load_alloc_failures(void)
{
    made_model *a = small_model(5);
    CHECK(a);
    if (!a) return;
    const char *path = tmp_path("load-nomem.safetensors");
    CHECK_OK(made_model_save(a, path));
    int k, succeeded = 0;
    for (k = 1; k < 10000; k++) {
        made_model *m = (made_model *)&k; /* must be reset to NULL on failure */
        made__alloc_fail_at(k);
        int rc = made_model_load(&m, path);
        made__alloc_fail_at(0);
        if (rc == MADE_OK) {
            succeeded = 1;
            made_model_free(m);
            break;
        }
        if (rc != MADE_E_NOMEM) {
            HARNESS_FAIL_("load with allocation %d failing -> %d, want MADE_E_NOMEM (%s)", k, rc,
                          made_last_error());
            break;
        }
        if (m != NULL) {
            HARNESS_FAIL_("load with allocation %d failing left *out set", k);
            break;
        }
    }
    CHECK(succeeded);
    made_model_free(a);
    unlink(path);
}

static void test_load_missing_and_directory(void)
{
    made_model *m = (made_model *)&m;
    CHECK_STATUS(made_model_load(&m, tmp_path("does-not-exist.safetensors")), MADE_E_IO);
    CHECK(m == NULL);
    CHECK_STR_CONTAINS(made_last_error(), "does-not-exist.safetensors");
    m = (made_model *)&m;
    CHECK_STATUS(made_model_load(&m, tmpdir), MADE_E_IO);
    CHECK(m == NULL);
    const char *empty = tmp_path("empty.safetensors");
    CHECK(spit(empty, "", 0) == 0);
    CHECK_STATUS(made_model_load(&m, empty), MADE_E_FORMAT);
    CHECK(m == NULL);
    unlink(empty);
}

/* ---- damaged files ----------------------------------------------------------- */

static unsigned char *small_file(size_t *size)
{
    made_model *m = small_model(9);
    if (!m) return NULL;
    const char *path = tmp_path("small.safetensors");
    unsigned char *bytes = NULL;
    if (made_model_save(m, path) == MADE_OK) bytes = slurp(path, size);
    unlink(path);
    made_model_free(m);
    return bytes;
}

static void test_truncated_everywhere(void)
{
    size_t size = 0;
    unsigned char *bytes = small_file(&size);
    CHECK(bytes && size > 16);
    if (!bytes) return;
    const char *path = tmp_path("trunc.safetensors");
    int bad = 0;
    for (size_t k = 0; k < size && bad < 5; k++) {
        if (spit(path, bytes, k) != 0) {
            HARNESS_FAIL_("cannot write %s", path);
            break;
        }
        made_model *m = (made_model *)&m;
        int rc = made_model_load(&m, path);
        if ((rc != MADE_E_FORMAT && rc != MADE_E_IO) || m != NULL) {
            HARNESS_FAIL_("file truncated to %zu of %zu bytes: load -> %d (%s)%s", k, size, rc,
                          made_last_error(), m ? ", *out not NULL" : "");
            if (rc == MADE_OK) made_model_free(m);
            bad++;
        }
    }
    /* The whole file still loads. */
    CHECK(spit(path, bytes, size) == 0);
    made_model *m = NULL;
    CHECK_OK(made_model_load(&m, path));
    made_model_free(m);
    unlink(path);
    free(bytes);
}

/* Weights of the model in path as raw bits, or NULL. */
static float *weights_of(made_model *m, size_t *np)
{
    *np = made_model_num_params(m);
    float *w = malloc(*np * sizeof *w + 1);
    if (w && made_model_get_weights(m, w, *np) != MADE_OK) {
        free(w);
        w = NULL;
    }
    return w;
}

static void test_flip_every_byte(void)
{
    size_t size = 0;
    unsigned char *bytes = small_file(&size);
    CHECK(bytes && size > 16);
    if (!bytes) return;
    const char *path = tmp_path("flip.safetensors");
    CHECK(spit(path, bytes, size) == 0);
    made_model *orig = NULL;
    CHECK_OK(made_model_load(&orig, path));
    if (!orig) {
        free(bytes);
        return;
    }
    size_t np0;
    float *w0 = weights_of(orig, &np0);
    char *j0 = config_json(made_model_config(orig));
    int bad = 0, accepted = 0, rejected = 0;
    for (size_t k = 0; k < size && bad < 5; k++) {
        bytes[k] ^= 0xFF;
        int wrote = spit(path, bytes, size);
        bytes[k] ^= 0xFF;
        if (wrote != 0) {
            HARNESS_FAIL_("cannot write %s", path);
            break;
        }
        made_model *m = (made_model *)&m;
        int rc = made_model_load(&m, path);
        if (rc == MADE_OK && m) {
            /* Accepted: the flip must have landed in a float payload (one weight
             * changed, config intact) or in text that does not matter. */
            accepted++;
            size_t np;
            float *w = weights_of(m, &np);
            char *j = config_json(made_model_config(m));
            size_t diff = 0;
            if (w && np == np0)
                for (size_t i = 0; i < np; i++) diff += memcmp(&w[i], &w0[i], sizeof *w) != 0;
            if (!w || np != np0 || diff > 1 || !j || strcmp(j, j0) != 0) {
                HARNESS_FAIL_("byte %zu flipped: accepted with %zu weights changed, config %s", k,
                              diff, j && strcmp(j, j0) == 0 ? "same" : "changed");
                bad++;
            }
            free(w);
            free(j);
            made_model_free(m);
        } else if (rc == MADE_E_FORMAT || rc == MADE_E_IO) {
            rejected++;
            if (m != NULL) {
                HARNESS_FAIL_("byte %zu flipped: load failed but *out is not NULL", k);
                bad++;
            }
        } else {
            HARNESS_FAIL_("byte %zu of %zu flipped: load -> %d %s (%s); want MADE_OK or "
                          "MADE_E_FORMAT", k, size, rc, made_status_name(rc), made_last_error());
            bad++;
        }
    }
    CHECK(rejected > 0);
    printf("flip every byte: %zu bytes, %d accepted (float payload), %d rejected\n", size, accepted,
           rejected);
    free(w0);
    free(j0);
    made_model_free(orig);
    unlink(path);
    free(bytes);
}

/* ---- hostile files written by hand ------------------------------------------- */

/* An editable copy of a model file's tensors and metadata. */
typedef struct st_copy {
    size_t count;
    made__st_entry e[64];
    unsigned char *data[64];
    size_t nbytes[64];
    char *names[64];
    size_t meta_count;
    char *keys[16], *vals[16];
} st_copy;

static int st_copy_load(st_copy *c, const char *path)
{
    memset(c, 0, sizeof *c);
    made__st_file f;
    if (made__st_read(&f, path) != MADE_OK) return -1;
    if (f.count > 64 || f.meta_count > 16) {
        made__st_free(&f);
        return -1;
    }
    for (size_t i = 0; i < f.count; i++) {
        const made__st_tensor *t = &f.tensors[i];
        c->names[i] = strdup(t->name);
        c->data[i] = malloc(t->nbytes + 1);
        memcpy(c->data[i], t->data, t->nbytes);
        c->nbytes[i] = t->nbytes;
        c->e[i].name = c->names[i];
        c->e[i].dtype = t->dtype;
        c->e[i].ndim = t->ndim;
        memcpy(c->e[i].shape, t->shape, sizeof t->shape);
        c->e[i].data = c->data[i];
    }
    c->count = f.count;
    for (size_t i = 0; i < f.meta_count; i++) {
        c->keys[i] = strdup(f.meta_keys[i]);
        c->vals[i] = strdup(f.meta_values[i]);
    }
    c->meta_count = f.meta_count;
    made__st_free(&f);
    return 0;
}

static void st_copy_free(st_copy *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->names[i]);
        free(c->data[i]);
    }
    for (size_t i = 0; i < c->meta_count; i++) {
        free(c->keys[i]);
        free(c->vals[i]);
    }
    memset(c, 0, sizeof *c);
}

static int st_copy_find(const st_copy *c, const char *name)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->names[i], name) == 0) return (int)i;
    return -1;
}

static int st_copy_meta(const st_copy *c, const char *key)
{
    for (size_t i = 0; i < c->meta_count; i++)
        if (strcmp(c->keys[i], key) == 0) return (int)i;
    return -1;
}

static void st_copy_set_meta(st_copy *c, const char *key, const char *val)
{
    int i = st_copy_meta(c, key);
    if (i < 0) {
        i = (int)c->meta_count++;
        c->keys[i] = strdup(key);
    } else {
        free(c->vals[i]);
    }
    c->vals[i] = strdup(val);
}

static void st_copy_remove(st_copy *c, int i)
{
    free(c->names[i]);
    free(c->data[i]);
    for (size_t j = (size_t)i; j + 1 < c->count; j++) {
        c->e[j] = c->e[j + 1];
        c->data[j] = c->data[j + 1];
        c->names[j] = c->names[j + 1];
        c->nbytes[j] = c->nbytes[j + 1];
    }
    c->count--;
}

static int st_copy_write(const st_copy *c, const char *path)
{
    return made__st_write(path, c->e, c->count, (const char *const *)c->keys,
                          (const char *const *)c->vals, c->meta_count);
}

static void put_f32(unsigned char *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(u >> (8 * i));
}

static void put_i32(unsigned char *p, int32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)((uint32_t)v >> (8 * i));
}

static int32_t get_i32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* The reference file for hostile edits: E = 3, hidden [4], P = 2, relu. */
static const char *hostile_src(void) { return tmp_path("hostile-src.safetensors"); }

/* Loads the edited copy and expects MADE_E_FORMAT with `needle` in the message. */
static void expect_rejected(const st_copy *c, const char *what, const char *needle, int line)
{
    const char *path = tmp_path("hostile.safetensors");
    int wrc = st_copy_write(c, path);
    if (wrc != MADE_OK) {
        HARNESS_FAIL_("line %d (%s): made__st_write -> %d (%s)", line, what, wrc, made_last_error());
        return;
    }
    made_model *m = (made_model *)&m;
    int rc = made_model_load(&m, path);
    if (rc != MADE_E_FORMAT)
        HARNESS_FAIL_("line %d (%s): load -> %d %s (%s), want MADE_E_FORMAT", line, what, rc,
                      made_status_name(rc), made_last_error());
    else if (needle && !strstr(made_last_error(), needle))
        HARNESS_FAIL_("line %d (%s): message \"%s\" does not mention \"%s\"", line, what,
                      made_last_error(), needle);
    if (m != NULL) {
        HARNESS_FAIL_("line %d (%s): *out not NULL after a failed load", line, what);
        if (rc == MADE_OK) made_model_free(m);
    }
    unlink(path);
}
#define EXPECT_REJECTED(c, what, needle) expect_rejected(c, what, needle, __LINE__)

static int load_src(st_copy *c)
{
    if (st_copy_load(c, hostile_src()) != 0) {
        HARNESS_FAIL_("cannot read %s back", hostile_src());
        return -1;
    }
    return 0;
}

static void test_hostile_setup(void)
{
    made_model *m = small_model(11);
    CHECK(m);
    if (!m) return;
    CHECK_OK(made_model_save(m, hostile_src()));
    made_model_free(m);
    /* The copy machinery itself: an unmodified rewrite loads. */
    st_copy c;
    if (load_src(&c)) return;
    CHECK(st_copy_find(&c, "layers.0.kernel") >= 0);
    CHECK(st_copy_find(&c, "layers.0.mask") >= 0);
    CHECK(st_copy_find(&c, "input_order") >= 0);
    CHECK(st_copy_meta(&c, "config") >= 0);
    const char *path = tmp_path("rewritten.safetensors");
    CHECK_OK(st_copy_write(&c, path));
    made_model *back = NULL;
    CHECK_OK(made_model_load(&back, path));
    made_model_free(back);
    unlink(path);
    st_copy_free(&c);
}

static void test_hostile_mask_bit(void)
{
    st_copy c;
    if (load_src(&c)) return;
    for (int l = 0; l < 2; l++) {
        char name[32];
        snprintf(name, sizeof name, "layers.%d.mask", l);
        int i = st_copy_find(&c, name);
        CHECK(i >= 0);
        if (i < 0) continue;
        for (int pos = 0; pos < 2; pos++) {
            size_t at = pos ? c.nbytes[i] - 1 : 0;
            c.data[i][at] ^= 1;
            EXPECT_REJECTED(&c, "mask bit flipped", name);
            c.data[i][at] ^= 1;
        }
    }
    st_copy_free(&c);
}

static void test_hostile_masked_kernel_entry(void)
{
    st_copy c;
    if (load_src(&c)) return;
    for (int l = 0; l < 2; l++) {
        char kname[32], mname[32];
        snprintf(kname, sizeof kname, "layers.%d.kernel", l);
        snprintf(mname, sizeof mname, "layers.%d.mask", l);
        int ki = st_copy_find(&c, kname), mi = st_copy_find(&c, mname);
        CHECK(ki >= 0 && mi >= 0);
        if (ki < 0 || mi < 0) continue;
        size_t n = c.nbytes[mi], found = n;
        for (size_t j = 0; j < n; j++)
            if (c.data[mi][j] == 0) {
                found = j;
                break;
            }
        CHECK(found < n);
        if (found == n) continue;
        float old;
        memcpy(&old, c.data[ki] + 4 * found, 4);
        put_f32(c.data[ki] + 4 * found, 0.5f);
        EXPECT_REJECTED(&c, "masked kernel entry non-zero", "masked");
        put_f32(c.data[ki] + 4 * found, -0.0f); /* -0.0 == 0: allowed */
        const char *path = tmp_path("negzero.safetensors");
        CHECK_OK(st_copy_write(&c, path));
        made_model *m = NULL;
        CHECK_OK(made_model_load(&m, path));
        made_model_free(m);
        unlink(path);
        put_f32(c.data[ki] + 4 * found, old);
    }
    st_copy_free(&c);
}

static void test_hostile_metadata(void)
{
    st_copy c;
    if (load_src(&c)) return;
    int fi = st_copy_meta(&c, "format"), vi = st_copy_meta(&c, "format_version"),
        ci = st_copy_meta(&c, "config");
    CHECK(fi >= 0 && vi >= 0 && ci >= 0);
    if (fi < 0 || vi < 0 || ci < 0) {
        st_copy_free(&c);
        return;
    }
    char *config = strdup(c.vals[ci]);

    st_copy_set_meta(&c, "format", "other");
    EXPECT_REJECTED(&c, "format other", "format");
    st_copy_set_meta(&c, "format", "made");

    st_copy_set_meta(&c, "format_version", "99");
    EXPECT_REJECTED(&c, "format_version 99", "99");
    st_copy_set_meta(&c, "format_version", "1");

    /* Unknown key in the config JSON. */
    size_t n = strlen(config);
    char *edited = malloc(n + 64);
    snprintf(edited, n + 64, "{\"surprise\":1,%s", config + 1);
    st_copy_set_meta(&c, "config", edited);
    EXPECT_REJECTED(&c, "config with an unknown key", "surprise");

    /* Malformed JSON: cut in the middle, and a trailing comma. */
    snprintf(edited, n + 64, "%.*s", (int)(n / 2), config);
    st_copy_set_meta(&c, "config", edited);
    EXPECT_REJECTED(&c, "config JSON cut in half", NULL);
    snprintf(edited, n + 64, "%.*s,}", (int)(n - 1), config);
    st_copy_set_meta(&c, "config", edited);
    EXPECT_REJECTED(&c, "config JSON with a trailing comma", NULL);
    st_copy_set_meta(&c, "config", "[]");
    EXPECT_REJECTED(&c, "config is an array", NULL);

    /* A config for a different model than the tensors. */
    char *p = strstr(config, "\"event_size\":3");
    CHECK(p != NULL);
    if (p) {
        snprintf(edited, n + 64, "%.*s\"event_size\":4%s", (int)(p - config), config,
                 p + strlen("\"event_size\":3"));
        st_copy_set_meta(&c, "config", edited);
        EXPECT_REJECTED(&c, "config event_size 4 for E = 3 tensors", NULL);
    }
    /* A config that parses but is invalid (duplicate in an explicit order):
     * the file is malformed, so MADE_E_FORMAT, like every other bad file. */
    p = strstr(config, "\"input_order\":\"left-to-right\"");
    CHECK(p != NULL);
    if (p) {
        snprintf(edited, n + 64, "%.*s\"input_order\":[1,1,3]%s", (int)(p - config), config,
                 p + strlen("\"input_order\":\"left-to-right\""));
        st_copy_set_meta(&c, "config", edited);
        EXPECT_REJECTED(&c, "config with input_order [1,1,3]", "input_order");
        snprintf(edited, n + 64, "%.*s\"input_order\":[0,1,2]%s", (int)(p - config), config,
                 p + strlen("\"input_order\":\"left-to-right\""));
        st_copy_set_meta(&c, "config", edited);
        EXPECT_REJECTED(&c, "config with 0-based input_order", "input_order");
    }
    p = strstr(config, "\"params\":2");
    CHECK(p != NULL);
    if (p) {
        /* params 2 with a categorical:4 distribution: fails validation. */
        char *q = strstr(config, "\"distribution\":\"none\"");
        CHECK(q != NULL);
        if (q) {
            snprintf(edited, n + 64, "%.*s\"distribution\":\"categorical:4\"%s", (int)(q - config),
                     config, q + strlen("\"distribution\":\"none\""));
            st_copy_set_meta(&c, "config", edited);
            EXPECT_REJECTED(&c, "config with params 2 but categorical:4", NULL);
        }
    }
    st_copy_set_meta(&c, "config", config);

    /* No config at all. */
    free(c.vals[ci]);
    free(c.keys[ci]);
    c.keys[ci] = c.keys[c.meta_count - 1];
    c.vals[ci] = c.vals[c.meta_count - 1];
    c.meta_count--;
    EXPECT_REJECTED(&c, "no config metadata", "config");

    free(edited);
    free(config);
    st_copy_free(&c);
}

static void test_hostile_tensors(void)
{
    st_copy c;
    if (load_src(&c)) return;
    const char *path = tmp_path("extra.safetensors");

    /* Missing tensor. */
    const char *names[] = {"layers.0.kernel", "layers.0.bias", "layers.1.kernel", "layers.1.bias",
                           "layers.0.mask", "layers.1.mask", "layers.0.degrees", "input_order"};
    for (size_t t = 0; t < sizeof names / sizeof *names; t++) {
        st_copy d;
        if (load_src(&d)) break;
        int i = st_copy_find(&d, names[t]);
        CHECK(i >= 0);
        if (i >= 0) {
            st_copy_remove(&d, i);
            EXPECT_REJECTED(&d, names[t], names[t]);
        }
        st_copy_free(&d);
    }

    /* Extra tensor. */
    {
        st_copy d;
        if (load_src(&d) == 0) {
            size_t i = d.count++;
            d.names[i] = strdup("extra");
            d.data[i] = calloc(1, 4);
            d.nbytes[i] = 4;
            d.e[i] = (made__st_entry){.name = d.names[i], .dtype = MADE__ST_F32, .ndim = 1,
                                      .shape = {1}, .data = d.data[i]};
            EXPECT_REJECTED(&d, "extra tensor", NULL);
            st_copy_free(&d);
        }
    }

    /* input_order disagreeing with the config. */
    int oi = st_copy_find(&c, "input_order");
    CHECK(oi >= 0);
    if (oi >= 0) {
        int32_t a = get_i32(c.data[oi]), b = get_i32(c.data[oi] + 4);
        put_i32(c.data[oi], b);
        put_i32(c.data[oi] + 4, a);
        EXPECT_REJECTED(&c, "input_order swapped", "input_order");
        put_i32(c.data[oi], a);
        put_i32(c.data[oi] + 4, b);
    }
    /* Hidden degrees disagreeing with the config. */
    int di = st_copy_find(&c, "layers.0.degrees");
    CHECK(di >= 0);
    if (di >= 0) {
        int32_t a = get_i32(c.data[di]);
        put_i32(c.data[di], a + 1);
        EXPECT_REJECTED(&c, "hidden degree changed", "layers.0.degrees");
        put_i32(c.data[di], a);
    }

    /* Wrong dtype: F64 kernel (same values, twice the bytes). */
    int ki = st_copy_find(&c, "layers.0.kernel");
    CHECK(ki >= 0);
    if (ki >= 0) {
        size_t n = c.nbytes[ki] / 4;
        unsigned char *d64 = malloc(n * 8), *old = c.data[ki];
        for (size_t j = 0; j < n; j++) {
            float f;
            uint32_t u = (uint32_t)get_i32(old + 4 * j);
            memcpy(&f, &u, 4);
            double v = f;
            uint64_t w;
            memcpy(&w, &v, 8);
            for (int b = 0; b < 8; b++) d64[8 * j + (size_t)b] = (unsigned char)(w >> (8 * b));
        }
        c.e[ki].dtype = MADE__ST_F64;
        c.e[ki].data = d64;
        EXPECT_REJECTED(&c, "F64 kernel", "layers.0.kernel");
        c.e[ki].dtype = MADE__ST_F32;
        c.e[ki].data = old;
        free(d64);

        /* Wrong shape: the kernel transposed. */
        size_t s0 = c.e[ki].shape[0];
        c.e[ki].shape[0] = c.e[ki].shape[1];
        c.e[ki].shape[1] = s0;
        EXPECT_REJECTED(&c, "transposed kernel", "layers.0.kernel");
        c.e[ki].shape[1] = c.e[ki].shape[0];
        c.e[ki].shape[0] = s0;

        /* NaN / Inf in an allowed kernel position (mask row 0 of layer 0 is all 1s:
         * input 0 has degree 1 <= every hidden degree). */
        unsigned char saved[4];
        memcpy(saved, c.data[ki], 4);
        put_f32(c.data[ki], NAN);
        EXPECT_REJECTED(&c, "NaN in a kernel", "layers.0.kernel");
        put_f32(c.data[ki], INFINITY);
        EXPECT_REJECTED(&c, "Inf in a kernel", "layers.0.kernel");
        memcpy(c.data[ki], saved, 4);
    }
    int bi = st_copy_find(&c, "layers.1.bias");
    CHECK(bi >= 0);
    if (bi >= 0) {
        unsigned char saved[4];
        memcpy(saved, c.data[bi], 4);
        put_f32(c.data[bi], -INFINITY);
        EXPECT_REJECTED(&c, "-Inf in a bias", "layers.1.bias");
        memcpy(c.data[bi], saved, 4);
    }
    /* And after all the edits were undone, the copy loads again. */
    CHECK_OK(st_copy_write(&c, path));
    made_model *m = NULL;
    CHECK_OK(made_model_load(&m, path));
    made_model_free(m);
    unlink(path);
    st_copy_free(&c);
}

int main(void)
{
    if (tmp_init("test-model-io") || chmod(tmpdir, 0711) != 0) return 1; /* 0711: see test_save_readonly_directory */
    build_cfgs();
    RUN(test_round_trips);
    RUN(test_round_trip_other_mask_selected);
    RUN(test_save_missing_directory);
    RUN(test_save_readonly_directory);
    RUN(test_save_over_directory);
    RUN(test_load_alloc_failures);
    RUN(test_load_missing_and_directory);
    RUN(test_truncated_everywhere);
    RUN(test_flip_every_byte);
    RUN(test_hostile_setup);
    RUN(test_hostile_mask_bit);
    RUN(test_hostile_masked_kernel_entry);
    RUN(test_hostile_metadata);
    RUN(test_hostile_tensors);
    /* Last: when save mishandles an allocation failure, AddressSanitizer stops
     * the program here, after every other case has reported. */
    RUN(test_save_alloc_failures);
    unlink(hostile_src());
    remove_tree(tmpdir);
    return harness_summary("test_model_io");
}
