package pyrt

/*
#include <pyrt.h>
*/
import "C"

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Param describes one parameter of an indicator, as TA-Lib names it.
type Param struct {
	Name    string
	Default float64
	Min     float64 // valid range, both ends included
	Max     float64
	Integer bool // whole numbers only
}

// Indicator is one catalog record: TA-Lib's name, group, input names (the
// order Run and Stream take them in), parameters and output names.
type Indicator struct {
	Name    string
	Group   string
	Display string
	Inputs  []string
	Params  []Param
	Outputs []string

	index uint
	cname *C.char // the record's own static string: no allocation per call
}

var catalog struct {
	once   sync.Once
	list   []*Indicator
	byName map[string]*Indicator
}

func loadCatalog() {
	catalog.once.Do(func() {
		n := uint(C.pyrt_indicator_count())
		catalog.list = make([]*Indicator, 0, n)
		catalog.byName = make(map[string]*Indicator, n)
		for i := uint(0); i < n; i++ {
			var info C.PyrtIndicatorInfo
			if C.pyrt_indicator_info(C.size_t(i), &info) != C.PYRT_OK {
				continue // cannot happen for an index below the count
			}
			ind := fromInfo(i, &info)
			catalog.list = append(catalog.list, ind)
			catalog.byName[ind.Name] = ind
		}
	})
}

func fromInfo(index uint, info *C.PyrtIndicatorInfo) *Indicator {
	ind := &Indicator{
		Name:    C.GoString(info.name),
		Group:   C.GoString(info.group),
		Display: C.GoString(info.display),
		index:   index,
		cname:   info.name,
	}
	for _, s := range unsafe.Slice((**C.char)(unsafe.Pointer(info.inputs)), int(info.n_inputs)) {
		ind.Inputs = append(ind.Inputs, C.GoString(s))
	}
	for _, s := range unsafe.Slice((**C.char)(unsafe.Pointer(info.outputs)), int(info.n_outputs)) {
		ind.Outputs = append(ind.Outputs, C.GoString(s))
	}
	for _, p := range unsafe.Slice(info.params, int(info.n_params)) {
		ind.Params = append(ind.Params, Param{
			Name: C.GoString(p.name), Default: float64(p.default_value),
			Min: float64(p.min), Max: float64(p.max), Integer: bool(p.integer),
		})
	}
	return ind
}

// Indicators lists the catalog: every indicator Run and NewStream accept.
func Indicators() []Indicator {
	loadCatalog()
	out := make([]Indicator, len(catalog.list))
	for i, ind := range catalog.list {
		out[i] = *ind
	}
	return out
}

// Lookup returns the catalog record of the indicator called name.
func Lookup(name string) (Indicator, error) {
	ind, err := lookup(name)
	if err != nil {
		return Indicator{}, err
	}
	return *ind, nil
}

func lookup(name string) (*Indicator, error) {
	loadCatalog()
	if ind := catalog.byName[name]; ind != nil {
		return ind, nil
	}
	// Not a catalog name as spelled: the core says what is wrong with it
	// (and resolves it, should it accept other spellings).
	cname, err := cString("name", name)
	if err != nil {
		return nil, err
	}
	defer freeCString(cname)
	var index C.size_t
	lockThread()
	err = lastError(C.pyrt_indicator_find(cname, &index))
	unlockThread()
	if err != nil {
		return nil, err
	}
	return indicatorAt(uint(index))
}

func indicatorAt(index uint) (*Indicator, error) {
	loadCatalog()
	if index >= uint(len(catalog.list)) || catalog.list[index].index != index {
		return nil, &Error{Status: StatusNotFound, Message: "indicator index out of the catalog"}
	}
	return catalog.list[index], nil
}

// paramArray lays params out in the record's order, NaN (the core's
// "default") where a parameter is not given. nil when none is given.
func (ind *Indicator) paramArray(params map[string]float64) ([]float64, error) {
	if len(params) == 0 {
		return nil, nil
	}
	values := make([]float64, len(ind.Params))
	for i := range values {
		values[i] = math.NaN()
	}
	for name, v := range params {
		i := ind.paramIndex(name)
		if i < 0 {
			return nil, argumentError("%s: unknown parameter %q (parameters: %s)", ind.Name, name, ind.paramNames())
		}
		values[i] = v
	}
	return values, nil
}

func (ind *Indicator) paramIndex(name string) int {
	for i, p := range ind.Params {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func (ind *Indicator) paramNames() string {
	if len(ind.Params) == 0 {
		return "none"
	}
	names := make([]string, len(ind.Params))
	for i, p := range ind.Params {
		names[i] = p.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// seriesLength is the common length of inputs, or an error naming the first
// input whose length differs (the core sees one length for all of them).
func (ind *Indicator) seriesLength(what string, inputs [][]float64) (int, error) {
	if len(inputs) == 0 {
		return 0, nil
	}
	n := len(inputs[0])
	for i, in := range inputs[1:] {
		if len(in) != n {
			return 0, argumentError("%s: %s %s has %d values but %s %s has %d",
				ind.Name, what, ind.inputName(i+1), len(in), what, ind.inputName(0), n)
		}
	}
	return n, nil
}

func (ind *Indicator) inputName(i int) string {
	if i < len(ind.Inputs) {
		return ind.Inputs[i]
	}
	return "#" + strconv.Itoa(i)
}
