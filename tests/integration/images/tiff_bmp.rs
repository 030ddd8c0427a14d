//! TIFF and uncompressed BMP files are read a window at a time: over the
//! image limit they crop from a file (and are refused from a pipe, where
//! they are decoded whole); strips outside the crop are not decoded. TIFF
//! output holds every sample type TIFF input does.

use std::io::Cursor;
use std::path::Path;

use tiff::encoder::{Compression, DeflateLevel, TiffEncoder, colortype};

use crate::util::{Rcrop, assert_no_failures, fixture, same_file};

/// Pixel samples that tell rows and columns apart.
fn samples(w: usize, h: usize, channels: usize) -> Vec<u8> {
    (0..w * h * channels)
        .map(|i| ((i / channels % w) * 3 + (i / channels / w) * 7 + i % channels) as u8)
        .collect()
}

/// An RGB TIFF of deflated strips of `rows` rows, and each strip's offset
/// and byte count.
fn tiff_rgb(w: u32, h: u32, rows: u32) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut file = Cursor::new(Vec::new());
    let mut encoder = TiffEncoder::new(&mut file)
        .unwrap()
        .with_compression(Compression::Deflate(DeflateLevel::Fast));
    let mut image = encoder.new_image::<colortype::RGB8>(w, h).unwrap();
    image.rows_per_strip(rows).unwrap();
    image
        .write_data(&samples(w as usize, h as usize, 3))
        .unwrap();
    let file = file.into_inner();
    let mut decoder = tiff::decoder::Decoder::new(Cursor::new(&file[..])).unwrap();
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

/// A bottom-up 24-bit BMP.
fn bmp_rgb(w: usize, h: usize) -> Vec<u8> {
    let stride = (3 * w).div_ceil(4) * 4;
    let mut file = b"BM".to_vec();
    file.extend_from_slice(&((54 + stride * h) as u32).to_le_bytes());
    file.extend_from_slice(&[0; 4]);
    file.extend_from_slice(&54u32.to_le_bytes());
    file.extend_from_slice(&40u32.to_le_bytes());
    file.extend_from_slice(&(w as i32).to_le_bytes());
    file.extend_from_slice(&(h as i32).to_le_bytes());
    file.extend_from_slice(&1u16.to_le_bytes());
    file.extend_from_slice(&24u16.to_le_bytes());
    file.extend_from_slice(&[0; 24]);
    let pixels = samples(w, h, 3);
    for y in (0..h).rev() {
        let mut row: Vec<u8> = pixels[y * w * 3..(y + 1) * w * 3]
            .chunks_exact(3)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect();
        row.resize(stride, 0);
        file.extend(row);
    }
    file
}

fn piped(rcrop: &Rcrop, args: &[&str], input: &Path) -> std::process::Output {
    rcrop
        .cmd()
        .args(args)
        .args(["--to", "npy", "-", "-"])
        .pipe_stdin(input)
        .unwrap()
        .output()
        .unwrap()
}

#[test]
fn a_tiff_damaged_below_the_crop_crops_and_one_damaged_inside_it_is_refused() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let (good, strips) = tiff_rgb(30, 40, 4);
    let mut damaged = good.clone();
    // Rows 20 to 39 are no longer deflate streams.
    for &(offset, count) in &strips[5..] {
        damaged[offset..offset + count].fill(0xFF);
    }
    let (good_path, damaged_path) = (dir.path().join("good.tif"), dir.path().join("bad.tif"));
    std::fs::write(&good_path, &good).unwrap();
    std::fs::write(&damaged_path, &damaged).unwrap();
    let (want, got) = (dir.path().join("want.npy"), dir.path().join("got.npy"));
    let above = ["-c", "3,20:2,4"];
    rcrop.run_ok(&above, &good_path, &want);
    rcrop.run_ok(&above, &damaged_path, &got);
    same_file(&got, &want).unwrap();
    // Decoded whole from a pipe, the damage is found.
    let out = piped(&rcrop, &above, &damaged_path);
    assert_eq!(out.status.code(), Some(1));
    // A crop reaching row 20 reads the damaged strip.
    let stderr = rcrop.run_fails(
        &["-c", "3,19:2,4"],
        &damaged_path,
        &dir.path().join("no.npy"),
    );
    assert!(stderr.contains("TIFF"), "{stderr}");
}

