//! The first page's directory read as stored, before the `tiff` crate
//! checks it: where each entry lies, its type, count and value field, so
//! that [`super::patch`] can show the crate entries changed.

use std::io::{Read, Seek, SeekFrom};

use tiff::tags::Tag;

use super::read::refuse;
use crate::raster::RasterError;

/// Entries read from a directory at most: a directory cannot hold more
/// than 65535 in classic TIFF, and real ones hold a few dozen.
const MOST_ENTRIES: u64 = 4096;

/// Type numbers of the unsigned integers a table or a size is stored in.
pub(super) const SHORT: u16 = 3;
pub(super) const LONG: u16 = 4;
pub(super) const LONG8: u16 = 16;

/// The first page's directory: its entries and the file's byte order and
/// kind.
pub(super) struct Directory {
    big_endian: bool,
    bigtiff: bool,
    entries: Vec<Entry>,
}

/// One entry as stored.
#[derive(Clone, Copy)]
pub(super) struct Entry {
    pub tag: u16,
    pub kind: u16,
    pub count: u64,
    /// Where the entry starts in the file.
    pub at: u64,
    /// Its value field: the value itself where it fits, else its offset.
    pub field: u64,
}

impl Directory {
    /// Reads the first page's directory of `file`.
    pub fn read(file: &mut (impl Read + Seek)) -> Result<Self, RasterError> {
        let cannot = || refuse("its first directory cannot be read");
        let head = read_at(file, 0, 16).ok_or_else(cannot)?;
        let big_endian = match head.get(..2) {
            Some(b"MM") => true,
            Some(b"II") => false,
            _ => return Err(cannot()),
        };
        let mut dir = Directory {
            big_endian,
            bigtiff: false,
            entries: Vec::new(),
        };
        dir.bigtiff = dir.int(&head, 2, 2) == Some(43);
        let (offset, count_len) = match dir.bigtiff {
            true => (dir.int(&head, 8, 8), 8),
            false => (dir.int(&head, 4, 4), 2),
        };
        let ifd = offset.ok_or_else(cannot)?;
        let count = read_at(file, ifd, count_len).ok_or_else(cannot)?;
        let entries = dir.int(&count, 0, count_len).ok_or_else(cannot)?;
        let entry_len = dir.entry_len();
        let first = ifd.checked_add(count_len as u64).ok_or_else(cannot)?;
        let table_len = entries.min(MOST_ENTRIES) as usize * entry_len;
        let table = read_at(file, first, table_len).ok_or_else(cannot)?;
        let field_at = 4 + dir.word();
        for (index, bytes) in table.chunks_exact(entry_len).enumerate() {
            let parse = || {
                Some(Entry {
                    tag: dir.int(bytes, 0, 2)? as u16,
                    kind: dir.int(bytes, 2, 2)? as u16,
                    count: dir.int(bytes, 4, dir.word())?,
                    at: first + (index * entry_len) as u64,
                    field: dir.int(bytes, field_at, dir.word())?,
                })
            };
            dir.entries.push(parse().ok_or_else(cannot)?);
        }
        Ok(dir)
    }

