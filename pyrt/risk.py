"""Risk metrics: value at risk, conditional value at risk, Sharpe and Sortino
ratios (empyrical's definitions), maximum drawdown and position sizing.
Everything is computed by the Rust core."""

from __future__ import annotations

from typing import Any

from ._core import PyrtValueError, as_f64_array, check, f64_ptr, ffi, lib

__all__ = [
    "calculate_var",
    "calculate_cvar",
    "calculate_sharpe",
    "calculate_sortino",
    "calculate_max_drawdown",
    "position_size",
]

_VAR_METHODS = {
    "historical": lib.PYRT_VAR_HISTORICAL,
    "parametric": lib.PYRT_VAR_PARAMETRIC,
    "cornish_fisher": lib.PYRT_VAR_CORNISH_FISHER,
}


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PyrtValueError(f"{name}: expected a number, got {value!r}") from None


def _call(function: Any, values: Any, name: str, *args: Any) -> float:
    array = as_f64_array(values, name)
    out = ffi.new("double *")
    check(function(f64_ptr(array), len(array), *args, out))
    return out[0]


def calculate_var(returns: Any, confidence: float = 0.95, method: str = "historical") -> float:
    """Value at risk, a positive loss, with q = 1 - confidence.

    Parameters
    ----------
    returns : array-like of float
        Finite, non-empty (at least 2 values for the parametric methods).
    confidence : float
        Strictly between 0 and 1.
    method : {"historical", "parametric", "cornish_fisher"}
        ``historical``: ``-numpy.quantile(returns, q)`` (linear).
        ``parametric``: ``-(mean + z_q * std(ddof=1))``, z_q the normal quantile.
        ``cornish_fisher``: as parametric with
        ``z + (z²-1)S/6 + (z³-3z)K/24 - (2z³-5z)S²/36`` for z, S and K the
        biased sample skewness and excess kurtosis.

    Returns
    -------
    float
    """
    if method not in _VAR_METHODS:
        raise PyrtValueError(f"method: must be one of {', '.join(map(repr, _VAR_METHODS))}, got {method!r}")
    return _call(lib.pyrt_calculate_var, returns, "returns", _number(confidence, "confidence"), _VAR_METHODS[method])


def calculate_cvar(returns: Any, confidence: float = 0.95) -> float:
    """Conditional value at risk, a positive loss:
    ``-empyrical.conditional_value_at_risk(returns, cutoff=1 - confidence)``,
    minus the mean of the ``int((n-1) * (1-confidence)) + 1`` smallest returns.

    Parameters
    ----------
    returns : array-like of float
        Finite, non-empty.
    confidence : float
        Strictly between 0 and 1.

    Returns
    -------
    float
    """
    return _call(lib.pyrt_calculate_cvar, returns, "returns", _number(confidence, "confidence"))


def calculate_sharpe(returns: Any, risk_free: float = 0.0, periods_per_year: float = 252) -> float:
    """empyrical's ``sharpe_ratio(returns, risk_free, annualization=periods_per_year)``:
    ``mean(r - risk_free) / std(r - risk_free, ddof=1) * sqrt(periods_per_year)``.

    Parameters
    ----------
    returns : array-like of float
        Per-period simple returns, finite, non-empty.
    risk_free : float
        Risk-free return per period.
    periods_per_year : float
        > 0.

    Returns
    -------
    float
        NaN for a single return; ±inf (NaN if they are 0) when all returns are equal.
    """
    return _call(lib.pyrt_calculate_sharpe, returns, "returns", _number(risk_free, "risk_free"),
                 _number(periods_per_year, "periods_per_year"))


def calculate_sortino(returns: Any, required_return: float = 0.0, periods_per_year: float = 252) -> float:
    """empyrical's ``sortino_ratio(returns, required_return, annualization=periods_per_year)``:
    ``mean(r - required) * periods_per_year / (sqrt(mean(min(r - required, 0)²)) * sqrt(periods_per_year))``
    (the downside deviation averages over all periods, not only the losing ones).

    Parameters
    ----------
    returns : array-like of float
        Per-period simple returns, finite, non-empty.
    required_return : float
        Minimum acceptable return per period.
    periods_per_year : float
        > 0.

    Returns
    -------
    float
        NaN for a single return; ±inf when no return is below ``required_return``.
    """
    return _call(lib.pyrt_calculate_sortino, returns, "returns", _number(required_return, "required_return"),
                 _number(periods_per_year, "periods_per_year"))


def calculate_max_drawdown(equity_curve: Any) -> float:
    """Largest fall from the running peak, ``max((peak - e) / peak)``, a
    positive fraction; the peak starts at the first value.

    Parameters
    ----------
    equity_curve : array-like of float
        Finite, non-empty, first value > 0.

    Returns
    -------
    float
    """
    return _call(lib.pyrt_calculate_max_drawdown, equity_curve, "equity_curve")


def position_size(capital: float, entry_price: float, stop_price: float, risk_per_trade: float = 0.01,
                  max_leverage: float = 1.0) -> float:
    """Units to trade so that being stopped out loses ``capital * risk_per_trade``,
    capped by leverage: ``min(capital*risk_per_trade/|entry-stop|, capital*max_leverage/entry)``.

    Parameters
    ----------
    capital : float
        > 0.
    entry_price : float
        > 0.
    stop_price : float
        >= 0 and different from ``entry_price``.
    risk_per_trade : float
        In (0, 1].
    max_leverage : float
        > 0.

    Returns
    -------
    float
    """
    out = ffi.new("double *")
    check(lib.pyrt_calculate_position_size(
        _number(capital, "capital"), _number(entry_price, "entry_price"), _number(stop_price, "stop_price"),
        _number(risk_per_trade, "risk_per_trade"), _number(max_leverage, "max_leverage"), out))
    return out[0]
