/* kernel_select.h - choosing the kernel path (net/kernel.h) of a model. */
#ifndef MADE_NET_KERNEL_SELECT_H
#define MADE_NET_KERNEL_SELECT_H

#include "net/kernel.h"

/* The path to use: MADE_KERNEL=portable|avx2 from the environment when set
 * (read by the caller once, at model creation), else the fastest this CPU
 * runs. Returns 0, or MADE_E_INVAL with a message naming the bad value or a
 * CPU without AVX2/FMA. */
int made__kernel_select(const char *env_value, const made__kernel **out);

#endif
