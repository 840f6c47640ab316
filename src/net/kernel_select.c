/* kernel_select.c - choosing the kernel path: by the CPU, or forced by the
 * MADE_KERNEL environment variable (read by the caller, at model creation). */
#include <string.h>

#include "core/internal.h"
#include "net/kernel_select.h"

int made__kernel_select(const char *env_value, const made__kernel **out)
{
    const int avx2 = made__kernel_avx2_ok();
    if (!env_value || !*env_value) {
        *out = avx2 ? &made__kernel_avx2 : &made__kernel_portable;
        return 0;
    }
    if (strcmp(env_value, "portable") == 0) {
        *out = &made__kernel_portable;
        return 0;
    }
    if (strcmp(env_value, "avx2") == 0) {
        if (!avx2)
            return made__error(MADE_E_INVAL, "MADE_KERNEL=avx2: this CPU (or build) has no "
                               "AVX2 and FMA; use MADE_KERNEL=portable or leave it unset");
        *out = &made__kernel_avx2;
        return 0;
    }
    return made__error(MADE_E_INVAL, "MADE_KERNEL=%.40s: unknown kernel path (expected "
                       "'portable' or 'avx2', or unset to choose by CPU)", env_value);
}
