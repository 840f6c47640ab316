/* test_faults.c - allocation-failure injection across the public API (SQLite
 * style). For every operation and every k = 1, 2, ... the k-th allocation from
 * the start of the call fails (made__alloc_fail_at); the call must return
 * MADE_E_NOMEM - never crash, never another code, never a half-done result -
 * until k passes the number of allocations the call makes and it succeeds.
 *
 * "No partial success" means, per operation: a create/load/resume leaves its
 * out pointers NULL; a save leaves the target absent or byte-identical to the
 * previous complete file, with no temp file beside it; a reader leaves the
 * array empty; a fit has taken no step. Leaks on the failure paths are caught
 * by LeakSanitizer in the SANITIZE=1 run and by valgrind (tests/valgrind.sh).
 *
 * Prints one line per operation with the number of allocation points it has
 * ("faults: made_model_create[cond-all]: 41 allocation points"), the figures
 * docs/testing.md quotes. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/internal.h"
#include "harness.h"
#include "made.h"
#include "train/trainer.h"
#include "util.h"

/* Far beyond any operation here; reaching it means an allocation loop. */
#define MAX_K 100000

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

/* ---- the loop ------------------------------------------------------------- */

/* One operation under test: run() performs it once (the hook is armed just
 * before), returning its status; on failure, check() verifies that nothing was
 * half done (returns 0 if fine); on success, done() releases what it made. */
typedef struct fault_op {
    const char *name;
    int (*run)(void *ctx);
    int (*check)(void *ctx, int rc);
    void (*done)(void *ctx);
    void *ctx;
} fault_op;

/* Returns the number of allocation points (failing k values), or -1. */
static int fault_loop(const fault_op *op)
{
    int k;
    for (k = 1; k <= MAX_K; k++) {
        made__alloc_fail_at(k);
        int rc = op->run(op->ctx);
        made__alloc_fail_at(0);
        if (rc == MADE_OK) {
            if (op->done) op->done(op->ctx);
            printf("faults: %s: %d allocation point%s\n", op->name, k - 1, k == 2 ? "" : "s");
            return k - 1;
        }
        if (rc != MADE_E_NOMEM) {
            HARNESS_FAIL_("%s with allocation %d failing -> %d %s, want MADE_E_NOMEM (%s)", op->name,
                          k, rc, made_status_name(rc), made_last_error());
            if (op->check) op->check(op->ctx, rc);
            return -1;
        }
        if (op->check && op->check(op->ctx, rc) != 0) {
            HARNESS_FAIL_("%s with allocation %d failing: partial result left behind", op->name, k);
            return -1;
        }
    }
    HARNESS_FAIL_("%s still failing after %d allocations", op->name, MAX_K);
    return -1;
}

/* ---- configurations ------------------------------------------------------- */

static const int order5[] = {2, 5, 1, 4, 3};

typedef struct named_cfg {
    const char *name;
    made_config cfg;
} named_cfg;

static int n_cfgs;
static named_cfg cfgs[12];

static made_config *add_cfg(const char *name, int e, int nh, const int *hidden, const char *dist)
{
    named_cfg *c = &cfgs[n_cfgs++];
    c->name = name;
    made_config_default(&c->cfg);
    c->cfg.event_size = e;
    c->cfg.n_hidden = nh;
    for (int l = 0; l < nh; l++) c->cfg.hidden_units[l] = hidden[l];
    c->cfg.activation = MADE_ACT_RELU;
    c->cfg.seed = 11u + (uint32_t)n_cfgs;
    if (dist) {
        made_dist_parse(dist, &c->cfg.dist);
        c->cfg.params = made_dist_params(c->cfg.dist);
    } else {
        c->cfg.params = 2;
    }
    return &c->cfg;
}

