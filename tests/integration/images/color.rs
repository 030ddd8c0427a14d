//! `--color-mode` gives what Keras' `load_img(path, color_mode=...)` gives,
//! exactly: every case in fixtures/color/cases.tsv, made by
//! `fixtures/gen/generate_color.py` with Keras and Pillow.

use crate::util::{Rcrop, assert_no_failures, fixture, table};

#[test]
fn every_color_mode_gives_keras_load_img_tensor() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = table("color/cases.tsv", &["name", "input", "mode", "expected"]);
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|f| {
            let (name, input, mode, expected) = (
                f[0].as_str(),
                fixture("color").join(&f[1]),
                f[2].as_str(),
                f[3].as_str(),
            );
            let out = dir.path().join(format!("{name}.npy"));
            let args = ["-c", "0", "-f", "channels_last", "--color-mode", mode];
            let (code, stderr) = rcrop.run(&args, &input, &out);
            if code != Some(0) {
                return Some(format!("{name}: exit {code:?}: {stderr}"));
            }
            let want = std::fs::read(fixture("color").join(expected)).unwrap();
            (std::fs::read(&out).unwrap() != want).then(|| format!("{name}: differs"))
        })
        .collect();
    assert_no_failures(&failures);
}

#[test]
fn a_color_mode_applies_before_the_crop_and_refuses_what_it_cannot_convert() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let input = fixture("jpeg/pillow_420_q90.jpg");
    rcrop.run_ok(&["-c", "16", "--color-mode", "grayscale"], &input, &out);
    let gray = dir.path().join("gray.npy");
    rcrop.run_ok(&["-c", "0", "-f", "channels_last"], &out, &gray);
    let header = std::fs::read(&gray).unwrap();
    assert!(String::from_utf8_lossy(&header).contains("(1, 13, 29, 1)"));
    let stderr = rcrop.run_fails(
        &["-c", "1", "--color-mode", "rgb"],
        &fixture("images/rgb16.png"),
        &dir.path().join("no.npy"),
    );
    assert!(
        stderr.contains("rgb16.png") && stderr.contains("--color-mode rgb converts 8-bit images"),
        "{stderr}"
    );
    let (code, _) = rcrop.run(
        &["-c", "16", "--color-mode", "rgb", "--lossless"],
        &input,
        &dir.path().join("no.jpg"),
    );
    assert_eq!(code, Some(2));
}
