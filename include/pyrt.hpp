// pyrt for C++: a header-only RAII layer over the C API in pyrt.h.
// No second ABI: every call goes through the same extern "C" functions.
// Failures throw pyrt::Error carrying the PyrtStatus and the library's message.
#ifndef PYRT_HPP
#define PYRT_HPP

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pyrt.h"

namespace pyrt {

class Error : public std::runtime_error {
public:
    Error(PyrtStatus status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    PyrtStatus status() const noexcept { return status_; }

private:
    PyrtStatus status_;
};

// Throws pyrt::Error unless status is PYRT_OK.
inline void check(PyrtStatus status) {
    if (status != PYRT_OK) {
        throw Error(status, pyrt_last_error_message());
    }
}

inline std::string version() { return pyrt_version(); }

// Owns one pyrt handle; frees it with the matching pyrt_<thing>_free.
// close() is pyrt_<thing>_close: it waits for a call in flight on another
// thread, and every later call on the handle fails with PYRT_CLOSED.
template <typename T, void (*Free)(T *), void (*Close)(const T *)>
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(T *raw) noexcept : raw_(raw) {}
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    Handle(Handle &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
    Handle &operator=(Handle &&other) noexcept {
        if (this != &other) {
            Free(raw_);
            raw_ = std::exchange(other.raw_, nullptr);
        }
        return *this;
    }
    ~Handle() { Free(raw_); }
    T *get() const noexcept { return raw_; }
    void close() const noexcept { Close(raw_); }

private:
    T *raw_ = nullptr;
};

// ---- indicators ----
// pyrt's six batch indicators into new vectors (NaN during each lookback);
// every catalog function as pyrt::ta::NAME (pyrt_catalog.hpp, generated) and
// as a pyrt::Stream.

inline std::vector<double> sma(const std::vector<double> &prices, std::size_t window) {
    std::vector<double> out(prices.size());
    check(pyrt_sma(prices.data(), prices.size(), window, out.data()));
    return out;
}

inline std::vector<double> ema(const std::vector<double> &prices, std::size_t window) {
    std::vector<double> out(prices.size());
    check(pyrt_ema(prices.data(), prices.size(), window, out.data()));
    return out;
}

inline std::vector<double> rsi(const std::vector<double> &prices, std::size_t window = 14) {
    std::vector<double> out(prices.size());
    check(pyrt_rsi(prices.data(), prices.size(), window, out.data()));
    return out;
}

struct MacdLines {
    std::vector<double> macd, signal, histogram;
};

inline MacdLines macd(const std::vector<double> &prices, std::size_t fast_period = 12,
                      std::size_t slow_period = 26, std::size_t signal_period = 9) {
    MacdLines r{std::vector<double>(prices.size()), std::vector<double>(prices.size()),
                std::vector<double>(prices.size())};
    check(pyrt_macd(prices.data(), prices.size(), fast_period, slow_period, signal_period,
                    r.macd.data(), r.signal.data(), r.histogram.data()));
    return r;
}

struct BandLines {
    std::vector<double> upper, middle, lower;
};

inline BandLines bollinger_bands(const std::vector<double> &prices, std::size_t window = 20,
                                 double num_std = 2.0) {
    BandLines r{std::vector<double>(prices.size()), std::vector<double>(prices.size()),
                std::vector<double>(prices.size())};
    check(pyrt_bollinger_bands(prices.data(), prices.size(), window, num_std, r.upper.data(),
                               r.middle.data(), r.lower.data()));
    return r;
}

inline std::vector<double> atr(const std::vector<double> &high, const std::vector<double> &low,
                               const std::vector<double> &close, std::size_t window = 14) {
    std::vector<double> out(close.size());
    check(pyrt_atr(high.data(), high.size(), low.data(), low.size(), close.data(), close.size(),
                   window, out.data()));
    return out;
}

namespace detail {
// The one length of several input series (the typed C functions take one).
inline std::size_t same_length(std::initializer_list<const std::vector<double> *> inputs) {
    const std::size_t n = (*inputs.begin())->size();
    for (const std::vector<double> *x : inputs) {
        if (x->size() != n) {
            throw Error(PYRT_INVALID_ARGUMENT, "inputs: series of different lengths");
        }
    }
    return n;
}

inline std::vector<const double *> pointers(const std::vector<std::vector<double>> &series) {
    std::vector<const double *> ptrs;
    for (const auto &x : series) {
        ptrs.push_back(x.data());
    }
    return ptrs;
}
}  // namespace detail

// A catalog indicator as a stream (pyrt_stream_*), by TA-Lib name. Movable;
// copy() gives an independent stream at the same bar; save() gives the
// self-describing bytes that load() (or Python's from_bytes, or any binding)
// restores. Safe to share between threads: the library serializes calls.
class Stream {
public:
    // An empty stream; params in the record's order, NaN or absent = default.
    explicit Stream(const std::string &name, const std::vector<double> &params = {}) {
        PyrtStream *raw = nullptr;
        check(pyrt_stream_new(name.c_str(), params.data(), params.size(), &raw));
        handle_ = Handle<PyrtStream, pyrt_stream_free, pyrt_stream_close>(raw);
    }

