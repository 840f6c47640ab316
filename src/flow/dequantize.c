/* dequantize.c - uniform dequantisation of 8-bit-like data for flows trained
 * on it (the MAF paper's setup): x + u, u ~ U[0, 1) from a splitmix64 stream
 * of the caller's seed, one draw per value in order. The program, the Python
 * package and the R package all call this, so the same seed gives the same
 * bits everywhere. */
#include <stdint.h>

#include "core/internal.h"
#include "made.h"

/* splitmix64 (Steele, Lea and Flood): the stream's next 64 bits. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int made_dequantize(float *x, size_t rows, size_t cols, uint64_t seed, int levels)
{
    if (levels < 2) return made__error(MADE_E_INVAL, "levels: %d, needs at least 2", levels);
    if (!x && rows && cols) return made__error(MADE_E_INVAL, "x: NULL");
    /* Every value is checked before any changes, so x is untouched on error. */
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            float v = x[i * cols + j];
            if (!(v >= 0 && v <= levels - 1) || v != (float)(int)v)
                return made__error(MADE_E_DOMAIN,
                                   "row %zu, column %zu is %g; dequantize needs integers 0..%d",
                                   i + 1, j + 1, (double)v, levels - 1);
        }
    /* The seed is mixed with a constant ("dequa") so that this stream differs
     * from the other uses of the same seed. u has 53 random bits, then is
     * rounded to float when added. */
    uint64_t state = seed ^ 0x6465717561ull;
    for (size_t k = 0; k < rows * cols; k++)
        x[k] += (float)((double)(next(&state) >> 11) * 0x1.0p-53);
    return MADE_OK;
}
