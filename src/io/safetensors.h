/*
 * safetensors.h - the safetensors container: 8-byte little-endian header length,
 * a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}},
 * then the tensor bytes. Reading applies the format's full validation.
 */
#ifndef MADE_SAFETENSORS_H
#define MADE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "io/json.h"

#define MADE__ST_MAX_HEADER (100u * 1024u * 1024u) /* as the reference implementation */
#define MADE__ST_MAX_DIMS 8

typedef enum made__st_dtype {
    MADE__ST_BOOL, MADE__ST_U8, MADE__ST_I8, MADE__ST_U16, MADE__ST_I16, MADE__ST_F16,
    MADE__ST_BF16, MADE__ST_U32, MADE__ST_I32, MADE__ST_F32, MADE__ST_U64, MADE__ST_I64,
    MADE__ST_F64
} made__st_dtype;

const char *made__st_dtype_name(made__st_dtype d);
size_t made__st_dtype_size(made__st_dtype d);

typedef struct made__st_tensor {
    char *name;
    made__st_dtype dtype;
    int ndim;
    size_t shape[MADE__ST_MAX_DIMS];
    const unsigned char *data; /* points into the file's data section */
    size_t nbytes;
} made__st_tensor;

typedef struct made__st_file {
    unsigned char *bytes; /* whole file */
    size_t size;
    made__st_tensor *tensors; /* sorted by data offset */
    size_t count;
    char **meta_keys, **meta_values; /* __metadata__ (string -> string) */
    size_t meta_count;
} made__st_file;

/* Reads and validates: header length bounds (>= 2, <= MADE__ST_MAX_HEADER, within
 * the file), well-formed JSON object, known dtypes, shapes of non-negative
 * integers whose byte size does not overflow and equals the data_offsets span,
 * offsets in range, contiguous from 0 with no gap or overlap, covering the data
 * section exactly (no trailing bytes), __metadata__ string-to-string only,
 * no duplicate names. Errors: MADE_E_IO, MADE_E_FORMAT (saying what and where),
 * MADE_E_NOMEM. */
int made__st_read(made__st_file *f, const char *path);
/* The same, but a file that is recognisably something else (a .npy file, an
 * image, CSV text) is refused as "PATH is a .npy file, not EXPECTED". */
int made__st_read_as(made__st_file *f, const char *path, const char *expected);
int made__st_parse(made__st_file *f, const unsigned char *bytes, size_t size); /* copies */
void made__st_free(made__st_file *f);
const made__st_tensor *made__st_find(const made__st_file *f, const char *name);
/* Finds tensor name and checks it is dtype dt with shape [d0] (ndim 1) or
 * [d0, d1] (ndim 2); otherwise NULL, *rc set to MADE_E_FORMAT with a message. */
const made__st_tensor *made__st_expect(const made__st_file *f, const char *name, made__st_dtype dt,
                                       int ndim, size_t d0, size_t d1, int *rc);
const char *made__st_meta(const made__st_file *f, const char *key);

/* A tensor to write: data holds product(shape) * dtype size bytes, little-endian. */
typedef struct made__st_entry {
    const char *name;
    made__st_dtype dtype;
    int ndim;
    size_t shape[MADE__ST_MAX_DIMS];
    const void *data;
} made__st_entry;

/* Writes atomically (made__atomic_*): header padded with spaces to a multiple of
 * 8 bytes, tensors in the given order. meta_keys/values may be NULL when
 * meta_count = 0. */
int made__st_write(const char *path, const made__st_entry *entries, size_t count,
                   const char *const *meta_keys, const char *const *meta_values,
                   size_t meta_count);

#endif
