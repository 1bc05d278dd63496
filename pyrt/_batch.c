/* pyrt._batch: the common case of a `pyrt.talib` function call, compiled.
 *
 * On a short series (1,000 bars) the Python wrapper of a catalog function
 * costs more than the core: converting each input, allocating each output,
 * wrapping every array for cffi and converting each parameter took 1-3 us
 * per call, growing with the number of arrays. `run` does all of that in one
 * C call when the arguments are already what the core takes:
 *
 * - every input exports a C-contiguous, aligned, 1-D float64 buffer
 *   (PyObject_GetBuffer), all of one length;
 * - every whole-number parameter is an `int` that fits a C int32, every
 *   other parameter a `float` or an `int`.
 *
 * Anything else (lists, integer or strided or misaligned arrays, pandas
 * Series, NumPy scalars, booleans, out-of-range numbers...) returns None:
 * the generated Python function then takes its general path, which converts
 * what it can and raises the errors that name the argument. So this file
 * never decides what is valid; it only recognises what needs no conversion.
 * The parameters' values are the core's to check, as on the general path.
 *
 * Outputs are allocated with numpy.empty (one array per output, as the
 * general path returns) and filled by `pyrt_indicator_run_at`. The GIL is
 * released around the core call, as cffi does, once the series is long
 * enough for other threads to gain from it. A failed call raises the
 * exception pyrt's Python layer chooses for the status (`_core.error_for`),
 * with the core's message.
 *
 * Uses the limited C API of Python 3.11, the first with the buffer protocol
 * in it (one abi3 wheel for 3.11 and later).
 */
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030B0000
#endif
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "pyrt.h"

#define MAX_INPUTS 8
#define MAX_PARAMS 16
#define MAX_OUTPUTS 8

/* Below this many bars the core's work is shorter than releasing and
 * re-taking the GIL is worth to other threads. */
#define RELEASE_GIL_FROM 4096

typedef struct {
    size_t n_inputs;
    size_t n_params;
    size_t n_outputs;
    unsigned char integer[MAX_PARAMS]; /* parameter k takes whole numbers */
} Entry;

static Entry *entries = NULL;
static size_t n_entries = 0;
static PyObject *numpy_empty = NULL; /* numpy.empty */
static PyObject *raise_for = NULL;   /* _core.error_for: status -> exception instance */

static void raise_status(PyrtStatus status) {
    PyObject *code = PyLong_FromLong((long)status);
    if (code == NULL) return;
    PyObject *error = PyObject_CallFunctionObjArgs(raise_for, code, NULL);
    Py_DECREF(code);
    if (error == NULL) return;
    PyErr_SetObject((PyObject *)Py_TYPE(error), error);
    Py_DECREF(error);
}

/* A parameter as the core's double, or 0 when it needs the general path. */
static int take_param(PyObject *value, int integer, double *out) {
    if (PyLong_CheckExact(value)) {
        if (integer) {
            int overflow = 0;
            long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
            if (overflow != 0 || v < INT32_MIN || v > INT32_MAX) return 0;
            *out = (double)v;
            return 1;
        }
        double v = PyLong_AsDouble(value);
        if (v == -1.0 && PyErr_Occurred()) {
            PyErr_Clear(); /* too large for a double: the general path says so */
            return 0;
        }
        *out = v;
        return 1;
    }
    if (!integer && PyFloat_CheckExact(value)) {
        *out = PyFloat_AsDouble(value);
        return 1;
    }
    return 0;
}

