/* Indicators from C: batch values against hand-computed ones, catalog
 * streams == batch, save/load across handles, closed handles, error statuses. */
#include <stdint.h>
#include <string.h>

#include "check.h"

#define N 64

static double series[N];

static void make_series(void) {
    double level = 100.0;
    for (int i = 0; i < N; i++) {
        level += ((i * 37) % 11 - 5) * 0.37;
        series[i] = level;
    }
}

static void test_batch_hand_values(void) {
    double prices[5] = {1, 2, 3, 4, 5};
    double out[5];
    CHECK_OK(pyrt_sma(prices, 5, 2, out));
    CHECK(isnan(out[0]));
    CHECK_CLOSE(out[1], 1.5, 0.0);
    CHECK_CLOSE(out[4], 4.5, 0.0);

    double e[4] = {1, 2, 3, 4};
    CHECK_OK(pyrt_ema(e, 4, 3, out));
    CHECK(isnan(out[1]));
    CHECK_CLOSE(out[2], 2.0, 0.0);  /* seed: mean of the first 3 */
    CHECK_CLOSE(out[3], 3.0, 0.0);  /* 2 + 0.5 * (4 - 2) */

    double r[4] = {1, 2, 1, 3};
    CHECK_OK(pyrt_rsi(r, 4, 2, out));
    CHECK(isnan(out[1]));
    CHECK_CLOSE(out[2], 50.0, 1e-12);
    CHECK_CLOSE(out[3], 100.0 * 1.25 / 1.5, 1e-12);

    double b[3] = {1, 3, 5}, up[3], mid[3], lo[3];
    CHECK_OK(pyrt_bollinger_bands(b, 3, 2, 2.0, up, mid, lo));
    CHECK(isnan(up[0]) && isnan(mid[0]) && isnan(lo[0]));
    CHECK_CLOSE(up[1], 4.0, 1e-12);
    CHECK_CLOSE(mid[1], 2.0, 1e-12);
    CHECK_CLOSE(lo[2], 2.0, 1e-12);

    double high[4] = {10, 11, 12, 11.5}, low[4] = {9, 10, 10.5, 9}, close[4] = {9.5, 10.5, 11, 10};
    CHECK_OK(pyrt_atr(high, 4, low, 4, close, 4, 2, out));
    CHECK(isnan(out[1]));
    CHECK_CLOSE(out[2], 1.5, 1e-12);
    CHECK_CLOSE(out[3], 2.0, 1e-12);

    double m[8] = {1, 2, 4, 8, 16, 32, 64, 128}, line[8], sig[8], hist[8];
    CHECK_OK(pyrt_macd(m, 8, 2, 3, 2, line, sig, hist));
    /* lookback slow + signal - 2 = 3 for all three lines */
    CHECK(isnan(line[2]) && isnan(sig[2]) && isnan(hist[2]));
    /* at index 2: slow = mean(1,2,4) = 7/3, fast = mean(2,4) = 3 -> macd 2/3;
     * index 3: slow += (8 - 7/3) / 2, fast += (8 - 3) * 2/3 */
    double slow = 7.0 / 3.0 + (8.0 - 7.0 / 3.0) * 0.5;
    double fast = 3.0 + (8.0 - 3.0) * (2.0 / 3.0);
    CHECK_CLOSE(line[3], fast - slow, 1e-12);
    CHECK_CLOSE(sig[3], ((3.0 - 7.0 / 3.0) + (fast - slow)) / 2.0, 1e-12);
    CHECK_CLOSE(hist[3], line[3] - sig[3], 1e-15);
}

/* One bar at a time through the generic stream API equals pyrt's batch
 * function (the same kernels). */
static void expect_stream_equals(const char *name, const double *params, size_t n_params,
                                 const double *const *inputs, size_t n_inputs,
                                 double *const *batch, size_t n_outputs) {
    PyrtStream *s = NULL;
    CHECK_OK(pyrt_stream_new(name, params, n_params, &s));
    for (int i = 0; i < N; i++) {
        double tick[3], out[3];
        for (size_t k = 0; k < n_inputs; k++) tick[k] = inputs[k][i];
        CHECK_OK(pyrt_stream_update(s, tick, n_inputs, out, n_outputs));
        for (size_t k = 0; k < n_outputs; k++) {
            CHECK(isnan(out[k]) == isnan(batch[k][i]));
            if (!isnan(out[k])) CHECK_CLOSE(out[k], batch[k][i], 1e-10);
        }
    }
    pyrt_stream_free(s);
}

static void test_streaming_equals_batch(void) {
    double b0[N], b1[N], b2[N], hi[N], lo[N];
    double *const one[1] = {b0};
    double *const three[3] = {b0, b1, b2};
    const double *const price[1] = {series};
    const double *const bars[3] = {hi, lo, series};
    for (int i = 0; i < N; i++) {
        hi[i] = series[i] + 0.5;
        lo[i] = series[i] - 0.7;
    }
    double p5[1] = {5}, p14[1] = {14}, pm[3] = {12, 26, 9}, pb[4] = {20, 2.0, 2.0, 0};
    CHECK_OK(pyrt_sma(series, N, 5, b0));
    expect_stream_equals("SMA", p5, 1, price, 1, one, 1);
    CHECK_OK(pyrt_ema(series, N, 5, b0));
    expect_stream_equals("EMA", p5, 1, price, 1, one, 1);
    CHECK_OK(pyrt_rsi(series, N, 14, b0));
    expect_stream_equals("RSI", p14, 1, price, 1, one, 1);
    CHECK_OK(pyrt_macd(series, N, 12, 26, 9, b0, b1, b2));
    expect_stream_equals("MACD", pm, 3, price, 1, three, 3);
    CHECK_OK(pyrt_bollinger_bands(series, N, 20, 2.0, b0, b1, b2));
    expect_stream_equals("BBANDS", pb, 4, price, 1, three, 3);
    CHECK_OK(pyrt_atr(hi, N, lo, N, series, N, 14, b0));
    expect_stream_equals("ATR", p14, 1, bars, 3, one, 1);

    /* The typed stream functions and the typed batch function agree too. */
    PyrtStream *typed = NULL;
    CHECK_OK(pyrt_ta_atr_stream_new(14, &typed));
    CHECK_OK(pyrt_ta_atr(hi, lo, series, N, 14, b1));
    for (int i = 0; i < N; i++) {
        double v = 0.0;
        CHECK_OK(pyrt_ta_atr_stream_update(typed, hi[i], lo[i], series[i], &v));
        CHECK(isnan(v) == isnan(b1[i]));
        if (!isnan(v)) CHECK(v == b0[i] || fabs(v - b0[i]) < 1e-10);
    }
    pyrt_stream_free(typed);
}

