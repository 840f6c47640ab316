/* mpi.c - data-parallel training over MPI (built only with MPI: make MPI=1).
 *
 * The minibatch is the one made_trainer_fit would use: the shuffle is over all
 * training rows, whatever the number of ranks. Its rows form gradient blocks
 * of MADE_GRAD_BLOCK rows, added up by the fixed block tree of net/grad_tree.h:
 *     g(lo, hi) = g(lo, mid) + g(mid, hi),  mid = lo + the largest power of two < hi - lo.
 * The ranks take one node each of a cut through that tree (a set of nodes
 * that covers every block once), in block order: rank k computes node k's
 * gradient on its own, because the tree below a node has the same shape as
 * the tree of a minibatch of that many blocks. The nodes' gradients are then
 * added up the same tree, in its order, so the sum has exactly the bits of a
 * single process (see docs/design.md, "Data-parallel training").
 *
 * Each minibatch step:
 *   1. rows: every rank holds a fixed slice of the rows; the rows of each
 *      rank's node are sent to it by their holders (MPI_Alltoallv);
 *   2. gradient of the rank's node (made__trainer_grad_rows);
 *   3. sum: each rank owns 1/N of the parameter vector; MPI_Alltoall brings it
 *      every node's part of that piece, which it adds up the tree; then
 *      MPI_Allgather gives everyone the whole sum (as many bytes as a ring
 *      allreduce, in a fixed order), and with it every rank's status, whether
 *      it asks to stop, and its rows' log-probabilities (the epoch's NLL adds
 *      them in row order);
 *   4. the optimiser step, the same on every rank.
 */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <string.h>

#include "core/internal.h"
#include "made_mpi.h"
#include "net/grad_tree.h"
#include "net/model.h"
#include "train/trainer.h"

typedef struct node {
    int lo, hi; /* gradient blocks [lo, hi) */
} node;

/* One data-parallel run: the communicator, the ranks' slices, per-step buffers. */
typedef struct dp {
    MPI_Comm comm;
    int rank, size;
    int E, C, width;        /* width = E + C floats per row sent */
    size_t *starts;         /* [size + 1] first training row of each rank */
    size_t *vstarts;        /* [size + 1] first validation row of each rank */
    node *cut;              /* [size] this minibatch's nodes; cut[k] is rank k's */
    int K;                  /* nodes in the cut (ranks >= K are idle this step) */
    int *p0;                /* [size + 1] first minibatch row of node k */
    int *owner;             /* [batch] rank holding each minibatch row */
    int *scount, *sdispl, *rcount, *rdispl; /* [size] Alltoallv counts */
    float *sendrows, *recvrows;             /* [batch * width] */
    size_t glen, S;         /* free parameters exchanged; piece per rank */
    float *gsend, *grecv;   /* [size * S] */
    size_t head;            /* bytes of a piece before its log-probabilities */
    size_t piece_bytes;     /* bytes of one rank's allgather piece this step */
    unsigned char *piece, *gall; /* [piece_bytes], [size * piece_bytes] */
} dp;

static int mpi_fail(int err, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error %d", err);
    return made__error(MADE_E_IO, "%s failed: %s", what, msg);
}

#define MPI_TRY(call, what)                                                                \
    do {                                                                                   \
        int e_ = (call);                                                                   \
        if (e_ != MPI_SUCCESS) return mpi_fail(e_, what);                                  \
    } while (0)

/* Collective: every rank learns whether any rank failed. The failing rank
 * keeps its own message; the others get one that names it. */
static int agree(const dp *d, int rc)
{
    int in[2] = {rc, d->rank}, out[2];
    MPI_TRY(MPI_Allreduce(in, out, 1, MPI_2INT, MPI_MINLOC, d->comm), "MPI_Allreduce");
    if (out[0] == MADE_OK || rc != MADE_OK) return rc;
    return made__error(out[0], "stopped because rank %d failed (%s; its message says more)",
                       out[1], made_strerror(out[0]));
}

/* Largest power of two strictly below n (n >= 2): the tree's split (net/grad_tree.h). */
static int split_point(int n)
{
    int p = 1;
    while (2 * p < n) p *= 2;
    return p;
}

