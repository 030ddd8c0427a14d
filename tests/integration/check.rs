//! `--check` against golden files, and the hints for an array laid out in
//! the other data format.

use std::fs;
use std::path::Path;

use crate::util::{Rcrop, gradient_rgb8, listing, load_image, npy_bytes, save_image, u8_npy};

/// A folder holding `a.npy` (a `(2, 6, 6, 3)` batch) and `out.npy`, its
/// crop by 1, as a golden file.
fn golden_npy() -> (Rcrop, tempfile::TempDir) {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.npy"), u8_npy([2, 6, 6, 3])).unwrap();
    rcrop
        .cmd()
        .current_dir(dir.path())
        .args(["--crop", "1", "a.npy", "out.npy"])
        .assert()
        .success();
    (rcrop, dir)
}

/// Runs rcrop in `dir`; returns the exit code and stderr.
fn run_in(rcrop: &Rcrop, dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = rcrop
        .cmd()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run rcrop");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr)
}

/// Runs `args` with `--check` in `dir`, which must be left exactly as it
/// was; returns the exit code and stderr.
fn check_leaves_alone(rcrop: &Rcrop, dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let before = snapshot(dir);
    let result = run_in(rcrop, dir, &[&["--check"], args].concat());
    assert_eq!(snapshot(dir), before, "--check changed {}", dir.display());
    result
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for name in listing(dir) {
        let path = dir.join(&name);
        if path.is_dir() {
            files.extend(
                snapshot(&path)
                    .into_iter()
                    .map(|(n, b)| (format!("{name}/{n}"), b)),
            );
        } else {
            files.push((name, fs::read(path).unwrap()));
        }
    }
    files
}

#[test]
fn an_identical_output_passes_and_nothing_is_written() {
    let (rcrop, dir) = golden_npy();
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &["-c", "1", "a.npy", "out.npy"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn a_changed_element_is_named_with_both_values() {
    let (rcrop, dir) = golden_npy();
    let golden = dir.path().join("out.npy");
    let mut bytes = fs::read(&golden).unwrap();
    // Element (1, 2, 3, 1) of the (2, 4, 4, 3) crop, after the 128-byte header.
    let at = 128 + ((4 + 2) * 4 + 3) * 3 + 1;
    let was = bytes[at];
    bytes[at] = 200;
    fs::write(&golden, &bytes).unwrap();
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &["-c", "1", "a.npy", "out.npy"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.starts_with("error: out.npy: differs"), "{stderr}");
    let expected = format!("element (1, 2, 3, 1) is 200 in the file, {was} in the output");
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn a_changed_header_field_is_named() {
    let (rcrop, dir) = golden_npy();
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &["-c", "2", "a.npy", "out.npy"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr
            .contains("the header's shape is (2, 4, 4, 3) in the file, (2, 2, 2, 3) in the output"),
        "{stderr}"
    );
    let (code, stderr) = check_leaves_alone(
        &rcrop,
        dir.path(),
        &["-c", "1", "--order", "F", "a.npy", "out.npy"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("fortran_order is False in the file, True in the output"),
        "{stderr}"
    );
}

#[test]
fn a_changed_pixel_is_named_by_its_position_and_values() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    save_image(&gradient_rgb8(8, 6), &dir.path().join("in.png"));
    let args = ["-c", "1,1:2,2", "in.png", "out.png"];
    assert_eq!(run_in(&rcrop, dir.path(), &args).0, Some(0));
    let golden = dir.path().join("out.png");
    let mut image = load_image(&golden).to_rgb8();
    image.put_pixel(3, 2, image::Rgb([9, 9, 9]));
    image.save(&golden).unwrap();
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &args);
    assert_eq!(code, Some(1), "{stderr}");
    // (3, 2) of the crop is (5, 3) of the input: [5, 3, 5 ^ 3].
    assert!(
        stderr.contains("pixel (x 3, y 2) is (9, 9, 9) in the file, (5, 3, 6) in the output"),
        "{stderr}"
    );
}

#[test]
fn the_same_pixels_encoded_otherwise_are_a_byte_difference() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    save_image(&gradient_rgb8(64, 64), &dir.path().join("in.png"));
    let args = ["-c", "1", "in.png", "out.png"];
    let fast = [&["--png-compression", "fast"], &args[..]].concat();
    assert_eq!(run_in(&rcrop, dir.path(), &fast).0, Some(0));
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &args);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("the pixels are the same, but the encoded files differ from byte"),
        "{stderr}"
    );
}

#[test]
fn a_missing_expected_file_fails_saying_so() {
    let (rcrop, dir) = golden_npy();
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &["-c", "1", "a.npy", "new.npy"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("new.npy: does not exist; --check compares"),
        "{stderr}"
    );
}

#[test]
fn a_missing_golden_folder_fails_and_is_not_made() {
    let (rcrop, dir) = golden_npy();
    let args = ["-c", "1", "--out-dir", "golden", "a.npy"];
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &args);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("does not exist; --check compares"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("golden").exists(),
        "--check made the folder"
    );
}

#[test]
fn standard_output_cannot_be_checked() {
    let (rcrop, dir) = golden_npy();
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &["-c", "1", "a.npy", "-"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("standard output has none"), "{stderr}");
}

