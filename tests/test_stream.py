"""Streaming indicators: any chunking equals the batch function, state saved
mid-stream and restored continues identically, damaged state is refused."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pyrt
from pyrt.stream import ATR, EMA, MACD, RSI, SMA, BollingerBands

SETTINGS = settings(max_examples=40, deadline=None)


def random_walk(seed, n):
    return 100 + np.cumsum(np.random.default_rng(seed).standard_normal(n) * 2)


def bars(seed, n):
    rng = np.random.default_rng(seed + 1)
    close = random_walk(seed, n)
    return close + np.abs(rng.standard_normal(n)), close - np.abs(rng.standard_normal(n)), close


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def assert_close(ours, batch, scale):
    for a, b in zip(as_tuple(ours), as_tuple(batch)):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        ok = ~np.isnan(b)
        assert np.all(np.abs(a[ok] - b[ok]) <= 1e-12 * scale), np.max(np.abs(a[ok] - b[ok]))


# Each case: (make stream, batch function, whether it takes bars)
CASES = {
    "sma": (lambda: SMA(7), lambda x: pyrt.sma(x, 7), False),
    "ema": (lambda: EMA(9), lambda x: pyrt.ema(x, 9), False),
    "rsi": (lambda: RSI(14), lambda x: pyrt.rsi(x, 14), False),
    "macd": (lambda: MACD(5, 11, 4), lambda x: pyrt.macd(x, 5, 11, 4), False),
    "bbands": (lambda: BollingerBands(10, 1.5), lambda x: pyrt.bollinger_bands(x, 10, 1.5), False),
    "atr": (lambda: ATR(6), lambda h, l, c: pyrt.atr(h, l, c, 6), True),
}


def concat(parts):
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(len(parts[0])))
    return np.concatenate(parts)


def one_pass(stream, h, l, c, takes_bars):
    result = stream.update_many([h], [l], [c]) if takes_bars else stream.update_many([c])
    return tuple(float(v[0]) for v in result) if isinstance(result, tuple) else float(result[0])


@pytest.mark.parametrize("name", CASES)
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), cuts=st.lists(st.integers(0, 400), max_size=6),
       nan_at=st.lists(st.integers(0, 399), max_size=2))
def test_chunks_equal_batch(name, seed, n, cuts, nan_at):
    make, batch, takes_bars = CASES[name]
    h, l, c = bars(seed, n)
    for i in nan_at:
        if i < n and i % 3 == 0:
            c[i] = np.nan
    # The batch functions refuse a period longer than the series.
    longest_period = {"sma": 7, "ema": 9, "rsi": 14, "macd": 11, "bbands": 10, "atr": 6}[name]
    expected = None
    if n >= longest_period:
        expected = batch(h, l, c) if takes_bars else batch(c)
    bounds = [0, *sorted(min(x, n) for x in cuts), n]
    stream = make()
    parts = []
    for a, b in zip(bounds, bounds[1:]):
        if takes_bars:
            parts.append(stream.update_many(h[a:b], l[a:b], c[a:b]))
        else:
            parts.append(stream.update_many(c[a:b]))
    streamed = concat(parts)
    one_by_one = make()
    # `update` refuses a value that is not finite (as talib.stream does); a
    # NaN goes through `update_many`, which follows the batch semantics.
    ticks = [one_by_one.update(h[i], l[i], c[i]) if takes_bars and np.isfinite(c[i])
             else one_by_one.update(c[i]) if np.isfinite(c[i])
             else one_pass(one_by_one, h[i], l[i], c[i], takes_bars) for i in range(n)]
    ticks = tuple(np.array(v) for v in zip(*ticks)) if ticks and isinstance(ticks[0], tuple) else np.array(ticks)
    assert_close(ticks, streamed, 1.0)
    if expected is not None:
        assert_close(streamed, expected, np.nanmax(np.abs(c)) if np.isfinite(c).any() else 1.0)


@pytest.mark.parametrize("name", CASES)
def test_save_and_load_mid_stream_continues_identically(name):
    make, _, takes_bars = CASES[name]
    h, l, c = bars(42, 300)
    for cut in (0, 3, 12, 150):
        whole, first = make(), make()
        feed = (lambda s, a, b: s.update_many(h[a:b], l[a:b], c[a:b])) if takes_bars else (lambda s, a, b: s.update_many(c[a:b]))
        expected = feed(whole, 0, 300)
        head = feed(first, 0, cut)
        saved = first.to_bytes()
        assert isinstance(saved, bytes) and saved[:4] == b"PYRT"
        resumed = type(first).from_bytes(saved)
        assert resumed.to_bytes() == saved
        tail = feed(resumed, cut, 300)
        got = concat([head, tail])
        for a, b in zip(as_tuple(got), as_tuple(expected)):
            np.testing.assert_array_equal(a, b)


def test_update_returns_floats_and_tuples_in_batch_order():
    x = random_walk(1, 60)
    s = SMA(3)
    assert np.isnan(s.update(1.0)) and isinstance(s.update(2.0), float)
    assert s.update(3.0) == 2.0
    m = MACD(2, 3, 2)
    values = [m.update(v) for v in x[:10]]
    assert all(isinstance(v, tuple) and len(v) == 3 for v in values)
    line, signal, hist = values[-1]
    assert abs(hist - (line - signal)) < 1e-12
    upper, middle, lower = BollingerBands(2, 2.0).update_many([1.0, 3.0])
    assert (upper[1], middle[1], lower[1]) == (4.0, 2.0, 0.0)
    b = BollingerBands(2, 2.0)
    b.update(1.0)
    assert b.update(3.0) == (4.0, 2.0, 0.0)
    a = ATR(1)
    assert np.isnan(a.update(10.0, 9.0, 9.5))
    assert a.update(11.0, 10.0, 10.5) == 1.5


def test_defaults_match_the_batch_defaults():
    x = random_walk(5, 200)
    h, l, c = bars(5, 200)
    assert_close(RSI().update_many(x), pyrt.rsi(x), 100)
    assert_close(MACD().update_many(x), pyrt.macd(x), 300)
    assert_close(BollingerBands().update_many(x), pyrt.bollinger_bands(x), 300)
    assert_close(ATR().update_many(h, l, c), pyrt.atr(h, l, c), 300)


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h.to_bytes(8, "little")


def resign(body):
    """Bytes with a valid checksum, so the check behind it is what refuses them."""
    return body + fnv1a(body)


def header_length(body):
    """magic, format version, name length, name, parameter count."""
    return 6 + 8 + int.from_bytes(body[6:14], "little") + 8


@pytest.mark.parametrize("cls", [SMA, EMA, RSI, MACD, BollingerBands, ATR])
def test_state_checks_behind_the_checksum(cls):
    good = (cls(3) if cls is not MACD else cls()).to_bytes()
    body = good[:-8]
    assert resign(body) == good
    params_at = header_length(body)
    cases = {
        "version": body[:4] + b"\x09\x00" + body[6:],
        "unknown indicator": body[:14] + b"X" + body[15:],
        "truncated field": body[:-1],
        "trailing": body + b"\x00",
        "zero period": body[:params_at] + np.float64(0.0).tobytes() + body[params_at + 8:],
        "fractional period": body[:params_at] + np.float64(3.5).tobytes() + body[params_at + 8:],
    }
    for what, data in cases.items():
        with pytest.raises(ValueError) as info:
            cls.from_bytes(resign(data))
        assert str(info.value).startswith("state:"), (what, str(info.value))


@pytest.mark.parametrize("cls", [SMA, EMA, RSI, MACD, BollingerBands, ATR])
def test_damaged_or_foreign_state_is_refused(cls):
    good = (cls(3) if cls not in (MACD,) else cls()).to_bytes()
    bad = [
        b"",
        b"garbage",
        b"\x00" * 64,
        good[:-1],
        good + b"\x00",
        b"XXXX" + good[4:],
        good[:4] + b"\x09\x00" + good[6:],  # format version 9
    ]
    rng = np.random.default_rng(0)
    for _ in range(50):
        noisy = bytearray(good)
        noisy[rng.integers(0, len(good))] ^= 1 << int(rng.integers(0, 8))
        bad.append(bytes(noisy))
    for data in bad:
        with pytest.raises(ValueError) as info:
            cls.from_bytes(data)
        assert str(info.value).startswith("state:"), str(info.value)
        assert isinstance(info.value, pyrt.PyrtError)
    other = SMA if cls is not SMA else EMA
    with pytest.raises(ValueError, match="^data: holds a"):
        other.from_bytes(good)


def test_inconsistent_fields_behind_a_valid_checksum_are_refused():
    # A negative average gain (RSI) or sum of squares (Bollinger) cannot come
    # from any series; such bytes are refused, not resumed.
    x = random_walk(3, 40)
    for stream, field in ((RSI(5), "average gain"), (BollingerBands(5), "sum of squares")):
        stream.update_many(x)
        body = bytearray(stream.to_bytes()[:-8])
        # Every f64 field in turn set to -1.0: one of them is the checked sum.
        refused = []
        for at in range(header_length(body), len(body) - 7):
            trial = bytes(body[:at]) + np.float64(-1.0).tobytes() + bytes(body[at + 8:])
            try:
                type(stream).from_bytes(resign(trial))
            except ValueError as e:
                refused.append(str(e))
        assert any(field in m for m in refused), (field, refused[:5])


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: SMA(0), "window"),
        (lambda: EMA(-1), "window"),
        (lambda: RSI(1), "window"),
        (lambda: MACD(26, 12, 9), "fast_period"),
        (lambda: MACD(0, 12, 9), "fast_period"),
        (lambda: MACD(12, 26, 0), "signal_period"),
        (lambda: BollingerBands(0), "window"),
        (lambda: BollingerBands(20, float("inf")), "num_std"),
        (lambda: ATR(0), "window"),
        (lambda: SMA("5"), "window"),
        (lambda: ATR(3).update_many([1.0, 2.0], [1.0], [1.0, 2.0]), "low"),
        (lambda: SMA(3).update_many(np.zeros((2, 2))), "prices"),
    ],
)
def test_bad_arguments_are_named(make, argument):
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value).startswith(argument + ":"), str(info.value)


def test_state_moves_between_handles_through_the_c_api():
    from pyrt._core import ffi, lib

    x = random_walk(9, 100)
    s = RSI(14)
    s.update_many(x[:50])
    data = s.to_bytes()
    out = ffi.new("PyrtStream **")
    assert lib.pyrt_stream_load(data, len(data), out) == lib.PYRT_OK
    handle = ffi.gc(out[0], lib.pyrt_stream_free)
    value = ffi.new("double *")
    assert lib.pyrt_ta_rsi_stream_update(handle, x[50], value) == lib.PYRT_OK
    assert value[0] == s.update(x[50])
    # A stream of another indicator is refused by a typed update.
    assert lib.pyrt_ta_sma_stream_update(handle, x[51], value) == lib.PYRT_INVALID_ARGUMENT
