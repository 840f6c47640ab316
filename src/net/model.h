/*
 * model.h - the model's internal structure, shared by the library's files.
 *
 * Layout. Units of every layer are kept sorted by their degree under mask set 0
 * (stable sort), so each masked kernel is a staircase (dense.h). perm[l][u] is
 * the external (TFP) index of internal unit u of layer l: l = 0 are the inputs
 * (events), l = 1..n_hidden the hidden layers, l = nl the output units. With
 * that order, internal output column s*P + p belongs to the event perm[0][s],
 * the same event as internal input s, so distributions line up with inputs.
 *
 * Parameters live in one flat block (params) with named views per layer
 * (W, b, V), and gradients in a second block with the same layout, so the
 * optimizer, clipping and weight decay are single loops.
 */
#ifndef MADE_MODEL_H
#define MADE_MODEL_H

#include <stdint.h>

#include "core/rng.h"
#include "made.h"
#include "net/degrees.h"
#include "net/dense.h"
#include "net/kernel.h"

/* Rows per block in forward/backward passes: scratch is sized for this many rows
 * at creation, so no pass ever allocates. */
#define MADE_CHUNK 256

/* The sampler's part of a model (density/sample.c): the sampling plan for the
 * current mask set, which is degree layout (model.c builds it with the rest of
 * the layout), and its scratch for MADE_CHUNK rows, allocated with the model. */
typedef struct made__sampler {
    /* The internal units of layer l (0 = events, 1..n_hidden = hidden) listed
     * by degree, and where each degree d = 0..E starts in that list. */
    int *units[MADE_MAX_HIDDEN + 1];
    int *start[MADE_MAX_HIDDEN + 1];
    float *ct;                         /* [C, CHUNK] transposed conditional rows */
    made__rng *rngs;                   /* [CHUNK] one generator per sample row */
    float *theta;                      /* [threads, params] one event's distribution
                                          params per sampling thread */
} made__sampler;

/* What a named tensor of the model is. */
typedef enum made__weight_kind {
    MADE__KERNEL,      /* W of a dense layer */
    MADE__BIAS,        /* b */
    MADE__COND_KERNEL  /* V, the conditional kernel */
} made__weight_kind;

typedef struct made__weight {
    char name[48];
    int layer;  /* dense layer */
    made__weight_kind kind;
    int rank;
    int shape[2];
} made__weight;

/* Below this much work (flops) per thread, one thread fewer is faster on a
 * 2-core machine with OpenMP's passive waiting: waking a sleeping thread and
 * meeting it at each of a step's barriers costs tens of microseconds. At
 * 4e6, E=64 [128,128] trained at batch 100 on two threads at 0.6x its
 * one-thread speed (make bench); from 2e7 every bench row is at least as fast
 * on two threads as on one. An inference pass, with no barrier inside, needs
 * half as much (network.c, infer_threads). */
#define MADE__MIN_THREAD_WORK 2e7

struct made_model {
    made_config cfg;
    int *order;                        /* mask set 0's input order; cfg.explicit_order */
    int nl;                            /* dense layers: n_hidden + 1 */
    int width[MADE_MAX_HIDDEN + 2];    /* width[0] = E, width[l + 1] = outputs of layer l */
    int *perm[MADE_MAX_HIDDEN + 2];    /* internal -> external unit, per layer of units */
    int *inv[MADE_MAX_HIDDEN + 2];     /* external -> internal */

    made__degrees *masks;              /* [num_masks] degree sets, external order */
    int cur_mask;

    made__dense layer[MADE_MAX_HIDDEN + 1]; /* mask set 0, internal layout */
    /* Only with num_masks > 1: union of all mask sets (what may be non-zero), the
     * current set's mask, and a view whose W is W * mask for computation. */
    uint8_t *allowed[MADE_MAX_HIDDEN + 1];
    uint8_t *cur[MADE_MAX_HIDDEN + 1];
    made__dense eff[MADE_MAX_HIDDEN + 1];
    float *weff;

    float *params, *grads;
    size_t n_params;
    /* The parts of the flat block that can be non-zero, as [start, end) pairs
     * (kernel rows' unmasked suffixes, biases, conditional kernels): the
     * optimiser touches only these. With several mask sets, the whole block. */
    size_t *segs;
    size_t n_segs;

    int n_weights;
    made__weight weights[3 * (MADE_MAX_HIDDEN + 1)];

    /* Scratch for MADE_CHUNK rows. */
    float *xs;                         /* [CHUNK, E] inputs in internal order */
    float *pre[MADE_MAX_HIDDEN + 1];   /* [CHUNK, width[l+1]] pre-activations */
    float *post[MADE_MAX_HIDDEN + 1];  /* [CHUNK, width[l+1]] activations (hidden layers) */

    made__sampler smp;                 /* the sampler's plan and scratch */

