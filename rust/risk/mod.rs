//! Risk metrics: value at risk (historical, parametric, Cornish-Fisher),
//! conditional value at risk, Sharpe and Sortino ratios as empyrical defines
//! them, maximum drawdown and stop-based position sizing. Pure, safe Rust.

// `!(x > 0.0)` is written on purpose throughout: unlike `x <= 0.0` it is
// also true for NaN, which must be refused.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod moments;
mod normal;
mod ratios;
mod var;

pub use normal::normal_quantile;
pub use ratios::{max_drawdown, position_size, sharpe_ratio, sortino_ratio};
pub use var::{conditional_value_at_risk, value_at_risk, VarMethod};

use std::borrow::Cow;

use crate::error::{Error, Result};
use moments::lane_sum;

/// Refuses empty values or an infinity, naming the argument and the index,
/// and drops NaN values, as empyrical's NaN-aware statistics skip them
/// (a leading NaN from `pct_change()` is the usual case). Borrows when there
/// is no NaN.
pub(crate) fn without_nan<'a>(values: &'a [f64], name: &str) -> Result<Cow<'a, [f64]>> {
    if values.is_empty() {
        return Err(Error::invalid(name, "must not be empty"));
    }
    if lane_sum(values, |x| x * 0.0) == 0.0 {
        return Ok(Cow::Borrowed(values));
    }
    if let Some((i, x)) = values.iter().enumerate().find(|(_, x)| x.is_infinite()) {
        return Err(Error::invalid(name, format!("must be finite or NaN, got {x} at index {i}")));
    }
    Ok(Cow::Owned(values.iter().copied().filter(|x| !x.is_nan()).collect()))
}

pub(crate) fn check_confidence(confidence: f64) -> Result<()> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::invalid("confidence", format!("must be strictly between 0 and 1, got {confidence}")));
    }
    Ok(())
}
