"""Python's side of the Go, Java and Node binding tests (bindings/*): the
reference values a binding must reproduce bit for bit, the stream states it
must resume, and ring peers in another process.

    python bindings_peer.py reference OUT.json
        A random walk, then for every catalog indicator: pyrt.talib's outputs
        with default and with non-default parameters, and a stream built on
        the walk's first HISTORY bars: its saved state, the values Python
        gets resuming it over the next TICKS bars, and whether those agree
        with TA-Lib's (`talib`).
    python bindings_peer.py resume IN.json
        States saved by a binding ([{name, state, start, values}]) resumed in
        Python over walk bars start.. (the walk written by `reference`):
        the values must equal the binding's bit for bit and TA-Lib's within
        1e-9. Exit status 1, and the differences on stderr, otherwise.
    python bindings_peer.py ring-produce NAME COUNT CAPACITY
        Creates the ring, prints "ready", pushes records 0..COUNT-1 (as
        ipc_peer.seq_records) waiting whenever the ring is full.
    python bindings_peer.py ring-consume NAME COUNT
        Opens the ring, pops COUNT records, checks each is the next in
        sequence; prints "ok COUNT".

Arrays travel as base64 of little-endian float64: exact, NaN included.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pyrt  # noqa: E402
import pyrt.talib  # noqa: E402
from pyrt import ffi, lib  # noqa: E402

WALK_LENGTH = 400
HISTORY = 300
TICKS = 20
SEED = 20261201
TIMEOUT_SECONDS = 120.0


def encode(values) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8")


def random_walk() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, WALK_LENGTH))
    open_ = np.concatenate([[100.0], close[:-1]]) + rng.normal(0.0, 0.3, WALK_LENGTH)
    high = np.maximum(open_, close) + np.abs(rng.normal(0.0, 0.5, WALK_LENGTH))
    low = np.minimum(open_, close) - np.abs(rng.normal(0.0, 0.5, WALK_LENGTH))
    volume = rng.uniform(1000.0, 5000.0, WALK_LENGTH)
    periods = rng.integers(2, 31, WALK_LENGTH).astype(np.float64)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume, "periods": periods}


# TA-Lib's input names mapped to series of the walk; two-series functions
# (real0, real1) get two different series.
INPUT_SERIES = {"real": "close", "real0": "close", "real1": "open"}


def catalog() -> list[dict]:
    records = []
    info = ffi.new("PyrtIndicatorInfo *")
    for index in range(lib.pyrt_indicator_count()):
        if lib.pyrt_indicator_info(index, info) != 0:
            raise RuntimeError(f"pyrt_indicator_info({index}) failed")
        params = [info.params[i] for i in range(info.n_params)]
        records.append({
            "name": ffi.string(info.name).decode(),
            "inputs": [ffi.string(info.inputs[i]).decode() for i in range(info.n_inputs)],
            "outputs": [ffi.string(info.outputs[i]).decode() for i in range(info.n_outputs)],
            "params": [{"name": ffi.string(p.name).decode(), "default": p.default_value, "min": p.min,
                        "max": p.max, "integer": bool(p.integer)} for p in params],
        })
    return records


def shifted_params(record: dict, function, series) -> dict[str, float]:
    """Every whole-number parameter moved one step off its default (within
    range), but for values pyrt refuses (an MA type not implemented yet)."""
    out = {}
    for p in record["params"]:
        if p["integer"]:
            value = p["default"] + 1 if p["default"] + 1 <= p["max"] else p["default"] - 1
            try:
                function(*series, **{**out, p["name"]: value})
            except ValueError:
                continue
            out[p["name"]] = value
    return out


def as_tuple(result) -> tuple:
    return tuple(result) if isinstance(result, tuple) else (result,)


def close_to(ours: np.ndarray, theirs: np.ndarray) -> bool:
    if not np.array_equal(np.isnan(ours), np.isnan(theirs)):
        return False
    finite = ~np.isnan(theirs)
    if not finite.any():
        return True
    scale = np.max(np.abs(theirs[finite]))
    return bool(np.all(np.abs(ours[finite] - theirs[finite]) <= 1e-9 * np.maximum(np.abs(theirs[finite]), scale)))


def talib_next(name: str, series: list[np.ndarray], start: int, count: int, params=None) -> np.ndarray:
    """TA-Lib's batch values at bars start..start+count-1, as [bar][output]."""
    import talib

    outputs = as_tuple(getattr(talib, name)(*series, **(params or {})))
    return np.array([[o[start + k] for o in outputs] for k in range(count)])


def stream_class(name: str):
    return getattr(pyrt.talib.stream, name)


def load_stream(name: str, state: bytes, series: list[np.ndarray]):
    """`type(s).from_bytes(state)` for a stream s of indicator name."""
    cls = stream_class(name)
    if not isinstance(cls, type):  # a factory: the type is that of what it builds
        cls = type(cls(*[s[:HISTORY] for s in series]))
    return cls.from_bytes(state)


