//! The signal-driven backtest: one pass over the bars, no allocation per bar.
//!
//! Semantics (DESIGN.md, "backtest"): signals are targets (1 long, -1 short
//! when shorting is allowed and flat otherwise, 0 keep); fills at
//! `p * (1 ± slippage_bps / 1e4)` with a fixed commission per fill; an opening
//! trade commits `cash * position_size` (commission included); a flip closes
//! then opens on the same bar; a position still open after the last bar is
//! closed there and that close counts.

use super::config::Config;
use super::stats::{equity_max_drawdown, equity_sharpe};
use crate::error::{Error, Result};

/// One round trip: opened at `entry_index`, closed at `exit_index`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trade {
    pub entry_index: usize,
    pub exit_index: usize,
    /// +1 long, -1 short.
    pub side: i32,
    pub quantity: f64,
    /// Fill prices, slippage included.
    pub entry_price: f64,
    pub exit_price: f64,
    /// Net of both commissions.
    pub pnl: f64,
    /// `pnl / (quantity * entry_price)`.
    pub ret: f64,
}

/// The run's statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub total_return: f64,
    pub sharpe_ratio: f64,
    pub max_drawdown: f64,
    pub win_rate: f64,
    pub num_trades: usize,
    pub final_equity: f64,
}

/// Where a run's round trips go, in the order they close. A parameter sweep
/// that only needs the statistics passes a [`CountingSink`].
pub trait TradeSink {
    fn record(&mut self, trade: &Trade);
}

impl TradeSink for Vec<Trade> {
    #[inline]
    fn record(&mut self, trade: &Trade) {
        self.push(*trade);
    }
}

/// A sink that keeps nothing but the number of trades.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingSink {
    pub count: usize,
}

impl TradeSink for CountingSink {
    #[inline]
    fn record(&mut self, _trade: &Trade) {
        self.count += 1;
    }
}

/// Checks prices (finite, > 0), signals (-1, 0 or 1), equal lengths and the
/// output buffer's length, before anything is written.
pub fn validate_inputs(prices: &[f64], signals: &[i32], equity_len: usize) -> Result<()> {
    if prices.is_empty() {
        return Err(Error::invalid("prices", "must not be empty"));
    }
    if signals.len() != prices.len() {
        return Err(Error::invalid(
            "signals",
            format!("length {} differs from the length of prices ({})", signals.len(), prices.len()),
        ));
    }
    if equity_len != prices.len() {
        return Err(Error::invalid(
            "equity_out",
            format!("length {} differs from the length of prices ({})", equity_len, prices.len()),
        ));
    }
    // Branch-free scans first (they vectorise); the index is only searched on
    // failure. `x * 0.0` is NaN exactly for NaN and ±inf, so the sums stay 0
    // only for finite prices; the running minimum (which skips NaN) then
    // decides positivity.
    let mut lowest = [f64::INFINITY; 4];
    let mut poison = [0.0f64; 4];
    let chunks = prices.chunks_exact(4);
    let rest = chunks.remainder();
    for chunk in chunks {
        for lane in 0..4 {
            let x = chunk[lane];
            lowest[lane] = if x < lowest[lane] { x } else { lowest[lane] };
            poison[lane] += x * 0.0;
        }
    }
    for &x in rest {
        lowest[0] = if x < lowest[0] { x } else { lowest[0] };
        poison[0] += x * 0.0;
    }
    let bad_price = !(lowest.iter().all(|&x| x > 0.0) && poison.iter().sum::<f64>() == 0.0);
    if bad_price {
        let (i, p) = prices.iter().enumerate().find(|(_, &p)| !(p > 0.0 && p.is_finite())).expect("a bad price");
        return Err(Error::invalid("prices", format!("must be finite and > 0, got {p} at index {i}")));
    }
    let bad_signal = signals.iter().fold(false, |acc, &s| acc | (s.wrapping_add(1) as u32 > 2));
    if bad_signal {
        let (i, s) = signals.iter().enumerate().find(|(_, &s)| !(-1..=1).contains(&s)).expect("a bad signal");
        return Err(Error::invalid("signals", format!("must be -1, 0 or 1, got {s} at index {i}")));
    }
    Ok(())
}

struct Book<'s, S: TradeSink> {
    cash: f64,
    /// Signed: > 0 long, < 0 short.
    quantity: f64,
    side: i32,
    entry_index: usize,
    entry_price: f64,
    buy_factor: f64,
    sell_factor: f64,
    commission: f64,
    position_size: f64,
    num_trades: usize,
    wins: usize,
    sink: &'s mut S,
}

