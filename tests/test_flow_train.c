/* test_flow_train.c - training flows with made's trainer: the gradient of the
 * mean NLL through the whole stack (networks, batch norm in training mode with
 * batch statistics, every scale function, conditions, preprocessing) against
 * central finite differences; training lowers the NLL; batch norm's final
 * pass; refusals (a batch of one with batch norm). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow/flow.h"
#include "harness.h"
#include "flow_fixtures.h"
#include "made.h"
#include "net/network.h"
#include "threads.h"
#include "train/trainer.h"

/* Loss (mean NLL, training mode) and gradient via the trainer's objective.
 * The finite differences write parameters directly, so the networks' packed
 * weights are marked stale first. */
static double loss(made_trainer *t, const float *x, const float *c, size_t n)
{
    t->obj.changed(t->obj.self);
    return t->obj.gradient(t, x, NULL, c, n) / (double)n;
}

/* The gradient the last loss left in the trainer's blocks, as one vector
 * (caller frees). */
static float *gradient_copy(const made_trainer *t)
{
    float *g = calloc(t->obj.n_params, sizeof *g);
    for (int b = 0; b < t->obj.n_blocks; b++)
        memcpy(g + t->obj.blocks[b].offset, t->obj.blocks[b].g, t->obj.blocks[b].size * sizeof *g);
    return g;
}

static void gradient_check(stack_opts o, const char *label)
{
    made_flow *f = stack(&o);
    if (!f) return;
    made_train_config tc;
    made_train_config_default(&tc);
    tc.batch_size = 8;
    made_trainer *t = NULL;
    CHECK_OK(made_flow_trainer_create(&t, f, &tc));
    if (!t) return;
    const size_t n = 8;
    float *x = rand_rows(n, o.E, 21, 1.5), *c = o.C ? rand_rows(n, o.C, 22, 1.0) : NULL;
    loss(t, x, c, n);
    /* Copy the analytic gradient before the finite differences overwrite it. */
    float *g = gradient_copy(t);
    int checked = 0, bad = 0;
    double worst = 0;
    for (int b = 0; b < t->obj.n_blocks; b++) {
        const made__block *B = &t->obj.blocks[b];
        for (size_t s = 0; s < B->n_segs; s++)
            for (size_t i = B->segs[2 * s]; i < B->segs[2 * s + 1]; i += 3) {
                float keep = B->p[i];
                const float h = 2e-3f;
                B->p[i] = keep + h;
                double lp = loss(t, x, c, n);
                B->p[i] = keep - h;
                double lm = loss(t, x, c, n);
                B->p[i] = keep;
                double fd = (lp - lm) / (2.0 * h), an = g[B->offset + i];
                double err = fabs(fd - an) / (3e-3 + 3e-2 * fabs(fd));
                if (err > worst) worst = err;
                if (err > 1 && bad++ < 5)
                    HARNESS_FAIL_("%s: block %d entry %zu: analytic %.6g, finite difference %.6g",
                                  label, b, i, an, fd);
                checked++;
            }
    }
    CHECK(checked > 20);
    printf("  %s: %d parameters checked, worst error %.3f of the tolerance\n", label, checked, worst);
    free(g);
    free(x);
    free(c);
    made_trainer_free(t);
    made_flow_free(f);
}

static void test_gradients(void)
{
    stack_opts o = opts(MADE_FLOW_MAF, 3, 3, 0);
    o.hidden[0] = 6;
    o.hidden[1] = 5;
    o.seed = 3;
    gradient_check(o, "maf(3) exp");
    o.scale = MADE_FLOW_SCALE_SOFTPLUS;
    o.C = 2;
    gradient_check(o, "maf(3) softplus conditional");
    o.scale = MADE_FLOW_SCALE_SOFTCLIP;
    o.bn = 1;
    gradient_check(o, "maf(3) softclip conditional batch norm");
    o.scale = MADE_FLOW_SCALE_EXP;
    o.C = 0;
    o.K = 2;
    o.pre = MADE_FLOW_PRE_STANDARDIZE;
    gradient_check(o, "maf(2) batch norm standardize");
    o.K = 1;
    o.E = 1;
    o.bn = 0;
    o.pre = MADE_FLOW_PRE_NONE;
    o.C = 1;
    gradient_check(o, "maf(1) E=1 conditional");
}

