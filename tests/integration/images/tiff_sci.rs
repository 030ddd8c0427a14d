//! TIFF as scientists write it, in fixtures/tiffsci/ (written by tifffile
//! and libtiff's tiffcp; goldens by fixtures/gen/generate_tiffsci.py):
//! every integer depth from 1 to 64 bits, any number of bands, chunky and
//! in separate planes, in strips and tiles, must decode to tifffile's
//! tensor, whole and a window at a time, and so must fixtures/predictors/
//! (goldens by fixtures/gen/generate_predictors.py: Deflate and LZW with
//! predictors 2 and 3 at every sample width); what an output cannot hold
//! is refused naming the count.

use crate::util::{Rcrop, assert_every, fixture, same_file};

/// The fixtures that have a golden tensor, as `folder/name`.
fn goldens() -> Vec<String> {
    let mut names: Vec<String> = ["tiffsci", "predictors"]
        .into_iter()
        .flat_map(|folder| {
            let entries = std::fs::read_dir(fixture(folder)).expect(folder);
            entries.filter_map(move |entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                Some(format!("{folder}/{}", name.strip_suffix(".npy")?))
            })
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_depth_and_band_count_decodes_to_tifffiles_tensor() {
    let names = goldens();
    assert!(names.len() >= 75, "{} goldens", names.len());
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &names,
        |name| name,
        |name| {
            let out = dir.path().join(format!("{}.npy", name.replace('/', "_")));
            let input = fixture(&format!("{name}.tif"));
            rcrop.succeeds(&["--crop", "0", "-f", "channels_last"], &input, &out)?;
            same_file(&out, &fixture(&format!("{name}.npy")))
        },
    );
}

#[test]
fn a_window_of_every_fixture_is_the_window_of_its_tensor() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let args = ["-c", "3,5:17,2", "-f", "channels_last"];
    assert_every(
        &goldens(),
        |name| name,
        |name| {
            let flat = name.replace('/', "_");
            let from_tiff = dir.path().join(format!("{flat}.tif.npy"));
            let from_npy = dir.path().join(format!("{flat}.npy"));
            let input = fixture(&format!("{name}.tif"));
            rcrop.succeeds(&args, &input, &from_tiff)?;
            let golden = fixture(&format!("{name}.npy"));
            rcrop.succeeds(&args, &golden, &from_npy)?;
            same_file(&from_tiff, &from_npy)
        },
    );
}

#[test]
fn a_13_band_stack_into_an_image_format_is_refused_naming_the_count() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for output in ["out.png", "out.tif", "out.jpg"] {
        let stderr = rcrop.run_fails(
            &["--crop", "1"],
            &fixture("tiffsci/bands13_u16.tif"),
            &dir.path().join(output),
        );
        assert!(stderr.contains("in 13 channels"), "{output}: {stderr}");
    }
}

#[test]
fn sixty_four_bit_integers_go_through_a_tiff_as_stored() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for name in ["gray_u64", "gray_i64_tiled_deflate"] {
        let tiff = dir.path().join(format!("{name}.tif"));
        let back = dir.path().join(format!("{name}.npy"));
        rcrop.run_ok(
            &["--crop", "0"],
            &fixture(&format!("tiffsci/{name}.tif")),
            &tiff,
        );
        rcrop.run_ok(&["--crop", "0"], &tiff, &back);
        same_file(&back, &fixture(&format!("tiffsci/{name}.npy"))).unwrap();
    }
}

#[test]
fn group_4_wider_than_its_decoder_counts_is_refused_naming_the_width() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let stderr = rcrop.run_fails(
        &["--crop", "0"],
        &fixture("tiffsci/g4_65537x1.tif"),
        &dir.path().join("out.npy"),
    );
    assert!(
        stderr.contains("Group 4") && stderr.contains("65537"),
        "{stderr}"
    );
}
