/* Indicators from C: batch values against hand-computed ones, streaming ==
 * batch, save/load across handles, error statuses. */
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

static void test_streaming_equals_batch(void) {
    double batch[N], u[N], m[N], l[N], ml[N], ms[N], mh[N], hi[N], lo[N], atr[N];
    for (int i = 0; i < N; i++) {
        hi[i] = series[i] + 0.5;
        lo[i] = series[i] - 0.7;
    }
    PyrtSma *sma = NULL;
    PyrtRsi *rsi = NULL;
    PyrtMacd *macd = NULL;
    PyrtBollinger *bb = NULL;
    PyrtAtr *at = NULL;
    PyrtEma *ema = NULL;
    CHECK_OK(pyrt_sma_new(5, &sma));
    CHECK_OK(pyrt_ema_new(5, &ema));
    CHECK_OK(pyrt_rsi_new(14, &rsi));
    CHECK_OK(pyrt_macd_new(12, 26, 9, &macd));
    CHECK_OK(pyrt_bollinger_new(20, 2.0, &bb));
    CHECK_OK(pyrt_atr_new(14, &at));

    CHECK_OK(pyrt_sma(series, N, 5, batch));
    for (int i = 0; i < N; i++) {
        double v = pyrt_sma_update(sma, series[i]);
        CHECK(isnan(v) == isnan(batch[i]));
        if (!isnan(v)) CHECK_CLOSE(v, batch[i], 1e-10);
    }
    CHECK_OK(pyrt_ema(series, N, 5, batch));
    for (int i = 0; i < N; i++) {
        double v = pyrt_ema_update(ema, series[i]);
        CHECK(isnan(v) == isnan(batch[i]));
        if (!isnan(v)) CHECK_CLOSE(v, batch[i], 1e-10);
    }
    CHECK_OK(pyrt_rsi(series, N, 14, batch));
    for (int i = 0; i < N; i++) {
        double v = pyrt_rsi_update(rsi, series[i]);
        CHECK(isnan(v) == isnan(batch[i]));
        if (!isnan(v)) CHECK_CLOSE(v, batch[i], 1e-10);
    }
    CHECK_OK(pyrt_macd(series, N, 12, 26, 9, ml, ms, mh));
    for (int i = 0; i < N; i++) {
        PyrtMacdValue v = pyrt_macd_update(macd, series[i]);
        CHECK(isnan(v.macd) == isnan(ml[i]));
        if (!isnan(v.macd)) {
            CHECK_CLOSE(v.macd, ml[i], 1e-10);
            CHECK_CLOSE(v.signal, ms[i], 1e-10);
            CHECK_CLOSE(v.histogram, mh[i], 1e-10);
        }
    }
    CHECK_OK(pyrt_bollinger_bands(series, N, 20, 2.0, u, m, l));
    for (int i = 0; i < N; i++) {
        PyrtBands v = pyrt_bollinger_update(bb, series[i]);
        CHECK(isnan(v.middle) == isnan(m[i]));
        if (!isnan(v.middle)) {
            CHECK_CLOSE(v.upper, u[i], 1e-10);
            CHECK_CLOSE(v.middle, m[i], 1e-10);
            CHECK_CLOSE(v.lower, l[i], 1e-10);
        }
    }
    CHECK_OK(pyrt_atr(hi, N, lo, N, series, N, 14, atr));
    for (int i = 0; i < N; i++) {
        double v = pyrt_atr_update(at, hi[i], lo[i], series[i]);
        CHECK(isnan(v) == isnan(atr[i]));
        if (!isnan(v)) CHECK_CLOSE(v, atr[i], 1e-10);
    }
    pyrt_sma_free(sma);
    pyrt_ema_free(ema);
    pyrt_rsi_free(rsi);
    pyrt_macd_free(macd);
    pyrt_bollinger_free(bb);
    pyrt_atr_free(at);
}

static void test_save_load(void) {
    PyrtRsi *a = NULL, *b = NULL;
    CHECK_OK(pyrt_rsi_new(14, &a));
    double out[N];
    CHECK_OK(pyrt_rsi_update_many(a, series, N / 2, out));

    size_t size = 0;
    CHECK_STATUS(pyrt_rsi_save(a, NULL, 0, &size), PYRT_BUFFER_TOO_SMALL);
    CHECK(size > 8);
    uint8_t buf[256];
    CHECK(size <= sizeof buf);
    size_t written = 0;
    CHECK_OK(pyrt_rsi_save(a, buf, sizeof buf, &written));
    CHECK(written == size);
    CHECK(memcmp(buf, "PYRT", 4) == 0);
    CHECK_OK(pyrt_rsi_load(buf, written, &b));
    for (int i = N / 2; i < N; i++) {
        CHECK(pyrt_rsi_update(a, series[i]) == pyrt_rsi_update(b, series[i]));
    }

    /* Wrong kind, wrong version, truncated, garbage: refused, handle untouched. */
    PyrtSma *wrong = NULL;
    CHECK_STATUS(pyrt_sma_load(buf, written, &wrong), PYRT_INVALID_STATE);
    CHECK(wrong == NULL);
    PyrtRsi *c = NULL;
    uint8_t bad[256];
    memcpy(bad, buf, written);
    bad[4] = 99;
    CHECK_STATUS(pyrt_rsi_load(bad, written, &c), PYRT_INVALID_STATE);
    CHECK_STATUS(pyrt_rsi_load(buf, written - 1, &c), PYRT_INVALID_STATE);
    memset(bad, 0xAB, sizeof bad);
    CHECK_STATUS(pyrt_rsi_load(bad, sizeof bad, &c), PYRT_INVALID_STATE);
    CHECK(strstr(pyrt_last_error_message(), "state") != NULL);
    CHECK(c == NULL);
    pyrt_rsi_free(a);
    pyrt_rsi_free(b);
    pyrt_rsi_free(NULL);
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
    PyrtMacd *m = NULL;
    CHECK_STATUS(pyrt_macd_new(26, 12, 9, &m), PYRT_INVALID_ARGUMENT);
    CHECK(m == NULL);
    CHECK_STATUS(pyrt_sma_new(1, NULL), PYRT_NULL_POINTER);
    CHECK(isnan(pyrt_sma_update(NULL, 1.0)));
    PyrtBands nb = pyrt_bollinger_update(NULL, 1.0);
    CHECK(isnan(nb.upper) && isnan(nb.middle) && isnan(nb.lower));
    CHECK_STATUS(pyrt_sma_update_many(NULL, x, 3, out), PYRT_NULL_POINTER);
}

int main(void) {
    make_series();
    test_batch_hand_values();
    test_streaming_equals_batch();
    test_save_load();
    test_errors();
    CHECK_DONE("test_indicators");
}
