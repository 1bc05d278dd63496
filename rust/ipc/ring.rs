//! The single-producer / single-consumer ring over a shared mapping.
//!
//! Protocol (the classic Lamport queue with monotonically increasing cursors):
//! the producer writes records into free slots, then publishes them with a
//! release store of the producer cursor; the consumer reads the producer
//! cursor with acquire, copies the records out, then frees the slots with a
//! release store of the consumer cursor, which the producer reads with
//! acquire before reusing them. A ring of capacity C holds exactly C records:
//! `producer - consumer` ranges over 0..=C, so full and empty never look alike.
//!
//! Each side caches the other side's cursor and re-reads it only when the
//! cached value says "full" (producer) or "empty" (consumer), so the hot path
//! touches one shared cache line per call.
//!
//! Both cursors live in the shared memory: a consumer that dies and re-opens
//! the ring continues at the first record it had not popped, and a producer
//! that re-opens continues after the last record it published.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{compiler_fence, AtomicU64, Ordering};

use super::layout::*;
use super::shm::{Mapping, RingMemory};
use crate::error::{Error, ErrorKind, Result};

/// A handle on a named ring. Any handle can push and pop; the contract is one
/// pushing handle and one popping handle at a time, in any processes.
pub struct Ring {
    memory: RingMemory,
    what: String,
    capacity: u64,
    /// Producer side: the consumer cursor as last seen (a lower bound).
    seen_consumer: u64,
    /// Consumer side: the producer cursor as last seen (a lower bound).
    seen_producer: u64,
}

fn describe(name: &str) -> String {
    format!("ring {name:?}")
}

impl Ring {
    /// Creates and initialises the ring `name` (shared-memory object "/name")
    /// with room for `capacity` records. Fails if the name already exists.
    pub fn create(name: &str, capacity: u64) -> Result<Ring> {
        let object = shm_object_name(name)?;
        validate_capacity(capacity)?;
        let what = describe(name);
        let map = Mapping::create(&object, region_size(capacity), &what)?;
        // ftruncate zero-filled the region: cursors start at 0. The magic is
        // stored last, with release, so a concurrent `open` either sees no
        // magic (and refuses) or a complete header.
        map.atomic_u32(VERSION_OFFSET).store(RING_LAYOUT_VERSION, Relaxed);
        map.atomic_u32(RECORD_SIZE_OFFSET).store(RECORD_SIZE as u32, Relaxed);
        map.atomic_u64(CAPACITY_OFFSET).store(capacity, Relaxed);
        map.atomic_u64(RECORDS_OFFSET_OFFSET).store(RECORDS_OFFSET as u64, Relaxed);
        map.atomic_u64(MAGIC_OFFSET).store(RING_MAGIC, Release);
        Ok(Ring::attach(map, what, capacity))
    }

    /// Attaches to the existing ring `name`, refusing any region that is not
    /// a ring of this layout (size checked first, then magic, version, record
    /// size, capacity and the size the capacity implies).
    pub fn open(name: &str) -> Result<Ring> {
        let object = shm_object_name(name)?;
        let what = describe(name);
        let map = Mapping::open(&object, RECORDS_OFFSET, &what)?;
        let header = Header {
            magic: map.atomic_u64(MAGIC_OFFSET).load(Acquire),
            version: map.atomic_u32(VERSION_OFFSET).load(Relaxed),
            record_size: map.atomic_u32(RECORD_SIZE_OFFSET).load(Relaxed),
            capacity: map.atomic_u64(CAPACITY_OFFSET).load(Relaxed),
            records_offset: map.atomic_u64(RECORDS_OFFSET_OFFSET).load(Relaxed),
        };
        if map.lost() {
            return Err(Error::new(ErrorKind::BadLayout, format!("{what}: truncated by another process while opening")));
        }
        validate_header(&header, map.len(), &what)?;
        let ring = Ring::attach(map, what, header.capacity);
        // Consumer first: the producer cursor read after it is at least as large.
        let consumer = ring.consumer().load(Acquire);
        ring.consistent(ring.producer().load(Acquire), consumer)?;
        ring.intact()?;
        Ok(ring)
    }

    /// Removes the name `name`. Handles already open keep working; the memory
    /// is freed when the last one closes.
    pub fn unlink(name: &str) -> Result<()> {
        let object = shm_object_name(name)?;
        Mapping::unlink(&object, &describe(name))
    }

