/* array.c - made_array: a dense row-major float32 array that owns its data. */
#include <string.h>

#include "core/internal.h"

size_t made_array_size(const made_array *a)
{
    if (!a) return 0;
    /* made_array_alloc checked this product for overflow; a hand-filled struct
     * is the caller's responsibility. */
    size_t n = 1;
    for (int d = 0; d < a->ndim && d < MADE_MAX_DIMS; d++) n *= a->shape[d];
    return n;
}

int made_array_alloc(made_array *a, int ndim, const size_t *shape)
{
    made__clear_error();
    if (!a) return made__error(MADE_E_INVAL, "made_array_alloc: array is NULL");
    memset(a, 0, sizeof *a);
    if (ndim < 0 || ndim > MADE_MAX_DIMS)
        return made__error(MADE_E_INVAL, "made_array_alloc: ndim %d is outside 0..%d", ndim,
                           MADE_MAX_DIMS);
    if (ndim > 0 && !shape)
        return made__error(MADE_E_INVAL, "made_array_alloc: shape is NULL for ndim %d", ndim);

    size_t count = 1, bytes;
    for (int d = 0; d < ndim; d++)
        if (made__mul_size(count, shape[d], &count) != MADE_OK) return MADE_E_NOMEM;
    if (made__mul_size(count, sizeof(float), &bytes) != MADE_OK) return MADE_E_NOMEM;

    /* calloc so that a zero-length array still gets a valid (freeable) pointer
     * and every element starts at 0.0f (all-zero bits on IEEE 754). */
    float *data = made__calloc(count ? count : 1, sizeof(float));
    if (!data) return MADE_E_NOMEM;
    a->data = data;
    a->ndim = ndim;
    for (int d = 0; d < ndim; d++) a->shape[d] = shape[d];
    return MADE_OK;
}

void made_array_free(made_array *a)
{
    if (!a) return;
    made__free(a->data);
    memset(a, 0, sizeof *a);
}