static int node_rows(node v, int n)
{
    int a = v.lo * MADE_GRAD_BLOCK, b = v.hi * MADE_GRAD_BLOCK;
    return (b < n ? b : n) - a;
}

/* What each rank adds to its piece of the gradient sum in the step's
 * allgather: its status, whether it asks to stop, and its rows'
 * log-probabilities. */
typedef struct tail {
    int status, stop;
} tail;

/* Bytes of one rank's piece in the allgather: S floats of the sum, the tail,
 * then the log-probabilities of up to `rows` rows (the largest node's). */
static size_t piece_bytes(const dp *d, size_t rows)
{
    return d->head + rows * sizeof(double);
}

/* The cut for a minibatch of n rows: starting from the root, the node with
 * the most rows (the leftmost of equals) is split into its two children until
 * there is one node per rank or only single blocks are left. The nodes stay
 * in block order. Any cut gives the same sum; this one spreads the rows
 * greedily. */
static void make_cut(dp *d, int n)
{
    d->cut[0] = (node){0, made__grad_blocks(n)};
    d->K = 1;
    while (d->K < d->size) {
        int best = -1;
        for (int k = 0; k < d->K; k++)
            if (d->cut[k].hi - d->cut[k].lo > 1 &&
                (best < 0 || node_rows(d->cut[k], n) > node_rows(d->cut[best], n)))
                best = k;
        if (best < 0) break;
        node v = d->cut[best];
        int mid = v.lo + split_point(v.hi - v.lo);
        memmove(d->cut + best + 2, d->cut + best + 1, (size_t)(d->K - best - 1) * sizeof *d->cut);
        d->cut[best] = (node){v.lo, mid};
        d->cut[best + 1] = (node){mid, v.hi};
        d->K++;
    }
    int most = 0;
    for (int k = 0; k <= d->size; k++) {
        d->p0[k] = k < d->K ? d->cut[k].lo * MADE_GRAD_BLOCK : n;
        if (k < d->K && node_rows(d->cut[k], n) > most) most = node_rows(d->cut[k], n);
    }
    d->piece_bytes = piece_bytes(d, (size_t)most);
}

/* Adds the pieces of the cut's nodes inside tree node [lo, hi) up the tree, in
 * its order (left += right, as the kernels' gtile does); returns the index
 * of the piece that holds the sum. */
static int combine(const dp *d, int lo, int hi, float *pieces, size_t len)
{
    for (int k = 0; k < d->K; k++)
        if (d->cut[k].lo == lo && d->cut[k].hi == hi) return k;
    const int mid = lo + split_point(hi - lo);
    const int a = combine(d, lo, mid, pieces, len), b = combine(d, mid, hi, pieces, len);
    float *restrict left = pieces + (size_t)a * d->S;
    const float *restrict right = pieces + (size_t)b * d->S;
    for (size_t i = 0; i < len; i++) left[i] += right[i];
    return a;
}

