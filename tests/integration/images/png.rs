//! PNG: a crop keeps the pixels and the color type; images read a row at a
//! time give exactly what the whole-image path gives: the rows of a window
//! equal the whole decode cropped, for random PNGs of every color type and
//! bit depth; every interlaced PngSuite image (decoded whole) crops to the
//! same outputs, byte for byte, as its non-interlaced twin (read a row at a
//! time); and an image far over the image limit crops within it.

use std::io::Cursor;

use image::{DynamicImage, GenericImageView, ImageBuffer, ImageFormat, Luma};
use proptest::prelude::*;
use rcrop::raster::{self, RowInput, Window};

use crate::util::{Rcrop, assert_every, fixture, gradient_rgb8, load_image, same_file, save_image};

#[test]
fn png_to_png_crops_pixels_exactly_and_keeps_the_color_type() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let gray16 = DynamicImage::ImageLuma16(ImageBuffer::from_fn(9, 7, |x, y| {
        Luma([(x * 7000 + y * 300) as u16])
    }));
    let cases = [("rgb8", gradient_rgb8(9, 7)), ("gray16", gray16)];
    for (name, image) in cases {
        let input = dir.path().join(format!("{name}.png"));
        let output = dir.path().join(format!("{name}_out.png"));
        save_image(&image, &input);
        rcrop.run_ok(&["-c", "1,2:3,0"], &input, &output);
        let cropped = load_image(&output);
        assert_eq!(cropped.color(), image.color(), "{name}");
        assert_eq!(cropped.dimensions(), (6, 4), "{name}");
        let expected = image.crop_imm(3, 1, 6, 4);
        assert_eq!(cropped.as_bytes(), expected.as_bytes(), "{name}");
    }
}

/// A PNG of `color` at `depth` bits holding `data` as its raw rows, with
/// a palette of every index and, if asked, a `tRNS` chunk.
fn png(
    (w, h): (u32, u32),
    color: png::ColorType,
    depth: png::BitDepth,
    trns: bool,
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(color);
    encoder.set_depth(depth);
    let bits = depth as usize;
    if color == png::ColorType::Indexed {
        let palette: Vec<u8> = (0..(3usize << bits))
            .map(|i| (i * 37 % 251) as u8)
            .collect();
        encoder.set_palette(palette);
        if trns {
            encoder.set_trns(
                (0..(1usize << bits))
                    .map(|i| (i * 91 % 256) as u8)
                    .collect::<Vec<_>>(),
            );
        }
    } else if trns && matches!(color, png::ColorType::Grayscale | png::ColorType::Rgb) {
        let samples = if color == png::ColorType::Rgb { 3 } else { 1 };
        let value = data.first().copied().unwrap_or(0) as usize & ((1usize << bits.min(8)) - 1);
        let trns: Vec<u8> = (0..samples).flat_map(|_| [0, value as u8]).collect();
        encoder.set_trns(trns);
    }
    let mut writer = encoder.write_header().unwrap();
    let samples = color.samples();
    let row = (w as usize * samples * bits).div_ceil(8);
    let size = row * h as usize;
    let filled: Vec<u8> = data.iter().copied().cycle().take(size).collect();
    writer.write_image_data(&filled).unwrap();
    writer.finish().unwrap();
    out
}

fn color_and_depth() -> impl Strategy<Value = (png::ColorType, png::BitDepth)> {
    use png::BitDepth::*;
    use png::ColorType::*;
    prop_oneof![
        prop::sample::select(vec![One, Two, Four, Eight, Sixteen]).prop_map(|d| (Grayscale, d)),
        prop::sample::select(vec![One, Two, Four, Eight]).prop_map(|d| (Indexed, d)),
        prop::sample::select(vec![Eight, Sixteen]).prop_map(|d| (Rgb, d)),
        prop::sample::select(vec![Eight, Sixteen]).prop_map(|d| (GrayscaleAlpha, d)),
        prop::sample::select(vec![Eight, Sixteen]).prop_map(|d| (Rgba, d)),
    ]
}

/// The window's rows of the whole decode, cut to its columns.
fn whole_window(bytes: &[u8], window: &Window) -> Vec<u8> {
    let tensor = raster::decode(bytes, ImageFormat::Png, 1 << 30)
        .unwrap()
        .tensor;
    let pixel = tensor.channels() * tensor.sample_type().itemsize();
    let line = tensor.width() * pixel;
    let all = tensor.as_le_bytes();
    window
        .rows
        .clone()
        .flat_map(|y| {
            &all[y * line + window.cols.start * pixel..y * line + window.cols.end * pixel]
        })
        .copied()
        .collect()
}

fn streamed_window(bytes: &[u8], window: &Window) -> Vec<u8> {
    let input = RowInput::Stream(Box::new(Cursor::new(bytes.to_vec())));
    let mut rows = raster::row_source(ImageFormat::Png, input, 1 << 30).unwrap();
    let mut out = Vec::new();
    raster::read_window(ImageFormat::Png, rows.as_mut(), window, &mut |row| {
        out.extend_from_slice(row);
        Ok(())
    })
    .unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_png_window_read_a_row_at_a_time_equals_the_whole_decode_cropped(
        (w, h) in (1u32..40, 1u32..40),
        (color, depth) in color_and_depth(),
        trns in any::<bool>(),
        data in prop::collection::vec(any::<u8>(), 1..64),
        cut in (0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0),
    ) {
        let bytes = png((w, h), color, depth, trns, &data);
        let head = &bytes[..raster::STREAM_HEAD.min(bytes.len())];
        prop_assert!(raster::streams(ImageFormat::Png, head, false));
        let span = |n: u32, a: f64, b: f64| {
            let start = (a * f64::from(n)) as usize;
            let end = start + 1 + (b * f64::from(n - start as u32 - 1)) as usize;
            start..end
        };
        let window = Window { rows: span(h, cut.0, cut.1), cols: span(w, cut.2, cut.3) };
        prop_assert_eq!(streamed_window(&bytes, &window), whole_window(&bytes, &window));
    }
}

