/* The memory traffic of an indicator without its arithmetic: one pass that
 * reads the same arrays and writes the same arrays, one add per value.
 * bench/indicators.py compiles this with `cc`, calls it on the same NumPy
 * arrays as pyrt (outputs allocated per call, as pyrt allocates them) and
 * prints pyrt's time over it: how close an indicator runs to what the
 * machine's memory allows for its traffic, however much arithmetic it does. */
#include <stddef.h>

/* One input, one output: SMA, EMA, RSI. */
void pass_1_1(const double *x, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = x[i] + 1.0;
}

/* One input, three outputs: MACD, the Bollinger bands. */
void pass_1_3(const double *x, double *a, double *b, double *c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        a[i] = x[i] + 1.0;
        b[i] = x[i] + 2.0;
        c[i] = x[i] + 3.0;
    }
}

/* Three inputs, one output: ATR. */
void pass_3_1(const double *h, const double *l, const double *c, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = h[i] + l[i] + c[i];
}