/* Rank of the holder of training row j. */
static int holder(const dp *d, size_t j)
{
    int lo = 0, hi = d->size; /* starts[lo] <= j < starts[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (d->starts[mid] <= j) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* Step 1: the rows of this rank's node of the minibatch perm[0, p0[size]), into
 * t->xb / t->cb. Rows travel in minibatch order, so each holder's rows arrive
 * in the order they are needed. */
static int exchange_rows(dp *d, made_trainer *t, const made_mpi_data *data, const size_t *perm)
{
    const int W = d->width;
    memset(d->scount, 0, (size_t)d->size * sizeof(int));
    memset(d->rcount, 0, (size_t)d->size * sizeof(int));
    for (int k = 0, p = 0; k < d->K; k++)
        for (; p < d->p0[k + 1]; p++) {
            int h = d->owner[p] = holder(d, perm[p]);
            if (h == d->rank) d->scount[k] += W;
            if (k == d->rank) d->rcount[h] += W;
        }
    for (int r = 0, s = 0, q = 0; r < d->size; r++) {
        d->sdispl[r] = s;
        d->rdispl[r] = q;
        s += d->scount[r];
        q += d->rcount[r];
    }
    for (int k = 0, p = 0, s = 0; k < d->K; k++)
        for (; p < d->p0[k + 1]; p++) {
            if (d->owner[p] != d->rank) continue;
            size_t j = perm[p] - data->first;
            memcpy(d->sendrows + (size_t)s * W, data->x + j * d->E, (size_t)d->E * sizeof(float));
            if (d->C)
                memcpy(d->sendrows + (size_t)s * W + d->E, data->c + j * d->C,
                       (size_t)d->C * sizeof(float));
            s++;
        }
    MPI_TRY(MPI_Alltoallv(d->sendrows, d->scount, d->sdispl, MPI_FLOAT, d->recvrows, d->rcount,
                          d->rdispl, MPI_FLOAT, d->comm), "MPI_Alltoallv (minibatch rows)");
    if (d->rank >= d->K) return MADE_OK;
    for (int p = d->p0[d->rank], i = 0; p < d->p0[d->rank + 1]; p++, i++) {
        int h = d->owner[p];
        const float *src = d->recvrows + d->rdispl[h];
        d->rdispl[h] += W;
        memcpy(t->xb + (size_t)i * d->E, src, (size_t)d->E * sizeof(float));
        if (d->C) memcpy(t->cb + (size_t)i * d->C, src + d->E, (size_t)d->C * sizeof(float));
    }
    return MADE_OK;
}

/* Steps 3 and 5: the sum of the nodes' gradients, in the tree's order, on
 * every rank, with every rank's status, stop request and log-probabilities
 * in the same allgather. Only the parameters that can be non-zero travel
 * (the model's segments). */
static int reduce_grads(dp *d, made_trainer *t, tail mine)
{
    made_model *m = t->m;
    float *g = m->grads;
    size_t o = 0;
    for (size_t s = 0; s < m->n_segs; s++) {
        size_t a = m->segs[2 * s], b = m->segs[2 * s + 1];
        memcpy(d->gsend + o, g + a, (b - a) * sizeof(float));
        o += b - a;
    }
    memset(d->gsend + o, 0, (d->S * (size_t)d->size - o) * sizeof(float));
    MPI_TRY(MPI_Alltoall(d->gsend, (int)d->S, MPI_FLOAT, d->grecv, (int)d->S, MPI_FLOAT, d->comm),
            "MPI_Alltoall (gradients)");
    const int root = combine(d, d->cut[0].lo, d->cut[d->K - 1].hi, d->grecv, d->S);
    unsigned char *piece = d->piece;
    const size_t pb = d->piece_bytes, head = d->head;
    memcpy(piece, d->grecv + (size_t)root * d->S, d->S * sizeof(float));
    memcpy(piece + d->S * sizeof(float), &mine, sizeof mine);
    int rows = d->rank < d->K ? d->p0[d->rank + 1] - d->p0[d->rank] : 0;
    memcpy(piece + head, t->work.lp, (size_t)rows * sizeof(double));
    MPI_TRY(MPI_Allgather(piece, (int)pb, MPI_BYTE, d->gall, (int)pb, MPI_BYTE, d->comm),
            "MPI_Allgather (gradients)");
    o = 0;
    for (size_t s = 0; s < m->n_segs; s++) {
        size_t a = m->segs[2 * s], b = m->segs[2 * s + 1];
        size_t r = o / d->S, i = o % d->S, left = b - a, at = a;
        /* The sum's elements [o, o + (b - a)) are spread over the pieces. */
        while (left > 0) {
            size_t n = d->S - i < left ? d->S - i : left;
            memcpy(g + at, d->gall + r * pb + i * sizeof(float), n * sizeof(float));
            at += n;
            left -= n;
            r++;
            i = 0;
        }
        o += b - a;
    }
    return MADE_OK;
}

/* The tails and log-probabilities of the allgather: the first failed rank's
 * status, whether any rank asked to stop, and the batch's summed NLL in row
 * order (as made_trainer_fit sums it). */
static int read_tails(const dp *d, int *stop, double *total)
{
    const size_t pb = d->piece_bytes, head = d->head;
    *stop = 0;
    for (int r = 0; r < d->size; r++) {
        tail tl;
        memcpy(&tl, d->gall + r * pb + d->S * sizeof(float), sizeof tl);
        if (tl.status != MADE_OK)
            return made__error(tl.status, "stopped because rank %d failed (%s; its message says "
                               "more)", r, made_strerror(tl.status));
        if (tl.stop) *stop = 1;
    }
    double sum = 0.0;
    for (int k = 0; k < d->K; k++) {
        const unsigned char *lp = d->gall + k * pb + head;
        for (int i = 0; i < d->p0[k + 1] - d->p0[k]; i++) {
            double v;
            memcpy(&v, lp + (size_t)i * sizeof v, sizeof v);
            sum -= v;
        }
    }
    *total = sum;
    return MADE_OK;
}

/* FNV-1a over bytes: a fingerprint of what must be equal on every rank. */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* The trainer's state, settings and the model's parameters. */
static uint64_t state_hash(const made_trainer *t)
{
    const made_model *m = t->m;
    const made_train_config *c = &t->cfg;
    double reals[] = {c->lr, c->beta1, c->beta2, c->eps, c->momentum, c->weight_decay,
                      c->clip_norm, c->lr_final, c->decay_rate, t->best_val, t->epoch_nll,
                      t->last_train_nll};
    long long ints[] = {c->optimizer, c->schedule, c->decay_epochs, c->batch_size, c->epochs,
                        c->patience, c->resample_every, (long long)c->seed, t->step, t->epoch,
                        (long long)t->batch, (long long)t->epoch_examples, t->bad_epochs,
                        t->has_best, t->stopped, t->best_epoch, m->cfg.event_size, m->cfg.conditional_size,
                        m->cfg.params, m->cfg.num_masks, (long long)m->n_params};
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, reals, sizeof reals);
    h = fnv(h, ints, sizeof ints);
    h = fnv(h, m->params, m->n_params * sizeof(float));
    h = fnv(h, t->m1, m->n_params * sizeof(float));
    if (t->m2) h = fnv(h, t->m2, m->n_params * sizeof(float));
    return h;
}