static void build_cfgs(void)
{
    made_config *c;
    add_cfg("plain", 4, 1, (const int[]){6}, NULL);
    c = add_cfg("cond-all", 4, 2, (const int[]){6, 5}, "gaussian");
    c->conditional_size = 2;
    c = add_cfg("cond-first", 3, 2, (const int[]){5, 5}, "bernoulli");
    c->conditional_size = 3;
    c->conditional_layers = MADE_COND_FIRST_LAYER;
    c = add_cfg("masks3-random-order", 5, 2, (const int[]){7, 6}, "bernoulli");
    c->input_order = MADE_ORDER_RANDOM;
    c->num_masks = 3;
    c = add_cfg("random-order-degrees", 5, 1, (const int[]){8}, "categorical:3");
    c->input_order = MADE_ORDER_RANDOM;
    c->hidden_degrees = MADE_DEGREES_RANDOM;
    made_initializer_parse("random_normal:0,0.3", &c->bias_initializer);
    c = add_cfg("explicit-order-mog", 5, 1, (const int[]){9}, "mog:2");
    c->input_order = MADE_ORDER_EXPLICIT;
    c->explicit_order = order5;
    c->use_bias = 0;
    add_cfg("no-hidden", 3, 0, NULL, "gaussian");
}

static const named_cfg *find_cfg(const char *name)
{
    for (int i = 0; i < n_cfgs; i++)
        if (strcmp(cfgs[i].name, name) == 0) return &cfgs[i];
    return NULL;
}

