/* fuzz_idx.c - made_idx_read (IDX, plain or gzip-compressed) on the input bytes
 * as they are, through a temp file: the seed corpus holds both kinds, so the
 * fuzzer mutates gzip streams too (most mutations then fail the CRC, which is
 * part of what is tested). made_data_read must agree on content with the gzip
 * or IDX magic. */
#include "fuzz_array.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    int idx = size >= 4 && data[0] == 0 && data[1] == 0 && data[2] >= 0x08 && data[2] <= 0x0e;
    fuzz_read(made_idx_read, data, size, gzip || idx, NULL);
    return 0;
}