/* IAF layers: x is the implicit solution of the autoregressive recursion, and
 * the gradient (implicit differentiation, iaf_grad.c) must match finite
 * differences of the whole stack's loss. */
static void test_iaf_gradients(void)
{
    stack_opts o = opts(MADE_FLOW_IAF, 3, 4, 0);
    o.hidden[0] = 7;
    o.hidden[1] = 6;
    o.seed = 5;
    gradient_check(o, "iaf(3) exp, random permutations");
    o.scale = MADE_FLOW_SCALE_SOFTPLUS;
    o.C = 2;
    o.order = MADE_ORDER_RANDOM;
    gradient_check(o, "iaf(3) softplus conditional, random input order");
    o.scale = MADE_FLOW_SCALE_SOFTCLIP;
    o.bn = 1;
    o.pre = MADE_FLOW_PRE_STANDARDIZE;
    gradient_check(o, "iaf(3) softclip conditional batch norm standardize");
    o.scale = MADE_FLOW_SCALE_EXP;
    o.n_hidden = 1;
    o.K = 2;
    o.bn = 0;
    o.pre = MADE_FLOW_PRE_NONE;
    gradient_check(o, "iaf(2) one hidden layer");
    o.K = 1;
    o.E = 1;
    o.C = 1;
    o.hidden[0] = 24;
    gradient_check(o, "iaf(1) E=1 conditional");
}

/* The IAF's back-substitution splits rows among threads: a batch big enough
 * for two gives the same gradient bits as one thread. */
static void test_iaf_gradient_threads(void)
{
    stack_opts o = opts(MADE_FLOW_IAF, 2, 8, 3);
    o.n_hidden = 1;
    o.hidden[0] = 256;
    o.bn = 1;
    made_flow *f = stack(&o);
    if (!f) return;
    const size_t n = 512;
    made_train_config tc;
    made_train_config_default(&tc);
    tc.batch_size = (int)n;
    made_trainer *t = NULL;
    CHECK_OK(made_flow_trainer_create(&t, f, &tc));
    if (!t) return;
    float *x = rand_rows(n, o.E, 31, 1.5), *c = rand_rows(n, o.C, 32, 1.0);
    float *g[2];
    double nll[2];
    for (int run = 0; run < 2; run++) {
        CHECK_OK(made_flow_set_threads(f, run + 1));
        flow_share_any_batch(f);
        made_model *m = made_flow_layer(f, 0);
        if (run == 1) CHECK(made__threads_for(m, n, 2.0 * o.E) == 2);
        nll[run] = loss(t, x, c, n);
        g[run] = gradient_copy(t);
    }
    CHECK(nll[0] == nll[1]);
    CHECK(memcmp(g[0], g[1], t->obj.n_params * sizeof(float)) == 0);
    free(g[0]);
    free(g[1]);
    free(x);
    free(c);
    made_trainer_free(t);
    made_flow_free(f);
}

/* One network for every layer: its gradient is the sum over the layers. */
static void test_shared_gradients(void)
{
    stack_opts o = opts(MADE_FLOW_MAF, 3, 3, 0);
    o.hidden[0] = 6;
    o.hidden[1] = 5;
    o.seed = 11;
    o.share = 1;
    gradient_check(o, "maf(3) shared");
    o.C = 2;
    o.bn = 1;
    gradient_check(o, "maf(3) shared conditional batch norm");
    o.kind = MADE_FLOW_IAF;
    gradient_check(o, "iaf(3) shared conditional batch norm");
}

