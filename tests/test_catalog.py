"""Every catalog function against TA-Lib (the `talib` package 0.8.2, TA-Lib C
0.8.1): batch, `talib.stream` tick by tick, chunked `update_many`, and
save/restore mid-stream, for the defaults and every parameter case its
record lists (tests/catalog_matrix.py, generated from catalog.toml)."""

from __future__ import annotations

import copy
import os
import sys

import numpy as np
import pytest
import talib
import talib.abstract
import talib.stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyrt
import pyrt.talib as pt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalog_matrix as matrix  # noqa: E402
from array_checks import as_tuple, ohlcv  # noqa: E402

CASES = [pytest.param(name, params, id=f"{name}-{'-'.join(f'{k}={v}' for k, v in params.items()) or 'defaults'}")
         for name, params in matrix.CASES]
NAMES = sorted(matrix.FUNCTIONS)


def inputs_of(name: str, data: dict) -> list:
    return [data[x].copy() for x in matrix.FUNCTIONS[name]["inputs"]]


def assert_same(ours, theirs, what="") -> None:
    """Within 1e-9 of the series' scale, with identical NaN positions."""
    for a, b in zip(as_tuple(ours), as_tuple(theirs)):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        assert a.shape == b.shape, what
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"NaN positions differ {what}")
        finite = np.isfinite(b)
        scale = max(1.0, float(np.max(np.abs(b[finite]))) if finite.any() else 1.0)
        np.testing.assert_allclose(a[finite], b[finite], rtol=0, atol=1e-9 * scale, err_msg=what)
        np.testing.assert_array_equal(a[~finite & ~np.isnan(b)], b[~finite & ~np.isnan(b)], err_msg=what)


def lookback(name: str, params: dict) -> int:
    f = talib.abstract.Function(name)
    f.set_parameters(params)
    return f.lookback


@pytest.mark.parametrize("name,params", CASES)
def test_batch_equals_talib_on_every_length(name, params):
    data = ohlcv(400, 7)
    lb = lookback(name, params)
    for n in sorted({1, 2, lb, lb + 1, lb + 2, 400}):
        if n < 1 or n > 400:
            continue
        args = [x[:n] for x in inputs_of(name, data)]
        assert_same(getattr(pt, name)(*args, **params), getattr(talib, name)(*args, **params), f"{name} n={n}")


@pytest.mark.parametrize("name,params", CASES)
def test_leading_nans_and_a_nan_inside(name, params):
    data = ohlcv(300, 11)
    args = inputs_of(name, data)
    args[0][:5] = np.nan
    args[-1][7] = np.nan
    assert_same(getattr(pt, name)(*args, **params), getattr(talib, name)(*args, **params), "leading NaNs")
    args = inputs_of(name, data)
    args[0][150] = np.nan
    assert_same(getattr(pt, name)(*args, **params), getattr(talib, name)(*args, **params), "NaN inside")


@pytest.mark.parametrize("name,params", CASES)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 260))
def test_random_walks_equal_talib(name, params, seed, n):
    args = inputs_of(name, ohlcv(n, seed))
    assert_same(getattr(pt, name)(*args, **params), getattr(talib, name)(*args, **params), f"seed={seed} n={n}")


@pytest.mark.parametrize("name,params", CASES)
def test_stream_equals_talib_stream_tick_by_tick(name, params):
    data = ohlcv(260, 3)
    args = inputs_of(name, data)
    history = lookback(name, params) + 40
    if history >= 200:
        history = lookback(name, params) + 1
    ours = getattr(pt.stream, name)(*[x[:history] for x in args], **params)
    theirs = getattr(talib.stream, name)(*[x[:history] for x in args], **params)
    assert_same(np.array(ours.value, ndmin=1), np.array(theirs.value, ndmin=1), "value after history")
    batch = as_tuple(getattr(talib, name)(*args, **params))
    for i in range(history, min(history + 60, 260)):
        bar = [x[i] for x in args]
        peeked = ours.peek(*bar)
        got = ours.update(*bar)
        expected = theirs.update(*bar)
        assert_same(np.array(got, ndmin=1), np.array(expected, ndmin=1), f"update at {i}")
        assert_same(np.array(peeked, ndmin=1), np.array(got, ndmin=1), f"peek at {i}")
        assert_same(np.array(got, ndmin=1), np.array([b[i] for b in batch]), f"batch at {i}")


@pytest.mark.parametrize("name,params", CASES)
def test_chunked_update_many_and_save_restore_equal_batch(name, params):
    data = ohlcv(300, 5)
    args = inputs_of(name, data)
    expected = as_tuple(getattr(talib, name)(*args, **params))
    rng = np.random.default_rng(1)
    cuts = np.sort(rng.choice(np.arange(1, 300), size=6, replace=False))
    # A stream built empty (from the record's parameters) fed in chunks,
    # saved and restored at every cut.
    record = pt._runner.RECORDS[pt.get_functions().index(name)]
    s = pt.stream.Stream.__new__(getattr(pt.stream, name))
    s._new(tuple(params.get(p.name, p.default) for p in record.params))
    pieces = []
    start = 0
    for end in list(cuts) + [300]:
        pieces.append(as_tuple(s.update_many(*[x[start:end] for x in args])))
        s = pt.stream.Stream.from_bytes(s.to_bytes())
        assert type(s) is getattr(pt.stream, name)
        start = end
    got = tuple(np.concatenate([p[k] for p in pieces]) for k in range(len(expected)))
    assert_same(got, expected, "chunks")


