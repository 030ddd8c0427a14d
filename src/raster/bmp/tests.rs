//! A window read by rows is the whole decode cropped, byte for byte, for
//! every BMP fixture and for BMPs of random headers, depths and sizes; a
//! file cut short is refused by both or by neither.

use std::io::Cursor;

use image::ImageFormat;
use proptest::prelude::*;

use super::read::{STREAMABLE_HEAD, source, streamable};
use crate::raster::RasterError;
use crate::raster::rows::{StreamError, Window};
use crate::raster::testing::{crop, fixtures, window};

const LIMIT: u64 = 1 << 30;

/// The whole decode, as rcrop decodes a BMP file: samples and their width
/// and pixel size.
fn whole(bytes: &[u8]) -> Result<(Vec<u8>, usize, usize), RasterError> {
    let tensor = crate::raster::decode(bytes, ImageFormat::Bmp, LIMIT)?.tensor;
    let pixel = tensor.channels();
    let width = tensor.width();
    Ok((tensor.into_le_bytes(), width, pixel))
}

fn stream(bytes: &[u8], window: &Window) -> Result<Vec<u8>, StreamError> {
    let mut rows = source(Cursor::new(bytes), LIMIT)?;
    let line = window.cols.len() * rows.info().pixel_len();
    let mut out = Vec::new();
    rows.read_window(window, &mut |row| {
        assert_eq!(row.len(), line, "a row of the wrong length");
        out.extend_from_slice(row);
        Ok(())
    })?;
    assert_eq!(
        out.len(),
        line * window.rows.len(),
        "a wrong number of rows"
    );
    Ok(out)
}

#[test]
fn every_fixture_streams_each_window_as_the_whole_decode_crops_it() {
    let paths = fixtures(&["bmp"]);
    assert!(paths.len() >= 10, "the BMP fixtures are missing");
    let mut streamed = 0;
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display();
        if streamable(&bytes[..STREAMABLE_HEAD]) != Some(true) {
            assert!(
                matches!(
                    source(Cursor::new(&bytes[..]), LIMIT),
                    Err(RasterError::NotAnImage(_))
                ),
                "{name}: not streamable, yet not refused"
            );
            continue;
        }
        let Ok((whole, width, pixel)) = whole(&bytes) else {
            let (h, w) = (1, 1);
            assert!(stream(&bytes, &window(0..h, 0..w)).is_err(), "{name}");
            continue;
        };
        let height = whole.len() / (width * pixel);
        let mut rows = source(Cursor::new(&bytes[..]), LIMIT).unwrap();
        let (h, w) = (height, width);
        for window in [
            window(0..h, 0..w),
            window(h / 4..h - h / 4, w / 3..w - w / 4),
            window(h / 2..h / 2 + 1, 0..w),
            window(0..h, w / 2..w / 2 + 1),
            window(h - 1..h, 0..w),
            window(0..1, w - 1..w),
        ] {
            let mut got = Vec::new();
            rows.read_window(&window, &mut |row| {
                got.extend_from_slice(row);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name} {window:?}: {e}"));
            assert!(
                got == crop(&whole, width, pixel, &window),
                "{name} {window:?}: the rows differ"
            );
            streamed += 1;
        }
    }
    assert!(streamed >= 50, "only {streamed} windows streamed");
}

/// A BMP header of a random kind.
#[derive(Clone, Copy, Debug)]
enum InfoHeader {
    Core,
    Info,
    Os2,
    V4,
    V5,
}

impl InfoHeader {
    fn len(self) -> usize {
        match self {
            InfoHeader::Core => 12,
            InfoHeader::Info => 40,
            InfoHeader::Os2 => 64,
            InfoHeader::V4 => 108,
            InfoHeader::V5 => 124,
        }
    }
}

/// What a generated BMP holds.
#[derive(Clone, Debug)]
struct BmpSpec {
    header: InfoHeader,
    width: usize,
    height: usize,
    bits: u16,
    /// BI_BITFIELDS masks: red, green, blue, alpha.
    masks: Option<[u32; 4]>,
    colors_used: u32,
    top_down: bool,
    /// Bytes between the palette and the pixels.
    gap: usize,
    seed: u64,
}