/* Two moons-like data: training lowers the validation NLL a lot, and the
 * reported NLL agrees with made_flow_nll. */
static float *moons(size_t n, unsigned seed)
{
    float *x = malloc(n * 2 * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        double a = 3.14159265 * urand(&seed), nx = 0.1 * (urand(&seed) - 0.5), ny = 0.1 * (urand(&seed) - 0.5);
        if (i % 2) {
            x[2 * i] = (float)(cos(a) + nx);
            x[2 * i + 1] = (float)(sin(a) + ny);
        } else {
            x[2 * i] = (float)(1 - cos(a) + nx);
            x[2 * i + 1] = (float)(0.5 - sin(a) + ny);
        }
    }
    return x;
}

/* A flow of K layers trained 20 epochs on the moons (data seed, validation
 * data seed + 1) lowers the validation NLL by at least min_drop, to below 2. */
static void moons_training(made_flow_kind kind, int K, int bn, unsigned seed, double min_drop)
{
    stack_opts o = opts(kind, K, 2, 0);
    o.hidden[0] = 32;
    o.hidden[1] = 32;
    o.bn = bn;
    made_flow *f = stack(&o);
    if (!f) return;
    const size_t n = 1000, nv = 200;
    float *x = moons(n, seed), *xv = moons(nv, seed + 1);
    double before, after;
    CHECK_OK(made_flow_nll(f, xv, NULL, nv, &before));
    made_train_config tc;
    made_train_config_default(&tc);
    tc.epochs = 20;
    tc.lr = 3e-3;
    made_trainer *t = NULL;
    CHECK_OK(made_flow_trainer_create(&t, f, &tc));
    CHECK_OK(made_trainer_fit(t, x, NULL, n, xv, NULL, nv, NULL, NULL));
    CHECK_OK(made_flow_nll(f, xv, NULL, nv, &after));
    printf("  %s(%d) moons: validation NLL %.4f -> %.4f\n", made_flow_kind_name(kind), K, before,
           after);
    CHECK(after < before - min_drop);
    CHECK(after < 2.0);
    if (bn) {
        /* The final pass set batch norm from the training data: the last
         * layer, which the data meet first, holds the statistics of the data
         * it sees. */
        float mean[2], var[2];
        CHECK_OK(made_flow_get_batchnorm(f, K - 1, mean, var, NULL, NULL));
        CHECK(fabs(mean[0]) < 5 && var[0] > 0);
    }
    made_trainer_free(t);
    free(x);
    free(xv);
    made_flow_free(f);
}

/* A MAF(4) with batch norm learns the moons. */
static void test_training_lowers_nll(void)
{
    moons_training(MADE_FLOW_MAF, 4, 1, 1, 1.0);
}

/* Every number the flow holds that training changes. */
static float *numbers(made_flow *f, size_t *count)
{
    const made_flow_config *c = made_flow_get_config(f);
    size_t n = 0;
    for (int k = 0; k < c->num_layers; k++) n += made_model_num_params(made_flow_layer(f, k));
    size_t E = (size_t)c->layer.event_size, total = n + 4 * E * (size_t)c->num_layers;
    float *v = calloc(total, sizeof *v);
    size_t at = 0;
    for (int k = 0; k < c->num_layers; k++) {
        made_model *m = made_flow_layer(f, k);
        made_model_get_weights(m, v + at, made_model_num_params(m));
        at += made_model_num_params(m);
    }
    for (int k = 0; c->batch_norm && k < c->num_layers; k++, at += 4 * E)
        made_flow_get_batchnorm(f, k, v + at, v + at + E, v + at + 2 * E, v + at + 3 * E);
    *count = total;
    return v;
}

static int stop_at;
static int stopper(void *user, const made_progress *p)
{
    (void)user;
    long long at = (long long)(p->epoch - 1) * (long long)p->batches + (long long)p->batch;
    return !p->epoch_done && at == stop_at;
}

