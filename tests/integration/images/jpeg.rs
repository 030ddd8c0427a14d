//! JPEG as Keras sees it: every case in fixtures/jpeg/cases.tsv decodes to
//! exactly the tensor Pillow gives (`fixtures/gen/generate_jpeg.py`), and a
//! crop on the block grid is a DCT-domain crop that decodes exactly as
//! jpegtran's crop of the same region decodes, and, but for a progressive
//! input (which libjpeg-turbo 3 keeps progressive and jpegtran 2.1 writes
//! as baseline), is byte for byte the file jpegtran writes. A damaged JPEG
//! is exit 1 saying what is wrong.

use std::path::PathBuf;

use crate::util::{Rcrop, assert_every, fixture, same_file, table};

/// One line of fixtures/jpeg/cases.tsv.
struct JpegCase {
    name: String,
    kind: String,
    input: PathBuf,
    crop: String,
    expected: PathBuf,
}

fn jpeg_cases() -> Vec<JpegCase> {
    let dir = fixture("jpeg");
    table(
        "jpeg/cases.tsv",
        &["name", "kind", "input", "crop", "expected", "note"],
    )
    .into_iter()
    .map(|f| JpegCase {
        name: f[0].clone(),
        kind: f[1].clone(),
        input: dir.join(&f[2]),
        crop: f[3].clone(),
        expected: dir.join(&f[4]),
    })
    .collect()
}

#[test]
fn every_jpeg_kind_decodes_to_exactly_pillows_pixels() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<_> = jpeg_cases()
        .into_iter()
        .filter(|c| c.kind == "decode")
        .collect();
    assert!(cases.len() >= 18, "only {} decode cases", cases.len());
    assert_every(
        &cases,
        |c| &c.name,
        |case| {
            let out = dir.path().join(format!("{}.npy", case.name));
            rcrop
                .succeeds(&["-c", "0", "-f", "channels_last"], &case.input, &out)
                .and_then(|()| same_file(&out, &case.expected))
        },
    );
}

#[test]
fn crops_on_the_block_grid_decode_as_jpegtrans_crop() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<_> = jpeg_cases()
        .into_iter()
        .filter(|c| c.kind == "lossless")
        .collect();
    assert!(cases.len() >= 10, "only {} lossless cases", cases.len());
    assert_every(
        &cases,
        |c| &c.name,
        |case| {
            let jpg = dir.path().join(format!("{}.jpg", case.name));
            let npy = dir.path().join(format!("{}.npy", case.name));
            let args = ["-c", &case.crop, "-f", "channels_last", "--lossless"];
            let jpegtran = fixture("jpeg").join(format!("{}_jpegtran.jpg", case.name));
            rcrop
                .succeeds(&args, &case.input, &jpg)
                .and_then(|()| rcrop.succeeds(&["-c", "0", "-f", "channels_last"], &jpg, &npy))
                .and_then(|()| same_file(&npy, &case.expected))
                .and_then(|()| match case.name.as_str() {
                    "crop_progressive" => Ok(()),
                    _ => same_file(&jpg, &jpegtran),
                })
        },
    );
}

/// The APPn segments before the first scan, in order.
fn app_segments(jpeg: &[u8]) -> Vec<Vec<u8>> {
    let mut at = 2;
    let mut out = Vec::new();
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if (0xE1..=0xEF).contains(&jpeg[at + 1]) {
            out.push(jpeg[at..at + 2 + len].to_vec());
        }
        at += 2 + len;
    }
    out
}

