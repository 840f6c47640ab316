/*
 * made.h - masked autoregressive density estimation in C.
 *
 * made builds MADE networks (Germain et al. 2015, "MADE: Masked Autoencoder for
 * Distribution Estimation") that behave exactly like TensorFlow Probability's
 * tfp.bijectors.AutoregressiveNetwork (R: tfprobability::layer_autoregressive):
 * same input orders, same hidden degrees (including numpy-seeded 'random' ones),
 * same masks, same output layout [..., E, params], same weight order.
 *
 * A complete example:
 *
 *     #include <made.h>
 *     #include <stdio.h>
 *
 *     int main(void)
 *     {
 *         made_config cfg;
 *         made_config_default(&cfg);
 *         cfg.event_size = 3;
 *         cfg.params = 2;
 *         cfg.n_hidden = 1;
 *         cfg.hidden_units[0] = 4;
 *         cfg.activation = MADE_ACT_RELU;
 *
 *         made_model *m = NULL;
 *         int rc = made_model_create(&m, &cfg);
 *         if (rc != MADE_OK) {
 *             fprintf(stderr, "made: %s\n", made_last_error());
 *             return 1;
 *         }
 *         float x[2 * 3] = {1, 2, 3, 0.5f, -1, 2};
 *         float y[2 * 3 * 2];                 // [N, E, params]
 *         rc = made_model_forward(m, y, x, NULL, 2);
 *         made_model_free(m);
 *         return rc == MADE_OK ? 0 : 1;
 *     }
 *
 * Conventions
 *   - Every fallible function returns an int status: MADE_OK (0) or a negative
 *     MADE_E_* code. made_strerror(code) names the code; made_last_error() gives
 *     a detailed message (which argument, which file, row and column) for the
 *     last failure in the calling thread.
 *   - The library never prints and never exits.
 *   - Handles (made_model) are opaque, created by *_create / *_load and released
 *     by *_free, which accepts NULL. A handle may be used by one thread at a time;
 *     distinct handles are independent. The library keeps no global mutable state
 *     (the last-error message is thread-local).
 *   - Arrays are plain row-major float32 buffers owned by the caller, with sizes
 *     given explicitly. Kernels are [in, out] like Keras Dense kernels.
 *   - All randomness comes from seeds the caller chooses.
 *
 * Masked weights. A made model keeps every masked kernel entry at exactly zero at
 * all times: creation, made_model_set_weights (which applies the mask to what it is
 * given), training updates and loading (which rejects files where they are not
 * zero). This is a deliberate difference from TFP, whose set_weights accepts
 * non-zero masked entries and so can silently break the autoregressive property.
 */
#ifndef MADE_H
#define MADE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define MADE_VERSION_MAJOR 0
#define MADE_VERSION_MINOR 3
#define MADE_VERSION_PATCH 0
#define MADE_VERSION_STRING "0.3.0"
#define MADE_VERSION_NUMBER \
    (MADE_VERSION_MAJOR * 10000 + MADE_VERSION_MINOR * 100 + MADE_VERSION_PATCH)

