"""Batch indicators against TA-Lib 0.8 (the `talib` package): values within
1e-9 of the series' scale and identical NaN positions, on random walks, edge
lengths, NaNs and infinities inside the data, any input layout; and every bad
input raises ValueError naming the argument."""

import numpy as np
import pytest
import talib
from hypothesis import given, settings, strategies as st

import pyrt

SETTINGS = settings(max_examples=60, deadline=None)


def assert_same(ours, theirs, scale=1.0, tol=1e-9):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == np.float64 and ours.shape == theirs.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg="NaN positions differ")
    finite = np.isfinite(theirs)
    np.testing.assert_array_equal(ours[~finite & ~np.isnan(theirs)], theirs[~finite & ~np.isnan(theirs)])
    if finite.any():
        assert np.max(np.abs(ours[finite] - theirs[finite])) <= tol * max(1.0, scale)


def random_walk(seed, n, level=100.0, step=2.0):
    rng = np.random.default_rng(seed)
    return level + np.cumsum(rng.standard_normal(n) * step)


def bars(seed, n):
    rng = np.random.default_rng(seed)
    close = random_walk(seed, n)
    high = close + np.abs(rng.standard_normal(n))
    low = close - np.abs(rng.standard_normal(n))
    return high, low, close


@st.composite
def walks(draw, min_len=1, max_len=300):
    n = draw(st.integers(min_len, max_len))
    seed = draw(st.integers(0, 2**32 - 1))
    level = draw(st.sampled_from([0.0, 1.0, 100.0, 1e4, -50.0]))
    step = draw(st.sampled_from([1e-3, 0.5, 2.0, 100.0]))
    return random_walk(seed, n, level, step)


# ---- values against TA-Lib -------------------------------------------------

@SETTINGS
@given(walks(), st.data())
def test_sma_matches_talib(x, data):
    w = data.draw(st.integers(1, len(x)))
    assert_same(pyrt.sma(x, w), talib.SMA(x, w), np.abs(x).max())


@SETTINGS
@given(walks(), st.data())
def test_ema_matches_talib(x, data):
    w = data.draw(st.integers(1, len(x)))
    assert_same(pyrt.ema(x, w), talib.EMA(x, w), np.abs(x).max())


@SETTINGS
@given(walks(min_len=2), st.data())
def test_rsi_matches_talib(x, data):
    w = data.draw(st.integers(2, len(x)))
    assert_same(pyrt.rsi(x, w), talib.RSI(x, w), 100.0)


@SETTINGS
@given(walks(min_len=2), st.data())
def test_macd_matches_talib(x, data):
    slow = data.draw(st.integers(2, min(len(x), 60)))
    fast = data.draw(st.integers(2, slow))
    signal = data.draw(st.integers(1, min(len(x), 30)))
    for ours, theirs in zip(pyrt.macd(x, fast, slow, signal), talib.MACD(x, fast, slow, signal)):
        assert_same(ours, theirs, np.abs(x).max())


@SETTINGS
@given(walks(min_len=2), st.data())
def test_bollinger_matches_talib(x, data):
    w = data.draw(st.integers(2, len(x)))
    k = data.draw(st.sampled_from([0.5, 1.0, 2.0, 3.0]))
    for ours, theirs in zip(pyrt.bollinger_bands(x, w, k), talib.BBANDS(x, w, k, k)):
        assert_same(ours, theirs, np.abs(x).max())


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.data())
def test_atr_matches_talib(seed, n, data):
    high, low, close = bars(seed, n)
    w = data.draw(st.integers(1, n))
    assert_same(pyrt.atr(high, low, close, w), talib.ATR(high, low, close, w), np.abs(high).max())


def test_default_parameters_are_talibs():
    x = random_walk(7, 500)
    h, l, c = bars(8, 500)
    assert_same(pyrt.rsi(x), talib.RSI(x), 100)
    for ours, theirs in zip(pyrt.macd(x), talib.MACD(x)):
        assert_same(ours, theirs, 500)
    for ours, theirs in zip(pyrt.bollinger_bands(x), talib.BBANDS(x, 20, 2.0, 2.0)):
        assert_same(ours, theirs, 500)
    assert_same(pyrt.atr(h, l, c), talib.ATR(h, l, c), 500)


