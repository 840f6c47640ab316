/* test_io_faults.c - I/O failure injection into every file the library writes
 * and reads: the k-th write() failing for every k, a device that fills up at
 * every byte offset of the file, fsync(), close() and rename() failing, read()
 * failing with EIO; and checkpoints truncated at every byte offset.
 *
 * The wrappers come from tests/iofail.c, #included first: its definitions of
 * write(), fsync(), ... take the place of libc's for the statically linked
 * library, and forward to the real ones unless told to fail.
 *
 * For a failed write the library must return MADE_E_IO with a message naming
 * the target path and the reason (strerror), leave the target absent or
 * byte-identical to the previous complete file, and leave no temp file.
 *
 * Prints the number of failure points per writer (docs/testing.md). */
#include "iofail.c"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "harness.h"
#include "made.h"
#include "util.h"

static const iofail_config no_faults = {NULL, -1, 0, 0, 0, 0, 0, ENOSPC, 0};

static void faults_off(void) { iofail_set(&no_faults); }

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

/* ---- the things that write ------------------------------------------------ */

static made_model *model_a, *model_b;       /* b is written over a */
static made_trainer *trainer_a, *trainer_b; /* trainers of model_a, model_b */
static made_array array_a, array_b;
static float *train_x;

enum { W_MODEL, W_CKPT, W_NPY, W_CSV, W_COUNT };
static const char *const writer_names[W_COUNT] = {"made_model_save", "made_trainer_save",
                                                  "made_npy_write", "made_csv_write"};
static const char *const writer_files[W_COUNT] = {"m.safetensors", "t.ckpt", "a.npy", "a.csv"};

static int do_write(int w, int which, const char *path)
{
    switch (w) {
    case W_MODEL: return made_model_save(which ? model_b : model_a, path);
    case W_CKPT: return made_trainer_save(which ? trainer_b : trainer_a, path);
    case W_NPY: return made_npy_write(which ? &array_b : &array_a, path);
    default: return made_csv_write(which ? &array_b : &array_a, path);
    }
}

static int stop_at(void *user, const made_progress *p) { return p->step >= *(long long *)user; }

static int setup(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 6;
    cfg.n_hidden = 2;
    cfg.hidden_units[0] = 10;
    cfg.hidden_units[1] = 8;
    cfg.activation = MADE_ACT_TANH;
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.dist.kind = MADE_DIST_BERNOULLI;
    cfg.params = 1;
    cfg.seed = 3;
    if (made_model_create(&model_a, &cfg)) return -1;
    cfg.seed = 4;
    cfg.num_masks = 2;
    if (made_model_create(&model_b, &cfg)) return -1;
    made_train_config tc;
    made_train_config_default(&tc);
    tc.batch_size = 5;
    tc.epochs = 2;
    if (made_trainer_create(&trainer_a, model_a, &tc)) return -1;
    tc.optimizer = MADE_OPTIM_SGD;
    if (made_trainer_create(&trainer_b, model_b, &tc)) return -1;
    train_x = malloc(30 * 6 * sizeof *train_x);
    if (!train_x) return -1;
    for (int i = 0; i < 30 * 6; i++) train_x[i] = (float)((i * 7 + i / 5) % 3 == 0);
    long long steps = 3;
    if (made_trainer_fit(trainer_a, train_x, NULL, 30, NULL, NULL, 0, stop_at, &steps) !=
        MADE_E_INTERRUPTED)
        return -1;
    steps = 8;
    if (made_trainer_fit(trainer_b, train_x, NULL, 30, NULL, NULL, 0, stop_at, &steps) !=
        MADE_E_INTERRUPTED)
        return -1;
    size_t sa[2] = {20, 6}, sb[3] = {9, 4, 3};
    if (made_array_alloc(&array_a, 2, sa) || made_array_alloc(&array_b, 3, sb)) return -1;
    for (size_t i = 0; i < made_array_size(&array_a); i++) array_a.data[i] = (float)i / 3.0f;
    for (size_t i = 0; i < made_array_size(&array_b); i++) array_b.data[i] = -(float)i * 1.5f;
    return 0;
}

static void teardown(void)
{
    made_trainer_free(trainer_a);
    made_trainer_free(trainer_b);
    made_model_free(model_a);
    made_model_free(model_b);
    made_array_free(&array_a);
    made_array_free(&array_b);
    free(train_x);
}

