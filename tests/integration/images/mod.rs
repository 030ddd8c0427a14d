//! Images in and out, across formats: arrays to images and back, what a
//! format cannot hold, ICC profiles, limits, truncated and unknown files,
//! determinism, standard output; and every case in fixtures/images/cases.tsv,
//! whose expected tensors were made with Pillow and NumPy: rcrop's `.npy`
//! output must equal them byte for byte, and the cropped image must survive
//! image → `.npy` → image unchanged (but JPEG, whose re-encoding is lossy).
//!
//! A test of one format lives in the file that names it (`others.rs` names
//! TGA, QOI, ICO, farbfeld, Radiance HDR and OpenEXR); a test across formats
//! lives here, or with its feature (color modes, the real-world corpus).

/// `--color-mode`, as Keras' `load_img` gives it, for every format.
mod color;
/// OpenEXR: a layer, the first part, gray, the data window, as OpenEXR reads them.
mod exr;
/// OpenEXR luminance/chroma as OpenEXR's RGBA interface converts it.
mod exr_yc;
/// CCITT Group 4 TIFF of strips or tiles over 65535 pixels a side, as libtiff reads them.
mod g4_wide;
/// GIF: one color per transparent pixel, or a refusal.
mod gif;
/// GIF's first frame on Pillow's canvas; WebP as libwebp decodes it.
mod gifwebp;
/// Radiance HDR in each of its eight orientations, as displayed.
mod hdr;
/// ICO: PNG entries of every color type, sizes from the image, as Pillow reads them.
mod ico_entries;
/// JPEG: Pillow's pixels, and the lossless crop on the block grid.
mod jpeg;
/// JPEG: what libjpeg warns of before the first scan skipped, to Pillow's pixels.
mod jpeg_lenient;
/// Header fields Pillow ignores: BMP planes, unknown GIF extensions, TGA alpha bits.
mod odd_headers;
/// TGA, QOI, ICO, farbfeld, Radiance HDR and OpenEXR.
mod others;
/// PNG: pixels and color type kept, rows read one at a time, the PngSuite.
mod png;
/// PNM (P1–P6), as Pillow and Keras read it.
mod pnm;
/// Public files other tools wrote: 16-bit BMPs, and TGA as Pillow writes it.
mod real;
/// gdk-pixbuf's GIF suite and jpeg-decoder's reference JPEGs, as Pillow reads them.
mod suites;
/// TIFF and BMP: windows read from a file, and what TIFF output holds.
mod tiff_bmp;
/// TIFF as scientists write it: any depth, any number of bands, tifffile's tensors.
mod tiff_sci;
/// TIFF strip and tile tables longer or shorter than the page needs, as libtiff reads them.
mod tiff_tables;
/// Inputs read front to back checked to their end, whatever the crop.
mod to_the_end;
/// Real-world files from other tools, decoded as their references decode them.
mod wild;

use std::path::Path;

use image::{DynamicImage, GenericImageView, ImageBuffer, Rgba};

use crate::util::{
    Case, Rcrop, assert_every, cases, gradient_rgb8, listing, load_image, npy_bytes, save_image,
};

#[test]
fn an_image_becomes_a_tensor_of_batch_one_in_either_format() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    save_image(&gradient_rgb8(5, 4), &input);
    let last = dir.path().join("last.npy");
    let first = dir.path().join("first.npy");
    rcrop.run_ok(&["-c", "1,0:2,1", "-f", "channels_last"], &input, &last);
    rcrop.run_ok(&["-c", "1,0:2,1", "-f", "channels_first"], &input, &first);
    let last = std::fs::read(last).unwrap();
    let first = std::fs::read(first).unwrap();
    assert!(
        String::from_utf8_lossy(&last)
            .contains("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3, 2, 3), }")
    );
    assert!(String::from_utf8_lossy(&first).contains("'shape': (1, 3, 3, 2), }"));
    // Pixels (x, y) for x in 2..4, y in 1..4 hold [x, y, x ^ y].
    let hwc: Vec<u8> = (1..4)
        .flat_map(|y| (2..4).flat_map(move |x| [x, y, x ^ y]))
        .collect();
    let chw: Vec<u8> = (0..3)
        .flat_map(|c| hwc.iter().skip(c).step_by(3).copied().collect::<Vec<_>>())
        .collect();
    assert_eq!(&last[last.len() - 18..], hwc.as_slice());
    assert_eq!(&first[first.len() - 18..], chw.as_slice());
}

