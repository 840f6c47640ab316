/*
 * test_record.c - what a model file records besides the network (binarize
 * threshold, epochs run, best epoch kept, stop reason, final NLLs), the
 * checkpoint's note, and extending a finished run: resuming with more epochs
 * gives the bits of a run started with that many.
 */
#include <math.h>
#include <unistd.h>

#include "harness.h"
#include "made.h"

static char tmpdir[] = "/tmp/made_test_record_XXXXXX";

static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int which;
    which = (which + 1) % 4;
    snprintf(buf[which], sizeof buf[which], "%s/%s", tmpdir, name);
    return buf[which];
}

#define N 60
#define E 5
static float data[N * E];

static void make_data(void)
{
    unsigned s = 12345;
    for (int i = 0; i < N * E; i++) {
        s = s * 1103515245u + 12345u;
        /* Correlated bits: column j copies column j-1 three times in four. */
        int j = i % E;
        data[i] = j && (s >> 16) % 4 ? data[i - 1] : (float)((s >> 20) & 1);
    }
}

static made_model *new_model(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = E;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 8;
    cfg.activation = MADE_ACT_RELU;
    cfg.seed = 3;
    made_dist_parse("bernoulli", &cfg.dist);
    made_model *m = NULL;
    CHECK_OK(made_model_create(&m, &cfg));
    return m;
}

static void test_record_round_trip(void)
{
    made_model *m = new_model(), *back = NULL;
    const made_model_record *r = made_model_get_record(m);
    CHECK(isnan(r->binarize) && r->epochs_run == 0 && r->stop == MADE_STOP_NONE);
    made_model_record w = *r;
    w.best_epoch = 1; /* beyond epochs_run 0 */
    CHECK_STATUS(made_model_set_record(m, &w), MADE_E_INVAL);
    w.binarize = INFINITY;
    w.best_epoch = 0;
    CHECK_STATUS(made_model_set_record(m, &w), MADE_E_INVAL);
    w.binarize = 0.5;
    w.epochs_run = 10;
    w.best_epoch = 7;
    w.stop = MADE_STOP_PATIENCE;
    w.train_nll = 2.25;
    w.val_nll = NAN;
    CHECK_OK(made_model_set_record(m, &w));
    CHECK_OK(made_model_save(m, tmp("r.safetensors")));
    CHECK_OK(made_model_load(&back, tmp("r.safetensors")));
    const made_model_record *g = made_model_get_record(back);
    CHECK(g->binarize == 0.5 && g->epochs_run == 10 && g->best_epoch == 7);
    CHECK(g->stop == MADE_STOP_PATIENCE && g->train_nll == 2.25 && isnan(g->val_nll));
    made_stop st;
    CHECK_OK(made_stop_parse("patience", &st));
    CHECK_EQ_INT(st, MADE_STOP_PATIENCE);
    CHECK_STATUS(made_stop_parse("tired", &st), MADE_E_INVAL);
    made_model_free(back);
    made_model_free(m);
}

/* What the progress callback saw at each epoch's end. */
typedef struct seen {
    double train[32], val[32];
    int epochs;
    const char *ckpt; /* checkpoint written at each epoch's end, or NULL */
    made_trainer *t;
} seen;

static int on_progress(void *user, const made_progress *p)
{
    seen *s = user;
    if (!p->epoch_done) return 0;
    s->train[p->epoch] = p->train_nll;
    s->val[p->epoch] = p->val_nll;
    s->epochs = p->epoch;
    if (s->ckpt) CHECK_OK(made_trainer_save(s->t, s->ckpt));
    return 0;
}

static void test_fit_records_outcome(void)
{
    made_model *m = new_model();
    made_train_config tc;
    made_train_config_default(&tc);
    tc.epochs = 30;
    tc.patience = 2;
    tc.batch_size = 10;
    tc.lr = 0.05;
    made_trainer *t = NULL;
    CHECK_OK(made_trainer_create(&t, m, &tc));
    seen s = {{0}, {0}, 0, NULL, t};
    /* Training on the first 40 rows, validating on the last 20. */
    CHECK_OK(made_trainer_fit(t, data, NULL, 40, data + 40 * E, NULL, 20, on_progress, &s));
    const made_model_record *r = made_model_get_record(m);
    int best = 1;
    for (int e = 2; e <= s.epochs; e++)
        if (s.val[e] < s.val[best]) best = e;
    CHECK_EQ_INT(r->epochs_run, s.epochs);
    CHECK_EQ_INT(r->best_epoch, best);
    CHECK_EQ_INT(r->stop, s.epochs < 30 ? MADE_STOP_PATIENCE : MADE_STOP_EPOCHS);
    CHECK(s.epochs < 30); /* this data and lr overfit within 30 epochs */
    CHECK(r->train_nll == s.train[s.epochs]);
    CHECK(r->val_nll == s.val[best]);
    /* The model holds the kept epoch's parameters: its validation NLL is val_nll. */
    double nll;
    CHECK_OK(made_model_nll(m, data + 40 * E, NULL, 20, 0, &nll));
    CHECK(nll == r->val_nll);
    made_trainer_free(t);
    made_model_free(m);
}

