/* cli_mpi.h - what `made train` does with MPI: start it when the program was
 * launched by mpirun, agree across ranks, and train data-parallel. In builds
 * without MPI (make without MPI=1) the same calls are stubs for one process. */
#ifndef MADE_CLI_MPI_H
#define MADE_CLI_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "made.h"

typedef struct cli_mpi {
    int on;         /* MPI started: launched by mpirun (any number of ranks) */
    int rank, size; /* 0 and 1 without MPI */
    int agreed;     /* the ranks have agreed once (cli_mpi_agree) */
} cli_mpi;

/* This rank's share of the data (the whole data without MPI). */
typedef struct cli_share {
    const float *x, *c;
    size_t first, count, total;
    const float *xval, *cval;
    size_t val_first, val_count, val_total;
} cli_share;

#ifdef MADE_MPI
/* Starts MPI when the environment says mpirun launched this process. */
int cli_mpi_begin(cli_mpi *mp);
/* Ends MPI. A rank that failed before the ranks agreed (rc, its status) first
 * takes part in the agreement the others are waiting in. After an interrupt
 * (rc 130) MPI is left as it is: mpirun is ending the job. */
void cli_mpi_end(cli_mpi *mp, int rc);
/* Collective: whether every rank is fine. A rank that failed keeps its status
 * (it printed its message); the others get CLI_FAIL and rank 0 says which
 * rank failed. The first call is the one cli_mpi_end completes for a rank
 * that failed early. */
int cli_mpi_agree(cli_mpi *mp, int rc);
/* Collective: every rank read the same file (same fingerprint), else a
 * message naming the first rank that differs from rank 0. */
int cli_mpi_same_file(const cli_mpi *mp, const char *path, uint64_t fp);
/* Collective: every rank waits here until all arrive. After an interrupt the
 * ranks meet here once rank 0 has written the checkpoint: mpirun kills every
 * rank as soon as one exits without MPI_Finalize. */
void cli_mpi_barrier(const cli_mpi *mp);
/* made_trainer_fit on the share, or made_trainer_fit_mpi across the ranks. */
int cli_mpi_fit(const cli_mpi *mp, made_trainer *t, const cli_share *s, made_progress_fn fn,
                void *user);
#else
static inline int cli_mpi_begin(cli_mpi *mp)
{
    mp->on = 0;
    mp->rank = 0;
    mp->size = 1;
    mp->agreed = 0;
    return 0;
}
static inline void cli_mpi_end(cli_mpi *mp, int rc)
{
    (void)mp;
    (void)rc;
}
static inline int cli_mpi_agree(cli_mpi *mp, int rc)
{
    mp->agreed = 1;
    return rc;
}
static inline int cli_mpi_same_file(const cli_mpi *mp, const char *path, uint64_t fp)
{
    (void)mp;
    (void)path;
    (void)fp;
    return 0;
}
static inline void cli_mpi_barrier(const cli_mpi *mp) { (void)mp; }
static inline int cli_mpi_fit(const cli_mpi *mp, made_trainer *t, const cli_share *s,
                              made_progress_fn fn, void *user)
{
    (void)mp;
    return made_trainer_fit(t, s->x, s->c, s->count, s->val_total ? s->xval : NULL,
                            s->val_total ? s->cval : NULL, s->val_count, fn, user);
}
#endif

#endif