@pytest.mark.parametrize("n", [1, 2, 3, 26, 34, 35])
def test_edge_lengths(n):
    x = random_walk(n, n)
    assert_same(pyrt.sma(x, n), talib.SMA(x, n), 200)
    assert_same(pyrt.sma(x, 1), talib.SMA(x, 1), 200)
    assert_same(pyrt.ema(x, n), talib.EMA(x, n), 200)
    assert_same(pyrt.ema(x, 1), talib.EMA(x, 1), 200)
    if n >= 2:
        assert_same(pyrt.rsi(x, n), talib.RSI(x, n), 100)
        assert_same(pyrt.rsi(x, 2), talib.RSI(x, 2), 100)
        for ours, theirs in zip(pyrt.bollinger_bands(x, n), talib.BBANDS(x, n, 2.0, 2.0)):
            assert_same(ours, theirs, 200)
        for ours, theirs in zip(pyrt.macd(x, 2, n, 1), talib.MACD(x, 2, n, 1)):
            assert_same(ours, theirs, 200)
    h, l, c = bars(n, n)
    assert_same(pyrt.atr(h, l, c, n), talib.ATR(h, l, c, n), 200)


def test_lookbacks_are_the_documented_ones():
    x = random_walk(1, 100)
    assert np.isnan(pyrt.sma(x, 10)[:9]).all() and not np.isnan(pyrt.sma(x, 10)[9])
    assert np.isnan(pyrt.ema(x, 10)[:9]).all() and not np.isnan(pyrt.ema(x, 10)[9])
    assert np.isnan(pyrt.rsi(x, 14)[:14]).all() and not np.isnan(pyrt.rsi(x, 14)[14])
    for line in pyrt.macd(x, 12, 26, 9):
        assert np.isnan(line[:33]).all() and not np.isnan(line[33])
    for band in pyrt.bollinger_bands(x, 20):
        assert np.isnan(band[:19]).all() and not np.isnan(band[19])
    h, l, c = bars(1, 100)
    atr = pyrt.atr(h, l, c, 14)
    assert np.isnan(atr[:14]).all() and not np.isnan(atr[14])


def test_window_one_where_talib_refuses_it():
    # TA-Lib rejects period 1 for RSI and BBANDS; pyrt applies the same formulas.
    x = np.array([1.0, 2.0, 1.5, 1.5, 3.0])
    np.testing.assert_array_equal(pyrt.rsi(x, 1), [np.nan, 100.0, 0.0, 0.0, 100.0])
    upper, middle, lower = pyrt.bollinger_bands(x, 1, 2.0)
    np.testing.assert_array_equal(upper, x)
    np.testing.assert_array_equal(middle, x)
    np.testing.assert_array_equal(lower, x)


def test_long_series_stay_accurate():
    x = random_walk(123, 1_000_000)
    # Exact window means from a long-double cumulative sum over short spans.
    ours = pyrt.sma(x, 20)
    idx = np.arange(19, len(x), 9973)
    exact = np.array([np.sum(x[i - 19:i + 1].astype(np.longdouble)) / 20 for i in idx], dtype=np.float64)
    assert np.max(np.abs(ours[idx] - exact)) < 1e-11
    assert_same(ours, talib.SMA(x, 20), np.abs(x).max())
    for ours_band, theirs in zip(pyrt.bollinger_bands(x, 20), talib.BBANDS(x, 20, 2.0, 2.0)):
        assert_same(ours_band, theirs, np.abs(x).max())
    assert_same(pyrt.ema(x, 50), talib.EMA(x, 50), np.abs(x).max())


