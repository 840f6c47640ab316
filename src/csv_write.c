/* csv_write.c - writing arrays as CSV text (the reader is in csv.c). */
#include <stdio.h>

#include "internal.h"

int made_csv_write(const made_array *a, const char *path)
{
    made__clear_error();
    if (!a || !path || (made_array_size(a) && !a->data))
        return made__error(MADE_E_INVAL, "csv write: NULL argument");
    size_t rows = a->ndim == 0 ? 1 : a->ndim == 1 ? 1 : a->shape[0];
    size_t total = made_array_size(a);
    size_t cols = rows ? total / rows : 0;
    made__atomic *f;
    int rc = made__atomic_open(&f, path);
    if (rc) return rc;
    made__buf line;
    made__buf_init(&line);
    for (size_t i = 0; i < rows && rc == MADE_OK; i++) {
        line.len = 0;
        for (size_t j = 0; j < cols; j++)
            made__buf_printf(&line, "%s%.9g", j ? "," : "", (double)a->data[i * cols + j]);
        made__buf_append(&line, "\n", 1);
        rc = line.failed ? MADE_E_NOMEM : made__atomic_write(f, line.data, line.len);
    }
    made__buf_free(&line);
    if (rc) {
        made__atomic_abort(f);
        return rc;
    }
    return made__atomic_commit(f);
}