impl<S: TradeSink> Book<'_, S> {
    #[inline]
    fn open(&mut self, side: i32, index: usize, price: f64) {
        let fill = if side > 0 { price * self.buy_factor } else { price * self.sell_factor };
        let budget = self.cash * self.position_size;
        let quantity = (budget - self.commission) / fill;
        // NaN cannot occur with validated inputs; `> 0.0` refuses it anyway.
        if !(quantity > 0.0) {
            return;
        }
        if side > 0 {
            self.cash -= quantity * fill + self.commission;
            self.quantity = quantity;
        } else {
            self.cash += quantity * fill - self.commission;
            self.quantity = -quantity;
        }
        self.side = side;
        self.entry_index = index;
        self.entry_price = fill;
    }

    #[inline]
    fn close(&mut self, index: usize, price: f64) {
        let quantity = self.quantity.abs();
        let (fill, pnl) = if self.side > 0 {
            let fill = price * self.sell_factor;
            self.cash += quantity * fill - self.commission;
            (fill, quantity * (fill - self.entry_price) - 2.0 * self.commission)
        } else {
            let fill = price * self.buy_factor;
            self.cash -= quantity * fill + self.commission;
            (fill, quantity * (self.entry_price - fill) - 2.0 * self.commission)
        };
        let trade = Trade {
            entry_index: self.entry_index,
            exit_index: index,
            side: self.side,
            quantity,
            entry_price: self.entry_price,
            exit_price: fill,
            pnl,
            ret: pnl / (quantity * self.entry_price),
        };
        self.num_trades += 1;
        self.wins += (pnl > 0.0) as usize;
        self.sink.record(&trade);
        self.quantity = 0.0;
        self.side = 0;
    }
}

