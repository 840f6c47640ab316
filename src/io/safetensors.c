/*
 * safetensors.c - reading and writing the safetensors container.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON header, then
 * the data section. Reading applies the same checks as the reference
 * implementation (huggingface/safetensors, `Metadata::validate`) so a file we
 * accept is one every other reader accepts, and a hostile file is rejected
 * before anything trusts its offsets: every tensor's byte range is checked to
 * lie inside the data section, to match its dtype and shape, and the ranges
 * must tile the data section exactly.
 *
 * The header length is assembled byte by byte, so it is right on any host.
 * Tensor bytes are copied as they are: callers hand over and receive
 * little-endian data, which on the x86_64 / aarch64 hosts we build for is the
 * native layout.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "io/buf.h"
#include "io/fileio.h"
#include "io/safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "made assumes a little-endian host (safetensors data is little-endian)"
#endif

#define META_KEY "__metadata__"

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [MADE__ST_BOOL] = {"BOOL", 1}, [MADE__ST_U8] = {"U8", 1},     [MADE__ST_I8] = {"I8", 1},
    [MADE__ST_U16] = {"U16", 2},   [MADE__ST_I16] = {"I16", 2},   [MADE__ST_F16] = {"F16", 2},
    [MADE__ST_BF16] = {"BF16", 2}, [MADE__ST_U32] = {"U32", 4},   [MADE__ST_I32] = {"I32", 4},
    [MADE__ST_F32] = {"F32", 4},   [MADE__ST_U64] = {"U64", 8},   [MADE__ST_I64] = {"I64", 8},
    [MADE__ST_F64] = {"F64", 8},
};
#define NUM_DTYPES (sizeof dtypes / sizeof dtypes[0])

static int dtype_valid(made__st_dtype d) { return (unsigned)d < NUM_DTYPES; }

const char *made__st_dtype_name(made__st_dtype d) { return dtype_valid(d) ? dtypes[d].name : "?"; }

size_t made__st_dtype_size(made__st_dtype d) { return dtype_valid(d) ? dtypes[d].size : 0; }

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = made__malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

/* "[2, 3]" for messages. 8 dims of at most 20 digits fit in 200 bytes. */
static const char *shape_text(char buf[200], const size_t *shape, int ndim)
{
    size_t n = 0;
    buf[n++] = '[';
    for (int i = 0; i < ndim; i++)
        n += (size_t)snprintf(buf + n, 200 - n, "%s%zu", i ? ", " : "", shape[i]);
    snprintf(buf + n, 200 - n, "]");
    return buf;
}

/* Describes a JSON value for a message: "-3", "2.5", "a string", ... */
static const char *value_text(char buf[40], const made__json *v)
{
    switch (v->type) {
    case MADE__JSON_NULL: return "null";
    case MADE__JSON_BOOL: return v->boolean ? "true" : "false";
    case MADE__JSON_NUMBER:
        if (v->is_integer) snprintf(buf, 40, "%lld", v->integer);
        else snprintf(buf, 40, "%.17g", v->number);
        return buf;
    case MADE__JSON_STRING: return "a string";
    case MADE__JSON_ARRAY: return "an array";
    case MADE__JSON_OBJECT: return "an object";
    }
    return "?";
}

/* A JSON integer that is a valid size (offsets, dimensions). */
static int as_size(const made__json *v, size_t *out)
{
    if (v->type != MADE__JSON_NUMBER || !v->is_integer || v->integer < 0) return 0;
    if ((unsigned long long)v->integer > SIZE_MAX) return 0;
    *out = (size_t)v->integer;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

void made__st_free(made__st_file *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->count; i++) made__free(f->tensors[i].name);
    for (size_t i = 0; i < f->meta_count; i++) {
        made__free(f->meta_keys[i]);
        made__free(f->meta_values[i]);
    }
    made__free(f->tensors);
    made__free(f->meta_keys);
    made__free(f->meta_values);
    made__free(f->bytes);
    memset(f, 0, sizeof *f);
}

