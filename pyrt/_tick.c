/* pyrt._tick: the per-tick path of streams, as a compiled callable.
 *
 * A stream's `update` is called once per bar, so its fixed cost is what a
 * live strategy pays. Written in Python it costs a frame, an out-buffer
 * allocation and a status check (about 1 us); this callable parses the bar's
 * numbers, calls pyrt_stream_update with stack buffers and returns a float or
 * a tuple, with no frame in between. On failure it raises the exception
 * pyrt's Python layer chooses for the status (`_core.error_for`), with the
 * core's message.
 *
 * The callable keeps a reference to the stream's pointer object (the cffi
 * cdata whose finalizer frees the handle), so the handle outlives every call
 * made through it. The GIL is held during the call: a bar costs tens of
 * nanoseconds in the core, less than releasing and re-taking the GIL, and
 * the core's own lock serializes calls on one stream from several threads.
 * Uses the limited C API only (one abi3 wheel; 3.11, as setup.py sets).
 */
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030B0000
#endif
#include <Python.h>

#include "pyrt.h"

#define MAX_INPUTS 8
#define MAX_OUTPUTS 8

typedef struct {
    PyObject_HEAD
    PyObject *owner;          /* keeps the handle alive */
    PyObject *raise_for;      /* _core.error_for: status -> exception instance */
    PyObject *tick_error;     /* the exception class for a malformed bar */
    const PyrtStream *stream;
    Py_ssize_t n_inputs;
    Py_ssize_t n_outputs;
    PyObject *input_names;    /* tuple of str, for messages */
} Updater;

static void raise_status(Updater *self, PyrtStatus status) {
    PyObject *code = PyLong_FromLong((long)status);
    if (code == NULL) return;
    PyObject *error = PyObject_CallFunctionObjArgs(self->raise_for, code, NULL);
    Py_DECREF(code);
    if (error == NULL) return;
    PyErr_SetObject((PyObject *)Py_TYPE(error), error);
    Py_DECREF(error);
}

static PyObject *updater_call(PyObject *op, PyObject *args, PyObject *kwargs) {
    Updater *self = (Updater *)op;
    double tick[MAX_INPUTS], out[MAX_OUTPUTS];
    if (kwargs != NULL && PyDict_Size(kwargs) != 0) {
        PyErr_SetString(self->tick_error, "tick: update takes the bar's values positionally");
        return NULL;
    }
    Py_ssize_t n = PyTuple_Size(args);
    if (n != self->n_inputs) {
        PyObject *sep = PyUnicode_FromString(", ");
        PyObject *joined = sep ? PyUnicode_Join(sep, self->input_names) : NULL;
        Py_XDECREF(sep);
        if (joined == NULL) return NULL;
        PyErr_Format(self->tick_error, "tick: takes %zd value(s) per bar (%U), got %zd", self->n_inputs, joined, n);
        Py_DECREF(joined);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        tick[k] = PyFloat_AsDouble(PyTuple_GetItem(args, k));
        if (tick[k] == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(self->tick_error, "%S: expected a number, got %R",
                         PyTuple_GetItem(self->input_names, k), PyTuple_GetItem(args, k));
            return NULL;
        }
    }
    PyrtStatus status = pyrt_stream_update(self->stream, tick, (size_t)n, out, (size_t)self->n_outputs);
    if (status != PYRT_OK) {
        raise_status(self, status);
        return NULL;
    }
    if (self->n_outputs == 1) {
        return PyFloat_FromDouble(out[0]);
    }
    PyObject *result = PyTuple_New(self->n_outputs);
    if (result == NULL) return NULL;
    for (Py_ssize_t k = 0; k < self->n_outputs; k++) {
        PyObject *value = PyFloat_FromDouble(out[k]);
        if (value == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyTuple_SetItem(result, k, value);
    }
    return result;
}

static void updater_dealloc(PyObject *op) {
    Updater *self = (Updater *)op;
    PyTypeObject *type = Py_TYPE(op);
    Py_XDECREF(self->owner);
    Py_XDECREF(self->raise_for);
    Py_XDECREF(self->tick_error);
    Py_XDECREF(self->input_names);
    freefunc tp_free = (freefunc)PyType_GetSlot(type, Py_tp_free);
    tp_free(op);
    Py_DECREF(type);
}

static PyType_Slot updater_slots[] = {
    {Py_tp_call, (void *)updater_call},
    {Py_tp_dealloc, (void *)updater_dealloc},
    {Py_tp_doc, (void *)"update(*bar): one bar in (one value per input, in the function's input order); its "
                        "outputs out (a float, or a tuple in the batch output order). A bar that is not "
                        "finite raises ValueError and leaves the stream as it was."},
    {0, NULL},
};

static PyType_Spec updater_spec = {
    "pyrt._tick.Updater", sizeof(Updater), 0, Py_TPFLAGS_DEFAULT, updater_slots,
};

static PyObject *updater_type = NULL;

/* updater(owner, address, n_inputs, n_outputs, input_names, raise_for, tick_error) */
static PyObject *make_updater(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *owner, *input_names, *raise_for, *tick_error;
    unsigned long long address;
    Py_ssize_t n_inputs, n_outputs;
    if (!PyArg_ParseTuple(args, "OKnnOOO", &owner, &address, &n_inputs, &n_outputs, &input_names, &raise_for,
                          &tick_error)) {
        return NULL;
    }
    if (n_inputs < 1 || n_inputs > MAX_INPUTS || n_outputs < 1 || n_outputs > MAX_OUTPUTS) {
        PyErr_SetString(PyExc_ValueError, "updater: unsupported number of inputs or outputs");
        return NULL;
    }
    allocfunc alloc = (allocfunc)PyType_GetSlot((PyTypeObject *)updater_type, Py_tp_alloc);
    Updater *self = (Updater *)alloc((PyTypeObject *)updater_type, 0);
    if (self == NULL) return NULL;
    Py_INCREF(owner);
    Py_INCREF(raise_for);
    Py_INCREF(tick_error);
    Py_INCREF(input_names);
    self->owner = owner;
    self->raise_for = raise_for;
    self->tick_error = tick_error;
    self->input_names = input_names;
    self->stream = (const PyrtStream *)(uintptr_t)address;
    self->n_inputs = n_inputs;
    self->n_outputs = n_outputs;
    return (PyObject *)self;
}

static PyMethodDef methods[] = {
    {"updater", make_updater, METH_VARARGS,
     "updater(owner, address, n_inputs, n_outputs, input_names, raise_for, tick_error): the per-tick callable of "
     "the stream at `address`, kept alive by `owner`."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "pyrt._tick", "The per-tick path of pyrt's streams.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__tick(void) {
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
    updater_type = PyType_FromSpec(&updater_spec);
    if (updater_type == NULL) {
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(updater_type);
    if (PyModule_AddObject(module, "Updater", updater_type) < 0) {
        Py_DECREF(updater_type);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
