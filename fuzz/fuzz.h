/*
 * fuzz.h - shared by the fuzz targets in fuzz/: the libFuzzer entry point, a
 * per-process temp file for readers that only take a path, and a check that
 * aborts (so libFuzzer, and the replay driver under ASan, report it as a crash).
 *
 * Every target is built two ways:
 *   clang -fsanitize=fuzzer,address,undefined        libFuzzer ("make fuzz")
 *   cc -fsanitize=address,undefined -DFUZZ_REPLAY    plain program: fuzz/replay.c
 *                                                   runs files through the target
 *                                                   ("make fuzz-replay", in CI)
 */
#ifndef MADE_FUZZ_H
#define MADE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data[0..size) to this process's temp file (in /dev/shm when it is
 * writable, else $TMPDIR or /tmp) and returns its path. Call fuzz_tmp_remove()
 * when the reader is done with it. Aborts if the file cannot be written: a
 * fuzzer that silently tests nothing is worse than one that stops. */
const char *fuzz_tmp_write(const uint8_t *data, size_t size);
void fuzz_tmp_remove(void);

/* An invariant of the code under test; a failure is a finding. */
#define FUZZ_CHECK(cond)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            fflush(stderr);                                                            \
            abort();                                                                   \
        }                                                                              \
    } while (0)

#endif
