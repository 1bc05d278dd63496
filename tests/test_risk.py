"""Risk metrics against NumPy, SciPy and empyrical (the references DESIGN.md names)."""

import empyrical
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import pyrt


def sample(seed, n, kind="normal"):
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.normal(0.0005, 0.01, n)
    if kind == "t":
        return rng.standard_t(3, n) * 0.01
    return rng.lognormal(0, 0.5, n) * 0.01 - 0.012  # skewed


CONFIDENCES = [0.5, 0.9, 0.95, 0.975, 0.99, 0.999]


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 1000, 12345, 50_000, 200_001])
@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_historical_var_is_minus_numpy_linear_quantile(n, confidence):
    r = sample(n, n, "t")
    assert pyrt.calculate_var(r, confidence) == -np.quantile(r, 1 - confidence)


def large_awkward_inputs():
    """Large inputs (the selection samples them) with ties, a constant run,
    a periodic pattern that a strided sample misreads, and sorted data."""
    rng = np.random.default_rng(5)
    n = 100_000
    yield np.round(rng.normal(0, 0.01, n), 3)                       # heavy ties
    yield np.where(rng.random(n) < 0.3, -0.02, rng.normal(0, 0.01, n))  # a mass point in the tail
    yield np.tile(np.array([-0.05] + [0.01] * 23), n // 24 + 1)[:n]  # periodic: the sample sees one value
    yield np.sort(rng.normal(0, 0.01, n))
    yield np.sort(rng.normal(0, 0.01, n))[::-1].copy()
    yield np.full(n, 0.003)


@pytest.mark.parametrize("confidence", [0.5, 0.95, 0.99, 0.9999])
def test_tail_measures_on_large_awkward_inputs(confidence):
    for r in large_awkward_inputs():
        assert pyrt.calculate_var(r, confidence) == -np.quantile(r, 1 - confidence)
        want = -empyrical.conditional_value_at_risk(r, cutoff=1 - confidence)
        assert pyrt.calculate_cvar(r, confidence) == pytest.approx(want, rel=1e-11, abs=1e-17)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=1, max_size=60),
       confidence=st.floats(0.001, 0.999))
def test_historical_var_matches_numpy_on_any_data(values, confidence):
    # Ties and repeated values included: the selection must agree with the sort.
    r = np.round(np.array(values), 2)
    assert pyrt.calculate_var(r, confidence, "historical") == -np.quantile(r, 1 - confidence)


def test_the_normal_quantile_matches_scipy():
    # Parametric VaR of returns with mean 0 and std 1 is -z_q exactly.
    base = np.array([-1.0, 1.0])
    r = base / base.std(ddof=1)
    qs = np.concatenate([np.linspace(1e-6, 1 - 1e-6, 999), [1e-12, 1e-9, 0.02425, 0.97575, 1 - 1e-9, 0.5]])
    for q in qs:
        got = -pyrt.calculate_var(r, 1 - q, "parametric")
        want = scipy.stats.norm.ppf(1 - (1 - q))
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12), q


@pytest.mark.parametrize("kind", ["normal", "t", "skewed"])
@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_parametric_var(kind, confidence):
    r = sample(7, 2000, kind)
    z = scipy.stats.norm.ppf(1 - confidence)
    want = -(r.mean() + z * r.std(ddof=1))
    assert pyrt.calculate_var(r, confidence, "parametric") == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("kind", ["normal", "t", "skewed"])
@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_cornish_fisher_var(kind, confidence):
    r = sample(11, 3000, kind)
    z = scipy.stats.norm.ppf(1 - confidence)
    s = scipy.stats.skew(r)
    k = scipy.stats.kurtosis(r)
    z_cf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
    want = -(r.mean() + z_cf * r.std(ddof=1))
    assert pyrt.calculate_var(r, confidence, "cornish_fisher") == pytest.approx(want, rel=1e-10, abs=1e-15)


def test_cornish_fisher_of_constant_returns_is_minus_the_return():
    assert pyrt.calculate_var([0.01] * 5, 0.95, "cornish_fisher") == pytest.approx(-0.01, rel=1e-15)


