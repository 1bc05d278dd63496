'use strict';
// pyrt's trading-analytics core for Node.js, through koffi (a C FFI): every
// catalog indicator by its TA-Lib name, streams whose state any pyrt binding
// resumes, and the shared-memory market-data ring.

const koffi = require('koffi');

const STATUS = Object.freeze({
  OK: 0,
  INVALID_ARGUMENT: 100,
  NULL_POINTER: 101,
  BUFFER_TOO_SMALL: 102,
  INVALID_STATE: 103,
  CLOSED: 104,
  NOT_FOUND: 105,
  INSUFFICIENT_HISTORY: 106,
  FULL: 500,
  EMPTY: 501,
  BAD_LAYOUT: 502,
  IO_ERROR: 503,
});

/** A failed pyrt call: `status` is the core's PyrtStatus, `message` its message. */
class PyrtError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'PyrtError';
    this.status = status;
  }
}

function libraryNames() {
  if (process.platform === 'darwin') return ['libpyrt.dylib'];
  if (process.platform === 'win32') return ['pyrt.dll'];
  // The soname too: a runtime-only install has libpyrt.so.0 without the libpyrt.so link.
  return ['libpyrt.so', 'libpyrt.so.0'];
}

// PYRT_LIBRARY (an absolute path) first, else the system loader's search.
function loadLibrary() {
  const explicit = process.env.PYRT_LIBRARY;
  if (explicit) {
    try {
      return koffi.load(explicit);
    } catch (e) {
      throw new Error(`pyrt: cannot load PYRT_LIBRARY=${explicit}: ${e.message}`);
    }
  }
  const errors = [];
  for (const name of libraryNames()) {
    try {
      return koffi.load(name);
    } catch (e) {
      errors.push(e.message);
    }
  }
  throw new Error('pyrt: cannot find libpyrt: set PYRT_LIBRARY to its absolute path, or install pyrt where the ' +
    `system loader looks (LD_LIBRARY_PATH, ldconfig) [${errors.join('; ')}]`);
}

const lib = loadLibrary();

const ParamInfo = koffi.struct('PyrtParamInfo', {
  name: 'const char *', default_value: 'double', min: 'double', max: 'double', integer: 'bool',
});
const IndicatorInfo = koffi.struct('PyrtIndicatorInfo', {
  name: 'const char *', group: 'const char *', display: 'const char *',
  inputs: 'void *', n_inputs: 'size_t', params: 'void *', n_params: 'size_t', outputs: 'void *', n_outputs: 'size_t',
});
const PyrtStreamPtr = koffi.pointer(koffi.opaque('PyrtStream'));
const PyrtRingPtr = koffi.pointer(koffi.opaque('PyrtRing'));
const RECORD_SIZE = 32;

