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
    std::size_t size() const noexcept { return pyrt_ring_len(handle_.get()); }
    uint64_t capacity() const noexcept { return pyrt_ring_capacity(handle_.get()); }
    PyrtRing *get() const noexcept { return handle_.get(); }

private:
    explicit Ring(PyrtRing *raw) noexcept : handle_(raw) {}
    static bool outcome(PyrtStatus status, PyrtStatus refusal) {
        if (status == refusal) {
            return false;
        }
        check(status);
        return true;
    }
    Handle<PyrtRing, pyrt_ring_free> handle_;
};
// ---- end ipc ----

// ---- messaging ----
// ---- end messaging ----

}  // namespace pyrt

#endif  // PYRT_HPP
