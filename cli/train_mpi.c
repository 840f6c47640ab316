/* train_mpi.c - `mpirun -np N made train`: MPI for the train command (built
 * only with MPI=1; cli/mpi.h has the one-process stubs). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "made_mpi.h"
#include "cli_mpi.h"

/* mpirun (Open MPI), mpiexec.hydra (MPICH) and PMIx launchers set these. */
static int launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int cli_mpi_begin(cli_mpi *mp)
{
    mp->on = 0;
    mp->rank = 0;
    mp->size = 1;
    mp->agreed = 0;
    if (!launched_by_mpirun()) return CLI_OK;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return cli_fail("train", "MPI_Init failed");
    mp->on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &mp->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mp->size);
    return CLI_OK;
}

void cli_mpi_end(cli_mpi *mp, int rc)
{
    if (mp->on && !mp->agreed) cli_mpi_agree(mp, rc);
    /* After Ctrl-C (status 130) mpirun is ending the job: MPI_Finalize would
     * wait for it to take part, so the rank just exits (its checkpoint is
     * written). */
    if (mp->on && rc != 130) MPI_Finalize();
    mp->on = 0;
}

int cli_mpi_agree(cli_mpi *mp, int rc)
{
    mp->agreed = 1;
    if (!mp->on) return rc;
    int in[2] = {rc == CLI_OK, mp->rank}, out[2];
    MPI_Allreduce(in, out, 1, MPI_2INT, MPI_MINLOC, MPI_COMM_WORLD);
    if (rc != CLI_OK || out[0] == 1) return rc;
    if (mp->rank == 0) fprintf(stderr, "made train: stopping: rank %d failed (see its message)\n", out[1]);
    return CLI_FAIL;
}

int cli_mpi_same_file(const cli_mpi *mp, const char *path, uint64_t fp)
{
    if (!mp->on) return CLI_OK;
    unsigned long long mine = fp, *all = malloc((size_t)mp->size * sizeof *all);
    int ok = all != NULL, all_ok;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
        free(all);
        return cli_fail("train", "out of memory");
    }
    MPI_Allgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all, 1, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
    int bad = 0;
    for (int r = 1; r < mp->size && !bad; r++)
        if (all[r] != all[0]) bad = r;
    free(all);
    if (!bad) return CLI_OK;
    if (mp->rank == 0)
        cli_fail("train", "%s differs between rank 0 and rank %d (shape or rows): every rank must "
                 "read the same file", path, bad);
    return CLI_FAIL;
}

void cli_mpi_barrier(const cli_mpi *mp)
{
    if (mp->on) MPI_Barrier(MPI_COMM_WORLD);
}

int cli_mpi_fit(const cli_mpi *mp, made_trainer *t, const cli_share *s, made_progress_fn fn,
                void *user)
{
    if (!mp->on)
        return made_trainer_fit(t, s->x, s->c, s->count, s->val_total ? s->xval : NULL,
                                s->val_total ? s->cval : NULL, s->val_count, fn, user);
    made_mpi_data d = {s->x, s->c, s->first, s->count, s->total,
                       s->xval, s->cval, s->val_first, s->val_count, s->val_total};
    return made_trainer_fit_mpi(t, MPI_COMM_WORLD, &d, fn, user);
}