@pytest.mark.parametrize("name", NAMES)
def test_copies_are_independent(name):
    args = inputs_of(name, ohlcv(200, 9))
    s = getattr(pt.stream, name)(*[x[:150] for x in args])
    c = copy.copy(s)
    d = copy.deepcopy(s)
    bar = [x[150] for x in args]
    first = s.update(*bar)
    assert_same(np.array(c.value, ndmin=1), np.array(d.value, ndmin=1))
    assert_same(np.array(c.update(*bar), ndmin=1), np.array(first, ndmin=1))
    s.close()
    with pytest.raises(ValueError, match="closed"):
        s.update(*bar)
    assert_same(np.array(d.update(*bar), ndmin=1), np.array(first, ndmin=1))


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_named(name):
    spec = matrix.FUNCTIONS[name]
    args = inputs_of(name, ohlcv(50, 1))
    f = getattr(pt, name)
    with pytest.raises(TypeError):
        f(*args[:-1]) if len(args) > 1 else f()
    if len(args) > 1:
        with pytest.raises(ValueError, match=f"^{spec['inputs'][1]}: has 49 values"):
            f(args[0], args[1][:-1], *args[2:])
    with pytest.raises(ValueError, match=f"^{spec['inputs'][0]}:"):
        f(np.zeros((3, 3)), *args[1:])
    for p in pt._runner.RECORDS[pt.get_functions().index(name)].params:
        with pytest.raises(ValueError, match=f"^{p.name}: must be in"):
            f(*args, **{p.name: p.max + 1 if p.max < 3e37 else -4e37})
        with pytest.raises(ValueError, match=f"^{p.name}:"):
            f(*args, **{p.name: True})


def test_groups_and_functions_list_the_catalog():
    groups = pt.get_function_groups()
    assert sorted(sum(groups.values(), [])) == sorted(pt.get_functions()) == NAMES
    for group, names in groups.items():
        theirs = talib.get_function_groups()[group]
        assert set(names) <= set(theirs), group


def test_pandas_series_in_gives_series_out_on_the_same_index():
    pd = pytest.importorskip("pandas")
    data = ohlcv(100, 2)
    index = pd.date_range("2024-01-01", periods=100, freq="D")
    close = pd.Series(data["close"], index=index)
    out = pt.SMA(close, timeperiod=5)
    assert isinstance(out, pd.Series) and out.index.equals(index)
    assert_same(out.to_numpy(), talib.SMA(data["close"], 5))
    upper, middle, lower = pt.BBANDS(close)
    assert all(isinstance(b, pd.Series) and b.index.equals(index) for b in (upper, middle, lower))


def test_unknown_names_and_short_history():
    with pytest.raises(pt.InsufficientHistory, match="10 bars of history, at least 30 needed"):
        pt.stream.SMA(np.arange(10.0))
    with pytest.raises(ValueError, match="holds a SMA stream, not EMA"):
        pt.stream.EMA.from_bytes(pt.stream.SMA(np.arange(40.0)).to_bytes())
    with pytest.raises(ValueError, match="is not finite"):
        pt.stream.SMA(np.arange(40.0)).update(float("nan"))
    assert pyrt.talib is pt


@pytest.mark.parametrize("name", NAMES)
def test_real_ohlcv_frames_equal_talib(name):
    # The OHLCV frames shipped in the `backtesting` package (a test
    # requirement): real data nobody here wrote.
    from backtesting import test as test_data

    for frame in (test_data.GOOG, test_data.EURUSD):
        columns = {"open": "Open", "high": "High", "low": "Low", "close": "Close", "volume": "Volume",
                   "real": "Close", "real0": "Close", "real1": "Open"}
        args = [frame[columns[x]].to_numpy(dtype=float) for x in matrix.FUNCTIONS[name]["inputs"]]
        assert_same(getattr(pt, name)(*args), getattr(talib, name)(*args), name)
        series = [frame[columns[x]] for x in matrix.FUNCTIONS[name]["inputs"]]
        out = as_tuple(getattr(pt, name)(*series))
        assert all(o.index.equals(frame.index) for o in out)


