/* trainer.h - the trainer's internal structure (train.c, checkpoint.c). */
#ifndef MADE_TRAINER_H
#define MADE_TRAINER_H

#include <stddef.h>

#include "made.h"

struct made_trainer {
    made_model *m;
    made_train_config cfg;
    float *m1, *m2;  /* Adam first/second moments, or SGD momentum (m1) */
    float *best;     /* parameters of the best validation epoch */
    float *xb, *cb;  /* one minibatch, gathered */
    size_t *perm;    /* this epoch's order of examples */
    double *val_lp;  /* [nval] validation log-probabilities (several mask sets) */
    double *gbuf;    /* [params] gradient of one event's log-probability */
    /* Progress: everything a resumed run needs to continue bit for bit. */
    long long step;
    int epoch;             /* completed epochs */
    size_t batch;          /* completed minibatches of the current epoch */
    double epoch_nll;      /* summed NLL of the current epoch so far */
    size_t epoch_examples; /* examples of the current epoch so far */
    double epoch_seconds;
    double best_val;       /* NAN until a validation epoch */
    int bad_epochs, has_best, stopped;
    size_t n_data;         /* training rows (0 until the first fit) */
};

/* A trainer without touching the model's mask set (used on resume). */
int made__trainer_alloc(made_trainer **out, made_model *m, const made_train_config *cfg);

/* Mask set used at step s: a pure function of the seed and s / resample_every,
 * so a resumed run picks the same sets. */
int made__trainer_mask(const made_trainer *t, long long step);

#endif