    int threads;
    /* Work (flops) a thread must get before a pass uses it (made__threads_for),
     * MADE__MIN_THREAD_WORK; tests set 0 to share any batch among all threads. */
    double min_thread_work;
    made_model_record record; /* preprocessing and training outcome (record.c) */
    const made__kernel *kern;          /* kernel path, chosen at creation (MADE_KERNEL) */
    int packed;                        /* the layers' Wp match W (made__refresh_effective) */
    int packed_t;                      /* ... and their WTp too (a training step's packing) */
    double flops_row;                  /* multiply-adds x 2 of one row's forward pass */
};

/* The layers computation uses now: mask set 0's staircase, or the masked view. */
static inline made__dense *made__active_layer(made_model *m, int l)
{
    return m->cfg.num_masks > 1 ? &m->eff[l] : &m->layer[l];
}

/* Builds a model without drawing weights (all zero): made_model_create and
 * made_model_load start here. */
int made__model_alloc(made_model **out, const made_config *cfg);
/* The same for a config that has passed made_config_validate (model loading
 * validates first, to report a bad config as a bad file). */
int made__model_alloc_valid(made_model **out, const made_config *cfg);
/* Marks the packed weights stale: call after anything writes m->params
 * (made_model_set_weight, the optimiser, restoring parameters, a new mask set). */
void made__weights_changed(made_model *m);
/* Whether kernel entry (internal row r, column c) of layer l may be non-zero. */
int made__entry_allowed(const made_model *m, int l, int r, int c);
/* Checks the conditional argument of a call named `what`: c must be given
 * (unless n = 0) exactly when the model is conditional. */
int made__check_cond(const made_model *m, const float *c, size_t n, const char *what);
/* Degree of external unit u of layer-of-units l (nl = output units) in set d. */
int made__unit_degree(const made_model *m, const made__degrees *d, int l, int u);
/* Builds the sampling plan (smp.units, smp.start) for the current mask set. */
void made__sample_plan(made_model *m);
/* The one-pass autoregressive sweep (density/sample.c). For each event in
 * degree order it computes the event's P outputs for rows [r0, r1) of the
 * current chunk and calls event(): theta holds output p of row i at
 * theta[p * MADE_CHUNK + i]; event() must set x[i] for i in [r0, r1), the value
 * the network then reads as input `event` (external index) of row row0 + i.
 * chunk(), when not NULL, runs serially before each chunk of rows. event() runs
 * inside an OpenMP region, rows split among threads (one row, one thread). */
typedef struct made__ar_emit made__ar_emit;
struct made__ar_emit {
    void (*event)(const made__ar_emit *e, int event, const float *theta, float *x, int r0, int r1,
                  size_t row0);
    void (*chunk)(const made__ar_emit *e, size_t row0, int rows);
    void *ctx;
    uint64_t seed;
};
/* Runs the sweep over n rows (c[n, C] or NULL, already checked) and writes the
 * emitted values to x[n, E] (external order). */
int made__autoregress(made_model *m, float *x, const float *c, size_t n, const made__ar_emit *emit);
/* The argument checks of both samplers (sample.c, sample_naive.c). */
int made__sample_check(const made_model *m, const float *x, const float *c, size_t n);


/* Model files (model_io.c), also used by checkpoints: writes the model's
 * tensors plus extra tensors and metadata under the given format name; reads a
 * parsed file whose format matches and which holds n_extra more tensors. */
#define MADE__MAX_EXTRA_META 16
struct made__st_entry;
struct made__st_file;
int made__model_write(const made_model *m, const char *path, const char *format,
                      const struct made__st_entry *extra, size_t n_extra,
                      const char *const *xkeys, const char *const *xvals, size_t n_xmeta);
int made__model_read(const struct made__st_file *f, const char *format, size_t n_extra,
                     made_model **out);
/* The pieces, for files holding several networks (flows): a list of tensors to
 * write, which owns the names and any buffers made with made__save_list_own;
 * the model's tensors appended under names prefixed by prefix; and a model
 * built from cfg whose tensors (prefixed) are checked and loaded from f, with
 * *count the number of tensors that took. */
typedef struct made__save_list {
    struct made__st_entry *entries;
    size_t count, cap;
    void **owned;
    size_t n_owned, owned_cap;
} made__save_list;
void *made__save_list_own(made__save_list *s, size_t bytes);
int made__save_list_add(made__save_list *s, const char *prefix, const char *name, int dtype,
                        int ndim, size_t d0, size_t d1, const void *data);
void made__save_list_free(made__save_list *s);
int made__model_entries(const made_model *m, const char *prefix, made__save_list *s);
int made__model_read_tensors(const struct made__st_file *f, const made_config *cfg,
                             const char *prefix, made_model **out, size_t *count);
/* made_model_nll with the caller's scratch lp[n], needed when masks >= 1
 * (density.c): the trainer scores validation data without allocating. */
int made__model_nll(made_model *m, const float *x, const float *c, size_t n, int masks,
                    double *lp, double *nll);
/* Checks the support of x[n, E] for the model's distribution (density.c). */
int made__check_support(const made_model *m, const float *x, size_t n);

#endif