    // A stream fed with history, as talib.stream.NAME(*history).
    static Stream open(const std::string &name, const std::vector<std::vector<double>> &history,
                       const std::vector<double> &params = {}) {
        std::size_t n = history.empty() ? 0 : history.front().size();
        for (const auto &x : history) {
            if (x.size() != n) {
                throw Error(PYRT_INVALID_ARGUMENT, "history: series of different lengths");
            }
        }
        std::vector<const double *> ptrs = detail::pointers(history);
        PyrtStream *raw = nullptr;
        check(pyrt_stream_open(name.c_str(), params.data(), params.size(), ptrs.data(), ptrs.size(), n, &raw));
        return Stream(raw);
    }

    static Stream load(const std::vector<uint8_t> &bytes) {
        PyrtStream *raw = nullptr;
        check(pyrt_stream_load(bytes.data(), bytes.size(), &raw));
        return Stream(raw);
    }

    // One bar in (one value per input); its outputs out.
    std::vector<double> update(const std::vector<double> &tick) {
        std::vector<double> out(outputs());
        check(pyrt_stream_update(get(), tick.data(), tick.size(), out.data(), out.size()));
        return out;
    }

    std::vector<double> peek(const std::vector<double> &tick) const {
        std::vector<double> out(outputs());
        check(pyrt_stream_peek(get(), tick.data(), tick.size(), out.data(), out.size()));
        return out;
    }

    std::vector<double> value() const {
        std::vector<double> out(outputs());
        check(pyrt_stream_value(get(), out.data(), out.size()));
        return out;
    }

    std::vector<uint8_t> save() const {
        std::size_t size = 0;
        PyrtStatus status = pyrt_stream_save(get(), nullptr, 0, &size);
        if (status != PYRT_BUFFER_TOO_SMALL) {
            check(status);
        }
        std::vector<uint8_t> bytes(size);
        check(pyrt_stream_save(get(), bytes.data(), bytes.size(), &size));
        bytes.resize(size);
        return bytes;
    }

    Stream copy() const {
        PyrtStream *raw = nullptr;
        check(pyrt_stream_copy(get(), &raw));
        return Stream(raw);
    }

    // What the catalog says of this stream's indicator.
    PyrtIndicatorInfo info() const {
        std::size_t index = 0;
        check(pyrt_stream_indicator(get(), &index));
        PyrtIndicatorInfo info;
        check(pyrt_indicator_info(index, &info));
        return info;
    }

