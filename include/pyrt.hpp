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
// ---- end messaging ----

}  // namespace pyrt

#endif  // PYRT_HPP
