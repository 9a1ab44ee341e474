//! Little-endian binary encoding for snapshots and journal records, with a
//! reader that checks every length against the bytes actually there.

use roaring::{RoaringBitmap, RoaringTreemap};

use crate::error::Error;

/// Appends encoded values to a buffer.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    /// A length: u64.
    pub(crate) fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.len(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }

    /// A treemap in roaring's portable 64-bit format: the number of 32-bit
    /// buckets, then for each its high key and its bitmap in the portable
    /// 32-bit format. Prefixed here by the byte length of the whole.
    pub(crate) fn treemap(&mut self, t: &RoaringTreemap) -> Result<(), Error> {
        let start = self.buf.len();
        self.u64(0); // patched below
        t.serialize_into(&mut self.buf).map_err(Error::io)?;
        let n = (self.buf.len() - start - 8) as u64;
        if let Some(slot) = self.buf.get_mut(start..start + 8) {
            slot.copy_from_slice(&n.to_le_bytes());
        }
        Ok(())
    }
}

/// Reads values back, refusing to read past the end.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Names what is being read, for errors.
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { data, pos: 0, what }
    }

    pub(crate) fn corrupt(&self, detail: impl Into<String>) -> Error {
        Error::corrupt(self.what, self.pos as u64, detail)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.corrupt("length overflows"))?;
        let out = self.data.get(self.pos..end).ok_or_else(|| {
            self.corrupt(format!(
                "{n} bytes needed, {} left",
                self.data.len() - self.pos.min(self.data.len())
            ))
        })?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, Error> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub(crate) fn bool(&mut self) -> Result<bool, Error> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.corrupt(format!("{other} is not a boolean"))),
        }
    }

    /// A length that must fit in what is left, `min_size` bytes per item:
    /// a corrupt length can never cause a large allocation.
    pub(crate) fn len(&mut self, min_size: usize) -> Result<usize, Error> {
        let n = self.u64()?;
        let left = (self.data.len() - self.pos.min(self.data.len())) as u64;
        if n.saturating_mul(min_size.max(1) as u64) > left {
            return Err(self.corrupt(format!("count {n} exceeds the {left} bytes left")));
        }
        Ok(n as usize)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, Error> {
        let n = self.len(1)?;
        let bytes = self.bytes(n)?;
        std::str::from_utf8(bytes).map_err(|_| self.corrupt("text is not UTF-8"))
    }

    pub(crate) fn opt_str(&mut self) -> Result<Option<&'a str>, Error> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.str()?)),
            other => Err(self.corrupt(format!("{other} is not an option tag"))),
        }
    }

    /// A treemap written by [`Writer::treemap`], validated: bucket keys
    /// strictly increasing (roaring's own reader accepts duplicate and
    /// unsorted keys and silently drops data), each bitmap checked by
    /// roaring's validating reader, nothing left over.
    pub(crate) fn treemap(&mut self) -> Result<RoaringTreemap, Error> {
        let n = self.len(1)?;
        let bytes = self.bytes(n)?;
        let mut inner = Reader {
            data: bytes,
            pos: 0,
            what: self.what,
        };
        let buckets = inner.len(12)?;
        let mut previous: Option<u32> = None;
        let mut maps = Vec::new();
        for _ in 0..buckets {
            let key = inner.u32()?;
            if previous.is_some_and(|p| key <= p) {
                return Err(inner.corrupt("bitmap buckets out of order"));
            }
            previous = Some(key);
            let rest = inner.data.get(inner.pos..).unwrap_or(&[]);
            let mut cursor = std::io::Cursor::new(rest);
            let bitmap = RoaringBitmap::deserialize_from(&mut cursor)
                .map_err(|e| inner.corrupt(format!("bitmap: {e}")))?;
            inner.pos += cursor.position() as usize;
            if bitmap.is_empty() {
                return Err(inner.corrupt("empty bitmap bucket"));
            }
            maps.push((key, bitmap));
        }
        if !inner.is_empty() {
            return Err(inner.corrupt("bytes left after the bitmap"));
        }
        Ok(RoaringTreemap::from_bitmaps(maps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn treemap_round_trip_and_validation() {
        let t: RoaringTreemap = [1u64, 5, 14_155_550_123, u64::MAX - 3]
            .into_iter()
            .collect();
        let mut w = Writer::default();
        w.treemap(&t).unwrap();
        let mut r = Reader::new(&w.buf, "test");
        assert_eq!(r.treemap().unwrap(), t);

        // Two buckets with the same key: roaring would keep the last only.
        let mut bad = Writer::default();
        let mut body = Vec::new();
        body.extend_from_slice(&2u64.to_le_bytes());
        for v in [1u32, 2] {
            body.extend_from_slice(&0u32.to_le_bytes());
            let b: RoaringBitmap = [v].into_iter().collect();
            b.serialize_into(&mut body).unwrap();
        }
        bad.len(body.len());
        bad.buf.extend_from_slice(&body);
        assert!(matches!(
            Reader::new(&bad.buf, "test")
                .treemap()
                .map_err(Error::into_kind),
            Err(crate::error::ErrorKind::Corrupt { .. })
        ));
    }

    #[test]
    fn lengths_are_checked_against_the_data() {
        let mut w = Writer::default();
        w.u64(u64::MAX);
        assert!(Reader::new(&w.buf, "test").str().is_err());
        assert!(Reader::new(&[1, 2], "test").u32().is_err());
        assert!(Reader::new(&[2], "test").bool().is_err());
    }
}
