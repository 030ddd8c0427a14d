//! Real-world images (`fixtures/wild/`, made by `fixtures/generate_wild.py`
//! with libtiff's tools, ImageMagick and Pillow): every valid file decodes to
//! the reference decode (libtiff, Pillow) exactly, JPEG too (libjpeg-turbo,
//! as Pillow), the JPEG data inside TIFFs within a measured tolerance;
//! every damaged file is exit 1 naming it, with nothing written; every kind
//! still refused is exit 1 saying so.

mod common;

use std::path::Path;

use common::{Rcrop, assert_no_failures, fixture, listing};
use rcrop::npy::Header;

/// JPEG-compressed TIFFs (decoded by the `tiff` crate's JPEG decoder)
/// against libtiff with libjpeg-turbo: the largest difference measured on
/// these fixtures. Every other kind, JPEG files included, is compared exactly.
const TIFF_JPEG_TOLERANCE: u8 = 3;

struct Case {
    name: String,
    input: String,
    expected: String,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixture("wild/cases.tsv")).expect("read the manifest");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("name\tinput\texpected\tnote"));
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 4, "bad manifest line {line:?}");
            Case {
                name: f[0].into(),
                input: f[1].into(),
                expected: f[2].into(),
            }
        })
        .collect()
}

/// The header and data of a `.npy` file.
fn npy(path: &Path) -> (Header, Vec<u8>) {
    let bytes = std::fs::read(path).expect("read .npy");
    let mut reader = bytes.as_slice();
    let (header, _) = Header::read(&mut reader).expect("a .npy header");
    (header, reader.to_vec())
}

/// Why a decode differs from the reference, if it does.
fn compare(case: &Case, got: &Path) -> Option<String> {
    let (want_header, want) = npy(&fixture(&format!("wild/{}", case.expected)));
    let (got_header, got) = npy(got);
    if got_header != want_header {
        return Some(format!("header {got_header:?}, expected {want_header:?}"));
    }
    let tolerance = if case.name.starts_with("tiff_jpeg_") {
        TIFF_JPEG_TOLERANCE
    } else {
        0
    };
    let worst = got.iter().zip(&want).map(|(a, b)| a.abs_diff(*b)).max();
    (worst > Some(tolerance)).then(|| format!("samples differ by up to {worst:?}"))
}

#[test]
fn every_real_world_image_decodes_to_the_reference_or_is_refused() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 100, "{} cases", cases.len());
    for case in &cases {
        let input = fixture(&format!("wild/{}", case.input));
        let out = dir.path().join(format!("{}.npy", case.name));
        let (code, stderr) = rcrop.run(&["-c", "0"], &input, &out);
        let problem = match (case.expected.as_str(), code) {
            ("damaged" | "refused", Some(1)) => (!stderr.contains(&case.input))
                .then(|| format!("the message does not name the file: {stderr}")),
            ("damaged" | "refused", code) => Some(format!("exit {code:?}, expected 1")),
            (_, Some(0)) => compare(case, &out),
            (_, code) => Some(format!("exit {code:?}: {stderr}")),
        };
        if let Some(problem) = problem {
            failures.push(format!("{}: {problem}", case.name));
        }
        if code != Some(0) && out.exists() {
            failures.push(format!(
                "{}: a failed run left {}",
                case.name,
                out.display()
            ));
        }
    }
    assert_no_failures(&failures);
    let written = listing(dir.path()).len();
    assert!(written > 90, "only {written} decodes were compared");
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
