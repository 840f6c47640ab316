/* trainer.h - the trainer's internal structure (train.c, checkpoint.c). */
#ifndef MADE_TRAINER_H
#define MADE_TRAINER_H

#include <stddef.h>

#include "made.h"
#include "net/network.h"

/* What a trainer optimises (a MADE, a flow): a small interface, so one loop
 * (epochs, shuffling, optimiser, validation, early stopping, checkpoints)
 * serves both.
 *
 * A block is one flat run of parameters p with gradients g (a network's flat
 * block, a batch norm's gamma and beta); the optimiser touches only the index
 * ranges [segs[2s], segs[2s+1]), and the block's share of the trainer's flat
 * state (m1, m2, best) starts at offset. A network's block names the network
 * (net), whose flat parameter block p is: the optimiser then writes its packed
 * copies as it updates it (net/network.h); net is NULL for other blocks. */
struct made__st_entry;

typedef struct made__block {
    float *p, *g;
    const size_t *segs;
    size_t n_segs, offset, size;
    made_model *net;
} made__block;

typedef struct made__objective {
    void *self;
    int event_size, cond_size;
    made__block *blocks;
    int n_blocks;
    size_t n_params;    /* sum of the blocks' sizes */
    const int *threads; /* threads for the optimiser's loops */
    int min_batch;      /* smallest batch (2 with batch statistics) */
    /* Fills the blocks' gradients with d(mean NLL)/d(params) of the batch
     * (already validated); returns the summed NLL. With ld NULL, x is the
     * data; otherwise x and ld[n] are rows that prepare made. */
    double (*gradient)(made_trainer *t, const float *x, const double *ld, const float *c,
                       size_t n);
    /* Optional (NULL when the gradient reads the data as it is): the training
     * rows x[n, E] as the gradient reads them, y[n, E], and a term per row,
     * ld[n] (a flow's preprocessing and its log-determinant). made_trainer_fit
     * prepares its training data once, in its first epoch, instead of the
     * gradient redoing it for every minibatch; the results are the same. */
    int (*prepare)(void *self, const float *x, size_t n, float *y, double *ld);
    /* Validates data rows (support, finiteness) with row and column. */
    int (*check)(void *self, const float *x, size_t n);
    /* Mean NLL of validation data (evaluation mode). */
    int (*nll)(made_trainer *t, const float *x, const float *c, size_t n, double *nll);
    /* After the last epoch (e.g. batch-norm statistics from the whole
     * training set); may be NULL. */
    int (*finish)(void *self, const float *x, const float *c, size_t n);
    /* After the trainer wrote the blocks' parameters (optimiser step, best
     * epoch restored): networks mark their packed weights stale
     * (made__weights_changed). NULL for a MADE, which the trainer marks. */
    void (*changed)(void *self);
    /* Frees self when the trainer goes; may be NULL. */
    void (*release)(void *self);
    /* Writes the checkpoint file (the trained thing's tensors plus extra
     * tensors and metadata); NULL for a MADE, which checkpoint.c writes. */
    int (*write)(void *self, const char *path, const struct made__st_entry *extra, size_t n_extra,
                 const char *const *keys, const char *const *vals, size_t n_meta);
    /* Where made_trainer_fit records how training ended; NULL for a MADE,
     * whose model's record the trainer fills. */
    made_model_record *record;
} made__objective;

struct made_trainer {
    made_model *m;           /* the MADE trained, or NULL */
    made_flow *flow;         /* the flow trained, or NULL */
    made__objective obj;
    made__block model_block; /* a MADE's one block */
    made_train_config cfg;
    float *m1, *m2;  /* Adam first/second moments, or SGD momentum (m1) */
    float *best;     /* parameters of the best validation epoch */
    float *xb, *cb;  /* one minibatch, gathered */
    float *px;       /* [n_data, E] the training data prepared (obj.prepare), during a fit */
    double *pld, *ldb; /* [n_data] its terms per row, [batch] one minibatch's */
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
/* A trainer for any objective (obj copied); allocates the optimiser state
 * for obj->n_params and batch buffers. */
int made__trainer_alloc_obj(made_trainer **out, const made__objective *obj,
                            const made_train_config *cfg);
/* Reading checkpoints (checkpoint.c), shared with the flow's resume: the
 * training settings and state (*js to free), the state into t, and the
 * optimiser state and best parameters. */
struct made__st_file;
struct made__json;
int made__checkpoint_read_meta(const struct made__st_file *f, made_train_config *cfg,
                               struct made__json **js);
int made__checkpoint_read_state(const struct made__json *j, made_trainer *t);
int made__checkpoint_read_blocks(const struct made__st_file *f, made_trainer *t);

/* Mask set used at step s: a pure function of the seed and s / resample_every,
 * so a resumed run picks the same sets. */
int made__trainer_mask(const made_trainer *t, long long step);

/* One optimiser step on the gradients of the objective's blocks: clipping, the learning
 * rate of epoch t->epoch, weight decay and the Adam or SGD update for step
 * t->step + 1 (the caller then increments t->step). */
void made__optimizer_update(made_trainer *t);

/* The order of the n training examples in epoch `epoch`: a Fisher-Yates
 * shuffle from a stream of (seed, epoch). */
void made__epoch_permutation(const made_trainer *t, int epoch, size_t *perm, size_t n);

/* ---- Pieces of made_trainer_fit that a data-parallel loop reuses
 * (src/train/mpi.c, with made__epoch_permutation). They do what the same
 * lines of made_trainer_fit do. */

/* Learning rate of the current epoch. */
double made__trainer_lr(const made_trainer *t);
/* Monotonic clock in seconds. */
double made__now_seconds(void);
/* Parameter gradients of n rows x[n, E] (c[n, C] or NULL) that form one node
 * of the gradient block tree of a minibatch of n_total rows (the whole batch
 * when n = n_total), written to the model's gradient block; the rows'
 * log-probabilities are left in t->work.lp[0, n). No optimiser step. */
int made__trainer_grad_rows(made_trainer *t, const float *x, const float *c, size_t n,
                            size_t n_total);
/* The optimiser step with the model's gradient block as it is (threaded, the
 * same bits as made__optimizer_update), then the step counter and the mask
 * set. */
void made__trainer_apply(made_trainer *t);
/* A minibatch's progress record from the trainer's counters (p->epochs and
 * p->batches are the caller's). */
void made__trainer_batch_progress(const made_trainer *t, made_progress *p);
/* The validation NLL val of an epoch: the best parameters and patience. */
void made__trainer_keep_best(made_trainer *t, double val, int *improved);
/* End of an epoch: its progress record in p (val NAN without validation),
 * the last training NLL kept, counters reset, early stop decided. */
void made__trainer_end_epoch(made_trainer *t, double val, int improved, made_progress *p);
/* After the last epoch: the best epoch's parameters restored (if there was
 * validation) and, for a MADE, the model's record of how training ended. */
void made__trainer_finish(made_trainer *t);

#endif
