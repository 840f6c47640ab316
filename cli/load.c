/* load.c - loading data files for the CLI verbs: read, flatten, binarize, check. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_load_rows(const char *verb, const char *path, size_t width, double binarize,
                  made_array *a, size_t *rows, size_t *cols)
{
    int st = made_data_read(a, path);
    if (st) return cli_fail_status(verb, st);
    size_t total = made_array_size(a);
    if (a->ndim == 0) {
        cli_fail(verb, "%s: a scalar, expected rows of data", path);
        made_array_free(a);
        return CLI_FAIL;
    }
    /* Rows are the first axis; the remaining axes (e.g. 28x28 images) are
     * flattened. A 1-D array is one row, unless single-column data is expected. */
    if (a->ndim == 1) {
        *rows = width == 1 ? a->shape[0] : 1;
    } else {
        *rows = a->shape[0];
    }
    *cols = *rows ? total / *rows : (a->ndim > 1 ? total : 0);
    if (a->ndim > 1 && *rows == 0) {
        *cols = 1;
        for (int i = 1; i < a->ndim; i++) *cols *= a->shape[i];
    }
    if (width && *cols != width) {
        cli_fail(verb, "%s: rows have %zu values, but the model expects %zu", path, *cols, width);
        made_array_free(a);
        return CLI_FAIL;
    }
    if (*rows == 0) {
        cli_fail(verb, "%s: no rows of data", path);
        made_array_free(a);
        return CLI_FAIL;
    }
    for (size_t i = 0; i < total; i++) {
        if (!isfinite(a->data[i])) {
            cli_fail(verb, "%s: row %zu, column %zu is %g (not finite)", path, i / *cols + 1,
                     i % *cols + 1, (double)a->data[i]);
            made_array_free(a);
            return CLI_FAIL;
        }
        if (!isnan(binarize)) a->data[i] = a->data[i] > binarize ? 1.0f : 0.0f;
    }
    return CLI_OK;
}

int cli_load_conditional(const char *verb, const char *path, size_t width, size_t examples,
                         made_array *a, size_t *rows, size_t *cols)
{
    /* Any width first (the file is read once: it may be a pipe), then the checks. */
    if (cli_load_rows(verb, path, 0, NAN, a, rows, cols)) return CLI_FAIL;
    if (a->ndim == 1 && width == 1) {
        *rows = a->shape[0]; /* one value per example */
        *cols = 1;
    } else if (a->ndim == 1 && examples > 1 && a->shape[0] == examples && width != examples) {
        /* Class labels, say: read as one long row they would fail with a puzzling
         * row count, so say how to shape them. */
        made_array_free(a);
        return cli_fail(verb, "%s is a 1-D vector of %zu values; conditional inputs need one row "
                        "per example, shape [%zu, C]: reshape it to [%zu, 1] for one value per "
                        "example (x.reshape(-1, 1)), or one-hot encode class labels as [%zu, K] "
                        "(np.eye(K)[labels])", path, examples, examples, examples, examples);
    }
    if (width && *cols != width) {
        made_array_free(a);
        return cli_fail(verb, "%s: rows have %zu values, but the model expects %zu", path, *cols,
                        width);
    }
    return CLI_OK;
}
