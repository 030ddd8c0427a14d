//! OpenEXR luminance/chroma (Y, and RY, BY sampled 2 by 2; A) in
//! fixtures/exryc/, written by OpenEXR's `Imf::RgbaOutputFile` in every
//! compression, with goldens from OpenEXR's `Imf::RgbaInputFile` (by
//! fixtures/gen/generate_exryc.py): rcrop's RGB(A) equals OpenEXR's bit for
//! bit, whole, cropped and written again; damaged files are refused.

use std::path::{Path, PathBuf};

use crate::util::{Rcrop, assert_every, fixture, same_file};

/// Every file of fixtures/exryc/ (its golden is NAME.npy beside it).
const FILES: [&str; 17] = [
    "yc_none",
    "yc_rle",
    "yc_zips",
    "yc_zip",
    "yc_piz",
    "yc_pxr24",
    "yc_b44",
    "yc_b44a",
    "yc_dwaa",
    "yc_dwab",
    "yca_window",
    "yca_b44_small",
    "yc_tiny",
    "yc_decreasing",
    "yc_p3",
    "yca_float_piz",
    "yca_mixed_zips",
];

fn exr(name: &str) -> PathBuf {
    fixture(&format!("exryc/{name}.exr"))
}

fn golden(name: &str) -> PathBuf {
    fixture(&format!("exryc/{name}.npy"))
}

#[test]
fn luminance_chroma_decodes_as_openexrs_rgba_interface_bit_for_bit() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(&str, PathBuf)> = FILES.iter().map(|&n| (n, exr(n))).collect();
    files.push(("luminance_chroma", fixture("exr/luminance_chroma.exr")));
    assert_every(
        &files,
        |(name, _)| name,
        |(name, input)| {
            let out = dir.path().join(format!("{name}.npy"));
            rcrop.succeeds(&["--crop", "0", "-f", "channels_last"], input, &out)?;
            same_file(&out, &golden(name))
        },
    );
}

/// The crop of the image is the crop of OpenEXR's pixels: rcrop's crop of
/// the golden array.
#[test]
fn a_crop_window_of_luminance_chroma_is_that_window_of_openexrs_pixels() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(String, &str, &str)> = [
        ("yc_piz", "((3, 5), (7, 2))"),
        ("yc_piz", "((0, 1), (13, 0))"),
        ("yca_window", "((3, 5), (7, 2))"),
        ("yca_window", "1"),
        ("yc_b44", "((0, 1), (13, 0))"),
        ("yca_b44_small", "((1, 2), (3, 4))"),
    ]
    .into_iter()
    .map(|(n, c)| (format!("{n} {c}"), n, c))
    .collect();
    assert_every(
        &cases,
        |(label, _, _)| label,
        |(label, name, crop)| {
            let args = ["--crop", crop, "-f", "channels_last"];
            let found = dir.path().join(format!("{label}.npy"));
            let expected = dir.path().join(format!("{label} golden.npy"));
            rcrop.succeeds(&args, &exr(name), &found)?;
            rcrop.succeeds(&args, &golden(name), &expected)?;
            same_file(&found, &expected)
        },
    );
}

/// Written as OpenEXR (float32) or TIFF and read back, the crop is unchanged.
#[test]
fn a_luminance_chroma_crop_written_as_exr_or_tiff_reads_back_unchanged() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let crop = ["--crop", "((2, 4), (6, 10))", "-f", "channels_last"];
    let cases = [
        ("yca_window to exr", "yca_window", "exr"),
        ("yca_window to tiff", "yca_window", "tiff"),
        ("yc_pxr24 to exr", "yc_pxr24", "exr"),
    ];
    assert_every(
        &cases,
        |(label, _, _)| label,
        |(_, name, to)| {
            let image = dir.path().join(format!("{name}.{to}"));
            let back = dir.path().join(format!("{name} {to}.npy"));
            let expected = dir.path().join(format!("{name} {to} golden.npy"));
            rcrop.succeeds(&crop, &exr(name), &image)?;
            rcrop.succeeds(&["--crop", "0", "-f", "channels_last"], &image, &back)?;
            rcrop.succeeds(&crop, &golden(name), &expected)?;
            same_file(&back, &expected)
        },
    );
}