/// An uncompressed BMP as `spec` says, its palette and pixels from the seed.
fn write_bmp(spec: &BmpSpec) -> Vec<u8> {
    let mut state = spec.seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    let len = spec.header.len();
    let mut header = vec![0u8; len];
    header[..4].copy_from_slice(&(len as u32).to_le_bytes());
    let mut masks_after = Vec::new();
    if let InfoHeader::Core = spec.header {
        header[4..6].copy_from_slice(&(spec.width as u16).to_le_bytes());
        header[6..8].copy_from_slice(&(spec.height as u16).to_le_bytes());
        header[8..10].copy_from_slice(&1u16.to_le_bytes());
        header[10..12].copy_from_slice(&spec.bits.to_le_bytes());
    } else {
        let height = if spec.top_down {
            -(spec.height as i32)
        } else {
            spec.height as i32
        };
        header[4..8].copy_from_slice(&(spec.width as i32).to_le_bytes());
        header[8..12].copy_from_slice(&height.to_le_bytes());
        header[12..14].copy_from_slice(&1u16.to_le_bytes());
        header[14..16].copy_from_slice(&spec.bits.to_le_bytes());
        let compression = if spec.masks.is_some() { 3u32 } else { 0 };
        header[16..20].copy_from_slice(&compression.to_le_bytes());
        header[32..36].copy_from_slice(&spec.colors_used.to_le_bytes());
        if let Some(masks) = spec.masks {
            let bytes: Vec<u8> = masks.iter().flat_map(|m| m.to_le_bytes()).collect();
            match spec.header {
                InfoHeader::Info => masks_after = bytes[..12].to_vec(),
                _ => header[40..56].copy_from_slice(&bytes),
            }
        }
    }
    let palette = if spec.bits <= 8 {
        let entry = if let InfoHeader::Core = spec.header {
            3
        } else {
            4
        };
        let colors = match spec.colors_used {
            0 => 1 << spec.bits,
            n => n as usize,
        };
        (0..colors * entry).map(|_| next()).collect()
    } else {
        Vec::new()
    };
    let offset = 14 + len + masks_after.len() + palette.len() + spec.gap;
    let stride = (usize::from(spec.bits) * spec.width).div_ceil(32) * 4;
    let pixels: Vec<u8> = (0..stride * spec.height).map(|_| next()).collect();
    let mut file = b"BM".to_vec();
    file.extend_from_slice(&((offset + pixels.len()) as u32).to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&(offset as u32).to_le_bytes());
    file.extend(header);
    file.extend(masks_after);
    file.extend(palette);
    file.extend(std::iter::repeat_n(0x5A, spec.gap));
    file.extend(pixels);
    file
}

fn spec() -> impl Strategy<Value = BmpSpec> {
    let masks16 = prop_oneof![
        Just([0xF800, 0x07E0, 0x001F, 0]),
        Just([0x7C00, 0x03E0, 0x001F, 0]),
        Just([0x0F00, 0x00F0, 0x000F, 0xF000]),
    ];
    let masks32 = prop_oneof![
        Just([0x00FF_0000, 0x0000_FF00, 0x0000_00FF, 0]),
        Just([0x00FF_0000, 0x0000_FF00, 0x0000_00FF, 0xFF00_0000]),
        Just([0xFF00_0000, 0x00FF_0000, 0x0000_FF00, 0]),
        Just([0x3FF0_0000, 0x000F_FC00, 0x0000_03FF, 0]),
    ];
    let kind = prop_oneof![
        (
            Just(InfoHeader::Core),
            prop_oneof![Just(1u16), Just(4), Just(8), Just(24)],
            Just(None)
        ),
        (
            prop_oneof![
                Just(InfoHeader::Info),
                Just(InfoHeader::Os2),
                Just(InfoHeader::V4),
                Just(InfoHeader::V5)
            ],
            prop_oneof![
                Just(1u16),
                Just(2),
                Just(4),
                Just(8),
                Just(16),
                Just(24),
                Just(32)
            ],
            Just(None),
        ),
        (
            prop_oneof![
                Just(InfoHeader::Info),
                Just(InfoHeader::V4),
                Just(InfoHeader::V5)
            ],
            Just(16u16),
            masks16.prop_map(Some),
        ),
        (
            prop_oneof![
                Just(InfoHeader::Info),
                Just(InfoHeader::V4),
                Just(InfoHeader::V5)
            ],
            Just(32u16),
            masks32.prop_map(Some),
        ),
    ];
    (
        kind,
        1usize..40,
        1usize..40,
        any::<bool>(),
        0usize..6,
        any::<u64>(),
        0u32..=256,
    )
        .prop_map(
            |((header, bits, masks), width, height, top_down, gap, seed, used)| {
                let colors_used = if bits <= 8 && !matches!(header, InfoHeader::Core) {
                    used % ((1 << bits) + 1)
                } else {
                    0
                };
                // An Info header's alpha mask is not stored.
                let masks = masks.map(|mut m: [u32; 4]| {
                    if let InfoHeader::Info = header {
                        m[3] = 0;
                    }
                    m
                });
                BmpSpec {
                    header,
                    width,
                    height,
                    bits,
                    masks,
                    colors_used,
                    top_down: top_down
                        && matches!(header, InfoHeader::Info | InfoHeader::V4 | InfoHeader::V5),
                    gap,
                    seed,
                }
            },
        )
}

