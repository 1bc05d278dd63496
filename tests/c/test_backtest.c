/* The backtest, fill simulation, slippage and Position through the C API,
 * with numbers worked out by hand. */
#include <math.h>
#include <string.h>

#include "check.h"

static void test_backtest_by_hand(void) {
    /* Capital 1000, commission 1, no slippage, all-in:
     * bar 0 buys (1000 - 1) / 100 = 9.99 units, cash 0, equity 999;
     * bar 1 sells at 110: cash 9.99 * 110 - 1 = 1097.9, pnl 9.99 * 10 - 2 = 97.9;
     * bar 3 buys (1097.9 - 1) / 120 units, closed at the last bar at 120:
     * cash 1096.9 - 1 = 1095.9, pnl -2. */
    const double prices[4] = {100.0, 110.0, 99.0, 120.0};
    const int32_t signals[4] = {1, -1, 0, 1};
    double equity[4];
    PyrtBacktestConfig config;
    CHECK_OK(pyrt_backtest_config_default(&config));
    CHECK(config.initial_capital == 100000.0 && config.position_size == 1.0 && !config.allow_short);
    config.initial_capital = 1000.0;
    config.commission = 1.0;

    PyrtBacktestResult *result = NULL;
    CHECK_OK(pyrt_backtest_run(prices, NULL, NULL, NULL, signals, 4, &config, equity, &result));
    CHECK_CLOSE(equity[0], 999.0, 1e-9);
    CHECK_CLOSE(equity[1], 1097.9, 1e-9);
    CHECK_CLOSE(equity[2], 1097.9, 1e-9);
    CHECK_CLOSE(equity[3], 1095.9, 1e-9);

    PyrtBacktestSummary s;
    CHECK_OK(pyrt_backtest_result_summary(result, &s));
    CHECK(s.num_trades == 2);
    CHECK_CLOSE(s.final_equity, 1095.9, 1e-9);
    CHECK_CLOSE(s.total_return, 0.0959, 1e-12);
    CHECK_CLOSE(s.win_rate, 0.5, 0.0);
    CHECK_CLOSE(s.max_drawdown, 2.0 / 1097.9, 1e-12);
    double r[3] = {1097.9 / 999.0 - 1.0, 0.0, 1095.9 / 1097.9 - 1.0};
    double mean = (r[0] + r[1] + r[2]) / 3.0, ss = 0.0;
    for (int i = 0; i < 3; i++) ss += (r[i] - mean) * (r[i] - mean);
    CHECK_CLOSE(s.sharpe_ratio, mean / sqrt(ss / 2.0) * sqrt(252.0), 1e-9);

    CHECK(pyrt_backtest_result_num_trades(result) == 2);
    PyrtTrade trades[2];
    size_t written = 0;
    CHECK_STATUS(pyrt_backtest_result_trades(result, trades, 1, &written), PYRT_BUFFER_TOO_SMALL);
    CHECK_OK(pyrt_backtest_result_trades(result, trades, 2, &written));
    CHECK(written == 2);
    CHECK(trades[0].entry_index == 0 && trades[0].exit_index == 1 && trades[0].side == 1);
    CHECK_CLOSE(trades[0].quantity, 9.99, 1e-12);
    CHECK_CLOSE(trades[0].pnl, 97.9, 1e-9);
    CHECK_CLOSE(trades[0].trade_return, 97.9 / 999.0, 1e-12);
    CHECK(trades[1].entry_index == 3 && trades[1].exit_index == 3);
    CHECK_CLOSE(trades[1].pnl, -2.0, 1e-9);
    pyrt_backtest_result_free(result);
    pyrt_backtest_result_free(NULL);
    CHECK(sizeof(PyrtTrade) == 64);
}