const c = {
  version: lib.func('const char *pyrt_version(void)'),
  abiVersion: lib.func('uint32_t pyrt_abi_version(void)'),
  lastError: lib.func('const char *pyrt_last_error_message(void)'),
  indicatorCount: lib.func('size_t pyrt_indicator_count(void)'),
  indicatorInfo: lib.func('int32_t pyrt_indicator_info(size_t index, _Out_ PyrtIndicatorInfo *out)'),
  indicatorFind: lib.func('int32_t pyrt_indicator_find(const char *name, _Out_ size_t *out)'),
  // The series arrays are declared without const: koffi then hands each
  // Float64Array's own memory to C (no copy), as for the outputs.
  indicatorRun: lib.func('int32_t pyrt_indicator_run(const char *name, const double *params, size_t n_params, ' +
    'double **inputs, size_t n_inputs, size_t len, double **outputs, size_t n_outputs)'),
  streamOpen: lib.func('pyrt_stream_open', 'int32_t', ['const char *', 'const double *', 'size_t',
    'double **', 'size_t', 'size_t', koffi.out(koffi.pointer(PyrtStreamPtr))]),
  streamUpdate: lib.func('pyrt_stream_update', 'int32_t',
    [PyrtStreamPtr, 'const double *', 'size_t', 'double *', 'size_t']),
  streamPeek: lib.func('pyrt_stream_peek', 'int32_t',
    [PyrtStreamPtr, 'const double *', 'size_t', 'double *', 'size_t']),
  streamSave: lib.func('pyrt_stream_save', 'int32_t', [PyrtStreamPtr, 'uint8_t *', 'size_t', koffi.out(koffi.pointer('size_t'))]),
  streamLoad: lib.func('pyrt_stream_load', 'int32_t', ['const uint8_t *', 'size_t', koffi.out(koffi.pointer(PyrtStreamPtr))]),
  streamIndicator: lib.func('pyrt_stream_indicator', 'int32_t', [PyrtStreamPtr, koffi.out(koffi.pointer('size_t'))]),
  streamClose: lib.func('pyrt_stream_close', 'void', [PyrtStreamPtr]),
  streamFree: lib.func('pyrt_stream_free', 'void', [PyrtStreamPtr]),
  ringCreate: lib.func('pyrt_ring_create', 'int32_t', ['const char *', 'uint64_t', koffi.out(koffi.pointer(PyrtRingPtr))]),
  ringOpen: lib.func('pyrt_ring_open', 'int32_t', ['const char *', koffi.out(koffi.pointer(PyrtRingPtr))]),
  ringPushBatch: lib.func('pyrt_ring_push_batch', 'int32_t', [PyrtRingPtr, 'const void *', 'size_t', koffi.out(koffi.pointer('size_t'))]),
  ringPopBatch: lib.func('pyrt_ring_pop_batch', 'int32_t', [PyrtRingPtr, 'void *', 'size_t', koffi.out(koffi.pointer('size_t'))]),
  ringLen: lib.func('pyrt_ring_len', 'int32_t', [PyrtRingPtr, koffi.out(koffi.pointer('size_t'))]),
  ringCapacity: lib.func('pyrt_ring_capacity', 'uint64_t', [PyrtRingPtr]),
  ringFree: lib.func('pyrt_ring_free', 'void', [PyrtRingPtr]),
  ringUnlink: lib.func('pyrt_ring_unlink', 'int32_t', ['const char *']),
};

const ABI_VERSION = 2; // PYRT_ABI_VERSION of the pyrt.h this package follows
if (c.abiVersion() !== ABI_VERSION) {
  throw new Error(`pyrt: the loaded libpyrt has ABI version ${c.abiVersion()}, this package needs ${ABI_VERSION}`);
}

// JS runs on one thread, so the core's thread-local message read right after
// a failed synchronous call is that call's.
function check(status) {
  if (status !== STATUS.OK) throw new PyrtError(status, c.lastError());
}

function argumentError(message) {
  return new PyrtError(STATUS.INVALID_ARGUMENT, message);
}

function cString(what, value) {
  if (typeof value !== 'string') throw argumentError(`${what}: expected a string, got ${typeof value}`);
  if (value.includes('\0')) throw argumentError(`${what}: contains a NUL character`);
  return value;
}

/** The library's semantic version, e.g. "0.1.0". */
function version() {
  return c.version();
}

// ---- the catalog, read once ------------------------------------------------

let catalog = null;

function readCatalog() {
  if (catalog) return catalog;
  const list = [];
  const byName = new Map();
  const count = Number(c.indicatorCount());
  for (let i = 0; i < count; i++) {
    const info = {};
    check(c.indicatorInfo(i, info));
    const n = (x) => Number(x);
    const record = Object.freeze({
      name: info.name,
      group: info.group,
      display: info.display,
      inputs: Object.freeze(n(info.n_inputs) ? koffi.decode(info.inputs, 'const char *', n(info.n_inputs)) : []),
      params: Object.freeze((n(info.n_params) ? koffi.decode(info.params, ParamInfo, n(info.n_params)) : []).map(
        (p) => Object.freeze({ name: p.name, default: p.default_value, min: p.min, max: p.max, integer: p.integer }))),
      outputs: Object.freeze(n(info.n_outputs) ? koffi.decode(info.outputs, 'const char *', n(info.n_outputs)) : []),
    });
    list.push({ record, index: i });
    byName.set(record.name, list[i]);
  }
  catalog = { list, byName };
  return catalog;
}

