/* pyrt._batch: the common case of a batch indicator call, compiled.
 *
 * On a short series (1,000 bars) the Python wrapper of an indicator costs
 * more than the core: converting each input, allocating each output,
 * wrapping every array for cffi (`ffi.from_buffer`), converting each
 * parameter and cffi's own call took 1-1.5 us per call, growing with the
 * number of arrays. The functions here do all of that in one C call when the
 * arguments are already what the core takes:
 *
 * - every input exports a C-contiguous, aligned, 1-D float64 buffer
 *   (PyObject_GetBuffer);
 * - every whole-number parameter is an `int` (of the C type the core takes),
 *   every other parameter a `float` or an `int`.
 *
 * Anything else (lists, integer or strided or misaligned arrays, pandas
 * Series, NumPy scalars, booleans, negative or out-of-range numbers...)
 * returns None: the Python function then takes its general path, which
 * converts what it can and raises the errors that name the argument. So this
 * file never decides what is valid; it only recognises what needs no
 * conversion. The values (periods, lengths, finiteness) are the core's to
 * check, as on the general path.
 *
 * Two kinds of callers:
 * - `run(index, *inputs, *params)`: a `pyrt.talib` function, catalog entry
 *   `index`, through `pyrt_indicator_run_at` (inputs of one length, else None).
 * - `sma`, `ema`, `rsi`, `macd`, `bollinger_bands`, `atr`: pyrt's own six
 *   (pyrt.indicators), through their typed C functions `pyrt_sma`, ...,
 *   which keep pyrt's documented errors.
 *
 * Outputs are allocated with numpy.empty (several outputs: the rows of one
 * array) and filled by the core. The GIL is released around the core call (as cffi does on
 * every call) once the series is long enough for other threads to gain from
 * it: below RELEASE_GIL_FROM bars the core's work is a few microseconds and
 * releasing and re-taking the GIL would add about 0.1 us to it. A failed
 * call raises the exception pyrt's Python layer chooses for the status
 * (`_core.error_for`), with the core's message.
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

/* `status = call;`, with the GIL released when the series is long. */
#define CALL_CORE(status, len, call)         \
    do {                                     \
        if ((len) >= RELEASE_GIL_FROM) {     \
            Py_BEGIN_ALLOW_THREADS           \
            (status) = (call);               \
            Py_END_ALLOW_THREADS             \
        } else {                             \
            (status) = (call);               \
        }                                    \
    } while (0)

/* `result` = the `n` outputs of `call`, which writes them through `out`:
 * new_outputs makes them, CALL_CORE runs the core, finish returns them (or
 * raises the status). NULL with an exception set on any failure. */
#define CALL_INTO_OUTPUTS(result, n, len, outputs, out, call)                  \
    do {                                                                      \
        PyrtStatus status_ = PYRT_OK;                                         \
        if (new_outputs((n), (len), (outputs), (out))) {                      \
            CALL_CORE(status_, (len), call);                                  \
            (result) = finish(status_, (n), (outputs));                       \
        } else {                                                              \
            for (size_t k_ = 0; k_ < (size_t)(n); k_++) Py_XDECREF((outputs)[k_]); \
        }                                                                     \
    } while (0)

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

static int configured(void) {
    if (entries == NULL || numpy_empty == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "pyrt._batch: configure() was not called");
        return 0;
    }
    return 1;
}

static void raise_status(PyrtStatus status) {
    PyObject *code = PyLong_FromLong((long)status);
    if (code == NULL) return;
    PyObject *error = PyObject_CallFunctionObjArgs(raise_for, code, NULL);
    Py_DECREF(code);
    if (error == NULL) return;
    PyErr_SetObject((PyObject *)Py_TYPE(error), error);
    Py_DECREF(error);
}

/* A catalog parameter as the core's double, or 0 when it needs the general path. */
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

/* A period of pyrt's own functions (a C size_t), or 0 when it needs the
 * general path: not an `int` (a bool, a NumPy integer, a float...), or
 * negative (cffi refuses it there, and the message names the argument). */
