/* Minimal assertions for the C tests: a failed check prints where and why,
 * and the test exits non-zero. */
#ifndef PYRT_TEST_CHECK_H
#define PYRT_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <pyrt.h>

static int check_failures = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            check_failures++;                                                \
        }                                                                    \
    } while (0)

#define CHECK_STATUS(call, expected)                                          \
    do {                                                                      \
        PyrtStatus check_status_ = (call);                                    \
        if (check_status_ != (expected)) {                                    \
            fprintf(stderr, "%s:%d: %s returned %d, expected %d (%s)\n",      \
                    __FILE__, __LINE__, #call, (int)check_status_,            \
                    (int)(expected), pyrt_last_error_message());              \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, PYRT_OK)

#define CHECK_CLOSE(a, b, tol)                                                   \
    do {                                                                         \
        double check_a_ = (a), check_b_ = (b);                                   \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                             \
            fprintf(stderr, "%s:%d: %s = %.17g, expected %.17g\n", __FILE__,     \
                    __LINE__, #a, check_a_, check_b_);                           \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

/* Ends a test's main(): prints a summary line and returns the exit code. */
#define CHECK_DONE(name)                                                      \
    do {                                                                      \
        if (check_failures) {                                                 \
            fprintf(stderr, "%s: %d check(s) failed\n", (name), check_failures); \
            return 1;                                                         \
        }                                                                     \
        printf("%s: all checks passed\n", (name));                            \
        return 0;                                                             \
    } while (0)

#endif
