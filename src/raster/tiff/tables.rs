//! Strip and tile tables of another length than the page's strips or tiles
//! need, read as libtiff reads them (`TIFFFetchStripThing`): entries past
//! those needed are ignored, and missing ones are strips or tiles of no
//! bytes, which libtiff refuses to read when asked for them. The `tiff`
//! crate refuses either table ("inconsistent sizes"), so it is shown
//! tables of the length it needs: the entries' counts cut, or the tables
//! given again past the end of the file with the missing entries zero.

use std::io::{Read, Seek, SeekFrom};

use tiff::tags::Tag;

use super::ifd::{Directory, Entry, LONG, LONG8, size_of_kind};
use super::patch::Patched;
use super::read::refuse;
use crate::raster::RasterError;

/// The most entries a short table is filled up to, as libtiff's
/// `LIBTIFF_STRILE_ARRAY_MAX_RESIZE_COUNT` is by default.
const MOST_FILLED: u64 = 1_000_000;

/// How many strips or tiles the page's tables list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Listed {
    /// Every one the page needs (or more, the rest ignored).
    All,
    /// Only the first this many of `needed`.
    First { listed: u64, needed: u64 },
}

/// Makes `file` show the `tiff` crate tables of the length the first page
/// needs, and says how many of its strips or tiles the file lists. A page
/// whose geometry or tables cannot be read is left to the crate to refuse.
pub(super) fn fit<R: Read + Seek>(file: &mut Patched<R>) -> Result<Listed, RasterError> {
    let dir = Directory::read(file)?;
    let tiled = dir.find(Tag::TileOffsets).is_some();
    let (offsets_tag, counts_tag, what) = match tiled {
        true => (Tag::TileOffsets, Tag::TileByteCounts, "tile"),
        false => (Tag::StripOffsets, Tag::StripByteCounts, "strip"),
    };
    let (Some(offsets), Some(counts), Some(needed)) = (
        dir.find(offsets_tag),
        dir.find(counts_tag),
        needed(&dir, tiled),
    ) else {
        return Ok(Listed::All);
    };
    if offsets.count != counts.count {
        return Err(RasterError::Damaged {
            format: "TIFF",
            why: format!(
                "it gives {} {what} offsets for {} byte counts",
                offsets.count, counts.count
            ),
        });
    }
    let listed = offsets.count;
    if listed > needed {
        for entry in [offsets, counts] {
            cut(file, &dir, entry, needed)?;
        }
        return Ok(Listed::All);
    }
    if listed < needed {
        if needed > MOST_FILLED {
            return Err(refuse(format!(
                "its {what} tables list {listed} of the {needed} {what}s the page needs; \
                 libtiff fills in at most {MOST_FILLED}"
            )));
        }
        for entry in [offsets, counts] {
            fill(file, &dir, entry, needed)?;
        }
        return Ok(Listed::First { listed, needed });
    }
    Ok(Listed::All)
}

/// The strips or tiles the page needs, as the `tiff` crate counts them: a
/// strip for every RowsPerStrip rows (all rows where it is missing), a
/// tile for every tile the width and length take, in every plane.
fn needed(dir: &Directory, tiled: bool) -> Option<u64> {
    let width = dir.value(Tag::ImageWidth)?;
    let height = dir.value(Tag::ImageLength)?;
    let planes = match dir.value(Tag::PlanarConfiguration) {
        Some(2) => dir.value(Tag::SamplesPerPixel).unwrap_or(1),
        _ => 1,
    };
    let per_plane = match tiled {
        true => {
            let tile_width = dir.value(Tag::TileWidth).filter(|&w| w > 0)?;
            let tile_length = dir.value(Tag::TileLength).filter(|&l| l > 0)?;
            width
                .div_ceil(tile_width)
                .checked_mul(height.div_ceil(tile_length))?
        }
        false => {
            let rows = dir.value(Tag::RowsPerStrip).unwrap_or(height);
            height.saturating_sub(1).checked_div(rows)? + 1
        }
    };
    per_plane.checked_mul(planes)
}

/// Shows `entry` with its first `needed` values only: its count cut, and
/// the values moved into the entry where they then fit in it.
fn cut<R: Read + Seek>(
    file: &mut Patched<R>,
    dir: &Directory,
    entry: Entry,
    needed: u64,
) -> Result<(), RasterError> {
    let size = size_of_kind(entry.kind).unwrap_or(8);
    let field = match needed.saturating_mul(size as u64) <= dir.word() as u64 {
        true => dir
            .values(file, entry, needed)?
            .iter()
            .flat_map(|&v| dir.bytes(v, size))
            .collect(),
        false => dir.bytes(entry.field, dir.word()),
    };
    let (at, bytes) = dir.entry_bytes(entry, entry.kind, needed, &field);
    file.replace(at, bytes);
    Ok(())
}

