/* cmd_sample.c - `made sample`: draw samples, optionally as a PNG grid. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "flow_opts.h"

/* Lays samples [n, h*w] out on a grid with 1-pixel gaps; values scaled from
 * [lo, hi] to 0..255. Returns a made status. */
static int write_grid(const char *path, const float *x, size_t n, int h, int w, float lo, float hi)
{
    int cols = (int)ceil(sqrt((double)n)), rows = (int)((n + (size_t)cols - 1) / (size_t)cols);
    int W = cols * (w + 1) + 1, H = rows * (h + 1) + 1;
    unsigned char *img = calloc((size_t)W * H, 1);
    if (!img) return MADE_E_NOMEM;
    memset(img, 64, (size_t)W * H); /* dark grey gaps */
    float span = hi > lo ? hi - lo : 1.0f;
    for (size_t k = 0; k < n; k++) {
        int gx = (int)(k % (size_t)cols) * (w + 1) + 1, gy = (int)(k / (size_t)cols) * (h + 1) + 1;
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++) {
                float v = (x[k * (size_t)h * w + (size_t)y * w + xx] - lo) / span;
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                img[(size_t)(gy + y) * W + gx + xx] = (unsigned char)(v * 255.0f + 0.5f);
            }
    }
    int rc = made_png_write(path, img, W, H);
    free(img);
    return rc;
}

typedef struct sample_opts {
    const char *out, *png, *cond;
    long long n, seed, mask, threads;
    int ih, iw; /* --image-shape, 0 = square */
    int naive;
} sample_opts;

