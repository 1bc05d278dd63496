//! The last `capacity` values of a stream, oldest first: what a windowed
//! TA-Lib loop reads back (`inReal[today - k]`) expressed for a stream.

use super::state::{ensure, Reader, Writer};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    values: Vec<f64>,
    /// Where the next value goes (the oldest one once full).
    next: usize,
    len: usize,
}

impl Window {
    /// An empty window keeping at most `capacity` (>= 1) values.
    pub fn new(capacity: usize) -> Self {
        Window { values: vec![0.0; capacity.max(1)], next: 0, len: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.values.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == self.values.len()
    }

    /// Appends `x`; once full, returns the value it pushes out.
    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        let cap = self.values.len();
        let old = std::mem::replace(&mut self.values[self.next], x);
        self.next = if self.next + 1 == cap { 0 } else { self.next + 1 };
        if self.len == cap {
            Some(old)
        } else {
            self.len += 1;
            None
        }
    }

    /// The value `age` steps back: `ago(0)` is the newest. `age < len()`.
    #[inline]
    pub fn ago(&self, age: usize) -> f64 {
        debug_assert!(age < self.len);
        let cap = self.values.len();
        // next < cap and age < cap: one conditional subtraction wraps it
        // (a `%` here costs a division on every read).
        let mut slot = self.next + cap - 1 - age;
        if slot >= cap {
            slot -= cap;
        }
        self.values[slot]
    }

    /// The `k`-th oldest value kept: `get(0)` is the oldest. `k < len()`.
    #[inline]
    pub fn get(&self, k: usize) -> f64 {
        self.ago(self.len - 1 - k)
    }

    /// The kept values, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.len).map(move |k| self.get(k))
    }

    pub fn save(&self, w: &mut Writer) {
        let kept: Vec<f64> = self.iter().collect();
        w.f64s(&kept);
    }

    /// Reads what `save` wrote into this (empty, same-capacity) window.
    pub fn load(&mut self, r: &mut Reader) -> Result<()> {
        let kept = r.f64s(self.capacity())?;
        ensure(kept.len() <= self.capacity(), "window longer than its capacity")?;
        let cap = self.capacity();
        *self = Window::new(cap);
        for x in kept {
            self.push(x);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_values_in_order() {
        let mut w = Window::new(3);
        assert_eq!(w.push(1.0), None);
        assert_eq!(w.push(2.0), None);
        assert_eq!(w.push(3.0), None);
        assert_eq!(w.push(4.0), Some(1.0));
        assert_eq!(w.iter().collect::<Vec<_>>(), vec![2.0, 3.0, 4.0]);
        assert_eq!((w.ago(0), w.ago(2), w.get(0)), (4.0, 2.0, 2.0));
    }
}
