//! Real-world images (`fixtures/wild/`, made by `fixtures/gen/generate_wild.py`
//! with libtiff's tools, ImageMagick and Pillow): every valid file decodes to
//! the reference decode (libtiff, Pillow) exactly, JPEG too (libjpeg-turbo,
//! as Pillow), the JPEG data inside TIFFs too (libjpeg-turbo, as libtiff);
//! every damaged file is exit 1 naming it, with nothing written; every kind
//! still refused is exit 1 saying so.

use std::path::Path;

use crate::util::{Rcrop, assert_no_failures, fixture, listing, read_npy, table};

/// One line of fixtures/wild/cases.tsv.
struct WildCase {
    name: String,
    input: String,
    expected: String,
}

fn wild_cases() -> Vec<WildCase> {
    table("wild/cases.tsv", &["name", "input", "expected", "note"])
        .into_iter()
        .map(|f| WildCase {
            name: f[0].clone(),
            input: f[1].clone(),
            expected: f[2].clone(),
        })
        .collect()
}

/// Why a decode differs from the reference, if it does.
fn compare(case: &WildCase, got: &Path) -> Option<String> {
    let (want_header, want) = read_npy(&fixture(&format!("wild/{}", case.expected)));
    let (got_header, got) = read_npy(got);
    if got_header != want_header {
        return Some(format!("header {got_header:?}, expected {want_header:?}"));
    }
    let worst = got.iter().zip(&want).map(|(a, b)| a.abs_diff(*b)).max();
    (worst > Some(0)).then(|| format!("samples differ by up to {worst:?}"))
}

#[test]
fn every_real_world_image_decodes_to_the_reference_or_is_refused() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let cases = wild_cases();
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
