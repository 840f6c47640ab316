/* cmd_forward.c - `made forward`: run the network on a batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Broadcast shape of two batch shapes (numpy rules, aligned on the right).
 * Returns -1 if they do not broadcast. */
static int broadcast(const size_t *a, int na, const size_t *b, int nb, size_t *out, int *nout)
{
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        size_t da = i < n - na ? 1 : a[i - (n - na)];
        size_t db = i < n - nb ? 1 : b[i - (n - nb)];
        if (da != db && da != 1 && db != 1) return -1;
        out[i] = da == 1 ? db : da;
    }
    *nout = n;
    return 0;
}

/* Copies rows of src (batch shape sshape[0..ns), row length w) into dst laid out
 * on the broadcast batch shape bshape[0..nb). */
static void expand_rows(float *dst, const float *src, const size_t *sshape, int ns,
                        const size_t *bshape, int nb, size_t w)
{
    size_t total = 1;
    for (int i = 0; i < nb; i++) total *= bshape[i];
    for (size_t r = 0; r < total; r++) {
        size_t rem = r, src_row = 0, stride = 1;
        for (int i = nb - 1; i >= 0; i--) {
            size_t idx = rem % bshape[i];
            rem /= bshape[i];
            int si = i - (nb - ns);
            if (si >= 0) {
                if (sshape[si] != 1) src_row += idx * stride;
                stride *= sshape[si];
            }
        }
        memcpy(dst + r * w, src + src_row * w, w * sizeof *dst);
    }
}

/* .csv output: one line per example, E*params values (a single example, [E, P]
 * from a 1-D input, is one line too); anything else: .npy. */
static int write_output(const made_array *y, const char *path)
{
    return made_data_write(y, path, y->ndim == 2 ? 0 : 1);
}

/* The arrays of one run: inputs x and c as read, their broadcast copies xe
 * and ce, the output y, and the broadcast batch shape. */
typedef struct batch {
    made_array x, c, xe, ce, y;
    size_t bshape[MADE_MAX_DIMS];
    int nb;
} batch;

/* Reads X (and COND), checks their last axes and broadcasts the batch shapes. */
static int read_inputs(const char *model, const made_config *cfg, const char *xin,
                       const char *cin, batch *b)
{
    const char *V = "forward";
    int st;
    if ((st = made_data_read(&b->x, xin))) return cli_fail_status(V, st);
    made_array *x = &b->x, *c = &b->c;
    if (x->ndim < 1 || x->shape[x->ndim - 1] != (size_t)cfg->event_size)
        return cli_fail(V, "%s: the last axis has %zu values, but the model's event_size is %d",
                        xin, x->ndim ? x->shape[x->ndim - 1] : (size_t)0, cfg->event_size);
    if (cfg->conditional_size > 0 && !cin)
        return cli_fail(V, "%s is a conditional model (conditional_size %d): pass -c COND", model,
                        cfg->conditional_size);
    if (cfg->conditional_size == 0 && cin)
        return cli_fail(V, "-c given, but %s is not a conditional model", model);
    b->nb = x->ndim - 1;
    memcpy(b->bshape, x->shape, (size_t)b->nb * sizeof *b->bshape);
    if (cin) {
        if ((st = made_data_read(c, cin))) return cli_fail_status(V, st);
        if (c->ndim < 1 || c->shape[c->ndim - 1] != (size_t)cfg->conditional_size)
            return cli_fail(V, "%s: the last axis has %zu values, but the model's "
                            "conditional_size is %d", cin, c->ndim ? c->shape[c->ndim - 1] : (size_t)0,
                            cfg->conditional_size);
        if (broadcast(x->shape, x->ndim - 1, c->shape, c->ndim - 1, b->bshape, &b->nb) != 0)
            return cli_fail(V, "the batch shapes of %s and %s do not broadcast", xin, cin);
    }
    if (b->nb + 2 > MADE_MAX_DIMS)
        return cli_fail(V, "%s: too many batch dimensions (at most %d)", xin, MADE_MAX_DIMS - 2);
    return CLI_OK;
}