@pytest.mark.parametrize("n", [1, 2, 5, 20, 21, 100, 1001, 25000])
@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_cvar_is_minus_empyrical(n, confidence):
    r = sample(n + 3, n, "t")
    want = -empyrical.conditional_value_at_risk(r, cutoff=1 - confidence)
    assert pyrt.calculate_cvar(r, confidence) == pytest.approx(want, rel=1e-12, abs=1e-16)


@pytest.mark.parametrize("risk_free", [0.0, 0.0001, -0.0002])
@pytest.mark.parametrize("periods", [252, 12, 365.25])
@pytest.mark.parametrize("n", [2, 3, 50, 5000])
def test_sharpe_is_empyrical(risk_free, periods, n):
    r = sample(n, n, "skewed")
    want = empyrical.sharpe_ratio(r, risk_free=risk_free, annualization=periods)
    assert pyrt.calculate_sharpe(r, risk_free, periods) == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("required", [0.0, 0.0001, -0.001])
@pytest.mark.parametrize("periods", [252, 52])
@pytest.mark.parametrize("n", [2, 3, 50, 5000])
def test_sortino_is_empyrical(required, periods, n):
    r = sample(n + 1, n, "t")
    r[0] = -0.05  # at least one return below every required return
    want = empyrical.sortino_ratio(r, required_return=required, annualization=periods)
    assert pyrt.calculate_sortino(r, required, periods) == pytest.approx(want, rel=1e-10)


def test_ratio_edge_cases_follow_empyrical():
    one = np.array([0.01])
    assert np.isnan(pyrt.calculate_sharpe(one)) and np.isnan(empyrical.sharpe_ratio(one))
    assert np.isnan(pyrt.calculate_sortino(one)) and np.isnan(empyrical.sortino_ratio(one))
    flat = np.array([0.01, 0.01, 0.01])
    assert pyrt.calculate_sharpe(flat) == empyrical.sharpe_ratio(flat) == np.inf
    long_flat = np.full(100_000, 0.001)
    assert pyrt.calculate_sharpe(long_flat) == empyrical.sharpe_ratio(long_flat) == np.inf
    zeros = np.zeros(10)
    assert np.isnan(pyrt.calculate_sharpe(zeros)) and np.isnan(empyrical.sharpe_ratio(zeros))
    up = np.array([0.01, 0.02, 0.03])
    with np.errstate(divide="ignore"):
        assert pyrt.calculate_sortino(up) == empyrical.sortino_ratio(up) == np.inf


def test_max_drawdown():
    assert pyrt.calculate_max_drawdown([100.0, 120.0, 90.0, 130.0, 117.0]) == 0.25
    assert pyrt.calculate_max_drawdown([1.0, 2.0, 3.0]) == 0.0
    rng = np.random.default_rng(3)
    equity = 100 * np.cumprod(1 + rng.normal(0, 0.01, 5000))
    peak = np.maximum.accumulate(equity)
    assert pyrt.calculate_max_drawdown(equity) == np.max((peak - equity) / peak)
    # empyrical's max_drawdown of the curve's returns is the same fall, negated.
    returns = equity[1:] / equity[:-1] - 1
    assert pyrt.calculate_max_drawdown(equity) == pytest.approx(-empyrical.max_drawdown(returns), rel=1e-9)


