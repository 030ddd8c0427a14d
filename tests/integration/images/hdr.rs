//! Radiance HDR in each of its eight orientations, in fixtures/hdr/
//! (goldens by fixtures/gen/generate_hdr.py): one picture written with
//! every resolution line, flat and run-length encoded, must decode to the
//! picture as displayed, and its header must give the displayed size.

use crate::util::{Rcrop, assert_every, fixture, same_file};

/// The files' orientations, their resolution lines' signs spelled out.
const ORIENTATIONS: [&str; 8] = [
    "my_px", "py_px", "my_mx", "py_mx", "px_my", "px_py", "mx_my", "mx_py",
];

fn files() -> Vec<String> {
    ORIENTATIONS
        .iter()
        .flat_map(|o| [format!("{o}_flat"), format!("{o}_rle")])
        .collect()
}

#[test]
fn every_orientation_decodes_to_the_picture_as_displayed() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &files(),
        |name| name,
        |name| {
            let out = dir.path().join(format!("{name}.npy"));
            let input = fixture(&format!("hdr/{name}.hdr"));
            rcrop.succeeds(&["--crop", "0"], &input, &out)?;
            same_file(&out, &fixture("hdr/picture.npy"))
        },
    );
}

#[test]
fn every_orientation_gives_the_displayed_size_from_its_header() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &files(),
        |name| name,
        |name| {
            let out = rcrop
                .cmd()
                .args(["--crop", "1", "-f", "channels_last", "--dry-run"])
                .arg(fixture(&format!("hdr/{name}.hdr")))
                .arg(dir.path().join("out.npy"))
                .output()
                .map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&out.stdout);
            match text.contains("(1, 9, 12, 3) -> (1, 7, 10, 3) '<f4'") {
                true => Ok(()),
                false => Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr))),
            }
        },
    );
}
