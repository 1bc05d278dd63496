/* What the generated test of every catalog function (test_catalog.c) checks
 * for one function: the typed C function, the generic pyrt_indicator_run and
 * a stream fed bar by bar give the same outputs; the lookback agrees with the
 * NaN prefix; bad calls fail with the documented statuses. */
#ifndef PYRT_TEST_CATALOG_CHECK_H
#define PYRT_TEST_CATALOG_CHECK_H

#include <stdio.h>
#include <string.h>

#include "check.h"

#define CATALOG_N 300
#define CATALOG_MAX_OUT 3

/* A deterministic OHLCV walk: high >= max(open, close), low <= min(open, close). */
static double bar_open[CATALOG_N], bar_high[CATALOG_N], bar_low[CATALOG_N], bar_close[CATALOG_N],
    bar_volume[CATALOG_N];

static inline double unit(unsigned long long *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / 9007199254740992.0;
}

static inline void make_bars(void) {
    unsigned long long state = 42;
    double level = 100.0;
    for (int i = 0; i < CATALOG_N; i++) {
        level += unit(&state) * 2.0 - 1.0;
        bar_close[i] = level;
        bar_open[i] = level + unit(&state) - 0.5;
        double top = bar_open[i] > level ? bar_open[i] : level;
        double bottom = bar_open[i] < level ? bar_open[i] : level;
        bar_high[i] = top + unit(&state);
        bar_low[i] = bottom - unit(&state);
        bar_volume[i] = 1000.0 + (double)(int)(unit(&state) * 9000.0);
    }
}

static inline const double *input_named(const char *name) {
    if (strcmp(name, "high") == 0) return bar_high;
    if (strcmp(name, "low") == 0) return bar_low;
    if (strcmp(name, "open") == 0) return bar_open;
    if (strcmp(name, "volume") == 0) return bar_volume;
    return bar_close; /* close, real, real0 */
}

static inline int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static inline int close_enough(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    double scale = fabs(b) > 1.0 ? fabs(b) : 1.0;
    return fabs(a - b) <= 1e-9 * scale;
}

/* `typed` holds the typed function's outputs (CATALOG_N each). */
static inline void check_catalog_function(const char *name, double typed[][CATALOG_N], size_t typed_lookback) {
    size_t index = 0;
    CHECK_OK(pyrt_indicator_find(name, &index));
    PyrtIndicatorInfo info;
    CHECK_OK(pyrt_indicator_info(index, &info));
    CHECK(strcmp(info.name, name) == 0);
    const double *inputs[8];
    for (size_t k = 0; k < info.n_inputs; k++) inputs[k] = input_named(info.inputs[k]);

    /* The generic call, defaults by omission, gives the same bits. */
    static double generic[CATALOG_MAX_OUT][CATALOG_N];
    double *outs[CATALOG_MAX_OUT];
    for (size_t k = 0; k < info.n_outputs; k++) outs[k] = generic[k];
    CHECK_OK(pyrt_indicator_run(name, NULL, 0, inputs, info.n_inputs, CATALOG_N, outs, info.n_outputs));
    int bits_equal = 1;
    for (size_t k = 0; k < info.n_outputs; k++)
        for (int i = 0; i < CATALOG_N; i++) bits_equal &= same_bits(generic[k][i], typed[k][i]);
    CHECK(bits_equal);

    /* By index (no name lookup), the same bits again. */
    static double by_index[CATALOG_MAX_OUT][CATALOG_N];
    double *index_outs[CATALOG_MAX_OUT];
    for (size_t k = 0; k < info.n_outputs; k++) index_outs[k] = by_index[k];
    CHECK_OK(pyrt_indicator_run_at(index, NULL, 0, inputs, info.n_inputs, CATALOG_N, index_outs, info.n_outputs));
    CHECK(memcmp(by_index, generic, sizeof(double) * CATALOG_N * info.n_outputs) == 0);

    /* The lookback is the NaN prefix, whichever way it is asked. */
    size_t lookback = 0;
    CHECK_OK(pyrt_indicator_lookback(name, NULL, 0, &lookback));
    CHECK(lookback == typed_lookback);
    CHECK(lookback < CATALOG_N && isnan(typed[0][lookback > 0 ? lookback - 1 : 0]) == (lookback > 0));
    CHECK(!isnan(typed[0][lookback]));

    /* A stream fed bar by bar gives the batch outputs. */
    PyrtStream *stream = NULL;
    CHECK_OK(pyrt_stream_new(name, NULL, 0, &stream));
    int stream_equal = 1;
    for (int i = 0; i < CATALOG_N; i++) {
        double tick[8], out[CATALOG_MAX_OUT];
        for (size_t k = 0; k < info.n_inputs; k++) tick[k] = inputs[k][i];
        CHECK_OK(pyrt_stream_update(stream, tick, info.n_inputs, out, info.n_outputs));
        for (size_t k = 0; k < info.n_outputs; k++) stream_equal &= close_enough(out[k], typed[k][i]);
    }
    CHECK(stream_equal);
    pyrt_stream_free(stream);

    /* Wrong input count, a short output list, an out-of-range parameter. */
    CHECK_STATUS(pyrt_indicator_run(name, NULL, 0, inputs, info.n_inputs + 1, CATALOG_N, outs, info.n_outputs),
                 PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "inputs:", 7) == 0);
    CHECK_STATUS(pyrt_indicator_run(name, NULL, 0, inputs, info.n_inputs, CATALOG_N, outs, info.n_outputs - 1),
                 PYRT_INVALID_ARGUMENT);
    CHECK_STATUS(pyrt_indicator_run_at(pyrt_indicator_count(), NULL, 0, inputs, info.n_inputs, CATALOG_N, outs,
                                       info.n_outputs),
                 PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "index:", 6) == 0);
    /* A NULL series is named by its position in the list. */
    const double *with_null[8];
    for (size_t k = 0; k < info.n_inputs; k++) with_null[k] = inputs[k];
    with_null[info.n_inputs - 1] = NULL;
    CHECK_STATUS(pyrt_indicator_run_at(index, NULL, 0, with_null, info.n_inputs, CATALOG_N, outs, info.n_outputs),
                 PYRT_NULL_POINTER);
    char null_name[32];
    snprintf(null_name, sizeof null_name, "inputs[%zu]: must not be NULL", info.n_inputs - 1);
    CHECK(strcmp(pyrt_last_error_message(), null_name) == 0);
    if (info.n_params > 0) {
        double params[8];
        for (size_t k = 0; k < info.n_params; k++) params[k] = NAN;
        params[0] = info.params[0].max * 2.0 + 1.0;
        CHECK_STATUS(pyrt_indicator_run(name, params, info.n_params, inputs, info.n_inputs, CATALOG_N, outs,
                                        info.n_outputs),
                     PYRT_INVALID_ARGUMENT);
        CHECK(strncmp(pyrt_last_error_message(), info.params[0].name, strlen(info.params[0].name)) == 0);
    }
}

#endif
