//! The binary layout of a ring in shared memory, version 1.
//!
//! Every process that maps a ring, in any language, agrees on these offsets.
//! All integers are native-endian (little-endian on every supported target);
//! the region is `RECORDS_OFFSET + capacity * RECORD_SIZE` bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0   | 8  | magic `RING_MAGIC` (the bytes "PYRTRING") |
//! | 8   | 4  | layout version `RING_LAYOUT_VERSION` |
//! | 12  | 4  | record size in bytes (32) |
//! | 16  | 8  | capacity in records (a power of two) |
//! | 24  | 8  | offset of the first record (192) |
//! | 32  | 32 | reserved, zero |
//! | 64  | 8  | producer cursor: records ever pushed (its own 64-byte line) |
//! | 128 | 8  | consumer cursor: records ever popped (its own 64-byte line) |
//! | 192 | capacity * 32 | the records; record `i` lives in slot `i & (capacity - 1)` |
//!
//! The cursors only grow; `producer - consumer` is the number of records in
//! the ring, between 0 and capacity.

/// "PYRTRING" read as a little-endian u64.
pub(crate) const RING_MAGIC: u64 = u64::from_le_bytes(*b"PYRTRING");
/// Bumped whenever any offset or the record layout changes.
pub(crate) const RING_LAYOUT_VERSION: u32 = 1;

pub(crate) const MAGIC_OFFSET: usize = 0;
pub(crate) const VERSION_OFFSET: usize = 8;
pub(crate) const RECORD_SIZE_OFFSET: usize = 12;
pub(crate) const CAPACITY_OFFSET: usize = 16;
pub(crate) const RECORDS_OFFSET_OFFSET: usize = 24;
/// Each cursor sits alone on a 64-byte cache line, so the producer's and the
/// consumer's writes never contend for the same line.
pub(crate) const PRODUCER_CURSOR_OFFSET: usize = 64;
pub(crate) const CONSUMER_CURSOR_OFFSET: usize = 128;
pub(crate) const RECORDS_OFFSET: usize = 192;

/// The largest capacity a ring may have (2^30 records, 32 GiB of records).
pub(crate) const MAX_CAPACITY: u64 = 1 << 30;
/// A POSIX shared-memory name may be at most NAME_MAX (255) bytes.
pub(crate) const MAX_NAME_LEN: usize = 255;

/// One market-data record, exactly as it lies in shared memory (32 bytes).
///
/// The padding after `symbol_id` is an explicit field so that every byte of
/// the record is defined: a record copied out of a ring never carries
/// uninitialised bytes, and every bit pattern is a valid record.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PyrtMarketDataRecord {
    /// The instrument's numeric id.
    pub symbol_id: u32,
    /// Padding to align `price`; written as 0 by pyrt, ignored on read.
    pub _pad: u32,
    /// Price of the tick.
    pub price: f64,
    /// Volume of the tick.
    pub volume: f64,
    /// Microseconds since an epoch the producer chooses.
    pub timestamp_us: u64,
}

pub(crate) const RECORD_SIZE: usize = std::mem::size_of::<PyrtMarketDataRecord>();

const _: () = {
    assert!(RECORD_SIZE == 32);
    assert!(std::mem::align_of::<PyrtMarketDataRecord>() == 8);
    assert!(std::mem::offset_of!(PyrtMarketDataRecord, symbol_id) == 0);
    assert!(std::mem::offset_of!(PyrtMarketDataRecord, _pad) == 4);
    assert!(std::mem::offset_of!(PyrtMarketDataRecord, price) == 8);
    assert!(std::mem::offset_of!(PyrtMarketDataRecord, volume) == 16);
    assert!(std::mem::offset_of!(PyrtMarketDataRecord, timestamp_us) == 24);
    assert!(PRODUCER_CURSOR_OFFSET % 64 == 0 && CONSUMER_CURSOR_OFFSET % 64 == 0);
    assert!(CONSUMER_CURSOR_OFFSET - PRODUCER_CURSOR_OFFSET >= 64);
    assert!(RECORDS_OFFSET - CONSUMER_CURSOR_OFFSET >= 64);
};

impl PyrtMarketDataRecord {
    pub fn new(symbol_id: u32, price: f64, volume: f64, timestamp_us: u64) -> Self {
        PyrtMarketDataRecord { symbol_id, _pad: 0, price, volume, timestamp_us }
    }
}

/// Bytes of a ring region holding `capacity` records.
pub fn region_size(capacity: u64) -> usize {
    RECORDS_OFFSET + capacity as usize * RECORD_SIZE
}

/// The header fields of a region, read before anything else is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub magic: u64,
    pub version: u32,
    pub record_size: u32,
    pub capacity: u64,
    pub records_offset: u64,
}

