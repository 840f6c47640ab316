/* config.c - the configuration struct: defaults, names, parsing, validation and
 * its JSON form (stored in model files). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/names.h"
#include "io/buf.h"
#include "net/config.h"

void made_config_default(made_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->event_size = 0;
    cfg->params = 1;
    cfg->input_order = MADE_ORDER_LEFT_TO_RIGHT;
    cfg->hidden_degrees = MADE_DEGREES_EQUAL;
    cfg->activation = MADE_ACT_LINEAR;
    cfg->use_bias = 1;
    cfg->kernel_initializer = made_initializer_default(MADE_INIT_GLOROT_UNIFORM);
    cfg->bias_initializer = made_initializer_default(MADE_INIT_ZEROS);
    cfg->conditional_layers = MADE_COND_ALL_LAYERS;
    cfg->dist.kind = MADE_DIST_NONE;
    cfg->num_masks = 1;
}

made_initializer made_initializer_default(made_init_kind kind)
{
    made_initializer in;
    memset(&in, 0, sizeof in);
    in.kind = kind;
    /* Keras' defaults for each initializer's arguments. */
    in.minval = -0.05;
    in.maxval = 0.05;
    in.mean = 0.0;
    in.stddev = 0.05;
    in.scale = 1.0;
    in.mode = MADE_FAN_IN;
    in.distribution = MADE_VS_TRUNCATED_NORMAL;
    return in;
}

/* ---- names ---------------------------------------------------------------- */

static const char *const activation_names[MADE_ACT_COUNT] = {
    [MADE_ACT_LINEAR] = "linear",     [MADE_ACT_RELU] = "relu",
    [MADE_ACT_TANH] = "tanh",         [MADE_ACT_SIGMOID] = "sigmoid",
    [MADE_ACT_ELU] = "elu",           [MADE_ACT_SELU] = "selu",
    [MADE_ACT_SOFTPLUS] = "softplus", [MADE_ACT_SOFTSIGN] = "softsign",
    [MADE_ACT_SWISH] = "swish",       [MADE_ACT_GELU] = "gelu",
    [MADE_ACT_EXPONENTIAL] = "exponential", [MADE_ACT_HARD_SIGMOID] = "hard_sigmoid",
};
static const char *const activation_aliases[] = {"none", "linear", "None", "linear",
                                                 "silu", "swish", NULL};
static const made__names activation_table = {"activation", activation_names, MADE_ACT_COUNT,
                                             MADE_ACT_COUNT, activation_aliases, NULL, NULL};
MADE__NAME_FUNCTIONS(activation, made_activation, activation_table)

static const char *const init_names[MADE_INIT_COUNT] = {
    [MADE_INIT_GLOROT_UNIFORM] = "glorot_uniform", [MADE_INIT_GLOROT_NORMAL] = "glorot_normal",
    [MADE_INIT_HE_UNIFORM] = "he_uniform",         [MADE_INIT_HE_NORMAL] = "he_normal",
    [MADE_INIT_LECUN_UNIFORM] = "lecun_uniform",   [MADE_INIT_LECUN_NORMAL] = "lecun_normal",
    [MADE_INIT_ZEROS] = "zeros",                   [MADE_INIT_ONES] = "ones",
    [MADE_INIT_CONSTANT] = "constant",             [MADE_INIT_RANDOM_UNIFORM] = "random_uniform",
    [MADE_INIT_RANDOM_NORMAL] = "random_normal",   [MADE_INIT_TRUNCATED_NORMAL] = "truncated_normal",
    [MADE_INIT_VARIANCE_SCALING] = "variance_scaling",
};
static const char *const init_aliases[] = {"zero", "zeros", "one", "ones", NULL};
static const made__names init_table = {"initializer", init_names, MADE_INIT_COUNT,
                                       MADE_INIT_COUNT, init_aliases, NULL, NULL};
MADE__NAME_FUNCTIONS(init, made_init_kind, init_table)

/* "explicit" has a name (model files, made info) but is not parsed: an
 * explicit order is given as the permutation itself. */
static const char *const order_names[] = {
    [MADE_ORDER_LEFT_TO_RIGHT] = "left-to-right", [MADE_ORDER_RIGHT_TO_LEFT] = "right-to-left",
    [MADE_ORDER_RANDOM] = "random",               [MADE_ORDER_EXPLICIT] = "explicit",
};
static const made__names order_table = {
    "input_order", order_names, 4, 3, NULL,
    "left-to-right, right-to-left, random, or a 1-based permutation such as 2,3,1", "invalid"};