/** Every indicator run and Stream.create accept. */
function indicators() {
  return readCatalog().list.map((e) => e.record);
}

function lookup(name) {
  const { list, byName } = readCatalog();
  const found = typeof name === 'string' ? byName.get(name) : undefined;
  if (found) return found;
  // Not a catalog name as spelled: the core says what is wrong with it.
  const index = [0];
  check(c.indicatorFind(cString('name', name), index));
  return list[Number(index[0])];
}

/** The catalog record of the indicator called name. */
function indicator(name) {
  return lookup(name).record;
}

// params by TA-Lib's names laid out in the record's order, NaN ("default")
// where not given; null when none is given.
function paramArray(record, params) {
  if (params === undefined || params === null) return null;
  if (typeof params !== 'object') throw argumentError(`${record.name}: params must be an object, got ${typeof params}`);
  const keys = Object.keys(params);
  if (keys.length === 0) return null;
  const values = new Float64Array(record.params.length).fill(NaN);
  for (const key of keys) {
    const i = record.params.findIndex((p) => p.name === key);
    if (i < 0) {
      const names = record.params.map((p) => p.name).sort().join(', ') || 'none';
      throw argumentError(`${record.name}: unknown parameter '${key}' (parameters: ${names})`);
    }
    const v = params[key];
    if (typeof v !== 'number') throw argumentError(`${record.name}: parameter ${key} must be a number, got ${typeof v}`);
    values[i] = v;
  }
  return values;
}

function asSeries(record, what, series) {
  if (!Array.isArray(series)) throw argumentError(`${record.name}: ${what} must be an array of Float64Array`);
  let n = -1;
  let arrays = series;
  for (let i = 0; i < series.length; i++) {
    let a = series[i];
    if (!(a instanceof Float64Array)) {
      const name = i < record.inputs.length ? record.inputs[i] : `#${i}`;
      if (!Array.isArray(a) && !ArrayBuffer.isView(a)) throw argumentError(`${record.name}: ${what} ${name} is not an array`);
      if (arrays === series) arrays = series.slice(); // the caller's array stays as it was
      a = arrays[i] = Float64Array.from(a);
    }
    if (n < 0) n = a.length;
    else if (a.length !== n) {
      const name = i < record.inputs.length ? record.inputs[i] : `#${i}`;
      throw argumentError(`${record.name}: ${what} ${name} has ${a.length} values but ${what} ${record.inputs[0]} has ${n}`);
    }
  }
  return { arrays, length: Math.max(n, 0) };
}

/**
 * Computes the indicator called name (TA-Lib's, e.g. 'ADX') over inputs in the
 * record's order (Float64Array each, e.g. high, low, close) with params by
 * TA-Lib's names; returns one Float64Array per output, in TA-Lib's order.
 */
function run(name, inputs, params, outputs) {
  const { record } = lookup(name);
  const { arrays, length } = asSeries(record, 'input', inputs);
  if (outputs === undefined) {
    outputs = record.outputs.map(() => new Float64Array(length));
  } else {
    // Caller-owned outputs: no allocation, for hot loops and large series.
    if (!Array.isArray(outputs) || outputs.length !== record.outputs.length) {
      throw argumentError(`${record.name}: outputs must be an array of ${record.outputs.length} Float64Array`);
    }
    outputs.forEach((o, k) => {
      if (!(o instanceof Float64Array) || o.length !== length) {
        throw argumentError(`${record.name}: output ${record.outputs[k]} must be a Float64Array of ${length} values`);
      }
    });
  }
  runInto(record, arrays, length, params, outputs);
  return outputs;
}

function runInto(record, arrays, length, params, outputs) {
  const p = paramArray(record, params);
  check(c.indicatorRun(record.name, p, p ? p.length : 0, arrays, arrays.length, length, outputs, outputs.length));
}