def test_the_talib_strategy_example_runs_unchanged():
    import subprocess
    import sys

    example = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "talib_strategy.py")
    done = subprocess.run([sys.executable, example], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "identical with talib and pyrt.talib" in done.stdout


# Every catalog function with its defaults, plus the native six (which call
# their kernels directly) at several periods, on a series whose length is not
# a multiple of eight and which starts with NaNs; run in a child process.
_ALL_FUNCTIONS = """
import sys, numpy as np, pyrt, pyrt.talib as pt
from pyrt._core import ffi, lib
rng = np.random.default_rng(4)
n = 3001
c = 100 + np.cumsum(rng.normal(size=n)); o = c + rng.normal(0, .5, n)
c[:3] = np.nan
data = dict(open=o, high=np.maximum(o, c) + 1, low=np.minimum(o, c) - 1, close=c, volume=rng.uniform(1e3, 1e5, n))
out = []
for r in pt._runner.RECORDS:
    res = getattr(pt, r.name)(*[data.get(x, c) for x in r.inputs])
    out += list(res) if isinstance(res, tuple) else [res]
for w in (1, 2, 9, 14, 30, 500):
    out += [pyrt.sma(c, w), pyrt.ema(c, w), pyrt.rsi(c, w), pyrt.atr(data["high"], data["low"], c, w)]
    out += list(pyrt.bollinger_bands(c, w, 2.0))
for periods in ((12, 26, 9), (1, 1, 1), (3, 5, 2), (26, 26, 1), (5, 35, 17)):
    out += list(pyrt.macd(c, *periods))
# Long enough for RSI's and MACD's segmented scans, with unchanged prices
# across a segment's start.
long = 100 + np.cumsum(rng.normal(size=60_013)); long[29_000:31_000] = long[29_000]
for w in (2, 14, 50):
    out.append(pyrt.rsi(long, w))
for periods in ((12, 26, 9), (3, 5, 2)):
    out += list(pyrt.macd(long, *periods))
# Long enough for ATR to write its output around the caches.
bars = 100 + np.cumsum(rng.normal(size=1_000_003))
out.append(pyrt.atr(bars + 0.5, bars - 0.5, bars, 14))
np.save(sys.argv[1], np.concatenate(out))
print(ffi.string(lib.pyrt_cpu_level()).decode())
"""

_LEVEL_RUNS: dict = {}


def _run_at_level(level: str, tmp_path_factory) -> tuple:
    """(the level the child reported, its outputs) with PYRT_CPU=level."""
    import subprocess
    import sys

    if level not in _LEVEL_RUNS:
        folder = tmp_path_factory.mktemp("cpu_level")
        script = folder / "all_functions.py"
        script.write_text(_ALL_FUNCTIONS)
        target = folder / f"out_{level or 'best'}.npy"
        env = dict(os.environ, PYRT_CPU=level)
        done = subprocess.run([sys.executable, str(script), str(target)], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        _LEVEL_RUNS[level] = (done.stdout.strip(), np.load(target))
    return _LEVEL_RUNS[level]


@pytest.mark.parametrize("level", ["fma", "avx512"])
def test_every_function_gives_the_same_bits_at_every_cpu_level(level, tmp_path_factory):
    # The kernels run with the CPU's best instruction set (pyrt_cpu_level);
    # PYRT_CPU forces a level in a child process, and a level the CPU lacks
    # falls back to the best it has. The arithmetic is the same at every
    # level, so every output is the same bits as the baseline's. A level this
    # machine cannot run is reported as skipped, never passed.
    from pyrt._core import ffi, lib

    base_level, baseline = _run_at_level("baseline", tmp_path_factory)
    assert base_level == "baseline"
    ran_at, outputs = _run_at_level(level, tmp_path_factory)
    if ran_at != level:
        pytest.skip(f"this CPU cannot run the {level} level (PYRT_CPU={level} ran at {ran_at})")
    assert np.isfinite(baseline).sum() > baseline.size // 2
    differ = np.flatnonzero(baseline.view(np.int64) != outputs.view(np.int64))
    assert differ.size == 0, f"{differ.size} values differ, the first at {differ[:10]}"
    # Unset, the level is the best the CPU has: what asking for the highest
    # level falls back to.
    best_level, _ = _run_at_level("", tmp_path_factory)
    assert best_level == _run_at_level("avx512", tmp_path_factory)[0]
    if not os.environ.get("PYRT_CPU"):
        assert best_level == ffi.string(lib.pyrt_cpu_level()).decode()


@pytest.mark.parametrize("value, level", [("sse2", "baseline"), ("AVX2", "fma"), ("avx3", None), ("avx-512", None)])
def test_pyrt_cpu_takes_the_usual_names_and_says_when_a_value_names_no_level(value, level, tmp_path,
                                                                            tmp_path_factory):
    # A misspelt level must not pass for a forced one: the child runs at the
    # best level and says so on stderr, once.
    import subprocess
    import sys

    best, _ = _run_at_level("", tmp_path_factory)
    script = "import numpy as np, pyrt; from pyrt._core import ffi, lib\n" \
             "pyrt.sma(np.arange(50.0), 5); pyrt.rsi(np.arange(50.0), 5)\n" \
             "print(ffi.string(lib.pyrt_cpu_level()).decode())"
    # From a folder of its own: the source tree's `pyrt` is not the built one.
    done = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYRT_CPU=value), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=True)
    order = ["baseline", "fma", "avx512"]
    if level is None:
        assert done.stdout.strip() == best
        assert done.stderr.count("pyrt:") == 1, done.stderr
        assert f'PYRT_CPU="{value}" names no CPU level' in done.stderr
        assert f"running at {best}, the best this CPU has" in done.stderr
    else:
        assert done.stdout.strip() == order[min(order.index(level), order.index(best))]
        assert done.stderr == ""
