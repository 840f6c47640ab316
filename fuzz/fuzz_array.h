/*
 * fuzz_array.h - the part the data-file targets (npy, csv, idx) share: run one
 * reader on the input through a temp file, check what it returned, and check
 * that made_data_read, when the content sends it to the same reader, returns
 * exactly the same thing.
 */
#ifndef MADE_FUZZ_ARRAY_H
#define MADE_FUZZ_ARRAY_H

#include <string.h>

#include "fuzz.h"
#include "made.h"

typedef int (*fuzz_reader)(made_array *a, const char *path);

static void fuzz_check_array(const made_array *a, int rc)
{
    if (rc != MADE_OK) {
        FUZZ_CHECK(a->data == NULL);
        FUZZ_CHECK(made_last_error()[0] != '\0');
        return;
    }
    FUZZ_CHECK(a->ndim >= 0 && a->ndim <= MADE_MAX_DIMS);
    size_t n = made_array_size(a);
    FUZZ_CHECK(a->data != NULL || n == 0);
    /* Touch every element, so ASan sees a buffer shorter than the shape says. */
    volatile float sink = 0.0f;
    for (size_t i = 0; i < n; i++) sink += a->data[i];
    (void)sink;
}

static int fuzz_same_array(const made_array *a, const made_array *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    size_t n = made_array_size(a);
    return n == 0 || memcmp(a->data, b->data, n * sizeof(float)) == 0;
}

/* Reads data with reader; routed says whether made_data_read picks the same
 * reader for this content; check (or NULL) sees an array that was read. */
static int fuzz_read(fuzz_reader reader, const uint8_t *data, size_t size, int routed,
                     void (*check)(const made_array *a))
{
    const char *path = fuzz_tmp_write(data, size);
    made_array a;
    memset(&a, 0xa5, sizeof a); /* readers must reset it, also on failure */
    int rc = reader(&a, path);
    FUZZ_CHECK(rc == MADE_OK || rc == MADE_E_FORMAT || rc == MADE_E_UNSUPPORTED ||
               rc == MADE_E_NONFINITE || rc == MADE_E_NOMEM);
    fuzz_check_array(&a, rc);
    if (rc == MADE_OK && check) check(&a);
    if (routed) {
        made_array b;
        int rc2 = made_data_read(&b, path);
        FUZZ_CHECK(rc2 == rc);
        if (rc == MADE_OK) FUZZ_CHECK(fuzz_same_array(&a, &b));
        made_array_free(&b);
    }
    made_array_free(&a);
    fuzz_tmp_remove();
    return rc;
}

#endif