/* Input `obj` as a float64 buffer the core can read in place, or 0. */
static int take_input(PyObject *obj, Py_buffer *view) {
    if (!PyObject_CheckBuffer(obj)) return 0;
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) {
        PyErr_Clear(); /* not contiguous, or no such view: the general path copies */
        return 0;
    }
    const char *format = view->format;
    int is_double = format != NULL && (strcmp(format, "d") == 0 || strcmp(format, "@d") == 0);
    if (view->ndim != 1 || view->itemsize != (Py_ssize_t)sizeof(double) || !is_double ||
        ((uintptr_t)view->buf % _Alignof(double)) != 0) {
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

static void release_all(Py_buffer *views, size_t n) {
    for (size_t k = 0; k < n; k++) PyBuffer_Release(&views[k]);
}

/* run(index, *inputs, *params): the outputs (an array, or a tuple of them),
 * or None when an argument needs the general path. */
static PyObject *run(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (entries == NULL || numpy_empty == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "pyrt._batch: configure() was not called");
        return NULL;
    }
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "run: takes the catalog index, the inputs and the parameters");
        return NULL;
    }
    Py_ssize_t index = PyLong_AsSsize_t(args[0]);
    if (index == -1 && PyErr_Occurred()) return NULL;
    if (index < 0 || (size_t)index >= n_entries) {
        PyErr_Format(PyExc_ValueError, "run: %zd is not a catalog index", index);
        return NULL;
    }
    const Entry *entry = &entries[index];
    if ((size_t)nargs != 1 + entry->n_inputs + entry->n_params) {
        PyErr_Format(PyExc_TypeError, "run: catalog entry %zd takes %zu inputs and %zu parameters, got %zd arguments",
                     index, entry->n_inputs, entry->n_params, nargs - 1);
        return NULL;
    }

    double params[MAX_PARAMS];
    PyObject *const *param_args = args + 1 + entry->n_inputs;
    for (size_t k = 0; k < entry->n_params; k++) {
        if (!take_param(param_args[k], entry->integer[k], &params[k])) Py_RETURN_NONE;
    }

    Py_buffer views[MAX_INPUTS];
    const double *inputs[MAX_INPUTS];
    size_t held = 0;
    Py_ssize_t len = 0;
    int usable = 1;
    for (size_t k = 0; k < entry->n_inputs && usable; k++) {
        if (!take_input(args[1 + k], &views[k])) {
            usable = 0;
            break;
        }
        held++;
        if (k == 0) len = views[0].shape[0];
        /* Lengths that differ: the general path names the input. */
        usable = views[k].shape[0] == len;
        inputs[k] = (const double *)views[k].buf;
    }
    if (!usable) {
        release_all(views, held);
        Py_RETURN_NONE;
    }

    PyObject *outputs[MAX_OUTPUTS] = {NULL};
    double *out_ptrs[MAX_OUTPUTS];
    PyObject *result = NULL;
    PyObject *shape = Py_BuildValue("(n)", len);
    if (shape == NULL) goto done;
    for (size_t k = 0; k < entry->n_outputs; k++) {
        outputs[k] = PyObject_Call(numpy_empty, shape, NULL);
        if (outputs[k] == NULL) goto done;
        Py_buffer out_view;
        if (PyObject_GetBuffer(outputs[k], &out_view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0) goto done;
        out_ptrs[k] = (double *)out_view.buf;
        /* The array owns its memory and is referenced here until the end. */
        PyBuffer_Release(&out_view);
    }

    PyrtStatus status;
    if (len >= RELEASE_GIL_FROM) {
        Py_BEGIN_ALLOW_THREADS
        status = pyrt_indicator_run_at((size_t)index, params, entry->n_params, inputs, entry->n_inputs, (size_t)len,
                                       out_ptrs, entry->n_outputs);
        Py_END_ALLOW_THREADS
    } else {
        status = pyrt_indicator_run_at((size_t)index, params, entry->n_params, inputs, entry->n_inputs, (size_t)len,
                                       out_ptrs, entry->n_outputs);
    }
    if (status != PYRT_OK) {
        raise_status(status);
        goto done;
    }
    if (entry->n_outputs == 1) {
        result = outputs[0];
        outputs[0] = NULL;
    } else {
        result = PyTuple_New((Py_ssize_t)entry->n_outputs);
        if (result == NULL) goto done;
        for (size_t k = 0; k < entry->n_outputs; k++) {
            PyTuple_SetItem(result, (Py_ssize_t)k, outputs[k]); /* steals the reference */
            outputs[k] = NULL;
        }
    }

done:
    Py_XDECREF(shape);
    for (size_t k = 0; k < entry->n_outputs; k++) Py_XDECREF(outputs[k]);
    release_all(views, held);
    return result;
}

/* configure(numpy_empty, error_for): what `run` allocates with and raises
 * through; reads the catalog's shapes from the core once. */
static PyObject *configure(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *empty, *error_for;
    if (!PyArg_ParseTuple(args, "OO", &empty, &error_for)) return NULL;
    size_t count = pyrt_indicator_count();
    Entry *table = PyMem_Calloc(count ? count : 1, sizeof(Entry));
    if (table == NULL) return PyErr_NoMemory();
    for (size_t i = 0; i < count; i++) {
        PyrtIndicatorInfo info;
        PyrtStatus status = pyrt_indicator_info(i, &info);
        if (status != PYRT_OK) {
            PyMem_Free(table);
            PyErr_Format(PyExc_RuntimeError, "pyrt._batch: pyrt_indicator_info(%zu) failed with status %d", i,
                         (int)status);
            return NULL;
        }
        if (info.n_inputs > MAX_INPUTS || info.n_params > MAX_PARAMS || info.n_outputs > MAX_OUTPUTS) {
            PyMem_Free(table);
            PyErr_Format(PyExc_RuntimeError, "pyrt._batch: %s has more inputs, parameters or outputs than %d/%d/%d",
                         info.name, MAX_INPUTS, MAX_PARAMS, MAX_OUTPUTS);
            return NULL;
        }
        table[i].n_inputs = info.n_inputs;
        table[i].n_params = info.n_params;
        table[i].n_outputs = info.n_outputs;
        for (size_t k = 0; k < info.n_params; k++) table[i].integer[k] = info.params[k].integer ? 1 : 0;
    }
    Py_INCREF(empty);
    Py_INCREF(error_for);
    Py_XDECREF(numpy_empty);
    Py_XDECREF(raise_for);
    numpy_empty = empty;
    raise_for = error_for;
    PyMem_Free(entries);
    entries = table;
    n_entries = count;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"run", (PyCFunction)(void (*)(void))run, METH_FASTCALL,
     "run(index, *inputs, *params): catalog entry `index` over the inputs, its outputs out (an array, or a "
     "tuple in the output order); None when an argument needs the general conversion path."},
    {"configure", configure, METH_VARARGS,
     "configure(numpy_empty, error_for): the output allocator and the status-to-exception function."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "pyrt._batch", "The compiled common case of pyrt.talib's function calls.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__batch(void) { return PyModule_Create(&module_def); }