/* Interrupted, saved, resumed: the same bits as a run never interrupted, and
 * the same bits with two threads; the record of how training ended. */
static void resume_and_threads(made_flow_kind kind, int share)
{
    stack_opts o = opts(kind, 3, 2, 1);
    o.hidden[0] = 70;
    o.bn = 1;
    o.share = share;
    const size_t n = 230, nv = 50;
    float *x = moons(n, 5), *xv = moons(nv, 6), *c = rand_rows(n, 1, 7, 1.0), *cv = rand_rows(nv, 1, 8, 1.0);
    made_train_config tc;
    made_train_config_default(&tc);
    tc.epochs = 4;
    tc.batch_size = 32;
    tc.seed = 9;
    float *ref = NULL;
    size_t nref = 0;
    for (int run = 0; run < 3; run++) {
        made_flow *f = stack(&o);
        made_trainer *t = NULL;
        if (run == 2) {
            CHECK_OK(made_flow_set_threads(f, 2));
            flow_share_any_batch(f);
        }
        CHECK_OK(made_flow_trainer_create(&t, f, &tc));
        if (run == 1) {
            stop_at = 11; /* mid-epoch 2 (8 batches per epoch) */
            CHECK_STATUS(made_trainer_fit(t, x, c, n, xv, cv, nv, stopper, NULL), MADE_E_INTERRUPTED);
            const char *path = "/tmp/made_test_flow_resume.ckpt";
            CHECK_OK(made_trainer_save(t, path));
            made_trainer_free(t);
            made_flow_free(f);
            t = NULL;
            f = NULL;
            CHECK_OK(made_flow_trainer_resume(&t, &f, path));
            unlink(path);
            if (!t) return;
        }
        CHECK_OK(made_trainer_fit(t, x, c, n, xv, cv, nv, NULL, NULL));
        const made_model_record *r = made_flow_get_record(f);
        CHECK_EQ_INT(r->epochs_run, 4);
        CHECK(r->best_epoch >= 1 && r->best_epoch <= 4 && r->stop == MADE_STOP_EPOCHS);
        CHECK(isfinite(r->train_nll) && isfinite(r->val_nll) && isnan(r->binarize));
        size_t nv2;
        float *v = numbers(f, &nv2);
        if (!ref) {
            ref = v;
            nref = nv2;
        } else {
            CHECK(nv2 == nref && memcmp(v, ref, nref * sizeof *v) == 0);
            free(v);
        }
        made_trainer_free(t);
        made_flow_free(f);
    }
    free(ref);
    free(x);
    free(xv);
    free(c);
    free(cv);
}

static void test_resume_and_threads(void)
{
    resume_and_threads(MADE_FLOW_MAF, 0);
    resume_and_threads(MADE_FLOW_IAF, 0);
    resume_and_threads(MADE_FLOW_MAF, 1);
}

/* made_trainer_fit preprocesses its training data once (the objective's
 * prepare); its steps must give the same bits, and the same training NLL, as
 * made_trainer_step on the same batches of the data, which preprocesses each
 * batch itself. */
