/* model_opts.h - network options shared by `made init` and `made train`. */
#ifndef MADE_CLI_MODEL_OPTS_H
#define MADE_CLI_MODEL_OPTS_H

#include "cli.h"

/* The option entries, for a verb's option table (expanded in place). */
#define CLI_MODEL_OPTS                                                                           \
    {"params", 'p', "P", "outputs per event dimension (default 1, or what --dist needs)", 0},    \
    {"hidden", 0, "LIST", "hidden layer sizes, e.g. 64,64 ('' for none)", 0},                    \
    {"input-order", 0, "ORDER", "left-to-right (default), right-to-left, random, 2,3,1, or a "  \
                                "FILE (.npy/.csv) of the 1-based order", 0},                    \
    {"hidden-degrees", 0, "KIND", "equal (default) or random", 0},                               \
    {"activation", 0, "NAME", "linear, relu, tanh, sigmoid, elu, selu, softplus, softsign, "     \
                              "swish, gelu, exponential, hard_sigmoid", 0},                     \
    {"no-bias", 0, NULL, "no biases (TFP use_bias=False)", 0},                                    \
    {"kernel-initializer", 0, "INIT", "glorot_uniform (default), he_normal, constant:0.5, ...",  \
     0},                                                                                         \
    {"bias-initializer", 0, "INIT", "zeros (default), ones, constant:V, random_normal:M,S, ...",  \
     0},                                                                                         \
    {"conditional-size", 0, "C", "width of the conditional input (default 0: none)", 0},         \
    {"conditional-layers", 0, "WHICH", "all_layers (default) or first_layer", 0},                 \
    {"seed", 0, "S", "seed for random orders/degrees (as np.random.seed) and initial weights", 0}, \
    {"validate-args", 0, NULL, "check inputs and outputs for NaN/Inf", 0},                        \
    {"masks", 0, "K", "number of mask sets (order/connectivity-agnostic), default 1", 0}

/* Fills cfg (already defaulted) from the parsed options and validates it;
 * order_buf receives an explicit --input-order. Prints the problem and returns
 * CLI_USAGE on error. */
int cli_model_config(const cli_cmd *cmd, made_config *cfg, int *order_buf, int order_cap);

#endif
