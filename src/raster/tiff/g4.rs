//! CCITT Group 4 (T.6) strips and tiles more than 65535 pixels wide or
//! tall, which the `tiff` crate's decoder cannot read: it counts columns
//! and rows in 16 bits. The code tables and the bit reader are the `fax`
//! crate's; the two-dimensional coding of each row against the row above
//! is read here, with positions of any size, as libtiff's Fax4Decode reads
//! it: runs that pass the row's end are cut at its width, and the rows come
//! out packed from the high bit, black as 1, as libtiff gives them.

use std::convert::Infallible;

use fax::maps::{Mode, black, mode, white};
use fax::{BitReader, ByteReader, Color};

use super::read::refuse;
use crate::raster::RasterError;

/// A strip or tile of 1-bit pixels, as stored and as kept.
pub(super) struct Chunk {
    /// Pixels across and rows as coded: a tile's whole size, edges too.
    pub stored: (usize, usize),
    /// Pixels across and rows inside the image, as the `tiff` crate gives
    /// a chunk.
    pub kept: (usize, usize),
}

impl Chunk {
    /// Decodes `data` into `out`, sized for the kept rows of
    /// `kept.0.div_ceil(8)` bytes each. Every stored row is decoded: data
    /// that ends (or gives its end of block) before the last of them, or
    /// that holds a code no row can, is refused.
    pub fn decode(&self, data: &[u8], out: &mut [u8]) -> Result<(), RasterError> {
        let (width, rows) = self.stored;
        let kept = self.kept.0.div_ceil(8);
        if out.len() < kept * self.kept.1 {
            return Err(refuse(format!(
                "a CCITT Group 4 strip or tile of {} rows of {} bytes in {} bytes",
                self.kept.1,
                kept,
                out.len()
            )));
        }
        // Two bytes past the data let the tables look 16 bits ahead at its
        // end; a code read into them is caught by the count of bits used.
        let bytes = data.iter().copied().chain([0, 0]).map(Ok::<u8, Infallible>);
        let Ok(reader) = ByteReader::new(bytes);
        let mut reader = Counted {
            inner: reader,
            used: 0,
        };
        let (mut reference, mut current) = (Vec::new(), Vec::new());
        let mut row = Vec::new();
        for y in 0..rows {
            let ended = decode_row(&mut reader, &reference, width, &mut current);
            let why = match ended {
                _ if reader.used > data.len() * 8 => "its data ends",
                Ok(true) => "its end of block comes",
                Ok(false) => "",
                Err(why) => why,
            };
            if !why.is_empty() {
                return Err(refuse(format!(
                    "a CCITT Group 4 strip or tile {width} pixels wide: {why} at row {y} of {rows}"
                )));
            }
            if y < self.kept.1 {
                row.clear();
                row.resize(width.div_ceil(8), 0);
                paint(&current, width, &mut row);
                out[y * kept..(y + 1) * kept].copy_from_slice(&row[..kept]);
            }
            std::mem::swap(&mut reference, &mut current);
        }
        Ok(())
    }
}

/// A bit reader that counts the bits it has given.
struct Counted<R> {
    inner: R,
    used: usize,
}

impl<R: BitReader> BitReader for Counted<R> {
    type Error = R::Error;

    fn peek(&self, bits: u8) -> Option<u16> {
        self.inner.peek(bits)
    }

    fn consume(&mut self, bits: u8) -> Result<(), Self::Error> {
        self.used += usize::from(bits);
        self.inner.consume(bits)
    }

    fn bits_to_byte_boundary(&self) -> u8 {
        self.inner.bits_to_byte_boundary()
    }
}

/// Reads one row coded against `reference` into `current`: the positions,
/// left to right, where the color changes (the first to black), each less
/// than `width`. True when the row is the end of block instead.
fn decode_row(
    reader: &mut impl BitReader,
    reference: &[usize],
    width: usize,
    current: &mut Vec<usize>,
) -> Result<bool, &'static str> {
    current.clear();
    let (mut a0, mut color, mut start) = (0, Color::White, true);
    let change = |at: usize, current: &mut Vec<usize>| {
        if at < width {
            current.push(at);
        }
    };
    while a0 < width {
        let (b1, b2) = changes_above(reference, a0, color, start, width);
        match mode::decode(reader).ok_or("a code no row holds")? {
            Mode::Pass => a0 = b2,
            Mode::Vertical(delta) => {
                let a1 = b1
                    .checked_add_signed(delta.into())
                    .filter(|&a1| a1 >= a0)
                    .ok_or("a change left of the one before")?;
                change(a1, current);
                (a0, color) = (a1, !color);
            }
            Mode::Horizontal => {
                let a1 = a0.saturating_add(run(reader, color)?);
                let a2 = a1.saturating_add(run(reader, !color)?);
                change(a1, current);
                change(a2, current);
                a0 = a2;
            }
            Mode::Extension => return Err("uncompressed data, which libtiff does not read"),
            Mode::EOF => return Ok(true),
        }
        // Runs of no pixels can repeat; libtiff holds as many as pixels.
        if current.len() > width {
            return Err("more changes of color than pixels");
        }
        start = false;
    }
    Ok(false)
}

