//! A window read by rows is the whole decode cropped, byte for byte, for
//! every TIFF fixture and for TIFFs of random layouts; chunks outside the
//! window are not decoded; lying headers allocate nothing.

use std::io::{Cursor, Seek};

use proptest::prelude::*;
use tiff::decoder::Decoder;
use tiff::encoder::{Compression, DeflateLevel, Predictor, TiffEncoder, colortype};

use super::patch::Patched;
use super::read::{decode, source};
use super::tables::fit;
use crate::raster::RasterError;
use crate::raster::rows::{StreamError, Window};
use crate::raster::testing::{crop, fixtures, window};

const LIMIT: u64 = 1 << 30;

/// The rows `source` passes for `window`, one after the other.
fn stream(bytes: &[u8], window: &Window) -> Result<Vec<u8>, StreamError> {
    let mut rows = source(Cursor::new(bytes), LIMIT)?;
    let mut out = Vec::new();
    let line = window.cols.len() * rows.info().pixel_len();
    let mut count = 0;
    rows.read_window(window, &mut |row| {
        assert_eq!(row.len(), line, "a row of the wrong length");
        out.extend_from_slice(row);
        count += 1;
        Ok(())
    })?;
    assert_eq!(count, window.rows.len(), "a wrong number of rows");
    Ok(out)
}

/// The whole image; inner, one-row, one-column and last-row windows; and
/// windows that start inside the last row of chunks and inside its last
/// chunk.
fn windows(height: usize, width: usize, chunk: (usize, usize)) -> Vec<Window> {
    let (chunk_width, chunk_height) = chunk;
    let last_band = (height - 1) / chunk_height * chunk_height;
    let last_column = (width - 1) / chunk_width * chunk_width;
    vec![
        window(0..height, 0..width),
        window(
            height / 4..height - height / 4,
            width / 3..width - width / 4,
        ),
        window(height / 2..height / 2 + 1, 0..width),
        window(0..height, width / 2..width / 2 + 1),
        window(height - 1..height, 0..width),
        window(height - 1..height, width - 1..width),
        window((last_band + 1).min(height - 1)..height, 0..width),
        window(
            (last_band + 1).min(height - 1)..height,
            (last_column + 1).min(width - 1)..width,
        ),
        window(0..1, 0..1),
    ]
}

#[test]
fn every_fixture_streams_each_window_as_the_whole_decode_crops_it() {
    let paths = fixtures(&["tif", "tiff"]);
    assert!(paths.len() > 80, "the TIFF fixtures are missing");
    let mut streamed = 0;
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display();
        let whole = match decode(&bytes, LIMIT) {
            Ok(decoded) => decoded.tensor,
            Err(e) => {
                // What the whole decode refuses, the rows refuse too.
                let all = source(Cursor::new(&bytes[..]), LIMIT).and_then(|mut rows| {
                    let (h, w) = (rows.info().height, rows.info().width);
                    rows.read_window(&window(0..h, 0..w), &mut |_| Ok(()))
                        .map_err(|e| match e {
                            StreamError::Input(e) => e,
                            StreamError::Output(e) => panic!("{e}"),
                        })
                });
                assert!(all.is_err(), "{name}: decodes by rows but not whole ({e})");
                continue;
            }
        };
        let (h, w) = (whole.height(), whole.width());
        let pixel = whole.channels() * whole.sample_type().itemsize();
        // The crate's view of the page, its tables of the length it needs.
        let mut file = Patched::new(Cursor::new(&bytes[..])).unwrap();
        fit(&mut file).unwrap();
        file.rewind().unwrap();
        let (cw, ch) = Decoder::new(file).unwrap().chunk_dimensions();
        let mut rows = source(Cursor::new(&bytes[..]), LIMIT).unwrap();
        assert_eq!(rows.info().channels, whole.channels(), "{name}");
        assert_eq!(rows.info().sample, whole.sample_type(), "{name}");
        // One source, read again and again.
        for window in windows(h, w, (cw as usize, ch as usize)) {
            let mut got = Vec::new();
            rows.read_window(&window, &mut |row| {
                got.extend_from_slice(row);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name} {window:?}: {e}"));
            let want = crop(whole.as_le_bytes(), w, pixel, &window);
            assert!(got == want, "{name} {window:?}: the rows differ");
            streamed += 1;
        }
    }
    assert!(streamed > 500, "only {streamed} windows streamed");
}

