//! The indicator catalog at run time: one record per TA-Lib function (from
//! `catalog.toml`, compiled into `catalog_gen.rs`), and the generic code every
//! indicator shares: parameter resolution and checks, the batch run with
//! TA-Lib's leading-NaN and short-series rules, and `Stream`, the framework
//! around each streaming state (leading-NaN skipping, the last value, the
//! self-describing saved state).

use super::catalog_gen::{self, MAX_INPUTS, MAX_OUTPUTS, MAX_PARAMS};
use super::indicator::Indicator;
use super::state::{self, Reader, Writer};
use crate::error::{Error, ErrorKind, Result};

/// One optional input of a TA-Lib function.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub default: f64,
    /// TA-Lib's valid range, both ends included.
    pub min: f64,
    pub max: f64,
    /// Whole numbers only.
    pub integer: bool,
}

/// What the catalog knows of one function (see `catalog.toml`).
#[derive(Debug)]
pub struct Record {
    pub name: &'static str,
    pub group: &'static str,
    pub display: &'static str,
    pub inputs: &'static [&'static str],
    pub outputs: &'static [&'static str],
    pub params: &'static [Param],
}

/// Every record, in catalog order.
pub fn records() -> &'static [Record] {
    catalog_gen::RECORDS
}

/// The index of the function called `name` (TA-Lib's name, case-sensitive).
pub fn find(name: &str) -> Result<usize> {
    records().iter().position(|r| r.name == name).ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("name: no indicator called {name:?} (pyrt_indicator_count/info list them)"),
        )
    })
}

/// The record at `index`.
pub fn record(index: usize) -> Result<&'static Record> {
    records().get(index).ok_or_else(|| {
        Error::invalid("index", format!("{index} is past the catalog's {} entries", records().len()))
    })
}

/// `given` parameters (record order; fewer than the record's count, or NaN,
/// mean the default) checked against the record: a full parameter list.
pub fn resolve_params(record: &Record, given: &[f64]) -> Result<Vec<f64>> {
    let mut buf = [0.0; MAX_PARAMS];
    Ok(resolve_params_into(record, given, &mut buf)?.to_vec())
}

/// `resolve_params` into a buffer on the caller's stack (a batch call
/// allocates nothing for its parameters).
pub fn resolve_params_into<'a>(record: &Record, given: &[f64], buf: &'a mut [f64; MAX_PARAMS]) -> Result<&'a [f64]> {
    if given.len() > record.params.len() {
        return Err(Error::invalid(
            "params",
            format!("{} takes {} parameters, got {}", record.name, record.params.len(), given.len()),
        ));
    }
    let resolved = &mut buf[..record.params.len()];
    for (k, (p, slot)) in record.params.iter().zip(resolved.iter_mut()).enumerate() {
        let v = given.get(k).copied().unwrap_or(f64::NAN);
        if v.is_nan() {
            *slot = p.default;
            continue;
        }
        if !(p.min..=p.max).contains(&v) {
            return Err(Error::invalid(
                p.name,
                format!("must be in [{}, {}] for {}, got {v}", fmt_bound(p.min), fmt_bound(p.max), record.name),
            ));
        }
        if p.integer && v.fract() != 0.0 {
            return Err(Error::invalid(p.name, format!("must be a whole number for {}, got {v}", record.name)));
        }
        *slot = v;
    }
    Ok(resolved)
}

