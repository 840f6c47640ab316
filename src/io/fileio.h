/*
 * io/fileio.h - reading whole files and writing files atomically.
 */
#ifndef MADE_FILEIO_H
#define MADE_FILEIO_H

#include <stddef.h>

#include "made.h"

/* Whole-file read (binary). Errors: MADE_E_IO with the path and strerror(errno). */
int made__read_file(const char *path, unsigned char **data, size_t *size);

/* The shared part of the file readers (made_npy_read, made_csv_read,
 * made_idx_read): checks the arguments (errors name the function `fn`), reads
 * the whole file and hands its bytes to parse, which may replace *bytes (a
 * realloc); they are freed afterwards. Errors other than I/O ones are
 * prefixed with the path. */
typedef int (*made__parse_fn)(made_array *a, unsigned char **bytes, size_t size);
int made__read_with(made_array *a, const char *path, const char *fn, made__parse_fn parse);

/* Atomic file writing: bytes go to a temp file in the target's directory, which
 * is fsync'd and renamed over the target only when everything succeeded, so an
 * existing file is never left half-written. */
typedef struct made__atomic made__atomic;
int made__atomic_open(made__atomic **out, const char *path);
int made__atomic_write(made__atomic *f, const void *data, size_t n);
/* fsync + rename (+ fsync of the directory). Frees f whatever happens. */
int made__atomic_commit(made__atomic *f);
/* Removes the temp file and frees f (accepts NULL). */
void made__atomic_abort(made__atomic *f);

#endif