#[test]
fn a_lossless_crop_keeps_every_marker_and_the_inside_pixels() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("jpeg/pillow_icc_exif.jpg");
    let out = dir.path().join("out.jpg");
    rcrop.run_ok(&["-c", "16,8:32,9"], &input, &out);
    let (source, cropped) = (std::fs::read(&input).unwrap(), std::fs::read(&out).unwrap());
    let kept = app_segments(&cropped);
    assert_eq!(kept, app_segments(&source));
    assert!(kept.iter().any(|s| s[1] == 0xE2), "no ICC profile kept");
    assert!(
        kept.iter().any(|s| s[4..].starts_with(b"Exif")),
        "no EXIF kept"
    );
    // Without subsampling, every pixel of the crop is the input's pixel.
    let (whole, part) = (dir.path().join("whole.npy"), dir.path().join("part.npy"));
    let input = fixture("jpeg/pillow_444.jpg");
    rcrop.run_ok(&["-c", "8,8:8,1", "-f", "channels_last"], &input, &whole);
    rcrop.run_ok(&["-c", "8,8:8,1"], &input, &out);
    rcrop.run_ok(&["-c", "0", "-f", "channels_last"], &out, &part);
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&part).unwrap()
    );
}

#[test]
fn quality_or_reencode_re_encodes_and_lossless_refuses_crops_off_the_grid() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("jpeg/pillow_420_q90.jpg");
    let out = |name: &str| dir.path().join(name);
    let bytes = |name: &str| std::fs::read(out(name)).unwrap();
    rcrop.run_ok(&["-c", "16:16,5"], &input, &out("lossless.jpg"));
    rcrop.run_ok(
        &["-c", "16:16,5", "--reencode"],
        &input,
        &out("reencoded.jpg"),
    );
    rcrop.run_ok(
        &["-c", "16:16,5", "--quality", "95"],
        &input,
        &out("q95.jpg"),
    );
    assert_ne!(bytes("lossless.jpg"), bytes("reencoded.jpg"));
    assert_eq!(bytes("reencoded.jpg"), bytes("q95.jpg"));
    // Off the grid, the default re-encodes and --lossless refuses.
    rcrop.run_ok(&["-c", "3:20,5"], &input, &out("off.jpg"));
    rcrop.run_ok(&["-c", "3:20,5", "--reencode"], &input, &out("off_re.jpg"));
    assert_eq!(bytes("off.jpg"), bytes("off_re.jpg"));
    let stderr = rcrop.run_fails(&["-c", "3:20,5", "--lossless"], &input, &out("no.jpg"));
    assert!(
        stderr.contains("pillow_420_q90.jpg")
            && stderr.contains("16×16")
            && stderr.contains("0,3:16,5")
            && stderr.contains("16,3:32,5"),
        "{stderr}"
    );
    let (code, stderr) = rcrop.run(
        &["-c", "16", "--lossless", "--quality", "90"],
        &input,
        &out("both.jpg"),
    );
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn damaged_jpegs_are_refused_by_the_lossless_crop_too() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "jpeg_baseline_corrupt_scan.jpg",
        "jpeg_baseline_cut_3000.jpg",
        "jpeg_progressive_no_eoi.jpg",
    ] {
        let input = fixture("wild").join(name);
        let stderr = rcrop.run_fails(&["-c", "16"], &input, &dir.path().join("out.jpg"));
        assert!(
            stderr.contains(&format!("{name}: the JPEG image is damaged: ")),
            "{stderr}"
        );
    }
}

#[test]
fn damaged_jpegs_are_exit_1_saying_what_is_wrong() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(fixture("images/rgb.jpg")).unwrap();
    let sos = whole.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let scan = sos + 2 + usize::from(u16::from_be_bytes([whole[sos + 2], whole[sos + 3]]));
    let cases = [
        (
            "cut14.jpg",
            whole[..scan + 14].to_vec(),
            "the scan data ends after 14 bytes",
        ),
        (
            "no_eoi.jpg",
            whole[..whole.len() - 2].to_vec(),
            "before the end-of-image marker",
        ),
        (
            "cut_header.jpg",
            whole[..sos - 20].to_vec(),
            "the file ends first",
        ),
    ];
    for (name, bytes, needle) in cases {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let stderr = rcrop.run_fails(&["-c", "0"], &input, &dir.path().join("out.npy"));
        assert!(
            stderr.contains(&format!("{name}: the JPEG image is damaged: "))
                && stderr.contains(needle),
            "{name}: {stderr}"
        );
    }
}
