//! extern "C" layer for `crate::risk`. Every function is a pure computation:
//! safe to call from any number of threads at once.

use super::boundary::*;
use crate::error::{Error, Result};
use crate::risk::{self, VarMethod};

/// Method of `pyrt_calculate_var`.
pub type PyrtVarMethod = i32;
/// -quantile(returns, 1 - confidence), NumPy's default linear quantile.
pub const PYRT_VAR_HISTORICAL: PyrtVarMethod = 0;
/// -(mean + z * std(ddof=1)), z the standard normal quantile of 1 - confidence.
pub const PYRT_VAR_PARAMETRIC: PyrtVarMethod = 1;
/// As parametric with z replaced by its Cornish-Fisher expansion in the
/// sample skewness and excess kurtosis (biased moments).
pub const PYRT_VAR_CORNISH_FISHER: PyrtVarMethod = 2;

impl TryFrom<PyrtVarMethod> for VarMethod {
    type Error = Error;
    fn try_from(value: PyrtVarMethod) -> Result<VarMethod> {
        match value {
            PYRT_VAR_HISTORICAL => Ok(VarMethod::Historical),
            PYRT_VAR_PARAMETRIC => Ok(VarMethod::Parametric),
            PYRT_VAR_CORNISH_FISHER => Ok(VarMethod::CornishFisher),
            other => Err(Error::invalid(
                "method",
                format!("must be 0 (historical), 1 (parametric) or 2 (cornish_fisher), got {other}"),
            )),
        }
    }
}

/// Value at risk of `len` returns at `confidence` (strictly between 0 and 1),
/// a positive loss. Returns must not be infinite (NaN values are skipped); the parametric methods need at
/// least 2.
#[no_mangle]
pub unsafe extern "C" fn pyrt_calculate_var(
    returns: *const f64,
    len: usize,
    confidence: f64,
    method: PyrtVarMethod,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let returns = input_slice(returns, len, "returns")?;
        let method = VarMethod::try_from(method)?;
        let value = risk::value_at_risk(returns, confidence, method)?;
        write_out(out, value, "out")
    }
}

/// Conditional value at risk: minus the mean of the floor((len-1) *
/// (1 - confidence)) + 1 smallest returns (empyrical's definition).
#[no_mangle]
pub unsafe extern "C" fn pyrt_calculate_cvar(returns: *const f64, len: usize, confidence: f64, out: *mut f64) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let returns = input_slice(returns, len, "returns")?;
        write_out(out, risk::conditional_value_at_risk(returns, confidence)?, "out")
    }
}

/// empyrical's Sharpe ratio: mean(r - risk_free) / std(r - risk_free, ddof=1)
/// * sqrt(periods_per_year); NaN for a single return.
#[no_mangle]
pub unsafe extern "C" fn pyrt_calculate_sharpe(
    returns: *const f64,
    len: usize,
    risk_free: f64,
    periods_per_year: f64,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let returns = input_slice(returns, len, "returns")?;
        write_out(out, risk::sharpe_ratio(returns, risk_free, periods_per_year)?, "out")
    }
}

/// empyrical's Sortino ratio: mean(r - required) * periods_per_year over
/// sqrt(mean(min(r - required, 0)^2)) * sqrt(periods_per_year); NaN for a
/// single return.
#[no_mangle]
pub unsafe extern "C" fn pyrt_calculate_sortino(
    returns: *const f64,
    len: usize,
    required_return: f64,
    periods_per_year: f64,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let returns = input_slice(returns, len, "returns")?;
        write_out(out, risk::sortino_ratio(returns, required_return, periods_per_year)?, "out")
    }
}

/// Largest fall from the running peak of an equity curve (first value > 0),
/// as a positive fraction of the peak.
#[no_mangle]
pub unsafe extern "C" fn pyrt_calculate_max_drawdown(equity_curve: *const f64, len: usize, out: *mut f64) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let equity_curve = input_slice(equity_curve, len, "equity_curve")?;
        write_out(out, risk::max_drawdown(equity_curve)?, "out")
    }
}

/// Units to trade: min(capital * risk_per_trade / |entry_price - stop_price|,
/// capital * max_leverage / entry_price). stop_price == entry_price is
/// PYRT_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn pyrt_calculate_position_size(
    capital: f64,
    entry_price: f64,
    stop_price: f64,
    risk_per_trade: f64,
    max_leverage: f64,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let size = risk::position_size(capital, entry_price, stop_price, risk_per_trade, max_leverage)?;
        write_out(out, size, "out")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::{null, null_mut};

    #[test]
    fn null_empty_and_bad_values_are_refused_without_writing() {
        let r = [0.01, -0.02, 0.03];
        let mut out = -7.0;
        unsafe {
            assert_eq!(pyrt_calculate_var(null(), 3, 0.95, PYRT_VAR_HISTORICAL, &mut out), PYRT_NULL_POINTER);
            assert_eq!(pyrt_calculate_var(r.as_ptr(), 0, 0.95, PYRT_VAR_HISTORICAL, &mut out), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_calculate_var(r.as_ptr(), 3, 0.95, 7, &mut out), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_calculate_var(r.as_ptr(), 3, 1.5, PYRT_VAR_PARAMETRIC, &mut out), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_calculate_var(r.as_ptr(), 3, 0.95, PYRT_VAR_PARAMETRIC, null_mut()), PYRT_NULL_POINTER);
            assert_eq!(pyrt_calculate_cvar(null(), 0, 0.95, &mut out), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_calculate_sharpe(r.as_ptr(), 3, 0.0, 0.0, &mut out), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_calculate_sortino(r.as_ptr(), 3, f64::NAN, 252.0, &mut out), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_calculate_max_drawdown(null(), 0, &mut out), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_calculate_position_size(1.0, 2.0, 2.0, 0.01, 1.0, &mut out), PYRT_INVALID_ARGUMENT);
            assert_eq!(out, -7.0);
            assert_eq!(pyrt_calculate_var(r.as_ptr(), 3, 0.5, PYRT_VAR_HISTORICAL, &mut out), PYRT_OK);
            assert_eq!(out, -0.01);
            assert_eq!(pyrt_calculate_position_size(100_000.0, 100.0, 95.0, 0.01, 1.0, &mut out), PYRT_OK);
            assert_eq!(out, 200.0);
        }
    }
}
