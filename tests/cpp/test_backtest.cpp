// The C++ layer over the backtest and risk C API.
#include <cmath>
#include <cstdio>
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

int main() {
    PyrtBacktestConfig config = pyrt::default_backtest_config();
    config.initial_capital = 1000.0;
    config.commission = 1.0;
    pyrt::BacktestRun run = pyrt::backtest({100.0, 110.0, 99.0, 120.0}, {1, -1, 0, 1}, config);
    EXPECT(run.summary.num_trades == 2 && run.trades.size() == 2);
    EXPECT(std::fabs(run.equity_curve[3] - 1095.9) < 1e-9);
    EXPECT(std::fabs(run.trades[0].pnl - 97.9) < 1e-9);

    bool threw = false;
    try {
        pyrt::backtest({1.0, 2.0}, {0, 3}, config);
    } catch (const pyrt::Error &e) {
        threw = e.status() == PYRT_INVALID_ARGUMENT && std::string(e.what()).rfind("signals:", 0) == 0;
    }
    EXPECT(threw);

    // Next-open fills with a take-profit: filled at open[1] = 10, target 12
    // touched by bar 1's high; then the report of that run.
    PyrtBacktestConfig bracket = pyrt::default_backtest_config();
    bracket.fill_at = PYRT_FILL_AT_NEXT_OPEN;
    bracket.take_profit = 0.2;
    pyrt::Bars bars = {{10.0, 10.0, 12.0, 11.0}, {10.5, 12.5, 12.5, 11.5}, {9.5, 9.0, 10.5, 10.5}};
    std::vector<double> closes = {10.0, 12.0, 11.0, 11.0};
    pyrt::BacktestRun bracketed = pyrt::backtest(closes, {1, 0, 0, 0}, bracket, bars);
    EXPECT(bracketed.trades.size() == 1 && bracketed.trades[0].exit_price == 12.0);
    PyrtBacktestStats stats = pyrt::backtest_stats(bracketed, closes);
    EXPECT(stats.num_trades == 1 && stats.exposure_time_pct == 25.0 && std::fabs(stats.return_pct - 20.0) < 1e-9);
    threw = false;
    try {
        pyrt::backtest(closes, {1, 0, 0, 0}, bracket);
    } catch (const pyrt::Error &e) {
        threw = std::string(e.what()).rfind("open:", 0) == 0;
    }
    EXPECT(threw);

    std::vector<PyrtOrder> orders = {{0, PYRT_ORDER_SIDE_BUY, PYRT_ORDER_TYPE_MARKET, 1.0, 0.0, 0.0}};
    std::vector<PyrtFill> fills = pyrt::simulate_fills(orders, {10.0, 11.0}, {12.0, 12.0}, {9.0, 10.0}, {11.0, 11.5});
    EXPECT(fills.size() == 1 && fills[0].price == 11.0 && fills[0].bar_index == 1);

    pyrt::Position position("ETH");
    position.apply_fill(PYRT_ORDER_SIDE_SELL, 2.0, 50.0);
    position.mark(45.0);
    EXPECT(position.snapshot().unrealized_pnl == 10.0 && position.symbol() == "ETH");
    position.close();
    threw = false;
    try {
        position.mark(46.0);
    } catch (const pyrt::Error &e) {
        threw = e.status() == PYRT_CLOSED;
    }
    EXPECT(threw);

    EXPECT(std::fabs(pyrt::value_at_risk({5.0, 1.0, 4.0, 2.0, 3.0}) + 1.2) < 1e-12);
    EXPECT(pyrt::max_drawdown({100.0, 120.0, 90.0}) == 0.25);
    EXPECT(pyrt::position_size(100000.0, 100.0, 95.0) == 200.0);
    threw = false;
    try {
        pyrt::conditional_value_at_risk({}, 0.95);
    } catch (const pyrt::Error &) {
        threw = true;
    }
    EXPECT(threw);
    if (failures) {
        std::fprintf(stderr, "test_backtest (C++): %d failure(s)\n", failures);
        return 1;
    }
    std::printf("test_backtest (C++): all checks passed\n");
    return 0;
}