/* Run-time version of the linked library, e.g. "0.3.0". */
const char *made_version_string(void);
int made_version_number(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

/* One list generates both the enum and made_strerror(), so they cannot drift. */
#define MADE_STATUS_MAP(X)                                                   \
    X(OK, 0, "success")                                                      \
    X(E_INVAL, -1, "invalid argument")                                       \
    X(E_NOMEM, -2, "out of memory")                                          \
    X(E_IO, -3, "input/output error")                                        \
    X(E_FORMAT, -4, "malformed file")                                        \
    X(E_SHAPE, -5, "shape mismatch")                                         \
    X(E_NONFINITE, -6, "non-finite value (NaN or Inf)")                      \
    X(E_DOMAIN, -7, "value outside the distribution's support")              \
    X(E_UNSUPPORTED, -8, "unsupported feature")                              \
    X(E_INTERRUPTED, -9, "interrupted")

enum made_status {
#define MADE_STATUS_ENUM_(name, code, msg) MADE_##name = code,
    MADE_STATUS_MAP(MADE_STATUS_ENUM_)
#undef MADE_STATUS_ENUM_
};

/* Short fixed description of a status code ("invalid argument"). Never NULL. */
const char *made_strerror(int status);
/* Name of the code ("MADE_E_INVAL"). Never NULL. */
const char *made_status_name(int status);
/* Detailed message of the last failed call in this thread, e.g.
 * "input_order: 0 is not a 1-based position (expected a permutation of 1..3)".
 * Empty string if there was none. Valid until the next made_ call in this thread. */
const char *made_last_error(void);

/* ------------------------------------------------------------------------ */
/* Configuration (every option of AutoregressiveNetwork)                     */
/* ------------------------------------------------------------------------ */

#define MADE_MAX_HIDDEN 32 /* hidden layers */

typedef enum made_order {
    MADE_ORDER_LEFT_TO_RIGHT = 0, /* [1, 2, ..., E] (TFP default) */
    MADE_ORDER_RIGHT_TO_LEFT,     /* [E, ..., 2, 1] */
    MADE_ORDER_RANDOM,            /* numpy shuffle after np.random.seed(seed) */
    MADE_ORDER_EXPLICIT           /* cfg.explicit_order: a 1-based permutation */
} made_order;

typedef enum made_degrees {
    MADE_DEGREES_EQUAL = 0, /* TFP 'equal' (default) */
    MADE_DEGREES_RANDOM     /* TFP 'random', numpy-compatible with the seed */
} made_degrees;

/* Keras activations, applied after every hidden layer, never after the output. */
typedef enum made_activation {
    MADE_ACT_LINEAR = 0, /* identity: TFP's default activation=None */
    MADE_ACT_RELU,
    MADE_ACT_TANH,
    MADE_ACT_SIGMOID,
    MADE_ACT_ELU,          /* alpha = 1 */
    MADE_ACT_SELU,         /* Klambauer et al. constants */
    MADE_ACT_SOFTPLUS,
    MADE_ACT_SOFTSIGN,
    MADE_ACT_SWISH,        /* x * sigmoid(x), also called silu */
    MADE_ACT_GELU,         /* exact (erf) form, Keras' default */
    MADE_ACT_EXPONENTIAL,
    MADE_ACT_HARD_SIGMOID, /* tf_keras: clip(0.2 x + 0.5, 0, 1) */
    MADE_ACT_COUNT
} made_activation;

typedef enum made_init_kind {
    MADE_INIT_GLOROT_UNIFORM = 0, /* TFP's default kernel initializer */
    MADE_INIT_GLOROT_NORMAL,
    MADE_INIT_HE_UNIFORM,
    MADE_INIT_HE_NORMAL,
    MADE_INIT_LECUN_UNIFORM,
    MADE_INIT_LECUN_NORMAL,
    MADE_INIT_ZEROS, /* TFP's default bias initializer */
    MADE_INIT_ONES,
    MADE_INIT_CONSTANT,         /* value */
    MADE_INIT_RANDOM_UNIFORM,   /* minval, maxval (Keras: -0.05, 0.05) */
    MADE_INIT_RANDOM_NORMAL,    /* mean, stddev (Keras: 0, 0.05) */
    MADE_INIT_TRUNCATED_NORMAL, /* mean, stddev, redrawn beyond 2 stddev */
    MADE_INIT_VARIANCE_SCALING, /* scale, mode, distribution */
    MADE_INIT_COUNT
} made_init_kind;

typedef enum made_fan_mode {
    MADE_FAN_IN = 0,
    MADE_FAN_OUT,
    MADE_FAN_AVG
} made_fan_mode;

typedef enum made_vs_distribution {
    MADE_VS_TRUNCATED_NORMAL = 0, /* Keras' default for variance_scaling */
    MADE_VS_UNTRUNCATED_NORMAL,
    MADE_VS_UNIFORM
} made_vs_distribution;

/* A Keras initializer. Fans follow Keras' rule on the full kernel shape [in, out]:
 * fan_in = in, fan_out = out (not the number of unmasked connections). */
typedef struct made_initializer {
    made_init_kind kind;
    double value;          /* CONSTANT */
    double minval, maxval; /* RANDOM_UNIFORM */
    double mean, stddev;   /* RANDOM_NORMAL, TRUNCATED_NORMAL */
    double scale;          /* VARIANCE_SCALING */
    made_fan_mode mode;
    made_vs_distribution distribution;
} made_initializer;

typedef enum made_cond_layers {
    MADE_COND_ALL_LAYERS = 0, /* TFP default: every hidden layer and the output */
    MADE_COND_FIRST_LAYER     /* only the first dense layer */
} made_cond_layers;

/* Output distribution over the [N, E, params] network output (optional). */
typedef enum made_dist_kind {
    MADE_DIST_NONE = 0,    /* a plain network (made init) */
    MADE_DIST_BERNOULLI,   /* params = 1: logit */
    MADE_DIST_GAUSSIAN,    /* params = 2: loc, log-scale */
    MADE_DIST_CATEGORICAL, /* params = K: logits over 0..K-1 */
    MADE_DIST_MOG          /* params = 3K: K logits, K locs, K log-scales */
} made_dist_kind;

typedef struct made_dist {
    made_dist_kind kind;
    int k; /* categories (CATEGORICAL) or components (MOG); 0 otherwise */
} made_dist;

typedef struct made_config {
    int event_size;                     /* E >= 1 (TFP event_shape = [E]) */
    int params;                         /* P >= 1 outputs per event dimension */
    int n_hidden;                       /* number of hidden layers, 0..MADE_MAX_HIDDEN */
    int hidden_units[MADE_MAX_HIDDEN];  /* units per hidden layer, each >= 1 */
    made_order input_order;             /* default LEFT_TO_RIGHT */
    const int *explicit_order;          /* EXPLICIT: 1-based permutation of length E;
                                           borrowed, copied by made_model_create */
    made_degrees hidden_degrees;        /* default EQUAL */
    made_activation activation;         /* default LINEAR (TFP's None) */
    int use_bias;                       /* default 1 */
    made_initializer kernel_initializer; /* default glorot_uniform */
    made_initializer bias_initializer;   /* default zeros */
    int conditional_size;               /* C; 0 = not conditional */
    made_cond_layers conditional_layers; /* default ALL_LAYERS */
    int validate_args;                  /* check inputs/outputs for NaN/Inf (default 0) */
    uint32_t seed;                      /* np.random.seed value for 'random' order and
                                           degrees; also seeds the initializers */
    made_dist dist;                     /* default NONE */
    int num_masks;                      /* order/connectivity-agnostic mask set size,
                                           default 1 (see made_model_set_mask) */
} made_config;

/* Fills cfg with TFP's defaults: E = 0 (must be set), params = 1, no hidden layer,
 * left-to-right, equal, linear, bias on, glorot_uniform / zeros, unconditional,
 * seed 0, no distribution, one mask. */
void made_config_default(made_config *cfg);

/* Initializer with Keras' default arguments for its kind. */
made_initializer made_initializer_default(made_init_kind kind);

/* Names as Keras spells them ("relu", "glorot_uniform", "left-to-right", ...).
 * The *_parse functions accept those names (and a few aliases: "none"/"linear",
 * "silu"/"swish"); on an unknown name they return MADE_E_INVAL with a message
 * listing the accepted names. */
const char *made_activation_name(made_activation a);
int made_activation_parse(const char *name, made_activation *out);
/* "left-to-right", "right-to-left", "random"; made_order_name also names
 * MADE_ORDER_EXPLICIT ("explicit"), which is not parsed: an explicit order is
 * given as the permutation itself (cfg.explicit_order). */
const char *made_order_name(made_order o);
int made_order_parse(const char *name, made_order *out);
/* "equal", "random". */
const char *made_degrees_name(made_degrees d);
int made_degrees_parse(const char *name, made_degrees *out);
/* "all_layers", "first_layer". */
const char *made_cond_layers_name(made_cond_layers c);
int made_cond_layers_parse(const char *name, made_cond_layers *out);
/* The initializer's name alone ("he_normal"; aliases "zero", "one"), without
 * arguments; made_initializer_parse reads the full form. */
const char *made_init_name(made_init_kind k);
int made_init_parse(const char *name, made_init_kind *out);
/* "none", "bernoulli", "gaussian", "categorical", "mog": the kind alone;
 * made_dist_parse reads the full form with its count. */
const char *made_dist_kind_name(made_dist_kind k);
int made_dist_kind_parse(const char *name, made_dist_kind *out);
/* "glorot_uniform", "constant:0.5", "random_uniform:-0.1,0.1" (minval,maxval),
 * "random_normal:0,0.05" and "truncated_normal:0,0.05" (mean,stddev),
 * "variance_scaling:scale=2,mode=fan_in,distribution=uniform" (any subset). */
int made_initializer_parse(const char *text, made_initializer *out);
/* Writes the form made_initializer_parse reads back; returns the length that
 * the full text needs (like snprintf). */
int made_initializer_format(char *buf, size_t size, const made_initializer *init);
/* "bernoulli", "gaussian", "categorical:K", "mog:K". */
int made_dist_parse(const char *text, made_dist *out);
int made_dist_format(char *buf, size_t size, made_dist d);
/* Number of network outputs per event dimension the distribution needs. */
int made_dist_params(made_dist d);

/* Checks every field of cfg; returns MADE_E_INVAL naming the first bad field.
 * An explicit input order is checked in O(E) time with a temporary table of E
 * bits (at most 125 KB), so this can also return MADE_E_NOMEM. */
int made_config_validate(const made_config *cfg);

/* ------------------------------------------------------------------------ */
/* The model                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct made_model made_model;

/* Builds degrees and masks, draws initial weights (masked entries zero) and sizes
 * all scratch memory. On failure *out is NULL.
 * Errors: MADE_E_INVAL (bad config, message names the field and value),
 * MADE_E_NOMEM. */
int made_model_create(made_model **out, const made_config *cfg);
void made_model_free(made_model *m);

/* The model's configuration. explicit_order points into the model and holds the
 * order actually used (also for 'random'), so it is always set. */
const made_config *made_model_config(const made_model *m);

/* Number of dense layers: hidden layers + 1 (the output layer). */
int made_model_num_layers(const made_model *m);
/* Shape [in, out] of dense layer l (0 = first, num_layers-1 = output). */
int made_model_layer_shape(const made_model *m, int l, int *in, int *out);
/* Degrees: l = 0 is the input order (length E, 1-based); l = 1..n_hidden are the
 * hidden layers (length hidden_units[l-1]). External (TFP) unit order. */
int made_model_degrees(const made_model *m, int l, int *deg);
/* Mask of dense layer l as 0/1 bytes, shape [in, out], row-major, TFP layout. */
int made_model_mask(const made_model *m, int l, uint8_t *mask);

/* Trainable parameter count as TFP counts it (full kernels, masked entries
 * included): sum over layers of (in + use_bias) * out, plus C * out per
 * conditional kernel. */
size_t made_model_num_params(const made_model *m);
/* Parameters that can be non-zero (unmasked kernel entries, biases, conditional
 * kernels). */
size_t made_model_num_free_params(const made_model *m);

/* Weights in TFP's get_weights() order: [W_1, b_1, (V_1), ..., W_out, b_out,
 * (V_out)]. made_model_num_weights gives the number of tensors; weight_info the
 * name ("layers.0.kernel", ...), rank (1 or 2) and shape of tensor k. */
int made_model_num_weights(const made_model *m);
int made_model_weight_info(const made_model *m, int k, const char **name, int *rank,
                           int shape[2]);
/* Copies tensor k out (row-major, TFP layout) / in. set applies the mask.
 * count must equal the tensor's element count (else MADE_E_SHAPE). Non-finite
 * values are rejected with MADE_E_NONFINITE. */
int made_model_get_weight(const made_model *m, int k, float *dst, size_t count);
int made_model_set_weight(made_model *m, int k, const float *src, size_t count);
/* All tensors concatenated in the order above; count = made_model_num_params. */
int made_model_get_weights(const made_model *m, float *dst, size_t count);
int made_model_set_weights(made_model *m, const float *src, size_t count);

/* Number of threads (OpenMP) used by forward, training and sampling; results are
 * bit-identical for every thread count. Default 1. */
int made_model_set_threads(made_model *m, int threads);

/* y[N, E, params] = network(x[N, E], c[N, C]); c must be NULL iff the model is
 * not conditional. With validate_args, NaN/Inf in x, c or y gives
 * MADE_E_NONFINITE naming the row and column. No allocation. */
int made_model_forward(made_model *m, float *y, const float *x, const float *c, size_t n);

/* Order/connectivity-agnostic training (MADE section 3.2): a model with
 * num_masks = K carries K mask sets; mask k is built from the model's config with
 * seed + k. Selects which one forward, training and sampling use (default 0). */
int made_model_set_mask(made_model *m, int k);
int made_model_mask_index(const made_model *m);

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

/* Saves as safetensors (see docs/model-format.md), atomically: a temp file in the
 * same directory, fsync, rename. An existing file is replaced only on success. */
int made_model_save(const made_model *m, const char *path);
/* Loads and fully validates a model file. Errors: MADE_E_IO, MADE_E_FORMAT
 * (message says what and where), MADE_E_NOMEM. */
int made_model_load(made_model **out, const char *path);
/* Configuration as a JSON object (the one stored in the file's metadata).
 * Returns the length the full text needs, like snprintf, or a negative status. */
int made_config_to_json(const made_config *cfg, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Flows: stacks of MAF / IAF layers                                         */
/* ------------------------------------------------------------------------ */

/* A flow is TFP's
 *     tfd.TransformedDistribution(N(0, I_E),
 *         tfb.Chain([L_{K-1}, P_{K-2}, ..., P_0, L_0]))
 * where layer L_k wraps its own made network (params = 2: output 0 of an event
 * is the shift, output 1 the log-scale u) and P_k = tfb.Permute(perm_k)
 * (0-based, y = x[..., perm_k]). Forward is the sampling direction (base noise
 * to data), inverse the density direction.
 *   MAF layer: forward y = shift(y) + g(u(y)) * x (autoregressive in y),
 *              inverse x = (y - shift(y)) / g(u(y)) (one pass).
 *   IAF layer: tfb.Invert(MAF): forward is the one-pass formula, inverse the
 *              autoregressive one.
 * g is the scale function: exp (TFP), softplus(u) + 1e-3, or exp of a soft clip
 * of u. The autoregressive direction runs made's degree-ordered sweep: every
 * hidden unit is computed once, about one network pass, not E.
 * With batch_norm, a batch-normalisation bijector B_k sits just before L_k in
 * the forward direction (so its inverse, the normalisation, follows L_k's
 * inverse on the density side, as in the MAF paper); see docs/design.md. */

typedef enum made_flow_kind {
    MADE_FLOW_MAF = 0, /* masked autoregressive flow: one-pass density */
    MADE_FLOW_IAF      /* inverse autoregressive flow: one-pass sampling */
} made_flow_kind;

typedef enum made_flow_permutation {
    MADE_FLOW_PERM_REVERSE = 0, /* [E-1, ..., 1, 0] between layers (default) */
    MADE_FLOW_PERM_RANDOM,      /* a seeded random permutation per gap */
    MADE_FLOW_PERM_EXPLICIT,    /* cfg.explicit_permutation between every layer */
    MADE_FLOW_PERM_IDENTITY     /* no permutation */
} made_flow_permutation;

typedef enum made_flow_scale {
    MADE_FLOW_SCALE_EXP = 0,  /* g(u) = exp(u) (TFP, default) */
    MADE_FLOW_SCALE_SOFTPLUS, /* g(u) = softplus(u) + 1e-3 (nflows) */
    MADE_FLOW_SCALE_SOFTCLIP  /* g(u) = exp(u / (1 + |u| / B)), B = -log(1e-3) (zuko) */
} made_flow_scale;

typedef enum made_flow_preprocess {
    MADE_FLOW_PRE_NONE = 0,
    MADE_FLOW_PRE_STANDARDIZE, /* x -> (x - mean) / std, per dimension */
    MADE_FLOW_PRE_LOGIT        /* x in [0, 1) -> logit(lambda + (1 - 2 lambda) x) */
} made_flow_preprocess;

typedef struct made_flow_config {
    made_flow_kind kind;         /* default MAF */
    int num_layers;              /* K >= 1 (default 1) */
    made_config layer;           /* every layer's network: params must be 2, no
                                    distribution; layer k is created with seed
                                    layer.seed + k (a fresh network per layer) */
    made_flow_permutation permutation; /* default REVERSE */
    const int *explicit_permutation;   /* EXPLICIT: 0-based, length E; borrowed,
                                          copied by made_flow_create */
    uint32_t permutation_seed;   /* RANDOM: gap k uses seed permutation_seed + k */
    made_flow_scale scale;       /* default EXP */
    int batch_norm;              /* 0 (default) or 1 */
    double batch_norm_eps;       /* added to the variance (default 1e-5) */
    double batch_norm_momentum;  /* running averages: r = m r + (1 - m) batch
                                    (default 0.9) */
    made_flow_preprocess preprocess; /* default NONE */
    double logit_lambda;         /* LOGIT: lambda in [0, 0.5) (default 1e-6) */
    int dequantize_levels;       /* LOGIT: 0 (default) = data in [0, 1]; L >= 2 = data
                                    in [0, L] (e.g. 256 for 8-bit pixels plus uniform
                                    dequantisation noise), divided by L first, so
                                    densities are those of the pixel values */
    int share_weights;           /* 0 (default): a fresh network per layer (the MAF
                                    paper's setup); 1: one network, seeded with
                                    layer.seed, used by all K layers (the
                                    permutations and batch norms stay per layer) */
} made_flow_config;

/* Defaults: MAF, one layer, reverse permutations, exp scale, no batch norm, no
 * preprocessing, and a layer network of made_config_default with params = 2. */
void made_flow_config_default(made_flow_config *cfg);
int made_flow_config_validate(const made_flow_config *cfg);
/* "maf" / "iaf", "reverse" / "random" / "explicit" / "identity",
 * "exp" / "softplus" / "softclip". */
const char *made_flow_kind_name(made_flow_kind k);
int made_flow_kind_parse(const char *name, made_flow_kind *out);
const char *made_flow_permutation_name(made_flow_permutation p);
int made_flow_permutation_parse(const char *name, made_flow_permutation *out);
const char *made_flow_scale_name(made_flow_scale s);
int made_flow_scale_parse(const char *name, made_flow_scale *out);

typedef struct made_flow made_flow;

int made_flow_create(made_flow **out, const made_flow_config *cfg);
void made_flow_free(made_flow *f);
/* explicit_permutation is NULL unless the kind is EXPLICIT, then it points
 * into the flow. */
const made_flow_config *made_flow_get_config(const made_flow *f);
/* Layer k's network (0 = applied first when sampling), owned by the flow: use
 * the made_model_* weight functions on it. NULL if k is out of range. With
 * share_weights every k gives the same network. */
made_model *made_flow_layer(made_flow *f, int k);
/* The 0-based permutation P_k applied after layer k, k = 0..K-2 (length E). */
int made_flow_get_permutation(const made_flow *f, int k, int *perm);
/* Batch-norm parameters of layer k, each [E]: running mean and variance, and
 * gamma (log-scale) and beta: the density direction maps
 * v = (u - mean) / sqrt(variance + eps) * exp(gamma) + beta. */
int made_flow_get_batchnorm(const made_flow *f, int k, float *mean, float *variance,
                            float *gamma, float *beta);
int made_flow_set_batchnorm(made_flow *f, int k, const float *mean, const float *variance,
                            const float *gamma, const float *beta);
/* Preprocessing parameters (STANDARDIZE): per-dimension mean and std, [E]. */
int made_flow_get_standardize(const made_flow *f, double *mean, double *std);
int made_flow_set_standardize(made_flow *f, const double *mean, const double *std);
/* Trainable parameters over all layers (TFP's count, plus 2E per batch norm). */
size_t made_flow_num_params(const made_flow *f);
int made_flow_set_threads(made_flow *f, int threads);

/* The chain itself, without preprocessing. c[n, C] is handed to every layer
 * (NULL iff the layers are not conditional). Log-determinants (may be NULL) are
 * log|det d(output)/d(input)| per row, in double. Non-finite results give
 * MADE_E_NONFINITE naming the layer, row and dimension. */
int made_flow_forward(made_flow *f, float *y, double *fldj, const float *x, const float *c,
                      size_t n);
int made_flow_inverse(made_flow *f, float *x, double *ildj, const float *y, const float *c,
                      size_t n);
/* log p(y) of data rows y[n, E] in nats, preprocessing and its Jacobian
 * included, so the density is that of the original data. */
int made_flow_log_prob(made_flow *f, double *lp, const float *y, const float *c, size_t n);
/* n samples of the original data: standard-normal base noise from the seed
 * (one stream per row), forward through the chain, preprocessing undone. */
int made_flow_sample(made_flow *f, float *y, const float *c, size_t n, uint64_t seed);

/* Sets the standardisation (preprocess STANDARDIZE) from data rows x[n, E]:
 * per-dimension mean and standard deviation (a constant dimension gets std 1). */
int made_flow_standardize_from_data(made_flow *f, const float *x, size_t n);
/* Sets every batch norm's mean and variance from data rows (the original data,
 * c[n, C] or NULL), layer by layer in the density direction, as the MAF paper
 * does after training. made_trainer_fit does this itself at the end. */
int made_flow_batchnorm_from_data(made_flow *f, const float *x, const float *c, size_t n);
/* Checks data rows for the flow: finite, and in [0, 1] with the logit
 * preprocessing; the message gives the 1-based row and column. */
int made_flow_check_data(const made_flow *f, const float *x, size_t n);
/* Uniform dequantisation for a flow with dequantize_levels = levels (`made
 * train --dequantize`, and `made eval --seed` of such a flow): x[rows, cols]
 * row-major holds integers 0..levels-1, and each gets x + u, u in [0, 1) from
 * a splitmix64 stream of seed, in row-major order (u: 53 bits, rounded to
 * float when added). The same x and seed give the same bits in the program
 * and both packages. Every value is checked first, so on error x is unchanged.
 * Errors: MADE_E_INVAL (levels < 2, x NULL), MADE_E_DOMAIN (a value that is
 * not such an integer; the message gives its 1-based row and column). */
int made_dequantize(float *x, size_t rows, size_t cols, uint64_t seed, int levels);
/* Mean NLL (nats per example, of the original data). */
int made_flow_nll(made_flow *f, const float *x, const float *c, size_t n, double *nll);

/* One safetensors file (docs/model-format.md), written atomically. */
int made_flow_save(const made_flow *f, const char *path);
int made_flow_load(made_flow **out, const char *path);
/* Whether the file at path holds a flow (a flow file or a flow's checkpoint)
 * rather than a MADE; 1 yes, 0 no, negative status if it cannot be read. */
int made_file_is_flow(const char *path);

/* ------------------------------------------------------------------------ */
/* Arrays and data files                                                     */
/* ------------------------------------------------------------------------ */

#define MADE_MAX_DIMS 8

/* A dense row-major float32 array owned by the struct (free with made_array_free). */
typedef struct made_array {
    float *data;
    int ndim;
    size_t shape[MADE_MAX_DIMS];
} made_array;

/* Element count (product of the shape; 1 for ndim = 0). */
size_t made_array_size(const made_array *a);
/* Allocates a zeroed array of the given shape. */
int made_array_alloc(made_array *a, int ndim, const size_t *shape);
void made_array_free(made_array *a);

/* Paths. Every reader takes "-" for standard input and every writer "-" for
 * standard output. Writers never harm what is at the path: a regular file is
 * replaced atomically (temp file, fsync, rename), a symbolic link's target is
 * replaced and the link kept, a character device or FIFO (/dev/null, a pipe) is
 * written in place, and a directory or other special file is an error.
 * made_output_check tells in advance whether a write to path can succeed (the
 * directory exists and a file can be created in it), so a program can refuse
 * before long work; it creates and removes a temp file beside path. Errors:
 * MADE_E_IO with the path and the reason. */
int made_output_check(const char *path);

/* .npy v1/v2/v3, C order, dtypes f4 f8 f2? i1 i2 i4 i8 u1 u2 u4 u8 b1 (either
 * byte order), converted to float32. Fortran order, object and structured dtypes
 * are rejected with MADE_E_UNSUPPORTED. */
int made_npy_read(made_array *a, const char *path);
/* Rows [first, first + count) of a .npy file (its first axis) without reading
 * the rest: the header is parsed and checked against the file's size as
 * made_npy_read does, then only those rows are read and converted. *total gets
 * the file's number of rows. count = 0 reads only the header (a->shape is the
 * file's shape with shape[0] = 0), which is how to learn the row count first.
 * Files that cannot be read at an offset (pipes) are read whole and sliced.
 * Errors as made_npy_read, plus MADE_E_SHAPE for rows beyond the file or a 0-D
 * array. Data-parallel training reads each rank's rows this way. */
int made_npy_read_rows(made_array *a, const char *path, size_t first, size_t count, size_t *total);
/* Writes float32 little-endian .npy v1 atomically. */
int made_npy_write(const made_array *a, const char *path);
/* CSV of numbers, comma separated, optional header row; 2-D result. Empty cells,
 * NA and non-numbers are rejected with their row and column. */
int made_csv_read(made_array *a, const char *path);
/* Writes CSV atomically: one line per entry of the first axis, the remaining
 * axes flattened (a 1-D array is one line), values with 9 significant digits
 * (enough to read float32 back exactly). */
int made_csv_write(const made_array *a, const char *path);
/* IDX (MNIST) files, plain or gzip-compressed. */
int made_idx_read(made_array *a, const char *path);
/* Writes an 8-bit greyscale PNG of pixels[height][width] (row-major), e.g. a
 * grid of samples drawn as images. */
int made_png_write(const char *path, const unsigned char *pixels, int width, int height);
/* Picks the reader by content (gzip or IDX magic, "\x93NUMPY") or by extension
 * (.npy, .csv, .idx*, *-ubyte). */
int made_data_read(made_array *a, const char *path);
/* Writes a as CSV when path ends in ".csv", as .npy (float32, the array's
 * shape) when it ends in ".npy" or cannot carry an extension ("-" for standard
 * output, a character device, a FIFO); any other name is MADE_E_INVAL, naming
 * the formats. In CSV, row_axes = 1 writes one line per entry of the first axis and
 * row_axes = 0 the whole array on one line, the other axes flattened. Atomic,
 * like the writers it calls. Errors: MADE_E_INVAL, MADE_E_IO, MADE_E_NOMEM. */
int made_data_write(const made_array *a, const char *path, int row_axes);

/* ------------------------------------------------------------------------ */
/* Density estimation                                                        */
/* ------------------------------------------------------------------------ */

/* log p(x) per example (nats) under the model's distribution, with the current
 * mask set. x[N, E], c[N, C] or NULL. Errors: MADE_E_INVAL if the model has no
 * distribution, MADE_E_DOMAIN for values outside the support (row and column in
 * the message), MADE_E_NONFINITE. */
int made_model_log_prob(made_model *m, double *lp, const float *x, const float *c, size_t n);
/* Mixture over mask sets 0..k-1 (1 <= k <= num_masks), the proper ensemble of
 * order-agnostic training: log p(x) = logsumexp_k log p_k(x) - log k. */
int made_model_log_prob_ensemble(made_model *m, double *lp, const float *x, const float *c,
                                 size_t n, int k);

/* Checks that x[n, E] is valid data for the model's distribution: finite, 0/1
 * for bernoulli, integers 0..K-1 for categorical. The error message gives the
 * 1-based row and column of the first bad value. */
int made_model_check_data(const made_model *m, const float *x, size_t n);

/* Draws n samples x[N, E] (c[N, C] or NULL) with the current mask set. Each
 * hidden unit is computed once, when the inputs it depends on are known, so the
 * cost is about one forward pass. Same seed, same samples, any thread count. */
int made_model_sample(made_model *m, float *x, const float *c, size_t n, uint64_t seed);
/* Reference sampler: re-runs the whole network once per dimension with plain
 * loops, single-threaded (about E times the cost of made_model_sample). Gives
 * the same samples as made_model_sample for the same seed, bit for bit. */
int made_model_sample_naive(made_model *m, float *x, const float *c, size_t n, uint64_t seed);

/* ------------------------------------------------------------------------ */
/* Training                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum made_optimizer {
    MADE_OPTIM_ADAM = 0, /* Adam (Kingma & Ba), decoupled weight decay (AdamW) */
    MADE_OPTIM_SGD       /* SGD with (heavy-ball) momentum, L2 weight decay */
} made_optimizer;

typedef enum made_schedule {
    MADE_LR_CONSTANT = 0,
    MADE_LR_COSINE, /* lr -> lr_final along a half cosine over all epochs */
    MADE_LR_STEP    /* lr * decay_rate every decay_epochs epochs */
} made_schedule;

/* Names: "adam", "sgd" and "constant", "cosine", "step" (the step schedule's
 * epochs and rate are fields of made_train_config). Unknown names give
 * MADE_E_INVAL with a message listing the accepted ones. */
const char *made_optimizer_name(made_optimizer o);
int made_optimizer_parse(const char *name, made_optimizer *out);
const char *made_schedule_name(made_schedule s);
int made_schedule_parse(const char *name, made_schedule *out);

typedef struct made_train_config {
    made_optimizer optimizer; /* default ADAM */
    double lr;                /* default 1e-3 */
    double beta1, beta2, eps; /* Adam: 0.9, 0.999, 1e-8 */
    double momentum;          /* SGD: 0.9 */
    double weight_decay;      /* default 0 */
    double clip_norm;         /* clip the global gradient norm to this; 0 = off */
    made_schedule schedule;   /* default CONSTANT */
    double lr_final;          /* COSINE: final learning rate (default 0) */
    double decay_rate;        /* STEP: factor (default 0.5) */
    int decay_epochs;         /* STEP: every this many epochs (default 10) */
    int batch_size;           /* default 100 */
    int epochs;               /* default 10 */
    int patience;             /* epochs without validation improvement before
                                 stopping; 0 = never stop early (default 0) */
    int resample_every;       /* steps between mask-set changes when the model has
                                 several (order-agnostic training), default 1 */
    uint64_t seed;            /* shuffling and mask-set choice (default 0) */
} made_train_config;

void made_train_config_default(made_train_config *cfg);
int made_train_config_validate(const made_train_config *cfg);

/* What a progress callback sees. Called after every minibatch (epoch_done = 0)
 * and once at the end of every epoch (epoch_done = 1, with the epoch's figures).
 * A non-zero return value stops training: made_trainer_fit returns
 * MADE_E_INTERRUPTED and the trainer can be saved and resumed exactly. */
typedef struct made_progress {
    int epoch, epochs;       /* 1-based current epoch, total */
    size_t batch, batches;   /* minibatches done in this epoch, per epoch */
    long long step;          /* optimiser steps so far */
    double train_nll;        /* mean NLL (nats/example) over the epoch so far */
    double val_nll;          /* validation NLL after the epoch (NAN if none) */
    double best_val_nll;     /* best so far (NAN if none) */
    int improved;            /* epoch_done: this epoch is the best so far */
    double lr;               /* learning rate in use */
    double examples_per_sec; /* training throughput over this epoch so far */
    double seconds;          /* wall time of this epoch so far */
    int epoch_done;
} made_progress;

typedef int (*made_progress_fn)(void *user, const made_progress *p);

typedef struct made_trainer made_trainer;

/* A trainer for model m (borrowed: m must outlive the trainer). The model needs
 * a distribution (cfg.dist). Allocates the optimiser state and batch buffers. */
int made_trainer_create(made_trainer **out, made_model *m, const made_train_config *cfg);
void made_trainer_free(made_trainer *t);
const made_train_config *made_trainer_config(const made_trainer *t);

/* One optimisation step on a minibatch x[n, E] (c[n, C] or NULL); *nll gets the
 * batch's mean negative log-likelihood before the step. */
int made_trainer_step(made_trainer *t, const float *x, const float *c, size_t n, double *nll);

/* The whole loop: epochs of seeded shuffled minibatches, validation after each
 * epoch when xval is given (nval > 0), early stopping with patience (the best
 * parameters are restored at the end), mask-set resampling. Continues where a
 * resumed trainer left off. Data is validated first (support, NaN/Inf) with the
 * row and column of the first bad value in the message. */
int made_trainer_fit(made_trainer *t, const float *x, const float *c, size_t n, const float *xval,
                     const float *cval, size_t nval, made_progress_fn fn, void *user);

/* Checkpoints: model, optimiser state and progress in one safetensors file,
 * written atomically. made_trainer_resume loads one: it creates the model and
 * the trainer; fitting on the same data then gives the same bits as a run that
 * was never interrupted. */
int made_trainer_save(const made_trainer *t, const char *path);
int made_trainer_resume(made_trainer **out, made_model **model, const char *path);

/* A note the caller keeps in the checkpoint (any text without NUL bytes; the
 * made program records its data options there, so that a resumed run needs
 * none). made_trainer_note returns "" when none was set. */
int made_trainer_set_note(made_trainer *t, const char *text);
const char *made_trainer_note(const made_trainer *t);

/* Changes the number of epochs of a (resumed) run, e.g. to train a finished run
 * further: the result is then the one a run started with `epochs` gives. It
 * cannot go below the epochs already completed, and a cosine schedule cannot
 * change (its learning rates depend on the total). Errors: MADE_E_INVAL. */
int made_trainer_set_epochs(made_trainer *t, int epochs);

/* Why training ended. */
typedef enum made_stop {
    MADE_STOP_NONE = 0, /* not trained (or not to the end) */
    MADE_STOP_EPOCHS,   /* every epoch was run */
    MADE_STOP_PATIENCE  /* early stopping: no validation improvement for patience epochs */
} made_stop;
/* "none", "epochs", "patience". */
const char *made_stop_name(made_stop s);
int made_stop_parse(const char *name, made_stop *out);

/* What a model file records besides the network: the preprocessing its data
 * had and how its training ended. made_trainer_fit fills the training fields
 * when it returns MADE_OK; the caller sets binarize (made_model_set_record).
 * Saved with the model ("record" in the file's metadata), shown by `made info`. */
typedef struct made_model_record {
    double binarize; /* values > binarize were mapped to 1, others to 0; NAN: none */
    int epochs_run;  /* epochs completed; 0: never trained */
    int best_epoch;  /* 1-based epoch whose parameters the model holds */
    made_stop stop;
    double train_nll; /* mean training NLL of the last epoch (nats/example), NAN: none */
    double val_nll;   /* validation NLL of best_epoch, NAN: no validation */
} made_model_record;
const made_model_record *made_model_get_record(const made_model *m);
/* Checked: binarize finite or NAN, counts >= 0, best_epoch <= epochs_run. */
int made_model_set_record(made_model *m, const made_model_record *r);

/* Mean NLL in nats per example: with masks = 0 under the current mask set,
 * otherwise under the mixture of mask sets 0..masks-1. */
int made_model_nll(made_model *m, const float *x, const float *c, size_t n, int masks,
                   double *nll);

/* Training a flow by maximum likelihood with made's trainer: the returned
 * trainer works with made_trainer_step, _fit (batch norm: batch statistics
 * in training, running averages for validation, then the final pass over the
 * training data; the flow's record filled at the end), _save and _free exactly
 * as a MADE's. f is borrowed. A MAF's density is one network pass per layer;
 * an IAF's is the autoregressive direction, and its gradient (exact, by
 * implicit differentiation) costs about E backward passes per layer and step,
 * so IAF training is for small E. With share_weights the one network's
 * gradient is the sum over the layers. With batch norm a batch of one row is
 * refused (MADE_E_INVAL). */
int made_flow_trainer_create(made_trainer **out, made_flow *f, const made_train_config *cfg);
/* How a flow's training ended (made_model_record; binarize is NAN unless the
 * caller sets it): made_trainer_fit of a flow trainer fills it, made_flow_save
 * keeps it in the file. Checked as made_model_set_record's. */
const made_model_record *made_flow_get_record(const made_flow *f);
int made_flow_set_record(made_flow *f, const made_model_record *r);
/* Resumes a flow's checkpoint (made_trainer_save of a flow trainer). */
int made_flow_trainer_resume(made_trainer **out, made_flow **flow, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* MADE_H */