#[test]
fn a_batch_is_checked_output_by_output() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for (name, fill) in [("a.npy", 0u8), ("b.npy", 0), ("c.npy", 0)] {
        let data = vec![fill; 4 * 4 * 3];
        let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 4, 4, 3), }";
        fs::write(dir.path().join(name), npy_bytes(header, &data)).unwrap();
    }
    let batch = ["-c", "1", "--out-dir", "golden", "-j", "1"];
    let inputs = ["a.npy", "b.npy", "c.npy"];
    assert_eq!(
        run_in(&rcrop, dir.path(), &[&batch[..], &inputs].concat()).0,
        Some(0)
    );
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &[&batch[..], &inputs].concat());
    assert_eq!(code, Some(0), "{stderr}");
    let golden_b = dir.path().join("golden/b.npy");
    let mut bytes = fs::read(&golden_b).unwrap();
    let last = bytes.len() - 1;
    bytes[last] = 1;
    fs::write(&golden_b, bytes).unwrap();
    fs::remove_file(dir.path().join("golden/c.npy")).unwrap();
    let keep_going = [&batch[..], &["--keep-going"], &inputs].concat();
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &keep_going);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("golden/b.npy: differs from what rcrop writes (--check): element (0, 1, 1, 2) is 1 in the file, 0 in the output"),
        "{stderr}"
    );
    assert!(stderr.contains("golden/c.npy: does not exist"), "{stderr}");
    assert!(!stderr.contains("golden/a.npy"), "{stderr}");
    assert!(stderr.contains("2 of 3 inputs failed"), "{stderr}");
}

/// A folder holding `a.npy`, an array of `shape`.
fn array(shape: [usize; 4]) -> (Rcrop, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.npy"), u8_npy(shape)).unwrap();
    (Rcrop::new(), dir)
}

#[test]
fn a_crop_refused_in_the_wrong_format_names_the_other_and_the_flag() {
    let (rcrop, dir) = array([2, 6, 6, 3]);
    let args = ["-c", "2", "--format", "channels_first", "a.npy", "out.npy"];
    let (code, stderr) = run_in(&rcrop, dir.path(), &args);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("removes 4 of the 3 columns"), "{stderr}");
    assert!(
        stderr.contains(
            "if the array is laid out channels_last (channels on the last axis), pass --format \
             channels_last; channels_first is in force (given by --format)"
        ),
        "{stderr}"
    );
    assert_eq!(listing(dir.path()), ["a.npy"]);
}

#[test]
fn a_crop_that_goes_through_in_the_wrong_format_warns_naming_keras_json() {
    let (rcrop, dir) = array([2, 6, 6, 3]);
    rcrop.write_keras_json(r#"{"image_data_format": "channels_first"}"#);
    let (code, stderr) = run_in(&rcrop, dir.path(), &["-c", "1", "a.npy", "out.npy"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.starts_with("warning: a.npy: if the array is laid out channels_last"),
        "{stderr}"
    );
    assert!(
        stderr.contains("channels_first is in force (set by image_data_format in")
            && stderr.contains("keras.json)"),
        "{stderr}"
    );
    let (_, quiet) = run_in(&rcrop, dir.path(), &["-q", "-c", "1", "a.npy", "out.npy"]);
    assert_eq!(quiet, "");
}

#[test]
fn channels_on_axis_1_under_the_default_format_get_a_warning() {
    let (rcrop, dir) = array([2, 3, 6, 6]);
    let (code, stderr) = run_in(&rcrop, dir.path(), &["-c", "1", "a.npy", "out.npy"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "pass --format channels_first; channels_last is in force (Keras' default, as no \
             --format is given and"
        ),
        "{stderr}"
    );
    let (_, dry) = run_in(
        &rcrop,
        dir.path(),
        &["--dry-run", "-c", "1", "a.npy", "out.npy"],
    );
    assert!(dry.contains("pass --format channels_first"), "{dry}");
    let right = ["-c", "1", "--format", "channels_first", "a.npy", "out.npy"];
    assert_eq!(run_in(&rcrop, dir.path(), &right), (Some(0), String::new()));
}

#[test]
fn an_array_that_is_no_image_in_the_wrong_format_gets_the_hint() {
    let (rcrop, dir) = array([1, 6, 6, 3]);
    let args = ["-c", "1", "--format", "channels_first", "a.npy", "out.png"];
    let (code, stderr) = run_in(&rcrop, dir.path(), &args);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("pass --format channels_last"), "{stderr}");
}

#[test]
fn a_stack_is_checked_against_its_batch() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    save_image(&gradient_rgb8(4, 4), &dir.path().join("a.png"));
    save_image(
        &gradient_rgb8(5, 4).crop_imm(1, 0, 4, 4),
        &dir.path().join("b.png"),
    );
    let stack = ["-c", "1", "--stack", "-o", "batch.npy", "a.png", "b.png"];
    assert_eq!(run_in(&rcrop, dir.path(), &stack).0, Some(0));
    assert_eq!(check_leaves_alone(&rcrop, dir.path(), &stack).0, Some(0));
    let swapped = ["-c", "1", "--stack", "-o", "batch.npy", "b.png", "a.png"];
    let (code, stderr) = check_leaves_alone(&rcrop, dir.path(), &swapped);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("batch.npy: differs"), "{stderr}");
    assert!(
        stderr.contains("element (0, 0, 0, 0) is 1 in the file, 2 in the output"),
        "{stderr}"
    );
}