/// How a generated TIFF stores its pixels.
#[derive(Clone, Debug)]
enum TiffLayout {
    Strips(usize),
    Tiles(usize, usize),
}

/// What a generated TIFF holds.
#[derive(Clone, Debug)]
struct TiffSpec {
    width: usize,
    height: usize,
    samples: usize,
    bits: u16,
    /// SampleFormat: 1 unsigned, 2 signed, 3 float.
    format: u16,
    photometric: u16,
    planar: bool,
    layout: TiffLayout,
}

impl TiffSpec {
    fn chunk(&self) -> (usize, usize) {
        match self.layout {
            TiffLayout::Strips(rows) => (self.width, rows),
            TiffLayout::Tiles(w, h) => (w, h),
        }
    }

    fn value_mask(&self) -> u64 {
        if self.bits >= 64 {
            u64::MAX
        } else {
            (1 << self.bits) - 1
        }
    }
}

/// An uncompressed little-endian TIFF of `values` (row by row, pixel by
/// pixel, sample by sample), as `spec` says, with a color map for
/// palettes: every layout the decoder must place, written here so that
/// tile sizes, planes and bit depths are free.
fn write_tiff(spec: &TiffSpec, values: &[u64], color_map: &[u16]) -> Vec<u8> {
    let (chunk_width, chunk_height) = spec.chunk();
    let planes = if spec.planar { spec.samples } else { 1 };
    let per_chunk = if spec.planar { 1 } else { spec.samples };
    let across = spec.width.div_ceil(chunk_width);
    let down = spec.height.div_ceil(chunk_height);
    let mut file = vec![b'I', b'I', 42, 0, 0, 0, 0, 0];
    let (mut offsets, mut counts) = (Vec::new(), Vec::new());
    for plane in 0..planes {
        for band in 0..down {
            for column in 0..across {
                let start = file.len();
                let rows = match spec.layout {
                    TiffLayout::Strips(_) => chunk_height.min(spec.height - band * chunk_height),
                    TiffLayout::Tiles(..) => chunk_height,
                };
                for r in 0..rows {
                    let mut bits = BitWriter::default();
                    for c in 0..chunk_width {
                        let (y, x) = (band * chunk_height + r, column * chunk_width + c);
                        for s in 0..per_chunk {
                            let sample = if spec.planar { plane } else { s };
                            let value = if y < spec.height && x < spec.width {
                                values[(y * spec.width + x) * spec.samples + sample]
                            } else {
                                0
                            };
                            bits.put(value, spec.bits);
                        }
                    }
                    file.extend(bits.finish());
                }
                offsets.push(start as u32);
                counts.push((file.len() - start) as u32);
            }
        }
    }
    let short = |v: &[u16]| {
        (
            3u16,
            v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>(),
            v.len(),
        )
    };
    let long = |v: &[u32]| {
        (
            4u16,
            v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>(),
            v.len(),
        )
    };
    let samples = spec.samples as u16;
    let mut entries = vec![
        (256u16, long(&[spec.width as u32])),
        (257, long(&[spec.height as u32])),
        (258, short(&vec![spec.bits; spec.samples])),
        (259, short(&[1])),
        (262, short(&[spec.photometric])),
        (277, short(&[samples])),
        (284, short(&[if spec.planar { 2 } else { 1 }])),
        (339, short(&vec![spec.format; spec.samples])),
    ];
    match spec.layout {
        TiffLayout::Strips(rows) => {
            entries.push((273, long(&offsets)));
            entries.push((278, long(&[rows as u32])));
            entries.push((279, long(&counts)));
        }
        TiffLayout::Tiles(w, h) => {
            entries.push((322, long(&[w as u32])));
            entries.push((323, long(&[h as u32])));
            entries.push((324, long(&offsets)));
            entries.push((325, long(&counts)));
        }
    }
    if !color_map.is_empty() {
        entries.push((320, short(color_map)));
    }
    let colors = if spec.photometric == 2 { 3 } else { 1 };
    if spec.photometric != 3 && spec.samples > colors {
        // Unassociated alpha.
        entries.push((338, short(&[2])));
    }
    entries.sort_by_key(|e| e.0);
    let mut values_at = Vec::new();
    for (_, (_, data, _)) in &entries {
        if data.len() > 4 {
            if file.len() % 2 == 1 {
                file.push(0);
            }
            values_at.push(file.len() as u32);
            file.extend_from_slice(data);
        } else {
            values_at.push(0);
        }
    }
    if file.len() % 2 == 1 {
        file.push(0);
    }
    let ifd = file.len() as u32;
    file[4..8].copy_from_slice(&ifd.to_le_bytes());
    file.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for ((tag, (kind, data, count)), at) in entries.iter().zip(values_at) {
        file.extend_from_slice(&tag.to_le_bytes());
        file.extend_from_slice(&kind.to_le_bytes());
        file.extend_from_slice(&(*count as u32).to_le_bytes());
        let mut field = [0u8; 4];
        if data.len() > 4 {
            field = at.to_le_bytes();
        } else {
            field[..data.len()].copy_from_slice(data);
        }
        file.extend_from_slice(&field);
    }
    file.extend_from_slice(&0u32.to_le_bytes());
    file
}

