/* fuzz_npy.c - made_npy_read (.npy v1/v2/v3, every numeric dtype, both byte
 * orders) on the input bytes, through a temp file; made_data_read must agree
 * on files that start with the .npy magic. */
#include "fuzz_array.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int routed = size >= 6 && memcmp(data, "\x93NUMPY", 6) == 0;
    fuzz_read(made_npy_read, data, size, routed, NULL);
    return 0;
}