@pytest.mark.parametrize("window", [20, 2000])
def test_tiny_moves_at_a_high_price_level_keep_their_width(window):
    # Prices near 1e5 moving by about 1e-4: squares of the price would
    # cancel every digit of the variance (1e10 against about 1e-7), and a
    # running sum carried across a million outputs would drift.
    x = random_walk(77, 1_000_000, level=1e5, step=1e-4)
    assert_same(pyrt.sma(x, window), talib.SMA(x, window), 1e5)
    ours = pyrt.bollinger_bands(x, window, 2.0)
    theirs = talib.BBANDS(x, window, 2.0, 2.0)
    for ours_band, theirs_band in zip(ours, theirs):
        assert_same(ours_band, theirs_band, 1e5)
    # The band's width itself, relative to the width: far tighter than the
    # scale-relative tolerance above.
    valid = slice(window - 1, None)
    width, t_width = ours[0][valid] - ours[1][valid], theirs[0][valid] - theirs[1][valid]
    assert np.max(np.abs(width - t_width)) <= 1e-6 * np.max(t_width)
    assert np.min(t_width) > 0


def test_sma_and_bands_give_the_same_bits_at_every_cpu_level(tmp_path):
    # pyrt.sma and pyrt.bollinger_bands run their kernels at the CPU's level;
    # PYRT_CPU=baseline forces plain arrays in a child process. Long series,
    # windows from 1 to 2000, a flat stretch (the direct recomputation) and a
    # NaN (TA-Lib's order of operations).
    import os
    import subprocess
    import sys

    script = tmp_path / "windows.py"
    script.write_text(
        "import sys, numpy as np, pyrt\n"
        "rng = np.random.default_rng(9)\n"
        "x = 1e5 + np.cumsum(rng.normal(size=200_003) * 1e-3); x[50_000:50_500] = 100_000.5\n"
        "y = x.copy(); y[120_000] = np.nan\n"
        "out = []\n"
        "for data in (x, y):\n"
        "    for w in (1, 2, 20, 333, 2000):\n"
        "        out += [pyrt.sma(data, w), *pyrt.bollinger_bands(data, w, 2.0)]\n"
        "np.save(sys.argv[1], np.array(out))\n")
    results = {}
    for forced in ("baseline", ""):
        target = tmp_path / f"out_{forced or 'best'}.npy"
        done = subprocess.run([sys.executable, str(script), str(target)], env=dict(os.environ, PYRT_CPU=forced),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        results[forced or "best"] = np.load(target)
    assert results["baseline"].tobytes() == results["best"].tobytes()


def test_recurrences_stay_accurate_over_a_million_points():
    # EMA, MACD, RSI and ATR run as blocked scans, which round differently
    # from TA-Lib's one-step loop; the recurrence is contracting, so the gap
    # stays at rounding level (about 1e-15 of the scale, 1e-13 for a
    # 5000-period EMA) from the first output to the millionth: asserted
    # 100 times tighter than the 1e-9 of the other tests, through the native
    # functions and the catalog's.
    import pyrt.talib as pt

    high, low, close = bars(321, 1_000_000)
    scale = np.abs(close).max()
    for w in (2, 12, 200, 5000):
        assert_same(pyrt.ema(close, w), talib.EMA(close, w), scale, tol=1e-11)
        assert_same(pt.EMA(close, w), talib.EMA(close, w), scale, tol=1e-11)
    for w in (2, 14, 200):
        assert_same(pyrt.rsi(close, w), talib.RSI(close, w), 100.0, tol=1e-11)
        assert_same(pt.RSI(close, w), talib.RSI(close, w), 100.0, tol=1e-11)
        assert_same(pyrt.atr(high, low, close, w), talib.ATR(high, low, close, w), scale, tol=1e-11)
        assert_same(pt.ATR(high, low, close, w), talib.ATR(high, low, close, w), scale, tol=1e-11)
    for periods in ((12, 26, 9), (3, 5, 2), (50, 200, 30)):
        theirs = talib.MACD(close, *periods)
        for ours in (pyrt.macd(close, *periods), pt.MACD(close, *periods)):
            for a, b in zip(ours, theirs):
                assert_same(a, b, scale, tol=1e-11)


@pytest.mark.parametrize("n", [16_500, 60_001, 250_007, 1_000_003])
def test_segmented_scans_match_talib_across_segment_starts(n):
    # Long RSI and MACD run as eight segments at once, each later segment's
    # first values made again from the true state (rust/indicators/
    # segments.rs). Unchanged prices over a whole segment start, a jump of a
    # thousand and a stretch of tiny moves put those heads to the test.
    import pyrt.talib as pt

    x = random_walk(n, n)
    eighth = n // 8
    for j in (1, 3, 6):
        start = 20 + j * eighth
        x[start - 700:start + 1500] = x[start - 700]
    x[5 * eighth + 3:] += 1000.0
    tiny = eighth // 2
    x[7 * eighth:7 * eighth + tiny] = x[7 * eighth] + np.sin(np.arange(tiny)) * 1e-6
    for w in (2, 5, 14, 30):
        assert_same(pyrt.rsi(x, w), talib.RSI(x, w), 100.0, tol=1e-11)
        assert_same(pt.RSI(x, w), talib.RSI(x, w), 100.0, tol=1e-11)
    scale = np.abs(x).max()
    for periods in ((12, 26, 9), (3, 5, 2), (20, 40, 15)):
        theirs = talib.MACD(x, *periods)
        for ours in (pyrt.macd(x, *periods), pt.MACD(x, *periods)):
            for a, b in zip(ours, theirs):
                assert_same(a, b, scale, tol=1e-11)


@pytest.mark.parametrize("window, flat, n", [(2, 1_200, 3_000), (5, 4_000, 6_000), (14, 12_000, 13_000),
                                             (2, 3_000, 60_001), (14, 15_000, 120_001)])
def test_rsi_through_flat_stretches_long_enough_for_subnormal_sums_has_talibs_values(window, flat, n):
    # Unchanged prices shrink Wilder's sums by (window - 1) / window a step,
    # into the subnormal numbers after about 1,000 steps at window 2 and
    # 10,000 at window 14, where TA-Lib's averages keep few bits. The fast
    # paths (rows below 16,384 values, segments above) then hand the series
    # to TA-Lib's order, which the stream repeats bit for bit.
    import pyrt.talib as pt

    x = random_walk(window + n, n)
    start = n // 3
    x[start:start + flat] = x[start]
    want = talib.RSI(x, window)
    assert_same(pyrt.rsi(x, window), want, 100.0)
    assert_same(pt.RSI(x, window), want, 100.0)
    np.testing.assert_array_equal(pyrt.stream.RSI(window).update_many(x), want)


@pytest.mark.parametrize("window", [1, 2, 5, 14, 30])
def test_rsi_and_atr_streams_give_talibs_bits(window):
    # TA-Lib's order of operations, as TA-Lib 0.8.1's build runs them (its
    # divisions by the period multiply by the reciprocal; ATR's Wilder step
    # is a fused multiply-add): the batch calls fall back to these streams.
    high, low, close = bars(window, 5_000)
    np.testing.assert_array_equal(pyrt.stream.ATR(window).update_many(high, low, close),
                                  talib.ATR(high, low, close, window))
    if window > 1:
        np.testing.assert_array_equal(pyrt.stream.RSI(window).update_many(close), talib.RSI(close, window))


def test_a_nan_inside_a_long_series_gives_talibs_values():
    # A NaN in a later segment of a long series: the segmented scans report
    # it and the call falls back to TA-Lib's order of operations, so RSI
    # reads 0 from there on and MACD turns NaN, as TA-Lib's do.
    import pyrt.talib as pt

    x = random_walk(17, 120_001)
    x[70_000] = np.nan
    for w in (2, 14):
        assert_same(pyrt.rsi(x, w), talib.RSI(x, w), 100.0)
        assert_same(pt.RSI(x, w), talib.RSI(x, w), 100.0)
    for ours, theirs in zip(pyrt.macd(x), talib.MACD(x)):
        assert_same(ours, theirs, np.nanmax(np.abs(x)))


def test_flat_windows_have_exactly_zero_width_like_talib():
    x = np.r_[random_walk(5, 300), np.full(100, 100.1), random_walk(6, 300)]
    for w in (2, 20, 50):
        upper, middle, lower = pyrt.bollinger_bands(x, w)
        t_upper, t_middle, _ = talib.BBANDS(x, w, 2.0, 2.0)
        flat = slice(300 + w - 1, 400)
        np.testing.assert_array_equal(upper[flat] - middle[flat], 0.0)
        np.testing.assert_array_equal(t_upper[flat] - t_middle[flat], 0.0)
        assert_same(upper, t_upper, 1000)


# ---- NaN and infinity inside the data ---------------------------------------

def _all_indicators(x, h, l):
    out = {
        "sma": (pyrt.sma(x, 5), talib.SMA(x, 5)),
        "ema": (pyrt.ema(x, 5), talib.EMA(x, 5)),
        "rsi": (pyrt.rsi(x, 5), talib.RSI(x, 5)),
        "atr": (pyrt.atr(h, l, x, 5), talib.ATR(h, l, x, 5)),
    }
    for i, (a, b) in enumerate(zip(pyrt.macd(x, 3, 6, 2), talib.MACD(x, 3, 6, 2))):
        out[f"macd{i}"] = (a, b)
    for i, (a, b) in enumerate(zip(pyrt.bollinger_bands(x, 5), talib.BBANDS(x, 5, 2.0, 2.0))):
        out[f"bbands{i}"] = (a, b)
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(8, 80),
    st.lists(st.tuples(st.integers(0, 79), st.sampled_from([np.nan, np.inf, -np.inf]), st.integers(0, 3)), max_size=3),
    st.integers(0, 10),
)
def test_nan_and_infinity_inside_follow_talib(seed, n, holes, leading):
    h, l, x = bars(seed, n)
    x, h, l = x.copy(), h.copy(), l.copy()
    x[:leading] = np.nan
    for where, value, which in holes:
        if where < n:
            (x, h, l, x)[which][where] = value
    for name, (ours, theirs) in _all_indicators(x, h, l).items():
        try:
            assert_same(ours, theirs, 1000)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None