/// Shows `entry` with `needed` values: its own, then zeros, in the entry
/// where they fit, else past the end of the file.
fn fill<R: Read + Seek>(
    file: &mut Patched<R>,
    dir: &Directory,
    entry: Entry,
    needed: u64,
) -> Result<(), RasterError> {
    let mut values = dir.values(file, entry, needed)?;
    values.resize(needed as usize, 0);
    let (kind, size) = match dir.bigtiff() {
        true => (LONG8, 8),
        false => (LONG, 4),
    };
    let table: Vec<u8> = values.iter().flat_map(|&v| dir.bytes(v, size)).collect();
    let field = match table.len() <= dir.word() {
        true => table,
        false => {
            let io = |e: std::io::Error| refuse(e.to_string());
            let end = file.seek(SeekFrom::End(0)).map_err(io)?;
            let at = file.append(end, &table);
            if !dir.bigtiff() && at + table.len() as u64 > u64::from(u32::MAX) {
                return Err(refuse("a strip or tile table past 4 GiB in a classic TIFF"));
            }
            dir.bytes(at, dir.word())
        }
    };
    let (entry_at, bytes) = dir.entry_bytes(entry, kind, needed, &field);
    file.replace(entry_at, bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A little-endian classic TIFF of one directory: `(tag, type, count,
    /// value)` entries, their values in the entries.
    fn tiff(entries: &[(u16, u16, u32, u32)]) -> Vec<u8> {
        let mut file = b"II*\0\x08\0\0\0".to_vec();
        file.extend((entries.len() as u16).to_le_bytes());
        for &(tag, kind, count, value) in entries {
            file.extend(tag.to_le_bytes());
            file.extend(kind.to_le_bytes());
            file.extend(count.to_le_bytes());
            file.extend(value.to_le_bytes());
        }
        file.extend([0; 4]);
        file
    }

    fn strips(height: u32, rows: u32, listed: u32) -> Vec<u8> {
        tiff(&[
            (256, LONG, 1, 4),
            (257, LONG, 1, height),
            (273, LONG, listed, 100),
            (278, LONG, 1, rows),
            (279, LONG, listed, 8),
        ])
    }

    /// A short table is filled up past the end of the file, the listed
    /// entries first; one too long is cut where it stands.
    #[test]
    fn tables_are_shown_at_the_length_the_page_needs() {
        let mut file = Patched::new(Cursor::new(strips(8, 2, 1))).unwrap();
        let listed = fit(&mut file).unwrap();
        assert_eq!(
            listed,
            Listed::First {
                listed: 1,
                needed: 4
            }
        );
        let dir = Directory::read(&mut file).unwrap();
        let offsets = dir.find(Tag::StripOffsets).unwrap();
        assert_eq!(offsets.count, 4);
        assert_eq!(dir.values(&mut file, offsets, 4).unwrap(), [100, 0, 0, 0]);
        let counts = dir.find(Tag::StripByteCounts).unwrap();
        assert_eq!(dir.values(&mut file, counts, 4).unwrap(), [8, 0, 0, 0]);
        // Past the end, reads and seeks from where they are go on.
        file.seek(SeekFrom::Start(offsets.field)).unwrap();
        let mut first = [0u8; 6];
        file.read_exact(&mut first).unwrap();
        file.seek(SeekFrom::Current(-2)).unwrap();
        let mut again = [0u8; 4];
        file.read_exact(&mut again).unwrap();
        assert_eq!(
            (first[..4].to_vec(), again),
            (vec![100, 0, 0, 0], [0, 0, 0, 0])
        );

        let mut file = Patched::new(Cursor::new(strips(8, 8, 1))).unwrap();
        assert_eq!(fit(&mut file).unwrap(), Listed::All);
    }

    /// A page claiming more strips than libtiff fills a table up to is
    /// refused before anything that size is made.
    #[test]
    fn a_page_of_billions_of_strips_and_a_short_table_is_refused() {
        let mut file = Patched::new(Cursor::new(strips(u32::MAX, 1, 1))).unwrap();
        let err = fit(&mut file).unwrap_err().to_string();
        assert!(
            err.contains("list 1 of the 4294967295 strips") && err.contains("1000000"),
            "{err}"
        );
    }
}
