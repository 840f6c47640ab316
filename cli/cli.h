/*
 * cli.h - the made command line: option parsing and the verbs. The CLI uses only
 * the public header include/made.h.
 *
 * Exit codes: 0 success, 1 failure while working (files, data, model), 2 usage
 * errors (unknown option, missing or malformed value). Messages go to stderr and
 * start with "made VERB: ".
 */
#ifndef MADE_CLI_H
#define MADE_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "made.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2
#define CLI_HELP 3 /* --help was printed: exit 0 */

typedef struct cli_opt {
    const char *name;  /* long name without "--" */
    char short_name;   /* 0 if none */
    const char *arg;   /* value placeholder ("FILE"), or NULL for a flag */
    const char *help;  /* one line */
    const char *value; /* parsed: the value, or "" for a flag that was given */
} cli_opt;

typedef struct cli_cmd {
    const char *verb;
    const char *usage;       /* after "made VERB " */
    const char *summary;     /* one line */
    const char *description; /* paragraphs after the options, or NULL */
    cli_opt *opts;
    int nopts;
    int min_pos, max_pos; /* positional arguments */
} cli_cmd;

/* Parses argv (argv[0] is the verb). Positional arguments go to pos. Prints
 * help for --help (returns CLI_HELP) and a clear message for errors (CLI_USAGE). */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, const char **pos, int *npos);
void cli_print_help(const cli_cmd *cmd);
/* The candidate nearest to word if it is close enough to be a typo (edit
 * distance, or a prefix of at least 3 letters), else NULL. */
const char *cli_nearest(const char *word, const char *const *candidates, int n);
/* The option's value, or NULL if it was not given. */
const char *cli_get(const cli_cmd *cmd, const char *name);

/* Sets an option's value as if it had been given (value is borrowed). */
void cli_set(const cli_cmd *cmd, const char *name, const char *value);

/* Value parsers: each prints "made VERB: --opt: <problem>" and returns
 * CLI_USAGE on bad text; used for every number and list on the command line. */
int cli_int(const char *verb, const char *opt, const char *text, long long min, long long max,
            long long *out);
int cli_double(const char *verb, const char *opt, const char *text, double min, double max,
               double *out);
/* Comma-separated integers "64,64" (each in [min, max]); at most maxn. */
int cli_int_list(const char *verb, const char *opt, const char *text, long long min,
                 long long max, int *out, int maxn, int *n);

/* After a failed made_*_parse of option opt: prints "made VERB: --opt: <problem>"
 * (made_last_error() without the setting's own name) and returns CLI_USAGE. */
int cli_name_error(const char *verb, const char *opt);

