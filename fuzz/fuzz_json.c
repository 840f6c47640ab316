/*
 * fuzz_json.c - made__json_parse, the strict JSON parser behind safetensors
 * headers and model configs, fed the input bytes as they are (no NUL).
 *
 * Beyond "no crash, no leak" it checks two round trips:
 *   - a parsed document printed back (strings re-escaped, integers exactly,
 *     other numbers with 17 digits) parses to the same tree;
 *   - a document that is a valid model config (made__config_from_json plus
 *     made_config_validate) survives made_config_to_json -> parse -> read
 *     unchanged, and prints to the same text.
 */
#include <string.h>

#include "core/internal.h"
#include "fuzz.h"
#include "io/buf.h"
#include "io/json.h"
#include "net/config.h"

static void emit(made__buf *b, const made__json *v)
{
    switch (v->type) {
    case MADE__JSON_NULL: made__buf_append(b, "null", 4); break;
    case MADE__JSON_BOOL: made__buf_printf(b, "%s", v->boolean ? "true" : "false"); break;
    case MADE__JSON_NUMBER:
        if (v->is_integer) made__buf_printf(b, "%lld", v->integer);
        else made__buf_printf(b, "%.17g", v->number);
        break;
    case MADE__JSON_STRING: made__buf_json_string(b, v->string); break;
    case MADE__JSON_ARRAY:
    case MADE__JSON_OBJECT: {
        int obj = v->type == MADE__JSON_OBJECT;
        made__buf_append(b, obj ? "{" : "[", 1);
        for (size_t i = 0; i < v->count; i++) {
            if (i) made__buf_append(b, ",", 1);
            if (obj) {
                made__buf_json_string(b, v->keys[i]);
                made__buf_append(b, ":", 1);
            }
            emit(b, &v->items[i]);
        }
        made__buf_append(b, obj ? "}" : "]", 1);
        break;
    }
    }
}

static int same(const made__json *a, const made__json *b)
{
    if (a->type != b->type) return 0;
    switch (a->type) {
    case MADE__JSON_NULL: return 1;
    case MADE__JSON_BOOL: return a->boolean == b->boolean;
    case MADE__JSON_NUMBER:
        /* An integer too large for long long is printed with %.17g and comes
         * back as a non-integer; its double must still agree. */
        if (a->is_integer && (!b->is_integer || a->integer != b->integer)) return 0;
        return a->number == b->number;
    case MADE__JSON_STRING: return strcmp(a->string, b->string) == 0;
    default:
        if (a->count != b->count) return 0;
        for (size_t i = 0; i < a->count; i++) {
            if (a->type == MADE__JSON_OBJECT && strcmp(a->keys[i], b->keys[i]) != 0) return 0;
            if (!same(&a->items[i], &b->items[i])) return 0;
        }
        return 1;
    }
}

/* Strings are C strings of valid UTF-8: no NUL inside, so strlen is the length. */
static void check_tree(const made__json *v)
{
    FUZZ_CHECK((unsigned)v->type <= MADE__JSON_OBJECT);
    if (v->type == MADE__JSON_STRING) FUZZ_CHECK(v->string != NULL);
    if (v->type == MADE__JSON_ARRAY || v->type == MADE__JSON_OBJECT) {
        FUZZ_CHECK(v->count == 0 || v->items != NULL);
        for (size_t i = 0; i < v->count; i++) {
            if (v->type == MADE__JSON_OBJECT) {
                FUZZ_CHECK(v->keys[i] != NULL);
                FUZZ_CHECK(made__json_get(v, v->keys[i]) == &v->items[i]); /* keys are unique */
            }
            check_tree(&v->items[i]);
        }
    }
}

static int same_init(const made_initializer *a, const made_initializer *b)
{
    return a->kind == b->kind && a->value == b->value && a->minval == b->minval &&
           a->maxval == b->maxval && a->mean == b->mean && a->stddev == b->stddev &&
           a->scale == b->scale && a->mode == b->mode && a->distribution == b->distribution;
}

