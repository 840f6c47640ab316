/*
 * made_mpi.h - data-parallel training over MPI. Present only in builds made
 * with MPI (make MPI=1); include it after <mpi.h> is available (mpicc).
 *
 * Every rank of a communicator holds a contiguous slice of the training rows
 * (and of the validation rows); the ranks' slices follow each other in rank
 * order and together make the whole data set, so no rank holds all of it.
 * Each minibatch is the same as in made_trainer_fit (the same shuffle over all
 * rows), its rows are sent to the ranks that compute on them, and the ranks'
 * gradients are added in the fixed order of the gradient block tree (never in
 * arrival order). Every rank then applies the same optimiser step, so the
 * parameters stay identical on every rank, and they are bit for bit those of
 * made_trainer_fit on the whole data, for any number of ranks
 * (docs/design.md, "Data-parallel training").
 */
#ifndef MADE_MPI_H
#define MADE_MPI_H

#include <mpi.h>

#include "made.h"

#ifdef __cplusplus
extern "C" {
#endif

/* This rank's share of the data. x[count, E] (c[count, C] or NULL) are rows
 * [first, first + count) of the total training rows; likewise for the
 * validation rows (val_total = 0: no validation). */
typedef struct made_mpi_data {
    const float *x, *c;
    size_t first, count, total;
    const float *xval, *cval;
    size_t val_first, val_count, val_total;
} made_mpi_data;

/* made_trainer_fit across the ranks of comm: a collective call, made by every
 * rank with a trainer in the same state (same model, settings and progress;
 * checked: a rank that differs is named in the error) and its share of the
 * data (checked: the slices must follow each other in rank order).
 *
 * fn is called on every rank with the same figures; if it returns non-zero on
 * any rank, every rank stops after the same minibatch and returns
 * MADE_E_INTERRUPTED, with trainers that can be saved and resumed exactly (with
 * any number of ranks). A failure on one rank (bad data, out of memory) is
 * returned on every rank: the failing rank has the detailed message, the
 * others a message naming it. MPI errors are returned as MADE_E_IO (the
 * communicator's error handler is not changed; the call uses a duplicate with
 * MPI_ERRORS_RETURN). */
int made_trainer_fit_mpi(made_trainer *t, MPI_Comm comm, const made_mpi_data *d,
                         made_progress_fn fn, void *user);

#ifdef __cplusplus
}
#endif

#endif /* MADE_MPI_H */