    /// `capacity` was validated against the mapping's size.
    fn attach(map: Mapping, what: String, capacity: u64) -> Ring {
        let memory = RingMemory::new(map, capacity);
        let mut ring = Ring { memory, what, capacity, seen_consumer: 0, seen_producer: 0 };
        ring.seen_consumer = ring.consumer().load(Acquire);
        ring.seen_producer = ring.producer().load(Acquire);
        ring
    }

    #[inline(always)]
    fn producer(&self) -> &AtomicU64 {
        self.memory.producer()
    }

    #[inline(always)]
    fn consumer(&self) -> &AtomicU64 {
        self.memory.consumer()
    }

    /// Fails once another process has shrunk the ring's memory under this
    /// handle (see `guard`): whatever the call just read or wrote was not
    /// the ring's, and nothing this handle does will be again.
    ///
    /// The flag is set by the SIGBUS handler, which runs on this thread in
    /// the middle of the faulting copy: the compiler fence (no instruction)
    /// keeps the check after the call's accesses to the ring, as a signal
    /// handler's writes are ordered only by such a fence.
    #[inline(always)]
    fn intact(&self) -> Result<()> {
        if !self.is_intact() {
            return Err(self.truncated());
        }
        Ok(())
    }

    #[inline(always)]
    fn is_intact(&self) -> bool {
        compiler_fence(Ordering::SeqCst);
        !self.memory.lost()
    }

    #[cold]
    #[inline(never)]
    fn truncated(&self) -> Error {
        Error::new(
            ErrorKind::BadLayout,
            format!(
                "{}: its shared memory was truncated by another process; this handle no longer \
                 reaches the ring (close it; the ring must be created again)",
                self.what
            ),
        )
    }