static int read_metadata(made__st_file *f, const made__json *m)
{
    char vb[40];
    if (m->type != MADE__JSON_OBJECT)
        return made__error(MADE_E_FORMAT,
                           "safetensors: \"" META_KEY "\" must be an object of strings, found %s",
                           value_text(vb, m));
    for (size_t i = 0; i < m->count; i++)
        if (m->items[i].type != MADE__JSON_STRING)
            return made__error(MADE_E_FORMAT,
                               "safetensors: \"" META_KEY "\" entry '%s' is %s, not a string",
                               m->keys[i], value_text(vb, &m->items[i]));
    if (m->count == 0) return MADE_OK;
    f->meta_keys = made__calloc(m->count, sizeof *f->meta_keys);
    f->meta_values = made__calloc(m->count, sizeof *f->meta_values);
    if (!f->meta_keys || !f->meta_values) return MADE_E_NOMEM;
    for (size_t i = 0; i < m->count; i++) {
        f->meta_keys[i] = copy_string(m->keys[i]);
        f->meta_values[i] = copy_string(m->items[i].string);
        f->meta_count++; /* counted before the check so made__st_free frees both */
        if (!f->meta_keys[i] || !f->meta_values[i]) return MADE_E_NOMEM;
    }
    return MADE_OK;
}

/* Validates one header entry and fills t. t->data is set to base + begin, which
 * is in range once this returns MADE_OK; the caller sorts by it. */
/* The tensor's entry is an object with exactly dtype, shape and data_offsets. */
static int tensor_keys(const char *name, const made__json *v)
{
    char vb[40];
    if (v->type != MADE__JSON_OBJECT)
        return made__error(MADE_E_FORMAT,
                           "safetensors: tensor '%s': expected an object with dtype, shape and "
                           "data_offsets, found %s",
                           name, value_text(vb, v));
    static const char *const required[] = {"dtype", "shape", "data_offsets"};
    for (int i = 0; i < 3; i++)
        if (!made__json_get(v, required[i]))
            return made__error(MADE_E_FORMAT, "safetensors: tensor '%s': missing \"%s\"", name,
                               required[i]);
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->keys[i], "dtype") && strcmp(v->keys[i], "shape") &&
            strcmp(v->keys[i], "data_offsets"))
            return made__error(MADE_E_FORMAT,
                               "safetensors: tensor '%s': unexpected key \"%s\" (only dtype, "
                               "shape and data_offsets are allowed)",
                               name, v->keys[i]);
    return MADE_OK;
}

static int tensor_dtype(made__st_tensor *t, const char *name, const made__json *v, size_t *dtype)
{
    char vb[40];
    const made__json *dt = made__json_get(v, "dtype");
    if (dt->type != MADE__JSON_STRING)
        return made__error(MADE_E_FORMAT, "safetensors: tensor '%s': dtype is %s, not a string",
                           name, value_text(vb, dt));
    size_t d = 0;
    while (d < NUM_DTYPES && strcmp(dtypes[d].name, dt->string) != 0) d++;
    if (d == NUM_DTYPES)
        return made__error(MADE_E_FORMAT,
                           "safetensors: tensor '%s': unknown dtype '%.40s' (expected one of BOOL, "
                           "U8, I8, U16, I16, F16, BF16, U32, I32, F32, U64, I64, F64)",
                           name, dt->string);
    t->dtype = (made__st_dtype)d;
    *dtype = d;
    return MADE_OK;
}

static int tensor_shape(made__st_tensor *t, const char *name, const made__json *v)
{
    char vb[40];
    const made__json *sh = made__json_get(v, "shape");
    if (sh->type != MADE__JSON_ARRAY)
        return made__error(MADE_E_FORMAT, "safetensors: tensor '%s': shape is %s, not an array",
                           name, value_text(vb, sh));
    if (sh->count > MADE__ST_MAX_DIMS)
        return made__error(MADE_E_FORMAT,
                           "safetensors: tensor '%s': shape has %zu dimensions (at most %d)", name,
                           sh->count, MADE__ST_MAX_DIMS);
    t->ndim = (int)sh->count;
    for (int i = 0; i < t->ndim; i++)
        if (!as_size(&sh->items[i], &t->shape[i]))
            return made__error(MADE_E_FORMAT,
                               "safetensors: tensor '%s': shape[%d] is %s; expected a "
                               "non-negative integer (no fraction or exponent)",
                               name, i, value_text(vb, &sh->items[i]));
    return MADE_OK;
}