def test_leading_nans_are_skipped_like_talib():
    x = random_walk(3, 50)
    x[:7] = np.nan
    assert_same(pyrt.sma(x, 5), talib.SMA(x, 5), 200)
    assert np.isnan(pyrt.sma(x, 5)[:11]).all() and not np.isnan(pyrt.sma(x, 5)[11])
    all_nan = np.full(10, np.nan)
    assert np.isnan(pyrt.ema(all_nan, 3)).all()
    assert np.isnan(pyrt.rsi(all_nan, 3)).all()


# ---- input layout -------------------------------------------------------------

def test_any_layout_gives_the_same_result():
    base = np.round(random_walk(11, 400), 3)
    expected = pyrt.sma(base, 7)
    views = {
        "list": base.tolist(),
        "tuple": tuple(base.tolist()),
        "strided": np.repeat(base, 2)[::2],
        "reversed": base[::-1].copy()[::-1],
        "fortran_column": np.asfortranarray(base.reshape(-1, 1))[:, 0],
        "non_contiguous": np.stack([base, base], axis=1)[:, 1],
    }
    for name, view in views.items():
        np.testing.assert_array_equal(pyrt.sma(view, 7), expected, err_msg=name)
        for a, b in zip(pyrt.macd(view, 3, 8, 4), pyrt.macd(base, 3, 8, 4)):
            np.testing.assert_array_equal(a, b, err_msg=name)
    ints = np.arange(100, 160, dtype=np.int32)
    np.testing.assert_array_equal(pyrt.ema(ints, 5), pyrt.ema(ints.astype(np.float64), 5))
    f32 = base.astype(np.float32)
    np.testing.assert_array_equal(pyrt.rsi(f32, 14), pyrt.rsi(f32.astype(np.float64), 14))
    h, l, c = bars(2, 60)
    np.testing.assert_array_equal(pyrt.atr(h[::-1][::-1], list(l), c.astype(np.float64), 5), pyrt.atr(h, l, c, 5))