/// b1 and b2 of T.6: the first change on the row above right of `a0` to
/// the color opposite `color` (from the row's first pixel at its `start`),
/// and the change after it; the row's width where there is none.
fn changes_above(
    reference: &[usize],
    a0: usize,
    color: Color,
    start: bool,
    width: usize,
) -> (usize, usize) {
    let mut i = match start {
        true => 0,
        false => reference.partition_point(|&at| at <= a0),
    };
    // Changes at even places turn the row black.
    if (i % 2 == 0) != (color == Color::White) {
        i += 1;
    }
    let at = |i: usize| reference.get(i).copied().unwrap_or(width);
    (at(i), at(i + 1))
}

/// One run of `color`: its make-up codes and the terminating code.
fn run(reader: &mut impl BitReader, color: Color) -> Result<usize, &'static str> {
    let mut length = 0usize;
    loop {
        let code = match color {
            Color::White => white::decode(reader),
            Color::Black => black::decode(reader),
        }
        .ok_or("a run length no code holds")?;
        length = length.saturating_add(code.into());
        if code < 64 {
            return Ok(length);
        }
    }
}

/// Sets the bits of the black runs of a row with `changes` to 1.
fn paint(changes: &[usize], width: usize, row: &mut [u8]) {
    for pair in changes.chunks(2) {
        let (from, to) = (pair[0], pair.get(1).copied().unwrap_or(width));
        set_bits(row, from, to);
    }
}

/// Sets bits `from..to` of `row`, counted from the high bit of its first
/// byte.
fn set_bits(row: &mut [u8], from: usize, to: usize) {
    if from >= to {
        return;
    }
    let (first, last) = (from / 8, (to - 1) / 8);
    let head = 0xffu8 >> (from % 8);
    let tail = 0xffu8 << (7 - (to - 1) % 8);
    if first == last {
        row[first] |= head & tail;
        return;
    }
    row[first] |= head;
    row[first + 1..last].fill(0xff);
    row[last] |= tail;
}

#[cfg(test)]
mod tests {
    use fax::encoder::Encoder;
    use fax::{VecWriter, decoder};
    use proptest::prelude::*;

    use super::*;

    /// Packs rows of pixels (true for black) as [`Chunk::decode`] gives them.
    fn packed(rows: &[Vec<bool>]) -> Vec<u8> {
        let mut out = Vec::new();
        for row in rows {
            let mut bytes = vec![0u8; row.len().div_ceil(8)];
            for (x, _) in row.iter().enumerate().filter(|(_, black)| **black) {
                bytes[x / 8] |= 0x80 >> (x % 8);
            }
            out.extend(bytes);
        }
        out
    }

    fn encoded(rows: &[Vec<bool>], width: u16) -> Vec<u8> {
        let mut encoder = Encoder::new(VecWriter::new());
        for row in rows {
            let pels = row.iter().map(|&black| match black {
                true => Color::Black,
                false => Color::White,
            });
            encoder.encode_line(pels, width).unwrap();
        }
        encoder.finish().unwrap().finish()
    }

    fn decoded(data: &[u8], width: usize, height: usize) -> Result<Vec<u8>, RasterError> {
        let chunk = Chunk {
            stored: (width, height),
            kept: (width, height),
        };
        let mut out = vec![0u8; width.div_ceil(8) * height];
        chunk.decode(data, &mut out).map(|()| out)
    }

    /// Rows of runs: each row a list of run lengths, alternately white
    /// and black, cut at the width.
    fn rows() -> impl Strategy<Value = (usize, Vec<Vec<bool>>)> {
        (1usize..200, 1usize..12).prop_flat_map(|(width, height)| {
            let row = prop::collection::vec(0usize..24, 0..40).prop_map(move |runs| {
                let mut pixels = Vec::with_capacity(width);
                for (i, length) in runs.into_iter().enumerate() {
                    pixels.extend(std::iter::repeat_n(i % 2 == 1, length));
                }
                pixels.resize(width, false);
                pixels
            });
            (Just(width), prop::collection::vec(row, height))
        })
    }