    // Stops the stream now (other threads' later calls fail with PYRT_CLOSED).
    void close() noexcept { handle_.close(); }
    PyrtStream *get() const noexcept { return handle_.get(); }

private:
    explicit Stream(PyrtStream *raw) noexcept : handle_(raw) {}
    std::size_t outputs() const { return info().n_outputs; }
    Handle<PyrtStream, pyrt_stream_free, pyrt_stream_close> handle_;
};

}  // namespace pyrt

#include "pyrt_catalog.hpp"

namespace pyrt {
// ---- end indicators ----

// ---- backtest ----
// The outcome of pyrt::backtest: statistics, one equity value per bar, and
// the round trips in the order they closed.
struct BacktestRun {
    PyrtBacktestSummary summary;
    std::vector<double> equity_curve;
    std::vector<PyrtTrade> trades;
};

// A configuration with the library's defaults (100000, 0, 0, 1, 252, no
// percentage fee, fills at the close, no stops, long only).
inline PyrtBacktestConfig default_backtest_config() {
    PyrtBacktestConfig config;
    check(pyrt_backtest_config_default(&config));
    return config;
}

// The bars beyond the closes: `open` for PYRT_FILL_AT_NEXT_OPEN, `high` and
// `low` for stops. An empty vector is "not given".
struct Bars {
    std::vector<double> open;
    std::vector<double> high;
    std::vector<double> low;
};

// Runs pyrt_backtest_run on the closes `prices` (and `bars` where given);
// throws pyrt::Error on bad input (lengths that differ included).
inline BacktestRun backtest(const std::vector<double> &prices, const std::vector<int32_t> &signals,
                            const PyrtBacktestConfig &config, const Bars &bars = Bars()) {
    if (prices.size() != signals.size()) {
        throw Error(PYRT_INVALID_ARGUMENT, "signals: length differs from the length of prices");
    }
    const std::vector<double> *series[] = {&bars.open, &bars.high, &bars.low};
    const char *names[] = {"open", "high", "low"};
    for (int k = 0; k < 3; k++) {
        if (!series[k]->empty() && series[k]->size() != prices.size()) {
            throw Error(PYRT_INVALID_ARGUMENT, std::string(names[k]) + ": length differs from the length of prices");
        }
    }
    auto given = [](const std::vector<double> &v) { return v.empty() ? nullptr : v.data(); };
    BacktestRun run;
    run.equity_curve.resize(prices.size());
    PyrtBacktestResult *raw = nullptr;
    check(pyrt_backtest_run(prices.data(), given(bars.open), given(bars.high), given(bars.low), signals.data(),
                            prices.size(), &config, run.equity_curve.data(), &raw));
    Handle<PyrtBacktestResult, pyrt_backtest_result_free, pyrt_backtest_result_close> result(raw);
    check(pyrt_backtest_result_summary(result.get(), &run.summary));
    run.trades.resize(pyrt_backtest_result_num_trades(result.get()));
    size_t written = 0;
    check(pyrt_backtest_result_trades(result.get(), run.trades.data(), run.trades.size(), &written));
    return run;
}

// backtesting.py's statistics of a run on the closes `close`; `index` holds
// one value per bar of kind `kind` (empty: bar positions 0, 1, ...).
inline PyrtBacktestStats backtest_stats(const BacktestRun &run, const std::vector<double> &close,
                                        const std::vector<int64_t> &index = std::vector<int64_t>(),
                                        PyrtIndexKind kind = PYRT_INDEX_NUMBERS) {
    if (close.size() != run.equity_curve.size() || (!index.empty() && index.size() != close.size())) {
        throw Error(PYRT_INVALID_ARGUMENT, "close: length differs from the length of the equity curve");
    }
    PyrtBacktestStats stats;
    check(pyrt_backtest_stats(run.equity_curve.data(), close.data(), close.size(), index.empty() ? nullptr : index.data(),
                              kind, run.trades.data(), run.trades.size(), &stats));
    return stats;
}

// Fills of `orders` on OHLC bars, ordered by bar then order index.
inline std::vector<PyrtFill> simulate_fills(const std::vector<PyrtOrder> &orders, const std::vector<double> &open,
                                            const std::vector<double> &high, const std::vector<double> &low,
                                            const std::vector<double> &close, double slippage_bps = 0.0,
                                            double commission = 0.0) {
    if (high.size() != open.size() || low.size() != open.size() || close.size() != open.size()) {
        throw Error(PYRT_INVALID_ARGUMENT, "high, low, close: lengths differ from the length of open");
    }
    std::vector<PyrtFill> fills(orders.size());
    size_t count = 0;
    check(pyrt_simulate_fills(orders.data(), orders.size(), open.data(), high.data(), low.data(), close.data(),
                              open.size(), slippage_bps, commission, fills.data(), fills.size(), &count));
    fills.resize(count);
    return fills;
}

// A position in one symbol (one thread at a time).
class Position {
public:
    explicit Position(const std::string &symbol) {
        PyrtPosition *raw = nullptr;
        check(pyrt_position_new(symbol.c_str(), &raw));
        handle_ = Handle<PyrtPosition, pyrt_position_free, pyrt_position_close>(raw);
    }
    void apply_fill(PyrtOrderSide side, double quantity, double price, double commission = 0.0,
                    int64_t timestamp_us = 0) {
        check(pyrt_position_apply_fill(handle_.get(), side, quantity, price, commission, timestamp_us));
    }
    void mark(double price, int64_t timestamp_us = 0) { check(pyrt_position_mark(handle_.get(), price, timestamp_us)); }
    PyrtPositionSnapshot snapshot() const {
        PyrtPositionSnapshot s;
        check(pyrt_position_snapshot(handle_.get(), &s));
        return s;
    }
    std::string symbol() const { return pyrt_position_symbol(handle_.get()); }