/* Checks one failed write: status, message, target, directory. Returns 0 if fine. */
static int check_failed(int w, const char *what, int rc, const char *dir, const char *path,
                        const unsigned char *before, size_t before_size, const char *reason)
{
    int bad = 0;
    if (rc != MADE_E_IO) {
        HARNESS_FAIL_("%s with %s -> %d %s, want MADE_E_IO (%s)", writer_names[w], what, rc,
                      made_status_name(rc), made_last_error());
        return 1;
    }
    const char *msg = made_last_error();
    if (!strstr(msg, path) || !strstr(msg, reason)) {
        HARNESS_FAIL_("%s with %s: message \"%s\" lacks the path or \"%s\"", writer_names[w], what,
                      msg, reason);
        bad = 1;
    }
    size_t n;
    unsigned char *now = slurp(path, &n);
    if (before ? !now || n != before_size || memcmp(now, before, n) != 0 : now != NULL) {
        HARNESS_FAIL_("%s with %s: the target is not the previous file", writer_names[w], what);
        bad = 1;
    }
    free(now);
    int entries = count_entries(dir);
    if (entries != (before ? 1 : 0)) {
        HARNESS_FAIL_("%s with %s: %d files in the directory (temp file left?)", writer_names[w],
                      what, entries);
        bad = 1;
    }
    return bad;
}

/* Prepares dir/file, with the "a" version written first if replace. */
static unsigned char *prepare(int w, int replace, const char *dir, const char *path, size_t *size)
{
    faults_off();
    clear_dir(dir);
    *size = 0;
    if (!replace) return NULL;
    CHECK_OK(do_write(w, 0, path));
    return slurp(path, size);
}

static void test_kth_write_fails(void)
{
    const char *reason = strerror(ENOSPC);
    for (int w = 0; w < W_COUNT; w++)
        for (int replace = 0; replace < 2; replace++) {
            char dir[600], path[700];
            snprintf(dir, sizeof dir, "%s/w%d", tmpdir, w);
            mkdir(dir, 0700);
            snprintf(path, sizeof path, "%s/%s", dir, writer_files[w]);
            size_t bsize;
            unsigned char *before = prepare(w, replace, dir, path, &bsize);
            int k, ok = 0;
            for (k = 1; k < 100000; k++) {
                iofail_config c = no_faults;
                c.path = dir;
                c.write_k = k;
                iofail_set(&c);
                int rc = do_write(w, 1, path);
                faults_off();
                if (rc == MADE_OK) {
                    ok = 1;
                    break;
                }
                char what[64];
                snprintf(what, sizeof what, "write #%d failing", k);
                if (check_failed(w, what, rc, dir, path, before, bsize, reason)) break;
            }
            CHECK(ok);
            CHECK(k > 1);
            if (replace) printf("io_faults: %s: %d write() calls, each made to fail\n", writer_names[w], k - 1);
            free(before);
            clear_dir(dir);
            rmdir(dir);
        }
}

/* The device fills up after N bytes, for every N from 0 to the file's size. */
static void test_device_full_at_every_byte(void)
{
    for (int w = 0; w < W_COUNT; w++) {
        char dir[600], path[700];
        snprintf(dir, sizeof dir, "%s/full%d", tmpdir, w);
        mkdir(dir, 0700);
        snprintf(path, sizeof path, "%s/%s", dir, writer_files[w]);
        /* The size of the new file. */
        faults_off();
        clear_dir(dir);
        CHECK_OK(do_write(w, 1, path));
        size_t size;
        free(slurp(path, &size));
        size_t bsize;
        unsigned char *before = prepare(w, 1, dir, path, &bsize);
        int bad = 0;
        for (size_t n = 0; n < size && !bad; n++) {
            iofail_config c = no_faults;
            c.path = dir;
            c.bytes = (long long)n;
            c.err = (n & 1) ? EDQUOT : ENOSPC;
            iofail_set(&c);
            int rc = do_write(w, 1, path);
            faults_off();
            char what[64];
            snprintf(what, sizeof what, "the device full after %zu bytes", n);
            bad = check_failed(w, what, rc, dir, path, before, bsize, strerror(c.err));
        }
        /* Exactly enough room: success. */
        iofail_config c = no_faults;
        c.path = dir;
        c.bytes = (long long)size;
        iofail_set(&c);
        CHECK_OK(do_write(w, 1, path));
        faults_off();
        printf("io_faults: %s: device full at each of %zu byte offsets\n", writer_names[w], size);
        free(before);
        clear_dir(dir);
        rmdir(dir);
    }
}

