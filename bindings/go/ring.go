package pyrt

/*
#include <pyrt.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Record is one market-data record of a ring. Its layout is the C record's
// (32 bytes: symbol id, 4 bytes of padding, price, volume, timestamp), so
// batches move between the ring and a []Record without conversion.
type Record struct {
	SymbolID    uint32
	Price       float64
	Volume      float64
	TimestampUS uint64
}

// Checked at compile time: a layout change fails the build instead of
// corrupting records.
var (
	_ [unsafe.Sizeof(Record{}) - C.PYRT_RING_RECORD_SIZE]struct{}
	_ [C.PYRT_RING_RECORD_SIZE - unsafe.Sizeof(Record{})]struct{}
	_ [unsafe.Offsetof(Record{}.Price) - unsafe.Offsetof(C.PyrtMarketDataRecord{}.price)]struct{}
	_ [unsafe.Offsetof(Record{}.TimestampUS) - unsafe.Offsetof(C.PyrtMarketDataRecord{}.timestamp_us)]struct{}
)

// Ring is a handle on a named shared-memory ring of market-data records, a
// single-producer / single-consumer queue between processes in any language
// (the ring "ticks" is /dev/shm/ticks on Linux). A Ring may be shared by
// goroutines; Close waits for calls in flight.
type Ring struct {
	// Calls hold the read lock; Close takes the write lock, so the handle is
	// freed only when no call is inside it.
	mu     sync.RWMutex
	handle *C.PyrtRing
}

func newRing(handle *C.PyrtRing) *Ring {
	r := &Ring{handle: handle}
	runtime.SetFinalizer(r, (*Ring).Close)
	return r
}

// CreateRing creates the ring name with room for capacity records (a power
// of two) and opens it, as the producer side usually does.
func CreateRing(name string, capacity int) (*Ring, error) {
	if capacity < 0 {
		return nil, argumentError("capacity: must be a positive power of two, got %d", capacity)
	}
	cname, err := cString("name", name)
	if err != nil {
		return nil, err
	}
	defer freeCString(cname)
	var handle *C.PyrtRing
	lockThread()
	err = lastError(C.pyrt_ring_create(cname, C.uint64_t(capacity), &handle))
	unlockThread()
	if err != nil {
		return nil, err
	}
	return newRing(handle), nil
}

// OpenRing opens the existing ring name (its layout is checked).
func OpenRing(name string) (*Ring, error) {
	cname, err := cString("name", name)
	if err != nil {
		return nil, err
	}
	defer freeCString(cname)
	var handle *C.PyrtRing
	lockThread()
	err = lastError(C.pyrt_ring_open(cname, &handle))
	unlockThread()
	if err != nil {
		return nil, err
	}
	return newRing(handle), nil
}

// UnlinkRing removes the name; open handles keep working.
func UnlinkRing(name string) error {
	cname, err := cString("name", name)
	if err != nil {
		return err
	}
	defer freeCString(cname)
	lockThread()
	err = lastError(C.pyrt_ring_unlink(cname))
	unlockThread()
	return err
}

var errRingClosed = &Error{Status: StatusClosed, Message: "ring: is closed"}

// Push appends one record; false when the ring is full (nothing written).
func (r *Ring) Push(rec Record) (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.handle == nil {
		return false, errRingClosed
	}
	lockThread()
	status := C.pyrt_ring_push(r.handle, (*C.PyrtMarketDataRecord)(unsafe.Pointer(&rec)))
	var err error
	if status != C.PYRT_FULL {
		err = lastError(status)
	}
	unlockThread()
	return status == C.PYRT_OK, err
}

// PushBatch appends as many of recs as fit, in order; it returns how many.
func (r *Ring) PushBatch(recs []Record) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.handle == nil {
		return 0, errRingClosed
	}
	var pushed C.size_t
	lockThread()
	err := lastError(C.pyrt_ring_push_batch(r.handle, (*C.PyrtMarketDataRecord)(unsafe.Pointer(&recs[0])), C.size_t(len(recs)), &pushed))
	unlockThread()
	return int(pushed), err
}

// PopBatch takes up to max of the oldest records (none when the ring is
// empty).
func (r *Ring) PopBatch(max int) ([]Record, error) {
	if max < 0 {
		return nil, argumentError("max: must be at least 0, got %d", max)
	}
	buf := make([]Record, max)
	n, err := r.PopInto(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n:n], nil
}

// PopInto is PopBatch into a caller-owned buffer (no allocation): it fills
// buf from the start and returns how many records it took.
func (r *Ring) PopInto(buf []Record) (int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.handle == nil {
		return 0, errRingClosed
	}
	if len(buf) == 0 {
		return 0, nil
	}
	var popped C.size_t
	lockThread()
	err := lastError(C.pyrt_ring_pop_batch(r.handle, (*C.PyrtMarketDataRecord)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &popped))
	unlockThread()
	return int(popped), err
}

// Len is the number of records in the ring (a snapshot while a peer is
// active). Fails once closed, or when another process truncated the ring.
func (r *Ring) Len() (int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var n C.size_t
	lockThread()
	err := lastError(C.pyrt_ring_len(r.handle, &n))
	unlockThread()
	return int(n), err
}

// Capacity is how many records the ring holds; 0 once closed.
func (r *Ring) Capacity() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return int(C.pyrt_ring_capacity(r.handle))
}

// Close closes this handle (the ring and its records stay until
// UnlinkRing). Safe from several goroutines and more than once; later calls
// fail with ErrClosed.
func (r *Ring) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	C.pyrt_ring_free(r.handle)
	r.handle = nil
}