/// Every interlaced image of the PngSuite beside its non-interlaced twin.
fn pngsuite_pairs() -> Vec<(String, String)> {
    let dir = fixture("pngsuite");
    let mut pairs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| {
            let twin = name.strip_prefix('i')?.to_string();
            dir.join(&twin).exists().then_some((name, twin))
        })
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn every_interlaced_pngsuite_image_crops_as_its_row_read_twin_does() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let pairs = pngsuite_pairs();
    assert!(pairs.len() >= 30, "{} pairs", pairs.len());
    let runs: &[(&[&str], &str)] = &[
        (&["-c", "3,1:2,5"], "npy"),
        (&["-c", "3,1:2,5", "-f", "channels_first"], "npy"),
        (&["-c", "3,1:2,5"], "png"),
        (&["-c", "1,2:0,3"], "tif"),
        (&["-c", "2,0:1,1"], "bmp"),
        (&["-c", "4", "--color-mode", "rgb"], "npy"),
        (&["-c", "4", "-f", "channels_first", "--order", "F"], "npy"),
    ];
    let cases: Vec<_> = pairs
        .iter()
        .flat_map(|pair| runs.iter().enumerate().map(move |run| (pair, run)))
        .collect();
    assert_every(
        &cases,
        |((interlaced, _), _)| interlaced.as_str(),
        |((interlaced, twin), (i, (args, ext)))| {
            // Both succeed, or both fail alike.
            let run = |name: &str, tag: &str| {
                let out = dir.path().join(format!("{name}.{tag}{i}.{ext}"));
                let (code, stderr) = rcrop.run(args, &fixture("pngsuite").join(name), &out);
                let said = stderr.replace(&out.display().to_string(), "OUT");
                (out, code, said.replace(name, "NAME"))
            };
            let (whole, code, said) = run(interlaced, "whole");
            let (rows, twin_code, twin_said) = run(twin, "rows");
            if (code, &said) != (twin_code, &twin_said) {
                return Err(format!("{said} but {twin}: {twin_said}"));
            }
            // Only what an output cannot hold may be refused: a color mode
            // of a 16-bit image, gray+alpha or 16 bits in TIFF or BMP.
            let may_refuse = args.contains(&"--color-mode") || matches!(*ext, "tif" | "bmp");
            if code != Some(0) {
                let cannot = said.contains("cannot hold") || said.contains("converts 8-bit images");
                if may_refuse && cannot {
                    return Ok(());
                }
                return Err(format!("refused: {said}"));
            }
            same_file(&rows, &whole).map_err(|e| format!("{twin} {args:?}: {e}"))
        },
    );
}

#[test]
fn an_image_over_the_image_limit_crops_a_row_at_a_time_from_a_file_and_a_pipe() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    // 4000 × 3000 RGB: 36 MB decoded, against a limit of 1 MiB.
    let (w, h) = (4000u32, 3000u32);
    let data: Vec<u8> = (0..=255u8).collect();
    let input = dir.path().join("big.png");
    std::fs::write(
        &input,
        png(
            (w, h),
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            false,
            &data,
        ),
    )
    .unwrap();
    let out = dir.path().join("out.npy");
    let args = ["-c", "7,1:2,5", "--image-limit-mib", "1"];
    rcrop.run_ok(&args, &input, &out);
    let bytes = std::fs::read(&out).unwrap();
    let header = b"\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2992, 3993, 3), }";
    assert_eq!(&bytes[..header.len()], header);
    // Pixel (y, x, c) of the input is sample (y * w + x) * 3 + c of the cycle.
    let data_at = 128;
    let (y, x) = (7usize, 2usize);
    let sample = |y: usize, x: usize, c: usize| ((y * w as usize + x) * 3 + c) % 256;
    let expected: Vec<u8> = (0..3993 * 3)
        .map(|i| sample(y, x + i / 3, i % 3) as u8)
        .collect();
    assert_eq!(
        &bytes[data_at..data_at + expected.len()],
        expected.as_slice()
    );
    assert_eq!(bytes.len(), data_at + 2992 * 3993 * 3);

    // The same from standard input to standard output.
    let piped = rcrop
        .cmd()
        .args(args)
        .args(["--to", "npy", "-", "-"])
        .pipe_stdin(&input)
        .unwrap()
        .output()
        .unwrap();
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert!(piped.stdout == bytes);

    // Written a strip at a time, or bottom-up a run of rows at a time, TIFF
    // and BMP hold the same pixels.
    for ext in ["tif", "bmp"] {
        let image = dir.path().join(format!("out.{ext}"));
        rcrop.run_ok(&args, &input, &image);
        let back = dir.path().join("back.npy");
        rcrop.run_ok(&["-c", "0"], &image, &back);
        same_file(&back, &out).unwrap();
    }

    // An output written whole is held to the limit, and says so.
    let stderr = rcrop.run_fails(&args, &input, &dir.path().join("out.jpg"));
    assert!(
        stderr.contains("JPEG is written from the whole image, and the cropped image takes 35 MiB, over the image limit of 1 MiB"),
        "{stderr}"
    );
    assert!(!dir.path().join("out.jpg").exists());
}