static void test_backtest_refuses_bad_input(void) {
    const double prices[3] = {1.0, 2.0, 3.0};
    const int32_t bad_signals[3] = {0, 5, 0};
    double equity[3] = {-1.0, -1.0, -1.0};
    PyrtBacktestConfig config;
    PyrtBacktestResult *result = NULL;
    CHECK_OK(pyrt_backtest_config_default(&config));
    CHECK_STATUS(pyrt_backtest_run(prices, NULL, NULL, NULL, bad_signals, 3, &config, equity, &result), PYRT_INVALID_ARGUMENT);
    CHECK(strstr(pyrt_last_error_message(), "signals") != NULL);
    CHECK(result == NULL && equity[0] == -1.0);
    config.position_size = 1.5;
    CHECK_STATUS(pyrt_backtest_config_validate(&config), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "position_size:", 14) == 0);
    const int32_t signals[3] = {1, 0, 0};
    CHECK_STATUS(pyrt_backtest_run(prices, NULL, NULL, NULL, signals, 3, &config, equity, &result), PYRT_INVALID_ARGUMENT);
    CHECK_STATUS(pyrt_backtest_run(prices, NULL, NULL, NULL, signals, 3, NULL, equity, &result), PYRT_NULL_POINTER);
    CHECK(result == NULL);
}

static void test_next_open_stops_and_fees(void) {
    /* Signal at bar 0 fills at open[1] = 100 with a 0.1% fee: quantity
     * 100000 / (100 * 1.001); bar 1's low 94 touches the 5% stop at 95, the
     * same bar (an entry at an open is guarded from its own bar on). */
    const double open[3] = {99.0, 100.0, 96.0};
    const double high[3] = {99.0, 101.0, 97.0};
    const double low[3] = {99.0, 94.0, 95.0};
    const double close[3] = {99.0, 96.0, 96.0};
    const int32_t signals[3] = {1, 0, 0};
    double equity[3];
    PyrtBacktestConfig config;
    CHECK_OK(pyrt_backtest_config_default(&config));
    CHECK(config.fill_at == PYRT_FILL_AT_CLOSE && config.stop_loss == 0.0 && config.commission_rate == 0.0);
    config.fill_at = PYRT_FILL_AT_NEXT_OPEN;
    config.stop_loss = 0.05;
    config.commission_rate = 0.001;
    PyrtBacktestResult *result = NULL;
    CHECK_STATUS(pyrt_backtest_run(close, NULL, high, low, signals, 3, &config, equity, &result), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "open:", 5) == 0 && result == NULL);
    CHECK_STATUS(pyrt_backtest_run(close, open, NULL, low, signals, 3, &config, equity, &result), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "high:", 5) == 0 && result == NULL);
    CHECK_OK(pyrt_backtest_run(close, open, high, low, signals, 3, &config, equity, &result));
    PyrtTrade trade;
    size_t written = 0;
    CHECK_OK(pyrt_backtest_result_trades(result, &trade, 1, &written));
    CHECK(written == 1 && trade.entry_index == 1 && trade.exit_index == 1);
    double q = 100000.0 / (100.0 * 1.001);
    CHECK_CLOSE(trade.quantity, q, 1e-9);
    CHECK_CLOSE(trade.exit_price, 95.0, 0.0);
    CHECK_CLOSE(trade.pnl, -5.0 * q - 0.001 * q * 100.0 - 0.001 * q * 95.0, 1e-9);
    CHECK_CLOSE(equity[2], 100000.0 + trade.pnl, 1e-9);
    pyrt_backtest_result_free(result);

    /* The report of that run: one trade over one of three bars. */
    PyrtBacktestStats stats;
    CHECK_OK(pyrt_backtest_stats(equity, close, 3, NULL, PYRT_INDEX_NUMBERS, &trade, 1, &stats));
    CHECK(stats.num_trades == 1 && stats.start == 0 && stats.end == 2 && stats.duration == 2);
    CHECK_CLOSE(stats.exposure_time_pct, 100.0 / 3.0, 1e-12);
    CHECK_CLOSE(stats.return_pct, (equity[2] - equity[0]) / equity[0] * 100.0, 1e-12);
    CHECK_CLOSE(stats.win_rate_pct, 0.0, 0.0);
    CHECK(isnan(stats.sharpe_ratio) && isnan(stats.sqn));
    /* Daily datetimes: durations in nanoseconds, rounded up to days. */
    const int64_t day = 86400LL * 1000000000LL;
    const int64_t index[3] = {19723 * day, 19724 * day, 19725 * day};
    CHECK_OK(pyrt_backtest_stats(equity, close, 3, index, PYRT_INDEX_DATETIME_NS, &trade, 1, &stats));
    CHECK(stats.duration == 2 * day && stats.max_trade_duration == 0.0);
    CHECK_STATUS(pyrt_backtest_stats(equity, close, 3, index, 9, &trade, 1, &stats), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "index_kind:", 11) == 0);
    CHECK_STATUS(pyrt_backtest_stats(equity, close, 3, NULL, PYRT_INDEX_NUMBERS, NULL, 1, &stats), PYRT_NULL_POINTER);
    config.trailing_stop = -0.1;
    CHECK_STATUS(pyrt_backtest_config_validate(&config), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "trailing_stop:", 14) == 0);
}