fn spec_and_window() -> impl Strategy<Value = (BmpSpec, Window)> {
    spec().prop_flat_map(|spec| {
        let (h, w) = (spec.height, spec.width);
        let rows = (0..h).prop_flat_map(move |s| (Just(s), s + 1..=h));
        let cols = (0..w).prop_flat_map(move |s| (Just(s), s + 1..=w));
        (Just(spec), rows, cols)
            .prop_map(|(spec, (r0, r1), (c0, c1))| (spec, window(r0..r1, c0..c1)))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bmps_stream_every_window_as_the_whole_decode_crops_it(
        (spec, window) in spec_and_window()
    ) {
        let file = write_bmp(&spec);
        prop_assert_eq!(streamable(&file[..STREAMABLE_HEAD.min(file.len())]), Some(true));
        let (whole, width, pixel) = whole(&file).unwrap();
        prop_assert!(stream(&file, &window).unwrap() == crop(&whole, width, pixel, &window));
    }

    #[test]
    fn a_cut_file_is_refused_by_both_decodes_or_by_neither(
        spec in spec(),
        cut in 0.0f64..1.0,
    ) {
        let mut file = write_bmp(&spec);
        file.truncate((file.len() as f64 * cut) as usize);
        let (h, w) = (spec.height, spec.width);
        match whole(&file) {
            Ok((whole, width, pixel)) => {
                let all = window(0..h, 0..w);
                prop_assert!(stream(&file, &all).unwrap() == crop(&whole, width, pixel, &all));
            }
            Err(_) => prop_assert!(stream(&file, &window(0..1, 0..1)).is_err()),
        }
    }
}

#[test]
fn compressed_bmps_are_left_to_the_whole_decode() {
    let mut rle = write_bmp(&BmpSpec {
        header: InfoHeader::Info,
        width: 4,
        height: 2,
        bits: 8,
        masks: None,
        colors_used: 0,
        top_down: false,
        gap: 0,
        seed: 7,
    });
    assert_eq!(streamable(&rle[..STREAMABLE_HEAD]), Some(true));
    // BI_RLE8.
    rle[30..34].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(streamable(&rle[..STREAMABLE_HEAD]), Some(false));
    assert!(matches!(
        source(Cursor::new(&rle[..]), LIMIT),
        Err(RasterError::NotAnImage(_))
    ));
    assert_eq!(streamable(&rle[..STREAMABLE_HEAD - 1]), None);
    assert_eq!(
        streamable(b"GIF89a and more bytes than a BMP head needs"),
        None
    );
}

#[test]
fn a_header_claiming_more_rows_than_the_file_holds_allocates_nothing() {
    let mut file = write_bmp(&BmpSpec {
        header: InfoHeader::Info,
        width: 3,
        height: 2,
        bits: 24,
        masks: None,
        colors_used: 0,
        top_down: false,
        gap: 0,
        seed: 7,
    });
    // 65535 x 65535 RGB: 12 GiB decoded, in a file of 60 bytes.
    file[18..22].copy_from_slice(&65535i32.to_le_bytes());
    file[22..26].copy_from_slice(&65535i32.to_le_bytes());
    let err = source(Cursor::new(&file[..]), LIMIT).err().unwrap();
    assert!(
        err.to_string().contains("pass the end of the file"),
        "{err}"
    );
}