/* Collective: the slices follow each other in rank order and the trainers
 * are in the same state; fills d->starts and d->vstarts. */
static int check_ranks(dp *d, const made_trainer *t, const made_mpi_data *data)
{
    enum { NV = 7 };
    unsigned long long mine[NV] = {data->first, data->count, data->total, data->val_first,
                                   data->val_count, data->val_total, state_hash(t)};
    unsigned long long *all = made__malloc((size_t)d->size * NV * sizeof *all);
    int rc = all ? MADE_OK : MADE_E_NOMEM;
    if ((rc = agree(d, rc))) {
        made__free(all);
        return rc;
    }
    int e = MPI_Allgather(mine, NV, MPI_UNSIGNED_LONG_LONG, all, NV, MPI_UNSIGNED_LONG_LONG, d->comm);
    if (e != MPI_SUCCESS) rc = mpi_fail(e, "MPI_Allgather");
    unsigned long long next = 0, vnext = 0;
    for (int r = 0; r < d->size && !rc; r++) {
        const unsigned long long *v = all + (size_t)r * NV;
        if (v[2] != all[2] || v[5] != all[5])
            rc = made__error(MADE_E_SHAPE, "rank %d has %llu training and %llu validation rows, "
                             "rank 0 %llu and %llu (every rank must read the same files)",
                             r, v[2], v[5], all[2], all[5]);
        else if (v[0] != next || v[3] != vnext)
            rc = made__error(MADE_E_INVAL, "rank %d holds rows from %llu (validation %llu), "
                             "expected %llu (%llu): the ranks' slices must follow each other "
                             "in rank order", r, v[0], v[3], next, vnext);
        else if (v[6] != all[6])
            rc = made__error(MADE_E_INVAL, "rank %d's model, settings or progress differ from "
                             "rank 0's (a different model, checkpoint or options)", r);
        d->starts[r] = next;
        d->vstarts[r] = vnext;
        next += v[1];
        vnext += v[4];
    }
    if (!rc && (next != all[2] || vnext != all[5]))
        rc = made__error(MADE_E_INVAL, "the ranks hold %llu training and %llu validation rows "
                         "of %llu and %llu", next, vnext, all[2], all[5]);
    d->starts[d->size] = next;
    d->vstarts[d->size] = vnext;
    made__free(all);
    return rc; /* every rank reached the same verdict */
}