/* fsync, close or rename of the temp file failing: nothing is replaced. */
static void test_commit_failures(void)
{
    static const struct {
        const char *name;
        int err;
        const char *word; /* in the message */
    } kinds[] = {{"fsync", EIO, "fsync"}, {"close", EIO, "close"}, {"rename", EROFS, "rename"},
                 {"rename", EXDEV, "rename"}};
    for (int w = 0; w < W_COUNT; w++)
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
            for (int replace = 0; replace < 2; replace++) {
                char dir[600], path[700];
                snprintf(dir, sizeof dir, "%s/c%d", tmpdir, w);
                mkdir(dir, 0700);
                snprintf(path, sizeof path, "%s/%s", dir, writer_files[w]);
                size_t bsize;
                unsigned char *before = prepare(w, replace, dir, path, &bsize);
                iofail_config c = no_faults;
                c.path = dir;
                c.err = kinds[i].err;
                if (kinds[i].name[0] == 'f') c.fsync_k = 1;
                else if (kinds[i].name[0] == 'c') c.close_k = 1;
                else c.rename_k = 1;
                iofail_set(&c);
                int rc = do_write(w, 1, path);
                faults_off();
                char what[64];
                snprintf(what, sizeof what, "%s failing (%s)", kinds[i].name, strerror(kinds[i].err));
                if (!check_failed(w, what, rc, dir, path, before, bsize, strerror(kinds[i].err)))
                    CHECK_STR_CONTAINS(made_last_error(), kinds[i].word);
                free(before);
                clear_dir(dir);
                rmdir(dir);
            }
}

/* A read() failing with EIO: every reader reports MADE_E_IO with the path. */
static void test_read_eio(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/r", tmpdir);
    mkdir(dir, 0700);
    char mpath[700], cpath[700], npath[700], vpath[700], ipath[700];
    snprintf(mpath, sizeof mpath, "%s/m.safetensors", dir);
    snprintf(cpath, sizeof cpath, "%s/t.ckpt", dir);
    snprintf(npath, sizeof npath, "%s/a.npy", dir);
    snprintf(vpath, sizeof vpath, "%s/a.csv", dir);
    snprintf(ipath, sizeof ipath, "%s/a-ubyte", dir);
    faults_off();
    CHECK_OK(made_model_save(model_a, mpath));
    CHECK_OK(made_trainer_save(trainer_a, cpath));
    CHECK_OK(made_npy_write(&array_a, npath));
    CHECK_OK(made_csv_write(&array_a, vpath));
    unsigned char idx[4 + 8 + 6] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
    CHECK(spit(ipath, idx, sizeof idx) == 0);
    const char *reason = strerror(EIO);
    for (int which = 0; which < 7; which++) {
        iofail_config c = no_faults;
        c.path = dir;
        c.read_k = 1;
        iofail_set(&c);
        made_model *m = (made_model *)&c;
        made_trainer *t = (made_trainer *)&c;
        made_array a;
        memset(&a, 0x5a, sizeof a);
        int rc;
        const char *path;
        switch (which) {
        case 0: rc = made_model_load(&m, path = mpath); break;
        case 1: rc = made_trainer_resume(&t, &m, path = cpath); break;
        case 2: rc = made_npy_read(&a, path = npath); break;
        case 3: rc = made_csv_read(&a, path = vpath); break;
        case 4: rc = made_idx_read(&a, path = ipath); break;
        case 5: rc = made_data_read(&a, path = npath); break;
        default: rc = made_data_read(&a, path = vpath); break;
        }
        faults_off();
        if (rc != MADE_E_IO) {
            HARNESS_FAIL_("reading %s with read() failing -> %d %s (%s)", path, rc, made_status_name(rc),
                          made_last_error());
        } else {
            CHECK_STR_CONTAINS(made_last_error(), path);
            CHECK_STR_CONTAINS(made_last_error(), reason);
        }
        if (which == 0) CHECK(m == NULL);
        if (which == 1) CHECK(m == NULL && t == NULL);
        if (which >= 2) CHECK(a.data == NULL);
    }
    clear_dir(dir);
    rmdir(dir);
}