static void config_round_trip(const made__json *j)
{
    made_config cfg, back;
    int *order = NULL, *order2 = NULL;
    if (made__config_from_json(j, &cfg, &order) != MADE_OK || made_config_validate(&cfg) != MADE_OK) {
        made__free(order);
        return;
    }
    int len = made_config_to_json(&cfg, NULL, 0);
    FUZZ_CHECK(len > 0);
    char *text = malloc((size_t)len + 1);
    FUZZ_CHECK(text != NULL);
    FUZZ_CHECK(made_config_to_json(&cfg, text, (size_t)len + 1) == len);
    FUZZ_CHECK(strlen(text) == (size_t)len);
    made__json *j2 = NULL;
    FUZZ_CHECK(made__json_parse(text, (size_t)len, &j2) == MADE_OK);
    FUZZ_CHECK(made__config_from_json(j2, &back, &order2) == MADE_OK);
    FUZZ_CHECK(made_config_validate(&back) == MADE_OK);
    FUZZ_CHECK(back.event_size == cfg.event_size && back.params == cfg.params);
    FUZZ_CHECK(back.n_hidden == cfg.n_hidden);
    FUZZ_CHECK(memcmp(back.hidden_units, cfg.hidden_units, (size_t)cfg.n_hidden * sizeof(int)) == 0);
    FUZZ_CHECK(back.input_order == cfg.input_order);
    if (cfg.input_order == MADE_ORDER_EXPLICIT)
        FUZZ_CHECK(memcmp(back.explicit_order, cfg.explicit_order,
                          (size_t)cfg.event_size * sizeof(int)) == 0);
    FUZZ_CHECK(back.hidden_degrees == cfg.hidden_degrees && back.activation == cfg.activation);
    FUZZ_CHECK(back.use_bias == cfg.use_bias);
    FUZZ_CHECK(same_init(&back.kernel_initializer, &cfg.kernel_initializer));
    FUZZ_CHECK(same_init(&back.bias_initializer, &cfg.bias_initializer));
    FUZZ_CHECK(back.conditional_size == cfg.conditional_size);
    FUZZ_CHECK(back.conditional_layers == cfg.conditional_layers);
    FUZZ_CHECK(back.validate_args == cfg.validate_args && back.seed == cfg.seed);
    FUZZ_CHECK(back.dist.kind == cfg.dist.kind && back.dist.k == cfg.dist.k);
    FUZZ_CHECK(back.num_masks == cfg.num_masks);
    char *text2 = malloc((size_t)len + 1);
    FUZZ_CHECK(text2 != NULL);
    FUZZ_CHECK(made_config_to_json(&back, text2, (size_t)len + 1) == len);
    FUZZ_CHECK(strcmp(text, text2) == 0);
    free(text2);
    free(text);
    made__json_free(j2);
    made__free(order2);
    made__free(order);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    made__json *j = NULL;
    int rc = made__json_parse((const char *)data, size, &j);
    FUZZ_CHECK(rc == MADE_OK || rc == MADE_E_FORMAT || rc == MADE_E_NOMEM);
    FUZZ_CHECK((rc == MADE_OK) == (j != NULL));
    if (rc != MADE_OK) {
        FUZZ_CHECK(made_last_error()[0] != '\0');
        return 0;
    }
    check_tree(j);

    made__buf b;
    made__buf_init(&b);
    emit(&b, j);
    FUZZ_CHECK(!b.failed);
    made__json *again = NULL;
    rc = made__json_parse(b.data, b.len, &again);
    if (rc != MADE_OK) fprintf(stderr, "fuzz: reprinted JSON does not parse: %s\n", made_last_error());
    FUZZ_CHECK(rc == MADE_OK);
    FUZZ_CHECK(same(j, again));
    made__json_free(again);
    made__buf_free(&b);

    config_round_trip(j);
    made__json_free(j);
    return 0;
}