/// Samples as a TIFF stores them: whole bytes little-endian, other sizes
/// packed from the high bit down, each row ending on a byte boundary.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    held: u32,
}

impl BitWriter {
    fn put(&mut self, value: u64, bits: u16) {
        if bits.is_multiple_of(8) {
            self.out
                .extend_from_slice(&value.to_le_bytes()[..usize::from(bits / 8)]);
            return;
        }
        for i in (0..bits).rev() {
            self.acc = self.acc << 1 | (value >> i & 1);
            self.held += 1;
            if self.held == 8 {
                self.out.push(self.acc as u8);
                (self.acc, self.held) = (0, 0);
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.held > 0 {
            self.out.push((self.acc << (8 - self.held)) as u8);
        }
        self.out
    }
}

/// Kinds of page, with the conversion each needs: (samples, bits, format,
/// photometric, planes allowed).
const KINDS: [(usize, u16, u16, u16, bool); 17] = [
    (1, 1, 1, 1, false),
    (1, 2, 1, 1, false),
    (1, 4, 1, 1, false),
    (1, 8, 1, 1, true),
    (1, 12, 1, 1, false),
    (1, 16, 1, 1, true),
    (1, 32, 1, 1, true),
    (1, 8, 2, 1, true),
    (1, 16, 2, 1, true),
    (1, 32, 3, 1, true),
    (1, 64, 3, 1, true),
    (2, 8, 1, 1, true),
    (3, 8, 1, 2, true),
    (3, 16, 1, 2, true),
    (4, 8, 1, 2, true),
    (1, 4, 1, 3, false),
    (1, 8, 1, 3, false),
];

fn spec_and_window() -> impl Strategy<Value = (TiffSpec, Vec<u64>, Vec<u16>, Window)> {
    (
        1usize..70,
        1usize..70,
        0..KINDS.len(),
        any::<bool>(),
        prop_oneof![
            (1usize..20).prop_map(TiffLayout::Strips),
            (1usize..4, 1usize..4).prop_map(|(w, h)| TiffLayout::Tiles(16 * w, 16 * h)),
        ],
        any::<u64>(),
    )
        .prop_flat_map(|(width, height, kind, planar, layout, seed)| {
            let (samples, bits, format, photometric, planes) = KINDS[kind];
            let spec = TiffSpec {
                width,
                height,
                samples,
                bits,
                format,
                photometric,
                planar: planar && planes && samples > 1,
                layout,
            };
            let mut state = seed | 1;
            let mut next = move || {
                // xorshift64: reproducible samples from the seed.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            let values: Vec<u64> = (0..width * height * samples)
                .map(|_| next() & spec.value_mask())
                .collect();
            let color_map: Vec<u16> = if photometric == 3 {
                (0..3 << bits).map(|_| next() as u16).collect()
            } else {
                Vec::new()
            };
            let rows = (0..height).prop_flat_map(move |start| (Just(start), start + 1..=height));
            let cols = (0..width).prop_flat_map(move |start| (Just(start), start + 1..=width));
            (Just(spec), Just(values), Just(color_map), rows, cols).prop_map(
                |(spec, values, map, (r0, r1), (c0, c1))| {
                    (spec, values, map, window(r0..r1, c0..c1))
                },
            )
        })
}

/// The samples as the whole decode gives them, where no conversion
/// applies: little-endian, interleaved.
fn as_decoded(spec: &TiffSpec, values: &[u64]) -> Option<Vec<u8>> {
    let bytes = match spec.bits {
        8 | 16 | 32 | 64 => usize::from(spec.bits / 8),
        _ => return None,
    };
    if spec.photometric == 3 {
        return None;
    }
    Some(
        values
            .iter()
            .flat_map(|v| v.to_le_bytes()[..bytes].to_vec())
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_layouts_stream_every_window_as_the_whole_decode_crops_it(
        (spec, values, color_map, window) in spec_and_window()
    ) {
        let file = write_tiff(&spec, &values, &color_map);
        let whole = decode(&file, LIMIT).unwrap().tensor;
        let pixel = whole.channels() * whole.sample_type().itemsize();
        if let Some(samples) = as_decoded(&spec, &values) {
            prop_assert!(whole.as_le_bytes() == samples.as_slice(), "the whole decode differs");
        }
        let want = crop(whole.as_le_bytes(), spec.width, pixel, &window);
        let got = stream(&file, &window).unwrap();
        prop_assert!(got == want, "the rows differ");
    }

    #[test]
    fn compressed_strips_with_predictors_stream_as_the_whole_decode_crops_them(
        width in 1u32..60,
        height in 1u32..60,
        rows_per_strip in 1u32..12,
        kind in 0..3usize,
        compression in 0..3usize,
        predictor in any::<bool>(),
        seed in any::<u8>(),
        corner in (0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0),
    ) {
        let compression = [
            Compression::Lzw,
            Compression::Deflate(DeflateLevel::Fast),
            Compression::Packbits,
        ][compression];
        let predictor = if predictor { Predictor::Horizontal } else { Predictor::None };
        let mut file = Cursor::new(Vec::new());
        let mut encoder = TiffEncoder::new(&mut file)
            .unwrap()
            .with_compression(compression)
            .with_predictor(predictor);
        let n = (width * height) as usize;
        let bytes: Vec<u8> = (0..n * 6).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
        macro_rules! write {
            ($color:ty, $data:expr) => {{
                let mut image = encoder.new_image::<$color>(width, height).unwrap();
                image.rows_per_strip(rows_per_strip).unwrap();
                image.write_data($data).unwrap();
            }};
        }
        match kind {
            0 => write!(colortype::Gray8, &bytes[..n]),
            1 => write!(colortype::RGB8, &bytes[..3 * n]),
            _ => {
                let wide: Vec<u16> = bytes[..2 * n]
                    .chunks_exact(2)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]))
                    .collect();
                write!(colortype::Gray16, &wide[..]);
            }
        }
        let file = file.into_inner();
        let (w, h) = (width as usize, height as usize);
        let at = |f: f64, n: usize| ((f * n as f64) as usize).min(n - 1);
        let (r0, c0) = (at(corner.0, h), at(corner.1, w));
        let (r1, c1) = (r0 + 1 + at(corner.2, h - r0), c0 + 1 + at(corner.3, w - c0));
        let window = window(r0..r1, c0..c1);
        let whole = decode(&file, LIMIT).unwrap().tensor;
        let pixel = whole.channels() * whole.sample_type().itemsize();
        let want = crop(whole.as_le_bytes(), w, pixel, &window);
        prop_assert!(stream(&file, &window).unwrap() == want, "the rows differ");
    }
}

/// A deflated gray TIFF of 40 rows in strips of 4, and where each strip is.
fn deflated_strips() -> (Vec<u8>, Vec<(usize, usize)>) {
    let (width, height) = (24u32, 40u32);
    let mut file = Cursor::new(Vec::new());
    let mut encoder = TiffEncoder::new(&mut file)
        .unwrap()
        .with_compression(Compression::Deflate(DeflateLevel::Fast));
    let data: Vec<u8> = (0..width * height).map(|i| (i * 7 % 251) as u8).collect();
    let mut image = encoder
        .new_image::<colortype::Gray8>(width, height)
        .unwrap();
    image.rows_per_strip(4).unwrap();
    image.write_data(&data).unwrap();
    let file = file.into_inner();
    let mut decoder = Decoder::new(Cursor::new(&file[..])).unwrap();
    let offsets = decoder
        .get_tag_u64_vec(tiff::tags::Tag::StripOffsets)
        .unwrap();
    let counts = decoder
        .get_tag_u64_vec(tiff::tags::Tag::StripByteCounts)
        .unwrap();
    let strips = offsets
        .iter()
        .zip(&counts)
        .map(|(&o, &c)| (o as usize, c as usize))
        .collect();
    (file, strips)
}

#[test]
fn strips_below_the_window_are_not_decoded_and_a_damaged_one_inside_is_refused() {
    let (good, strips) = deflated_strips();
    let whole = decode(&good, LIMIT).unwrap().tensor;
    let mut damaged = good.clone();
    // Strips 5 to 9 (rows 20 to 39) are no longer zlib streams.
    for &(offset, count) in &strips[5..] {
        damaged[offset..offset + count].fill(0xFF);
    }
    assert!(decode(&damaged, LIMIT).is_err(), "the damage goes unseen");
    let above = window(3..20, 2..20);
    assert_eq!(
        stream(&damaged, &above).unwrap(),
        crop(whole.as_le_bytes(), 24, 1, &above)
    );
    let into = window(3..21, 2..20);
    let err = stream(&damaged, &into).unwrap_err();
    assert!(
        matches!(err, StreamError::Input(RasterError::Tiff { .. })),
        "{err}"
    );
}

#[test]
fn tiles_past_the_files_end_are_refused_whatever_the_window() {
    let spec = TiffSpec {
        width: 64,
        height: 40,
        samples: 3,
        bits: 8,
        format: 1,
        photometric: 2,
        planar: true,
        layout: TiffLayout::Tiles(16, 16),
    };
    let values: Vec<u64> = (0..64 * 40 * 3).map(|i| i % 256).collect();
    let good = write_tiff(&spec, &values, &[]);
    let whole = decode(&good, LIMIT).unwrap().tensor;
    // Every plane's tiles of the first and last columns point past the end
    // of the file: a window beside them is refused too.
    let mut damaged = good.clone();
    let mut decoder = Decoder::new(Cursor::new(&good[..])).unwrap();
    let offsets = decoder
        .get_tag_u64_vec(tiff::tags::Tag::TileOffsets)
        .unwrap();
    for (i, &offset) in offsets.iter().enumerate() {
        if i % 4 == 0 || i % 4 == 3 {
            let field = offset.to_le_bytes();
            let at = find_offset_field(&good, &offsets, i);
            assert_eq!(good[at..at + 4], field[..4]);
            damaged[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        }
    }
    assert!(decode(&damaged, LIMIT).is_err());
    let inside = window(5..40, 16..48);
    assert_eq!(
        stream(&good, &inside).unwrap(),
        crop(whole.as_le_bytes(), 64, 3, &inside)
    );
    for window in [inside, window(5..40, 15..48), window(0..1, 47..49)] {
        let err = stream(&damaged, &window).unwrap_err().to_string();
        assert!(err.contains("its tile 0 takes"), "{err}");
    }
}

/// Where the TileOffsets value of tile `i` is in a file `write_tiff` made:
/// the array of offsets, found by its contents.
fn find_offset_field(file: &[u8], offsets: &[u64], i: usize) -> usize {
    let array: Vec<u8> = offsets
        .iter()
        .flat_map(|&o| (o as u32).to_le_bytes())
        .collect();
    let start = file
        .windows(array.len())
        .position(|w| w == array)
        .expect("the offsets array");
    start + 4 * i
}

/// Gives the first page's entry `tag`, a SHORT or LONG held in the entry,
/// the value `value`, in a little-endian file.
fn set_entry(file: &mut [u8], tag: u16, value: u32) {
    let ifd = u32::from_le_bytes(file[4..8].try_into().unwrap()) as usize;
    let count = u16::from_le_bytes([file[ifd], file[ifd + 1]]) as usize;
    let at = (0..count)
        .map(|i| ifd + 2 + 12 * i)
        .find(|&at| u16::from_le_bytes([file[at], file[at + 1]]) == tag)
        .expect("the entry");
    match u16::from_le_bytes([file[at + 2], file[at + 3]]) {
        3 => file[at + 8..at + 10].copy_from_slice(&(value as u16).to_le_bytes()),
        _ => file[at + 8..at + 12].copy_from_slice(&value.to_le_bytes()),
    }
}

#[test]
fn a_header_claiming_a_huge_strip_is_refused_before_it_is_allocated() {
    let spec = TiffSpec {
        width: 1,
        height: 1,
        samples: 3,
        bits: 16,
        format: 1,
        photometric: 2,
        planar: false,
        layout: TiffLayout::Strips(1),
    };
    let mut file = write_tiff(&spec, &[1, 2, 3], &[]);
    // 200000 x 200000 RGB16 in one strip: 240 GB, of 6 bytes in the file.
    for tag in [256, 257, 278] {
        set_entry(&mut file, tag, 200_000);
    }
    let refused = |e: &RasterError| matches!(e, RasterError::Limit { .. });
    assert!(source(Cursor::new(&file[..]), LIMIT).is_err_and(|e| refused(&e)));
    assert!(decode(&file, LIMIT).is_err_and(|e| refused(&e)));
    // In strips of one row, the rows need little memory, and the file
    // holds none of them.
    let mut file = write_tiff(&spec, &[1, 2, 3], &[]);
    set_entry(&mut file, 256, 200_000);
    let mut rows = source(Cursor::new(&file[..]), LIMIT).unwrap();
    let err = rows
        .read_window(&window(0..1, 5..9), &mut |_| Ok(()))
        .unwrap_err();
    assert!(
        matches!(err, StreamError::Input(RasterError::Tiff { .. })),
        "{err}"
    );
}

#[test]
fn one_strip_of_the_largest_rows_per_strip_is_the_image_height() {
    let spec = TiffSpec {
        width: 30,
        height: 20,
        samples: 1,
        bits: 16,
        format: 1,
        photometric: 1,
        planar: false,
        layout: TiffLayout::Strips(20),
    };
    let values: Vec<u64> = (0..600).map(|i| i * 97).collect();
    let mut file = write_tiff(&spec, &values, &[]);
    set_entry(&mut file, 278, u32::MAX);
    // The strip is 1200 bytes; its padding to 2³²−1 rows is not decoded.
    let mut rows = source(Cursor::new(&file[..]), 1200).unwrap();
    let mut got = Vec::new();
    rows.read_window(&window(19..20, 28..30), &mut |row| {
        got.extend_from_slice(row);
        Ok(())
    })
    .unwrap();
    let want: Vec<u8> = [598u64, 599]
        .iter()
        .flat_map(|i| ((i * 97) as u16).to_le_bytes())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_band_wider_than_the_limit_is_refused() {
    let spec = TiffSpec {
        width: 64,
        height: 64,
        samples: 1,
        bits: 8,
        format: 1,
        photometric: 1,
        planar: false,
        layout: TiffLayout::Tiles(16, 64),
    };
    let values: Vec<u64> = (0..64 * 64).map(|i| i % 256).collect();
    let file = write_tiff(&spec, &values, &[]);
    // One tile is 1 KiB; a row of four, 4 KiB.
    let mut rows = source(Cursor::new(&file[..]), 2048).unwrap();
    let err = rows
        .read_window(&window(0..64, 0..64), &mut |_| Ok(()))
        .unwrap_err();
    assert!(
        matches!(err, StreamError::Input(RasterError::Limit { .. })),
        "{err}"
    );
    let mut got = Vec::new();
    rows.read_window(&window(0..64, 10..20), &mut |row| {
        got.extend_from_slice(row);
        Ok(())
    })
    .unwrap();
    let want: Vec<u8> = (0..64)
        .flat_map(|y| (10..20).map(move |x| ((y * 64 + x) % 256) as u8))
        .collect();
    assert_eq!(got, want);
    assert!(matches!(
        source(Cursor::new(&file[..]), 1000),
        Err(RasterError::Limit { .. })
    ));
}

#[test]
fn truncated_files_are_refused_without_a_panic() {
    let paths = fixtures(&["tif", "tiff"]);
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let step = (bytes.len() / 25).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let cut = &bytes[..cut];
            let rows = source(Cursor::new(cut), LIMIT);
            let Ok(mut rows) = rows else {
                let e = rows.err().unwrap();
                assert!(
                    !matches!(e, RasterError::Panic { .. }),
                    "{}: {e}",
                    path.display()
                );
                continue;
            };
            let (h, w) = (rows.info().height, rows.info().width);
            for window in [window(0..h.div_ceil(2), 0..w), window(0..h, 0..w)] {
                if let Err(StreamError::Input(e)) = rows.read_window(&window, &mut |_| Ok(())) {
                    assert!(
                        !matches!(e, RasterError::Panic { .. }),
                        "{}: {e}",
                        path.display()
                    );
                }
            }
        }
    }
}