def resume_values(stream, series: list[np.ndarray], start: int, count: int) -> np.ndarray:
    return np.array([as_tuple(stream.update(*[s[start + k] for s in series])) for k in range(count)],
                    dtype=np.float64)


def reference(path: str) -> None:
    walk = random_walk()
    functions = []
    for record in catalog():
        name = record["name"]
        keys = [INPUT_SERIES.get(i, i if i in walk else "close") for i in record["inputs"]]
        series = [walk[k] for k in keys]
        function = getattr(pyrt.talib, name)
        runs = []
        for params in ({}, shifted_params(record, function, series)):
            if runs and not params:
                continue
            runs.append({"params": params, "outputs": [encode(o) for o in as_tuple(function(*series, **params))]})
        entry = {"name": name, "inputs": keys, "outputs": record["outputs"], "runs": runs}
        stream = stream_class(name)(*[s[:HISTORY] for s in series])
        state = stream.to_bytes()
        values = resume_values(load_stream(name, state, series), series, HISTORY, TICKS)
        expected = talib_next(name, series, HISTORY, TICKS)
        entry["stream"] = {
            "state": base64.b64encode(state).decode("ascii"),
            "history": HISTORY,
            "ticks": TICKS,
            "values": encode(values.ravel()),
            "talib_mismatch": None if close_to(values.ravel(), expected.ravel()) else
            f"Python resumed {values.tolist()} but TA-Lib gives {expected.tolist()}",
        }
        functions.append(entry)
    document = {"walk": {k: encode(v) for k, v in walk.items()}, "functions": functions}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f)


def resume(path: str) -> int:
    walk = random_walk()
    records = {r["name"]: r for r in catalog()}
    failures = []
    with open(path, encoding="utf-8") as f:
        saved = json.load(f)
    for item in saved:
        name, start = item["name"], int(item["start"])
        keys = [INPUT_SERIES.get(i, i if i in walk else "close") for i in records[name]["inputs"]]
        series = [walk[k] for k in keys]
        theirs = decode(item["values"])
        count = len(theirs) // len(records[name]["outputs"])
        ours = resume_values(load_stream(name, base64.b64decode(item["state"]), series), series, start, count).ravel()
        if ours.tobytes() != theirs.tobytes():
            failures.append(f"{name}: Python resumed {ours.tolist()}, the binding {theirs.tolist()}")
        expected = talib_next(name, series, start, count).ravel()
        if not close_to(ours, expected):
            failures.append(f"{name}: Python resumed {ours.tolist()}, TA-Lib gives {expected.tolist()}")
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"resumed {len(saved)} states, {len(failures)} failures")
    return 1 if failures else 0


def ring_produce(name: str, count: int, capacity: int) -> int:
    from ipc_peer import seq_records
    from pyrt.ipc import SharedRing

    ring = SharedRing.create(name, capacity)
    print("ready", flush=True)
    records = seq_records(0, count)
    done, deadline = 0, time.monotonic() + TIMEOUT_SECONDS
    while done < count:
        pushed = ring.push_many(records[done:done + capacity])
        done += pushed
        if pushed == 0:
            if time.monotonic() > deadline:
                print(f"ring-produce: consumer stalled after {done} records", file=sys.stderr)
                return 1
            time.sleep(0.0002)
    ring.close()
    print(f"pushed {done}", flush=True)
    return 0


def ring_consume(name: str, count: int) -> int:
    from ipc_peer import seq_records
    from pyrt.ipc import SharedRing

    ring = SharedRing.open(name)
    expected = seq_records(0, count)
    got, deadline = 0, time.monotonic() + TIMEOUT_SECONDS
    while got < count:
        batch = ring.pop_many(4096)
        if len(batch) == 0:
            if time.monotonic() > deadline:
                print(f"ring-consume: producer stalled after {got} records", file=sys.stderr)
                return 1
            time.sleep(0.0002)
            continue
        want = expected[got:got + len(batch)]
        if len(batch) > len(want) or batch.tobytes() != want.tobytes():
            bad = next(i for i in range(min(len(batch), len(want))) if batch[i] != want[i]) \
                if len(batch) <= len(want) else len(want)
            print(f"ring-consume: record {got + bad} is {batch[bad]}, expected {want[bad] if bad < len(want) else 'none'}",
                  file=sys.stderr)
            return 1
        got += len(batch)
    ring.close()
    print(f"ok {got}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    command, args = argv[1], argv[2:]
    if command == "reference":
        reference(args[0])
        return 0
    if command == "resume":
        return resume(args[0])
    if command == "ring-produce":
        return ring_produce(args[0], int(args[1]), int(args[2]))
    if command == "ring-consume":
        return ring_consume(args[0], int(args[1]))
    print(f"unknown command {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