    /// The entry of `tag`, if the directory has one.
    pub fn find(&self, tag: Tag) -> Option<Entry> {
        let tag = tag.to_u16();
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    /// The one unsigned value of `tag`'s entry, if it has exactly one.
    pub fn value(&self, tag: Tag) -> Option<u64> {
        let entry = self.find(tag).filter(|e| e.count == 1)?;
        let field = self.bytes(entry.field, self.word());
        let size = size_of_kind(entry.kind)?;
        self.int(&field, 0, size)
    }

    /// The unsigned values of `entry`, at most `most` of them.
    pub fn values(
        &self,
        file: &mut (impl Read + Seek),
        entry: Entry,
        most: u64,
    ) -> Result<Vec<u64>, RasterError> {
        let cannot = || refuse(format!("its entry of tag {} cannot be read", entry.tag));
        let size = size_of_kind(entry.kind).ok_or_else(cannot)?;
        let count = entry.count.min(most) as usize;
        let stored = entry.count.checked_mul(size as u64).ok_or_else(cannot)?;
        let bytes = match stored <= self.word() as u64 {
            true => self.bytes(entry.field, self.word()),
            false => read_at(file, entry.field, count * size).ok_or_else(cannot)?,
        };
        (0..count)
            .map(|i| self.int(&bytes, i * size, size).ok_or_else(cannot))
            .collect()
    }

    /// Whether the file is BigTIFF, whose offsets and counts take 8 bytes.
    pub fn bigtiff(&self) -> bool {
        self.bigtiff
    }

    /// Bytes of a count or value field: 4, or 8 in BigTIFF.
    pub fn word(&self) -> usize {
        if self.bigtiff { 8 } else { 4 }
    }

    fn entry_len(&self) -> usize {
        4 + 2 * self.word()
    }

    /// `value` in `len` bytes in the file's byte order.
    pub fn bytes(&self, value: u64, len: usize) -> Vec<u8> {
        let mut field = value.to_be_bytes()[8 - len..].to_vec();
        if !self.big_endian {
            field.reverse();
        }
        field
    }

    /// The bytes that make `entry` of type `kind`, `count` values and
    /// value field `field` (`field_len` bytes of it, padded with zeros),
    /// and where they go.
    pub fn entry_bytes(&self, entry: Entry, kind: u16, count: u64, field: &[u8]) -> (u64, Vec<u8>) {
        let mut bytes = self.bytes(kind.into(), 2);
        bytes.extend(self.bytes(count, self.word()));
        let mut field = field.to_vec();
        field.resize(self.word(), 0);
        bytes.extend(field);
        (entry.at + 2, bytes)
    }

    /// The unsigned integer of `n` bytes at `at` in `b`, in the file's
    /// byte order.
    fn int(&self, b: &[u8], at: usize, n: usize) -> Option<u64> {
        let field = b.get(at..at.checked_add(n)?)?;
        let fold = |acc: u64, &x: &u8| acc << 8 | u64::from(x);
        Some(match self.big_endian {
            true => field.iter().fold(0, fold),
            false => field.iter().rev().fold(0, fold),
        })
    }
}

/// Bytes of one value of an unsigned integer type.
pub(super) fn size_of_kind(kind: u16) -> Option<usize> {
    match kind {
        SHORT => Some(2),
        LONG => Some(4),
        LONG8 => Some(8),
        _ => None,
    }
}

/// At most `len` bytes of `file` from `at`: fewer where it ends first.
fn read_at(file: &mut (impl Read + Seek), at: u64, len: usize) -> Option<Vec<u8>> {
    file.seek(SeekFrom::Start(at)).ok()?;
    let mut out = Vec::with_capacity(len.min(1 << 20));
    file.by_ref().take(len as u64).read_to_end(&mut out).ok()?;
    Some(out)
}

/// Where the bytes that give `tag`'s entry one value, `value`, go, and
/// those bytes: its type (SHORT or LONG), count and value.
pub(super) fn set(
    file: &mut (impl Read + Seek),
    tag: Tag,
    value: u32,
) -> Result<(u64, Vec<u8>), RasterError> {
    let dir = Directory::read(file)?;
    let entry = dir.find(tag).ok_or_else(|| missing(tag))?;
    let (kind, size) = match u16::try_from(value) {
        Ok(_) => (SHORT, 2),
        Err(_) => (LONG, 4),
    };
    let field = dir.bytes(value.into(), size);
    Ok(dir.entry_bytes(entry, kind, 1, &field))
}

/// Where `tag`'s entry's tag number is, and the bytes that make it `to`.
pub(super) fn rename(
    file: &mut (impl Read + Seek),
    tag: Tag,
    to: u16,
) -> Result<(u64, Vec<u8>), RasterError> {
    let dir = Directory::read(file)?;
    let entry = dir.find(tag).ok_or_else(|| missing(tag))?;
    Ok((entry.at, dir.bytes(to.into(), 2)))
}

fn missing(tag: Tag) -> RasterError {
    refuse(format!("its {tag:?} entry cannot be read"))
}