    // Stops the handle now (other threads' later calls fail with PYRT_CLOSED).
    void close() noexcept { handle_.close(); }

private:
    Handle<PyrtPosition, pyrt_position_free, pyrt_position_close> handle_;
};
// ---- end backtest ----

// ---- risk ----
inline double value_at_risk(const std::vector<double> &returns, double confidence = 0.95,
                            PyrtVarMethod method = PYRT_VAR_HISTORICAL) {
    double out = 0.0;
    check(pyrt_calculate_var(returns.data(), returns.size(), confidence, method, &out));
    return out;
}

inline double conditional_value_at_risk(const std::vector<double> &returns, double confidence = 0.95) {
    double out = 0.0;
    check(pyrt_calculate_cvar(returns.data(), returns.size(), confidence, &out));
    return out;
}

inline double sharpe_ratio(const std::vector<double> &returns, double risk_free = 0.0,
                           double periods_per_year = 252.0) {
    double out = 0.0;
    check(pyrt_calculate_sharpe(returns.data(), returns.size(), risk_free, periods_per_year, &out));
    return out;
}

inline double sortino_ratio(const std::vector<double> &returns, double required_return = 0.0,
                            double periods_per_year = 252.0) {
    double out = 0.0;
    check(pyrt_calculate_sortino(returns.data(), returns.size(), required_return, periods_per_year, &out));
    return out;
}

inline double max_drawdown(const std::vector<double> &equity_curve) {
    double out = 0.0;
    check(pyrt_calculate_max_drawdown(equity_curve.data(), equity_curve.size(), &out));
    return out;
}

inline double position_size(double capital, double entry_price, double stop_price, double risk_per_trade = 0.01,
                            double max_leverage = 1.0) {
    double out = 0.0;
    check(pyrt_calculate_position_size(capital, entry_price, stop_price, risk_per_trade, max_leverage, &out));
    return out;
}
// ---- end risk ----

// ---- ipc ----
// A handle on a named shared-memory ring (see pyrt_ring_* in pyrt.h): one
// pushing handle and one popping handle at a time, in any processes; one
// thread at a time per handle. Destroying it closes the handle; the ring
// stays until Ring::unlink.
class Ring {
public:
    // Creates the ring `name` with room for `capacity` records (a power of two).
    static Ring create(const std::string &name, uint64_t capacity) {
        PyrtRing *raw = nullptr;
        check(pyrt_ring_create(name.c_str(), capacity, &raw));
        return Ring(raw);
    }
    // Attaches to the existing ring `name` (layout checked).
    static Ring open(const std::string &name) {
        PyrtRing *raw = nullptr;
        check(pyrt_ring_open(name.c_str(), &raw));
        return Ring(raw);
    }
    // Removes the name; open handles keep working.
    static void unlink(const std::string &name) { check(pyrt_ring_unlink(name.c_str())); }

    // False when the ring is full (nothing written).
    bool push(const PyrtMarketDataRecord &record) { return outcome(pyrt_ring_push(handle_.get(), &record), PYRT_FULL); }
    bool push(uint32_t symbol_id, double price, double volume, uint64_t timestamp_us) {
        PyrtMarketDataRecord record{symbol_id, 0, price, volume, timestamp_us};
        return push(record);
    }
    // False when the ring is empty (`out` untouched).
    bool pop(PyrtMarketDataRecord &out) { return outcome(pyrt_ring_pop(handle_.get(), &out), PYRT_EMPTY); }
    // How many of the `n` records were appended (0 when full).
    std::size_t push_batch(const PyrtMarketDataRecord *records, std::size_t n) {
        std::size_t pushed = 0;
        check(pyrt_ring_push_batch(handle_.get(), records, n, &pushed));
        return pushed;
    }
    std::size_t push_batch(const std::vector<PyrtMarketDataRecord> &records) {
        return push_batch(records.data(), records.size());
    }
    // Up to `max` records into `out`; how many (0 when empty).
    std::size_t pop_batch(PyrtMarketDataRecord *out, std::size_t max) {
        std::size_t popped = 0;
        check(pyrt_ring_pop_batch(handle_.get(), out, max, &popped));
        return popped;
    }
    // Up to `max` records as a vector (empty when the ring is).
    std::vector<PyrtMarketDataRecord> pop_batch(std::size_t max) {
        std::vector<PyrtMarketDataRecord> out(max);
        out.resize(pop_batch(out.data(), max));
        return out;
    }
    std::size_t size() const {
        std::size_t len = 0;
        check(pyrt_ring_len(handle_.get(), &len));
        return len;
    }
    uint64_t capacity() const noexcept { return pyrt_ring_capacity(handle_.get()); }
    PyrtRing *get() const noexcept { return handle_.get(); }