/* A checkpoint cut at every byte offset: resume fails cleanly (MADE_E_FORMAT or
 * MADE_E_IO, outputs NULL); the whole file resumes. (Model files get the same
 * treatment in test_model_io.c.) */
static void truncate_checkpoint_everywhere(made_trainer *t, const char *label)
{
    char path[600];
    snprintf(path, sizeof path, "%s/trunc.ckpt", tmpdir);
    faults_off();
    CHECK_OK(made_trainer_save(t, path));
    size_t size;
    unsigned char *bytes = slurp(path, &size);
    CHECK(bytes && size > 100);
    if (!bytes) return;
    int bad = 0;
    for (size_t k = 0; k < size && bad < 5; k++) {
        if (spit(path, bytes, k) != 0) {
            HARNESS_FAIL_("cannot write %s", path);
            break;
        }
        made_model *m = (made_model *)&bad;
        made_trainer *tr = (made_trainer *)&bad;
        int rc = made_trainer_resume(&tr, &m, path);
        if ((rc != MADE_E_FORMAT && rc != MADE_E_IO) || m || tr) {
            HARNESS_FAIL_("%s checkpoint cut to %zu of %zu bytes: resume -> %d (%s)%s", label, k, size,
                          rc, made_last_error(), m || tr ? ", outputs not NULL" : "");
            if (rc == MADE_OK) {
                made_trainer_free(tr);
                made_model_free(m);
            }
            bad++;
        }
        /* Nor does it pass for a model file. */
        m = NULL;
        rc = made_model_load(&m, path);
        if (rc != MADE_E_FORMAT && rc != MADE_E_IO) {
            HARNESS_FAIL_("%s checkpoint cut to %zu bytes: model load -> %d", label, k, rc);
            made_model_free(m);
            bad++;
        }
    }
    CHECK(spit(path, bytes, size) == 0);
    made_model *m = NULL;
    made_trainer *tr = NULL;
    CHECK_OK(made_trainer_resume(&tr, &m, path));
    made_trainer_free(tr);
    made_model_free(m);
    printf("io_faults: %s checkpoint truncated at each of %zu byte offsets\n", label, size);
    free(bytes);
    unlink(path);
}

static void test_checkpoint_truncated_everywhere(void)
{
    truncate_checkpoint_everywhere(trainer_a, "adam");
    truncate_checkpoint_everywhere(trainer_b, "sgd, 2 mask sets,");
}

/* A model where a checkpoint is expected and vice versa. */
static void test_wrong_kind_of_file(void)
{
    char mpath[600], cpath[600];
    snprintf(mpath, sizeof mpath, "%s/kind.safetensors", tmpdir);
    snprintf(cpath, sizeof cpath, "%s/kind.ckpt", tmpdir);
    faults_off();
    CHECK_OK(made_model_save(model_a, mpath));
    CHECK_OK(made_trainer_save(trainer_a, cpath));
    made_model *m = (made_model *)&m;
    made_trainer *t = (made_trainer *)&t;
    CHECK_STATUS(made_trainer_resume(&t, &m, mpath), MADE_E_FORMAT);
    CHECK(m == NULL && t == NULL);
    CHECK_STR_CONTAINS(made_last_error(), mpath);
    m = (made_model *)&m;
    CHECK_STATUS(made_model_load(&m, cpath), MADE_E_FORMAT);
    CHECK(m == NULL);
    CHECK_STR_CONTAINS(made_last_error(), "made-checkpoint");
    unlink(mpath);
    unlink(cpath);
}

int main(void)
{
    if (tmp_init("test-io-faults")) return 1;
    faults_off();
    if (setup() != 0) {
        fprintf(stderr, "setup failed: %s\n", made_last_error());
        teardown();
        return 1;
    }
    RUN(test_kth_write_fails);
    RUN(test_device_full_at_every_byte);
    RUN(test_commit_failures);
    RUN(test_read_eio);
    RUN(test_checkpoint_truncated_everywhere);
    RUN(test_wrong_kind_of_file);
    teardown();
    tmp_cleanup();
    return harness_summary("test_io_faults");
}