/* Prints "made VERB: message" with made_last_error() and returns CLI_FAIL. */
int cli_fail_status(const char *verb, int status);
int cli_fail(const char *verb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Writes s as a JSON string literal. */
void cli_json_string(FILE *f, const char *s);

/* Reads a data file as rows: the first axis is the example, the rest are
 * flattened. width = 0 accepts any width. binarize (unless NAN) maps values to
 * 1 if > binarize else 0. Prints the problem (file, row, column) on failure. */
int cli_load_rows(const char *verb, const char *path, size_t width, double binarize,
                  made_array *a, size_t *rows, size_t *cols);


/* Loads conditional inputs like cli_load_rows (no binarizing), for data of
 * `examples` rows; a 1-D vector of one value per example is refused with a
 * message that says how to shape it. */
int cli_load_conditional(const char *verb, const char *path, size_t width, size_t examples,
                         made_array *a, size_t *rows, size_t *cols);

/* Output formats, as bits for cli_output's allowed set. */
#define CLI_FMT_NPY 1u
#define CLI_FMT_CSV 2u
#define CLI_FMT_PNG 4u
#define CLI_FMT_MODEL 8u /* safetensors, whatever the name */

/* Checks an output path given to option opt ("-o") before any work starts: its
 * format from the extension (one of allowed; "-" is standard output, .npy for
 * arrays), and that it can be written (made_output_check). Prints the problem
 * naming the option and returns CLI_USAGE (unknown format) or CLI_FAIL. */
int cli_output(const char *verb, const char *opt, const char *path, unsigned allowed,
               unsigned *fmt);

/* train_run.c: what a training run remembers. cli_run_note: the data options
 * given (--val-fraction, --val, --val-conditional, --conditional, --binarize)
 * as the checkpoint's note (malloc'd; NULL after printing a problem).
 * cli_run_apply_note: on --resume, fills in the options the run was started
 * with (note is split in place and must outlive cmd); a repeated option must
 * have the same value. cli_run_check_settings: options repeated next to
 * --resume (tgiven/thave: trainer settings) or --init-from (NULL: the model's
 * only) must equal what `where` holds. Both print the problem, CLI_USAGE. */
char *cli_run_note(const cli_cmd *cmd);
int cli_run_apply_note(cli_cmd *cmd, char *note, const char *ckpt);
int cli_run_check_settings(const cli_cmd *cmd, const char *where, const made_config *given,
                           const made_config *have, const made_train_config *tgiven,
                           const made_train_config *thave);

/* The steps of `made train` that use what a run remembers (train_run.c):
 * open a checkpoint (a MADE's or a flow's) and fill in its data options; check
 * the options repeated on --resume and apply --epochs; build the model --init-from starts from;
 * print which epoch was kept and why training stopped; remove the checkpoint
 * (a regular file only). Each prints its problem and returns CLI_*. */
struct cli_model; /* a MADE or a flow (flow_opts.h) */
int cli_train_resume_open(cli_cmd *cmd, const char *ckpt, made_trainer **t, struct cli_model *cm,
                          char **note);
int cli_train_resume_check(const cli_cmd *cmd, const char *ckpt, made_trainer *t,
                           const struct cli_model *cm, const made_train_config *tgiven, int *order,
                           int cap);
int cli_train_init_from(const cli_cmd *cmd, const char *path, made_model **out, int *order,
                        int cap);
void cli_train_outcome(const made_model_record *r, int have_val, int patience);
void cli_train_remove_checkpoint(const char *ckpt);

/* progress.c: the live line `made train` redraws on a terminal, cut to width
 * columns; cli_terminal_width: the terminal's columns ($COLUMNS, else 80, when
 * fd is no terminal). CLI_PROGRESS_HELP explains its fields for --help. */
int cli_terminal_width(int fd);
void cli_progress_line(FILE *f, const made_progress *p, int width);
#define CLI_PROGRESS_HELP                                                                        \
    "progress on a terminal, redrawn in place and cut to the terminal's width:\n"                \
    "  epoch 3/20 [#######-------------]  35%  41250 ex/s  train 91.2040  best val 90.8811  ETA "  \
    "02:41\n"                                                                                      \
    "  [#---] and %: the part of this epoch done; ex/s: training examples per second; train: "     \
    "mean\n  negative log-likelihood of this epoch so far in nats per example; best val: the "      \
    "lowest\n  validation NLL so far (nats/example); ETA: time left for the whole run (mm:ss or "  \
    "h:mm:ss).\n  After each epoch one line stays: its train and val NLL, '*' when val is the "     \
    "best so far\n  (the epoch whose parameters are kept), throughput and seconds taken."

/* Part `part` of `parts` of a data file's rows, for data-parallel training:
 * rows [first, first + rows) = [R*part/parts, R*(part+1)/parts) of its R =
 * *total rows, checked and binarized like cli_load_rows. A .npy file is read
 * only there; other formats are read whole and the part kept. *fp is a
 * fingerprint of the file's shape and a few fixed rows, the same on every part
 * for the same file. */
int cli_load_slice(const char *verb, const char *path, size_t width, double binarize, int part,
                   int parts, made_array *a, size_t *first, size_t *rows, size_t *total,
                   size_t *cols, uint64_t *fp);

int cmd_init(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_logprob(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_toy(int argc, char **argv);

#endif