static void test_fills_slippage_and_position(void) {
    const double open[3] = {100.0, 101.0, 95.0};
    const double high[3] = {102.0, 103.0, 99.0};
    const double low[3] = {99.0, 100.0, 94.0};
    const double close[3] = {101.0, 100.5, 98.0};
    const PyrtOrder orders[3] = {
        {0, PYRT_ORDER_SIDE_BUY, PYRT_ORDER_TYPE_LIMIT, 1.0, 97.0, 0.0},  /* gap down: the open, 95 */
        {0, PYRT_ORDER_SIDE_BUY, PYRT_ORDER_TYPE_MARKET, 2.0, 0.0, 0.0},  /* bar 1 open * 1.001 */
        {0, PYRT_ORDER_SIDE_SELL, PYRT_ORDER_TYPE_LIMIT, 3.0, 150.0, 0.0}, /* never */
    };
    PyrtFill fills[3];
    size_t n = 0;
    CHECK_OK(pyrt_simulate_fills(orders, 3, open, high, low, close, 3, 10.0, 0.5, fills, 3, &n));
    CHECK(n == 2);
    CHECK(fills[0].order_index == 1 && fills[0].bar_index == 1);
    CHECK_CLOSE(fills[0].price, 101.0 * 1.001, 1e-12);
    CHECK(fills[1].order_index == 0 && fills[1].bar_index == 2);
    CHECK_CLOSE(fills[1].price, 95.0, 0.0);
    CHECK_CLOSE(fills[1].commission, 0.5, 0.0);
    CHECK_STATUS(pyrt_simulate_fills(orders, 3, open, high, low, close, 3, 0.0, 0.0, fills, 2, &n), PYRT_BUFFER_TOO_SMALL);

    const double price[2] = {100.0, 100.0}, quantity[2] = {1.0, 1.0};
    const PyrtOrderSide side[2] = {PYRT_ORDER_SIDE_BUY, PYRT_ORDER_SIDE_SELL};
    PyrtSlippageModel model = {PYRT_SLIPPAGE_BPS, 5.0, 0.0, 0.0, 0.0};
    double executed[2];
    CHECK_OK(pyrt_calculate_slippage(price, quantity, side, 2, &model, executed));
    CHECK_CLOSE(executed[0], 100.05, 1e-12);
    CHECK_CLOSE(executed[1], 99.95, 1e-12);

    PyrtPosition *position = NULL;
    CHECK_OK(pyrt_position_new("BTC/USD", &position));
    CHECK_OK(pyrt_position_apply_fill(position, PYRT_ORDER_SIDE_BUY, 10.0, 100.0, 1.0, 1));
    CHECK_OK(pyrt_position_apply_fill(position, PYRT_ORDER_SIDE_SELL, 15.0, 110.0, 1.0, 2));
    CHECK_OK(pyrt_position_mark(position, 100.0, 3));
    PyrtPositionSnapshot snap;
    CHECK_OK(pyrt_position_snapshot(position, &snap));
    CHECK_CLOSE(snap.quantity, -5.0, 0.0);
    CHECK_CLOSE(snap.avg_entry_price, 110.0, 0.0);
    CHECK_CLOSE(snap.realized_pnl, 100.0 - 2.0, 1e-12);
    CHECK_CLOSE(snap.unrealized_pnl, 50.0, 1e-12);
    CHECK(snap.last_update_us == 3);
    CHECK(strcmp(pyrt_position_symbol(position), "BTC/USD") == 0);
    CHECK(snap.symbol == pyrt_position_symbol(position)); /* ready to publish as it is */
    CHECK_STATUS(pyrt_position_apply_fill(position, 7, 1.0, 1.0, 0.0, 4), PYRT_INVALID_ARGUMENT);
    pyrt_position_free(position);
    pyrt_position_free(NULL);
}

int main(void) {
    test_backtest_by_hand();
    test_backtest_refuses_bad_input();
    test_next_open_stops_and_fees();
    test_fills_slippage_and_position();
    CHECK_DONE("test_backtest");
}
