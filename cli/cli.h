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
/* The option's value, or NULL if it was not given. */
const char *cli_get(const cli_cmd *cmd, const char *name);

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

/* Writes an 8-bit greyscale PNG (zlib for the compression and CRCs). */
int cli_png_write(const char *path, const unsigned char *pixels, int width, int height);

int cmd_init(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_logprob(int argc, char **argv);
int cmd_sample(int argc, char **argv);

#endif
