// Package pyrt embeds the pyrt trading-analytics core (a Rust library behind
// a C ABI) in Go programs through cgo.
//
// Every indicator of the catalog is reached by its TA-Lib name: Run computes
// a whole series, a Stream updates one bar at a time and saves its state as
// bytes any other binding (Python, Java, Node, C) can resume. Rings are the
// shared-memory market-data queues other processes fill or drain.
//
// The library is found through pkg-config (`pkg-config pyrt`), installed by
// pyrt's `cmake --install`.
package pyrt

/*
#cgo pkg-config: pyrt
#include <stdlib.h>
#include <pyrt.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// Status is the core's PyrtStatus: 0 is success, 1xx bad arguments, 5xx the
// shared-memory ring, 9xx internal errors.
type Status int32

// Statuses an Error can carry (the PYRT_* constants of pyrt.h).
const (
	StatusInvalidArgument     Status = C.PYRT_INVALID_ARGUMENT
	StatusNullPointer         Status = C.PYRT_NULL_POINTER
	StatusBufferTooSmall      Status = C.PYRT_BUFFER_TOO_SMALL
	StatusInvalidState        Status = C.PYRT_INVALID_STATE
	StatusClosed              Status = C.PYRT_CLOSED
	StatusNotFound            Status = C.PYRT_NOT_FOUND
	StatusInsufficientHistory Status = C.PYRT_INSUFFICIENT_HISTORY
	StatusBadLayout           Status = C.PYRT_BAD_LAYOUT
	StatusIOError             Status = C.PYRT_IO_ERROR
	StatusPanic               Status = C.PYRT_PANIC
)

// Error is a failed call: the core's status and its message (or, for the
// few checks made on the Go side before calling, a message in the same style).
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string { return "pyrt: " + e.Message }

// Is makes errors.Is(err, pyrt.ErrClosed) (and the other Err values) match
// any error of that status, whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Status == e.Status
}

// Values to compare errors with errors.Is.
var (
	ErrInvalidArgument     = &Error{Status: StatusInvalidArgument}
	ErrInvalidState        = &Error{Status: StatusInvalidState}
	ErrClosed              = &Error{Status: StatusClosed}
	ErrNotFound            = &Error{Status: StatusNotFound}
	ErrInsufficientHistory = &Error{Status: StatusInsufficientHistory}
	ErrBadLayout           = &Error{Status: StatusBadLayout}
)

// lastError turns a failed status into an Error with the message the core
// left for this OS thread. The caller holds runtime.LockOSThread across the
// failed call and this one: the message is thread-local in the core, and an
// unlocked goroutine may resume on another thread between two cgo calls.
func lastError(status C.PyrtStatus) error {
	if status == C.PYRT_OK {
		return nil
	}
	return &Error{Status: Status(status), Message: C.GoString(C.pyrt_last_error_message())}
}

func argumentError(format string, args ...any) error {
	return &Error{Status: StatusInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

// cString copies s for C, refusing an embedded NUL (C would silently cut the
// string there). The caller frees the result.
func cString(what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, argumentError("%s: contains a NUL byte", what)
	}
	return C.CString(s), nil
}

func freeCString(s *C.char) { C.free(unsafe.Pointer(s)) }

// Version is the library's semantic version, e.g. "0.1.0".
func Version() string { return C.GoString(C.pyrt_version()) }

// ABIVersion is the ABI version of the loaded library; it equals the one this
// package was compiled against (checked at init).
func ABIVersion() uint32 { return uint32(C.pyrt_abi_version()) }

func init() {
	if got := uint32(C.pyrt_abi_version()); got != C.PYRT_ABI_VERSION {
		panic(fmt.Sprintf("pyrt: the loaded libpyrt has ABI version %d, this package was built for %d; rebuild against the installed pyrt", got, C.PYRT_ABI_VERSION))
	}
}

// emptyF64 gives zero-length arrays a valid address: the core checks
// pointers before lengths.
var emptyF64 [1]float64

func f64ptr(s []float64) *C.double {
	if len(s) == 0 {
		return (*C.double)(unsafe.Pointer(&emptyF64[0]))
	}
	return (*C.double)(unsafe.Pointer(&s[0]))
}

// lockThread / unlockThread bracket a call whose failure message is read
// afterwards (see lastError).
func lockThread()   { runtime.LockOSThread() }
func unlockThread() { runtime.UnlockOSThread() }
