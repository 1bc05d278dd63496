//! The signal-driven backtest: one pass over the bars, no allocation per bar.
//!
//! Semantics (DESIGN.md, "backtest"): signals are targets (1 long, -1 short
//! when shorting is allowed and flat otherwise, 0 keep); fills at
//! `p * (1 ± slippage_bps / 1e4)` with a fixed commission per fill; an opening
//! trade commits `cash * position_size` (commission included); a flip closes
//! then opens on the same bar; a position still open after the last bar is
//! closed there and that close counts.

use super::config::{Config, FillAt};
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

/// The bars of a run: the closes always; the opens, highs and lows when the
/// configuration needs them (`fill_at = next_open` needs the opens, any stop
/// needs the highs and lows).
#[derive(Debug, Clone, Copy)]
pub struct Bars<'a> {
    pub close: &'a [f64],
    pub open: Option<&'a [f64]>,
    pub high: Option<&'a [f64]>,
    pub low: Option<&'a [f64]>,
}

impl<'a> Bars<'a> {
    /// Closes only: fills at the close, no stops.
    pub fn close_only(close: &'a [f64]) -> Self {
        Bars { close, open: None, high: None, low: None }
    }
}

fn check_positive(values: &[f64], name: &str, n: usize) -> Result<()> {
    if values.len() != n {
        return Err(Error::invalid(name, format!("length {} differs from the length of prices ({n})", values.len())));
    }
    // Branch-free first (it vectorises); the index is searched on failure only.
    let all_good = values.iter().fold(true, |ok, &x| ok & (x > 0.0) & (x < f64::INFINITY));
    if !all_good {
        let (i, x) = values.iter().enumerate().find(|(_, &x)| !(x > 0.0 && x.is_finite())).expect("a bad value");
        return Err(Error::invalid(name, format!("must be finite and > 0, got {x} at index {i}")));
    }
    Ok(())
}

/// Every check of `validate_bars` on the opens, highs and lows in one
/// branch-free pass (it vectorises and reads each series once); a missing
/// series stands in as the closes, which pass every check.
fn bars_are_valid(bars: &Bars) -> bool {
    let close = bars.close;
    let n = close.len();
    let open = &bars.open.unwrap_or(close)[..n];
    let high = &bars.high.unwrap_or(close)[..n];
    let low = &bars.low.unwrap_or(close)[..n];
    let mut ok = true;
    for i in 0..n {
        let (o, h, l, c) = (open[i], high[i], low[i], close[i]);
        ok &= (o > 0.0) & (o < f64::INFINITY) & (h < f64::INFINITY) & (l > 0.0);
        ok &= (l <= o) & (l <= c) & (o <= h) & (c <= h);
    }
    ok
}

/// The first i with `below[i] > above[i]`, scanning branch-free first.
fn first_above(below: &[f64], above: &[f64]) -> Option<usize> {
    let ordered = below.iter().zip(above).fold(true, |ok, (&b, &a)| ok & (b <= a));
    if ordered {
        None
    } else {
        below.iter().zip(above).position(|(&b, &a)| b > a)
    }
}