/// Runs the backtest: writes one equity value per bar into `equity_out`
/// (same length as `prices`), hands each round trip to `trades` as it closes
/// and returns the statistics. Nothing is written when an argument is bad.
pub fn run<S: TradeSink>(
    prices: &[f64],
    signals: &[i32],
    config: &Config,
    equity_out: &mut [f64],
    trades: &mut S,
) -> Result<Summary> {
    config.validate()?;
    validate_inputs(prices, signals, equity_out.len())?;
    let short_target = if config.allow_short { -1 } else { 0 };
    let mut book = Book {
        cash: config.initial_capital,
        quantity: 0.0,
        side: 0,
        entry_index: 0,
        entry_price: 0.0,
        buy_factor: 1.0 + config.slippage_bps / 1e4,
        sell_factor: 1.0 - config.slippage_bps / 1e4,
        commission: config.commission,
        position_size: config.position_size,
        num_trades: 0,
        wins: 0,
        sink: trades,
    };
    let n = prices.len();
    for i in 0..n {
        let price = prices[i];
        let signal = signals[i];
        if signal != 0 {
            let target = if signal > 0 { 1 } else { short_target };
            if target != book.side {
                if book.side != 0 {
                    book.close(i, price);
                }
                if target != 0 {
                    book.open(target, i, price);
                }
            }
        }
        equity_out[i] = book.cash + book.quantity * price;
    }
    if book.side != 0 {
        book.close(n - 1, prices[n - 1]);
        equity_out[n - 1] = book.cash;
    }
    let final_equity = equity_out[n - 1];
    Ok(Summary {
        total_return: final_equity / config.initial_capital - 1.0,
        sharpe_ratio: equity_sharpe(equity_out, config.periods_per_year),
        max_drawdown: equity_max_drawdown(equity_out),
        win_rate: if book.num_trades > 0 { book.wins as f64 / book.num_trades as f64 } else { 0.0 },
        num_trades: book.num_trades,
        final_equity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_vec(prices: &[f64], signals: &[i32], config: &Config) -> (Vec<f64>, Vec<Trade>, Summary) {
        let mut equity = vec![0.0; prices.len()];
        let mut trades = Vec::new();
        let summary = run(prices, signals, config, &mut equity, &mut trades).unwrap();
        (equity, trades, summary)
    }

    #[test]
    fn a_long_round_trip_by_hand() {
        // Buy 1000 at 100 with commission 10 and 10 bps: fill 100.1,
        // quantity (1000 - 10) / 100.1; sell at 110 * 0.999 = 109.89.
        let config = Config { initial_capital: 1000.0, commission: 10.0, slippage_bps: 10.0, ..Config::default() };
        let (equity, trades, s) = run_vec(&[100.0, 110.0, 120.0], &[1, -1, 0], &config);
        let q = 990.0 / 100.1;
        let cash_after_buy = 1000.0 - (q * 100.1 + 10.0);
        assert!((equity[0] - (cash_after_buy + q * 100.0)).abs() < 1e-9);
        let cash_after_sell = cash_after_buy + q * 109.89 - 10.0;
        assert!((equity[1] - cash_after_sell).abs() < 1e-9);
        assert_eq!(equity[2], equity[1]);
        assert_eq!(trades.len(), 1);
        let t = trades[0];
        assert_eq!((t.entry_index, t.exit_index, t.side), (0, 1, 1));
        assert!((t.pnl - (q * (109.89 - 100.1) - 20.0)).abs() < 1e-9);
        assert!((t.ret - t.pnl / (q * 100.1)).abs() < 1e-15);
        assert_eq!(s.num_trades, 1);
        assert_eq!(s.win_rate, 1.0);
        assert_eq!(s.final_equity, equity[2]);
    }

    #[test]
    fn a_flip_closes_then_opens_and_the_last_bar_closes() {
        let config = Config { allow_short: true, ..Config::default() };
        let (equity, trades, s) = run_vec(&[10.0, 12.0, 9.0], &[1, -1, 0], &config);
        assert_eq!(trades.len(), 2);
        assert_eq!((trades[0].side, trades[0].entry_index, trades[0].exit_index), (1, 0, 1));
        assert_eq!((trades[1].side, trades[1].entry_index, trades[1].exit_index), (-1, 1, 2));
        // Long 10000 units at 10 -> 120000; short 10000 at 12, bought back at 9.
        assert!((trades[0].pnl - 20_000.0).abs() < 1e-9);
        assert!((trades[1].pnl - 30_000.0).abs() < 1e-9);
        assert!((equity[2] - 150_000.0).abs() < 1e-9);
        assert!((s.total_return - 0.5).abs() < 1e-12);
        assert_eq!(s.max_drawdown, 0.0);
    }

    #[test]
    fn a_minus_one_without_shorting_only_closes() {
        let (_, trades, s) = run_vec(&[10.0, 12.0, 9.0], &[-1, 1, -1], &Config::default());
        assert_eq!(trades.len(), 1);
        assert_eq!(trades[0].side, 1);
        assert_eq!(s.win_rate, 0.0);
    }

    #[test]
    fn no_trade_when_the_commission_eats_the_budget() {
        let config = Config { initial_capital: 10.0, commission: 10.0, ..Config::default() };
        let (equity, trades, s) = run_vec(&[5.0, 6.0], &[1, 0], &config);
        assert!(trades.is_empty());
        assert_eq!(equity, vec![10.0, 10.0]);
        assert_eq!((s.sharpe_ratio, s.max_drawdown, s.total_return), (0.0, 0.0, 0.0));
    }

    #[test]
    fn bad_inputs_are_named_and_nothing_is_written() {
        let mut equity = vec![-7.0; 3];
        let mut trades = Vec::new();
        let c = Config::default();
        let e = run(&[1.0, 2.0, 3.0], &[0, 2, 0], &c, &mut equity, &mut trades).unwrap_err();
        assert_eq!(e.message, "signals: must be -1, 0 or 1, got 2 at index 1");
        let e = run(&[1.0, f64::NAN, 3.0], &[0, 0, 0], &c, &mut equity, &mut trades).unwrap_err();
        assert!(e.message.starts_with("prices:"), "{}", e.message);
        let e = run(&[1.0, 2.0, 3.0], &[0, 0], &c, &mut equity, &mut trades).unwrap_err();
        assert!(e.message.starts_with("signals: length 2"), "{}", e.message);
        let e = run(&[], &[], &c, &mut [], &mut trades).unwrap_err();
        assert!(e.message.starts_with("prices:"), "{}", e.message);
        assert_eq!(equity, vec![-7.0; 3]);
    }

    #[test]
    fn every_kind_of_bad_price_is_found_anywhere() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, -1.0] {
            for n in [1usize, 4, 7, 9, 64] {
                for at in [0, n / 2, n - 1] {
                    let mut prices = vec![10.0; n];
                    prices[at] = bad;
                    let e = validate_inputs(&prices, &vec![0; n], n).unwrap_err();
                    assert!(e.message.starts_with("prices:") && e.message.ends_with(&format!("at index {at}")), "{}", e.message);
                }
            }
        }
        validate_inputs(&[f64::MIN_POSITIVE, f64::MAX, 1e-300], &[0, 1, -1], 3).unwrap();
        let e = validate_inputs(&[1.0; 6], &[0, 0, 0, 0, 0, i32::MIN], 6).unwrap_err();
        assert!(e.message.contains("at index 5"), "{}", e.message);
    }

    #[test]
    fn the_counting_sink_sees_every_trade() {
        let mut equity = vec![0.0; 4];
        let mut sink = CountingSink::default();
        let s = run(&[1.0, 2.0, 3.0, 4.0], &[1, -1, 1, 0], &Config::default(), &mut equity, &mut sink).unwrap();
        assert_eq!((sink.count, s.num_trades), (2, 2));
    }
}