// ---- streams -----------------------------------------------------------------

// A stream the program dropped without close() is freed by the collector:
// never under a call, as a call in flight keeps its Stream reachable.
const streamRegistry = new FinalizationRegistry((handle) => c.streamFree(handle));

/**
 * An indicator updated one bar at a time; its state (save) resumes in any
 * pyrt binding. Calls on one stream are serialized by the core, also those
 * made from the thread pool by updateAsync.
 */
class Stream {
  constructor(handle, entry) {
    this._handle = handle;
    this._record = entry.record;
    // Reused by update(): a call allocates only the array it returns.
    this._tick = new Float64Array(entry.record.inputs.length);
    this._out = new Float64Array(entry.record.outputs.length);
    streamRegistry.register(this, handle, this);
  }

  /** The indicator called name built from history (as talib.stream.NAME(*history)). */
  static create(name, history, params) {
    const entry = lookup(name);
    const { record } = entry;
    const { arrays, length } = asSeries(record, 'history', history);
    const p = paramArray(record, params);
    const out = [null];
    check(c.streamOpen(record.name, p, p ? p.length : 0, arrays, arrays.length, length, out));
    return new Stream(out[0], entry);
  }

  /** Resumes a stream from state saved by any pyrt binding. */
  static load(state) {
    if (!ArrayBuffer.isView(state) && !(state instanceof ArrayBuffer)) {
      throw argumentError('state: expected a Buffer or Uint8Array');
    }
    const bytes = state instanceof ArrayBuffer ? new Uint8Array(state)
      : new Uint8Array(state.buffer, state.byteOffset, state.byteLength);
    const out = [null];
    check(c.streamLoad(bytes, bytes.length, out));
    const index = [0];
    const status = c.streamIndicator(out[0], index);
    if (status !== STATUS.OK) {
      const error = new PyrtError(status, c.lastError());
      c.streamFree(out[0]);
      throw error;
    }
    return new Stream(out[0], readCatalog().list[Number(index[0])]);
  }

  /** The catalog record of the stream's indicator. */
  get indicator() {
    return this._record;
  }

  /** Feeds one bar (a value per input, in the record's order); returns the outputs after it. */
  update(...tick) {
    let t = this._tick;
    if (tick.length === t.length) {
      for (let i = 0; i < t.length; i++) t[i] = tick[i];
    } else {
      t = Float64Array.from(tick); // the core says what is wrong with the count
    }
    const out = this._out;
    check(c.streamUpdate(this._handle, t, t.length, out, out.length));
    return out.length === 1 ? [out[0]] : Array.from(out);
  }

  /** update() on the thread pool: the event loop stays free; resolves to the outputs. */
  updateAsync(...tick) {
    const t = Float64Array.from(tick);
    const out = new Float64Array(this._record.outputs.length);
    return new Promise((resolve, reject) => {
      c.streamUpdate.async(this._handle, t, t.length, out, out.length, (err, status) => {
        if (err) reject(err);
        else if (status !== STATUS.OK) reject(this._asyncError(status, t));
        else resolve(Array.from(out));
      });
    });
  }

  // The core left the failed call's message on the pool thread that made it;
  // the same tick through peek (which changes nothing) on this thread gets it
  // again, in the core's words.
  _asyncError(status, tick) {
    const out = new Float64Array(this._record.outputs.length);
    const again = c.streamPeek(this._handle, tick, tick.length, out, out.length);
    if (again === status) return new PyrtError(status, c.lastError());
    return new PyrtError(status, `stream: update failed with status ${status}`);
  }

  /** The state as bytes any pyrt binding resumes. */
  save() {
    const size = [0];
    let status = c.streamSave(this._handle, null, 0, size);
    while (status === STATUS.BUFFER_TOO_SMALL) {
      const buffer = Buffer.alloc(Number(size[0]));
      const written = [0];
      status = c.streamSave(this._handle, buffer, buffer.length, written);
      if (status === STATUS.OK) return buffer.subarray(0, Number(written[0]));
      size[0] = written[0];
    }
    check(status);
    return Buffer.alloc(0);
  }