#[test]
fn arrays_go_to_images_and_back_unchanged() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    // (1, 2, 3, 4) channels_first uint16 big-endian, Fortran order: 2 channels, 3 rows, 4 columns.
    let values: Vec<u16> = (0..24).map(|i| i * 2500).collect();
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
    let array = npy_bytes(
        "{'descr': '>u2', 'fortran_order': True, 'shape': (1, 2, 3, 4), }",
        &data,
    );
    let input = dir.path().join("in.npy");
    std::fs::write(&input, &array).unwrap();
    let png = dir.path().join("out.png");
    rcrop.run_ok(&["-c", "0", "-f", "channels_first"], &input, &png);
    let image = load_image(&png);
    assert_eq!(image.color(), image::ColorType::La16);
    assert_eq!(image.dimensions(), (4, 3));
    // Fortran order: element (0, c, y, x) sits at c + 2 * (y + 3 * x).
    let mut expected = Vec::new();
    for y in 0..3 {
        for x in 0..4 {
            for c in 0..2 {
                expected.push(values[c + 2 * (y + 3 * x)]);
            }
        }
    }
    assert_eq!(image.as_luma_alpha16().unwrap().as_raw(), &expected);
    let back = dir.path().join("back.npy");
    rcrop.run_ok(&["-c", "0", "-f", "channels_last"], &png, &back);
    let back = std::fs::read(back).unwrap();
    let le: Vec<u8> = expected.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert!(
        String::from_utf8_lossy(&back)
            .contains("'descr': '<u2', 'fortran_order': False, 'shape': (1, 3, 4, 2)")
    );
    assert_eq!(&back[back.len() - le.len()..], le.as_slice());
}

#[test]
fn arrays_that_are_not_images_are_refused_with_what_they_are() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "{'descr': '<c8', 'fortran_order': False, 'shape': (1, 2, 2, 3), }",
            96,
            "is (1, 2, 2, 3) '<c8'; an image needs samples of one of the types images hold",
        ),
        (
            "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2, 2, 3), }",
            48,
            "PNG cannot hold 32-bit signed RGB",
        ),
        (
            "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2, 3), }",
            24,
            "needs a batch of 1, not 2",
        ),
        (
            "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 2, 5), }",
            20,
            "1 to 4 channels (channels_last), not 5",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 1), }",
            16,
            "PNG cannot hold float32 gray",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 3), }",
            48,
            "PNG cannot hold float32 RGB",
        ),
    ];
    for (header, len, needle) in cases {
        let input = dir.path().join("in.npy");
        std::fs::write(&input, npy_bytes(header, &vec![0; len])).unwrap();
        let stderr = rcrop.run_fails(
            &["-c", "0", "-f", "channels_last"],
            &input,
            &dir.path().join("out.png"),
        );
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    // TIFF holds float32 RGB.
    let input = dir.path().join("in.npy");
    rcrop.run_ok(
        &["-c", "0", "-f", "channels_last"],
        &input,
        &dir.path().join("out.tif"),
    );
}

#[test]
fn formats_that_cannot_hold_the_pixels_fail_instead_of_converting() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let rgba = DynamicImage::ImageRgba8(ImageBuffer::from_fn(20, 20, |x, y| {
        Rgba([x as u8 * 10, y as u8 * 10, 7, (x * 12) as u8])
    }));
    let input = dir.path().join("in.png");
    save_image(&rgba, &input);
    let cases = [
        (
            "out.jpg",
            "JPEG cannot hold 8-bit RGBA; it holds 8-bit gray or RGB",
        ),
        ("out.gif", "GIF cannot hold 8-bit RGBA with a partial alpha"),
    ];
    for (name, needle) in cases {
        let stderr = rcrop.run_fails(&["-c", "1"], &input, &dir.path().join(name));
        assert!(stderr.contains(&format!("{name}: {needle}")), "{stderr}");
    }
    let many = dir.path().join("many.png");
    save_image(&gradient_rgb8(40, 40), &many);
    let stderr = rcrop.run_fails(&["-c", "1"], &many, &dir.path().join("out.gif"));
    assert!(stderr.contains("more than 256 colors"), "{stderr}");
    assert_eq!(listing(dir.path()), ["in.png", "many.png"]);
}

