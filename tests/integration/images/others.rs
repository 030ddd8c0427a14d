//! TGA, QOI, ICO, farbfeld, Radiance HDR and OpenEXR: every case in
//! fixtures/formats/cases.tsv (goldens from Pillow, the openexr package and
//! the formats' specifications) must match byte for byte, and the cropped
//! image written in its own format must read back unchanged.

use std::path::Path;

use crate::util::{Case, Rcrop, assert_every, cases, fixture, same_file, u8_npy};

fn check(rcrop: &Rcrop, case: &Case, dir: &Path) -> Result<(), String> {
    let expected = case.expected.as_ref().ok_or("no expected file")?;
    let out = dir.join(format!("{}.npy", case.name));
    rcrop.succeeds(
        &["--crop", &case.crop, "--format", &case.format],
        &case.input,
        &out,
    )?;
    same_file(&out, expected)?;
    let ext = case
        .input
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    super::round_trips(rcrop, case, dir, expected, (ext, ext), same_file)
}

fn check_format(ext: &str) {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let all: Vec<Case> = cases("formats/cases.tsv")
        .into_iter()
        .filter(|c| c.input.extension().is_some_and(|e| e == ext))
        .collect();
    assert!(all.len() >= 2, "only {} {ext} cases", all.len());
    assert_every(&all, |c| &c.name, |case| check(&rcrop, case, dir.path()));
}

#[test]
fn tga_matches_pillow_and_round_trips() {
    check_format("tga");
}

#[test]
fn qoi_matches_pillow_and_round_trips() {
    check_format("qoi");
}

#[test]
fn ico_largest_entry_matches_pillow_and_round_trips() {
    check_format("ico");
}

#[test]
fn farbfeld_matches_its_samples_and_round_trips() {
    check_format("ff");
}

#[test]
fn radiance_hdr_matches_rgbe_and_round_trips() {
    check_format("hdr");
}

#[test]
fn openexr_matches_openexr_as_float32_and_round_trips() {
    check_format("exr");
}

#[test]
fn outputs_a_format_cannot_hold_are_refused() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let gray = fixture("formats/gray.tga");
    let hdr = fixture("formats/rgb.hdr");
    let big = dir.path().join("big.npy");
    std::fs::write(&big, u8_npy([1, 300, 20, 4])).unwrap();
    for (input, output, holds) in [
        (&gray, "gray.qoi", "QOI cannot hold"),
        (&gray, "gray.ff", "farbfeld cannot hold"),
        (&gray, "gray.hdr", "Radiance HDR cannot hold"),
        (&gray, "gray.exr", "OpenEXR cannot hold"),
        (&hdr, "hdr.tga", "TGA cannot hold"),
        (&big, "big.ico", "at most 256 by 256"),
    ] {
        let stderr = rcrop.run_fails(
            &["-c", "0", "-f", "channels_last"],
            input,
            &dir.path().join(output),
        );
        assert!(stderr.contains(holds), "{output}: {stderr}");
    }
}

#[test]
fn truncated_files_are_errors_naming_the_format() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let mut inputs: Vec<_> = cases("formats/cases.tsv")
        .into_iter()
        .map(|c| c.input)
        .collect();
    inputs.dedup();
    for input in inputs {
        let bytes = std::fs::read(&input).unwrap();
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        for keep in [bytes.len() / 2, bytes.len() * 3 / 4] {
            let cut = dir.path().join(format!("cut_{keep}_{name}"));
            std::fs::write(&cut, &bytes[..keep]).unwrap();
            let out = dir.path().join(format!("{name}_{keep}.npy"));
            let stderr = rcrop.run_fails(&["-c", "1"], &cut, &out);
            assert!(stderr.contains("cut_"), "{name} cut to {keep}: {stderr}");
        }
    }
}
