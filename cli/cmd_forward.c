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

/* .csv output: one line per example, E*params values; anything else: .npy. */
static int write_output(const made_array *y, const char *path)
{
    size_t n = strlen(path);
    if (n >= 4 && strcmp(path + n - 4, ".csv") == 0) {
        /* A single example ([E, P], from a 1-D input) is one line too. */
        made_array rows = *y;
        if (y->ndim == 2) {
            rows.ndim = 1;
            rows.shape[0] = y->shape[0] * y->shape[1];
        }
        return made_csv_write(&rows, path);
    }
    return made_npy_write(y, path);
}

int cmd_forward(int argc, char **argv)
{
    cli_opt opts[] = {
        {"input", 'i', "X", "inputs [..., E] (.npy or .csv)", 0},
        {"conditional", 'c', "COND", "conditional inputs [..., C], for conditional models", 0},
        {"output", 'o', "Y", "output .npy [..., E, params] (float32); .csv: one line per example", 0},
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

    made_model *m = NULL;
    made_array x = {0}, c = {0}, xe = {0}, ce = {0}, y = {0};
    int st = made_model_load(&m, pos[0]);
    if (st) return cli_fail_status("forward", st);
    const made_config *cfg = made_model_config(m);
    made_model_set_threads(m, (int)threads);
    rc = CLI_FAIL;
    if ((st = made_data_read(&x, xin))) {
        cli_fail_status("forward", st);
        goto done;
    }
    if (x.ndim < 1 || x.shape[x.ndim - 1] != (size_t)cfg->event_size) {
        cli_fail("forward", "%s: the last axis has %zu values, but the model's event_size is %d",
                 xin, x.ndim ? x.shape[x.ndim - 1] : (size_t)0, cfg->event_size);
        goto done;
    }
    if (cfg->conditional_size > 0 && !cin) {
        cli_fail("forward", "%s is a conditional model (conditional_size %d): pass -c COND", pos[0],
                 cfg->conditional_size);
        goto done;
    }
    if (cfg->conditional_size == 0 && cin) {
        cli_fail("forward", "-c given, but %s is not a conditional model", pos[0]);
        goto done;
    }
    size_t bshape[MADE_MAX_DIMS];
    int nb = x.ndim - 1;
    memcpy(bshape, x.shape, (size_t)nb * sizeof *bshape);
    if (cin) {
        if ((st = made_data_read(&c, cin))) {
            cli_fail_status("forward", st);
            goto done;
        }
        if (c.ndim < 1 || c.shape[c.ndim - 1] != (size_t)cfg->conditional_size) {
            cli_fail("forward", "%s: the last axis has %zu values, but the model's "
                     "conditional_size is %d", cin, c.ndim ? c.shape[c.ndim - 1] : (size_t)0,
                     cfg->conditional_size);
            goto done;
        }
        if (broadcast(x.shape, x.ndim - 1, c.shape, c.ndim - 1, bshape, &nb) != 0) {
            cli_fail("forward", "the batch shapes of %s and %s do not broadcast", xin, cin);
            goto done;
        }
    }
    if (nb + 2 > MADE_MAX_DIMS) {
        cli_fail("forward", "%s: too many batch dimensions (at most %d)", xin, MADE_MAX_DIMS - 2);
        goto done;
    }
    size_t n = 1;
    for (int i = 0; i < nb; i++) n *= bshape[i];
    const float *xp = x.data, *cp = c.data;
    if (cin) {
        /* Materialise the broadcast so the library sees plain [n, E] and [n, C]. */
        size_t xs[MADE_MAX_DIMS + 1], cs[MADE_MAX_DIMS + 1];
        memcpy(xs, bshape, (size_t)nb * sizeof *xs);
        memcpy(cs, bshape, (size_t)nb * sizeof *cs);
        xs[nb] = (size_t)cfg->event_size;
        cs[nb] = (size_t)cfg->conditional_size;
        if ((st = made_array_alloc(&xe, nb + 1, xs)) || (st = made_array_alloc(&ce, nb + 1, cs))) {
            cli_fail_status("forward", st);
            goto done;
        }
        expand_rows(xe.data, x.data, x.shape, x.ndim - 1, bshape, nb, (size_t)cfg->event_size);
        expand_rows(ce.data, c.data, c.shape, c.ndim - 1, bshape, nb, (size_t)cfg->conditional_size);
        xp = xe.data;
        cp = ce.data;
    }
    size_t yshape[MADE_MAX_DIMS];
    memcpy(yshape, bshape, (size_t)nb * sizeof *yshape);
    yshape[nb] = (size_t)cfg->event_size;
    yshape[nb + 1] = (size_t)cfg->params;
    if ((st = made_array_alloc(&y, nb + 2, yshape)) ||
        (st = made_model_forward(m, y.data, xp, cp, n)) || (st = write_output(&y, yout))) {
        cli_fail_status("forward", st);
        goto done;
    }
    rc = CLI_OK;
done:
    made_array_free(&x);
    made_array_free(&c);
    made_array_free(&xe);
    made_array_free(&ce);
    made_array_free(&y);
    made_model_free(m);
    return rc;
}