static int take_period(PyObject *value, size_t *out) {
    if (!PyLong_CheckExact(value)) return 0;
    size_t v = PyLong_AsSize_t(value);
    if (v == (size_t)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = v;
    return 1;
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

/* The first `n` of `objs` as buffers in `views` (their data in `ptrs`, their
 * lengths in `lens`); the number taken: `n` when all were usable, fewer
 * otherwise (those taken are held and must be released). */
static size_t take_inputs(PyObject *const *objs, size_t n, Py_buffer *views, const double **ptrs,
                          Py_ssize_t *lens) {
    for (size_t k = 0; k < n; k++) {
        if (!take_input(objs[k], &views[k])) return k;
        ptrs[k] = (const double *)views[k].buf;
        lens[k] = views[k].shape[0];
    }
    return n;
}

static void release_all(Py_buffer *views, size_t n) {
    for (size_t k = 0; k < n; k++) PyBuffer_Release(&views[k]);
}

/* `n` float64 arrays of `len` values as the rows of one new (n, len) array,
 * their data in `ptrs`; 0 with an exception set on failure (the rows made so
 * far are in `arrays`, for the caller's cleanup). One allocation instead of
 * `n` keeps long series fast: glibc's malloc, whose mmap and trim thresholds
 * follow the sizes freed, gave three separate outputs of 1,000,000 values
 * back to the system after each call and faulted them in again on the next
 * (pyrt.macd: about 5 ms a call), while it keeps and reuses one block of the
 * same total (about 1.8 ms). */
static int new_rows(size_t n, Py_ssize_t len, PyObject **arrays, double **ptrs) {
    PyObject *shape = Py_BuildValue("((nn))", (Py_ssize_t)n, len);
    if (shape == NULL) return 0;
    PyObject *block = PyObject_Call(numpy_empty, shape, NULL);
    Py_DECREF(shape);
    if (block == NULL) return 0;
    Py_buffer view;
    if (PyObject_GetBuffer(block, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0) {
        Py_DECREF(block);
        return 0;
    }
    double *data = (double *)view.buf;
    /* The rows keep the block, which owns the memory, alive. */
    PyBuffer_Release(&view);
    int ok = 1;
    for (size_t k = 0; k < n && ok; k++) {
        arrays[k] = PySequence_GetItem(block, (Py_ssize_t)k);
        ok = arrays[k] != NULL;
        ptrs[k] = data + k * (size_t)len;
    }
    Py_DECREF(block);
    return ok;
}

/* `n` new float64 arrays of `len` values in `arrays` (several: the rows of
 * one array, see `new_rows`), their data in `ptrs`; 0 with an exception set
 * on failure (the arrays made so far are in `arrays`, for the caller's
 * cleanup). */
static int new_outputs(size_t n, Py_ssize_t len, PyObject **arrays, double **ptrs) {
    if (n > 1) return new_rows(n, len, arrays, ptrs);
    PyObject *shape = Py_BuildValue("(n)", len);
    if (shape == NULL) return 0;
    int ok = 1;
    for (size_t k = 0; k < n && ok; k++) {
        arrays[k] = PyObject_Call(numpy_empty, shape, NULL);
        Py_buffer view;
        ok = arrays[k] != NULL && PyObject_GetBuffer(arrays[k], &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) == 0;
        if (ok) {
            ptrs[k] = (double *)view.buf;
            /* The array owns its memory and is referenced by the caller until the end. */
            PyBuffer_Release(&view);
        }
    }
    Py_DECREF(shape);
    return ok;
}

/* The outputs as the caller returns them (an array, or a tuple of them); the
 * references in `arrays` are moved into the result. NULL when the call failed. */
static PyObject *finish(PyrtStatus status, size_t n, PyObject **arrays) {
    PyObject *result = NULL;
    if (status != PYRT_OK) {
        raise_status(status);
    } else if (n == 1) {
        result = arrays[0];
        arrays[0] = NULL;
    } else if ((result = PyTuple_New((Py_ssize_t)n)) != NULL) {
        for (size_t k = 0; k < n; k++) {
            PyTuple_SetItem(result, (Py_ssize_t)k, arrays[k]); /* steals the reference */
            arrays[k] = NULL;
        }
    }
    for (size_t k = 0; k < n; k++) Py_XDECREF(arrays[k]);
    return result;
}

/* ---- pyrt.talib: catalog entries by index ---- */

/* run(index, *inputs, *params): the outputs (an array, or a tuple of them),
 * or None when an argument needs the general path. */
static PyObject *run(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (!configured()) return NULL;
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
    Py_ssize_t lens[MAX_INPUTS];
    size_t held = take_inputs(args + 1, entry->n_inputs, views, inputs, lens);
    int usable = held == entry->n_inputs;
    /* Lengths that differ: the general path names the input. */
    for (size_t k = 1; k < held && usable; k++) usable = lens[k] == lens[0];
    if (!usable) {
        release_all(views, held);
        Py_RETURN_NONE;
    }
    Py_ssize_t len = entry->n_inputs ? lens[0] : 0;

    PyObject *outputs[MAX_OUTPUTS] = {NULL};
    double *out[MAX_OUTPUTS];
    PyObject *result = NULL;
    CALL_INTO_OUTPUTS(result, entry->n_outputs, len, outputs, out,
                      pyrt_indicator_run_at((size_t)index, params, entry->n_params, inputs, entry->n_inputs,
                                            (size_t)len, out, entry->n_outputs));
    release_all(views, held);
    return result;
}

/* ---- pyrt's own six (pyrt.indicators) ---- */

typedef PyrtStatus (*PeriodFn)(const double *, size_t, size_t, double *);

/* sma / ema / rsi (prices, window). */
static PyObject *one_period(PyObject *const *args, Py_ssize_t nargs, PeriodFn fn, const char *name) {
    if (!configured()) return NULL;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s: takes prices and window, got %zd arguments", name, nargs);
        return NULL;
    }
    size_t window;
    if (!take_period(args[1], &window)) Py_RETURN_NONE;
    Py_buffer view;
    const double *x;
    Py_ssize_t len;
    if (take_inputs(args, 1, &view, &x, &len) != 1) Py_RETURN_NONE;
    PyObject *outputs[1] = {NULL};
    double *out[1];
    PyObject *result = NULL;
    CALL_INTO_OUTPUTS(result, 1, len, outputs, out,
                      fn(x, (size_t)len, window, out[0]));
    PyBuffer_Release(&view);
    return result;
}

static PyObject *sma(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
    (void)m;
    return one_period(args, nargs, pyrt_sma, "sma");
}

static PyObject *ema(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
    (void)m;
    return one_period(args, nargs, pyrt_ema, "ema");
}

static PyObject *rsi(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
    (void)m;
    return one_period(args, nargs, pyrt_rsi, "rsi");
}

/* macd(prices, fast_period, slow_period, signal_period) -> (macd, signal, histogram) */
static PyObject *macd(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
    (void)m;
    if (!configured()) return NULL;
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "macd: takes prices and three periods, got %zd arguments", nargs);
        return NULL;
    }
    size_t fast, slow, signal;
    if (!take_period(args[1], &fast) || !take_period(args[2], &slow) || !take_period(args[3], &signal)) {
        Py_RETURN_NONE;
    }
    Py_buffer view;
    const double *x;
    Py_ssize_t len;
    if (take_inputs(args, 1, &view, &x, &len) != 1) Py_RETURN_NONE;
    PyObject *outputs[3] = {NULL};
    double *out[3];
    PyObject *result = NULL;
    CALL_INTO_OUTPUTS(result, 3, len, outputs, out,
                      pyrt_macd(x, (size_t)len, fast, slow, signal, out[0], out[1], out[2]));
    PyBuffer_Release(&view);
    return result;
}