MADE__NAME_FUNCTIONS(order, made_order, order_table)

static const char *const degrees_names[] = {[MADE_DEGREES_EQUAL] = "equal",
                                            [MADE_DEGREES_RANDOM] = "random"};
static const made__names degrees_table = {"hidden_degrees", degrees_names, 2, 2, NULL,
                                          "equal or random", "invalid"};
MADE__NAME_FUNCTIONS(degrees, made_degrees, degrees_table)

static const char *const cond_names[] = {[MADE_COND_ALL_LAYERS] = "all_layers",
                                         [MADE_COND_FIRST_LAYER] = "first_layer"};
static const made__names cond_table = {"conditional_input_layers", cond_names, 2, 2, NULL,
                                       "all_layers or first_layer", NULL};
MADE__NAME_FUNCTIONS(cond_layers, made_cond_layers, cond_table)

static const char *const dist_names[] = {
    [MADE_DIST_NONE] = "none",         [MADE_DIST_BERNOULLI] = "bernoulli",
    [MADE_DIST_GAUSSIAN] = "gaussian", [MADE_DIST_CATEGORICAL] = "categorical",
    [MADE_DIST_MOG] = "mog",
};
static const made__names dist_table = {"distribution", dist_names, 5, 5, NULL,
                                       "bernoulli, gaussian, categorical:K or mog:K", NULL};
MADE__NAME_FUNCTIONS(dist_kind, made_dist_kind, dist_table)

/* Arguments of variance_scaling (Keras spells them so). */
static const char *const fan_names[] = {[MADE_FAN_IN] = "fan_in", [MADE_FAN_OUT] = "fan_out",
                                        [MADE_FAN_AVG] = "fan_avg"};
static const made__names fan_table = {"mode", fan_names, 3, 3, NULL, NULL, NULL};
static const char *const vs_dist_names[] = {
    [MADE_VS_TRUNCATED_NORMAL] = "truncated_normal",
    [MADE_VS_UNTRUNCATED_NORMAL] = "untruncated_normal", [MADE_VS_UNIFORM] = "uniform"};
static const char *const vs_dist_aliases[] = {"normal", "truncated_normal", NULL};
static const made__names vs_dist_table = {"distribution", vs_dist_names, 3, 3, vs_dist_aliases,
                                          NULL, NULL};

