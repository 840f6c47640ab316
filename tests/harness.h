/*
 * harness.h - a tiny test harness: typed checks that print both values, and a
 * summary line per program ("test_x: N passed, N failed") that tests/run.sh adds up.
 *
 *     static void test_something(void) { CHECK_EQ_INT(1 + 1, 2); }
 *     int main(void) { RUN(test_something); return harness_summary("test_x"); }
 */
#ifndef MADE_TEST_HARNESS_H
#define MADE_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_passed_, harness_failed_, harness_case_failed_;
static const char *harness_case_;

#define HARNESS_FAIL_(...)                                                       \
    do {                                                                         \
        fprintf(stderr, "FAIL %s (%s:%d): ", harness_case_, __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                            \
        fputc('\n', stderr);                                                     \
        harness_case_failed_ = 1;                                                \
    } while (0)

#define CHECK(cond)                                                \
    do {                                                           \
        if (!(cond)) HARNESS_FAIL_("CHECK(%s)", #cond);            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                          \
    do {                                                                            \
        long long a_ = (long long)(a), b_ = (long long)(b);                         \
        if (a_ != b_) HARNESS_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);      \
    } while (0)

/* Status checks print the detail message of the failing call. */
#define CHECK_OK(expr)                                                               \
    do {                                                                             \
        int rc_ = (expr);                                                            \
        if (rc_ != 0) HARNESS_FAIL_("%s -> %d (%s)", #expr, rc_, made_last_error()); \
    } while (0)

#define CHECK_STATUS(expr, want)                                                    \
    do {                                                                            \
        int rc_ = (expr), w_ = (want);                                              \
        if (rc_ != w_)                                                              \
            HARNESS_FAIL_("%s -> %d, want %d (%s)", #expr, rc_, w_, made_last_error()); \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                       \
    do {                                                                            \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);              \
        if (!(fabs(a_ - b_) <= t_))                                                 \
            HARNESS_FAIL_("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_, t_);    \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                             \
    do {                                                                            \
        const char *h_ = (hay), *n_ = (needle);                                     \
        if (!h_ || !strstr(h_, n_))                                                 \
            HARNESS_FAIL_("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_); \
    } while (0)

#define RUN(fn)                                    \
    do {                                           \
        harness_case_ = #fn;                       \
        harness_case_failed_ = 0;                  \
        fn();                                      \
        if (harness_case_failed_) harness_failed_++; \
        else harness_passed_++;                    \
    } while (0)

static inline int harness_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, harness_passed_, harness_failed_);
    return harness_failed_ ? 1 : 0;
}

#endif