static void fit_prepared(made_flow_kind kind, made_flow_preprocess pre)
{
    stack_opts o = opts(kind, 2, 3, 1);
    o.hidden[0] = 16;
    o.bn = 1;
    o.pre = pre;
    const size_t n = 60, B = 16;
    float *x = rand_rows(n, 3, 31, 1.0), *c = rand_rows(n, 1, 32, 1.0);
    if (pre == MADE_FLOW_PRE_LOGIT)
        for (size_t i = 0; i < n * 3; i++) x[i] = 0.5f + 0.45f * x[i];
    made_train_config tc;
    made_train_config_default(&tc);
    tc.epochs = 2;
    tc.batch_size = (int)B;
    tc.seed = 4;
    made_flow *fa = stack(&o), *fb = stack(&o);
    made_trainer *ta = NULL, *tb = NULL;
    CHECK_OK(made_flow_trainer_create(&ta, fa, &tc));
    CHECK_OK(made_flow_trainer_create(&tb, fb, &tc));
    if (!ta || !tb) return;
    CHECK(ta->obj.prepare != NULL);
    CHECK_OK(made_trainer_fit(ta, x, c, n, NULL, NULL, 0, NULL, NULL));
    /* The same epochs by hand: the fit's shuffles, raw batches. */
    size_t perm[60];
    float xb[16 * 3], cb[16];
    double epoch_nll = 0;
    for (int e = 0; e < tc.epochs; e++) {
        made__epoch_permutation(tb, e, perm, n);
        epoch_nll = 0;
        for (size_t lo = 0; lo < n; lo += B) {
            size_t rows = n - lo < B ? n - lo : B;
            for (size_t i = 0; i < rows; i++) {
                memcpy(xb + i * 3, x + perm[lo + i] * 3, 3 * sizeof *xb);
                cb[i] = c[perm[lo + i]];
            }
            double nll;
            CHECK_OK(made_trainer_step(tb, xb, cb, rows, &nll));
            epoch_nll += nll * (double)rows;
        }
    }
    CHECK_OK(made_flow_batchnorm_from_data(fb, x, c, n)); /* the fit's final pass */
    size_t na, nb;
    float *va = numbers(fa, &na), *vb = numbers(fb, &nb);
    CHECK(na == nb && memcmp(va, vb, na * sizeof *va) == 0);
    CHECK_NEAR(made_flow_get_record(fa)->train_nll, epoch_nll / (double)n,
               1e-12 * fabs(epoch_nll / (double)n));
    free(va);
    free(vb);
    made_trainer_free(ta);
    made_trainer_free(tb);
    made_flow_free(fa);
    made_flow_free(fb);
    free(x);
    free(c);
}

static void test_fit_prepared(void)
{
    fit_prepared(MADE_FLOW_MAF, MADE_FLOW_PRE_LOGIT);
    fit_prepared(MADE_FLOW_MAF, MADE_FLOW_PRE_STANDARDIZE);
    fit_prepared(MADE_FLOW_IAF, MADE_FLOW_PRE_LOGIT);
}

/* An IAF(3) learns the moons too (its density is the autoregressive
 * direction). */
static void test_iaf_training(void)
{
    moons_training(MADE_FLOW_IAF, 3, 0, 3, 0.5);
}

static void test_refusals(void)
{
    stack_opts o = opts(MADE_FLOW_MAF, 2, 3, 0);
    made_flow *f = NULL;
    made_train_config tc;
    made_train_config_default(&tc);
    made_trainer *t = NULL;
    o.bn = 1;
    f = stack(&o);
    tc.batch_size = 1;
    CHECK_STATUS(made_flow_trainer_create(&t, f, &tc), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "batch");
    tc.batch_size = 4;
    CHECK_OK(made_flow_trainer_create(&t, f, &tc));
    float *x = rand_rows(9, 3, 1, 1.0);
    double nll;
    CHECK_STATUS(made_trainer_step(t, x, NULL, 1, &nll), MADE_E_INVAL);
    /* 9 rows in batches of 4 leave a last batch of one. */
    CHECK_STATUS(made_trainer_fit(t, x, NULL, 9, NULL, NULL, 0, NULL, NULL), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "last batch of 1 row");
    CHECK_OK(made_trainer_fit(t, x, NULL, 8, NULL, NULL, 0, NULL, NULL));
    free(x);
    made_trainer_free(t);
    made_flow_free(f);
}

int main(void)
{
    RUN(test_gradients);
    RUN(test_iaf_gradients);
    RUN(test_iaf_gradient_threads);
    RUN(test_shared_gradients);
    RUN(test_training_lowers_nll);
    RUN(test_resume_and_threads);
    RUN(test_fit_prepared);
    RUN(test_iaf_training);
    RUN(test_refusals);
    return harness_summary("test_flow_train");
}