#[test]
fn tiff_and_bmp_over_the_image_limit_crop_from_a_file_not_from_a_pipe() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    // 800 x 600 RGB: 1.4 MB decoded, against a limit of 1 MiB.
    let (w, h) = (800usize, 600usize);
    let inputs = [
        ("big.tif", tiff_rgb(w as u32, h as u32, 16).0),
        ("big.bmp", bmp_rgb(w, h)),
    ];
    let whole = samples(w, h, 3);
    let args = ["-c", "7,1:2,5", "--image-limit-mib", "1"];
    for (name, bytes) in inputs {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let out = dir.path().join(format!("{name}.npy"));
        rcrop.run_ok(&args, &input, &out);
        let got = std::fs::read(&out).unwrap();
        let header = b"\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (1, 592, 793, 3), }";
        assert_eq!(&got[..header.len()], header, "{name}");
        let want: Vec<u8> = (7..h - 1)
            .flat_map(|y| &whole[(y * w + 2) * 3..(y * w + w - 5) * 3])
            .copied()
            .collect();
        assert!(got[128..] == want[..], "{name}: the pixels differ");
        let out = piped(&rcrop, &args, &input);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("image limit of 1 MiB"), "{name}: {stderr}");
    }
}

#[test]
fn tiff_output_holds_every_sample_type_it_reads() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for name in [
        "tiff_i1_raw",
        "tiff_i2_raw",
        "tiff_i4_raw",
        "tiff_u4rgb_raw",
        "tiff_u4gray_raw",
        "tiff_f4gray_raw",
        "tiff_f8gray_raw",
        "tiff_rgb16_raw",
        "tiff_gray12_raw",
    ] {
        let input = fixture(&format!("wild/{name}.tif"));
        let tiff = dir.path().join(format!("{name}.tif"));
        let (back, direct) = (dir.path().join("back.npy"), dir.path().join("direct.npy"));
        rcrop.run_ok(&["-c", "1,2:3,0"], &input, &tiff);
        rcrop.run_ok(&["-c", "0"], &tiff, &back);
        rcrop.run_ok(&["-c", "1,2:3,0"], &input, &direct);
        if std::fs::read(&back).unwrap() != std::fs::read(&direct).unwrap() {
            failures.push(format!(
                "{name}: the TIFF written does not read back the same"
            ));
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn a_tiff_strip_past_the_files_end_is_refused_whatever_the_crop() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let (mut bytes, strips) = tiff_rgb(30, 40, 4);
    // The last strip's offset, in the offsets table after the data, moved
    // to the file's end.
    let (last, _) = strips[strips.len() - 1];
    let data_end = strips.iter().map(|&(o, c)| o + c).max().unwrap();
    let at = data_end
        + bytes[data_end..]
            .windows(4)
            .position(|w| w == (last as u32).to_le_bytes())
            .unwrap();
    let len = bytes.len() as u32;
    bytes[at..at + 4].copy_from_slice(&len.to_le_bytes());
    let input = dir.path().join("past.tif");
    std::fs::write(&input, &bytes).unwrap();
    for crop in ["3,20:2,4", "0"] {
        let stderr = rcrop.run_fails(&["-c", crop], &input, &dir.path().join("out.npy"));
        assert!(
            stderr.contains("past.tif: the TIFF image is damaged: its strip 9 takes")
                && stderr.contains(&format!("past the file's end at byte {len}")),
            "{crop}: {stderr}"
        );
    }
}