static int tensor_offsets(const char *name, const made__json *v, size_t *begin, size_t *end)
{
    char vb[40];
    const made__json *off = made__json_get(v, "data_offsets");
    if (off->type != MADE__JSON_ARRAY || off->count != 2)
        return made__error(MADE_E_FORMAT,
                           "safetensors: tensor '%s': data_offsets must be an array of 2 integers "
                           "[begin, end]",
                           name);
    for (int i = 0; i < 2; i++)
        if (!as_size(&off->items[i], i ? end : begin))
            return made__error(MADE_E_FORMAT,
                               "safetensors: tensor '%s': data_offsets[%d] is %s; expected a "
                               "non-negative integer (no fraction or exponent)",
                               name, i, value_text(vb, &off->items[i]));
    if (*begin > *end)
        return made__error(MADE_E_FORMAT,
                           "safetensors: tensor '%s': data_offsets [%zu, %zu] end before they begin",
                           name, *begin, *end);
    return MADE_OK;
}

static int read_tensor(made__st_tensor *t, const char *name, const made__json *v,
                       const unsigned char *base, size_t data_size)
{
    char sb[200];
    size_t d = 0, begin = 0, end = 0;
    if (!name[0]) return made__error(MADE_E_FORMAT, "safetensors: a tensor has an empty name");
    int rc = tensor_keys(name, v);
    if (!rc) rc = tensor_dtype(t, name, v, &d);
    if (!rc) rc = tensor_shape(t, name, v);
    if (!rc) rc = tensor_offsets(name, v, &begin, &end);
    if (rc) return rc;

    /* Product of the dims, then times the element size, each step checked (in
     * the reference's order, so the same files overflow) so that a hostile
     * shape cannot wrap around to a small size that happens to match. */
    size_t nbytes = 1;
    int overflow = 0;
    for (int i = 0; i < t->ndim && !overflow; i++) {
        if (t->shape[i] != 0 && nbytes > SIZE_MAX / t->shape[i]) overflow = 1;
        else nbytes *= t->shape[i];
    }
    if (overflow || nbytes > SIZE_MAX / dtypes[d].size)
        return made__error(MADE_E_FORMAT,
                           "safetensors: tensor '%s': shape %s of dtype %s is too large (its "
                           "byte size overflows)",
                           name, shape_text(sb, t->shape, t->ndim), dtypes[d].name);
    nbytes *= dtypes[d].size;
    if (end - begin != nbytes)
        return made__error(MADE_E_FORMAT,
                           "safetensors: tensor '%s': data_offsets [%zu, %zu] span %zu bytes but "
                           "dtype %s shape %s needs %zu",
                           name, begin, end, end - begin, dtypes[d].name,
                           shape_text(sb, t->shape, t->ndim), nbytes);
    if (end > data_size)
        return made__error(MADE_E_FORMAT,
                           "safetensors: tensor '%s': data_offsets [%zu, %zu] run past the end of "
                           "the data section (%zu bytes)",
                           name, begin, end, data_size);
    t->nbytes = nbytes;
    t->data = base + begin;
    t->name = copy_string(name);
    return t->name ? MADE_OK : MADE_E_NOMEM;
}

/* By position, then size (an empty tensor sits before a non-empty one at the
 * same offset), then name so the order does not depend on qsort. */
