/* permute.c - the permutations between layers, as tfb.Permute: forward
 * y[..., j] = x[..., perm[j]] with a 0-based perm; inverse undoes it; the
 * log-determinant is 0. */
#include <string.h>

#include "flow/flow.h"
#include "core/rng.h"

void made__flow_permute(const int *perm, int e, float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < e; j++) y[(size_t)i * e + j] = x[(size_t)i * e + perm[j]];
}

void made__flow_unpermute(const int *perm, int e, float *x, const float *y, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < e; j++) x[(size_t)i * e + perm[j]] = y[(size_t)i * e + j];
}

/* reverse: [E-1, ..., 0]; random: numpy's np.random.seed(s);
 * np.random.permutation(E) with s = permutation_seed + k, so a seed gives the
 * permutation numpy gives; explicit: the same list in every gap. */
void made__flow_build_permutations(made_flow *f)
{
    const int E = f->E;
    for (int k = 0; k + 1 < f->K; k++) {
        int *p = f->perm + (size_t)k * E;
        for (int j = 0; j < E; j++) p[j] = j;
        switch (f->cfg.permutation) {
        case MADE_FLOW_PERM_REVERSE:
            for (int j = 0; j < E; j++) p[j] = E - 1 - j;
            break;
        case MADE_FLOW_PERM_RANDOM: {
            made__mt mt;
            made__mt_seed(&mt, f->cfg.permutation_seed + (uint32_t)k);
            made__mt_shuffle(&mt, p, E);
            break;
        }
        case MADE_FLOW_PERM_EXPLICIT:
            memcpy(p, f->explicit_perm, (size_t)E * sizeof *p);
            break;
        default:
            break;
        }
    }
}