/* Validation NLL: each rank scores its validation rows; rank 0 gathers the
 * log-probabilities and sums them in row order, as made_model_nll does; every
 * rank gets the result. */
static int validate(dp *d, made_trainer *t, const made_mpi_data *data, double *val)
{
    made_model *m = t->m;
    const int K = m->cfg.num_masks, keep = m->cur_mask;
    double *lp = made__malloc((data->val_count ? data->val_count : 1) * sizeof *lp);
    double *all = d->rank == 0 ? made__malloc(data->val_total * sizeof *all) : NULL;
    int *cnt = made__malloc(2 * (size_t)d->size * sizeof *cnt);
    int rc = lp && cnt && (d->rank != 0 || all) ? MADE_OK : MADE_E_NOMEM;
    if (!rc && data->val_count)
        rc = K > 1 ? made_model_log_prob_ensemble(m, lp, data->xval, data->cval, data->val_count, K)
                   : made_model_log_prob(m, lp, data->xval, data->cval, data->val_count);
    if (K > 1) made_model_set_mask(m, keep);
    if (!rc && data->val_total > (size_t)INT32_MAX)
        rc = made__error(MADE_E_UNSUPPORTED, "more than 2^31 validation rows");
    if (rc) made__error_prefix("validation data: ");
    rc = agree(d, rc);
    if (!rc) {
        for (int r = 0; r < d->size; r++) {
            cnt[r] = (int)(d->vstarts[r + 1] - d->vstarts[r]);
            cnt[d->size + r] = (int)d->vstarts[r];
        }
        int e = MPI_Gatherv(lp, (int)data->val_count, MPI_DOUBLE, all, cnt, cnt + d->size,
                            MPI_DOUBLE, 0, d->comm);
        if (e != MPI_SUCCESS) rc = mpi_fail(e, "MPI_Gatherv (validation)");
    }
    double v = 0.0;
    if (!rc && d->rank == 0) {
        double total = 0.0;
        for (size_t i = 0; i < data->val_total; i++) total += all[i];
        v = -total / (double)data->val_total;
    }
    if (!rc) {
        int e = MPI_Bcast(&v, 1, MPI_DOUBLE, 0, d->comm);
        if (e != MPI_SUCCESS) rc = mpi_fail(e, "MPI_Bcast (validation)");
    }
    *val = v;
    made__free(lp);
    made__free(all);
    made__free(cnt);
    return rc;
}

static void dp_free(dp *d)
{
    made__free(d->starts);
    made__free(d->vstarts);
    made__free(d->cut);
    made__free(d->p0);
    made__free(d->owner);
    made__free(d->scount);
    made__free(d->sdispl);
    made__free(d->rcount);
    made__free(d->rdispl);
    made__free(d->sendrows);
    made__free(d->recvrows);
    made__free(d->gsend);
    made__free(d->grecv);
    made__free(d->piece);
    made__free(d->gall);
    if (d->comm != MPI_COMM_NULL) MPI_Comm_free(&d->comm);
}

/* Buffers for minibatches of up to B rows. */
static int dp_alloc(dp *d, const made_model *m, size_t B)
{
    const size_t N = (size_t)d->size;
    d->glen = 0;
    for (size_t s = 0; s < m->n_segs; s++) d->glen += m->segs[2 * s + 1] - m->segs[2 * s];
    d->S = (d->glen + N - 1) / N;
    if (d->S == 0) d->S = 1;
    if (d->S > INT32_MAX / 8 || B * (size_t)d->width > INT32_MAX || B > INT32_MAX / 64)
        return made__error(MADE_E_UNSUPPORTED, "the model or minibatch is too large for one MPI "
                           "message (more than 2^31 values)");
    d->starts = made__malloc((N + 1) * sizeof *d->starts);
    d->vstarts = made__malloc((N + 1) * sizeof *d->vstarts);
    d->cut = made__malloc(N * sizeof *d->cut);
    d->p0 = made__malloc((N + 1) * sizeof *d->p0);
    d->owner = made__malloc(B * sizeof *d->owner);
    d->scount = made__malloc(N * sizeof(int));
    d->sdispl = made__malloc(N * sizeof(int));
    d->rcount = made__malloc(N * sizeof(int));
    d->rdispl = made__malloc(N * sizeof(int));
    d->sendrows = made__malloc(B * (size_t)d->width * sizeof(float));
    d->recvrows = made__malloc(B * (size_t)d->width * sizeof(float));
    d->gsend = made__malloc(N * d->S * sizeof(float));
    d->grecv = made__malloc(N * d->S * sizeof(float));
    d->head = (d->S * sizeof(float) + sizeof(tail) + sizeof(double) - 1) / sizeof(double) *
              sizeof(double);
    d->piece = made__malloc(piece_bytes(d, B));
    d->gall = made__malloc(N * piece_bytes(d, B));
    if (!d->starts || !d->vstarts || !d->cut || !d->p0 || !d->owner || !d->scount || !d->sdispl ||
        !d->rcount || !d->rdispl || !d->sendrows || !d->recvrows || !d->gsend || !d->grecv ||
        !d->piece || !d->gall)
        return MADE_E_NOMEM;
    return MADE_OK;
}