/* Materialises the broadcast so the library sees plain [n, E] and [n, C]. */
static int expand(const made_config *cfg, batch *b)
{
    size_t xs[MADE_MAX_DIMS + 1], cs[MADE_MAX_DIMS + 1];
    const int nb = b->nb;
    memcpy(xs, b->bshape, (size_t)nb * sizeof *xs);
    memcpy(cs, b->bshape, (size_t)nb * sizeof *cs);
    xs[nb] = (size_t)cfg->event_size;
    cs[nb] = (size_t)cfg->conditional_size;
    int st;
    if ((st = made_array_alloc(&b->xe, nb + 1, xs)) || (st = made_array_alloc(&b->ce, nb + 1, cs)))
        return cli_fail_status("forward", st);
    expand_rows(b->xe.data, b->x.data, b->x.shape, b->x.ndim - 1, b->bshape, nb,
                (size_t)cfg->event_size);
    expand_rows(b->ce.data, b->c.data, b->c.shape, b->c.ndim - 1, b->bshape, nb,
                (size_t)cfg->conditional_size);
    return CLI_OK;
}

/* Runs the network on the batch and writes Y. */
static int run(made_model *m, const char *cin, const char *yout, batch *b)
{
    const made_config *cfg = made_model_config(m);
    size_t n = 1;
    for (int i = 0; i < b->nb; i++) n *= b->bshape[i];
    const float *xp = b->x.data, *cp = b->c.data;
    if (cin) {
        if (expand(cfg, b)) return CLI_FAIL;
        xp = b->xe.data;
        cp = b->ce.data;
    }
    size_t yshape[MADE_MAX_DIMS];
    memcpy(yshape, b->bshape, (size_t)b->nb * sizeof *yshape);
    yshape[b->nb] = (size_t)cfg->event_size;
    yshape[b->nb + 1] = (size_t)cfg->params;
    int st;
    if ((st = made_array_alloc(&b->y, b->nb + 2, yshape)) ||
        (st = made_model_forward(m, b->y.data, xp, cp, n)) || (st = write_output(&b->y, yout)))
        return cli_fail_status("forward", st);
    return CLI_OK;
}

int cmd_forward(int argc, char **argv)
{
    cli_opt opts[] = {
        {"input", 'i', "X", "inputs [..., E] (.npy or .csv; - for stdin)", 0},
        {"conditional", 'c', "COND", "conditional inputs [..., C], for conditional models", 0},
        {"output", 'o', "Y", "output .npy [..., E, params] (float32; - for stdout); .csv: one line per "
                              "example", 0},
        {"threads", 't', "T", "threads (default 1; results identical for any T)", 0},
    };
    cli_cmd cmd = {"forward", "MODEL -i X [-c COND] -o Y",
                   "Run the network: Y has shape X.shape[:-1] + [E, params]. With -c, the batch "
                   "shapes of X and COND\nbroadcast as in numpy (e.g. one conditioning row for "
                   "all inputs).",
                   NULL, opts, (int)(sizeof opts / sizeof *opts), 1, 1};
    const char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    const char *xin = cli_get(&cmd, "input"), *cin = cli_get(&cmd, "conditional"),
               *yout = cli_get(&cmd, "output"), *th = cli_get(&cmd, "threads");
    if (!xin || !yout) {
        fprintf(stderr, "made forward: -i X and -o Y are required\n");
        return CLI_USAGE;
    }
    long long threads = 1;
    if (th && cli_int("forward", "threads", th, 1, 1024, &threads)) return CLI_USAGE;
    if ((rc = cli_output("forward", "-o", yout, CLI_FMT_NPY | CLI_FMT_CSV, NULL))) return rc;
    made_model *m = NULL;
    int st = made_model_load(&m, pos[0]);
    if (st) return cli_fail_status("forward", st);
    made_model_set_threads(m, (int)threads);
    batch b;
    memset(&b, 0, sizeof b);
    rc = read_inputs(pos[0], made_model_config(m), xin, cin, &b);
    if (rc == CLI_OK) rc = run(m, cin, yout, &b);
    made_array *all[] = {&b.x, &b.c, &b.xe, &b.ce, &b.y};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) made_array_free(all[i]);
    made_model_free(m);
    return rc;
}
