// pyrt for C++: a header-only RAII layer over the C API in pyrt.h.
// No second ABI: every call goes through the same extern "C" functions.
// Failures throw pyrt::Error carrying the PyrtStatus and the library's message.
#ifndef PYRT_HPP
#define PYRT_HPP

#include <cstddef>
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
template <typename T, void (*Free)(T *)>
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

private:
    T *raw_ = nullptr;
};

// ---- indicators ----
// ---- end indicators ----

// ---- backtest ----
// ---- end backtest ----

// ---- risk ----
// ---- end risk ----

// ---- ipc ----
// ---- end ipc ----

// ---- messaging ----
// ZeroMQ + protobuf messaging (see pyrt.h). Each object is used by one thread
// at a time. Strings read from a Message belong to it until its next receive.
class Message {
public:
    Message() {
        PyrtMessage *raw = nullptr;
        check(pyrt_message_new(&raw));
        handle_ = Handle<PyrtMessage, pyrt_message_free>(raw);
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

private:
    Handle<PyrtMessage, pyrt_message_free> handle_;
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
        handle_ = Handle<PyrtPublisher, pyrt_publisher_free>(raw);
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

private:
    Handle<PyrtPublisher, pyrt_publisher_free> handle_;
};

class Subscriber {
public:
    Subscriber(const std::string &endpoint, const std::vector<std::string> &topics,
               int32_t rcvhwm = PYRT_DEFAULT_HWM) {
        std::vector<const char *> pointers;
        for (const auto &topic : topics) pointers.push_back(topic.c_str());
        PyrtSubscriber *raw = nullptr;
        check(pyrt_subscriber_new(endpoint.c_str(), pointers.data(), pointers.size(), rcvhwm, &raw));
        handle_ = Handle<PyrtSubscriber, pyrt_subscriber_free>(raw);
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

private:
    Handle<PyrtSubscriber, pyrt_subscriber_free> handle_;
};

class CommandSender {
public:
    explicit CommandSender(const std::string &endpoint) {
        PyrtCommandSender *raw = nullptr;
        check(pyrt_command_sender_new(endpoint.c_str(), &raw));
        handle_ = Handle<PyrtCommandSender, pyrt_command_sender_free>(raw);
    }
    // Returns once acknowledged; throws pyrt::Error (status PYRT_TIMEOUT) otherwise.
    void send(int32_t command_type, const std::string &payload_json, int32_t timeout_ms) {
        check(pyrt_command_sender_send(handle_.get(), command_type, payload_json.c_str(), timeout_ms));
    }

private:
    Handle<PyrtCommandSender, pyrt_command_sender_free> handle_;
};

class CommandReceiver {
public:
    explicit CommandReceiver(const std::string &endpoint) {
        PyrtCommandReceiver *raw = nullptr;
        check(pyrt_command_receiver_new(endpoint.c_str(), &raw));
        handle_ = Handle<PyrtCommandReceiver, pyrt_command_receiver_free>(raw);
    }
    std::string endpoint() const {
        return detail::last_endpoint(handle_.get(), pyrt_command_receiver_last_endpoint);
    }
    // Receives (and acknowledges) a command into `message`; false on timeout.
    bool receive(Message &message, int32_t timeout_ms) {
        return detail::received(pyrt_command_receiver_receive(handle_.get(), timeout_ms, message.get()));
    }

private:
    Handle<PyrtCommandReceiver, pyrt_command_receiver_free> handle_;
};
// ---- end messaging ----

}  // namespace pyrt

#endif  // PYRT_HPP
