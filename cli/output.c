/* output.c - output files for the CLI verbs: the format from the name, checked
 * before any work starts, and the write itself. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* /dev/null, /dev/stdout, a named pipe: names that cannot carry an extension. */
static int is_device_or_pipe(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode));
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *format_list(unsigned allowed)
{
    if (allowed == CLI_FMT_PNG) return ".png";
    if (allowed == CLI_FMT_MODEL) return "a model file (.safetensors)";
    return ".npy or .csv";
}

int cli_output(const char *verb, const char *opt, const char *path, unsigned allowed,
               unsigned *fmt)
{
    unsigned f = 0;
    if (allowed == CLI_FMT_MODEL) f = CLI_FMT_MODEL; /* one format, whatever the name */
    else if (strcmp(path, "-") == 0) f = allowed & CLI_FMT_NPY ? CLI_FMT_NPY : allowed;
    else if (ends_with(path, ".npy")) f = CLI_FMT_NPY;
    else if (ends_with(path, ".csv")) f = CLI_FMT_CSV;
    else if (ends_with(path, ".png")) f = CLI_FMT_PNG;
    else if (is_device_or_pipe(path)) f = allowed & CLI_FMT_NPY ? CLI_FMT_NPY : allowed;
    /* A directory is reported as such below, whatever its name. */
    if (!(f & allowed) && !is_directory(path)) {
        const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
        if (dot && (!slash || dot > slash))
            fprintf(stderr, "made %s: %s %s: unknown output format '%s' (use %s, or - for "
                    "standard output)\n", verb, opt, path, dot, format_list(allowed));
        else
            fprintf(stderr, "made %s: %s %s: the name has no extension to tell the format (use "
                    "%s, or - for standard output)\n", verb, opt, path, format_list(allowed));
        return CLI_USAGE;
    }
    if (made_output_check(path) != MADE_OK) {
        /* The library's message starts with the path. */
        const char *e = made_last_error();
        if (strncmp(e, path, strlen(path)) == 0) fprintf(stderr, "made %s: %s %s\n", verb, opt, e);
        else fprintf(stderr, "made %s: %s %s: %s\n", verb, opt, path, e);
        return CLI_FAIL;
    }
    if (fmt) *fmt = f;
    return CLI_OK;
}
