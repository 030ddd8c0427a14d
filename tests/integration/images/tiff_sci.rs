//! TIFF as scientists write it, in fixtures/tiffsci/ (written by tifffile
//! and libtiff's tiffcp; goldens by fixtures/gen/generate_tiffsci.py):
//! every integer depth from 1 to 64 bits, any number of bands, chunky and
//! in separate planes, in strips and tiles, must decode to tifffile's
//! tensor, whole and a window at a time, and so must fixtures/predictors/
//! (goldens by fixtures/gen/generate_predictors.py: Deflate and LZW with
//! predictors 2 and 3 at every sample width); what an output cannot hold
//! is refused naming the count.

use crate::util::{Rcrop, assert_every, fixture, npy_bytes, same_file};

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
    for output in ["out.png", "out.jpg"] {
        let stderr = rcrop.run_fails(
            &["--crop", "1"],
            &fixture("tiffsci/bands13_u16.tif"),
            &dir.path().join(output),
        );
        assert!(stderr.contains("in 13 channels"), "{output}: {stderr}");
    }
}

/// Stacks of any number of bands, from a TIFF or an array, become a TIFF
/// that reads back as the crop of tifffile's tensor.
#[test]
fn a_stack_of_any_band_count_goes_through_a_tiff_as_stored() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let args = ["-c", "3,5:17,2", "-f", "channels_last"];
    let path = |name: &str| dir.path().join(name);
    for name in [
        "bands13_u16",
        "bands13_planar_f32",
        "bands3_u64_contig",
        "gray_i12",
    ] {
        let golden = fixture(&format!("tiffsci/{name}.npy"));
        rcrop.run_ok(&args, &golden, &path("want.npy"));
        let from_tiff = fixture(&format!("tiffsci/{name}.tif"));
        for (input, tiff) in [(&from_tiff, "from_tiff.tif"), (&golden, "from_npy.tif")] {
            rcrop.run_ok(&args, input, &path(tiff));
            rcrop.run_ok(&["-c", "0"], &path(tiff), &path("back.npy"));
            same_file(&path("back.npy"), &path("want.npy"))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

/// A batch of 13-band samples split into one TIFF a sample, each holding
/// its sample's crop.
#[test]
fn a_batch_of_stacks_splits_into_one_tiff_a_sample() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let (n, h, w, c) = (3usize, 5usize, 6usize, 13usize);
    let values: Vec<i16> = (0..n * h * w * c).map(|v| v as i16 * 7 - 900).collect();
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let header = "{'descr': '<i2', 'fortran_order': False, 'shape': (3, 5, 6, 13), }";
    let input = dir.path().join("batch.npy");
    std::fs::write(&input, npy_bytes(header, &data)).unwrap();
    let out = dir.path().join("frames");
    let done = rcrop
        .cmd()
        .args(["-c", "1", "--out-dir"])
        .arg(&out)
        .args(["--to", "tiff"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    for i in 0..n {
        let back = dir.path().join(format!("back_{i}.npy"));
        rcrop.run_ok(&["-c", "0"], &out.join(format!("batch_{i}.tiff")), &back);
        let want: Vec<u8> = (1..h - 1)
            .flat_map(|y| (1..w - 1).map(move |x| (y, x)))
            .flat_map(|(y, x)| values[((i * h + y) * w + x) * c..][..c].to_vec())
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let got = std::fs::read(&back).unwrap();
        assert_eq!(
            &got[got.len() - want.len()..],
            want.as_slice(),
            "sample {i}"
        );
    }
}

/// Gray with alpha (PngSuite's, of 8 and 16 bits) goes through a TIFF as
/// gray with an alpha extra sample, and reads back as it was.
#[test]
fn gray_with_alpha_goes_through_a_tiff() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    for name in ["basn4a08", "basn4a16"] {
        let png = fixture(&format!("pngsuite/{name}.png"));
        rcrop.run_ok(&["-c", "3"], &png, &path("la.tif"));
        rcrop.run_ok(&["-c", "0"], &path("la.tif"), &path("back.npy"));
        rcrop.run_ok(&["-c", "3"], &png, &path("want.npy"));
        same_file(&path("back.npy"), &path("want.npy")).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// An array of more channels than the output format holds is refused
/// naming the count and the most it holds.
#[test]
fn an_array_of_more_channels_than_the_output_holds_is_refused_naming_both() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let golden = fixture("tiffsci/bands13_u16.npy");
    let stderr = rcrop.run_fails(&["-c", "1"], &golden, &dir.path().join("out.png"));
    assert!(
        stderr.contains("an image needs 1 to 4 channels (channels_last), not 13"),
        "{stderr}"
    );
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
