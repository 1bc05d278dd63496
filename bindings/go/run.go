package pyrt

/*
#include <pyrt.h>

// The arrays of series pointers the generic API takes are built here, on the
// C side, from pointers passed one by one: Go may hand C a pointer to Go
// memory, but not Go memory holding Go pointers (cgo's pointer rules), so a
// Go-built pointer array would need pinning on every call. Every catalog
// record has at most PYRT_GO_ARRAYS inputs and outputs; more go through the
// pinned path in Go.
#define PYRT_GO_ARRAYS 8

static PyrtStatus pyrt_go_run(const char *name, const double *params, size_t n_params,
        const double *i0, const double *i1, const double *i2, const double *i3,
        const double *i4, const double *i5, const double *i6, const double *i7, size_t n_inputs,
        size_t len,
        double *o0, double *o1, double *o2, double *o3,
        double *o4, double *o5, double *o6, double *o7, size_t n_outputs) {
    const double *inputs[PYRT_GO_ARRAYS] = {i0, i1, i2, i3, i4, i5, i6, i7};
    double *outputs[PYRT_GO_ARRAYS] = {o0, o1, o2, o3, o4, o5, o6, o7};
    return pyrt_indicator_run(name, params, n_params, inputs, n_inputs, len, outputs, n_outputs);
}

*/
import "C"

import (
	"runtime"
	"unsafe"
)

const goArrays = C.PYRT_GO_ARRAYS

// series8 spreads up to eight series into the fixed slots of the C helpers;
// unused slots are NULL (the core reads only the first n).
func series8(s [][]float64) (p [goArrays]*C.double) {
	for i := 0; i < len(s) && i < goArrays; i++ {
		p[i] = f64ptr(s[i])
	}
	return p
}

// pinnedPointers builds a pointer array for more than eight series: each
// series is pinned so that a Go array may hold its address during the call.
func pinnedPointers(pinner *runtime.Pinner, s [][]float64) []*C.double {
	p := make([]*C.double, len(s))
	for i := range s {
		p[i] = f64ptr(s[i])
		if len(s[i]) > 0 {
			pinner.Pin(&s[i][0])
		}
	}
	pinner.Pin(&p[0])
	return p
}

// Run computes the indicator called name (TA-Lib's name, e.g. "ADX") over
// inputs given in the record's order (Indicator.Inputs; e.g. high, low,
// close), with params by TA-Lib's parameter names (those not given take
// their defaults). It returns one series per output, in TA-Lib's order, each
// as long as the inputs, NaN where the indicator is not yet defined (TA-Lib's
// semantics: a series shorter than the lookback gives all NaN, not an error).
func Run(name string, inputs [][]float64, params map[string]float64) ([][]float64, error) {
	ind, err := lookup(name)
	if err != nil {
		return nil, err
	}
	n, err := ind.seriesLength("input", inputs)
	if err != nil {
		return nil, err
	}
	backing := make([]float64, n*len(ind.Outputs))
	outputs := make([][]float64, len(ind.Outputs))
	for k := range outputs {
		outputs[k] = backing[k*n : (k+1)*n : (k+1)*n]
	}
	if err := ind.run(inputs, params, outputs, n); err != nil {
		return nil, err
	}
	return outputs, nil
}

// RunInto is Run writing into caller-owned outputs (one per output, each as
// long as the inputs): no allocation, for hot loops and large series.
func RunInto(name string, inputs [][]float64, params map[string]float64, outputs [][]float64) error {
	ind, err := lookup(name)
	if err != nil {
		return err
	}
	n, err := ind.seriesLength("input", inputs)
	if err != nil {
		return err
	}
	for k, out := range outputs {
		if len(out) != n {
			return argumentError("%s: output %d has room for %d values, the inputs have %d", ind.Name, k, len(out), n)
		}
	}
	return ind.run(inputs, params, outputs, n)
}

func (ind *Indicator) run(inputs [][]float64, params map[string]float64, outputs [][]float64, n int) error {
	p, err := ind.paramArray(params)
	if err != nil {
		return err
	}
	var status C.PyrtStatus
	lockThread()
	if len(inputs) <= goArrays && len(outputs) <= goArrays {
		in, out := series8(inputs), series8(outputs)
		status = C.pyrt_go_run(ind.cname, f64ptrOrNil(p), C.size_t(len(p)),
			in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], C.size_t(len(inputs)),
			C.size_t(n),
			out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], C.size_t(len(outputs)))
	} else {
		var pinner runtime.Pinner
		in, out := pinnedPointers(&pinner, inputs), pinnedPointers(&pinner, outputs)
		status = C.pyrt_indicator_run(ind.cname, f64ptrOrNil(p), C.size_t(len(p)),
			(**C.double)(unsafe.Pointer(&in[0])), C.size_t(len(inputs)), C.size_t(n),
			(**C.double)(unsafe.Pointer(&out[0])), C.size_t(len(outputs)))
		pinner.Unpin()
	}
	err = lastError(status)
	unlockThread()
	return err
}

func f64ptrOrNil(s []float64) *C.double {
	if len(s) == 0 {
		return nil
	}
	return (*C.double)(unsafe.Pointer(&s[0]))
}
