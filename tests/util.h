/*
 * util.h - what the test programs share besides the harness: a seeded random
 * generator of their own (splitmix64, independent of the library's), a scratch
 * directory, and whole-file reads and writes.
 *
 *     #define UTIL_GEN_SEED 0x1234u   (optional, before the include)
 *     #include "util.h"
 *     tmp_init("test_x"); ... tmp_path("a.npy") ... tmp_cleanup();
 */
#ifndef MADE_TEST_UTIL_H
#define MADE_TEST_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the tests' own generator (splitmix64) -------------------------------- */

#ifndef UTIL_GEN_SEED
#define UTIL_GEN_SEED 0x5eed2024u
#endif

static uint64_t gen_state = UTIL_GEN_SEED;

static inline uint64_t gen_next(void)
{
    uint64_t z = (gen_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A test that starts from its own seed does not depend on how many numbers
 * the ones before it drew. */
static inline void gen_seed(uint64_t seed) { gen_state = seed; }

/* Uniform integer in [lo, hi]. */
static inline int gen_int(int lo, int hi) { return lo + (int)(gen_next() % (uint64_t)(hi - lo + 1)); }

/* Uniform in [-1, 1). */
static inline float gen_float(void) { return (float)((double)(gen_next() >> 11) * 0x1.0p-52 - 1.0); }

/* ---- a scratch directory --------------------------------------------------- */

/* In /dev/shm when there is one (tests that fsync thousands of files run much
 * faster there), else /tmp. */
static char tmpdir[256];

static inline int tmp_init(const char *name)
{
    struct stat shm;
    int use_shm = stat("/dev/shm", &shm) == 0 && S_ISDIR(shm.st_mode) && access("/dev/shm", W_OK) == 0;
    snprintf(tmpdir, sizeof tmpdir, "%s/made-%s-XXXXXX", use_shm ? "/dev/shm" : "/tmp", name);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

/* tmpdir/name; the last four results stay valid. */
static inline const char *tmp_path(const char *name)
{
    static char paths[4][sizeof tmpdir + 1 + 256];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", tmpdir, name);
    return p;
}

/* Removes every file in dir (not subdirectories). */
static inline void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static inline void tmp_cleanup(void)
{
    clear_dir(tmpdir);
    rmdir(tmpdir);
}

/* ---- whole files ------------------------------------------------------------ */

/* The file's bytes (malloc'd, NULL if it cannot be read); *size its length. */
static inline unsigned char *slurp(const char *path, size_t *size)
{
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *p = realloc(b, cap * 2);
        if (!p) {
            free(b);
            b = NULL;
            break;
        }
        b = p;
        cap *= 2;
    }
    fclose(f);
    *size = n;
    return b;
}

/* Writes n bytes to path; 0 on success. */
static inline int spit(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

#endif
