/*
 * json.h - a small strict JSON parser (RFC 8259) for safetensors headers, model
 * configs and test fixtures. Depth and size limits make hostile input safe.
 */
#ifndef MADE_JSON_H
#define MADE_JSON_H

#include <stddef.h>

typedef enum made__json_type {
    MADE__JSON_NULL,
    MADE__JSON_BOOL,
    MADE__JSON_NUMBER,
    MADE__JSON_STRING,
    MADE__JSON_ARRAY,
    MADE__JSON_OBJECT
} made__json_type;

typedef struct made__json made__json;
struct made__json {
    made__json_type type;
    int boolean;        /* BOOL */
    double number;      /* NUMBER */
    int is_integer;     /* NUMBER written without fraction or exponent */
    long long integer;  /* NUMBER, exact when is_integer and it fits */
    char *string;       /* STRING (NUL-terminated, UTF-8; embedded NUL rejected) */
    size_t count;       /* ARRAY / OBJECT: number of items */
    made__json *items;  /* ARRAY / OBJECT: values, in file order */
    char **keys;        /* OBJECT: keys, in file order (duplicates rejected) */
};

/* Parses text[0..len). On error returns MADE_E_FORMAT with a message giving the
 * byte offset and what was expected. Maximum nesting depth 64. */
int made__json_parse(const char *text, size_t len, made__json **out);
void made__json_free(made__json *v);
/* Member of an object by key, or NULL (also NULL if v is not an object). */
const made__json *made__json_get(const made__json *v, const char *key);

#endif
