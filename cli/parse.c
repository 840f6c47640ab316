/* parse.c - option and value parsing for the made CLI. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static cli_opt *find_long(const cli_cmd *cmd, const char *name, size_t len)
{
    for (int i = 0; i < cmd->nopts; i++)
        if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
            return &cmd->opts[i];
    return NULL;
}

static cli_opt *find_short(const cli_cmd *cmd, char c)
{
    for (int i = 0; i < cmd->nopts; i++)
        if (cmd->opts[i].short_name == c) return &cmd->opts[i];
    return NULL;
}

/* Edit distance (insertions, deletions, substitutions, transpositions of two
 * neighbours), for suggesting the nearest option or verb. Words longer than 63
 * characters are too far from everything. */
static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63) return 1000;
    int d[64][64];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *cli_nearest(const char *word, const char *const *candidates, int n)
{
    const char *best = NULL;
    int best_d = 1000;
    size_t len = strlen(word);
    for (int i = 0; i < n; i++) {
        int d = distance(word, candidates[i]);
        /* A word the candidate starts with ("--epoch" for --epochs) is near too. */
        if (len >= 3 && strncmp(candidates[i], word, len) == 0 && d > 1) d = 1;
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* Close enough to be a typo: at most a third of the word, and at most 3. */
    int limit = (int)(len / 3);
    if (limit < 1) limit = 1;
    if (limit > 3) limit = 3;
    return best_d <= limit ? best : NULL;
}

static void unknown_option(const cli_cmd *cmd, const char *arg, const char *name, size_t len)
{
    const char *names[128];
    int n = 0;
    for (int i = 0; i < cmd->nopts && n < 128; i++) names[n++] = cmd->opts[i].name;
    char word[64] = "";
    if (len < sizeof word) {
        memcpy(word, name, len);
        word[len] = '\0';
    }
    const char *near = cli_nearest(word, names, n);
    fprintf(stderr, "made %s: unknown option '%s'", cmd->verb, arg);
    if (near) fprintf(stderr, "; did you mean --%s?", near);
    fprintf(stderr, " (see 'made %s --help')\n", cmd->verb);
}

void cli_print_help(const cli_cmd *cmd)
{
    printf("usage: made %s %s\n\n%s\n\noptions:\n", cmd->verb, cmd->usage, cmd->summary);
    for (int i = 0; i < cmd->nopts; i++) {
        const cli_opt *o = &cmd->opts[i];
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-34s %s\n", left, o->help);
    }
    printf("  %-34s %s\n", "-h, --help", "show this help and exit");
    if (cmd->description) printf("\n%s\n", cmd->description);
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, const char **pos, int *npos)
{
    *npos = 0;
    for (int i = 0; i < cmd->nopts; i++) cmd->opts[i].value = NULL;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        cli_opt *o = NULL;
        const char *inline_val = NULL;
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            cli_print_help(cmd);
            return CLI_HELP;
        }
        if (!only_pos && a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            o = find_long(cmd, a + 2, len);
            if (eq) inline_val = eq + 1;
        } else if (!only_pos && a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9') && a[1] != '.') {
            if (a[2] != '\0') {
                fprintf(stderr, "made %s: unknown option '%s' (options are separate: '-o FILE'; "
                        "see 'made %s --help')\n", cmd->verb, a, cmd->verb);
                return CLI_USAGE;
            }
            o = find_short(cmd, a[1]);
        } else {
            if (*npos >= cmd->max_pos) {
                fprintf(stderr, "made %s: unexpected argument '%s' (see 'made %s --help')\n",
                        cmd->verb, a, cmd->verb);
                return CLI_USAGE;
            }
            pos[(*npos)++] = a;
            continue;
        }
        if (!o) {
            if (a[1] == '-') {
                const char *eq = strchr(a + 2, '=');
                unknown_option(cmd, a, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
            } else {
                fprintf(stderr, "made %s: unknown option '%s' (see 'made %s --help')\n",
                        cmd->verb, a, cmd->verb);
            }
            return CLI_USAGE;
        }
        if (o->value) {
            fprintf(stderr, "made %s: option --%s given twice\n", cmd->verb, o->name);
            return CLI_USAGE;
        }
        if (!o->arg) {
            if (inline_val) {
                fprintf(stderr, "made %s: option --%s takes no value\n", cmd->verb, o->name);
                return CLI_USAGE;
            }
            o->value = "";
            continue;
        }
        if (inline_val) {
            o->value = inline_val;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            fprintf(stderr, "made %s: option --%s needs a value (%s)\n", cmd->verb, o->name, o->arg);
            return CLI_USAGE;
        }
    }
    if (*npos < cmd->min_pos) {
        fprintf(stderr, "made %s: missing argument (usage: made %s %s)\n", cmd->verb, cmd->verb,
                cmd->usage);
        return CLI_USAGE;
    }
    return CLI_OK;
}

void cli_set(const cli_cmd *cmd, const char *name, const char *value)
{
    cli_opt *o = find_long(cmd, name, strlen(name));
    if (o) o->value = value;
}

const char *cli_get(const cli_cmd *cmd, const char *name)
{
    cli_opt *o = find_long(cmd, name, strlen(name));
    return o ? o->value : NULL;
}

int cli_int(const char *verb, const char *opt, const char *text, long long min, long long max,
            long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE) {
        fprintf(stderr, "made %s: --%s: '%s' is not an integer\n", verb, opt, text);
        return CLI_USAGE;
    }
    if (v < min || v > max) {
        fprintf(stderr, "made %s: --%s: %lld is out of range (%lld..%lld)\n", verb, opt, v, min, max);
        return CLI_USAGE;
    }
    *out = v;
    return CLI_OK;
}

int cli_double(const char *verb, const char *opt, const char *text, double min, double max,
               double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        fprintf(stderr, "made %s: --%s: '%s' is not a finite number\n", verb, opt, text);
        return CLI_USAGE;
    }
    if (v < min || v > max) {
        fprintf(stderr, "made %s: --%s: %g is out of range (%g..%g)\n", verb, opt, v, min, max);
        return CLI_USAGE;
    }
    *out = v;
    return CLI_OK;
}

int cli_int_list(const char *verb, const char *opt, const char *text, long long min,
                 long long max, int *out, int maxn, int *n)
{
    *n = 0;
    if (*text == '\0') return CLI_OK; /* an empty list: e.g. --hidden '' for no hidden layer */
    const char *p = text;
    for (;;) {
        char item[32];
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof item) {
            fprintf(stderr, "made %s: --%s: '%s' is not a comma-separated list of integers\n",
                    verb, opt, text);
            return CLI_USAGE;
        }
        if (*n >= maxn) {
            fprintf(stderr, "made %s: --%s: more than %d entries\n", verb, opt, maxn);
            return CLI_USAGE;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        long long v;
        if (cli_int(verb, opt, item, min, max, &v)) return CLI_USAGE;
        out[(*n)++] = (int)v;
        if (!comma) break;
        p = comma + 1;
    }
    return CLI_OK;
}

int cli_fail_status(const char *verb, int status)
{
    const char *detail = made_last_error();
    fprintf(stderr, "made %s: %s\n", verb, detail[0] ? detail : made_strerror(status));
    return CLI_FAIL;
}

int cli_fail(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "made %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int cli_name_error(const char *verb, const char *opt)
{
    const char *detail = made_last_error();
    const char *colon = strstr(detail, ": ");
    fprintf(stderr, "made %s: --%s: %s\n", verb, opt, colon ? colon + 2 : detail);
    return CLI_USAGE;
}