    // Stops the handle now (other threads' later calls fail with PYRT_CLOSED).
    void close() noexcept { handle_.close(); }

private:
    explicit Ring(PyrtRing *raw) noexcept : handle_(raw) {}
    static bool outcome(PyrtStatus status, PyrtStatus refusal) {
        if (status == refusal) {
            return false;
        }
        check(status);
        return true;
    }
    Handle<PyrtRing, pyrt_ring_free, pyrt_ring_close> handle_;
};
// ---- end ipc ----

// ---- messaging ----
// ZeroMQ + protobuf messaging (see pyrt.h). Calls on one object are
// serialized. Strings read from a Message belong to it until its next receive.
class Message {
public:
    Message() {
        PyrtMessage *raw = nullptr;
        check(pyrt_message_new(&raw));
        handle_ = Handle<PyrtMessage, pyrt_message_free, pyrt_message_close>(raw);
    }
    PyrtMessageKind kind() const noexcept { return pyrt_message_kind(handle_.get()); }
    PyrtMarketTick market_tick() const { PyrtMarketTick v; check(pyrt_message_market_tick(get(), &v)); return v; }
    PyrtFillReport fill_report() const { PyrtFillReport v; check(pyrt_message_fill_report(get(), &v)); return v; }
    PyrtPositionSnapshot position_snapshot() const {
        PyrtPositionSnapshot v;
        check(pyrt_message_position_snapshot(get(), &v));
        return v;
    }
    PyrtTradingSignal trading_signal() const {
        PyrtTradingSignal v;
        check(pyrt_message_trading_signal(get(), &v));
        return v;
    }
    PyrtOrderRequest order_request() const { PyrtOrderRequest v; check(pyrt_message_order_request(get(), &v)); return v; }
    PyrtCommand command() const { PyrtCommand v; check(pyrt_message_command(get(), &v)); return v; }
    PyrtMessage *get() const noexcept { return handle_.get(); }

    // Stops the handle now (other threads' later calls fail with PYRT_CLOSED).
    void close() noexcept { handle_.close(); }

private:
    Handle<PyrtMessage, pyrt_message_free, pyrt_message_close> handle_;
};

namespace detail {
template <typename T>
inline std::string last_endpoint(const T *handle, PyrtStatus (*getter)(const T *, char *, size_t, size_t *)) {
    size_t needed = 0;
    std::vector<char> buffer(128);
    PyrtStatus status = getter(handle, buffer.data(), buffer.size(), &needed);
    if (status == PYRT_BUFFER_TOO_SMALL) {
        buffer.resize(needed);
        status = getter(handle, buffer.data(), buffer.size(), &needed);
    }
    check(status);
    return std::string(buffer.data());
}

// True when a message arrived, false on PYRT_TIMEOUT; throws otherwise.
inline bool received(PyrtStatus status) {
    if (status == PYRT_TIMEOUT) return false;
    check(status);
    return true;
}
}  // namespace detail

class Publisher {
public:
    explicit Publisher(const std::string &endpoint, int32_t sndhwm = PYRT_DEFAULT_HWM) {
        PyrtPublisher *raw = nullptr;
        check(pyrt_publisher_new(endpoint.c_str(), sndhwm, &raw));
        handle_ = Handle<PyrtPublisher, pyrt_publisher_free, pyrt_publisher_close>(raw);
    }
    std::string endpoint() const { return detail::last_endpoint(handle_.get(), pyrt_publisher_last_endpoint); }
    void wait_for_subscribers(size_t count, int32_t timeout_ms) {
        check(pyrt_publisher_wait_for_subscribers(get(), count, timeout_ms));
    }
    void publish(const PyrtMarketTick &tick) { check(pyrt_publisher_publish_tick(get(), &tick)); }
    void publish(const PyrtFillReport &fill) { check(pyrt_publisher_publish_fill(get(), &fill)); }
    void publish(const PyrtPositionSnapshot &position) { check(pyrt_publisher_publish_position(get(), &position)); }
    void publish(const PyrtTradingSignal &signal) { check(pyrt_publisher_publish_signal(get(), &signal)); }
    void publish(const PyrtOrderRequest &order) { check(pyrt_publisher_publish_order(get(), &order)); }
    void publish(const std::vector<PyrtTickRecord> &ticks) {
        check(pyrt_publisher_publish_tick_records(get(), ticks.data(), ticks.size()));
    }
    PyrtPublisher *get() const noexcept { return handle_.get(); }

