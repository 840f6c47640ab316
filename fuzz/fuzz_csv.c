/* fuzz_csv.c - made_csv_read on the input bytes, through a temp file. Checks
 * the result is a non-empty 2-D array; made_data_read must agree on content
 * without a binary magic number (the temp file has no extension, so that is
 * read as CSV too). */
#include "fuzz_array.h"

static void check_2d(const made_array *a)
{
    FUZZ_CHECK(a->ndim == 2 && a->shape[0] >= 1 && a->shape[1] >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int binary = (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) ||
                 (size >= 6 && memcmp(data, "\x93NUMPY", 6) == 0) ||
                 (size >= 4 && data[0] == 0 && data[1] == 0 && data[2] >= 0x08 && data[2] <= 0x0e) ||
                 (size >= 4 && memcmp(data, "PK\x03\x04", 4) == 0);
    fuzz_read(made_csv_read, data, size, !binary, check_2d);
    return 0;
}