def test_position_size():
    assert pyrt.position_size(100_000, 100.0, 95.0) == 200.0
    assert pyrt.position_size(100_000, 100.0, 105.0, risk_per_trade=0.02) == 400.0
    assert pyrt.position_size(100_000, 100.0, 99.9) == pytest.approx(1000.0)  # leverage cap
    assert pyrt.position_size(100_000, 100.0, 99.9, max_leverage=2.0) == pytest.approx(2000.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: pyrt.calculate_var([], 0.95), "^returns: must not be empty"),
        (lambda: pyrt.calculate_var([0.1, 0.2], 1.0), "^confidence:"),
        (lambda: pyrt.calculate_var([0.1, 0.2], 0.0), "^confidence:"),
        (lambda: pyrt.calculate_var([0.1, 0.2], float("nan")), "^confidence:"),
        (lambda: pyrt.calculate_var([0.1, 0.2], 0.95, method="garch"), "^method:"),
        (lambda: pyrt.calculate_var([0.1, -np.inf], 0.95), "^returns: must be finite or NaN, got -inf at index 1"),
        (lambda: pyrt.calculate_var([0.1], 0.95, "parametric"), "^returns: needs at least 2"),
        (lambda: pyrt.calculate_var([[0.1, 0.2]], 0.95), "^returns: expected a 1-D"),
        (lambda: pyrt.calculate_cvar([], 0.95), "^returns: must not be empty"),
        (lambda: pyrt.calculate_cvar([0.1], 1.5), "^confidence:"),
        (lambda: pyrt.calculate_sharpe([]), "^returns: must not be empty"),
        (lambda: pyrt.calculate_sharpe([0.1, 0.2], periods_per_year=0), "^periods_per_year:"),
        (lambda: pyrt.calculate_sharpe([0.1, 0.2], risk_free=np.inf), "^risk_free:"),
        (lambda: pyrt.calculate_sortino([]), "^returns: must not be empty"),
        (lambda: pyrt.calculate_sortino([0.1, np.inf]), "^returns: must be finite or NaN"),
        (lambda: pyrt.calculate_sortino([0.1, 0.2], required_return="x"), "^required_return:"),
        (lambda: pyrt.calculate_max_drawdown([]), "^equity_curve: must not be empty"),
        (lambda: pyrt.calculate_max_drawdown([0.0, 1.0]), "^equity_curve: the first value must be > 0"),
        (lambda: pyrt.position_size(100_000, 100.0, 100.0), "^stop_price: must differ"),
        (lambda: pyrt.position_size(0, 100.0, 95.0), "^capital:"),
        (lambda: pyrt.position_size(1000, -1.0, 95.0), "^entry_price:"),
        (lambda: pyrt.position_size(1000, 100.0, 95.0, risk_per_trade=0.0), "^risk_per_trade:"),
        (lambda: pyrt.position_size(1000, 100.0, 95.0, max_leverage=0.0), "^max_leverage:"),
    ],
)
def test_bad_inputs_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_nan_is_skipped_as_empyrical_skips_it():
    # What pandas users pass: pct_change() leaves a NaN in front.
    rng = np.random.default_rng(7)
    prices = 100 * np.cumprod(1 + rng.normal(0, 0.01, 300))
    returns = np.r_[np.nan, prices[1:] / prices[:-1] - 1]
    returns[[50, 120]] = np.nan
    clean = returns[~np.isnan(returns)]
    assert pyrt.calculate_sharpe(returns) == pytest.approx(empyrical.sharpe_ratio(returns), rel=1e-10)
    assert pyrt.calculate_sortino(returns) == pytest.approx(empyrical.sortino_ratio(returns), rel=1e-10)
    assert pyrt.calculate_sharpe(returns, 0.0001) == pytest.approx(empyrical.sharpe_ratio(returns, 0.0001), rel=1e-10)
    assert pyrt.calculate_cvar(returns, 0.95) == pytest.approx(-empyrical.conditional_value_at_risk(returns, 0.05), rel=1e-12)
    for method in ("historical", "parametric", "cornish_fisher"):
        assert pyrt.calculate_var(returns, 0.95, method) == pyrt.calculate_var(clean, 0.95, method)
    equity = np.r_[np.nan, prices]
    assert pyrt.calculate_max_drawdown(equity) == pyrt.calculate_max_drawdown(prices)
    # empyrical counts NaN towards the two returns a ratio needs.
    assert np.isnan(pyrt.calculate_sharpe([np.nan, 0.01])) and np.isnan(empyrical.sharpe_ratio(np.array([np.nan, 0.01])))
    assert np.isnan(pyrt.calculate_sharpe([np.nan, np.nan, np.nan]))
    assert np.isnan(pyrt.calculate_cvar([np.nan, np.nan]))


def test_sharpe_of_a_pandas_pct_change():
    pd = pytest.importorskip("pandas")
    prices = pd.Series(100 + np.cumsum(np.random.default_rng(3).normal(0, 1, 200)))
    returns = prices.pct_change()
    assert np.isnan(returns.iloc[0])
    assert pyrt.calculate_sharpe(returns) == pytest.approx(empyrical.sharpe_ratio(returns.to_numpy()), rel=1e-10)
