//! CCITT Group 4 TIFF whose strips or tiles are more than 65535 pixels
//! wide or tall, in fixtures/g4wide/ (made by
//! fixtures/gen/generate_g4wide.py with libtiff's tiffcp): decoded as
//! libtiff decodes them, whole and a window at a time, and damaged ones
//! refused.

use crate::util::{Rcrop, assert_every, fixture, read_npy, same_file};

/// Each file, with a window of it (the Cropping2D spec) across its
/// strips' or tiles' edges.
const FILES: [(&str, &str); 4] = [
    ("g4_wide_strips", "3,5:65530,4"),
    ("g4_wide_lsb", "0,1:69990,0"),
    ("g4_tall", "65000,4:2,3"),
    ("g4_wide_tiles", "1,2:65540,17"),
];

fn g4wide(name: &str) -> std::path::PathBuf {
    fixture(&format!("g4wide/{name}"))
}

#[test]
fn group_4_wider_or_taller_than_65535_pixels_decodes_as_libtiff_decodes_it() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &FILES,
        |(name, _)| name,
        |(name, window)| {
            let path = |what: &str| dir.path().join(format!("{name}.{what}.npy"));
            let input = g4wide(&format!("{name}.tif"));
            let golden = g4wide(&format!("{name}.npz"));
            let want = ["--key", "decoded", "-f", "channels_last"];
            for crop in ["0", window] {
                let (found, expected) = (path(&format!("{crop}.found")), path(crop));
                rcrop.succeeds(&["-c", crop, "-f", "channels_last"], &input, &found)?;
                rcrop.succeeds(&[&["-c", crop][..], &want].concat(), &golden, &expected)?;
                same_file(&found, &expected)?;
            }
            Ok(())
        },
    );
}

#[test]
fn a_wide_group_4_strip_damaged_or_cut_short_is_refused_naming_the_file_and_row() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for (name, said) in [
        ("g4_wide_damaged", "its end of block comes at row 7 of 16"),
        ("g4_wide_cut", "its data ends at row 5 of 16"),
    ] {
        let input = g4wide(&format!("{name}.tif"));
        let stderr = rcrop.run_fails(&["-c", "0"], &input, &dir.path().join("out.npy"));
        assert!(
            stderr.contains(&format!("{name}.tif")) && stderr.contains(said),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn the_row_of_65537_pixels_tiffcp_wrote_decodes_to_its_pattern() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    rcrop.run_ok(&["-c", "0"], &fixture("tiffsci/g4_65537x1.tif"), &out);
    let (_, samples) = read_npy(&out);
    // The row Pillow saved white where `x % 7 < 3`.
    let row: Vec<u8> = (0..65537)
        .map(|x| if x % 7 < 3 { 255 } else { 0 })
        .collect();
    assert!(samples == row);
}