/// Accepts a header only if it describes a ring of this layout that fits a
/// region of `region_len` bytes exactly. `what` names the region in errors.
pub fn validate_header(header: &Header, region_len: usize, what: &str) -> crate::Result<()> {
    use crate::error::{Error, ErrorKind};
    let bad = |reason: String| Err(Error::new(ErrorKind::BadLayout, format!("{what}: {reason}")));
    if header.magic != RING_MAGIC {
        return bad(format!(
            "not a pyrt ring (magic {:#018x}, expected {RING_MAGIC:#018x})",
            header.magic
        ));
    }
    if header.version != RING_LAYOUT_VERSION {
        return bad(format!(
            "ring layout version {} is not supported (this pyrt reads version {RING_LAYOUT_VERSION})",
            header.version
        ));
    }
    if header.record_size as usize != RECORD_SIZE {
        return bad(format!("record size {} bytes, expected {RECORD_SIZE}", header.record_size));
    }
    if header.records_offset as usize != RECORDS_OFFSET {
        return bad(format!("records start at byte {}, expected {RECORDS_OFFSET}", header.records_offset));
    }
    if !header.capacity.is_power_of_two() || header.capacity > MAX_CAPACITY {
        return bad(format!(
            "capacity {} is not a power of two between 1 and {MAX_CAPACITY}",
            header.capacity
        ));
    }
    let expected = region_size(header.capacity);
    if region_len != expected {
        return bad(format!(
            "region is {region_len} bytes, but a ring of capacity {} needs exactly {expected}",
            header.capacity
        ));
    }
    Ok(())
}

/// Checks a ring name and returns its POSIX shared-memory object name:
/// "ticks" -> "/ticks" (on Linux the file /dev/shm/ticks).
pub fn shm_object_name(name: &str) -> crate::Result<String> {
    use crate::error::Error;
    if name.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::invalid("name", format!("must be at most {MAX_NAME_LEN} bytes, got {}", name.len())));
    }
    if name.contains('/') {
        return Err(Error::invalid("name", format!("must not contain '/', got {name:?}")));
    }
    if name.contains('\0') {
        return Err(Error::invalid("name", "must not contain a NUL byte"));
    }
    if name == "." || name == ".." {
        return Err(Error::invalid("name", format!("{name:?} is not a valid shared-memory name")));
    }
    Ok(format!("/{name}"))
}

/// Checks a capacity for `create`.
pub fn validate_capacity(capacity: u64) -> crate::Result<()> {
    if !capacity.is_power_of_two() || capacity > MAX_CAPACITY {
        return Err(crate::Error::invalid(
            "capacity",
            format!("must be a power of two between 1 and {MAX_CAPACITY}, got {capacity}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn good(capacity: u64) -> Header {
        Header {
            magic: RING_MAGIC,
            version: RING_LAYOUT_VERSION,
            record_size: RECORD_SIZE as u32,
            capacity,
            records_offset: RECORDS_OFFSET as u64,
        }
    }

    #[test]
    fn magic_spells_pyrtring() {
        assert_eq!(&RING_MAGIC.to_le_bytes(), b"PYRTRING");
    }

    #[test]
    fn a_good_header_passes() {
        assert!(validate_header(&good(8), region_size(8), "ring").is_ok());
        assert_eq!(region_size(8), 192 + 8 * 32);
    }

    #[test]
    fn each_bad_field_is_a_bad_layout_naming_it() {
        let cases: Vec<(Header, usize, &str)> = vec![
            (Header { magic: 0, ..good(8) }, region_size(8), "magic"),
            (Header { version: 2, ..good(8) }, region_size(8), "version"),
            (Header { record_size: 24, ..good(8) }, region_size(8), "record size"),
            (Header { records_offset: 16, ..good(8) }, region_size(8), "records start"),
            (good(6), region_size(6), "power of two"),
            (good(0), region_size(0), "power of two"),
            (good(8), region_size(8) - 1, "needs exactly"),
            (good(8), region_size(16), "needs exactly"),
        ];
        for (header, len, words) in cases {
            let err = validate_header(&header, len, "ring \"x\"").unwrap_err();
            assert_eq!(err.kind, ErrorKind::BadLayout);
            assert!(err.message.starts_with("ring \"x\": "), "{}", err.message);
            assert!(err.message.contains(words), "{} lacks {words}", err.message);
        }
    }

    #[test]
    fn names_map_to_slash_names_and_bad_ones_are_refused() {
        assert_eq!(shm_object_name("ticks").unwrap(), "/ticks");
        for bad in ["", "a/b", "/x", ".", "..", "a\0b"] {
            let err = shm_object_name(bad).unwrap_err();
            assert!(err.message.starts_with("name: "), "{}", err.message);
        }
        assert!(shm_object_name(&"n".repeat(255)).is_ok());
        assert!(shm_object_name(&"n".repeat(256)).is_err());
    }

    #[test]
    fn capacities_must_be_powers_of_two() {
        for ok in [1u64, 2, 1024, MAX_CAPACITY] {
            assert!(validate_capacity(ok).is_ok());
        }
        for bad in [0u64, 3, 1000, MAX_CAPACITY * 2] {
            assert!(validate_capacity(bad).unwrap_err().message.starts_with("capacity: "));
        }
    }
}