  /** Releases the state (waits for a call in flight on the pool); later calls throw. Idempotent. */
  close() {
    c.streamClose(this._handle);
  }
}

// ---- rings -------------------------------------------------------------------

const ringRegistry = new FinalizationRegistry((handle) => c.ringFree(handle));

/** A handle on a named shared-memory ring of market-data records (the ring "ticks" is /dev/shm/ticks). */
class Ring {
  constructor(handle) {
    this._handle = handle;
    this._scratch = new ArrayBuffer(0);
    ringRegistry.register(this, handle, this);
  }

  /** Creates the ring name with room for capacity records (a power of two) and opens it. */
  static create(name, capacity) {
    const out = [null];
    check(c.ringCreate(cString('name', name), capacity, out));
    return new Ring(out[0]);
  }

  /** Opens the existing ring name (its layout is checked). */
  static open(name) {
    const out = [null];
    check(c.ringOpen(cString('name', name), out));
    return new Ring(out[0]);
  }

  /** Removes the name; handles already open keep working. */
  static unlink(name) {
    check(c.ringUnlink(cString('name', name)));
  }

  _live() {
    if (this._handle === null) throw new PyrtError(STATUS.CLOSED, 'ring: is closed');
    return this._handle;
  }

  _buffer(records) {
    if (this._scratch.byteLength < records * RECORD_SIZE) this._scratch = new ArrayBuffer(records * RECORD_SIZE);
    return this._scratch;
  }

  /** Takes up to max of the oldest records, in order: [{symbolId, price, volume, timestampUs}]. */
  popBatch(max) {
    if (!Number.isInteger(max) || max < 0) throw argumentError(`max: must be an integer of at least 0, got ${max}`);
    const handle = this._live();
    const buffer = this._buffer(Math.max(max, 1));
    const popped = [0];
    check(c.ringPopBatch(handle, buffer, max, popped));
    const n = Number(popped[0]);
    const u32 = new Uint32Array(buffer, 0, n * 8);
    const f64 = new Float64Array(buffer, 0, n * 4);
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      // The timestamp from its two 32-bit halves (little-endian): exact up to 2^53, without a BigInt.
      out[i] = {
        symbolId: u32[i * 8], price: f64[i * 4 + 1], volume: f64[i * 4 + 2],
        timestampUs: u32[i * 8 + 6] + u32[i * 8 + 7] * 4294967296,
      };
    }
    return out;
  }

  /** Appends as many records as fit, in order; returns how many (0 when full). */
  pushBatch(records) {
    const handle = this._live();
    const buffer = this._buffer(Math.max(records.length, 1));
    const u32 = new Uint32Array(buffer, 0, records.length * 8);
    const f64 = new Float64Array(buffer, 0, records.length * 4);
    const u64 = new BigUint64Array(buffer, 0, records.length * 4);
    records.forEach((r, i) => {
      u32[i * 8] = r.symbolId;
      u32[i * 8 + 1] = 0;
      f64[i * 4 + 1] = r.price;
      f64[i * 4 + 2] = r.volume;
      u64[i * 4 + 3] = BigInt(r.timestampUs);
    });
    const pushed = [0];
    check(c.ringPushBatch(handle, buffer, records.length, pushed));
    return Number(pushed[0]);
  }

  /** Appends one record; false when the ring is full. */
  push(record) {
    return this.pushBatch([record]) === 1;
  }

  /** Records in the ring now. */
  get length() {
    const n = [0];
    check(c.ringLen(this._live(), n));
    return Number(n[0]);
  }

  /** How many records the ring holds. */
  get capacity() {
    return Number(c.ringCapacity(this._live()));
  }

  /** Closes this handle (the ring stays until Ring.unlink). Idempotent. */
  close() {
    if (this._handle === null) return;
    ringRegistry.unregister(this);
    c.ringFree(this._handle);
    this._handle = null;
  }
}

module.exports = { version, run, indicators, indicator, Stream, Ring, PyrtError, STATUS };