/* Index of name in names[0..n), or -1. */
static int lookup(const char *name, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

/* Parses a finite double occupying all of text. An underflow (ERANGE with a
 * subnormal or zero result) is fine: made_initializer_format writes a subnormal
 * such as 0x1p-1074 as 4.9406564584124654e-324, which strtod reports as an
 * underflow, and every config made writes must read back (fuzz/crashes/cli/). */
static int parse_double(const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* Splits "a,b" into two doubles. */
static int parse_pair(const char *text, double *a, double *b)
{
    char tmp[128];
    if (strlen(text) >= sizeof tmp) return -1;
    strcpy(tmp, text);
    char *comma = strchr(tmp, ',');
    if (!comma) return -1;
    *comma = '\0';
    return parse_double(tmp, a) || parse_double(comma + 1, b) ? -1 : 0;
}

static int parse_vs_args(const char *args, made_initializer *in)
{
    char tmp[256];
    if (strlen(args) >= sizeof tmp) return -1;
    strcpy(tmp, args);
    for (char *save = NULL, *kv = strtok_r(tmp, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return -1;
        *eq = '\0';
        const char *val = eq + 1;
        int i;
        if (strcmp(kv, "scale") == 0) {
            if (parse_double(val, &in->scale)) return -1;
        } else if (strcmp(kv, "mode") == 0) {
            if ((i = made__name_find(&fan_table, val)) < 0) return -1;
            in->mode = (made_fan_mode)i;
        } else if (strcmp(kv, "distribution") == 0) {
            if ((i = made__name_find(&vs_dist_table, val)) < 0) return -1;
            in->distribution = (made_vs_distribution)i;
        } else {
            return -1;
        }
    }
    return 0;
}

int made_initializer_parse(const char *text, made_initializer *out)
{
    char name[64];
    const char *colon = strchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    int kind = -1;
    if (n < sizeof name) {
        memcpy(name, text, n);
        name[n] = '\0';
        kind = made__name_find(&init_table, name);
    }
    if (kind < 0) {
        made__name_parse(&init_table, text, &kind); /* the error, naming the whole text */
        return MADE_E_INVAL;
    }
    made_initializer in = made_initializer_default((made_init_kind)kind);
    const char *args = colon ? colon + 1 : NULL;
    int bad = 0;
    switch (in.kind) {
    case MADE_INIT_CONSTANT:
        bad = args ? parse_double(args, &in.value) : 0;
        break;
    case MADE_INIT_RANDOM_UNIFORM:
        bad = args ? parse_pair(args, &in.minval, &in.maxval) || in.minval > in.maxval : 0;
        break;
    case MADE_INIT_RANDOM_NORMAL:
    case MADE_INIT_TRUNCATED_NORMAL:
        bad = args ? parse_pair(args, &in.mean, &in.stddev) || in.stddev < 0 : 0;
        break;
    case MADE_INIT_VARIANCE_SCALING:
        bad = args ? parse_vs_args(args, &in) || !(in.scale > 0) : 0;
        break;
    default:
        bad = args != NULL;
    }
    if (bad)
        return made__error(MADE_E_INVAL,
                           "initializer: bad arguments in \"%s\" (forms: constant:V, "
                           "random_uniform:MIN,MAX, random_normal:MEAN,STDDEV, "
                           "truncated_normal:MEAN,STDDEV, variance_scaling:scale=S,"
                           "mode=fan_in|fan_out|fan_avg,distribution=truncated_normal|"
                           "untruncated_normal|uniform)", text);
    *out = in;
    return MADE_OK;
}

int made_initializer_format(char *buf, size_t size, const made_initializer *in)
{
    const char *name = made_init_name(in->kind);
    switch (in->kind) {
    case MADE_INIT_CONSTANT:
        return snprintf(buf, size, "%s:%.17g", name, in->value);
    case MADE_INIT_RANDOM_UNIFORM:
        return snprintf(buf, size, "%s:%.17g,%.17g", name, in->minval, in->maxval);
    case MADE_INIT_RANDOM_NORMAL:
    case MADE_INIT_TRUNCATED_NORMAL:
        return snprintf(buf, size, "%s:%.17g,%.17g", name, in->mean, in->stddev);
    case MADE_INIT_VARIANCE_SCALING:
        return snprintf(buf, size, "%s:scale=%.17g,mode=%s,distribution=%s", name, in->scale,
                        fan_names[in->mode], vs_dist_names[in->distribution]);
    default:
        return snprintf(buf, size, "%s", name);
    }
}

int made_dist_parse(const char *text, made_dist *out)
{
    made_dist d = {MADE_DIST_NONE, 0};
    const char *colon = strchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    char name[16] = "";
    if (n < sizeof name) {
        memcpy(name, text, n);
        name[n] = '\0';
    }
    int kind = made__name_find(&dist_table, name);
    int counted = kind == MADE_DIST_CATEGORICAL || kind == MADE_DIST_MOG;
    if (kind < 0 || (colon && !counted)) {
        made__name_parse(&dist_table, text, &kind); /* the error, naming the whole text */
        return MADE_E_INVAL;
    }
    d.kind = (made_dist_kind)kind;
    if (counted) {
        char *end;
        errno = 0;
        long k = colon ? strtol(colon + 1, &end, 10) : 0;
        int min = d.kind == MADE_DIST_CATEGORICAL ? 2 : 1;
        if (!colon || end == colon + 1 || *end != '\0' || errno || k < min || k > 65536)
            return made__error(MADE_E_INVAL,
                               "distribution: \"%s\" needs a count, e.g. %s:%d (%s from %d to 65536)",
                               text, made_dist_kind_name(d.kind),
                               d.kind == MADE_DIST_CATEGORICAL ? 256 : 5,
                               d.kind == MADE_DIST_CATEGORICAL ? "categories" : "components", min);
        d.k = (int)k;
    }
    *out = d;
    return MADE_OK;
}

int made_dist_format(char *buf, size_t size, made_dist d)
{
    const char *name = made_dist_kind_name(d.kind);
    if (d.kind == MADE_DIST_CATEGORICAL || d.kind == MADE_DIST_MOG)
        return snprintf(buf, size, "%s:%d", name, d.k);
    return snprintf(buf, size, "%s", strcmp(name, "?") ? name : "none");
}

int made_dist_params(made_dist d)
{
    switch (d.kind) {
    case MADE_DIST_BERNOULLI: return 1;
    case MADE_DIST_GAUSSIAN: return 2;
    case MADE_DIST_CATEGORICAL: return d.k;
    case MADE_DIST_MOG: return 3 * d.k;
    default: return 0;
    }
}

/* ---- validation ------------------------------------------------------------ */

/* Limits that keep every size product far from overflow and every model
 * allocatable; they are documented in docs/cli.md. */
#define MAX_EVENT 1000000
#define MAX_UNITS 1000000
#define MAX_PARAMS 1000000

static int validate_initializer(const char *what, const made_initializer *in)
{
    if ((unsigned)in->kind >= MADE_INIT_COUNT)
        return made__error(MADE_E_INVAL, "%s: unknown initializer kind %d", what, (int)in->kind);
    if (!isfinite(in->value) || !isfinite(in->minval) || !isfinite(in->maxval) ||
        !isfinite(in->mean) || !isfinite(in->stddev) || !isfinite(in->scale))
        return made__error(MADE_E_INVAL, "%s: arguments must be finite", what);
    if (in->kind == MADE_INIT_RANDOM_UNIFORM && in->minval > in->maxval)
        return made__error(MADE_E_INVAL, "%s: minval %g > maxval %g", what, in->minval, in->maxval);
    if ((in->kind == MADE_INIT_RANDOM_NORMAL || in->kind == MADE_INIT_TRUNCATED_NORMAL) &&
        in->stddev < 0)
        return made__error(MADE_E_INVAL, "%s: stddev %g < 0", what, in->stddev);
    if (in->kind == MADE_INIT_VARIANCE_SCALING &&
        (!(in->scale > 0) || (unsigned)in->mode > MADE_FAN_AVG ||
         (unsigned)in->distribution > MADE_VS_UNIFORM))
        return made__error(MADE_E_INVAL, "%s: variance_scaling needs scale > 0 and a known mode "
                           "and distribution", what);
    return MADE_OK;
}

/* O(E): one pass with a table of E bits marking the values seen. Telling a
 * permutation from a list with a repeat needs E bits of memory (the caller's
 * array is const, and no read-only method with constant memory does it in
 * linear time); E/8 bytes, 125 KB at the largest E, are too many for a
 * thread's stack, so the table is allocated here and freed before returning.
 * made_config_validate is the only caller; building a model from a validated
 * config does not check again. */
int made__check_order(const int *order, int e)
{
    if (!order)
        return made__error(MADE_E_INVAL, "input_order: explicit order given as NULL (expected a "
                           "1-based permutation of 1..%d)", e);
    unsigned char *seen = made__calloc((size_t)e / 8 + 1, 1);
    if (!seen) return MADE_E_NOMEM;
    int rc = MADE_OK;
    for (int j = 0; j < e && rc == MADE_OK; j++) {
        int v = order[j];
        if (v < 1 || v > e) {
            rc = made__error(MADE_E_INVAL,
                             "input_order: %d at position %d is not in 1..%d (orders are "
                             "1-based permutations, as in TFP)", v, j + 1, e);
        } else if (seen[(v - 1) / 8] & (1u << ((v - 1) % 8))) {
            int k = 0; /* the earlier position, for the message (error path only) */
            while (order[k] != v) k++;
            rc = made__error(MADE_E_INVAL,
                             "input_order: %d appears twice (positions %d and %d); it must "
                             "be a permutation of 1..%d", v, k + 1, j + 1, e);
        } else {
            seen[(v - 1) / 8] |= (unsigned char)(1u << ((v - 1) % 8));
        }
    }
    made__free(seen);
    return rc;
}

int made_config_validate(const made_config *cfg)
{
    made__clear_error();
    if (!cfg) return made__error(MADE_E_INVAL, "config: NULL");
    if (cfg->event_size < 1 || cfg->event_size > MAX_EVENT)
        return made__error(MADE_E_INVAL, "event_size: %d is out of range (1..%d)",
                           cfg->event_size, MAX_EVENT);
    if (cfg->params < 1 || cfg->params > MAX_PARAMS)
        return made__error(MADE_E_INVAL, "params: %d is out of range (1..%d)", cfg->params,
                           MAX_PARAMS);
    if ((size_t)cfg->event_size * (size_t)cfg->params > (size_t)MAX_UNITS * 16)
        return made__error(MADE_E_INVAL, "event_size x params = %lld output units is too large",
                           (long long)cfg->event_size * cfg->params);
    if (cfg->n_hidden < 0 || cfg->n_hidden > MADE_MAX_HIDDEN)
        return made__error(MADE_E_INVAL, "hidden_units: %d layers is out of range (0..%d)",
                           cfg->n_hidden, MADE_MAX_HIDDEN);
    for (int l = 0; l < cfg->n_hidden; l++)
        if (cfg->hidden_units[l] < 1 || cfg->hidden_units[l] > MAX_UNITS)
            return made__error(MADE_E_INVAL, "hidden_units: layer %d has %d units (expected 1..%d)",
                               l + 1, cfg->hidden_units[l], MAX_UNITS);
    if ((unsigned)cfg->input_order > MADE_ORDER_EXPLICIT)
        return made__error(MADE_E_INVAL, "input_order: unknown kind %d", (int)cfg->input_order);
    if (cfg->input_order == MADE_ORDER_EXPLICIT) {
        int rc = made__check_order(cfg->explicit_order, cfg->event_size);
        if (rc) return rc;
    }
    if ((unsigned)cfg->hidden_degrees > MADE_DEGREES_RANDOM)
        return made__error(MADE_E_INVAL, "hidden_degrees: unknown kind %d",
                           (int)cfg->hidden_degrees);
    if ((unsigned)cfg->activation >= MADE_ACT_COUNT)
        return made__error(MADE_E_INVAL, "activation: unknown kind %d", (int)cfg->activation);
    if (cfg->use_bias != 0 && cfg->use_bias != 1)
        return made__error(MADE_E_INVAL, "use_bias: %d (expected 0 or 1)", cfg->use_bias);
    int rc = validate_initializer("kernel_initializer", &cfg->kernel_initializer);
    if (!rc) rc = validate_initializer("bias_initializer", &cfg->bias_initializer);
    if (rc) return rc;
    if (cfg->conditional_size < 0 || cfg->conditional_size > MAX_EVENT)
        return made__error(MADE_E_INVAL, "conditional_size: %d is out of range (0..%d)",
                           cfg->conditional_size, MAX_EVENT);
    if ((unsigned)cfg->conditional_layers > MADE_COND_FIRST_LAYER)
        return made__error(MADE_E_INVAL, "conditional_input_layers: unknown kind %d",
                           (int)cfg->conditional_layers);
    if (cfg->validate_args != 0 && cfg->validate_args != 1)
        return made__error(MADE_E_INVAL, "validate_args: %d (expected 0 or 1)", cfg->validate_args);
    if ((unsigned)cfg->dist.kind > MADE_DIST_MOG)
        return made__error(MADE_E_INVAL, "distribution: unknown kind %d", (int)cfg->dist.kind);
    if (cfg->dist.kind == MADE_DIST_CATEGORICAL && (cfg->dist.k < 2 || cfg->dist.k > 65536))
        return made__error(MADE_E_INVAL, "distribution: categorical needs 2..65536 categories, "
                           "got %d", cfg->dist.k);
    if (cfg->dist.kind == MADE_DIST_MOG && (cfg->dist.k < 1 || cfg->dist.k > 65536))
        return made__error(MADE_E_INVAL, "distribution: mog needs 1..65536 components, got %d",
                           cfg->dist.k);
    if (cfg->dist.kind != MADE_DIST_NONE && made_dist_params(cfg->dist) != cfg->params) {
        char name[64];
        made_dist_format(name, sizeof name, cfg->dist);
        return made__error(MADE_E_INVAL, "params: %d, but distribution %s needs %d", cfg->params,
                           name, made_dist_params(cfg->dist));
    }
    if (cfg->num_masks < 1 || cfg->num_masks > 4096)
        return made__error(MADE_E_INVAL, "num_masks: %d is out of range (1..4096)", cfg->num_masks);
    if (cfg->num_masks > 1 && cfg->input_order != MADE_ORDER_RANDOM &&
        (cfg->hidden_degrees != MADE_DEGREES_RANDOM || cfg->n_hidden == 0))
        return made__error(MADE_E_INVAL,
                           "num_masks: %d masks would all be identical; use input_order random "
                           "(order-agnostic) and/or hidden_degrees random with hidden layers "
                           "(connectivity-agnostic)", cfg->num_masks);
    return MADE_OK;
}

/* ---- JSON form ------------------------------------------------------------- */

int made_config_to_json(const made_config *cfg, char *out, size_t size)
{
    made__clear_error();
    int rc = made_config_validate(cfg);
    if (rc) return rc;
    return made__config_to_json_valid(cfg, out, size);
}

int made__config_to_json_valid(const made_config *cfg, char *out, size_t size)
{
    made__buf b;
    made__buf_init(&b);
    char text[256];
    made__buf_printf(&b, "{\"event_size\":%d,\"params\":%d,\"hidden_units\":[", cfg->event_size,
                     cfg->params);
    for (int l = 0; l < cfg->n_hidden; l++)
        made__buf_printf(&b, "%s%d", l ? "," : "", cfg->hidden_units[l]);
    made__buf_printf(&b, "],\"input_order\":");
    if (cfg->input_order == MADE_ORDER_EXPLICIT) {
        made__buf_printf(&b, "[");
        for (int j = 0; j < cfg->event_size; j++)
            made__buf_printf(&b, "%s%d", j ? "," : "", cfg->explicit_order[j]);
        made__buf_printf(&b, "]");
    } else {
        made__buf_json_string(&b, made_order_name(cfg->input_order));
    }
    made__buf_printf(&b, ",\"hidden_degrees\":\"%s\",\"activation\":\"%s\",\"use_bias\":%s,",
                     made_degrees_name(cfg->hidden_degrees), made_activation_name(cfg->activation),
                     cfg->use_bias ? "true" : "false");
    made_initializer_format(text, sizeof text, &cfg->kernel_initializer);
    made__buf_printf(&b, "\"kernel_initializer\":");
    made__buf_json_string(&b, text);
    made_initializer_format(text, sizeof text, &cfg->bias_initializer);
    made__buf_printf(&b, ",\"bias_initializer\":");
    made__buf_json_string(&b, text);
    made_dist_format(text, sizeof text, cfg->dist);
    made__buf_printf(&b,
                     ",\"conditional_size\":%d,\"conditional_input_layers\":\"%s\","
                     "\"validate_args\":%s,\"seed\":%u,\"distribution\":\"%s\",\"num_masks\":%d}",
                     cfg->conditional_size, made_cond_layers_name(cfg->conditional_layers),
                     cfg->validate_args ? "true" : "false", (unsigned)cfg->seed, text,
                     cfg->num_masks);
    if (b.failed) {
        made__buf_free(&b);
        return MADE_E_NOMEM;
    }
    if (out && size) {
        size_t n = b.len < size - 1 ? b.len : size - 1;
        memcpy(out, b.data, n);
        out[n] = '\0';
    }
    int len = (int)b.len;
    made__buf_free(&b);
    return len;
}

/* Integer member in [lo, hi]. */
static int json_int(const made__json *j, const char *key, long long lo, long long hi, long long *out)
{
    const made__json *v = made__json_get(j, key);
    if (!v) return made__error(MADE_E_FORMAT, "config: missing \"%s\"", key);
    if (v->type != MADE__JSON_NUMBER || !v->is_integer || v->integer < lo || v->integer > hi)
        return made__error(MADE_E_FORMAT, "config: \"%s\" must be an integer in %lld..%lld", key,
                           lo, hi);
    *out = v->integer;
    return MADE_OK;
}

static int json_bool(const made__json *j, const char *key, int *out)
{
    const made__json *v = made__json_get(j, key);
    if (!v || v->type != MADE__JSON_BOOL)
        return made__error(MADE_E_FORMAT, "config: \"%s\" must be true or false", key);
    *out = v->boolean;
    return MADE_OK;
}

static const char *json_str(const made__json *j, const char *key)
{
    const made__json *v = made__json_get(j, key);
    if (!v || v->type != MADE__JSON_STRING) {
        made__error(MADE_E_FORMAT, "config: \"%s\" must be a string", key);
        return NULL;
    }
    return v->string;
}

int made__config_from_json(const made__json *j, made_config *cfg, int **order)
{
    static const char *const known[] = {
        "event_size", "params", "hidden_units", "input_order", "hidden_degrees", "activation",
        "use_bias", "kernel_initializer", "bias_initializer", "conditional_size",
        "conditional_input_layers", "validate_args", "seed", "distribution", "num_masks",
    };
    *order = NULL;
    made_config_default(cfg);
    if (!j || j->type != MADE__JSON_OBJECT)
        return made__error(MADE_E_FORMAT, "config: not a JSON object");
    for (size_t i = 0; i < j->count; i++)
        if (lookup(j->keys[i], known, (int)(sizeof known / sizeof *known)) < 0)
            return made__error(MADE_E_FORMAT, "config: unknown key \"%s\"", j->keys[i]);
    long long v;
    int rc;
    if ((rc = json_int(j, "event_size", 1, MAX_EVENT, &v))) return rc;
    cfg->event_size = (int)v;
    if ((rc = json_int(j, "params", 1, MAX_PARAMS, &v))) return rc;
    cfg->params = (int)v;
    const made__json *h = made__json_get(j, "hidden_units");
    if (!h || h->type != MADE__JSON_ARRAY || h->count > MADE_MAX_HIDDEN)
        return made__error(MADE_E_FORMAT, "config: \"hidden_units\" must be an array of at most "
                           "%d integers", MADE_MAX_HIDDEN);
    cfg->n_hidden = (int)h->count;
    for (size_t l = 0; l < h->count; l++) {
        const made__json *u = &h->items[l];
        if (u->type != MADE__JSON_NUMBER || !u->is_integer || u->integer < 1 || u->integer > MAX_UNITS)
            return made__error(MADE_E_FORMAT, "config: hidden_units[%zu] must be in 1..%d", l,
                               MAX_UNITS);
        cfg->hidden_units[l] = (int)u->integer;
    }
    const made__json *o = made__json_get(j, "input_order");
    if (o && o->type == MADE__JSON_ARRAY) {
        if (o->count != (size_t)cfg->event_size)
            return made__error(MADE_E_FORMAT, "config: input_order has %zu entries, expected %d",
                               o->count, cfg->event_size);
        int *ord = made__malloc((size_t)cfg->event_size * sizeof(int));
        if (!ord) return MADE_E_NOMEM;
        for (size_t i = 0; i < o->count; i++) {
            const made__json *u = &o->items[i];
            if (u->type != MADE__JSON_NUMBER || !u->is_integer || u->integer < 0 ||
                u->integer > MAX_EVENT) {
                made__free(ord);
                return made__error(MADE_E_FORMAT, "config: input_order[%zu] is not an integer", i);
            }
            ord[i] = (int)u->integer;
        }
        cfg->input_order = MADE_ORDER_EXPLICIT;
        cfg->explicit_order = ord;
        *order = ord;
    } else {
        const char *s = json_str(j, "input_order");
        if (!s) return MADE_E_FORMAT;
        if ((rc = made_order_parse(s, &cfg->input_order))) return MADE_E_FORMAT;
    }
    const char *s;
    if (!(s = json_str(j, "hidden_degrees")) || made_degrees_parse(s, &cfg->hidden_degrees))
        return MADE_E_FORMAT;
    if (!(s = json_str(j, "activation")) || made_activation_parse(s, &cfg->activation))
        return MADE_E_FORMAT;
    if ((rc = json_bool(j, "use_bias", &cfg->use_bias))) return rc;
    if (!(s = json_str(j, "kernel_initializer")) ||
        made_initializer_parse(s, &cfg->kernel_initializer))
        return MADE_E_FORMAT;
    if (!(s = json_str(j, "bias_initializer")) || made_initializer_parse(s, &cfg->bias_initializer))
        return MADE_E_FORMAT;
    if ((rc = json_int(j, "conditional_size", 0, MAX_EVENT, &v))) return rc;
    cfg->conditional_size = (int)v;
    if (!(s = json_str(j, "conditional_input_layers")) ||
        made_cond_layers_parse(s, &cfg->conditional_layers))
        return MADE_E_FORMAT;
    if ((rc = json_bool(j, "validate_args", &cfg->validate_args))) return rc;
    if ((rc = json_int(j, "seed", 0, 4294967295LL, &v))) return rc;
    cfg->seed = (uint32_t)v;
    if (!(s = json_str(j, "distribution")) || made_dist_parse(s, &cfg->dist)) return MADE_E_FORMAT;
    if ((rc = json_int(j, "num_masks", 1, 4096, &v))) return rc;
    cfg->num_masks = (int)v;
    return MADE_OK;
}