#[test]
fn icc_profiles_are_kept_where_the_format_carries_them() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    let profile = b"not a real profile, but bytes to carry".to_vec();
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
    image::ImageEncoder::set_icc_profile(&mut encoder, profile.clone()).unwrap();
    let image = gradient_rgb8(6, 6);
    image::ImageEncoder::write_image(
        encoder,
        image.as_bytes(),
        6,
        6,
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    std::fs::write(&input, bytes).unwrap();
    // JPEG: one APP2 segment, "ICC_PROFILE", chunk 1 of 1, then the profile.
    let jpeg = dir.path().join("out.jpg");
    assert!(rcrop.run_ok(&["-c", "1"], &input, &jpeg).is_empty());
    let mut app2 = b"ICC_PROFILE\0\x01\x01".to_vec();
    app2.extend_from_slice(&profile);
    let bytes = std::fs::read(&jpeg).unwrap();
    assert!(bytes.windows(app2.len()).any(|w| w == app2.as_slice()));
    for name in ["out.png", "out.webp"] {
        let output = dir.path().join(name);
        let stderr = rcrop.run_ok(&["-c", "1"], &input, &output);
        assert!(stderr.is_empty(), "{name}: {stderr}");
        let mut decoder = image::ImageReader::open(&output)
            .unwrap()
            .with_guessed_format()
            .unwrap()
            .into_decoder()
            .unwrap();
        assert_eq!(
            image::ImageDecoder::icc_profile(&mut decoder).unwrap(),
            Some(profile.clone()),
            "{name}"
        );
    }
    // The image crate writes TIFF's ICC tag (34675) as BYTE and reads back only
    // UNDEFINED, so look for the profile in the file itself.
    let tiff = dir.path().join("out.tif");
    assert!(rcrop.run_ok(&["-c", "1"], &input, &tiff).is_empty());
    let bytes = std::fs::read(&tiff).unwrap();
    assert!(
        bytes
            .windows(profile.len())
            .any(|w| w == profile.as_slice())
    );
    let stderr = rcrop.run_ok(&["-c", "1"], &input, &dir.path().join("out.bmp"));
    assert!(
        stderr.starts_with("warning: ")
            && stderr.contains("out.bmp: BMP cannot carry an ICC profile"),
        "{stderr}"
    );
}

#[test]
fn a_decompression_bomb_allocates_nothing_its_header_claims() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bomb.png");
    std::fs::write(&input, png_claiming(100_000, 100_000)).unwrap();
    // Read a row at a time, it fails at the first missing row.
    let start = std::time::Instant::now();
    let stderr = rcrop.run_fails(&["-c", "1"], &input, &dir.path().join("out.npy"));
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        stderr.contains("bomb.png: cannot decode the PNG image"),
        "{stderr}"
    );
    // An output written whole is refused before the image is decoded.
    let stderr = rcrop.run_fails(&["-c", "1"], &input, &dir.path().join("out.jpg"));
    assert!(
        stderr.contains("the cropped image takes 28610 MiB, over the image limit of 1024 MiB"),
        "{stderr}"
    );
    assert!(!dir.path().join("out.jpg").exists());
}

#[test]
fn a_truncated_or_unknown_file_is_exit_1_naming_it() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.png");
    save_image(&gradient_rgb8(64, 64), &whole);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.path().join("cut.png");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let stderr = rcrop.run_fails(&["-c", "1"], &cut, &dir.path().join("out.png"));
    assert!(
        stderr.contains("cut.png: cannot decode the PNG image"),
        "{stderr}"
    );
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, world").unwrap();
    let stderr = rcrop.run_fails(&["-c", "1"], &text, &dir.path().join("out.png"));
    assert!(
        stderr.contains(
            "notes.txt: not a .npy file, .npz archive or image rcrop reads: it starts with \
             \"hello, world\""
        ),
        "{stderr}"
    );
}

#[test]
fn output_is_deterministic_and_options_take_effect() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    save_image(&gradient_rgb8(64, 48), &input);
    for ext in ["png", "jpg", "tif", "webp", "bmp", "npy"] {
        let a = dir.path().join(format!("a.{ext}"));
        let b = dir.path().join(format!("b.{ext}"));
        rcrop.run_ok(&["-c", "2"], &input, &a);
        rcrop.run_ok(&["-c", "2"], &input, &b);
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{ext}"
        );
    }
    let size = |args: &[&str], name: &str| {
        let out = dir.path().join(name);
        rcrop.run_ok(args, &input, &out);
        std::fs::metadata(out).unwrap().len()
    };
    assert!(size(&["-c", "2", "--quality", "30"], "q30.jpg") < size(&["-c", "2"], "q95.jpg"));
    assert!(
        size(&["-c", "2", "--png-compression", "best"], "best.png")
            <= size(&["-c", "2", "--png-compression", "fast"], "fast.png")
    );
}