    /// Cursors written by something other than a pyrt ring peer are refused
    /// rather than trusted.
    fn consistent(&self, producer: u64, consumer: u64) -> Result<u64> {
        let count = producer.wrapping_sub(consumer);
        if count > self.capacity {
            // Zero pages after a truncation read as cursors too: say what happened.
            self.intact()?;
            return Err(Error::new(
                ErrorKind::BadLayout,
                format!(
                    "{}: cursors are inconsistent (producer {producer}, consumer {consumer}, capacity {})",
                    self.what, self.capacity
                ),
            ));
        }
        Ok(count)
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Records currently in the ring (a snapshot when the peer is active).
    pub fn len(&self) -> Result<u64> {
        // Consumer first: the producer cursor read after it is at least as large.
        let consumer = self.consumer().load(Acquire);
        let producer = self.producer().load(Acquire);
        self.intact()?;
        Ok(producer.wrapping_sub(consumer).min(self.capacity))
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Free slots for a producer at `producer`, re-reading the consumer
    /// cursor only when the cached one leaves fewer than `wanted` (or is
    /// stale beyond use, after another handle produced).
    #[inline(always)]
    fn free_slots(&mut self, producer: u64, wanted: u64) -> Result<u64> {
        let used = producer.wrapping_sub(self.seen_consumer);
        if used <= self.capacity && self.capacity - used >= wanted {
            return Ok(self.capacity - used);
        }
        self.refresh_free_slots(producer)
    }

    /// The slow half of `free_slots`, out of line so that the hot path of a
    /// push stays small enough to be inlined into its entry point.
    #[inline(never)]
    fn refresh_free_slots(&mut self, producer: u64) -> Result<u64> {
        self.seen_consumer = self.consumer().load(Acquire);
        Ok(self.capacity - self.consistent(producer, self.seen_consumer)?)
    }

    /// Records ready for a consumer at `consumer`, re-reading the producer
    /// cursor only when the cached one shows fewer than `wanted` (or is stale
    /// beyond use, after another handle consumed).
    #[inline(always)]
    fn ready_records(&mut self, consumer: u64, wanted: u64) -> Result<u64> {
        let ready = self.seen_producer.wrapping_sub(consumer);
        if ready <= self.capacity && ready >= wanted {
            return Ok(ready);
        }
        self.refresh_ready_records(consumer)
    }

    #[inline(never)]
    fn refresh_ready_records(&mut self, consumer: u64) -> Result<u64> {
        self.seen_producer = self.producer().load(Acquire);
        self.consistent(self.seen_producer, consumer)
    }

    /// Appends one record; `Ok(false)` when the ring is full (nothing written).
    #[inline(always)]
    pub fn push(&mut self, record: &PyrtMarketDataRecord) -> Result<bool> {
        let producer = self.producer().load(Acquire);
        if self.free_slots(producer, 1)? == 0 {
            self.intact()?;
            return Ok(false);
        }
        self.memory.write_record(producer, record);
        self.producer().store(producer.wrapping_add(1), Release);
        self.intact()?;
        Ok(true)
    }

    /// `push` for the case that needs nothing else: true when the record
    /// was appended, with room shown by the cached consumer cursor and the
    /// mapping intact afterwards. False when the cache shows no room (then
    /// nothing was written) or the mapping is lost (then the record went to
    /// the zero pages that replaced it): `push` then says what happened.
    /// No branch here can fail or panic.
    #[inline(always)]
    pub fn try_push(&mut self, record: &PyrtMarketDataRecord) -> bool {
        let producer = self.producer().load(Acquire);
        if producer.wrapping_sub(self.seen_consumer) >= self.capacity {
            return false;
        }
        self.memory.write_record(producer, record);
        self.producer().store(producer.wrapping_add(1), Release);
        self.is_intact()
    }

    /// Takes the oldest record; `Ok(None)` when the ring is empty.
    #[inline(always)]
    pub fn pop(&mut self) -> Result<Option<PyrtMarketDataRecord>> {
        let consumer = self.consumer().load(Acquire);
        if self.ready_records(consumer, 1)? == 0 {
            self.intact()?;
            return Ok(None);
        }
        let record = self.memory.read_record(consumer);
        self.consumer().store(consumer.wrapping_add(1), Release);
        self.intact()?;
        Ok(Some(record))
    }

    /// Appends as many of `records` as fit, in order, with at most two copies
    /// and one cursor update; returns how many were taken (0 when full).
    pub fn push_batch(&mut self, records: &[PyrtMarketDataRecord]) -> Result<usize> {
        if records.is_empty() {
            return Ok(0);
        }
        let producer = self.producer().load(Acquire);
        let free = self.free_slots(producer, records.len() as u64)?;
        let n = (records.len() as u64).min(free) as usize;
        if n == 0 {
            self.intact()?;
            return Ok(0);
        }
        self.memory.write_records(producer, &records[..n]);
        self.producer().store(producer.wrapping_add(n as u64), Release);
        self.intact()?;
        Ok(n)
    }

    /// Moves up to `out.len()` of the oldest records into `out`, with at most
    /// two copies and one cursor update; returns how many (0 when empty).
    pub fn pop_batch(&mut self, out: &mut [PyrtMarketDataRecord]) -> Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let consumer = self.consumer().load(Acquire);
        let ready = self.ready_records(consumer, out.len() as u64)?;
        let n = (out.len() as u64).min(ready) as usize;
        if n == 0 {
            self.intact()?;
            return Ok(0);
        }
        self.memory.read_records(consumer, &mut out[..n]);
        self.consumer().store(consumer.wrapping_add(n as u64), Release);
        self.intact()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, Instant};

    static COUNTER: AtomicU32 = AtomicU32::new(0);

    /// A unique name, unlinked when dropped.
    struct TempName(String);

    impl TempName {
        fn new(tag: &str) -> TempName {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            TempName(format!("pyrt-rust-{tag}-{}-{n}", std::process::id()))
        }
    }

    impl Drop for TempName {
        fn drop(&mut self) {
            let _ = Ring::unlink(&self.0);
        }
    }

    fn rec(seq: u64) -> PyrtMarketDataRecord {
        PyrtMarketDataRecord::new((seq % 97) as u32, seq as f64 * 0.5, seq as f64 + 1.0, seq)
    }

    fn shm_path(name: &str) -> String {
        format!("/dev/shm/{name}")
    }

    #[test]
    fn holds_exactly_capacity_and_refuses_more_without_overwriting() {
        let name = TempName::new("full");
        let mut ring = Ring::create(&name.0, 4).unwrap();
        for i in 0..4 {
            assert!(ring.push(&rec(i)).unwrap());
        }
        assert_eq!(ring.len().unwrap(), 4);
        assert!(!ring.push(&rec(99)).unwrap());
        assert_eq!(ring.push_batch(&[rec(100), rec(101)]).unwrap(), 0);
        for i in 0..4 {
            assert_eq!(ring.pop().unwrap(), Some(rec(i)));
        }
        assert_eq!(ring.pop().unwrap(), None);
        assert!(ring.is_empty().unwrap());
    }

    #[test]
    fn batches_wrap_around_in_order() {
        let name = TempName::new("wrap");
        let mut ring = Ring::create(&name.0, 8).unwrap();
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        let mut out = [PyrtMarketDataRecord::default(); 5];
        for round in 0..50 {
            let batch: Vec<_> = (next_in..next_in + 3 + round % 5).map(rec).collect();
            let pushed = ring.push_batch(&batch).unwrap();
            assert_eq!(&batch[..pushed], &(next_in..next_in + pushed as u64).map(rec).collect::<Vec<_>>()[..]);
            next_in += pushed as u64;
            let popped = ring.pop_batch(&mut out).unwrap();
            for r in &out[..popped] {
                assert_eq!(*r, rec(next_out));
                next_out += 1;
            }
            assert_eq!(ring.len().unwrap(), next_in - next_out);
        }
        assert!(next_out > 100);
    }

    #[test]
    fn a_reopened_consumer_continues_where_the_last_one_stopped() {
        let name = TempName::new("resume");
        let mut producer = Ring::create(&name.0, 16).unwrap();
        for i in 0..10 {
            producer.push(&rec(i)).unwrap();
        }
        let mut first = Ring::open(&name.0).unwrap();
        for i in 0..4 {
            assert_eq!(first.pop().unwrap(), Some(rec(i)));
        }
        drop(first);
        let mut second = Ring::open(&name.0).unwrap();
        let mut out = [PyrtMarketDataRecord::default(); 16];
        assert_eq!(second.pop_batch(&mut out).unwrap(), 6);
        assert_eq!(out[0], rec(4));
        assert_eq!(out[5], rec(9));
        // A producer that re-opens continues after the last published record.
        drop(producer);
        let mut producer = Ring::open(&name.0).unwrap();
        producer.push(&rec(10)).unwrap();
        assert_eq!(second.pop().unwrap(), Some(rec(10)));
    }

    #[test]
    fn handles_may_take_turns_as_producer_and_consumer() {
        let name = TempName::new("turns");
        let mut a = Ring::create(&name.0, 4).unwrap();
        let mut b = Ring::open(&name.0).unwrap();
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        // Each round another handle produces and another consumes, so every
        // cached cursor is far behind the shared one.
        for round in 0..40u64 {
            let (producer, consumer) = if round % 3 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
            for _ in 0..3 {
                assert!(producer.push(&rec(next_in)).unwrap());
                next_in += 1;
            }
            let mut out = [PyrtMarketDataRecord::default(); 3];
            assert_eq!(consumer.pop_batch(&mut out).unwrap(), 3);
            for r in out {
                assert_eq!(r, rec(next_out));
                next_out += 1;
            }
        }
    }

    #[test]
    fn create_refuses_an_existing_name_and_open_a_missing_one() {
        let name = TempName::new("exists");
        let _ring = Ring::create(&name.0, 2).unwrap();
        let err = Ring::create(&name.0, 2).err().unwrap();
        assert!(err.message.starts_with("name: ") && err.message.contains("already exists"), "{}", err.message);
        Ring::unlink(&name.0).unwrap();
        let err = Ring::open(&name.0).err().unwrap();
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert!(err.message.contains("does not exist"), "{}", err.message);
        assert!(Ring::unlink(&name.0).is_err());
    }

    #[test]
    fn open_refuses_garbage_truncated_and_empty_regions() {
        let name = TempName::new("garbage");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "smaller than a ring header"),
            (vec![0xAB; 100], "smaller than a ring header"),
            (vec![0xAB; 4096], "not a pyrt ring"),
            (vec![0; 192 + 32 * 4], "not a pyrt ring"),
        ];
        for (bytes, words) in cases {
            std::fs::write(shm_path(&name.0), &bytes).unwrap();
            let err = Ring::open(&name.0).err().unwrap();
            assert_eq!(err.kind, ErrorKind::BadLayout, "{}", err.message);
            assert!(err.message.contains(words), "{} lacks {words}", err.message);
        }
        // A real ring, truncated.
        std::fs::remove_file(shm_path(&name.0)).unwrap();
        drop(Ring::create(&name.0, 8).unwrap());
        let bytes = std::fs::read(shm_path(&name.0)).unwrap();
        std::fs::write(shm_path(&name.0), &bytes[..bytes.len() - 32]).unwrap();
        let err = Ring::open(&name.0).err().unwrap();
        assert!(err.message.contains("needs exactly"), "{}", err.message);
        // Wrong version, then corrupt cursors.
        let mut bad = bytes.clone();
        bad[8] = 9;
        std::fs::write(shm_path(&name.0), &bad).unwrap();
        assert!(Ring::open(&name.0).err().unwrap().message.contains("version 9"));
        let mut bad = bytes.clone();
        bad[64..72].copy_from_slice(&100u64.to_le_bytes());
        std::fs::write(shm_path(&name.0), &bad).unwrap();
        assert!(Ring::open(&name.0).err().unwrap().message.contains("cursors are inconsistent"));
    }

    #[test]
    fn a_producer_and_a_consumer_thread_move_every_record_once_in_order() {
        let name = TempName::new("stress");
        let total: u64 = 5_000_000;
        let mut producer = Ring::create(&name.0, 1024).unwrap();
        let mut consumer = Ring::open(&name.0).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let writer = std::thread::spawn(move || {
            let mut next = 0u64;
            let mut batch = Vec::with_capacity(64);
            while next < total {
                assert!(Instant::now() < deadline, "producer timed out at {next}");
                // Alternate single pushes and batches of varying size.
                let before = next;
                if next % 3 == 0 {
                    if producer.push(&rec(next)).unwrap() {
                        next += 1;
                    }
                } else {
                    let size = 1 + (next % 61);
                    batch.clear();
                    batch.extend((next..(next + size).min(total)).map(rec));
                    next += producer.push_batch(&batch).unwrap() as u64;
                }
                if next == before {
                    // Full: let the consumer run if both share a CPU.
                    std::thread::yield_now();
                }
            }
        });
        let mut expected = 0u64;
        let mut out = vec![PyrtMarketDataRecord::default(); 100];
        while expected < total {
            assert!(Instant::now() < deadline, "consumer timed out at {expected}");
            if consumer.is_empty().unwrap() {
                std::thread::yield_now();
            }
            if expected % 2 == 0 {
                if let Some(r) = consumer.pop().unwrap() {
                    assert_eq!(r, rec(expected));
                    expected += 1;
                }
            } else {
                let want = 1 + (expected % 100) as usize;
                let n = consumer.pop_batch(&mut out[..want]).unwrap();
                for r in &out[..n] {
                    assert_eq!(*r, rec(expected));
                    expected += 1;
                }
            }
        }
        writer.join().unwrap();
        assert_eq!(consumer.pop().unwrap(), None);
    }

    #[test]
    fn a_ring_shrunk_by_another_process_fails_instead_of_killing() {
        let name = TempName::new("shrunk");
        let mut producer = Ring::create(&name.0, 1024).unwrap();
        let mut consumer = Ring::open(&name.0).unwrap();
        for i in 0..10 {
            producer.push(&rec(i)).unwrap();
        }
        // What `os.truncate` from another process does to the object.
        std::fs::OpenOptions::new().write(true).open(shm_path(&name.0)).unwrap().set_len(0).unwrap();
        for result in [producer.push(&rec(10)).map(|_| ()), consumer.pop().map(|_| ()), producer.len().map(|_| ())] {
            let err = result.unwrap_err();
            assert_eq!(err.kind, ErrorKind::BadLayout);
            assert!(err.message.contains("truncated by another process"), "{}", err.message);
        }
        let mut out = [PyrtMarketDataRecord::default(); 4];
        assert!(consumer.pop_batch(&mut out).is_err());
        assert!(producer.push_batch(&[rec(1)]).is_err());
        // Re-opening the shrunk object is refused by its size.
        assert_eq!(Ring::open(&name.0).err().unwrap().kind, ErrorKind::BadLayout);
    }

    #[test]
    fn a_ring_larger_than_the_free_shared_memory_is_refused_at_creation() {
        let name = TempName::new("huge");
        let err = Ring::create(&name.0, MAX_CAPACITY).err().unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidArgument, "{}", err.message);
        assert!(err.message.starts_with("capacity: "), "{}", err.message);
    }
}