fn fmt_bound(v: f64) -> String {
    if v.abs() >= 1e15 {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A fresh streaming state of catalog entry `index` with resolved parameters.
pub fn build(index: usize, params: &[f64]) -> Result<Box<dyn Indicator>> {
    catalog_gen::construct(index, params)
}

/// TA-Lib's lookback of entry `index` for `given` parameters.
pub fn lookback(index: usize, given: &[f64]) -> Result<usize> {
    let params = resolve_params(record(index)?, given)?;
    Ok(build(index, &params)?.lookback())
}

/// Checks that the caller passed as many series as the record has and that
/// they all have one length.
pub fn check_arity(record: &Record, inputs: usize, outputs: usize) -> Result<()> {
    if inputs != record.inputs.len() {
        return Err(Error::invalid(
            "inputs",
            format!("{} takes {} input series ({}), got {inputs}", record.name, record.inputs.len(), record.inputs.join(", ")),
        ));
    }
    if outputs != record.outputs.len() {
        return Err(Error::invalid(
            "outputs",
            format!("{} has {} outputs ({}), got {outputs}", record.name, record.outputs.len(), record.outputs.join(", ")),
        ));
    }
    Ok(())
}

/// The first bar in which no input is NaN (`len` if none): the bars before it
/// are not data, as the `talib` package skips them.
pub fn first_complete_bar(inputs: &[&[f64]]) -> usize {
    let n = inputs.first().map_or(0, |x| x.len());
    (0..n).find(|&i| inputs.iter().all(|x| !x[i].is_nan())).unwrap_or(n)
}

/// Runs entry `index` over whole series with TA-Lib's batch semantics:
/// leading bars NaN in any input are skipped, the first `lookback` outputs
/// after them are NaN, a series no longer than that is all NaN. Every check
/// is made before any output is written. Allocates nothing itself: on a
/// short series the call's fixed cost is what the caller pays.
pub fn run(index: usize, given: &[f64], inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
    let record = record(index)?;
    check_arity(record, inputs.len(), outputs.len())?;
    let mut buf = [0.0; MAX_PARAMS];
    let params = resolve_params_into(record, given, &mut buf)?;
    let n = inputs[0].len();
    for (k, x) in inputs.iter().enumerate() {
        if x.len() != n {
            return Err(Error::invalid(
                record.inputs[k],
                format!("has {} values but {} has {n}", x.len(), record.inputs[0]),
            ));
        }
    }
    for (k, o) in outputs.iter().enumerate() {
        if o.len() != n {
            return Err(Error::invalid(record.outputs[k], format!("must hold {n} values, holds {}", o.len())));
        }
    }
    // What spans parameters (the constructor's checks beyond each range),
    // without building a state only to drop it.
    catalog_gen::check(index, params)?;
    let begin = first_complete_bar(inputs);
    if begin == 0 {
        return catalog_gen::batch(index, params, inputs, outputs);
    }
    for o in outputs.iter_mut() {
        o[..begin].fill(f64::NAN);
    }
    if begin == n {
        return Ok(());
    }
    let mut rest_in: [&[f64]; MAX_INPUTS] = [&[]; MAX_INPUTS];
    for (r, x) in rest_in.iter_mut().zip(inputs) {
        *r = &x[begin..];
    }
    let n_outputs = outputs.len();
    let mut rest_out: [&mut [f64]; MAX_OUTPUTS] = Default::default();
    for (r, o) in rest_out.iter_mut().zip(outputs.iter_mut()) {
        *r = &mut o[begin..];
    }
    catalog_gen::batch(index, params, &rest_in[..inputs.len()], &mut rest_out[..n_outputs])
}

/// Version of the self-describing saved-state format.
pub const STREAM_FORMAT: u16 = 2;

/// A catalog indicator as a stream: skips leading bars in which an input is
/// NaN (as the batch run does), keeps the last outputs, and saves itself
/// with its name and parameters so that loading needs only the bytes.
pub struct Stream {
    index: usize,
    params: Vec<f64>,
    started: bool,
    /// Bars consumed since `started`.
    bars: u64,
    last: Vec<f64>,
    state: Box<dyn Indicator>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream({}, {:?})", self.record().name, self.params)
    }
}

impl Clone for Stream {
    fn clone(&self) -> Self {
        Stream {
            index: self.index,
            params: self.params.clone(),
            started: self.started,
            bars: self.bars,
            last: self.last.clone(),
            state: self.state.boxed_clone(),
        }
    }
}

impl Stream {
    /// A fresh stream of entry `index` with `given` parameters (see `resolve_params`).
    pub fn new(index: usize, given: &[f64]) -> Result<Self> {
        let record = record(index)?;
        let params = resolve_params(record, given)?;
        let state = build(index, &params)?;
        Ok(Stream {
            index,
            params,
            started: false,
            bars: 0,
            last: vec![f64::NAN; record.outputs.len()],
            state,
        })
    }

    /// A stream fed with `history` as `talib.stream.NAME(*history)` opens one:
    /// at least `lookback + 1` bars must remain after leading NaN bars.
    pub fn open(index: usize, given: &[f64], history: &[&[f64]]) -> Result<Self> {
        let mut stream = Stream::new(index, given)?;
        let record = stream.record();
        check_arity(record, history.len(), record.outputs.len())?;
        let n = history[0].len();
        for (k, x) in history.iter().enumerate() {
            if x.len() != n {
                return Err(Error::invalid(record.inputs[k], format!("has {} values but {} has {n}", x.len(), record.inputs[0])));
            }
        }
        let usable = n - first_complete_bar(history);
        let need = stream.lookback() + 1;
        if usable < need {
            return Err(Error::new(
                ErrorKind::InsufficientHistory,
                format!(
                    "history: {}: {usable} bars of history, at least {need} needed (a leading bar that is NaN in any input is not history)",
                    record.name
                ),
            ));
        }
        stream.feed(history, None);
        Ok(stream)
    }

    pub fn index(&self) -> usize {
        self.index
    }

    pub fn record(&self) -> &'static Record {
        &records()[self.index]
    }

    pub fn params(&self) -> &[f64] {
        &self.params
    }

    pub fn lookback(&self) -> usize {
        self.state.lookback()
    }

    /// The outputs of the last bar (NaN before any, or while warming up).
    pub fn value(&self) -> &[f64] {
        &self.last
    }

    fn check_tick(&self, tick: &[f64], out: &[f64]) -> Result<()> {
        check_arity(self.record(), tick.len(), out.len())
    }

    /// One bar, as `talib.stream`'s `update`: a bar with a value that is not
    /// finite is refused and the stream is left exactly as it was.
    pub fn update(&mut self, tick: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_tick(tick, out)?;
        if let Some(k) = tick.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(
                self.record().inputs[k],
                format!("{} is not finite: a bar must be finite (the stream is unchanged)", tick[k]),
            ));
        }
        self.step(tick, out);
        Ok(())
    }

    /// What `update` would give for `tick`, without consuming it.
    pub fn peek(&self, tick: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_tick(tick, out)?;
        if let Some(k) = tick.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(self.record().inputs[k], format!("{} is not finite", tick[k])));
        }
        if self.started {
            self.state.peek(tick, out);
        } else {
            let mut probe = self.clone();
            probe.step(tick, out);
        }
        Ok(())
    }

    #[inline]
    fn step(&mut self, tick: &[f64], out: &mut [f64]) {
        if !self.started {
            if tick.iter().any(|v| v.is_nan()) {
                out.fill(f64::NAN);
                return;
            }
            self.started = true;
        }
        self.state.update(tick, out);
        self.bars += 1;
        self.last.copy_from_slice(out);
    }

    /// Whole series with the batch run's semantics (NaN inside the data
    /// propagates as TA-Lib's arithmetic propagates it). `outputs` may be
    /// `None` to feed without keeping the results.
    pub fn feed(&mut self, inputs: &[&[f64]], mut outputs: Option<&mut [&mut [f64]]>) {
        let n = inputs.first().map_or(0, |x| x.len());
        let mut tick = vec![0.0; inputs.len()];
        let mut out = vec![0.0; self.last.len()];
        for i in 0..n {
            for (t, x) in tick.iter_mut().zip(inputs) {
                *t = x[i];
            }
            self.step(&tick, &mut out);
            if let Some(outputs) = outputs.as_deref_mut() {
                for (o, y) in outputs.iter_mut().zip(&out) {
                    o[i] = *y;
                }
            }
        }
    }

    /// Checked `feed`: as many series as the record has, all of one length.
    pub fn update_many(&mut self, inputs: &[&[f64]], outputs: &mut [&mut [f64]]) -> Result<()> {
        let record = self.record();
        check_arity(record, inputs.len(), outputs.len())?;
        let n = inputs[0].len();
        for (k, x) in inputs.iter().enumerate() {
            if x.len() != n {
                return Err(Error::invalid(record.inputs[k], format!("has {} values but {} has {n}", x.len(), record.inputs[0])));
            }
        }
        for (k, o) in outputs.iter().enumerate() {
            if o.len() != n {
                return Err(Error::invalid(record.outputs[k], format!("must hold {n} values, holds {}", o.len())));
            }
        }
        self.feed(inputs, Some(outputs));
        Ok(())
    }

    /// The self-describing saved state: `b"PYRT"`, format version 2, the
    /// indicator's name, its parameters, the framework's fields, the state's
    /// fields, and an FNV-1a checksum of everything before it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::stream_header(STREAM_FORMAT, self.record().name);
        w.f64s(&self.params).flag(self.started).u64(self.bars).f64s(&self.last);
        self.state.save(&mut w);
        w.finish()
    }

    /// Restores a stream saved by `to_bytes` (in any language).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (mut r, name) = Reader::open_stream(bytes, STREAM_FORMAT)?;
        let index = find(&name).map_err(|_| state::invalid(format!("names an unknown indicator {name:?}")))?;
        let record = record(index)?;
        let params = r.f64s(record.params.len())?;
        state::ensure(params.len() == record.params.len(), "parameter count")?;
        let checked = resolve_params(record, &params).map_err(|e| state::invalid(e.message))?;
        state::ensure(checked == params, "parameters")?;
        let mut stream = Stream::new(index, &params).map_err(|e| state::invalid(e.message))?;
        stream.started = r.flag()?;
        stream.bars = r.u64()?;
        let last = r.f64s(record.outputs.len())?;
        state::ensure(last.len() == record.outputs.len(), "last value")?;
        state::ensure(stream.started || stream.bars == 0, "bar count")?;
        stream.last = last;
        stream.state.load(&mut r)?;
        r.finish()?;
        Ok(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_default_and_are_checked_against_the_record() {
        let sma = find("SMA").unwrap();
        let record = record(sma).unwrap();
        assert_eq!(resolve_params(record, &[]).unwrap(), vec![30.0]);
        assert_eq!(resolve_params(record, &[f64::NAN]).unwrap(), vec![30.0]);
        assert_eq!(resolve_params(record, &[5.0]).unwrap(), vec![5.0]);
        let err = resolve_params(record, &[0.0]).unwrap_err();
        assert_eq!(err.message, "timeperiod: must be in [1, 100000] for SMA, got 0");
        let err = resolve_params(record, &[2.5]).unwrap_err();
        assert!(err.message.starts_with("timeperiod: must be a whole number"), "{}", err.message);
        assert!(resolve_params(record, &[5.0, 1.0]).is_err());
    }

    /// Each parameter's range ends, its default, and every value of a short
    /// whole-number range (the MA types).
    fn probe_values(p: &Param) -> Vec<f64> {
        let mut values = vec![p.min, p.default, p.max];
        if p.integer && p.max - p.min <= 10.0 {
            values.extend((p.min as i64..=p.max as i64).map(|v| v as f64));
        } else if !p.integer {
            values.push((p.min + p.max) / 2.0);
        }
        values.sort_by(f64::total_cmp);
        values.dedup();
        values
    }

    #[test]
    fn the_generated_check_refuses_exactly_what_the_constructor_refuses() {
        // `run` checks parameters with `catalog_gen::check` instead of
        // building the state: an indicator whose constructor refuses more
        // than its ranges and MA types must say so there.
        for (index, record) in records().iter().enumerate() {
            let mut sets: Vec<Vec<f64>> = vec![vec![]];
            for p in record.params {
                sets = sets
                    .iter()
                    .flat_map(|set| probe_values(p).into_iter().map(move |v| [set.clone(), vec![v]].concat()))
                    .collect();
            }
            for params in sets {
                let built = build(index, &params).map(|_| ()).map_err(|e| e.message);
                let checked = catalog_gen::check(index, &params).map_err(|e| e.message);
                assert_eq!(built, checked, "{} {params:?}", record.name);
            }
        }
    }

    #[test]
    fn a_refused_run_writes_no_output() {
        let bbands = find("BBANDS").unwrap();
        let x = [1.0, 2.0, 3.0, 4.0];
        let (mut u, mut m, mut l) = ([7.0; 4], [7.0; 4], [7.0; 4]);
        let err = run(bbands, &[2.0, 2.0, 2.0, 7.0], &[&x], &mut [&mut u, &mut m, &mut l]).unwrap_err();
        assert!(err.message.starts_with("matype: "), "{}", err.message);
        assert_eq!((u, m, l), ([7.0; 4], [7.0; 4], [7.0; 4]));
        let leading_nan = [f64::NAN, 2.0, 3.0, 4.0];
        run(bbands, &[2.0, 2.0, 2.0, 7.0], &[&leading_nan], &mut [&mut u, &mut m, &mut l]).unwrap_err();
        assert_eq!((u, m, l), ([7.0; 4], [7.0; 4], [7.0; 4]));
    }

    #[test]
    fn unknown_names_are_not_found() {
        let err = find("NOPE").unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
    }

    #[test]
    fn batch_skips_leading_nans_and_short_series_are_all_nan() {
        let sma = find("SMA").unwrap();
        let x = [f64::NAN, 1.0, 2.0, 3.0, 4.0];
        let mut out = vec![0.0; 5];
        run(sma, &[2.0], &[&x], &mut [&mut out]).unwrap();
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(&out[2..], &[1.5, 2.5, 3.5]);
        let mut short = vec![0.0; 2];
        run(sma, &[5.0], &[&x[..2]], &mut [&mut short]).unwrap();
        assert!(short.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn saved_state_names_the_indicator_and_resumes() {
        let ema = find("EMA").unwrap();
        let x: Vec<f64> = (0..50).map(|i| (i as f64 * 0.3).sin() + 10.0).collect();
        let mut whole = Stream::new(ema, &[7.0]).unwrap();
        let mut expected = vec![0.0; 50];
        whole.update_many(&[&x], &mut [&mut expected]).unwrap();
        let mut first = Stream::new(ema, &[7.0]).unwrap();
        first.feed(&[&x[..20]], None);
        let mut resumed = Stream::from_bytes(&first.to_bytes()).unwrap();
        assert_eq!(resumed.params(), &[7.0]);
        let mut rest = vec![0.0; 30];
        resumed.update_many(&[&x[20..]], &mut [&mut rest]).unwrap();
        assert_eq!(&expected[20..], &rest[..]);
        let mut bytes = first.to_bytes();
        let last = bytes.len() - 9;
        bytes[last] ^= 1;
        assert_eq!(Stream::from_bytes(&bytes).unwrap_err().kind, ErrorKind::InvalidState);
    }

    #[test]
    fn every_truncation_of_saved_bytes_is_refused() {
        let sma = find("SMA").unwrap();
        let mut s = Stream::new(sma, &[5.0]).unwrap();
        s.feed(&[&[1.0, 2.0, 3.0]], None);
        let bytes = s.to_bytes();
        for cut in 0..bytes.len() {
            assert_eq!(Stream::from_bytes(&bytes[..cut]).unwrap_err().kind, ErrorKind::InvalidState, "cut {cut}");
        }
        assert!(Stream::from_bytes(&bytes).is_ok());
    }

    #[test]
    fn update_refuses_a_bar_that_is_not_finite_and_keeps_its_state() {
        let sma = find("SMA").unwrap();
        let mut s = Stream::open(sma, &[2.0], &[&[1.0, 2.0]]).unwrap();
        assert_eq!(s.value(), &[1.5]);
        let mut out = [0.0];
        assert!(s.update(&[f64::NAN], &mut out).is_err());
        assert_eq!(s.value(), &[1.5]);
        s.update(&[4.0], &mut out).unwrap();
        assert_eq!(out, [3.0]);
        let short = Stream::open(sma, &[3.0], &[&[f64::NAN, 1.0, 2.0]]).unwrap_err();
        assert_eq!(short.kind, ErrorKind::InsufficientHistory);
    }
}
