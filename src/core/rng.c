/* rng.c - MT19937 with numpy's legacy rules, and xoshiro256** for everything else. */
#include <math.h>

#include "core/rng.h"

/* ---- MT19937 (Matsumoto & Nishimura 1998), numpy legacy seeding ---------- */

void made__mt_seed(made__mt *mt, uint32_t seed)
{
    /* init_genrand: what np.random.seed(int) does for a 32-bit seed. */
    mt->state[0] = seed;
    for (int i = 1; i < 624; i++) {
        uint32_t prev = mt->state[i - 1];
        mt->state[i] = 1812433253u * (prev ^ (prev >> 30)) + (uint32_t)i;
    }
    mt->index = 624;
}

static void mt_twist(made__mt *mt)
{
    for (int i = 0; i < 624; i++) {
        uint32_t y = (mt->state[i] & 0x80000000u) | (mt->state[(i + 1) % 624] & 0x7fffffffu);
        uint32_t v = mt->state[(i + 397) % 624] ^ (y >> 1);
        if (y & 1u) v ^= 0x9908b0dfu;
        mt->state[i] = v;
    }
    mt->index = 0;
}

uint32_t made__mt_next(made__mt *mt)
{
    if (mt->index >= 624) mt_twist(mt);
    uint32_t y = mt->state[mt->index++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

uint32_t made__mt_bounded(made__mt *mt, uint32_t r)
{
    if (r == 0) return 0; /* numpy draws nothing for a one-value range */
    uint32_t mask = r;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint32_t v;
    do {
        v = made__mt_next(mt) & mask;
    } while (v > r);
    return v;
}

void made__mt_shuffle(made__mt *mt, int *a, int n)
{
    for (int i = n - 1; i >= 1; i--) {
        int j = (int)made__mt_bounded(mt, (uint32_t)i);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

void made__mt_randint(made__mt *mt, int low, int high, int *out, int n)
{
    uint32_t r = (uint32_t)(high - 1 - low);
    for (int i = 0; i < n; i++) out[i] = low + (int)made__mt_bounded(mt, r);
}

/* ---- xoshiro256** (Blackman & Vigna), seeded by splitmix64 ---------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void made__rng_seed(made__rng *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream through splitmix first so neighbouring (seed, stream)
     * pairs give unrelated states. */
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (stream * 0xd1b54a32d192ed03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t made__rng_next(made__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double made__rng_uniform(made__rng *r) { return (double)(made__rng_next(r) >> 11) * 0x1.0p-53; }

double made__rng_uniform_pos(made__rng *r)
{
    return ((double)(made__rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

double made__rng_normal(made__rng *r)
{
    for (;;) {
        double u = 2.0 * made__rng_uniform(r) - 1.0;
        double v = 2.0 * made__rng_uniform(r) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) return u * sqrt(-2.0 * log(s) / s);
    }
}
