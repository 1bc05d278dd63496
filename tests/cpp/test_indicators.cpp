// The C++ RAII layer over the indicators; compiling it also proves that
// pyrt.h and pyrt.hpp are C++-clean under -Wall -Wextra -Werror -pedantic.
#include <array>
#include <cmath>
#include <string>
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

    std::vector<double> hi(x), lo(x);
    for (std::size_t i = 0; i < x.size(); i++) {
        hi[i] += 1.0;
        lo[i] -= 0.5;
    }

    // pyrt's batch helpers, the catalog's pyrt::ta wrappers and pyrt::Stream agree.
    std::vector<double> s = pyrt::sma(x, 5);
    std::vector<double> ta_s = pyrt::ta::sma(x, 5);
    pyrt::Stream sma("SMA", {5});
    for (std::size_t i = 0; i < x.size(); i++) {
        EXPECT(same(sma.update({x[i]})[0], s[i]));
        EXPECT(same(ta_s[i], s[i]));
    }

    pyrt::MacdLines lines = pyrt::macd(x);
    std::array<std::vector<double>, 3> ta_lines = pyrt::ta::macd(x);
    pyrt::Stream macd("MACD");
    for (std::size_t i = 0; i < x.size(); i++) {
        std::vector<double> v = macd.update({x[i]});
        EXPECT(v.size() == 3 && same(v[0], lines.macd[i]) && same(v[1], lines.signal[i]) &&
               same(v[2], lines.histogram[i]));
        EXPECT(same(ta_lines[0][i], lines.macd[i]) && same(ta_lines[2][i], lines.histogram[i]));
    }

    pyrt::BandLines bands = pyrt::bollinger_bands(x, 10, 1.5);
    pyrt::Stream bb("BBANDS", {10, 1.5, 1.5});
    for (std::size_t i = 0; i < x.size(); i++) {
        std::vector<double> v = bb.update({x[i]});
        EXPECT(same(v[0], bands.upper[i]) && same(v[1], bands.middle[i]) && same(v[2], bands.lower[i]));
    }

    std::vector<double> a = pyrt::atr(hi, lo, x, 7);
    pyrt::Stream atr = pyrt::Stream::open("ATR", {std::vector<double>(hi.begin(), hi.begin() + 20),
                                                  std::vector<double>(lo.begin(), lo.begin() + 20),
                                                  std::vector<double>(x.begin(), x.begin() + 20)}, {7});
    EXPECT(same(atr.value()[0], a[19]));
    for (std::size_t i = 20; i < x.size(); i++) EXPECT(same(atr.update({hi[i], lo[i], x[i]})[0], a[i]));
    EXPECT(std::string(atr.info().name) == "ATR");

    std::vector<double> e = pyrt::ema(x, 9);
    std::vector<double> r = pyrt::rsi(x);
    pyrt::Stream ema("EMA", {9});
    pyrt::Stream rsi("RSI");
    for (std::size_t i = 0; i < x.size(); i++) {
        EXPECT(same(ema.update({x[i]})[0], e[i]));
        EXPECT(same(rsi.update({x[i]})[0], r[i]));
    }

    // Save mid-stream, restore into a new object, continue identically; a
    // copy is independent.
    pyrt::Stream first("RSI", {14});
    for (std::size_t i = 0; i < 40; i++) first.update({x[i]});
    std::vector<uint8_t> saved = first.save();
    EXPECT(saved.size() > 8 && saved[0] == 'P' && saved[3] == 'T');
    pyrt::Stream resumed = pyrt::Stream::load(saved);
    pyrt::Stream copy = first.copy();
    for (std::size_t i = 40; i < x.size(); i++) {
        double expected = first.update({x[i]})[0];
        EXPECT(expected == resumed.update({x[i]})[0]);
        EXPECT(expected == copy.update({x[i]})[0]);
    }

    // Moves transfer ownership; the moved-from object frees nothing.
    pyrt::Stream moved = std::move(sma);
    EXPECT(moved.get() != nullptr && sma.get() == nullptr);

    // Errors become pyrt::Error with the status and the message.
    bool thrown = false;
    try {
        pyrt::Stream bad("MACD", {1, 26, 9});
    } catch (const pyrt::Error &err) {
        thrown = err.status() == PYRT_INVALID_ARGUMENT &&
                 std::string(err.what()).rfind("fastperiod:", 0) == 0;
    }
    EXPECT(thrown);
    thrown = false;
    try {
        pyrt::Stream::load(std::vector<uint8_t>{1, 2, 3});
    } catch (const pyrt::Error &err) {
        thrown = err.status() == PYRT_INVALID_STATE;
    }
    EXPECT(thrown);
    thrown = false;
    try {
        pyrt::Stream unknown("NOPE");
    } catch (const pyrt::Error &err) {
        thrown = err.status() == PYRT_NOT_FOUND;
    }
    EXPECT(thrown);
    thrown = false;
    try {
        pyrt::sma(x, 0);
    } catch (const pyrt::Error &err) {
        thrown = std::string(err.what()).rfind("window:", 0) == 0;
    }
    EXPECT(thrown);
    thrown = false;
    try {
        moved.close();
        moved.update({1.0});
    } catch (const pyrt::Error &err) {
        thrown = err.status() == PYRT_CLOSED;
    }
    EXPECT(thrown);

    if (failures) {
        std::fprintf(stderr, "test_indicators (C++): %d failure(s)\n", failures);
        return 1;
    }
    std::printf("test_indicators (C++): all checks passed\n");
    return 0;
}