static void test_save_load(void) {
    PyrtStream *a = NULL, *b = NULL;
    double p14[1] = {14};
    CHECK_OK(pyrt_stream_new("RSI", p14, 1, &a));
    double out[N];
    const double *const in[1] = {series};
    double *const outs[1] = {out};
    CHECK_OK(pyrt_stream_update_many(a, in, 1, N / 2, outs, 1));

    size_t size = 0;
    CHECK_STATUS(pyrt_stream_save(a, NULL, 0, &size), PYRT_BUFFER_TOO_SMALL);
    CHECK(size > 8);
    uint8_t buf[256];
    CHECK(size <= sizeof buf);
    size_t written = 0;
    CHECK_OK(pyrt_stream_save(a, buf, sizeof buf, &written));
    CHECK(written == size);
    CHECK(memcmp(buf, "PYRT", 4) == 0);
    CHECK_OK(pyrt_stream_load(buf, written, &b));
    size_t index = 99, rsi = 0;
    CHECK_OK(pyrt_stream_indicator(b, &index));
    CHECK_OK(pyrt_indicator_find("RSI", &rsi));
    CHECK(index == rsi);
    for (int i = N / 2; i < N; i++) {
        double va = 0, vb = 1;
        CHECK_OK(pyrt_stream_update(a, &series[i], 1, &va, 1));
        CHECK_OK(pyrt_ta_rsi_stream_update(b, series[i], &vb));
        CHECK(va == vb);
    }

    /* Wrong version, truncated, garbage: refused, nothing written. */
    PyrtStream *c = NULL;
    uint8_t bad[256];
    memcpy(bad, buf, written);
    bad[4] = 99;
    CHECK_STATUS(pyrt_stream_load(bad, written, &c), PYRT_INVALID_STATE);
    CHECK_STATUS(pyrt_stream_load(buf, written - 1, &c), PYRT_INVALID_STATE);
    memset(bad, 0xAB, sizeof bad);
    CHECK_STATUS(pyrt_stream_load(bad, sizeof bad, &c), PYRT_INVALID_STATE);
    CHECK(strstr(pyrt_last_error_message(), "state") != NULL);
    CHECK(c == NULL);

    /* A closed stream refuses every call; the handle stays valid until freed. */
    pyrt_stream_close(a);
    pyrt_stream_close(a);
    double v = 0;
    CHECK_STATUS(pyrt_stream_update(a, &series[0], 1, &v, 1), PYRT_CLOSED);
    CHECK(strstr(pyrt_last_error_message(), "closed") != NULL);
    pyrt_stream_free(a);
    pyrt_stream_free(b);
    pyrt_stream_free(NULL);
}

static void test_errors(void) {
    double x[3] = {1, 2, 3}, out[3], o2[3], o3[3];
    CHECK_STATUS(pyrt_sma(x, 3, 0, out), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "window:", 7) == 0);
    CHECK_STATUS(pyrt_ema(x, 3, 4, out), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "window:", 7) == 0);
    CHECK_STATUS(pyrt_rsi(x, 0, 1, out), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "prices:", 7) == 0);
    CHECK_STATUS(pyrt_macd(x, 3, 3, 2, 1, out, o2, o3), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "fast_period:", 12) == 0);
    CHECK_STATUS(pyrt_bollinger_bands(x, 3, 2, 2.0, out, out, o3), PYRT_INVALID_ARGUMENT);
    CHECK_STATUS(pyrt_atr(x, 3, x, 3, x, 2, 1, out), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "close:", 6) == 0);
    CHECK_STATUS(pyrt_atr(x, 3, x, 3, x, 3, 1, NULL), PYRT_NULL_POINTER);
    CHECK(strncmp(pyrt_last_error_message(), "out:", 4) == 0);
    PyrtStream *m = NULL;
    double bad_macd[3] = {1, 26, 9};
    CHECK_STATUS(pyrt_stream_new("MACD", bad_macd, 3, &m), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "fastperiod:", 11) == 0);
    CHECK(m == NULL);
    CHECK_STATUS(pyrt_stream_new("NOPE", NULL, 0, &m), PYRT_NOT_FOUND);
    CHECK_STATUS(pyrt_ta_sma_stream_new(5, NULL), PYRT_NULL_POINTER);
    double v = 0;
    CHECK_STATUS(pyrt_ta_sma_stream_update(NULL, 1.0, &v), PYRT_NULL_POINTER);
    const double *const in[1] = {x};
    double *const outs[1] = {out};
    CHECK_STATUS(pyrt_stream_update_many(NULL, in, 1, 3, outs, 1), PYRT_NULL_POINTER);
}

int main(void) {
    make_series();
    test_batch_hand_values();
    test_streaming_equals_batch();
    test_save_load();
    test_errors();
    CHECK_DONE("test_indicators");
}