/* Data in the support of the model's distribution: rows x[n, E], c[n, C]. */
static void make_data(const made_config *cfg, float *x, float *c, size_t n, unsigned seed)
{
    uint64_t s = 0x9E3779B97F4A7C15ull * (seed + 1);
    for (size_t i = 0; i < n * (size_t)cfg->event_size; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0;
        switch (cfg->dist.kind) {
        case MADE_DIST_BERNOULLI: x[i] = u < 0.4 ? 1.0f : 0.0f; break;
        case MADE_DIST_CATEGORICAL: x[i] = (float)(int)(u * cfg->dist.k); break;
        default: x[i] = (float)(4.0 * u - 2.0); break;
        }
    }
    for (size_t i = 0; c && i < n * (size_t)cfg->conditional_size; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        c[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
}

/* ---- models --------------------------------------------------------------- */

typedef struct model_ctx {
    const made_config *cfg;
    made_model *m;
} model_ctx;

static int create_run(void *p)
{
    model_ctx *c = p;
    c->m = (made_model *)c; /* must come back NULL on failure */
    return made_model_create(&c->m, c->cfg);
}
static int create_check(void *p, int rc)
{
    (void)rc;
    model_ctx *c = p;
    return c->m != NULL;
}
static void create_done(void *p)
{
    model_ctx *c = p;
    made_model_free(c->m);
    c->m = NULL;
}

static void test_model_create(void)
{
    for (int i = 0; i < n_cfgs; i++) {
        char name[96];
        snprintf(name, sizeof name, "made_model_create[%s]", cfgs[i].name);
        model_ctx c = {&cfgs[i].cfg, NULL};
        fault_op op = {name, create_run, create_check, create_done, &c};
        CHECK(fault_loop(&op) > 0);
    }
}

static made_model *new_model(const char *cfg_name)
{
    const named_cfg *nc = find_cfg(cfg_name);
    made_model *m = NULL;
    if (!nc || made_model_create(&m, &nc->cfg) != MADE_OK) {
        HARNESS_FAIL_("cannot create model %s: %s", cfg_name, made_last_error());
        return NULL;
    }
    return m;
}

/* Saves into a directory of its own: afterwards the target is absent or the
 * previous complete file, and the directory holds nothing else. */
typedef struct save_ctx {
    const made_model *m;
    const made_trainer *t;    /* checkpoint instead of model */
    const char *dir, *path;
    unsigned char *before;    /* previous file, or NULL if none */
    size_t before_size;
} save_ctx;

static int save_run(void *p)
{
    save_ctx *c = p;
    return c->t ? made_trainer_save(c->t, c->path) : made_model_save(c->m, c->path);
}
static int save_check(void *p, int rc)
{
    (void)rc;
    save_ctx *c = p;
    size_t n;
    unsigned char *now = slurp(c->path, &n);
    int bad = 0;
    if (c->before) bad = !now || n != c->before_size || memcmp(now, c->before, n) != 0;
    else bad = now != NULL;
    free(now);
    if (bad) HARNESS_FAIL_("%s: target changed by a failed save", c->path);
    int entries = count_entries(c->dir);
    if (entries != (c->before ? 1 : 0)) {
        HARNESS_FAIL_("%s: %d entries in the directory after a failed save (temp file left?)",
                      c->dir, entries);
        bad = 1;
    }
    return bad;
}

static void run_save_faults(const char *name, const made_model *m, const made_trainer *t,
                            const made_model *prev_m, const made_trainer *prev_t)
{
    const char *dir = tmp_path("save");
    mkdir(dir, 0700);
    clear_dir(dir);
    char path[600];
    snprintf(path, sizeof path, "%s/out.safetensors", dir);
    save_ctx c = {m, t, dir, path, NULL, 0};
    char label[128];
    /* Target absent. */
    snprintf(label, sizeof label, "%s (new file)", name);
    fault_op op = {label, save_run, save_check, NULL, &c};
    CHECK(fault_loop(&op) > 0);
    /* Target present: the previous complete file must survive every failure. */
    clear_dir(dir);
    int rc = prev_t ? made_trainer_save(prev_t, path) : made_model_save(prev_m, path);
    CHECK_OK(rc);
    c.before = slurp(path, &c.before_size);
    CHECK(c.before != NULL);
    snprintf(label, sizeof label, "%s (replacing a file)", name);
    op.name = label;
    CHECK(fault_loop(&op) > 0);
    free(c.before);
    clear_dir(dir);
    rmdir(dir);
}

static void test_model_save(void)
{
    made_model *a = new_model("cond-all"), *b = new_model("masks3-random-order");
    made_model *prev = new_model("plain");
    if (a && b && prev) {
        run_save_faults("made_model_save[cond-all]", a, NULL, prev, NULL);
        run_save_faults("made_model_save[masks3-random-order]", b, NULL, prev, NULL);
    }
    made_model_free(a);
    made_model_free(b);
    made_model_free(prev);
}

typedef struct load_ctx {
    const char *path;
    made_model *m;
    made_trainer *t;
    int resume;
} load_ctx;

static int load_run(void *p)
{
    load_ctx *c = p;
    c->m = (made_model *)c;
    c->t = (made_trainer *)c;
    if (c->resume) return made_trainer_resume(&c->t, &c->m, c->path);
    c->t = NULL;
    return made_model_load(&c->m, c->path);
}
static int load_check(void *p, int rc)
{
    (void)rc;
    load_ctx *c = p;
    return c->m != NULL || c->t != NULL;
}
static void load_done(void *p)
{
    load_ctx *c = p;
    made_trainer_free(c->t);
    made_model_free(c->m);
    c->t = NULL;
    c->m = NULL;
}

static void test_model_load(void)
{
    const char *names[] = {"cond-first", "random-order-degrees", "masks3-random-order"};
    for (int i = 0; i < 3; i++) {
        made_model *m = new_model(names[i]);
        if (!m) continue;
        const char *path = tmp_path("load.safetensors");
        CHECK_OK(made_model_save(m, path));
        char label[96];
        snprintf(label, sizeof label, "made_model_load[%s]", names[i]);
        load_ctx c = {path, NULL, NULL, 0};
        fault_op op = {label, load_run, load_check, load_done, &c};
        CHECK(fault_loop(&op) > 0);
        made_model_free(m);
        unlink(path);
    }
}

/* ---- training ------------------------------------------------------------- */

typedef struct trainer_ctx {
    made_model *m;
    const made_train_config *tc;
    made_trainer *t;
} trainer_ctx;

static int tcreate_run(void *p)
{
    trainer_ctx *c = p;
    c->t = (made_trainer *)c;
    return made_trainer_create(&c->t, c->m, c->tc);
}
static int tcreate_check(void *p, int rc)
{
    (void)rc;
    trainer_ctx *c = p;
    return c->t != NULL;
}
static void tcreate_done(void *p)
{
    trainer_ctx *c = p;
    made_trainer_free(c->t);
    c->t = NULL;
}

static void test_trainer_create(void)
{
    const char *names[] = {"cond-all", "masks3-random-order"};
    for (int i = 0; i < 2; i++)
        for (int sgd = 0; sgd < 2; sgd++) {
            made_model *m = new_model(names[i]);
            if (!m) continue;
            made_train_config tc;
            made_train_config_default(&tc);
            tc.batch_size = 7;
            tc.optimizer = sgd ? MADE_OPTIM_SGD : MADE_OPTIM_ADAM;
            char label[96];
            snprintf(label, sizeof label, "made_trainer_create[%s,%s]", names[i], sgd ? "sgd" : "adam");
            trainer_ctx c = {m, &tc, NULL};
            fault_op op = {label, tcreate_run, tcreate_check, tcreate_done, &c};
            CHECK(fault_loop(&op) > 0);
            made_model_free(m);
        }
}

/* A model and trainer of config name, trained for `steps` minibatches so that
 * the optimiser state and progress counters are not all zero. */
typedef struct trained {
    made_model *m;
    made_trainer *t;
    float *x, *c;
    size_t n;
} trained;

static int stop_after(void *user, const made_progress *p)
{
    return p->step >= *(const long long *)user;
}

static int train_some(trained *r, const char *cfg_name, made_optimizer opt, int patience,
                      long long steps)
{
    memset(r, 0, sizeof *r);
    r->m = new_model(cfg_name);
    if (!r->m) return -1;
    const made_config *cfg = made_model_config(r->m);
    made_train_config tc;
    made_train_config_default(&tc);
    tc.batch_size = 8;
    tc.epochs = 3;
    tc.optimizer = opt;
    tc.patience = patience;
    tc.seed = 5;
    r->n = 40;
    r->x = malloc(r->n * (size_t)cfg->event_size * sizeof(float));
    r->c = cfg->conditional_size ? malloc(r->n * (size_t)cfg->conditional_size * sizeof(float)) : NULL;
    make_data(cfg, r->x, r->c, r->n, 3);
    if (made_trainer_create(&r->t, r->m, &tc) != MADE_OK) return -1;
    if (steps > 0) {
        int rc = made_trainer_fit(r->t, r->x, r->c, r->n - 10, r->x + (r->n - 10) * cfg->event_size,
                                  r->c ? r->c + (r->n - 10) * cfg->conditional_size : NULL, 10,
                                  stop_after, &steps);
        if (rc != MADE_E_INTERRUPTED) {
            HARNESS_FAIL_("training %s for %lld steps -> %d (%s)", cfg_name, steps, rc,
                          made_last_error());
            return -1;
        }
    }
    return 0;
}

static void trained_free(trained *r)
{
    made_trainer_free(r->t);
    made_model_free(r->m);
    free(r->x);
    free(r->c);
    memset(r, 0, sizeof *r);
}

static void test_trainer_save(void)
{
    trained a, prev;
    /* Mid-epoch (7 steps, 4 per epoch), with validation and a best block. */
    if (train_some(&a, "cond-all", MADE_OPTIM_ADAM, 2, 7) == 0 &&
        train_some(&prev, "plain-dist", MADE_OPTIM_SGD, 0, 0) == 0)
        run_save_faults("made_trainer_save[cond-all,adam]", NULL, a.t, NULL, prev.t);
    trained_free(&a);
    trained_free(&prev);
    if (train_some(&a, "masks3-random-order", MADE_OPTIM_SGD, 0, 5) == 0)
        run_save_faults("made_trainer_save[masks3,sgd]", NULL, a.t, a.m, NULL);
    trained_free(&a);
}

static void test_trainer_resume(void)
{
    const struct {
        const char *cfg;
        made_optimizer opt;
        int patience;
    } cases[] = {{"cond-all", MADE_OPTIM_ADAM, 2}, {"masks3-random-order", MADE_OPTIM_SGD, 0}};
    for (int i = 0; i < 2; i++) {
        trained a;
        if (train_some(&a, cases[i].cfg, cases[i].opt, cases[i].patience, 6) == 0) {
            const char *path = tmp_path("resume.ckpt");
            CHECK_OK(made_trainer_save(a.t, path));
            char label[96];
            snprintf(label, sizeof label, "made_trainer_resume[%s,%s]", cases[i].cfg,
                     cases[i].opt == MADE_OPTIM_SGD ? "sgd" : "adam");
            load_ctx c = {path, NULL, NULL, 1};
            fault_op op = {label, load_run, load_check, load_done, &c};
            CHECK(fault_loop(&op) > 0);
            unlink(path);
        }
        trained_free(&a);
    }
}

/* made_trainer_fit's setup allocates (the shuffling permutation); a failure
 * there must happen before any step: the parameters and counters unchanged. */
typedef struct fit_ctx {
    trained *r;
    float *p0;
    size_t np;
    int calls; /* progress callbacks seen in this attempt */
} fit_ctx;

static int count_calls(void *user, const made_progress *p)
{
    (void)p;
    ((fit_ctx *)user)->calls++;
    return 0;
}

static int fit_run(void *p)
{
    fit_ctx *c = p;
    c->calls = 0;
    const made_config *cfg = made_model_config(c->r->m);
    size_t nt = c->r->n - 10;
    return made_trainer_fit(c->r->t, c->r->x, c->r->c, nt, c->r->x + nt * cfg->event_size,
                            c->r->c ? c->r->c + nt * cfg->conditional_size : NULL, 10, count_calls, c);
}
static int fit_check(void *p, int rc)
{
    (void)rc;
    fit_ctx *c = p;
    float *now = malloc(c->np * sizeof *now);
    int bad = c->calls != 0 || c->r->t->step != 0 || c->r->t->epoch != 0;
    if (now) {
        made_model_get_weights(c->r->m, now, c->np);
        bad |= memcmp(now, c->p0, c->np * sizeof *now) != 0;
    }
    free(now);
    return bad;
}

static void test_trainer_fit_setup(void)
{
    const char *names[] = {"cond-all", "masks3-random-order", "explicit-order-mog"};
    for (int i = 0; i < 3; i++) {
        trained r;
        if (train_some(&r, names[i], MADE_OPTIM_ADAM, 1, 0) == 0) {
            fit_ctx c = {&r, NULL, made_model_num_params(r.m), 0};
            c.p0 = malloc(c.np * sizeof *c.p0);
            made_model_get_weights(r.m, c.p0, c.np);
            char label[96];
            snprintf(label, sizeof label, "made_trainer_fit[%s]", names[i]);
            fault_op op = {label, fit_run, fit_check, NULL, &c};
            CHECK(fault_loop(&op) > 0);
            CHECK(c.calls > 0);
            CHECK_EQ_INT(r.t->epoch, 3);
            free(c.p0);
        }
        trained_free(&r);
    }
}

/* ---- sampling and densities: no allocation at all (scratch is sized at
 * create time), so the first attempt already succeeds. ---------------------- */

typedef struct use_ctx {
    made_model *m;
    float *x, *c;
    double *lp;
    size_t n;
    int which; /* 0 sample, 1 naive, 2 ensemble */
} use_ctx;

static int use_run(void *p)
{
    use_ctx *u = p;
    switch (u->which) {
    case 0: return made_model_sample(u->m, u->x, u->c, u->n, 99);
    case 1: return made_model_sample_naive(u->m, u->x, u->c, u->n, 99);
    default:
        return made_model_log_prob_ensemble(u->m, u->lp, u->x, u->c, u->n,
                                            made_model_config(u->m)->num_masks);
    }
}

static void test_sample_and_log_prob(void)
{
    const char *names[] = {"cond-all", "masks3-random-order", "explicit-order-mog"};
    const char *ops[] = {"made_model_sample", "made_model_sample_naive",
                         "made_model_log_prob_ensemble"};
    for (int i = 0; i < 3; i++) {
        made_model *m = new_model(names[i]);
        if (!m) continue;
        const made_config *cfg = made_model_config(m);
        use_ctx u = {m, NULL, NULL, NULL, 300, 0}; /* > one chunk of rows */
        u.x = malloc(u.n * (size_t)cfg->event_size * sizeof(float));
        u.c = cfg->conditional_size ? malloc(u.n * (size_t)cfg->conditional_size * sizeof(float)) : NULL;
        u.lp = malloc(u.n * sizeof(double));
        make_data(cfg, u.x, u.c, u.n, 4);
        for (int w = 0; w < 3; w++) {
            char label[96];
            snprintf(label, sizeof label, "%s[%s]", ops[w], names[i]);
            u.which = w;
            fault_op op = {label, use_run, NULL, NULL, &u};
            /* 0 allocation points: the hot path does not allocate. */
            CHECK_EQ_INT(fault_loop(&op), 0);
        }
        free(u.x);
        free(u.c);
        free(u.lp);
        made_model_free(m);
    }
}

/* ---- data files ----------------------------------------------------------- */

typedef struct read_ctx {
    int (*read)(made_array *, const char *);
    const char *path;
    made_array a;
} read_ctx;

static int read_run(void *p)
{
    read_ctx *r = p;
    memset(&r->a, 0x5a, sizeof r->a); /* garbage: the reader must reset it */
    return r->read(&r->a, r->path);
}
static int read_check(void *p, int rc)
{
    (void)rc;
    read_ctx *r = p;
    return r->a.data != NULL;
}
static void read_done(void *p)
{
    read_ctx *r = p;
    made_array_free(&r->a);
}

static void run_read_faults(const char *label, int (*read)(made_array *, const char *),
                            const char *path, size_t want_elems)
{
    read_ctx r = {read, path, {0}};
    fault_op op = {label, read_run, read_check, NULL, &r};
    CHECK(fault_loop(&op) > 0);
    CHECK_EQ_INT(made_array_size(&r.a), want_elems);
    read_done(&r);
}

typedef struct write_ctx {
    const made_array *a;
    int csv;
    const char *dir, *path;
} write_ctx;

static int write_run(void *p)
{
    write_ctx *w = p;
    return w->csv ? made_csv_write(w->a, w->path) : made_npy_write(w->a, w->path);
}
static int write_check(void *p, int rc)
{
    (void)rc;
    write_ctx *w = p;
    return count_entries(w->dir) != 0;
}

static void test_npy(void)
{
    size_t shape[3] = {70, 3, 5};
    made_array a = {0};
    CHECK_OK(made_array_alloc(&a, 3, shape));
    if (!a.data) return;
    for (size_t i = 0; i < made_array_size(&a); i++) a.data[i] = (float)i * 0.25f - 3.0f;
    const char *dir = tmp_path("npy");
    mkdir(dir, 0700);
    char path[600];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    write_ctx w = {&a, 0, dir, path};
    fault_op op = {"made_npy_write", write_run, write_check, NULL, &w};
    CHECK(fault_loop(&op) > 0);
    run_read_faults("made_npy_read", made_npy_read, path, made_array_size(&a));
    run_read_faults("made_data_read[npy]", made_data_read, path, made_array_size(&a));
    unlink(path);
    snprintf(path, sizeof path, "%s/a.csv", dir);
    w.csv = 1;
    op.name = "made_csv_write";
    CHECK(fault_loop(&op) > 0);
    unlink(path);
    rmdir(dir);
    made_array_free(&a);
}

static void test_csv_read(void)
{
    /* Large enough for the value buffer to grow several times. */
    const char *path = tmp_path("d.csv");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "a,b,c,d\n");
    for (int i = 0; i < 2000; i++) fprintf(f, "%d,%g,-%d.5,1e-3\n", i, i * 0.5, i % 7);
    fclose(f);
    run_read_faults("made_csv_read", made_csv_read, path, 8000);
    run_read_faults("made_data_read[csv]", made_data_read, path, 8000);
    unlink(path);
}

static void test_idx_read(void)
{
    /* [30, 4, 5] unsigned bytes, plain and gzip-compressed. */
    unsigned char buf[4 + 12 + 600];
    unsigned char hdr[16] = {0, 0, 0x08, 3, 0, 0, 0, 30, 0, 0, 0, 4, 0, 0, 0, 5};
    memcpy(buf, hdr, sizeof hdr);
    for (int i = 0; i < 600; i++) buf[16 + i] = (unsigned char)(i * 7);
    const char *path = tmp_path("x-ubyte");
    CHECK(spit(path, buf, sizeof buf) == 0);
    run_read_faults("made_idx_read", made_idx_read, path, 600);
    run_read_faults("made_data_read[idx]", made_data_read, path, 600);
    unlink(path);
    const char *gz = tmp_path("x-ubyte.gz");
    gzFile g = gzopen(gz, "wb");
    CHECK(g != NULL);
    if (!g) return;
    CHECK(gzwrite(g, buf, sizeof buf) == (int)sizeof buf);
    gzclose(g);
    run_read_faults("made_idx_read[gzip]", made_idx_read, gz, 600);
    unlink(gz);
}

int main(void)
{
    if (tmp_init("test-faults")) return 1;
    build_cfgs();
    add_cfg("plain-dist", 3, 1, (const int[]){4}, "gaussian");
    RUN(test_model_create);
    RUN(test_model_save);
    RUN(test_model_load);
    RUN(test_trainer_create);
    RUN(test_trainer_save);
    RUN(test_trainer_resume);
    RUN(test_trainer_fit_setup);
    RUN(test_sample_and_log_prob);
    RUN(test_npy);
    RUN(test_csv_read);
    RUN(test_idx_read);
    tmp_cleanup();
    return harness_summary("test_faults");
}
