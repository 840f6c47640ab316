/* trainer.h - the trainer's internal structure (train.c, checkpoint.c). */
#ifndef MADE_TRAINER_H
#define MADE_TRAINER_H

#include <stddef.h>

#include "made.h"
#include "net/network.h"

struct made_trainer {
    made_model *m;
    made_train_config cfg;
    float *m1, *m2;  /* Adam first/second moments, or SGD momentum (m1) */
    float *best;     /* parameters of the best validation epoch */
    float *xb, *cb;  /* one minibatch, gathered */
    size_t *perm;    /* this epoch's order of examples */
    double *val_lp;  /* [nval] validation log-probabilities (several mask sets) */
    made__work work; /* activations and gradients of one minibatch */
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
    int best_epoch;        /* 1-based epoch of best_val (0 until one) */
    double last_train_nll; /* mean training NLL of the last completed epoch, NAN before */
    char *note;            /* the caller's note (made_trainer_set_note), or NULL */
};

/* The loss of rows [i0, i1) of a training step's work area (a piece of the
 * step that a data-parallel layer can reuse, net/network.h): w->lp[i] =
 * log p(x_i), and w->d[nl-1] = scale * d log p / d(output), using the
 * per-thread scratch of `thread`. */
void made__work_loss_rows(made_model *m, made__work *w, int i0, int i1, float scale, int thread);

/* A trainer without touching the model's mask set (used on resume). */
int made__trainer_alloc(made_trainer **out, made_model *m, const made_train_config *cfg);

/* Mask set used at step s: a pure function of the seed and s / resample_every,
 * so a resumed run picks the same sets. */
int made__trainer_mask(const made_trainer *t, long long step);

/* One optimiser step on the gradient in t->m->grads: clipping, the learning
 * rate of epoch t->epoch, weight decay and the Adam or SGD update for step
 * t->step + 1 (the caller then increments t->step). */
void made__optimizer_update(made_trainer *t);

/* The order of the n training examples in epoch `epoch`: a Fisher-Yates
 * shuffle from a stream of (seed, epoch). */
void made__epoch_permutation(const made_trainer *t, int epoch, size_t *perm, size_t n);

#endif
