/* status.c - status codes, their names and the thread-local last-error detail. */
#include <stdio.h>
#include <string.h>

#include <math.h>

#include "core/internal.h"

/* One detail message per thread: the library has no global mutable state, and
 * two threads working on two models never see each other's errors. */
static _Thread_local char last_error[1024];

const char *made_version_string(void) { return MADE_VERSION_STRING; }
int made_version_number(void) { return MADE_VERSION_NUMBER; }

const char *made_strerror(int status)
{
    switch (status) {
#define MADE_STATUS_STR_(name, code, msg) \
    case code: return msg;
        MADE_STATUS_MAP(MADE_STATUS_STR_)
#undef MADE_STATUS_STR_
    }
    return "unknown status code";
}

const char *made_status_name(int status)
{
    switch (status) {
#define MADE_STATUS_NAME_(name, code, msg) \
    case code: return "MADE_" #name;
        MADE_STATUS_MAP(MADE_STATUS_NAME_)
#undef MADE_STATUS_NAME_
    }
    return "MADE_E_UNKNOWN";
}

const char *made_last_error(void) { return last_error; }

void made__clear_error(void) { last_error[0] = '\0'; }

int made__error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

void made__error_prefix(const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    /* Truncation of very long messages is acceptable; the prefix comes first. */
    size_t n = strlen(prefix);
    if (n >= sizeof last_error) n = sizeof last_error - 1;
    memcpy(last_error, prefix, n);
    size_t rest = strlen(old);
    if (rest > sizeof last_error - 1 - n) rest = sizeof last_error - 1 - n;
    memcpy(last_error + n, old, rest);
    last_error[n + rest] = '\0';
}

int made__check_finite(const char *what, const float *v, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            if (!isfinite(v[i * cols + j]))
                return made__error(MADE_E_NONFINITE, "%s: row %zu, column %zu is %g", what,
                                   i + 1, j + 1, (double)v[i * cols + j]);
    return MADE_OK;
}
