// The C++ RAII layer over the indicators; compiling it also proves that
// pyrt.h and pyrt.hpp are C++-clean under -Wall -Wextra -Werror -pedantic.
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "pyrt.hpp"

static int failures = 0;
#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "%s:%d: EXPECT failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                           \
        }                                                                         \
    } while (0)

static bool same(double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || std::fabs(a - b) <= 1e-10;
}

int main() {
    std::vector<double> x;
    double level = 100.0;
    for (int i = 0; i < 80; i++) {
        level += ((i * 13) % 7 - 3) * 0.5;
        x.push_back(level);
    }

    // Batch helpers and the streaming classes agree.
    std::vector<double> s = pyrt::sma(x, 5);
    pyrt::Sma sma(5);
    for (std::size_t i = 0; i < x.size(); i++) EXPECT(same(sma.update(x[i]), s[i]));

    pyrt::MacdLines lines = pyrt::macd(x);
    pyrt::Macd macd;
    for (std::size_t i = 0; i < x.size(); i++) {
        PyrtMacdValue v = macd.update(x[i]);
        EXPECT(same(v.macd, lines.macd[i]) && same(v.signal, lines.signal[i]) &&
               same(v.histogram, lines.histogram[i]));
    }

    pyrt::BandLines bands = pyrt::bollinger_bands(x, 10, 1.5);
    pyrt::BollingerBands bb(10, 1.5);
    for (std::size_t i = 0; i < x.size(); i++) {
        PyrtBands v = bb.update(x[i]);
        EXPECT(same(v.upper, bands.upper[i]) && same(v.middle, bands.middle[i]) &&
               same(v.lower, bands.lower[i]));
    }

    std::vector<double> hi(x), lo(x);
    for (std::size_t i = 0; i < x.size(); i++) {
        hi[i] += 1.0;
        lo[i] -= 0.5;
    }
    std::vector<double> a = pyrt::atr(hi, lo, x, 7);
    pyrt::Atr atr(7);
    for (std::size_t i = 0; i < x.size(); i++) EXPECT(same(atr.update(hi[i], lo[i], x[i]), a[i]));

    std::vector<double> e = pyrt::ema(x, 9);
    std::vector<double> r = pyrt::rsi(x);
    pyrt::Ema ema(9);
    pyrt::Rsi rsi;
    for (std::size_t i = 0; i < x.size(); i++) {
        EXPECT(same(ema.update(x[i]), e[i]));
        EXPECT(same(rsi.update(x[i]), r[i]));
    }

    // Save mid-stream, restore into a new object, continue identically.
    pyrt::Rsi first(14);
    for (std::size_t i = 0; i < 40; i++) first.update(x[i]);
    std::vector<uint8_t> saved = first.save();
    EXPECT(saved.size() > 8 && saved[0] == 'P' && saved[3] == 'T');
    pyrt::Rsi resumed = pyrt::Rsi::load(saved);
    for (std::size_t i = 40; i < x.size(); i++) EXPECT(first.update(x[i]) == resumed.update(x[i]));

    // Moves transfer ownership; the moved-from object frees nothing.
    pyrt::Sma moved = std::move(sma);
    EXPECT(moved.get() != nullptr && sma.get() == nullptr);

    // Errors become pyrt::Error with the status and the message.
    bool thrown = false;
    try {
        pyrt::Macd bad(26, 12, 9);
    } catch (const pyrt::Error &err) {
        thrown = err.status() == PYRT_INVALID_ARGUMENT &&
                 std::string(err.what()).rfind("fast_period:", 0) == 0;
    }
    EXPECT(thrown);
    thrown = false;
    try {
        pyrt::Sma::load(std::vector<uint8_t>{1, 2, 3});
    } catch (const pyrt::Error &err) {
        thrown = err.status() == PYRT_INVALID_STATE;
    }
    EXPECT(thrown);
    thrown = false;
    try {
        pyrt::sma(x, 0);
    } catch (const pyrt::Error &err) {
        thrown = std::string(err.what()).rfind("window:", 0) == 0;
    }
    EXPECT(thrown);

    if (failures) {
        std::fprintf(stderr, "test_indicators (C++): %d failure(s)\n", failures);
        return 1;
    }
    std::printf("test_indicators (C++): all checks passed\n");
    return 0;
}
