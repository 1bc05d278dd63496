package pyrt

/*
#include <stdint.h>
#include <pyrt.h>

// As pyrt_go_run (run.go): history pointers passed one by one.
#define PYRT_GO_ARRAYS 8
static PyrtStatus pyrt_go_stream_open(const char *name, const double *params, size_t n_params,
        const double *i0, const double *i1, const double *i2, const double *i3,
        const double *i4, const double *i5, const double *i6, const double *i7, size_t n_inputs,
        size_t len, PyrtStream **out) {
    const double *history[PYRT_GO_ARRAYS] = {i0, i1, i2, i3, i4, i5, i6, i7};
    return pyrt_stream_open(name, params, n_params, history, n_inputs, len, out);
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Stream is an indicator updated one bar at a time. Its state can be saved
// (Save) and resumed here or in any other pyrt binding (LoadStream, Python's
// from_bytes). A Stream may be shared by goroutines: the core serializes the
// calls, so each sees the state some serial order of updates left.
type Stream struct {
	handle *C.PyrtStream
	ind    *Indicator
}

func newStream(handle *C.PyrtStream, ind *Indicator) *Stream {
	s := &Stream{handle: handle, ind: ind}
	// Freed only once nothing can reach s, so never under another
	// goroutine's call; Close merely closes.
	runtime.SetFinalizer(s, func(s *Stream) { C.pyrt_stream_free(s.handle) })
	return s
}

// NewStream builds the indicator called name from history (its inputs in the
// record's order, as talib.stream.NAME(*history)): the stream then stands
// where the last bar of history left it. Too short a history (fewer than the
// lookback + 1 bars) is an error (ErrInsufficientHistory).
func NewStream(name string, history [][]float64, params map[string]float64) (*Stream, error) {
	ind, err := lookup(name)
	if err != nil {
		return nil, err
	}
	n, err := ind.seriesLength("history", history)
	if err != nil {
		return nil, err
	}
	if len(history) > goArrays {
		return nil, argumentError("%s: %d history series given, the indicator takes %d", ind.Name, len(history), len(ind.Inputs))
	}
	p, err := ind.paramArray(params)
	if err != nil {
		return nil, err
	}
	h := series8(history)
	var handle *C.PyrtStream
	lockThread()
	err = lastError(C.pyrt_go_stream_open(ind.cname, f64ptrOrNil(p), C.size_t(len(p)),
		h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], C.size_t(len(history)), C.size_t(n), &handle))
	unlockThread()
	if err != nil {
		return nil, err
	}
	return newStream(handle, ind), nil
}

// LoadStream resumes a stream from state saved by any pyrt binding (the
// state names its indicator and carries its parameters).
func LoadStream(state []byte) (*Stream, error) {
	var ptr *C.uint8_t
	if len(state) > 0 {
		ptr = (*C.uint8_t)(unsafe.Pointer(&state[0]))
	} else {
		ptr = (*C.uint8_t)(unsafe.Pointer(&emptyF64[0]))
	}
	var handle *C.PyrtStream
	var index C.size_t
	lockThread()
	err := lastError(C.pyrt_stream_load(ptr, C.size_t(len(state)), &handle))
	if err == nil {
		if err = lastError(C.pyrt_stream_indicator(handle, &index)); err != nil {
			C.pyrt_stream_free(handle)
		}
	}
	unlockThread()
	if err != nil {
		return nil, err
	}
	ind, err := indicatorAt(uint(index))
	if err != nil {
		C.pyrt_stream_free(handle)
		return nil, err
	}
	return newStream(handle, ind), nil
}

// Indicator is the catalog record of the stream's indicator.
func (s *Stream) Indicator() Indicator { return *s.ind }

// Update feeds one bar (one value per input, in the record's order) and
// returns the outputs after it. A bar that is not finite is refused and the
// stream is left unchanged.
func (s *Stream) Update(tick ...float64) ([]float64, error) {
	out := make([]float64, len(s.ind.Outputs))
	if err := s.UpdateInto(out, tick...); err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateInto is Update writing the outputs into out (no allocation).
func (s *Stream) UpdateInto(out []float64, tick ...float64) error {
	lockThread()
	err := lastError(C.pyrt_stream_update(s.handle, f64ptr(tick), C.size_t(len(tick)), f64ptr(out), C.size_t(len(out))))
	unlockThread()
	runtime.KeepAlive(s)
	return err
}

// Save returns the stream's state: bytes any pyrt binding resumes.
func (s *Stream) Save() ([]byte, error) {
	lockThread()
	defer unlockThread()
	defer runtime.KeepAlive(s)
	var size C.size_t
	status := C.pyrt_stream_save(s.handle, nil, 0, &size)
	for status == C.PYRT_BUFFER_TOO_SMALL {
		buf := make([]byte, int(size))
		var written C.size_t
		status = C.pyrt_stream_save(s.handle, (*C.uint8_t)(unsafe.Pointer(&buf[0])), size, &written)
		if status == C.PYRT_OK {
			return buf[:int(written)], nil
		}
		size = written // another goroutine's update grew the state: ask again
	}
	if status == C.PYRT_OK {
		return []byte{}, nil
	}
	return nil, lastError(status)
}

// Close releases the stream's state. It waits for a call in flight on
// another goroutine; later calls fail with ErrClosed. Closing twice is a
// no-op.
func (s *Stream) Close() {
	C.pyrt_stream_close(s.handle)
	runtime.KeepAlive(s)
}