static int cmp_tensor(const void *a, const void *b)
{
    const made__st_tensor *x = a, *y = b;
    if (x->data != y->data) return x->data < y->data ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int validate(made__st_file *f)
{
    const unsigned char *b = f->bytes;
    if (f->size < 8)
        return made__error(MADE_E_FORMAT,
                           "safetensors: file is %zu bytes, too short for the 8-byte header length",
                           f->size);
    unsigned long long n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | b[i];
    if (n < 2)
        return made__error(MADE_E_FORMAT,
                           "safetensors: header length %llu is too small (the smallest header, "
                           "\"{}\", has 2 bytes)",
                           n);
    if (n > MADE__ST_MAX_HEADER)
        return made__error(MADE_E_FORMAT,
                           "safetensors: header length %llu exceeds the limit of %u bytes", n,
                           MADE__ST_MAX_HEADER);
    if (n > f->size - 8)
        return made__error(MADE_E_FORMAT,
                           "safetensors: header length %llu runs past the end of the file (%zu "
                           "bytes follow the length)",
                           n, f->size - 8);
    const char *hdr = (const char *)b + 8;
    if (hdr[0] != '{')
        return made__error(MADE_E_FORMAT, "safetensors: header does not start with '{'");

    made__json *root = NULL;
    int rc = made__json_parse(hdr, (size_t)n, &root);
    if (rc != MADE_OK) {
        if (rc == MADE_E_FORMAT) made__error_prefix("safetensors: header: ");
        return rc;
    }
    /* It began with '{' and parsed completely, so it is an object. */
    const unsigned char *base = b + 8 + n;
    size_t data_size = f->size - 8 - (size_t)n;
    const made__json *meta = made__json_get(root, META_KEY);
    size_t ntensors = root->count - (meta != NULL);
    if (ntensors > 0) {
        f->tensors = made__calloc(ntensors, sizeof *f->tensors);
        if (!f->tensors) rc = MADE_E_NOMEM;
    }
    if (rc == MADE_OK && meta) rc = read_metadata(f, meta);
    for (size_t i = 0; rc == MADE_OK && i < root->count; i++) {
        if (&root->items[i] == meta) continue;
        rc = read_tensor(&f->tensors[f->count], root->keys[i], &root->items[i], base, data_size);
        if (rc == MADE_OK) f->count++;
    }
    made__json_free(root);
    if (rc != MADE_OK) return rc;

    if (f->count > 1) qsort(f->tensors, f->count, sizeof *f->tensors, cmp_tensor);
    /* The ranges must tile [0, data_size): each starts where the previous one
     * ended. Anything else is a gap (unread bytes that could hide data) or an
     * overlap (two tensors aliasing the same bytes). */
    const unsigned char *expect = base;
    for (size_t i = 0; i < f->count; i++) {
        const made__st_tensor *t = &f->tensors[i];
        size_t tb = (size_t)(t->data - base), te = tb + t->nbytes, at = (size_t)(expect - base);
        if (t->data > expect)
            return made__error(MADE_E_FORMAT,
                               "safetensors: tensor '%s': data_offsets [%zu, %zu] leave a gap: "
                               "bytes [%zu, %zu) belong to no tensor",
                               t->name, tb, te, at, tb);
        if (t->data < expect) {
            const made__st_tensor *prev = &f->tensors[i - 1];
            size_t pb = (size_t)(prev->data - base);
            return made__error(MADE_E_FORMAT,
                               "safetensors: tensor '%s': data_offsets [%zu, %zu] overlap tensor "
                               "'%s' [%zu, %zu]",
                               t->name, tb, te, prev->name, pb, pb + prev->nbytes);
        }
        expect = t->data + t->nbytes;
    }
    if (expect != base + data_size)
        return made__error(MADE_E_FORMAT,
                           "safetensors: the data section has %zu bytes but the tensors cover only "
                           "%zu (%zu unexplained trailing bytes)",
                           data_size, (size_t)(expect - base), data_size - (size_t)(expect - base));
    return MADE_OK;
}

/* Takes ownership of bytes (also on failure). */
static int parse_owned(made__st_file *f, unsigned char *bytes, size_t size)
{
    memset(f, 0, sizeof *f);
    f->bytes = bytes;
    f->size = size;
    int rc = validate(f);
    if (rc != MADE_OK) made__st_free(f);
    return rc;
}

int made__st_parse(made__st_file *f, const unsigned char *bytes, size_t size)
{
    memset(f, 0, sizeof *f);
    if (!bytes && size) return made__error(MADE_E_INVAL, "safetensors: NULL bytes of size %zu", size);
    unsigned char *copy = made__malloc(size);
    if (!copy) return MADE_E_NOMEM;
    if (size) memcpy(copy, bytes, size);
    return parse_owned(f, copy, size);
}

int made__st_read(made__st_file *f, const char *path)
{
    return made__st_read_as(f, path, NULL);
}

int made__st_read_as(made__st_file *f, const char *path, const char *expected)
{
    memset(f, 0, sizeof *f);
    unsigned char *bytes;
    size_t size;
    int rc = made__read_file(path, &bytes, &size); /* its messages name the path */
    if (rc != MADE_OK) return rc;
    int is_data;
    const char *what = made__file_kind(bytes, size, &is_data);
    if (expected && what && !strstr(what, "safetensors") && !strstr(what, "made ")) {
        made__free(bytes);
        return made__error(MADE_E_FORMAT, "%s is %s, not %s", path, what, expected);
    }
    rc = parse_owned(f, bytes, size);
    if (rc != MADE_OK) made__error_prefix("%s: ", path);
    return rc;
}

const made__st_tensor *made__st_find(const made__st_file *f, const char *name)
{
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *made__st_meta(const made__st_file *f, const char *key)
{
    for (size_t i = 0; i < f->meta_count; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* Checks the entries and returns their byte sizes in nbytes[]. */
static int check_entries(const char *path, const made__st_entry *e, size_t count,
                         size_t *nbytes)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (!e[i].name || !e[i].name[0])
            return made__error(MADE_E_INVAL, "safetensors: %s: tensor %zu has no name", path, i);
        if (strcmp(e[i].name, META_KEY) == 0)
            return made__error(MADE_E_INVAL,
                               "safetensors: %s: \"" META_KEY "\" is reserved, not a tensor name",
                               path);
        if (!dtype_valid(e[i].dtype))
            return made__error(MADE_E_INVAL, "safetensors: %s: tensor '%s': invalid dtype %d",
                               path, e[i].name, (int)e[i].dtype);
        if (e[i].ndim < 0 || e[i].ndim > MADE__ST_MAX_DIMS)
            return made__error(MADE_E_INVAL,
                               "safetensors: %s: tensor '%s': ndim %d outside 0..%d", path,
                               e[i].name, e[i].ndim, MADE__ST_MAX_DIMS);
        size_t n = dtypes[e[i].dtype].size;
        for (int k = 0; k < e[i].ndim; k++) {
            if (e[i].shape[k] != 0 && n > SIZE_MAX / e[i].shape[k])
                return made__error(MADE_E_INVAL,
                                   "safetensors: %s: tensor '%s': byte size overflows", path,
                                   e[i].name);
            n *= e[i].shape[k];
        }
        if (n > 0 && !e[i].data)
            return made__error(MADE_E_INVAL, "safetensors: %s: tensor '%s': data is NULL", path,
                               e[i].name);
        /* Offsets must also be representable in the header (the reader takes
         * JSON integers up to LLONG_MAX). */
        if (n > (size_t)LLONG_MAX - total)
            return made__error(MADE_E_INVAL, "safetensors: %s: tensors too large in total", path);
        total += n;
        nbytes[i] = n;
    }
    return MADE_OK;
}

/* The JSON header: metadata first, then the tensors in order with their
 * offsets in the data section. Allocation failures show in h->failed. */
static void build_header(made__buf *h, const made__st_entry *entries, size_t count,
                         const size_t *nbytes, const char *const *meta_keys,
                         const char *const *meta_values, size_t meta_count)
{
    made__buf_append(h, "{", 1);
    if (meta_count) {
        made__buf_json_string(h, META_KEY);
        made__buf_append(h, ":{", 2);
        for (size_t i = 0; i < meta_count; i++) {
            if (i) made__buf_append(h, ",", 1);
            made__buf_json_string(h, meta_keys[i]);
            made__buf_append(h, ":", 1);
            made__buf_json_string(h, meta_values[i]);
        }
        made__buf_append(h, "}", 1);
    }
    size_t offset = 0;
    for (size_t i = 0; i < count; i++) {
        const made__st_entry *e = &entries[i];
        if (i || meta_count) made__buf_append(h, ",", 1);
        made__buf_json_string(h, e->name);
        made__buf_printf(h, ":{\"dtype\":\"%s\",\"shape\":[", dtypes[e->dtype].name);
        for (int k = 0; k < e->ndim; k++) made__buf_printf(h, "%s%zu", k ? "," : "", e->shape[k]);
        made__buf_printf(h, "],\"data_offsets\":[%zu,%zu]}", offset, offset + nbytes[i]);
        offset += nbytes[i];
    }
    made__buf_append(h, "}", 1);
}

/* Length, header, then the tensors' bytes, written atomically. */
static int write_file(const char *path, const made__buf *h, const made__st_entry *entries,
                      size_t count, const size_t *nbytes)
{
    unsigned char len8[8];
    unsigned long long hl = h->len;
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hl >> (8 * i));
    made__atomic *out = NULL;
    int rc = made__atomic_open(&out, path);
    if (rc != MADE_OK) return rc;
    rc = made__atomic_write(out, len8, sizeof len8);
    if (rc == MADE_OK) rc = made__atomic_write(out, h->data, h->len);
    for (size_t i = 0; rc == MADE_OK && i < count; i++)
        if (nbytes[i]) rc = made__atomic_write(out, entries[i].data, nbytes[i]);
    if (rc != MADE_OK) {
        made__atomic_abort(out);
        return rc;
    }
    return made__atomic_commit(out); /* frees out whatever happens */
}

int made__st_write(const char *path, const made__st_entry *entries, size_t count,
                   const char *const *meta_keys, const char *const *meta_values,
                   size_t meta_count)
{
    if (!path) return made__error(MADE_E_INVAL, "safetensors: path is NULL");
    if (count && !entries)
        return made__error(MADE_E_INVAL, "safetensors: %s: entries is NULL", path);
    if (meta_count && (!meta_keys || !meta_values))
        return made__error(MADE_E_INVAL, "safetensors: %s: metadata arrays are NULL", path);
    for (size_t i = 0; i < meta_count; i++)
        if (!meta_keys[i] || !meta_values[i])
            return made__error(MADE_E_INVAL, "safetensors: %s: metadata entry %zu is NULL", path,
                               i);

    size_t *nbytes = made__calloc(count ? count : 1, sizeof *nbytes);
    if (!nbytes) return MADE_E_NOMEM;
    int rc = check_entries(path, entries, count, nbytes);
    made__buf h;
    made__buf_init(&h);
    made__json *check = NULL;
    if (rc != MADE_OK) goto done;

    build_header(&h, entries, count, nbytes, meta_keys, meta_values, meta_count);
    if (h.failed) {
        rc = MADE_E_NOMEM;
        goto done;
    }
    /* Never write a file our own reader would refuse: this catches duplicate
     * names or metadata keys and names that are not valid UTF-8. */
    rc = made__json_parse(h.data, h.len, &check);
    if (rc != MADE_OK) {
        if (rc == MADE_E_FORMAT) {
            made__error_prefix("safetensors: %s: cannot write this header: ", path);
            rc = MADE_E_INVAL;
        }
        goto done;
    }
    /* Pad with spaces so the data section starts 8-byte aligned in the file. */
    while ((8 + h.len) % 8 != 0) made__buf_append(&h, " ", 1);
    if (h.failed) {
        rc = MADE_E_NOMEM;
        goto done;
    }
    if (h.len > MADE__ST_MAX_HEADER) {
        rc = made__error(MADE_E_INVAL, "safetensors: %s: header of %zu bytes exceeds the limit of %u",
                         path, h.len, MADE__ST_MAX_HEADER);
        goto done;
    }

    rc = write_file(path, &h, entries, count, nbytes);

done:
    made__json_free(check);
    made__buf_free(&h);
    made__free(nbytes);
    return rc;
}

/* Finds a tensor and checks its dtype and shape (rank 1 or 2). */
const made__st_tensor *made__st_expect(const made__st_file *f, const char *name, made__st_dtype dt,
                                     int ndim, size_t d0, size_t d1, int *rc)
{
    const made__st_tensor *t = made__st_find(f, name);
    if (!t) {
        *rc = made__error(MADE_E_FORMAT, "missing tensor '%s'", name);
        return NULL;
    }
    if (t->dtype != dt || t->ndim != ndim || t->shape[0] != d0 || (ndim == 2 && t->shape[1] != d1)) {
        char want[64], got[160];
        size_t n = (size_t)snprintf(got, sizeof got, "%s [", made__st_dtype_name(t->dtype));
        for (int i = 0; i < t->ndim && n < sizeof got; i++)
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%zu", i ? ", " : "", t->shape[i]);
        if (n < sizeof got) snprintf(got + n, sizeof got - n, "]");
        if (ndim == 2)
            snprintf(want, sizeof want, "%s [%zu, %zu]", made__st_dtype_name(dt), d0, d1);
        else
            snprintf(want, sizeof want, "%s [%zu]", made__st_dtype_name(dt), d0);
        *rc = made__error(MADE_E_FORMAT, "tensor '%s': expected %s, got %s", name, want, got);
        return NULL;
    }
    return t;
}