/// Runs rcrop on `bytes` as `bad.exr`, which must be refused (exit 1,
/// nothing written) with a message naming it and containing `why`.
fn refused(rcrop: &Rcrop, dir: &Path, bytes: &[u8], why: &str) -> Result<(), String> {
    let input = dir.join("bad.exr");
    let out = dir.join("bad.npy");
    std::fs::write(&input, bytes).unwrap();
    match rcrop.run(&["--crop", "0"], &input, &out) {
        (Some(1), stderr) if stderr.contains("bad.exr: ") && stderr.contains(why) => {
            match out.exists() {
                true => Err(format!("{} was written", out.display())),
                false => Ok(()),
            }
        }
        (code, stderr) => Err(format!("exit {code:?}: {stderr}")),
    }
}

/// The offset of `field` (a name and a type, as an attribute starts) in `bytes`.
fn attribute(bytes: &[u8], field: &[u8]) -> usize {
    bytes.windows(field.len()).position(|w| w == field).unwrap() + field.len() + 4
}

/// Where the offset table starts: after the attributes (name, type, size,
/// value) and the byte that ends them.
fn offset_table(bytes: &[u8]) -> usize {
    let end = |from: usize| from + bytes[from..].iter().position(|&b| b == 0).unwrap();
    let mut at = 8;
    while bytes[at] != 0 {
        let type_end = end(end(at) + 1);
        let size = i32::from_le_bytes(bytes[type_end + 1..type_end + 5].try_into().unwrap());
        at = type_end + 5 + size as usize;
    }
    at + 1
}

#[test]
fn damaged_luminance_chroma_files_are_refused_without_a_panic() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, Vec<u8>, &str)> = Vec::new();
    for name in ["yc_piz", "yc_b44", "yc_zips", "yc_none", "yc_dwaa"] {
        let bytes = std::fs::read(exr(name)).unwrap();
        for keep in [bytes.len() - 1, bytes.len() * 3 / 4, bytes.len() / 2, 420] {
            let cut = bytes[..keep].to_vec();
            cases.push((format!("{name} cut to {keep}"), cut, "is damaged"));
        }
        // The first block's size claims more than the file holds; its row
        // is off the grid of blocks.
        let table = offset_table(&bytes);
        let first = u64::from_le_bytes(bytes[table..table + 8].try_into().unwrap()) as usize;
        let mut lying = bytes.clone();
        lying[first + 4..first + 8].copy_from_slice(&1_000_000i32.to_le_bytes());
        cases.push((format!("{name} block size"), lying, "is damaged"));
        let mut shifted = bytes.clone();
        shifted[first..first + 4].copy_from_slice(&1000i32.to_le_bytes());
        cases.push((
            format!("{name} block row"),
            shifted,
            "not a row where a block",
        ));
        // A data window two rows taller than the blocks cover.
        let mut taller = bytes.clone();
        let window = attribute(&bytes, b"dataWindow\0box2i\0");
        taller[window + 12..window + 16].copy_from_slice(&35i32.to_le_bytes());
        cases.push((format!("{name} taller window"), taller, "is damaged"));
    }
    let mut sampled = std::fs::read(exr("yc_zip")).unwrap();
    let ry = attribute(&sampled, b"RY\0") - 4;
    sampled[ry + 8..ry + 16].copy_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0]);
    cases.push((
        "RY sampled 1 by 1".into(),
        sampled,
        "channel RY is sampled every 1 by 1",
    ));
    assert_every(
        &cases,
        |(label, _, _)| label,
        |(_, bytes, why)| refused(&rcrop, dir.path(), bytes, why),
    );
}
