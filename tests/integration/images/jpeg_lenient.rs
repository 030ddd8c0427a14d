//! JPEGs whose headers libjpeg warns about before the first scan — stray
//! bytes between segments, a malformed ICC profile — decoded all the same,
//! to Pillow's pixels (fixtures/jpeglenient/, goldens by
//! fixtures/gen/generate_jpeglenient.py); warnings in a scan stay errors.

use std::path::Path;

use crate::util::{Rcrop, assert_every, fixture, same_file};

/// Pillow's test files, each with the crop its golden keeps.
const FILES: [(&str, &str); 5] = [
    ("icc-after-SOF", "0"),
    ("jpeg_ff00_header", "0"),
    ("junk_jpeg_header", "((0,576),(0,768))"),
    ("photoshop-200dpi-broken", "0"),
    ("truncated_app14", "0"),
];

/// Whether `input`, cropped by `crop` into a `.npy` in `dir`, holds the
/// pixels of Pillow's decode of the test file `name` (its golden PNG).
fn crops_to_pillows_pixels(
    rcrop: &Rcrop,
    dir: &Path,
    name: &str,
    crop: &str,
    input: &Path,
) -> Result<(), String> {
    let out = dir.join(format!("{name}.npy"));
    rcrop.succeeds(&["--crop", crop], input, &out)?;
    let expected = dir.join(format!("{name}_expected.npy"));
    let golden = fixture(&format!("jpeglenient/{name}_expected.png"));
    rcrop.succeeds(&["--crop", "0"], &golden, &expected)?;
    same_file(&out, &expected)
}

#[test]
fn header_warnings_are_skipped_and_the_pixels_are_pillows() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &FILES,
        |(name, _)| name,
        |(name, crop)| {
            let input = fixture(&format!("jpeglenient/{name}.jpg"));
            crops_to_pillows_pixels(&rcrop, dir.path(), name, crop, &input)
        },
    );
}

#[test]
fn the_lossless_crop_reads_past_header_warnings_too() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &FILES,
        |(name, _)| name,
        |(name, crop)| {
            let input = fixture(&format!("jpeglenient/{name}.jpg"));
            let copy = dir.path().join(format!("{name}.jpg"));
            rcrop.succeeds(&["--lossless", "--crop", "0"], &input, &copy)?;
            // The DCT blocks copied unchanged: the same pixels.
            crops_to_pillows_pixels(&rcrop, dir.path(), name, crop, &copy)
        },
    );
}

#[test]
fn warnings_in_a_scan_stay_errors_after_a_lenient_header() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(fixture("jpeglenient/junk_jpeg_header.jpg")).unwrap();
    // Stray bytes between the scan's data and the end-of-image marker.
    let mut stray = whole[..whole.len() - 2].to_vec();
    // The entropy decoder takes the first bytes as data; libjpeg warns of
    // the 11 it finds left before the marker.
    stray.extend(1..=16);
    stray.extend_from_slice(&[0xFF, 0xD9]);
    let input = dir.path().join("stray_before_eoi.jpg");
    std::fs::write(&input, stray).unwrap();
    let out = dir.path().join("out.npy");
    let stderr = rcrop.run_fails(&["--crop", "0"], &input, &out);
    assert!(
        stderr.contains(
            "stray_before_eoi.jpg: the JPEG image is damaged: Corrupt JPEG data: 11 \
             extraneous bytes before marker 0xd9"
        ),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn what_is_skipped_in_a_header_is_said_as_a_warning() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for (name, said) in [
        (
            "junk_jpeg_header",
            "junk_jpeg_header.jpg: skipped 5 stray bytes before marker FFDB in the JPEG's headers",
        ),
        (
            "icc-after-SOF",
            "icc-after-SOF.jpg: left out the JPEG's ICC profile, whose APP2 segments do not fit \
             together (Corrupt JPEG data: bad ICC marker)",
        ),
    ] {
        let input = fixture(&format!("jpeglenient/{name}.jpg"));
        let out = dir.path().join(format!("{name}.npy"));
        let stderr = rcrop.run_ok(&["--crop", "0"], &input, &out);
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("warning: ") && l.ends_with(said)),
            "{name}: {stderr}"
        );
        // -q keeps warnings quiet.
        let quiet = rcrop.run_ok(&["-q", "--crop", "0"], &input, &out);
        assert!(quiet.is_empty(), "{name} with -q: {quiet}");
    }
}
