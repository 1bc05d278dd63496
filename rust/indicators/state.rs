//! The byte format streaming indicators save their state in:
//! `b"PYRT"`, format version (u16), the indicator's name (u64 length, UTF-8),
//! its parameters, then the framework's and the state's fields, all
//! little-endian (integers as u64, floats as f64 bit patterns, flags as u8),
//! then a 64-bit FNV-1a checksum of everything before it. Decoding checks the
//! checksum and every length and value, so foreign or damaged bytes are an
//! `InvalidState` error, never a crash or a state that misbehaves later.

use crate::error::{Error, ErrorKind, Result};

pub const MAGIC: [u8; 4] = *b"PYRT";

pub fn invalid(reason: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidState, format!("state: {reason}"))
}

pub struct Writer(Vec<u8>);

impl Writer {
    /// A writer of bare fields (the catalog framework writes the header).
    pub fn fields() -> Self {
        Writer(Vec::with_capacity(64))
    }
    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
    /// A catalog stream's header: magic, format version, then the
    /// indicator's name (length-prefixed UTF-8), so the bytes describe themselves.
    pub fn stream_header(version: u16, name: &str) -> Self {
        let mut w = Writer(Vec::with_capacity(128));
        w.0.extend_from_slice(&MAGIC);
        w.0.extend_from_slice(&version.to_le_bytes());
        w.usize(name.len());
        w.0.extend_from_slice(name.as_bytes());
        w
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn usize(&mut self, v: usize) -> &mut Self {
        self.u64(v as u64)
    }
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
        self
    }
    pub fn flag(&mut self, v: bool) -> &mut Self {
        self.0.push(v as u8);
        self
    }
    pub fn f64s(&mut self, vs: &[f64]) -> &mut Self {
        self.usize(vs.len());
        for v in vs {
            self.f64(*v);
        }
        self
    }
    pub fn finish(&mut self) -> Vec<u8> {
        let mut bytes = std::mem::take(&mut self.0);
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
        bytes
    }
}

pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader of bare fields (the catalog framework has read the header).
    pub fn fields(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }
    /// Checks magic, checksum and format version of a catalog stream's
    /// bytes; returns the reader standing on the fields, and the name.
    pub fn open_stream(bytes: &'a [u8], version: u16) -> Result<(Self, String)> {
        if bytes.len() < 22 || bytes[..4] != MAGIC {
            return Err(invalid("not a pyrt streaming state (bad magic)"));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let mut stored = [0u8; 8];
        stored.copy_from_slice(sum);
        if u64::from_le_bytes(stored) != checksum(body) {
            return Err(invalid("checksum mismatch (damaged or truncated)"));
        }
        let found = u16::from_le_bytes([body[4], body[5]]);
        if found != version {
            return Err(invalid(format!(
                "format version {found} is not supported (this pyrt reads version {version})"
            )));
        }
        let mut r = Reader { bytes: body, pos: 6 };
        let len = r.usize()?;
        if len > 64 {
            return Err(invalid("indicator name longer than any in the catalog"));
        }
        let name = std::str::from_utf8(r.take(len)?).map_err(|_| invalid("indicator name is not UTF-8"))?;
        Ok((r, name.to_string()))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() - self.pos < n {
            return Err(invalid("truncated"));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    pub fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }
    pub fn usize(&mut self) -> Result<usize> {
        usize::try_from(self.u64()?).map_err(|_| invalid("integer out of range"))
    }
    pub fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    pub fn flag(&mut self) -> Result<bool> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(invalid(format!("flag byte {other} is neither 0 nor 1"))),
        }
    }
    /// A length-prefixed list of at most `max` floats.
    pub fn f64s(&mut self, max: usize) -> Result<Vec<f64>> {
        let n = self.usize()?;
        if n > max || n > (self.bytes.len() - self.pos) / 8 {
            return Err(invalid("value list longer than the state allows"));
        }
        (0..n).map(|_| self.f64()).collect()
    }
    /// Refuses trailing bytes.
    pub fn finish(self) -> Result<()> {
        if self.pos != self.bytes.len() {
            return Err(invalid("trailing bytes"));
        }
        Ok(())
    }
}

/// 64-bit FNV-1a.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// `value` must satisfy `ok`, else the state is refused naming `what`.
pub fn ensure(ok: bool, what: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("inconsistent field: {what}")))
    }
}
