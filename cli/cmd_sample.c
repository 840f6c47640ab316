/* cmd_sample.c - `made sample`: draw samples, optionally as a PNG grid. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* Lays samples [n, h*w] out on a grid with 1-pixel gaps; values scaled from
 * [lo, hi] to 0..255. */
static int write_grid(const char *path, const float *x, size_t n, int h, int w, float lo, float hi)
{
    int cols = (int)ceil(sqrt((double)n)), rows = (int)((n + (size_t)cols - 1) / (size_t)cols);
    int W = cols * (w + 1) + 1, H = rows * (h + 1) + 1;
    unsigned char *img = calloc((size_t)W * H, 1);
    if (!img) return -1;
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
    int rc = cli_png_write(path, img, W, H);
    free(img);
    return rc;
}

int cmd_sample(int argc, char **argv)
{
    cli_opt opts[] = {
        {"num", 'n', "N", "number of samples (required)", 0},
        {"output", 'o', "S", "samples .npy [N, E] (float32) or .csv", 0},
        {"seed", 0, "S", "random seed (default 0)", 0},
        {"conditional", 'c', "FILE", "conditional inputs: one row for all samples, or N rows", 0},
        {"png", 0, "GRID.png", "also draw the samples as a PNG grid of images", 0},
        {"image-shape", 0, "HxW", "image size for --png (default: square, e.g. 28x28 for E=784)", 0},
        {"mask", 0, "K", "mask set to sample from (default 0)", 0},
        {"naive", 0, NULL, "use the reference sampler (one network pass per dimension)", 0},
        {"threads", 't', "T", "threads (default 1)", 0},
    };
    cli_cmd cmd = {"sample", "MODEL -n N -o S.npy [options]",
                   "Draw N samples from a trained model. Each hidden unit is computed once, when "
                   "the inputs it depends on\nare known, so a sample costs about one network pass "
                   "(--naive re-runs the network per dimension;\nboth give identical samples).",
                   "example:\n  made sample m.safetensors -n 100 -o s.npy --png s.png --image-shape 28x28",
                   opts, (int)(sizeof opts / sizeof *opts), 1, 1};
    const char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc) return rc == CLI_HELP ? CLI_OK : rc;
    const char *V = "sample", *s, *out = cli_get(&cmd, "output"), *png = cli_get(&cmd, "png");
    long long n = 0, seed = 0, mask = 0, threads = 1;
    if (!(s = cli_get(&cmd, "num"))) {
        fprintf(stderr, "made sample: -n N is required\n");
        return CLI_USAGE;
    }
    if (cli_int(V, "num", s, 1, 100000000, &n)) return CLI_USAGE;
    if (!out && !png) {
        fprintf(stderr, "made sample: -o S.npy (or --png GRID.png) is required\n");
        return CLI_USAGE;
    }
    if ((s = cli_get(&cmd, "seed")) && cli_int(V, "seed", s, 0, 9007199254740991LL, &seed))
        return CLI_USAGE;
    if ((s = cli_get(&cmd, "mask")) && cli_int(V, "mask", s, 0, 4095, &mask)) return CLI_USAGE;
    if ((s = cli_get(&cmd, "threads")) && cli_int(V, "threads", s, 1, 1024, &threads))
        return CLI_USAGE;
    int ih = 0, iw = 0;
    if ((s = cli_get(&cmd, "image-shape"))) {
        char tail;
        if (sscanf(s, "%dx%d%c", &ih, &iw, &tail) != 2 || ih < 1 || iw < 1 || ih > 100000 || iw > 100000) {
            fprintf(stderr, "made sample: --image-shape: \"%s\" (expected HxW, e.g. 28x28)\n", s);
            return CLI_USAGE;
        }
    }
    made_model *m = NULL;
    made_array c = {0}, ce = {0}, x = {0};
    rc = CLI_FAIL;
    int st = made_model_load(&m, pos[0]);
    if (st) return cli_fail_status(V, st);
    const made_config *cfg = made_model_config(m);
    made_model_set_threads(m, (int)threads);
    if ((st = made_model_set_mask(m, (int)mask))) {
        cli_fail_status(V, st);
        goto done;
    }
    if (png && !ih) {
        int side = (int)floor(sqrt((double)cfg->event_size) + 0.5);
        if (side * side != cfg->event_size) {
            cli_fail(V, "--png needs --image-shape HxW (event size %d is not a square)", cfg->event_size);
            goto done;
        }
        ih = iw = side;
    }
    if (png && (long long)ih * iw != cfg->event_size) {
        cli_fail(V, "--image-shape %dx%d has %d pixels, but the event size is %d", ih, iw, ih * iw,
                 cfg->event_size);
        goto done;
    }
    const char *cond = cli_get(&cmd, "conditional");
    if (cfg->conditional_size && !cond) {
        cli_fail(V, "the model is conditional: pass --conditional FILE");
        goto done;
    }
    if (!cfg->conditional_size && cond) {
        cli_fail(V, "--conditional given, but the model is not conditional");
        goto done;
    }
    const float *cp = NULL;
    if (cond) {
        size_t rows, cc;
        if (cli_load_rows(V, cond, (size_t)cfg->conditional_size, NAN, &c, &rows, &cc)) goto done;
        if (rows == (size_t)n) {
            cp = c.data;
        } else if (rows == 1) {
            size_t shape[2] = {(size_t)n, cc};
            if ((st = made_array_alloc(&ce, 2, shape))) {
                cli_fail_status(V, st);
                goto done;
            }
            for (long long i = 0; i < n; i++) memcpy(ce.data + (size_t)i * cc, c.data, cc * sizeof(float));
            cp = ce.data;
        } else {
            cli_fail(V, "%s has %zu rows: give one row (for all samples) or %lld", cond, rows, n);
            goto done;
        }
    }
    size_t shape[2] = {(size_t)n, (size_t)cfg->event_size};
    if ((st = made_array_alloc(&x, 2, shape))) {
        cli_fail_status(V, st);
        goto done;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = cli_get(&cmd, "naive") ? made_model_sample_naive(m, x.data, cp, (size_t)n, (uint64_t)seed)
                                : made_model_sample(m, x.data, cp, (size_t)n, (uint64_t)seed);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st) {
        cli_fail_status(V, st);
        goto done;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (out) {
        size_t len = strlen(out);
        st = len >= 4 && strcmp(out + len - 4, ".csv") == 0 ? made_csv_write(&x, out)
                                                           : made_npy_write(&x, out);
        if (st) {
            cli_fail_status(V, st);
            goto done;
        }
    }
    if (png) {
        float lo = 0, hi = 1;
        if (cfg->dist.kind == MADE_DIST_CATEGORICAL) {
            hi = (float)(cfg->dist.k - 1);
        } else if (cfg->dist.kind != MADE_DIST_BERNOULLI) {
            lo = hi = x.data[0];
            for (size_t i = 0; i < made_array_size(&x); i++) {
                if (x.data[i] < lo) lo = x.data[i];
                if (x.data[i] > hi) hi = x.data[i];
            }
        }
        if (write_grid(png, x.data, (size_t)n, ih, iw, lo, hi)) {
            cli_fail(V, "%s: cannot write the PNG: %s", png, strerror(errno));
            goto done;
        }
    }
    fprintf(stderr, "made sample: %lld samples in %.3f s (%.1f samples/s)\n", n, secs,
            secs > 0 ? (double)n / secs : 0.0);
    rc = CLI_OK;
done:
    made_array_free(&c);
    made_array_free(&ce);
    made_array_free(&x);
    made_model_free(m);
    return rc;
}