    proptest! {
        /// Random bilevel rows, coded by the `fax` crate's encoder: this
        /// decoder gives the pixels, and the bytes the `fax` crate's
        /// decoder gives as the `tiff` crate packs them.
        #[test]
        fn gives_the_pixels_the_fax_crate_codes_and_decodes((width, rows) in rows()) {
            let data = encoded(&rows, width as u16);
            let ours = decoded(&data, width, rows.len()).unwrap();
            prop_assert_eq!(&ours, &packed(&rows));
            let mut theirs = Vec::new();
            decoder::decode_g4(data.into_iter(), width as u16, Some(rows.len() as u16), |line| {
                theirs.push(decoder::pels(line, width as u16).map(|c| c == Color::Black).collect());
            });
            prop_assert_eq!(ours, packed(&theirs));
        }

        /// Any bytes at all: decoded or refused, never a panic.
        #[test]
        fn any_bytes_decode_or_are_refused(data in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decoded(&data, 70, 5);
        }
    }

    /// The Group 4 file of the real-world corpus: the `tiff` crate's bytes.
    #[test]
    fn gives_the_tiff_crates_bytes_for_the_real_world_file() {
        use std::io::{Cursor, Read, Seek, SeekFrom};
        use tiff::decoder::Decoder;
        use tiff::tags::Tag;

        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/wild/tiff_gray1_g4_minwhite.tif"
        );
        let mut file = Cursor::new(std::fs::read(path).unwrap());
        let mut decoder = Decoder::new(&mut file).unwrap();
        let (width, height) = decoder.dimensions().unwrap();
        let (width, height) = (width as usize, height as usize);
        let offset = decoder.get_tag_u64_vec(Tag::StripOffsets).unwrap()[0];
        let count = decoder.get_tag_u64_vec(Tag::StripByteCounts).unwrap()[0];
        let mut theirs = vec![0u8; width.div_ceil(8) * height];
        decoder.read_chunk_bytes(0, &mut theirs).unwrap();
        // The crate inverts a page of WhiteIsZero.
        theirs.iter_mut().for_each(|b| *b = !*b);
        let mut data = vec![0u8; count as usize];
        file.seek(SeekFrom::Start(offset)).unwrap();
        file.read_exact(&mut data).unwrap();
        assert_eq!(decoded(&data, width, height).unwrap(), theirs);
    }

    #[test]
    fn a_row_wider_than_16_bits_counts_holds_its_runs() {
        let width = 70_001;
        let rows: Vec<Vec<bool>> = (0..3)
            .map(|y| {
                (0..width)
                    .map(|x| (x / (997 + y)) % 3 == 1 || x > 69_990)
                    .collect()
            })
            .collect();
        // The fax crate codes rows of at most 65535 pixels: code these as
        // horizontal modes by hand, with the make-up codes of its tables.
        let data = horizontal(&rows);
        assert_eq!(decoded(&data, width, 3).unwrap(), packed(&rows));
    }

    #[test]
    fn data_that_ends_before_the_last_row_is_refused_naming_the_row() {
        let rows = vec![vec![true; 40]; 4];
        let data = encoded(&rows, 40);
        let err = decoded(&data[..1], 40, 4).unwrap_err().to_string();
        assert!(err.contains("ends at row"), "{err}");
        let err = decoded(&data, 40, 9).unwrap_err().to_string();
        assert!(err.contains("end of block comes at row 4 of 9"), "{err}");
    }

    /// Rows coded in horizontal mode only, runs of any length.
    fn horizontal(rows: &[Vec<bool>]) -> Vec<u8> {
        let mut bits: Vec<bool> = Vec::new();
        let put = |code: fax::Bits, bits: &mut Vec<bool>| {
            bits.extend((0..code.len).rev().map(|i| code.data >> i & 1 == 1));
        };
        for row in rows {
            let mut lengths = Vec::new();
            let mut color = false;
            let mut length = 0;
            for &black in row {
                if black != color {
                    lengths.push(length);
                    (color, length) = (black, 0);
                }
                length += 1;
            }
            lengths.push(length);
            if lengths.len() % 2 == 1 {
                lengths.push(0);
            }
            for pair in lengths.chunks(2) {
                put(mode::encode(Mode::Horizontal).unwrap(), &mut bits);
                for (i, &length) in pair.iter().enumerate() {
                    let code = |n: usize| match i {
                        0 => white::encode(n as u16).unwrap(),
                        _ => black::encode(n as u16).unwrap(),
                    };
                    let mut left = length;
                    while left >= 2560 {
                        put(code(2560), &mut bits);
                        left -= 2560;
                    }
                    if left >= 64 {
                        put(code(left & !63), &mut bits);
                    }
                    put(code(left % 64), &mut bits);
                }
            }
        }
        bits.chunks(8)
            .map(|byte| {
                byte.iter()
                    .enumerate()
                    .fold(0, |b, (i, &bit)| b | u8::from(bit) << (7 - i))
            })
            .collect()
    }
}