#[test]
fn standard_output_gets_the_inputs_kind_unless_told() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    save_image(&gradient_rgb8(8, 8), &input);
    let png = rcrop
        .cmd()
        .args(["-c", "1"])
        .arg(&input)
        .arg("-")
        .output()
        .unwrap();
    assert!(png.stdout.starts_with(b"\x89PNG"));
    let npy = rcrop
        .cmd()
        .args(["-c", "1", "--to", "npy"])
        .arg(&input)
        .arg("-")
        .output()
        .unwrap();
    assert!(npy.stdout.starts_with(b"\x93NUMPY"));
    let jpeg = rcrop
        .cmd()
        .args(["-c", "1", "--to", "jpeg", "-", "-"])
        .pipe_stdin(&input)
        .unwrap()
        .output()
        .unwrap();
    assert!(jpeg.stdout.starts_with(b"\xff\xd8"));
    let bad = rcrop
        .cmd()
        .args(["-c", "1"])
        .arg(&input)
        .arg(dir.path().join("out.xyz"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown output extension \"xyz\""));
}

/// A small PNG file whose header claims `width × height` RGB pixels: a
/// decompression bomb's header with a token of data.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01"));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A PNG chunk: its length, its type, `data` and its CRC.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// CRC-32 as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Compares two `.npy` files: headers exactly, data exactly.
fn same_npy(found: &[u8], expected: &[u8]) -> Result<(), String> {
    if found.len() != expected.len() {
        return Err(format!(
            "{} bytes, expected {}",
            found.len(),
            expected.len()
        ));
    }
    let header_len = 10 + usize::from(u16::from_le_bytes([expected[8], expected[9]]));
    if found[..header_len] != expected[..header_len] {
        return Err(format!(
            "header {:?}",
            String::from_utf8_lossy(&found[..header_len])
        ));
    }
    let worst = found[header_len..]
        .iter()
        .zip(&expected[header_len..])
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap_or(0);
    if worst > 0 {
        return Err(format!("a sample differs by {worst}"));
    }
    Ok(())
}

fn check(rcrop: &Rcrop, case: &Case, dir: &Path) -> Result<(), String> {
    let out = dir.join(format!("{}.npy", case.name));
    let Some(expected_path) = &case.expected else {
        return match rcrop.succeeds(
            &["--crop", &case.crop, "--format", &case.format],
            &case.input,
            &out,
        ) {
            Ok(()) => Err("expected an error".into()),
            Err(_) if out.exists() => Err("a failed run left its output".into()),
            Err(_) => Ok(()),
        };
    };
    rcrop.succeeds(
        &["--crop", &case.crop, "--format", &case.format],
        &case.input,
        &out,
    )?;
    let expected = std::fs::read(expected_path).map_err(|e| e.to_string())?;
    same_npy(&std::fs::read(&out).map_err(|e| e.to_string())?, &expected)?;
    if case.name.starts_with("jpeg_") {
        return Ok(());
    }
    let ext = case
        .input
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("png");
    let same = |found: &Path, _: &Path| {
        same_npy(&std::fs::read(found).map_err(|e| e.to_string())?, &expected)
    };
    round_trips(rcrop, case, dir, expected_path, (ext, "png"), same)
}

/// The crop of `case` written as an image of the input's format (`via.0`)
/// reads back as `expected`, and so does `expected` written as `via.1`:
/// `same(found, expected)` says whether a tensor read back is it.
pub(super) fn round_trips(
    rcrop: &Rcrop,
    case: &Case,
    dir: &Path,
    expected: &Path,
    via: (&str, &str),
    same: impl Fn(&Path, &Path) -> Result<(), String>,
) -> Result<(), String> {
    let args = ["--format", &case.format];
    let image = dir.join(format!("{}.{}", case.name, via.0));
    let back = dir.join(format!("{}_back.npy", case.name));
    rcrop.succeeds(
        &[&["--crop", &case.crop][..], &args].concat(),
        &case.input,
        &image,
    )?;
    rcrop.succeeds(&[&["--crop", "0"][..], &args].concat(), &image, &back)?;
    same(&back, expected).map_err(|e| format!("{} round trip: {e}", via.0))?;
    let from_npy = dir.join(format!("{}_from_npy.{}", case.name, via.1));
    let again = dir.join(format!("{}_again.npy", case.name));
    rcrop.succeeds(&[&["--crop", "0"][..], &args].concat(), expected, &from_npy)?;
    rcrop.succeeds(&[&["--crop", "0"][..], &args].concat(), &from_npy, &again)?;
    same(&again, expected).map_err(|e| format!(".npy -> {} -> .npy: {e}", via.1))
}

#[test]
fn every_image_golden_case_matches_and_round_trips() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let all = cases("images/cases.tsv");
    assert!(all.len() >= 50, "only {} cases in the manifest", all.len());
    assert_every(&all, |c| &c.name, |case| check(&rcrop, case, dir.path()));
}
