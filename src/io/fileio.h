/*
 * io/fileio.h - reading whole files and writing files atomically.
 */
#ifndef MADE_FILEIO_H
#define MADE_FILEIO_H

#include <stddef.h>

#include "made.h"

/* Whole-file read (binary), "-" for standard input. data[size] is a NUL byte
 * (not counted in size). Errors: MADE_E_IO with the path and strerror(errno). */
int made__read_file(const char *path, unsigned char **data, size_t *size);

/* The shared part of the file readers (made_npy_read, made_csv_read,
 * made_idx_read): checks the arguments (errors name the function `fn`), reads
 * the whole file and hands its bytes to parse, which may replace *bytes (a
 * realloc); they are freed afterwards. Errors other than I/O ones are
 * prefixed with the path. */
typedef int (*made__parse_fn)(made_array *a, unsigned char **bytes, size_t size);
int made__read_with(made_array *a, const char *path, const char *fn, made__parse_fn parse);

/* The readers' parsers, for made_data_read, which reads a file once (a pipe
 * cannot be read twice) and then picks one by the bytes. */
int made__npy_parse(made_array *a, unsigned char **bytes, size_t size);
int made__idx_parse(made_array *a, unsigned char **bytes, size_t size);
int made__csv_parse(made_array *a, unsigned char **bytes, size_t size);
/* What a file is, from its first bytes: "a .npy file", "a PNG image", "a made
 * model", "JSON text", ... (NULL: binary of no known kind). *is_data is 1 for
 * what made_data_read can read (.npy, IDX, text). */
const char *made__file_kind(const unsigned char *bytes, size_t size, int *is_data);

/* made_data_write's format for path: *csv for a name ending ".csv"; .npy for
 * ".npy" and for names that cannot carry an extension ("-", a character device,
 * a FIFO). Anything else is MADE_E_INVAL naming the formats. */
int made__output_format(const char *path, int *csv);

/* Atomic file writing: bytes go to a temp file in the target's directory, which
 * is fsync'd and renamed over the target only when everything succeeded, so an
 * existing file is never left half-written. A symlink's target is replaced (the
 * link is kept); a character device or FIFO is written in place; "-" is
 * standard output; anything else that exists is an error (see fileio.c). */
typedef struct made__atomic made__atomic;
int made__atomic_open(made__atomic **out, const char *path);
int made__atomic_write(made__atomic *f, const void *data, size_t n);
/* fsync + rename (+ fsync of the directory). Frees f whatever happens. */
int made__atomic_commit(made__atomic *f);
/* Removes the temp file and frees f (accepts NULL). */
void made__atomic_abort(made__atomic *f);

#endif
