/*
 * harness.h - a tiny test harness: typed checks that print both values, and a
 * summary line per program ("test_x: N passed, N failed", plus ", N skipped"
 * when a case could not run) that tests/run.sh adds up.
 *
 *     static void test_something(void) { CHECK_EQ_INT(1 + 1, 2); }
 *     int main(void) { RUN(test_something); return harness_summary("test_x"); }
 *
 * A case that cannot reach its condition calls SKIP("why") and returns: it
 * counts as skipped, never as passed. A case that needs file permissions to be
 * enforced runs its body through harness_unprivileged(fn), which as root runs
 * fn in a child process with the identity of "nobody" (so it runs in CI too).
 */
#ifndef MADE_TEST_HARNESS_H
#define MADE_TEST_HARNESS_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int harness_passed_, harness_failed_, harness_skipped_, harness_case_failed_,
    harness_case_skipped_;
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

/* Marks the current case as not run (the caller returns). A failure already
 * recorded in the case still counts as a failure. */
#define SKIP(...)                                                  \
    do {                                                           \
        fprintf(stderr, "SKIP %s: ", harness_case_);               \
        fprintf(stderr, __VA_ARGS__);                              \
        fputc('\n', stderr);                                       \
        harness_case_skipped_ = 1;                                 \
    } while (0)

static inline void harness_end_case_(void)
{
    if (harness_case_failed_) harness_failed_++;
    else if (harness_case_skipped_) harness_skipped_++;
    else harness_passed_++;
}

#define RUN(fn)                                    \
    do {                                           \
        harness_case_ = #fn;                       \
        harness_case_failed_ = 0;                  \
        harness_case_skipped_ = 0;                 \
        fn();                                      \
        harness_end_case_();                       \
    } while (0)

/* glibc declares setgroups only outside strict POSIX mode (grp.h). */
extern int setgroups(size_t n, const gid_t *groups);

/* Runs fn where file permissions apply: directly for an ordinary user; as root,
 * in a forked child that first drops to uid/gid 65534 ("nobody"/"nogroup"),
 * with nogroup as its only group. Paths fn uses must be reachable by that user
 * (directories mode 0711 or wider). The child's CHECK failures reach the
 * parent through its exit status; a child that cannot drop privileges makes
 * the case skipped. */

static inline void harness_unprivileged(void (*fn)(void))
{
    if (geteuid() != 0) {
        fn();
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        SKIP("fork failed; cannot run as an unprivileged user");
        return;
    }
    if (pid == 0) {
        gid_t none[1] = {65534};
        if (setgroups(1, none) != 0 || setgid(65534) != 0 || setuid(65534) != 0 ||
            geteuid() == 0 || getegid() == 0)
            _exit(77);
        harness_case_failed_ = 0;
        fn();
        fflush(NULL);
        _exit(harness_case_failed_ ? 1 : 0);
    }
    int status = 0;
    pid_t got;
    while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
    if (got != pid) {
        HARNESS_FAIL_("waitpid failed for the unprivileged child");
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        SKIP("cannot drop root privileges to uid 65534");
        return;
    }
    HARNESS_FAIL_("unprivileged child failed (status %d)", status);
}

static inline int harness_summary(const char *name)
{
    if (harness_skipped_)
        printf("%s: %d passed, %d failed, %d skipped\n", name, harness_passed_, harness_failed_,
               harness_skipped_);
    else
        printf("%s: %d passed, %d failed\n", name, harness_passed_, harness_failed_);
    return harness_failed_ ? 1 : 0;
}

#endif