/// Checks the bars and signals of a run against the configuration: what the
/// configuration needs is there, every given series has the closes' length,
/// is finite and > 0, and the bars are consistent (low <= open, close <= high).
pub fn validate_bars(bars: &Bars, signals: &[i32], equity_len: usize, config: &Config) -> Result<()> {
    validate_inputs(bars.close, signals, equity_len)?;
    let n = bars.close.len();
    if config.fill_at == FillAt::NextOpen && bars.open.is_none() {
        return Err(Error::invalid("open", "required by fill_at=\"next_open\""));
    }
    if config.has_stops() {
        if bars.high.is_none() {
            return Err(Error::invalid("high", "required by stop_loss, take_profit and trailing_stop"));
        }
        if bars.low.is_none() {
            return Err(Error::invalid("low", "required by stop_loss, take_profit and trailing_stop"));
        }
    }
    for (series, name) in [(bars.open, "open"), (bars.high, "high"), (bars.low, "low")] {
        if let Some(values) = series {
            if values.len() != n {
                return Err(Error::invalid(name, format!("length {} differs from the length of prices ({n})", values.len())));
            }
        }
    }
    if bars_are_valid(bars) {
        return Ok(());
    }
    // Something is wrong: find what, in the documented order.
    for (series, name) in [(bars.open, "open"), (bars.high, "high"), (bars.low, "low")] {
        if let Some(values) = series {
            check_positive(values, name, n)?;
        }
    }
    let close = bars.close;
    if let Some(high) = bars.high {
        if let Some(i) = first_above(close, high) {
            return Err(Error::invalid("high", format!("below the close at index {i} ({} < {})", high[i], close[i])));
        }
        if let Some(open) = bars.open {
            if let Some(i) = first_above(open, high) {
                return Err(Error::invalid("high", format!("below the open at index {i} ({} < {})", high[i], open[i])));
            }
        }
    }
    if let Some(low) = bars.low {
        if let Some(i) = first_above(low, close) {
            return Err(Error::invalid("low", format!("above the close at index {i} ({} > {})", low[i], close[i])));
        }
        if let Some(open) = bars.open {
            if let Some(i) = first_above(low, open) {
                return Err(Error::invalid("low", format!("above the open at index {i} ({} > {})", low[i], open[i])));
            }
        }
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
    /// What the entry fill paid: commission + commission_rate * notional.
    entry_cost: f64,
    buy_factor: f64,
    sell_factor: f64,
    commission: f64,
    commission_rate: f64,
    position_size: f64,
    num_trades: usize,
    wins: usize,
    /// The fixed stop-loss and take-profit levels of the open position
    /// (±infinity when unset), the best price since the entry and the first
    /// bar its stops are checked on.
    stop_level: f64,
    target_level: f64,
    best: f64,
    stops_from: usize,
    stop_loss: f64,
    take_profit: f64,
    trailing_stop: f64,
    sink: &'s mut S,
}

impl<S: TradeSink> Book<'_, S> {
    #[inline]
    fn cost(&self, quantity: f64, fill: f64) -> f64 {
        self.commission + self.commission_rate * quantity * fill
    }

    /// Opens `side` at the market `price`; stops are checked from bar `stops_from`.
    // Out of line, as `close_at`: trades are rare next to bars, and a small
    // bar loop stays in registers.
    #[inline(never)]
    fn open(&mut self, side: i32, index: usize, price: f64, stops_from: usize) {
        let fill = if side > 0 { price * self.buy_factor } else { price * self.sell_factor };
        let budget = self.cash * self.position_size;
        let quantity = (budget - self.commission) / (fill * (1.0 + self.commission_rate));
        // NaN cannot occur with validated inputs; `> 0.0` refuses it anyway.
        if !(quantity > 0.0) {
            return;
        }
        let cost = self.cost(quantity, fill);
        if side > 0 {
            self.cash -= quantity * fill + cost;
            self.quantity = quantity;
            self.stop_level = fill * (1.0 - self.stop_loss);
            self.target_level = fill * (1.0 + self.take_profit);
        } else {
            self.cash += quantity * fill - cost;
            self.quantity = -quantity;
            self.stop_level = fill * (1.0 + self.stop_loss);
            self.target_level = fill * (1.0 - self.take_profit);
        }
        self.side = side;
        self.entry_index = index;
        self.entry_price = fill;
        self.entry_cost = cost;
        self.best = fill;
        self.stops_from = stops_from;
    }

    /// Closes the whole position at the market `price` (slippage applies).
    #[inline]
    fn close_market(&mut self, index: usize, price: f64) {
        let fill = if self.side > 0 { price * self.sell_factor } else { price * self.buy_factor };
        self.close_at(index, fill);
    }

    /// Closes the whole position at exactly `fill`.
    #[inline(never)]
    fn close_at(&mut self, index: usize, fill: f64) {
        let quantity = self.quantity.abs();
        let cost = self.cost(quantity, fill);
        let gross = if self.side > 0 {
            self.cash += quantity * fill - cost;
            quantity * (fill - self.entry_price)
        } else {
            self.cash -= quantity * fill + cost;
            quantity * (self.entry_price - fill)
        };
        let pnl = gross - self.entry_cost - cost;
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

    /// Moves towards `signal`'s target at the market `price`: closes what is
    /// held when the target differs, then opens the target.
    #[inline]
    fn act(&mut self, signal: i32, short_target: i32, index: usize, price: f64, stops_from: usize) {
        if signal != 0 {
            let target = if signal > 0 { 1 } else { short_target };
            if target != self.side {
                if self.side != 0 {
                    self.close_market(index, price);
                }
                if target != 0 {
                    self.open(target, index, price, stops_from);
                }
            }
        }
    }

    /// DESIGN's stop checks of bar `index`: a gap through the stop or the
    /// target exits at the open, else a touch exits at the level; the
    /// stop first, because within a bar the worse case is assumed.
    #[inline]
    fn check_stops(&mut self, index: usize, open: f64, high: f64, low: f64) {
        if self.side > 0 {
            let stop = self.stop_level.max(self.best * (1.0 - self.trailing_stop));
            let target = self.target_level;
            if open <= stop {
                self.close_market(index, open);
            } else if open >= target {
                self.close_at(index, open);
            } else if low <= stop {
                self.close_market(index, stop);
            } else if high >= target {
                self.close_at(index, target);
            } else if high > self.best {
                self.best = high;
            }
        } else {
            let stop = self.stop_level.min(self.best * (1.0 + self.trailing_stop));
            let target = self.target_level;
            if open >= stop {
                self.close_market(index, open);
            } else if open <= target {
                self.close_at(index, open);
            } else if high >= stop {
                self.close_market(index, stop);
            } else if low <= target {
                self.close_at(index, target);
            } else if low < self.best {
                self.best = low;
            }
        }
    }
}

/// Runs the backtest on closes only (fills at the close, no stops): see [`run_bars`].
pub fn run<S: TradeSink>(
    prices: &[f64],
    signals: &[i32],
    config: &Config,
    equity_out: &mut [f64],
    trades: &mut S,
) -> Result<Summary> {
    run_bars(&Bars::close_only(prices), signals, config, equity_out, trades)
}

/// Runs the backtest: writes one equity value per bar into `equity_out`
/// (same length as the closes), hands each round trip to `trades` as it
/// closes and returns the statistics. Nothing is written when an argument
/// is bad.
///
/// Each bar i, in this order (DESIGN.md, "Backtest: execution, stops, costs"):
/// 1. `next_open`: the target of signal i-1 fills at `open[i]`;
/// 2. the open position's stops, from the bar after an entry at a close or
///    from the bar of an entry at an open;
/// 3. `close`: signal i acts at `close[i]`;
/// 4. `equity_out[i] = cash + signed quantity * close[i]`.
pub fn run_bars<S: TradeSink>(
    bars: &Bars,
    signals: &[i32],
    config: &Config,
    equity_out: &mut [f64],
    trades: &mut S,
) -> Result<Summary> {
    config.validate()?;
    validate_bars(bars, signals, equity_out.len(), config)?;
    let book = Book {
        cash: config.initial_capital,
        quantity: 0.0,
        side: 0,
        entry_index: 0,
        entry_price: 0.0,
        entry_cost: 0.0,
        buy_factor: 1.0 + config.slippage_bps / 1e4,
        sell_factor: 1.0 - config.slippage_bps / 1e4,
        commission: config.commission,
        commission_rate: config.commission_rate,
        position_size: config.position_size,
        num_trades: 0,
        wins: 0,
        stop_level: 0.0,
        target_level: 0.0,
        best: 0.0,
        stops_from: 0,
        // An unset stop is an infinite fraction: its level is ±infinity,
        // which no price reaches, so the checks need no special case.
        stop_loss: config.stop_loss.unwrap_or(f64::INFINITY),
        take_profit: config.take_profit.unwrap_or(f64::INFINITY),
        trailing_stop: config.trailing_stop.unwrap_or(f64::INFINITY),
        sink: trades,
    };
    let book = match (config.fill_at, config.has_stops()) {
        (FillAt::Close, false) => bar_loop::<S, false, false>(bars, signals, config, equity_out, book),
        (FillAt::Close, true) => bar_loop::<S, false, true>(bars, signals, config, equity_out, book),
        (FillAt::NextOpen, false) => bar_loop::<S, true, false>(bars, signals, config, equity_out, book),
        (FillAt::NextOpen, true) => bar_loop::<S, true, true>(bars, signals, config, equity_out, book),
    };
    let n = bars.close.len();
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

/// The bar loop, compiled once per fill mode and with or without stops, so
/// the plain close-fill run pays nothing for the features it does not use.
#[inline]
fn bar_loop<'s, S: TradeSink, const NEXT_OPEN: bool, const STOPS: bool>(
    bars: &Bars,
    signals: &[i32],
    config: &Config,
    equity_out: &mut [f64],
    mut book: Book<'s, S>,
) -> Book<'s, S> {
    let short_target = if config.allow_short { -1 } else { 0 };
    let close = bars.close;
    let n = close.len();
    // Every series re-sliced to n, so the indexing below needs no bounds checks.
    let signals = &signals[..n];
    let equity_out = &mut equity_out[..n];
    let open = &bars.open.unwrap_or(close)[..n];
    let high = &bars.high.unwrap_or(close)[..n];
    let low = &bars.low.unwrap_or(close)[..n];
    let has_open = bars.open.is_some();
    for i in 0..n {
        if NEXT_OPEN && i > 0 && signals[i - 1] != 0 {
            book.act(signals[i - 1], short_target, i, open[i], i);
        }
        if STOPS && book.side != 0 && i >= book.stops_from {
            // Without the opens, a bar opens where the previous one closed,
            // clipped into its range (stops never start on bar 0 then: the
            // first entry is at a close).
            let o = if has_open { open[i] } else { close[i.saturating_sub(1)].max(low[i]).min(high[i]) };
            book.check_stops(i, o, high[i], low[i]);
        }
        if !NEXT_OPEN && signals[i] != 0 {
            book.act(signals[i], short_target, i, close[i], i + 1);
        }
        equity_out[i] = book.cash + book.quantity * close[i];
    }
    if book.side != 0 {
        book.close_market(n - 1, close[n - 1]);
        equity_out[n - 1] = book.cash;
    }
    book
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

    fn run_ohlc(o: &[f64], h: &[f64], l: &[f64], c: &[f64], signals: &[i32], config: &Config) -> (Vec<f64>, Vec<Trade>) {
        let bars = Bars { close: c, open: Some(o), high: Some(h), low: Some(l) };
        let mut equity = vec![0.0; c.len()];
        let mut trades = Vec::new();
        run_bars(&bars, signals, config, &mut equity, &mut trades).unwrap();
        (equity, trades)
    }

    #[test]
    fn a_bar_that_opens_beyond_the_stop_exits_at_the_open() {
        // Long at the close 100 (stop 90); bar 1 opens at 85 under the stop.
        let config = Config { stop_loss: Some(0.1), slippage_bps: 10.0, ..Config::default() };
        let (_, trades) = run_ohlc(&[100.0, 85.0, 90.0], &[100.0, 95.0, 92.0], &[100.0, 80.0, 88.0], &[100.0, 90.0, 91.0], &[1, 0, 0], &config);
        assert_eq!(trades.len(), 1);
        assert_eq!(trades[0].exit_index, 1);
        assert!((trades[0].exit_price - 85.0 * 0.999).abs() < 1e-12, "a stop exit pays slippage");
    }

    #[test]
    fn a_bar_that_opens_beyond_the_target_exits_at_the_open_without_slippage() {
        let config = Config { take_profit: Some(0.1), slippage_bps: 10.0, ..Config::default() };
        let (_, trades) = run_ohlc(&[100.0, 120.0], &[100.0, 125.0], &[100.0, 119.0], &[100.0, 121.0], &[1, 0], &config);
        assert_eq!((trades[0].exit_index, trades[0].exit_price), (1, 120.0));
    }

    #[test]
    fn a_bar_that_touches_both_takes_the_stop() {
        // Entry fill 100 (no slippage): stop 95, target 105; bar 1 spans 94..106.
        let config = Config { stop_loss: Some(0.05), take_profit: Some(0.05), ..Config::default() };
        let (_, trades) = run_ohlc(&[100.0, 100.0], &[100.0, 106.0], &[100.0, 94.0], &[100.0, 100.0], &[1, 0], &config);
        assert_eq!((trades[0].exit_index, trades[0].exit_price), (1, 95.0));
        // A touch of the target alone exits at the target.
        let (_, trades) = run_ohlc(&[100.0, 100.0, 100.0], &[100.0, 106.0, 100.0], &[100.0, 99.0, 100.0], &[100.0, 100.0, 100.0], &[1, 0, 0], &config);
        assert_eq!((trades[0].exit_index, trades[0].exit_price), (1, 105.0));
    }

    #[test]
    fn a_trailing_stop_follows_new_highs_from_the_next_bar() {
        // Highs 110 then 120: the stop trails to 99 then 108; bar 3 touches 107.
        let config = Config { trailing_stop: Some(0.1), ..Config::default() };
        let o = [100.0, 105.0, 115.0, 112.0];
        let h = [100.0, 110.0, 120.0, 113.0];
        let l = [100.0, 100.0, 109.0, 107.0];
        let c = [100.0, 108.0, 112.0, 110.0];
        let (_, trades) = run_ohlc(&o, &h, &l, &c, &[1, 0, 0, 0], &config);
        assert_eq!(trades[0].exit_index, 3);
        assert!((trades[0].exit_price - 108.0).abs() < 1e-12);
        // A short trails the lowest low.
        let config = Config { trailing_stop: Some(0.1), allow_short: true, ..Config::default() };
        let (_, trades) = run_ohlc(&[100.0, 95.0, 92.0], &[100.0, 96.0, 99.5], &[100.0, 90.0, 91.0], &[100.0, 92.0, 93.0], &[-1, 0, 0], &config);
        assert_eq!((trades[0].side, trades[0].exit_index), (-1, 2));
        assert!((trades[0].exit_price - 99.0).abs() < 1e-12);
    }

    #[test]
    fn a_next_open_entry_is_stopped_on_its_own_bar() {
        // Signal at bar 0, filled at open[1] = 100; bar 1's low 94 hits the 95 stop.
        let config = Config { fill_at: FillAt::NextOpen, stop_loss: Some(0.05), commission_rate: 0.001, ..Config::default() };
        let (equity, trades) = run_ohlc(&[99.0, 100.0, 96.0], &[99.0, 101.0, 97.0], &[99.0, 94.0, 95.0], &[99.0, 96.0, 96.0], &[1, 0, 0], &config);
        assert_eq!(trades.len(), 1);
        let t = trades[0];
        assert_eq!((t.entry_index, t.exit_index, t.entry_price, t.exit_price), (1, 1, 100.0, 95.0));
        let q = 100_000.0 / (100.0 * 1.001);
        assert!((t.quantity - q).abs() < 1e-9);
        assert!((t.pnl - (q * -5.0 - 0.001 * q * 100.0 - 0.001 * q * 95.0)).abs() < 1e-9);
        assert_eq!(equity[0], 100_000.0);
        assert!((equity[1] - (100_000.0 + t.pnl)).abs() < 1e-9);
        // A signal on the last bar never fills.
        let (_, trades) = run_ohlc(&[1.0, 1.0], &[1.0, 1.0], &[1.0, 1.0], &[1.0, 1.0], &[0, 1], &config);
        assert!(trades.is_empty());
    }

    #[test]
    fn what_the_configuration_needs_is_named() {
        let c = [1.0, 2.0];
        let mut equity = [0.0; 2];
        let mut trades = Vec::new();
        let next_open = Config { fill_at: FillAt::NextOpen, ..Config::default() };
        let e = run_bars(&Bars::close_only(&c), &[0, 0], &next_open, &mut equity, &mut trades).unwrap_err();
        assert!(e.message.starts_with("open:"), "{}", e.message);
        let stops = Config { stop_loss: Some(0.1), ..Config::default() };
        let e = run_bars(&Bars::close_only(&c), &[0, 0], &stops, &mut equity, &mut trades).unwrap_err();
        assert!(e.message.starts_with("high:"), "{}", e.message);
        let bad = Bars { close: &c, open: None, high: Some(&[1.5, 1.9]), low: Some(&[1.0, 1.0]) };
        let e = run_bars(&bad, &[0, 0], &stops, &mut equity, &mut trades).unwrap_err();
        assert!(e.message.starts_with("high: below the close at index 1"), "{}", e.message);
    }

    #[test]
    fn the_counting_sink_sees_every_trade() {
        let mut equity = vec![0.0; 4];
        let mut sink = CountingSink::default();
        let s = run(&[1.0, 2.0, 3.0, 4.0], &[1, -1, 1, 0], &Config::default(), &mut equity, &mut sink).unwrap();
        assert_eq!((sink.count, s.num_trades), (2, 2));
    }
}