/* One minibatch: rows perm[0, n) of the epoch's order. want_stop is this
 * rank's request to stop (its progress callback after the previous
 * minibatch); if any rank asks, *stop is set and the step is not applied, so
 * the trainer stays as it was after that minibatch, on every rank. Otherwise
 * the step is applied and *total is the batch's summed NLL. */
static int step(dp *d, made_trainer *t, const made_mpi_data *data, const size_t *perm, int n,
                int want_stop, int *stop, double *total)
{
    make_cut(d, n);
    int rc = exchange_rows(d, t, data, perm);
    if (rc) return rc;
    if (d->rank < d->K)
        rc = made__trainer_grad_rows(t, t->xb, d->C ? t->cb : NULL,
                                     (size_t)(d->p0[d->rank + 1] - d->p0[d->rank]), (size_t)n);
    /* The collectives run even after a local failure, so no rank waits alone;
     * the failure travels in the tail. */
    tail mine = {rc, want_stop};
    int rc2 = reduce_grads(d, t, mine);
    if (rc) return rc;
    if (rc2) return rc2;
    if ((rc = read_tails(d, stop, total)) || *stop) return rc;
    made__trainer_apply(t);
    return MADE_OK;
}

/* Collective: whether any rank's flag is set. */
static int any_rank(const dp *d, int flag, int *out)
{
    MPI_TRY(MPI_Allreduce(&flag, out, 1, MPI_INT, MPI_MAX, d->comm), "MPI_Allreduce");
    return MADE_OK;
}

/* The epochs. A progress callback's request to stop reaches the other ranks
 * with the next minibatch's exchange (or at the end of the epoch), and every
 * rank stops where the callback was called. */
static int fit_loop(dp *d, made_trainer *t, const made_mpi_data *data, made_progress_fn fn,
                    void *user)
{
    const size_t n = data->total, B = (size_t)t->cfg.batch_size, batches = (n + B - 1) / B;
    made_progress p;
    memset(&p, 0, sizeof p);
    p.epochs = t->cfg.epochs;
    p.batches = batches;
    int rc, stop, want = 0;
    while (t->epoch < t->cfg.epochs && !t->stopped) {
        made__epoch_permutation(t, t->epoch, t->perm, n);
        double start = made__now_seconds() - t->epoch_seconds;
        for (size_t b = t->batch; b < batches; b++) {
            size_t lo = b * B, rows = n - lo < B ? n - lo : B;
            double total = 0.0;
            if ((rc = step(d, t, data, t->perm + lo, (int)rows, want, &stop, &total))) return rc;
            if (stop) return made__error(MADE_E_INTERRUPTED, "training interrupted");
            t->batch = b + 1;
            t->epoch_nll += total;
            t->epoch_examples += rows;
            t->epoch_seconds = made__now_seconds() - start;
            made__trainer_batch_progress(t, &p);
            want = fn ? fn(user, &p) != 0 : 0;
        }
        if ((rc = any_rank(d, want, &stop))) return rc;
        if (stop) return made__error(MADE_E_INTERRUPTED, "training interrupted");
        double val = NAN;
        int improved = 0;
        if (data->val_total) {
            if ((rc = validate(d, t, data, &val))) return rc;
            made__trainer_keep_best(t, val, &improved);
        }
        made__trainer_end_epoch(t, val, improved, &p);
        want = fn ? fn(user, &p) != 0 : 0;
        if ((rc = any_rank(d, want, &stop))) return rc;
        want = 0;
        if (stop) {
            if (t->epoch >= t->cfg.epochs || t->stopped) break;
            return made__error(MADE_E_INTERRUPTED, "training interrupted");
        }
    }
    made__trainer_finish(t); /* the best epoch's parameters, the model's record */
    return MADE_OK;
}