/* bollinger_bands(prices, window, num_std) -> (upper, middle, lower) */
static PyObject *bollinger_bands(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
    (void)m;
    if (!configured()) return NULL;
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "bollinger_bands: takes prices, window and num_std, got %zd arguments", nargs);
        return NULL;
    }
    size_t window;
    double num_std;
    if (!take_period(args[1], &window) || !take_param(args[2], 0, &num_std)) Py_RETURN_NONE;
    Py_buffer view;
    const double *x;
    Py_ssize_t len;
    if (take_inputs(args, 1, &view, &x, &len) != 1) Py_RETURN_NONE;
    PyObject *outputs[3] = {NULL};
    double *out[3];
    PyObject *result = NULL;
    CALL_INTO_OUTPUTS(result, 3, len, outputs, out,
                      pyrt_bollinger_bands(x, (size_t)len, window, num_std, out[0], out[1], out[2]));
    PyBuffer_Release(&view);
    return result;
}

/* atr(high, low, close, window); lengths that differ are the core's to name. */
static PyObject *atr(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
    (void)m;
    if (!configured()) return NULL;
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "atr: takes high, low, close and window, got %zd arguments", nargs);
        return NULL;
    }
    size_t window;
    if (!take_period(args[3], &window)) Py_RETURN_NONE;
    Py_buffer views[3];
    const double *x[3];
    Py_ssize_t lens[3];
    size_t held = take_inputs(args, 3, views, x, lens);
    if (held != 3) {
        release_all(views, held);
        Py_RETURN_NONE;
    }
    PyObject *outputs[1] = {NULL};
    double *out[1];
    PyObject *result = NULL;
    CALL_INTO_OUTPUTS(result, 1, lens[2], outputs, out,
                      pyrt_atr(x[0], (size_t)lens[0], x[1], (size_t)lens[1], x[2], (size_t)lens[2], window, out[0]));
    release_all(views, 3);
    return result;
}

/* configure(numpy_empty, error_for): what the calls allocate with and raise
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

#define FAST(name, doc) {#name, (PyCFunction)(void (*)(void))name, METH_FASTCALL, doc}

static PyMethodDef methods[] = {
    FAST(run, "run(index, *inputs, *params): catalog entry `index` over the inputs, its outputs out (an array, or a "
              "tuple in the output order); None when an argument needs the general conversion path."),
    FAST(sma, "sma(prices, window): pyrt.sma's common case through pyrt_sma; None for the general path."),
    FAST(ema, "ema(prices, window): pyrt.ema's common case through pyrt_ema; None for the general path."),
    FAST(rsi, "rsi(prices, window): pyrt.rsi's common case through pyrt_rsi; None for the general path."),
    FAST(macd, "macd(prices, fast_period, slow_period, signal_period): pyrt.macd's common case through pyrt_macd; "
               "None for the general path."),
    FAST(bollinger_bands, "bollinger_bands(prices, window, num_std): pyrt.bollinger_bands's common case through "
                          "pyrt_bollinger_bands; None for the general path."),
    FAST(atr, "atr(high, low, close, window): pyrt.atr's common case through pyrt_atr; None for the general path."),
    {"configure", configure, METH_VARARGS,
     "configure(numpy_empty, error_for): the output allocator and the status-to-exception function."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "pyrt._batch", "The compiled common case of pyrt's batch indicator calls.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__batch(void) { return PyModule_Create(&module_def); }