/* Runs `epochs` epochs from scratch (or from the checkpoint, extended to
 * `epochs`), writing the checkpoint at each epoch's end; returns the model. */
static made_model *run(int epochs, const char *resume_from, const char *ckpt)
{
    made_model *m = NULL;
    made_trainer *t = NULL;
    made_train_config tc;
    made_train_config_default(&tc);
    tc.epochs = epochs;
    tc.batch_size = 7;
    tc.lr = 0.02;
    if (resume_from) {
        CHECK_OK(made_trainer_resume(&t, &m, resume_from));
        CHECK_OK(made_trainer_set_epochs(t, epochs));
    } else {
        m = new_model();
        CHECK_OK(made_trainer_create(&t, m, &tc));
    }
    if (!t) return m;
    CHECK_OK(made_trainer_set_note(t, "val-fraction=0.25\n"));
    seen s = {{0}, {0}, 0, ckpt, t};
    CHECK_OK(made_trainer_fit(t, data, NULL, 45, data + 45 * E, NULL, 15, on_progress, &s));
    made_trainer_free(t);
    return m;
}

static void test_extend_finished_run(void)
{
    made_model *a = run(3, NULL, tmp("a.ckpt"));
    made_model_free(a);
    /* The note survives the checkpoint. */
    made_model *m = NULL;
    made_trainer *t = NULL;
    CHECK_OK(made_trainer_resume(&t, &m, tmp("a.ckpt")));
    CHECK(t && strcmp(made_trainer_note(t), "val-fraction=0.25\n") == 0);
    CHECK_STATUS(made_trainer_set_epochs(t, 2), MADE_E_INVAL); /* below the 3 done */
    CHECK_OK(made_trainer_set_epochs(t, 3));
    made_trainer_free(t);
    made_model_free(m);

    made_model *ext = run(5, tmp("a.ckpt"), NULL), *direct = run(5, NULL, NULL);
    CHECK_OK(made_model_save(ext, tmp("ext.safetensors")));
    CHECK_OK(made_model_save(direct, tmp("direct.safetensors")));
    FILE *f1 = fopen(tmp("ext.safetensors"), "rb"), *f2 = fopen(tmp("direct.safetensors"), "rb");
    int same = f1 && f2;
    while (same) {
        int c1 = fgetc(f1), c2 = fgetc(f2);
        same = c1 == c2;
        if (c1 == EOF || c2 == EOF) break;
    }
    if (f1) fclose(f1);
    if (f2) fclose(f2);
    CHECK(same); /* byte for byte, record included */
    CHECK_EQ_INT(made_model_get_record(ext)->epochs_run, 5);
    made_model_free(ext);
    made_model_free(direct);
}

static void test_cosine_cannot_extend(void)
{
    made_model *m = new_model();
    made_train_config tc;
    made_train_config_default(&tc);
    tc.schedule = MADE_LR_COSINE;
    tc.epochs = 4;
    made_trainer *t = NULL;
    CHECK_OK(made_trainer_create(&t, m, &tc));
    CHECK_STATUS(made_trainer_set_epochs(t, 6), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "cosine");
    CHECK_OK(made_trainer_set_epochs(t, 4));
    made_trainer_free(t);
    made_model_free(m);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    make_data();
    RUN(test_record_round_trip);
    RUN(test_fit_records_outcome);
    RUN(test_extend_finished_run);
    RUN(test_cosine_cannot_extend);
    const char *names[] = {"r.safetensors", "a.ckpt", "ext.safetensors", "direct.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) unlink(tmp(names[i]));
    rmdir(tmpdir);
    return harness_summary("test_record");
}