static int parse_options(const cli_cmd *cmd, sample_opts *o)
{
    const char *V = "sample", *s;
    memset(o, 0, sizeof *o);
    o->out = cli_get(cmd, "output");
    o->png = cli_get(cmd, "png");
    o->cond = cli_get(cmd, "conditional");
    o->naive = cli_get(cmd, "naive") != NULL;
    o->threads = 1;
    if (!(s = cli_get(cmd, "num"))) {
        fprintf(stderr, "made sample: -n N is required\n");
        return CLI_USAGE;
    }
    if (cli_int(V, "num", s, 1, 100000000, &o->n)) return CLI_USAGE;
    if (!o->out && !o->png) {
        fprintf(stderr, "made sample: -o S.npy (or --png GRID.png) is required\n");
        return CLI_USAGE;
    }
    if (o->out && o->png && strcmp(o->out, "-") == 0 && strcmp(o->png, "-") == 0) {
        fprintf(stderr, "made sample: -o - and --png - cannot both go to standard output\n");
        return CLI_USAGE;
    }
    if ((s = cli_get(cmd, "seed")) && cli_int(V, "seed", s, 0, 9007199254740991LL, &o->seed))
        return CLI_USAGE;
    if ((s = cli_get(cmd, "mask")) && cli_int(V, "mask", s, 0, 4095, &o->mask)) return CLI_USAGE;
    if ((s = cli_get(cmd, "threads")) && cli_int(V, "threads", s, 1, 1024, &o->threads))
        return CLI_USAGE;
    if ((s = cli_get(cmd, "image-shape"))) {
        char tail;
        if (sscanf(s, "%dx%d%c", &o->ih, &o->iw, &tail) != 2 || o->ih < 1 || o->iw < 1 ||
            o->ih > 100000 || o->iw > 100000) {
            fprintf(stderr, "made sample: --image-shape: \"%s\" (expected HxW, e.g. 28x28)\n", s);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

/* The image shape for --png: given, or the square the event size is. */
static int image_shape(const made_config *cfg, sample_opts *o)
{
    if (!o->png) return CLI_OK;
    if (!o->ih) {
        int side = (int)floor(sqrt((double)cfg->event_size) + 0.5);
        if (side * side != cfg->event_size)
            return cli_fail("sample", "--png needs --image-shape HxW (event size %d is not a square)",
                            cfg->event_size);
        o->ih = o->iw = side;
    }
    if ((long long)o->ih * o->iw != cfg->event_size)
        return cli_fail("sample", "--image-shape %dx%d has %d pixels, but the event size is %d",
                        o->ih, o->iw, o->ih * o->iw, cfg->event_size);
    return CLI_OK;
}

/* Conditional rows for n samples: N rows as given, or one row repeated into
 * ce. *cp is what to sample with (NULL for an unconditional model). */
static int conditional_rows(const made_config *cfg, const sample_opts *o, made_array *c,
                            made_array *ce, const float **cp)
{
    const char *V = "sample";
    *cp = NULL;
    if (cfg->conditional_size && !o->cond)
        return cli_fail(V, "the model is conditional: pass --conditional FILE");
    if (!cfg->conditional_size && o->cond)
        return cli_fail(V, "--conditional given, but the model is not conditional");
    if (!o->cond) return CLI_OK;
    size_t rows, cc, n = (size_t)o->n;
    if (cli_load_conditional(V, o->cond, (size_t)cfg->conditional_size, n, c, &rows, &cc))
        return CLI_FAIL;
    if (rows == n) {
        *cp = c->data;
    } else if (rows == 1) {
        size_t shape[2] = {n, cc};
        int st = made_array_alloc(ce, 2, shape);
        if (st) return cli_fail_status(V, st);
        for (size_t i = 0; i < n; i++) memcpy(ce->data + i * cc, c->data, cc * sizeof(float));
        *cp = ce->data;
    } else {
        return cli_fail(V, "%s has %zu rows: give one row (for all samples) or %lld", o->cond, rows,
                        o->n);
    }
    return CLI_OK;
}

/* The PNG grid, values scaled to the distribution's range (or the samples'). */
static int write_png(const cli_model *cm, const made_config *cfg, const sample_opts *o,
                     const made_array *x)
{
    float lo = 0, hi = 1;
    /* A model trained on binarized data draws in its 0/1 scale; a flow's
     * samples are real values, scaled to their range. */
    int binary = cm->m && !isnan(made_model_get_record(cm->m)->binarize);
    if (cm->f) {
        lo = hi = x->data[0];
        for (size_t i = 0; i < made_array_size(x); i++) {
            if (x->data[i] < lo) lo = x->data[i];
            if (x->data[i] > hi) hi = x->data[i];
        }
    } else if (cfg->dist.kind == MADE_DIST_CATEGORICAL) {
        hi = (float)(cfg->dist.k - 1);
    } else if (cfg->dist.kind != MADE_DIST_BERNOULLI && !binary) {
        lo = hi = x->data[0];
        for (size_t i = 0; i < made_array_size(x); i++) {
            if (x->data[i] < lo) lo = x->data[i];
            if (x->data[i] > hi) hi = x->data[i];
        }
    }
    int st = write_grid(o->png, x->data, (size_t)o->n, o->ih, o->iw, lo, hi);
    return st ? cli_fail_status("sample", st) : CLI_OK;
}

/* Draws the samples into x and reports the time taken. */
static int draw(const cli_model *cm, const made_config *cfg, const sample_opts *o,
                const float *cp, made_array *x)
{
    made_model *m = cm->m;
    size_t shape[2] = {(size_t)o->n, (size_t)cfg->event_size};
    int st = made_array_alloc(x, 2, shape);
    if (st) return cli_fail_status("sample", st);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cm->f)
        st = made_flow_sample(cm->f, x->data, cp, (size_t)o->n, (uint64_t)o->seed);
    else
        st = o->naive ? made_model_sample_naive(m, x->data, cp, (size_t)o->n, (uint64_t)o->seed)
                      : made_model_sample(m, x->data, cp, (size_t)o->n, (uint64_t)o->seed);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st) return cli_fail_status("sample", st);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (o->out && (st = made_data_write(x, o->out, 1))) return cli_fail_status("sample", st);
    if (o->png && write_png(cm, cfg, o, x)) return CLI_FAIL;
    fprintf(stderr, "made sample: %lld samples in %.3f s (%.1f samples/s)\n", o->n, secs,
            secs > 0 ? (double)o->n / secs : 0.0);
    return CLI_OK;
}

int cmd_sample(int argc, char **argv)
{
    cli_opt opts[] = {
        {"num", 'n', "N", "number of samples (required)", 0},
        {"output", 'o', "S", "samples .npy [N, E] (float32) or .csv; - for .npy on stdout", 0},
        {"seed", 0, "S", "random seed (default 0)", 0},
        {"conditional", 'c', "FILE", "conditional inputs: one row for all samples, or N rows", 0},
        {"png", 0, "GRID.png", "also draw the samples as a PNG grid of images (- for stdout)", 0},
        {"image-shape", 0, "HxW", "image size for --png (default: square, e.g. 28x28 for E=784)", 0},
        {"mask", 0, "K", "mask set to sample from (default 0)", 0},
        {"naive", 0, NULL, "use the reference sampler (one network pass per dimension)", 0},
        {"threads", 't', "T", "threads (default 1)", 0},
    };
    cli_cmd cmd = {"sample", "MODEL -n N -o S.npy [options]",
                   "Draw N samples from a trained model (a MADE or a flow). Each hidden unit is computed once, when "
                   "the inputs it depends on\nare known, so a sample costs about one network pass "
                   "(--naive re-runs the network per dimension;\nboth give identical samples).",
                   "example:\n  made sample m.safetensors -n 100 -o s.npy --png s.png --image-shape 28x28",
                   opts, (int)(sizeof opts / sizeof *opts), 1, 1};
    const char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    sample_opts o;
    if ((rc = parse_options(&cmd, &o)) != CLI_OK) return rc;
    /* Outputs are checked before the model is even read. */
    if (o.out && (rc = cli_output("sample", "-o", o.out, CLI_FMT_NPY | CLI_FMT_CSV, NULL)))
        return rc;
    if (o.png && (rc = cli_output("sample", "--png", o.png, CLI_FMT_PNG, NULL))) return rc;
    cli_model cm;
    made_array c = {0}, ce = {0}, x = {0};
    const float *cp = NULL;
    if ((rc = cli_model_load("sample", pos[0], &cm))) return rc;
    /* A flow's layer config has its event and conditional sizes. */
    const made_config *cfg = cm.f ? &made_flow_get_config(cm.f)->layer : made_model_config(cm.m);
    cli_model_set_threads(&cm, (int)o.threads);
    int st;
    if (cm.f && (o.mask || o.naive))
        rc = cli_fail("sample", "--mask and --naive are for MADE models; %s is a flow", pos[0]);
    else if (cm.m && (st = made_model_set_mask(cm.m, (int)o.mask)))
        rc = cli_fail_status("sample", st);
    if (rc == CLI_OK) rc = image_shape(cfg, &o);
    if (rc == CLI_OK) rc = conditional_rows(cfg, &o, &c, &ce, &cp);
    if (rc == CLI_OK) rc = draw(&cm, cfg, &o, cp, &x);
    made_array_free(&c);
    made_array_free(&ce);
    made_array_free(&x);
    cli_model_free(&cm);
    return rc;
}