def test_outputs_are_fresh_float64_arrays_of_the_input_length():
    x = random_walk(1, 30)
    for out in [pyrt.sma(x, 3), pyrt.ema(x, 3), pyrt.rsi(x, 3), *pyrt.macd(x, 2, 4, 2), *pyrt.bollinger_bands(x, 3)]:
        assert out.dtype == np.float64 and out.shape == (30,) and out.flags.c_contiguous
        assert not np.shares_memory(out, x)


# ---- bad input ------------------------------------------------------------------

@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: pyrt.sma([1.0, 2.0], 0), "window"),
        (lambda: pyrt.sma([1.0, 2.0], 3), "window"),
        (lambda: pyrt.sma([], 1), "prices"),
        (lambda: pyrt.sma([[1.0, 2.0], [3.0, 4.0]], 1), "prices"),
        (lambda: pyrt.sma(["a", "b"], 1), "prices"),
        (lambda: pyrt.sma([1.0, 2.0], -1), "window"),
        (lambda: pyrt.sma([1.0, 2.0], 1.5), "window"),
        (lambda: pyrt.sma([1.0, 2.0], 2**70), "window"),
        (lambda: pyrt.macd([1.0] * 30, 12, 2**70, 9), "slow_period"),
        (lambda: pyrt.ema([1.0, 2.0], 0), "window"),
        (lambda: pyrt.ema([1.0], 2), "window"),
        (lambda: pyrt.ema(np.zeros((2, 2)), 1), "prices"),
        (lambda: pyrt.rsi([1.0, 2.0], 0), "window"),
        (lambda: pyrt.rsi([1.0, 2.0], 5), "window"),
        (lambda: pyrt.rsi([], 1), "prices"),
        (lambda: pyrt.macd([1.0] * 30, 0, 26, 9), "fast_period"),
        (lambda: pyrt.macd([1.0] * 30, 12, 40, 9), "slow_period"),
        (lambda: pyrt.macd([1.0] * 30, 12, 26, 0), "signal_period"),
        (lambda: pyrt.macd([1.0] * 30, 26, 12, 9), "fast_period"),
        (lambda: pyrt.macd([], 1, 1, 1), "prices"),
        (lambda: pyrt.bollinger_bands([1.0, 2.0], 0), "window"),
        (lambda: pyrt.bollinger_bands([1.0, 2.0], 3), "window"),
        (lambda: pyrt.bollinger_bands([1.0, 2.0], 2, float("nan")), "num_std"),
        (lambda: pyrt.bollinger_bands([1.0, 2.0], 2, "two"), "num_std"),
        (lambda: pyrt.bollinger_bands(np.zeros((3, 1)), 1), "prices"),
        (lambda: pyrt.atr([1.0, 2.0], [1.0], [1.0, 2.0], 1), "low"),
        (lambda: pyrt.atr([1.0, 2.0], [1.0, 2.0], [1.0], 1), "close"),
        (lambda: pyrt.atr([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], 0), "window"),
        (lambda: pyrt.atr([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], 3), "window"),
        (lambda: pyrt.atr([], [], [], 1), "high"),
        (lambda: pyrt.atr(np.zeros((2, 2)), [1.0, 2.0], [1.0, 2.0], 1), "high"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, argument):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value).startswith(argument + ":"), str(info.value)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda x: pyrt.sma(x, True), "window"),
        (lambda x: pyrt.ema(x, np.bool_(True)), "window"),
        (lambda x: pyrt.rsi(x, True), "window"),
        (lambda x: pyrt.macd(x, 2, True, 3), "slow_period"),
        (lambda x: pyrt.bollinger_bands(x, 5, True), "num_std"),
        (lambda x: pyrt.atr(x + 1, x - 1, x, True), "window"),
        (lambda x: pyrt.stream.SMA(True), "window"),
        (lambda x: pyrt.talib.SMA(x, timeperiod=True), "timeperiod"),
    ],
)
def test_booleans_are_not_periods(call, argument):
    x = np.linspace(1.0, 2.0, 30)
    with pytest.raises(ValueError, match=f"^{argument}: .*boolean"):
        call(x)


@pytest.mark.parametrize("bad", [None, 3.0, np.float64(2.0), np.array(4.0), np.array([True, False])])
def test_non_arrays_are_refused_naming_prices(bad):
    with pytest.raises(ValueError, match="^prices:"):
        pyrt.sma(bad, 1)
