/* test_flow_faults.c - allocation-failure injection for flows: for every k the
 * k-th allocation of a call fails; the call must return MADE_E_NOMEM with its
 * out pointer NULL (no half-made flow or trainer), until k passes the call's
 * allocations and it succeeds. Leaks on the failure paths are caught by
 * LeakSanitizer in the SANITIZE=1 run. Covers made_flow_create, made_flow_load,
 * made_flow_trainer_create, made_flow_trainer_resume, made_flow_save and
 * made_flow_batchnorm_from_data, for a MAF and for an IAF with shared weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "harness.h"
#include "flow_fixtures.h"
#include "made.h"

#define MAX_K 100000

static char dir[] = "/tmp/made_test_flow_faults_XXXXXX";
static char flow_path[600], ckpt_path[600], save_path[600];

static made_flow *base(made_flow_kind kind, int share)
{
    stack_opts o = opts(kind, 3, 3, 2);
    o.bn = 1;
    o.order = MADE_ORDER_RANDOM;
    o.share = share;
    return stack(&o);
}

/* Runs op(k) for k = 1, 2, ... until it succeeds; every failure must be
 * MADE_E_NOMEM. Returns the number of allocation points. */
static int loop(const char *name, int (*op)(void))
{
    for (long k = 1; k < MAX_K; k++) {
        made__alloc_fail_at(k);
        int rc = op();
        made__alloc_fail_at(0);
        if (rc == MADE_OK) {
            printf("faults: %s: %ld allocation points\n", name, k - 1);
            return (int)(k - 1);
        }
        if (rc != MADE_E_NOMEM) {
            HARNESS_FAIL_("%s: allocation %ld failed -> %d (%s), want MADE_E_NOMEM", name, k, rc,
                          made_last_error());
            return -1;
        }
    }
    HARNESS_FAIL_("%s: no success after %d failures", name, MAX_K);
    return -1;
}

static made_flow_config cfg;
static int op_flow_create(void)
{
    made_flow *f = (made_flow *)&f;
    int rc = made_flow_create(&f, &cfg);
    if (rc) CHECK(f == NULL);
    made_flow_free(rc ? NULL : f);
    return rc;
}

static int op_flow_load(void)
{
    made_flow *f = (made_flow *)&f;
    int rc = made_flow_load(&f, flow_path);
    if (rc) CHECK(f == NULL);
    made_flow_free(rc ? NULL : f);
    return rc;
}

static made_flow *shared;
static int op_trainer_create(void)
{
    made_train_config tc;
    made_train_config_default(&tc);
    made_trainer *t = (made_trainer *)&t;
    int rc = made_flow_trainer_create(&t, shared, &tc);
    if (rc) CHECK(t == NULL);
    made_trainer_free(rc ? NULL : t);
    return rc;
}

static int op_resume(void)
{
    made_trainer *t = (made_trainer *)&t;
    made_flow *f = (made_flow *)&f;
    int rc = made_flow_trainer_resume(&t, &f, ckpt_path);
    if (rc) CHECK(t == NULL && f == NULL);
    if (!rc) {
        made_trainer_free(t);
        made_flow_free(f);
    }
    return rc;
}

static int op_save(void)
{
    int rc = made_flow_save(shared, save_path);
    if (rc) CHECK(access(save_path, F_OK) != 0);
    return rc;
}

static float *data;
static int op_bn_from_data(void) { return made_flow_batchnorm_from_data(shared, data, NULL, 300); }

/* A MAF, and an IAF with one shared network (trained, so its file and
 * checkpoint carry the training record). */
static void faults(made_flow_kind kind, int share)
{
    made_flow *f = base(kind, share);
    if (!f) return;
    cfg = *made_flow_get_config(f);
    CHECK(loop("made_flow_create", op_flow_create) > 5);
    CHECK_OK(made_flow_save(f, flow_path));
    CHECK(loop("made_flow_load", op_flow_load) > 5);
    shared = f;
    CHECK(loop("made_flow_trainer_create", op_trainer_create) > 5);
    made_train_config tc;
    made_train_config_default(&tc);
    tc.epochs = 1;
    made_trainer *t = NULL;
    CHECK_OK(made_flow_trainer_create(&t, f, &tc));
    float *x = rand_rows(300, 3, 1, 1.0), *c = rand_rows(300, 2, 2, 1.0);
    CHECK_OK(made_trainer_fit(t, x, c, 300, NULL, NULL, 0, NULL, NULL));
    CHECK_OK(made_trainer_save(t, ckpt_path));
    made_trainer_free(t);
    CHECK(loop("made_flow_trainer_resume", op_resume) > 5);
    CHECK(loop("made_flow_save", op_save) > 0);
    unlink(save_path);
    free(c);
    /* batch norm from data runs unconditioned here: use a flow without C. */
    stack_opts o = opts(MADE_FLOW_MAF, 2, 3, 0);
    o.bn = 1;
    made_flow *g = stack(&o);
    shared = g;
    data = x;
    CHECK(loop("made_flow_batchnorm_from_data", op_bn_from_data) >= 1);
    made_flow_free(g);
    free(x);
    made_flow_free(f);
    unlink(flow_path);
    unlink(ckpt_path);
}

static void test_faults(void)
{
    faults(MADE_FLOW_MAF, 0);
    faults(MADE_FLOW_IAF, 1);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(flow_path, sizeof flow_path, "%s/f.safetensors", dir);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/f.ckpt", dir);
    snprintf(save_path, sizeof save_path, "%s/s.safetensors", dir);
    RUN(test_faults);
    rmdir(dir);
    return harness_summary("test_flow_faults");
}