    // Stops the handle now (other threads' later calls fail with PYRT_CLOSED).
    void close() noexcept { handle_.close(); }

private:
    Handle<PyrtPublisher, pyrt_publisher_free, pyrt_publisher_close> handle_;
};

class Subscriber {
public:
    Subscriber(const std::string &endpoint, const std::vector<std::string> &topics,
               int32_t rcvhwm = PYRT_DEFAULT_HWM) {
        std::vector<const char *> pointers;
        for (const auto &topic : topics) pointers.push_back(topic.c_str());
        PyrtSubscriber *raw = nullptr;
        check(pyrt_subscriber_new(endpoint.c_str(), pointers.data(), pointers.size(), rcvhwm, &raw));
        handle_ = Handle<PyrtSubscriber, pyrt_subscriber_free, pyrt_subscriber_close>(raw);
    }
    // Receives into `message`; false when nothing came within timeout_ms.
    bool receive(Message &message, int32_t timeout_ms) {
        return detail::received(pyrt_subscriber_receive(get(), timeout_ms, message.get()));
    }
    // Up to `max` ticks into `out`; the count (0 when nothing came).
    size_t receive_ticks(PyrtTickRecord *out, size_t max, int32_t timeout_ms) {
        size_t received = 0;
        check(pyrt_subscriber_receive_ticks(get(), out, max, timeout_ms, &received));
        return received;
    }
    uint64_t decode_errors() const noexcept { return pyrt_subscriber_decode_errors(handle_.get()); }
    PyrtSubscriber *get() const noexcept { return handle_.get(); }

    // Stops the handle now (other threads' later calls fail with PYRT_CLOSED).
    void close() noexcept { handle_.close(); }

private:
    Handle<PyrtSubscriber, pyrt_subscriber_free, pyrt_subscriber_close> handle_;
};

class CommandSender {
public:
    explicit CommandSender(const std::string &endpoint) {
        PyrtCommandSender *raw = nullptr;
        check(pyrt_command_sender_new(endpoint.c_str(), &raw));
        handle_ = Handle<PyrtCommandSender, pyrt_command_sender_free, pyrt_command_sender_close>(raw);
    }
    // Returns once acknowledged; throws pyrt::Error (status PYRT_TIMEOUT) otherwise.
    void send(int32_t command_type, const std::string &payload_json, int32_t timeout_ms) {
        check(pyrt_command_sender_send(handle_.get(), command_type, payload_json.c_str(), timeout_ms));
    }

    // Stops the handle now (other threads' later calls fail with PYRT_CLOSED).
    void close() noexcept { handle_.close(); }

private:
    Handle<PyrtCommandSender, pyrt_command_sender_free, pyrt_command_sender_close> handle_;
};

class CommandReceiver {
public:
    explicit CommandReceiver(const std::string &endpoint) {
        PyrtCommandReceiver *raw = nullptr;
        check(pyrt_command_receiver_new(endpoint.c_str(), &raw));
        handle_ = Handle<PyrtCommandReceiver, pyrt_command_receiver_free, pyrt_command_receiver_close>(raw);
    }
    std::string endpoint() const {
        return detail::last_endpoint(handle_.get(), pyrt_command_receiver_last_endpoint);
    }
    // Receives (and acknowledges) a command into `message`; false on timeout.
    bool receive(Message &message, int32_t timeout_ms) {
        return detail::received(pyrt_command_receiver_receive(handle_.get(), timeout_ms, message.get()));
    }

    // Stops the handle now (other threads' later calls fail with PYRT_CLOSED).
    void close() noexcept { handle_.close(); }

private:
    Handle<PyrtCommandReceiver, pyrt_command_receiver_free, pyrt_command_receiver_close> handle_;
};
// ---- end messaging ----

}  // namespace pyrt

#endif  // PYRT_HPP
