/* flow_opts.h - `made train --flow` options, and one handle for "the model",
 * MADE or flow, so commands treat both alike. */
#ifndef MADE_CLI_FLOW_OPTS_H
#define MADE_CLI_FLOW_OPTS_H

#include "cli.h"

#define CLI_FLOW_OPTS                                                                           \
    {"flow", 0, "KIND:K", "train a flow of K layers instead of a MADE: maf:K, or iaf:K (its "   \
                          "training costs about E passes per step)", 0},                        \
    {"share-weights", 0, NULL, "flow: one network for all K layers (default: one per layer)", 0}, \
    {"permutation", 0, "P", "between flow layers: reverse (default), random, identity, or a "    \
                            "0-based list such as 2,0,1", 0},                                   \
    {"batch-norm", 0, NULL, "flow: batch normalisation before each layer (MAF paper)", 0},       \
    {"scale", 0, "S", "flow scale: exp (default, as TFP), softplus or softclip", 0},              \
    {"standardize", 0, NULL, "flow: standardise each dimension by the training data's mean "     \
                             "and std (stored in the model)", 0},                               \
    {"dequantize", 0, NULL, "flow: data are 8-bit values 0..255; add seeded uniform noise and "  \
                            "model pixel space (needs --logit)", 0},                            \
    {"logit", 0, "L", "flow: logit(L + (1 - 2L) x) of data in [0, 1] (or of pixels / 256 "      \
                      "with --dequantize), as in the MAF paper", 0}

/* A MADE or a flow; exactly one is set. */
typedef struct cli_model {
    made_model *m;
    made_flow *f;
} cli_model;

/* Fills fc from the parsed options (--flow given); the layer network's
 * options come from the MADE options with params = 2. perm_buf receives an
 * explicit --permutation, order_buf an explicit --input-order. */
int cli_flow_config(const cli_cmd *cmd, int E, int C, made_flow_config *fc, int *perm_buf,
                    int *order_buf, int cap);
/* The first flow-only option given (--flow, --permutation, --batch-norm,
 * --scale, --standardize, --dequantize, --logit, --share-weights), or NULL. */
const char *cli_flow_option_given(const cli_cmd *cmd);
/* Uniform dequantisation (made_dequantize); a value that is not an integer
 * 0..levels-1 is reported with the file's name. */
int cli_dequantize(const char *verb, const char *path, float *x, size_t rows, size_t cols,
                   uint64_t seed, int levels);
/* Loads MODEL: a flow file or a MADE model file. */
int cli_model_load(const char *verb, const char *path, cli_model *out);
void cli_model_free(cli_model *cm);
int cli_model_event_size(const cli_model *cm);
int cli_model_cond_size(const cli_model *cm);
int cli_model_check_data(const cli_model *cm, const float *x, size_t n);
int cli_model_set_threads(cli_model *cm, int threads);
int cli_model_save(const cli_model *cm, const char *path);
size_t cli_model_num_params(const cli_model *cm);

#endif