/* What made_trainer_fit checks, on this rank's rows. */
static int check_local(made_trainer *t, const made_mpi_data *d, int rank)
{
    made_model *m = t->m;
    const int C = m->cfg.conditional_size;
    if (d->total == 0) return made__error(MADE_E_INVAL, "fit: no training data");
    if ((d->count && !d->x) || (d->val_count && !d->xval) || (C && d->count && !d->c) ||
        (C && d->val_count && !d->cval))
        return made__error(MADE_E_INVAL, "fit: rank %d: rows or conditional inputs are NULL", rank);
    if (!C && (d->c || d->cval))
        return made__error(MADE_E_INVAL, "fit: conditional inputs given to a model that is not "
                           "conditional");
    if (t->cfg.patience > 0 && d->val_total == 0)
        return made__error(MADE_E_INVAL, "fit: patience %d needs validation data", t->cfg.patience);
    if (t->n_data && t->n_data != d->total)
        return made__error(MADE_E_INVAL, "fit: the training data has %zu rows, but this trainer "
                           "was started on %zu (resume with the same data)", d->total, t->n_data);
    int rc = made__check_support(m, d->x, d->count);
    if (rc) {
        made__error_prefix("training data (rank %d, rows %zu..%zu): ", rank, d->first + 1,
                           d->first + d->count);
        return rc;
    }
    if (d->val_count && (rc = made__check_support(m, d->xval, d->val_count))) {
        made__error_prefix("validation data (rank %d, rows %zu..%zu): ", rank, d->val_first + 1,
                           d->val_first + d->val_count);
        return rc;
    }
    if ((C && (rc = made__check_finite("training conditional input", d->c, d->count, (size_t)C))) ||
        (C && d->val_count &&
         (rc = made__check_finite("validation conditional input", d->cval, d->val_count, (size_t)C))))
        made__error_prefix("rank %d: ", rank);
    return rc;
}

int made_trainer_fit_mpi(made_trainer *t, MPI_Comm comm, const made_mpi_data *data,
                         made_progress_fn fn, void *user)
{
    made__clear_error();
    if (!t || !data) return made__error(MADE_E_INVAL, "fit_mpi: NULL argument");
    if (!t->m)
        return made__error(MADE_E_UNSUPPORTED, "fit_mpi: data-parallel training is for a MADE; "
                           "a flow trains in one process (its batch norm and gradient are not "
                           "split across ranks)");
    dp d;
    memset(&d, 0, sizeof d);
    d.comm = MPI_COMM_NULL;
    int e = MPI_Comm_dup(comm, &d.comm);
    if (e != MPI_SUCCESS) return mpi_fail(e, "MPI_Comm_dup");
    MPI_Comm_set_errhandler(d.comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(d.comm, &d.rank);
    MPI_Comm_size(d.comm, &d.size);
    d.E = t->m->cfg.event_size;
    d.C = t->m->cfg.conditional_size;
    d.width = d.E + d.C;
    int rc = check_local(t, data, d.rank);
    if (!rc) rc = dp_alloc(&d, t->m, (size_t)t->cfg.batch_size);
    if (!rc) {
        made__free(t->perm);
        t->perm = made__malloc(data->total * sizeof *t->perm);
        if (!t->perm) rc = MADE_E_NOMEM;
    }
    rc = agree(&d, rc);
    if (!rc) rc = check_ranks(&d, t, data);
    if (!rc) {
        t->n_data = data->total;
        rc = fit_loop(&d, t, data, fn, user);
    }
    dp_free(&d);
    return rc;
}
